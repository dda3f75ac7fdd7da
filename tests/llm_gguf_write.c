/* llm_gguf_write.c: the model shapes of llm_gguf_write.h. */
#include "llm_gguf_write.h"

const struct jb_llm_config gguf_tiny_config = {"tiny", 64, 2, 4, 2, 96, 40, 0, 64,
                                               10000.0f, 1e-5f};
const struct jb_llm_config gguf_corpus_config = {"corpus", 32, 1, 2, 1, 32, 8, 0, 16,
                                                 10000.0f, 1e-5f};
