/* llm_gguf_write.h: the model shapes of the GGUF loader's tests and fuzz
 * corpus (defined in llm_gguf_write.c), written with the library's writer
 * (platforms/llm/gguf.h), so that the loader is tested on files whose every
 * byte is known. */
#ifndef JB_TEST_LLM_GGUF_WRITE_H
#define JB_TEST_LLM_GGUF_WRITE_H

#include "platforms/llm/gguf.h"
#include "platforms/llm/llm_format.h"

/* A tiny llama configuration (about 66k parameters) for the loader tests,
 * and a smaller one (7k) for the fuzz corpus; rows of 64 and 32 weights,
 * too short for the k-quants. gguf_kquant_config (1.2M parameters) has rows
 * of 256 and 512 and Llama 3-style RoPE scaling (a short original context,
 * so that its factors take all three values on a head of 64), written to
 * the file as rope_freqs.weight, as llama.cpp's converter does. */
extern const struct jb_llm_config gguf_tiny_config;
extern const struct jb_llm_config gguf_corpus_config;
extern const struct jb_llm_config gguf_kquant_config;
/* The fuzz corpus's k-quant file: rows of 32 but a feed-forward width of
 * 256, so that ffn_down alone can be a k-quant (a few kB in all). */
extern const struct jb_llm_config gguf_corpus_k_config;

#endif
