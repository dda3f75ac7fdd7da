/* gguf_write.c: the GGUF writer of gguf.h, used by `joulebench
 * export-model` and by the loader's tests and fuzz corpus. Layout written:
 * header (magic, version 3, tensor count, pair count), metadata pairs,
 * tensor infos, zero padding to general.alignment (32), then each tensor at
 * an aligned offset. */
#include "platforms/llm/gguf.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
};

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(struct buf *b, const char *s)
{
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}

static void kv_u32(struct buf *b, const char *key, uint32_t v)
{
    put_str(b, key);
    put_u32(b, 4); /* UINT32 */
    put_u32(b, v);
}

static void kv_str(struct buf *b, const char *key, const char *v)
{
    put_str(b, key);
    put_u32(b, 8); /* STRING */
    put_str(b, v);
}

static void kv_f32(struct buf *b, const char *key, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_str(b, key);
    put_u32(b, 6); /* FLOAT32 */
    put_u32(b, u);
}

static void kv_f64(struct buf *b, const char *key, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_str(b, key);
    put_u32(b, 12); /* FLOAT64 */
    put_u64(b, u);
}

struct tensor {
    char name[64];
    uint32_t type;
    uint64_t ne0, ne1;
    int ndims;
    const void *data;
    size_t bytes;
};

static uint32_t ggml_type(enum jb_llm_dtype d)
{
    switch (d) {
    case JB_LLM_F32: return 0;
    case JB_LLM_F16: return 1;
    case JB_LLM_Q4_0: return 2;
    case JB_LLM_Q8_0: return 8;
    case JB_LLM_Q4_K: return 12;
    case JB_LLM_Q5_K: return 13;
    case JB_LLM_Q6_K: return 14;
    case JB_LLM_Q8_K: return 15;
    case JB_LLM_BF16: return 30;
    }
    return 0;
}

static void add_matrix(struct tensor *t, int *n, const char *name, const struct jb_llm_matrix *m)
{
    struct tensor *x = &t[(*n)++];
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->type = ggml_type(m->dtype);
    x->ne0 = (uint64_t)m->cols;
    x->ne1 = (uint64_t)m->rows;
    x->ndims = 2;
    x->data = m->data;
    x->bytes = m->row_bytes * (size_t)m->rows;
}

static void add_norm(struct tensor *t, int *n, const char *name, const float *v, int dim)
{
    struct tensor *x = &t[(*n)++];
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->type = 0;
    x->ne0 = (uint64_t)dim;
    x->ne1 = 1;
    x->ndims = 1;
    x->data = v;
    x->bytes = sizeof(float) * (size_t)dim;
}

/* The synthetic tokenizer that llama.cpp requires of a model: SentencePiece
 * ("llama") layout, <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF> that
 * its byte fallback looks up, then one placeholder piece per remaining id.
 * The weights are synthetic, so no text means anything: the pieces only make
 * the file loadable, and implementations are fed token ids. */
