// The untyped core: opening maps by id, name and pin, listing, creating with options,
// pinning across processes (read back by a new process and by bpftool), and the checks
// that name every field when a pin does not match.
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ebpf/array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/system.hpp"
#include "kernel.hpp"
#include "maps_test.skel.h"
#include "process.hpp"
#include "unique.hpp"

EBPF_SKELETON(maps_test_bpf);

namespace {

using Counts = ebpf::HashMap<std::uint32_t, std::uint64_t>;

// A directory on bpffs, removed with everything pinned in it.
class PinDir {
public:
    PinDir() : path_(ebpf::system::ensure_bpffs() + "/ebpf-tool-test-" + std::to_string(getpid())) {
        mkdir(path_.c_str(), 0700);
    }
    ~PinDir() { std::filesystem::remove_all(path_); }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

TEST(Map, OpensByIdNameAndPin) {
    REQUIRE_KERNEL();
    PinDir dir;
    // Names are global: another test run may have a map of the same name open meanwhile.
    const std::string name = test::unique_name("t_open_");
    auto m = Counts::create(name, 4);
    m.update(1, 11);
    auto by_id = ebpf::Map::open_by_id(m.info().id);
    EXPECT_EQ(by_id.info().name, name);
    EXPECT_EQ(by_id.info().type, BPF_MAP_TYPE_HASH);
    EXPECT_EQ(by_id.info().type_name(), "hash");
    EXPECT_EQ(by_id.info().key_size, 4u);
    EXPECT_EQ(by_id.info().value_size, 8u);
    EXPECT_EQ(by_id.info().max_entries, 4u);
    EXPECT_EQ(Counts::open_by_name(name).lookup(1), 11u);
    bool listed = false;
    for (const auto& info : ebpf::Map::list()) listed = listed || info.id == m.info().id;
    EXPECT_TRUE(listed);
    m.pin(dir / "counts");
    EXPECT_EQ(Counts::open_pinned(dir / "counts").lookup(1), 11u);
    ebpf::Map::unpin(dir / "counts");
    EXPECT_THROW(ebpf::Map::open_pinned(dir / "counts"), ebpf::Error);
}

TEST(Map, OpenFailuresSayWhy) {
    REQUIRE_KERNEL();
    try {
        (void)ebpf::Map::open_by_id(0x7fffffff);
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_found);
        EXPECT_EQ(e.errno_value(), ENOENT);
        EXPECT_STREQ(e.what(), "map id 2147483647: no such map");
    }
    try {
        (void)ebpf::Map::open_by_name("t_no_such_map");
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::not_found) << e.what();
        EXPECT_STREQ(e.what(), "map name 't_no_such_map': no such map");
    }
    const std::string twice = test::unique_name("t_twice_");
    auto a = Counts::create(twice, 1), b = Counts::create(twice, 1);
    try {
        (void)ebpf::Map::open_by_name(twice);
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::ambiguous);
        EXPECT_NE(std::string(e.what()).find("is ambiguous"), std::string::npos) << e.what();
    }
    EXPECT_THROW(ebpf::Map::unpin("/tmp/not-on-bpffs"), ebpf::Error);
}

TEST(Map, CreateWithOptionsAndFailureNamesTheMap) {
    REQUIRE_KERNEL();
    ebpf::MapSpec spec;
    spec.type = BPF_MAP_TYPE_HASH;
    spec.name = "t_numa";
    spec.key_size = 4;
    spec.value_size = 4;
    spec.max_entries = 8;
    spec.flags = BPF_F_NO_PREALLOC;
    spec.numa_node = 0;
    auto m = ebpf::Map::create(spec);
    EXPECT_EQ(m.info().flags, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE);
    spec.name = "t_bad";
    spec.key_size = 0;
    try {
        (void)ebpf::Map::create(spec);
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.errno_value(), EINVAL);
        EXPECT_EQ(e.code(), ebpf::errc::system);
        EXPECT_STREQ(e.what(), "map 't_bad': create hash (key 0, value 4, entries 8): Invalid argument");
    }
}

