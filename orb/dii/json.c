/*
 * json.c - a strict RFC 8259 JSON parser (into a small tree) and the
 * TypeCode-driven conversion of values to and from JSON (include/phx/json.h).
 * No dependencies beyond libc.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/dii.h>
#include <phx/json.h>

/* ------------------------------------------------------------------ */
/* Parser                                                               */
/* ------------------------------------------------------------------ */

enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jnode {
    enum jtype type;
    const char *src;       /* the value's text */
    size_t srclen;
    char *str;             /* J_STR: decoded, NUL-terminated */
    size_t slen;
    struct jnode *kids;    /* J_ARR, J_OBJ */
    char **keys;           /* J_OBJ */
    size_t n, cap;
} jnode_t;

typedef struct jparser {
    const char *p, *end, *start;
    unsigned depth, max_depth;
    phx_error_t *err;
    int rc;
} jparser_t;

static void jfree(jnode_t *n)
{
    if (n == NULL)
        return;
    free(n->str);
    for (size_t i = 0; i < n->n; i++) {
        jfree(&n->kids[i]);
        if (n->keys)
            free(n->keys[i]);
    }
    free(n->kids);
    free(n->keys);
    memset(n, 0, sizeof *n);
}

static int jfail(jparser_t *ps, int code, const char *what)
{
    if (ps->rc == PHX_OK) {
        ps->rc = code;
        phx_error_set(ps->err, code, "invalid JSON at offset %zu: %s",
                      (size_t)(ps->p - ps->start), what);
    }
    return code;
}

static void skip_ws(jparser_t *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
            *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *s, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (< end), 0 if invalid; *cp
 * receives the code point. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end,
                       uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

static int parse_string(jparser_t *ps, char **out, size_t *outlen)
{
    const char *q;
    char *buf, *o;
    size_t cap = 0;

    /* ps->p is at the opening quote; find the closing one to size. */
    for (q = ps->p + 1; q < ps->end && *q != '"'; q++)
        if (*q == '\\' && q + 1 < ps->end)
            q++;
    if (q >= ps->end)
        return jfail(ps, PHX_EINVAL, "unterminated string");
    cap = (size_t)(q - ps->p) + 1;
    buf = o = malloc(cap);
    if (buf == NULL)
        return jfail(ps, PHX_ENOMEM, "out of memory");
    ps->p++;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            free(buf);
            return jfail(ps, PHX_EINVAL, "control character in string");
        }
        if (c == '\\') {
            uint32_t cp, lo;
            if (ps->end - ps->p < 2) {
                free(buf);
                return jfail(ps, PHX_EINVAL, "bad escape");
            }
            switch (ps->p[1]) {
            case '"': *o++ = '"'; ps->p += 2; continue;
            case '\\': *o++ = '\\'; ps->p += 2; continue;
            case '/': *o++ = '/'; ps->p += 2; continue;
            case 'b': *o++ = '\b'; ps->p += 2; continue;
            case 'f': *o++ = '\f'; ps->p += 2; continue;
            case 'n': *o++ = '\n'; ps->p += 2; continue;
            case 'r': *o++ = '\r'; ps->p += 2; continue;
            case 't': *o++ = '\t'; ps->p += 2; continue;
            case 'u':
                break;
            default:
                free(buf);
                return jfail(ps, PHX_EINVAL, "bad escape");
            }
            if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp)) {
                free(buf);
                return jfail(ps, PHX_EINVAL, "bad \\u escape");
            }
            ps->p += 6;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                free(buf);
                return jfail(ps, PHX_EINVAL, "unpaired surrogate");
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
                    ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    free(buf);
                    return jfail(ps, PHX_EINVAL, "unpaired surrogate");
                }
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            /* an escape takes 6 or 12 bytes and gives at most 4 */
            o += put_utf8(o, cp);
            continue;
        }
        uint32_t cp;
        size_t n = utf8_len((const unsigned char *)ps->p,
                            (const unsigned char *)ps->end, &cp);
        if (n == 0) {
            free(buf);
            return jfail(ps, PHX_EINVAL, "invalid UTF-8 in string");
        }
        memcpy(o, ps->p, n);
        o += n;
        ps->p += n;
    }
    if (ps->p >= ps->end) {
        free(buf);
        return jfail(ps, PHX_EINVAL, "unterminated string");
    }
    ps->p++;
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    return PHX_OK;
}

static int parse_number(jparser_t *ps)
{
    const char *p = ps->p;

    if (p < ps->end && *p == '-')
        p++;
    if (p >= ps->end || *p < '0' || *p > '9')
        return jfail(ps, PHX_EINVAL, "bad number");
    if (*p == '0')
        p++;
    else
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return jfail(ps, PHX_EINVAL, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return jfail(ps, PHX_EINVAL, "bad number");
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    ps->p = p;
    return PHX_OK;
}

static int add_kid(jparser_t *ps, jnode_t *n)
{
    if (n->n == n->cap) {
        size_t nc = n->cap ? n->cap * 2 : 4;
        jnode_t *k = realloc(n->kids, nc * sizeof *k);
        if (k == NULL)
            return jfail(ps, PHX_ENOMEM, "out of memory");
        n->kids = k;
        if (n->type == J_OBJ) {
            char **keys = realloc(n->keys, nc * sizeof *keys);
            if (keys == NULL)
                return jfail(ps, PHX_ENOMEM, "out of memory");
            n->keys = keys;
        }
        n->cap = nc;
    }
    memset(&n->kids[n->n], 0, sizeof n->kids[0]);
    if (n->keys)
        n->keys[n->n] = NULL;
    n->n++;
    return PHX_OK;
}

static int parse_value(jparser_t *ps, jnode_t *n);

static int parse_container(jparser_t *ps, jnode_t *n, bool obj)
{
    char close = obj ? '}' : ']';

    if (++ps->depth > ps->max_depth)
        return jfail(ps, PHX_ELIMIT, "nesting too deep");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return PHX_OK;
    }
    for (;;) {
        if (add_kid(ps, n))
            return ps->rc;
        if (obj) {
            size_t kl;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"')
                return jfail(ps, PHX_EINVAL, "expected a member name");
            if (parse_string(ps, &n->keys[n->n - 1], &kl))
                return ps->rc;
            if (strlen(n->keys[n->n - 1]) != kl)
                return jfail(ps, PHX_EINVAL, "NUL in a member name");
            for (size_t i = 0; i + 1 < n->n; i++)
                if (strcmp(n->keys[i], n->keys[n->n - 1]) == 0)
                    return jfail(ps, PHX_EINVAL, "duplicate member name");
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return jfail(ps, PHX_EINVAL, "expected ':'");
            ps->p++;
        }
        if (parse_value(ps, &n->kids[n->n - 1]))
            return ps->rc;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return PHX_OK;
        }
        return jfail(ps, PHX_EINVAL, obj ? "expected ',' or '}'"
                                         : "expected ',' or ']'");
    }
}

