/* llm_gguf_write.c: the model shapes of llm_gguf_write.h. */
#include "llm_gguf_write.h"

const struct jb_llm_config gguf_tiny_config = {"tiny", 64, 2, 4, 2, 96, 40, 0, 64,
                                               10000.0f, 1e-5f, {0.0f, 0.0f, 0.0f, 0}};
const struct jb_llm_config gguf_corpus_config = {"corpus", 32, 1, 2, 1, 32, 8, 0, 16,
                                                 10000.0f, 1e-5f, {0.0f, 0.0f, 0.0f, 0}};
const struct jb_llm_config gguf_corpus_k_config = {"corpus-k", 32, 2, 2, 1, 256, 8, 0, 16,
                                                   10000.0f, 1e-5f, {4.0f, 1.0f, 4.0f, 16}};
const struct jb_llm_config gguf_kquant_config = {"tiny-k", 256, 2, 4, 2, 512, 48, 0, 64,
                                                 10000.0f, 1e-5f, {8.0f, 1.0f, 4.0f, 64}};
