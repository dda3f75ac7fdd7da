/* cuda_rt.cu: probing for a GPU, mapping CUDA errors to joulebench codes,
 * and the device-to-device copy calibration (the GPU's bandwidth roof).
 *
 * The copy counts bytes read plus bytes written (2 x size per pass), as
 * STREAM's copy does, so the LLM decode's achieved bandwidth (bytes it must
 * move over its time) can be compared with it directly. */
#include "platforms/cuda/cuda_rt.h"
#include "platforms/cuda/cuda_util.cuh"

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" int jb_cuda_status_code(int status)
{
    switch ((cudaError_t)status) {
    case cudaSuccess:
        return JB_OK;
    case cudaErrorMemoryAllocation:
        return JB_ENOMEM;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorNotSupported:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorNoKernelImageForDevice:
        return JB_ENOTSUP;
    case cudaErrorDevicesUnavailable:
    case cudaErrorLaunchFailure:
    case cudaErrorIllegalAddress:
    case cudaErrorECCUncorrectable:
    case cudaErrorNvlinkUncorrectable:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorUnknown:
        return JB_EUNAVAIL;
    default:
        return JB_EIO;
    }
}

extern "C" int jb_cuda_probe(int device, struct jb_cuda_device_info *out, char *err, size_t errlen)
{
    int n = 0, drv = 0, rtv = 0, rc;
    /* A GPU whose context this process lost is refused before any CUDA
     * call: every call would fail with the sticky error, somewhere less
     * telling than here. */
    if ((rc = jb_cuda_lost_check(device, err, errlen)))
        return rc;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        /* Clear the sticky "no device" state so later calls report afresh. */
        (void)cudaGetLastError();
        return jb_err(err, errlen, JB_ENOTSUP,
                      "no NVIDIA GPU/driver: cudaGetDeviceCount returned %d (%s)", (int)e,
                      cudaGetErrorString(e));
    }
    if (n == 0)
        return jb_err(err, errlen, JB_ENOTSUP,
                      "no NVIDIA GPU/driver: cudaGetDeviceCount found 0 devices");
    if (device < 0 || device >= n)
        return jb_err(err, errlen, JB_ENOENT, "cuda: device %d does not exist (%d visible)", device,
                      n);
    if (!out)
        return 0;
    memset(out, 0, sizeof(*out));
    cudaDeviceProp p;
    JB_CUDA_RET(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
    JB_CUDA_RET(cudaSetDevice(device), "cudaSetDevice");
    size_t fr = 0, tot = 0;
    JB_CUDA_RET(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rtv);
    out->index = device;
    snprintf(out->name, sizeof(out->name), "%.95s", p.name);
    cudaDeviceGetPCIBusId(out->pci_bus_id, (int)sizeof(out->pci_bus_id), device);
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    out->sm_count = p.multiProcessorCount;
    out->mem_total_b = (double)p.totalGlobalMem;
    out->mem_free_b = (double)fr;
    out->l2_b = (double)p.l2CacheSize;
    out->mem_bus_bits = p.memoryBusWidth;
    out->driver_version = drv;
    out->runtime_version = rtv;
    out->devices = n;
    return 0;
}

/* ---- device-to-device copy ---------------------------------------------- */

struct jb_cuda_copy {
    int device;
    size_t n16; /* 16-byte elements */
    uint4 *src, *dst;
    int *bad; /* mismatch count (device) */
    cudaStream_t stream;
    cudaEvent_t ev0, ev1;
    int blocks;
    uint64_t seed; /* the source pattern's seed, for check */
    enum jb_cuda_copy_method method; /* what run() does: KERNEL or MEMCPY */
    double kernel_bps, memcpy_bps;   /* calibration (0: not timed) */
};

__device__ __forceinline__ uint4 copy_pattern(size_t i, uint64_t seed)
{
    uint64_t a = jb_hash64(seed ^ (2 * i)), b = jb_hash64(seed ^ (2 * i + 1));
    return make_uint4((unsigned)a, (unsigned)(a >> 32), (unsigned)b, (unsigned)(b >> 32));
}

__global__ void copy_fill(uint4 *p, size_t n, uint64_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = copy_pattern(i, seed);
}

__global__ void copy_poison(uint4 *p, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = make_uint4(0xdeadbeefu, 0xdeadbeefu, 0xdeadbeefu, 0xdeadbeefu);
}

