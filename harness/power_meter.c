/* power_meter.c: an external power meter's timestamped samples.
 *
 * The way MLPerf Power and MLPerf Tiny measure: an analyzer outside the
 * system under test logs power, and the run is cut out of its log by
 * timestamps. Samples are lines "time_s,watts", from a file (which may still
 * be growing) or a TCP line stream:
 *   meter:file=PATH | meter:tcp=HOST:PORT
 *   [,clock=realtime|monotonic][,offset_s=S][,period_ms=N][,accuracy_pct=P]
 * time_s is on the clock named (realtime: Unix time, what a logger on
 * another machine can share through NTP; default) and offset_s is added to
 * it. The source integrates the samples (trapezoids) and reads as a counter
 * stamped with the time of its latest sample, so energy.c interpolates the
 * run's boundaries between real samples and waits for a meter that lags.
 * Malformed lines are skipped and counted; a dropped connection fails the
 * domain. period_ms is the meter's sample interval (default 1000: SPEC
 * PTDaemon logs at 1 Hz). */
#include "base/error.h"
#include "harness/power.h"
#include "harness/power_opts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define METER_LINE_MAX 256
/* Bytes consumed per read: a device that never runs dry (/dev/zero) must
 * not keep a read, and the lock energy.c holds around it, forever. */
#define METER_DRAIN_MAX_BYTES (1u << 20)
/* Before its first sample a meter may send a header and, on a stream
 * joined mid-line, a partial line; this many bad lines, or this many bytes,
 * without one sample say the input is not a meter log at all. */
#define METER_MAX_BAD_BEFORE_FIRST 8
#define METER_MAX_BYTES_BEFORE_FIRST (64u << 10)

struct meter_pt {
    double t_s, e_j; /* monotonic time, integrated energy up to it */
};

struct meter {
    int fd, is_tcp, closed;
    char what[300];  /* file path or host:port, for messages */
    double offset_s; /* monotonic = meter time - offset_s */
    double period_s, accuracy_rel;
    char line[METER_LINE_MAX];
    size_t linelen;
    int overlong;
    long nlines, malformed;
    unsigned long long nbytes; /* consumed so far */
    int have; /* a sample has been seen */
    double last_t, last_w, acc_j;
    struct meter_pt *q; /* samples parsed but not yet returned by read */
    size_t qhead, qlen, qcap;
    struct meter_pt out; /* the last sample returned */
};

static const char *const meter_keys[] = {"file",      "tcp",          "clock", "offset_s",
                                         "period_ms", "accuracy_pct", NULL};

static int tcp_connect(const char *hostport, char *err, size_t n)
{
    char host[256];
    snprintf(host, sizeof(host), "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon)
        return jb_err(err, n, JB_EINVAL, "meter: tcp=%s, expected HOST:PORT", hostport);
    *colon = 0;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g)
        return jb_err(err, n, JB_EINVAL, "meter: %s: %s", hostport, gai_strerror(g));
    int fd = -1, e = 0;
    for (struct addrinfo *p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen)) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return jb_err(err, n, JB_EIO, "meter: connect %s: %s", hostport, strerror(e));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int meter_setup(const char *o, struct meter *s, char *err, size_t n)
{
    int rc = jb_power_opts_check("meter", o, meter_keys, err, n);
    if (rc)
        return rc;
    char file[256] = "", tcp[256] = "", clk[32] = "realtime";
    int has_file = jb_power_opt_str(o, "file", file, sizeof(file));
    int has_tcp = jb_power_opt_str(o, "tcp", tcp, sizeof(tcp));
    if (has_file == has_tcp)
        return jb_err(err, n, JB_EINVAL,
                      "meter: not configured: give meter:file=PATH or meter:tcp=HOST:PORT");
    jb_power_opt_str(o, "clock", clk, sizeof(clk));
    if (strcmp(clk, "realtime") && strcmp(clk, "monotonic"))
        return jb_err(err, n, JB_EINVAL, "meter: clock=%s, expected realtime or monotonic", clk);
    double off, period_ms, pct;
    if ((rc = jb_power_opt_double("meter", o, "offset_s", 0, &off, err, n)) ||
        (rc = jb_power_opt_double("meter", o, "period_ms", 1000, &period_ms, err, n)) ||
        (rc = jb_power_opt_double("meter", o, "accuracy_pct", 0, &pct, err, n)))
        return rc;
    if (period_ms <= 0 || pct < 0)
        return jb_err(err, n, JB_EINVAL, "meter: period_ms and accuracy_pct must be positive");
    s->period_s = period_ms * 1e-3;
    s->accuracy_rel = pct / 100;
    s->offset_s = -off;
    if (!strcmp(clk, "realtime")) {
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        s->offset_s += (double)rt.tv_sec + (double)rt.tv_nsec * 1e-9 - jb_power_now_s();
    }
    if (has_file) {
        snprintf(s->what, sizeof(s->what), "%s", file);
        s->fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (s->fd < 0)
            return jb_err(err, n, errno == ENOENT ? JB_ENOENT : JB_EIO, "meter: %s: %s", file,
                          strerror(errno));
    } else {
        snprintf(s->what, sizeof(s->what), "%s", tcp);
        s->is_tcp = 1;
        s->fd = tcp_connect(tcp, err, n);
        if (s->fd < 0)
            return s->fd;
    }
    return JB_OK;
}

