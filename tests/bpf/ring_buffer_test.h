/* Records of tests/bpf/ring_buffer_test.bpf.c, shared with tests/kernel/ring_buffer_test.cpp. */
#ifndef EBPF_TOOL_TESTS_RING_BUFFER_TEST_H
#define EBPF_TOOL_TESTS_RING_BUFFER_TEST_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* One getppid() call of the target process. */
struct rb_test_event {
    __u64 seq; /* 0, 1, 2 … in call order */
    __u32 tgid;
    __u32 tid;
};

/* One getpgid(arg) call: a variable-size record of 8 + (arg % 17) bytes, whose tail
 * bytes are (seq + i) & 0xff, so the reader sees records of every length from 8 to 24. */
#define RB_TEST_TAIL_MAX 16
struct rb_test_tail {
    __u32 seq;
    __u32 len;
    __u8 bytes[RB_TEST_TAIL_MAX];
};

#endif
