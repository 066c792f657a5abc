/*
 * be_c_header.c - writes X.h: the C types of the IDL declarations, their
 * TypeCodes and free/raise helpers, constants, the operation descriptions,
 * the client stub prototypes and the servant types of every interface.
 */
#include <ctype.h>
#include <string.h>

#include "compiler/be_c_int.h"

static void h_scope(be_c_t *g, const ast_node_t *scope);
static void h_node(be_c_t *g, const ast_node_t *n);

/* Nested type definitions of a struct, exception or union come first. */
static void h_nested(be_c_t *g, const ast_node_t *n, ast_kind_t part)
{
    AST_FOREACH(m, n) {
        if (m->kind != part)
            h_node(g, m);
    }
}

static void h_free_helper(be_c_t *g, const char *c)
{
    be_c_printf(g,
                "static inline void %s__free(%s *v)\n"
                "{\n"
                "    phx_value_free(&TC_%s, v);\n"
                "}\n",
                c, c, c);
}

static void h_struct(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    bool ex = n->kind == AST_EXCEPTION;
    bool any = false;

    /* Declared first: types nested in it may refer to it. */
    be_c_printf(g, "\ntypedef struct %s %s;\n", c, c);
    h_nested(g, n, AST_MEMBER);
    be_c_printf(g, "\n/* %s %s */\n", ex ? "exception" : "struct",
                be_c_scoped(n));
    if (ex)
        be_c_printf(g, "#define ex_%s \"%s\"\n", c, n->repo_id);
    AST_FOREACH(m, n) {
        if (m->kind == AST_MEMBER)
            be_c_need_seq(g, m->u.member.type);
    }
    be_c_printf(g, "struct %s {\n", c);
    AST_FOREACH(m, n) {
        if (m->kind != AST_MEMBER)
            continue;
        be_c_printf(g, "    %s;\n",
                    be_c_decl(g, m->u.member.type, be_c_ident(g, m->name)));
        any = true;
    }
    if (!any)
        be_c_puts(g, "    char _unused; /* C wants a member */\n");
    be_c_puts(g, "};\n");
    be_c_printf(g, "extern const phx_typecode_t TC_%s;\n", c);
    h_free_helper(g, c);
    if (ex) {
        be_c_puts(g, "/* Raise it through env (value is copied; NULL: "
                     "zeroed members). */\n");
        be_c_wrap(g, be_c_strf(g, "static inline int %s__raise(", c),
                  (const char *const[]){"phx_env_t *env",
                                        be_c_strf(g, "const %s *value", c)},
                  2, ")\n");
        be_c_printf(g,
                    "{\n"
                    "    return phx_op_raise(env, &TC_%s, value);\n"
                    "}\n",
                    c);
    }
}

static void h_union(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    const ast_type_t *disc = n->u.uni.disc_type;

    be_c_printf(g, "\ntypedef struct %s %s;\n", c, c);
    h_nested(g, n, AST_UNION_CASE);
    be_c_printf(g, "\n/* union %s switch (%s) */\n", be_c_scoped(n),
                be_c_idl_type(g, disc));
    AST_FOREACH(m, n) {
        if (m->kind == AST_UNION_CASE)
            be_c_need_seq(g, m->u.ucase.type);
    }
    be_c_printf(g, "struct %s {\n    %s;\n    union {\n", c,
                be_c_decl(g, disc, "_d"));
    AST_FOREACH(m, n) {
        if (m->kind == AST_UNION_CASE)
            be_c_printf(g, "        %s;\n",
                        be_c_decl(g, m->u.ucase.type,
                                  be_c_ident(g, m->name)));
    }
    be_c_puts(g, "    } _u;\n};\n");
    be_c_printf(g, "extern const phx_typecode_t TC_%s;\n", c);
    h_free_helper(g, c);
}

