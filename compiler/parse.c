/*
 * parse.c - the recursive-descent parser of phx-idl (see parse.h).
 *
 * Each parse function opens with the grammar rule it implements, in the
 * notation of the CORBA IDL chapter: [ x ] optional, { x } zero or more.
 * A function returning bool returns false after a syntax error it
 * reported; the definition loops then resynchronise (parse_recover).
 */
#include "compiler/parse.h"

#include <stdarg.h>
#include <string.h>

static bool parse_definition(parse_state_t *ps);
static ast_type_t *parse_type_spec(parse_state_t *ps, bool constr);
static ast_expr_t *parse_const_exp(parse_state_t *ps, bool in_angle);
static ast_type_t *parse_simple_type_spec(parse_state_t *ps,
                                          const char *what);
static bool parse_struct_type(parse_state_t *ps, ast_node_t **out);
static bool parse_union_type(parse_state_t *ps, ast_node_t **out);
static bool parse_enum_type(parse_state_t *ps, ast_node_t **out);

/* ---------------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------------- */

static void parse_push_pragma(parse_state_t *ps, const lex_token_t *t);

/* Fetch a token from the preprocessor, acting on the pseudo tokens
 * (pragma prefix / ID / version, file boundaries) on the way. */
static void parse_fetch(parse_state_t *ps, lex_token_t *t)
{
    for (;;) {
        if (ps->fatal) {
            memset(t, 0, sizeof *t);
            t->kind = LEX_T_EOF;
            t->file = ps->root->main_file;
            t->text = "";
            return;
        }
        pp_next(ps->pp, t);
        switch (t->kind) {
        case LEX_T_PRAGMA_PREFIX:
            ps->prefix = t->str;
            continue;
        case LEX_T_PRAGMA_ID:
        case LEX_T_PRAGMA_VERSION:
            parse_push_pragma(ps, t);
            continue;
        case LEX_T_FILE_ENTER:
            if (ps->n_file_prefixes == ps->cap_file_prefixes) {
                size_t nc = ps->cap_file_prefixes
                                ? ps->cap_file_prefixes * 2 : 8;
                ps->file_prefixes = mem_grow(ps->arena, ps->file_prefixes,
                                             ps->n_file_prefixes, nc,
                                             sizeof *ps->file_prefixes);
                ps->cap_file_prefixes = nc;
            }
            ps->file_prefixes[ps->n_file_prefixes++] = ps->prefix;
            ps->prefix = "";
            continue;
        case LEX_T_FILE_LEAVE:
            if (ps->n_file_prefixes > 0)
                ps->prefix = ps->file_prefixes[--ps->n_file_prefixes];
            continue;
        default:
            return;
        }
    }
}

static void parse_advance(parse_state_t *ps)
{
    if (ps->has_ahead) {
        ps->tok = ps->ahead;
        ps->has_ahead = false;
    } else {
        parse_fetch(ps, &ps->tok);
    }
}

static const lex_token_t *parse_peek(parse_state_t *ps)
{
    if (!ps->has_ahead) {
        parse_fetch(ps, &ps->ahead);
        ps->has_ahead = true;
    }
    return &ps->ahead;
}

static bool parse_is(const parse_state_t *ps, lex_tok_t k)
{
    return ps->tok.kind == k;
}

static bool parse_accept(parse_state_t *ps, lex_tok_t k)
{
    if (ps->tok.kind != k)
        return false;
    parse_advance(ps);
    return true;
}

/* A short description of the current token for messages. */
static const char *parse_tok_desc(parse_state_t *ps, const lex_token_t *t)
{
    if (t->kind == LEX_T_IDENT)
        return mem_printf(ps->arena, "identifier '%s'", t->name);
    if (t->kind >= LEX_KW_FIRST)
        return mem_printf(ps->arena, "keyword %s", lex_tok_name(t->kind));
    if (t->kind == LEX_T_EOF)
        return "end of file";
    if (t->len > 0 && t->len < 40 && t->kind != LEX_T_STRING &&
        t->kind != LEX_T_WSTRING)
        return mem_printf(ps->arena, "'%.*s'", (int)t->len, t->text);
    return lex_tok_name(t->kind);
}

/* Report a syntax error at the current token (once per token). */
static void parse_error(parse_state_t *ps, const char *fmt, ...)
{
    va_list ap;
    const lex_token_t *t = &ps->tok;

    if (ps->fatal)
        return;
    if (ps->err_file == t->file && ps->err_line == t->line &&
        ps->err_column == t->column)
        return;
    ps->err_file = t->file;
    ps->err_line = t->line;
    ps->err_column = t->column;
    va_start(ap, fmt);
    diag_verror(ps->diag, t->file, t->line, t->column, fmt, ap);
    va_end(ap);
}

/* "expected X, found Y" at the current token. */
static void parse_expected(parse_state_t *ps, const char *what)
{
    parse_error(ps, "expected %s, found %s", what,
                parse_tok_desc(ps, &ps->tok));
}

static bool parse_expect(parse_state_t *ps, lex_tok_t k, const char *ctx)
{
    if (parse_accept(ps, k))
        return true;
    if (ctx != NULL)
        parse_error(ps, "expected %s %s, found %s", lex_tok_name(k), ctx,
                    parse_tok_desc(ps, &ps->tok));
    else
        parse_expected(ps, lex_tok_name(k));
    return false;
}

/* The closing '>' of a template; splits a '>>' token in two. */
static bool parse_close_angle(parse_state_t *ps, const char *ctx)
{
    if (ps->tok.kind == LEX_T_SHR) {
        ps->tok.kind = LEX_T_GT;
        ps->tok.text++;
        ps->tok.len = 1;
        ps->tok.column++;
        return true;
    }
    return parse_expect(ps, LEX_T_GT, ctx);
}

static bool parse_enter(parse_state_t *ps)
{
    if (++ps->depth > PARSE_MAX_DEPTH) {
        parse_error(ps, "declarations or expressions nested more than %d "
                        "levels deep", PARSE_MAX_DEPTH);
        ps->fatal = true;
        return false;
    }
    return true;
}

static void parse_leave(parse_state_t *ps)
{
    ps->depth--;
}

/* Skip to the end of the current declaration after an error: past the
 * next ';' outside braces, or up to (not past) a '}' that closes the
 * enclosing scope.  Braced bodies on the way are skipped whole. */
static void parse_recover(parse_state_t *ps)
{
    unsigned depth = 0;

    for (;;) {
        switch (ps->tok.kind) {
        case LEX_T_EOF:
            return;
        case LEX_T_SEMI:
            if (depth == 0) {
                parse_advance(ps);
                return;
            }
            break;
        case LEX_T_LBRACE:
            depth++;
            break;
        case LEX_T_RBRACE:
            if (depth == 0)
                return;
            depth--;
            break;
        default:
            break;
        }
        parse_advance(ps);
    }
}

/* ---------------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------------- */

static void parse_push_pragma(parse_state_t *ps, const lex_token_t *t)
{
    parse_pragma_t *p;
    const char *s = t->pname;
    const char *parts[256];
    size_t n = 0;

    if (ps->n_pragmas == ps->cap_pragmas) {
        size_t nc = ps->cap_pragmas ? ps->cap_pragmas * 2 : 8;
        ps->pragmas = mem_grow(ps->arena, ps->pragmas, ps->n_pragmas, nc,
                               sizeof *ps->pragmas);
        ps->cap_pragmas = nc;
    }
    p = &ps->pragmas[ps->n_pragmas++];
    memset(p, 0, sizeof *p);
    p->kind = t->kind;
    p->scope = ps->scope;
    p->seq = ps->n_nodes;
    p->id = t->str;
    p->major = (uint32_t)(t->u >> 32);
    p->minor = (uint32_t)(t->u & 0xffffffffu);
    p->name.file = t->file;
    p->name.line = t->line;
    p->name.column = t->column;
    p->name.spelling = s;
    if (s[0] == ':' && s[1] == ':') {
        p->name.absolute = true;
        s += 2;
    }
    while (*s != '\0' && n < sizeof parts / sizeof parts[0]) {
        const char *e = strstr(s, "::");
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        parts[n++] = intern_n(ps->names, s, len);
        s += len;
        if (e != NULL)
            s += 2;
    }
    if (n == 0)
        parts[n++] = intern_str(ps->names, "");
    {
        const char **v = mem_alloc(ps->arena, n * sizeof *v);
        memcpy(v, parts, n * sizeof *v);
        p->name.parts = v;
        p->name.n_parts = n;
    }
}

