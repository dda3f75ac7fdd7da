/* provenance.c: what machine and software produced a result, for the
 * record's `system` object.
 *
 * Everything comes from files the kernel exports (/proc, /sys, /etc) read
 * through a root prefix, so that tests can point collection at a fake tree
 * (tests/data/sysinfo/) and check the parsing without the hardware. What
 * cannot be read is null: a result from a container without /sys is still a
 * result, and a missing field must never read as a value (0 W power limit,
 * "turbo off"). The fields and where each comes from are listed in
 * METHODOLOGY.md section 3 and in README ("Machine probe"). */
#include "harness/provenance.h"
#include "harness/topology.h"
#include "build_info.h"
#include "git_commit.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* /proc/cpuinfo of a 512-thread machine is 1 to 2 MiB; a longer one is
 * read in part and its processor count left null. */
#define PROV_CPUINFO_MAX (8 * 1024 * 1024)

struct prov {
    const char *root;
    int real; /* root is "/": uname may stand in for missing /proc entries */
};

static void path_of(const struct prov *p, const char *rel, char *buf, size_t n)
{
    size_t rl = strlen(p->root);
    int slash = rl > 0 && p->root[rl - 1] == '/';
    snprintf(buf, n, "%s%s%s", p->root, slash ? "" : "/", rel);
}

/* Reads up to n-1 bytes of root/rel into buf and strips trailing white
 * space; NULL when the file is missing, unreadable or empty. */
static char *read_rel(const struct prov *p, const char *rel, char *buf, size_t n)
{
    char path[1024];
    path_of(p, rel, path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t len = fread(buf, 1, n - 1, f);
    fclose(f);
    buf[len] = 0;
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        buf[--len] = 0;
    return len ? buf : NULL;
}

/* A JSON string of s, null for NULL. Bytes that are not UTF-8 (a command
 * line or a DMI string can hold any) become '?', so that the field is never
 * silently dropped. */
static json_t *str_or_null(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return json_null();
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
            *c = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

static json_t *strn_or_null(const char *s, size_t n)
{
    char *copy = strndup(s, n);
    json_t *j = str_or_null(copy);
    free(copy);
    return j;
}

static json_t *file_str(const struct prov *p, const char *rel)
{
    char buf[512];
    return str_or_null(read_rel(p, rel, buf, sizeof(buf)));
}

static json_t *file_int(const struct prov *p, const char *rel)
{
    char buf[64], *end;
    if (!read_rel(p, rel, buf, sizeof(buf)))
        return json_null();
    long long v = strtoll(buf, &end, 10);
    return end != buf && *end == 0 ? json_integer(v) : json_null();
}

/* "key\t: value" lines of cpuinfo; value of key in the block starting at s
 * (the block ends at an empty line). */
static int cpuinfo_value(const char *s, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *line = s; line && *line && *line != '\n';) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > kl && !strncmp(line, key, kl)) {
            /* the key, then only blanks before the colon: "model" must
             * not match "model name" */
            const char *colon = line + kl;
            while (colon < line + ll && (*colon == ' ' || *colon == '\t'))
                colon++;
            if (colon < line + ll && *colon == ':') {
                const char *v = colon + 1;
                while (*v == ' ' || *v == '\t')
                    v++;
                size_t vl = (size_t)(line + ll - v);
                if (vl >= n)
                    vl = n - 1;
                memcpy(out, v, vl);
                out[vl] = 0;
                while (vl > 0 && isspace((unsigned char)out[vl - 1]))
                    out[--vl] = 0;
                return 1;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return 0;
}

static int has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *s = list; (s = strstr(s, word)) != NULL; s += wl)
        if ((s == list || s[-1] == ' ') && (s[wl] == ' ' || s[wl] == 0))
            return 1;
    return 0;
}

/* CPU identity from the first processor block, the microcode of every
 * block (a mix means a partial update, worth seeing), the ISA extensions
 * the kernels choose between, and the hypervisor flag. */