TEST(Pin, OutlivesTheProcessThatMadeItAndBpftoolReadsIt) {
    REQUIRE_KERNEL();
    PinDir dir;
    const std::string path = dir / "shared";
    pid_t child = fork();
    if (child == 0) {
        try {
            auto m = Counts::create("t_pinned", 8);
            m.update(1, 100);
            m.update(2, 200);
            m.pin(path);
        } catch (...) {
            _exit(1);
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto m = Counts::open_pinned(path);
    EXPECT_EQ(m.lookup(1), 100u);
    EXPECT_EQ(m.lookup(2), 200u);
    auto dump = test::run({"/usr/sbin/bpftool", "-j", "map", "dump", "pinned", path});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    auto entries = nlohmann::json::parse(dump.out);
    ASSERT_EQ(entries.size(), 2u) << dump.out;
    for (const auto& e : entries) {
        // Without BTF bpftool prints bytes: key 01 00 00 00 → value 64 00 … (little-endian).
        auto key = std::stoul(e.at("key").at(0).get<std::string>(), nullptr, 16);
        auto value0 = std::stoul(e.at("value").at(0).get<std::string>(), nullptr, 16);
        EXPECT_EQ(value0, key * 100) << e.dump();
    }
}

TEST(Pin, MismatchNamesEveryDifferingField) {
    REQUIRE_KERNEL();
    PinDir dir;
    Counts::create("t_spec", 10).pin(dir / "m");
    ebpf::MapSpec expected;
    expected.type = BPF_MAP_TYPE_HASH;
    expected.key_size = 8;
    expected.value_size = 8;
    expected.max_entries = 20;
    try {
        (void)ebpf::Map::open_pinned(dir / "m", expected);
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::incompatible);
        EXPECT_EQ(std::string(e.what()), "pinned map '" + (dir / "m") +
                                             "' does not match (expected != pinned): key_size: 8 != 4, "
                                             "max_entries: 20 != 10");
    }
    expected.key_size = 4;
    expected.max_entries = 10;
    EXPECT_NO_THROW(ebpf::Map::open_pinned(dir / "m", expected));
    try {
        (void)ebpf::Array<std::uint64_t>::open_pinned(dir / "m");
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::wrong_type);
        EXPECT_STREQ(e.what(), "Array needs an array map, 't_spec' is a hash");
    }
}

ebpf::Object open_maps_test_object() {
    std::size_t size = 0;
    const void* bytes = maps_test_bpf__elf_bytes(&size);
    return ebpf::Object::open_memory({static_cast<const std::byte*>(bytes), size}, "maps_test");
}

TEST(Object, ReusesACompatiblePinAndRefusesAnIncompatibleOne) {
    REQUIRE_KERNEL();
    PinDir dir;
    auto pinned = ebpf::Array<std::uint32_t>::create("result", 1);
    pinned.update(0, 77);
    pinned.pin(dir / "result");
    {
        auto obj = open_maps_test_object();
        obj.reuse_pinned_maps(dir.path());
        obj.load();
        auto result = obj.map<ebpf::Array<std::uint32_t>>("result");
        EXPECT_EQ(result.info().id, pinned.info().id);
        EXPECT_EQ(result.get(0), 77u);
    }
    ebpf::Map::unpin(dir / "result");
    ebpf::Array<std::uint32_t>::create("result", 2).pin(dir / "result");
    auto obj = open_maps_test_object();
    try {
        obj.reuse_pinned_maps(dir.path());
        FAIL();
    } catch (const ebpf::Error& e) {
        EXPECT_EQ(e.code(), ebpf::errc::incompatible);
        EXPECT_EQ(std::string(e.what()), "object 'maps_test': map 'result' cannot reuse the pin at " +
                                             (dir / "result") + " (object != pinned): max_entries: 1 != 2");
    }
}

TEST(Object, PinsItsMapsForOtherProcesses) {
    REQUIRE_KERNEL();
    PinDir dir;
    {
        auto obj = open_maps_test_object();
        obj.load();
        obj.map<ebpf::Array<std::uint32_t>>("result").update(0, 5);
        obj.pin_maps(dir.path());
    }
    EXPECT_EQ(ebpf::Array<std::uint32_t>::open_pinned(dir / "result").get(0), 5u);
    EXPECT_THROW(open_maps_test_object().map("no_such_map"), ebpf::Error);
}

}  // namespace
