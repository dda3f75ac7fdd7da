/* test_cuda_llm.c: the CUDA LLM decode step.
 *
 * With a GPU: the GPU's synthetic weights are byte-identical to llm.h's
 * jb_llm_weights_synth (so CPU and GPU results are on the same model);
 * stories15m's logits agree with the fp32 CPU reference in every precision
 * on both code paths (GEMV and cuBLAS) at several batch sizes; repeated
 * steps give the same logits (each step decodes position L again); a
 * configuration too large for the GPU is refused with the figures. Without
 * a GPU (CI): the workloads are registered and refuse to open with the
 * reason; GPU tests are skipped with the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tests/cuda_test_util.h"
#include "platforms/llm/llm_format.h"
#include "workloads/llm/llm.h"
#include "workloads/workload.h"
#ifdef JB_HAVE_CUDA
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/llm_cuda.h"

static void test_registered_and_refuses_without_gpu(void **state)
{
    (void)state;
    const char *names[] = {"cuda-stories15m", "cuda-llama3.2-1b", "cuda-llama3.1-8b"};
    for (int i = 0; i < 3; i++) {
        const struct jb_workload_ops *w = jb_workload_find(names[i]);
        assert_non_null(w);
        assert_string_equal(w->alias_backend, "cuda");
        assert_true(jb_list_has(w->dtypes, "q4_0"));
    }
    const struct jb_workload_ops *w = jb_workload_find("cuda-stories15m");
    struct jb_workload_params p = {
        .dtype = "bf16", .batch = 1, .context = 16, .threads = 1, .seed = 1};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    /* Bad precision: refused before any GPU is touched. */
    p.dtype = "fp32";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "fp32"));
    if (jb_test_have_gpu())
        return;
    p.dtype = "q8_0";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_ENOTSUP);
    assert_null(st);
    assert_non_null(strstr(err, "no NVIDIA GPU/driver"));
}

/* The GPU generated the same bytes as the CPU's synthetic weights. */
static void test_weights_match_cpu_synth(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const struct jb_llm_config *c = jb_llm_config_find("stories15m");
    enum jb_llm_dtype dts[] = {JB_LLM_BF16, JB_LLM_Q8_0, JB_LLM_Q4_0};
    char err[JB_ERRLEN] = "";
    for (int i = 0; i < 3; i++) {
        struct jb_llm_weights *w = NULL;
        struct jb_cuda_llm *m = NULL;
        struct jb_cuda_llm_opts o = {
            .cfg = c, .dtype = dts[i], .batch = 1, .context = 8, .seed = 7, .use_graph = 1};
        assert_int_equal(jb_llm_weights_synth(c, dts[i], 7, NULL, &w, err, sizeof(err)), 0);
        assert_int_equal(jb_cuda_llm_open(&o, &m, err, sizeof(err)), 0);
        const struct jb_llm_matrix *mats[] = {&w->layers[3].wk, &w->layers[0].w_down,
                                              &w->token_embd};
        enum jb_llm_tensor_kind kinds[] = {JB_LLM_T_WK, JB_LLM_T_W_DOWN, JB_LLM_T_TOKEN_EMBD};
        int layers[] = {3, 0, 0};
        for (int t = 0; t < 3; t++) {
            const struct jb_llm_matrix *a = mats[t];
            size_t bytes = a->row_bytes * (size_t)a->rows;
            void *buf = malloc(bytes);
            assert_non_null(buf);
            assert_int_equal(
                jb_cuda_llm_get_rows(m, kinds[t], layers[t], 0, a->rows, buf, err, sizeof(err)), 0);
            assert_memory_equal(buf, a->data, bytes);
            free(buf);
        }
        jb_cuda_llm_close(m);
        jb_llm_weights_free(w);
    }
}

/* Odd batches fold the norm into the GEMVs where that path is taken
 * (fuse=norm), even ones keep the norm kernel. */
/* The oracle (workloads/llm/llm_reference.c) on the GPU's own weights and
 * cache for sequences 0 and batch-1, as the workload's check runs it. */
static int oracle(struct jb_cuda_llm *m, int nseq, const int *seqs, float *logits, char *err,
                  size_t errlen)
{
    struct jb_cuda_llm_view v = {m, NULL, NULL};
    struct jb_llm_access a;
    jb_cuda_llm_access(&v, &a);
    int rc = jb_llm_reference(&a, jb_cuda_llm_context(m), nseq, seqs, logits, err, errlen);
    jb_cuda_llm_view_free(&v);
    return rc;
}

