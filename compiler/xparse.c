/*
 * xparse.c - the ONC RPC language front end of phx-idl (see xparse.h and
 * docs/onc-rpc-mapping.md).
 *
 * Recursive descent over the IDL lexer's tokens.  Words are compared by
 * their interned spelling, so IDL keywords ("in", "module", "Object"...)
 * are ordinary identifiers here, and only the XDR keywords are reserved.
 * Each parse function opens with the rule it implements (RFC 5531 12.2,
 * RFC 4506 6.3).  Nodes are built exactly as compiler/parse.c builds them,
 * so sema_check() resolves and checks the result.
 */
#include "compiler/xparse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "compiler/lex.h"

/* Reserved words of the RPC language (rpcgen's "long", "short" and
 * "char" included). */
#define XP_KEYWORD_LIST(X)                                                   \
    X(BOOL, "bool") X(CASE, "case") X(CONST, "const")                        \
    X(DEFAULT, "default") X(DOUBLE, "double") X(QUADRUPLE, "quadruple")      \
    X(ENUM, "enum") X(FLOAT, "float") X(HYPER, "hyper") X(INT, "int")        \
    X(OPAQUE, "opaque") X(STRING, "string") X(STRUCT, "struct")              \
    X(SWITCH, "switch") X(TYPEDEF, "typedef") X(UNION, "union")              \
    X(UNSIGNED, "unsigned") X(VOID, "void") X(PROGRAM, "program")            \
    X(VERSION, "version") X(LONG, "long") X(SHORT, "short")                  \
    X(CHAR, "char") X(TRUE, "TRUE") X(FALSE, "FALSE")

typedef enum xp_kw {
#define XP_X(id, s) XK_##id,
    XP_KEYWORD_LIST(XP_X)
#undef XP_X
    XK_COUNT
} xp_kw_t;

static const char *const xp_kw_spellings[XK_COUNT] = {
#define XP_X(id, s) s,
    XP_KEYWORD_LIST(XP_X)
#undef XP_X
};

/* A name with a known integer value: a const or an enumerator. */
typedef struct xp_val {
    const char *name;
    int64_t v;
} xp_val_t;

/* A program number already used. */
typedef struct xp_prog {
    uint32_t num;
    const ast_node_t *node;
} xp_prog_t;

typedef struct xp {
    ast_root_t *root;
    mem_arena_t *arena;
    intern_t *names;
    diag_t *d;
    lex_state_t ls;
    lex_token_t tok;
    int depth;                  /* braces passed ('{' +1, '}' -1) */
    ast_node_t *scope;
    const char *prefix;
    ast_node_t *top;            /* top-level definition being built */
    uint32_t n_nodes;
    const char *err_file;
    uint32_t err_line, err_column;
    bool noted_percent;
    const char *kw[XK_COUNT];
    xp_val_t *vals;
    size_t n_vals, cap_vals;
    const char **tags;          /* struct / union names declared so far */
    size_t n_tags, cap_tags;
    xp_prog_t *progs;
    size_t n_progs, cap_progs;
} xp_t;

/* ---------------------------------------------------------------------------
 * Tokens and errors
 * ------------------------------------------------------------------------- */

static void xp_error_at(xp_t *xp, const lex_token_t *t, const char *fmt, ...)
    DIAG_PRINTF(3, 4);

static void xp_error_at(xp_t *xp, const lex_token_t *t, const char *fmt, ...)
{
    va_list ap;

    if (xp->err_file == t->file && xp->err_line == t->line &&
        xp->err_column == t->column)
        return;
    xp->err_file = t->file;
    xp->err_line = t->line;
    xp->err_column = t->column;
    va_start(ap, fmt);
    diag_verror(xp->d, t->file, t->line, t->column, fmt, ap);
    va_end(ap);
}

/* The next token, past '%' pass-through lines and '#' lines. */
static void xp_fetch(xp_t *xp)
{
    for (;;) {
        lex_next(&xp->ls, &xp->tok);
        if (xp->tok.kind == LEX_T_PERCENT && xp->tok.bol) {
            if (!xp->noted_percent) {
                xp->noted_percent = true;
                diag_note(xp->d, xp->tok.file, xp->tok.line,
                          xp->tok.column, "'%%' pass-through lines are "
                          "ignored: phx-idl generates no C from them");
            }
            (void)lex_rest_of_line(&xp->ls);
            continue;
        }
        if (xp->tok.kind == LEX_T_HASH && xp->tok.bol) {
            xp_error_at(xp, &xp->tok, "C preprocessor directives are not "
                        "supported in ONC RPC input (run it through cpp "
                        "first)");
            (void)lex_rest_of_line(&xp->ls);
            continue;
        }
        return;
    }
}

static void xp_advance(xp_t *xp)
{
    if (xp->tok.kind == LEX_T_LBRACE)
        xp->depth++;
    else if (xp->tok.kind == LEX_T_RBRACE)
        xp->depth--;
    xp_fetch(xp);
}

static bool xp_is(const xp_t *xp, lex_tok_t k)
{
    return xp->tok.kind == k;
}

static bool xp_is_kw(const xp_t *xp, xp_kw_t k)
{
    return xp->tok.kind == LEX_T_IDENT && xp->tok.spell == xp->kw[k];
}

static bool xp_accept_kw(xp_t *xp, xp_kw_t k)
{
    if (!xp_is_kw(xp, k))
        return false;
    xp_advance(xp);
    return true;
}

static bool xp_accept(xp_t *xp, lex_tok_t k)
{
    if (xp->tok.kind != k)
        return false;
    xp_advance(xp);
    return true;
}

static bool xp_keyword(const xp_t *xp, const lex_token_t *t)
{
    size_t i;

    if (t->kind != LEX_T_IDENT)
        return false;
    for (i = 0; i < XK_COUNT; i++)
        if (t->spell == xp->kw[i])
            return true;
    return false;
}

