/*
 * be_c_names.c - how IDL maps to C in the C back end: identifiers, C types
 * of IDL types, parameter declarations, TypeCode references (and the
 * anonymous TypeCodes and sequence structs they need), constant values,
 * and the operation lists of interfaces.  docs/idl-c-mapping.md is the
 * prose version of this file.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler/be_c_int.h"

/* ---------------------------------------------------------------------------
 * Identifiers
 * ------------------------------------------------------------------------- */

/* C and C++ keywords and the macros of the headers generated code
 * includes: an IDL identifier spelled like one gets a '_' prefix. */
static const char *const reserved[] = {
    "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic",
    "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
    "alignas", "alignof", "assert", "auto", "bool", "break", "case",
    "catch", "char", "class", "complex", "const", "continue", "default",
    "delete", "do", "double", "else", "enum", "errno", "explicit",
    "extern", "false", "float", "for", "friend", "goto", "if", "inline",
    "int", "long", "mutable", "namespace", "new", "noreturn", "NULL",
    "offsetof", "operator", "private", "protected", "public", "register",
    "restrict", "return", "short", "signed", "sizeof", "static",
    "static_assert", "struct", "switch", "template", "this",
    "thread_local", "throw", "true", "try", "typedef", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "while",
};

static bool is_reserved(const char *name)
{
    size_t lo = 0, hi = sizeof reserved / sizeof reserved[0];

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, reserved[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

const char *be_c_ident(be_c_t *g, const char *name)
{
    return is_reserved(name) ? be_c_strf(g, "_%s", name) : name;
}

const char *be_c_name(be_c_t *g, const ast_node_t *n)
{
    size_t len = 0;
    char *s, *p;

    n = ast_node_resolve(n);
    if (n->path_len == 0)
        return "";
    for (size_t i = 0; i < n->path_len; i++)
        len += strlen(n->path[i]) + 2;
    p = s = mem_alloc(&g->arena, len + 1);
    for (size_t i = 0; i < n->path_len; i++) {
        const char *c = is_reserved(n->path[i]) ? "_" : "";
        p += sprintf(p, "%s%s%s", i ? "_" : "", c, n->path[i]);
    }
    return s;
}

const char *be_c_scoped(const ast_node_t *n)
{
    const char *s = n->scoped_name;
    return s[0] == ':' && s[1] == ':' ? s + 2 : s;
}

const char *be_c_idl_type(be_c_t *g, const ast_type_t *t)
{
    const char *s;

    switch (t->kind) {
    case AST_T_NAMED:
        return t->u.named.spelling;
    case AST_T_STRING:
    case AST_T_WSTRING:
        if (t->u.string.bound == 0)
            return ast_type_kind_name(t->kind);
        return be_c_strf(g, "%s<%" PRIu32 ">", ast_type_kind_name(t->kind),
                         t->u.string.bound);
    case AST_T_SEQUENCE:
        s = be_c_idl_type(g, t->u.seq.elem);
        if (t->u.seq.bound)
            return be_c_strf(g, "sequence<%s, %" PRIu32 ">", s,
                             t->u.seq.bound);
        return be_c_strf(g, "sequence<%s>", s);
    case AST_T_ARRAY:
        s = be_c_idl_type(g, t->u.array.elem);
        for (size_t i = 0; i < t->u.array.n_dims; i++)
            s = be_c_strf(g, "%s[%" PRIu32 "]", s, t->u.array.dims[i]);
        return s;
    case AST_T_FIXED:
        return be_c_strf(g, "fixed<%" PRIu32 ", %" PRIu32 ">",
                         t->u.fixed.digits, t->u.fixed.scale);
    default:
        return ast_type_kind_name(t->kind);
    }
}

const char *be_c_typedef_text(be_c_t *g, const ast_node_t *n)
{
    const ast_type_t *t = n->u.tdef.type;
    const char *s;

    if (t->kind != AST_T_ARRAY)
        return be_c_strf(g, "typedef %s %s", be_c_idl_type(g, t),
                         be_c_scoped(n));
    s = be_c_strf(g, "typedef %s %s", be_c_idl_type(g, t->u.array.elem),
                  be_c_scoped(n));
    for (size_t i = 0; i < t->u.array.n_dims; i++)
        s = be_c_strf(g, "%s[%" PRIu32 "]", s, t->u.array.dims[i]);
    return s;
}

/* ---------------------------------------------------------------------------
 * C types
 * ------------------------------------------------------------------------- */

/* Names of the basic kinds in sequence struct and TypeCode names. */
static const char *basic_mangle(ast_type_kind_t k)
{
    switch (k) {
    case AST_T_VOID: return "void";
    case AST_T_SHORT: return "short";
    case AST_T_LONG: return "long";
    case AST_T_LONGLONG: return "longlong";
    case AST_T_USHORT: return "ushort";
    case AST_T_ULONG: return "ulong";
    case AST_T_ULONGLONG: return "ulonglong";
    case AST_T_FLOAT: return "float";
    case AST_T_DOUBLE: return "double";
    case AST_T_LONGDOUBLE: return "longdouble";
    case AST_T_BOOLEAN: return "boolean";
    case AST_T_CHAR: return "char";
    case AST_T_WCHAR: return "wchar";
    case AST_T_OCTET: return "octet";
    case AST_T_ANY: return "any";
    case AST_T_OBJECT: return "Object";
    case AST_T_TYPECODE: return "TypeCode";
    default: return NULL;
    }
}

const char *be_c_seq_mangle(be_c_t *g, const ast_type_t *elem)
{
    const char *b = basic_mangle(elem->kind);

    if (b)
        return b;
    switch (elem->kind) {
    case AST_T_STRING:
        return "string";
    case AST_T_WSTRING:
        return "wstring";
    case AST_T_SEQUENCE:
        return be_c_strf(g, "seq_%s", be_c_seq_mangle(g, elem->u.seq.elem));
    case AST_T_NAMED:
        return be_c_name(g, elem->u.named.decl);
    default:
        return "unsupported";
    }
}

const char *be_c_type(be_c_t *g, const ast_type_t *t)
{
    switch (t->kind) {
    case AST_T_VOID: return "void";
    case AST_T_SHORT: return "int16_t";
    case AST_T_LONG: return "int32_t";
    case AST_T_LONGLONG: return "int64_t";
    case AST_T_USHORT: return "uint16_t";
    case AST_T_ULONG: return "uint32_t";
    case AST_T_ULONGLONG: return "uint64_t";
    case AST_T_FLOAT: return "float";
    case AST_T_DOUBLE: return "double";
    case AST_T_LONGDOUBLE: return "long double";
    case AST_T_BOOLEAN: return "bool";
    case AST_T_CHAR: return "char";
    case AST_T_WCHAR: return "uint16_t";
    case AST_T_OCTET: return "uint8_t";
    case AST_T_ANY: return "phx_any_t";
    case AST_T_OBJECT: return "phx_object_t *";
    case AST_T_TYPECODE: return "const phx_typecode_t *";
    case AST_T_STRING: return "char *";
    case AST_T_WSTRING: return "uint16_t *";
    case AST_T_FIXED: return "void";
    case AST_T_SEQUENCE:
        return be_c_strf(g, "phx_seq_%s",
                         be_c_seq_mangle(g, t->u.seq.elem));
    case AST_T_ARRAY:
        return be_c_type(g, t->u.array.elem);
    case AST_T_NAMED:
        return be_c_name(g, t->u.named.decl);
    default:
        return "void";
    }
}

static const char *join(be_c_t *g, const char *type, const char *name)
{
    size_t n = strlen(type);
    return be_c_strf(g, "%s%s%s", type, n && type[n - 1] == '*' ? "" : " ",
                     name);
}

const char *be_c_decl(be_c_t *g, const ast_type_t *t, const char *name)
{
    const char *s;

    if (t->kind != AST_T_ARRAY)
        return join(g, be_c_type(g, t), name);
    s = name;
    for (size_t i = 0; i < t->u.array.n_dims; i++)
        s = be_c_strf(g, "%s[%" PRIu32 "]", s, t->u.array.dims[i]);
    return join(g, be_c_type(g, t->u.array.elem), s);
}

const char *be_c_ptr_decl(be_c_t *g, const char *type, const char *name)
{
    return join(g, type, be_c_strf(g, "*%s", name));
}

be_c_pass_t be_c_passing(const ast_type_t *t)
{
    const ast_node_t *d;

    t = ast_type_unalias(t);
    switch (t->kind) {
    case AST_T_STRING:
    case AST_T_WSTRING:
        return BE_C_STRING;
    case AST_T_SEQUENCE:
    case AST_T_ANY:
    case AST_T_FIXED:
        return BE_C_BYREF;
    case AST_T_ARRAY:
        return BE_C_ARRAY;
    case AST_T_NAMED:
        d = ast_node_resolve(t->u.named.decl);
        if (d->kind == AST_STRUCT || d->kind == AST_UNION ||
            d->kind == AST_EXCEPTION)
            return BE_C_BYREF;
        return BE_C_BYVAL;
    default:
        return BE_C_BYVAL;
    }
}

const char *be_c_param_decl(be_c_t *g, const ast_type_t *t,
                            ast_param_mode_t mode, const char *name)
{
    if (mode != AST_PARAM_IN)
        return be_c_ptr_decl(g, be_c_type(g, t), name);
    switch (be_c_passing(t)) {
    case BE_C_STRING:
        return be_c_strf(g, "const char *%s", name);
    case BE_C_BYREF:
    case BE_C_ARRAY:
        return be_c_strf(g, "const %s *%s", be_c_type(g, t), name);
    default:
        return join(g, be_c_type(g, t), name);
    }
}

const char *be_c_flat_fn(const ast_type_t *t)
{
    t = ast_type_unalias(t);
    switch (t->kind) {
    case AST_T_SHORT: return "short";
    case AST_T_LONG: return "long";
    case AST_T_LONGLONG: return "longlong";
    case AST_T_USHORT: return "ushort";
    case AST_T_ULONG: return "ulong";
    case AST_T_ULONGLONG: return "ulonglong";
    case AST_T_FLOAT: return "float";
    case AST_T_DOUBLE: return "double";
    case AST_T_BOOLEAN: return "boolean";
    case AST_T_CHAR: return "char";
    case AST_T_OCTET: return "octet";
    default: return NULL;
    }
}

bool be_c_op_is_flat(const be_c_op_t *op)
{
    if (op->ret && be_c_flat_fn(op->ret) == NULL)
        return false;
    for (size_t i = 0; i < op->n_params; i++)
        if (be_c_flat_fn(op->params[i].type) == NULL)
            return false;
    return true;
}

/* ---------------------------------------------------------------------------
 * Sequence structs (header)
 * ------------------------------------------------------------------------- */

void be_c_need_seq(be_c_t *g, const ast_type_t *t)
{
    be_c_buf_t *saved = g->out;
    const char *m, *elem;

    if (t->kind == AST_T_ARRAY) {
        be_c_need_seq(g, t->u.array.elem);
        return;
    }
    if (t->kind != AST_T_SEQUENCE)
        return;
    be_c_need_seq(g, t->u.seq.elem);
    m = be_c_seq_mangle(g, t->u.seq.elem);
    if (!be_c_set_add(g, &g->seq_types, m))
        return;
    elem = be_c_ptr_decl(g, be_c_type(g, t->u.seq.elem), "_buffer");
    g->out = &g->bufs[BE_C_HEADER];
    be_c_printf(g,
                "#ifndef PHX_SEQ_%s_DEFINED\n"
                "#define PHX_SEQ_%s_DEFINED\n"
                "typedef struct phx_seq_%s {\n"
                "    uint32_t _maximum;\n"
                "    uint32_t _length;\n"
                "    %s;\n"
                "    bool _release;\n"
                "} phx_seq_%s;\n"
                "_Static_assert(sizeof(phx_seq_%s) == sizeof(phx_sequence_t) &&\n"
                "                   offsetof(phx_seq_%s, _buffer) ==\n"
                "                       offsetof(phx_sequence_t, _buffer),\n"
                "               \"phx_seq_%s is laid out as phx_sequence_t\");\n"
                "#endif\n",
                m, m, m, elem, m, m, m, m);
    g->out = saved;
}

/* ---------------------------------------------------------------------------
 * TypeCodes (common file)
 * ------------------------------------------------------------------------- */

static const char *tc_mangle(be_c_t *g, const ast_type_t *t);

/* Name suffix of the TypeCode of elem[dims[from]]...[dims[n-1]]. */
static const char *array_mangle(be_c_t *g, const ast_type_t *t, size_t from)
{
    const char *s = "array";

    for (size_t i = from; i < t->u.array.n_dims; i++)
        s = be_c_strf(g, "%s_%" PRIu32, s, t->u.array.dims[i]);
    return be_c_strf(g, "%s_%s", s, tc_mangle(g, t->u.array.elem));
}

static const char *tc_mangle(be_c_t *g, const ast_type_t *t)
{
    const char *b = basic_mangle(t->kind);

    if (b)
        return b;
    switch (t->kind) {
    case AST_T_STRING:
    case AST_T_WSTRING:
        if (t->u.string.bound == 0)
            return t->kind == AST_T_STRING ? "string" : "wstring";
        return be_c_strf(g, "%s_%" PRIu32,
                         t->kind == AST_T_STRING ? "string" : "wstring",
                         t->u.string.bound);
    case AST_T_SEQUENCE:
        if (t->u.seq.bound)
            return be_c_strf(g, "seq_%" PRIu32 "_%s", t->u.seq.bound,
                             tc_mangle(g, t->u.seq.elem));
        return be_c_strf(g, "seq_%s", tc_mangle(g, t->u.seq.elem));
    case AST_T_ARRAY:
        return array_mangle(g, t, 0);
    case AST_T_NAMED:
        return be_c_name(g, t->u.named.decl);
    default:
        return "unsupported";
    }
}

const char *be_c_tc(be_c_t *g, const ast_type_t *t)
{
    switch (t->kind) {
    case AST_T_OBJECT:
        return "&phx_tc_Object";
    case AST_T_TYPECODE:
        return "&phx_tc_TypeCode";
    case AST_T_STRING:
        if (t->u.string.bound == 0)
            return "&phx_tc_string";
        break;
    case AST_T_NAMED:
        return be_c_strf(g, "&TC_%s", be_c_name(g, t->u.named.decl));
    default:
        if (basic_mangle(t->kind))
            return be_c_strf(g, "&phx_tc_%s", basic_mangle(t->kind));
        break;
    }
    return be_c_strf(g, "&phx_tc__%s", tc_mangle(g, t));
}

/* Emit one anonymous TypeCode once. */
static void anon_tc(be_c_t *g, const char *name, const char *kind,
                    const char *content, uint32_t length)
{
    if (!be_c_set_add(g, &g->anon_tcs, name))
        return;
    be_c_printf(g, "static const phx_typecode_t phx_tc__%s = {\n", name);
    be_c_printf(g, "    .kind = %s,\n", kind);
    if (content)
        be_c_printf(g, "    .content = %s,\n", content);
    if (length)
        be_c_printf(g, "    .length = %" PRIu32 ",\n", length);
    be_c_puts(g, "};\n");
}

void be_c_need_tc(be_c_t *g, const ast_type_t *t)
{
    be_c_buf_t *saved = g->out;

    g->out = &g->bufs[BE_C_COMMON];
    switch (t->kind) {
    case AST_T_STRING:
        if (t->u.string.bound)
            anon_tc(g, tc_mangle(g, t), "PHX_TK_STRING", NULL,
                    t->u.string.bound);
        break;
    case AST_T_SEQUENCE:
        be_c_need_tc(g, t->u.seq.elem);
        anon_tc(g, tc_mangle(g, t), "PHX_TK_SEQUENCE",
                be_c_tc(g, t->u.seq.elem), t->u.seq.bound);
        break;
    case AST_T_ARRAY:
        be_c_need_tc(g, t->u.array.elem);
        for (size_t i = t->u.array.n_dims; i-- > 0;) {
            const char *inner =
                i + 1 == t->u.array.n_dims
                    ? be_c_tc(g, t->u.array.elem)
                    : be_c_strf(g, "&phx_tc__%s",
                                array_mangle(g, t, i + 1));
            anon_tc(g, array_mangle(g, t, i), "PHX_TK_ARRAY", inner,
                    t->u.array.dims[i]);
        }
        break;
    default:
        break;
    }
    g->out = saved;
}

/* ---------------------------------------------------------------------------
 * Constant values
 * ------------------------------------------------------------------------- */

static const char *c_char(be_c_t *g, uint32_t ch)
{
    if (ch == '\'' || ch == '\\')
        return be_c_strf(g, "'\\%c'", (char)ch);
    if (ch >= 0x20 && ch < 0x7f)
        return be_c_strf(g, "'%c'", (char)ch);
    return be_c_strf(g, "'\\%03o'", (unsigned)(ch & 0xff));
}

static const char *c_string(be_c_t *g, const char *s, size_t len)
{
    char *out = mem_alloc(&g->arena, len * 4 + 3), *p = out;

    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c == '\n' || c == '\t') {
            *p++ = '\\';
            *p++ = c == '\n' ? 'n' : 't';
        } else if (c >= 0x20 && c < 0x7f && !(c == '?' && i + 1 < len &&
                                                s[i + 1] == '?')) {
            *p++ = (char)c;
        } else {
            p += sprintf(p, "\\%03o", c);
        }
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

/* A floating constant that reads back to the same value. */
static const char *c_float(be_c_t *g, long double v, ast_type_kind_t k)
{
    char buf[64];

    if (k == AST_T_FLOAT)
        snprintf(buf, sizeof buf, "%.9g", (double)v);
    else if (k == AST_T_DOUBLE)
        snprintf(buf, sizeof buf, "%.17g", (double)v);
    else
        snprintf(buf, sizeof buf, "%.21Lg", v);
    if (strpbrk(buf, ".e") == NULL)
        strcat(buf, ".0");
    return be_c_strf(g, "%s%s", buf,
                     k == AST_T_FLOAT ? "f" : k == AST_T_LONGDOUBLE ? "L"
                                                                    : "");
}

const char *be_c_const_value(be_c_t *g, const ast_node_t *n)
{
    const ast_value_t *v = &n->u.constant.value;
    const ast_type_t *t = ast_type_unalias(n->u.constant.type);

    switch (v->kind) {
    case AST_V_INT:
        if (v->v.i == INT64_MIN)
            return "INT64_MIN";
        if (v->v.i == INT32_MIN)
            return "(-2147483647 - 1)";
        if (t->kind == AST_T_LONGLONG)
            return be_c_strf(g, v->v.i < 0 ? "(INT64_C(%" PRId64 "))"
                                           : "INT64_C(%" PRId64 ")",
                             v->v.i);
        return be_c_strf(g, v->v.i < 0 ? "(%" PRId64 ")" : "%" PRId64,
                         v->v.i);
    case AST_V_UINT:
        if (t->kind == AST_T_ULONGLONG)
            return be_c_strf(g, "UINT64_C(%" PRIu64 ")", v->v.u);
        if (t->kind == AST_T_OCTET)
            return be_c_strf(g, "((uint8_t)%" PRIu64 ")", v->v.u);
        return be_c_strf(g, "%" PRIu64 "u", v->v.u);
    case AST_V_FLOAT:
        if (!isfinite(v->v.f)) {
            diag_error(g->d, n->file, n->line, n->column,
                       "constant '%s' is not a finite number",
                       be_c_scoped(n));
            return NULL;
        }
        return c_float(g, v->v.f, t->kind);
    case AST_V_CHAR:
        return c_char(g, v->v.ch);
    case AST_V_BOOL:
        return v->v.b ? "true" : "false";
    case AST_V_STRING:
        return c_string(g, v->v.str.s, v->v.str.len);
    case AST_V_ENUM:
        return be_c_name(g, v->v.enumerator);
    default:
        diag_error(g->d, n->file, n->line, n->column,
                   "constant '%s': %s constants are not supported by the "
                   "C back end",
                   be_c_scoped(n), ast_value_kind_name(v->kind));
        return NULL;
    }
}

/* ---------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------- */

static const char *raises_text(be_c_t *g, const char *kw,
                               const ast_refs_t *r)
{
    const char *s;

    if (r == NULL || r->count == 0)
        return "";
    s = be_c_strf(g, " %s (", kw);
    for (size_t i = 0; i < r->count; i++)
        s = be_c_strf(g, "%s%s%s", s, i ? ", " : "",
                      be_c_scoped(r->items[i]));
    return be_c_strf(g, "%s)", s);
}

static void op_from_operation(be_c_t *g, const ast_node_t *iface,
                              const ast_node_t *n, be_c_op_t *op)
{
    size_t k = 0;
    const char *sig;

    op->iface = iface;
    op->node = n;
    op->wire = n->name;
    op->c = be_c_ident(g, n->name);
    op->oneway = n->u.op.oneway;
    op->ret = n->u.op.ret->kind == AST_T_VOID ? NULL : n->u.op.ret;
    op->raises = &n->u.op.raises;
    op->n_params = n->members.count;
    op->params = mem_zalloc(&g->arena,
                            (op->n_params ? op->n_params : 1) *
                                sizeof *op->params);
    sig = be_c_strf(g, "%s%s %s(", op->oneway ? "oneway " : "",
                    be_c_idl_type(g, n->u.op.ret), n->name);
    AST_FOREACH(p, n) {
        if (p->kind != AST_PARAM)
            continue;
        op->params[k].name = be_c_ident(g, p->name);
        op->params[k].idl_name = p->name;
        op->params[k].mode = p->u.param.mode;
        op->params[k].type = p->u.param.type;
        sig = be_c_strf(g, "%s%s%s %s %s", sig, k ? ", " : "",
                        ast_param_mode_name(p->u.param.mode),
                        be_c_idl_type(g, p->u.param.type), p->name);
        k++;
    }
    op->n_params = k;
    op->signature = be_c_strf(g, "%s)%s", sig,
                              raises_text(g, "raises", &n->u.op.raises));
}

static void op_from_attribute(be_c_t *g, const ast_node_t *iface,
                              const ast_node_t *n, bool set, be_c_op_t *op)
{
    op->iface = iface;
    op->node = n;
    op->wire = be_c_strf(g, "_%s_%s", set ? "set" : "get", n->name);
    op->c = op->wire;
    op->oneway = false;
    op->ret = set ? NULL : n->u.attr.type;
    op->raises = set ? &n->u.attr.set_raises : &n->u.attr.get_raises;
    op->n_params = set ? 1 : 0;
    op->params = mem_zalloc(&g->arena, sizeof *op->params);
    if (set) {
        op->params[0].name = "value";
        op->params[0].idl_name = "value";
        op->params[0].mode = AST_PARAM_IN;
        op->params[0].type = n->u.attr.type;
    }
    op->signature = be_c_strf(
        g, "%sattribute %s %s%s%s", n->u.attr.readonly ? "readonly " : "",
        be_c_idl_type(g, n->u.attr.type), n->name,
        raises_text(g, "getraises", &n->u.attr.get_raises),
        raises_text(g, "setraises", &n->u.attr.set_raises));
}

size_t be_c_own_ops(be_c_t *g, const ast_node_t *iface, be_c_op_t **ops)
{
    size_t n = 0, k = 0;
    be_c_op_t *v;

    AST_FOREACH(m, iface) {
        if (m->kind == AST_OPERATION)
            n++;
        else if (m->kind == AST_ATTRIBUTE)
            n += m->u.attr.readonly ? 1 : 2;
    }
    v = mem_zalloc(&g->arena, (n ? n : 1) * sizeof *v);
    AST_FOREACH(m, iface) {
        if (m->kind == AST_OPERATION) {
            op_from_operation(g, iface, m, &v[k++]);
        } else if (m->kind == AST_ATTRIBUTE) {
            op_from_attribute(g, iface, m, false, &v[k++]);
            if (!m->u.attr.readonly)
                op_from_attribute(g, iface, m, true, &v[k++]);
        }
    }
    for (size_t i = 0; i < k; i++)
        v[i].desc = be_c_strf(g, "%s__op_%s", be_c_name(g, iface), v[i].c);
    *ops = v;
    return k;
}

size_t be_c_all_ops(be_c_t *g, const ast_node_t *iface, be_c_op_t **ops)
{
    const ast_refs_t *anc = &iface->u.iface.ancestors;
    be_c_op_t **parts = mem_zalloc(&g->arena,
                                   (anc->count + 1) * sizeof *parts);
    size_t *counts = mem_zalloc(&g->arena, (anc->count + 1) * sizeof *counts);
    size_t total = 0, k = 0;
    be_c_op_t *v;

    for (size_t i = 0; i <= anc->count; i++) {
        const ast_node_t *n =
            i < anc->count ? ast_node_resolve(anc->items[i]) : iface;
        counts[i] = be_c_own_ops(g, n, &parts[i]);
        total += counts[i];
    }
    v = mem_zalloc(&g->arena, (total ? total : 1) * sizeof *v);
    for (size_t i = 0; i <= anc->count; i++)
        for (size_t j = 0; j < counts[i]; j++)
            v[k++] = parts[i][j];
    *ops = v;
    return total;
}
