/* test_tflite.c: the TFLite reader (platforms/tinyml/tflite.c) and the
 * models built from TFLite files (tinyml_tflite.c, tinyml_official.c).
 *
 * - the eight official MLPerf Tiny files parse, with the sha256 their
 *   source note gives, and use only the supported operators;
 * - the graph read from each file has the MACs and parameters of the
 *   architecture transcribed from the Keras sources (tinyml_defs.c): two
 *   independent derivations of one model;
 * - under every ISA cap, the optimized kernels are bit-exact with the
 *   reference on the official int8 models (fp32 within tolerance), and the
 *   int8 models track the fp32 ones;
 * - the int8 arithmetic follows TFLite on a hand-built model whose expected
 *   outputs are computed here from the file's own numbers;
 * - unsupported operators and features are refused by name; malformed
 *   files (truncated, corrupted) are refused with where, never a crash;
 * - the workloads' options: weights=synthetic, model=FILE, the default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "platforms/cpu/cpu_features.h"
#include "tests/tflite_write.h"
#include "platforms/tinyml/tflite.h"
#include "platforms/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_official.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const workloads[] = {"kws-dscnn", "vww-mobilenet", "ic-resnet8",
                                        "ad-autoencoder"};

/* sha256sum of the files as published (models/README.md gives prefixes) */
static const struct {
    const char *file, *sha256;
} files[] = {
    {"kws_ref_model.tflite", "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae"},
    {"kws_ref_model_float32.tflite",
     "e5004c6f1012246e33fa068d8488325538e0444073cd361f5a7edb40c73f12d2"},
    {"vww_96_int8.tflite", "597a384c8c2c8a1276f04702f25013b7838f2f814f1ca7c174d295b73e3d6b7b"},
    {"vww_96_float.tflite", "115bbc094d2119561320a21f01b6500a18bea8cc8589282ab007097bec8af38c"},
    {"pretrainedResnet_quant.tflite",
     "3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415"},
    {"pretrainedResnet.tflite", "b5c0046d6e0328b4956afd6baa29555a29b1f1c65bdd45aaed75b7cd484d9f79"},
    {"ad01_int8.tflite", "87cf24194ef93d1d9b11a591d805526b98008e351655d29883c825c9c106ba24"},
    {"ad01_fp32.tflite", "c66636f4d7f8af8b10518e7be750a22c9d8d46ec97326b40b0d94c097e0aad9b"},
};

static void model_path(const char *file, char *dst, size_t n)
{
    const char *src = getenv("JB_SOURCE_DIR");
    snprintf(dst, n, "%s/workloads/tinyml/models/%s", src ? src : ".", file);
}

static void test_official_files_parse(void **s)
{
    (void)s;
    char err[JB_ERRLEN], path[512];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct jb_tfl_model *m;
        model_path(files[i].file, path, sizeof(path));
        int rc = jb_tfl_load(path, &m, err, sizeof(err));
        if (rc)
            print_error("%s\n", err);
        assert_int_equal(rc, 0);
        assert_string_equal(m->sha256, files[i].sha256);
        assert_int_equal(m->version, 3);
        assert_int_equal(m->n_inputs, 1);
        assert_int_equal(m->n_outputs, 1);
        assert_true(m->n_ops >= 10);
        for (int k = 0; k < m->n_ops; k++) {
            int c = m->ops[k].opcode;
            assert_true(c == JB_TFL_CONV_2D || c == JB_TFL_DEPTHWISE_CONV_2D ||
                        c == JB_TFL_FULLY_CONNECTED || c == JB_TFL_AVERAGE_POOL_2D ||
                        c == JB_TFL_RESHAPE || c == JB_TFL_SOFTMAX || c == JB_TFL_ADD);
        }
        jb_tfl_free(m);
    }
}

