# The BPF half. clang's BPF target has no system include directories of its own: give it
# the host's (as libbpf-bootstrap does), and the multiarch one for <asm/types.h>.
sys_includes=$(clang -v -E - </dev/null 2>&1 |
  sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
clang -g -O2 -target bpf $sys_includes -idirafter "/usr/include/$(gcc -print-multiarch)" \
  -c count_getppid.bpf.c -o count_getppid.bpf.o

# The user-space half.
g++ -std=c++20 -o count_getppid count_getppid.cpp $(pkg-config --cflags --libs ebpf)
