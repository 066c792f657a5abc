/*
 * ior.c - IORs, tagged profiles and components: CDR encoding and
 * decoding, the IIOP and ZeroMQ profile bodies, the FT-CORBA components
 * and the "IOR:<hex>" stringified form (see include/phx/ior.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <phx/ior.h>

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* Copy n octets into *dst (NULL when n is 0). */
static int dup_octets(uint8_t **dst, const void *src, size_t n)
{
    *dst = NULL;
    if (n == 0)
        return 0;
    *dst = malloc(n);
    if (*dst == NULL)
        return PHX_ENOMEM;
    memcpy(*dst, src, n);
    return 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Start a standalone encapsulation: byte-order octet at offset 0, which
 * is the alignment base. */
static void encap_start(phx_cdr_writer_t *w, size_t hint)
{
    phx_cdr_writer_init(w, hint);
    phx_cdr_put_octet(w, PHX_CDR_NATIVE);
}

/* Hand the encapsulation's octets over to *data / *len. */
static int encap_take(phx_cdr_writer_t *w, uint8_t **data, uint32_t *len)
{
    size_t n = 0;
    uint8_t *b;
    int rc = phx_cdr_writer_status(w);

    *data = NULL;
    *len = 0;
    if (rc == 0 && phx_cdr_writer_len(w) > UINT32_MAX)
        rc = PHX_ELIMIT;
    if (rc) {
        phx_cdr_writer_fini(w);
        return rc;
    }
    b = phx_cdr_writer_steal(w, &n);
    if (b == NULL) {
        phx_cdr_writer_fini(w);
        return PHX_ENOMEM;
    }
    *data = b;
    *len = (uint32_t)n;
    return 0;
}

static int rd_error(const phx_cdr_reader_t *r, phx_error_t *err,
                    const char *what, const char *field)
{
    return phx_error_set(err, r->err, "%s: bad %s: CDR: %s", what, field,
                         r->errmsg);
}

/* ------------------------------------------------------------------ */
/* Components                                                           */
/* ------------------------------------------------------------------ */

void phx_tagged_component_fini(phx_tagged_component_t *c)
{
    if (c) {
        free(c->data);
        memset(c, 0, sizeof *c);
    }
}

int phx_tagged_component_copy(phx_tagged_component_t *dst,
                              const phx_tagged_component_t *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->data == NULL && src->len)
        return PHX_EINVAL;
    if (dup_octets(&dst->data, src->data, src->len))
        return PHX_ENOMEM;
    dst->tag = src->tag;
    dst->len = src->len;
    return 0;
}

static void free_components(phx_tagged_component_t *c, uint32_t n)
{
    if (c == NULL)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(c[i].data);
    free(c);
}

static void write_components(phx_cdr_writer_t *w,
                             const phx_tagged_component_t *c, size_t n)
{
    if (n > UINT32_MAX || (n && c == NULL)) {
        phx_cdr_writer_fail(w, PHX_EINVAL);
        return;
    }
    phx_cdr_put_ulong(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        if (c[i].data == NULL && c[i].len) {
            phx_cdr_writer_fail(w, PHX_EINVAL);
            return;
        }
        phx_cdr_put_ulong(w, c[i].tag);
        phx_cdr_put_octet_seq(w, c[i].data, c[i].len);
    }
}

static int read_components(phx_cdr_reader_t *r, phx_tagged_component_t **out,
                           uint32_t *count, const char *what,
                           phx_error_t *err)
{
    uint32_t n;
    phx_tagged_component_t *c;

    *out = NULL;
    *count = 0;
    /* tag + length: at least 8 octets each */
    if (phx_cdr_get_seq_len(r, 8, &n))
        return rd_error(r, err, what, "component count");
    if (n == 0)
        return 0;
    c = calloc(n, sizeof *c);
    if (c == NULL)
        return phx_error_set(err, PHX_ENOMEM, "%s: no memory for %u "
                             "components", what, n);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p;
        size_t len;
        if (phx_cdr_get_ulong(r, &c[i].tag) ||
            phx_cdr_get_octet_seq(r, &p, &len)) {
            free_components(c, i);
            return rd_error(r, err, what, "component");
        }
        if (dup_octets(&c[i].data, p, len)) {
            free_components(c, i);
            return phx_error_set(err, PHX_ENOMEM, "%s: no memory for a "
                                 "component", what);
        }
        c[i].len = (uint32_t)len;
    }
    *out = c;
    *count = n;
    return 0;
}

