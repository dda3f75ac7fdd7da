/* llm_kernels_bench.c: cycles per 32 weights of each quantized matrix-vector
 * kernel, on a matrix that sits in the L2 cache (the compute cost, which
 * must stay below what DRAM delivers per 32 weights for decode to reach the
 * memory roof) and on one far larger than the last-level cache (the
 * streaming rate, GB/s of weights). One thread; TSC ticks, which on
 * constant-TSC x86 count at the nominal clock, not the boost clock.
 *
 * usage: llm_kernels_bench [ISA [REPS [DTYPE]]]   (ISA: reference|avx2|avx512;
 * the best this CPU has by default, capped as JB_CPU_FORCE caps it). With
 * DTYPE, only that type's in-cache matrix is run: for counting instructions
 * per block under valgrind --tool=callgrind (Ir of matvec / (REPS * 50 *
 * 4096)), where no hardware counters are readable, as in a VM. */
#include "platforms/cpu/llm_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(JB_X86)
#include <x86intrin.h>
#endif

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static unsigned long long ticks(void)
{
#if defined(JB_X86)
    return __rdtsc();
#else
    return 0;
#endif
}

static float *rand_vec(size_t n, unsigned s)
{
    float *v = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        v[i] = (float)((int)(s >> 8 & 0xffff) - 32768) / 32768.0f;
    }
    return v;
}

/* Best of reps: seconds and ticks per call of rows [0, rows). */
static void time_matvec(const struct jb_llm_kernels *k, const struct jb_llm_matrix *m,
                        const struct jb_llm_act *a, float *y, int reps, double *sec,
                        double *tk)
{
    *sec = 1e30;
    *tk = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        unsigned long long c0 = ticks();
        k->matvec(m, 0, m->rows, a, y);
        unsigned long long c1 = ticks();
        double t1 = now_s();
        if (t1 - t0 < *sec)
            *sec = t1 - t0;
        if ((double)(c1 - c0) < *tk)
            *tk = (double)(c1 - c0);
    }
}

/* The attention of one KV group of llama3.2-1b (4 heads of 64, fp16 K/V)
 * at depth 2048: the table's fused attend against the per-head loop of
 * dot and axpy calls that the step used before it. */
static void one_head_at_a_time(const struct jb_llm_kernels *k, const float *q, int group, int hd,
                               const char *kc, const char *vc, size_t stride, int npos,
                               float scale, float *att, float *out)
{
    for (int h = 0; h < group; h++) {
        float mx = -1e30f, sum = 0.0f;
        for (int t = 0; t < npos; t++) {
            att[t] = scale * k->dot_f16((const uint16_t *)(kc + t * stride), q + h * hd, hd);
            mx = att[t] > mx ? att[t] : mx;
        }
        for (int t = 0; t < npos; t++)
            sum += att[t] = expf(att[t] - mx);
        memset(out + h * hd, 0, sizeof(float) * (size_t)hd);
        for (int t = 0; t < npos; t++)
            k->axpy_f16(out + h * hd, att[t] / sum, (const uint16_t *)(vc + t * stride), hd);
    }
}

static void bench_attention(const struct jb_llm_kernels *k, int reps)
{
    enum { G = 4, HD = 64, NPOS = 2048, KVD = 512 };
    size_t stride = KVD * 2;
    char *kc = malloc(stride * NPOS), *vc = malloc(stride * NPOS);
    float *q = rand_vec(G * HD, 3), *att = malloc(sizeof(float) * G * NPOS), out[G * HD];
    float *row = rand_vec(KVD, 5);
    for (int t = 0; t < NPOS; t++) {
        jb_llm_quantize_row(JB_LLM_F16, row, kc + t * stride, KVD);
        jb_llm_quantize_row(JB_LLM_F16, row, vc + t * stride, KVD);
    }
    double best_f = 1e30, best_h = 1e30;
    for (int r = 0; r < reps * 5; r++) {
        double t0 = now_s();
        k->attend(q, G, HD, kc, vc, stride, JB_LLM_F16, NPOS, 0.125f, att, out);
        double t1 = now_s();
        one_head_at_a_time(k, q, G, HD, kc, vc, stride, NPOS, 0.125f, att, out);
        double t2 = now_s();
        best_f = t1 - t0 < best_f ? t1 - t0 : best_f;
        best_h = t2 - t1 < best_h ? t2 - t1 : best_h;
    }
    printf("attention, 4 heads x 64, fp16 K/V, depth 2048: fused %.1f us, one head at a time "
           "%.1f us (ns per position and head: %.2f vs %.2f)\n", best_f * 1e6, best_h * 1e6,
           best_f * 1e9 / (G * NPOS), best_h * 1e9 / (G * NPOS));
    free(kc);
    free(vc);
    free(q);
    free(att);
    free(row);
}

