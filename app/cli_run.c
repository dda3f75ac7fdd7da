/* cli_run.c: `joulebench run`: options and suite files to run specs, the
 * runner with the results hooks (normalize, store), and the summary table in
 * table, CSV, Markdown or JSON form. */
#include "app/cli_util.h"
#include "base/error.h"
#include "harness/record.h"
#include "harness/runner.h"
#include "harness/suite.h"
#include "app/run_hooks.h"
#include "workloads/workload.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Set by SIGINT; the runner finishes the iteration in flight, writes what it
 * has, and stops. A second SIGINT kills the process as usual. */
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL);
}

/* ---- run ----------------------------------------------------------------- */

static const char run_usage[] =
    "usage: joulebench run (--suite NAME | --workload NAME) [options]\n"
    "Runs workloads and writes one JSON record per run into --out.\n"
    "  --suite NAME          a suite file (suites/NAME, or a path)\n"
    "  --workload NAME       one workload (see joulebench list)\n"
    "  --dtype LIST          precision(s): fp32, int8, bf16, q8_0, q4_0... (comma list)\n"
    "  --backend NAME        cpu (default) or cuda\n"
    "  --scenario LIST       single-stream (default) and/or offline\n"
    "  --batch LIST          units per iteration in offline (default 1)\n"
    "  --context LIST        LLM KV-cache depth decoded at\n"
    "  --threads LIST        worker threads (default 1)\n"
    "  --pin POLICY          compact (default), scatter, none, or a cpu list like 0,2-3\n"
    "  --options K=V,...     workload-specific options\n"
    "  --power SPEC          auto (default), or NAME[:k=v,...][+NAME...]; see METHODOLOGY.md\n"
    "  --counters EVENTS     auto (default), none, or libpfm4 event names\n"
    "  --min-time S          minimum seconds per repetition (default 0.5)\n"
    "  --repetitions N       repetitions (default 5)\n"
    "  --warmup S            warm-up seconds before the first repetition (default 0.2)\n"
    "  --idle S              measure idle power for S seconds before each run\n"
    "  --seed N              seed of weights and inputs (default 1)\n"
    "  --out DIR             where records go (default results/out)\n"
    "  --format FMT          table (default), json, csv or md\n"
    "  --gbench-json FILE    also write Google Benchmark's own JSON for all runs\n"
    "  --db URL              results database: a SQLite file (default $JB_DB, else\n"
    "                        results/joulebench.db), postgresql://..., or none\n"
    "  --region CODE         grid region for carbon (results/data); or\n"
    "  --grid-intensity G    gCO2e/kWh\n"
    "  --pue P, --wue W      facility power and water usage effectiveness\n"
    "  --platform NAME|PATH  platform descriptor for embodied carbon: NAME.json of the\n"
    "                        platforms folder, or a file (a PATH has a '/' or ends in .json)\n"
    "  --sysfs-root DIR      read sysfs under DIR (testing)\n"
    "A value given on the command line replaces the suite line's (its whole list);\n"
    "runs that are then the same are run once.\n";

/* One summary row of a record, as strings: the table, CSV and Markdown print
 * the same columns. Energy shows the first available domain; the record has
 * them all. */
struct row {
    char workload[64], dtype[16], scenario[16], batch[16], threads[8], median[24], p99[24],
        thr[32], energy[96], power[24], check[8];
};

static void make_row(json_t *rec, struct row *r)
{
    char a[32], b[32];
    json_t *w = json_object_get(rec, "workload"), *cfg = json_object_get(rec, "config");
    json_t *m = json_object_get(rec, "measurements");
    json_t *lat = json_object_get(m, "latency_s");
    snprintf(r->workload, sizeof(r->workload), "%s", json_string_value(json_object_get(w, "name")));
    snprintf(r->dtype, sizeof(r->dtype), "%s", json_string_value(json_object_get(w, "dtype")));
    snprintf(r->scenario, sizeof(r->scenario), "%s",
             json_string_value(json_object_get(cfg, "scenario")));
    snprintf(r->batch, sizeof(r->batch), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(cfg, "batch")));
    snprintf(r->threads, sizeof(r->threads), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(cfg, "threads")));
    jb_cli_fmt_time(json_number_value(json_object_get(lat, "median")), r->median, sizeof(r->median));
    jb_cli_fmt_time(json_number_value(json_object_get(lat, "p99")), r->p99, sizeof(r->p99));
    snprintf(r->thr, sizeof(r->thr), "%.4g %s/s",
             json_number_value(json_object_get(m, "throughput_units_per_s")),
             json_string_value(json_object_get(w, "unit")));
    snprintf(r->energy, sizeof(r->energy), "n/a");
    snprintf(r->power, sizeof(r->power), "n/a");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(m, "energy"), i, e)
    {
        json_t *jpu = json_object_get(e, "joules_per_unit");
        if (!json_is_number(jpu))
            continue;
        int measured = json_is_true(json_object_get(e, "measured"));
        int simulated = json_is_true(json_object_get(e, "simulated"));
        snprintf(r->energy, sizeof(r->energy), "%s +- %s [%s%s]",
                 jb_cli_fmt_energy(json_number_value(jpu), a, sizeof(a)),
                 jb_cli_fmt_energy(json_number_value(json_object_get(e, "uncertainty_joules_per_unit")),
                            b, sizeof(b)),
                 json_string_value(json_object_get(e, "source")),
                 simulated ? ", SIMULATED" : measured ? "" : ", ESTIMATED");
        snprintf(r->power, sizeof(r->power), "%.3g W",
                 json_number_value(json_object_get(e, "average_power_w")));
        break;
    }
    snprintf(r->check, sizeof(r->check), "%s",
             json_string_value(json_object_get(json_object_get(rec, "validity"), "output_check")));
}