static int parse_value(jparser_t *ps, jnode_t *n)
{
    const char *s;

    skip_ws(ps);
    s = ps->p;
    n->src = s;
    if (ps->p >= ps->end)
        return jfail(ps, PHX_EINVAL, "unexpected end of text");
    switch (*ps->p) {
    case '{':
        n->type = J_OBJ;
        if (parse_container(ps, n, true))
            return ps->rc;
        break;
    case '[':
        n->type = J_ARR;
        if (parse_container(ps, n, false))
            return ps->rc;
        break;
    case '"':
        n->type = J_STR;
        if (parse_string(ps, &n->str, &n->slen))
            return ps->rc;
        break;
    case 't':
    case 'f':
    case 'n': {
        static const char *const words[] = {"true", "false", "null"};
        static const enum jtype types[] = {J_TRUE, J_FALSE, J_NULL};
        int i = *ps->p == 't' ? 0 : *ps->p == 'f' ? 1 : 2;
        size_t l = strlen(words[i]);
        if ((size_t)(ps->end - ps->p) < l || memcmp(ps->p, words[i], l))
            return jfail(ps, PHX_EINVAL, "unexpected word");
        ps->p += l;
        n->type = types[i];
        break;
    }
    default:
        n->type = J_NUM;
        if (parse_number(ps))
            return ps->rc;
        break;
    }
    n->srclen = (size_t)(ps->p - s);
    return PHX_OK;
}

static int jparse(const char *text, size_t len, unsigned max_depth,
                  size_t max_size, jnode_t *root, phx_error_t *err)
{
    jparser_t ps = {text, text + len, text, 0, max_depth, err, PHX_OK};

    memset(root, 0, sizeof *root);
    if (text == NULL)
        return phx_error_set(err, PHX_EINVAL, "no JSON text");
    if (len > max_size)
        return phx_error_set(err, PHX_ELIMIT,
                             "JSON text of %zu bytes exceeds %zu", len,
                             max_size);
    if (parse_value(&ps, root) == PHX_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            jfail(&ps, PHX_EINVAL, "trailing characters after the value");
    }
    if (ps.rc != PHX_OK)
        jfree(root);
    return ps.rc;
}

