/* test_cuda_tinyml.c: the MLPerf Tiny models on the GPU.
 *
 * With a GPU: for each of the four models, int8 and fp32, at batch 1
 * (single-stream, graphed) and batch 8 (offline), every item's output
 * agrees with the CPU reference kernels on the same model and input (int8
 * bit for bit, fp32 within JB_TM_F32_RTOL), through the workload's own
 * check() and directly; repeated runs give the same output; launching layer
 * by layer (graph=0) gives the same output as the graph. Without a GPU
 * (CI): the workloads are registered, refuse bad parameters before touching
 * the GPU and refuse to open with the runtime's reason; GPU tests are
 * skipped with the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tests/cuda_test_util.h"
#include "workloads/workload.h"
#ifdef JB_HAVE_CUDA
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/tinyml_cuda.h"
#include "platforms/tinyml/tinyml_model.h"

static const char *const names[] = {"cuda-kws-dscnn", "cuda-vww-mobilenet", "cuda-ic-resnet8",
                                    "cuda-ad-autoencoder"};

static void test_registered_and_refuses_without_gpu(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        const struct jb_workload_ops *w = jb_workload_find(names[i]);
        assert_non_null(w);
        assert_string_equal(w->alias_backend, "cuda");
        assert_string_equal(w->dtypes, "int8,fp32");
        assert_string_equal(w->family, "tinyml");
    }
    const struct jb_workload_ops *w = jb_workload_find("cuda-ic-resnet8");
    struct jb_workload_params p = {.dtype = "bf16", .batch = 1, .threads = 1, .seed = 1};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    /* refused before any GPU is touched */
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "bf16"));
    p.dtype = "int8";
    p.backend = "cpu"; /* the alias names cuda: another back-end is bad input */
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "--backend cpu"));
    p.backend = "cuda";
    p.batch = 4; /* single-stream with a batch */
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "offline"));
    assert_null(st);
    if (jb_test_have_gpu())
        return;
    p.batch = 1;
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_ENOTSUP);
    assert_null(st);
    assert_non_null(strstr(err, "no NVIDIA GPU/driver"));
}

/* Through the workload interface, as the runner drives it: open, run,
 * check every item of the batch (check() rotates through it; 7919 is odd,
 * so 8 checks of a batch of 8 visit every item), run again, check again. */
static void check_workload(const char *name, const char *dtype, int batch, const char *options)
{
    const struct jb_workload_ops *w = jb_workload_find(name);
    assert_non_null(w);
    struct jb_workload_params p = {
        .dtype = dtype,
        .backend = "cuda",
        .scenario = batch > 1 ? JB_SCENARIO_OFFLINE : JB_SCENARIO_SINGLE_STREAM,
        .batch = batch,
        .threads = 1,
        .seed = 42,
        .options = options,
    };
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    int rc = jb_workload_open(w, &p, &st, err, sizeof(err));
    if (rc)
        fail_msg("%s %s batch %d: open: %s", name, dtype, batch, err);
    struct jb_workload_info info;
    memset(&info, 0, sizeof(info));
    w->info(st, &info);
    assert_string_equal(info.backend, "cuda");
    assert_string_equal(info.timing, "cuda-events");
    assert_string_equal(info.dtype, dtype);
    assert_int_equal(info.units_per_iteration, batch);
    /* The kernel path named in the record follows the option, and the
     * default (no kernels= given) is tiled. */
    int want_plain = options && strstr(options, "kernels=plain");
    if (!strstr(info.kernel, want_plain ? "thread-per-output" : "tiled"))
        fail_msg("%s %s options '%s': kernel path '%s'", name, dtype, options ? options : "",
                 info.kernel);
    for (int rep = 0; rep < 2; rep++) {
        assert_int_equal(w->run(st, err, sizeof(err)), 0);
        for (int k = 0; k < batch; k++)
            if (w->check(st, err, sizeof(err)))
                fail_msg("%s %s batch %d: %s", name, dtype, batch, err);
    }
    w->close(st);
}

static void test_workloads_match_reference(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const char *dtypes[] = {"int8", "fp32"};
    int batches[] = {1, 8};
    for (int i = 0; i < 4; i++)
        for (int d = 0; d < 2; d++)
            for (int b = 0; b < 2; b++)
                check_workload(names[i], dtypes[d], batches[b], NULL);
}

static void test_without_graph_matches_reference(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    check_workload("cuda-ic-resnet8", "int8", 8, "graph=0");
    check_workload("cuda-kws-dscnn", "fp32", 1, "graph=0");
}

