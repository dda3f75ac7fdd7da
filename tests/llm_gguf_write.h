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
    GGUF_BAD_TYPE,          /* blk.0.attn_q.weight declared Q2_K (10) */
    GGUF_BAD_SHAPE,         /* blk.0.attn_k.weight with its dimensions swapped */
    GGUF_OFFSET_PAST_END,   /* output_norm.weight's offset beyond the file */
    GGUF_MISSING_TENSOR,    /* blk.0.ffn_up.weight left out */
    GGUF_MISALIGNED,        /* a tensor offset not a multiple of the alignment */
    GGUF_HUGE_COUNT,        /* tensor count 2^62 */
    GGUF_EXTRA_TENSOR,      /* an unknown tensor name */
    GGUF_NAN_ALIGNMENT,     /* general.alignment a FLOAT64 NaN */
    GGUF_NAN_ROPE,          /* llama.rope.freq_base a FLOAT32 NaN */
    GGUF_KQUANT_SHORT_ROWS, /* blk.0.attn_q.weight declared Q4_K: rows not whole superblocks */
    GGUF_BAD_ROPE_FREQS,    /* rope_freqs.weight with a zero factor */
    GGUF_ROPE_LINEAR,       /* valid: llama.rope.scaling.type "linear", factor 2 */
    GGUF_ROPE_YARN          /* llama.rope.scaling.type "yarn" (not supported) */
};

/* Serializes w into a malloc'd buffer (*out, *len). Returns 0 or -1. */
int gguf_write_mem(const struct jb_llm_weights *w, enum gguf_fault fault, uint8_t **out,
                   size_t *len);
int gguf_write_file(const struct jb_llm_weights *w, enum gguf_fault fault, const char *path);

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

/* Replaces matrix m of w by the same values requantized to dtype `to`
 * (a new buffer owned by w). Returns 0 or -1 (out of memory). */
int gguf_convert_matrix(struct jb_llm_weights *w, struct jb_llm_matrix *m, enum jb_llm_dtype to);

/* Turns w into the mix of llama.cpp's Q4_K_M files (llama_tensor_get_type):
 * the classifier (token_embd when tied) Q6_K; attn_v and ffn_down Q6_K in
 * the layers llama.cpp gives more bits (the first and last eighth and every
 * third one between) and Q4_K elsewhere; every other matrix Q4_K. Rows that
 * are not whole superblocks go to q8_0 (llama.cpp takes a 32-block type
 * too). Returns 0 or -1. */
int gguf_make_q4_k_m(struct jb_llm_weights *w);

#endif
