/* error.c: the status-code helpers declared in error.h. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int jb_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        /* Messages are built from other messages ("suite:line: workload:
         * cuda: ..."): a cut one ends in "..." so that nobody takes what is
         * left for the whole of it. */
        if (n >= 0 && (size_t)n >= errlen && errlen > 3)
            memcpy(err + errlen - 4, "...", 4);
    }
    return code;
}

const char *jb_strerror(int code)
{
    switch (code) {
    case JB_OK: return "ok";
    case JB_EINVAL: return "invalid argument";
    case JB_ENOMEM: return "out of memory";
    case JB_EIO: return "input/output error";
    case JB_ENOTSUP: return "not supported";
    case JB_ENOENT: return "not found";
    case JB_ECHECK: return "output check failed";
    case JB_EINTR: return "interrupted";
    case JB_EPERM: return "permission denied";
    case JB_ERANGE: return "out of range";
    case JB_EFORMAT: return "unknown format";
    case JB_EUNAVAIL: return "unavailable";
    default: return "unknown error";
    }
}

const char *jb_excerpt(const char *s, char *buf, size_t n)
{
    size_t k = 0, max = n - 1 < JB_EXCERPT_MAX ? n - 1 : JB_EXCERPT_MAX;
    if (!s)
        s = "";
    for (; s[k] && k < max; k++) {
        unsigned char c = (unsigned char)s[k];
        buf[k] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    buf[k] = '\0';
    if (s[k] && k >= 3)
        memcpy(buf + k - 3, "...", 3);
    return buf;
}
