# formats.cmake: the machine formats read by other tools (tests/formats_read.py):
# Python's csv, json and sqlite3 on every --format of run and export, and
# Google Benchmark's compare.py on two runs at different --min-time (skipped,
# saying so, when libbenchmark-tools or python3-scipy is not installed).
find_program(JB_PYTHON3 python3)
if(JB_PYTHON3)
  add_test(NAME formats_read COMMAND ${JB_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/formats_read.py formats)
  add_test(NAME gbench_compare_py COMMAND ${JB_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/formats_read.py gbench)
  set_tests_properties(formats_read gbench_compare_py PROPERTIES
    ENVIRONMENT "${JB_TEST_ENV}" TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS "formats")
endif()
