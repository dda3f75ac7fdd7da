/* tinyml_defs.c: the layer tables of the four MLPerf Tiny (v0.5 .. v1.x)
 * reference models, transcribed from the Keras sources in the mlcommons/tiny
 * repository (benchmark/training/<task>/keras_model.py, and vww_model.py,
 * itself from the EEMBC/Silicon Labs MobileNetV1). Batch norm is folded into
 * the layer before it; dropout is the identity at inference. METHODOLOGY.md
 * section 6.2 has the same tables with output shapes and totals. */
#include "platforms/tinyml/tinyml_model.h"

#include <string.h>

#define P JB_TM_PREV
#define CONV(oc, k, s, relu)                                                                       \
    {                                                                                              \
        JB_TM_CONV, P, 0, oc, k, k, s, 1, relu, 1                                                  \
    }
#define DW(s)                                                                                      \
    {                                                                                              \
        JB_TM_DWCONV, P, 0, 0, 3, 3, s, 1, 1, 1                                                    \
    }
#define PW(oc)                                                                                     \
    {                                                                                              \
        JB_TM_CONV, P, 0, oc, 1, 1, 1, 1, 1, 1                                                     \
    }

/* keyword_spotting/keras_model.py, model 'ds_cnn': Conv2D(64, (10,4),
 * strides 2, same) + BN + ReLU, four depthwise-separable blocks of 64,
 * AveragePooling2D(pool_size = (int(49/2), int(10/2)) = (24, 5)) over the
 * 25x5 map (valid: it reads rows 0..23), Dense(12) softmax. */
static const struct jb_tm_def_layer kws_layers[] = {
    {JB_TM_CONV, P, 0, 64, 10, 4, 2, 1, 1, 1},
    DW(1),
    PW(64),
    DW(1),
    PW(64),
    DW(1),
    PW(64),
    DW(1),
    PW(64),
    {JB_TM_AVGPOOL, P, 0, 0, 24, 5, 0, 0, 0, 0},
    {JB_TM_FC, P, 0, 12, 0, 0, 0, 0, 0, 0},
    {JB_TM_SOFTMAX, P, 0, 0, 0, 0, 0, 0, 0, 0},
};

/* visual_wake_words/vww_model.py: MobileNetV1 with alpha 0.25 (filters
 * 8..256) on 96x96x3, ReLU, BN after every convolution, AveragePooling2D
 * over the final 3x3 map, Dense(2) softmax. */
static const struct jb_tm_def_layer vww_layers[] = {
    CONV(8, 3, 2, 1),
    DW(1),
    PW(16),
    DW(2),
    PW(32),
    DW(1),
    PW(32),
    DW(2),
    PW(64),
    DW(1),
    PW(64),
    DW(2),
    PW(128),
    DW(1),
    PW(128),
    DW(1),
    PW(128),
    DW(1),
    PW(128),
    DW(1),
    PW(128),
    DW(1),
    PW(128),
    DW(2),
    PW(256),
    DW(1),
    PW(256),
    {JB_TM_AVGPOOL, P, 0, 0, 3, 3, 0, 0, 0, 0},
    {JB_TM_FC, P, 0, 2, 0, 0, 0, 0, 0, 0},
    {JB_TM_SOFTMAX, P, 0, 0, 0, 0, 0, 0, 0, 0},
};

/* image_classification/keras_model.py, resnet_v1_eembc with 16/32/64
 * filters (v0.5/v1.0): stem conv; three stacks of two 3x3 convs with an
 * identity (stack 1) or strided 1x1 conv (stacks 2, 3, no BN) shortcut,
 * add, ReLU; AveragePooling2D(8), Dense(10) softmax.
 * Tensors: 1 stem, 4 = stack 1 out, 8 = stack 2 out, 12 = stack 3 out. */
