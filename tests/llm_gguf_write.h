/* llm_gguf_write.h: a minimal GGUF writer for the tests and the fuzz
 * corpus: writes a weight set (llm.h layout) as a llama-architecture GGUF
 * v3 file, so that the loader is tested on files whose every byte is known,
 * and lets a test swap one tensor's type, shape or offset to make broken
 * files. Not part of libjb: joulebench itself only reads GGUF. */
#ifndef JB_TEST_LLM_GGUF_WRITE_H
#define JB_TEST_LLM_GGUF_WRITE_H

#include "platforms/llm/llm_format.h"

#include <stddef.h>
#include <stdint.h>

/* Ways to break the file on purpose (0: a valid file). */
enum gguf_fault {
    GGUF_OK = 0,
    GGUF_BAD_MAGIC,
    GGUF_BAD_VERSION,
    GGUF_BAD_ARCH,          /* general.architecture = "gpt2" */
    GGUF_BAD_TYPE,          /* blk.0.attn_q.weight declared Q6_K (14) */
    GGUF_BAD_SHAPE,         /* blk.0.attn_k.weight with its dimensions swapped */
    GGUF_OFFSET_PAST_END,   /* output_norm.weight's offset beyond the file */
    GGUF_MISSING_TENSOR,    /* blk.0.ffn_up.weight left out */
    GGUF_MISALIGNED,        /* a tensor offset not a multiple of the alignment */
    GGUF_HUGE_COUNT,        /* tensor count 2^62 */
    GGUF_EXTRA_TENSOR       /* an unknown tensor name */
};

/* Serializes w into a malloc'd buffer (*out, *len). Returns 0 or -1. */
int gguf_write_mem(const struct jb_llm_weights *w, enum gguf_fault fault, uint8_t **out,
                   size_t *len);
int gguf_write_file(const struct jb_llm_weights *w, enum gguf_fault fault, const char *path);

/* A tiny llama configuration (about 66k parameters) for the loader tests,
 * and a smaller one (7k) for the fuzz corpus. */
extern const struct jb_llm_config gguf_tiny_config;
extern const struct jb_llm_config gguf_corpus_config;

#endif
