/* tinyml_model.h: the four MLPerf Tiny reference models as layer graphs,
 * built from a seed into runnable fp32 or int8 networks.
 *
 * A model definition (tinyml_defs.c) is a table of layers as the MLPerf
 * Tiny Keras sources define them, batch norm folded. jb_tm_model_open
 * draws the weights from the seed, calibrates activation ranges by running
 * the fp32 model on a few seeded inputs, quantizes (int8: TFLite scheme) and
 * prepares the optimized kernels. Running is one item at a time, on a
 * caller-provided arena, so that several threads can share one model. */
#ifndef JB_TINYML_MODEL_H
#define JB_TINYML_MODEL_H

#include "platforms/cpu/cpu_features.h"
#include "platforms/cpu/tinyml_kernels.h"

#include <stddef.h>
#include <stdint.h>

/* How the synthetic input of a model is drawn. */
enum jb_tm_input_kind {
    JB_TM_INPUT_IMAGE = 0, /* RGB in [0, 1]: smooth pattern plus noise */
    JB_TM_INPUT_MFCC,      /* MFCC-like: large coefficient 0, decaying higher ones */
    JB_TM_INPUT_LOGMEL     /* log-mel frames: per-band level plus noise */
};

/* One layer of a definition. Tensor 0 is the model input; layer i writes
 * tensor i + 1. in/in2 name input tensors; JB_TM_PREV is the previous one. */
#define JB_TM_PREV (-1)
struct jb_tm_def_layer {
    enum jb_tm_op op;
    int in, in2;
    int out_c;            /* conv, fc: output channels */
    int k_h, k_w, stride; /* conv, dwconv, pool (pool: stride_h = k_h, stride_w = k_w if 0) */
    int same;             /* TF 'same' padding (1) or 'valid' (0) */
    int relu;
    int bn; /* followed by batch norm in the Keras model */
};

struct jb_tm_model_def {
    const char *name;
    const char *title;
    int in_h, in_w, in_c;
    enum jb_tm_input_kind input;
    int n_layers;
    const struct jb_tm_def_layer *layers;
};

/* The four definitions, and lookup by workload name (NULL if unknown). */
extern const struct jb_tm_model_def jb_tm_kws_dscnn, jb_tm_vww_mobilenet, jb_tm_ic_resnet8,
    jb_tm_ad_autoencoder;
const struct jb_tm_model_def *jb_tm_model_def_find(const char *name);

/* Work per inference, from the layer table alone. */
struct jb_tm_counts {
    double macs;
    double flops;            /* 2 per MAC plus bias, pooling and add operations */
    double params;           /* weights + biases after batch-norm folding */
    double keras_params;     /* params + 4 per batch-norm channel: Keras' "Total params" */
    double param_bytes;      /* weight and bias bytes read per inference in this dtype */
    double activation_bytes; /* bytes of every layer's inputs read and outputs written */
};

struct jb_tm_model;

/* Builds a model. dtype: JB_TM_INT8 or JB_TM_FP32; isa: the optimized
 * path's instruction set (JB_ISA_REFERENCE: the reference kernels). */
int jb_tm_model_open(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype, uint64_t seed,
                     enum jb_isa isa, struct jb_tm_model **out, char *err, size_t errlen);
void jb_tm_model_close(struct jb_tm_model *m);

/* The same model (graph, weights, quantization, input: whatever it was
 * built from) with its optimized kernels prepared for isa: how a back-end
 * computes exactly the model layer's model. The result borrows m's weights:
 * close it before m. 0 or an error. */
int jb_tm_model_reopen(const struct jb_tm_model *m, enum jb_isa isa, struct jb_tm_model **out,
                       char *err, size_t errlen);

/* Counts from a definition (no model needed) for a dtype. */
int jb_tm_def_counts(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype,
                     struct jb_tm_counts *out, char *err, size_t errlen);

