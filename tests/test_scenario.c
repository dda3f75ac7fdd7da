/* test_scenario.c: harness/scenario.c on a virtual clock with a fake
 * server whose every query takes a fixed service time, so that arrival
 * rates, latencies and queueing have exact or statistical expectations:
 * the Poisson process has the asked-for rate and reproduces from its seed,
 * a query's latency runs from its arrival (queueing counted), multi-stream
 * issues on its interval, and the peak search brackets a known threshold
 * within its stated resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/scenario.h"

#include <math.h>
#include <string.h>

struct vclock {
    double t, service_s;
    long runs, units;
};

static double v_now(void *c) { return ((struct vclock *)c)->t; }
static void v_wait(void *c, double t)
{
    struct vclock *v = c;
    if (t > v->t)
        v->t = t;
}
static int v_run(void *c, int units, char *err, size_t n)
{
    (void)err;
    (void)n;
    struct vclock *v = c;
    v->t += v->service_s * units;
    v->runs++;
    v->units += units;
    return 0;
}

static struct jb_scenario_io vio(struct vclock *v)
{
    struct jb_scenario_io io = {.now_s = v_now, .wait_until_s = v_wait, .run = v_run, .ctx = v};
    return io;
}

static void test_poisson_rate_and_seed(void **st)
{
    (void)st;
    uint64_t a = 7, b = 7, c = 8;
    double sum = 0, sq = 0;
    const int n = 200000;
    int same = 1, diff = 0;
    for (int i = 0; i < n; i++) {
        double g = jb_poisson_gap_s(&a, 500);
        double h = jb_poisson_gap_s(&b, 500);
        double k = jb_poisson_gap_s(&c, 500);
        same &= g == h;
        diff += g != k;
        assert_true(g > 0 && isfinite(g));
        sum += g;
        sq += g * g;
    }
    double mean = sum / n, var = sq / n - mean * mean;
    /* exponential: mean 1/rate, stddev 1/rate; 5 standard errors */
    assert_true(fabs(mean - 0.002) < 5 * 0.002 / sqrt(n));
    assert_true(fabs(sqrt(var) - 0.002) < 0.02 * 0.002);
    assert_true(same);
    assert_true(diff > n - 10);
}

static void test_server_light_load(void **st)
{
    (void)st;
    struct vclock v = {.t = 100, .service_s = 0.0005};
    struct jb_scenario_io io = vio(&v);
    struct jb_load_params p = {.kind = JB_LOAD_SERVER, .target_qps = 200, .duration_s = 50,
                               .seed = 3};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    char err[JB_ERRLEN];
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), 0);
    double rate = (double)r.n / (r.t1_s - r.t0_s);
    /* 10000 expected arrivals: Poisson count within 5 sigma (500) */
    assert_true(fabs((double)r.n - 10000) < 500);
    assert_true(fabs(rate - 200) < 10);
    /* busy 10% of the time; no latency below the service time */
    assert_true(fabs(r.busy_s / (r.t1_s - r.t0_s) - 0.1) < 0.01);
    double q[3] = {0.5, 0.9, 0.99}, out[3];
    jb_load_percentiles(&r, q, out, 3);
    assert_true(r.lat_s[0] >= 0.0005 - 1e-12);
    assert_float_equal(out[0], 0.0005, 1e-9); /* most queries find the worker idle */
    assert_true(out[2] > 0.0005);             /* but some queue behind another */
    jb_load_result_free(&r);

    /* the same seed gives the same arrivals, hence the same latencies */
    struct vclock v2 = {.t = 100, .service_s = 0.0005};
    struct jb_scenario_io io2 = vio(&v2);
    struct jb_load_result r2;
    memset(&r2, 0, sizeof(r2));
    assert_int_equal(jb_load_run(&p, &io2, &r2, err, sizeof(err)), 0);
    assert_true(fabs((double)r2.n - 10000) < 500);
    double out2[3];
    jb_load_percentiles(&r2, q, out2, 3);
    assert_float_equal(out2[2], out[2], 1e-12);
    jb_load_result_free(&r2);
}

static void test_server_overload_queues(void **st)
{
    (void)st;
    /* 2000 queries/s against a 1 ms server: the queue grows without bound,
     * and latency from arrival shows it (service time alone would not) */
    struct vclock v = {.t = 0, .service_s = 0.001};
    struct jb_scenario_io io = vio(&v);
    struct jb_load_params p = {.kind = JB_LOAD_SERVER, .target_qps = 2000, .duration_s = 2,
                               .seed = 1};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    char err[JB_ERRLEN];
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), 0);
    double q = 0.99, p99;
    jb_load_percentiles(&r, &q, &p99, 1);
    assert_true(p99 > 0.5);       /* about 2 s of arrivals served in 4 s */
    assert_true(r.max_queue_s > 0.5);
    assert_true(r.busy_s > 0.99 * (r.t1_s - r.t0_s));
    jb_load_result_free(&r);
}

