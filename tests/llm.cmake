# llm.cmake: extra build steps of the LLM decode tests: the model shapes
# that the loader test and the fuzz-corpus generator share (their files are
# written with the library's GGUF writer).
target_sources(test_llm_gguf PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/llm_gguf_write.c)
add_executable(gguf_corpus_gen ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/gguf_corpus_gen.c
  ${CMAKE_CURRENT_SOURCE_DIR}/llm_gguf_write.c)
target_link_libraries(gguf_corpus_gen PRIVATE jb)
# The paired LLM/triad bandwidth benchmark (tests/bench/llm.sh runs it).
add_executable(llm_paired ${CMAKE_CURRENT_SOURCE_DIR}/bench/llm_paired.c)
target_link_libraries(llm_paired PRIVATE jb)
# Cycles per 32 weights of each matrix-vector kernel, in cache and streaming.
add_executable(llm_kernels_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/llm_kernels_bench.c)
target_link_libraries(llm_kernels_bench PRIVATE jb)
