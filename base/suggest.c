/* suggest.c: nearest-word suggestions (suggest.h), by the optimal string
 * alignment distance (Damerau-Levenshtein without repeated edits of one
 * substring), which counts the commonest typo, two swapped letters, as one. */
#include "base/suggest.h"

#include <string.h>

#define MAXW 64

static size_t osa_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXW || lb >= MAXW)
        return (size_t)-1;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *jb_suggest(const char *word, const char *const *cand, size_t n)
{
    size_t lw = strlen(word);
    if (!lw)
        return NULL;
    size_t limit = lw <= 4 ? 1 : lw <= 8 ? 2 : 3, best = (size_t)-1;
    const char *pick = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cand[i])
            continue;
        /* an abbreviation beats a word a letter away: "hist" is history */
        size_t dist = strncmp(cand[i], word, lw) == 0 ? 0 : osa_distance(word, cand[i]);
        if (dist < best) {
            best = dist;
            pick = cand[i];
        }
    }
    return best <= limit ? pick : NULL;
}
