// Why the kernel refused a program, for people: the verifier's verdict and the few
// instructions (with their source lines, when the object has line info) that led to it,
// picked out of the verifier's log, which is often thousands of lines long.
#pragma once

#include <bpf/libbpf.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ebpf/error.hpp"

namespace ebpf {

struct VerifierSummary {
    // The verifier's verdict: "R0 invalid mem access 'map_value_or_null'" (sometimes two
    // lines, e.g. an access and the range it fell outside of).
    std::vector<std::string> verdict;
    // The last instructions before it, each preceded by its source line ("; … @ file.c:12")
    // where the log has one, oldest first.
    std::vector<std::string> context;
};

// Picks the verdict and at most `max_context` lines of context out of a verifier log
// (log level 1: the path that failed). An empty log gives an empty summary.
VerifierSummary summarize_verifier_log(std::string_view log, std::size_t max_context = 12);

// Object::load's error when the verifier rejected a program. what() is at most ~20 lines:
// "object 'o': program 'p' (SEC("…")) rejected by the verifier: VERDICT" and the summary's
// context indented below it; log() is the verifier's whole log.
class VerifierError : public Error {
public:
    VerifierError(int errno_value, const std::string& object, const std::string& program, const std::string& section,
                  std::string log);

    const std::string& program() const noexcept { return program_; }
    const std::string& section() const noexcept { return section_; }
    const std::string& log() const noexcept { return log_; }
    const VerifierSummary& summary() const noexcept { return summary_; }

private:
    std::string program_, section_, log_;
    VerifierSummary summary_;
};

// Loads the object (bpf_object__load) and, when the verifier rejects a program, throws
// VerifierError with its log, captured through each program's log buffer (programs whose
// caller set a log buffer of their own keep it, and their log is read from there). Other
// failures throw Error::sys(errno, "object 'NAME': load"). `load`, when given, does the loading
// instead of bpf_object__load (a skeleton's __load, which also maps its globals); it
// returns 0 or a negative errno.
void load_object(::bpf_object* object, const std::string& name, const std::function<int()>& load = {});

// The names of the ELF sections of the object file at `path` (empty when it cannot be
// read as ELF). Object::open_file uses it to tell an object without BTF (no ".BTF",
// compiled without -g) from other failures.
std::vector<std::string> elf_section_names(const std::string& path);

}  // namespace ebpf
