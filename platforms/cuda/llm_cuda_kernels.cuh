/* llm_cuda_kernels.cuh: the device kernels of the CUDA LLM decode step
 * (included by llm_cuda.cu only; a header so that the host logic and the
 * kernels stay files of one idea each).
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

/* Dot of 8 weights (as floats) with 8 activations of each of NB vectors:
 * two float4 groups at float indices ga and gb of vector 0 (vector b is
 * `stride` floats further). */
template <int NB>
__device__ __forceinline__ void fma8(float (&acc)[NB], const float w[8], const float *x, size_t ga,
                                     size_t gb, int nb, size_t stride, const float *nw)
{
    /* nw: RMSNorm weights folded in (row-order x only); 1 / rms is applied
     * to the sum at the end of the row. */
    float4 na = make_float4(1, 1, 1, 1), nc = na;
    if (nw) {
        na = __ldg((const float4 *)(nw + ga));
        nc = __ldg((const float4 *)(nw + gb));
    }
#pragma unroll
    for (int b = 0; b < NB; b++) {
        if (b < nb) {
            float4 a = __ldg((const float4 *)(x + b * stride + ga));
            float4 c = __ldg((const float4 *)(x + b * stride + gb));
            if (nw) {
                a = make_float4(a.x * na.x, a.y * na.y, a.z * na.z, a.w * na.w);
                c = make_float4(c.x * nc.x, c.y * nc.y, c.z * nc.z, c.w * nc.w);
            }
            acc[b] += w[0] * a.x + w[1] * a.y + w[2] * a.z + w[3] * a.w + w[4] * c.x + w[5] * c.y +
                      w[6] * c.z + w[7] * c.w;
        }
    }
}

/* Consumes one 16-byte chunk `c` of a row: 8 bf16/fp16 weights, 16 q8_0
 * codes (half a block) or 32 q4_0 nibbles (a block). Quantized chunks sum
 * code * x first and apply the block scale once. */
template <int DT, int NB>
__device__ __forceinline__ void gemv_chunk(float (&acc)[NB], uint4 q, const __half *Drow, int c,
                                           const float *x, int nb, size_t cols, bool perm,
                                           const float *nw)
{
    uint32_t u[4] = {q.x, q.y, q.z, q.w};
    float w[8];
    if (DT == DT_BF16 || DT == DT_F16) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            if (DT == DT_BF16) {
                w[2 * j] = __uint_as_float(u[j] << 16);
                w[2 * j + 1] = __uint_as_float(u[j] & 0xffff0000u);
            } else {
                float2 f = __half22float2(*reinterpret_cast<const __half2 *>(&u[j]));
                w[2 * j] = f.x;
                w[2 * j + 1] = f.y;
            }
        }
        size_t nc = cols / 8;
        if (perm)
            fma8<NB>(acc, w, x, (size_t)c * 4, (nc + c) * 4, nb, cols, nw);
        else
            fma8<NB>(acc, w, x, (size_t)c * 8, (size_t)c * 8 + 4, nb, cols, nw);
    } else if (DT == DT_Q8) {
        float d = __half2float(Drow[c >> 1]);
        float part[NB];
#pragma unroll
        for (int b = 0; b < NB; b++)
            part[b] = 0.0f;
#pragma unroll
        for (int k = 0; k < 2; k++) {
            /* Signed codes: flip the sign bit to get code + 128. */
            uint32_t a = u[2 * k] ^ 0x80808080u, b2 = u[2 * k + 1] ^ 0x80808080u;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                w[j] = byte_to_f(a, j, 128.0f);
                w[4 + j] = byte_to_f(b2, j, 128.0f);
            }
            size_t nc = cols / 16;
            if (perm)
                fma8<NB>(part, w, x, ((2 * k) * nc + c) * 4, ((2 * k + 1) * nc + c) * 4, nb, cols, nw);
            else
                fma8<NB>(part, w, x, (size_t)c * 16 + k * 8, (size_t)c * 16 + k * 8 + 4, nb, cols, nw);
        }
