// Reading a whole hash map, as users would with the libraries and tools they could pick
// instead of ours: one map of N entries (default 1,000,000) with a 12-byte BTF struct key
// and a 24-byte value, filled once, read whole by
//   - libebpf `HashMap::entries()`,
//   - a raw `bpf_map_lookup_batch` loop and a raw get_next_key + lookup loop (C),
//   - cilium/ebpf `BatchLookup` and `Iterate()` (Go, bench/peers/cilium_walk),
//   - BCC `items_lookup_batch()` and `items()` (Python, bench/peers/bcc_walk.py),
//   - `bpftool map dump` and `bpftool -j map dump`.
// Every contender runs as its own process under /usr/bin/time (its peak RSS is its own,
// not this driver's) and is verified before it is timed: the library contenders write
// every entry they read to stdout in binary, bpftool its text, and this driver checks
// that exactly N distinct entries came back, each equal to what the fill put there. A
// contender that fails is reported as failed, with no time.
//
// usage: map_walk_peers BENCHMARKS.md [--entries N] [--rounds R]
//            [--cilium-walk PATH] [--bcc-walk PATH]
//        map_walk_peers --walk {libebpf|raw-batch|raw-next-key} MAP_ID   (one contender)
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "btf_map.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/system.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// 12 and 24 bytes, no padding: the same bytes in C, Go (binary.LittleEndian) and ctypes.
struct PeerKey {
    std::uint32_t id, hash, inverse;
};
struct PeerValue {
    std::uint64_t packets, bytes, stamp;
};
static_assert(sizeof(PeerKey) == 12 && sizeof(PeerValue) == 24);

// What the fill puts under id i: every field derived from i, so that any entry can be
// checked on its own, and a key or value that belongs to another entry shows.
PeerKey key_of(std::uint32_t i) {
    return {i, i * 2654435761u, ~i};
}
PeerValue value_of(std::uint32_t i) {
    return {i * 3ull, i * 1500ull + 7, (static_cast<std::uint64_t>(i) << 32) | (i * 2654435761u)};
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds (user + system) this process has used: the machine is shared, and a walk's
// wall time counts whatever else ran on its CPU; its CPU time does not.
double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// --- The contenders this binary runs itself (in a process of their own) ---------------

// Every entry read, written to stdout in binary, after the timed part.
void emit(const PeerKey* keys, const PeerValue* values, std::size_t n) {
    std::vector<char> buf;
    buf.reserve(1 << 20);
    for (std::size_t i = 0; i < n; ++i) {
        buf.insert(buf.end(), reinterpret_cast<const char*>(&keys[i]), reinterpret_cast<const char*>(&keys[i] + 1));
        buf.insert(buf.end(), reinterpret_cast<const char*>(&values[i]), reinterpret_cast<const char*>(&values[i] + 1));
        if (buf.size() >= (1 << 20) - 64 || i + 1 == n) {
            if (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size()) throw std::runtime_error("write");
            buf.clear();
        }
    }
    std::fflush(stdout);
}

std::uint32_t max_entries_of(int fd) {
    bpf_map_info info{};
    std::uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len)) throw std::runtime_error("map info");
    return info.max_entries;
}

// The shortest correct raw loops, as a C programmer would write them: arrays sized from
// the map's max_entries, filled by batches of 4096 (libebpf's default batch too) or one
// key at a time.
std::size_t raw_batch(int fd, PeerKey* keys, PeerValue* values, std::uint32_t capacity) {
    std::uint32_t in = 0, out = 0;
    std::size_t total = 0;
    bool first = true;
    for (;;) {
        std::uint32_t count = std::min<std::uint32_t>(4096, capacity - static_cast<std::uint32_t>(total));
        if (count == 0) return total;
        LIBBPF_OPTS(bpf_map_batch_opts, opts);
        int ret = bpf_map_lookup_batch(fd, first ? nullptr : &in, &out, keys + total, values + total, &count, &opts);
        if (ret < 0 && ret != -ENOENT) throw std::runtime_error(fmt::format("lookup batch: {}", strerror(-ret)));
        total += count;
        if (ret == -ENOENT) return total;
        in = out;
        first = false;
    }
}

