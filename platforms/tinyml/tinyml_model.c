/* tinyml_model.c: builds and runs the TinyML models (see tinyml_model.h).
 *
 * Weights and inputs come from tinyml_synth.c. int8 follows TFLite: per-channel symmetric weights
 * (scale max|w| / 127), asymmetric activations whose ranges come from
 * running the fp32 reference on JB_TM_CAL_INPUTS seeded inputs, int32 bias
 * at scale in * w, Q31 multipliers. Everything is a pure function of the
 * seed and the model name. */
#include "platforms/tinyml/tinyml_model.h"
#include "platforms/tinyml/tinyml_model_impl.h"
#include "platforms/tinyml/tinyml_synth.h"

#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Calibration inputs: enough to cover the range of a random input (the
 * activations' extremes move little after 4), few enough to open quickly. */
#define JB_TM_CAL_INPUTS 4
/* Calibration items are drawn from a stream the benchmark never uses. */
#define JB_TM_CAL_ITEM0 0x7f000000ull

static size_t round64(size_t v)
{
    return (v + 63) / 64 * 64;
}

static size_t telems(const struct jb_tm_tshape *t)
{
    return (size_t)t->h * t->w * t->c;
}

/* Output shape and padding of a windowed op, TF 'same' or 'valid'. */
static void window(int in, int k, int s, int same, int *out, int *pad)
{
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + k - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - k) / s + 1;
        *pad = 0;
    }
}

/* Shapes, geometry of every layer and the counts; layers[] gets geometry
 * only (no weights). */
static int infer(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype,
                 struct jb_tm_tshape *shape, int *in_of, int *in2_of, struct jb_tm_layer *layers,
                 struct jb_tm_counts *cnt, char *err, size_t errlen)
{
    if (def->n_layers + 1 > JB_TM_MAX_TENSORS)
        return jb_err(err, errlen, JB_EINVAL, "%s: too many layers", def->name);
    memset(cnt, 0, sizeof(*cnt));
    double esz = dtype == JB_TM_INT8 ? 1.0 : 4.0;
    shape[0] = (struct jb_tm_tshape){def->in_h, def->in_w, def->in_c};
    for (int i = 0; i < def->n_layers; i++) {
        const struct jb_tm_def_layer *d = &def->layers[i];
        int in = d->in == JB_TM_PREV ? i : d->in;
        if (in < 0 || in > i || (d->op == JB_TM_ADD && (d->in2 < 0 || d->in2 > i)))
            return jb_err(err, errlen, JB_EINVAL, "%s: layer %d reads a later tensor", def->name,
                          i);
        in_of[i] = in;
        in2_of[i] = d->op == JB_TM_ADD ? d->in2 : -1;
        struct jb_tm_tshape s = shape[in], o = s;
        struct jb_tm_layer *l = &layers[i];
        memset(l, 0, sizeof(*l));
        l->op = d->op;
        l->dtype = dtype;
        l->in_h = s.h;
        l->in_w = s.w;
        l->in_c = s.c;
        l->k_h = l->k_w = l->stride_h = l->stride_w = 1;
        switch (d->op) {
        case JB_TM_CONV:
        case JB_TM_DWCONV:
        case JB_TM_AVGPOOL:
        case JB_TM_MAXPOOL: {
            int sh = d->stride ? d->stride : d->k_h, sw = d->stride ? d->stride : d->k_w;
            l->k_h = d->k_h;
            l->k_w = d->k_w;
            l->stride_h = sh;
            l->stride_w = sw;
            window(s.h, d->k_h, sh, d->same, &o.h, &l->pad_top);
            window(s.w, d->k_w, sw, d->same, &o.w, &l->pad_left);
            o.c = d->op == JB_TM_CONV ? d->out_c : s.c;
            break;
        }
        case JB_TM_FC:
            o = (struct jb_tm_tshape){1, 1, d->out_c};
            l->in_h = l->in_w = 1;
            l->in_c = (int)telems(&s);
            break;
        case JB_TM_ADD: {
            struct jb_tm_tshape s2 = shape[d->in2];
            if (s2.h != s.h || s2.w != s.w || s2.c != s.c)
                return jb_err(err, errlen, JB_EINVAL, "%s: layer %d adds tensors of two shapes",
                              def->name, i);
            break;
        }
        default:
            break;
        }
        if (o.h < 1 || o.w < 1 || o.c < 1)
            return jb_err(err, errlen, JB_EINVAL, "%s: layer %d has an empty output", def->name, i);
        l->out_h = o.h;
        l->out_w = o.w;
        l->out_c = o.c;
        shape[i + 1] = o;
        double outs = (double)telems(&o), weights = 0.0, macs = 0.0;
        if (d->op == JB_TM_CONV)
            weights = (double)o.c * l->k_h * l->k_w * s.c;
        else if (d->op == JB_TM_DWCONV)
            weights = (double)l->k_h * l->k_w * s.c;
        else if (d->op == JB_TM_FC)
            weights = (double)l->in_c * o.c;
        if (d->op == JB_TM_CONV || d->op == JB_TM_DWCONV)
            macs = outs * l->k_h * l->k_w * (d->op == JB_TM_CONV ? s.c : 1);
        else if (d->op == JB_TM_FC)
            macs = weights;
        if (weights > 0) {
            cnt->params += weights + o.c;
            cnt->keras_params += weights + o.c + (d->bn ? 4.0 * o.c : 0.0);
            cnt->param_bytes += weights * esz + o.c * 4.0;
            cnt->flops += outs; /* bias */
        }
        cnt->macs += macs;
        cnt->flops += 2.0 * macs;
        if (d->op == JB_TM_AVGPOOL || d->op == JB_TM_MAXPOOL)
            cnt->flops += outs * l->k_h * l->k_w;
        if (d->op == JB_TM_ADD || d->op == JB_TM_SOFTMAX)
            cnt->flops += outs;
        double in_bytes = (double)telems(&s) * esz * (d->op == JB_TM_ADD ? 2 : 1);
        cnt->activation_bytes += in_bytes + outs * esz;
    }
    return JB_OK;
}

