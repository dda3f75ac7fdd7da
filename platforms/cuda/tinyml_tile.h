/* tinyml_tile.h: the arithmetic of the tiled TinyML CUDA kernels
 * (kernels=tiled of tinyml_cuda.cu), written once for the GPU and for the
 * host, so that tests/test_tinyml_tiled_emu.c can run the very same index
 * math, tile edges and int8 requantization in plain C against the CPU
 * reference on a machine without a GPU.
 *
 * Why tiles: the plain kernels give one thread per output, each reading
 * its whole receptive field and its filter from global memory; at batch 256
 * the same input pixels and filters are read again by every neighbour.
 * Here a block stages a tile of the operands in shared memory once:
 *  - conv (1x1 included) and fully connected are one matrix product:
 *    rows m = (item, oy, ox) (FC: the item), columns n = output channel,
 *    k = (ky, kx, ic), the weights' own order. A block computes a
 *    JB_TM_GEMM_TM x JB_TM_GEMM_TN tile, 4 x 4 outputs per thread, over
 *    chunks of JB_TM_GEMM_TK values of k (the input gathered im2col-style
 *    into shared memory as it is loaded, padding as zeros);
 *  - depthwise: a block computes JB_TM_DW_TH x JB_TM_DW_TW output pixels of
 *    JB_TM_DW_TC channels of one item from the input tile (with its halo)
 *    and the filters in shared memory.
 * Every output is still summed by one thread in the reference's order
 * (ky, kx, ic), so int8 stays bit-exact and fp32 rounds as the plain
 * kernels do. Padding enters as a zero product: int8 stores x - zero point,
 * so padded cells are 0 exactly as the reference's skipped ones; in fp32,
 * acc + (+-0) is acc for every acc the sum can reach (it starts at +0 and
 * round-to-nearest never yields -0 from a sum unless both terms are -0).
 *
 * A kernel is three phases that both sides run in the same order: load
 * (every thread of the block fills its share of shared memory), barrier,
 * multiply-accumulate, barrier; and store at the end. The GPU runs them
 * with __syncthreads() between; the emulator runs each phase for thread 0
 * to JB_TM_TILE_THREADS - 1 before the next. */
#ifndef JB_TINYML_TILE_H
#define JB_TINYML_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "platforms/cpu/tinyml_kernels.h"

#ifdef __CUDACC__
#define JB_TM_HD __host__ __device__ __forceinline__
#define JB_TM_HOST static inline __host__
#else
#define JB_TM_HD static inline
#define JB_TM_HOST static inline
#endif

/* Threads per tiled block: 16 x 16 for the product, 32 channels x 8 rows
 * for depthwise. */
#define JB_TM_TILE_THREADS 256
/* Product tile: 64 x 64 outputs, 4 x 4 per thread (rows ty + 16 i, columns
 * tx + 16 j: a warp's 32 lanes read 16 consecutive weights and 2 input
 * values from shared memory per step, no bank conflicts), k in chunks of
 * 16 (16 lanes load 16 consecutive channels: coalesced where in_c >= 16). */
#define JB_TM_GEMM_TM 64
#define JB_TM_GEMM_TN 64
#define JB_TM_GEMM_TK 16
#define JB_TM_GEMM_R 4
/* Depthwise tile: 8 x 8 pixels x 32 channels; a thread owns one channel
 * and one row of 8 pixels (32 lanes = 32 consecutive channels: coalesced
 * NHWC loads and stores). */
#define JB_TM_DW_TH 8
#define JB_TM_DW_TW 8
#define JB_TM_DW_TC 32
/* Shared memory a depthwise tile may take, in 4-byte values (48 KiB: the
 * limit without opting in; 3x3 stride 2 needs 17 x 17 x 32 + 9 x 32).
 * A layer over it runs the plain kernel. */
#define JB_TM_DW_SMEM_MAX 12288

/* One layer as the kernels see it: the geometry and quantization of struct
 * jb_tm_layer with device (or, in the emulator, host) pointers, and the
 * tensors it reads and writes (item i of a tensor of e elements starts at
 * element i * e). */
struct jb_tm_dev_layer {
    int op, q; /* enum jb_tm_op; q: int8 */
    int in_h, in_w, in_c, out_h, out_w, out_c;
    int k_h, k_w, stride_h, stride_w, pad_top, pad_left;
    const void *w, *b;
    const int32_t *mult, *shift;
    float act_min_f, act_max_f;
    int32_t in_zp, in2_zp, out_zp, act_min, act_max;
    int32_t add_left_shift, in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    float in_scale;
    const void *x, *x2;
    void *y;
    size_t in_elems, out_elems; /* per item */
};

