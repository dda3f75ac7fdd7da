/* test_results_report.c: the dashboard. Builds a database from the fixture
 * records (one with a hostile system name and a power trace, plus a
 * nightly series with a step), writes the site, checks that every page is
 * there, that no record string reaches the HTML unescaped, and then loads
 * it in headless Chromium when installed: no console error, the tables are
 * there and the sorting script ran; a screenshot is kept in the build tree
 * (dashboard-screenshot.png). Without chromium the browser part is skipped,
 * saying so. */
#include "base/error.h"
#include "results/config_key.h"
#include "results/plots.h"
#include "results/record_util.h"
#include "test_results_helpers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char dir[1024], db[1200], site[1200];
static const char hostile[] = "<img src=x onerror=alert(1)>\"'&<script>alert(2)</script>";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return buf;
}

static int setup(void **st)
{
    (void)st;
    char recdir[1400], p[1600];
    th_scratch(dir, sizeof(dir), "report");
    snprintf(db, sizeof(db), "%s/jb.db", dir);
    snprintf(site, sizeof(site), "%s/site", dir);
    snprintf(recdir, sizeof(recdir), "%s/recs", dir);
    snprintf(p, sizeof(p), "mkdir -p '%s'", recdir);
    if (system(p))
        return -1;
    const char *names[] = {"triad.json", "fma.json", "ic-resnet8-int8.json", "llm-decode.json"};
    for (int i = 0; i < 4; i++) {
        json_t *r = th_load_fixture(names[i]);
        if (i == 2)
            json_object_set_new((json_t *)jb_rec_get(r, "system"), "name", json_string(hostile));
        snprintf(p, sizeof(p), "%s/%s", recdir, names[i]);
        json_dump_file(r, p, 0);
        json_decref(r);
    }
    snprintf(p, sizeof(p), "%s/llm-decode.power.csv", recdir);
    FILE *f = fopen(p, "w");
    fputs("time_s,domain,watts\n", f);
    for (int i = 0; i < 50; i++)
        fprintf(f, "%.2f,sim-total,%.1f\n%.2f,sim-dram,%.1f\n", i * 0.02, 30.0 + (i % 7), i * 0.02,
                5 + (i % 3) * 0.5);
    fclose(f);
    /* a nightly series of triad with a 20% energy step */
    for (int i = 0; i < 12; i++) {
        json_t *r = th_load_fixture("triad.json");
        char id[64], ts[64], c[32];
        snprintf(id, sizeof(id), "triad-nightly-%03d", i);
        snprintf(ts, sizeof(ts), "2026-11-%02dT01:00:00Z", i + 1);
        snprintf(c, sizeof(c), "abc%04d", i);
        json_object_set_new(r, "run_id", json_string(id));
        json_object_set_new(r, "created_utc", json_string(ts));
        json_object_set_new((json_t *)jb_rec_get(r, "system"), "git_commit", json_string(c));
        json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
        json_object_set_new(e, "joules_per_unit",
                            json_real((i >= 6 ? 0.48 : 0.40) * (1 + 0.002 * (i % 3))));
        snprintf(p, sizeof(p), "%s/%s.json", recdir, id);
        json_dump_file(r, p, 0);
        json_decref(r);
    }
    /* fma on two commits, the second 20% more energy: a regression since
     * the previous commit */
    for (int i = 0; i < 2; i++) {
        json_t *r = th_load_fixture("fma.json");
        char id[64], ts[64], c[32];
        snprintf(id, sizeof(id), "fma-nightly-%03d", i);
        snprintf(ts, sizeof(ts), "2030-01-%02dT03:00:00Z", i + 1);
        snprintf(c, sizeof(c), "fma%04d", i);
        json_object_set_new(r, "run_id", json_string(id));
        json_object_set_new(r, "created_utc", json_string(ts));
        json_object_set_new((json_t *)jb_rec_get(r, "system"), "git_commit", json_string(c));
        json_t *e = json_array_get(jb_rec_get(r, "measurements.energy"), 0);
        json_object_set_new(e, "joules_per_unit", json_real(i ? 1.2 : 1.0));
        snprintf(p, sizeof(p), "%s/%s.json", recdir, id);
        json_dump_file(r, p, 0);
        json_decref(r);
    }
    char *argv[] = {"import", "--db", db, recdir, NULL};
    if (th_cmd(4, argv))
        return -1;
    char *rep[] = {"report", "--db", db, "--html", site, NULL};
    return th_cmd(5, rep);
}