static const char *xp_desc(xp_t *xp, const lex_token_t *t)
{
    if (t->kind == LEX_T_IDENT)
        return mem_printf(xp->arena, "%s '%s'",
                          xp_keyword(xp, t) ? "keyword" : "identifier",
                          t->spell);
    if (t->kind == LEX_T_EOF)
        return "end of file";
    if (t->len > 0 && t->len < 40 && t->kind != LEX_T_STRING)
        return mem_printf(xp->arena, "'%.*s'", (int)t->len, t->text);
    return lex_tok_name(t->kind);
}

static void xp_expected(xp_t *xp, const char *what)
{
    xp_error_at(xp, &xp->tok, "expected %s, found %s", what,
                xp_desc(xp, &xp->tok));
}

static bool xp_expect(xp_t *xp, lex_tok_t k, const char *ctx)
{
    if (xp_accept(xp, k))
        return true;
    xp_error_at(xp, &xp->tok, "expected %s %s, found %s", lex_tok_name(k),
                ctx, xp_desc(xp, &xp->tok));
    return false;
}

/* After an error: skip to the ';' that ends the current item at brace
 * depth depth (consumed), or to a '}' closing that depth (not consumed). */
static void xp_recover(xp_t *xp, int depth)
{
    for (;;) {
        if (xp_is(xp, LEX_T_EOF))
            return;
        if (xp->depth <= depth && xp_is(xp, LEX_T_SEMI)) {
            xp_advance(xp);
            return;
        }
        if (xp->depth <= depth && xp_is(xp, LEX_T_RBRACE)) {
            if (depth > 0)
                return;
            xp_advance(xp);     /* a stray '}' at the top */
            continue;
        }
        xp_advance(xp);
    }
}

/* identifier, not a keyword */
static bool xp_ident(xp_t *xp, lex_token_t *out, const char *what)
{
    if (xp->tok.kind == LEX_T_IDENT && !xp_keyword(xp, &xp->tok)) {
        *out = xp->tok;
        xp_advance(xp);
        return true;
    }
    xp_expected(xp, what);
    return false;
}

/* ---------------------------------------------------------------------------
 * Nodes, types, expressions
 * ------------------------------------------------------------------------- */

static ast_type_t *xp_new_type(xp_t *xp, ast_type_kind_t k,
                               const lex_token_t *at)
{
    ast_type_t *t = mem_zalloc(xp->arena, sizeof *t);

    t->kind = k;
    t->file = at->file;
    t->line = at->line;
    t->column = at->column;
    return t;
}

static ast_expr_t *xp_new_expr(xp_t *xp, ast_expr_kind_t k,
                               const lex_token_t *at)
{
    ast_expr_t *e = mem_zalloc(xp->arena, sizeof *e);

    e->kind = k;
    e->file = at->file;
    e->line = at->line;
    e->column = at->column;
    return e;
}

static void xp_set_names(xp_t *xp, ast_node_t *n, const ast_node_t *scope)
{
    const char **path = mem_alloc(xp->arena,
                                  (scope->path_len + 1) * sizeof *path);

    if (scope->path_len > 0)
        memcpy(path, scope->path, scope->path_len * sizeof *path);
    path[scope->path_len] = n->name;
    n->path = path;
    n->path_len = scope->path_len + 1;
    n->scoped_name = mem_printf(xp->arena, "%s::%s", scope->scoped_name,
                                n->name);
}

/* A new node named name (interned) at position at, in scope: appended,
 * or inserted just before node before when that is not NULL. */
static ast_node_t *xp_node_in(xp_t *xp, ast_kind_t k, const lex_token_t *at,
                              const char *name, ast_node_t *scope,
                              ast_node_t *before)
{
    ast_node_t *n = mem_zalloc(xp->arena, sizeof *n);

    n->kind = k;
    n->file = at->file;
    n->line = at->line;
    n->column = at->column;
    n->name = name;
    n->parent = scope;
    n->prefix = scope == xp->scope ? xp->prefix : "";
    n->version_major = 1;
    n->version_minor = 0;
    n->in_main_file = at->file == xp->root->main_file;
    n->seq = ++xp->n_nodes;
    if (before != NULL) {
        ast_node_t **pp = &scope->members.first;
        while (*pp != NULL && *pp != before)
            pp = &(*pp)->next;
        n->next = before;
        *pp = n;
    } else {
        if (scope->members.last != NULL)
            scope->members.last->next = n;
        else
            scope->members.first = n;
        scope->members.last = n;
    }
    scope->members.count++;
    xp_set_names(xp, n, scope);
    return n;
}

static ast_node_t *xp_node(xp_t *xp, ast_kind_t k, const lex_token_t *at)
{
    return xp_node_in(xp, k, at, at->spell, xp->scope, NULL);
}

typedef struct xp_saved {
    ast_node_t *scope;
    const char *prefix;
} xp_saved_t;

static xp_saved_t xp_open(xp_t *xp, ast_node_t *n)
{
    xp_saved_t s = { xp->scope, xp->prefix };

    xp->scope = n;
    xp->prefix = n->prefix[0] == '\0'
                     ? n->name
                     : mem_printf(xp->arena, "%s/%s", n->prefix, n->name);
    return s;
}

static void xp_close(xp_t *xp, xp_saved_t s)
{
    xp->scope = s.scope;
    xp->prefix = s.prefix;
}

static ast_type_t *xp_named(xp_t *xp, const lex_token_t *at)
{
    ast_type_t *t = xp_new_type(xp, AST_T_NAMED, at);
    ast_sname_t *sn = mem_zalloc(xp->arena, sizeof *sn);
    const char **parts = mem_alloc(xp->arena, sizeof *parts);

    parts[0] = at->spell;
    sn->parts = parts;
    sn->n_parts = 1;
    sn->spelling = at->spell;
    sn->file = at->file;
    sn->line = at->line;
    sn->column = at->column;
    t->u.named.sname = sn;
    t->u.named.spelling = sn->spelling;
    return t;
}

static bool xp_val_find(const xp_t *xp, const char *name, int64_t *v)
{
    size_t i;

    for (i = xp->n_vals; i-- > 0;)
        if (xp->vals[i].name == name) {
            *v = xp->vals[i].v;
            return true;
        }
    return false;
}

