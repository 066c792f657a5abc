/*
 * ast.c - helpers over the phx-idl AST (see ast.h): names of the kinds,
 * typedef unaliasing, the walk, the text dump of phx-idl --ast, and
 * releasing a tree.
 */
#include "compiler/ast.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ast_kind_names[] = {
#define AST_X_NAME(id, name) name,
    AST_KIND_LIST(AST_X_NAME)
#undef AST_X_NAME
};

static const char *const ast_type_kind_names[] = {
#define AST_X_NAME(id, name) name,
    AST_TYPE_LIST(AST_X_NAME)
#undef AST_X_NAME
};

static const char *const ast_value_kind_names[] = {
#define AST_X_NAME(id, name) name,
    AST_VALUE_LIST(AST_X_NAME)
#undef AST_X_NAME
};

static const char *const ast_param_mode_names[] = {
#define AST_X_NAME(id, name) name,
    AST_PARAM_MODE_LIST(AST_X_NAME)
#undef AST_X_NAME
};

static const char *const ast_expr_kind_names[] = {
#define AST_X_NAME(id, name) name,
    AST_EXPR_LIST(AST_X_NAME)
#undef AST_X_NAME
};

const char *ast_kind_name(ast_kind_t k)
{
    return (unsigned)k < AST_KIND_COUNT ? ast_kind_names[k] : "?";
}

const char *ast_type_kind_name(ast_type_kind_t k)
{
    return (unsigned)k < AST_T_COUNT ? ast_type_kind_names[k] : "?";
}

const char *ast_value_kind_name(ast_value_kind_t k)
{
    return (unsigned)k < AST_V_COUNT ? ast_value_kind_names[k] : "?";
}

const char *ast_param_mode_name(ast_param_mode_t m)
{
    return (unsigned)m < AST_PARAM_MODE_COUNT ? ast_param_mode_names[m] : "?";
}

const char *ast_expr_kind_name(ast_expr_kind_t k)
{
    return (unsigned)k < AST_E_COUNT ? ast_expr_kind_names[k] : "?";
}

bool ast_is_scope(ast_kind_t k)
{
    switch (k) {
    case AST_ROOT: case AST_MODULE: case AST_INTERFACE: case AST_STRUCT:
    case AST_UNION: case AST_EXCEPTION: case AST_ENUM: case AST_OPERATION:
        return true;
    default:
        return false;
    }
}

const ast_type_t *ast_type_unalias(const ast_type_t *t)
{
    /* Bounded by the number of typedefs: a chain cannot loop, since a
       typedef can only name what was declared before it. */
    while (t != NULL && t->kind == AST_T_NAMED && t->u.named.decl != NULL &&
           t->u.named.decl->kind == AST_TYPEDEF)
        t = t->u.named.decl->u.tdef.type;
    return t;
}

const ast_node_t *ast_type_decl(const ast_type_t *t)
{
    t = ast_type_unalias(t);
    if (t == NULL || t->kind != AST_T_NAMED)
        return NULL;
    return t->u.named.decl;
}

const ast_node_t *ast_node_resolve(const ast_node_t *n)
{
    if (n != NULL && (n->kind == AST_INTERFACE_FWD ||
                      n->kind == AST_STRUCT_FWD || n->kind == AST_UNION_FWD) &&
        n->u.fwd.def != NULL)
        return n->u.fwd.def;
    return n;
}

/* Depth guard for the recursive predicates over types (a struct reaches
 * itself only through a sequence, which stops the descent). */
static bool ast_variable_rec(const ast_type_t *t, unsigned depth)
{
    const ast_node_t *d;

    if (depth > 1000)
        return true;
    t = ast_type_unalias(t);
    if (t == NULL)
        return false;
    switch (t->kind) {
    case AST_T_STRING: case AST_T_WSTRING: case AST_T_SEQUENCE:
    case AST_T_ANY: case AST_T_OBJECT: case AST_T_TYPECODE:
        return true;
    case AST_T_ARRAY:
        return ast_variable_rec(t->u.array.elem, depth + 1);
    case AST_T_NAMED:
        d = ast_node_resolve(t->u.named.decl);
        if (d == NULL)
            return false;
        switch (d->kind) {
        case AST_INTERFACE: case AST_INTERFACE_FWD: case AST_NATIVE:
            return true;
        case AST_STRUCT: case AST_EXCEPTION:
            AST_FOREACH(m, d)
                if (m->kind == AST_MEMBER &&
                    ast_variable_rec(m->u.member.type, depth + 1))
                    return true;
            return false;
        case AST_UNION:
            AST_FOREACH(m, d)
                if (m->kind == AST_UNION_CASE &&
                    ast_variable_rec(m->u.ucase.type, depth + 1))
                    return true;
            return false;
        default:
            return false;
        }
    default:
        return false;
    }
}