static json_t *collect_cpu(const struct prov *p, int *hypervisor_flag)
{
    json_t *cpu = json_object();
    char *buf = malloc(PROV_CPUINFO_MAX);
    static const char *const isa[] = {
        "sse4_2",   "avx",         "avx2",        "fma",         "f16c",     "avx512f",
        "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile",
        "amx_bf16", "amx_int8",    "asimd",       "sve",         NULL};
    *hypervisor_flag = -1;
    char v[4096];
    const char *text = buf ? read_rel(p, "proc/cpuinfo", buf, PROV_CPUINFO_MAX) : NULL;
    json_object_set_new(
        cpu, "vendor",
        str_or_null(text && cpuinfo_value(text, "vendor_id", v, sizeof(v)) ? v : NULL));
    json_object_set_new(
        cpu, "model_name",
        str_or_null(text && cpuinfo_value(text, "model name", v, sizeof(v)) ? v : NULL));
    static const char *const nums[][2] = {
        {"cpu family", "family"}, {"model", "model"}, {"stepping", "stepping"}};
    for (int i = 0; i < 3; i++) {
        json_t *val = json_null();
        if (text && cpuinfo_value(text, nums[i][0], v, sizeof(v))) {
            char *end;
            long x = strtol(v, &end, 10);
            if (end != v && !*end)
                val = json_integer(x);
        }
        json_object_set_new(cpu, nums[i][1], val);
    }
    /* microcode: every block's value; one string if all agree */
    json_t *micro = json_null();
    int nproc = 0;
    if (text) {
        char first[64] = "";
        int mixed = 0;
        for (const char *b = text; b;) {
            nproc++;
            if (cpuinfo_value(b, "microcode", v, sizeof(v))) {
                if (!first[0])
                    snprintf(first, sizeof(first), "%.63s", v);
                else if (strncmp(first, v, sizeof(first) - 1))
                    mixed = 1;
            }
            const char *next = strstr(b, "\nprocessor");
            b = next ? next + 1 : NULL;
        }
        if (first[0])
            micro = json_string(mixed ? "mixed" : first);
    }
    json_object_set_new(cpu, "microcode", micro);
    int truncated = text && strlen(text) >= PROV_CPUINFO_MAX - 1;
    json_object_set_new(cpu, "logical_cpus",
                        nproc && !truncated ? json_integer(nproc) : json_null());
    json_t *flags = json_null();
    if (text && (cpuinfo_value(text, "flags", v, sizeof(v)) ||
                 cpuinfo_value(text, "Features", v, sizeof(v)))) {
        flags = json_array();
        for (int i = 0; isa[i]; i++)
            if (has_word(v, isa[i]))
                json_array_append_new(flags, json_string(isa[i]));
        *hypervisor_flag = has_word(v, "hypervisor");
    }
    json_object_set_new(cpu, "isa_flags", flags);
    free(buf);
    return cpu;
}

static json_t *collect_memory(const struct prov *p)
{
    char buf[4096], v[64];
    const char *text = read_rel(p, "proc/meminfo", buf, sizeof(buf));
    if (!text || !cpuinfo_value(text, "MemTotal", v, sizeof(v)))
        return json_null();
    char *end;
    long long kb = strtoll(v, &end, 10);
    return end != v ? json_integer(kb * 1024) : json_null();
}

