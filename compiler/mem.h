/*
 * mem.h - memory of phx-idl: one arena per compilation.
 *
 * Every allocation of the front end goes through mem_alloc() on the arena of
 * the compilation; everything is released at once by mem_arena_free().  The
 * arena gets its blocks from the system through a single function,
 * mem_sys_alloc(), which tests can make fail (mem_fail_after()).
 *
 * Running out of memory is never fatal to the process: mem_alloc() then
 * longjmp()s to the recovery point that the compilation set with
 * MEM_TRY(); the driver reports "out of memory" and frees the arena.
 */
#ifndef PHX_IDL_MEM_H
#define PHX_IDL_MEM_H

#include <setjmp.h>
#include <stddef.h>

typedef struct mem_block mem_block_t;

typedef struct mem_arena {
    mem_block_t *blocks;    /* newest first */
    char *cur;              /* free space in the newest block */
    size_t left;            /* bytes free at cur */
    size_t total;           /* bytes obtained from the system */
    jmp_buf *on_oom;        /* where mem_alloc() jumps when out of memory */
} mem_arena_t;

/* The one system allocator; returns NULL on failure (real or injected). */
void *mem_sys_alloc(size_t size);
void mem_sys_free(void *p);

/* Fail the Nth system allocation from now on (1 = the next one), and all
 * after it; 0 turns injection off. */
void mem_fail_after(unsigned long n);
/* System allocations made since the process started (for tests). */
unsigned long mem_sys_count(void);

void mem_arena_init(mem_arena_t *a);
/* Release every block; the arena is empty and usable again. */
void mem_arena_free(mem_arena_t *a);

/* Aligned, uninitialised / zeroed memory from the arena; never NULL: on
 * failure it jumps to a->on_oom, which must be set while compiling. */
void *mem_alloc(mem_arena_t *a, size_t size);
void *mem_zalloc(mem_arena_t *a, size_t size);
/* Grow an array allocated from the arena: returns a new copy with room for
 * new_n elements of size elem (old contents kept; the old memory is not
 * reused).  Checks the multiplication for overflow. */
void *mem_grow(mem_arena_t *a, void *old, size_t old_n, size_t new_n,
               size_t elem);
char *mem_strdup(mem_arena_t *a, const char *s);
char *mem_strndup(mem_arena_t *a, const char *s, size_t n);
/* printf into the arena. */
char *mem_printf(mem_arena_t *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Jump to the recovery point (out of memory or an internal limit). */
_Noreturn void mem_oom(mem_arena_t *a);

#endif /* PHX_IDL_MEM_H */
