/*
 * interceptor.c - registration of client and server request interceptors.
 * The points themselves run in invoke.c (client) and server.c (server).
 */
#include <stdlib.h>

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
