/* llm_export.h: what an outside implementation needs to compute an LLM
 * decode workload exactly (`joulebench export-model`): the synthetic weights
 * as GGUF and a check document (prompt, expected logits, tolerance). The
 * method is in METHODOLOGY.md, "Standardized inputs for outside
 * implementations". */
#ifndef JB_LLM_EXPORT_H
#define JB_LLM_EXPORT_H

#include "platforms/llm/llm_format.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct jb_llm_export_opts {
    const char *config;      /* an LLM configuration name ("stories15m") */
    enum jb_llm_dtype dtype; /* JB_LLM_F32, BF16, Q8_0 or Q4_0 */
    uint64_t seed;           /* of the synthetic weights and the prompt (the runs' --seed) */
    int prompt_tokens;       /* tokens of the check's prompt */
    const char *gguf_path;   /* written */
};

/* Writes the GGUF (with a synthetic tokenizer, so that llama.cpp loads it)
 * and returns the check document in *check (caller owns it; it names the
 * GGUF by its base name). Fails with JB_ECHECK, writing no check, if
 * joulebench's own decode fails the check it would export. */
int jb_llm_export(const struct jb_llm_export_opts *o, json_t **check, char *err, size_t errlen);

/* The prompt of the check: n token ids, a pure function of seed (formula in
 * llm_export.c), none of them a reserved (special or byte) id. */
void jb_llm_export_prompt(uint64_t seed, int vocab, int n, int *out);

/* Decodes prompt[0..n) from position 0 with joulebench's CPU decode (one
 * thread, fp32 cache); model: its logits after the last token, reference:
 * the reference step's there (either may be NULL). vocab_size floats each. */
int jb_llm_export_logits(const struct jb_llm_weights *w, const int *prompt, int n, float *model,
                         float *reference, char *err, size_t errlen);

/* The check's tolerance (relative L2 error of the logits, jb_llm_rel_l2)
 * per weight precision: the cpu back-end's with an fp32 cache. */
double jb_llm_export_tolerance(enum jb_llm_dtype dtype);

#endif
