# sysinfo.cmake: fewer mutations for the provenance fuzz target, whose every
# input is written out as eight files and read back: at the default 2000 per
# corpus file it alone would take a minute under the sanitizers.
if(TEST fuzz_sysinfo)
  set_tests_properties(fuzz_sysinfo PROPERTIES ENVIRONMENT "${JB_TEST_ENV};JB_FUZZ_MUTATIONS=300")
endif()
