/*
 * sema.c - semantic analysis of phx-idl (see sema.h).
 *
 * Sections: tables (scopes and a pointer map), name lookup, declarations,
 * constant evaluation (integers, floats, fixed-point decimals, chars,
 * strings, enums), types, the walk over the tree, and the final pass
 * (forward declarations, pragmas, repository ids).
 */
#include "compiler/sema.h"

#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Tables
 * ------------------------------------------------------------------------- */

/* One name in a scope. */
typedef struct sema_sym {
    const char *lower;          /* interned lower-case name: the key */
    ast_node_t *node;           /* the declaration (the definition once a
                                   forward-declared name is defined) */
} sema_sym_t;

/* A scope's names: open addressing on the interned key pointer. */
typedef struct sema_tab {
    sema_sym_t **slots;
    size_t cap, used;
    ast_node_t *owner;          /* the scope node (first module opening) */
} sema_tab_t;

/* Pointer-keyed map (scope node -> table, node -> anything). */
typedef struct sema_map {
    const void **keys;
    void **vals;
    size_t cap, used;
} sema_map_t;

typedef struct sema_state {
    ast_root_t *root;
    mem_arena_t *arena;
    intern_t *names;
    diag_t *diag;

    sema_map_t tables;          /* scope node -> sema_tab_t */
    sema_map_t lowers;          /* interned name -> interned lower case */
    sema_map_t last_open;       /* first module opening -> latest one */

    ast_node_t **defining;      /* structs / unions / exceptions being
                                   defined (for recursion checks) */
    size_t n_defining, cap_defining;

    ast_node_t **fwds;          /* every forward declaration */
    size_t n_fwds, cap_fwds;
    sema_sym_t **fwd_syms;      /* their symbols */

    ast_type_t **fixups;        /* NAMED types that point at a forward */
    size_t n_fixups, cap_fixups;

    bool lookup_failed;         /* the last lookup reported an error */
    unsigned eval_depth;        /* sema_eval recursion */
    bool eval_too_deep;         /* reported for the current expression */
} sema_state_t;