/* FT-CORBA group component. */

int phx_ft_group_encode(const phx_ft_group_t *g, phx_tagged_component_t *out)
{
    phx_cdr_writer_t w;

    memset(out, 0, sizeof *out);
    if (g == NULL)
        return PHX_EINVAL;
    encap_start(&w, 64);
    phx_cdr_put_octet(&w, g->major);
    phx_cdr_put_octet(&w, g->minor);
    phx_cdr_put_string(&w, g->ft_domain_id ? g->ft_domain_id : "");
    phx_cdr_put_ulonglong(&w, g->object_group_id);
    phx_cdr_put_ulong(&w, g->object_group_ref_version);
    out->tag = PHX_TAG_FT_GROUP;
    return encap_take(&w, &out->data, &out->len);
}

int phx_ft_group_decode(const phx_tagged_component_t *c, phx_ft_group_t *out,
                        phx_error_t *err)
{
    static const char what[] = "TAG_FT_GROUP component";
    phx_cdr_reader_t r;

    memset(out, 0, sizeof *out);
    if (c == NULL || c->tag != PHX_TAG_FT_GROUP)
        return phx_error_set(err, PHX_EINVAL, "%s: wrong component tag %u",
                             what, c ? c->tag : 0);
    if (phx_cdr_reader_init_encap(&r, c->data, c->len))
        return rd_error(&r, err, what, "encapsulation");
    if (phx_cdr_get_octet(&r, &out->major) ||
        phx_cdr_get_octet(&r, &out->minor))
        return rd_error(&r, err, what, "version");
    if (phx_cdr_get_string_dup(&r, &out->ft_domain_id))
        return rd_error(&r, err, what, "ft_domain_id");
    if (phx_cdr_get_ulonglong(&r, &out->object_group_id) ||
        phx_cdr_get_ulong(&r, &out->object_group_ref_version)) {
        int rc = rd_error(&r, err, what, "object group id/version");
        phx_ft_group_fini(out);
        return rc;
    }
    phx_error_clear(err);
    return 0;
}

void phx_ft_group_fini(phx_ft_group_t *g)
{
    if (g) {
        free(g->ft_domain_id);
        memset(g, 0, sizeof *g);
    }
}

int phx_component_encode_bool(uint32_t tag, bool v,
                              phx_tagged_component_t *out)
{
    phx_cdr_writer_t w;

    memset(out, 0, sizeof *out);
    encap_start(&w, 8);
    phx_cdr_put_boolean(&w, v);
    out->tag = tag;
    return encap_take(&w, &out->data, &out->len);
}

int phx_component_decode_bool(const phx_tagged_component_t *c, bool *v,
                              phx_error_t *err)
{
    phx_cdr_reader_t r;

    *v = false;
    if (c == NULL)
        return phx_error_set(err, PHX_EINVAL, "component: NULL");
    if (phx_cdr_reader_init_encap(&r, c->data, c->len) ||
        phx_cdr_get_boolean(&r, v))
        return phx_error_set(err, r.err, "component %u: bad boolean body: "
                             "CDR: %s", c->tag, r.errmsg);
    phx_error_clear(err);
    return 0;
}

int phx_ft_primary_encode(bool primary, phx_tagged_component_t *out)
{
    return phx_component_encode_bool(PHX_TAG_FT_PRIMARY, primary, out);
}

