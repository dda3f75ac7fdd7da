# TinyML benchmark program (tests/bench/tinyml_bench.c): built with the
# tests, run by hand or by tests/bench/tinyml.sh, never by ctest (it prints
# timings, it asserts nothing).
add_executable(tinyml_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/tinyml_bench.c)
target_link_libraries(tinyml_bench PRIVATE jb)
