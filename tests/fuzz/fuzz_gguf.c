/* fuzz_gguf.c: the GGUF parser on arbitrary bytes. Any input must give
 * either weights or an error with a message, never a crash, a read past the
 * buffer (ASan) or undefined behaviour (UBSan). A small file that parses is
 * also decoded for one step with the kernels this CPU runs, so that blocks
 * of any content (k-quant scales, fp16 NaNs) go through every kernel. */
#include "platforms/cpu/llm_model.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/llm/gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy of exactly `size` bytes, so that ASan catches a read
     * one byte past the end even when the driver's buffer is larger. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct jb_llm_weights *w = NULL;
    char err[256] = "";
    int rc = jb_gguf_parse(copy, size, NULL, &w, err, sizeof(err));
    if (rc == 0) {
        /* a file that parses must describe a usable model */
        if (!w || w->cfg.dim <= 0 || w->cfg.n_layers <= 0 || !w->layers)
            abort();
        struct jb_pool *pool = NULL;
        struct jb_llm_model *m = NULL;
        if (w->param_count < 4e6 && !jb_pool_create(1, NULL, 0, &pool, err, sizeof(err)) &&
            !jb_llm_model_open(w, pool, jb_llm_kernels_for(jb_cpu_isa()), JB_LLM_F16, 2, &m, err,
                               sizeof(err))) {
            if (jb_llm_model_step(m, 0, 1, err, sizeof(err)))
                abort();
        }
        jb_llm_model_close(m);
        jb_pool_destroy(pool);
        jb_llm_weights_free(w);
    } else if (!err[0]) {
        abort(); /* every failure names its reason */
    }
    free(copy);
    return 0;
}
