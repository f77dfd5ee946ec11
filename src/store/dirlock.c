/*
 * dirlock.c - the data directory's lock; see dirlock.h.
 *
 * An fcntl record lock rather than flock(2): F_GETLK names the pid that
 * holds it.  Such a lock belongs to the process and goes away when the
 * process closes any descriptor of the file, so nothing else in warren may
 * open DIR/lock.
 */
#include "store/dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int dirlock_take(const char *dir, bool write, pid_t *holder)
{
    char path[4200];
    struct flock fl;
    int fd, e;

    *holder = 0;
    snprintf(path, sizeof path, "%s/%s", dir, DIRLOCK_NAME);
    fd = write ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    memset(&fl, 0, sizeof fl);
    fl.l_type = write ? F_WRLCK : F_RDLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return fd;
    e = errno;
    if (e == EACCES || e == EAGAIN) {
        e = EAGAIN;
        memset(&fl, 0, sizeof fl);
        fl.l_type = write ? F_WRLCK : F_RDLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
            *holder = fl.l_pid;
    }
    close(fd);
    errno = e;
    return -1;
}
