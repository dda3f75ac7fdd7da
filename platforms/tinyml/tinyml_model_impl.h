/* tinyml_model_impl.h: private to workloads/tinyml. The inside of struct
 * jb_tm_model, shared by the two ways a model is built: from a definition
 * and a seed (tinyml_model.c, synthetic weights) and from a TFLite file
 * (tinyml_tflite.c, trained weights). Both fill the same graph, so every
 * back-end that runs one runs the other. */
#ifndef JB_TINYML_MODEL_IMPL_H
#define JB_TINYML_MODEL_IMPL_H

#include "platforms/tinyml/tinyml_model.h"

#include <stddef.h>
#include <stdint.h>

/* Tensors of a graph (the input and one per layer): the MLPerf Tiny models
 * have at most 31 layers. */
#define JB_TM_MAX_TENSORS 64

struct jb_tm_tshape {
    int h, w, c;
};

struct jb_tm_model {
    const struct jb_tm_model_def *def; /* the definition, or own_def for a file */
    enum jb_tm_dtype dtype;
    enum jb_isa isa;
    int n; /* layers */
    struct jb_tm_tshape shape[JB_TM_MAX_TENSORS];
    int in_of[JB_TM_MAX_TENSORS], in2_of[JB_TM_MAX_TENSORS];
    struct jb_tm_layer *layers;
    struct jb_tm_kernel **kernels;
    /* owned storage, per layer */
    float **wf, **bf;
    int8_t **wq;
    int32_t **bq, **mult, **shift;
    float t_scale[JB_TM_MAX_TENSORS];
    int32_t t_zp[JB_TM_MAX_TENSORS];
    size_t t_off[JB_TM_MAX_TENSORS]; /* arena offsets */
    size_t scratch_off, arena_bytes;
    struct jb_tm_counts counts;
    /* a model read from a file: its definition (name, input shape and kind;
     * no layer table), the factor that maps the synthetic input's range to
     * the one the model was trained on, and the file's sha256 */
    struct jb_tm_model_def own_def;
    char own_name[64];
    float input_gain;
    char sha256[65];
};

/* Allocates the per-layer arrays of a model of n layers (m->n = n).
 * 0 or JB_ENOMEM. */
int jb_tm_model_alloc_layers(struct jb_tm_model *m, int n, char *err, size_t errlen);

/* Once the graph, weights and quantization are filled in: lays out the
 * arena and builds the optimized kernels for isa. 0 or an error. */
int jb_tm_model_finish(struct jb_tm_model *m, enum jb_isa isa, char *err, size_t errlen);

#endif
