/* test_tinyml_kernels.c: property tests of the TinyML kernels. Every op
 * (conv2d, depthwise, 1x1 conv, fully connected, average and max pooling,
 * add, softmax), in int8 and fp32, on randomized shapes, strides, paddings,
 * zero points and multipliers: the optimized path under every ISA cap
 * (JB_CPU_FORCE=reference|avx2|avx512, as far as this CPU goes) must equal
 * the reference bit for bit in int8 and within JB_TM_F32_RTOL in fp32.
 * Also: the fixed-point requantization against an independent 128-bit
 * formulation, and rejection of inconsistent layers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "platforms/cpu/cpu_features.h"
#include "platforms/cpu/tinyml_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 12345;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static int rint_in(int lo, int hi)
{
    return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

static float rf(float lo, float hi)
{
    return lo + (hi - lo) * (float)(rnd() % 1000000) / 1e6f;
}

/* Storage of one random layer. */
struct rlayer {
    struct jb_tm_layer l;
    void *w, *b, *in, *in2;
    int32_t *mult, *shift;
    size_t in_n, out_n;
};

static void free_rlayer(struct rlayer *r)
{
    free(r->w);
    free(r->b);
    free(r->in);
    free(r->in2);
    free(r->mult);
    free(r->shift);
}

static void window(int in, int k, int s, int same, int *out, int *pad)
{
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + k - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - k) / s + 1;
        *pad = 0;
    }
}

