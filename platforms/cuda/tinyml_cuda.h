/* tinyml_cuda.h: the four MLPerf Tiny models (workloads/tinyml) on an
 * NVIDIA GPU, in int8 and fp32, for a batch of items at once.
 *
 * The GPU runs the very model the CPU reference runs: the layer graph,
 * weights, biases and quantization parameters are read from an opened
 * struct jb_tm_model and uploaded once. By default the kernels are the plain ones (one
 * thread per output element, the whole batch in one launch per layer)
 * written to the arithmetic of platforms/cpu/tinyml_ref.c: int8 accumulates
 * (x - zero point) * w in int32 and requantizes with the same gemmlowp
 * fixed-point rounding, so its output is bit-exact with the reference;
 * fp32 sums in the reference's order without fused multiply-add, so it
 * stays within JB_TM_F32_RTOL of it (in practice equal, except where the
 * double exp of the GPU's softmax differs from libm's in the last place).
 * The whole model is one CUDA graph replayed per run (at batch 1 these
 * models are a few microseconds of work per layer, less than a launch).
 * Only compiled when JB_HAVE_CUDA is defined (platforms/cuda/cuda.cmake). */
#ifndef JB_TINYML_CUDA_H
#define JB_TINYML_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "platforms/tinyml/tinyml_model.h"

struct jb_cuda_tinyml;

/* Which kernels run conv, depthwise and fully connected layers. */
enum jb_cuda_tm_kernels {
    JB_CUDA_TM_PLAIN = 0, /* one thread per output (the default: verified on H100 and H200) */
    JB_CUDA_TM_TILED = 1  /* shared-memory tiles (tinyml_tile.h); pool, add and softmax
                           * stay plain, as does a depthwise layer whose tile would not
                           * fit in shared memory */
};

struct jb_cuda_tinyml_opts {
    int batch;     /* items per run, 1..65536 */
    int device;    /* CUDA ordinal */
    int use_graph; /* 1: replay the model as one CUDA graph; 0: launch layer by layer */
    enum jb_cuda_tm_kernels kernels;
};

/* Uploads the model m (only read during this call: the handle keeps no
 * pointer to it) and the batch's inputs (batch items of the model's input,
 * in its dtype, item after item), runs the model once eagerly (every launch
 * checked) and captures the graph. JB_ENOTSUP without a GPU or driver,
 * JB_ENOMEM when the tensors do not fit. *out is owned by the caller and
 * released with jb_cuda_tinyml_close. */
int jb_cuda_tinyml_open(const struct jb_tm_model *m, const struct jb_cuda_tinyml_opts *o,
                        const void *inputs, struct jb_cuda_tinyml **out, char *err, size_t errlen);
void jb_cuda_tinyml_close(struct jb_cuda_tinyml *t);

/* One inference of every item of the batch, synchronous (returns when the
 * GPU has finished, so host-clock and energy readings around it bracket the
 * work). *gpu_s gets the time between CUDA events around it (may be NULL). */
int jb_cuda_tinyml_run(struct jb_cuda_tinyml *t, double *gpu_s, char *err, size_t errlen);

/* Copies the output of item `item` of the last run (the model's output
 * elements, in its dtype) to dst. */
int jb_cuda_tinyml_output(struct jb_cuda_tinyml *t, int item, void *dst, char *err, size_t errlen);

/* What was built: "cuda-thread-per-output", or "cuda-tiled-T/N" (T of the
 * model's N layers on tiled kernels), plus "+graph" when graphed. */
const char *jb_cuda_tinyml_kernel(const struct jb_cuda_tinyml *t);

#ifdef __cplusplus
}
#endif

#endif
