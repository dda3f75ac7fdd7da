/* tinyml_synth.h: synthetic weights and inputs of the TinyML models (see
 * tinyml_synth.c), private to workloads/tinyml. */
#ifndef JB_TINYML_SYNTH_H
#define JB_TINYML_SYNTH_H

#include "platforms/tinyml/tinyml_model.h"

#include <stdint.h>

/* fp32 input of item `item` for a model definition. */
void jb_tm_synth_input(const struct jb_tm_model_def *def, uint64_t seed, uint64_t item, float *x);

/* fp32 weights (layout of tinyml_kernels.h) and bias of layer i (conv,
 * dwconv or fc) of `model`, batch norm folded. */
void jb_tm_synth_weights(const struct jb_tm_layer *l, const char *model, uint64_t seed, int i,
                         float *w, float *b);

#endif
