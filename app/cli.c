/* cli.c: the joulebench command line: the dispatcher and the list and probe
 * subcommands; run (cli_run.c), sweep (cli_sweep.c) and the results
 * pipeline's subcommands (app/commands.c) have their own files. Option
 * parsing and printing live in the CLI; measuring lives in runner.c. The CLI
 * is the only place that exits. */
#include "app/cli.h"
#include "app/cli_util.h"
#include "harness/counters.h"
#include "base/datadir.h"
#include "harness/energy.h"
#include "base/error.h"
#include "base/suggest.h"
#include "harness/power.h"
#include "harness/topology.h"
#include "app/commands.h"
#include "workloads/workload.h"
#include "build_info.h"
#include "git_commit.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jb_cli_parse_format(const char *s, enum jb_format *f)
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

const char *jb_cli_fmt_energy(double j, char *buf, size_t n)
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

const char *jb_cli_fmt_time(double s, char *buf, size_t n)
{
    if (s >= 1)
        snprintf(buf, n, "%.4g s", s);
    else if (s >= 1e-3)
        snprintf(buf, n, "%.4g ms", s * 1e3);
    else
        snprintf(buf, n, "%.4g us", s * 1e6);
    return buf;
}

/* ---- list ---------------------------------------------------------------- */

static const char list_usage[] =
    "usage: joulebench list [--format table|json]\n"
    "       joulebench list --options WORKLOAD [--backend B]\n"
    "Lists the workloads, their back-ends (and why one cannot run here), suites,\n"
    "power sources and the folders its run-time files (schema, data, plots,\n"
    "platforms, suites) come from. --options prints the typed options of a\n"
    "workload and of its back-end (the family's default one unless --backend).\n";

static const char *const families[] = {"calibration", "tinyml", "llm", NULL};

/* Every back-end of every family, with whether it can run here and why not. */
static json_t *list_backends(void)
{
    json_t *arr = json_array();
    const struct jb_backend *b;
    for (int f = 0; families[f]; f++)
        for (int i = 0; (b = jb_backend_at(families[f], i)); i++) {
            char why[JB_ERRLEN];
            int rc = jb_backend_probe(b, why, sizeof(why));
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", b->name, "family",
                                  b->family, "version", b->version, "dtypes", b->dtypes,
                                  "description", b->description, "usable", rc == 0);
            if (rc)
                json_object_set_new(o, "why", json_string(why));
            json_array_append_new(arr, o);
        }
    return arr;
}