static void make_layer(struct rlayer *r, enum jb_tm_op op, enum jb_tm_dtype dt)
{
    memset(r, 0, sizeof(*r));
    struct jb_tm_layer *l = &r->l;
    l->op = op;
    l->dtype = dt;
    l->in_h = rint_in(1, 11);
    l->in_w = rint_in(1, 11);
    l->in_c = rint_in(1, 40);
    l->k_h = l->k_w = l->stride_h = l->stride_w = 1;
    if (op == JB_TM_CONV || op == JB_TM_DWCONV || op == JB_TM_AVGPOOL || op == JB_TM_MAXPOOL) {
        int same = rint_in(0, 1);
        /* one in four convolutions is 1x1 (pointwise) */
        int pw = op == JB_TM_CONV && rint_in(0, 3) == 0;
        l->k_h = pw ? 1 : rint_in(1, same ? 5 : l->in_h < 5 ? l->in_h : 5);
        l->k_w = pw ? 1 : rint_in(1, same ? 5 : l->in_w < 5 ? l->in_w : 5);
        l->stride_h = rint_in(1, 3);
        l->stride_w = rint_in(1, 3);
        window(l->in_h, l->k_h, l->stride_h, same, &l->out_h, &l->pad_top);
        window(l->in_w, l->k_w, l->stride_w, same, &l->out_w, &l->pad_left);
        l->out_c = op == JB_TM_CONV ? rint_in(1, 40) : l->in_c;
    } else if (op == JB_TM_FC) {
        l->in_h = l->in_w = 1;
        l->in_c = rint_in(1, 300);
        l->out_h = l->out_w = 1;
        l->out_c = rint_in(1, 70);
    } else {
        if (op == JB_TM_SOFTMAX) {
            l->in_h = l->in_w = 1;
            l->in_c = rint_in(1, 20);
        }
        l->out_h = l->in_h;
        l->out_w = l->in_w;
        l->out_c = l->in_c;
    }
    size_t esz = dt == JB_TM_INT8 ? 1 : 4;
    r->in_n = (size_t)l->in_h * l->in_w * l->in_c;
    r->out_n = (size_t)l->out_h * l->out_w * l->out_c;
    r->in = malloc(r->in_n * esz);
    r->in2 = malloc(r->in_n * esz);
    for (size_t i = 0; i < r->in_n; i++) {
        if (dt == JB_TM_INT8) {
            ((int8_t *)r->in)[i] = (int8_t)rint_in(-128, 127);
            ((int8_t *)r->in2)[i] = (int8_t)rint_in(-128, 127);
        } else {
            ((float *)r->in)[i] = rf(-1, 1);
            ((float *)r->in2)[i] = rf(-1, 1);
        }
    }
    size_t n_w = 0;
    if (op == JB_TM_CONV)
        n_w = (size_t)l->out_c * l->k_h * l->k_w * l->in_c;
    else if (op == JB_TM_DWCONV)
        n_w = (size_t)l->k_h * l->k_w * l->in_c;
    else if (op == JB_TM_FC)
        n_w = (size_t)l->out_c * l->in_c;
    int relu = rint_in(0, 1);
    if (dt == JB_TM_INT8) {
        l->in_zp = rint_in(-128, 127);
        l->in2_zp = rint_in(-128, 127);
        l->out_zp = rint_in(-128, 127);
        l->act_min = relu ? l->out_zp : -128;
        l->act_max = 127;
        if (op == JB_TM_AVGPOOL || op == JB_TM_MAXPOOL)
            l->act_min = -128;
    } else {
        l->act_min_f = relu ? 0.0f : -INFINITY;
        l->act_max_f = INFINITY;
    }
    if (n_w) {
        r->w = malloc(n_w * esz);
        r->b = malloc((size_t)l->out_c * 4);
        for (size_t i = 0; i < n_w; i++) {
            if (dt == JB_TM_INT8)
                ((int8_t *)r->w)[i] = (int8_t)rint_in(-127, 127);
            else
                ((float *)r->w)[i] = rf(-0.5f, 0.5f);
        }
        r->mult = malloc((size_t)l->out_c * 4);
        r->shift = malloc((size_t)l->out_c * 4);
        for (int o = 0; o < l->out_c; o++) {
            if (dt == JB_TM_INT8)
                ((int32_t *)r->b)[o] = rint_in(-20000, 20000);
            else
                ((float *)r->b)[o] = rf(-0.2f, 0.2f);
            r->mult[o] = (int32_t)((1u << 30) + (rnd() & 0x3fffffff));
            /* mostly right shifts as in real models; now and then a left */
            r->shift[o] = rint_in(0, 9) == 0 ? 1 : -rint_in(5, 14);
        }
        l->weights = r->w;
        l->bias = r->b;
        l->mult = r->mult;
        l->shift = r->shift;
    }
    if (op == JB_TM_ADD && dt == JB_TM_INT8) {
        double s1 = rf(0.01f, 0.1f), s2 = rf(0.01f, 0.1f), so = rf(0.02f, 0.2f);
        double twice = 2.0 * (s1 > s2 ? s1 : s2);
        l->add_left_shift = 20;
        jb_tm_quantize_multiplier(s1 / twice, &l->in1_mult, &l->in1_shift);
        jb_tm_quantize_multiplier(s2 / twice, &l->in2_mult, &l->in2_shift);
        jb_tm_quantize_multiplier(twice / ((double)(1 << 20) * so), &l->out_mult, &l->out_shift);
    }
    if (op == JB_TM_SOFTMAX)
        l->in_scale = rf(0.01f, 0.2f);
}

static const char *const caps[] = {"reference", "avx2", "avx512"};

