/* fake_nvml_ctl.c: a fake libnvidia-ml for the sweep tests: one GPU whose
 * power limit (100..700 W, 700 at start) and locked clocks can be set, or
 * refused with NVML_ERROR_NO_PERMISSION, loaded through the same dlopen path
 * (platforms/cuda/nvml_ctl.c) as the real library. The fake_ctl_* hooks let
 * the test read and script its state (same handle, same globals). */
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

enum { OK = 0, INVALID_ARGUMENT = 2, NO_PERMISSION = 4 };

static unsigned limit_mw = 700000, locked_min, locked_max, nsets;
static int deny;
/* Energy: the GPU draws min(limit, 400 W); the counter (mJ) is refreshed
 * only every 100 ms, as an H100's is. */
static double acc_mj, t_last, snap_mj, t_snap;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void accumulate(void)
{
    double t = now_s(), w = limit_mw / 1000.0;
    if (t_last > 0)
        acc_mj += (w < 400 ? w : 400) * (t - t_last) * 1000.0;
    t_last = t;
    if (t - t_snap >= 0.1) {
        snap_mj = acc_mj;
        t_snap = t;
    }
}

EXPORT int nvmlDeviceGetTotalEnergyConsumption(void *h, unsigned long long *mj)
{
    (void)h;
    accumulate();
    *mj = (unsigned long long)snap_mj;
    return OK;
}

EXPORT int nvmlInit_v2(void)
{
    return OK;
}
EXPORT int nvmlShutdown(void)
{
    return OK;
}
EXPORT const char *nvmlErrorString(int r)
{
    return r == NO_PERMISSION      ? "Insufficient Permissions"
           : r == INVALID_ARGUMENT ? "Invalid Argument"
                                   : "Success";
}
EXPORT int nvmlDeviceGetCount_v2(unsigned *n)
{
    *n = 1;
    return OK;
}
EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **h)
{
    if (i)
        return INVALID_ARGUMENT;
    *h = (void *)&limit_mw;
    return OK;
}
EXPORT int nvmlDeviceGetPowerManagementLimit(void *h, unsigned *mw)
{
    (void)h;
    *mw = limit_mw;
    return OK;
}
EXPORT int nvmlDeviceGetPowerManagementLimitConstraints(void *h, unsigned *mn, unsigned *mx)
{
    (void)h;
    *mn = 100000;
    *mx = 700000;
    return OK;
}
EXPORT int nvmlDeviceSetPowerManagementLimit(void *h, unsigned mw)
{
    (void)h;
    if (deny)
        return NO_PERMISSION;
    if (mw < 100000 || mw > 700000)
        return INVALID_ARGUMENT;
    accumulate();
    limit_mw = mw;
    nsets++;
    return OK;
}
EXPORT int nvmlDeviceSetGpuLockedClocks(void *h, unsigned mn, unsigned mx)
{
    (void)h;
    if (deny)
        return NO_PERMISSION;
    locked_min = mn;
    locked_max = mx;
    nsets++;
    return OK;
}
EXPORT int nvmlDeviceResetGpuLockedClocks(void *h)
{
    (void)h;
    if (deny)
        return NO_PERMISSION;
    locked_min = locked_max = 0;
    return OK;
}

/* Test hooks. */
EXPORT unsigned fake_ctl_limit_mw(void)
{
    return limit_mw;
}
EXPORT unsigned fake_ctl_locked_max(void)
{
    return locked_max;
}
EXPORT unsigned fake_ctl_sets(void)
{
    return nsets;
}
EXPORT void fake_ctl_deny(int d)
{
    deny = d;
}
EXPORT void fake_ctl_reset(void)
{
    limit_mw = 700000;
    locked_min = locked_max = nsets = 0;
    deny = 0;
}
