/* cuda_test_util.h: what the CUDA tests share: whether a GPU answers (the
 * GPU tests skip with the runtime's reason when none does, as in CI: nvcc
 * but no device), and, in a build without CUDA, the one test they all run
 * instead: the workload must not be registered. Include after <cmocka.h>. */
#ifndef JB_CUDA_TEST_UTIL_H
#define JB_CUDA_TEST_UTIL_H

#include <stdint.h>

#include "base/error.h"
#include "workloads/workload.h"
#ifdef JB_HAVE_CUDA
#include "platforms/cuda/cuda_rt.h"
#endif

#ifdef JB_HAVE_CUDA
/* 1 when GPU 0 answers; otherwise prints why the test is skipped and
 * returns 0. */
static inline int jb_test_have_gpu(void)
{
    char err[JB_ERRLEN] = "";
    int rc = jb_cuda_probe(0, NULL, err, sizeof(err));
    if (rc) {
        print_message("skipping: %s\n", err);
        return 0;
    }
    return 1;
}
#else
/* *state: the name of the CUDA workload that must be missing. */
static inline void jb_test_cuda_not_built(void **state)
{
    /* Without a CUDA compiler the name still resolves (old records and
     * suites), but the cuda back-end says it was not built. */
    const struct jb_workload_ops *w = jb_workload_find((const char *)*state);
    assert_non_null(w);
    const struct jb_backend *b = NULL;
    char why[JB_ERRLEN];
    assert_int_equal(jb_workload_backend(w, "cuda", &b, why, sizeof(why)), 0);
    assert_int_equal(jb_backend_probe(b, why, sizeof(why)), JB_ENOTSUP);
    assert_non_null(strstr(why, "not built"));
    print_message("skipping: built without CUDA (no nvcc found)\n");
    skip();
}

/* The whole test program of a build without CUDA, for `workload`. */
static inline int jb_test_cuda_not_built_main(const char *workload)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(jb_test_cuda_not_built, (void *)(uintptr_t)workload)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif

#endif /* JB_CUDA_TEST_UTIL_H */
