/*
 * corbaloc.c - "corbaloc:" URLs (CORBA 3.0 13.6.10) for IIOP addresses
 * and Phalanx ZeroMQ endpoints: parsing into an IOR and printing an IOR
 * back as a corbaloc (the accepted forms are listed in include/phx/ior.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <phx/ior.h>

/* ------------------------------------------------------------------ */
/* Character classes (ASCII, independent of the locale)                 */
/* ------------------------------------------------------------------ */

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hexval(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 2396 "unreserved": never escaped on output. */
static bool is_unreserved(unsigned char c)
{
    return is_alpha((char)c) || is_digit((char)c) || (c && strchr("-_.!~*'()", c));
}

/* Characters of a DNS name or IPv4 address. */
static bool is_host_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* Characters of an IPv6 literal (between the brackets). */
static bool is_ipv6_char(char c)
{
    return hexval(c) >= 0 || c == ':' || c == '.';
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static const char *show_char(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u <= 0x7e)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", u);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Growable string                                                      */
/* ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf_t;

static void sb_mem(sbuf_t *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->len <= n) {
        size_t nc = b->cap ? b->cap : 64;
        char *np;
        while (nc - b->len <= n)
            nc *= 2;
        np = realloc(b->p, nc);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_mem(b, s, strlen(s));
}

static void sb_char(sbuf_t *b, char c)
{
    sb_mem(b, &c, 1);
}

/* Append octets, %-escaping all but the unreserved characters. */
static void sb_escaped(sbuf_t *b, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        if (is_unreserved(p[i])) {
            sb_char(b, (char)p[i]);
        } else {
            char e[3] = {'%', hex[p[i] >> 4], hex[p[i] & 0x0f]};
            sb_mem(b, e, 3);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

typedef struct loc_addr {
    uint32_t tag;          /* PHX_TAG_INTERNET_IOP or PHX_TAG_ZMQ_IOP */
    uint8_t major, minor;  /* IIOP */
    char *host;            /* IIOP */
    uint16_t port;         /* IIOP */
    char *endpoint;        /* ZMQ */
} loc_addr_t;

typedef struct parser {
    const char *s;         /* the whole string (offsets are into it) */
    phx_error_t *err;
} parser_t;

static int perr(parser_t *ps, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(parser_t *ps, int code, const char *fmt, ...)
{
    char msg[PHX_ERROR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return phx_error_set(ps->err, code, "corbaloc: %s", msg);
}

/* Decode %XX escapes in s[a..b) into a malloc'd buffer (NUL-terminated
 * for convenience).  allowed() says which characters may appear
 * unescaped.  what names the part for messages; an escaped NUL is refused
 * when no_nul. */
static int unescape(parser_t *ps, size_t a, size_t b, bool (*allowed)(char),
                    const char *what, bool no_nul, uint8_t **out,
                    size_t *out_len)
{
    const char *s = ps->s;
    uint8_t *d;
    size_t n = 0;
    char cb[8];

    *out = NULL;
    *out_len = 0;
    d = malloc(b - a + 1);
    if (d == NULL)
        return perr(ps, PHX_ENOMEM, "out of memory");
    for (size_t i = a; i < b; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < b ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < b ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return perr(ps, PHX_EINVAL,
                            "bad %%-escape in %s at offset %zu (expected "
                            "%%XX with two hex digits)",
                            what, i);
            }
            if (no_nul && hi == 0 && lo == 0) {
                free(d);
                return perr(ps, PHX_EINVAL,
                            "escaped NUL (%%00) in %s at offset %zu", what,
                            i);
            }
            d[n++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (allowed(s[i])) {
            d[n++] = (uint8_t)s[i];
        } else {
            free(d);
            return perr(ps, PHX_EINVAL,
                        "invalid character %s in %s at offset %zu (escape "
                        "it as %%XX)",
                        show_char(s[i], cb), what, i);
        }
    }
    d[n] = '\0';
    *out = d;
    *out_len = n;
    return 0;
}

/* Key characters: any printable ASCII except '%' (which starts an
 * escape). */
static bool key_char(char c)
{
    return c >= 0x21 && c <= 0x7e && c != '%';
}

/* Characters of an ipc path or inproc name that need no escape. */
static bool path_char(char c)
{
    return is_unreserved((unsigned char)c) || (c && strchr(";:@&=+$", c));
}

/* Parse a decimal port in s[a..b). */
static int parse_port(parser_t *ps, size_t a, size_t b, uint16_t *port)
{
    unsigned long v = 0;

    if (a == b)
        return perr(ps, PHX_EINVAL, "empty port at offset %zu", a);
    for (size_t i = a; i < b; i++) {
        if (!is_digit(ps->s[i]) || v > 65535)
            return perr(ps, PHX_EINVAL,
                        "bad port \"%.*s\" at offset %zu (1 to 65535)",
                        (int)(b - a > 16 ? 16 : b - a), ps->s + a, a);
        v = v * 10 + (unsigned long)(ps->s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return perr(ps, PHX_EINVAL,
                    "bad port \"%.*s\" at offset %zu (1 to 65535)",
                    (int)(b - a > 16 ? 16 : b - a), ps->s + a, a);
    *port = (uint16_t)v;
    return 0;
}

/*
 * Parse "host[:port]" or "[v6]:port" in s[a..b).  *host gets the host
 * without brackets (malloc'd), *v6 whether it was bracketed.  When
 * need_port is false a missing port gives def_port.
 */
static int parse_hostport(parser_t *ps, size_t a, size_t b, bool need_port,
                          uint16_t def_port, char **host, bool *v6,
                          uint16_t *port)
{
    const char *s = ps->s;
    size_t h0, h1, i;
    char cb[8];

    *host = NULL;
    *v6 = false;
    if (a < b && s[a] == '[') {
        const char *close = memchr(s + a, ']', b - a);
        if (close == NULL)
            return perr(ps, PHX_EINVAL,
                        "IPv6 address at offset %zu has no closing ']'", a);
        h0 = a + 1;
        h1 = (size_t)(close - s);
        for (i = h0; i < h1; i++)
            if (!is_ipv6_char(s[i]))
                return perr(ps, PHX_EINVAL,
                            "invalid character %s in IPv6 address at "
                            "offset %zu",
                            show_char(s[i], cb), i);
        if (h0 == h1)
            return perr(ps, PHX_EINVAL, "empty IPv6 address at offset %zu",
                        a);
        *v6 = true;
        i = h1 + 1;
        if (i < b && s[i] != ':')
            return perr(ps, PHX_EINVAL,
                        "unexpected %s after the IPv6 address at offset "
                        "%zu (expected ':' and a port)",
                        show_char(s[i], cb), i);
    } else {
        h0 = a;
        for (i = a; i < b && s[i] != ':'; i++)
            if (!is_host_char(s[i]))
                return perr(ps, PHX_EINVAL,
                            "invalid character %s in host at offset %zu",
                            show_char(s[i], cb), i);
        h1 = i;
        if (h0 == h1)
            return perr(ps, PHX_EINVAL, "empty host at offset %zu", a);
    }
    /* i is at ':' or b */
    if (i < b) {
        int rc = parse_port(ps, i + 1, b, port);
        if (rc)
            return rc;
    } else if (need_port) {
        return perr(ps, PHX_EINVAL, "missing ':port' at offset %zu", b);
    } else {
        *port = def_port;
    }
    *host = malloc(h1 - h0 + 1);
    if (*host == NULL)
        return perr(ps, PHX_ENOMEM, "out of memory");
    memcpy(*host, s + h0, h1 - h0);
    (*host)[h1 - h0] = '\0';
    return 0;
}

/* Parse "[M.m@]host[:port]" in s[a..b). */
static int parse_iiop(parser_t *ps, size_t a, size_t b, loc_addr_t *out)
{
    const char *s = ps->s;
    const char *at = memchr(s + a, '@', b - a);
    bool v6;

    /* The spec's default when no version is given is IIOP 1.0. */
    out->tag = PHX_TAG_INTERNET_IOP;
    out->major = 1;
    out->minor = 0;
    if (at) {
        size_t e = (size_t)(at - s), i = a;
        unsigned v[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            size_t d0 = i;
            while (i < e && is_digit(s[i]) && i - d0 < 3)
                v[k] = v[k] * 10 + (unsigned)(s[i++] - '0');
            if (i == d0 || (k == 0 && (i >= e || s[i] != '.')) ||
                (k == 1 && i != e) || v[k] > 255)
                return perr(ps, PHX_EINVAL,
                            "bad IIOP version \"%.*s\" at offset %zu "
                            "(expected major.minor@)",
                            (int)(e - a > 16 ? 16 : e - a), s + a, a);
            if (k == 0)
                i++; /* '.' */
        }
        if (v[0] != 1)
            return perr(ps, PHX_EUNSUPPORTED,
                        "IIOP version %u.%u at offset %zu not supported",
                        v[0], v[1], a);
        out->major = (uint8_t)v[0];
        out->minor = (uint8_t)v[1];
        a = e + 1;
    }
    return parse_hostport(ps, a, b, false, PHX_IIOP_DEFAULT_PORT,
                          &out->host, &v6, &out->port);
}

/* Parse "tcp:HOST:PORT", "ipc:PATH" or "inproc:NAME" in s[a..b). */
static int parse_phx(parser_t *ps, size_t a, size_t b, loc_addr_t *out)
{
    const char *s = ps->s;
    const char *colon = memchr(s + a, ':', b - a);
    size_t t1, r0;
    sbuf_t ep = {0};
    int rc;

    out->tag = PHX_TAG_ZMQ_IOP;
    if (colon == NULL)
        return perr(ps, PHX_EINVAL,
                    "phx address at offset %zu needs a transport "
                    "(tcp:, ipc: or inproc:)",
                    a);
    t1 = (size_t)(colon - s);
    r0 = t1 + 1;
    if (t1 - a == 3 && strncasecmp(s + a, "tcp", 3) == 0) {
        char *host;
        bool v6;
        uint16_t port;
        rc = parse_hostport(ps, r0, b, true, 0, &host, &v6, &port);
        if (rc)
            return rc;
        char pb[8];
        snprintf(pb, sizeof pb, "%u", port);
        sb_str(&ep, "tcp://");
        if (v6)
            sb_char(&ep, '[');
        sb_str(&ep, host);
        if (v6)
            sb_char(&ep, ']');
        sb_char(&ep, ':');
        sb_str(&ep, pb);
        free(host);
    } else if ((t1 - a == 3 && strncasecmp(s + a, "ipc", 3) == 0) ||
               (t1 - a == 6 && strncasecmp(s + a, "inproc", 6) == 0)) {
        bool ipc = t1 - a == 3;
        const char *what = ipc ? "ipc path" : "inproc name";
        uint8_t *name;
        size_t n;
        if (r0 == b)
            return perr(ps, PHX_EINVAL, "empty %s at offset %zu", what, r0);
        rc = unescape(ps, r0, b, path_char, what, true, &name, &n);
        if (rc)
            return rc;
        sb_str(&ep, ipc ? "ipc://" : "inproc://");
        sb_mem(&ep, name, n);
        free(name);
    } else {
        return perr(ps, PHX_EUNSUPPORTED,
                    "phx transport \"%.*s\" at offset %zu not supported "
                    "(tcp, ipc, inproc)",
                    (int)(t1 - a > 16 ? 16 : t1 - a), s + a, a);
    }
    if (ep.oom) {
        free(ep.p);
        return perr(ps, PHX_ENOMEM, "out of memory");
    }
    out->endpoint = ep.p;
    return 0;
}

/* One address of the list, s[a..b). */
static int parse_addr(parser_t *ps, size_t a, size_t b, loc_addr_t *out)
{
    const char *s = ps->s;
    const char *colon;
    size_t t1;

    memset(out, 0, sizeof *out);
    if (a == b)
        return perr(ps, PHX_EINVAL, "empty address at offset %zu", a);
    colon = memchr(s + a, ':', b - a);
    if (colon == NULL)
        return perr(ps, PHX_EINVAL,
                    "address \"%.*s\" at offset %zu has no protocol "
                    "(iiop:, phx:)",
                    (int)(b - a > 24 ? 24 : b - a), s + a, a);
    t1 = (size_t)(colon - s);
    if (t1 == a || (t1 - a == 4 && strncasecmp(s + a, "iiop", 4) == 0))
        return parse_iiop(ps, t1 + 1, b, out);
    if (t1 - a == 3 && strncasecmp(s + a, "phx", 3) == 0)
        return parse_phx(ps, t1 + 1, b, out);
    if (t1 - a == 3 && strncasecmp(s + a, "rir", 3) == 0)
        return perr(ps, PHX_EUNSUPPORTED,
                    "rir: (resolve_initial_references) at offset %zu is "
                    "not supported",
                    a);
    return perr(ps, PHX_EUNSUPPORTED,
                "protocol \"%.*s\" at offset %zu not supported (iiop, phx)",
                (int)(t1 - a > 16 ? 16 : t1 - a), s + a, a);
}

static void free_addrs(loc_addr_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].host);
        free(v[i].endpoint);
    }
    free(v);
}

int phx_corbaloc_parse(const char *s, phx_ior_t *out, phx_error_t *err)
{
    parser_t ps = {s, err};
    size_t n, pos, key0, naddr = 0;
    const char *slash;
    loc_addr_t *addrs = NULL;
    uint8_t *key = NULL;
    size_t key_len = 0;
    int rc;

    phx_ior_init(out);
    if (s == NULL)
        return phx_error_set(err, PHX_EINVAL, "corbaloc: NULL string");
    n = strnlen(s, PHX_CORBALOC_MAX + 1);
    if (n > PHX_CORBALOC_MAX)
        return perr(&ps, PHX_ELIMIT, "longer than the limit of %zu "
                    "characters", PHX_CORBALOC_MAX);
    while (n && is_ws(s[n - 1]))
        n--;
    if (n < 9 || strncasecmp(s, "corbaloc:", 9) != 0)
        return perr(&ps, PHX_EINVAL,
                    "expected \"corbaloc:\" at offset 0");
    pos = 9;
    slash = memchr(s + pos, '/', n - pos);
    key0 = slash ? (size_t)(slash - s) : n;

    /* Addresses, separated by ','. */
    for (size_t a = pos; a <= key0;) {
        const char *comma = memchr(s + a, ',', key0 - a);
        size_t b = comma ? (size_t)(comma - s) : key0;
        loc_addr_t *na = realloc(addrs, (naddr + 1) * sizeof *na);
        if (na == NULL) {
            rc = perr(&ps, PHX_ENOMEM, "out of memory");
            goto fail;
        }
        addrs = na;
        rc = parse_addr(&ps, a, b, &addrs[naddr]);
        if (rc)
            goto fail;
        naddr++;
        a = b + 1;
    }
    if (slash == NULL) {
        rc = perr(&ps, PHX_EINVAL,
                  "missing '/' and object key at offset %zu", n);
        goto fail;
    }
    rc = unescape(&ps, key0 + 1, n, key_char, "object key", false, &key,
                  &key_len);
    if (rc)
        goto fail;
    if (key_len > UINT32_MAX) {
        rc = perr(&ps, PHX_ELIMIT, "object key too long");
        goto fail;
    }

    rc = phx_ior_set_type_id(out, "");
    for (size_t i = 0; i < naddr && rc == 0; i++) {
        phx_profile_t p;
        memset(&p, 0, sizeof p);
        p.tag = addrs[i].tag;
        p.key = key;
        p.key_len = (uint32_t)key_len;
        if (p.tag == PHX_TAG_INTERNET_IOP) {
            p.major = addrs[i].major;
            p.minor = addrs[i].minor;
            p.host = addrs[i].host;
            p.port = addrs[i].port;
        } else {
            p.major = 1;
            p.minor = 2;
            p.endpoint = addrs[i].endpoint;
        }
        rc = phx_ior_add_decoded_profile(out, &p);
    }
    if (rc) {
        rc = perr(&ps, rc, "cannot build the IOR: %s", phx_strerror(rc));
        goto fail;
    }
    free(key);
    free_addrs(addrs, naddr);
    phx_error_clear(err);
    return 0;

fail:
    free(key);
    free_addrs(addrs, naddr);
    phx_ior_fini(out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Printing                                                             */
/* ------------------------------------------------------------------ */

static bool valid_host(const char *h, bool *v6)
{
    *v6 = strchr(h, ':') != NULL;
    if (*h == '\0')
        return false;
    for (; *h; h++)
        if (*v6 ? !is_ipv6_char(*h) : !is_host_char(*h))
            return false;
    return true;
}

static void sb_host_port(sbuf_t *b, const char *host, size_t host_len,
                         bool v6, unsigned port)
{
    char pb[8];
    if (v6)
        sb_char(b, '[');
    sb_mem(b, host, host_len);
    if (v6)
        sb_char(b, ']');
    snprintf(pb, sizeof pb, ":%u", port);
    sb_str(b, pb);
}

/* Append a ZeroMQ endpoint as "phx:..."; PHX_EUNSUPPORTED when it has no
 * corbaloc form. */
static int sb_zmq_endpoint(sbuf_t *b, const char *ep)
{
    if (strncmp(ep, "tcp://", 6) == 0) {
        const char *hp = ep + 6, *h, *he, *ps;
        char host[256];
        bool v6;
        unsigned long port = 0;

        if (*hp == '[') {
            h = hp + 1;
            he = strchr(h, ']');
            if (he == NULL || he[1] != ':')
                return PHX_EUNSUPPORTED;
            ps = he + 2;
        } else {
            h = hp;
            he = strrchr(hp, ':');
            if (he == NULL)
                return PHX_EUNSUPPORTED;
            ps = he + 1;
        }
        if ((size_t)(he - h) == 0 || (size_t)(he - h) >= sizeof host)
            return PHX_EUNSUPPORTED;
        memcpy(host, h, (size_t)(he - h));
        host[he - h] = '\0';
        if (!valid_host(host, &v6) || v6 != (*hp == '['))
            return PHX_EUNSUPPORTED;
        if (*ps == '\0' || strlen(ps) > 5)
            return PHX_EUNSUPPORTED;
        for (const char *c = ps; *c; c++) {
            if (!is_digit(*c))
                return PHX_EUNSUPPORTED;
            port = port * 10 + (unsigned long)(*c - '0');
        }
        if (port == 0 || port > 65535)
            return PHX_EUNSUPPORTED;
        sb_str(b, "phx:tcp:");
        sb_host_port(b, host, strlen(host), v6, (unsigned)port);
        return 0;
    }
    if (strncmp(ep, "ipc://", 6) == 0 && ep[6]) {
        sb_str(b, "phx:ipc:");
        sb_escaped(b, (const uint8_t *)ep + 6, strlen(ep + 6));
        return 0;
    }
    if (strncmp(ep, "inproc://", 9) == 0 && ep[9]) {
        sb_str(b, "phx:inproc:");
        sb_escaped(b, (const uint8_t *)ep + 9, strlen(ep + 9));
        return 0;
    }
    return PHX_EUNSUPPORTED;
}

int phx_ior_to_corbaloc(const phx_ior_t *ior, char **out)
{
    sbuf_t b = {0};
    phx_profile_t first;
    int rc = 0;

    *out = NULL;
    if (ior == NULL || ior->profile_count == 0 || ior->profiles == NULL)
        return PHX_EINVAL;
    memset(&first, 0, sizeof first);
    sb_str(&b, "corbaloc:");
    for (uint32_t i = 0; i < ior->profile_count && rc == 0; i++) {
        phx_profile_t p;
        uint32_t tag = ior->profiles[i].tag;

        if (tag != PHX_TAG_INTERNET_IOP && tag != PHX_TAG_ZMQ_IOP) {
            rc = PHX_EUNSUPPORTED;
            break;
        }
        rc = phx_profile_decode(&ior->profiles[i], &p, NULL);
        if (rc)
            break;
        if (i == 0) {
            first = p;
        } else if (p.key_len != first.key_len ||
                   (p.key_len &&
                    memcmp(p.key, first.key, p.key_len) != 0)) {
            /* One corbaloc has one key for all its addresses. */
            phx_profile_fini(&p);
            rc = PHX_EUNSUPPORTED;
            break;
        }
        if (i > 0)
            sb_char(&b, ',');
        if (tag == PHX_TAG_INTERNET_IOP) {
            bool v6;
            if (!valid_host(p.host, &v6) || p.port == 0) {
                rc = PHX_EUNSUPPORTED;
            } else {
                char vb[16];
                snprintf(vb, sizeof vb, "iiop:%u.%u@", p.major,
                         p.minor);
                sb_str(&b, vb);
                sb_host_port(&b, p.host, strlen(p.host), v6, p.port);
            }
        } else {
            rc = sb_zmq_endpoint(&b, p.endpoint);
        }
        if (i > 0)
            phx_profile_fini(&p);
    }
    if (rc == 0) {
        sb_char(&b, '/');
        sb_escaped(&b, first.key, first.key_len);
        if (b.oom)
            rc = PHX_ENOMEM;
    }
    phx_profile_fini(&first);
    if (rc) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    return 0;
}
