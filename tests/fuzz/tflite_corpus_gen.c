/* tflite_corpus_gen.c: writes the hand-built part of the TFLite fuzz
 * corpus (tests/fuzz/corpus/tflite/): small valid models of every
 * supported operator, and a few that the builder refuses (an unsupported
 * operator, dilation), so that mutations start from each path. The
 * official MLPerf Tiny files are in the corpus as links to
 * workloads/tinyml/models. Usage: tflite_corpus_gen DIR */
#include "tests/tflite_write.h"
#include "platforms/tinyml/tflite.h"

#include <stdio.h>
#include <stdlib.h>

static int save(const char *dir, const char *name, uint8_t *b, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int rc = tfw_save(path, b, n);
    free(b);
    if (rc)
        fprintf(stderr, "tflite_corpus_gen: cannot write %s\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tflite_corpus_gen DIR\n");
        return 2;
    }
    size_t n = 0;
    int rc = 0;
    uint8_t *b = tfw_example_fc(&n, JB_TFL_FULLY_CONNECTED, 1);
    rc |= save(argv[1], "fc_int8.tflite", b, n);
    b = tfw_example_mixed(&n, 1, 4, JB_TFL_CONV_2D);
    rc |= save(argv[1], "mixed_int8.tflite", b, n);
    b = tfw_example_mixed(&n, 1, 4, 18 /* MUL */);
    rc |= save(argv[1], "bad_mul.tflite", b, n);
    b = tfw_example_mixed(&n, 2, 4, JB_TFL_CONV_2D);
    rc |= save(argv[1], "bad_dilation.tflite", b, n);
    return rc ? 1 : 0;
}