static const struct jb_tm_def_layer ic_layers[] = {
    {JB_TM_CONV, P, 0, 16, 3, 3, 1, 1, 1, 1}, /* t1 */
    {JB_TM_CONV, P, 0, 16, 3, 3, 1, 1, 1, 1}, /* t2 */
    {JB_TM_CONV, P, 0, 16, 3, 3, 1, 1, 0, 1}, /* t3 */
    {JB_TM_ADD, 1, 3, 0, 0, 0, 0, 0, 1, 0},   /* t4 */
    {JB_TM_CONV, 4, 0, 32, 3, 3, 2, 1, 1, 1}, /* t5 */
    {JB_TM_CONV, P, 0, 32, 3, 3, 1, 1, 0, 1}, /* t6 */
    {JB_TM_CONV, 4, 0, 32, 1, 1, 2, 1, 0, 0}, /* t7 shortcut */
    {JB_TM_ADD, 7, 6, 0, 0, 0, 0, 0, 1, 0},   /* t8 */
    {JB_TM_CONV, 8, 0, 64, 3, 3, 2, 1, 1, 1}, /* t9 */
    {JB_TM_CONV, P, 0, 64, 3, 3, 1, 1, 0, 1}, /* t10 */
    {JB_TM_CONV, 8, 0, 64, 1, 1, 2, 1, 0, 0}, /* t11 shortcut */
    {JB_TM_ADD, 11, 10, 0, 0, 0, 0, 0, 1, 0}, /* t12 */
    {JB_TM_AVGPOOL, P, 0, 0, 8, 8, 0, 0, 0, 0}, {JB_TM_FC, P, 0, 10, 0, 0, 0, 0, 0, 0},
    {JB_TM_SOFTMAX, P, 0, 0, 0, 0, 0, 0, 0, 0},
};

/* anomaly_detection/keras_model.py: Dense(128)+BN+ReLU x4, Dense(8)+BN+ReLU,
 * Dense(128)+BN+ReLU x4, Dense(640) linear, on 640 inputs (5 frames x 128
 * mel bands). */
#define FC(n)                                                                                      \
    {                                                                                              \
        JB_TM_FC, P, 0, n, 0, 0, 0, 0, 1, 1                                                        \
    }
static const struct jb_tm_def_layer ad_layers[] = {
    FC(128), FC(128), FC(128), FC(128), FC(8),
    FC(128), FC(128), FC(128), FC(128), {JB_TM_FC, P, 0, 640, 0, 0, 0, 0, 0, 0},
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

const struct jb_tm_model_def jb_tm_kws_dscnn = {
    "kws-dscnn", "keyword spotting, DS-CNN", 49, 10, 1, JB_TM_INPUT_MFCC, N(kws_layers),
    kws_layers};
const struct jb_tm_model_def jb_tm_vww_mobilenet = {"vww-mobilenet",
                                                    "visual wake words, MobileNetV1 0.25",
                                                    96,
                                                    96,
                                                    3,
                                                    JB_TM_INPUT_IMAGE,
                                                    N(vww_layers),
                                                    vww_layers};
const struct jb_tm_model_def jb_tm_ic_resnet8 = {
    "ic-resnet8", "image classification, ResNet-8", 32, 32, 3, JB_TM_INPUT_IMAGE, N(ic_layers),
    ic_layers};
const struct jb_tm_model_def jb_tm_ad_autoencoder = {"ad-autoencoder",
                                                     "anomaly detection, FC autoencoder",
                                                     1,
                                                     1,
                                                     640,
                                                     JB_TM_INPUT_LOGMEL,
                                                     N(ad_layers),
                                                     ad_layers};

const struct jb_tm_model_def *jb_tm_model_def_find(const char *name)
{
    const struct jb_tm_model_def *all[] = {&jb_tm_kws_dscnn, &jb_tm_vww_mobilenet,
                                           &jb_tm_ic_resnet8, &jb_tm_ad_autoencoder};
    for (int i = 0; name && i < N(all); i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}
