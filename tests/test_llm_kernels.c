/* test_llm_kernels.c: the LLM number formats and kernels. fp16/bf16
 * conversions round to nearest even at every boundary (normal, subnormal,
 * overflow); q8_0/q4_0 blocks have ggml's byte layout and error bounds;
 * every kernel table this CPU can run (reference, AVX2, AVX-512, NEON) gives the
 * exact result of its arithmetic for every precision, for row lengths that
 * exercise the vector tails, and the fused attention agrees with a softmax
 * computed in double for every group size, head width and depth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "platforms/cpu/llm_kernels.h"
#include "workloads/llm/llm.h" /* the configuration table, for the RoPE factors */

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_fp16(void **state)
{
    (void)state;
    assert_int_equal(jb_fp16_from_f32(1.0f), 0x3c00);
    assert_int_equal(jb_fp16_from_f32(-2.0f), 0xc000);
    assert_int_equal(jb_fp16_from_f32(65504.0f), 0x7bff);
    assert_int_equal(jb_fp16_from_f32(65519.0f), 0x7bff); /* below the halfway point */
    assert_int_equal(jb_fp16_from_f32(65520.0f), 0x7c00); /* rounds to infinity */
    assert_int_equal(jb_fp16_from_f32(ldexpf(1.0f, -24)), 0x0001);
    assert_int_equal(jb_fp16_from_f32(ldexpf(1.0f, -25)), 0x0000);   /* tie: to even (0) */
    assert_int_equal(jb_fp16_from_f32(ldexpf(3.0f, -25)), 0x0002);   /* tie: to even (2) */
    assert_int_equal(jb_fp16_from_f32(1.0f + ldexpf(1.0f, -11)), 0x3c00); /* tie to even */
    assert_int_equal(jb_fp16_from_f32(1.0f + ldexpf(3.0f, -11)), 0x3c02);
    assert_int_equal(jb_fp16_from_f32(ldexpf(1023.0f, -24) + ldexpf(1.0f, -25)), 0x0400);
    assert_true(isnan(jb_f32_from_fp16(jb_fp16_from_f32(NAN))));
    /* every finite half converts to a float and back to itself */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00)
            continue;
        assert_int_equal(jb_fp16_from_f32(jb_f32_from_fp16((uint16_t)h)), h);
    }
    assert_true(jb_f32_from_fp16(0x0001) == ldexpf(1.0f, -24));
    assert_true(jb_f32_from_fp16(0x7bff) == 65504.0f);
}

static void test_bf16(void **state)
{
    (void)state;
    assert_int_equal(jb_bf16_from_f32(1.0f), 0x3f80);
    assert_int_equal(jb_bf16_from_f32(from_bits(0x3f808000u)), 0x3f80); /* tie to even */
    assert_int_equal(jb_bf16_from_f32(from_bits(0x3f818000u)), 0x3f82);
    assert_int_equal(jb_bf16_from_f32(from_bits(0x3f808001u)), 0x3f81);
    assert_true(jb_f32_from_bf16(0xc040) == -3.0f);
    assert_true(isnan(jb_f32_from_bf16(jb_bf16_from_f32(NAN))));
}