/* Worst relative L2 error of the last step's logits against ref (computed
 * once into *ref_cache), and the check's verdict. */
static int check_vs_oracle(struct jb_cuda_llm *m, float **ref_cache, double *rel, double *tol,
                           char *err, size_t errlen)
{
    const struct jb_llm_config *c = jb_cuda_llm_config(m);
    int batch = jb_cuda_llm_batch(m), seqs[2] = {0, batch - 1}, nseq = batch > 1 ? 2 : 1, rc;
    size_t V = (size_t)c->vocab_size;
    if (!*ref_cache) {
        *ref_cache = malloc(sizeof(float) * V * 2);
        if ((rc = oracle(m, nseq, seqs, *ref_cache, err, errlen)))
            return rc;
    }
    float *got = malloc(sizeof(float) * V);
    double worst = 0;
    for (int i = 0; i < nseq; i++) {
        if ((rc = jb_cuda_llm_logits(m, seqs[i], got, err, errlen))) {
            free(got);
            return rc;
        }
        double e = jb_llm_rel_l2(got, *ref_cache + (size_t)i * V, V);
        worst = e > worst ? e : worst;
    }
    free(got);
    *rel = worst;
    double t = jb_cuda_llm_tolerance(m, NULL);
    if (tol)
        *tol = t;
    return worst <= t ? 0 : jb_err(err, errlen, JB_ECHECK, "rel err %.3g > %.3g", worst, t);
}

static void run_check(enum jb_llm_dtype dt, int batch, int force_gemm, int context, int gemv_max)
{
    const struct jb_llm_config *c = jb_llm_config_find("stories15m");
    struct jb_cuda_llm *m = NULL;
    char err[JB_ERRLEN] = "";
    struct jb_cuda_llm_opts o = {.cfg = c,
                                 .dtype = dt,
                                 .batch = batch,
                                 .context = context,
                                 .seed = 11,
                                 .use_graph = 1,
                                 .force_gemm = force_gemm,
                                 .gemv_max_batch = gemv_max > 0 ? gemv_max : 0,
                                 .no_qmma = gemv_max < 0,
                                 .fuse_norm = batch % 2,
                                 .qmma_pieces = batch == 9 ? 1 : 0,
                                 .no_pdl = batch == 3,
                                 .no_xperm = batch == 5,
                                 .xperm_16bit = batch == 1,
                                 .gemv_unroll = batch == 3 ? 8 : 0};
    assert_int_equal(jb_cuda_llm_open(&o, &m, err, sizeof(err)), 0);
    double gpu_s = -1, rel = -1, tol = -1;
    assert_int_equal(jb_cuda_llm_step(m, &gpu_s, err, sizeof(err)), 0);
    assert_true(gpu_s > 0);
    float *cache = NULL;
    int rc = check_vs_oracle(m, &cache, &rel, &tol, err, sizeof(err));
    print_message("stories15m %s batch %d %s: rel err %.3g (tol %.3g)\n", jb_llm_dtype_name(dt),
                  batch, jb_cuda_llm_kernel(m), rel, tol);
    if (rc)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    /* The path the test meant to take. */
    int quant = dt == JB_LLM_Q8_0 || dt == JB_LLM_Q4_0;
    assert_int_equal(strstr(jb_cuda_llm_kernel(m), "qmma") != NULL,
                     quant && !force_gemm && gemv_max == 0 && batch <= 32);
    /* Same step again: identical logits (graph replay, position L again). */
    float *a = malloc(sizeof(float) * (size_t)c->vocab_size),
          *b = malloc(sizeof(float) * (size_t)c->vocab_size);
    assert_int_equal(jb_cuda_llm_logits(m, batch - 1, a, err, sizeof(err)), 0);
    assert_int_equal(jb_cuda_llm_step(m, NULL, err, sizeof(err)), 0);
    assert_int_equal(jb_cuda_llm_logits(m, batch - 1, b, err, sizeof(err)), 0);
    assert_memory_equal(a, b, sizeof(float) * (size_t)c->vocab_size);
    /* The cached reference checks the new step the same way. */
    double rel2 = -1;
    assert_non_null(cache);
    assert_int_equal(check_vs_oracle(m, &cache, &rel2, NULL, err, sizeof(err)), 0);
    assert_true(rel2 == rel);
    free(cache);
    free(a);
    free(b);
    jb_cuda_llm_close(m);
}