/* Each block copies contiguous tiles of COPY_TILE_LOADS x 256 elements (32
 * KB), taken grid-stride, with all of a thread's loads of a tile in flight
 * before its first store. On an H200 this reached 3798-3817 GB/s, no more
 * than the earlier four loads strided by the whole grid (3814), while
 * cudaMemcpyAsync moved 4251 in the same run (docs/results/cuda/): hence
 * the roof is the better of the two, not this kernel. */
#define COPY_TILE_LOADS 8
__global__ void __launch_bounds__(256)
    copy_kernel(uint4 *__restrict__ dst, const uint4 *__restrict__ src, size_t n)
{
    const size_t tile = (size_t)COPY_TILE_LOADS * 256, ntiles = n / tile;
    for (size_t t = blockIdx.x; t < ntiles; t += gridDim.x) {
        size_t i = t * tile + threadIdx.x;
        uint4 v[COPY_TILE_LOADS];
#pragma unroll
        for (int k = 0; k < COPY_TILE_LOADS; k++)
            v[k] = __ldcs(src + i + k * 256);
#pragma unroll
        for (int k = 0; k < COPY_TILE_LOADS; k++)
            __stcs(dst + i + k * 256, v[k]);
    }
    for (size_t i = ntiles * tile + blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        dst[i] = src[i];
}

__global__ void copy_verify(const uint4 *p, size_t n, uint64_t seed, int *bad)
{
    int mine = 0;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint4 v = p[i], w = copy_pattern(i, seed);
        mine += (v.x != w.x) | (v.y != w.y) | (v.z != w.z) | (v.w != w.w);
    }
    if (mine)
        atomicAdd(bad, mine);
}

