/*
 * pp.c - the preprocessor of phx-idl (see pp.h): directives, conditional
 * groups, includes and macro expansion over the lexer's tokens.
 *
 * Macro expansion follows the C model: a macro is disabled while the
 * tokens of its expansion are rescanned (a name met then is painted
 * "noexpand" for good); arguments are fully expanded before substitution
 * except next to # and ##.  Expansion contexts form a stack; a "barrier"
 * context ends a token list that is expanded on its own (a macro argument,
 * the expression of an #if) by reading as end of file.
 */
#include "compiler/pp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct pp_macro {
    const char *name;           /* interned spelling */
    bool defined;
    bool function_like;
    bool disabled;              /* being expanded */
    const char **params;
    size_t n_params;
    lex_token_t *body;
    size_t n_body;
    const char *file;
    uint32_t line, column;
};

struct pp_file {
    lex_state_t lex;
    lex_token_t la;             /* one token of lookahead */
    bool has_la;
    pp_file_t *up;              /* the including file */
    size_t cond_base;           /* n_conds when the file was entered */
};

struct pp_context {
    lex_token_t *toks;
    size_t n, i;
    pp_macro_t *macro;          /* re-enabled when the context ends */
    bool barrier;               /* reads as EOF when done; popped by hand */
    unsigned cls;               /* toks came from the pool (class), and go
                                   back to it when the context ends */
};

struct pp_cond {
    const char *file;
    uint32_t line, column;
    const char *what;           /* "#if", "#ifdef", "#ifndef" */
    bool taken;                 /* one of its groups was (is) taken */
    bool seen_else;
};

/* A growable token list from the pool (cls: its size class, 0 if none). */
typedef struct pp_toks {
    lex_token_t *v;
    size_t n, cap;
    unsigned cls;
} pp_toks_t;

/* Caps on macro expansion per compilation: recursion cannot run away,
 * but macros that double their input grow exponentially.  Expansion
 * stops with an error past PP_MAX_EXPANSIONS macro uses, past
 * PP_MAX_EXPANDED_TOKENS tokens produced in all (time), or when the
 * token lists alive at once exceed PP_MAX_LIVE_BYTES (memory). */
#define PP_MAX_EXPANSIONS 1000000u
#define PP_MAX_EXPANDED_TOKENS 1000000u
#define PP_MAX_LIVE_BYTES ((size_t)32 << 20)
/* Deepest nesting of macro uses inside macro arguments. */
#define PP_MAX_ARG_DEPTH 100
/* Deepest nesting of an #if expression. */
#define PP_MAX_EXPR_DEPTH 200

static void pp_expand_next(pp_state_t *pp, lex_token_t *t);

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

/* Report that expansion went past its caps (once). */
static void pp_too_large(pp_state_t *pp, const lex_token_t *at)
{
    if (!pp->expansion_reported)
        diag_error(pp->diag, at->file, at->line, at->column,
                   "macro expansion grows too large (more than %u macro "
                   "uses, %u tokens, or %zu MB of tokens at once)",
                   PP_MAX_EXPANSIONS, PP_MAX_EXPANDED_TOKENS,
                   PP_MAX_LIVE_BYTES >> 20);
    pp->expansion_reported = true;
}

/* The pool: blocks of 2^cls bytes from the arena, given back after use
 * and reused, so that the memory of expansion stays proportional to
 * what is alive at once, not to everything ever expanded. */
#define PP_POOL_MIN_CLASS 6

static unsigned pp_pool_class(size_t bytes)
{
    unsigned c = PP_POOL_MIN_CLASS;

    while (c < 8 * sizeof(size_t) - 2 && ((size_t)1 << c) < bytes)
        c++;
    return c;
}

static void *pp_pool_get(pp_state_t *pp, size_t bytes, unsigned *cls)
{
    unsigned c = pp_pool_class(bytes);
    void *p;

    if (c >= sizeof pp->pool / sizeof pp->pool[0])
        mem_oom(pp->arena);
    p = pp->pool[c];
    if (p != NULL)
        memcpy(&pp->pool[c], p, sizeof(void *));
    else
        p = mem_alloc(pp->arena, (size_t)1 << c);
    pp->live_bytes += (size_t)1 << c;
    *cls = c;
    return p;
}

static void pp_pool_put(pp_state_t *pp, void *p, unsigned cls)
{
    if (p == NULL || cls == 0)
        return;
    memcpy(p, &pp->pool[cls], sizeof(void *));
    pp->pool[cls] = p;
    pp->live_bytes -= (size_t)1 << cls;
}

static void pp_toks_free(pp_state_t *pp, pp_toks_t *l)
{
    pp_pool_put(pp, l->v, l->cls);
    l->v = NULL;
    l->n = l->cap = 0;
    l->cls = 0;
}

/* Append a token to a list.  Past the caps nothing is added any more
 * (the error is reported once): macros that double their arguments end
 * with an error instead of exhausting the machine. */
static void pp_toks_add(pp_state_t *pp, pp_toks_t *l, const lex_token_t *t)
{
    if (++pp->expanded_tokens > PP_MAX_EXPANDED_TOKENS ||
        pp->live_bytes > PP_MAX_LIVE_BYTES) {
        pp_too_large(pp, t);
        return;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        unsigned cls;
        lex_token_t *nv = pp_pool_get(pp, ncap * sizeof *nv, &cls);
        ncap = ((size_t)1 << cls) / sizeof *nv;
        if (l->n > 0)
            memcpy(nv, l->v, l->n * sizeof *nv);
        pp_pool_put(pp, l->v, l->cls);
        l->v = nv;
        l->cap = ncap;
        l->cls = cls;
    }
    l->v[l->n++] = *t;
}

static bool pp_is_ident(const lex_token_t *t, const char *s)
{
    return t->kind == LEX_T_IDENT && strcmp(t->spell, s) == 0;
}

static void pp_eof_token(lex_token_t *t, const char *file)
{
    memset(t, 0, sizeof *t);
    t->kind = LEX_T_EOF;
    t->file = file;
    t->text = "";
}

/* ---------------------------------------------------------------------------
 * Macro table (open addressing on the interned name pointer)
 * ------------------------------------------------------------------------- */

static size_t pp_macro_slot(const pp_state_t *pp, const char *name)
{
    uintptr_t h = (uintptr_t)name;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (pp->macro_cap - 1);
}

static pp_macro_t *pp_macro_find(pp_state_t *pp, const char *name)
{
    size_t j;

    if (pp->macro_cap == 0)
        return NULL;
    j = pp_macro_slot(pp, name);
    while (pp->macros[j] != NULL) {
        if (pp->macros[j]->name == name)
            return pp->macros[j]->defined ? pp->macros[j] : NULL;
        j = (j + 1) & (pp->macro_cap - 1);
    }
    return NULL;
}

/* The table entry for name, created (undefined) when missing. */
static pp_macro_t *pp_macro_entry(pp_state_t *pp, const char *name)
{
    size_t j;
    pp_macro_t *m;

    if ((pp->macro_used + 1) * 2 > pp->macro_cap) {
        size_t ncap = pp->macro_cap ? pp->macro_cap * 2 : 64, i;
        pp_macro_t **old = pp->macros;
        size_t ocap = pp->macro_cap;
        pp->macros = mem_zalloc(pp->arena, ncap * sizeof *pp->macros);
        pp->macro_cap = ncap;
        for (i = 0; i < ocap; i++) {
            if (old[i] == NULL)
                continue;
            j = pp_macro_slot(pp, old[i]->name);
            while (pp->macros[j] != NULL)
                j = (j + 1) & (ncap - 1);
            pp->macros[j] = old[i];
        }
    }
    j = pp_macro_slot(pp, name);
    while (pp->macros[j] != NULL) {
        if (pp->macros[j]->name == name)
            return pp->macros[j];
        j = (j + 1) & (pp->macro_cap - 1);
    }
    m = mem_zalloc(pp->arena, sizeof *m);
    m->name = name;
    pp->macros[j] = m;
    pp->macro_used++;
    return m;
}

