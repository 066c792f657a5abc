/*
 * iogr.c - interoperable object group references (FT-CORBA 23.2.2):
 * building an IOGR from the references of the members, parsing one back
 * (group, version, primary), and the allocation-free test the client
 * interceptor runs on every request: does this profile carry TAG_FT_GROUP,
 * and with which version?
 */
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

/* ------------------------------------------------------------------ */
/* Reading a profile in place                                           */
/* ------------------------------------------------------------------ */

/* Position r on the components of a profile body.  Returns 1 when the
 * profile has components, 0 when its kind or version has none, or a
 * negative code. */
static int seek_components(uint32_t tag, const uint8_t *data, size_t len,
                           phx_cdr_reader_t *r)
{
    uint8_t major = 0, minor = 0;
    const char *s;
    size_t n;
    const uint8_t *key;
    uint16_t port;

    if (tag != PHX_TAG_ZMQ_IOP && tag != PHX_TAG_INTERNET_IOP &&
        tag != PHX_TAG_MULTIPLE_COMPONENTS)
        return 0;
    if (phx_cdr_reader_init_encap(r, data, len) != PHX_OK)
        return PHX_EMARSHAL;
    if (tag == PHX_TAG_MULTIPLE_COMPONENTS)
        return 1;
    phx_cdr_get_octet(r, &major);
    phx_cdr_get_octet(r, &minor);
    if (phx_cdr_reader_status(r) != PHX_OK)
        return PHX_EMARSHAL;
    if (major != 1)
        return 0;
    phx_cdr_get_string(r, &s, &n);
    if (tag == PHX_TAG_INTERNET_IOP) {
        phx_cdr_get_ushort(r, &port);
        if (minor == 0)
            return phx_cdr_reader_status(r) == PHX_OK ? 0 : PHX_EMARSHAL;
    }
    phx_cdr_get_octet_seq(r, &key, &n);
    return phx_cdr_reader_status(r) == PHX_OK ? 1 : PHX_EMARSHAL;
}

/* The object_group_ref_version of a TAG_FT_GROUP body: 1, 0 for a
 * component version this layer does not know, or a negative code. */
static int group_component_version(const uint8_t *data, size_t len,
                                   uint32_t *version)
{
    phx_cdr_reader_t r;
    uint8_t major = 0, minor = 0;
    const char *s;
    size_t n;
    uint64_t id;

    if (phx_cdr_reader_init_encap(&r, data, len) != PHX_OK)
        return PHX_EMARSHAL;
    phx_cdr_get_octet(&r, &major);
    phx_cdr_get_octet(&r, &minor);
    if (phx_cdr_reader_status(&r) == PHX_OK && major != 1)
        return 0;
    phx_cdr_get_string(&r, &s, &n);
    phx_cdr_get_ulonglong(&r, &id);
    phx_cdr_get_ulong(&r, version);
    return phx_cdr_reader_status(&r) == PHX_OK ? 1 : PHX_EMARSHAL;
}

/* The FT components of one profile: 1 when it has TAG_FT_GROUP (its
 * version in *version), 0 when not, or a negative code; *primary (may be
 * NULL) says whether it has TAG_FT_PRIMARY TRUE. */
static int profile_ft(const phx_tagged_profile_t *tp, uint32_t *version,
                      bool *primary)
{
    phx_cdr_reader_t r;
    if (primary)
        *primary = false;
    int rc = seek_components(tp->tag, tp->data, tp->len, &r);
    if (rc <= 0)
        return rc;
    uint32_t count;
    if (phx_cdr_get_seq_len(&r, 8, &count) != PHX_OK)
        return PHX_EMARSHAL;
    int found = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tag;
        const uint8_t *d;
        size_t n;
        phx_cdr_get_ulong(&r, &tag);
        if (phx_cdr_get_octet_seq(&r, &d, &n) != PHX_OK)
            return PHX_EMARSHAL;
        if (tag == PHX_TAG_FT_GROUP && found == 0) {
            found = group_component_version(d, n, version);
            if (found < 0 || primary == NULL)
                return found;
        } else if (tag == PHX_TAG_FT_PRIMARY && primary) {
            phx_cdr_reader_t b;
            bool v = false;
            if (phx_cdr_reader_init_encap(&b, d, n) == PHX_OK &&
                phx_cdr_get_boolean(&b, &v) == PHX_OK)
                *primary = v;
        }
    }
    return found;
}

static int profile_group_version(const phx_tagged_profile_t *tp,
                                 uint32_t *version)
{
    return profile_ft(tp, version, NULL);
}

int phx__ft_ior_primary(const phx_ior_t *ior)
{
    for (uint32_t i = 0; i < ior->profile_count && i <= INT32_MAX; i++) {
        uint32_t v;
        bool prim;
        if (profile_ft(&ior->profiles[i], &v, &prim) == 1 && prim)
            return (int)i;
    }
    return -1;
}

