/*
 * zmq_transport.h - the built-in ZeroMQ transport (private to the ORB).
 */
#ifndef PHX_ZMQ_TRANSPORT_H
#define PHX_ZMQ_TRANSPORT_H

#include <phx/transport.h>

extern const phx_transport_ops_t phx__zmq_transport;

#endif
