/* options.c: the strict key=value parser and the typed option tables
 * (options.h says why it is strict). */
#include "base/options.h"
#include "base/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* At most this many characters of what the user wrote are echoed back, so
 * that an error message never carries a whole line of something else. */
#define ECHO_MAX 40

static void excerpt(char *out, size_t n, const char *s, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 5 < n && i < ECHO_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isprint(c))
            out[j++] = (char)c;
        else
            j += (size_t)snprintf(out + j, n - j, "\\x%02x", c);
    }
    if (len > ECHO_MAX && j + 4 < n)
        j += (size_t)snprintf(out + j, n - j, "...");
    out[j < n ? j : n - 1] = 0;
}

int jb_kv_split(const char *who, const char *tok, size_t len, char *key, size_t keylen, char *val,
                size_t vallen, char *err, size_t errlen)
{
    char ex[4 * ECHO_MAX + 8];
    excerpt(ex, sizeof(ex), tok, len);
    const char *eq = memchr(tok, '=', len);
    if (!eq)
        return jb_err(err, errlen, JB_EINVAL, "%s: '%s' is not key=value", who, ex);
    size_t kl = (size_t)(eq - tok), vl = len - kl - 1;
    if (kl == 0)
        return jb_err(err, errlen, JB_EINVAL, "%s: '%s' has an empty key", who, ex);
    if (vl == 0)
        return jb_err(err, errlen, JB_EINVAL, "%s: '%s' has an empty value", who, ex);
    if (kl >= keylen || kl >= JB_OPT_KEY_MAX)
        return jb_err(err, errlen, JB_EINVAL, "%s: key of '%s' is too long", who, ex);
    if (vl >= vallen || vl >= JB_OPT_VALUE_MAX)
        return jb_err(err, errlen, JB_EINVAL, "%s: value of '%s' is too long (at most %zu bytes)",
                      who, ex, (vallen < JB_OPT_VALUE_MAX ? vallen : JB_OPT_VALUE_MAX) - 1);
    for (size_t i = 0; i < kl; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
            return jb_err(err, errlen, JB_EINVAL, "%s: key of '%s' has a character that no "
                          "option name has", who, ex);
    }
    for (size_t i = 0; i < vl; i++)
        if (!isprint((unsigned char)eq[1 + i]))
            return jb_err(err, errlen, JB_EINVAL, "%s: value of '%s' has a control character",
                          who, ex);
    memcpy(key, tok, kl);
    key[kl] = 0;
    memcpy(val, eq + 1, vl);
    val[vl] = 0;
    return JB_OK;
}

int jb_kv_next(const char *who, const char **cursor, char *key, size_t keylen, char *val,
               size_t vallen, char *err, size_t errlen)
{
    const char *p = *cursor;
    if (!p || !*p)
        return 0;
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == 0)
        return jb_err(err, errlen, JB_EINVAL, "%s: empty option (two commas, or one at an end)",
                      who);
    if (comma && !comma[1])
        return jb_err(err, errlen, JB_EINVAL, "%s: trailing comma after '%.*s'", who,
                      (int)(len < ECHO_MAX ? len : ECHO_MAX), p);
    int rc = jb_kv_split(who, p, len, key, keylen, val, vallen, err, errlen);
    if (rc)
        return rc;
    *cursor = comma ? comma + 1 : p + len;
    return 1;
}

const struct jb_option_def *jb_option_find(const struct jb_option_def *table, const char *name)
{
    for (const struct jb_option_def *d = table; d && d->name; d++)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

static int parse_long(const char *s, long *out)
{
    if (!*s || !(isdigit((unsigned char)*s) || ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1]))))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* A plain decimal: digits, one point, an exponent; no hex, inf or nan. */