int jb_tm_def_counts(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype,
                     struct jb_tm_counts *out, char *err, size_t errlen)
{
    struct jb_tm_tshape shape[JB_TM_MAX_TENSORS];
    int in_of[JB_TM_MAX_TENSORS], in2_of[JB_TM_MAX_TENSORS];
    struct jb_tm_layer *layers = calloc((size_t)def->n_layers, sizeof(*layers));
    if (!layers)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", def->name);
    int rc = infer(def, dtype, shape, in_of, in2_of, layers, out, err, errlen);
    free(layers);
    return rc;
}

void jb_tm_model_close(struct jb_tm_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++) {
        if (m->kernels)
            jb_tm_kernel_destroy(m->kernels[i]);
        if (m->wf) {
            free(m->wf[i]);
            free(m->bf[i]);
        }
        if (m->wq) {
            free(m->wq[i]);
            free(m->bq[i]);
            free(m->mult[i]);
            free(m->shift[i]);
        }
    }
    free(m->kernels);
    free(m->wf);
    free(m->bf);
    free(m->wq);
    free(m->bq);
    free(m->mult);
    free(m->shift);
    free(m->layers);
    free(m);
}

int jb_tm_model_reopen(const struct jb_tm_model *m, enum jb_isa isa, struct jb_tm_model **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    struct jb_tm_model *r = malloc(sizeof(*r));
    if (!r)
        return jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory");
    *r = *m;
    /* weights and quantization stay m's (the per-layer storage arrays are
     * left NULL, so close frees none of them); layers and kernels are r's */
    r->wf = r->bf = NULL;
    r->wq = NULL;
    r->bq = r->mult = r->shift = NULL;
    r->kernels = calloc(m->n > 0 ? (size_t)m->n : 1, sizeof(*r->kernels));
    r->layers = malloc((m->n > 0 ? (size_t)m->n : 1) * sizeof(*r->layers));
    if (m->def == &m->own_def) {
        r->own_def.name = r->own_def.title = r->own_name;
        r->def = &r->own_def;
    }
    if (!r->kernels || !r->layers) {
        jb_tm_model_close(r);
        return jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory");
    }
    memcpy(r->layers, m->layers, (size_t)m->n * sizeof(*r->layers));
    int rc = jb_tm_model_finish(r, isa, err, errlen);
    if (rc) {
        jb_tm_model_close(r);
        return rc;
    }
    *out = r;
    return JB_OK;
}

