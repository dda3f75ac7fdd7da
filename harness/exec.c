/* exec.c: see exec.h. A run is one jb_child_run (harness/child.c: fork,
 * pinning, waiting) bracketed by energy and counters in run_once; the
 * marker socket is served while it runs, its messages handed to
 * harness/regions.c, which keeps the regions and makes their record
 * entries; build_record assembles the
 * record from the pieces the runner's records share (provenance, latency
 * summary, energy and counters entries, publishing). */
#include "harness/exec.h"
#include "base/error.h"
#include "harness/child.h"
#include "harness/counters.h"
#include "harness/energy.h"
#include "harness/provenance.h"
#include "harness/record.h"
#include "harness/stats.h"
#include "harness/topology.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct run_result {
    struct jb_child_exit x;
    int failed; /* non-zero exit, a signal or a timeout */
};

struct xrun {
    const struct jb_exec_opts *o;
    const struct jb_exec_command *c;
    struct jb_energy *energy;
    struct jb_counters *counters;
    int *cpus, ncpus, sampler_cpu;
    char fd_var[64], version_var[64];
    char *env_add[3];     /* the two above: the marker descriptor named for the command */
    int sock, child_sock; /* the harness's end and the command's end of the marker socket */
    int measuring;
    struct jb_regions *regions;
    json_t *warnings;
};

static void warnf(struct xrun *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct xrun *x, const char *fmt, ...)
{
    char w[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w, sizeof(w), fmt, ap);
    va_end(ap);
    json_array_append_new(x->warnings, json_string(w));
}

static int plan_cpus(const struct jb_exec_opts *o, int *cpus, int *sampler_cpu, int *pinned,
                     char *err, size_t errlen)
{
    char cpuset[128] = "", msg[JB_ERRLEN];
    enum jb_pin_policy pol;
    struct jb_topo *t = NULL;
    int rc = jb_pin_policy_parse(o->pin ? o->pin : "none", &pol, cpuset, sizeof(cpuset), msg,
                                 sizeof(msg));
    if (rc)
        return jb_err(err, errlen, rc, "--pin: %s", msg);
    rc = jb_topo_open(&t, err, errlen);
    if (rc)
        return rc;
    rc = jb_topo_plan(t, pol, cpuset, o->threads, cpus, sampler_cpu, msg, sizeof(msg));
    jb_topo_close(t);
    if (rc)
        return jb_err(err, errlen, rc, "--pin %s with %d cpu(s): %s", o->pin ? o->pin : "none",
                      o->threads, msg);
    *pinned = pol != JB_PIN_NONE;
    return JB_OK;
}

int jb_exec_plan(const struct jb_exec_opts *o, const struct jb_exec_command *c, char *err,
                 size_t errlen)
{
    if (o->runs < 1)
        return jb_err(err, errlen, JB_ERANGE, "--runs %d: at least one run", o->runs);
    if (o->warmup_runs < 0 || o->units < 1 || o->threads < 1 || o->timeout_s < 0)
        return jb_err(err, errlen, JB_ERANGE, "exec: negative or zero count");
    if (!c->argv || !c->argv[0] || !c->argv[0][0])
        return jb_err(err, errlen, JB_EINVAL, "exec: no command");
    if (!jb_child_find(c->argv[0]))
        return jb_err(err, errlen, JB_ENOENT, "exec: %s: command not found (or not executable)",
                      c->argv[0]);
    int *cpus = calloc((size_t)o->threads, sizeof(int)), scpu, pinned;
    if (!cpus)
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    int rc = plan_cpus(o, cpus, &scpu, &pinned, err, errlen);
    free(cpus);
    return rc;
}

