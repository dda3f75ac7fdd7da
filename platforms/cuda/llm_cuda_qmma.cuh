/* llm_cuda_qmma.cuh: q8_0/q4_0 matrix times a batch of up to 32 vectors on
 * the tensor cores, reading each quantized weight once (included by
 * llm_cuda.cu after llm_cuda_kernels.cuh).
 *
 * Why: a GEMV that turns codes into fp32 and multiplies on the CUDA cores
 * is bound by those instructions, not by DRAM (q8_0 at 53% and q4_0 at 33%
 * of the copy bandwidth at batch 1 on an H100), and dequantizing the whole
 * matrix to fp16 for cuBLAS moves 5 bytes per weight instead of one. Here
 * the codes become fp16 in registers (two byte permutes, a subtract and a
 * multiply per pair: 1 to 2 instructions per weight) and feed
 * mma.sync.m16n8k16 with fp32 accumulation, so the kernel stays
 * memory-bound up to 32 sequences.
 *
 * Layout. One warp multiplies MT tiles of 16 rows by NT tiles of 8
 * sequences over the chunks of K it owns; the 8 warps of a block split K
 * (chunk c to warp c % 8, so the block reads 8 consecutive chunks of each
 * row at once) and add their partial sums through shared memory. A chunk is
 * 64 V bytes of a row; lane (g, t) = (lane / 4, lane % 4) loads V 16-byte
 * pieces, bytes [16 V t, 16 V (t + 1)), of the chunk of rows g and g + 8 of
 * each row tile (the 4 lanes of a row read 64 V contiguous bytes). A piece
 * is a span of S = 16 (q8_0) or 32 (q4_0) consecutive values, all in one
 * block, so one scale. The sum over k does not care in
 * which order k comes, as long as A and B agree: k-step s of the chunk
 * gives the mma the values 4s..4s+3 of every lane's span, (4s, 4s+1) as
 * the fragment's columns (2t, 2t+1) and (4s+2, 4s+3) as (2t+8, 2t+9).
 * Lane (g, t) then needs exactly values 4s..4s+3 of the same span of
 * sequence g's activations for the B fragment: a 16-byte load of fp16
 * activations covers two k-steps. No repacking of the weights is needed.
 *
 * Numerics: w = code * d rounded once to fp16 (as the dequantize + cuBLAS
 * path computes it), activations in fp16, products summed in fp32. */
#ifndef JB_LLM_CUDA_QMMA_CUH
#define JB_LLM_CUDA_QMMA_CUH

#define QMMA_WARPS 8

/* D += A B for one m16n8k16 tile (fp16 inputs, fp32 accumulators). */
__device__ __forceinline__ void mma_f16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                        uint32_t b1)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, "
                 "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

/* Four codes (bytes of v, already unsigned: code + bias) times the scale
 * d2, as two half2: bytes (0,1) into *lo, (2,3) into *hi. 0x64XX as fp16
 * is 1024 + XX exactly; subtracting 1024 + bias is exact too, so the only
 * rounding is the product with d. */
__device__ __forceinline__ void codes_to_h2(uint32_t v, __half2 bias, __half2 d2, uint32_t *lo,
                                            uint32_t *hi)
{
    uint32_t a = __byte_perm(v, 0x64646464u, 0x5140u), b = __byte_perm(v, 0x64646464u, 0x7362u);
    __half2 ha = __hmul2(__hsub2(*reinterpret_cast<__half2 *>(&a), bias), d2);
    __half2 hb = __hmul2(__hsub2(*reinterpret_cast<__half2 *>(&b), bias), d2);
    *lo = *reinterpret_cast<uint32_t *>(&ha);
    *hi = *reinterpret_cast<uint32_t *>(&hb);
}

/* The 4 codes of k-step s of a lane's 16 bytes q, made unsigned. */
template <int DT>
__device__ __forceinline__ uint32_t step_codes(const uint4 &q, int s)
{
    uint32_t u[4] = {q.x, q.y, q.z, q.w};
    if (DT == DT_Q8)
        return u[s] ^ 0x80808080u; /* signed codes + 128 */
    /* q4_0: byte j holds values j (low nibble) and j + 16 (high): values
     * 4s..4s+3 are the low nibbles of word s for s < 4, else the high
     * nibbles of word s - 4. */
    return s < 4 ? u[s & 3] & 0x0f0f0f0fu : (u[s & 3] >> 4) & 0x0f0f0f0fu;
}

