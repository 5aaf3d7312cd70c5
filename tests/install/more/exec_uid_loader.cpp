// The vmlinux.h object: execs by a UID nobody else uses (given on the command line) are
// counted exactly. usage: exec_uid_loader UID N
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <ebpf/hash_map.hpp>
#include <ebpf/object.hpp>
#include <ebpf/system.hpp>

#include "exec_uid.skel.h"

EBPF_SKELETON(exec_uid_bpf);

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    const auto uid = static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10));
    const int n = std::atoi(argv[2]);
    try {
        ebpf::system::prepare();
        auto skel = ebpf::Skeleton<exec_uid_bpf>::open();
        skel.load();
        auto execs = ebpf::HashMap<std::uint32_t, std::uint64_t>::from_libbpf(skel->maps.execs);
        skel.attach();
        for (int i = 0; i < n; ++i) {
            pid_t child = ::fork();
            if (child == 0) {
                if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(127);
                ::execl("/bin/true", "true", static_cast<char*>(nullptr));
                ::_exit(127);
            }
            int status = 0;
            if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 1;
        }
        const auto counted = execs.lookup(uid).value_or(0);
        std::printf("exec_uid: uid %u: %llu execs\n", uid, static_cast<unsigned long long>(counted));
        return counted == static_cast<std::uint64_t>(n) ? 0 : 1;
    } catch (const ebpf::Error& e) {
        std::fprintf(stderr, "exec_uid_loader: %s\n", e.what());
        return 1;
    }
}
