# This repository's BPF programs: the installed helper (ebpfBpfObject.cmake, what a
# consumer gets from find_package(ebpf)) plus the project's own choices — every object in
# one directory, bpf/ and bpf/shared/ on the include path, vmlinux.h, and -Wall -Werror
# (our programs compile warning-free; a consumer's need not).
#
#   bpf_object(NAME SOURCE)    ${BPF_OUTPUT_DIR}/NAME.bpf.o, NAME.skel.h, target NAME_skel
#   bpf_compile(NAME SOURCE)   the clang step alone, as a user compiles an object by hand:
#                              ${BPF_OUTPUT_DIR}/NAME.o and a target NAME_bpf_o that builds it
include(${CMAKE_CURRENT_LIST_DIR}/ebpfBpfObject.cmake)

if(NOT EBPF_BPF_CLANG OR NOT EBPF_BPFTOOL)
  message(FATAL_ERROR "building ebpf-tool needs clang and bpftool (scripts/install-deps.sh installs them)")
endif()

set(BPF_OUTPUT_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_OUTPUT_DIR})
set(_EBPF_PROJECT_BPF_OPTIONS VMLINUX_H
    INCLUDE_DIRECTORIES ${PROJECT_SOURCE_DIR}/bpf ${PROJECT_SOURCE_DIR}/bpf/shared
    COMPILE_OPTIONS -Wall -Werror -mcpu=v3)  # v3: 32-bit atomics (__sync_fetch_and_or), kernel 5.12+

function(bpf_compile name source)
  ebpf_bpf_compile(${BPF_OUTPUT_DIR}/${name}.o ${source} ${_EBPF_PROJECT_BPF_OPTIONS})
  add_custom_target(${name}_bpf_o DEPENDS ${BPF_OUTPUT_DIR}/${name}.o)
endfunction()

function(bpf_object name source)
  ebpf_bpf_object(${name} ${source} OUTPUT_DIRECTORY ${BPF_OUTPUT_DIR} ${_EBPF_PROJECT_BPF_OPTIONS})
endfunction()