static void test_block_layout(void **state)
{
    (void)state;
    float x[32], y[32];
    for (int j = 0; j < 32; j++)
        x[j] = (float)(j - 16) * 0.25f; /* -4 .. 3.75 */
    struct jb_block_q4_0 b4;
    jb_llm_quantize_row(JB_LLM_Q4_0, x, &b4, 32);
    /* the largest magnitude is -4 = -8 * d, so d = 0.5 and x[0] gets code 0 */
    assert_true(jb_f32_from_fp16(b4.d) == 0.5f);
    assert_int_equal(b4.qs[0] & 0xf, 0);      /* element 0 in the low nibble of byte 0 */
    assert_int_equal(b4.qs[0] >> 4, 8);       /* element 16 (0.0) in its high nibble */
    assert_int_equal(b4.qs[15] >> 4, 15);     /* element 31 (3.75 -> 7.5 -> 15, clamped) */
    jb_llm_dequantize_row(JB_LLM_Q4_0, &b4, y, 32);
    for (int j = 0; j < 32; j++)
        assert_true(fabsf(y[j] - x[j]) <= 0.25f + 1e-6f);
    struct jb_block_q8_0 b8;
    jb_llm_quantize_row(JB_LLM_Q8_0, x, &b8, 32);
    assert_true(fabsf(jb_f32_from_fp16(b8.d) - 4.0f / 127.0f) < 1e-5f);
    assert_int_equal(b8.qs[0], -127);
    assert_int_equal(b8.qs[16], 0);
    assert_int_equal(b8.qs[31], 119); /* round(3.75 * 127 / 4) = round(119.06) */
    jb_llm_dequantize_row(JB_LLM_Q8_0, &b8, y, 32);
    for (int j = 0; j < 32; j++)
        assert_true(fabsf(y[j] - x[j]) <= 2.0f / 127.0f + 1e-6f);
    /* an all-zero block stays zero (no division by zero) */
    memset(x, 0, sizeof(x));
    jb_llm_quantize_row(JB_LLM_Q4_0, x, &b4, 32);
    jb_llm_dequantize_row(JB_LLM_Q4_0, &b4, y, 32);
    for (int j = 0; j < 32; j++)
        assert_true(y[j] == 0.0f);
}

static float frand(void);