/* y[b][r] (+)= sum_k W[r][k] x[b][k] for b < nb <= 8 NT, with x fp16 [nb][K].
 * Block: MT * 16 rows, all of K, QMMA_WARPS warps. A lane reads V 16-byte
 * pieces of each of its rows per chunk (a chunk is 64 V bytes of a row), V
 * pieces in flight per row, and the next chunk's are loaded before this
 * one is used. GLU (w13, MT = 2): the block's first row tile is gate rows
 * 16c.., its second the same up rows (hid + 16c..), and it writes
 * hh[b][j] = silu(gate) * up in fp16 to y. */
template <int DT, int MT, int NT, int V, bool GLU>
__global__ void __launch_bounds__(QMMA_WARPS * 32)
    k_qmma(const uint8_t *__restrict__ W, const __half *__restrict__ D,
           const __half *__restrict__ x, void *y, int rows, int cols, int nb, int accumulate)
{
    const int S = DT == DT_Q8 ? 16 : 32;   /* values per 16-byte piece */
    const int KS = S / 4;                  /* k-steps per piece */
    const int vpb = DT == DT_Q8 ? 32 : 16; /* bytes of the W plane per block */
    const int CB = 64 * V;                 /* bytes of a row per chunk */
    int warp = threadIdx.x / 32, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    size_t rb = plane_row_bytes(DT, cols);
    int nblk = cols / 32, nchunk = (int)((rb + CB - 1) / CB);
    int hid = rows / 2;
    /* Rows of this lane: tile m, half h (row g or g + 8). */
    int r[MT][2];
#pragma unroll
    for (int m = 0; m < MT; m++) {
        int base = GLU ? (m == 0 ? blockIdx.x * 16 : hid + blockIdx.x * 16)
                       : (blockIdx.x * MT + m) * 16;
        r[m][0] = base + g;
        r[m][1] = base + g + 8;
    }
    const __half2 bias = __float2half2_rn(DT == DT_Q8 ? 1152.0f : 1032.0f);
    float acc[MT][NT][4];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int n = 0; n < NT; n++)
            acc[m][n][0] = acc[m][n][1] = acc[m][n][2] = acc[m][n][3] = 0.0f;

    /* Lane t's piece v of chunk c: bytes [CB c + 16 (V t + v), +16) of the
     * row, a span of S values starting at that offset times the values per
     * byte (zeros past the end of the row). */
    auto piece = [&](int c, int v) { return (size_t)c * CB + 16 * (V * t + v); };
    uint4 q[MT][2][V], qn[MT][2][V];
    __half d[MT][2][V], dn[MT][2][V];
    auto load_w = [&](int c, uint4 (&qq)[MT][2][V], __half (&dd)[MT][2][V]) {
#pragma unroll
        for (int v = 0; v < V; v++) {
            size_t off = piece(c, v);
            bool ok = c < nchunk && off < rb;
#pragma unroll
            for (int m = 0; m < MT; m++)
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    qq[m][h][v] = ok ? __ldcs((const uint4 *)(W + (size_t)r[m][h] * rb + off))
                                     : make_uint4(0, 0, 0, 0);
                    dd[m][h][v] =
                        ok ? D[(size_t)r[m][h] * nblk + off / vpb] : __float2half_rn(0.0f);
                }
        }
    };
    /* Activations of chunk c: sequence 8n + g's values of each span, S / 8
     * uint4 per piece (zeros past the end and past nb). */
    auto load_x = [&](int c, uint4 (&xv)[NT][V][S / 8]) {
#pragma unroll
        for (int v = 0; v < V; v++) {
            size_t k0 = piece(c, v) * 32 / vpb;
            bool kok = c < nchunk && k0 < (size_t)cols;
#pragma unroll
            for (int n = 0; n < NT; n++) {
                int bq = 8 * n + g;
#pragma unroll
                for (int j = 0; j < S / 8; j++)
                    xv[n][v][j] = kok && bq < nb
                                      ? __ldg((const uint4 *)(x + (size_t)bq * cols + k0) + j)
                                      : make_uint4(0, 0, 0, 0);
            }
        }
    };
    /* The next chunk's activations are loaded with its weights (their L2
     * latency off the critical path) where registers allow. */
    constexpr bool XNEXT = NT * V * S / 8 <= 8;
    uint4 xv[NT][V][S / 8], xn[NT][V][S / 8];
    int c = warp;
    load_w(c, q, d);
    pdl_enter();
    load_x(c, xv);
    for (; c < nchunk; c += QMMA_WARPS) {
        load_w(c + QMMA_WARPS, qn, dn); /* the next chunk in flight */
        if constexpr (XNEXT)
            load_x(c + QMMA_WARPS, xn);
#pragma unroll
        for (int v = 0; v < V; v++)
#pragma unroll
            for (int s = 0; s < KS; s++) {
                uint32_t a[MT][4];
#pragma unroll
                for (int m = 0; m < MT; m++) {
                    __half2 d0 = __half2half2(d[m][0][v]), d1 = __half2half2(d[m][1][v]);
                    /* a0: row g, columns (2t, 2t+1); a1: row g+8; a2, a3:
                     * the same rows, columns (2t+8, 2t+9). */
                    codes_to_h2(step_codes<DT>(q[m][0][v], s), bias, d0, &a[m][0], &a[m][2]);
                    codes_to_h2(step_codes<DT>(q[m][1][v], s), bias, d1, &a[m][1], &a[m][3]);
                }
#pragma unroll
                for (int n = 0; n < NT; n++) {
                    /* Values 4s..4s+3 of the span: words 2s and 2s + 1. */
                    const uint32_t *xw = reinterpret_cast<const uint32_t *>(&xv[n][v][0]);
                    uint32_t b0 = xw[2 * s], b1 = xw[2 * s + 1];
#pragma unroll
                    for (int m = 0; m < MT; m++)
                        mma_f16(acc[m][n], a[m], b0, b1);
                }
            }
#pragma unroll
        for (int m = 0; m < MT; m++)
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
                for (int v = 0; v < V; v++) {
                    q[m][h][v] = qn[m][h][v];
                    d[m][h][v] = dn[m][h][v];
                }
        if constexpr (XNEXT) {
#pragma unroll
            for (int n = 0; n < NT; n++)
#pragma unroll
                for (int v = 0; v < V; v++)
#pragma unroll
                    for (int j = 0; j < S / 8; j++)
                        xv[n][v][j] = xn[n][v][j];
        } else {
            load_x(c + QMMA_WARPS, xv);
        }
    }

    /* Partial sums of the 8 warps, [warp][sequence][row of the block]. */
    const int R = MT * 16, NB = NT * 8;
    __shared__ float red[QMMA_WARPS][NB * R];
