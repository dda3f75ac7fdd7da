/* tflite_write.h: writes small TFLite flatbuffers for the tests (the
 * reader's unit tests, the fuzz corpus generator): a model of one subgraph
 * whose tensors, operators and builtin options are given as plain structs.
 * The layout is valid flatbuffer (every offset points forward, scalars and
 * vectors aligned to their size), so other readers accept it too. */
#ifndef JB_TEST_TFLITE_WRITE_H
#define JB_TEST_TFLITE_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct tfw_tensor {
    const char *name;
    int type; /* TensorType */
    int rank;
    int shape[4];
    const void *data; /* constant data or NULL */
    size_t data_bytes;
    int n_q; /* quantization entries (0: none) */
    const float *scale;
    const int64_t *zero_point;
    int q_dim;
};

/* An operator; opts are the option table's fields in schema order, each
 * stored as a 32-bit slot (bytes and bools in its low byte, floats as their
 * bits); opt_type is the BuiltinOptions union type (0: no options). */
struct tfw_op {
    int opcode;
    int n_in;
    int in[3];
    int out;
    int opt_type;
    int n_opts;
    uint32_t opts[8];
    int opt_is_byte[8]; /* 1: the field is a byte (a 1-byte scalar) */
};

struct tfw_model {
    int n_tensors;
    const struct tfw_tensor *tensors;
    int n_ops;
    const struct tfw_op *ops;
    int input, output;
    int n_extra_inputs; /* 0 or 1: a second subgraph input, extra_input */
    int extra_input;
};

/* The file's bytes (malloc'd, the caller frees) and their count. */
uint8_t *tfw_write(const struct tfw_model *m, size_t *len);

/* Example models (the tests and the fuzz corpus use them).
 * tfw_example_fc: int8 input [1,4] (scale 0.5, zero point 3), one operator
 * `opcode` (FULLY_CONNECTED for a valid model) with FC options of fused
 * activation `act`, weights tfw_fc_w [3][4] at per-channel scales
 * tfw_fc_w_scale, bias tfw_fc_b, output [1,3] (scale 0.25, zero point -10).
 * tfw_example_mixed: int8 [1,6,6,2] -> first_opcode (CONV_2D 3x3 stride 2,
 * per-channel, RELU, dilation as given) -> DEPTHWISE_CONV_2D 3x3 (filter
 * [1,3,3,depth_mult_channels]; 4 is a depth multiplier of 1) RELU6 -> ADD
 * of both -> AVERAGE_POOL_2D 3x3 -> RESHAPE -> FULLY_CONNECTED to 3 ->
 * SOFTMAX. */
extern const float tfw_fc_w_scale[3];
extern const int8_t tfw_fc_w[12];
extern const int32_t tfw_fc_b[3];
uint8_t *tfw_example_fc(size_t *len, int opcode, int act);
uint8_t *tfw_example_mixed(size_t *len, int dilation, int depth_mult_channels, int first_opcode);

/* A model of some operators of a parsed file: ops[0..n_ops) (indices into
 * f->ops, in order), the subgraph inputs inputs[0..n_inputs) (1 or 2) and
 * output; every tensor of f is kept (unused ones are harmless). Options of
 * the operators joulebench reads are written back. */
struct jb_tfl_model;
uint8_t *tfw_from_tfl(const struct jb_tfl_model *f, const int *ops, int n_ops, const int *inputs,
                      int n_inputs, int output, size_t *len);

/* Writes bytes to path; 0 or -1. */
int tfw_save(const char *path, const uint8_t *b, size_t n);

#endif
