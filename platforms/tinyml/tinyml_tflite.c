/* tinyml_tflite.c: a TinyML model from a TFLite file (trained weights),
 * built into the same graph as the synthetic models (tinyml_model_impl.h),
 * so that the reference kernels, the optimized ones and the GPU run it.
 *
 * The graph: tensor 0 is the subgraph's input, layer i writes tensor i + 1.
 * TFLite operators are in execution order already; RESHAPE moves no bytes
 * on NHWC data (batch 1), so it becomes an alias of its input tensor, not a
 * layer. int8 quantization follows TFLite's kernels (lite/kernels/conv.cc,
 * depthwise_conv.cc, fully_connected.cc, add.cc, pooling.cc and
 * kernel_util.cc's PopulateConvolutionQuantizationParams and
 * CalculateActivationRangeQuantized):
 *  - conv, depthwise, FC: per output channel, the real multiplier is
 *    double(input scale) * double(filter scale[c]) / double(output scale)
 *    (one filter scale repeated when per tensor), made a Q31 multiplier and
 *    a shift by QuantizeMultiplier (jb_tm_quantize_multiplier); int32 bias
 *    as stored; weights symmetric (zero point 0, checked);
 *  - ADD: left shift 20, inputs rescaled to twice the larger input scale,
 *    the sum to the output scale (the scheme tinyml_ref.c runs);
 *  - fused activations clamp in the output's quantized domain:
 *    RELU [max(-128, zp), 127], RELU6 up to zp + round(6 / scale),
 *    RELU_N1_TO_1 zp + round(-+1 / scale);
 *  - average pooling keeps its input's quantization (TFLite assumes the
 *    same scale and zero point on both sides; checked here);
 *  - softmax: output scale 1/256, zero point -128 (TFLite's int8 softmax
 *    requires it; checked), beta 1. */
#include "platforms/tinyml/tflite.h"
#include "platforms/tinyml/tinyml_model.h"
#include "platforms/tinyml/tinyml_model_impl.h"

#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bctx {
    const struct jb_tfl_model *f;
    const char *name;
    struct jb_tm_model *m;
    int op; /* operator being built, for messages */
    char *err;
    size_t errlen;
};

static int bad(struct bctx *b, int code, const char *what)
{
    const char *on = jb_tfl_opcode_name(b->f->ops[b->op].opcode);
    return jb_err(b->err, b->errlen, code, "%s: operator %d (%s): %s", b->name, b->op,
                  on ? on : "?", what);
}

/* Shape of an activation tensor as h x w x c, batch 1: [1,h,w,c], [1,c],
 * [c]. */
static int hwc(const struct jb_tfl_tensor *t, struct jb_tm_tshape *s)
{
    if (t->rank == 4 && t->shape[0] == 1)
        *s = (struct jb_tm_tshape){t->shape[1], t->shape[2], t->shape[3]};
    else if (t->rank == 2 && t->shape[0] == 1)
        *s = (struct jb_tm_tshape){1, 1, t->shape[1]};
    else if (t->rank == 1)
        *s = (struct jb_tm_tshape){1, 1, t->shape[0]};
    else
        return -1;
    return s->h > 0 && s->w > 0 && s->c > 0 ? 0 : -1;
}

/* TFLite's output size and padding (ComputePaddingWithOffset): SAME:
 * ceil(in / stride), VALID: (in - k + stride) / stride; padding before the
 * window is half the total, rounded down. */
static void window(int in, int k, int s, int same, int *out, int *pad)
{
    *out = same ? (in + s - 1) / s : (in - k + s) / s;
    int total = (*out - 1) * s + k - in;
    *pad = total > 0 ? total / 2 : 0;
}

/* zero_point + round(f / scale), TFLite's quantize of an activation bound,
 * kept inside [-129, 128] so that a tiny scale in a hostile file cannot
 * overflow (the caller clamps to the int8 range anyway). */
static int32_t quant_bound(float f, float scale, int32_t zp)
{
    double v = (double)zp + (double)roundf(f / scale);
    return v < -129.0 ? -129 : v > 128.0 ? 128 : (int32_t)v;
}