static void compare_paths(enum jb_tm_op op, enum jb_tm_dtype dt, int trials)
{
    char err[JB_ERRLEN];
    for (int t = 0; t < trials; t++) {
        struct rlayer r;
        make_layer(&r, op, dt);
        assert_int_equal(jb_tm_layer_validate(&r.l, err, sizeof(err)), 0);
        size_t esz = dt == JB_TM_INT8 ? 1 : 4;
        uint8_t *ref = malloc(r.out_n * esz), *got = malloc(r.out_n * esz);
        jb_tm_layer_run_ref(&r.l, r.in, r.in2, ref);
        for (int c = 0; c < 3; c++) {
            setenv("JB_CPU_FORCE", caps[c], 1);
            enum jb_isa isa = jb_cpu_isa();
            struct jb_tm_kernel *k;
            assert_int_equal(jb_tm_kernel_create(&r.l, isa, &k, err, sizeof(err)), 0);
            assert_int_equal(jb_tm_kernel_isa(k), isa);
            void *scratch = aligned_alloc(64, (jb_tm_kernel_scratch_bytes(k) + 63) / 64 * 64);
            memset(got, 0x5a, r.out_n * esz);
            jb_tm_kernel_run(k, r.in, r.in2, got, scratch);
            if (dt == JB_TM_INT8) {
                for (size_t i = 0; i < r.out_n; i++)
                    if (got[i] != ref[i]) {
                        print_error("op %d %s: %dx%dx%d k%dx%d s%dx%d pad %d,%d -> %dx%dx%d: "
                                    "output %zu = %d, reference %d\n",
                                    (int)op, caps[c], r.l.in_h, r.l.in_w, r.l.in_c, r.l.k_h,
                                    r.l.k_w, r.l.stride_h, r.l.stride_w, r.l.pad_top, r.l.pad_left,
                                    r.l.out_h, r.l.out_w, r.l.out_c, i, (int8_t)got[i],
                                    (int8_t)ref[i]);
                        fail();
                    }
            } else {
                const float *g = (const float *)got, *f = (const float *)ref;
                float mx = 1.0f;
                for (size_t i = 0; i < r.out_n; i++)
                    mx = fabsf(f[i]) > mx ? fabsf(f[i]) : mx;
                for (size_t i = 0; i < r.out_n; i++)
                    if (!(fabsf(g[i] - f[i]) <= JB_TM_F32_RTOL * mx)) {
                        print_error("op %d fp32 %s: output %zu = %.9g, reference %.9g\n", (int)op,
                                    caps[c], i, (double)g[i], (double)f[i]);
                        fail();
                    }
            }
            free(scratch);
            jb_tm_kernel_destroy(k);
        }
        unsetenv("JB_CPU_FORCE");
        free(ref);
        free(got);
        free_rlayer(&r);
    }
}

static void test_conv(void **s)
{
    (void)s;
    compare_paths(JB_TM_CONV, JB_TM_INT8, 150);
    compare_paths(JB_TM_CONV, JB_TM_FP32, 150);
}

static void test_dwconv(void **s)
{
    (void)s;
    compare_paths(JB_TM_DWCONV, JB_TM_INT8, 150);
    compare_paths(JB_TM_DWCONV, JB_TM_FP32, 150);
}

static void test_fc(void **s)
{
    (void)s;
    compare_paths(JB_TM_FC, JB_TM_INT8, 150);
    compare_paths(JB_TM_FC, JB_TM_FP32, 150);
}

static void test_pool(void **s)
{
    (void)s;
    compare_paths(JB_TM_AVGPOOL, JB_TM_INT8, 100);
    compare_paths(JB_TM_AVGPOOL, JB_TM_FP32, 100);
    compare_paths(JB_TM_MAXPOOL, JB_TM_INT8, 100);
    compare_paths(JB_TM_MAXPOOL, JB_TM_FP32, 100);
}

static void test_add_softmax(void **s)
{
    (void)s;
    compare_paths(JB_TM_ADD, JB_TM_INT8, 100);
    compare_paths(JB_TM_ADD, JB_TM_FP32, 100);
    compare_paths(JB_TM_SOFTMAX, JB_TM_INT8, 50);
    compare_paths(JB_TM_SOFTMAX, JB_TM_FP32, 50);
}

/* An independent statement of TFLite's rounding: the doubling high multiply
 * rounds half toward +infinity (gemmlowp's nudges give ties up for positive
 * products, toward zero for negative ones), the division by 2^right rounds
 * half away from zero. */
