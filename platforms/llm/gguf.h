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

/* The writer: w as a llama-architecture GGUF v3 file, every tensor in the
 * type it has in w (so a file written from synthetic weights loads back byte
 * for byte), with the llama.* keys llama.cpp reads. With
 * JB_GGUF_WRITE_VOCAB it adds a synthetic SentencePiece tokenizer, which
 * llama.cpp needs to load a model at all (vocabularies of 259 or more). A
 * fault other than JB_GGUF_OK breaks the file on purpose, for the loader's
 * tests and fuzz corpus. *out is malloc'd (the caller frees it). */
enum jb_gguf_fault {
    JB_GGUF_OK = 0,
    JB_GGUF_BAD_MAGIC,
    JB_GGUF_BAD_VERSION,
    JB_GGUF_BAD_ARCH,        /* general.architecture = "gpt2" */
    JB_GGUF_BAD_TYPE,        /* blk.0.attn_q.weight declared Q2_K (10) */
    JB_GGUF_BAD_SHAPE,       /* blk.0.attn_k.weight with its dimensions swapped */
    JB_GGUF_OFFSET_PAST_END, /* output_norm.weight's offset beyond the file */
    JB_GGUF_MISSING_TENSOR,  /* blk.0.ffn_up.weight left out */
    JB_GGUF_MISALIGNED,      /* a tensor offset not a multiple of the alignment */
    JB_GGUF_HUGE_COUNT,      /* tensor count 2^62 */
    JB_GGUF_EXTRA_TENSOR,    /* an unknown tensor name */
    JB_GGUF_NAN_ALIGNMENT,   /* general.alignment a FLOAT64 NaN */
    JB_GGUF_NAN_ROPE,        /* llama.rope.freq_base a FLOAT32 NaN */
    JB_GGUF_KQUANT_SHORT_ROWS, /* blk.0.attn_q.weight declared Q4_K: rows not whole superblocks */
    JB_GGUF_BAD_ROPE_FREQS,  /* rope_freqs.weight with a zero factor */
    JB_GGUF_ROPE_LINEAR,     /* valid: llama.rope.scaling.type "linear", factor 2 */
    JB_GGUF_ROPE_YARN        /* llama.rope.scaling.type "yarn" (not supported) */
};
#define JB_GGUF_WRITE_VOCAB 1u
int jb_gguf_write_mem(const struct jb_llm_weights *w, unsigned flags, enum jb_gguf_fault fault,
                      uint8_t **out, size_t *len, char *err, size_t errlen);
int jb_gguf_write_file(const struct jb_llm_weights *w, unsigned flags, enum jb_gguf_fault fault,
                       const char *path, char *err, size_t errlen);

/* Replaces matrix m of w by the same values requantized to dtype `to` (a new
 * buffer owned by w; rows too short for a k-quant take the 32-block type
 * jb_llm_dtype_for_cols gives). JB_OK or JB_ENOMEM. */
int jb_gguf_convert_matrix(struct jb_llm_weights *w, struct jb_llm_matrix *m,
                           enum jb_llm_dtype to);

/* Turns w into the mix of llama.cpp's Q4_K_M files (llama_tensor_get_type):
 * the classifier (token_embd when tied) Q6_K; attn_v and ffn_down Q6_K in the
 * layers llama.cpp gives more bits (the first and last eighth and every third
 * one between) and Q4_K elsewhere; every other matrix Q4_K. */
int jb_gguf_make_q4_k_m(struct jb_llm_weights *w);

#endif
