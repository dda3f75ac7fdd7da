# tflite.cmake: the TFLite writer that the reader's tests and the fuzz-corpus
# generator share, and the generator itself (tests/fuzz/tflite_corpus_gen.c
# writes small hand-built models; the corpus also links the official files).
target_sources(test_tflite PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tflite_write.c)
add_executable(tflite_corpus_gen ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/tflite_corpus_gen.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tflite_write.c)
target_link_libraries(tflite_corpus_gen PRIVATE jb)
target_sources(test_tflite_armnn PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tflite_write.c)
# The independent oracle: Arm NN's reference back-end (Debian 12:
# libarmnntfliteparser-dev, libarmnn-cpuref-backend22; .ci/install-deps
# installs them in CI). Without it test_tflite_armnn skips, saying why.
find_path(ARMNN_TFLITE_INCLUDE armnnTfLiteParser/ITfLiteParser.hpp)
find_library(ARMNN_LIBRARY armnn)
find_library(ARMNN_TFLITE_LIBRARY armnnTfLiteParser)
find_file(ARMNN_CPUREF_BACKEND Arm_CpuRef_backend.so
  PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/armnn22 /usr/lib/armnn22 NO_DEFAULT_PATH)
if(ARMNN_TFLITE_INCLUDE AND ARMNN_LIBRARY AND ARMNN_TFLITE_LIBRARY AND ARMNN_CPUREF_BACKEND)
  get_filename_component(ARMNN_BACKENDS_DIR ${ARMNN_CPUREF_BACKEND} DIRECTORY)
  add_executable(armnn_oracle ${CMAKE_CURRENT_SOURCE_DIR}/armnn/armnn_oracle.cpp)
  target_include_directories(armnn_oracle PRIVATE ${ARMNN_TFLITE_INCLUDE})
  target_compile_definitions(armnn_oracle PRIVATE JB_ARMNN_BACKENDS="${ARMNN_BACKENDS_DIR}")
  target_link_libraries(armnn_oracle PRIVATE ${ARMNN_TFLITE_LIBRARY} ${ARMNN_LIBRARY})
  target_compile_definitions(test_tflite_armnn PRIVATE JB_ARMNN_ORACLE="$<TARGET_FILE:armnn_oracle>")
  add_dependencies(test_tflite_armnn armnn_oracle)
  message(STATUS "Arm NN found: test_tflite_armnn compares with its CpuRef back-end")
else()
  message(STATUS "Arm NN not found: test_tflite_armnn will skip")
endif()
