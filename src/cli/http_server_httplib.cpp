// ebpf-tool-http.so: http_server.hpp's Server on cpp-httplib, with a fixed pool of worker
// threads. Built as a module that only `serve` loads (see http_server.hpp for why).
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "http_server.hpp"

namespace {

using ebpf_tool::http::Handler;
using ebpf_tool::http::ServerOptions;

class HttplibServer final : public ebpf_tool::http::Server {
public:
    explicit HttplibServer(const ServerOptions& options) {
        const std::size_t workers = options.workers;
        server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
        // A client that stops reading or writing gives its worker back within seconds.
        server_.set_read_timeout(options.read_timeout_seconds, 0);
        server_.set_write_timeout(options.write_timeout_seconds, 0);
        server_.set_keep_alive_timeout(options.keep_alive_seconds);
        server_.set_payload_max_length(options.max_request_body);
        // httplib's default socket options add SO_REUSEPORT, with which a second exporter
        // on the same port would bind too and take half the scrapes.
        server_.set_socket_options([](int sock) {
            int yes = 1;
            ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        });
        // Answered before any request body is read.
        server_.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
            if (request.method == "GET" || request.method == "HEAD")
                return httplib::Server::HandlerResponse::Unhandled;
            if (paths_.count(request.path)) {
                response.status = 405;
                response.set_header("Allow", "GET, HEAD");
                response.set_content("405 method not allowed\n", "text/plain; charset=utf-8");
            } else {
                response.status = 404;
                response.set_content("404 page not found\n", "text/plain; charset=utf-8");
            }
            return httplib::Server::HandlerResponse::Handled;
        });
        server_.set_error_handler([](const httplib::Request&, httplib::Response& response) {
            if (response.body.empty())
                response.set_content(std::to_string(response.status) +
                                         (response.status == 404 ? " page not found\n" : " bad request\n"),
                                     "text/plain; charset=utf-8");
        });
        server_.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
            response.status = 500;
            response.set_content("500 internal server error\n", "text/plain; charset=utf-8");
        });
    }

    // noexcept: nothing may unwind into the binary. Only running out of memory could throw
    // here (the paths are serve's own, none that httplib's regex refuses), and that ends
    // the process in std::terminate.
    void route(const std::string& path, Handler handler) noexcept override {
        paths_.insert(path);
        server_.Get(path, [handler = std::move(handler)](const httplib::Request& request, httplib::Response& response) {
            auto answer = handler({request.get_header_value("Accept")});  // never throws (GuardedServer)
            response.status = answer.status;
            auto body = std::move(answer.body);
            if (!body) body = std::make_shared<const std::string>();
            if (answer.status >= 400) {
                // An error page is one short line, and httplib's error handler (above) only
                // keeps a body it can see, not a content provider.
                response.set_content(*body, answer.content_type);
                return;
            }
            // set_content() would copy the whole body once more.
            response.set_content_provider(body->size(), answer.content_type,
                                          [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                              return sink.write(body->data() + offset,
                                                                std::min<std::size_t>(length, 256 * 1024));
                                          });
        });
    }

    int bind(const std::string& host, int port) override {
        try {
            errno = 0;
            if (port == 0) return server_.bind_to_any_port(host);
            return server_.bind_to_port(host, port) ? port : -1;
        } catch (...) {
            if (errno == 0) errno = EINVAL;
            return -1;
        }
    }
    bool listen_after_bind(std::string& failure) override {
        try {
            return server_.listen_after_bind();
        } catch (const std::exception& e) {  // std::system_error: the workers could not start
            failure = e.what();
        } catch (...) {
            failure = "unknown error";
        }
        return false;
    }
    bool is_running() const override { return server_.is_running(); }
    void stop() override { server_.stop(); }

private:
    httplib::Server server_;
    std::set<std::string> paths_;  // written before the server runs, then only read
};

}  // namespace

extern "C" __attribute__((visibility("default"))) ebpf_tool::http::Server* ebpf_tool_http_new_server(
    const ebpf_tool::http::ServerOptions* options) {
    try {
        return new HttplibServer(*options);
    } catch (...) {
        return nullptr;  // no exception leaves the module (http_server.hpp)
    }
}