static json_t *collect_os(const struct prov *p)
{
    char buf[4096];
    const char *text = read_rel(p, "etc/os-release", buf, sizeof(buf));
    if (!text)
        text = read_rel(p, "usr/lib/os-release", buf, sizeof(buf));
    json_t *os = json_object();
    static const char *const keys[][2] = {
        {"PRETTY_NAME", "pretty_name"}, {"ID", "id"}, {"VERSION_ID", "version_id"}};
    for (int i = 0; i < 3; i++) {
        json_t *val = json_null();
        size_t kl = strlen(keys[i][0]);
        for (const char *line = text; line && *line;) {
            const char *eol = strchr(line, '\n');
            size_t ll = eol ? (size_t)(eol - line) : strlen(line);
            if (ll > kl && !strncmp(line, keys[i][0], kl) && line[kl] == '=') {
                const char *s = line + kl + 1;
                size_t sl = ll - kl - 1;
                if (sl >= 2 && (s[0] == '"' || s[0] == '\'') && s[sl - 1] == s[0]) {
                    s++;
                    sl -= 2;
                }
                val = strn_or_null(s, sl);
                break;
            }
            line = eol ? eol + 1 : NULL;
        }
        json_object_set_new(os, keys[i][1], val ? val : json_null());
    }
    return os;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of root/rel (no dot entries), so that records list
 * GPUs and power zones in a stable order; NULL when the directory is
 * missing. Free with free_names. */
static char **list_dir(const struct prov *p, const char *rel, int *n_out)
{
    char path[1024];
    path_of(p, rel, path, sizeof(path));
    *n_out = 0;
    DIR *d = opendir(path);
    if (!d)
        return NULL;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, sizeof(char *) * (size_t)cap);
            if (!nn)
                break;
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof(char *), cmp_str);
    *n_out = n;
    return names ? names : calloc(1, sizeof(char *));
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* NVIDIA driver and boards from the driver's /proc files; the NVML power
 * source records more (power limits, clocks) for the GPU it measures. */
static void collect_gpus(const struct prov *p, json_t *s)
{
    char buf[1024], rel[512];
    const char *line = read_rel(p, "proc/driver/nvidia/version", buf, sizeof(buf));
    json_t *drv = json_null();
    if (line) {
        drv = json_object();
        const char *nl = strchr(line, '\n');
        json_object_set_new(drv, "name", json_string("nvidia"));
        json_object_set_new(drv, "version_line",
                            strn_or_null(line, nl ? (size_t)(nl - line) : strlen(line)));
        /* The version is the first token of the first line made of digits
         * and dots: "NVRM version: NVIDIA UNIX x86_64 Kernel Module
         * 535.104.05 ..." and "NVRM version: NVIDIA UNIX Open Kernel Module
         * for x86_64  580.159.04  Release Build ..." alike. */
        json_t *ver = json_null();
        size_t first_len = nl ? (size_t)(nl - line) : strlen(line);
        for (size_t i = 0; i < first_len;) {
            while (i < first_len && isspace((unsigned char)line[i]))
                i++;
            size_t tl = 0;
            while (i + tl < first_len && !isspace((unsigned char)line[i + tl]))
                tl++;
            size_t dl = strspn(line + i, "0123456789.");
            if (tl > 2 && dl == tl && isdigit((unsigned char)line[i]) &&
                memchr(line + i, '.', tl)) {
                ver = strn_or_null(line + i, tl);
                break;
            }
            i += tl;
        }
        json_object_set_new(drv, "version", ver);
    }
    json_object_set_new(s, "gpu_driver", drv);

    int n;
    char **names = list_dir(p, "proc/driver/nvidia/gpus", &n);
    json_t *gpus = names ? json_array() : json_null();
    static const char *const keys[][2] = {{"Model", "model"},
                                          {"GPU UUID", "uuid"},
                                          {"Video BIOS", "vbios"},
                                          {"GPU Firmware", "firmware"},
                                          {"Bus Location", "bus"}};
    for (int i = 0; i < n; i++) {
        char info[4096], v[256];
        snprintf(rel, sizeof(rel), "proc/driver/nvidia/gpus/%s/information", names[i]);
        const char *text = read_rel(p, rel, info, sizeof(info));
        json_t *g = json_object();
        for (int k = 0; k < 5; k++)
            json_object_set_new(
                g, keys[k][1],
                str_or_null(text && cpuinfo_value(text, keys[k][0], v, sizeof(v)) ? v : NULL));
        if (json_is_null(json_object_get(g, "bus")))
            json_object_set_new(g, "bus", str_or_null(names[i]));
        json_array_append_new(gpus, g);
    }
    free_names(names, n);
    json_object_set_new(s, "gpus", gpus);

    /* Display-class PCI functions (class 0x03xxxx), with or without a
     * driver: says a GPU is there even where no driver reports it. */
    names = list_dir(p, "sys/bus/pci/devices", &n);
    json_t *pci = names ? json_array() : json_null();
    for (int i = 0; i < n; i++) {
        char cls[64], vend[64], dev[64];
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", names[i]);
        if (!read_rel(p, rel, cls, sizeof(cls)) || strncmp(cls, "0x03", 4))
            continue;
        json_t *d = json_object();
        json_object_set_new(d, "bus", str_or_null(names[i]));
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", names[i]);
        json_object_set_new(d, "vendor", str_or_null(read_rel(p, rel, vend, sizeof(vend))));
        snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", names[i]);
        json_object_set_new(d, "device", str_or_null(read_rel(p, rel, dev, sizeof(dev))));
        json_object_set_new(d, "class", str_or_null(cls));
        json_array_append_new(pci, d);
    }
    free_names(names, n);
    json_object_set_new(s, "pci_display_devices", pci);
}

