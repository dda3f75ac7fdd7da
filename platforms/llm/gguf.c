/* gguf.c: see gguf.h. The file is read as a byte buffer through a cursor
 * whose every read checks the remaining length first; counts and sizes from
 * the file are bounded by what is left of the buffer before anything is
 * allocated from them, and offset + size sums are checked for overflow. */
#include "platforms/llm/gguf.h"
#include "base/error.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" read little-endian */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_DEPTH 4     /* nested metadata arrays */
#define GGUF_MAX_LAYERS 1024 /* sanity bounds on the shape, far above any Llama */
#define GGUF_MAX_WIDTH (1 << 20)

enum gguf_vtype {
    GV_U8 = 0, GV_I8, GV_U16, GV_I16, GV_U32, GV_I32, GV_F32, GV_BOOL, GV_STRING, GV_ARRAY,
    GV_U64, GV_I64, GV_F64
};

struct cursor {
    const uint8_t *buf;
    size_t len, off;
};

struct str {
    const char *p;
    size_t n;
};

struct tinfo {
    struct str name;
    uint32_t ndims, type;
    uint64_t ne[GGUF_MAX_DIMS];
    uint64_t offset;
    int used;
};

struct meta {
    int have_arch;
    int64_t dim, layers, heads, kv_heads, hidden, ctx;
    double theta, eps;
    uint64_t alignment;
    double rope_linear; /* llama.rope.scaling.factor with type "linear" (or scale_linear); 0: none */
    int rope_linear_type; /* llama.rope.scaling.type was "linear" */
    double rope_factor;   /* llama.rope.scaling.factor as read */
};

static int need(struct cursor *c, size_t n)
{
    return c->len - c->off >= n;
}

static int rd_u32(struct cursor *c, uint32_t *v)
{
    if (!need(c, 4))
        return -1;
    const uint8_t *p = c->buf + c->off;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    c->off += 4;
    return 0;
}

