/* config_key.c: the configuration key (config_key.h). Each field is read
 * from the record by one entry of the table below, with the default an old
 * record missing the field is taken to have had; the key text is the
 * fields in table order, its id a hash of that text. */
#include "results/config_key.h"

#include "base/error.h"
#include "base/sha256.h"
#include "results/record_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string field, or dflt when absent or not a string. */
static void str_field(const json_t *r, const char *path, const char *dflt, char *buf, size_t n)
{
    const char *s = jb_rec_str(r, path, dflt);
    snprintf(buf, n, "%s", s ? s : "");
}

/* An integer field, or dflt when absent. */
static void int_field(const json_t *r, const char *path, long dflt, char *buf, size_t n)
{
    double v = jb_rec_num(r, path, (double)dflt);
    snprintf(buf, n, "%ld", isfinite(v) ? (long)v : dflt);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the words of a `sep`-separated list and drops repeats and empty
 * ones, joining them with `sep`: "b=2,a=1" and "a=1,b=2" are one
 * configuration. Words longer than the buffer are cut. */
static void canonical_list(const char **words, size_t nw, char sep, char *buf, size_t n)
{
    qsort(words, nw, sizeof(*words), cmp_str);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nw; i++) {
        if (!*words[i] || (i && !strcmp(words[i], words[i - 1])))
            continue;
        int w = snprintf(buf + len, n - len, "%s%s", len ? (char[2]){sep, 0} : "", words[i]);
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
}

static void options_field(const json_t *r, char *buf, size_t n)
{
    char tmp[1024];
    const char *words[64];
    size_t nw = 0;
    snprintf(tmp, sizeof(tmp), "%s", jb_rec_str(r, "config.options", ""));
    for (char *save = NULL, *w = strtok_r(tmp, ",", &save); w && nw < 64;
         w = strtok_r(NULL, ",", &save))
        words[nw++] = w;
    canonical_list(words, nw, ',', buf, n);
}

/* The set of power sources the run's energy entries came from, whatever
 * --power spelled ("auto" resolves differently on different machines). */
static void power_field(const json_t *r, char *buf, size_t n)
{
    const char *words[64];
    size_t nw = 0, i;
    const json_t *e;
    json_array_foreach(jb_rec_get(r, "measurements.energy"), i, e)
    {
        const char *s = jb_rec_str(e, "source", NULL);
        if (s && nw < 64)
            words[nw++] = s;
    }
    canonical_list(words, nw, '+', buf, n);
}

static void cpu_field(const json_t *r, char *buf, size_t n)
{
    /* Runner records have system.cpu.model_name, submissions cpu_model. */
    const char *s = jb_rec_str(r, "system.cpu.model_name", NULL);
    snprintf(buf, n, "%s", s ? s : jb_rec_str(r, "system.cpu_model", ""));
}

static void gpu_field(const json_t *r, char *buf, size_t n)
{
    const char *words[64];
    size_t nw = 0, i;
    const json_t *g;
    json_array_foreach(jb_rec_get(r, "system.gpus"), i, g)
    {
        const char *s = jb_rec_str(g, "model", NULL);
        if (s && nw < 64)
            words[nw++] = s;
    }
    /* Two boards of one model are one model here: which of them ran is
     * the back-end's business, the topology hash tells machines apart. */
    canonical_list(words, nw, '+', buf, n);
}

struct field {
    const char *name;
    unsigned dropped_by; /* JB_ACROSS_* bits that leave it out */
    const char *path;    /* for plain string and integer fields */
    int integer;
    const char *dflt; /* default of an old record without the field */
    void (*read)(const json_t *r, char *buf, size_t n);
};

/* The fields, in key order. Defaults are what a run without the option
 * gets today (runner.c, suite.c): the cpu back-end, single-stream, one unit
 * per query, one thread, compact pinning, no context, no options. */
static const struct field fields[] = {
    {"workload", 0, "workload.name", 0, "", NULL},
    {"workload_version", 0, "workload.version", 0, "", NULL},
    {"backend", JB_ACROSS_BACKEND, "backend.name", 0, "cpu", NULL},
    {"kernel", JB_ACROSS_BACKEND, "backend.kernel", 0, "", NULL},
    {"dtype", 0, "workload.dtype", 0, "", NULL},
    {"scenario", 0, "config.scenario", 0, "single-stream", NULL},
    {"batch", 0, "config.batch", 1, "1", NULL},
    {"context", 0, "config.context", 1, "0", NULL},
    {"threads", 0, "config.threads", 1, "1", NULL},
    {"pin", 0, "config.pin", 0, "compact", NULL},
    {"options", 0, NULL, 0, NULL, options_field},
    {"power_sources", JB_ACROSS_BACKEND | JB_ACROSS_MACHINE, NULL, 0, NULL, power_field},
    {"topology_hash", JB_ACROSS_MACHINE, "system.topology_hash", 0, "", NULL},
    {"cpu_model", JB_ACROSS_MACHINE, NULL, 0, NULL, cpu_field},
    {"gpu_models", JB_ACROSS_MACHINE, NULL, 0, NULL, gpu_field},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

const char *const jb_config_key_fields[] = {
    "workload",      "workload_version", "backend",    "kernel", "dtype",   "scenario",
    "batch",         "context",          "threads",    "pin",    "options", "power_sources",
    "topology_hash", "cpu_model",        "gpu_models", NULL,
};
_Static_assert(sizeof(jb_config_key_fields) / sizeof(jb_config_key_fields[0]) == NFIELDS + 1,
               "jb_config_key_fields lists every field of the table");

static void read_field(const json_t *r, const struct field *f, char *buf, size_t n)
{
    if (f->read)
        f->read(r, buf, n);
    else if (f->integer)
        int_field(r, f->path, atol(f->dflt), buf, n);
    else
        str_field(r, f->path, f->dflt, buf, n);
}

const char *jb_config_key_field(const json_t *r, const char *name, char *buf, size_t n)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (!strcmp(fields[i].name, name)) {
            read_field(r, &fields[i], buf, n);
            return buf;
        }
    return NULL;
}

/* Appends v percent-encoded: the separators and anything not printable
 * ASCII, so that no value can pass for another field. */
static size_t append_enc(char *dst, size_t len, size_t n, const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p && len + 4 < n; p++) {
        if (*p == ';' || *p == '=' || *p == '%' || *p < 0x20 || *p >= 0x7f)
            len += (size_t)snprintf(dst + len, n - len, "%%%02X", *p);
        else
            dst[len++] = (char)*p;
    }
    dst[len] = '\0';
    return len;
}

