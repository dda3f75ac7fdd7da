/* plots.h: the dashboard's and history's plots, drawn by gnuplot run as an
 * external program over the templates in plots/NAME.gp, each in SVG and PNG.
 * Strings from records reach gnuplot only as quoted data, never as script
 * text, so a hostile system name cannot become a gnuplot command. */
#ifndef JB_PLOTS_H
#define JB_PLOTS_H

#include <jansson.h>
#include <stddef.h>

/* 0 when gnuplot ($JB_GNUPLOT, else "gnuplot" on PATH) runs; otherwise
 * JB_ENOTSUP with a message saying how to get it. */
int jb_gnuplot_check(char *err, size_t errlen);

/* A file-name-safe form of s ([A-Za-z0-9._-], others '_', plus a short hash
 * of the original when anything was replaced, so names stay distinct). */
void jb_safe_name(const char *s, char *dst, size_t n);

/* Each writes DIR/STEM.svg, DIR/STEM.png and DIR/STEM.pdf (pdfcairo; and
 * STEM.dat), returns the path without extension in out_stem. */

/* history: an object from jb_history_analyze. */
int jb_plot_history(const json_t *history, const char *dir, char *out_stem, size_t n, char *err,
                    size_t errlen);
/* records: runs of one workload (any platforms), oldest first; the latest
 * run of each configuration key is drawn, numbered, with a legend table. */
int jb_plot_scatter(const json_t *records, const char *workload, const char *dir, char *out_stem,
                    size_t n, char *err, size_t errlen);
int jb_plot_bars(const json_t *records, const char *workload, const char *dir, char *out_stem,
                 size_t n, char *err, size_t errlen);
/* csv: "time_s,domain,watts" lines; source: the power source's name, how:
 * "measured", "estimated" or "simulated" (the title says so). */
int jb_plot_trace(const char *csv, const char *run_id, const char *source, const char *how,
                  const char *dir, char *out_stem, size_t n, char *err, size_t errlen);

#endif
