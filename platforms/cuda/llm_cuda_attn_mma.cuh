/* llm_cuda_attn_mma.cuh: attention of the CUDA decode step on the tensor
 * cores, for large batches (included by llm_cuda.cu after
 * llm_cuda_qmma.cuh, whose mma_f16 it uses).
 *
 * Why: from batch 32 up the KV cache is most of the bytes of a step (34 GB
 * of the 8B model's 50 at batch 128, context 2048), and k_attn_partial,
 * which reads 4 bytes per lane and reduces each score across a warp with
 * shuffles, ran at a fraction of the copy bandwidth there. Here each warp
 * takes tiles of 16 positions of one kv head and computes the scores of
 * the G query heads that share it and their weighted sum of V with
 * mma.sync.m16n8k16 (fp16 inputs, fp32 accumulation): each K and V
 * element is loaded once, 16 bytes per lane, and used by all G heads; the
 * tensor cores leave the CUDA cores only the softmax.
 *
 * Split and output: as k_attn_partial (flash-decoding): block (chunk, kv
 * head, sequence) covers positions [chunk*CH, min((chunk+1)*CH, npos)),
 * its 4 warps take its 16-position tiles in turn with an online softmax,
 * the block merges its warps in shared memory and writes the same partials
 * (max, sum of exponentials, unnormalized weighted V) that k_attn_combine
 * merges. The last chunk's block rotates this step's k and stores k and v
 * at position npos - 1 first, as k_attn_partial does.
 *
 * Fragments (lane = 4 g + t). Scores S = Q K^T: A is Q (rows: the G heads,
 * padded to 16 with zeros), B is K^T for 8 positions (n = g: lane (g, t)
 * loads row p0 + 8 j + g of K). The sum over the head's dimensions does not
 * care in which order they come, as long as A and B agree: in 32-element
 * chunk c, k-step s gives the mma dimensions c*32 + 8t + 4s + {0,1} as
 * fragment columns (2t, 2t+1) and + {2,3} as (2t+8, 2t+9), so one 16-byte
 * load per lane and row covers two k-steps. Then O = P V: A is P, which is
 * exactly the C fragment of the two score tiles (columns 2t, 2t+1 of tile 0
 * and of tile 1 are A's columns 2t.. and 2t+8..), rounded to fp16; B is V
 * for 16 positions, where lane (g, t) needs rows p0 + 2t, + 1, + 8, + 9 and
 * one column per n-tile: columns are permuted too (n-tile nt, column g is
 * element 8 g + nt of the head for nt < 8, 64 + 8 g + nt - 8 above), so
 * each lane loads 16 contiguous bytes of each of its rows per 8 n-tiles
 * and pairs two rows' halves with one byte permute per fragment register.
 *
 * Numerics: q (after RoPE, times 1/sqrt(hs)) and the probabilities are
 * rounded to fp16 (11 bits), the cache is fp16 already; sums in fp32.
 * Used where the step's matrix products round activations too (the cuBLAS
 * and qmma paths), whose tolerance covers this. Limits (checked at open):
 * head size 64 or 128, G <= 8 query heads per kv head, CH a multiple of 16.
 */
#ifndef JB_LLM_CUDA_ATTN_MMA_CUH
#define JB_LLM_CUDA_ATTN_MMA_CUH

#define AMMA_WARPS 4