#pragma unroll
        for (int b = 0; b < NB; b++)
            acc[b] += d * part[b];
    } else {
        float d = __half2float(Drow[c]);
        float part[NB];
#pragma unroll
        for (int b = 0; b < NB; b++)
            part[b] = 0.0f;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            /* k 0,1: low nibbles of bytes 0..15 (elements 0..15); k 2,3:
             * high nibbles (elements 16..31). */
            uint32_t a = u[(k & 1) * 2], b2 = u[(k & 1) * 2 + 1];
            if (k >= 2) {
                a >>= 4;
                b2 >>= 4;
            }
            a &= 0x0f0f0f0fu;
            b2 &= 0x0f0f0f0fu;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                w[j] = byte_to_f(a, j, 8.0f);
                w[4 + j] = byte_to_f(b2, j, 8.0f);
            }
            size_t nc = cols / 32;
            if (perm)
                fma8<NB>(part, w, x, ((2 * k) * nc + c) * 4, ((2 * k + 1) * nc + c) * 4, nb, cols, nw);
            else
                fma8<NB>(part, w, x, (size_t)c * 32 + k * 8, (size_t)c * 32 + k * 8 + 4, nb, cols, nw);
        }
#pragma unroll
        for (int b = 0; b < NB; b++)
            acc[b] += d * part[b];
    }
}

/* The fused RMSNorm of the GEMV path (row-order activations): the GEMVs
 * that add into the residual x (wo, w2) also leave, per block of 8 rows,
 * the sum of squares of the 8 new values of x (ssq[b][block]); the next
 * GEMV (wqkv, w13, the logits) sums those nparts partials into 1 / rms,
 * multiplies x by the norm weights as it reads it and scales its sums by
 * 1 / rms. So no norm kernel runs between them. */
struct gemv_norm {
    const float *w;   /* norm weights: normalize the input; NULL: plain x */
    const float *ssq; /* [nb][nparts] partials of the input's squares */
    float *ssq_out;   /* [nb][rows / 8]: leave the output's partials; NULL: no */
    int nparts;
    float eps;
};

/* y[b][row] (+)= W[row] . x[b] for nb <= NB vectors. One warp per row,
 * consecutive lanes on consecutive 16-byte chunks (512 contiguous bytes per
 * warp load), U chunks in flight per lane before the first use; the first
 * U are loaded before pdl_enter (see there).
 *
 * GLU (the gate/up matrix w13 = [gate (hid rows) | up (hid rows)]): block c
 * computes gate rows 4c..4c+3 (warps 0-3) and the same up rows (warps 4-7)
 * and writes hh[b][j] = silu(gate_j) * up_j itself, so SwiGLU needs no
 * kernel of its own and h13 never goes through memory. */
