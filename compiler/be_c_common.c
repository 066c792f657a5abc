/*
 * be_c_common.c - writes X-common.c: the TypeCodes of every declared type
 * and the operation and interface descriptions, all static const data
 * that clients and servers share.
 */
#include <inttypes.h>
#include <string.h>

#include "compiler/be_c_int.h"

static void c_scope(be_c_t *g, const ast_node_t *scope);
static void c_node(be_c_t *g, const ast_node_t *n);

static void c_nested(be_c_t *g, const ast_node_t *n, ast_kind_t part)
{
    AST_FOREACH(m, n) {
        if (m->kind != part)
            c_node(g, m);
    }
}

/* The fields every named TypeCode has. */
static void tc_head(be_c_t *g, const ast_node_t *n, const char *kind)
{
    be_c_printf(g,
                "const phx_typecode_t TC_%s = {\n"
                "    .kind = %s,\n"
                "    .repo_id = \"%s\",\n"
                "    .name = \"%s\",\n",
                be_c_name(g, n), kind, n->repo_id, n->name);
}

static void tc_sizes(be_c_t *g, const char *c)
{
    be_c_printf(g,
                "    .c_size = sizeof(%s),\n"
                "    .c_align = _Alignof(%s),\n",
                c, c);
}

static void c_struct(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    bool ex = n->kind == AST_EXCEPTION;
    uint32_t count = 0;

    c_nested(g, n, AST_MEMBER);
    be_c_printf(g, "\n/* %s %s */\n", ex ? "exception" : "struct",
                be_c_scoped(n));
    AST_FOREACH(m, n) {
        if (m->kind == AST_MEMBER) {
            be_c_need_tc(g, m->u.member.type);
            count++;
        }
    }
    if (count) {
        be_c_printf(g, "static const phx_tc_member_t %s__members[] = {\n",
                    c);
        AST_FOREACH(m, n) {
            if (m->kind != AST_MEMBER)
                continue;
            be_c_printf(g,
                        "    {.name = \"%s\",\n"
                        "     .type = %s,\n"
                        "     .offset = offsetof(%s, %s)},\n",
                        m->name, be_c_tc(g, m->u.member.type), c,
                        be_c_ident(g, m->name));
        }
        be_c_puts(g, "};\n");
    }
    tc_head(g, n, ex ? "PHX_TK_EXCEPT" : "PHX_TK_STRUCT");
    if (count)
        be_c_printf(g,
                    "    .members = %s__members,\n"
                    "    .member_count = %" PRIu32 ",\n",
                    c, count);
    tc_sizes(g, c);
    be_c_puts(g, "};\n");
}

/* A union label as the int64_t of phx_tc_member_t. */
static const char *label_value(be_c_t *g, const ast_label_t *l)
{
    switch (l->value.kind) {
    case AST_V_INT:
        if (l->value.v.i == INT64_MIN)
            return "INT64_MIN";
        return be_c_strf(g, "%" PRId64, l->value.v.i);
    case AST_V_UINT:
        if (l->value.v.u > INT64_MAX)
            return be_c_strf(g, "(int64_t)UINT64_C(%" PRIu64 ")",
                             l->value.v.u);
        return be_c_strf(g, "%" PRIu64, l->value.v.u);
    case AST_V_CHAR:
    case AST_V_WCHAR:
        return be_c_strf(g, "%" PRIu32, l->value.v.ch);
    case AST_V_BOOL:
        return l->value.v.b ? "1" : "0";
    case AST_V_ENUM:
        return be_c_strf(g, "%" PRIu32 " /* %s */",
                         l->value.v.enumerator->u.enumerator.ordinal,
                         l->value.v.enumerator->name);
    default:
        return "0";
    }
}

static void c_union(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    uint32_t count = 0;

    c_nested(g, n, AST_UNION_CASE);
    be_c_printf(g, "\n/* union %s */\n", be_c_scoped(n));
    be_c_need_tc(g, n->u.uni.disc_type);
    AST_FOREACH(m, n) {
        if (m->kind == AST_UNION_CASE)
            be_c_need_tc(g, m->u.ucase.type);
    }
    be_c_printf(g, "static const phx_tc_member_t %s__members[] = {\n", c);
    AST_FOREACH(m, n) {
        if (m->kind != AST_UNION_CASE)
            continue;
        for (size_t i = 0; i < m->u.ucase.n_labels; i++) {
            const ast_label_t *l = &m->u.ucase.labels[i];
            be_c_printf(g,
                        "    {.name = \"%s\",\n"
                        "     .type = %s,\n"
                        "     .offset = offsetof(%s, _u.%s),\n",
                        m->name, be_c_tc(g, m->u.ucase.type), c,
                        be_c_ident(g, m->name));
            if (l->is_default)
                be_c_puts(g, "     .is_default = true},\n");
            else
                be_c_printf(g, "     .label = %s},\n", label_value(g, l));
            count++;
        }
    }
    be_c_puts(g, "};\n");
    tc_head(g, n, "PHX_TK_UNION");
    be_c_printf(g,
                "    .members = %s__members,\n"
                "    .member_count = %" PRIu32 ",\n"
                "    .discriminator = %s,\n"
                "    .u_offset = offsetof(%s, _u),\n",
                c, count, be_c_tc(g, n->u.uni.disc_type), c);
    tc_sizes(g, c);
    be_c_puts(g, "};\n");
}