std::size_t raw_next_key(int fd, PeerKey* keys, PeerValue* values, std::uint32_t capacity) {
    std::size_t total = 0;
    PeerKey key{};
    const PeerKey* prev = nullptr;
    while (total < capacity && bpf_map_get_next_key(fd, prev, &key) == 0) {
        // A key deleted between the two calls would be skipped; nothing deletes here.
        if (bpf_map_lookup_elem(fd, &key, &values[total]) == 0) {
            keys[total] = key;
            prev = &keys[total];
            ++total;
        }
    }
    return total;
}

int walk_main(const std::string& how, std::uint32_t id) {
    ebpf::system::set_libbpf_logging(false);
    if (how == "libebpf") {
        auto map = ebpf::HashMap<PeerKey, PeerValue>(ebpf::Map::open_by_id(id));
        const auto start = Clock::now();
        const double cpu_start = cpu_seconds();
        auto entries = map.entries();
        const double s = seconds_since(start), cpu = cpu_seconds() - cpu_start;
        if (!entries.complete()) throw std::runtime_error("entries(): incomplete walk");
        std::fprintf(stderr, "walk_seconds %.6f %.6f\n", s, cpu);
        // Written in slices through the same emitter, not copied whole: the copy would add
        // its size to this contender's peak RSS.
        std::vector<PeerKey> keys;
        std::vector<PeerValue> values;
        for (std::size_t at = 0; at < entries.items.size(); at += 4096) {
            keys.clear();
            values.clear();
            for (std::size_t i = at; i < std::min(entries.items.size(), at + 4096); ++i) {
                keys.push_back(entries.items[i].first);
                values.push_back(entries.items[i].second);
            }
            emit(keys.data(), values.data(), keys.size());
        }
        return 0;
    }
    int fd = bpf_map_get_fd_by_id(id);
    if (fd < 0) throw std::runtime_error("bpf_map_get_fd_by_id failed");
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    const std::uint32_t capacity = max_entries_of(fd);
    auto keys = static_cast<PeerKey*>(std::malloc(sizeof(PeerKey) * capacity));
    auto values = static_cast<PeerValue*>(std::malloc(sizeof(PeerValue) * capacity));
    if (!keys || !values) throw std::runtime_error("out of memory");
    std::size_t n = 0;
    if (how == "raw-batch")
        n = raw_batch(fd, keys, values, capacity);
    else if (how == "raw-next-key")
        n = raw_next_key(fd, keys, values, capacity);
    else
        throw std::runtime_error("unknown walk " + how);
    const double s = seconds_since(start), cpu = cpu_seconds() - cpu_start;
    std::fprintf(stderr, "walk_seconds %.6f %.6f\n", s, cpu);
    emit(keys, values, n);
    std::free(keys);
    std::free(values);
    close(fd);
    return 0;
}

// --- The driver ------------------------------------------------------------------------

// The map, with BTF naming every field, as a BPF object would define it.
ebpf::Map make_map(std::uint32_t entries) {
    return bench::make_btf_hash(
        "bench_peers", {"peer_key", sizeof(PeerKey), {{"id", 4, 0}, {"hash", 4, 4}, {"inverse", 4, 8}}},
        {"peer_value", sizeof(PeerValue), {{"packets", 8, 0}, {"bytes", 8, 8}, {"stamp", 8, 16}}}, entries);
}

void fill(ebpf::Map& map, std::uint32_t entries) {
    constexpr std::uint32_t chunk = 65536;
    std::vector<PeerKey> keys;
    std::vector<PeerValue> values;
    for (std::uint32_t at = 0; at < entries; at += chunk) {
        keys.clear();
        values.clear();
        for (std::uint32_t i = at; i < std::min(entries, at + chunk); ++i) {
            keys.push_back(key_of(i));
            values.push_back(value_of(i));
        }
        map.update_batch(keys.data(), values.data(), keys.size());
    }
}

// Checks entries as they stream in: each must be the fill's entry for its id, and each
// id may come once.
class Verifier {
public:
    explicit Verifier(std::uint32_t entries) : seen_(entries, false) {}

