/* sha256.h: SHA-256 digests as lowercase hex, for submission manifests (a
 * file changed after submission is detected) and content keys of stored
 * entries. The digest is libcrypto's (EVP), which joulebench links anyway
 * through libpq; these two functions only add the hex form and the file
 * reading with errors that name the file. In base/ because every layer may
 * need a digest. */
#ifndef JB_SHA256_H
#define JB_SHA256_H

#include <stddef.h>

/* 64 hex digits and the NUL. */
#define JB_SHA256_HEX_LEN 65

/* The digest of data[0..n) into hex. Returns 0, or JB_EIO when libcrypto
 * fails (out of memory); hex is then "". */
int jb_sha256_hex(const void *data, size_t n, char hex[JB_SHA256_HEX_LEN]);

/* The digest of a file's bytes, read in pieces. Returns 0, or
 * JB_ENOENT/JB_EIO with a message naming the file; hex is then "". */
int jb_sha256_file(const char *path, char hex[JB_SHA256_HEX_LEN], char *err, size_t errlen);

#endif
