/* test_llm_decode.c: the LLM decode-step workloads. On stories15m, every
 * precision and KV type agrees with the plain-C fp32 reference step within
 * its stated tolerance, on every kernel path this CPU has; a wrong kernel is
 * caught; a run decodes the same state L each time (the cache does not
 * grow); greedy decoding of a fixed prompt is the same across runs and
 * thread counts; the counts in info() follow from the configuration; bad
 * configurations, precisions, contexts and options are refused with the
 * reason; and the CLI runs a decode workload end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "platforms/cpu/threadpool.h"
#include "platforms/cpu/llm_model.h"
#include "workloads/llm/llm.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int open_wl(const char *name, const char *dtype, int context, int threads,
                   const char *options, void **st, char *err)
{
    const struct jb_workload_ops *ops = jb_workload_find(name);
    assert_non_null(ops);
    struct jb_workload_params p = {0};
    p.dtype = dtype;
    p.context = context;
    p.threads = threads;
    p.seed = 42;
    p.options = options;
    return jb_workload_open(ops, &p, st, err, JB_ERRLEN);
}

/* want: the kernel table the record must name (NULL: the one the run-time
 * choice gives under the present JB_CPU_FORCE) */
static void run_and_check_on(const char *dtype, const char *options, int threads,
                             const char *want)
{
    const struct jb_workload_ops *ops = jb_workload_find("stories15m");
    char err[JB_ERRLEN] = "";
    void *st;
    int rc = open_wl("stories15m", dtype, 24, threads, options, &st, err);
    if (rc)
        fail_msg("open %s %s: %s", dtype, options ? options : "", err);
    /* the record names the kernel table the run-time choice took (its
     * first word), so a result says which path produced it */
    struct jb_workload_info info;
    ops->info(st, &info);
    if (!want)
        want = jb_llm_kernels_for(jb_cpu_isa())->name;
    if (strncmp(info.kernel, want, strlen(want)) || (info.kernel[strlen(want)] != ' ' &&
                                                     info.kernel[strlen(want)] != '\0'))
        fail_msg("kernel \"%s\" does not name the chosen table %s", info.kernel, want);
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    rc = ops->check(st, err, sizeof(err));
    if (rc)
        fail_msg("check %s %s on %s: %s", dtype, options ? options : "",
                 jb_isa_name(jb_cpu_isa()), err);
    ops->close(st);
}

static void run_and_check(const char *dtype, const char *options, int threads)
{
    run_and_check_on(dtype, options, threads, NULL);
}

static void test_check_every_precision_and_path(void **state)
{
    (void)state;
    /* stories15m's rows of 288 are not whole superblocks: in the k-quants
     * only w_down (rows of 768) is one, the rest falls back to q8_0, so a
     * step mixes q8_0 and q8_K activations */
    static const char *dtypes[] = {"fp32", "bf16", "q8_0", "q4_0", "q4_K", "q5_K", "q6_K"};
    for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++) {
        run_and_check(dtypes[i], NULL, 2);
        run_and_check(dtypes[i], "kv=fp16", 1);
    }
    /* each kernel path, through the same run-time choice the workload makes */
    static const char *paths[] = {"reference", "avx2", "avx512"};
    const char *saved = getenv("JB_CPU_FORCE");
    unsetenv("JB_CPU_FORCE");
    enum jb_isa best = jb_cpu_isa();
    for (size_t p = 0; p < 3; p++) {
        setenv("JB_CPU_FORCE", paths[p], 1);
        /* a cap at or below what the CPU has is the path taken; above it,
         * the CPU's best; on a non-x86 CPU an x86 cap leaves the portable C */
        enum jb_isa cap = (enum jb_isa)p;
        const char *want = best == JB_ISA_NEON || best == JB_ISA_REFERENCE ? "reference"
                           : cap <= best                                  ? paths[p]
                                                                          : jb_isa_name(best);
#if !defined(JB_X86)
        want = "reference";
#endif
        run_and_check_on("q8_0", NULL, 1, want);
        run_and_check("fp32", "kv=fp16", 2);
        run_and_check("q4_0", NULL, 2);
        run_and_check("q8_0", NULL, 1);
        run_and_check("q4_K", NULL, 2);
        run_and_check("q6_K", "kv=fp16", 1);
    }
    if (saved)
        setenv("JB_CPU_FORCE", saved, 1);
    else
        unsetenv("JB_CPU_FORCE");
}

