# Compiling BPF programs (.bpf.c) in a CMake project: installed with the ebpf package and
# included by find_package(ebpf), and used by this repository for its own programs.
#
#   ebpf_bpf_object(<name> <source>
#                   [VMLINUX_H]                        # generate vmlinux.h, put it on the include path
#                   [INCLUDE_DIRECTORIES <dir>...]     # for clang, and for users of <name>_skel
#                   [COMPILE_OPTIONS <option>...]      # extra clang options (e.g. -Werror)
#                   [OUTPUT_DIRECTORY <dir>])          # default: ${CMAKE_CURRENT_BINARY_DIR}/bpf
#
# compiles <source> with clang (-g -O2 -target bpf, BTF for CO-RE), links it with
# `bpftool gen object` (which keeps BTF and drops DWARF) into <dir>/<name>.bpf.o, and
# generates the libbpf skeleton <dir>/<name>.skel.h that embeds it. It defines
#   <name>_skel        an INTERFACE target: link it, then #include "<name>.skel.h"
#   <name>_BPF_OBJECT  (a variable in the caller's scope) the path of <name>.bpf.o, for
#                      ebpf::Object::open_file; also the EBPF_BPF_OBJECT property of <name>_skel
#
#   ebpf_bpf_compile(<output.o> <source> [VMLINUX_H] [INCLUDE_DIRECTORIES …] [COMPILE_OPTIONS …])
#
# is the clang step alone, as a user compiles an object by hand: it adds the custom
# command that makes <output.o>; make a target depend on that file to build it.
#
# <linux/bpf.h> and the other UAPI headers work: clang's -target bpf has no system include
# path of its own, so the host's (found by asking clang, `clang -v -E -`, as
# libbpf-bootstrap does, plus /usr/include/<multiarch> for <asm/types.h>) are added with
# -idirafter, after everything the project puts first. Header dependencies come from
# clang's depfile. No warning is an error unless COMPILE_OPTIONS says so.
#
# Cache variables: EBPF_BPF_CLANG (clang), EBPF_BPFTOOL (bpftool), EBPF_VMLINUX_BTF
# (the BTF vmlinux.h is generated from; default: the running kernel's).
include_guard(GLOBAL)

find_program(EBPF_BPF_CLANG NAMES clang DOC "clang that compiles BPF programs")
find_program(EBPF_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin DOC "bpftool (gen object, gen skeleton)")
set(EBPF_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "Kernel BTF that vmlinux.h is generated from")

