/* llm_gguf_write.h: the model shapes of the GGUF loader's tests and fuzz
 * corpus (defined in llm_gguf_write.c), written with the library's writer
 * (platforms/llm/gguf.h), so that the loader is tested on files whose every
 * byte is known. */
#ifndef JB_TEST_LLM_GGUF_WRITE_H
#define JB_TEST_LLM_GGUF_WRITE_H

#include "platforms/llm/gguf.h"
#include "platforms/llm/llm_format.h"

/* A tiny llama configuration (about 66k parameters) for the loader tests,
 * and a smaller one (7k) for the fuzz corpus. */
extern const struct jb_llm_config gguf_tiny_config;
extern const struct jb_llm_config gguf_corpus_config;

#endif
