/* gbench_json.h: Google Benchmark's own JSON output of a run, completed
 * from its record so that Google Benchmark's tools (compare.py) work on it:
 * energy per unit, its uncertainty and the average power as user counters
 * (J_per_unit, J_per_unit_uncertainty, W, energy_measured) with the source
 * in the entry's label; names without the "/min_time:" and "/repeats:"
 * segments, so that runs at different --min-time pair, and with the key
 * fields the name lacks (options, a non-cpu back-end), so that different
 * configurations do not; times in ns, or us for LLM workloads. */
#ifndef JB_GBENCH_JSON_H
#define JB_GBENCH_JSON_H

#include <jansson.h>

/* Modifies doc (a Google Benchmark JSON document) in place. */
void jb_gbench_annotate(json_t *doc, const json_t *record);

#endif
