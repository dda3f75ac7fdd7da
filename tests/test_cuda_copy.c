/* test_cuda_copy.c: the CUDA run-time layer and the cuda-copy workload.
 *
 * Without a GPU (CI: nvcc but no device) the probe must say so plainly and
 * the workload must refuse to open with that reason, never crash; the GPU
 * tests are then skipped with the message. With a GPU, a copy pass must be
 * verified element by element, and a pass that is not run must be caught by
 * the check (the check poisons the destination), by either method (the
 * kernel and cudaMemcpyAsync); by default the faster is taken and named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "tests/cuda_test_util.h"
#include "workloads/workload.h"
#ifdef JB_HAVE_CUDA
#include "platforms/cuda/cuda_rt.h"
#endif

#ifdef JB_HAVE_CUDA
static void test_probe_answers_clearly(void **state)
{
    (void)state;
    char err[JB_ERRLEN] = "";
    struct jb_cuda_device_info info;
    int rc = jb_cuda_probe(0, &info, err, sizeof(err));
    if (rc) {
        /* No GPU: a clear reason, and the not-supported code callers skip on. */
        assert_int_equal(rc, JB_ENOTSUP);
        assert_non_null(strstr(err, "no NVIDIA GPU/driver"));
        /* Asking twice gives the same answer (no sticky error state). */
        assert_int_equal(jb_cuda_probe(0, NULL, err, sizeof(err)), JB_ENOTSUP);
        return;
    }
    assert_true(info.sm_count > 0);
    assert_true(info.mem_total_b > 1e9);
    assert_true(info.name[0] != '\0');
    assert_int_equal(jb_cuda_probe(info.devices, NULL, err, sizeof(err)), JB_ENOENT);
}

static void test_workload_registered_and_refuses_without_gpu(void **state)
{
    (void)state;
    const struct jb_workload_ops *w = jb_workload_find("cuda-copy");
    assert_non_null(w);
    assert_string_equal(w->alias_backend, "cuda");
    if (jb_test_have_gpu())
        skip();
    struct jb_workload_params p = {.batch = 1, .threads = 1, .seed = 1, .options = "mib=16"};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_ENOTSUP);
    assert_null(st);
    assert_non_null(strstr(err, "no NVIDIA GPU/driver"));
}

static void test_copy_is_verified(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const struct jb_workload_ops *w = jb_workload_find("cuda-copy");
    struct jb_workload_params p = {.batch = 1, .threads = 1, .seed = 42, .options = "mib=64"};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), 0);
    /* No pass yet: the destination holds poison, the check must fail. */
    assert_int_equal(w->check(st, err, sizeof(err)), JB_ECHECK);
    assert_int_equal(w->run(st, err, sizeof(err)), 0);
    assert_int_equal(w->check(st, err, sizeof(err)), 0);
    /* The check poisoned dst again: checking without a pass fails again. */
    assert_int_equal(w->check(st, err, sizeof(err)), JB_ECHECK);
    struct jb_workload_info info;
    memset(&info, 0, sizeof(info));
    w->info(st, &info);
    assert_true(info.per_unit.bytes_moved == 2.0 * 64 * 1048576.0);
    assert_string_equal(info.backend, "cuda");
    /* The default runs the faster of the two, timed at open: both timed. */
    assert_true(strncmp(info.kernel, "kernel (", 8) == 0 ||
                strncmp(info.kernel, "memcpy (", 8) == 0);
    assert_null(strstr(info.kernel, " 0 GB/s"));
    w->close(st);
    /* Each method by name copies and is verified the same way. */
    const char *opts[] = {"mib=16,method=kernel", "mib=16,method=memcpy"};
    for (int i = 0; i < 2; i++) {
        p.options = opts[i];
        assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), 0);
        assert_int_equal(w->check(st, err, sizeof(err)), JB_ECHECK);
        assert_int_equal(w->run(st, err, sizeof(err)), 0);
        assert_int_equal(w->check(st, err, sizeof(err)), 0);
        memset(&info, 0, sizeof(info));
        w->info(st, &info);
        assert_true(strncmp(info.kernel, i ? "memcpy (" : "kernel (", 8) == 0);
        w->close(st);
    }
    /* Bad options are refused before touching the GPU. */
    p.options = "mib=0";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EINVAL);
    p.options = "mib=16,method=dma";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "method"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_answers_clearly),
        cmocka_unit_test(test_workload_registered_and_refuses_without_gpu),
        cmocka_unit_test(test_copy_is_verified),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    return jb_test_cuda_not_built_main("cuda-copy");
}
#endif