static ast_type_t *parse_new_type(parse_state_t *ps, ast_type_kind_t k,
                                  const lex_token_t *at)
{
    ast_type_t *t = mem_zalloc(ps->arena, sizeof *t);

    t->kind = k;
    t->file = at->file;
    t->line = at->line;
    t->column = at->column;
    return t;
}

static ast_expr_t *parse_new_expr(parse_state_t *ps, ast_expr_kind_t k,
                                  const lex_token_t *at)
{
    ast_expr_t *e = mem_zalloc(ps->arena, sizeof *e);

    e->kind = k;
    e->file = at->file;
    e->line = at->line;
    e->column = at->column;
    return e;
}

/* Path of a declaration named name whose names belong to scope. */
static void parse_set_names(parse_state_t *ps, ast_node_t *n,
                            const ast_node_t *scope)
{
    const char **path = mem_alloc(ps->arena,
                                  (scope->path_len + 1) * sizeof *path);

    if (scope->path_len > 0)
        memcpy(path, scope->path, scope->path_len * sizeof *path);
    path[scope->path_len] = n->name;
    n->path = path;
    n->path_len = scope->path_len + 1;
    n->scoped_name = mem_printf(ps->arena, "%s::%s", scope->scoped_name,
                                n->name);
}

/* A new node named by token at (an identifier), appended to the current
 * scope. */
static ast_node_t *parse_new_node(parse_state_t *ps, ast_kind_t k,
                                  const lex_token_t *at)
{
    ast_node_t *n = mem_zalloc(ps->arena, sizeof *n);
    ast_node_t *scope = ps->scope;

    n->kind = k;
    n->file = at->file;
    n->line = at->line;
    n->column = at->column;
    n->name = at->kind == LEX_T_IDENT ? at->name : "";
    n->parent = scope;
    n->prefix = ps->prefix;
    n->version_major = 1;
    n->version_minor = 0;
    n->in_main_file = at->file == ps->root->main_file;
    n->seq = ++ps->n_nodes;
    if (scope->members.last != NULL)
        scope->members.last->next = n;
    else
        scope->members.first = n;
    scope->members.last = n;
    scope->members.count++;
    parse_set_names(ps, n, scope);
    return n;
}

/* The repository id prefix for the contents of scope n. */
static const char *parse_scope_prefix(parse_state_t *ps, const ast_node_t *n)
{
    if (n->prefix[0] == '\0')
        return n->name;
    return mem_printf(ps->arena, "%s/%s", n->prefix, n->name);
}

/* Make n the current scope; returns what parse_close_scope restores. */
typedef struct parse_saved {
    ast_node_t *scope;
    const char *prefix;
} parse_saved_t;

static parse_saved_t parse_open_scope(parse_state_t *ps, ast_node_t *n)
{
    parse_saved_t s = { ps->scope, ps->prefix };

    ps->scope = n;
    ps->prefix = parse_scope_prefix(ps, n);
    return s;
}

static void parse_close_scope(parse_state_t *ps, parse_saved_t s)
{
    ps->scope = s.scope;
    ps->prefix = s.prefix;
}

/* identifier, as the name of a new declaration */
static bool parse_ident(parse_state_t *ps, lex_token_t *out, const char *what)
{
    if (ps->tok.kind == LEX_T_IDENT) {
        *out = ps->tok;
        parse_advance(ps);
        return true;
    }
    if (ps->tok.kind >= LEX_KW_FIRST)
        parse_error(ps, "expected %s, found keyword %s (write '_%.*s' to "
                        "use it as a name)", what,
                    lex_tok_name(ps->tok.kind), (int)ps->tok.len,
                    ps->tok.text);
    else
        parse_expected(ps, what);
    return false;
}

/* ---------------------------------------------------------------------------
 * Names and expressions
 * ------------------------------------------------------------------------- */

/* scoped_name -> [ '::' ] identifier { '::' identifier } */
static ast_sname_t *parse_scoped_name(parse_state_t *ps)
{
    ast_sname_t *sn = mem_zalloc(ps->arena, sizeof *sn);
    const char **parts = NULL;
    size_t n = 0, cap = 0;
    char *sp;
    size_t splen = 0, i;

    sn->file = ps->tok.file;
    sn->line = ps->tok.line;
    sn->column = ps->tok.column;
    if (parse_accept(ps, LEX_T_SCOPE))
        sn->absolute = true;
    for (;;) {
        if (ps->tok.kind != LEX_T_IDENT) {
            parse_expected(ps, "an identifier");
            return NULL;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            parts = mem_grow(ps->arena, parts, n, nc, sizeof *parts);
            cap = nc;
        }
        parts[n++] = ps->tok.name;
        splen += strlen(ps->tok.name) + 2;
        parse_advance(ps);
        if (ps->tok.kind != LEX_T_SCOPE)
            break;
        parse_advance(ps);
    }
    sn->parts = parts;
    sn->n_parts = n;
    sp = mem_alloc(ps->arena, splen + 3);
    sp[0] = '\0';
    splen = 0;
    if (sn->absolute) {
        memcpy(sp, "::", 3);
        splen = 2;
    }
    for (i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        if (i > 0) {
            memcpy(sp + splen, "::", 2);
            splen += 2;
        }
        memcpy(sp + splen, parts[i], l);
        splen += l;
        sp[splen] = '\0';
    }
    sn->spelling = sp;
    return sn;
}

/* literal -> integer | floating | fixed | character | wide_character
 *          | string { string } | wide_string { wide_string }
 *          | 'TRUE' | 'FALSE' */
static ast_expr_t *parse_literal(parse_state_t *ps)
{
    ast_expr_t *e = parse_new_expr(ps, AST_E_LITERAL, &ps->tok);
    lex_tok_t k = ps->tok.kind;

    switch (k) {
    case LEX_T_INT:
        e->value.kind = AST_V_UINT;
        e->value.v.u = ps->tok.u;
        break;
    case LEX_T_FLOAT:
        e->value.kind = AST_V_FLOAT;
        e->value.v.f = ps->tok.f;
        break;
    case LEX_T_FIXED:
        e->value.kind = AST_V_FIXED;
        e->value.v.fixed.digits = ps->tok.str;
        e->value.v.fixed.scale = ps->tok.scale;
        e->value.v.fixed.negative = false;
        break;
    case LEX_T_CHAR:
        e->value.kind = AST_V_CHAR;
        e->value.v.ch = ps->tok.ch;
        break;
    case LEX_T_WCHAR:
        e->value.kind = AST_V_WCHAR;
        e->value.v.ch = ps->tok.ch;
        break;
    case LEX_KW_TRUE:
    case LEX_KW_FALSE:
        e->value.kind = AST_V_BOOL;
        e->value.v.b = k == LEX_KW_TRUE;
        break;
    case LEX_T_STRING:
    case LEX_T_WSTRING: {
        /* Adjacent literals concatenate. */
        size_t len = 0, cap = 64;
        char *buf = mem_alloc(ps->arena, cap);
        e->value.kind = k == LEX_T_STRING ? AST_V_STRING : AST_V_WSTRING;
        while (ps->tok.kind == LEX_T_STRING || ps->tok.kind == LEX_T_WSTRING) {
            if (ps->tok.kind != k) {
                parse_error(ps, "a wide and a narrow string literal cannot "
                                "be concatenated");
            } else {
                if (len + ps->tok.str_len + 1 > cap) {
                    size_t nc = (len + ps->tok.str_len + 1) * 2;
                    buf = mem_grow(ps->arena, buf, len, nc, 1);
                    cap = nc;
                }
                memcpy(buf + len, ps->tok.str, ps->tok.str_len);
                len += ps->tok.str_len;
            }
            parse_advance(ps);
        }
        buf[len] = '\0';
        e->value.v.str.s = buf;
        e->value.v.str.len = len;
        return e;
    }
    default:
        return NULL;
    }
    parse_advance(ps);
    return e;
}

