/*
 * ast.h - the abstract syntax tree of phx-idl, the contract between the
 * front end (pp, lex, parse, sema) and the back ends.
 *
 * WHAT A BACK END CAN RELY ON (after fe_compile() returned a root with no
 * errors reported):
 *
 *  - Every node (ast_node_t) and every type (ast_type_t) carries its kind
 *    and the position where it was written: file (an interned string: the
 *    same file always has the same pointer), 1-based line and column.
 *  - The tree keeps source order.  Each scope node has an ordered member
 *    list (ast_list_t, walk it with AST_FOREACH).  Declarations from
 *    #include'd files are in the tree too (they may be referenced) with
 *    in_main_file == false; generate code only for in_main_file nodes.
 *  - Every name is resolved: a named type (AST_T_NAMED) points to its
 *    declaration (u.named.decl), which is never a forward declaration when
 *    a definition exists (always, in an error-free tree); the forward
 *    declaration visible at the point of use, if any, is u.named.fwd.
 *    Interface bases, raises / getraises / setraises lists point to
 *    AST_INTERFACE and AST_EXCEPTION nodes.
 *  - Every constant expression is evaluated: const declarations
 *    (u.constant.value), string / sequence bounds, array dimensions, and
 *    union labels.  A const value is already converted to the declared type
 *    and range-checked (see ast_value_t for which value kind goes with which
 *    type).
 *  - Typedef chains are kept (a typedef's type may name another typedef);
 *    ast_type_unalias() skips them.
 *  - Every declaration has: its local name (without the '_' escape), its
 *    scoped name components (path / path_len) and joined form
 *    ("::M::I::op"), and its repository id with #pragma prefix / ID /
 *    version honoured ("IDL:prefix/M/I/op:1.0").
 *  - One declarator is one node: "typedef long a, b[2];" gives two
 *    AST_TYPEDEF nodes, "attribute long x, y;" two AST_ATTRIBUTE nodes,
 *    "long a, b;" in a struct two AST_MEMBER nodes.  An array declarator
 *    makes the node's type an AST_T_ARRAY.
 *  - A constructed type defined inline ("typedef struct S {...} T;",
 *    "struct A { enum E {X} e; };", "union U switch (enum D {P,Q}) ...")
 *    is its own node, placed in the enclosing scope's list just before the
 *    node that uses it.
 *  - A reopened module is one AST_MODULE node per opening, in source order;
 *    u.module.prev links to the previous opening of the same module.
 *  - Enumerators are AST_ENUMERATOR nodes listed in their enum; by the IDL
 *    rules their names belong to the scope that encloses the enum, and
 *    their scoped names / repository ids say so.
 *  - Names escaped with '_' in the source ("_interface") appear without
 *    the escape ("interface"); the C back end must mangle names that are
 *    C keywords itself.
 *  - "TypeCode" and "CORBA::TypeCode", when no user declaration of that
 *    name exists, are the built-in type AST_T_TYPECODE.
 *  - Memory: the whole tree lives in one arena owned by the root; nothing
 *    is freed separately; ast_free() releases everything.
 */
#ifndef PHX_IDL_AST_H
#define PHX_IDL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/mem.h"

typedef struct ast_node ast_node_t;
typedef struct ast_type ast_type_t;
typedef struct ast_expr ast_expr_t;

/* ---------------------------------------------------------------------------
 * Node kinds (X-macro: enum constant suffix, printable name)
 * ------------------------------------------------------------------------- */

#define AST_KIND_LIST(X)                                                     \
    X(ROOT, "root")                  /* the global scope */                  \
    X(MODULE, "module")                                                      \
    X(INTERFACE, "interface")                                                \
    X(INTERFACE_FWD, "interface-forward")                                    \
    X(STRUCT, "struct")                                                      \
    X(STRUCT_FWD, "struct-forward")                                          \
    X(UNION, "union")                                                        \
    X(UNION_FWD, "union-forward")                                            \
    X(ENUM, "enum")                                                          \
    X(ENUMERATOR, "enumerator")                                              \
    X(EXCEPTION, "exception")                                                \
    X(TYPEDEF, "typedef")                                                    \
    X(NATIVE, "native")                                                      \
    X(CONST, "const")                                                        \
    X(MEMBER, "member")              /* struct or exception member */        \
    X(UNION_CASE, "case")            /* one union branch */                  \
    X(OPERATION, "operation")                                                \
    X(PARAM, "parameter")                                                    \
    X(ATTRIBUTE, "attribute")