/* (lo half of x, lo half of y) and (hi half of x, hi half of y). */
__device__ __forceinline__ uint32_t pack_lo(uint32_t x, uint32_t y)
{
    return __byte_perm(x, y, 0x5410);
}
__device__ __forceinline__ uint32_t pack_hi(uint32_t x, uint32_t y)
{
    return __byte_perm(x, y, 0x7632);
}
__device__ __forceinline__ uint32_t h2_bits(float a, float b)
{
    __half2 h = __floats2half2_rn(a, b);
    return *reinterpret_cast<uint32_t *>(&h);
}
__device__ __forceinline__ uint32_t u4_word(const uint4 &v, int i)
{
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

/* The K rows (two score tiles of 8) and V rows (2t, 2t+1, 2t+8, 2t+9) of
 * the 16 positions from p0 that lane (g, t) feeds to the mma. Rows past t1
 * are read from t1 - 1 (written, finite) and masked by the caller. */
template <int HS>
__device__ __forceinline__ void amma_load(const __half *K, const __half *V, int kvd, int p0,
                                          int t1, int g, int t, uint4 (&kr)[2][HS / 32],
                                          uint4 (&vr)[4][HS / 64])
{
#pragma unroll
    for (int j = 0; j < 2; j++) {
        int r = min(p0 + 8 * j + g, t1 - 1);
#pragma unroll
        for (int c = 0; c < HS / 32; c++)
            kr[j][c] = *reinterpret_cast<const uint4 *>(K + (size_t)r * kvd + c * 32 + 8 * t);
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int r = min(p0 + 2 * t + (i & 1) + 8 * (i >> 1), t1 - 1);
#pragma unroll
        for (int u = 0; u < HS / 64; u++)
            vr[i][u] = *reinterpret_cast<const uint4 *>(V + (size_t)r * kvd + 64 * u + 8 * g);
    }
}

/* One tile of 16 positions from p0: scores, the online softmax's update of
 * (m_run, l_run) and O += P V. */
template <int HS>
__device__ __forceinline__ void amma_tile(int p0, int t1, int t, const uint32_t (&qa)[HS / 32][2][2],
                                          const uint4 (&kr)[2][HS / 32],
                                          const uint4 (&vr)[4][HS / 64], float (&o)[HS / 8][4],
                                          float &m_run, float &l_run)
{
    constexpr int NC = HS / 32, NT = HS / 8;
    float s[2][4];
#pragma unroll
    for (int j = 0; j < 2; j++) {
        s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0;
#pragma unroll
        for (int c = 0; c < NC; c++)
#pragma unroll
            for (int ks = 0; ks < 2; ks++) {
                const uint32_t a[4] = {qa[c][ks][0], 0u, qa[c][ks][1], 0u};
                mma_f16(s[j], a, u4_word(kr[j][c], 2 * ks), u4_word(kr[j][c], 2 * ks + 1));
            }
    }
    /* Scores of head g at positions p0 + 8 j + 2 t + e: s[j][e]. */
    float mx = -INFINITY;
#pragma unroll
    for (int j = 0; j < 2; j++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
            if (p0 + 8 * j + 2 * t + e >= t1)
                s[j][e] = -INFINITY;
            mx = fmaxf(mx, s[j][e]);
        }
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    /* Every tile holds position p0 < t1: mx is finite, and so is m_new. */
    float m_new = fmaxf(m_run, mx), corr = __expf(m_run - m_new);
    m_run = m_new;
    float p[2][2];
#pragma unroll
    for (int j = 0; j < 2; j++)
#pragma unroll
        for (int e = 0; e < 2; e++)
            p[j][e] = __expf(s[j][e] - m_new);
    l_run = l_run * corr + p[0][0] + p[0][1] + p[1][0] + p[1][1];
    const uint32_t pa[4] = {h2_bits(p[0][0], p[0][1]), 0u, h2_bits(p[1][0], p[1][1]), 0u};
#pragma unroll
    for (int n = 0; n < NT; n++) {
        o[n][0] *= corr;
        o[n][1] *= corr;
        int u = n / 8, w = (n % 8) / 2;
        uint32_t b0, b1;
        if (n % 2 == 0) {
            b0 = pack_lo(u4_word(vr[0][u], w), u4_word(vr[1][u], w));
            b1 = pack_lo(u4_word(vr[2][u], w), u4_word(vr[3][u], w));
        } else {
            b0 = pack_hi(u4_word(vr[0][u], w), u4_word(vr[1][u], w));
            b1 = pack_hi(u4_word(vr[2][u], w), u4_word(vr[3][u], w));
        }
        mma_f16(o[n], pa, b0, b1);
    }
}

/* PF: the loads of a warp's next tile are issued before the mma of the
 * current one (one tile in flight while computing, at more registers). */
template <int HS, bool PF>
__global__ void __launch_bounds__(AMMA_WARPS * 32)
    k_attn_mma(const float *qkv, int qd, int kvd, int G, __half *kc, __half *vc, int ctx_alloc,
               int npos, int CH, float theta, float *pm, float *pl, float *pacc)
{
    constexpr int NC = HS / 32; /* 32-element chunks of a head (score k-steps: 2 NC) */
    constexpr int NT = HS / 8;  /* n-tiles of the output (8 elements each) */
    constexpr int NU = HS / 64; /* 16-byte V loads per row and lane */
    pdl_enter();
    __shared__ __align__(16) __half sq[ATT_GMAX][HS];
    __shared__ float so[AMMA_WARPS][ATT_GMAX][HS];
    __shared__ float sm[AMMA_WARPS][ATT_GMAX], sl[AMMA_WARPS][ATT_GMAX];
    int chunk = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z, nch = gridDim.x;
    int warp = threadIdx.x / 32, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int t0 = chunk * CH, t1 = min(t0 + CH, npos);
    int H = qd / HS, pos = npos - 1;
    const float *qb = qkv + (size_t)b * (qd + 2 * kvd);
    const float *q = qb + (size_t)kvh * G * HS;
    float scale = 1.0f / sqrtf((float)HS);
    for (int i = threadIdx.x; i < ATT_GMAX * HS / 2; i += blockDim.x) {
        int gg = i / (HS / 2), hd = 2 * (i % (HS / 2));
        float2 r = make_float2(0, 0);
        if (gg < G)
            r = rope_pair(q[gg * HS + hd], q[gg * HS + hd + 1], hd, HS, pos, theta);
        sq[gg][hd] = __float2half_rn(r.x * scale);
        sq[gg][hd + 1] = __float2half_rn(r.y * scale);
    }
    if (chunk == nch - 1) {
        const float *k = qb + qd + (size_t)kvh * HS, *v = k + kvd;
        size_t at = ((size_t)b * ctx_alloc + pos) * kvd + (size_t)kvh * HS;
        for (int i = threadIdx.x; i < HS / 2; i += blockDim.x) {
            float2 r = rope_pair(k[2 * i], k[2 * i + 1], 2 * i, HS, pos, theta);
            kc[at + 2 * i] = __float2half_rn(r.x);
            kc[at + 2 * i + 1] = __float2half_rn(r.y);
        }
        for (int i = threadIdx.x; i < HS; i += blockDim.x)
            vc[at + i] = __float2half_rn(v[i]);
    }
    __syncthreads();
    /* Q as A fragments: rows g (head g), columns as the comment above. */
    uint32_t qa[NC][2][2];
#pragma unroll
    for (int c = 0; c < NC; c++) {
        uint4 w = *reinterpret_cast<const uint4 *>(&sq[g][c * 32 + 8 * t]);
        qa[c][0][0] = w.x, qa[c][0][1] = w.y, qa[c][1][0] = w.z, qa[c][1][1] = w.w;
    }
    /* Plain loads (not the read-only path): this kernel wrote position
     * npos - 1 of the cache above. */
    const __half *K = kc + (size_t)b * ctx_alloc * kvd + (size_t)kvh * HS;
    const __half *V = vc + (size_t)b * ctx_alloc * kvd + (size_t)kvh * HS;
    float o[NT][4];
#pragma unroll
    for (int n = 0; n < NT; n++)
        o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0;
    float m_run = -INFINITY, l_run = 0;
    if (PF) {
        uint4 kr[2][NC], vr[4][NU];
        int p0 = t0 + 16 * warp;
        amma_load<HS>(K, V, kvd, p0, t1, g, t, kr, vr);
        for (; p0 < t1; p0 += 16 * AMMA_WARPS) {
            uint4 kn[2][NC], vn[4][NU];
            amma_load<HS>(K, V, kvd, p0 + 16 * AMMA_WARPS, t1, g, t, kn, vn);
            amma_tile<HS>(p0, t1, t, qa, kr, vr, o, m_run, l_run);
#pragma unroll
            for (int j = 0; j < 2; j++)
#pragma unroll
                for (int c = 0; c < NC; c++)
                    kr[j][c] = kn[j][c];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int u = 0; u < NU; u++)
                    vr[i][u] = vn[i][u];
        }
    } else {
        for (int p0 = t0 + 16 * warp; p0 < t1; p0 += 16 * AMMA_WARPS) {
            uint4 kr[2][NC], vr[4][NU];
            amma_load<HS>(K, V, kvd, p0, t1, g, t, kr, vr);
            amma_tile<HS>(p0, t1, t, qa, kr, vr, o, m_run, l_run);
        }
    }
    /* This warp's partial for head g: l over the 4 lanes of the row, and
     * O's columns back in element order (column 2t + e of n-tile n is
     * element 64 (n / 8) + 8 (2t + e) + n % 8). */
    l_run += __shfl_xor_sync(0xffffffffu, l_run, 1);
    l_run += __shfl_xor_sync(0xffffffffu, l_run, 2);
    if (g < G) {
#pragma unroll
        for (int n = 0; n < NT; n++)
#pragma unroll
            for (int e = 0; e < 2; e++)
                so[warp][g][64 * (n / 8) + 8 * (2 * t + e) + n % 8] = o[n][e];
        if (t == 0) {
            sm[warp][g] = m_run;
            sl[warp][g] = l_run;
        }
    }
    __syncthreads();
    /* Merge the warps (a warp without a tile has max -inf: weight 0). */
    for (int i = threadIdx.x; i < G * HS; i += blockDim.x) {
        int gg = i / HS, e = i % HS;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < AMMA_WARPS; w++)
            M = fmaxf(M, sm[w][gg]);
        float acc = 0, l = 0;
#pragma unroll
        for (int w = 0; w < AMMA_WARPS; w++) {
            float f = __expf(sm[w][gg] - M);
            acc += f * so[w][gg][e];
            l += f * sl[w][gg];
        }
        size_t at = ((size_t)b * H + kvh * G + gg) * nch + chunk;
        pacc[at * HS + e] = acc;
        if (e == 0) {
            pm[at] = M;
            pl[at] = l;
        }
    }
}

#endif
