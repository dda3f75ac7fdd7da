/* tinyml_dataset.c: accuracy and AUC of a TinyML model on a data set in
 * the EnergyRunner layout (see tinyml_dataset.h).
 *
 * Each raw file becomes the model's input through the real values it
 * stands for: pixels are byte * gain / 255 (vww01 [0, 1], ic01 0..255),
 * kws01's int8 MFCCs dequantize with the int8 reference model's input
 * quantization (read from that file, so the fp32 model sees the values the
 * int8 one does), ad01's are float32 already. An int8 model quantizes the
 * real values with its own input scale and zero point (round half away
 * from zero, as TFLite's QUANTIZE), which maps the EnergyRunner bytes to
 * exactly what the reference submissions feed the int8 models (byte - 128
 * for vww01 and ic01, the bytes themselves for kws01). */
#include "workloads/tinyml/tinyml_dataset.h"

#include "base/error.h"
#include "platforms/tinyml/tflite.h"
#include "workloads/tinyml/tinyml_official.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* y_labels.csv of the official sets has at most 1000 lines; a bound keeps a
 * hostile file from growing the score arrays without end. */
#define DS_MAX_ITEMS 100000
#define DS_MAX_FILE (16u << 20)

struct ds {
    const struct jb_tm_model *m;
    const struct jb_tm_official *off;
    const char *dir;
    float raw_scale; /* kws01: the int8 reference model's input quantization */
    int32_t raw_zp;
    size_t in_elems, out_elems, eb;
    void *in, *out, *arena;
    float *real;
    char *err;
    size_t errlen;
};

static int read_file(const char *path, uint8_t **buf, size_t *n, char *err, size_t errlen)
{
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return jb_err(err, errlen, JB_ENOENT, "dataset: %s: cannot open", path);
    int rc = JB_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET)) {
        rc = jb_err(err, errlen, JB_EIO, "dataset: %s: cannot size", path);
        goto out;
    }
    if ((unsigned long)size > DS_MAX_FILE) {
        rc = jb_err(err, errlen, JB_EINVAL, "dataset: %s: larger than 16 MiB", path);
        goto out;
    }
    *buf = malloc(size ? (size_t)size : 1);
    if (!*buf) {
        rc = jb_err(err, errlen, JB_ENOMEM, "dataset: out of memory");
        goto out;
    }
    if (fread(*buf, 1, (size_t)size, f) != (size_t)size) {
        rc = jb_err(err, errlen, JB_EIO, "dataset: %s: read error", path);
        goto out;
    }
    *n = (size_t)size;
out:
    fclose(f);
    if (rc) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

