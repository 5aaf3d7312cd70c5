./build/count_getppid build/bpf/count_getppid.bpf.o
