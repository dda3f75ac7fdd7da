/* test_llm_gguf.c: the GGUF loader on files the test writes: a valid file
 * round-trips every tensor byte for byte (mixed F32/F16/BF16/Q8_0/Q4_0, and
 * a llama.cpp Q4_K_M-style Q4_K/Q6_K mix with RoPE scaling factors), a
 * model loaded from it decodes exactly as the model it was written from,
 * the workload runs and checks with gguf=PATH, and every kind of broken
 * file (wrong magic, version, architecture, tensor type or shape, offsets
 * past the end, misalignment, missing or unknown tensors, every truncation)
 * is refused with a message naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "llm_gguf_write.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/llm/gguf.h"
#include "platforms/cpu/llm_model.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void convert(struct jb_llm_weights *w, struct jb_llm_matrix *m, enum jb_llm_dtype to)
{
    assert_int_equal(jb_gguf_convert_matrix(w, m, to), 0);
}

static struct jb_llm_weights *mixed_weights(void)
{
    struct jb_llm_weights *w;
    char err[JB_ERRLEN];
    assert_int_equal(jb_llm_weights_synth(&gguf_tiny_config, JB_LLM_Q8_0, 3, NULL, &w, err,
                                          sizeof(err)), 0);
    convert(w, &w->layers[1].wq, JB_LLM_F16);
    convert(w, &w->layers[0].w_up, JB_LLM_BF16);
    convert(w, &w->layers[1].w_down, JB_LLM_Q4_0);
    convert(w, &w->layers[1].wk, JB_LLM_F32);
    convert(w, &w->output, JB_LLM_Q4_0);
    return w;
}

static void assert_same_matrix(const struct jb_llm_matrix *a, const struct jb_llm_matrix *b)
{
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    assert_int_equal(a->row_bytes, b->row_bytes);
    assert_memory_equal(a->data, b->data, a->row_bytes * (size_t)a->rows);
}

static void test_round_trip_and_decode(void **state)
{
    (void)state;
    struct jb_llm_weights *w = mixed_weights(), *r = NULL;
    uint8_t *buf;
    size_t len;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_gguf_write_mem(w, 0, JB_GGUF_OK, &buf, &len, NULL, 0), 0);
    int rc = jb_gguf_parse(buf, len, NULL, &r, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    const struct jb_llm_config *a = &w->cfg, *b = &r->cfg;
    assert_int_equal(a->dim, b->dim);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_heads, b->n_heads);
    assert_int_equal(a->n_kv_heads, b->n_kv_heads);
    assert_int_equal(a->hidden_dim, b->hidden_dim);
    assert_int_equal(a->vocab_size, b->vocab_size);
    assert_int_equal(a->max_context, b->max_context);
    assert_int_equal(b->tied, 0);
    assert_true(a->rope_theta == b->rope_theta && a->norm_eps == b->norm_eps);
    assert_same_matrix(&w->token_embd, &r->token_embd);
    assert_same_matrix(&w->output, &r->output);
    assert_memory_equal(w->output_norm, r->output_norm, sizeof(float) * (size_t)a->dim);
    for (int l = 0; l < a->n_layers; l++) {
        const struct jb_llm_layer *x = &w->layers[l], *y = &r->layers[l];
        assert_same_matrix(&x->wq, &y->wq);
        assert_same_matrix(&x->wk, &y->wk);
        assert_same_matrix(&x->wv, &y->wv);
        assert_same_matrix(&x->wo, &y->wo);
        assert_same_matrix(&x->w_gate, &y->w_gate);
        assert_same_matrix(&x->w_up, &y->w_up);
        assert_same_matrix(&x->w_down, &y->w_down);
        assert_memory_equal(x->attn_norm, y->attn_norm, sizeof(float) * (size_t)a->dim);
        assert_memory_equal(x->ffn_norm, y->ffn_norm, sizeof(float) * (size_t)a->dim);
    }

    /* The loaded model decodes bit-identically to the one it came from. */
    struct jb_pool *pool;
    struct jb_llm_model *m1, *m2;
    assert_int_equal(jb_pool_create(1, NULL, 0, &pool, err, sizeof(err)), 0);
    const struct jb_llm_kernels *k = jb_llm_kernels_for(jb_cpu_isa());
    assert_int_equal(jb_llm_model_open(w, pool, k, JB_LLM_F32, 8, &m1, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_open(r, pool, k, JB_LLM_F32, 8, &m2, err, sizeof(err)), 0);
    int prompt[3] = {1, 7, 30}, g1[4], g2[4];
    assert_int_equal(jb_llm_model_greedy(m1, prompt, 3, 4, g1, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_greedy(m2, prompt, 3, 4, g2, err, sizeof(err)), 0);
    assert_memory_equal(g1, g2, sizeof(g1));
    assert_memory_equal(jb_llm_model_logits(m1), jb_llm_model_logits(m2),
                        sizeof(float) * (size_t)a->vocab_size);
    jb_llm_model_close(m1);
    jb_llm_model_close(m2);
    jb_pool_destroy(pool);
    jb_llm_weights_free(r);
    jb_llm_weights_free(w);
    free(buf);
}

static void test_workload_with_gguf_option(void **state)
{
    (void)state;
    struct jb_llm_weights *w = mixed_weights();
    char path[] = "/tmp/jb_test_gguf_XXXXXX", opts[128], err[JB_ERRLEN] = "";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(jb_gguf_write_file(w, 0, JB_GGUF_OK, path, NULL, 0), 0);
    snprintf(opts, sizeof(opts), "gguf=%s,kv=fp16", path);
    const struct jb_workload_ops *ops = jb_workload_find("tinyllama-1.1b");
    assert_non_null(ops);
    struct jb_workload_params p = {0};
    p.threads = 2;
    p.context = 20;
    p.options = opts;
    void *st;
    int rc = jb_workload_open(ops, &p, &st, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    rc = ops->check(st, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    struct jb_workload_info info = {0};
    ops->info(st, &info);
    assert_string_equal(info.dtype, "q8_0"); /* the file's attention type */
    assert_non_null(strstr(info.kernel, "gguf"));
    assert_int_equal(info.context, 20);
    ops->close(st);

    /* A context beyond the file's own window (64) is refused. */
    p.context = 64;
    assert_int_equal(jb_workload_open(ops, &p, &st, err, sizeof(err)), JB_ERANGE);
    unlink(path);
    /* A missing file is named. */
    p.context = 8;
    assert_int_equal(jb_workload_open(ops, &p, &st, err, sizeof(err)), JB_ENOENT);
    assert_non_null(strstr(err, path));
    jb_llm_weights_free(w);
}

/* Greedy tokens and final logits of w from a fixed prompt on `threads`. */
static void greedy_on(const struct jb_llm_weights *w, int threads, int *toks, float *logits)
{
    struct jb_pool *pool;
    struct jb_llm_model *m;
    char err[JB_ERRLEN];
    assert_int_equal(jb_pool_create(threads, NULL, 0, &pool, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_open(w, pool, jb_llm_kernels_for(jb_cpu_isa()), JB_LLM_F16, 16,
                                       &m, err, sizeof(err)), 0);
    int prompt[4] = {1, 17, 5, 40};
    assert_int_equal(jb_llm_model_greedy(m, prompt, 4, 6, toks, err, sizeof(err)), 0);
    memcpy(logits, jb_llm_model_logits(m), sizeof(float) * (size_t)w->cfg.vocab_size);
    jb_llm_model_close(m);
    jb_pool_destroy(pool);
}

/* A llama.cpp Q4_K_M-style file (Q4_K and Q6_K mixed per tensor, the
 * classifier Q6_K, RoPE scaling as rope_freqs.weight) written by the test
 * generator loads byte for byte, decodes as the weights it came from, the
 * same on 1 and 2 threads, applies its RoPE factors, and the workload run
 * on it passes its check against the fp32 reference. */
static void test_q4_k_m_file(void **state)
{
    (void)state;
    struct jb_llm_weights *w, *r = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_llm_weights_synth(&gguf_kquant_config, JB_LLM_F32, 11, NULL, &w, err,
                                          sizeof(err)), 0);
    assert_int_equal(jb_gguf_make_q4_k_m(w), 0);
    assert_int_equal(w->layers[0].wq.dtype, JB_LLM_Q4_K);
    assert_int_equal(w->layers[0].wv.dtype, JB_LLM_Q4_K);
    assert_int_equal(w->layers[1].wv.dtype, JB_LLM_Q6_K); /* a layer llama.cpp gives more bits */
    assert_int_equal(w->layers[1].w_down.dtype, JB_LLM_Q6_K);
    assert_int_equal(w->output.dtype, JB_LLM_Q6_K);
    assert_int_equal(w->token_embd.dtype, JB_LLM_Q4_K);
    uint8_t *buf;
    size_t len;
    assert_int_equal(jb_gguf_write_mem(w, 0, JB_GGUF_OK, &buf, &len, NULL, 0), 0);
    int rc = jb_gguf_parse(buf, len, NULL, &r, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    free(buf);
    assert_same_matrix(&w->token_embd, &r->token_embd);
    assert_same_matrix(&w->output, &r->output);
    for (int l = 0; l < w->cfg.n_layers; l++) {
        assert_same_matrix(&w->layers[l].wq, &r->layers[l].wq);
        assert_same_matrix(&w->layers[l].wv, &r->layers[l].wv);
        assert_same_matrix(&w->layers[l].w_down, &r->layers[l].w_down);
    }
    int hd = w->cfg.dim / w->cfg.n_heads, ones = 0, full = 0, between = 0;
    assert_non_null(r->rope_factors);
    assert_memory_equal(w->rope_factors, r->rope_factors, sizeof(float) * (size_t)(hd / 2));
    for (int i = 0; i < hd / 2; i++) {
        float f = r->rope_factors[i];
        ones += f == 1.0f;
        full += f == 8.0f;
        between += f > 1.0f && f < 8.0f;
    }
    assert_true(ones > 0 && full > 0 && between > 0);

    int t1[6], t2[6], t3[6];
    float *l1 = malloc(sizeof(float) * 3 * (size_t)w->cfg.vocab_size);
    assert_non_null(l1);
    float *l2 = l1 + w->cfg.vocab_size, *l3 = l2 + w->cfg.vocab_size;
    greedy_on(w, 1, t1, l1);
    greedy_on(r, 2, t2, l2);
    assert_memory_equal(t1, t2, sizeof(t1));
    assert_memory_equal(l1, l2, sizeof(float) * (size_t)w->cfg.vocab_size);
    /* the factors change the result: without them the logits move */
    float *saved = r->rope_factors;
    r->rope_factors = NULL;
    greedy_on(r, 1, t3, l3);
    r->rope_factors = saved;
    double diff = 0.0;
    for (int i = 0; i < w->cfg.vocab_size; i++)
        diff += fabs((double)l3[i] - l1[i]);
    assert_true(diff > 1e-3);
    free(l1);

    /* linear scaling from the metadata: every frequency divided by 2, on top
     * of the file's rope_freqs.weight */
    struct jb_llm_weights *lin = NULL;
    assert_int_equal(jb_gguf_write_mem(w, 0, JB_GGUF_ROPE_LINEAR, &buf, &len, NULL, 0), 0);
    if ((rc = jb_gguf_parse(buf, len, NULL, &lin, err, sizeof(err))))
        fail_msg("%s", err);
    free(buf);
    for (int i = 0; i < hd / 2; i++)
        assert_true(lin->rope_factors[i] == 2.0f * w->rope_factors[i]);
    jb_llm_weights_free(lin);

    /* the workload on the file: runs, and checks against the fp32 reference */
    char path[] = "/tmp/jb_test_gguf_k_XXXXXX", opts[128];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(jb_gguf_write_file(w, 0, JB_GGUF_OK, path, NULL, 0), 0);
    snprintf(opts, sizeof(opts), "gguf=%s", path);
    const struct jb_workload_ops *ops = jb_workload_find("llama3.2-1b");
    assert_non_null(ops);
    struct jb_workload_params p = {0};
    p.threads = 2;
    p.context = 24;
    p.options = opts;
    void *st;
    if ((rc = jb_workload_open(ops, &p, &st, err, sizeof(err))))
        fail_msg("%s", err);
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    if ((rc = ops->check(st, err, sizeof(err))))
        fail_msg("%s", err);
    struct jb_workload_info info = {0};
    ops->info(st, &info);
    assert_string_equal(info.dtype, "q4_K");
    ops->close(st);
    unlink(path);
    jb_llm_weights_free(r);
    jb_llm_weights_free(w);
}

struct bad_case {
    enum jb_gguf_fault fault;
    int code;
    const char *says; /* a word the message must contain */
};

static void test_broken_files(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {JB_GGUF_BAD_MAGIC, JB_EFORMAT, "magic"},
        {JB_GGUF_BAD_VERSION, JB_EFORMAT, "version"},
        {JB_GGUF_BAD_ARCH, JB_ENOTSUP, "gpt2"},
        {JB_GGUF_BAD_TYPE, JB_ENOTSUP, "blk.0.attn_q.weight has type 10"},
        {JB_GGUF_KQUANT_SHORT_ROWS, JB_EFORMAT, "not whole blocks of 256"},
        {JB_GGUF_BAD_ROPE_FREQS, JB_EFORMAT, "rope_freqs.weight[4] = 0 is not a positive factor"},
        {JB_GGUF_ROPE_YARN, JB_ENOTSUP, "RoPE scaling 'yarn' not supported"},
        {JB_GGUF_BAD_SHAPE, JB_EFORMAT, "blk.0.attn_k.weight has shape"},
        {JB_GGUF_OFFSET_PAST_END, JB_EFORMAT, "output_norm.weight extends past the end"},
        {JB_GGUF_MISSING_TENSOR, JB_EFORMAT, "blk.0.ffn_up.weight missing"},
        {JB_GGUF_MISALIGNED, JB_EFORMAT, "not aligned"},
        {JB_GGUF_HUGE_COUNT, JB_EFORMAT, "cannot fit"},
        {JB_GGUF_EXTRA_TENSOR, JB_EFORMAT, "unexpected tensor 'blk.0.attn_sinks.weight'"},
        /* NaN compares false with every bound: it once passed as an
         * alignment (undefined behaviour converting it, then a division) */
        {JB_GGUF_NAN_ALIGNMENT, JB_EFORMAT, "general.alignment is not a power of two"},
        {JB_GGUF_NAN_ROPE, JB_EFORMAT, "llama.rope.freq_base = nan out of range"},
    };
    struct jb_llm_weights *w;
    char err[JB_ERRLEN];
    assert_int_equal(jb_llm_weights_synth(&gguf_corpus_config, JB_LLM_Q4_0, 5, NULL, &w, err,
                                          sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *buf;
        size_t len;
        struct jb_llm_weights *r = NULL;
        assert_int_equal(jb_gguf_write_mem(w, 0, cases[i].fault, &buf, &len, NULL, 0), 0);
        err[0] = 0;
        int rc = jb_gguf_parse(buf, len, NULL, &r, err, sizeof(err));
        if (rc != cases[i].code || !strstr(err, cases[i].says))
            fail_msg("fault %d: rc %d, message '%s' (expected %d, '%s')", (int)cases[i].fault, rc,
                     err, cases[i].code, cases[i].says);
        assert_null(r);
        free(buf);
    }

    /* Every truncation of a valid file is an error with a message, never a
     * read past the end: each prefix is parsed from an exact-size copy. */
    uint8_t *buf;
    size_t len;
    assert_int_equal(jb_gguf_write_mem(w, 0, JB_GGUF_OK, &buf, &len, NULL, 0), 0);
    for (size_t n = 0; n < len; n += (n < 1024 ? 1 : 61)) {
        uint8_t *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, buf, n);
        struct jb_llm_weights *r = NULL;
        err[0] = 0;
        int rc = jb_gguf_parse(cut, n, NULL, &r, err, sizeof(err));
        if (rc == 0)
            fail_msg("a file cut to %zu of %zu bytes was accepted", n, len);
        assert_true(err[0] != 0);
        free(cut);
    }
    free(buf);
    jb_llm_weights_free(w);
}

static void test_not_a_file(void **state)
{
    (void)state;
    struct jb_llm_weights *r = NULL;
    char err[JB_ERRLEN];
    assert_int_equal(jb_gguf_load("/nonexistent/model.gguf", 0, NULL, &r, err, sizeof(err)),
                     JB_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/model.gguf"));
    assert_int_not_equal(jb_gguf_load("/tmp", 0, NULL, &r, err, sizeof(err)), 0);
    assert_null(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_decode),
        cmocka_unit_test(test_workload_with_gguf_option),
        cmocka_unit_test(test_q4_k_m_file),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_not_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
