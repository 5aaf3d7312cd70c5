# bpf_object(NAME SOURCE)
#
# Compiles bpf/NAME.bpf.c with clang (-target bpf -mcpu=v3 -g -O2, CO-RE; v3 for 32-bit
# atomics such as __sync_fetch_and_or, kernel 5.12+), links it through
# `bpftool gen object` (which drops DWARF and keeps BTF), and turns the result into a
# libbpf skeleton NAME.skel.h that embeds the object. The INTERFACE target NAME_skel
# carries the include path; link it and `#include "NAME.skel.h"`.
#
# Header dependencies come from clang's own depfile, so editing anything under
# bpf/shared/ rebuilds every object that includes it (unlike a wildcard rule).

find_program(BPF_CLANG NAMES clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(BPF_OUTPUT_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_OUTPUT_DIR})

# vmlinux.h describes the running kernel's types (from its BTF): CO-RE relocates
# field accesses at load time, so the objects also run on other kernels with BTF.
set(BPF_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF used to generate vmlinux.h")
add_custom_command(
  OUTPUT ${BPF_OUTPUT_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${BPF_VMLINUX_BTF} format c > ${BPF_OUTPUT_DIR}/vmlinux.h
  DEPENDS ${BPF_VMLINUX_BTF}
  COMMENT "Generating vmlinux.h from ${BPF_VMLINUX_BTF}"
  VERBATIM)
add_custom_target(bpf_vmlinux_h DEPENDS ${BPF_OUTPUT_DIR}/vmlinux.h)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

# bpf_compile(NAME SOURCE): only the clang step, as a user compiles an object by hand;
# makes ${BPF_OUTPUT_DIR}/NAME.o and a target NAME_bpf_o that builds it.
function(bpf_compile name source)
  get_filename_component(src ${source} ABSOLUTE)
  set(out ${BPF_OUTPUT_DIR}/${name}.o)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Werror
            -I${BPF_OUTPUT_DIR} -I${PROJECT_SOURCE_DIR}/bpf -I${PROJECT_SOURCE_DIR}/bpf/shared
            -MD -MF ${out}.d -c ${src} -o ${out}
    DEPENDS ${src} ${BPF_OUTPUT_DIR}/vmlinux.h
    DEPFILE ${out}.d
    COMMENT "BPF ${name}: clang"
    VERBATIM)
  add_custom_target(${name}_bpf_o DEPENDS ${out})
endfunction()

function(bpf_object name source)
  set(raw ${BPF_OUTPUT_DIR}/${name}.tmp.bpf.o)
  set(obj ${BPF_OUTPUT_DIR}/${name}.bpf.o)
  set(skel ${BPF_OUTPUT_DIR}/${name}.skel.h)

  bpf_compile(${name}.tmp.bpf ${source})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPFTOOL} gen object ${obj} ${raw}
    DEPENDS ${raw}
    COMMENT "BPF ${name}: bpftool gen object"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF ${name}: bpftool gen skeleton"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel} ${obj})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  # SYSTEM: the generated skeleton is C-style code that our C++ warnings would reject.
  target_include_directories(${name}_skel SYSTEM INTERFACE ${BPF_OUTPUT_DIR})
  target_include_directories(${name}_skel INTERFACE ${PROJECT_SOURCE_DIR}/bpf/shared)
  set_property(GLOBAL APPEND PROPERTY EBPF_BPF_OBJECTS ${obj})
endfunction()
