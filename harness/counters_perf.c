/* counters_perf.c: the perf_event_open and libpfm4 plumbing that counting
 * (counters.c) and `joulebench probe` share: turning a name into a
 * perf_event_attr, opening it, and saying in words why the kernel refused
 * it. The probe lives here too: it opens each generic event alone, which is
 * all it needs of the counting machinery. */
#include "harness/counters.h"
#include "harness/counters_perf.h"
#include "base/error.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

long jb_perf_open(struct perf_event_attr *a, int group_fd)
{
    return syscall(SYS_perf_event_open, a, 0 /* this thread */, -1 /* any cpu */, group_fd,
                   PERF_FLAG_FD_CLOEXEC);
}

int jb_perf_paranoid(void)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int v = -99;
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = -99;
        fclose(f);
    }
    return v;
}

int jb_perf_has_cpu_pmu(void)
{
    return access("/sys/bus/event_source/devices/cpu", F_OK) == 0 ||
           access("/sys/bus/event_source/devices/cpu_core", F_OK) == 0 ||
           access("/sys/bus/event_source/devices/armv8_pmuv3_0", F_OK) == 0;
}

const char *jb_perf_errno_name(int e)
{
    switch (e) {
    case ENOENT:
        return "ENOENT";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    case EACCES:
        return "EACCES";
    case EPERM:
        return "EPERM";
    case EINVAL:
        return "EINVAL";
    case ENODEV:
        return "ENODEV";
    case EMFILE:
        return "EMFILE";
    case EBUSY:
        return "EBUSY";
    case ENOSYS:
        return "ENOSYS";
    default:
        return "errno";
    }
}

/* Why perf_event_open failed, in words a user can act on. */
void jb_perf_open_reason(int e, char *buf, size_t n)
{
    switch (e) {
    case ENOENT:
        snprintf(buf, n,
                 "ENOENT: the kernel has no PMU that counts this event%s (typical of a VM "
                 "without a virtual PMU)",
                 jb_perf_has_cpu_pmu() ? "" : "; /sys/bus/event_source/devices has no cpu PMU");
        break;
    case EOPNOTSUPP:
        snprintf(buf, n, "EOPNOTSUPP: the PMU cannot count this event in this mode");
        break;
    case EACCES:
    case EPERM:
        snprintf(buf, n,
                 "%s: permission denied (kernel.perf_event_paranoid=%d; 2 allows user-space "
                 "counting of one's own process, 3 forbids it on Debian): run as root, grant "
                 "CAP_PERFMON, or lower it with sysctl",
                 jb_perf_errno_name(e), jb_perf_paranoid());
        break;
    case EINVAL:
        snprintf(buf, n, "EINVAL: the kernel rejected this event's encoding");
        break;
    case ENODEV:
        snprintf(buf, n, "ENODEV: the PMU does not support this event");
        break;
    case EBUSY:
        snprintf(buf, n, "EBUSY: the PMU is held exclusively by another user");
        break;
    case ENOSYS:
        snprintf(buf, n,
                 "ENOSYS: perf_event_open is not available (kernel without perf events, or "
                 "blocked by a seccomp filter)");
        break;
    default:
        snprintf(buf, n, "%s", strerror(e));
    }
}

/* libpfm4 encoding of one name; JB_ENOENT with a message for unknown names.
 * Hardware events count user space only (PFM_PLM3). Software events are
 * encoded for kernel mode as well: context switches, migrations and most of
 * a page fault happen in the kernel, and a user-only context-switch count is
 * always 0. open_event falls back to user-only where that is refused. */
int jb_perf_encode(const char *name, struct perf_event_attr *a, char *fq, size_t fqlen, char *err,
                   size_t errlen)
{
    memset(a, 0, sizeof(*a));
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof(arg));
    char *fstr = NULL;
    arg.attr = a;
    arg.fstr = &fstr;
    arg.size = sizeof(arg);
    int r = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
    if (r == PFM_SUCCESS && a->type == PERF_TYPE_SOFTWARE) {
        free(fstr);
        fstr = NULL;
        memset(a, 0, sizeof(*a));
        r = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
    }
    if (r != PFM_SUCCESS)
        return jb_err(err, errlen, r == PFM_ERR_NOTFOUND ? JB_ENOENT : JB_EINVAL,
                      "counters: event '%s': libpfm4: %s (`joulebench probe` lists what this "
                      "machine counts)",
                      name, pfm_strerror(r));
    snprintf(fq, fqlen, "%s", fstr ? fstr : name);
    free(fstr);
    a->size = sizeof(*a);
    return JB_OK;
}

