/* test_tflite_armnn.c: joulebench against an independent runtime, Arm NN's
 * reference back-end (CpuRef, Debian's libarmnntfliteparser-dev), on the
 * official MLPerf Tiny files. Arm NN has its own TFLite parser and its own
 * kernels; tests/armnn/armnn_oracle.cpp runs a file with them.
 *
 * int8, layer by layer: every layer of every int8 model is cut out as a
 * one-operator model and fed, on both sides, joulebench's own input to that
 * layer; the outputs must agree within one quantization step. They are not
 * always bit-exact, for a known reason: Arm NN's CpuRef dequantizes int8 to
 * float, accumulates and rescales in float and rounds once, while TFLite
 * (and joulebench) accumulate in int32 and rescale with the Q31 fixed-point
 * multiplier (two roundings); an output whose real value lies near a
 * rounding boundary comes out one step apart. The test prints, per layer,
 * how many outputs differ. A wrong multiplier, zero point, padding or
 * layout would differ by many steps in most outputs.
 * int8, end to end: the one-step differences propagate, so the whole
 * models are compared on their dequantized outputs (printed) and must pick
 * the same class.
 * fp32, end to end: within JB_TM_F32_RTOL; kws01's fp32 file stores int8
 * filters (dynamic-range quantization), which Arm NN 20.08 cannot run: it
 * is listed as skipped.
 * Skipped with a message when Arm NN is not installed (the oracle was not
 * built). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "tests/tflite_write.h"
#include "platforms/tinyml/tflite.h"
#include "platforms/tinyml/tinyml_model.h"
#include "workloads/tinyml/tinyml_official.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITEMS 3

static const char *const workloads[] = {"kws-dscnn", "vww-mobilenet", "ic-resnet8",
                                        "ad-autoencoder"};

static char tmpdir[] = "/tmp/jb_armnn_XXXXXX";

static void *slurp(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

/* Runs the oracle on model bytes and inputs; returns the outputs (malloc'd)
 * or NULL when Arm NN refuses the model (its message printed). */
static void *oracle(const uint8_t *model, size_t model_n, const void *in, size_t in_n,
                    size_t *out_n)
{
#ifdef JB_ARMNN_ORACLE
    char mp[256], ip[256], op[256], cmd[1024];
    snprintf(mp, sizeof(mp), "%s/m.tflite", tmpdir);
    snprintf(ip, sizeof(ip), "%s/in.bin", tmpdir);
    snprintf(op, sizeof(op), "%s/out.bin", tmpdir);
    assert_int_equal(tfw_save(mp, model, model_n), 0);
    assert_int_equal(tfw_save(ip, in, in_n), 0);
    unlink(op);
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' '%s'", JB_ARMNN_ORACLE, mp, ip, op);
    if (system(cmd) != 0)
        return NULL;
    return slurp(op, out_n);
#else
    (void)model, (void)model_n, (void)in, (void)in_n, (void)out_n;
    return NULL;
#endif
}

static void *file_bytes(const char *path, size_t *n)
{
    void *b = slurp(path, n);
    assert_non_null(b);
    return b;
}

/* Every tensor of the graph for one input, by the reference kernels. */
static void **intermediates(const struct jb_tm_model *m, uint64_t item)
{
    int n = jb_tm_model_n_layers(m);
    size_t eb = jb_tm_model_elem_bytes(m);
    void **t = calloc((size_t)n + 1, sizeof(void *));
    for (int k = 0; k <= n; k++)
        t[k] = malloc(jb_tm_model_tensor_elems(m, k) * eb);
    assert_int_equal(jb_tm_model_make_input(m, 5, item, t[0]), 0);
    for (int i = 0; i < n; i++) {
        int a, b;
        const struct jb_tm_layer *l = jb_tm_model_layer(m, i, &a, &b);
        jb_tm_layer_run_ref(l, t[a], b >= 0 ? t[b] : NULL, t[i + 1]);
    }
    return t;
}

