/* tinyml_official.h: which model a TinyML workload runs. By default the
 * trained MLPerf Tiny reference model of the workload (the TFLite files of
 * mlcommons/tiny shipped in workloads/tinyml/models, int8 or fp32); with
 * the option weights=synthetic the same architecture with seeded weights
 * (tinyml_model.c); with model=FILE.tflite any TFLite file of the supported
 * operators. Shared by the CPU and CUDA workloads, so that both accept the
 * same options and label records the same way. */
#ifndef JB_TINYML_OFFICIAL_H
#define JB_TINYML_OFFICIAL_H

#include "platforms/cpu/cpu_features.h"
#include "platforms/tinyml/tinyml_model.h"

#include <stddef.h>
#include <stdint.h>

/* How the input files of MLPerf Tiny's EnergyRunner data sets are stored
 * (benchmark/evaluation/datasets/README.md of mlcommons/tiny). */
enum jb_tm_raw_format {
    JB_TM_RAW_U8_PIXELS = 0, /* vww01, ic01: U8C3 RGB, real value = byte * gain / 255 */
    JB_TM_RAW_S8_QUANT,      /* kws01: int8 at the int8 reference model's input quantization */
    JB_TM_RAW_F32_WINDOWS    /* ad01: FP32LE, windows of the model's input (sliding) */
};

/* The official model of one workload. */
struct jb_tm_official {
    const char *workload;  /* "kws-dscnn" */
    const char *benchmark; /* MLPerf Tiny's name: "kws01" */
    const char *file_int8; /* file names in the models folder */
    const char *file_fp32;
    enum jb_tm_input_kind input;
    float input_gain;          /* synthetic input's range to the trained one */
    enum jb_tm_raw_format raw; /* data set file format */
    const char *metric;        /* "top-1" or "auc" */
    double target;             /* MLPerf Tiny's quality target (a fraction) */
};

/* The entry of a workload, NULL if it has none. */
const struct jb_tm_official *jb_tm_official_find(const char *workload);

/* What a workload's model is, for records and messages. */
struct jb_tm_model_source {
    char weights[16]; /* "official", "synthetic" or "file" */
    char file[256];   /* path of the model file ("" for synthetic) */
    char sha256[65];  /* of the file ("" for synthetic) */
};

/* Opens the model a workload runs, from its options (weights=official|
 * synthetic, model=FILE; model and weights=synthetic exclude each other).
 * def: the workload's definition; the rest as jb_tm_model_open. *src tells
 * what was opened. Errors: JB_EINVAL for a bad option, those of
 * jb_tm_model_open and jb_tm_model_open_tflite. */
/* Path of an official model file (dtype's) in the models folder; 0 or
 * JB_ENOENT (dst then names where it was expected). */
int jb_tm_official_path(const struct jb_tm_official *off, enum jb_tm_dtype dtype, char *dst,
                        size_t n);

int jb_tm_workload_model_open(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype,
                              const char *options, uint64_t seed, enum jb_isa isa,
                              struct jb_tm_model **out, struct jb_tm_model_source *src, char *err,
                              size_t errlen);

/* The TinyML workloads' validate hook (workload.h): dtype, weights=,
 * model= (the file is read and its graph built), dataset= (its
 * y_labels.csv exists) for workload def. A malformed or unsupported model
 * is JB_EINVAL, a missing file or folder JB_ENOENT. */
int jb_tm_workload_validate(const struct jb_tm_model_def *def, const char *dtype,
                            const char *options, char *err, size_t errlen);

#endif