/* Frequency policy: governor (one value if every cpu agrees, else "mixed"
 * and the per-cpu list), driver, limits, and turbo/boost where the driver
 * exports it. intel_pstate's no_turbo reads inverted: 1 means turbo off. */
static json_t *collect_frequency(const struct prov *p)
{
    json_t *f = json_object();
    int n;
    char **names = list_dir(p, "sys/devices/system/cpu", &n);
    char first[64] = "", rel[256], v[64];
    int mixed = 0, first_cpu = -1;
    json_t *per_cpu = json_object();
    for (int i = 0; i < n; i++) {
        const char *nm = names[i];
        if (strncmp(nm, "cpu", 3) || !isdigit((unsigned char)nm[3]) ||
            strspn(nm + 3, "0123456789") != strlen(nm + 3))
            continue;
        snprintf(rel, sizeof(rel), "sys/devices/system/cpu/%s/cpufreq/scaling_governor", nm);
        if (!read_rel(p, rel, v, sizeof(v)))
            continue;
        json_object_set_new(per_cpu, nm, str_or_null(v));
        if (!first[0]) {
            snprintf(first, sizeof(first), "%s", v);
            first_cpu = atoi(nm + 3);
        } else if (strcmp(first, v)) {
            mixed = 1;
        }
    }
    free_names(names, n);
    json_object_set_new(f, "governor",
                        first[0] ? json_string(mixed ? "mixed" : first) : json_null());
    if (mixed)
        json_object_set(f, "governor_per_cpu", per_cpu);
    json_decref(per_cpu);
    char base[128];
    snprintf(base, sizeof(base), "sys/devices/system/cpu/cpu%d/cpufreq",
             first_cpu < 0 ? 0 : first_cpu);
    static const char *const fk[][2] = {{"scaling_driver", "driver"},
                                        {"scaling_min_freq", "scaling_min_khz"},
                                        {"scaling_max_freq", "scaling_max_khz"},
                                        {"cpuinfo_max_freq", "cpuinfo_max_khz"}};
    for (int i = 0; i < 4; i++) {
        snprintf(rel, sizeof(rel), "%s/%s", base, fk[i][0]);
        json_object_set_new(f, fk[i][1], i ? file_int(p, rel) : file_str(p, rel));
    }
    json_object_set_new(f, "intel_pstate_status",
                        file_str(p, "sys/devices/system/cpu/intel_pstate/status"));
    static const struct {
        const char *rel;
        int inverted;
    } turbo[] = {{"sys/devices/system/cpu/intel_pstate/no_turbo", 1},
                 {"sys/devices/system/cpu/cpufreq/boost", 0},
                 {"sys/devices/system/cpu/cpufreq/policy0/boost", 0}};
    json_t *en = json_null(), *src = json_null();
    for (size_t i = 0; i < sizeof(turbo) / sizeof(turbo[0]); i++) {
        json_t *x = file_int(p, turbo[i].rel);
        if (json_is_integer(x)) {
            int on = json_integer_value(x) != 0;
            en = json_boolean(turbo[i].inverted ? !on : on);
            src = json_string(turbo[i].rel);
            json_decref(x);
            break;
        }
        json_decref(x);
    }
    json_object_set_new(f, "turbo_enabled", en);
    json_object_set_new(f, "turbo_source", src);
    return f;
}

