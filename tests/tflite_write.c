/* tflite_write.c: a minimal TFLite flatbuffer writer for the tests (see
 * tflite_write.h). Objects are written front to back: a parent first, with
 * its offset fields zero, each child after it, then the parent's field is
 * patched to point forward at the child (uoffsets are unsigned). A table is
 * preceded by its vtable; every table field takes a 4-byte slot. */
#include "tests/tflite_write.h"
#include "platforms/tinyml/tflite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    uint8_t *b;
    size_t n, cap;
};

static void grow(struct buf *w, size_t more)
{
    if (w->n + more <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->n + more)
        cap *= 2;
    w->b = realloc(w->b, cap);
    if (!w->b)
        abort();
    memset(w->b + w->cap, 0, cap - w->cap);
    w->cap = cap;
}

static void align(struct buf *w, size_t a)
{
    grow(w, a);
    while (w->n % a)
        w->b[w->n++] = 0;
}

static void put32(struct buf *w, size_t at, uint32_t v)
{
    w->b[at] = (uint8_t)v;
    w->b[at + 1] = (uint8_t)(v >> 8);
    w->b[at + 2] = (uint8_t)(v >> 16);
    w->b[at + 3] = (uint8_t)(v >> 24);
}

static size_t emit32(struct buf *w, uint32_t v)
{
    grow(w, 4);
    size_t at = w->n;
    put32(w, at, v);
    w->n += 4;
    return at;
}

/* Field slot kinds of a table. */
enum { F_ABSENT = 0, F_U32, F_BYTE, F_OFF };

/* Writes a vtable and a table of nf fields; returns the table's position.
 * Field i lives at table + 4 + 4 i. */
static size_t table(struct buf *w, int nf, const int *kind, const uint32_t *val)
{
    align(w, 4);
    size_t vsize = 4 + 2 * (size_t)nf, vt = w->n;
    size_t vpad = (vsize + 3) / 4 * 4;
    grow(w, vpad + 4 + 4 * (size_t)nf);
    size_t tpos = vt + vpad;
    w->b[vt] = (uint8_t)vsize;
    w->b[vt + 1] = (uint8_t)(vsize >> 8);
    size_t tsize = 4 + 4 * (size_t)nf;
    w->b[vt + 2] = (uint8_t)tsize;
    w->b[vt + 3] = (uint8_t)(tsize >> 8);
    for (int i = 0; i < nf; i++) {
        uint16_t off = kind[i] == F_ABSENT ? 0 : (uint16_t)(4 + 4 * i);
        w->b[vt + 4 + 2 * i] = (uint8_t)off;
        w->b[vt + 5 + 2 * i] = (uint8_t)(off >> 8);
    }
    w->n = tpos;
    emit32(w, (uint32_t)(tpos - vt)); /* soffset: table - vtable */
    for (int i = 0; i < nf; i++)
        emit32(w, kind[i] == F_OFF || kind[i] == F_ABSENT ? 0 : val[i]);
    return tpos;
}

static void patch(struct buf *w, size_t field, size_t target)
{
    put32(w, field, (uint32_t)(target - field));
}

/* A vector of count elements of esz bytes, elements aligned to ealign. */
static size_t vec(struct buf *w, const void *elems, size_t count, size_t esz, size_t ealign)
{
    align(w, 4);
    while ((w->n + 4) % ealign)
        emit32(w, 0);
    size_t at = emit32(w, (uint32_t)count);
    grow(w, count * esz + 1);
    if (count)
        memcpy(w->b + w->n, elems, count * esz);
    w->n += count * esz;
    return at;
}

static size_t str(struct buf *w, const char *s)
{
    size_t at = vec(w, s, strlen(s), 1, 1);
    grow(w, 1);
    w->b[w->n++] = 0;
    return at;
}

/* A vector of n table offsets, to be patched; returns the first slot. */
static size_t offvec(struct buf *w, size_t n)
{
    align(w, 4);
    emit32(w, (uint32_t)n);
    size_t first = w->n;
    for (size_t i = 0; i < n; i++)
        emit32(w, 0);
    return first;
}