static void xp_val_add(xp_t *xp, const char *name, int64_t v)
{
    if (xp->n_vals == xp->cap_vals) {
        size_t nc = xp->cap_vals ? xp->cap_vals * 2 : 32;
        xp->vals = mem_grow(xp->arena, xp->vals, xp->n_vals, nc,
                            sizeof *xp->vals);
        xp->cap_vals = nc;
    }
    xp->vals[xp->n_vals].name = name;
    xp->vals[xp->n_vals].v = v;
    xp->n_vals++;
}

static bool xp_tag_known(const xp_t *xp, const char *name)
{
    size_t i;

    for (i = 0; i < xp->n_tags; i++)
        if (xp->tags[i] == name)
            return true;
    return false;
}

static void xp_tag_add(xp_t *xp, const char *name)
{
    if (xp->n_tags == xp->cap_tags) {
        size_t nc = xp->cap_tags ? xp->cap_tags * 2 : 16;
        xp->tags = mem_grow(xp->arena, xp->tags, xp->n_tags, nc,
                            sizeof *xp->tags);
        xp->cap_tags = nc;
    }
    xp->tags[xp->n_tags++] = name;
}

/* A literal expression for v at at. */
static ast_expr_t *xp_int_expr(xp_t *xp, int64_t v, const lex_token_t *at)
{
    ast_expr_t *e = xp_new_expr(xp, AST_E_LITERAL, at);

    e->value.kind = AST_V_UINT;
    if (v >= 0) {
        e->value.v.u = (uint64_t)v;
        return e;
    }
    e->value.v.u = (uint64_t)0 - (uint64_t)v;
    {
        ast_expr_t *neg = xp_new_expr(xp, AST_E_NEG, at);
        neg->lhs = e;
        return neg;
    }
}

/* value -> constant | identifier    (constant -> [ '-' ] integer)
 * Also TRUE and FALSE (union labels on bool).  The value, when known
 * (literals, consts and enumerators declared before), goes to *v. */
static ast_expr_t *xp_value(xp_t *xp, int64_t *v, bool *known)
{
    lex_token_t at = xp->tok;
    bool neg = false;
    ast_expr_t *e;

    *known = false;
    if (xp_is(xp, LEX_T_MINUS)) {
        neg = true;
        xp_advance(xp);
    }
    if (xp_is(xp, LEX_T_INT)) {
        uint64_t u = xp->tok.u;
        if (xp->tok.overflow)
            return NULL;        /* the lexer said so */
        if (neg && u > (uint64_t)INT64_MAX + 1) {
            xp_error_at(xp, &xp->tok, "integer constant -%.*s is out of "
                        "range", (int)xp->tok.len, xp->tok.text);
            return NULL;
        }
        e = xp_new_expr(xp, AST_E_LITERAL, &xp->tok);
        e->value.kind = AST_V_UINT;
        e->value.v.u = u;
        xp_advance(xp);
        if (neg) {
            ast_expr_t *n = xp_new_expr(xp, AST_E_NEG, &at);
            n->lhs = e;
            e = n;
            *v = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
            *known = true;
        } else if (u <= (uint64_t)INT64_MAX) {
            *v = (int64_t)u;
            *known = true;
        }
        return e;
    }
    if (neg) {
        xp_expected(xp, "an integer after '-'");
        return NULL;
    }
    if (xp_is_kw(xp, XK_TRUE) || xp_is_kw(xp, XK_FALSE)) {
        e = xp_new_expr(xp, AST_E_LITERAL, &xp->tok);
        e->value.kind = AST_V_BOOL;
        e->value.v.b = xp_is_kw(xp, XK_TRUE);
        xp_advance(xp);
        return e;
    }
    if (xp->tok.kind == LEX_T_IDENT && !xp_keyword(xp, &xp->tok)) {
        ast_type_t *nt = xp_named(xp, &xp->tok);
        e = xp_new_expr(xp, AST_E_NAME, &xp->tok);
        e->sname = nt->u.named.sname;
        e->spelling = nt->u.named.spelling;
        *known = xp_val_find(xp, xp->tok.spell, v);
        xp_advance(xp);
        return e;
    }
    xp_expected(xp, "a constant or the name of a constant");
    return NULL;
}

/* A forward declaration of struct / union name before the top-level
 * definition being built, unless the name is already declared. */
static void xp_forward(xp_t *xp, ast_kind_t k, const lex_token_t *name)
{
    if (xp_tag_known(xp, name->spell))
        return;
    xp_tag_add(xp, name->spell);
    xp_node_in(xp, k, name, name->spell, xp->root->node, xp->top);
}

/* What a type specifier was. */
typedef enum xp_spec {
    XP_PLAIN,       /* an ordinary type */
    XP_VOID,
    XP_STRING,      /* "string": bounds come with the declarator */
    XP_OPAQUE       /* "opaque": likewise */
} xp_spec_t;

/* type_specifier -> [ 'unsigned' ] 'int' | [ 'unsigned' ] 'hyper'
 *    | 'float' | 'double' | 'quadruple' | 'bool' | enum_type_spec
 *    | struct_type_spec | union_type_spec | identifier
 * plus 'void', 'string' and 'opaque' (the callers decide), rpcgen's
 * 'unsigned', 'long', 'short', 'char', and "struct / union / enum NAME"
 * references.  NULL after an error. */