void jb_config_key_of(const json_t *r, unsigned across, struct jb_config_key *k)
{
    size_t len = 0, n = sizeof(k->text);
    k->text[0] = '\0';
    for (size_t i = 0; i < NFIELDS; i++) {
        if (fields[i].dropped_by & across)
            continue;
        char v[1024];
        read_field(r, &fields[i], v, sizeof(v));
        if (len + strlen(fields[i].name) + 3 < n)
            len +=
                (size_t)snprintf(k->text + len, n - len, "%s%s=", len ? ";" : "", fields[i].name);
        len = append_enc(k->text, len, n, v);
    }
    char hex[JB_SHA256_HEX_LEN] = "";
    /* libcrypto fails only out of memory; the id is then all zeros, which
     * still keys consistently within the run that met it */
    if (jb_sha256_hex(k->text, strlen(k->text), hex))
        memset(hex, '0', JB_CONFIG_KEY_ID_LEN);
    memcpy(k->id, hex, JB_CONFIG_KEY_ID_LEN);
    k->id[JB_CONFIG_KEY_ID_LEN] = '\0';
}

json_t *jb_config_key_json(const json_t *r)
{
    struct jb_config_key k;
    jb_config_key_of(r, JB_ACROSS_NONE, &k);
    json_t *f = json_object();
    for (size_t i = 0; i < NFIELDS; i++) {
        char v[1024];
        read_field(r, &fields[i], v, sizeof(v));
        if (fields[i].integer)
            json_object_set_new(f, fields[i].name, json_integer(atol(v)));
        else
            json_object_set_new(f, fields[i].name, json_string(v));
    }
    return json_pack("{s:i,s:s,s:o}", "version", JB_CONFIG_KEY_VERSION, "id", k.id, "fields", f);
}

int jb_config_key_attach(json_t *r)
{
    json_t *k = jb_config_key_json(r);
    if (!k || json_object_set_new(r, "config_key", k))
        return JB_ENOMEM;
    return JB_OK;
}

void jb_config_key_label(const json_t *r, unsigned across, char *buf, size_t n)
{
    char v[9][256];
    jb_config_key_field(r, "dtype", v[0], sizeof(v[0]));
    jb_config_key_field(r, "scenario", v[1], sizeof(v[1]));
    jb_config_key_field(r, "batch", v[2], sizeof(v[2]));
    jb_config_key_field(r, "threads", v[3], sizeof(v[3]));
    jb_config_key_field(r, "context", v[4], sizeof(v[4]));
    jb_config_key_field(r, "backend", v[5], sizeof(v[5]));
    jb_config_key_field(r, "kernel", v[6], sizeof(v[6]));
    jb_config_key_field(r, "options", v[7], sizeof(v[7]));
    jb_config_key_field(r, "pin", v[8], sizeof(v[8]));
    char ctx[300] = "", be[600] = "", pin[300] = "";
    if (strcmp(v[4], "0"))
        snprintf(ctx, sizeof(ctx), " ctx%s", v[4]);
    if (!(across & JB_ACROSS_BACKEND))
        snprintf(be, sizeof(be), " %s%s%s", v[5], v[6][0] ? "/" : "", v[6]);
    if (strcmp(v[8], "compact"))
        snprintf(pin, sizeof(pin), " pin:%s", v[8]);
    snprintf(buf, n, "%s %s b%s t%s%s%s%s%s%s", v[0][0] ? v[0] : "-", v[1], v[2], v[3], ctx, be,
             pin, v[7][0] ? " " : "", v[7]);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

int jb_across_parse(const char *s, unsigned *across)
{
    char tmp[128];
    *across = JB_ACROSS_NONE;
    snprintf(tmp, sizeof(tmp), "%s", s);
    for (char *save = NULL, *w = strtok_r(tmp, ",+", &save); w; w = strtok_r(NULL, ",+", &save)) {
        if (!strcmp(w, "backend"))
            *across |= JB_ACROSS_BACKEND;
        else if (!strcmp(w, "machine"))
            *across |= JB_ACROSS_MACHINE;
        else
            return JB_EINVAL;
    }
    return *across ? JB_OK : JB_EINVAL;
}

const char *jb_across_name(unsigned across)
{
    switch (across & (JB_ACROSS_BACKEND | JB_ACROSS_MACHINE)) {
    case JB_ACROSS_BACKEND:
        return "backend";
    case JB_ACROSS_MACHINE:
        return "machine";
    case JB_ACROSS_BACKEND | JB_ACROSS_MACHINE:
        return "backend+machine";
    default:
        return "none";
    }
}
