// What the Google Benchmark programs that compare a typed operation with its raw libbpf
// call share: the counters each benchmark reports (typed_ns, raw_ns, ratio), a reporter
// that keeps their medians over repetitions, and start-up with default flags.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct TypedVsRaw {
    double typed_ns = 0, raw_ns = 0, ratio = 0;
};

// Prints as usual and keeps, per benchmark, the median over repetitions of each counter.
class MedianCapture : public benchmark::ConsoleReporter {
public:
    std::map<std::string, TypedVsRaw> results;
    std::vector<std::string> errors;
    std::int64_t repetitions = 0;

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.error_occurred) {
                errors.push_back(run.run_name.function_name + ": " + run.error_message);
            } else if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
                auto counter = [&](const char* name) { return run.counters.at(name).value; };
                results[run.run_name.function_name] = {counter("typed_ns"), counter("raw_ns"), counter("ratio")};
                repetitions = run.repetitions;
            }
        }
    }
};

// Initializes Google Benchmark with `defaults` first, so that flags on the command line
// override them. Returns what is left of the command line (the program name first);
// `defaults` must outlive the call's use of the returned pointers.
inline std::vector<char*> initialize(int argc, char** argv, std::vector<std::string>& defaults) {
    std::vector<char*> args{argv[0]};
    for (auto& d : defaults) args.push_back(d.data());
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    int n = static_cast<int>(args.size());
    benchmark::Initialize(&n, args.data());
    args.resize(static_cast<std::size_t>(n));
    return args;
}

}  // namespace bench