static void meter_line(struct meter *s)
{
    s->line[s->linelen] = 0;
    s->nlines++;
    const char *l = s->line;
    while (*l == ' ' || *l == '\t')
        l++;
    if (!*l || *l == '#' || *l == '\r')
        return;
    char *end;
    double t = strtod(l, &end);
    if (end == l || *end != ',') {
        if (s->nlines > 1 || !strstr(l, "watts")) /* a header on line 1 is fine */
            s->malformed++;
        return;
    }
    const char *wp = end + 1;
    double w = strtod(wp, &end);
    while (*end == ' ' || *end == '\r')
        end++;
    if (end == wp || *end || !isfinite(t) || !isfinite(w) || w < 0 ||
        (s->have && t <= s->last_t + s->offset_s)) {
        s->malformed++;
        return;
    }
    double tm = t - s->offset_s; /* onto CLOCK_MONOTONIC */
    double acc = s->have ? s->acc_j + 0.5 * (w + s->last_w) * (tm - s->last_t) : s->acc_j;
    if (!isfinite(tm) || !isfinite(acc) || (s->have && !(tm > s->last_t))) {
        s->malformed++; /* absurd watts or times that would overflow the integral */
        return;
    }
    s->acc_j = acc;
    s->have = 1;
    s->last_t = tm;
    s->last_w = w;
    if (s->qhead > 0 && s->qhead == s->qlen)
        s->qhead = s->qlen = 0;
    if (s->qlen == s->qcap) {
        size_t cap = s->qcap ? 2 * s->qcap : 256;
        struct meter_pt *q = realloc(s->q, cap * sizeof(*q));
        if (!q) {
            s->malformed++; /* dropped for want of memory; counted rather than lost silently */
            return;
        }
        s->q = q;
        s->qcap = cap;
    }
    s->q[s->qlen++] = (struct meter_pt){tm, s->acc_j};
}

/* An input that has shown plenty and not one sample is not a meter log
 * (a wrong path: /etc/passwd, /dev/zero): fail now, with what was seen,
 * rather than wait for samples that will never come. */
static int not_a_log(const struct meter *s, char *err, size_t n)
{
    if (s->have)
        return JB_OK;
    if (s->malformed >= METER_MAX_BAD_BEFORE_FIRST)
        return jb_err(err, n, JB_EINVAL,
                      "meter: %s: not a meter log: %ld malformed line(s) and no "
                      "'time_s,watts' sample",
                      s->what, s->malformed);
    if (s->nbytes >= METER_MAX_BYTES_BEFORE_FIRST)
        return jb_err(err, n, JB_EINVAL,
                      "meter: %s: not a meter log: %llu bytes without a 'time_s,watts' sample",
                      s->what, s->nbytes);
    return JB_OK;
}