/* A value in shared memory and an accumulator: int8's x - zero point (or
 * weight) and its int32 sum, or fp32's value and sum. */
union jb_tm_sv {
    int32_t i;
    float f;
};

/* The layer's parameters from the model's description; pointers to the
 * model's host arrays (the CUDA back-end replaces them with its copies). */
JB_TM_HOST struct jb_tm_dev_layer jb_tm_dev_layer_of(const struct jb_tm_layer *l,
                                                     size_t in_elems, size_t out_elems)
{
    struct jb_tm_dev_layer d;
    d.op = (int)l->op;
    d.q = l->dtype == JB_TM_INT8;
    d.in_h = l->in_h, d.in_w = l->in_w, d.in_c = l->in_c;
    d.out_h = l->out_h, d.out_w = l->out_w, d.out_c = l->out_c;
    d.k_h = l->k_h, d.k_w = l->k_w, d.stride_h = l->stride_h, d.stride_w = l->stride_w;
    d.pad_top = l->pad_top, d.pad_left = l->pad_left;
    d.w = l->weights, d.b = l->bias, d.mult = l->mult, d.shift = l->shift;
    d.act_min_f = l->act_min_f, d.act_max_f = l->act_max_f;
    d.in_zp = l->in_zp, d.in2_zp = l->in2_zp, d.out_zp = l->out_zp;
    d.act_min = l->act_min, d.act_max = l->act_max;
    d.add_left_shift = l->add_left_shift;
    d.in1_mult = l->in1_mult, d.in1_shift = l->in1_shift;
    d.in2_mult = l->in2_mult, d.in2_shift = l->in2_shift;
    d.out_mult = l->out_mult, d.out_shift = l->out_shift;
    d.in_scale = l->in_scale;
    d.x = NULL, d.x2 = NULL, d.y = NULL;
    d.in_elems = in_elems, d.out_elems = out_elems;
    return d;
}

/* tinyml_simd.h's jb_tm_mbqm_inline, for both sides: gemmlowp's
 * SaturatingRoundingDoublingHighMul then RoundingDivideByPOT. Keep the two
 * identical; the bit-exact tests compare their results through whole
 * models. */
JB_TM_HD int32_t jb_tm_tile_mbqm(int32_t x, int32_t mult, int32_t shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t a = (int32_t)((uint32_t)x << left);
    int32_t hi;
    if (a == mult && a == INT32_MIN) {
        hi = INT32_MAX;
    } else {
        int64_t ab = (int64_t)a * (int64_t)mult;
        int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
        hi = (int32_t)((ab + nudge) / (1ll << 31));
    }
    int32_t mask = (int32_t)((1ll << right) - 1);
    int32_t rem = hi & mask;
    int32_t threshold = (mask >> 1) + (hi < 0 ? 1 : 0);
    return (hi >> right) + (rem > threshold ? 1 : 0);
}

/* The reference's `acc += x * w` in float, rounded twice as the host does
 * (nvcc would otherwise contract it into one fused multiply-add). */
JB_TM_HD float jb_tm_tile_mac(float acc, float x, float w)
{
#ifdef __CUDA_ARCH__
    return __fadd_rn(acc, __fmul_rn(x, w));
#else
    float p = x * w;
    return acc + p;
#endif
}

/* The end of every multiply-accumulate layer, as the reference ends them:
 * int8 adds the int32 bias, requantizes, adds the output zero point and
 * clamps to the activation range; fp32 adds the bias (one rounding) and
 * clamps. idx: the output element in the batch, ch its channel. */
JB_TM_HD void jb_tm_tile_store(const struct jb_tm_dev_layer *l, size_t idx, int ch,
                               union jb_tm_sv acc)
{
    if (l->q) {
        int32_t v = acc.i + ((const int32_t *)l->b)[ch];
        v = jb_tm_tile_mbqm(v, l->mult[ch], l->shift[ch]) + l->out_zp;
        v = v < l->act_min ? l->act_min : v > l->act_max ? l->act_max : v;
        ((int8_t *)l->y)[idx] = (int8_t)v;
    } else {
        float v;
#ifdef __CUDA_ARCH__
        v = __fadd_rn(acc.f, ((const float *)l->b)[ch]);
#else
        v = acc.f + ((const float *)l->b)[ch];
#endif
        v = v < l->act_min_f ? l->act_min_f : v > l->act_max_f ? l->act_max_f : v;
        ((float *)l->y)[idx] = v;
    }
}

