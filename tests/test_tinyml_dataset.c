/* test_tinyml_dataset.c: scoring a TinyML model on a data set in MLPerf
 * Tiny's EnergyRunner layout (workloads/tinyml/tinyml_dataset.c), on tiny
 * synthetic data sets built here:
 * - top-1 accuracy (ic01 pixels, kws01 int8 MFCCs; int8 and fp32 models):
 *   labels are the model's own prediction (computed here from the raw
 *   bytes by the data set's documented conversion) for some files and a
 *   wrong class for the others, so the accuracy is known exactly;
 * - AUC (ad01): normal files cut from the shipped sample, anomalous ones
 *   noise; the expected AUC is computed here from scores computed here;
 * - the workload option dataset=DIR puts the result in the info;
 * - malformed sets are refused naming the line or file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "workloads/tinyml/tinyml_dataset.h"
#include "platforms/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_official.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/jb_dataset_XXXXXX";

static void put(const char *name, const void *b, size_t n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void labels(const char *text)
{
    put("y_labels.csv", text, strlen(text));
}

static struct jb_tm_model *official(const char *wl, enum jb_tm_dtype dt)
{
    char err[JB_ERRLEN];
    struct jb_tm_model *m;
    struct jb_tm_model_source src;
    int rc = jb_tm_workload_model_open(jb_tm_model_def_find(wl), dt, NULL, 1, JB_ISA_REFERENCE, &m,
                                       &src, err, sizeof(err));
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return m;
}

static int argmax(const struct jb_tm_model *m, const void *in)
{
    size_t n = jb_tm_model_output_elems(m), eb = jb_tm_model_elem_bytes(m);
    void *out = malloc(n * eb), *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
    jb_tm_model_run(m, 0, in, out, arena);
    int best = 0;
    for (size_t i = 1; i < n; i++) {
        double v = eb == 1 ? ((int8_t *)out)[i] : ((float *)out)[i];
        double b = eb == 1 ? ((int8_t *)out)[best] : ((float *)out)[best];
        best = v > b ? (int)i : best;
    }
    free(out);
    free(arena);
    return best;
}

/* n files of `bytes` bytes; for the model m, file i is labelled with the
 * class m predicts when i < n_right, another class otherwise. to_input
 * turns the raw bytes into m's input. Returns the expected accuracy. */
static double
classification_set(const struct jb_tm_model *m, int n, int n_right, size_t bytes, int classes,
                   void (*to_input)(const struct jb_tm_model *, const uint8_t *, size_t, void *))
{
    char text[4096] = "", line[128], name[64];
    uint8_t *raw = malloc(bytes);
    void *in = malloc(jb_tm_model_input_elems(m) * jb_tm_model_elem_bytes(m));
    for (int i = 0; i < n; i++) {
        uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        for (size_t k = 0; k < bytes; k++) {
            x ^= x >> 13;
            x ^= x << 7;
            x ^= x >> 17;
            /* smooth-ish: a ramp per file plus noise */
            raw[k] = (uint8_t)((k * (size_t)(i + 3) / 7 + (x & 31)) & 0xff);
        }
        snprintf(name, sizeof(name), "tst_%06d.bin", i);
        put(name, raw, bytes);
        to_input(m, raw, bytes, in);
        int c = argmax(m, in);
        snprintf(line, sizeof(line), "%s, %d, %d\n", name, classes,
                 i < n_right ? c : (c + 1) % classes);
        strcat(text, line);
    }
    labels(text);
    free(raw);
    free(in);
    return (double)n_right / n;
}

/* EnergyRunner ic01/vww01 bytes to an int8 model's input: byte - 128
 * (input scale 1 or 1/255, zero point -128); to an fp32 ic01 model: the
 * byte's value (trained on 0..255). */
static void pixels(const struct jb_tm_model *m, const uint8_t *raw, size_t n, void *in)
{
    for (size_t i = 0; i < n; i++)
        if (jb_tm_model_dtype(m) == JB_TM_INT8)
            ((int8_t *)in)[i] = (int8_t)(raw[i] - 128);
        else
            ((float *)in)[i] = raw[i];
}

/* kws01 bytes are the int8 model's input already; the fp32 model gets
 * them dequantized at the int8 model's input quantization (about 0.5847
 * and 83 in kws_ref_model.tflite; read from it in test_accuracy). */