/* The fused activation's clamp, in fp32 and in the output's int8 domain. */
static int set_activation(struct bctx *b, struct jb_tm_layer *l, int act, float out_scale,
                          int32_t out_zp)
{
    l->act_min_f = -INFINITY;
    l->act_max_f = INFINITY;
    l->act_min = -128;
    l->act_max = 127;
    int32_t q0 = out_zp, q6 = 127, qm1 = -128, q1 = 127;
    if (l->dtype == JB_TM_INT8) {
        q6 = quant_bound(6.0f, out_scale, out_zp);
        qm1 = quant_bound(-1.0f, out_scale, out_zp);
        q1 = quant_bound(1.0f, out_scale, out_zp);
    }
    switch (act) {
    case JB_TFL_ACT_NONE:
        return 0;
    case JB_TFL_ACT_RELU:
        l->act_min_f = 0.0f;
        l->act_min = q0 > -128 ? q0 : -128;
        return 0;
    case JB_TFL_ACT_RELU6:
        l->act_min_f = 0.0f;
        l->act_max_f = 6.0f;
        l->act_min = q0 > -128 ? q0 : -128;
        l->act_max = q6 < 127 ? q6 : 127;
        return 0;
    case JB_TFL_ACT_RELU_N1_TO_1:
        l->act_min_f = -1.0f;
        l->act_max_f = 1.0f;
        l->act_min = qm1 > -128 ? qm1 : -128;
        l->act_max = q1 < 127 ? q1 : 127;
        return 0;
    default:
        return bad(b, JB_ENOTSUP, "fused activation other than NONE, RELU, RELU6, RELU_N1_TO_1");
    }
}

/* Single-scale quantization of an int8 activation tensor. */
static int act_quant(struct bctx *b, const struct jb_tfl_tensor *t, float *scale, int32_t *zp)
{
    if (t->n_q != 1 || !(t->scale[0] > 0) || !isfinite(t->scale[0]) || t->zero_point[0] < -128 ||
        t->zero_point[0] > 127)
        return bad(b, JB_EFORMAT,
                   "int8 activation without one positive scale and a zero "
                   "point in [-128, 127]");
    *scale = t->scale[0];
    *zp = (int32_t)t->zero_point[0];
    return 0;
}

/* Copies weights and bias of a conv/dwconv/fc layer and derives the int8
 * requantization. n_w: weight elements; oc: output channels; qdim: the
 * filter dimension TFLite quantizes per channel (0, or 3 for depthwise). */
