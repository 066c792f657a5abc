/*
 * fuzz_rpc.c - libFuzzer target for the ONC RPC gateway's decoders: the
 * input is a TCP byte stream as phx-rpcgw receives it.  It is cut into
 * records by the record-marking reassembler (in chunks whose sizes come
 * from the input itself, with a small maximum record size), each record
 * decoded as a call (credentials, verifier), and its arguments decoded
 * with XDR as every type of tests/rpc/rpctest.x.  Whatever decodes is
 * encoded again and decoded again: the two values must be equal (abort
 * otherwise).  Everything allocated is freed.
 *
 * Built by "make fuzz-rpc" (clang, -fsanitize=fuzzer) and, linked to
 * tests/fuzz/replay.c, by "make check" to replay tests/fuzz/corpus/rpc.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <phx/xdr.h>

#include "orb/rpc/rpcmsg.h"
#include "tests/rpc/gen/rpctest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const phx_typecode_t *const types[] = {
    &TC_everything, &TC_result, &TC_byflag, &TC_name, &TC_blob,
    &TC_fixed8, &TC_inner, &TC_color, &phx_tc_long, &phx_tc_double,
};

static void try_value(const phx_typecode_t *tc, const uint8_t *p, size_t n)
{
    uint8_t store[1024];
    size_t sz = phx_typecode_c_size(tc);
    phx_xdr_reader_t r;
    if (sz > sizeof store)
        abort();
    phx_xdr_reader_init(&r, p, n);
    r.max_len = 4096;
    if (phx_xdr_get_value(&r, tc, store) != 0)
        return;
    phx_xdr_writer_t w;
    phx_xdr_writer_init(&w);
    if (phx_xdr_put_value(&w, tc, store) != 0)
        abort();
    /* the encoding is canonical: the same bytes as were consumed */
    if (w.len != r.pos || memcmp(w.buf, p, w.len) != 0)
        abort();
    uint8_t again[1024];
    phx_xdr_reader_t r2;
    phx_xdr_reader_init(&r2, w.buf, w.len);
    if (phx_xdr_get_value(&r2, tc, again) != 0 ||
        !phx_value_equal(tc, store, again))
        abort();
    phx_value_free(tc, again);
    phx_value_free(tc, store);
    phx_xdr_writer_fini(&w);
}

static void try_record(const uint8_t *rec, size_t n)
{
    phx_rpc_call_t call;
    uint32_t auth;
    phx_rpc_reply_t rep;
    phx_rpc_decode_reply(rec, n, &rep);
    if (phx_rpc_decode_call(rec, n, &call, &auth) == PHX_RPC_CALL_OK) {
        const phx_typecode_t *tc =
            types[call.proc % (sizeof types / sizeof types[0])];
        try_value(tc, call.args, call.args_len);
    }
    /* the whole record as every type, too */
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        try_value(types[i], rec, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    phx_rpc_recbuf_t rb;
    size_t off = 0;
    unsigned chunk = size ? (data[0] % 7) + 1 : 1;

    phx_rpc_recbuf_init(&rb, 2048);
    while (off < size) {
        size_t k = size - off < chunk ? size - off : chunk;
        size_t used;
        int rc = phx_rpc_recbuf_feed(&rb, data + off, k, &used);
        if (used > k)
            abort();
        off += used;
        if (rc < 0)
            break;
        if (rc == 1) {
            if (rb.rec_len > 2048)
                abort();
            try_record(rb.rec, rb.rec_len);
            phx_rpc_recbuf_reset(&rb);
        } else if (used == 0) {
            abort();  /* no progress without a record */
        }
        chunk = chunk * 3 % 11 + 1;
    }
    phx_rpc_recbuf_fini(&rb);
    return 0;
}