/* A kernel table that gets one row in every matrix slightly wrong. */
static void bad_matvec(const struct jb_llm_matrix *m, int r0, int r1, const struct jb_llm_act *a,
                       float *y)
{
    jb_llm_kernels_reference.matvec(m, r0, r1, a, y);
    if (r0 < 3 && 3 < r1)
        y[3] *= 1.05f;
}

static double rel_l2(const float *a, const float *b, int n)
{
    double num = 0.0, den = 0.0;
    for (int i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / den);
}

static void test_reference_catches_a_wrong_kernel(void **state)
{
    (void)state;
    const struct jb_llm_config *cfg = jb_llm_config_find("stories15m");
    struct jb_llm_kernels bad = jb_llm_kernels_reference;
    bad.matvec = bad_matvec;
    struct jb_llm_weights *w;
    struct jb_pool *pool;
    struct jb_llm_model *good_m, *bad_m;
    char err[JB_ERRLEN];
    assert_int_equal(jb_pool_create(1, NULL, 0, &pool, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_weights_synth(cfg, JB_LLM_F32, 9, pool, &w, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_open(w, pool, jb_llm_kernels_for(jb_cpu_isa()), JB_LLM_F32, 17,
                                       &good_m, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_open(w, pool, &bad, JB_LLM_F32, 17, &bad_m, err, sizeof(err)), 0);
    jb_llm_model_fill_kv(good_m, 5, 16);
    jb_llm_model_fill_kv(bad_m, 5, 16);
    float *ref = malloc(sizeof(float) * (size_t)cfg->vocab_size);
    assert_non_null(ref);
    assert_int_equal(jb_llm_model_step(good_m, 3, 16, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_step(bad_m, 3, 16, err, sizeof(err)), 0);
    struct jb_llm_kv_view kv = jb_llm_model_kv(good_m);
    assert_int_equal(jb_llm_reference_step(w, &kv, 3, 16, ref, err, sizeof(err)), 0);
    double good = rel_l2(jb_llm_model_logits(good_m), ref, cfg->vocab_size);
    double wrong = rel_l2(jb_llm_model_logits(bad_m), ref, cfg->vocab_size);
    assert_true(good < 1e-5);
    assert_true(wrong > 1e-4); /* above the fp32 tolerance: the check fails it */

    /* the step does not grow the cache: decoding position 16 again gives the
     * same logits bit for bit */
    float *first = malloc(sizeof(float) * (size_t)cfg->vocab_size);
    assert_non_null(first);
    memcpy(first, jb_llm_model_logits(good_m), sizeof(float) * (size_t)cfg->vocab_size);
    assert_int_equal(jb_llm_model_step(good_m, 3, 16, err, sizeof(err)), 0);
    assert_memory_equal(first, jb_llm_model_logits(good_m), sizeof(float) * (size_t)cfg->vocab_size);
    /* and position 17 is outside the 17-position cache */
    assert_int_equal(jb_llm_model_step(good_m, 3, 17, err, sizeof(err)), JB_ERANGE);
    assert_int_equal(jb_llm_model_step(good_m, cfg->vocab_size, 3, err, sizeof(err)), JB_EINVAL);
    free(first);
    free(ref);
    jb_llm_model_close(good_m);
    jb_llm_model_close(bad_m);
    jb_llm_weights_free(w);
    jb_pool_destroy(pool);
}

/* Greedy decoding of 8 tokens after a 4-token prompt at `threads`. */
static void greedy(enum jb_llm_dtype dt, int threads, int *out, float *logits)
{
    const struct jb_llm_config *cfg = jb_llm_config_find("stories15m");
    struct jb_llm_weights *w;
    struct jb_pool *pool;
    struct jb_llm_model *m;
    char err[JB_ERRLEN];
    int prompt[4] = {1, 365, 2462, 263};
    assert_int_equal(jb_pool_create(threads, NULL, 0, &pool, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_weights_synth(cfg, dt, 11, pool, &w, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_open(w, pool, jb_llm_kernels_for(jb_cpu_isa()), JB_LLM_F16, 12,
                                       &m, err, sizeof(err)), 0);
    assert_int_equal(jb_llm_model_greedy(m, prompt, 4, 8, out, err, sizeof(err)), 0);
    memcpy(logits, jb_llm_model_logits(m), sizeof(float) * (size_t)cfg->vocab_size);
    jb_llm_model_close(m);
    jb_llm_weights_free(w);
    jb_pool_destroy(pool);
}

static void test_greedy_deterministic(void **state)
{
    (void)state;
    int n = jb_llm_config_find("stories15m")->vocab_size;
    float *l1 = malloc(sizeof(float) * (size_t)n), *l2 = malloc(sizeof(float) * (size_t)n);
    assert_non_null(l1);
    assert_non_null(l2);
    static const enum jb_llm_dtype dts[] = {JB_LLM_Q8_0, JB_LLM_F32, JB_LLM_Q4_K};
    for (size_t d = 0; d < sizeof(dts) / sizeof(dts[0]); d++) {
        int a[8], b[8], c[8];
        greedy(dts[d], 1, a, l1);
        greedy(dts[d], 1, b, l2);
        assert_memory_equal(a, b, sizeof(a));
        assert_memory_equal(l1, l2, sizeof(float) * (size_t)n);
        greedy(dts[d], 2, c, l2);
        assert_memory_equal(a, c, sizeof(a));
        assert_memory_equal(l1, l2, sizeof(float) * (size_t)n);
        for (int i = 0; i < 8; i++)
            assert_true(a[i] >= 0 && a[i] < n);
    }
    free(l1);
    free(l2);
}

static void test_info_counts(void **state)
{
    (void)state;
    const struct jb_workload_ops *ops = jb_workload_find("stories15m");
    char err[JB_ERRLEN];
    void *st;
    assert_int_equal(open_wl("stories15m", "fp32", 32, 1, NULL, &st, err), 0);
    struct jb_workload_info in = {0};
    ops->info(st, &in);
    /* stories15m: dim 288, 6 layers, 6 heads (no GQA), hidden 768, vocab
     * 32000, untied: each token streams every layer matrix, the classifier,
     * the norms and one embedding row, in fp32. */
    double dim = 288, hid = 768, layers = 6, vocab = 32000, L1 = 33;
    double mats = layers * (4 * dim * dim + 3 * dim * hid) + vocab * dim;
    double weights = 4.0 * (mats + layers * 2 * dim + dim + dim);
    double kv = layers * 2 * dim * 4.0 * L1;
    assert_true(fabs(in.per_unit.param_bytes - weights) < 0.5);
    assert_true(fabs(in.per_unit.bytes_moved - (weights + kv)) < 0.5);
    assert_true(in.per_unit.macs >= mats + layers * 2 * dim * L1);
    assert_true(in.per_unit.flops >= 2 * in.per_unit.macs);
    assert_int_equal(in.context, 32);
    assert_string_equal(in.dtype, "fp32");
    assert_string_equal(in.backend, "cpu");
    assert_true(in.parameters > 24.0e6 && in.parameters < 24.5e6);
    ops->close(st);

    /* q4_0 weights are 18/32 bytes per weight and an fp16 cache halves KV */
    assert_int_equal(open_wl("stories15m", "q4_0", 32, 1, "kv=fp16", &st, err), 0);
    ops->info(st, &in);
    double q4 = mats * 18.0 / 32.0 + 4.0 * (layers * 2 * dim + dim) + dim * 18.0 / 32.0;
    assert_true(fabs(in.per_unit.param_bytes - q4) < 0.5);
    assert_true(fabs(in.per_unit.activation_bytes - kv / 2) < 0.5);
    assert_string_equal(in.dtype, "q4_0");
    ops->close(st);
}

static void expect_refusal(const char *name, const char *dtype, int context, const char *options,
                           int code, const char *says)
{
    char err[JB_ERRLEN] = "";
    void *st = NULL;
    int rc = open_wl(name, dtype, context, 1, options, &st, err);
    if (rc != code || !strstr(err, says))
        fail_msg("%s %s L=%d %s: rc %d '%s' (expected %d, '%s')", name, dtype ? dtype : "-",
                 context, options ? options : "", rc, err, code, says);
}

static void test_bad_input(void **state)
{
    (void)state;
    assert_null(jb_workload_find("llama9-70b"));
    assert_null(jb_llm_config_find("llama9-70b"));
    expect_refusal("stories15m", "int8", 16, NULL, JB_EINVAL, "'int8'");
    expect_refusal("stories15m", "f16", 16, NULL, JB_EINVAL, "precision");
    expect_refusal("stories15m", "fp32", 256, NULL, JB_ERANGE, "limit");
    expect_refusal("llama2-7b", "q4_0", 4096, NULL, JB_ERANGE, "L <= 4095");
    expect_refusal("stories15m", "fp32", -3, NULL, JB_ERANGE, "context -3");
    expect_refusal("stories15m", "fp32", 16, "kv=fp8", JB_EINVAL, "kv=fp8");
    expect_refusal("stories15m", "fp32", 16, "token=32000", JB_EINVAL, "token=32000");
    expect_refusal("stories15m", "fp32", 16, "token=x", JB_EINVAL, "token=x");
    /* llama3.1-8b in fp32 is 32 GB of weights: refused before allocating on
     * any machine with less memory available than that */
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    double kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    if (kb > 0 && kb * 1024.0 < 32e9 / 0.9)
        expect_refusal("llama3.1-8b", "fp32", 128, NULL, JB_ENOMEM, "does not fit");
    else
        print_message("llama3.1-8b fp32 fits in this machine's memory: refusal not tested\n");
    /* the largest context the model allows is accepted */
    const struct jb_workload_ops *ops = jb_workload_find("stories15m");
    char err[JB_ERRLEN];
    void *st;
    assert_int_equal(open_wl("stories15m", "q8_0", 255, 1, NULL, &st, err), 0);
    assert_int_equal(ops->run(st, err, sizeof(err)), 0);
    assert_int_equal(ops->check(st, err, sizeof(err)), 0);
    ops->close(st);
}

static void test_cli_run(void **state)
{
    (void)state;
    const char *cli = getenv("JB_CLI");
    if (!cli) {
        skip();
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s run --workload stories15m --dtype q4_0 --context 64 "
             "--threads 2 --repetitions 1 --min-time 0.05 --warmup 0 --out /tmp/jb_test_llm_cli "
             "--format csv > /tmp/jb_test_llm_cli.out 2>&1", cli);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen("/tmp/jb_test_llm_cli.out", "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    if (!strstr(buf, "stories15m") || !strstr(buf, "pass"))
        fail_msg("unexpected output: %s", buf);
    snprintf(cmd, sizeof(cmd), "%s run --workload stories15m --dtype q3_k --out "
             "/tmp/jb_test_llm_cli > /tmp/jb_test_llm_cli.out 2>&1", cli);
    assert_int_not_equal(system(cmd), 0);
    f = fopen("/tmp/jb_test_llm_cli.out", "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    if (!strstr(buf, "q3_k"))
        fail_msg("the refusal does not name the precision: %s", buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_every_precision_and_path),
        cmocka_unit_test(test_reference_catches_a_wrong_kernel),
        cmocka_unit_test(test_greedy_deterministic),
        cmocka_unit_test(test_info_counts),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_cli_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