static void test_matches_reference(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    enum jb_llm_dtype dts[] = {JB_LLM_BF16, JB_LLM_F16, JB_LLM_Q8_0, JB_LLM_Q4_0};
    for (int i = 0; i < 4; i++) {
        run_check(dts[i], 1, 0, 100, 0); /* GEMV */
        run_check(dts[i], 2, 0, 100, 0); /* qmma or cuBLAS */
        run_check(dts[i], 5, 0, 100, 8); /* GEMV with 8 columns, 5 used, row-order x */
        run_check(dts[i], 3, 0, 64, 4);  /* GEMV, 4 columns, without PDL */
        run_check(dts[i], 16, 0, 37, 0); /* cuBLAS; tensor cores for q */
    }
    /* q8_0/q4_0 on the tensor cores: a partly used last tile of sequences
     * (9, 27), four tiles (32); dequantize + cuBLAS past 32 and on request. */
    for (int i = 2; i < 4; i++) {
        run_check(dts[i], 9, 0, 50, 0);
        run_check(dts[i], 27, 0, 50, 0);
        run_check(dts[i], 32, 0, 40, 0);
        run_check(dts[i], 33, 0, 40, 0);
        run_check(dts[i], 12, 0, 40, -1);
    }
    run_check(JB_LLM_BF16, 1, 1, 255, 0); /* cuBLAS at batch 1 too */
}

/* Attention on the tensor cores (k_attn_mma): head sizes 64 and 128, 4 and
 * 8 query heads per kv head, contexts that leave a partly used last tile
 * (300), fewer positions than one tile (5), and batches on each matrix
 * path; the same configurations off the tensor cores agree with the oracle
 * too, and the two paths' logits agree with each other. stories15m's head
 * size (48) is not one of the kernel's, so these models are small ones of
 * the same architecture made up for the test. */
static const struct jb_llm_config gqa_cfgs[] = {
    {"test-hs64-g4", 256, 2, 4, 1, 512, 1024, 0, 1024, 10000.0f, 1e-5f, JB_ROPE_NONE},
    {"test-hs128-g4", 1024, 2, 8, 2, 1024, 1024, 0, 1024, 500000.0f, 1e-5f, JB_ROPE_NONE},
    {"test-hs64-g8", 512, 2, 8, 1, 512, 1024, 1, 1024, 10000.0f, 1e-5f, JB_ROPE_NONE},
};

static double attn_case(const struct jb_llm_config *c, enum jb_llm_dtype dt, int batch,
                        int context, int attn, float *logits)
{
    struct jb_cuda_llm *m = NULL;
    char err[JB_ERRLEN] = "";
    struct jb_cuda_llm_opts o = {.cfg = c,
                                 .dtype = dt,
                                 .batch = batch,
                                 .context = context,
                                 .seed = 5,
                                 .use_graph = 1,
                                 .attn_mma = attn};
    assert_int_equal(jb_cuda_llm_open(&o, &m, err, sizeof(err)), 0);
    assert_int_equal(jb_cuda_llm_step(m, NULL, err, sizeof(err)), 0);
    double rel = -1, tol = -1;
    float *cache = NULL;
    int rc = check_vs_oracle(m, &cache, &rel, &tol, err, sizeof(err));
    print_message("%s %s batch %d ctx %d %s: rel err %.3g (tol %.3g)\n", c->name,
                  jb_llm_dtype_name(dt), batch, context, jb_cuda_llm_kernel(m), rel, tol);
    if (rc)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    /* attn 2 (1: without prefetch) forces the tensor cores; 0 takes them,
     * with prefetch, where the products round activations (batch > 1
     * here); -1 never. */
    int want = attn > 0 || (attn == 0 && batch > 1);
    assert_int_equal(strstr(jb_cuda_llm_kernel(m), "+attn-mma") != NULL, want);
    assert_int_equal(strstr(jb_cuda_llm_kernel(m), "+attn-mma-pf") != NULL,
                     attn == 2 || (attn == 0 && batch > 1));
    assert_int_equal(jb_cuda_llm_logits(m, batch - 1, logits, err, sizeof(err)), 0);
    free(cache);
    jb_cuda_llm_close(m);
    return rel;
}

