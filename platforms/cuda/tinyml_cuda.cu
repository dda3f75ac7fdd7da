/* tinyml_cuda.cu: the TinyML models on the GPU (see tinyml_cuda.h).
 *
 * Why the kernels are the plain ones: the point of this back-end is an
 * energy and latency figure for the same model, checked bit for bit against
 * the CPU reference; every kernel therefore mirrors one function of
 * platforms/cpu/tinyml_ref.c line by line (loop order, rounding, clamps),
 * one thread per output element of the whole batch. At batch 1 the models
 * are launch-bound, which the CUDA graph addresses; at large batches the
 * batch fills the GPU. kernels=tiled (tinyml_tile.h) puts conv, depthwise
 * and fully connected layers on shared-memory tiles behind the same
 * bit-exact check; plain stays the default until a GPU run has verified
 * and timed the tiled ones. */
#include "platforms/cuda/cuda_util.cuh"
#include "platforms/cuda/tinyml_cuda.h"
#include "platforms/cuda/tinyml_tile.h"

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <new>
#include <vector>

/* Threads per block: any multiple of the warp does for these
 * memory-bound, one-output-per-thread kernels. */
#define TM_THREADS 256
/* Softmax is one thread per item over a handful of classes. */
#define TM_SOFTMAX_THREADS 64

/* One layer as the kernels see it (tinyml_tile.h). */
typedef struct jb_tm_dev_layer tm_dev_layer;

struct jb_cuda_tinyml {
    int batch, n, q, device, use_graph, tiled;
    int n_tiled; /* layers on the tiled kernels */
    size_t out_elems, esz;
    std::vector<void *> allocs; /* every device allocation, freed at close */
    std::vector<void *> tensors;
    std::vector<tm_dev_layer> layers;
    cudaStream_t stream;
    cudaEvent_t ev0, ev1;
    cudaGraph_t graph;
    cudaGraphExec_t gexec;
    char kernel[48];
};

/* gemmlowp's requantization, shared with the tiled kernels and their
 * host emulator (tinyml_tile.h). */
__device__ __forceinline__ int32_t tm_mbqm(int32_t x, int32_t mult, int32_t shift)
{
    return jb_tm_tile_mbqm(x, mult, shift);
}

__device__ __forceinline__ int32_t tm_clampi(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

__device__ __forceinline__ float tm_clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The reference's `acc += x * w` in float, rounded twice as the host does
 * (nvcc would otherwise contract it into one fused multiply-add). */
__device__ __forceinline__ float tm_mac(float acc, float x, float w)
{
    return __fadd_rn(acc, __fmul_rn(x, w));
}

/* Output element idx of the batch -> item b and (oy, ox, oc), NHWC. */
__device__ __forceinline__ void tm_decompose(const tm_dev_layer &l, size_t idx, size_t *b, int *oy,
                                             int *ox, int *oc)
{
    *oc = (int)(idx % (size_t)l.out_c);
    size_t r = idx / (size_t)l.out_c;
    *ox = (int)(r % (size_t)l.out_w);
    r /= (size_t)l.out_w;
    *oy = (int)(r % (size_t)l.out_h);
    *b = r / (size_t)l.out_h;
}

/* The end of every multiply-accumulate layer (conv, depthwise, fully
 * connected), as the reference ends them: int8 adds the int32 bias,
 * requantizes, adds the output zero point and clamps to the activation
 * range; fp32 adds the bias (one rounding) and clamps. */
__device__ __forceinline__ void tm_store_out(const tm_dev_layer &l, size_t idx, int ch,
                                             int32_t acc, float facc)
{
    if (l.q) {
        acc += ((const int32_t *)l.b)[ch];
        acc = tm_mbqm(acc, l.mult[ch], l.shift[ch]) + l.out_zp;
        ((int8_t *)l.y)[idx] = (int8_t)tm_clampi(acc, l.act_min, l.act_max);
    } else {
        ((float *)l.y)[idx] =
            tm_clampf(__fadd_rn(facc, ((const float *)l.b)[ch]), l.act_min_f, l.act_max_f);
    }
}

/* conv_s8 / conv_f32 of tinyml_ref.c (1x1 included). */
template <typename T> __global__ void k_conv(tm_dev_layer l, size_t total)
{
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t b;
        int oy, ox, oc;
        tm_decompose(l, idx, &b, &oy, &ox, &oc);
        const T *in = (const T *)l.x + b * l.in_elems;
        const T *w = (const T *)l.w;
        int32_t acc = 0;
        float facc = 0.0f;
        for (int ky = 0; ky < l.k_h; ky++) {
            int iy = oy * l.stride_h - l.pad_top + ky;
            if (iy < 0 || iy >= l.in_h)
                continue;
            for (int kx = 0; kx < l.k_w; kx++) {
                int ix = ox * l.stride_w - l.pad_left + kx;
                if (ix < 0 || ix >= l.in_w)
                    continue;
                const T *xp = in + ((size_t)iy * l.in_w + ix) * l.in_c;
                const T *wp = w + (((size_t)oc * l.k_h + ky) * l.k_w + kx) * l.in_c;
                for (int ic = 0; ic < l.in_c; ic++) {
                    if (l.q)
                        acc += ((int32_t)xp[ic] - l.in_zp) * (int32_t)wp[ic];
                    else
                        facc = tm_mac(facc, (float)xp[ic], (float)wp[ic]);
                }
            }
        }
        tm_store_out(l, idx, oc, acc, facc);
    }
}

