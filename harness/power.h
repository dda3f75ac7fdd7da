/* power.h: the interface of a power or energy source, and their registry.
 *
 * A source (RAPL through perf or powercap, NVML, an external meter, the
 * estimate, the simulated source) is one `const struct jb_power_source_ops`
 * in its own file plus one line in harness/power_registry.c. A source has
 * one or more domains (package-0, dram-0, gpu-0, meter...), each of which
 * reads either a cumulative energy counter or an instantaneous power. The
 * raw readings go to energy.c, which unwraps, integrates, checks and derives
 * the uncertainty; sources only read. */
#ifndef JB_POWER_H
#define JB_POWER_H

#include <jansson.h>
#include <stddef.h>

enum jb_power_kind {
    JB_POWER_ENERGY_COUNTER = 0, /* cumulative joules, may wrap */
    JB_POWER_POWER_SAMPLE = 1    /* instantaneous (or averaged) watts */
};

struct jb_power_domain_info {
    char name[48];          /* "package-0", "dram-0", "psys", "gpu-0", "meter" */
    enum jb_power_kind kind;
    int measured;           /* 1: a physical counter or meter; 0: a model (estimate) */
    int simulated;          /* 1: a scripted stand-in for a counter (sim): handled like a
                             * measured one inside energy.c, reported as not measured */
    double resolution_j;    /* smallest step of the counter (energy) or W*period (power) */
    double update_period_s; /* how often the value changes; 0 if unknown */
    double wrap_j;          /* counter range before it wraps; 0: never wraps */
    double max_power_w;     /* highest plausible power, to poll often enough for wraps; 0: unknown */
    double accuracy_rel;    /* stated calibration accuracy, relative (0.05 = 5%); 0: none stated */
    double accuracy_w;      /* stated calibration accuracy, absolute watts; 0: none stated */
};

struct jb_power_reading {
    double t_s;      /* CLOCK_MONOTONIC seconds when read (or the meter's aligned time);
                        0: now; < 0: no reading yet (a meter before its first sample) */
    double energy_j; /* JB_POWER_ENERGY_COUNTER: raw cumulative value, not unwrapped */
    double power_w;  /* JB_POWER_POWER_SAMPLE: watts */
    int more;        /* 1: the source holds further queued readings (a meter's
                        backlog); energy.c reads again at once */
};

/* Context a source may need at open (the estimate needs the workload's cpus). */
struct jb_power_context {
    int threads;          /* worker threads of the workload */
    const int *cpus;      /* their OS cpus, or NULL */
    const char *sysfs_root; /* "/" normally; tests point it at a fake tree */
    int with_children;      /* the workload runs in child processes (joulebench exec) */
};

struct jb_power_source_ops {
    const char *name;        /* "rapl-perf", "rapl-powercap", "nvml", "meter", "estimate", "sim" */
    const char *description;
    int is_hardware;         /* taken by --power auto when it works */
    /* Checks whether the source works here; on failure returns a JB_E code and
     * writes the reason ("no /sys/class/powercap in this kernel") into why. */
    int (*probe)(const char *options, const struct jb_power_context *ctx, char *why, size_t whylen);
    int (*open)(const char *options, const struct jb_power_context *ctx, void **state, char *err,
                size_t errlen);
    int (*ndomains)(const void *state);
    void (*domain)(const void *state, int i, struct jb_power_domain_info *out);
    int (*read)(void *state, int domain, struct jb_power_reading *out, char *err, size_t errlen);
    void (*close)(void *state);
    /* Optional (NULL when the source has none): adds the device's state now
     * (clocks, temperature, power limit, throttle reasons) to the object out,
     * recorded at the start and end of every run. */
    void (*domain_state)(void *state, int domain, json_t *out);
};

/* NULL-terminated registry of every source. */
extern const struct jb_power_source_ops *const jb_power_sources[];
const struct jb_power_source_ops *jb_power_source_find(const char *name);

#endif
