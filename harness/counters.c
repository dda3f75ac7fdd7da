/* counters.c: performance counters for a run, through libpfm4 event names and
 * perf_event_open, with a software fallback where the machine has no
 * hardware PMU (most VMs).
 *
 * Why this shape (METHODOLOGY.md section 4):
 * - Names go through libpfm4 so that a suite can say "cycles" or a raw PMU
 *   event ("INST_RETIRED:ANY_P") alike; libpfm4 turns them into a
 *   perf_event_attr for the kernel.
 * - Events are counted for user space only (PFM_PLM3): it is the workload's
 *   own code we characterize, and user-only counting is what
 *   kernel.perf_event_paranoid=2 (the usual default) allows without root.
 * - Events are opened on the calling thread with inherit=1, before the
 *   workload creates its pool, so that every worker thread is counted. The
 *   kernel accepts inherit together with PERF_FORMAT_GROUP for counting (not
 *   for sampling), and a group read sums the live children; where an old
 *   kernel refuses the combination (EINVAL) each event is opened alone.
 * - Hardware events go in groups of at most JB_CTR_GROUP_HW, so that one
 *   group fits the general-purpose counters of any current x86 core (4 per
 *   hardware thread on Intel with SMT, 6 on AMD Zen); software events form
 *   their own group, which is never multiplexed.
 * - Counters run from open to close; a repetition's value is the difference
 *   of two reads, so nothing is reset under the workload's feet. When the
 *   kernel multiplexed a group during a repetition (time_running <
 *   time_enabled), the value is scaled by enabled/running and the result is
 *   flagged with the ratio. */
#include "harness/counters.h"
#include "harness/counters_perf.h"
#include "base/error.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define JB_CTR_MAX_EVENTS 32
#define JB_CTR_GROUP_HW 4
#define JB_CTR_NAME 128

struct ctr_event {
    char name[JB_CTR_NAME]; /* as requested ("cycles") */
    char pfm_name[256];     /* libpfm4's fully qualified name */
    int software;           /* PERF_TYPE_SOFTWARE: never multiplexed */
    int unit_ns;            /* task-clock, cpu-clock count nanoseconds */
    int with_kernel;        /* counted in kernel mode too */
    int group;              /* index of its group */
    int fd;
    uint64_t id; /* PERF_EVENT_IOC_ID, to find it in a group read */
};

struct ctr_group {
    int leader_fd;
    int software; /* groups hold one kind only */
    int n;        /* events in the group */
};

/* One counter reading: raw value and the group's enabled/running times. */
struct ctr_val {
    uint64_t value, enabled, running;
};

struct ctr_rep {
    double units;
    int ok; /* both reads succeeded */
    struct ctr_val d[JB_CTR_MAX_EVENTS];
};

struct jb_counters {
    char requested[512];
    int grouped; /* PERF_FORMAT_GROUP reads; 0 after the EINVAL fallback */
    int nev;
    struct ctr_event ev[JB_CTR_MAX_EVENTS];
    int ngroups;
    struct ctr_group groups[JB_CTR_MAX_EVENTS];
    json_t *unavailable; /* name -> reason */
    char fallback[512];  /* why only software events are counted; "" if not */
    struct ctr_val start[JB_CTR_MAX_EVENTS];
    int start_ok;
    struct ctr_rep *reps;
    int nreps, capreps;
    double units_per_iteration;
    char read_error[256];
};

static const char *const auto_hw[] = {"cycles", "instructions", "cache-misses", "branch-misses",
                                      NULL};
static const char *const auto_sw[] = {"task-clock", "context-switches", "cpu-migrations",
                                      "page-faults", NULL};

static int find_event(const struct jb_counters *c, const char *name)
{
    for (int i = 0; i < c->nev; i++)
        if (!strcmp(c->ev[i].name, name))
            return i;
    return -1;
}

/* Opens one encoded event into the current group (starting a new one when
 * there is none open for its kind or the open one is full). Records the
 * reason in c->unavailable when the kernel refuses it. */