static size_t write_tensor(struct buf *w, const struct tfw_tensor *t, uint32_t buffer)
{
    int kind[5] = {F_OFF, F_BYTE, F_U32, F_OFF, t->n_q ? F_OFF : F_ABSENT};
    uint32_t val[5] = {0, (uint32_t)t->type, buffer, 0, 0};
    size_t tp = table(w, 5, kind, val);
    patch(w, tp + 4, vec(w, t->shape, (size_t)t->rank, 4, 4));
    patch(w, tp + 16, str(w, t->name ? t->name : "t"));
    if (t->n_q) {
        int qk[7] = {F_ABSENT, F_ABSENT, F_OFF, F_OFF, F_ABSENT, F_ABSENT, F_U32};
        uint32_t qv[7] = {0, 0, 0, 0, 0, 0, (uint32_t)t->q_dim};
        size_t qp = table(w, 7, qk, qv);
        patch(w, tp + 20, qp);
        patch(w, qp + 12, vec(w, t->scale, (size_t)t->n_q, 4, 4));
        patch(w, qp + 16, vec(w, t->zero_point, (size_t)t->n_q, 8, 8));
    }
    return tp;
}

static size_t write_op(struct buf *w, const struct tfw_op *o, uint32_t code_index)
{
    int kind[5] = {F_U32, F_OFF, F_OFF, o->opt_type ? F_BYTE : F_ABSENT,
                   o->opt_type ? F_OFF : F_ABSENT};
    uint32_t val[5] = {code_index, 0, 0, (uint32_t)o->opt_type, 0};
    size_t op = table(w, 5, kind, val);
    int32_t outs[1] = {o->out};
    patch(w, op + 8, vec(w, o->in, (size_t)o->n_in, 4, 4));
    patch(w, op + 12, vec(w, outs, 1, 4, 4));
    if (o->opt_type) {
        int ok[8];
        for (int i = 0; i < o->n_opts; i++)
            ok[i] = o->opt_is_byte[i] ? F_BYTE : F_U32;
        patch(w, op + 20, table(w, o->n_opts, ok, o->opts));
    }
    return op;
}

uint8_t *tfw_write(const struct tfw_model *m, size_t *len)
{
    struct buf w = {0};
    emit32(&w, 0); /* root offset, patched */
    grow(&w, 4);
    memcpy(w.b + 4, "TFL3", 4);
    w.n = 8;
    /* Model: version, operator_codes, subgraphs, description, buffers */
    int mk[5] = {F_U32, F_OFF, F_OFF, F_ABSENT, F_OFF};
    uint32_t mv[5] = {3, 0, 0, 0, 0};
    size_t model = table(&w, 5, mk, mv);
    put32(&w, 0, (uint32_t)model);
    /* operator codes: one per distinct opcode, in first-use order */
    int codes[64], n_codes = 0;
    uint32_t op_code_index[256];
    for (int i = 0; i < m->n_ops; i++) {
        int k = 0;
        while (k < n_codes && codes[k] != m->ops[i].opcode)
            k++;
        if (k == n_codes)
            codes[n_codes++] = m->ops[i].opcode;
        op_code_index[i] = (uint32_t)k;
    }
    size_t cslots = offvec(&w, (size_t)n_codes);
    patch(&w, model + 8, cslots - 4);
    for (int k = 0; k < n_codes; k++) {
        int ck[4] = {F_BYTE, F_ABSENT, F_U32, F_U32};
        uint32_t cv[4] = {(uint32_t)(codes[k] < 127 ? codes[k] : 127), 0, 1, (uint32_t)codes[k]};
        patch(&w, cslots + 4 * (size_t)k, table(&w, 4, ck, cv));
    }
    /* one subgraph: tensors, inputs, outputs, operators */
    size_t sslot = offvec(&w, 1);
    patch(&w, model + 12, sslot - 4);
    int sk[4] = {F_OFF, F_OFF, F_OFF, F_OFF};
    uint32_t sv[4] = {0};
    size_t sg = table(&w, 4, sk, sv);
    patch(&w, sslot, sg);
    size_t tslots = offvec(&w, (size_t)m->n_tensors);
    patch(&w, sg + 4, tslots - 4);
    uint32_t next_buf = 1;
    for (int i = 0; i < m->n_tensors; i++) {
        size_t tp = write_tensor(&w, &m->tensors[i], m->tensors[i].data ? next_buf++ : 0);
        patch(&w, tslots + 4 * (size_t)i, tp);
    }
    int32_t in[2] = {m->input, m->extra_input}, out[1] = {m->output};
    patch(&w, sg + 8, vec(&w, in, m->n_extra_inputs ? 2 : 1, 4, 4));
    patch(&w, sg + 12, vec(&w, out, 1, 4, 4));
    size_t oslots = offvec(&w, (size_t)m->n_ops);
    patch(&w, sg + 16, oslots - 4);
    for (int i = 0; i < m->n_ops; i++) {
        patch(&w, oslots + 4 * (size_t)i, write_op(&w, &m->ops[i], op_code_index[i]));
    }
    /* buffers: 0 empty, then one per constant tensor */
    size_t bslots = offvec(&w, next_buf);
    patch(&w, model + 20, bslots - 4);
    int ek[1] = {F_ABSENT};
    uint32_t ev[1] = {0};
    patch(&w, bslots, table(&w, 1, ek, ev));
    uint32_t b = 1;
    for (int i = 0; i < m->n_tensors; i++) {
        const struct tfw_tensor *t = &m->tensors[i];
        if (!t->data)
            continue;
        int bk[1] = {F_OFF};
        uint32_t bv[1] = {0};
        size_t bt = table(&w, 1, bk, bv);
        patch(&w, bslots + 4 * (size_t)b++, bt);
        patch(&w, bt + 4, vec(&w, t->data, t->data_bytes, 1, 16));
    }
    *len = w.n;
    return w.b;
}