static void c_enum(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);

    be_c_printf(g,
                "\n/* enum %s */\n"
                "static const char *const %s__names[] = {\n",
                be_c_scoped(n), c);
    AST_FOREACH(m, n) {
        if (m->kind == AST_ENUMERATOR)
            be_c_printf(g, "    \"%s\",\n", m->name);
    }
    be_c_puts(g, "};\n");
    tc_head(g, n, "PHX_TK_ENUM");
    be_c_printf(g,
                "    .enumerators = %s__names,\n"
                "    .member_count = %" PRIu32 ",\n"
                "};\n",
                c, n->u.enm.count);
}

static void c_typedef(be_c_t *g, const ast_node_t *n)
{
    const ast_type_t *t = n->u.tdef.type;

    be_c_puts(g, "\n");
    be_c_comment(g, "", be_c_typedef_text(g, n));
    be_c_need_tc(g, t);
    tc_head(g, n, "PHX_TK_ALIAS");
    be_c_printf(g, "    .content = %s,\n};\n", be_c_tc(g, t));
}

/* ---------------------------------------------------------------------------
 * Operations and interfaces
 * ------------------------------------------------------------------------- */

static const char *const mode_names[] = {"PHX_PARAM_IN", "PHX_PARAM_OUT",
                                         "PHX_PARAM_INOUT"};

static void c_op(be_c_t *g, const be_c_op_t *op)
{
    const char *stem = be_c_strf(g, "%s_%s", be_c_name(g, op->iface), op->c);
    size_t n_raises = op->raises ? op->raises->count : 0;

    be_c_puts(g, "\n");
    be_c_comment(g, "", op->signature);
    if (op->ret)
        be_c_need_tc(g, op->ret);
    for (size_t i = 0; i < op->n_params; i++)
        be_c_need_tc(g, op->params[i].type);
    if (op->n_params) {
        be_c_printf(g, "static const phx_paramdesc_t %s__params[] = {\n",
                    stem);
        for (size_t i = 0; i < op->n_params; i++) {
            const be_c_param_t *p = &op->params[i];
            const char *line = be_c_strf(
                g, "    {.name = \"%s\", .mode = %s, .type = %s},\n",
                p->idl_name, mode_names[p->mode], be_c_tc(g, p->type));
            if (strlen(line) <= 80)
                be_c_puts(g, line);
            else
                be_c_printf(g,
                            "    {.name = \"%s\", .mode = %s,\n"
                            "     .type = %s},\n",
                            p->idl_name, mode_names[p->mode],
                            be_c_tc(g, p->type));
        }
        be_c_puts(g, "};\n");
    }
    if (n_raises) {
        be_c_printf(g, "static const phx_typecode_t *const %s__raises[] = {\n",
                    stem);
        for (size_t i = 0; i < n_raises; i++)
            be_c_printf(g, "    &TC_%s,\n",
                        be_c_name(g, op->raises->items[i]));
        be_c_puts(g, "};\n");
    }
    be_c_printf(g,
                "const phx_opdesc_t %s = {\n"
                "    .name = \"%s\",\n"
                "    .result = %s,\n",
                op->desc, op->wire,
                op->ret ? be_c_tc(g, op->ret) : "&phx_tc_void");
    if (op->n_params)
        be_c_printf(g,
                    "    .params = %s__params,\n"
                    "    .param_count = %zu,\n",
                    stem, op->n_params);
    if (n_raises)
        be_c_printf(g,
                    "    .raises = %s__raises,\n"
                    "    .raise_count = %zu,\n",
                    stem, n_raises);
    if (op->oneway)
        be_c_puts(g, "    .oneway = true,\n");
    be_c_puts(g, "};\n");
}

