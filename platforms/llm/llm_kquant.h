/* llm_kquant.h: the k-quant rows of jb_llm_quantize_row and
 * jb_llm_dequantize_row (llm_format.h), in their own file (llm_kquant.c).
 * Private to platforms/llm: everyone else calls the two llm_format.h
 * functions. */
#ifndef JB_LLM_KQUANT_H
#define JB_LLM_KQUANT_H

#include "platforms/llm/llm_format.h"

/* n a multiple of 256; dtype one of Q4_K, Q5_K, Q6_K, Q8_K (others: no-op). */
void jb_llm_kquant_quantize(enum jb_llm_dtype dtype, const float *src, void *dst, int n);
void jb_llm_kquant_dequantize(enum jb_llm_dtype dtype, const void *src, float *dst, int n);

#endif