int main(int argc, char **argv)
{
    enum jb_isa isa = jb_cpu_isa();
    if (argc > 1)
        isa = !strcmp(argv[1], "reference") ? JB_ISA_REFERENCE
              : !strcmp(argv[1], "avx2")    ? JB_ISA_AVX2
                                            : JB_ISA_AVX512;
    if (isa > jb_cpu_isa())
        isa = jb_cpu_isa();
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    const struct jb_llm_kernels *k = jb_llm_kernels_for(isa);
    static const enum jb_llm_dtype types[] = {JB_LLM_Q8_0, JB_LLM_Q4_0, JB_LLM_Q4_K,
                                              JB_LLM_Q5_K, JB_LLM_Q6_K, JB_LLM_BF16};
    const int cols = 2048;
    printf("kernels %s, cols %d, best of %d\n", k->name, cols, reps);
    printf("%-6s %14s %14s %12s %12s\n", "dtype", "L2 ticks/32w", "L2 ns/32w", "DRAM GB/s",
           "DRAM ns/32w");
    float *x = rand_vec(cols, 7);
    struct jb_block_q8_0 *xq = calloc(cols / 32, sizeof(*xq));
    struct jb_block_q8_K *xk = calloc(cols / 256, sizeof(*xk));
    jb_llm_quantize_row(JB_LLM_Q8_0, x, xq, cols);
    jb_llm_quantize_row(JB_LLM_Q8_K, x, xk, cols);
    struct jb_llm_act a = {x, xq, xk};
    int only = argc > 3 ? jb_llm_dtype_parse(argv[3]) : -1;
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        if (only >= 0 && (int)types[t] != only)
            continue;
        /* 32M weights: 17-67 MB, beyond any LLC of these VMs */
        int big_rows = only >= 0 ? 64 : 16384;
        size_t rb = jb_llm_row_bytes(types[t], cols);
        struct jb_llm_matrix m = {types[t], big_rows, cols, rb, NULL};
        m.data = malloc(rb * (size_t)big_rows);
        float *row = rand_vec(cols, 11);
        for (int r = 0; r < big_rows; r++)
            jb_llm_quantize_row(types[t], row, (char *)m.data + (size_t)r * rb, cols);
        float *y = calloc((size_t)big_rows, sizeof(float));
        /* in cache: 64 rows (36-136 kB) */
        struct jb_llm_matrix s = m;
        s.rows = 64;
        double sec, tk, sec_big, tk_big;
        time_matvec(k, &s, &a, y, reps * 50, &sec, &tk);
        time_matvec(k, &m, &a, y, reps, &sec_big, &tk_big);
        double blocks = (double)s.rows * cols / 32, blocks_big = (double)m.rows * cols / 32;
        printf("%-6s %14.2f %14.3f %12.2f %12.3f\n", jb_llm_dtype_name(types[t]), tk / blocks,
               sec / blocks * 1e9, (double)rb * big_rows / sec_big / 1e9,
               sec_big / blocks_big * 1e9);
        free(m.data);
        free(row);
        free(y);
    }
    free(x);
    free(xq);
    free(xk);
    if (only < 0 || (argc > 3 && !strcmp(argv[3], "attn")))
        bench_attention(k, reps);
    return 0;
}