/* dwconv_s8 / dwconv_f32: depth multiplier 1, weights [k_h][k_w][c]. */
template <typename T> __global__ void k_dwconv(tm_dev_layer l, size_t total)
{
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t b;
        int oy, ox, c;
        tm_decompose(l, idx, &b, &oy, &ox, &c);
        const T *in = (const T *)l.x + b * l.in_elems;
        const T *w = (const T *)l.w;
        int c_n = l.in_c;
        int32_t acc = 0;
        float facc = 0.0f;
        for (int ky = 0; ky < l.k_h; ky++) {
            int iy = oy * l.stride_h - l.pad_top + ky;
            if (iy < 0 || iy >= l.in_h)
                continue;
            for (int kx = 0; kx < l.k_w; kx++) {
                int ix = ox * l.stride_w - l.pad_left + kx;
                if (ix < 0 || ix >= l.in_w)
                    continue;
                T xv = in[((size_t)iy * l.in_w + ix) * c_n + c];
                T wv = w[((size_t)ky * l.k_w + kx) * c_n + c];
                if (l.q)
                    acc += ((int32_t)xv - l.in_zp) * (int32_t)wv;
                else
                    facc = tm_mac(facc, (float)xv, (float)wv);
            }
        }
        tm_store_out(l, idx, c, acc, facc);
    }
}

/* fc_s8 / fc_f32: out_c outputs from in_c inputs, weights [out_c][in_c]. */
template <typename T> __global__ void k_fc(tm_dev_layer l, size_t total)
{
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        int o = (int)(idx % (size_t)l.out_c);
        size_t b = idx / (size_t)l.out_c;
        const T *in = (const T *)l.x + b * l.in_elems;
        const T *w = (const T *)l.w + (size_t)o * l.in_c;
        int32_t acc = 0;
        float facc = 0.0f;
        for (int i = 0; i < l.in_c; i++) {
            if (l.q)
                acc += ((int32_t)in[i] - l.in_zp) * (int32_t)w[i];
            else
                facc = tm_mac(facc, (float)in[i], (float)w[i]);
        }
        tm_store_out(l, idx, o, acc, facc);
    }
}

/* pool of tinyml_ref.c: only window cells inside the input count; int8
 * average rounds half away from zero (TFLite). */
