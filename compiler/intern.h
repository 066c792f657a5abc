/*
 * intern.h - interned strings of phx-idl: one copy of every identifier and
 * file name per compilation, so that equal names are equal pointers.
 */
#ifndef PHX_IDL_INTERN_H
#define PHX_IDL_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "compiler/mem.h"

typedef struct intern_entry {
    const char *str;
    size_t len;
    uint32_t hash;
} intern_entry_t;

typedef struct intern {
    mem_arena_t *arena;
    intern_entry_t *slots;      /* open addressing, power-of-two size */
    size_t cap;
    size_t used;
} intern_t;

void intern_init(intern_t *it, mem_arena_t *arena);
/* The interned copy of s[0..len) (NUL-terminated). */
const char *intern_n(intern_t *it, const char *s, size_t len);
const char *intern_str(intern_t *it, const char *s);

/* FNV-1a, also used by the symbol tables. */
uint32_t intern_hash(const char *s, size_t len);

#endif /* PHX_IDL_INTERN_H */
