/* fma_avx2.c: the FMA chain on AVX2, 12 accumulators: two FMA pipes with a
 * latency of 4-5 cycles need at least 10 independent chains in flight. */
#include "platforms/cpu/fma_kernels.h"

#include <immintrin.h>

void jb_fma_chain_avx2(float *x, long iters, float a, float b)
{
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
    __m256 r[12];
    for (int k = 0; k < 12; k++)
        r[k] = _mm256_loadu_ps(x + 8 * k);
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 12; k++)
            r[k] = _mm256_fmadd_ps(r[k], va, vb);
    for (int k = 0; k < 12; k++)
        _mm256_storeu_ps(x + 8 * k, r[k]);
}