static struct jb_tm_model *open_official(const char *wl, enum jb_tm_dtype dt, enum jb_isa isa)
{
    char err[JB_ERRLEN];
    struct jb_tm_model *m = NULL;
    struct jb_tm_model_source src;
    int rc = jb_tm_workload_model_open(jb_tm_model_def_find(wl), dt, NULL, 1, isa, &m, &src, err,
                                       sizeof(err));
    if (rc)
        print_error("%s: %s\n", wl, err);
    assert_int_equal(rc, 0);
    assert_string_equal(src.weights, "official");
    assert_int_equal(strlen(src.sha256), 64);
    return m;
}

/* The file's graph and the Keras transcription agree on the work. */
static void test_graph_matches_architecture(void **s)
{
    (void)s;
    char err[JB_ERRLEN];
    for (int k = 0; k < 4; k++) {
        const struct jb_tm_model_def *d = jb_tm_model_def_find(workloads[k]);
        struct jb_tm_counts want;
        assert_int_equal(jb_tm_def_counts(d, JB_TM_INT8, &want, err, sizeof(err)), 0);
        for (int dt = 0; dt < 2; dt++) {
            struct jb_tm_model *m =
                open_official(workloads[k], (enum jb_tm_dtype)dt, JB_ISA_REFERENCE);
            const struct jb_tm_counts *c = jb_tm_model_counts(m);
            assert_int_equal((long)c->macs, (long)want.macs);
            assert_int_equal((long)c->params, (long)want.params);
            const struct jb_tm_model_def *g = jb_tm_model_get_def(m);
            assert_int_equal(g->in_h, d->in_h);
            assert_int_equal(g->in_w, d->in_w);
            assert_int_equal(g->in_c, d->in_c);
            assert_int_equal(jb_tm_model_n_layers(m), d->n_layers);
            jb_tm_model_close(m);
        }
    }
}

static void run(const struct jb_tm_model *m, int reference, uint64_t item, void *out)
{
    size_t eb = jb_tm_model_elem_bytes(m);
    void *in = malloc(jb_tm_model_input_elems(m) * eb);
    void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
    assert_int_equal(jb_tm_model_make_input(m, 3, item, in), 0);
    jb_tm_model_run(m, reference, in, out, arena);
    free(in);
    free(arena);
}

/* The check's rule: int8 bit for bit, fp32 within JB_TM_F32_RTOL of the
 * largest reference output (at least 1). 0, or -1 with the first
 * difference printed. */
static int compare(const char *name, enum jb_tm_dtype dt, const void *got, const void *ref,
                   size_t n)
{
    if (dt == JB_TM_INT8) {
        for (size_t i = 0; i < n; i++)
            if (((const int8_t *)got)[i] != ((const int8_t *)ref)[i]) {
                print_error("%s int8: output %zu = %d, reference %d\n", name, i,
                            ((const int8_t *)got)[i], ((const int8_t *)ref)[i]);
                return -1;
            }
        return 0;
    }
    const float *g = got, *r = ref;
    float mx = 1.0f;
    for (size_t i = 0; i < n; i++)
        mx = fabsf(r[i]) > mx ? fabsf(r[i]) : mx;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(g[i] - r[i]) <= JB_TM_F32_RTOL * mx)) {
            print_error("%s fp32: output %zu = %.9g, reference %.9g\n", name, i, (double)g[i],
                        (double)r[i]);
            return -1;
        }
    return 0;
}

static void test_optimized_exact_every_isa(void **s)
{
    (void)s;
    const char *caps[] = {"reference", "avx2", "avx512"};
    for (int c = 0; c < 3; c++) {
        setenv("JB_CPU_FORCE", caps[c], 1);
        enum jb_isa isa = jb_cpu_isa();
        for (int k = 0; k < 4; k++)
            for (int dt = 0; dt < 2; dt++) {
                struct jb_tm_model *m = open_official(workloads[k], (enum jb_tm_dtype)dt, isa);
                assert_int_equal(jb_tm_model_isa(m), isa);
                size_t nb = jb_tm_model_output_elems(m) * jb_tm_model_elem_bytes(m);
                uint8_t *a = malloc(nb), *b = malloc(nb);
                for (uint64_t item = 0; item < 4; item++) {
                    run(m, 0, item, a);
                    run(m, 1, item, b);
                    int rc = compare(workloads[k], (enum jb_tm_dtype)dt, a, b, jb_tm_model_output_elems(m));
                    if (rc)
                        print_error("under the %s cap\n", caps[c]);
                    assert_int_equal(rc, 0);
                }
                free(a);
                free(b);
                jb_tm_model_close(m);
            }
    }
    unsetenv("JB_CPU_FORCE");
}

