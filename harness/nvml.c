/* nvml.c: NVML through dlopen: the few functions the power source, the
 * CUDA benchmark and the sweep need, declared here by their documented
 * signatures (NVML's nvml.h: handles are opaque pointers, status codes ints,
 * energy in mJ, power in mW, clocks in MHz), so that no NVML header is
 * needed to build and a machine without the driver only loses the GPU,
 * never the build. */
#include "harness/nvml.h"
#include "base/error.h"
#include "harness/power_opts.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *nvml_dev;
typedef int nvml_ret;

/* NVML's status codes that matter here (nvmlReturn_t). */
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_GPU_IS_LOST = 15,
};
enum { NVML_CLOCK_GRAPHICS = 0, NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_TEMPERATURE_GPU = 0 };

#define NVML_MAX_GPUS 64

struct jb_nvml {
    void *lib;
    int count;
    nvml_dev dev[NVML_MAX_GPUS];
    char driver[80];
    nvml_ret (*init)(void);
    nvml_ret (*shutdown)(void);
    const char *(*error_string)(nvml_ret);
    nvml_ret (*get_count)(unsigned *);
    nvml_ret (*get_handle)(unsigned, nvml_dev *);
    nvml_ret (*get_name)(nvml_dev, char *, unsigned);
    nvml_ret (*get_energy)(nvml_dev, unsigned long long *);
    nvml_ret (*get_power)(nvml_dev, unsigned *);
    nvml_ret (*get_clock)(nvml_dev, int, unsigned *);
    nvml_ret (*get_temp)(nvml_dev, int, unsigned *);
    nvml_ret (*get_limit)(nvml_dev, unsigned *);
    nvml_ret (*get_reasons)(nvml_dev, unsigned long long *);
    nvml_ret (*get_pm_limit)(nvml_dev, unsigned *);
    nvml_ret (*get_pm_constraints)(nvml_dev, unsigned *, unsigned *);
    nvml_ret (*get_pm_default)(nvml_dev, unsigned *);
    nvml_ret (*get_mem_clocks)(nvml_dev, unsigned *, unsigned *);
    nvml_ret (*get_gfx_clocks)(nvml_dev, unsigned, unsigned *, unsigned *);
    nvml_ret (*get_app_clock)(nvml_dev, int, unsigned *);
    nvml_ret (*get_app_clock_default)(nvml_dev, int, unsigned *);
    nvml_ret (*set_pm_limit)(nvml_dev, unsigned);
    nvml_ret (*lock_clocks)(nvml_dev, unsigned, unsigned);
    nvml_ret (*reset_clocks)(nvml_dev);
    nvml_ret (*get_driver)(char *, unsigned);
};

static int nv_code(nvml_ret r)
{
    switch (r) {
    case NVML_SUCCESS:
        return JB_OK;
    case NVML_ERROR_NOT_SUPPORTED:
        return JB_ENOTSUP;
    case NVML_ERROR_NO_PERMISSION:
        return JB_EPERM;
    case NVML_ERROR_GPU_IS_LOST:
        return JB_EUNAVAIL;
    default:
        return JB_EIO;
    }
}

static int nv_fail(struct jb_nvml *n, nvml_ret r, const char *fn, int gpu, char *err, size_t errlen)
{
    return jb_err(err, errlen, nv_code(r), "nvml: %s: %s on GPU %d", fn,
                  n->error_string ? n->error_string(r) : "error", gpu);
}

