/*
 * descriptor.c - loading and checking deployment descriptors
 * (include/phx/deploy.h, format in docs/phalanx-deploy.5).
 *
 * A load goes through four steps, each of which only collects problems:
 *
 *   1. read the file (at most PHX_DEPLOY_MAX_SIZE bytes);
 *   2. parse it with libxml2: no network, no DTD (a <!DOCTYPE> stops the
 *      parse before any entity is declared, so nothing external is ever
 *      fetched), no entity substitution;
 *   3. check the root element, then validate against the schema compiled
 *      into the library (ft/deploy/phalanx-deploy.xsd, embedded at build
 *      time), turning libxml2's messages into "what is wrong; expected
 *      what";
 *   4. check in C what XSD 1.0 cannot say (endpoints, port ranges,
 *      factories, replica counts).  These checks read the tree directly
 *      and skip values the schema has already rejected, so they also run
 *      on a document that failed validation and every problem of a file
 *      is reported at once.
 *
 * Problems carry the line they were found on and are sorted into file
 * order at the end.  The descriptor is built only from a file without
 * problems.
 *
 * libxml2's error handlers are per thread; they are replaced for the
 * duration of a load and restored afterwards, so libxml2 never prints
 * anything itself.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include <phx/deploy.h>

/* The schema, generated from ft/deploy/phalanx-deploy.xsd. */
extern const unsigned char phx__deploy_xsd[];
extern const size_t phx__deploy_xsd_len;

#define PHX_DEPLOY_NS "urn:phalanx:deployment:1"
#define PHX_DEPLOY_NS_BRACED "{" PHX_DEPLOY_NS "}"
#define PHX_DEPLOY_MAX_SIZE (16u * 1024u * 1024u)

/* ------------------------------------------------------------------ */
/* Problems                                                             */
/* ------------------------------------------------------------------ */

typedef struct problem {
    unsigned long line;   /* 0: the file as a whole */
    size_t seq;           /* order of discovery, for a stable sort */
    char *text;           /* "what is wrong; expected what" */
} problem_t;

typedef struct ctx {
    const char *name;     /* file name used in messages */
    problem_t *v;
    size_t n, cap;
    int oom;
    int parse_error_seen; /* only the first parser error is kept */
    int doctype_seen;
    xmlDocPtr doc;        /* while validating: to look up earlier lines */
} ctx_t;

