/* cli.c: the joulebench command line: list, probe, run, sweep, and the results
 * pipeline's subcommands (results/commands.c). Option parsing and printing
 * live here; measuring lives in runner.c. The only place that exits. */
#include "harness/cli.h"
#include "harness/counters.h"
#include "harness/energy.h"
#include "harness/error.h"
#include "harness/nvml.h"
#include "harness/power.h"
#include "harness/record.h"
#include "harness/runner.h"
#include "harness/suite.h"
#include "harness/sweep.h"
#include "harness/topology.h"
#include "results/commands.h"
#include "results/run_hooks.h"
#include "workloads/workload.h"
#include "build_info.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

enum jb_format { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_MD };

static int parse_format(const char *s, enum jb_format *f)
{
    if (!strcmp(s, "table"))
        *f = FMT_TABLE;
    else if (!strcmp(s, "json"))
        *f = FMT_JSON;
    else if (!strcmp(s, "csv"))
        *f = FMT_CSV;
    else if (!strcmp(s, "md"))
        *f = FMT_MD;
    else
        return JB_EINVAL;
    return JB_OK;
}

/* ---- list ---------------------------------------------------------------- */

static const char list_usage[] =
    "usage: joulebench list [--format table|json]\n"
    "Lists the workloads, suites, power sources and back-ends of this build.\n";

static int cmd_list(int argc, char **argv)
{
    enum jb_format fmt = FMT_TABLE;
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(list_usage, stdout);
            return 0;
        }
        if (c != 'f' || parse_format(optarg, &fmt)) {
            fputs(list_usage, stderr);
            return 2;
        }
    }
    json_t *all = json_object(), *wl = json_array(), *su = json_array(), *ps = json_array();
    for (int i = 0; jb_workloads[i]; i++) {
        const struct jb_workload_ops *w = jb_workloads[i];
        json_array_append_new(wl, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", w->name,
                                            "family", w->family, "unit", w->unit, "dtypes",
                                            w->dtypes, "backends", w->backends, "description",
                                            w->description));
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s",
             getenv("JB_SUITES_DIR") ? getenv("JB_SUITES_DIR") : JB_SOURCE_DIR "/suites");
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            json_array_append_new(su, json_string(e->d_name));
    if (d)
        closedir(d);
    for (int i = 0; jb_power_sources[i]; i++)
        json_array_append_new(ps, json_pack("{s:s, s:s, s:b}", "name", jb_power_sources[i]->name,
                                            "description", jb_power_sources[i]->description,
                                            "hardware", jb_power_sources[i]->is_hardware));
    json_object_set_new(all, "workloads", wl);
    json_object_set_new(all, "suites", su);
    json_object_set_new(all, "power_sources", ps);
#ifdef JB_HAVE_CUDA
    json_object_set_new(all, "backends", json_pack("[s, s]", "cpu", "cuda"));
#else
    json_object_set_new(all, "backends", json_pack("[s]", "cpu"));
#endif
    if (fmt == FMT_JSON) {
        json_dumpf(all, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(all);
        return 0;
    }
    size_t i;
    json_t *v;
    printf("Workloads:\n");
    printf("  %-18s %-12s %-10s %-22s %-9s %s\n", "name", "family", "unit", "dtypes", "backends",
           "description");
    json_array_foreach(wl, i, v)
    {
        printf("  %-18s %-12s %-10s %-22s %-9s %s\n",
               json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "family")),
               json_string_value(json_object_get(v, "unit")),
               json_string_value(json_object_get(v, "dtypes")),
               json_string_value(json_object_get(v, "backends")),
               json_string_value(json_object_get(v, "description")));
    }
    printf("Suites (%s):\n ", dir);
    json_array_foreach(su, i, v) printf(" %s", json_string_value(v));
    printf("\nPower sources:\n");
    json_array_foreach(ps, i, v)
    {
        printf("  %-14s %s\n", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "description")));
    }
#ifdef JB_HAVE_CUDA
    printf("Back-ends: cpu, cuda (built; needs an NVIDIA GPU at run time)\n");
#else
    printf("Back-ends: cpu (CUDA back-end not built: no CUDA compiler found at configure time)\n");
