/* fuzz_descriptor.c: platform descriptors (platforms/descriptors/NAME.json, or
 * any path given to --platform), loaded through jb_platform_load from a
 * memfd; a descriptor it accepts must hold the numbers normalization
 * divides by in range. */
#include "base/error.h"
#include "platforms/descriptor.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("jb_fuzz_descriptor", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64], err[JB_ERRLEN];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    json_t *p = NULL;
    if (jb_platform_load(path, &p, err, sizeof(err)) == 0) {
        if (!(json_number_value(json_object_get(p, "lifetime_years")) > 0) ||
            !(json_number_value(json_object_get(p, "pue_default")) >= 1))
            abort();
        json_decref(p);
    }
    close(fd);
    return 0;
}