static void h_enum(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    size_t i = 0;

    be_c_printf(g, "\n/* enum %s */\ntypedef enum %s {\n", be_c_scoped(n),
                c);
    AST_FOREACH(m, n) {
        if (m->kind == AST_ENUMERATOR)
            be_c_printf(g, "    %s%s\n", be_c_name(g, m),
                        ++i < n->u.enm.count ? "," : "");
    }
    be_c_printf(g, "} %s;\n", c);
    be_c_wrap(g, "_Static_assert(",
              (const char *const[]){
                  be_c_strf(g, "sizeof(%s) == 4", c),
                  be_c_strf(g, "\"%s is marshaled as a uint32_t\"", c)},
              2, ");\n");
    be_c_printf(g, "extern const phx_typecode_t TC_%s;\n", c);
}

static void h_typedef(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    const ast_type_t *t = n->u.tdef.type;

    be_c_puts(g, "\n");
    be_c_comment(g, "", be_c_typedef_text(g, n));
    be_c_need_seq(g, t);
    be_c_printf(g, "typedef %s;\nextern const phx_typecode_t TC_%s;\n",
                be_c_decl(g, t, c), c);
    if (be_c_passing(t) != BE_C_BYVAL)
        h_free_helper(g, c);
}

static void h_const(be_c_t *g, const ast_node_t *n)
{
    const char *v = be_c_const_value(g, n);

    if (v)
        be_c_printf(g, "#define %s %s\n", be_c_name(g, n), v);
}

/* ---------------------------------------------------------------------------
 * Interfaces
 * ------------------------------------------------------------------------- */

size_t be_c_proto_items(be_c_t *g, const ast_node_t *iface,
                        const be_c_op_t *op, be_c_proto_t k,
                        const char ***out)
{
    const char **v = mem_zalloc(&g->arena, (op->n_params + 4) * sizeof *v);
    size_t n = 0;

    if (k == BE_C_P_EPV)
        v[n++] = "void *_self";
    else if (k == BE_C_P_RECV)
        v[n++] = "phx_request_t *_req";
    else
        v[n++] = be_c_strf(g, "%s _obj", be_c_name(g, iface));
    for (size_t i = 0; i < op->n_params; i++) {
        const be_c_param_t *p = &op->params[i];
        ast_param_mode_t mode = p->mode;
        if (k == BE_C_P_SEND) {
            if (mode == AST_PARAM_OUT)
                continue;
            mode = AST_PARAM_IN;
        } else if (k == BE_C_P_RECV && mode == AST_PARAM_IN) {
            continue;
        }
        v[n++] = be_c_param_decl(g, p->type, mode, p->name);
    }
    if (k == BE_C_P_SEND)
        v[n++] = "phx_request_t **_req";
    else if (op->ret)
        v[n++] = be_c_ptr_decl(g, be_c_type(g, op->ret), "_ret");
    v[n++] = "phx_env_t *_env";
    *out = v;
    return n;
}

void be_c_stub_head(be_c_t *g, const ast_node_t *iface, const be_c_op_t *op,
                    be_c_proto_t which, const char *tail)
{
    static const char *const suffix[] = {"", "__send", "__recv", ""};
    const char **items;
    size_t n = be_c_proto_items(g, iface, op, which, &items);

    be_c_wrap(g,
              be_c_strf(g, "int %s_%s%s(", be_c_name(g, iface), op->c,
                        suffix[which]),
              items, n, tail);
}

