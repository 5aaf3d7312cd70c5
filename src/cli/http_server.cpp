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

std::unique_ptr<Server> make_server(const ServerOptions& options) {
    return std::unique_ptr<Server>(load_module()(&options));
}

}  // namespace ebpf_tool::http
