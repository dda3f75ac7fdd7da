/* llm_cuda_ref.c: the plain-C fp32 reference of the CUDA decode step, and
 * the check that compares the GPU's logits with it.
 *
 * The reference runs on the GPU's own weights and cache, downloaded a slice
 * at a time and dequantized with llm.h's jb_llm_dequantize_row (written for
 * the CPU back-end, independent of the CUDA kernels), so it checks every
 * kernel of the step (GEMV or cuBLAS, RoPE, attention, norms) at any model
 * size without holding the model in host memory. That the GPU's weights
 * equal jb_llm_weights_synth's is a separate test (test_cuda_llm.c).
 * Compiled to nothing without CUDA. */
#ifdef JB_HAVE_CUDA
#include "base/error.h"
#include "platforms/cuda/llm_cuda.h"
#include "workloads/llm/llm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per download: a few MB at the widest matrices. */
#define REF_ROWS 512

/* Dot product with 8 independent partial sums, which the compiler may
 * vectorize without reassociating (no -ffast-math). */
static float dot(const float *a, const float *b, int n)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    for (; i < n; i++)
        s[0] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

struct ref {
    struct jb_cuda_llm *m;
    const struct jb_llm_config *c;
    enum jb_llm_dtype dtype;
    uint64_t seed;
    int nseq;
    void *raw;  /* REF_ROWS rows as stored */
    float *row; /* one row dequantized */
    char *err;
    size_t errlen;
};

/* y[s][0..rows) (+)= W x[s] for every sequence s; W = rows [0, rows) of kind. */
static int matvec(struct ref *r, enum jb_llm_tensor_kind kind, int layer, int rows, int cols,
                  const float *x, float *y, int accumulate)
{
    size_t rb = jb_llm_row_bytes(r->dtype, cols);
    for (int r0 = 0; r0 < rows; r0 += REF_ROWS) {
        int n = rows - r0 < REF_ROWS ? rows - r0 : REF_ROWS;
        int rc = jb_cuda_llm_get_rows(r->m, kind, layer, r0, n, r->raw, r->err, r->errlen);
        if (rc)
            return rc;
        for (int i = 0; i < n; i++) {
            jb_llm_dequantize_row(r->dtype, (const char *)r->raw + (size_t)i * rb, r->row, cols);
            for (int s = 0; s < r->nseq; s++) {
                float v = dot(r->row, x + (size_t)s * cols, cols);
                float *o = y + (size_t)s * rows + r0 + i;
                *o = accumulate ? *o + v : v;
            }
        }
    }
    return 0;
}

static void rmsnorm(const float *x, const float *w, int n, float eps, float *o)
{
    float ss = 0;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    float inv = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++)
        o[i] = w[i] * (inv * x[i]);
}

static float fp16_round(float v)
{
    return jb_f32_from_fp16(jb_fp16_from_f32(v));
}