static uint32_t sema_ptr_hash(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

static void *sema_map_get(const sema_map_t *m, const void *key)
{
    size_t j;

    if (m->cap == 0)
        return NULL;
    j = sema_ptr_hash(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (m->keys[j] == key)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static void sema_map_put(sema_state_t *ss, sema_map_t *m, const void *key,
                         void *val)
{
    size_t j;

    if ((m->used + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64, i;
        const void **ok = m->keys;
        void **ov = m->vals;
        size_t ocap = m->cap;
        m->keys = mem_zalloc(ss->arena, ncap * sizeof *m->keys);
        m->vals = mem_zalloc(ss->arena, ncap * sizeof *m->vals);
        m->cap = ncap;
        for (i = 0; i < ocap; i++) {
            if (ok[i] == NULL)
                continue;
            j = sema_ptr_hash(ok[i]) & (ncap - 1);
            while (m->keys[j] != NULL)
                j = (j + 1) & (ncap - 1);
            m->keys[j] = ok[i];
            m->vals[j] = ov[i];
        }
    }
    j = sema_ptr_hash(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (m->keys[j] == key) {
            m->vals[j] = val;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->used++;
}

/* The interned lower-case form of an interned name. */
static const char *sema_lower(sema_state_t *ss, const char *name)
{
    const char *l = sema_map_get(&ss->lowers, name);
    size_t n, i;
    char buf[256], *b;

    if (l != NULL)
        return l;
    if (ss->root->case_sensitive)
        return name;    /* ONC RPC input: names are case-sensitive */
    n = strlen(name);
    b = n < sizeof buf ? buf : mem_alloc(ss->arena, n + 1);
    for (i = 0; i < n; i++)
        b[i] = (char)tolower((unsigned char)name[i]);
    b[n] = '\0';
    l = intern_n(ss->names, b, n);
    sema_map_put(ss, &ss->lowers, name, (void *)l);
    return l;
}

static sema_sym_t *sema_tab_find(const sema_tab_t *t, const char *lower)
{
    size_t j;

    if (t == NULL || t->cap == 0)
        return NULL;
    j = sema_ptr_hash(lower) & (t->cap - 1);
    while (t->slots[j] != NULL) {
        if (t->slots[j]->lower == lower)
            return t->slots[j];
        j = (j + 1) & (t->cap - 1);
    }
    return NULL;
}

static sema_sym_t *sema_tab_add(sema_state_t *ss, sema_tab_t *t,
                                const char *lower, ast_node_t *n)
{
    sema_sym_t *s;
    size_t j;

    if ((t->used + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 8, i;
        sema_sym_t **old = t->slots;
        size_t ocap = t->cap;
        t->slots = mem_zalloc(ss->arena, ncap * sizeof *t->slots);
        t->cap = ncap;
        for (i = 0; i < ocap; i++) {
            if (old[i] == NULL)
                continue;
            j = sema_ptr_hash(old[i]->lower) & (ncap - 1);
            while (t->slots[j] != NULL)
                j = (j + 1) & (ncap - 1);
            t->slots[j] = old[i];
        }
    }
    s = mem_zalloc(ss->arena, sizeof *s);
    s->lower = lower;
    s->node = n;
    j = sema_ptr_hash(lower) & (t->cap - 1);
    while (t->slots[j] != NULL)
        j = (j + 1) & (t->cap - 1);
    t->slots[j] = s;
    t->used++;
    return s;
}

/* The table of a scope node, created on first use. */
static sema_tab_t *sema_table(sema_state_t *ss, ast_node_t *scope)
{
    sema_tab_t *t = sema_map_get(&ss->tables, scope);

    if (t == NULL) {
        t = mem_zalloc(ss->arena, sizeof *t);
        t->owner = scope;
        sema_map_put(ss, &ss->tables, scope, t);
    }
    return t;
}

static void sema_error(sema_state_t *ss, const char *file, uint32_t line,
                       uint32_t column, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    diag_verror(ss->diag, file, line, column, fmt, ap);
    va_end(ap);
}

#define SEMA_AT(x) (x)->file, (x)->line, (x)->column

/* The kind of a node as messages say it: "interface" for a forward
 * declaration of one too. */
static const char *sema_kind(const ast_node_t *n)
{
    switch (n->kind) {
    case AST_INTERFACE_FWD: return "interface";
    case AST_STRUCT_FWD: return "struct";
    case AST_UNION_FWD: return "union";
    case AST_UNION_CASE: return "union member";
    default: return ast_kind_name(n->kind);
    }
}

/* "a struct", "an interface". */
static const char *sema_a(sema_state_t *ss, const ast_node_t *n)
{
    const char *k = sema_kind(n);

    return mem_printf(ss->arena, "%s %s",
                      strchr("aeiou", k[0]) != NULL ? "an" : "a", k);
}

/* "struct 'A'" for messages. */
static const char *sema_what(sema_state_t *ss, const ast_node_t *n)
{
    return mem_printf(ss->arena, "%s '%s'", sema_kind(n),
                      n->scoped_name[0] != '\0' ? n->scoped_name + 2
                                                : n->name);
}

/* ---------------------------------------------------------------------------
 * Lookup
 * ------------------------------------------------------------------------- */

/* The scope whose names enclose scope s (reopened modules share a table,
 * the parent opening gives the enclosing scope). */
static ast_node_t *sema_enclosing(ast_node_t *s)
{
    return s->parent;
}

/* Is a an ancestor of interface d? */
static bool sema_derives(const ast_node_t *d, const ast_node_t *a)
{
    size_t i;

    for (i = 0; i < d->u.iface.ancestors.count; i++)
        if (d->u.iface.ancestors.items[i] == a)
            return true;
    return false;
}

/* Look a simple name up in scope s only (and, for interfaces, in their
 * ancestors, where a declaration in a derived interface hides one in its
 * bases).  Reports a case mismatch or an ambiguity at use (then returns
 * NULL and sets ss->lookup_failed). */
static ast_node_t *sema_lookup_in(sema_state_t *ss, ast_node_t *s,
                                  const char *name, const ast_sname_t *use,
                                  bool report)
{
    const char *lower = sema_lower(ss, name);
    sema_sym_t *sym = sema_tab_find(sema_map_get(&ss->tables, s), lower);
    size_t i, j;

    if (sym == NULL && s->kind == AST_INTERFACE &&
        s->u.iface.ancestors.count > 0) {
        /* Every ancestor that declares the name, then drop those hidden
           by a declaration in an interface derived from them. */
        ast_node_t **from = NULL;
        sema_sym_t **hits = NULL;
        size_t n = 0, cap = 0;
        for (i = 0; i < s->u.iface.ancestors.count; i++) {
            ast_node_t *a = s->u.iface.ancestors.items[i];
            sema_sym_t *as = sema_tab_find(sema_map_get(&ss->tables, a),
                                           lower);
            if (as == NULL)
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 4;
                from = mem_grow(ss->arena, from, n, nc, sizeof *from);
                hits = mem_grow(ss->arena, hits, n, nc, sizeof *hits);
                cap = nc;
            }
            from[n] = a;
            hits[n] = as;
            n++;
        }
        for (i = 0; i < n; i++) {
            bool hidden = false;
            for (j = 0; j < n && !hidden; j++)
                hidden = j != i && hits[j]->node != hits[i]->node &&
                         sema_derives(from[j], from[i]);
            if (hidden)
                continue;
            if (sym == NULL) {
                sym = hits[i];
                for (j = 0; j < n; j++)
                    if (hits[j] == sym)
                        break;
            } else if (sym->node != hits[i]->node) {
                const ast_node_t *first = NULL;
                for (j = 0; j < n; j++)
                    if (hits[j] == sym) {
                        first = from[j];
                        break;
                    }
                if (report) {
                    sema_error(ss, SEMA_AT(use),
                               "'%s' is ambiguous in %s: it is inherited "
                               "from both '%s' and '%s'", name,
                               sema_what(ss, s),
                               first != NULL ? first->scoped_name + 2 : "?",
                               from[i]->scoped_name + 2);
                    ss->lookup_failed = true;
                }
                return NULL;
            }
        }
    }
    if (sym == NULL)
        return NULL;
    if (sym->node->name != name) {
        if (report) {
            sema_error(ss, SEMA_AT(use),
                       "'%s' is written '%s' where it is declared (IDL names "
                       "must keep their case)", name, sym->node->name);
            ss->lookup_failed = true;
        }
        return NULL;
    }
    return sym->node;
}

static bool sema_is_scope(const ast_node_t *n)
{
    switch (n->kind) {
    case AST_ROOT: case AST_MODULE: case AST_INTERFACE: case AST_STRUCT:
    case AST_UNION: case AST_EXCEPTION:
        return true;
    default:
        return false;
    }
}

/* Resolve a scoped name used in scope; NULL if not found (reported when
 * report is set). */
static ast_node_t *sema_resolve(sema_state_t *ss, ast_node_t *scope,
                                const ast_sname_t *sn, bool report)
{
    ast_node_t *n = NULL, *s;
    size_t i;

    ss->lookup_failed = false;
    if (sn->absolute) {
        n = sema_lookup_in(ss, ss->root->node, sn->parts[0], sn, report);
    } else {
        for (s = scope; s != NULL && n == NULL && !ss->lookup_failed;
             s = sema_enclosing(s)) {
            if (s->kind == AST_ENUM)
                continue;
            n = sema_lookup_in(ss, s, sn->parts[0], sn, report);
        }
    }
    if (ss->lookup_failed)
        return NULL;
    if (n == NULL) {
        if (report)
            sema_error(ss, SEMA_AT(sn), "'%s' is not declared%s",
                       sn->parts[0],
                       sn->absolute ? " at global scope" : "");
        return NULL;
    }
    for (i = 1; i < sn->n_parts; i++) {
        ast_node_t *m;
        if (n->kind == AST_INTERFACE_FWD && n->u.fwd.def != NULL)
            n = n->u.fwd.def;
        if (!sema_is_scope(n)) {
            if (report)
                sema_error(ss, SEMA_AT(sn),
                           "'%s' in '%s' is %s, which has no members",
                           sn->parts[i - 1], sn->spelling, sema_a(ss, n));
            return NULL;
        }
        m = sema_lookup_in(ss, n, sn->parts[i], sn, report);
        if (ss->lookup_failed)
            return NULL;
        if (m == NULL) {
            if (report)
                sema_error(ss, SEMA_AT(sn), "'%s' has no member named '%s'",
                           n->scoped_name + 2, sn->parts[i]);
            return NULL;
        }
        n = m;
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * Declarations
 * ------------------------------------------------------------------------- */

static bool sema_is_fwd(ast_kind_t k)
{
    return k == AST_INTERFACE_FWD || k == AST_STRUCT_FWD ||
           k == AST_UNION_FWD;
}

/* The definition kind a forward declaration kind announces. */
static ast_kind_t sema_def_kind(ast_kind_t k)
{
    switch (k) {
    case AST_INTERFACE_FWD: return AST_INTERFACE;
    case AST_STRUCT_FWD: return AST_STRUCT;
    case AST_UNION_FWD: return AST_UNION;
    default: return k;
    }
}

static void sema_add_fwd(sema_state_t *ss, ast_node_t *n, sema_sym_t *sym)
{
    if (ss->n_fwds == ss->cap_fwds) {
        size_t nc = ss->cap_fwds ? ss->cap_fwds * 2 : 16;
        ss->fwds = mem_grow(ss->arena, ss->fwds, ss->n_fwds, nc,
                            sizeof *ss->fwds);
        ss->fwd_syms = mem_grow(ss->arena, ss->fwd_syms, ss->n_fwds, nc,
                                sizeof *ss->fwd_syms);
        ss->cap_fwds = nc;
    }
    ss->fwds[ss->n_fwds] = n;
    ss->fwd_syms[ss->n_fwds] = sym;
    ss->n_fwds++;
}

static void sema_redefined(sema_state_t *ss, const ast_node_t *n,
                           const ast_node_t *prev)
{
    sema_error(ss, SEMA_AT(n), "'%s' is already declared in this scope",
               n->name);
    diag_note(ss->diag, SEMA_AT(prev), "the previous declaration of '%s' "
              "(%s) is here", prev->name, sema_a(ss, prev));
}

/* Enter n into the names of scope. */
static void sema_declare(sema_state_t *ss, ast_node_t *scope, ast_node_t *n)
{
    sema_tab_t *t = sema_table(ss, scope);
    const char *lower = sema_lower(ss, n->name);
    sema_sym_t *sym;
    ast_node_t *owner = t->owner;

    if (n->name[0] == '\0')
        return;
    /* A name cannot be reused right inside the definition it names. */
    if (owner->kind != AST_ROOT && owner->kind != AST_OPERATION &&
        !ss->root->case_sensitive && sema_lower(ss, owner->name) == lower) {
        sema_error(ss, SEMA_AT(n), "'%s' cannot be declared inside %s: "
                   "it would hide the name of its enclosing scope", n->name,
                   sema_what(ss, owner));
        return;
    }
    sym = sema_tab_find(t, lower);
    if (sym == NULL) {
        sym = sema_tab_add(ss, t, lower, n);
        if (sema_is_fwd(n->kind))
            sema_add_fwd(ss, n, sym);
        return;
    }
    {
        ast_node_t *prev = sym->node;
        if (prev->name != n->name) {
            sema_error(ss, SEMA_AT(n), "'%s' collides with '%s': IDL names "
                       "that differ only in case clash", n->name,
                       prev->name);
            diag_note(ss->diag, SEMA_AT(prev), "'%s' is declared here",
                      prev->name);
            return;
        }
        if (sema_is_fwd(n->kind) &&
            (prev->kind == n->kind || prev->kind == sema_def_kind(n->kind))) {
            sema_add_fwd(ss, n, sym);
            return;
        }
        if (sema_is_fwd(prev->kind) && sema_def_kind(prev->kind) == n->kind) {
            sym->node = n;
            return;
        }
        sema_redefined(ss, n, prev);
    }
}

/* ---------------------------------------------------------------------------
 * Constant values
 * ------------------------------------------------------------------------- */

/* Fixed-point decimals: up to 62 digits while computing, 31 kept. */
#define SEMA_FIXED_MAX 31
#define SEMA_DEC_DIGITS 96

typedef struct sema_dec {
    bool neg;
    int n;                          /* digits used */
    int scale;                      /* digits after the point */
    unsigned char d[SEMA_DEC_DIGITS];   /* least significant first */
} sema_dec_t;

typedef enum sema_vk {
    SV_ERR, SV_INT, SV_FLOAT, SV_FIXED, SV_CHAR, SV_WCHAR, SV_BOOL,
    SV_STRING, SV_WSTRING, SV_ENUM
} sema_vk_t;

typedef struct sema_val {
    sema_vk_t k;
    bool neg;                   /* SV_INT: value = neg ? -mag : mag */
    uint64_t mag;
    long double f;
    sema_dec_t dec;
    uint32_t ch;
    bool b;
    const char *s;
    size_t len;
    const ast_node_t *en;
} sema_val_t;

/* What a constant expression must produce. */
typedef enum sema_cat {
    SC_INT, SC_FLOAT, SC_FIXED, SC_CHAR, SC_WCHAR, SC_BOOL, SC_STRING,
    SC_WSTRING, SC_ENUM, SC_BAD
} sema_cat_t;

typedef struct sema_target {
    sema_cat_t cat;
    ast_type_kind_t tk;         /* the unaliased type kind */
    bool is_signed;             /* SC_INT */
    unsigned bits;              /* SC_INT: 8, 16, 32, 64 */
    const ast_node_t *enm;      /* SC_ENUM */
    uint32_t bound;             /* SC_STRING / SC_WSTRING: 0 = none */
    const char *what;           /* the type, for messages */
} sema_target_t;

static const char *sema_val_kind_name(sema_vk_t k)
{
    switch (k) {
    case SV_INT: return "an integer";
    case SV_FLOAT: return "a floating-point value";
    case SV_FIXED: return "a fixed-point value";
    case SV_CHAR: return "a character";
    case SV_WCHAR: return "a wide character";
    case SV_BOOL: return "a boolean";
    case SV_STRING: return "a string";
    case SV_WSTRING: return "a wide string";
    case SV_ENUM: return "an enumerator";
    default: return "an invalid value";
    }
}

static const char *sema_int_str(sema_state_t *ss, const sema_val_t *v)
{
    return mem_printf(ss->arena, "%s%" PRIu64, v->neg && v->mag ? "-" : "",
                      v->mag);
}

/* Decimal helpers ---------------------------------------------------------- */

static void sema_dec_trim(sema_dec_t *a)
{
    while (a->n > 0 && a->d[a->n - 1] == 0 && a->n > a->scale)
        a->n--;
    if (a->n == 0) {
        a->neg = false;
        a->scale = 0;
    }
}

static void sema_dec_from_digits(sema_dec_t *a, const char *digits, int scale,
                                 bool neg)
{
    int len = (int)strlen(digits), i;

    memset(a, 0, sizeof *a);
    if (len > SEMA_DEC_DIGITS)
        len = SEMA_DEC_DIGITS;
    for (i = 0; i < len; i++)
        a->d[i] = (unsigned char)(digits[len - 1 - i] - '0');
    a->n = len;
    a->scale = scale;
    a->neg = neg;
    if (a->n < a->scale)
        a->n = a->scale;
    sema_dec_trim(a);
}

static void sema_dec_from_int(sema_dec_t *a, bool neg, uint64_t mag)
{
    memset(a, 0, sizeof *a);
    while (mag > 0) {
        a->d[a->n++] = (unsigned char)(mag % 10);
        mag /= 10;
    }
    a->neg = neg && a->n > 0;
}

/* Multiply by 10^k (raise the scale by k); false if too long. */
static bool sema_dec_rescale(sema_dec_t *a, int k)
{
    int i;

    if (k <= 0)
        return true;
    if (a->n + k > SEMA_DEC_DIGITS)
        return false;
    for (i = a->n - 1; i >= 0; i--)
        a->d[i + k] = a->d[i];
    for (i = 0; i < k; i++)
        a->d[i] = 0;
    a->n += k;
    a->scale += k;
    return true;
}

/* Compare magnitudes of two decimals of the same scale. */
static int sema_dec_cmpmag(const sema_dec_t *a, const sema_dec_t *b)
{
    int n = a->n > b->n ? a->n : b->n, i;

    for (i = n - 1; i >= 0; i--) {
        int x = i < a->n ? a->d[i] : 0, y = i < b->n ? b->d[i] : 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* r = |a| + |b| or |a| - |b| (|a| >= |b|), same scale. */
static bool sema_dec_addmag(sema_dec_t *r, const sema_dec_t *a,
                            const sema_dec_t *b, bool sub)
{
    int n = a->n > b->n ? a->n : b->n, i, carry = 0;
    sema_dec_t out;

    memset(&out, 0, sizeof out);
    for (i = 0; i < n; i++) {
        int x = (i < a->n ? a->d[i] : 0);
        int y = (i < b->n ? b->d[i] : 0);
        int v = sub ? x - y - carry : x + y + carry;
        carry = 0;
        if (v < 0) {
            v += 10;
            carry = 1;
        } else if (v >= 10) {
            v -= 10;
            carry = 1;
        }
        out.d[i] = (unsigned char)v;
    }
    out.n = n;
    if (!sub && carry) {
        if (n >= SEMA_DEC_DIGITS)
            return false;
        out.d[out.n++] = 1;
    }
    out.scale = a->scale;
    *r = out;
    return true;
}

static bool sema_dec_add(sema_dec_t *r, sema_dec_t a, sema_dec_t b, bool sub)
{
    bool bneg = sub ? !b.neg : b.neg;

    if (!sema_dec_rescale(&a, b.scale - a.scale) ||
        !sema_dec_rescale(&b, a.scale - b.scale))
        return false;
    if (a.neg == bneg) {
        if (!sema_dec_addmag(r, &a, &b, false))
            return false;
        r->neg = a.neg;
    } else if (sema_dec_cmpmag(&a, &b) >= 0) {
        sema_dec_addmag(r, &a, &b, true);
        r->neg = a.neg;
    } else {
        sema_dec_addmag(r, &b, &a, true);
        r->neg = bneg;
    }
    sema_dec_trim(r);
    return true;
}

static bool sema_dec_mul(sema_dec_t *r, const sema_dec_t *a,
                         const sema_dec_t *b)
{
    unsigned acc[2 * SEMA_DEC_DIGITS];
    int i, j, n = a->n + b->n;
    sema_dec_t out;

    if (n > SEMA_DEC_DIGITS)
        return false;
    memset(acc, 0, sizeof acc);
    for (i = 0; i < a->n; i++)
        for (j = 0; j < b->n; j++)
            acc[i + j] += (unsigned)a->d[i] * b->d[j];
    memset(&out, 0, sizeof out);
    for (i = 0; i < n; i++) {
        acc[i + 1] += acc[i] / 10;
        out.d[i] = (unsigned char)(acc[i] % 10);
    }
    out.n = n;
    out.scale = a->scale + b->scale;
    out.neg = a->neg != b->neg;
    sema_dec_trim(&out);
    *r = out;
    return true;
}

/* Quotient to SEMA_FIXED_MAX significant digits (truncated). */
static bool sema_dec_div(sema_dec_t *r, sema_dec_t a, sema_dec_t b)
{
    sema_dec_t q, rem;
    int i, k;

    /* Work on integers: a * 10^k / b with both at the same scale. */
    if (!sema_dec_rescale(&a, b.scale - a.scale) ||
        !sema_dec_rescale(&b, a.scale - b.scale))
        return false;
    a.scale = 0;
    b.scale = 0;
    k = SEMA_FIXED_MAX + 1;
    if (!sema_dec_rescale(&a, k))
        return false;
    a.scale = 0;
    memset(&q, 0, sizeof q);
    memset(&rem, 0, sizeof rem);
    q.n = a.n;
    for (i = a.n - 1; i >= 0; i--) {
        int dgt = 0;
        /* rem = rem * 10 + a.d[i] */
        if (!sema_dec_rescale(&rem, 1))
            return false;
        rem.scale = 0;
        rem.d[0] = a.d[i];
        if (rem.n == 0)
            rem.n = 1;
        while (sema_dec_cmpmag(&rem, &b) >= 0) {
            sema_dec_addmag(&rem, &rem, &b, true);
            dgt++;
        }
        while (rem.n > 0 && rem.d[rem.n - 1] == 0)
            rem.n--;
        q.d[i] = (unsigned char)dgt;
    }
    q.scale = k;
    q.neg = a.neg != b.neg;
    sema_dec_trim(&q);
    *r = q;
    return true;
}

/* Fit a decimal in SEMA_FIXED_MAX digits, truncating fraction digits. */
static bool sema_dec_fit(sema_dec_t *a)
{
    sema_dec_trim(a);
    while (a->n > SEMA_FIXED_MAX && a->scale > 0) {
        int i;
        for (i = 0; i + 1 < a->n; i++)
            a->d[i] = a->d[i + 1];
        a->n--;
        a->scale--;
        sema_dec_trim(a);
    }
    /* Drop trailing fraction zeros. */
    while (a->scale > 0 && a->n > 0 && a->d[0] == 0) {
        int i;
        for (i = 0; i + 1 < a->n; i++)
            a->d[i] = a->d[i + 1];
        a->n--;
        a->scale--;
    }
    sema_dec_trim(a);
    return a->n <= SEMA_FIXED_MAX;
}

static const char *sema_dec_digits(sema_state_t *ss, const sema_dec_t *a)
{
    char *s = mem_alloc(ss->arena, (size_t)a->n + 2);
    int i, k = 0;

    if (a->n == 0) {
        s[0] = '0';
        s[1] = '\0';
        return s;
    }
    for (i = a->n - 1; i >= 0; i--)
        s[k++] = (char)('0' + a->d[i]);
    s[k] = '\0';
    return s;
}

/* Conversions between sema_val_t and ast_value_t --------------------------- */

static sema_val_t sema_from_value(const ast_value_t *v)
{
    sema_val_t r;

    memset(&r, 0, sizeof r);
    switch (v->kind) {
    case AST_V_INT:
        r.k = SV_INT;
        r.neg = v->v.i < 0;
        r.mag = v->v.i < 0 ? 0 - (uint64_t)v->v.i : (uint64_t)v->v.i;
        break;
    case AST_V_UINT:
        r.k = SV_INT;
        r.mag = v->v.u;
        break;
    case AST_V_FLOAT:
        r.k = SV_FLOAT;
        r.f = v->v.f;
        break;
    case AST_V_FIXED:
        r.k = SV_FIXED;
        sema_dec_from_digits(&r.dec, v->v.fixed.digits,
                             (int)v->v.fixed.scale, v->v.fixed.negative);
        break;
    case AST_V_CHAR:
        r.k = SV_CHAR;
        r.ch = v->v.ch;
        break;
    case AST_V_WCHAR:
        r.k = SV_WCHAR;
        r.ch = v->v.ch;
        break;
    case AST_V_BOOL:
        r.k = SV_BOOL;
        r.b = v->v.b;
        break;
    case AST_V_STRING:
    case AST_V_WSTRING:
        r.k = v->kind == AST_V_STRING ? SV_STRING : SV_WSTRING;
        r.s = v->v.str.s;
        r.len = v->v.str.len;
        break;
    case AST_V_ENUM:
        r.k = SV_ENUM;
        r.en = v->v.enumerator;
        break;
    default:
        r.k = SV_ERR;
        break;
    }
    return r;
}

/* Integer arithmetic on sign + magnitude ----------------------------------- */

static bool sema_int_add(sema_val_t *r, const sema_val_t *a,
                         const sema_val_t *b, bool sub)
{
    bool bneg = sub ? (b->mag != 0 && !b->neg) : b->neg;

    r->k = SV_INT;
    if (a->neg == bneg) {
        if (a->mag > UINT64_MAX - b->mag)
            return false;
        r->mag = a->mag + b->mag;
        r->neg = a->neg;
    } else if (a->mag >= b->mag) {
        r->mag = a->mag - b->mag;
        r->neg = a->neg;
    } else {
        r->mag = b->mag - a->mag;
        r->neg = bneg;
    }
    if (r->mag == 0)
        r->neg = false;
    return true;
}

/* Two's complement bit pattern of v in the given width; false if v does
 * not fit (as signed or unsigned) in it. */
static bool sema_int_bits(const sema_val_t *v, unsigned bits, uint64_t *out)
{
    uint64_t mask = bits >= 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);

    if (!v->neg) {
        if (v->mag > mask)
            return false;
        *out = v->mag;
        return true;
    }
    if (v->mag > ((uint64_t)1 << (bits - 1)))
        return false;
    *out = (0 - v->mag) & mask;
    return true;
}

/* The value of a bit pattern of the given width, signed or not. */
static sema_val_t sema_int_from_bits(uint64_t p, unsigned bits, bool sgn)
{
    sema_val_t r;
    uint64_t mask = bits >= 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);

    memset(&r, 0, sizeof r);
    r.k = SV_INT;
    p &= mask;
    if (sgn && (p >> (bits - 1)) & 1) {
        r.neg = true;
        r.mag = (0 - p) & mask;
        if (r.mag == 0)
            r.mag = (uint64_t)1 << (bits - 1);
    } else {
        r.mag = p;
    }
    return r;
}

/* ---------------------------------------------------------------------------
 * Expression evaluation
 * ------------------------------------------------------------------------- */

static sema_val_t sema_err(void)
{
    sema_val_t r;

    memset(&r, 0, sizeof r);
    r.k = SV_ERR;
    return r;
}

static const char *sema_op_name(ast_expr_kind_t k)
{
    switch (k) {
    case AST_E_NEG: return "-";
    case AST_E_PLUS: return "+";
    default: return ast_expr_kind_name(k);
    }
}

static void sema_store(ast_expr_t *e, const sema_val_t *v);

static sema_val_t sema_eval_body(sema_state_t *ss, ast_expr_t *e,
                                 ast_node_t *scope, const sema_target_t *t);

/* Deepest expression tree evaluated (the parser builds long chains of
 * binary operators without nesting, so the bound is needed here). */
#define SEMA_MAX_EVAL_DEPTH 500

/* Evaluate e for target t in scope; SV_ERR after a reported error. */
static sema_val_t sema_eval(sema_state_t *ss, ast_expr_t *e, ast_node_t *scope,
                            const sema_target_t *t)
{
    sema_val_t r;

    if (ss->eval_depth >= SEMA_MAX_EVAL_DEPTH) {
        if (!ss->eval_too_deep)
            sema_error(ss, SEMA_AT(e), "constant expression is too long or "
                       "nested too deeply (more than %d levels)",
                       SEMA_MAX_EVAL_DEPTH);
        ss->eval_too_deep = true;
        return sema_err();
    }
    ss->eval_depth++;
    r = sema_eval_body(ss, e, scope, t);
    ss->eval_depth--;
    if (ss->eval_depth == 0)
        ss->eval_too_deep = false;
    return r;
}

static sema_val_t sema_eval_body(sema_state_t *ss, ast_expr_t *e,
                                 ast_node_t *scope, const sema_target_t *t)
{
    sema_val_t a, b, r;

    memset(&r, 0, sizeof r);
    switch (e->kind) {
    case AST_E_LITERAL:
        r = sema_from_value(&e->value);
        break;
    case AST_E_NAME: {
        ast_node_t *n = sema_resolve(ss, scope, e->sname, true);
        if (n == NULL)
            return sema_err();
        e->decl = n;
        if (n->kind == AST_CONST) {
            if (n->u.constant.value.kind == AST_V_NONE)
                return sema_err();      /* its own error was reported */
            r = sema_from_value(&n->u.constant.value);
        } else if (n->kind == AST_ENUMERATOR) {
            r.k = SV_ENUM;
            r.en = n;
        } else {
            sema_error(ss, SEMA_AT(e), "'%s' is %s, not a constant",
                       e->spelling, sema_a(ss, n));
            return sema_err();
        }
        break;
    }
    case AST_E_NEG:
    case AST_E_PLUS:
    case AST_E_NOT:
        a = sema_eval(ss, e->lhs, scope, t);
        if (a.k == SV_ERR)
            return a;
        r = a;
        if (a.k == SV_INT) {
            if (e->kind == AST_E_NEG) {
                r.neg = a.mag != 0 && !a.neg;
            } else if (e->kind == AST_E_NOT) {
                /* ~ works in the width and signedness of the target. */
                unsigned bits = t->cat == SC_INT ? t->bits : 64;
                bool sgn = t->cat == SC_INT ? t->is_signed : a.neg;
                uint64_t p;
                if (!sema_int_bits(&a, bits, &p)) {
                    sema_error(ss, SEMA_AT(e), "operand of '~' (%s) does "
                               "not fit in %s", sema_int_str(ss, &a),
                               t->what);
                    return sema_err();
                }
                r = sema_int_from_bits(~p, bits, sgn);
            }
        } else if (a.k == SV_FLOAT && e->kind != AST_E_NOT) {
            if (e->kind == AST_E_NEG)
                r.f = -a.f;
        } else if (a.k == SV_FIXED && e->kind != AST_E_NOT) {
            if (e->kind == AST_E_NEG && a.dec.n > 0)
                r.dec.neg = !a.dec.neg;
        } else {
            sema_error(ss, SEMA_AT(e), "operator '%s' cannot be applied to "
                       "%s", sema_op_name(e->kind), sema_val_kind_name(a.k));
            return sema_err();
        }
        break;
    default: {
        ast_expr_kind_t k = e->kind;
        a = sema_eval(ss, e->lhs, scope, t);
        b = sema_eval(ss, e->rhs, scope, t);
        if (a.k == SV_ERR || b.k == SV_ERR)
            return sema_err();
        /* Integers meet floats / decimals by conversion. */
        if (a.k == SV_INT && b.k == SV_FLOAT) {
            a.k = SV_FLOAT;
            a.f = a.neg ? -(long double)a.mag : (long double)a.mag;
        } else if (a.k == SV_FLOAT && b.k == SV_INT) {
            b.k = SV_FLOAT;
            b.f = b.neg ? -(long double)b.mag : (long double)b.mag;
        } else if (a.k == SV_INT && b.k == SV_FIXED) {
            a.k = SV_FIXED;
            sema_dec_from_int(&a.dec, a.neg, a.mag);
        } else if (a.k == SV_FIXED && b.k == SV_INT) {
            b.k = SV_FIXED;
            sema_dec_from_int(&b.dec, b.neg, b.mag);
        }
        if (a.k != b.k || (a.k != SV_INT && a.k != SV_FLOAT &&
                           a.k != SV_FIXED)) {
            if (a.k == b.k || a.k == SV_INT || a.k == SV_FLOAT ||
                a.k == SV_FIXED)
                sema_error(ss, SEMA_AT(e), "operator '%s' cannot be applied "
                           "to %s and %s", sema_op_name(k),
                           sema_val_kind_name(a.k), sema_val_kind_name(b.k));
            else
                sema_error(ss, SEMA_AT(e), "operator '%s' cannot be applied "
                           "to %s", sema_op_name(k), sema_val_kind_name(a.k));
            return sema_err();
        }
        if (a.k == SV_FLOAT) {
            r.k = SV_FLOAT;
            switch (k) {
            case AST_E_ADD: r.f = a.f + b.f; break;
            case AST_E_SUB: r.f = a.f - b.f; break;
            case AST_E_MUL: r.f = a.f * b.f; break;
            case AST_E_DIV:
                if (b.f == 0) {
                    sema_error(ss, SEMA_AT(e), "division by zero in a "
                               "constant expression");
                    return sema_err();
                }
                r.f = a.f / b.f;
                break;
            default:
                sema_error(ss, SEMA_AT(e), "operator '%s' needs integer "
                           "operands, not floating-point ones",
                           sema_op_name(k));
                return sema_err();
            }
            if (!isfinite(r.f)) {
                sema_error(ss, SEMA_AT(e), "floating-point overflow in a "
                           "constant expression");
                return sema_err();
            }
            break;
        }
        if (a.k == SV_FIXED) {
            bool ok;
            r.k = SV_FIXED;
            switch (k) {
            case AST_E_ADD: ok = sema_dec_add(&r.dec, a.dec, b.dec, false);
                break;
            case AST_E_SUB: ok = sema_dec_add(&r.dec, a.dec, b.dec, true);
                break;
            case AST_E_MUL: ok = sema_dec_mul(&r.dec, &a.dec, &b.dec);
                break;
            case AST_E_DIV:
                if (b.dec.n == 0) {
                    sema_error(ss, SEMA_AT(e), "division by zero in a "
                               "constant expression");
                    return sema_err();
                }
                ok = sema_dec_div(&r.dec, a.dec, b.dec);
                break;
            default:
                sema_error(ss, SEMA_AT(e), "operator '%s' needs integer "
                           "operands, not fixed-point ones",
                           sema_op_name(k));
                return sema_err();
            }
            if (!ok || !sema_dec_fit(&r.dec)) {
                sema_error(ss, SEMA_AT(e), "fixed-point overflow: the result "
                           "has more than %d digits", SEMA_FIXED_MAX);
                return sema_err();
            }
            break;
        }
        /* Integers. */
        r.k = SV_INT;
        switch (k) {
        case AST_E_ADD:
        case AST_E_SUB:
            if (!sema_int_add(&r, &a, &b, k == AST_E_SUB))
                goto overflow;
            break;
        case AST_E_MUL:
            if (a.mag != 0 && b.mag > UINT64_MAX / a.mag)
                goto overflow;
            r.mag = a.mag * b.mag;
            r.neg = r.mag != 0 && a.neg != b.neg;
            break;
        case AST_E_DIV:
        case AST_E_MOD:
            if (b.mag == 0) {
                sema_error(ss, SEMA_AT(e), "division by zero in a constant "
                           "expression");
                return sema_err();
            }
            if (k == AST_E_DIV) {
                r.mag = a.mag / b.mag;
                r.neg = r.mag != 0 && a.neg != b.neg;
            } else {
                r.mag = a.mag % b.mag;
                r.neg = r.mag != 0 && a.neg;
            }
            break;
        case AST_E_SHL:
        case AST_E_SHR:
            if (b.neg || b.mag > 63) {
                sema_error(ss, SEMA_AT(e), "shift count %s is out of range "
                           "(0 to 63)", sema_int_str(ss, &b));
                return sema_err();
            }
            if (k == AST_E_SHL) {
                if (b.mag > 0 && (a.mag >> (64 - b.mag)) != 0)
                    goto overflow;
                r.mag = a.mag << b.mag;
                r.neg = a.neg && r.mag != 0;
            } else if (!a.neg) {
                r.mag = a.mag >> b.mag;
            } else {
                /* Arithmetic shift: floor(a / 2^n). */
                r.mag = ((a.mag - 1) >> b.mag) + 1;
                r.neg = true;
            }
            break;
        case AST_E_OR:
        case AST_E_XOR:
        case AST_E_AND: {
            unsigned bits = t->cat == SC_INT ? t->bits : 64;
            bool sgn = t->cat == SC_INT ? t->is_signed : (a.neg || b.neg);
            uint64_t pa, pb, p;
            if (!sema_int_bits(&a, bits, &pa) ||
                !sema_int_bits(&b, bits, &pb)) {
                sema_error(ss, SEMA_AT(e), "operand of '%s' does not fit in "
                           "%s", sema_op_name(k), t->what);
                return sema_err();
            }
            p = k == AST_E_OR ? (pa | pb) : k == AST_E_XOR ? (pa ^ pb)
                                                           : (pa & pb);
            r = sema_int_from_bits(p, bits, sgn);
            break;
        }
        default:
            break;
        }
        break;
    overflow:
        sema_error(ss, SEMA_AT(e), "integer overflow in a constant "
                   "expression: %s %s %s does not fit in 64 bits",
                   sema_int_str(ss, &a), sema_op_name(k),
                   sema_int_str(ss, &b));
        return sema_err();
    }
    }
    sema_store(e, &r);
    return r;
}

/* Record a computed value in the expression node (for dumps). */
static void sema_store(ast_expr_t *e, const sema_val_t *v)
{
    ast_value_t *o = &e->value;

    switch (v->k) {
    case SV_INT:
        if (v->neg) {
            o->kind = AST_V_INT;
            o->v.i = v->mag > (uint64_t)INT64_MAX
                         ? INT64_MIN : -(int64_t)v->mag;
        } else {
            o->kind = AST_V_UINT;
            o->v.u = v->mag;
        }
        break;
    case SV_FLOAT:
        o->kind = AST_V_FLOAT;
        o->v.f = v->f;
        break;
    default:
        break;
    }
}

/* The target for a constant of (declared) type ty. */
static sema_target_t sema_target_of(sema_state_t *ss, const ast_type_t *ty)
{
    sema_target_t t;
    const ast_type_t *u = ast_type_unalias(ty);
    char buf[256];

    memset(&t, 0, sizeof t);
    t.cat = SC_BAD;
    t.tk = u->kind;
    ast_type_format(ty, buf, sizeof buf);
    t.what = mem_strdup(ss->arena, buf);
    switch (u->kind) {
    case AST_T_SHORT: t.cat = SC_INT; t.bits = 16; t.is_signed = true; break;
    case AST_T_LONG: t.cat = SC_INT; t.bits = 32; t.is_signed = true; break;
    case AST_T_LONGLONG: t.cat = SC_INT; t.bits = 64; t.is_signed = true;
        break;
    case AST_T_USHORT: t.cat = SC_INT; t.bits = 16; break;
    case AST_T_ULONG: t.cat = SC_INT; t.bits = 32; break;
    case AST_T_ULONGLONG: t.cat = SC_INT; t.bits = 64; break;
    case AST_T_OCTET: t.cat = SC_INT; t.bits = 8; break;
    case AST_T_FLOAT: case AST_T_DOUBLE: case AST_T_LONGDOUBLE:
        t.cat = SC_FLOAT;
        break;
    case AST_T_FIXED: t.cat = SC_FIXED; break;
    case AST_T_CHAR: t.cat = SC_CHAR; break;
    case AST_T_WCHAR: t.cat = SC_WCHAR; break;
    case AST_T_BOOLEAN: t.cat = SC_BOOL; break;
    case AST_T_STRING: t.cat = SC_STRING; t.bound = u->u.string.bound; break;
    case AST_T_WSTRING: t.cat = SC_WSTRING; t.bound = u->u.string.bound;
        break;
    case AST_T_NAMED:
        if (u->u.named.decl != NULL && u->u.named.decl->kind == AST_ENUM) {
            t.cat = SC_ENUM;
            t.enm = u->u.named.decl;
        }
        break;
    default:
        break;
    }
    return t;
}

/* Count of code points in UTF-8 text. */
static size_t sema_utf8_len(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* Evaluate e as a value of target t, converted and range-checked into
 * *out.  False after a reported error. */
static bool sema_const_value(sema_state_t *ss, ast_expr_t *e,
                             ast_node_t *scope, const sema_target_t *t,
                             ast_value_t *out)
{
    sema_val_t v = sema_eval(ss, e, scope, t);

    memset(out, 0, sizeof *out);
    if (v.k == SV_ERR)
        return false;
    switch (t->cat) {
    case SC_INT: {
        uint64_t max;
        if (v.k != SV_INT) {
            sema_error(ss, SEMA_AT(e), "expected an integer value for %s, "
                       "found %s", t->what, sema_val_kind_name(v.k));
            return false;
        }
        max = t->bits >= 64 ? UINT64_MAX : (((uint64_t)1 << t->bits) - 1);
        if (t->is_signed) {
            uint64_t lim = (uint64_t)1 << (t->bits - 1);
            if ((!v.neg && v.mag > lim - 1) || (v.neg && v.mag > lim)) {
                sema_error(ss, SEMA_AT(e), "value %s is out of range for "
                           "%s (%s%" PRIu64 " to %" PRIu64 ")",
                           sema_int_str(ss, &v), t->what, "-", lim, lim - 1);
                return false;
            }
            out->kind = AST_V_INT;
            out->v.i = v.neg ? (v.mag == lim && t->bits == 64
                                    ? INT64_MIN : -(int64_t)v.mag)
                             : (int64_t)v.mag;
        } else {
            if (v.neg || v.mag > max) {
                sema_error(ss, SEMA_AT(e), "value %s is out of range for "
                           "%s (0 to %" PRIu64 ")", sema_int_str(ss, &v),
                           t->what, max);
                return false;
            }
            out->kind = AST_V_UINT;
            out->v.u = v.mag;
        }
        return true;
    }
    case SC_FLOAT: {
        long double f, lim;
        if (v.k == SV_INT)
            f = v.neg ? -(long double)v.mag : (long double)v.mag;
        else if (v.k == SV_FLOAT)
            f = v.f;
        else {
            sema_error(ss, SEMA_AT(e), "expected a floating-point value for "
                       "%s, found %s", t->what, sema_val_kind_name(v.k));
            return false;
        }
        lim = t->tk == AST_T_FLOAT ? (long double)FLT_MAX
            : t->tk == AST_T_DOUBLE ? (long double)DBL_MAX : LDBL_MAX;
        if (fabsl(f) > lim) {
            sema_error(ss, SEMA_AT(e), "value %Lg is out of range for %s", f,
                       t->what);
            return false;
        }
        out->kind = AST_V_FLOAT;
        out->v.f = f;
        return true;
    }
    case SC_FIXED:
        if (v.k == SV_INT) {
            v.k = SV_FIXED;
            sema_dec_from_int(&v.dec, v.neg, v.mag);
        }
        if (v.k != SV_FIXED) {
            sema_error(ss, SEMA_AT(e), "expected a fixed-point value for %s, "
                       "found %s", t->what, sema_val_kind_name(v.k));
            return false;
        }
        if (!sema_dec_fit(&v.dec)) {
            sema_error(ss, SEMA_AT(e), "fixed-point constant has more than "
                       "%d digits", SEMA_FIXED_MAX);
            return false;
        }
        out->kind = AST_V_FIXED;
        out->v.fixed.digits = sema_dec_digits(ss, &v.dec);
        out->v.fixed.scale = (uint32_t)v.dec.scale;
        out->v.fixed.negative = v.dec.neg;
        return true;
    case SC_CHAR:
        if (v.k != SV_CHAR) {
            sema_error(ss, SEMA_AT(e), "expected a character for %s, found "
                       "%s", t->what, sema_val_kind_name(v.k));
            return false;
        }
        out->kind = AST_V_CHAR;
        out->v.ch = v.ch;
        return true;
    case SC_WCHAR:
        if (v.k != SV_WCHAR && v.k != SV_CHAR) {
            sema_error(ss, SEMA_AT(e), "expected a wide character for %s, "
                       "found %s", t->what, sema_val_kind_name(v.k));
            return false;
        }
        out->kind = AST_V_WCHAR;
        out->v.ch = v.ch;
        return true;
    case SC_BOOL:
        if (v.k != SV_BOOL) {
            sema_error(ss, SEMA_AT(e), "expected TRUE or FALSE for %s, found "
                       "%s", t->what, sema_val_kind_name(v.k));
            return false;
        }
        out->kind = AST_V_BOOL;
        out->v.b = v.b;
        return true;
    case SC_STRING:
    case SC_WSTRING: {
        size_t n;
        if (!(v.k == SV_STRING ||
              (t->cat == SC_WSTRING && v.k == SV_WSTRING))) {
            sema_error(ss, SEMA_AT(e), "expected a %sstring for %s, found %s",
                       t->cat == SC_WSTRING ? "wide " : "", t->what,
                       sema_val_kind_name(v.k));
            return false;
        }
        n = t->cat == SC_WSTRING ? sema_utf8_len(v.s, v.len) : v.len;
        if (t->bound != 0 && n > t->bound) {
            sema_error(ss, SEMA_AT(e), "string of %zu characters is longer "
                       "than the bound of %s", n, t->what);
            return false;
        }
        out->kind = t->cat == SC_STRING ? AST_V_STRING : AST_V_WSTRING;
        out->v.str.s = v.s;
        out->v.str.len = v.len;
        return true;
    }
    case SC_ENUM:
        if (v.k != SV_ENUM || v.en->u.enumerator.enm != t->enm) {
            sema_error(ss, SEMA_AT(e), "expected an enumerator of %s, found "
                       "%s", sema_what(ss, t->enm),
                       v.k == SV_ENUM
                           ? mem_printf(ss->arena, "'%s' of %s",
                                        v.en->name,
                                        sema_what(ss, v.en->u.enumerator.enm))
                           : sema_val_kind_name(v.k));
            return false;
        }
        out->kind = AST_V_ENUM;
        out->v.enumerator = v.en;
        return true;
    default:
        return false;
    }
}

/* A positive integer (bound, dimension, digits): 0 after an error. */
static uint32_t sema_positive(sema_state_t *ss, ast_expr_t *e,
                              ast_node_t *scope, const char *what,
                              bool zero_ok)
{
    sema_target_t t;
    ast_value_t v;

    memset(&t, 0, sizeof t);
    t.cat = SC_INT;
    t.tk = AST_T_ULONG;
    t.bits = 32;
    t.what = what;
    if (!sema_const_value(ss, e, scope, &t, &v))
        return 0;
    if (v.v.u == 0 && !zero_ok) {
        sema_error(ss, SEMA_AT(e), "%s must be positive", what);
        return 0;
    }
    return (uint32_t)v.v.u;
}

/* ---------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------- */

static bool sema_is_defining(const sema_state_t *ss, const ast_node_t *n)
{
    size_t i;

    for (i = ss->n_defining; i > 0; i--)
        if (ss->defining[i - 1] == n)
            return true;
    return false;
}

static void sema_push_defining(sema_state_t *ss, ast_node_t *n)
{
    if (ss->n_defining == ss->cap_defining) {
        size_t nc = ss->cap_defining ? ss->cap_defining * 2 : 8;
        ss->defining = mem_grow(ss->arena, ss->defining, ss->n_defining, nc,
                                sizeof *ss->defining);
        ss->cap_defining = nc;
    }
    ss->defining[ss->n_defining++] = n;
}

static void sema_add_fixup(sema_state_t *ss, ast_type_t *t)
{
    if (ss->n_fixups == ss->cap_fixups) {
        size_t nc = ss->cap_fixups ? ss->cap_fixups * 2 : 16;
        ss->fixups = mem_grow(ss->arena, ss->fixups, ss->n_fixups, nc,
                              sizeof *ss->fixups);
        ss->cap_fixups = nc;
    }
    ss->fixups[ss->n_fixups++] = t;
}

/* Resolve and check type t used in scope.  in_seq: t is (part of) a
 * sequence element, where incomplete and recursive types are allowed. */
static void sema_type(sema_state_t *ss, ast_type_t *t, ast_node_t *scope,
                      bool in_seq)
{
    size_t i;

    switch (t->kind) {
    case AST_T_STRING:
    case AST_T_WSTRING:
        if (t->u.string.bound_expr != NULL)
            t->u.string.bound = sema_positive(ss, t->u.string.bound_expr,
                                              scope, "a string bound", false);
        break;
    case AST_T_SEQUENCE:
        sema_type(ss, t->u.seq.elem, scope, true);
        if (t->u.seq.bound_expr != NULL)
            t->u.seq.bound = sema_positive(ss, t->u.seq.bound_expr, scope,
                                           "a sequence bound", false);
        break;
    case AST_T_ARRAY:
        sema_type(ss, t->u.array.elem, scope, in_seq);
        for (i = 0; i < t->u.array.n_dims; i++)
            t->u.array.dims[i] = sema_positive(ss, t->u.array.dim_exprs[i],
                                               scope, "an array dimension",
                                               false);
        break;
    case AST_T_FIXED:
        if (t->u.fixed.digits_expr != NULL) {
            t->u.fixed.digits = sema_positive(ss, t->u.fixed.digits_expr,
                                              scope, "the digits of a fixed "
                                              "type", false);
            t->u.fixed.scale = sema_positive(ss, t->u.fixed.scale_expr,
                                             scope, "the scale of a fixed "
                                             "type", true);
            if (t->u.fixed.digits > SEMA_FIXED_MAX)
                sema_error(ss, SEMA_AT(t), "a fixed type has at most %d "
                           "digits, not %u", SEMA_FIXED_MAX,
                           (unsigned)t->u.fixed.digits);
            else if (t->u.fixed.scale > t->u.fixed.digits)
                sema_error(ss, SEMA_AT(t), "the scale of fixed<%u,%u> is "
                           "larger than its digits",
                           (unsigned)t->u.fixed.digits,
                           (unsigned)t->u.fixed.scale);
        }
        break;
    case AST_T_NAMED: {
        ast_node_t *d = t->u.named.decl;
        const ast_sname_t *sn = t->u.named.sname;
        if (d == NULL) {
            if (((sn->n_parts == 1 && strcmp(sn->parts[0], "TypeCode") == 0) ||
                 (sn->n_parts == 2 && strcmp(sn->parts[0], "CORBA") == 0 &&
                  strcmp(sn->parts[1], "TypeCode") == 0)) &&
                sema_resolve(ss, scope, sn, false) == NULL) {
                /* The built-in pseudo-object type. */
                t->kind = AST_T_TYPECODE;
                break;
            }
            d = sema_resolve(ss, scope, sn, true);
            if (d == NULL)
                break;
        }
        switch (d->kind) {
        case AST_TYPEDEF: case AST_STRUCT: case AST_UNION: case AST_ENUM:
        case AST_INTERFACE: case AST_NATIVE:
            break;
        case AST_INTERFACE_FWD:
            t->u.named.fwd = d;
            sema_add_fixup(ss, t);
            break;
        case AST_STRUCT_FWD:
        case AST_UNION_FWD:
            t->u.named.fwd = d;
            sema_add_fixup(ss, t);
            if (!in_seq)
                sema_error(ss, SEMA_AT(t), "%s is not defined yet: before "
                           "its definition it can only be used as a "
                           "sequence element", sema_what(ss, d));
            break;
        default:
            sema_error(ss, SEMA_AT(t), "'%s' is %s, not a type",
                       sn->spelling, sema_a(ss, d));
            return;
        }
        t->u.named.decl = d;
        if (!in_seq && sema_is_defining(ss, d))
            sema_error(ss, SEMA_AT(t), "%s cannot contain itself (recursion "
                       "is only allowed through a sequence)",
                       sema_what(ss, d));
        break;
    }
    default:
        break;
    }
}

/* Native types stand for language-level things (servants, cookies):
 * they may appear in operation signatures only, never in data. */
static void sema_check_native_use(sema_state_t *ss, const ast_type_t *t,
                                  const char *where)
{
    const ast_node_t *d = ast_type_decl(t);

    if (d != NULL && d->kind == AST_NATIVE)
        sema_error(ss, SEMA_AT(t), "native type '%s' cannot be used as %s "
                   "(only as an operation parameter or result)", d->name,
                   where);
}

/* Operation results, parameters and attributes take named types only
 * (besides basic types and strings). */
static void sema_check_anonymous(sema_state_t *ss, const ast_type_t *t,
                                 const char *where)
{
    if (t->kind == AST_T_SEQUENCE || t->kind == AST_T_FIXED)
        sema_error(ss, SEMA_AT(t), "an anonymous %s type cannot be used as "
                   "%s; declare it with a typedef",
                   ast_type_kind_name(t->kind), where);
}

/* ---------------------------------------------------------------------------
 * The walk
 * ------------------------------------------------------------------------- */

static void sema_scope_members(sema_state_t *ss, ast_node_t *scope);

/* Is exc an exception already listed in refs[0..n)? */
static bool sema_refs_has(const ast_refs_t *r, size_t n, const ast_node_t *x)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (r->items[i] == x)
            return true;
    return false;
}

/* Resolve a raises / getraises / setraises list in scope. */
static void sema_raises(sema_state_t *ss, ast_refs_t *r, ast_node_t *scope)
{
    size_t i;

    for (i = 0; i < r->count; i++) {
        ast_node_t *x = sema_resolve(ss, scope, &r->names[i], true);
        if (x == NULL)
            continue;
        if (x->kind != AST_EXCEPTION) {
            sema_error(ss, SEMA_AT(&r->names[i]), "'%s' is %s, not an "
                       "exception", r->names[i].spelling,
                       sema_a(ss, x));
            continue;
        }
        if (sema_refs_has(r, i, x)) {
            sema_error(ss, SEMA_AT(&r->names[i]), "exception '%s' is listed "
                       "twice", r->names[i].spelling);
            continue;
        }
        r->items[i] = x;
    }
    /* Keep only resolved entries so back ends never see NULL. */
    {
        size_t w = 0;
        for (i = 0; i < r->count; i++) {
            if (r->items[i] == NULL)
                continue;
            r->items[w] = r->items[i];
            r->names[w] = r->names[i];
            w++;
        }
        r->count = w;
    }
}

/* Interface n: bases, ancestors, inherited clashes. */
static void sema_interface_bases(sema_state_t *ss, ast_node_t *n)
{
    ast_refs_t *b = &n->u.iface.bases;
    ast_refs_t *anc = &n->u.iface.ancestors;
    sema_map_t seen;
    size_t i, j, cap = 0;

    memset(&seen, 0, sizeof seen);
    for (i = 0; i < b->count; i++) {
        ast_node_t *x = sema_resolve(ss, n->parent, &b->names[i], true);
        if (x == NULL)
            continue;
        if (x->kind == AST_INTERFACE_FWD) {
            if (x->u.fwd.def == NULL) {
                sema_error(ss, SEMA_AT(&b->names[i]), "interface '%s' "
                           "cannot inherit from '%s': it is only "
                           "forward-declared so far", n->name,
                           b->names[i].spelling);
                continue;
            }
            x = x->u.fwd.def;
        }
        if (x->kind != AST_INTERFACE) {
            sema_error(ss, SEMA_AT(&b->names[i]), "'%s' is %s, not an "
                       "interface", b->names[i].spelling,
                       sema_a(ss, x));
            continue;
        }
        if (sema_refs_has(b, i, x)) {
            sema_error(ss, SEMA_AT(&b->names[i]), "'%s' is listed twice as "
                       "a base of interface '%s'", b->names[i].spelling,
                       n->name);
            continue;
        }
        if (n->u.iface.is_abstract && !x->u.iface.is_abstract)
            sema_error(ss, SEMA_AT(&b->names[i]), "abstract interface '%s' "
                       "can only inherit from abstract interfaces, and '%s' "
                       "is not one", n->name, b->names[i].spelling);
        if (!n->u.iface.is_local && x->u.iface.is_local)
            sema_error(ss, SEMA_AT(&b->names[i]), "interface '%s' cannot "
                       "inherit from local interface '%s' unless it is "
                       "local too", n->name, b->names[i].spelling);
        b->items[i] = x;
    }
    {
        size_t w = 0;
        for (i = 0; i < b->count; i++) {
            if (b->items[i] == NULL)
                continue;
            b->items[w] = b->items[i];
            b->names[w] = b->names[i];
            w++;
        }
        b->count = w;
    }
    /* Ancestors: each base, then its ancestors, once each. */
    anc->count = 0;
    if (b->count == 1) {
        /* One base: its ancestors cannot repeat, nor clash. */
        ast_node_t *x = b->items[0];
        anc->count = x->u.iface.ancestors.count + 1;
        anc->items = mem_alloc(ss->arena, anc->count * sizeof *anc->items);
        anc->items[0] = x;
        for (j = 0; j < x->u.iface.ancestors.count; j++)
            anc->items[j + 1] = x->u.iface.ancestors.items[j];
        return;
    }
    for (i = 0; i < b->count; i++) {
        ast_node_t *x = b->items[i];
        for (j = 0; j <= x->u.iface.ancestors.count; j++) {
            ast_node_t *y = j == 0 ? x : x->u.iface.ancestors.items[j - 1];
            if (sema_map_get(&seen, y) != NULL)
                continue;
            sema_map_put(ss, &seen, y, y);
            if (anc->count == cap) {
                size_t nc = cap ? cap * 2 : 4;
                anc->items = mem_grow(ss->arena, anc->items, anc->count, nc,
                                      sizeof *anc->items);
                cap = nc;
            }
            anc->items[anc->count++] = y;
        }
    }
    /* Operations and attributes inherited twice through different paths
     * are fine only if they are the same declaration. */
    if (anc->count > 1) {
        sema_map_t ops;         /* lower name -> node */
        sema_map_t from;        /* node -> ancestor */
        memset(&ops, 0, sizeof ops);
        memset(&from, 0, sizeof from);
        for (i = 0; i < anc->count; i++) {
            ast_node_t *a = anc->items[i];
            AST_FOREACH(m, a) {
                const char *l;
                ast_node_t *prev;
                if (m->kind != AST_OPERATION && m->kind != AST_ATTRIBUTE)
                    continue;
                l = sema_lower(ss, m->name);
                prev = sema_map_get(&ops, l);
                if (prev == NULL) {
                    sema_map_put(ss, &ops, l, m);
                    sema_map_put(ss, &from, m, a);
                } else if (prev != m) {
                    const ast_node_t *pa = sema_map_get(&from, prev);
                    sema_error(ss, SEMA_AT(n), "interface '%s' inherits "
                               "%s '%s' from '%s' and %s '%s' from '%s'",
                               n->name, ast_kind_name(prev->kind),
                               prev->name, pa->scoped_name + 2,
                               ast_kind_name(m->kind), m->name,
                               a->scoped_name + 2);
                }
            }
        }
    }
}

/* An operation or attribute must not redefine an inherited one. */
static void sema_check_inherited(sema_state_t *ss, ast_node_t *iface,
                                 ast_node_t *m)
{
    const char *l = sema_lower(ss, m->name);
    size_t i;

    for (i = 0; i < iface->u.iface.ancestors.count; i++) {
        ast_node_t *a = iface->u.iface.ancestors.items[i];
        sema_sym_t *s = sema_tab_find(sema_map_get(&ss->tables, a), l);
        if (s != NULL && (s->node->kind == AST_OPERATION ||
                          s->node->kind == AST_ATTRIBUTE)) {
            sema_error(ss, SEMA_AT(m), "%s '%s' redefines %s '%s' inherited "
                       "from '%s'", ast_kind_name(m->kind), m->name,
                       ast_kind_name(s->node->kind), s->node->name,
                       a->scoped_name + 2);
            return;
        }
    }
}

/* A label value as IDL would write it. */
static const char *sema_value_str(sema_state_t *ss, const ast_value_t *v)
{
    switch (v->kind) {
    case AST_V_INT:
        return mem_printf(ss->arena, "%" PRId64, v->v.i);
    case AST_V_UINT:
        return mem_printf(ss->arena, "%" PRIu64, v->v.u);
    case AST_V_BOOL:
        return v->v.b ? "TRUE" : "FALSE";
    case AST_V_ENUM:
        return v->v.enumerator->name;
    case AST_V_CHAR:
    case AST_V_WCHAR:
        if (v->v.ch >= 0x20 && v->v.ch < 0x7f && v->v.ch != '\'' &&
            v->v.ch != '\\')
            return mem_printf(ss->arena, "%s'%c'",
                              v->kind == AST_V_WCHAR ? "L" : "",
                              (int)v->v.ch);
        return mem_printf(ss->arena, "%s'\\x%02" PRIX32 "'",
                          v->kind == AST_V_WCHAR ? "L" : "", v->v.ch);
    default:
        return "?";
    }
}

/* A map from 64-bit keys to labels (duplicate label detection). */
typedef struct sema_keymap {
    uint64_t *keys;
    const ast_label_t **vals;
    size_t cap, used;
} sema_keymap_t;

static size_t sema_key_slot(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static const ast_label_t *sema_keymap_get(const sema_keymap_t *m, uint64_t k)
{
    size_t j;

    if (m->cap == 0)
        return NULL;
    j = sema_key_slot(k, m->cap);
    while (m->vals[j] != NULL) {
        if (m->keys[j] == k)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

static void sema_keymap_put(sema_state_t *ss, sema_keymap_t *m, uint64_t k,
                            const ast_label_t *v)
{
    size_t j;

    if ((m->used + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16, i;
        uint64_t *ok = m->keys;
        const ast_label_t **ov = m->vals;
        size_t ocap = m->cap;
        m->keys = mem_zalloc(ss->arena, ncap * sizeof *m->keys);
        m->vals = mem_zalloc(ss->arena, ncap * sizeof *m->vals);
        m->cap = ncap;
        for (i = 0; i < ocap; i++) {
            if (ov[i] == NULL)
                continue;
            j = sema_key_slot(ok[i], ncap);
            while (m->vals[j] != NULL)
                j = (j + 1) & (ncap - 1);
            m->keys[j] = ok[i];
            m->vals[j] = ov[i];
        }
    }
    j = sema_key_slot(k, m->cap);
    while (m->vals[j] != NULL)
        j = (j + 1) & (m->cap - 1);
    m->keys[j] = k;
    m->vals[j] = v;
    m->used++;
}

/* Union labels: evaluate, check types and duplicates, find a default. */
static void sema_union_labels(sema_state_t *ss, ast_node_t *u)
{
    const ast_type_t *dt = ast_type_unalias(u->u.uni.disc_type);
    sema_target_t t = sema_target_of(ss, u->u.uni.disc_type);
    sema_keymap_t used;         /* value key -> label */
    ast_node_t *dflt = NULL;
    const ast_label_t *dflt_label = NULL;
    size_t n_labels = 0;
    uint64_t range;             /* number of discriminator values - 1 */

    memset(&used, 0, sizeof used);
    if (t.cat != SC_INT && t.cat != SC_CHAR && t.cat != SC_WCHAR &&
        t.cat != SC_BOOL && t.cat != SC_ENUM) {
        if (dt->kind != AST_T_NAMED || dt->u.named.decl != NULL)
            sema_error(ss, SEMA_AT(u->u.uni.disc_type), "%s cannot be a "
                       "union discriminator: use an integer, char, wchar, "
                       "boolean, octet or enum type", t.what);
        return;
    }
    AST_FOREACH(c, u) {
        size_t i;
        if (c->kind != AST_UNION_CASE)
            continue;
        for (i = 0; i < c->u.ucase.n_labels; i++) {
            ast_label_t *l = &c->u.ucase.labels[i];
            uint64_t key;
            const ast_label_t *prev;
            if (l->is_default) {
                if (dflt != NULL) {
                    sema_error(ss, SEMA_AT(l), "union '%s' has more than "
                               "one default label", u->name);
                    diag_note(ss->diag, SEMA_AT(dflt_label),
                              "the first default label is here");
                } else {
                    dflt = c;
                    dflt_label = l;
                }
                continue;
            }
            /* A union's own scope holds only its members and nested
               types, never a constant: labels are looked up outside. */
            if (!sema_const_value(ss, l->expr, u->parent, &t, &l->value))
                continue;
            switch (l->value.kind) {
            case AST_V_INT: key = (uint64_t)l->value.v.i; break;
            case AST_V_UINT: key = l->value.v.u; break;
            case AST_V_CHAR: case AST_V_WCHAR: key = l->value.v.ch; break;
            case AST_V_BOOL: key = l->value.v.b; break;
            case AST_V_ENUM:
                key = l->value.v.enumerator->u.enumerator.ordinal;
                break;
            default: key = 0; break;
            }
            prev = sema_keymap_get(&used, key);
            if (prev != NULL) {
                sema_error(ss, SEMA_AT(l), "duplicate case label %s in "
                           "union '%s'", sema_value_str(ss, &l->value),
                           u->name);
                diag_note(ss->diag, SEMA_AT(prev),
                          "the same label is used here");
                continue;
            }
            sema_keymap_put(ss, &used, key, l);
            n_labels++;
        }
    }
    u->u.uni.default_case = dflt;
    /* A discriminator value no label uses, if there is one. */
    switch (t.cat) {
    case SC_BOOL: range = 1; break;
    case SC_CHAR: range = 255; break;
    case SC_WCHAR: range = 0xffff; break;
    case SC_ENUM: range = t.enm->u.enm.count ? t.enm->u.enm.count - 1 : 0;
        break;
    default:
        range = t.bits >= 64 ? UINT64_MAX : (((uint64_t)1 << t.bits) - 1);
        break;
    }
    if ((uint64_t)n_labels <= range) {
        /* Try 0, 1, 2, ... (as keys); one is free among the first
           n_labels + 1. */
        uint64_t k;
        for (k = 0; k <= (uint64_t)n_labels; k++)
            if (sema_keymap_get(&used, k) == NULL)
                break;
        u->u.uni.implicit_default = dflt == NULL;
        switch (t.cat) {
        case SC_BOOL:
            u->u.uni.default_disc.kind = AST_V_BOOL;
            u->u.uni.default_disc.v.b = k != 0;
            break;
        case SC_CHAR:
            u->u.uni.default_disc.kind = AST_V_CHAR;
            u->u.uni.default_disc.v.ch = (uint32_t)k;
            break;
        case SC_WCHAR:
            u->u.uni.default_disc.kind = AST_V_WCHAR;
            u->u.uni.default_disc.v.ch = (uint32_t)k;
            break;
        case SC_ENUM: {
            ast_node_t *en = t.enm->members.first;
            while (en != NULL && en->u.enumerator.ordinal != k)
                en = en->next;
            u->u.uni.default_disc.kind = AST_V_ENUM;
            u->u.uni.default_disc.v.enumerator = en;
            break;
        }
        default:
            if (t.is_signed) {
                u->u.uni.default_disc.kind = AST_V_INT;
                u->u.uni.default_disc.v.i = (int64_t)k;
            } else {
                u->u.uni.default_disc.kind = AST_V_UINT;
                u->u.uni.default_disc.v.u = k;
            }
            break;
        }
    } else if (dflt != NULL) {
        sema_error(ss, SEMA_AT(dflt_label), "the default label of union "
                   "'%s' can never be chosen: the case labels cover every "
                   "value of %s", u->name, t.what);
    }
}

/* Check one declaration n of the members of scope. */
static void sema_node(sema_state_t *ss, ast_node_t *scope, ast_node_t *n)
{
    switch (n->kind) {
    case AST_MODULE: {
        sema_tab_t *t = sema_map_get(&ss->tables, scope);
        sema_sym_t *prev = sema_tab_find(t, sema_lower(ss, n->name));
        if (prev != NULL && prev->node->kind == AST_MODULE &&
            prev->node->name == n->name) {
            /* Reopened: share the first opening's table, link openings. */
            ast_node_t *first = prev->node, *last;
            sema_map_put(ss, &ss->tables, n, sema_table(ss, first));
            last = sema_map_get(&ss->last_open, first);
            n->u.module.prev = last != NULL ? last : first;
            sema_map_put(ss, &ss->last_open, first, n);
        } else {
            sema_declare(ss, scope, n);
            sema_table(ss, n);
        }
        sema_scope_members(ss, n);
        break;
    }
    case AST_INTERFACE_FWD:
    case AST_STRUCT_FWD:
    case AST_UNION_FWD:
        sema_declare(ss, scope, n);
        break;
    case AST_INTERFACE: {
        sema_tab_t *t = sema_map_get(&ss->tables, scope);
        sema_sym_t *prev = sema_tab_find(t, sema_lower(ss, n->name));
        sema_interface_bases(ss, n);
        if (prev != NULL && prev->node->kind == AST_INTERFACE_FWD &&
            prev->node->name == n->name) {
            ast_node_t *f = prev->node;
            if (f->u.fwd.is_abstract != n->u.iface.is_abstract ||
                f->u.fwd.is_local != n->u.iface.is_local) {
                sema_error(ss, SEMA_AT(n), "interface '%s' is defined %s "
                           "but was forward-declared %s", n->name,
                           n->u.iface.is_abstract ? "abstract"
                           : n->u.iface.is_local ? "local" : "unconstrained",
                           f->u.fwd.is_abstract ? "abstract"
                           : f->u.fwd.is_local ? "local" : "unconstrained");
                diag_note(ss->diag, SEMA_AT(f), "the forward declaration "
                          "is here");
            }
            n->u.iface.fwd = f;
        }
        sema_declare(ss, scope, n);
        sema_table(ss, n);
        sema_scope_members(ss, n);
        break;
    }
    case AST_STRUCT:
    case AST_EXCEPTION:
    case AST_UNION: {
        sema_tab_t *t = sema_map_get(&ss->tables, scope);
        sema_sym_t *prev = sema_tab_find(t, sema_lower(ss, n->name));
        if (n->kind == AST_UNION)
            sema_type(ss, n->u.uni.disc_type, scope, false);
        if (prev != NULL && sema_is_fwd(prev->node->kind) &&
            sema_def_kind(prev->node->kind) == n->kind &&
            prev->node->name == n->name) {
            if (n->kind == AST_UNION)
                n->u.uni.fwd = prev->node;
            else
                n->u.strct.fwd = prev->node;
        }
        sema_declare(ss, scope, n);
        sema_table(ss, n);
        sema_push_defining(ss, n);
        sema_scope_members(ss, n);
        ss->n_defining--;
        if (n->kind != AST_EXCEPTION) {
            size_t k = 0;
            AST_FOREACH(m, n)
                if (m->kind == AST_MEMBER || m->kind == AST_UNION_CASE)
                    k++;
            if (k == 0)
                sema_error(ss, SEMA_AT(n), "%s has no members",
                           sema_what(ss, n));
        }
        if (n->kind == AST_UNION)
            sema_union_labels(ss, n);
        break;
    }
    case AST_ENUM: {
        sema_declare(ss, scope, n);
        AST_FOREACH(e, n)
            sema_declare(ss, scope, e);
        break;
    }
    case AST_TYPEDEF:
        sema_type(ss, n->u.tdef.type, scope, false);
        sema_declare(ss, scope, n);
        break;
    case AST_NATIVE:
        sema_declare(ss, scope, n);
        break;
    case AST_CONST: {
        sema_target_t t;
        sema_type(ss, n->u.constant.type, scope, false);
        t = sema_target_of(ss, n->u.constant.type);
        if (t.cat == SC_BAD) {
            const ast_type_t *u = ast_type_unalias(n->u.constant.type);
            if (u->kind != AST_T_NAMED || u->u.named.decl != NULL)
                sema_error(ss, SEMA_AT(n->u.constant.type), "a constant "
                           "cannot have type %s", t.what);
        } else {
            sema_const_value(ss, n->u.constant.expr, scope, &t,
                             &n->u.constant.value);
        }
        sema_declare(ss, scope, n);
        break;
    }
    case AST_MEMBER:
        sema_type(ss, n->u.member.type, scope, false);
        sema_check_native_use(ss, n->u.member.type, "a member");
        sema_declare(ss, scope, n);
        break;
    case AST_UNION_CASE:
        sema_type(ss, n->u.ucase.type, scope, false);
        sema_check_native_use(ss, n->u.ucase.type, "a union member");
        sema_declare(ss, scope, n);
        break;
    case AST_OPERATION:
        sema_type(ss, n->u.op.ret, scope, false);
        sema_check_anonymous(ss, n->u.op.ret, "an operation result");
        if (scope->kind == AST_INTERFACE)
            sema_check_inherited(ss, scope, n);
        sema_declare(ss, scope, n);
        sema_table(ss, n);
        AST_FOREACH(p, n) {
            sema_type(ss, p->u.param.type, n, false);
            sema_check_anonymous(ss, p->u.param.type, "a parameter");
            sema_declare(ss, n, p);
            if (n->u.op.oneway && p->u.param.mode != AST_PARAM_IN)
                sema_error(ss, SEMA_AT(p), "oneway operation '%s' cannot "
                           "have the %s parameter '%s' (only in)", n->name,
                           ast_param_mode_name(p->u.param.mode), p->name);
        }
        sema_raises(ss, &n->u.op.raises, scope);
        if (n->u.op.oneway) {
            if (n->u.op.ret->kind != AST_T_VOID)
                sema_error(ss, SEMA_AT(n), "oneway operation '%s' must "
                           "return void", n->name);
            if (n->u.op.raises.count > 0)
                sema_error(ss, SEMA_AT(n), "oneway operation '%s' cannot "
                           "raise exceptions", n->name);
        }
        {
            size_t i;
            for (i = 0; i < n->u.op.n_contexts; i++) {
                const char *c = n->u.op.contexts[i];
                size_t k, len = strlen(c);
                bool ok = len > 0 && isalpha((unsigned char)c[0]);
                for (k = 1; ok && k < len; k++)
                    ok = isalnum((unsigned char)c[k]) || c[k] == '.' ||
                         c[k] == '_' || (c[k] == '*' && k == len - 1);
                if (!ok)
                    sema_error(ss, SEMA_AT(n), "invalid context name \"%s\" "
                               "in operation '%s'", c, n->name);
            }
        }
        break;
    case AST_ATTRIBUTE:
        sema_type(ss, n->u.attr.type, scope, false);
        sema_check_anonymous(ss, n->u.attr.type, "an attribute");
        if (scope->kind == AST_INTERFACE)
            sema_check_inherited(ss, scope, n);
        sema_declare(ss, scope, n);
        sema_raises(ss, &n->u.attr.get_raises, scope);
        sema_raises(ss, &n->u.attr.set_raises, scope);
        break;
    default:
        break;
    }
}

static void sema_scope_members(sema_state_t *ss, ast_node_t *scope)
{
    AST_FOREACH(m, scope)
        sema_node(ss, scope, m);
}

/* ---------------------------------------------------------------------------
 * Final pass: forward declarations, pragmas, repository ids
 * ------------------------------------------------------------------------- */

static void sema_fix_forwards(sema_state_t *ss)
{
    size_t i;

    for (i = 0; i < ss->n_fwds; i++) {
        ast_node_t *f = ss->fwds[i];
        ast_node_t *d = ss->fwd_syms[i]->node;
        if (d->kind == sema_def_kind(f->kind)) {
            f->u.fwd.def = d;
        } else {
            sema_error(ss, SEMA_AT(f), "%s is forward-declared but never "
                       "defined", sema_what(ss, f));
        }
    }
    for (i = 0; i < ss->n_fixups; i++) {
        ast_type_t *t = ss->fixups[i];
        if (t->u.named.fwd != NULL && t->u.named.fwd->u.fwd.def != NULL)
            t->u.named.decl = t->u.named.fwd->u.fwd.def;
    }
}

static bool sema_has_repo_id(const ast_node_t *n)
{
    switch (n->kind) {
    case AST_ROOT: case AST_MEMBER: case AST_UNION_CASE: case AST_PARAM:
        return false;
    default:
        return true;
    }
}

static int sema_repo_visit(const ast_node_t *cn, bool leaving, void *ctx)
{
    sema_state_t *ss = ctx;
    ast_node_t *n = (ast_node_t *)cn;

    if (leaving || !sema_has_repo_id(n) || n->repo_id != NULL)
        return 0;
    n->repo_id = mem_printf(ss->arena, "IDL:%s%s%s:%u.%u", n->prefix,
                            n->prefix[0] != '\0' ? "/" : "", n->name,
                            (unsigned)n->version_major,
                            (unsigned)n->version_minor);
    return 0;
}

static void sema_pragmas(sema_state_t *ss, const parse_pragma_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        ast_node_t *d = sema_resolve(ss, p[i].scope, &p[i].name, false);
        const char *what = p[i].kind == LEX_T_PRAGMA_ID ? "ID" : "version";
        if (d == NULL || d->seq > p[i].seq) {
            sema_error(ss, SEMA_AT(&p[i].name), "#pragma %s names '%s', "
                       "which is not declared before it", what,
                       p[i].name.spelling);
            continue;
        }
        if (!sema_has_repo_id(d)) {
            sema_error(ss, SEMA_AT(&p[i].name), "#pragma %s: a %s has no "
                       "repository id", what, sema_kind(d));
            continue;
        }
        if (sema_is_fwd(d->kind) && d->u.fwd.def != NULL)
            d = d->u.fwd.def;
        if (p[i].kind == LEX_T_PRAGMA_ID) {
            const char *colon = strchr(p[i].id, ':');
            if (colon == NULL || colon == p[i].id) {
                sema_error(ss, SEMA_AT(&p[i].name), "#pragma ID \"%s\" is "
                           "not a repository id (FORMAT:string, as in "
                           "\"IDL:x/y:1.0\")", p[i].id);
                continue;
            }
            if (d->repo_id != NULL && strcmp(d->repo_id, p[i].id) != 0) {
                sema_error(ss, SEMA_AT(&p[i].name), "#pragma ID gives '%s' "
                           "a second, different repository id", d->name);
                continue;
            }
            d->repo_id = mem_strdup(ss->arena, p[i].id);
        } else {
            if (d->repo_id != NULL) {
                sema_error(ss, SEMA_AT(&p[i].name), "#pragma version cannot "
                           "change '%s', whose repository id is set by "
                           "#pragma ID", d->name);
                continue;
            }
            d->version_major = p[i].major;
            d->version_minor = p[i].minor;
        }
    }
}

/* Forward declarations take the repository id of their definition. */
static int sema_fwd_repo_visit(const ast_node_t *cn, bool leaving, void *ctx)
{
    ast_node_t *n = (ast_node_t *)cn;

    (void)ctx;
    if (!leaving && sema_is_fwd(n->kind) && n->u.fwd.def != NULL)
        n->repo_id = n->u.fwd.def->repo_id;
    return 0;
}

void sema_check(ast_root_t *root, intern_t *names, diag_t *d,
                const parse_pragma_t *pragmas, size_t n_pragmas)
{
    sema_state_t ss;

    memset(&ss, 0, sizeof ss);
    ss.root = root;
    ss.arena = &root->arena;
    ss.names = names;
    ss.diag = d;
    sema_table(&ss, root->node);
    sema_scope_members(&ss, root->node);
    sema_fix_forwards(&ss);
    sema_pragmas(&ss, pragmas, n_pragmas);
    ast_walk(root->node, sema_repo_visit, &ss);
    ast_walk(root->node, sema_fwd_repo_visit, &ss);
}
