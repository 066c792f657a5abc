/*
 * pp.h - the preprocessor of phx-idl.  It works on the lexer's tokens, so
 * every token keeps the exact position it has in the user's file (tokens
 * that come from a macro take the position of the macro's use).
 *
 * Directives: #include "..." / <...> (-I search paths; for "..." the
 * including file's directory first), #define / #undef (object-like and
 * function-like macros, # and ##), #if / #ifdef / #ifndef / #elif / #else
 * / #endif with defined() and integer expressions, #error, #warning,
 * #pragma prefix / ID / version / once.  The IDL pragmas reach the parser
 * as pseudo tokens (LEX_T_PRAGMA_*), in order, with their positions; so do
 * the start and the end of each included file (LEX_T_FILE_ENTER / _LEAVE).
 */
#ifndef PHX_IDL_PP_H
#define PHX_IDL_PP_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/diag.h"
#include "compiler/intern.h"
#include "compiler/lex.h"
#include "compiler/mem.h"

/* Deepest #include nesting accepted. */
#define PP_MAX_INCLUDE_DEPTH 64
/* Largest file read. */
#define PP_MAX_FILE_SIZE ((size_t)256 << 20)

typedef struct pp_macro pp_macro_t;
typedef struct pp_file pp_file_t;
typedef struct pp_context pp_context_t;
typedef struct pp_cond pp_cond_t;

typedef struct pp_state {
    mem_arena_t *arena;
    intern_t *names;
    diag_t *diag;

    const char *const *include_dirs;
    size_t n_include_dirs;
    bool no_includes;           /* #include is refused */

    pp_file_t *file;            /* innermost file being read */
    unsigned depth;             /* include depth of file (main = 0) */

    pp_macro_t **macros;        /* hash table keyed by interned name */
    size_t macro_cap, macro_used;

    pp_cond_t *conds;           /* open conditionals, all files */
    size_t n_conds, cap_conds;

    pp_context_t *ctx;          /* macro expansion contexts (a stack) */
    size_t n_ctx, cap_ctx;

    const char **once;          /* files that said #pragma once */
    size_t n_once, cap_once;

    const char **includes;      /* direct includes of the main file */
    size_t n_includes, cap_includes;

    unsigned expansions;        /* guards against runaway expansion */
    size_t expanded_tokens;
    bool expansion_reported;
    unsigned list_depth;        /* nesting of pp_expand_list */
    void *pool[48];             /* free blocks of 2^i bytes (pp.c) */
    size_t live_bytes;          /* pool blocks in use */
    bool arg_depth_reported;
} pp_state_t;

void pp_init(pp_state_t *pp, mem_arena_t *arena, intern_t *names,
             diag_t *d, const char *const *include_dirs,
             size_t n_include_dirs, bool no_includes);

/* -D and -U: "NAME", "NAME=VALUE" (as #define NAME VALUE), "NAME". */
void pp_define(pp_state_t *pp, const char *def);
void pp_undefine(pp_state_t *pp, const char *name);

/* Start reading the main file: from memory, or read from path.  The
 * file name must be interned.  pp_open_file returns false (reported) if
 * the file cannot be read. */
void pp_open_buffer(pp_state_t *pp, const char *file, const char *text,
                    size_t len);
bool pp_open_file(pp_state_t *pp, const char *file);

/* The next token for the parser: macros expanded, directives done,
 * keywords classified; LEX_T_EOF at the end of the main file. */
void pp_next(pp_state_t *pp, lex_token_t *t);

#endif /* PHX_IDL_PP_H */
