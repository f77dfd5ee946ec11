/*
 * memstat.c - how many bytes of heap the process holds, cheap enough to ask
 * after every few hundred kilobytes of input (for the memory alarm,
 * alarm.c).
 *
 * Not RSS: glibc keeps freed memory for reuse instead of giving it back to
 * the system, so RSS would not fall when a backlog drains, and an alarm on
 * it would never clear.  Not mallinfo2() either, though its uordblks +
 * hblkhd is the right figure: it walks every free chunk of every arena
 * under the arena's lock, and a drained backlog of small messages leaves
 * millions of them (measured here: 7 ms a call with 50,000 free chunks,
 * 270 ms with 1,000,000), on the one loop thread.
 *
 * So a release build counts for itself.  malloc, free and the rest of the
 * family are defined below, forward to glibc's own (__libc_malloc, ...),
 * and add or take the chunk's size: malloc_usable_size plus the header
 * word, what mallinfo2 sums (within a word for an mmapped chunk).  Each
 * thread adds to its own counter, a slot of a fixed table claimed on its
 * first allocation, so the hot path is a plain add, not an atomic
 * read-modify-write; a block freed by another thread than the one that
 * allocated it sends one slot down and the other up, and the sum is
 * right.  memstat_heap_in_use() sums the slots.  Every allocation in the
 * process goes through here (glibc's own internal ones and the dynamic
 * loader's, once it has relocated, included), so frees always match a
 * counted allocation.
 *
 * Under AddressSanitizer (bin/warren-asan, which the tests run) ASan owns
 * malloc, and its own count answers: __sanitizer_get_current_allocated_bytes,
 * the bytes asked for and not freed yet (a block in ASan's quarantine
 * counts as freed).  Chunk headers and redzones are not in that figure, so
 * the same limit holds a little more there.
 *
 * Not counted, in either build: file mappings.  The store's ack files are
 * shared mappings of the files (store.c), and recovery reads segments
 * through private read-only mappings: their pages are page cache the kernel
 * writes back and drops as it needs, not anonymous memory.  Thread stacks
 * (mapped by pthread) are not counted either.
 */
#include "memstat.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define MEMSTAT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMSTAT_ASAN 1
#endif
#endif

#ifdef MEMSTAT_ASAN

#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#else
/* gcc ships the sanitizer runtime but not this header */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

uint64_t memstat_heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}

const char *memstat_source(void)
{
    return "AddressSanitizer";
}

#else

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);
extern void __libc_free(void *p);

#define SLOTS 64

/* Per-thread counts (signed: a thread that frees what another allocated
 * goes below zero).  Only the owning thread writes its slot, so relaxed
 * loads and stores are enough: they compile to plain moves. */
static _Atomic int64_t slot[SLOTS];
static atomic_int nslots;
static _Thread_local int my_slot = -1;

/* Slots 0..SLOTS-2 belong to one thread each; threads past those share
 * the last one, with atomic adds. */
static void count(int64_t delta)
{
    int i = my_slot;
    if (i < 0) {
        i = atomic_fetch_add_explicit(&nslots, 1, memory_order_relaxed);
        if (i > SLOTS - 1)
            i = SLOTS - 1;
        my_slot = i;
    }
    if (i < SLOTS - 1)
        atomic_store_explicit(&slot[i], atomic_load_explicit(&slot[i], memory_order_relaxed) + delta,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&slot[i], delta, memory_order_relaxed);
}

static inline int64_t chunk(void *p)
{
    return p ? (int64_t)(malloc_usable_size(p) + sizeof(size_t)) : 0;
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (p)
        count(chunk(p));
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = __libc_calloc(n, size);
    if (p)
        count(chunk(p));
    return p;
}

void *realloc(void *old, size_t n)
{
    int64_t was = chunk(old);
    void *p = __libc_realloc(old, n);
    if (p)
        count(chunk(p) - was);
    else if (old && n == 0)
        count(-was); /* realloc(p, 0) frees p */
    return p;
}

void *reallocarray(void *old, size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, bytes);
}

void free(void *p)
{
    if (!p)
        return;
    count(-chunk(p));
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    void *p = __libc_memalign(align, n);
    if (p)
        count(chunk(p));
    return p;
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0 || align == 0)
        return EINVAL;
    p = memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    void *p = __libc_valloc(n);
    if (p)
        count(chunk(p));
    return p;
}

void *pvalloc(size_t n)
{
    void *p = __libc_pvalloc(n);
    if (p)
        count(chunk(p));
    return p;
}

uint64_t memstat_heap_in_use(void)
{
    int64_t sum = 0;
    int i, n = atomic_load_explicit(&nslots, memory_order_relaxed);
    if (n > SLOTS)
        n = SLOTS;
    for (i = 0; i < n; i++)
        sum += atomic_load_explicit(&slot[i], memory_order_relaxed);
    return sum > 0 ? (uint64_t)sum : 0;
}

const char *memstat_source(void)
{
    return "malloc";
}

#endif
