/* test_results_normalize.c: the derived figures of a record follow the
 * formulas of METHODOLOGY.md section 7, with the label and uncertainty of
 * the energy entry they come from, and the tables and descriptors load. */
#include "base/error.h"
#include "platforms/descriptor.h"
#include "results/carbon.h"
#include "results/normalize.h"
#include "results/record_util.h"
#include "test_results_helpers.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) <= 1e-9 * fmax(1.0, fabs(b)))

/* Rewrites the first energy entry to round numbers so the expected figures
 * can be worked by hand: 3.6 J per unit is 1e-6 kWh. */
static json_t *simple_record(const char *fixture)
{
    json_t *r = th_load_fixture(fixture);
    json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
    json_object_set_new(e, "joules_per_unit", json_real(3.6));
    json_object_set_new(e, "uncertainty_joules_per_unit", json_real(0.36));
    json_object_set_new(e, "average_power_w", json_real(36.0));
    json_object_set_new((json_t *)jb_rec_get(r, "measurements"), "throughput_units_per_s",
                        json_real(10.0));
    return r;
}

static void operational_carbon_and_water(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    json_t *r = simple_record("llm-decode.json");
    struct jb_norm_opts o;
    jb_norm_opts_init(&o);
    o.grid_gco2e_per_kwh = 500;
    o.pue = 1.2;
    o.wue_l_per_kwh = 2.0;
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), 0);
    /* 1e-6 kWh x 1.2 x 500 g/kWh x 1000 units = 0.6 g; 10% uncertainty. */
    NEAR(jb_rec_num(r, "derived.carbon.operational_gco2e_per_1000_units", -1), 0.6);
    NEAR(jb_rec_num(r, "derived.carbon.operational_uncertainty_gco2e_per_1000_units", -1), 0.06);
    NEAR(jb_rec_num(r, "derived.water.water_l_per_1000_units", -1), 2.0e-3);
    assert_string_equal(jb_rec_str(r, "derived.carbon.label", ""), "measured");
    /* No platform: no embodied figure, and the total is the operational. */
    assert_true(json_is_null(jb_rec_get(r, "derived.carbon.embodied_gco2e_per_1000_units")));
    NEAR(jb_rec_num(r, "derived.carbon.total_gco2e_per_1000_units", -1), 0.6);
    /* Per MAC: 3.6 J / 1.1e8 MAC. */
    NEAR(jb_rec_num(r, "derived.energy.pj_per_mac", -1), 3.6 / 1.1e8 * 1e12);
    NEAR(jb_rec_num(r, "derived.energy.units_per_joule", -1), 1 / 3.6);
    double lat = jb_rec_num(r, "measurements.latency_s.median", -1);
    NEAR(jb_rec_num(r, "derived.energy.edp_j_s", -1), 3.6 * lat);
    json_decref(r);
}

static void estimated_entries_stay_estimated(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    json_t *r = th_load_fixture("ic-resnet8-int8.json");
    struct jb_norm_opts o;
    jb_norm_opts_init(&o);
    o.region = "FR";
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), 0);
    assert_string_equal(jb_rec_str(r, "derived.carbon.label", ""), "estimated");
    assert_string_equal(jb_rec_str(r, "derived.energy.label", ""), "estimated");
    struct jb_grid_row fr;
    assert_int_equal(jb_grid_lookup("fr", &fr, err, sizeof(err)), 0);
    NEAR(jb_rec_num(r, "derived.carbon.grid_gco2e_per_kwh", -1), fr.gco2e_per_kwh);
    assert_non_null(strstr(jb_rec_str(r, "derived.carbon.grid_source", ""), "FR"));
    /* Offline batch 32: EDP uses the time per unit, latency / 32. */
    double lat = jb_rec_num(r, "measurements.latency_s.median", -1);
    NEAR(jb_rec_num(r, "derived.energy.edp_j_s", -1), 0.0125 * lat / 32);
    /* Unknown region: error, record untouched. */
    json_t *before = json_deep_copy(r);
    o.region = "atlantis";
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), JB_ENOENT);
    assert_non_null(strstr(err, "atlantis"));
    assert_true(json_equal(before, r));
    json_decref(before);
    json_decref(r);
}

