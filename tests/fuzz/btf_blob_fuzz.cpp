// BTF blobs -> btf_leaves, BtfFormatter and btf_parse, as a library user who formats BTF
// read from a file would run them. Input: a 4-byte little-endian length L, then L bytes of
// raw BTF (header, types, strings; what btf__new takes), then the bytes of values. Every
// type id in a BTF that libbpf accepts is compiled into a formatter (which may refuse with
// ebpf::Error) and flattened by btf_leaves (which may refuse too), whose leaves must lie
// inside the type, as serve --map relies on; a value of the type's size, cut from the tail
// (cycled, zeros when empty), is formatted in both styles, and the JSON is parsed back with
// btf_parse, which must give the same bytes or refuse with ebpf::Error (a value with bytes
// the JSON form cannot carry, e.g. a bool of 7, may not come back). Anything else is a bug:
// a crash, a sanitizer report, another exception, or JSON that does not parse.
#include <bpf/btf.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "ebpf/btf.hpp"
#include "ebpf/error.hpp"

namespace {

// Types bigger than this are compiled but not formatted: formatting and parsing back a
// 40 KiB array (execs.bpf.o has one) takes a tenth of a second under ASan, and the fuzzer
// would spend its time there instead of on the type graph.
constexpr std::size_t kMaxValue = 4096;

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "btf_blob_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4) return 0;
    std::uint32_t len = 0;
    std::memcpy(&len, data, 4);
    data += 4;
    size -= 4;
    if (len > size) return 0;
    ::btf* raw = btf__new(data, len);
    if (!raw) return 0;  // libbpf refused it: nothing of ours ran
    ebpf::Btf btf(raw);
    const std::uint8_t* tail = data + len;
    const std::size_t tail_size = size - len;

    const std::uint32_t count = btf__type_cnt(btf.get());
    for (std::uint32_t id = 1; id < count && id < 512; ++id) {
        try {
            (void)btf.type_name(id);
        } catch (const ebpf::Error&) {
        }
        std::optional<ebpf::BtfFormatter> formatter;
        try {
            formatter.emplace(btf, id);
        } catch (const ebpf::Error&) {
            continue;  // no layout (void, fwd, func) or a type the formatter refuses
        }
        try {
            for (const ebpf::BtfLeaf& leaf : ebpf::btf_leaves(btf, id))
                if (leaf.offset > formatter->size() || leaf.size > formatter->size() - leaf.offset)
                    fail("btf_leaves gave a leaf outside its type", std::to_string(id));
        } catch (const ebpf::Error&) {
        }
        if (formatter->size() > kMaxValue) continue;
        std::vector<std::byte> value(formatter->size());
        for (std::size_t i = 0; i < value.size() && tail_size; ++i) value[i] = std::byte{tail[i % tail_size]};
        std::string text = formatter->format(value, ebpf::Style::text);
        std::string json_text = formatter->format(value, ebpf::Style::json);
        nlohmann::json json = nlohmann::json::parse(json_text, nullptr, false);
        if (json.is_discarded()) fail("BtfFormatter wrote invalid JSON", json_text);
        try {
            auto back = ebpf::btf_parse(btf, id, json);
            if (back.size() != value.size()) fail("btf_parse returned the wrong number of bytes", json_text);
        } catch (const ebpf::Error&) {
        }
    }
    return 0;
}
