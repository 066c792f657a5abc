/*
 * phx.h - everything a Phalanx application includes.
 */
#ifndef PHX_PHX_H
#define PHX_PHX_H

#include <phx/error.h>
#include <phx/log.h>
#include <phx/cdr.h>
#include <phx/typecode.h>
#include <phx/giop.h>
#include <phx/ior.h>
#include <phx/except.h>
#include <phx/transport.h>
#include <phx/orb.h>
#include <phx/interceptor.h>

#endif /* PHX_PHX_H */
