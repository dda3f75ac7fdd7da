/* html.c: the one HTML escaper (html.h). */
#include "base/html.h"

void jb_html_putc(FILE *f, char c)
{
    switch (c) {
    case '&':
        fputs("&amp;", f);
        break;
    case '<':
        fputs("&lt;", f);
        break;
    case '>':
        fputs("&gt;", f);
        break;
    case '"':
        fputs("&quot;", f);
        break;
    case '\'':
        fputs("&#39;", f);
        break;
    default:
        fputc(c, f);
    }
}

void jb_html_puts(FILE *f, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++)
        jb_html_putc(f, *p);
}
