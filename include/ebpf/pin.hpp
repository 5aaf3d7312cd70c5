// Pins you can trust. A pin is a name in bpffs; whoever can write the directory that holds
// it can replace it (with their own map, a program, or a symlink to something else) or
// delete it. So before this library reuses a pin, or creates one, it checks who could
// have put it there:
//
//  - the path is on a bpf filesystem (statfs magic), checked before anything is created;
//  - the path is resolved once (realpath of the directory) and only the resolved path is
//    used afterwards, so a symlink cannot be swapped in later;
//  - every directory from / down to the pin's directory is owned by root or the caller,
//    and not writable by group or others unless it is sticky (as /tmp and a default bpffs
//    mount, 1777: others may add names there but not rename or remove ours);
//  - a pin directory whose entries are reused (Object::reuse_pinned_maps, `run --pin`) is
//    owned by the caller and writable by nobody else, sticky or not;
//  - a pin itself is never a symlink, and an object of the wrong kind is named as such
//    ("'/sys/fs/bpf/x' is a program, not a map").
#pragma once

#include <string>
#include <string_view>

namespace ebpf {

enum class ObjectKind { map, program, link, btf, other };

// What a BPF fd refers to. The kernel names each kind's anonymous inode ("bpf-map",
// "bpf-prog", "bpf_link", "btf"); /proc/self/fd shows that name. Throws when /proc is not
// there to ask (rather than guess: a program's info read as map info looks like a map).
ObjectKind object_kind(int fd);
// "a map", "a program", "a link", "BTF", "not a BPF object".
std::string_view object_kind_text(ObjectKind kind);

namespace pins {

// Checks that `dir` is a trusted pin directory (see above) and returns its resolved path.
// Throws Error naming the first thing that is wrong.
[[nodiscard]] std::string trusted_dir(const std::string& dir);

// Like trusted_dir(), but creates the directory (mode 0700, one level) when it is missing —
// only after its parent was found on bpffs and trusted, so a refused path leaves nothing
// behind.
[[nodiscard]] std::string make_trusted_dir(const std::string& dir);

// For a new pin at `path`: its directory is on bpffs and trusted (ancestor rule: owned by
// root or the caller, not writable by others unless sticky). Returns the path to use
// (resolved directory + file name).
[[nodiscard]] std::string new_pin_path(const std::string& path);

// For reading an existing pin someone else made (`serve --map pinned PATH`): on bpffs, its
// directory trusted (ancestor rule, as new_pin_path), the pin itself a pin file and not a
// symlink. Returns the path to open (resolved directory + file name); throws Error
// (errc::not_found when there is no such pin) naming the first thing that is wrong.
[[nodiscard]] std::string existing_pin_path(const std::string& path);

// Whether `dir/name` exists, for a directory trusted_dir() returned: false when missing,
// true for a pin; throws for a symlink or anything that is not a pin file.
[[nodiscard]] bool pin_present(const std::string& path);

}  // namespace pins
}  // namespace ebpf