template <typename T> __global__ void k_pool(tm_dev_layer l, size_t total)
{
    for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
         idx += (size_t)gridDim.x * blockDim.x) {
        size_t b;
        int oy, ox, c;
        tm_decompose(l, idx, &b, &oy, &ox, &c);
        const T *in = (const T *)l.x + b * l.in_elems;
        int c_n = l.in_c;
        int32_t sum = 0, mx = INT32_MIN, count = 0;
        float fsum = 0.0f, fmx = -INFINITY;
        for (int ky = 0; ky < l.k_h; ky++) {
            int iy = oy * l.stride_h - l.pad_top + ky;
            if (iy < 0 || iy >= l.in_h)
                continue;
            for (int kx = 0; kx < l.k_w; kx++) {
                int ix = ox * l.stride_w - l.pad_left + kx;
                if (ix < 0 || ix >= l.in_w)
                    continue;
                T v = in[((size_t)iy * l.in_w + ix) * c_n + c];
                count++;
                if (l.q) {
                    sum += (int32_t)v;
                    mx = (int32_t)v > mx ? (int32_t)v : mx;
                } else {
                    fsum = __fadd_rn(fsum, (float)v);
                    fmx = (float)v > fmx ? (float)v : fmx;
                }
            }
        }
        if (l.q) {
            int32_t v = mx;
            if (l.op == JB_TM_AVGPOOL)
                v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
            ((int8_t *)l.y)[idx] = (int8_t)tm_clampi(v, l.act_min, l.act_max);
        } else {
            float v = l.op == JB_TM_AVGPOOL ? __fdiv_rn(fsum, (float)count) : fmx;
            ((float *)l.y)[idx] = tm_clampf(v, l.act_min_f, l.act_max_f);
        }
    }
}

/* add of tinyml_ref.c: TFLite's int8 add (rescale both inputs to a common
 * scale with 20 bits of headroom, add, rescale to the output). */
template <typename T> __global__ void k_add(tm_dev_layer l, size_t total)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        const T *a = (const T *)l.x, *c = (const T *)l.x2;
        if (l.q) {
            int32_t x1 = (int32_t)a[i] - l.in_zp;
            int32_t x2 = (int32_t)c[i] - l.in2_zp;
            int32_t s1 = tm_mbqm(x1 * (1 << l.add_left_shift), l.in1_mult, l.in1_shift);
            int32_t s2 = tm_mbqm(x2 * (1 << l.add_left_shift), l.in2_mult, l.in2_shift);
            int32_t v = tm_mbqm(s1 + s2, l.out_mult, l.out_shift) + l.out_zp;
            ((int8_t *)l.y)[i] = (int8_t)tm_clampi(v, l.act_min, l.act_max);
        } else {
            float v = __fadd_rn((float)a[i], (float)c[i]);
            ((float *)l.y)[i] = tm_clampf(v, l.act_min_f, l.act_max_f);
        }
    }
}

/* softmax of tinyml_ref.c, in double from the dequantized input, one
 * thread per item. int8 output: scale 1/256, zero point -128. The GPU's
 * double exp is within 1 ulp of libm's; a difference could only move the
 * int8 result where p * 256 lies within ~1e-16 of a half-integer. */
template <typename T> __global__ void k_softmax(tm_dev_layer l, int batch)
{
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch)
        return;
    const T *in = (const T *)l.x + (size_t)b * l.in_elems;
    int n = l.in_c;
    double mx = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) {
        double v = l.q ? (double)l.in_scale * ((int32_t)in[i] - l.in_zp) : (double)in[i];
        mx = v > mx ? v : mx;
    }
    for (int i = 0; i < n; i++) {
        double v = l.q ? (double)l.in_scale * ((int32_t)in[i] - l.in_zp) : (double)in[i];
        sum += exp(v - mx);
    }
    for (int i = 0; i < n; i++) {
        double v = l.q ? (double)l.in_scale * ((int32_t)in[i] - l.in_zp) : (double)in[i];
        double p = exp(v - mx) / sum;
        size_t o = (size_t)b * l.out_elems + i;
        if (l.q)
            ((int8_t *)l.y)[o] = (int8_t)tm_clampi((int32_t)lround(p * 256.0) - 128, -128, 127);
        else
            ((float *)l.y)[o] = (float)p;
    }
}