    void entry(const PeerKey& k, const PeerValue& v) {
        ++count_;
        if (k.id >= seen_.size()) return fail(fmt::format("key id {} out of range", k.id));
        const PeerKey ek = key_of(k.id);
        const PeerValue ev = value_of(k.id);
        if (k.hash != ek.hash || k.inverse != ek.inverse) return fail(fmt::format("key of id {} is wrong", k.id));
        if (v.packets != ev.packets || v.bytes != ev.bytes || v.stamp != ev.stamp)
            return fail(fmt::format("value of id {} is wrong", k.id));
        if (seen_[k.id]) return fail(fmt::format("id {} came twice", k.id));
        seen_[k.id] = true;
        ++distinct_;
    }
    // Empty when exactly every entry came once and nothing else.
    std::string verdict() const {
        if (!error_.empty()) return error_;
        if (count_ != seen_.size() || distinct_ != seen_.size())
            return fmt::format("{} entries read ({} distinct and correct), expected {}", count_, distinct_,
                               seen_.size());
        return {};
    }

private:
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }
    std::vector<bool> seen_;
    std::size_t count_ = 0, distinct_ = 0;
    std::string error_;
};

// Binary entries (12-byte key, 24-byte value) from a library contender.
struct BinaryParser {
    Verifier& v;
    std::string pending;
    void feed(const char* data, std::size_t n) {
        pending.append(data, n);
        constexpr std::size_t rec = sizeof(PeerKey) + sizeof(PeerValue);
        std::size_t at = 0;
        for (; at + rec <= pending.size(); at += rec) {
            PeerKey k;
            PeerValue val;
            std::memcpy(&k, pending.data() + at, sizeof k);
            std::memcpy(&val, pending.data() + at + sizeof k, sizeof val);
            v.entry(k, val);
        }
        pending.erase(0, at);
    }
    std::string finish() const { return pending.empty() ? "" : "a partial entry at the end of the output"; }
};

// bpftool's output with BTF, plain or JSON: the only unquoted numbers are the formatted
// fields, in declaration order, key then value (the -j raw bytes are quoted "0x.." strings),
// so every six numbers are one entry. A trailing "Found N elements" line is not data.
struct TextParser {
    Verifier& v;
    std::array<std::uint64_t, 6> fields{};
    int nfields = 0;
    bool in_string = false, in_number = false, skip_line = false, line_start = true;
    std::string line_head;
    std::uint64_t number = 0;
    std::size_t numbers = 0;

    void end_number() {
        if (!in_number) return;
        in_number = false;
        ++numbers;
        fields[static_cast<std::size_t>(nfields++)] = number;
        if (nfields == 6) {
            v.entry({static_cast<std::uint32_t>(fields[0]), static_cast<std::uint32_t>(fields[1]),
                     static_cast<std::uint32_t>(fields[2])},
                    {fields[3], fields[4], fields[5]});
            nfields = 0;
        }
    }
    void feed(const char* data, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            const char c = data[i];
            if (line_start) {
                line_head += c;
                if (line_head.size() == 6) {
                    skip_line = line_head == "Found ";
                    line_start = false;
                } else if (c == '\n') {
                    line_head.clear();
                    continue;
                }
            }
            if (c == '\n') {
                end_number();
                line_start = true;
                line_head.clear();
                skip_line = false;
                continue;
            }
            if (skip_line) continue;
            if (in_string) {
                if (c == '"') in_string = false;
                continue;
            }
            if (c == '"') {
                end_number();
                in_string = true;
            } else if (c >= '0' && c <= '9') {
                if (!in_number) {
                    in_number = true;
                    number = 0;
                }
                number = number * 10 + static_cast<std::uint64_t>(c - '0');
            } else {
                end_number();
            }
        }
    }
    std::string finish() {
        end_number();
        return nfields == 0 ? "" : "bpftool's output ended inside an entry";
    }
};

struct RunResult {
    bool ok = false;
    std::string error;
    double walk_s = 0;      // the contender's own timing of its walk, or the process's wall time
    double walk_cpu_s = 0;  // the same in CPU seconds (user + system), or the process's
    double process_s = 0;   // the whole process, start-up included
    long peak_rss_kib = 0;
};

