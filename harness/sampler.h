/* sampler.h: a thread that calls a function at a fixed interval, pinned to
 * one cpu when asked. energy.c uses it to poll power-only sources (whose
 * energy is the integral of their samples), counters that would wrap within
 * a run, and to record power traces; pinning it off the workload's cores
 * keeps the measurement from perturbing what it measures. */
#ifndef JB_SAMPLER_H
#define JB_SAMPLER_H

#include <stddef.h>

struct jb_sampler;

/* Calls fn(arg) every interval_s seconds (first call after one interval)
 * until jb_sampler_stop. cpu >= 0 pins the thread there; a failed pin is not
 * an error but is reported through *pinned (1 pinned, 0 not). */
int jb_sampler_start(double interval_s, int cpu, void (*fn)(void *arg), void *arg,
                     struct jb_sampler **out, int *pinned, char *err, size_t errlen);

/* Stops and joins the thread; after it returns fn is never called again.
 * Accepts NULL. */
void jb_sampler_stop(struct jb_sampler *s);

#endif