/* powercap zones (RAPL and friends) with their constraints, in watts and
 * seconds; null when the machine exports none. */
static json_t *collect_power_limits(const struct prov *p)
{
    int n;
    char **names = list_dir(p, "sys/class/powercap", &n);
    json_t *zones = json_array();
    for (int i = 0; i < n; i++) {
        json_t *cons = json_array();
        for (int k = 0; k < 8; k++) {
            char rel[512];
            snprintf(rel, sizeof(rel), "sys/class/powercap/%s/constraint_%d_power_limit_uw",
                     names[i], k);
            json_t *uw = file_int(p, rel);
            if (!json_is_integer(uw)) {
                json_decref(uw);
                break;
            }
            json_t *c = json_object();
            snprintf(rel, sizeof(rel), "sys/class/powercap/%s/constraint_%d_name", names[i], k);
            json_object_set_new(c, "name", file_str(p, rel));
            json_object_set_new(c, "power_limit_w",
                                json_real((double)json_integer_value(uw) * 1e-6));
            json_decref(uw);
            snprintf(rel, sizeof(rel), "sys/class/powercap/%s/constraint_%d_time_window_us",
                     names[i], k);
            json_t *us = file_int(p, rel);
            json_object_set_new(c, "time_window_s",
                                json_is_integer(us)
                                    ? json_real((double)json_integer_value(us) * 1e-6)
                                    : json_null());
            json_decref(us);
            json_array_append_new(cons, c);
        }
        if (json_array_size(cons) == 0) { /* a control type ("intel-rapl"), not a zone */
            json_decref(cons);
            continue;
        }
        json_t *z = json_object();
        char rel[512];
        json_object_set_new(z, "zone", str_or_null(names[i]));
        snprintf(rel, sizeof(rel), "sys/class/powercap/%s/name", names[i]);
        json_object_set_new(z, "name", file_str(p, rel));
        snprintf(rel, sizeof(rel), "sys/class/powercap/%s/enabled", names[i]);
        json_t *e = file_int(p, rel);
        json_object_set_new(z, "enabled",
                            json_is_integer(e) ? json_boolean(json_integer_value(e)) : json_null());
        json_decref(e);
        json_object_set_new(z, "constraints", cons);
        json_array_append_new(zones, z);
    }
    free_names(names, n);
    if (json_array_size(zones) == 0) {
        json_decref(zones);
        return json_null();
    }
    return zones;
}

/* "always [madvise] never" -> "madvise" */
static json_t *bracketed(const struct prov *p, const char *rel)
{
    char buf[256];
    const char *s = read_rel(p, rel, buf, sizeof(buf));
    const char *a = s ? strchr(s, '[') : NULL, *b = a ? strchr(a, ']') : NULL;
    return a && b ? strn_or_null(a + 1, (size_t)(b - a - 1)) : str_or_null(s);
}

