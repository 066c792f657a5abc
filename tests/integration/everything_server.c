/*
 * everything_server.c - serves one Test::Everything object (idl/
 * everything.idl) for tests/integration/test_everything.c.
 *
 *   everything-server [--workers N] [--listen ENDPOINT]...
 *
 * Serves on tcp://127.0.0.1:* (ZeroMQ) unless --listen options name the
 * endpoints ("iiop://127.0.0.1:*" for IIOP, as tests/interop does; give
 * several for a reference with several profiles).
 * Prints the object's IOR on the first line of stdout once it serves,
 * then serves until SIGINT/SIGTERM or the oneway Everything::shutdown.
 *
 * Every "T op_x(in T a, out T b, inout T c)" returns a copy of a, moves
 * the c that came in to b, and sets c to a copy of a; the other
 * operations are described where they are implemented.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <phx/phx.h>

#include "idl/everything.h"

static phx_orb_t *the_orb;
static atomic_uint calls;
static atomic_uint notes;

/* State behind the attributes. */
static Test_Color left_color = Test_red;
static Test_Point origin = {0, 0};
static int32_t guarded = 1;

#define UNUSED(x) (void)(x)

/* Scalars (and TypeCodes, which travel as pointers). */
#define SCALAR_OP(name, T)                                                  \
    static int i_##name(void *self, T a, T *b, T *c, T *ret,               \
                        phx_env_t *env)                                     \
    {                                                                       \
        UNUSED(self);                                                       \
        UNUSED(env);                                                        \
        atomic_fetch_add(&calls, 1);                                        \
        *ret = a;                                                           \
        *b = *c;                                                            \
        *c = a;                                                             \
        return PHX_OK;                                                      \
    }

/* Everything passed by pointer: structs, unions, sequences, arrays, any.
 * The incoming c is moved to b, then c and the result get deep copies. */
#define REF_OP(name, T, TC)                                                 \
    static int i_##name(void *self, const T *a, T *b, T *c, T *ret,        \
                        phx_env_t *env)                                     \
    {                                                                       \
        UNUSED(self);                                                       \
        atomic_fetch_add(&calls, 1);                                        \
        memcpy(b, c, sizeof *b);                                            \
        memset(c, 0, sizeof *c);                                            \
        if (phx_value_copy(&TC, ret, a) != PHX_OK ||                        \
            phx_value_copy(&TC, c, a) != PHX_OK)                            \
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,              \
                                  PHX_COMPLETED_MAYBE, NULL);               \
        return PHX_OK;                                                      \
    }

SCALAR_OP(op_short, int16_t)
SCALAR_OP(op_ushort, uint16_t)
SCALAR_OP(op_long, int32_t)
SCALAR_OP(op_ulong, uint32_t)
SCALAR_OP(op_longlong, int64_t)
SCALAR_OP(op_ulonglong, uint64_t)
SCALAR_OP(op_float, float)
SCALAR_OP(op_double, double)
SCALAR_OP(op_boolean, bool)
SCALAR_OP(op_char, char)
SCALAR_OP(op_octet, uint8_t)
SCALAR_OP(op_enum, Test_Color)

REF_OP(op_longs, Test_Longs, TC_Test_Longs)
REF_OP(op_strings4, Test_Strings4, TC_Test_Strings4)
REF_OP(op_longsseq, Test_LongsSeq, TC_Test_LongsSeq)
REF_OP(op_colors, Test_Colors, TC_Test_Colors)
REF_OP(op_points, Test_Points, TC_Test_Points)
REF_OP(op_matrix, Test_Matrix, TC_Test_Matrix)
REF_OP(op_matrix2, Test_MatrixAlias2, TC_Test_MatrixAlias2)
REF_OP(op_names, Test_Names, TC_Test_Names)
REF_OP(op_grid, Test_PointGrid, TC_Test_PointGrid)
REF_OP(op_prims, Test_AllPrims, TC_Test_AllPrims)
REF_OP(op_point, Test_Point, TC_Test_Point)
REF_OP(op_nested, Test_Nested, TC_Test_Nested)
REF_OP(op_node, Test_Node, TC_Test_Node)
REF_OP(op_bylong, Test_ByLong, TC_Test_ByLong)
REF_OP(op_byshort, Test_ByShort, TC_Test_ByShort)
REF_OP(op_byull, Test_ByULongLong, TC_Test_ByULongLong)
REF_OP(op_bychar, Test_ByChar, TC_Test_ByChar)
REF_OP(op_bybool, Test_ByBool, TC_Test_ByBool)
REF_OP(op_byenum, Test_ByEnumAlias, TC_Test_ByEnumAlias)
REF_OP(op_any, phx_any_t, phx_tc_any)

/* Strings: in is a const char *, the others are owned char *. */
static int str_op(const char *a, char **b, char **c, char **ret,
                  phx_env_t *env)
{
    atomic_fetch_add(&calls, 1);
    *b = *c;
    *c = strdup(a);
    *ret = strdup(a);
    if (*c == NULL || *ret == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, NULL);
    return PHX_OK;
}

