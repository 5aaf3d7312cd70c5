// Test support: run a command with its output captured, wait for a line it prints,
// signal it, and collect its exit status. Used to drive ebpf-tool as a user would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace test {

struct Result {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
};

class Process {
public:
    explicit Process(const std::vector<std::string>& argv);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    // Reads output until stderr contains `text`; false on timeout or exit.
    bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Reads output until `done(stdout so far)` is true; false on timeout or exit.
    bool wait_for_stdout(const std::function<bool(const std::string&)>& done,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));
    void signal(int sig);
    // What the process wrote on stderr so far (as read by the wait_for_* calls).
    const std::string& err() const { return err_; }
    // Closes the test's end of the process's stdout: its next write fails (EPIPE, SIGPIPE),
    // as when the reader of a pipeline (`| head`) has gone.
    void close_stdout();
    // Reads everything until exit; kills the process after `timeout`.
    Result finish(std::chrono::milliseconds timeout = std::chrono::seconds(60));

private:
    bool pump(std::chrono::milliseconds timeout);  // one poll round; false at EOF of both
    pid_t pid_ = -1;
    int out_fd_ = -1, err_fd_ = -1;
    std::string out_, err_;
    bool reaped_ = false;
};

// Runs to completion.
Result run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Splits text into lines (no empty trailing line).
std::vector<std::string> lines(const std::string& text);

}  // namespace test
