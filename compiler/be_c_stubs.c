/*
 * be_c_stubs.c - writes X-stubs.c: one thin function per operation (and
 * its deferred __send / __recv halves) that puts the arguments' addresses
 * in a vector and calls the generic engine of include/phx/opdesc.h.
 * Operations whose parameters and result are all numbers, booleans,
 * chars or octets (the common case of small, hot calls) marshal them
 * inline with the CDR codec instead: no vector, no TypeCode walk.
 */
#include "compiler/be_c_int.h"

/* The address of a parameter as the engine's argument slot. */
static const char *slot(be_c_t *g, const be_c_param_t *p,
                        ast_param_mode_t mode)
{
    if (mode != AST_PARAM_IN)
        return p->name;
    switch (be_c_passing(p->type)) {
    case BE_C_BYREF:
    case BE_C_ARRAY:
        return be_c_strf(g, "(void *)%s", p->name);
    default:
        return be_c_strf(g, "&%s", p->name);
    }
}

/* "void *const _args[] = {...};" with the slots the given half uses
 * (NULL for the others); returns the expression to pass ("_args" or
 * "NULL"). */
static const char *s_args(be_c_t *g, const be_c_op_t *op, be_c_proto_t k)
{
    const char **items;
    size_t n = 0;
    bool used = false;

    if (op->n_params == 0)
        return "NULL";
    items = mem_zalloc(&g->arena, op->n_params * sizeof *items);
    for (size_t i = 0; i < op->n_params; i++) {
        const be_c_param_t *p = &op->params[i];
        bool in = p->mode != AST_PARAM_OUT, out = p->mode != AST_PARAM_IN;
        if ((k == BE_C_P_SEND && !in) || (k == BE_C_P_RECV && !out)) {
            items[n++] = "NULL";
        } else {
            items[n++] = slot(g, p, k == BE_C_P_SEND ? AST_PARAM_IN
                                                     : p->mode);
            used = true;
        }
    }
    if (!used)
        return "NULL";
    be_c_wrap(g, "    void *const _args[] = {", items, n, "};\n");
    return "_args";
}

/* "    return fn(a, b, ...);" wrapped. */
static void s_return(be_c_t *g, const char *fn, const char *first,
                     const char *desc, const char *args, const char *last)
{
    const char *items[5] = {first, be_c_strf(g, "&%s", desc), args, last,
                            "_env"};

    be_c_wrap(g, be_c_strf(g, "    return %s(", fn), items, 5, ");\n}\n");
}

/* ---------------------------------------------------------------------------
 * Operations whose values are all flat: marshaled inline
 * ------------------------------------------------------------------------- */

static bool has_outputs(const be_c_op_t *op)
{
    if (op->ret)
        return true;
    for (size_t i = 0; i < op->n_params; i++)
        if (op->params[i].mode != AST_PARAM_IN)
            return true;
    return false;
}

/* Locals that receive the results until they are known to be good. */
static void f_temps(be_c_t *g, const be_c_op_t *op)
{
    if (op->oneway || !has_outputs(op))
        return;
    be_c_puts(g, "    phx_cdr_reader_t *_r;\n");
    if (op->ret)
        be_c_printf(g, "    %s = 0;\n", be_c_decl(g, op->ret, "_res"));
    for (size_t i = 0; i < op->n_params; i++)
        if (op->params[i].mode != AST_PARAM_IN)
            be_c_printf(g, "    %s = 0;\n",
                        be_c_decl(g, op->params[i].type,
                                  be_c_strf(g, "_v_%s",
                                            op->params[i].name)));
}

static bool has_inputs(const be_c_op_t *op)
{
    for (size_t i = 0; i < op->n_params; i++)
        if (op->params[i].mode != AST_PARAM_OUT)
            return true;
    return false;
}

/* "if (_rc == PHX_OK) {", then put the in and inout values on the writer
 * of request expression req (by_value: inout values are passed by value,
 * in the __send half), then call; braces only when needed. */
static void f_puts(be_c_t *g, const be_c_op_t *op, const char *req,
                   bool by_value, const char *call)
{
    if (!has_inputs(op)) {
        be_c_printf(g, "    if (_rc == PHX_OK)\n%s", call);
        return;
    }
    be_c_printf(g,
                "    if (_rc == PHX_OK) {\n"
                "        phx_cdr_writer_t *_w = phx_request_args(%s);\n\n",
                req);
    for (size_t i = 0; i < op->n_params; i++) {
        const be_c_param_t *p = &op->params[i];
        if (p->mode == AST_PARAM_OUT)
            continue;
        be_c_printf(g, "        phx_cdr_put_%s(_w, %s%s);\n",
                    be_c_flat_fn(p->type),
                    p->mode == AST_PARAM_INOUT && !by_value ? "*" : "",
                    p->name);
    }
    be_c_printf(g, "%s    }\n", call);
}

