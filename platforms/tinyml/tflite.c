/* tflite.c: the TFLite flatbuffer reader (see tflite.h).
 *
 * Flatbuffer layout (google/flatbuffers, "FlatBuffers internals"): the file
 * starts with a uint32 offset to the root table and, at byte 4, the file
 * identifier ("TFL3"). A table starts with an int32 soffset; table minus it
 * is the table's vtable: uint16 vtable size, uint16 table size, then one
 * uint16 per field (0: absent, else the field's offset inside the table).
 * Offsets to tables, vectors and strings are uint32, relative to where
 * they are stored; a vector or string is a uint32 count then its elements.
 * All little-endian. Every read below goes through struct rd, which checks
 * the bytes it touches against the buffer's size first; a failure records
 * the first error (what, and at which offset) and every later read fails. */
#include "platforms/tinyml/tflite.h"

#include "base/error.h"
#include "base/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference models are at most about 1 MiB; a limit keeps a hostile
 * size field from becoming a huge allocation. */
#define TFL_MAX_FILE (64u << 20)
/* Tensors and operators per subgraph: TinyML graphs have tens. */
#define TFL_MAX_TENSORS 4096
#define TFL_MAX_OPS 4096

struct rd {
    const uint8_t *b;
    size_t n;
    const char *name;
    char *err;
    size_t errlen;
    int rc;
};

static int fail(struct rd *r, size_t at, const char *what)
{
    if (!r->rc)
        r->rc = jb_err(r->err, r->errlen, JB_EFORMAT, "%s: malformed TFLite file: %s (byte %zu)",
                       r->name, what, at);
    return r->rc;
}

/* Little-endian loads, bounds already checked by the caller. */
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int in_bounds(const struct rd *r, size_t at, size_t len)
{
    return at <= r->n && len <= r->n - at;
}

/* A table: its position, vtable position and sizes. */
struct tbl {
    size_t pos, vt;
    uint16_t vsize, tsize;
};

static int table_at(struct rd *r, size_t pos, struct tbl *t, const char *what)
{
    memset(t, 0, sizeof(*t));
    if (r->rc)
        return r->rc;
    if (!in_bounds(r, pos, 4))
        return fail(r, pos, what);
    int32_t so = (int32_t)le32(r->b + pos);
    long long vt = (long long)pos - so;
    if (vt < 0 || !in_bounds(r, (size_t)vt, 4))
        return fail(r, pos, "table's vtable outside the file");
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vsize = le16(r->b + t->vt);
    t->tsize = le16(r->b + t->vt + 2);
    if (t->vsize < 4 || t->vsize % 2 || !in_bounds(r, t->vt, t->vsize))
        return fail(r, t->vt, "bad vtable size");
    if (t->tsize < 4 || !in_bounds(r, pos, t->tsize))
        return fail(r, pos, "table runs past the end of the file");
    return 0;
}

/* Absolute position of field `id` of size `sz`, or 0 when absent. */
static size_t field(struct rd *r, const struct tbl *t, int id, size_t sz)
{
    if (r->rc || !t->vsize)
        return 0;
    size_t slot = 4 + 2 * (size_t)id;
    if (slot + 2 > t->vsize)
        return 0;
    uint16_t off = le16(r->b + t->vt + slot);
    if (!off)
        return 0;
    if (off < 4 || (size_t)off + sz > t->tsize) {
        fail(r, t->pos, "field outside its table");
        return 0;
    }
    return t->pos + off;
}

static int64_t get_int(struct rd *r, const struct tbl *t, int id, size_t sz, int64_t dflt)
{
    size_t at = field(r, t, id, sz);
    if (!at)
        return dflt;
    const uint8_t *p = r->b + at;
    switch (sz) {
    case 1:
        return (int8_t)p[0];
    case 2:
        return (int16_t)le16(p);
    default:
        return (int32_t)le32(p);
    }
}

