/*
 * interceptor.c - registration of client and server request interceptors,
 * and the service context lists they add to.  The points themselves run
 * in invoke.c (client) and server.c (server).
 */
#include <stdlib.h>
#include <string.h>

#include "orb_impl.h"

int phx_orb_add_client_interceptor(phx_orb_t *orb,
                                   const phx_client_interceptor_t *ci)
{
    if (orb == NULL || ci == NULL)
        return PHX_EINVAL;
    const phx_client_interceptor_t **n =
        realloc(orb->cis, (orb->ci_count + 1) * sizeof *n);
    if (n == NULL)
        return PHX_ENOMEM;
    n[orb->ci_count++] = ci;
    orb->cis = n;
    return PHX_OK;
}

int phx_orb_add_server_interceptor(phx_orb_t *orb,
                                   const phx_server_interceptor_t *si)
{
    if (orb == NULL || si == NULL)
        return PHX_EINVAL;
    const phx_server_interceptor_t **n =
        realloc(orb->sis, (orb->si_count + 1) * sizeof *n);
    if (n == NULL)
        return PHX_ENOMEM;
    n[orb->si_count++] = si;
    orb->sis = n;
    return PHX_OK;
}

int phx__sc_vec_set(phx__sc_vec_t *v, uint32_t id, const void *data,
                    size_t len, bool replace)
{
    if (len > UINT32_MAX)
        return PHX_ELIMIT;
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return PHX_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    if (replace) {
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i].id == id) {
                free((void *)v->items[i].data);
                v->items[i].data = copy;
                v->items[i].len = (uint32_t)len;
                return PHX_OK;
            }
        }
    }
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 4;
        phx_service_context_t *ni = realloc(v->items, nc * sizeof *ni);
        if (ni == NULL) {
            free(copy);
            return PHX_ENOMEM;
        }
        v->items = ni;
        v->cap = nc;
    }
    v->items[v->n++] =
        (phx_service_context_t){.id = id, .data = copy, .len = (uint32_t)len};
    return PHX_OK;
}

const phx_service_context_t *phx__sc_vec_find(const phx__sc_vec_t *v,
                                              uint32_t id)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i].id == id)
            return &v->items[i];
    return NULL;
}

void phx__sc_vec_free(phx__sc_vec_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free((void *)v->items[i].data);
    free(v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}