/* ggml's get_scale_min_k4, written out as ggml-quants.c has it. */
static void ggml_scale_min(int j, const uint8_t *q, int *d, int *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/* Hand-made k-quant blocks (bytes set directly, not by the quantizer)
 * dequantize to what ggml's formulas say, element by element; then the
 * quantizer's blocks keep every weight within half a step. */
static void test_kquant_layout(void **state)
{
    (void)state;
    uint8_t raw[210];
    float y[256];
    for (int i = 0; i < 210; i++)
        raw[i] = (uint8_t)(i * 37 + 11);
    /* q4_K: d = 0.5, dmin = 0.25 */
    struct jb_block_q4_K b4;
    memcpy(&b4, raw, sizeof(b4));
    b4.d = jb_fp16_from_f32(0.5f);
    b4.dmin = jb_fp16_from_f32(0.25f);
    jb_llm_dequantize_row(JB_LLM_Q4_K, &b4, y, 256);
    for (int i = 0; i < 256; i++) {
        int c = i / 64, l = i % 32, hi = i % 64 >= 32, j = 2 * c + hi, sc, m;
        ggml_scale_min(j, b4.scales, &sc, &m);
        int q = hi ? b4.qs[32 * c + l] >> 4 : b4.qs[32 * c + l] & 15;
        assert_true(y[i] == 0.5f * (float)sc * (float)q - 0.25f * (float)m);
    }
    /* q5_K: the fifth bit from qh */
    struct jb_block_q5_K b5;
    memcpy(&b5, raw, sizeof(b5));
    b5.d = jb_fp16_from_f32(0.5f);
    b5.dmin = jb_fp16_from_f32(0.25f);
    jb_llm_dequantize_row(JB_LLM_Q5_K, &b5, y, 256);
    for (int i = 0; i < 256; i++) {
        int c = i / 64, l = i % 32, hi = i % 64 >= 32, j = 2 * c + hi, sc, m;
        ggml_scale_min(j, b5.scales, &sc, &m);
        int q = (hi ? b5.qs[32 * c + l] >> 4 : b5.qs[32 * c + l] & 15) +
                ((b5.qh[l] >> j) & 1 ? 16 : 0);
        assert_true(y[i] == 0.5f * (float)sc * (float)q - 0.25f * (float)m);
    }
    /* q6_K: d = 0.125; 4 bits from ql, 2 from qh, scale per 16 */
    struct jb_block_q6_K b6;
    memcpy(&b6, raw, sizeof(b6));
    b6.d = jb_fp16_from_f32(0.125f);
    jb_llm_dequantize_row(JB_LLM_Q6_K, &b6, y, 256);
    for (int i = 0; i < 256; i++) {
        int h = i / 128, r = i % 128, quarter = r / 32, l = r % 32;
        const uint8_t *ql = b6.ql + 64 * h, *qh = b6.qh + 32 * h;
        int lo4 = quarter & 1 ? ql[l + 32] : ql[l];
        lo4 = quarter >= 2 ? lo4 >> 4 : lo4 & 15;
        int q = (lo4 | ((qh[l] >> (2 * quarter)) & 3) << 4) - 32;
        assert_true(y[i] == 0.125f * (float)b6.scales[i / 16] * (float)q);
    }

    /* the quantizers: every weight within half a step (plus fp16 slack) */
    float x[512], z[512];
    uint8_t buf[2 * 210];
    for (int trial = 0; trial < 4; trial++) {
        for (int i = 0; i < 512; i++) {
            float v = frand() * (trial == 1 ? 1000.0f : 1.0f);
            x[i] = trial == 2 ? fabsf(v) : trial == 3 && i < 40 ? 0.0f : v;
        }
        static const enum jb_llm_dtype kt[] = {JB_LLM_Q4_K, JB_LLM_Q5_K, JB_LLM_Q6_K};
        for (int t = 0; t < 3; t++) {
            jb_llm_quantize_row(kt[t], x, buf, 512);
            jb_llm_dequantize_row(kt[t], buf, z, 512);
            for (int sb = 0; sb < 2; sb++) {
                const uint8_t *blk = buf + (size_t)sb * jb_llm_row_bytes(kt[t], 256);
                for (int i = 0; i < 256; i++) {
                    double step;
                    if (kt[t] == JB_LLM_Q6_K) {
                        const struct jb_block_q6_K *b = (const void *)blk;
                        /* the group's extreme maps to -32: the opposite side
                         * may need code 32, clamped to 31, so a full step */
                        step = 2.0 * fabs(jb_f32_from_fp16(b->d) * b->scales[i / 16]);
                    } else {
                        uint16_t d;
                        const uint8_t *sc = blk + 4;
                        memcpy(&d, blk, 2);
                        int s6, m6;
                        ggml_scale_min(i / 32, sc, &s6, &m6);
                        step = jb_f32_from_fp16(d) * s6;
                    }
                    double e = fabs((double)z[256 * sb + i] - x[256 * sb + i]);
                    if (e > 0.5 * step * 1.02 + 1e-3 * fabs(x[256 * sb + i]) + 1e-7)
                        fail_msg("%s trial %d element %d: %g -> %g (step %g)",
                                 jb_llm_dtype_name(kt[t]), trial, 256 * sb + i, x[256 * sb + i],
                                 z[256 * sb + i], step);
                }
            }
        }
    }
    /* q8_K: d = amax / 127, bsums the sums of 16 codes */
    struct jb_block_q8_K a;
    jb_llm_quantize_row(JB_LLM_Q8_K, x, &a, 256);
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int l = 0; l < 16; l++)
            sum += a.qs[16 * g + l];
        assert_int_equal(a.bsums[g], sum);
    }
    assert_int_equal(jb_llm_row_bytes(JB_LLM_Q4_K, 512), 288);
    assert_int_equal(jb_llm_row_bytes(JB_LLM_Q6_K, 256), 210);
    assert_int_equal(jb_llm_dtype_for_cols(JB_LLM_Q4_K, 288), JB_LLM_Q8_0);
    assert_int_equal(jb_llm_dtype_parse("q4_k"), JB_LLM_Q4_K);
    assert_string_equal(jb_llm_dtype_name(JB_LLM_Q6_K), "q6_K");
}

/* Llama 3.1's frequency scaling (Meta's reference apply_scaling) on the
 * llama3.1-8b configuration: high frequencies kept, low ones divided by 8,
 * the band between interpolated smoothly; llama2-7b has none. */
