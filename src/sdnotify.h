/*
 * sdnotify.h - systemd's readiness protocol (Type=notify), spoken
 * directly: a datagram of `KEY=value` lines to the AF_UNIX socket named
 * by $NOTIFY_SOCKET.  See sdnotify.c for why not libsystemd.
 */
#ifndef WARREN_SDNOTIFY_H
#define WARREN_SDNOTIFY_H

/* Send state ("READY=1\nSTATUS=...", "STOPPING=1") to the service
 * manager.  1 sent; 0 no $NOTIFY_SOCKET (not started by systemd, nothing
 * to do); -1 with errno when the socket is named but the send failed. */
int sdnotify(const char *state);

#endif