/* primary_expr -> scoped_name | literal | '(' const_exp ')' */
static ast_expr_t *parse_primary_expr(parse_state_t *ps)
{
    ast_expr_t *e;

    switch (ps->tok.kind) {
    case LEX_T_IDENT:
    case LEX_T_SCOPE: {
        ast_sname_t *sn;
        e = parse_new_expr(ps, AST_E_NAME, &ps->tok);
        sn = parse_scoped_name(ps);
        if (sn == NULL)
            return NULL;
        e->sname = sn;
        e->spelling = sn->spelling;
        return e;
    }
    case LEX_T_LPAREN:
        parse_advance(ps);
        e = parse_const_exp(ps, false);
        if (e == NULL)
            return NULL;
        if (!parse_expect(ps, LEX_T_RPAREN, "to close the parenthesis"))
            return NULL;
        return e;
    default:
        e = parse_literal(ps);
        if (e == NULL)
            parse_expected(ps, "a constant expression");
        return e;
    }
}

/* unary_expr -> [ '-' | '+' | '~' ] primary_expr */
static ast_expr_t *parse_unary_expr(parse_state_t *ps)
{
    ast_expr_kind_t k;
    ast_expr_t *e;
    lex_token_t at = ps->tok;

    switch (ps->tok.kind) {
    case LEX_T_MINUS: k = AST_E_NEG; break;
    case LEX_T_PLUS: k = AST_E_PLUS; break;
    case LEX_T_TILDE: k = AST_E_NOT; break;
    default: return parse_primary_expr(ps);
    }
    parse_advance(ps);
    if (!parse_enter(ps))
        return NULL;
    e = parse_new_expr(ps, k, &at);
    e->lhs = parse_unary_expr(ps);
    parse_leave(ps);
    return e->lhs != NULL ? e : NULL;
}

/* Binary operator of a precedence level (1 = '|' ... 6 = '*' '/' '%'). */
static bool parse_binop(const parse_state_t *ps, int level, bool in_angle,
                        ast_expr_kind_t *k)
{
    switch (ps->tok.kind) {
    case LEX_T_OR: *k = AST_E_OR; return level == 1;
    case LEX_T_XOR: *k = AST_E_XOR; return level == 2;
    case LEX_T_AND: *k = AST_E_AND; return level == 3;
    case LEX_T_SHL: *k = AST_E_SHL; return level == 4;
    case LEX_T_SHR: *k = AST_E_SHR; return level == 4 && !in_angle;
    case LEX_T_PLUS: *k = AST_E_ADD; return level == 5;
    case LEX_T_MINUS: *k = AST_E_SUB; return level == 5;
    case LEX_T_STAR: *k = AST_E_MUL; return level == 6;
    case LEX_T_SLASH: *k = AST_E_DIV; return level == 6;
    case LEX_T_PERCENT: *k = AST_E_MOD; return level == 6;
    default: return false;
    }
}

/* or_expr    -> xor_expr { '|' xor_expr }
 * xor_expr   -> and_expr { '^' and_expr }
 * and_expr   -> shift_expr { '&' shift_expr }
 * shift_expr -> add_expr { ( '>>' | '<<' ) add_expr }
 * add_expr   -> mult_expr { ( '+' | '-' ) mult_expr }
 * mult_expr  -> unary_expr { ( '*' | '/' | '%' ) unary_expr } */
static ast_expr_t *parse_binary_expr(parse_state_t *ps, int level,
                                     bool in_angle)
{
    ast_expr_t *l;
    ast_expr_kind_t k;

    if (level > 6)
        return parse_unary_expr(ps);
    l = parse_binary_expr(ps, level + 1, in_angle);
    while (l != NULL && parse_binop(ps, level, in_angle, &k)) {
        ast_expr_t *e = parse_new_expr(ps, k, &ps->tok);
        parse_advance(ps);
        e->lhs = l;
        e->rhs = parse_binary_expr(ps, level + 1, in_angle);
        if (e->rhs == NULL)
            return NULL;
        l = e;
    }
    return l;
}

/* const_exp -> or_expr
 * (in_angle: inside '<' '>', where '>>' closes two templates) */
static ast_expr_t *parse_const_exp(parse_state_t *ps, bool in_angle)
{
    ast_expr_t *e;

    if (!parse_enter(ps))
        return NULL;
    e = parse_binary_expr(ps, 1, in_angle);
    parse_leave(ps);
    return e;
}

/* ---------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------- */

/* base_type_spec -> floating_pt_type | integer_type | char_type
 *                 | wide_char_type | boolean_type | octet_type | any_type
 *                 | object_type
 * integer_type   -> [ 'unsigned' ] ( 'short' | 'long' | 'long' 'long' )
 * floating_pt_type -> 'float' | 'double' | 'long' 'double'
 * Returns NULL (nothing consumed) when the token starts no base type. */
static ast_type_t *parse_base_type_spec(parse_state_t *ps)
{
    lex_token_t at = ps->tok;
    ast_type_kind_t k;

    switch (ps->tok.kind) {
    case LEX_KW_SHORT: k = AST_T_SHORT; break;
    case LEX_KW_FLOAT: k = AST_T_FLOAT; break;
    case LEX_KW_DOUBLE: k = AST_T_DOUBLE; break;
    case LEX_KW_CHAR: k = AST_T_CHAR; break;
    case LEX_KW_WCHAR: k = AST_T_WCHAR; break;
    case LEX_KW_BOOLEAN: k = AST_T_BOOLEAN; break;
    case LEX_KW_OCTET: k = AST_T_OCTET; break;
    case LEX_KW_ANY: k = AST_T_ANY; break;
    case LEX_KW_OBJECT: k = AST_T_OBJECT; break;
    case LEX_KW_LONG:
        parse_advance(ps);
        if (parse_accept(ps, LEX_KW_LONG))
            return parse_new_type(ps, AST_T_LONGLONG, &at);
        if (parse_accept(ps, LEX_KW_DOUBLE))
            return parse_new_type(ps, AST_T_LONGDOUBLE, &at);
        return parse_new_type(ps, AST_T_LONG, &at);
    case LEX_KW_UNSIGNED:
        parse_advance(ps);
        if (parse_accept(ps, LEX_KW_SHORT))
            return parse_new_type(ps, AST_T_USHORT, &at);
        if (parse_accept(ps, LEX_KW_LONG)) {
            if (parse_accept(ps, LEX_KW_LONG))
                return parse_new_type(ps, AST_T_ULONGLONG, &at);
            return parse_new_type(ps, AST_T_ULONG, &at);
        }
        parse_error(ps, "expected 'short' or 'long' after 'unsigned', "
                        "found %s", parse_tok_desc(ps, &ps->tok));
        return NULL;
    default:
        return NULL;
    }
    parse_advance(ps);
    return parse_new_type(ps, k, &at);
}

/* positive_int_const -> const_exp, inside '<' '>' */
static ast_expr_t *parse_bound(parse_state_t *ps)
{
    return parse_const_exp(ps, true);
}

/* string_type -> 'string' [ '<' positive_int_const '>' ]
 * wide_string_type -> 'wstring' [ '<' positive_int_const '>' ] */
