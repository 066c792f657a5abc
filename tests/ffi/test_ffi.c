/*
 * test_ffi.c - the libffi bridge (include/phx/ffi.h).
 *
 * A "legacy library" of plain C functions (no _self, no _env, results by
 * value) is exposed as the ffitest::Calc object through phx_ffi_servant_t
 * on an ORB listening on tcp://127.0.0.1:*, and called with the stubs
 * phx-idl generated from tests/ffi/ffi_test.idl.  Closures then give
 * plain C function pointers that call the same object, a user exception,
 * and a server process that dies mid-call (the test binary re-executed
 * with --server).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include <phx/ffi.h>
#include <phx/phx.h>

#include "tests/ffi/gen/ffi_test.h"

/* ------------------------------------------------------------------ */
/* The legacy library                                                   */
/* ------------------------------------------------------------------ */

static int32_t base_op(int32_t v) { return 2 * v; }
static int16_t add_s(int16_t a, int16_t b) { return (int16_t)(a + b); }
static uint16_t add_us(uint16_t a, uint16_t b) { return (uint16_t)(a + b); }
static int32_t add_l(int32_t a, int32_t b) { return a + b; }
static uint32_t add_ul(uint32_t a, uint32_t b) { return a + b; }
static int64_t add_ll(int64_t a, int64_t b) { return a + b; }
static uint64_t add_ull(uint64_t a, uint64_t b) { return a + b; }
static uint8_t xor_o(uint8_t a, uint8_t b) { return (uint8_t)(a ^ b); }
static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}
static bool not_b(bool b) { return !b; }
static float half_f(float f) { return f / 2; }
static double mix(double d, float f, int32_t l, int16_t s, uint8_t o,
                  int64_t ll, char c, bool b)
{
    return d + f + l + s + o + (double)ll + c + (b ? 1000 : 0);
}
static ffitest_Color next_color(ffitest_Color c)
{
    return (ffitest_Color)((c + 1) % 3);
}
static char *greet(const char *name)
{
    char *r = malloc(strlen(name) + 8);

    sprintf(r, "hello, %s", name);
    return r;
}
static const char *version(void) { return "libcalc 1.2"; }
static void split(const char *s, char **head, int32_t *count)
{
    const char *sp = strchr(s, ' ');
    int32_t n = *s ? 1 : 0;

    *head = sp ? strndup(s, (size_t)(sp - s)) : strdup(s);
    for (; *s; s++)
        n += *s == ' ';
    *count = n;
}
static void append(char **s, const char *tail)
{
    char *r = malloc(strlen(*s) + strlen(tail) + 1);

    strcpy(r, *s);
    strcat(r, tail);
    free(*s);
    *s = r;
}
static int32_t sum(const ffitest_Longs *v)
{
    int32_t t = 0;

    for (uint32_t i = 0; i < v->_length; i++)
        t += v->_buffer[i];
    return t;
}
static ffitest_Longs iota(int32_t n)
{
    ffitest_Longs r = {0};

    r._buffer = calloc((size_t)n + 1, sizeof(int32_t));
    for (int32_t i = 0; i < n; i++)
        r._buffer[i] = i;
    r._length = r._maximum = (uint32_t)n;
    r._release = true;
    return r;
}
static void inc_all(ffitest_Longs *v)
{
    for (uint32_t i = 0; i < v->_length; i++)
        v->_buffer[i]++;
}
static ffitest_Point mid(const ffitest_Point *a, const ffitest_Point *b)
{
    ffitest_Point r = {(a->x + b->x) / 2, (a->y + b->y) / 2};

    return r;
}
static void move(ffitest_Point *p, int32_t dx, int32_t dy)
{
    p->x += dx;
    p->y += dy;
}
static void origin(ffitest_Point *p)
{
    p->x = 0;
    p->y = -1;
}
static ffitest_Person make_person(const char *name, uint16_t age)
{
    ffitest_Person p;

    memset(&p, 0, sizeof p);
    p.name = strdup(name);
    p.age = age;
    p.score = 9.5;
    p.tags = iota(3);
    p.flags[0] = 1;
    p.flags[1] = 2;
    p.flags[2] = 3;
    return p;
}
static void rename_person(ffitest_Person *p, const char *name)
{
    free(p->name);
    p->name = strdup(name);
    p->age++;
}
static int32_t checked_div(int32_t a, int32_t b)
{
    if (b == 0) {
        ffitest_Oops o = {.code = 7, .why = "division by zero"};

        ffitest_Oops__raise(phx_ffi_env(), &o);
        return 0;
    }
    return a / b;
}
static void pick(int32_t which, ffitest_Shape *ret)
{
    ret->_d = which;
    if (which == 1)
        ret->_u.side = 4;
    else
        ret->_u.radius = 2.5;
}
static atomic_int notes_sum;
static void note(int32_t v) { atomic_fetch_add(&notes_sum, v); }
static int32_t notes(void) { return atomic_load(&notes_sum); }
static atomic_int level;
static int32_t get_level(void) { return atomic_load(&level); }
static void set_level(int32_t v) { atomic_store(&level, v); }