/* An input value as shared memory holds it: int8 x - zero point. */
JB_TM_HD union jb_tm_sv jb_tm_tile_in(const struct jb_tm_dev_layer *l, size_t off)
{
    union jb_tm_sv v;
    if (l->q)
        v.i = (int32_t)((const int8_t *)l->x)[off] - l->in_zp;
    else
        v.f = ((const float *)l->x)[off];
    return v;
}

JB_TM_HD union jb_tm_sv jb_tm_tile_w(const struct jb_tm_dev_layer *l, size_t off)
{
    union jb_tm_sv v;
    if (l->q)
        v.i = (int32_t)((const int8_t *)l->w)[off];
    else
        v.f = ((const float *)l->w)[off];
    return v;
}

/* ---- conv and fully connected as one product ---- */

/* The product's shape: M rows (item, oy, ox), N = out_c columns, K =
 * k_h k_w in_c (FC: one pixel, a 1x1 "kernel" over in_c inputs). */
struct jb_tm_gemm_geom {
    int M, N, K;
    int out_h, out_w, in_h, in_w, in_c, k_w;
    int stride_h, stride_w, pad_top, pad_left;
};

JB_TM_HOST struct jb_tm_gemm_geom jb_tm_gemm_geom_of(const struct jb_tm_dev_layer *l, int batch)
{
    struct jb_tm_gemm_geom g;
    if (l->op == JB_TM_FC) {
        g.out_h = g.out_w = g.in_h = g.in_w = g.k_w = 1;
        g.stride_h = g.stride_w = 1;
        g.pad_top = g.pad_left = 0;
        g.K = l->in_c;
    } else {
        g.out_h = l->out_h, g.out_w = l->out_w, g.in_h = l->in_h, g.in_w = l->in_w;
        g.k_w = l->k_w, g.stride_h = l->stride_h, g.stride_w = l->stride_w;
        g.pad_top = l->pad_top, g.pad_left = l->pad_left;
        g.K = l->k_h * l->k_w * l->in_c;
    }
    g.in_c = l->in_c;
    g.M = batch * g.out_h * g.out_w;
    g.N = l->out_c;
    return g;
}

/* Blocks of the product's grid: x over row tiles, y over column tiles. */
JB_TM_HOST void jb_tm_gemm_grid(const struct jb_tm_gemm_geom *g, unsigned *gx, unsigned *gy)
{
    *gx = (unsigned)((g->M + JB_TM_GEMM_TM - 1) / JB_TM_GEMM_TM);
    *gy = (unsigned)((g->N + JB_TM_GEMM_TN - 1) / JB_TM_GEMM_TN);
}

/* Input element of row m, k index k; -1 where the window leaves the input
 * (padding) or the tile runs past the matrix. */
JB_TM_HD long long jb_tm_gemm_a_off(const struct jb_tm_dev_layer *l,
                                    const struct jb_tm_gemm_geom *g, int m, int k)
{
    if (m >= g->M || k >= g->K)
        return -1;
    int ox = m % g->out_w, t = m / g->out_w;
    int oy = t % g->out_h, b = t / g->out_h;
    int ic = k % g->in_c, t2 = k / g->in_c;
    int kx = t2 % g->k_w, ky = t2 / g->k_w;
    int iy = oy * g->stride_h - g->pad_top + ky;
    int ix = ox * g->stride_w - g->pad_left + kx;
    if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w)
        return -1;
    return (long long)b * (long long)l->in_elems +
           ((long long)iy * g->in_w + ix) * g->in_c + ic;
}

/* Load phase: thread tid of block (m0, n0) fills its share of the chunk
 * k0.. of both tiles. as[k][m], ws[k][n]: one padding column so that the
 * 16 lanes storing consecutive k hit different banks. */
JB_TM_HD void jb_tm_gemm_load(const struct jb_tm_dev_layer *l, const struct jb_tm_gemm_geom *g,
                              int m0, int n0, int k0, int tid,
                              union jb_tm_sv (*as)[JB_TM_GEMM_TM + 1],
                              union jb_tm_sv (*ws)[JB_TM_GEMM_TN + 1])
{
    for (int e = tid; e < JB_TM_GEMM_TM * JB_TM_GEMM_TK; e += JB_TM_TILE_THREADS) {
        int r = e / JB_TM_GEMM_TK, c = e % JB_TM_GEMM_TK;
        long long off = jb_tm_gemm_a_off(l, g, m0 + r, k0 + c);
        union jb_tm_sv v;
        v.i = 0; /* int 0 and +0.0f are the same bits */
        if (off >= 0)
            v = jb_tm_tile_in(l, (size_t)off);
        as[c][r] = v;
    }
    for (int e = tid; e < JB_TM_GEMM_TN * JB_TM_GEMM_TK; e += JB_TM_TILE_THREADS) {
        int r = e / JB_TM_GEMM_TK, c = e % JB_TM_GEMM_TK;
        int n = n0 + r, k = k0 + c;
        union jb_tm_sv v;
        v.i = 0;
        if (n < g->N && k < g->K)
            v = jb_tm_tile_w(l, (size_t)n * (size_t)g->K + (size_t)k);
        ws[c][r] = v;
    }
}

