/* test_runner.c: the runner, through a scripted workload: every repetition is
 * timed and recorded, latency statistics are consistent with the samples,
 * a failed output check marks the record failed (and is reported), a run()
 * failure keeps the repetitions completed before it (never the cut-short
 * one) in a record marked incomplete, or none if there are none, records
 * are written atomically and carry the required fields, the energy entry
 * is labelled, and repetitions end at an update of a slow counter (or,
 * with align=start, are lengthened) with energy, time and units describing
 * the same repetitions. Every repetition lasts the minimum time, also when
 * a stalled iteration made Google Benchmark's count far too small, and has
 * its output checked once; probes never do. A run() failure's own code
 * reaches the caller, and its message, built from a long origin and a long
 * workload message, arrives whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/runner.h"
#include "workloads/workload.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fake {
    int runs, checks;
    int fail_check;
    int fail_run_after;
    int fail_after_checks; /* run() fails from the first run after this many checks */
    double fail_after_s;   /* run() fails once this long has passed since the first began */
    double stall_first_s;  /* the first run() takes this long (a loaded machine's stall) */
    double t_first;
    int fail_rc;           /* what a failing run() returns (JB_EIO by default) */
    double sleep_s;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int fake_open(const struct jb_workload_params *p, void **st, char *err, size_t n)
{
    struct fake *f = calloc(1, sizeof(*f));
    if (!f)
        return jb_err(err, n, JB_ENOMEM, "oom");
    char buf[32];
    if (jb_option_get(p->options, "fail_check", buf, sizeof(buf)))
        f->fail_check = atoi(buf);
    if (jb_option_get(p->options, "fail_run_after", buf, sizeof(buf)))
        f->fail_run_after = atoi(buf);
    if (jb_option_get(p->options, "fail_after_checks", buf, sizeof(buf)))
        f->fail_after_checks = atoi(buf);
    f->sleep_s = 2e-4;
    if (jb_option_get(p->options, "sleep_ms", buf, sizeof(buf)))
        f->sleep_s = atof(buf) * 1e-3;
    if (jb_option_get(p->options, "fail_after_ms", buf, sizeof(buf)))
        f->fail_after_s = atof(buf) * 1e-3;
    if (jb_option_get(p->options, "stall_first_ms", buf, sizeof(buf)))
        f->stall_first_s = atof(buf) * 1e-3;
    f->fail_rc = JB_EIO;
    if (jb_option_get(p->options, "fail_rc", buf, sizeof(buf)))
        f->fail_rc = atoi(buf);
    if (jb_option_get(p->options, "refuse", buf, sizeof(buf))) {
        free(f);
        return jb_err(err, n, JB_ENOMEM, "does not fit: needs %s GiB", buf);
    }
    *st = f;
    return JB_OK;
}

static int fake_run(void *st, char *err, size_t n)
{
    struct fake *f = st;
    if (f->runs++ == 0)
        f->t_first = mono_s();
    if ((f->fail_run_after && f->runs > f->fail_run_after) ||
        (f->fail_after_checks && f->checks >= f->fail_after_checks) ||
        (f->fail_after_s > 0 && mono_s() - f->t_first >= f->fail_after_s))
        return jb_err(err, n, f->fail_rc, "fake: device lost");
    sleep_s(f->runs == 1 && f->stall_first_s > 0 ? f->stall_first_s : f->sleep_s);
    return JB_OK;
}

static int fake_check(void *st, char *err, size_t n)
{
    struct fake *f = st;
    f->checks++;
    if (f->fail_check)
        return jb_err(err, n, JB_ECHECK, "fake: logits differ by 0.5 at index 3");
    return JB_OK;
}

static void fake_info(const void *st, struct jb_workload_info *o)
{
    (void)st;
    snprintf(o->dtype, sizeof(o->dtype), "fp32");
    snprintf(o->kernel, sizeof(o->kernel), "fake");
    o->units_per_iteration = 4;
    o->threads = 1;
    o->per_unit.macs = 1000;
    o->per_unit.flops = 2000;
    snprintf(o->check, sizeof(o->check), "always equal");
}

static void fake_close(void *st)
{
    free(st);
}

