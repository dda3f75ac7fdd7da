/* backend.h: the plug-in point of the implementations. A workload (the model
 * layer, workloads/) says what is computed; a back-end says who computes it
 * and how: joulebench's CPU kernels, its CUDA kernels, or anything else that
 * can run the same problem and hand back its outputs for the check.
 *
 * A back-end is one `const struct` of operations per family (LLM decode
 * step, TinyML graph, calibration kernel), whose first member is the part
 * every back-end shares: a name, the precisions it computes, a typed option
 * table, and a probe() that says why it cannot run here, as the power
 * sources' probes do. One registry array per family (registry.c); adding a
 * back-end is one file plus one line there.
 *
 * The model layer drives back-ends through this header only, and checks
 * their outputs against the one oracle of its family; a back-end never
 * calls into the model layer. The types the runner and the model layer
 * exchange about an opened instance (parameters, counts, info) live here
 * too, since back-ends fill parts of them. */
#ifndef JB_BACKEND_H
#define JB_BACKEND_H

#include "base/options.h"
#include "platforms/llm/llm_format.h"
#include "platforms/tinyml/tinyml_model.h"

#include <stddef.h>
#include <stdint.h>

enum jb_scenario {
    JB_SCENARIO_SINGLE_STREAM = 0, /* one unit at a time: latency per unit */
    JB_SCENARIO_OFFLINE = 1        /* `batch` units per iteration, throughput */
};

/* What the runner asks for. Pointers are borrowed for the duration of open(). */
struct jb_workload_params {
    const char *dtype;         /* "fp32", "int8", "bf16", "q8_0", "q4_0"...; NULL: default */
    const char *backend;       /* a back-end of the workload's family; NULL: the default */
    enum jb_scenario scenario;
    int batch;                 /* units per iteration; 1 in single-stream */
    int context;               /* LLM: KV-cache depth L decoded at; 0: workload default */
    int threads;               /* worker threads the workload may use (>= 1) */
    const int *cpus;           /* OS cpu index for each of `threads` workers, or NULL: unpinned */
    int bind_memory;           /* nonzero: bind allocations to the NUMA node(s) of cpus */
    uint64_t seed;             /* weights and inputs are a pure function of this */
    const char *options;       /* "key=value,..." for the workload and its back-end, or NULL */
};

/* Work per unit (one inference, one token, one pass). Zero where unknown. */
struct jb_work_counts {
    double macs;             /* multiply-accumulates */
    double flops;            /* arithmetic operations (2 per MAC plus the rest) */
    double param_bytes;      /* weight bytes read */
    double activation_bytes; /* activation and KV-cache bytes read and written */
    double bytes_moved;      /* the workload's model of memory traffic per unit */
};

/* What an opened workload reports about itself (the model layer fills it,
 * asking its back-end for the fields marked B). */
struct jb_workload_info {
    char dtype[16];              /* the precision actually used */
    char backend[16];            /* B: the back-end's name */
    char backend_version[16];    /* B */
    char libraries[192];         /* B: "cuBLAS 13.0.2, CUDA runtime 13.0, driver 580.159" or "" */
    char kernel[48];             /* B: code path, e.g. "avx512", "avx2", "reference" */
    int units_per_iteration;     /* 1 in single-stream, batch in offline */
    int threads;                 /* B: workers actually used */
    int context;                 /* state L for LLM decode; 0 otherwise */
    struct jb_work_counts per_unit;
    char input_shape[64];        /* e.g. "1x49x10x1" */
    char check[160];             /* how the output is checked, with its tolerance */
    char timing[32];             /* B: "host-clock" or "cuda-events" */
    double parameters;           /* number of model parameters, 0 if none */
    /* the model file a workload read (TinyML); model_weights "" if none:
     * "official", "file" (model=FILE) or "synthetic" (no file) */
    char model_weights[16];
    char model_file[256];
    char model_sha256[65];
    /* quality on the user's data set (TinyML dataset=DIR); metric "" if
     * not measured: "top-1" (accuracy) or "auc", value and target in 0..1 */
    char quality_metric[16];
    double quality_value, quality_target;
    int quality_items;
};

