/* fma_avx512.c: the FMA chain on AVX-512, 16 accumulators of 16 floats. */
#include "platforms/cpu/fma_kernels.h"

#include <immintrin.h>

void jb_fma_chain_avx512(float *x, long iters, float a, float b)
{
    __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
    __m512 r[16];
    for (int k = 0; k < 16; k++)
        r[k] = _mm512_loadu_ps(x + 16 * k);
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 16; k++)
            r[k] = _mm512_fmadd_ps(r[k], va, vb);
    for (int k = 0; k < 16; k++)
        _mm512_storeu_ps(x + 16 * k, r[k]);
}
