/* test_cli_sweep.c: `joulebench sweep` as a user meets it, against the fake
 * NVML (tests/fake_nvml.c, through JB_NVML_LIB) with the fma workload: the
 * Pareto CSV and the gnuplot files are written, the front is not empty, and
 * the fake GPU's original power limit (or unlocked clocks) is back at the
 * end, also after SIGINT; a dry run prints the GPU's limits and the plan and
 * makes no set or reset call, runs nothing and writes nothing; no driver and
 * a bad range are one-line errors with exit 1 and 2. What the fake GPU was
 * left at, and how many set and reset calls it took, comes from its
 * FAKE_NVML_STATE_FILE, since the CLI is another process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmp[] = "/tmp/jb_cli_sweep_XXXXXX";
static char out_txt[1 << 14], err_txt[1 << 14], state_path[64];

/* What the fake GPU was left at. */
static int fake_state(unsigned *limit_mw, unsigned *locked_mhz, unsigned *sets)
{
    char buf[256];
    jb_test_slurp(state_path, buf, sizeof(buf));
    return sscanf(buf, "power_limit_mw=%u locked_mhz=%u sets=%u", limit_mw, locked_mhz, sets);
}

/* How many times the fake GPU's clocks were unlocked (-1: no state). */
static int fake_resets(void)
{
    char buf[256];
    unsigned a, b, c, r;
    jb_test_slurp(state_path, buf, sizeof(buf));
    return sscanf(buf, "power_limit_mw=%u locked_mhz=%u sets=%u resets=%u", &a, &b, &c, &r) == 4
               ? (int)r
               : -1;
}

/* Runs `joulebench sweep ARGS...` with stdout and stderr into files and
 * returns its exit status (128+N if killed by signal N). With interrupt set,
 * sends it SIGINT once the fake GPU reports its first change: the sweep is
 * then surely under way, however loaded the machine. */
static int sweep(const char *const *args, int interrupt)
{
    const char *argv[32] = {"sweep"};
    char o[64], e[64];
    int n = 1;
    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    snprintf(o, sizeof(o), "%s/stdout", tmp);
    snprintf(e, sizeof(e), "%s/stderr", tmp);
    unlink(state_path);
    pid_t pid = jb_test_spawn_cli(argv, o, e);
    for (int i = 0; interrupt && i < 6000; i++) { /* up to 60 s */
        unsigned limit, locked, sets = 0;
        if (fake_state(&limit, &locked, &sets) == 3 && sets > 0) {
            kill(pid, SIGINT);
            break;
        }
        jb_test_sleep_s(0.01);
    }
    int rc = jb_test_wait_cli(pid);
    jb_test_slurp(o, out_txt, sizeof(out_txt));
    jb_test_slurp(e, err_txt, sizeof(err_txt));
    print_message("%s", err_txt);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmp) || !getenv("JB_FAKE_NVML"))
        return -1;
    snprintf(state_path, sizeof(state_path), "%s/fake-state", tmp);
    setenv("JB_NVML_LIB", getenv("JB_FAKE_NVML"), 1);
    setenv("FAKE_NVML_STATE_FILE", state_path, 1);
    setenv("FAKE_NVML_LIMIT_W", "650", 1); /* not the maximum: restoring means this */
    setenv("FAKE_NVML_WATTS", "400", 1);   /* drawn: min(limit, 400 W) */
    setenv("FAKE_NVML_STEP_MS", "20", 1);  /* a quick counter keeps the test short */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    return system(cmd);
}

static void power_limit_sweep_writes_front_and_restores(void **state)
{
    (void)state;
    char out[64], path[128], csv[1 << 12];
    snprintf(out, sizeof(out), "%s/pl", tmp);
    assert_int_equal(sweep((const char *[]){"--workload", "fma", "--power-limit", "200:400:100",
                                            "--min-time", "0.3", "--out", out, NULL},
                           0),
                     0);
    static const char *const files[] = {"sweep.csv", "sweep.dat", "sweep.gp"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", out, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    assert_null(strstr(err_txt, "no plot"));
    if (!strstr(err_txt, "gnuplot not found")) { /* gnuplot is installed: it drew the svg */
        snprintf(path, sizeof(path), "%s/sweep.svg", out);
        assert_int_equal(access(path, R_OK), 0);
    }
    snprintf(path, sizeof(path), "%s/sweep.csv", out);
    jb_test_slurp(path, csv, sizeof(csv));
    int applied = 0, front = 0, optimal = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        double setting, lat, e, u;
        char unit[8];
        int a, p, o;
        assert_int_equal(sscanf(l + 1, "%lf,%7[^,],%d,%lf,%lf,%lf,%d,%d", &setting, unit, &a, &lat,
                                &e, &u, &p, &o),
                         8);
        applied += a;
        front += p;
        optimal += o;
        assert_true(!a || (lat > 0 && e > 0));
    }
    assert_int_equal(applied, 3);
    assert_true(front >= 1);
    assert_int_equal(optimal, 1);
    assert_non_null(strstr(out_txt, "pareto"));
    unsigned limit, locked, sets;
    assert_int_equal(fake_state(&limit, &locked, &sets), 3);
    assert_int_equal(limit, 650000); /* the original, not the maximum */
    assert_int_equal(sets, 4);       /* three settings and the restore */
    assert_non_null(strstr(err_txt, "650 W restored"));
}

