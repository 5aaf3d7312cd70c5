#include "ebpf/verifier.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <memory>

#include "ebpf/fd.hpp"

namespace ebpf {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// "12: (79) r1 = *(u64 *)(r0 +0)": an instruction; "12: R1=ctx() R10=fp0" is a state dump.
bool is_instruction(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    return i > 0 && starts_with(line.substr(i), ": (");
}

bool is_source(std::string_view line) {
    return starts_with(line, "; ");
}

// ";  @ file.c:0": compiler-made code with no source line of its own.
bool is_empty_source(std::string_view line) {
    return is_source(line) && (starts_with(line, ";  @ ") || line.size() <= 2);
}

// The end of the log: "processed N insns (limit …) …" and the statistics after it.
bool is_statistics(std::string_view line) {
    return starts_with(line, "processed ") || starts_with(line, "verification time") ||
           starts_with(line, "stack depth");
}

std::string clip(std::string_view line) {
    constexpr std::size_t kWidth = 160;  // state annotations can run for hundreds of columns
    if (line.size() <= kWidth) return std::string(line);
    return std::string(line.substr(0, kWidth)) + " …";
}

}  // namespace

VerifierSummary summarize_verifier_log(std::string_view log, std::size_t max_context) {
    VerifierSummary summary;
    auto lines = split_lines(log);
    // The statistics line closes the log of the failing path: the verdict is above it.
    std::size_t end = lines.size();
    for (std::size_t i = lines.size(); i-- > 0;) {
        if (starts_with(lines[i], "processed ")) {
            end = i;
            break;
        }
    }
    while (end > 0 && (lines[end - 1].empty() || is_statistics(lines[end - 1]))) --end;
    if (end == 0) return summary;
    // The verdict: what follows the last instruction (or the last line, if none follows).
    std::size_t last_insn = end;
    for (std::size_t i = end; i-- > 0;) {
        if (is_instruction(lines[i])) {
            last_insn = i;
            break;
        }
    }
    std::size_t verdict_begin = last_insn == end ? end - 1 : last_insn + 1;
    if (verdict_begin >= end) verdict_begin = end - 1;
    for (std::size_t i = verdict_begin; i < end; ++i)
        if (!lines[i].empty() && !is_source(lines[i])) summary.verdict.push_back(clip(lines[i]));
    if (summary.verdict.empty()) summary.verdict.push_back(clip(lines[end - 1]));
    // The context: instructions and their source lines, walking back from the verdict.
    std::vector<std::string> context;
    for (std::size_t i = std::min(last_insn + 1, end); i-- > 0 && context.size() < max_context;) {
        if (is_instruction(lines[i]) || (is_source(lines[i]) && !is_empty_source(lines[i])))
            context.push_back(clip(lines[i]));
    }
    // A source line cut off from its instruction says nothing: drop it.
    if (!context.empty() && context.size() == max_context && is_source(context.back())) context.pop_back();
    summary.context.assign(context.rbegin(), context.rend());
    return summary;
}

namespace {

std::string verifier_message(const std::string& object, const std::string& program, const std::string& section,
                             const VerifierSummary& summary) {
    std::string text =
        "object '" + object + "': program '" + program + "' (SEC(\"" + section + "\")) was rejected by the verifier";
    if (summary.verdict.empty()) return text + " (its log is empty)";
    text += ": " + summary.verdict.front();
    for (const auto& line : summary.context) text += "\n  " + line;
    for (const auto& line : summary.verdict) text += "\n  " + line;
    return text;
}

}  // namespace

VerifierError::VerifierError(int errno_value, const std::string& object, const std::string& program,
                             const std::string& section, std::string log)
    : Error(Error::make(errc::rejected, verifier_message(object, program, section, summarize_verifier_log(log)),
                        errno_value)),
      program_(program),
      section_(section),
      log_(std::move(log)),
      summary_(summarize_verifier_log(log_)) {}

void load_object(::bpf_object* object, const std::string& name, const std::function<int()>& load) {
    // One buffer serves every program: libbpf loads programs one at a time, and asks the
    // kernel for a log only when a load failed (it then retries with log level 1), so only
    // the program that failed writes into it. A log that does not fit keeps its end (the
    // kernel's log rotates), which is where the verdict is.
    constexpr std::size_t kLogSize = 16u << 20;
    std::unique_ptr<char[]> log(new char[kLogSize]);
    log[0] = '\0';
    std::vector<::bpf_program*> ours;
    ::bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, object) {
        std::size_t size = 0;
        if (bpf_program__log_buf(prog, &size)) continue;  // the caller's own buffer
        if (bpf_program__set_log_buf(prog, log.get(), kLogSize) == 0) ours.push_back(prog);
    }
    errno = 0;
    int ret = load ? load() : bpf_object__load(object);
    if (ret == 0) return;
    const int err = libbpf_errno(ret);
    // libbpf stops at the first program that fails: the first one to load that has no fd.
    bpf_object__for_each_program(prog, object) {
        if (!bpf_program__autoload(prog) || bpf_program__fd(prog) >= 0) continue;
        std::size_t size = 0;
        const char* buf = bpf_program__log_buf(prog, &size);
        if (!buf || size == 0 || buf[0] == '\0') break;  // not a verifier failure (maps, BTF, relocations)
        std::string text(buf, strnlen(buf, size));
        throw VerifierError(err, name, bpf_program__name(prog), bpf_program__section_name(prog), std::move(text));
    }
    throw Error::sys(err, "object '" + name + "': load");
}

std::vector<std::string> elf_section_names(const std::string& path) {
    std::vector<std::string> names;
    if (elf_version(EV_CURRENT) == EV_NONE) return names;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return names;
    std::unique_ptr<Elf, decltype(&elf_end)> elf(elf_begin(fd.get(), ELF_C_READ, nullptr), &elf_end);
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return names;
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf.get(), &shstrndx)) return names;
    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr)) continue;
        if (const char* name = elf_strptr(elf.get(), shstrndx, shdr.sh_name)) names.emplace_back(name);
    }
    return names;
}

}  // namespace ebpf