/* rpcgen style: static results */
static int rqstp_marker;
static atomic_int rpc_pings;
static atomic_int rpc_bad_rqstp;
static ffitest_Point *rpc_mid_1_svc(ffitest_Pair *argp, void *rqstp)
{
    static ffitest_Point res;

    (void)rqstp;
    res = mid(&argp->a, &argp->b);
    return &res;
}
static int32_t *rpc_square_1_svc(int32_t *x, void *rqstp)
{
    static int32_t res;

    (void)rqstp;
    res = *x * *x;
    return &res;
}
static char **rpc_name_1_svc(int32_t *id, void *rqstp)
{
    static char *res;

    (void)rqstp;
    res = *id == 1 ? "one" : "many";   /* static: never freed */
    return &res;
}
static void *rpc_ping_1_svc(void *argp, void *rqstp)
{
    static char res;

    if (rqstp != &rqstp_marker || argp == NULL || *(int *)argp != 0)
        atomic_fetch_add(&rpc_bad_rqstp, 1);
    atomic_fetch_add(&rpc_pings, 1);
    return &res;
}
static int32_t *rpc_fail_1_svc(int32_t *x, void *rqstp)
{
    (void)x;
    (void)rqstp;
    return NULL;
}
static void die(void) { _exit(0); }

#define B(op, f) {#op, PHX_FFI_FN(f), PHX_FFI_PLAIN, 0, NULL}
static const phx_ffi_binding_t bindings[] = {
    B(base_op, base_op),
    B(add_s, add_s),
    B(add_us, add_us),
    B(add_l, add_l),
    B(add_ul, add_ul),
    B(add_ll, add_ll),
    B(add_ull, add_ull),
    B(xor_o, xor_o),
    B(upper, upper),
    B(not_b, not_b),
    B(half_f, half_f),
    B(mix, mix),
    B(next_color, next_color),
    B(greet, greet),
    {"version", PHX_FFI_FN(version), PHX_FFI_PLAIN, PHX_FFI_RESULT_BORROWED,
     NULL},
    B(split, split),
    B(append, append),
    B(sum, sum),
    B(iota, iota),
    B(inc_all, inc_all),
    B(mid, mid),
    B(move, move),
    B(origin, origin),
    B(make_person, make_person),
    B(rename, rename_person),
    B(checked_div, checked_div),
    {"pick", PHX_FFI_FN(pick), PHX_FFI_PLAIN_OUTRET, 0, NULL},
    B(note, note),
    B(notes, notes),
    B(_get_level, get_level),
    B(_set_level, set_level),
    {"rpc_mid", PHX_FFI_FN(rpc_mid_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"rpc_square", PHX_FFI_FN(rpc_square_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"rpc_name", PHX_FFI_FN(rpc_name_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    {"rpc_ping", PHX_FFI_FN(rpc_ping_1_svc), PHX_FFI_RPCGEN, 0,
     &rqstp_marker},
    {"rpc_fail", PHX_FFI_FN(rpc_fail_1_svc), PHX_FFI_RPCGEN, 0, NULL},
    B(die, die),
};
#define NBIND (sizeof bindings / sizeof bindings[0])

/* ------------------------------------------------------------------ */
/* Fixture: one ORB serving the bridged object on a loop thread          */
/* ------------------------------------------------------------------ */

static phx_orb_t *orb;
static pthread_t loop_thread;
static phx_ffi_servant_t *servant;
static phx_object_t *calc;

static void *loop(void *arg)
{
    phx_orb_run(arg);
    return NULL;
}

static int make_orb(phx_orb_t **o, unsigned workers)
{
    const char *ep = "tcp://127.0.0.1:*";
    phx_orb_config_t cfg;
    phx_error_t err;

    phx_orb_config_init(&cfg);
    cfg.listen = &ep;
    cfg.listen_count = 1;
    cfg.workers = workers;
    cfg.call_timeout_ms = 10000;
    cfg.connect_timeout_ms = 1000;
    cfg.linger_ms = 0;
    if (phx_orb_create(&cfg, o, &err) != PHX_OK) {
        fprintf(stderr, "orb: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int suite_init(void)
{
    phx_error_t err;

    if (make_orb(&orb, 2) != 0)
        return -1;
    if (phx_ffi_servant_new(&ffitest_Calc__desc, bindings, NBIND, &servant,
                            &err) != PHX_OK) {
        fprintf(stderr, "ffi servant: %s\n", err.msg);
        return -1;
    }
    if (phx_orb_activate(orb, phx_ffi_servant_base(servant), "calc", 4, &calc,
                         &err) != PHX_OK) {
        fprintf(stderr, "activate: %s\n", err.msg);
        return -1;
    }
    pthread_create(&loop_thread, NULL, loop, orb);
    return 0;
}

static int suite_clean(void)
{
    phx_orb_shutdown(orb);
    pthread_join(loop_thread, NULL);
    phx_object_release(calc);
    phx_orb_destroy(orb);
    phx_ffi_servant_free(servant);
    phx_ffi_clear_last_error();
    return 0;
}

#define OK(call)                                                            \
    do {                                                                    \
        phx_env_t env_ = PHX_ENV_INIT;                                      \
        int rc_ = (call);                                                   \
        if (rc_ != PHX_OK) {                                                \
            char b_[256];                                                   \
            fprintf(stderr, "%s: %s\n", #call,                              \
                    phx_env_describe(&env_, b_, sizeof b_));                \
        }                                                                   \
        CU_ASSERT_EQUAL(rc_, PHX_OK);                                       \
        phx_env_clear(&env_);                                               \
    } while (0)

/* ------------------------------------------------------------------ */
/* Server direction: generated stubs -> ORB -> bridge -> C functions    */
/* ------------------------------------------------------------------ */

static void test_integers(void)
{
    int16_t s;
    uint16_t us;
    int32_t l;
    uint32_t ul;
    int64_t ll;
    uint64_t ull;
    uint8_t o;
    char c;
    bool b;

    OK(ffitest_Calc_add_s(calc, -30000, -2000, &s, &env_));
    CU_ASSERT_EQUAL(s, (int16_t)-32000);
    OK(ffitest_Calc_add_us(calc, 65000, 500, &us, &env_));
    CU_ASSERT_EQUAL(us, 65500);
    OK(ffitest_Calc_add_l(calc, -2000000000, -100000000, &l, &env_));
    CU_ASSERT_EQUAL(l, -2100000000);
    OK(ffitest_Calc_add_ul(calc, 4000000000u, 200000000u, &ul, &env_));
    CU_ASSERT_EQUAL(ul, 4200000000u);
    OK(ffitest_Calc_add_ll(calc, -9000000000000000000LL, -200000000000000000LL,
                           &ll, &env_));
    CU_ASSERT_EQUAL(ll, -9200000000000000000LL);
    OK(ffitest_Calc_add_ull(calc, 18000000000000000000ULL,
                            400000000000000000ULL, &ull, &env_));
    CU_ASSERT_EQUAL(ull, 18400000000000000000ULL);
    OK(ffitest_Calc_xor_o(calc, 0xf0, 0xff, &o, &env_));
    CU_ASSERT_EQUAL(o, 0x0f);
    OK(ffitest_Calc_upper(calc, 'q', &c, &env_));
    CU_ASSERT_EQUAL(c, 'Q');
    OK(ffitest_Calc_upper(calc, (char)-5, &c, &env_));
    CU_ASSERT_EQUAL(c, (char)-5);
    OK(ffitest_Calc_not_b(calc, true, &b, &env_));
    CU_ASSERT_EQUAL(b, false);
    OK(ffitest_Calc_not_b(calc, false, &b, &env_));
    CU_ASSERT_EQUAL(b, true);
    OK(ffitest_Calc_base_op(calc, 21, &l, &env_));  /* inherited */
    CU_ASSERT_EQUAL(l, 42);
}

static void test_floats_enums(void)
{
    float f;
    double d;
    ffitest_Color col;

    OK(ffitest_Calc_half_f(calc, 5.0f, &f, &env_));
    CU_ASSERT_EQUAL(f, 2.5f);
    OK(ffitest_Calc_mix(calc, 0.5, 0.25f, -100000, -300, 200,
                        10000000000LL, 'A', true, &d, &env_));
    CU_ASSERT_DOUBLE_EQUAL(d, 0.75 - 100000 - 300 + 200 + 10000000000.0 +
                                  65 + 1000, 1e-6);
    OK(ffitest_Calc_next_color(calc, ffitest_green, &col, &env_));
    CU_ASSERT_EQUAL(col, ffitest_blue);
    OK(ffitest_Calc_next_color(calc, ffitest_blue, &col, &env_));
    CU_ASSERT_EQUAL(col, ffitest_red);
}

static void test_strings(void)
{
    char *r = NULL, *head = NULL, *s;
    int32_t n = 0;

    OK(ffitest_Calc_greet(calc, "world", &r, &env_));
    CU_ASSERT_STRING_EQUAL(r, "hello, world");
    free(r);
    OK(ffitest_Calc_version(calc, &r, &env_));   /* borrowed result */
    CU_ASSERT_STRING_EQUAL(r, "libcalc 1.2");
    free(r);
    OK(ffitest_Calc_split(calc, "alpha beta gamma", &head, &n, &env_));
    CU_ASSERT_STRING_EQUAL(head, "alpha");
    CU_ASSERT_EQUAL(n, 3);
    free(head);
    s = strdup("abc");
    OK(ffitest_Calc_append(calc, &s, "def", &env_));
    CU_ASSERT_STRING_EQUAL(s, "abcdef");
    free(s);
}

static void test_sequences(void)
{
    int32_t buf[] = {1, 2, 3, 4};
    ffitest_Longs v = {4, 4, buf, false}, r = {0}, io = {0};
    int32_t t = 0;

    OK(ffitest_Calc_sum(calc, &v, &t, &env_));
    CU_ASSERT_EQUAL(t, 10);
    OK(ffitest_Calc_iota(calc, 5, &r, &env_));
    CU_ASSERT_EQUAL_FATAL(r._length, 5);
    CU_ASSERT_EQUAL(r._buffer[0], 0);
    CU_ASSERT_EQUAL(r._buffer[4], 4);
    phx_value_free(&TC_ffitest_Longs, &r);
    io = iota(3);
    OK(ffitest_Calc_inc_all(calc, &io, &env_));
    CU_ASSERT_EQUAL_FATAL(io._length, 3);
    CU_ASSERT_EQUAL(io._buffer[0], 1);
    CU_ASSERT_EQUAL(io._buffer[2], 3);
    phx_value_free(&TC_ffitest_Longs, &io);
}

static void test_structs(void)
{
    ffitest_Point a = {2, 10}, b = {4, 20}, r = {0, 0}, p = {1, 1};
    ffitest_Person per;

    OK(ffitest_Calc_mid(calc, &a, &b, &r, &env_));
    CU_ASSERT_EQUAL(r.x, 3);
    CU_ASSERT_EQUAL(r.y, 15);
    OK(ffitest_Calc_move(calc, &p, 5, -6, &env_));
    CU_ASSERT_EQUAL(p.x, 6);
    CU_ASSERT_EQUAL(p.y, -5);
    OK(ffitest_Calc_origin(calc, &p, &env_));
    CU_ASSERT_EQUAL(p.x, 0);
    CU_ASSERT_EQUAL(p.y, -1);

    memset(&per, 0, sizeof per);
    OK(ffitest_Calc_make_person(calc, "Ada", 36, &per, &env_));
    CU_ASSERT_STRING_EQUAL(per.name, "Ada");
    CU_ASSERT_EQUAL(per.age, 36);
    CU_ASSERT_EQUAL(per.score, 9.5);
    CU_ASSERT_EQUAL(per.tags._length, 3);
    CU_ASSERT_EQUAL(per.flags[0], 1);
    CU_ASSERT_EQUAL(per.flags[2], 3);
    OK(ffitest_Calc_rename(calc, &per, "Grace", &env_));
    CU_ASSERT_STRING_EQUAL(per.name, "Grace");
    CU_ASSERT_EQUAL(per.age, 37);
    CU_ASSERT_EQUAL(per.tags._length, 3);
    ffitest_Person__free(&per);
}

static void test_exceptions_outret_oneway(void)
{
    phx_env_t env = PHX_ENV_INIT;
    int32_t r = -1;
    ffitest_Shape sh;

    OK(ffitest_Calc_checked_div(calc, 42, 6, &r, &env_));
    CU_ASSERT_EQUAL(r, 7);
    CU_ASSERT_EQUAL(ffitest_Calc_checked_div(calc, 1, 0, &r, &env),
                    PHX_EUSEREX);
    CU_ASSERT_EQUAL(env.major, PHX_USER_EXCEPTION);
    CU_ASSERT_PTR_NOT_NULL_FATAL(env.user_value);
    CU_ASSERT_EQUAL(((ffitest_Oops *)env.user_value)->code, 7);
    CU_ASSERT_STRING_EQUAL(((ffitest_Oops *)env.user_value)->why,
                           "division by zero");
    phx_env_clear(&env);

    OK(ffitest_Calc_pick(calc, 2, &sh, &env_));
    CU_ASSERT_EQUAL(sh._d, 2);
    CU_ASSERT_EQUAL(sh._u.radius, 2.5);

    OK(ffitest_Calc__set_level(calc, 99, &env_));
    OK(ffitest_Calc__get_level(calc, &r, &env_));
    CU_ASSERT_EQUAL(r, 99);

    OK(ffitest_Calc_note(calc, 5, &env_));
    OK(ffitest_Calc_note(calc, 6, &env_));
    for (int i = 0; i < 100; i++) {
        OK(ffitest_Calc_notes(calc, &r, &env_));
        if (r == 11)
            break;
        usleep(10000);
    }
    CU_ASSERT_EQUAL(r, 11);
}

static void test_rpcgen(void)
{
    ffitest_Pair pr = {{0, 0}, {10, -10}};
    ffitest_Point r;
    int32_t sq = 0;
    char *name = NULL;
    phx_env_t env = PHX_ENV_INIT;

    OK(ffitest_Calc_rpc_mid(calc, &pr, &r, &env_));
    CU_ASSERT_EQUAL(r.x, 5);
    CU_ASSERT_EQUAL(r.y, -5);
    OK(ffitest_Calc_rpc_square(calc, -12, &sq, &env_));
    CU_ASSERT_EQUAL(sq, 144);
    OK(ffitest_Calc_rpc_name(calc, 1, &name, &env_));
    CU_ASSERT_STRING_EQUAL(name, "one");
    free(name);
    OK(ffitest_Calc_rpc_name(calc, 2, &name, &env_));
    CU_ASSERT_STRING_EQUAL(name, "many");
    free(name);
    OK(ffitest_Calc_rpc_ping(calc, &env_));
    CU_ASSERT_EQUAL(atomic_load(&rpc_pings), 1);
    CU_ASSERT_EQUAL(atomic_load(&rpc_bad_rqstp), 0);
    CU_ASSERT_EQUAL(ffitest_Calc_rpc_fail(calc, 3, &sq, &env), PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_UNKNOWN));
    CU_ASSERT_EQUAL(env.completed, PHX_COMPLETED_MAYBE);
    phx_env_clear(&env);
}

static atomic_int released;

static void free_on_release(phx_ffi_servant_t *s, void *arg)
{
    (void)arg;
    atomic_fetch_add(&released, 1);
    phx_ffi_servant_free(s);
}

static void test_unbound_and_is_a(void)
{
    phx_ffi_servant_t *s2;
    phx_object_t *ref;
    phx_env_t env = PHX_ENV_INIT;
    int32_t r;
    bool isa = false;
    phx_error_t err;
    const phx_ffi_binding_t one[] = {B(add_l, add_l)};

    CU_ASSERT_EQUAL_FATAL(phx_ffi_servant_new(&ffitest_Calc__desc, one, 1,
                                              &s2, &err), PHX_OK);
    CU_ASSERT_EQUAL_FATAL(phx_orb_activate(orb, phx_ffi_servant_base(s2),
                                           "calc2", 5, &ref, &err), PHX_OK);
    OK(ffitest_Calc_add_l(ref, 1, 2, &r, &env_));
    CU_ASSERT_EQUAL(r, 3);
    CU_ASSERT_EQUAL(ffitest_Calc_notes(ref, &r, &env), PHX_ESYSEX);
    CU_ASSERT(phx_env_is(&env, PHX_SYSEX_NO_IMPLEMENT));
    phx_env_clear(&env);
    OK(phx_object_is_a(ref, "IDL:ffitest/Base:1.0", &isa, &env_));
    CU_ASSERT(isa);
    OK(phx_object_is_a(ref, "IDL:ffitest/Calc:1.0", &isa, &env_));
    CU_ASSERT(isa);
    phx_object_release(ref);
    /* freed by its release callback once the adapter is done with it */
    phx_ffi_servant_set_release(s2, free_on_release, NULL);
    CU_ASSERT_EQUAL(phx_orb_deactivate(orb, "calc2", 5), PHX_OK);
}

static void test_registration_errors(void)
{
    phx_ffi_servant_t *s = (phx_ffi_servant_t *)1;
    phx_error_t err;
    const phx_ffi_binding_t union_plain[] = {B(pick, pick)};
    const phx_ffi_binding_t rpc_two[] = {
        {"add_l", PHX_FFI_FN(add_l), PHX_FFI_RPCGEN, 0, NULL}};
    const phx_ffi_binding_t rpc_out[] = {
        {"origin", PHX_FFI_FN(origin), PHX_FFI_RPCGEN, 0, NULL}};
    const phx_ffi_binding_t unknown[] = {B(no_such_op, add_l)};
    const phx_ffi_binding_t twice[] = {B(add_l, add_l), B(add_l, add_l)};
    const phx_ffi_binding_t badconv[] = {
        {"add_l", PHX_FFI_FN(add_l), (phx_ffi_conv_t)9, 0, NULL}};
    const phx_opdesc_t *ops[] = {&ffitest_Calc__op_add_l,
                                 &ffitest_Calc__op_pick};
    const phx_ffi_binding_t outret[] = {
        {"pick", PHX_FFI_FN(pick), PHX_FFI_PLAIN_OUTRET, 0, NULL}};

    /* the servant deactivated by the previous test has been released */
    for (int i = 0; i < 100 && atomic_load(&released) == 0; i++)
        usleep(10000);
    CU_ASSERT_EQUAL(atomic_load(&released), 1);

    CU_ASSERT_EQUAL(phx_ffi_servant_new(&ffitest_Calc__desc, union_plain, 1,
                                        &s, &err), PHX_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "pick"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PHX_FFI_PLAIN_OUTRET"));
    CU_ASSERT_EQUAL(phx_ffi_servant_new(&ffitest_Calc__desc, rpc_two, 1, &s,
                                        &err), PHX_EUNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rpcgen"));
    CU_ASSERT_EQUAL(phx_ffi_servant_new(&ffitest_Calc__desc, rpc_out, 1, &s,
                                        &err), PHX_EUNSUPPORTED);
    CU_ASSERT_EQUAL(phx_ffi_servant_new(&ffitest_Calc__desc, unknown, 1, &s,
                                        &err), PHX_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no_such_op"));
    CU_ASSERT_EQUAL(phx_ffi_servant_new(&ffitest_Calc__desc, twice, 2, &s,
                                        &err), PHX_EEXIST);
    CU_ASSERT_EQUAL(phx_ffi_servant_new(&ffitest_Calc__desc, badconv, 1, &s,
                                        &err), PHX_EINVAL);
    CU_ASSERT_PTR_NULL(s);

    /* from a list of opdescs */
    CU_ASSERT_EQUAL(phx_ffi_servant_new_ops("IDL:x/Y:1.0", ops, 2, outret, 1,
                                            &s, &err), PHX_OK);
    CU_ASSERT_PTR_NOT_NULL(s);
    phx_ffi_servant_free(s);

    /* closures refuse the same signatures */
    phx_ffi_fn fn = PHX_FFI_FN(add_l);
    CU_ASSERT_PTR_NULL(phx_ffi_closure_new(calc, &ffitest_Calc__op_pick,
                                           PHX_FFI_PLAIN, &fn, &err));
    CU_ASSERT_EQUAL(err.code, PHX_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(fn);
}

/* ------------------------------------------------------------------ */
/* Client direction: closures                                           */
/* ------------------------------------------------------------------ */

typedef int16_t (*add_s_fn)(int16_t, int16_t);
typedef uint64_t (*add_ull_fn)(uint64_t, uint64_t);
typedef double (*mix_fn)(double, float, int32_t, int16_t, uint8_t, int64_t,
                         char, bool);
typedef bool (*not_b_fn)(bool);
typedef char (*upper_fn)(char);
typedef ffitest_Color (*color_fn)(ffitest_Color);
typedef char *(*greet_fn)(const char *);
typedef void (*split_fn)(const char *, char **, int32_t *);
typedef ffitest_Point (*mid_fn)(const ffitest_Point *, const ffitest_Point *);
typedef ffitest_Person (*person_fn)(const char *, uint16_t);
typedef void (*move_fn)(ffitest_Point *, int32_t, int32_t);
typedef int32_t (*div_fn)(int32_t, int32_t);
typedef void (*pick_fn)(int32_t, ffitest_Shape *);
typedef int32_t *(*sq_fn)(int32_t *, void *);
typedef void (*die_fn)(void);

static phx_ffi_closure_t *closure(const phx_opdesc_t *op, phx_ffi_conv_t conv,
                                  phx_object_t *obj, phx_ffi_fn *fn)
{
    phx_error_t err;
    phx_ffi_closure_t *c = phx_ffi_closure_new(obj, op, conv, fn, &err);

    if (c == NULL)
        fprintf(stderr, "closure %s: %s\n", op->name, err.msg);
    CU_ASSERT_PTR_NOT_NULL(c);
    return c;
}

static void test_closures(void)
{
    phx_ffi_fn f[12];
    phx_ffi_closure_t *c[12];
    char *s, *head = NULL;
    int32_t n = 0;
    ffitest_Point a = {1, 2}, b = {3, 6}, m;
    ffitest_Person per;
    ffitest_Shape sh;

    c[0] = closure(&ffitest_Calc__op_add_s, PHX_FFI_PLAIN, calc, &f[0]);
    c[1] = closure(&ffitest_Calc__op_add_ull, PHX_FFI_PLAIN, calc, &f[1]);
    c[2] = closure(&ffitest_Calc__op_mix, PHX_FFI_PLAIN, calc, &f[2]);
    c[3] = closure(&ffitest_Calc__op_not_b, PHX_FFI_PLAIN, calc, &f[3]);
    c[4] = closure(&ffitest_Calc__op_upper, PHX_FFI_PLAIN, calc, &f[4]);
    c[5] = closure(&ffitest_Calc__op_next_color, PHX_FFI_PLAIN, calc, &f[5]);
    c[6] = closure(&ffitest_Calc__op_greet, PHX_FFI_PLAIN, calc, &f[6]);
    c[7] = closure(&ffitest_Calc__op_split, PHX_FFI_PLAIN, calc, &f[7]);
    c[8] = closure(&ffitest_Calc__op_mid, PHX_FFI_PLAIN, calc, &f[8]);
    c[9] = closure(&ffitest_Calc__op_make_person, PHX_FFI_PLAIN, calc, &f[9]);
    c[10] = closure(&ffitest_Calc__op_move, PHX_FFI_PLAIN, calc, &f[10]);
    c[11] = closure(&ffitest_Calc__op_pick, PHX_FFI_PLAIN_OUTRET, calc,
                    &f[11]);
    for (int i = 0; i < 12; i++)
        if (c[i] == NULL)
            return;

    CU_ASSERT_EQUAL(((add_s_fn)f[0])(-300, -20), -320);
    CU_ASSERT_EQUAL(phx_ffi_last_error()->major, PHX_NO_EXCEPTION);
    CU_ASSERT_EQUAL(((add_ull_fn)f[1])(1ULL << 63, 5), (1ULL << 63) + 5);
    CU_ASSERT_DOUBLE_EQUAL(((mix_fn)f[2])(1.5, 0.5f, 7, -2, 255, 1LL << 40,
                                          'a', false),
                           2.0 + 7 - 2 + 255 + (double)(1LL << 40) + 97,
                           1e-6);
    CU_ASSERT_EQUAL(((not_b_fn)f[3])(false), true);
    CU_ASSERT_EQUAL(((upper_fn)f[4])('z'), 'Z');
    CU_ASSERT_EQUAL(((color_fn)f[5])(ffitest_red), ffitest_green);
    s = ((greet_fn)f[6])("closure");
    CU_ASSERT_STRING_EQUAL(s, "hello, closure");
    free(s);
    ((split_fn)f[7])("x y", &head, &n);
    CU_ASSERT_STRING_EQUAL(head, "x");
    CU_ASSERT_EQUAL(n, 2);
    free(head);
    m = ((mid_fn)f[8])(&a, &b);
    CU_ASSERT_EQUAL(m.x, 2);
    CU_ASSERT_EQUAL(m.y, 4);
    per = ((person_fn)f[9])("Linus", 20);
    CU_ASSERT_STRING_EQUAL(per.name, "Linus");
    CU_ASSERT_EQUAL(per.age, 20);
    CU_ASSERT_EQUAL(per.tags._length, 3);
    CU_ASSERT_EQUAL(per.flags[1], 2);
    ffitest_Person__free(&per);
    ((move_fn)f[10])(&a, 10, 20);
    CU_ASSERT_EQUAL(a.x, 11);
    CU_ASSERT_EQUAL(a.y, 22);
    ((pick_fn)f[11])(1, &sh);
    CU_ASSERT_EQUAL(sh._d, 1);
    CU_ASSERT_EQUAL(sh._u.side, 4);
    CU_ASSERT_EQUAL(phx_ffi_last_error()->major, PHX_NO_EXCEPTION);

    /* a NULL where the mapping needs a pointer: BAD_PARAM, no call */
    ((move_fn)f[10])(NULL, 1, 1);
    CU_ASSERT(phx_env_is(phx_ffi_last_error(), PHX_SYSEX_BAD_PARAM));
    CU_ASSERT_EQUAL(phx_ffi_last_error()->completed, PHX_COMPLETED_NO);

    for (int i = 0; i < 12; i++)
        phx_ffi_closure_free(c[i]);
    phx_ffi_clear_last_error();
}

static void test_closure_user_exception_and_rpcgen(void)
{
    phx_ffi_fn fdiv, fsq;
    phx_ffi_closure_t *cdiv = closure(&ffitest_Calc__op_checked_div,
                                      PHX_FFI_PLAIN, calc, &fdiv);
    phx_ffi_closure_t *csq = closure(&ffitest_Calc__op_rpc_square,
                                     PHX_FFI_RPCGEN, calc, &fsq);
    const phx_env_t *e;
    int32_t x = 9, *r;

    if (cdiv == NULL || csq == NULL)
        return;
    CU_ASSERT_EQUAL(((div_fn)fdiv)(10, 2), 5);
    CU_ASSERT_EQUAL(((div_fn)fdiv)(10, 0), 0);
    e = phx_ffi_last_error();
    CU_ASSERT_EQUAL(e->major, PHX_USER_EXCEPTION);
    CU_ASSERT_STRING_EQUAL(e->repo_id, "IDL:ffitest/Oops:1.0");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e->user_value);
    CU_ASSERT_EQUAL(((ffitest_Oops *)e->user_value)->code, 7);
    /* the next successful call resets it */
    CU_ASSERT_EQUAL(((div_fn)fdiv)(9, 3), 3);
    CU_ASSERT_EQUAL(phx_ffi_last_error()->major, PHX_NO_EXCEPTION);

    r = ((sq_fn)fsq)(&x, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(*r, 81);
    CU_ASSERT_PTR_NULL(((sq_fn)fsq)(NULL, NULL));
    CU_ASSERT(phx_env_is(phx_ffi_last_error(), PHX_SYSEX_BAD_PARAM));

    /* closures from several threads at once */
    phx_ffi_closure_free(csq);
    phx_ffi_closure_free(cdiv);
    phx_ffi_clear_last_error();
}

static phx_ffi_fn thread_fn;
static atomic_int thread_errors;

static void *closure_thread(void *arg)
{
    int32_t base = (int32_t)(intptr_t)arg;

    for (int32_t i = 0; i < 50; i++) {
        if (((div_fn)thread_fn)(base * i, base) != i)
            atomic_fetch_add(&thread_errors, 1);
        if (phx_ffi_last_error()->major != PHX_NO_EXCEPTION)
            atomic_fetch_add(&thread_errors, 1);
    }
    if (((div_fn)thread_fn)(1, 0) != 0 ||
        phx_ffi_last_error()->major != PHX_USER_EXCEPTION)
        atomic_fetch_add(&thread_errors, 1);
    return NULL;   /* the thread's last error is freed at exit */
}

static void test_closure_threads(void)
{
    phx_ffi_closure_t *c = closure(&ffitest_Calc__op_checked_div,
                                   PHX_FFI_PLAIN, calc, &thread_fn);
    pthread_t t[4];

    if (c == NULL)
        return;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, closure_thread, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT_EQUAL(atomic_load(&thread_errors), 0);
    phx_ffi_closure_free(c);
}

/* ------------------------------------------------------------------ */
/* Dead server: this binary re-executed with --server                    */
/* ------------------------------------------------------------------ */

static int run_server(void)
{
    phx_orb_t *o;
    phx_ffi_servant_t *s;
    phx_object_t *ref;
    phx_error_t err;
    char *ior;

    if (make_orb(&o, 0) != 0)
        return 1;
    if (phx_ffi_servant_new(&ffitest_Calc__desc, bindings, NBIND, &s,
                            &err) != PHX_OK ||
        phx_orb_activate(o, phx_ffi_servant_base(s), "calc", 4, &ref,
                         &err) != PHX_OK) {
        fprintf(stderr, "server: %s\n", err.msg);
        return 1;
    }
    phx_object_to_string(ref, &ior);
    printf("%s\n", ior);
    fflush(stdout);
    free(ior);
    phx_object_release(ref);
    phx_orb_run(o);
    phx_orb_destroy(o);
    phx_ffi_servant_free(s);
    return 0;
}

static char self_path[4096];

static void test_dead_server(void)
{
    int fds[2];
    pid_t pid;
    char line[4096];
    FILE *in;
    phx_object_t *obj = NULL;
    phx_ffi_fn fdie, fadd;
    phx_ffi_closure_t *cdie, *cadd;
    phx_error_t err;
    int status;

    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"test_ffi", "--server", NULL};

        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(self_path, argv);
        _exit(127);
    }
    close(fds[1]);
    in = fdopen(fds[0], "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    if (fgets(line, sizeof line, in) == NULL) {
        CU_FAIL("server gave no reference");
        fclose(in);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return;
    }
    line[strcspn(line, "\n")] = 0;
    CU_ASSERT_EQUAL_FATAL(phx_object_from_string(orb, line, &obj, &err),
                          PHX_OK);
    cdie = closure(&ffitest_Calc__op_die, PHX_FFI_PLAIN, obj, &fdie);
    cadd = closure(&ffitest_Calc__op_add_l, PHX_FFI_PLAIN, obj, &fadd);
    phx_object_release(obj);   /* the closures hold their own */
    if (cdie != NULL && cadd != NULL) {
        CU_ASSERT_EQUAL(((div_fn)fadd)(40, 2), 42);
        CU_ASSERT_EQUAL(phx_ffi_last_error()->major, PHX_NO_EXCEPTION);
        ((die_fn)fdie)();    /* the server exits while serving it */
        CU_ASSERT(phx_env_is(phx_ffi_last_error(), PHX_SYSEX_COMM_FAILURE));
        CU_ASSERT_EQUAL(phx_ffi_last_error()->completed,
                        PHX_COMPLETED_MAYBE);
        waitpid(pid, &status, 0);
        pid = -1;
        /* nobody there any more: zero result, TRANSIENT */
        CU_ASSERT_EQUAL(((div_fn)fadd)(1, 2), 0);
        CU_ASSERT(phx_env_is(phx_ffi_last_error(), PHX_SYSEX_TRANSIENT) ||
                  phx_env_is(phx_ffi_last_error(), PHX_SYSEX_COMM_FAILURE));
    }
    phx_ffi_closure_free(cdie);
    phx_ffi_closure_free(cadd);
    phx_ffi_clear_last_error();
    fclose(in);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
}

int main(int argc, char **argv)
{
    CU_pSuite s;
    unsigned failed;

    if (argc > 1 && strcmp(argv[1], "--server") == 0)
        return run_server();
    if (realpath(argv[0], self_path) == NULL)
        snprintf(self_path, sizeof self_path, "%s", "/proc/self/exe");
    alarm(120);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("ffi", suite_init, suite_clean);
    if (s == NULL ||
        !CU_add_test(s, "integers of every width", test_integers) ||
        !CU_add_test(s, "floats, doubles, enums", test_floats_enums) ||
        !CU_add_test(s, "strings in, out, inout, result", test_strings) ||
        !CU_add_test(s, "sequences", test_sequences) ||
        !CU_add_test(s, "structs in, out, inout, by value", test_structs) ||
        !CU_add_test(s, "exceptions, outret, oneway, attributes",
                     test_exceptions_outret_oneway) ||
        !CU_add_test(s, "rpcgen convention", test_rpcgen) ||
        !CU_add_test(s, "unbound operations, _is_a", test_unbound_and_is_a) ||
        !CU_add_test(s, "registration errors", test_registration_errors) ||
        !CU_add_test(s, "closures", test_closures) ||
        !CU_add_test(s, "closure: user exception, rpcgen",
                     test_closure_user_exception_and_rpcgen) ||
        !CU_add_test(s, "closures on many threads", test_closure_threads) ||
        !CU_add_test(s, "closure: dead server", test_dead_server)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
