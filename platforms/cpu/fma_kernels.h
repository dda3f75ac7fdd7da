/* fma_kernels.h: chains of dependent fused multiply-adds, x = x * a + b, over
 * enough independent lanes to keep every FMA pipe busy: the peak-arithmetic
 * calibration kernel. Each ISA has its own lane count (accumulator registers
 * x vector width, chosen so that no register spills). */
#ifndef JB_FMA_KERNELS_H
#define JB_FMA_KERNELS_H

#include <stddef.h>

#define JB_FMA_LANES_REF 16
#define JB_FMA_LANES_AVX2 96    /* 12 ymm accumulators x 8 */
#define JB_FMA_LANES_AVX512 256 /* 16 zmm accumulators x 16 */

/* x has `lanes` floats (the kernel's own lane count). */
void jb_fma_chain_ref(float *x, long iters, float a, float b);
void jb_fma_chain_avx2(float *x, long iters, float a, float b);
void jb_fma_chain_avx512(float *x, long iters, float a, float b);

#endif