bool ast_type_is_variable(const ast_type_t *t)
{
    return ast_variable_rec(t, 0);
}

/* snprintf-like appending. */
typedef struct ast_buf {
    char *s;
    size_t size, len;
} ast_buf_t;

static void ast_put(ast_buf_t *b, const char *s)
{
    size_t n = strlen(s);

    if (b->len < b->size) {
        size_t room = b->size - b->len - 1;
        memcpy(b->s + b->len, s, n < room ? n : room);
        b->s[b->len + (n < room ? n : room)] = '\0';
    }
    b->len += n;
}

static void ast_format_rec(const ast_type_t *t, ast_buf_t *b, unsigned depth)
{
    char num[32];
    size_t i;

    if (t == NULL || depth > 1000) {
        ast_put(b, "?");
        return;
    }
    switch (t->kind) {
    case AST_T_STRING:
    case AST_T_WSTRING:
        ast_put(b, ast_type_kind_name(t->kind));
        if (t->u.string.bound != 0) {
            snprintf(num, sizeof num, "<%" PRIu32 ">", t->u.string.bound);
            ast_put(b, num);
        }
        break;
    case AST_T_SEQUENCE:
        ast_put(b, "sequence<");
        ast_format_rec(t->u.seq.elem, b, depth + 1);
        if (t->u.seq.bound != 0) {
            snprintf(num, sizeof num, ", %" PRIu32, t->u.seq.bound);
            ast_put(b, num);
        }
        ast_put(b, ">");
        break;
    case AST_T_FIXED:
        if (t->u.fixed.digits == 0) {
            ast_put(b, "fixed");
        } else {
            snprintf(num, sizeof num, "fixed<%" PRIu32 ",%" PRIu32 ">",
                     t->u.fixed.digits, t->u.fixed.scale);
            ast_put(b, num);
        }
        break;
    case AST_T_ARRAY:
        ast_format_rec(t->u.array.elem, b, depth + 1);
        for (i = 0; i < t->u.array.n_dims; i++) {
            snprintf(num, sizeof num, "[%" PRIu32 "]", t->u.array.dims[i]);
            ast_put(b, num);
        }
        break;
    case AST_T_NAMED:
        if (t->u.named.decl != NULL)
            ast_put(b, ast_node_resolve(t->u.named.decl)->scoped_name);
        else
            ast_put(b, t->u.named.spelling != NULL ? t->u.named.spelling
                                                   : "?");
        break;
    default:
        ast_put(b, ast_type_kind_name(t->kind));
        break;
    }
}

size_t ast_type_format(const ast_type_t *t, char *buf, size_t size)
{
    ast_buf_t b;

    b.s = buf;
    b.size = size;
    b.len = 0;
    if (size > 0)
        buf[0] = '\0';
    ast_format_rec(t, &b, 0);
    return b.len;
}

int ast_walk(const ast_node_t *n, ast_visit_fn fn, void *ctx)
{
    int r = fn(n, false, ctx);

    if (r != 0)
        return r;
    AST_FOREACH(m, n) {
        r = ast_walk(m, fn, ctx);
        if (r != 0)
            return r;
    }
    return fn(n, true, ctx);
}

void ast_free(ast_root_t *root)
{
    if (root == NULL)
        return;
    mem_arena_free(&root->arena);
    mem_sys_free(root);
}

/* ---------------------------------------------------------------------------
 * Dump
 * ------------------------------------------------------------------------- */