int phx_ft_primary_decode(const phx_tagged_component_t *c, bool *primary,
                          phx_error_t *err)
{
    *primary = false;
    if (c == NULL || c->tag != PHX_TAG_FT_PRIMARY)
        return phx_error_set(err, PHX_EINVAL,
                             "TAG_FT_PRIMARY component: wrong component "
                             "tag %u", c ? c->tag : 0);
    return phx_component_decode_bool(c, primary, err);
}

/* ------------------------------------------------------------------ */
/* Profiles                                                             */
/* ------------------------------------------------------------------ */

void phx_tagged_profile_fini(phx_tagged_profile_t *tp)
{
    if (tp) {
        free(tp->data);
        memset(tp, 0, sizeof *tp);
    }
}

void phx_profile_fini(phx_profile_t *p)
{
    if (p == NULL)
        return;
    free(p->host);
    free(p->endpoint);
    free(p->key);
    free_components(p->components, p->component_count);
    memset(p, 0, sizeof *p);
}

const phx_tagged_component_t *
phx_profile_find_component(const phx_profile_t *p, uint32_t tag)
{
    if (p == NULL || p->components == NULL)
        return NULL;
    for (uint32_t i = 0; i < p->component_count; i++)
        if (p->components[i].tag == tag)
            return &p->components[i];
    return NULL;
}

static const char *profile_name(uint32_t tag)
{
    switch (tag) {
    case PHX_TAG_INTERNET_IOP:
        return "IIOP profile";
    case PHX_TAG_ZMQ_IOP:
        return "ZMQ profile";
    case PHX_TAG_MULTIPLE_COMPONENTS:
        return "multiple-components profile";
    default:
        return "profile";
    }
}

/* Read the fields of an IIOP or ZMQ body up to and including the key.
 * Borrowed results.  Returns 0 or the error. */
static int read_profile_head(phx_cdr_reader_t *r, uint32_t tag,
                             uint8_t *major, uint8_t *minor,
                             const char **addr, size_t *addr_len,
                             uint16_t *port, const uint8_t **key,
                             size_t *key_len, phx_error_t *err)
{
    const char *what = profile_name(tag);

    *port = 0;
    if (phx_cdr_get_octet(r, major) || phx_cdr_get_octet(r, minor))
        return rd_error(r, err, what, "version");
    if (*major != 1)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "%s: version %u.%u not supported", what,
                             *major, *minor);
    if (phx_cdr_get_string(r, addr, addr_len))
        return rd_error(r, err, what,
                        tag == PHX_TAG_ZMQ_IOP ? "endpoint" : "host");
    if (*addr_len == 0)
        return phx_error_set(err, PHX_EMARSHAL, "%s: empty %s", what,
                             tag == PHX_TAG_ZMQ_IOP ? "endpoint" : "host");
    if (tag == PHX_TAG_INTERNET_IOP && phx_cdr_get_ushort(r, port))
        return rd_error(r, err, what, "port");
    if (phx_cdr_get_octet_seq(r, key, key_len))
        return rd_error(r, err, what, "object key");
    return 0;
}