#pragma unroll
    for (int m = 0; m < MT; m++)
#pragma unroll
        for (int n = 0; n < NT; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int row = m * 16 + g + (e >= 2 ? 8 : 0), seq = n * 8 + 2 * t + (e & 1);
                red[warp][seq * R + row] = acc[m][n][e];
            }
    __syncthreads();
    if constexpr (!GLU) {
        for (int i = threadIdx.x; i < NB * R; i += blockDim.x) {
            int seq = i / R, row = i % R;
            if (seq >= nb)
                continue;
            float s = 0.0f;
#pragma unroll
            for (int w = 0; w < QMMA_WARPS; w++)
                s += red[w][i];
            float *o = (float *)y + (size_t)seq * rows + (size_t)blockIdx.x * R + row;
            *o = accumulate ? *o + s : s;
        }
    } else {
        for (int i = threadIdx.x; i < NB * 16; i += blockDim.x) {
            int seq = i / 16, j = i % 16;
            if (seq >= nb)
                continue;
            float gs = 0.0f, us = 0.0f;
#pragma unroll
            for (int w = 0; w < QMMA_WARPS; w++) {
                gs += red[w][seq * R + j];
                us += red[w][seq * R + 16 + j];
            }
            ((__half *)y)[(size_t)seq * hid + blockIdx.x * 16 + j] =
                __float2half_rn(gs / (1.0f + expf(-gs)) * us);
        }
    }
}

#endif
