/*
 * object.c - object references: an IOR decoded once into the list of
 * profiles this ORB can reach (a "binding"), shared by the reference and
 * the requests made on it, and replaced as a whole on a permanent forward.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/log.h>

#include "orb_impl.h"

#define MOD "object"

phx__binding_t *phx__binding_ref(phx__binding_t *b)
{
    if (b)
        atomic_fetch_add(&b->refs, 1);
    return b;
}

void phx__binding_unref(phx__binding_t *b)
{
    if (b == NULL || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    for (size_t i = 0; i < b->target_count; i++) {
        free(b->targets[i].endpoint);
        free(b->targets[i].key);
    }
    free(b->targets);
    phx_ior_fini(&b->ior);
    free(b);
}

int phx__binding_from_ior(phx_orb_t *orb, const phx_ior_t *ior,
                          phx__binding_t **out, phx_error_t *err)
{
    phx__binding_t *b = calloc(1, sizeof *b);
    if (b == NULL)
        return phx_error_set(err, PHX_ENOMEM, "out of memory");
    atomic_init(&b->refs, 1);
    int rc = phx_ior_copy(&b->ior, ior);
    if (rc != PHX_OK) {
        free(b);
        return phx_error_set(err, rc, "cannot copy IOR");
    }
    if (ior->profile_count) {
        b->targets = calloc(ior->profile_count, sizeof *b->targets);
        if (b->targets == NULL) {
            phx__binding_unref(b);
            return phx_error_set(err, PHX_ENOMEM, "out of memory");
        }
    }
    for (uint32_t i = 0; i < ior->profile_count; i++) {
        const phx_tagged_profile_t *tp = &ior->profiles[i];
        phx_profile_t p;
        phx_error_t perr;
        if (phx_profile_decode(tp, &p, &perr) != PHX_OK) {
            PHX_DEBUG(MOD, "skipping profile %u: %s", i, perr.msg);
            continue;
        }
        phx__target_t *t = &b->targets[b->target_count];
        char iiop_ep[300];
        const char *ep = p.tag == PHX_TAG_ZMQ_IOP ? p.endpoint : NULL;
        if (p.tag == PHX_TAG_INTERNET_IOP && p.host && p.host[0] &&
            strlen(p.host) < sizeof iiop_ep - 20) {
            /* IPv6 addresses are bracketed in the endpoint. */
            snprintf(iiop_ep, sizeof iiop_ep,
                     strchr(p.host, ':') ? "iiop://[%s]:%u" : "iiop://%s:%u",
                     p.host, (unsigned)p.port);
            ep = iiop_ep;
        }
        phx__transport_t *tpt = ep ? phx__orb_transport_for(orb, ep) : NULL;
        if (tpt == NULL) {
            PHX_DEBUG(MOD, "profile %u (tag 0x%x) has no transport here", i,
                      p.tag);
            phx_profile_fini(&p);
            continue;
        }
        t->profile_index = (int)i;
        t->tp = tpt;
        t->endpoint = strdup(ep);
        t->key_len = p.key_len;
        t->key = malloc(p.key_len ? p.key_len : 1);
        if (t->endpoint == NULL || t->key == NULL) {
            free(t->endpoint);
            free(t->key);
            phx_profile_fini(&p);
            phx__binding_unref(b);
            return phx_error_set(err, PHX_ENOMEM, "out of memory");
        }
        memcpy(t->key, p.key, p.key_len);
        b->target_count++;
        phx_profile_fini(&p);
    }
    *out = b;
    return PHX_OK;
}

int phx__object_from_binding(phx_orb_t *orb, phx__binding_t *b,
                             phx_object_t **out)
{
    phx_object_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        return PHX_ENOMEM;
    o->type_id = strdup(b->ior.type_id ? b->ior.type_id : "");
    if (o->type_id == NULL) {
        free(o);
        return PHX_ENOMEM;
    }
    atomic_init(&o->refs, 1);
    o->orb = orb;
    pthread_mutex_init(&o->lock, NULL);
    o->binding = phx__binding_ref(b);
    *out = o;
    return PHX_OK;
}

int phx_object_from_ior(phx_orb_t *orb, const phx_ior_t *ior,
                        phx_object_t **out, phx_error_t *err)
{
    if (orb == NULL || ior == NULL || out == NULL)
        return phx_error_set(err, PHX_EINVAL, "object_from_ior: NULL argument");
    phx__binding_t *b;
    int rc = phx__binding_from_ior(orb, ior, &b, err);
    if (rc != PHX_OK)
        return rc;
    rc = phx__object_from_binding(orb, b, out);
    phx__binding_unref(b);
    if (rc != PHX_OK)
        return phx_error_set(err, rc, "out of memory");
    return PHX_OK;
}

int phx_object_from_string(phx_orb_t *orb, const char *s, phx_object_t **out,
                           phx_error_t *err)
{
    if (s == NULL)
        return phx_error_set(err, PHX_EINVAL, "object reference string is NULL");
    phx_ior_t ior;
    int rc = phx_ior_from_string(s, &ior, err);
    if (rc != PHX_OK)
        return rc;
    rc = phx_object_from_ior(orb, &ior, out, err);
    phx_ior_fini(&ior);
    return rc;
}

phx__binding_t *phx__object_binding(phx_object_t *obj, size_t *preferred)
{
    pthread_mutex_lock(&obj->lock);
    phx__binding_t *b = phx__binding_ref(obj->binding);
    if (preferred)
        *preferred = obj->preferred;
    pthread_mutex_unlock(&obj->lock);
    return b;
}

void phx__object_set_preferred(phx_object_t *obj, phx__binding_t *b,
                               size_t idx)
{
    pthread_mutex_lock(&obj->lock);
    if (obj->binding == b)
        obj->preferred = idx;
    pthread_mutex_unlock(&obj->lock);
}

void phx__object_replace(phx_object_t *obj, phx_object_t *with)
{
    if (obj == with)
        return;
    phx__binding_t *nb = phx__object_binding(with, NULL);
    pthread_mutex_lock(&obj->lock);
    phx__binding_t *old = obj->binding;
    obj->binding = nb;
    obj->preferred = 0;
    pthread_mutex_unlock(&obj->lock);
    phx__binding_unref(old);
}

int phx_object_to_string(phx_object_t *obj, char **out)
{
    phx__binding_t *b = phx__object_binding(obj, NULL);
    int rc = phx_ior_to_string(&b->ior, out);
    phx__binding_unref(b);
    return rc;
}

int phx_object_get_ior(phx_object_t *obj, phx_ior_t *copy)
{
    phx__binding_t *b = phx__object_binding(obj, NULL);
    int rc = phx_ior_copy(copy, &b->ior);
    phx__binding_unref(b);
    return rc;
}

const char *phx_object_type_id(phx_object_t *obj)
{
    /* The type id the reference was made with: it stays valid (and the
     * same) when a permanent forward replaces the binding. */
    return obj->type_id;
}

phx_orb_t *phx_object_orb(phx_object_t *obj)
{
    return obj->orb;
}

phx_object_t *phx_object_ref(phx_object_t *obj)
{
    if (obj)
        atomic_fetch_add(&obj->refs, 1);
    return obj;
}

void phx_object_release(phx_object_t *obj)
{
    if (obj == NULL || atomic_fetch_sub(&obj->refs, 1) != 1)
        return;
    phx__binding_unref(obj->binding);
    pthread_mutex_destroy(&obj->lock);
    free(obj->type_id);
    free(obj);
}