static int has_weights(enum jb_tm_op op)
{
    return op == JB_TM_CONV || op == JB_TM_DWCONV || op == JB_TM_FC;
}

/* fp32 activation clamps of every layer (ReLU or none). */
static void set_f32_layers(struct jb_tm_model *m)
{
    for (int i = 0; i < m->n; i++) {
        struct jb_tm_layer *l = &m->layers[i];
        l->act_min_f = m->def->layers[i].relu ? 0.0f : -INFINITY;
        l->act_max_f = INFINITY;
        if (has_weights(l->op)) {
            l->weights = m->wf[i];
            l->bias = m->bf[i];
        }
    }
}

/* Runs the fp32 reference on calibration inputs; min/max of every tensor. */
static int calibrate(struct jb_tm_model *m, uint64_t seed, float *lo, float *hi, char *err,
                     size_t errlen)
{
    size_t total = 0, off[JB_TM_MAX_TENSORS];
    for (int t = 0; t <= m->n; t++) {
        off[t] = total;
        total += telems(&m->shape[t]);
        lo[t] = 0.0f;
        hi[t] = 0.0f;
    }
    float *buf = malloc(total * sizeof(float));
    if (!buf)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory calibrating", m->def->name);
    for (int k = 0; k < JB_TM_CAL_INPUTS; k++) {
        jb_tm_synth_input(m->def, seed, JB_TM_CAL_ITEM0 + (uint64_t)k, buf);
        for (int i = 0; i < m->n; i++)
            jb_tm_layer_run_ref(&m->layers[i], buf + off[m->in_of[i]],
                                m->in2_of[i] >= 0 ? buf + off[m->in2_of[i]] : NULL,
                                buf + off[i + 1]);
        for (int t = 0; t <= m->n; t++)
            for (size_t e = 0; e < telems(&m->shape[t]); e++) {
                float v = buf[off[t] + e];
                lo[t] = v < lo[t] ? v : lo[t];
                hi[t] = v > hi[t] ? v : hi[t];
            }
    }
    free(buf);
    return JB_OK;
}

static int32_t clampi(long long v, long long a, long long b)
{
    return (int32_t)(v < a ? a : v > b ? b : v);
}

