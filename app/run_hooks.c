/* run_hooks.c: the runner hooks of run_hooks.h. */
#include "app/run_hooks.h"

#include "base/error.h"
#include "results/record_util.h"
#include "app/cmd_util.h"
#include "harness/record.h"
#include "results/config_key.h"
#include "results/gbench_json.h"
#include "results/normalize.h"
#include "results/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jb_results_sink {
    struct jb_norm_opts norm;
    json_t *platform;
    jb_store *store; /* NULL with no_store */
    /* Calibration runs of this invocation, newest last, for the roofline of
     * the runs that follow them (also when nothing is stored). */
    json_t *calibrations;
};

int jb_results_sink_open(const struct jb_results_sink_opts *o, struct jb_results_sink **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    struct jb_results_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "results: out of memory");
    int rc = jb_norm_opts_from(&s->norm, o->region, o->grid, o->pue, o->wue, o->platform,
                               &s->platform, err, errlen);
    const char *slash = o->db ? strrchr(o->db, '/') : NULL;
    if (!rc && !o->no_store && slash && !strstr(o->db, "://")) {
        /* A database file in a folder that does not exist yet (results/ in
         * a fresh working directory) gets its folder. */
        char dir[1024], e2[JB_ERRLEN];
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - o->db), o->db);
        if (jb_mkdir_p(dir, e2, sizeof(e2)))
            rc = jb_err(err, errlen, JB_EIO, "--db %s: %s", o->db, e2);
    }
    if (!rc && !o->no_store)
        rc = jb_store_open(o->db, &s->store, err, errlen);
    if (rc) {
        jb_results_sink_close(s);
        return rc;
    }
    s->calibrations = json_array();
    *out = s;
    return JB_OK;
}

void jb_results_sink_close(struct jb_results_sink *s)
{
    if (!s)
        return;
    jb_store_close(s->store);
    json_decref(s->platform);
    json_decref(s->calibrations);
    free(s);
}

static json_t *calibration(struct jb_results_sink *s, const char *which, const json_t *r)
{
    for (size_t i = json_array_size(s->calibrations); i-- > 0;) {
        json_t *c = json_array_get(s->calibrations, i);
        if (jb_is_calibration(c, which) && jb_calibration_matches(c, r))
            return json_incref(c);
    }
    json_t *found = NULL;
    char err[JB_ERRLEN];
    if (s->store && jb_store_find_calibration(s->store, which, r, &found, err, sizeof(err)))
        return NULL;
    return found;
}

int jb_results_before_write(json_t *record, void *ctx, char *err, size_t errlen)
{
    struct jb_results_sink *s = ctx;
    struct jb_norm_opts o = s->norm;
    json_t *tr = calibration(s, "triad", record), *fm = calibration(s, "fma", record);
    /* A calibration run is its own roofline only through an earlier run:
     * never divide a run by itself. */
    o.calib_triad = tr;
    o.calib_fma = fm;
    int rc = jb_normalize_record(record, &o, err, errlen);
    json_decref(tr);
    json_decref(fm);
    /* Every record carries its configuration key, for tools reading the
     * files as much as for the database. */
    if (!rc && jb_config_key_attach(record))
        rc = jb_err(err, errlen, JB_ENOMEM, "results: out of memory");
    if (!rc && (jb_is_calibration(record, "triad") || jb_is_calibration(record, "fma")))
        json_array_append(s->calibrations, record);
    return rc;
}

int jb_results_after_write(const json_t *record, const char *path, void *ctx, char *err,
                           size_t errlen)
{
    struct jb_results_sink *s = ctx;
    if (!s->store)
        return JB_OK;
    char *trace = jb_read_trace_beside(path);
    int ins = 0;
    int rc = jb_store_put(s->store, record, path, trace, &ins, err, errlen);
    free(trace);
    if (rc)
        return rc;
    /* NAME.gbench.json beside NAME.json */
    char gb[4200];
    snprintf(gb, sizeof(gb), "%s", path);
    size_t n = strlen(gb);
    if (n > 5 && !strcmp(gb + n - 5, ".json") && n + 7 < sizeof(gb)) {
        memcpy(gb + n - 5, ".gbench.json", 13);
        json_error_t je;
        json_t *doc = json_load_file(gb, 0, &je);
        if (doc && jb_is_gbench(doc))
            rc = jb_store_put_gbench(s->store, doc, gb, &ins, err, errlen);
        json_decref(doc);
    }
    return rc;
}

void jb_results_gbench(json_t *gbench_doc, const json_t *record, void *ctx)
{
    (void)ctx;
    jb_gbench_annotate(gbench_doc, record);
}