int phx_json_validate(const char *text, size_t len, phx_error_t *err)
{
    jnode_t root;
    int rc = jparse(text, len, PHX_JSON_MAX_DEPTH, PHX_JSON_MAX_SIZE, &root,
                    err);
    jfree(&root);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Output buffer                                                        */
/* ------------------------------------------------------------------ */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int err;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *p = realloc(b->s, nc);
        if (p == NULL) {
            b->err = PHX_ENOMEM;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string; bytes that are not UTF-8 become Latin-1 code points. */
static void sb_str(sbuf_t *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    sb_add(b, "\"", 1);
    while (p < end) {
        uint32_t cp;
        size_t l;
        switch (*p) {
        case '"': sb_add(b, "\\\"", 2); p++; continue;
        case '\\': sb_add(b, "\\\\", 2); p++; continue;
        case '\n': sb_add(b, "\\n", 2); p++; continue;
        case '\r': sb_add(b, "\\r", 2); p++; continue;
        case '\t': sb_add(b, "\\t", 2); p++; continue;
        case '\b': sb_add(b, "\\b", 2); p++; continue;
        case '\f': sb_add(b, "\\f", 2); p++; continue;
        default:
            break;
        }
        if (*p < 0x20) {
            sb_printf(b, "\\u%04x", *p);
            p++;
            continue;
        }
        l = utf8_len(p, end, &cp);
        if (l == 0) {
            char u[4];
            sb_add(b, u, put_utf8(u, *p));
            p++;
            continue;
        }
        sb_add(b, (const char *)p, l);
        p += l;
    }
    sb_add(b, "\"", 1);
}

/* ------------------------------------------------------------------ */
/* Type names and descriptions                                          */
/* ------------------------------------------------------------------ */

static const char *basic_name(phx_tckind_t k)
{
    switch (k) {
    case PHX_TK_NULL: return "null";
    case PHX_TK_VOID: return "void";
    case PHX_TK_SHORT: return "short";
    case PHX_TK_LONG: return "long";
    case PHX_TK_USHORT: return "unsigned short";
    case PHX_TK_ULONG: return "unsigned long";
    case PHX_TK_FLOAT: return "float";
    case PHX_TK_DOUBLE: return "double";
    case PHX_TK_BOOLEAN: return "boolean";
    case PHX_TK_CHAR: return "char";
    case PHX_TK_OCTET: return "octet";
    case PHX_TK_ANY: return "any";
    case PHX_TK_TYPECODE: return "TypeCode";
    case PHX_TK_LONGLONG: return "long long";
    case PHX_TK_ULONGLONG: return "unsigned long long";
    default: return NULL;
    }
}

static bool type_name(const phx_typecode_t *tc, sbuf_t *b, int depth)
{
    const char *n;

    if (depth > PHX_VALUE_MAX_DEPTH)
        return false;
    if (tc == NULL) {
        sb_puts(b, "null");
        return true;
    }
    if ((n = basic_name(tc->kind)) != NULL) {
        sb_puts(b, n);
        return true;
    }
    switch (tc->kind) {
    case PHX_TK_STRING:
        if (tc->length)
            sb_printf(b, "string<%" PRIu32 ">", tc->length);
        else
            sb_puts(b, "string");
        return true;
    case PHX_TK_SEQUENCE:
        sb_puts(b, "sequence<");
        if (!type_name(tc->content, b, depth + 1))
            return false;
        if (tc->length)
            sb_printf(b, ",%" PRIu32, tc->length);
        sb_puts(b, ">");
        return true;
    case PHX_TK_OBJREF:
        if (tc->repo_id == NULL || tc->repo_id[0] == '\0' ||
            strcmp(tc->repo_id, "IDL:omg.org/CORBA/Object:1.0") == 0) {
            sb_puts(b, "Object");
            return true;
        }
        sb_puts(b, tc->repo_id);
        return true;
    case PHX_TK_STRUCT:
    case PHX_TK_UNION:
    case PHX_TK_ENUM:
    case PHX_TK_ALIAS:
    case PHX_TK_EXCEPT:
        if (tc->repo_id == NULL || tc->repo_id[0] == '\0')
            return false;
        sb_puts(b, tc->repo_id);
        return true;
    default:
        return false;
    }
}

const char *phx_json_type_name(const phx_typecode_t *tc, char *buf,
                               size_t len)
{
    sbuf_t b = {0};
    bool ok = type_name(tc, &b, 0);

    if (!ok || b.err || len == 0) {
        free(b.s);
        return NULL;
    }
    snprintf(buf, len, "%s", b.s ? b.s : "");
    free(b.s);
    return buf;
}

/* Name of a type for messages: its IDL name, or its basic name. */
static const char *short_name(const phx_typecode_t *tc)
{
    const char *n = basic_name(tc->kind);
    if (n)
        return n;
    if (tc->name && tc->name[0])
        return tc->name;
    switch (tc->kind) {
    case PHX_TK_STRING: return "string";
    case PHX_TK_SEQUENCE: return "sequence";
    case PHX_TK_ARRAY: return "array";
    case PHX_TK_OBJREF: return "Object";
    default: return "?";
    }
}

static void describe(const phx_typecode_t *tc, sbuf_t *b)
{
    const phx_typecode_t *t = phx_typecode_unalias(tc);

    if (t == NULL) {
        sb_puts(b, "a value");
        return;
    }
    switch (t->kind) {
    case PHX_TK_SHORT: sb_puts(b, "an integer -32768..32767"); return;
    case PHX_TK_USHORT: sb_puts(b, "an integer 0..65535"); return;
    case PHX_TK_LONG:
        sb_puts(b, "an integer -2147483648..2147483647");
        return;
    case PHX_TK_ULONG: sb_puts(b, "an integer 0..4294967295"); return;
    case PHX_TK_LONGLONG:
        sb_puts(b, "an integer -9223372036854775808..9223372036854775807");
        return;
    case PHX_TK_ULONGLONG:
        sb_puts(b, "an integer 0..18446744073709551615");
        return;
    case PHX_TK_OCTET: sb_puts(b, "an integer 0..255"); return;
    case PHX_TK_FLOAT:
    case PHX_TK_DOUBLE: sb_puts(b, "a number"); return;
    case PHX_TK_BOOLEAN: sb_puts(b, "true or false"); return;
    case PHX_TK_CHAR: sb_puts(b, "a one-character string"); return;
    case PHX_TK_STRING:
        if (t->length)
            sb_printf(b, "a string of at most %" PRIu32 " bytes", t->length);
        else
            sb_puts(b, "a string");
        return;
    case PHX_TK_ENUM:
        sb_puts(b, "one of ");
        for (uint32_t i = 0; i < t->member_count; i++) {
            if (i == 8) {
                sb_puts(b, ", ...");
                break;
            }
            sb_printf(b, "%s\"%s\"", i ? ", " : "", t->enumerators[i]);
        }
        return;
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        sb_printf(b, "an object (%s %s)",
                  t->kind == PHX_TK_STRUCT ? "struct" : "exception",
                  short_name(t));
        return;
    case PHX_TK_UNION:
        sb_printf(b, "an object {\"discriminator\": ..., \"value\": ...} "
                     "or {\"<member>\": ...} (union %s)", short_name(t));
        return;
    case PHX_TK_SEQUENCE:
        if (t->length)
            sb_printf(b, "an array of at most %" PRIu32 " elements",
                      t->length);
        else
            sb_puts(b, "an array");
        return;
    case PHX_TK_ARRAY:
        sb_printf(b, "an array of %" PRIu32 " elements", t->length);
        return;
    case PHX_TK_ANY:
        sb_puts(b, "an object {\"type\": ..., \"value\": ...}");
        return;
    case PHX_TK_TYPECODE: sb_puts(b, "a type name"); return;
    case PHX_TK_OBJREF:
        sb_puts(b, "an \"IOR:...\" string or null");
        return;
    default:
        sb_printf(b, "a value of an unsupported type (kind %d)",
                  (int)t->kind);
        return;
    }
}

const char *phx_json_describe_type(const phx_typecode_t *tc, char *buf,
                                   size_t len)
{
    sbuf_t b = {0};

    describe(tc, &b);
    if (len)
        snprintf(buf, len, "%s", b.s && !b.err ? b.s : "a value");
    free(b.s);
    return buf;
}

/* ------------------------------------------------------------------ */
/* JSON to value                                                        */
/* ------------------------------------------------------------------ */

typedef struct jconv {
    const phx_json_opts_t *opts;
    phx_error_t *err;
    char path[256];
    size_t plen;
} jconv_t;

static size_t path_push(jconv_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t path_push(jconv_t *c, const char *fmt, ...)
{
    size_t old = c->plen;
    va_list ap;
    int n;

    if (c->plen < sizeof c->path - 1) {
        va_start(ap, fmt);
        n = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
        va_end(ap);
        if (n > 0)
            c->plen += (size_t)n;
        if (c->plen > sizeof c->path - 1)
            c->plen = sizeof c->path - 1;
    }
    return old;
}

static void path_pop(jconv_t *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

/* "path: expected <what tc takes>, got <text>" */
static int expected(jconv_t *c, const phx_typecode_t *tc, const jnode_t *n)
{
    sbuf_t d = {0};
    char got[48];
    size_t l = n->srclen;

    describe(tc, &d);
    if (l > 40) {
        memcpy(got, n->src, 37);
        memcpy(got + 37, "...", 4);
    } else {
        memcpy(got, n->src, l);
        got[l] = '\0';
    }
    phx_error_set(c->err, PHX_EINVAL, "%s: expected %s, got %s", c->path,
                  d.s && !d.err ? d.s : "a value", got);
    free(d.s);
    return PHX_EINVAL;
}

static int fail(jconv_t *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(jconv_t *c, int code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return phx_error_set(c->err, code, "%s: %s", c->path, msg);
}

/* An integer literal: *neg and the magnitude; false if not an integer or
 * beyond 64 bits of magnitude. */
static bool parse_int(const jnode_t *n, bool *neg, uint64_t *mag)
{
    const char *p = n->src, *e = n->src + n->srclen;
    uint64_t v = 0;

    if (n->type != J_NUM)
        return false;
    *neg = false;
    if (p < e && *p == '-') {
        *neg = true;
        p++;
    }
    if (p == e)
        return false;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *mag = v;
    return true;
}

static bool int_range(const jnode_t *n, int64_t lo, uint64_t hi,
                      int64_t *sv, uint64_t *uv)
{
    bool neg;
    uint64_t mag;

    if (!parse_int(n, &neg, &mag))
        return false;
    if (neg) {
        if (mag == 0) {
            *sv = 0;
            *uv = 0;
            return true;
        }
        /* -mag >= lo */
        if (lo >= 0 || mag - 1 > (uint64_t)(-(lo + 1)))
            return false;
        *sv = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        *uv = (uint64_t)*sv;
        return true;
    }
    if (mag > hi)
        return false;
    *uv = mag;
    *sv = (int64_t)mag;
    return true;
}

static bool parse_float(const jnode_t *n, double *d)
{
    char buf[64], *end;
    char *tmp = buf;

    if (n->type == J_STR) {
        if (strcmp(n->str, "NaN") == 0)
            *d = NAN;
        else if (strcmp(n->str, "Infinity") == 0)
            *d = INFINITY;
        else if (strcmp(n->str, "-Infinity") == 0)
            *d = -INFINITY;
        else
            return false;
        return true;
    }
    if (n->type != J_NUM)
        return false;
    if (n->srclen >= sizeof buf && (tmp = malloc(n->srclen + 1)) == NULL)
        return false;
    memcpy(tmp, n->src, n->srclen);
    tmp[n->srclen] = '\0';
    *d = strtod(tmp, &end);
    bool ok = *end == '\0' && isfinite(*d);
    if (tmp != buf)
        free(tmp);
    return ok;
}

static int to_value(jconv_t *c, const phx_typecode_t *tc, const jnode_t *n,
                    void *v, int depth);

/* Store an integer of an integral kind. */
static void store_int(phx_tckind_t k, void *v, int64_t sv, uint64_t uv)
{
    switch (k) {
    case PHX_TK_SHORT: { int16_t x = (int16_t)sv; memcpy(v, &x, 2); break; }
    case PHX_TK_USHORT: { uint16_t x = (uint16_t)uv; memcpy(v, &x, 2); break; }
    case PHX_TK_LONG: { int32_t x = (int32_t)sv; memcpy(v, &x, 4); break; }
    case PHX_TK_ULONG:
    case PHX_TK_ENUM: { uint32_t x = (uint32_t)uv; memcpy(v, &x, 4); break; }
    case PHX_TK_LONGLONG: memcpy(v, &sv, 8); break;
    case PHX_TK_ULONGLONG: memcpy(v, &uv, 8); break;
    case PHX_TK_OCTET: { uint8_t x = (uint8_t)uv; memcpy(v, &x, 1); break; }
    case PHX_TK_CHAR: { char x = (char)uv; memcpy(v, &x, 1); break; }
    case PHX_TK_BOOLEAN: { bool x = uv != 0; memcpy(v, &x, 1); break; }
    default: break;
    }
}

/* Load a discriminator-kind value as a label. */
static int64_t load_int(phx_tckind_t k, const void *v)
{
    switch (k) {
    case PHX_TK_SHORT: { int16_t x; memcpy(&x, v, 2); return x; }
    case PHX_TK_USHORT: { uint16_t x; memcpy(&x, v, 2); return x; }
    case PHX_TK_LONG: { int32_t x; memcpy(&x, v, 4); return x; }
    case PHX_TK_ULONG:
    case PHX_TK_ENUM: { uint32_t x; memcpy(&x, v, 4); return x; }
    case PHX_TK_LONGLONG:
    case PHX_TK_ULONGLONG: { int64_t x; memcpy(&x, v, 8); return x; }
    case PHX_TK_OCTET: { uint8_t x; memcpy(&x, v, 1); return x; }
    case PHX_TK_CHAR: { unsigned char x; memcpy(&x, v, 1); return x; }
    case PHX_TK_BOOLEAN: { bool x; memcpy(&x, v, 1); return x; }
    default: return 0;
    }
}

static const jnode_t *obj_get(const jnode_t *n, const char *key)
{
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->keys[i], key) == 0)
            return &n->kids[i];
    return NULL;
}

static int to_struct(jconv_t *c, const phx_typecode_t *t, const jnode_t *n,
                     uint8_t *v, int depth)
{
    if (n->type != J_OBJ)
        return expected(c, t, n);
    for (size_t i = 0; i < n->n; i++) {
        bool known = false;
        for (uint32_t j = 0; j < t->member_count && !known; j++)
            known = strcmp(t->members[j].name, n->keys[i]) == 0;
        if (!known) {
            sbuf_t names = {0};
            for (uint32_t j = 0; j < t->member_count; j++)
                sb_printf(&names, "%s%s", j ? ", " : "",
                          t->members[j].name);
            fail(c, PHX_EINVAL, "unknown member \"%s\" (%s %s has: %s)",
                 n->keys[i], t->kind == PHX_TK_EXCEPT ? "exception"
                                                      : "struct",
                 short_name(t), names.s ? names.s : "no members");
            free(names.s);
            return PHX_EINVAL;
        }
    }
    for (uint32_t j = 0; j < t->member_count; j++) {
        const phx_tc_member_t *m = &t->members[j];
        const jnode_t *k = obj_get(n, m->name);
        if (k == NULL)
            return fail(c, PHX_EINVAL, "missing member \"%s\" (%s)", m->name,
                        short_name(phx_typecode_unalias(m->type)
                                       ? phx_typecode_unalias(m->type)
                                       : m->type));
        size_t old = path_push(c, ".%s", m->name);
        int rc = to_value(c, m->type, k, v + m->offset, depth + 1);
        if (rc)
            return rc;
        path_pop(c, old);
    }
    return PHX_OK;
}

/* A discriminator value that selects the default member. */
static bool default_label(const phx_typecode_t *t, phx_tckind_t dk,
                          int64_t *out)
{
    int64_t lim = dk == PHX_TK_BOOLEAN ? 2 : (int64_t)t->member_count + 2;

    for (int64_t d = 0; d < lim; d++) {
        bool used = false;
        for (uint32_t i = 0; i < t->member_count && !used; i++)
            used = !t->members[i].is_default &&
                   phx__tc_norm_label(dk, t->members[i].label) == d;
        if (!used) {
            *out = d;
            return true;
        }
    }
    return false;
}

static int to_union(jconv_t *c, const phx_typecode_t *t, const jnode_t *n,
                    uint8_t *v, int depth)
{
    const phx_typecode_t *dt = phx_typecode_unalias(t->discriminator);
    const phx_tc_member_t *m = NULL;
    const jnode_t *val = NULL;
    int64_t d;
    size_t old;
    int rc;

    if (n->type != J_OBJ || dt == NULL)
        return expected(c, t, n);
    const jnode_t *dn = obj_get(n, "discriminator");
    if (dn) {
        for (size_t i = 0; i < n->n; i++)
            if (strcmp(n->keys[i], "discriminator") &&
                strcmp(n->keys[i], "value"))
                return fail(c, PHX_EINVAL,
                            "unknown member \"%s\" (expected "
                            "\"discriminator\" and \"value\")",
                            n->keys[i]);
        old = path_push(c, ".discriminator");
        rc = to_value(c, t->discriminator, dn, v, depth + 1);
        if (rc)
            return rc;
        path_pop(c, old);
        d = phx__tc_norm_label(dt->kind, load_int(dt->kind, v));
        m = phx__tc_branch(t, dt->kind, d);
        val = obj_get(n, "value");
        if (m == NULL && val)
            return fail(c, PHX_EINVAL,
                        "no member of union %s is selected by this "
                        "discriminator, but a \"value\" is given",
                        short_name(t));
        if (m && val == NULL)
            return fail(c, PHX_EINVAL, "missing member \"value\" (%s)",
                        m->name);
    } else {
        if (n->n != 1) {
            sbuf_t names = {0};
            for (uint32_t j = 0; j < t->member_count; j++)
                sb_printf(&names, "%s%s", j ? ", " : "",
                          t->members[j].name);
            fail(c, PHX_EINVAL,
                 "expected {\"discriminator\": ..., \"value\": ...} or "
                 "one member of union %s (%s)", short_name(t),
                 names.s ? names.s : "");
            free(names.s);
            return PHX_EINVAL;
        }
        for (uint32_t j = 0; j < t->member_count && !m; j++)
            if (strcmp(t->members[j].name, n->keys[0]) == 0)
                m = &t->members[j];
        if (m == NULL) {
            sbuf_t names = {0};
            for (uint32_t j = 0; j < t->member_count; j++)
                sb_printf(&names, "%s%s", j ? ", " : "",
                          t->members[j].name);
            fail(c, PHX_EINVAL, "unknown member \"%s\" (union %s has: %s)",
                 n->keys[0], short_name(t), names.s ? names.s : "");
            free(names.s);
            return PHX_EINVAL;
        }
        if (m->is_default) {
            if (!default_label(t, dt->kind, &d))
                return fail(c, PHX_EINVAL, "no discriminator value selects "
                                           "the default member");
        } else {
            d = m->label;
        }
        store_int(dt->kind, v, d, (uint64_t)d);
        val = &n->kids[0];
    }
    if (m == NULL)
        return PHX_OK;
    old = path_push(c, ".%s", m->name);
    rc = to_value(c, m->type, val, v + m->offset, depth + 1);
    if (rc)
        return rc;
    path_pop(c, old);
    return PHX_OK;
}

static int to_elems(jconv_t *c, const phx_typecode_t *et, const jnode_t *n,
                    uint8_t *buf, size_t es, int depth)
{
    for (size_t i = 0; i < n->n; i++) {
        size_t old = path_push(c, "[%zu]", i);
        int rc = to_value(c, et, &n->kids[i], buf + i * es, depth + 1);
        if (rc)
            return rc;
        path_pop(c, old);
    }
    return PHX_OK;
}

/* Resolve a type name of phx_json_type_name; *owned says the result is a
 * heap reference to release. */
static const phx_typecode_t *resolve_name(jconv_t *c, const char *s,
                                          size_t len, int depth)
{
    static const phx_tckind_t basics[] = {
        PHX_TK_NULL, PHX_TK_VOID, PHX_TK_SHORT, PHX_TK_LONG, PHX_TK_USHORT,
        PHX_TK_ULONG, PHX_TK_FLOAT, PHX_TK_DOUBLE, PHX_TK_BOOLEAN,
        PHX_TK_CHAR, PHX_TK_OCTET, PHX_TK_ANY, PHX_TK_TYPECODE,
        PHX_TK_LONGLONG, PHX_TK_ULONGLONG};
    const phx_typecode_t *out = NULL, *inner;
    char tmp[256];

    if (depth > PHX_VALUE_MAX_DEPTH || len == 0 || len >= sizeof tmp)
        return NULL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    for (size_t i = 0; i < sizeof basics / sizeof basics[0]; i++)
        if (strcmp(tmp, basic_name(basics[i])) == 0)
            return phx_tc_basic(basics[i]);
    if (strcmp(tmp, "string") == 0)
        return &phx_tc_string;
    if (strcmp(tmp, "Object") == 0)
        return &phx_tc_Object;
    if (strncmp(tmp, "string<", 7) == 0 && tmp[len - 1] == '>') {
        char *end;
        unsigned long b = strtoul(tmp + 7, &end, 10);
        if (end != tmp + len - 1 || b == 0 || b > UINT32_MAX ||
            tmp[7] < '0' || tmp[7] > '9')
            return NULL;
        return phx_tc_new_string((uint32_t)b, &out) ? NULL : out;
    }
    if (strncmp(tmp, "sequence<", 9) == 0 && tmp[len - 1] == '>') {
        /* the bound, if any, follows the last comma outside <> */
        size_t lvl = 0, comma = 0;
        unsigned long b = 0;
        for (size_t i = 9; i < len - 1; i++) {
            if (tmp[i] == '<')
                lvl++;
            else if (tmp[i] == '>')
                lvl--;
            else if (tmp[i] == ',' && lvl == 0)
                comma = i;
        }
        size_t ilen = (comma ? comma : len - 1) - 9;
        if (comma) {
            char *end;
            if (tmp[comma + 1] < '0' || tmp[comma + 1] > '9')
                return NULL;
            b = strtoul(tmp + comma + 1, &end, 10);
            if (end != tmp + len - 1 || b == 0 || b > UINT32_MAX)
                return NULL;
        }
        inner = resolve_name(c, tmp + 9, ilen, depth + 1);
        if (inner == NULL)
            return NULL;
        int rc = phx_tc_new_sequence(inner, (uint32_t)b, &out);
        phx_typecode_free(inner);
        return rc ? NULL : out;
    }
    if (c->opts && c->opts->resolve) {
        out = c->opts->resolve(c->opts->resolve_arg, tmp);
        return out ? phx_typecode_ref(out) : NULL;
    }
    return NULL;
}

static int to_any(jconv_t *c, const phx_typecode_t *t, const jnode_t *n,
                  void *v, int depth)
{
    const jnode_t *tn, *vn;
    const phx_typecode_t *at;
    phx_any_t a;
    int rc;

    if (n->type != J_OBJ)
        return expected(c, t, n);
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->keys[i], "type") && strcmp(n->keys[i], "value"))
            return fail(c, PHX_EINVAL, "unknown member \"%s\" (expected "
                                       "\"type\" and \"value\")",
                        n->keys[i]);
    tn = obj_get(n, "type");
    vn = obj_get(n, "value");
    if (tn == NULL || tn->type != J_STR)
        return fail(c, PHX_EINVAL, "expected a \"type\" string");
    at = resolve_name(c, tn->str, tn->slen, depth);
    if (at == NULL)
        return fail(c, PHX_EINVAL, "unknown type \"%.100s\"", tn->str);
    const phx_typecode_t *ut = phx_typecode_unalias(at);
    if (ut == NULL || ut->kind == PHX_TK_NULL || ut->kind == PHX_TK_VOID) {
        phx_any_t z = {at, NULL, true};
        if (vn && vn->type != J_NULL) {
            phx_typecode_free(at);
            return fail(c, PHX_EINVAL, "a %s any has no value", tn->str);
        }
        memcpy(v, &z, sizeof z);
        return PHX_OK;
    }
    if (vn == NULL) {
        phx_typecode_free(at);
        return fail(c, PHX_EINVAL, "missing member \"value\"");
    }
    rc = phx_dii_any_alloc(&a, at);
    phx_typecode_free(at);
    if (rc)
        return fail(c, rc, "cannot hold a value of type %s", tn->str);
    memcpy(v, &a, sizeof a);
    size_t old = path_push(c, ".value");
    rc = to_value(c, a._type, vn, a._value, depth + 1);
    if (rc)
        return rc;
    path_pop(c, old);
    return PHX_OK;
}

static void ensure_ref_hooks(void)
{
    static const phx_opdesc_t none = {.name = "", .result = &phx_tc_void};
    phx_cdr_writer_t w;

    phx_cdr_writer_init(&w, 0);
    phx_op_put_args(&w, &none, NULL);   /* registers the objref hooks */
    phx_cdr_writer_fini(&w);
}

static int to_value(jconv_t *c, const phx_typecode_t *tc, const jnode_t *n,
                    void *v, int depth)
{
    const phx_typecode_t *t = phx_typecode_unalias(tc);
    int64_t sv;
    uint64_t uv;
    double d;

    if (t == NULL || depth > PHX_VALUE_MAX_DEPTH)
        return fail(c, PHX_ELIMIT, "type nested too deeply");
    switch (t->kind) {
    case PHX_TK_SHORT:
        if (!int_range(n, INT16_MIN, INT16_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_USHORT:
        if (!int_range(n, 0, UINT16_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_LONG:
        if (!int_range(n, INT32_MIN, INT32_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_ULONG:
        if (!int_range(n, 0, UINT32_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_LONGLONG:
        if (!int_range(n, INT64_MIN, INT64_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_ULONGLONG:
        if (!int_range(n, 0, UINT64_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_OCTET:
        if (!int_range(n, 0, UINT8_MAX, &sv, &uv))
            return expected(c, t, n);
        break;
    case PHX_TK_BOOLEAN:
        if (n->type != J_TRUE && n->type != J_FALSE)
            return expected(c, t, n);
        uv = n->type == J_TRUE;
        break;
    case PHX_TK_CHAR: {
        uint32_t cp;
        if (n->type != J_STR || n->slen == 0 ||
            utf8_len((const unsigned char *)n->str,
                     (const unsigned char *)n->str + n->slen, &cp) !=
                n->slen ||
            cp > 0xff)
            return expected(c, t, n);
        uv = cp;
        break;
    }
    case PHX_TK_ENUM:
        if (n->type != J_STR)
            return expected(c, t, n);
        for (uv = 0; uv < t->member_count; uv++)
            if (strcmp(t->enumerators[uv], n->str) == 0)
                break;
        if (uv == t->member_count)
            return expected(c, t, n);
        break;
    case PHX_TK_FLOAT:
        if (!parse_float(n, &d) ||
            (isfinite(d) && !isfinite((float)d)))
            return expected(c, t, n);
        {
            float f = (float)d;
            memcpy(v, &f, sizeof f);
        }
        return PHX_OK;
    case PHX_TK_DOUBLE:
        if (!parse_float(n, &d))
            return expected(c, t, n);
        memcpy(v, &d, sizeof d);
        return PHX_OK;
    case PHX_TK_STRING: {
        char *s;
        if (n->type != J_STR || strlen(n->str) != n->slen ||
            (t->length && n->slen > t->length))
            return expected(c, t, n);
        s = strdup(n->str);
        if (s == NULL)
            return fail(c, PHX_ENOMEM, "out of memory");
        memcpy(v, &s, sizeof s);
        return PHX_OK;
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        return to_struct(c, t, n, v, depth);
    case PHX_TK_UNION:
        return to_union(c, t, n, v, depth);
    case PHX_TK_SEQUENCE: {
        phx_sequence_t s = {0, 0, NULL, true};
        size_t es = phx_typecode_c_size(t->content);
        if (n->type != J_ARR || (t->length && n->n > t->length))
            return expected(c, t, n);
        if (es == 0)
            return fail(c, PHX_EUNSUPPORTED, "element type without a size");
        if (n->n) {
            s._buffer = calloc(n->n, es);
            if (s._buffer == NULL)
                return fail(c, PHX_ENOMEM, "out of memory");
            s._maximum = s._length = (uint32_t)n->n;
        }
        memcpy(v, &s, sizeof s);
        return to_elems(c, t->content, n, s._buffer, es, depth);
    }
    case PHX_TK_ARRAY: {
        size_t es = phx_typecode_c_size(t->content);
        if (n->type != J_ARR || n->n != t->length)
            return expected(c, t, n);
        if (es == 0)
            return fail(c, PHX_EUNSUPPORTED, "element type without a size");
        return to_elems(c, t->content, n, v, es, depth);
    }
    case PHX_TK_ANY:
        return to_any(c, t, n, v, depth);
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *x;
        if (n->type != J_STR)
            return expected(c, t, n);
        x = resolve_name(c, n->str, n->slen, depth);
        if (x == NULL)
            return fail(c, PHX_EINVAL, "unknown type \"%.100s\"", n->str);
        memcpy(v, &x, sizeof x);
        return PHX_OK;
    }
    case PHX_TK_OBJREF: {
        phx_object_t *obj = NULL;
        phx_error_t e;
        if (n->type == J_NULL) {
            memcpy(v, &obj, sizeof obj);
            return PHX_OK;
        }
        if (n->type != J_STR)
            return expected(c, t, n);
        if (c->opts == NULL || c->opts->orb == NULL)
            return fail(c, PHX_EINVAL,
                        "object references need an ORB to be read");
        if (phx_object_from_string(c->opts->orb, n->str, &obj, &e) !=
            PHX_OK)
            return fail(c, PHX_EINVAL, "bad object reference: %s", e.msg);
        ensure_ref_hooks();
        memcpy(v, &obj, sizeof obj);
        return PHX_OK;
    }
    default:
        return fail(c, PHX_EUNSUPPORTED, "type %s is not supported",
                    short_name(t));
    }
    store_int(t->kind, v, sv, uv);
    return PHX_OK;
}

int phx_json_to_value_ex(const phx_typecode_t *tc, const char *text,
                         size_t len, void *storage, const char *path,
                         const phx_json_opts_t *opts, phx_error_t *err)
{
    unsigned md = opts && opts->max_depth ? opts->max_depth
                                          : PHX_JSON_MAX_DEPTH;
    size_t ms = opts && opts->max_size ? opts->max_size : PHX_JSON_MAX_SIZE;
    size_t sz = tc ? phx_typecode_c_size(tc) : 0;
    jconv_t c;
    jnode_t root;
    int rc;

    if (sz == 0)
        return phx_error_set(err, PHX_EINVAL, "%s: type without a C size",
                             path ? path : "value");
    memset(storage, 0, sz);
    if (path && strlen(path) >= sizeof c.path / 2)
        path = "value";
    rc = jparse(text, len, md, ms, &root, err);
    if (rc != PHX_OK) {
        if (err && path) {
            char tmp[PHX_ERROR_MSG_MAX];
            snprintf(tmp, sizeof tmp, "%s", err->msg);
            phx_error_set(err, rc, "%s: %s", path, tmp);
        }
        return rc;
    }
    memset(&c, 0, sizeof c);
    c.opts = opts;
    c.err = err;
    snprintf(c.path, sizeof c.path, "%s", path ? path : "value");
    c.plen = strlen(c.path);
    rc = to_value(&c, tc, &root, storage, 0);
    jfree(&root);
    if (rc != PHX_OK)
        phx_value_free(tc, storage);
    else
        phx_error_clear(err);
    return rc;
}

int phx_json_to_value(const phx_typecode_t *tc, const char *text,
                      void *storage, phx_error_t *err)
{
    if (text == NULL)
        return phx_error_set(err, PHX_EINVAL, "no JSON text");
    return phx_json_to_value_ex(tc, text, strlen(text), storage, NULL, NULL,
                                err);
}

/* ------------------------------------------------------------------ */
/* Value to JSON                                                        */
/* ------------------------------------------------------------------ */

static int from_value(sbuf_t *b, const phx_typecode_t *tc, const void *v,
                      phx_error_t *err, int depth);

static void put_double(sbuf_t *b, double d, bool is_float)
{
    char tmp[40];

    if (isnan(d)) {
        sb_puts(b, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        sb_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(tmp, sizeof tmp, "%.0f", d);
        if (signbit(d) && d == 0)
            snprintf(tmp, sizeof tmp, "-0.0");
        sb_puts(b, tmp);
        return;
    }
    snprintf(tmp, sizeof tmp, is_float ? "%.9g" : "%.17g", d);
    /* shortest form that reads back exactly */
    for (int prec = 1; prec < 17; prec++) {
        char t2[40];
        snprintf(t2, sizeof t2, "%.*g", prec, d);
        if (is_float ? (float)strtod(t2, NULL) == (float)d
                     : strtod(t2, NULL) == d) {
            memcpy(tmp, t2, sizeof tmp);
            break;
        }
    }
    /* "1e+20" and "inf" are fine; a bare exponent form is valid JSON */
    sb_puts(b, tmp);
}

static int from_value(sbuf_t *b, const phx_typecode_t *tc, const void *vv,
                      phx_error_t *err, int depth)
{
    const phx_typecode_t *t = phx_typecode_unalias(tc);
    const uint8_t *v = vv;

    if (t == NULL || depth > PHX_VALUE_MAX_DEPTH)
        return phx_error_set(err, PHX_ELIMIT, "type nested too deeply");
    switch (t->kind) {
    case PHX_TK_SHORT:
    case PHX_TK_LONG:
    case PHX_TK_LONGLONG:
        sb_printf(b, "%" PRId64, load_int(t->kind, v));
        return PHX_OK;
    case PHX_TK_USHORT:
    case PHX_TK_ULONG:
    case PHX_TK_OCTET:
        sb_printf(b, "%" PRIu64, (uint64_t)load_int(t->kind, v));
        return PHX_OK;
    case PHX_TK_ULONGLONG:
        sb_printf(b, "%" PRIu64, (uint64_t)load_int(t->kind, v));
        return PHX_OK;
    case PHX_TK_BOOLEAN:
        sb_puts(b, load_int(t->kind, v) ? "true" : "false");
        return PHX_OK;
    case PHX_TK_CHAR: {
        char ch = (char)load_int(t->kind, v);
        char u[4];
        size_t l = put_utf8(u, (unsigned char)ch);
        if ((unsigned char)ch < 0x80)
            sb_str(b, &ch, 1);
        else {
            sb_add(b, "\"", 1);
            sb_add(b, u, l);
            sb_add(b, "\"", 1);
        }
        return PHX_OK;
    }
    case PHX_TK_FLOAT: {
        float f;
        memcpy(&f, v, sizeof f);
        put_double(b, f, true);
        return PHX_OK;
    }
    case PHX_TK_DOUBLE: {
        double d;
        memcpy(&d, v, sizeof d);
        put_double(b, d, false);
        return PHX_OK;
    }
    case PHX_TK_ENUM: {
        uint32_t e = (uint32_t)load_int(t->kind, v);
        if (e >= t->member_count)
            return phx_error_set(err, PHX_EINVAL,
                                 "enum %s value %" PRIu32 " out of range",
                                 short_name(t), e);
        sb_str(b, t->enumerators[e], strlen(t->enumerators[e]));
        return PHX_OK;
    }
    case PHX_TK_STRING: {
        const char *s;
        memcpy(&s, v, sizeof s);
        sb_str(b, s ? s : "", s ? strlen(s) : 0);
        return PHX_OK;
    }
    case PHX_TK_STRUCT:
    case PHX_TK_EXCEPT:
        sb_add(b, "{", 1);
        for (uint32_t i = 0; i < t->member_count; i++) {
            const phx_tc_member_t *m = &t->members[i];
            if (i)
                sb_add(b, ",", 1);
            sb_str(b, m->name, strlen(m->name));
            sb_add(b, ":", 1);
            int rc = from_value(b, m->type, v + m->offset, err, depth + 1);
            if (rc)
                return rc;
        }
        sb_add(b, "}", 1);
        return PHX_OK;
    case PHX_TK_UNION: {
        const phx_typecode_t *dt = phx_typecode_unalias(t->discriminator);
        const phx_tc_member_t *m;
        int rc;
        if (dt == NULL)
            return phx_error_set(err, PHX_EINVAL, "bad union TypeCode");
        int64_t d = phx__tc_norm_label(dt->kind, load_int(dt->kind, v));
        m = phx__tc_branch(t, dt->kind, d);
        sb_puts(b, "{\"discriminator\":");
        if ((rc = from_value(b, t->discriminator, v, err, depth + 1)))
            return rc;
        if (m) {
            sb_puts(b, ",\"value\":");
            if ((rc = from_value(b, m->type, v + m->offset, err,
                                 depth + 1)))
                return rc;
        }
        sb_add(b, "}", 1);
        return PHX_OK;
    }
    case PHX_TK_SEQUENCE:
    case PHX_TK_ARRAY: {
        size_t es = phx_typecode_c_size(t->content);
        const uint8_t *buf = v;
        size_t count = t->length;
        if (es == 0)
            return phx_error_set(err, PHX_EUNSUPPORTED,
                                 "element type without a size");
        if (t->kind == PHX_TK_SEQUENCE) {
            phx_sequence_t s;
            memcpy(&s, v, sizeof s);
            buf = s._buffer;
            count = s._length;
            if (count && buf == NULL)
                return phx_error_set(err, PHX_EINVAL,
                                     "sequence without a buffer");
        }
        sb_add(b, "[", 1);
        for (size_t i = 0; i < count; i++) {
            if (i)
                sb_add(b, ",", 1);
            int rc = from_value(b, t->content, buf + i * es, err, depth + 1);
            if (rc)
                return rc;
        }
        sb_add(b, "]", 1);
        return PHX_OK;
    }
    case PHX_TK_ANY: {
        phx_any_t a;
        const phx_typecode_t *at;
        memcpy(&a, v, sizeof a);
        at = phx_typecode_unalias(a._type);
        sb_puts(b, "{\"type\":");
        sbuf_t nb = {0};
        if (!type_name(a._type, &nb, 0) || nb.err) {
            free(nb.s);
            return phx_error_set(err, PHX_EUNSUPPORTED,
                                 "an any of a type without a name");
        }
        sb_str(b, nb.s, nb.len);
        free(nb.s);
        if (at && at->kind != PHX_TK_NULL && at->kind != PHX_TK_VOID) {
            if (a._value == NULL)
                return phx_error_set(err, PHX_EINVAL, "any without a value");
            sb_puts(b, ",\"value\":");
            int rc = from_value(b, a._type, a._value, err, depth + 1);
            if (rc)
                return rc;
        } else {
            sb_puts(b, ",\"value\":null");
        }
        sb_add(b, "}", 1);
        return PHX_OK;
    }
    case PHX_TK_TYPECODE: {
        const phx_typecode_t *x;
        sbuf_t nb = {0};
        memcpy(&x, v, sizeof x);
        if (!type_name(x, &nb, 0) || nb.err) {
            free(nb.s);
            return phx_error_set(err, PHX_EUNSUPPORTED,
                                 "a TypeCode without a name");
        }
        sb_str(b, nb.s, nb.len);
        free(nb.s);
        return PHX_OK;
    }
    case PHX_TK_OBJREF: {
        phx_object_t *obj;
        char *s = NULL;
        memcpy(&obj, v, sizeof obj);
        if (obj == NULL) {
            sb_puts(b, "null");
            return PHX_OK;
        }
        if (phx_object_to_string(obj, &s) != PHX_OK)
            return phx_error_set(err, PHX_ENOMEM, "object reference");
        sb_str(b, s, strlen(s));
        free(s);
        return PHX_OK;
    }
    default:
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "type %s is not supported", short_name(t));
    }
}

int phx_value_to_json_ex(const phx_typecode_t *tc, const void *storage,
                         char **out, phx_error_t *err)
{
    sbuf_t b = {0};
    int rc;

    *out = NULL;
    if (tc == NULL || tc->kind == PHX_TK_VOID || tc->kind == PHX_TK_NULL) {
        sb_puts(&b, "null");
        rc = PHX_OK;
    } else {
        rc = from_value(&b, tc, storage, err, 0);
    }
    if (rc == PHX_OK && b.err)
        rc = phx_error_set(err, b.err, "out of memory");
    if (rc == PHX_OK && b.s == NULL)
        rc = phx_error_set(err, PHX_ENOMEM, "out of memory");
    if (rc != PHX_OK) {
        free(b.s);
        return rc;
    }
    *out = b.s;
    return PHX_OK;
}

int phx_value_to_json(const phx_typecode_t *tc, const void *storage,
                      char **out)
{
    return phx_value_to_json_ex(tc, storage, out, NULL);
}
