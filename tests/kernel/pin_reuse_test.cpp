// `ebpf-tool run OBJ --pin DIR`, twice: the second run must reuse every pin the first one
// made, for every map type an object can define (tests/bpf/pin_types.bpf.c). A pin whose
// kernel-side attributes differ from the definition (the kernel adds BPF_F_RDONLY_PROG to
// devmaps; libbpf sizes a perf_event_array by CPU count) must still count as the same map.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "ebpf/array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/map.hpp"
#include "kernel.hpp"
#include "process.hpp"

namespace {

constexpr const char* kReady = "Hit Ctrl-C to end.";

std::string object(const char* name) {
    return std::string(BPF_OBJECT_DIR) + "/" + name + ".o";
}

// Every map of pin_types.bpf.c, by name, with the type its pin must have.
const std::map<std::string, std::string>& expected_pins() {
    static const std::map<std::string, std::string> pins = {
        {"pt_hash", "hash"},
        {"pt_array", "array"},
        {"pt_percpu_hash", "percpu_hash"},
        {"pt_percpu_array", "percpu_array"},
        {"pt_lru_hash", "lru_hash"},
        {"pt_lru_pcpu", "lru_percpu_hash"},
        {"pt_devmap", "devmap"},
        {"pt_devmap_hash", "devmap_hash"},
        {"pt_cpumap", "cpumap"},
        {"pt_xskmap", "xskmap"},
        {"pt_sockmap", "sockmap"},
        {"pt_sockhash", "sockhash"},
        {"pt_reuseport", "reuseport_sockarray"},
        {"pt_cgroup_array", "cgroup_array"},
        {"pt_prog_array", "prog_array"},
        {"pt_stack_trace", "stack_trace"},
        {"pt_perf", "perf_event_array"},
        {"pt_ringbuf", "ringbuf"},
        {"pt_user_ringbuf", "user_ringbuf"},
        {"pt_queue", "queue"},
        {"pt_stack", "stack"},
        {"pt_bloom", "bloom_filter"},
        {"pt_lpm", "lpm_trie"},
        {"pt_array_of_maps", "array_of_maps"},
        {"pt_hash_of_maps", "hash_of_maps"},
        {"pt_cg_storage", "cgroup_storage"},
        {"pt_pcpu_cg_stor", "percpu_cgroup_storage"},
        {"pt_sk_storage", "sk_storage"},
        {"pt_inode_stor", "inode_storage"},
        {"pt_task_stor", "task_storage"},
        {"pt_cgrp_stor", "cgrp_storage"},
    };
    return pins;
}

// Ids of the maps a process holds open (its bpf-map fds' fdinfo says map_id).
std::set<std::uint32_t> map_ids_held_by(pid_t pid) {
    std::set<std::uint32_t> ids;
    const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path());
        for (std::string line; std::getline(in, line);)
            if (line.rfind("map_id:", 0) == 0) ids.insert(static_cast<std::uint32_t>(std::stoul(line.substr(7))));
    }
    return ids;
}

// No kernel needed: the compatibility rule itself.
TEST(PinReuse, DevmapsIgnoreTheReadOnlyFlagTheKernelAdds) {
    for (auto type : {BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH}) {
        auto spec = ebpf::MapSpec::make(type, "ports", 4, 4, 8);
        ebpf::MapInfo pinned;
        pinned.type = type;
        pinned.key_size = pinned.value_size = 4;
        pinned.max_entries = 8;
        pinned.flags = BPF_F_RDONLY_PROG;
        EXPECT_EQ(spec.incompatibilities_text(pinned), "") << ebpf::map_type_name(type);
        pinned.flags |= BPF_F_NUMA_NODE;  // any other flag still counts
        EXPECT_EQ(spec.incompatibilities_text(pinned), "flags: 0 != 4") << ebpf::map_type_name(type);
    }
    // Only devmaps: on any other map BPF_F_RDONLY_PROG is the user's choice, and differs.
    auto hash = ebpf::MapSpec::make(BPF_MAP_TYPE_HASH, "h", 4, 4, 8);
    ebpf::MapInfo pinned;
    pinned.type = BPF_MAP_TYPE_HASH;
    pinned.key_size = pinned.value_size = 4;
    pinned.max_entries = 8;
    pinned.flags = BPF_F_RDONLY_PROG;
    EXPECT_EQ(hash.incompatibilities_text(pinned), "flags: 0 != 128");
}

TEST(PinReuse, EveryPinnedMapTypeIsReusedByASecondRun) {
    REQUIRE_KERNEL();
    const std::string dir = "/sys/fs/bpf/ebpf-pin-types-" + std::to_string(getpid());
    struct Cleanup {
        std::string dir;
        ~Cleanup() { std::filesystem::remove_all(dir); }
    } cleanup{dir};

    auto first = test::run({test::tool_path(), "run", object("pin_types"), "--pin", dir, "--count", "1"});
    ASSERT_EQ(first.exit_code, 0) << first.err;

    // Every map is pinned, with the type the object defines.
    std::map<std::string, std::uint32_t> pinned_ids;
    for (const auto& [name, type] : expected_pins()) {
        const std::string path = dir + "/" + name;
        ASSERT_TRUE(std::filesystem::exists(path)) << name << " was not pinned";
        auto map = ebpf::Map::open_pinned(path);
        EXPECT_EQ(map.info().type_name(), type) << name;
        pinned_ids[name] = map.info().id;
    }
    std::size_t pins = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++pins;
    EXPECT_EQ(pins, expected_pins().size()) << "the run pinned maps the test does not know";

    // The second run's program counts this process's getppid calls (the pid it reads from
    // the first run's pt_array) on top of a count left in the first run's pt_hash.
    const auto self = static_cast<std::uint32_t>(getpid());
    auto filter = ebpf::Array<std::uint64_t>::open_pinned(dir + "/pt_array");
    filter.update(0, self);
    auto counts = ebpf::HashMap<std::uint32_t, std::uint64_t>::open_pinned(dir + "/pt_hash");
    counts.update(self, 100);

    test::Process second({test::tool_path(), "run", object("pin_types"), "--pin", dir, "--interval", "5"});
    if (!second.wait_for_stderr(kReady)) {
        second.signal(SIGKILL);
        FAIL() << "the second run did not start: " << second.finish().err;
    }
    // While it runs: the maps it holds are the pinned ones, and no other map of that name.
    const auto held = map_ids_held_by(second.pid());
    for (const auto& [name, id] : pinned_ids) {
        EXPECT_TRUE(held.count(id)) << name << ": the pin was not reused";
    }
    for (std::uint32_t id : held) {
        std::optional<ebpf::Map> map;
        try {
            map.emplace(ebpf::Map::open_by_id(id));
        } catch (const ebpf::Error&) {
            continue;  // freed since (an inner map template, released after load)
        }
        auto it = pinned_ids.find(map->name());
        if (it != pinned_ids.end()) {
            EXPECT_EQ(id, it->second) << it->first << ": a new map instead of the pin";
        }
    }
    const int calls = 7;
    for (int i = 0; i < calls; ++i) ::syscall(SYS_getppid);
    second.signal(SIGINT);
    auto result = second.finish();
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err.find("cannot reuse"), std::string::npos) << result.err;
    EXPECT_EQ(counts.lookup(self), std::optional<std::uint64_t>(100 + calls));

    // The pins are still the same maps.
    for (const auto& [name, id] : pinned_ids) {
        EXPECT_EQ(ebpf::Map::open_pinned(dir + "/" + name).info().id, id) << name;
    }
}

}  // namespace
