/* sha256.c: SHA-256 through libcrypto's EVP interface (see sha256.h). */
#include "base/sha256.h"

#include "base/error.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* SHA-256 digests are 32 bytes; EVP says how long each one was, and a
 * different length means the wrong digest, which is refused. */
#define MD_LEN 32

static void to_hex(const unsigned char md[MD_LEN], char hex[JB_SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < MD_LEN; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * MD_LEN] = '\0';
}

int jb_sha256_hex(const void *data, size_t n, char hex[JB_SHA256_HEX_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    hex[0] = '\0';
    if (EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) != 1 || len != MD_LEN)
        return JB_EIO;
    to_hex(md, hex);
    return JB_OK;
}

int jb_sha256_file(const char *path, char hex[JB_SHA256_HEX_LEN], char *err, size_t errlen)
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
    unsigned len = 0;
    size_t n;
    int rc = JB_OK;
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return jb_err(err, errlen, errno == ENOENT ? JB_ENOENT : JB_EIO, "%s: %s", path,
                      strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = jb_err(err, errlen, JB_EIO, "%s: SHA-256: libcrypto could not start a digest", path);
        goto out;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1) {
            rc = jb_err(err, errlen, JB_EIO, "%s: SHA-256: libcrypto failed", path);
            goto out;
        }
    if (ferror(f)) {
        rc = jb_err(err, errlen, JB_EIO, "%s: read error", path);
        goto out;
    }
    if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != MD_LEN) {
        rc = jb_err(err, errlen, JB_EIO, "%s: SHA-256: libcrypto failed", path);
        goto out;
    }
    to_hex(md, hex);
out:
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return rc;
}
