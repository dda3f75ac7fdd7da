/* fuzz_record.c: the record path of outside input: parsing and schema
 * checking (jb_record_parse), then everything that reads a record that
 * passed: normalization, the submission rules, the history value. A
 * record file is untrusted (submissions, shared result folders). */
#include "base/error.h"
#include "results/history.h"
#include "results/normalize.h"
#include "results/record_util.h"
#include "results/schema_validate.h"
#include "results/submission.h"

#include <stdint.h>
#include <stdlib.h>

static void ignore(void *ctx, const char *path, const char *msg)
{
    (void)ctx;
    (void)path;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The schema is loaded once: a fuzzer calls this millions of times. */
    static json_t *schema;
    char err[JB_ERRLEN];
    if (!schema && jb_record_schema_load(&schema, err, sizeof(err)))
        abort();
    json_t *r = NULL;
    if (jb_record_parse((const char *)data, size, schema, &r, err, sizeof(err)))
        return 0;
    struct jb_norm_opts o;
    jb_norm_opts_init(&o);
    o.grid_gco2e_per_kwh = 400;
    o.pue = 1.2;
    o.wue_l_per_kwh = 1.0;
    o.calib_triad = r; /* a record as its own calibration exercises the roofline */
    o.calib_fma = r;
    jb_normalize_record(r, &o, err, sizeof(err));
    jb_submission_check_record(schema, r, "fuzz", "w", "offline", ignore, NULL);
    (void)jb_history_value(r, "energy");
    (void)jb_history_value(r, "latency");
    size_t n;
    free(jb_rec_energy_samples(r, &n));
    json_decref(r);
    return 0;
}
