/* error.h: joulebench's status codes and error-message helper.
 *
 * Every fallible function returns 0 or a negative JB_E... code and writes a
 * one-line message naming the thing that failed into a caller-provided
 * buffer ("nvml: nvmlDeviceGetTotalEnergyConsumption: Not Supported on GPU 0").
 * This is the one file every layer may include. */
#ifndef JB_ERROR_H
#define JB_ERROR_H

#include <stddef.h>

enum {
    JB_OK = 0,
    JB_EINVAL = -1,   /* bad argument, malformed input */
    JB_ENOMEM = -2,   /* allocation failed, or the configuration does not fit */
    JB_EIO = -3,      /* a read or write failed */
    JB_ENOTSUP = -4,  /* this machine or build cannot do it */
    JB_ENOENT = -5,   /* no such workload, suite, file, source */
    JB_ECHECK = -6,   /* a workload's output check failed */
    JB_EINTR = -7,    /* interrupted (SIGINT) */
    JB_EPERM = -8,    /* permission denied */
    JB_ERANGE = -9,   /* value out of range */
    JB_EFORMAT = -10, /* a file is of an unknown or newer format */
    JB_EUNAVAIL = -11 /* a counter or device stopped answering, or never moved */
};

/* Size that error buffers are declared with throughout the project. A
 * message is often composed of others ("suites/NAME:LINE: workload: cuda:
 * GPU 0 unusable since ... (cause); ..."), each up to a few hundred
 * characters with long paths; 512 keeps such a chain whole. Buffers are on
 * the stack (a few per frame, no recursion through them) and in a few
 * per-run structs, so the size costs nothing that matters. */
#define JB_ERRLEN 512

/* Formats a message into err (if err is non-NULL and errlen > 0) and returns
 * code, so that a failure is one line: `return jb_err(err, n, JB_EIO, ...);`
 * A message that does not fit is cut and ends in "..." (errlen > 3). */
int jb_err(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A short name for a status code: "invalid argument", "not supported"... */
const char *jb_strerror(int code);

/* Outside text quoted in a message (a suite line's word, a file's field):
 * at most JB_EXCERPT_MAX characters of s, control and non-ASCII bytes as
 * '?', and "..." when cut, written into buf (of n >= 4 bytes) and returned,
 * so that no error message repeats a whole line of a file it should not
 * show, or drives the terminal. */
#define JB_EXCERPT_MAX 40
const char *jb_excerpt(const char *s, char *buf, size_t n);

#endif