#endif
    json_decref(all);
    return 0;
}

/* ---- probe --------------------------------------------------------------- */

static const char probe_usage[] =
    "usage: joulebench probe [--format table|json] [--sysfs-root DIR]\n"
    "Describes what this machine has for measuring: topology, performance\n"
    "counters and power sources, saying why each absent one is absent.\n";

static void print_probe_list(const char *title, json_t *arr)
{
    size_t i;
    json_t *v;
    printf("%s:\n", title);
    json_array_foreach(arr, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *state = json_string_value(json_object_get(v, "state"));
        const char *reason = json_string_value(json_object_get(v, "reason"));
        printf("  %-16s %-8s %s\n", name ? name : "?", state ? state : "?",
               reason ? reason : "");
        json_t *doms = json_object_get(v, "domains");
        size_t j;
        json_t *d;
        json_array_foreach(doms, j, d)
        {
            char *s = json_dumps(d, JSON_COMPACT);
            printf("      %s\n", s ? s : "");
            free(s);
        }
    }
}

static int cmd_probe(int argc, char **argv)
{
    enum jb_format fmt = FMT_TABLE;
    const char *sysfs = NULL;
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"sysfs-root", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:s:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(probe_usage, stdout);
            return 0;
        }
        if (c == 's')
            sysfs = optarg;
        else if (c != 'f' || parse_format(optarg, &fmt)) {
            fputs(probe_usage, stderr);
            return 2;
        }
    }
    char err[JB_ERRLEN];
    json_t *out = json_object(), *topo = json_object(), *ctr = json_object(), *pw = json_array();
    struct jb_topo *t = NULL;
    if (jb_topo_open(&t, err, sizeof(err)) == 0) {
        jb_topo_describe(t, topo);
        json_object_set_new(topo, "hash", json_string(jb_topo_hash(t)));
        jb_topo_close(t);
    } else {
        json_object_set_new(topo, "error", json_string(err));
    }
    jb_counters_probe(ctr);
    jb_energy_probe(pw, sysfs);
    json_object_set_new(out, "topology", topo);
    json_object_set_new(out, "counters", ctr);
    json_object_set_new(out, "power_sources", pw);
    if (fmt == FMT_JSON) {
        json_dumpf(out, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        char *s = json_dumps(topo, JSON_INDENT(2));
        printf("Topology:\n%s\n", s ? s : "");
        free(s);
        json_t *par = json_object_get(ctr, "perf_event_paranoid");
        printf("Performance counters (perf_event_paranoid %s%" JSON_INTEGER_FORMAT
               "; libpfm4 %s):\n",
               json_is_integer(par) ? "" : "unreadable", json_integer_value(par),
               json_string_value(json_object_get(ctr, "libpfm4")));
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(ctr, "events"), i, ev)
        {
            int ok = json_is_true(json_object_get(ev, "available"));
            printf("  %-24s %-8s %-8s %s\n", json_string_value(json_object_get(ev, "name")),
                   json_string_value(json_object_get(ev, "type")), ok ? "works" : "absent",
                   ok ? "" : json_string_value(json_object_get(ev, "reason")));
        }
        if (json_is_string(json_object_get(ctr, "fallback")))
            printf("  => %s\n", json_string_value(json_object_get(ctr, "fallback")));
        print_probe_list("Power and energy sources", pw);
    }
    json_decref(out);
    return 0;
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
    "  --platform NAME       platform descriptor (platforms/descriptors) for embodied carbon\n"
    "  --sysfs-root DIR      read sysfs under DIR (testing)\n"
    "Values given on the command line override the suite's.\n";

static const char *fmt_energy(double j, char *buf, size_t n)
{
    double a = j < 0 ? -j : j;
    if (a >= 1)
        snprintf(buf, n, "%.4g J", j);
    else if (a >= 1e-3)
        snprintf(buf, n, "%.4g mJ", j * 1e3);
    else if (a >= 1e-6)
        snprintf(buf, n, "%.4g uJ", j * 1e6);
    else
        snprintf(buf, n, "%.4g nJ", j * 1e9);
    return buf;
}

