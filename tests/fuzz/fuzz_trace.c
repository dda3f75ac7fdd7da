/* fuzz_trace.c: the power trace CSV that import reads beside a record
 * (NAME.power.csv): each input is written as the trace of a scratch record
 * and read back through jb_read_trace_beside, whose result must be the
 * whole text of a file that starts with the trace header, or nothing. */
#include "app/cmd_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[] = "/tmp/jb_fuzz_trace_XXXXXX";
    static int ready;
    if (!ready) {
        if (!mkdtemp(dir))
            abort();
        ready = 1;
    }
    char rec[512], trace[512];
    snprintf(rec, sizeof(rec), "%s/run.json", dir);
    snprintf(trace, sizeof(trace), "%s/run.power.csv", dir);
    FILE *f = fopen(trace, "wb");
    if (!f)
        return 0;
    size_t w = fwrite(data, 1, size, f);
    if (fclose(f) || w != size)
        return 0;
    char *t = jb_read_trace_beside(rec);
    if (t && (strncmp(t, "time_s,domain,watts", 19) || strlen(t) != size ||
              memcmp(t, data, size)))
        abort();
    free(t);
    return 0;
}
