# Install rules for the library (headers, libebpf, ebpfConfig.cmake, ebpf.pc).
