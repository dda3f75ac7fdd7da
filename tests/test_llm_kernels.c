/* test_llm_kernels.c: the LLM number formats and kernels. fp16/bf16
 * conversions round to nearest even at every boundary (normal, subnormal,
 * overflow); q8_0/q4_0 blocks have ggml's byte layout and error bounds;
 * every kernel table this CPU can run (reference, AVX2, AVX-512, NEON) gives the
 * exact result of its arithmetic for every precision, for row lengths that
 * exercise the vector tails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "platforms/cpu/llm_kernels.h"

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

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((int64_t)(rng >> 11) - (1ll << 52)) / (float)(1ll << 52);
}

/* What row r . x must be, computed in double from the stored values: for
 * quantized rows, the integer products of the codes times both scales. */
static double exact_dot(const struct jb_llm_matrix *m, int r, const float *x,
                        const struct jb_block_q8_0 *xq)
{
    const char *row = (const char *)m->data + (size_t)r * m->row_bytes;
    double s = 0.0;
    if (m->dtype == JB_LLM_Q8_0 || m->dtype == JB_LLM_Q4_0) {
        float w[32];
        for (int b = 0; b < m->cols / 32; b++) {
            const void *blk = row + (size_t)b * jb_llm_row_bytes(m->dtype, 32);
            jb_llm_dequantize_row(m->dtype, blk, w, 32);
            double dx = jb_f32_from_fp16(xq[b].d);
            for (int j = 0; j < 32; j++)
                s += (double)w[j] * (xq[b].qs[j] * dx);
        }
        return s;
    }
    float *w = malloc(sizeof(float) * (size_t)m->cols);
    jb_llm_dequantize_row(m->dtype, row, w, m->cols);
    for (int i = 0; i < m->cols; i++)
        s += (double)w[i] * x[i];
    free(w);
    return s;
}

static void check_table(const struct jb_llm_kernels *k)
{
    static const int cols_q[] = {32, 64, 288, 2048 + 96};
    static const int cols_f[] = {1, 7, 16, 17, 48, 63, 64, 65, 288, 1000};
    static const enum jb_llm_dtype types[] = {JB_LLM_F32, JB_LLM_F16, JB_LLM_BF16, JB_LLM_Q8_0,
                                              JB_LLM_Q4_0};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        int quant = types[t] == JB_LLM_Q8_0 || types[t] == JB_LLM_Q4_0;
        size_t ncols = quant ? 4 : sizeof(cols_f) / sizeof(cols_f[0]);
        for (size_t c = 0; c < ncols; c++) {
            int cols = quant ? cols_q[c] : cols_f[c], rows = 5;
            struct jb_llm_matrix m = {types[t], rows, cols, jb_llm_row_bytes(types[t], cols), NULL};
            float *x = malloc(sizeof(float) * (size_t)cols), *row = malloc(sizeof(float) * (size_t)cols);
            float y[8] = {0};
            struct jb_block_q8_0 *xq = calloc((size_t)cols / 32 + 1, sizeof(*xq));
            m.data = malloc(m.row_bytes * (size_t)rows);
            for (int i = 0; i < cols; i++)
                x[i] = frand();
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < cols; i++)
                    row[i] = frand() * (r == 3 ? 100.0f : 1.0f);
                jb_llm_quantize_row(types[t], row, (char *)m.data + (size_t)r * m.row_bytes, cols);
            }
            if (quant)
                jb_llm_quantize_row(JB_LLM_Q8_0, x, xq, cols);
            y[0] = y[rows + 1] = 12345.0f; /* rows outside [1, rows) stay untouched */
            k->matvec(&m, 1, rows, x, xq, y);
            assert_true(y[0] == 12345.0f && y[rows + 1] == 12345.0f);
            for (int r = 1; r < rows; r++) {
                double want = exact_dot(&m, r, x, xq), tol = 1e-5 * (fabs(want) + 1.0) * sqrt(cols);
                if (fabs(y[r] - want) > tol)
                    fail_msg("%s %s cols %d row %d: %.9g, exact %.9g", k->name,
                             jb_llm_dtype_name(types[t]), cols, r, y[r], want);
            }
            free(m.data);
            free(x);
            free(row);
            free(xq);
        }
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
        cmocka_unit_test(test_kernels_every_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