int jb_cuda_llm_reference(struct jb_cuda_llm *m, int nseq, const int *seqs, float *logits,
                          char *err, size_t errlen)
{
    const struct jb_llm_config *c = jb_cuda_llm_config(m);
    int dim = c->dim, hs = dim / c->n_heads, kvd = hs * c->n_kv_heads, hid = c->hidden_dim;
    int L = jb_cuda_llm_context(m), G = c->n_heads / c->n_kv_heads, rc = 0;
    int wide = hid > dim ? hid : dim;
    struct ref r = {m, c, jb_cuda_llm_dtype(m), jb_cuda_llm_seed(m), nseq, NULL, NULL, err, errlen};
    size_t S = (size_t)nseq;
    float *x = malloc(sizeof(float) * S * dim), *xn = malloc(sizeof(float) * S * dim);
    float *q = malloc(sizeof(float) * S * dim), *k = malloc(sizeof(float) * S * kvd);
    float *v = malloc(sizeof(float) * S * kvd), *att = malloc(sizeof(float) * S * dim);
    float *g = malloc(sizeof(float) * S * hid), *u = malloc(sizeof(float) * S * hid);
    float *nw = malloc(sizeof(float) * dim), *sc = malloc(sizeof(float) * (size_t)(L + 1));
    uint16_t *kc = malloc(2 * (size_t)L * kvd), *vc = malloc(2 * (size_t)L * kvd);
    r.raw = malloc(jb_llm_row_bytes(r.dtype, wide) * REF_ROWS);
    r.row = malloc(sizeof(float) * (size_t)wide);
    if (!x || !xn || !q || !k || !v || !att || !g || !u || !nw || !sc || !kc || !vc || !r.raw ||
        !r.row) {
        rc = jb_err(err, errlen, JB_ENOMEM, "cuda llm reference: out of host memory");
        goto out;
    }
    for (int s = 0; s < nseq; s++) {
        int tok = jb_cuda_llm_token(m, seqs[s]);
        if ((rc = jb_cuda_llm_get_rows(m, JB_LLM_T_TOKEN_EMBD, 0, tok, 1, r.raw, err, errlen)))
            goto out;
        jb_llm_dequantize_row(r.dtype, r.raw, x + (size_t)s * dim, dim);
    }
    for (int l = 0; l < c->n_layers; l++) {
        jb_llm_synth_values(r.seed, jb_llm_tensor_id(l, JB_LLM_T_ATTN_NORM), 0, (size_t)dim, 1.0f,
                            0.1f, nw);
        for (int s = 0; s < nseq; s++)
            rmsnorm(x + (size_t)s * dim, nw, dim, c->norm_eps, xn + (size_t)s * dim);
        if ((rc = matvec(&r, JB_LLM_T_WQ, l, dim, dim, xn, q, 0)) ||
            (rc = matvec(&r, JB_LLM_T_WK, l, kvd, dim, xn, k, 0)) ||
            (rc = matvec(&r, JB_LLM_T_WV, l, kvd, dim, xn, v, 0)))
            goto out;
        for (int s = 0; s < nseq; s++) {
            float *qs = q + (size_t)s * dim, *ks = k + (size_t)s * kvd, *vs = v + (size_t)s * kvd;
            /* RoPE, llama2.c's adjacent pairs, at position L. */
            for (int i = 0; i < dim + kvd; i += 2) {
                int local = i < dim ? i : i - dim;
                float freq = 1.0f / powf(c->rope_theta, (float)(local % hs) / (float)hs);
                float val = (float)L * freq, fcr = cosf(val), fci = sinf(val);
                float *p = i < dim ? qs + i : ks + local;
                float v0 = p[0], v1 = p[1];
                p[0] = v0 * fcr - v1 * fci;
                p[1] = v0 * fci + v1 * fcr;
            }
            /* The new K and V are stored in fp16, and read back so. */
            for (int i = 0; i < kvd; i++) {
                ks[i] = fp16_round(ks[i]);
                vs[i] = fp16_round(vs[i]);
            }
            if ((rc = jb_cuda_llm_get_kv(m, l, seqs[s], kc, vc, err, errlen)))
                goto out;
            for (int h = 0; h < c->n_heads; h++) {
                int kh = h / G;
                const float *qh = qs + (size_t)h * hs;
                float mx = -INFINITY, sum = 0;
                for (int t = 0; t <= L; t++) {
                    float d = 0;
                    for (int i = 0; i < hs; i++) {
                        float kv = t < L ? jb_f32_from_fp16(kc[(size_t)t * kvd + kh * hs + i])
                                         : ks[kh * hs + i];
                        d += qh[i] * kv;
                    }
                    sc[t] = d / sqrtf((float)hs);
                    mx = fmaxf(mx, sc[t]);
                }
                for (int t = 0; t <= L; t++) {
                    sc[t] = expf(sc[t] - mx);
                    sum += sc[t];
                }
                float *o = att + (size_t)s * dim + (size_t)h * hs;
                for (int i = 0; i < hs; i++)
                    o[i] = 0;
                for (int t = 0; t <= L; t++) {
                    float p = sc[t] / sum;
                    for (int i = 0; i < hs; i++)
                        o[i] += p * (t < L ? jb_f32_from_fp16(vc[(size_t)t * kvd + kh * hs + i])
                                           : vs[kh * hs + i]);
                }
            }
        }
        if ((rc = matvec(&r, JB_LLM_T_WO, l, dim, dim, att, x, 1)))
            goto out;
        jb_llm_synth_values(r.seed, jb_llm_tensor_id(l, JB_LLM_T_FFN_NORM), 0, (size_t)dim, 1.0f,
                            0.1f, nw);
        for (int s = 0; s < nseq; s++)
            rmsnorm(x + (size_t)s * dim, nw, dim, c->norm_eps, xn + (size_t)s * dim);
        if ((rc = matvec(&r, JB_LLM_T_W_GATE, l, hid, dim, xn, g, 0)) ||
            (rc = matvec(&r, JB_LLM_T_W_UP, l, hid, dim, xn, u, 0)))
            goto out;
        for (size_t i = 0; i < S * hid; i++)
            g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
        if ((rc = matvec(&r, JB_LLM_T_W_DOWN, l, dim, hid, g, x, 1)))
            goto out;
    }
    jb_llm_synth_values(r.seed, jb_llm_tensor_id(0, JB_LLM_T_OUTPUT_NORM), 0, (size_t)dim, 1.0f,
                        0.1f, nw);
    for (int s = 0; s < nseq; s++)
        rmsnorm(x + (size_t)s * dim, nw, dim, c->norm_eps, xn + (size_t)s * dim);
    rc = matvec(&r, c->tied ? JB_LLM_T_TOKEN_EMBD : JB_LLM_T_OUTPUT, 0, c->vocab_size, dim, xn,
                logits, 0);
out:
    free(x);
    free(xn);
    free(q);
    free(k);
    free(v);
    free(att);
    free(g);
    free(u);
    free(nw);
    free(sc);
    free(kc);
    free(vc);
    free(r.raw);
    free(r.row);
    return rc;
}