static void ast_dump_string(FILE *out, const char *s, size_t len)
{
    size_t i;

    fputc('"', out);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, out);
        else
            fprintf(out, "\\x%02X", c);
    }
    fputc('"', out);
}

static void ast_dump_value(FILE *out, const ast_value_t *v)
{
    switch (v->kind) {
    case AST_V_INT:
        fprintf(out, "%" PRId64, v->v.i);
        break;
    case AST_V_UINT:
        fprintf(out, "%" PRIu64, v->v.u);
        break;
    case AST_V_FLOAT:
        fprintf(out, "%.15Lg", v->v.f);
        break;
    case AST_V_FIXED: {
        const char *d = v->v.fixed.digits;
        size_t n = strlen(d), sc = v->v.fixed.scale;
        if (v->v.fixed.negative)
            fputc('-', out);
        if (sc >= n) {
            size_t k;
            fputs("0.", out);
            for (k = n; k < sc; k++)
                fputc('0', out);
            fputs(d, out);
        } else {
            fwrite(d, 1, n - sc, out);
            if (sc > 0) {
                fputc('.', out);
                fputs(d + n - sc, out);
            }
        }
        fputc('d', out);
        break;
    }
    case AST_V_CHAR:
    case AST_V_WCHAR:
        if (v->kind == AST_V_WCHAR)
            fputc('L', out);
        if (v->v.ch >= 0x20 && v->v.ch < 0x7f && v->v.ch != '\'' &&
            v->v.ch != '\\')
            fprintf(out, "'%c'", (int)v->v.ch);
        else
            fprintf(out, "'\\u%04" PRIX32 "'", v->v.ch);
        break;
    case AST_V_BOOL:
        fputs(v->v.b ? "TRUE" : "FALSE", out);
        break;
    case AST_V_STRING:
    case AST_V_WSTRING:
        if (v->kind == AST_V_WSTRING)
            fputc('L', out);
        ast_dump_string(out, v->v.str.s, v->v.str.len);
        break;
    case AST_V_ENUM:
        fputs(v->v.enumerator != NULL ? v->v.enumerator->scoped_name : "?",
              out);
        break;
    default:
        fputs("?", out);
        break;
    }
}

static void ast_dump_type(FILE *out, const ast_type_t *t)
{
    char small[256];
    size_t n = ast_type_format(t, small, sizeof small);

    if (n < sizeof small) {
        fputs(small, out);
    } else {
        char *big = mem_sys_alloc(n + 1);
        if (big == NULL) {
            fputs(small, out);
            return;
        }
        ast_type_format(t, big, n + 1);
        fputs(big, out);
        mem_sys_free(big);
    }
}

static void ast_dump_refs(FILE *out, const char *what, const ast_refs_t *r)
{
    size_t i;

    if (r->count == 0)
        return;
    fprintf(out, " %s(", what);
    for (i = 0; i < r->count; i++)
        fprintf(out, "%s%s", i ? ", " : "",
                r->items[i] != NULL ? r->items[i]->scoped_name : "?");
    fputc(')', out);
}

typedef struct ast_dump_ctx {
    FILE *out;
    const char *main_file;
    unsigned depth;
} ast_dump_ctx_t;