/* The part every back-end declares. */
struct jb_backend {
    const char *name;        /* "cpu", "cuda": what --backend and backend= say */
    const char *family;      /* "llm", "tinyml", "calibration" */
    const char *version;     /* bumped whenever its results stop being comparable */
    const char *dtypes;      /* comma-separated precisions it computes; first = its default */
    const char *description; /* one line for `joulebench list` */
    const struct jb_option_def *options; /* its typed options (NULL-name ended), or NULL */
    /* 0 when it can run on this machine, else a negative JB_E code and why
     * ("cuda: no CUDA-capable device is detected"); NULL: always usable. */
    int (*probe)(char *why, size_t whylen);
};

/* ---- LLM decode step ---------------------------------------------------- */

/* One decode step to compute, fixed by the model layer. */
struct jb_llm_problem {
    const struct jb_llm_config *cfg;
    enum jb_llm_dtype dtype;    /* weight precision (synthetic weights) */
    enum jb_llm_dtype kv_dtype; /* KV-cache storage asked for: JB_LLM_F32 or JB_LLM_F16 */
    int batch;                  /* sequences decoded at once (units per step) */
    int context;                /* depth L: each step decodes position L over L cached */
    int token;                  /* the token every sequence decodes (when the back-end
                                 * does not draw its own: see jb_llm_access.token) */
    uint64_t seed;              /* weights and cache are a pure function of it */
    const char *gguf;           /* weights from this file instead of synthetic; NULL: none */
    int threads;
    const int *cpus;
    int bind_memory;
    const char *options;        /* the spec; the back-end reads its own keys */
};

/* How the oracle reads an opened back-end's weights and cache, whatever
 * memory they live in. Every function returns 0 or a JB_E code with err. */
struct jb_llm_access {
    void *ctx;
    const struct jb_llm_config *cfg; /* the shape actually run (a GGUF's own) */
    enum jb_llm_dtype kv_dtype;      /* how cached K/V are stored */
    /* nonzero: the step stores the new position's K/V in kv_dtype before its
     * attention reads them back (so the oracle rounds them the same way) */
    int rounds_new_kv;
    /* head_dim/2 divisors of the RoPE frequencies the step applies (Llama
     * 3.x scaling: the weights' rope_factors), or NULL for plain RoPE */
    const float *rope_factors;
    /* rows [r0, r0+n) of a matrix as stored, into dst; *dtype its precision */
    int (*rows)(void *ctx, enum jb_llm_tensor_kind kind, int layer, int r0, int n, void *dst,
                enum jb_llm_dtype *dtype, char *err, size_t errlen);
    /* a norm vector (attn_norm, ffn_norm, output_norm) as fp32 */
    int (*norm)(void *ctx, enum jb_llm_tensor_kind kind, int layer, float *dst, char *err,
                size_t errlen);
    /* cached K and V of one layer and sequence at positions [0, npos), as
     * fp32 [npos][kv_dim] each */
    int (*kv)(void *ctx, int layer, int seq, int npos, float *k, float *v, char *err,
              size_t errlen);
    /* the token sequence seq decodes */
    int (*token)(void *ctx, int seq);
};

/* What an opened LLM back-end reports. */
struct jb_llm_backend_info {
    enum jb_llm_dtype dtype;     /* weight precision actually used (a GGUF's may differ) */
    double weight_bytes;         /* every weight as stored */
    double streamed_bytes;       /* weight bytes one step reads (one embedding row, all else) */
    double param_count;
    int kv_elt_bytes;            /* bytes of one cached K or V element */
    int any_quant;               /* some matrix is block-quantized */
    /* relative L2 error of its logits against the oracle that its arithmetic
     * promises, and why (the check's tolerance) */
    double tolerance;
    char tolerance_why[96];
    int check_seqs;              /* sequences the check compares (1 or 2: first and last) */
};

