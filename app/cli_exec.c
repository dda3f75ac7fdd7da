/* cli_exec.c: `joulebench exec`: options and commands (`-- A ARGS ::: B ARGS`
 * or repeated --cmd), the measurement of each through harness/exec.c with
 * the results hooks (normalize, store), and the summary: each command's time
 * and energy per unit with their uncertainties, and with several commands
 * the ratios to the first, as hyperfine does for time. */
#include "app/cli_util.h"
#include "app/run_hooks.h"
#include "base/error.h"
#include "harness/exec.h"
#include "harness/stats.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL);
}

static const char exec_usage[] =
    "usage: joulebench exec [options] -- CMD [ARGS...] [::: CMD2 [ARGS...] ...]\n"
    "       joulebench exec [options] --cmd 'SHELL COMMAND' [--cmd '...' ...]\n"
    "Measures whole runs of commands: time, energy (every power source, with its\n"
    "uncertainty), counters; one record per command, keyed by its command line.\n"
    "Several commands are compared with the first (ratio with uncertainty).\n"
    "  --runs N           measured runs (default 5)\n"
    "  --warmup-runs N    runs before them, not measured (default 0)\n"
    "  --units N          units one run produces; figures are per unit (default 1)\n"
    "  --unit NAME        what a unit is (default run)\n"
    "  --name NAME        the record's name instead of the command line (once per command)\n"
    "  --cmd STRING       a command run by /bin/sh -c (repeatable)\n"
    "  --power SPEC       auto (default), or NAME[:k=v,...][+NAME...]; see METHODOLOGY.md\n"
    "  --counters EVENTS  auto (default), none, or libpfm4 event names (inherited by children)\n"
    "  --idle S           measure idle power for S seconds before the runs\n"
    "  --pin POLICY       none (default), compact, scatter, or a cpu list like 0,2-3\n"
    "  --threads N        cpus the command is pinned to under --pin (default 1)\n"
    "  --timeout S        kill and fail a run still going after S seconds (default none)\n"
    "  --show-output      let the command write to stdout (default /dev/null)\n"
    "  --out DIR          where records go (default results/out)\n"
    "  --db URL           results database (default $JB_DB, else results/joulebench.db), or none\n"
    "  --format FMT       table (default) or json\n"
    "  --sysfs-root DIR   read sysfs under DIR (testing)\n"
    "A command may mark regions of its own (include/joulebench/marker.h,\n"
    "python/joulebench_marker.py); each becomes an entry of the record.\n";

#define MAX_CMDS 16

/* The options, declared once: name, kind, range, where the value goes. */
enum opt_kind { OPT_INT, OPT_SECONDS, OPT_STR, OPT_FLAG, OPT_LIST };
struct opt {
    const char *name;
    enum opt_kind kind;
    double min, max;
    void *dst;  /* int, double, const char * or, for OPT_LIST, const char *[MAX_CMDS] */
    int *count; /* OPT_LIST: values so far */
};

struct cli {
    struct jb_exec_opts xo;
    const char *db, *format;
    const char *cmd_strings[MAX_CMDS], *names[MAX_CMDS];
    int ncmd_strings, nnames;
};

static int set_opt(const struct opt *op, const char *arg)
{
    char *end;
    switch (op->kind) {
    case OPT_INT: {
        long v = strtol(arg, &end, 10);
        if (*end || end == arg || v < op->min || v > op->max) {
            fprintf(stderr, "joulebench exec: --%s %s: expected an integer from %g to %g\n",
                    op->name, arg, op->min, op->max);
            return 2;
        }
        *(int *)op->dst = (int)v;
        return 0;
    }
    case OPT_SECONDS: {
        double v = strtod(arg, &end);
        if (*end || end == arg || !(v >= op->min && v <= op->max)) {
            fprintf(stderr, "joulebench exec: --%s %s: expected seconds from %g to %g\n", op->name,
                    arg, op->min, op->max);
            return 2;
        }
        *(double *)op->dst = v;
        return 0;
    }
    case OPT_STR:
        *(const char **)op->dst = arg;
        return 0;
    case OPT_FLAG:
        *(int *)op->dst = 1;
        return 0;
    case OPT_LIST:
        if (*op->count == MAX_CMDS) {
            fprintf(stderr, "joulebench exec: at most %d --%s\n", MAX_CMDS, op->name);
            return 2;
        }
        ((const char **)op->dst)[(*op->count)++] = arg;
        return 0;
    }
    return 2;
}

