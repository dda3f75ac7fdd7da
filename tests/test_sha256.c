/* test_sha256.c: base/sha256.c. The FIPS 180-2 example vectors and the
 * one-million-'a' vector, in memory and from files (read in pieces, binary
 * bytes included), and the errors a caller reports: a missing file, a
 * file that cannot be read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "base/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void known_vectors(void **st)
{
    (void)st;
    struct {
        const char *msg;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
         "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char hex[JB_SHA256_HEX_LEN];
        assert_int_equal(jb_sha256_hex(v[i].msg, strlen(v[i].msg), hex), 0);
        assert_string_equal(hex, v[i].hex);
    }
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    char hex[JB_SHA256_HEX_LEN];
    assert_int_equal(jb_sha256_hex(a, 1000000, hex), 0);
    assert_string_equal(hex, MILLION_A);
    free(a);
}

/* Writes n bytes to a new temporary file: 'a' each, or every byte value in
 * turn when binary. Its path goes into path (32 bytes). */
static void write_temp(char *path, size_t n, int binary)
{
    snprintf(path, 32, "/tmp/jb_sha256_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc(binary ? (int)(i % 256) : 'a', f);
    assert_int_equal(fclose(f), 0);
}

static void files(void **st)
{
    (void)st;
    char path[32], hex[JB_SHA256_HEX_LEN], err[JB_ERRLEN];
    /* 1e6 bytes: more than one read piece, and a piece cut short */
    write_temp(path, 1000000, 0);
    assert_int_equal(jb_sha256_file(path, hex, err, sizeof(err)), 0);
    assert_string_equal(hex, MILLION_A);
    unlink(path);
    /* every byte value, NUL included, 1000 times over (Python's hashlib) */
    write_temp(path, 256000, 1);
    assert_int_equal(jb_sha256_file(path, hex, err, sizeof(err)), 0);
    assert_string_equal(hex, "b57b64b198d5d59ce5a22a9b9f25e72a7d081476d432051aa923f3dbebb90934");
    unlink(path);
    write_temp(path, 0, 0);
    assert_int_equal(jb_sha256_file(path, hex, err, sizeof(err)), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    unlink(path);
}

static void file_errors(void **st)
{
    (void)st;
    char hex[JB_SHA256_HEX_LEN] = "x", err[JB_ERRLEN] = "";
    assert_int_equal(jb_sha256_file("/nonexistent/jb-file", hex, err, sizeof(err)), JB_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/jb-file"));
    assert_string_equal(hex, "");
    /* a folder opens but does not read */
    strcpy(hex, "x");
    assert_int_equal(jb_sha256_file("/tmp", hex, err, sizeof(err)), JB_EIO);
    assert_non_null(strstr(err, "/tmp"));
    assert_string_equal(hex, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_vectors),
        cmocka_unit_test(files),
        cmocka_unit_test(file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
