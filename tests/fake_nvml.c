/* fake_nvml.c: a stand-in libnvidia-ml.so, built by the tests and loaded
 * through the production dlopen path of harness/power_nvml.c. It exports the
 * NVML functions joulebench looks up, with NVML's return codes, scripted by
 * environment variables read at nvmlInit_v2:
 *   FAKE_NVML_INIT_FAIL=CODE  nvmlInit_v2 returns CODE (9: driver not loaded)
 *   FAKE_NVML_GPUS=N          number of GPUs (default 1)
 *   FAKE_NVML_WATTS=W         constant board power (default 200)
 *   FAKE_NVML_STEP_MS=MS      energy counter update period (default 100, as H100)
 *   FAKE_NVML_NO_ENERGY=I     GPU I has no total-energy counter (Not Supported)
 *   FAKE_NVML_FAIL_GPU=I, FAKE_NVML_FAIL_AFTER_MS=N  GPU I's energy and
 *                             power reads fail with GPU_IS_LOST from N ms
 *                             after nvmlInit_v2 on (a GPU lost mid-run)
 * Global state is inherent here: it plays a C library with global state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_MAX 8
#define API __attribute__((visibility("default")))

struct fake_dev {
    int index;
};

static struct fake_dev devs[FAKE_MAX];
static int refcount, ngpus = 1, no_energy = -1, fail_gpu = -1, init_fail;
static double fail_after_s = -1;
static double watts = 200, step_s = 0.1, t0;

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
        t0 = now_s();
        for (int i = 0; i < FAKE_MAX; i++)
            devs[i].index = i;
    }
    return 0;
}

API int nvmlShutdown(void)
{
    if (refcount == 0)
        return 1; /* NVML_ERROR_UNINITIALIZED */
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
        return 1;
    *n = (unsigned)ngpus;
    return 0;
}

API int nvmlDeviceGetHandleByIndex_v2(unsigned i, struct fake_dev **d)
{
    if (!refcount)
        return 1;
    if (i >= (unsigned)ngpus)
        return 2;
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
        return 3;
    if (lost(d))
        return 15;
    double el = floor((now_s() - t0) / step_s) * step_s;
    *mj = 123456789ULL + (unsigned long long)(watts * el * 1e3);
    return 0;
}

API int nvmlDeviceGetPowerUsage(struct fake_dev *d, unsigned *mw)
{
    if (d->index == fail_gpu && d->index == no_energy && lost(d))
        return 15;
    *mw = (unsigned)(watts * 1e3);
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
        return 2;
    *c = 40 + (unsigned)(now_s() - t0); /* warms by 1 C a second */
    return 0;
}

API int nvmlDeviceGetEnforcedPowerLimit(struct fake_dev *d, unsigned *mw)
{
    (void)d;
    *mw = 700000;
    return 0;
}

API int nvmlDeviceGetCurrentClocksThrottleReasons(struct fake_dev *d, unsigned long long *r)
{
    (void)d;
    *r = 0x4; /* sw_power_cap */
    return 0;
}
