/* runner.c: see runner.h. The measurement loop lives in bench_fn; everything
 * else prepares it or turns what it saw into a record. */
#include "harness/runner.h"
#include "harness/runner_internal.h"
#include "harness/counters.h"
#include "harness/energy.h"
#include "base/error.h"
#include "harness/gbench.h"
#include "harness/provenance.h"
#include "harness/record.h"
#include "harness/stats.h"
#include "harness/topology.h"
#include "workloads/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Per-iteration latencies kept for percentiles. 4 Mi samples (32 MiB) hold
 * every iteration of any sensible run; past that, later iterations are still
 * timed and counted but their latencies are not kept, and the record says so. */
#define MAX_SAMPLES (4u << 20)


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int jb_runner_push_sample(struct bench *b, double v)
{
    if (b->nsamples == b->capsamples) {
        if (b->capsamples >= MAX_SAMPLES) {
            b->dropped_samples = 1;
            return 0;
        }
        size_t cap = b->capsamples ? 2 * b->capsamples : 4096;
        double *s = realloc(b->samples, cap * sizeof(double));
        if (!s) {
            b->dropped_samples = 1;
            return 0;
        }
        b->samples = s;
        b->capsamples = cap;
    }
    b->samples[b->nsamples++] = v;
    return 1;
}

struct invocation *jb_runner_new_invocation(struct bench *b)
{
    if (b->ninv == b->capinv) {
        int cap = b->capinv ? 2 * b->capinv : 16;
        struct invocation *v = realloc(b->inv, sizeof(*v) * (size_t)cap);
        if (!v)
            return NULL;
        b->inv = v;
        b->capinv = cap;
    }
    struct invocation *iv = &b->inv[b->ninv++];
    memset(iv, 0, sizeof(*iv));
    iv->first_sample = b->nsamples;
    return iv;
}

static void progress(struct bench *b, const struct invocation *iv)
{
    if (!b->r->o.progress)
        return;
    fprintf(stderr, "\r\033[K[%d] %s %s %s: call %d, %lld iterations, %.3f s%s",
            b->r->nruns + 1, b->spec->workload, b->info.dtype, b->spec->scenario, b->ninv,
            (long long)iv->iterations, iv->wall_s, b->check_failed ? " CHECK FAILED" : "");
    fflush(stderr);
}

/* One iteration, timed with CLOCK_MONOTONIC and counted. Returns run()'s
 * status; on failure the run is marked failed with its message. */
static int one_iteration(struct bench *b, struct invocation *iv, double *dt_s, char *err,
                         size_t errlen)
{
    double t0 = now_s();
    int rc = b->ops->run(b->state, err, errlen);
    double t1 = now_s();
    if (rc) {
        snprintf(b->run_err, sizeof(b->run_err), "%s", err);
        if (!b->run_failed)
            b->run_rc = rc;
        b->run_failed = 1;
        iv->failed = 1;
        iv->run_error = 1;
        return rc;
    }
    *dt_s = t1 - t0;
    iv->iterations++;
    iv->timed_s += t1 - t0;
    if (jb_runner_push_sample(b, t1 - t0))
        iv->nsamples++;
    return JB_OK;
}

/* Checks the output a repetition left, once. The workload's state is still
 * the repetition's: nothing runs between two calls of bench_fn, nor after
 * the last one before the check that jb_runner_run makes. */
void jb_runner_check_repetition(struct bench *b, struct invocation *iv)
{
    char err[JB_ERRLEN];
    if (iv->checked || !iv->ran || iv->failed || iv->iterations == 0)
        return;
    iv->checked = 1;
    b->checks++;
    if (b->ops->check(b->state, err, sizeof(err))) {
        iv->check_failed = 1;
        if (!b->check_failed)
            snprintf(b->check_err, sizeof(b->check_err), "%s", err);
        b->check_failed = 1;
    }
}

/* The measured loop. Energy and counters bracket the timed region; each
 * iteration is timed with CLOCK_MONOTONIC and handed to Google Benchmark as
 * manual time, so both see the same latencies. A repetition after the first
 * then goes on, whole iterations at a time, until it has lasted the minimum
 * time, and any repetition for as long as the energy accounting asks
 * (jb_energy_rep_more: until the counter it aligns to has updated, so that
 * the repetition ends at an update). The output check of a repetition runs
 * outside the timed region, once it is known to be one: at the start of
 * the next call, or after the last. */