/* Consumes what the file or socket holds now (up to METER_DRAIN_MAX_BYTES),
 * without blocking. */
static int meter_drain(struct meter *s, char *err, size_t n)
{
    char buf[4096];
    for (size_t got = 0; got < METER_DRAIN_MAX_BYTES;) {
        int rc = not_a_log(s, err, n);
        if (rc)
            return rc;
        ssize_t k = read(s->fd, buf, sizeof(buf));
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return JB_OK;
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return jb_err(err, n, JB_EIO, "meter: read %s: %s", s->what, strerror(errno));
        if (k == 0) {
            if (s->is_tcp)
                s->closed = 1;
            return JB_OK; /* a file at its current end: it may grow */
        }
        got += (size_t)k;
        s->nbytes += (unsigned long long)k;
        for (ssize_t i = 0; i < k; i++) {
            if (buf[i] == '\n') {
                if (s->overlong)
                    s->malformed++;
                else
                    meter_line(s);
                s->linelen = 0;
                s->overlong = 0;
            } else if (s->linelen < METER_LINE_MAX - 1) {
                s->line[s->linelen++] = buf[i];
            } else {
                s->overlong = 1;
            }
        }
    }
    return not_a_log(s, err, n);
}

static int meter_probe(const char *o, const struct jb_power_context *c, char *why, size_t n)
{
    (void)c;
    struct meter s;
    memset(&s, 0, sizeof(s));
    s.fd = -1;
    int rc = meter_setup(o, &s, why, n);
    if (s.fd >= 0)
        close(s.fd);
    return rc;
}

static int meter_open(const char *o, const struct jb_power_context *c, void **st, char *err,
                      size_t n)
{
    (void)c;
    struct meter *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, n, JB_ENOMEM, "meter: out of memory");
    s->fd = -1;
    int rc = meter_setup(o, s, err, n);
    if (rc) {
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return rc;
    }
    *st = s;
    return JB_OK;
}

static int meter_ndomains(const void *st)
{
    (void)st;
    return 1;
}

static void meter_domain(const void *st, int i, struct jb_power_domain_info *d)
{
    const struct meter *s = st;
    (void)i;
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "meter");
    d->kind = JB_POWER_ENERGY_COUNTER;
    d->measured = 1;
    d->update_period_s = s->period_s;
    d->accuracy_rel = s->accuracy_rel;
}

static int meter_read(void *st, int dom, struct jb_power_reading *r, char *err, size_t n)
{
    struct meter *s = st;
    (void)dom;
    memset(r, 0, sizeof(*r));
    int rc = meter_drain(s, err, n);
    if (rc)
        return rc;
    if (s->qhead < s->qlen)
        s->out = s->q[s->qhead++]; /* one sample per read: energy.c sees every one */
    else if (s->closed)
        return jb_err(err, n, JB_EUNAVAIL, "meter: connection to %s dropped", s->what);
    if (!s->have) {
        r->t_s = -1; /* nothing yet */
        return JB_OK;
    }
    r->t_s = s->out.t_s;
    r->energy_j = s->out.e_j;
    r->more = s->qhead < s->qlen;
    return JB_OK;
}

static void meter_close(void *st)
{
    struct meter *s = st;
    if (s->fd >= 0)
        close(s->fd);
    free(s->q);
    free(s);
}

static void meter_state(void *st, int dom, json_t *out)
{
    const struct meter *s = st;
    (void)dom;
    json_object_set_new(out, "input", json_string(s->what));
    json_object_set_new(out, "lines", json_integer(s->nlines));
    json_object_set_new(out, "malformed_lines", json_integer(s->malformed));
    if (s->have)
        json_object_set_new(out, "last_power_w", json_real(s->last_w));
}

const struct jb_power_source_ops jb_power_meter = {
    .name = "meter",
    .description = "external power meter: time_s,watts lines from a file or a TCP stream",
    .is_hardware = 0,
    .probe = meter_probe,
    .open = meter_open,
    .ndomains = meter_ndomains,
    .domain = meter_domain,
    .read = meter_read,
    .close = meter_close,
    .domain_state = meter_state,
};