static ast_type_t *xp_type_spec(xp_t *xp, xp_spec_t *spec)
{
    lex_token_t at = xp->tok;
    ast_type_kind_t k;

    *spec = XP_PLAIN;
    if (xp_accept_kw(xp, XK_UNSIGNED)) {
        if (xp_accept_kw(xp, XK_INT) || xp_accept_kw(xp, XK_LONG))
            k = AST_T_ULONG;
        else if (xp_accept_kw(xp, XK_HYPER))
            k = AST_T_ULONGLONG;
        else if (xp_accept_kw(xp, XK_SHORT))
            k = AST_T_USHORT;
        else if (xp_accept_kw(xp, XK_CHAR))
            k = AST_T_OCTET;
        else
            k = AST_T_ULONG;    /* plain "unsigned" */
        return xp_new_type(xp, k, &at);
    }
    if (xp->tok.kind == LEX_T_IDENT) {
        const char *s = xp->tok.spell;
        if (s == xp->kw[XK_INT] || s == xp->kw[XK_LONG])
            k = AST_T_LONG;
        else if (s == xp->kw[XK_HYPER])
            k = AST_T_LONGLONG;
        else if (s == xp->kw[XK_SHORT])
            k = AST_T_SHORT;
        else if (s == xp->kw[XK_CHAR])
            k = AST_T_CHAR;
        else if (s == xp->kw[XK_FLOAT])
            k = AST_T_FLOAT;
        else if (s == xp->kw[XK_DOUBLE])
            k = AST_T_DOUBLE;
        else if (s == xp->kw[XK_BOOL])
            k = AST_T_BOOLEAN;
        else if (s == xp->kw[XK_VOID]) {
            k = AST_T_VOID;
            *spec = XP_VOID;
        } else if (s == xp->kw[XK_STRING]) {
            k = AST_T_STRING;
            *spec = XP_STRING;
        } else if (s == xp->kw[XK_OPAQUE]) {
            k = AST_T_OCTET;
            *spec = XP_OPAQUE;
        } else if (s == xp->kw[XK_QUADRUPLE]) {
            xp_error_at(xp, &xp->tok, "'quadruple' (128-bit floating "
                        "point) is not supported: the Phalanx ORB has no "
                        "quadruple-precision type");
            return NULL;
        } else if (s == xp->kw[XK_STRUCT] || s == xp->kw[XK_UNION] ||
                   s == xp->kw[XK_ENUM]) {
            lex_token_t name;
            const char *what = s == xp->kw[XK_STRUCT] ? "struct"
                             : s == xp->kw[XK_UNION] ? "union" : "enum";
            xp_advance(xp);
            if (xp_is(xp, LEX_T_LBRACE)) {
                xp_error_at(xp, &xp->tok, "anonymous %s types are not "
                            "supported: declare the %s with a name first",
                            what, what);
                return NULL;
            }
            if (!xp_ident(xp, &name, mem_printf(xp->arena, "a %s name",
                                                 what)))
                return NULL;
            if (s == xp->kw[XK_STRUCT])
                xp_forward(xp, AST_STRUCT_FWD, &name);
            else if (s == xp->kw[XK_UNION])
                xp_forward(xp, AST_UNION_FWD, &name);
            return xp_named(xp, &name);
        } else if (!xp_keyword(xp, &xp->tok)) {
            ast_type_t *t = xp_named(xp, &xp->tok);
            xp_advance(xp);
            return t;
        } else {
            xp_expected(xp, "a type");
            return NULL;
        }
        xp_advance(xp);
        return xp_new_type(xp, k, &at);
    }
    xp_expected(xp, "a type");
    return NULL;
}

/* '<' [ value ] '>' : the bound expression, or NULL for none; *ok false
 * after an error. */
static ast_expr_t *xp_angle_bound(xp_t *xp, bool *ok)
{
    ast_expr_t *e = NULL;
    int64_t v;
    bool known;

    *ok = false;
    xp_advance(xp);             /* '<' */
    if (!xp_is(xp, LEX_T_GT)) {
        e = xp_value(xp, &v, &known);
        if (e == NULL)
            return NULL;
    }
    if (!xp_expect(xp, LEX_T_GT, "to close the bound"))
        return NULL;
    *ok = true;
    return e;
}

/* declaration -> type_specifier identifier
 *    | type_specifier identifier '[' value ']'
 *    | type_specifier identifier '<' [ value ] '>'
 *    | 'opaque' identifier '[' value ']'
 *    | 'opaque' identifier '<' [ value ] '>'
 *    | 'string' identifier '<' [ value ] '>'
 *    | type_specifier '*' identifier
 *    | 'void'
 * Sets *name and *type; *type is NULL for 'void' (only when void_ok). */
static bool xp_declaration(xp_t *xp, bool void_ok, lex_token_t *name,
                           ast_type_t **type)
{
    lex_token_t at = xp->tok;
    xp_spec_t spec;
    ast_type_t *base = xp_type_spec(xp, &spec), *t;
    bool ok;

    *type = NULL;
    if (base == NULL)
        return false;
    if (spec == XP_VOID) {
        if (!void_ok) {
            xp_error_at(xp, &at, "'void' is only allowed as a union arm, "
                        "a procedure argument or a procedure result");
            return false;
        }
        return true;
    }
    if (xp_accept(xp, LEX_T_STAR)) {
        ast_expr_t *one;
        if (spec != XP_PLAIN) {
            xp_error_at(xp, &at, "optional data ('*') needs a type: "
                        "declare a typedef for the %s first",
                        spec == XP_STRING ? "string" : "opaque data");
            return false;
        }
        if (!xp_ident(xp, name, "a declarator name"))
            return false;
        one = xp_new_expr(xp, AST_E_LITERAL, &at);
        one->value.kind = AST_V_UINT;
        one->value.v.u = 1;
        t = xp_new_type(xp, AST_T_SEQUENCE, &at);
        t->u.seq.elem = base;
        t->u.seq.bound_expr = one;
        *type = t;
        return true;
    }
    if (!xp_ident(xp, name, "a declarator name"))
        return false;
    if (xp_is(xp, LEX_T_LBRACKET)) {
        int64_t v;
        bool known;
        ast_expr_t *e;
        if (spec == XP_STRING) {
            xp_error_at(xp, &xp->tok, "a string takes a bound in '<>', "
                        "not '[]'");
            return false;
        }
        xp_advance(xp);
        e = xp_value(xp, &v, &known);
        if (e == NULL || !xp_expect(xp, LEX_T_RBRACKET,
                                    "to close the array size"))
            return false;
        t = xp_new_type(xp, AST_T_ARRAY, name);
        t->u.array.elem = base;
        t->u.array.dim_exprs = mem_alloc(xp->arena, sizeof(ast_expr_t *));
        t->u.array.dim_exprs[0] = e;
        t->u.array.n_dims = 1;
        t->u.array.dims = mem_zalloc(xp->arena, sizeof(uint32_t));
        *type = t;
        return true;
    }
    if (xp_is(xp, LEX_T_LT)) {
        ast_expr_t *e = xp_angle_bound(xp, &ok);
        if (!ok)
            return false;
        if (spec == XP_STRING) {
            base->u.string.bound_expr = e;
            *type = base;
            return true;
        }
        t = xp_new_type(xp, AST_T_SEQUENCE, &at);
        t->u.seq.elem = base;
        t->u.seq.bound_expr = e;
        *type = t;
        return true;
    }
    if (spec == XP_STRING || spec == XP_OPAQUE) {
        xp_error_at(xp, &xp->tok, "%s '%s' needs a size: '%s<N>', '%s<>'%s",
                    spec == XP_STRING ? "string" : "opaque data",
                    name->spell, name->spell, name->spell,
                    spec == XP_OPAQUE ? " or '[N]'" : "");
        return false;
    }
    *type = base;
    return true;
}

