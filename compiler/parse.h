/*
 * parse.h - the parser of phx-idl: recursive descent over the
 * preprocessor's tokens, building the AST of compiler/ast.h with names
 * unresolved and constant expressions unevaluated (sema does both).
 *
 * Syntax errors are reported and the parser recovers at the next ';' or
 * '}' of the right depth, so one run reports several independent errors.
 * Constructs phx-idl does not support (valuetype, eventtype, component,
 * home, typeid, typeprefix, import) get one "not supported" error and are
 * skipped whole.
 */
#ifndef PHX_IDL_PARSE_H
#define PHX_IDL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/pp.h"

/* Deepest nesting of scopes, types and expressions accepted. */
#define PARSE_MAX_DEPTH 200

/* A #pragma ID or #pragma version, applied by sema once names resolve. */
typedef struct parse_pragma {
    lex_tok_t kind;             /* LEX_T_PRAGMA_ID or LEX_T_PRAGMA_VERSION */
    ast_node_t *scope;          /* the scope it appeared in */
    ast_sname_t name;           /* the declaration it names */
    const char *id;             /* PRAGMA_ID */
    uint32_t major, minor;      /* PRAGMA_VERSION */
    uint32_t seq;               /* nodes created before it */
} parse_pragma_t;

typedef struct parse_state {
    pp_state_t *pp;
    mem_arena_t *arena;
    intern_t *names;
    diag_t *diag;
    ast_root_t *root;

    lex_token_t tok;            /* the current token */
    lex_token_t ahead;          /* one more, when has_ahead */
    bool has_ahead;
    bool fatal;                 /* stop: every token reads as EOF */

    ast_node_t *scope;          /* scope receiving new declarations */
    const char *prefix;         /* repository id prefix in effect */
    const char **file_prefixes; /* saved at each #include */
    size_t n_file_prefixes, cap_file_prefixes;

    unsigned depth;             /* nesting, against PARSE_MAX_DEPTH */
    const char *err_file;       /* position of the last syntax error, */
    uint32_t err_line, err_column;  /* to report one error per token */

    uint32_t n_nodes;           /* nodes created so far */
    parse_pragma_t *pragmas;
    size_t n_pragmas, cap_pragmas;
} parse_state_t;

/* Parse the whole input from pp into root (whose node, main_file and
 * arena are set up by the caller). */
void parse_init(parse_state_t *ps, pp_state_t *pp, ast_root_t *root,
                intern_t *names, diag_t *d);
void parse_specification(parse_state_t *ps);

#endif /* PHX_IDL_PARSE_H */