static uint32_t get_u32(struct rd *r, const struct tbl *t, int id, uint32_t dflt)
{
    size_t at = field(r, t, id, 4);
    return at ? le32(r->b + at) : dflt;
}

static float get_f32(struct rd *r, const struct tbl *t, int id, float dflt)
{
    size_t at = field(r, t, id, 4);
    if (!at)
        return dflt;
    uint32_t u = le32(r->b + at);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Follows the uoffset stored at `at`; 0 when it leaves the file. */
static size_t follow(struct rd *r, size_t at, const char *what)
{
    if (r->rc)
        return 0;
    if (!in_bounds(r, at, 4)) {
        fail(r, at, what);
        return 0;
    }
    uint32_t u = le32(r->b + at);
    if (!u || !in_bounds(r, at + u, 4)) {
        fail(r, at, what);
        return 0;
    }
    return at + u;
}

/* A vector field: *count elements of esz bytes at *data. Returns 0 when
 * the field is absent (count 0), 1 when present, -1 on error. */
static int vec(struct rd *r, const struct tbl *t, int id, size_t esz, size_t *data, size_t *count,
               const char *what)
{
    *data = 0;
    *count = 0;
    size_t at = field(r, t, id, 4);
    if (!at)
        return r->rc ? -1 : 0;
    size_t v = follow(r, at, what);
    if (!v)
        return -1;
    uint32_t cnt = le32(r->b + v);
    if (esz && cnt > (r->n - v - 4) / esz) {
        fail(r, v, what);
        return -1;
    }
    *data = v + 4;
    *count = cnt;
    return 1;
}

/* Element i of a vector of tables. */
static int vec_table(struct rd *r, size_t data, size_t i, struct tbl *t, const char *what)
{
    size_t at = data + 4 * i;
    size_t pos = follow(r, at, what);
    if (!pos)
        return r->rc;
    return table_at(r, pos, t, what);
}

/* A sub-table field; returns 1 present, 0 absent, -1 error. */
static int sub_table(struct rd *r, const struct tbl *t, int id, struct tbl *out, const char *what)
{
    memset(out, 0, sizeof(*out));
    size_t at = field(r, t, id, 4);
    if (!at)
        return r->rc ? -1 : 0;
    size_t pos = follow(r, at, what);
    if (!pos || table_at(r, pos, out, what))
        return -1;
    return 1;
}

static void get_string(struct rd *r, const struct tbl *t, int id, char *dst, size_t n)
{
    size_t data, count;
    dst[0] = 0;
    if (vec(r, t, id, 1, &data, &count, "string runs past the end of the file") <= 0)
        return;
    size_t k = count < n - 1 ? count : n - 1;
    for (size_t i = 0; i < k; i++) {
        uint8_t c = r->b[data + i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[k] = 0;
}

const char *jb_tfl_opcode_name(int opcode)
{
    switch (opcode) {
    case 0:
        return "ADD";
    case 1:
        return "AVERAGE_POOL_2D";
    case 2:
        return "CONCATENATION";
    case 3:
        return "CONV_2D";
    case 4:
        return "DEPTHWISE_CONV_2D";
    case 6:
        return "DEQUANTIZE";
    case 9:
        return "FULLY_CONNECTED";
    case 14:
        return "LOGISTIC";
    case 17:
        return "MAX_POOL_2D";
    case 18:
        return "MUL";
    case 19:
        return "RELU";
    case 21:
        return "RELU6";
    case 22:
        return "RESHAPE";
    case 25:
        return "SOFTMAX";
    case 28:
        return "TANH";
    case 32:
        return "CUSTOM";
    case 34:
        return "PAD";
    case 39:
        return "TRANSPOSE";
    case 40:
        return "MEAN";
    case 41:
        return "SUB";
    case 43:
        return "SQUEEZE";
    case 114:
        return "QUANTIZE";
    default:
        return NULL;
    }
}

size_t jb_tfl_type_size(int type)
{
    switch (type) {
    case JB_TFL_FLOAT32:
    case JB_TFL_INT32:
        return 4;
    case JB_TFL_INT64:
        return 8;
    case JB_TFL_INT16:
        return 2;
    case JB_TFL_UINT8:
    case JB_TFL_INT8:
    case 6: /* BOOL */
        return 1;
    default:
        return 0;
    }
}

void jb_tfl_free(struct jb_tfl_model *m)
{
    if (!m)
        return;
    for (int i = 0; m->tensors && i < m->n_tensors; i++) {
        free(m->tensors[i].scale);
        free(m->tensors[i].zero_point);
        free(m->tensors[i].data);
    }
    free(m->tensors);
    free(m->ops);
    free(m->inputs);
    free(m->outputs);
    free(m);
}

/* Reads a vector of int32 tensor indices (subgraph inputs/outputs, operator
 * inputs/outputs), each in [-1, n_tensors). */
static int read_indices(struct rd *r, const struct tbl *t, int id, int n_tensors, int *dst, int cap,
                        int *count, const char *what)
{
    size_t data, cnt;
    *count = 0;
    if (vec(r, t, id, 4, &data, &cnt, what) < 0)
        return r->rc;
    if (cnt > (size_t)cap)
        return fail(r, data, what);
    for (size_t i = 0; i < cnt; i++) {
        int32_t v = (int32_t)le32(r->b + data + 4 * i);
        if (v < -1 || v >= n_tensors)
            return fail(r, data + 4 * i, "tensor index out of range");
        dst[i] = v;
    }
    *count = (int)cnt;
    return 0;
}

static int read_quant(struct rd *r, const struct tbl *tt, struct jb_tfl_tensor *t)
{
    struct tbl q;
    int has = sub_table(r, tt, 4, &q, "tensor quantization outside the file");
    if (has <= 0)
        return r->rc;
    size_t sd, sn, zd, zn;
    if (vec(r, &q, 2, 4, &sd, &sn, "quantization scales run past the end of the file") < 0 ||
        vec(r, &q, 3, 8, &zd, &zn, "quantization zero points run past the end of the file") < 0)
        return r->rc;
    if (zn && zn != sn)
        return fail(r, zd, "quantization: as many zero points as scales expected");
    if (sn > (size_t)1 << 20)
        return fail(r, sd, "quantization: too many scales");
    t->q_dim = (int)get_int(r, &q, 6, 4, 0);
    if (!sn)
        return r->rc;
    t->scale = malloc(sn * sizeof(float));
    t->zero_point = calloc(sn, sizeof(int64_t));
    if (!t->scale || !t->zero_point)
        return r->rc = jb_err(r->err, r->errlen, JB_ENOMEM, "%s: out of memory", r->name);
    for (size_t i = 0; i < sn; i++) {
        uint32_t u = le32(r->b + sd + 4 * i);
        memcpy(&t->scale[i], &u, 4);
        if (zn) {
            uint64_t lo = le32(r->b + zd + 8 * i), hi = le32(r->b + zd + 8 * i + 4);
            t->zero_point[i] = (int64_t)(lo | hi << 32);
        }
    }
    t->n_q = (int)sn;
    return 0;
}

static int read_tensor(struct rd *r, size_t tdata, size_t i, size_t buf_data, size_t n_buffers,
                       struct jb_tfl_tensor *t)
{
    struct tbl tt;
    if (vec_table(r, tdata, i, &tt, "tensor table outside the file"))
        return r->rc;
    size_t sd, sn;
    if (vec(r, &tt, 0, 4, &sd, &sn, "tensor shape runs past the end of the file") < 0)
        return r->rc;
    if (sn > JB_TFL_MAX_RANK)
        return fail(r, sd, "tensor rank above 6");
    t->rank = (int)sn;
    t->elems = 1;
    for (size_t k = 0; k < sn; k++) {
        int32_t d = (int32_t)le32(r->b + sd + 4 * k);
        if (d < 0 || d > (1 << 24))
            return fail(r, sd + 4 * k, "tensor dimension negative or above 2^24");
        t->shape[k] = d;
        if (d && t->elems > ((size_t)1 << 32) / (size_t)d)
            return fail(r, sd, "tensor of more than 2^32 elements");
        t->elems *= (size_t)d;
    }
    t->type = (int)get_int(r, &tt, 1, 1, 0);
    uint32_t buf = get_u32(r, &tt, 2, 0);
    get_string(r, &tt, 3, t->name, sizeof(t->name));
    if (r->rc || read_quant(r, &tt, t))
        return r->rc;
    if (buf >= n_buffers && buf != 0)
        return fail(r, tt.pos, "tensor's buffer index out of range");
    if (!buf || !n_buffers)
        return 0;
    struct tbl bt;
    if (vec_table(r, buf_data, buf, &bt, "buffer table outside the file"))
        return r->rc;
    size_t dd, dn;
    if (vec(r, &bt, 0, 1, &dd, &dn, "buffer data runs past the end of the file") < 0)
        return r->rc;
    /* buffers stored after the flatbuffer (offset/size fields, for models
     * over 2 GiB) are not read: the TinyML models never use them */
    if (!dn && (get_int(r, &bt, 1, 4, 0) || get_int(r, &bt, 2, 4, 0)))
        return fail(r, bt.pos, "buffer stored outside the flatbuffer (not supported)");
    if (!dn)
        return 0;
    size_t es = jb_tfl_type_size(t->type);
    if (!es || dn != t->elems * es)
        return fail(r, dd, "constant tensor's data size does not match its shape and type");
    t->data = malloc(dn);
    if (!t->data)
        return r->rc = jb_err(r->err, r->errlen, JB_ENOMEM, "%s: out of memory", r->name);
    memcpy(t->data, r->b + dd, dn);
    t->data_bytes = dn;
    return 0;
}

/* Builtin options of one operator (union type in field 3, table in 4). */
static int read_options(struct rd *r, const struct tbl *ot, struct jb_tfl_op *op)
{
    op->stride_w = op->stride_h = op->dilation_w = op->dilation_h = 1;
    op->filter_w = op->filter_h = 1;
    op->depth_multiplier = 1;
    op->beta = 1.0f;
    int type = (int)(uint8_t)get_int(r, ot, 3, 1, 0);
    struct tbl o;
    int has = sub_table(r, ot, 4, &o, "operator options outside the file");
    if (has < 0)
        return r->rc;
    if (!has)
        return 0;
    switch (type) {
    case 1: /* Conv2DOptions */
        op->padding_same = get_int(r, &o, 0, 1, 0) == 0;
        op->stride_w = (int)get_int(r, &o, 1, 4, 0);
        op->stride_h = (int)get_int(r, &o, 2, 4, 0);
        op->act = (int)get_int(r, &o, 3, 1, 0);
        op->dilation_w = (int)get_int(r, &o, 4, 4, 1);
        op->dilation_h = (int)get_int(r, &o, 5, 4, 1);
        break;
    case 2: /* DepthwiseConv2DOptions */
        op->padding_same = get_int(r, &o, 0, 1, 0) == 0;
        op->stride_w = (int)get_int(r, &o, 1, 4, 0);
        op->stride_h = (int)get_int(r, &o, 2, 4, 0);
        op->depth_multiplier = (int)get_int(r, &o, 3, 4, 0);
        op->act = (int)get_int(r, &o, 4, 1, 0);
        op->dilation_w = (int)get_int(r, &o, 5, 4, 1);
        op->dilation_h = (int)get_int(r, &o, 6, 4, 1);
        break;
    case 5: /* Pool2DOptions */
        op->padding_same = get_int(r, &o, 0, 1, 0) == 0;
        op->stride_w = (int)get_int(r, &o, 1, 4, 0);
        op->stride_h = (int)get_int(r, &o, 2, 4, 0);
        op->filter_w = (int)get_int(r, &o, 3, 4, 0);
        op->filter_h = (int)get_int(r, &o, 4, 4, 0);
        op->act = (int)get_int(r, &o, 5, 1, 0);
        break;
    case 8: /* FullyConnectedOptions */
        op->act = (int)get_int(r, &o, 0, 1, 0);
        op->weights_format = (int)get_int(r, &o, 1, 1, 0);
        op->keep_num_dims = (int)get_int(r, &o, 2, 1, 0);
        break;
    case 9: /* SoftmaxOptions */
        op->beta = get_f32(r, &o, 0, 0.0f);
        break;
    case 11: /* AddOptions */
        op->act = (int)get_int(r, &o, 0, 1, 0);
        break;
    default: /* ReshapeOptions (its new_shape repeats the output's shape), others */
        break;
    }
    return r->rc;
}

static int read_ops(struct rd *r, const struct tbl *sg, const int *codes, const int *versions,
                    size_t n_codes, struct jb_tfl_model *m)
{
    size_t od, on;
    if (vec(r, sg, 3, 4, &od, &on, "operator list runs past the end of the file") < 0)
        return r->rc;
    if (on > TFL_MAX_OPS)
        return fail(r, od, "more than 4096 operators");
    m->ops = calloc(on ? on : 1, sizeof(*m->ops));
    if (!m->ops)
        return r->rc = jb_err(r->err, r->errlen, JB_ENOMEM, "%s: out of memory", r->name);
    m->n_ops = (int)on;
    for (size_t i = 0; i < on; i++) {
        struct jb_tfl_op *op = &m->ops[i];
        struct tbl ot;
        if (vec_table(r, od, i, &ot, "operator table outside the file"))
            return r->rc;
        uint32_t ci = get_u32(r, &ot, 0, 0);
        if (ci >= n_codes)
            return fail(r, ot.pos, "operator's opcode index out of range");
        op->opcode = codes[ci];
        op->version = versions[ci];
        if (read_indices(r, &ot, 1, m->n_tensors, op->in, JB_TFL_MAX_OP_IO, &op->n_in,
                         "operator inputs") ||
            read_indices(r, &ot, 2, m->n_tensors, op->out, JB_TFL_MAX_OP_IO, &op->n_out,
                         "operator outputs") ||
            read_options(r, &ot, op))
            return r->rc;
    }
    return 0;
}

int jb_tfl_parse(const uint8_t *buf, size_t n, const char *name, struct jb_tfl_model **out,
                 char *err, size_t errlen)
{
    struct rd r = {buf, n, name ? name : "tflite", err, errlen, 0};
    struct jb_tfl_model *m = NULL;
    int *codes = NULL, *versions = NULL;
    *out = NULL;
    if (n < 8)
        return fail(&r, 0, "shorter than a flatbuffer header");
    if (n > TFL_MAX_FILE)
        return fail(&r, 0, "larger than 64 MiB");
    if (memcmp(buf + 4, "TFL3", 4))
        return fail(&r, 4, "no TFL3 file identifier (not a TFLite model)");
    m = calloc(1, sizeof(*m));
    if (!m)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", r.name);
    struct tbl root, sg;
    size_t rp = follow(&r, 0, "root table offset outside the file");
    if (!rp || table_at(&r, rp, &root, "root table"))
        goto out;
    m->version = get_u32(&r, &root, 0, 0);
    if (!r.rc && m->version != 3) {
        r.rc = jb_err(err, errlen, JB_EFORMAT, "%s: TFLite schema version %u (3 expected)", r.name,
                      m->version);
        goto out;
    }
    /* operator codes: builtin_code (field 3) supersedes the deprecated byte
     * (field 0) from schema 3a on; the larger of the two is the code */
    size_t cd, cn;
    if (vec(&r, &root, 1, 4, &cd, &cn, "operator code list runs past the end of the file") < 0)
        goto out;
    if (cn > TFL_MAX_OPS) {
        fail(&r, cd, "more than 4096 operator codes");
        goto out;
    }
    codes = calloc(cn ? cn : 1, sizeof(int));
    versions = calloc(cn ? cn : 1, sizeof(int));
    if (!codes || !versions) {
        r.rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", r.name);
        goto out;
    }
    for (size_t i = 0; i < cn; i++) {
        struct tbl ct;
        if (vec_table(&r, cd, i, &ct, "operator code table outside the file"))
            goto out;
        int dep = (int)get_int(&r, &ct, 0, 1, 0);
        int code = (int)get_int(&r, &ct, 3, 4, 0);
        codes[i] = dep > code ? dep : code;
        versions[i] = (int)get_int(&r, &ct, 2, 4, 1);
    }
    size_t bd, bn;
    if (vec(&r, &root, 4, 4, &bd, &bn, "buffer list runs past the end of the file") < 0)
        goto out;
    size_t sd, sn;
    if (vec(&r, &root, 2, 4, &sd, &sn, "subgraph list runs past the end of the file") < 0)
        goto out;
    if (!sn) {
        fail(&r, rp, "no subgraph");
        goto out;
    }
    m->n_subgraphs = sn > 1000 ? 1000 : (int)sn;
    if (vec_table(&r, sd, 0, &sg, "subgraph table outside the file"))
        goto out;
    size_t td, tn;
    if (vec(&r, &sg, 0, 4, &td, &tn, "tensor list runs past the end of the file") < 0)
        goto out;
    if (tn > TFL_MAX_TENSORS) {
        fail(&r, td, "more than 4096 tensors");
        goto out;
    }
    m->tensors = calloc(tn ? tn : 1, sizeof(*m->tensors));
    if (!m->tensors) {
        r.rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", r.name);
        goto out;
    }
    m->n_tensors = (int)tn;
    for (size_t i = 0; i < tn; i++)
        if (read_tensor(&r, td, i, bd, bn, &m->tensors[i]))
            goto out;
    m->inputs = calloc(JB_TFL_MAX_OP_IO, sizeof(int));
    m->outputs = calloc(JB_TFL_MAX_OP_IO, sizeof(int));
    if (!m->inputs || !m->outputs) {
        r.rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", r.name);
        goto out;
    }
    if (read_indices(&r, &sg, 1, m->n_tensors, m->inputs, JB_TFL_MAX_OP_IO, &m->n_inputs,
                     "subgraph inputs") ||
        read_indices(&r, &sg, 2, m->n_tensors, m->outputs, JB_TFL_MAX_OP_IO, &m->n_outputs,
                     "subgraph outputs") ||
        read_ops(&r, &sg, codes, versions, cn, m))
        goto out;
    if (jb_sha256_hex(buf, n, m->sha256)) {
        r.rc = jb_err(err, errlen, JB_EIO, "%s: sha256 failed", r.name);
        goto out;
    }
out:
    free(codes);
    free(versions);
    if (r.rc) {
        jb_tfl_free(m);
        return r.rc;
    }
    *out = m;
    return JB_OK;
}

int jb_tfl_load(const char *path, struct jb_tfl_model **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return jb_err(err, errlen, errno == ENOENT ? JB_ENOENT : JB_EIO, "%s: %s", path,
                      strerror(errno));
    int rc = JB_OK;
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = jb_err(err, errlen, JB_EIO, "%s: cannot size the file", path);
        goto out;
    }
    if ((unsigned long)size > TFL_MAX_FILE) {
        rc = jb_err(err, errlen, JB_EFORMAT, "%s: %ld bytes, larger than a TinyML model (64 MiB)",
                    path, size);
        goto out;
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        rc = jb_err(err, errlen, JB_EIO, "%s: read error", path);
        goto out;
    }
    rc = jb_tfl_parse(buf, (size_t)size, path, out, err, errlen);
out:
    free(buf);
    fclose(f);
    return rc;
}