static ast_type_t *parse_string_type(parse_state_t *ps)
{
    ast_type_t *t = parse_new_type(ps, ps->tok.kind == LEX_KW_STRING
                                           ? AST_T_STRING : AST_T_WSTRING,
                                   &ps->tok);

    parse_advance(ps);
    if (parse_accept(ps, LEX_T_LT)) {
        t->u.string.bound_expr = parse_bound(ps);
        if (t->u.string.bound_expr == NULL ||
            !parse_close_angle(ps, "after the string bound"))
            return NULL;
    }
    return t;
}

/* sequence_type -> 'sequence' '<' simple_type_spec [ ',' positive_int_const ]
 *                  '>' */
static ast_type_t *parse_sequence_type(parse_state_t *ps)
{
    ast_type_t *t = parse_new_type(ps, AST_T_SEQUENCE, &ps->tok);

    parse_advance(ps);
    if (!parse_expect(ps, LEX_T_LT, "after 'sequence'"))
        return NULL;
    if (!parse_enter(ps))
        return NULL;
    t->u.seq.elem = parse_simple_type_spec(ps, "a sequence element type");
    parse_leave(ps);
    if (t->u.seq.elem == NULL)
        return NULL;
    if (parse_accept(ps, LEX_T_COMMA)) {
        t->u.seq.bound_expr = parse_bound(ps);
        if (t->u.seq.bound_expr == NULL)
            return NULL;
    }
    if (!parse_close_angle(ps, "to close the sequence"))
        return NULL;
    return t;
}

/* fixed_pt_type -> 'fixed' '<' positive_int_const ',' positive_int_const '>'
 * fixed_pt_const_type -> 'fixed' */
static ast_type_t *parse_fixed_type(parse_state_t *ps, bool bare_ok)
{
    ast_type_t *t = parse_new_type(ps, AST_T_FIXED, &ps->tok);

    parse_advance(ps);
    if (!parse_accept(ps, LEX_T_LT)) {
        if (bare_ok)
            return t;
        parse_error(ps, "expected '<' after 'fixed': only constants can "
                        "use 'fixed' without digits and scale");
        return NULL;
    }
    t->u.fixed.digits_expr = parse_bound(ps);
    if (t->u.fixed.digits_expr == NULL ||
        !parse_expect(ps, LEX_T_COMMA, "between the digits and the scale"))
        return NULL;
    t->u.fixed.scale_expr = parse_bound(ps);
    if (t->u.fixed.scale_expr == NULL ||
        !parse_close_angle(ps, "to close the fixed type"))
        return NULL;
    return t;
}

/* A named type: scoped_name */
static ast_type_t *parse_named_type(parse_state_t *ps)
{
    ast_type_t *t = parse_new_type(ps, AST_T_NAMED, &ps->tok);
    ast_sname_t *sn = parse_scoped_name(ps);

    if (sn == NULL)
        return NULL;
    t->u.named.sname = sn;
    t->u.named.spelling = sn->spelling;
    return t;
}

/* Error for the IDL 3 constructs refused wherever a type may appear. */
static bool parse_refuse_type_keyword(parse_state_t *ps)
{
    if (ps->tok.kind == LEX_KW_VALUEBASE) {
        parse_error(ps, "ValueBase is not supported: phx-idl does not "
                        "support valuetypes");
        return true;
    }
    return false;
}

/* simple_type_spec -> base_type_spec | template_type_spec | scoped_name
 * template_type_spec -> sequence_type | string_type | wide_string_type
 *                     | fixed_pt_type */
static ast_type_t *parse_simple_type_spec(parse_state_t *ps, const char *what)
{
    ast_type_t *t;

    switch (ps->tok.kind) {
    case LEX_KW_SEQUENCE:
        return parse_sequence_type(ps);
    case LEX_KW_STRING:
    case LEX_KW_WSTRING:
        return parse_string_type(ps);
    case LEX_KW_FIXED:
        return parse_fixed_type(ps, false);
    case LEX_T_IDENT:
    case LEX_T_SCOPE:
        return parse_named_type(ps);
    default:
        break;
    }
    t = parse_base_type_spec(ps);
    if (t != NULL)
        return t;
    if (ps->diag->errors > 0 && ps->err_line == ps->tok.line &&
        ps->err_file == ps->tok.file && ps->err_column == ps->tok.column)
        return NULL;
    if (!parse_refuse_type_keyword(ps)) {
        if (ps->tok.kind == LEX_KW_STRUCT || ps->tok.kind == LEX_KW_UNION ||
            ps->tok.kind == LEX_KW_ENUM)
            parse_error(ps, "a %s cannot be defined here (only in a "
                            "typedef, a member or at scope level)",
                        lex_tok_name(ps->tok.kind));
        else
            parse_expected(ps, what);
    }
    return NULL;
}

/* A NAMED type that refers to a declaration made on the spot. */
static ast_type_t *parse_type_for(parse_state_t *ps, ast_node_t *decl)
{
    ast_type_t *t = mem_zalloc(ps->arena, sizeof *t);
    ast_sname_t *sn = mem_zalloc(ps->arena, sizeof *sn);

    t->kind = AST_T_NAMED;
    t->file = decl->file;
    t->line = decl->line;
    t->column = decl->column;
    sn->parts = &decl->name;
    sn->n_parts = 1;
    sn->spelling = decl->name;
    sn->file = decl->file;
    sn->line = decl->line;
    sn->column = decl->column;
    t->u.named.sname = sn;
    t->u.named.spelling = decl->name;
    t->u.named.decl = decl;
    return t;
}

/* type_spec -> simple_type_spec | constr_type_spec
 * constr_type_spec -> struct_type | union_type | enum_type
 * (constr: whether a constructed type may be defined here) */
static ast_type_t *parse_type_spec(parse_state_t *ps, bool constr)
{
    ast_node_t *decl = NULL;
    bool ok;

    if (constr && (ps->tok.kind == LEX_KW_STRUCT ||
                   ps->tok.kind == LEX_KW_UNION ||
                   ps->tok.kind == LEX_KW_ENUM)) {
        if (!parse_enter(ps))
            return NULL;
        if (ps->tok.kind == LEX_KW_STRUCT)
            ok = parse_struct_type(ps, &decl);
        else if (ps->tok.kind == LEX_KW_UNION)
            ok = parse_union_type(ps, &decl);
        else
            ok = parse_enum_type(ps, &decl);
        parse_leave(ps);
        if (!ok)
            return NULL;
        if (decl->kind == AST_STRUCT_FWD || decl->kind == AST_UNION_FWD) {
            parse_error(ps, "expected '{' to define %s '%s' here",
                        decl->kind == AST_STRUCT_FWD ? "struct" : "union",
                        decl->name);
            return NULL;
        }
        return parse_type_for(ps, decl);
    }
    return parse_simple_type_spec(ps, "a type");
}

/* param_type_spec -> base_type_spec | string_type | wide_string_type
 *                  | scoped_name */
static ast_type_t *parse_param_type_spec(parse_state_t *ps, const char *what)
{
    if (ps->tok.kind == LEX_KW_STRUCT || ps->tok.kind == LEX_KW_UNION ||
        ps->tok.kind == LEX_KW_ENUM) {
        parse_error(ps, "a %s cannot be defined in %s; declare it "
                        "separately", lex_tok_name(ps->tok.kind), what);
        return NULL;
    }
    /* Anonymous sequence and fixed types are refused by sema. */
    return parse_simple_type_spec(ps, "a type");
}

/* fixed_array_size -> '[' positive_int_const ']'
 * array_declarator -> identifier fixed_array_size { fixed_array_size } */
