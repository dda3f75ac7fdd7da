/* llm_cuda_kernels.cuh: the device kernels of the CUDA LLM decode step
 * other than the matrix products and the attention (weight generation,
 * embedding, norm, SwiGLU, dequantization) and what they all share
 * (included by llm_cuda.cu only, as are llm_cuda_gemv.cuh,
 * llm_cuda_attn.cuh and llm_cuda_qmma.cuh: headers so that the host logic
 * and the kernels stay files of one idea each).
 *
 * Everything here is memory-bound at batch 1: a token reads every weight
 * once and the KV cache once, and does two flops per weight. So the
 * kernels are written for bytes in flight: 16-byte loads, consecutive lanes
 * on consecutive bytes, several loads issued before their first use. */
#ifndef JB_LLM_CUDA_KERNELS_CUH
#define JB_LLM_CUDA_KERNELS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "platforms/cuda/cuda_util.cuh"
#include "platforms/cuda/llm_cuda_state.cuh"

/* Programmatic dependent launch (sm_90): each kernel of the step waits for
 * the previous one's results (griddepcontrol.wait) and at once lets the
 * next one be scheduled (launch_dependents), so a kernel's launch and block
 * start-up overlap the tail of the one before. A step is ~350 launches; at
 * a few microseconds of gap each that is several percent at batch 1. On
 * older GPUs, or launched without the attribute, both are no-ops. */
__device__ __forceinline__ void pdl_enter()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

/* The matrix kernels read their weights before waiting: no kernel of the
 * step writes them, so the first loads are issued while the previous
 * kernel (a norm, the attention) is still running, and DRAM is busy
 * through the gap between the two. Only what the previous kernel writes
 * (activations) is read after pdl_enter. */

/* Integer codes to floats without I2F (a quarter-rate instruction): the
 * byte b placed in the mantissa of 2^23 gives 2^23 + b exactly; subtracting
 * 2^23 + bias gives b - bias. sel picks byte k of w (0x7440 + k). */
__device__ __forceinline__ float byte_to_f(uint32_t w, int k, float bias)
{
    return __uint_as_float(__byte_perm(w, 0x4B000000u, 0x7440u + (unsigned)k)) -
           (8388608.0f + bias);
}

/* The GEMV's activation layout. A lane's 16-byte chunk of weights holds P
 * consecutive values (P = 8 bf16/fp16, 16 q8_0, 32 q4_0), so in row order
 * the x values of neighbouring lanes lie P*4 bytes apart and each warp load
 * of x touches 32 cache lines (seen on an H100: q4_0 ran at a sixth of
 * bf16's bandwidth, bound by L1 wavefronts, not DRAM). The producers of
 * GEMV inputs therefore write x "chunk-transposed": float4 group g of
 * chunk c at float4 index g * (cols / P) + c, and a warp's loads of x are
 * contiguous. P = 0: plain row order (the cuBLAS path). */
__host__ __device__ __forceinline__ size_t xperm(size_t i, int P, size_t cols)
{
    if (!P)
        return i;
    size_t c = i / P, r = i % P;
    return ((r / 4) * (cols / P) + c) * 4 + r % 4;
}

/* llm.h's synthetic value: offset + scale * u, u from 24 bits of
 * splitmix64(seed + id * 2^40 + e). Rounded ops spelled out so nvcc cannot
 * contract them into an FMA: the values must be bit-identical to the CPU's. */
__device__ __forceinline__ float synth_value(uint64_t seed, uint32_t id, uint64_t e, float offset,
                                             float scale)
{
    uint64_t h = jb_hash64(seed + ((uint64_t)id << 40) + e);
    float u = __fmul_rn((float)((int32_t)(h >> 40) - (1 << 23)), 1.0f / (float)(1 << 23));
    return __fadd_rn(offset, __fmul_rn(scale, u));
}

/* Generates rows [0, rows) of one tensor into rows [row0, row0+rows) of a
 * device matrix, one thread per 32-value block, quantizing as llm.h says
 * (ggml's reference rounding). */