static void bench_fn(struct jb_gb_state *st, void *arg)
{
    struct bench *b = arg;
    char err[JB_ERRLEN];
    const volatile sig_atomic_t *intr = b->r->o.interrupted;
    struct invocation *iv = jb_runner_new_invocation(b);
    if (!iv) {
        jb_gb_skip_with_error(st, "out of memory");
        return;
    }
    iv->gb_iterations = jb_gb_max_iterations(st);
    if (b->ninv >= 2) {
        struct invocation *prev = &b->inv[b->ninv - 2];
        iv->repeat = prev->gb_iterations == iv->gb_iterations;
        if (iv->repeat)
            jb_runner_check_repetition(b, prev);
    }
    if ((intr && *intr) || b->run_failed) {
        iv->failed = 1;
        jb_gb_skip_with_error(st, b->run_failed ? b->run_err : "interrupted");
        /* Enter the loop once anyway: Google Benchmark requires every
         * repetition, failed ones included, to report the same iteration
         * count, which only a started loop does. */
        while (jb_gb_keep_running(st))
            ;
        return;
    }
    iv->ran = 1;
    jb_counters_rep_begin(b->counters);
    jb_energy_rep_begin(b->energy);
    double w0 = now_s(), c0 = cpu_now_s(), dt;
    while (jb_gb_keep_running(st)) {
        if (one_iteration(b, iv, &dt, err, sizeof(err))) {
            jb_gb_skip_with_error(st, err);
            continue; /* keep_running now returns false and stops the timer */
        }
        jb_gb_set_iteration_time(st, dt);
        if (intr && *intr) {
            iv->failed = 1;
            jb_gb_skip_with_error(st, "interrupted");
        }
    }
    /* A repetition after the first runs the first one's iteration count,
     * which a stalled iteration can have made far too small (one iteration
     * of a loaded machine's 30 ms, where they take 0.2 ms): whole
     * iterations more until it has lasted the minimum time, as the first
     * did. Google Benchmark's loop is over, so neither these nor the tail
     * below count in its own output; the record counts them (iterations,
     * latencies, energy, counters all cover the whole repetition). */
    if (iv->repeat && !iv->failed) {
        while (iv->timed_s < b->min_time_s) {
            if (one_iteration(b, iv, &dt, err, sizeof(err))) {
                jb_gb_skip_with_error(st, err);
                break;
            }
            if (intr && *intr) {
                iv->failed = 1;
                jb_gb_skip_with_error(st, "interrupted");
                break;
            }
        }
    }
    /* The tail that ends the repetition at a counter update. Iteration-count
     * probes (calls shorter than half the minimum time, whose energy is
     * discarded) get none. */
    if (!iv->failed && iv->iterations > 0 &&
        (iv->repeat || iv->timed_s >= 0.5 * b->min_time_s)) {
        while (jb_energy_rep_more(b->energy, iv->timed_s / (double)iv->iterations)) {
            if (one_iteration(b, iv, &dt, err, sizeof(err))) {
                jb_gb_skip_with_error(st, err);
                break;
            }
            if (intr && *intr) {
                iv->failed = 1;
                jb_gb_skip_with_error(st, "interrupted");
                break;
            }
        }
    }
    double w1 = now_s(), c1 = cpu_now_s();
    iv->wall_s = w1 - w0;
    iv->cpu_s = c1 - c0;
    struct jb_rep_stats rs = {
        .wall_s = iv->wall_s,
        .cpu_s = iv->cpu_s,
        .units = (double)iv->iterations * b->info.units_per_iteration,
    };
    /* A repetition cut short by a failed run() is not one: energy and
     * counters keep the last repetitions, which must be the complete ones
     * before it (a GPU lost between repetitions leaves those as the record). */
    if (!iv->run_error) {
        jb_energy_rep_end(b->energy, &rs);
        jb_counters_rep_end(b->counters, rs.units);
    }
    progress(b, iv);
}

