/* datadir.h: where joulebench finds the files it reads at run time (record
 * schema, data tables, gnuplot templates and dashboard assets, platform
 * descriptors, suite files), whether it runs from its build folder or from
 * an installed prefix.
 *
 * Every kind of file is looked up the same way, first match wins:
 *   1. the kind's environment override ($JB_SCHEMA_DIR, ...), when set and
 *      not empty, used as given (existing or not: the user asked for it);
 *   2. the installed share folder, found from the executable's own location
 *      (/proc/self/exe, then ../share/joulebench/KIND beside its bin/), so a
 *      prefix that is moved or staged with DESTDIR still finds its files
 *      (the configured prefix's share folder where /proc cannot be read);
 *   3. the source tree the binary was built from (JB_SOURCE_DIR, compiled
 *      in), so that ./build/joulebench works without installing; skipped
 *      when $JB_NO_SOURCE_TREE is set, which the install test uses to prove
 *      that an installed binary needs nothing from the source tree. */
#ifndef JB_DATADIR_H
#define JB_DATADIR_H

#include <stddef.h>

enum jb_data_kind {
    JB_DATA_SCHEMA = 0, /* record.schema.json: $JB_SCHEMA_DIR, share schema/, results/schema */
    JB_DATA_TABLES,     /* grid_intensity.csv, wue.csv: $JB_DATA_DIR, share data/, results/data */
    JB_DATA_PLOTS,      /* *.gp, dashboard.css/js: $JB_PLOTS_DIR, share plots/, plots */
    JB_DATA_PLATFORMS,  /* NAME.json: $JB_PLATFORMS_DIR, share platforms/, platforms/descriptors */
    JB_DATA_SUITES,     /* suite files: $JB_SUITES_DIR, share suites/, suites */
    JB_DATA_MODELS,     /* trained models: $JB_MODELS_DIR, share models/, workloads/tinyml/models */
    JB_DATA_NKINDS
};

/* Writes the folder of one kind of file into dst (n bytes). Returns JB_OK
 * when it comes from the override or is an existing folder; JB_ENOENT when
 * no candidate exists, dst then holding the installed location, so that the
 * caller's message names where the file was expected. */
int jb_data_dir(enum jb_data_kind kind, char *dst, size_t n);

/* The same without step 1: the folder of the files that ship with
 * joulebench. For search paths where the override adds to the shipped files
 * instead of replacing them (a suite is looked for in $JB_SUITES_DIR, then
 * among the shipped suites). */
int jb_data_dir_shipped(enum jb_data_kind kind, char *dst, size_t n);

/* Short name of a kind ("schema", "data", "plots", "platforms", "suites", "models"),
 * also its folder name under share/joulebench; NULL for an unknown kind.
 * Static storage. */
const char *jb_data_kind_name(enum jb_data_kind kind);

#endif
