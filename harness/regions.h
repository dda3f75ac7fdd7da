/* regions.h: the regions a program measured by `joulebench exec` marks
 * itself (include/joulebench/marker.h, python/joulebench_marker.py), and the
 * marker protocol's messages (METHODOLOGY.md section 10.2).
 *
 * The exec harness owns the socket: for every message it calls
 * jb_regions_message, which reads the energy domains and counters (the
 * boundary) before the harness answers. Regions are kept per run (dropped
 * with a failed run) and become the record's measurements.regions, one
 * entry per name over its instances, with the energy arithmetic of
 * repetitions and both boundaries unaligned. */
#ifndef JB_REGIONS_H
#define JB_REGIONS_H

#include <jansson.h>
#include <stddef.h>

struct jb_energy;
struct jb_counters;
struct jb_regions;

/* The marker protocol's version and environment (METHODOLOGY.md). */
#define JB_MARKER_PROTOCOL 1
#define JB_MARKER_FD_ENV "JB_MARKER_FD"
#define JB_MARKER_VERSION_ENV "JB_MARKER_VERSION"

/* One message of the marker protocol: "B NAME" or "E NAME [UNITS]" (UNITS
 * a finite number >= 0, 1 when absent), NAME 1 to 63 characters of
 * [A-Za-z0-9_.:/-]. jb_marker_parse reads msg[0..len) (no terminator
 * needed): 0, or JB_EINVAL with err saying what is wrong. */
#define JB_MARKER_NAME_MAX 63
struct jb_marker_msg {
    char kind; /* 'B' or 'E' */
    char name[JB_MARKER_NAME_MAX + 1];
    double units;
};
int jb_marker_parse(const char *msg, size_t len, struct jb_marker_msg *out, char *err,
                    size_t errlen);

/* Over e and c, borrowed (they outlive the regions). JB_ENOMEM or 0. */
int jb_regions_open(struct jb_energy *e, struct jb_counters *c, struct jb_regions **out);
void jb_regions_close(struct jb_regions *r);

/* Around each run (index run): messages outside measured runs are answered
 * but not measured; a failed run's instances are dropped; a region still
 * open at the end of a run is warned about in warnings. */
void jb_regions_begin_run(struct jb_regions *r, int run, int measuring);
void jb_regions_end_run(struct jb_regions *r, int failed, json_t *warnings);

/* One message, msg[0..len): parsed, its boundary taken now. */
void jb_regions_message(struct jb_regions *r, const char *msg, size_t len);
/* A fault of the protocol (counted; the first one's text kept for the record). */
void jb_regions_protocol_error(struct jb_regions *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The record's measurements.regions (a new array, caller owns it); its
 * warnings (per region, protocol errors, instances not kept) appended to
 * warnings. run_total_s: the kept runs' total time, for fraction_of_runs. */
json_t *jb_regions_json(struct jb_regions *r, double run_total_s, json_t *warnings);

#endif