/* ---------------------------------------------------------------------------
 * Reading a file's tokens line by line
 * ------------------------------------------------------------------------- */

/* The next token of the file (or the one given back by pp_unget). */
static void pp_file_get(pp_file_t *f, lex_token_t *t)
{
    if (f->has_la) {
        *t = f->la;
        f->has_la = false;
        return;
    }
    lex_next(&f->lex, t);
}

/* Give back one token taken from the current directive line. */
static void pp_unget(pp_file_t *f, const lex_token_t *t)
{
    f->la = *t;
    f->has_la = true;
}

/* The next token of the current directive line, if any; never reads
 * past the end of the line. */
static bool pp_line_tok(pp_file_t *f, lex_token_t *t)
{
    if (f->has_la) {
        *t = f->la;
        f->has_la = false;
        return true;
    }
    if (lex_at_eol(&f->lex))
        return false;
    lex_next(&f->lex, t);
    return true;
}

/* Consume the rest of the directive line; warn once if it is not empty. */
static void pp_end_line(pp_state_t *pp, pp_file_t *f, const char *directive)
{
    lex_token_t t;
    bool warned = false;

    while (pp_line_tok(f, &t)) {
        if (!warned && directive != NULL)
            diag_warning(pp->diag, t.file, t.line, t.column,
                         "extra tokens at end of #%s directive", directive);
        warned = true;
    }
}

/* Drop the rest of a line without reporting anything about its tokens. */
static void pp_discard_line(pp_file_t *f)
{
    diag_t silent, *saved = f->lex.diag;
    lex_token_t t;

    diag_init(&silent, NULL);
    f->lex.diag = &silent;
    while (pp_line_tok(f, &t))
        ;
    f->lex.diag = saved;
}

/* ---------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------- */

static void pp_push_ctx(pp_state_t *pp, lex_token_t *toks, size_t n,
                        pp_macro_t *m, bool barrier, unsigned cls)
{
    pp_context_t *c;

    if (pp->n_ctx == pp->cap_ctx) {
        size_t ncap = pp->cap_ctx ? pp->cap_ctx * 2 : 16;
        pp->ctx = mem_grow(pp->arena, pp->ctx, pp->n_ctx, ncap,
                           sizeof *pp->ctx);
        pp->cap_ctx = ncap;
    }
    c = &pp->ctx[pp->n_ctx++];
    c->toks = toks;
    c->n = n;
    c->i = 0;
    c->macro = m;
    c->barrier = barrier;
    c->cls = cls;
    if (m != NULL)
        m->disabled = true;
}

/* ---------------------------------------------------------------------------
 * Conditionals
 * ------------------------------------------------------------------------- */

static void pp_push_cond(pp_state_t *pp, const lex_token_t *at,
                         const char *what, bool taken)
{
    pp_cond_t *c;

    if (pp->n_conds == pp->cap_conds) {
        size_t ncap = pp->cap_conds ? pp->cap_conds * 2 : 16;
        pp->conds = mem_grow(pp->arena, pp->conds, pp->n_conds, ncap,
                             sizeof *pp->conds);
        pp->cap_conds = ncap;
    }
    c = &pp->conds[pp->n_conds++];
    c->file = at->file;
    c->line = at->line;
    c->column = at->column;
    c->what = what;
    c->taken = taken;
    c->seen_else = false;
}

/* #if expressions ---------------------------------------------------------- */

typedef struct pp_expr {
    pp_state_t *pp;
    const lex_token_t *t;
    size_t n, i;
    const lex_token_t *dir;     /* the directive, for messages */
    bool failed;
    unsigned depth;             /* recursion, against PP_MAX_EXPR_DEPTH */
} pp_expr_t;

static int64_t pp_expr_cond(pp_expr_t *e, bool live);
static int64_t pp_expr_unary(pp_expr_t *e, bool live);
static int64_t pp_expr_unary_body(pp_expr_t *e, bool live);

static const lex_token_t *pp_expr_peek(pp_expr_t *e)
{
    return e->i < e->n ? &e->t[e->i] : NULL;
}

static void pp_expr_fail(pp_expr_t *e, const lex_token_t *at,
                         const char *msg)
{
    if (e->failed)
        return;
    e->failed = true;
    if (at == NULL)
        at = e->dir;
    diag_error(e->pp->diag, at->file, at->line, at->column, "%s", msg);
}

static bool pp_expr_accept(pp_expr_t *e, lex_tok_t k)
{
    const lex_token_t *p = pp_expr_peek(e);

    if (p != NULL && p->kind == k) {
        e->i++;
        return true;
    }
    return false;
}

/* primary -> INT | CHAR | IDENT | '(' cond ')' */
static int64_t pp_expr_primary(pp_expr_t *e, bool live)
{
    const lex_token_t *p = pp_expr_peek(e);
    int64_t v;

    if (p == NULL) {
        pp_expr_fail(e, NULL, "#if expression ends too early");
        return 0;
    }
    e->i++;
    switch (p->kind) {
    case LEX_T_INT:
        return (int64_t)p->u;
    case LEX_T_CHAR:
    case LEX_T_WCHAR:
        return (int64_t)p->ch;
    case LEX_T_IDENT:
        return 0;       /* identifiers left after expansion are 0 */
    case LEX_T_LPAREN:
        v = pp_expr_cond(e, live);
        if (!pp_expr_accept(e, LEX_T_RPAREN))
            pp_expr_fail(e, pp_expr_peek(e), "missing ')' in #if expression");
        return v;
    default:
        if (!e->failed) {
            e->failed = true;
            diag_error(e->pp->diag, p->file, p->line, p->column,
                       "%s is not valid in an #if expression",
                       lex_tok_name(p->kind));
        }
        return 0;
    }
}

/* unary -> ('-' | '+' | '~' | '!') unary | primary */
static int64_t pp_expr_unary(pp_expr_t *e, bool live)
{
    int64_t v;

    if (e->depth >= PP_MAX_EXPR_DEPTH) {
        pp_expr_fail(e, pp_expr_peek(e), "#if expression nested too deeply");
        e->i = e->n;
        return 0;
    }
    e->depth++;
    v = pp_expr_unary_body(e, live);
    e->depth--;
    return v;
}

static int64_t pp_expr_unary_body(pp_expr_t *e, bool live)
{
    if (pp_expr_accept(e, LEX_T_MINUS))
        return (int64_t)(0 - (uint64_t)pp_expr_unary(e, live));
    if (pp_expr_accept(e, LEX_T_PLUS))
        return pp_expr_unary(e, live);
    if (pp_expr_accept(e, LEX_T_TILDE))
        return (int64_t)~(uint64_t)pp_expr_unary(e, live);
    if (pp_expr_accept(e, LEX_T_NOT))
        return !pp_expr_unary(e, live);
    return pp_expr_primary(e, live);
}

/* Binary levels, lowest first; unary handles the tightest. */
static int pp_expr_level(lex_tok_t k)
{
    switch (k) {
    case LEX_T_OR: return 3;
    case LEX_T_XOR: return 4;
    case LEX_T_AND: return 5;
    case LEX_T_EQEQ: case LEX_T_NE: return 6;
    case LEX_T_LT: case LEX_T_GT: case LEX_T_LE: case LEX_T_GE: return 7;
    case LEX_T_SHL: case LEX_T_SHR: return 8;
    case LEX_T_PLUS: case LEX_T_MINUS: return 9;
    case LEX_T_STAR: case LEX_T_SLASH: case LEX_T_PERCENT: return 10;
    default: return 0;
    }
}

