/*
 * be_describe.h - the interface description back end of phx-idl
 * (--describe): writes OUTDIR/BASENAME.phxif for phx_ifrepo_load().
 */
#ifndef PHX_IDL_BE_DESCRIBE_H
#define PHX_IDL_BE_DESCRIBE_H

#include "compiler/ast.h"
#include "compiler/diag.h"

/* Describe every named type and interface of root (an error-free tree)
 * into OUTDIR/BASENAME.phxif, written atomically.  Errors go to d;
 * returns 0 on success, nonzero on error (no file left behind). */
int be_describe_generate(const ast_root_t *root, const char *outdir,
                         const char *basename, diag_t *d);

#endif /* PHX_IDL_BE_DESCRIBE_H */