static int rd_u64(struct cursor *c, uint64_t *v)
{
    uint32_t lo, hi;
    if (!need(c, 8) || rd_u32(c, &lo) || rd_u32(c, &hi))
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

static int rd_str(struct cursor *c, struct str *s)
{
    uint64_t n;
    if (rd_u64(c, &n) || n > c->len - c->off)
        return -1;
    s->p = (const char *)c->buf + c->off;
    s->n = (size_t)n;
    c->off += (size_t)n;
    return 0;
}

static int str_is(struct str s, const char *lit)
{
    return s.n == strlen(lit) && !memcmp(s.p, lit, s.n);
}

static size_t vtype_size(uint32_t t)
{
    switch (t) {
    case GV_U8: case GV_I8: case GV_BOOL: return 1;
    case GV_U16: case GV_I16: return 2;
    case GV_U32: case GV_I32: case GV_F32: return 4;
    case GV_U64: case GV_I64: case GV_F64: return 8;
    default: return 0;
    }
}

/* Reads a scalar value of type t as a double (integers and floats alike). */
static int rd_number(struct cursor *c, uint32_t t, double *v)
{
    size_t sz = vtype_size(t);
    if (!sz || !need(c, sz))
        return -1;
    const uint8_t *p = c->buf + c->off;
    uint64_t u = 0;
    for (size_t i = 0; i < sz; i++)
        u |= (uint64_t)p[i] << (8 * i);
    c->off += sz;
    switch (t) {
    case GV_I8: *v = (int8_t)u; break;
    case GV_I16: *v = (int16_t)u; break;
    case GV_I32: *v = (int32_t)u; break;
    case GV_I64: *v = (double)(int64_t)u; break;
    case GV_F32: {
        uint32_t b = (uint32_t)u;
        float f;
        memcpy(&f, &b, 4);
        *v = f;
        break;
    }
    case GV_F64: memcpy(v, &u, 8); break;
    default: *v = (double)u; break;
    }
    return 0;
}

static int skip_value(struct cursor *c, uint32_t t, int depth)
{
    if (t == GV_STRING) {
        struct str s;
        return rd_str(c, &s);
    }
    if (t == GV_ARRAY) {
        uint32_t et;
        uint64_t n;
        if (depth >= GGUF_MAX_DEPTH || rd_u32(c, &et) || rd_u64(c, &n))
            return -1;
        size_t sz = vtype_size(et);
        if (sz) {
            if (n > (c->len - c->off) / sz)
                return -1;
            c->off += (size_t)n * sz;
            return 0;
        }
        if (et != GV_STRING && et != GV_ARRAY)
            return -1;
        /* every element takes at least 8 bytes: bounds the loop by the file */
        if (n > (c->len - c->off) / 8)
            return -1;
        for (uint64_t i = 0; i < n; i++)
            if (skip_value(c, et, depth + 1))
                return -1;
        return 0;
    }
    size_t sz = vtype_size(t);
    if (!sz || !need(c, sz))
        return -1;
    c->off += sz;
    return 0;
}

/* Reads one metadata pair, keeping the llama.* keys the model needs. */
static int read_kv(struct cursor *c, struct meta *m, char *err, size_t errlen)
{
    struct str key;
    uint32_t t;
    if (rd_str(c, &key) || rd_u32(c, &t))
        return jb_err(err, errlen, JB_EFORMAT, "gguf: metadata truncated at byte %zu", c->off);
    int64_t *ip = NULL;
    double *fp = NULL;
    if (str_is(key, "general.architecture")) {
        struct str v;
        if (t != GV_STRING || rd_str(c, &v))
            return jb_err(err, errlen, JB_EFORMAT, "gguf: general.architecture is not a string");
        if (!str_is(v, "llama"))
            return jb_err(err, errlen, JB_ENOTSUP, "gguf: architecture '%.*s' not supported "
                          "(llama)", (int)(v.n > 32 ? 32 : v.n), v.p);
        m->have_arch = 1;
        return 0;
    }
    if (str_is(key, "llama.rope.scaling.type")) {
        struct str v;
        if (t != GV_STRING || rd_str(c, &v))
            return jb_err(err, errlen, JB_EFORMAT, "gguf: llama.rope.scaling.type is not a string");
        if (str_is(v, "linear"))
            m->rope_linear_type = 1;
        else if (!str_is(v, "none") && !str_is(v, "llama3"))
            return jb_err(err, errlen, JB_ENOTSUP, "gguf: RoPE scaling '%.*s' not supported "
                          "(none, linear; Llama 3.x scaling comes as rope_freqs.weight)",
                          (int)(v.n > 32 ? 32 : v.n), v.p);
        return 0;
    }
    if (str_is(key, "general.alignment")) {
        double v;
        /* written so that NaN fails too: it compares false with both bounds */
        if (rd_number(c, t, &v) || !(v >= 1 && v <= 65536) || v != floor(v) ||
            ((uint64_t)v & ((uint64_t)v - 1)))
            return jb_err(err, errlen, JB_EFORMAT, "gguf: general.alignment is not a power of "
                          "two in 1..65536");
        m->alignment = (uint64_t)v;
        return 0;
    }
    if (str_is(key, "llama.embedding_length"))
        ip = &m->dim;
    else if (str_is(key, "llama.block_count"))
        ip = &m->layers;
    else if (str_is(key, "llama.attention.head_count"))
        ip = &m->heads;
    else if (str_is(key, "llama.attention.head_count_kv"))
        ip = &m->kv_heads;
    else if (str_is(key, "llama.feed_forward_length"))
        ip = &m->hidden;
    else if (str_is(key, "llama.context_length"))
        ip = &m->ctx;
    else if (str_is(key, "llama.rope.freq_base"))
        fp = &m->theta;
    else if (str_is(key, "llama.attention.layer_norm_rms_epsilon"))
        fp = &m->eps;
    else if (str_is(key, "llama.rope.scaling.factor"))
        fp = &m->rope_factor;
    else if (str_is(key, "llama.rope.scale_linear")) /* the older key: linear scaling */
        fp = &m->rope_linear;
    if (ip || fp) {
        double v;
        if (t == GV_F32 || t == GV_F64 ? !fp : (!vtype_size(t) || t == GV_BOOL))
            return jb_err(err, errlen, JB_EFORMAT, "gguf: %.*s has the wrong value type %u",
                          (int)key.n, key.p, t);
        if (rd_number(c, t, &v))
            return jb_err(err, errlen, JB_EFORMAT, "gguf: %.*s truncated", (int)key.n, key.p);
        if (ip) {
            if (!(v >= 0 && v <= 1e9))
                return jb_err(err, errlen, JB_EFORMAT, "gguf: %.*s = %g out of range",
                              (int)key.n, key.p, v);
            *ip = (int64_t)v;
        } else {
            if (!(isfinite(v) && v > 0))
                return jb_err(err, errlen, JB_EFORMAT, "gguf: %.*s = %g out of range",
                              (int)key.n, key.p, v);
            *fp = v;
        }
        return 0;
    }
    if (skip_value(c, t, 0))
        return jb_err(err, errlen, JB_EFORMAT, "gguf: value of '%.*s' truncated or malformed",
                      (int)(key.n > 64 ? 64 : key.n), key.p);
    return 0;
}

static int ggml_to_dtype(uint32_t t)
{
    switch (t) {
    case JB_GGML_TYPE_F32: return JB_LLM_F32;
    case JB_GGML_TYPE_F16: return JB_LLM_F16;
    case JB_GGML_TYPE_BF16: return JB_LLM_BF16;
    case JB_GGML_TYPE_Q8_0: return JB_LLM_Q8_0;
    case JB_GGML_TYPE_Q4_0: return JB_LLM_Q4_0;
    case JB_GGML_TYPE_Q4_K: return JB_LLM_Q4_K;
    case JB_GGML_TYPE_Q5_K: return JB_LLM_Q5_K;
    case JB_GGML_TYPE_Q6_K: return JB_LLM_Q6_K;
    default: return -1;
    }
}

struct loader {
    const uint8_t *data; /* start of the tensor data section */
    size_t data_len;
    struct tinfo *t;
    uint64_t nt;
    struct jb_llm_weights *w;
    char *err;
    size_t errlen;
};

static struct tinfo *find(struct loader *ld, const char *name)
{
    for (uint64_t i = 0; i < ld->nt; i++)
        if (str_is(ld->t[i].name, name))
            return &ld->t[i];
    return NULL;
}

/* Locates tensor `name` of shape [cols] (rows == 0) or [cols, rows] and
 * checks its type and extent. */
static int locate(struct loader *ld, const char *name, int64_t cols, int64_t rows,
                  struct tinfo **out, int *dtype, size_t *row_bytes)
{
    struct tinfo *t = find(ld, name);
    if (!t)
        return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: tensor %s missing", name);
    int dt = ggml_to_dtype(t->type);
    if (dt < 0)
        return jb_err(ld->err, ld->errlen, JB_ENOTSUP, "gguf: tensor %s has type %u, not "
                      "supported (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)", name, t->type);
    int want_dims = rows ? 2 : 1;
    for (uint32_t d = (uint32_t)want_dims; d < t->ndims; d++)
        if (t->ne[d] != 1)
            return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: tensor %s has %u dimensions, "
                          "expected %d", name, t->ndims, want_dims);
    uint64_t r = t->ndims >= 2 ? t->ne[1] : 1;
    if (t->ne[0] != (uint64_t)cols || r != (uint64_t)(rows ? rows : 1))
        return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: tensor %s has shape [%llu, %llu], "
                      "expected [%lld, %lld]", name, (unsigned long long)t->ne[0],
                      (unsigned long long)r, (long long)cols, (long long)(rows ? rows : 1));
    int be = jb_llm_block_elems((enum jb_llm_dtype)dt);
    if (cols % be)
        return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: tensor %s: %lld columns are not "
                      "whole blocks of %d", name, (long long)cols, be);
    size_t rb = jb_llm_row_bytes((enum jb_llm_dtype)dt, (int)cols);
    uint64_t nrows = rows ? (uint64_t)rows : 1;
    if (nrows > SIZE_MAX / rb || t->offset > ld->data_len ||
        nrows * rb > ld->data_len - t->offset)
        return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: tensor %s extends past the end of "
                      "the file", name);
    t->used = 1;
    *out = t;
    *dtype = dt;
    *row_bytes = rb;
    return 0;
}