/* binary(L) -> binary(L+1) { op(L) binary(L+1) }, for the levels of
 * pp_expr_level(); '||' (1) and '&&' (2) short-circuit. */
static int64_t pp_expr_binary(pp_expr_t *e, int level, bool live)
{
    int64_t l, r;
    const lex_token_t *p;

    if (level > 10)
        return pp_expr_unary(e, live);
    l = pp_expr_binary(e, level + 1, live);
    for (;;) {
        lex_tok_t k;
        p = pp_expr_peek(e);
        if (p == NULL)
            return l;
        k = p->kind;
        if (level == 1 && k == LEX_T_OROR) {
            e->i++;
            r = pp_expr_binary(e, level + 1, live && !l);
            l = l || r;
            continue;
        }
        if (level == 2 && k == LEX_T_ANDAND) {
            e->i++;
            r = pp_expr_binary(e, level + 1, live && l);
            l = l && r;
            continue;
        }
        if (level < 3 || pp_expr_level(k) != level)
            return l;
        e->i++;
        r = pp_expr_binary(e, level + 1, live);
        switch (k) {
        case LEX_T_OR: l |= r; break;
        case LEX_T_XOR: l ^= r; break;
        case LEX_T_AND: l &= r; break;
        case LEX_T_EQEQ: l = l == r; break;
        case LEX_T_NE: l = l != r; break;
        case LEX_T_LT: l = l < r; break;
        case LEX_T_GT: l = l > r; break;
        case LEX_T_LE: l = l <= r; break;
        case LEX_T_GE: l = l >= r; break;
        case LEX_T_SHL:
        case LEX_T_SHR:
            if (r < 0 || r > 63) {
                if (live)
                    pp_expr_fail(e, p, "shift count out of range in #if "
                                       "expression");
                l = 0;
            } else if (k == LEX_T_SHL) {
                l = (int64_t)((uint64_t)l << r);
            } else {
                l = l >> r;
            }
            break;
        case LEX_T_PLUS: l = (int64_t)((uint64_t)l + (uint64_t)r); break;
        case LEX_T_MINUS: l = (int64_t)((uint64_t)l - (uint64_t)r); break;
        case LEX_T_STAR: l = (int64_t)((uint64_t)l * (uint64_t)r); break;
        case LEX_T_SLASH:
        case LEX_T_PERCENT:
            if (r == 0) {
                if (live)
                    pp_expr_fail(e, p, "division by zero in #if "
                                       "expression");
                l = 0;
            } else if (r == -1) {
                l = k == LEX_T_SLASH ? (int64_t)(0 - (uint64_t)l) : 0;
            } else {
                l = k == LEX_T_SLASH ? l / r : l % r;
            }
            break;
        default:
            break;
        }
    }
}

/* cond -> binary(1) [ '?' cond ':' cond ] */
static int64_t pp_expr_cond(pp_expr_t *e, bool live)
{
    int64_t c = pp_expr_binary(e, 1, live), a, b;

    if (!pp_expr_accept(e, LEX_T_QUESTION))
        return c;
    a = pp_expr_cond(e, live && c);
    if (!pp_expr_accept(e, LEX_T_COLON)) {
        pp_expr_fail(e, pp_expr_peek(e), "missing ':' in #if expression");
        return 0;
    }
    b = pp_expr_cond(e, live && !c);
    return c ? a : b;
}

/* Expand a token list on its own (macro argument, #if line). */
static pp_toks_t pp_expand_list(pp_state_t *pp, lex_token_t *toks, size_t n)
{
    pp_toks_t out = { NULL, 0, 0, 0 };
    size_t level;
    lex_token_t t;

    if (pp->list_depth >= PP_MAX_ARG_DEPTH) {
        /* Arguments inside arguments inside...: leave the rest as is. */
        if (!pp->arg_depth_reported && n > 0)
            diag_error(pp->diag, toks[0].file, toks[0].line, toks[0].column,
                       "macro arguments nested more than %d levels deep",
                       PP_MAX_ARG_DEPTH);
        pp->arg_depth_reported = true;
        unsigned k;
        for (k = 0; k < n; k++)
            pp_toks_add(pp, &out, &toks[k]);
        return out;
    }
    pp->list_depth++;
    pp_push_ctx(pp, toks, n, NULL, true, 0);
    level = pp->n_ctx;
    for (;;) {
        pp_expand_next(pp, &t);
        if (t.kind == LEX_T_EOF && pp->n_ctx == level)
            break;
        if (t.kind == LEX_T_EOF)
            continue;
        pp_toks_add(pp, &out, &t);
    }
    pp->n_ctx--;
    pp->list_depth--;
    return out;
}

/* Evaluate the expression of #if / #elif on the rest of the line. */
static bool pp_eval_line(pp_state_t *pp, pp_file_t *f, const lex_token_t *dir)
{
    pp_toks_t raw = { NULL, 0, 0, 0 }, x;
    pp_expr_t e;
    lex_token_t t;
    int64_t v;

    while (pp_line_tok(f, &t)) {
        if (pp_is_ident(&t, "defined")) {
            lex_token_t n, r;
            bool paren = false, ok = true;
            lex_token_t one = t;
            if (!pp_line_tok(f, &n)) {
                ok = false;
            } else if (n.kind == LEX_T_LPAREN) {
                paren = true;
                if (!pp_line_tok(f, &n))
                    ok = false;
            }
            if (ok && n.kind != LEX_T_IDENT)
                ok = false;
            if (ok && paren && (!pp_line_tok(f, &r) || r.kind != LEX_T_RPAREN))
                ok = false;
            if (!ok) {
                diag_error(pp->diag, t.file, t.line, t.column,
                           "'defined' needs a macro name, as in "
                           "defined(NAME)");
                pp_discard_line(f);
                pp_toks_free(pp, &raw);
                return false;
            }
            one.kind = LEX_T_INT;
            one.u = pp_macro_find(pp, n.spell) != NULL;
            one.text = one.u ? "1" : "0";
            one.len = 1;
            pp_toks_add(pp, &raw, &one);
            continue;
        }
        pp_toks_add(pp, &raw, &t);
    }
    if (raw.n == 0) {
        diag_error(pp->diag, dir->file, dir->line, dir->column,
                   "#%s with no expression", dir->spell);
        return false;
    }
    x = pp_expand_list(pp, raw.v, raw.n);
    e.pp = pp;
    e.t = x.v;
    e.n = x.n;
    e.i = 0;
    e.dir = dir;
    e.failed = false;
    e.depth = 0;
    v = 0;
    if (x.n == 0) {
        pp_expr_fail(&e, NULL, "#if expression is empty after macro "
                               "expansion");
    } else {
        v = pp_expr_cond(&e, true);
        if (!e.failed && e.i < e.n) {
            const lex_token_t *p = &e.t[e.i];
            diag_error(pp->diag, p->file, p->line, p->column,
                       "unexpected %s in #if expression",
                       lex_tok_name(p->kind));
            e.failed = true;
        }
    }
    pp_toks_free(pp, &x);
    pp_toks_free(pp, &raw);
    return !e.failed && v != 0;
}

/* Skip a false group: up to the #else / #elif that is taken, or the
 * #endif, of the innermost conditional. */