json_t *jb_provenance_collect(const struct jb_topo *t, int argc, char **argv,
                              const char *sysfs_root)
{
    struct prov p = {.root = sysfs_root && *sysfs_root ? sysfs_root : "/"};
    p.real = !strcmp(p.root, "/");
    json_t *s = json_object();
    if (!s)
        return NULL;
    struct utsname u;
    int have_uname = p.real && uname(&u) == 0;
    char buf[512];

    const char *v = read_rel(&p, "proc/sys/kernel/hostname", buf, sizeof(buf));
    json_object_set_new(s, "hostname", str_or_null(v ? v : have_uname ? u.nodename : NULL));
    v = read_rel(&p, "proc/sys/kernel/osrelease", buf, sizeof(buf));
    json_object_set_new(s, "kernel", str_or_null(v ? v : have_uname ? u.release : NULL));
    v = read_rel(&p, "proc/sys/kernel/version", buf, sizeof(buf));
    json_object_set_new(s, "kernel_version", str_or_null(v ? v : have_uname ? u.version : NULL));
    json_object_set_new(s, "arch", str_or_null(have_uname ? u.machine : NULL));
    json_object_set_new(s, "os", collect_os(&p));

    int hv_flag;
    json_object_set_new(s, "cpu", collect_cpu(&p, &hv_flag));
    if (t) {
        json_t *topo = json_object();
        jb_topo_describe(t, topo);
        json_object_set(s, "packages", json_object_get(topo, "packages"));
        json_object_set(s, "cores", json_object_get(topo, "cores"));
        json_object_set(s, "threads", json_object_get(topo, "pus"));
        json_object_set(s, "numa_nodes", json_object_get(topo, "numa_nodes"));
        json_object_set_new(s, "topology", topo);
        json_object_set_new(s, "topology_hash", json_string(jb_topo_hash(t)));
        json_object_set_new(s, "topology_xml", str_or_null(jb_topo_xml(t)));
    } else {
        static const char *const nulls[] = {"packages", "cores",        "threads", "numa_nodes",
                                            "topology", "topology_xml", NULL};
        for (int i = 0; nulls[i]; i++)
            json_object_set_new(s, nulls[i], json_null());
        json_object_set_new(s, "topology_hash", json_string(""));
    }
    json_object_set_new(s, "memory_bytes", collect_memory(&p));
    collect_gpus(&p, s);
    json_object_set_new(s, "frequency", collect_frequency(&p));
    json_object_set_new(s, "power_limits", collect_power_limits(&p));

    json_t *virt = json_object();
    json_t *hv_type = file_str(&p, "sys/hypervisor/type");
    json_object_set_new(virt, "hypervisor",
                        hv_flag == 1 || json_is_string(hv_type) ? json_true()
                        : hv_flag == 0                          ? json_false()
                                                                : json_null());
    json_object_set_new(virt, "hypervisor_flag", hv_flag < 0 ? json_null() : json_boolean(hv_flag));
    json_object_set_new(virt, "hypervisor_type", hv_type);
    json_object_set_new(virt, "dmi_sys_vendor", file_str(&p, "sys/class/dmi/id/sys_vendor"));
    json_object_set_new(virt, "dmi_product_name", file_str(&p, "sys/class/dmi/id/product_name"));
    json_object_set_new(s, "virtualization", virt);

    json_t *smt = file_int(&p, "sys/devices/system/cpu/smt/active");
    json_object_set_new(s, "smt_active",
                        json_is_integer(smt) ? json_boolean(json_integer_value(smt)) : json_null());
    json_decref(smt);
    json_object_set_new(
        s, "clocksource",
        file_str(&p, "sys/devices/system/clocksource/clocksource0/current_clocksource"));
    json_object_set_new(s, "transparent_hugepages",
                        bracketed(&p, "sys/kernel/mm/transparent_hugepage/enabled"));
    json_object_set_new(s, "perf_event_paranoid",
                        file_int(&p, "proc/sys/kernel/perf_event_paranoid"));

    json_object_set_new(s, "joulebench_version", json_string(JB_VERSION));
    json_object_set_new(s, "git_commit", json_string(JB_GIT_COMMIT));
    json_object_set_new(s, "build_type", json_string(JB_BUILD_TYPE));
    json_object_set_new(s, "compiler", json_string(JB_C_COMPILER));
    json_object_set_new(s, "cxx_compiler", json_string(JB_CXX_COMPILER));
    json_object_set_new(s, "compiler_flags", json_string(JB_C_FLAGS));
    json_t *cmd = json_array();
    for (int i = 0; i < argc && argv; i++)
        json_array_append_new(cmd, str_or_null(argv[i] ? argv[i] : ""));
    json_object_set_new(s, "command_line", cmd);
    return s;
}

json_t *jb_provenance_system(const struct jb_topo *t, int argc, char **argv,
                             const char *sysfs_root)
{
    json_t *sys = jb_provenance_collect(t, argc, argv, sysfs_root);
    if (!sys)
        return NULL;
    json_object_set_new(sys, "topology_hash", json_string(jb_topo_hash(t)));
    json_object_set_new(sys, "topology_xml", json_string(jb_topo_xml(t)));
    return sys;
}