// Runs argv under /usr/bin/time; stdout either to `sink` (streamed) or to /dev/null.
template <typename Sink>
RunResult run_contender(const std::vector<std::string>& argv, Sink* sink) {
    RunResult r;
    char time_file[] = "/tmp/map_walk_peers_time.XXXXXX";
    int tf = mkstemp(time_file);
    if (tf < 0) throw std::runtime_error("mkstemp");
    close(tf);
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
    const auto start = Clock::now();
    pid_t child = fork();
    if (child == 0) {
        if (sink) {
            dup2(out[1], STDOUT_FILENO);
        } else {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, STDOUT_FILENO);
        }
        dup2(err[1], STDERR_FILENO);
        std::vector<std::string> full{"/usr/bin/time", "-o", time_file, "-f", "%M %U %S"};
        full.insert(full.end(), argv.begin(), argv.end());
        std::vector<char*> args;
        for (auto& a : full) args.push_back(a.data());
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    std::string err_text;
    // stderr is short (a timing line, or an error): read it after stdout, whose end is
    // the contender's exit; a pipe holds far more than those lines.
    std::vector<char> buf(1 << 20);
    if (sink) {
        for (ssize_t n; (n = read(out[0], buf.data(), buf.size())) != 0;) {
            if (n < 0) {
                if (errno == EINTR) continue;
                break;
            }
            sink->feed(buf.data(), static_cast<std::size_t>(n));
        }
    }
    for (ssize_t n; (n = read(err[0], buf.data(), buf.size())) > 0;)
        err_text.append(buf.data(), static_cast<std::size_t>(n));
    close(out[0]);
    close(err[0]);
    int status = 0;
    waitpid(child, &status, 0);
    r.process_s = seconds_since(start);
    r.walk_s = r.process_s;
    {
        std::ifstream in(time_file);
        std::string last;
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) last = line;
        double user = 0, sys = 0;
        if (std::sscanf(last.c_str(), "%ld %lf %lf", &r.peak_rss_kib, &user, &sys) == 3) r.walk_cpu_s = user + sys;
    }
    std::filesystem::remove(time_file);
    // GNU time passes the command's status through; its own "Command exited with non-zero
    // status" line goes to the -o file.
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string first_line = err_text.substr(0, err_text.find('\n'));
        for (auto pos = err_text.find('\n'); pos != std::string::npos; pos = err_text.find('\n', pos + 1))
            if (err_text.compare(pos + 1, 6, "Error:") == 0 || err_text.compare(pos + 1, 9, "Exception") == 0) {
                first_line = err_text.substr(pos + 1, err_text.find('\n', pos + 1) - pos - 1);
                break;
            }
        r.error = fmt::format("exited with status {}: {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                              err_text.empty() ? "(no message)" : first_line);
        return r;
    }
    if (auto at = err_text.rfind("walk_seconds "); at != std::string::npos)
        if (std::sscanf(err_text.c_str() + at + 13, "%lf %lf", &r.walk_s, &r.walk_cpu_s) != 2)
            throw std::runtime_error("bad timing line from " + argv[0]);
    r.ok = true;
    return r;
}

struct Contender {
    Contender(std::string label_, std::vector<std::string> argv_, bool text_output_, std::string version_)
        : label(std::move(label_)), argv(std::move(argv_)), text_output(text_output_), version(std::move(version_)) {}
    std::string label;
    std::vector<std::string> argv;
    bool text_output = false;  // bpftool: verified once, then timed with output to /dev/null
    std::string version;
    std::vector<double> walk_s, walk_cpu_s, process_s;
    long peak_rss_kib = 0;
    std::string failure;
};

