# cuda.cmake: the optional CUDA back-end. Included by the top-level
# CMakeLists.txt when JB_CUDA is ON. When a CUDA compiler is found, every
# platforms/cuda/*.cu goes into the static library jb_cuda, linked into jb,
# and JB_HAVE_CUDA is defined so the CUDA workloads register themselves.
# When none is found the build goes on without them and says so. A GPU is
# never needed to build: whether one exists is decided at run time
# (jb_cuda_probe), so CI (nvcc, no GPU) builds and tests this code too.
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "joulebench: CUDA back-end skipped (no CUDA compiler found)")
  return()
endif()

# sm_90 machine code for Hopper (H100/H200), plus compute_90 PTX so that a
# newer GPU can JIT it. Set before enable_language so CMake does not probe.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

file(GLOB JB_CUDA_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/platforms/cuda/*.cu)
add_library(jb_cuda STATIC ${JB_CUDA_SRC})
# The directory-wide options (-Wall -Werror, -fsanitize=...) are host-compiler
# flags that nvcc does not accept as such: give jb_cuda its own, passing the
# warnings to the host compiler through -Xcompiler. Sanitizers stay off the
# device code (ASan cannot see device memory); the host parts of the .cu
# files are small wrappers.
set_property(TARGET jb_cuda PROPERTY COMPILE_OPTIONS "")
target_compile_options(jb_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr -lineinfo>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${JB_WERROR}>>:-Werror=all-warnings>)
target_include_directories(jb_cuda PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
set_target_properties(jb_cuda PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
  POSITION_INDEPENDENT_CODE ON)
target_link_libraries(jb_cuda PUBLIC CUDA::cudart_static CUDA::cublas CUDA::cublasLt)
# The .cu files call back into jb (jb_err, llm.h's helpers): two static
# libraries that need each other, which CMake links as a repeated group.
target_link_libraries(jb_cuda PRIVATE jb)

# jb was created before CUDA was enabled; CMake wants the property anyway.
set_target_properties(jb PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}")
file(GLOB JB_CUDA_HOST_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/platforms/cuda/*.c)
list(REMOVE_ITEM JB_CUDA_HOST_SRC ${CMAKE_SOURCE_DIR}/platforms/cuda/cuda_fault.c)
target_sources(jb PRIVATE ${JB_CUDA_HOST_SRC})
target_link_libraries(jb PUBLIC jb_cuda)
target_compile_definitions(jb PUBLIC JB_HAVE_CUDA=1)
set(JB_HAVE_CUDA ON)
message(STATUS "joulebench: CUDA back-end enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
  "architectures ${CMAKE_CUDA_ARCHITECTURES}, cuBLAS ${CUDAToolkit_VERSION})")
