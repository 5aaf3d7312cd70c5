// The CLI's one JSON writer (src/cli/json.*): compact text passes through unchanged, and
// -p indents it exactly as nlohmann's dump(2) lays a document out, whatever pieces the
// text comes in — so every command's -p output looks the same, and a streamed map dump
// needs no tree to be indented.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "json.hpp"

namespace {

using nlohmann::ordered_json;
using ebpf_tool::JsonWriter;

std::string indented(std::string_view text, std::size_t piece) {
    std::string out;
    JsonWriter writer(out, true);
    for (std::size_t at = 0; at < text.size(); at += piece) writer.write(text.substr(at, piece));
    return out;
}

const char* const kDocuments[] = {
    R"({"time":"2026-12-02T19:00:00Z","users":[{"uid":0,"user":"root","count":12},{"uid":1000,"user":null,"count":0}],"dropped":0})",
    R"([])",
    R"({})",
    R"({"a":{},"b":[],"c":[[]],"d":[{}],"e":[1,2.5,-3e+300,true,false,null]})",
    R"({"key: with, [brackets] {and} \"quotes\"":"value \\ \"x\" , : { [","esc":"\u0001\t"})",
    R"("just a string")",
    R"(42)",
};

TEST(JsonWriter, CompactTextPassesThroughUnchanged) {
    for (const char* doc : kDocuments) {
        std::string out = "prefix ";
        JsonWriter(out, false).write(doc);
        EXPECT_EQ(out, std::string("prefix ") + doc);
    }
}

TEST(JsonWriter, IndentsAsNlohmannDumpsInAnyPieces) {
    for (const char* doc : kDocuments) {
        const std::string expected = ordered_json::parse(doc).dump(2);
        for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{4096}})
            EXPECT_EQ(indented(doc, piece), expected) << doc << " in pieces of " << piece;
    }
}

TEST(JsonWriter, IndentsTheFormattersSpacedTextTheSameWay) {
    // BtfFormatter writes {"a": 1, "b": [1, 2]}: its spaces give way to the layout.
    const std::string spaced = R"({"src": {"addr": [10, 0, 0, 1], "port": 443}, "comm": "a, b: {c}", "e": {}})";
    EXPECT_EQ(indented(spaced, 5), ordered_json::parse(spaced).dump(2));
}

TEST(JsonWriter, DocumentsAndStringsAreCompactOrIndented) {
    const ordered_json doc{{"name", "x\"y"}, {"list", {1, 2}}};
    std::string compact, pretty;
    JsonWriter(compact, false).document(doc);
    JsonWriter(pretty, true).document(doc);
    EXPECT_EQ(compact, R"({"name":"x\"y","list":[1,2]})");
    EXPECT_EQ(pretty, doc.dump(2));
    EXPECT_EQ(ebpf_tool::json_string("a\"b\\c\n"), R"("a\"b\\c\n")");
}

}  // namespace