/* Reads and answers every message waiting on the socket. */
static void serve_markers(struct xrun *x, int block_first)
{
    for (int first = 1;; first = 0) {
        char buf[256];
        ssize_t n = recv(x->sock, buf, sizeof(buf), first && block_first ? 0 : MSG_DONTWAIT);
        if (n <= 0)
            return;
        jb_regions_message(x->regions, buf, (size_t)n);
        /* the answer releases the program; a program gone already is fine */
        if (send(x->sock, "k", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EPIPE &&
            errno != ECONNRESET)
            jb_regions_protocol_error(x->regions, "answering a marker: %s", strerror(errno));
    }
}

static void on_socket(void *ctx)
{
    serve_markers(ctx, 0);
}

/* One execution of the command, measured when x->measuring. */
static int run_once(struct xrun *x, struct run_result *rr, char *err, size_t errlen)
{
    memset(rr, 0, sizeof(*rr));
    if (x->measuring) {
        jb_counters_rep_begin(x->counters);
        jb_energy_rep_begin(x->energy);
    }
    struct jb_child_spec cs = {.argv = x->c->argv,
                               .env_add = x->env_add,
                               .cpus = x->cpus,
                               .ncpus = x->ncpus,
                               .stdout_null = !x->o->show_output,
                               .keep_fd = x->child_sock,
                               .timeout_s = x->o->timeout_s};
    char e2[JB_ERRLEN];
    int rc = jb_child_run(&cs, x->sock, on_socket, x, &rr->x, e2, sizeof(e2));
    if (rc)
        return jb_err(err, errlen, rc, "exec: %s: %s", x->c->display, e2);
    rr->failed = rr->x.timed_out || rr->x.status != 0;
    if (x->measuring && !rr->failed) {
        struct jb_rep_stats st = {
            .wall_s = rr->x.wall_s, .cpu_s = rr->x.user_s + rr->x.sys_s, .units = x->o->units};
        jb_energy_rep_end(x->energy, &st);
        jb_counters_rep_end(x->counters, x->o->units);
    }
    return JB_OK;
}

static void describe_failure(const struct run_result *rr, const struct jb_exec_opts *o, char *out,
                             size_t n)
{
    if (rr->x.timed_out)
        snprintf(out, n, "timed out after %.3g s (killed)", o->timeout_s);
    else if (rr->x.signal)
        snprintf(out, n, "killed by signal %d (%s)", rr->x.signal, strsignal(rr->x.signal));
    else if (rr->x.status == 127)
        snprintf(out, n, "exited with status 127 (the command could not be executed)");
    else
        snprintf(out, n, "exited with status %d", rr->x.status);
}

static json_t *run_json(const struct run_result *rr, int index, int warmup)
{
    json_t *o = json_object();
    json_object_set_new(o, "run", json_integer(index));
    json_object_set_new(o, "warmup", json_boolean(warmup));
    json_object_set_new(o, "failed", json_boolean(rr->failed));
    json_object_set_new(o, "exit_status",
                        rr->x.status >= 0 ? json_integer(rr->x.status) : json_null());
    json_object_set_new(o, "signal", rr->x.signal ? json_integer(rr->x.signal) : json_null());
    json_object_set_new(o, "timed_out", json_boolean(rr->x.timed_out));
    json_object_set_new(o, "wall_s", json_real(rr->x.wall_s));
    json_object_set_new(o, "user_s", json_real(rr->x.user_s));
    json_object_set_new(o, "sys_s", json_real(rr->x.sys_s));
    json_object_set_new(o, "max_rss_kb", json_integer(rr->x.max_rss_kb));
    return o;
}

/* Runs are what they are: a run too short for a counter gets the bound in
 * its uncertainty, and here what would resolve it. */
static void resolution_warnings(struct xrun *x, json_t *energy, double run_s)
{
    size_t i;
    json_t *e;
    json_array_foreach(energy, i, e)
    {
        double q = json_number_value(json_object_get(e, "quantization_bound_rel"));
        if (!(q > 0.01) || !(run_s > 0))
            continue;
        double need_s = run_s * q / 0.01;
        int times = (int)ceil(need_s / run_s);
        warnf(x,
              "exec: runs of %.3g s are too short for %s %s to resolve to 1%% (quantization up to "
              "%.1f%% of a run, included in the uncertainty; runs are not lengthened): runs of "
              "at least %.3g s would resolve it, e.g. the command repeated %d times in one run "
              "with --units %d",
              run_s, json_string_value(json_object_get(e, "source")),
              json_string_value(json_object_get(e, "domain")), 100 * q, need_s, times,
              times * x->o->units);
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void record_file_base(const struct jb_exec_command *c, const char *run_id, char *out,
                             size_t n)
{
    char name[48];
    const char *s = c->name ? c->name : c->display;
    size_t k = 0;
    for (; *s && k + 1 < sizeof(name); s++) {
        int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                 *s == '.' || *s == '_';
        if (ok || (k && name[k - 1] != '-'))
            name[k++] = ok ? *s : '-';
    }
    while (k && name[k - 1] == '-')
        k--;
    name[k] = 0;
    snprintf(out, n, "exec_%s_%.8s", k ? name : "cmd", run_id);
}

struct outcome {
    int requested, completed; /* measured runs asked for, and those that passed */
    int failed_run;           /* index of the failed measured run, or -1 */
    char failure[256];
    int interrupted;
};

static json_t *build_record(struct xrun *x, const double *wall, int nok, json_t *runs_j,
                            const struct outcome *oc, const char *run_id, json_t *energy,
                            json_t *counters, json_t *regions, json_t *system)
{
    const struct jb_exec_opts *o = x->o;
    const struct jb_exec_command *c = x->c;
    char now[32];
    jb_utc_now(now);
    double total_s = 0;
    json_t *means = json_array();
    double *lat = malloc((size_t)(nok > 0 ? nok : 1) * sizeof(double));
    for (int i = 0; i < nok; i++) {
        total_s += wall[i];
        json_array_append_new(means, json_real(wall[i]));
        if (lat)
            lat[i] = wall[i];
    }
    struct jb_summary sum;
    jb_summarize(lat, lat ? (size_t)nok : 0, &sum);
    free(lat);
    double units = (double)nok * o->units;
    int complete = !oc->interrupted && oc->failed_run < 0 && oc->completed == oc->requested;
    json_t *argv_j = json_array();
    for (int i = 0; c->argv[i]; i++)
        json_array_append_new(argv_j, json_string(c->argv[i]));
    json_t *cpus_j = json_array();
    for (int i = 0; i < x->ncpus; i++)
        json_array_append_new(cpus_j, json_integer(x->cpus[i]));
    json_t *rec = json_object();
    json_object_set_new(rec, "schema_version", json_integer(JB_RECORD_SCHEMA_VERSION));
    json_object_set_new(rec, "run_id", json_string(run_id));
    json_object_set_new(rec, "created_utc", json_string(now));
    json_object_set_new(rec, "complete", json_boolean(complete));
    json_object_set_new(rec, "suite", json_null());
    json_t *zero = json_pack("{s:f, s:f, s:f, s:f, s:f}", "macs", 0.0, "flops", 0.0, "param_bytes",
                             0.0, "activation_bytes", 0.0, "bytes_moved", 0.0);
    json_object_set_new(rec, "workload",
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:o}", "name",
                                  c->name ? c->name : c->display, "version", "exec", "family",
                                  "exec", "unit", o->unit ? o->unit : "run", "dtype", "n/a",
                                  "input_shape", c->display, "parameters", 0.0, "check",
                                  "exit status 0", "counts_per_unit", zero));
    json_object_set_new(rec, "backend",
                        json_pack("{s:s, s:s, s:s}", "name", "exec", "kernel", c->argv[0], "timing",
                                  "host-clock, fork to exit"));
    json_object_set_new(
        rec, "config",
        json_pack("{s:i, s:s, s:o, s:i, s:s, s:i, s:i, s:i, s:f, s:i, s:i, s:s, s:f, s:n, s:s}",
                  "threads", x->ncpus ? x->ncpus : o->threads, "pin", o->pin ? o->pin : "none",
                  "cpus", cpus_j, "sampler_cpu", x->sampler_cpu, "scenario", "single-stream",
                  "batch", 1, "context", 0, "seed", 0, "min_time_s", 0.0, "repetitions", o->runs,
                  "warmup_runs", o->warmup_runs, "power", o->power ? o->power : "auto", "idle_s",
                  o->idle_s, "options", "origin", "command line"));
    json_object_set_new(rec, "system", json_incref(system));
    json_t *m = json_object();
    json_object_set_new(m, "units_per_iteration", json_integer(o->units));
    json_object_set_new(m, "iterations", json_integer(nok));
    json_object_set_new(m, "repetitions_completed", json_integer(nok));
    json_object_set_new(m, "duration_s", json_real(total_s));
    json_object_set_new(m, "throughput_units_per_s", json_real(total_s > 0 ? units / total_s : 0));
    json_object_set_new(m, "latency_s", jb_summary_json(&sum, means));
    json_object_set_new(m, "energy", json_incref(energy));
    json_object_set_new(m, "counters", json_incref(counters));
    if (json_array_size(regions))
        json_object_set_new(m, "regions", json_incref(regions));
    json_object_set_new(rec, "measurements", m);
    json_object_set_new(rec, "exec",
                        json_pack("{s:s, s:o, s:i, s:i, s:O}", "command_line", c->display, "argv",
                                  argv_j, "runs_requested", o->runs, "warmup_runs", o->warmup_runs,
                                  "runs", runs_j));
    char detail[320];
    if (oc->failed_run >= 0)
        snprintf(detail, sizeof(detail), "run %d of %d %s", oc->failed_run + 1, oc->requested,
                 oc->failure);
    else
        snprintf(detail, sizeof(detail), "every run exited with status 0");
    json_t *val =
        json_pack("{s:s, s:i, s:s, s:O}", "output_check",
                  oc->failed_run >= 0 ? "fail" : (nok ? "pass" : "none"), "checks",
                  nok + (oc->failed_run >= 0), "check_detail", detail, "warnings", x->warnings);
    if (oc->failed_run >= 0)
        json_object_set_new(val, "run_error", json_string(detail));
    json_object_set_new(rec, "validity", val);
    return rec;
}

static void progress(const struct xrun *x, int i, int warmup, const struct run_result *rr)
{
    if (!x->o->progress)
        return;
    fprintf(stderr, "\r\033[K%s: %s %d/%d, %.3f s%s", x->c->display, warmup ? "warm-up" : "run",
            i + 1, warmup ? x->o->warmup_runs : x->o->runs, rr->x.wall_s,
            rr->failed ? " FAILED" : "");
    fflush(stderr);
}

/* The command's cpus, then the energy sources, then the counters (after the
 * sampler thread, which must not be counted, and before the fork, so that
 * the command and its children inherit them), then the marker socket. */
static int open_instruments(struct xrun *x, char *err, size_t errlen)
{
    const struct jb_exec_opts *o = x->o;
    int pinned = 0, rc;
    x->cpus = calloc((size_t)o->threads, sizeof(int));
    if (!x->cpus)
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    if ((rc = plan_cpus(o, x->cpus, &x->sampler_cpu, &pinned, err, errlen)))
        return rc;
    x->ncpus = pinned ? o->threads : 0;
    struct jb_energy_opts eo = {.threads = o->threads,
                                .cpus = pinned ? x->cpus : NULL,
                                .sampler_cpu = x->sampler_cpu,
                                .sysfs_root = o->sysfs_root,
                                .with_children = 1};
    if ((rc = jb_energy_open(o->power, &eo, &x->energy, err, errlen)))
        return rc;
    if (o->idle_s > 0 && (rc = jb_energy_idle(x->energy, o->idle_s, err, errlen)))
        return rc;
    if ((rc = jb_counters_open(o->counters ? o->counters : "auto", &x->counters, err, errlen)))
        return rc;
    jb_counters_set_units_per_iteration(x->counters, o->units);
    if (jb_regions_open(x->energy, x->counters, &x->regions))
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return jb_err(err, errlen, JB_EIO, "exec: socketpair: %s", strerror(errno));
    x->sock = sv[0];
    x->child_sock = sv[1];
    snprintf(x->fd_var, sizeof(x->fd_var), "%s=%d", JB_MARKER_FD_ENV, x->child_sock);
    snprintf(x->version_var, sizeof(x->version_var), "%s=%d", JB_MARKER_VERSION_ENV,
             JB_MARKER_PROTOCOL);
    x->env_add[0] = x->fd_var;
    x->env_add[1] = x->version_var;
    x->env_add[2] = NULL;
    return JB_OK;
}

/* The warm-up and measured runs, until the first failure or an interrupt:
 * wall[] gets the passed runs' times, runs_j every run, oc how it ended. */
static int measure(struct xrun *x, double *wall, json_t *runs_j, struct outcome *oc, char *err,
                   size_t errlen)
{
    const struct jb_exec_opts *o = x->o;
    jb_energy_begin_run(x->energy);
    jb_counters_begin_run(x->counters);
    for (int i = 0; i < o->warmup_runs + o->runs; i++) {
        if (o->interrupted && *o->interrupted) {
            oc->interrupted = 1;
            break;
        }
        int warm = i < o->warmup_runs, idx = warm ? i : i - o->warmup_runs;
        struct run_result rr;
        int rc;
        x->measuring = !warm;
        jb_regions_begin_run(x->regions, idx, !warm);
        if ((rc = run_once(x, &rr, err, errlen)))
            return rc;
        progress(x, idx, warm, &rr);
        json_array_append_new(runs_j, run_json(&rr, idx, warm));
        jb_regions_end_run(x->regions, rr.failed, x->warnings);
        if (rr.failed) {
            /* a failed warm-up fails the first run: nothing is measured */
            char how[160];
            describe_failure(&rr, o, how, sizeof(how));
            snprintf(oc->failure, sizeof(oc->failure), "%s%s",
                     warm ? "was not run: a warm-up run " : "", how);
            oc->failed_run = warm ? 0 : idx;
            break;
        }
        if (!warm)
            wall[oc->completed++] = rr.x.wall_s;
    }
    if (o->progress)
        fprintf(stderr, "\r\033[K");
    return JB_OK;
}

int jb_exec_run(const struct jb_exec_opts *o, const struct jb_exec_command *c, json_t **record,
                char *record_path, size_t pathlen, char *err, size_t errlen)
{
    struct xrun x;
    memset(&x, 0, sizeof(x));
    x.o = o;
    x.c = c;
    x.sock = x.child_sock = -1;
    x.sampler_cpu = -1;
    *record = NULL;
    json_t *runs_j = json_array(), *energy = json_array(), *counters = json_object(),
           *regions = NULL, *system = NULL;
    x.warnings = json_array();
    double *wall = calloc((size_t)o->runs, sizeof(double));
    struct jb_topo *topo = NULL;
    struct outcome oc = {.requested = o->runs, .failed_run = -1};
    int rc = jb_exec_plan(o, c, err, errlen);
    if (rc)
        goto out;
    if (!wall) {
        rc = jb_err(err, errlen, JB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = jb_mkdir_p(o->out_dir, err, errlen)) || (rc = jb_topo_open(&topo, err, errlen)))
        goto out;
    system = jb_provenance_system(topo, o->argc, o->argv, o->sysfs_root);
    if (!system) {
        rc = jb_err(err, errlen, JB_ENOMEM, "provenance: out of memory");
        goto out;
    }
    if ((rc = open_instruments(&x, err, errlen)) ||
        (rc = measure(&x, wall, runs_j, &oc, err, errlen)))
        goto out;
    int nok = oc.completed;
    char run_id[33], base[128], path[1024], trace[1024];
    jb_run_id_new(run_id);
    record_file_base(c, run_id, base, sizeof(base));
    snprintf(path, sizeof(path), "%s/%s.json", o->out_dir, base);
    snprintf(trace, sizeof(trace), "%s/%s.power.csv", o->out_dir, base);
    char e2[JB_ERRLEN];
    if (nok) {
        if (jb_energy_finish_run(x.energy, nok, energy, x.warnings, trace, e2, sizeof(e2)))
            warnf(&x, "%s", e2);
        if (jb_counters_finish_run(x.counters, nok, counters, x.warnings, e2, sizeof(e2)))
            warnf(&x, "%s", e2);
        double mean_s = 0;
        for (int i = 0; i < nok; i++)
            mean_s += wall[i] / nok;
        resolution_warnings(&x, energy, mean_s);
    } else {
        warnf(&x, "no run completed: no energy or counters");
    }
    double total_s = 0;
    for (int i = 0; i < nok; i++)
        total_s += wall[i];
    regions = jb_regions_json(x.regions, total_s, x.warnings);
    json_t *rec =
        build_record(&x, wall, nok, runs_j, &oc, run_id, energy, counters, regions, system);
    json_t *files = json_object();
    if (access(trace, F_OK) == 0)
        json_object_set_new(files, "power_trace", json_string(base_name(trace)));
    json_object_set_new(rec, "files", files);
    int written;
    rc = jb_record_publish(rec, path, &o->hooks, &written, e2, sizeof(e2));
    if (!written) {
        json_decref(rec);
        rc = jb_err(err, errlen, rc, "%s", e2);
        goto out;
    }
    *record = rec;
    snprintf(record_path, pathlen, "%s", path);
    if (rc)
        jb_err(err, errlen, rc, "%s: %s", c->display, e2);
    else if (oc.failed_run >= 0)
        rc = jb_err(err, errlen, JB_ECHECK, "%s: run %d of %d %s", c->display, oc.failed_run + 1,
                    o->runs, oc.failure);
    else if (oc.interrupted)
        rc = jb_err(err, errlen, JB_EINTR,
                    "%s: interrupted after %d run(s); record marked "
                    "incomplete",
                    c->display, nok);
out:
    if (x.sock >= 0)
        close(x.sock);
    if (x.child_sock >= 0)
        close(x.child_sock);
    jb_counters_close(x.counters);
    jb_energy_close(x.energy);
    jb_topo_close(topo);
    json_decref(system);
    json_decref(runs_j);
    json_decref(energy);
    json_decref(counters);
    json_decref(regions);
    json_decref(x.warnings);
    jb_regions_close(x.regions);
    free(x.cpus);
    free(wall);
    return rc;
}