int jb_cuda_llm_check(struct jb_cuda_llm *m, float **ref_cache, double *rel_err, double *tol_out,
                      char *err, size_t errlen)
{
    const struct jb_llm_config *c = jb_cuda_llm_config(m);
    int batch = jb_cuda_llm_batch(m), seqs[2] = {0, batch - 1}, nseq = batch > 1 ? 2 : 1, rc;
    /* Tolerances on the relative L2 error of the logits. fp32 activations
     * (GEMV): only summation order and transcendental rounding differ, far
     * under 1e-3. cuBLAS rounds every activation to fp16 (11 bits) or bf16
     * (8 bits) before each product: about 2^-11 and 2^-8 per product,
     * growing through the layers. */
    double tol = jb_cuda_llm_fp32_activations(m)       ? 1e-3
                 : jb_cuda_llm_dtype(m) == JB_LLM_BF16 ? 5e-2
                                                       : 1e-2;
    size_t V = (size_t)c->vocab_size;
    float *ref = ref_cache && *ref_cache ? *ref_cache : malloc(sizeof(float) * V * 2);
    int have_ref = ref_cache && *ref_cache;
    float *gpu = malloc(sizeof(float) * V);
    double worst = 0;
    if (tol_out)
        *tol_out = tol;
    if (!ref || !gpu) {
        rc = jb_err(err, errlen, JB_ENOMEM, "cuda llm check: out of host memory");
        goto out;
    }
    if (!have_ref) {
        if ((rc = jb_cuda_llm_reference(m, nseq, seqs, ref, err, errlen)))
            goto out;
        if (ref_cache) {
            *ref_cache = ref; /* the caller owns it now */
            have_ref = 1;
        }
    }
    for (int s = 0; s < nseq; s++) {
        if ((rc = jb_cuda_llm_logits(m, seqs[s], gpu, err, errlen)))
            goto out;
        double num = 0, den = 0;
        for (size_t i = 0; i < V; i++) {
            double d = (double)gpu[i] - ref[(size_t)s * V + i];
            num += d * d;
            den += (double)ref[(size_t)s * V + i] * ref[(size_t)s * V + i];
        }
        double e = den > 0 ? sqrt(num / den) : INFINITY;
        if (!(e <= worst)) /* NaN never passes */
            worst = isnan(e) ? INFINITY : e;
    }
    if (rel_err)
        *rel_err = worst;
    if (!(worst <= tol))
        rc = jb_err(err, errlen, JB_ECHECK,
                    "%s: logits differ from the fp32 CPU reference: relative L2 error %.3g > %.3g",
                    c->name, worst, tol);
out:
    if (!have_ref)
        free(ref);
    free(gpu);
    return rc;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int jb_llm_cuda_ref_unused;
#endif
