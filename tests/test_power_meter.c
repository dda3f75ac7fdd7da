/* test_power_meter.c: the external meter source, from a CSV file (Unix-time
 * stamps, a header, a malformed line) and from a TCP line stream served by a
 * thread of this test on an ephemeral loopback port (monotonic stamps, a
 * malformed line, and a connection dropped mid-run), integrated and cut to
 * the run by timestamps. */
#include "tests/power_test_util.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/power.h"

static double realtime_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct jb_energy *open_spec(const char *spec)
{
    struct jb_energy_opts o = {1, NULL, -1, NULL, 0};
    struct jb_energy *e = NULL;
    char err[JB_ERRLEN] = "";
    int rc = jb_energy_open(spec, &o, &e, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s: %s\n", spec, err);
    assert_int_equal(rc, 0);
    return e;
}

/* A log at 80 W, 10 ms apart, from 1 s before to 3 s after now (an analyzer
 * started before the run), with a header and one malformed line. */
static void from_file(void **st)
{
    (void)st;
    char path[] = "/tmp/jb_meter_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "time_s,watts\n");
    double now = realtime_s();
    for (int i = 0; i < 400; i++) {
        fprintf(f, "%.6f,%.3f\n", now - 1 + i * 0.01, 80.0);
        if (i == 150)
            fprintf(f, "this is not a sample\n");
    }
    fclose(f);
    char spec[128];
    snprintf(spec, sizeof(spec), "meter:file=%s,period_ms=10", path);
    struct jb_energy *e = open_spec(spec);
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.15, 3, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "meter");
    assert_non_null(d);
    if (!json_is_true(json_object_get(d, "available")))
        jb_test_dump(&r);
    assert_true(json_is_true(json_object_get(d, "available")));
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    assert_true(fabs(jpu - 80 * r.wall_s / r.units) <= u + 1e-6);
    assert_true(fabs(jb_test_num(d, "average_power_w") - 80) < 0.5);
    json_t *s1 = json_object_get(d, "device_state_end");
    assert_int_equal(json_integer_value(json_object_get(s1, "malformed_lines")), 1);
    jb_test_run_free(&r);
    jb_energy_close(e);
    /* a log that ended before the run: unavailable, not 0 J */
    f = fopen(path, "w");
    now = realtime_s();
    for (int i = 0; i < 50; i++)
        fprintf(f, "%.6f,80\n", now - 2 + i * 0.01);
    fclose(f);
    e = open_spec(spec);
    jb_test_reps(e, 1, 1, 0.05, 1, 0, NULL, &r);
    d = jb_test_entry(&r, "meter");
    assert_true(json_is_false(json_object_get(d, "available")));
    assert_true(jb_test_warned(&r, "do not cover"));
    jb_test_run_free(&r);
    jb_energy_close(e);
    unlink(path);
}

struct server {
    int lfd, port;
    double watts, duration_s; /* stream for this long after accept, then close;
                               * < 0: until stop_server */
    volatile int stop;
    pthread_t th;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int c = accept(s->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    double t0 = jb_power_now_s();
    char line[128];
    int i = 0;
    while (!s->stop && (s->duration_s < 0 || jb_power_now_s() - t0 < s->duration_s)) {
        int n = snprintf(line, sizeof(line), "%.6f,%.3f\n", jb_power_now_s(), s->watts);
        if (i++ == 20)
            n = snprintf(line, sizeof(line), "12.5;oops\n");
        if (send(c, line, (size_t)n, MSG_NOSIGNAL) != n) /* the client may have gone */
            break;
        jb_power_sleep_s(0.005);
    }
    close(c);
    return NULL;
}

static void start_server(struct server *s, double watts, double duration_s)
{
    s->watts = watts;
    s->duration_s = duration_s;
    s->stop = 0;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0; /* ephemeral */
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void stop_server(struct server *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->lfd);
}

static void from_tcp(void **st)
{
    (void)st;
    struct server srv;
    /* Streams until the test is over: a fixed 1.5 s ran out before the
     * run's last reading on a loaded machine under ASan (seen in CI). */
    start_server(&srv, 60, -1);
    char spec[128];
    snprintf(spec, sizeof(spec), "meter:tcp=127.0.0.1:%d,clock=monotonic,period_ms=5", srv.port);
    struct jb_energy *e = open_spec(spec);
    struct jb_test_run r;
    jb_test_reps(e, 2, 2, 0.15, 2, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "meter");
    assert_true(json_is_true(json_object_get(d, "available")));
    double jpu = jb_test_num(d, "joules_per_unit"),
           u = jb_test_num(d, "uncertainty_joules_per_unit");
    assert_true(fabs(jpu - 60 * r.wall_s / r.units) <= u + 1e-6);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "device_state_end"),
                                                        "malformed_lines")),
                     1);
    jb_test_run_free(&r);
    jb_energy_close(e);
    stop_server(&srv);
}