template <int DT, int NB, int U, bool GLU>
__global__ void __launch_bounds__(256)
    k_gemv(const uint8_t *__restrict__ W, const __half *__restrict__ D, const float *__restrict__ x,
           float *y, int rows, int cols, int nb, int accumulate, bool perm, gemv_norm nm)
{
    __shared__ float part[8][NB];
    __shared__ float inv[NB];
    int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
    int hid = rows / 2;
    int row = GLU ? (warp < 4 ? blockIdx.x * 4 + warp : hid + blockIdx.x * 4 + warp - 4)
                  : blockIdx.x * 8 + warp;
    bool active = GLU || row < rows; /* idle warps stay for the barriers */
    if (!active)
        row = rows - 1;
    int nch = (int)(plane_row_bytes(DT, cols) / 16);
    const uint4 *wr = (const uint4 *)(W + (size_t)row * plane_row_bytes(DT, cols));
    const __half *Drow = D ? D + (size_t)row * (cols / 32) : nullptr;
    const float *nw = nm.w;
    float acc[NB];
#pragma unroll
    for (int b = 0; b < NB; b++)
        acc[b] = 0.0f;
    int c = lane;
    uint4 q[U];
    bool full = c + 32 * (U - 1) < nch;
    if (full) {
#pragma unroll
        for (int u = 0; u < U; u++)
            q[u] = __ldcs(wr + c + 32 * u);
    }
    pdl_enter();
    if (nw) {
        for (int b = 0; b < nb; b++) {
            float v = 0.0f;
            for (int i = threadIdx.x; i < nm.nparts; i += blockDim.x)
                v += nm.ssq[(size_t)b * nm.nparts + i];
            v = warp_sum(v);
            if (lane == 0)
                part[warp][0] = v;
            __syncthreads();
            if (threadIdx.x == 0) {
                float t = 0.0f;
                for (int w = 0; w < 8; w++)
                    t += part[w][0];
                inv[b] = 1.0f / sqrtf(t / cols + nm.eps);
            }
            __syncthreads();
        }
    }
    /* U chunks in flight per lane before the first is used. */
    while (full) {
#pragma unroll
        for (int u = 0; u < U; u++)
            gemv_chunk<DT, NB>(acc, q[u], Drow, c + 32 * u, x, nb, cols, perm, nw);
        c += 32 * U;
        full = c + 32 * (U - 1) < nch;
        if (full) {
#pragma unroll
            for (int u = 0; u < U; u++)
                q[u] = __ldcs(wr + c + 32 * u);
        }
    }
    for (; c < nch; c += 32)
        gemv_chunk<DT, NB>(acc, __ldcs(wr + c), Drow, c, x, nb, cols, perm, nw);
#pragma unroll
    for (int b = 0; b < NB; b++) {
        float s = warp_sum(acc[b]);
        if (nw && b < nb)
            s *= inv[b];
        if (lane == 0 && b < nb) {
            if (!GLU && active) {
                float *o = y + (size_t)b * rows + row;
                s = accumulate ? *o + s : s;
                *o = s;
            }
            part[warp][b] = active ? s : 0.0f;
        }
    }
    if (!GLU && !nm.ssq_out)
        return;
    __syncthreads();
    if (!GLU) {
        if (threadIdx.x < nb) {
            float t = 0.0f;
            for (int w = 0; w < 8; w++)
                t += part[w][threadIdx.x] * part[w][threadIdx.x];
            nm.ssq_out[(size_t)threadIdx.x * gridDim.x + blockIdx.x] = t;
        }
        return;
    }
    if (threadIdx.x < 4 * nb) {
        int j = blockIdx.x * 4 + (threadIdx.x & 3), b = threadIdx.x / 4;
        float g = part[threadIdx.x & 3][b], u = part[4 + (threadIdx.x & 3)][b];
        int P = perm ? (DT == DT_Q8 ? 16 : DT == DT_Q4 ? 32 : 8) : 0;
        y[(size_t)b * hid + xperm(j, P, hid)] = g / (1.0f + expf(-g)) * u;
    }
}

/* Where the merged attention goes: att (fp32, in the GEMV's layout P),
 * att_h (bf16/fp16 copy for cuBLAS and qmma, or NULL), and the per
 * (sequence, kv head) counters of the fused merge (NULL: k_attn_combine). */
struct attn_out {
    float *att;
    void *att_h;
    int h_bf16, P;
    int *cnt;
};

/* Element e of one head from its nch chunks (partials at base..): the
 * running maxima rescaled to the overall one. o_idx: row-order index of the
 * output in att_h; (row, i): sequence row length and element for att. */
__device__ __forceinline__ void attn_merge(const float *pm, const float *pl, const float *pacc,
                                           size_t base, int nch, int hs, int e, size_t o_idx,
                                           int row, int i, const attn_out &cm)
{
    float M = -INFINITY;
    for (int c = 0; c < nch; c++)
        M = fmaxf(M, __ldcg(pm + base + c));
    float l = 0, o = 0;
    for (int c = 0; c < nch; c++) {
        float f = __expf(__ldcg(pm + base + c) - M);
        l += f * __ldcg(pl + base + c);
        o += f * __ldcg(pacc + (base + c) * hs + e);
    }
    size_t b = o_idx / row;
    cm.att[b * row + xperm((size_t)i, cm.P, (size_t)row)] = o / l;
    if (cm.att_h) {
        if (cm.h_bf16)
            ((__nv_bfloat16 *)cm.att_h)[o_idx] = __float2bfloat16_rn(o / l);
        else
            ((__half *)cm.att_h)[o_idx] = __float2half_rn(o / l);
    }
}

/* RoPE (llama2.c's pairing of adjacent elements within a head, frequency
 * theta^(-hd/hs) for the pair at hd) of the pair (v0, v1) at position pos. */
__device__ __forceinline__ float2 rope_pair(float v0, float v1, int hd, int hs, int pos,
                                            float theta)
{
    float freq = 1.0f / powf(theta, (float)hd / (float)hs);
    float val = pos * freq, fcr = cosf(val), fci = sinf(val);
    return make_float2(v0 * fcr - v1 * fci, v0 * fci + v1 * fcr);
}