static int set_weights(struct bctx *b, int i, const struct jb_tfl_op *op, size_t n_w, int oc,
                       int qdim, float in_scale, float out_scale)
{
    struct jb_tm_model *m = b->m;
    struct jb_tm_layer *l = &m->layers[i];
    const struct jb_tfl_tensor *w = &b->f->tensors[op->in[1]];
    const struct jb_tfl_tensor *bias =
        op->n_in > 2 && op->in[2] >= 0 ? &b->f->tensors[op->in[2]] : NULL;
    int q = m->dtype == JB_TM_INT8;
    int wtype = q ? JB_TFL_INT8 : JB_TFL_FLOAT32, btype = q ? JB_TFL_INT32 : JB_TFL_FLOAT32;
    /* fp32 models may store filters as int8 with float scales (TFLite's
     * dynamic-range quantization, the fp32 KWS file does): dequantized here */
    int hybrid = !q && w->type == JB_TFL_INT8 && w->data && w->elems == n_w &&
                 (w->n_q == 1 || (w->n_q == oc && w->q_dim == qdim));
    if (!hybrid && (!w->data || w->type != wtype || w->elems != n_w))
        return bad(b, JB_EFORMAT,
                   q ? "filter is not a constant int8 tensor of the layer's shape"
                     : "filter is not a constant float32 tensor of the layer's "
                       "shape");
    if (bias && (!bias->data || bias->type != btype || bias->elems != (size_t)oc))
        return bad(b, JB_EFORMAT,
                   q ? "bias is not a constant int32 tensor of out_c entries"
                     : "bias is not a constant float32 tensor of out_c entries");
    if (!q) {
        m->wf[i] = malloc(n_w * sizeof(float));
        m->bf[i] = calloc((size_t)oc, sizeof(float));
        if (!m->wf[i] || !m->bf[i])
            return jb_err(b->err, b->errlen, JB_ENOMEM, "%s: out of memory", b->name);
        if (hybrid) {
            /* channel of element e: its index along qdim */
            size_t inner = qdim == 0 ? n_w / (size_t)oc : 1;
            for (size_t e = 0; e < n_w; e++) {
                size_t c = w->n_q == 1 ? 0 : qdim == 0 ? e / inner : e % (size_t)oc;
                m->wf[i][e] = w->scale[c] * (float)((int8_t)w->data[e] - (int32_t)w->zero_point[c]);
            }
        } else {
            memcpy(m->wf[i], w->data, n_w * sizeof(float));
        }
        if (bias)
            memcpy(m->bf[i], bias->data, (size_t)oc * sizeof(float));
        l->weights = m->wf[i];
        l->bias = m->bf[i];
        return 0;
    }
    if (w->n_q != 1 && !(w->n_q == oc && w->q_dim == qdim))
        return bad(b, JB_ENOTSUP, "filter quantization neither per tensor nor per output channel");
    m->wq[i] = malloc(n_w);
    m->bq[i] = calloc((size_t)oc, sizeof(int32_t));
    m->mult[i] = malloc((size_t)oc * sizeof(int32_t));
    m->shift[i] = malloc((size_t)oc * sizeof(int32_t));
    if (!m->wq[i] || !m->bq[i] || !m->mult[i] || !m->shift[i])
        return jb_err(b->err, b->errlen, JB_ENOMEM, "%s: out of memory", b->name);
    memcpy(m->wq[i], w->data, n_w);
    /* the int32 accumulator of TFLite's kernels: sum of n_w / oc products of
     * at most 255 * 128 plus the bias must fit (a real model is far from it;
     * a hostile file is refused rather than overflowed) */
    double worst_acc = (double)(n_w / (size_t)oc) * 255.0 * 128.0;
    for (int c = 0; c < oc; c++) {
        int k = w->n_q == 1 ? 0 : c;
        if (w->zero_point[k] != 0)
            return bad(b, JB_ENOTSUP,
                       "filter zero point not 0 (TFLite int8 weights are "
                       "symmetric)");
        if (!(w->scale[k] > 0) || !isfinite(w->scale[k]))
            return bad(b, JB_EFORMAT, "filter scale not positive");
        if (bias) {
            int32_t v;
            memcpy(&v, bias->data + 4 * (size_t)c, 4);
            m->bq[i][c] = v;
        }
        if (worst_acc + fabs((double)m->bq[i][c]) > 2147483647.0)
            return bad(b, JB_ENOTSUP,
                       "the int32 accumulator could overflow (reduction too long "
                       "or bias too large)");
        double real = (double)in_scale * (double)w->scale[k] / (double)out_scale;
        /* the rescaled sum plus the output zero point must fit int32 too */
        if (real * (worst_acc + fabs((double)m->bq[i][c])) > 2147483000.0)
            return bad(b, JB_ENOTSUP,
                       "the requantized accumulator could overflow int32 "
                       "(scales far outside a trained model's)");
        jb_tm_quantize_multiplier(real, &m->mult[i][c], &m->shift[i][c]);
    }
    l->weights = m->wq[i];
    l->bias = m->bq[i];
    l->mult = m->mult[i];
    l->shift = m->shift[i];
    return 0;
}

static int windowed(struct bctx *b, struct jb_tm_layer *l, const struct jb_tfl_op *op, int k_h,
                    int k_w, const struct jb_tm_tshape *out)
{
    if (op->stride_h < 1 || op->stride_w < 1 || op->stride_h > 64 || op->stride_w > 64)
        return bad(b, JB_EFORMAT, "stride outside 1..64");
    if (op->dilation_h != 1 || op->dilation_w != 1)
        return bad(b, JB_ENOTSUP, "dilation other than 1");
    if (k_h < 1 || k_w < 1 || k_h > 4096 || k_w > 4096)
        return bad(b, JB_EFORMAT, "window size outside 1..4096");
    l->k_h = k_h;
    l->k_w = k_w;
    l->stride_h = op->stride_h;
    l->stride_w = op->stride_w;
    int oh, ow;
    window(l->in_h, k_h, op->stride_h, op->padding_same, &oh, &l->pad_top);
    window(l->in_w, k_w, op->stride_w, op->padding_same, &ow, &l->pad_left);
    if (oh != out->h || ow != out->w)
        return bad(b, JB_EFORMAT,
                   "output shape does not follow from input, window, stride "
                   "and padding");
    return 0;
}