static float kws_scale;
static int32_t kws_zp;
static void mfcc(const struct jb_tm_model *m, const uint8_t *raw, size_t n, void *in)
{
    for (size_t i = 0; i < n; i++)
        if (jb_tm_model_dtype(m) == JB_TM_INT8)
            ((int8_t *)in)[i] = (int8_t)raw[i];
        else
            ((float *)in)[i] = kws_scale * (float)((int8_t)raw[i] - kws_zp);
}

static void expect_score(const struct jb_tm_model *m, const char *wl, double want,
                         const char *metric, int items)
{
    char err[JB_ERRLEN];
    struct jb_tm_quality q;
    int rc = jb_tm_dataset_score(m, wl, dir, &q, err, sizeof(err));
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(q.metric, metric);
    assert_int_equal(q.items, items);
    if (fabs(q.value - want) > 1e-9)
        print_error("%s: %s %.6f, expected %.6f\n", wl, metric, q.value, want);
    assert_true(fabs(q.value - want) <= 1e-9);
}

static void test_accuracy(void **s)
{
    (void)s;
    struct jb_tm_model *k8 = official("kws-dscnn", JB_TM_INT8);
    kws_scale = jb_tm_model_input_scale(k8, &kws_zp);
    assert_true(fabsf(kws_scale - 0.5847f) < 1e-3f && kws_zp == 83);
    jb_tm_model_close(k8);
    for (int dt = 0; dt < 2; dt++) {
        struct jb_tm_model *m = official("ic-resnet8", (enum jb_tm_dtype)dt);
        double want = classification_set(m, 6, 4, 32 * 32 * 3, 10, pixels);
        expect_score(m, "ic-resnet8", want, "top-1", 6);
        jb_tm_model_close(m);
        m = official("kws-dscnn", (enum jb_tm_dtype)dt);
        want = classification_set(m, 5, 2, 49 * 10, 12, mfcc);
        expect_score(m, "kws-dscnn", want, "top-1", 5);
        jb_tm_model_close(m);
    }
}

/* Mean squared reconstruction error of one file of windows, here. */
static double ad_score(const struct jb_tm_model *m, const float *x, size_t floats, size_t stride)
{
    size_t n = 640;
    int8_t q[640], o[640];
    float f[640];
    void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
    int32_t izp, ozp;
    float is = jb_tm_model_input_scale(m, &izp), os = jb_tm_model_output_scale(m, &ozp);
    double sum = 0.0;
    int windows = 0;
    for (size_t at = 0; at + n <= floats; at += stride, windows++) {
        double e = 0.0;
        if (jb_tm_model_dtype(m) == JB_TM_INT8) {
            for (size_t i = 0; i < n; i++) {
                long v = lroundf(x[at + i] / is) + izp;
                q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
            }
            jb_tm_model_run(m, 1, q, o, arena);
            for (size_t i = 0; i < n; i++) {
                double d = os * (o[i] - ozp) - x[at + i];
                e += d * d;
            }
        } else {
            jb_tm_model_run(m, 1, x + at, f, arena);
            for (size_t i = 0; i < n; i++)
                e += ((double)f[i] - x[at + i]) * ((double)f[i] - x[at + i]);
        }
        sum += e / n;
    }
    free(arena);
    return sum / windows;
}

static void test_auc(void **s)
{
    (void)s;
    char path[512];
    const char *src = getenv("JB_SOURCE_DIR");
    snprintf(path, sizeof(path),
             "%s/workloads/tinyml/models/ad01-sample-normal_id_01_00000000_hist_librosa.bin",
             src ? src : ".");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    float *sample = malloc(102400);
    assert_int_equal(fread(sample, 1, 102400, f), 102400);
    fclose(f);
    /* 6 files of 5 windows (stride 128 floats): 3 cut from the normal
     * sample, 3 of noise; one noise file is labelled normal */
    size_t floats = 640 + 4 * 128;
    float *file = malloc(floats * sizeof(float));
    for (int dt = 0; dt < 2; dt++) {
        struct jb_tm_model *m = official("ad-autoencoder", (enum jb_tm_dtype)dt);
        double score[6];
        int label[6] = {0, 0, 0, 1, 1, 0};
        char text[1024] = "", line[128], name[64];
        uint64_t x = 88172645463325252ull;
        for (int i = 0; i < 6; i++) {
            for (size_t k = 0; k < floats; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                file[k] = i < 3 ? sample[(size_t)i * 3000 + k]
                                : -60.0f + 60.0f * (float)(x >> 40) / (float)(1 << 24);
            }
            snprintf(name, sizeof(name), "ad_%d.bin", i);
            put(name, file, floats * sizeof(float));
            snprintf(line, sizeof(line), "%s,2,%d,2560,512\n", name, label[i]);
            strcat(text, line);
            score[i] = ad_score(m, file, floats, 128);
        }
        labels(text);
        double wins = 0, pairs = 0;
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++)
                if (label[i] == 1 && label[j] == 0) {
                    pairs++;
                    wins += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
                }
        /* noise reconstructs worse than the real spectrogram */
        assert_true(score[3] > score[0] && score[4] > score[1]);
        expect_score(m, "ad-autoencoder", wins / pairs, "auc", 6);
        jb_tm_model_close(m);
    }
    free(file);
    free(sample);
}

