#include "ebpf/pin.hpp"

#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <vector>

#include "ebpf/error.hpp"

namespace ebpf {

ObjectKind object_kind(int fd) {
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    char target[64] = {};
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n < 0)
        throw_error(errno, "fd " + std::to_string(fd) + ": tell what kind of BPF object it is (is /proc mounted?)");
    const std::string_view name(target, static_cast<std::size_t>(n));
    // The kernel spells a link "bpf_link" when it is made and "bpf-link" when opened from
    // a pin; both spellings are accepted for each kind.
    if (name == "anon_inode:bpf-map" || name == "anon_inode:bpf_map") return ObjectKind::map;
    if (name == "anon_inode:bpf-prog" || name == "anon_inode:bpf_prog") return ObjectKind::program;
    if (name == "anon_inode:bpf-link" || name == "anon_inode:bpf_link") return ObjectKind::link;
    if (name == "anon_inode:btf") return ObjectKind::btf;
    return ObjectKind::other;
}

std::string_view object_kind_text(ObjectKind kind) {
    switch (kind) {
        case ObjectKind::map:
            return "a map";
        case ObjectKind::program:
            return "a program";
        case ObjectKind::link:
            return "a link";
        case ObjectKind::btf:
            return "BTF";
        case ObjectKind::other:
            break;
    }
    return "not a BPF object";
}

namespace pins {

namespace {

constexpr long kBpfFsMagic = 0xcafe4a11;

struct Split {
    std::string parent, base;
};

// "a/b/c/" → {"a/b", "c"}; "c" → {".", "c"}; "/c" → {"/", "c"}.
Split split(const std::string& path, const char* what) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto slash = p.find_last_of('/');
    Split s{slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash)),
            slash == std::string::npos ? p : p.substr(slash + 1)};
    if (s.base.empty() || s.base == "." || s.base == ".." || s.base == "/")
        throw Error(what + std::string(" '") + path + "' does not name an entry (give DIR/NAME)");
    return s;
}

std::string resolved(const std::string& dir, const std::string& whole, const char* what) {
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(dir.c_str(), nullptr), &std::free);
    if (!real) throw_error(errno, std::string(what) + " '" + whole + "': directory '" + dir + "'");
    return real.get();
}

void require_bpffs(const std::string& dir, const std::string& whole, const char* what) {
    struct statfs st {};
    if (::statfs(dir.c_str(), &st) != 0) throw_error(errno, std::string(what) + " '" + whole + "'");
    if (static_cast<long>(st.f_type) != kBpfFsMagic)
        throw Error(std::string(what) + " '" + whole +
                    "' is not on a bpf filesystem (mount bpffs, e.g. at /sys/fs/bpf)");
}

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// Every directory from / down to `dir` (resolved): owned by root or the caller, and not
// writable by group or others unless sticky — else someone else could rename what is in
// it and put their own in its place.
void require_trusted_ancestors(const std::string& dir, const std::string& whole, const char* what) {
    const uid_t me = ::geteuid();
    std::vector<std::string> prefixes{"/"};
    std::string acc;
    for (std::size_t start = 0; start < dir.size();) {
        auto end = dir.find('/', start);
        if (end == std::string::npos) end = dir.size();
        if (end > start) prefixes.push_back(acc += "/" + dir.substr(start, end - start));
        start = end + 1;
    }
    for (const auto& prefix : prefixes) {
        struct stat st {};
        if (::lstat(prefix.c_str(), &st) != 0) throw_error(errno, std::string(what) + " '" + whole + "': " + prefix);
        if (st.st_uid != 0 && st.st_uid != me)
            throw Error(std::string(what) + " '" + whole + "': directory '" + prefix + "' is owned by uid " +
                        std::to_string(st.st_uid) + ", who could replace what is in it (trusted: root or uid " +
                        std::to_string(me) + ")");
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
            throw Error(std::string(what) + " '" + whole + "': directory '" + prefix +
                        "' is writable by others (mode " + mode_text(st.st_mode) +
                        ", not sticky), who could replace what is in it");
    }
}

// The pin directory itself: a real directory (not a symlink), the caller's, and nobody
// else's to write, sticky or not (its entries are reused by name).
void require_own_dir(const std::string& path, const std::string& whole) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw_error(errno, "pin directory '" + whole + "'");
    if (S_ISLNK(st.st_mode))
        throw Error("pin directory '" + whole + "' is a symlink: pin directories are not followed through symlinks");
    if (!S_ISDIR(st.st_mode)) throw Error("pin directory '" + whole + "' is not a directory");
    if (st.st_uid != ::geteuid())
        throw Error("pin directory '" + whole + "' is owned by uid " + std::to_string(st.st_uid) +
                    ", not by the caller (uid " + std::to_string(::geteuid()) +
                    "): refusing pins someone else controls");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        throw Error("pin directory '" + whole + "' is writable by group or others (mode " + mode_text(st.st_mode) +
                    "): refusing pins someone else can replace");
}

}  // namespace

std::string trusted_dir(const std::string& dir) {
    auto [parent, base] = split(dir, "pin directory");
    std::string real_parent = resolved(parent, dir, "pin directory");
    require_bpffs(real_parent, dir, "pin directory");
    require_trusted_ancestors(real_parent, dir, "pin directory");
    std::string path = (real_parent == "/" ? "" : real_parent) + "/" + base;
    require_own_dir(path, dir);
    return path;
}

std::string make_trusted_dir(const std::string& dir) {
    auto [parent, base] = split(dir, "pin directory");
    std::string real_parent = resolved(parent, dir, "pin directory");
    // All checks of the parent come first: a refused path must not leave a directory behind.
    require_bpffs(real_parent, dir, "pin directory");
    require_trusted_ancestors(real_parent, dir, "pin directory");
    std::string path = (real_parent == "/" ? "" : real_parent) + "/" + base;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw_error(errno, "pin directory '" + dir + "': create");
    require_own_dir(path, dir);
    return path;
}

std::string new_pin_path(const std::string& path) {
    auto [parent, base] = split(path, "pin path");
    std::string real_parent = resolved(parent, path, "pin path");
    require_bpffs(real_parent, path, "pin path");
    require_trusted_ancestors(real_parent, path, "pin path");
    return (real_parent == "/" ? "" : real_parent) + "/" + base;
}

std::string existing_pin_path(const std::string& path) {
    std::string real = new_pin_path(path);
    if (!pin_present(real)) throw Error::make(errc::not_found, "pin '" + path + "': no such pin", ENOENT);
    return real;
}

bool pin_present(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return false;
        throw_error(errno, "pin '" + path + "'");
    }
    if (S_ISLNK(st.st_mode)) throw Error("pin '" + path + "' is a symlink: pins are not followed through symlinks");
    if (!S_ISREG(st.st_mode)) throw Error("'" + path + "' is not a pin (it is a directory or a special file)");
    return true;
}

}  // namespace pins
}  // namespace ebpf
