#include "json.hpp"

#include <ostream>

#include "common.hpp"

namespace ebpf_tool {

void JsonWriter::newline(int depth) {
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth) * 2, ' ');
}

void JsonWriter::indent(std::string_view json) {
    for (const char c : json) {
        if (in_string_) {
            out_ += c;
            if (escaped_)
                escaped_ = false;
            else if (c == '\\')
                escaped_ = true;
            else if (c == '"')
                in_string_ = false;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
        if (open_) {
            open_ = false;
            if (c == '}' || c == ']') {  // empty: "{}" / "[]"
                --depth_;
                out_ += c;
                continue;
            }
            newline(depth_);
        }
        switch (c) {
            case '{':
            case '[':
                out_ += c;
                ++depth_;
                open_ = true;
                break;
            case '}':
            case ']':
                newline(--depth_);
                out_ += c;
                break;
            case ',':
                out_ += ',';
                newline(depth_);
                break;
            case ':':
                out_ += ": ";
                break;
            case '"':
                in_string_ = true;
                out_ += c;
                break;
            default:
                out_ += c;
        }
    }
}

std::string json_string(std::string_view s) {
    return nlohmann::ordered_json(std::string(s)).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void print_json(std::ostream& out, const nlohmann::ordered_json& doc, const GlobalOptions& global) {
    std::string text;
    JsonWriter(text, global.pretty).document(doc);
    text += '\n';
    out << text;
    out.flush();
}

}  // namespace ebpf_tool