static struct jb_tm_model *open_model(const struct jb_tm_official *off, enum jb_tm_dtype dt,
                                      char *path, size_t pn)
{
    char err[JB_ERRLEN];
    struct jb_tm_model *m;
    assert_int_equal(jb_tm_official_path(off, dt, path, pn), 0);
    int rc = jb_tm_model_open_tflite(path, off->workload, off->input, off->input_gain,
                                     JB_ISA_REFERENCE, &m, err, sizeof(err));
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return m;
}

static void test_int8_layers(void **s)
{
    (void)s;
#ifndef JB_ARMNN_ORACLE
    print_message("Arm NN is not installed (Debian: libarmnntfliteparser-dev, "
                  "libarmnn-cpuref-backend22): the comparison with an independent runtime "
                  "is skipped\n");
    skip();
#endif
    char err[JB_ERRLEN], path[512];
    for (int w = 0; w < 4; w++) {
        const struct jb_tm_official *off = jb_tm_official_find(workloads[w]);
        struct jb_tm_model *m = open_model(off, JB_TM_INT8, path, sizeof(path));
        struct jb_tfl_model *f;
        assert_int_equal(jb_tfl_load(path, &f, err, sizeof(err)), 0);
        void **t[ITEMS];
        for (int it = 0; it < ITEMS; it++)
            t[it] = intermediates(m, (uint64_t)it);
        int layer = 0;
        long total_diff = 0, total_elems = 0;
        for (int k = 0; k < f->n_ops; k++) {
            const struct jb_tfl_op *op = &f->ops[k];
            if (op->opcode == JB_TFL_RESHAPE)
                continue;
            int a, b;
            jb_tm_model_layer(m, layer, &a, &b);
            int ins[2] = {op->in[0], op->opcode == JB_TFL_ADD ? op->in[1] : -1};
            size_t mn, na = jb_tm_model_tensor_elems(m, a),
                       nb = b >= 0 ? jb_tm_model_tensor_elems(m, b) : 0,
                       no = jb_tm_model_tensor_elems(m, layer + 1);
            uint8_t *mb = tfw_from_tfl(f, &k, 1, ins, b >= 0 ? 2 : 1, op->out[0], &mn);
            uint8_t *in = malloc((na + nb) * ITEMS);
            for (int it = 0; it < ITEMS; it++) {
                memcpy(in + (na + nb) * (size_t)it, t[it][a], na);
                if (b >= 0)
                    memcpy(in + (na + nb) * (size_t)it + na, t[it][b], nb);
            }
            size_t got_n = 0;
            int8_t *got = oracle(mb, mn, in, (na + nb) * ITEMS, &got_n);
            const char *on = jb_tfl_opcode_name(op->opcode);
            if (!got)
                print_error("%s layer %d (%s): Arm NN refused it\n", workloads[w], layer, on);
            assert_non_null(got);
            assert_int_equal(got_n, no * ITEMS);
            int worst = 0;
            long diff = 0;
            for (int it = 0; it < ITEMS; it++)
                for (size_t e = 0; e < no; e++) {
                    int d = abs(got[no * (size_t)it + e] - ((int8_t *)t[it][layer + 1])[e]);
                    worst = d > worst ? d : worst;
                    diff += d != 0;
                }
            print_message("armnn %-14s int8 layer %2d %-17s %6ld of %7zu outputs one step "
                          "apart, max %d\n",
                          workloads[w], layer, on, diff, no * ITEMS, worst);
            assert_true(worst <= 1);
            total_diff += diff;
            total_elems += (long)(no * ITEMS);
            free(got);
            free(in);
            free(mb);
            layer++;
        }
        /* one-step differences are rare: under 1% of all outputs */
        assert_true(total_diff * 100 < total_elems);
        for (int it = 0; it < ITEMS; it++) {
            for (int k = 0; k <= jb_tm_model_n_layers(m); k++)
                free(t[it][k]);
            free(t[it]);
        }
        jb_tfl_free(f);
        jb_tm_model_close(m);
    }
}

