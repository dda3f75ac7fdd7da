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

/* Four independent 16-byte loads in flight per thread before the first
 * store: enough bytes in flight per multiprocessor to cover HBM latency. */
__global__ void __launch_bounds__(256)
    copy_kernel(uint4 *__restrict__ dst, const uint4 *__restrict__ src, size_t n)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n; i += 4 * stride) {
        uint4 a = __ldcs(src + i), b = __ldcs(src + i + stride);
        uint4 c = __ldcs(src + i + 2 * stride), d = __ldcs(src + i + 3 * stride);
        __stcs(dst + i, a);
        __stcs(dst + i + stride, b);
        __stcs(dst + i + 2 * stride, c);
        __stcs(dst + i + 3 * stride, d);
    }
    for (; i < n; i += stride)
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

extern "C" int jb_cuda_copy_open(int device, size_t bytes, uint64_t seed, struct jb_cuda_copy **out,
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
    copy_poison<<<c->blocks, 256, 0, c->stream>>>(c->dst, c->n16);
    JB_CUDA_GO(cudaGetLastError(), "copy_poison launch");
    JB_CUDA_GO(cudaStreamSynchronize(c->stream), "cudaStreamSynchronize");
    *out = c;
    return 0;
out:
    jb_cuda_copy_close(c);
    return rc;
}

extern "C" int jb_cuda_copy_run(struct jb_cuda_copy *c, double *gpu_s, char *err, size_t errlen)
{
    int rc = 0;
    float ms = 0;
    JB_CUDA_GO(cudaEventRecord(c->ev0, c->stream), "cudaEventRecord");
    copy_kernel<<<c->blocks, 256, 0, c->stream>>>(c->dst, c->src, c->n16);
    JB_CUDA_GO(cudaGetLastError(), "copy_kernel launch");
    JB_CUDA_GO(cudaEventRecord(c->ev1, c->stream), "cudaEventRecord");
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
