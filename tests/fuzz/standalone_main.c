/* standalone_main.c: runs a libFuzzer target without libFuzzer, so that every
 * CI run (gcc, sanitizers) fuzzes the parsers: each file of the corpus
 * folder given on the command line, then deterministic mutations of it
 * (truncations, bit flips, byte insertions and overwrites with boundary
 * values). JB_FUZZ_MUTATIONS sets the mutations per file (default 2000);
 * a file over 64 KiB gets proportionally fewer (at least 50), since each
 * run costs in proportion to its size (the TFLite models are up to 1 MiB). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
    /* xorshift64*: deterministic, so a failure reproduces run to run. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
    static const uint8_t boundary[] = {0x00, 0xff, 0x7f, 0x80, 0x01, '"', '{', '}', '[', ']', ':'};
    size_t n = *len;
    switch (next_rand() % 5) {
    case 0: /* truncate */
        *len = n ? next_rand() % n : 0;
        break;
    case 1: /* flip a bit */
        if (n)
            buf[next_rand() % n] ^= (uint8_t)(1u << (next_rand() % 8));
        break;
    case 2: /* overwrite with a boundary byte */
        if (n)
            buf[next_rand() % n] = boundary[next_rand() % sizeof(boundary)];
        break;
    case 3: /* insert a byte */
        if (n < cap) {
            size_t at = n ? next_rand() % (n + 1) : 0;
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (uint8_t)next_rand();
            *len = n + 1;
        }
        break;
    default: /* overwrite 8 bytes with a large or negative integer */
        if (n >= 8) {
            uint64_t v = (next_rand() & 1) ? UINT64_MAX - (next_rand() % 4) : next_rand();
            memcpy(buf + next_rand() % (n - 7), &v, 8);
        }
        break;
    }
}

static int run_file(const char *path, long mutations)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0)
        size = 0;
    size_t cap = (size_t)size + 64;
    uint8_t *orig = malloc(cap), *buf = malloc(cap);
    if (!orig || !buf || fread(orig, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(orig);
        free(buf);
        return 0;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(orig, (size_t)size);
    if (size > 65536) {
        long scaled = (long)((double)mutations * 65536.0 / (double)size);
        mutations = scaled < 50 ? (mutations < 50 ? mutations : 50) : scaled;
    }
    for (long m = 0; m < mutations; m++) {
        size_t len = (size_t)size;
        memcpy(buf, orig, len);
        int rounds = 1 + (int)(next_rand() % 4);
        for (int r = 0; r < rounds; r++)
            mutate(buf, &len, cap);
        /* A copy of exactly len bytes, so ASan sees any read past the end. */
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, buf, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    free(orig);
    free(buf);
    return 1;
}

int main(int argc, char **argv)
{
    long mutations = getenv("JB_FUZZ_MUTATIONS") ? atol(getenv("JB_FUZZ_MUTATIONS")) : 2000;
    int files = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            files += run_file(argv[i], mutations);
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            files += run_file(path, mutations);
        }
        closedir(d);
    }
    if (files == 0) {
        fprintf(stderr, "fuzz: no corpus files found\n");
        return 1;
    }
    printf("fuzz: %d corpus files, %ld mutations each: no crash\n", files, mutations);
    return 0;
}
