/* gguf_corpus_gen.c: writes the seed corpus of the GGUF fuzz target
 * (tests/fuzz/corpus/gguf/): small valid files in each weight type (the
 * k-quants in a model whose feed-forward rows are whole superblocks) and one
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
        enum jb_gguf_fault fault;
        const char *name;
    } faults[] = {{JB_GGUF_BAD_TYPE, "bad_type"},       {JB_GGUF_BAD_SHAPE, "bad_shape"},
                  {JB_GGUF_OFFSET_PAST_END, "past_end"}, {JB_GGUF_MISALIGNED, "misaligned"},
                  {JB_GGUF_HUGE_COUNT, "huge_count"},    {JB_GGUF_BAD_ARCH, "bad_arch"},
                  {JB_GGUF_NAN_ALIGNMENT, "nan_alignment"}, {JB_GGUF_NAN_ROPE, "nan_rope"}};
    char err[256], path[4096];
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct jb_llm_weights *w;
        if (jb_llm_weights_synth(&gguf_corpus_config, types[i], 7, NULL, &w, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        snprintf(path, sizeof(path), "%s/valid_%s.gguf", argv[1], jb_llm_dtype_name(types[i]));
        int rc = jb_gguf_write_file(w, 0, JB_GGUF_OK, path, NULL, 0);
        for (size_t f = 0; !rc && types[i] == JB_LLM_Q4_0 && f < sizeof(faults) / sizeof(faults[0]);
             f++) {
            snprintf(path, sizeof(path), "%s/%s.gguf", argv[1], faults[f].name);
            rc = jb_gguf_write_file(w, 0, faults[f].fault, path, NULL, 0);
        }
        jb_llm_weights_free(w);
        if (rc) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    /* k-quants: ffn_down of layer 0 in Q4_K, of layer 1 in Q6_K (the
     * Q4_K_M pattern), then both Q5_K; RoPE factors as rope_freqs.weight */
    for (int v = 0; v < 2; v++) {
        struct jb_llm_weights *w;
        if (jb_llm_weights_synth(&gguf_corpus_k_config, JB_LLM_Q8_0, 9, NULL, &w, err,
                                 sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        int rc = jb_gguf_convert_matrix(w, &w->layers[0].w_down, v ? JB_LLM_Q5_K : JB_LLM_Q4_K) ||
                 jb_gguf_convert_matrix(w, &w->layers[1].w_down, v ? JB_LLM_Q5_K : JB_LLM_Q6_K);
        snprintf(path, sizeof(path), "%s/valid_%s.gguf", argv[1], v ? "q5_K" : "q4_K_q6_K");
        if (!rc)
            rc = jb_gguf_write_file(w, 0, JB_GGUF_OK, path, NULL, 0);
        if (!rc && !v) {
            snprintf(path, sizeof(path), "%s/bad_rope_freqs.gguf", argv[1]);
            rc = jb_gguf_write_file(w, 0, JB_GGUF_BAD_ROPE_FREQS, path, NULL, 0);
        }
        jb_llm_weights_free(w);
        if (rc) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}
