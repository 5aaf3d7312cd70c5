#include "bench_report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bench {

namespace {

std::string read_report(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.empty())
        text =
            "# Benchmarks\n\nWritten by `make bench` from real runs on the machine named in each section; "
            "never edited by hand. Ratios compare programs measured in the same run.\n";
    return text;
}

void place_section(const std::string& path, const std::string& id, const std::string& markdown, bool first) {
    std::string text = read_report(path);
    const std::string begin = "<!-- bench:" + id + " -->", end = "<!-- /bench:" + id + " -->";
    std::string block = begin + "\n" + markdown + end;
    auto b = text.find(begin), e = text.find(end);
    if (b != std::string::npos && e != std::string::npos && e > b) {
        text.replace(b, e + end.size() - b, block);
    } else if (auto other = text.find("<!-- bench:"); first && other != std::string::npos) {
        text.insert(other, block + "\n\n");
    } else {
        text += (text.ends_with("\n\n") ? "" : "\n") + block + "\n";
    }
    // A report that silently went nowhere would look like a benchmark that ran.
    std::ofstream out(path);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

// Tabs and line breaks would break the one-row-per-line file.
std::string one_field(std::string s) {
    for (char& c : s)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return s;
}

}  // namespace

bool tiny() {
    const char* v = std::getenv("BENCH_TINY");
    return v != nullptr && std::string(v) == "1";
}

void write_section(const std::string& path, const std::string& id, const std::string& markdown) {
    place_section(path, id, markdown, false);
}

void write_first_section(const std::string& path, const std::string& id, const std::string& markdown) {
    place_section(path, id, markdown, true);
}

void summary_row(const std::string& benchmark, const std::string& ours, const std::string& best_peer, double ratio,
                 const std::string& goal, bool met) {
    const char* path = std::getenv("BENCH_SUMMARY");
    if (path == nullptr || *path == '\0') return;
    char r[32];
    std::snprintf(r, sizeof(r), "%.2f×", ratio);
    std::ofstream out(path, std::ios::app);
    out << one_field(benchmark) << '\t' << one_field(ours) << '\t' << one_field(best_peer) << '\t' << r << '\t'
        << one_field(goal) << '\t' << (met ? "met" : "**missed**") << '\n';
    // A row that cannot be written would be missing from the summary without a word.
    if (!out.flush()) throw std::runtime_error(std::string("cannot append a summary row to ") + path);
}

std::vector<SummaryRow> read_summary(const std::string& path) {
    std::vector<SummaryRow> rows;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> f;
        std::size_t at = 0;
        for (std::size_t tab; (tab = line.find('\t', at)) != std::string::npos; at = tab + 1)
            f.push_back(line.substr(at, tab - at));
        f.push_back(line.substr(at));
        if (f.size() != 6) continue;
        SummaryRow row{f[0], f[1], f[2], f[3], f[4], f[5]};
        std::erase_if(rows, [&](const SummaryRow& old) { return old.benchmark == row.benchmark; });
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string summary_markdown(const std::vector<SummaryRow>& rows) {
    std::string md = "## Summary: ours against the best peer\n\n";
    md += machine_line() +
          ". One row per goal, from the benchmarks below (each section's first line says when it ran; `make bench` "
          "runs them all in one go, and a benchmark rerun alone replaces its own rows). The machine is shared "
          "with other work: ratios come from one run each and are noisy. Ratio = ours ÷ best peer (time or "
          "cost: lower is better; for throughput the row says so).\n\n";
    md += "| benchmark | ours | best peer | ratio | goal | met |\n|---|---|---|---:|---|---|\n";
    for (const auto& r : rows)
        md += "| " + r.benchmark + " | " + r.ours + " | " + r.best_peer + " | " + r.ratio + " | " + r.goal + " | " +
              r.met + " |\n";
    return md;
}

std::string machine_line() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char date[64];
    std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
    utsname u{};
    uname(&u);
    std::string model;
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);)
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    std::ostringstream out;
    out << date << ", kernel " << u.release << ", " << sysconf(_SC_NPROCESSORS_ONLN) << " CPUs"
        << (model.empty() ? "" : " (" + model + ")");
    return out.str();
}

}  // namespace bench