/* Attention, split over positions: block (chunk, kv head, sequence) scores
 * positions [chunk*CH, min((chunk+1)*CH, L+1)) for the G query heads that
 * share the kv head, and writes its partial max, sum of exponentials and
 * weighted sum of V; k_attn_combine merges the chunks. RoPE is applied
 * here: every block rotates its heads' q, and the block of the last chunk
 * (the one holding position L = npos - 1) rotates this step's k and stores
 * k and v at position L of the fp16 cache before scoring it, so no kernel
 * of its own is needed. Limits (checked at open): G <= 8 heads per kv
 * head, head size <= 128, CH <= 256. */
#define ATT_GMAX 8
#define ATT_HSMAX 128
#define ATT_CHMAX 256
__global__ void __launch_bounds__(256)
    k_attn_partial(const float *qkv, int qd, int kvd, int hs, int G, __half *kc, __half *vc,
                   int ctx_alloc, int npos, int CH, float theta, float *pm, float *pl, float *pacc,
                   attn_out cm)
{
    pdl_enter();
    __shared__ float sq[ATT_GMAX][ATT_HSMAX];
    __shared__ float ss[ATT_GMAX][ATT_CHMAX];
    __shared__ float red[8][ATT_GMAX * ATT_HSMAX / 2];
    int chunk = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z, nch = gridDim.x;
    int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
    int t0 = chunk * CH, t1 = min(t0 + CH, npos);
    int H = qd / hs, h2 = hs / 2;
    int pos = npos - 1;
    const float *qb = qkv + (size_t)b * (qd + 2 * kvd);
    const float *q = qb + (size_t)kvh * G * hs;
    float scale = 1.0f / sqrtf((float)hs);
    for (int i = threadIdx.x; i < G * h2; i += blockDim.x) {
        int g = i / h2, hd = 2 * (i % h2);
        float2 r = rope_pair(q[g * hs + hd], q[g * hs + hd + 1], hd, hs, pos, theta);
        sq[g][hd] = r.x * scale;
        sq[g][hd + 1] = r.y * scale;
    }
    if (chunk == nch - 1) {
        const float *k = qb + qd + (size_t)kvh * hs, *v = k + kvd;
        size_t at = ((size_t)b * ctx_alloc + pos) * kvd + (size_t)kvh * hs;
        for (int i = threadIdx.x; i < h2; i += blockDim.x) {
            float2 r = rope_pair(k[2 * i], k[2 * i + 1], 2 * i, hs, pos, theta);
            kc[at + 2 * i] = __float2half_rn(r.x);
            kc[at + 2 * i + 1] = __float2half_rn(r.y);
        }
        for (int i = threadIdx.x; i < hs; i += blockDim.x)
            vc[at + i] = __float2half_rn(v[i]);
    }
    __syncthreads();
    const __half2 *K = (const __half2 *)(kc + (size_t)b * ctx_alloc * kvd + (size_t)kvh * hs);
    const __half2 *V = (const __half2 *)(vc + (size_t)b * ctx_alloc * kvd + (size_t)kvh * hs);
    size_t rs = kvd / 2; /* half2 per position */
    for (int t = t0 + warp; t < t1; t += 8) {
        float2 k0 = lane < h2 ? __half22float2(K[t * rs + lane]) : make_float2(0, 0);
        float2 k1 = lane + 32 < h2 ? __half22float2(K[t * rs + lane + 32]) : make_float2(0, 0);
        for (int g = 0; g < G; g++) {
            float s = 0;
            if (lane < h2)
                s += sq[g][2 * lane] * k0.x + sq[g][2 * lane + 1] * k0.y;
            if (lane + 32 < h2)
                s += sq[g][2 * lane + 64] * k1.x + sq[g][2 * lane + 65] * k1.y;
            s = warp_sum(s);
            if (lane == 0)
                ss[g][t - t0] = s;
        }
    }
    __syncthreads();
    __shared__ float sm[ATT_GMAX], sl[ATT_GMAX];
    if (warp < G) {
        float m = -INFINITY;
        for (int t = lane; t < t1 - t0; t += 32)
            m = fmaxf(m, ss[warp][t]);
        m = warp_max(m);
        float l = 0;
        for (int t = lane; t < t1 - t0; t += 32) {
            float p = __expf(ss[warp][t] - m);
            ss[warp][t] = p;
            l += p;
        }
        l = warp_sum(l);
        if (lane == 0) {
            sm[warp] = m;
            sl[warp] = l;
        }
    }
    __syncthreads();
    float acc[ATT_GMAX][4];
    for (int g = 0; g < ATT_GMAX; g++)
        acc[g][0] = acc[g][1] = acc[g][2] = acc[g][3] = 0;
    for (int t = t0 + warp; t < t1; t += 8) {
        float2 v0 = lane < h2 ? __half22float2(V[t * rs + lane]) : make_float2(0, 0);
        float2 v1 = lane + 32 < h2 ? __half22float2(V[t * rs + lane + 32]) : make_float2(0, 0);
#pragma unroll
        for (int g = 0; g < ATT_GMAX; g++) {
            if (g < G) {
                float p = ss[g][t - t0];
                acc[g][0] += p * v0.x;
                acc[g][1] += p * v0.y;
                acc[g][2] += p * v1.x;
                acc[g][3] += p * v1.y;
            }
        }
    }
    /* Sum the 8 warps' accumulators, half the heads' values at a time (the
     * shared buffer holds G*hs/2 floats per warp). */
    for (int half_ = 0; half_ < 2; half_++) {
        __syncthreads();
#pragma unroll
        for (int g = 0; g < ATT_GMAX; g++) {
            if (g < G) {
                /* element e of head g: half_ 0 takes the first pair (lane),
                 * half_ 1 the second (lane + 32). */
                int pair = lane + half_ * 32;
                if (pair < h2) {
                    red[warp][g * (ATT_HSMAX / 2) + (pair - half_ * 32) * 2] = acc[g][half_ * 2];
                    red[warp][g * (ATT_HSMAX / 2) + (pair - half_ * 32) * 2 + 1] =
                        acc[g][half_ * 2 + 1];
                }
            }
        }
        __syncthreads();
        for (int i = threadIdx.x; i < G * 64; i += blockDim.x) {
            int g = i / 64, e = i % 64, pair = half_ * 32 + e / 2;
            if (pair >= h2)
                continue;
            float s = 0;
            for (int w = 0; w < 8; w++)
                s += red[w][g * (ATT_HSMAX / 2) + e];
            int h = kvh * G + g;
            pacc[(((size_t)b * H + h) * nch + chunk) * hs + pair * 2 + (e & 1)] = s;
        }
    }
    if (threadIdx.x < G) {
        int h = kvh * G + threadIdx.x;
        pm[((size_t)b * H + h) * nch + chunk] = sm[threadIdx.x];
        pl[((size_t)b * H + h) * nch + chunk] = sl[threadIdx.x];
    }
    if (!cm.cnt)
        return;
    /* The merge (cm.cnt != NULL): the last block of (sequence, kv head) to
     * finish merges its G heads' chunks, in chunk order as k_attn_combine
     * does, so no kernel of its own is needed. Each thread's partials are
     * made visible device-wide before the block is counted; the last block
     * resets the count for the next step. */
    __shared__ int last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        int *n = cm.cnt + (size_t)b * gridDim.y + kvh;
        last = atomicAdd(n, 1) == nch - 1;
        if (last)
            *n = 0;
    }
    __syncthreads();
    if (!last)
        return;
    __threadfence();
    for (int i = threadIdx.x; i < G * hs; i += blockDim.x) {
        int h = kvh * G + i / hs;
        attn_merge(pm, pl, pacc, ((size_t)b * H + h) * nch, nch, hs, i % hs,
                   (size_t)b * H * hs + (size_t)h * hs + i % hs, H * hs, h * hs + i % hs, cm);
    }
}

/* Merges the chunks of one (head, sequence): block (h, b), hs threads. */
__global__ void k_attn_combine(const float *pm, const float *pl, const float *pacc, int nch, int hs,
                               attn_out cm)
{
    pdl_enter();
    int h = blockIdx.x, b = blockIdx.y, H = gridDim.x, i = threadIdx.x;
    if (i < hs)
        attn_merge(pm, pl, pacc, ((size_t)b * H + h) * nch, nch, hs, i,
                   (size_t)b * H * hs + (size_t)h * hs + i, H * hs, h * hs + i, cm);
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
