/*
 * test_rpc_gen.c - links the C that phx-idl generated from the valid ONC
 * RPC corpus (tests/idl/rpc/valid/{ping,dir,types}.x) and checks it: the
 * (program, version, procedure) tables, and values of union and optional
 * types (the dir.x linked list) marshalled through the generated
 * TypeCodes and read back.  Built and run by tests/idl/run_rpc.sh.
 */
#include <stdio.h>
#include <string.h>

#include "ping.h"
#include "dir.h"
#include "types.h"

#include <phx/cdr.h>

static int failures;

#define CHECK(c)                                                             \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,           \
                    __LINE__, #c);                                           \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* Marshal v as tc, read it back into out, and compare. */
static void round_trip(const phx_typecode_t *tc, const void *v, void *out)
{
    phx_cdr_writer_t w;
    phx_cdr_reader_t r;

    phx_cdr_writer_init(&w, 0);
    CHECK(phx_cdr_put_value(&w, tc, v) == 0);
    phx_cdr_reader_init(&r, phx_cdr_writer_data(&w), phx_cdr_writer_len(&w),
                        PHX_CDR_NATIVE);
    CHECK(phx_cdr_get_value(&r, tc, out) == 0);
    CHECK(phx_cdr_reader_remaining(&r) == 0);
    CHECK(phx_value_equal(tc, v, out));
    phx_value_free(tc, out);
    phx_cdr_writer_fini(&w);
}

/* The procedure number table of one version. */
static void check_procs(const phx_rpc_proc_t *procs, size_t n,
                        const uint32_t *nums, const char *const *names)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(procs[i].proc == nums[i]);
        CHECK(procs[i].op != NULL && strcmp(procs[i].op->name, names[i]) == 0);
    }
}

static void test_tables(void)
{
    static const uint32_t pb_nums[] = { 0, 1 };
    static const char *const pb_names[] = { "PINGPROC_NULL",
                                            "PINGPROC_PINGBACK" };
    static const uint32_t t1_nums[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 16 };
    static const char *const t1_names[] = {
        "NOTHING", "ECHO_SCALARS", "ECHO_NODE", "ECHO_BY_INT",
        "ECHO_BY_BOOL", "ADD", "GREET", "SUM3", "PICK", "SET" };

    CHECK(PING_PROG_PING_VERS_PINGBACK__rpc_prog == 1u);
    CHECK(PING_PROG_PING_VERS_PINGBACK__rpc_vers == 2u);
    CHECK(PING_PROG_PING_VERS_PINGBACK__rpc_proc_count == 2);
    check_procs(PING_PROG_PING_VERS_PINGBACK__rpc_procs, 2, pb_nums,
                pb_names);
    CHECK(PING_PROG_PING_VERS_PINGBACK__rpc_procs[1].op ==
          &PING_PROG_PING_VERS_PINGBACK__op_PINGPROC_PINGBACK);
    CHECK(PING_PROG_PING_VERS_ORIG__rpc_vers == 1u);
    CHECK(PING_PROG_PING_VERS_ORIG__rpc_proc_count == 1);
    CHECK(PING_PROG_PING_VERS_ORIG__rpc_procs[0].proc == 0);
    CHECK(PING_VERS == 2);

    CHECK(DIRPROG_DIRVERS__rpc_prog == 0x20000076u);
    CHECK(DIRPROG_DIRVERS__rpc_vers == 1u);
    CHECK(DIRPROG_DIRVERS__rpc_proc_count == 1);
    CHECK(DIRPROG_DIRVERS__rpc_procs[0].proc == 1);
    CHECK(DIRPROG_DIRVERS__rpc_procs[0].op->param_count == 1);

    CHECK(TYPES_PROG_TYPES_V1__rpc_prog == 0x20000100u);
    CHECK(TYPES_PROG_TYPES_V1__rpc_proc_count == 10);
    check_procs(TYPES_PROG_TYPES_V1__rpc_procs, 10, t1_nums, t1_names);
    CHECK(TYPES_PROG_TYPES_V1__op_SUM3.param_count == 3);
    CHECK(TYPES_PROG_TYPES_V1__op_NOTHING.param_count == 0);
    CHECK(TYPES_PROG_TYPES_V2__rpc_vers == 2u);
    CHECK(TYPES_PROG_TYPES_V2__rpc_procs[3].proc == 3);
    CHECK(OTHER_PROG_OTHER_V1__rpc_prog == 536871170u);
}

static void test_values(void)
{
    namenode second = { .name = "second" };
    namenode first = { .name = "first" };
    readdir_res res, out;
    by_int bi, bi_out;
    by_bool bb, bb_out;
    optcolor oc, oc_out;
    color red = RED;

    /* A two-entry list through optional data (sequence<namenode, 1>). */
    first.next._length = first.next._maximum = 1;
    first.next._buffer = &second;
    memset(&res, 0, sizeof res);
    res._d = 0;
    res._u.list._length = res._u.list._maximum = 1;
    res._u.list._buffer = &first;
    round_trip(&TC_readdir_res, &res, &out);
    /* The void default arm: the discriminant alone. */
    memset(&res, 0, sizeof res);
    res._d = 13;
    round_trip(&TC_readdir_res, &res, &out);

    memset(&bi, 0, sizeof bi);
    bi._d = NEGATIVE;
    bi._u.big = -1234567890123LL;
    round_trip(&TC_by_int, &bi, &bi_out);
    bi._d = 2;
    bi._u.small = 77;
    round_trip(&TC_by_int, &bi, &bi_out);

    memset(&bb, 0, sizeof bb);
    bb._d = true;
    bb._u.value.s = EIO;
    bb._u.value.uh = UINT64_MAX;
    round_trip(&TC_by_bool, &bb, &bb_out);

    memset(&oc, 0, sizeof oc);
    round_trip(&TC_optcolor, &oc, &oc_out);         /* absent */
    oc._length = oc._maximum = 1;
    oc._buffer = &red;
    round_trip(&TC_optcolor, &oc, &oc_out);         /* present */
}

int main(void)
{
    test_tables();
    test_values();
    if (failures != 0) {
        fprintf(stderr, "test_rpc_gen: %d check(s) failed\n", failures);
        return 1;
    }
    puts("test_rpc_gen: ok");
    return 0;
}
