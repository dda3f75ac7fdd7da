/* nvml.h: NVIDIA GPU state and control through NVML, loaded with dlopen
 * (no NVML header or library needed to build): the one place joulebench
 * talks to libnvidia-ml.
 *
 * The `nvml` power source (harness/power_nvml.c) reads the energy counter,
 * power and GPU state through it; the CUDA benchmark driver reads the same
 * plus throttle reasons; the sweep (harness/sweep.c) sets power limits and
 * locked clocks through it and restores them. The library path can be
 * overridden (argument, or env JB_NVML_LIB) so tests load a fake
 * libnvidia-ml (tests/fake_nvml.c) through this very path. Not tied to
 * CUDA: compiled in every build. */
#ifndef JB_NVML_H
#define JB_NVML_H

#include <stddef.h>
#include <stdint.h>

struct jb_nvml;

/* Bits of jb_gpu_state.have: the fields that could be read. */
enum {
    JB_GPU_SM_MHZ = 1 << 0,
    JB_GPU_MEM_MHZ = 1 << 1,
    JB_GPU_GRAPHICS_MHZ = 1 << 2,
    JB_GPU_TEMP_C = 1 << 3,
    JB_GPU_POWER_LIMIT_MW = 1 << 4,
    JB_GPU_POWER_MW = 1 << 5,
    JB_GPU_REASONS = 1 << 6,
};

/* The GPU's state at one moment, for the record (start and end of a run). */
struct jb_gpu_state {
    unsigned sm_mhz, mem_mhz, graphics_mhz; /* current clocks */
    unsigned temp_c;                        /* GPU die temperature */
    unsigned power_limit_mw;                /* enforced power limit */
    unsigned power_mw;                      /* current power draw */
    unsigned long long reasons;             /* clocks event (throttle) reason bits, NVML's */
    unsigned have;                          /* JB_GPU_* bits of the fields read */
};

/* lib: path of libnvidia-ml, or NULL for $JB_NVML_LIB, else
 * "libnvidia-ml.so.1". Returns JB_ENOTSUP with the reason (library absent:
 * "no NVIDIA driver"; nvmlInit failed) on failure. *out owned by the caller,
 * released with jb_nvml_close. A driver that sees no GPU opens, with count 0. */
int jb_nvml_open(const char *lib, struct jb_nvml **out, char *err, size_t errlen);
void jb_nvml_close(struct jb_nvml *n);
int jb_nvml_count(const struct jb_nvml *n);
/* The driver's version ("550.54.15"), or "" if unknown; owned by n. */
const char *jb_nvml_driver(const struct jb_nvml *n);
int jb_nvml_name(struct jb_nvml *n, int gpu, char *buf, size_t len, char *err, size_t errlen);

/* Cumulative energy since driver load in mJ (Volta and later). JB_ENOTSUP
 * when the GPU has no such counter: use power samples instead. */
int jb_nvml_energy_mj(struct jb_nvml *n, int gpu, unsigned long long *mj, char *err, size_t errlen);
int jb_nvml_power_mw(struct jb_nvml *n, int gpu, unsigned *mw, char *err, size_t errlen);
/* Polls the energy counter (every 0.2 ms) until it differs from `from`;
 * *to gets the new value. The counter steps about every 100 ms, so an
 * interval whose both ends are taken this way has no quantization error
 * from the counter. JB_EUNAVAIL if it does not move within timeout_s. */
int jb_nvml_wait_energy_change(struct jb_nvml *n, int gpu, unsigned long long from,
                               unsigned long long *to, double timeout_s, char *err, size_t errlen);
/* Reads every field it can (s->have says which); returns the first
 * failure, if any, with its message. */
int jb_nvml_state(struct jb_nvml *n, int gpu, struct jb_gpu_state *s, char *err, size_t errlen);

/* The name of one reason bit ("sw_power_cap"), NULL if not a known one. */
const char *jb_nvml_reason_name(unsigned long long bit);
/* Names of the reason bits set ("sw_power_cap,hw_thermal_slowdown"), or
 * "none". Returns buf. */
const char *jb_nvml_reasons_str(unsigned long long reasons, char *buf, size_t len);
/* Nonzero when a reason means the GPU ran slower than it could (power cap,
 * thermal, hardware slowdown), not merely idle or at application clocks. */
int jb_nvml_throttled(unsigned long long reasons);

/* Control, for sweeps. Each returns JB_EPERM when NVML refuses for lack of
 * permission, JB_ENOTSUP when the GPU does not support it. The readers
 * (power limits, clocks) change nothing: a sweep's dry run uses only them. */
int jb_nvml_power_limit(struct jb_nvml *n, int gpu, unsigned *cur_mw, unsigned *min_mw,
                        unsigned *max_mw, char *err, size_t errlen);
/* The power limit the GPU boots with. */
int jb_nvml_power_limit_default(struct jb_nvml *n, int gpu, unsigned *mw, char *err, size_t errlen);
/* The graphics clocks the GPU supports at its highest memory clock (in
 * *mem_mhz): up to max of them into mhz (in NVML's order), their number in
 * *count. JB_ERANGE when there are more than max. */
int jb_nvml_supported_gpu_clocks(struct jb_nvml *n, int gpu, unsigned *mem_mhz, unsigned *mhz,
                                 int max, int *count, char *err, size_t errlen);
/* The graphics application clock now and its default. Locked clocks
 * (nvmlDeviceSetGpuLockedClocks) have no reader in NVML. */
int jb_nvml_app_clocks(struct jb_nvml *n, int gpu, unsigned *cur_mhz, unsigned *default_mhz,
                       char *err, size_t errlen);
int jb_nvml_set_power_limit(struct jb_nvml *n, int gpu, unsigned mw, char *err, size_t errlen);
int jb_nvml_lock_clocks(struct jb_nvml *n, int gpu, unsigned min_mhz, unsigned max_mhz, char *err,
                        size_t errlen);
int jb_nvml_reset_clocks(struct jb_nvml *n, int gpu, char *err, size_t errlen);

#endif
