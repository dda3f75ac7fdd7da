/* marker_demo.c: a program measured by `joulebench exec` in the tests, built
 * against include/joulebench/marker.h alone (no libjb), as an outside
 * program would be. marker_demo LOAD_MS COMPUTE_MS [REPEATS]: REPEATS times
 * a region "load" that sleeps LOAD_MS and a region "compute" that spins on
 * the CPU for COMPUTE_MS and produces 10 units. Exits 0, or 3 when a marker
 * call fails under joulebench. */
#include <joulebench/marker.h>

#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double load_s = argc > 1 ? atof(argv[1]) / 1e3 : 0.05;
    double compute_s = argc > 2 ? atof(argv[2]) / 1e3 : 0.05;
    int repeats = argc > 3 ? atoi(argv[3]) : 1;
    int bad = 0;
    for (int i = 0; i < repeats; i++) {
        bad |= jb_region_begin("load");
        struct timespec ts = {(time_t)load_s, (long)((load_s - (double)(time_t)load_s) * 1e9)};
        nanosleep(&ts, NULL);
        bad |= jb_region_end("load", 1);
        bad |= jb_region_begin("compute");
        volatile double x = 0;
        for (double t0 = now_s(); now_s() - t0 < compute_s;)
            x += 1;
        bad |= jb_region_end("compute", 10);
    }
    return bad ? 3 : 0;
}
