/* html.h: the one HTML escaper, in base/ because the dashboard (app/) and
 * the Markdown rows of results/formats.c both need it. */
#ifndef JB_HTML_H
#define JB_HTML_H

#include <stdio.h>

/* Writes s (NULL reads as "") as HTML text or attribute value: & < > " '
 * become entities. The report's pages and the Markdown export (whose
 * renderers pass HTML through) both escape through these, so a hostile
 * string in a record is neutralized the same way everywhere. */
void jb_html_putc(FILE *f, char c);
void jb_html_puts(FILE *f, const char *s);

#endif