/* The fake's options, declared as every workload declares its own: the
 * runner refuses any other key. */
static const struct jb_option_def fake_options[] = {
    {"fail_check", JB_OPT_INT, "0", 0, 1, NULL, "every check fails"},
    {"fail_run_after", JB_OPT_INT, "0", 0, 1e9, NULL, "run() fails after N runs"},
    {"fail_after_checks", JB_OPT_INT, "0", 0, 1e9, NULL, "checks fail after N"},
    {"sleep_ms", JB_OPT_REAL, "0.2", 0, 1e6, NULL, "time of one run()"},
    {"fail_after_ms", JB_OPT_REAL, "0", 0, 1e9, NULL, "run() fails after this time"},
    {"stall_first_ms", JB_OPT_REAL, "0", 0, 1e9, NULL, "first run() stalls this long"},
    {"fail_rc", JB_OPT_INT, "-5", -100, 0, NULL, "code a failing run() returns"},
    {"refuse", JB_OPT_STR, NULL, 0, 0, NULL, "open() refuses, saying this"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct jb_workload_ops fake_ops = {
    .name = "fake",
    .version = "1",
    .family = "calibration",
    .unit = "inference",
    .dtypes = "fp32",
    .description = "scripted test workload",
    .options = fake_options,
    .open = fake_open,
    .run = fake_run,
    .check = fake_check,
    .info = fake_info,
    .close = fake_close,
};

/* The fake, its run() failing with a message as long as CUDA's for a
 * GPU lost earlier in the process. */
static int fake_long_run(void *st, char *err, size_t n)
{
    int rc = fake_run(st, err, n);
    if (rc)
        jb_err(err, n, rc,
               "cuda: GPU 0 unusable since llm-decode-gpu q4_0 attention lost its context "
               "(cudaErrorIllegalAddress: an illegal memory access was encountered, injected "
               "by JB_CUDA_FAULT); CUDA work needs a new process");
    return rc;
}

static const struct jb_workload_ops fake_long_ops = {
    .name = "fake",
    .version = "1",
    .family = "calibration",
    .unit = "inference",
    .dtypes = "fp32",
    .description = "scripted test workload, long failure message",
    .options = fake_options,
    .open = fake_open,
    .run = fake_long_run,
    .check = fake_check,
    .info = fake_info,
    .close = fake_close,
};

static char outdir[] = "/tmp/jb_runner_XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(outdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", outdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct jb_runner *open_runner_power(const char *power)
{
    static char *argv[] = {"test_runner", NULL};
    struct jb_runner_opts o = {
        .power = power, .counters = "auto", .out_dir = outdir, .seed = 7,
        .argc = 1, .argv = argv,
    };
    struct jb_runner *r = NULL;
    char err[256];
    assert_int_equal(jb_runner_open(&o, &r, err, sizeof(err)), 0);
    return r;
}

static struct jb_runner *open_runner(void)
{
    return open_runner_power("estimate");
}

static struct jb_run_spec fake_spec(const char *options)
{
    struct jb_run_spec s;
    jb_spec_defaults(&s);
    snprintf(s.workload, sizeof(s.workload), "fake");
    s.ops = &fake_ops;
    s.repetitions = 3;
    s.min_time_s = 0.02;
    snprintf(s.pin, sizeof(s.pin), "none");
    if (options)
        snprintf(s.options, sizeof(s.options), "%s", options);
    return s;
}

static void test_record_fields(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec(NULL);
    json_t *rec = NULL;
    char path[1024], err[256];
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)), 0);
    assert_non_null(rec);
    /* The file on disk is the record returned. */
    json_error_t je;
    json_t *disk = json_load_file(path, 0, &je);
    assert_non_null(disk);
    assert_true(json_equal(disk, rec));
    json_decref(disk);
    assert_int_equal(json_integer_value(json_object_get(rec, "schema_version")), 1);
    assert_true(json_is_true(json_object_get(rec, "complete")));
    json_t *m = json_object_get(rec, "measurements");
    json_t *lat = json_object_get(m, "latency_s");
    assert_int_equal(json_array_size(json_object_get(lat, "samples")), 3);
    double med = json_number_value(json_object_get(lat, "median"));
    double p99 = json_number_value(json_object_get(lat, "p99"));
    /* Each iteration sleeps 0.2 ms: latency cannot be shorter. */
    assert_true(med >= 2e-4);
    assert_true(p99 >= med);
    assert_true(json_integer_value(json_object_get(lat, "n")) ==
                json_integer_value(json_object_get(m, "iterations")));
    /* Throughput counts 4 units per iteration. */
    double thr = json_number_value(json_object_get(m, "throughput_units_per_s"));
    assert_true(thr > 0 && thr <= 4.0 / 2e-4);
    assert_int_equal(json_integer_value(json_object_get(m, "units_per_iteration")), 4);
    json_t *e0 = json_array_get(json_object_get(m, "energy"), 0);
    assert_non_null(e0);
    assert_true(json_is_false(json_object_get(e0, "measured")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "validity"),
                                                          "output_check")),
                        "pass");
    assert_non_null(json_object_get(json_object_get(rec, "system"), "topology_hash"));
    assert_non_null(json_object_get(json_object_get(rec, "system"), "command_line"));
    json_decref(rec);
    assert_int_equal(jb_runner_close(r, err, sizeof(err)), 0);
    /* No temporary file is left behind. */
    DIR *d = opendir(outdir);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".tmp"));
    closedir(d);
}