/* Tiled conv and fully connected (tinyml_tile.h): one 64 x 64 tile of
 * the product per block. The accumulators are a union, int8's or fp32's
 * sum; both live in registers once the loops are unrolled. */
__global__ void __launch_bounds__(JB_TM_TILE_THREADS) k_gemm_tiled(tm_dev_layer l,
                                                                    jb_tm_gemm_geom g)
{
    __shared__ jb_tm_sv as[JB_TM_GEMM_TK][JB_TM_GEMM_TM + 1];
    __shared__ jb_tm_sv ws[JB_TM_GEMM_TK][JB_TM_GEMM_TN + 1];
    int m0 = (int)blockIdx.x * JB_TM_GEMM_TM, n0 = (int)blockIdx.y * JB_TM_GEMM_TN;
    int tid = (int)threadIdx.x;
    jb_tm_sv acc[JB_TM_GEMM_R][JB_TM_GEMM_R];
#pragma unroll
    for (int i = 0; i < JB_TM_GEMM_R; i++)
#pragma unroll
        for (int j = 0; j < JB_TM_GEMM_R; j++)
            acc[i][j].i = 0;
    for (int k0 = 0; k0 < g.K; k0 += JB_TM_GEMM_TK) {
        jb_tm_gemm_load(&l, &g, m0, n0, k0, tid, as, ws);
        __syncthreads();
        jb_tm_gemm_mac(&l, &g, k0, tid, as, ws, acc);
        __syncthreads();
    }
    jb_tm_gemm_store(&l, &g, m0, n0, tid, acc);
}

/* Tiled depthwise: input tile with halo and filters in dynamic shared
 * memory (jb_tm_dw_smem_values of them). */
__global__ void __launch_bounds__(JB_TM_TILE_THREADS) k_dw_tiled(tm_dev_layer l)
{
    extern __shared__ jb_tm_sv sm[];
    jb_tm_dw_tile t = jb_tm_dw_tile_of(&l, blockIdx.x);
    jb_tm_dw_load(&l, t, (int)threadIdx.x, sm);
    __syncthreads();
    jb_tm_dw_compute(&l, t, (int)threadIdx.x, sm);
}

/* Whether the tiled kernel takes this layer: conv and FC always (every
 * size is tiled, edges masked), depthwise where its tile fits in shared
 * memory and the grid in one dimension. */
static int tiled_takes(const tm_dev_layer &l, int batch)
{
    if (l.op == JB_TM_CONV || l.op == JB_TM_FC) {
        jb_tm_gemm_geom g = jb_tm_gemm_geom_of(&l, batch);
        unsigned gx, gy;
        jb_tm_gemm_grid(&g, &gx, &gy);
        /* M and K in int, the grid's y under 65536 */
        return (size_t)batch * (size_t)l.out_h * (size_t)l.out_w < (1u << 30) && gy < 65536;
    }
    if (l.op == JB_TM_DWCONV)
        return jb_tm_dw_smem_values(&l) > 0 &&
               (size_t)batch * l.out_h * l.out_w * l.out_c < (1u << 30);
    return 0;
}

/* A layer on the tiled kernels; false where tiled_takes says no. */
static bool launch_tiled(const tm_dev_layer &l, int batch, cudaStream_t s)
{
    if (!tiled_takes(l, batch))
        return false;
    if (l.op == JB_TM_DWCONV) {
        size_t smem = jb_tm_dw_smem_values(&l) * sizeof(jb_tm_sv);
        k_dw_tiled<<<jb_tm_dw_blocks(&l, batch), JB_TM_TILE_THREADS, smem, s>>>(l);
        return true;
    }
    jb_tm_gemm_geom g = jb_tm_gemm_geom_of(&l, batch);
    unsigned gx, gy;
    jb_tm_gemm_grid(&g, &gx, &gy);
    k_gemm_tiled<<<dim3(gx, gy), JB_TM_TILE_THREADS, 0, s>>>(l, g);
    return true;
}

