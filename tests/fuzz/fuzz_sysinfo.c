/* fuzz_sysinfo.c: provenance parsing of /proc and /sys files. The input is
 * split at 0x01 bytes into the files of a scratch tree (cpuinfo, meminfo,
 * os-release, the NVIDIA driver's files, cpufreq, powercap, THP), which
 * jb_provenance_collect then reads. Whatever the files hold, collection
 * must return an object that serializes (no invalid UTF-8 kept, no field
 * lost) and must not touch memory it does not own. */
#include "harness/provenance.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const files[] = {
    "proc/cpuinfo",
    "proc/meminfo",
    "etc/os-release",
    "proc/driver/nvidia/version",
    "proc/driver/nvidia/gpus/0000:01:00.0/information",
    "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
    "sys/class/powercap/intel-rapl:0/constraint_0_power_limit_uw",
    "sys/kernel/mm/transparent_hugepage/enabled",
    NULL,
};

static void mkdirs(const char *root, const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = 0;
        mkdir(p, 0700);
        *s = '/';
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one scratch tree per process, made on the first call */
    static char root[64];
    if (!root[0]) {
        snprintf(root, sizeof(root), "/tmp/jb_fuzz_sysinfo_XXXXXX");
        if (!mkdtemp(root))
            abort();
        for (int i = 0; files[i]; i++)
            mkdirs(root, files[i]);
    }
    size_t off = 0;
    for (int i = 0; files[i]; i++) {
        size_t end = off;
        while (end < size && data[end] != 0x01)
            end++;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", root, files[i]);
        FILE *f = fopen(p, "w");
        if (!f)
            abort();
        if (end > off)
            fwrite(data + off, 1, end - off, f);
        fclose(f);
        off = end < size ? end + 1 : end;
    }
    char *argv[] = {"joulebench", "run"};
    json_t *s = jb_provenance_collect(NULL, 2, argv, root);
    if (!s)
        abort();
    char *dump = json_dumps(s, 0);
    if (!dump)
        abort();
    free(dump);
    json_decref(s);
    return 0;
}
