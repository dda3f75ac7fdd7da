/* sampler.c: the periodic sampling thread (see sampler.h). Sleeps on a
 * condition variable bound to CLOCK_MONOTONIC, so stopping is immediate and
 * a wall-clock change cannot stretch or skip an interval. Deadlines advance
 * by whole intervals from the start, so the sampling rate does not drift by
 * the time fn takes. */
#include "harness/sampler.h"
#include "base/error.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct jb_sampler {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    double interval_s;
    void (*fn)(void *);
    void *arg;
};

static void ts_add(struct timespec *t, double s)
{
    long long ns = (long long)(s * 1e9) + t->tv_nsec;
    t->tv_sec += (time_t)(ns / 1000000000LL);
    t->tv_nsec = (long)(ns % 1000000000LL);
}

static void *sampler_main(void *p)
{
    struct jb_sampler *s = p;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        ts_add(&next, s->interval_s);
        int rc = 0;
        while (!s->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        s->fn(s->arg);
        pthread_mutex_lock(&s->mu);
        /* if fn overran several intervals, skip them rather than burst */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1)
            next = now;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int jb_sampler_start(double interval_s, int cpu, void (*fn)(void *arg), void *arg,
                     struct jb_sampler **out, int *pinned, char *err, size_t errlen)
{
    if (!(interval_s > 0) || !fn)
        return jb_err(err, errlen, JB_EINVAL, "sampler: bad interval %g s", interval_s);
    struct jb_sampler *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "sampler: out of memory");
    s->interval_s = interval_s;
    s->fn = fn;
    s->arg = arg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    if (rc) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return jb_err(err, errlen, JB_EIO, "sampler: pthread_create: %s", strerror(rc));
    }
    if (pinned)
        *pinned = 0;
    if (cpu >= 0 && cpu < CPU_SETSIZE) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (!pthread_setaffinity_np(s->thread, sizeof(set), &set) && pinned)
            *pinned = 1;
    }
    *out = s;
    return JB_OK;
}

void jb_sampler_stop(struct jb_sampler *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
