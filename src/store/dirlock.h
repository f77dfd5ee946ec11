/*
 * dirlock.h - one process at a time in a data directory.
 *
 * DIR/lock is an empty file; whoever uses the directory holds an fcntl
 * (POSIX) lock on it for as long as it runs: the broker, and
 * warren-check-store --repair, a write lock; a read-only check, a read
 * lock.  The kernel drops the lock when the process exits, however it
 * exits, so a kill -9 leaves nothing stale behind, and asking the kernel
 * (F_GETLK) names the holder's pid without writing it anywhere.  Taking
 * the lock writes nothing but the empty file the first time.
 */
#ifndef WARREN_STORE_DIRLOCK_H
#define WARREN_STORE_DIRLOCK_H

#include <stdbool.h>
#include <sys/types.h>

#define DIRLOCK_NAME "lock"

/* Lock dir: a write lock (the lock file created if missing) or a read
 * lock (never creating it).  Returns the descriptor that holds it (keep it
 * open for as long as the directory is used; closing it unlocks), or -1
 * with errno set: EAGAIN when another process holds a conflicting lock, its
 * pid in *holder (0 if the kernel could not say), ENOENT for a read lock
 * when there is no lock file (nobody ever locked the directory). */
int dirlock_take(const char *dir, bool write, pid_t *holder);

#endif