static void print_rows(enum jb_format fmt, json_t *records)
{
    static const char *const hdr[] = {"workload", "dtype",      "scenario", "batch",
                                      "threads",  "lat median", "lat p99",  "throughput",
                                      "energy/unit +- unc [source]", "avg power", "check"};
    size_t i;
    json_t *rec;
    if (fmt == FMT_JSON) {
        json_dumpf(records, stdout, JSON_INDENT(2));
        putchar('\n');
        return;
    }
    if (fmt == FMT_CSV)
        printf("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", hdr[0], hdr[1], hdr[2], hdr[3], hdr[4],
               hdr[5], hdr[6], hdr[7], hdr[8], hdr[9], hdr[10]);
    else if (fmt == FMT_MD)
        printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n"
               "|---|---|---|---:|---:|---:|---:|---:|---|---:|---|\n",
               hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6], hdr[7], hdr[8], hdr[9],
               hdr[10]);
    else
        printf("%-16s %-6s %-13s %5s %3s %11s %11s %18s %-44s %9s %s\n", hdr[0], hdr[1], hdr[2],
               hdr[3], "thr", hdr[5], hdr[6], hdr[7], hdr[8], hdr[9], hdr[10]);
    json_array_foreach(records, i, rec)
    {
        struct row r;
        make_row(rec, &r);
        if (fmt == FMT_CSV)
            printf("%s,%s,%s,%s,%s,%s,%s,%s,\"%s\",%s,%s\n", r.workload, r.dtype, r.scenario,
                   r.batch, r.threads, r.median, r.p99, r.thr, r.energy, r.power, r.check);
        else if (fmt == FMT_MD)
            printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.workload,
                   r.dtype, r.scenario, r.batch, r.threads, r.median, r.p99, r.thr, r.energy,
                   r.power, r.check);
        else
            printf("%-16s %-6s %-13s %5s %3s %11s %11s %18s %-44s %9s %s\n", r.workload,
                   r.dtype, r.scenario, r.batch, r.threads, r.median, r.p99, r.thr, r.energy,
                   r.power, r.check);
    }
}

