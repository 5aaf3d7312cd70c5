// JSON text -> btf_parse against a fixed struct (fixed_btf.hpp). Properties checked on
// every input that parses as JSON:
//  - btf_parse either throws ebpf::Error (one message) or returns exactly size() bytes;
//    any other exception, a crash or a sanitizer report is a bug;
//  - what it returned, formatted (BtfFormatter, JSON style) and parsed again, gives the same
//    bytes: the formatter's output is always valid input, and nothing is lost on the way.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "ebpf/error.hpp"
#include "fixed_btf.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "btf_json_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

void check(const fuzz::FixedBtf& f, std::uint32_t type_id, const nlohmann::json& input) {
    std::vector<std::byte> bytes;
    try {
        bytes = ebpf::btf_parse(f.btf, type_id, input);
    } catch (const ebpf::Error& e) {
        if (std::strchr(e.what(), '\n')) fail("an error message of more than one line", e.what());
        return;
    }
    ebpf::BtfFormatter formatter(f.btf, type_id);
    if (bytes.size() != formatter.size()) fail("btf_parse returned the wrong number of bytes", input.dump());
    std::string json_text = formatter.format(bytes, ebpf::Style::json);
    (void)formatter.format(bytes, ebpf::Style::text);
    nlohmann::json again = nlohmann::json::parse(json_text, nullptr, false);
    if (again.is_discarded()) fail("BtfFormatter wrote invalid JSON", json_text);
    std::vector<std::byte> round;
    try {
        round = ebpf::btf_parse(f.btf, type_id, again);
    } catch (const ebpf::Error& e) {
        fail("btf_parse rejected BtfFormatter's output", json_text + " -> " + e.what());
    }
    if (round != bytes) fail("format -> parse changed the bytes", input.dump() + " -> " + json_text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fuzz::FixedBtf f;
    // Depth is bounded by the input length (libFuzzer's -max_len), as a command line
    // bounds it for the CLI.
    nlohmann::json input = nlohmann::json::parse(data, data + size, nullptr, false);
    if (input.is_discarded()) return 0;
    check(f, f.record, input);
    // The same text against the scalar members' types too, so short inputs reach them.
    check(f, f.state, input);
    check(f, f.comm, input);
    return 0;
}