int jb_nvml_open(const char *lib, struct jb_nvml **out, char *err, size_t errlen)
{
    int rc = 0;
    unsigned cnt = 0;
    nvml_ret r;
    *out = NULL;
    if (!lib)
        lib = getenv("JB_NVML_LIB");
    if (!lib || !*lib)
        lib = "libnvidia-ml.so.1";
    struct jb_nvml *n = calloc(1, sizeof(*n));
    if (!n)
        return jb_err(err, errlen, JB_ENOMEM, "nvml: out of memory");
    n->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!n->lib) {
        const char *de = dlerror();
        rc = jb_err(err, errlen, JB_ENOTSUP, "no %s (no NVIDIA driver): %s", lib, de ? de : "");
        goto out;
    }
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define SYM(field, name) *(void **)(&n->field) = dlsym(n->lib, name)
    SYM(init, "nvmlInit_v2");
    SYM(shutdown, "nvmlShutdown");
    SYM(error_string, "nvmlErrorString");
    SYM(get_count, "nvmlDeviceGetCount_v2");
    SYM(get_handle, "nvmlDeviceGetHandleByIndex_v2");
    SYM(get_name, "nvmlDeviceGetName");
    SYM(get_energy, "nvmlDeviceGetTotalEnergyConsumption");
    SYM(get_power, "nvmlDeviceGetPowerUsage");
    SYM(get_clock, "nvmlDeviceGetClockInfo");
    SYM(get_temp, "nvmlDeviceGetTemperature");
    SYM(get_limit, "nvmlDeviceGetEnforcedPowerLimit");
    /* Renamed in newer drivers; the old name is kept as an alias. */
    SYM(get_reasons, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!n->get_reasons)
        SYM(get_reasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
    SYM(get_pm_limit, "nvmlDeviceGetPowerManagementLimit");
    SYM(get_pm_constraints, "nvmlDeviceGetPowerManagementLimitConstraints");
    SYM(get_pm_default, "nvmlDeviceGetPowerManagementDefaultLimit");
    SYM(get_mem_clocks, "nvmlDeviceGetSupportedMemoryClocks");
    SYM(get_gfx_clocks, "nvmlDeviceGetSupportedGraphicsClocks");
    SYM(get_app_clock, "nvmlDeviceGetApplicationsClock");
    SYM(get_app_clock_default, "nvmlDeviceGetDefaultApplicationsClock");
    SYM(set_pm_limit, "nvmlDeviceSetPowerManagementLimit");
    SYM(lock_clocks, "nvmlDeviceSetGpuLockedClocks");
    SYM(reset_clocks, "nvmlDeviceResetGpuLockedClocks");
    SYM(get_driver, "nvmlSystemGetDriverVersion");
#undef SYM
    if (!n->init || !n->shutdown || !n->get_count || !n->get_handle) {
        rc = jb_err(err, errlen, JB_ENOTSUP, "nvml: %s lacks nvmlInit_v2/nvmlDeviceGetCount_v2",
                    lib);
        goto out;
    }
    if ((r = n->init()) != NVML_SUCCESS) {
        rc = jb_err(err, errlen, JB_ENOTSUP, "nvml: nvmlInit_v2: %s (NVIDIA driver not loaded?)",
                    n->error_string ? n->error_string(r) : "error");
        goto out;
    }
    if ((r = n->get_count(&cnt)) != NVML_SUCCESS) {
        n->shutdown();
        rc = nv_fail(n, r, "nvmlDeviceGetCount_v2", -1, err, errlen);
        goto out;
    }
    if (n->get_driver && n->get_driver(n->driver, sizeof(n->driver)) != NVML_SUCCESS)
        n->driver[0] = '\0';
    n->count = cnt > NVML_MAX_GPUS ? NVML_MAX_GPUS : (int)cnt;
    for (int i = 0; i < n->count; i++)
        if ((r = n->get_handle((unsigned)i, &n->dev[i])) != NVML_SUCCESS) {
            n->shutdown();
            rc = nv_fail(n, r, "nvmlDeviceGetHandleByIndex_v2", i, err, errlen);
            goto out;
        }
    *out = n;
    return 0;
out:
    if (n->lib)
        dlclose(n->lib);
    free(n);
    return rc;
}

void jb_nvml_close(struct jb_nvml *n)
{
    if (!n)
        return;
    n->shutdown();
    dlclose(n->lib);
    free(n);
}

int jb_nvml_count(const struct jb_nvml *n)
{
    return n->count;
}

const char *jb_nvml_driver(const struct jb_nvml *n)
{
    return n->driver;
}

#define CHECK_GPU(n, gpu)                                                                          \
    do {                                                                                           \
        if ((gpu) < 0 || (gpu) >= (n)->count)                                                      \
            return jb_err(err, errlen, JB_ENOENT, "nvml: no GPU %d (%d present)", (gpu),           \
                          (n)->count);                                                             \
    } while (0)
#define CALL(fn, name, ...)                                                                        \
    do {                                                                                           \
        if (!n->fn)                                                                                \
            return jb_err(err, errlen, JB_ENOTSUP, "nvml: %s missing from the library", name);     \
        nvml_ret r_ = n->fn(__VA_ARGS__);                                                          \
        if (r_ != NVML_SUCCESS)                                                                    \
            return nv_fail(n, r_, name, gpu, err, errlen);                                         \
    } while (0)

int jb_nvml_name(struct jb_nvml *n, int gpu, char *buf, size_t len, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(get_name, "nvmlDeviceGetName", n->dev[gpu], buf, (unsigned)len);
    return 0;
}

