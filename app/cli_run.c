/* cli_run.c: `joulebench run`: options and suite files to run specs, the
 * runner with the results hooks (normalize, store), and the summary table in
 * table, CSV, Markdown or JSON form. */
#include "app/cli_util.h"
#include "app/cmd_util.h"
#include "base/error.h"
#include "base/suggest.h"
#include "harness/record.h"
#include "harness/runner.h"
#include "harness/suite.h"
#include "results/config_key.h"
#include "results/formats.h"
#include "results/record_util.h"
#include "app/run_hooks.h"
#include "workloads/workload.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The signal that asked the run to stop (SIGINT, SIGTERM or SIGHUP: Ctrl-C,
 * a job scheduler or `timeout`, a closed terminal), 0 until one does. The
 * runner finishes the iteration in flight, writes what finished with the
 * interrupted run marked incomplete, removes its temporary files, and the
 * command exits 128 + the signal. Later signals change nothing: GNU timeout
 * sends one to the process and one to its group, and neither may cut the
 * write of a record in half. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    if (interrupted)
        return;
    interrupted = sig;
    static const char msg[] = "\njoulebench run: signal received: finishing the iteration in "
                              "flight, then writing what finished\n";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    (void)w;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))

/* Installs on_signal for the stop signals (restart: a write in flight is
 * not failed with EINTR), keeping the previous actions in old. */
