/* test_energy.c: energy accounting through the sim source, driven exactly
 * as the runner drives it (open, begin_run, rep_begin/rep_end around real
 * sleeps, with or without the iterations rep_more asks for, finish_run):
 * energy per unit against the scripted power, update period quantization
 * and alignment (start only, both ends, a stalled counter, iterations too
 * long to align the end), wraparound, frozen counters, a source failing
 * mid-run, stepped and sampled power, idle baseline, the power trace, and
 * spec errors. */
#include "tests/power_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static struct jb_energy *open_ok(const char *spec)
{
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN] = "";
    int rc = jb_energy_open(spec, &o, &e, err, sizeof(err));
    if (rc)
        fprintf(stderr, "open %s: %s\n", spec, err);
    assert_int_equal(rc, 0);
    return e;
}

/* The promise of the whole tool: at 50 W, J/unit = 50 W x latency per unit,
 * within the uncertainty it states. */
static void sim_50w_matches_latency(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50");
    struct jb_test_run r;
    jb_test_reps(e, 3, 3, 0.03, 3, 0, NULL, &r);
    assert_int_equal(r.rc, 0);
    json_t *d = jb_test_entry(&r, "sim");
    assert_non_null(d);
    assert_true(json_is_true(json_object_get(d, "available")));
    /* Simulated energy is never presented as measured. */
    assert_true(json_is_false(json_object_get(d, "measured")));
    assert_true(json_is_true(json_object_get(d, "simulated")));
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    double expect = 50.0 * r.wall_s / r.units;
    assert_true(fabs(jpu - expect) <= u + 1e-3 * expect);
    assert_true(fabs(jb_test_num(d, "average_power_w") - 50) < 0.5);
    assert_int_equal(json_array_size(json_object_get(d, "samples_joules_per_unit")), 3);
    assert_non_null(json_object_get(d, "uncertainty_method"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* A counter stepping every 20 ms with RAPL's 15.3 uJ resolution, with
 * repetitions aligned at the start only (align=start, the rule before end
 * alignment): the figure stays within its (now much wider) uncertainty,
 * the quantization is flagged, and the minimum repetition is what keeps it
 * under 1%. */
static void sim_quantized_counter(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=20,resolution_uj=15.3,align=start");
    /* start aligned to updates: only the end quantizes: 100 x 20 ms */
    assert_true(fabs(jb_energy_min_duration_s(e) - 2.0) < 1e-6);
    struct jb_test_run r;
    jb_test_reps(e, 3, 3, 0.05, 1, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "sim");
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    double expect = 50.0 * r.wall_s / r.units;
    assert_true(u > 0.5); /* 50 W x 20 ms per repetition at least */
    assert_true(fabs(jpu - expect) <= u);
    assert_true(jb_test_warned(&r, "quantization"));
    assert_true(fabs(jb_test_num(d, "update_period_s") - 0.02) < 1e-9);
    assert_true(fabs(jb_test_num(d, "resolution_j") - 15.3e-6) < 1e-12);
    jb_test_run_free(&r);
    /* long enough repetitions: no warning, tight figure (the start's
     * detection latency counts too: a poll of 0.2 ms, or a few ms when a
     * loaded machine wakes the poller late) */
    jb_test_reps(e, 1, 1, 2.5, 1, 0, NULL, &r);
    d = jb_test_entry(&r, "sim");
    assert_false(jb_test_warned(&r, "quantization"));
    assert_true(jb_test_num(d, "quantization_bound_rel") <= 0.0101);
    assert_true(fabs(jb_test_num(d, "joules_per_unit") - 50 * r.wall_s) <=
                jb_test_num(d, "uncertainty_joules_per_unit"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* A counter stepping every 100 ms (NVML's), both ends of every repetition
 * aligned to its updates (the default): the minimum repetition is no longer
 * raised to 10 s; repetitions of about half a second (iterations of 2 ms
 * until 0.5 s, then until the next update) give J/unit within the stated
 * uncertainty of 50 W x the time per unit, and the quantization part of that
 * uncertainty is small. The energy and the time cover the same interval. */
static void sim_end_aligned_100ms(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=100");
    assert_true(jb_energy_min_duration_s(e) < 0.01);
    struct jb_test_run r;
    jb_test_reps_more(e, 3, 0.5, 0.002, 1, &r);
    assert_int_equal(r.rc, 0);
    json_t *d = jb_test_entry(&r, "sim");
    assert_true(json_is_true(json_object_get(d, "available")));
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_start_aligned")), 3);
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_end_aligned")), 3);
    assert_non_null(strstr(json_string_value(json_object_get(d, "quantization")), "ends aligned"));
    /* at least 0.5 s, then up to one period and an iteration more; a
     * loaded machine's late wake-ups can add some, never 10 s */
    assert_true(r.max_rep_s >= 0.5 && r.max_rep_s < 3.0);
    /* the same interval: the energy's time is the repetitions' (each of
     * its boundaries is a read microseconds from the caller's clock, unless
     * a loaded machine preempts the caller in between), its units theirs */
    double dur = jb_test_num(d, "duration_s");
    assert_true(fabs(dur - r.wall_s) < 3 * 0.02);
    assert_true(fabs(jb_test_num(d, "energy_j") / jb_test_num(d, "joules_per_unit") - r.units) <
                1e-6 * r.units);
    /* the truth: 50 W over that interval, per unit */
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit"),
           q = jb_test_num(d, "quantization_bound_rel");
    double expect = 50.0 * dur / r.units;
    if (!(fabs(jpu - expect) <= u) || !(q <= 0.0101))
        jb_test_dump(&r);
    assert_true(fabs(jpu - expect) <= u);
    /* the 1% rule holds by construction (an update seen too late to keep
     * it does not end the repetition), against 100 ms / 0.5 s = 20% for an
     * unaligned end; and the figure is within that bound alone */
    assert_true(q > 0 && q <= 0.0101);
    assert_false(jb_test_warned(&r, "quantization"));
    assert_true(fabs(jpu - expect) <= q * jpu * (1 + 1e-9));
    assert_true(fabs(jb_test_num(d, "average_power_w") - 50) <= 50 * q + 0.01);
    jb_test_run_free(&r);
    jb_energy_close(e);
}


/* One repetition under the start-aligned rule with the sim at 50 W and a
 * 20 ms period: 101 x (the start's detection latency + 20 ms), 2.02 s, more
 * when a loaded machine woke the start's poller late; its end quantizes by
 * up to a period, which keeps the bound near (and never over) 1%; and the
 * figure is the sim's 50 W within the stated uncertainty. */
static void assert_start_aligned_rule(const struct jb_test_run *r, json_t *d)
{
    assert_true(json_is_true(json_object_get(d, "available")));
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_start_aligned")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_end_aligned")), 0);
    assert_true(r->max_rep_s >= 1.95 && r->max_rep_s < 6);
    double q = jb_test_num(d, "quantization_bound_rel");
    assert_true(q > 0.005 && q <= 0.0101);
    assert_true(
        fabs(jb_test_num(d, "joules_per_unit") - 50 * jb_test_num(d, "duration_s") / r->units) <=
        jb_test_num(d, "uncertainty_joules_per_unit"));
}
/* align=start restores the start-aligned rule: 100 x the period before the
 * run (10 s for 100 ms), and jb_energy_rep_more holds the repetition to it
 * (here 20 ms: about 2 s) without waiting for the end's update. */
static void sim_align_start_option(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=100,align=start");
    assert_true(fabs(jb_energy_min_duration_s(e) - 10.0) < 1e-6);
    jb_energy_close(e);
    e = open_ok("sim:align=start,watts=50,period_ms=20");
    struct jb_test_run r;
    jb_test_reps_more(e, 1, 0.2, 0.002, 1, &r);
    json_t *d = jb_test_entry(&r, "sim");
    assert_non_null(strstr(json_string_value(json_object_get(d, "quantization")), "align=start"));
    assert_start_aligned_rule(&r, d);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* The counter stalls after the repetition's start (from 0.4 s to 1.4 s
 * after open; the repetition starts at the first update, 20 ms after open)
 * and so does not update within 3 periods of the end's first poll (after
 * the minimum of 0.6 s): that repetition falls back to the start-aligned
 * rule (about 2 s for 20 ms, its end one period of quantization), says so,
 * and its figure (the counter has caught up by then) is within the
 * uncertainty. */
static void sim_end_stalled_falls_back(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=20,freeze_at_ms=400,freeze_for_ms=1000");
    struct jb_test_run r;
    jb_test_reps_more(e, 1, 0.6, 0.002, 1, &r);
    json_t *d = jb_test_entry(&r, "sim");
    if (!jb_test_warned(&r, "did not update within 3 periods"))
        jb_test_dump(&r);
    assert_true(jb_test_warned(&r, "did not update within 3 periods"));
    assert_start_aligned_rule(&r, d);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* Iterations as long as the period (25 ms against 20 ms): seeing the end's
 * update can lag by an iteration, which is worse than the period, so the
 * start-aligned rule applies, with a warning naming the iteration time. */
static void sim_end_long_iterations(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=20");
    struct jb_test_run r;
    jb_test_reps_more(e, 1, 0.1, 0.025, 1, &r);
    json_t *d = jb_test_entry(&r, "sim");
    assert_true(jb_test_warned(&r, "could not end at a counter update"));
    assert_int_equal(json_integer_value(json_object_get(d, "repetitions_end_aligned")), 0);
    assert_true(r.max_rep_s >= 1.95 && r.max_rep_s < 6);
    assert_true(
        fabs(jb_test_num(d, "joules_per_unit") - 50 * jb_test_num(d, "duration_s") / r.units) <=
        jb_test_num(d, "uncertainty_joules_per_unit"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* Without alignment both ends quantize: 200 x period. */
static void sim_min_duration_unaligned(void **st)
{
    (void)st;
    /* 1 ms is below the alignment threshold (2 ms): 2 x 1 ms / 1% */
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=1");
    assert_true(fabs(jb_energy_min_duration_s(e) - 0.2) < 1e-6);
    jb_energy_close(e);
    /* a continuous counter: its "period" is the poll interval measured at
     * open (~0.5 ms), so the minimum stays short */
    e = open_ok("sim:watts=50");
    assert_true(jb_energy_min_duration_s(e) < 0.2);
    jb_energy_close(e);
}

/* A 5 J wrap range at 50 W wraps every 100 ms; over 2 x 0.3 s that is 6
 * wraps, all unwrapped because the sampler polls fast enough. */
static void sim_wrap_unwrapped(void **st)
{
    (void)st;
    /* The counter wraps every 0.4 s (20 J at 50 W), the first time 2 ms in:
     * short enough to wrap in the run, long enough that a loaded machine's
     * scheduling delays of the sampler (which would rightly mark the domain
     * unavailable for a missed wrap) do not make the test flaky. */
    struct jb_energy *e = open_ok("sim:watts=50,wrap_j=20,start_j=19.9");
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.3, 1, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "sim");
    assert_true(json_is_true(json_object_get(d, "available")));
    double jpu = jb_test_num(d, "joules_per_unit");
    assert_true(fabs(jpu - 50 * r.wall_s / r.units) < 0.05 * 50 * r.wall_s / r.units);
    assert_true(fabs(jb_test_num(d, "wrap_j") - 20) < 1e-12);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* A counter that never moves is unavailable, with a warning, never 0 J:
 * caught at open when the period must be measured... */
static void sim_frozen_at_open(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,freeze=1");
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.02, 1, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "sim");
    assert_non_null(d);
    assert_true(json_is_false(json_object_get(d, "available")));
    assert_true(json_is_null(json_object_get(d, "joules_per_unit")));
    assert_true(json_is_null(json_object_get(d, "uncertainty_joules_per_unit")));
    assert_true(jb_test_warned(&r, "frozen"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* ...and over the run when the source states its period. */
static void sim_frozen_over_run(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=50,period_ms=5,freeze=1");
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.03, 1, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "sim");
    assert_true(json_is_false(json_object_get(d, "available")));
    assert_true(json_is_null(json_object_get(d, "joules_per_unit")));
    assert_true(jb_test_warned(&r, "did not advance"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* One source fails mid-run: its domain is unavailable, the other kept. */
static void sim_fail_mid_run_keeps_others(void **st)
{
    (void)st;
    struct jb_energy *e =
        open_ok("sim:name=a,watts=50+sim:name=b,watts=20,period_ms=5,fail_after=4");
    struct jb_test_run r;
    jb_test_reps(e, 3, 3, 0.03, 1, 0, NULL, &r);
    assert_int_equal(r.rc, 0);
    json_t *a = jb_test_entry(&r, "a"), *b = jb_test_entry(&r, "b");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(json_is_true(json_object_get(a, "available")));
    assert_true(fabs(jb_test_num(a, "average_power_w") - 50) < 1);
    assert_true(json_is_false(json_object_get(b, "available")));
    assert_non_null(
        strstr(json_string_value(json_object_get(b, "unavailable_reason")), "scripted failure"));
    assert_true(jb_test_warned(&r, "b: unavailable"));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* Stepped power 10/50 W every 20 ms averages 30 W over whole cycles. */
static void sim_stepped(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=10/50,step_ms=20");
    struct jb_test_run r;
    jb_test_reps(e, 1, 1, 0.4, 1, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "sim");
    /* within one 20 ms half-cycle's worth of the 40 W swing */
    assert_true(fabs(jb_test_num(d, "average_power_w") - 30) < 40 * 0.02 / 0.4 + 0.5);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* Power-only domains are integrated from the sampler's samples. */
static void sim_power_samples_integrated(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("sim:watts=40,kind=power,period_ms=5");
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.1, 2, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "sim");
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    assert_true(fabs(jpu - 40 * r.wall_s / r.units) <= u);
    assert_true(fabs(jb_test_num(d, "average_power_w") - 40) < 0.5);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* A trace that cannot be written whole (a full disk, simulated with a
 * file size limit in a child process) is an error and leaves no file: an
 * empty one once stayed beside the record. */
static void trace_write_failure_leaves_no_file(void **st)
{
    (void)st;
    char path[] = "/tmp/jb_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG */
        struct rlimit rl = {24, 24};
        if (setrlimit(RLIMIT_FSIZE, &rl))
            _exit(3);
        struct jb_energy *e = open_ok("sim:watts=25");
        struct jb_test_run r;
        jb_test_reps(e, 2, 2, 0.12, 1, 0, path, &r);
        int ok = r.rc == JB_EIO && strstr(r.err, "power trace") && access(path, F_OK) != 0;
        if (!ok)
            fprintf(stderr, "rc %d: %s; trace %s\n", r.rc, r.err,
                    access(path, F_OK) ? "removed" : "left behind");
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    unlink(path);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* keep_last drops the runner's probing repetitions; the trace covers the
 * kept ones at about the stated power. */
static void sim_keep_last_and_trace(void **st)
{
    (void)st;
    char path[] = "/tmp/jb_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct jb_energy *e = open_ok("sim:watts=25");
    struct jb_test_run r;
    jb_test_reps(e, 5, 2, 0.12, 1, 0, path, &r);
    assert_int_equal(r.rc, 0);
    json_t *d = jb_test_entry(&r, "sim");
    assert_int_equal(json_array_size(json_object_get(d, "samples_joules_per_unit")), 2);
    assert_true(fabs(jb_test_num(d, "duration_s") - r.wall_s) < 0.01);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "time_s,domain,watts\n");
    int rows = 0;
    double t, w, tmax = 0;
    char dom[64];
    while (fscanf(f, "%lf,%63[^,],%lf\n", &t, dom, &w) == 3) {
        assert_string_equal(dom, "sim");
        assert_true(fabs(w - 25) < 2);
        assert_true(t >= 0);
        tmax = t > tmax ? t : tmax;
        rows++;
    }
    fclose(f);
    unlink(path);
    assert_true(rows >= 2); /* 10 Hz over 0.24 s of kept repetitions */
    assert_true(tmax <= 0.3);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

/* --idle: idle power first, then total and active (above idle) energy.
 * With the estimate, idle is its idle power and active its CPU-time part. */
static void idle_baseline(void **st)
{
    (void)st;
    struct jb_energy *e = open_ok("estimate:idle=5,active_w_per_core=10");
    char err[JB_ERRLEN];
    assert_int_equal(jb_energy_idle(e, 0.1, err, sizeof(err)), 0);
    struct jb_test_run r;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    jb_test_reps(e, 2, 2, 0.05, 1, 1, NULL, &r);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu_s = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
    json_t *d = jb_test_entry(&r, "cpu-estimate");
    assert_non_null(d);
    assert_true(json_is_false(json_object_get(d, "measured")));
    double idle = jb_test_num(d, "idle_power_w");
    assert_true(idle >= 5 && idle < 5 + 10 * 0.2); /* idle: 5 W plus a little CPU */
    double total = jb_test_num(d, "joules_per_unit"),
           active = jb_test_num(d, "active_joules_per_unit");
    /* busy for 2 x 50 ms: active = 10 W x the CPU time the process got (on
     * a shared machine, maybe less than the wall time), per unit */
    assert_true(total > active && active > 0);
    assert_true(fabs(active * r.units - 10 * cpu_s) < 0.05);
    assert_true(fabs(total - active - idle * r.wall_s / r.units) < 0.01);
    assert_true(jb_test_warned(&r, "estimated"));
    jb_test_run_free(&r);
    jb_energy_close(e);

    /* a constant 50 W source: everything is idle, active ~ 0 */
    e = open_ok("sim:watts=50");
    assert_int_equal(jb_energy_idle(e, 0.05, err, sizeof(err)), 0);
    jb_test_reps(e, 1, 1, 0.05, 1, 0, NULL, &r);
    d = jb_test_entry(&r, "sim");
    assert_true(fabs(jb_test_num(d, "idle_power_w") - 50) < 0.5);
    assert_true(fabs(jb_test_num(d, "active_joules_per_unit")) < 0.01);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

static void spec_errors(void **st)
{
    (void)st;
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_energy_open("nosuch", &o, &e, err, sizeof(err)), JB_ENOENT);
    assert_non_null(strstr(err, "nosuch"));
    assert_int_equal(jb_energy_open("sim:bogus=1", &o, &e, err, sizeof(err)), JB_EINVAL);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(jb_energy_open("sim:watts=abc", &o, &e, err, sizeof(err)), JB_EINVAL);
    /* commas belong to options: a comma-separated list of sources is an error */
    assert_int_equal(jb_energy_open("sim,estimate", &o, &e, err, sizeof(err)), JB_ENOENT);
    /* align= is taken by energy.c for every source; only start or end */
    assert_int_equal(jb_energy_open("sim:watts=5,align=middle", &o, &e, err, sizeof(err)),
                     JB_EINVAL);
    assert_non_null(strstr(err, "align=middle"));
    assert_null(e);
}

/* On this VM (no powercap, no power PMU, no NVIDIA driver) auto falls back
 * to the estimate and says why; where hardware exists it measures. */
static void auto_falls_back_honestly(void **st)
{
    (void)st;
    struct jb_energy_opts o = {1, NULL, -1, "/nonexistent-sysfs", 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN];
    setenv("JB_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    assert_int_equal(jb_energy_open("auto", &o, &e, err, sizeof(err)), 0);
    unsetenv("JB_NVML_LIB");
    struct jb_test_run r;
    jb_test_reps(e, 1, 1, 0.02, 1, 1, NULL, &r);
    json_t *d = jb_test_entry(&r, "cpu-estimate");
    assert_non_null(d);
    assert_true(json_is_false(json_object_get(d, "measured")));
    assert_true(jb_test_warned(&r, "no hardware energy counter"));
    assert_true(jb_test_warned(&r, "rapl-powercap: no "));
    assert_true(jb_test_warned(&r, "nvml: no "));
    jb_test_run_free(&r);
    jb_energy_close(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sim_50w_matches_latency),
        cmocka_unit_test(sim_quantized_counter),
        cmocka_unit_test(sim_end_aligned_100ms),
        cmocka_unit_test(sim_align_start_option),
        cmocka_unit_test(sim_end_stalled_falls_back),
        cmocka_unit_test(sim_end_long_iterations),
        cmocka_unit_test(sim_min_duration_unaligned),
        cmocka_unit_test(sim_wrap_unwrapped),
        cmocka_unit_test(sim_frozen_at_open),
        cmocka_unit_test(sim_frozen_over_run),
        cmocka_unit_test(sim_fail_mid_run_keeps_others),
        cmocka_unit_test(sim_stepped),
        cmocka_unit_test(sim_power_samples_integrated),
        cmocka_unit_test(sim_keep_last_and_trace),
        cmocka_unit_test(trace_write_failure_leaves_no_file),
        cmocka_unit_test(idle_baseline),
        cmocka_unit_test(spec_errors),
        cmocka_unit_test(auto_falls_back_honestly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
