/*
 * xparse.h - the ONC RPC language front end of phx-idl (RFC 5531 section
 * 12, RFC 4506 section 6): parses a ".x" file into the same AST as the
 * IDL parser (names unresolved, constant expressions unevaluated, so that
 * sema_check() finishes the job), following docs/onc-rpc-mapping.md:
 *
 *   program P { version V { R PROC(A) = n; } = v; } = p;
 *     -> module P { interface V { R PROC(in A arg1); }; };
 *        with iface.rpc / rpc_prog / rpc_vers and op.rpc / rpc_proc set;
 *   const, struct, union switch, enum, typedef -> their IDL forms;
 *   opaque[n] / opaque<n> -> octet[n] / sequence<octet,n>;
 *   T x<n> -> sequence<T,n>; T *x -> sequence<T,1>; string<n> -> string<n>.
 *
 * It uses the IDL lexer (compiler/lex.h) directly, without the
 * preprocessor: '%' pass-through lines are skipped (one note), '#' lines
 * are refused.  Errors are reported through d as FILE:LINE:COL: error:.
 */
#ifndef PHX_IDL_XPARSE_H
#define PHX_IDL_XPARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/intern.h"

/* True when path names ONC RPC input (it ends in ".x"). */
bool xparse_is_rpc_file(const char *path);

/* Parse text (len bytes, NUL-terminated) as the main file of root (whose
 * node, main_file and arena are set up by the caller).  Sets
 * root->case_sensitive. */
void xparse_buffer(ast_root_t *root, intern_t *names, diag_t *d,
                   const char *text, size_t len);

/* The same for a file; false (reported) if it cannot be read. */
bool xparse_file(ast_root_t *root, intern_t *names, diag_t *d);

#endif /* PHX_IDL_XPARSE_H */