/* The official int8 models are quantizations of the fp32 ones: on the same
 * synthetic inputs the classifiers mostly pick the same class with close
 * probabilities (synthetic inputs are far from the training data, so an
 * uncertain item may flip), and the autoencoder reconstructs alike. */
static void test_int8_tracks_fp32(void **s)
{
    (void)s;
    for (int k = 0; k < 4; k++) {
        struct jb_tm_model *m8 = open_official(workloads[k], JB_TM_INT8, jb_cpu_isa());
        struct jb_tm_model *m32 = open_official(workloads[k], JB_TM_FP32, jb_cpu_isa());
        size_t n = jb_tm_model_output_elems(m8);
        int8_t *o8 = malloc(n);
        float *o32 = malloc(n * sizeof(float));
        int32_t zp;
        float sc = jb_tm_model_output_scale(m8, &zp);
        double sum_worst = 0.0, range = 0.0;
        int agree = 0, items = 8;
        for (uint64_t item = 0; item < (uint64_t)items; item++) {
            run(m8, 0, item, o8);
            run(m32, 0, item, o32);
            double worst = 0.0;
            size_t a8 = 0, a32 = 0;
            for (size_t i = 0; i < n; i++) {
                double d = fabs(sc * (o8[i] - zp) - o32[i]);
                worst = d > worst ? d : worst;
                range = fabs(o32[i]) > range ? fabs(o32[i]) : range;
                a8 = o8[i] > o8[a8] ? i : a8;
                a32 = o32[i] > o32[a32] ? i : a32;
            }
            sum_worst += worst;
            agree += a8 == a32;
        }
        double mean_worst = sum_worst / items, limit = k == 3 ? 0.1 * range : 0.1;
        if (!(mean_worst <= limit) || (k < 3 && agree < 6))
            print_error("%s: int8 vs fp32: mean worst difference %g (limit %g), %d of %d "
                        "agree\n",
                        workloads[k], mean_worst, limit, agree, items);
        assert_true(mean_worst <= limit);
        if (k < 3)
            assert_true(agree >= 6);
        free(o8);
        free(o32);
        jb_tm_model_close(m8);
        jb_tm_model_close(m32);
    }
}

static void test_quantize_multiplier(void **s)
{
    (void)s;
    int32_t m, sh;
    jb_tm_quantize_multiplier(0.5, &m, &sh);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(sh, 0);
    jb_tm_quantize_multiplier(1.0, &m, &sh);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(sh, 1);
    jb_tm_quantize_multiplier(0.75, &m, &sh);
    assert_int_equal(m, 1610612736);
    assert_int_equal(sh, 0);
    /* 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4, rounded */
    jb_tm_quantize_multiplier(0.1, &m, &sh);
    assert_int_equal(m, 1717986918);
    assert_int_equal(sh, -3);
    /* a mantissa that rounds up to 2^31 renormalizes */
    jb_tm_quantize_multiplier(1.0 - 1e-12, &m, &sh);
    assert_int_equal(m, 1 << 30);
    assert_int_equal(sh, 1);
}

/* The hand-built FC model (tfw_example_fc): the expected outputs are
 * computed here with TFLite's formula from the model's numbers. */
