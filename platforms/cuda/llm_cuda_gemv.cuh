/* llm_cuda_gemv.cuh: the GEMV of the CUDA decode step (batch 1, and up to
 * 8 sequences on request): one warp per output row, written for bytes in
 * flight, with SwiGLU and optionally RMSNorm folded in (included by
 * llm_cuda.cu after llm_cuda_kernels.cuh). */
#ifndef JB_LLM_CUDA_GEMV_CUH
#define JB_LLM_CUDA_GEMV_CUH

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

#endif