static void test_rope_factors(void **state)
{
    (void)state;
    const struct jb_llm_config *c = jb_llm_config_find("llama3.1-8b");
    float f[64];
    jb_llm_rope_factors(c, 128, f);
    int kept = 0, divided = 0, mid = 0;
    for (int i = 0; i < 64; i++) {
        double freq = pow(500000.0, -2.0 * i / 128), wl = 2 * 3.14159265358979323846 / freq, want;
        if (wl < 8192.0 / 4)
            want = freq;
        else if (wl > 8192.0 / 1)
            want = freq / 8;
        else {
            double smooth = (8192.0 / wl - 1) / (4 - 1);
            want = (1 - smooth) * freq / 8 + smooth * freq;
        }
        kept += f[i] == 1.0f;
        divided += f[i] == 8.0f;
        mid += f[i] > 1.0f && f[i] < 8.0f;
        assert_true(fabs(jb_llm_rope_freq(c, f, 128, i) - want) <= 1e-6 * want);
    }
    assert_true(kept > 20 && divided > 20 && mid > 2);
    jb_llm_rope_factors(jb_llm_config_find("llama2-7b"), 128, f);
    for (int i = 0; i < 64; i++)
        assert_true(f[i] == 1.0f);
}

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((int64_t)(rng >> 11) - (1ll << 52)) / (float)(1ll << 52);
}

/* What row r . x must be, computed in double from the stored values: for
 * quantized rows, the dequantized weights times the dequantized activation
 * blocks the kernel reads (q8_0 or q8_K). */
static double exact_dot(const struct jb_llm_matrix *m, int r, const struct jb_llm_act *a)
{
    const char *row = (const char *)m->data + (size_t)r * m->row_bytes;
    double s = 0.0;
    float *w = malloc(sizeof(float) * (size_t)m->cols), *x = malloc(sizeof(float) * (size_t)m->cols);
    assert_non_null(w);
    assert_non_null(x);
    jb_llm_dequantize_row(m->dtype, row, w, m->cols);
    switch (jb_llm_act_dtype(m->dtype)) {
    case JB_LLM_Q8_0: jb_llm_dequantize_row(JB_LLM_Q8_0, a->q8_0, x, m->cols); break;
    case JB_LLM_Q8_K: jb_llm_dequantize_row(JB_LLM_Q8_K, a->q8_K, x, m->cols); break;
    default: memcpy(x, a->x, sizeof(float) * (size_t)m->cols); break;
    }
    for (int i = 0; i < m->cols; i++)
        s += (double)w[i] * x[i];
    free(w);
    free(x);
    return s;
}