static void test_check_failure_is_recorded(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("fail_check=1");
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)),
                     JB_ECHECK);
    assert_non_null(strstr(err, "logits differ"));
    json_t *v = json_object_get(rec, "validity");
    assert_string_equal(json_string_value(json_object_get(v, "output_check")), "fail");
    assert_non_null(strstr(json_string_value(json_object_get(v, "check_detail")), "logits"));
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

static void test_open_failure_names_reason(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("refuse=40");
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)),
                     JB_ENOMEM);
    assert_null(rec);
    assert_non_null(strstr(err, "needs 40 GiB"));
    jb_runner_close(r, NULL, 0);
}

static json_int_t validity_int(json_t *rec, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(rec, "validity"), key));
}

/* run() fails 45 ms after the first began, and the first stalls for 30 ms
 * (a loaded machine): Google Benchmark takes that one iteration as the
 * first repetition and runs the others at one iteration too. The runner
 * lengthens them to the minimum time, so the failure comes within the run,
 * whatever the load: during the second repetition or the third. (It used
 * to be reached by counting 30 runs, which a stall like this one kept from
 * coming: the run then passed, about once in twenty under load.) */
static void test_run_failure_mid_way(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("stall_first_ms=30,fail_after_ms=45");
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    int rc = jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err));
    assert_int_equal(rc, JB_EIO);
    assert_non_null(strstr(err, "device lost"));
    /* What finished before the failure is kept, but never as complete. */
    assert_non_null(rec);
    assert_true(json_is_false(json_object_get(rec, "complete")));
    json_t *m = json_object_get(rec, "measurements");
    json_int_t done = json_integer_value(json_object_get(m, "repetitions_completed"));
    assert_true(done == 1 || done == 2);
    assert_true(json_number_value(json_object_get(m, "duration_s")) >= done * s.min_time_s);
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

/* The stall alone: every repetition still lasts the minimum time and has
 * its output checked, not only the stalled first one. */
static void test_short_repetitions_lengthened(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("stall_first_ms=30");
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)), 0);
    json_t *m = json_object_get(rec, "measurements");
    assert_int_equal(json_integer_value(json_object_get(m, "repetitions_completed")), 3);
    assert_int_equal(validity_int(rec, "checks"), 3);
    /* the first is the stalled iteration; the others ran ~0.2 ms ones for
     * at least the minimum time */
    assert_true(json_number_value(json_object_get(m, "duration_s")) >= 0.03 + 2 * s.min_time_s);
    assert_true(json_integer_value(json_object_get(m, "iterations")) > 3);
    json_t *lat = json_object_get(m, "latency_s");
    assert_true(json_integer_value(json_object_get(lat, "n")) ==
                json_integer_value(json_object_get(m, "iterations")));
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