/* ---------------------------------------------------------------------------
 * Definitions
 * ------------------------------------------------------------------------- */

/* constant_def -> 'const' identifier '=' constant ';' */
static bool xp_const_def(xp_t *xp)
{
    lex_token_t name, at;
    ast_expr_t *e;
    ast_node_t *n;
    ast_type_kind_t k;
    int64_t v = 0;
    bool known;

    xp_advance(xp);
    if (!xp_ident(xp, &name, "a constant name"))
        return false;
    if (!xp_expect(xp, LEX_T_EQ, "after the constant name"))
        return false;
    at = xp->tok;
    e = xp_value(xp, &v, &known);
    if (e == NULL)
        return false;
    if (!known) {
        if (e->kind == AST_E_LITERAL && e->value.kind == AST_V_UINT) {
            k = AST_T_ULONGLONG;    /* above INT64_MAX */
        } else {
            xp_error_at(xp, &at, "'%s' is not a constant declared before",
                        at.spell);
            return false;
        }
    } else {
        k = v >= INT32_MIN && v <= INT32_MAX ? AST_T_LONG
          : v >= 0 && v <= (int64_t)UINT32_MAX ? AST_T_ULONG
          : AST_T_LONGLONG;
        e = xp_int_expr(xp, v, &at);
        xp_val_add(xp, name.spell, v);
    }
    n = xp_node(xp, AST_CONST, &name);
    n->u.constant.type = xp_new_type(xp, k, &name);
    n->u.constant.expr = e;
    return true;
}

/* enum_def -> 'enum' identifier enum_body ';'
 * enum_body -> '{' identifier '=' value { ',' identifier '=' value } '}'
 * ("= value" may be left out, as rpcgen allows: the previous value + 1). */
static bool xp_enum_def(xp_t *xp)
{
    lex_token_t name;
    lex_token_t *ens = NULL, *ats = NULL;
    int64_t *vals = NULL, next = 0;
    size_t n = 0, cap = 0, i;
    bool ordinal = true;
    ast_node_t *en;

    xp_advance(xp);
    if (!xp_ident(xp, &name, "an enum name"))
        return false;
    if (!xp_expect(xp, LEX_T_LBRACE, "to open the enum body"))
        return false;
    do {
        lex_token_t e, at;
        int64_t v = next;
        if (!xp_ident(xp, &e, "an enumerator"))
            return false;
        at = e;
        if (xp_accept(xp, LEX_T_EQ)) {
            bool known;
            at = xp->tok;
            if (xp_value(xp, &v, &known) == NULL)
                return false;
            if (!known) {
                xp_error_at(xp, &at, "'%s' is not a constant declared "
                            "before", at.spell);
                return false;
            }
        }
        if (v < INT32_MIN || v > INT32_MAX) {
            xp_error_at(xp, &at, "the value of enumerator '%s' does not "
                        "fit in an XDR int", e.spell);
            return false;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            ens = mem_grow(xp->arena, ens, n, nc, sizeof *ens);
            ats = mem_grow(xp->arena, ats, n, nc, sizeof *ats);
            vals = mem_grow(xp->arena, vals, n, nc, sizeof *vals);
            cap = nc;
        }
        ens[n] = e;
        ats[n] = at;
        vals[n] = v;
        if (v != (int64_t)n)
            ordinal = false;
        n++;
        next = v + 1;
    } while (xp_accept(xp, LEX_T_COMMA));
    if (!xp_expect(xp, LEX_T_RBRACE, "to close the enum body"))
        return false;
    if (ordinal) {
        ast_node_t *scope = xp->scope;
        en = xp_node(xp, AST_ENUM, &name);
        for (i = 0; i < n; i++) {
            ast_node_t *e;
            xp->scope = en;
            e = xp_node(xp, AST_ENUMERATOR, &ens[i]);
            xp->scope = scope;
            xp_set_names(xp, e, scope);
            e->u.enumerator.ordinal = (uint32_t)i;
            e->u.enumerator.enm = en;
            xp_val_add(xp, ens[i].spell, vals[i]);
        }
        en->u.enm.count = (uint32_t)n;
        return true;
    }
    /* Values other than 0, 1, ...: typedef long NAME + one const each. */
    en = xp_node(xp, AST_TYPEDEF, &name);
    en->u.tdef.type = xp_new_type(xp, AST_T_LONG, &name);
    for (i = 0; i < n; i++) {
        ast_node_t *c = xp_node(xp, AST_CONST, &ens[i]);
        c->u.constant.type = xp_named(xp, &name);
        c->u.constant.type->line = ens[i].line;
        c->u.constant.type->column = ens[i].column;
        c->u.constant.expr = xp_int_expr(xp, vals[i], &ats[i]);
        xp_val_add(xp, ens[i].spell, vals[i]);
    }
    return true;
}

/* struct_def -> 'struct' identifier '{' declaration ';'
 *               { declaration ';' } '}' ';' */