int phx_profile_peek_key(uint32_t tag, const void *data, size_t len,
                         const uint8_t **key, size_t *key_len,
                         phx_error_t *err)
{
    phx_cdr_reader_t r;
    uint8_t major, minor;
    const char *addr;
    size_t addr_len;
    uint16_t port;
    int rc;

    *key = NULL;
    *key_len = 0;
    if (tag != PHX_TAG_INTERNET_IOP && tag != PHX_TAG_ZMQ_IOP)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "profile tag 0x%08x has no object key known "
                             "to Phalanx", tag);
    if (phx_cdr_reader_init_encap(&r, data, len))
        return rd_error(&r, err, profile_name(tag), "encapsulation");
    rc = read_profile_head(&r, tag, &major, &minor, &addr, &addr_len, &port,
                           key, key_len, err);
    if (rc) {
        *key = NULL;
        *key_len = 0;
        return rc;
    }
    phx_error_clear(err);
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int phx_profile_decode_raw(uint32_t tag, const void *data, size_t len,
                           phx_profile_t *out, phx_error_t *err)
{
    const char *what = profile_name(tag);
    phx_cdr_reader_t r;
    int rc;

    memset(out, 0, sizeof *out);
    if (tag != PHX_TAG_INTERNET_IOP && tag != PHX_TAG_ZMQ_IOP &&
        tag != PHX_TAG_MULTIPLE_COMPONENTS)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "profile tag 0x%08x not supported", tag);
    if (phx_cdr_reader_init_encap(&r, data, len))
        return rd_error(&r, err, what, "encapsulation");
    out->tag = tag;

    if (tag != PHX_TAG_MULTIPLE_COMPONENTS) {
        const char *addr;
        size_t addr_len, key_len;
        const uint8_t *key;
        char *a;

        rc = read_profile_head(&r, tag, &out->major, &out->minor, &addr,
                               &addr_len, &out->port, &key, &key_len, err);
        if (rc) {
            memset(out, 0, sizeof *out);
            return rc;
        }
        a = dup_n(addr, addr_len);
        if (a == NULL || dup_octets(&out->key, key, key_len)) {
            free(a);
            memset(out, 0, sizeof *out);
            return phx_error_set(err, PHX_ENOMEM, "%s: out of memory",
                                 what);
        }
        if (tag == PHX_TAG_ZMQ_IOP)
            out->endpoint = a;
        else
            out->host = a;
        out->key_len = (uint32_t)key_len;
        /* IIOP 1.0 bodies end with the key. */
        if (tag == PHX_TAG_INTERNET_IOP && out->minor == 0) {
            phx_error_clear(err);
            return 0;
        }
    }
    rc = read_components(&r, &out->components, &out->component_count, what,
                         err);
    if (rc) {
        phx_profile_fini(out);
        return rc;
    }
    phx_error_clear(err);
    return 0;
}

int phx_profile_decode(const phx_tagged_profile_t *tp, phx_profile_t *out,
                       phx_error_t *err)
{
    if (tp == NULL) {
        memset(out, 0, sizeof *out);
        return phx_error_set(err, PHX_EINVAL, "profile: NULL");
    }
    return phx_profile_decode_raw(tp->tag, tp->data, tp->len, out, err);
}

int phx_profile_encode(const phx_profile_t *p, phx_tagged_profile_t *out)
{
    phx_cdr_writer_t w;
    uint8_t major, minor;

    memset(out, 0, sizeof *out);
    if (p == NULL || (p->key == NULL && p->key_len) ||
        (p->components == NULL && p->component_count))
        return PHX_EINVAL;
    major = p->major;
    minor = p->minor;
    if (major == 0 && minor == 0) {
        major = 1;
        minor = 2;
    }
    switch (p->tag) {
    case PHX_TAG_INTERNET_IOP:
        if (p->host == NULL || p->host[0] == '\0' || major != 1 ||
            (minor == 0 && p->component_count))
            return PHX_EINVAL;
        encap_start(&w, 64 + strlen(p->host) + p->key_len);
        phx_cdr_put_octet(&w, major);
        phx_cdr_put_octet(&w, minor);
        phx_cdr_put_string(&w, p->host);
        phx_cdr_put_ushort(&w, p->port);
        phx_cdr_put_octet_seq(&w, p->key, p->key_len);
        if (minor != 0)
            write_components(&w, p->components, p->component_count);
        break;
    case PHX_TAG_ZMQ_IOP:
        if (p->endpoint == NULL || p->endpoint[0] == '\0' || major != 1)
            return PHX_EINVAL;
        encap_start(&w, 64 + strlen(p->endpoint) + p->key_len);
        phx_cdr_put_octet(&w, major);
        phx_cdr_put_octet(&w, minor);
        phx_cdr_put_string(&w, p->endpoint);
        phx_cdr_put_octet_seq(&w, p->key, p->key_len);
        write_components(&w, p->components, p->component_count);
        break;
    case PHX_TAG_MULTIPLE_COMPONENTS:
        encap_start(&w, 64);
        write_components(&w, p->components, p->component_count);
        break;
    default:
        return PHX_EUNSUPPORTED;
    }
    out->tag = p->tag;
    return encap_take(&w, &out->data, &out->len);
}