static int teardown(void **st)
{
    (void)st;
    th_rmrf(dir);
    return 0;
}

static void pages_exist_and_escape(void **st)
{
    (void)st;
    char p[1600], safe[200];
    snprintf(p, sizeof(p), "%s/index.html", site);
    char *idx = slurp(p);
    assert_non_null(strstr(idx, "id=\"runs\""));
    assert_non_null(strstr(idx, "id=\"workloads\""));
    assert_non_null(strstr(idx, "href=\"w/ic-resnet8.html\""));
    assert_non_null(strstr(idx, "href=\"runs/a1b2c3d4-0003-icresnet8.html\""));
    /* the hostile name appears only escaped */
    assert_null(strstr(idx, "<img src=x"));
    assert_null(strstr(idx, "<script>alert"));
    assert_non_null(
        strstr(idx, "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&lt;script&gt;"));
    /* one row per configuration key, numbers with SI prefixes and unit
     * names, the stated uncertainty and source beside the figure, a
     * sparkline for the nightly series, and the step since the previous
     * commit listed first as a regression */
    assert_non_null(strstr(idx, "id=\"configs\""));
    assert_non_null(strstr(idx, "mJ/pass"));
    assert_non_null(strstr(idx, "mJ/inference"));
    assert_non_null(strstr(idx, "&plusmn; "));
    assert_non_null(strstr(idx, "<svg width=\"120\""));
    assert_null(strstr(idx, "e-05"));
    const char *cfg = strstr(idx, "id=\"configs\""), *reg = strstr(cfg, "<tr class=\"reg\"");
    const char *first = strstr(strstr(cfg, "<tbody>"), "<tr");
    assert_non_null(reg);
    assert_ptr_equal(reg, first);
    assert_non_null(strstr(reg, "energy +20.0% regression"));
    assert_non_null(strstr(idx, "1 configuration worse since the previous commit"));
    /* the step is flagged */
    assert_non_null(strstr(idx, "&#9873;"));
    free(idx);
    snprintf(p, sizeof(p), "%s/w/triad.html", site);
    char *w = slurp(p);
    assert_non_null(strstr(w, "id=\"changepoints\""));
    assert_non_null(strstr(w, "between commit abc0005 and abc0006"));
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        assert_non_null(strstr(w, "scatter-triad.svg"));
        /* history plots are named by configuration key */
        char stem[300];
        json_t *t = th_load_fixture("triad.json");
        struct jb_config_key k;
        jb_config_key_of(t, JB_ACROSS_NONE, &k);
        json_decref(t);
        snprintf(stem, sizeof(stem), "history-triad-%s-energy", k.id);
        assert_non_null(strstr(w, stem));
        snprintf(p, sizeof(p), "%s/plots/%s.png", site, stem);
        assert_int_equal(access(p, R_OK), 0);
        snprintf(p, sizeof(p), "%s/w/llm-decode.html", site);
        char *l = slurp(p);
        assert_non_null(strstr(l, "trace-a1b2c3d4-0004-llm.svg"));
        free(l);
    }
    free(w);
    jb_safe_name("a1b2c3d4-0003-icresnet8", safe, sizeof(safe));
    snprintf(p, sizeof(p), "%s/runs/%s.html", site, safe);
    char *run = slurp(p);
    assert_null(strstr(run, "<script>alert"));
    assert_non_null(strstr(run, "id=\"record\""));
    free(run);
}

/* Labels that reach gnuplot keep its SVG well-formed XML ("]]>" in a
 * platform name once broke 2 of 6 SVGs), and a plot that cannot be drawn (a
 * quote in the --html path) is said on the page, not silently left out. */