/* Multiply-accumulate phase: the chunk's k in order (only those below K),
 * into the thread's 4 x 4 accumulators. */
JB_TM_HD void jb_tm_gemm_mac(const struct jb_tm_dev_layer *l, const struct jb_tm_gemm_geom *g,
                             int k0, int tid, const union jb_tm_sv (*as)[JB_TM_GEMM_TM + 1],
                             const union jb_tm_sv (*ws)[JB_TM_GEMM_TN + 1],
                             union jb_tm_sv acc[JB_TM_GEMM_R][JB_TM_GEMM_R])
{
    int ty = tid / 16, tx = tid % 16;
    int kn = g->K - k0 < JB_TM_GEMM_TK ? g->K - k0 : JB_TM_GEMM_TK;
    if (l->q) {
        for (int kk = 0; kk < kn; kk++)
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
            for (int i = 0; i < JB_TM_GEMM_R; i++) {
                int32_t a = as[kk][ty + 16 * i].i;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
                for (int j = 0; j < JB_TM_GEMM_R; j++)
                    acc[i][j].i += a * ws[kk][tx + 16 * j].i;
            }
    } else {
        for (int kk = 0; kk < kn; kk++)
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
            for (int i = 0; i < JB_TM_GEMM_R; i++) {
                float a = as[kk][ty + 16 * i].f;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
                for (int j = 0; j < JB_TM_GEMM_R; j++)
                    acc[i][j].f = jb_tm_tile_mac(acc[i][j].f, a, ws[kk][tx + 16 * j].f);
            }
    }
}

/* Store phase: the thread's outputs inside the matrix. Row m, column n is
 * element m N + n of the batch's output (NHWC; FC: item m). */
JB_TM_HD void jb_tm_gemm_store(const struct jb_tm_dev_layer *l, const struct jb_tm_gemm_geom *g,
                               int m0, int n0, int tid,
                               union jb_tm_sv acc[JB_TM_GEMM_R][JB_TM_GEMM_R])
{
    int ty = tid / 16, tx = tid % 16;
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
    for (int i = 0; i < JB_TM_GEMM_R; i++)
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
        for (int j = 0; j < JB_TM_GEMM_R; j++) {
            int m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
            if (m < g->M && n < g->N)
                jb_tm_tile_store(l, (size_t)m * (size_t)g->N + (size_t)n, n, acc[i][j]);
        }
}

/* ---- depthwise ---- */

/* The input tile (with halo) of a depthwise block, and its size in shared
 * memory (input tile then filters, in values); 0 where it exceeds
 * JB_TM_DW_SMEM_MAX. */
JB_TM_HD int jb_tm_dw_in_th(const struct jb_tm_dev_layer *l)
{
    return (JB_TM_DW_TH - 1) * l->stride_h + l->k_h;
}

JB_TM_HD int jb_tm_dw_in_tw(const struct jb_tm_dev_layer *l)
{
    return (JB_TM_DW_TW - 1) * l->stride_w + l->k_w;
}

JB_TM_HOST size_t jb_tm_dw_smem_values(const struct jb_tm_dev_layer *l)
{
    size_t n = (size_t)(jb_tm_dw_in_th(l) * jb_tm_dw_in_tw(l) + l->k_h * l->k_w) * JB_TM_DW_TC;
    return n <= JB_TM_DW_SMEM_MAX ? n : 0;
}

/* Blocks: item, tile row, tile column, channel tile, channel tile fastest. */
struct jb_tm_dw_tile {
    int b, oy0, ox0, c0;
};

JB_TM_HOST unsigned jb_tm_dw_blocks(const struct jb_tm_dev_layer *l, int batch)
{
    size_t ty = (size_t)(l->out_h + JB_TM_DW_TH - 1) / JB_TM_DW_TH;
    size_t tx = (size_t)(l->out_w + JB_TM_DW_TW - 1) / JB_TM_DW_TW;
    size_t tc = (size_t)(l->out_c + JB_TM_DW_TC - 1) / JB_TM_DW_TC;
    return (unsigned)((size_t)batch * ty * tx * tc);
}