static void open_event(struct jb_counters *c, const char *name, struct perf_event_attr *a,
                       const char *fq)
{
    if (c->nev >= JB_CTR_MAX_EVENTS || find_event(c, name) >= 0)
        return;
    int software = a->type == PERF_TYPE_SOFTWARE;
    int gi = -1;
    /* join the last group if it is of the same kind and has room */
    if (c->grouped && c->ngroups > 0) {
        const struct ctr_group *g = &c->groups[c->ngroups - 1];
        if (g->software == software && (software || g->n < JB_CTR_GROUP_HW))
            gi = c->ngroups - 1;
    }
    a->inherit = 1;
    a->disabled = 0; /* counts from open; repetitions are differences of reads */
    a->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING |
                     PERF_FORMAT_ID | (c->grouped ? PERF_FORMAT_GROUP : 0);
    long fd = jb_perf_open(a, gi >= 0 ? c->groups[gi].leader_fd : -1);
    if (fd < 0 && (errno == EACCES || errno == EPERM) && !a->exclude_kernel) {
        /* kernel.perf_event_paranoid >= 2 without CAP_PERFMON: user only */
        a->exclude_kernel = 1;
        fd = jb_perf_open(a, gi >= 0 ? c->groups[gi].leader_fd : -1);
    }
    if (fd < 0 && errno == EINVAL && c->grouped && c->nev == 0) {
        /* a kernel that refuses inherit with group reads: count events alone */
        a->read_format &= ~(uint64_t)PERF_FORMAT_GROUP;
        fd = jb_perf_open(a, -1);
        if (fd >= 0)
            c->grouped = 0;
    }
    if (fd < 0 && gi >= 0 && errno != ENOENT && errno != EACCES && errno != EPERM) {
        /* a member the group cannot take: try it as a leader of its own */
        gi = -1;
        fd = jb_perf_open(a, -1);
    }
    if (fd < 0) {
        char why[256];
        jb_perf_open_reason(errno, why, sizeof(why));
        json_object_set_new(c->unavailable, name, json_string(why));
        return;
    }
    struct ctr_event *e = &c->ev[c->nev];
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->pfm_name, sizeof(e->pfm_name), "%s", fq);
    e->software = software;
    e->unit_ns =
        software && (a->config == PERF_COUNT_SW_TASK_CLOCK || a->config == PERF_COUNT_SW_CPU_CLOCK);
    e->with_kernel = !a->exclude_kernel;
    e->fd = (int)fd;
    if (ioctl(e->fd, PERF_EVENT_IOC_ID, &e->id) != 0)
        e->id = 0;
    if (gi < 0) {
        gi = c->ngroups++;
        c->groups[gi].leader_fd = e->fd;
        c->groups[gi].software = software;
        c->groups[gi].n = 0;
    }
    c->groups[gi].n++;
    e->group = gi;
    c->nev++;
}

static void open_names(struct jb_counters *c, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        struct perf_event_attr a;
        char fq[256];
        if (jb_perf_encode(names[i], &a, fq, sizeof(fq), NULL, 0) == JB_OK)
            open_event(c, names[i], &a, fq);
    }
}

static int count_hw(const struct jb_counters *c)
{
    int n = 0;
    for (int i = 0; i < c->nev; i++)
        n += !c->ev[i].software;
    return n;
}

