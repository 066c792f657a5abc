/*
 * be_c.h - the C back end of phx-idl: turns an error-free AST into the C
 * header, stubs, skeletons and type tables for the Phalanx ORB.
 */
#ifndef PHX_IDL_BE_C_H
#define PHX_IDL_BE_C_H

#include "compiler/ast.h"
#include "compiler/diag.h"

/* Generate the C files for root into outdir, naming them after basename
 * (the IDL file name without directory and ".idl").  Errors go to d.
 * Returns 0 on success, nonzero on error; on error no output file is left
 * behind (files are written to temporaries and renamed at the end). */
int be_c_generate(const ast_root_t *root, const char *outdir,
                  const char *basename, diag_t *d);

#endif /* PHX_IDL_BE_C_H */