int jb_nvml_energy_mj(struct jb_nvml *n, int gpu, unsigned long long *mj, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(get_energy, "nvmlDeviceGetTotalEnergyConsumption", n->dev[gpu], mj);
    return 0;
}

int jb_nvml_wait_energy_change(struct jb_nvml *n, int gpu, unsigned long long from,
                               unsigned long long *to, double timeout_s, char *err, size_t errlen)
{
    double t0 = jb_power_now_s();
    struct timespec nap = {0, 200000};
    for (;;) {
        unsigned long long e;
        int rc = jb_nvml_energy_mj(n, gpu, &e, err, errlen);
        if (rc)
            return rc;
        if (e != from) {
            *to = e;
            return 0;
        }
        if (jb_power_now_s() - t0 > timeout_s)
            return jb_err(err, errlen, JB_EUNAVAIL,
                          "nvml: energy counter of GPU %d did not move in %.1f s", gpu, timeout_s);
        nanosleep(&nap, NULL);
    }
}

int jb_nvml_power_mw(struct jb_nvml *n, int gpu, unsigned *mw, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(get_power, "nvmlDeviceGetPowerUsage", n->dev[gpu], mw);
    return 0;
}

/* One field of the state: a failure is kept (the first is returned) and the
 * other fields are still read, since older GPUs lack some of them. */
#define STATE_FIELD(bit, fn, name, ...)                                                            \
    do {                                                                                           \
        nvml_ret r_ = n->fn ? n->fn(__VA_ARGS__) : NVML_ERROR_NOT_SUPPORTED;                       \
        if (r_ == NVML_SUCCESS)                                                                    \
            s->have |= (bit);                                                                      \
        else if (!rc)                                                                              \
            rc = nv_fail(n, r_, name, gpu, err, errlen);                                           \
    } while (0)

int jb_nvml_state(struct jb_nvml *n, int gpu, struct jb_gpu_state *s, char *err, size_t errlen)
{
    int rc = 0;
    CHECK_GPU(n, gpu);
    nvml_dev d = n->dev[gpu];
    memset(s, 0, sizeof(*s));
    STATE_FIELD(JB_GPU_SM_MHZ, get_clock, "nvmlDeviceGetClockInfo", d, NVML_CLOCK_SM, &s->sm_mhz);
    STATE_FIELD(JB_GPU_MEM_MHZ, get_clock, "nvmlDeviceGetClockInfo", d, NVML_CLOCK_MEM,
                &s->mem_mhz);
    STATE_FIELD(JB_GPU_GRAPHICS_MHZ, get_clock, "nvmlDeviceGetClockInfo", d, NVML_CLOCK_GRAPHICS,
                &s->graphics_mhz);
    STATE_FIELD(JB_GPU_TEMP_C, get_temp, "nvmlDeviceGetTemperature", d, NVML_TEMPERATURE_GPU,
                &s->temp_c);
    STATE_FIELD(JB_GPU_POWER_LIMIT_MW, get_limit, "nvmlDeviceGetEnforcedPowerLimit", d,
                &s->power_limit_mw);
    STATE_FIELD(JB_GPU_POWER_MW, get_power, "nvmlDeviceGetPowerUsage", d, &s->power_mw);
    STATE_FIELD(JB_GPU_REASONS, get_reasons, "nvmlDeviceGetCurrentClocksEventReasons", d,
                &s->reasons);
    return rc;
}

/* NVML's nvmlClocksEventReason bits (nvml.h), named as in the records. */
static const struct {
    unsigned long long bit;
    const char *name;
    int slows; /* the GPU ran below what it could have */
} reason_bits[] = {
    {0x1ull, "gpu_idle", 0},
    {0x2ull, "applications_clocks_setting", 0},
    {0x4ull, "sw_power_cap", 1},
    {0x8ull, "hw_slowdown", 1},
    {0x10ull, "sync_boost", 0},
    {0x20ull, "sw_thermal_slowdown", 1},
    {0x40ull, "hw_thermal_slowdown", 1},
    {0x80ull, "hw_power_brake_slowdown", 1},
    {0x100ull, "display_clock_setting", 0},
};

const char *jb_nvml_reason_name(unsigned long long bit)
{
    for (size_t i = 0; i < sizeof(reason_bits) / sizeof(reason_bits[0]); i++)
        if (bit == reason_bits[i].bit)
            return reason_bits[i].name;
    return NULL;
}

