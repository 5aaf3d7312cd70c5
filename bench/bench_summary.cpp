// The last step of `make bench`: the summary rows every benchmark appended to
// $BENCH_SUMMARY, printed as one table and written as the first section of BENCHMARKS.md.
//
// usage: bench_summary SUMMARY_FILE BENCHMARKS.md
#include <exception>
#include <iostream>

#include "bench_report.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: bench_summary SUMMARY_FILE BENCHMARKS.md\n";
        return 2;
    }
    auto rows = bench::read_summary(argv[1]);
    if (rows.empty()) {
        std::cerr << "bench_summary: no summary rows in " << argv[1] << "; BENCHMARKS.md not written\n";
        return 1;
    }
    const std::string md = bench::summary_markdown(rows);
    try {
        bench::write_first_section(argv[2], "summary", md);
    } catch (const std::exception& e) {
        std::cerr << "bench_summary: " << e.what() << '\n';
        return 1;
    }
    std::cout << '\n' << md;
    return 0;
}