int jb_counters_open(const char *events, struct jb_counters **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!events)
        events = "auto";
    if (strlen(events) >= sizeof(((struct jb_counters *)0)->requested))
        return jb_err(err, errlen, JB_EINVAL, "counters: event list too long");
    struct jb_counters *c = calloc(1, sizeof(*c));
    if (!c)
        return jb_err(err, errlen, JB_ENOMEM, "counters: out of memory");
    int rc = JB_OK;
    snprintf(c->requested, sizeof(c->requested), "%s", events);
    c->grouped = 1;
    c->unavailable = json_object();
    if (!strcmp(events, "none") || !*events) {
        *out = c;
        return JB_OK;
    }
    int r = pfm_initialize();
    if (r != PFM_SUCCESS) {
        rc = jb_err(err, errlen, JB_ENOTSUP, "counters: libpfm4 initialization failed: %s",
                    pfm_strerror(r));
        goto fail;
    }
    int asked_hw = 0;
    if (!strcmp(events, "auto")) {
        open_names(c, auto_hw);
        asked_hw = 1;
    } else {
        /* explicit list: an unknown name is an error, a known one the
         * kernel refuses is recorded as unavailable */
        const char *p = events;
        for (int n = 1;; n++) {
            const char *q = strchr(p, ',');
            size_t len = q ? (size_t)(q - p) : strlen(p);
            struct perf_event_attr a;
            char fq[256], tok[JB_CTR_NAME];
            if (len == 0) {
                rc = jb_err(err, errlen, JB_EINVAL, "counters: '%s': empty event name", events);
                goto fail;
            }
            if (len >= JB_CTR_NAME || n > JB_CTR_MAX_EVENTS) {
                rc = jb_err(err, errlen, JB_ERANGE,
                            "counters: '%s': at most %d events of %d characters", events,
                            JB_CTR_MAX_EVENTS, JB_CTR_NAME - 1);
                goto fail;
            }
            memcpy(tok, p, len);
            tok[len] = 0;
            rc = jb_perf_encode(tok, &a, fq, sizeof(fq), err, errlen);
            if (rc)
                goto fail;
            if (a.type != PERF_TYPE_SOFTWARE)
                asked_hw = 1;
            open_event(c, tok, &a, fq);
            if (!q)
                break;
            p = q + 1;
        }
    }
    if (asked_hw && count_hw(c) == 0) {
        /* the first refused hardware event's reason stands for all of them */
        const char *key, *why = "no hardware event could be opened";
        json_t *v;
        json_object_foreach(c->unavailable, key, v)
        {
            why = json_string_value(v);
            snprintf(c->fallback, sizeof(c->fallback),
                     "hardware counters unavailable (%s: %s); counting software events only", key,
                     why);
            break;
        }
        if (!c->fallback[0])
            snprintf(c->fallback, sizeof(c->fallback), "%s; counting software events only", why);
        open_names(c, auto_sw);
    } else if (!strcmp(events, "auto")) {
        open_names(c, auto_sw);
    }
    if (c->nev == 0 && c->fallback[0])
        snprintf(c->fallback + strlen(c->fallback), sizeof(c->fallback) - strlen(c->fallback),
                 "; software events unavailable too");
    *out = c;
    return JB_OK;
fail:
    jb_counters_close(c);
    return rc;
}

void jb_counters_close(struct jb_counters *c)
{
    if (!c)
        return;
    for (int i = c->nev - 1; i >= 0; i--)
        close(c->ev[i].fd);
    json_decref(c->unavailable);
    free(c->reps);
    free(c);
}

void jb_counters_set_units_per_iteration(struct jb_counters *c, double units)
{
    c->units_per_iteration = units;
}

double jb_counters_scale(uint64_t value, uint64_t enabled, uint64_t running, int *scaled,
                         double *running_ratio)
{
    *scaled = 0;
    *running_ratio = enabled ? (double)running / (double)enabled : 1.0;
    if (running == 0)
        return value == 0 && enabled == 0 ? 0.0 : NAN;
    if (running >= enabled)
        return (double)value;
    *scaled = 1;
    return (double)value * ((double)enabled / (double)running);
}

/* Reads every event into vals[]; 0 on success. */
static int read_all(struct jb_counters *c, struct ctr_val *vals)
{
    uint64_t buf[3 + 2 * JB_CTR_MAX_EVENTS];
    if (!c->grouped) {
        for (int i = 0; i < c->nev; i++) {
            /* value, enabled, running, id */
            if (read(c->ev[i].fd, buf, 4 * sizeof(uint64_t)) != (ssize_t)(4 * sizeof(uint64_t))) {
                snprintf(c->read_error, sizeof(c->read_error), "counters: read of '%s' failed: %s",
                         c->ev[i].name, strerror(errno));
                return -1;
            }
            vals[i] = (struct ctr_val){buf[0], buf[1], buf[2]};
        }
        return 0;
    }
    for (int g = 0; g < c->ngroups; g++) {
        ssize_t want = (ssize_t)((3 + 2 * (size_t)c->groups[g].n) * sizeof(uint64_t));
        if (read(c->groups[g].leader_fd, buf, sizeof(buf)) < want) {
            snprintf(c->read_error, sizeof(c->read_error),
                     "counters: read of event group %d failed: %s", g, strerror(errno));
            return -1;
        }
        /* nr, time_enabled, time_running, then (value, id) per member */
        for (uint64_t k = 0; k < buf[0] && k < JB_CTR_MAX_EVENTS; k++)
            for (int i = 0; i < c->nev; i++)
                if (c->ev[i].group == g && c->ev[i].id == buf[4 + 2 * k])
                    vals[i] = (struct ctr_val){buf[3 + 2 * k], buf[1], buf[2]};
    }
    return 0;
}