std::string first_line_of(const std::vector<std::string>& argv) {
    std::string cmd;
    for (const auto& a : argv) cmd += "'" + a + "' ";
    cmd += "2>&1";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char line[512];
        if (std::fgets(line, sizeof line, p)) out = line;
        pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string dpkg_version(const std::string& package) {
    return first_line_of({"dpkg-query", "-W", "-f=${Version}", package});
}

std::string grouped(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

int driver_main(int argc, char** argv) {
    std::string report, cilium_walk, bcc_walk;
    std::uint32_t entries = 1'000'000;
    int rounds = 5;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--entries")
            entries = static_cast<std::uint32_t>(std::stoul(value()));
        else if (a == "--rounds")
            rounds = std::stoi(value());
        else if (a == "--cilium-walk")
            cilium_walk = value();
        else if (a == "--bcc-walk")
            bcc_walk = value();
        else if (report.empty() && !a.starts_with("--"))
            report = a;
        else
            throw std::invalid_argument("unknown argument " + a);
    }
    if (report.empty() || entries == 0 || rounds < 1) throw std::invalid_argument("a report path is required");

    ebpf::system::set_libbpf_logging(false);
    ebpf::system::require_privileges();
    ebpf::system::raise_memlock_limit();
    auto map = make_map(entries);
    fill(map, entries);
    const std::string id = std::to_string(map.info().id);
    const std::string self = std::filesystem::read_symlink("/proc/self/exe");

    std::vector<Contender> cs;
    auto add = [&](std::string label, std::vector<std::string> args, bool text, std::string version) {
        cs.emplace_back(std::move(label), std::move(args), text, std::move(version));
    };
    const std::string libbpf_version = dpkg_version("libbpf1");
    add("raw `bpf_map_lookup_batch` loop (C)", {self, "--walk", "raw-batch", id}, false, "libbpf " + libbpf_version);
    add("raw `bpf_map_get_next_key` + lookup loop (C)", {self, "--walk", "raw-next-key", id}, false,
        "libbpf " + libbpf_version);
    add("libebpf `HashMap::entries()`", {self, "--walk", "libebpf", id}, false, "this tree");
    const std::string cilium_version =
        "cilium/ebpf " + dpkg_version("golang-github-cilium-ebpf-dev") + ", " + first_line_of({"go", "version"});
    const std::string bcc_version =
        "BCC " + dpkg_version("python3-bpfcc") + ", " + first_line_of({"/usr/bin/python3", "--version"});
    add("cilium/ebpf `BatchLookup` (Go)", {cilium_walk, "batch", id}, false, cilium_version);
    add("cilium/ebpf `Iterate()` (Go)", {cilium_walk, "iterate", id}, false, cilium_version);
    add("BCC `items_lookup_batch()` (Python)", {"/usr/bin/python3", bcc_walk, "batch", id}, false, bcc_version);
    add("BCC `items()` (Python)", {"/usr/bin/python3", bcc_walk, "items", id}, false, bcc_version);
    const std::string bpftool_version = first_line_of({"/usr/sbin/bpftool", "version"});
    add("`bpftool map dump`", {"/usr/sbin/bpftool", "map", "dump", "id", id}, true, bpftool_version);
    add("`bpftool -j map dump`", {"/usr/sbin/bpftool", "-j", "map", "dump", "id", id}, true, bpftool_version);
    for (auto& c : cs)
        if (c.argv[0].empty() || (c.argv[0] == "/usr/bin/python3" && c.argv[1].empty()))
            c.failure = "not given (--cilium-walk / --bcc-walk)";

    // bpftool: verified once by parsing its output; its timed runs write to /dev/null.
    for (auto& c : cs) {
        if (!c.text_output || !c.failure.empty()) continue;
        Verifier v(entries);
        TextParser parser{v, {}, 0, false, false, false, true, {}, 0, 0};
        auto r = run_contender(c.argv, &parser);
        std::string why = r.ok ? parser.finish() : r.error;
        if (why.empty()) why = v.verdict();
        if (!why.empty()) c.failure = why;
        std::cerr << fmt::format("map_walk_peers: verified {}: {}\n", c.label, why.empty() ? "ok" : why);
    }
    // Rounds: each contender once per round, the order rotating so that a slow spell of the
    // (shared) machine does not always land on the same one.
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t j = 0; j < cs.size(); ++j) {
            auto& c = cs[(j + static_cast<std::size_t>(round)) % cs.size()];
            if (!c.failure.empty()) continue;
            RunResult r;
            if (c.text_output) {
                r = run_contender<TextParser>(c.argv, nullptr);
                if (!r.ok) c.failure = r.error;
            } else {
                Verifier v(entries);
                BinaryParser parser{v, {}};
                r = run_contender(c.argv, &parser);
                std::string why = r.ok ? parser.finish() : r.error;
                if (why.empty()) why = v.verdict();
                if (!why.empty()) c.failure = why;
            }
            if (!c.failure.empty()) {
                std::cerr << fmt::format("map_walk_peers: {} failed: {}\n", c.label, c.failure);
                continue;
            }
            c.walk_s.push_back(r.walk_s);
            c.walk_cpu_s.push_back(r.walk_cpu_s);
            c.process_s.push_back(r.process_s);
            c.peak_rss_kib = std::max(c.peak_rss_kib, r.peak_rss_kib);
        }
        std::cerr << fmt::format("map_walk_peers: round {} of {} done\n", round + 1, rounds);
    }

    const Contender& raw = cs[0];
    if (!raw.failure.empty()) throw std::runtime_error("the raw batch loop failed: " + raw.failure);
    const double raw_s = bench::median(raw.walk_cpu_s);
    std::string md = fmt::format(
        "## Reading a whole {}-entry hash map: libebpf against the libraries and tools users "
        "would pick instead\n\n",
        grouped(entries));
    md += bench::machine_line() +
          fmt::format(
              ". One hash map of {} entries, 12-byte BTF struct key (`peer_key`: three `__u32`) → 24-byte value "
              "(`peer_value`: three `__u64`), filled once and opened by id by every contender, each in a process "
              "of its own. **CPU s** = CPU time (user + system, all threads) "
              "of the walk alone into memory (every entry in the contender's own data structure), measured by the "
              "contender (getrusage); bpftool: the whole command, output to /dev/null (GNU time's %U + %S). CPU "
              "time, because the machine is shared and a walk's wall time counts whatever else ran on its CPU; "
              "**wall s** is the same walk's wall time, **process wall s** the whole process, start-up included. "
              "Median of {} rounds (order rotating). **peak RSS**: the "
              "largest over rounds of the process's maximum resident set (GNU time's %M, from wait4). Every "
              "library contender's entries were checked on every round, bpftool's output once: exactly {} "
              "distinct entries, each equal to what the fill wrote. The machine is shared with other work: "
              "ratios come from this one run.\n\n",
              grouped(entries), rounds, grouped(entries));
    md +=
        "| reading the whole map | CPU s (median) | × raw batch | wall s | process wall s | peak RSS | version |\n"
        "|---|---:|---:|---:|---:|---:|---|\n";
    for (const auto& c : cs) {
        if (!c.failure.empty()) {
            md += fmt::format("| {} | failed: {} | | | | | {} |\n", c.label, c.failure, c.version);
            continue;
        }
        const double s = bench::median(c.walk_cpu_s);
        md += fmt::format("| {} | {:.3f} | {:.2f} | {:.3f} | {:.3f} | {:.1f} MiB | {} |\n", c.label, s, s / raw_s,
                          bench::median(c.walk_s), bench::median(c.process_s),
                          static_cast<double>(c.peak_rss_kib) / 1024.0, c.version);
    }
    // The best peer: the fastest contender that is neither ours nor a raw loop.
    const Contender& ours = cs[2];
    const Contender* best = nullptr;
    for (std::size_t j = 3; j < cs.size(); ++j)
        // GNU time counts CPU in 10 ms steps: a tiny run's bpftool can read 0, not a time.
        if (cs[j].failure.empty() && bench::median(cs[j].walk_cpu_s) > 0 &&
            (!best || bench::median(cs[j].walk_cpu_s) < bench::median(best->walk_cpu_s)))
            best = &cs[j];
    if (ours.failure.empty()) {
        const double ours_s = bench::median(ours.walk_cpu_s);
        md += fmt::format("\n`entries()` is {:.2f}× the raw batch loop", ours_s / raw_s);
        if (best) {
            const double best_s = bench::median(best->walk_cpu_s);
            md += fmt::format(" and {:.2f}× the fastest peer ({}).\n", ours_s / best_s, best->label);
            bench::summary_row(fmt::format("reading a {}-entry hash map, vs the fastest peer", grouped(entries)),
                               fmt::format("{:.3f} CPU s (`entries()`)", ours_s),
                               fmt::format("{} {:.3f} CPU s", best->label, best_s), ours_s / best_s,
                               "faster than every peer (< 1×)", ours_s < best_s);
        } else {
            md += "; every peer failed.\n";
        }
    }
    bench::write_section(report, "map-walk-peers", md);
    std::cout << '\n' << md;
    // A failed contender is in the table; the exit status says so too, so that the smoke
    // test (which only proves that every contender runs) fails.
    bool any_failed = std::any_of(cs.begin(), cs.end(), [](const Contender& c) { return !c.failure.empty(); });
    return any_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc >= 2 && std::string(argv[1]) == "--walk") {
            if (argc != 4) {
                std::cerr << "usage: map_walk_peers --walk {libebpf|raw-batch|raw-next-key} MAP_ID\n";
                return 2;
            }
            return walk_main(argv[2], static_cast<std::uint32_t>(std::stoul(argv[3])));
        }
        return driver_main(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::cerr << "map_walk_peers: " << e.what()
                  << "\nusage: map_walk_peers BENCHMARKS.md [--entries N] [--rounds R] [--cilium-walk PATH] "
                     "[--bcc-walk PATH]\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "map_walk_peers: " << e.what() << '\n';
        return 1;
    }
}
