/* tflite.h: a reader of TFLite model files (the flatbuffer format of
 * tensorflow/lite/schema/schema.fbs, file identifier "TFL3"), for the subset
 * the MLPerf Tiny reference models use: one subgraph, its tensors (shape,
 * type, per-tensor or per-channel quantization, constant data), the operator
 * list with the builtin options of the operators joulebench runs.
 *
 * The file is outside input: every offset, length and index is checked
 * against the file's size before it is followed, so a malformed file is an
 * error naming what is wrong and where (its byte offset), never a read out
 * of bounds. What is read is copied into the model, which owns it; nothing
 * points into the caller's buffer after jb_tfl_parse returns. Which graphs
 * can run is decided elsewhere (tinyml_tflite.c); this file only reads. */
#ifndef JB_TFLITE_H
#define JB_TFLITE_H

#include <stddef.h>
#include <stdint.h>

/* TensorType values of schema.fbs used here. */
enum jb_tfl_type {
    JB_TFL_FLOAT32 = 0,
    JB_TFL_INT32 = 2,
    JB_TFL_UINT8 = 3,
    JB_TFL_INT64 = 4,
    JB_TFL_INT16 = 7,
    JB_TFL_INT8 = 9
};

/* BuiltinOperator values of schema.fbs that joulebench runs. */
enum jb_tfl_opcode {
    JB_TFL_ADD = 0,
    JB_TFL_AVERAGE_POOL_2D = 1,
    JB_TFL_CONV_2D = 3,
    JB_TFL_DEPTHWISE_CONV_2D = 4,
    JB_TFL_FULLY_CONNECTED = 9,
    JB_TFL_MAX_POOL_2D = 17,
    JB_TFL_RESHAPE = 22,
    JB_TFL_SOFTMAX = 25
};

/* ActivationFunctionType of schema.fbs. */
enum jb_tfl_act {
    JB_TFL_ACT_NONE = 0,
    JB_TFL_ACT_RELU = 1,
    JB_TFL_ACT_RELU_N1_TO_1 = 2,
    JB_TFL_ACT_RELU6 = 3,
    JB_TFL_ACT_TANH = 4,
    JB_TFL_ACT_SIGN_BIT = 5
};

#define JB_TFL_MAX_RANK 6
#define JB_TFL_MAX_OP_IO 8

struct jb_tfl_tensor {
    char name[64]; /* cut to fit */
    int type;      /* enum jb_tfl_type, or another TensorType value */
    int rank;      /* 0..JB_TFL_MAX_RANK */
    int shape[JB_TFL_MAX_RANK];
    size_t elems; /* product of shape (1 for rank 0) */
    /* quantization: n_q entries (0: none; 1: per tensor; else per channel
     * along dimension q_dim) */
    int n_q, q_dim;
    float *scale;
    int64_t *zero_point; /* n_q entries; absent in the file reads as 0 */
    /* constant data (weights, biases), NULL for activations; data_bytes is
     * checked to equal elems times the type's size */
    uint8_t *data;
    size_t data_bytes;
};

struct jb_tfl_op {
    int opcode;  /* BuiltinOperator value (enum jb_tfl_opcode for known ones) */
    int version; /* operator version of the OperatorCode */
    int n_in, n_out;
    int in[JB_TFL_MAX_OP_IO]; /* tensor indices, -1: optional input absent */
    int out[JB_TFL_MAX_OP_IO];
    /* builtin options, defaults as schema.fbs when absent */
    int padding_same; /* Padding: SAME (1) or VALID (0) */
    int stride_w, stride_h, dilation_w, dilation_h;
    int filter_w, filter_h; /* pooling */
    int depth_multiplier;
    int act;            /* enum jb_tfl_act */
    int keep_num_dims;  /* fully connected */
    int weights_format; /* fully connected: 0 default, 1 shuffled (not supported) */
    float beta;         /* softmax */
};

struct jb_tfl_model {
    uint32_t version; /* schema version (3) */
    int n_tensors, n_ops, n_inputs, n_outputs;
    struct jb_tfl_tensor *tensors;
    struct jb_tfl_op *ops;
    int *inputs, *outputs; /* tensor indices of the subgraph's inputs and outputs */
    int n_subgraphs;       /* subgraphs in the file; only the first is read */
    char sha256[65];       /* of the whole file, lowercase hex */
};

/* Parses n bytes. `name` names the file in messages. On success *out is a
 * model owned by the caller (jb_tfl_free). Errors: JB_EFORMAT (malformed:
 * the message says which structure at which byte offset), JB_ENOMEM. */
int jb_tfl_parse(const uint8_t *buf, size_t n, const char *name, struct jb_tfl_model **out,
                 char *err, size_t errlen);

/* Reads and parses a file. JB_ENOENT / JB_EIO naming the path, or as
 * jb_tfl_parse. Files over 64 MiB are refused (JB_EFORMAT): the MLPerf Tiny
 * models are at most about 1 MiB. */
int jb_tfl_load(const char *path, struct jb_tfl_model **out, char *err, size_t errlen);

void jb_tfl_free(struct jb_tfl_model *m);

/* Name of a BuiltinOperator value as schema.fbs spells it ("CONV_2D"), or
 * NULL for values this table does not list. Static storage. */
const char *jb_tfl_opcode_name(int opcode);

/* Bytes per element of a TensorType (0 for types the reader does not size). */
size_t jb_tfl_type_size(int type);

#endif