/* Runs the model on ds->real (in_elems real values). */
static void infer(struct ds *d)
{
    if (jb_tm_model_dtype(d->m) == JB_TM_FP32) {
        memcpy(d->in, d->real, d->in_elems * sizeof(float));
    } else {
        int32_t zp;
        float s = jb_tm_model_input_scale(d->m, &zp);
        int8_t *q = d->in;
        for (size_t i = 0; i < d->in_elems; i++) {
            float r = d->real[i] / s; /* clamped: a model's scale may be tiny */
            long v = lroundf(r > 1e6f ? 1e6f : r < -1e6f ? -1e6f : r) + zp;
            q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
    jb_tm_model_run(d->m, 0, d->in, d->out, d->arena);
}

static double out_real(const struct ds *d, size_t i)
{
    if (jb_tm_model_dtype(d->m) == JB_TM_FP32)
        return ((const float *)d->out)[i];
    int32_t zp;
    float s = jb_tm_model_output_scale(d->m, &zp);
    return (double)s * (((const int8_t *)d->out)[i] - zp);
}

/* One classification file: 1 if the arg-max is the label. */
static int classify(struct ds *d, const uint8_t *buf, size_t n, const char *name, int label,
                    int *correct)
{
    if (n != d->in_elems)
        return jb_err(d->err, d->errlen, JB_EINVAL,
                      "dataset: %s: %zu bytes, the model takes %zu inputs of one byte", name, n,
                      d->in_elems);
    for (size_t i = 0; i < n; i++)
        d->real[i] = d->off->raw == JB_TM_RAW_U8_PIXELS
                         ? (float)buf[i] * d->off->input_gain / 255.0f
                         : d->raw_scale * (float)((int8_t)buf[i] - d->raw_zp);
    infer(d);
    size_t best = 0;
    for (size_t i = 1; i < d->out_elems; i++)
        if (out_real(d, i) > out_real(d, best))
            best = i;
    *correct = (int)best == label;
    return 0;
}

/* One anomaly-detection file: mean squared error over its windows. */
static int anomaly(struct ds *d, const uint8_t *buf, size_t n, const char *name, long width,
                   long stride, double *score)
{
    if (width != (long)(d->in_elems * 4) || stride < 4 || stride % 4 || n < (size_t)width || n % 4)
        return jb_err(d->err, d->errlen, JB_EINVAL,
                      "dataset: %s: window of %ld bytes, stride %ld, file of %zu: the model "
                      "takes windows of %zu float32",
                      name, width, stride, n, d->in_elems);
    double sum = 0.0;
    long windows = 0;
    for (size_t at = 0; n - at >= (size_t)width; at += (size_t)stride, windows++) {
        memcpy(d->real, buf + at, (size_t)width);
        for (size_t i = 0; i < d->in_elems; i++)
            if (!isfinite(d->real[i]))
                return jb_err(d->err, d->errlen, JB_EINVAL, "dataset: %s: value not finite", name);
        infer(d);
        double e = 0.0;
        for (size_t i = 0; i < d->in_elems; i++) {
            double diff = out_real(d, i) - d->real[i];
            e += diff * diff;
        }
        sum += e / (double)d->in_elems;
    }
    *score = sum / (double)windows;
    return 0;
}

/* Area under the ROC curve: P(anomalous score > normal score), ties half. */
static double auc(const double *score, const int *label, int n)
{
    double wins = 0.0, pairs = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (label[i] == 1 && label[j] == 0) {
                pairs += 1.0;
                wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
            }
    return pairs > 0 ? wins / pairs : 0.0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

static int parse_long(const char *s, long *v)
{
    char *end;
    *v = strtol(s, &end, 10);
    return *s && !*end ? 0 : -1;
}

/* kws01's raw files are at the int8 reference model's input quantization. */
static int raw_quant(struct ds *d)
{
    d->raw_scale = 1.0f;
    d->raw_zp = 0;
    if (d->off->raw != JB_TM_RAW_S8_QUANT)
        return 0;
    char path[256];
    struct jb_tfl_model *f = NULL;
    if (jb_tm_official_path(d->off, JB_TM_INT8, path, sizeof(path)))
        return jb_err(d->err, d->errlen, JB_ENOENT,
                      "dataset: %s (whose input quantization the data set uses) not found", path);
    int rc = jb_tfl_load(path, &f, d->err, d->errlen);
    if (rc)
        return rc;
    const struct jb_tfl_tensor *t = f->n_inputs == 1 ? &f->tensors[f->inputs[0]] : NULL;
    if (!t || t->n_q != 1) {
        jb_tfl_free(f);
        return jb_err(d->err, d->errlen, JB_EFORMAT, "dataset: %s: no input quantization", path);
    }
    d->raw_scale = t->scale[0];
    d->raw_zp = (int32_t)t->zero_point[0];
    jb_tfl_free(f);
    return 0;
}

int jb_tm_dataset_score(const struct jb_tm_model *m, const char *workload, const char *dir,
                        struct jb_tm_quality *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof(*q));
    const struct jb_tm_official *off = jb_tm_official_find(workload);
    if (!off)
        return jb_err(err, errlen, JB_ENOTSUP, "%s: no data-set format known", workload);
    struct ds d = {.m = m, .off = off, .dir = dir, .err = err, .errlen = errlen};
    d.in_elems = jb_tm_model_input_elems(m);
    d.out_elems = jb_tm_model_output_elems(m);
    d.eb = jb_tm_model_elem_bytes(m);
    int rc = JB_OK, n = 0, cap = 0, correct = 0;
    double *scores = NULL;
    int *labels = NULL;
    char path[512], line[1024];
    snprintf(path, sizeof(path), "%s/y_labels.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return jb_err(err, errlen, JB_ENOENT,
                      "dataset: %s: cannot open (EnergyRunner layout: "
                      "y_labels.csv beside the input files)",
                      path);
    d.in = malloc(d.in_elems * d.eb);
    d.out = malloc(d.out_elems * d.eb);
    d.real = malloc(d.in_elems * sizeof(float));
    d.arena = aligned_alloc(64, jb_tm_model_arena_bytes(m));
    if (!d.in || !d.out || !d.real || !d.arena) {
        rc = jb_err(err, errlen, JB_ENOMEM, "dataset: out of memory");
        goto out;
    }
    if ((rc = raw_quant(&d)))
        goto out;
    int is_ad = off->raw == JB_TM_RAW_F32_WINDOWS;
    if (is_ad && d.out_elems != d.in_elems) {
        rc = jb_err(err, errlen, JB_EINVAL,
                    "dataset: %s: an autoencoder's output (%zu) must match its input (%zu)",
                    workload, d.out_elems, d.in_elems);
        goto out;
    }
    for (int lineno = 1; fgets(line, sizeof(line), f); lineno++) {
        char *fields[6];
        int nf = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        for (char *tok = s; tok && nf < 6; nf++) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma = 0;
            fields[nf] = trim(tok);
            tok = comma ? comma + 1 : NULL;
        }
        long classes, label, width = 0, stride = 0;
        if (nf != (is_ad ? 5 : 3) || !fields[0][0] || strchr(fields[0], '/') ||
            parse_long(fields[1], &classes) || parse_long(fields[2], &label) ||
            (is_ad && (parse_long(fields[3], &width) || parse_long(fields[4], &stride)))) {
            rc = jb_err(err, errlen, JB_EINVAL, "dataset: %s:%d: expected 'file, classes, label%s'",
                        path, lineno, is_ad ? ", window bytes, stride bytes" : "");
            goto out;
        }
        long want_classes = is_ad ? 2 : (long)d.out_elems;
        if (classes != want_classes || label < 0 || label >= classes) {
            rc = jb_err(err, errlen, JB_EINVAL,
                        "dataset: %s:%d: %ld classes, label %ld (the model has %ld classes)", path,
                        lineno, classes, label, want_classes);
            goto out;
        }
        if (n >= DS_MAX_ITEMS) {
            rc = jb_err(err, errlen, JB_EINVAL, "dataset: %s: more than %d items", path,
                        DS_MAX_ITEMS);
            goto out;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *ns = realloc(scores, sizeof(double) * (size_t)cap);
            if (ns)
                scores = ns;
            int *nl = realloc(labels, sizeof(int) * (size_t)cap);
            if (nl)
                labels = nl;
            if (!ns || !nl) {
                rc = jb_err(err, errlen, JB_ENOMEM, "dataset: out of memory");
                goto out;
            }
        }
        char fpath[1024];
        snprintf(fpath, sizeof(fpath), "%s/%s", dir, fields[0]);
        uint8_t *buf;
        size_t len = 0;
        if ((rc = read_file(fpath, &buf, &len, err, errlen)))
            goto out;
        int ok = 0;
        rc = is_ad ? anomaly(&d, buf, len, fpath, width, stride, &scores[n])
                   : classify(&d, buf, len, fpath, (int)label, &ok);
        free(buf);
        if (rc)
            goto out;
        labels[n++] = (int)label;
        correct += ok;
    }
    if (!n) {
        rc = jb_err(err, errlen, JB_EINVAL, "dataset: %s lists no input file", path);
        goto out;
    }
    if (is_ad) {
        int anomalous = 0;
        for (int i = 0; i < n; i++)
            anomalous += labels[i] == 1;
        if (!anomalous || anomalous == n) {
            rc = jb_err(err, errlen, JB_EINVAL,
                        "dataset: %s: AUC needs both normal (0) and anomalous (1) files", path);
            goto out;
        }
    }
    snprintf(q->metric, sizeof(q->metric), "%s", off->metric);
    q->target = off->target;
    q->items = n;
    q->value = is_ad ? auc(scores, labels, n) : (double)correct / n;
out:
    fclose(f);
    free(scores);
    free(labels);
    free(d.in);
    free(d.out);
    free(d.real);
    free(d.arena);
    return rc;
}

void jb_tm_quality_info(const struct jb_tm_quality *q, struct jb_workload_info *o)
{
    if (!q->metric[0])
        return;
    snprintf(o->quality_metric, sizeof(o->quality_metric), "%s", q->metric);
    o->quality_value = q->value;
    o->quality_target = q->target;
    o->quality_items = q->items;
}
