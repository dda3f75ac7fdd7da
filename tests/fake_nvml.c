/* fake_nvml.c: a stand-in libnvidia-ml.so, built by the tests and loaded
 * through the production dlopen path (harness/nvml.c) by the nvml power
 * source, the sweep and the CLI. It exports the NVML functions joulebench
 * looks up, with NVML's return codes, scripted by environment variables
 * read at the first nvmlInit_v2:
 *   FAKE_NVML_INIT_FAIL=CODE  nvmlInit_v2 returns CODE (9: driver not loaded)
 *   FAKE_NVML_GPUS=N          number of GPUs (default 1)
 *   FAKE_NVML_WATTS=W         board power drawn (default 200), capped by the
 *                             power limit
 *   FAKE_NVML_STEP_MS=MS      energy counter update period (default 100, as H100)
 *   FAKE_NVML_NO_ENERGY=I     GPU I has no total-energy counter (Not Supported)
 *   FAKE_NVML_FAIL_GPU=I, FAKE_NVML_FAIL_AFTER_MS=N  GPU I's energy and
 *                             power reads fail with GPU_IS_LOST from N ms
 *                             after nvmlInit_v2 on (a GPU lost mid-run)
 *   FAKE_NVML_LIMIT_W=W       power limit when the library loads (default
 *                             700; settable from 100 to 700 W; the default
 *                             limit is 700 W)
 *   FAKE_NVML_UNSUPPORTED=F,G the NVML functions named return Not Supported
 *                             (the readers of limits and clocks a sweep's
 *                             dry run uses; read at each call)
 *   FAKE_NVML_REASONS=N       clocks event reasons, NVML's bits (default 4:
 *                             sw_power_cap; 2 is applications_clocks_setting)
 *   FAKE_NVML_STATE_FILE=PATH rewritten at init and after every change of
 *                             limit or clocks: "power_limit_mw=N
 *                             locked_mhz=N sets=N resets=N", so that a test
 *                             can see what another process (the CLI) left
 *                             behind; sets counts the set calls (limit,
 *                             lock), resets the unlocks: together, every
 *                             call that changes the GPU
 * Clocks: memory 2619 MHz; supported GPU clocks 210 to 1980 MHz in steps of
 * 15 MHz (as an H100's), application clocks 1755 MHz (the default).
 * The power limit and locked clocks are shared by all fake GPUs. The
 * fake_nvml_* hooks let a test in the same process read and script them.
 * Global state is inherent here: it plays a C library with global state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_MAX 8
#define API __attribute__((visibility("default")))

enum {
    OK = 0,
    UNINITIALIZED = 1,
    INVALID_ARGUMENT = 2,
    NOT_SUPPORTED = 3,
    NO_PERMISSION = 4,
    INSUFFICIENT_SIZE = 7
};

struct fake_dev {
    int index;
};

static struct fake_dev devs[FAKE_MAX];
static int refcount, ngpus = 1, no_energy = -1, fail_gpu = -1, init_fail, deny;
static double fail_after_s = -1;
static double watts = 200, step_s = 0.1, t0;
static unsigned limit_mw, locked_mhz, nsets, nresets;
/* Energy counted up to t_change_s (a counter update), at the power drawn
 * before the last change of limit. */
static double acc_mj, t_change_s;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long env_long(const char *k, long def)
{
    const char *v = getenv(k);
    return v && v[0] ? strtol(v, NULL, 10) : def;
}

/* The last update of the counter, which steps every step_s from init on. */
static double last_update_s(void)
{
    return t0 + floor((now_s() - t0) / step_s) * step_s;
}

static double draw_w(void)
{
    double lim = limit_mw / 1000.0;
    return watts < lim ? watts : lim;
}

/* Counter value now. A change of limit takes effect from the counter's last
 * update, so the counter never goes back. */
static double energy_mj(void)
{
    return acc_mj + draw_w() * (last_update_s() - t_change_s) * 1e3;
}

static void save_state(void)
{
    const char *path = getenv("FAKE_NVML_STATE_FILE");
    FILE *f = path && path[0] ? fopen(path, "w") : NULL;
    if (!f)
        return;
    fprintf(f, "power_limit_mw=%u locked_mhz=%u sets=%u resets=%u\n", limit_mw, locked_mhz, nsets,
            nresets);
    fclose(f);
}

API void fake_nvml_reset(void)
{
    limit_mw = (unsigned)env_long("FAKE_NVML_LIMIT_W", 700) * 1000u;
    locked_mhz = nsets = nresets = 0;
    deny = 0;
}