/* One pass by `method`, bracketed by the handle's events (not waited on). */
static cudaError_t copy_enqueue(struct jb_cuda_copy *c, enum jb_cuda_copy_method method)
{
    cudaError_t e = cudaEventRecord(c->ev0, c->stream);
    if (e == cudaSuccess && method == JB_CUDA_COPY_MEMCPY)
        e = cudaMemcpyAsync(c->dst, c->src, c->n16 * 16, cudaMemcpyDeviceToDevice, c->stream);
    else if (e == cudaSuccess) {
        copy_kernel<<<c->blocks, 256, 0, c->stream>>>(c->dst, c->src, c->n16);
        e = cudaGetLastError();
    }
    if (e == cudaSuccess)
        e = cudaEventRecord(c->ev1, c->stream);
    return e;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Bytes read + written per second of `method`: the median of 7 passes after
 * 2 warm-up passes (the first pass of each also pays for first-touch of the
 * pages and, for the runtime's copy, loading its kernel). */
#define COPY_CAL_PASSES 7
static int copy_calibrate(struct jb_cuda_copy *c, enum jb_cuda_copy_method method, double *bps,
                          char *err, size_t errlen)
{
    int rc = 0;
    float ms[COPY_CAL_PASSES];
    for (int i = -2; i < COPY_CAL_PASSES; i++) {
        JB_CUDA_GO(copy_enqueue(c, method), "copy calibration pass");
        JB_CUDA_GO(cudaEventSynchronize(c->ev1), "cudaEventSynchronize (copy calibration)");
        if (i >= 0)
            JB_CUDA_GO(cudaEventElapsedTime(&ms[i], c->ev0, c->ev1), "cudaEventElapsedTime");
    }
    qsort(ms, COPY_CAL_PASSES, sizeof(ms[0]), cmp_float);
    *bps = 2.0 * (double)c->n16 * 16 / (ms[COPY_CAL_PASSES / 2] * 1e-3);
out:
    return rc;
}

extern "C" int jb_cuda_copy_open(int device, size_t bytes, uint64_t seed,
                                 enum jb_cuda_copy_method method, struct jb_cuda_copy **out,
                                 char *err, size_t errlen)
{
    int rc;
    struct jb_cuda_copy *c = NULL;
    cudaDeviceProp p;
    *out = NULL;
    if ((rc = jb_cuda_probe(device, NULL, err, errlen)))
        return rc;
    if (bytes < (1u << 20) || bytes % 16)
        return jb_err(err, errlen, JB_EINVAL,
                      "cuda-copy: %zu bytes: need a multiple of 16, >= 1 MiB", bytes);
    c = (struct jb_cuda_copy *)calloc(1, sizeof(*c));
    if (!c)
        return jb_err(err, errlen, JB_ENOMEM, "cuda-copy: out of host memory");
    c->seed = seed;
    c->device = device;
    c->n16 = bytes / 16;
    JB_CUDA_GO(cudaSetDevice(device), "cudaSetDevice");
    JB_CUDA_GO(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
    c->blocks = p.multiProcessorCount * 8;
    JB_CUDA_GO(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    JB_CUDA_GO(cudaEventCreate(&c->ev0), "cudaEventCreate");
    JB_CUDA_GO(cudaEventCreate(&c->ev1), "cudaEventCreate");
    JB_CUDA_GO(cudaMalloc(&c->src, bytes), "cudaMalloc(src)");
    JB_CUDA_GO(cudaMalloc(&c->dst, bytes), "cudaMalloc(dst)");
    JB_CUDA_GO(cudaMalloc(&c->bad, sizeof(int)), "cudaMalloc(bad)");
    copy_fill<<<c->blocks, 256, 0, c->stream>>>(c->src, c->n16, seed);
    JB_CUDA_GO(cudaGetLastError(), "copy_fill launch");
    if (method != JB_CUDA_COPY_MEMCPY &&
        (rc = copy_calibrate(c, JB_CUDA_COPY_KERNEL, &c->kernel_bps, err, errlen)))
        goto out;
    if (method != JB_CUDA_COPY_KERNEL &&
        (rc = copy_calibrate(c, JB_CUDA_COPY_MEMCPY, &c->memcpy_bps, err, errlen)))
        goto out;
    c->method = method != JB_CUDA_COPY_BEST       ? method
                : c->memcpy_bps > c->kernel_bps ? JB_CUDA_COPY_MEMCPY
                                                : JB_CUDA_COPY_KERNEL;
    /* The calibration wrote dst: poison it so a check before the first
     * measured pass fails. */
    copy_poison<<<c->blocks, 256, 0, c->stream>>>(c->dst, c->n16);
    JB_CUDA_GO(cudaGetLastError(), "copy_poison launch");
    JB_CUDA_GO(cudaStreamSynchronize(c->stream), "cudaStreamSynchronize");
    *out = c;
    return 0;
out:
    jb_cuda_copy_close(c);
    return rc;
}

extern "C" enum jb_cuda_copy_method jb_cuda_copy_method(const struct jb_cuda_copy *c,
                                                        double *kernel_bps, double *memcpy_bps)
{
    if (kernel_bps)
        *kernel_bps = c->kernel_bps;
    if (memcpy_bps)
        *memcpy_bps = c->memcpy_bps;
    return c->method;
}

extern "C" int jb_cuda_copy_run(struct jb_cuda_copy *c, double *gpu_s, char *err, size_t errlen)
{
    int rc = 0;
    float ms = 0;
    JB_CUDA_GO(copy_enqueue(c, c->method), "copy pass");
    JB_CUDA_GO(cudaEventSynchronize(c->ev1), "cudaEventSynchronize (copy)");
    JB_CUDA_GO(cudaEventElapsedTime(&ms, c->ev0, c->ev1), "cudaEventElapsedTime");
    if (gpu_s)
        *gpu_s = ms * 1e-3;
out:
    return rc;
}

extern "C" int jb_cuda_copy_check(struct jb_cuda_copy *c, char *err, size_t errlen)
{
    int rc = 0, bad = 0;
    uint64_t seed = c->seed;
    JB_CUDA_GO(cudaMemsetAsync(c->bad, 0, sizeof(int), c->stream), "cudaMemset");
    copy_verify<<<c->blocks, 256, 0, c->stream>>>(c->dst, c->n16, seed, c->bad);
    JB_CUDA_GO(cudaGetLastError(), "copy_verify launch");
    JB_CUDA_GO(cudaMemcpyAsync(&bad, c->bad, sizeof(int), cudaMemcpyDeviceToHost, c->stream),
               "cudaMemcpy(bad)");
    copy_poison<<<c->blocks, 256, 0, c->stream>>>(c->dst, c->n16);
    JB_CUDA_GO(cudaGetLastError(), "copy_poison launch");
    JB_CUDA_GO(cudaStreamSynchronize(c->stream), "cudaStreamSynchronize");
    if (bad)
        rc = jb_err(err, errlen, JB_ECHECK,
                    "cuda-copy: %d of %zu 16-byte elements differ from the source", bad, c->n16);
out:
    return rc;
}

extern "C" void jb_cuda_copy_close(struct jb_cuda_copy *c)
{
    if (!c)
        return;
    cudaFree(c->src);
    cudaFree(c->dst);
    cudaFree(c->bad);
    if (c->ev0)
        cudaEventDestroy(c->ev0);
    if (c->ev1)
        cudaEventDestroy(c->ev1);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    free(c);
}

/* ---- a GPU lost mid-run (see cuda_rt.h) ---------------------------------- */

/* The injected fault. `bad` comes from the host so that the compiler cannot
 * see the store is invalid; nothing is mapped at it, so the store is an MMU
 * fault (Xid 31), the commonest way a real kernel loses its context. The
 * trap is an exception on the SM instead (Xid 13). */
__global__ void fault_kernel(volatile int *bad, int trap)
{
    if (trap)
        __trap();
    *bad = 1;
}

extern "C" int jb_cuda_inject_fault(int device, int trap)
{
    (void)cudaSetDevice(device);
    /* The lowest page of the address space is never mapped. */
    fault_kernel<<<1, 1>>>((volatile int *)(uintptr_t)0x10, trap);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess)
        e = cudaDeviceSynchronize();
    return (int)e;
}

extern "C" int jb_cuda_context_error(int device)
{
    (void)cudaSetDevice(device);
    /* A non-sticky error (a refused launch) is reported once and cleared
     * by reading it; a sticky one comes back on every call. */
    (void)cudaGetLastError();
    if (cudaDeviceSynchronize() == cudaSuccess)
        return 0;
    (void)cudaGetLastError();
    return (int)cudaDeviceSynchronize();
}

extern "C" int jb_cuda_guard_open(struct jb_cuda_guard *g, int device, const char *what, char *err,
                                  size_t errlen)
{
    memset(g, 0, sizeof(*g));
    g->device = device;
    snprintf(g->what, sizeof(g->what), "%s", what);
    return jb_cuda_fault_parse(getenv("JB_CUDA_FAULT"), &g->fault, err, errlen);
}

extern "C" void jb_cuda_guard_begin_run(struct jb_cuda_guard *g)
{
    if (jb_cuda_fault_due(&g->fault))
        (void)jb_cuda_inject_fault(g->device, g->fault.trap);
}

extern "C" int jb_cuda_guard_end(struct jb_cuda_guard *g, int rc, char *err, size_t errlen)
{
    /* Only what may be a device error is looked into (no GPU, out of memory
     * and bad parameters are not), and only once per device: after the
     * latch, the message already says it. */
    if (!(rc == JB_EUNAVAIL || rc == JB_EIO || g->fault.fired))
        return rc;
    if (jb_cuda_lost_check(g->device, NULL, 0))
        return rc ? rc : JB_EUNAVAIL;
    cudaError_t e = (cudaError_t)jb_cuda_context_error(g->device);
    if (e == cudaSuccess)
        return rc;
    const char *inj = g->fault.fired ? ", injected by JB_CUDA_FAULT" : "";
    char cause[160], said[JB_ERRLEN];
    snprintf(cause, sizeof(cause), "%s: %s%s", cudaGetErrorName(e), cudaGetErrorString(e), inj);
    jb_cuda_lost_set(g->device, g->what, cause);
    /* rc 0: the call after an injected fault did not notice it (no call
     * of its own failed); the context is lost all the same. */
    snprintf(said, sizeof(said), "%s", rc && err && errlen ? err : "cuda: fault injected");
    return jb_err(err, errlen, JB_EUNAVAIL,
                  "%s; GPU %d context lost (sticky %s%s): no more CUDA work in this process", said,
                  g->device, cudaGetErrorName(e), inj);
}

extern "C" int jb_cuda_guard_end_check(struct jb_cuda_guard *g, int rc, char *err, size_t errlen)
{
    if (rc == 0)
        jb_cuda_fault_checked(&g->fault);
    return jb_cuda_guard_end(g, rc, err, errlen);
}
