/* test_error.c: the error-message helper: jb_err returns the code it is
 * given, a message that fits is written whole, and one that does not is
 * cut with "..." at its end, so that a message composed of others (a suite
 * line, a workload, a CUDA error) never loses its tail unmarked; error
 * buffers hold such a chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"

#include <stdio.h>
#include <string.h>

static void fits_whole(void **state)
{
    (void)state;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_err(err, sizeof(err), JB_EUNAVAIL, "%s: %d", "gpu", 7), JB_EUNAVAIL);
    assert_string_equal(err, "gpu: 7");
    /* exactly full: not cut */
    char small[8];
    assert_int_equal(jb_err(small, sizeof(small), JB_EIO, "%s", "1234567"), JB_EIO);
    assert_string_equal(small, "1234567");
    /* no buffer: only the code */
    assert_int_equal(jb_err(NULL, 0, JB_EINVAL, "x"), JB_EINVAL);
}

static void cut_is_marked(void **state)
{
    (void)state;
    char small[8];
    jb_err(small, sizeof(small), JB_EIO, "%s", "12345678");
    assert_string_equal(small, "1234...");
    char tiny[3] = "zz";
    jb_err(tiny, sizeof(tiny), JB_EIO, "%s", "abcdef"); /* too small to mark */
    assert_string_equal(tiny, "ab");
}

/* What the runner says when a lost GPU fails a run of a suite line in a
 * deep folder: the suite's place, the workload, and CUDA's whole sentence. */
static void composed_chain_fits(void **state)
{
    (void)state;
    char origin[160], cuda[JB_ERRLEN], err[JB_ERRLEN];
    memset(origin, 'd', sizeof(origin));
    memcpy(origin, "suites/", 7);
    snprintf(origin + 107, sizeof(origin) - 107, ":12");
    jb_err(cuda, sizeof(cuda), JB_EUNAVAIL,
           "cuda: GPU %d unusable since %s lost its context (%s); CUDA work needs a new "
           "process",
           0, "llm-decode-gpu q4_0 attention", "cudaErrorIllegalAddress: an illegal memory "
           "access was encountered, injected by JB_CUDA_FAULT");
    jb_err(err, sizeof(err), JB_EUNAVAIL, "%s: %s: %s", origin, "llama3.1-8b", cuda);
    size_t n = strlen(err);
    assert_true(n > 256);
    assert_string_equal(err + n - strlen("needs a new process"), "needs a new process");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fits_whole),
        cmocka_unit_test(cut_is_marked),
        cmocka_unit_test(composed_chain_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
