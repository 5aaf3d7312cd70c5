// Everything the library offers, in one include. Prefer the per-concept headers in code
// that cares about build times; this one is for examples and quick programs.
#pragma once

#include "ebpf/array.hpp"
#include "ebpf/dev_map.hpp"
#include "ebpf/error.hpp"
#include "ebpf/fd.hpp"
#include "ebpf/fd_array.hpp"
#include "ebpf/hash_map.hpp"
#include "ebpf/lpm_trie.hpp"
#include "ebpf/map.hpp"
#include "ebpf/object.hpp"
#include "ebpf/percpu.hpp"
#include "ebpf/perf_buffer.hpp"
#include "ebpf/queue_stack.hpp"
#include "ebpf/ring_buffer.hpp"
#include "ebpf/stack_trace.hpp"
#include "ebpf/storage.hpp"
#include "ebpf/struct_ops.hpp"
#include "ebpf/syscalls.hpp"
#include "ebpf/system.hpp"
#include "ebpf/typed.hpp"
#include "ebpf/user_ring_buffer.hpp"
