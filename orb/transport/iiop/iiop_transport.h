/*
 * iiop_transport.h - the IIOP transport: GIOP 1.2 over TCP, with the
 * calling thread doing its own socket I/O (private to the ORB).
 */
#ifndef PHX_IIOP_TRANSPORT_H
#define PHX_IIOP_TRANSPORT_H

#include <stdint.h>

#include <phx/transport.h>

extern const phx_transport_ops_t phx__iiop_transport;

/* Split "iiop://HOST:PORT" (HOST may be "[v6addr]"; PORT may be "*") into
 * host (unbracketed, malloc'd) and port (0 for "*").  0 or PHX_EINVAL. */
int phx__iiop_parse_endpoint(const char *endpoint, char **host,
                             uint16_t *port);

#endif
