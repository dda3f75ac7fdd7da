/* gguf.h: a reader of GGUF checkpoints (llama.cpp's file format, version 2
 * and 3) for the Llama architecture, into the weight layout of llm.h.
 *
 * Accepts F32, F16, BF16, Q8_0, Q4_0 and the k-quants Q4_K, Q5_K, Q6_K (so
 * llama.cpp's Q4_K_M, Q5_K_M and Q6_K files load: their mixes are per
 * tensor), and applies Llama 3.x RoPE scaling when the file carries
 * rope_freqs.weight; anything else (another
 * architecture, another tensor type, a wrong shape, a missing tensor) is an
 * error that names the problem. The parser works on a byte buffer and checks
 * every length, count and offset against the buffer's size with
 * overflow-safe arithmetic, so a truncated or corrupted file is an error and
 * never a read past the end (it is fuzzed: tests/fuzz/fuzz_gguf.c). */
#ifndef JB_GGUF_H
#define JB_GGUF_H

#include "platforms/llm/llm_format.h"

#include <stddef.h>
#include <stdint.h>

struct jb_pool;

/* GGUF's tensor type numbers (ggml_type) that the loader accepts. */
enum {
    JB_GGML_TYPE_F32 = 0,
    JB_GGML_TYPE_F16 = 1,
    JB_GGML_TYPE_Q4_0 = 2,
    JB_GGML_TYPE_Q8_0 = 8,
    JB_GGML_TYPE_Q4_K = 12,
    JB_GGML_TYPE_Q5_K = 13,
    JB_GGML_TYPE_Q6_K = 14,
    JB_GGML_TYPE_BF16 = 30
};

/* Parses a whole GGUF file held in buf[0..len) and builds the weights
 * (copied into memory from pool, NUMA-bound when the pool binds; pool may be
 * NULL). The configuration comes from the file's llama.* keys; its name is
 * "gguf". On success *out is owned by the caller (jb_llm_weights_free). */
int jb_gguf_parse(const uint8_t *buf, size_t len, struct jb_pool *pool,
                  struct jb_llm_weights **out, char *err, size_t errlen);

/* Reads the file at path and parses it. max_bytes: refuse a larger file
 * (the memory check), 0 for no limit. */
int jb_gguf_load(const char *path, size_t max_bytes, struct jb_pool *pool,
                 struct jb_llm_weights **out, char *err, size_t errlen);

#endif
