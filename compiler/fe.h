/*
 * fe.h - the front end of phx-idl as one call: preprocess, lex, parse and
 * check an IDL file, giving the AST (compiler/ast.h) that back ends walk.
 */
#ifndef PHX_IDL_FE_H
#define PHX_IDL_FE_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/ast.h"
#include "compiler/diag.h"

typedef struct fe_options {
    const char *const *include_dirs;    /* -I, searched in order */
    size_t n_include_dirs;
    const char *const *defines;         /* -D: "NAME" or "NAME=VALUE" */
    size_t n_defines;
    const char *const *undefines;       /* -U: "NAME" */
    size_t n_undefines;
    bool no_includes;                   /* #include is an error (fuzzing) */
    bool rpc;                           /* read ONC RPC language (also for
                                           any file named *.x; see
                                           compiler/xparse.h) */
} fe_options_t;

/* Compile the IDL file at path (ONC RPC language when opt->rpc or the
 * name ends in ".x").  Diagnostics go to d.  Returns the tree
 * (to be released with ast_free()), also when errors were reported (then
 * d->errors > 0 and the tree may be incomplete: hand it to no back end);
 * returns NULL only when memory ran out (reported through d). */
ast_root_t *fe_compile_file(const char *path, const fe_options_t *opt,
                            diag_t *d);

/* The same for IDL text in memory, reported under the file name name. */
ast_root_t *fe_compile_buffer(const char *name, const char *text,
                              size_t len, const fe_options_t *opt,
                              diag_t *d);

#endif /* PHX_IDL_FE_H */
