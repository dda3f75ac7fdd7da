# tflite.cmake: the TFLite writer that the reader's tests and the fuzz-corpus
# generator share, and the generator itself (tests/fuzz/tflite_corpus_gen.c
# writes small hand-built models; the corpus also links the official files).
target_sources(test_tflite PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tflite_write.c)
add_executable(tflite_corpus_gen ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/tflite_corpus_gen.c
  ${CMAKE_CURRENT_SOURCE_DIR}/tflite_write.c)
target_link_libraries(tflite_corpus_gen PRIVATE jb)