static bool xp_struct_def(xp_t *xp)
{
    lex_token_t name;
    ast_node_t *n;
    xp_saved_t saved;
    int depth;

    xp_advance(xp);
    if (!xp_ident(xp, &name, "a struct name"))
        return false;
    if (!xp_is(xp, LEX_T_LBRACE)) {
        xp_expected(xp, "'{' to open the struct body");
        return false;
    }
    if (!xp_tag_known(xp, name.spell))
        xp_tag_add(xp, name.spell);
    n = xp_node(xp, AST_STRUCT, &name);
    xp->top = n;
    xp_advance(xp);
    depth = xp->depth;
    saved = xp_open(xp, n);
    if (xp_is(xp, LEX_T_RBRACE))
        xp_expected(xp, "a struct member");
    while (!xp_is(xp, LEX_T_RBRACE) && !xp_is(xp, LEX_T_EOF)) {
        lex_token_t m;
        ast_type_t *t;
        if (!xp_declaration(xp, false, &m, &t) ||
            !xp_expect(xp, LEX_T_SEMI, "after the struct member")) {
            xp_recover(xp, depth);
            continue;
        }
        xp_node(xp, AST_MEMBER, &m)->u.member.type = t;
    }
    xp_close(xp, saved);
    return xp_expect(xp, LEX_T_RBRACE, "to close the struct body");
}

/* union_def -> 'union' identifier 'switch' '(' declaration ')' '{'
 *                  case_spec { case_spec } [ 'default' ':' declaration ';' ]
 *              '}' ';'
 * case_spec -> 'case' value ':' { 'case' value ':' } declaration ';'
 * 'void' arms are left out of the IDL union: a discriminator value that no
 * case names selects no member there.  That cannot express a 'void' arm
 * beside a default arm that carries a value, which is refused. */
static bool xp_union_def(xp_t *xp)
{
    lex_token_t name, dname, void_at;
    ast_node_t *n;
    ast_type_t *disc;
    xp_saved_t saved;
    int depth;
    bool has_void = false, ok = true;
    const ast_node_t *value_default = NULL;

    xp_advance(xp);
    if (!xp_ident(xp, &name, "a union name"))
        return false;
    if (!xp_accept_kw(xp, XK_SWITCH)) {
        xp_expected(xp, "'switch' after the union name");
        return false;
    }
    if (!xp_expect(xp, LEX_T_LPAREN, "after 'switch'"))
        return false;
    if (!xp_declaration(xp, false, &dname, &disc) ||
        !xp_expect(xp, LEX_T_RPAREN, "after the discriminant"))
        return false;
    if (!xp_is(xp, LEX_T_LBRACE)) {
        xp_expected(xp, "'{' to open the union body");
        return false;
    }
    if (!xp_tag_known(xp, name.spell))
        xp_tag_add(xp, name.spell);
    n = xp_node(xp, AST_UNION, &name);
    n->u.uni.disc_type = disc;
    xp->top = n;
    xp_advance(xp);
    depth = xp->depth;
    saved = xp_open(xp, n);
    memset(&void_at, 0, sizeof void_at);
    while (!xp_is(xp, LEX_T_RBRACE) && !xp_is(xp, LEX_T_EOF)) {
        ast_label_t *labels = NULL;
        size_t nl = 0, cap = 0;
        lex_token_t m, first = xp->tok;
        ast_type_t *t;
        bool is_default = false, good = true;

        if (!xp_is_kw(xp, XK_CASE) && !xp_is_kw(xp, XK_DEFAULT)) {
            xp_expected(xp, "'case' or 'default'");
            xp_recover(xp, depth);
            ok = false;
            continue;
        }
        while (good && (xp_is_kw(xp, XK_CASE) || xp_is_kw(xp, XK_DEFAULT))) {
            ast_label_t *l;
            if (nl == cap) {
                size_t nc = cap ? cap * 2 : 4;
                labels = mem_grow(xp->arena, labels, nl, nc,
                                  sizeof *labels);
                cap = nc;
            }
            l = &labels[nl++];
            memset(l, 0, sizeof *l);
            l->file = xp->tok.file;
            l->line = xp->tok.line;
            l->column = xp->tok.column;
            if (xp_accept_kw(xp, XK_DEFAULT)) {
                l->is_default = true;
                is_default = true;
            } else {
                int64_t v;
                bool known;
                xp_advance(xp);
                l->expr = xp_value(xp, &v, &known);
                if (l->expr == NULL)
                    good = false;
            }
            if (good && !xp_expect(xp, LEX_T_COLON, "after the case label"))
                good = false;
        }
        if (!good || !xp_declaration(xp, true, &m, &t) ||
            !xp_expect(xp, LEX_T_SEMI, "after the union arm")) {
            xp_recover(xp, depth);
            ok = false;
            continue;
        }
        if (t == NULL) {
            if (!is_default && !has_void) {
                void_at = first;
                has_void = true;
            }
            continue;
        }
        {
            ast_node_t *c = xp_node(xp, AST_UNION_CASE, &m);
            c->u.ucase.labels = labels;
            c->u.ucase.n_labels = nl;
            c->u.ucase.type = t;
            if (is_default)
                value_default = c;
        }
    }
    xp_close(xp, saved);
    if (!xp_expect(xp, LEX_T_RBRACE, "to close the union body"))
        return false;
    if (ok && has_void && value_default != NULL) {
        xp_error_at(xp, &void_at, "a 'void' arm beside a default arm that "
                    "carries a value cannot be mapped to an IDL union");
        diag_note(xp->d, value_default->file, value_default->line,
                  value_default->column, "the default arm is here");
    } else if (ok && n->members.count == 0) {
        xp_error_at(xp, &name, "union '%s' has only 'void' arms: it cannot "
                    "be mapped to an IDL union", name.spell);
    }
    return true;
}

/* typedef_def -> 'typedef' declaration ';' */
static bool xp_typedef_def(xp_t *xp)
{
    lex_token_t name;
    ast_type_t *t;

    xp_advance(xp);
    if (!xp_declaration(xp, false, &name, &t))
        return false;
    xp_node(xp, AST_TYPEDEF, &name)->u.tdef.type = t;
    return true;
}