/* The status a failed run() gives the caller: the workload's own code (a
 * lost GPU stays JB_EUNAVAIL), except the codes jb_runner_run gives a
 * meaning of its own (an output check failed, interrupted), and anything
 * not an error code, which become JB_EIO. */
static int run_status(const struct bench *b)
{
    int rc = b->run_rc;
    if (rc >= 0 || rc == JB_ECHECK || rc == JB_EINTR)
        return JB_EIO;
    return rc;
}

static void bench_report(const struct jb_gb_run *runs, int nruns, void *ctx)
{
    struct bench *b = ctx;
    for (int i = 0; i < nruns; i++) {
        if (runs[i].is_aggregate)
            continue;
        b->reported++;
        if (runs[i].error_occurred) {
            b->error_runs++;
            snprintf(b->gb_error, sizeof(b->gb_error), "%s", runs[i].error_message);
        }
    }
}

static json_t *counts_json(const struct jb_work_counts *c)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f}", "macs", c->macs, "flops", c->flops,
                     "param_bytes", c->param_bytes, "activation_bytes", c->activation_bytes,
                     "bytes_moved", c->bytes_moved);
}

/* The model file and quality a workload reports (TinyML), added to the
 * record's workload object when present. */
static void model_json(json_t *wl, const struct jb_workload_info *in)
{
    if (in->model_weights[0])
        json_object_set_new(wl, "model",
                            json_pack("{s:s, s:s*, s:s*}", "weights", in->model_weights, "file",
                                      in->model_file[0] ? in->model_file : NULL, "sha256",
                                      in->model_sha256[0] ? in->model_sha256 : NULL));
    if (in->quality_metric[0])
        json_object_set_new(wl, "quality",
                            json_pack("{s:s, s:f, s:f, s:b, s:i}", "metric", in->quality_metric,
                                      "value", in->quality_value, "target", in->quality_target,
                                      "pass", in->quality_value >= in->quality_target, "items",
                                      in->quality_items));
}

int jb_runner_open(const struct jb_runner_opts *o, struct jb_runner **out, char *err,
                   size_t errlen)
{
    int rc;
    struct jb_runner *r = calloc(1, sizeof(*r));
    if (!r)
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    r->o = *o;
    if (!r->o.power)
        r->o.power = "auto";
    if (!r->o.counters)
        r->o.counters = "auto";
    rc = jb_mkdir_p(o->out_dir, err, errlen);
    if (rc)
        goto fail;
    rc = jb_topo_open(&r->topo, err, errlen);
    if (rc)
        goto fail;
    r->system = jb_provenance_system(r->topo, o->argc, o->argv, o->sysfs_root);
    if (!r->system) {
        rc = jb_err(err, errlen, JB_ENOMEM, "provenance: out of memory");
        goto fail;
    }
    r->gbench_runs = json_array();
    *out = r;
    return JB_OK;
fail:
    jb_runner_close(r, NULL, 0);
    return rc;
}

static void record_name(const struct jb_run_spec *s, const struct jb_workload_info *in,
                        const char *run_id, char *out, size_t n)
{
    snprintf(out, n, "%s_%s_%s_b%d_L%d_t%d_%.8s", s->workload, in->dtype,
             !strcmp(s->scenario, "offline")  ? "offline"
             : !strcmp(s->scenario, "server") ? "server"
             : !strcmp(s->scenario, "multi-stream") ? "ms"
                                                     : "ss",
             in->units_per_iteration,
             in->context, in->threads, run_id);
}

/* Google Benchmark's JSON for this run, read back from where it wrote it
 * (the temporary file is removed); NULL when there is none. */
static json_t *load_gbench(const char *tmp_path)
{
    json_error_t je;
    json_t *g = json_load_file(tmp_path, 0, &je);
    unlink(tmp_path);
    return g;
}

/* Puts a run's Google Benchmark JSON into the runner's merged list and
 * beside the record, after the gbench hook has seen it with the record. */
