#include "kernel.hpp"

#include <bpf/bpf.h>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace test {

std::string tool_path() {
    return EBPF_TOOL_PATH;
}

int first_usable_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &set)) return cpu;
    return 0;
}

bool exec_as(unsigned uid, int n, bool use_execveat, int cpu) {
    pid_t child = fork();
    if (child < 0) return false;
    if (child == 0) {
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            if (sched_setaffinity(0, sizeof(set), &set)) _exit(99);
        }
        if (setgroups(0, nullptr) || setgid(uid) || setuid(uid)) _exit(100);
        for (int i = 0; i < n; ++i) {
            pid_t p = fork();
            if (p == 0) {
                std::string index = std::to_string(i);
                char* argv[] = {const_cast<char*>("/bin/true"), const_cast<char*>("ebpf-test"), index.data(), nullptr};
                if (use_execveat)
                    syscall(SYS_execveat, AT_FDCWD, argv[0], argv, environ, 0);
                else
                    execv(argv[0], argv);
                _exit(101);
            }
            int status = 0;
            if (p < 0 || waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) _exit(102);
        }
        _exit(0);
    }
    int status = 0;
    return waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace test