static void embodied_share_and_defaults(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    json_t *plat = NULL;
    assert_int_equal(jb_platform_load("amd-epyc-vm-2vcpu", &plat, err, sizeof(err)), 0);
    json_t *r = simple_record("triad.json");
    struct jb_norm_opts o;
    jb_norm_opts_init(&o);
    o.platform = plat;
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), 0);
    double m = jb_rec_num(plat, "embodied_kgco2e", -1),
           life = jb_rec_num(plat, "lifetime_years", -1);
    /* 2 threads on a 2-core descriptor: share 1; 0.1 s per unit. */
    double want = m * 1000 * 1.0 * 0.1 / (life * 365.25 * 86400) * 1000;
    NEAR(jb_rec_num(r, "derived.carbon.embodied_gco2e_per_1000_units", -1), want);
    /* PUE from the descriptor, intensity from the documented default row. */
    NEAR(jb_rec_num(r, "derived.carbon.pue", -1), jb_rec_num(plat, "pue_default", -1));
    struct jb_grid_row w;
    assert_int_equal(jb_grid_lookup(NULL, &w, err, sizeof(err)), 0);
    assert_string_equal(w.region, JB_GRID_DEFAULT_REGION);
    NEAR(jb_rec_num(r, "derived.carbon.grid_gco2e_per_kwh", -1), w.gco2e_per_kwh);
    double op = jb_rec_num(r, "derived.carbon.operational_gco2e_per_1000_units", -1);
    NEAR(jb_rec_num(r, "derived.carbon.total_gco2e_per_1000_units", -1), op + want);
    /* One thread of the two cores: half the share. */
    json_object_set_new((json_t *)jb_rec_get(r, "config"), "threads", json_integer(1));
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), 0);
    NEAR(jb_rec_num(r, "derived.carbon.embodied_gco2e_per_1000_units", -1), want / 2);
    json_decref(r);
    json_decref(plat);
    assert_int_not_equal(jb_platform_load("../../etc/passwd", &plat, err, sizeof(err)), 0);
}

static void roofline_against_calibration(void **st)
{
    (void)st;
    char err[JB_ERRLEN] = "";
    json_t *tr = th_load_fixture("triad.json"), *fm = th_load_fixture("fma.json");
    json_t *r = th_load_fixture("llm-decode.json");
    struct jb_norm_opts o;
    jb_norm_opts_init(&o);
    o.calib_triad = tr;
    o.calib_fma = fm;
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), 0);
    double bw = jb_rec_num(r, "workload.counts_per_unit.bytes_moved", 0) *
                jb_rec_num(r, "measurements.throughput_units_per_s", 0);
    double cbw = jb_rec_num(tr, "workload.counts_per_unit.bytes_moved", 0) *
                 jb_rec_num(tr, "measurements.throughput_units_per_s", 0);
    NEAR(jb_rec_num(r, "derived.roofline.fraction_of_bandwidth", -1), bw / cbw);
    assert_true(jb_rec_num(r, "derived.roofline.fraction_of_flops", -1) > 0);
    /* A calibration from another machine is not used. */
    json_object_set_new((json_t *)jb_rec_get(tr, "system"), "topology_hash", json_string("other"));
    assert_int_equal(jb_normalize_record(r, &o, err, sizeof(err)), 0);
    assert_true(json_is_null(jb_rec_get(r, "derived.roofline.fraction_of_bandwidth")));
    json_decref(tr);
    json_decref(fm);
    json_decref(r);
}

/* A table or descriptor value that is not a number in range is an error
 * naming it: "abc" and an empty field were 0 gCO2e/kWh, -500 was taken,
 * and a descriptor's pue_default 0.1 passed where --pue 0.5 did not. */
