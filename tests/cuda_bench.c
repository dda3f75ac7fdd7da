/* cuda_bench.c: the CUDA back-end's benchmark driver (jb_cuda_bench), run
 * on the GPU machine by platforms/cuda/device-run.sh.
 *
 * For each line of a plan file it opens a workload through the ordinary
 * workload interface, warms it up, and measures it over an interval whose
 * both ends are aligned with updates of NVML's total-energy counter (which
 * advances about every 100 ms on an H100): it spins until the counter
 * moves, runs steps for at least min_s, then keeps stepping until the
 * counter moves again. So the counter's quantization does not enter; what
 * remains is the misalignment of each end, at most one step plus one poll,
 * reported as the uncertainty. Two independent readings check the figure:
 * power samples integrated over the same interval by a second thread, and
 * the same counter read by another process (nvidia-smi) around it. GPU
 * clocks, temperature, power limit and throttle reasons are recorded at
 * both ends; a throttled run is flagged.
 *
 * Plan lines: workload dtype batch context min_s check [options]
 * Output: a CSV file (argument 2) and a table on stdout. */
#include "base/error.h"
#include "harness/nvml.h"
#include "workloads/workload.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Power sampler: integrates NVML power (trapezoids) while running. */
struct sampler {
    struct jb_nvml *nv;
    pthread_t th;
    volatile int run, active;
    double t_prev, w_prev, t_from, t_to, joules;
    pthread_mutex_t mu;
};

static void *sampler_main(void *arg)
{
    struct sampler *s = arg;
    char err[JB_ERRLEN];
    while (s->run) {
        unsigned mw = 0;
        double t = now_s();
        if (jb_nvml_power_mw(s->nv, 0, &mw, err, sizeof(err)) == 0) {
            pthread_mutex_lock(&s->mu);
            double w = mw / 1000.0;
            if (s->active && s->t_prev > 0) {
                /* Only the part of the trapezoid inside [t_from, t_to]. */
                double a = s->t_prev > s->t_from ? s->t_prev : s->t_from;
                double b = t < s->t_to ? t : s->t_to;
                if (b > a)
                    s->joules += 0.5 * (s->w_prev + w) * (b - a);
            }
            s->t_prev = t;
            s->w_prev = w;
            pthread_mutex_unlock(&s->mu);
        }
        usleep(2000);
    }
    return NULL;
}

/* The same counter read by another process: $JB_BENCH_ENERGY_CMD, or
 * python's NVML binding (nvidia-ml-py), printing millijoules. (This
 * driver's nvidia-smi has no total_energy_consumption query field.) */