static void h_interface(be_c_t *g, const ast_node_t *n)
{
    const char *c = be_c_name(g, n);
    be_c_op_t *own, *all;
    size_t n_own = be_c_own_ops(g, n, &own);
    size_t n_all = be_c_all_ops(g, n, &all);
    const ast_node_t *from = NULL;

    be_c_puts(g, "\n");
    be_c_banner(g, be_c_strf(g, "interface %s", be_c_scoped(n)));
    be_c_printf(g,
                "\ntypedef phx_object_t *%s;\n"
                "#define %s__repo_id \"%s\"\n"
                "extern const phx_typecode_t TC_%s;\n",
                c, c, n->repo_id, c);
    AST_FOREACH(m, n) {
        if (m->kind != AST_OPERATION && m->kind != AST_ATTRIBUTE)
            h_node(g, m);
    }

    be_c_printf(g, "\n/* Operation descriptions of %s */\n",
                be_c_scoped(n));
    for (size_t i = 0; i < n_own; i++)
        be_c_printf(g, "extern const phx_opdesc_t %s;\n", own[i].desc);
    be_c_printf(g, "extern const phx_ifdesc_t %s__desc;\n", c);
    if (n->u.iface.rpc) {
        /* ONC RPC input: (program, version, procedure) -> operation. */
        size_t n_procs = 0;
        for (size_t i = 0; i < n_own; i++)
            if (own[i].node->kind == AST_OPERATION)
                n_procs++;
        be_c_printf(g,
                    "\n/* ONC RPC program %lu, version %lu: procedure "
                    "numbers -> operations */\n"
                    "#ifndef PHX_RPC_PROC_T_DEFINED\n"
                    "#define PHX_RPC_PROC_T_DEFINED\n"
                    "typedef struct phx_rpc_proc {\n"
                    "    uint32_t proc;\n"
                    "    const phx_opdesc_t *op;\n"
                    "} phx_rpc_proc_t;\n"
                    "#endif\n"
                    "#define %s__rpc_prog %luu\n"
                    "#define %s__rpc_vers %luu\n"
                    "#define %s__rpc_proc_count %zu\n"
                    "extern const phx_rpc_proc_t %s__rpc_procs[];\n",
                    (unsigned long)n->u.iface.rpc_prog,
                    (unsigned long)n->u.iface.rpc_vers, c,
                    (unsigned long)n->u.iface.rpc_prog, c,
                    (unsigned long)n->u.iface.rpc_vers, c, n_procs, c);
    }

    if (n_all) {
        be_c_puts(g, "\n/* Client stubs: 0, PHX_ESYSEX or PHX_EUSEREX "
                     "(_env says which).  The\n"
                     " * __send / __recv pairs are the deferred "
                     "synchronous form. */\n");
    }
    for (size_t i = 0; i < n_own; i++) {
        be_c_comment(g, "", own[i].signature);
        be_c_stub_head(g, n, &own[i], BE_C_P_CALL, ");\n");
        if (!own[i].oneway) {
            be_c_stub_head(g, n, &own[i], BE_C_P_SEND, ");\n");
            be_c_stub_head(g, n, &own[i], BE_C_P_RECV, ");\n");
        }
    }
    for (size_t i = 0; i < n_all; i++) {
        const char *base;
        if (all[i].iface == n)
            continue;
        base = be_c_name(g, all[i].iface);
        if (all[i].iface != from) {
            be_c_printf(g, "/* inherited from %s */\n",
                        be_c_scoped(all[i].iface));
            from = all[i].iface;
        }
        be_c_printf(g, "#define %s_%s %s_%s\n", c, all[i].c, base,
                    all[i].c);
        if (!all[i].oneway)
            be_c_printf(g,
                        "#define %s_%s__send %s_%s__send\n"
                        "#define %s_%s__recv %s_%s__recv\n",
                        c, all[i].c, base, all[i].c, c, all[i].c, base,
                        all[i].c);
    }

    be_c_printf(g,
                "\n/* Servant: the implementation's functions, called with "
                "the self pointer\n"
                " * given to the init function (a NULL entry raises "
                "NO_IMPLEMENT). */\n"
                "typedef struct %s__epv {\n",
                c);
    from = NULL;
    for (size_t i = 0; i < n_all; i++) {
        const char **items;
        size_t k = be_c_proto_items(g, n, &all[i], BE_C_P_EPV, &items);
        if (all[i].iface != from && n_all != n_own) {
            be_c_printf(g, "    /* %s */\n", be_c_scoped(all[i].iface));
            from = all[i].iface;
        }
        be_c_wrap(g, be_c_strf(g, "    int (*%s)(", all[i].c), items, k,
                  ");\n");
    }
    if (n_all == 0)
        be_c_puts(g, "    char _unused; /* C wants a member */\n");
    be_c_printf(g,
                "} %s__epv;\n"
                "\n"
                "typedef struct %s__servant {\n"
                "    phx_servant_t base;\n"
                "    const %s__epv *epv;\n"
                "    void *self;\n"
                "} %s__servant;\n"
                "\n"
                "extern const phx_interface_t %s__iface;\n",
                c, c, c, c, c);
    be_c_wrap(g, be_c_strf(g, "void %s__servant_init(", c),
              (const char *const[]){
                  be_c_strf(g, "%s__servant *sv", c),
                  be_c_strf(g, "const %s__epv *epv", c), "void *self"},
              3, ");\n");
}

