/*
 * fe.c - the front end of phx-idl as one call (see fe.h): sets up the
 * arena and the out-of-memory recovery point, then runs the preprocessor,
 * the parser and semantic analysis.
 */
#include "compiler/fe.h"

#include <setjmp.h>
#include <string.h>

#include "compiler/intern.h"
#include "compiler/parse.h"
#include "compiler/pp.h"
#include "compiler/sema.h"
#include "compiler/xparse.h"

/* Everything one compilation needs, kept off the stack frame that
 * setjmp() returns into. */
typedef struct fe_run {
    ast_root_t *root;
    intern_t names;
    pp_state_t pp;
    parse_state_t ps;
    jmp_buf on_oom;
} fe_run_t;

/* The compilation proper; memory exhaustion longjmp()s out of it. */
static void fe_body(fe_run_t *run, const char *name, const char *text,
                    size_t len, bool from_file, const fe_options_t *opt,
                    diag_t *d)
{
    ast_root_t *root = run->root;
    unsigned errors_before = d->errors;
    size_t i;

    intern_init(&run->names, &root->arena);
    root->main_file = intern_str(&run->names, name);
    root->node = mem_zalloc(&root->arena, sizeof *root->node);
    root->node->kind = AST_ROOT;
    root->node->file = root->main_file;
    root->node->line = 1;
    root->node->column = 1;
    root->node->name = "";
    root->node->scoped_name = "";
    root->node->prefix = "";
    root->node->in_main_file = true;

    if (opt->rpc || xparse_is_rpc_file(name)) {
        /* ONC RPC language: its own parser, the same checks. */
        if (from_file) {
            if (!xparse_file(root, &run->names, d))
                return;
        } else {
            char *copy = mem_alloc(&root->arena, len + 1);
            memcpy(copy, text, len);
            copy[len] = '\0';
            xparse_buffer(root, &run->names, d, copy, len);
        }
        if (d->errors == errors_before)
            sema_check(root, &run->names, d, NULL, 0);
        return;
    }

    pp_init(&run->pp, &root->arena, &run->names, d, opt->include_dirs,
            opt->n_include_dirs, opt->no_includes);
    for (i = 0; i < opt->n_defines; i++)
        pp_define(&run->pp, opt->defines[i]);
    for (i = 0; i < opt->n_undefines; i++)
        pp_undefine(&run->pp, opt->undefines[i]);
    if (from_file) {
        if (!pp_open_file(&run->pp, root->main_file))
            return;
    } else {
        char *copy = mem_alloc(&root->arena, len + 1);
        memcpy(copy, text, len);
        copy[len] = '\0';
        pp_open_buffer(&run->pp, root->main_file, copy, len);
    }

    parse_init(&run->ps, &run->pp, root, &run->names, d);
    parse_specification(&run->ps);
    root->includes = run->pp.includes;
    root->n_includes = run->pp.n_includes;

    /* Semantic checks on a tree with syntax errors would mostly report
       their consequences: only an intact tree is checked. */
    if (d->errors == errors_before)
        sema_check(root, &run->names, d, run->ps.pragmas, run->ps.n_pragmas);
}

static ast_root_t *fe_compile(const char *name, const char *text,
                              size_t len, bool from_file,
                              const fe_options_t *opt, diag_t *d)
{
    static const fe_options_t no_options;
    fe_run_t *run = mem_sys_alloc(sizeof *run);
    ast_root_t *root = mem_sys_alloc(sizeof *root);

    if (run == NULL || root == NULL) {
        mem_sys_free(run);
        mem_sys_free(root);
        diag_error(d, name, 0, 0, "out of memory");
        return NULL;
    }
    memset(run, 0, sizeof *run);
    memset(root, 0, sizeof *root);
    run->root = root;
    mem_arena_init(&root->arena);
    root->arena.on_oom = &run->on_oom;
    if (setjmp(run->on_oom) != 0) {
        /* Out of memory somewhere below: drop everything. */
        mem_arena_free(&run->root->arena);
        mem_sys_free(run->root);
        mem_sys_free(run);
        diag_error(d, name, 0, 0, "out of memory");
        return NULL;
    }
    fe_body(run, name, text, len, from_file, opt != NULL ? opt : &no_options,
            d);
    root->arena.on_oom = NULL;
    mem_sys_free(run);
    return root;
}

ast_root_t *fe_compile_file(const char *path, const fe_options_t *opt,
                            diag_t *d)
{
    return fe_compile(path, NULL, 0, true, opt, d);
}

ast_root_t *fe_compile_buffer(const char *name, const char *text,
                              size_t len, const fe_options_t *opt,
                              diag_t *d)
{
    return fe_compile(name, text, len, false, opt, d);
}