static void test_attention_on_tensor_cores(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    struct {
        int cfg, batch, context;
        enum jb_llm_dtype dt;
    } cases[] = {
        {0, 16, 300, JB_LLM_BF16}, {1, 16, 300, JB_LLM_BF16}, {2, 16, 300, JB_LLM_BF16},
        {0, 3, 5, JB_LLM_BF16},    {1, 9, 77, JB_LLM_Q8_0},   {1, 40, 129, JB_LLM_Q4_0},
        {1, 1, 200, JB_LLM_BF16},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct jb_llm_config *c = &gqa_cfgs[cases[i].cfg];
        size_t V = (size_t)c->vocab_size;
        float *a = malloc(sizeof(float) * V), *b = malloc(sizeof(float) * V);
        assert_non_null(a);
        assert_non_null(b);
        /* batch 1 takes the GEMV, whose default is off the tensor cores:
         * force them on there; every other case without prefetch (1),
         * the others by default (with prefetch). */
        int on = cases[i].batch == 1 ? 1 : i % 2 ? 1 : 0;
        attn_case(c, cases[i].dt, cases[i].batch, cases[i].context, on, a);
        attn_case(c, cases[i].dt, cases[i].batch, cases[i].context, -1, b);
        double d = 0, n = 0;
        for (size_t v = 0; v < V; v++) {
            d += ((double)a[v] - b[v]) * ((double)a[v] - b[v]);
            n += (double)b[v] * b[v];
        }
        print_message("  mma vs simt: rel diff %.3g\n", sqrt(d / n));
        assert_true(n > 0);
        assert_true(sqrt(d / n) < 1e-2);
        free(a);
        free(b);
    }
}

/* A step whose inputs differ (another seed) gives other logits: the check
 * is not vacuous. */
static void test_check_detects_other_model(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const struct jb_llm_config *c = jb_llm_config_find("stories15m");
    struct jb_cuda_llm *m1 = NULL, *m2 = NULL;
    char err[JB_ERRLEN] = "";
    struct jb_cuda_llm_opts o = {
        .cfg = c, .dtype = JB_LLM_Q8_0, .batch = 1, .context = 20, .seed = 1, .use_graph = 1};
    assert_int_equal(jb_cuda_llm_open(&o, &m1, err, sizeof(err)), 0);
    o.seed = 2;
    assert_int_equal(jb_cuda_llm_open(&o, &m2, err, sizeof(err)), 0);
    float *a = malloc(sizeof(float) * (size_t)c->vocab_size),
          *b = malloc(sizeof(float) * (size_t)c->vocab_size);
    int seq = 0;
    assert_int_equal(jb_cuda_llm_logits(m1, 0, a, err, sizeof(err)), 0);
    assert_int_equal(oracle(m2, 1, &seq, b, err, sizeof(err)), 0);
    double num = 0, den = 0;
    for (int i = 0; i < c->vocab_size; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    assert_true(sqrt(num / den) > 0.1);
    free(a);
    free(b);
    jb_cuda_llm_close(m1);
    jb_cuda_llm_close(m2);
}

static void test_too_large_is_refused(void **state)
{
    (void)state;
    if (!jb_test_have_gpu())
        skip();
    const struct jb_workload_ops *w = jb_workload_find("cuda-llama3.1-8b");
    /* 1024 sequences at depth 100000: ~13 TB of KV cache. */
    struct jb_workload_params p = {.dtype = "bf16",
                                   .scenario = JB_SCENARIO_OFFLINE,
                                   .batch = 1024,
                                   .context = 100000,
                                   .threads = 1,
                                   .seed = 1};
    void *st = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_ENOMEM);
    assert_non_null(strstr(err, "GiB free"));
    print_message("refused as expected: %s\n", err);
    p.batch = 1;
    p.context = 200000; /* beyond the model's window */
    assert_int_equal(jb_workload_open(w, &p, &st, err, sizeof(err)), JB_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_and_refuses_without_gpu),
        cmocka_unit_test(test_weights_match_cpu_synth),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_attention_on_tensor_cores),
        cmocka_unit_test(test_check_detects_other_model),
        cmocka_unit_test(test_too_large_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
    return jb_test_cuda_not_built_main("cuda-stories15m");
}
#endif