static void test_end_to_end(void **s)
{
    (void)s;
#ifndef JB_ARMNN_ORACLE
    print_message("Arm NN is not installed: end-to-end comparison skipped\n");
    skip();
#endif
    char path[512];
    for (int w = 0; w < 4; w++)
        for (int dt = 0; dt < 2; dt++) {
            const struct jb_tm_official *off = jb_tm_official_find(workloads[w]);
            struct jb_tm_model *m = open_model(off, (enum jb_tm_dtype)dt, path, sizeof(path));
            size_t eb = jb_tm_model_elem_bytes(m), ni = jb_tm_model_input_elems(m),
                   no = jb_tm_model_output_elems(m);
            uint8_t *in = malloc(ni * eb * ITEMS), *ref = malloc(no * eb * ITEMS);
            void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
            for (int it = 0; it < ITEMS; it++) {
                assert_int_equal(jb_tm_model_make_input(m, 5, (uint64_t)it, in + ni * eb * it), 0);
                jb_tm_model_run(m, 1, in + ni * eb * it, ref + no * eb * it, arena);
            }
            size_t fn = 0, got_n = 0;
            uint8_t *fb = file_bytes(path, &fn);
            uint8_t *got = oracle(fb, fn, in, ni * eb * ITEMS, &got_n);
            if (!got && dt == JB_TM_FP32 && w == 0) {
                print_message("armnn %-14s fp32: skipped: the file's filters are int8 "
                              "(dynamic-range quantization), which Arm NN 20.08 cannot run\n",
                              workloads[w]);
            } else {
                assert_non_null(got);
                assert_int_equal(got_n, no * eb * ITEMS);
                int32_t zp = 0;
                float sc = dt == JB_TM_INT8 ? jb_tm_model_output_scale(m, &zp) : 1.0f;
                double worst = 0.0, mx = 1.0;
                int agree = 0;
                for (int it = 0; it < ITEMS; it++) {
                    size_t ag = 0, ar = 0;
                    for (size_t e = 0; e < no; e++) {
                        size_t i = no * (size_t)it + e;
                        double g = dt ? ((float *)(void *)got)[i] : sc * (((int8_t *)got)[i] - zp);
                        double r = dt ? ((float *)(void *)ref)[i] : sc * (((int8_t *)ref)[i] - zp);
                        double gb = dt ? ((float *)(void *)got)[no * it + ag]
                                       : sc * (((int8_t *)got)[no * it + ag] - zp);
                        double rb = dt ? ((float *)(void *)ref)[no * it + ar]
                                       : sc * (((int8_t *)ref)[no * it + ar] - zp);
                        ag = g > gb ? e : ag;
                        ar = r > rb ? e : ar;
                        worst = fabs(g - r) > worst ? fabs(g - r) : worst;
                        mx = fabs(r) > mx ? fabs(r) : mx;
                    }
                    agree += ag == ar;
                }
                print_message("armnn %-14s %s end to end: max |difference| %.3g (max |output| "
                              "%.3g), arg-max agrees on %d of %d\n",
                              workloads[w], dt ? "fp32" : "int8", worst, mx, agree, ITEMS);
                if (dt == JB_TM_FP32)
                    assert_true(worst <= JB_TM_F32_RTOL * mx);
                else if (w < 3)
                    assert_int_equal(agree, ITEMS);
                else
                    assert_true(worst <= 0.05 * mx); /* autoencoder: a few steps of 640 */
                free(got);
            }
            free(fb);
            free(in);
            free(ref);
            free(arena);
            jb_tm_model_close(m);
        }
}

static int setup(void **s)
{
    (void)s;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    char p[300];
    const char *names[] = {"m.tflite", "in.bin", "out.bin"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int8_layers),
        cmocka_unit_test(test_end_to_end),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