struct jb_llm_backend_ops {
    struct jb_backend b;
    int (*open)(const struct jb_llm_problem *p, void **state, char *err, size_t errlen);
    int (*run)(void *state, char *err, size_t errlen);
    /* logits of sequence seq of the last step: cfg->vocab_size floats */
    int (*logits)(void *state, int seq, float *out, char *err, size_t errlen);
    void (*access)(void *state, struct jb_llm_access *a);
    void (*info)(const void *state, struct jb_workload_info *wi, struct jb_llm_backend_info *li);
    /* a failed check is reported through here too, so that a back-end that
     * tracks device faults can tell a lost device from wrong numbers; NULL:
     * the check's own code stands */
    int (*check_end)(void *state, int rc, char *err, size_t errlen);
    void (*close)(void *state);
};

/* ---- TinyML graph ------------------------------------------------------- */

struct jb_tinyml_problem {
    const struct jb_tm_model_def *def;
    enum jb_tm_dtype dtype;
    uint64_t seed;               /* the weights: jb_tm_model_open(def, dtype, seed, ...) */
    int batch;                   /* inferences per run() */
    int threads;
    const int *cpus;
    int bind_memory;
    const struct jb_tm_model *model; /* the model layer's copy (reference ISA), borrowed */
    const uint8_t *inputs;       /* batch inputs, in_bytes each, borrowed until close() */
    size_t in_bytes, out_bytes;
    const char *options;
};

struct jb_tinyml_backend_ops {
    struct jb_backend b;
    int (*open)(const struct jb_tinyml_problem *p, void **state, char *err, size_t errlen);
    int (*run)(void *state, char *err, size_t errlen);
    /* the output of batch item `item` of the last run, out_bytes into dst */
    int (*output)(void *state, int item, void *dst, char *err, size_t errlen);
    void (*info)(const void *state, struct jb_workload_info *wi);
    int (*check_end)(void *state, int rc, char *err, size_t errlen); /* as for the LLM */
    void (*close)(void *state);
};

/* ---- calibration kernels ------------------------------------------------ */

/* A calibration kernel checks itself against its closed form (triad's sums,
 * fma's chains, a copy's bytes): its problem is nothing but the run's
 * parameters, and its info gives the counts. */
struct jb_calib_kernel {
    const char *name; /* "triad", "fma", "copy" */
    int (*open)(const struct jb_workload_params *p, void **state, char *err, size_t errlen);
    int (*run)(void *state, char *err, size_t errlen);
    int (*check)(void *state, char *err, size_t errlen);
    void (*info)(const void *state, struct jb_workload_info *wi);
    void (*close)(void *state);
};

struct jb_calib_backend_ops {
    struct jb_backend b;
    const struct jb_calib_kernel *const *kernels; /* NULL-terminated */
};

/* ---- the registries ----------------------------------------------------- */

extern const struct jb_llm_backend_ops *const jb_llm_backends[];
extern const struct jb_tinyml_backend_ops *const jb_tinyml_backends[];
extern const struct jb_calib_backend_ops *const jb_calib_backends[];

/* The back-end `name` of a family, or NULL. The returned pointer is the
 * head of that family's ops struct (cast with the jb_*_backend() helpers). */
const struct jb_backend *jb_backend_find(const char *family, const char *name);
/* The i-th back-end of a family (NULL past the end), for listing. */
const struct jb_backend *jb_backend_at(const char *family, int i);

static inline const struct jb_llm_backend_ops *jb_llm_backend(const struct jb_backend *b)
{
    return (const struct jb_llm_backend_ops *)(const void *)b;
}
static inline const struct jb_tinyml_backend_ops *jb_tinyml_backend(const struct jb_backend *b)
{
    return (const struct jb_tinyml_backend_ops *)(const void *)b;
}
static inline const struct jb_calib_backend_ops *jb_calib_backend(const struct jb_backend *b)
{
    return (const struct jb_calib_backend_ops *)(const void *)b;
}

/* The kernel `name` of a calibration back-end, or NULL. */
const struct jb_calib_kernel *jb_calib_kernel_find(const struct jb_calib_backend_ops *b,
                                                   const char *name);

/* Runs b's probe: 0 when usable, else its code with why filled. */
int jb_backend_probe(const struct jb_backend *b, char *why, size_t whylen);

#endif
