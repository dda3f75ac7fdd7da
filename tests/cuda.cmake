# cuda.cmake (tests): the CUDA benchmark driver, built only with the CUDA
# back-end. Not a ctest test: platforms/cuda/device-run.sh runs it on the
# GPU machine with a plan file (platforms/cuda/bench.txt).
if(JB_HAVE_CUDA)
  add_executable(jb_cuda_bench ${CMAKE_CURRENT_SOURCE_DIR}/cuda_bench.c)
  target_link_libraries(jb_cuda_bench PRIVATE jb)
endif()

# The fake NVML of the sweep tests (no GPU needed): built in every build.
add_library(fake_nvml_ctl SHARED ${CMAKE_CURRENT_SOURCE_DIR}/fake_nvml_ctl.c)
set_target_properties(fake_nvml_ctl PROPERTIES OUTPUT_NAME nvidia-ml-fake-ctl C_VISIBILITY_PRESET hidden)
if(TARGET test_sweep)
  add_dependencies(test_sweep fake_nvml_ctl)
  set_tests_properties(test_sweep PROPERTIES ENVIRONMENT
    "${JB_TEST_ENV};JB_FAKE_NVML_CTL=$<TARGET_FILE:fake_nvml_ctl>")
endif()
