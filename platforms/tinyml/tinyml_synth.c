/* tinyml_synth.c: the synthetic weights and inputs of the TinyML models.
 *
 * Energy depends on the data, so weights are shaped like trained ones, not
 * zeros or constants: He-normal (std sqrt(2 / fan_in)) truncated at two
 * standard deviations, times a per-channel folded batch-norm scale in
 * [0.7, 1.3], and a bias of N(0, 0.05^2). Inputs imitate each task's
 * features (images, MFCCs, log-mel frames). Every value is a pure function
 * of (seed, model name, layer or item): splitmix64 streams. */
#include "platforms/tinyml/tinyml_synth.h"

#include <math.h>

/* splitmix64: a fast, well-mixed generator; one stream per (seed, purpose). */
static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
    return ((double)(mix64(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
    double u1 = uniform01(s), u2 = uniform01(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static uint64_t stream(uint64_t seed, const char *name, uint64_t a, uint64_t b)
{
    uint64_t h = seed ^ 0x6a09e667f3bcc909ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint64_t)(unsigned char)*p) * 0x100000001b3ull;
    h ^= a * 0x9e3779b97f4a7c15ull;
    mix64(&h);
    h ^= b * 0xc2b2ae3d27d4eb4full;
    mix64(&h);
    return h;
}

/* fp32 input of one item, whatever the model's dtype. */
void jb_tm_synth_input(const struct jb_tm_model_def *def, uint64_t seed, uint64_t item, float *x)
{
    uint64_t s = stream(seed, def->name, 0x1000 + item, 1);
    int h = def->in_h, w = def->in_w, c = def->in_c;
    switch (def->input) {
    case JB_TM_INPUT_IMAGE: {
        /* a few oriented gratings per channel: smooth regions and edges */
        double f[3][2], ph[3];
        for (int k = 0; k < 3; k++) {
            f[k][0] = 0.05 + 0.4 * uniform01(&s);
            f[k][1] = 0.05 + 0.4 * uniform01(&s);
            ph[k] = 6.283185307179586 * uniform01(&s);
        }
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                for (int ch = 0; ch < c; ch++) {
                    int k = ch % 3;
                    double v =
                        0.5 + 0.3 * sin(f[k][0] * y + f[k][1] * xx + ph[k]) + 0.08 * normal(&s);
                    x[((size_t)y * w + xx) * c + ch] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
                }
        break;
    }
    case JB_TM_INPUT_MFCC:
        /* 49 frames x 10 coefficients: coefficient 0 (energy) large, the
         * others shrinking with their index, all slowly varying in time */
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                double scale = xx == 0 ? 20.0 : 8.0 / (1.0 + 0.5 * xx);
                double base = xx == 0 ? -30.0 : 0.0;
                x[(size_t)y * w + xx] =
                    (float)(base + scale * (0.6 * sin(0.2 * y + xx) + 0.4 * normal(&s)));
            }
        break;
    case JB_TM_INPUT_LOGMEL: {
        /* 5 frames x 128 mel bands: a per-band level plus frame noise */
        double level[128];
        for (int b = 0; b < 128; b++)
            level[b] = -20.0 + 10.0 * exp(-b / 40.0) + 2.0 * normal(&s);
        for (size_t i = 0; i < (size_t)c; i++)
            x[i] = (float)(level[i % 128] + 1.5 * normal(&s));
        break;
    }
    }
}

void jb_tm_synth_weights(const struct jb_tm_layer *l, const char *model, uint64_t seed, int i,
                         float *w, float *b)
{
    uint64_t s = stream(seed, model, (uint64_t)i, 2);
    size_t fan_in, n_w;
    int oc = l->out_c;
    if (l->op == JB_TM_CONV) {
        fan_in = (size_t)l->k_h * l->k_w * l->in_c;
        n_w = fan_in * oc;
    } else if (l->op == JB_TM_DWCONV) {
        fan_in = (size_t)l->k_h * l->k_w;
        n_w = fan_in * oc;
    } else {
        fan_in = (size_t)l->in_c;
        n_w = fan_in * oc;
    }
    double sd = sqrt(2.0 / (double)fan_in);
    for (size_t k = 0; k < n_w; k++) {
        double v;
        do
            v = normal(&s);
        while (fabs(v) > 2.0);
        w[k] = (float)(v * sd);
    }
    /* folded batch norm: a scale per output channel and a bias */
    for (int o = 0; o < oc; o++) {
        double g = 0.7 + 0.6 * uniform01(&s);
        if (l->op == JB_TM_DWCONV)
            for (size_t k = 0; k < fan_in; k++)
                w[k * oc + o] = (float)(w[k * oc + o] * g);
        else
            for (size_t k = 0; k < fan_in; k++)
                w[(size_t)o * fan_in + k] = (float)(w[(size_t)o * fan_in + k] * g);
        b[o] = (float)(0.05 * normal(&s));
    }
}