/* Iterations of 15 ms against a minimum of 20: Google Benchmark's first
 * call (one iteration) comes near the minimum without reaching it. It is a
 * probe of the iteration count, not a repetition: its output is not
 * checked, each repetition's is, once. */
static void test_only_repetitions_checked(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("sleep_ms=15");
    s.repetitions = 2;
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)), 0);
    assert_int_equal(validity_int(rec, "checks"), 2);
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

/* A workload's own failure code reaches the caller: a GPU lost mid-run is
 * JB_EUNAVAIL, with or without repetitions kept before it. */
static void test_run_failure_keeps_code(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    char opts[64];
    snprintf(opts, sizeof(opts), "fail_after_checks=1,fail_rc=%d", JB_EUNAVAIL);
    struct jb_run_spec s = fake_spec(opts);
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)),
                     JB_EUNAVAIL);
    assert_non_null(rec);
    assert_true(json_is_false(json_object_get(rec, "complete")));
    json_decref(rec);
    rec = NULL;
    snprintf(opts, sizeof(opts), "fail_run_after=1,fail_rc=%d", JB_EUNAVAIL);
    s = fake_spec(opts);
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)),
                     JB_EUNAVAIL);
    assert_non_null(strstr(err, "device lost"));
    json_decref(rec);
    /* codes the runner gives a meaning of its own are not passed on */
    rec = NULL;
    snprintf(opts, sizeof(opts), "fail_run_after=1,fail_rc=%d", JB_ECHECK);
    s = fake_spec(opts);
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)), JB_EIO);
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

/* A failure message composed from a long suite path, the workload and the
 * workload's own long message (CUDA's "unusable since ...") is whole. */
static void test_long_failure_message_whole(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("fail_run_after=1");
    memset(s.origin, 'd', 120);
    memcpy(s.origin, "suites/", 7);
    snprintf(s.origin + 120, sizeof(s.origin) - 120, ":12");
    s.ops = &fake_long_ops;
    json_t *rec = NULL;
    char path[1024], err[JB_ERRLEN] = "";
    assert_true(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)) < 0);
    const char *tail = "CUDA work needs a new process";
    size_t n = strlen(err);
    if (n < strlen(tail) || strcmp(err + n - strlen(tail), tail))
        fail_msg("message cut: %s", err);
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

/* A device lost between repetitions (as JB_CUDA_FAULT=after-checks:N makes
 * a GPU do): the repetitions before it are the record, all of them and
 * nothing of the failed one, and the record says why it is incomplete. */
static void test_run_failure_after_repetitions(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec("fail_after_checks=2");
    s.repetitions = 4;
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    int rc = jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err));
    assert_int_equal(rc, JB_EIO);
    assert_non_null(strstr(err, "device lost"));
    assert_non_null(rec);
    assert_true(json_is_false(json_object_get(rec, "complete")));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(rec, "validity"), "run_error")),
               "device lost"));
    json_t *m = json_object_get(rec, "measurements");
    json_t *lat = json_object_get(m, "latency_s");
    json_int_t done = json_integer_value(json_object_get(m, "repetitions_completed"));
    /* Two checks passed: two repetitions (probes of the iteration count are
     * never checked, however near the minimum time they come). */
    assert_int_equal(done, 2);
    assert_int_equal(json_array_size(json_object_get(lat, "samples")), done);
    assert_true(json_integer_value(json_object_get(m, "iterations")) > 0);
    assert_true(json_integer_value(json_object_get(lat, "n")) ==
                json_integer_value(json_object_get(m, "iterations")));
    /* Every repetition kept lasted the minimum time: none is the failed one. */
    assert_true(json_number_value(json_object_get(m, "duration_s")) >= done * s.min_time_s);
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

static void test_unknown_dtype_and_backend(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner();
    struct jb_run_spec s = fake_spec(NULL);
    snprintf(s.dtype, sizeof(s.dtype), "int3");
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "int3"));
    s = fake_spec(NULL);
    snprintf(s.backend, sizeof(s.backend), "tpu");
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "tpu"));
    jb_runner_close(r, NULL, 0);
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static int warned(json_t *rec, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(json_object_get(rec, "validity"), "warnings"), i, w)
    {
        if (strstr(json_string_value(w), needle))
            return 1;
    }
    return 0;
}

