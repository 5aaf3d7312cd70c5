// ebpf-tool: one binary, one subcommand per job. Errors are caught here, once, and mapped
// to exit codes: 2 for usage, 1 for anything that failed at run time.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"
#include "ebpf/error.hpp"

namespace {

using namespace ebpf_tool;

// Every command, in the order --help lists them. Adding a command is one row.
struct Command {
    void (*add)(CLI::App& app, const GlobalOptions& global);
};
constexpr Command kCommands[] = {
    {add_execs_command}, {add_stats_command}, {add_events_command}, {add_map_command}, {add_run_command},
    {add_proto_command}, {add_conns_command}, {add_serve_command},
};

}  // namespace

int main(int argc, char** argv) {
    GlobalOptions global;
    CLI::App app{"ebpf-tool: eBPF maps, counted exactly", "ebpf-tool"};
    app.set_version_flag("--version", "ebpf-tool 0.1.0");
    app.require_subcommand(1);
    app.add_flag("-j,--json", global.json, "JSON output (before the subcommand, as bpftool takes it)");
    app.add_flag("-p,--pretty", global.pretty, "Indented JSON (implies --json)");
    app.add_flag("-v,--verbose", global.verbose, "Show libbpf's own log on stderr");
    for (const Command& command : kCommands) command.add(app, global);
    app.parse_complete_callback([&global] {
        if (global.pretty) global.json = true;
    });

    try {
        // A first word that is neither an option nor a command is a typo: say so.
        if (argc > 1 && argv[1][0] != '-') {
            auto commands = app.get_subcommands([](CLI::App*) { return true; });
            std::string names;
            bool known = false;
            for (const auto* command : commands) {
                known = known || command->check_name(argv[1]);
                names += (names.empty() ? "" : ", ") + command->get_name();
            }
            if (!known) throw UsageError(std::string("unknown command '") + argv[1] + "' (commands: " + names + ")");
        }
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::CallForVersion&) {
        std::cout << "ebpf-tool 0.1.0\n";
        return 0;
    } catch (const CLI::ParseError& e) {
        std::cerr << "ebpf-tool: " << e.what() << " (see --help)\n";
        return 2;
    } catch (const UsageError& e) {
        std::cerr << "ebpf-tool: " << e.what() << '\n';
        return 2;
    } catch (const ebpf::Error& e) {
        std::cerr << "ebpf-tool: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "ebpf-tool: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
