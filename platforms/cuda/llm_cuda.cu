/* llm_cuda.cu: the host side of the CUDA LLM decode step (llm_cuda.h):
 * memory planning and the out-of-memory refusal, weight and cache
 * generation, the choice of kernels, and the step as a sequence of launches
 * (captured once into a CUDA graph and replayed). */
#define _Static_assert static_assert /* llm.h is C11; this is C++ */
#include "platforms/cuda/llm_cuda.h"
#include "platforms/cuda/llm_cuda_kernels.cuh"
#include "platforms/cuda/llm_cuda_gemv.cuh"
#include "platforms/cuda/llm_cuda_attn.cuh"
#include "platforms/cuda/llm_cuda_qmma.cuh"
#include "platforms/cuda/llm_cuda_attn_mma.cuh"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>
#include <new>
#include <vector>

static const size_t CUBLAS_WS_BYTES = 32u << 20;

static int dt_of(enum jb_llm_dtype d)
{
    switch (d) {
    case JB_LLM_BF16:
        return DT_BF16;
    case JB_LLM_F16:
        return DT_F16;
    case JB_LLM_Q8_0:
        return DT_Q8;
    case JB_LLM_Q4_0:
        return DT_Q4;
    default:
        return -1;
    }
}

static size_t mat_bytes(int dt, int rows, int cols)
{
    size_t b = plane_row_bytes(dt, cols) * rows;
    if (dt == DT_Q8 || dt == DT_Q4)
        b += (size_t)rows * (cols / 32) * 2;
    return b;
}

static int dalloc(jb_cuda_llm *m, void **p, size_t bytes, const char *what, char *err,
                  size_t errlen)
{
    cudaError_t e = cudaMalloc(p, bytes);
    if (e != cudaSuccess) {
        *p = NULL;
        return jb_err(err, errlen, jb_cuda_status_code((int)e), "cuda: cudaMalloc(%s, %.1f MB): %s",
                      what, bytes / 1e6, cudaGetErrorString(e));
    }
    m->allocs.push_back(*p);
    return 0;
}

static int alloc_mat(jb_cuda_llm *m, dmat *a, int rows, int cols, char *err, size_t errlen)
{
    int rc;
    a->rows = rows;
    a->cols = cols;
    a->d = NULL;
    if ((rc = dalloc(m, (void **)&a->w, plane_row_bytes(m->dt, cols) * rows, "weights", err,
                     errlen)))
        return rc;
    if (m->dt == DT_Q8 || m->dt == DT_Q4)
        if ((rc = dalloc(m, (void **)&a->d, (size_t)rows * (cols / 32) * 2, "scales", err, errlen)))
            return rc;
    m->weight_bytes += mat_bytes(m->dt, rows, cols);
    return 0;
}

static void gen_mat(jb_cuda_llm *m, dmat *a, int row0, int rows, enum jb_llm_tensor_kind kind,
                    int layer)
{
    size_t nthreads = (size_t)rows * (a->cols / 32);
    float scale = sqrtf(3.0f / (float)a->cols); /* as llm_weights.c computes it */
    k_gen_matrix<<<(unsigned)((nthreads + 255) / 256), 256, 0, m->stream>>>(
        m->dt, a->w, a->d, row0, rows, a->cols, m->seed, jb_llm_tensor_id(layer, kind), scale);
}

static void gen_norm(jb_cuda_llm *m, float *v, enum jb_llm_tensor_kind kind, int layer)
{
    k_gen_f32<<<4, 256, 0, m->stream>>>(v, (size_t)m->cfg.dim, m->seed,
                                        jb_llm_tensor_id(layer, kind), 1.0f, 0.1f);
}

/* Tensor ids of the synthetic KV cache: beyond every weight id of llm.h. */
static uint32_t kv_id(int layer, int v)
{
    return 0x100000u + (uint32_t)layer * 2u + (uint32_t)v;
}

/* Launches a kernel of the step with programmatic dependent launch allowed
 * (see pdl_enter in llm_cuda_kernels.cuh); m->pdl 0 launches plainly. */