static void test_multi_stream_interval_and_queueing(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    /* 4 streams of 1 ms every 10 ms: each query finishes in 4 ms */
    struct vclock v = {.t = 5, .service_s = 0.001};
    struct jb_scenario_io io = vio(&v);
    struct jb_load_params p = {.kind = JB_LOAD_MULTI_STREAM, .streams = 4, .interval_s = 0.010,
                               .duration_s = 1};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n, 100);
    assert_int_equal(v.units, 400);
    for (size_t i = 0; i < r.n; i++)
        assert_float_equal(r.lat_s[i], 0.004, 1e-9);
    jb_load_result_free(&r);
    /* 2 streams of 6 ms every 10 ms: each query needs 12 ms, so query k
     * starts 2k ms late and its latency, queueing included, is 12 + 2k ms */
    struct vclock w = {.t = 0, .service_s = 0.006};
    io = vio(&w);
    p.streams = 2;
    p.duration_s = 0.1;
    memset(&r, 0, sizeof(r));
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n, 10);
    for (size_t i = 0; i < r.n; i++)
        assert_float_equal(r.lat_s[i], 0.012 + 0.002 * (double)i, 1e-9);
    jb_load_result_free(&r);
}

static void test_single_stream_back_to_back(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    struct vclock v = {.t = 0, .service_s = 0.002};
    struct jb_scenario_io io = vio(&v);
    struct jb_load_params p = {.kind = JB_LOAD_SINGLE_STREAM, .duration_s = 1};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n, 500);
    assert_float_equal(r.busy_s, 1.0, 1e-9);
    jb_load_result_free(&r);
}

static int more_calls;
static int more_three(void *c, double svc)
{
    (void)c;
    assert_float_equal(svc, 0.001, 1e-12);
    return ++more_calls <= 3;
}

static void test_more_extends_the_pass(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    struct vclock v = {.t = 0, .service_s = 0.001};
    struct jb_scenario_io io = vio(&v);
    io.more = more_three;
    struct jb_load_params p = {.kind = JB_LOAD_MULTI_STREAM, .streams = 1, .interval_s = 0.01,
                               .duration_s = 0.1};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), 0);
    assert_int_equal(r.n, 13); /* 10 in the duration, 3 asked for after it */
    jb_load_result_free(&r);
}

static int threshold_eval(void *c, double qps)
{
    return qps <= *(double *)c;
}

/* A real search: server passes of 20 virtual seconds against a 1 ms
 * server, bound p99 <= 5 ms. */
static int server_eval(void *c, double qps)
{
    (void)c;
    struct vclock v = {.t = 0, .service_s = 0.001};
    struct jb_scenario_io io = vio(&v);
    struct jb_load_params p = {.kind = JB_LOAD_SERVER, .target_qps = qps, .duration_s = 20,
                               .seed = 11};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    char err[JB_ERRLEN];
    if (jb_load_run(&p, &io, &r, err, sizeof(err)))
        return JB_EIO;
    double q = 0.99, p99;
    jb_load_percentiles(&r, &q, &p99, 1);
    jb_load_result_free(&r);
    return p99 <= 0.005;
}

static void test_find_peak(void **st)
{
    (void)st;
    double thr = 737, peak, fail;
    int steps;
    struct jb_peak_search s = {.lo_qps = 10, .hi_qps = 5000, .resolution_rel = 0.01};
    assert_int_equal(jb_find_peak(&s, threshold_eval, &thr, &peak, &fail, &steps), 0);
    assert_true(peak <= thr && fail > thr);
    assert_true(fail - peak <= 0.01 * peak);
    assert_true(steps < 20);
    /* the whole range meets it: the peak is at least hi, no failing rate */
    thr = 1e9;
    assert_int_equal(jb_find_peak(&s, threshold_eval, &thr, &peak, &fail, &steps), 0);
    assert_float_equal(peak, 5000, 0);
    assert_float_equal(fail, 0, 0);
    /* none of it does */
    thr = 1;
    assert_int_equal(jb_find_peak(&s, threshold_eval, &thr, &peak, &fail, &steps), 0);
    assert_float_equal(peak, 0, 0);
    assert_float_equal(fail, 10, 0);

    /* M/D/1 with 1 ms service: p99 of the sojourn is 5 ms near 80% load;
     * the peak is well inside (0.5, 1) of capacity and brackets a change */
    s.lo_qps = 50;
    s.hi_qps = 2000;
    s.resolution_rel = 0.02;
    assert_int_equal(jb_find_peak(&s, server_eval, NULL, &peak, &fail, &steps), 0);
    assert_true(peak > 500 && peak < 1000);
    assert_true(fail > peak && fail - peak <= 0.02 * peak);
    assert_int_equal(server_eval(NULL, peak), 1);
    assert_int_equal(server_eval(NULL, fail), 0);
}

static void test_rejects_bad_params(void **st)
{
    (void)st;
    char err[JB_ERRLEN];
    struct vclock v = {0};
    struct jb_scenario_io io = vio(&v);
    struct jb_load_params p = {.kind = JB_LOAD_SERVER, .target_qps = 0, .duration_s = 1};
    struct jb_load_result r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), JB_EINVAL);
    p.kind = JB_LOAD_MULTI_STREAM;
    p.streams = 0;
    assert_int_equal(jb_load_run(&p, &io, &r, err, sizeof(err)), JB_EINVAL);
    assert_float_equal(jb_scenario_default_bound_s("llm"), 2.0, 0);
    assert_float_equal(jb_scenario_default_bound_s("tinyml"), 0.010, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_rate_and_seed),
        cmocka_unit_test(test_server_light_load),
        cmocka_unit_test(test_server_overload_queues),
        cmocka_unit_test(test_multi_stream_interval_and_queueing),
        cmocka_unit_test(test_single_stream_back_to_back),
        cmocka_unit_test(test_more_extends_the_pass),
        cmocka_unit_test(test_find_peak),
        cmocka_unit_test(test_rejects_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