/* TFLite-style quantization of every tensor and layer from the ranges. */
static int quantize(struct jb_tm_model *m, const float *lo, const float *hi, char *err,
                    size_t errlen)
{
    for (int t = 0; t <= m->n; t++) {
        double range = (double)hi[t] - (double)lo[t];
        double scale = range > 0 ? range / 255.0 : 1e-6;
        m->t_scale[t] = (float)scale;
        m->t_zp[t] = clampi(llround(-128.0 - lo[t] / scale), -128, 127);
    }
    for (int i = 0; i < m->n; i++) {
        struct jb_tm_layer *l = &m->layers[i];
        int ti = m->in_of[i], to = i + 1;
        /* pooling keeps its input's quantization, softmax has a fixed one */
        if (l->op == JB_TM_AVGPOOL || l->op == JB_TM_MAXPOOL) {
            m->t_scale[to] = m->t_scale[ti];
            m->t_zp[to] = m->t_zp[ti];
        } else if (l->op == JB_TM_SOFTMAX) {
            m->t_scale[to] = 1.0f / 256.0f;
            m->t_zp[to] = -128;
        }
    }
    for (int i = 0; i < m->n; i++) {
        struct jb_tm_layer *l = &m->layers[i];
        int ti = m->in_of[i], to = i + 1;
        double s_in = m->t_scale[ti], s_out = m->t_scale[to];
        l->in_zp = m->t_zp[ti];
        l->out_zp = m->t_zp[to];
        l->act_min = m->def->layers[i].relu ? (l->out_zp > -128 ? l->out_zp : -128) : -128;
        l->act_max = 127;
        if (has_weights(l->op)) {
            int oc = l->out_c;
            size_t n_w = l->op == JB_TM_DWCONV ? (size_t)l->k_h * l->k_w * oc
                         : l->op == JB_TM_FC   ? (size_t)l->in_c * oc
                                               : (size_t)l->k_h * l->k_w * l->in_c * oc;
            size_t per = n_w / (size_t)oc;
            m->wq[i] = malloc(n_w);
            m->bq[i] = malloc(sizeof(int32_t) * (size_t)oc);
            m->mult[i] = malloc(sizeof(int32_t) * (size_t)oc);
            m->shift[i] = malloc(sizeof(int32_t) * (size_t)oc);
            if (!m->wq[i] || !m->bq[i] || !m->mult[i] || !m->shift[i])
                return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", m->def->name);
            for (int o = 0; o < oc; o++) {
                /* index of weight k of channel o: dwconv keeps channels last */
                double mx = 0.0;
                for (size_t k = 0; k < per; k++) {
                    size_t idx = l->op == JB_TM_DWCONV ? k * oc + o : (size_t)o * per + k;
                    double a = fabs((double)m->wf[i][idx]);
                    mx = a > mx ? a : mx;
                }
                double ws = mx > 0 ? mx / 127.0 : 1.0;
                for (size_t k = 0; k < per; k++) {
                    size_t idx = l->op == JB_TM_DWCONV ? k * oc + o : (size_t)o * per + k;
                    m->wq[i][idx] = (int8_t)clampi(llround(m->wf[i][idx] / ws), -127, 127);
                }
                m->bq[i][o] = clampi(llround(m->bf[i][o] / (s_in * ws)), INT32_MIN, INT32_MAX);
                jb_tm_quantize_multiplier(s_in * ws / s_out, &m->mult[i][o], &m->shift[i][o]);
            }
            l->weights = m->wq[i];
            l->bias = m->bq[i];
            l->mult = m->mult[i];
            l->shift = m->shift[i];
        } else if (l->op == JB_TM_ADD) {
            /* TFLite's int8 add: 20 bits of headroom, inputs rescaled to
             * twice the larger input scale, then to the output scale */
            double s1 = s_in, s2 = m->t_scale[m->in2_of[i]];
            double twice = 2.0 * (s1 > s2 ? s1 : s2);
            l->in2_zp = m->t_zp[m->in2_of[i]];
            l->add_left_shift = 20;
            jb_tm_quantize_multiplier(s1 / twice, &l->in1_mult, &l->in1_shift);
            jb_tm_quantize_multiplier(s2 / twice, &l->in2_mult, &l->in2_shift);
            jb_tm_quantize_multiplier(twice / ((double)(1 << 20) * s_out), &l->out_mult,
                                      &l->out_shift);
        } else if (l->op == JB_TM_SOFTMAX) {
            l->in_scale = (float)s_in;
        }
    }
    return JB_OK;
}

int jb_tm_model_alloc_layers(struct jb_tm_model *m, int n, char *err, size_t errlen)
{
    size_t k = n > 0 ? (size_t)n : 1;
    m->layers = calloc(k, sizeof(*m->layers));
    m->kernels = calloc(k, sizeof(*m->kernels));
    m->wf = calloc(k, sizeof(float *));
    m->bf = calloc(k, sizeof(float *));
    m->wq = calloc(k, sizeof(int8_t *));
    m->bq = calloc(k, sizeof(int32_t *));
    m->mult = calloc(k, sizeof(int32_t *));
    m->shift = calloc(k, sizeof(int32_t *));
    if (!m->layers || !m->kernels || !m->wf || !m->bf || !m->wq || !m->bq || !m->mult || !m->shift)
        return jb_err(err, errlen, JB_ENOMEM, "tinyml: out of memory");
    m->n = n;
    return JB_OK;
}

int jb_tm_model_finish(struct jb_tm_model *m, enum jb_isa isa, char *err, size_t errlen)
{
    int rc, n = m->n;
    size_t esz = m->dtype == JB_TM_INT8 ? 1 : 4, total = 0, scratch = 64;
    for (int t = 0; t <= n; t++) {
        m->t_off[t] = total;
        total += round64(telems(&m->shape[t]) * esz);
    }
    m->isa = isa;
    for (int i = 0; i < n; i++) {
        rc = jb_tm_kernel_create(&m->layers[i], isa, &m->kernels[i], err, errlen);
        if (rc)
            return rc;
        size_t s = jb_tm_kernel_scratch_bytes(m->kernels[i]);
        scratch = s > scratch ? s : scratch;
    }
    /* every kernel settles on the same ISA (the requested one if built in) */
    m->isa = jb_tm_kernel_isa(m->kernels[0]);
    m->scratch_off = total;
    m->arena_bytes = round64(total + scratch);
    return JB_OK;
}

