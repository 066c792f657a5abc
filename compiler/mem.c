/*
 * mem.c - the arena allocator of phx-idl and its one system allocator with
 * injectable failures (see mem.h).
 */
#include "compiler/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mem_block {
    mem_block_t *next;
    size_t size;
};

/* Blocks are at least this big; bigger requests get a block of their own. */
#define MEM_BLOCK_SIZE ((size_t)64 * 1024)
#define MEM_ALIGN ((size_t)_Alignof(max_align_t))
#define MEM_HEADER (((sizeof(mem_block_t) + MEM_ALIGN - 1) / MEM_ALIGN) * MEM_ALIGN)

static unsigned long mem_fail_at;   /* 0: never fail */
static unsigned long mem_count;

void mem_fail_after(unsigned long n)
{
    mem_fail_at = n == 0 ? 0 : mem_count + n;
}

unsigned long mem_sys_count(void)
{
    return mem_count;
}

void *mem_sys_alloc(size_t size)
{
    mem_count++;
    if (mem_fail_at != 0 && mem_count >= mem_fail_at)
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void mem_sys_free(void *p)
{
    free(p);
}

void mem_arena_init(mem_arena_t *a)
{
    a->blocks = NULL;
    a->cur = NULL;
    a->left = 0;
    a->total = 0;
    a->on_oom = NULL;
}

void mem_arena_free(mem_arena_t *a)
{
    mem_block_t *b = a->blocks;

    while (b != NULL) {
        mem_block_t *next = b->next;
        mem_sys_free(b);
        b = next;
    }
    a->blocks = NULL;
    a->cur = NULL;
    a->left = 0;
    a->total = 0;
}

_Noreturn void mem_oom(mem_arena_t *a)
{
    if (a->on_oom == NULL) {
        /* A programming error: compilation entry points always set it. */
        fputs("phx-idl: out of memory outside a compilation\n", stderr);
        exit(2);
    }
    longjmp(*a->on_oom, 1);
}

void *mem_alloc(mem_arena_t *a, size_t size)
{
    size_t need;
    mem_block_t *b;
    char *p;

    size = size == 0 ? MEM_ALIGN : size;
    if (size > SIZE_MAX / 2)
        mem_oom(a);
    need = (size + MEM_ALIGN - 1) & ~(MEM_ALIGN - 1);
    if (need <= a->left) {
        p = a->cur;
        a->cur += need;
        a->left -= need;
        return p;
    }
    if (need > MEM_BLOCK_SIZE / 4) {
        /* A big request: its own block, linked behind the current one so
           the current block's free space stays usable. */
        b = mem_sys_alloc(MEM_HEADER + need);
        if (b == NULL)
            mem_oom(a);
        b->size = MEM_HEADER + need;
        a->total += b->size;
        if (a->blocks != NULL) {
            b->next = a->blocks->next;
            a->blocks->next = b;
        } else {
            b->next = NULL;
            a->blocks = b;
        }
        return (char *)b + MEM_HEADER;
    }
    b = mem_sys_alloc(MEM_HEADER + MEM_BLOCK_SIZE);
    if (b == NULL)
        mem_oom(a);
    b->size = MEM_HEADER + MEM_BLOCK_SIZE;
    b->next = a->blocks;
    a->blocks = b;
    a->total += b->size;
    p = (char *)b + MEM_HEADER;
    a->cur = p + need;
    a->left = MEM_BLOCK_SIZE - need;
    return p;
}

void *mem_zalloc(mem_arena_t *a, size_t size)
{
    void *p = mem_alloc(a, size);
    memset(p, 0, size);
    return p;
}

void *mem_grow(mem_arena_t *a, void *old, size_t old_n, size_t new_n,
               size_t elem)
{
    void *p;

    if (elem != 0 && new_n > SIZE_MAX / 2 / elem)
        mem_oom(a);
    p = mem_alloc(a, new_n * elem);
    if (old != NULL && old_n > 0)
        memcpy(p, old, (old_n < new_n ? old_n : new_n) * elem);
    return p;
}

char *mem_strndup(mem_arena_t *a, const char *s, size_t n)
{
    char *p = mem_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *mem_strdup(mem_arena_t *a, const char *s)
{
    return mem_strndup(a, s, strlen(s));
}

char *mem_printf(mem_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    p = mem_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
