/*
 * iiop_transport.h - the IIOP transport: GIOP 1.2 over TCP (and Unix
 * domain sockets), with the calling thread doing its own socket I/O
 * (private to the ORB).
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

/* GIOP over a Unix domain socket: "iiop+unix://HOST/ABSOLUTE/PATH"; HOST
 * may be empty ("iiop+unix:///tmp/s") and means this host.  A listener
 * reports (and references publish) the endpoint with this host's name. */
#define PHX_IIOP_UNIX_SCHEME "iiop+unix://"

/* Split an iiop+unix endpoint into host ("" when absent) and path (from
 * its leading '/'), both malloc'd.  0, PHX_EINVAL or PHX_ENOMEM. */
int phx__iiop_parse_unix(const char *endpoint, char **host, char **path);

#endif
