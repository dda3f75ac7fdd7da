/* options.h: the one key=value parser of joulebench, and typed option tables.
 *
 * Every "key=value" that a user writes goes through here: workload and
 * back-end options (`--options`, a suite line's `options=`), the parameters
 * of a `--power` source, and the tokens of a suite line. A typo must fail
 * loudly and name what is valid, never fall back to a default in silence,
 * so parsing is strict: no empty key, no missing '=', no key given twice, no
 * value cut to fit a buffer, numbers in base 10 consumed whole and within
 * their range. Options are declared in tables (name, type, default, range,
 * one line of help), as fio declares its `struct fio_option`s, and a spec is
 * checked against its tables once, before anything runs; the typed getters
 * then read values that are known to be valid. */
#ifndef JB_OPTIONS_H
#define JB_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

enum jb_opt_type {
    JB_OPT_INT,  /* base-10 integer within [min, max] */
    JB_OPT_REAL, /* finite decimal number within [min, max] */
    JB_OPT_BOOL, /* 0 or 1 */
    JB_OPT_STR,  /* any text without ',' (a path, a name) */
    JB_OPT_ENUM  /* one of `choices`, written "a|b|c" */
};

/* One option. Tables are arrays ended by an entry whose name is NULL. */
struct jb_option_def {
    const char *name;
    enum jb_opt_type type;
    const char *def;     /* the default as it would be written; NULL: none */
    double min, max;     /* INT and REAL: inclusive range */
    const char *choices; /* ENUM: "a|b|c" */
    const char *help;    /* one line for `joulebench list --options` */
};

/* Longest key and value accepted; longer is an error, never a truncation. */
#define JB_OPT_KEY_MAX 64
#define JB_OPT_VALUE_MAX 1024

/* Splits one token "key=value" of `len` bytes into key and value (both NUL
 * terminated). Returns 0, or JB_EINVAL with err saying what is wrong (no '=',
 * empty key, empty value, too long) and naming `who`. */
int jb_kv_split(const char *who, const char *tok, size_t len, char *key, size_t keylen, char *val,
                size_t vallen, char *err, size_t errlen);

/* Iterates over the comma-separated pairs of spec ("k=v,k=v"; NULL or ""
 * has none): returns 1 with key and value filled and *cursor advanced, 0 at
 * the end, JB_EINVAL for a malformed pair (an empty one included: "a=1,,b=2"
 * and a trailing comma are errors). Start with *cursor = spec. */
int jb_kv_next(const char *who, const char **cursor, char *key, size_t keylen, char *val,
               size_t vallen, char *err, size_t errlen);

/* Checks every pair of spec against the NULL-terminated list of tables:
 * each key declared in one of them, given once, its value valid for its type
 * and range. Returns 0 or JB_EINVAL with err naming who, the option, and what
 * is valid (the declared names for an unknown key). */
int jb_options_check(const char *who, const char *spec, const struct jb_option_def *const *tables,
                     char *err, size_t errlen);

/* Checks one value against its declaration. Returns 0 or JB_EINVAL. */
int jb_option_value_check(const char *who, const struct jb_option_def *d, const char *val,
                          char *err, size_t errlen);

/* The declaration of name in table, or NULL. */
const struct jb_option_def *jb_option_find(const struct jb_option_def *table, const char *name);

/* Raw lookup: copies the value of key in spec into buf. Returns 1 if found,
 * 0 if not (or if it would not fit). For specs already checked. */
int jb_option_get(const char *spec, const char *key, char *buf, size_t buflen);

/* Typed reads of a checked spec: the value given in spec, else the table's
 * default. Return 1 when a value (given or default) was stored, 0 when the
 * option is absent and has no default (out untouched). */
int jb_opt_int(const char *spec, const struct jb_option_def *table, const char *name, long *out);
int jb_opt_real(const char *spec, const struct jb_option_def *table, const char *name,
                double *out);
int jb_opt_str(const char *spec, const struct jb_option_def *table, const char *name, char *buf,
               size_t buflen);

/* Nonzero when `item` is one of the comma-separated entries of `list`. */
int jb_list_has(const char *list, const char *item);

/* Writes one line per option of table to f: name, type and range, default,
 * help. `title` heads the block; nothing is written for an empty table. */
void jb_options_print(FILE *f, const char *title, const struct jb_option_def *table);

/* Appends ", "-separated names of the options of table to buf. */
void jb_options_names(const struct jb_option_def *table, char *buf, size_t buflen);

#endif
