/* power_opts.h: small helpers shared by the power sources and energy.c:
 * "k=v,k=v" option lookup with a check for unknown keys (a typo in --power
 * must fail loudly, not silently fall back to a default), the monotonic
 * clock in seconds, one-line sysfs reads, and the rapl-perf event parser that
 * the tests exercise on a fake sysfs tree. Private to the power sources. */
#ifndef JB_POWER_OPTS_H
#define JB_POWER_OPTS_H

#include <stddef.h>

/* CLOCK_MONOTONIC in seconds: the one time base of every reading. */
double jb_power_now_s(void);

/* Sleeps for s seconds (restarting after signals). */
void jb_power_sleep_s(double s);

/* Copies the value of key from opts ("k=v,k=v"; NULL or "" means none) into
 * out. Returns 1 if found, 0 if not. */
int jb_power_opt_str(const char *opts, const char *key, char *out, size_t n);

/* Parses key as a number, or leaves *out at def when absent. Returns 0 or
 * JB_EINVAL naming the source and key. */
int jb_power_opt_double(const char *src, const char *opts, const char *key, double def, double *out,
                        char *err, size_t errlen);

/* Fails with JB_EINVAL if opts holds a key not in the NULL-terminated list. */
int jb_power_opts_check(const char *src, const char *opts, const char *const *keys, char *err,
                        size_t errlen);

/* Reads the first line of a small file into buf without its newline.
 * Returns 0, JB_ENOENT, JB_EPERM or JB_EIO. */
int jb_power_read_line(const char *path, char *buf, size_t n);

/* Joins root ("/" or a fake tree) and an absolute path such as
 * "/sys/class/powercap" into out. */
void jb_power_path(char *out, size_t n, const char *root, const char *path);

/* rapl-perf: parses the `power` PMU event `name` (e.g. "energy-pkg") under
 * root/sys/bus/event_source/devices/power/events: its config ("event=0x02"),
 * its scale (joules per count) and its unit. Returns 0 or a JB_E code. */
int jb_rapl_perf_parse_event(const char *root, const char *name, unsigned long long *config,
                             double *scale_j, char *unit, size_t unitlen, char *err, size_t errlen);

struct jb_power_source_ops;

/* Measures a domain's update period on the spot: reads it about every
 * 0.5 ms for up to window_s (stopping early after a few changes) and returns
 * the median time between changes in *period_s (0 if it changed fewer than
 * twice), the number of changes seen in *changes (0: frozen), and the average
 * power over the window in *power_w (0 if unknown). Returns 0 or the read
 * error. */
int jb_power_measure_period(const struct jb_power_source_ops *ops, void *state, int domain,
                            double window_s, double *period_s, int *changes, double *power_w,
                            char *err, size_t errlen);

#endif