static void test_hand_built_int8_fc(void **s)
{
    (void)s;
    char err[JB_ERRLEN];
    size_t len;
    uint8_t *buf = tfw_example_fc(&len, JB_TFL_FULLY_CONNECTED, JB_TFL_ACT_RELU);
    struct jb_tm_model *m;
    int rc = jb_tm_model_open_tflite_buf(buf, len, "fc", JB_TM_INPUT_IMAGE, 1.0f, JB_ISA_REFERENCE,
                                         &m, err, sizeof(err));
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(jb_tm_model_n_layers(m), 1);
    int8_t in[4] = {-128, 0, 50, 127}, out[3];
    void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
    jb_tm_model_run(m, 1, in, out, arena);
    for (int o = 0; o < 3; o++) {
        int32_t acc = tfw_fc_b[o];
        for (int i = 0; i < 4; i++)
            acc += (in[i] - 3) * tfw_fc_w[o * 4 + i];
        int32_t mult, sh;
        jb_tm_quantize_multiplier(0.5 * (double)tfw_fc_w_scale[o] / 0.25, &mult, &sh);
        int32_t v = jb_tm_mbqm(acc, mult, sh) - 10;
        v = v < -10 ? -10 : v > 127 ? 127 : v; /* RELU: the zero point is real 0 */
        assert_int_equal(out[o], v);
        /* and within one step of the real-valued result */
        double real = 0.5 * tfw_fc_w_scale[o] * acc / 0.25 - 10;
        real = real < -10 ? -10 : real > 127 ? 127 : real;
        assert_true(fabs(out[o] - real) <= 1.0);
    }
    free(arena);
    jb_tm_model_close(m);
    free(buf);
}

/* The small graph of every supported int8 operator (tfw_example_mixed):
 * the optimized path under every cap agrees with the reference. */
static void test_mixed_graph_every_isa(void **s)
{
    (void)s;
    const char *caps[] = {"reference", "avx2", "avx512"};
    char err[JB_ERRLEN];
    size_t len;
    uint8_t *buf = tfw_example_mixed(&len, 1, 4, JB_TFL_CONV_2D);
    for (int c = 0; c < 3; c++) {
        setenv("JB_CPU_FORCE", caps[c], 1);
        struct jb_tm_model *m;
        int rc = jb_tm_model_open_tflite_buf(buf, len, "mixed", JB_TM_INPUT_IMAGE, 1.0f,
                                             jb_cpu_isa(), &m, err, sizeof(err));
        if (rc)
            print_error("%s\n", err);
        assert_int_equal(rc, 0);
        assert_int_equal(jb_tm_model_n_layers(m), 6); /* the reshape is an alias */
        int8_t a[3], b[3];
        int distinct = 0, prev = -1;
        for (uint64_t item = 0; item < 16; item++) {
            run(m, 0, item, a);
            run(m, 1, item, b);
            assert_memory_equal(a, b, 3);
            /* softmax output: probabilities summing to about 1 (256 steps) */
            int sum = (a[0] + 128) + (a[1] + 128) + (a[2] + 128);
            assert_true(sum >= 250 && sum <= 260);
            distinct += a[0] != prev;
            prev = a[0];
        }
        assert_true(distinct > 1);
        jb_tm_model_close(m);
    }
    unsetenv("JB_CPU_FORCE");
    free(buf);
}

static void expect_refused(const uint8_t *buf, size_t len, int code, const char *words)
{
    char err[JB_ERRLEN] = "";
    struct jb_tm_model *m = NULL;
    int rc = jb_tm_model_open_tflite_buf(buf, len, "x", JB_TM_INPUT_IMAGE, 1.0f, JB_ISA_REFERENCE,
                                         &m, err, sizeof(err));
    if (rc != code || !strstr(err, words))
        print_error("got %d '%s', expected %d '%s'\n", rc, err, code, words);
    assert_int_equal(rc, code);
    assert_non_null(strstr(err, words));
    assert_null(m);
}

