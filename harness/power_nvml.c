/* power_nvml.c: NVIDIA GPUs through NVML, loaded with dlopen.
 *
 * No header and no link-time dependency: the few functions are declared
 * here and looked up in libnvidia-ml.so.1 at open, so one binary runs on
 * machines with and without the driver, and the tests load a fake library
 * through the very same path (nvml:lib=PATH or JB_NVML_LIB). One domain per
 * GPU: the total-energy counter (millijoules since the driver loaded; Volta
 * and later) where the GPU has it, else the power reading (milliwatts),
 * which energy.c integrates. The energy counter advances only about every
 * 100 ms, which energy.c measures and accounts for. Clocks, temperature,
 * enforced power limit and throttle reasons are recorded at the start and
 * end of every run. Options: lib=PATH, gpu=N (one GPU only). */
#include "harness/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVML_MAX_GPUS 16
/* nvidia-smi documents board power as accurate to within +/- 5 W; taken as
 * the calibration term of both the energy counter and the power reading. */
#define NVML_ACCURACY_W 5.0

typedef int nvml_ret;                 /* nvmlReturn_t: 0 = NVML_SUCCESS */
typedef struct nvml_dev_st *nvml_dev; /* nvmlDevice_t: an opaque handle */
enum {
    NVML_OK = 0,
    NVML_NOT_SUPPORTED = 3,
    NVML_CLOCK_GRAPHICS = 0,
    NVML_CLOCK_SM = 1,
    NVML_CLOCK_MEM = 2,
    NVML_TEMPERATURE_GPU = 0,
};

struct nvml_api {
    nvml_ret (*init)(void);
    nvml_ret (*shutdown)(void);
    nvml_ret (*count)(unsigned *);
    nvml_ret (*handle)(unsigned, nvml_dev *);
    nvml_ret (*energy)(nvml_dev, unsigned long long *); /* mJ */
    nvml_ret (*power)(nvml_dev, unsigned *);            /* mW */
    nvml_ret (*name)(nvml_dev, char *, unsigned);
    nvml_ret (*clock)(nvml_dev, int, unsigned *); /* MHz */
    nvml_ret (*temp)(nvml_dev, int, unsigned *);  /* degrees C */
    nvml_ret (*limit)(nvml_dev, unsigned *);      /* mW */
    nvml_ret (*throttle)(nvml_dev, unsigned long long *);
    const char *(*errstr)(nvml_ret);
    nvml_ret (*driver)(char *, unsigned);
};

struct nvml_gpu {
    nvml_dev dev;
    int index, has_energy;
    char name[96];
};

struct nvml {
    void *lib;
    struct nvml_api f;
    struct nvml_gpu g[NVML_MAX_GPUS];
    int n;
    char driver[80];
};

static const char *const nvml_keys[] = {"lib", "gpu", NULL};

static const char *nvml_strerror(const struct nvml *s, nvml_ret r)
{
    const char *m = s->f.errstr ? s->f.errstr(r) : NULL;
    return m ? m : "unknown NVML error";
}

static void nvml_free(struct nvml *s)
{
    if (s->lib) {
        if (s->f.shutdown && s->n >= 0)
            s->f.shutdown();
        dlclose(s->lib);
    }
    free(s);
}