typedef enum ast_kind {
#define AST_X_ENUM(id, name) AST_##id,
    AST_KIND_LIST(AST_X_ENUM)
#undef AST_X_ENUM
    AST_KIND_COUNT
} ast_kind_t;

/* ---------------------------------------------------------------------------
 * Type kinds
 * ------------------------------------------------------------------------- */

#define AST_TYPE_LIST(X)                                                     \
    X(VOID, "void")                  /* operation results only */            \
    X(SHORT, "short")                                                        \
    X(LONG, "long")                                                          \
    X(LONGLONG, "long long")                                                 \
    X(USHORT, "unsigned short")                                              \
    X(ULONG, "unsigned long")                                                \
    X(ULONGLONG, "unsigned long long")                                       \
    X(FLOAT, "float")                                                        \
    X(DOUBLE, "double")                                                      \
    X(LONGDOUBLE, "long double")                                             \
    X(BOOLEAN, "boolean")                                                    \
    X(CHAR, "char")                                                          \
    X(WCHAR, "wchar")                                                        \
    X(OCTET, "octet")                                                        \
    X(ANY, "any")                                                            \
    X(OBJECT, "Object")                                                      \
    X(TYPECODE, "TypeCode")          /* TypeCode or CORBA::TypeCode */       \
    X(STRING, "string")              /* u.string */                          \
    X(WSTRING, "wstring")            /* u.string */                          \
    X(FIXED, "fixed")                /* u.fixed */                           \
    X(SEQUENCE, "sequence")          /* u.seq */                             \
    X(ARRAY, "array")                /* u.array (from a declarator) */       \
    X(NAMED, "named")                /* u.named: reference to a declaration */

typedef enum ast_type_kind {
#define AST_X_ENUM(id, name) AST_T_##id,
    AST_TYPE_LIST(AST_X_ENUM)
#undef AST_X_ENUM
    AST_T_COUNT
} ast_type_kind_t;

/* ---------------------------------------------------------------------------
 * Constant values
 *
 * Which value kind goes with which (unaliased) declared type:
 *   short, long, long long                 AST_V_INT      (v.i)
 *   unsigned short/long/long long, octet   AST_V_UINT     (v.u)
 *   float, double, long double             AST_V_FLOAT    (v.f)
 *   fixed                                  AST_V_FIXED    (v.fixed)
 *   char                                   AST_V_CHAR     (v.ch, 0..255)
 *   wchar                                  AST_V_WCHAR    (v.ch, code point)
 *   boolean                                AST_V_BOOL     (v.b)
 *   string                                 AST_V_STRING   (v.str, bytes)
 *   wstring                                AST_V_WSTRING  (v.str, UTF-8)
 *   enum                                   AST_V_ENUM     (v.enumerator)
 * ------------------------------------------------------------------------- */

#define AST_VALUE_LIST(X)                                                    \
    X(NONE, "none")                                                          \
    X(INT, "int")                                                            \
    X(UINT, "uint")                                                          \
    X(FLOAT, "float")                                                        \
    X(FIXED, "fixed")                                                        \
    X(CHAR, "char")                                                          \
    X(WCHAR, "wchar")                                                        \
    X(BOOL, "boolean")                                                       \
    X(STRING, "string")                                                      \
    X(WSTRING, "wstring")                                                    \
    X(ENUM, "enum")

typedef enum ast_value_kind {
#define AST_X_ENUM(id, name) AST_V_##id,
    AST_VALUE_LIST(AST_X_ENUM)
#undef AST_X_ENUM
    AST_V_COUNT
} ast_value_kind_t;

typedef struct ast_value {
    ast_value_kind_t kind;
    union {
        int64_t i;
        uint64_t u;
        long double f;
        uint32_t ch;
        bool b;
        struct {
            const char *s;      /* NUL-terminated; never contains a NUL */
            size_t len;         /* bytes, without the terminator */
        } str;
        struct {
            const char *digits; /* decimal digits, no point, no sign, no
                                   leading zeros ("0" for zero) */
            uint32_t scale;     /* digits after the decimal point */
            bool negative;
        } fixed;
        const ast_node_t *enumerator;   /* an AST_ENUMERATOR node */
    } v;
} ast_value_t;

/* ---------------------------------------------------------------------------
 * Lists
 * ------------------------------------------------------------------------- */