static void plots_are_xml_and_failures_said(void **st)
{
    (void)st;
    if (system("command -v gnuplot >/dev/null 2>&1") != 0)
        skip();
    char recdir[1400], site2[1400], db2[1400], p[1600], cmd[3400];
    snprintf(recdir, sizeof(recdir), "%s/recs-xml", dir);
    snprintf(db2, sizeof(db2), "%s/xml.db", dir);
    snprintf(site2, sizeof(site2), "%s/site-xml", dir);
    snprintf(p, sizeof(p), "mkdir -p '%s'", recdir);
    assert_int_equal(system(p), 0);
    const char *names[] = {"]]> <![CDATA[ x & y ]]>", "a<b>&c \xc3\x89pyc"};
    for (int i = 0; i < 2; i++) {
        json_t *r = th_load_fixture("triad.json");
        char id[64];
        snprintf(id, sizeof(id), "xml-label-%04d", i);
        json_object_set_new(r, "run_id", json_string(id));
        json_object_set_new((json_t *)jb_rec_get(r, "system"), "name", json_string(names[i]));
        snprintf(p, sizeof(p), "%s/%s.json", recdir, id);
        json_dump_file(r, p, 0);
        json_decref(r);
    }
    char *imp[] = {"import", "--db", db2, recdir, NULL};
    assert_int_equal(th_cmd(4, imp), 0);
    char *rep[] = {"report", "--db", db2, "--html", site2, NULL};
    assert_int_equal(th_cmd(5, rep), 0);
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof(cmd), "for f in '%s'/plots/*.svg; do xmllint --noout \"$f\" || exit 1; "
                 "done", site2);
        assert_int_equal(system(cmd), 0);
    } else {
        snprintf(p, sizeof(p), "%s/plots/bars-triad.svg", site2);
        char *svg = slurp(p);
        assert_null(strstr(svg, "]]> <!"));
        free(svg);
    }
    /* a quote in the output path: the plots cannot be drawn, the page says so */
    char quoted[1500];
    snprintf(quoted, sizeof(quoted), "%s/it's", dir);
    char *rep2[] = {"report", "--db", db2, "--html", quoted, NULL};
    assert_int_equal(th_cmd(5, rep2), 0);
    snprintf(p, sizeof(p), "%s/w/triad.html", quoted);
    char *w = slurp(p);
    assert_non_null(strstr(w, "Plot not drawn (energy vs latency)"));
    free(w);
}

static void loads_in_headless_chromium(void **st)
{
    (void)st;
    const char *chrome = NULL;
    if (system("command -v chromium >/dev/null 2>&1") == 0)
        chrome = "chromium";
    else if (system("command -v chromium-browser >/dev/null 2>&1") == 0)
        chrome = "chromium-browser";
    if (!chrome) {
        printf("SKIPPED: chromium not installed (apt-get install chromium); dashboard browser "
               "test not run\n");
        skip();
    }
    char cmd[8192], dom[1400], log[1400], shot[1400], prof[1400];
    snprintf(dom, sizeof(dom), "%s/dom.html", dir);
    snprintf(log, sizeof(log), "%s/chromium.log", dir);
    snprintf(prof, sizeof(prof), "%s/profile", dir);
    const char *b = getenv("JB_BUILD_DIR");
    snprintf(shot, sizeof(shot), "%s/dashboard-screenshot.png", b ? b : dir);
    unlink(shot);
    const char *flags = "--headless --no-sandbox --disable-gpu --no-first-run "
                        "--disable-background-networking --disable-component-update --disable-sync "
                        "--disable-dev-shm-usage";
    snprintf(cmd, sizeof(cmd),
             "timeout 90 %s %s --user-data-dir='%s' --enable-logging=stderr --v=0 "
             "--window-size=1280,1000 --virtual-time-budget=3000 --dump-dom "
             "'file://%s/index.html' >'%s' 2>'%s'",
             chrome, flags, prof, site, dom, log);
    assert_int_equal(system(cmd), 0);
    char *d = slurp(dom), *l = slurp(log);
    /* the script ran (it marks sortable tables) and the tables are there */
    assert_non_null(strstr(d, "data-sortable=\"ready\""));
    assert_non_null(strstr(d, "a1b2c3d4-0004-llm"));
    assert_non_null(strstr(d, "id=\"workloads\""));
    /* a layout regression: the per-configuration table no longer fits a
     * 1280-pixel window, its latest figures hidden behind a scroll */
    assert_non_null(strstr(d, "data-fits=\"yes\""));
    assert_null(strstr(d, "<script>alert"));
    /* no console error, no blocked resource, no script exception */
    if (strstr(l, ":CONSOLE") || strstr(l, "Uncaught") || strstr(l, "Content Security Policy"))
        fail_msg("browser console reported a problem:\n%s", l);
    free(d);
    free(l);
    snprintf(cmd, sizeof(cmd),
             "timeout 90 %s %s --user-data-dir='%s' --window-size=1280,1000 --hide-scrollbars "
             "--screenshot='%s' 'file://%s/w/triad.html' >/dev/null 2>&1",
             chrome, flags, prof, shot, site);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(shot, "rb");
    assert_non_null(f);
    unsigned char sig[8] = {0};
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    printf("screenshot: %s\n", shot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pages_exist_and_escape),
        cmocka_unit_test(plots_are_xml_and_failures_said),
        cmocka_unit_test(loads_in_headless_chromium),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
