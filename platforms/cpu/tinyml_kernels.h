/* tinyml_kernels.h: the layer kernels of the TinyML workloads (conv2d,
 * depthwise conv, 1x1 conv, fully connected, average/max pooling, add,
 * softmax) in int8 and fp32, with two implementations of each:
 *
 *  - the portable reference (tinyml_ref.c): plain C loops that follow the
 *    arithmetic of TFLite's reference kernels step by step; it is the oracle
 *    every other path and every output check is compared with;
 *  - the optimized path (tinyml_opt.c + tinyml_avx2.c / tinyml_avx512.c):
 *    weights repacked once at open, inner loops in AVX2 or AVX-512 VNNI
 *    intrinsics chosen at run time by jb_cpu_isa(). In int8 it must agree
 *    with the reference bit for bit; in fp32 within JB_TM_F32_RTOL.
 *
 * A layer is described by one struct jb_tm_layer (geometry, weights,
 * quantization), so that tests can build random layers and run both paths
 * on them. Tensors are NHWC, one item at a time; weights are laid out as
 * conv [out_c][k_h][k_w][in_c], depthwise [k_h][k_w][c], FC [out_c][in_c]. */
#ifndef JB_TINYML_KERNELS_H
#define JB_TINYML_KERNELS_H

#include "platforms/cpu/cpu_features.h"

#include <stddef.h>
#include <stdint.h>

/* fp32 tolerance of the optimized path against the reference: the optimized
 * kernels fuse multiply and add (one rounding instead of two), so each
 * output may differ by a few ulps per accumulated product. */
#define JB_TM_F32_RTOL 1e-4f

enum jb_tm_op {
    JB_TM_CONV = 0, /* 2-D convolution, any kernel/stride/padding (1x1 included) */
    JB_TM_DWCONV,   /* depthwise convolution, depth multiplier 1 */
    JB_TM_FC,       /* fully connected: out_c outputs from in_c inputs */
    JB_TM_AVGPOOL,  /* average pooling (TFLite: padded cells not counted) */
    JB_TM_MAXPOOL,
    JB_TM_ADD,    /* element-wise add of two tensors of one shape */
    JB_TM_SOFTMAX /* over the channels of a 1x1xC tensor */
};

enum jb_tm_dtype { JB_TM_INT8 = 0, JB_TM_FP32 = 1 };

/* One layer, fully described. Pointers are borrowed: the owner of the layer
 * keeps weights and quantization arrays alive as long as the layer is used. */
struct jb_tm_layer {
    enum jb_tm_op op;
    enum jb_tm_dtype dtype;
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int k_h, k_w, stride_h, stride_w;
    int pad_top, pad_left; /* bottom/right padding follows from the sizes */
    const void *weights;   /* int8_t or float (conv, dwconv, fc) */
    const void *bias;      /* int32_t or float, out_c entries (conv, dwconv, fc) */
    /* fp32: output clamp (ReLU: 0, +inf; none: -inf, +inf) */
    float act_min_f, act_max_f;
    /* int8: zero points of input(s) and output, output clamp */
    int32_t in_zp, in2_zp, out_zp;
    int32_t act_min, act_max;
    /* int8 conv/dwconv/fc: per-output-channel fixed-point multiplier (Q31)
     * and shift (positive: left), from the real scale in*w/out */
    const int32_t *mult;
    const int32_t *shift;
    /* int8 add (TFLite scheme): inputs shifted left by add_left_shift, then
     * rescaled by (in1_mult, in1_shift), (in2_mult, in2_shift); the sum is
     * rescaled by (out_mult, out_shift). */
    int32_t add_left_shift;
    int32_t in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    /* int8 softmax: input scale; the output is scale 1/256, zero point -128 */
    float in_scale;
};

/* Checks that a layer's geometry is consistent (sizes positive, output size
 * matching kernel, stride and padding, channel rules of the op). 0 or
 * JB_EINVAL with the reason in err. */
int jb_tm_layer_validate(const struct jb_tm_layer *l, char *err, size_t errlen);

/* Reference: runs one layer on one item. in2 is the second input of ADD
 * (NULL otherwise). */
void jb_tm_layer_run_ref(const struct jb_tm_layer *l, const void *in, const void *in2, void *out);

/* Optimized path: a layer prepared for one ISA (weights repacked, int8
 * zero-point corrections folded into the bias). Created once per layer at
 * open; run concurrently from several threads, each with its own scratch
 * buffer of jb_tm_kernel_scratch_bytes() bytes (64-byte aligned). The kernel
 * borrows the layer's quantization arrays: keep the layer's storage alive. */
struct jb_tm_kernel;

int jb_tm_kernel_create(const struct jb_tm_layer *l, enum jb_isa isa, struct jb_tm_kernel **out,
                        char *err, size_t errlen);
void jb_tm_kernel_destroy(struct jb_tm_kernel *k);
size_t jb_tm_kernel_scratch_bytes(const struct jb_tm_kernel *k);
void jb_tm_kernel_run(const struct jb_tm_kernel *k, const void *in, const void *in2, void *out,
                      void *scratch);
/* The ISA the kernel actually uses (pool, add and softmax are portable C). */
enum jb_isa jb_tm_kernel_isa(const struct jb_tm_kernel *k);

/* Quantization helpers (TFLite's conventions), used by the model builder. */
/* Real multiplier -> Q31 multiplier and shift (QuantizeMultiplier). */
void jb_tm_quantize_multiplier(double real, int32_t *mult, int32_t *shift);
/* gemmlowp's MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul
 * followed by RoundingDivideByPOT, the rounding of TFLite's reference kernels. */
int32_t jb_tm_mbqm(int32_t x, int32_t mult, int32_t shift);

#endif
