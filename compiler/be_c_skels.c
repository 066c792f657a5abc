/*
 * be_c_skels.c - writes X-skels.c: for every interface, one skeleton per
 * operation it implements (inherited ones included) that decodes the
 * arguments with the generic engine, calls the servant's function and
 * encodes the results; the table the object adapter dispatches on; the
 * repository ids _is_a answers yes to; and the servant's init function.
 * Operations whose values are all flat (see be_c_stubs.c) decode and
 * encode them inline.
 */
#include "compiler/be_c_int.h"

/* What the skeleton hands the implementation for a parameter. */
static const char *s_arg(be_c_t *g, const be_c_param_t *p)
{
    if (p->mode != AST_PARAM_IN)
        return be_c_strf(g, "&%s", p->name);
    switch (be_c_passing(p->type)) {
    case BE_C_BYREF:
        return be_c_strf(g, "&%s", p->name);
    case BE_C_ARRAY:
        /* A cast: C11 does not convert T (*)[n] to const T (*)[n]. */
        return be_c_strf(g, "(const %s *)&%s", be_c_type(g, p->type),
                         p->name);
    default:
        return p->name;
    }
}

/* Flat operations (be_c_op_is_flat): decoded and encoded inline. */
static void k_flat(be_c_t *g, const ast_node_t *iface, const be_c_op_t *op)
{
    const char *c = be_c_name(g, iface);
    const char **items;
    bool ins = false, outs = op->ret != NULL;
    size_t n = 0;

    for (size_t i = 0; i < op->n_params; i++) {
        ins |= op->params[i].mode != AST_PARAM_OUT;
        outs |= op->params[i].mode != AST_PARAM_IN;
    }
    be_c_printf(g, "    const %s__servant *_s = (const %s__servant *)_sv;\n",
                c, c);
    if (ins)
        be_c_puts(g, "    phx_cdr_reader_t *_r = "
                     "phx_server_request_args(_sr);\n");
    for (size_t i = 0; i < op->n_params; i++)
        be_c_printf(g, "    %s%s;\n",
                    be_c_decl(g, op->params[i].type, op->params[i].name),
                    op->params[i].mode == AST_PARAM_OUT ? " = 0" : "");
    if (op->ret)
        be_c_printf(g, "    %s = 0;\n", be_c_decl(g, op->ret, "_ret"));
    be_c_printf(g,
                "    int _rc;\n"
                "\n"
                "    if (_s->epv->%s == NULL)\n"
                "        return phx_op_not_implemented(&%s, _env);\n",
                op->c, op->desc);
    if (!ins && !(outs && !op->oneway))
        be_c_puts(g, "    (void)_sr;\n");
    if (ins) {
        for (size_t i = 0; i < op->n_params; i++)
            if (op->params[i].mode != AST_PARAM_OUT)
                be_c_printf(g, "    phx_cdr_get_%s(_r, &%s);\n",
                            be_c_flat_fn(op->params[i].type),
                            op->params[i].name);
        be_c_printf(g,
                    "    _rc = phx_op_check_args(_r, &%s, _env);\n"
                    "    if (_rc != PHX_OK)\n"
                    "        return _rc;\n",
                    op->desc);
    }
    items = mem_zalloc(&g->arena, (op->n_params + 3) * sizeof *items);
    items[n++] = "_s->self";
    for (size_t i = 0; i < op->n_params; i++)
        items[n++] = op->params[i].mode == AST_PARAM_IN
                         ? op->params[i].name
                         : be_c_strf(g, "&%s", op->params[i].name);
    if (op->ret)
        items[n++] = "&_ret";
    items[n++] = "_env";
    be_c_wrap(g, be_c_strf(g, "    _rc = _s->epv->%s(", op->c), items, n,
              ");\n");
    if (outs && !op->oneway) {
        be_c_puts(g, "    if (_rc == PHX_OK) {\n"
                     "        phx_cdr_writer_t *_w = "
                     "phx_server_request_reply(_sr);\n\n");
        if (op->ret)
            be_c_printf(g, "        phx_cdr_put_%s(_w, _ret);\n",
                        be_c_flat_fn(op->ret));
        for (size_t i = 0; i < op->n_params; i++)
            if (op->params[i].mode != AST_PARAM_IN)
                be_c_printf(g, "        phx_cdr_put_%s(_w, %s);\n",
                            be_c_flat_fn(op->params[i].type),
                            op->params[i].name);
        be_c_puts(g, "    }\n");
    }
    be_c_puts(g, "    return _rc;\n}\n");
}