static void check_table(const struct jb_llm_kernels *k)
{
    static const int cols_q[] = {32, 64, 288, 2048 + 96};
    static const int cols_k[] = {256, 512, 2048 + 256};
    static const int cols_f[] = {1, 7, 16, 17, 48, 63, 64, 65, 288, 1000};
    static const enum jb_llm_dtype types[] = {JB_LLM_F32,  JB_LLM_F16,  JB_LLM_BF16,
                                              JB_LLM_Q8_0, JB_LLM_Q4_0, JB_LLM_Q4_K,
                                              JB_LLM_Q5_K, JB_LLM_Q6_K};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        int be = jb_llm_block_elems(types[t]);
        const int *cl = be == 256 ? cols_k : be == 32 ? cols_q : cols_f;
        size_t ncols = be == 256 ? 3 : be == 32 ? 4 : sizeof(cols_f) / sizeof(cols_f[0]);
        for (size_t c = 0; c < ncols; c++) {
            int cols = cl[c], rows = 6;
            struct jb_llm_matrix m = {types[t], rows, cols, jb_llm_row_bytes(types[t], cols), NULL};
            float *x = malloc(sizeof(float) * (size_t)cols), *row = malloc(sizeof(float) * (size_t)cols);
            float y[8] = {0};
            struct jb_block_q8_0 *xq = calloc((size_t)cols / 32 + 1, sizeof(*xq));
            struct jb_block_q8_K *xk = calloc((size_t)cols / 256 + 1, sizeof(*xk));
            m.data = malloc(m.row_bytes * (size_t)rows);
            for (int i = 0; i < cols; i++)
                x[i] = frand();
            for (int r = 0; r < rows; r++) {
                /* row 3 is large, row 4 all positive (zero mins), row 5 has
                 * a zero sub-block: the edges of the scale choice */
                for (int i = 0; i < cols; i++) {
                    float v = frand() * (r == 3 ? 100.0f : 1.0f);
                    row[i] = r == 4 ? fabsf(v) : r == 5 && i >= 32 && i < 64 ? 0.0f : v;
                }
                jb_llm_quantize_row(types[t], row, (char *)m.data + (size_t)r * m.row_bytes, cols);
            }
            jb_llm_quantize_row(JB_LLM_Q8_0, x, xq, cols);
            if (be == 256)
                jb_llm_quantize_row(JB_LLM_Q8_K, x, xk, cols);
            struct jb_llm_act a = {x, xq, be == 256 ? xk : NULL};
            y[0] = y[rows + 1] = 12345.0f; /* rows outside [1, rows) stay untouched */
            k->matvec(&m, 1, rows, &a, y);
            assert_true(y[0] == 12345.0f && y[rows + 1] == 12345.0f);
            for (int r = 1; r < rows; r++) {
                double want = exact_dot(&m, r, &a), tol = 1e-5 * (fabs(want) + 1.0) * sqrt(cols);
                if (fabs(y[r] - want) > tol)
                    fail_msg("%s %s cols %d row %d: %.9g, exact %.9g", k->name,
                             jb_llm_dtype_name(types[t]), cols, r, y[r], want);
            }
            free(m.data);
            free(x);
            free(row);
            free(xq);
            free(xk);
        }
    }
    /* fused attention: every group size (1..8 heads per KV head, so the
     * four-head sets and their remainders), head widths with and without a
     * vector path, depths with vector tails, fp32 and fp16 K/V, against the
     * softmax computed in double; scores span +-20 so exp sees a wide range */
    static const int groups[] = {1, 3, 4, 5, 8}, hds[] = {16, 24, 64, 128},
                     npos_[] = {1, 7, 8, 9, 100, 301};
    for (size_t gi = 0; gi < 5; gi++)
        for (size_t hi = 0; hi < 4; hi++)
            for (size_t ni = 0; ni < 6; ni++)
                for (int f16 = 0; f16 < 2; f16++) {
                    int g = groups[gi], hd = hds[hi], np = npos_[ni], kvd = 2 * hd;
                    size_t elt = f16 ? 2 : 4, stride = (size_t)kvd * elt;
                    float *q = malloc(sizeof(float) * (size_t)(g * hd));
                    float *out = malloc(sizeof(float) * (size_t)(g * hd));
                    float *att = malloc(sizeof(float) * (size_t)(g * np));
                    float *kf = malloc(sizeof(float) * (size_t)(np * kvd));
                    float *vf = malloc(sizeof(float) * (size_t)(np * kvd));
                    char *kc = malloc(stride * (size_t)np), *vc = malloc(stride * (size_t)np);
                    for (int i = 0; i < g * hd; i++)
                        q[i] = frand() * 3.0f;
                    for (int i = 0; i < np * kvd; i++) {
                        kf[i] = frand();
                        vf[i] = frand();
                    }
                    /* the cache holds two KV heads: attend over the second */
                    for (int t = 0; t < np; t++) {
                        jb_llm_quantize_row(f16 ? JB_LLM_F16 : JB_LLM_F32, kf + t * kvd,
                                            kc + t * stride, kvd);
                        jb_llm_quantize_row(f16 ? JB_LLM_F16 : JB_LLM_F32, vf + t * kvd,
                                            vc + t * stride, kvd);
                        jb_llm_dequantize_row(f16 ? JB_LLM_F16 : JB_LLM_F32, kc + t * stride,
                                              kf + t * kvd, kvd);
                        jb_llm_dequantize_row(f16 ? JB_LLM_F16 : JB_LLM_F32, vc + t * stride,
                                              vf + t * kvd, kvd);
                    }
                    k->attend(q, g, hd, kc + hd * elt, vc + hd * elt, stride,
                              f16 ? JB_LLM_F16 : JB_LLM_F32, np, 0.5f, att, out);
                    for (int h = 0; h < g; h++) {
                        double sc[301], mx = -1e300, sum = 0.0;
                        for (int t = 0; t < np; t++) {
                            double d = 0.0;
                            for (int i = 0; i < hd; i++)
                                d += (double)q[h * hd + i] * kf[t * kvd + hd + i];
                            sc[t] = 0.5 * d;
                            mx = sc[t] > mx ? sc[t] : mx;
                        }
                        for (int t = 0; t < np; t++)
                            sum += (sc[t] = exp(sc[t] - mx));
                        for (int i = 0; i < hd; i++) {
                            double want = 0.0;
                            for (int t = 0; t < np; t++)
                                want += sc[t] / sum * vf[t * kvd + hd + i];
                            if (fabs(out[h * hd + i] - want) > 2e-5)
                                fail_msg("%s attend group %d hd %d npos %d %s head %d [%d]: %.7g, "
                                         "want %.7g", k->name, g, hd, np, f16 ? "f16" : "f32",
                                         h, i, out[h * hd + i], want);
                        }
                    }
                    free(q);
                    free(out);
                    free(att);
                    free(kf);
                    free(vf);
                    free(kc);
                    free(vc);
                }
    /* attention helpers: dot and axpy over fp32 and fp16 K/V rows */
    for (int n = 1; n <= 130; n++) {
        float a[130], b[130], y1[130], y2[130];
        uint16_t h[130];
        double sf = 0.0, sh = 0.0;
        for (int i = 0; i < n; i++) {
            a[i] = frand();
            b[i] = frand();
            h[i] = jb_fp16_from_f32(a[i]);
            sf += (double)a[i] * b[i];
            sh += (double)jb_f32_from_fp16(h[i]) * b[i];
            y1[i] = y2[i] = b[i];
        }
        assert_true(fabs(k->dot_f32(a, b, n) - sf) < 1e-5 * n);
        assert_true(fabs(k->dot_f16(h, b, n) - sh) < 1e-5 * n);
        k->axpy_f32(y1, 0.5f, a, n);
        k->axpy_f16(y2, 0.5f, h, n);
        for (int i = 0; i < n; i++) {
            assert_true(fabsf(y1[i] - (b[i] + 0.5f * a[i])) < 1e-6f);
            assert_true(fabsf(y2[i] - (b[i] + 0.5f * jb_f32_from_fp16(h[i]))) < 1e-6f);
        }
    }
}

static void test_kernels_every_isa(void **state)
{
    (void)state;
    enum jb_isa best = jb_cpu_isa();
    check_table(&jb_llm_kernels_reference);
    assert_ptr_equal(jb_llm_kernels_for(JB_ISA_REFERENCE), &jb_llm_kernels_reference);
#if defined(JB_X86)
    if (best >= JB_ISA_AVX2)
        check_table(&jb_llm_kernels_avx2);
    if (best >= JB_ISA_AVX512)
        check_table(&jb_llm_kernels_avx512);
    if (best < JB_ISA_AVX512)
        print_message("AVX-512 kernels not tested: this CPU (or JB_CPU_FORCE) has %s\n",
                      jb_isa_name(best));
#elif defined(__aarch64__)
    if (best == JB_ISA_NEON)
        check_table(&jb_llm_kernels_neon);
#else
    (void)best;
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp16),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_block_layout),
        cmocka_unit_test(test_kquant_layout),
        cmocka_unit_test(test_rope_factors),
        cmocka_unit_test(test_kernels_every_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
