/* cuda_fault.h: what the CUDA back-end knows about a GPU lost mid-run: the
 * per-process "lost" latch and the JB_CUDA_FAULT test hook's plan.
 *
 * A kernel fault (an illegal address, a trap, an uncorrectable ECC error,
 * a GPU that fell off the bus) leaves a sticky error in the process's CUDA
 * context: every later CUDA call fails with it until the process exits.
 * The latch remembers, per device, which workload lost the context and
 * with what error, so that every later CUDA workload of the process is
 * refused at once with that cause ("GPU 0 unusable since ...") instead of
 * failing somewhere inside its set-up. The CPU parts of a suite go on.
 *
 * JB_CUDA_FAULT is a test hook, compiled into every build (it costs one
 * counter per run): it makes a CUDA workload poison its own context, as a
 * real fault would, at a chosen point:
 *   after:N          the first N run() calls of each CUDA workload opened
 *                    go normally; before the next one a kernel stores to an
 *                    unmapped address (cudaErrorIllegalAddress)
 *   after-checks:N   the same, at the first run() after N output checks
 *                    passed. The runner checks after each repetition (and
 *                    after a probe of the iteration count that came close
 *                    to the minimum time), so N, or N-1, repetitions
 *                    complete before the fault and make the record
 *   ...:trap         the kernel executes a trap instead
 *                    (cudaErrorLaunchFailure)
 * Only platforms/cuda/cuda_rt.cu reads the variable (jb_cuda_guard_open).
 *
 * This file is host C without CUDA, compiled in every build, so its logic
 * is tested on machines without nvcc or a GPU. */
#ifndef JB_CUDA_FAULT_H
#define JB_CUDA_FAULT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum jb_cuda_fault_when {
    JB_CUDA_FAULT_NONE = 0,
    JB_CUDA_FAULT_AFTER_RUNS,   /* after:N */
    JB_CUDA_FAULT_AFTER_CHECKS, /* after-checks:N */
};

/* A fault plan and its progress, one per opened CUDA workload. */
struct jb_cuda_fault {
    enum jb_cuda_fault_when when;
    long n;        /* runs or checks that go normally first */
    int trap;      /* 1: __trap(); 0: a store to an unmapped address */
    long runs;     /* run() calls started */
    long checks;   /* output checks passed */
    int fired;     /* the fault was injected */
    char spec[48]; /* the value parsed, as given */
};

/* Parses a JB_CUDA_FAULT value into *f (progress zeroed). NULL or "" is no
 * plan. JB_EINVAL with the expected forms in err when malformed. */
int jb_cuda_fault_parse(const char *spec, struct jb_cuda_fault *f, char *err, size_t errlen);

/* Called before each run(): 1 when the fault is to be injected now (once),
 * else 0. */
int jb_cuda_fault_due(struct jb_cuda_fault *f);

/* Called after an output check that passed. */
void jb_cuda_fault_checked(struct jb_cuda_fault *f);

/* The latch. Marks `device` lost: `what` is the workload (or call) that
 * met the error, `cause` the CUDA error in words. The first cause per
 * device is kept; later ones are ignored. Thread-safe. */
void jb_cuda_lost_set(int device, const char *what, const char *cause);

/* 0 when `device` has not been marked lost; otherwise JB_EUNAVAIL with
 * "cuda: GPU N unusable since ..." in err. */
int jb_cuda_lost_check(int device, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