static void bad_table_values_refused(void **st)
{
    (void)st;
    char d[1024], p[1200], err[JB_ERRLEN];
    th_scratch(d, sizeof(d), "tables");
    snprintf(p, sizeof(p), "%s/grid_intensity.csv", d);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("region,kind,name,gco2e_per_kwh,year,source\n"
          "FR,country,France,56,2023,ok\n"
          "XA,country,Text,abc,2023,typo\n"
          "XB,country,Empty,,2023,blank\n"
          "XC,country,Negative,-500,2023,sign\n"
          "XD,country,Hex,0x10,2023,hex\n"
          "XE,country,Year,100,20x3,year\n",
          f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/wue.csv", d);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("class,wue_l_per_kwh,pue_default,source\ndesktop,0.0,0.1,bad\n", f);
    fclose(f);
    const char *old = getenv("JB_DATA_DIR");
    setenv("JB_DATA_DIR", d, 1);
    struct jb_grid_row row;
    assert_int_equal(jb_grid_lookup("FR", &row, err, sizeof(err)), 0);
    assert_true(row.gco2e_per_kwh == 56 && row.year == 2023);
    const char *bad[][2] = {{"XA", "'abc' is not a grid intensity"},
                            {"XB", "'' is not a grid intensity"},
                            {"XC", "'-500' is not a grid intensity"},
                            {"XD", "'0x10' is not"},
                            {"XE", "'20x3' is not a year"}};
    for (int i = 0; i < 5; i++) {
        err[0] = 0;
        assert_int_equal(jb_grid_lookup(bad[i][0], &row, err, sizeof(err)), JB_EINVAL);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: '%s'", bad[i][0], err);
    }
    double pue, wue;
    assert_int_equal(jb_facility_defaults("desktop", &pue, &wue, NULL, 0, err, sizeof(err)),
                     JB_EINVAL);
    if (old)
        setenv("JB_DATA_DIR", old, 1);
    else
        unsetenv("JB_DATA_DIR");
    /* a descriptor with pue_default below 1 */
    json_t *desc = NULL;
    char src[1200];
    snprintf(src, sizeof(src), "%s/platforms/descriptors/amd-epyc-vm-2vcpu.json", th_src());
    json_error_t je;
    json_t *dj = json_load_file(src, 0, &je);
    assert_non_null(dj);
    json_object_set_new(dj, "pue_default", json_real(0.1));
    snprintf(p, sizeof(p), "%s/low-pue.json", d);
    json_dump_file(dj, p, 0);
    json_decref(dj);
    assert_int_equal(jb_platform_load(p, &desc, err, sizeof(err)), JB_EINVAL);
    if (!strstr(err, "pue_default 0.1 must be >= 1"))
        fail_msg("%s", err);
    th_rmrf(d);
}

static void tables_are_complete(void **st)
{
    (void)st;
    char dir[900], path[1024], line[1024];
    jb_carbon_data_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/grid_intensity.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int countries = 0, cloud = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, ",country,"))
            countries++;
        if (strstr(line, ",cloud,"))
            cloud++;
        /* every row names a year and a source */
        if (strncmp(line, "region,", 7))
            assert_true(strstr(line, ",20") != NULL && strlen(line) > 40);
    }
    fclose(f);
    assert_true(countries >= 41); /* 40 countries + the world row */
    assert_true(cloud >= 20);
    const char *plats[] = {"amd-epyc-vm-2vcpu",  "nvidia-h100-sxm-80gb", "nvidia-a100-sxm-40gb",
                           "raspberry-pi-4",     "apple-m2-macbook-air", "intel-xeon-8380-2s",
                           "stm32-nucleo-l476rg"};
    for (size_t i = 0; i < sizeof(plats) / sizeof(plats[0]); i++) {
        json_t *p = NULL;
        char err[JB_ERRLEN];
        if (jb_platform_load(plats[i], &p, err, sizeof(err)))
            fail_msg("%s", err);
        /* every figure has its source */
        const char *k;
        json_t *v;
        json_object_foreach(p, k, v) if (json_is_number(v) &&
                                         !json_object_get(json_object_get(p, "sources"), k))
            fail_msg("%s: %s has no source", plats[i], k);
        json_decref(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(operational_carbon_and_water),
        cmocka_unit_test(estimated_entries_stay_estimated),
        cmocka_unit_test(embodied_share_and_defaults),
        cmocka_unit_test(roofline_against_calibration),
        cmocka_unit_test(tables_are_complete),
        cmocka_unit_test(bad_table_values_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