static int32_t mbqm_wide(int32_t x, int32_t m, int32_t shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t a = (int32_t)((uint32_t)x << left);
    int64_t hi;
    if (a == INT32_MIN && m == INT32_MIN) {
        hi = INT32_MAX;
    } else {
        int64_t p = (int64_t)a * m + (1ll << 30);
        /* floor division by 2^31, independent of how >> treats negatives */
        hi = p >= 0 ? p / (1ll << 31) : -((-p + (1ll << 31) - 1) / (1ll << 31));
    }
    if (right == 0)
        return (int32_t)hi;
    int64_t mag = hi < 0 ? -hi : hi;
    int64_t r = (mag + (1ll << (right - 1))) >> right;
    return (int32_t)(hi < 0 ? -r : r);
}

static void test_requantize(void **s)
{
    (void)s;
    for (int i = 0; i < 200000; i++) {
        int32_t x = (int32_t)rnd() >> rint_in(0, 20);
        int32_t m = (int32_t)((1u << 30) + (rnd() & 0x3fffffff));
        int32_t sh = rint_in(-31, 2);
        if (i % 1000 == 0)
            x = i % 2000 ? INT32_MIN : INT32_MAX;
        int32_t want = mbqm_wide(x, m, sh), got = jb_tm_mbqm(x, m, sh);
        if (want != got) {
            print_error("mbqm(%d, %d, %d) = %d, expected %d\n", x, m, sh, got, want);
            fail();
        }
    }
    /* known values: 0.5 x 100 = 50; 3 * 0.5 = 1.5 rounds away from zero */
    assert_int_equal(jb_tm_mbqm(100, 1 << 30, 0), 50);
    assert_int_equal(jb_tm_mbqm(3, 1 << 30, 0), 2);
    assert_int_equal(jb_tm_mbqm(-3, 1 << 30, 0), -1); /* gemmlowp: negative ties toward zero */
    assert_int_equal(jb_tm_mbqm(INT32_MIN, INT32_MIN, 0), INT32_MAX);
    /* quantize_multiplier reproduces the real multiplier within 2^-30 */
    for (int i = 0; i < 1000; i++) {
        double real = exp(rf(-20.0f, 3.0f));
        int32_t m, sh;
        jb_tm_quantize_multiplier(real, &m, &sh);
        assert_true(m >= (1 << 30));
        double back = (double)m * ldexp(1.0, sh - 31);
        assert_true(fabs(back - real) <= real * ldexp(1.0, -30));
    }
}

static void test_rejects_bad_layers(void **s)
{
    (void)s;
    char err[JB_ERRLEN];
    struct rlayer r;
    make_layer(&r, JB_TM_CONV, JB_TM_INT8);
    struct jb_tm_layer l = r.l;
    struct jb_tm_kernel *k = NULL;
    l.stride_h = 0;
    assert_int_equal(jb_tm_kernel_create(&l, JB_ISA_REFERENCE, &k, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "stride"));
    l = r.l;
    l.out_h = l.in_h + l.pad_top + 5; /* windows past the input */
    assert_int_equal(jb_tm_layer_validate(&l, err, sizeof(err)), JB_EINVAL);
    l = r.l;
    l.weights = NULL;
    assert_int_equal(jb_tm_layer_validate(&l, err, sizeof(err)), JB_EINVAL);
    l = r.l;
    l.dtype = (enum jb_tm_dtype)7;
    assert_int_equal(jb_tm_layer_validate(&l, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "dtype"));
    l = r.l;
    l.op = JB_TM_DWCONV;
    l.out_c = l.in_c + 1;
    assert_int_equal(jb_tm_layer_validate(&l, err, sizeof(err)), JB_EINVAL);
    free_rlayer(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requantize),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_dwconv),
        cmocka_unit_test(test_fc),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_add_softmax),
        cmocka_unit_test(test_rejects_bad_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