/* '=' number, a 32-bit unsigned program, version or procedure number. */
static bool xp_number(xp_t *xp, const char *what, const char *owner,
                      uint32_t *out, lex_token_t *at)
{
    if (!xp_is(xp, LEX_T_EQ)) {
        xp_error_at(xp, &xp->tok, "expected '=' and the %s number after "
                    "%s, found %s", what, owner, xp_desc(xp, &xp->tok));
        return false;
    }
    xp_advance(xp);
    *at = xp->tok;
    if (xp_is(xp, LEX_T_MINUS)) {
        xp_error_at(xp, &xp->tok, "bad %s number: it must not be negative "
                    "(%s numbers are unsigned 32-bit integers)", what, what);
        return false;
    }
    if (!xp_is(xp, LEX_T_INT)) {
        xp_error_at(xp, &xp->tok, "expected the %s number (an integer "
                    "literal) after '=', found %s", what,
                    xp_desc(xp, &xp->tok));
        return false;
    }
    if (xp->tok.overflow)
        return false;           /* the lexer said so */
    if (xp->tok.u > UINT32_MAX) {
        xp_error_at(xp, &xp->tok, "bad %s number %.*s: it does not fit in "
                    "32 bits", what, (int)xp->tok.len, xp->tok.text);
        return false;
    }
    *out = (uint32_t)xp->tok.u;
    xp_advance(xp);
    return true;
}

/* procedure_def -> proc_return identifier '(' proc_firstarg
 *                  { ',' type_specifier } ')' '=' value ';'
 * proc_return -> 'void' | type_specifier
 * proc_firstarg -> 'void' | type_specifier */
static bool xp_procedure_def(xp_t *xp, ast_node_t *iface)
{
    lex_token_t name, at = xp->tok, num_at;
    xp_spec_t spec;
    ast_type_t *ret = xp_type_spec(xp, &spec);
    ast_node_t *op;
    xp_saved_t saved;
    unsigned n_args = 0;
    uint32_t num;

    if (ret == NULL)
        return false;
    if (spec == XP_OPAQUE) {
        xp_error_at(xp, &at, "a procedure result cannot be 'opaque': "
                    "declare a typedef for it");
        return false;
    }
    if (!xp_ident(xp, &name, "a procedure name"))
        return false;
    if (!xp_is(xp, LEX_T_LPAREN)) {
        xp_expected(xp, "'(' after the procedure name");
        return false;
    }
    op = xp_node(xp, AST_OPERATION, &name);
    op->u.op.ret = ret;
    op->u.op.rpc = true;
    saved = xp_open(xp, op);
    xp_advance(xp);
    for (;;) {
        lex_token_t aat = xp->tok;
        ast_type_t *t = xp_type_spec(xp, &spec);
        ast_node_t *p;
        lex_token_t pname;
        if (t == NULL) {
            xp_close(xp, saved);
            return false;
        }
        if (spec == XP_VOID) {
            if (n_args > 0 || xp_is(xp, LEX_T_COMMA)) {
                xp_error_at(xp, &aat, "'void' must be the only argument");
                xp_close(xp, saved);
                return false;
            }
            break;
        }
        if (spec == XP_OPAQUE) {
            xp_error_at(xp, &aat, "a procedure argument cannot be "
                        "'opaque': declare a typedef for it");
            xp_close(xp, saved);
            return false;
        }
        pname = aat;
        pname.kind = LEX_T_IDENT;
        pname.spell = intern_str(xp->names, mem_printf(xp->arena, "arg%u",
                                                       ++n_args));
        p = xp_node(xp, AST_PARAM, &pname);
        p->u.param.mode = AST_PARAM_IN;
        p->u.param.type = t;
        if (!xp_accept(xp, LEX_T_COMMA))
            break;
    }
    xp_close(xp, saved);
    if (!xp_expect(xp, LEX_T_RPAREN, "after the procedure arguments"))
        return false;
    if (!xp_number(xp, "procedure", mem_printf(xp->arena, "procedure '%s'",
                                                name.spell), &num, &num_at))
        return false;
    AST_FOREACH(m, iface) {
        if (m != op && m->kind == AST_OPERATION && m->u.op.rpc_proc == num) {
            xp_error_at(xp, &num_at, "procedure number %" PRIu32 " of '%s' "
                        "is already used by '%s' in version '%s'", num,
                        name.spell, m->name, iface->name);
            diag_note(xp->d, m->file, m->line, m->column, "'%s' is "
                      "declared here", m->name);
            return false;
        }
    }
    op->u.op.rpc_proc = num;
    return xp_expect(xp, LEX_T_SEMI, "after the procedure");
}

/* version_def -> 'version' identifier '{' procedure_def
 *                { procedure_def } '}' '=' value ';' */
static bool xp_version_def(xp_t *xp, ast_node_t *mod)
{
    lex_token_t name, num_at;
    ast_node_t *n;
    xp_saved_t saved;
    int depth;
    uint32_t num;

    if (!xp_accept_kw(xp, XK_VERSION)) {
        xp_expected(xp, "'version'");
        return false;
    }
    if (!xp_ident(xp, &name, "a version name"))
        return false;
    if (!xp_is(xp, LEX_T_LBRACE)) {
        xp_expected(xp, "'{' to open the version body");
        return false;
    }
    n = xp_node(xp, AST_INTERFACE, &name);
    n->u.iface.rpc = true;
    xp_advance(xp);
    depth = xp->depth;
    saved = xp_open(xp, n);
    if (xp_is(xp, LEX_T_RBRACE))
        xp_expected(xp, "a procedure");
    while (!xp_is(xp, LEX_T_RBRACE) && !xp_is(xp, LEX_T_EOF)) {
        if (!xp_procedure_def(xp, n))
            xp_recover(xp, depth);
    }
    xp_close(xp, saved);
    if (!xp_expect(xp, LEX_T_RBRACE, "to close the version body"))
        return false;
    if (!xp_number(xp, "version", mem_printf(xp->arena, "version '%s'",
                                              name.spell), &num, &num_at))
        return false;
    AST_FOREACH(m, mod) {
        if (m != n && m->kind == AST_INTERFACE && m->u.iface.rpc_vers == num) {
            xp_error_at(xp, &num_at, "version number %" PRIu32 " of '%s' is "
                        "already used by '%s' in program '%s'", num,
                        name.spell, m->name, mod->name);
            diag_note(xp->d, m->file, m->line, m->column, "'%s' is "
                      "declared here", m->name);
            return false;
        }
    }
    n->u.iface.rpc_vers = num;
    return xp_expect(xp, LEX_T_SEMI, "after the version");
}