static int ast_dump_visit(const ast_node_t *n, bool leaving, void *vctx)
{
    ast_dump_ctx_t *c = vctx;
    FILE *out = c->out;
    unsigned i;

    if (leaving) {
        if (n->kind != AST_ROOT)
            c->depth--;
        return 0;
    }
    if (n->kind == AST_ROOT) {
        fprintf(out, "root %s\n", n->file);
        return 0;
    }
    for (i = 0; i < c->depth; i++)
        fputs("  ", out);
    c->depth++;
    fprintf(out, "%s %s", ast_kind_name(n->kind), n->name);
    if (n->file == c->main_file)
        fprintf(out, " @%" PRIu32 ":%" PRIu32, n->line, n->column);
    else
        fprintf(out, " @%s:%" PRIu32 ":%" PRIu32, n->file, n->line,
                n->column);
    switch (n->kind) {
    case AST_MODULE:
        if (n->u.module.prev != NULL)
            fputs(" reopened", out);
        break;
    case AST_INTERFACE:
        if (n->u.iface.is_abstract)
            fputs(" abstract", out);
        if (n->u.iface.is_local)
            fputs(" local", out);
        ast_dump_refs(out, "bases", &n->u.iface.bases);
        ast_dump_refs(out, "ancestors", &n->u.iface.ancestors);
        if (n->u.iface.rpc)
            fprintf(out, " rpc(prog=%" PRIu32 " vers=%" PRIu32 ")",
                    n->u.iface.rpc_prog, n->u.iface.rpc_vers);
        break;
    case AST_INTERFACE_FWD:
    case AST_STRUCT_FWD:
    case AST_UNION_FWD:
        if (n->u.fwd.is_abstract)
            fputs(" abstract", out);
        if (n->u.fwd.is_local)
            fputs(" local", out);
        if (n->u.fwd.def == NULL)
            fputs(" undefined", out);
        break;
    case AST_UNION:
        fputs(" switch(", out);
        ast_dump_type(out, n->u.uni.disc_type);
        fputc(')', out);
        if (n->u.uni.default_case != NULL || n->u.uni.implicit_default) {
            fputs(n->u.uni.implicit_default ? " implicit-default="
                                            : " default=", out);
            ast_dump_value(out, &n->u.uni.default_disc);
        }
        break;
    case AST_UNION_CASE: {
        size_t k;
        fputs(" labels(", out);
        for (k = 0; k < n->u.ucase.n_labels; k++) {
            if (k > 0)
                fputs(", ", out);
            if (n->u.ucase.labels[k].is_default)
                fputs("default", out);
            else
                ast_dump_value(out, &n->u.ucase.labels[k].value);
        }
        fputs(") ", out);
        ast_dump_type(out, n->u.ucase.type);
        break;
    }
    case AST_ENUMERATOR:
        fprintf(out, " = %" PRIu32, n->u.enumerator.ordinal);
        break;
    case AST_TYPEDEF:
        fputc(' ', out);
        ast_dump_type(out, n->u.tdef.type);
        break;
    case AST_CONST:
        fputc(' ', out);
        ast_dump_type(out, n->u.constant.type);
        fputs(" = ", out);
        ast_dump_value(out, &n->u.constant.value);
        break;
    case AST_MEMBER:
        fputc(' ', out);
        ast_dump_type(out, n->u.member.type);
        break;
    case AST_OPERATION: {
        size_t k;
        if (n->u.op.oneway)
            fputs(" oneway", out);
        if (n->u.op.rpc)
            fprintf(out, " rpc(proc=%" PRIu32 ")", n->u.op.rpc_proc);
        fputs(" returns ", out);
        ast_dump_type(out, n->u.op.ret);
        ast_dump_refs(out, "raises", &n->u.op.raises);
        if (n->u.op.n_contexts > 0) {
            fputs(" context(", out);
            for (k = 0; k < n->u.op.n_contexts; k++) {
                if (k > 0)
                    fputs(", ", out);
                ast_dump_string(out, n->u.op.contexts[k],
                                strlen(n->u.op.contexts[k]));
            }
            fputc(')', out);
        }
        break;
    }
    case AST_PARAM:
        fprintf(out, " %s ", ast_param_mode_name(n->u.param.mode));
        ast_dump_type(out, n->u.param.type);
        break;
    case AST_ATTRIBUTE:
        if (n->u.attr.readonly)
            fputs(" readonly", out);
        fputc(' ', out);
        ast_dump_type(out, n->u.attr.type);
        ast_dump_refs(out, "getraises", &n->u.attr.get_raises);
        ast_dump_refs(out, "setraises", &n->u.attr.set_raises);
        break;
    default:
        break;
    }
    if (n->repo_id != NULL)
        fprintf(out, " id=%s", n->repo_id);
    fputc('\n', out);
    return 0;
}

void ast_dump(const ast_root_t *root, FILE *out)
{
    ast_dump_ctx_t c;
    size_t i;

    c.out = out;
    c.main_file = root->main_file;
    c.depth = 0;
    ast_walk(root->node, ast_dump_visit, &c);
    for (i = 0; i < root->n_includes; i++)
        fprintf(out, "include %s\n", root->includes[i]);
}