#define NVML_SYM(field, sym, required)                                                             \
    do {                                                                                           \
        *(void **)(&s->f.field) = dlsym(s->lib, sym);                                              \
        if ((required) && !s->f.field) {                                                           \
            rc = jb_err(err, n, JB_ENOTSUP, "nvml: %s lacks %s", path, sym);                       \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

static int nvml_setup(const char *o, struct nvml **out, char *err, size_t n)
{
    int rc = jb_power_opts_check("nvml", o, nvml_keys, err, n);
    if (rc)
        return rc;
    char path[512] = "libnvidia-ml.so.1";
    const char *env = getenv("JB_NVML_LIB");
    if (!jb_power_opt_str(o, "lib", path, sizeof(path)) && env && env[0])
        snprintf(path, sizeof(path), "%s", env);
    double only = -1;
    if ((rc = jb_power_opt_double("nvml", o, "gpu", -1, &only, err, n)))
        return rc;
    struct nvml *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "nvml: out of memory");
    s->n = -1; /* not initialized: no nvmlShutdown on failure */
    s->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!s->lib) {
        const char *de = dlerror();
        rc = jb_err(err, n, JB_ENOTSUP, "no %s (no NVIDIA driver): %s", path, de ? de : "");
        goto fail;
    }
    NVML_SYM(init, "nvmlInit_v2", 1);
    NVML_SYM(shutdown, "nvmlShutdown", 1);
    NVML_SYM(count, "nvmlDeviceGetCount_v2", 1);
    NVML_SYM(handle, "nvmlDeviceGetHandleByIndex_v2", 1);
    NVML_SYM(power, "nvmlDeviceGetPowerUsage", 1);
    NVML_SYM(errstr, "nvmlErrorString", 1);
    NVML_SYM(energy, "nvmlDeviceGetTotalEnergyConsumption", 0);
    NVML_SYM(name, "nvmlDeviceGetName", 0);
    NVML_SYM(clock, "nvmlDeviceGetClockInfo", 0);
    NVML_SYM(temp, "nvmlDeviceGetTemperature", 0);
    NVML_SYM(limit, "nvmlDeviceGetEnforcedPowerLimit", 0);
    NVML_SYM(throttle, "nvmlDeviceGetCurrentClocksThrottleReasons", 0);
    NVML_SYM(driver, "nvmlSystemGetDriverVersion", 0);
    nvml_ret r = s->f.init();
    if (r != NVML_OK) {
        rc = jb_err(err, n, JB_ENOTSUP, "nvml: nvmlInit_v2: %s (NVIDIA driver not loaded?)",
                    nvml_strerror(s, r));
        goto fail;
    }
    s->n = 0;
    unsigned count = 0;
    if ((r = s->f.count(&count)) != NVML_OK || count == 0) {
        rc = jb_err(err, n, JB_ENOTSUP, "nvml: %s",
                    r ? nvml_strerror(s, r) : "the driver sees no NVIDIA GPU");
        goto fail;
    }
    if (s->f.driver && s->f.driver(s->driver, sizeof(s->driver)) != NVML_OK)
        s->driver[0] = 0;
    for (unsigned i = 0; i < count && s->n < NVML_MAX_GPUS; i++) {
        if (only >= 0 && (unsigned)only != i)
            continue;
        struct nvml_gpu *g = &s->g[s->n];
        if ((r = s->f.handle(i, &g->dev)) != NVML_OK) {
            rc = jb_err(err, n, JB_EIO, "nvml: nvmlDeviceGetHandleByIndex_v2(%u): %s", i,
                        nvml_strerror(s, r));
            goto fail;
        }
        g->index = (int)i;
        unsigned long long mj;
        g->has_energy = s->f.energy && s->f.energy(g->dev, &mj) == NVML_OK;
        if (!s->f.name || s->f.name(g->dev, g->name, sizeof(g->name)) != NVML_OK)
            snprintf(g->name, sizeof(g->name), "GPU %u", i);
        s->n++;
    }
    if (!s->n) {
        rc = jb_err(err, n, JB_ENOENT, "nvml: no GPU %g among %u", only, count);
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
    memset(r, 0, sizeof(*r));
    nvml_ret rv;
    if (g->has_energy) {
        unsigned long long mj;
        if ((rv = s->f.energy(g->dev, &mj)) != NVML_OK)
            return jb_err(err, n, JB_EUNAVAIL,
                          "nvml: nvmlDeviceGetTotalEnergyConsumption: %s on GPU %d",
                          nvml_strerror(s, rv), g->index);
        r->energy_j = (double)mj * 1e-3;
    } else {
        unsigned mw;
        if ((rv = s->f.power(g->dev, &mw)) != NVML_OK)
            return jb_err(err, n, JB_EUNAVAIL, "nvml: nvmlDeviceGetPowerUsage: %s on GPU %d",
                          nvml_strerror(s, rv), g->index);
        r->power_w = mw * 1e-3;
    }
    r->t_s = jb_power_now_s();
    return JB_OK;
}

static void nvml_close(void *st)
{
    nvml_free(st);
}

/* nvmlClocksThrottleReasons bits, as in nvml.h */
static const struct {
    unsigned long long bit;
    const char *name;
} throttle_names[] = {
    {0x1, "gpu_idle"},
    {0x2, "applications_clocks_setting"},
    {0x4, "sw_power_cap"},
    {0x8, "hw_slowdown"},
    {0x10, "sync_boost"},
    {0x20, "sw_thermal_slowdown"},
    {0x40, "hw_thermal_slowdown"},
    {0x80, "hw_power_brake_slowdown"},
    {0x100, "display_clock_setting"},
};

static void nvml_state(void *st, int dom, json_t *out)
{
    struct nvml *s = st;
    const struct nvml_gpu *g = &s->g[dom];
    unsigned v;
    unsigned long long t;
    json_object_set_new(out, "gpu_name", json_string(g->name));
    if (s->driver[0])
        json_object_set_new(out, "driver_version", json_string(s->driver));
    json_object_set_new(out, "counter",
                        json_string(g->has_energy ? "total_energy" : "power_usage_integrated"));
    if (s->f.clock && s->f.clock(g->dev, NVML_CLOCK_SM, &v) == NVML_OK)
        json_object_set_new(out, "sm_clock_mhz", json_integer(v));
    if (s->f.clock && s->f.clock(g->dev, NVML_CLOCK_MEM, &v) == NVML_OK)
        json_object_set_new(out, "mem_clock_mhz", json_integer(v));
    if (s->f.clock && s->f.clock(g->dev, NVML_CLOCK_GRAPHICS, &v) == NVML_OK)
        json_object_set_new(out, "graphics_clock_mhz", json_integer(v));
    if (s->f.temp && s->f.temp(g->dev, NVML_TEMPERATURE_GPU, &v) == NVML_OK)
        json_object_set_new(out, "temperature_c", json_integer(v));
    if (s->f.limit && s->f.limit(g->dev, &v) == NVML_OK)
        json_object_set_new(out, "power_limit_w", json_real(v * 1e-3));
    if (s->f.power && s->f.power(g->dev, &v) == NVML_OK)
        json_object_set_new(out, "power_w", json_real(v * 1e-3));
    if (s->f.throttle && s->f.throttle(g->dev, &t) == NVML_OK) {
        char hex[32];
        snprintf(hex, sizeof(hex), "0x%llx", t);
        json_object_set_new(out, "throttle_reasons", json_string(hex));
        json_t *names = json_array();
        for (size_t i = 0; i < sizeof(throttle_names) / sizeof(throttle_names[0]); i++)
            if (t & throttle_names[i].bit)
                json_array_append_new(names, json_string(throttle_names[i].name));
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