/* Decode the reply into the temporaries, then hand them over. */
static void f_gets(be_c_t *g, const be_c_op_t *op, const char *req)
{
    if (op->oneway || !has_outputs(op)) {
        be_c_printf(g, "    phx_request_destroy(%s);\n", req);
        return;
    }
    be_c_printf(g,
                "    if (_rc == PHX_OK) {\n"
                "        _r = phx_request_result(%s);\n",
                req);
    if (op->ret)
        be_c_printf(g, "        phx_cdr_get_%s(_r, &_res);\n",
                    be_c_flat_fn(op->ret));
    for (size_t i = 0; i < op->n_params; i++)
        if (op->params[i].mode != AST_PARAM_IN)
            be_c_printf(g, "        phx_cdr_get_%s(_r, &_v_%s);\n",
                        be_c_flat_fn(op->params[i].type),
                        op->params[i].name);
    be_c_printf(g,
                "        _rc = phx_op_check_reply(_r, &%s, _env);\n"
                "    }\n"
                "    phx_request_destroy(%s);\n",
                op->desc, req);
    if (op->ret)
        be_c_puts(g, "    *_ret = _rc == PHX_OK ? _res : 0;\n");
    for (size_t i = 0; i < op->n_params; i++) {
        const be_c_param_t *p = &op->params[i];
        if (p->mode == AST_PARAM_OUT)
            be_c_printf(g, "    *%s = _rc == PHX_OK ? _v_%s : 0;\n", p->name,
                        p->name);
        else if (p->mode == AST_PARAM_INOUT)
            be_c_printf(g, "    if (_rc == PHX_OK)\n        *%s = _v_%s;\n",
                        p->name, p->name);
    }
}

static void s_flat(be_c_t *g, const ast_node_t *iface, const be_c_op_t *op)
{
    be_c_stub_head(g, iface, op, BE_C_P_CALL, ")\n{\n");
    be_c_puts(g, "    phx_request_t *_req;\n");
    f_temps(g, op);
    be_c_printf(g,
                "    int _rc = phx_op_request(_obj, &%s, &_req, _env);\n\n",
                op->desc);
    f_puts(g, op, "_req", false,
           "        _rc = phx_request_invoke(_req, _env);\n");
    f_gets(g, op, "_req");
    be_c_puts(g, "    return _rc;\n}\n");
    if (op->oneway)
        return;

    be_c_puts(g, "\n");
    be_c_stub_head(g, iface, op, BE_C_P_SEND, ")\n{\n");
    be_c_printf(g,
                "    int _rc = phx_op_request(_obj, &%s, _req, _env);\n\n",
                op->desc);
    f_puts(g, op, "*_req", true,
           "        _rc = phx_request_send(*_req, _env);\n");
    be_c_puts(g, "    if (_rc != PHX_OK) {\n"
                 "        phx_request_destroy(*_req);\n"
                 "        *_req = NULL;\n"
                 "    }\n"
                 "    return _rc;\n"
                 "}\n");

    be_c_puts(g, "\n");
    be_c_stub_head(g, iface, op, BE_C_P_RECV, ")\n{\n");
    f_temps(g, op);
    be_c_printf(g, "    int _rc = phx_op_wait(_req, &%s, _env);\n\n",
                op->desc);
    f_gets(g, op, "_req");
    be_c_puts(g, "    return _rc;\n}\n");
}

/* ---------------------------------------------------------------------------
 * Everything else: the engine
 * ------------------------------------------------------------------------- */

static void s_op(be_c_t *g, const ast_node_t *iface, const be_c_op_t *op)
{
    const char *args, *ret = op->ret ? "_ret" : "NULL";

    be_c_puts(g, "\n");
    be_c_comment(g, "", op->signature);
    if (be_c_op_is_flat(op)) {
        s_flat(g, iface, op);
        return;
    }
    be_c_stub_head(g, iface, op, BE_C_P_CALL, ")\n{\n");
    args = s_args(g, op, BE_C_P_CALL);
    s_return(g, "phx_op_invoke", "_obj", op->desc, args, ret);
    if (op->oneway)
        return;

    be_c_puts(g, "\n");
    be_c_stub_head(g, iface, op, BE_C_P_SEND, ")\n{\n");
    args = s_args(g, op, BE_C_P_SEND);
    s_return(g, "phx_op_send", "_obj", op->desc, args, "_req");

    be_c_puts(g, "\n");
    be_c_stub_head(g, iface, op, BE_C_P_RECV, ")\n{\n");
    args = s_args(g, op, BE_C_P_RECV);
    s_return(g, "phx_op_recv", "_req", op->desc, args, ret);
}

static void s_scope(be_c_t *g, const ast_node_t *scope)
{
    AST_FOREACH(n, scope) {
        if (n->kind == AST_MODULE) {
            s_scope(g, n);
        } else if (n->kind == AST_INTERFACE && be_c_mine(n)) {
            be_c_op_t *ops;
            size_t k = be_c_own_ops(g, n, &ops);
            be_c_puts(g, "\n");
            be_c_banner(g, be_c_strf(g, "interface %s", be_c_scoped(n)));
            for (size_t i = 0; i < k; i++)
                s_op(g, n, &ops[i]);
        }
    }
}

void be_c_gen_stubs(be_c_t *g)
{
    const char *file = be_c_strf(g, "%s-stubs.c", g->basename);

    be_c_file_comment(g, file, "client stubs");
    be_c_printf(g, "#include \"%s.h\"\n", g->basename);
    s_scope(g, g->root->node);
}