static void sigint_restores(void **state)
{
    (void)state;
    char out[64], path[128];
    snprintf(out, sizeof(out), "%s/int", tmp);
    int rc = sweep((const char *[]){"--workload", "fma", "--power-limit", "200:600:100",
                                    "--min-time", "1", "--out", out, NULL},
                   1);
    assert_int_equal(rc, 130);
    unsigned limit, locked, sets;
    assert_int_equal(fake_state(&limit, &locked, &sets), 3);
    assert_int_equal(limit, 650000);
    assert_true(sets >= 2 && sets < 6); /* changed and restored; not every setting */
    assert_non_null(strstr(err_txt, "interrupted"));
    snprintf(path, sizeof(path), "%s/sweep.csv", out);
    assert_int_equal(access(path, R_OK), 0);
}

static void clock_sweep_unlocks_and_says_gnuplot_missing(void **state)
{
    (void)state;
    char out[64], *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    snprintf(out, sizeof(out), "%s/clk", tmp);
    setenv("PATH", "/nonexistent", 1);
    int rc = sweep((const char *[]){"--workload", "fma", "--gpu-clock", "1200:1300:100",
                                    "--min-time", "0.2", "--out", out, NULL},
                   0);
    if (path) {
        setenv("PATH", path, 1);
        free(path);
    }
    assert_int_equal(rc, 0);
    assert_non_null(strstr(err_txt, "gnuplot not found"));
    unsigned limit, locked, sets;
    assert_int_equal(fake_state(&limit, &locked, &sets), 3);
    assert_int_equal(locked, 0);
    assert_int_equal(sets, 2);
}

/* Neither a set nor a reset call reached the fake GPU, and its limit is the
 * one it started with. */
static void assert_untouched(void)
{
    unsigned limit, locked, sets;
    assert_int_equal(fake_state(&limit, &locked, &sets), 3);
    assert_int_equal(sets, 0);
    assert_int_equal(fake_resets(), 0);
    assert_int_equal(limit, 650000);
    assert_int_equal(locked, 0);
}

static void dry_run_changes_nothing(void **state)
{
    (void)state;
    char out[64];
    snprintf(out, sizeof(out), "%s/dry", tmp);
    assert_int_equal(sweep((const char *[]){"--workload", "fma", "--power-limit", "50:250:100",
                                            "--dry-run", "--out", out, NULL},
                           0),
                     0);
    assert_untouched();
    assert_int_equal(access(out, F_OK), -1); /* nothing written, not even the folder */
    /* The GPU, what it allows, each verdict, what would come back. */
    static const char *const says[] = {
        "dry run: nothing is set through NVML and fma is not run",
        "GPU 0: Fake H100 0, driver 999.99-fake",
        "power limit: 650 W now (default 700 W), settable from 100 to 700 W",
        "GPU clocks: 119 supported from 210 to 1980 MHz (memory at 2619 MHz)",
        "application clocks: 1755 MHz now, default 1755 MHz",
        "permission: ",
        "plan: power limit 50:250:100 W, 3 setting(s), 2 within the GPU's limits",
        "REFUSED  dry run: 50 W is outside the GPU's 100..700 W",
        "ok       dry run: would set 150 W",
        "afterwards: the power limit would be restored to 650 W, the limit now (not the default)",
    };
    for (size_t i = 0; i < sizeof(says) / sizeof(says[0]); i++)
        if (!strstr(out_txt, says[i]))
            fail_msg("the dry run does not say \"%s\":\n%s", says[i], out_txt);

    /* Clocks, without --out: the range checked against the supported
     * clocks, and the unlock at the end. */
    assert_int_equal(sweep((const char *[]){"--workload", "fma", "--gpu-clock", "1200:2100:300",
                                            "--dry-run", NULL},
                           0),
                     0);
    assert_untouched();
    assert_non_null(strstr(out_txt, "REFUSED  dry run: 2100 MHz is outside the GPU's 210..1980"));
    assert_non_null(strstr(out_txt, "ok       dry run: would set 1500 MHz"));
    assert_non_null(strstr(out_txt, "afterwards: the GPU clocks would be unlocked"));

    /* Nothing within the limits: exit 1, the plan still printed. */
    assert_int_equal(sweep((const char *[]){"--workload", "fma", "--power-limit", "750:800:50",
                                            "--dry-run", NULL},
                           0),
                     1);
    assert_untouched();
    assert_non_null(strstr(out_txt, "0 within the GPU's limits"));
    assert_non_null(strstr(err_txt, "no setting of 750..800 W is within GPU 0's 100..700 W"));
}

static void errors_and_help(void **state)
{
    (void)state;
    assert_int_equal(sweep((const char *[]){"--help", NULL}, 0), 0);
    static const char *const flags[] = {"--workload", "--power-limit", "--gpu-clock",   "--gpu",
                                        "--dry-run",  "--min-time",    "--repetitions", "--out"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (!strstr(out_txt, flags[i]))
            fail_msg("sweep --help does not mention %s", flags[i]);
    /* bad range: exit 2 before NVML is touched */
    assert_int_equal(sweep((const char *[]){"--workload", "fma", "--power-limit", "300:200:50",
                                            "--out", tmp, NULL},
                           0),
                     2);
    assert_non_null(strstr(err_txt, "--power-limit '300:200:50'"));
    assert_null(strchr(strchr(err_txt, '\n') + 1, '\n')); /* one line */
    /* no NVIDIA driver: exit 1, says so */
    setenv("JB_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
    int rc = sweep(
        (const char *[]){"--workload", "fma", "--power-limit", "200:300:100", "--out", tmp, NULL},
        0);
    setenv("JB_NVML_LIB", getenv("JB_FAKE_NVML"), 1);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err_txt, "no NVIDIA driver"));
    assert_null(strchr(strchr(err_txt, '\n') + 1, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(power_limit_sweep_writes_front_and_restores),
        cmocka_unit_test(sigint_restores),
        cmocka_unit_test(clock_sweep_unlocks_and_says_gnuplot_missing),
        cmocka_unit_test(dry_run_changes_nothing),
        cmocka_unit_test(errors_and_help),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
