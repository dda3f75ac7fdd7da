/* fma_ref.c: the portable FMA chain (fmaf rounds once, as the vector FMA
 * instructions do, so this is also the reference for their results). */
#include "platforms/cpu/fma_kernels.h"

#include <math.h>

void jb_fma_chain_ref(float *x, long iters, float a, float b)
{
    for (long i = 0; i < iters; i++)
        for (int l = 0; l < JB_FMA_LANES_REF; l++)
            x[l] = fmaf(x[l], a, b);
}