/* ------------------------------------------------------------------ */
/* IOR                                                                  */
/* ------------------------------------------------------------------ */

void phx_ior_init(phx_ior_t *ior)
{
    memset(ior, 0, sizeof *ior);
}

void phx_ior_fini(phx_ior_t *ior)
{
    if (ior == NULL)
        return;
    free(ior->type_id);
    if (ior->profiles) {
        for (uint32_t i = 0; i < ior->profile_count; i++)
            free(ior->profiles[i].data);
        free(ior->profiles);
    }
    memset(ior, 0, sizeof *ior);
}

bool phx_ior_is_nil(const phx_ior_t *ior)
{
    return ior == NULL || ior->profile_count == 0;
}

int phx_ior_set_type_id(phx_ior_t *ior, const char *type_id)
{
    char *d = dup_str(type_id ? type_id : "");
    if (d == NULL)
        return PHX_ENOMEM;
    free(ior->type_id);
    ior->type_id = d;
    return 0;
}

int phx_ior_copy(phx_ior_t *dst, const phx_ior_t *src)
{
    phx_ior_init(dst);
    if (src == NULL)
        return PHX_EINVAL;
    if (src->profile_count && src->profiles == NULL)
        return PHX_EINVAL;
    if (phx_ior_set_type_id(dst, src->type_id))
        return PHX_ENOMEM;
    if (src->profile_count) {
        dst->profiles = calloc(src->profile_count, sizeof *dst->profiles);
        if (dst->profiles == NULL) {
            phx_ior_fini(dst);
            return PHX_ENOMEM;
        }
        for (uint32_t i = 0; i < src->profile_count; i++) {
            const phx_tagged_profile_t *s = &src->profiles[i];
            if (dup_octets(&dst->profiles[i].data, s->data, s->len)) {
                dst->profile_count = i;
                phx_ior_fini(dst);
                return PHX_ENOMEM;
            }
            dst->profiles[i].tag = s->tag;
            dst->profiles[i].len = s->len;
        }
        dst->profile_count = src->profile_count;
    }
    return 0;
}

/* Append a profile whose data the IOR takes over. */
static int add_profile_owned(phx_ior_t *ior, uint32_t tag, uint8_t *data,
                             uint32_t len)
{
    phx_tagged_profile_t *np;

    if (ior->profile_count == UINT32_MAX)
        return PHX_ELIMIT;
    np = realloc(ior->profiles,
                 ((size_t)ior->profile_count + 1) * sizeof *np);
    if (np == NULL)
        return PHX_ENOMEM;
    ior->profiles = np;
    np[ior->profile_count].tag = tag;
    np[ior->profile_count].data = data;
    np[ior->profile_count].len = len;
    ior->profile_count++;
    return 0;
}

int phx_ior_add_profile(phx_ior_t *ior, uint32_t tag, const void *data,
                        size_t len)
{
    uint8_t *d;
    int rc;

    if (ior == NULL || (data == NULL && len) || len > UINT32_MAX)
        return PHX_EINVAL;
    if (dup_octets(&d, data, len))
        return PHX_ENOMEM;
    rc = add_profile_owned(ior, tag, d, (uint32_t)len);
    if (rc)
        free(d);
    return rc;
}

int phx_ior_add_decoded_profile(phx_ior_t *ior, const phx_profile_t *p)
{
    phx_tagged_profile_t tp;
    int rc;

    if (ior == NULL)
        return PHX_EINVAL;
    rc = phx_profile_encode(p, &tp);
    if (rc)
        return rc;
    rc = add_profile_owned(ior, tp.tag, tp.data, tp.len);
    if (rc)
        phx_tagged_profile_fini(&tp);
    return rc;
}