int phx_ft_ior_group_version(const phx_ior_t *ior, int index,
                             uint32_t *version)
{
    uint32_t v = 0;
    int rc = 0;

    if (ior == NULL)
        return PHX_EINVAL;
    if (index >= 0) {
        if ((uint32_t)index >= ior->profile_count)
            return PHX_EINVAL;
        rc = profile_group_version(&ior->profiles[index], &v);
    } else {
        for (uint32_t i = 0; i < ior->profile_count && rc <= 0; i++) {
            int one = profile_group_version(&ior->profiles[i], &v);
            if (one != 0)
                rc = one;
        }
    }
    if (version)
        *version = rc == 1 ? v : 0;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Building                                                             */
/* ------------------------------------------------------------------ */

static bool is_ft_component(uint32_t tag)
{
    return tag == PHX_TAG_FT_GROUP || tag == PHX_TAG_FT_PRIMARY;
}

/* Re-encode one decoded profile with the FT components replaced and add
 * it to out. */
static int add_group_profile(phx_ior_t *out, phx_profile_t *p,
                             const phx_tagged_component_t *group,
                             const phx_tagged_component_t *primary)
{
    size_t n = 0;
    phx_tagged_component_t *comps =
        malloc((p->component_count + 2) * sizeof *comps);
    if (comps == NULL)
        return PHX_ENOMEM;
    for (uint32_t i = 0; i < p->component_count; i++)
        if (!is_ft_component(p->components[i].tag))
            comps[n++] = p->components[i]; /* borrowed */
    comps[n++] = *group;
    if (primary)
        comps[n++] = *primary;

    phx_tagged_component_t *own = p->components;
    uint32_t own_count = p->component_count;
    p->components = comps;
    p->component_count = (uint32_t)n;
    phx_tagged_profile_t tp;
    int rc = phx_profile_encode(p, &tp);
    p->components = own;
    p->component_count = own_count;
    free(comps);
    if (rc != PHX_OK)
        return rc;
    rc = phx_ior_add_profile(out, tp.tag, tp.data, tp.len);
    phx_tagged_profile_fini(&tp);
    return rc;
}

int phx_ft_iogr_build(const phx_ft_iogr_spec_t *spec, phx_ior_t *out,
                      phx_error_t *err)
{
    phx_error_clear(err);
    if (out)
        phx_ior_init(out);
    if (spec == NULL || out == NULL ||
        (spec->members == NULL && spec->member_count))
        return phx_error_set(err, PHX_EINVAL, "iogr_build: NULL argument");
    if (spec->primary != PHX_FT_NO_PRIMARY &&
        spec->primary >= spec->member_count)
        return phx_error_set(err, PHX_EINVAL,
                             "iogr_build: primary %zu of %zu members",
                             spec->primary, spec->member_count);

    phx_ft_group_t g = {
        .major = PHX_FT_COMPONENT_MAJOR,
        .minor = PHX_FT_COMPONENT_MINOR,
        .ft_domain_id = (char *)(spec->ft_domain_id ? spec->ft_domain_id
                                                    : ""),
        .object_group_id = spec->object_group_id,
        .object_group_ref_version = spec->object_group_ref_version,
    };
    phx_tagged_component_t gc, pc;
    memset(&pc, 0, sizeof pc);
    int rc = phx_ft_group_encode(&g, &gc);
    if (rc == PHX_OK && spec->primary != PHX_FT_NO_PRIMARY)
        rc = phx_ft_primary_encode(true, &pc);
    const char *type_id = spec->type_id;
    if (type_id == NULL && spec->member_count)
        type_id = spec->members[0].type_id;
    if (rc == PHX_OK)
        rc = phx_ior_set_type_id(out, type_id);

    if (rc == PHX_OK && spec->member_count == 0) {
        phx_profile_t p;
        memset(&p, 0, sizeof p);
        p.tag = PHX_TAG_MULTIPLE_COMPONENTS;
        rc = add_group_profile(out, &p, &gc, NULL);
    }
    for (size_t m = 0; rc == PHX_OK && m < spec->member_count; m++) {
        const phx_ior_t *mi = &spec->members[m];
        if (mi->profile_count == 0) {
            rc = phx_error_set(err, PHX_EINVAL,
                               "iogr_build: member %zu is a nil reference",
                               m);
            break;
        }
        for (uint32_t j = 0; rc == PHX_OK && j < mi->profile_count; j++) {
            phx_profile_t p;
            phx_error_t perr;
            rc = phx_profile_decode(&mi->profiles[j], &p, &perr);
            if (rc != PHX_OK) {
                rc = phx_error_set(err, PHX_EUNSUPPORTED,
                                   "iogr_build: member %zu profile %u "
                                   "cannot carry components: %s",
                                   m, j, perr.msg);
                break;
            }
            if (p.tag == PHX_TAG_INTERNET_IOP && p.minor == 0) {
                phx_profile_fini(&p);
                rc = phx_error_set(err, PHX_EUNSUPPORTED,
                                   "iogr_build: member %zu profile %u is "
                                   "IIOP 1.0, which has no components",
                                   m, j);
                break;
            }
            bool prim = m == spec->primary && j == 0;
            rc = add_group_profile(out, &p, &gc, prim ? &pc : NULL);
            phx_profile_fini(&p);
            if (rc != PHX_OK)
                rc = phx_error_set(err, rc,
                                   "iogr_build: member %zu profile %u: %s",
                                   m, j, phx_strerror(rc));
        }
    }
    phx_tagged_component_fini(&gc);
    phx_tagged_component_fini(&pc);
    if (rc != PHX_OK) {
        phx_ior_fini(out);
        if (err && err->code == PHX_OK)
            phx_error_set(err, rc, "iogr_build: %s", phx_strerror(rc));
        return rc;
    }
    phx_error_clear(err);
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

void phx_ft_iogr_info_fini(phx_ft_iogr_info_t *info)
{
    if (info) {
        phx_ft_group_fini(&info->group);
        memset(info, 0, sizeof *info);
        info->primary = -1;
    }
}

static bool same_group(const phx_ft_group_t *a, const phx_ft_group_t *b)
{
    return a->object_group_id == b->object_group_id &&
           a->object_group_ref_version == b->object_group_ref_version &&
           strcmp(a->ft_domain_id ? a->ft_domain_id : "",
                  b->ft_domain_id ? b->ft_domain_id : "") == 0;
}

/* Look at one decoded profile's FT components. */
static int parse_profile(const phx_profile_t *p, uint32_t index,
                         phx_ft_iogr_info_t *info, phx_error_t *err)
{
    bool seen_group = false;
    for (uint32_t k = 0; k < p->component_count; k++) {
        const phx_tagged_component_t *c = &p->components[k];
        if (c->tag == PHX_TAG_FT_GROUP && !seen_group) {
            phx_ft_group_t g;
            phx_error_t cerr;
            if (phx_ft_group_decode(c, &g, &cerr) != PHX_OK)
                return phx_error_set(err, PHX_EMARSHAL,
                                     "iogr: profile %u: %s", index,
                                     cerr.msg);
            seen_group = true;
            if (info->group_profiles == 0) {
                info->group = g;
            } else {
                bool same = same_group(&info->group, &g);
                phx_ft_group_fini(&g);
                if (!same)
                    return phx_error_set(err, PHX_EINVAL,
                                         "iogr: profile %u names another "
                                         "group or version than profile "
                                         "0's group",
                                         index);
            }
            info->group_profiles++;
        } else if (c->tag == PHX_TAG_FT_PRIMARY) {
            bool prim = false;
            phx_error_t cerr;
            if (phx_ft_primary_decode(c, &prim, &cerr) != PHX_OK)
                return phx_error_set(err, PHX_EMARSHAL,
                                     "iogr: profile %u: %s", index,
                                     cerr.msg);
            if (prim) {
                if (info->primary >= 0 && info->primary != (int)index)
                    return phx_error_set(err, PHX_EINVAL,
                                         "iogr: profiles %d and %u both "
                                         "claim to be the primary",
                                         info->primary, index);
                info->primary = (int)index;
            }
        }
    }
    return PHX_OK;
}

int phx_ft_iogr_parse(const phx_ior_t *ior, phx_ft_iogr_info_t *info,
                      phx_error_t *err)
{
    if (info == NULL)
        return phx_error_set(err, PHX_EINVAL, "iogr_parse: NULL argument");
    memset(info, 0, sizeof *info);
    info->primary = -1;
    if (ior == NULL)
        return phx_error_set(err, PHX_EINVAL, "iogr_parse: NULL argument");
    info->profile_count = ior->profile_count;
    if (ior->profile_count > INT32_MAX)
        return phx_error_set(err, PHX_ELIMIT, "iogr: too many profiles");
    for (uint32_t i = 0; i < ior->profile_count; i++) {
        phx_profile_t p;
        if (phx_profile_decode(&ior->profiles[i], &p, NULL) != PHX_OK)
            continue; /* not a kind with components */
        int rc = parse_profile(&p, i, info, err);
        phx_profile_fini(&p);
        if (rc != PHX_OK) {
            phx_ft_iogr_info_fini(info);
            info->profile_count = ior->profile_count;
            return rc;
        }
    }
    if (info->group_profiles == 0) {
        int prof = (int)info->profile_count;
        phx_ft_iogr_info_fini(info);
        info->profile_count = (uint32_t)prof;
        return phx_error_set(err, PHX_ENOTFOUND,
                             "not an object group reference: no profile "
                             "has TAG_FT_GROUP");
    }
    phx_error_clear(err);
    return PHX_OK;
}
