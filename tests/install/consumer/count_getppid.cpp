// Loads count_getppid.bpf.o, attaches its program, calls getppid() 1000 times, reads
// this process's count from the typed map, and checks that calls after detaching are
// not counted. Run as root: ./count_getppid path/to/count_getppid.bpf.o
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include <ebpf/hash_map.hpp>
#include <ebpf/object.hpp>
#include <ebpf/system.hpp>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s COUNT_GETPPID.bpf.o\n", argv[0]);
        return 2;
    }
    try {
        ebpf::system::prepare();  // privileges, memlock, bpffs and tracefs

        auto object = ebpf::Object::open_file(argv[1]);
        object.load();
        auto calls = object.map<ebpf::HashMap<std::uint32_t, std::uint64_t>>("calls");  // sizes checked here

        {
            ebpf::Link link = object.program("count_getppid").attach();
            for (int i = 0; i < 1000; ++i) ::syscall(SYS_getppid);
        }  // the link goes: the program is detached
        for (int i = 0; i < 10; ++i) ::syscall(SYS_getppid);  // not counted

        const auto pid = static_cast<std::uint32_t>(::getpid());
        const std::uint64_t counted = calls.lookup(pid).value_or(0);  // a miss is nullopt
        std::printf("getppid() calls counted: %llu\n", static_cast<unsigned long long>(counted));
        return counted == 1000 ? 0 : 1;
    } catch (const ebpf::Error& e) {
        std::fprintf(stderr, "count_getppid: %s\n", e.what());
        return 1;
    }
}