static void test_refusals(void **s)
{
    (void)s;
    size_t len;
    uint8_t *b = tfw_example_mixed(&len, 1, 4, 18 /* MUL */);
    expect_refused(b, len, JB_ENOTSUP, "operator 0 is MUL");
    free(b);
    b = tfw_example_mixed(&len, 1, 4, 32 /* CUSTOM */);
    expect_refused(b, len, JB_ENOTSUP, "CUSTOM, which joulebench does not run");
    free(b);
    b = tfw_example_mixed(&len, 2, 4, JB_TFL_CONV_2D);
    expect_refused(b, len, JB_ENOTSUP, "dilation");
    free(b);
    b = tfw_example_mixed(&len, 1, 8, JB_TFL_CONV_2D);
    expect_refused(b, len, JB_EFORMAT, "operator 1 (DEPTHWISE_CONV_2D)");
    free(b);
    b = tfw_example_fc(&len, JB_TFL_CONV_2D, 0);
    expect_refused(b, len, JB_EFORMAT, "filter is not [out_c, k_h, k_w, in_c]");
    free(b);
    b = tfw_example_fc(&len, JB_TFL_FULLY_CONNECTED, JB_TFL_ACT_TANH);
    expect_refused(b, len, JB_ENOTSUP, "fused activation");
    free(b);
}

/* Truncations, a wrong identifier and corrupted bytes are errors that say
 * where; no input reads outside the buffer (the sanitizer build checks). */
static void test_malformed(void **s)
{
    (void)s;
    char err[JB_ERRLEN];
    size_t len;
    uint8_t *good = tfw_example_mixed(&len, 1, 4, JB_TFL_CONV_2D);
    struct jb_tfl_model *f;
    assert_int_equal(jb_tfl_parse(good, len, "m", &f, err, sizeof(err)), 0);
    jb_tfl_free(f);
    for (size_t cut = 0; cut < len; cut += 7) {
        int rc = jb_tfl_parse(good, cut, "m", &f, err, sizeof(err));
        assert_int_equal(rc, JB_EFORMAT);
        assert_null(f);
        assert_non_null(strstr(err, "malformed TFLite file"));
        assert_non_null(strstr(err, "(byte "));
    }
    uint8_t *bad = malloc(len);
    memcpy(bad, good, len);
    memcpy(bad + 4, "TFL2", 4);
    assert_int_equal(jb_tfl_parse(bad, len, "m", &f, err, sizeof(err)), JB_EFORMAT);
    assert_non_null(strstr(err, "TFL3"));
    /* every byte set to each of a few hostile values: parse and build either
     * succeed or fail cleanly */
    static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
    int failed = 0, total = 0;
    for (size_t at = 0; at < len; at++)
        for (size_t v = 0; v < sizeof(vals); v++) {
            memcpy(bad, good, len);
            if (bad[at] == vals[v])
                continue;
            bad[at] = vals[v];
            struct jb_tm_model *m = NULL;
            int rc = jb_tm_model_open_tflite_buf(bad, len, "m", JB_TM_INPUT_IMAGE, 1.0f,
                                                 JB_ISA_REFERENCE, &m, err, sizeof(err));
            total++;
            if (rc) {
                failed++;
                assert_true(rc == JB_EFORMAT || rc == JB_ENOTSUP || rc == JB_EINVAL ||
                            rc == JB_ENOMEM);
                assert_null(m);
                assert_true(err[0] != 0);
            } else {
                jb_tm_model_close(m);
            }
        }
    /* most corruptions are caught (the rest hit weights or names) */
    assert_true(failed > total / 4);
    free(bad);
    free(good);
    /* the official file, truncated at many lengths */
    char path[512];
    model_path("kws_ref_model.tflite", path, sizeof(path));
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *k = malloc(60000);
    size_t kn = fread(k, 1, 60000, fp);
    fclose(fp);
    for (size_t cut = 8; cut < kn; cut += 997) {
        assert_int_equal(jb_tfl_parse(k, cut, "kws", &f, err, sizeof(err)), JB_EFORMAT);
        assert_null(f);
    }
    free(k);
}