static void pp_skip_group(pp_state_t *pp)
{
    pp_file_t *f = pp->file;
    unsigned depth = 0;
    lex_token_t hash, name;

    for (;;) {
        f->has_la = false;
        if (!lex_skip_group(&f->lex))
            return;     /* EOF: the caller reports the open conditional */
        pp_file_get(f, &hash);
        if (!pp_line_tok(f, &name))
            continue;
        if (name.kind != LEX_T_IDENT) {
            pp_discard_line(f);
            continue;
        }
        if (pp_is_ident(&name, "if") || pp_is_ident(&name, "ifdef") ||
            pp_is_ident(&name, "ifndef")) {
            depth++;
            pp_discard_line(f);
            continue;
        }
        if (depth > 0) {
            if (pp_is_ident(&name, "endif"))
                depth--;
            pp_discard_line(f);
            continue;
        }
        if (pp->n_conds <= f->cond_base) {
            pp_discard_line(f);
            continue;
        }
        {
            pp_cond_t *c = &pp->conds[pp->n_conds - 1];
            if (pp_is_ident(&name, "endif")) {
                pp_end_line(pp, f, "endif");
                pp->n_conds--;
                return;
            }
            if (pp_is_ident(&name, "else")) {
                if (c->seen_else)
                    diag_error(pp->diag, name.file, name.line, name.column,
                               "#else after #else");
                c->seen_else = true;
                pp_end_line(pp, f, "else");
                if (!c->taken) {
                    c->taken = true;
                    return;
                }
                continue;
            }
            if (pp_is_ident(&name, "elif")) {
                if (c->seen_else)
                    diag_error(pp->diag, name.file, name.line, name.column,
                               "#elif after #else");
                if (c->taken) {
                    pp_discard_line(f);
                    continue;
                }
                if (pp_eval_line(pp, f, &name)) {
                    c->taken = true;
                    return;
                }
                continue;
            }
            pp_discard_line(f);
        }
    }
}

/* ---------------------------------------------------------------------------
 * Directives
 * ------------------------------------------------------------------------- */

/* #define NAME [ '(' params ')' ] body */
static void pp_do_define(pp_state_t *pp, pp_file_t *f, const lex_token_t *dir)
{
    lex_token_t name, t;
    pp_toks_t body = { NULL, 0, 0, 0 };
    const char **params = NULL;
    size_t n_params = 0, cap = 0, i;
    bool fn = false;
    pp_macro_t *m;

    if (!pp_line_tok(f, &name) || name.kind != LEX_T_IDENT) {
        diag_error(pp->diag, dir->file, dir->line, dir->column,
                   "#define needs a macro name");
        pp_discard_line(f);
        return;
    }
    if (strcmp(name.spell, "defined") == 0) {
        diag_error(pp->diag, name.file, name.line, name.column,
                   "'defined' cannot be used as a macro name");
        pp_discard_line(f);
        return;
    }
    if (pp_line_tok(f, &t)) {
        if (t.kind != LEX_T_LPAREN || t.space)
            pp_unget(f, &t);
        else
            fn = true;
    }
    if (fn) {
        lex_token_t at = name;
        bool closed = false;
        /* params -> ')' | IDENT { ',' IDENT } ')' */
        if (pp_line_tok(f, &t)) {
            if (t.kind == LEX_T_RPAREN)
                closed = true;
            else
                pp_unget(f, &t);
        }
        while (!closed) {
            if (!pp_line_tok(f, &t) || t.kind != LEX_T_IDENT) {
                if (t.kind != LEX_T_EOF)
                    at = t;
                diag_error(pp->diag, at.file, at.line, at.column,
                           "expected a parameter name in the definition of "
                           "macro '%s'", name.spell);
                pp_discard_line(f);
                return;
            }
            at = t;
            for (i = 0; i < n_params; i++)
                if (params[i] == t.spell)
                    diag_error(pp->diag, t.file, t.line, t.column,
                               "duplicate macro parameter '%s'", t.spell);
            if (n_params == cap) {
                size_t nc = cap ? cap * 2 : 4;
                params = mem_grow(pp->arena, params, n_params, nc,
                                  sizeof *params);
                cap = nc;
            }
            params[n_params++] = t.spell;
            if (!pp_line_tok(f, &t) ||
                (t.kind != LEX_T_COMMA && t.kind != LEX_T_RPAREN)) {
                diag_error(pp->diag, at.file, at.line, at.column,
                           "expected ',' or ')' after the parameter '%s' of "
                           "macro '%s'", at.spell, name.spell);
                pp_discard_line(f);
                return;
            }
            closed = t.kind == LEX_T_RPAREN;
        }
    }
    while (pp_line_tok(f, &t))
        pp_toks_add(pp, &body, &t);
    if (body.n > 0 && (body.v[0].kind == LEX_T_HASHHASH ||
                       body.v[body.n - 1].kind == LEX_T_HASHHASH)) {
        const lex_token_t *b = body.v[0].kind == LEX_T_HASHHASH
                                   ? &body.v[0] : &body.v[body.n - 1];
        diag_error(pp->diag, b->file, b->line, b->column,
                   "'##' cannot be at either end of a macro body");
        return;
    }
    if (fn) {
        for (i = 0; i < body.n; i++) {
            size_t k;
            if (body.v[i].kind != LEX_T_HASH)
                continue;
            for (k = 0; i + 1 < body.n && k < n_params; k++)
                if (body.v[i + 1].kind == LEX_T_IDENT &&
                    body.v[i + 1].spell == params[k])
                    break;
            if (i + 1 >= body.n || k == n_params) {
                diag_error(pp->diag, body.v[i].file, body.v[i].line,
                           body.v[i].column,
                           "'#' is not followed by a macro parameter");
                return;
            }
        }
    }
    m = pp_macro_entry(pp, name.spell);
    if (m->defined) {
        bool same = m->function_like == fn && m->n_params == n_params &&
                    m->n_body == body.n;
        for (i = 0; same && i < n_params; i++)
            same = m->params[i] == params[i];
        for (i = 0; same && i < body.n; i++)
            same = m->body[i].kind == body.v[i].kind &&
                   m->body[i].len == body.v[i].len &&
                   memcmp(m->body[i].text, body.v[i].text, body.v[i].len) == 0 &&
                   (i == 0 || m->body[i].space == body.v[i].space);
        if (!same) {
            diag_warning(pp->diag, name.file, name.line, name.column,
                         "macro '%s' redefined", name.spell);
            if (m->file != NULL)
                diag_note(pp->diag, m->file, m->line, m->column,
                          "the previous definition is here");
        }
    }
    m->defined = true;
    m->function_like = fn;
    m->params = params;
    m->n_params = n_params;
    m->body = body.v;
    m->n_body = body.n;
    m->file = name.file;
    m->line = name.line;
    m->column = name.column;
}

/* Resolve an include name to a readable path; NULL if none. */
static const char *pp_find_include(pp_state_t *pp, const char *name,
                                   bool angled)
{
    FILE *fp;
    size_t i;

    if (name[0] == '/') {
        fp = fopen(name, "rb");
        if (fp == NULL)
            return NULL;
        fclose(fp);
        return intern_str(pp->names, name);
    }
    if (!angled) {
        const char *cur = pp->file->lex.file;
        const char *slash = strrchr(cur, '/');
        const char *cand = slash == NULL
            ? mem_strdup(pp->arena, name)
            : mem_printf(pp->arena, "%.*s/%s", (int)(slash - cur), cur, name);
        fp = fopen(cand, "rb");
        if (fp != NULL) {
            fclose(fp);
            return intern_str(pp->names, cand);
        }
    }
    for (i = 0; i < pp->n_include_dirs; i++) {
        const char *dir = pp->include_dirs[i];
        size_t dl = strlen(dir);
        const char *cand = mem_printf(pp->arena, "%s%s%s", dir,
                                      dl > 0 && dir[dl - 1] == '/' ? "" : "/",
                                      name);
        fp = fopen(cand, "rb");
        if (fp != NULL) {
            fclose(fp);
            return intern_str(pp->names, cand);
        }
    }
    return NULL;
}