static void catch_stop_signals(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSTOP_SIGNALS; i++)
        sigaddset(&sa.sa_mask, stop_signals[i]);
    for (size_t i = 0; i < NSTOP_SIGNALS; i++)
        sigaction(stop_signals[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction *old)
{
    for (size_t i = 0; i < NSTOP_SIGNALS; i++)
        sigaction(stop_signals[i], &old[i], NULL);
}

/* ---- run ----------------------------------------------------------------- */

static const char run_usage[] =
    "usage: joulebench run (--suite NAME | --workload NAME) [options]\n"
    "Runs workloads and writes one JSON record per run into --out.\n"
    "  --suite NAME          a suite file (suites/NAME, or a path)\n"
    "  --workload NAME       one workload (see joulebench list)\n"
    "  --dtype LIST          precision(s): fp32, int8, bf16, q8_0, q4_0... (comma list)\n"
    "  --backend NAME        cpu (default) or cuda\n"
    "  --scenario LIST       single-stream (default), offline, server, multi-stream\n"
    "  --target-qps LIST     server: mean Poisson arrival rate, queries/s (default 100)\n"
    "  --latency-bound-ms X  server, multi-stream: p99 latency bound (default: the\n"
    "                        family's, as MLPerf sets them; METHODOLOGY.md)\n"
    "  --streams N           multi-stream: units per query (default 8)\n"
    "  --interval-ms X       multi-stream: time between queries (default 50)\n"
    "  --find-peak           server: search the highest rate meeting the bound\n"
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
    "  --format FMT          table (default), md, csv, jsonl, sql or json: csv, jsonl and\n"
    "                        sql hold plain numbers, units in the column names\n"
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

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fmt_dur(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* On a terminal: a line as each run starts, with how many there are and,
 * from the second on, about how long the rest will take (the mean of the
 * runs so far; a suite's runs differ, so this is a rough guide). */
static void announce(int i, int n, double elapsed, const struct jb_run_spec *s)
{
    char el[32], eta[64] = "";
    fmt_dur(elapsed, el, sizeof(el));
    if (i > 0) {
        char rest[32];
        fmt_dur(elapsed / i * (n - i), rest, sizeof(rest));
        snprintf(eta, sizeof(eta), ", about %s left", rest);
    }
    fprintf(stderr, "\r\033[Krun %d of %d (%s elapsed%s): %s%s%s t%d\n", i + 1, n, el, eta,
            s->workload, s->dtype[0] ? " " : "", s->dtype, s->threads);
}

/* Not on a terminal (CI logs): one line per finished run, so that a long
 * suite shows its progress as it goes instead of all at the end. */
static void finished(int i, int n, double elapsed, const struct jb_run_spec *s, const json_t *rec,
                     int rc)
{
    char el[32], label[600] = "";
    fmt_dur(elapsed, el, sizeof(el));
    if (rec)
        jb_config_key_label(rec, JB_ACROSS_NONE, label, sizeof(label));
    const json_t *e = rec ? jb_rec_primary_energy(rec) : NULL;
    char lat[48] = "", en[64] = "", unit[80];
    if (rec) {
        jb_fmt_si(jb_rec_num(rec, "measurements.latency_s.median", NAN), "s", 0, lat,
                  sizeof(lat));
        snprintf(unit, sizeof(unit), "J/%s", jb_rec_str(rec, "workload.unit", "unit"));
        if (e)
            jb_fmt_si(jb_rec_num(e, "joules_per_unit", NAN), unit, 0, en, sizeof(en));
    }
    fprintf(stderr, "joulebench run: run %d of %d %s (%s elapsed): %s %s%s%s%s%s\n", i + 1, n,
            rc ? "failed" : "done", el, s->workload, label, lat[0] ? ", " : "", lat,
            en[0] ? ", " : "", en);
    fflush(stderr);
}

/* The first estimated energy figure of an invocation says why no counter
 * measured it: the reasons the sources' probes gave, which the runner put
 * in the record's warnings. Returns 1 once said (or when nothing is
 * estimated: a measured run needs no explanation, but a later estimated
 * one still does, so 0 then). */
static int explain_estimate(const json_t *rec)
{
    const json_t *e = jb_rec_primary_energy(rec);
    if (!e || json_is_true(json_object_get(e, "measured")) ||
        json_is_true(json_object_get(e, "simulated")))
        return 0;
    size_t i;
    const json_t *w;
    json_array_foreach(jb_rec_get(rec, "validity.warnings"), i, w)
    {
        const char *t = json_string_value(w);
        if (t && strstr(t, "estimated")) {
            fprintf(stderr, "joulebench run: energy is estimated, not measured: %s\n", t);
            return 1;
        }
    }
    fprintf(stderr,
            "joulebench run: energy is estimated, not measured: --power %s chose the model "
            "(source %s); see joulebench probe for the counters of this machine\n",
            jb_rec_str(rec, "config.power", "?"), jb_rec_str(e, "source", "?"));
    return 1;
}

/* One line for an unknown or incomplete option, with the nearest valid
 * one, instead of the whole usage. */
static void unknown_option(const char *arg, const struct option *opts)
{
    char typed[96];
    const char *names[64];
    size_t n = 0;
    snprintf(typed, sizeof(typed), "%s", arg + strspn(arg, "-"));
    typed[strcspn(typed, "=")] = '\0';
    for (; opts[n].name && n < 64; n++)
        names[n] = opts[n].name;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], typed) && opts[i].has_arg == required_argument) {
            fprintf(stderr, "joulebench run: option --%s needs a value (see joulebench run --help)\n",
                    typed);
            return;
        }
    const char *near = jb_suggest(typed, names, n);
    if (near)
        fprintf(stderr, "joulebench run: unknown option '%s'; did you mean --%s? (see joulebench run "
                        "--help)\n",
                arg, near);
    else
        fprintf(stderr, "joulebench run: unknown option '%s' (see joulebench run --help)\n", arg);
}