static void publish_gbench(struct jb_runner *r, json_t *g, const json_t *rec,
                           const char *final_path)
{
    char e[JB_ERRLEN];
    if (r->o.gbench_hook)
        r->o.gbench_hook(g, rec, r->o.hook_ctx);
    json_t *bm = json_object_get(g, "benchmarks");
    size_t i;
    json_t *v;
    json_array_foreach(bm, i, v) json_array_append(r->gbench_runs, v);
    if (!r->gbench_context && json_object_get(g, "context"))
        r->gbench_context = json_incref(json_object_get(g, "context"));
    jb_json_write_atomic(final_path, g, e, sizeof(e));
}

static json_t *build_record(struct jb_runner *r, struct bench *b, const char *run_id,
                            const int *cpus, int sampler_cpu, double idle_s)
{
    const struct jb_run_spec *s = b->spec;
    char now[32];
    jb_utc_now(now);
    /* The repetitions are the last `keep` calls that ran. */
    int first = b->ninv - b->keep;
    size_t nsamp = 0;
    int64_t iters = 0;
    double dur = 0, timed = 0;
    json_t *rep_means = json_array();
    for (int i = first; i < b->ninv; i++) {
        nsamp += b->inv[i].nsamples;
        iters += b->inv[i].iterations;
        dur += b->inv[i].wall_s;
        timed += b->inv[i].timed_s;
        if (b->inv[i].iterations > 0)
            json_array_append_new(rep_means,
                                  json_real(b->inv[i].timed_s / (double)b->inv[i].iterations));
    }
    double *lat = malloc((nsamp ? nsamp : 1) * sizeof(double));
    size_t k = 0;
    for (int i = first; i < b->ninv && lat; i++) {
        memcpy(lat + k, b->samples + b->inv[i].first_sample,
               b->inv[i].nsamples * sizeof(double));
        k += b->inv[i].nsamples;
    }
    struct jb_summary sum;
    jb_summarize(lat, lat ? k : 0, &sum);
    free(lat);
    double units = (double)iters * b->info.units_per_iteration;
    json_t *latency = jb_summary_json(&sum, rep_means);
    json_t *cpus_j = json_array();
    for (int i = 0; i < b->info.threads && cpus; i++)
        json_array_append_new(cpus_j, json_integer(cpus[i]));
    const char *check = "none";
    if (b->checks > 0)
        check = b->check_failed ? "fail" : "pass";
    if (b->dropped_samples)
        json_array_append_new(b->warnings,
                              json_string("latency samples past the first 4 Mi iterations were "
                                          "not kept; percentiles cover the kept ones"));
    if (b->checks == 0)
        json_array_append_new(b->warnings,
                              json_string("no repetition was long enough to check the output"));
    int complete = b->error_runs == 0 && b->keep > 0 && b->keep == s->repetitions;
    json_t *rec = json_object();
    json_object_set_new(rec, "schema_version", json_integer(JB_RECORD_SCHEMA_VERSION));
    json_object_set_new(rec, "run_id", json_string(run_id));
    json_object_set_new(rec, "created_utc", json_string(now));
    json_object_set_new(rec, "complete", json_boolean(complete));
    json_object_set_new(rec, "suite", r->o.suite ? json_string(r->o.suite) : json_null());
    const struct jb_workload_ops *canon = jb_workload_canonical(b->ops);
    json_t *wl = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:o}", "name", canon->name,
                           "version", canon->version, "family", canon->family, "unit",
                           canon->unit, "dtype", b->info.dtype, "input_shape",
                           b->info.input_shape, "parameters", b->info.parameters, "check",
                           b->info.check, "counts_per_unit", counts_json(&b->info.per_unit));
    if (canon != b->ops) /* asked for by an old name: say which */
        json_object_set_new(wl, "alias", json_string(b->ops->name));
    model_json(wl, &b->info);
    json_object_set_new(rec, "workload", wl);
    json_t *be = json_pack("{s:s, s:s, s:s, s:s}", "name",
                           b->info.backend[0] ? b->info.backend : "cpu", "kernel", b->info.kernel,
                           "timing", b->info.timing[0] ? b->info.timing : "host-clock", "version",
                           b->info.backend_version[0] ? b->info.backend_version : "1");
    if (b->info.libraries[0])
        json_object_set_new(be, "libraries", json_string(b->info.libraries));
    json_object_set_new(rec, "backend", be);
    json_object_set_new(
        rec, "config",
        json_pack("{s:i, s:s, s:o, s:i, s:s, s:i, s:i, s:I, s:f, s:f, s:i, s:s, s:f, s:s*, s:s}",
                  "threads", b->info.threads, "pin", s->pin, "cpus", cpus_j, "sampler_cpu",
                  sampler_cpu, "scenario", s->scenario, "batch", b->info.units_per_iteration,
                  "context", b->info.context, "seed", (json_int_t)r->o.seed, "min_time_s",
                  b->min_time_s, "min_time_requested_s", s->min_time_s, "repetitions",
                  s->repetitions, "power", r->o.power, "idle_s", idle_s, "options",
                  s->options[0] ? s->options : NULL, "origin", s->origin));
    json_object_set_new(rec, "system", json_deep_copy(r->system));
    json_t *m = json_object();
    json_object_set_new(m, "units_per_iteration", json_integer(b->info.units_per_iteration));
    json_object_set_new(m, "iterations", json_integer(iters));
    json_object_set_new(m, "repetitions_completed", json_integer(b->keep));
    json_object_set_new(m, "duration_s", json_real(dur));
    json_object_set_new(m, "throughput_units_per_s", json_real(timed > 0 ? units / timed : 0));
    json_object_set_new(m, "latency_s", latency);
    json_object_set_new(m, "energy", json_incref(b->energy_list));
    json_object_set_new(m, "counters", json_incref(b->counters_obj));
    json_object_set_new(rec, "measurements", m);
    json_t *val = json_pack("{s:s, s:i, s:O}", "output_check", check, "checks", b->checks,
                            "warnings", b->warnings);
    if (b->check_failed)
        json_object_set_new(val, "check_detail", json_string(b->check_err));
    else if (b->checks)
        json_object_set_new(val, "check_detail", json_string(b->info.check));
    if (b->run_failed)
        json_object_set_new(val, "run_error", json_string(b->run_err));
    json_object_set_new(rec, "validity", val);
    return rec;
}

