/* record.c: atomic output files, run ids and timestamps (see record.h). */
#include "harness/record.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int jb_write_file_atomic(const char *path, const char *data, size_t len, char *err,
                         size_t errlen)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return jb_err(err, errlen, JB_EINVAL, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return jb_err(err, errlen, errno == EACCES ? JB_EPERM : JB_EIO, "cannot write %s: %s",
                      path, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return jb_err(err, errlen, JB_EIO, "cannot write %s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return jb_err(err, errlen, JB_EIO, "cannot write %s: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return jb_err(err, errlen, JB_EIO, "cannot rename to %s: %s", path, strerror(e));
    }
    return JB_OK;
}

int jb_json_write_atomic(const char *path, const json_t *value, char *err, size_t errlen)
{
    char *s = json_dumps(value, JSON_INDENT(2));
    if (!s)
        return jb_err(err, errlen, JB_ENOMEM, "cannot serialize JSON for %s", path);
    size_t len = strlen(s);
    /* A trailing newline, as text files have. */
    char *t = realloc(s, len + 2);
    if (!t) {
        free(s);
        return jb_err(err, errlen, JB_ENOMEM, "out of memory");
    }
    t[len] = '\n';
    t[len + 1] = 0;
    int rc = jb_write_file_atomic(path, t, len + 1, err, errlen);
    free(t);
    return rc;
}

int jb_mkdir_p(const char *dir, char *err, size_t errlen)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
        return jb_err(err, errlen, JB_EINVAL, "path too long: %s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return jb_err(err, errlen, JB_EIO, "cannot create directory %s: %s", buf,
                          strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return jb_err(err, errlen, errno == EACCES ? JB_EPERM : JB_EIO,
                      "cannot create directory %s: %s", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return jb_err(err, errlen, JB_EIO, "%s is not a directory", buf);
    if (access(buf, W_OK | X_OK) != 0)
        return jb_err(err, errlen, JB_EPERM, "output directory %s is not writable", buf);
    return JB_OK;
}

void jb_run_id_new(char out[33])
{
    unsigned char b[16];
    int ok = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ok = read(fd, b, sizeof(b)) == (ssize_t)sizeof(b);
        close(fd);
    }
    if (!ok) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long x = (unsigned long long)ts.tv_nsec ^
                               ((unsigned long long)ts.tv_sec << 20) ^
                               ((unsigned long long)getpid() << 40);
        for (int i = 0; i < 16; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void jb_utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int jb_record_publish(json_t *rec, const char *path, const struct jb_record_hooks *h,
                      int *written, char *err, size_t errlen)
{
    char e2[JB_ERRLEN];
    *written = 0;
    if (h && h->before_write && h->before_write(rec, h->ctx, e2, sizeof(e2)))
        json_array_append_new(json_object_get(json_object_get(rec, "validity"), "warnings"),
                              json_string(e2));
    int rc = jb_json_write_atomic(path, rec, err, errlen);
    if (rc)
        return rc;
    *written = 1;
    if (h && h->after_write && h->after_write(rec, path, h->ctx, e2, sizeof(e2)))
        return jb_err(err, errlen, JB_EIO, "record written to %s but %s", path, e2);
    return JB_OK;
}
