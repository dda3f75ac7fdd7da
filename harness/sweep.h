/* sweep.h: power-limit and GPU-clock sweeps, and their time-energy Pareto
 * front (`joulebench sweep --power-limit A:B:STEP | --gpu-clock A:B:STEP`).
 *
 * A sweep applies each setting through NVML, has the caller measure the
 * workload at it (latency and energy per unit), and restores the original
 * setting afterwards on every path: normal end, a failed measurement, a
 * refused setting, SIGINT. Settings NVML refuses (no permission, not
 * supported) are listed, not fatal. The result marks the points on the
 * Pareto front (no other point is both faster and cheaper) and the
 * energy-optimal one, as Zeus reports for training; jb_sweep_write_plot
 * writes the points and a gnuplot script of the front. The CLI wiring
 * (options, the measure callback over the runner) is the caller's. */
#ifndef JB_SWEEP_H
#define JB_SWEEP_H

#include <signal.h>
#include <stddef.h>

struct jb_nvml;

enum jb_sweep_kind {
    JB_SWEEP_POWER_LIMIT = 0, /* watts, nvmlDeviceSetPowerManagementLimit */
    JB_SWEEP_GPU_CLOCK = 1    /* MHz, nvmlDeviceSetGpuLockedClocks(f, f) */
};

struct jb_sweep_spec {
    enum jb_sweep_kind kind;
    double from, to, step; /* inclusive range, in W or MHz; step > 0 */
    int gpu;               /* NVML index */
    int dry_run;           /* 1: read the GPU's limits and plan; set nothing, measure nothing */
};

/* Supported graphics clocks kept for a plan (an H100 lists about 120). */
#define JB_SWEEP_MAX_CLOCKS 512

/* What the GPU allows and is set to now, read through NVML without changing
 * anything: the basis of a dry run's plan. What NVML could not give is
 * flagged off, with NVML's reason in `unread`. */
struct jb_sweep_limits {
    char name[96];
    char driver[80];
    /* Running as root: NVML's set functions need it, and NVML has no query
     * that answers "may I?" short of trying. */
    int root;
    int have_power; /* power_w, power_min_w, power_max_w were read */
    double power_w, power_min_w, power_max_w;
    double power_default_w; /* 0: not read */
    int have_clocks;        /* clocks_mhz were read */
    int nclocks;
    unsigned clocks_mhz[JB_SWEEP_MAX_CLOCKS]; /* supported GPU clocks at mem_mhz */
    double clock_min_mhz, clock_max_mhz, mem_mhz;
    double app_mhz, app_default_mhz; /* graphics application clocks; 0: not read */
    /* 1: NVML gives "applications_clocks_setting" as a reason the clocks
     * are where they are (application or locked clocks set by someone);
     * 0: it does not; -1: unknown. */
    int clocks_held;
    char unread[256]; /* what could not be read: "default power limit: ...; ..." */
};

/* One setting of the sweep. */
struct jb_sweep_point {
    double setting;      /* W or MHz */
    int applied;         /* 1: set and measured; 0: refused or dry run */
    int in_range;        /* dry run: 1 within the GPU's limits, 0 outside, -1 unknown */
    char note[160];      /* why not applied, or the measurement's error; a dry run's verdict */
    double latency_s;    /* per unit, from the measure callback */
    double energy_j;     /* per unit */
    double energy_unc_j; /* its uncertainty */
    int pareto;          /* 1: on the time-energy Pareto front */
};

struct jb_sweep_result {
    struct jb_sweep_point *pts; /* owned; jb_sweep_result_free */
    int n;
    int best_energy;               /* index of the energy-optimal point, -1 if none */
    int interrupted;               /* SIGINT, SIGTERM or SIGHUP arrived (the rest was
                                    * skipped): its number, else 0 */
    double original;               /* the setting found and restored (W; 0 = clocks unlocked) */
    int restored;                  /* 1: the original setting is back */
    int n_in_range;                /* dry run: settings within the GPU's limits */
    struct jb_sweep_limits limits; /* dry run: what the plan was made from */
};

/* Measures the workload at the setting now applied; fills latency_s,
 * energy_j, energy_unc_j of pt. Returns 0 or a JB_E code (the sweep stops
 * and restores). */
typedef int (*jb_sweep_measure_fn)(void *ctx, struct jb_sweep_point *pt, char *err, size_t errlen);

/* A ready measure callback: runs a workload (already opened through its
 * ops) at the applied setting for at least min_s, with both ends aligned to
 * updates of GPU `gpu`'s NVML energy counter, and reports latency and
 * energy per unit (uncertainty: one iteration of misalignment at the end
 * plus one 0.2 ms poll at the start, at the average power). */
struct jb_workload_ops;
struct jb_sweep_workload {
    const struct jb_workload_ops *ops;
    void *state; /* the opened workload */
    int units_per_iteration;
    struct jb_nvml *nv;
    int gpu;
    double min_s; /* at least 1 s: several counter updates */
};
int jb_sweep_measure_workload(void *ctx, struct jb_sweep_point *pt, char *err, size_t errlen);

/* "A:B:STEP" (numbers, A <= B, STEP > 0, at most 1000 points) into spec. */
int jb_sweep_parse(const char *range, enum jb_sweep_kind kind, struct jb_sweep_spec *spec,
                   char *err, size_t errlen);

/* Reads l for GPU `gpu` through NVML's readers only. Returns JB_ENOENT for
 * no such GPU; anything else it cannot read is noted in l->unread. */
int jb_sweep_read_limits(struct jb_nvml *nv, int gpu, struct jb_sweep_limits *l, char *err,
                         size_t errlen);

/* Runs the sweep. SIGINT, SIGTERM or SIGHUP during it is caught (the previous handlers are put
 * back afterwards), ends the sweep after the current point, and the
 * original setting is restored; the return is then JB_EINTR. Returns
 * JB_EPERM when no setting could be applied for lack of permission (each
 * refusal is in its point's note). On every return where *out was filled
 * the caller frees it.
 *
 * With spec->dry_run it only plans: it reads the GPU's limits into
 * out->limits, says of each setting whether it is within them (in_range,
 * note) and what would be restored (out->original), and calls neither an
 * NVML set function nor fn. It returns JB_ENOTSUP when a power-limit sweep
 * could not start (the limit cannot be read), JB_ERANGE when no setting is
 * within the GPU's limits. */
int jb_sweep_run(const struct jb_sweep_spec *spec, struct jb_nvml *nv, jb_sweep_measure_fn fn,
                 void *ctx, struct jb_sweep_result *out, char *err, size_t errlen);

/* Marks the Pareto front among applied points and returns the index of the
 * energy-optimal one (-1 if none). Called by jb_sweep_run. */
int jb_sweep_pareto(struct jb_sweep_point *pts, int n);

/* Writes dat_path (setting, latency, energy, uncertainty, pareto) and a
 * gnuplot script at gp_path that plots it to svg_path. */
int jb_sweep_write_plot(const struct jb_sweep_spec *spec, const struct jb_sweep_result *r,
                        const char *title, const char *dat_path, const char *gp_path,
                        const char *svg_path, char *err, size_t errlen);

void jb_sweep_result_free(struct jb_sweep_result *r);

#endif