const struct jb_tm_counts *jb_tm_model_counts(const struct jb_tm_model *m);
enum jb_isa jb_tm_model_isa(const struct jb_tm_model *m);
size_t jb_tm_model_input_elems(const struct jb_tm_model *m);
size_t jb_tm_model_output_elems(const struct jb_tm_model *m);
size_t jb_tm_model_elem_bytes(const struct jb_tm_model *m);
/* Bytes of the per-thread arena jb_tm_model_run needs (all tensors and the
 * kernels' scratch), a multiple of 64. */
size_t jb_tm_model_arena_bytes(const struct jb_tm_model *m);

/* The layer graph, for other back-ends (platforms/cuda) that run the same
 * model on its own weights and quantization: the number of layers; layer i
 * (borrowed, valid until jb_tm_model_close), with the tensors it reads in
 * *in_tensor and *in2_tensor (-1 when none; tensor 0 is the model input,
 * layer i writes tensor i + 1); the elements of tensor t of one item. */
int jb_tm_model_n_layers(const struct jb_tm_model *m);
const struct jb_tm_layer *jb_tm_model_layer(const struct jb_tm_model *m, int i, int *in_tensor,
                                            int *in2_tensor);
size_t jb_tm_model_tensor_elems(const struct jb_tm_model *m, int t);
enum jb_tm_dtype jb_tm_model_dtype(const struct jb_tm_model *m);
/* The model's definition (for a model read from a file: its name, input
 * shape and kind, no layer table); borrowed, valid until close. */
const struct jb_tm_model_def *jb_tm_model_get_def(const struct jb_tm_model *m);
/* sha256 (hex) of the file the model was read from; NULL for synthetic. */
const char *jb_tm_model_sha256(const struct jb_tm_model *m);
/* int8: the quantization of the model's input and output tensors
 * (real = scale * (q - zero point)); fp32: 0 and whatever *zero_point. */
float jb_tm_model_input_scale(const struct jb_tm_model *m, int32_t *zero_point);
float jb_tm_model_output_scale(const struct jb_tm_model *m, int32_t *zero_point);

/* A model from a TFLite file made of the operators the kernels run
 * (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D,
 * MAX_POOL_2D, ADD, SOFTMAX, RESHAPE), int8 (TFLite's integer scheme:
 * per-channel weights, int32 bias, multipliers derived from the file's
 * scales as TFLite derives them) or fp32, batch 1 (tinyml_tflite.c).
 * name: the model's name in messages and records; input: the kind of
 * synthetic input to draw, and input_gain the factor from its range to the
 * range the model was trained on (1: as drawn). Errors: those of
 * jb_tfl_load, JB_ENOTSUP naming an unsupported operator or feature,
 * JB_EFORMAT for a graph that is inconsistent. */
int jb_tm_model_open_tflite(const char *path, const char *name, enum jb_tm_input_kind input,
                            float input_gain, enum jb_isa isa, struct jb_tm_model **out,
                            char *err, size_t errlen);
/* The same from n bytes in memory (the fuzz target, tests). */
int jb_tm_model_open_tflite_buf(const uint8_t *buf, size_t n, const char *name,
                                enum jb_tm_input_kind input, float input_gain, enum jb_isa isa,
                                struct jb_tm_model **out, char *err, size_t errlen);

/* The model's input for item `item` of `seed`, in the model's dtype (int8:
 * quantized with the calibrated input scale). 0 or JB_ENOMEM. */
int jb_tm_model_make_input(const struct jb_tm_model *m, uint64_t seed, uint64_t item, void *dst);

/* One inference: reference != 0 runs the reference kernels, else the
 * optimized ones. arena: jb_tm_model_arena_bytes(), 64-byte aligned. */
void jb_tm_model_run(const struct jb_tm_model *m, int reference, const void *in, void *out,
                     void *arena);

/* The same, for callers outside the workload: checks the input's shape
 * (h x w x c) and allocates the arena. JB_EINVAL on a wrong shape. */
int jb_tm_model_infer(const struct jb_tm_model *m, int h, int w, int c, const void *in, void *out,
                      char *err, size_t errlen);

#endif
