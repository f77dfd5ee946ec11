/*
 * fuzz_quiet.h - what the targets that run a whole broker (fuzz_store,
 * fuzz_http_request) share: the broker logs its errors (refusals of bad
 * input) whatever the log level, so fd 2 is pointed at /dev/null around
 * the broker's work while the sanitizers report on a copy of the real
 * stderr (WARREN_FUZZ_VERBOSE=1 keeps everything); and the removal of a
 * target's scratch data directory.  Included by one target each, so the
 * functions are static.
 */
#ifndef WARREN_FUZZ_QUIET_H
#define WARREN_FUZZ_QUIET_H

#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

static int real_stderr = -1, devnull = -1;

static void quiet_init(void)
{
    if (getenv("WARREN_FUZZ_VERBOSE"))
        return;
    real_stderr = dup(2);
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert(real_stderr >= 0 && devnull >= 0);
    __sanitizer_set_report_fd((void *)(intptr_t)real_stderr);
}

static void quiet(bool on)
{
    if (real_stderr >= 0)
        dup2(on ? devnull : real_stderr, 2);
}

/* Remove path and everything below it (a file, or a directory tree). */
static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char sub[600];

    if (!d) {
        unlink(path);
        return;
    }
    while ((de = readdir(d))) {
        struct stat sb;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_rf(sub);
        else
            unlink(sub);
    }
    closedir(d);
    rmdir(path);
}

#endif