const char *jb_nvml_reasons_str(unsigned long long reasons, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(reason_bits) / sizeof(reason_bits[0]); i++)
        if (reasons & reason_bits[i].bit) {
            int k = snprintf(buf + used, len - used, "%s%s", used ? "," : "", reason_bits[i].name);
            if (k < 0 || (size_t)k >= len - used)
                break;
            used += (size_t)k;
        }
    if (!used)
        snprintf(buf, len, "none");
    return buf;
}

int jb_nvml_throttled(unsigned long long reasons)
{
    for (size_t i = 0; i < sizeof(reason_bits) / sizeof(reason_bits[0]); i++)
        if ((reasons & reason_bits[i].bit) && reason_bits[i].slows)
            return 1;
    return 0;
}

int jb_nvml_power_limit(struct jb_nvml *n, int gpu, unsigned *cur_mw, unsigned *min_mw,
                        unsigned *max_mw, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(get_pm_limit, "nvmlDeviceGetPowerManagementLimit", n->dev[gpu], cur_mw);
    CALL(get_pm_constraints, "nvmlDeviceGetPowerManagementLimitConstraints", n->dev[gpu], min_mw,
         max_mw);
    return 0;
}

int jb_nvml_power_limit_default(struct jb_nvml *n, int gpu, unsigned *mw, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(get_pm_default, "nvmlDeviceGetPowerManagementDefaultLimit", n->dev[gpu], mw);
    return 0;
}

/* NVML lists the supported clocks per memory clock; the graphics clocks at
 * the highest memory clock are the ones a GPU-clock lock chooses from (a
 * lock of the GPU clock leaves the memory clock alone). */
int jb_nvml_supported_gpu_clocks(struct jb_nvml *n, int gpu, unsigned *mem_mhz, unsigned *mhz,
                                 int max, int *count, char *err, size_t errlen)
{
    unsigned mem[64], nmem = 64, ngfx = (unsigned)max;
    CHECK_GPU(n, gpu);
    CALL(get_mem_clocks, "nvmlDeviceGetSupportedMemoryClocks", n->dev[gpu], &nmem, mem);
    if (nmem == 0)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "nvml: nvmlDeviceGetSupportedMemoryClocks: no clocks listed on GPU %d", gpu);
    *mem_mhz = mem[0];
    for (unsigned i = 1; i < nmem && i < 64; i++)
        if (mem[i] > *mem_mhz)
            *mem_mhz = mem[i];
    if (!n->get_gfx_clocks)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "nvml: nvmlDeviceGetSupportedGraphicsClocks missing from the library");
    nvml_ret r = n->get_gfx_clocks(n->dev[gpu], *mem_mhz, &ngfx, mhz);
    /* More clocks than room: NVML says how many there are and lists none. */
    if (r == NVML_ERROR_INSUFFICIENT_SIZE)
        return jb_err(err, errlen, JB_ERANGE,
                      "nvml: nvmlDeviceGetSupportedGraphicsClocks: %u clocks, room for %d", ngfx,
                      max);
    if (r != NVML_SUCCESS)
        return nv_fail(n, r, "nvmlDeviceGetSupportedGraphicsClocks", gpu, err, errlen);
    *count = (int)ngfx;
    return 0;
}

int jb_nvml_app_clocks(struct jb_nvml *n, int gpu, unsigned *cur_mhz, unsigned *default_mhz,
                       char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(get_app_clock, "nvmlDeviceGetApplicationsClock", n->dev[gpu], NVML_CLOCK_GRAPHICS,
         cur_mhz);
    CALL(get_app_clock_default, "nvmlDeviceGetDefaultApplicationsClock", n->dev[gpu],
         NVML_CLOCK_GRAPHICS, default_mhz);
    return 0;
}

int jb_nvml_set_power_limit(struct jb_nvml *n, int gpu, unsigned mw, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(set_pm_limit, "nvmlDeviceSetPowerManagementLimit", n->dev[gpu], mw);
    return 0;
}

int jb_nvml_lock_clocks(struct jb_nvml *n, int gpu, unsigned min_mhz, unsigned max_mhz, char *err,
                        size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(lock_clocks, "nvmlDeviceSetGpuLockedClocks", n->dev[gpu], min_mhz, max_mhz);
    return 0;
}

int jb_nvml_reset_clocks(struct jb_nvml *n, int gpu, char *err, size_t errlen)
{
    CHECK_GPU(n, gpu);
    CALL(reset_clocks, "nvmlDeviceResetGpuLockedClocks", n->dev[gpu]);
    return 0;
}
