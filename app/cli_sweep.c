/* cli_sweep.c: `joulebench sweep`: a workload measured at each GPU power
 * limit or locked clock (harness/sweep.c does the sweeping and restoring),
 * the table, the Pareto CSV and the gnuplot plot. */
#include "app/cli_util.h"
#include "base/error.h"
#include "harness/nvml.h"
#include "harness/record.h"
#include "harness/suite.h"
#include "harness/sweep.h"
#include "workloads/workload.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    "  --dry-run             read the GPU's limits and print the plan: each setting,\n"
    "                        whether it is within them, what would be restored;\n"
    "                        sets nothing, runs no workload, writes no file\n"
    "  --out DIR             where the files go (not needed with --dry-run)\n"
    "Exit status: 0 done, 1 failed (no NVIDIA driver, refused, restore failed; for\n"
    "--dry-run: no setting within the GPU's limits), 2 bad input, 130/143/129\n"
    "interrupted by SIGINT/SIGTERM/SIGHUP (the points measured are written).\n";

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

/* A dry run's plan: the GPU, what it allows and is set to now, each
 * setting's verdict, and what the end of a real sweep would put back. */
static void sweep_print_plan(const struct jb_sweep_spec *sp, const struct jb_sweep_result *r,
                             const char *workload)
{
    const struct jb_sweep_limits *l = &r->limits;
    int power = sp->kind == JB_SWEEP_POWER_LIMIT;
    const char *unit = power ? "W" : "MHz";
    printf("dry run: nothing is set through NVML and %s is not run\n", workload);
    printf("GPU %d: %s, driver %s\n", sp->gpu, l->name, l->driver[0] ? l->driver : "unknown");
    if (l->have_power) {
        printf("power limit: %g W now", l->power_w);
        if (l->power_default_w > 0)
            printf(" (default %g W)", l->power_default_w);
        printf(", settable from %g to %g W\n", l->power_min_w, l->power_max_w);
    } else {
        printf("power limit: not readable\n");
    }
    if (l->have_clocks)
        printf("GPU clocks: %d supported from %g to %g MHz (memory at %g MHz)\n", l->nclocks,
               l->clock_min_mhz, l->clock_max_mhz, l->mem_mhz);
    else
        printf("GPU clocks: supported clocks not readable\n");
    if (l->app_mhz > 0)
        printf("application clocks: %g MHz now, default %g MHz\n", l->app_mhz, l->app_default_mhz);
    printf("locked clocks: NVML cannot read them back; clocks held by a setting now: %s\n",
           l->clocks_held < 0 ? "unknown"
           : l->clocks_held   ? "yes (reason applications_clocks_setting: application or locked "
                                "clocks)"
                              : "no");
    printf("permission: %s; NVML cannot be asked without trying\n",
           l->root ? "running as root, which NVML's set functions need"
                   : "not root: NVML would refuse every setting (its set functions need root)");
    if (l->unread[0])
        printf("not read: %s\n", l->unread);
    printf("plan: %s %g:%g:%g %s, %d setting(s), %d within the GPU's limits%s\n",
           power ? "power limit" : "GPU clock", sp->from, sp->to, sp->step, unit, r->n,
           r->n_in_range, (power ? l->have_power : l->have_clocks) ? "" : " (limits unknown)");
    for (int i = 0; i < r->n; i++) {
        const struct jb_sweep_point *p = &r->pts[i];
        char set[24];
        snprintf(set, sizeof(set), "%g %s", p->setting, unit);
        printf("  %-10s %-8s %s\n", set,
               p->in_range == 1   ? "ok"
               : p->in_range == 0 ? "REFUSED"
                                  : "?",
               p->note);
    }
    if (power && l->have_power)
        printf("afterwards: the power limit would be restored to %g W, the limit now%s\n",
               r->original,
               l->power_default_w > 0 && fabs(l->power_default_w - l->power_w) > 1e-3
                   ? " (not the default)"
                   : "");
    else if (!power)
        printf("afterwards: the GPU clocks would be unlocked (nvmlDeviceResetGpuLockedClocks)%s\n",
               l->clocks_held == 1 ? "; if a lock set before the sweep holds the clocks now, it "
                                     "would NOT come back (NVML cannot read it)"
                                   : "");
    fflush(stdout); /* before the messages on stderr that follow */
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
        snprintf(en, sizeof(en), "%s +- %s", jb_cli_fmt_energy(p->energy_j, e, sizeof(e)),
                 jb_cli_fmt_energy(p->energy_unc_j, u, sizeof(u)));
        printf("%-10s %12s %28s  %s%s\n", set, jb_cli_fmt_time(p->latency_s, lat, sizeof(lat)), en,
               p->pareto ? "pareto" : "", i == r->best_energy ? ", energy-optimal" : "");
    }
    fflush(stdout); /* before the messages on stderr that follow */
}

int jb_cli_sweep(int argc, char **argv)
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
    if (optind < argc || !workload || !range || (!out && !dry)) {
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
        if ((rc = jb_workload_open(ops, &wp, &m.w.state, werr, sizeof(werr)))) {
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
    if (res.pts && dry)
        sweep_print_plan(&sp, &res, workload);
    else if (res.pts)
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
    status = rc == JB_EINTR ? 128 + (res.interrupted ? res.interrupted : 2) : rc ? 1 : 0;
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