static ast_type_t *parse_array_dims(parse_state_t *ps, ast_type_t *elem,
                                    const lex_token_t *at)
{
    ast_type_t *t;
    ast_expr_t **dims = NULL;
    size_t n = 0, cap = 0;

    if (!parse_is(ps, LEX_T_LBRACKET))
        return elem;
    t = parse_new_type(ps, AST_T_ARRAY, at);
    while (parse_accept(ps, LEX_T_LBRACKET)) {
        ast_expr_t *e = parse_const_exp(ps, false);
        if (e == NULL || !parse_expect(ps, LEX_T_RBRACKET,
                                       "to close the array dimension"))
            return NULL;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            dims = mem_grow(ps->arena, dims, n, nc, sizeof *dims);
            cap = nc;
        }
        dims[n++] = e;
    }
    t->u.array.elem = elem;
    t->u.array.dim_exprs = dims;
    t->u.array.n_dims = n;
    t->u.array.dims = mem_zalloc(ps->arena, n * sizeof *t->u.array.dims);
    return t;
}

/* ---------------------------------------------------------------------------
 * Declarations
 * ------------------------------------------------------------------------- */

/* declarators -> declarator { ',' declarator }
 * declarator -> simple_declarator | array_declarator
 * One node of kind k per declarator, each with its own type. */
static bool parse_declarators(parse_state_t *ps, ast_kind_t k,
                              ast_type_t *base)
{
    do {
        lex_token_t name;
        ast_type_t *t;
        ast_node_t *n;
        if (!parse_ident(ps, &name, "a declarator name"))
            return false;
        t = parse_array_dims(ps, base, &name);
        if (t == NULL)
            return false;
        n = parse_new_node(ps, k, &name);
        if (k == AST_TYPEDEF)
            n->u.tdef.type = t;
        else
            n->u.member.type = t;
    } while (parse_accept(ps, LEX_T_COMMA));
    return true;
}

/* member -> type_spec declarators ';'
 * member_list -> member { member }
 * Parses members up to the closing '}' (not consumed). */
static void parse_member_list(parse_state_t *ps)
{
    while (!parse_is(ps, LEX_T_RBRACE) && !parse_is(ps, LEX_T_EOF)) {
        ast_type_t *t = parse_type_spec(ps, true);
        if (t == NULL || !parse_declarators(ps, AST_MEMBER, t) ||
            !parse_expect(ps, LEX_T_SEMI, "after the member")) {
            parse_recover(ps);
            continue;
        }
    }
}

/* Error for a scope that ended at EOF instead of '}'. */
static bool parse_close_brace(parse_state_t *ps, const ast_node_t *n)
{
    if (parse_accept(ps, LEX_T_RBRACE))
        return true;
    parse_error(ps, "expected '}' to close %s '%s', found %s",
                ast_kind_name(n->kind), n->name,
                parse_tok_desc(ps, &ps->tok));
    return false;
}

/* struct_type -> 'struct' identifier '{' member_list '}'
 * constr_forward_decl -> 'struct' identifier */
static bool parse_struct_type(parse_state_t *ps, ast_node_t **out)
{
    lex_token_t name;
    ast_node_t *n;
    parse_saved_t saved;

    parse_advance(ps);
    if (!parse_ident(ps, &name, "a struct name"))
        return false;
    if (!parse_is(ps, LEX_T_LBRACE)) {
        *out = parse_new_node(ps, AST_STRUCT_FWD, &name);
        return true;
    }
    n = parse_new_node(ps, AST_STRUCT, &name);
    saved = parse_open_scope(ps, n);
    parse_advance(ps);
    *out = n;
    parse_member_list(ps);
    parse_close_scope(ps, saved);
    return parse_close_brace(ps, n);
}

/* switch_type_spec -> integer_type | char_type | wide_char_type
 *                   | boolean_type | octet_type | enum_type | scoped_name */
static ast_type_t *parse_switch_type_spec(parse_state_t *ps)
{

    if (ps->tok.kind == LEX_KW_ENUM) {
        ast_node_t *decl = NULL;
        if (!parse_enum_type(ps, &decl))
            return NULL;
        return parse_type_for(ps, decl);
    }
    /* sema checks that the type can discriminate. */
    return parse_simple_type_spec(ps, "a discriminator type");
}

/* case -> case_label { case_label } element_spec ';'
 * case_label -> 'case' const_exp ':' | 'default' ':'
 * element_spec -> type_spec declarator */
static bool parse_case(parse_state_t *ps)
{
    ast_label_t *labels = NULL;
    size_t n = 0, cap = 0;
    ast_type_t *t;
    lex_token_t name;
    ast_node_t *c;

    if (!parse_is(ps, LEX_KW_CASE) && !parse_is(ps, LEX_KW_DEFAULT)) {
        parse_expected(ps, "'case' or 'default'");
        return false;
    }
    while (parse_is(ps, LEX_KW_CASE) || parse_is(ps, LEX_KW_DEFAULT)) {
        ast_label_t *l;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            labels = mem_grow(ps->arena, labels, n, nc, sizeof *labels);
            cap = nc;
        }
        l = &labels[n++];
        memset(l, 0, sizeof *l);
        l->file = ps->tok.file;
        l->line = ps->tok.line;
        l->column = ps->tok.column;
        if (parse_accept(ps, LEX_KW_DEFAULT)) {
            l->is_default = true;
        } else {
            parse_advance(ps);
            l->expr = parse_const_exp(ps, false);
            if (l->expr == NULL)
                return false;
        }
        if (!parse_expect(ps, LEX_T_COLON, "after the case label"))
            return false;
    }
    t = parse_type_spec(ps, true);
    if (t == NULL || !parse_ident(ps, &name, "a union member name"))
        return false;
    t = parse_array_dims(ps, t, &name);
    if (t == NULL)
        return false;
    c = parse_new_node(ps, AST_UNION_CASE, &name);
    c->u.ucase.labels = labels;
    c->u.ucase.n_labels = n;
    c->u.ucase.type = t;
    return parse_expect(ps, LEX_T_SEMI, "after the union member");
}

/* union_type -> 'union' identifier 'switch' '(' switch_type_spec ')'
 *               '{' switch_body '}'
 * switch_body -> case { case }
 * constr_forward_decl -> 'union' identifier */
static bool parse_union_type(parse_state_t *ps, ast_node_t **out)
{
    lex_token_t name;
    ast_node_t *n;
    ast_type_t *disc;
    parse_saved_t saved;

    parse_advance(ps);
    if (!parse_ident(ps, &name, "a union name"))
        return false;
    if (!parse_is(ps, LEX_KW_SWITCH)) {
        if (parse_is(ps, LEX_T_LBRACE)) {
            parse_error(ps, "expected 'switch' after the union name");
            return false;
        }
        *out = parse_new_node(ps, AST_UNION_FWD, &name);
        return true;
    }
    parse_advance(ps);
    if (!parse_expect(ps, LEX_T_LPAREN, "after 'switch'"))
        return false;
    /* The node comes after an enum defined in the switch. */
    disc = parse_switch_type_spec(ps);
    if (disc == NULL || !parse_expect(ps, LEX_T_RPAREN,
                                      "after the discriminator type"))
        return false;
    if (!parse_is(ps, LEX_T_LBRACE)) {
        parse_expect(ps, LEX_T_LBRACE, "to open the union body");
        return false;
    }
    n = parse_new_node(ps, AST_UNION, &name);
    saved = parse_open_scope(ps, n);
    parse_advance(ps);
    n->u.uni.disc_type = disc;
    *out = n;
    while (!parse_is(ps, LEX_T_RBRACE) && !parse_is(ps, LEX_T_EOF)) {
        if (!parse_case(ps))
            parse_recover(ps);
    }
    parse_close_scope(ps, saved);
    return parse_close_brace(ps, n);
}