static int load_matrix(struct loader *ld, const char *name, int64_t cols, int64_t rows,
                       struct jb_llm_matrix *m)
{
    struct tinfo *t;
    int dt, rc;
    size_t rb;
    if ((rc = locate(ld, name, cols, rows, &t, &dt, &rb)))
        return rc;
    m->dtype = (enum jb_llm_dtype)dt;
    m->rows = (int)rows;
    m->cols = (int)cols;
    m->row_bytes = rb;
    m->data = jb_llm_weights_alloc(ld->w, rb * (size_t)rows);
    if (!m->data)
        return jb_err(ld->err, ld->errlen, JB_ENOMEM, "gguf: cannot allocate tensor %s", name);
    memcpy(m->data, ld->data + t->offset, rb * (size_t)rows);
    ld->w->param_bytes += (double)rb * (double)rows;
    return 0;
}

static int load_norm(struct loader *ld, const char *name, int64_t n, float **out)
{
    struct tinfo *t;
    int dt, rc;
    size_t rb;
    if ((rc = locate(ld, name, n, 0, &t, &dt, &rb)))
        return rc;
    if (jb_llm_dtype_is_quant((enum jb_llm_dtype)dt))
        return jb_err(ld->err, ld->errlen, JB_ENOTSUP, "gguf: %s is quantized", name);
    *out = jb_llm_weights_alloc(ld->w, sizeof(float) * (size_t)n);
    if (!*out)
        return jb_err(ld->err, ld->errlen, JB_ENOMEM, "gguf: cannot allocate tensor %s", name);
    jb_llm_dequantize_row((enum jb_llm_dtype)dt, ld->data + t->offset, *out, (int)n);
    ld->w->param_bytes += 4.0 * (double)n;
    return 0;
}

