/* fuzz_marker.c: fuzzes the marker protocol's message parser
 * (jb_marker_parse), which reads what a measured program sends. Invariants:
 * an accepted message has kind B or E, a valid name of 1 to 63 characters
 * and finite units >= 0; nothing is read past the message. */
#include "base/error.h"
#include "harness/regions.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that a read past the end is caught */
    char *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    struct jb_marker_msg m;
    char err[JB_ERRLEN];
    if (jb_marker_parse(msg, size, &m, err, sizeof(err)) == 0) {
        size_t n = strlen(m.name);
        if ((m.kind != 'B' && m.kind != 'E') || n < 1 || n > JB_MARKER_NAME_MAX ||
            !isfinite(m.units) || m.units < 0)
            abort();
    }
    free(msg);
    return 0;
}
