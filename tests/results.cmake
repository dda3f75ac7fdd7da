# results.cmake: the results part's special tests. The store tests run a
# second time against a throw-away PostgreSQL server (skipped, saying so,
# when Debian's postgresql server is not installed), and the dashboard is
# loaded in headless Chromium (skipped likewise without chromium).
if(LIBPQ_FOUND)
  add_test(NAME test_results_store_postgres
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/with_postgres.sh $<TARGET_FILE:test_results_store>)
  set_tests_properties(test_results_store_postgres PROPERTIES
    ENVIRONMENT "${JB_TEST_ENV}" TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "postgres")
endif()

# The schema validator against the JSON Schema Test Suite: skipped, saying
# so, without Debian's json-schema-test-suite package.
set_tests_properties(test_results_schema_suite PROPERTIES SKIP_RETURN_CODE 77)