static int build(struct loader *ld, const struct meta *m)
{
    struct jb_llm_weights *w = ld->w;
    struct jb_llm_config *c = &w->cfg;
    char name[96];
    int rc;
    int64_t hd = m->dim / m->heads, kvd = hd * m->kv_heads;
    struct tinfo *emb = find(ld, "token_embd.weight");
    if (!emb || emb->ndims < 2 || emb->ne[1] < 1 || emb->ne[1] > GGUF_MAX_WIDTH)
        return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: token_embd.weight missing or "
                      "without a vocabulary dimension");
    c->name = "gguf";
    c->dim = (int)m->dim;
    c->n_layers = (int)m->layers;
    c->n_heads = (int)m->heads;
    c->n_kv_heads = (int)m->kv_heads;
    c->hidden_dim = (int)m->hidden;
    c->vocab_size = (int)emb->ne[1];
    c->max_context = m->ctx > 0 && m->ctx < (1 << 24) ? (int)m->ctx : 2048;
    c->rope_theta = (float)m->theta;
    c->norm_eps = (float)m->eps;
    c->tied = find(ld, "output.weight") == NULL;
    if ((rc = load_matrix(ld, "token_embd.weight", m->dim, c->vocab_size, &w->token_embd)))
        return rc;
    w->layers = calloc((size_t)c->n_layers, sizeof(*w->layers));
    if (!w->layers)
        return jb_err(ld->err, ld->errlen, JB_ENOMEM, "gguf: out of memory");
    for (int l = 0; l < c->n_layers; l++) {
        struct jb_llm_layer *L = &w->layers[l];
#define T(suffix) (snprintf(name, sizeof(name), "blk.%d." suffix ".weight", l), name)
        if ((rc = load_norm(ld, T("attn_norm"), m->dim, &L->attn_norm)) ||
            (rc = load_matrix(ld, T("attn_q"), m->dim, m->dim, &L->wq)) ||
            (rc = load_matrix(ld, T("attn_k"), m->dim, kvd, &L->wk)) ||
            (rc = load_matrix(ld, T("attn_v"), m->dim, kvd, &L->wv)) ||
            (rc = load_matrix(ld, T("attn_output"), m->dim, m->dim, &L->wo)) ||
            (rc = load_norm(ld, T("ffn_norm"), m->dim, &L->ffn_norm)) ||
            (rc = load_matrix(ld, T("ffn_gate"), m->dim, m->hidden, &L->w_gate)) ||
            (rc = load_matrix(ld, T("ffn_up"), m->dim, m->hidden, &L->w_up)) ||
            (rc = load_matrix(ld, T("ffn_down"), m->hidden, m->dim, &L->w_down)))
            return rc;
#undef T
    }
    if ((rc = load_norm(ld, "output_norm.weight", m->dim, &w->output_norm)))
        return rc;
    if (c->tied)
        w->output = w->token_embd;
    else if ((rc = load_matrix(ld, "output.weight", m->dim, c->vocab_size, &w->output)))
        return rc;
    /* Llama 3.x long-context scaling: llama.cpp's converter stores the
     * divisor of each RoPE frequency as rope_freqs.weight [head_dim / 2]
     * (rather than the rope_scaling keys of config.json); its presence is
     * the file asking for it. */
    if (find(ld, "rope_freqs.weight")) {
        if ((rc = load_norm(ld, "rope_freqs.weight", hd / 2, &w->rope_factors)))
            return rc;
        for (int64_t i = 0; i < hd / 2; i++)
            if (!(w->rope_factors[i] > 0.0f && w->rope_factors[i] < 1e30f))
                return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: rope_freqs.weight[%lld] = "
                              "%g is not a positive factor", (long long)i,
                              (double)w->rope_factors[i]);
    }
    /* Linear scaling (positions divided by the factor, i.e. every frequency):
     * folded into the same divisors. */
    double lin = m->rope_linear_type ? m->rope_factor : m->rope_linear;
    if (lin != 0.0 && lin != 1.0) {
        if (!(lin > 0.0 && lin < 1e6))
            return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: RoPE linear scaling factor %g "
                          "out of range", lin);
        if (!w->rope_factors) {
            w->rope_factors = jb_llm_weights_alloc(w, sizeof(float) * (size_t)(hd / 2));
            if (!w->rope_factors)
                return jb_err(ld->err, ld->errlen, JB_ENOMEM, "gguf: out of memory");
            for (int64_t i = 0; i < hd / 2; i++)
                w->rope_factors[i] = 1.0f;
        }
        for (int64_t i = 0; i < hd / 2; i++)
            w->rope_factors[i] *= (float)lin;
    }
    for (uint64_t i = 0; i < ld->nt; i++)
        if (!ld->t[i].used)
            return jb_err(ld->err, ld->errlen, JB_EFORMAT, "gguf: unexpected tensor '%.*s' for "
                          "the llama architecture", (int)(ld->t[i].name.n > 64 ? 64 :
                          ld->t[i].name.n), ld->t[i].name.p);
    w->dtype = w->layers[0].wq.dtype;
    w->param_count = jb_llm_param_count(c);
    return 0;
}

