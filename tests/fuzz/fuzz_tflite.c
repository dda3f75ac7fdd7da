/* fuzz_tflite.c: the TFLite reader and the graph builder on arbitrary
 * bytes. Any input must give either a model or an error with a message,
 * never a crash, a read past the buffer (ASan) or undefined behaviour
 * (UBSan); a model that builds must also run: one inference with the
 * reference kernels when it is small, so that the geometry the builder
 * accepted is safe for the kernels. */
#include "platforms/cpu/cpu_features.h"
#include "platforms/tinyml/tflite.h"
#include "platforms/tinyml/tinyml_model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    char err[256] = "";
    struct jb_tfl_model *f = NULL;
    int rc = jb_tfl_parse(copy, size, "fuzz", &f, err, sizeof(err));
    if (rc == 0) {
        if (!f || f->n_subgraphs < 1 || (f->n_tensors && !f->tensors))
            abort();
        jb_tfl_free(f);
    } else if (!err[0]) {
        abort(); /* every failure names its reason */
    }
    struct jb_tm_model *m = NULL;
    err[0] = 0;
    rc = jb_tm_model_open_tflite_buf(copy, size, "fuzz", JB_TM_INPUT_IMAGE, 1.0f, JB_ISA_REFERENCE,
                                     &m, err, sizeof(err));
    if (rc == 0) {
        const struct jb_tm_counts *c = jb_tm_model_counts(m);
        if (c->macs < 2e6 && jb_tm_model_arena_bytes(m) < (16u << 20)) {
            size_t eb = jb_tm_model_elem_bytes(m);
            void *in = calloc(jb_tm_model_input_elems(m), eb);
            void *out = calloc(jb_tm_model_output_elems(m), eb);
            void *arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
            if (in && out && arena && jb_tm_model_make_input(m, 1, 0, in) == 0)
                jb_tm_model_run(m, 1, in, out, arena);
            free(in);
            free(out);
            free(arena);
        }
        jb_tm_model_close(m);
    } else if (!err[0] || m) {
        abort();
    }
    free(copy);
    return 0;
}