static int list_options(const char *name, const char *backend)
{
    char msg[JB_ERRLEN];
    const struct jb_workload_ops *w = jb_workload_find(name);
    const struct jb_backend *b;
    if (!w) {
        fprintf(stderr, "joulebench list: unknown workload '%s' (see joulebench list)\n", name);
        return 2;
    }
    if (jb_workload_backend(w, backend, &b, msg, sizeof(msg))) {
        fprintf(stderr, "joulebench list: %s\n", msg);
        return 2;
    }
    const struct jb_workload_ops *c = jb_workload_canonical(w);
    char title[160];
    snprintf(title, sizeof(title), "Options of %s (workload):", c->name);
    if (c->options && c->options->name)
        jb_options_print(stdout, title, c->options);
    else
        printf("%s none\n", title);
    snprintf(title, sizeof(title), "Options of back-end %s (%s):", b->name, b->family);
    if (b->options && b->options->name)
        jb_options_print(stdout, title, b->options);
    else
        printf("%s none\n", title);
    printf("dtypes on %s: %s (default %.*s)\n", b->name, b->dtypes, (int)strcspn(b->dtypes, ","),
           b->dtypes);
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    enum jb_format fmt = FMT_TABLE;
    const char *opt_workload = NULL, *opt_backend = NULL;
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"options", required_argument, 0, 'o'},
                                         {"backend", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(list_usage, stdout);
            return 0;
        }
        if (c == 'o') {
            opt_workload = optarg;
            continue;
        }
        if (c == 'b') {
            opt_backend = optarg;
            continue;
        }
        if (c != 'f' || jb_cli_parse_format(optarg, &fmt)) {
            fputs(list_usage, stderr);
            return 2;
        }
    }
    if (opt_workload)
        return list_options(opt_workload, opt_backend);
    json_t *all = json_object(), *wl = json_array(), *su = json_array(), *ps = json_array();
    json_t *bl = list_backends();
    for (int i = 0; jb_workloads[i]; i++) {
        const struct jb_workload_ops *w = jb_workloads[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", w->name, "family", w->family,
                              "unit", w->unit, "dtypes", w->dtypes, "description",
                              w->description);
        if (w->alias_of) {
            json_object_set_new(o, "alias_of", json_string(w->alias_of));
            json_object_set_new(o, "alias_backend", json_string(w->alias_backend));
        }
        /* the back-ends that can run it here, and why the others cannot */
        json_t *runs = json_array(), *cannot = json_object();
        size_t k;
        json_t *b;
        json_array_foreach(bl, k, b)
        {
            const char *bn = json_string_value(json_object_get(b, "name"));
            if (strcmp(json_string_value(json_object_get(b, "family")), w->family))
                continue;
            if (w->alias_backend && strcmp(bn, w->alias_backend))
                continue;
            if (!strcmp(w->family, "calibration") && json_is_true(json_object_get(b, "usable"))) {
                const struct jb_calib_backend_ops *cb =
                    jb_calib_backend(jb_backend_find("calibration", bn));
                if (!jb_calib_kernel_find(cb, jb_workload_canonical(w)->name))
                    continue;
            }
            if (json_is_true(json_object_get(b, "usable")))
                json_array_append_new(runs, json_string(bn));
            else
                json_object_set(cannot, bn, json_object_get(b, "why"));
        }
        json_object_set_new(o, "backends", runs);
        json_object_set_new(o, "unusable_backends", cannot);
        json_array_append_new(wl, o);
    }
    /* Suites: those of $JB_SUITES_DIR and the shipped ones, as `run --suite`
     * looks for them (suite.c), each name once. */
    char dirs[2][2048], shown[4200];
    jb_data_dir(JB_DATA_SUITES, dirs[0], sizeof(dirs[0]));
    jb_data_dir_shipped(JB_DATA_SUITES, dirs[1], sizeof(dirs[1]));
    int ndirs = strcmp(dirs[0], dirs[1]) ? 2 : 1;
    snprintf(shown, sizeof(shown), "%s%s%s", dirs[0], ndirs == 2 ? ", then " : "",
             ndirs == 2 ? dirs[1] : "");
    for (int k = 0; k < ndirs; k++) {
        DIR *d = opendir(dirs[k]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int seen = e->d_name[0] == '.';
            for (size_t j = 0; !seen && j < json_array_size(su); j++)
                seen = !strcmp(json_string_value(json_array_get(su, j)), e->d_name);
            if (!seen)
                json_array_append_new(su, json_string(e->d_name));
        }
        if (d)
            closedir(d);
    }
    /* Where each kind of run-time file is read from (datadir.h), so that an
     * installed binary can be seen to use its own share folder. */
    json_t *dd = json_object();
    for (int k = 0; k < JB_DATA_NKINDS; k++) {
        char p[4096];
        int found = jb_data_dir((enum jb_data_kind)k, p, sizeof(p)) == JB_OK;
        json_object_set_new(dd, jb_data_kind_name((enum jb_data_kind)k),
                            found ? json_string(p) : json_null());
    }
    for (int i = 0; jb_power_sources[i]; i++)
        json_array_append_new(ps, json_pack("{s:s, s:s, s:b}", "name", jb_power_sources[i]->name,
                                            "description", jb_power_sources[i]->description,
                                            "hardware", jb_power_sources[i]->is_hardware));
    json_object_set_new(all, "workloads", wl);
    json_object_set_new(all, "suites", su);
    json_object_set_new(all, "power_sources", ps);
    json_object_set_new(all, "data_dirs", dd);
    json_object_set_new(all, "backends", bl);
    if (fmt == FMT_JSON) {
        json_dumpf(all, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(all);
        return 0;
    }
    size_t i;
    json_t *v;
    printf("Workloads (back-ends that can run each here; aliases last):\n");
    printf("  %-22s %-12s %-10s %-26s %-10s %s\n", "name", "family", "unit", "dtypes", "runs on",
           "description");
    json_array_foreach(wl, i, v)
    {
        char on[64] = "";
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(v, "backends"), k, b)
            snprintf(on + strlen(on), sizeof(on) - strlen(on), "%s%s", k ? "," : "",
                     json_string_value(b));
        printf("  %-22s %-12s %-10s %-26s %-10s %s\n",
               json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "family")),
               json_string_value(json_object_get(v, "unit")),
               json_string_value(json_object_get(v, "dtypes")), on[0] ? on : "-",
               json_string_value(json_object_get(v, "description")));
    }
    printf("Suites (%s):\n ", shown);
    json_array_foreach(su, i, v) printf(" %s", json_string_value(v));
    printf("\nPower sources:\n");
    json_array_foreach(ps, i, v)
    {
        printf("  %-14s %s\n", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "description")));
    }
    printf("Back-ends:\n");
    json_array_foreach(bl, i, v)
    {
        int ok = json_is_true(json_object_get(v, "usable"));
        printf("  %-6s %-12s %-8s %s%s%s\n", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "family")), ok ? "usable" : "unusable",
               json_string_value(json_object_get(v, "description")), ok ? "" : ": ",
               ok ? "" : json_string_value(json_object_get(v, "why")));
    }
    printf("Run-time files:\n");
    const char *key;
    json_object_foreach(dd, key, v)
    {
        printf("  %-10s %s\n", key, json_is_string(v) ? json_string_value(v) : "(not found)");
    }
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
        else if (c != 'f' || jb_cli_parse_format(optarg, &fmt)) {
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

/* ---- dispatch ------------------------------------------------------------ */

static const struct jb_command commands[] = {
    {"list", "list workloads, suites, power sources and back-ends", cmd_list},
    {"probe", "describe this machine's topology, counters and power sources", cmd_probe},
    {"run", "run workloads or a suite and write result records", jb_cli_run},
    {"sweep", "sweep a GPU power limit or clock; time-energy Pareto front", jb_cli_sweep},
    {"exec", "measure whole runs of any command (and its marked regions); compare commands",
     jb_cli_exec},
    {"export-model", "write an LLM workload's weights as GGUF, with inputs and expected outputs",
     jb_cli_export_model},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "joulebench %s (%s): energy, latency and carbon of ML workloads\n"
               "usage: joulebench COMMAND [options]; joulebench COMMAND --help\n\ncommands:\n",
            JB_VERSION, JB_GIT_COMMIT);
    for (int i = 0; commands[i].name; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    for (int i = 0; jb_results_commands[i].name; i++)
        fprintf(f, "  %-12s %s\n", jb_results_commands[i].name, jb_results_commands[i].summary);
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
    const char *names[32];
    size_t n = 0;
    for (int i = 0; commands[i].name && n < 32; i++)
        names[n++] = commands[i].name;
    for (int i = 0; jb_results_commands[i].name && n < 32; i++)
        names[n++] = jb_results_commands[i].name;
    const char *near = jb_suggest(argv[1], names, n);
    if (near)
        fprintf(stderr, "joulebench: unknown command '%s'; did you mean '%s'? (see joulebench --help)\n",
                argv[1], near);
    else
        fprintf(stderr, "joulebench: unknown command '%s' (see joulebench --help)\n", argv[1]);
    return 2;
}