static int smi_energy_j(double *j)
{
    const char *cmd = getenv("JB_BENCH_ENERGY_CMD");
    if (!cmd)
        cmd = "python3 -c 'import pynvml as n; n.nvmlInit(); "
              "print(n.nvmlDeviceGetTotalEnergyConsumption(n.nvmlDeviceGetHandleByIndex(0)))' "
              "2>/dev/null";
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    double mj = -1;
    int ok = fscanf(f, "%lf", &mj) == 1;
    pclose(f);
    if (!ok || mj < 0)
        return -1;
    *j = mj / 1000.0;
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Waits until the energy counter changes; returns the new value (mJ) and
 * the time it was seen. */
static int wait_counter(struct jb_nvml *nv, unsigned long long from, unsigned long long *to,
                        double *t, char *err, size_t errlen)
{
    double t0 = now_s();
    for (;;) {
        unsigned long long e;
        int rc = jb_nvml_energy_mj(nv, 0, &e, err, errlen);
        if (rc)
            return rc;
        if (e != from) {
            *to = e;
            *t = now_s();
            return 0;
        }
        if (now_s() - t0 > 2.0)
            return jb_err(err, errlen, JB_EUNAVAIL, "nvml: energy counter did not move in 2 s");
        usleep(200);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PLAN OUT.csv\n", argv[0]);
        return 2;
    }
    FILE *plan = fopen(argv[1], "r"), *csv = fopen(argv[2], "w");
    if (!plan || !csv) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    char err[JB_ERRLEN] = "";
    struct jb_nvml *nv = NULL;
    if (jb_nvml_open(NULL, &nv, err, sizeof(err)))
        fprintf(stderr, "no energy: %s\n", err);
    fprintf(csv,
            "workload,dtype,batch,context,kernel,step_ms_median,tokens_per_s,gb_per_s,frac_copy,"
            "energy_j,units,j_per_unit,uncertainty_pct,avg_power_w,power_integrated_j,"
            "power_vs_counter_pct,smi_delta_j,nvml_delta_j,smi_vs_nvml_pct,sm_mhz_start,sm_mhz_end,"
            "temp_c_start,temp_c_end,power_limit_w,reasons_start,reasons_end,throttled,check,"
            "bytes_per_unit,interval_s,other_process_outer_j,other_process_within\n");
    printf("%-18s %-5s %5s %5s %-28s %9s %10s %8s %6s %9s %7s %6s %6s %6s %s\n", "workload",
           "dtype", "batch", "ctx", "kernel", "step_ms", "units/s", "GB/s", "%copy", "J/unit",
           "+-%", "W", "pwr%", "smi%", "check");
    double copy_gbps = 0;
    char line[512];
    struct sampler smp = {0};
    pthread_mutex_init(&smp.mu, NULL);
    if (nv) {
        smp.nv = nv;
        smp.run = 1;
        pthread_create(&smp.th, NULL, sampler_main, &smp);
    }
    while (fgets(line, sizeof(line), plan)) {
        char wl[64], dt[16], opts[128] = "";
        int batch, ctx, check;
        double min_s;
        if (line[0] == '#' || sscanf(line, "%63s %15s %d %d %lf %d %127s", wl, dt, &batch, &ctx,
                                     &min_s, &check, opts) < 6)
            continue;
        const struct jb_workload_ops *w = jb_workload_find(wl);
        if (!w) {
            printf("%s: unknown workload\n", wl);
            continue;
        }
        struct jb_workload_params p = {.dtype = dt,
                                       .backend = "cuda",
                                       .batch = batch,
                                       .context = ctx,
                                       .threads = 1,
                                       .seed = 1234,
                                       .options = opts[0] ? opts : NULL};
        void *st = NULL;
        double t_open = now_s();
        int rc = jb_workload_open(w, &p, &st, err, sizeof(err));
        if (rc) {
            printf("%-18s %-5s %5d %5d refused: %s\n", wl, dt, batch, ctx, err);
            fprintf(csv, "%s,%s,%d,%d,refused,,,,,,,,,,,,,,,,,,,,,,,\"%s\",,\n", wl, dt, batch, ctx,
                    err);
            fflush(stdout);
            continue;
        }
        t_open = now_s() - t_open;
        struct jb_workload_info info;
        memset(&info, 0, sizeof(info));
        w->info(st, &info);
        /* Warm up for a second: clocks, power and NVML's averaged power
         * reading settle before the measured interval. */
        for (double tw = now_s(); !rc && now_s() - tw < 1.0;)
            rc = w->run(st, err, sizeof(err));
        /* Steps recorded per interval; a run is at most a few thousand. */
        size_t cap = 1 << 20, nsteps = 0;
        double *lat = malloc(sizeof(double) * cap);
        struct jb_gpu_state s0 = {0}, s1 = {0};
        unsigned long long e0 = 0, e1 = 0, epre = 0, epost = 0, b0 = 0, b1 = 0;
        double t0 = 0, t1 = 0, smi0 = -1, smi1 = -1;
        int have_e = nv != NULL;
        if (!rc && have_e) {
            /* Bracket the other process's read with our own: its value
             * must lie between the counter before and after it. */
            jb_nvml_energy_mj(nv, 0, &b0, err, sizeof(err));
            smi_energy_j(&smi0);
            if (jb_nvml_energy_mj(nv, 0, &epre, err, sizeof(err)) ||
                jb_nvml_state(nv, 0, &s0, err, sizeof(err)) ||
                wait_counter(nv, epre, &e0, &t0, err, sizeof(err))) {
                printf("  energy unavailable: %s\n", err);
                have_e = 0;
            }
        }
        if (!have_e)
            t0 = now_s();
        if (!rc && have_e) {
            pthread_mutex_lock(&smp.mu);
            smp.t_from = t0;
            smp.t_to = 1e300;
            smp.joules = 0;
            smp.active = 1;
            pthread_mutex_unlock(&smp.mu);
        }
        double t = t0;
        while (!rc) {
            double a = now_s();
            rc = w->run(st, err, sizeof(err));
            t = now_s();
            if (nsteps < cap)
                lat[nsteps++] = t - a;
            if (t - t0 >= min_s) {
                if (!have_e)
                    break;
                unsigned long long e;
                if (jb_nvml_energy_mj(nv, 0, &e, err, sizeof(err)) == 0 && e != e0 &&
                    t - t0 >= min_s) {
                    /* The counter moved after the last step ended: this is
                     * the end. (e0's update was seen at t0 the same way.) */
                    e1 = e;
                    break;
                }
            }
        }
        t1 = t;
        if (have_e) {
            pthread_mutex_lock(&smp.mu);
            smp.t_to = t1;
            pthread_mutex_unlock(&smp.mu);
            usleep(10000); /* one more sample past t1 closes the integral */
            pthread_mutex_lock(&smp.mu);
            smp.active = 0;
            pthread_mutex_unlock(&smp.mu);
            jb_nvml_state(nv, 0, &s1, err, sizeof(err));
            jb_nvml_energy_mj(nv, 0, &epost, err, sizeof(err));
            smi_energy_j(&smi1);
            jb_nvml_energy_mj(nv, 0, &b1, err, sizeof(err));
        }
        char chk[JB_ERRLEN] = "skipped";
        if (!rc && check) {
            char cerr[JB_ERRLEN] = "";
            int crc = w->check(st, cerr, sizeof(cerr));
            snprintf(chk, sizeof(chk), "%s", crc ? cerr : "pass");
        }
        if (rc) {
            printf("%-18s %-5s %5d %5d failed: %s\n", wl, dt, batch, ctx, err);
        } else {
            qsort(lat, nsteps, sizeof(double), cmp_d);
            double med = lat[nsteps / 2], dur = t1 - t0,
                   units = (double)nsteps * info.units_per_iteration;
            double ups = units / dur, gbps = ups * info.per_unit.bytes_moved / 1e9;
            if (!strcmp(wl, "cuda-copy"))
                copy_gbps = gbps;
            double ej = have_e ? (double)(e1 - e0) / 1000.0 : NAN, pw = ej / dur;
            /* Each end is off by at most one step (end) or one poll (start). */
            double unc = have_e ? pw * (med + 0.0004) / ej * 100.0 : NAN;
            double pint = have_e ? smp.joules : NAN;
            double smid = smi0 >= 0 && smi1 >= 0 ? smi1 - smi0 : NAN;
            double nvd = have_e ? (double)(epost - epre) / 1000.0 : NAN;
            /* The other process's delta must lie in [inner, outer]. */
            double outer = have_e ? (double)(b1 - b0) / 1000.0 : NAN;
            int smi_ok = smid >= nvd - 0.002 && smid <= outer + 0.002;
            char r0[160], r1[160];
            jb_nvml_reasons_str(s0.reasons, r0, sizeof(r0));
            jb_nvml_reasons_str(s1.reasons, r1, sizeof(r1));
            int thr = jb_nvml_throttled(s0.reasons) || jb_nvml_throttled(s1.reasons);
            printf("%-18s %-5s %5d %5d %-28s %9.3f %10.1f %8.1f %6.1f %9.4g %7.2f %6.0f %6.2f "
                   "%6.2f %s%s\n",
                   wl, dt, batch, ctx, info.kernel, med * 1e3, ups, gbps,
                   copy_gbps > 0 ? 100.0 * gbps / copy_gbps : NAN, ej / units, unc, pw,
                   100.0 * (pint - ej) / ej, smi_ok ? 100.0 * (smid - nvd) / nvd : NAN, chk,
                   thr ? " THROTTLED" : "");
            fprintf(csv,
                    "%s,%s,%d,%d,%s,%.6f,%.3f,%.3f,%.4f,%.4f,%.0f,%.6g,%.4f,%.2f,%.4f,%.3f,%.3f,%."
                    "3f,%.3f,"
                    "%u,%u,%u,%u,%.1f,%s,%s,%d,\"%s\",%.0f,%.4f,%.3f,%d\n",
                    wl, dt, batch, ctx, info.kernel, med * 1e3, ups, gbps,
                    copy_gbps > 0 ? gbps / copy_gbps : NAN, ej, units, ej / units, unc, pw, pint,
                    100.0 * (pint - ej) / ej, smid, nvd, 100.0 * (smid - nvd) / nvd, s0.sm_mhz,
                    s1.sm_mhz, s0.temp_c, s1.temp_c, s0.power_limit_mw / 1000.0, r0, r1, thr, chk,
                    info.per_unit.bytes_moved, dur, outer, smi_ok);
        }
        fflush(stdout);
        fflush(csv);
        (void)t_open;
        free(lat);
        w->close(st);
    }
    if (nv) {
        smp.run = 0;
        pthread_join(smp.th, NULL);
        jb_nvml_close(nv);
    }
    fclose(plan);
    fclose(csv);
    return 0;
}