/* Ordered members of a scope, linked through ast_node_t.next. */
typedef struct ast_list {
    ast_node_t *first;
    ast_node_t *last;
    size_t count;
} ast_list_t;

/* A scoped name as written ("A", "::M::A", "M::A"). */
typedef struct ast_sname {
    const char *const *parts;   /* components, interned */
    size_t n_parts;             /* >= 1 */
    bool absolute;              /* written with a leading "::" */
    const char *spelling;       /* "::M::A" as written */
    const char *file;
    uint32_t line;
    uint32_t column;
} ast_sname_t;

/* References to other nodes (bases, raises): an array of pointers, with
 * the names as written (names[i] resolved to items[i]). */
typedef struct ast_refs {
    ast_node_t **items;
    ast_sname_t *names;
    size_t count;
} ast_refs_t;

#define AST_FOREACH(var, scope_node)                                         \
    for (ast_node_t *var = (scope_node)->members.first; var != NULL;         \
         var = var->next)

#define AST_REFS_FOREACH(var, refs)                                          \
    for (size_t var##_i_ = 0; var##_i_ < (refs).count; var##_i_++)           \
        for (ast_node_t *var = (refs).items[var##_i_]; var != NULL;          \
             var = NULL)

/* ---------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------- */

struct ast_type {
    ast_type_kind_t kind;
    const char *file;
    uint32_t line;
    uint32_t column;
    union {
        struct {                /* AST_T_STRING, AST_T_WSTRING */
            uint32_t bound;     /* 0 = unbounded */
            ast_expr_t *bound_expr;
        } string;
        struct {                /* AST_T_SEQUENCE */
            ast_type_t *elem;
            uint32_t bound;     /* 0 = unbounded */
            ast_expr_t *bound_expr;
        } seq;
        struct {                /* AST_T_ARRAY: elem[dims[0]][dims[1]]... */
            ast_type_t *elem;   /* never itself an AST_T_ARRAY */
            uint32_t *dims;     /* each >= 1 */
            ast_expr_t **dim_exprs;
            size_t n_dims;      /* >= 1 */
        } array;
        struct {                /* AST_T_FIXED: fixed<digits,scale> */
            uint32_t digits;    /* 1..31; 0 for the bare "fixed" of a const */
            uint32_t scale;     /* <= digits */
            ast_expr_t *digits_expr, *scale_expr;
        } fixed;
        struct {                /* AST_T_NAMED */
            const char *spelling;   /* the scoped name as written */
            ast_sname_t *sname;     /* the same, in components */
            ast_node_t *decl;       /* TYPEDEF, STRUCT, UNION, ENUM,
                                       INTERFACE, NATIVE (or the *_FWD
                                       node if never defined: an error) */
            ast_node_t *fwd;        /* forward declaration through which
                                       the name was found, or NULL */
        } named;
    } u;
};

/* ---------------------------------------------------------------------------
 * Union labels, parameter modes
 * ------------------------------------------------------------------------- */

typedef struct ast_label {
    const char *file;
    uint32_t line;
    uint32_t column;
    bool is_default;        /* "default:"; value is AST_V_NONE */
    ast_expr_t *expr;
    ast_value_t value;      /* converted to the discriminator type: INT,
                               UINT, CHAR, WCHAR, BOOL or ENUM */
} ast_label_t;

#define AST_PARAM_MODE_LIST(X)                                               \
    X(IN, "in")                                                              \
    X(OUT, "out")                                                            \
    X(INOUT, "inout")

typedef enum ast_param_mode {
#define AST_X_ENUM(id, name) AST_PARAM_##id,
    AST_PARAM_MODE_LIST(AST_X_ENUM)
#undef AST_X_ENUM
    AST_PARAM_MODE_COUNT
} ast_param_mode_t;

/* ---------------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------------- */

struct ast_node {
    ast_kind_t kind;
    const char *file;       /* interned */
    uint32_t line;
    uint32_t column;

    const char *name;       /* local name, '_' escape removed; "" for ROOT */
    ast_node_t *parent;     /* the node whose member list holds this one;
                               NULL for ROOT */
    ast_node_t *next;       /* next member of parent */
    ast_list_t members;     /* ordered contents (scopes; see each kind) */

    const char *const *path;    /* scoped name components, outermost first */
    size_t path_len;            /* 0 for ROOT */
    const char *scoped_name;    /* "::M::I::x"; "" for ROOT */
    const char *repo_id;        /* "IDL:...:1.0"; NULL for ROOT, MEMBER,
                                   UNION_CASE, PARAM */
    const char *prefix;         /* what the repository id puts before the
                                   name: the #pragma prefix in effect
                                   joined with the scopes opened after it
                                   ("" if none) */
    uint32_t version_major;     /* repository id version (#pragma version) */
    uint32_t version_minor;
    bool in_main_file;          /* declared in the file given to phx-idl */
    uint32_t seq;               /* creation order (1, 2, ...) */

    union {
        struct {                /* AST_MODULE: members = definitions */
            ast_node_t *prev;   /* previous opening of this module */
        } module;
        struct {                /* AST_INTERFACE: members = TYPEDEF, STRUCT,
                                   UNION, ENUM, EXCEPTION, CONST, NATIVE,
                                   OPERATION, ATTRIBUTE, *_FWD */
            bool is_abstract;
            bool is_local;
            ast_refs_t bases;       /* direct bases, as written */
            ast_refs_t ancestors;   /* every base, direct or not, once each,
                                       depth-first left to right */
            ast_node_t *fwd;        /* first forward declaration, or NULL */
            bool rpc;               /* an ONC RPC program version (.x
                                       input, docs/onc-rpc-mapping.md) */
            uint32_t rpc_prog;      /* rpc: the program number */
            uint32_t rpc_vers;      /* rpc: the version number */
        } iface;
        struct {                /* AST_INTERFACE_FWD, AST_STRUCT_FWD,
                                   AST_UNION_FWD */
            bool is_abstract;   /* interfaces */
            bool is_local;      /* interfaces */
            ast_node_t *def;    /* the definition, or NULL if never defined */
        } fwd;
        struct {                /* AST_STRUCT, AST_EXCEPTION: members =
                                   MEMBER (+ inline STRUCT, UNION, ENUM) */
            ast_node_t *fwd;    /* first forward declaration, or NULL */
        } strct;
        struct {                /* AST_UNION: members = UNION_CASE
                                   (+ inline STRUCT, UNION, ENUM) */
            ast_type_t *disc_type;  /* integer, char, wchar, boolean,
                                       octet or enum (possibly through
                                       typedefs) */
            ast_node_t *default_case;   /* case with "default:", or NULL */
            bool implicit_default;  /* no "default:" and the labels do not
                                       cover every discriminator value */
            ast_value_t default_disc;   /* when default_case or
                                       implicit_default: a discriminator
                                       value no label uses */
            ast_node_t *fwd;
        } uni;
        struct {                /* AST_UNION_CASE: name = member name */
            ast_label_t *labels;
            size_t n_labels;    /* >= 1 */
            ast_type_t *type;
        } ucase;
        struct {                /* AST_ENUM: members = ENUMERATOR */
            uint32_t count;
        } enm;
        struct {                /* AST_ENUMERATOR */
            uint32_t ordinal;   /* 0, 1, ... in declaration order */
            ast_node_t *enm;    /* the AST_ENUM */
        } enumerator;
        struct {                /* AST_TYPEDEF */
            ast_type_t *type;
        } tdef;
        struct {                /* AST_CONST */
            ast_type_t *type;
            ast_expr_t *expr;
            ast_value_t value;
        } constant;
        struct {                /* AST_MEMBER */
            ast_type_t *type;
        } member;
        struct {                /* AST_OPERATION: members = PARAM */
            bool oneway;
            ast_type_t *ret;    /* AST_T_VOID for void */
            ast_refs_t raises;  /* AST_EXCEPTION nodes */
            const char **contexts;
            size_t n_contexts;
            bool rpc;           /* an ONC RPC procedure (.x input) */
            uint32_t rpc_proc;  /* rpc: the procedure number */
        } op;
        struct {                /* AST_PARAM */
            ast_param_mode_t mode;
            ast_type_t *type;
        } param;
        struct {                /* AST_ATTRIBUTE */
            bool readonly;
            ast_type_t *type;
            ast_refs_t get_raises;  /* AST_EXCEPTION nodes */
            ast_refs_t set_raises;
        } attr;
    } u;
};

/* ---------------------------------------------------------------------------
 * Constant expressions (as parsed; sema stores the results in the nodes
 * and types above, so back ends normally ignore these)
 * ------------------------------------------------------------------------- */

#define AST_EXPR_LIST(X)                                                     \
    X(LITERAL, "literal")            /* value */                             \
    X(NAME, "name")                  /* spelling, decl (CONST/ENUMERATOR) */ \
    X(OR, "|")                                                               \
    X(XOR, "^")                                                              \
    X(AND, "&")                                                              \
    X(SHL, "<<")                                                             \
    X(SHR, ">>")                                                             \
    X(ADD, "+")                                                              \
    X(SUB, "-")                                                              \
    X(MUL, "*")                                                              \
    X(DIV, "/")                                                              \
    X(MOD, "%")                                                              \
    X(NEG, "unary -")                                                        \
    X(PLUS, "unary +")                                                       \
    X(NOT, "~")

typedef enum ast_expr_kind {
#define AST_X_ENUM(id, name) AST_E_##id,
    AST_EXPR_LIST(AST_X_ENUM)
#undef AST_X_ENUM
    AST_E_COUNT
} ast_expr_kind_t;

struct ast_expr {
    ast_expr_kind_t kind;
    const char *file;
    uint32_t line;
    uint32_t column;
    ast_expr_t *lhs;            /* binary and unary operators */
    ast_expr_t *rhs;            /* binary operators */
    ast_value_t value;          /* LITERAL (integer literals are UINT);
                                   after sema, every node's value */
    const char *spelling;       /* NAME */
    ast_sname_t *sname;         /* NAME */
    ast_node_t *decl;           /* NAME, after sema */
};

/* ---------------------------------------------------------------------------
 * The root
 * ------------------------------------------------------------------------- */

typedef struct ast_root {
    ast_node_t *node;           /* AST_ROOT: the global scope; members are
                                   the top-level definitions of the main
                                   file and of the files it includes */
    const char *main_file;      /* interned; == node->file */
    const char **includes;      /* files #include'd directly by the main
                                   file, as written ("a/b.idl"), in order,
                                   each once */
    size_t n_includes;
    bool case_sensitive;        /* names that differ only in case do not
                                   clash, and a member may share its
                                   enclosing type's name (ONC RPC input) */
    mem_arena_t arena;          /* owns every node, type and string (the
                                   root itself comes from mem_sys_alloc) */
} ast_root_t;

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

const char *ast_kind_name(ast_kind_t k);
const char *ast_type_kind_name(ast_type_kind_t k);
const char *ast_value_kind_name(ast_value_kind_t k);
const char *ast_param_mode_name(ast_param_mode_t m);
const char *ast_expr_kind_name(ast_expr_kind_t k);

/* Kinds whose members list holds declarations or parts. */
bool ast_is_scope(ast_kind_t k);

/* Skip typedefs: follow AST_T_NAMED references to AST_TYPEDEF nodes until
 * a type that is not such a reference (a basic type, string, sequence,
 * array, fixed, or a reference to a STRUCT/UNION/ENUM/INTERFACE/NATIVE). */
const ast_type_t *ast_type_unalias(const ast_type_t *t);

/* The declaration a type names after unaliasing (STRUCT, UNION, ENUM,
 * INTERFACE, NATIVE...), or NULL if the unaliased type is not NAMED. */
const ast_node_t *ast_type_decl(const ast_type_t *t);

/* A forward declaration's definition, or the node itself otherwise. */
const ast_node_t *ast_node_resolve(const ast_node_t *n);

/* True when the type has variable length in the CORBA sense (string,
 * wstring, sequence, any, object references, TypeCode, and constructed or
 * array types containing one). */
bool ast_type_is_variable(const ast_type_t *t);

/* IDL spelling of a type into buf ("sequence<::M::T, 10>"); returns the
 * length it needed, like snprintf. */
size_t ast_type_format(const ast_type_t *t, char *buf, size_t size);

/* Depth-first walk in source order: fn(node, false, ctx) before a node's
 * members, fn(node, true, ctx) after them.  A nonzero return stops the walk
 * and is returned. */
typedef int (*ast_visit_fn)(const ast_node_t *n, bool leaving, void *ctx);
int ast_walk(const ast_node_t *n, ast_visit_fn fn, void *ctx);

/* Stable text dump of the whole tree (phx-idl --ast). */
void ast_dump(const ast_root_t *root, FILE *out);

/* Release the tree and everything it owns (NULL is fine). */
void ast_free(ast_root_t *root);

#endif /* PHX_IDL_AST_H */
