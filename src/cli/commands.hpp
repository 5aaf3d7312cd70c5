// Subcommand registration: each adds itself to the app and runs from its callback. The
// table of commands is in main.cpp (kCommands): a new command is its add_* function here
// and one row there.
#pragma once

#include <CLI/CLI.hpp>

#include "common.hpp"

namespace ebpf_tool {

void add_execs_command(CLI::App& app, const GlobalOptions& global);
void add_stats_command(CLI::App& app, const GlobalOptions& global);
void add_events_command(CLI::App& app, const GlobalOptions& global);
void add_map_command(CLI::App& app, const GlobalOptions& global);
void add_run_command(CLI::App& app, const GlobalOptions& global);
void add_proto_command(CLI::App& app, const GlobalOptions& global);
void add_conns_command(CLI::App& app, const GlobalOptions& global);
void add_serve_command(CLI::App& app, const GlobalOptions& global);

}  // namespace ebpf_tool