/* Read a whole file into the arena; NULL and errno on failure. */
static char *pp_read_file(pp_state_t *pp, const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;
    char *buf;
    long sz;
    size_t got;

    if (fp == NULL)
        return NULL;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        errno = EISDIR;
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        int e = errno;
        fclose(fp);
        errno = e ? e : EIO;
        return NULL;
    }
    if ((unsigned long)sz > PP_MAX_FILE_SIZE) {
        fclose(fp);
        errno = EFBIG;
        return NULL;
    }
    buf = mem_alloc(pp->arena, (size_t)sz + 1);
    got = fread(buf, 1, (size_t)sz, fp);
    if (ferror(fp)) {
        fclose(fp);
        errno = EIO;
        return NULL;
    }
    fclose(fp);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static void pp_push_file(pp_state_t *pp, const char *path, const char *text,
                         size_t len)
{
    pp_file_t *f = mem_zalloc(pp->arena, sizeof *f);

    lex_init(&f->lex, pp->arena, pp->names, pp->diag, path, text, len);
    f->up = pp->file;
    f->cond_base = pp->n_conds;
    if (pp->file != NULL)
        pp->depth++;
    pp->file = f;
}

static bool pp_is_once(pp_state_t *pp, const char *path)
{
    size_t i;

    for (i = 0; i < pp->n_once; i++)
        if (pp->once[i] == path)
            return true;
    return false;
}

/* #include "name" | <name>; true when *out is the FILE_ENTER token. */
static bool pp_do_include(pp_state_t *pp, pp_file_t *f,
                          const lex_token_t *dir, lex_token_t *out)
{
    const char *name, *path;
    bool angled;
    uint32_t line, col;
    char *text;
    size_t len, i;

    if (!lex_header_name(&f->lex, &name, &angled, &line, &col)) {
        /* #include MACRO, expanding to a string literal. */
        pp_toks_t raw = { NULL, 0, 0, 0 }, x;
        lex_token_t t;
        while (pp_line_tok(f, &t))
            pp_toks_add(pp, &raw, &t);
        x = pp_expand_list(pp, raw.v, raw.n);
        if (x.n != 1 || x.v[0].kind != LEX_T_STRING) {
            diag_error(pp->diag, dir->file, dir->line, dir->column,
                       "#include expects \"FILE\" or <FILE>");
            pp_toks_free(pp, &x);
            pp_toks_free(pp, &raw);
            return false;
        }
        name = intern_str(pp->names, x.v[0].str);
        angled = false;
        line = x.v[0].line;
        col = x.v[0].column;
        pp_toks_free(pp, &x);
        pp_toks_free(pp, &raw);
    } else {
        pp_end_line(pp, f, "include");
    }
    if (pp->no_includes) {
        diag_error(pp->diag, f->lex.file, line, col,
                   "#include is not allowed here");
        return false;
    }
    if (pp->depth + 1 > PP_MAX_INCLUDE_DEPTH) {
        diag_error(pp->diag, f->lex.file, line, col,
                   "#include nested more than %d levels deep (recursive "
                   "include?)", PP_MAX_INCLUDE_DEPTH);
        return false;
    }
    if (name[0] == '\0') {
        diag_error(pp->diag, f->lex.file, line, col,
                   "empty file name in #include");
        return false;
    }
    path = pp_find_include(pp, name, angled);
    if (path == NULL && angled && strcmp(name, "orb.idl") == 0) {
        /* The ORB's own declarations (TypeCode...) are built in. */
        path = intern_str(pp->names, "<built-in orb.idl>");
        text = "";
        len = 0;
    } else if (path == NULL) {
        diag_error(pp->diag, f->lex.file, line, col,
                   "cannot find include file %c%s%c", angled ? '<' : '"',
                   name, angled ? '>' : '"');
        return false;
    } else {
        if (pp_is_once(pp, path))
            return false;
        text = pp_read_file(pp, path, &len);
        if (text == NULL) {
            diag_error(pp->diag, f->lex.file, line, col,
                       "cannot read include file '%s': %s", path,
                       strerror(errno));
            return false;
        }
    }
    if (pp->depth == 0) {
        for (i = 0; i < pp->n_includes; i++)
            if (pp->includes[i] == name)
                break;
        if (i == pp->n_includes) {
            if (pp->n_includes == pp->cap_includes) {
                size_t nc = pp->cap_includes ? pp->cap_includes * 2 : 8;
                pp->includes = mem_grow(pp->arena, pp->includes,
                                        pp->n_includes, nc,
                                        sizeof *pp->includes);
                pp->cap_includes = nc;
            }
            pp->includes[pp->n_includes++] = name;
        }
    }
    memset(out, 0, sizeof *out);
    out->kind = LEX_T_FILE_ENTER;
    out->file = f->lex.file;
    out->line = line;
    out->column = col;
    out->text = "";
    out->str = path;
    out->str_len = strlen(path);
    pp_push_file(pp, path, text, len);
    return true;
}

/* A scoped name written after #pragma ID / version:
 * [ '::' ] IDENT { '::' IDENT } */
static bool pp_pragma_name(pp_state_t *pp, pp_file_t *f, const char **out)
{
    char buf[1024];
    size_t n = 0;
    lex_token_t t;

    buf[0] = '\0';
    if (!pp_line_tok(f, &t))
        return false;
    if (t.kind == LEX_T_SCOPE) {
        n = (size_t)snprintf(buf, sizeof buf, "::");
        if (!pp_line_tok(f, &t))
            return false;
    }
    for (;;) {
        if (t.kind != LEX_T_IDENT)
            return false;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", t.name);
        if (n >= sizeof buf - 3)
            return false;
        if (!pp_line_tok(f, &t))
            break;
        if (t.kind != LEX_T_SCOPE) {
            pp_unget(f, &t);
            break;
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "::");
        if (!pp_line_tok(f, &t))
            return false;
    }
    *out = intern_str(pp->names, buf);
    return true;
}

