/*
 * sdnotify.c - tell systemd (or anything that listens on $NOTIFY_SOCKET)
 * that the broker is ready, and that it is stopping.
 *
 * The protocol is sd_notify(3)'s, documented by systemd as stable: one
 * datagram on an AF_UNIX SOCK_DGRAM socket whose path is $NOTIFY_SOCKET
 * ('@' first means Linux's abstract namespace: a NUL byte in its place),
 * holding newline-separated KEY=VALUE assignments.  It is a dozen lines,
 * so it is spoken here instead of linking libsystemd: the broker builds
 * and runs the same on machines without systemd (containers, the test
 * machine), and the package gains no dependency.  Credentials ride on the
 * socket itself, so NotifyAccess=main accepts the datagram from the
 * broker's own pid.
 */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    size_t len;
    socklen_t salen;
    ssize_t sent;
    int fd, e;

    if (!path || !*path)
        return 0;
    len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0';
    /* an abstract name is exactly len bytes long; a path ends at its NUL */
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    e = errno;
    close(fd);
    errno = e;
    return sent < 0 ? -1 : 1;
}
