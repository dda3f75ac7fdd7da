# exec.cmake: the program the exec and marker tests measure, built against
# the installed-header folder only (include/), linked with nothing of
# joulebench's, as an outside program is.
add_executable(marker_demo ${CMAKE_CURRENT_SOURCE_DIR}/marker_demo.c)
target_include_directories(marker_demo PRIVATE ${CMAKE_SOURCE_DIR}/include)
add_dependencies(test_exec marker_demo)
