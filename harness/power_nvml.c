/* power_nvml.c: NVIDIA GPUs as a power source, through harness/nvml.c
 * (NVML loaded with dlopen: one binary runs on machines with and without the
 * driver, and the tests load a fake library through the very same path,
 * nvml:lib=PATH or JB_NVML_LIB). One domain per GPU: the total-energy
 * counter (millijoules since the driver loaded; Volta and later) where the
 * GPU has it, else the power reading (milliwatts), which energy.c
 * integrates. The energy counter advances only about every 100 ms, which
 * energy.c measures and accounts for. Clocks, temperature, enforced power
 * limit and throttle reasons are recorded at the start and end of every
 * run. Options: lib=PATH, gpu=N (one GPU only). */
#include "base/error.h"
#include "harness/nvml.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVML_MAX_GPUS 16
/* nvidia-smi documents board power as accurate to within +/- 5 W; taken as
 * the calibration term of both the energy counter and the power reading. */
#define NVML_ACCURACY_W 5.0

struct nvml_gpu {
    int index, has_energy;
    char name[96];
};

struct nvml {
    struct jb_nvml *nv;
    struct nvml_gpu g[NVML_MAX_GPUS];
    int n;
};

static const char *const nvml_keys[] = {"lib", "gpu", NULL};

static void nvml_free(struct nvml *s)
{
    jb_nvml_close(s->nv);
    free(s);
}

static int nvml_setup(const char *o, struct nvml **out, char *err, size_t n)
{
    int rc = jb_power_opts_check("nvml", o, nvml_keys, err, n);
    if (rc)
        return rc;
    char path[512];
    int have_path = jb_power_opt_str(o, "lib", path, sizeof(path));
    double only = -1;
    if ((rc = jb_power_opt_double("nvml", o, "gpu", -1, &only, err, n)))
        return rc;
    struct nvml *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "nvml: out of memory");
    if ((rc = jb_nvml_open(have_path ? path : NULL, &s->nv, err, n)))
        goto fail;
    int count = jb_nvml_count(s->nv);
    if (count == 0) {
        rc = jb_err(err, n, JB_ENOTSUP, "nvml: the driver sees no NVIDIA GPU");
        goto fail;
    }
    for (int i = 0; i < count && s->n < NVML_MAX_GPUS; i++) {
        if (only >= 0 && (int)only != i)
            continue;
        struct nvml_gpu *g = &s->g[s->n++];
        unsigned long long mj;
        g->index = i;
        g->has_energy = jb_nvml_energy_mj(s->nv, i, &mj, NULL, 0) == 0;
        if (jb_nvml_name(s->nv, i, g->name, sizeof(g->name), NULL, 0))
            snprintf(g->name, sizeof(g->name), "GPU %d", i);
    }
    if (!s->n) {
        rc = jb_err(err, n, JB_ENOENT, "nvml: no GPU %g among %d", only, count);
        goto fail;
    }
    *out = s;
    return JB_OK;
fail:
    nvml_free(s);
    return rc;
}

static int nvml_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    (void)c;
    struct nvml *s = NULL;
    int rc = nvml_setup(o, &s, why, n);
    if (!rc)
        nvml_free(s);
    return rc;
}

static int nvml_open(const char *o, const struct jb_power_context *c, void **st, char *err,
                     size_t n)
{
    (void)c;
    struct nvml *s = NULL;
    int rc = nvml_setup(o, &s, err, n);
    *st = s;
    return rc;
}

static int nvml_ndomains(const void *st)
{
    return ((const struct nvml *)st)->n;
}

static void nvml_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    const struct nvml_gpu *g = &((const struct nvml *)st)->g[i];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "gpu-%d", g->index);
    d->kind = g->has_energy ? JB_POWER_ENERGY_COUNTER : JB_POWER_POWER_SAMPLE;
    d->measured = 1;
    d->resolution_j = g->has_energy ? 1e-3 : 0;
    d->update_period_s = 0; /* not documented: measured at open (~100 ms on H100) */
    d->accuracy_w = NVML_ACCURACY_W;
}

static int nvml_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    struct nvml *s = st;
    const struct nvml_gpu *g = &s->g[dom];
    int rc;
    memset(r, 0, sizeof(*r));
    if (g->has_energy) {
        unsigned long long mj;
        if ((rc = jb_nvml_energy_mj(s->nv, g->index, &mj, err, n)))
            return rc;
        r->energy_j = (double)mj * 1e-3;
    } else {
        unsigned mw;
        if ((rc = jb_nvml_power_mw(s->nv, g->index, &mw, err, n)))
            return rc;
        r->power_w = mw * 1e-3;
    }
    r->t_s = jb_power_now_s();
    return JB_OK;
}

static void nvml_close(void *st)
{
    nvml_free(st);
}

static void nvml_state(void *st, int dom, json_t *out)
{
    struct nvml *s = st;
    const struct nvml_gpu *g = &s->g[dom];
    struct jb_gpu_state gs;
    jb_nvml_state(s->nv, g->index, &gs, NULL, 0); /* what could not be read is left out */
    json_object_set_new(out, "gpu_name", json_string(g->name));
    if (jb_nvml_driver(s->nv)[0])
        json_object_set_new(out, "driver_version", json_string(jb_nvml_driver(s->nv)));
    json_object_set_new(out, "counter",
                        json_string(g->has_energy ? "total_energy" : "power_usage_integrated"));
    if (gs.have & JB_GPU_SM_MHZ)
        json_object_set_new(out, "sm_clock_mhz", json_integer(gs.sm_mhz));
    if (gs.have & JB_GPU_MEM_MHZ)
        json_object_set_new(out, "mem_clock_mhz", json_integer(gs.mem_mhz));
    if (gs.have & JB_GPU_GRAPHICS_MHZ)
        json_object_set_new(out, "graphics_clock_mhz", json_integer(gs.graphics_mhz));
    if (gs.have & JB_GPU_TEMP_C)
        json_object_set_new(out, "temperature_c", json_integer(gs.temp_c));
    if (gs.have & JB_GPU_POWER_LIMIT_MW)
        json_object_set_new(out, "power_limit_w", json_real(gs.power_limit_mw * 1e-3));
    if (gs.have & JB_GPU_POWER_MW)
        json_object_set_new(out, "power_w", json_real(gs.power_mw * 1e-3));
    if (gs.have & JB_GPU_REASONS) {
        char hex[32];
        snprintf(hex, sizeof(hex), "0x%llx", gs.reasons);
        json_object_set_new(out, "throttle_reasons", json_string(hex));
        json_t *names = json_array();
        for (int b = 0; b < 64; b++) {
            const char *name = jb_nvml_reason_name(gs.reasons & (1ull << b));
            if (name)
                json_array_append_new(names, json_string(name));
        }
        json_object_set_new(out, "throttle_reason_names", names);
    }
}

const struct jb_power_source_ops jb_power_nvml = {
    .name = "nvml",
    .description = "NVIDIA GPUs through NVML (dlopen): total-energy counter, else power",
    .is_hardware = 1,
    .probe = nvml_probe,
    .open = nvml_open,
    .ndomains = nvml_ndomains,
    .domain = nvml_domain,
    .read = nvml_read,
    .close = nvml_close,
    .domain_state = nvml_state,
};
