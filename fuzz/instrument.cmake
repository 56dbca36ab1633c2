# Included by the top level before src/ when ARCADE_FUZZ is ON: every target
# is compiled with libFuzzer coverage plus ASan and UBSan (errors abort), so
# the fuzz targets see inside the libraries they link. Only the fuzz_*
# executables link libFuzzer itself (fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ARCADE_FUZZ needs clang's libFuzzer: configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
add_compile_options(
  -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=all
  -fno-omit-frame-pointer
  -fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/ubsan-ignorelist.txt)
add_link_options(-fsanitize=address,undefined)