/* Both kernel paths named explicitly (the default, tested above, is
 * tiled: shared-memory tiles, tinyml_tile.h; plain is one thread per
 * output) through the same checks: every model, both dtypes, batch 1 and
 * 8, graphed and not. */
static void test_tiled_matches_reference(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const char *dtypes[] = {"int8", "fp32"};
    const char *paths[] = {"kernels=tiled", "kernels=plain"};
    int batches[] = {1, 8};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            for (int d = 0; d < 2; d++)
                for (int b = 0; b < 2; b++)
                    check_workload(names[i], dtypes[d], batches[b], paths[k]);
    check_workload("cuda-vww-mobilenet", "int8", 8, "kernels=tiled,graph=0");
    check_workload("cuda-vww-mobilenet", "int8", 8, "kernels=plain,graph=0");
}

/* Directly on the back-end: every item of a batch of 8 against the
 * reference, reporting fp32's largest difference. */
static void test_every_item_direct(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const struct jb_tm_model_def *defs[] = {&jb_tm_kws_dscnn, &jb_tm_vww_mobilenet,
                                            &jb_tm_ic_resnet8, &jb_tm_ad_autoencoder};
    char err[JB_ERRLEN] = "";
    const int batch = 8;
    for (int i = 0; i < 4; i++)
        for (int d = 0; d < 2; d++) {
            enum jb_tm_dtype dt = d ? JB_TM_FP32 : JB_TM_INT8;
            struct jb_tm_model *m = NULL;
            struct jb_cuda_tinyml *g = NULL;
            assert_int_equal(
                jb_tm_model_open(defs[i], dt, 9, JB_ISA_REFERENCE, &m, err, sizeof(err)), 0);
            size_t in_b = jb_tm_model_input_elems(m) * jb_tm_model_elem_bytes(m);
            size_t n_out = jb_tm_model_output_elems(m);
            size_t out_b = n_out * jb_tm_model_elem_bytes(m);
            uint8_t *in = malloc(in_b * batch), *got = malloc(out_b), *ref = malloc(out_b);
            void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
            assert_true(in && got && ref && arena);
            for (int k = 0; k < batch; k++)
                assert_int_equal(jb_tm_model_make_input(m, 9, (uint64_t)k, in + in_b * k), 0);
            struct jb_cuda_tinyml_opts o = {.batch = batch, .device = 0, .use_graph = 1};
            if (jb_cuda_tinyml_open(m, &o, in, &g, err, sizeof(err)))
                fail_msg("%s: %s", defs[i]->name, err);
            double gpu_s = -1.0, max_rel = 0.0;
            assert_int_equal(jb_cuda_tinyml_run(g, &gpu_s, err, sizeof(err)), 0);
            assert_true(gpu_s >= 0.0);
            for (int k = 0; k < batch; k++) {
                assert_int_equal(jb_cuda_tinyml_output(g, k, got, err, sizeof(err)), 0);
                jb_tm_model_run(m, 1, in + in_b * k, ref, arena);
                if (dt == JB_TM_INT8) {
                    assert_memory_equal(got, ref, out_b);
                    continue;
                }
                const void *gv = got, *rv = ref;
                const float *gf = gv, *rf = rv;
                float mx = 1.0f;
                for (size_t e = 0; e < n_out; e++)
                    mx = fabsf(rf[e]) > mx ? fabsf(rf[e]) : mx;
                for (size_t e = 0; e < n_out; e++) {
                    double rel = fabs((double)gf[e] - (double)rf[e]) / mx;
                    max_rel = rel > max_rel ? rel : max_rel;
                }
            }
            assert_int_equal(jb_cuda_tinyml_output(g, batch, got, err, sizeof(err)), JB_ERANGE);
            print_message("%s %s batch %d: %s, gpu %.3f ms, fp32 max rel diff %.3g\n",
                          defs[i]->name, d ? "fp32" : "int8", batch, jb_cuda_tinyml_kernel(g),
                          gpu_s * 1e3, max_rel);
            assert_true(max_rel <= JB_TM_F32_RTOL);
            jb_cuda_tinyml_close(g);
            jb_tm_model_close(m);
            free(in);
            free(got);
            free(ref);
            free(arena);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_and_refuses_without_gpu),
        cmocka_unit_test(test_workloads_match_reference),
        cmocka_unit_test(test_without_graph_matches_reference),
        cmocka_unit_test(test_tiled_matches_reference),
        cmocka_unit_test(test_every_item_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    return jb_test_cuda_not_built_main("cuda-kws-dscnn");
}
#endif