int jb_tm_model_open(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype, uint64_t seed,
                     enum jb_isa isa, struct jb_tm_model **out, char *err, size_t errlen)
{
    if (!def)
        return jb_err(err, errlen, JB_ENOENT, "tinyml: no such model");
    if (dtype != JB_TM_INT8 && dtype != JB_TM_FP32)
        return jb_err(err, errlen, JB_EINVAL, "%s: unknown dtype %d", def->name, (int)dtype);
    int rc = JB_ENOMEM, n = def->n_layers;
    struct jb_tm_model *m = calloc(1, sizeof(*m));
    if (!m)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", def->name);
    m->def = def;
    m->dtype = dtype;
    if ((rc = jb_tm_model_alloc_layers(m, n, err, errlen)))
        goto fail;
    /* geometry in fp32 first: calibration runs the fp32 reference */
    rc = infer(def, JB_TM_FP32, m->shape, m->in_of, m->in2_of, m->layers, &m->counts, err, errlen);
    if (rc)
        goto fail;
    for (int i = 0; i < n; i++) {
        const struct jb_tm_layer *l = &m->layers[i];
        if (!has_weights(l->op))
            continue;
        size_t n_w = l->op == JB_TM_DWCONV ? (size_t)l->k_h * l->k_w * l->out_c
                     : l->op == JB_TM_FC   ? (size_t)l->in_c * l->out_c
                                           : (size_t)l->k_h * l->k_w * l->in_c * l->out_c;
        m->wf[i] = malloc(n_w * sizeof(float));
        m->bf[i] = malloc((size_t)l->out_c * sizeof(float));
        if (!m->wf[i] || !m->bf[i]) {
            rc = jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", def->name);
            goto fail;
        }
        jb_tm_synth_weights(&m->layers[i], def->name, seed, i, m->wf[i], m->bf[i]);
    }
    set_f32_layers(m);
    if (dtype == JB_TM_INT8) {
        float lo[JB_TM_MAX_TENSORS], hi[JB_TM_MAX_TENSORS];
        rc = calibrate(m, seed, lo, hi, err, errlen);
        if (rc)
            goto fail;
        /* counts and layer dtype for int8 */
        struct jb_tm_counts c8;
        for (int i = 0; i < n; i++)
            m->layers[i].dtype = JB_TM_INT8;
        rc = jb_tm_def_counts(def, JB_TM_INT8, &c8, err, errlen);
        if (rc)
            goto fail;
        m->counts = c8;
        rc = quantize(m, lo, hi, err, errlen);
        if (rc)
            goto fail;
    }
    if ((rc = jb_tm_model_finish(m, isa, err, errlen)))
        goto fail;
    *out = m;
    return JB_OK;
fail:
    jb_tm_model_close(m);
    return rc;
}

const struct jb_tm_counts *jb_tm_model_counts(const struct jb_tm_model *m)
{
    return &m->counts;
}

enum jb_isa jb_tm_model_isa(const struct jb_tm_model *m)
{
    return m->isa;
}

size_t jb_tm_model_input_elems(const struct jb_tm_model *m)
{
    return telems(&m->shape[0]);
}

size_t jb_tm_model_output_elems(const struct jb_tm_model *m)
{
    return telems(&m->shape[m->n]);
}

size_t jb_tm_model_elem_bytes(const struct jb_tm_model *m)
{
    return m->dtype == JB_TM_INT8 ? 1 : 4;
}

size_t jb_tm_model_arena_bytes(const struct jb_tm_model *m)
{
    return m->arena_bytes;
}

int jb_tm_model_n_layers(const struct jb_tm_model *m)
{
    return m->n;
}