int jb_cli_run(int argc, char **argv)
{
    enum { O_SUITE = 256, O_WORKLOAD, O_DTYPE, O_BACKEND, O_SCENARIO, O_BATCH, O_CONTEXT,
           O_THREADS, O_PIN, O_OPTIONS, O_POWER, O_COUNTERS, O_MINTIME, O_REPS, O_WARMUP,
           O_IDLE, O_SEED, O_OUT, O_FORMAT, O_GBJSON, O_SYSFS, O_DB, O_REGION, O_GRID, O_PUE,
           O_WUE, O_PLATFORM, O_TARGET_QPS, O_BOUND, O_STREAMS, O_INTERVAL, O_FIND_PEAK };
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
        {"target-qps", required_argument, 0, O_TARGET_QPS},
        {"latency-bound-ms", required_argument, 0, O_BOUND},
        {"streams", required_argument, 0, O_STREAMS},
        {"interval-ms", required_argument, 0, O_INTERVAL},
        {"find-peak", no_argument, 0, O_FIND_PEAK},
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
    enum jb_rows_format fmt = JB_ROWS_TABLE;
    char err[JB_ERRLEN];
    /* JB_DB sets the default database (the tests set it to none). */
    const char *db = getenv("JB_DB") ? getenv("JB_DB") : "results/joulebench.db", *region = NULL, *grid = NULL, *pue = NULL,
               *wue = NULL, *platform = NULL;
    int c;
    optind = 1;
    opterr = 0; /* an unknown option is reported below, with a suggestion */
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
        case O_TARGET_QPS: key = "target_qps"; break;
        case O_BOUND: key = "latency_bound_ms"; break;
        case O_STREAMS: key = "streams"; break;
        case O_INTERVAL: key = "interval_ms"; break;
        case O_FIND_PEAK: key = "find_peak"; optarg = (char *)"1"; break;
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
        case O_SEED: {
            /* strtoull took "-1" as 2^64 - 1 */
            long long seed;
            if (jb_opt_long("--seed", optarg, 0, INT64_MAX, &seed, err, sizeof(err))) {
                fprintf(stderr, "joulebench run: %s\n", err);
                return 2;
            }
            ro.seed = (uint64_t)seed;
            break;
        }
        case O_FORMAT:
            if (jb_rows_format_parse(optarg, &fmt)) {
                fprintf(stderr, "joulebench run: --format %s: expected " JB_ROWS_FORMAT_NAMES "\n",
                        optarg);
                return 2;
            }
            break;
        default: unknown_option(argv[optind - 1], opts); return 2;
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
    struct jb_results_sink *sink = NULL;
    rc = jb_results_sink_open(&so, &sink, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench run: %s\n", err);
        jb_spec_list_free(&specs);
        return rc == JB_EINVAL || rc == JB_ENOENT ? 2 : 1;
    }
    ro.before_write = jb_results_before_write;
    ro.after_write = jb_results_after_write;
    ro.gbench_hook = jb_results_gbench;
    ro.hook_ctx = sink;
    struct jb_runner *runner = NULL;
    rc = jb_runner_open(&ro, &runner, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench run: %s\n", err);
        jb_results_sink_close(sink);
        jb_spec_list_free(&specs);
        return 1;
    }
    struct sigaction old_actions[NSTOP_SIGNALS];
    interrupted = 0;
    catch_stop_signals(old_actions);
    json_t *records = json_array();
    int failures = 0, explained = 0;
    double t0 = wall_s();
    for (int i = 0; i < specs.n && !interrupted; i++) {
        json_t *rec = NULL;
        char path[1024];
        if (ro.progress)
            announce(i, specs.n, wall_s() - t0, &specs.v[i]);
        rc = jb_runner_run(runner, &specs.v[i], &rec, path, sizeof(path), err, sizeof(err));
        if (rc) {
            failures++;
            fprintf(stderr, "joulebench run: %s\n", err);
        }
        if (!ro.progress)
            finished(i, specs.n, wall_s() - t0, &specs.v[i], rec, rc);
        if (rec && !explained)
            explained = explain_estimate(rec);
        if (rec)
            json_array_append_new(records, rec);
    }
    if (jb_runner_close(runner, err, sizeof(err))) {
        fprintf(stderr, "joulebench run: %s\n", err);
        failures++;
    }
    jb_results_sink_close(sink);
    jb_rows_write(stdout, fmt, records);
    if (fmt == JB_ROWS_TABLE)
        fprintf(stderr, "%zu record(s) written to %s\n", json_array_size(records), ro.out_dir);
    json_decref(records);
    jb_spec_list_free(&specs);
    /* The signal handlers stay until everything is written. */
    restore_signals(old_actions);
    if (interrupted) {
        fprintf(stderr, "joulebench run: interrupted (%s); finished runs were written\n",
                interrupted == SIGINT ? "SIGINT" : interrupted == SIGTERM ? "SIGTERM" : "SIGHUP");
        return 128 + interrupted;
    }
    return failures ? 1 : 0;
}