int jb_counters_probe(json_t *out)
{
    json_t *info = json_object();
    static const char *const probe_hw[] = {"cycles",
                                           "instructions",
                                           "ref-cycles",
                                           "cache-references",
                                           "cache-misses",
                                           "branch-instructions",
                                           "branch-misses",
                                           "stalled-cycles-frontend",
                                           NULL};
    static const char *const probe_sw[] = {"task-clock",     "cpu-clock",   "context-switches",
                                           "cpu-migrations", "page-faults", "major-faults",
                                           "minor-faults",   NULL};
    int paranoid = jb_perf_paranoid();
    json_object_set_new(info, "perf_event_paranoid",
                        paranoid == -99 ? json_null() : json_integer(paranoid));
    json_t *pmus = json_array();
    static const char *const kernel_pmus[] = {"cpu",      "cpu_core",      "cpu_atom",
                                              "software", "tracepoint",    "msr",
                                              "power",    "armv8_pmuv3_0", NULL};
    for (int i = 0; kernel_pmus[i]; i++) {
        char p[128];
        snprintf(p, sizeof(p), "/sys/bus/event_source/devices/%s", kernel_pmus[i]);
        if (access(p, F_OK) == 0)
            json_array_append_new(pmus, json_string(kernel_pmus[i]));
    }
    json_object_set_new(info, "kernel_pmus", pmus);
    int r = pfm_initialize();
    json_t *pfm_pmus = json_array();
    if (r == PFM_SUCCESS) {
        int pmu;
        pfm_for_all_pmus(pmu)
        {
            pfm_pmu_info_t info;
            memset(&info, 0, sizeof(info));
            info.size = sizeof(info);
            if (pfm_get_pmu_info((pfm_pmu_t)pmu, &info) == PFM_SUCCESS && info.is_present)
                json_array_append_new(pfm_pmus, json_string(info.name));
        }
    }
    json_object_set_new(info, "libpfm4_pmus", pfm_pmus);
    json_object_set_new(info, "libpfm4",
                        r == PFM_SUCCESS ? json_string("initialized")
                                         : json_string(pfm_strerror(r)));
    json_t *list = json_array();
    int hw_ok = 0;
    char first_hw_reason[300] = "";
    for (int pass = 0; pass < 2; pass++) {
        const char *const *names = pass ? probe_sw : probe_hw;
        for (int i = 0; names[i]; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(names[i]));
            json_object_set_new(e, "type", json_string(pass ? "software" : "hardware"));
            struct perf_event_attr a;
            char fq[256], why[300] = "";
            int ok = 0;
            if (r != PFM_SUCCESS) {
                snprintf(why, sizeof(why), "libpfm4 did not initialize: %s", pfm_strerror(r));
            } else if (jb_perf_encode(names[i], &a, fq, sizeof(fq), why, sizeof(why)) == JB_OK) {
                a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
                long fd = jb_perf_open(&a, -1);
                if (fd < 0 && (errno == EACCES || errno == EPERM) && !a.exclude_kernel) {
                    a.exclude_kernel = 1;
                    fd = jb_perf_open(&a, -1);
                }
                if (fd >= 0) {
                    json_object_set_new(e, "modes",
                                        json_string(a.exclude_kernel ? "user" : "user+kernel"));
                    ok = 1;
                    close((int)fd);
                } else {
                    int e2 = errno;
                    jb_perf_open_reason(e2, why, sizeof(why));
                    json_object_set_new(e, "errno", json_string(jb_perf_errno_name(e2)));
                }
            }
            json_object_set_new(e, "state", json_string(ok ? "working" : "absent"));
            json_object_set_new(e, "available", json_boolean(ok));
            json_object_set_new(e, "reason", ok ? json_null() : json_string(why));
            if (!pass && ok)
                hw_ok++;
            if (!pass && !ok && !first_hw_reason[0])
                snprintf(first_hw_reason, sizeof(first_hw_reason), "%s", why);
            json_array_append_new(list, e);
        }
    }
    json_object_set_new(info, "events", list);
    json_object_set_new(info, "hardware_available", json_boolean(hw_ok > 0));
    if (hw_ok == 0) {
        char fb[400];
        snprintf(fb, sizeof(fb), "no hardware counters (%s); runs count software events only",
                 first_hw_reason);
        json_object_set_new(info, "fallback", json_string(fb));
    } else {
        json_object_set_new(info, "fallback", json_null());
    }
    if (!json_is_array(out)) {
        json_object_update(out, info);
        json_decref(info);
        return JB_OK;
    }
    /* The list form `joulebench probe` prints: one entry per event, then a
     * summary entry with the kernel's side of the story. */
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) json_array_append(out, e);
    json_t *sum = json_object();
    char line[700];
    const char *fb = json_string_value(json_object_get(info, "fallback"));
    json_t *pm = json_object_get(info, "kernel_pmus");
    char pmlist[200] = "";
    json_array_foreach(pm, i, e)
    {
        size_t l = strlen(pmlist);
        snprintf(pmlist + l, sizeof(pmlist) - l, "%s%s", l ? "," : "", json_string_value(e));
    }
    snprintf(line, sizeof(line), "perf_event_paranoid=%d, kernel PMUs: %s; %s", paranoid,
             pmlist[0] ? pmlist : "none", fb ? fb : "hardware counters available");
    json_object_set_new(sum, "name", json_string("summary"));
    json_object_set_new(sum, "state", json_string(hw_ok ? "hardware" : "software"));
    json_object_set_new(sum, "reason", json_string(line));
    json_object_update(sum, info);
    json_object_del(sum, "events");
    json_array_append_new(out, sum);
    json_decref(info);
    return JB_OK;
}
