/* suggest.h: the nearest valid word to a mistyped one ("did you mean
 * --min-time?"), for unknown commands, options and query keys. */
#ifndef JB_SUGGEST_H
#define JB_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word by edit distance (insertions, deletions,
 * substitutions, and swaps of two neighbours, each 1), or NULL when none is
 * close enough to be the word meant: within 1 edit for words of up to 4
 * characters, 2 up to 8, 3 beyond. A candidate that starts with word (an
 * abbreviation) is nearest of all. Ties go to the first candidate. */
const char *jb_suggest(const char *word, const char *const *candidates, size_t n);

#endif
