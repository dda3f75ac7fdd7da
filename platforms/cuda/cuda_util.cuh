/* cuda_util.cuh: small helpers shared by the .cu files of the CUDA back-end:
 * the error-check macros that turn a failed CUDA call into a joulebench
 * status with a message naming the call, and the counter-based hash from
 * which synthetic weights, KV caches and copy patterns are generated (the
 * same function in C, platforms/cuda/llm_cuda_ref.c, reproduces them). */
#ifndef JB_CUDA_UTIL_CUH
#define JB_CUDA_UTIL_CUH

#include <stdint.h>
#include <stdlib.h>

extern "C" {
#include "base/error.h"
}
#include "platforms/cuda/cuda_rt.h"

/* In functions with `int rc`, `char *err, size_t errlen` and an `out:` label. */
#define JB_CUDA_GO(call, what)                                                                     \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            rc = jb_err(err, errlen, jb_cuda_status_code((int)e_), "cuda: %s: %s", (what),         \
                        cudaGetErrorString(e_));                                                   \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

#define JB_CUDA_RET(call, what)                                                                    \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess)                                                                     \
            return jb_err(err, errlen, jb_cuda_status_code((int)e_), "cuda: %s: %s", (what),       \
                          cudaGetErrorString(e_));                                                 \
    } while (0)

/* splitmix64's finalizer: a bijective mix, good enough for test data. */
__host__ __device__ __forceinline__ uint64_t jb_hash64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

#endif