/* The profile struct borrows the caller's arrays: encode never frees. */
static int add_addr_profile(phx_ior_t *ior, uint32_t tag, const char *host,
                            uint16_t port, const char *endpoint,
                            const void *key, size_t key_len,
                            const phx_tagged_component_t *comps,
                            size_t ncomps)
{
    phx_profile_t p;

    if (key_len > UINT32_MAX || ncomps > UINT32_MAX)
        return PHX_EINVAL;
    memset(&p, 0, sizeof p);
    p.tag = tag;
    p.major = 1;
    p.minor = 2;
    p.host = (char *)host;
    p.port = port;
    p.endpoint = (char *)endpoint;
    p.key = (uint8_t *)key;
    p.key_len = (uint32_t)key_len;
    p.components = (phx_tagged_component_t *)comps;
    p.component_count = (uint32_t)ncomps;
    return phx_ior_add_decoded_profile(ior, &p);
}

int phx_ior_add_zmq_profile(phx_ior_t *ior, const char *endpoint,
                            const void *key, size_t key_len,
                            const phx_tagged_component_t *comps,
                            size_t ncomps)
{
    return add_addr_profile(ior, PHX_TAG_ZMQ_IOP, NULL, 0, endpoint, key,
                            key_len, comps, ncomps);
}

int phx_ior_add_iiop_profile(phx_ior_t *ior, const char *host, uint16_t port,
                             const void *key, size_t key_len,
                             const phx_tagged_component_t *comps,
                             size_t ncomps)
{
    return add_addr_profile(ior, PHX_TAG_INTERNET_IOP, host, port, NULL, key,
                            key_len, comps, ncomps);
}

int phx_ior_make_zmq(phx_ior_t *out, const char *type_id,
                     const char *endpoint, const void *key, size_t key_len,
                     const phx_tagged_component_t *comps, size_t ncomps)
{
    int rc;

    phx_ior_init(out);
    rc = phx_ior_set_type_id(out, type_id);
    if (rc == 0)
        rc = phx_ior_add_zmq_profile(out, endpoint, key, key_len, comps,
                                     ncomps);
    if (rc)
        phx_ior_fini(out);
    return rc;
}

int phx_ior_write(phx_cdr_writer_t *w, const phx_ior_t *ior)
{
    if (w->err)
        return w->err;
    if (ior == NULL || (ior->profile_count && ior->profiles == NULL))
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    phx_cdr_put_string(w, ior->type_id ? ior->type_id : "");
    phx_cdr_put_ulong(w, ior->profile_count);
    for (uint32_t i = 0; i < ior->profile_count && w->err == 0; i++) {
        const phx_tagged_profile_t *p = &ior->profiles[i];
        if (p->data == NULL && p->len)
            return phx_cdr_writer_fail(w, PHX_EINVAL);
        phx_cdr_put_ulong(w, p->tag);
        phx_cdr_put_octet_seq(w, p->data, p->len);
    }
    return w->err;
}