/* What a spec asks for, checked against this build and machine: its
 * workload and back-end, and where each worker thread and the sampler go. */
struct plan {
    const struct jb_workload_ops *ops;
    const char *backend;
    enum jb_pin_policy pol;
    int *cpus; /* s->threads OS cpus (-1 each when unpinned); owned, free() */
    int sampler_cpu;
};

/* Fills p for s, or fails with err naming the spec's origin. Nothing is
 * opened or measured, so the CLI can plan a whole suite before running any
 * of it (jb_runner_plan) and jb_runner_run plans the same way. */
static int plan_spec(const struct jb_topo *t, const struct jb_run_spec *s, struct plan *p,
                     char *err, size_t errlen)
{
    char msg[JB_ERRLEN], cpuset[128] = "";
    int rc;
    memset(p, 0, sizeof(*p));
    p->sampler_cpu = -1;
    p->ops = s->ops ? s->ops : jb_workload_find(s->workload);
    if (!p->ops)
        return jb_err(err, errlen, JB_ENOENT, "%s: unknown workload '%s' (see joulebench list)",
                      s->origin, s->workload);
    const struct jb_backend *be;
    rc = jb_workload_backend(p->ops, s->backend, &be, msg, sizeof(msg));
    if (rc)
        return jb_err(err, errlen, rc, "%s: %s", s->origin, msg);
    p->backend = be->name;
    if (s->dtype[0] && !jb_list_has(be->dtypes, s->dtype))
        return jb_err(err, errlen, JB_EINVAL, "%s: %s on %s does not compute dtype '%s' (it has "
                      "%s)", s->origin, jb_workload_canonical(p->ops)->name, be->name, s->dtype,
                      be->dtypes);
    rc = jb_workload_options_check(p->ops, be, s->options, msg, sizeof(msg));
    if (rc)
        return jb_err(err, errlen, rc, "%s: %s", s->origin, msg);
    rc = jb_pin_policy_parse(s->pin, &p->pol, cpuset, sizeof(cpuset), msg, sizeof(msg));
    if (rc)
        return jb_err(err, errlen, rc, "%s: %s", s->origin, msg);
    p->cpus = calloc(s->threads > 0 ? (size_t)s->threads : 1, sizeof(int));
    if (!p->cpus)
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    rc = jb_topo_plan(t, p->pol, cpuset, s->threads, p->cpus, &p->sampler_cpu, msg, sizeof(msg));
    if (rc) {
        free(p->cpus);
        p->cpus = NULL;
        return jb_err(err, errlen, rc, "%s: %s", s->origin, msg);
    }
    return JB_OK;
}

