/* cuda_fault.c: the lost-GPU latch and the JB_CUDA_FAULT plan (cuda_fault.h).
 *
 * The latch is process-wide mutable state, against the project's habit,
 * because what it mirrors is: a CUDA context belongs to the process, and
 * once a sticky error has poisoned it no later workload of the process can
 * use that GPU, whoever opened it. Passing it around instead would make the
 * runner know about CUDA. */
#include "platforms/cuda/cuda_fault.h"
#include "base/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Device ordinals past this are not latched (no machine has that many). */
#define LOST_MAX_DEVICES 64

static pthread_mutex_t lost_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int lost;
    char what[64];
    char cause[160];
} lost_dev[LOST_MAX_DEVICES];

int jb_cuda_fault_parse(const char *spec, struct jb_cuda_fault *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    if (!spec || !*spec)
        return 0;
    const char *p;
    if (!strncmp(spec, "after-checks:", 13)) {
        f->when = JB_CUDA_FAULT_AFTER_CHECKS;
        p = spec + 13;
    } else if (!strncmp(spec, "after:", 6)) {
        f->when = JB_CUDA_FAULT_AFTER_RUNS;
        p = spec + 6;
    } else {
        goto bad;
    }
    char *end;
    errno = 0;
    if (*p < '0' || *p > '9')
        goto bad;
    f->n = strtol(p, &end, 10);
    if (errno || f->n < 0)
        goto bad;
    if (!strcmp(end, ":trap"))
        f->trap = 1;
    else if (*end)
        goto bad;
    snprintf(f->spec, sizeof(f->spec), "%.*s", (int)sizeof(f->spec) - 1, spec);
    return 0;
bad:
    memset(f, 0, sizeof(*f));
    return jb_err(err, errlen, JB_EINVAL,
                  "JB_CUDA_FAULT='%.60s': expected after:N or after-checks:N, optionally "
                  "followed by :trap (a test hook: unset it to run normally)",
                  spec);
}

int jb_cuda_fault_due(struct jb_cuda_fault *f)
{
    if (f->when == JB_CUDA_FAULT_NONE || f->fired)
        return 0;
    long done = f->when == JB_CUDA_FAULT_AFTER_RUNS ? f->runs : f->checks;
    f->runs++;
    if (done < f->n)
        return 0;
    f->fired = 1;
    return 1;
}

void jb_cuda_fault_checked(struct jb_cuda_fault *f)
{
    f->checks++;
}

void jb_cuda_lost_set(int device, const char *what, const char *cause)
{
    if (device < 0 || device >= LOST_MAX_DEVICES)
        return;
    pthread_mutex_lock(&lost_mu);
    if (!lost_dev[device].lost) {
        lost_dev[device].lost = 1;
        snprintf(lost_dev[device].what, sizeof(lost_dev[device].what), "%s", what ? what : "?");
        snprintf(lost_dev[device].cause, sizeof(lost_dev[device].cause), "%s", cause ? cause : "?");
    }
    pthread_mutex_unlock(&lost_mu);
}

int jb_cuda_lost_check(int device, char *err, size_t errlen)
{
    int rc = 0;
    if (device < 0 || device >= LOST_MAX_DEVICES)
        return 0;
    pthread_mutex_lock(&lost_mu);
    if (lost_dev[device].lost)
        rc = jb_err(err, errlen, JB_EUNAVAIL,
                    "cuda: GPU %d unusable since %s lost its context (%s); CUDA work needs a new "
                    "process",
                    device, lost_dev[device].what, lost_dev[device].cause);
    pthread_mutex_unlock(&lost_mu);
    return rc;
}