/* One operator into layer i (it writes graph tensor i + 1). */
static int build_layer(struct bctx *b, int i, const struct jb_tfl_op *op, const int *gt)
{
    struct jb_tm_model *m = b->m;
    const struct jb_tfl_model *f = b->f;
    struct jb_tm_layer *l = &m->layers[i];
    int q = m->dtype == JB_TM_INT8;
    int ntype = q ? JB_TFL_INT8 : JB_TFL_FLOAT32;
    int n_act_in = op->opcode == JB_TFL_ADD ? 2 : 1;
    int need_in = op->opcode == JB_TFL_CONV_2D || op->opcode == JB_TFL_DEPTHWISE_CONV_2D ||
                          op->opcode == JB_TFL_FULLY_CONNECTED
                      ? 2
                      : n_act_in;
    if (op->n_in < need_in || op->n_out != 1 || op->out[0] < 0)
        return bad(b, JB_EFORMAT, "wrong number of inputs or outputs");
    for (int k = 0; k < need_in; k++)
        if (op->in[k] < 0)
            return bad(b, JB_EFORMAT, "a required input is absent");
    int ti = gt[op->in[0]], ti2 = n_act_in == 2 ? gt[op->in[1]] : -1;
    if (ti < 0 || (n_act_in == 2 && ti2 < 0))
        return bad(b, JB_ENOTSUP,
                   "reads a tensor that is neither the model's input nor "
                   "written by an earlier operator");
    const struct jb_tfl_tensor *tin = &f->tensors[op->in[0]], *tout = &f->tensors[op->out[0]];
    if (gt[op->out[0]] >= 0)
        return bad(b, JB_EFORMAT, "writes a tensor already written");
    if (tout->type != ntype || tout->data)
        return bad(b, JB_ENOTSUP,
                   q ? "output is not an int8 activation (mixed types are not "
                       "supported)"
                     : "output is not a float32 activation (mixed types are "
                       "not supported)");
    struct jb_tm_tshape out;
    if (hwc(tout, &out))
        return bad(b, JB_ENOTSUP, "output shape not [1,h,w,c] or [1,c]");
    struct jb_tm_tshape s = m->shape[ti];
    memset(l, 0, sizeof(*l));
    l->dtype = m->dtype;
    l->in_h = s.h;
    l->in_w = s.w;
    l->in_c = s.c;
    l->out_h = out.h;
    l->out_w = out.w;
    l->out_c = out.c;
    l->k_h = l->k_w = l->stride_h = l->stride_w = 1;
    float in_scale = 1.0f, out_scale = 1.0f;
    int32_t in_zp = 0, out_zp = 0;
    int rc;
    if (q && ((rc = act_quant(b, tin, &in_scale, &in_zp)) ||
              (rc = act_quant(b, tout, &out_scale, &out_zp))))
        return rc;
    l->in_zp = in_zp;
    l->out_zp = out_zp;
    m->t_scale[i + 1] = out_scale;
    m->t_zp[i + 1] = out_zp;
    const struct jb_tfl_tensor *w = need_in == 2 && n_act_in == 1 ? &f->tensors[op->in[1]] : NULL;
    switch (op->opcode) {
    case JB_TFL_CONV_2D:
        l->op = JB_TM_CONV;
        if (w->rank != 4 || w->shape[0] != out.c || w->shape[3] != s.c)
            return bad(b, JB_EFORMAT, "filter is not [out_c, k_h, k_w, in_c]");
        if ((rc = windowed(b, l, op, w->shape[1], w->shape[2], &out)))
            return rc;
        rc = set_weights(b, i, op, w->elems, out.c, 0, in_scale, out_scale);
        break;
    case JB_TFL_DEPTHWISE_CONV_2D:
        l->op = JB_TM_DWCONV;
        if (w->rank != 4 || w->shape[0] != 1 || w->shape[3] != out.c)
            return bad(b, JB_EFORMAT, "filter is not [1, k_h, k_w, out_c]");
        if (out.c != s.c)
            return bad(b, JB_ENOTSUP, "depth multiplier other than 1");
        if ((rc = windowed(b, l, op, w->shape[1], w->shape[2], &out)))
            return rc;
        rc = set_weights(b, i, op, w->elems, out.c, 3, in_scale, out_scale);
        break;
    case JB_TFL_FULLY_CONNECTED:
        l->op = JB_TM_FC;
        if (op->weights_format != 0)
            return bad(b, JB_ENOTSUP, "shuffled weights format");
        if (w->rank != 2 || (size_t)w->shape[1] != (size_t)s.h * s.w * s.c ||
            w->shape[0] != out.c || out.h != 1 || out.w != 1)
            return bad(b, JB_EFORMAT, "weights are not [out_c, in_elems] for batch 1");
        l->in_h = l->in_w = 1;
        l->in_c = w->shape[1];
        rc = set_weights(b, i, op, w->elems, out.c, 0, in_scale, out_scale);
        break;
    case JB_TFL_AVERAGE_POOL_2D:
    case JB_TFL_MAX_POOL_2D:
        l->op = op->opcode == JB_TFL_MAX_POOL_2D ? JB_TM_MAXPOOL : JB_TM_AVGPOOL;
        if (out.c != s.c)
            return bad(b, JB_EFORMAT, "pooling changes the channel count");
        if (q && (in_scale != out_scale || in_zp != out_zp))
            return bad(b, JB_ENOTSUP,
                       "int8 pooling with different input and output "
                       "quantization");
        /* int8 sums up to k_h * k_w values of at most 128 in an int32 */
        if (q && (long long)op->filter_h * op->filter_w > 65536)
            return bad(b, JB_ENOTSUP, "int8 pooling window over 65536 cells");
        rc = windowed(b, l, op, op->filter_h, op->filter_w, &out);
        break;
    case JB_TFL_ADD: {
        l->op = JB_TM_ADD;
        struct jb_tm_tshape s2 = m->shape[ti2];
        if (s2.h != s.h || s2.w != s.w || s2.c != s.c || out.h != s.h || out.w != s.w ||
            out.c != s.c)
            return bad(b, JB_ENOTSUP, "ADD of tensors of different shapes (broadcasting)");
        rc = 0;
        if (q) {
            float s1 = in_scale, s2s;
            int32_t zp2;
            if ((rc = act_quant(b, &f->tensors[op->in[1]], &s2s, &zp2)))
                return rc;
            /* add.cc: twice_max_input_scale = 2 * max(scale1, scale2) */
            double twice = 2.0 * (double)(s1 > s2s ? s1 : s2s);
            l->in2_zp = zp2;
            l->add_left_shift = 20;
            jb_tm_quantize_multiplier((double)s1 / twice, &l->in1_mult, &l->in1_shift);
            jb_tm_quantize_multiplier((double)s2s / twice, &l->in2_mult, &l->in2_shift);
            jb_tm_quantize_multiplier(twice / ((double)(1 << 20) * (double)out_scale), &l->out_mult,
                                      &l->out_shift);
            if (l->out_shift > 0)
                return bad(b, JB_ENOTSUP, "ADD whose output rescaling exceeds 1");
        }
        break;
    }
    case JB_TFL_SOFTMAX:
        l->op = JB_TM_SOFTMAX;
        if (s.h != 1 || s.w != 1 || out.h != 1 || out.w != 1 || out.c != s.c)
            return bad(b, JB_ENOTSUP, "softmax over other than the channels of one vector");
        if (op->beta != 1.0f)
            return bad(b, JB_ENOTSUP, "softmax with beta other than 1");
        if (q && (out_scale != 1.0f / 256.0f || out_zp != -128))
            return bad(b, JB_ENOTSUP, "int8 softmax output not at scale 1/256, zero point -128");
        l->in_scale = in_scale;
        rc = 0;
        break;
    default:
        return bad(b, JB_ENOTSUP, "operator not supported");
    }
    if (rc)
        return rc;
    if ((rc = set_activation(b, l, op->act, out_scale, out_zp)))
        return rc;
    m->in_of[i] = ti;
    m->in2_of[i] = ti2;
    m->shape[i + 1] = out;
    char verr[JB_ERRLEN];
    if (jb_tm_layer_validate(l, verr, sizeof(verr)))
        return bad(b, JB_EFORMAT, verr);
    return 0;
}

