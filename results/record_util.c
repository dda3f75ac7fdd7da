/* record_util.c: the record accessors declared in record_util.h. */
#include "results/record_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const json_t *jb_rec_get(const json_t *record, const char *dotted)
{
    const json_t *cur = record;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char key[64];
        if (len >= sizeof(key) || !json_is_object(cur))
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        cur = json_object_get(cur, key);
        p += len + (dot ? 1 : 0);
    }
    return cur;
}

double jb_rec_num(const json_t *record, const char *dotted, double dflt)
{
    const json_t *v = jb_rec_get(record, dotted);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

const char *jb_rec_str(const json_t *record, const char *dotted, const char *dflt)
{
    const json_t *v = jb_rec_get(record, dotted);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static int entry_usable(const json_t *e)
{
    const json_t *a = json_object_get(e, "available");
    if (json_is_false(a))
        return 0;
    return json_is_number(json_object_get(e, "joules_per_unit"));
}

const json_t *jb_rec_primary_energy(const json_t *record)
{
    const json_t *list = jb_rec_get(record, "measurements.energy");
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) if (entry_usable(e) &&
                                       json_is_true(json_object_get(e, "measured"))) return e;
    json_array_foreach(list, i, e) if (entry_usable(e)) return e;
    return NULL;
}

const char *jb_rec_platform(const json_t *record, char *buf, size_t n)
{
    const char *s = jb_rec_str(record, "system.name", NULL);
    const char *cpu = jb_rec_str(record, "system.cpu_model", NULL);
    if (!cpu)
        cpu = jb_rec_str(record, "system.cpu.model_name", NULL);
    const char *host = jb_rec_str(record, "system.hostname", NULL);
    if (s)
        snprintf(buf, n, "%s", s);
    else if (cpu && host)
        snprintf(buf, n, "%s @ %s", cpu, host);
    else if (cpu)
        snprintf(buf, n, "%s", cpu);
    else
        snprintf(buf, n, "%s", jb_rec_str(record, "system.topology_hash", "unknown"));
    return buf;
}

static double *copy_numbers(const json_t *arr, size_t *n)
{
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return NULL;
    double *out = malloc(json_array_size(arr) * sizeof(*out));
    if (!out)
        return NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) if (json_is_number(e)) out[(*n)++] = json_number_value(e);
    return out;
}

double *jb_rec_samples(const json_t *record, const char *dotted, size_t *n)
{
    return copy_numbers(jb_rec_get(record, dotted), n);
}

double *jb_rec_energy_samples(const json_t *record, size_t *n)
{
    const json_t *e = jb_rec_primary_energy(record);
    *n = 0;
    return e ? copy_numbers(json_object_get(e, "samples_joules_per_unit"), n) : NULL;
}

int jb_is_gbench(const json_t *doc)
{
    return json_is_object(doc) && json_is_array(json_object_get(doc, "benchmarks")) &&
           json_is_object(json_object_get(doc, "context"));
}
