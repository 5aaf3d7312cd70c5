// serve's HTTP server, behind an interface: its implementation (cpp-httplib, which Debian
// builds with OpenSSL and brotli) is a module of its own, ebpf-tool-http.so, loaded by
// make_server() when serve starts. Linked into ebpf-tool, those libraries and OpenSSL's
// initialisation cost every command ~9 ms of start-up, serve or not.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ebpf_tool::http {

struct Request {
    std::string accept;  // the Accept header
};

struct Response {
    std::string content_type;
    // Shared, and served in slices from here: a scrape's body can be tens of MiB.
    std::shared_ptr<const std::string> body;
    int status = 200;
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
    std::size_t workers = 8;
    int read_timeout_seconds = 5;
    int write_timeout_seconds = 5;
    int keep_alive_seconds = 2;
    std::size_t max_request_body = 64 * 1024;
};

// Pages answer GET and HEAD; another method on a page is 405 (with Allow), any other path
// 404, a handler's exception 500; every error body is one line of text. The socket gets
// SO_REUSEADDR only: a restart binds while old connections are in TIME_WAIT, a second
// live server on the same port does not.
class Server {
public:
    virtual ~Server() = default;
    virtual void route(const std::string& path, Handler handler) = 0;
    // The port bound (port 0: any free one), or -1 with errno set.
    virtual int bind(const std::string& host, int port) = 0;
    // Serves until stop(); false if the server could not run, with why in `failure` when
    // the server said (its worker threads could not start, say).
    virtual bool listen_after_bind(std::string& failure) = 0;
    virtual bool is_running() const = 0;
    virtual void stop() = 0;
};

// The binary and the module may each hold their own copy of the C++ runtime (ebpf-tool links
// libstdc++ statically, cpp-httplib needs the shared one), so no exception crosses between
// them: make_server() wraps every handler (an exception becomes a 500 response) and the
// module catches everything in its own code (a failure is a return value).
//
// Loads ebpf-tool-http.so — beside the ebpf-tool binary (the build tree), else where the
// install puts it (EBPF_TOOL_HTTP_MODULE_DIR, relative to the binary) — once per process.
// Throws ebpf::Error (errc::system) with dlopen's reason when it cannot.
std::unique_ptr<Server> make_server(const ServerOptions& options);

}  // namespace ebpf_tool::http

// The module's one entry point (make_server looks it up by this name).
extern "C" ebpf_tool::http::Server* ebpf_tool_http_new_server(const ebpf_tool::http::ServerOptions* options);
