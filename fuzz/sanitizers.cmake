# Compiler flags of the fuzz build (CARNET_FUZZ=ON): every library is instrumented for
# libFuzzer's coverage and checked by AddressSanitizer and UndefinedBehaviorSanitizer; only
# the fuzz targets link libFuzzer's runtime (-fsanitize=fuzzer in fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CARNET_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
# -Werror stays with the GCC build, which is the gate every change passes; clang 14 warns
# about other things (and differently between versions), and a fuzzing run must not stop at a
# warning the normal build does not have. The warnings are still printed.
add_compile_options(-Wall -Wextra)
# -O1 and frame pointers: the usual trade of speed for readable sanitizer stack traces.
# Every UB kind aborts (no recovery), so that libFuzzer records the input as a crash.
add_compile_options(-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
                    -fno-sanitize-recover=all)
add_link_options(-fsanitize=address,undefined)

# Findings in third-party headers that carnet cannot fix (each explained in the file).
# base/json.cc is the only user of RapidJSON, so only it gets the list: the other libraries'
# objects stay unchanged (and cached).
set(CARNET_FUZZ_BASE_OPTIONS -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/ubsan_ignorelist.txt)