/* enum_type -> 'enum' identifier '{' enumerator { ',' enumerator } '}' */
static bool parse_enum_type(parse_state_t *ps, ast_node_t **out)
{
    lex_token_t name;
    ast_node_t *n, *scope = ps->scope;
    uint32_t ord = 0;

    parse_advance(ps);
    if (!parse_ident(ps, &name, "an enum name"))
        return false;
    if (!parse_is(ps, LEX_T_LBRACE)) {
        parse_expect(ps, LEX_T_LBRACE, "to open the enum body");
        return false;
    }
    n = parse_new_node(ps, AST_ENUM, &name);
    parse_advance(ps);
    *out = n;
    do {
        lex_token_t en;
        ast_node_t *e;
        if (!parse_ident(ps, &en, "an enumerator")) {
            /* An enum body holds no braces: resynchronise at its end. */
            while (!parse_is(ps, LEX_T_RBRACE) && !parse_is(ps, LEX_T_SEMI) &&
                   !parse_is(ps, LEX_T_EOF))
                parse_advance(ps);
            return parse_accept(ps, LEX_T_RBRACE);
        }
        /* Enumerators are listed in the enum; their names belong to the
           enclosing scope. */
        ps->scope = n;
        e = parse_new_node(ps, AST_ENUMERATOR, &en);
        ps->scope = scope;
        parse_set_names(ps, e, scope);
        e->u.enumerator.ordinal = ord++;
        e->u.enumerator.enm = n;
    } while (parse_accept(ps, LEX_T_COMMA));
    n->u.enm.count = ord;
    return parse_close_brace(ps, n);
}

/* type_dcl -> 'typedef' type_declarator | struct_type | union_type
 *           | enum_type | 'native' simple_declarator | constr_forward_decl
 * type_declarator -> type_spec declarators */
static bool parse_type_dcl(parse_state_t *ps)
{
    ast_node_t *decl;
    ast_type_t *t;
    lex_token_t name;

    switch (ps->tok.kind) {
    case LEX_KW_TYPEDEF:
        parse_advance(ps);
        t = parse_type_spec(ps, true);
        if (t == NULL)
            return false;
        return parse_declarators(ps, AST_TYPEDEF, t);
    case LEX_KW_STRUCT:
        return parse_struct_type(ps, &decl);
    case LEX_KW_UNION:
        return parse_union_type(ps, &decl);
    case LEX_KW_ENUM:
        return parse_enum_type(ps, &decl);
    case LEX_KW_NATIVE:
        parse_advance(ps);
        if (!parse_ident(ps, &name, "a native type name"))
            return false;
        parse_new_node(ps, AST_NATIVE, &name);
        return true;
    default:
        parse_expected(ps, "a type declaration");
        return false;
    }
}

/* const_dcl -> 'const' const_type identifier '=' const_exp
 * const_type -> integer_type | char_type | wide_char_type | boolean_type
 *             | floating_pt_type | string_type | wide_string_type
 *             | fixed_pt_const_type | scoped_name | octet_type */
static bool parse_const_dcl(parse_state_t *ps)
{
    lex_token_t name;
    ast_type_t *t;
    ast_node_t *n;
    ast_expr_t *e;

    parse_advance(ps);
    if (ps->tok.kind == LEX_KW_FIXED)
        t = parse_fixed_type(ps, true);
    else
        t = parse_simple_type_spec(ps, "a constant type");
    if (t == NULL)
        return false;
    if (!parse_ident(ps, &name, "a constant name"))
        return false;
    if (!parse_expect(ps, LEX_T_EQ, "after the constant name"))
        return false;
    e = parse_const_exp(ps, false);
    if (e == NULL)
        return false;
    n = parse_new_node(ps, AST_CONST, &name);
    n->u.constant.type = t;
    n->u.constant.expr = e;
    return true;
}

/* except_dcl -> 'exception' identifier '{' { member } '}' */
static bool parse_except_dcl(parse_state_t *ps)
{
    lex_token_t name;
    ast_node_t *n;
    parse_saved_t saved;

    parse_advance(ps);
    if (!parse_ident(ps, &name, "an exception name"))
        return false;
    if (!parse_is(ps, LEX_T_LBRACE)) {
        parse_expect(ps, LEX_T_LBRACE, "to open the exception body");
        return false;
    }
    n = parse_new_node(ps, AST_EXCEPTION, &name);
    saved = parse_open_scope(ps, n);
    parse_advance(ps);
    parse_member_list(ps);
    parse_close_scope(ps, saved);
    return parse_close_brace(ps, n);
}

/* A list of exception names: '(' scoped_name { ',' scoped_name } ')' */
static bool parse_exception_list(parse_state_t *ps, ast_refs_t *refs)
{
    size_t cap = 0;

    if (!parse_expect(ps, LEX_T_LPAREN, "before the exception list"))
        return false;
    do {
        ast_sname_t *sn = parse_scoped_name(ps);
        if (sn == NULL)
            return false;
        if (refs->count == cap) {
            size_t nc = cap ? cap * 2 : 4;
            refs->names = mem_grow(ps->arena, refs->names, refs->count, nc,
                                   sizeof *refs->names);
            refs->items = mem_grow(ps->arena, refs->items, refs->count, nc,
                                   sizeof *refs->items);
            cap = nc;
        }
        refs->names[refs->count] = *sn;
        refs->items[refs->count] = NULL;
        refs->count++;
    } while (parse_accept(ps, LEX_T_COMMA));
    return parse_expect(ps, LEX_T_RPAREN, "after the exception list");
}

/* attr_dcl -> readonly_attr_spec | attr_spec
 * readonly_attr_spec -> 'readonly' 'attribute' param_type_spec
 *                       readonly_attr_declarator
 * readonly_attr_declarator -> simple_declarator raises_expr
 *                           | simple_declarator { ',' simple_declarator }
 * attr_spec -> 'attribute' param_type_spec attr_declarator
 * attr_declarator -> simple_declarator attr_raises_expr
 *                  | simple_declarator { ',' simple_declarator }
 * attr_raises_expr -> get_excep_expr [ set_excep_expr ] | set_excep_expr */
static bool parse_attr_dcl(parse_state_t *ps)
{
    bool readonly = parse_accept(ps, LEX_KW_READONLY);
    ast_type_t *t;
    size_t count = 0;

    if (!parse_expect(ps, LEX_KW_ATTRIBUTE,
                      readonly ? "after 'readonly'" : NULL))
        return false;
    t = parse_param_type_spec(ps, "an attribute");
    if (t == NULL)
        return false;
    do {
        lex_token_t name;
        ast_node_t *n;
        bool raised = false;
        if (!parse_ident(ps, &name, "an attribute name"))
            return false;
        n = parse_new_node(ps, AST_ATTRIBUTE, &name);
        n->u.attr.readonly = readonly;
        n->u.attr.type = t;
        count++;
        if (readonly && parse_is(ps, LEX_KW_RAISES)) {
            raised = true;
            parse_advance(ps);
            if (!parse_exception_list(ps, &n->u.attr.get_raises))
                return false;
        } else if (!readonly && (parse_is(ps, LEX_KW_GETRAISES) ||
                                 parse_is(ps, LEX_KW_SETRAISES))) {
            raised = true;
            if (parse_accept(ps, LEX_KW_GETRAISES) &&
                !parse_exception_list(ps, &n->u.attr.get_raises))
                return false;
            if (parse_accept(ps, LEX_KW_SETRAISES) &&
                !parse_exception_list(ps, &n->u.attr.set_raises))
                return false;
        }
        if (parse_is(ps, LEX_KW_RAISES) || parse_is(ps, LEX_KW_GETRAISES) ||
            parse_is(ps, LEX_KW_SETRAISES)) {
            if (readonly && !parse_is(ps, LEX_KW_RAISES))
                parse_error(ps, "a readonly attribute takes 'raises', not "
                                "%s", lex_tok_name(ps->tok.kind));
            else if (!readonly && parse_is(ps, LEX_KW_RAISES))
                parse_error(ps, "an attribute takes 'getraises' and "
                                "'setraises', not 'raises'");
            else
                parse_error(ps, "%s is out of place: write getraises "
                                "before setraises, once each",
                            lex_tok_name(ps->tok.kind));
            return false;
        }
        if (raised && (count > 1 || parse_is(ps, LEX_T_COMMA)))
            diag_error(ps->diag, name.file, name.line, name.column,
                       "an exception list is only allowed on an attribute "
                       "declared alone");
    } while (parse_accept(ps, LEX_T_COMMA));
    return true;
}

