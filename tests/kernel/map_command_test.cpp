// `ebpf-tool map` against real maps: typed input and output for every BTF kind, interop
// with the real bpftool in both directions, per-CPU sums, every verb, and bad input that
// leaves the map unchanged.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ebpf/hash_map.hpp"
#include "kernel.hpp"
#include "pinned.hpp"
#include "process.hpp"
#include "unique.hpp"

namespace {

std::string object(const char* name) {
    return std::string(BPF_OBJECT_DIR) + "/" + name + ".o";
}

test::Result tool(std::vector<std::string> args) {
    args.insert(args.begin(), test::tool_path());
    return test::run(args);
}

nlohmann::json json_of(const test::Result& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

class MapCommand : public test::RunPinnedTest {
protected:
    MapCommand() : RunPinnedTest(object("typed_maps"), "ebpf-map-test-") {}
};

const char* kKey = R"({"src_ip":16777343,"dst_ip":33554559,"src_port":40000,"dst_port":443,"proto":6})";
const char* kValue =
    R"({"s8":-5,"u8":250,"s16":-300,"u16":65000,"s32":-70000,"u32":4000000000,"s64":-5000000000,)"
    R"("u64":18000000000000000000,"flag":true,"state":"STATE_ESTABLISHED","comm":"sshd","samples":[1,2,3,4],)"
    R"("raw":{"as_u32":16909060},"low":15,"mid":4095,"high":65535,"ptr":4096})";

TEST_F(MapCommand, TypedUpdateAndLookupRoundTripEveryKind) {
    auto update = tool({"map", "update", "pinned", pin("flows"), "key", kKey, "value", kValue});
    ASSERT_EQ(update.exit_code, 0) << update.err;
    auto entry = json_of(tool({"-j", "map", "lookup", "pinned", pin("flows"), "key", kKey}));
    const auto& f = entry.at("formatted");
    EXPECT_EQ(f.at("key"), nlohmann::json::parse(R"({"src_ip":16777343,"dst_ip":33554559,"src_port":40000,)"
                                                 R"("dst_port":443,"proto":6,"pad":[0,0,0]})"));
    auto expected = nlohmann::json::parse(kValue);
    expected["raw"] = {{"as_u32", 16909060}, {"as_bytes", {4, 3, 2, 1}}};  // a union shows every member
    EXPECT_EQ(f.at("value"), expected) << f.at("value").dump();
    // What lookup printed goes back in unchanged: format -> parse -> the same bytes.
    auto again = tool(
        {"map", "update", "pinned", pin("flows"), "key", f.at("key").dump(), "value", f.at("value").dump(), "exist"});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    auto after = json_of(tool({"-j", "map", "lookup", "pinned", pin("flows"), "key", kKey}));
    EXPECT_EQ(after.at("value"), entry.at("value"));
    EXPECT_EQ(after.at("key"), entry.at("key"));
    // Text output is typed too.
    auto text = tool({"map", "lookup", "pinned", pin("flows"), "key", kKey});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("STATE_ESTABLISHED"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("\"sshd\""), std::string::npos) << text.out;
}

TEST_F(MapCommand, EnumsByNameAndPlainNumbers) {
    ASSERT_EQ(tool({"map", "update", "pinned", pin("states"), "key", "2", "value", "STATE_CLOSED"}).exit_code, 0);
    auto entry = json_of(tool({"-j", "map", "lookup", "pinned", pin("states"), "key", "2"}));
    EXPECT_EQ(entry.at("formatted").at("value"), "STATE_CLOSED");
    EXPECT_EQ(entry.at("value"), (nlohmann::json{"0x03", "0x00", "0x00", "0x00"}));
    // bpftool's byte syntax still works on a map with BTF.
    ASSERT_EQ(tool({"map", "update", "pinned", pin("states"), "key", "3", "0", "0", "0", "value", "hex", "01000000"})
                  .exit_code,
              0);
    EXPECT_EQ(json_of(tool({"-j", "map", "lookup", "pinned", pin("states"), "key", "3"})).at("formatted").at("value"),
              "STATE_NEW");
}

TEST_F(MapCommand, PerCpuMapsShowEachCpuAndTheSum) {
    ASSERT_EQ(tool({"map", "update", "pinned", pin("percpu_counts"), "key", "7", "value", "5"}).exit_code, 0);
    const int cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_CONF));
    auto entry = json_of(tool({"-j", "map", "lookup", "pinned", pin("percpu_counts"), "key", "7"}));
    ASSERT_EQ(entry.at("values").size(), static_cast<std::size_t>(cpus));
    EXPECT_EQ(entry.at("values")[0].at("cpu"), 0);
    EXPECT_EQ(entry.at("formatted").at("values")[0].at("value"), 5);
    EXPECT_EQ(entry.at("formatted").at("sum"), 5 * cpus);
    auto text = tool({"map", "lookup", "pinned", pin("percpu_counts"), "key", "7"});
    EXPECT_NE(text.out.find("cpu0: 5"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("sum: " + std::to_string(5 * cpus)), std::string::npos) << text.out;
}

// The bytes are the contract between the tools: bpftool's dump and ours agree on them.
TEST_F(MapCommand, BpftoolAndEbpfToolSeeTheSameEntries) {
    ASSERT_EQ(tool({"map", "update", "pinned", pin("flows"), "key", kKey, "value", kValue}).exit_code, 0);
    auto ours = json_of(tool({"-j", "map", "dump", "pinned", pin("flows")}));
    auto theirs =
        nlohmann::json::parse(test::run({"/usr/sbin/bpftool", "-j", "map", "dump", "pinned", pin("flows")}).out);
    ASSERT_EQ(ours.size(), 1u);
    ASSERT_EQ(theirs.size(), 1u);
    EXPECT_EQ(ours[0].at("key"), theirs[0].at("key"));
    EXPECT_EQ(ours[0].at("value"), theirs[0].at("value"));
    EXPECT_EQ(ours[0].at("formatted").at("key"), theirs[0].at("formatted").at("key"));
}

// A map of many batches is walked on a thread of its own while the batch before is
// formatted (map.cpp, walk_overlapped): every entry still appears exactly once, with the
// bytes bpftool sees, in both formats.
TEST_F(MapCommand, DumpsOfManyBatchesMatchBpftoolEntryForEntry) {
    const std::uint32_t n = 20000;
    auto m = ebpf::HashMap<std::uint32_t, std::uint64_t>::create("t_big_dump", 2 * n);
    std::vector<std::uint32_t> keys(n);
    std::vector<std::uint64_t> values(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        keys[i] = i * 2654435761u;
        values[i] = i * 7ull;
    }
    ASSERT_EQ(m.update_batch(keys, values), n);
    m.pin(pin("big"));
    auto ours = json_of(tool({"-j", "map", "dump", "pinned", pin("big")}));
    auto theirs =
        nlohmann::json::parse(test::run({"/usr/sbin/bpftool", "-j", "map", "dump", "pinned", pin("big")}).out);
    ASSERT_EQ(ours.size(), n);
    ASSERT_EQ(theirs.size(), n);
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    EXPECT_EQ(std::adjacent_find(ours.begin(), ours.end()), ours.end()) << "an entry appears twice";
    EXPECT_EQ(ours, theirs);
    auto text = tool({"map", "dump", "pinned", pin("big")});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(test::lines(text.out).size(), n + 1);
    EXPECT_EQ(test::lines(text.out).back(), "Found 20000 elements");
}

TEST_F(MapCommand, MapsWithoutBtfDumpIdenticallyBothWays) {
    // Made and filled by ebpf-tool, dumped by bpftool.
    ASSERT_EQ(
        tool({"map", "create", pin("ours"), "type", "hash", "key", "4", "value", "8", "entries", "16", "name", "ours"})
            .exit_code,
        0);
    ASSERT_EQ(
        tool({"map", "update", "pinned", pin("ours"), "key", "1", "0", "0", "0", "value", "hex", "0a00000000000000"})
            .exit_code,
        0);
    ASSERT_EQ(tool({"map", "update", "pinned", pin("ours"), "key", "0x02", "0", "0", "0", "value", "7", "0", "0", "0",
                    "0", "0", "0", "0"})
                  .exit_code,
              0);
    auto bpftool_dump = test::run({"/usr/sbin/bpftool", "-j", "map", "dump", "pinned", pin("ours")});
    EXPECT_EQ(nlohmann::json::parse(bpftool_dump.out), json_of(tool({"-j", "map", "dump", "pinned", pin("ours")})));
    // Made and filled by bpftool, dumped by ebpf-tool.
    ASSERT_EQ(test::run({"/usr/sbin/bpftool", "map", "create", pin("theirs"), "type", "array", "key", "4", "value", "4",
                         "entries", "3", "name", "theirs"})
                  .exit_code,
              0);
    ASSERT_EQ(test::run({"/usr/sbin/bpftool", "map", "update", "pinned", pin("theirs"), "key", "1", "0", "0", "0",
                         "value", "9", "9", "0", "0"})
                  .exit_code,
              0);
    EXPECT_EQ(
        json_of(tool({"-j", "map", "dump", "pinned", pin("theirs")})),
        nlohmann::json::parse(test::run({"/usr/sbin/bpftool", "-j", "map", "dump", "pinned", pin("theirs")}).out));
}

TEST_F(MapCommand, BadInputIsOneLineAndLeavesTheMapUnchanged) {
    ASSERT_EQ(tool({"map", "update", "pinned", pin("flows"), "key", kKey, "value", kValue}).exit_code, 0);
    ASSERT_EQ(
        tool({"map", "create", pin("plain"), "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "plain"})
            .exit_code,
        0);
    auto flows_before = tool({"-j", "map", "dump", "pinned", pin("flows")}).out;
    auto plain_before = tool({"-j", "map", "dump", "pinned", pin("plain")}).out;
    struct Case {
        std::vector<std::string> args;
        int exit_code;
        std::string message;
    };
    const std::string not_bpffs = test::unique_name("/tmp/ebpf-not-bpffs-");
    const std::vector<Case> cases{
        {{"map", "update", "pinned", pin("plain"), "key", "1", "2", "3", "value", "1", "0", "0", "0"},
         2,
         "key: 3 bytes given, but the map's keys are 4 bytes"},
        {{"map", "update", "pinned", pin("plain"), "key", "hex", "zz", "00", "00", "00", "value", "1", "0", "0", "0"},
         2,
         "key must be a number up to 255, not '0xzz'"},
        {{"map", "update", "pinned", pin("plain"), "key", "1", "value", "1", "0", "0", "0"},
         2,
         "the map has no BTF, so typed input is not possible"},
        {{"map", "update", "pinned", pin("flows"), "key", R"({"nope":1})", "value", kValue}, 2, "nope"},
        {{"map", "update", "pinned", pin("flows"), "key", kKey, "value", R"({"u8":256})"}, 2, "u8"},
        {{"map", "lookup", "id", "4000000000", "key", "1"}, 1, "map id 4000000000: no such map"},
        {{"map", "dump", "name", "no_such_map_x"}, 1, "map name 'no_such_map_x': no such map"},
        {{"map", "dump", "idx", "3"}, 2, "expected id, name or pinned, not 'idx'"},
        {{"map", "create", not_bpffs, "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "x"},
         1,
         "pin path '" + not_bpffs + "' is not on a bpf filesystem"},
        {{"map", "create", pin("x"), "type", "hashy", "key", "4", "value", "4", "entries", "4", "name", "x"},
         2,
         "unknown map type 'hashy'"},
        {{"map", "frobnicate"}, 2, "unknown verb 'frobnicate'"},
        {{"map", "lookup", "pinned", pin("plain"), "key", "9", "9", "9", "9"}, 1, "map 'plain': lookup: key not found"},
        // Keyless verbs on a keyed map: the type, not the kernel's "Bad address".
        {{"map", "push", "pinned", pin("plain"), "value", "1", "0", "0", "0"},
         1,
         "ebpf-tool: map 'plain' is a hash: push needs a queue, stack or bloom_filter map"},
        {{"map", "pop", "pinned", pin("plain")}, 1, "ebpf-tool: map 'plain' is a hash: pop needs a queue or stack map"},
        {{"map", "peek", "pinned", pin("plain")},
         1,
         "ebpf-tool: map 'plain' is a hash: peek needs a queue, stack or bloom_filter map"},
    };
    for (const auto& c : cases) {
        auto r = tool(c.args);
        EXPECT_EQ(r.exit_code, c.exit_code) << c.args[1] << ": " << r.err;
        auto err = test::lines(r.err);
        ASSERT_EQ(err.size(), 1u) << r.err;
        EXPECT_NE(err[0].find(c.message), std::string::npos) << err[0];
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    EXPECT_EQ(tool({"-j", "map", "dump", "pinned", pin("flows")}).out, flows_before);
    EXPECT_EQ(tool({"-j", "map", "dump", "pinned", pin("plain")}).out, plain_before);
    EXPECT_FALSE(std::filesystem::exists(not_bpffs));
}

TEST_F(MapCommand, FullMapsAndPresentKeysSayWhatHappened) {
    ASSERT_EQ(
        tool({"map", "create", pin("full"), "type", "hash", "key", "4", "value", "4", "entries", "1", "name", "full"})
            .exit_code,
        0);
    ASSERT_EQ(tool({"map", "update", "pinned", pin("full"), "key", "1", "0", "0", "0", "value", "1", "0", "0", "0"})
                  .exit_code,
              0);
    auto full = tool({"map", "update", "pinned", pin("full"), "key", "2", "0", "0", "0", "value", "1", "0", "0", "0"});
    EXPECT_EQ(full.exit_code, 1);
    EXPECT_EQ(full.err, "ebpf-tool: map 'full' is full (1 of 1 entries; E2BIG)\n");
    auto present = tool(
        {"map", "update", "pinned", pin("full"), "key", "1", "0", "0", "0", "value", "2", "0", "0", "0", "noexist"});
    EXPECT_EQ(present.exit_code, 1);
    EXPECT_EQ(present.err, "ebpf-tool: map 'full': update: key exists (EEXIST)\n");
    auto missing = tool({"map", "delete", "pinned", pin("full"), "key", "2", "0", "0", "0"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.err, "ebpf-tool: map 'full': delete: key not found\n");
}

TEST_F(MapCommand, CreatesEveryTypeByNameIncludingLocalStorage) {
    struct Made {
        std::string type, key, value, entries, flags;
    };
    const std::vector<Made> types{
        {"hash", "4", "8", "8", "0"},         {"array", "4", "8", "8", "0"},
        {"percpu_hash", "4", "8", "8", "0"},  {"lru_percpu_hash", "4", "8", "8", "0"},
        {"lpm_trie", "8", "8", "8", "1"},     {"queue", "0", "8", "8", "0"},
        {"stack", "0", "8", "8", "0"},        {"bloom_filter", "0", "8", "8", "0"},
        {"ringbuf", "0", "0", "4096", "0"},   {"sk_storage", "4", "8", "0", "1"},
        {"task_storage", "4", "8", "0", "1"}, {"inode_storage", "4", "8", "0", "1"},
        {"devmap", "4", "8", "4", "0"},       {"cpumap", "4", "8", "2", "0"},
    };
    for (const auto& t : types) {
        auto r = tool({"-j", "map", "create", pin("c_" + t.type), "type", t.type, "key", t.key, "value", t.value,
                       "entries", t.entries, "name", "c_" + t.type.substr(0, 12), "flags", t.flags});
        ASSERT_EQ(r.exit_code, 0) << t.type << ": " << r.err;
        EXPECT_EQ(nlohmann::json::parse(r.out).at("type"), t.type);
        auto shown = json_of(tool({"-j", "map", "show", "pinned", pin("c_" + t.type)}));
        EXPECT_EQ(shown[0].at("type"), t.type);
    }
}

TEST_F(MapCommand, QueueVerbsGetnextDeleteAndFreeze) {
    ASSERT_EQ(tool({"map", "create", pin("q"), "type", "queue", "key", "0", "value", "4", "entries", "4", "name", "q"})
                  .exit_code,
              0);
    ASSERT_EQ(tool({"map", "push", "pinned", pin("q"), "value", "1", "0", "0", "0"}).exit_code, 0);
    ASSERT_EQ(tool({"map", "enqueue", "pinned", pin("q"), "value", "2", "0", "0", "0"}).exit_code, 0);
    EXPECT_EQ(json_of(tool({"-j", "map", "peek", "pinned", pin("q")})).at("value")[0], "0x01");
    EXPECT_EQ(json_of(tool({"-j", "map", "pop", "pinned", pin("q")})).at("value")[0], "0x01");
    EXPECT_EQ(json_of(tool({"-j", "map", "dequeue", "pinned", pin("q")})).at("value")[0], "0x02");
    EXPECT_EQ(tool({"map", "pop", "pinned", pin("q")}).exit_code, 1);

    ASSERT_EQ(tool({"map", "update", "pinned", pin("states"), "key", "1", "value", "STATE_NEW"}).exit_code, 0);
    auto next = json_of(tool({"-j", "map", "getnext", "pinned", pin("states"), "key", "0"}));
    EXPECT_EQ(next.at("next_key"), (nlohmann::json{"0x01", "0x00", "0x00", "0x00"}));
    ASSERT_EQ(tool({"map", "freeze", "pinned", pin("states")}).exit_code, 0);
    auto frozen = tool({"map", "update", "pinned", pin("states"), "key", "1", "value", "STATE_CLOSED"});
    EXPECT_EQ(frozen.exit_code, 1);
    EXPECT_EQ(frozen.err, "ebpf-tool: map 'states': update: not permitted (EPERM)\n");

    ASSERT_EQ(tool({"map", "create", pin("h"), "type", "hash", "key", "4", "value", "4", "entries", "4", "name", "h"})
                  .exit_code,
              0);
    ASSERT_EQ(
        tool({"map", "update", "pinned", pin("h"), "key", "5", "0", "0", "0", "value", "1", "0", "0", "0"}).exit_code,
        0);
    EXPECT_EQ(
        tool({"map", "update", "pinned", pin("h"), "key", "5", "0", "0", "0", "value", "1", "0", "0", "0", "noexist"})
            .exit_code,
        1);
    ASSERT_EQ(tool({"map", "delete", "pinned", pin("h"), "key", "5", "0", "0", "0"}).exit_code, 0);
    EXPECT_EQ(tool({"map", "delete", "pinned", pin("h"), "key", "5", "0", "0", "0"}).exit_code, 1);
    ASSERT_EQ(tool({"map", "pin", "pinned", pin("h"), pin("h2")}).exit_code, 0);
    ASSERT_EQ(tool({"map", "unpin", pin("h2")}).exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists(pin("h2")));
}

}  // namespace