static void put_vocab(struct buf *b, int vocab)
{
    put_str(b, "tokenizer.ggml.tokens");
    put_u32(b, 9); /* ARRAY */
    put_u32(b, 8); /* of STRING */
    put_u64(b, (uint64_t)vocab);
    for (int i = 0; i < vocab; i++) {
        char p[32];
        if (i < 3)
            snprintf(p, sizeof(p), "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (i < 259)
            snprintf(p, sizeof(p), "<0x%02X>", i - 3);
        else
            snprintf(p, sizeof(p), "\xe2\x96\x81t%d", i); /* U+2581, SentencePiece's space */
        put_str(b, p);
    }
    put_str(b, "tokenizer.ggml.scores");
    put_u32(b, 9);
    put_u32(b, 6); /* of FLOAT32 */
    put_u64(b, (uint64_t)vocab);
    for (int i = 0; i < vocab; i++) {
        float f = -(float)i;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_u32(b, u);
    }
    put_str(b, "tokenizer.ggml.token_type");
    put_u32(b, 9);
    put_u32(b, 5); /* of INT32 */
    put_u64(b, (uint64_t)vocab);
    for (int i = 0; i < vocab; i++) /* 2 unknown, 3 control, 6 byte, 1 normal */
        put_u32(b, i == 0 ? 2u : i < 3 ? 3u : i < 259 ? 6u : 1u);
}

int jb_gguf_write_mem(const struct jb_llm_weights *w, unsigned flags, enum jb_gguf_fault fault,
                      uint8_t **out, size_t *len, char *err, size_t errlen)
{
    int vocab = (flags & JB_GGUF_WRITE_VOCAB) != 0;
    if (vocab && w->cfg.vocab_size < 259)
        return jb_err(err, errlen, JB_EINVAL,
                      "gguf: a tokenizer needs a vocabulary of at least 259 (3 special and 256 "
                      "byte tokens); %s has %d", w->cfg.name, w->cfg.vocab_size);
    const struct jb_llm_config *c = &w->cfg;
    int cap = 5 + 9 * c->n_layers, n = 0;
    struct tensor *t = calloc((size_t)cap, sizeof(*t));
    if (!t)
        return jb_err(err, errlen, JB_ENOMEM, "gguf: out of memory");
    char name[64];
    add_matrix(t, &n, "token_embd.weight", &w->token_embd);
    for (int l = 0; l < c->n_layers; l++) {
        const struct jb_llm_layer *L = &w->layers[l];
#define NM(s) (snprintf(name, sizeof(name), "blk.%d." s ".weight", l), name)
        add_norm(t, &n, NM("attn_norm"), L->attn_norm, c->dim);
        add_matrix(t, &n, NM("attn_q"), &L->wq);
        add_matrix(t, &n, NM("attn_k"), &L->wk);
        add_matrix(t, &n, NM("attn_v"), &L->wv);
        add_matrix(t, &n, NM("attn_output"), &L->wo);
        add_norm(t, &n, NM("ffn_norm"), L->ffn_norm, c->dim);
        add_matrix(t, &n, NM("ffn_gate"), &L->w_gate);
        if (fault != JB_GGUF_MISSING_TENSOR || l)
            add_matrix(t, &n, NM("ffn_up"), &L->w_up);
        add_matrix(t, &n, NM("ffn_down"), &L->w_down);
#undef NM
    }
    add_norm(t, &n, "output_norm.weight", w->output_norm, c->dim);
    if (!c->tied)
        add_matrix(t, &n, "output.weight", &w->output);
    float bad_freqs[256] = {0};
    int hd = c->dim / c->n_heads;
    if (fault == JB_GGUF_BAD_ROPE_FREQS && hd / 2 <= 256) {
        for (int i = 0; i < hd / 2; i++)
            bad_freqs[i] = w->rope_factors ? w->rope_factors[i] : 1.0f;
        bad_freqs[hd / 4] = 0.0f;
        add_norm(t, &n, "rope_freqs.weight", bad_freqs, hd / 2);
    } else if (w->rope_factors) {
        add_norm(t, &n, "rope_freqs.weight", w->rope_factors, hd / 2);
    }
    if (fault == JB_GGUF_EXTRA_TENSOR)
        add_norm(t, &n, "blk.0.attn_sinks.weight", w->output_norm, c->dim);
    if (fault == JB_GGUF_BAD_TYPE)
        t[2].type = 10; /* blk.0.attn_q.weight: Q2_K */
    if (fault == JB_GGUF_KQUANT_SHORT_ROWS)
        t[2].type = 12; /* blk.0.attn_q.weight: Q4_K */
    if (fault == JB_GGUF_BAD_SHAPE)
        for (int i = 0; i < n; i++)
            if (!strcmp(t[i].name, "blk.0.attn_k.weight")) {
                uint64_t s = t[i].ne0;
                t[i].ne0 = t[i].ne1;
                t[i].ne1 = s;
            }

    struct buf b = {0};
    put_u32(&b, fault == JB_GGUF_BAD_MAGIC ? 0x46554748u : 0x46554747u);
    put_u32(&b, fault == JB_GGUF_BAD_VERSION ? 1 : 3);
    put_u64(&b, fault == JB_GGUF_HUGE_COUNT ? (1ull << 62) : (uint64_t)n);
    int rope_kv = fault == JB_GGUF_ROPE_LINEAR || fault == JB_GGUF_ROPE_YARN;
    put_u64(&b, 14 + (vocab ? 7 : 0) + (rope_kv ? 2 : 0));
    if (rope_kv) {
        kv_str(&b, "llama.rope.scaling.type", fault == JB_GGUF_ROPE_YARN ? "yarn" : "linear");
        kv_f32(&b, "llama.rope.scaling.factor", 2.0f);
    }
    put_str(&b, "general.architecture");
    put_u32(&b, 8); /* STRING */
    put_str(&b, fault == JB_GGUF_BAD_ARCH ? "gpt2" : "llama");
    put_str(&b, "general.name");
    put_u32(&b, 8);
    put_str(&b, c->name);
    if (fault == JB_GGUF_NAN_ALIGNMENT)
        kv_f64(&b, "general.alignment", NAN);
    else
        kv_u32(&b, "general.alignment", 32);
    kv_u32(&b, "llama.context_length", (uint32_t)c->max_context);
    kv_u32(&b, "llama.embedding_length", (uint32_t)c->dim);
    kv_u32(&b, "llama.block_count", (uint32_t)c->n_layers);
    kv_u32(&b, "llama.feed_forward_length", (uint32_t)c->hidden_dim);
    kv_u32(&b, "llama.attention.head_count", (uint32_t)c->n_heads);
    kv_u32(&b, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    kv_f32(&b, "llama.rope.freq_base", fault == JB_GGUF_NAN_ROPE ? NAN : c->rope_theta);
    kv_f32(&b, "llama.attention.layer_norm_rms_epsilon", c->norm_eps);
    kv_u32(&b, "llama.vocab_size", (uint32_t)c->vocab_size);
    kv_u32(&b, "llama.rope.dimension_count", (uint32_t)(c->dim / c->n_heads));
    kv_u32(&b, "general.quantization_version", 2);
    if (vocab) {
        kv_str(&b, "tokenizer.ggml.model", "llama");
        put_vocab(&b, c->vocab_size);
        kv_u32(&b, "tokenizer.ggml.unknown_token_id", 0);
        kv_u32(&b, "tokenizer.ggml.bos_token_id", 1);
        kv_u32(&b, "tokenizer.ggml.eos_token_id", 2);
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        put_str(&b, t[i].name);
        put_u32(&b, (uint32_t)t[i].ndims);
        put_u64(&b, t[i].ne0);
        if (t[i].ndims == 2)
            put_u64(&b, t[i].ne1);
        put_u32(&b, t[i].type);
        uint64_t o = off;
        if (fault == JB_GGUF_OFFSET_PAST_END && !strcmp(t[i].name, "output_norm.weight"))
            o = 1ull << 40;
        if (fault == JB_GGUF_MISALIGNED && i == 1)
            o += 4;
        put_u64(&b, o);
        off += (t[i].bytes + 31) / 32 * 32;
    }
    static const uint8_t zeros[32] = {0};
    put(&b, zeros, (32 - b.n % 32) % 32);
    for (int i = 0; i < n; i++) {
        put(&b, t[i].data, t[i].bytes);
        put(&b, zeros, (32 - t[i].bytes % 32) % 32);
    }
    free(t);
    if (b.oom) {
        free(b.p);
        return jb_err(err, errlen, JB_ENOMEM, "gguf: out of memory");
    }
    *out = b.p;
    *len = b.n;
    return JB_OK;
}

int jb_gguf_write_file(const struct jb_llm_weights *w, unsigned flags, enum jb_gguf_fault fault,
                       const char *path, char *err, size_t errlen)
{
    uint8_t *p;
    size_t n;
    int rc = jb_gguf_write_mem(w, flags, fault, &p, &n, err, errlen);
    if (rc)
        return rc;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(p);
        return jb_err(err, errlen, JB_EIO, "gguf: cannot create %s", path);
    }
    rc = fwrite(p, 1, n, f) == n ? JB_OK : JB_EIO;
    if (fclose(f))
        rc = JB_EIO;
    free(p);
    return rc ? jb_err(err, errlen, rc, "gguf: writing %s failed", path) : JB_OK;
}

int jb_gguf_convert_matrix(struct jb_llm_weights *w, struct jb_llm_matrix *m,
                           enum jb_llm_dtype to)
{
    to = jb_llm_dtype_for_cols(to, m->cols);
    size_t rb = jb_llm_row_bytes(to, m->cols);
    void *data = jb_llm_weights_alloc(w, rb * (size_t)m->rows);
    float *row = malloc(sizeof(float) * (size_t)m->cols);
    if (!data || !row) {
        free(row);
        return JB_ENOMEM;
    }
    for (int r = 0; r < m->rows; r++) {
        jb_llm_dequantize_row(m->dtype, (char *)m->data + (size_t)r * m->row_bytes, row, m->cols);
        jb_llm_quantize_row(to, row, (char *)data + (size_t)r * rb, m->cols);
    }
    free(row);
    m->dtype = to;
    m->row_bytes = rb;
    m->data = data;
    return JB_OK;
}

/* llama.cpp's use_more_bits(i_layer, n_layers). */
static int more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

int jb_gguf_make_q4_k_m(struct jb_llm_weights *w)
{
    int rc = 0, n = w->cfg.n_layers;
    int tied = w->cfg.tied;
    rc |= jb_gguf_convert_matrix(w, &w->token_embd, tied ? JB_LLM_Q6_K : JB_LLM_Q4_K);
    for (int l = 0; l < n; l++) {
        struct jb_llm_layer *L = &w->layers[l];
        enum jb_llm_dtype more = more_bits(l, n) ? JB_LLM_Q6_K : JB_LLM_Q4_K;
        rc |= jb_gguf_convert_matrix(w, &L->wq, JB_LLM_Q4_K);
        rc |= jb_gguf_convert_matrix(w, &L->wk, JB_LLM_Q4_K);
        rc |= jb_gguf_convert_matrix(w, &L->wv, more);
        rc |= jb_gguf_convert_matrix(w, &L->wo, JB_LLM_Q4_K);
        rc |= jb_gguf_convert_matrix(w, &L->w_gate, JB_LLM_Q4_K);
        rc |= jb_gguf_convert_matrix(w, &L->w_up, JB_LLM_Q4_K);
        rc |= jb_gguf_convert_matrix(w, &L->w_down, more);
    }
    if (tied)
        w->output = w->token_embd;
    else
        rc |= jb_gguf_convert_matrix(w, &w->output, JB_LLM_Q6_K);
    w->dtype = w->layers[0].wq.dtype;
    return rc ? JB_ENOMEM : JB_OK;
}
