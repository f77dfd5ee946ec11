/*
 * io.h - whole-buffer pread/pwrite and directory fsync for the store.
 */
#ifndef WARREN_STORE_IO_H
#define WARREN_STORE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all n bytes at off (EINTR and short writes retried); 0 or -1 with
 * errno set (EIO for a write that makes no progress). */
int store_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
/* Read up to n bytes at off, stopping early only at the end of the file;
 * the bytes read, or -1. */
ssize_t store_pread_full(int fd, void *p, size_t n, uint64_t off);
/* fsync a directory, so that files created, renamed or removed in it stay so. */
int store_sync_dir(const char *dir);

#endif