int jb_runner_plan(const struct jb_topo *t, const struct jb_run_spec *s, char *err, size_t errlen)
{
    struct plan p;
    int rc = plan_spec(t, s, &p, err, errlen);
    free(p.cpus);
    if (!rc && p.ops->validate) {
        char msg[JB_ERRLEN];
        rc = p.ops->validate(s->dtype[0] ? s->dtype : NULL, p.backend,
                             s->options[0] ? s->options : NULL, msg, sizeof(msg));
        if (rc)
            return jb_err(err, errlen, rc, "%s: %s", s->origin, msg);
    }
    return rc;
}

int jb_runner_run(struct jb_runner *r, const struct jb_run_spec *s, json_t **record,
                  char *record_path, size_t pathlen, char *err, size_t errlen)
{
    int rc = JB_OK;
    struct bench b;
    memset(&b, 0, sizeof(b));
    b.r = r;
    b.spec = s;
    *record = NULL;
    char run_id[33], base[512], path[1024], tmp_gb[1024] = "", trace[1024], gb_path[1024];
    json_t *gbdoc = NULL, *scenario = NULL;
    struct plan p;
    rc = plan_spec(r->topo, s, &p, err, errlen);
    if (rc)
        return rc;
    b.ops = p.ops;
    const char *backend = p.backend;
    enum jb_pin_policy pol = p.pol;
    int *cpus = p.cpus, sampler_cpu = p.sampler_cpu;
    const int *use_cpus = pol == JB_PIN_NONE ? NULL : cpus;

    struct jb_energy_opts eo = {.threads = s->threads,
                                .cpus = use_cpus,
                                .sampler_cpu = sampler_cpu,
                                .sysfs_root = r->o.sysfs_root};
    rc = jb_energy_open(r->o.power, &eo, &b.energy, err, errlen);
    if (rc)
        goto out;
    if (r->o.idle_s > 0) {
        rc = jb_energy_idle(b.energy, r->o.idle_s, err, errlen);
        if (rc)
            goto out;
    }
    /* Counters after the energy sources (whose sampler thread must not be
     * counted with the workload) and before the workload (whose threads
     * inherit them). */
    rc = jb_counters_open(r->o.counters, &b.counters, err, errlen);
    if (rc)
        goto out;
    struct jb_workload_params wp = {
        .dtype = s->dtype[0] ? s->dtype : NULL,
        .backend = backend,
        .scenario = strcmp(s->scenario, "offline") ? JB_SCENARIO_SINGLE_STREAM
                                                   : JB_SCENARIO_OFFLINE,
        .batch = strcmp(s->scenario, "offline") ? 1 : s->batch,
        .context = s->context,
        .threads = s->threads,
        .cpus = use_cpus,
        .bind_memory = pol != JB_PIN_NONE,
        .seed = r->o.seed,
        .options = s->options[0] ? s->options : NULL,
    };
    char werr[JB_ERRLEN];
    rc = jb_workload_open(b.ops, &wp, &b.state, werr, sizeof(werr));
    if (rc) {
        jb_err(err, errlen, rc, "%s: %s: %s", s->origin, s->workload, werr);
        goto out;
    }
    b.ops->info(b.state, &b.info);
    if (b.info.units_per_iteration < 1)
        b.info.units_per_iteration = 1;
    if (b.info.threads < 1)
        b.info.threads = s->threads;
    jb_counters_set_units_per_iteration(b.counters, b.info.units_per_iteration);

    b.warnings = json_array();
    b.energy_list = json_array();
    b.counters_obj = json_object();
    /* A repetition must last long enough for every energy counter to resolve
     * it to 1% (update period, resolution): raise the minimum time if not. */
    b.min_time_s = s->min_time_s;
    double need = jb_energy_min_duration_s(b.energy);
    if (need > b.min_time_s) {
        char w[200];
        snprintf(w, sizeof(w),
                 "minimum repetition time raised from %.3g s to %.3g s so that energy "
                 "quantization stays under 1%%",
                 b.min_time_s, need);
        json_array_append_new(b.warnings, json_string(w));
        b.min_time_s = need;
    }
    jb_run_id_new(run_id);
    record_name(s, &b.info, run_id, base, sizeof(base));
    snprintf(path, sizeof(path), "%s/%s.json", r->o.out_dir, base);
    snprintf(trace, sizeof(trace), "%s/%s.power.csv", r->o.out_dir, base);
    snprintf(gb_path, sizeof(gb_path), "%s/%s.gbench.json", r->o.out_dir, base);
    snprintf(tmp_gb, sizeof(tmp_gb), "%s/.gbench-%s.tmp", r->o.out_dir, run_id);

    char gbname[256];
    snprintf(gbname, sizeof(gbname), "%s/%s/%s/b%d/L%d/t%d", s->workload, b.info.dtype,
             s->scenario, b.info.units_per_iteration, b.info.context, b.info.threads);
    struct jb_gb_options go = {
        .min_time_s = b.min_time_s,
        .min_warmup_s = r->o.warmup_s,
        .repetitions = s->repetitions,
        .manual_time = 1,
    };
    jb_energy_begin_run(b.energy);
    jb_counters_begin_run(b.counters);
    if (jb_runner_is_load_scenario(s->scenario)) {
        /* open-loop scenarios: the runner issues the queries (runner_load.c) */
        rc = jb_runner_load_run(&b, &scenario, err, errlen);
    } else {
        jb_gb_register(gbname, bench_fn, &b, &go);
        rc = jb_gb_run_all(tmp_gb, bench_report, &b, err, errlen);
    }
    /* The last call is the last repetition: checked here, as every earlier
     * repetition was at the start of the call after it. Probes never are:
     * a check can cost far more than one iteration. */
    if (!rc && b.ninv > 0)
        jb_runner_check_repetition(&b, &b.inv[b.ninv - 1]);
    if (r->o.progress)
        fprintf(stderr, "\r\033[K");
    if (rc)
        goto out;
    gbdoc = load_gbench(tmp_gb);

    /* Repetitions that ran: the reported ones, less any skipped at entry
     * and the one a failed run() cut short. */
    int reported = b.reported < b.ninv ? b.reported : b.ninv;
    for (int i = b.ninv - reported; i < b.ninv; i++)
        if (b.inv[i].ran && b.inv[i].iterations > 0 && !b.inv[i].run_error)
            b.keep++;
    /* Interrupted before a repetition finished: the record still says that
     * this run started and was stopped (no measurement, complete: false). */
    int stopped_early = b.keep == 0 && !b.run_failed && r->o.interrupted && *r->o.interrupted;
    if (b.keep == 0 && !stopped_early) {
        rc = jb_err(err, errlen, b.run_failed ? run_status(&b) : JB_EINTR, "%s: %s: %s", s->origin,
                    s->workload,
                    b.run_failed ? b.run_err
                                 : (b.gb_error[0] ? b.gb_error : "no repetition completed"));
        goto out;
    }
    /* Skipped-at-entry calls are last, after the one a failed run() cut
     * short (a failure ends the run), so the repetitions kept are contiguous
     * at the end once those are dropped from the count. */
    while (b.ninv > 0 && (!b.inv[b.ninv - 1].ran || b.inv[b.ninv - 1].run_error))
        b.ninv--;
    char e2[JB_ERRLEN];
    if (jb_energy_finish_run(b.energy, b.keep, b.energy_list, b.warnings, trace, e2,
                             sizeof(e2)))
        json_array_append_new(b.warnings, json_string(e2));
    if (jb_counters_finish_run(b.counters, b.keep, b.counters_obj, b.warnings, e2, sizeof(e2)))
        json_array_append_new(b.warnings, json_string(e2));
    if (b.error_runs)
        json_array_append_new(b.warnings, json_string(b.gb_error));

    json_t *rec = build_record(r, &b, run_id, use_cpus, sampler_cpu, r->o.idle_s);
    if (scenario)
        json_object_set_new(json_object_get(rec, "measurements"), "scenario",
                            json_incref(scenario));
    if (stopped_early)
        json_object_set_new(json_object_get(rec, "validity"), "run_error",
                            json_string("interrupted before the first repetition finished"));
    json_t *files = json_object();
    const char *slash;
    slash = strrchr(gb_path, '/');
    json_object_set_new(files, "gbench_json", json_string(slash ? slash + 1 : gb_path));
    if (access(trace, F_OK) == 0) {
        slash = strrchr(trace, '/');
        json_object_set_new(files, "power_trace", json_string(slash ? slash + 1 : trace));
    }
    json_object_set_new(rec, "files", files);
    /* before_write, then the Google Benchmark JSON (it carries the
     * record's derived figures), then the write, then after_write. */
    if (r->o.before_write && r->o.before_write(rec, r->o.hook_ctx, e2, sizeof(e2)))
        json_array_append_new(json_object_get(json_object_get(rec, "validity"), "warnings"),
                              json_string(e2));
    if (gbdoc)
        publish_gbench(r, gbdoc, rec, gb_path);
    const struct jb_record_hooks hooks = {NULL, r->o.after_write, r->o.hook_ctx};
    int written;
    rc = jb_record_publish(rec, path, &hooks, &written, e2, sizeof(e2));
    if (!written) {
        /* no record (a full disk): its companions would be orphans */
        unlink(trace);
        unlink(gb_path);
        jb_err(err, errlen, rc, "%s", e2);
        json_decref(rec);
        goto out;
    }
    if (rc) {
        /* The record is on disk; say what could not be done with it. */
        snprintf(record_path, pathlen, "%s", path);
        *record = rec;
        r->nruns++;
        rc = jb_err(err, errlen, rc, "%s: %s: %s", s->origin, s->workload, e2);
        goto out;
    }
    snprintf(record_path, pathlen, "%s", path);
    *record = rec;
    r->nruns++;
    if (b.check_failed)
        rc = JB_ECHECK;
    else if ((b.error_runs && !b.run_failed) || stopped_early)
        rc = JB_EINTR;
    else if (b.run_failed)
        rc = jb_err(err, errlen, run_status(&b), "%s: %s: %s", s->origin, s->workload,
                    b.run_err);
    if (rc == JB_ECHECK)
        jb_err(err, errlen, rc, "%s: %s: output check failed: %s", s->origin, s->workload,
               b.check_err);
    else if (rc == JB_EINTR)
        jb_err(err, errlen, rc, "%s: %s: interrupted; record marked incomplete", s->origin,
               s->workload);
out:
    json_decref(scenario);
    if (tmp_gb[0])
        unlink(tmp_gb); /* gone already unless the run stopped before collect_gbench */
    json_decref(gbdoc);
    if (b.state)
        b.ops->close(b.state);
    jb_energy_close(b.energy);
    jb_counters_close(b.counters);
    json_decref(b.warnings);
    json_decref(b.energy_list);
    json_decref(b.counters_obj);
    free(b.samples);
    free(b.inv);
    free(cpus);
    return rc;
}

int jb_runner_close(struct jb_runner *r, char *err, size_t errlen)
{
    int rc = JB_OK;
    if (!r)
        return JB_OK;
    if (r->o.gbench_json && r->gbench_runs) {
        json_t *g = json_object();
        json_object_set_new(g, "context",
                            r->gbench_context ? json_incref(r->gbench_context) : json_object());
        json_object_set_new(g, "benchmarks", json_incref(r->gbench_runs));
        rc = jb_json_write_atomic(r->o.gbench_json, g, err, errlen);
        json_decref(g);
    }
    json_decref(r->gbench_runs);
    json_decref(r->gbench_context);
    json_decref(r->system);
    jb_topo_close(r->topo);
    free(r);
    return rc;
}
