# cuda.cmake (tests): the CUDA benchmark driver, built only with the CUDA
# back-end. Not a ctest test: platforms/cuda/device-run.sh runs it on the
# GPU machine with a plan file (docs/results/cuda/*-plan.txt).
if(JB_HAVE_CUDA)
  add_executable(jb_cuda_bench ${CMAKE_CURRENT_SOURCE_DIR}/cuda_bench.c)
  target_link_libraries(jb_cuda_bench PRIVATE jb)
endif()