__global__ void k_gen_matrix(int dt, uint8_t *W, __half *D, int row0, int rows, int cols,
                             uint64_t seed, uint32_t id, float scale)
{
    int nblk = cols / 32;
    size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (t >= (size_t)rows * nblk)
        return;
    int r = (int)(t / nblk), b = (int)(t % nblk);
    float v[32];
    uint64_t e0 = (uint64_t)r * cols + (uint64_t)b * 32;
    for (int j = 0; j < 32; j++)
        v[j] = synth_value(seed, id, e0 + j, 0.0f, scale);
    size_t R = (size_t)row0 + r;
    if (dt == DT_BF16) {
        __nv_bfloat16 *w = (__nv_bfloat16 *)W + R * cols + (size_t)b * 32;
        for (int j = 0; j < 32; j++)
            w[j] = __float2bfloat16_rn(v[j]);
    } else if (dt == DT_F16) {
        __half *w = (__half *)W + R * cols + (size_t)b * 32;
        for (int j = 0; j < 32; j++)
            w[j] = __float2half_rn(v[j]);
    } else if (dt == DT_Q8) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++)
            amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 127.0f, id_ = d != 0.0f ? 1.0f / d : 0.0f;
        D[R * nblk + b] = __float2half_rn(d);
        int8_t *q = (int8_t *)W + R * cols + (size_t)b * 32;
        for (int j = 0; j < 32; j++)
            q[j] = (int8_t)roundf(__fmul_rn(v[j], id_));
    } else {
        float amax = 0.0f, mx = 0.0f;
        for (int j = 0; j < 32; j++)
            if (amax < fabsf(v[j])) {
                amax = fabsf(v[j]);
                mx = v[j];
            }
        float d = mx / -8.0f, id_ = d != 0.0f ? 1.0f / d : 0.0f;
        D[R * nblk + b] = __float2half_rn(d);
        uint8_t *q = W + R * (cols / 2) + (size_t)b * 16;
        for (int j = 0; j < 16; j++) {
            int lo = (int)(int8_t)__fadd_rn(__fmul_rn(v[j], id_), 8.5f);
            int hi = (int)(int8_t)__fadd_rn(__fmul_rn(v[j + 16], id_), 8.5f);
            lo = lo > 15 ? 15 : lo;
            hi = hi > 15 ? 15 : hi;
            q[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* fp32 vector from llm.h's formula (norm weights, synthetic KV values). */
__global__ void k_gen_f32(float *out, size_t n, uint64_t seed, uint32_t id, float offset,
                          float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        out[i] = synth_value(seed, id, i, offset, scale);
}

/* KV cache positions [0, L) of every sequence of one layer, fp16. The cache
 * is [batch][L+1][kv_dim]; the element index of the formula counts only the
 * filled positions, [batch][L][kv_dim]. */
__global__ void k_gen_kv(__half *cache, int batch, int L, int kvd, uint64_t seed, uint32_t id)
{
    size_t n = (size_t)batch * L * kvd;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t b = i / ((size_t)L * kvd), rest = i % ((size_t)L * kvd);
        cache[b * (size_t)(L + 1) * kvd + rest] =
            __float2half_rn(synth_value(seed, id, i, 0.0f, 1.0f));
    }
}

__device__ __forceinline__ float dequant(int dt, const uint8_t *W, const __half *D, int cols,
                                         size_t r, int c)
{
    switch (dt) {
    case DT_BF16:
        return __bfloat162float(((const __nv_bfloat16 *)W)[r * cols + c]);
    case DT_F16:
        return __half2float(((const __half *)W)[r * cols + c]);
    case DT_Q8:
        return (float)((const int8_t *)W)[r * cols + c] * __half2float(D[r * (cols / 32) + c / 32]);
    default: {
        int b = c / 32, j = c % 32;
        uint8_t q = W[r * (cols / 2) + (size_t)b * 16 + (j & 15)];
        int nib = j < 16 ? (q & 15) : (q >> 4);
        return (float)(nib - 8) * __half2float(D[r * (cols / 32) + b]);
    }
    }
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* x[b][:] = row tok[b] of the embedding, dequantized (one block per
 * sequence). ssq (fused norm, see gemv_norm): the sum of squares of x[b]
 * as partial 0 of nparts, the others 0. */
__global__ void k_embed(int dt, const uint8_t *W, const __half *D, int dim, const int *tok,
                        float *x, float *ssq, int nparts)
{
    pdl_enter();
    __shared__ float red[32];
    int b = blockIdx.x;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = dequant(dt, W, D, dim, (size_t)tok[b], i);
        x[(size_t)b * dim + i] = v;
        ss += v * v;
    }
    if (!ssq)
        return;
    ss = warp_sum(ss);
    if ((threadIdx.x & 31) == 0)
        red[threadIdx.x / 32] = ss;
    __syncthreads();
    for (int i = threadIdx.x; i < nparts; i += blockDim.x) {
        float t = 0.0f;
        if (i == 0)
            for (int w = 0; w < (int)blockDim.x / 32; w++)
                t += red[w];
        ssq[(size_t)b * nparts + i] = t;
    }
}

/* Whole matrix to fp16 for cuBLAS (q8_0/q4_0 at large batch): one thread
 * per 16-byte chunk of codes, writing 16 (q8_0) or 32 (q4_0) halves. */
template <int DT>
__global__ void k_dequant_f16(const uint8_t *W, const __half *D, int rows, int cols, __half *out)
{
    pdl_enter();
    size_t nch = plane_row_bytes(DT, cols) / 16 * (size_t)rows;
    const int per = DT == DT_Q8 ? 16 : 32; /* values per chunk */
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nch;
         i += (size_t)gridDim.x * blockDim.x) {
        uint4 q = __ldcs((const uint4 *)W + i);
        size_t v0 = i * per; /* first value, row-major over the matrix */
        float d = __half2float(D[v0 / 32]);
        uint32_t u[4] = {q.x, q.y, q.z, q.w};
        __align__(16) __half h[32];
        if (DT == DT_Q8) {
#pragma unroll
            for (int j = 0; j < 16; j++)
                h[j] = __float2half_rn(d * byte_to_f(u[j / 4] ^ 0x80808080u, j % 4, 128.0f));
        } else {
#pragma unroll
            for (int j = 0; j < 16; j++) {
                uint32_t w = u[j / 4] >> (8 * (j % 4));
                h[j] = __float2half_rn(d * (float)((int)(w & 15u) - 8));
                h[j + 16] = __float2half_rn(d * (float)((int)((w >> 4) & 15u) - 8));
            }
        }
        uint4 *o = (uint4 *)(out + v0);
#pragma unroll
        for (int j = 0; j < per / 8; j++)
            o[j] = reinterpret_cast<const uint4 *>(h)[j];
    }
}

/* RMSNorm of each sequence's x (one block per sequence): out = w * x /
 * sqrt(mean(x^2) + eps), in fp32 and, for cuBLAS, rounded to bf16 or fp16. */
__global__ void k_rmsnorm(const float *x, const float *w, int dim, float eps, float *out,
                          void *out_h, int h_bf16, int P)
{
    pdl_enter();
    __shared__ float red[32];
    int b = blockIdx.x;
    const float *xb = x + (size_t)b * dim;
    float ss = 0;
    for (int i = threadIdx.x; i < dim; i += blockDim.x)
        ss += xb[i] * xb[i];
    ss = warp_sum(ss);
    if ((threadIdx.x & 31) == 0)
        red[threadIdx.x / 32] = ss;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : 0.0f;
        v = warp_sum(v);
        if (threadIdx.x == 0)
            red[0] = v;
    }
    __syncthreads();
    float inv = 1.0f / sqrtf(red[0] / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float o = w[i] * (inv * xb[i]);
        out[(size_t)b * dim + xperm(i, P, dim)] = o;
        if (out_h) {
            if (h_bf16)
                ((__nv_bfloat16 *)out_h)[(size_t)b * dim + i] = __float2bfloat16_rn(o);
            else
                ((__half *)out_h)[(size_t)b * dim + i] = __float2half_rn(o);
        }
    }
}

/* SwiGLU: hh = silu(gate) * up, from h13 = [batch][gate(hid) | up(hid)]. */
__global__ void k_swiglu(const float *h13, int hid, int batch, float *hh, void *hh_h, int h_bf16,
                         int P)
{
    pdl_enter();
    size_t n = (size_t)batch * hid;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t b = i / hid, j = i % hid;
        float g = h13[b * 2 * hid + j], u = h13[b * 2 * hid + hid + j];
        float o = g / (1.0f + expf(-g)) * u;
        hh[b * hid + xperm(j, P, hid)] = o;
        if (hh_h) {
            if (h_bf16)
                ((__nv_bfloat16 *)hh_h)[i] = __float2bfloat16_rn(o);
            else
                ((__half *)hh_h)[i] = __float2half_rn(o);
        }
    }
}

#endif