static const char *const supported =
    "CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, SOFTMAX, "
    "RESHAPE";

/* Work per inference from the graph: MACs, parameters (weights + biases,
 * as stored), bytes. */
static void graph_counts(struct jb_tm_model *m)
{
    struct jb_tm_counts *c = &m->counts;
    memset(c, 0, sizeof(*c));
    double esz = m->dtype == JB_TM_INT8 ? 1.0 : 4.0;
    for (int i = 0; i < m->n; i++) {
        const struct jb_tm_layer *l = &m->layers[i];
        double outs = (double)l->out_h * l->out_w * l->out_c, weights = 0.0, macs = 0.0;
        if (l->op == JB_TM_CONV)
            weights = (double)l->out_c * l->k_h * l->k_w * l->in_c;
        else if (l->op == JB_TM_DWCONV)
            weights = (double)l->k_h * l->k_w * l->in_c;
        else if (l->op == JB_TM_FC)
            weights = (double)l->in_c * l->out_c;
        if (l->op == JB_TM_CONV || l->op == JB_TM_DWCONV)
            macs = outs * l->k_h * l->k_w * (l->op == JB_TM_CONV ? l->in_c : 1);
        else if (l->op == JB_TM_FC)
            macs = weights;
        if (weights > 0) {
            c->params += weights + l->out_c;
            c->param_bytes += weights * esz + l->out_c * 4.0;
            c->flops += outs;
        }
        c->macs += macs;
        c->flops += 2.0 * macs;
        if (l->op == JB_TM_AVGPOOL || l->op == JB_TM_MAXPOOL)
            c->flops += outs * l->k_h * l->k_w;
        if (l->op == JB_TM_ADD || l->op == JB_TM_SOFTMAX)
            c->flops += outs;
        const struct jb_tm_tshape *s = &m->shape[m->in_of[i]];
        double in_bytes = (double)s->h * s->w * s->c * esz * (l->op == JB_TM_ADD ? 2 : 1);
        c->activation_bytes += in_bytes + outs * esz;
    }
    /* no batch norm to count: the file holds the folded graph */
    c->keras_params = c->params;
}

