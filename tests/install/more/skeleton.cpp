// A consumer's libbpf skeleton (ebpf_bpf_object): open, load, attach, count exactly.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include <ebpf/hash_map.hpp>
#include <ebpf/object.hpp>
#include <ebpf/system.hpp>

#include "getppid.skel.h"

EBPF_SKELETON(getppid_bpf);

int main() {
    try {
        ebpf::system::prepare();
        auto skel = ebpf::Skeleton<getppid_bpf>::open();
        skel.load();
        auto calls = ebpf::HashMap<std::uint32_t, std::uint64_t>::from_libbpf(skel->maps.calls);
        skel.attach();
        for (int i = 0; i < 321; ++i) ::syscall(SYS_getppid);
        const auto n = calls.lookup(static_cast<std::uint32_t>(::getpid())).value_or(0);
        std::printf("skeleton: %llu getppid() calls\n", static_cast<unsigned long long>(n));
        return n == 321 ? 0 : 1;
    } catch (const ebpf::Error& e) {
        std::fprintf(stderr, "skeleton: %s\n", e.what());
        return 1;
    }
}