template <typename... KArgs, typename... Args>
static void launch(const jb_cuda_llm *m, void (*k)(KArgs...), dim3 grid, dim3 block, Args... args)
{
    cudaLaunchConfig_t cfg = {};
    cudaLaunchAttribute at[1];
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.stream = m->stream;
    at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    at[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = at;
    cfg.numAttrs = m->pdl ? 1 : 0;
    /* Errors surface through cudaGetLastError at the end of the step. */
    (void)cudaLaunchKernelEx(&cfg, k, ((KArgs)args)...);
}

/* q8_0/q4_0 on the tensor cores: 32-row blocks where the matrix is large
 * enough to fill the GPU twice with them, 16-row blocks otherwise; two
 * 16-byte pieces per lane and row in flight up to 16 sequences (where the
 * kernel waits on memory), one above (where registers are short). */
template <int DT, int NT, int V>
static void qmma_v(const jb_cuda_llm *m, const dmat *a, const void *x_h, void *y, int accumulate,
                   int glu)
{
    const __half *x = (const __half *)x_h, *D = (const __half *)a->d;
    dim3 blk(QMMA_WARPS * 32);
    if (glu)
        launch(m, k_qmma<DT, 2, NT, V, true>, dim3(a->rows / 32), blk, (const uint8_t *)a->w, D, x,
               y, a->rows, a->cols, m->batch, 0);
    else if (a->rows % 32 == 0 && a->rows / 32 >= 2 * m->sms)
        launch(m, k_qmma<DT, 2, NT, V, false>, dim3(a->rows / 32), blk, (const uint8_t *)a->w, D,
               x, y, a->rows, a->cols, m->batch, accumulate);
    else
        launch(m, k_qmma<DT, 1, NT, V, false>, dim3(a->rows / 16), blk, (const uint8_t *)a->w, D,
               x, y, a->rows, a->cols, m->batch, accumulate);
}

template <int DT, int NT>
static void qmma(const jb_cuda_llm *m, const dmat *a, const void *x_h, void *y, int accumulate,
                 int glu)
{
    if constexpr (NT <= 2) {
        if (m->qmma_v != 1) {
            qmma_v<DT, NT, 2>(m, a, x_h, y, accumulate, glu);
            return;
        }
    }
    qmma_v<DT, NT, 1>(m, a, x_h, y, accumulate, glu);
}

template <int DT>
static void qmma_nt(const jb_cuda_llm *m, const dmat *a, const void *x_h, void *y, int accumulate,
                    int glu)
{
    switch ((m->batch + 7) / 8) {
    case 1:
        qmma<DT, 1>(m, a, x_h, y, accumulate, glu);
        break;
    case 2:
        qmma<DT, 2>(m, a, x_h, y, accumulate, glu);
        break;
    case 3:
        qmma<DT, 3>(m, a, x_h, y, accumulate, glu);
        break;
    default:
        qmma<DT, 4>(m, a, x_h, y, accumulate, glu);
        break;
    }
}

/* y (+)= W x for the whole batch: GEMV, tensor-core q8_0/q4_0 or cuBLAS, as
 * planned at open. glu (w13 only, not on the cuBLAS path): y gets
 * silu(gate) * up instead, fp32 from the GEMV, fp16 from qmma. */
static int matmul(jb_cuda_llm *m, const dmat *a, const float *x, const void *x_h, void *y,
                  int accumulate, int glu, const float *normw, char *err, size_t errlen)
{
    /* The fused norm (m->fnorm): normw normalizes the input; a GEMV that
     * adds into the residual leaves the partials the next one needs. */
    gemv_norm nm = {};
    if (m->fnorm) {
        nm.w = normw;
        nm.ssq = m->ssq;
        nm.ssq_out = accumulate ? m->ssq : nullptr;
        nm.nparts = m->cfg.dim / 8;
        nm.eps = m->cfg.norm_eps;
    }
    if (m->qmma) {
        if (m->dt == DT_Q8)
            qmma_nt<DT_Q8>(m, a, x_h, y, accumulate, glu);
        else
            qmma_nt<DT_Q4>(m, a, x_h, y, accumulate, glu);
        return 0;
    }
    if (!m->gemm) {
        dim3 grid(glu ? a->rows / 8 : (a->rows + 7) / 8);
        int nb = m->batch;
        float *yf = (float *)y;
#define GEMV_U(DT, NB, U)                                                                          \
    if (glu)                                                                                       \
        launch(m, k_gemv<DT, NB, U, true>, grid, dim3(256), a->w, (const __half *)a->d, x, yf,     \
               a->rows, a->cols, nb, accumulate, m->P != 0, nm);                                   \
    else                                                                                           \
        launch(m, k_gemv<DT, NB, U, false>, grid, dim3(256), a->w, (const __half *)a->d, x, yf,    \
               a->rows, a->cols, nb, accumulate, m->P != 0, nm)
#define GEMV(DT, NB)                                                                               \
    if (m->unroll == 8) {                                                                          \
        GEMV_U(DT, NB, 8);                                                                         \
    } else {                                                                                       \
        GEMV_U(DT, NB, 4);                                                                         \
    }
#define GEMV_NB(DT)                                                                                \
    do {                                                                                           \
        if (m->gemv_nb == 1) {                                                                     \
            GEMV(DT, 1);                                                                           \
        } else if (m->gemv_nb == 2) {                                                              \
            GEMV(DT, 2);                                                                           \
        } else if (m->gemv_nb == 4) {                                                              \
            GEMV(DT, 4);                                                                           \
        } else {                                                                                   \
            GEMV(DT, 8);                                                                           \
        }                                                                                          \
    } while (0)
        switch (m->dt) {
        case DT_BF16:
            GEMV_NB(DT_BF16);
            break;
        case DT_F16:
            GEMV_NB(DT_F16);
            break;
        case DT_Q8:
            GEMV_NB(DT_Q8);
            break;
        default:
            GEMV_NB(DT_Q4);
            break;
        }
#undef GEMV_NB
#undef GEMV
#undef GEMV_U
        return 0;
    }
    const void *A = a->w;
    cudaDataType_t t = m->h_bf16 ? CUDA_R_16BF : CUDA_R_16F;
    if (m->dt >= DT_Q8) {
        if (m->dt == DT_Q8)
            launch(m, k_dequant_f16<DT_Q8>, dim3(4 * 132 * 4), dim3(256), (const uint8_t *)a->w,
                   (const __half *)a->d, a->rows, a->cols, m->deq);
        else
            launch(m, k_dequant_f16<DT_Q4>, dim3(4 * 132 * 4), dim3(256), (const uint8_t *)a->w,
                   (const __half *)a->d, a->rows, a->cols, m->deq);
        A = m->deq;
    }
    float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    /* Row-major W [rows][cols] is column-major [cols][rows]: y^T = W x^T is
     * op(A) = A^T with A the cols x rows matrix, B = x^T (cols x batch). */
    cublasStatus_t s = cublasGemmEx(m->blas, CUBLAS_OP_T, CUBLAS_OP_N, a->rows, m->batch, a->cols,
                                    &alpha, A, t, a->cols, x_h, t, a->cols, &beta, y, CUDA_R_32F,
                                    a->rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    if (s != CUBLAS_STATUS_SUCCESS)
        return jb_err(err, errlen, s == CUBLAS_STATUS_ALLOC_FAILED ? JB_ENOMEM : JB_EIO,
                      "cublas: cublasGemmEx(%d x %d x %d): %s", a->rows, m->batch, a->cols,
                      cublasGetStatusString(s));
    return 0;
}

/* The launches of one decode step, on m->stream (captured or not). */
static int enqueue_step(jb_cuda_llm *m, char *err, size_t errlen)
{
    int rc = 0;
    const jb_llm_config *c = &m->cfg;
    int B = m->batch, dim = c->dim;
    /* With the fused norm the GEMVs read the residual x itself. */
    const float *xin = m->fnorm ? m->x : m->xn;
    launch(m, k_embed, dim3(B), dim3(256), m->dt, (const uint8_t *)m->embd.w,
           (const __half *)m->embd.d, dim, (const int *)m->tok_d, m->x, m->ssq, dim / 8);
    for (int l = 0; l < c->n_layers; l++) {
        dlayer *Ly = &m->layers[l];
        if (!m->fnorm)
            launch(m, k_rmsnorm, dim3(B), dim3(256), (const float *)m->x,
                   (const float *)Ly->attn_norm, dim, c->norm_eps, m->xn, m->xn_h, m->h_bf16, m->P);
        if ((rc = matmul(m, &Ly->wqkv, xin, m->xn_h, m->qkv, 0, 0, Ly->attn_norm, err, errlen)))
            return rc;
        dim3 g1(m->nch, c->n_kv_heads, B);
        if (m->amma)
            launch(m,
                   m->hs == 64 ? (m->amma == 2 ? k_attn_mma<64, true> : k_attn_mma<64, false>)
                   : m->amma == 2 ? k_attn_mma<128, true>
                                  : k_attn_mma<128, false>,
                   g1, dim3(AMMA_WARPS * 32),
                   (const float *)m->qkv, m->qd, m->kvd, m->G, Ly->kc, Ly->vc, m->ctx_alloc,
                   m->L + 1, m->CH, c->rope_theta, m->pm, m->pl, m->pacc);
        else
            launch(m, k_attn_partial, g1, dim3(256), (const float *)m->qkv, m->qd, m->kvd, m->hs,
                   m->G, Ly->kc, Ly->vc, m->ctx_alloc, m->L + 1, m->CH, c->rope_theta, m->pm,
                   m->pl, m->pacc);
        launch(m, k_attn_combine, dim3(c->n_heads, B), dim3(128), (const float *)m->pm,
               (const float *)m->pl, (const float *)m->pacc, m->nch, m->hs,
               attn_out{m->att, m->att_h, m->h_bf16, m->P});
        if ((rc = matmul(m, &Ly->wo, m->att, m->att_h, m->x, 1, 0, NULL, err, errlen)))
            return rc;
        if (!m->fnorm)
            launch(m, k_rmsnorm, dim3(B), dim3(256), (const float *)m->x,
                   (const float *)Ly->ffn_norm, dim, c->norm_eps, m->xn, m->xn_h, m->h_bf16, m->P);
        if (m->gemm) {
            if ((rc = matmul(m, &Ly->w13, m->xn, m->xn_h, m->h13, 0, 0, NULL, err, errlen)))
                return rc;
            launch(m, k_swiglu, dim3((unsigned)((B * (size_t)m->hid + 255) / 256)), dim3(256),
                   (const float *)m->h13, m->hid, B, m->hh, m->hh_h, m->h_bf16, m->P);
        } else if ((rc = matmul(m, &Ly->w13, xin, m->xn_h, m->qmma ? m->hh_h : (void *)m->hh, 0, 1,
                                Ly->ffn_norm, err, errlen))) {
            return rc; /* SwiGLU fused into the GEMV or qmma */
        }
        if ((rc = matmul(m, &Ly->w2, m->hh, m->hh_h, m->x, 1, 0, NULL, err, errlen)))
            return rc;
    }
    if (!m->fnorm)
        launch(m, k_rmsnorm, dim3(B), dim3(256), (const float *)m->x, (const float *)m->out_norm,
               dim, c->norm_eps, m->xn, m->xn_h, m->h_bf16, m->P);
    if ((rc = matmul(m, &m->out, xin, m->xn_h, m->logits, 0, 0, m->out_norm, err, errlen)))
        return rc;
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return jb_err(err, errlen, jb_cuda_status_code((int)e), "cuda: decode step launch: %s",
                      cudaGetErrorString(e));
    return 0;
}

extern "C" int jb_cuda_llm_open(const struct jb_cuda_llm_opts *o, struct jb_cuda_llm **out,
                                char *err, size_t errlen)
{
    int rc = 0;
    jb_cuda_llm *m = NULL;
    const jb_llm_config *c = o->cfg;
    size_t fr = 0, tot = 0, need, act, L1;
    double free_b;
    *out = NULL;
    if (dt_of(o->dtype) < 0)
        return jb_err(err, errlen, JB_EINVAL,
                      "%s: precision %s not supported on cuda (bf16, fp16, q8_0, q4_0)", c->name,
                      jb_llm_dtype_name(o->dtype));
    if (o->batch < 1 || o->batch > 1024)
        return jb_err(err, errlen, JB_EINVAL, "%s: batch %d outside 1..1024", c->name, o->batch);
    if (o->context < 1 || o->context >= c->max_context)
        return jb_err(err, errlen, JB_ERANGE, "%s: context %d outside 1..%d", c->name, o->context,
                      c->max_context - 1);
    {
        int hs = c->dim / c->n_heads, G = c->n_heads / c->n_kv_heads;
        if (hs > ATT_HSMAX || hs % 2 || G > ATT_GMAX || c->dim % 32 || c->hidden_dim % 32)
            return jb_err(err, errlen, JB_ENOTSUP,
                          "%s: head size %d / %d heads per kv head not supported (<= %d, <= %d)",
                          c->name, hs, G, ATT_HSMAX, ATT_GMAX);
    }
    if ((rc = jb_cuda_probe(o->device, NULL, err, errlen)))
        return rc;
    m = new (std::nothrow) jb_cuda_llm();
    if (!m)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of host memory", c->name);
    m->cfg = *c;
    m->dt = dt_of(o->dtype);
    m->dtype = o->dtype;
    m->batch = o->batch;
    m->L = o->context;
    m->ctx_alloc = o->context + 1;
    m->hs = c->dim / c->n_heads;
    m->qd = c->dim;
    m->kvd = m->hs * c->n_kv_heads;
    m->G = c->n_heads / c->n_kv_heads;
    m->hid = c->hidden_dim;
    m->seed = o->seed;
    m->device = o->device;
    m->use_graph = o->use_graph;
    /* cuBLAS where the step is a real matrix product: bf16/fp16 from batch 2,
     * q8_0/q4_0 (dequantized to fp16 first) from batch 9; below that the
     * GEMV's single pass over the quantized weights moves fewer bytes. */
    m->gemv_max = o->gemv_max_batch > 0 ? o->gemv_max_batch : m->dt <= DT_F16 ? 1 : 2;
    if (m->gemv_max > 8)
        m->gemv_max = 8;
    /* q8_0/q4_0 up to batch 32: the tensor-core kernel, unless a test or
     * an A/B measurement asks for the GEMV (gemv_max) or cuBLAS. Every
     * matrix has a multiple of 16 rows (32 for w13's gate and up). */
    m->qmma = m->dt >= DT_Q8 && !o->no_qmma && !o->force_gemm && o->gemv_max_batch <= 0 &&
              o->batch <= 32 && (m->qd + 2 * m->kvd) % 16 == 0 && c->dim % 16 == 0 &&
              m->hid % 16 == 0 && c->vocab_size % 16 == 0;
    m->gemm = !m->qmma && (o->force_gemm || o->batch > m->gemv_max);
    m->pdl = !o->no_pdl;
    /* Chunk-transposed activations pay for q8_0/q4_0 (1.2x and 2x faster
     * at batch 1 on an H100) but not for bf16/fp16, whose row-order loads
     * were 2-3% faster there (docs/results/cuda/h100-bench.csv, README). */
    m->P = m->gemm || m->qmma || o->no_xperm ? 0
           : m->dt == DT_Q8       ? 16
           : m->dt == DT_Q4       ? 32
           : o->xperm_16bit       ? 8
                                  : 0;
    m->unroll = o->gemv_unroll == 8 ? 8 : 4;
    /* The norm fused into the GEMVs (gemv_norm): row-order activations
     * only, which is the bf16/fp16 GEMV's layout. */
    m->fnorm = !m->gemm && !m->qmma && m->P == 0 && o->fuse_norm;
    m->qmma_v = o->qmma_pieces;
    /* Attention on the tensor cores rounds q and the probabilities to fp16:
     * by default only where the products round activations already, with
     * the next tile's loads in flight (on the H200: 8B bf16 batch 128 16.3
     * against 17.7 ms, batch 32 8.0 against 8.5; 1B level at batch 8;
     * docs/results/cuda/h200-bench-2.csv). At batch 1 it was 6-12% faster
     * too but would loosen the GEMV path's 1e-3 tolerance: not the default. */
    m->amma = o->attn_mma >= 0 && (m->hs == 64 || m->hs == 128) && m->G <= ATT_GMAX &&
                      (o->attn_mma > 0 || m->gemm || m->qmma)
                  ? (o->attn_mma == 1 ? 1 : 2)
                  : 0;
    m->h_bf16 = m->dt == DT_BF16;
    m->gemv_nb = o->batch <= 1 ? 1 : o->batch <= 2 ? 2 : o->batch <= 4 ? 4 : 8;
    JB_CUDA_GO(cudaSetDevice(o->device), "cudaSetDevice");

    /* Plan memory before allocating anything, so a configuration that does
     * not fit is refused with the figures instead of failing half-way. */
    L1 = (size_t)m->ctx_alloc;
    {
        size_t lay = mat_bytes(m->dt, m->qd + 2 * m->kvd, c->dim) +
                     mat_bytes(m->dt, c->dim, m->qd) + mat_bytes(m->dt, 2 * m->hid, c->dim) +
                     mat_bytes(m->dt, c->dim, m->hid);
        size_t w = lay * c->n_layers + mat_bytes(m->dt, c->vocab_size, c->dim) * (c->tied ? 1 : 2);
        size_t kv = (size_t)c->n_layers * 2 * m->batch * L1 * m->kvd * 2;
        act = (size_t)m->batch * 4 *
              (3 * (size_t)c->dim + m->qd + 2 * m->kvd + 3 * (size_t)m->hid + c->vocab_size) * 2;
        size_t deq = (m->gemm && m->dt >= DT_Q8) ? (size_t)c->vocab_size * c->dim * 2 : 0;
        need = w + kv + act + deq + CUBLAS_WS_BYTES + (64u << 20);
        JB_CUDA_GO(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
        free_b = (double)fr;
        if ((double)need > free_b) {
            rc = jb_err(err, errlen, JB_ENOMEM,
                        "%s %s batch %d context %d: needs %.2f GiB of GPU memory (weights %.2f, KV "
                        "cache %.2f), "
                        "the GPU has %.2f GiB free",
                        c->name, jb_llm_dtype_name(o->dtype), m->batch, m->L, need / 1073741824.0,
                        w / 1073741824.0, kv / 1073741824.0, free_b / 1073741824.0);
            goto out;
        }
    }
    JB_CUDA_GO(cudaStreamCreateWithFlags(&m->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    JB_CUDA_GO(cudaEventCreate(&m->ev0), "cudaEventCreate");
    JB_CUDA_GO(cudaEventCreate(&m->ev1), "cudaEventCreate");
    m->layers.resize(c->n_layers);
    if ((rc = alloc_mat(m, &m->embd, c->vocab_size, c->dim, err, errlen)))
        goto out;
    gen_mat(m, &m->embd, 0, c->vocab_size, JB_LLM_T_TOKEN_EMBD, 0);
    if (c->tied) {
        m->out = m->embd;
    } else {
        if ((rc = alloc_mat(m, &m->out, c->vocab_size, c->dim, err, errlen)))
            goto out;
        gen_mat(m, &m->out, 0, c->vocab_size, JB_LLM_T_OUTPUT, 0);
    }
    if ((rc = dalloc(m, (void **)&m->out_norm, c->dim * 4, "norm", err, errlen)))
        goto out;
    gen_norm(m, m->out_norm, JB_LLM_T_OUTPUT_NORM, 0);
    for (int l = 0; l < c->n_layers; l++) {
        dlayer *Ly = &m->layers[l];
        if ((rc = alloc_mat(m, &Ly->wqkv, m->qd + 2 * m->kvd, c->dim, err, errlen)) ||
            (rc = alloc_mat(m, &Ly->wo, c->dim, m->qd, err, errlen)) ||
            (rc = alloc_mat(m, &Ly->w13, 2 * m->hid, c->dim, err, errlen)) ||
            (rc = alloc_mat(m, &Ly->w2, c->dim, m->hid, err, errlen)) ||
            (rc = dalloc(m, (void **)&Ly->attn_norm, c->dim * 4, "norm", err, errlen)) ||
            (rc = dalloc(m, (void **)&Ly->ffn_norm, c->dim * 4, "norm", err, errlen)) ||
            (rc = dalloc(m, (void **)&Ly->kc, (size_t)m->batch * L1 * m->kvd * 2, "KV cache", err,
                         errlen)) ||
            (rc = dalloc(m, (void **)&Ly->vc, (size_t)m->batch * L1 * m->kvd * 2, "KV cache", err,
                         errlen)))
            goto out;
        m->kv_bytes += 2.0 * m->batch * L1 * m->kvd * 2;
        gen_mat(m, &Ly->wqkv, 0, m->qd, JB_LLM_T_WQ, l);
        gen_mat(m, &Ly->wqkv, m->qd, m->kvd, JB_LLM_T_WK, l);
        gen_mat(m, &Ly->wqkv, m->qd + m->kvd, m->kvd, JB_LLM_T_WV, l);
        gen_mat(m, &Ly->wo, 0, c->dim, JB_LLM_T_WO, l);
        gen_mat(m, &Ly->w13, 0, m->hid, JB_LLM_T_W_GATE, l);
        gen_mat(m, &Ly->w13, m->hid, m->hid, JB_LLM_T_W_UP, l);
        gen_mat(m, &Ly->w2, 0, c->dim, JB_LLM_T_W_DOWN, l);
        gen_norm(m, Ly->attn_norm, JB_LLM_T_ATTN_NORM, l);
        gen_norm(m, Ly->ffn_norm, JB_LLM_T_FFN_NORM, l);
        k_gen_kv<<<1024, 256, 0, m->stream>>>(Ly->kc, m->batch, m->L, m->kvd, m->seed, kv_id(l, 0));
        k_gen_kv<<<1024, 256, 0, m->stream>>>(Ly->vc, m->batch, m->L, m->kvd, m->seed, kv_id(l, 1));
    }
    JB_CUDA_GO(cudaGetLastError(), "weight generation launch");
    {
        size_t B = m->batch;
        if ((rc = dalloc(m, (void **)&m->x, B * c->dim * 4, "activations", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->xn, B * c->dim * 4, "activations", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->qkv, B * (m->qd + 2 * m->kvd) * 4, "activations", err,
                         errlen)) ||
            (rc = dalloc(m, (void **)&m->att, B * m->qd * 4, "activations", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->h13, B * 2 * m->hid * 4, "activations", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->hh, B * m->hid * 4, "activations", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->logits, B * c->vocab_size * 4, "logits", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->tok_d, B * 4, "tokens", err, errlen)) ||
            (m->fnorm && (rc = dalloc(m, (void **)&m->ssq, B * (c->dim / 8) * 4, "norm partials",
                                      err, errlen))))
            goto out;
        if (m->gemm || m->qmma) {
            if ((rc = dalloc(m, &m->xn_h, B * c->dim * 2, "activations", err, errlen)) ||
                (rc = dalloc(m, &m->att_h, B * m->qd * 2, "activations", err, errlen)) ||
                (rc = dalloc(m, &m->hh_h, B * m->hid * 2, "activations", err, errlen)))
                goto out;
        }
        if (m->gemm) {
            if ((rc = dalloc(m, &m->cublas_ws, CUBLAS_WS_BYTES, "cuBLAS workspace", err, errlen)))
                goto out;
            if (m->dt >= DT_Q8) {
                size_t mx = (size_t)c->vocab_size * c->dim;
                if ((size_t)2 * m->hid * c->dim > mx)
                    mx = (size_t)2 * m->hid * c->dim;
                if ((rc = dalloc(m, (void **)&m->deq, mx * 2, "dequantized scratch", err, errlen)))
                    goto out;
            }
            cublasStatus_t s = cublasCreate(&m->blas);
            if (s == CUBLAS_STATUS_SUCCESS)
                s = cublasSetStream(m->blas, m->stream);
            if (s == CUBLAS_STATUS_SUCCESS)
                s = cublasSetWorkspace(m->blas, m->cublas_ws, CUBLAS_WS_BYTES);
            if (s != CUBLAS_STATUS_SUCCESS) {
                rc = jb_err(err, errlen, JB_EIO, "cublas: setup: %s", cublasGetStatusString(s));
                goto out;
            }
        }
        /* Split attention over positions until the blocks fill the GPU
         * twice over (batch 1 has only n_kv_heads blocks otherwise). */
        cudaDeviceProp p;
        JB_CUDA_GO(cudaGetDeviceProperties(&p, o->device), "cudaGetDeviceProperties");
        m->sms = p.multiProcessorCount;
        m->CH = ATT_CHMAX;
        while (m->CH > 32 && (long)((m->L + 1 + m->CH - 1) / m->CH) * c->n_kv_heads * m->batch <
                                 2L * p.multiProcessorCount)
            m->CH /= 2;
        m->nch = (m->L + 1 + m->CH - 1) / m->CH;
        size_t np = B * c->n_heads * (size_t)m->nch;
        if ((rc = dalloc(m, (void **)&m->pm, np * 4, "attention partials", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->pl, np * 4, "attention partials", err, errlen)) ||
            (rc = dalloc(m, (void **)&m->pacc, np * m->hs * 4, "attention partials", err, errlen)))
            goto out;
    }
    m->tok.resize(m->batch);
    for (int b = 0; b < m->batch; b++)
        m->tok[b] = (int)(jb_hash64(m->seed ^ (0x70c0000000000000ull + (uint64_t)b)) %
                          (uint64_t)c->vocab_size);
    JB_CUDA_GO(
        cudaMemcpyAsync(m->tok_d, m->tok.data(), m->batch * 4, cudaMemcpyHostToDevice, m->stream),
        "cudaMemcpy(tokens)");
    /* One eager step: checks every launch, lets cuBLAS pick its kernels
     * before capture, and leaves valid logits for check(). */
    if ((rc = enqueue_step(m, err, errlen)))
        goto out;
    JB_CUDA_GO(cudaStreamSynchronize(m->stream), "warm-up decode step");
    if (m->use_graph) {
        JB_CUDA_GO(cudaStreamBeginCapture(m->stream, cudaStreamCaptureModeThreadLocal),
                   "cudaStreamBeginCapture");
        rc = enqueue_step(m, err, errlen);
        {
            cudaError_t e = cudaStreamEndCapture(m->stream, &m->graph);
            if (!rc && e != cudaSuccess)
                rc = jb_err(err, errlen, jb_cuda_status_code((int)e), "cuda: graph capture: %s",
                            cudaGetErrorString(e));
        }
        if (rc)
            goto out;
        JB_CUDA_GO(cudaGraphInstantiate(&m->gexec, m->graph, 0), "cudaGraphInstantiate");
    }
    snprintf(m->kernel, sizeof(m->kernel), "%s%s%s%s%s",
             m->qmma          ? "cuda-qmma-f16"
             : !m->gemm       ? "cuda-gemv-warp-rows"
             : m->dt >= DT_Q8 ? "cuda-dequant-f16+cublas"
                              : "cuda-cublas",
             m->fnorm ? "+fnorm" : "", m->use_graph ? "+graph" : "", m->pdl ? "+pdl" : "",
             m->amma == 2 ? "+attn-mma-pf" : m->amma ? "+attn-mma" : "");
    *out = m;
    return 0;
out:
    jb_cuda_llm_close(m);
    return rc;
}

extern "C" void jb_cuda_llm_close(struct jb_cuda_llm *m)
{
    if (!m)
        return;
    if (m->stream)
        cudaStreamSynchronize(m->stream);
    if (m->gexec)
        cudaGraphExecDestroy(m->gexec);
    if (m->graph)
        cudaGraphDestroy(m->graph);
    if (m->blas)
        cublasDestroy(m->blas);
    for (void *p : m->allocs)
        cudaFree(p);
    if (m->ev0)
        cudaEventDestroy(m->ev0);
    if (m->ev1)
        cudaEventDestroy(m->ev1);
    if (m->stream)
        cudaStreamDestroy(m->stream);
    delete m;
}

extern "C" int jb_cuda_llm_step(struct jb_cuda_llm *m, double *gpu_s, char *err, size_t errlen)
{
    int rc = 0;
    float ms = 0;
    JB_CUDA_GO(cudaEventRecord(m->ev0, m->stream), "cudaEventRecord");
    if (m->use_graph) {
        JB_CUDA_GO(cudaGraphLaunch(m->gexec, m->stream), "cudaGraphLaunch (decode step)");
    } else if ((rc = enqueue_step(m, err, errlen))) {
        goto out;
    }
    JB_CUDA_GO(cudaEventRecord(m->ev1, m->stream), "cudaEventRecord");
    JB_CUDA_GO(cudaEventSynchronize(m->ev1), "decode step");
    JB_CUDA_GO(cudaEventElapsedTime(&ms, m->ev0, m->ev1), "cudaEventElapsedTime");
    if (gpu_s)
        *gpu_s = ms * 1e-3;
out:
    return rc;
}