static void h_node(be_c_t *g, const ast_node_t *n)
{
    if (n->kind == AST_MODULE) {
        h_scope(g, n);
        return;
    }
    if (!be_c_mine(n))
        return;
    if (n->kind == AST_CONST) {
        if (!g->after_const)
            be_c_puts(g, "\n");
        h_const(g, n);
        g->after_const = true;
        return;
    }
    g->after_const = false;
    switch (n->kind) {
    case AST_INTERFACE:
        h_interface(g, n);
        break;
    case AST_INTERFACE_FWD:
        be_c_printf(g,
                    "\n/* interface %s (forward) */\n"
                    "typedef phx_object_t *%s;\n"
                    "extern const phx_typecode_t TC_%s;\n",
                    be_c_scoped(n), be_c_name(g, n), be_c_name(g, n));
        break;
    case AST_STRUCT:
    case AST_EXCEPTION:
        h_struct(g, n);
        break;
    case AST_STRUCT_FWD:
    case AST_UNION_FWD:
        be_c_printf(g, "\n/* %s %s (forward) */\ntypedef struct %s %s;\n",
                    n->kind == AST_STRUCT_FWD ? "struct" : "union",
                    be_c_scoped(n), be_c_name(g, n), be_c_name(g, n));
        break;
    case AST_UNION:
        h_union(g, n);
        break;
    case AST_ENUM:
        h_enum(g, n);
        break;
    case AST_TYPEDEF:
        h_typedef(g, n);
        break;
    default:
        break;
    }
}

static void h_scope(be_c_t *g, const ast_node_t *scope)
{
    AST_FOREACH(m, scope) {
        h_node(g, m);
    }
}

void be_c_gen_header(be_c_t *g)
{
    const char *file = be_c_strf(g, "%s.h", g->basename);
    char *guard = be_c_strf(g, "PHX_IDL_%s_H", g->basename);

    for (char *p = guard; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p)
                                        : '_';
    be_c_file_comment(g, file, "the C mapping");
    be_c_printf(g,
                "#ifndef %s\n"
                "#define %s\n"
                "\n"
                "#include <stdbool.h>\n"
                "#include <stddef.h>\n"
                "#include <stdint.h>\n"
                "\n"
                "#include <phx/except.h>\n"
                "#include <phx/opdesc.h>\n"
                "#include <phx/orb.h>\n"
                "#include <phx/typecode.h>\n",
                guard, guard);
    if (g->root->n_includes) {
        bool started = false;
        for (size_t i = 0; i < g->root->n_includes; i++) {
            const char *inc = g->root->includes[i];
            size_t len = strlen(inc);
            /* The ORB's own declarations need no header. */
            if (strcmp(inc, "orb.idl") == 0)
                continue;
            if (len > 4 && strcmp(inc + len - 4, ".idl") == 0)
                len -= 4;
            be_c_printf(g, "%s#include \"%.*s.h\"\n", started ? "" : "\n",
                        (int)len, inc);
            started = true;
        }
    }
    be_c_puts(g, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    h_scope(g, g->root->node);
    be_c_printf(g,
                "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s */\n",
                guard);
}