/* Builds the graph of a parsed file (not freed here). */
static int from_tflite(const struct jb_tfl_model *f, const char *path, const char *name,
                       enum jb_tm_input_kind input, float input_gain, enum jb_isa isa,
                       struct jb_tm_model **out, char *err, size_t errlen)
{
    struct jb_tm_model *m = NULL;
    int *gt = NULL, rc = JB_OK;
    const char *nm = name && *name ? name : path;
    if (f->n_inputs != 1 || f->n_outputs != 1 || f->inputs[0] < 0 || f->outputs[0] < 0) {
        rc = jb_err(err, errlen, JB_ENOTSUP, "%s: %d inputs and %d outputs (one of each needed)",
                    path, f->n_inputs, f->n_outputs);
        goto out;
    }
    const struct jb_tfl_tensor *tin = &f->tensors[f->inputs[0]];
    if (tin->type != JB_TFL_INT8 && tin->type != JB_TFL_FLOAT32) {
        rc = jb_err(err, errlen, JB_ENOTSUP,
                    "%s: input tensor of type %d (int8 or float32 "
                    "needed)",
                    path, tin->type);
        goto out;
    }
    /* layers: operators other than RESHAPE; unsupported ones refused by name first */
    int n = 0;
    for (int k = 0; k < f->n_ops; k++) {
        int c = f->ops[k].opcode;
        if (c != JB_TFL_CONV_2D && c != JB_TFL_DEPTHWISE_CONV_2D && c != JB_TFL_FULLY_CONNECTED &&
            c != JB_TFL_AVERAGE_POOL_2D && c != JB_TFL_MAX_POOL_2D && c != JB_TFL_ADD &&
            c != JB_TFL_SOFTMAX && c != JB_TFL_RESHAPE) {
            const char *on = jb_tfl_opcode_name(c);
            char code[32];
            snprintf(code, sizeof(code), "builtin operator %d", c);
            rc = jb_err(err, errlen, JB_ENOTSUP,
                        "%s: operator %d is %s, which joulebench does not run (it runs %s)", path,
                        k, on ? on : code, supported);
            goto out;
        }
        n += c != JB_TFL_RESHAPE;
    }
    if (n < 1 || n + 1 > JB_TM_MAX_TENSORS) {
        rc = jb_err(err, errlen, JB_ENOTSUP, "%s: %d layers (1..%d supported)", path, n,
                    JB_TM_MAX_TENSORS - 1);
        goto out;
    }
    m = calloc(1, sizeof(*m));
    gt = malloc(sizeof(int) * (size_t)f->n_tensors);
    if (!m || !gt) {
        rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    m->dtype = tin->type == JB_TFL_INT8 ? JB_TM_INT8 : JB_TM_FP32;
    if ((rc = jb_tm_model_alloc_layers(m, n, err, errlen)))
        goto out;
    struct bctx b = {f, path, m, 0, err, errlen};
    for (int k = 0; k < f->n_tensors; k++)
        gt[k] = -1;
    gt[f->inputs[0]] = 0;
    if (hwc(tin, &m->shape[0])) {
        rc = jb_err(err, errlen, JB_ENOTSUP, "%s: input shape not [1,h,w,c] or [1,c]", path);
        goto out;
    }
    m->t_scale[0] = 1.0f;
    if (m->dtype == JB_TM_INT8 && (rc = act_quant(&b, tin, &m->t_scale[0], &m->t_zp[0]))) {
        rc = jb_err(err, errlen, rc, "%s: input tensor: int8 without one scale and zero point",
                    path);
        goto out;
    }
    int li = 0;
    for (int k = 0; k < f->n_ops; k++) {
        const struct jb_tfl_op *op = &f->ops[k];
        b.op = k;
        if (op->opcode == JB_TFL_RESHAPE) {
            if (op->n_in < 1 || op->in[0] < 0 || op->n_out != 1 || op->out[0] < 0 ||
                gt[op->in[0]] < 0 || gt[op->out[0]] >= 0) {
                rc = bad(&b, JB_EFORMAT, "inputs or outputs not a reshape of an earlier tensor");
                goto out;
            }
            const struct jb_tfl_tensor *a = &f->tensors[op->in[0]], *o = &f->tensors[op->out[0]];
            int same_q =
                a->n_q == o->n_q &&
                (!a->n_q || (a->scale[0] == o->scale[0] && a->zero_point[0] == o->zero_point[0]));
            if (a->elems != o->elems || a->type != o->type || !same_q) {
                rc = bad(&b, JB_EFORMAT, "reshape changes the size, type or quantization");
                goto out;
            }
            gt[op->out[0]] = gt[op->in[0]];
            continue;
        }
        if ((rc = build_layer(&b, li, op, gt)))
            goto out;
        gt[op->out[0]] = ++li;
    }
    if (gt[f->outputs[0]] != n) {
        rc = jb_err(err, errlen, JB_ENOTSUP,
                    "%s: the model's output is not written by its last operator", path);
        goto out;
    }
    /* the synthetic generators fill h x w x 1 (MFCC) and 1 x 1 x c (log-mel)
     * tensors; a file of another shape gets images (any shape) */
    if ((input == JB_TM_INPUT_MFCC && m->shape[0].c != 1) ||
        (input == JB_TM_INPUT_LOGMEL && (m->shape[0].h != 1 || m->shape[0].w != 1)))
        input = JB_TM_INPUT_IMAGE;
    snprintf(m->own_name, sizeof(m->own_name), "%s", nm);
    m->own_def.name = m->own_name;
    m->own_def.title = m->own_name;
    m->own_def.in_h = m->shape[0].h;
    m->own_def.in_w = m->shape[0].w;
    m->own_def.in_c = m->shape[0].c;
    m->own_def.input = input;
    m->def = &m->own_def;
    m->input_gain = input_gain > 0 ? input_gain : 1.0f;
    snprintf(m->sha256, sizeof(m->sha256), "%s", f->sha256);
    graph_counts(m);
    if ((rc = jb_tm_model_finish(m, isa, err, errlen)))
        goto out;
out:
    free(gt);
    if (rc) {
        jb_tm_model_close(m);
        return rc;
    }
    *out = m;
    return JB_OK;
}

int jb_tm_model_open_tflite(const char *path, const char *name, enum jb_tm_input_kind input,
                            float input_gain, enum jb_isa isa, struct jb_tm_model **out, char *err,
                            size_t errlen)
{
    struct jb_tfl_model *f = NULL;
    *out = NULL;
    int rc = jb_tfl_load(path, &f, err, errlen);
    if (rc)
        return rc;
    rc = from_tflite(f, path, name, input, input_gain, isa, out, err, errlen);
    jb_tfl_free(f);
    return rc;
}

int jb_tm_model_open_tflite_buf(const uint8_t *buf, size_t n, const char *name,
                                enum jb_tm_input_kind input, float input_gain, enum jb_isa isa,
                                struct jb_tm_model **out, char *err, size_t errlen)
{
    struct jb_tfl_model *f = NULL;
    *out = NULL;
    const char *nm = name && *name ? name : "tflite";
    int rc = jb_tfl_parse(buf, n, nm, &f, err, errlen);
    if (rc)
        return rc;
    rc = from_tflite(f, nm, name, input, input_gain, isa, out, err, errlen);
    jb_tfl_free(f);
    return rc;
}