/* #pragma ...; true when *out is a pragma token for the parser. */
static bool pp_do_pragma(pp_state_t *pp, pp_file_t *f, const lex_token_t *dir,
                         lex_token_t *out)
{
    lex_token_t kind, t;
    const char *name;

    if (!pp_line_tok(f, &kind) || kind.kind != LEX_T_IDENT) {
        diag_warning(pp->diag, dir->file, dir->line, dir->column,
                     "ignoring empty or malformed #pragma");
        pp_discard_line(f);
        return false;
    }
    if (strcmp(kind.spell, "prefix") == 0) {
        if (!pp_line_tok(f, &t) || t.kind != LEX_T_STRING) {
            diag_error(pp->diag, kind.file, kind.line, kind.column,
                       "#pragma prefix needs a string literal");
            pp_discard_line(f);
            return false;
        }
        pp_end_line(pp, f, "pragma prefix");
        *out = kind;
        out->kind = LEX_T_PRAGMA_PREFIX;
        out->str = t.str;
        out->str_len = t.str_len;
        return true;
    }
    if (strcmp(kind.spell, "ID") == 0) {
        if (!pp_pragma_name(pp, f, &name) || !pp_line_tok(f, &t) ||
            t.kind != LEX_T_STRING) {
            diag_error(pp->diag, kind.file, kind.line, kind.column,
                       "#pragma ID needs a scoped name and a string literal");
            pp_discard_line(f);
            return false;
        }
        pp_end_line(pp, f, "pragma ID");
        *out = kind;
        out->kind = LEX_T_PRAGMA_ID;
        out->pname = name;
        out->str = t.str;
        out->str_len = t.str_len;
        return true;
    }
    if (strcmp(kind.spell, "version") == 0) {
        unsigned long major = 0, minor = 0;
        char *end;
        const char *txt;
        if (!pp_pragma_name(pp, f, &name) || !pp_line_tok(f, &t) ||
            t.kind != LEX_T_FLOAT) {
            diag_error(pp->diag, kind.file, kind.line, kind.column,
                       "#pragma version needs a scoped name and "
                       "MAJOR.MINOR");
            pp_discard_line(f);
            return false;
        }
        txt = mem_strndup(pp->arena, t.text, t.len);
        errno = 0;
        major = strtoul(txt, &end, 10);
        if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
            minor = strtoul(end + 1, &end, 10);
        } else {
            end = (char *)"x";
        }
        if (*end != '\0' || errno != 0 || major > 0xffff || minor > 0xffff) {
            diag_error(pp->diag, t.file, t.line, t.column,
                       "bad version '%s' in #pragma version: expected "
                       "MAJOR.MINOR", txt);
            pp_discard_line(f);
            return false;
        }
        pp_end_line(pp, f, "pragma version");
        *out = kind;
        out->kind = LEX_T_PRAGMA_VERSION;
        out->pname = name;
        out->u = ((uint64_t)major << 32) | minor;
        return true;
    }
    if (strcmp(kind.spell, "once") == 0) {
        pp_end_line(pp, f, "pragma once");
        if (!pp_is_once(pp, f->lex.file)) {
            if (pp->n_once == pp->cap_once) {
                size_t nc = pp->cap_once ? pp->cap_once * 2 : 8;
                pp->once = mem_grow(pp->arena, pp->once, pp->n_once, nc,
                                    sizeof *pp->once);
                pp->cap_once = nc;
            }
            pp->once[pp->n_once++] = f->lex.file;
        }
        return false;
    }
    diag_warning(pp->diag, kind.file, kind.line, kind.column,
                 "ignoring unknown #pragma %s", kind.spell);
    pp_discard_line(f);
    return false;
}

/* One directive; hash is the '#'.  True when *out is a token to return. */
static bool pp_directive(pp_state_t *pp, const lex_token_t *hash,
                         lex_token_t *out)
{
    pp_file_t *f = pp->file;
    lex_token_t name;
    const char *d;

    if (!pp_line_tok(f, &name))
        return false;           /* the null directive */
    if (name.kind != LEX_T_IDENT) {
        diag_error(pp->diag, name.file, name.line, name.column,
                   "invalid preprocessing directive: %s after '#'",
                   lex_tok_name(name.kind));
        pp_discard_line(f);
        return false;
    }
    d = name.spell;
    if (strcmp(d, "define") == 0) {
        pp_do_define(pp, f, &name);
    } else if (strcmp(d, "undef") == 0) {
        lex_token_t n;
        if (!pp_line_tok(f, &n) || n.kind != LEX_T_IDENT) {
            diag_error(pp->diag, name.file, name.line, name.column,
                       "#undef needs a macro name");
            pp_discard_line(f);
        } else {
            pp_macro_t *m = pp_macro_find(pp, n.spell);
            if (m != NULL)
                m->defined = false;
            pp_end_line(pp, f, "undef");
        }
    } else if (strcmp(d, "include") == 0) {
        return pp_do_include(pp, f, &name, out);
    } else if (strcmp(d, "ifdef") == 0 || strcmp(d, "ifndef") == 0) {
        lex_token_t n;
        bool v;
        if (!pp_line_tok(f, &n) || n.kind != LEX_T_IDENT) {
            diag_error(pp->diag, name.file, name.line, name.column,
                       "#%s needs a macro name", d);
            pp_discard_line(f);
            v = false;
        } else {
            v = pp_macro_find(pp, n.spell) != NULL;
            if (d[2] == 'n')
                v = !v;
            pp_end_line(pp, f, d);
        }
        pp_push_cond(pp, hash, d[2] == 'n' ? "#ifndef" : "#ifdef", v);
        if (!v)
            pp_skip_group(pp);
    } else if (strcmp(d, "if") == 0) {
        bool v = pp_eval_line(pp, f, &name);
        pp_push_cond(pp, hash, "#if", v);
        if (!v)
            pp_skip_group(pp);
    } else if (strcmp(d, "elif") == 0 || strcmp(d, "else") == 0) {
        if (pp->n_conds <= f->cond_base) {
            diag_error(pp->diag, name.file, name.line, name.column,
                       "#%s without #if", d);
            pp_discard_line(f);
        } else {
            pp_cond_t *c = &pp->conds[pp->n_conds - 1];
            if (c->seen_else)
                diag_error(pp->diag, name.file, name.line, name.column,
                           "#%s after #else", d);
            if (d[1] == 'l' && d[2] == 's') {
                c->seen_else = true;
                pp_end_line(pp, f, "else");
            } else {
                pp_discard_line(f);
            }
            /* The group before was taken: skip to the #endif. */
            c->taken = true;
            pp_skip_group(pp);
        }
    } else if (strcmp(d, "endif") == 0) {
        if (pp->n_conds <= f->cond_base) {
            diag_error(pp->diag, name.file, name.line, name.column,
                       "#endif without #if");
        } else {
            pp->n_conds--;
        }
        pp_end_line(pp, f, "endif");
    } else if (strcmp(d, "pragma") == 0) {
        return pp_do_pragma(pp, f, &name, out);
    } else if (strcmp(d, "error") == 0) {
        const char *msg = lex_rest_of_line(&f->lex);
        diag_error(pp->diag, hash->file, hash->line, hash->column,
                   "#error %s", msg);
    } else if (strcmp(d, "warning") == 0) {
        const char *msg = lex_rest_of_line(&f->lex);
        diag_warning(pp->diag, hash->file, hash->line, hash->column,
                     "#warning %s", msg);
    } else {
        diag_error(pp->diag, name.file, name.line, name.column,
                   "unknown preprocessing directive #%s", d);
        pp_discard_line(f);
    }
    return false;
}

/* ---------------------------------------------------------------------------
 * Token streams
 * ------------------------------------------------------------------------- */

/* The next token before macro expansion: from the innermost context, or
 * from the current file with directives done. */
static void pp_raw_next(pp_state_t *pp, lex_token_t *t)
{
    for (;;) {
        pp_file_t *f;
        if (pp->n_ctx > 0) {
            pp_context_t *c = &pp->ctx[pp->n_ctx - 1];
            if (c->i < c->n) {
                *t = c->toks[c->i++];
                return;
            }
            if (c->barrier) {
                pp_eof_token(t, pp->file != NULL ? pp->file->lex.file : "");
                return;
            }
            if (c->macro != NULL)
                c->macro->disabled = false;
            pp_pool_put(pp, c->toks, c->cls);
            pp->n_ctx--;
            continue;
        }
        f = pp->file;
        if (f == NULL) {
            pp_eof_token(t, "");
            return;
        }
        pp_file_get(f, t);
        if (t->kind == LEX_T_HASH && t->bol) {
            lex_token_t hash = *t;
            if (pp_directive(pp, &hash, t))
                return;
            continue;
        }
        if (t->kind == LEX_T_EOF) {
            while (pp->n_conds > f->cond_base) {
                pp_cond_t *c = &pp->conds[--pp->n_conds];
                diag_error(pp->diag, c->file, c->line, c->column,
                           "unterminated %s (no #endif before the end of "
                           "the file)", c->what);
            }
            if (f->up == NULL)
                return;
            t->kind = LEX_T_FILE_LEAVE;
            t->str = f->lex.file;
            t->str_len = strlen(f->lex.file);
            pp->file = f->up;
            pp->depth--;
            return;
        }
        return;
    }
}