static int check_meta(const struct meta *m, char *err, size_t errlen)
{
    if (!m->have_arch)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: general.architecture missing");
    if (m->dim <= 0 || m->layers <= 0 || m->heads <= 0 || m->hidden <= 0)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: llama.embedding_length, block_count, "
                      "attention.head_count or feed_forward_length missing");
    if (m->dim > GGUF_MAX_WIDTH || m->hidden > GGUF_MAX_WIDTH || m->layers > GGUF_MAX_LAYERS)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: model shape out of range");
    if (m->kv_heads <= 0 || m->dim % m->heads || m->heads % m->kv_heads ||
        (m->dim / m->heads) % 2)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: %lld heads / %lld kv heads do not divide "
                      "width %lld into even heads", (long long)m->heads, (long long)m->kv_heads,
                      (long long)m->dim);
    if (!(m->theta > 0.0) || !(m->eps > 0.0 && m->eps < 1.0))
        return jb_err(err, errlen, JB_EFORMAT, "gguf: rope.freq_base or rms epsilon out of range");
    return 0;
}

int jb_gguf_parse(const uint8_t *buf, size_t len, struct jb_pool *pool,
                  struct jb_llm_weights **out, char *err, size_t errlen)
{
    struct cursor c = {buf, len, 0};
    uint32_t magic = 0, version = 0;
    uint64_t nt, nkv;
    int rc = JB_OK;
    struct loader ld = {0};
    if (rd_u32(&c, &magic) || magic != GGUF_MAGIC)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: not a GGUF file (wrong magic)");
    if (rd_u32(&c, &version) || version < 2 || version > 3)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: version %u not supported (2, 3)", version);
    if (rd_u64(&c, &nt) || rd_u64(&c, &nkv))
        return jb_err(err, errlen, JB_EFORMAT, "gguf: header truncated");
    /* a pair takes at least 12 bytes, a tensor info at least 24 */
    if (nkv > len / 12 || nt > len / 24)
        return jb_err(err, errlen, JB_EFORMAT, "gguf: %llu tensors / %llu metadata pairs cannot "
                      "fit in %zu bytes", (unsigned long long)nt, (unsigned long long)nkv, len);
    struct meta m = {0, 0, 0, 0, 0, 0, 0, 10000.0, 1e-5, GGUF_DEFAULT_ALIGNMENT, 0.0, 0, 0.0};
    m.kv_heads = -1;
    for (uint64_t i = 0; i < nkv; i++)
        if ((rc = read_kv(&c, &m, err, errlen)))
            return rc;
    if (m.kv_heads < 0)
        m.kv_heads = m.heads;
    if ((rc = check_meta(&m, err, errlen)))
        return rc;
    ld.t = calloc(nt ? (size_t)nt : 1, sizeof(*ld.t));
    if (!ld.t)
        return jb_err(err, errlen, JB_ENOMEM, "gguf: out of memory");
    ld.nt = nt;
    for (uint64_t i = 0; i < nt; i++) {
        struct tinfo *t = &ld.t[i];
        if (rd_str(&c, &t->name) || rd_u32(&c, &t->ndims)) {
            rc = jb_err(err, errlen, JB_EFORMAT, "gguf: tensor info %llu truncated",
                        (unsigned long long)i);
            goto out;
        }
        if (t->ndims < 1 || t->ndims > GGUF_MAX_DIMS) {
            rc = jb_err(err, errlen, JB_EFORMAT, "gguf: tensor '%.*s' has %u dimensions",
                        (int)(t->name.n > 64 ? 64 : t->name.n), t->name.p, t->ndims);
            goto out;
        }
        for (uint32_t d = 0; d < t->ndims; d++)
            if (rd_u64(&c, &t->ne[d])) {
                rc = jb_err(err, errlen, JB_EFORMAT, "gguf: tensor info %llu truncated",
                            (unsigned long long)i);
                goto out;
            }
        if (rd_u32(&c, &t->type) || rd_u64(&c, &t->offset)) {
            rc = jb_err(err, errlen, JB_EFORMAT, "gguf: tensor info %llu truncated",
                        (unsigned long long)i);
            goto out;
        }
        if (t->offset % m.alignment) {
            rc = jb_err(err, errlen, JB_EFORMAT, "gguf: tensor '%.*s' offset %llu is not aligned "
                        "to %llu", (int)(t->name.n > 64 ? 64 : t->name.n), t->name.p,
                        (unsigned long long)t->offset, (unsigned long long)m.alignment);
            goto out;
        }
        for (uint64_t j = 0; j < i; j++)
            if (t->name.n == ld.t[j].name.n && !memcmp(t->name.p, ld.t[j].name.p, t->name.n)) {
                rc = jb_err(err, errlen, JB_EFORMAT, "gguf: tensor '%.*s' appears twice",
                            (int)(t->name.n > 64 ? 64 : t->name.n), t->name.p);
                goto out;
            }
    }
    size_t data_off = c.off + (size_t)((m.alignment - c.off % m.alignment) % m.alignment);
    if (data_off > len) {
        rc = jb_err(err, errlen, JB_EFORMAT, "gguf: no tensor data after the header");
        goto out;
    }
    ld.data = buf + data_off;
    ld.data_len = len - data_off;
    ld.err = err;
    ld.errlen = errlen;
    ld.w = calloc(1, sizeof(*ld.w));
    if (!ld.w) {
        rc = jb_err(err, errlen, JB_ENOMEM, "gguf: out of memory");
        goto out;
    }
    ld.w->pool = pool;
    if ((rc = build(&ld, &m)))
        goto out;
    *out = ld.w;
    ld.w = NULL;
out:
    jb_llm_weights_free(ld.w);
    free(ld.t);
    return rc;
}

int jb_gguf_load(const char *path, size_t max_bytes, struct jb_pool *pool,
                 struct jb_llm_weights **out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0)
        return jb_err(err, errlen, errno == ENOENT ? JB_ENOENT : JB_EIO, "gguf: %s: %s", path,
                      strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return jb_err(err, errlen, JB_EIO, "gguf: %s: not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    if (max_bytes && len > max_bytes) {
        close(fd);
        return jb_err(err, errlen, JB_ENOMEM, "gguf: %s (%.1f GB) does not fit in memory", path,
                      (double)len / 1e9);
    }
    if (len == 0) {
        close(fd);
        return jb_err(err, errlen, JB_EFORMAT, "gguf: %s is empty", path);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return jb_err(err, errlen, JB_EIO, "gguf: %s: mmap: %s", path, strerror(errno));
    rc = jb_gguf_parse(map, len, pool, out, err, errlen);
    munmap(map, len);
    return rc;
}
