/* fuzz_suite.c: suite files, outside input that `run` reads (a suite may
 * come with a shared repository): each input is a suite file served through
 * a memfd and loaded the way `run --suite PATH` loads one, @include and
 * comma-list expansion included. */
#include "base/error.h"
#include "harness/suite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("jb_fuzz_suite", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64], err[JB_ERRLEN];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct jb_run_spec base;
    jb_spec_defaults(&base);
    struct jb_spec_list l = {0};
    if (jb_suite_load(path, &base, &l, err, sizeof(err)) == 0) {
        jb_spec_list_dedupe(&l);
        for (int i = 0; i < l.n; i++)
            if (l.v[i].threads < 1 || l.v[i].batch < 1 || l.v[i].repetitions < 1 ||
                !(l.v[i].min_time_s >= 0))
                abort(); /* a spec the parser accepted must be in range */
    }
    jb_spec_list_free(&l);
    close(fd);
    return 0;
}