static int i_op_string(void *self, const char *a, char **b, char **c,
                       char **ret, phx_env_t *env)
{
    UNUSED(self);
    return str_op(a, b, c, ret, env);
}

static int i_op_name(void *self, const char *a, Test_Name *b, Test_Name *c,
                     Test_Name *ret, phx_env_t *env)
{
    UNUSED(self);
    return str_op(a, b, c, ret, env);
}

static int i_op_typecode(void *self, const phx_typecode_t *a,
                         const phx_typecode_t **b, const phx_typecode_t **c,
                         const phx_typecode_t **ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    atomic_fetch_add(&calls, 1);
    *b = *c;
    *c = phx_typecode_ref(a);
    *ret = phx_typecode_ref(a);
    return PHX_OK;
}

/* References: each copy holds its own count. */
static int ref_op(phx_object_t *a, phx_object_t **b, phx_object_t **c,
                  phx_object_t **ret)
{
    atomic_fetch_add(&calls, 1);
    *b = *c;
    *c = phx_object_ref(a);
    *ret = phx_object_ref(a);
    return PHX_OK;
}

static int i_op_objref(void *self, Test_Base a, Test_Base *b, Test_Base *c,
                       Test_Base *ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    return ref_op(a, b, c, ret);
}

static int i_op_object(void *self, phx_object_t *a, phx_object_t **b,
                       phx_object_t **c, phx_object_t **ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    return ref_op(a, b, c, ret);
}

/* s = "<o>/<d>", pts reversed with {o, o} appended, col = o % 3. */
static int i_mixed(void *self, char **s, uint8_t o, Test_Points *pts,
                   double d, Test_Color *col, phx_env_t *env)
{
    char buf[64];
    Test_Point *v;
    uint32_t n = pts->_length;

    UNUSED(self);
    atomic_fetch_add(&calls, 1);
    snprintf(buf, sizeof buf, "%u/%g", o, d);
    v = calloc((size_t)n + 1, sizeof *v);
    if (v == NULL || (*s = strdup(buf)) == NULL) {
        free(v);
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, NULL);
    }
    for (uint32_t i = 0; i < n; i++)
        v[i] = pts->_buffer[n - 1 - i];
    v[n].x = v[n].y = o;
    Test_Points__free(pts);
    pts->_buffer = v;
    pts->_length = pts->_maximum = n + 1;
    pts->_release = true;
    *col = (Test_Color)(o % 3);
    return PHX_OK;
}

/* Oops {code, "oops <code>", [{code, -code}]}, or Empty when code is 0. */
static int i_fail(void *self, int32_t code, phx_env_t *env)
{
    char why[32];
    Test_Point where = {code, -code};
    Test_Oops ex = {.code = code,
                    .why = why,
                    .where = {1, 1, &where, false}};

    UNUSED(self);
    atomic_fetch_add(&calls, 1);
    if (code == 0)
        return Test_Empty__raise(env, NULL);
    snprintf(why, sizeof why, "oops %d", code);
    return Test_Oops__raise(env, &ex);
}

/* ---- inherited operations and attributes ---- */

static int i_get_calls(void *self, int32_t *ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    *ret = (int32_t)atomic_fetch_add(&calls, 1) + 1;
    return PHX_OK;
}

/* x + 1 */
static int i_base_op(void *self, int32_t x, int32_t *ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    atomic_fetch_add(&calls, 1);
    *ret = x + 1;
    return PHX_OK;
}

static int i_get_left_color(void *self, Test_Color *ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    *ret = left_color;
    return PHX_OK;
}

static int i_set_left_color(void *self, Test_Color value, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    left_color = value;
    return PHX_OK;
}

/* "left:" + s */
static int i_left_op(void *self, const char *s, char **ret, phx_env_t *env)
{
    size_t n = strlen(s);

    UNUSED(self);
    atomic_fetch_add(&calls, 1);
    *ret = malloc(n + 6);
    if (*ret == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, NULL);
    memcpy(*ret, "left:", 5);
    memcpy(*ret + 5, s, n + 1);
    return PHX_OK;
}

/* {p.y, p.x} */
static int i_right_op(void *self, const Test_Point *p, Test_Point *ret,
                      phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    atomic_fetch_add(&calls, 1);
    ret->x = p->y;
    ret->y = p->x;
    return PHX_OK;
}

static int i_get_origin(void *self, Test_Point *ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    *ret = origin;
    return PHX_OK;
}

static int i_set_origin(void *self, const Test_Point *value, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    origin = *value;
    return PHX_OK;
}

static int i_get_motto(void *self, char **ret, phx_env_t *env)
{
    UNUSED(self);
    *ret = strdup("every type, every way");
    if (*ret == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, NULL);
    return PHX_OK;
}