# The BPF programs' idea of the architecture (bpf_tracing.h's PT_REGS_* need it).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i.86)$")
  set(_ebpf_bpf_arch x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(_ebpf_bpf_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(_ebpf_bpf_arch arm)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(ppc|powerpc)")
  set(_ebpf_bpf_arch powerpc)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^s390")
  set(_ebpf_bpf_arch s390)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^riscv")
  set(_ebpf_bpf_arch riscv)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^loongarch")
  set(_ebpf_bpf_arch loongarch)
else()
  set(_ebpf_bpf_arch ${CMAKE_SYSTEM_PROCESSOR})
endif()

function(_ebpf_bpf_require_tools)
  if(NOT EBPF_BPF_CLANG)
    message(FATAL_ERROR "ebpf_bpf_object: clang not found (install clang, or set EBPF_BPF_CLANG)")
  endif()
  if(NOT EBPF_BPFTOOL)
    message(FATAL_ERROR "ebpf_bpf_object: bpftool not found (install bpftool, or set EBPF_BPFTOOL)")
  endif()
endfunction()

# The host's system include directories as -idirafter options, found once per project.
function(_ebpf_bpf_system_includes out)
  get_property(known GLOBAL PROPERTY _EBPF_BPF_SYSTEM_INCLUDES SET)
  if(known)
    get_property(flags GLOBAL PROPERTY _EBPF_BPF_SYSTEM_INCLUDES)
    set(${out} "${flags}" PARENT_SCOPE)
    return()
  endif()
  execute_process(COMMAND ${EBPF_BPF_CLANG} -v -E -
                  INPUT_FILE /dev/null OUTPUT_QUIET ERROR_VARIABLE clang_log RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ebpf_bpf_object: `${EBPF_BPF_CLANG} -v -E -` failed:\n${clang_log}")
  endif()
  string(REPLACE "\n" ";" clang_lines "${clang_log}")
  set(dirs "")
  set(in_list FALSE)
  foreach(line IN LISTS clang_lines)
    if(line MATCHES "^#include <\\.\\.\\.> search starts here:")
      set(in_list TRUE)
    elseif(line MATCHES "^End of search list\\.")
      set(in_list FALSE)
    elseif(in_list)
      string(STRIP "${line}" dir)
      string(REGEX REPLACE " \\(framework directory\\)$" "" dir "${dir}")
      if(IS_DIRECTORY "${dir}")
        list(APPEND dirs "${dir}")
      endif()
    endif()
  endforeach()
  # <asm/types.h> lives under the multiarch directory, which clang only searches for its
  # host target: say it explicitly, in case the clang found is not the host's default.
  set(multiarch "${CMAKE_LIBRARY_ARCHITECTURE}")
  if(NOT multiarch)
    execute_process(COMMAND ${EBPF_BPF_CLANG} -print-multiarch OUTPUT_VARIABLE multiarch
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  if(multiarch AND IS_DIRECTORY "/usr/include/${multiarch}")
    list(APPEND dirs "/usr/include/${multiarch}")
  endif()
  list(REMOVE_DUPLICATES dirs)
  set(flags "")
  foreach(dir IN LISTS dirs)
    list(APPEND flags -idirafter ${dir})
  endforeach()
  set_property(GLOBAL PROPERTY _EBPF_BPF_SYSTEM_INCLUDES "${flags}")
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

# vmlinux.h for the whole build tree, made once: sets `out_dir` to its directory.
function(_ebpf_bpf_vmlinux_h out_dir)
  set(dir ${CMAKE_BINARY_DIR}/ebpf-vmlinux)
  get_property(made GLOBAL PROPERTY _EBPF_BPF_VMLINUX_H SET)
  if(NOT made)
    file(MAKE_DIRECTORY ${dir})
    # CO-RE: field offsets in vmlinux.h are relocated at load time, so objects built
    # against this kernel's types also run on other kernels with BTF.
    add_custom_command(
      OUTPUT ${dir}/vmlinux.h
      COMMAND ${EBPF_BPFTOOL} btf dump file ${EBPF_VMLINUX_BTF} format c > ${dir}/vmlinux.h.tmp
      COMMAND ${CMAKE_COMMAND} -E rename ${dir}/vmlinux.h.tmp ${dir}/vmlinux.h
      DEPENDS ${EBPF_VMLINUX_BTF}
      COMMENT "Generating vmlinux.h from ${EBPF_VMLINUX_BTF}"
      VERBATIM)
    add_custom_target(ebpf_vmlinux_h DEPENDS ${dir}/vmlinux.h)
    set_property(GLOBAL PROPERTY _EBPF_BPF_VMLINUX_H ${dir})
  endif()
  set(${out_dir} ${dir} PARENT_SCOPE)
endfunction()

function(ebpf_bpf_compile output source)
  cmake_parse_arguments(PARSE_ARGV 2 arg "VMLINUX_H" "" "INCLUDE_DIRECTORIES;COMPILE_OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ebpf_bpf_compile: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  _ebpf_bpf_require_tools()
  _ebpf_bpf_system_includes(system_includes)
  get_filename_component(src ${source} ABSOLUTE)
  get_filename_component(out ${output} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  get_filename_component(out_dir ${out} DIRECTORY)
  file(MAKE_DIRECTORY ${out_dir})

  set(includes "")
  foreach(dir IN LISTS arg_INCLUDE_DIRECTORIES)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND includes -I${dir})
  endforeach()
  set(depends ${src})
  if(arg_VMLINUX_H)
    _ebpf_bpf_vmlinux_h(vmlinux_dir)
    list(PREPEND includes -I${vmlinux_dir})
    list(APPEND depends ${vmlinux_dir}/vmlinux.h ebpf_vmlinux_h)
  endif()
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${EBPF_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${_ebpf_bpf_arch} ${arg_COMPILE_OPTIONS}
            ${includes} ${system_includes} -MD -MF ${out}.d -c ${src} -o ${out}
    DEPENDS ${depends}
    DEPFILE ${out}.d
    COMMENT "BPF ${source}: clang"
    VERBATIM)
endfunction()

function(ebpf_bpf_object name source)
  cmake_parse_arguments(PARSE_ARGV 2 arg "VMLINUX_H" "OUTPUT_DIRECTORY" "INCLUDE_DIRECTORIES;COMPILE_OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ebpf_bpf_object: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_OUTPUT_DIRECTORY)
    set(arg_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/bpf)
  endif()
  get_filename_component(dir ${arg_OUTPUT_DIRECTORY} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  set(raw ${dir}/${name}.tmp.bpf.o)
  set(obj ${dir}/${name}.bpf.o)
  set(skel ${dir}/${name}.skel.h)

  set(pass_on "")
  if(arg_VMLINUX_H)
    list(APPEND pass_on VMLINUX_H)
  endif()
  ebpf_bpf_compile(${raw} ${source} ${pass_on}
                   INCLUDE_DIRECTORIES ${arg_INCLUDE_DIRECTORIES} COMPILE_OPTIONS ${arg_COMPILE_OPTIONS})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${EBPF_BPFTOOL} gen object ${obj} ${raw}
    DEPENDS ${raw}
    COMMENT "BPF ${name}: bpftool gen object"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${EBPF_BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF ${name}: bpftool gen skeleton"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel} ${obj})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  # SYSTEM: the generated skeleton is C-style code that strict C++ warnings reject.
  target_include_directories(${name}_skel SYSTEM INTERFACE ${dir})
  foreach(inc IN LISTS arg_INCLUDE_DIRECTORIES)
    get_filename_component(inc ${inc} ABSOLUTE)
    target_include_directories(${name}_skel INTERFACE ${inc})
  endforeach()
  set_target_properties(${name}_skel PROPERTIES EBPF_BPF_OBJECT ${obj})
  set(${name}_BPF_OBJECT ${obj} PARENT_SCOPE)
endfunction()
