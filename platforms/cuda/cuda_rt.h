/* cuda_rt.h: the C face of the CUDA back-end's run-time layer: is there a
 * usable NVIDIA GPU here, what is it, and the device-to-device copy that is
 * its bandwidth roof.
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

/* Device-to-device copy calibration: dst = src over `bytes` with 16-byte
 * loads and stores, the pattern a function of index and seed. Handle owned
 * by the caller: open, run as often as needed, close. */
struct jb_cuda_copy;
int jb_cuda_copy_open(int device, size_t bytes, uint64_t seed, struct jb_cuda_copy **out, char *err,
                      size_t errlen);
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

#ifdef __cplusplus
}
#endif

#endif