static int parse_real(const char *s, double *out)
{
    for (const char *p = s; *p; p++)
        if (!(isdigit((unsigned char)*p) || strchr("+-.eE", *p)))
            return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

int jb_option_value_check(const char *who, const struct jb_option_def *d, const char *val,
                          char *err, size_t errlen)
{
    char ex[4 * ECHO_MAX + 8];
    excerpt(ex, sizeof(ex), val, strlen(val));
    long l;
    double r;
    switch (d->type) {
    case JB_OPT_INT:
        if (parse_long(val, &l) || (double)l < d->min || (double)l > d->max)
            return jb_err(err, errlen, JB_EINVAL, "%s: %s=%s is not an integer in %.15g..%.15g",
                          who, d->name, ex, d->min, d->max);
        return JB_OK;
    case JB_OPT_REAL:
        if (parse_real(val, &r) || r < d->min || r > d->max)
            return jb_err(err, errlen, JB_EINVAL, "%s: %s=%s is not a number in %.15g..%.15g",
                          who, d->name, ex, d->min, d->max);
        return JB_OK;
    case JB_OPT_BOOL:
        if (strcmp(val, "0") && strcmp(val, "1"))
            return jb_err(err, errlen, JB_EINVAL, "%s: %s=%s is not 0 or 1", who, d->name, ex);
        return JB_OK;
    case JB_OPT_ENUM:
        if (!in_choices(d->choices, val))
            return jb_err(err, errlen, JB_EINVAL, "%s: %s=%s is not one of %s", who, d->name, ex,
                          d->choices);
        return JB_OK;
    case JB_OPT_STR:
        return JB_OK;
    }
    return JB_OK;
}

void jb_options_names(const struct jb_option_def *table, char *buf, size_t buflen)
{
    size_t n = strlen(buf);
    for (const struct jb_option_def *d = table; d && d->name && n + 1 < buflen; d++)
        n += (size_t)snprintf(buf + n, buflen - n, "%s%s", n ? ", " : "", d->name);
}

int jb_options_check(const char *who, const char *spec, const struct jb_option_def *const *tables,
                     char *err, size_t errlen)
{
    char key[JB_OPT_KEY_MAX], val[JB_OPT_VALUE_MAX];
    const char *cur = spec;
    /* keys seen so far, for duplicates: a spec is short, a scan is enough */
    const char *starts[128];
    int nseen = 0, rc;
    for (;;) {
        const char *at = cur;
        rc = jb_kv_next(who, &cur, key, sizeof(key), val, sizeof(val), err, errlen);
        if (rc <= 0)
            return rc;
        const struct jb_option_def *d = NULL;
        for (int t = 0; tables && tables[t] && !d; t++)
            d = jb_option_find(tables[t], key);
        if (!d) {
            char names[512] = "";
            for (int t = 0; tables && tables[t]; t++)
                jb_options_names(tables[t], names, sizeof(names));
            return jb_err(err, errlen, JB_EINVAL, "%s: unknown option '%s' (valid: %s)", who, key,
                          names[0] ? names : "none");
        }
        size_t kl = strlen(key);
        for (int i = 0; i < nseen; i++)
            if (!strncmp(starts[i], key, kl) && starts[i][kl] == '=')
                return jb_err(err, errlen, JB_EINVAL, "%s: option '%s' given twice", who, key);
        if (nseen < (int)(sizeof(starts) / sizeof(starts[0])))
            starts[nseen++] = at;
        if ((rc = jb_option_value_check(who, d, val, err, errlen)))
            return rc;
    }
}

int jb_option_get(const char *spec, const char *key, char *buf, size_t buflen)
{
    size_t klen = strlen(key);
    for (const char *p = spec; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            if (len - klen - 1 >= buflen)
                return 0;
            snprintf(buf, buflen, "%.*s", (int)(len - klen - 1), p + klen + 1);
            return 1;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static const char *value_of(const char *spec, const struct jb_option_def *table, const char *name,
                            char *buf, size_t buflen)
{
    if (jb_option_get(spec, name, buf, buflen))
        return buf;
    const struct jb_option_def *d = jb_option_find(table, name);
    return d ? d->def : NULL;
}

int jb_opt_int(const char *spec, const struct jb_option_def *table, const char *name, long *out)
{
    char buf[64];
    const char *v = value_of(spec, table, name, buf, sizeof(buf));
    return v && !parse_long(v, out);
}

int jb_opt_real(const char *spec, const struct jb_option_def *table, const char *name,
                double *out)
{
    char buf[64];
    const char *v = value_of(spec, table, name, buf, sizeof(buf));
    return v && !parse_real(v, out);
}

int jb_opt_str(const char *spec, const struct jb_option_def *table, const char *name, char *buf,
               size_t buflen)
{
    char tmp[JB_OPT_VALUE_MAX];
    const char *v = value_of(spec, table, name, tmp, sizeof(tmp));
    if (!v || strlen(v) >= buflen)
        return 0;
    memcpy(buf, v, strlen(v) + 1);
    return 1;
}

void jb_options_print(FILE *f, const char *title, const struct jb_option_def *table)
{
    if (!table || !table->name)
        return;
    fprintf(f, "%s\n", title);
    for (const struct jb_option_def *d = table; d->name; d++) {
        char ty[96];
        switch (d->type) {
        case JB_OPT_INT: snprintf(ty, sizeof(ty), "integer %.15g..%.15g", d->min, d->max); break;
        case JB_OPT_REAL: snprintf(ty, sizeof(ty), "number %.15g..%.15g", d->min, d->max); break;
        case JB_OPT_BOOL: snprintf(ty, sizeof(ty), "0|1"); break;
        case JB_OPT_ENUM: snprintf(ty, sizeof(ty), "%s", d->choices); break;
        case JB_OPT_STR: snprintf(ty, sizeof(ty), "text"); break;
        }
        fprintf(f, "  %-10s %-22s default %-10s %s\n", d->name, ty, d->def ? d->def : "(none)",
                d->help ? d->help : "");
    }
}

int jb_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, item, n))
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}
