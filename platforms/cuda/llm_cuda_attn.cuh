/* llm_cuda_attn.cuh: attention of the CUDA decode step over the fp16 KV
 * cache, split over positions (flash-decoding) with RoPE and the cache
 * store of the new position folded in, and the merge of the chunks
 * (included by llm_cuda.cu after llm_cuda_kernels.cuh). */
#ifndef JB_LLM_CUDA_ATTN_CUH
#define JB_LLM_CUDA_ATTN_CUH

/* Where the merged attention goes: att (fp32, in the GEMV's layout P) and
 * att_h (bf16/fp16 copy for cuBLAS and qmma, or NULL). */
struct attn_out {
    float *att;
    void *att_h;
    int h_bf16, P;
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
                   int ctx_alloc, int npos, int CH, float theta, float *pm, float *pl, float *pacc)
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

#endif