int jb_cli_run(int argc, char **argv)
{
    enum { O_SUITE = 256, O_WORKLOAD, O_DTYPE, O_BACKEND, O_SCENARIO, O_BATCH, O_CONTEXT,
           O_THREADS, O_PIN, O_OPTIONS, O_POWER, O_COUNTERS, O_MINTIME, O_REPS, O_WARMUP,
           O_IDLE, O_SEED, O_OUT, O_FORMAT, O_GBJSON, O_SYSFS, O_DB, O_REGION, O_GRID, O_PUE,
           O_WUE, O_PLATFORM };
    static const struct option opts[] = {
        {"suite", required_argument, 0, O_SUITE},
        {"workload", required_argument, 0, O_WORKLOAD},
        {"dtype", required_argument, 0, O_DTYPE},
        {"backend", required_argument, 0, O_BACKEND},
        {"scenario", required_argument, 0, O_SCENARIO},
        {"batch", required_argument, 0, O_BATCH},
        {"context", required_argument, 0, O_CONTEXT},
        {"threads", required_argument, 0, O_THREADS},
        {"pin", required_argument, 0, O_PIN},
        {"options", required_argument, 0, O_OPTIONS},
        {"power", required_argument, 0, O_POWER},
        {"counters", required_argument, 0, O_COUNTERS},
        {"min-time", required_argument, 0, O_MINTIME},
        {"repetitions", required_argument, 0, O_REPS},
        {"warmup", required_argument, 0, O_WARMUP},
        {"idle", required_argument, 0, O_IDLE},
        {"seed", required_argument, 0, O_SEED},
        {"out", required_argument, 0, O_OUT},
        {"format", required_argument, 0, O_FORMAT},
        {"gbench-json", required_argument, 0, O_GBJSON},
        {"sysfs-root", required_argument, 0, O_SYSFS},
        {"db", required_argument, 0, O_DB},
        {"region", required_argument, 0, O_REGION},
        {"grid-intensity", required_argument, 0, O_GRID},
        {"pue", required_argument, 0, O_PUE},
        {"wue", required_argument, 0, O_WUE},
        {"platform", required_argument, 0, O_PLATFORM},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    /* Keys given on the command line, kept as "key=value" words so that
     * comma lists expand the same way as in suite files. */
    char line[2048] = "";
    const char *suite = NULL, *workload = NULL;
    struct jb_runner_opts ro = {.power = "auto",
                                .counters = "auto",
                                .warmup_s = 0.2,
                                .out_dir = "results/out",
                                .seed = 1,
                                /* The whole command line, "joulebench run ...". */
                                .argc = argc + 1,
                                .argv = argv - 1,
                                .interrupted = &interrupted};
    enum jb_format fmt = FMT_TABLE;
    char err[JB_ERRLEN];
    /* JB_DB sets the default database (the tests set it to none). */
    const char *db = getenv("JB_DB") ? getenv("JB_DB") : "results/joulebench.db", *region = NULL, *grid = NULL, *pue = NULL,
               *wue = NULL, *platform = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *key = NULL;
        char *end;
        switch (c) {
        case 'h': fputs(run_usage, stdout); return 0;
        case O_SUITE: suite = optarg; break;
        case O_WORKLOAD: workload = optarg; break;
        case O_DTYPE: key = "dtype"; break;
        case O_BACKEND: key = "backend"; break;
        case O_SCENARIO: key = "scenario"; break;
        case O_BATCH: key = "batch"; break;
        case O_CONTEXT: key = "context"; break;
        case O_THREADS: key = "threads"; break;
        case O_PIN: key = "pin"; break;
        case O_OPTIONS: key = "options"; break;
        case O_MINTIME: key = "min_time"; break;
        case O_REPS: key = "repetitions"; break;
        case O_POWER: ro.power = optarg; break;
        case O_COUNTERS: ro.counters = optarg; break;
        case O_OUT: ro.out_dir = optarg; break;
        case O_GBJSON: ro.gbench_json = optarg; break;
        case O_SYSFS: ro.sysfs_root = optarg; break;
        case O_DB: db = optarg; break;
        case O_REGION: region = optarg; break;
        case O_GRID: grid = optarg; break;
        case O_PUE: pue = optarg; break;
        case O_WUE: wue = optarg; break;
        case O_PLATFORM: platform = optarg; break;
        case O_WARMUP:
        case O_IDLE: {
            double v = strtod(optarg, &end);
            if (*end || end == optarg || !(v >= 0 && v <= 3600)) {
                fprintf(stderr, "joulebench run: --%s %s: expected seconds from 0 to 3600\n",
                        c == O_IDLE ? "idle" : "warmup", optarg);
                return 2;
            }
            if (c == O_IDLE)
                ro.idle_s = v;
            else
                ro.warmup_s = v;
            break;
        }
        case O_SEED:
            ro.seed = strtoull(optarg, &end, 10);
            if (*end || end == optarg) {
                fprintf(stderr, "joulebench run: --seed %s: expected an integer\n", optarg);
                return 2;
            }
            break;
        case O_FORMAT:
            if (jb_cli_parse_format(optarg, &fmt)) {
                fprintf(stderr, "joulebench run: --format %s: expected table, json, csv or md\n",
                        optarg);
                return 2;
            }
            break;
        default: fputs(run_usage, stderr); return 2;
        }
        if (key) {
            if (strchr(optarg, ' ') || strlen(line) + strlen(key) + strlen(optarg) + 3 >=
                                           sizeof(line)) {
                fprintf(stderr, "joulebench run: --%s '%s': bad value\n", key, optarg);
                return 2;
            }
            strcat(line, " ");
            strcat(line, key);
            strcat(line, "=");
            strcat(line, optarg);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joulebench run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!suite == !workload) {
        fprintf(stderr, "joulebench run: give exactly one of --suite or --workload\n");
        return 2;
    }
    /* The command-line values, parsed like a suite line, become overrides. */
    struct jb_run_spec defaults, cli;
    jb_spec_defaults(&defaults);
    struct jb_spec_list overrides = {0}, specs = {0};
    char cl[2200];
    snprintf(cl, sizeof(cl), "%s%s", workload ? workload : "_", line);
    int rc = jb_suite_parse_line(cl, &defaults, "command line", &overrides, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench run: %s\n", err);
        return 2;
    }
    if (workload) {
        specs = overrides;
        overrides = (struct jb_spec_list){0};
    } else {
        struct jb_spec_list base = {0};
        rc = jb_suite_load(suite, &defaults, &base, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "joulebench run: %s\n", err);
            jb_spec_list_free(&base);
            jb_spec_list_free(&overrides);
            return 2;
        }
        for (int i = 0; i < base.n; i++)
            for (int j = 0; j < overrides.n; j++) {
                struct jb_run_spec s = base.v[i];
                cli = overrides.v[j];
                jb_spec_override(&s, &cli);
                jb_spec_list_push(&specs, &s);
            }
        jb_spec_list_free(&base);
        ro.suite = suite;
    }
    jb_spec_list_free(&overrides);
    /* A command-line value replaces a suite line's whole list: each line was
     * expanded before the override, so `threads=1,2` run with --threads 1
     * gave two identical runs. Those (and any others that are the same run,
     * as a suite reached twice through @include gives) are run once. */
    jb_spec_list_dedupe(&specs);
    /* Plan every run (workload, dtype, back-end, pinning and threads against
     * this machine's cpus) before opening or measuring anything: input that
     * cannot run here is a usage error, exit 2, found before the first run
     * rather than after an hour of them, with no output folder or database
     * created. A fault of the planning itself (hwloc, memory) exits 1. */
    struct jb_topo *topo = NULL;
    int status = 1;
    rc = jb_topo_open(&topo, err, sizeof(err));
    for (int i = 0; !rc && i < specs.n; i++) {
        rc = jb_runner_plan(topo, &specs.v[i], err, sizeof(err));
        if (rc == JB_EINVAL || rc == JB_ERANGE || rc == JB_ENOENT)
            status = 2;
    }
    jb_topo_close(topo);
    if (rc) {
        fprintf(stderr, "joulebench run: %s\n", err);
        jb_spec_list_free(&specs);
        return status;
    }
    ro.progress = isatty(2);
    /* Every record is normalized (derived figures: per-MAC energy, roofline
     * fraction, carbon, water) before it is written, and stored in the
     * results database after. */
    struct jb_results_sink_opts so = {.db = db,
                                      .no_store = !strcmp(db, "none"),
                                      .region = region,
                                      .grid = grid,
                                      .pue = pue,
                                      .wue = wue,
                                      .platform = platform};
    const char *slash = strrchr(db, '/');
    if (!so.no_store && slash && !strstr(db, "://")) {
        /* A database file in a folder that does not exist yet (results/ in
         * a fresh working directory) gets its folder. */
        char dir[1024];
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - db), db);
        if (jb_mkdir_p(dir, err, sizeof(err))) {
            fprintf(stderr, "joulebench run: --db %s: %s\n", db, err);
            jb_spec_list_free(&specs);
            return 1;
        }
    }
    struct jb_results_sink *sink = NULL;
    rc = jb_results_sink_open(&so, &sink, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench run: %s\n", err);
        jb_spec_list_free(&specs);
        return rc == JB_EINVAL || rc == JB_ENOENT ? 2 : 1;
    }
    ro.before_write = jb_results_before_write;
    ro.after_write = jb_results_after_write;
    ro.hook_ctx = sink;
    struct jb_runner *runner = NULL;
    rc = jb_runner_open(&ro, &runner, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench run: %s\n", err);
        jb_results_sink_close(sink);
        jb_spec_list_free(&specs);
        return 1;
    }
    signal(SIGINT, on_sigint);
    json_t *records = json_array();
    int failures = 0;
    for (int i = 0; i < specs.n && !interrupted; i++) {
        json_t *rec = NULL;
        char path[1024];
        rc = jb_runner_run(runner, &specs.v[i], &rec, path, sizeof(path), err, sizeof(err));
        if (rc) {
            failures++;
            fprintf(stderr, "joulebench run: %s\n", err);
        }
        if (rec)
            json_array_append_new(records, rec);
    }
    signal(SIGINT, SIG_DFL);
    if (jb_runner_close(runner, err, sizeof(err))) {
        fprintf(stderr, "joulebench run: %s\n", err);
        failures++;
    }
    jb_results_sink_close(sink);
    print_rows(fmt, records);
    if (fmt == FMT_TABLE)
        fprintf(stderr, "%zu record(s) written to %s\n", json_array_size(records), ro.out_dir);
    json_decref(records);
    jb_spec_list_free(&specs);
    if (interrupted) {
        fprintf(stderr, "joulebench run: interrupted; finished runs were written\n");
        return 130;
    }
    return failures ? 1 : 0;
}