/* "a b 'c d'": the command line as shown and keyed. */
static char *join_argv(char *const *argv)
{
    size_t n = 1;
    for (int i = 0; argv[i]; i++)
        n += strlen(argv[i]) * 4 + 3;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; argv[i]; i++) {
        int quote = !argv[i][0] || strpbrk(argv[i], " \t\n'\"\\$`*?;&|<>()") != NULL;
        if (i)
            *p++ = ' ';
        if (quote)
            *p++ = '\'';
        for (const char *q = argv[i]; *q; q++) {
            if (quote && *q == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *q;
            }
        }
        if (quote)
            *p++ = '\'';
    }
    *p = 0;
    return s;
}

/* The first available entry of an energy list, or the one of the same
 * source and domain as `like`. */
static const json_t *available_energy(const json_t *list, const json_t *like)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!json_is_true(json_object_get(e, "available")))
            continue;
        if (!like || (json_equal(json_object_get(e, "source"), json_object_get(like, "source")) &&
                      json_equal(json_object_get(e, "domain"), json_object_get(like, "domain"))))
            return e;
    }
    return NULL;
}

static const json_t *primary_energy(const json_t *rec, const json_t *like)
{
    return available_energy(json_object_get(json_object_get(rec, "measurements"), "energy"), like);
}

static double num(const json_t *o, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    return json_number_value(v);
}

/* Mean time per unit and its uncertainty, 2 s / sqrt(n): the coverage of
 * the energy figures' run-to-run term, so that both ratios state alike. */
static void time_mean(const json_t *rec, double *mean, double *u)
{
    const json_t *lat = json_object_get(json_object_get(rec, "measurements"), "latency_s");
    double n = num(lat, "n", NULL);
    *mean = num(lat, "mean", NULL);
    *u = n > 1 ? 2 * num(lat, "stddev", NULL) / sqrt(n) : NAN;
}

