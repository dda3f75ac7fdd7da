/* llm_cuda_state.cuh: the state of the CUDA decode step, shared by the
 * host files of it (llm_cuda.cu: open, step, close; llm_cuda_access.cu:
 * what tests and the CPU reference read back) and the weight formats the
 * kernels (llm_cuda_kernels.cuh) read. */
#ifndef JB_LLM_CUDA_STATE_CUH
#define JB_LLM_CUDA_STATE_CUH

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>
#include <vector>

#include "platforms/cuda/llm_cuda.h"

/* Weight formats on the device (see llm_cuda.h): W is the plane of values
 * (bf16/fp16 elements, or q8_0 int8 codes, or q4_0 nibble pairs in ggml's
 * in-block order); D the plane of fp16 block scales. */
enum { DT_BF16 = 0, DT_F16 = 1, DT_Q8 = 2, DT_Q4 = 3 };

/* Bytes of one row of the W plane. */
__host__ __device__ inline size_t plane_row_bytes(int dt, int cols)
{
    return dt == DT_Q8 ? (size_t)cols : dt == DT_Q4 ? (size_t)cols / 2 : (size_t)cols * 2;
}

/* One weight matrix on the device: the value plane and, for q8_0/q4_0, the
 * scale plane. Fused matrices (wqkv, w13) hold several llm.h tensors one
 * after another by rows. */
struct dmat {
    int rows, cols;
    uint8_t *w;
    __half *d;
};

struct dlayer {
    float *attn_norm, *ffn_norm;
    dmat wqkv; /* rows: wq (qd) | wk (kvd) | wv (kvd) */
    dmat wo;
    dmat w13; /* rows: w_gate (hid) | w_up (hid) */
    dmat w2;
    __half *kc, *vc; /* [batch][L+1][kvd] */
};

struct jb_cuda_llm {
    struct jb_llm_config cfg;
    enum jb_llm_dtype dtype;
    int dt, batch, L, ctx_alloc, qd, kvd, hs, G, hid;
    uint64_t seed;
    int device, use_graph, gemm, h_bf16, gemv_nb, pdl, gemv_max;
    int qmma;   /* q8_0/q4_0 on the tensor cores (llm_cuda_qmma.cuh) */
    int qmma_v; /* 1: one 16-byte piece per lane and row (A/B); 0: planned */
    int amma;   /* attention on the tensor cores (k_attn_mma): 1, 2 with prefetch */
    int fnorm;  /* RMSNorm fused into the GEMVs (gemv_norm) */
    int sms;  /* multiprocessors of the device */
    int P;      /* GEMV activation layout (xperm), 0 on the cuBLAS path */
    int unroll; /* GEMV chunks in flight per lane: 4 or 8 */
    std::vector<dlayer> layers;
    dmat embd, out;
    float *out_norm;
    int *tok_d;
    std::vector<int> tok;
    /* activations */
    float *x, *xn, *qkv, *att, *h13, *hh, *logits;
    float *ssq; /* fused norm: partial sums of squares of x [batch][dim / 8] */
    void *xn_h, *att_h, *hh_h; /* bf16/fp16 copies for cuBLAS, NULL otherwise */
    __half *deq;               /* fp16 scratch for q8_0/q4_0 at large batch */
    float *pm, *pl, *pacc;
    int CH, nch;
    void *cublas_ws;
    cublasHandle_t blas;
    cudaStream_t stream;
    cudaGraph_t graph;
    cudaGraphExec_t gexec;
    cudaEvent_t ev0, ev1;
    double weight_bytes, kv_bytes;
    std::vector<void *> allocs;
    char kernel[64]; /* at most 45 characters in practice (info keeps 47) */
};

#endif