static void k_op(be_c_t *g, const ast_node_t *iface, const be_c_op_t *op)
{
    const char *c = be_c_name(g, iface);
    const char *ret = op->ret ? "&_ret" : "NULL";
    const char *args = "NULL";
    const char **items;
    size_t n = 0;

    be_c_puts(g, "\n");
    be_c_comment(g, "", op->signature);
    be_c_wrap(g, be_c_strf(g, "static int %s__skel_%s(", c, op->c),
              (const char *const[]){"phx_servant_t *_sv",
                                    "phx_server_request_t *_sr",
                                    "phx_env_t *_env"},
              3, ")\n{\n");
    if (be_c_op_is_flat(op)) {
        k_flat(g, iface, op);
        return;
    }
    be_c_printf(g,
                "    const %s__servant *_s = (const %s__servant *)_sv;\n"
                "    const phx_opdesc_t *_op = &%s;\n",
                c, c, op->desc);
    for (size_t i = 0; i < op->n_params; i++)
        be_c_printf(g, "    %s;\n",
                    be_c_decl(g, op->params[i].type, op->params[i].name));
    if (op->ret)
        be_c_printf(g, "    %s;\n", be_c_decl(g, op->ret, "_ret"));
    if (op->n_params) {
        items = mem_zalloc(&g->arena, op->n_params * sizeof *items);
        for (size_t i = 0; i < op->n_params; i++)
            items[i] = be_c_strf(g, "&%s", op->params[i].name);
        be_c_wrap(g, "    void *const _args[] = {", items, op->n_params,
                  "};\n");
        args = "_args";
    }
    be_c_printf(g,
                "    int _rc;\n"
                "\n"
                "    if (_s->epv->%s == NULL)\n"
                "        return phx_op_not_implemented(_op, _env);\n"
                "    _rc = phx_op_decode_args(_sr, _op, %s, %s, _env);\n"
                "    if (_rc == PHX_OK)\n",
                op->c, args, ret);
    items = mem_zalloc(&g->arena, (op->n_params + 3) * sizeof *items);
    items[n++] = "_s->self";
    for (size_t i = 0; i < op->n_params; i++)
        items[n++] = s_arg(g, &op->params[i]);
    if (op->ret)
        items[n++] = "&_ret";
    items[n++] = "_env";
    be_c_wrap(g, be_c_strf(g, "        _rc = _s->epv->%s(", op->c), items,
              n, ");\n");
    if (!op->oneway)
        be_c_printf(g,
                    "    if (_rc == PHX_OK)\n"
                    "        _rc = phx_op_encode_results(_sr, _op, %s, %s, "
                    "_env);\n",
                    args, ret);
    be_c_printf(g,
                "    phx_op_free_args(_op, %s, %s);\n"
                "    return _rc;\n"
                "}\n",
                args, ret);
}

static void k_interface(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    const ast_refs_t *anc = &n->u.iface.ancestors;
    be_c_op_t *ops;
    size_t n_ops = be_c_all_ops(g, n, &ops);

    be_c_puts(g, "\n");
    be_c_banner(g, be_c_strf(g, "interface %s", be_c_scoped(n)));
    for (size_t i = 0; i < n_ops; i++)
        k_op(g, n, &ops[i]);

    be_c_puts(g, "\n");
    if (n_ops) {
        be_c_printf(g, "static const phx_operation_t %s__skels[] = {\n", c);
        for (size_t i = 0; i < n_ops; i++)
            be_c_printf(g, "    {.name = \"%s\", .skel = %s__skel_%s},\n",
                        ops[i].wire, c, ops[i].c);
        be_c_puts(g, "};\n");
    }
    if (anc->count) {
        be_c_printf(g, "static const char *const %s__base_ids[] = {\n", c);
        for (size_t i = 0; i < anc->count; i++)
            be_c_printf(g, "    \"%s\",\n",
                        ast_node_resolve(anc->items[i])->repo_id);
        be_c_puts(g, "};\n");
    }
    be_c_printf(g,
                "const phx_interface_t %s__iface = {\n"
                "    .repo_id = \"%s\",\n",
                c, n->repo_id);
    if (anc->count)
        be_c_printf(g,
                    "    .bases = %s__base_ids,\n"
                    "    .base_count = %zu,\n",
                    c, anc->count);
    if (n_ops)
        be_c_printf(g,
                    "    .ops = %s__skels,\n"
                    "    .op_count = %zu,\n",
                    c, n_ops);
    be_c_puts(g, "};\n\n");
    be_c_wrap(g, be_c_strf(g, "void %s__servant_init(", c),
              (const char *const[]){
                  be_c_strf(g, "%s__servant *sv", c),
                  be_c_strf(g, "const %s__epv *epv", c), "void *self"},
              3, ")\n");
    be_c_printf(g,
                "{\n"
                "    memset(sv, 0, sizeof *sv);\n"
                "    sv->base.iface = &%s__iface;\n"
                "    sv->base.impl = sv;\n"
                "    sv->epv = epv;\n"
                "    sv->self = self;\n"
                "}\n",
                c);
}

static void k_scope(be_c_t *g, const ast_node_t *scope)
{
    AST_FOREACH(n, scope) {
        if (n->kind == AST_MODULE)
            k_scope(g, n);
        else if (n->kind == AST_INTERFACE && be_c_mine(n))
            k_interface(g, n);
    }
}

void be_c_gen_skels(be_c_t *g)
{
    const char *file = be_c_strf(g, "%s-skels.c", g->basename);

    be_c_file_comment(g, file, "server skeletons");
    be_c_printf(g, "#include <string.h>\n\n#include \"%s.h\"\n",
                g->basename);
    k_scope(g, g->root->node);
}
