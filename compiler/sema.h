/*
 * sema.h - semantic analysis of phx-idl: resolves every name, evaluates
 * every constant expression, checks the rules of the IDL chapter of CORBA
 * (redefinitions, case-insensitive collisions, forward declarations,
 * recursion, oneway, inheritance, unions), and computes repository ids.
 *
 * It walks the tree once in source order, declaring each name as it is
 * met, so a name is visible only after its declaration, as IDL requires.
 * Scopes are hash tables keyed by the lower-case name (collisions that
 * differ only in case are errors), so the work is linear in the input.
 */
#ifndef PHX_IDL_SEMA_H
#define PHX_IDL_SEMA_H

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/intern.h"
#include "compiler/parse.h"

/* Check root in place; the pragmas are the parser's ID / version ones.
 * Errors go to d. */
void sema_check(ast_root_t *root, intern_t *names, diag_t *d,
                const parse_pragma_t *pragmas, size_t n_pragmas);

#endif /* PHX_IDL_SEMA_H */
