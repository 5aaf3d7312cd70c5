// make_server(): finds and loads ebpf-tool-http.so (http_server.hpp).
#include "http_server.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "ebpf/error.hpp"

namespace ebpf_tool::http {

namespace {

using NewServer = Server* (*)(const ServerOptions*);

constexpr const char* kModule = "ebpf-tool-http.so";

// Loaded once and never unloaded: the servers it makes run its code until the process ends.
NewServer load_module() {
    static std::once_flag once;
    static NewServer entry = nullptr;
    static std::string failure;
    std::call_once(once, [] {
        std::error_code ec;
        const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
        if (ec || !exe.is_absolute()) {
            // Never relative to the working directory: root would load whatever lies there.
            failure = "serve: cannot find its HTTP server module: /proc/self/exe: " +
                      (ec ? ec.message() : std::string("not an absolute path"));
            return;
        }
        const auto exe_dir = exe.parent_path();
        std::string tried;
        for (const auto& dir : {exe_dir, exe_dir / EBPF_TOOL_HTTP_MODULE_DIR}) {
            const auto path = (dir / kModule).lexically_normal();
            if (::access(path.c_str(), F_OK) != 0) {
                tried += (tried.empty() ? "" : ", ") + path.string();
                continue;
            }
            void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (!handle) {
                failure = "serve: cannot load its HTTP server: " + std::string(::dlerror());
                return;
            }
            entry = reinterpret_cast<NewServer>(::dlsym(handle, "ebpf_tool_http_new_server"));
            if (!entry) failure = "serve: " + path.string() + " is not ebpf-tool's HTTP server module";
            return;
        }
        failure = "serve: cannot find its HTTP server module " + std::string(kModule) + " (looked for " + tried + ")";
    });
    if (!entry) throw ebpf::Error::make(ebpf::errc::system, failure);
    return entry;
}

}  // namespace

namespace {

// The module's server, with every handler's exceptions caught on this side of the boundary.
class GuardedServer final : public Server {
public:
    explicit GuardedServer(std::unique_ptr<Server> server) : server_(std::move(server)) {}
    void route(const std::string& path, Handler handler) override {
        server_->route(path, [handler = std::move(handler)](const Request& request) -> Response {
            try {
                return handler(request);
            } catch (...) {
                static const auto body = std::make_shared<const std::string>("500 internal server error\n");
                return {"text/plain; charset=utf-8", body, 500};
            }
        });
    }
    int bind(const std::string& host, int port) override { return server_->bind(host, port); }
    bool listen_after_bind(std::string& failure) override { return server_->listen_after_bind(failure); }
    bool is_running() const override { return server_->is_running(); }
    void stop() override { server_->stop(); }

private:
    std::unique_ptr<Server> server_;
};

}  // namespace

std::unique_ptr<Server> make_server(const ServerOptions& options) {
    std::unique_ptr<Server> server(load_module()(&options));
    if (!server) throw ebpf::Error::make(ebpf::errc::system, "serve: its HTTP server module could not make a server");
    return std::make_unique<GuardedServer>(std::move(server));
}

}  // namespace ebpf_tool::http
