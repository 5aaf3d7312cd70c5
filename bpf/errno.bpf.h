/* The few errno values kernel programs compare against (vmlinux.h has no macros). */
#ifndef EBPF_TOOL_ERRNO_BPF_H
#define EBPF_TOOL_ERRNO_BPF_H
#define ENOENT 2
#define E2BIG 7
#define ENOMEM 12
#define EEXIST 17
#endif
