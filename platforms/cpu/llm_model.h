/* llm_model.h: the decode step of a Llama-architecture model on the CPU (the
 * optimized, multithreaded path) that the cpu LLM back-end (llm_cpu.c) runs,
 * and the oracle's view of its weights and cache. */
#ifndef JB_LLM_MODEL_H
#define JB_LLM_MODEL_H

#include "platforms/backend.h"
#include "platforms/cpu/llm_kernels.h"
#include "platforms/llm/llm_format.h"

#include <stddef.h>
#include <stdint.h>

struct jb_pool;
struct jb_llm_model;

/* Opens a model over borrowed weights and pool (both must outlive it), with
 * a KV cache of `capacity` positions in kv_dtype (JB_LLM_F32 or JB_LLM_F16),
 * allocated on the pool's NUMA node(s). */
int jb_llm_model_open(const struct jb_llm_weights *w, struct jb_pool *pool,
                      const struct jb_llm_kernels *k, enum jb_llm_dtype kv_dtype, int capacity,
                      struct jb_llm_model **out, char *err, size_t errlen);
void jb_llm_model_close(struct jb_llm_model *m);

/* Decodes `token` at position pos (0 <= pos < capacity): reads the cache at
 * positions < pos, writes K and V at pos, and leaves the logits in the model. */
int jb_llm_model_step(struct jb_llm_model *m, int token, int pos, char *err, size_t errlen);
const float *jb_llm_model_logits(const struct jb_llm_model *m);

/* Fills cache positions [0, npos) of every layer with synthetic K and V of
 * unit scale (uniform, standard deviation 1), a pure function of seed. */
void jb_llm_model_fill_kv(struct jb_llm_model *m, uint64_t seed, int npos);

/* Greedy decoding: feeds the prompt from position 0, then appends the argmax
 * token `ngen` times; out gets the ngen generated tokens. */
int jb_llm_model_greedy(struct jb_llm_model *m, const int *prompt, int nprompt, int ngen, int *out,
                        char *err, size_t errlen);

/* Index of the largest of n values (the lowest index on ties). */
int jb_llm_argmax(const float *v, int n);

/* Bytes of the KV cache of cfg for `positions` positions in kv_dtype. */
double jb_llm_kv_bytes(const struct jb_llm_config *cfg, enum jb_llm_dtype kv_dtype, int positions);

/* The cache as the reference step reads it: layout [layer][capacity][kv_dim]. */
struct jb_llm_kv_view {
    const void *k, *v;
    enum jb_llm_dtype dtype;
    int capacity;
};
struct jb_llm_kv_view jb_llm_model_kv(const struct jb_llm_model *m);

/* The oracle's view (backend.h) of host weights and a cache: fills a with
 * ctx as its context (ctx must outlive a); every sequence decodes `token`. */
struct jb_llm_host_access {
    const struct jb_llm_weights *w;
    struct jb_llm_kv_view kv;
    int token;
};
void jb_llm_host_access(struct jb_llm_host_access *ctx, struct jb_llm_access *a);

#endif
