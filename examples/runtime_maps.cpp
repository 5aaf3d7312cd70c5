// Pattern: creating maps at run time, from user space, instead of declaring them in a BPF
// object: sizes chosen by the running program, maps shared between objects, scratch maps.
//
//   1. ebpf::Map::create(MapSpec): the untyped way, every field spelled out; and
//      MapSpec::incompatibilities, which tells whether an existing map fits a spec.
//   2. The typed create() of each handle: sizes come from the C++ types.
//   3. A run-time map handed to a BPF object before load (bpf_map__reuse_fd): the program
//      writes into the map user space made.
//   4. Binding a handle whose types do not fit the map: a clear error, at once.
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/ranges.h>

#include <string>
#include <vector>

#include "ebpf/array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "example.hpp"
#include "runtime_maps.skel.h"

EBPF_SKELETON(runtime_maps_bpf);

namespace {

using example::check;

struct Point {
    std::int32_t x;
    std::int32_t y;
};

std::string describe(const ebpf::MapInfo& info) {
    return fmt::format("{} '{}' (id {}): key {} B, value {} B, {} entries", info.type_name(), info.name, info.id,
                       info.key_size, info.value_size, info.max_entries);
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out.empty() ? "(none: compatible)" : out;
}

bool untyped() {
    fmt::print("1. Map::create(MapSpec)\n");
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_HASH;
    spec.name = "rt_sessions";
    spec.key_size = sizeof(std::uint64_t);
    spec.value_size = sizeof(std::uint32_t);
    spec.max_entries = 256 * ebpf::possible_cpus();  // sized for this machine, at run time
    spec.flags = BPF_F_NO_PREALLOC;                   // allocate entries as they are added
    auto map = ebpf::Map::create(spec);
    fmt::print("   created {}\n", describe(map.info()));

    const std::uint64_t key = 0xfeed;
    const std::uint32_t value = 7;
    map.update(&key, &value);
    std::uint32_t read = 0;
    const bool found = map.lookup(&key, &read);
    fmt::print("   raw update/lookup of key {:#x}: {}\n", key, found ? std::to_string(read) : "missing");

    auto other = spec;
    other.value_size = 16;
    other.max_entries = 10;
    fmt::print("   the map against its own spec: {}\n", join(spec.incompatibilities(map.info())));
    fmt::print("   the map against a different spec: {}\n", join(other.incompatibilities(map.info())));
    bool ok = check(found && read == value, "the raw map stores and returns bytes");
    ok &= check(spec.incompatibilities(map.info()).empty() && other.incompatibilities(map.info()).size() == 2,
                "incompatibilities() lists exactly the fields that differ");
    return ok;
}

bool typed() {
    fmt::print("2. typed create(): key and value sizes come from the types\n");
    auto array = ebpf::Array<std::uint64_t>::create("rt_array", 4);
    array.update(2, 42);
    fmt::print("   {}\n     update(2, 42); values() = [{}]\n", describe(array.info()), fmt::join(array.values(), ", "));

    auto points = ebpf::HashMap<Point, std::uint64_t>::create("rt_points", 16);
    points.update({1, 2}, 3);
    points.update({4, 5}, 9);
    fmt::print("   {}\n     {{1,2}} -> {}, {{4,5}} -> {}, {{0,0}} -> {}\n", describe(points.info()),
               points.lookup({1, 2}).value_or(0), points.lookup({4, 5}).value_or(0),
               points.lookup({0, 0}) ? "present" : "missing (nullopt, not an error)");

    auto per_cpu = ebpf::PerCpuArray<std::uint64_t>::create("rt_percpu", 1);
    per_cpu.update_all(0, 5);
    fmt::print("   {}\n     update_all(0, 5): {} slots, sum {}\n", describe(per_cpu.info()),
               per_cpu.lookup(0)->size(), per_cpu.lookup_sum(0).value_or(0));

    bool ok =
        check(array.values().items == std::vector<std::uint64_t>{0, 0, 42, 0}, "the array holds 42 in slot 2 only");
    ok &= check(points.entries().size() == 2 && points.lookup({4, 5}) == 9u, "the struct-keyed hash holds 2 points");
    ok &= check(per_cpu.lookup_sum(0) == 5u * ebpf::possible_cpus(), "every possible CPU's slot holds 5");
    return ok;
}

bool handed_to_bpf() {
    fmt::print("3. a run-time map used by a BPF program\n");
    // Four slots, although the object declares one: the run-time map is the one used.
    auto counts = ebpf::Array<std::uint64_t>::create("rt_counts", 4);
    auto skel = ebpf::Skeleton<runtime_maps_bpf>::open();
    skel->rodata->target_tgid = static_cast<std::uint32_t>(::getpid());
    // Before load: libbpf then uses this map instead of creating one from the declaration.
    if (int err = bpf_map__reuse_fd(skel->maps.counts, counts.fd()); err)
        throw ebpf::Error::sys(err, "map 'counts': reuse the run-time map");
    skel.load();
    skel.attach();

    constexpr int kGetppid = 5, kGetpgid = 3;
    for (int i = 0; i < kGetppid; ++i) ::syscall(SYS_getppid);
    for (int i = 0; i < kGetpgid; ++i) ::syscall(SYS_getpgid, 0);
    const auto values = counts.values();  // read through the handle made at run time
    fmt::print("   {}\n   getppid() x{}, getpgid() x{} -> slots [{}]\n", describe(counts.info()), kGetppid, kGetpgid,
               fmt::join(values, ", "));
    return check(values.complete() && values.items == std::vector<std::uint64_t>{kGetppid, kGetpgid, 0, 0},
                 "the program counted into the map user space created");
}

bool wrong_binding() {
    fmt::print("4. a handle whose types do not fit the map\n");
    auto map = ebpf::HashMap<std::uint32_t, std::uint64_t>::create("rt_u64_values", 8);
    try {
        ebpf::HashMap<std::uint32_t, std::uint32_t> wrong(ebpf::Map::open_by_id(map.info().id));
    } catch (const ebpf::Error& e) {
        fmt::print("   HashMap<u32, u32> over it: {}\n", e.what());
        return check(e.code() == ebpf::errc::size_mismatch,
                     "the mismatch is refused when the handle is made, not on first use");
    }
    return check(false, "a u32 handle over u64 values was accepted");
}

bool run() {
    fmt::print("Maps created by user space at run time; each goes away with its last handle.\n\n");
    bool ok = true;
    for (auto part : {untyped, typed, handed_to_bpf, wrong_binding}) {
        ok &= part();
        fmt::print("\n");
    }
    return ok;
}

}  // namespace

int main() { return example::run("runtime_maps", /*need_tracefs=*/true, run); }