static void print_one(int i, const json_t *rec, const char *path)
{
    char a[32], b[32], c2[32], d[32];
    const json_t *w = json_object_get(rec, "workload");
    const char *unit = json_string_value(json_object_get(w, "unit"));
    double mean, u;
    time_mean(rec, &mean, &u);
    const json_t *lat = json_object_get(json_object_get(rec, "measurements"), "latency_s");
    printf("Command %d: %s\n", i + 1, json_string_value(json_object_get(w, "input_shape")));
    if (json_integer_value(json_object_get(lat, "n")) == 0)
        printf("  Time per run:   no run completed\n");
    else
        printf("  Time per run:   %s +- %s   [min %s, max %s; %lld run(s)]\n",
               jb_cli_fmt_time(mean, a, sizeof(a)),
               isfinite(u) ? jb_cli_fmt_time(u, b, sizeof(b)) : "n/a",
               jb_cli_fmt_time(num(lat, "min", NULL), c2, sizeof(c2)),
               jb_cli_fmt_time(num(lat, "max", NULL), d, sizeof(d)),
               (long long)json_integer_value(json_object_get(lat, "n")));
    size_t k;
    const json_t *e;
    json_array_foreach(json_object_get(json_object_get(rec, "measurements"), "energy"), k, e)
    {
        const char *src = json_string_value(json_object_get(e, "source"));
        const char *dom = json_string_value(json_object_get(e, "domain"));
        if (!json_is_true(json_object_get(e, "available"))) {
            printf("  Energy [%s %s]: unavailable: %s\n", src, dom,
                   json_string_value(json_object_get(e, "unavailable_reason")));
            continue;
        }
        int simulated = json_is_true(json_object_get(e, "simulated"));
        int measured = json_is_true(json_object_get(e, "measured"));
        printf("  Energy per %s:  %s +- %s   [%s %s, %s; %.3g W]\n", unit,
               jb_cli_fmt_energy(num(e, "joules_per_unit", NULL), a, sizeof(a)),
               jb_cli_fmt_energy(num(e, "uncertainty_joules_per_unit", NULL), b, sizeof(b)), src,
               dom,
               simulated  ? "SIMULATED"
               : measured ? "measured"
                          : "ESTIMATED",
               num(e, "average_power_w", NULL));
    }
    json_array_foreach(json_object_get(json_object_get(rec, "measurements"), "regions"), k, e)
    {
        const json_t *pe = available_energy(json_object_get(e, "energy"), NULL);
        printf("  Region %s: %lld instance(s), %s in all",
               json_string_value(json_object_get(e, "name")),
               (long long)json_integer_value(json_object_get(e, "instances")),
               jb_cli_fmt_time(num(e, "duration_s", NULL), a, sizeof(a)));
        if (pe)
            printf(", %s +- %s per unit [%s]",
                   jb_cli_fmt_energy(num(pe, "joules_per_unit", NULL), b, sizeof(b)),
                   jb_cli_fmt_energy(num(pe, "uncertainty_joules_per_unit", NULL), c2, sizeof(c2)),
                   json_string_value(json_object_get(pe, "source")));
        printf("\n");
    }
    const json_t *val = json_object_get(rec, "validity");
    if (!strcmp(json_string_value(json_object_get(val, "output_check")), "fail"))
        printf("  FAILED: %s\n", json_string_value(json_object_get(val, "check_detail")));
    json_array_foreach(json_object_get(val, "warnings"), k, e)
        printf("  warning: %s\n", json_string_value(e));
    printf("  record: %s\n", path);
}

/* "B is 1.42 +- 0.05 x faster and uses 0.71 +- 0.04 x the energy of A". */
static void print_comparison(const json_t *recs)
{
    const json_t *a = json_array_get(recs, 0);
    double ta, uta;
    time_mean(a, &ta, &uta);
    const json_t *ea = primary_energy(a, NULL);
    printf("Summary (ratios: first-order propagation of each mean's uncertainty, "
           "2 s/sqrt(n) for time, the stated energy uncertainty for energy; see METHODOLOGY.md)\n");
    for (size_t i = 1; i < json_array_size(recs); i++) {
        const json_t *b = json_array_get(recs, i);
        double tb, utb, r, ur;
        time_mean(b, &tb, &utb);
        jb_ratio_uncertainty(ta, uta, tb, utb, &r, &ur);
        printf("  Command %zu is ", i + 1);
        if (isfinite(r) && isfinite(ur))
            printf("%.3g +- %.2g x %s", r >= 1 ? r : 1 / r, r >= 1 ? ur : ur / (r * r),
                   r >= 1 ? "faster" : "slower");
        else if (isfinite(r))
            printf("%.3g x faster (no uncertainty: one run)", r);
        else
            printf("not comparable in time");
        const json_t *eb = ea ? primary_energy(b, ea) : NULL;
        if (eb) {
            double er, uer;
            jb_ratio_uncertainty(num(eb, "joules_per_unit", NULL),
                                 num(eb, "uncertainty_joules_per_unit", NULL),
                                 num(ea, "joules_per_unit", NULL),
                                 num(ea, "uncertainty_joules_per_unit", NULL), &er, &uer);
            if (isfinite(er))
                printf(" and uses %.3g +- %.2g x the energy of command 1 [%s %s]", er, uer,
                       json_string_value(json_object_get(ea, "source")),
                       json_string_value(json_object_get(ea, "domain")));
            else
                printf("; energy not comparable (zero or missing)");
        } else {
            printf("; no energy figure of the same source in both");
        }
        printf(" (time per run, energy per %s)\n",
               json_string_value(json_object_get(json_object_get(a, "workload"), "unit")));
    }
}

/* Fills c from the options; returns -1 to go on, else the exit status
 * (0 after --help). */