/* Paste r onto l (##); false (reported) when no single token results. */
static bool pp_paste(pp_state_t *pp, lex_token_t *l, const lex_token_t *r)
{
    char *text = mem_alloc(pp->arena, l->len + r->len + 1);
    lex_state_t ls;
    lex_token_t a, b;
    diag_t silent;

    memcpy(text, l->text, l->len);
    memcpy(text + l->len, r->text, r->len);
    text[l->len + r->len] = '\0';
    diag_init(&silent, NULL);
    lex_init(&ls, pp->arena, pp->names, &silent, l->file, text,
             l->len + r->len);
    lex_next(&ls, &a);
    lex_next(&ls, &b);
    if (a.kind == LEX_T_EOF || b.kind != LEX_T_EOF || silent.errors > 0) {
        diag_error(pp->diag, l->file, l->line, l->column,
                   "pasting \"%.*s\" and \"%.*s\" does not give a valid "
                   "token", (int)l->len, l->text, (int)r->len, r->text);
        return false;
    }
    a.file = l->file;
    a.line = l->line;
    a.column = l->column;
    a.space = l->space;
    a.bol = false;
    *l = a;
    return true;
}

/* The string literal token that # makes of an argument. */
static lex_token_t pp_stringify(pp_state_t *pp, const pp_toks_t *arg,
                                const lex_token_t *at)
{
    size_t i, len = 0, qlen = 2, k = 0;
    char *s, *q;
    lex_token_t t;

    for (i = 0; i < arg->n; i++)
        len += arg->v[i].len + 1;
    s = mem_alloc(pp->arena, len + 1);
    len = 0;
    for (i = 0; i < arg->n; i++) {
        if (i > 0 && arg->v[i].space)
            s[len++] = ' ';
        memcpy(s + len, arg->v[i].text, arg->v[i].len);
        len += arg->v[i].len;
    }
    s[len] = '\0';
    for (i = 0; i < len; i++)
        qlen += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
    q = mem_alloc(pp->arena, qlen + 1);
    q[k++] = '"';
    for (i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            q[k++] = '\\';
        q[k++] = s[i];
    }
    q[k++] = '"';
    q[k] = '\0';
    t = *at;
    t.kind = LEX_T_STRING;
    t.text = q;
    t.len = k;
    t.str = s;
    t.str_len = len;
    t.bol = false;
    return t;
}

static long pp_param_index(const pp_macro_t *m, const lex_token_t *t)
{
    size_t i;

    if (t->kind != LEX_T_IDENT)
        return -1;
    for (i = 0; i < m->n_params; i++)
        if (m->params[i] == t->spell)
            return (long)i;
    return -1;
}

/* Collect the arguments of a function-like macro use (after the '(').
 * False (reported) when the list does not end. */
/* The arguments of one use: n lists in an array from the pool. */
typedef struct pp_args {
    pp_toks_t *v;
    size_t n, cap;
    unsigned cls;
} pp_args_t;

static void pp_args_free(pp_state_t *pp, pp_args_t *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        pp_toks_free(pp, &a->v[i]);
    pp_pool_put(pp, a->v, a->cls);
    a->v = NULL;
    a->n = 0;
}

/* Collect the arguments of a function-like macro use (after the '(').
 * False (reported, nothing left to free) when the list does not end. */
static bool pp_collect_args(pp_state_t *pp, const pp_macro_t *m,
                            const lex_token_t *use, pp_args_t *out)
{
    pp_args_t args;
    unsigned depth = 0;
    lex_token_t a;

    args.v = pp_pool_get(pp, 4 * sizeof *args.v, &args.cls);
    args.cap = ((size_t)1 << args.cls) / sizeof *args.v;
    memset(args.v, 0, args.cap * sizeof *args.v);
    args.n = 1;
    for (;;) {
        pp_raw_next(pp, &a);
        if (a.kind == LEX_T_EOF) {
            diag_error(pp->diag, use->file, use->line, use->column,
                       "unterminated argument list invoking macro '%s'",
                       m->name);
            pp_args_free(pp, &args);
            return false;
        }
        if (a.kind == LEX_T_LPAREN) {
            depth++;
        } else if (a.kind == LEX_T_RPAREN) {
            if (depth == 0)
                break;
            depth--;
        } else if (a.kind == LEX_T_COMMA && depth == 0) {
            if (args.n == args.cap) {
                unsigned cls;
                pp_toks_t *nv = pp_pool_get(pp, 2 * args.cap * sizeof *nv,
                                            &cls);
                size_t ncap = ((size_t)1 << cls) / sizeof *nv;
                memcpy(nv, args.v, args.n * sizeof *nv);
                memset(nv + args.n, 0, (ncap - args.n) * sizeof *nv);
                pp_pool_put(pp, args.v, args.cls);
                args.v = nv;
                args.cap = ncap;
                args.cls = cls;
            }
            args.n++;
            continue;
        }
        pp_toks_add(pp, &args.v[args.n - 1], &a);
    }
    *out = args;
    return true;
}

/* Expansion of a function-like macro use with its arguments. */
static pp_toks_t pp_substitute(pp_state_t *pp, const pp_macro_t *m,
                               const lex_token_t *use, pp_toks_t *args)
{
    pp_toks_t out = { NULL, 0, 0, 0 };
    unsigned ecls, dcls;
    pp_toks_t *expanded = pp_pool_get(pp, (m->n_params + 1) *
                                      sizeof *expanded, &ecls);
    bool *done = pp_pool_get(pp, (m->n_params + 1) * sizeof *done, &dcls);
    bool placemarker = false;
    size_t i, k;

    memset(expanded, 0, (m->n_params + 1) * sizeof *expanded);
    memset(done, 0, (m->n_params + 1) * sizeof *done);

    for (i = 0; i < m->n_body; i++) {
        const lex_token_t *b = &m->body[i];
        long p = pp_param_index(m, b);
        bool next_paste = i + 1 < m->n_body &&
                          m->body[i + 1].kind == LEX_T_HASHHASH;
        bool prev_paste = i > 0 && m->body[i - 1].kind == LEX_T_HASHHASH;
        lex_token_t t;

        if (b->kind == LEX_T_HASH && i + 1 < m->n_body &&
            (p = pp_param_index(m, &m->body[i + 1])) >= 0) {
            t = pp_stringify(pp, &args[p], use);
            t.space = b->space;
            pp_toks_add(pp, &out, &t);
            placemarker = false;
            i++;
            continue;
        }
        if (b->kind == LEX_T_HASHHASH) {
            const lex_token_t *rv;
            size_t rn;
            lex_token_t one;
            long q = pp_param_index(m, &m->body[i + 1]);
            if (q >= 0) {
                rv = args[q].v;
                rn = args[q].n;
            } else {
                one = m->body[i + 1];
                one.file = use->file;
                one.line = use->line;
                one.column = use->column;
                rv = &one;
                rn = 1;
            }
            i++;
            if (rn == 0)
                continue;
            k = 0;
            if (!placemarker && out.n > 0) {
                pp_paste(pp, &out.v[out.n - 1], &rv[0]);
                k = 1;
            }
            for (; k < rn; k++) {
                t = rv[k];
                t.file = use->file;
                t.line = use->line;
                t.column = use->column;
                pp_toks_add(pp, &out, &t);
            }
            placemarker = false;
            continue;
        }
        if (p >= 0) {
            const pp_toks_t *src;
            if (next_paste || prev_paste) {
                src = &args[p];
            } else {
                if (!done[p]) {
                    expanded[p] = pp_expand_list(pp, args[p].v, args[p].n);
                    done[p] = true;
                }
                src = &expanded[p];
            }
            for (k = 0; k < src->n; k++) {
                t = src->v[k];
                t.file = use->file;
                t.line = use->line;
                t.column = use->column;
                t.bol = false;
                if (k == 0)
                    t.space = b->space;
                pp_toks_add(pp, &out, &t);
            }
            placemarker = src->n == 0;
            continue;
        }
        t = *b;
        t.file = use->file;
        t.line = use->line;
        t.column = use->column;
        t.bol = false;
        pp_toks_add(pp, &out, &t);
        placemarker = false;
    }
    for (i = 0; i < m->n_params; i++)
        pp_toks_free(pp, &expanded[i]);
    pp_pool_put(pp, expanded, ecls);
    pp_pool_put(pp, done, dcls);
    return out;
}