const struct jb_tm_layer *jb_tm_model_layer(const struct jb_tm_model *m, int i, int *in_tensor,
                                            int *in2_tensor)
{
    if (i < 0 || i >= m->n)
        return NULL;
    if (in_tensor)
        *in_tensor = m->in_of[i];
    if (in2_tensor)
        *in2_tensor = m->in2_of[i];
    return &m->layers[i];
}

size_t jb_tm_model_tensor_elems(const struct jb_tm_model *m, int t)
{
    return t < 0 || t > m->n ? 0 : telems(&m->shape[t]);
}

enum jb_tm_dtype jb_tm_model_dtype(const struct jb_tm_model *m)
{
    return m->dtype;
}

const struct jb_tm_model_def *jb_tm_model_get_def(const struct jb_tm_model *m)
{
    return m->def;
}

const char *jb_tm_model_sha256(const struct jb_tm_model *m)
{
    return m->sha256[0] ? m->sha256 : NULL;
}

float jb_tm_model_input_scale(const struct jb_tm_model *m, int32_t *zero_point)
{
    if (zero_point)
        *zero_point = m->t_zp[0];
    return m->t_scale[0];
}

float jb_tm_model_output_scale(const struct jb_tm_model *m, int32_t *zero_point)
{
    if (zero_point)
        *zero_point = m->t_zp[m->n];
    return m->t_scale[m->n];
}

int jb_tm_model_make_input(const struct jb_tm_model *m, uint64_t seed, uint64_t item, void *dst)
{
    size_t n = jb_tm_model_input_elems(m);
    float gain = m->input_gain > 0 ? m->input_gain : 1.0f;
    if (m->dtype == JB_TM_FP32) {
        float *x = dst;
        jb_tm_synth_input(m->def, seed, item, x);
        for (size_t i = 0; gain != 1.0f && i < n; i++)
            x[i] *= gain;
        return JB_OK;
    }
    float *x = malloc(n * sizeof(float));
    if (!x)
        return JB_ENOMEM;
    jb_tm_synth_input(m->def, seed, item, x);
    for (size_t i = 0; gain != 1.0f && i < n; i++)
        x[i] *= gain;
    for (size_t i = 0; i < n; i++) {
        /* a file's input scale may be tiny: clamp before rounding to integer */
        double q = x[i] / m->t_scale[0];
        q = q > 1e6 ? 1e6 : q < -1e6 ? -1e6 : q;
        ((int8_t *)dst)[i] = (int8_t)clampi(llround(q) + m->t_zp[0], -128, 127);
    }
    free(x);
    return JB_OK;
}

void jb_tm_model_run(const struct jb_tm_model *m, int reference, const void *in, void *out,
                     void *arena)
{
    const void *tp[JB_TM_MAX_TENSORS];
    uint8_t *a = arena;
    tp[0] = in;
    for (int i = 0; i < m->n; i++) {
        void *dst = i == m->n - 1 ? out : a + m->t_off[i + 1];
        const void *src = tp[m->in_of[i]];
        const void *src2 = m->in2_of[i] >= 0 ? tp[m->in2_of[i]] : NULL;
        if (reference)
            jb_tm_layer_run_ref(&m->layers[i], src, src2, dst);
        else
            jb_tm_kernel_run(m->kernels[i], src, src2, dst, a + m->scratch_off);
        tp[i + 1] = dst;
    }
}

int jb_tm_model_infer(const struct jb_tm_model *m, int h, int w, int c, const void *in, void *out,
                      char *err, size_t errlen)
{
    const struct jb_tm_tshape *s = &m->shape[0];
    if (h != s->h || w != s->w || c != s->c)
        return jb_err(err, errlen, JB_EINVAL, "%s: input is %dx%dx%d, the model takes %dx%dx%d",
                      m->def->name, h, w, c, s->h, s->w, s->c);
    if (!in || !out)
        return jb_err(err, errlen, JB_EINVAL, "%s: NULL input or output", m->def->name);
    void *arena = aligned_alloc(64, m->arena_bytes);
    if (!arena)
        return jb_err(err, errlen, JB_ENOMEM, "%s: out of memory", m->def->name);
    jb_tm_model_run(m, 0, in, out, arena);
    free(arena);
    return JB_OK;
}
