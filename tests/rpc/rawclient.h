/*
 * rawclient.h - a raw ONC RPC client over TCP for the gateway tests: it
 * writes records byte for byte as the tests want them.
 */
#ifndef TESTS_RPC_RAWCLIENT_H
#define TESTS_RPC_RAWCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "orb/rpc/rpcmsg.h"

int raw_connect(uint16_t port);
int raw_send(int fd, const void *p, size_t n);
/* Send body as one record split in nfrag fragments. */
int raw_send_record(int fd, const void *body, size_t n, int nfrag);
/* Read one record (timeout_ms): 0 and *body (malloc'd), -1 on a timeout
 * or an error, -2 when the peer closed. */
int raw_recv_record(int fd, uint8_t **body, size_t *n, int timeout_ms);
/* Encode a call (AUTH_NONE) into *msg (malloc'd). */
int raw_make_call(uint32_t xid, uint32_t prog, uint32_t vers, uint32_t proc,
                  const void *args, size_t args_len, uint8_t **msg,
                  size_t *len);
/* Call and decode the reply; *buf holds it (free it after using
 * rep->results). */
int raw_call(int fd, uint32_t prog, uint32_t vers, uint32_t proc,
             const void *args, size_t args_len, phx_rpc_reply_t *rep,
             uint8_t **buf);

#endif