static unsigned blocks_for(size_t total, int threads)
{
    size_t b = (total + (size_t)threads - 1) / (size_t)threads;
    /* the grid-stride loops cover the rest */
    return (unsigned)(b > (1u << 20) ? (1u << 20) : b);
}

template <typename T> static void launch_layer(const tm_dev_layer &l, int batch, cudaStream_t s)
{
    size_t total = l.out_elems * (size_t)batch;
    unsigned g = blocks_for(total, TM_THREADS);
    switch (l.op) {
    case JB_TM_CONV:
        k_conv<T><<<g, TM_THREADS, 0, s>>>(l, total);
        break;
    case JB_TM_DWCONV:
        k_dwconv<T><<<g, TM_THREADS, 0, s>>>(l, total);
        break;
    case JB_TM_FC:
        k_fc<T><<<g, TM_THREADS, 0, s>>>(l, total);
        break;
    case JB_TM_AVGPOOL:
    case JB_TM_MAXPOOL:
        k_pool<T><<<g, TM_THREADS, 0, s>>>(l, total);
        break;
    case JB_TM_ADD:
        k_add<T><<<g, TM_THREADS, 0, s>>>(l, total);
        break;
    case JB_TM_SOFTMAX:
        k_softmax<T>
            <<<blocks_for((size_t)batch, TM_SOFTMAX_THREADS), TM_SOFTMAX_THREADS, 0, s>>>(l, batch);
        break;
    }
}

/* Enqueues the whole model on the handle's stream. check: look for a
 * launch error after each layer (not during graph capture, where a launch
 * error surfaces at EndCapture). */
static int enqueue_model(struct jb_cuda_tinyml *t, int check, char *err, size_t errlen)
{
    for (int i = 0; i < t->n; i++) {
        if (t->tiled && launch_tiled(t->layers[i], t->batch, t->stream)) {
            /* launched */
        } else if (t->q) {
            launch_layer<int8_t>(t->layers[i], t->batch, t->stream);
        } else {
            launch_layer<float>(t->layers[i], t->batch, t->stream);
        }
        if (check) {
            cudaError_t e = cudaGetLastError();
            if (e != cudaSuccess)
                return jb_err(err, errlen, jb_cuda_status_code((int)e),
                              "cuda: tinyml layer %d (op %d): %s", i, t->layers[i].op,
                              cudaGetErrorString(e));
        }
    }
    return 0;
}

static size_t weight_elems(const struct jb_tm_layer *l)
{
    switch (l->op) {
    case JB_TM_CONV:
        return (size_t)l->out_c * l->k_h * l->k_w * l->in_c;
    case JB_TM_DWCONV:
        return (size_t)l->k_h * l->k_w * l->out_c;
    case JB_TM_FC:
        return (size_t)l->in_c * l->out_c;
    default:
        return 0;
    }
}

/* cudaMalloc + copy of n bytes from host (src NULL: allocation only). */
static int upload(struct jb_cuda_tinyml *t, const void *src, size_t n, void **dst, const char *what,
                  char *err, size_t errlen)
{
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n ? n : 1);
    if (e != cudaSuccess)
        return jb_err(err, errlen, jb_cuda_status_code((int)e),
                      "cuda: cudaMalloc(%s, %zu bytes): %s", what, n, cudaGetErrorString(e));
    t->allocs.push_back(p);
    if (src && n) {
        e = cudaMemcpy(p, src, n, cudaMemcpyHostToDevice);
        if (e != cudaSuccess)
            return jb_err(err, errlen, jb_cuda_status_code((int)e), "cuda: cudaMemcpy(%s): %s",
                          what, cudaGetErrorString(e));
    }
    *dst = p;
    return 0;
}

