# snoopkit_bpf_skeleton(<tool>)
#
# Builds bpf/<tool>.bpf.c into <tool>.bpf.o with clang for the BPF target,
# against the committed vmlinux.h, and generates <tool>.skel.h from it with
# `bpftool gen skeleton`. Defines the target <tool>_skel; C++ targets that
# depend on it get the include directory of the skeleton.
#
# clang writes a depfile (-MD), so editing any header the .bpf.c includes
# (bpf/<tool>.h, bpf/snoopkit.bpf.h, ...) rebuilds the object. The skeleton
# is written to a temporary file and renamed, so a failed step never leaves a
# truncated <tool>.skel.h behind. The object is stripped of DWARF (BTF
# stays), as the skeleton embeds it in the tool.

find_program(SNOOPKIT_CLANG NAMES clang clang-14 REQUIRED)
find_program(SNOOPKIT_LLVM_STRIP NAMES llvm-strip llvm-strip-14 REQUIRED)
find_program(SNOOPKIT_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(SNOOPKIT_BPF_ARCH "x86" CACHE STRING "Architecture directory under vmlinux/ and __TARGET_ARCH_")
set(SNOOPKIT_LIBBPF_INCLUDE "/usr/include" CACHE PATH "Where <bpf/bpf_helpers.h> lives")

function(snoopkit_bpf_skeleton tool)
  set(src "${PROJECT_SOURCE_DIR}/bpf/${tool}.bpf.c")
  set(out_dir "${PROJECT_BINARY_DIR}/bpf")
  set(obj "${out_dir}/${tool}.bpf.o")
  set(dep "${out_dir}/${tool}.bpf.d")
  set(skel "${out_dir}/${tool}.skel.h")
  file(MAKE_DIRECTORY "${out_dir}")

  add_custom_command(
    OUTPUT "${obj}"
    COMMAND "${SNOOPKIT_CLANG}" -g -O2 -Wall -Werror -target bpf
            -D__TARGET_ARCH_${SNOOPKIT_BPF_ARCH}
            -I "${PROJECT_SOURCE_DIR}/vmlinux/${SNOOPKIT_BPF_ARCH}"
            -I "${PROJECT_SOURCE_DIR}/bpf"
            -idirafter "${SNOOPKIT_LIBBPF_INCLUDE}"
            -MD -MF "${dep}" -MT "${obj}"
            -c "${src}" -o "${obj}.full"
    # DWARF is only for the compiler's BTF; the tool embeds what libbpf
    # reads (BTF, BTF.ext with line info for verifier logs).
    COMMAND "${SNOOPKIT_LLVM_STRIP}" -g "${obj}.full" -o "${obj}"
    DEPENDS "${src}"
    DEPFILE "${dep}"
    COMMENT "BPF ${tool}.bpf.c"
    VERBATIM)

  add_custom_command(
    OUTPUT "${skel}"
    COMMAND "${SNOOPKIT_BPFTOOL}" gen skeleton "${obj}" name "${tool}_bpf" > "${skel}.tmp"
    COMMAND "${CMAKE_COMMAND}" -E rename "${skel}.tmp" "${skel}"
    DEPENDS "${obj}"
    COMMENT "skeleton ${tool}.skel.h"
    VERBATIM)

  add_custom_target(${tool}_skel DEPENDS "${skel}")
  set_property(GLOBAL APPEND PROPERTY SNOOPKIT_BPF_OBJECTS "${obj}")
endfunction()
