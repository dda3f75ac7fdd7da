/* joulebench/marker.h: region markers for a program measured by
 * `joulebench exec`. Header only, C99 or C++, no library to link.
 *
 *   #include <joulebench/marker.h>
 *   jb_region_begin("decode");
 *   ... the work of the region ...
 *   jb_region_end("decode", tokens);   units the region produced
 *
 * Under `joulebench exec` each region (by name, over all its instances)
 * becomes its own entry of the record: time, energy per unit with its
 * source and uncertainty, counters. Elsewhere (no JB_MARKER_FD in the
 * environment) every call does nothing and returns 0.
 *
 * The protocol (version 1, METHODOLOGY.md "Region markers"): joulebench
 * passes one end of a Unix SOCK_SEQPACKET socket as the descriptor named by
 * JB_MARKER_FD, with JB_MARKER_VERSION=1. A call sends one message, "B NAME"
 * or "E NAME UNITS", and waits for the one-byte answer that joulebench sends
 * once it has read the energy sources and counters: the region's boundaries
 * are those reads, taken while the program waits. So a call costs one round
 * trip (tens of microseconds), which falls inside the region it opens or
 * closes. Names are 1 to 63 characters of [A-Za-z0-9_.:/-]. Regions of
 * different names may nest or overlap; a name is one region at a time.
 * Calls from several threads at once are not supported (their answers could
 * cross): mark regions from one thread. */
#ifndef JOULEBENCH_MARKER_H
#define JOULEBENCH_MARKER_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#define JB_MARKER_PROTOCOL_VERSION 1

/* The marker descriptor, or -1 when not run under joulebench exec (looked
 * up once per translation unit). */
static inline int jb_marker_fd(void)
{
    static int fd = -2;
    if (fd == -2) {
        const char *s = getenv("JB_MARKER_FD"), *v = getenv("JB_MARKER_VERSION");
        char *end = NULL;
        long n = s ? strtol(s, &end, 10) : -1;
        fd = s && v && end && !*end && end != s && n >= 0 && n < 65536 &&
                     strtol(v, NULL, 10) == JB_MARKER_PROTOCOL_VERSION
                 ? (int)n
                 : -1;
    }
    return fd;
}

/* Sends one message and waits for its answer: 0, or -1 (errno set) when
 * joulebench could not be reached; the program may go on either way. */
static inline int jb_marker_send(const char *msg)
{
    int fd = jb_marker_fd();
    if (fd < 0)
        return 0;
    size_t n = strlen(msg);
    ssize_t w;
    do
        w = send(fd, msg, n, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)n)
        return -1;
    char ack;
    ssize_t r;
    do
        r = recv(fd, &ack, 1, 0);
    while (r < 0 && errno == EINTR);
    return r == 1 ? 0 : -1;
}

static inline int jb_region_begin(const char *name)
{
    char msg[80];
    if (jb_marker_fd() < 0)
        return 0;
    if (snprintf(msg, sizeof(msg), "B %s", name) >= (int)sizeof(msg)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return jb_marker_send(msg);
}

/* units: what the region produced (tokens, images...), >= 0; energy and
 * time of the region are then also given per unit. */
static inline int jb_region_end(const char *name, double units)
{
    char msg[112];
    if (jb_marker_fd() < 0)
        return 0;
    if (snprintf(msg, sizeof(msg), "E %s %.17g", name, units) >= (int)sizeof(msg)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return jb_marker_send(msg);
}

#endif