extern "C" int jb_cuda_tinyml_open(const struct jb_tm_model *m, const struct jb_cuda_tinyml_opts *o,
                                   const void *inputs, struct jb_cuda_tinyml **out, char *err,
                                   size_t errlen)
{
    int rc = 0;
    struct jb_cuda_tinyml *t = NULL;
    *out = NULL;
    if (!m || !o || !inputs)
        return jb_err(err, errlen, JB_EINVAL, "cuda tinyml: NULL model, options or inputs");
    if (o->batch < 1 || o->batch > (1 << 16))
        return jb_err(err, errlen, JB_ERANGE, "cuda tinyml: batch %d outside 1..65536", o->batch);
    if ((rc = jb_cuda_probe(o->device, NULL, err, errlen)))
        return rc;
    t = new (std::nothrow) jb_cuda_tinyml();
    if (!t)
        return jb_err(err, errlen, JB_ENOMEM, "cuda tinyml: out of host memory");
    t->batch = o->batch;
    t->device = o->device;
    t->use_graph = o->use_graph;
    t->tiled = o->kernels == JB_CUDA_TM_TILED;
    t->n = jb_tm_model_n_layers(m);
    t->q = jb_tm_model_dtype(m) == JB_TM_INT8;
    t->esz = jb_tm_model_elem_bytes(m);
    t->out_elems = jb_tm_model_output_elems(m);
    JB_CUDA_GO(cudaSetDevice(o->device), "cudaSetDevice");
    JB_CUDA_GO(cudaStreamCreateWithFlags(&t->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    JB_CUDA_GO(cudaEventCreate(&t->ev0), "cudaEventCreate");
    JB_CUDA_GO(cudaEventCreate(&t->ev1), "cudaEventCreate");
    /* every tensor of the graph for the whole batch: at most a few tens of
     * MB per tensor at batch 256, so no reuse of buffers is attempted */
    t->tensors.resize((size_t)t->n + 1);
    for (int k = 0; k <= t->n; k++) {
        size_t bytes = jb_tm_model_tensor_elems(m, k) * t->esz * (size_t)t->batch;
        if ((rc = upload(t, k == 0 ? inputs : NULL, bytes, &t->tensors[(size_t)k],
                         k == 0 ? "inputs" : "activations", err, errlen)))
            goto out;
    }
    t->layers.resize((size_t)t->n);
    for (int i = 0; i < t->n; i++) {
        int ti = 0, ti2 = -1;
        const struct jb_tm_layer *l = jb_tm_model_layer(m, i, &ti, &ti2);
        tm_dev_layer d = jb_tm_dev_layer_of(l, jb_tm_model_tensor_elems(m, ti),
                                            jb_tm_model_tensor_elems(m, i + 1));
        /* the host arrays stay behind: the device copies come below */
        d.w = d.b = NULL;
        d.mult = d.shift = NULL;
        d.x = t->tensors[(size_t)ti];
        d.x2 = ti2 >= 0 ? t->tensors[(size_t)ti2] : NULL;
        d.y = t->tensors[(size_t)i + 1];
        size_t nw = weight_elems(l);
        if (nw) {
            void *p = NULL;
            if ((rc = upload(t, l->weights, nw * t->esz, &p, "weights", err, errlen)))
                goto out;
            d.w = p;
            if ((rc = upload(t, l->bias, (size_t)l->out_c * 4, &p, "bias", err, errlen)))
                goto out;
            d.b = p;
            if (d.q) {
                if ((rc = upload(t, l->mult, (size_t)l->out_c * 4, &p, "multipliers", err, errlen)))
                    goto out;
                d.mult = (const int32_t *)p;
                if ((rc = upload(t, l->shift, (size_t)l->out_c * 4, &p, "shifts", err, errlen)))
                    goto out;
                d.shift = (const int32_t *)p;
            }
        }
        t->layers[(size_t)i] = d;
        t->n_tiled += t->tiled && tiled_takes(d, t->batch);
    }
    /* the uploads ran on the legacy default stream, which a non-blocking
     * stream does not wait for (and a pageable cudaMemcpy may return before
     * its DMA lands): let them finish before the first pass reads them */
    JB_CUDA_GO(cudaDeviceSynchronize(), "uploading the model");
    /* one eager pass: every launch checked, and valid outputs at once */
    if ((rc = enqueue_model(t, 1, err, errlen)))
        goto out;
    JB_CUDA_GO(cudaStreamSynchronize(t->stream), "first tinyml pass");
    if (t->use_graph) {
        JB_CUDA_GO(cudaStreamBeginCapture(t->stream, cudaStreamCaptureModeThreadLocal),
                   "cudaStreamBeginCapture");
        rc = enqueue_model(t, 0, err, errlen);
        {
            cudaError_t e = cudaStreamEndCapture(t->stream, &t->graph);
            if (!rc && e != cudaSuccess)
                rc = jb_err(err, errlen, jb_cuda_status_code((int)e), "cuda: graph capture: %s",
                            cudaGetErrorString(e));
        }
        if (rc)
            goto out;
        JB_CUDA_GO(cudaGraphInstantiate(&t->gexec, t->graph, 0), "cudaGraphInstantiate");
    }
    if (t->tiled)
        snprintf(t->kernel, sizeof(t->kernel), "cuda-tiled-%d/%d%s", t->n_tiled, t->n,
                 t->use_graph ? "+graph" : "");
    else
        snprintf(t->kernel, sizeof(t->kernel), "cuda-thread-per-output%s",
                 t->use_graph ? "+graph" : "");
    *out = t;
    return 0;
out:
    jb_cuda_tinyml_close(t);
    return rc;
}

extern "C" void jb_cuda_tinyml_close(struct jb_cuda_tinyml *t)
{
    if (!t)
        return;
    if (t->stream)
        cudaStreamSynchronize(t->stream);
    if (t->gexec)
        cudaGraphExecDestroy(t->gexec);
    if (t->graph)
        cudaGraphDestroy(t->graph);
    for (void *p : t->allocs)
        cudaFree(p);
    if (t->ev0)
        cudaEventDestroy(t->ev0);
    if (t->ev1)
        cudaEventDestroy(t->ev1);
    if (t->stream)
        cudaStreamDestroy(t->stream);
    delete t;
}

extern "C" int jb_cuda_tinyml_run(struct jb_cuda_tinyml *t, double *gpu_s, char *err, size_t errlen)
{
    int rc = 0;
    float ms = 0.0f;
    JB_CUDA_GO(cudaEventRecord(t->ev0, t->stream), "cudaEventRecord");
    if (t->use_graph)
        JB_CUDA_GO(cudaGraphLaunch(t->gexec, t->stream), "cudaGraphLaunch");
    else if ((rc = enqueue_model(t, 1, err, errlen)))
        goto out;
    JB_CUDA_GO(cudaEventRecord(t->ev1, t->stream), "cudaEventRecord");
    /* synchronous, so the caller's clocks and energy readings bracket it */
    JB_CUDA_GO(cudaEventSynchronize(t->ev1), "tinyml pass");
    JB_CUDA_GO(cudaEventElapsedTime(&ms, t->ev0, t->ev1), "cudaEventElapsedTime");
    if (gpu_s)
        *gpu_s = (double)ms * 1e-3;
out:
    return rc;
}

extern "C" int jb_cuda_tinyml_output(struct jb_cuda_tinyml *t, int item, void *dst, char *err,
                                     size_t errlen)
{
    int rc = 0;
    size_t bytes = t->out_elems * t->esz;
    if (item < 0 || item >= t->batch)
        return jb_err(err, errlen, JB_ERANGE, "cuda tinyml: item %d outside 0..%d", item,
                      t->batch - 1);
    JB_CUDA_GO(cudaMemcpy(dst, (const uint8_t *)t->tensors[(size_t)t->n] + bytes * (size_t)item,
                          bytes, cudaMemcpyDeviceToHost),
               "cudaMemcpy(output)");
out:
    return rc;
}

extern "C" const char *jb_cuda_tinyml_kernel(const struct jb_cuda_tinyml *t)
{
    return t->kernel;
}