static void *open_wl(const char *name, const char *dtype, const char *options, int want, char *err,
                     size_t errlen)
{
    const struct jb_workload_ops *ops = jb_workload_find(name);
    assert_non_null(ops);
    struct jb_workload_params p = {.dtype = dtype,
                                   .scenario = JB_SCENARIO_SINGLE_STREAM,
                                   .batch = 1,
                                   .threads = 1,
                                   .seed = 2,
                                   .options = options};
    void *st = NULL;
    int rc = jb_workload_open(ops, &p, &st, err, errlen);
    if (rc != want)
        print_error("%s %s: %d %s\n", name, options ? options : "", rc, err);
    assert_int_equal(rc, want);
    return st;
}

static void test_workload_options(void **s)
{
    (void)s;
    char err[JB_ERRLEN];
    const struct jb_workload_ops *ops = jb_workload_find("kws-dscnn");
    struct jb_workload_info info;
    /* default: the official model, labelled with its file's sha256 */
    void *st = open_wl("kws-dscnn", "int8", NULL, 0, err, sizeof(err));
    memset(&info, 0, sizeof(info));
    ops->info(st, &info);
    assert_string_equal(info.model_weights, "official");
    assert_string_equal(info.model_sha256, files[0].sha256);
    assert_non_null(strstr(info.model_file, "kws_ref_model.tflite"));
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    assert_int_equal(ops->check(st, err, sizeof(err)), 0);
    ops->close(st);
    /* synthetic weights, labelled so, no file */
    st = open_wl("kws-dscnn", "fp32", "weights=synthetic", 0, err, sizeof(err));
    memset(&info, 0, sizeof(info));
    ops->info(st, &info);
    assert_string_equal(info.model_weights, "synthetic");
    assert_string_equal(info.model_sha256, "");
    ops->close(st);
    /* a user's file */
    char path[] = "/tmp/jb_test_tflite_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    size_t len;
    uint8_t *buf = tfw_example_mixed(&len, 1, 4, JB_TFL_CONV_2D);
    assert_int_equal(tfw_save(path, buf, len), 0);
    char opt[128];
    snprintf(opt, sizeof(opt), "model=%s", path);
    st = open_wl("kws-dscnn", "int8", opt, 0, err, sizeof(err));
    memset(&info, 0, sizeof(info));
    ops->info(st, &info);
    assert_string_equal(info.model_weights, "file");
    assert_string_equal(info.input_shape, "1x6x6x2");
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    assert_int_equal(ops->check(st, err, sizeof(err)), 0);
    ops->close(st);
    /* the same file at the wrong dtype, an unsupported one, bad options */
    open_wl("kws-dscnn", "fp32", opt, JB_EINVAL, err, sizeof(err));
    assert_non_null(strstr(err, "is an int8 model"));
    free(buf);
    buf = tfw_example_mixed(&len, 1, 4, 18);
    assert_int_equal(tfw_save(path, buf, len), 0);
    open_wl("kws-dscnn", "int8", opt, JB_ENOTSUP, err, sizeof(err));
    assert_non_null(strstr(err, "MUL"));
    open_wl("kws-dscnn", "int8", "weights=trained", JB_EINVAL, err, sizeof(err));
    snprintf(opt, sizeof(opt), "model=%s,weights=synthetic", path);
    open_wl("kws-dscnn", "int8", opt, JB_EINVAL, err, sizeof(err));
    open_wl("kws-dscnn", "int8", "model=/nonexistent.tflite", JB_ENOENT, err, sizeof(err));
    unlink(path);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_files_parse),
        cmocka_unit_test(test_graph_matches_architecture),
        cmocka_unit_test(test_optimized_exact_every_isa),
        cmocka_unit_test(test_int8_tracks_fp32),
        cmocka_unit_test(test_quantize_multiplier),
        cmocka_unit_test(test_hand_built_int8_fc),
        cmocka_unit_test(test_mixed_graph_every_isa),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_workload_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