/* The meter hangs up 0.2 s into a 0.6 s run: unavailable, with the reason. */
static void tcp_dropped(void **st)
{
    (void)st;
    struct server srv;
    start_server(&srv, 60, 0.2);
    char spec[128];
    snprintf(spec, sizeof(spec), "meter:tcp=127.0.0.1:%d,clock=monotonic,period_ms=5", srv.port);
    struct jb_energy *e = open_spec(spec);
    struct jb_test_run r;
    jb_test_reps(e, 3, 3, 0.2, 1, 0, NULL, &r);
    json_t *d = jb_test_entry(&r, "meter");
    assert_true(json_is_false(json_object_get(d, "available")));
    assert_non_null(strstr(json_string_value(json_object_get(d, "unavailable_reason")), "dropped"));
    jb_test_run_free(&r);
    jb_energy_close(e);
    stop_server(&srv);
}

/* Runs two repetitions as the runner does through a meter at the default
 * 1 s period and expects the domain unavailable, saying `why`, within a
 * few periods: once a wrong input made `run` hang for good (/dev/zero) or
 * for 100 periods a repetition (a log that is not one, or ended). */
static void expect_fails_fast(const char *input, const char *why)
{
    char spec[300];
    snprintf(spec, sizeof(spec), "meter:file=%s", input);
    struct jb_energy *e = open_spec(spec);
    struct jb_test_run r;
    double t0 = jb_power_now_s();
    jb_test_reps_more(e, 2, 0.01, 0.005, 1, &r);
    double took = jb_power_now_s() - t0;
    json_t *d = jb_test_entry(&r, "meter");
    assert_non_null(d);
    assert_true(json_is_false(json_object_get(d, "available")));
    if (!jb_test_warned(&r, why)) {
        jb_test_dump(&r);
        fail_msg("no warning containing '%s' (rc %d: %s)", why, r.rc, r.err);
    }
    if (took > 10)
        fail_msg("%s: took %.1f s to give up", input, took);
    jb_test_run_free(&r);
    jb_energy_close(e);
}

static void wrong_inputs_fail_in_bounded_time(void **st)
{
    (void)st;
    char path[] = "/tmp/jb_meter_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 20; i++)
        fprintf(f, "user%d:x:%d:%d::/home/user%d:/bin/sh\n", i, 1000 + i, 1000 + i, i);
    fclose(f);
    expect_fails_fast(path, "not a meter log: 20 malformed line(s)");
    expect_fails_fast("/dev/zero", "bytes without a 'time_s,watts' sample");
    /* a real log, ended a minute ago */
    f = fopen(path, "w");
    double now = realtime_s();
    for (int i = 0; i < 50; i++)
        fprintf(f, "%.3f,80\n", now - 110 + i);
    fclose(f);
    expect_fails_fast(path, "do not cover the run");
    /* an empty log nobody writes to */
    f = fopen(path, "w");
    fclose(f);
    expect_fails_fast(path, "no reading within 3 s");
    unlink(path);
}

static void config_errors(void **st)
{
    (void)st;
    const struct jb_power_source_ops *ops = jb_power_source_find("meter");
    assert_non_null(ops);
    struct jb_power_context ctx = {1, NULL, "/", 0};
    char why[JB_ERRLEN];
    assert_int_equal(ops->probe(NULL, &ctx, why, sizeof(why)), JB_EINVAL);
    assert_non_null(strstr(why, "not configured"));
    assert_int_equal(ops->probe("file=/nonexistent/log.csv", &ctx, why, sizeof(why)), JB_ENOENT);
    assert_int_equal(ops->probe("tcp=localhost", &ctx, why, sizeof(why)), JB_EINVAL);
    /* nothing listens on port 1 */
    assert_int_equal(ops->probe("tcp=127.0.0.1:1", &ctx, why, sizeof(why)), JB_EIO);
    assert_non_null(strstr(why, "connect"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_file),
        cmocka_unit_test(from_tcp),
        cmocka_unit_test(tcp_dropped),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(wrong_inputs_fail_in_bounded_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