uint8_t *tfw_from_tfl(const struct jb_tfl_model *f, const int *ops, int n_ops, const int *inputs,
                      int n_inputs, int output, size_t *len)
{
    struct tfw_tensor *t = calloc((size_t)f->n_tensors + 1, sizeof(*t));
    struct tfw_op *o = calloc((size_t)n_ops + 1, sizeof(*o));
    if (!t || !o)
        abort();
    for (int i = 0; i < f->n_tensors; i++) {
        const struct jb_tfl_tensor *x = &f->tensors[i];
        t[i] = (struct tfw_tensor){x->name, x->type,  x->rank < 4 ? x->rank : 4,
                                   {0},     x->data,  x->data_bytes,
                                   x->n_q,  x->scale, x->zero_point,
                                   x->q_dim};
        for (int k = 0; k < t[i].rank; k++)
            t[i].shape[k] = x->shape[k];
    }
    for (int k = 0; k < n_ops; k++) {
        const struct jb_tfl_op *p = &f->ops[ops[k]];
        struct tfw_op *q = &o[k];
        q->opcode = p->opcode;
        q->n_in = p->n_in < 3 ? p->n_in : 3;
        for (int j = 0; j < q->n_in; j++)
            q->in[j] = p->in[j];
        q->out = p->out[0];
        uint32_t pad = p->padding_same ? 0 : 1;
        uint32_t sw = (uint32_t)p->stride_w, sh = (uint32_t)p->stride_h, act = (uint32_t)p->act;
        switch (p->opcode) {
        case JB_TFL_CONV_2D: {
            uint32_t v[6] = {pad, sw, sh, act, (uint32_t)p->dilation_w, (uint32_t)p->dilation_h};
            int b[6] = {1, 0, 0, 1, 0, 0};
            q->opt_type = 1;
            q->n_opts = 6;
            memcpy(q->opts, v, sizeof(v));
            memcpy(q->opt_is_byte, b, sizeof(b));
            break;
        }
        case JB_TFL_DEPTHWISE_CONV_2D: {
            uint32_t v[7] = {pad,
                             sw,
                             sh,
                             (uint32_t)p->depth_multiplier,
                             act,
                             (uint32_t)p->dilation_w,
                             (uint32_t)p->dilation_h};
            int b[7] = {1, 0, 0, 0, 1, 0, 0};
            q->opt_type = 2;
            q->n_opts = 7;
            memcpy(q->opts, v, sizeof(v));
            memcpy(q->opt_is_byte, b, sizeof(b));
            break;
        }
        case JB_TFL_AVERAGE_POOL_2D:
        case JB_TFL_MAX_POOL_2D: {
            uint32_t v[6] = {pad, sw, sh, (uint32_t)p->filter_w, (uint32_t)p->filter_h, act};
            int b[6] = {1, 0, 0, 0, 0, 1};
            q->opt_type = 5;
            q->n_opts = 6;
            memcpy(q->opts, v, sizeof(v));
            memcpy(q->opt_is_byte, b, sizeof(b));
            break;
        }
        case JB_TFL_FULLY_CONNECTED:
        case JB_TFL_ADD:
            q->opt_type = p->opcode == JB_TFL_ADD ? 11 : 8;
            q->n_opts = 1;
            q->opts[0] = act;
            q->opt_is_byte[0] = 1;
            break;
        case JB_TFL_SOFTMAX:
            q->opt_type = 9;
            q->n_opts = 1;
            memcpy(&q->opts[0], &p->beta, 4);
            break;
        default:
            break;
        }
    }
    struct tfw_model m = {f->n_tensors, t,      n_ops,        o,
                          inputs[0],    output, n_inputs > 1, n_inputs > 1 ? inputs[1] : 0};
    uint8_t *b = tfw_write(&m, len);
    free(t);
    free(o);
    return b;
}