JB_TM_HD struct jb_tm_dw_tile jb_tm_dw_tile_of(const struct jb_tm_dev_layer *l, unsigned blk)
{
    int tx = (l->out_w + JB_TM_DW_TW - 1) / JB_TM_DW_TW;
    int ty = (l->out_h + JB_TM_DW_TH - 1) / JB_TM_DW_TH;
    int tc = (l->out_c + JB_TM_DW_TC - 1) / JB_TM_DW_TC;
    struct jb_tm_dw_tile t;
    t.c0 = (int)(blk % (unsigned)tc) * JB_TM_DW_TC;
    blk /= (unsigned)tc;
    t.ox0 = (int)(blk % (unsigned)tx) * JB_TM_DW_TW;
    blk /= (unsigned)tx;
    t.oy0 = (int)(blk % (unsigned)ty) * JB_TM_DW_TH;
    t.b = (int)(blk / (unsigned)ty);
    return t;
}

/* Load phase: the input tile [py][px][c] (x - zero point, padding and
 * channels past the end as 0) then the filters [ky][kx][c]. */
JB_TM_HD void jb_tm_dw_load(const struct jb_tm_dev_layer *l, struct jb_tm_dw_tile t, int tid,
                            union jb_tm_sv *sm)
{
    int ith = jb_tm_dw_in_th(l), itw = jb_tm_dw_in_tw(l), C = l->in_c;
    int n_in = ith * itw * JB_TM_DW_TC;
    int iy0 = t.oy0 * l->stride_h - l->pad_top, ix0 = t.ox0 * l->stride_w - l->pad_left;
    for (int e = tid; e < n_in; e += JB_TM_TILE_THREADS) {
        int cl = e % JB_TM_DW_TC, p = e / JB_TM_DW_TC;
        int iy = iy0 + p / itw, ix = ix0 + p % itw, c = t.c0 + cl;
        union jb_tm_sv v;
        v.i = 0;
        if (c < C && iy >= 0 && iy < l->in_h && ix >= 0 && ix < l->in_w)
            v = jb_tm_tile_in(l, (size_t)t.b * l->in_elems +
                                     ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C +
                                     (size_t)c);
        sm[e] = v;
    }
    for (int e = tid; e < l->k_h * l->k_w * JB_TM_DW_TC; e += JB_TM_TILE_THREADS) {
        int cl = e % JB_TM_DW_TC, kk = e / JB_TM_DW_TC, c = t.c0 + cl;
        union jb_tm_sv v;
        v.i = 0;
        if (c < C)
            v = jb_tm_tile_w(l, (size_t)kk * (size_t)C + (size_t)c);
        sm[n_in + e] = v;
    }
}

/* Compute and store phase: thread (row tid / 32, channel tid % 32), the 8
 * pixels of its row, each summed over (ky, kx) in the reference's order. */
JB_TM_HD void jb_tm_dw_compute(const struct jb_tm_dev_layer *l, struct jb_tm_dw_tile t, int tid,
                               const union jb_tm_sv *sm)
{
    int ith = jb_tm_dw_in_th(l), itw = jb_tm_dw_in_tw(l);
    int cl = tid % JB_TM_DW_TC, row = tid / JB_TM_DW_TC;
    int c = t.c0 + cl, oy = t.oy0 + row;
    const union jb_tm_sv *ws = sm + ith * itw * JB_TM_DW_TC;
    if (c >= l->out_c || oy >= l->out_h)
        return;
    for (int j = 0; j < JB_TM_DW_TW; j++) {
        int ox = t.ox0 + j;
        if (ox >= l->out_w)
            break;
        union jb_tm_sv acc;
        acc.i = 0;
        for (int ky = 0; ky < l->k_h; ky++)
            for (int kx = 0; kx < l->k_w; kx++) {
                union jb_tm_sv x =
                    sm[((row * l->stride_h + ky) * itw + j * l->stride_w + kx) * JB_TM_DW_TC + cl];
                union jb_tm_sv w = ws[(ky * l->k_w + kx) * JB_TM_DW_TC + cl];
                if (l->q)
                    acc.i += x.i * w.i;
                else
                    acc.f = jb_tm_tile_mac(acc.f, x.f, w.f);
            }
        jb_tm_tile_store(l,
                         (size_t)t.b * l->out_elems +
                             ((size_t)oy * (size_t)l->out_w + (size_t)ox) * (size_t)l->out_c +
                             (size_t)c,
                         c, acc);
    }
}

#endif
