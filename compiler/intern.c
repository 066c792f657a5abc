/*
 * intern.c - the string interning table of phx-idl (see intern.h).
 */
#include "compiler/intern.h"

#include <string.h>

uint32_t intern_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void intern_init(intern_t *it, mem_arena_t *arena)
{
    it->arena = arena;
    it->slots = NULL;
    it->cap = 0;
    it->used = 0;
}

static void intern_grow(intern_t *it)
{
    size_t ncap = it->cap ? it->cap * 2 : 256;
    intern_entry_t *ns = mem_zalloc(it->arena, ncap * sizeof *ns);
    size_t i;

    for (i = 0; i < it->cap; i++) {
        intern_entry_t *e = &it->slots[i];
        size_t j;
        if (e->str == NULL)
            continue;
        j = e->hash & (ncap - 1);
        while (ns[j].str != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = *e;
    }
    it->slots = ns;
    it->cap = ncap;
}

const char *intern_n(intern_t *it, const char *s, size_t len)
{
    uint32_t h = intern_hash(s, len);
    size_t j;

    if ((it->used + 1) * 2 > it->cap)
        intern_grow(it);
    j = h & (it->cap - 1);
    while (it->slots[j].str != NULL) {
        intern_entry_t *e = &it->slots[j];
        if (e->hash == h && e->len == len && memcmp(e->str, s, len) == 0)
            return e->str;
        j = (j + 1) & (it->cap - 1);
    }
    it->slots[j].str = mem_strndup(it->arena, s, len);
    it->slots[j].len = len;
    it->slots[j].hash = h;
    it->used++;
    return it->slots[j].str;
}

const char *intern_str(intern_t *it, const char *s)
{
    return intern_n(it, s, strlen(s));
}
