#include "bench_report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace bench {

void write_section(const std::string& path, const std::string& id, const std::string& markdown) {
    std::string text;
    {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    if (text.empty())
        text = "# Benchmarks\n\nWritten by `make bench` from real runs on the machine named in each section; "
               "never edited by hand. Ratios compare programs measured in the same run.\n";
    const std::string begin = "<!-- bench:" + id + " -->", end = "<!-- /bench:" + id + " -->";
    std::string block = begin + "\n" + markdown + end;
    auto b = text.find(begin), e = text.find(end);
    if (b != std::string::npos && e != std::string::npos && e > b)
        text.replace(b, e + end.size() - b, block);
    else
        text += (text.ends_with("\n\n") ? "" : "\n") + block + "\n";
    std::ofstream(path) << text;
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
