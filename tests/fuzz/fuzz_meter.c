/* fuzz_meter.c: fuzzes the meter source's line parser, the one power source
 * that reads outside input (a log file or a TCP stream from another
 * machine). Each input is served as a file through a memfd and drained
 * through the source's own open/read path; the invariants are those energy.c
 * relies on: sample times and cumulative energy never go backwards and stay
 * finite. */
#include "base/error.h"
#include "harness/power.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct jb_power_source_ops *ops = jb_power_source_find("meter");
    int fd = memfd_create("jb_fuzz_meter", MFD_CLOEXEC);
    if (fd < 0 || !ops)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char opts[128];
    snprintf(opts, sizeof(opts), "file=/proc/self/fd/%d,clock=monotonic,period_ms=10", fd);
    struct jb_power_context ctx = {1, NULL, "/", 0};
    void *st = NULL;
    char err[JB_ERRLEN];
    if (ops->open(opts, &ctx, &st, err, sizeof(err)) == 0) {
        struct jb_power_reading r;
        double last_t = -INFINITY, last_e = 0;
        int more = 1;
        for (int i = 0; more && i < 1000000; i++) {
            if (ops->read(st, 0, &r, err, sizeof(err)))
                break;
            more = r.more;
            if (r.t_s < 0)
                continue; /* no sample yet */
            /* abort(), not assert(): release builds fuzz too */
            if (!isfinite(r.t_s) || !isfinite(r.energy_j) || r.t_s < last_t || r.energy_j < last_e)
                abort();
            last_t = r.t_s;
            last_e = r.energy_j;
        }
        ops->close(st);
    }
    close(fd);
    return 0;
}