/* A counter stepping every 100 ms (NVML's), through the whole runner: the
 * minimum time is not raised (it was to 10 s before end alignment), each
 * repetition runs its 0.3 s and then whole iterations until the counter
 * updates, and the energy entry covers exactly the record's repetitions:
 * the same time, the same units (Google Benchmark's own count stops before
 * the tail; the record's does not). */
static void test_energy_end_aligned(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner_power("sim:watts=50,period_ms=100");
    struct jb_run_spec s = fake_spec(NULL);
    s.repetitions = 2;
    s.min_time_s = 0.3;
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)), 0);
    json_t *cfg = json_object_get(rec, "config"), *m = json_object_get(rec, "measurements");
    assert_true(fabs(num(cfg, "min_time_s") - 0.3) < 1e-9);
    assert_false(warned(rec, "raised"));
    json_t *d = json_array_get(json_object_get(m, "energy"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "domain")), "sim");
    assert_true(json_is_true(json_object_get(d, "available")));
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_end_aligned")), 2);
    double dur = num(m, "duration_s"), units = num(m, "iterations") * 4;
    /* 0.3 s, then up to a period and an iteration (and a loaded machine's
     * late wake-ups) */
    assert_true(dur >= 2 * 0.3 && dur < 2 * 1.5);
    /* the energy's interval is the repetitions' (from the read that saw the
     * start's update to the one that saw the end's: microseconds from the
     * runner's clock, unless a loaded machine preempts it in between), its
     * units theirs */
    assert_true(fabs(num(d, "duration_s") - dur) < 2 * 0.02);
    assert_true(fabs(num(d, "energy_j") / num(d, "joules_per_unit") - units) < 1e-6 * units);
    double q = num(d, "quantization_bound_rel");
    assert_true(q > 0 && q <= 0.0101);
    assert_true(fabs(num(d, "joules_per_unit") - 50 * num(d, "duration_s") / units) <=
                num(d, "uncertainty_joules_per_unit"));
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

/* align=start: the minimum time is raised to 100 periods (10 ms here: 1 s)
 * and the repetitions end wherever that leaves them. */
static void test_energy_align_start(void **state)
{
    (void)state;
    struct jb_runner *r = open_runner_power("sim:watts=50,period_ms=10,align=start");
    struct jb_run_spec s = fake_spec(NULL);
    s.repetitions = 1;
    json_t *rec = NULL;
    char path[1024], err[256] = "";
    assert_int_equal(jb_runner_run(r, &s, &rec, path, sizeof(path), err, sizeof(err)), 0);
    json_t *cfg = json_object_get(rec, "config"), *m = json_object_get(rec, "measurements");
    assert_true(fabs(num(cfg, "min_time_s") - 1.0) < 1e-9);
    assert_true(warned(rec, "raised from 0.02 s to 1 s"));
    json_t *d = json_array_get(json_object_get(m, "energy"), 0);
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_start_aligned")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_end_aligned")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(d, "quantization")), "align=start"));
    assert_true(num(m, "duration_s") >= 1.0);
    double units = num(m, "iterations") * 4;
    assert_true(fabs(num(d, "joules_per_unit") - 50 * num(d, "duration_s") / units) <=
                num(d, "uncertainty_joules_per_unit"));
    json_decref(rec);
    jb_runner_close(r, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_check_failure_is_recorded),
        cmocka_unit_test(test_open_failure_names_reason),
        cmocka_unit_test(test_run_failure_mid_way),
        cmocka_unit_test(test_short_repetitions_lengthened),
        cmocka_unit_test(test_only_repetitions_checked),
        cmocka_unit_test(test_run_failure_keeps_code),
        cmocka_unit_test(test_long_failure_message_whole),
        cmocka_unit_test(test_run_failure_after_repetitions),
        cmocka_unit_test(test_unknown_dtype_and_backend),
        cmocka_unit_test(test_energy_end_aligned),
        cmocka_unit_test(test_energy_align_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