static int parse_options(int argc, char **argv, struct cli *cp)
{
    cp->xo = (struct jb_exec_opts){.runs = 5,
                                   .units = 1,
                                   .threads = 1,
                                   .out_dir = "results/out",
                                   .argc = argc + 1,
                                   .argv = argv - 1,
                                   .interrupted = &interrupted};
    cp->db = getenv("JB_DB") ? getenv("JB_DB") : "results/joulebench.db";
    cp->format = "table";
    const struct opt table[] = {
        {"runs", OPT_INT, 1, 1e6, &cp->xo.runs, NULL},
        {"warmup-runs", OPT_INT, 0, 1e6, &cp->xo.warmup_runs, NULL},
        {"units", OPT_INT, 1, 2e9, &cp->xo.units, NULL},
        {"unit", OPT_STR, 0, 0, &cp->xo.unit, NULL},
        {"name", OPT_LIST, 0, 0, cp->names, &cp->nnames},
        {"cmd", OPT_LIST, 0, 0, cp->cmd_strings, &cp->ncmd_strings},
        {"power", OPT_STR, 0, 0, &cp->xo.power, NULL},
        {"counters", OPT_STR, 0, 0, &cp->xo.counters, NULL},
        {"idle", OPT_SECONDS, 0, 3600, &cp->xo.idle_s, NULL},
        {"pin", OPT_STR, 0, 0, &cp->xo.pin, NULL},
        {"threads", OPT_INT, 1, 4096, &cp->xo.threads, NULL},
        {"timeout", OPT_SECONDS, 0, 1e6, &cp->xo.timeout_s, NULL},
        {"show-output", OPT_FLAG, 0, 0, &cp->xo.show_output, NULL},
        {"out", OPT_STR, 0, 0, &cp->xo.out_dir, NULL},
        {"db", OPT_STR, 0, 0, &cp->db, NULL},
        {"format", OPT_STR, 0, 0, &cp->format, NULL},
        {"sysfs-root", OPT_STR, 0, 0, &cp->xo.sysfs_root, NULL},
    };
    enum { NOPT = sizeof(table) / sizeof(table[0]) };
    struct option lopts[NOPT + 2];
    for (int i = 0; i < NOPT; i++)
        lopts[i] = (struct option){
            table[i].name, table[i].kind == OPT_FLAG ? no_argument : required_argument, 0, 256 + i};
    lopts[NOPT] = (struct option){"help", no_argument, 0, 'h'};
    lopts[NOPT + 1] = (struct option){0, 0, 0, 0};
    int ch;
    optind = 1;
    /* "+": the first word that is not an option starts the command */
    while ((ch = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
        if (ch == 'h') {
            fputs(exec_usage, stdout);
            return 0;
        }
        if (ch < 256 || ch >= 256 + NOPT) {
            fputs(exec_usage, stderr);
            return 2;
        }
        int rc = set_opt(&table[ch - 256], optarg);
        if (rc)
            return rc;
    }
    if (strcmp(cp->format, "json") && strcmp(cp->format, "table")) {
        fprintf(stderr, "joulebench exec: --format %s: expected table or json\n", cp->format);
        return 2;
    }
    return -1;
}
struct cmds {
    struct jb_exec_command v[MAX_CMDS];
    char **argvs[MAX_CMDS];
    char *display[MAX_CMDS];
    int n;
};

static void cmds_free(struct cmds *k)
{
    for (int i = 0; i < k->n; i++) {
        free(k->argvs[i]);
        free(k->display[i]);
    }
}

static int add_command(struct cmds *k, char *const *words, int n, const char *display)
{
    if (k->n == MAX_CMDS) {
        fprintf(stderr, "joulebench exec: at most %d commands\n", MAX_CMDS);
        return 2;
    }
    char **av = calloc((size_t)n + 1, sizeof(char *));
    if (!av)
        return 1;
    memcpy(av, words, (size_t)n * sizeof(char *));
    char *disp = display ? NULL : join_argv(av);
    if (!display && !disp) {
        free(av);
        return 1;
    }
    k->argvs[k->n] = av;
    k->display[k->n] = disp;
    k->v[k->n] = (struct jb_exec_command){av, display ? display : disp, NULL};
    k->n++;
    return 0;
}

/* The commands: the words after the options split at ":::", or each --cmd
 * string run by /bin/sh -c; with their --name. Returns 0 or an exit status. */
static int make_commands(const struct cli *c, char **words, int nwords, struct cmds *k)
{
    if (nwords && c->ncmd_strings) {
        fprintf(stderr, "joulebench exec: give commands after -- or with --cmd, not both\n");
        return 2;
    }
    int rc = 0;
    for (int i = 0; !rc && i < c->ncmd_strings; i++) {
        char *sh[3] = {"/bin/sh", "-c", (char *)c->cmd_strings[i]};
        rc = add_command(k, sh, 3, c->cmd_strings[i]);
    }
    for (int i = 0; !rc && !c->ncmd_strings && i <= nwords;) {
        int j = i;
        while (j < nwords && strcmp(words[j], ":::"))
            j++;
        if (j == i) {
            fprintf(stderr, "joulebench exec: an empty command (see --help)\n");
            return 2;
        }
        rc = add_command(k, words + i, j - i, NULL);
        i = j + 1;
    }
    if (rc)
        return rc;
    if (c->nnames > k->n) {
        fprintf(stderr, "joulebench exec: %d --name for %d command(s)\n", c->nnames, k->n);
        return 2;
    }
    for (int i = 0; i < c->nnames; i++)
        k->v[i].name = c->names[i];
    return 0;
}

/* Checks every command, then measures them in turn and prints. */
static int run_commands(struct cli *c, struct cmds *k)
{
    char err[JB_ERRLEN];
    for (int i = 0; i < k->n; i++) {
        int rc = jb_exec_plan(&c->xo, &k->v[i], err, sizeof(err));
        if (rc) {
            fprintf(stderr, "joulebench exec: %s\n", err);
            return rc == JB_ENOMEM || rc == JB_EIO ? 1 : 2;
        }
    }
    struct jb_results_sink_opts so = {.db = c->db, .no_store = !strcmp(c->db, "none")};
    struct jb_results_sink *sink = NULL;
    int rc = jb_results_sink_open(&so, &sink, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "joulebench exec: %s\n", err);
        return rc == JB_EINVAL || rc == JB_ENOENT ? 2 : 1;
    }
    int fmt_json = !strcmp(c->format, "json");
    c->xo.hooks = (struct jb_record_hooks){jb_results_before_write, jb_results_after_write, sink};
    c->xo.progress = isatty(2);
    signal(SIGINT, on_sigint);
    json_t *recs = json_array();
    int failures = 0;
    for (int i = 0; i < k->n && !interrupted; i++) {
        json_t *rec = NULL;
        char path[1024];
        rc = jb_exec_run(&c->xo, &k->v[i], &rec, path, sizeof(path), err, sizeof(err));
        if (rc) {
            failures++;
            fprintf(stderr, "joulebench exec: %s\n", err);
        }
        if (rec) {
            if (!fmt_json)
                print_one(i, rec, path);
            json_array_append_new(recs, rec);
        }
    }
    signal(SIGINT, SIG_DFL);
    jb_results_sink_close(sink);
    if (fmt_json) {
        json_dumpf(recs, stdout, JSON_INDENT(2));
        putchar('\n');
    } else if (json_array_size(recs) > 1 && json_array_size(recs) == (size_t)k->n) {
        print_comparison(recs);
    }
    json_decref(recs);
    return interrupted ? 130 : failures ? 1 : 0;
}

int jb_cli_exec(int argc, char **argv)
{
    struct cli c;
    memset(&c, 0, sizeof(c));
    int status = parse_options(argc, argv, &c);
    if (status >= 0)
        return status;
    struct cmds k;
    memset(&k, 0, sizeof(k));
    status = make_commands(&c, argv + optind, argc - optind, &k);
    if (!status)
        status = run_commands(&c, &k);
    cmds_free(&k);
    return status;
}
