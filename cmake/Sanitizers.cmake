# Sanitizer and fuzzing builds, each in a build directory of its own:
#
#   cmake -S . -B build-asan -DSNOOPKIT_SANITIZE=ON     # ASan + UBSan (+ LSan)
#   CXX=clang++ CC=clang cmake -S . -B build-fuzz -DSNOOPKIT_FUZZ=ON
#
# SNOOPKIT_FUZZ needs clang (libFuzzer) and implies the sanitizers.

option(SNOOPKIT_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SNOOPKIT_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)

if(SNOOPKIT_SANITIZE OR SNOOPKIT_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # -O1 and line tables only: what the sanitizers' reports need (file:line in
  # every frame), at about half the compile time of -O2 -g.
  add_compile_options(-O1 -g1)
  # GCC 12's -Wmaybe-uninitialized misfires inside libstdc++ (<regex>,
  # std::function) once ASan instruments it; the normal build keeps it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

if(SNOOPKIT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SNOOPKIT_FUZZ needs clang: configure with CXX=clang++ CC=clang")
  endif()
  # Coverage instrumentation everywhere; the fuzz targets link libFuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
