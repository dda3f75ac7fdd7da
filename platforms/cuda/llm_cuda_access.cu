/* llm_cuda_access.cu: what is read back from the CUDA decode step: logits,
 * weights in llm.h's layout (for the byte-for-byte comparison with the CPU's
 * synthetic weights and for the CPU reference), the KV cache, and the
 * step's parameters. */
#define _Static_assert static_assert /* llm.h is C11; this is C++ */
#include "platforms/cuda/cuda_util.cuh"
#include "platforms/cuda/llm_cuda_state.cuh"

#include <string.h>

extern "C" int jb_cuda_llm_logits(struct jb_cuda_llm *m, int seq, float *out, char *err,
                                  size_t errlen)
{
    if (seq < 0 || seq >= m->batch)
        return jb_err(err, errlen, JB_EINVAL, "cuda llm: sequence %d of %d", seq, m->batch);
    JB_CUDA_RET(cudaMemcpy(out, m->logits + (size_t)seq * m->cfg.vocab_size,
                           (size_t)m->cfg.vocab_size * 4, cudaMemcpyDeviceToHost),
                "cudaMemcpy(logits)");
    return 0;
}

extern "C" int jb_cuda_llm_get_rows(struct jb_cuda_llm *m, enum jb_llm_tensor_kind kind, int layer,
                                    int r0, int n, void *dst, char *err, size_t errlen)
{
    const dmat *a;
    int base = 0, rows;
    if (layer < 0 || layer >= m->cfg.n_layers)
        return jb_err(err, errlen, JB_EINVAL, "cuda llm: layer %d", layer);
    dlayer *Ly = &m->layers[layer];
    switch (kind) {
    case JB_LLM_T_TOKEN_EMBD:
        a = &m->embd;
        rows = a->rows;
        break;
    case JB_LLM_T_OUTPUT:
        a = &m->out;
        rows = a->rows;
        break;
    case JB_LLM_T_WQ:
        a = &Ly->wqkv;
        rows = m->qd;
        break;
    case JB_LLM_T_WK:
        a = &Ly->wqkv;
        base = m->qd;
        rows = m->kvd;
        break;
    case JB_LLM_T_WV:
        a = &Ly->wqkv;
        base = m->qd + m->kvd;
        rows = m->kvd;
        break;
    case JB_LLM_T_WO:
        a = &Ly->wo;
        rows = a->rows;
        break;
    case JB_LLM_T_W_GATE:
        a = &Ly->w13;
        rows = m->hid;
        break;
    case JB_LLM_T_W_UP:
        a = &Ly->w13;
        base = m->hid;
        rows = m->hid;
        break;
    case JB_LLM_T_W_DOWN:
        a = &Ly->w2;
        rows = a->rows;
        break;
    default:
        return jb_err(err, errlen, JB_EINVAL, "cuda llm: tensor kind %d is not a matrix",
                      (int)kind);
    }
    if (r0 < 0 || n < 0 || r0 + n > rows)
        return jb_err(err, errlen, JB_EINVAL, "cuda llm: rows %d..%d of %d", r0, r0 + n, rows);
    size_t prb = plane_row_bytes(m->dt, a->cols), nblk = a->cols / 32;
    size_t R = (size_t)base + r0;
    if (m->dt <= DT_F16) {
        JB_CUDA_RET(cudaMemcpy(dst, a->w + R * prb, prb * n, cudaMemcpyDeviceToHost),
                    "cudaMemcpy(weights)");
        return 0;
    }
    std::vector<uint8_t> w(prb * n);
    std::vector<uint16_t> d(nblk * n);
    JB_CUDA_RET(cudaMemcpy(w.data(), a->w + R * prb, prb * n, cudaMemcpyDeviceToHost),
                "cudaMemcpy(weights)");
    JB_CUDA_RET(cudaMemcpy(d.data(), a->d + R * nblk, nblk * n * 2, cudaMemcpyDeviceToHost),
                "cudaMemcpy(scales)");
    /* Back into ggml's blocks: d, then the block's 32 codes (q8_0) or 16
     * nibble pairs (q4_0), exactly the bytes of the planes. */
    size_t qb = m->dt == DT_Q8 ? 32 : 16, bb = 2 + qb;
    uint8_t *o = (uint8_t *)dst;
    for (size_t r = 0; r < (size_t)n; r++)
        for (size_t b = 0; b < nblk; b++) {
            uint8_t *blk = o + (r * nblk + b) * bb;
            memcpy(blk, &d[r * nblk + b], 2);
            memcpy(blk + 2, &w[r * prb + b * qb], qb);
        }
    return 0;
}

extern "C" int jb_cuda_llm_get_kv(struct jb_cuda_llm *m, int layer, int seq, uint16_t *k,
                                  uint16_t *v, char *err, size_t errlen)
{
    if (layer < 0 || layer >= m->cfg.n_layers || seq < 0 || seq >= m->batch)
        return jb_err(err, errlen, JB_EINVAL, "cuda llm: cache of layer %d sequence %d", layer,
                      seq);
    size_t off = (size_t)seq * m->ctx_alloc * m->kvd, n = (size_t)m->L * m->kvd * 2;
    JB_CUDA_RET(cudaMemcpy(k, m->layers[layer].kc + off, n, cudaMemcpyDeviceToHost),
                "cudaMemcpy(K cache)");
    JB_CUDA_RET(cudaMemcpy(v, m->layers[layer].vc + off, n, cudaMemcpyDeviceToHost),
                "cudaMemcpy(V cache)");
    return 0;
}

extern "C" int jb_cuda_llm_token(const struct jb_cuda_llm *m, int seq)
{
    return m->tok[seq];
}
extern "C" const char *jb_cuda_llm_kernel(const struct jb_cuda_llm *m)
{
    return m->kernel;
}
extern "C" int jb_cuda_llm_fp32_activations(const struct jb_cuda_llm *m)
{
    return !m->gemm && !m->qmma && !m->amma;
}
extern "C" double jb_cuda_llm_weight_bytes(const struct jb_cuda_llm *m)
{
    return m->weight_bytes;
}
extern "C" const struct jb_llm_config *jb_cuda_llm_config(const struct jb_cuda_llm *m)
{
    return &m->cfg;
}
extern "C" enum jb_llm_dtype jb_cuda_llm_dtype(const struct jb_cuda_llm *m)
{
    return m->dtype;
}
extern "C" int jb_cuda_llm_batch(const struct jb_cuda_llm *m)
{
    return m->batch;
}
extern "C" int jb_cuda_llm_context(const struct jb_cuda_llm *m)
{
    return m->L;
}
extern "C" uint64_t jb_cuda_llm_seed(const struct jb_cuda_llm *m)
{
    return m->seed;
}

extern "C" int jb_cuda_cublas_version(void)
{
    int ma = 0, mi = 0, pa = 0;
    if (cublasGetProperty(MAJOR_VERSION, &ma) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(MINOR_VERSION, &mi) != CUBLAS_STATUS_SUCCESS ||
        cublasGetProperty(PATCH_LEVEL, &pa) != CUBLAS_STATUS_SUCCESS)
        return 0;
    return ma * 10000 + mi * 100 + pa;
}
