/* llm.h: the model layer of the LLM decode workloads: the configuration
 * table (rows in llm_configs.h), the one fp32 oracle every back-end is
 * checked against, and the check itself. The formats the back-ends compute
 * on (dtypes, blocks, synthetic weights) are platforms/llm/llm_format.h. */
#ifndef JB_LLM_H
#define JB_LLM_H

#include "platforms/backend.h"
#include "platforms/llm/llm_format.h"

#include <stddef.h>

/* The table, NULL-name terminated, and a lookup by name (NULL if unknown). */
extern const struct jb_llm_config jb_llm_configs[];
const struct jb_llm_config *jb_llm_config_find(const char *name);

/* The plain-C fp32 reference step, the one oracle of the family: one
 * thread, no vector code, no activation quantization, every weight row read
 * through `a` and dequantized to fp32 (so it computes on exactly the values
 * the back-end holds), dot products and norms accumulated in double, RoPE
 * angles in double. For each of the nseq sequences seqs[i] it decodes
 * a->token(seq) at position pos over the cached positions [0, pos) and
 * writes vocab_size logits to logits + i * vocab_size. Nothing of the
 * back-end is written. */
int jb_llm_reference(const struct jb_llm_access *a, int pos, int nseq, const int *seqs,
                     float *logits, char *err, size_t errlen);

/* The oracle on host weights and a CPU cache (the cpu back-end's, or a
 * test's): one sequence decoding `token` at pos. */
struct jb_llm_kv_view;
int jb_llm_reference_step(const struct jb_llm_weights *w, const struct jb_llm_kv_view *kv,
                          int token, int pos, float *logits, char *err, size_t errlen);

/* Relative L2 distance of got from ref over n values (INFINITY for NaN). */
double jb_llm_rel_l2(const float *got, const float *ref, size_t n);

#endif
