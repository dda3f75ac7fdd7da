/* tinyml_official.c: the official MLPerf Tiny models of the TinyML
 * workloads, and the choice between them, synthetic weights and a user's
 * file (see tinyml_official.h).
 *
 * Files and targets: mlcommons/tiny at commit 1afd2c98 (models/README.md
 * beside the files has paths and checksums); quality targets of
 * benchmark/MLPerfTiny_Rules.adoc. Input gains: the int8 files' input
 * quantization says what range each model was trained on: ic01 takes
 * pixels 0..255 (scale 1, zero point -128), so the synthetic image in
 * [0, 1] is scaled by 255; vww01 takes [0, 1] (scale 1/255); kws01's MFCCs
 * (scale 0.58, zero point 83: about -123..26) and ad01's log-mel values
 * (scale 0.39, zero point 89: about -84..16) cover the synthetic ones. */
#include "workloads/tinyml/tinyml_official.h"

#include "base/datadir.h"
#include "base/error.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <string.h>

static const struct jb_tm_official officials[] = {
    {"kws-dscnn", "kws01", "kws_ref_model.tflite", "kws_ref_model_float32.tflite", JB_TM_INPUT_MFCC,
     1.0f, JB_TM_RAW_S8_QUANT, "top-1", 0.90},
    {"vww-mobilenet", "vww01", "vww_96_int8.tflite", "vww_96_float.tflite", JB_TM_INPUT_IMAGE, 1.0f,
     JB_TM_RAW_U8_PIXELS, "top-1", 0.80},
    {"ic-resnet8", "ic01", "pretrainedResnet_quant.tflite", "pretrainedResnet.tflite",
     JB_TM_INPUT_IMAGE, 255.0f, JB_TM_RAW_U8_PIXELS, "top-1", 0.85},
    {"ad-autoencoder", "ad01", "ad01_int8.tflite", "ad01_fp32.tflite", JB_TM_INPUT_LOGMEL, 1.0f,
     JB_TM_RAW_F32_WINDOWS, "auc", 0.85},
};

const struct jb_tm_official *jb_tm_official_find(const char *workload)
{
    for (size_t i = 0; workload && i < sizeof(officials) / sizeof(officials[0]); i++)
        if (!strcmp(officials[i].workload, workload))
            return &officials[i];
    return NULL;
}

int jb_tm_official_path(const struct jb_tm_official *off, enum jb_tm_dtype dtype, char *dst,
                        size_t n)
{
    char dir[200];
    int rc = jb_data_dir(JB_DATA_MODELS, dir, sizeof(dir));
    snprintf(dst, n, "%s/%s", dir, dtype == JB_TM_INT8 ? off->file_int8 : off->file_fp32);
    return rc;
}

int jb_tm_workload_model_open(const struct jb_tm_model_def *def, enum jb_tm_dtype dtype,
                              const char *options, uint64_t seed, enum jb_isa isa,
                              struct jb_tm_model **out, struct jb_tm_model_source *src, char *err,
                              size_t errlen)
{
    char weights[32] = "official", file[256] = "";
    memset(src, 0, sizeof(*src));
    *out = NULL;
    jb_option_get(options, "weights", weights, sizeof(weights));
    int has_file = jb_option_get(options, "model", file, sizeof(file)) && file[0];
    if (strcmp(weights, "official") && strcmp(weights, "synthetic"))
        return jb_err(err, errlen, JB_EINVAL,
                      "%s: option weights=%s unknown (official, the default, or synthetic)",
                      def->name, weights);
    if (has_file && !strcmp(weights, "synthetic"))
        return jb_err(err, errlen, JB_EINVAL,
                      "%s: options model= and weights=synthetic exclude each other", def->name);
    if (!strcmp(weights, "synthetic")) {
        snprintf(src->weights, sizeof(src->weights), "synthetic");
        return jb_tm_model_open(def, dtype, seed, isa, out, err, errlen);
    }
    const struct jb_tm_official *off = jb_tm_official_find(def->name);
    enum jb_tm_input_kind input = off ? off->input : def->input;
    float gain = off ? off->input_gain : 1.0f;
    if (has_file) {
        snprintf(src->weights, sizeof(src->weights), "file");
        /* the workload's kind of input and gain: a user's file for this
         * workload is taken to be trained on the same kind of data */
        snprintf(src->file, sizeof(src->file), "%s", file);
    } else {
        if (!off)
            return jb_err(err, errlen, JB_ENOENT, "%s: no official model (use weights=synthetic)",
                          def->name);
        snprintf(src->weights, sizeof(src->weights), "official");
        if (jb_tm_official_path(off, dtype, src->file, sizeof(src->file)))
            return jb_err(err, errlen, JB_ENOENT,
                          "%s: %s not found (models folder: set JB_MODELS_DIR, or use "
                          "weights=synthetic)",
                          def->name, src->file);
    }
    int rc = jb_tm_model_open_tflite(src->file, def->name, input, gain, isa, out, err, errlen);
    if (rc)
        return rc;
    if (jb_tm_model_dtype(*out) != dtype) {
        int file_dt = jb_tm_model_dtype(*out);
        jb_tm_model_close(*out);
        *out = NULL;
        return jb_err(err, errlen, JB_EINVAL, "%s: %s is an %s model, dtype %s was asked for",
                      def->name, src->file, file_dt == JB_TM_INT8 ? "int8" : "fp32",
                      dtype == JB_TM_INT8 ? "int8" : "fp32");
    }
    snprintf(src->sha256, sizeof(src->sha256), "%s", jb_tm_model_sha256(*out));
    return JB_OK;
}

int jb_tm_workload_validate(const struct jb_tm_model_def *def, const char *dtype,
                            const char *options, char *err, size_t errlen)
{
    enum jb_tm_dtype dt = JB_TM_INT8;
    if (dtype && !strcmp(dtype, "fp32"))
        dt = JB_TM_FP32;
    else if (dtype && *dtype && strcmp(dtype, "int8"))
        return jb_err(err, errlen, JB_EINVAL, "%s: dtype '%s' not supported (int8, fp32)",
                      def->name, dtype);
    struct jb_tm_model *m = NULL;
    struct jb_tm_model_source src;
    int rc =
        jb_tm_workload_model_open(def, dt, options, 1, JB_ISA_REFERENCE, &m, &src, err, errlen);
    jb_tm_model_close(m);
    if (rc)
        return rc == JB_ENOENT || rc == JB_ENOMEM ? rc : JB_EINVAL;
    char dir[256], path[300];
    if (jb_option_get(options, "dataset", dir, sizeof(dir))) {
        snprintf(path, sizeof(path), "%s/y_labels.csv", dir);
        FILE *f = fopen(path, "r");
        if (!f)
            return jb_err(err, errlen, JB_ENOENT,
                          "%s: dataset=%s: no y_labels.csv there (EnergyRunner layout)", def->name,
                          dir);
        fclose(f);
    }
    return JB_OK;
}