static void add_problem_str(ctx_t *c, unsigned long line, char *text)
{
    if (text == NULL) {
        c->oom = 1;
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        problem_t *v = realloc(c->v, cap * sizeof *v);
        if (v == NULL) {
            free(text);
            c->oom = 1;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].line = line;
    c->v[c->n].seq = c->n;
    c->v[c->n].text = text;
    c->n++;
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

static char *fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = vfmt(f, ap);
    va_end(ap);
    return s;
}

static void problem(ctx_t *c, unsigned long line, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(ctx_t *c, unsigned long line, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = vfmt(f, ap);
    va_end(ap);
    add_problem_str(c, line, s);
}

static int cmp_problem(const void *a, const void *b)
{
    const problem_t *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void ctx_free(ctx_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].text);
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Tree helpers                                                         */
/* ------------------------------------------------------------------ */

static int is_el(xmlNodePtr n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           n->ns->href != NULL &&
           strcmp((const char *)n->ns->href, PHX_DEPLOY_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

/* The value of an attribute without namespace, NULL when absent.  With
 * no DTD an attribute's value is a single text node (or none when
 * empty). */
static const char *attr(xmlNodePtr n, const char *name)
{
    xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)name, NULL);
    if (a == NULL || a->type != XML_ATTRIBUTE_NODE)
        return NULL;
    if (a->children == NULL)
        return "";
    if (a->children->type == XML_TEXT_NODE && a->children->next == NULL &&
        a->children->content != NULL)
        return (const char *)a->children->content;
    return "";
}

static unsigned long line_of(xmlNodePtr n)
{
    long l = n != NULL ? xmlGetLineNo(n) : 0;
    return l > 0 ? (unsigned long)l : 0;
}

/* An unsigned decimal in [lo, hi], nothing else; 0 on success. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi,
                      unsigned long *out)
{
    unsigned long v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > hi)
            return -1;
    }
    if (v < lo)
        return -1;
    *out = v;
    return 0;
}

/* An attribute holding a number, default def when absent; -1 when
 * present but not valid (the schema has reported it). */
static int num_attr(xmlNodePtr n, const char *name, unsigned long lo,
                    unsigned long hi, unsigned long def, unsigned long *out)
{
    const char *s = attr(n, name);
    if (s == NULL) {
        *out = def;
        return 0;
    }
    return parse_uint(s, lo, hi, out);
}

/* "MIN-MAX" with each 1..65535; 0 on success. */
static int parse_ports(const char *s, unsigned long *lo, unsigned long *hi)
{
    const char *dash = strchr(s, '-');
    if (dash == NULL || dash == s || dash - s > 5)
        return -1;
    char a[6];
    memcpy(a, s, (size_t)(dash - s));
    a[dash - s] = '\0';
    if (parse_uint(a, 1, 65535, lo) != 0 ||
        parse_uint(dash + 1, 1, 65535, hi) != 0)
        return -1;
    return 0;
}

/* tcp://HOST:PORT (HOST a name, an IPv4 address, "*" or [IPv6]) or
 * ipc://PATH. */
static int endpoint_ok(const char *s)
{
    if (strncmp(s, "ipc://", 6) == 0)
        return s[6] != '\0';
    if (strncmp(s, "tcp://", 6) != 0)
        return 0;
    const char *h = s + 6, *colon;
    if (*h == '[') {
        const char *close = strchr(h, ']');
        if (close == NULL || close == h + 1 || close[1] != ':')
            return 0;
        for (const char *p = h + 1; p < close; p++)
            if (!(strchr("0123456789abcdefABCDEF:.", *p)))
                return 0;
        colon = close + 1;
    } else {
        colon = strrchr(h, ':');
        if (colon == NULL || colon == h)
            return 0;
        if (!(colon - h == 1 && *h == '*'))
            for (const char *p = h; p < colon; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
                      *p == '_'))
                    return 0;
    }
    unsigned long port;
    return parse_uint(colon + 1, 1, 65535, &port) == 0;
}

/* The first element of the root named el whose attribute a is v. */
static xmlNodePtr find_child(xmlNodePtr root, const char *el, const char *a,
                             const char *v)
{
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
        const char *s;
        if (is_el(n, el) && (s = attr(n, a)) != NULL && strcmp(s, v) == 0)
            return n;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* libxml2 messages                                                     */
/* ------------------------------------------------------------------ */

/* What an attribute's value must look like. */
static const char *attr_expect(const char *el, const char *a)
{
    static const char name_chars[] =
        "a name made of letters, digits, '_', '.' and '-'";
    static const struct {
        const char *el, *attr, *expect;
    } tab[] = {
        {"phalanx", "domain", name_chars},
        {"host", "name", name_chars},
        {"group", "name", name_chars},
        {"env", "name",
         "an environment variable name: a letter or '_', then letters, "
         "digits or '_'"},
        {"env", "value", "a string"},
        {"host", "ref", "the name of a declared host"},
        {"factory", "host", "\"*\" or the name of a declared host"},
        {"factory", "workdir", "a directory path"},
        {NULL, "endpoint", "an endpoint such as tcp://127.0.0.1:7101 or "
                           "ipc:///run/phalanx/h1"},
        {NULL, "gcs-endpoint", "an endpoint such as tcp://127.0.0.1:7201 "
                               "or ipc:///run/phalanx/h1-gcs"},
        {NULL, "address", "an interface address without blanks, such as "
                          "127.0.0.1"},
        {NULL, "ports", "a port range MIN-MAX such as 7300-7399, each port "
                        "from 1 to 65535"},
        {NULL, "type-id", "a repository id without blanks, such as "
                          "IDL:Bank/Bank:1.0"},
        {NULL, "style", "one of STATELESS, COLD_PASSIVE, WARM_PASSIVE, "
                        "ACTIVE, SEMI_ACTIVE"},
        {NULL, "on-stop", "one of stop, leave"},
        {NULL, "level", "one of error, warn, info, debug"},
        {NULL, "target", "one of stderr, syslog"},
        {NULL, "backend", "embedded"},
        {NULL, "ident", "a word without blanks, such as phxd"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if ((tab[i].el == NULL || strcmp(tab[i].el, el) == 0) &&
            strcmp(tab[i].attr, a) == 0)
            return tab[i].expect;
    size_t n = strlen(a);
    if (n > 3 && strcmp(a + n - 3, "-ms") == 0)
        return "a whole number of milliseconds from 1 to 86400000";
    if (n > 9 && strcmp(a + n - 9, "-replicas") == 0)
        return "a whole number from 1 to 64";
    return "a valid value (see phalanx-deploy(5))";
}

/* The attributes an element may have. */
static const char *attrs_allowed(const char *el, xmlNodePtr node)
{
    static const struct {
        const char *el, *list;
    } tab[] = {
        {"phalanx", "domain"},
        {"logging", "level, target, ident"},
        {"gcs", "backend, heartbeat-ms, timeout-ms"},
        {"group", "name, type-id, style, initial-replicas, "
                  "minimum-replicas, fault-monitoring-interval-ms, "
                  "fault-monitoring-timeout-ms, checkpoint-interval-ms, "
                  "request-duration-ms, on-stop"},
        {"factory", "host, workdir"},
        {"env", "name, value"},
    };
    if (strcmp(el, "host") == 0)
        return node != NULL && is_el(node->parent, "placement")
                   ? "ref"
                   : "name, endpoint, gcs-endpoint, address, ports";
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(tab[i].el, el) == 0)
            return tab[i].list;
    return NULL;
}

/* s without our namespace in braces, without trailing blanks and dot. */
static char *clean_message(const char *s)
{
    size_t nb = strlen(PHX_DEPLOY_NS_BRACED);
    char *out = malloc(strlen(s) + 1), *o = out;
    if (out == NULL)
        return NULL;
    while (*s) {
        if (strncmp(s, PHX_DEPLOY_NS_BRACED, nb) == 0) {
            s += nb;
            continue;
        }
        *o++ = *s++;
    }
    while (o > out && (o[-1] == '\n' || o[-1] == ' ' || o[-1] == '\r' ||
                       o[-1] == '\t' || o[-1] == '.'))
        o--;
    *o = '\0';
    return out;
}

/* Copy of the text between the first occurrence of open and the next
 * close after it in s, or NULL. */
static char *between(const char *s, const char *open, const char *close)
{
    const char *a = strstr(s, open);
    if (a == NULL)
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (b == NULL)
        return NULL;
    return strndup(a, (size_t)(b - a));
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "( a, b )" -> "a, b" (or "one of a, b"), in place of a libxml2 list. */
static char *expected_list(const char *rest)
{
    char *l = between(rest, "( ", " )");
    if (l == NULL)
        return NULL;
    char *r = fmt(strchr(l, ',') ? "one of %s" : "%s", l);
    free(l);
    return r;
}

static char *translate_schema_error(ctx_t *c, const char *raw,
                                    xmlNodePtr node)
{
    char *m = clean_message(raw);
    if (m == NULL)
        return NULL;
    if (node != NULL && node->type == XML_ATTRIBUTE_NODE)
        node = node->parent;
    const char *parent = node != NULL && node->parent != NULL &&
                                 node->parent->type == XML_ELEMENT_NODE
                             ? (const char *)node->parent->name
                             : NULL;

    char *el = NULL, *at = NULL, *out = NULL, *v = NULL;
    const char *rest = m;
    if (starts(rest, "Element '")) {
        const char *p = rest + 9, *q = strchr(p, '\'');
        if (q != NULL) {
            el = strndup(p, (size_t)(q - p));
            rest = q + 1;
            if (starts(rest, ", attribute '")) {
                p = rest + 13;
                q = strchr(p, '\'');
                if (q != NULL) {
                    at = strndup(p, (size_t)(q - p));
                    rest = q + 1;
                }
            }
            if (starts(rest, ": "))
                rest += 2;
        }
    }
    if (el == NULL) {
        out = fmt("%s", m);
        goto done;
    }

    if (at != NULL) {
        if (strstr(rest, "is not allowed") != NULL) {
            const char *ok = attrs_allowed(el, node);
            out = ok ? fmt("element '%s': attribute '%s' is not allowed; "
                           "expected only %s",
                           el, at, ok)
                     : fmt("element '%s': attribute '%s' is not allowed; "
                           "expected no attributes",
                           el, at);
        } else if ((v = between(rest, "The value '", "'")) != NULL ||
                   (v = between(rest, "'", "'")) != NULL) {
            int range = strstr(rest, "[facet 'minInclusive']") != NULL ||
                        strstr(rest, "[facet 'maxInclusive']") != NULL;
            out = fmt("element '%s': attribute '%s': '%s' is %s; "
                      "expected %s",
                      el, at, v, range ? "out of range" : "not valid",
                      attr_expect(el, at));
        } else {
            out = fmt("element '%s': attribute '%s': %s", el, at, rest);
        }
    } else if (strstr(rest, "is required but missing") != NULL &&
               (v = between(rest, "The attribute '", "'")) != NULL) {
        out = fmt("element '%s': the required attribute '%s' is missing; "
                  "expected %s=\"...\" (%s)",
                  el, v, v, attr_expect(el, v));
    } else if (starts(rest, "This element is not expected")) {
        char *exp = expected_list(rest);
        if (exp != NULL)
            out = parent ? fmt("element '%s' is not allowed here, in '%s'; "
                               "expected %s",
                               el, parent, exp)
                         : fmt("element '%s' is not allowed here; "
                               "expected %s",
                               el, exp);
        else
            out = parent ? fmt("element '%s' is not allowed here, in '%s'; "
                               "expected the end of '%s'",
                               el, parent, parent)
                         : fmt("element '%s' is not allowed here", el);
        free(exp);
    } else if (starts(rest, "Missing child element")) {
        char *exp = expected_list(rest);
        out = exp != NULL && strncmp(exp, "one of ", 7) == 0
                  ? fmt("element '%s' is incomplete; expected one of the "
                        "child elements %s",
                        el, exp + 7)
                  : fmt("element '%s' is incomplete; expected the child "
                        "element %s",
                        el, exp ? exp : "(see phalanx-deploy(5))");
        free(exp);
    } else if (strstr(rest, "content type is 'element-only'") != NULL) {
        out = fmt("element '%s' contains text; expected only child "
                  "elements",
                  el);
    } else if (strstr(rest, "the type definition is simple") != NULL) {
        out = fmt("element '%s' contains an element; expected only text",
                  el);
    } else if (strstr(rest, "content type is empty") != NULL) {
        out = fmt("element '%s' has content; expected an empty element "
                  "(<%s .../>)",
                  el, el);
    } else if (starts(rest, "Duplicate key-sequence") &&
               (v = between(rest, "['", "']")) != NULL) {
        int host = strstr(rest, "'host-name'") != NULL;
        int group = strstr(rest, "'group-name'") != NULL;
        xmlNodePtr first =
            host || group ? find_child(xmlDocGetRootElement(c->doc),
                                       host ? "host" : "group", "name", v)
                          : NULL;
        if (first != NULL && first != node)
            out = fmt("duplicate %s name '%s' (first declared at line %lu); "
                      "expected every %s to have its own name",
                      host ? "host" : "group", v, line_of(first),
                      host ? "host" : "group");
        else
            out = fmt("element '%s': duplicate value '%s'; expected a "
                      "unique value",
                      el, v);
    } else if (starts(rest, "No match found for key-sequence") &&
               (v = between(rest, "['", "']")) != NULL) {
        out = fmt("placement names the unknown host '%s'; expected the name "
                  "of a declared host",
                  v);
    } else {
        out = fmt("element '%s': %s", el, rest);
    }
done:
    free(v);
    free(el);
    free(at);
    free(m);
    return out;
}

/* "Opening and ending tag mismatch" and friends, made plainer. */
static char *translate_parse_error(const char *raw)
{
    char *m = clean_message(raw);
    if (m == NULL)
        return NULL;
    char a[128], b[128];
    unsigned long l;
    char *out;
    if (sscanf(m, "Opening and ending tag mismatch: %127s line %lu and %127s",
               a, &l, b) == 3)
        out = fmt("XML is not well-formed: end tag </%s> does not match the "
                  "start tag <%s> of line %lu; expected </%s>",
                  b, a, l, a);
    else if (sscanf(m, "Premature end of data in tag %127s line %lu", a,
                    &l) == 2)
        out = fmt("XML is not well-formed: the file ends inside <%s> "
                  "(opened at line %lu); expected </%s>",
                  a, l, a);
    else if (strcmp(m, "Document is empty") == 0 ||
             strcmp(m, "Start tag expected, '<' not found") == 0)
        out = fmt("XML is not well-formed: no element found; expected the "
                  "root element <phalanx xmlns=\"%s\">",
                  PHX_DEPLOY_NS);
    else if (strcmp(m, "Extra content at the end of the document") == 0)
        out = fmt("XML is not well-formed: content after the end of the "
                  "root element; expected nothing after </phalanx>");
    else if (sscanf(m, "Specification mandates value for attribute %127s",
                    a) == 1)
        out = fmt("XML is not well-formed: attribute '%s' has no value; "
                  "expected %s=\"VALUE\"",
                  a, a);
    else if (sscanf(m, "Entity '%127[^']' not defined", a) == 1)
        out = fmt("XML is not well-formed: unknown entity '&%s;'; expected "
                  "one of &lt; &gt; &amp; &quot; &apos; (or &#N;)",
                  a);
    else {
        static const struct {
            const char *libxml, *text;
        } tab[] = {
            {"error parsing attribute name",
             "malformed attribute; expected NAME=\"VALUE\""},
            {"attributes construct error",
             "malformed attribute; expected NAME=\"VALUE\""},
            {"Unescaped '<' not allowed in attributes values",
             "'<' in an attribute value; expected &lt; instead"},
            {"AttValue: \" or ' expected",
             "attribute value without quotes; expected \"VALUE\""},
            {"String not closed expecting \" or '",
             "attribute value not closed; expected a closing quote"},
            {"String not started expecting ' or \"",
             "value without quotes; expected \"VALUE\""},
            {"StartTag: invalid element name",
             "'<' not followed by an element name; expected an element, "
             "or &lt; for a literal '<'"},
            {"xmlParseEntityRef: no name",
             "'&' not followed by an entity name; expected &amp; for a "
             "literal '&'"},
            {"EntityRef: expecting ';'",
             "entity reference not ended; expected ';'"},
            {"Comment not terminated", "comment not ended; expected -->"},
            {"Double hyphen within comment",
             "'--' inside a comment; expected no '--' before -->"},
            {"CData section not finished",
             "CDATA section not ended; expected ]]>"},
            {"XML declaration allowed only at the start of the document",
             "<?xml ...?> not at the very start; expected it first in the "
             "file, or not at all"},
            {"Blank needed here", "missing blank; expected a space"},
            {"Sequence ']]>' not allowed in content",
             "']]>' in text; expected ]]&gt; instead"},
        };
        size_t i;
        for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
            if (starts(m, tab[i].libxml))
                break;
        if (i < sizeof tab / sizeof tab[0]) {
            out = fmt("XML is not well-formed: %s", tab[i].text);
        } else {
            if (m[0] >= 'A' && m[0] <= 'Z' && m[1] >= 'a' && m[1] <= 'z')
                m[0] = (char)(m[0] - 'A' + 'a');
            size_t len = strlen(m);
            char *x;
            if (starts(m, "expected ")) {
                out = fmt("XML is not well-formed: syntax error; %s", m);
            } else if (len > 9 && strcmp(m + len - 9, " expected") == 0 &&
                       (x = strstr(m, ": ")) != NULL && x < m + len - 9) {
                m[len - 9] = '\0';
                *x = '\0';
                out = fmt("XML is not well-formed: %s; expected %s", m,
                          x + 2);
            } else if ((x = strstr(m, " expecting ")) != NULL) {
                *x = '\0';
                out = fmt("XML is not well-formed: %s; expected %s", m,
                          x + 11);
            } else {
                out = fmt("XML is not well-formed: %s; expected "
                          "well-formed XML",
                          m);
            }
        }
    }
    free(m);
    return out;
}

static void on_xml_error(void *arg, xmlErrorPtr e)
{
    ctx_t *c = arg;
    if (e == NULL || e->level < XML_ERR_ERROR)
        return;
    unsigned long line = e->line > 0 ? (unsigned long)e->line : 0;
    if (e->domain == XML_FROM_SCHEMASV) {
        /* A follow-up of an invalid value in an identity constraint's
         * field, reported once already. */
        if (e->message != NULL &&
            strstr(e->message, "No precomputed value available") != NULL)
            return;
        add_problem_str(c, line,
                        translate_schema_error(c, e->message ? e->message : "",
                                               (xmlNodePtr)e->node));
    } else if (e->domain == XML_FROM_SCHEMASP) {
        add_problem_str(c, 0,
                        fmt("internal error: the built-in schema does not "
                            "load (%s); expected a correct build",
                            e->message ? e->message : "?"));
    } else if (e->code == XML_ERR_USER_STOP && c->doctype_seen) {
        /* Our own stop at a <!DOCTYPE>, already reported. */
    } else if (e->domain == XML_FROM_MEMORY) {
        c->oom = 1;
    } else if (!c->parse_error_seen) {
        c->parse_error_seen = 1;
        add_problem_str(c, line,
                        translate_parse_error(e->message ? e->message : "?"));
    }
}

static void on_generic_error(void *arg, const char *msg, ...)
{
    (void)arg;
    (void)msg;
}

/* SAX internalSubset: a <!DOCTYPE> stops the parse before any of its
 * declarations is read. */
static void on_doctype(void *arg, const xmlChar *name, const xmlChar *ext,
                       const xmlChar *sys)
{
    (void)name;
    (void)ext;
    (void)sys;
    xmlParserCtxtPtr pc = arg;
    ctx_t *c = pc->_private;
    c->doctype_seen = 1;
    problem(c, (unsigned long)xmlSAX2GetLineNumber(pc),
            "a document type declaration (<!DOCTYPE ...>) is not allowed; "
            "expected the <phalanx> element without DTD or entities");
    xmlStopParser(pc);
}

/* ------------------------------------------------------------------ */
/* Checks the schema cannot make                                        */
/* ------------------------------------------------------------------ */

typedef struct seen {
    const char *value;
    const char *host;
    unsigned long line;
} seen_t;

static void check_hosts(ctx_t *c, xmlNodePtr root)
{
    size_t n = 0;
    for (xmlNodePtr h = root->children; h; h = h->next)
        if (is_el(h, "host"))
            n++;
    seen_t *eps = calloc(2 * n + 1, sizeof *eps);
    size_t ne = 0;
    if (eps == NULL) {
        c->oom = 1;
        return;
    }
    static const char *const ep_attrs[] = {"endpoint", "gcs-endpoint"};
    for (xmlNodePtr h = root->children; h; h = h->next) {
        if (!is_el(h, "host"))
            continue;
        unsigned long line = line_of(h);
        const char *name = attr(h, "name");
        for (size_t k = 0; k < 2; k++) {
            const char *ep = attr(h, ep_attrs[k]);
            if (ep == NULL || *ep == '\0' || strpbrk(ep, " \t\r\n"))
                continue; /* reported by the schema */
            if (!endpoint_ok(ep)) {
                problem(c, line,
                        "element 'host': attribute '%s': '%s' is not a valid "
                        "endpoint; expected tcp://HOST:PORT (PORT from 1 to "
                        "65535) or ipc://PATH",
                        ep_attrs[k], ep);
                continue;
            }
            size_t i;
            for (i = 0; i < ne; i++)
                if (strcmp(eps[i].value, ep) == 0)
                    break;
            if (i < ne) {
                problem(c, line,
                        "element 'host': attribute '%s': endpoint '%s' is "
                        "already used by host '%s' (line %lu); expected "
                        "every endpoint to be different",
                        ep_attrs[k], ep, eps[i].host ? eps[i].host : "?",
                        eps[i].line);
                continue;
            }
            eps[ne].value = ep;
            eps[ne].host = name;
            eps[ne].line = line;
            ne++;
        }
        const char *ports = attr(h, "ports");
        unsigned long lo, hi;
        if (ports != NULL && parse_ports(ports, &lo, &hi) == 0) {
            if (lo > hi)
                problem(c, line,
                        "element 'host': attribute 'ports': '%s' is an empty "
                        "range; expected MIN-MAX with MIN <= MAX",
                        ports);
            else if (hi - lo + 1 < 2)
                problem(c, line,
                        "element 'host': attribute 'ports': '%s' has a "
                        "single port; expected at least 2 ports (a replica "
                        "takes two)",
                        ports);
        }
    }
    free(eps);
}

static int host_declared(xmlNodePtr root, const char *name)
{
    return find_child(root, "host", "name", name) != NULL;
}

/* "h1, h2, h3" for a message (all declared hosts). */
static char *host_list(xmlNodePtr root)
{
    size_t len = 1;
    for (xmlNodePtr h = root->children; h; h = h->next) {
        const char *s;
        if (is_el(h, "host") && (s = attr(h, "name")) != NULL)
            len += strlen(s) + 2;
    }
    char *out = malloc(len);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    for (xmlNodePtr h = root->children; h; h = h->next) {
        const char *s;
        if (is_el(h, "host") && (s = attr(h, "name")) != NULL) {
            if (out[0])
                strcat(out, ", ");
            strcat(out, s);
        }
    }
    return out;
}

/* The text of an element with leading and trailing blanks removed
 * (malloc'd), or NULL on OOM. */
static char *trimmed_text(xmlNodePtr n)
{
    xmlChar *t = xmlNodeGetContent(n);
    const char *s = t ? (const char *)t : "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
                       s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    char *r = strndup(s, len);
    xmlFree(t);
    return r;
}

static void check_group(ctx_t *c, xmlNodePtr root, xmlNodePtr g)
{
    unsigned long line = line_of(g);
    const char *gname = attr(g, "name");
    if (gname == NULL)
        gname = "?";

    unsigned long init, min;
    if (num_attr(g, "initial-replicas", 1, 64, 3, &init) == 0 &&
        num_attr(g, "minimum-replicas", 1, 64, init < 2 ? init : 2, &min) ==
            0 &&
        min > init)
        problem(c, line,
                "element 'group': group '%s': minimum-replicas (%lu) is "
                "greater than initial-replicas (%lu); expected "
                "minimum-replicas <= initial-replicas",
                gname, min, init);

    /* Placement: each host once (unknown hosts: the schema's keyref). */
    xmlNodePtr placement = NULL;
    size_t n_place = 0;
    for (xmlNodePtr p = g->children; p; p = p->next) {
        if (!is_el(p, "placement"))
            continue;
        placement = p;
        for (xmlNodePtr h = p->children; h; h = h->next) {
            const char *ref;
            if (!is_el(h, "host") || (ref = attr(h, "ref")) == NULL)
                continue;
            n_place++;
            for (xmlNodePtr e = p->children; e != h; e = e->next) {
                const char *r2;
                if (is_el(e, "host") && (r2 = attr(e, "ref")) != NULL &&
                    strcmp(r2, ref) == 0) {
                    problem(c, line_of(h),
                            "placement of group '%s' lists host '%s' twice "
                            "(first at line %lu); expected each host at "
                            "most once",
                            gname, ref, line_of(e));
                    break;
                }
            }
        }
        break;
    }

    size_t n_fact = 0;
    int usable = 0;
    for (xmlNodePtr f = g->children; f; f = f->next) {
        if (!is_el(f, "factory"))
            continue;
        n_fact++;
        unsigned long fline = line_of(f);
        const char *fh = attr(f, "host");
        int fh_ok = 1;
        if (fh == NULL)
            fh = "*";
        if (strcmp(fh, "*") != 0 && !host_declared(root, fh)) {
            fh_ok = 0;
            char *list = host_list(root);
            if (list == NULL)
                c->oom = 1;
            else
                problem(c, fline,
                        "element 'factory': attribute 'host': unknown host "
                        "'%s'; expected \"*\" or one of the declared hosts "
                        "(%s)",
                        fh, list);
            free(list);
        }
        /* One factory per host. */
        for (xmlNodePtr e = g->children; e != f; e = e->next) {
            const char *eh;
            if (!is_el(e, "factory"))
                continue;
            eh = attr(e, "host");
            if (eh == NULL)
                eh = "*";
            if (strcmp(eh, fh) == 0) {
                if (strcmp(fh, "*") == 0)
                    problem(c, fline,
                            "element 'factory': group '%s' already has a "
                            "factory for every host (host=\"*\", line %lu); "
                            "expected at most one factory per host",
                            gname, line_of(e));
                else
                    problem(c, fline,
                            "element 'factory': group '%s' already has a "
                            "factory for host '%s' (line %lu); expected at "
                            "most one factory per host",
                            gname, fh, line_of(e));
                break;
            }
        }
        /* Usable on one of the group's hosts? */
        if (fh_ok) {
            if (strcmp(fh, "*") == 0 || placement == NULL)
                usable = 1;
            else
                for (xmlNodePtr h = placement->children; h; h = h->next) {
                    const char *ref;
                    if (is_el(h, "host") && (ref = attr(h, "ref")) != NULL &&
                        strcmp(ref, fh) == 0)
                        usable = 1;
                }
        }
        for (xmlNodePtr cmd = f->children; cmd; cmd = cmd->next) {
            if (!is_el(cmd, "command"))
                continue;
            char *t = trimmed_text(cmd);
            if (t == NULL)
                c->oom = 1;
            else if (*t == '\0')
                problem(c, line_of(cmd),
                        "element 'command' is empty; expected the path of "
                        "the program that starts a replica of group '%s'",
                        gname);
            free(t);
        }
    }
    /* No factory at all is the schema's; none usable is ours. */
    int fact_host_bad = 0;
    for (xmlNodePtr h = placement ? placement->children : NULL; h;
         h = h->next) {
        const char *ref;
        if (is_el(h, "host") && (ref = attr(h, "ref")) != NULL &&
            !host_declared(root, ref))
            fact_host_bad = 1; /* the schema reports the unknown host */
    }
    for (xmlNodePtr f = g->children; f; f = f->next) {
        const char *fh;
        if (is_el(f, "factory") && (fh = attr(f, "host")) != NULL &&
            strcmp(fh, "*") != 0 && !host_declared(root, fh))
            fact_host_bad = 1;
    }
    if (n_fact > 0 && !usable && !fact_host_bad && placement != NULL &&
        n_place > 0) {
        char *list = NULL;
        size_t len = 1;
        for (xmlNodePtr h = placement->children; h; h = h->next) {
            const char *ref;
            if (is_el(h, "host") && (ref = attr(h, "ref")) != NULL)
                len += strlen(ref) + 2;
        }
        list = malloc(len);
        if (list == NULL) {
            c->oom = 1;
            return;
        }
        list[0] = '\0';
        for (xmlNodePtr h = placement->children; h; h = h->next) {
            const char *ref;
            if (is_el(h, "host") && (ref = attr(h, "ref")) != NULL) {
                if (list[0])
                    strcat(list, ", ");
                strcat(list, ref);
            }
        }
        problem(c, line,
                "element 'group': group '%s' has no factory for any host of "
                "its placement (%s); expected a factory with host=\"*\" or "
                "naming one of them",
                gname, list);
        free(list);
    }
}

static void check_semantics(ctx_t *c, xmlNodePtr root)
{
    check_hosts(c, root);
    for (xmlNodePtr g = root->children; g; g = g->next)
        if (is_el(g, "group"))
            check_group(c, root, g);
}

/* ------------------------------------------------------------------ */
/* Building the descriptor                                              */
/* ------------------------------------------------------------------ */

static char *dup_or(const char *s, const char *def)
{
    return strdup(s != NULL ? s : def);
}

static int build_factory(xmlNodePtr f, phx_deploy_factory_t *fa)
{
    size_t nargs = 0, nenv = 0;
    fa->line = (unsigned)line_of(f);
    for (xmlNodePtr n = f->children; n; n = n->next) {
        if (is_el(n, "command") || is_el(n, "arg"))
            nargs++;
        else if (is_el(n, "env"))
            nenv++;
    }
    if ((fa->host = dup_or(attr(f, "host"), "*")) == NULL)
        return -1;
    const char *wd = attr(f, "workdir");
    if (wd != NULL && (fa->workdir = strdup(wd)) == NULL)
        return -1;
    if ((fa->argv = calloc(nargs + 1, sizeof *fa->argv)) == NULL)
        return -1;
    if (nenv > 0 && (fa->env = calloc(nenv, sizeof *fa->env)) == NULL)
        return -1;
    for (xmlNodePtr n = f->children; n; n = n->next) {
        if (is_el(n, "command")) {
            if ((fa->argv[fa->argc++] = trimmed_text(n)) == NULL)
                return -1;
        } else if (is_el(n, "arg")) {
            xmlChar *t = xmlNodeGetContent(n);
            fa->argv[fa->argc] = strdup(t ? (const char *)t : "");
            xmlFree(t);
            if (fa->argv[fa->argc++] == NULL)
                return -1;
        } else if (is_el(n, "env")) {
            phx_deploy_env_t *e = &fa->env[fa->n_env++];
            if ((e->name = dup_or(attr(n, "name"), "")) == NULL ||
                (e->value = dup_or(attr(n, "value"), "")) == NULL)
                return -1;
        }
    }
    return 0;
}

static int build_group(xmlNodePtr g, phx_deploy_group_t *gr)
{
    static const char *const styles[] = {"STATELESS",    "COLD_PASSIVE",
                                         "WARM_PASSIVE", "ACTIVE",
                                         NULL,           "SEMI_ACTIVE"};
    unsigned long v;
    gr->line = (unsigned)line_of(g);
    if ((gr->name = dup_or(attr(g, "name"), "")) == NULL ||
        (gr->type_id = dup_or(attr(g, "type-id"), "")) == NULL)
        return -1;
    const char *st = attr(g, "style");
    gr->style = PHX_DEPLOY_STATELESS;
    for (int i = 0; st != NULL && i < 6; i++)
        if (styles[i] != NULL && strcmp(st, styles[i]) == 0)
            gr->style = (phx_deploy_style_t)i;
    num_attr(g, "initial-replicas", 1, 64, 3, &v);
    gr->initial_replicas = (uint32_t)v;
    num_attr(g, "minimum-replicas", 1, 64,
             gr->initial_replicas < 2 ? gr->initial_replicas : 2, &v);
    gr->minimum_replicas = (uint32_t)v;
    num_attr(g, "fault-monitoring-interval-ms", 1, 86400000, 1000, &v);
    gr->fault_monitoring_interval_ms = (uint32_t)v;
    num_attr(g, "fault-monitoring-timeout-ms", 1, 86400000, 500, &v);
    gr->fault_monitoring_timeout_ms = (uint32_t)v;
    num_attr(g, "checkpoint-interval-ms", 1, 86400000, 1000, &v);
    gr->checkpoint_interval_ms = (uint32_t)v;
    num_attr(g, "request-duration-ms", 1, 86400000, 15000, &v);
    gr->request_duration_ms = (uint32_t)v;
    const char *os = attr(g, "on-stop");
    gr->on_stop = os != NULL && strcmp(os, "leave") == 0
                      ? PHX_DEPLOY_LEAVE_REPLICAS
                      : PHX_DEPLOY_STOP_REPLICAS;

    size_t nh = 0, nf = 0;
    for (xmlNodePtr n = g->children; n; n = n->next) {
        if (is_el(n, "placement")) {
            for (xmlNodePtr h = n->children; h; h = h->next)
                if (is_el(h, "host"))
                    nh++;
        } else if (is_el(n, "factory")) {
            nf++;
        }
    }
    if (nh > 0 && (gr->hosts = calloc(nh, sizeof *gr->hosts)) == NULL)
        return -1;
    if (nf > 0 &&
        (gr->factories = calloc(nf, sizeof *gr->factories)) == NULL)
        return -1;
    for (xmlNodePtr n = g->children; n; n = n->next) {
        if (is_el(n, "placement")) {
            for (xmlNodePtr h = n->children; h; h = h->next)
                if (is_el(h, "host") &&
                    (gr->hosts[gr->n_hosts++] = dup_or(attr(h, "ref"), "")) ==
                        NULL)
                    return -1;
        } else if (is_el(n, "factory")) {
            if (build_factory(n, &gr->factories[gr->n_factories++]) != 0)
                return -1;
        }
    }
    return 0;
}

static int build(ctx_t *c, xmlNodePtr root, phx_deploy_t **out)
{
    phx_deploy_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -1;
    unsigned long v;
    xmlNodePtr logging = NULL, gcs = NULL;
    size_t nh = 0, ng = 0;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (is_el(n, "logging"))
            logging = n;
        else if (is_el(n, "gcs"))
            gcs = n;
        else if (is_el(n, "host"))
            nh++;
        else if (is_el(n, "group"))
            ng++;
    }
    if ((d->path = strdup(c->name)) == NULL ||
        (d->domain = dup_or(attr(root, "domain"), "")) == NULL ||
        (d->gcs_backend = dup_or(gcs ? attr(gcs, "backend") : NULL,
                                 "embedded")) == NULL ||
        (d->log_level = dup_or(logging ? attr(logging, "level") : NULL,
                               "info")) == NULL ||
        (d->log_ident = dup_or(logging ? attr(logging, "ident") : NULL,
                               "phxd")) == NULL)
        goto oom;
    d->gcs_heartbeat_ms = 100;
    d->gcs_timeout_ms = 1000;
    if (gcs != NULL) {
        num_attr(gcs, "heartbeat-ms", 1, 86400000, 100, &v);
        d->gcs_heartbeat_ms = (uint32_t)v;
        num_attr(gcs, "timeout-ms", 1, 86400000, 1000, &v);
        d->gcs_timeout_ms = (uint32_t)v;
    }
    const char *tg = logging ? attr(logging, "target") : NULL;
    d->log_target = tg != NULL && strcmp(tg, "syslog") == 0
                        ? PHX_DEPLOY_LOG_SYSLOG
                        : PHX_DEPLOY_LOG_STDERR;

    if (nh > 0 && (d->hosts = calloc(nh, sizeof *d->hosts)) == NULL)
        goto oom;
    if (ng > 0 && (d->groups = calloc(ng, sizeof *d->groups)) == NULL)
        goto oom;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (is_el(n, "host")) {
            phx_deploy_host_t *h = &d->hosts[d->n_hosts++];
            h->line = (unsigned)line_of(n);
            if ((h->name = dup_or(attr(n, "name"), "")) == NULL ||
                (h->endpoint = dup_or(attr(n, "endpoint"), "")) == NULL ||
                (h->gcs_endpoint = dup_or(attr(n, "gcs-endpoint"), "")) ==
                    NULL ||
                (h->address = dup_or(attr(n, "address"), "127.0.0.1")) ==
                    NULL)
                goto oom;
            const char *ports = attr(n, "ports");
            unsigned long lo, hi;
            if (ports != NULL && parse_ports(ports, &lo, &hi) == 0) {
                h->port_min = (uint16_t)lo;
                h->port_max = (uint16_t)hi;
            }
        } else if (is_el(n, "group")) {
            if (build_group(n, &d->groups[d->n_groups++]) != 0)
                goto oom;
        }
    }
    *out = d;
    return 0;
oom:
    phx_deploy_free(d);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */
/* ------------------------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
    xmlInitParser();
}

static void validate(ctx_t *c, xmlDocPtr doc)
{
    xmlSchemaParserCtxtPtr pctx = xmlSchemaNewMemParserCtxt(
        (const char *)phx__deploy_xsd, (int)phx__deploy_xsd_len);
    if (pctx == NULL) {
        c->oom = 1;
        return;
    }
    xmlSchemaSetParserStructuredErrors(pctx, on_xml_error, c);
    xmlSchemaPtr schema = xmlSchemaParse(pctx);
    xmlSchemaFreeParserCtxt(pctx);
    if (schema == NULL) {
        if (c->n == 0)
            problem(c, 0, "internal error: the built-in schema does not "
                          "load; expected a correct build");
        return;
    }
    xmlSchemaValidCtxtPtr vctx = xmlSchemaNewValidCtxt(schema);
    if (vctx == NULL) {
        c->oom = 1;
    } else {
        xmlSchemaSetValidStructuredErrors(vctx, on_xml_error, c);
        c->doc = doc;
        int rc = xmlSchemaValidateDoc(vctx, doc);
        c->doc = NULL;
        if (rc != 0 && c->n == 0 && !c->oom)
            problem(c, 0, "the file does not match the schema; expected a "
                          "valid deployment descriptor");
        xmlSchemaFreeValidCtxt(vctx);
    }
    xmlSchemaFree(schema);
}

/* Steps 2 to 4 and building; problems in c. */
static void load_doc(ctx_t *c, const char *data, size_t len,
                     phx_deploy_t **out)
{
    if (len > PHX_DEPLOY_MAX_SIZE) {
        problem(c, 0,
                "the file is too large (%zu bytes); expected at most %u "
                "bytes (16 MiB)",
                len, PHX_DEPLOY_MAX_SIZE);
        return;
    }
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' ||
                       data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i == len) {
        problem(c, 0,
                "the file is empty; expected an XML document with the root "
                "element <phalanx xmlns=\"%s\">",
                PHX_DEPLOY_NS);
        return;
    }

    xmlParserCtxtPtr pc = xmlCreateMemoryParserCtxt(data, (int)len);
    if (pc == NULL) {
        c->oom = 1;
        return;
    }
    xmlCtxtUseOptions(pc, XML_PARSE_NONET | XML_PARSE_BIG_LINES |
                              XML_PARSE_NOCDATA);
    pc->_private = c;
    pc->sax->internalSubset = on_doctype;
    pc->sax->externalSubset = NULL;
    xmlParseDocument(pc);
    xmlDocPtr doc = pc->myDoc;
    int ok = pc->wellFormed && !c->doctype_seen && doc != NULL;
    pc->myDoc = NULL;
    xmlFreeParserCtxt(pc);
    if (!ok || c->n > 0) {
        if (c->n == 0 && !c->oom)
            problem(c, 0, "XML is not well-formed; expected a well-formed "
                          "XML document");
        xmlFreeDoc(doc);
        return;
    }

    xmlNodePtr root = xmlDocGetRootElement(doc);
    unsigned long rl = line_of(root);
    if (root == NULL) {
        problem(c, 0, "no root element; expected <phalanx xmlns=\"%s\">",
                PHX_DEPLOY_NS);
    } else if (strcmp((const char *)root->name, "phalanx") != 0) {
        problem(c, rl,
                "the root element is '%s'; expected 'phalanx' in namespace "
                "%s",
                (const char *)root->name, PHX_DEPLOY_NS);
    } else if (root->ns == NULL || root->ns->href == NULL) {
        problem(c, rl,
                "the root element 'phalanx' has no namespace; expected "
                "xmlns=\"%s\"",
                PHX_DEPLOY_NS);
    } else if (strcmp((const char *)root->ns->href, PHX_DEPLOY_NS) != 0) {
        problem(c, rl,
                "the root element 'phalanx' is in namespace '%s'; expected "
                "namespace %s (the only version of the format this program "
                "reads)",
                (const char *)root->ns->href, PHX_DEPLOY_NS);
    } else {
        validate(c, doc);
        if (!c->oom)
            check_semantics(c, root);
        if (c->n == 0 && !c->oom && out != NULL && build(c, root, out) != 0)
            c->oom = 1;
    }
    xmlFreeDoc(doc);
}

/* Read path into a malloc'd buffer; on failure a problem is recorded. */
static int read_file(ctx_t *c, const char *path, char **data, size_t *len,
                     int *code)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL) {
        *code = errno == ENOMEM ? PHX_ENOMEM : PHX_EIO;
        problem(c, 0, "cannot open the file: %s; expected a readable "
                      "deployment descriptor",
                strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0)
        memset(&st, 0, sizeof st);
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        *code = PHX_EIO;
        problem(c, 0, "is a directory; expected a deployment descriptor "
                      "file");
        return -1;
    }
    if (S_ISREG(st.st_mode) && st.st_size > (off_t)PHX_DEPLOY_MAX_SIZE) {
        fclose(f);
        *code = PHX_EINVAL;
        problem(c, 0,
                "the file is too large (%lld bytes); expected at most %u "
                "bytes (16 MiB)",
                (long long)st.st_size, PHX_DEPLOY_MAX_SIZE);
        return -1;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        *code = PHX_ENOMEM;
        return -1;
    }
    for (;;) {
        if (n == cap) {
            if (cap > PHX_DEPLOY_MAX_SIZE)
                break;
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                *code = PHX_ENOMEM;
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int rerr = ferror(f);
    int saved = errno;
    fclose(f);
    if (rerr) {
        free(buf);
        *code = PHX_EIO;
        problem(c, 0, "cannot read the file: %s; expected a readable "
                      "deployment descriptor",
                strerror(saved));
        return -1;
    }
    if (n > PHX_DEPLOY_MAX_SIZE) {
        free(buf);
        *code = PHX_EINVAL;
        problem(c, 0, "the file is too large (more than %u bytes); expected "
                      "at most %u bytes (16 MiB)",
                PHX_DEPLOY_MAX_SIZE, PHX_DEPLOY_MAX_SIZE);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

static int run(const char *name, const char *path, const void *mem,
               size_t memlen, phx_deploy_report_fn report, void *arg,
               phx_deploy_t **out, phx_error_t *err)
{
    if (out != NULL)
        *out = NULL;
    if (name == NULL || (path == NULL && mem == NULL && memlen > 0))
        return phx_error_set(err, PHX_EINVAL,
                             "phx_deploy: no file name or data given");
    pthread_once(&init_once, init_libxml);

    ctx_t c;
    memset(&c, 0, sizeof c);
    c.name = name;
    int code = PHX_EINVAL;

    xmlStructuredErrorFunc old_s = xmlStructuredError;
    void *old_sc = xmlStructuredErrorContext;
    xmlGenericErrorFunc old_g = xmlGenericError;
    void *old_gc = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(&c, on_xml_error);
    xmlSetGenericErrorFunc(NULL, on_generic_error);

    if (path != NULL) {
        char *data = NULL;
        size_t len = 0;
        if (read_file(&c, path, &data, &len, &code) == 0) {
            load_doc(&c, data, len, out);
            free(data);
        }
    } else {
        load_doc(&c, mem != NULL ? mem : "", memlen, out);
    }

    xmlResetLastError();
    xmlSetStructuredErrorFunc(old_sc, old_s);
    xmlSetGenericErrorFunc(old_gc, old_g);

    if (c.oom) {
        if (out != NULL && *out != NULL) {
            phx_deploy_free(*out);
            *out = NULL;
        }
        ctx_free(&c);
        return phx_error_set(err, PHX_ENOMEM, "%s: out of memory", name);
    }
    if (c.n == 0) {
        phx_error_clear(err);
        return PHX_OK;
    }
    qsort(c.v, c.n, sizeof *c.v, cmp_problem);
    for (size_t i = 0; i < c.n; i++) {
        char *msg = c.v[i].line > 0
                        ? fmt("%s:%lu: %s", name, c.v[i].line, c.v[i].text)
                        : fmt("%s: %s", name, c.v[i].text);
        if (msg == NULL) {
            ctx_free(&c);
            return phx_error_set(err, PHX_ENOMEM, "%s: out of memory", name);
        }
        if (i == 0)
            phx_error_set(err, code, "%s", msg);
        if (report != NULL)
            report(arg, msg);
        free(msg);
    }
    ctx_free(&c);
    return code;
}

int phx_deploy_load(const char *path, phx_deploy_t **out, phx_error_t *err)
{
    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL, "phx_deploy_load: out is NULL");
    return run(path, path, NULL, 0, NULL, NULL, out, err);
}

int phx_deploy_load_mem(const char *name, const void *data, size_t len,
                        phx_deploy_t **out, phx_error_t *err)
{
    if (out == NULL)
        return phx_error_set(err, PHX_EINVAL,
                             "phx_deploy_load_mem: out is NULL");
    return run(name, NULL, data, len, NULL, NULL, out, err);
}

int phx_deploy_check(const char *path, phx_deploy_report_fn report,
                     void *arg, phx_deploy_t **out, phx_error_t *err)
{
    return run(path, path, NULL, 0, report, arg, out, err);
}

/* ------------------------------------------------------------------ */
/* Freeing and queries                                                  */
/* ------------------------------------------------------------------ */

static void free_factory(phx_deploy_factory_t *f)
{
    free(f->host);
    for (size_t i = 0; f->argv != NULL && i < f->argc; i++)
        free(f->argv[i]);
    free(f->argv);
    free(f->workdir);
    for (size_t i = 0; i < f->n_env; i++) {
        free(f->env[i].name);
        free(f->env[i].value);
    }
    free(f->env);
}

void phx_deploy_free(phx_deploy_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_hosts; i++) {
        free(d->hosts[i].name);
        free(d->hosts[i].endpoint);
        free(d->hosts[i].gcs_endpoint);
        free(d->hosts[i].address);
    }
    free(d->hosts);
    for (size_t i = 0; i < d->n_groups; i++) {
        phx_deploy_group_t *g = &d->groups[i];
        free(g->name);
        free(g->type_id);
        for (size_t k = 0; k < g->n_hosts; k++)
            free(g->hosts[k]);
        free(g->hosts);
        for (size_t k = 0; k < g->n_factories; k++)
            free_factory(&g->factories[k]);
        free(g->factories);
    }
    free(d->groups);
    free(d->path);
    free(d->domain);
    free(d->gcs_backend);
    free(d->log_level);
    free(d->log_ident);
    free(d);
}

const phx_deploy_host_t *phx_deploy_find_host(const phx_deploy_t *d,
                                              const char *name)
{
    for (size_t i = 0; d != NULL && name != NULL && i < d->n_hosts; i++)
        if (strcmp(d->hosts[i].name, name) == 0)
            return &d->hosts[i];
    return NULL;
}

const phx_deploy_group_t *phx_deploy_find_group(const phx_deploy_t *d,
                                                const char *name)
{
    for (size_t i = 0; d != NULL && name != NULL && i < d->n_groups; i++)
        if (strcmp(d->groups[i].name, name) == 0)
            return &d->groups[i];
    return NULL;
}

const phx_deploy_factory_t *
phx_deploy_factory_for(const phx_deploy_group_t *g, const char *host)
{
    if (g == NULL || host == NULL)
        return NULL;
    if (g->n_hosts > 0) {
        size_t i;
        for (i = 0; i < g->n_hosts; i++)
            if (strcmp(g->hosts[i], host) == 0)
                break;
        if (i == g->n_hosts)
            return NULL;
    }
    const phx_deploy_factory_t *any = NULL;
    for (size_t i = 0; i < g->n_factories; i++) {
        if (strcmp(g->factories[i].host, host) == 0)
            return &g->factories[i];
        if (strcmp(g->factories[i].host, "*") == 0)
            any = &g->factories[i];
    }
    return any;
}

const char *phx_deploy_style_name(phx_deploy_style_t s)
{
    switch (s) {
    case PHX_DEPLOY_STATELESS:
        return "STATELESS";
    case PHX_DEPLOY_COLD_PASSIVE:
        return "COLD_PASSIVE";
    case PHX_DEPLOY_WARM_PASSIVE:
        return "WARM_PASSIVE";
    case PHX_DEPLOY_ACTIVE:
        return "ACTIVE";
    case PHX_DEPLOY_SEMI_ACTIVE:
        return "SEMI_ACTIVE";
    }
    return "UNKNOWN";
}