API int nvmlInit_v2(void)
{
    init_fail = (int)env_long("FAKE_NVML_INIT_FAIL", 0);
    if (init_fail)
        return init_fail;
    if (refcount++ == 0) {
        ngpus = (int)env_long("FAKE_NVML_GPUS", 1);
        if (ngpus > FAKE_MAX)
            ngpus = FAKE_MAX;
        watts = (double)env_long("FAKE_NVML_WATTS", 200);
        step_s = (double)env_long("FAKE_NVML_STEP_MS", 100) * 1e-3;
        no_energy = (int)env_long("FAKE_NVML_NO_ENERGY", -1);
        fail_gpu = (int)env_long("FAKE_NVML_FAIL_GPU", -1);
        fail_after_s = (double)env_long("FAKE_NVML_FAIL_AFTER_MS", -1) * 1e-3;
        t0 = t_change_s = now_s();
        acc_mj = 0;
        if (!limit_mw) /* once per load: a re-init keeps what was set */
            fake_nvml_reset();
        for (int i = 0; i < FAKE_MAX; i++)
            devs[i].index = i;
        save_state();
    }
    return 0;
}

API int nvmlShutdown(void)
{
    if (refcount == 0)
        return UNINITIALIZED;
    refcount--;
    return 0;
}

API const char *nvmlErrorString(int r)
{
    switch (r) {
    case 0:
        return "Success";
    case 1:
        return "Uninitialized";
    case 2:
        return "Invalid Argument";
    case 3:
        return "Not Supported";
    case 4:
        return "Insufficient Permissions";
    case 9:
        return "Driver Not Loaded";
    case 15:
        return "GPU is lost";
    default:
        return "Unknown Error";
    }
}

API int nvmlSystemGetDriverVersion(char *buf, unsigned n)
{
    snprintf(buf, n, "999.99-fake");
    return 0;
}

API int nvmlDeviceGetCount_v2(unsigned *n)
{
    if (!refcount)
        return UNINITIALIZED;
    *n = (unsigned)ngpus;
    return 0;
}

API int nvmlDeviceGetHandleByIndex_v2(unsigned i, struct fake_dev **d)
{
    if (!refcount)
        return UNINITIALIZED;
    if (i >= (unsigned)ngpus)
        return INVALID_ARGUMENT;
    *d = &devs[i];
    return 0;
}

API int nvmlDeviceGetName(struct fake_dev *d, char *buf, unsigned n)
{
    snprintf(buf, n, "Fake H100 %d", d->index);
    return 0;
}

static int lost(struct fake_dev *d)
{
    return d->index == fail_gpu && fail_after_s >= 0 && now_s() - t0 >= fail_after_s;
}

API int nvmlDeviceGetTotalEnergyConsumption(struct fake_dev *d, unsigned long long *mj)
{
    if (d->index == no_energy)
        return NOT_SUPPORTED;
    if (lost(d))
        return 15;
    *mj = 123456789ULL + (unsigned long long)energy_mj();
    return 0;
}

API int nvmlDeviceGetPowerUsage(struct fake_dev *d, unsigned *mw)
{
    if (d->index == fail_gpu && d->index == no_energy && lost(d))
        return 15;
    *mw = (unsigned)(draw_w() * 1e3);
    return 0;
}

API int nvmlDeviceGetClockInfo(struct fake_dev *d, int type, unsigned *mhz)
{
    (void)d;
    *mhz = type == 2 ? 2619 : 1980; /* mem : sm/graphics */
    return 0;
}

API int nvmlDeviceGetTemperature(struct fake_dev *d, int sensor, unsigned *c)
{
    (void)d;
    if (sensor != 0)
        return INVALID_ARGUMENT;
    *c = 40 + (unsigned)(now_s() - t0); /* warms by 1 C a second */
    return 0;
}

API int nvmlDeviceGetEnforcedPowerLimit(struct fake_dev *d, unsigned *mw)
{
    (void)d;
    *mw = limit_mw;
    return 0;
}

API int nvmlDeviceGetCurrentClocksThrottleReasons(struct fake_dev *d, unsigned long long *r)
{
    (void)d;
    *r = (unsigned long long)env_long("FAKE_NVML_REASONS", 0x4); /* sw_power_cap */
    return 0;
}

