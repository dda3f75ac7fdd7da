/* tinyml_dataset.h: the quality of a TinyML model on the user's data set,
 * stored in the layout of MLPerf Tiny's EnergyRunner
 * (mlcommons/tiny benchmark/evaluation/datasets/README.md): a folder with
 * y_labels.csv and the raw input files it names. Each line of y_labels.csv:
 *
 *     input file name, total number of classes, class number
 *
 * and for anomaly detection two more fields, the sliding window's width and
 * stride in bytes (classes 2: 0 normal, 1 anomaly). Files: vww01, ic01 U8C3
 * RGB pixels; kws01 int8 MFCCs at the int8 reference model's input
 * quantization; ad01 float32 spectrogram slices.
 *
 * Scores: top-1 accuracy (kws, vww, ic: the arg-max output against the
 * label) or the area under the ROC curve (ad: the anomaly score of a file
 * is the mean squared reconstruction error over its windows, AUC the
 * probability that an anomalous file scores above a normal one, ties half),
 * next to MLPerf Tiny's quality target. The data sets are not shipped. */
#ifndef JB_TINYML_DATASET_H
#define JB_TINYML_DATASET_H

#include "platforms/tinyml/tinyml_model.h"
#include "workloads/workload.h"

#include <stddef.h>

struct jb_tm_quality {
    char metric[16]; /* "top-1" or "auc"; "" when not measured */
    double value;    /* accuracy or AUC, 0..1 */
    double target;   /* MLPerf Tiny's target for the workload */
    int items;       /* files scored */
};

/* Scores model m (run by its optimized kernels) as workload `workload`'s
 * model on the data set in folder dir. Errors: JB_ENOENT (no folder, no
 * y_labels.csv, a listed file missing), JB_EINVAL naming the line of
 * y_labels.csv or the file that does not fit the model, JB_ENOTSUP for a
 * workload without a data-set format, JB_ENOMEM. */
int jb_tm_dataset_score(const struct jb_tm_model *m, const char *workload, const char *dir,
                        struct jb_tm_quality *q, char *err, size_t errlen);

/* Copies a measured quality into a workload's info (nothing if none). */
void jb_tm_quality_info(const struct jb_tm_quality *q, struct jb_workload_info *o);

#endif