int phx_ior_read(phx_cdr_reader_t *r, phx_ior_t *ior, phx_error_t *err)
{
    static const char what[] = "IOR";
    uint32_t n;

    phx_ior_init(ior);
    if (phx_cdr_get_string_dup(r, &ior->type_id))
        return rd_error(r, err, what, "type_id");
    /* tag + length: at least 8 octets per profile */
    if (phx_cdr_get_seq_len(r, 8, &n)) {
        phx_ior_fini(ior);
        return rd_error(r, err, what, "profile count");
    }
    if (n) {
        ior->profiles = calloc(n, sizeof *ior->profiles);
        if (ior->profiles == NULL) {
            phx_ior_fini(ior);
            return phx_error_set(err, PHX_ENOMEM,
                                 "IOR: no memory for %u profiles", n);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        phx_tagged_profile_t *p = &ior->profiles[i];
        const uint8_t *d;
        size_t len;
        if (phx_cdr_get_ulong(r, &p->tag) ||
            phx_cdr_get_octet_seq(r, &d, &len)) {
            ior->profile_count = i;
            phx_ior_fini(ior);
            return rd_error(r, err, what, "profile");
        }
        if (dup_octets(&p->data, d, len)) {
            ior->profile_count = i;
            phx_ior_fini(ior);
            return phx_error_set(err, PHX_ENOMEM,
                                 "IOR: no memory for a profile");
        }
        p->len = (uint32_t)len;
        ior->profile_count = i + 1;
    }
    phx_error_clear(err);
    return 0;
}

int phx_ior_read_raw(const void *buf, size_t len, int byte_order,
                     phx_ior_t *ior, phx_error_t *err)
{
    phx_cdr_reader_t r;
    int rc;

    phx_cdr_reader_init(&r, buf, len, byte_order);
    if (r.err) {
        phx_ior_init(ior);
        return rd_error(&r, err, "IOR", "buffer");
    }
    rc = phx_ior_read(&r, ior, err);
    if (rc)
        return rc;
    if (phx_cdr_reader_remaining(&r)) {
        size_t extra = phx_cdr_reader_remaining(&r);
        phx_ior_fini(ior);
        return phx_error_set(err, PHX_EMARSHAL,
                             "IOR: %zu octets of trailing data at offset "
                             "%zu",
                             extra, r.pos);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Stringified IOR                                                      */
/* ------------------------------------------------------------------ */

int phx_ior_to_string(const phx_ior_t *ior, char **out)
{
    static const char hex[] = "0123456789abcdef";
    phx_cdr_writer_t w;
    const uint8_t *b;
    size_t n;
    char *s;
    int rc;

    *out = NULL;
    if (ior == NULL)
        return PHX_EINVAL;
    encap_start(&w, 256);
    rc = phx_ior_write(&w, ior);
    if (rc) {
        phx_cdr_writer_fini(&w);
        return rc;
    }
    b = phx_cdr_writer_data(&w);
    n = phx_cdr_writer_len(&w);
    s = malloc(4 + 2 * n + 1);
    if (s == NULL) {
        phx_cdr_writer_fini(&w);
        return PHX_ENOMEM;
    }
    memcpy(s, "IOR:", 4);
    for (size_t i = 0; i < n; i++) {
        s[4 + 2 * i] = hex[b[i] >> 4];
        s[4 + 2 * i + 1] = hex[b[i] & 0x0f];
    }
    s[4 + 2 * n] = '\0';
    phx_cdr_writer_fini(&w);
    *out = s;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Printable rendering of c for messages. */
static const char *show_char(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u <= 0x7e) {
        buf[0] = '\'';
        buf[1] = c;
        buf[2] = '\'';
        buf[3] = '\0';
    } else {
        static const char hex[] = "0123456789abcdef";
        buf[0] = '0';
        buf[1] = 'x';
        buf[2] = hex[u >> 4];
        buf[3] = hex[u & 0x0f];
        buf[4] = '\0';
    }
    return buf;
}

static int ior_from_hex(const char *s, size_t n, phx_ior_t *out,
                        phx_error_t *err)
{
    size_t digits = n - 4, nbytes;
    uint8_t *bin;
    phx_cdr_reader_t r;
    int rc;
    char cb[8];

    if (digits == 0)
        return phx_error_set(err, PHX_EINVAL,
                             "IOR string: no hex digits after \"IOR:\"");
    if (digits / 2 > PHX_IOR_MAX_ENCODED)
        return phx_error_set(err, PHX_ELIMIT,
                             "IOR string: %zu hex digits, more than the "
                             "limit of %zu",
                             digits, 2 * PHX_IOR_MAX_ENCODED);
    /* Check every digit before allocating. */
    for (size_t i = 4; i < n; i++)
        if (hexval(s[i]) < 0)
            return phx_error_set(err, PHX_EINVAL,
                                 "IOR string: invalid hex digit %s at "
                                 "offset %zu",
                                 show_char(s[i], cb), i);
    if (digits % 2)
        return phx_error_set(err, PHX_EINVAL,
                             "IOR string: odd number of hex digits (%zu); "
                             "the last one, at offset %zu, has no pair",
                             digits, n - 1);
    nbytes = digits / 2;
    bin = malloc(nbytes);
    if (bin == NULL)
        return phx_error_set(err, PHX_ENOMEM, "IOR string: out of memory");
    for (size_t i = 0; i < nbytes; i++)
        bin[i] = (uint8_t)(hexval(s[4 + 2 * i]) << 4 |
                           hexval(s[4 + 2 * i + 1]));

    if (phx_cdr_reader_init_encap(&r, bin, nbytes)) {
        rc = phx_error_set(err, r.err, "IOR string: bad byte-order octet "
                           "0x%02x at offset 4 (must be 00 or 01)", bin[0]);
        free(bin);
        return rc;
    }
    phx_cdr_reader_set_max_len(&r, PHX_IOR_MAX_ENCODED);
    rc = phx_ior_read(&r, out, err);
    if (rc) {
        /* Also point at the hex digit where decoding stopped. */
        if (err) {
            size_t l = strlen(err->msg);
            if (l < sizeof err->msg)
                snprintf(err->msg + l, sizeof err->msg - l,
                         " (string offset %zu)", 4 + 2 * r.pos);
        }
        free(bin);
        return rc;
    }
    /* Tolerate alignment padding (at most 7 zero octets) after the IOR;
     * refuse anything else. */
    if (r.pos < nbytes) {
        size_t extra = nbytes - r.pos;
        bool zeros = extra < 8;
        for (size_t i = r.pos; zeros && i < nbytes; i++)
            zeros = bin[i] == 0;
        if (!zeros) {
            rc = phx_error_set(err, PHX_EMARSHAL,
                               "IOR string: %zu octets of trailing data "
                               "after the IOR at string offset %zu",
                               extra, 4 + 2 * r.pos);
            phx_ior_fini(out);
            free(bin);
            return rc;
        }
    }
    free(bin);
    phx_error_clear(err);
    return 0;
}

/* Longest string looked at: the hex of the largest IOR, its prefix and
 * some trailing white space. */
#define STRING_MAX (2 * PHX_IOR_MAX_ENCODED + 4 + 64)

int phx_ior_from_string(const char *s, phx_ior_t *out, phx_error_t *err)
{
    size_t n;

    phx_ior_init(out);
    if (s == NULL)
        return phx_error_set(err, PHX_EINVAL, "object reference string: "
                             "NULL");
    /* Bound the scan itself: never walk an absurdly long string. */
    n = strnlen(s, STRING_MAX + 1);
    if (n > STRING_MAX)
        return phx_error_set(err, PHX_ELIMIT,
                             "object reference string: longer than the "
                             "limit of %zu characters",
                             STRING_MAX);
    while (n && is_ws(s[n - 1]))
        n--;
    if (n >= 4 && strncasecmp(s, "IOR:", 4) == 0)
        return ior_from_hex(s, n, out, err);
    if (n >= 9 && strncasecmp(s, "corbaloc:", 9) == 0)
        return phx_corbaloc_parse(s, out, err);
    if (n >= 10 && strncasecmp(s, "corbaname:", 10) == 0)
        return phx_error_set(err, PHX_EUNSUPPORTED,
                             "object reference string: corbaname: URLs "
                             "are not supported");
    return phx_error_set(err, PHX_EINVAL,
                         "object reference string: expected \"IOR:\" or "
                         "\"corbaloc:\" at offset 0, found \"%.12s%s\"",
                         s, n > 12 ? "..." : "");
}
