/*
 * main.c - the phx-idl command line: options, one front-end run per IDL
 * file, then the C back end (or the --ast dump); diagnostics on stderr,
 * exit status 1 on any error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compiler/ast.h"
#include "compiler/be_c.h"
#include "compiler/be_describe.h"
#include "compiler/diag.h"
#include "compiler/fe.h"
#include "compiler/mem.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

static void main_usage(FILE *out)
{
    fputs(
"usage: phx-idl [OPTION]... FILE.idl|FILE.x...\n"
"\n"
"Compile OMG IDL files into C for the Phalanx ORB: for each FILE.idl, a\n"
"header, client stubs, server skeletons and type tables in OUTDIR.\n"
"Files named FILE.x are read as ONC RPC language (RFC 5531).\n"
"\n"
"  -I DIR          add DIR to the #include search path (in order)\n"
"  -D NAME[=VALUE] define a preprocessor macro (VALUE defaults to 1)\n"
"  -U NAME         undefine a preprocessor macro\n"
"  -o OUTDIR       write the generated files to OUTDIR (default: .)\n"
"  --ast           check the files and print their syntax trees instead\n"
"                  of generating code\n"
"  --describe      write OUTDIR/FILE.phxif, a description of the types and\n"
"                  interfaces for dynamic invocation, instead of C code\n"
"  --rpc           read every file as ONC RPC language, whatever its name\n"
"  -Werror         treat warnings as errors\n"
"  --help          print this help and exit\n"
"  --version       print the version and exit\n"
"\n"
"Diagnostics are written as FILE:LINE:COL: error: MESSAGE.  The exit status\n"
"is 0 on success, 1 if any error was reported, 2 on bad usage.\n", out);
}

/* A growable array of option strings. */
typedef struct main_list {
    const char **v;
    size_t n, cap;
} main_list_t;

static bool main_list_add(main_list_t *l, const char *s)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 8;
        const char **nv = mem_sys_alloc(nc * sizeof *nv);
        if (nv == NULL)
            return false;
        if (l->n > 0)
            memcpy(nv, l->v, l->n * sizeof *nv);
        mem_sys_free(l->v);
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = s;
    return true;
}

/* "dir/name.idl" or "dir/name.x" -> "name" (into buf). */
static void main_basename(const char *path, char *buf, size_t size)
{
    const char *b = strrchr(path, '/');
    size_t n;

    b = b != NULL ? b + 1 : path;
    n = strlen(b);
    if (n > 4 && strcmp(b + n - 4, ".idl") == 0)
        n -= 4;
    else if (n > 2 && strcmp(b + n - 2, ".x") == 0)
        n -= 2;
    if (n >= size)
        n = size - 1;
    memcpy(buf, b, n);
    buf[n] = '\0';
}

int main(int argc, char **argv)
{
    main_list_t incs = { NULL, 0, 0 }, defs = { NULL, 0, 0 };
    main_list_t undefs = { NULL, 0, 0 }, files = { NULL, 0, 0 };
    const char *outdir = ".";
    bool dump_ast = false, werror = false, opts_done = false, rpc = false;
    bool describe = false;
    fe_options_t opt;
    diag_t d;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        main_list_t *target = NULL;
        const char *val = NULL;
        bool ok = true;

        if (opts_done || a[0] != '-' || a[1] == '\0') {
            ok = main_list_add(&files, a);
        } else if (strcmp(a, "--") == 0) {
            opts_done = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            main_usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("phx-idl (Phalanx) %s\n", PACKAGE_VERSION);
            return 0;
        } else if (strcmp(a, "--ast") == 0) {
            dump_ast = true;
        } else if (strcmp(a, "--rpc") == 0) {
            rpc = true;
        } else if (strcmp(a, "--describe") == 0) {
            describe = true;
        } else if (strcmp(a, "-Werror") == 0) {
            werror = true;
        } else if (a[1] == 'I' || a[1] == 'D' || a[1] == 'U' ||
                   a[1] == 'o') {
            target = a[1] == 'I' ? &incs : a[1] == 'D' ? &defs
                   : a[1] == 'U' ? &undefs : NULL;
            if (a[2] != '\0') {
                val = a + 2;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                fprintf(stderr, "phx-idl: option %s needs an argument\n", a);
                main_usage(stderr);
                return 2;
            }
            if (a[1] == 'o')
                outdir = val;
            else
                ok = main_list_add(target, val);
        } else {
            fprintf(stderr, "phx-idl: unknown option '%s'\n", a);
            main_usage(stderr);
            return 2;
        }
        if (!ok) {
            fputs("phx-idl: out of memory\n", stderr);
            return 1;
        }
    }
    if (files.n == 0) {
        fputs("phx-idl: no input files\n", stderr);
        main_usage(stderr);
        return 2;
    }
    if (!dump_ast) {
        struct stat st;
        if (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "phx-idl: output directory '%s': %s\n", outdir,
                    stat(outdir, &st) != 0 ? strerror(errno)
                                           : "not a directory");
            return 1;
        }
    }

    memset(&opt, 0, sizeof opt);
    opt.include_dirs = incs.v;
    opt.n_include_dirs = incs.n;
    opt.defines = defs.v;
    opt.n_defines = defs.n;
    opt.undefines = undefs.v;
    opt.n_undefines = undefs.n;
    opt.rpc = rpc;
    diag_init(&d, stderr);
    d.werror = werror;

    for (i = 0; (size_t)i < files.n; i++) {
        unsigned before = d.errors;
        ast_root_t *root = fe_compile_file(files.v[i], &opt, &d);
        if (root != NULL && d.errors == before) {
            if (dump_ast) {
                ast_dump(root, stdout);
            } else {
                char base[1024];
                main_basename(files.v[i], base, sizeof base);
                int (*gen)(const ast_root_t *, const char *, const char *,
                           diag_t *) =
                    describe ? be_describe_generate : be_c_generate;
                if (gen(root, outdir, base, &d) != 0 &&
                    d.errors == before)
                    diag_error(&d, files.v[i], 0, 0,
                               "code generation failed");
            }
        }
        ast_free(root);
    }
    fflush(stdout);
    if (d.errors > 0 || d.warnings > 0) {
        if (d.errors > 0 && d.warnings > 0)
            fprintf(stderr, "%u error%s and %u warning%s generated.\n",
                    d.errors, d.errors == 1 ? "" : "s", d.warnings,
                    d.warnings == 1 ? "" : "s");
        else if (d.errors > 0)
            fprintf(stderr, "%u error%s generated.\n", d.errors,
                    d.errors == 1 ? "" : "s");
        else
            fprintf(stderr, "%u warning%s generated.\n", d.warnings,
                    d.warnings == 1 ? "" : "s");
    }
    mem_sys_free(incs.v);
    mem_sys_free(defs.v);
    mem_sys_free(undefs.v);
    mem_sys_free(files.v);
    return d.errors > 0 ? 1 : 0;
}