/* program_def -> 'program' identifier '{' version_def { version_def } '}'
 *                '=' value ';' */
static bool xp_program_def(xp_t *xp)
{
    lex_token_t name, num_at;
    ast_node_t *n;
    xp_saved_t saved;
    int depth;
    uint32_t num;
    size_t i;

    xp_advance(xp);
    if (!xp_ident(xp, &name, "a program name"))
        return false;
    if (!xp_is(xp, LEX_T_LBRACE)) {
        xp_expected(xp, "'{' to open the program body");
        return false;
    }
    n = xp_node(xp, AST_MODULE, &name);
    xp->top = n;
    xp_advance(xp);
    depth = xp->depth;
    saved = xp_open(xp, n);
    if (xp_is(xp, LEX_T_RBRACE))
        xp_expected(xp, "'version'");
    while (!xp_is(xp, LEX_T_RBRACE) && !xp_is(xp, LEX_T_EOF)) {
        if (!xp_version_def(xp, n))
            xp_recover(xp, depth);
    }
    xp_close(xp, saved);
    if (!xp_expect(xp, LEX_T_RBRACE, "to close the program body"))
        return false;
    if (!xp_number(xp, "program", mem_printf(xp->arena, "program '%s'",
                                              name.spell), &num, &num_at))
        return false;
    for (i = 0; i < xp->n_progs; i++) {
        const ast_node_t *p = xp->progs[i].node;
        if (xp->progs[i].num == num) {
            xp_error_at(xp, &num_at, "program number %" PRIu32 " (0x%" PRIx32
                        ") of '%s' is already used by program '%s'", num,
                        num, name.spell, p->name);
            diag_note(xp->d, p->file, p->line, p->column, "'%s' is "
                      "declared here", p->name);
            return false;
        }
    }
    if (xp->n_progs == xp->cap_progs) {
        size_t nc = xp->cap_progs ? xp->cap_progs * 2 : 4;
        xp->progs = mem_grow(xp->arena, xp->progs, xp->n_progs, nc,
                             sizeof *xp->progs);
        xp->cap_progs = nc;
    }
    xp->progs[xp->n_progs].num = num;
    xp->progs[xp->n_progs].node = n;
    xp->n_progs++;
    AST_FOREACH(m, n) {
        if (m->kind == AST_INTERFACE)
            m->u.iface.rpc_prog = num;
    }
    return xp_expect(xp, LEX_T_SEMI, "after the program");
}

/* definition -> type_def | constant_def | program_def */
static bool xp_definition(xp_t *xp)
{
    xp->top = NULL;
    if (xp_is_kw(xp, XK_CONST))
        return xp_const_def(xp) &&
               xp_expect(xp, LEX_T_SEMI, "after the constant");
    if (xp_is_kw(xp, XK_ENUM))
        return xp_enum_def(xp) &&
               xp_expect(xp, LEX_T_SEMI, "after the enum");
    if (xp_is_kw(xp, XK_STRUCT))
        return xp_struct_def(xp) &&
               xp_expect(xp, LEX_T_SEMI, "after the struct");
    if (xp_is_kw(xp, XK_UNION))
        return xp_union_def(xp) &&
               xp_expect(xp, LEX_T_SEMI, "after the union");
    if (xp_is_kw(xp, XK_TYPEDEF))
        return xp_typedef_def(xp) &&
               xp_expect(xp, LEX_T_SEMI, "after the typedef");
    if (xp_is_kw(xp, XK_PROGRAM))
        return xp_program_def(xp);
    xp_expected(xp, "a definition (const, enum, struct, union, typedef or "
                "program)");
    return false;
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

bool xparse_is_rpc_file(const char *path)
{
    size_t n = strlen(path);

    return n > 2 && strcmp(path + n - 2, ".x") == 0;
}

void xparse_buffer(ast_root_t *root, intern_t *names, diag_t *d,
                   const char *text, size_t len)
{
    xp_t *xp = mem_zalloc(&root->arena, sizeof *xp);
    size_t i;

    xp->root = root;
    xp->arena = &root->arena;
    xp->names = names;
    xp->d = d;
    xp->scope = root->node;
    xp->prefix = "";
    for (i = 0; i < XK_COUNT; i++)
        xp->kw[i] = intern_str(names, xp_kw_spellings[i]);
    root->case_sensitive = true;
    lex_init(&xp->ls, &root->arena, names, d, root->main_file, text, len);
    xp_fetch(xp);
    while (!xp_is(xp, LEX_T_EOF)) {
        if (!xp_definition(xp))
            xp_recover(xp, 0);
        xp->scope = root->node;
        xp->prefix = "";
    }
}

bool xparse_file(ast_root_t *root, intern_t *names, diag_t *d)
{
    const char *path = root->main_file;
    struct stat st;
    FILE *fp;
    char *buf;
    size_t got;
    int err;

    /* The buffer comes first: running out of memory jumps away, and no
       file may be open then. */
    if (stat(path, &st) != 0) {
        err = errno;
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        err = EISDIR;
        goto fail;
    }
    if (st.st_size < 0 || st.st_size > (256L << 20)) {
        err = EFBIG;
        goto fail;
    }
    buf = mem_alloc(&root->arena, (size_t)st.st_size + 1);
    fp = fopen(path, "rb");
    if (fp == NULL) {
        err = errno;
        goto fail;
    }
    got = fread(buf, 1, (size_t)st.st_size, fp);
    if (ferror(fp)) {
        err = EIO;
        fclose(fp);
        goto fail;
    }
    fclose(fp);
    buf[got] = '\0';
    xparse_buffer(root, names, d, buf, got);
    return true;
fail:
    diag_error(d, path, 0, 0, "cannot read the file: %s", strerror(err));
    return false;
}
