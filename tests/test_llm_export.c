/* test_llm_export.c: `joulebench export-model` round-trips. The GGUF it
 * writes loads back through joulebench's own loader with every tensor byte
 * for byte the synthetic weights of the same seed, a decode of the check's
 * prompt over the loaded weights gives exactly the logits of the synthetic
 * ones, and those pass the check file's rule against its expected logits;
 * the check file's prompt and expected logits are those the library
 * computes; a non-LLM workload is refused (exit 2). */
#include "cli_util.h"

#include "base/error.h"
#include "platforms/llm/gguf.h"
#include "workloads/llm/llm_export.h"
#include "platforms/cpu/llm_model.h"
#include "workloads/llm/llm.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static void assert_same_matrix(const struct jb_llm_matrix *a, const struct jb_llm_matrix *b)
{
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    assert_memory_equal(a->data, b->data, a->row_bytes * (size_t)a->rows);
}

static void round_trip(const char *dtype_name, enum jb_llm_dtype dtype)
{
    char d[64], gguf[128], check[160], err[JB_ERRLEN];
    snprintf(d, sizeof(d), "/tmp/jb_export_XXXXXX");
    assert_non_null(mkdtemp(d));
    snprintf(gguf, sizeof(gguf), "%s/m.gguf", d);
    snprintf(check, sizeof(check), "%s/m.gguf.check.json", d);
    const char *args[] = {"export-model", "stories15m", "--dtype", dtype_name, "--seed", "5",
                          "-o",           gguf,         NULL};
    assert_int_equal(jb_test_run_cli(args, "/dev/null", NULL, 0), 0);

    struct jb_llm_weights *loaded = NULL, *synth = NULL;
    if (jb_gguf_load(gguf, 0, NULL, &loaded, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(jb_llm_weights_synth(jb_llm_config_find("stories15m"), dtype, 5, NULL, &synth,
                                          err, sizeof(err)),
                     0);
    const struct jb_llm_config *a = &loaded->cfg, *b = &synth->cfg;
    assert_int_equal(a->dim, b->dim);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_heads, b->n_heads);
    assert_int_equal(a->n_kv_heads, b->n_kv_heads);
    assert_int_equal(a->hidden_dim, b->hidden_dim);
    assert_int_equal(a->vocab_size, b->vocab_size);
    assert_int_equal(a->max_context, b->max_context);
    assert_same_matrix(&loaded->token_embd, &synth->token_embd);
    assert_same_matrix(&loaded->output, &synth->output);
    for (int l = 0; l < b->n_layers; l++) {
        assert_same_matrix(&loaded->layers[l].wq, &synth->layers[l].wq);
        assert_same_matrix(&loaded->layers[l].w_down, &synth->layers[l].w_down);
        assert_memory_equal(loaded->layers[l].attn_norm, synth->layers[l].attn_norm,
                            sizeof(float) * (size_t)b->dim);
    }

    json_error_t je;
    json_t *doc = json_load_file(check, 0, &je);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "gguf")), "m.gguf");
    json_t *pj = json_object_get(doc, "prompt");
    int n = (int)json_array_size(pj), prompt[64];
    assert_true(n == 8);
    int want_prompt[64];
    jb_llm_export_prompt(5, b->vocab_size, n, want_prompt);
    for (int i = 0; i < n; i++) {
        prompt[i] = (int)json_integer_value(json_array_get(pj, (size_t)i));
        assert_int_equal(prompt[i], want_prompt[i]);
        assert_true(prompt[i] >= 259 && prompt[i] < b->vocab_size);
    }
    json_t *lj = json_object_get(json_object_get(doc, "expected"), "logits");
    assert_int_equal(json_array_size(lj), (size_t)b->vocab_size);
    float *expected = calloc((size_t)b->vocab_size, sizeof(float));
    float *from_file = calloc((size_t)b->vocab_size, sizeof(float));
    float *from_synth = calloc((size_t)b->vocab_size, sizeof(float));
    float *ref = calloc((size_t)b->vocab_size, sizeof(float));
    for (int i = 0; i < b->vocab_size; i++)
        expected[i] = (float)json_real_value(json_array_get(lj, (size_t)i));

    /* the same logits from the file's weights as from the synthetic ones */
    assert_int_equal(jb_llm_export_logits(loaded, prompt, n, from_file, ref, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_export_logits(synth, prompt, n, from_synth, NULL, err, sizeof(err)), 0);
    assert_memory_equal(from_file, from_synth, sizeof(float) * (size_t)b->vocab_size);
    /* the file's expected logits are the reference's (to JSON's rounding) */
    assert_true(jb_llm_rel_l2(expected, ref, (size_t)b->vocab_size) < 1e-6);
    /* and joulebench's decode passes the file's rule against them */
    double tol = json_number_value(json_object_get(json_object_get(doc, "tolerance"), "value"));
    assert_true(tol == jb_llm_export_tolerance(dtype));
    assert_true(jb_llm_rel_l2(from_file, expected, (size_t)b->vocab_size) <= tol);
    assert_int_equal(
        (int)json_integer_value(json_object_get(json_object_get(doc, "expected"), "argmax")),
        jb_llm_argmax(ref, b->vocab_size));
    free(expected);
    free(from_file);
    free(from_synth);
    free(ref);
    json_decref(doc);
    jb_llm_weights_free(loaded);
    jb_llm_weights_free(synth);
    char rm[128];
    snprintf(rm, sizeof(rm), "rm -rf %s", d);
    assert_int_equal(system(rm), 0);
}

static void round_trip_q8_0(void **state)
{
    (void)state;
    round_trip("q8_0", JB_LLM_Q8_0);
}

static void round_trip_fp32(void **state)
{
    (void)state;
    round_trip("fp32", JB_LLM_F32);
}

static void refuses_what_it_cannot_export(void **state)
{
    (void)state;
    const char *a1[] = {"export-model", "resnet8", "-o", "/tmp/jb_never.gguf", NULL};
    assert_int_equal(jb_test_run_cli(a1, "/dev/null", "/dev/null", 0), 2);
    const char *a2[] = {"export-model", "stories15m",         "--dtype", "q6_k",
                        "-o",           "/tmp/jb_never.gguf", NULL};
    assert_int_equal(jb_test_run_cli(a2, "/dev/null", "/dev/null", 0), 2);
    assert_int_not_equal(access("/tmp/jb_never.gguf", F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_q8_0),
        cmocka_unit_test(round_trip_fp32),
        cmocka_unit_test(refuses_what_it_cannot_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