static void c_interface(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    const ast_refs_t *bases = &n->u.iface.bases;
    be_c_op_t *ops;
    size_t n_ops = be_c_own_ops(g, n, &ops);
    size_t n_attrs = 0;

    be_c_puts(g, "\n");
    be_c_banner(g, be_c_strf(g, "interface %s", be_c_scoped(n)));
    be_c_puts(g, "\n");
    tc_head(g, n, "PHX_TK_OBJREF");
    be_c_puts(g, "};\n");
    AST_FOREACH(m, n) {
        if (m->kind != AST_OPERATION && m->kind != AST_ATTRIBUTE)
            c_node(g, m);
        else if (m->kind == AST_ATTRIBUTE)
            n_attrs++;
    }
    for (size_t i = 0; i < n_ops; i++)
        c_op(g, &ops[i]);

    be_c_printf(g, "\n/* interface %s */\n", be_c_scoped(n));
    if (bases->count) {
        be_c_printf(g, "static const phx_ifdesc_t *const %s__bases[] = {\n",
                    c);
        for (size_t i = 0; i < bases->count; i++)
            be_c_printf(g, "    &%s__desc,\n",
                        be_c_name(g, bases->items[i]));
        be_c_puts(g, "};\n");
    }
    if (n_ops) {
        be_c_printf(g, "static const phx_opdesc_t *const %s__ops[] = {\n",
                    c);
        for (size_t i = 0; i < n_ops; i++)
            be_c_printf(g, "    &%s,\n", ops[i].desc);
        be_c_puts(g, "};\n");
    }
    if (n_attrs) {
        be_c_printf(g, "static const phx_attrdesc_t %s__attrs[] = {\n", c);
        for (size_t i = 0; i < n_ops; i++) {
            const ast_node_t *a = ops[i].node;
            bool ro;
            if (a->kind != AST_ATTRIBUTE || ops[i].ret == NULL)
                continue;
            ro = a->u.attr.readonly;
            be_c_printf(g,
                        "    {.name = \"%s\",\n"
                        "     .type = %s,\n"
                        "     .readonly = %s,\n"
                        "     .get = &%s,\n"
                        "     .set = %s%s},\n",
                        a->name, be_c_tc(g, a->u.attr.type),
                        ro ? "true" : "false", ops[i].desc, ro ? "" : "&",
                        ro ? "NULL" : ops[i + 1].desc);
        }
        be_c_puts(g, "};\n");
    }
    be_c_printf(g,
                "const phx_ifdesc_t %s__desc = {\n"
                "    .repo_id = \"%s\",\n"
                "    .name = \"%s\",\n",
                c, n->repo_id, n->name);
    if (bases->count)
        be_c_printf(g,
                    "    .bases = %s__bases,\n"
                    "    .base_count = %zu,\n",
                    c, bases->count);
    if (n_ops)
        be_c_printf(g,
                    "    .ops = %s__ops,\n"
                    "    .op_count = %zu,\n",
                    c, n_ops);
    if (n_attrs)
        be_c_printf(g,
                    "    .attrs = %s__attrs,\n"
                    "    .attr_count = %zu,\n",
                    c, n_attrs);
    be_c_puts(g, "};\n");
    if (n->u.iface.rpc) {
        /* ONC RPC input: the procedure table, in source order. */
        be_c_printf(g, "const phx_rpc_proc_t %s__rpc_procs[] = {\n", c);
        for (size_t i = 0; i < n_ops; i++)
            if (ops[i].node->kind == AST_OPERATION)
                be_c_printf(g, "    {%" PRIu32 "u, &%s},\n",
                            ops[i].node->u.op.rpc_proc, ops[i].desc);
        if (n_ops == 0)
            be_c_puts(g, "    {0, NULL},\n");
        be_c_puts(g, "};\n");
    }
}

static void c_node(be_c_t *g, const ast_node_t *n)
{
    if (n->kind == AST_MODULE) {
        c_scope(g, n);
        return;
    }
    if (!be_c_mine(n))
        return;
    switch (n->kind) {
    case AST_INTERFACE:
        c_interface(g, n);
        break;
    case AST_STRUCT:
    case AST_EXCEPTION:
        c_struct(g, n);
        break;
    case AST_UNION:
        c_union(g, n);
        break;
    case AST_ENUM:
        c_enum(g, n);
        break;
    case AST_TYPEDEF:
        c_typedef(g, n);
        break;
    default:
        break;
    }
}

static void c_scope(be_c_t *g, const ast_node_t *scope)
{
    AST_FOREACH(m, scope) {
        c_node(g, m);
    }
}

void be_c_gen_common(be_c_t *g)
{
    const char *file = be_c_strf(g, "%s-common.c", g->basename);

    be_c_file_comment(g, file, "TypeCodes and operation descriptions");
    be_c_printf(g, "#include \"%s.h\"\n", g->basename);
    c_scope(g, g->root->node);
}
