/*
 * fuzz_idl.c - libFuzzer target for the phx-idl front end: the input is
 * compiled as an in-memory IDL file (preprocessor, lexer, parser and
 * semantic analysis, then the --ast dump) with #include refused, so a run
 * never touches the file system.  Diagnostics are discarded; the target
 * only looks for crashes, hangs, leaks and sanitizer reports.
 *
 * "make check" replays tests/fuzz/corpus/idl through it (replay_idl);
 * "make fuzz-idl" runs it under libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/fe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const defines[] = { "FUZZ=1" };
    fe_options_t opt = { 0 };
    diag_t d;
    ast_root_t *root;

    opt.no_includes = true;
    opt.defines = defines;
    opt.n_defines = 1;
    diag_init(&d, NULL);
    root = fe_compile_buffer("fuzz.idl", (const char *)data, size, &opt, &d);
    if (root != NULL && d.errors == 0) {
        /* Exercise the dump and the helpers on every accepted tree. */
        FILE *sink = fopen("/dev/null", "w");
        if (sink != NULL) {
            ast_dump(root, sink);
            fclose(sink);
        }
    }
    ast_free(root);
    return 0;
}