void jb_counters_begin_run(struct jb_counters *c)
{
    c->nreps = 0;
    c->start_ok = 0;
    c->read_error[0] = 0;
}

int jb_counters_rep_begin(struct jb_counters *c)
{
    c->start_ok = c->nev == 0 || read_all(c, c->start) == 0;
    return c->start_ok ? JB_OK : JB_EIO;
}

int jb_counters_rep_end(struct jb_counters *c, double units)
{
    if (c->nreps == c->capreps) {
        int ncap = c->capreps ? c->capreps * 2 : 16;
        struct ctr_rep *nr = realloc(c->reps, sizeof(*nr) * (size_t)ncap);
        if (!nr)
            return JB_ENOMEM;
        c->reps = nr;
        c->capreps = ncap;
    }
    struct ctr_rep *r = &c->reps[c->nreps++];
    memset(r, 0, sizeof(*r));
    r->units = units;
    struct ctr_val now[JB_CTR_MAX_EVENTS];
    r->ok = c->start_ok && (c->nev == 0 || read_all(c, now) == 0);
    c->start_ok = 0;
    if (!r->ok)
        return JB_EIO;
    for (int i = 0; i < c->nev; i++) {
        r->d[i].value = now[i].value - c->start[i].value;
        r->d[i].enabled = now[i].enabled - c->start[i].enabled;
        r->d[i].running = now[i].running - c->start[i].running;
    }
    return JB_OK;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The counters object of the repetitions reps[0..n). */
static void finish_reps(struct jb_counters *c, const struct ctr_rep *reps, int n, json_t *out,
                        json_t *warnings)
{
    double units = 0;
    int nok = 0, nbad = 0;
    for (int k = 0; k < n; k++) {
        if (reps[k].ok) {
            units += reps[k].units;
            nok++;
        } else {
            nbad++;
        }
    }
    json_object_set_new(out, "source", json_string("perf_event_open (libpfm4 names)"));
    json_object_set_new(out, "requested", json_string(c->requested));
    json_object_set_new(out, "grouped", json_boolean(c->grouped));
    json_object_set_new(out, "repetitions", json_integer(nok));
    json_object_set_new(out, "units", json_real(units));
    json_t *events = json_object();
    for (int i = 0; i < c->nev; i++) {
        struct ctr_event *e = &c->ev[i];
        double total = 0;
        uint64_t en = 0, run = 0;
        int scaled_any = 0;
        json_t *samples = json_array();
        for (int k = 0; k < n; k++) {
            const struct ctr_rep *r = &reps[k];
            if (!r->ok)
                continue;
            int scaled;
            double ratio;
            double v =
                jb_counters_scale(r->d[i].value, r->d[i].enabled, r->d[i].running, &scaled, &ratio);
            scaled_any |= scaled;
            total += v; /* NaN propagates: a repetition that never counted spoils the total */
            en += r->d[i].enabled;
            run += r->d[i].running;
            json_array_append_new(samples, num_or_null(r->units > 0 ? v / r->units : NAN));
        }
        json_t *o = json_object();
        json_object_set_new(o, "pfm_name", json_string(e->pfm_name));
        json_object_set_new(o, "type", json_string(e->software ? "software" : "hardware"));
        json_object_set_new(o, "unit", json_string(e->unit_ns ? "ns" : "count"));
        json_object_set_new(o, "modes", json_string(e->with_kernel ? "user+kernel" : "user"));
        json_object_set_new(o, "group", json_integer(e->group));
        json_object_set_new(o, "total", nok ? num_or_null(total) : json_null());
        double per_unit = nok && units > 0 ? total / units : NAN;
        json_object_set_new(o, "per_unit", num_or_null(per_unit));
        if (c->units_per_iteration > 0)
            json_object_set_new(o, "per_iteration", num_or_null(per_unit * c->units_per_iteration));
        json_object_set_new(o, "samples_per_unit", samples);
        json_object_set_new(o, "scaled", json_boolean(scaled_any));
        double ratio = en ? (double)run / (double)en : 1.0;
        json_object_set_new(o, "running_ratio", json_real(ratio));
        json_object_set_new(events, e->name, o);
        if (nok && !isfinite(total) && warnings) {
            char w[256];
            snprintf(w, sizeof(w),
                     "counters: '%s' did not count in some repetition (its group was never "
                     "scheduled); value left null",
                     e->name);
            json_array_append_new(warnings, json_string(w));
        } else if (scaled_any && warnings && c->groups[e->group].leader_fd == e->fd) {
            char w[256];
            snprintf(w, sizeof(w),
                     "counters: group of '%s' was multiplexed (counted %.0f%% of the time); "
                     "values scaled by time_enabled/time_running",
                     e->name, 100.0 * ratio);
            json_array_append_new(warnings, json_string(w));
        }
    }
    json_object_set_new(out, "events", events);
    json_object_set(out, "unavailable", c->unavailable);
    json_object_set_new(out, "fallback", c->fallback[0] ? json_string(c->fallback) : json_null());
    if (warnings && c->fallback[0]) {
        char w[600];
        snprintf(w, sizeof(w), "counters: %s", c->fallback);
        json_array_append_new(warnings, json_string(w));
    }
    if (warnings && !c->fallback[0]) {
        const char *key;
        json_t *v;
        json_object_foreach(c->unavailable, key, v)
        {
            char w[400];
            snprintf(w, sizeof(w), "counters: '%s' unavailable: %s", key, json_string_value(v));
            json_array_append_new(warnings, json_string(w));
        }
    }
    if (warnings && nbad) {
        char w[400];
        snprintf(w, sizeof(w), "counters: %d repetition(s) not counted: %s", nbad,
                 c->read_error[0] ? c->read_error : "read failed");
        json_array_append_new(warnings, json_string(w));
    }
}

int jb_counters_finish_run(struct jb_counters *c, int keep_last, json_t *out, json_t *warnings,
                           char *err, size_t errlen)
{
    if (!out)
        return jb_err(err, errlen, JB_EINVAL, "counters: no output object");
    int first = keep_last > 0 && keep_last < c->nreps ? c->nreps - keep_last : 0;
    finish_reps(c, c->reps + first, c->nreps - first, out, warnings);
    return JB_OK;
}

int jb_counters_snapshot(struct jb_counters *c, struct jb_counters_snapshot *s)
{
    _Static_assert(JB_COUNTERS_SNAPSHOT_EVENTS >= JB_CTR_MAX_EVENTS, "snapshot too small");
    struct ctr_val v[JB_CTR_MAX_EVENTS];
    memset(s, 0, sizeof(*s));
    s->ok = c->nev == 0 || read_all(c, v) == 0;
    for (int i = 0; s->ok && i < c->nev; i++) {
        s->value[i] = v[i].value;
        s->enabled[i] = v[i].enabled;
        s->running[i] = v[i].running;
    }
    return s->ok ? JB_OK : JB_EIO;
}

int jb_counters_finish_intervals(struct jb_counters *c, const struct jb_counters_snapshot *begin,
                                 const struct jb_counters_snapshot *end, const double *units,
                                 int n, json_t *out, json_t *warnings, char *err, size_t errlen)
{
    if (!out)
        return jb_err(err, errlen, JB_EINVAL, "counters: no output object");
    struct ctr_rep *reps = calloc(n > 0 ? (size_t)n : 1, sizeof(*reps));
    if (!reps)
        return jb_err(err, errlen, JB_ENOMEM, "counters: out of memory");
    for (int k = 0; k < n; k++) {
        reps[k].units = units[k];
        reps[k].ok = begin[k].ok && end[k].ok;
        for (int i = 0; reps[k].ok && i < c->nev; i++) {
            reps[k].d[i].value = end[k].value[i] - begin[k].value[i];
            reps[k].d[i].enabled = end[k].enabled[i] - begin[k].enabled[i];
            reps[k].d[i].running = end[k].running[i] - begin[k].running[i];
        }
    }
    finish_reps(c, reps, n, out, warnings);
    free(reps);
    return JB_OK;
}

