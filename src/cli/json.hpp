// The CLI's one JSON writer. Every command's JSON is compact text — from
// nlohmann::ordered_json::dump() for small documents, from EntryFormatter / BtfFormatter
// for map entries — and reaches the output through a JsonWriter, which passes it on as it
// is or, with -p, indents it. Indenting streams over the text (no tree, no re-parse), so
// a million-entry dump prints in constant memory either way, and -p looks the same for
// every command (nlohmann's dump(2) layout: two spaces, "key": value, {} and [] empty).
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <string_view>

namespace ebpf_tool {

struct GlobalOptions;

class JsonWriter {
public:
    // Appends to `out` (which the caller may flush and clear between writes).
    JsonWriter(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}

    // Compact JSON text, in pieces split anywhere (mid-string too); whitespace between
    // tokens is dropped when indenting, kept otherwise.
    void write(std::string_view json) {
        if (pretty_)
            indent(json);
        else
            out_.append(json);
    }
    void document(const nlohmann::ordered_json& doc) { write(std::string_view(doc.dump())); }

private:
    void indent(std::string_view json);
    void newline(int depth);

    std::string& out_;
    bool pretty_;
    int depth_ = 0;
    bool in_string_ = false;
    bool escaped_ = false;
    bool open_ = false;  // a '{' or '[' written, its newline held until we know it is not empty
};

// A JSON string literal: `s` quoted and escaped (nlohmann's escaping).
std::string json_string(std::string_view s);

// One document, then a newline; indented with -p.
void print_json(std::ostream& out, const nlohmann::ordered_json& doc, const GlobalOptions& global);

}  // namespace ebpf_tool