/* Reading a negative value raises Oops; writing 0 raises Empty. */
static int i_get_guarded(void *self, int32_t *ret, phx_env_t *env)
{
    UNUSED(self);
    if (guarded < 0) {
        Test_Oops ex = {.code = guarded, .why = "negative"};
        return Test_Oops__raise(env, &ex);
    }
    *ret = guarded;
    return PHX_OK;
}

static int i_set_guarded(void *self, int32_t value, phx_env_t *env)
{
    UNUSED(self);
    if (value == 0)
        return Test_Empty__raise(env, NULL);
    guarded = value;
    return PHX_OK;
}

static int i_note(void *self, const char *text, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(text);
    UNUSED(env);
    atomic_fetch_add(&notes, 1);
    return PHX_OK;
}

static int i_notes(void *self, uint32_t *ret, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    *ret = atomic_load(&notes);
    return PHX_OK;
}

static int i_shutdown(void *self, phx_env_t *env)
{
    UNUSED(self);
    UNUSED(env);
    phx_orb_shutdown(the_orb);
    return PHX_OK;
}

static const Test_Everything__epv epv = {
    ._get_calls = i_get_calls,
    .base_op = i_base_op,
    ._get_left_color = i_get_left_color,
    ._set_left_color = i_set_left_color,
    .left_op = i_left_op,
    .right_op = i_right_op,
    .op_short = i_op_short,
    .op_ushort = i_op_ushort,
    .op_long = i_op_long,
    .op_ulong = i_op_ulong,
    .op_longlong = i_op_longlong,
    .op_ulonglong = i_op_ulonglong,
    .op_float = i_op_float,
    .op_double = i_op_double,
    .op_boolean = i_op_boolean,
    .op_char = i_op_char,
    .op_octet = i_op_octet,
    .op_enum = i_op_enum,
    .op_string = i_op_string,
    .op_name = i_op_name,
    .op_longs = i_op_longs,
    .op_strings4 = i_op_strings4,
    .op_longsseq = i_op_longsseq,
    .op_colors = i_op_colors,
    .op_points = i_op_points,
    .op_matrix = i_op_matrix,
    .op_matrix2 = i_op_matrix2,
    .op_names = i_op_names,
    .op_grid = i_op_grid,
    .op_prims = i_op_prims,
    .op_point = i_op_point,
    .op_nested = i_op_nested,
    .op_node = i_op_node,
    .op_bylong = i_op_bylong,
    .op_byshort = i_op_byshort,
    .op_byull = i_op_byull,
    .op_bychar = i_op_bychar,
    .op_bybool = i_op_bybool,
    .op_byenum = i_op_byenum,
    .op_any = i_op_any,
    .op_typecode = i_op_typecode,
    .op_objref = i_op_objref,
    .op_object = i_op_object,
    .mixed = i_mixed,
    .fail = i_fail,
    ._get_origin = i_get_origin,
    ._set_origin = i_set_origin,
    ._get_motto = i_get_motto,
    ._get_guarded = i_get_guarded,
    ._set_guarded = i_set_guarded,
    .note = i_note,
    .notes = i_notes,
    .shutdown = i_shutdown,
};

static void on_signal(int sig)
{
    UNUSED(sig);
    if (the_orb)
        phx_orb_shutdown(the_orb);
}

int main(int argc, char **argv)
{
    const char *listen[8] = {"tcp://127.0.0.1:*"};
    size_t nlisten = 0;
    Test_Everything__servant servant;
    phx_orb_config_t cfg;
    phx_object_t *ref;
    phx_error_t err;
    struct sigaction sa;
    char *ior;
    int rc;

    phx_orb_config_init(&cfg);
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 < argc && strcmp(argv[i], "--workers") == 0) {
            cfg.workers = (unsigned)atoi(argv[i + 1]);
        } else if (i + 1 < argc && strcmp(argv[i], "--listen") == 0 &&
                   nlisten < sizeof listen / sizeof listen[0]) {
            listen[nlisten++] = argv[i + 1];
        } else {
            fprintf(stderr, "usage: everything-server [--workers N] "
                            "[--listen ENDPOINT]...\n");
            return 2;
        }
    }
    cfg.listen = listen;
    cfg.listen_count = nlisten ? nlisten : 1;
    if (phx_orb_create(&cfg, &the_orb, &err) != PHX_OK) {
        fprintf(stderr, "everything-server: %s\n", err.msg);
        return 1;
    }
    Test_Everything__servant_init(&servant, &epv, NULL);
    if (phx_orb_activate(the_orb, &servant.base, "everything", 10, &ref,
                         &err) != PHX_OK ||
        phx_object_to_string(ref, &ior) != PHX_OK) {
        fprintf(stderr, "everything-server: cannot activate: %s\n",
                err.msg);
        phx_orb_destroy(the_orb);
        return 1;
    }
    phx_object_release(ref);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("%s\n", ior);
    fflush(stdout);
    free(ior);

    rc = phx_orb_run(the_orb);
    phx_orb_destroy(the_orb);
    return rc == PHX_OK ? 0 : 1;
}
