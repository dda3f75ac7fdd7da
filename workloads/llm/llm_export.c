/* llm_export.c: the standardized inputs of an LLM decode workload for an
 * outside implementation (`joulebench export-model`): its synthetic weights
 * as GGUF, readable by llama.cpp, and a check file with a prompt and the
 * logits that joulebench's oracle gives after it, with the tolerance the
 * built-in check uses, so that the outside implementation's output is
 * checked against the same oracle by the same rule.
 *
 * An outside implementation cannot be given joulebench's synthetic KV cache,
 * so the check is over a prompt decoded from position 0: the prompt's
 * tokens are fed one at a time, and the expected logits are those of the
 * plain-C fp32 reference step (llm_reference.c) at the last position, over
 * the K and V that joulebench's own decode (fp32 cache) wrote for the
 * positions before it. */
#include "workloads/llm/llm_export.h"
#include "base/error.h"
#include "platforms/cpu/cpu_features.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/cpu/llm_model.h"
#include "platforms/llm/gguf.h"
#include "workloads/llm/llm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The prompt: token i = splitmix64(seed ^ PROMPT_SALT + i) mod vocab, past
 * the 259 ids a tokenizer reserves (special and byte tokens), so that no
 * implementation treats one as special. */
#define PROMPT_SALT 0x70726f6d7074ull /* "prompt" */
#define RESERVED_IDS 259

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void jb_llm_export_prompt(uint64_t seed, int vocab, int n, int *out)
{
    int lo = vocab > RESERVED_IDS ? RESERVED_IDS : 0;
    for (int i = 0; i < n; i++)
        out[i] =
            lo + (int)(splitmix64((seed ^ PROMPT_SALT) + (uint64_t)i) % (uint64_t)(vocab - lo));
}

double jb_llm_export_tolerance(enum jb_llm_dtype dtype)
{
    /* the built-in check's (llm_workload.c) with an fp32 cache: summation
     * order only for fp32/bf16, the q8_0 activations of quantized rows */
    return dtype == JB_LLM_Q8_0 || dtype == JB_LLM_Q4_0 ? 1e-1 : 1e-4;
}

int jb_llm_export_logits(const struct jb_llm_weights *w, const int *prompt, int n, float *model,
                         float *reference, char *err, size_t errlen)
{
    struct jb_pool *pool = NULL;
    struct jb_llm_model *m = NULL;
    int rc = jb_pool_create(1, NULL, 0, &pool, err, errlen);
    if (!rc)
        rc = jb_llm_model_open(w, pool, jb_llm_kernels_for(jb_cpu_isa()), JB_LLM_F32, n, &m, err,
                               errlen);
    for (int i = 0; !rc && i < n; i++)
        rc = jb_llm_model_step(m, prompt[i], i, err, errlen);
    if (!rc && model)
        memcpy(model, jb_llm_model_logits(m), sizeof(float) * (size_t)w->cfg.vocab_size);
    if (!rc && reference) {
        struct jb_llm_kv_view kv = jb_llm_model_kv(m);
        rc = jb_llm_reference_step(w, &kv, prompt[n - 1], n - 1, reference, err, errlen);
    }
    jb_llm_model_close(m);
    jb_pool_destroy(pool);
    return rc;
}

int jb_llm_export(const struct jb_llm_export_opts *o, json_t **check, char *err, size_t errlen)
{
    *check = NULL;
    const struct jb_llm_config *cfg = jb_llm_config_find(o->config);
    if (!cfg)
        return jb_err(err, errlen, JB_ENOENT, "export-model: no LLM configuration '%s'", o->config);
    if (o->prompt_tokens < 1 || o->prompt_tokens > cfg->max_context)
        return jb_err(err, errlen, JB_ERANGE, "export-model: a prompt of %d tokens (1 to %d)",
                      o->prompt_tokens, cfg->max_context);
    struct jb_llm_weights *w = NULL;
    int *prompt = calloc((size_t)o->prompt_tokens, sizeof(int));
    float *ref = calloc((size_t)cfg->vocab_size, sizeof(float));
    float *got = calloc((size_t)cfg->vocab_size, sizeof(float));
    json_t *doc = NULL;
    int rc = JB_OK;
    if (!prompt || !ref || !got) {
        rc = jb_err(err, errlen, JB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = jb_llm_weights_synth(cfg, o->dtype, o->seed, NULL, &w, err, errlen)))
        goto out;
    if ((rc = jb_gguf_write_file(w, JB_GGUF_WRITE_VOCAB, JB_GGUF_OK, o->gguf_path, err, errlen)))
        goto out;
    jb_llm_export_prompt(o->seed, cfg->vocab_size, o->prompt_tokens, prompt);
    if ((rc = jb_llm_export_logits(w, prompt, o->prompt_tokens, got, ref, err, errlen)))
        goto out;
    /* joulebench's own decode passes its own check before anything is said */
    double tol = jb_llm_export_tolerance(o->dtype);
    double rel = jb_llm_rel_l2(got, ref, (size_t)cfg->vocab_size);
    if (!(rel <= tol)) {
        rc = jb_err(err, errlen, JB_ECHECK,
                    "export-model: joulebench's decode differs from the reference by %.3g "
                    "(tolerance %.3g): not exporting a check it fails itself",
                    rel, tol);
        goto out;
    }
    json_t *pj = json_array(), *lj = json_array();
    for (int i = 0; i < o->prompt_tokens; i++)
        json_array_append_new(pj, json_integer(prompt[i]));
    for (int i = 0; i < cfg->vocab_size; i++)
        json_array_append_new(lj, json_real(ref[i]));
    const char *slash = strrchr(o->gguf_path, '/');
    doc = json_pack(
        "{s:s, s:s, s:s, s:I, s:s, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:f, s:f}, s:o, "
        "s:{s:i, s:i, s:o, s:i, s:s}, s:{s:s, s:f, s:f}, s:s}",
        "format", "joulebench-llm-check/1", "workload", cfg->name, "dtype",
        jb_llm_dtype_name(o->dtype), "seed", (json_int_t)o->seed, "gguf",
        slash ? slash + 1 : o->gguf_path, "config", "dim", cfg->dim, "n_layers", cfg->n_layers,
        "n_heads", cfg->n_heads, "n_kv_heads", cfg->n_kv_heads, "hidden_dim", cfg->hidden_dim,
        "vocab_size", cfg->vocab_size, "max_context", cfg->max_context, "tied", cfg->tied,
        "rope_theta", (double)cfg->rope_theta, "norm_eps", (double)cfg->norm_eps, "prompt", pj,
        "expected", "position", o->prompt_tokens - 1, "argmax", jb_llm_argmax(ref, cfg->vocab_size),
        "logits", lj, "joulebench_argmax", jb_llm_argmax(got, cfg->vocab_size), "oracle",
        "plain-C fp32 reference step (workloads/llm/llm_reference.c) at the last prompt "
        "position, over the K/V joulebench's decode (fp32 cache) wrote for the positions before",
        "tolerance", "metric", "relative L2 error of the logits: ||got - expected|| / ||expected||",
        "value", tol, "joulebench_error", rel, "how",
        "feed the prompt's token ids one at a time from position 0 (no BOS added, no sampling); "
        "compare the logits after the last one with expected.logits");
    if (!doc)
        rc = jb_err(err, errlen, JB_ENOMEM, "out of memory");
    *check = doc;
out:
    jb_llm_weights_free(w);
    free(prompt);
    free(ref);
    free(got);
    return rc;
}