/* op_dcl -> [ 'oneway' ] op_type_spec identifier parameter_dcls
 *           [ raises_expr ] [ context_expr ]
 * op_type_spec -> param_type_spec | 'void'
 * parameter_dcls -> '(' [ param_dcl { ',' param_dcl } ] ')'
 * param_dcl -> param_attribute param_type_spec simple_declarator
 * param_attribute -> 'in' | 'out' | 'inout'
 * raises_expr -> 'raises' '(' scoped_name { ',' scoped_name } ')'
 * context_expr -> 'context' '(' string_literal { ',' string_literal } ')' */
static bool parse_op_dcl(parse_state_t *ps)
{
    lex_token_t name;
    bool oneway = parse_accept(ps, LEX_KW_ONEWAY);
    ast_type_t *ret;
    ast_node_t *op;
    parse_saved_t saved;

    if (parse_is(ps, LEX_KW_VOID)) {
        ret = parse_new_type(ps, AST_T_VOID, &ps->tok);
        parse_advance(ps);
    } else {
        ret = parse_param_type_spec(ps, "an operation result");
        if (ret == NULL)
            return false;
    }
    if (!parse_ident(ps, &name, "an operation name"))
        return false;
    if (!parse_is(ps, LEX_T_LPAREN)) {
        parse_error(ps, "expected '(' after the operation name '%s', "
                        "found %s", name.name, parse_tok_desc(ps, &ps->tok));
        return false;
    }
    op = parse_new_node(ps, AST_OPERATION, &name);
    saved = parse_open_scope(ps, op);
    parse_advance(ps);
    op->u.op.oneway = oneway;
    op->u.op.ret = ret;
    if (!parse_is(ps, LEX_T_RPAREN)) {
        do {
            ast_param_mode_t mode;
            ast_type_t *t;
            lex_token_t pname;
            ast_node_t *p;
            switch (ps->tok.kind) {
            case LEX_KW_IN: mode = AST_PARAM_IN; break;
            case LEX_KW_OUT: mode = AST_PARAM_OUT; break;
            case LEX_KW_INOUT: mode = AST_PARAM_INOUT; break;
            default:
                parse_error(ps, "expected a parameter direction ('in', "
                                "'out' or 'inout'), found %s",
                            parse_tok_desc(ps, &ps->tok));
                parse_close_scope(ps, saved);
                return false;
            }
            parse_advance(ps);
            t = parse_param_type_spec(ps, "a parameter");
            if (t == NULL || !parse_ident(ps, &pname, "a parameter name")) {
                parse_close_scope(ps, saved);
                return false;
            }
            p = parse_new_node(ps, AST_PARAM, &pname);
            p->u.param.mode = mode;
            p->u.param.type = t;
        } while (parse_accept(ps, LEX_T_COMMA));
    }
    parse_close_scope(ps, saved);
    if (!parse_expect(ps, LEX_T_RPAREN, "after the parameters"))
        return false;
    if (parse_accept(ps, LEX_KW_RAISES)) {
        if (!parse_exception_list(ps, &op->u.op.raises))
            return false;
    }
    if (parse_accept(ps, LEX_KW_CONTEXT)) {
        size_t cap = 0;
        if (!parse_expect(ps, LEX_T_LPAREN, "after 'context'"))
            return false;
        do {
            if (!parse_is(ps, LEX_T_STRING)) {
                parse_expected(ps, "a string literal in the context list");
                return false;
            }
            if (op->u.op.n_contexts == cap) {
                size_t nc = cap ? cap * 2 : 4;
                op->u.op.contexts = mem_grow(ps->arena, op->u.op.contexts,
                                             op->u.op.n_contexts, nc,
                                             sizeof *op->u.op.contexts);
                cap = nc;
            }
            op->u.op.contexts[op->u.op.n_contexts++] = ps->tok.str;
            parse_advance(ps);
        } while (parse_accept(ps, LEX_T_COMMA));
        if (!parse_expect(ps, LEX_T_RPAREN, "after the context list"))
            return false;
    }
    return true;
}

/* Refuse an unsupported IDL 3 construct with one error and skip it:
 * up to the ';' that ends it, across any braces. */
static void parse_unsupported(parse_state_t *ps, const char *what)
{
    unsigned depth = 0;
    const char *hint = strchr(what, '(');

    if (hint != NULL)
        parse_error(ps, "%.*s not supported by phx-idl %s",
                    (int)(hint - what - 1), what, hint);
    else
        parse_error(ps, "%s not supported by phx-idl", what);
    for (;;) {
        switch (ps->tok.kind) {
        case LEX_T_EOF:
            return;
        case LEX_T_LBRACE:
            depth++;
            break;
        case LEX_T_RBRACE:
            if (depth == 0)
                return;
            depth--;
            break;
        case LEX_T_SEMI:
            if (depth == 0) {
                parse_advance(ps);
                return;
            }
            break;
        default:
            break;
        }
        parse_advance(ps);
    }
}

/* The message for a construct the current token starts, or NULL. */
static const char *parse_unsupported_what(parse_state_t *ps)
{
    switch (ps->tok.kind) {
    case LEX_KW_VALUETYPE:
        return "valuetypes are";
    case LEX_KW_CUSTOM:
        return parse_peek(ps)->kind == LEX_KW_EVENTTYPE
                   ? "eventtypes are" : "valuetypes are";
    case LEX_KW_EVENTTYPE:
        return "eventtypes are";
    case LEX_KW_COMPONENT:
        return "components are";
    case LEX_KW_HOME:
        return "homes are";
    case LEX_KW_TYPEID:
        return "'typeid' declarations are (use #pragma ID)";
    case LEX_KW_TYPEPREFIX:
        return "'typeprefix' declarations are (use #pragma prefix)";
    case LEX_KW_IMPORT:
        return "'import' declarations are (use #include)";
    case LEX_KW_FACTORY:
    case LEX_KW_FINDER:
        return "factory and finder declarations are";
    case LEX_KW_ABSTRACT:
        if (parse_peek(ps)->kind == LEX_KW_VALUETYPE)
            return "valuetypes are";
        if (parse_peek(ps)->kind == LEX_KW_EVENTTYPE)
            return "eventtypes are";
        return NULL;
    default:
        return NULL;
    }
}

/* export -> type_dcl ';' | const_dcl ';' | except_dcl ';' | attr_dcl ';'
 *         | op_dcl ';' */
static bool parse_export(parse_state_t *ps)
{
    const char *what;
    bool ok;

    what = parse_unsupported_what(ps);
    if (what != NULL) {
        parse_unsupported(ps, what);
        return true;
    }
    switch (ps->tok.kind) {
    case LEX_KW_TYPEDEF: case LEX_KW_STRUCT: case LEX_KW_UNION:
    case LEX_KW_ENUM: case LEX_KW_NATIVE:
        ok = parse_type_dcl(ps);
        break;
    case LEX_KW_CONST:
        ok = parse_const_dcl(ps);
        break;
    case LEX_KW_EXCEPTION:
        ok = parse_except_dcl(ps);
        break;
    case LEX_KW_READONLY: case LEX_KW_ATTRIBUTE:
        ok = parse_attr_dcl(ps);
        break;
    case LEX_KW_MODULE:
        parse_error(ps, "a module cannot be declared inside an interface");
        return false;
    case LEX_KW_INTERFACE: case LEX_KW_LOCAL: case LEX_KW_ABSTRACT:
        parse_error(ps, "an interface cannot be declared inside an "
                        "interface");
        return false;
    case LEX_KW_ONEWAY: case LEX_KW_VOID: case LEX_T_IDENT: case LEX_T_SCOPE:
    case LEX_KW_SHORT: case LEX_KW_LONG: case LEX_KW_UNSIGNED:
    case LEX_KW_FLOAT: case LEX_KW_DOUBLE: case LEX_KW_CHAR:
    case LEX_KW_WCHAR: case LEX_KW_BOOLEAN: case LEX_KW_OCTET:
    case LEX_KW_ANY: case LEX_KW_OBJECT: case LEX_KW_STRING:
    case LEX_KW_WSTRING: case LEX_KW_SEQUENCE: case LEX_KW_FIXED:
    case LEX_KW_VALUEBASE:
        ok = parse_op_dcl(ps);
        break;
    default:
        parse_error(ps, "expected an operation, an attribute or a "
                        "declaration in the interface, found %s",
                    parse_tok_desc(ps, &ps->tok));
        return false;
    }
    if (!ok)
        return false;
    return parse_expect(ps, LEX_T_SEMI, "at the end of the declaration");
}