int tfw_save(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A hand-built int8 model: input [1,4] (scale 0.5, zp 3), FULLY_CONNECTED
 * to 3 outputs with per-channel weight scales and a bias, RELU, output
 * scale 0.25 zp -10. The expected outputs are computed here with TFLite's
 * formula from the same numbers (test_tflite.c). */
static const float fc_in_scale[1] = {0.5f}, fc_out_scale[1] = {0.25f};
static const int64_t fc_in_zp[1] = {3}, fc_out_zp[1] = {-10};
const float tfw_fc_w_scale[3] = {0.01f, 0.02f, 0.003f};
static const int64_t fc_w_zp[3] = {0, 0, 0};
const int8_t tfw_fc_w[12] = {10, -20, 30, -40, 127, -127, 5, 0, 1, 2, 3, 4};
const int32_t tfw_fc_b[3] = {100, -5000, 7};
static const float fc_b_scale[3] = {0.005f, 0.01f, 0.0015f};

uint8_t *tfw_example_fc(size_t *len, int opcode, int act)
{
    struct tfw_tensor t[4] = {
        {"in", JB_TFL_INT8, 2, {1, 4}, NULL, 0, 1, fc_in_scale, fc_in_zp, 0},
        {"w", JB_TFL_INT8, 2, {3, 4}, tfw_fc_w, sizeof(tfw_fc_w), 3, tfw_fc_w_scale, fc_w_zp, 0},
        {"b", JB_TFL_INT32, 1, {3}, tfw_fc_b, sizeof(tfw_fc_b), 3, fc_b_scale, fc_w_zp, 0},
        {"out", JB_TFL_INT8, 2, {1, 3}, NULL, 0, 1, fc_out_scale, fc_out_zp, 0},
    };
    struct tfw_op op = {opcode, 3, {0, 1, 2}, 3, 8, 1, {(uint32_t)act}, {1}};
    struct tfw_model m = {4, t, 1, &op, 0, 3, 0, 0};
    return tfw_write(&m, len);
}

/* A small graph of every supported int8 operator: conv (per channel),
 * depthwise, add, average pool, reshape, fc, softmax. */
uint8_t *tfw_example_mixed(size_t *len, int dilation, int depth_mult_channels, int first_opcode)
{
    static int8_t cw[4 * 3 * 3 * 2], dw[1 * 3 * 3 * 8], fw[3 * 4];
    static int32_t cb[4], db[4], fb[3];
    for (size_t i = 0; i < sizeof(cw); i++)
        cw[i] = (int8_t)((int)(i * 37 % 255) - 127);
    for (size_t i = 0; i < sizeof(dw); i++)
        dw[i] = (int8_t)((int)(i * 53 % 255) - 127);
    for (size_t i = 0; i < sizeof(fw); i++)
        fw[i] = (int8_t)((int)(i * 71 % 255) - 127);
    for (int i = 0; i < 4; i++) {
        cb[i] = 100 * i - 150;
        db[i] = -30 * i + 20;
    }
    for (int i = 0; i < 3; i++)
        fb[i] = 50 * i - 40;
    static const float s_in[1] = {0.02f}, s_a[1] = {0.05f}, s_b[1] = {0.04f}, s_c[1] = {0.06f},
                       s_sm[1] = {1.0f / 256.0f}, s_f[1] = {0.1f};
    static const float s_cw[4] = {0.01f, 0.02f, 0.015f, 0.005f},
                       s_dw[4] = {0.03f, 0.01f, 0.02f, 0.04f}, s_fw[1] = {0.02f};
    static const int64_t z_in[1] = {-5}, z_a[1] = {-128}, z_b[1] = {-20}, z_c[1] = {7},
                         z_sm[1] = {-128}, z_f[1] = {2}, z0[4] = {0, 0, 0, 0};
    static float s_cb[4], s_db[4];
    int dmc = depth_mult_channels;
    struct tfw_tensor t[] = {
        /* 0 */ {"in", JB_TFL_INT8, 4, {1, 6, 6, 2}, NULL, 0, 1, s_in, z_in, 0},
        /* 1 */ {"cw", JB_TFL_INT8, 4, {4, 3, 3, 2}, cw, sizeof(cw), 4, s_cw, z0, 0},
        /* 2 */ {"cb", JB_TFL_INT32, 1, {4}, cb, sizeof(cb), 4, s_cb, z0, 0},
        /* 3 */ {"a", JB_TFL_INT8, 4, {1, 3, 3, 4}, NULL, 0, 1, s_a, z_a, 0},
        /* 4 */ {"dw", JB_TFL_INT8, 4, {1, 3, 3, dmc}, dw, (size_t)9 * dmc, 4, s_dw, z0, 3},
        /* 5 */ {"db", JB_TFL_INT32, 1, {4}, db, sizeof(db), 4, s_db, z0, 0},
        /* 6 */ {"b", JB_TFL_INT8, 4, {1, 3, 3, 4}, NULL, 0, 1, s_b, z_b, 0},
        /* 7 */ {"c", JB_TFL_INT8, 4, {1, 3, 3, 4}, NULL, 0, 1, s_c, z_c, 0},
        /* 8 */ {"p", JB_TFL_INT8, 4, {1, 1, 1, 4}, NULL, 0, 1, s_c, z_c, 0},
        /* 9 */ {"r", JB_TFL_INT8, 2, {1, 4}, NULL, 0, 1, s_c, z_c, 0},
        /* 10 */ {"fw", JB_TFL_INT8, 2, {3, 4}, fw, sizeof(fw), 1, s_fw, z0, 0},
        /* 11 */ {"fb", JB_TFL_INT32, 1, {3}, fb, sizeof(fb), 1, s_fw, z0, 0},
        /* 12 */ {"f", JB_TFL_INT8, 2, {1, 3}, NULL, 0, 1, s_f, z_f, 0},
        /* 13 */ {"sm", JB_TFL_INT8, 2, {1, 3}, NULL, 0, 1, s_sm, z_sm, 0},
    };
    uint32_t pad_same = 0, pad_valid = 1;
    struct tfw_op ops[] = {
        /* Conv2DOptions: padding, stride_w, stride_h, act, dilation_w, dilation_h */
        {first_opcode,
         3,
         {0, 1, 2},
         3,
         1,
         6,
         {pad_same, 2, 2, JB_TFL_ACT_RELU, (uint32_t)dilation, (uint32_t)dilation},
         {1, 0, 0, 1}},
        /* DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_mult, act */
        {JB_TFL_DEPTHWISE_CONV_2D,
         3,
         {3, 4, 5},
         6,
         2,
         5,
         {pad_same, 1, 1, (uint32_t)(dmc / 4), JB_TFL_ACT_RELU6},
         {1, 0, 0, 0, 1}},
        {JB_TFL_ADD, 2, {3, 6}, 7, 11, 1, {JB_TFL_ACT_NONE}, {1}},
        /* Pool2DOptions: padding, stride_w, stride_h, filter_w, filter_h, act */
        {JB_TFL_AVERAGE_POOL_2D, 1, {7}, 8, 5, 6, {pad_valid, 3, 3, 3, 3, 0}, {1, 0, 0, 0, 0, 1}},
        {JB_TFL_RESHAPE, 1, {8}, 9, 0, 0, {0}, {0}},
        {JB_TFL_FULLY_CONNECTED, 3, {9, 10, 11}, 12, 8, 1, {0}, {1}},
        {JB_TFL_SOFTMAX, 1, {12}, 13, 9, 1, {0x3f800000u}, {0}},
    };
    struct tfw_model m = {14, t, 7, ops, 0, 13, 0, 0};
    return tfw_write(&m, len);
}
