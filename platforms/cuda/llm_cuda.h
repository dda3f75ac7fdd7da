/* llm_cuda.h: the LLM decode step on an NVIDIA GPU, for the configurations
 * and synthetic weights of platforms/llm/llm_format.h.
 *
 * One step decodes one token for each of `batch` sequences at position L =
 * context, with each sequence's fp16 KV cache already filled to L (synthetic
 * K/V from the seed). Every step decodes position L again, so repeated steps
 * measure the steady state at depth L. Weights are generated on the GPU
 * from llm.h's counter-based formula, bit-identical to jb_llm_weights_synth
 * (a test checks this), and stored as planes for aligned 16-byte loads: the
 * quantized formats keep ggml's block semantics (q8_0, q4_0: 32 weights and
 * one fp16 scale per block) with the scales in a plane of their own.
 *
 * Matrix products: a warp-per-row GEMV streaming 16-byte loads for batch 1
 * (all precisions) and batch 2 in q8_0/q4_0; cuBLAS GemmEx (bf16 or fp16
 * operands, fp32 accumulation) for larger batches, after dequantizing to
 * fp16 for q8_0/q4_0. Attention is split over the positions (flash-
 * decoding style) so that batch 1 fills the GPU. The whole step is one CUDA
 * graph, replayed, timed with CUDA events. */
#ifndef JB_LLM_CUDA_H
#define JB_LLM_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "platforms/llm/llm_format.h"

struct jb_cuda_llm;

struct jb_cuda_llm_opts {
    const struct jb_llm_config *cfg;
    enum jb_llm_dtype dtype; /* JB_LLM_BF16, JB_LLM_F16, JB_LLM_Q8_0, JB_LLM_Q4_0 */
    int batch;               /* sequences decoded per step, 1..1024 */
    int context;             /* L: position decoded; the cache holds 0..L-1 */
    uint64_t seed;
    int device;         /* CUDA ordinal */
    int use_graph;      /* 1: capture the step as a CUDA graph (default) */
    int force_gemm;     /* 1: cuBLAS even at batch 1 (for tests); 0: automatic */
    int gemv_max_batch; /* GEMV up to this batch (<= 8), cuBLAS above; 0: automatic
                         * (1 for bf16/fp16, 2 for q8_0/q4_0) */
    int no_pdl;         /* 1: launch without programmatic dependent launch */
    int no_xperm;       /* 1: GEMV activations in plain row order (A/B of xperm) */
    int xperm_16bit;    /* 1: chunk-transposed activations for bf16/fp16 too */
    int gemv_unroll;    /* GEMV chunks in flight per lane: 4 (0: default) or 8 */
    int fuse_norm;      /* 1: RMSNorm folded into the GEMVs (row-order GEMV path):
                         * faster but more J/token on an H100 (README) */
    int qmma_pieces;    /* 1: qmma reads one 16-byte piece per lane and row (A/B);
                         * 0: planned (two up to batch 16) */
    int no_qmma;        /* 1: q8_0/q4_0 through the GEMV or dequantize + cuBLAS
                         * instead of the tensor-core kernel (A/B, tests) */
    int attn_mma;       /* attention on the tensor cores (llm_cuda_attn_mma.cuh):
                         * 2 wherever the shapes allow (head size 64 or 128),
                         * with the next tile's loads issued before the current
                         * tile's mma; 1 the same without (A/B); -1 never; 0
                         * automatic: 2 where the matrix products round
                         * activations (cuBLAS and qmma paths), else never */
};

/* Allocates, generates weights and cache on the GPU, runs one warm-up step
 * and captures the graph. Refuses (JB_ENOMEM, with both figures in err) a
 * configuration whose weights + cache + scratch do not fit in free GPU
 * memory; JB_ENOTSUP without a GPU. *out owned by the caller. */
int jb_cuda_llm_open(const struct jb_cuda_llm_opts *o, struct jb_cuda_llm **out, char *err,
                     size_t errlen);
void jb_cuda_llm_close(struct jb_cuda_llm *m);

/* One decode step for all sequences, synchronous; *gpu_s gets the step's
 * time from CUDA events around it (may be NULL). A lost GPU gives
 * JB_EUNAVAIL with the CUDA error. */
int jb_cuda_llm_step(struct jb_cuda_llm *m, double *gpu_s, char *err, size_t errlen);

/* Logits of sequence `seq` from the last step: vocab floats into out. */
int jb_cuda_llm_logits(struct jb_cuda_llm *m, int seq, float *out, char *err, size_t errlen);

/* For the reference: rows [r0, r0+n) of a weight matrix, downloaded and put
 * back into llm.h's row layout (ggml blocks for q8_0/q4_0) at dst. kind is
 * one of the matrix kinds (TOKEN_EMBD, WQ..W_DOWN, OUTPUT). */
int jb_cuda_llm_get_rows(struct jb_cuda_llm *m, enum jb_llm_tensor_kind kind, int layer, int r0,
                         int n, void *dst, char *err, size_t errlen);
/* The cache of sequence `seq` in `layer`, positions [0, L): fp16 bits,
 * [L][kv_dim] each for k and v. */
int jb_cuda_llm_get_kv(struct jb_cuda_llm *m, int layer, int seq, uint16_t *k, uint16_t *v,
                       char *err, size_t errlen);

/* What the handle was opened with. */
const struct jb_llm_config *jb_cuda_llm_config(const struct jb_cuda_llm *m);
enum jb_llm_dtype jb_cuda_llm_dtype(const struct jb_cuda_llm *m);
int jb_cuda_llm_batch(const struct jb_cuda_llm *m);
int jb_cuda_llm_context(const struct jb_cuda_llm *m);
uint64_t jb_cuda_llm_seed(const struct jb_cuda_llm *m);

/* The token sequence `seq` decodes (a function of the seed). */
int jb_cuda_llm_token(const struct jb_cuda_llm *m, int seq);

/* What was built: code path ("gemv" or "cublas") and whether graphed. */
const char *jb_cuda_llm_kernel(const struct jb_cuda_llm *m);
/* 1 when the step's matrix products take the activations in fp32 (GEMV),
 * 0 when they round them to bf16/fp16 for cuBLAS (looser tolerance). */
int jb_cuda_llm_fp32_activations(const struct jb_cuda_llm *m);
/* Device bytes allocated for weights, for the KV cache, and in all. */
double jb_cuda_llm_weight_bytes(const struct jb_cuda_llm *m);

/* The oracle's view (backend.h) of a handle's weights and cache: fills a
 * with v as its context (v must outlive a; free its buffers with
 * jb_cuda_llm_view_free). In llm_cuda_backend.c. */
struct jb_llm_access;
struct jb_cuda_llm_view {
    struct jb_cuda_llm *m;
    uint16_t *kbuf, *vbuf; /* one layer and sequence of the cache, downloaded */
};
void jb_cuda_llm_access(struct jb_cuda_llm_view *v, struct jb_llm_access *a);
void jb_cuda_llm_view_free(struct jb_cuda_llm_view *v);
/* The relative L2 tolerance of the handle's logits against the oracle, and
 * why, as the check states it. */
double jb_cuda_llm_tolerance(const struct jb_cuda_llm *m, const char **why);

/* cuBLAS's version (major * 10000 + minor * 100 + patch), 0 if unknown. */
int jb_cuda_cublas_version(void);

#ifdef __cplusplus
}
#endif

#endif