/* The next token with macros expanded. */
static void pp_expand_next(pp_state_t *pp, lex_token_t *t)
{
    for (;;) {
        pp_macro_t *m;
        pp_toks_t body;
        size_t i;

        pp_raw_next(pp, t);
        if (t->kind != LEX_T_IDENT || t->noexpand)
            return;
        m = pp_macro_find(pp, t->spell);
        if (m == NULL)
            return;
        if (m->disabled) {
            t->noexpand = true;
            return;
        }
        if (++pp->expansions > PP_MAX_EXPANSIONS ||
            pp->expanded_tokens > PP_MAX_EXPANDED_TOKENS) {
            pp->expansions = PP_MAX_EXPANSIONS + 2;
            pp_too_large(pp, t);
            t->noexpand = true;
            return;
        }
        if (m->function_like) {
            lex_token_t nt, use = *t;
            pp_args_t args;
            size_t n_args;
            pp_raw_next(pp, &nt);
            if (nt.kind != LEX_T_LPAREN) {
                if (nt.kind != LEX_T_EOF) {
                    unsigned cls;
                    lex_token_t *one = pp_pool_get(pp, sizeof *one, &cls);
                    *one = nt;
                    pp_push_ctx(pp, one, 1, NULL, false, cls);
                }
                return;
            }
            /* After a bad use, the name stands for the whole use, so
               that the parser sees one token instead of a gap. */
            if (!pp_collect_args(pp, m, &use, &args)) {
                *t = use;
                t->noexpand = true;
                return;
            }
            n_args = args.n;
            if (m->n_params == 0 && n_args == 1 && args.v[0].n == 0)
                n_args = 0;
            if (n_args != m->n_params) {
                diag_error(pp->diag, use.file, use.line, use.column,
                           "macro '%s' takes %zu argument%s, but %zu "
                           "%s given", m->name, m->n_params,
                           m->n_params == 1 ? "" : "s", n_args,
                           n_args == 1 ? "was" : "were");
                pp_args_free(pp, &args);
                *t = use;
                t->noexpand = true;
                return;
            }
            body = pp_substitute(pp, m, &use, args.v);
            pp_args_free(pp, &args);
            if (body.n > 0)
                body.v[0].space = use.space;
            pp_push_ctx(pp, body.v, body.n, m, false, body.cls);
            continue;
        }
        body.n = m->n_body;
        pp->expanded_tokens += body.n;
        if (pp->live_bytes > PP_MAX_LIVE_BYTES ||
            pp->expanded_tokens > PP_MAX_EXPANDED_TOKENS) {
            pp_too_large(pp, t);
            t->noexpand = true;
            return;
        }
        body.v = pp_pool_get(pp, (body.n ? body.n : 1) * sizeof *body.v,
                             &body.cls);
        for (i = 0; i < body.n; i++) {
            body.v[i] = m->body[i];
            body.v[i].file = t->file;
            body.v[i].line = t->line;
            body.v[i].column = t->column;
            body.v[i].bol = false;
        }
        if (body.n > 0)
            body.v[0].space = t->space;
        if (m->n_body > 0 && m->body[0].kind == LEX_T_HASHHASH)
            body.n = 0;
        /* ## in an object-like macro pastes its neighbours. */
        {
            size_t w = 0;
            for (i = 0; i < body.n; i++) {
                if (body.v[i].kind == LEX_T_HASHHASH && w > 0 &&
                    i + 1 < body.n) {
                    pp_paste(pp, &body.v[w - 1], &body.v[i + 1]);
                    i++;
                    continue;
                }
                body.v[w++] = body.v[i];
            }
            body.n = w;
        }
        pp_push_ctx(pp, body.v, body.n, m, false, body.cls);
    }
}

/* ---------------------------------------------------------------------------
 * Public interface
 * ------------------------------------------------------------------------- */

void pp_init(pp_state_t *pp, mem_arena_t *arena, intern_t *names,
             diag_t *d, const char *const *include_dirs,
             size_t n_include_dirs, bool no_includes)
{
    memset(pp, 0, sizeof *pp);
    pp->arena = arena;
    pp->names = names;
    pp->diag = d;
    pp->include_dirs = include_dirs;
    pp->n_include_dirs = n_include_dirs;
    pp->no_includes = no_includes;
    pp_define(pp, "__PHX_IDL__=1");
}

/* Run one directive line given as text (command-line -D / -U). */
static void pp_run_line(pp_state_t *pp, const char *text)
{
    pp_file_t *saved = pp->file;
    unsigned saved_depth = pp->depth;
    const char *file = intern_str(pp->names, "<command line>");
    lex_token_t hash, out;
    size_t len = strlen(text);
    char *copy = mem_strndup(pp->arena, text, len);

    pp->file = NULL;
    pp_push_file(pp, file, copy, len);
    pp_file_get(pp->file, &hash);
    pp_directive(pp, &hash, &out);
    pp->file = saved;
    pp->depth = saved_depth;
}

void pp_define(pp_state_t *pp, const char *def)
{
    const char *eq = strchr(def, '=');
    char *line;

    if (eq == NULL)
        line = mem_printf(pp->arena, "#define %s 1\n", def);
    else
        line = mem_printf(pp->arena, "#define %.*s %s\n", (int)(eq - def),
                          def, eq + 1);
    pp_run_line(pp, line);
}

void pp_undefine(pp_state_t *pp, const char *name)
{
    pp_run_line(pp, mem_printf(pp->arena, "#undef %s\n", name));
}

void pp_open_buffer(pp_state_t *pp, const char *file, const char *text,
                    size_t len)
{
    pp->file = NULL;
    pp->depth = 0;
    pp_push_file(pp, file, text, len);
}

bool pp_open_file(pp_state_t *pp, const char *file)
{
    size_t len = 0;
    char *text = pp_read_file(pp, file, &len);

    if (text == NULL) {
        diag_error(pp->diag, file, 0, 0, "cannot read the file: %s",
                   strerror(errno));
        return false;
    }
    pp_open_buffer(pp, file, text, len);
    return true;
}

void pp_next(pp_state_t *pp, lex_token_t *t)
{
    for (;;) {
        pp_expand_next(pp, t);
        if (t->kind == LEX_T_IDENT) {
            if (t->bad_escape)
                diag_error(pp->diag, t->file, t->line, t->column,
                           "invalid identifier '%s': after the '_' escape "
                           "an identifier starts with a letter", t->spell);
            if (t->kw != LEX_T_IDENT) {
                t->kind = t->kw;
            } else if (!t->escaped) {
                lex_tok_t k = lex_keyword_nocase(t->name, strlen(t->name));
                if (k != LEX_T_IDENT)
                    diag_error(pp->diag, t->file, t->line, t->column,
                               "identifier '%s' collides with the keyword "
                               "%s (they differ only in case); write "
                               "'_%s' to use it as an identifier",
                               t->name, lex_tok_name(k), t->name);
            }
            return;
        }
        if (t->kind == LEX_T_HASH || t->kind == LEX_T_HASHHASH) {
            diag_error(pp->diag, t->file, t->line, t->column,
                       "stray %s in the input", lex_tok_name(t->kind));
            continue;
        }
        return;
    }
}
