/* sha256.h: SHA-256 (FIPS 180-4): submission manifests (a file changed
 * after submission is detected) and the model files a record names (the
 * TFLite models). In base/ because both results/ and workloads/ use it.
 * Written here because none of the libraries joulebench links exposes one. */
#ifndef JB_SHA256_H
#define JB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct jb_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t buf[64];
    size_t used;
};

void jb_sha256_init(struct jb_sha256 *c);
void jb_sha256_update(struct jb_sha256 *c, const void *data, size_t n);
/* Writes the 64 lowercase hex digits and a NUL into hex[65]. */
void jb_sha256_final_hex(struct jb_sha256 *c, char hex[65]);

/* Hashes a file; 0 or JB_EIO/JB_ENOENT with a message naming it. */
int jb_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

#endif
