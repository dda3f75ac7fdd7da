/* descriptor.c: resolving and checking platform descriptors (see
 * descriptor.h). */
#include "platforms/descriptor.h"

#include "base/datadir.h"
#include "base/error.h"

#include <stdio.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int bare_name_ok(const char *s)
{
    if (!*s || *s == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

int jb_platform_resolve(const char *name, char *path, size_t n, char *err, size_t errlen)
{
    int len;
    if (!name || !*name)
        return jb_err(err, errlen, JB_EINVAL, "platform descriptor: no name or path given");
    if (strchr(name, '/') || ends_with(name, ".json")) {
        len = snprintf(path, n, "%s", name);
    } else {
        /* A bare name must not walk out of the descriptor folder, nor
         * carry characters a shell or a file system would read otherwise. */
        if (!bare_name_ok(name))
            return jb_err(err, errlen, JB_EINVAL,
                          "platform name '%.60s' is not valid (a bare name is letters, digits, "
                          "'-', '_' and '.'; give a path with a '/' or ending in .json for a file)",
                          name);
        char dir[4096];
        jb_data_dir(JB_DATA_PLATFORMS, dir, sizeof(dir));
        len = snprintf(path, n, "%s/%s.json", dir, name);
    }
    if (len < 0 || (size_t)len >= n)
        return jb_err(err, errlen, JB_EINVAL, "platform descriptor %.60s...: path too long", name);
    return JB_OK;
}

int jb_platform_load(const char *name, json_t **out, char *err, size_t errlen)
{
    static const char *const strings[] = {"name", "kind"};
    static const char *const numbers[] = {"tdp_w",      "idle_w",          "active_w_per_core",
                                          "cores",      "embodied_kgco2e", "lifetime_years",
                                          "pue_default"};
    char path[4200];
    json_error_t je;
    int rc;
    *out = NULL;
    if ((rc = jb_platform_resolve(name, path, sizeof(path), err, errlen)))
        return rc;
    /* REJECT_DUPLICATES: with two "idle_w" keys, which one counts would be
     * a matter of parser. */
    json_t *p = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!p)
        return jb_err(err, errlen, JB_ENOENT, "platform descriptor %s: %s", path, je.text);
    if (!json_is_object(p)) {
        rc = jb_err(err, errlen, JB_EINVAL, "platform descriptor %s: not a JSON object", path);
        goto out;
    }
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (!json_is_string(json_object_get(p, strings[i]))) {
            rc = jb_err(err, errlen, JB_EINVAL,
                        "platform descriptor %s: field %s missing or not a string", path,
                        strings[i]);
            goto out;
        }
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        const json_t *v = json_object_get(p, numbers[i]);
        if (!json_is_number(v) || !(json_number_value(v) >= 0)) {
            rc = jb_err(err, errlen, JB_EINVAL,
                        "platform descriptor %s: field %s missing or not a number >= 0", path,
                        numbers[i]);
            goto out;
        }
    }
    if (json_number_value(json_object_get(p, "lifetime_years")) <= 0) {
        rc = jb_err(err, errlen, JB_EINVAL, "platform descriptor %s: lifetime_years must be > 0",
                    path);
        goto out;
    }
    /* PUE is total facility over IT energy: below 1 is impossible, as
     * --pue says (a descriptor's 0.1 was taken while --pue 0.5 was not) */
    double pue = json_number_value(json_object_get(p, "pue_default"));
    if (pue < 1) {
        rc = jb_err(err, errlen, JB_EINVAL, "platform descriptor %s: pue_default %g must be >= 1",
                    path, pue);
        goto out;
    }
    *out = p;
    p = NULL;
out:
    json_decref(p);
    return rc;
}
