/* llm_kquant_kernels.h: the portable k-quant row dot products (q4_K, q5_K,
 * q6_K rows against a q8_K activation), shared by the reference kernel table
 * and the vector tables' fallbacks. Private to platforms/cpu. */
#ifndef JB_LLM_KQUANT_KERNELS_H
#define JB_LLM_KQUANT_KERNELS_H

#include "platforms/llm/llm_format.h"

/* Row . x over nb superblocks, the integer sums exact and one float multiply
 * per superblock (d_w * d_x), as every vector path computes it. */
float jb_llm_dot_q4_K_ref(const struct jb_block_q4_K *w, const struct jb_block_q8_K *x, int nb);
float jb_llm_dot_q5_K_ref(const struct jb_block_q5_K *w, const struct jb_block_q8_K *x, int nb);
float jb_llm_dot_q6_K_ref(const struct jb_block_q6_K *w, const struct jb_block_q8_K *x, int nb);

#endif
