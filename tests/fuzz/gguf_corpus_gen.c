/* gguf_corpus_gen.c: writes the seed corpus of the GGUF fuzz target
 * (tests/fuzz/corpus/gguf/): small valid files in each weight type and one
 * file per kind of damage the loader must reject. The committed corpus was
 * made with `gguf_corpus_gen tests/fuzz/corpus/gguf`; rerun it after a
 * change of the writer. */
#include "../llm_gguf_write.h"
#include "platforms/llm/llm_format.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gguf_corpus_gen DIR\n");
        return 2;
    }
    static const enum jb_llm_dtype types[] = {JB_LLM_F32, JB_LLM_BF16, JB_LLM_Q8_0, JB_LLM_Q4_0};
    static const struct {
        enum gguf_fault fault;
        const char *name;
    } faults[] = {{GGUF_BAD_TYPE, "bad_type"},       {GGUF_BAD_SHAPE, "bad_shape"},
                  {GGUF_OFFSET_PAST_END, "past_end"}, {GGUF_MISALIGNED, "misaligned"},
                  {GGUF_HUGE_COUNT, "huge_count"},    {GGUF_BAD_ARCH, "bad_arch"}};
    char err[256], path[4096];
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct jb_llm_weights *w;
        if (jb_llm_weights_synth(&gguf_corpus_config, types[i], 7, NULL, &w, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        snprintf(path, sizeof(path), "%s/valid_%s.gguf", argv[1], jb_llm_dtype_name(types[i]));
        int rc = gguf_write_file(w, GGUF_OK, path);
        for (size_t f = 0; !rc && types[i] == JB_LLM_Q4_0 && f < sizeof(faults) / sizeof(faults[0]);
             f++) {
            snprintf(path, sizeof(path), "%s/%s.gguf", argv[1], faults[f].name);
            rc = gguf_write_file(w, faults[f].fault, path);
        }
        jb_llm_weights_free(w);
        if (rc) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}
