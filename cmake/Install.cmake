# Install rules for the library (headers, libebpf, ebpfConfig.cmake with ebpf_bpf_object(), ebpf.pc),
# all in the install component "library" (ebpf-tool is "tool"): `cmake --install B
# --component library` installs the library alone.
#
# After `cmake --install build --prefix P`, a consumer needs only
#   find_package(ebpf REQUIRED)   (with P in CMAKE_PREFIX_PATH)
#   target_link_libraries(app PRIVATE ebpf::ebpf)
# or `pkg-config --cflags --libs ebpf` (with P/lib/pkgconfig in PKG_CONFIG_PATH).
include(CMakePackageConfigHelpers)

set(EBPF_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ebpf")

# The headers use concepts and requires-clauses: say so in the target's interface, so a
# consumer gets C++20 from target_link_libraries alone instead of a wall of errors.
target_compile_features(ebpf PUBLIC cxx_std_20)

# Every public header, including ones added later, but nothing else from the directory.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/ebpf"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT library
        FILES_MATCHING PATTERN "*.hpp")

# The include directory reaches consumers through the target's own INSTALL_INTERFACE.
install(TARGETS ebpf EXPORT ebpfTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT library
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT library
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT library)

# The exported target names PkgConfig::LIBBPF (public) and, for a static libebpf,
# $<LINK_ONLY:PkgConfig::LIBSECCOMP> and LIBELF (private dependencies a static archive still needs
# at the consumer's link). Those imported targets are not ours to export: the config file
# recreates them with pkg-config, under the same names.
get_target_property(_ebpf_type ebpf TYPE)
if(_ebpf_type STREQUAL "STATIC_LIBRARY")
  set(EBPF_CONFIG_NEEDS_SECCOMP TRUE)
else()
  set(EBPF_CONFIG_NEEDS_SECCOMP FALSE)
endif()

install(EXPORT ebpfTargets
        NAMESPACE ebpf::
        FILE ebpfTargets.cmake
        DESTINATION "${EBPF_INSTALL_CMAKEDIR}" COMPONENT library)

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/ebpfConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ebpfConfig.cmake"
  INSTALL_DESTINATION "${EBPF_INSTALL_CMAKEDIR}")
# 0.x: a minor release may break the API, so only the same minor version is compatible.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/ebpfConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
# ebpfBpfObject.cmake: ebpf_bpf_object() for the consumer's own .bpf.c (the config includes it).
install(FILES "${PROJECT_BINARY_DIR}/ebpfConfig.cmake" "${PROJECT_BINARY_DIR}/ebpfConfigVersion.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/ebpfBpfObject.cmake"
        DESTINATION "${EBPF_INSTALL_CMAKEDIR}" COMPONENT library)

# ebpf.pc: pkg-config wants absolute paths, but the prefix is only known when installing
# (`cmake --install --prefix P` overrides the configure-time CMAKE_INSTALL_PREFIX), so
# the install step itself writes the file, straight into the destination (the build tree
# may be read-only to whoever installs). Directories given relative to the prefix are
# written as ${prefix}/lib, so the file describes the prefix it was installed under.
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(_ebpf_pc_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(_ebpf_pc_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(_ebpf_pc_dest "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(_ebpf_pc_dest "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
# libebpf.so records its own dependencies (DT_NEEDED): a consumer links only libebpf and
# libbpf, whose functions it calls through the inline headers. A static libebpf.a records
# nothing, so libseccomp and libelf must be on every consumer's link line: Requires, not
# Requires.private (which only `pkg-config --static` reads).
if(EBPF_CONFIG_NEEDS_SECCOMP)
  set(_ebpf_pc_requires "libbpf >= 1.0, nlohmann_json, libseccomp, libelf")
  set(_ebpf_pc_requires_private "")
else()
  set(_ebpf_pc_requires "libbpf >= 1.0, nlohmann_json")
  set(_ebpf_pc_requires_private "libseccomp, libelf")
endif()
# Bracket arguments keep the generated script's ${prefix} literal; the unbracketed
# ${CMAKE_INSTALL_PREFIX} is the install-time prefix. The file joins install_manifest.txt
# like every other installed file.
install(CODE "
  set(EBPF_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(EBPF_PC_LIBDIR [==[${_ebpf_pc_LIBDIR}]==])
  set(EBPF_PC_INCLUDEDIR [==[${_ebpf_pc_INCLUDEDIR}]==])
  set(EBPF_PC_VERSION [==[${PROJECT_VERSION}]==])
  set(EBPF_PC_LIBNAME [==[$<TARGET_FILE_BASE_NAME:ebpf>]==])
  set(EBPF_PC_REQUIRES [==[${_ebpf_pc_requires}]==])
  set(EBPF_PC_REQUIRES_PRIVATE [==[${_ebpf_pc_requires_private}]==])
  set(_ebpf_pc_file \"\$ENV{DESTDIR}${_ebpf_pc_dest}/ebpf.pc\")
  message(STATUS \"Installing: \${_ebpf_pc_file}\")
  configure_file([==[${CMAKE_CURRENT_LIST_DIR}/ebpf.pc.in]==] \"\${_ebpf_pc_file}\" @ONLY)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_ebpf_pc_file}\")
" COMPONENT library)

unset(_dir)
unset(_ebpf_type)
unset(_ebpf_pc_LIBDIR)
unset(_ebpf_pc_INCLUDEDIR)
unset(_ebpf_pc_dest)
unset(_ebpf_pc_requires)
unset(_ebpf_pc_requires_private)