/* interface -> interface_dcl | forward_dcl
 * forward_dcl -> [ 'abstract' | 'local' ] 'interface' identifier
 * interface_dcl -> interface_header '{' interface_body '}'
 * interface_header -> [ 'abstract' | 'local' ] 'interface' identifier
 *                     [ interface_inheritance_spec ]
 * interface_inheritance_spec -> ':' interface_name { ',' interface_name }
 * interface_body -> { export } */
static bool parse_interface(parse_state_t *ps)
{
    bool is_abstract = false, is_local = false;
    lex_token_t name;
    ast_node_t *n;
    parse_saved_t saved;
    ast_refs_t bases = { NULL, NULL, 0 };

    if (parse_accept(ps, LEX_KW_ABSTRACT))
        is_abstract = true;
    else if (parse_accept(ps, LEX_KW_LOCAL))
        is_local = true;
    if (!parse_expect(ps, LEX_KW_INTERFACE,
                      is_abstract ? "after 'abstract'"
                                  : is_local ? "after 'local'" : NULL))
        return false;
    if (!parse_ident(ps, &name, "an interface name"))
        return false;
    if (parse_is(ps, LEX_T_SEMI)) {
        n = parse_new_node(ps, AST_INTERFACE_FWD, &name);
        n->u.fwd.is_abstract = is_abstract;
        n->u.fwd.is_local = is_local;
        return true;
    }
    if (parse_accept(ps, LEX_T_COLON)) {
        size_t cap = 0;
        do {
            ast_sname_t *sn = parse_scoped_name(ps);
            if (sn == NULL)
                return false;
            if (bases.count == cap) {
                size_t nc = cap ? cap * 2 : 4;
                bases.names = mem_grow(ps->arena, bases.names, bases.count,
                                       nc, sizeof *bases.names);
                bases.items = mem_grow(ps->arena, bases.items, bases.count,
                                       nc, sizeof *bases.items);
                cap = nc;
            }
            bases.names[bases.count] = *sn;
            bases.items[bases.count] = NULL;
            bases.count++;
        } while (parse_accept(ps, LEX_T_COMMA));
    }
    if (!parse_is(ps, LEX_T_LBRACE)) {
        parse_expect(ps, LEX_T_LBRACE, "to open the interface body");
        return false;
    }
    n = parse_new_node(ps, AST_INTERFACE, &name);
    saved = parse_open_scope(ps, n);
    parse_advance(ps);
    n->u.iface.is_abstract = is_abstract;
    n->u.iface.is_local = is_local;
    n->u.iface.bases = bases;
    while (!parse_is(ps, LEX_T_RBRACE) && !parse_is(ps, LEX_T_EOF)) {
        if (!parse_enter(ps))
            break;
        if (!parse_export(ps))
            parse_recover(ps);
        parse_leave(ps);
    }
    parse_close_scope(ps, saved);
    return parse_close_brace(ps, n);
}

/* module -> 'module' identifier '{' definition { definition } '}' */
static bool parse_module(parse_state_t *ps)
{
    lex_token_t name;
    ast_node_t *n;
    parse_saved_t saved;
    bool ok = true;

    parse_advance(ps);
    if (!parse_ident(ps, &name, "a module name"))
        return false;
    if (!parse_is(ps, LEX_T_LBRACE)) {
        parse_expect(ps, LEX_T_LBRACE, "after the module name");
        return false;
    }
    /* The node exists before the '{' is passed: a #pragma right after it
       belongs to the module's contents. */
    n = parse_new_node(ps, AST_MODULE, &name);
    saved = parse_open_scope(ps, n);
    parse_advance(ps);
    if (parse_enter(ps)) {
        while (!parse_is(ps, LEX_T_RBRACE) && !parse_is(ps, LEX_T_EOF)) {
            if (!parse_definition(ps))
                parse_recover(ps);
        }
        parse_leave(ps);
    } else {
        ok = false;
    }
    parse_close_scope(ps, saved);
    if (!ok)
        return false;
    return parse_close_brace(ps, n);
}

/* definition -> type_dcl ';' | const_dcl ';' | except_dcl ';'
 *             | interface ';' | module ';'
 *             | value ';' | type_id_dcl ';' | type_prefix_dcl ';'
 *             | event ';' | component ';' | home_dcl ';'   (refused)
 * Returns false after a syntax error (the caller recovers). */
static bool parse_definition(parse_state_t *ps)
{
    const char *what = parse_unsupported_what(ps);
    bool ok;

    if (what != NULL) {
        parse_unsupported(ps, what);
        return true;
    }
    switch (ps->tok.kind) {
    case LEX_KW_MODULE:
        ok = parse_module(ps);
        break;
    case LEX_KW_INTERFACE: case LEX_KW_ABSTRACT: case LEX_KW_LOCAL:
        ok = parse_interface(ps);
        break;
    case LEX_KW_TYPEDEF: case LEX_KW_STRUCT: case LEX_KW_UNION:
    case LEX_KW_ENUM: case LEX_KW_NATIVE:
        ok = parse_type_dcl(ps);
        break;
    case LEX_KW_CONST:
        ok = parse_const_dcl(ps);
        break;
    case LEX_KW_EXCEPTION:
        ok = parse_except_dcl(ps);
        break;
    case LEX_T_RBRACE:
        parse_error(ps, "unexpected '}' with no scope to close");
        parse_advance(ps);
        parse_accept(ps, LEX_T_SEMI);
        return true;
    case LEX_KW_ATTRIBUTE: case LEX_KW_READONLY: case LEX_KW_ONEWAY:
        parse_error(ps, "%s is only allowed inside an interface",
                    parse_tok_desc(ps, &ps->tok));
        return false;
    default:
        parse_error(ps, "expected a definition (module, interface, "
                        "struct, union, enum, typedef, const, exception "
                        "or native), found %s",
                    parse_tok_desc(ps, &ps->tok));
        return false;
    }
    if (!ok)
        return false;
    return parse_expect(ps, LEX_T_SEMI, "at the end of the definition");
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

void parse_init(parse_state_t *ps, pp_state_t *pp, ast_root_t *root,
                intern_t *names, diag_t *d)
{
    memset(ps, 0, sizeof *ps);
    ps->pp = pp;
    ps->arena = &root->arena;
    ps->names = names;
    ps->diag = d;
    ps->root = root;
    ps->scope = root->node;
    ps->prefix = "";
}

/* specification -> { definition } */
void parse_specification(parse_state_t *ps)
{
    parse_advance(ps);
    while (!parse_is(ps, LEX_T_EOF)) {
        if (!parse_definition(ps)) {
            parse_recover(ps);
            /* A '}' with nothing open: skip it. */
            if (parse_is(ps, LEX_T_RBRACE)) {
                parse_advance(ps);
                parse_accept(ps, LEX_T_SEMI);
            }
        }
    }
}
