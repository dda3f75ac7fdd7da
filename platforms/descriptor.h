/* descriptor.h: platform descriptors (platforms/descriptors/NAME.json), the
 * one loader behind every option that names one: --platform (embodied
 * carbon, PUE) and estimate:platform= (the power estimate). Both once had a
 * loader of their own that resolved "x.json" differently; one loader means
 * one rule and one contract.
 *
 * Resolution:
 *   - a name that contains '/' or ends in ".json" is a file path, absolute
 *     or relative to the working directory, used as given;
 *   - anything else is a bare name: NAME.json in the platforms folder of
 *     base/datadir.h ($JB_PLATFORMS_DIR, else the installed
 *     share/joulebench/platforms, else the source tree's
 *     platforms/descriptors). A bare name is letters, digits, '-', '_' and
 *     '.', and does not start with '.'.
 *
 * Contract (checked on load): a JSON object without duplicate keys; "name"
 * and "kind" strings; tdp_w, idle_w, active_w_per_core, cores,
 * embodied_kgco2e, lifetime_years and pue_default numbers >= 0, and
 * lifetime_years > 0. */
#ifndef JB_PLATFORM_DESCRIPTOR_H
#define JB_PLATFORM_DESCRIPTOR_H

#include <jansson.h>
#include <stddef.h>

/* Writes the file that name_or_path designates into path (n bytes), by the
 * rule above; the file need not exist. Returns 0, or JB_EINVAL for an
 * invalid bare name or a path that does not fit. */
int jb_platform_resolve(const char *name_or_path, char *path, size_t n, char *err, size_t errlen);

/* Resolves, reads and checks a descriptor. On success *out is a new
 * reference the caller owns; on failure *out is NULL and err names the
 * resolved file. */
int jb_platform_load(const char *name_or_path, json_t **out, char *err, size_t errlen);

#endif
