/* cuda_rt.h: the C face of the CUDA back-end's run-time layer: is there a
 * usable NVIDIA GPU here, what is it, the device-to-device copy that is its
 * bandwidth roof, and the guard that notices a GPU lost mid-run.
 *
 * Everything is callable from C whether or not a GPU exists: without a
 * driver or device, jb_cuda_probe returns JB_ENOTSUP with the CUDA runtime's
 * own words ("no NVIDIA GPU/driver: cudaGetDeviceCount returned ..."), so
 * callers (workloads, tests, the CLI) skip cleanly instead of crashing.
 * Only compiled when JB_HAVE_CUDA is defined (platforms/cuda/cuda.cmake). */
#ifndef JB_CUDA_RT_H
#define JB_CUDA_RT_H

#include <stddef.h>
#include <stdint.h>

#include "platforms/cuda/cuda_fault.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jb_cuda_device_info {
    int index;              /* CUDA device ordinal */
    char name[96];          /* "NVIDIA H100 80GB HBM3" */
    char pci_bus_id[32];    /* "0000:00:05.0", matches NVML's */
    int cc_major, cc_minor; /* compute capability */
    int sm_count;           /* multiprocessors */
    double mem_total_b;     /* device memory */
    double mem_free_b;      /* free at probe time */
    double l2_b;            /* L2 cache size */
    int mem_bus_bits;       /* memory bus width */
    int driver_version;     /* e.g. 13000 */
    int runtime_version;    /* the runtime linked in */
    int devices;            /* number of CUDA devices visible */
};

/* Fills *out for `device` (0 unless told). Returns 0, or JB_ENOTSUP with the
 * reason when there is no GPU or driver, JB_ENOENT for a device ordinal past
 * the last one. out may be NULL (only the yes/no answer). */
int jb_cuda_probe(int device, struct jb_cuda_device_info *out, char *err, size_t errlen);

/* Device-to-device copy calibration: dst = src over `bytes`, the pattern a
 * function of index and seed. Two ways to copy: joulebench's own kernel
 * (16-byte loads and stores, several in flight per thread) and the CUDA
 * runtime's cudaMemcpyAsync device to device. The roof is the better of
 * the two on this GPU: with JB_CUDA_COPY_BEST, open times both (median of
 * several passes each, after a warm-up) and every run uses the faster.
 * Handle owned by the caller: open, run as often as needed, close. */
enum jb_cuda_copy_method { JB_CUDA_COPY_BEST = 0, JB_CUDA_COPY_KERNEL, JB_CUDA_COPY_MEMCPY };
struct jb_cuda_copy;
int jb_cuda_copy_open(int device, size_t bytes, uint64_t seed, enum jb_cuda_copy_method method,
                      struct jb_cuda_copy **out, char *err, size_t errlen);
/* The method runs use (never BEST), and the calibration's figures (bytes
 * read + written per second, median pass) of the kernel and of
 * cudaMemcpyAsync: 0 for one not timed (a method asked for by name). */
enum jb_cuda_copy_method jb_cuda_copy_method(const struct jb_cuda_copy *c, double *kernel_bps,
                                             double *memcpy_bps);
/* One pass, synchronous (returns when the GPU has finished, so host-clock
 * and energy readings around it bracket the work). *gpu_s receives the pass
 * time from CUDA events (may be NULL). */
int jb_cuda_copy_run(struct jb_cuda_copy *c, double *gpu_s, char *err, size_t errlen);
/* Verifies every element of dst against the pattern on the GPU; JB_ECHECK
 * with the number of bad elements when not. Poisons dst afterwards, so a
 * later pass that writes nothing is caught. */
int jb_cuda_copy_check(struct jb_cuda_copy *c, char *err, size_t errlen);
void jb_cuda_copy_close(struct jb_cuda_copy *c);

/* Maps a CUDA runtime status to a JB_E code: out of memory -> JB_ENOMEM; no
 * device or driver -> JB_ENOTSUP; a lost or faulted device -> JB_EUNAVAIL;
 * anything else -> JB_EIO. `status` is a cudaError_t. */
int jb_cuda_status_code(int status);

/* ---- a GPU lost mid-run ----------------------------------------------------
 * Every CUDA workload keeps a guard (by value in its state) and passes each
 * open, run and check through it:
 *
 *     jb_cuda_guard_open(&s->guard, device, "cuda-kws-dscnn", err, errlen);
 *     ...open...   rc = jb_cuda_guard_end(&s->guard, rc, err, errlen);
 *     run:         jb_cuda_guard_begin_run(&s->guard);
 *                  rc = ...step...;
 *                  return jb_cuda_guard_end(&s->guard, rc, err, errlen);
 *     check:       return jb_cuda_guard_end_check(&s->guard, ...check..., err, errlen);
 *
 * When a call fails with what may be a device error (JB_EUNAVAIL, JB_EIO),
 * end asks the runtime whether the context is poisoned (a sticky error: it
 * persists across two synchronizations); if so it marks the GPU lost for
 * the process (cuda_fault.h's latch), returns JB_EUNAVAIL and says so after
 * the call's own message: "...; GPU 0 context lost (sticky
 * cudaErrorIllegalAddress): no more CUDA work in this process". From then
 * on jb_cuda_probe, which every CUDA workload's open calls first, refuses
 * that GPU with "GPU 0 unusable since <workload> lost its context (<error>)".
 * The guard also carries the JB_CUDA_FAULT test hook (cuda_fault.h), whose
 * faults take exactly this path. */

struct jb_cuda_guard {
    int device;
    char what[48];              /* the workload's name, for the latch */
    struct jb_cuda_fault fault; /* JB_CUDA_FAULT's plan, if set */
};

/* Fills g; reads JB_CUDA_FAULT (the one place it is read). JB_EINVAL when
 * the variable is malformed; touches no GPU. */
int jb_cuda_guard_open(struct jb_cuda_guard *g, int device, const char *what, char *err,
                       size_t errlen);
/* Before each run(): injects the planned fault when it is due. */
void jb_cuda_guard_begin_run(struct jb_cuda_guard *g);
/* After open or run: returns rc, or JB_EUNAVAIL with err extended when the
 * GPU's context turned out to be lost. */
int jb_cuda_guard_end(struct jb_cuda_guard *g, int rc, char *err, size_t errlen);
/* After check: the same, and counts a passed check for after-checks:N. */
int jb_cuda_guard_end_check(struct jb_cuda_guard *g, int rc, char *err, size_t errlen);

/* The injection itself: on `device`, a one-thread kernel stores to an
 * unmapped address (trap: executes a trap instruction), synchronously.
 * Returns the cudaError_t it ended with (cudaErrorIllegalAddress or
 * cudaErrorLaunchFailure; cudaSuccess would mean the fault did not
 * happen). Afterwards the process cannot use the GPU. */
int jb_cuda_inject_fault(int device, int trap);

/* 0 when the context of `device` accepts work; otherwise the sticky
 * cudaError_t that poisons it. Synchronizes the device. */
int jb_cuda_context_error(int device);

#ifdef __cplusplus
}
#endif

#endif