static void expect_refusal(const char *wl, int code, const char *words)
{
    char err[JB_ERRLEN] = "";
    struct jb_tm_quality q;
    struct jb_tm_model *m = official(wl, JB_TM_INT8);
    int rc = jb_tm_dataset_score(m, wl, dir, &q, err, sizeof(err));
    if (rc != code || !strstr(err, words))
        print_error("got %d '%s', expected %d '%s'\n", rc, err, code, words);
    assert_int_equal(rc, code);
    assert_non_null(strstr(err, words));
    jb_tm_model_close(m);
}

static void test_refusals(void **s)
{
    (void)s;
    uint8_t img[32 * 32 * 3] = {0};
    put("a.bin", img, sizeof(img));
    put("short.bin", img, 100);
    labels("a.bin, 10, 3\nnot a line\n");
    expect_refusal("ic-resnet8", JB_EINVAL, "y_labels.csv:2:");
    labels("a.bin, 12, 3\n");
    expect_refusal("ic-resnet8", JB_EINVAL, "the model has 10 classes");
    labels("short.bin, 10, 3\n");
    expect_refusal("ic-resnet8", JB_EINVAL, "100 bytes");
    labels("missing.bin, 10, 3\n");
    expect_refusal("ic-resnet8", JB_ENOENT, "missing.bin");
    labels("../a.bin, 10, 3\n");
    expect_refusal("ic-resnet8", JB_EINVAL, "y_labels.csv:1:");
    labels("\n");
    expect_refusal("ic-resnet8", JB_EINVAL, "lists no input file");
    labels("short.bin, 2, 0, 2560, 512\n");
    expect_refusal("ad-autoencoder", JB_EINVAL, "window of 2560 bytes");
    char p[300];
    snprintf(p, sizeof(p), "%s/y_labels.csv", dir);
    unlink(p);
    expect_refusal("ic-resnet8", JB_ENOENT, "y_labels.csv");
    unlink(strcat(strcpy(p, dir), "/a.bin"));
    unlink(strcat(strcpy(p, dir), "/short.bin"));
}

/* Through the workload: dataset=DIR fills the info's quality. */
static void test_workload_option(void **s)
{
    (void)s;
    struct jb_tm_model *m = official("ic-resnet8", JB_TM_INT8);
    double want = classification_set(m, 4, 3, 32 * 32 * 3, 10, pixels);
    jb_tm_model_close(m);
    char opt[128], err[JB_ERRLEN];
    snprintf(opt, sizeof(opt), "dataset=%s", dir);
    const struct jb_workload_ops *ops = jb_workload_find("ic-resnet8");
    struct jb_workload_params p = {.dtype = "int8",
                                   .scenario = JB_SCENARIO_SINGLE_STREAM,
                                   .batch = 1,
                                   .threads = 1,
                                   .seed = 1,
                                   .options = opt};
    void *st = NULL;
    int rc = jb_workload_open(ops, &p, &st, err, sizeof(err));
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    struct jb_workload_info info;
    memset(&info, 0, sizeof(info));
    ops->info(st, &info);
    assert_string_equal(info.quality_metric, "top-1");
    assert_true(fabs(info.quality_value - want) < 1e-9);
    assert_true(fabs(info.quality_target - 0.85) < 1e-9);
    assert_int_equal(info.quality_items, 4);
    ops->close(st);
    /* a missing folder fails the open */
    p.options = "dataset=/nonexistent-jb-dataset";
    assert_int_equal(jb_workload_open(ops, &p, &st, err, sizeof(err)), JB_ENOENT);
}

static int setup(void **s)
{
    (void)s;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_auc),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_workload_option),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