static const char *fmt_time(double s, char *buf, size_t n)
{
    if (s >= 1)
        snprintf(buf, n, "%.4g s", s);
    else if (s >= 1e-3)
        snprintf(buf, n, "%.4g ms", s * 1e3);
    else
        snprintf(buf, n, "%.4g us", s * 1e6);
    return buf;
}

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
    fmt_time(json_number_value(json_object_get(lat, "median")), r->median, sizeof(r->median));
    fmt_time(json_number_value(json_object_get(lat, "p99")), r->p99, sizeof(r->p99));
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
                 fmt_energy(json_number_value(jpu), a, sizeof(a)),
                 fmt_energy(json_number_value(json_object_get(e, "uncertainty_joules_per_unit")),
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

static int cmd_run(int argc, char **argv)
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
            if (parse_format(optarg, &fmt)) {
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
    /* Check every workload name before measuring anything. */
    for (int i = 0; i < specs.n; i++)
        if (!jb_workload_find(specs.v[i].workload)) {
            fprintf(stderr, "joulebench run: %s: unknown workload '%s' (see joulebench list)\n",
                    specs.v[i].origin, specs.v[i].workload);
            jb_spec_list_free(&specs);
            return 2;
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

/* ---- sweep --------------------------------------------------------------- */

static const char sweep_usage[] =
    "usage: joulebench sweep --workload NAME (--power-limit A:B:STEP | --gpu-clock A:B:STEP)\n"
    "                        [options] --out DIR\n"
    "Runs one workload at each GPU power limit (W) or locked GPU clock (MHz) from A\n"
    "to B, measuring latency and energy per unit with the GPU's NVML energy counter,\n"
    "then puts the original setting back (also on Ctrl-C). Writes DIR/sweep.csv\n"
    "(every setting, its Pareto-front and energy-optimal marks), DIR/sweep.dat and\n"
    "DIR/sweep.gp (gnuplot), and DIR/sweep.svg when gnuplot is installed. Changing\n"
    "the settings needs root; refused settings are listed, not fatal.\n"
    "  --workload NAME       the workload (see joulebench list)\n"
    "  --power-limit A:B:STEP  power limits to apply, in watts\n"
    "  --gpu-clock A:B:STEP  GPU clocks to lock, in MHz (unlocked again at the end)\n"
    "  --gpu N               NVML index of the GPU (default 0)\n"
    "  --dtype D, --batch N, --context N, --backend cpu|cuda, --threads N,\n"
    "  --options K=V,...     the workload's configuration, as for run (one value each)\n"
    "  --min-time S          seconds measured per setting (default 1)\n"
    "  --repetitions N       measurements per setting; the median one is kept (default 1)\n"
    "  --dry-run             list the settings that would be applied; change nothing\n"
    "  --out DIR             where the files go\n"
    "Exit status: 0 done, 1 failed (no NVIDIA driver, refused, restore failed),\n"
    "2 bad input, 130 interrupted (the points measured are written).\n";

/* Measures one setting `reps` times through jb_sweep_measure_workload and
 * keeps the repetition of median energy, with its own latency and bound. */
struct sweep_reps {
    struct jb_sweep_workload w;
    int reps;
};

static int sweep_measure_reps(void *ctx, struct jb_sweep_point *pt, char *err, size_t errlen)
{
    struct sweep_reps *m = ctx;
    struct jb_sweep_point r[64]; /* the CLI allows at most 64 repetitions */
    int n = m->reps;
    for (int i = 0; i < n; i++) {
        int rc = jb_sweep_measure_workload(&m->w, &r[i], err, errlen);
        if (rc)
            return rc;
        /* insertion by energy: r[0..i] stays sorted */
        for (int j = i; j > 0 && r[j].energy_j < r[j - 1].energy_j; j--) {
            struct jb_sweep_point t = r[j];
            r[j] = r[j - 1];
            r[j - 1] = t;
        }
    }
    pt->latency_s = r[n / 2].latency_s;
    pt->energy_j = r[n / 2].energy_j;
    pt->energy_unc_j = r[n / 2].energy_unc_j;
    return 0;
}

static int sweep_write_csv(const char *path, const struct jb_sweep_spec *sp,
                           const struct jb_sweep_result *r, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return jb_err(err, errlen, JB_EIO, "cannot write %s", path);
    fprintf(f, "setting,unit,applied,latency_s,energy_j,energy_unc_j,pareto,energy_optimal,note\n");
    for (int i = 0; i < r->n; i++) {
        const struct jb_sweep_point *p = &r->pts[i];
        char note[sizeof(p->note)];
        snprintf(note, sizeof(note), "%s", p->note);
        for (char *q = note; *q; q++)
            if (*q == '"')
                *q = '\'';
        fprintf(f, "%g,%s,%d,%.9g,%.9g,%.9g,%d,%d,\"%s\"\n", p->setting,
                sp->kind == JB_SWEEP_POWER_LIMIT ? "W" : "MHz", p->applied, p->latency_s,
                p->energy_j, p->energy_unc_j, p->pareto, i == r->best_energy, note);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? jb_err(err, errlen, JB_EIO, "write error on %s", path) : 0;
}

/* Draws the plot with gnuplot, if there is one. */
static void sweep_plot(const char *gp, const char *svg)
{
    char *const argv[] = {(char *)"gnuplot", (char *)gp, NULL};
    pid_t pid;
    int status = 0, rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    if (rc == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0)
        fprintf(stderr, "joulebench sweep: plot: %s\n", svg);
    else if (rc == ENOENT || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
        fprintf(stderr,
                "joulebench sweep: gnuplot not found: install it and run `gnuplot %s` for %s\n",
                gp, svg);
    else
        fprintf(stderr, "joulebench sweep: gnuplot %s failed; no plot\n", gp);
}

static void sweep_print(const struct jb_sweep_spec *sp, const struct jb_sweep_result *r)
{
    const char *unit = sp->kind == JB_SWEEP_POWER_LIMIT ? "W" : "MHz";
    /* Every energy figure says where it comes from. */
    printf("energy: measured by NVML's total-energy counter of GPU %d (whole GPU), per unit, "
           "+- its uncertainty (METHODOLOGY 5)\n",
           sp->gpu);
    printf("%-10s %12s %28s  %s\n", "setting", "latency/unit", "energy/unit +- unc", "front");
    for (int i = 0; i < r->n; i++) {
        const struct jb_sweep_point *p = &r->pts[i];
        char set[24], lat[32], e[32], u[32], en[80];
        snprintf(set, sizeof(set), "%g %s", p->setting, unit);
        if (!p->applied) {
            printf("%-10s %12s %28s  %s\n", set, "-", "-", p->note);
            continue;
        }
        snprintf(en, sizeof(en), "%s +- %s", fmt_energy(p->energy_j, e, sizeof(e)),
                 fmt_energy(p->energy_unc_j, u, sizeof(u)));
        printf("%-10s %12s %28s  %s%s\n", set, fmt_time(p->latency_s, lat, sizeof(lat)), en,
               p->pareto ? "pareto" : "", i == r->best_energy ? ", energy-optimal" : "");
    }
    fflush(stdout); /* before the messages on stderr that follow */
}

static int cmd_sweep(int argc, char **argv)
{
    enum { O_WORKLOAD = 256, O_DTYPE, O_BATCH, O_CONTEXT, O_BACKEND, O_THREADS, O_OPTIONS,
           O_MINTIME, O_REPS, O_PLIMIT, O_CLOCK, O_GPU, O_DRY, O_OUT };
    static const struct option opts[] = {
        {"workload", required_argument, 0, O_WORKLOAD},
        {"dtype", required_argument, 0, O_DTYPE},
        {"batch", required_argument, 0, O_BATCH},
        {"context", required_argument, 0, O_CONTEXT},
        {"backend", required_argument, 0, O_BACKEND},
        {"threads", required_argument, 0, O_THREADS},
        {"options", required_argument, 0, O_OPTIONS},
        {"min-time", required_argument, 0, O_MINTIME},
        {"repetitions", required_argument, 0, O_REPS},
        {"power-limit", required_argument, 0, O_PLIMIT},
        {"gpu-clock", required_argument, 0, O_CLOCK},
        {"gpu", required_argument, 0, O_GPU},
        {"dry-run", no_argument, 0, O_DRY},
        {"out", required_argument, 0, O_OUT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    /* The run-spec keys of O_DTYPE..O_REPS, in that order. */
    static const char *const keys[] = {"dtype",   "batch",   "context",  "backend",
                                       "threads", "options", "min_time", "repetitions"};
    struct jb_run_spec rs;
    struct jb_sweep_spec sp = {0};
    const char *workload = NULL, *range = NULL, *out = NULL;
    int gpu = 0, dry = 0, c, rc;
    char err[JB_ERRLEN], *end;
    jb_spec_defaults(&rs);
    rs.min_time_s = 1; /* several updates of the ~100 ms counter */
    rs.repetitions = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(sweep_usage, stdout); return 0;
        case O_WORKLOAD: workload = optarg; break;
        case O_PLIMIT:
        case O_CLOCK:
            if (range) {
                fprintf(stderr, "joulebench sweep: give one of --power-limit or --gpu-clock\n");
                return 2;
            }
            range = optarg;
            sp.kind = c == O_PLIMIT ? JB_SWEEP_POWER_LIMIT : JB_SWEEP_GPU_CLOCK;
            break;
        case O_GPU:
            gpu = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || gpu < 0) {
                fprintf(stderr, "joulebench sweep: --gpu %s: expected an NVML index\n", optarg);
                return 2;
            }
            break;
        case O_DRY: dry = 1; break;
        case O_OUT: out = optarg; break;
        default:
            if (c < O_DTYPE || c > O_REPS) {
                fputs(sweep_usage, stderr);
                return 2;
            }
            if ((rc = jb_spec_set(&rs, keys[c - O_DTYPE], optarg, err, sizeof(err)))) {
                fprintf(stderr, "joulebench sweep: %s\n", err);
                return 2;
            }
        }
    }
    if (optind < argc || !workload || !range || !out) {
        fprintf(stderr, "joulebench sweep: %s\n",
                optind < argc ? "unexpected argument"
                : !workload   ? "--workload is required"
                : !range      ? "give --power-limit A:B:STEP or --gpu-clock A:B:STEP"
                              : "--out DIR is required");
        return 2;
    }
    if (rs.repetitions > 64) {
        fprintf(stderr, "joulebench sweep: --repetitions %d: at most 64 per setting\n",
                rs.repetitions);
        return 2;
    }
    const struct jb_workload_ops *ops = jb_workload_find(workload);
    if (!ops) {
        fprintf(stderr, "joulebench sweep: unknown workload '%s' (see joulebench list)\n",
                workload);
        return 2;
    }
    if (jb_sweep_parse(range, sp.kind, &sp, err, sizeof(err))) {
        fprintf(stderr, "joulebench sweep: %s\n", err);
        return 2;
    }
    sp.gpu = gpu;
    sp.dry_run = dry;

    struct jb_nvml *nv = NULL;
    struct jb_sweep_result res = {0};
    struct sweep_reps m = {.w = {.ops = ops, .gpu = gpu, .min_s = rs.min_time_s},
                           .reps = rs.repetitions};
    int status = 1;
    char dat[1100], gp[1100], svg[1100], csv[1100], title[256];
    if ((rc = jb_nvml_open(NULL, &nv, err, sizeof(err))))
        goto out;
    if (gpu >= jb_nvml_count(nv)) {
        rc = jb_err(err, sizeof(err), JB_ENOENT, "--gpu %d: the driver sees %d GPU(s)", gpu,
                    jb_nvml_count(nv));
        status = 2;
        goto out;
    }
    m.w.nv = nv;
    if (!dry) {
        struct jb_workload_params wp = {
            .dtype = rs.dtype[0] ? rs.dtype : NULL,
            .backend = rs.backend[0] ? rs.backend : NULL,
            .scenario = rs.batch > 1 ? JB_SCENARIO_OFFLINE : JB_SCENARIO_SINGLE_STREAM,
            .batch = rs.batch,
            .context = rs.context,
            .threads = rs.threads,
            .seed = 1,
            .options = rs.options[0] ? rs.options : NULL,
        };
        char werr[JB_ERRLEN];
        if ((rc = jb_mkdir_p(out, err, sizeof(err))))
            goto out;
        if ((rc = ops->open(&wp, &m.w.state, werr, sizeof(werr)))) {
            jb_err(err, sizeof(err), rc, "%s: %s", workload, werr);
            goto out;
        }
        struct jb_workload_info info;
        ops->info(m.w.state, &info);
        m.w.units_per_iteration = info.units_per_iteration > 0 ? info.units_per_iteration : 1;
    }
    /* jb_sweep_run catches SIGINT itself for as long as it runs, finishes
     * the point in flight and restores the GPU; the CLI installs no handler
     * of its own here, so that nothing else takes the signal. */
    rc = jb_sweep_run(&sp, nv, sweep_measure_reps, &m, &res, err, sizeof(err));
    if (res.pts)
        sweep_print(&sp, &res);
    if (!dry && res.pts) {
        int wrc;
        snprintf(csv, sizeof(csv), "%s/sweep.csv", out);
        snprintf(dat, sizeof(dat), "%s/sweep.dat", out);
        snprintf(gp, sizeof(gp), "%s/sweep.gp", out);
        snprintf(svg, sizeof(svg), "%s/sweep.svg", out);
        snprintf(title, sizeof(title), "%s: energy vs latency per %s over %s", workload,
                 ops->unit, sp.kind == JB_SWEEP_POWER_LIMIT ? "GPU power limits" : "GPU clocks");
        char werr[JB_ERRLEN];
        if ((wrc = sweep_write_csv(csv, &sp, &res, werr, sizeof(werr))) ||
            (wrc = jb_sweep_write_plot(&sp, &res, title, dat, gp, svg, werr, sizeof(werr)))) {
            fprintf(stderr, "joulebench sweep: %s\n", werr);
            if (!rc)
                rc = wrc;
        } else {
            fprintf(stderr, "joulebench sweep: wrote %s, %s, %s\n", csv, dat, gp);
            if (res.best_energy >= 0)
                sweep_plot(gp, svg);
        }
    }
    if (!dry && res.pts && sp.kind == JB_SWEEP_POWER_LIMIT)
        fprintf(stderr, "joulebench sweep: original power limit %g W %s\n", res.original,
                res.restored ? "restored" : "NOT restored");
    else if (!dry && res.pts)
        fprintf(stderr, "joulebench sweep: GPU clocks %s\n",
                res.restored ? "unlocked again" : "NOT unlocked");
    status = rc == JB_EINTR ? 130 : rc ? 1 : 0;
out:
    if (rc && rc != JB_EINTR)
        fprintf(stderr, "joulebench sweep: %s\n", err);
    else if (rc)
        fprintf(stderr, "joulebench sweep: %s; measured points were written\n", err);
    if (m.w.state)
        ops->close(m.w.state);
    jb_sweep_result_free(&res);
    jb_nvml_close(nv);
    return status;
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct jb_command commands[] = {
    {"list", "list workloads, suites, power sources and back-ends", cmd_list},
    {"probe", "describe this machine's topology, counters and power sources", cmd_probe},
    {"run", "run workloads or a suite and write result records", cmd_run},
    {"sweep", "sweep a GPU power limit or clock; time-energy Pareto front", cmd_sweep},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "joulebench %s (%s): energy, latency and carbon of ML workloads\n"
               "usage: joulebench COMMAND [options]; joulebench COMMAND --help\n\ncommands:\n",
            JB_VERSION, JB_GIT_COMMIT);
    for (int i = 0; commands[i].name; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    for (int i = 0; jb_results_commands[i].name; i++)
        fprintf(f, "  %-10s %s\n", jb_results_commands[i].name, jb_results_commands[i].summary);
}

int jb_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("joulebench %s (%s)\n", JB_VERSION, JB_GIT_COMMIT);
        return 0;
    }
    for (int i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    for (int i = 0; jb_results_commands[i].name; i++)
        if (!strcmp(argv[1], jb_results_commands[i].name))
            return jb_results_commands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "joulebench: unknown command '%s' (see joulebench --help)\n", argv[1]);
    return 2;
}