/* 1 when FAKE_NVML_UNSUPPORTED names fn. */
static int unsupported(const char *fn)
{
    const char *v = getenv("FAKE_NVML_UNSUPPORTED"), *p = v;
    size_t n = strlen(fn);
    while (p && (p = strstr(p, fn))) {
        if ((p == v || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

API int nvmlDeviceGetPowerManagementLimit(struct fake_dev *d, unsigned *mw)
{
    (void)d;
    if (unsupported("nvmlDeviceGetPowerManagementLimit"))
        return NOT_SUPPORTED;
    *mw = limit_mw;
    return 0;
}

API int nvmlDeviceGetPowerManagementLimitConstraints(struct fake_dev *d, unsigned *mn, unsigned *mx)
{
    (void)d;
    *mn = 100000;
    *mx = 700000;
    return 0;
}

API int nvmlDeviceSetPowerManagementLimit(struct fake_dev *d, unsigned mw)
{
    (void)d;
    if (deny)
        return NO_PERMISSION;
    if (mw < 100000 || mw > 700000)
        return INVALID_ARGUMENT;
    double t = last_update_s();
    acc_mj += draw_w() * (t - t_change_s) * 1e3;
    t_change_s = t;
    limit_mw = mw;
    nsets++;
    save_state();
    return 0;
}

API int nvmlDeviceSetGpuLockedClocks(struct fake_dev *d, unsigned mn, unsigned mx)
{
    (void)d;
    (void)mn;
    if (deny)
        return NO_PERMISSION;
    locked_mhz = mx;
    nsets++;
    save_state();
    return 0;
}

API int nvmlDeviceResetGpuLockedClocks(struct fake_dev *d)
{
    (void)d;
    if (deny)
        return NO_PERMISSION;
    locked_mhz = 0;
    nresets++;
    save_state();
    return 0;
}

enum { MEM_MHZ = 2619, GFX_MIN_MHZ = 210, GFX_MAX_MHZ = 1980, GFX_STEP_MHZ = 15, APP_MHZ = 1755 };

API int nvmlDeviceGetPowerManagementDefaultLimit(struct fake_dev *d, unsigned *mw)
{
    (void)d;
    if (unsupported("nvmlDeviceGetPowerManagementDefaultLimit"))
        return NOT_SUPPORTED;
    *mw = 700000;
    return 0;
}

API int nvmlDeviceGetSupportedMemoryClocks(struct fake_dev *d, unsigned *count, unsigned *mhz)
{
    (void)d;
    if (unsupported("nvmlDeviceGetSupportedMemoryClocks"))
        return NOT_SUPPORTED;
    if (*count < 1) {
        *count = 1;
        return INSUFFICIENT_SIZE;
    }
    *count = 1;
    mhz[0] = MEM_MHZ;
    return 0;
}

/* Highest first, as NVML lists them. */
API int nvmlDeviceGetSupportedGraphicsClocks(struct fake_dev *d, unsigned mem, unsigned *count,
                                             unsigned *mhz)
{
    (void)d;
    unsigned n = (GFX_MAX_MHZ - GFX_MIN_MHZ) / GFX_STEP_MHZ + 1;
    if (unsupported("nvmlDeviceGetSupportedGraphicsClocks"))
        return NOT_SUPPORTED;
    if (mem != MEM_MHZ)
        return INVALID_ARGUMENT;
    if (*count < n) {
        *count = n;
        return INSUFFICIENT_SIZE;
    }
    *count = n;
    for (unsigned i = 0; i < n; i++)
        mhz[i] = GFX_MAX_MHZ - i * GFX_STEP_MHZ;
    return 0;
}

API int nvmlDeviceGetApplicationsClock(struct fake_dev *d, int type, unsigned *mhz)
{
    (void)d;
    if (unsupported("nvmlDeviceGetApplicationsClock"))
        return NOT_SUPPORTED;
    *mhz = type == 2 ? MEM_MHZ : APP_MHZ;
    return 0;
}

API int nvmlDeviceGetDefaultApplicationsClock(struct fake_dev *d, int type, unsigned *mhz)
{
    (void)d;
    if (unsupported("nvmlDeviceGetDefaultApplicationsClock"))
        return NOT_SUPPORTED;
    *mhz = type == 2 ? MEM_MHZ : APP_MHZ;
    return 0;
}

/* Test hooks, for a test that loads the fake itself (same globals). */
API unsigned fake_nvml_limit_mw(void)
{
    return limit_mw;
}

API unsigned fake_nvml_locked_mhz(void)
{
    return locked_mhz;
}

API unsigned fake_nvml_sets(void)
{
    return nsets;
}

API unsigned fake_nvml_resets(void)
{
    return nresets;
}

API void fake_nvml_deny(int d)
{
    deny = d;
}
