/* tinyml_workload.h: what the CPU TinyML workloads (tinyml_workload.c) and
 * the CUDA ones (platforms/cuda/tinyml_cuda_workload.c) have in common:
 * the same parameters are accepted and refused with the same words, and
 * one item's output is judged against the reference kernels the same way. */
#ifndef JB_TINYML_WORKLOAD_H
#define JB_TINYML_WORKLOAD_H

#include "workloads/tinyml/tinyml_model.h"
#include "workloads/workload.h"

#include <stddef.h>

/* Checks dtype (int8, the default, or fp32), backend (empty or `backend`),
 * and batch (1 in single-stream, 0..65536) of p, and sets *dtype. name: the
 * workload's name, for the messages. Returns 0, JB_EINVAL, JB_ENOTSUP or
 * JB_ERANGE with err filled. */
int jb_tm_workload_params(const struct jb_workload_params *p, const char *name,
                          const char *backend, enum jb_tm_dtype *dtype, char *err, size_t errlen);

/* Compares the n outputs of batch item `item` with the reference's: int8
 * bit for bit, fp32 within JB_TM_F32_RTOL * max(1, max|ref|). Returns 0 or
 * JB_ECHECK with err naming the workload, the item and the first output
 * that differs. */
int jb_tm_workload_compare(const char *name, enum jb_tm_dtype dtype, size_t item, const void *got,
                           const void *ref, size_t n, char *err, size_t errlen);

#endif
