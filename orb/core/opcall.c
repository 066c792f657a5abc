/*
 * opcall.c - the generic invocation engine behind generated stubs and
 * skeletons: marshals the arguments an operation description lists,
 * sends the request, and unmarshals the results (see include/phx/opdesc.h
 * for the argument vector and memory rules).
 *
 * Primitive kinds, unbounded strings and sequences of octets take a
 * direct path to the CDR codec; everything else goes through the
 * TypeCode-driven value engine.
 *
 * Object references travel as IORs.  The engine registers the value
 * engine's object reference hooks on its first use; turning an IOR back
 * into a reference needs an ORB, and the one used is that of the last
 * call this thread made or served through the engine (so a deferred
 * __recv decodes with the ORB of its __send).
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <phx/ior.h>
#include <phx/opdesc.h>

#define OBJECT_REPO_ID "IDL:omg.org/CORBA/Object:1.0"

/* Inout temporaries up to this size live on the stack. */
#define STACK_TEMPS 256

/* ------------------------------------------------------------------ */
/* Object references                                                    */
/* ------------------------------------------------------------------ */

static _Thread_local phx_orb_t *thread_orb;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static atomic_bool hooks_set;

static int ref_put(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                   const void *ref, void *arg)
{
    phx_ior_t ior;
    int rc;

    (void)tc;
    (void)arg;
    phx_ior_init(&ior);
    if (ref && phx_object_get_ior((phx_object_t *)ref, &ior) != PHX_OK)
        return PHX_ENOMEM;
    rc = phx_ior_write(w, &ior);
    phx_ior_fini(&ior);
    return rc;
}

static int ref_get(phx_cdr_reader_t *r, const phx_typecode_t *tc,
                   void **ref, void *arg)
{
    phx_object_t *obj = NULL;
    phx_ior_t ior;
    int rc;

    (void)tc;
    (void)arg;
    *ref = NULL;
    rc = phx_ior_read(r, &ior, NULL);
    if (rc == PHX_OK && !phx_ior_is_nil(&ior)) {
        rc = thread_orb ? phx_object_from_ior(thread_orb, &ior, &obj, NULL)
                        : PHX_EUNSUPPORTED;
        *ref = obj;
    }
    phx_ior_fini(&ior);
    return rc;
}

static void ref_release(void *ref, void *arg)
{
    (void)arg;
    phx_object_release(ref);
}

static int ref_copy(const void *ref, void **out, void *arg)
{
    (void)arg;
    *out = phx_object_ref((phx_object_t *)ref);
    return PHX_OK;
}

/* Same IOR. */
static bool ref_equal(const void *a, const void *b, void *arg)
{
    char *sa = NULL, *sb = NULL;
    bool eq;

    (void)arg;
    if (a == b)
        return true;
    if (a == NULL || b == NULL)
        return false;
    eq = phx_object_to_string((phx_object_t *)a, &sa) == PHX_OK &&
         phx_object_to_string((phx_object_t *)b, &sb) == PHX_OK &&
         strcmp(sa, sb) == 0;
    free(sa);
    free(sb);
    return eq;
}

static void register_hooks(void)
{
    static const phx_objref_hooks_t hooks = {
        .put = ref_put,
        .get = ref_get,
        .release = ref_release,
        .copy = ref_copy,
        .equal = ref_equal,
    };
    phx_value_set_objref_hooks(&hooks);
    atomic_store_explicit(&hooks_set, true, memory_order_release);
}

/* Every entry point that marshals calls this first. */
static inline void engine_use(phx_orb_t *orb)
{
    if (!atomic_load_explicit(&hooks_set, memory_order_acquire))
        pthread_once(&hooks_once, register_hooks);
    if (orb)
        thread_orb = orb;
}

/* ------------------------------------------------------------------ */
/* Interface descriptions                                               */
/* ------------------------------------------------------------------ */

static const phx_opdesc_t *find_op(const phx_ifdesc_t *ifd, const char *name,
                                   int depth)
{
    if (ifd == NULL || depth > PHX_VALUE_MAX_DEPTH)
        return NULL;
    for (uint32_t i = 0; i < ifd->op_count; i++)
        if (ifd->ops[i] && strcmp(ifd->ops[i]->name, name) == 0)
            return ifd->ops[i];
    for (uint32_t i = 0; i < ifd->base_count; i++) {
        const phx_opdesc_t *op = find_op(ifd->bases[i], name, depth + 1);
        if (op)
            return op;
    }
    return NULL;
}

const phx_opdesc_t *phx_ifdesc_find_op(const phx_ifdesc_t *ifd,
                                       const char *name)
{
    return name ? find_op(ifd, name, 0) : NULL;
}

static bool is_a(const phx_ifdesc_t *ifd, const char *id, int depth)
{
    if (ifd == NULL || depth > PHX_VALUE_MAX_DEPTH)
        return false;
    if (ifd->repo_id && strcmp(ifd->repo_id, id) == 0)
        return true;
    for (uint32_t i = 0; i < ifd->base_count; i++)
        if (is_a(ifd->bases[i], id, depth + 1))
            return true;
    return false;
}

bool phx_ifdesc_is_a(const phx_ifdesc_t *ifd, const char *repo_id)
{
    if (ifd == NULL || repo_id == NULL)
        return false;
    return strcmp(repo_id, OBJECT_REPO_ID) == 0 || is_a(ifd, repo_id, 0);
}

/* ------------------------------------------------------------------ */
/* One value                                                            */
/* ------------------------------------------------------------------ */

static int put_one(phx_cdr_writer_t *w, const phx_typecode_t *tc,
                   const void *p)
{
    if (p == NULL)
        return phx_cdr_writer_fail(w, PHX_EINVAL);
    switch (tc->kind) {
    case PHX_TK_LONG: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return phx_cdr_put_long(w, v);
    }
    case PHX_TK_ULONG: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return phx_cdr_put_ulong(w, v);
    }
    case PHX_TK_LONGLONG: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return phx_cdr_put_longlong(w, v);
    }
    case PHX_TK_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof v);
        return phx_cdr_put_double(w, v);
    }
    case PHX_TK_OCTET:
        return phx_cdr_put_octet(w, *(const uint8_t *)p);
    case PHX_TK_STRING:
        if (tc->length == 0) {
            const char *s;
            memcpy(&s, p, sizeof s);
            return phx_cdr_put_string(w, s);
        }
        break;
    default:
        break;
    }
    return phx_cdr_put_value(w, tc, p);
}

/* sequence<octet> into a malloc'd buffer: one copy, nothing zeroed. */
static int get_octets(phx_cdr_reader_t *r, const phx_typecode_t *t, void *p)
{
    phx_sequence_t seq = {0, 0, NULL, false};
    const uint8_t *o;
    size_t n;

    memcpy(p, &seq, sizeof seq);
    if (phx_cdr_get_octet_seq(r, &o, &n) != PHX_OK)
        return phx_cdr_reader_status(r);
    if (t->length && n > t->length)
        return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                   "sequence exceeds its bound");
    if (n == 0)
        return PHX_OK;
    seq._buffer = malloc(n);
    if (seq._buffer == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "sequence buffer");
    memcpy(seq._buffer, o, n);
    seq._maximum = seq._length = (uint32_t)n;
    seq._release = true;
    memcpy(p, &seq, sizeof seq);
    return PHX_OK;
}

static bool is_octets(const phx_typecode_t *t)
{
    const phx_typecode_t *e;

    if (t == NULL || t->kind != PHX_TK_SEQUENCE)
        return false;
    e = phx_typecode_unalias(t->content);
    return e && e->kind == PHX_TK_OCTET;
}

/* Decode into p (zeroed first; zeroed again on error). */
static int get_one(phx_cdr_reader_t *r, const phx_typecode_t *tc, void *p)
{
    const phx_typecode_t *t;

    switch (tc->kind) {
    case PHX_TK_LONG:
        return phx_cdr_get_long(r, p);
    case PHX_TK_ULONG:
        return phx_cdr_get_ulong(r, p);
    case PHX_TK_LONGLONG:
        return phx_cdr_get_longlong(r, p);
    case PHX_TK_DOUBLE:
        return phx_cdr_get_double(r, p);
    case PHX_TK_OCTET:
        return phx_cdr_get_octet(r, p);
    case PHX_TK_SEQUENCE:
    case PHX_TK_ALIAS:
        t = phx_typecode_unalias(tc);
        if (is_octets(t))
            return get_octets(r, t, p);
        return phx_cdr_get_value(r, tc, p);
    default:
        return phx_cdr_get_value(r, tc, p);
    }
}

static bool is_void(const phx_typecode_t *tc)
{
    return tc == NULL || tc->kind == PHX_TK_VOID || tc->kind == PHX_TK_NULL;
}

/* Size of the kinds whose values own nothing (0 for the others). */
static size_t flat_size(const phx_typecode_t *tc)
{
    return phx__tc_prim_size(tc->kind);
}

static size_t size_of(const phx_typecode_t *tc)
{
    size_t n = flat_size(tc);
    return n ? n : phx_typecode_c_size(tc);
}

/* phx_value_free, without the call for values that own nothing. */
static void free_value(const phx_typecode_t *tc, void *p)
{
    size_t n = flat_size(tc);

    if (n)
        memset(p, 0, n);
    else
        phx_value_free(tc, p);
}

static size_t round_up(size_t n, size_t a)
{
    return a > 1 ? (n + a - 1) / a * a : n;
}

/* ------------------------------------------------------------------ */
/* Client-side marshaling                                               */
/* ------------------------------------------------------------------ */

/* Marshal the in and inout values; *bad is the index of the parameter
 * that failed. */
static int put_args(phx_cdr_writer_t *w, const phx_opdesc_t *op,
                    void *const *args, uint32_t *bad)
{
    for (uint32_t i = 0; i < op->param_count; i++) {
        const phx_paramdesc_t *pd = &op->params[i];
        if (pd->mode == PHX_PARAM_OUT)
            continue;
        if (put_one(w, pd->type, args ? args[i] : NULL) != PHX_OK) {
            *bad = i;
            return phx_cdr_writer_status(w);
        }
    }
    return phx_cdr_writer_status(w);
}

int phx_op_put_args(phx_cdr_writer_t *w, const phx_opdesc_t *op,
                    void *const *args)
{
    uint32_t bad;

    engine_use(NULL);
    return put_args(w, op, args, &bad);
}

/* Layout of the temporaries phx_op_get_results decodes into: the result
 * first, then every inout and out parameter. */
static int temps_size(const phx_opdesc_t *op, size_t *total)
{
    size_t off = 0, s;

    if (!is_void(op->result)) {
        s = size_of(op->result);
        if (s == 0)
            return PHX_EINVAL;
        off = round_up(s, alignof(max_align_t));
    }
    for (uint32_t i = 0; i < op->param_count; i++) {
        if (op->params[i].mode == PHX_PARAM_IN)
            continue;
        s = size_of(op->params[i].type);
        if (s == 0)
            return PHX_EINVAL;
        off += round_up(s, alignof(max_align_t));
    }
    *total = off;
    return PHX_OK;
}

static bool has_outputs(const phx_opdesc_t *op)
{
    for (uint32_t i = 0; i < op->param_count; i++)
        if (op->params[i].mode != PHX_PARAM_IN)
            return true;
    return false;
}

int phx_op_get_results(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                       void *const *args, void *result)
{
    alignas(max_align_t) unsigned char stack[STACK_TEMPS];
    unsigned char *tmp = stack;
    size_t total, off = 0, s;
    bool has_result = !is_void(op->result);
    int rc;

    engine_use(NULL);
    /* The common case: a result and nothing else to hand over. */
    if (has_result && result && !has_outputs(op))
        return get_one(r, op->result, result);

    if (temps_size(op, &total) != PHX_OK)
        return phx_cdr_reader_fail(r, PHX_EINVAL, "parameter size unknown");
    if (total > sizeof stack && (tmp = malloc(total)) == NULL)
        return phx_cdr_reader_fail(r, PHX_ENOMEM, "result storage");

    /* Decode everything into the temporaries. */
    if (has_result) {
        get_one(r, op->result, tmp);
        off = round_up(size_of(op->result), alignof(max_align_t));
    }
    for (uint32_t i = 0; i < op->param_count; i++) {
        const phx_paramdesc_t *pd = &op->params[i];
        if (pd->mode == PHX_PARAM_IN)
            continue;
        s = size_of(pd->type);
        if (phx_cdr_reader_status(r) == PHX_OK)
            get_one(r, pd->type, tmp + off);
        else
            memset(tmp + off, 0, s);
        off += round_up(s, alignof(max_align_t));
    }
    rc = phx_cdr_reader_status(r);

    /* Then hand them over (or drop them all). */
    off = 0;
    if (has_result) {
        s = size_of(op->result);
        if (rc == PHX_OK && result)
            memcpy(result, tmp, s);
        else
            free_value(op->result, tmp);
        if (rc != PHX_OK && result)
            memset(result, 0, s);
        off = round_up(s, alignof(max_align_t));
    }
    for (uint32_t i = 0; i < op->param_count; i++) {
        const phx_paramdesc_t *pd = &op->params[i];
        void *dst = args ? args[i] : NULL;
        if (pd->mode == PHX_PARAM_IN)
            continue;
        s = size_of(pd->type);
        if (rc == PHX_OK && dst) {
            if (pd->mode == PHX_PARAM_INOUT)
                free_value(pd->type, dst);
            memcpy(dst, tmp + off, s);
        } else {
            free_value(pd->type, tmp + off);
            if (rc != PHX_OK && dst && pd->mode == PHX_PARAM_OUT)
                memset(dst, 0, s);
        }
        off += round_up(s, alignof(max_align_t));
    }
    if (tmp != stack)
        free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Client-side invocation                                               */
/* ------------------------------------------------------------------ */

/* Checks, then a new request for op with its exceptions set. */
static int new_request(phx_object_t *obj, const phx_opdesc_t *op,
                       phx_request_t **out, phx_env_t *env)
{
    int rc;

    *out = NULL;
    if (op == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "no operation description");
    if (obj == NULL)
        return phx_env_system(env, PHX_SYSEX_INV_OBJREF, 0, PHX_COMPLETED_NO,
                              "'%s' invoked on a nil reference", op->name);
    engine_use(phx_object_orb(obj));
    rc = phx_request_create(obj, op->name, op->oneway ? PHX_REQ_ONEWAY : 0,
                            out);
    if (rc != PHX_OK)
        return phx_env_system(env,
                              rc == PHX_ENOMEM ? PHX_SYSEX_NO_MEMORY
                                               : PHX_SYSEX_BAD_PARAM,
                              0, PHX_COMPLETED_NO,
                              "cannot create request '%s': %s", op->name,
                              phx_strerror(rc));
    if (op->raise_count)
        phx_request_set_exceptions(*out, op->raises, op->raise_count);
    return PHX_OK;
}

int phx_op_request(phx_object_t *obj, const phx_opdesc_t *op,
                   phx_request_t **req, phx_env_t *env)
{
    return new_request(obj, op, req, env);
}

static int start(phx_object_t *obj, const phx_opdesc_t *op,
                 void *const *args, phx_request_t **out, phx_env_t *env)
{
    phx_request_t *req;
    uint32_t bad = 0;
    int rc = new_request(obj, op, &req, env);

    *out = NULL;
    if (rc != PHX_OK)
        return rc;
    rc = put_args(phx_request_args(req), op, args, &bad);
    if (rc != PHX_OK) {
        phx_request_destroy(req);
        switch (rc) {
        case PHX_ENOMEM:
            return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                  PHX_COMPLETED_NO, "marshaling '%s'",
                                  op->name);
        case PHX_ELIMIT:
            return phx_env_system(env, PHX_SYSEX_IMP_LIMIT,
                                  PHX_VMCID | PHX_MINOR_TOO_LARGE,
                                  PHX_COMPLETED_NO,
                                  "the arguments of '%s' are too large",
                                  op->name);
        default:
            return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0,
                                  PHX_COMPLETED_NO,
                                  "argument '%s' of '%s' cannot be "
                                  "marshaled: %s",
                                  op->params[bad].name, op->name,
                                  phx_strerror(rc));
        }
    }
    *out = req;
    return PHX_OK;
}

int phx_op_check_reply(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                       phx_env_t *env)
{
    if (phx_cdr_reader_status(r) == PHX_OK)
        return PHX_OK;
    return phx_env_system(env, PHX_SYSEX_MARSHAL,
                          PHX_VMCID | PHX_MINOR_BAD_MESSAGE,
                          PHX_COMPLETED_YES,
                          "cannot decode the reply of '%s': %s", op->name,
                          r->errmsg[0] ? r->errmsg
                                       : phx_strerror(r->err));
}

static int take_results(phx_request_t *req, const phx_opdesc_t *op,
                        void *const *args, void *result, phx_env_t *env)
{
    phx_cdr_reader_t *r = phx_request_result(req);

    phx_op_get_results(r, op, args, result);
    return phx_op_check_reply(r, op, env);
}

/* Leave out and result storage zeroed after a failed call. */
static void clear_outputs(const phx_opdesc_t *op, void *const *args,
                          void *result)
{
    if (result && !is_void(op->result))
        memset(result, 0, size_of(op->result));
    for (uint32_t i = 0; args && i < op->param_count; i++)
        if (op->params[i].mode == PHX_PARAM_OUT && args[i])
            memset(args[i], 0, size_of(op->params[i].type));
}

int phx_op_invoke(phx_object_t *obj, const phx_opdesc_t *op,
                  void *const *args, void *result, phx_env_t *env)
{
    phx_request_t *req;
    int rc = start(obj, op, args, &req, env);

    if (rc == PHX_OK) {
        rc = phx_request_invoke(req, env);
        if (rc == PHX_OK && !op->oneway)
            rc = take_results(req, op, args, result, env);
        phx_request_destroy(req);
    }
    if (rc != PHX_OK && op)
        clear_outputs(op, args, result);
    return rc;
}

int phx_op_send(phx_object_t *obj, const phx_opdesc_t *op,
                void *const *args, phx_request_t **req, phx_env_t *env)
{
    int rc = start(obj, op, args, req, env);

    if (rc == PHX_OK) {
        rc = phx_request_send(*req, env);
        if (rc != PHX_OK) {
            phx_request_destroy(*req);
            *req = NULL;
        }
    }
    return rc;
}

int phx_op_wait(phx_request_t *req, const phx_opdesc_t *op, phx_env_t *env)
{
    engine_use(NULL);
    if (req == NULL || op == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_INV_ORDER, 0,
                              PHX_COMPLETED_NO, "no request to wait for");
    return op->oneway ? PHX_OK : phx_request_wait(req, env);
}

int phx_op_recv(phx_request_t *req, const phx_opdesc_t *op,
                void *const *args, void *result, phx_env_t *env)
{
    int rc = phx_op_wait(req, op, env);

    if (rc == PHX_OK && !op->oneway)
        rc = take_results(req, op, args, result, env);
    phx_request_destroy(req);
    if (rc != PHX_OK && op)
        clear_outputs(op, args, result);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Server side                                                          */
/* ------------------------------------------------------------------ */

static void zero_all(const phx_opdesc_t *op, void *const *args, void *result)
{
    if (result && !is_void(op->result))
        memset(result, 0, size_of(op->result));
    for (uint32_t i = 0; args && i < op->param_count; i++)
        if (args[i])
            memset(args[i], 0, size_of(op->params[i].type));
}

/* In-mode strings and octet sequences are not copied: they point into
 * the request, which outlives the skeleton (see borrows_in). */
enum borrow { BORROW_NONE, BORROW_STRING, BORROW_OCTETS };

static enum borrow borrows_in(const phx_paramdesc_t *pd)
{
    const phx_typecode_t *t;

    if (pd->mode != PHX_PARAM_IN || flat_size(pd->type))
        return BORROW_NONE;
    t = phx_typecode_unalias(pd->type);
    if (t == NULL)
        return BORROW_NONE;
    if (t->kind == PHX_TK_STRING)
        return BORROW_STRING;
    if (is_octets(t))
        return BORROW_OCTETS;
    return BORROW_NONE;
}

static int get_in(phx_cdr_reader_t *r, const phx_paramdesc_t *pd, void *p)
{
    const phx_typecode_t *t;
    const char *s;
    const uint8_t *o;
    size_t n;

    if (flat_size(pd->type))
        return get_one(r, pd->type, p);
    t = phx_typecode_unalias(pd->type);
    switch (borrows_in(pd)) {
    case BORROW_STRING:
        if (phx_cdr_get_string(r, &s, &n) != PHX_OK)
            return phx_cdr_reader_status(r);
        if (t->length && n > t->length)
            return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                       "string exceeds its bound");
        memcpy(p, &s, sizeof s);
        return PHX_OK;
    case BORROW_OCTETS: {
        phx_sequence_t seq = {0, 0, NULL, false};
        if (phx_cdr_get_octet_seq(r, &o, &n) != PHX_OK)
            return phx_cdr_reader_status(r);
        if (t->length && n > t->length)
            return phx_cdr_reader_fail(r, PHX_EMARSHAL,
                                       "sequence exceeds its bound");
        seq._maximum = seq._length = (uint32_t)n;
        seq._buffer = n ? (void *)o : NULL;
        memcpy(p, &seq, sizeof seq);
        return PHX_OK;
    }
    default:
        return get_one(r, pd->type, p);
    }
}

int phx_op_get_args(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                    void *const *args, void *result)
{
    engine_use(NULL);
    zero_all(op, args, result);
    for (uint32_t i = 0; i < op->param_count; i++) {
        const phx_paramdesc_t *pd = &op->params[i];
        if (pd->mode == PHX_PARAM_OUT)
            continue;
        if (args == NULL || args[i] == NULL)
            return phx_cdr_reader_fail(r, PHX_EINVAL, "no argument storage");
        if (get_in(r, pd, args[i]) != PHX_OK) {
            phx_op_free_args(op, args, result);
            return phx_cdr_reader_status(r);
        }
    }
    return phx_cdr_reader_status(r);
}

int phx_op_put_results(phx_cdr_writer_t *w, const phx_opdesc_t *op,
                       void *const *args, const void *result)
{
    engine_use(NULL);
    if (op->oneway)
        return phx_cdr_writer_status(w);
    if (!is_void(op->result))
        put_one(w, op->result, result);
    for (uint32_t i = 0; i < op->param_count; i++)
        if (op->params[i].mode != PHX_PARAM_IN)
            put_one(w, op->params[i].type, args ? args[i] : NULL);
    return phx_cdr_writer_status(w);
}

void phx_op_free_args(const phx_opdesc_t *op, void *const *args,
                      void *result)
{
    if (op == NULL)
        return;
    if (result && !is_void(op->result) && !flat_size(op->result))
        phx_value_free(op->result, result);
    for (uint32_t i = 0; args && i < op->param_count; i++) {
        if (args[i] == NULL || flat_size(op->params[i].type))
            continue;
        if (borrows_in(&op->params[i]) == BORROW_STRING)
            memset(args[i], 0, sizeof(char *));
        else
            free_value(op->params[i].type, args[i]);
    }
}

int phx_op_decode_args(phx_server_request_t *sr, const phx_opdesc_t *op,
                       void *const *args, void *result, phx_env_t *env)
{
    phx_cdr_reader_t *r = phx_server_request_args(sr);

    engine_use(phx_server_request_orb(sr));
    phx_op_get_args(r, op, args, result);
    return phx_op_check_args(r, op, env);
}

int phx_op_check_args(phx_cdr_reader_t *r, const phx_opdesc_t *op,
                      phx_env_t *env)
{
    int rc = phx_cdr_reader_status(r);

    if (rc == PHX_OK)
        return PHX_OK;
    if (rc == PHX_ENOMEM)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "decoding the arguments of '%s'", op->name);
    return phx_env_system(env, PHX_SYSEX_MARSHAL,
                          PHX_VMCID | PHX_MINOR_BAD_MESSAGE, PHX_COMPLETED_NO,
                          "cannot decode the arguments of '%s': %s",
                          op->name,
                          r->errmsg[0] ? r->errmsg : phx_strerror(rc));
}

int phx_op_encode_results(phx_server_request_t *sr, const phx_opdesc_t *op,
                          void *const *args, const void *result,
                          phx_env_t *env)
{
    int rc;

    engine_use(phx_server_request_orb(sr));
    rc = phx_op_put_results(phx_server_request_reply(sr), op, args, result);

    if (rc == PHX_OK)
        return PHX_OK;
    if (rc == PHX_ELIMIT)
        return phx_env_system(env, PHX_SYSEX_IMP_LIMIT,
                              PHX_VMCID | PHX_MINOR_TOO_LARGE,
                              PHX_COMPLETED_YES,
                              "the results of '%s' are too large", op->name);
    return phx_env_system(env, PHX_SYSEX_MARSHAL, 0, PHX_COMPLETED_YES,
                          "cannot encode the results of '%s': %s", op->name,
                          phx_strerror(rc));
}

int phx_op_not_implemented(const phx_opdesc_t *op, phx_env_t *env)
{
    return phx_env_system(env, PHX_SYSEX_NO_IMPLEMENT, 0,
                          PHX_COMPLETED_NO, "operation '%s' is not implemented",
                          op ? op->name : "?");
}

int phx_op_raise(phx_env_t *env, const phx_typecode_t *tc, const void *value)
{
    size_t size = phx_typecode_c_size(tc);
    void *copy;
    int rc;

    if (tc == NULL || size == 0)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0,
                              PHX_COMPLETED_MAYBE, "bad exception TypeCode");
    engine_use(NULL);
    copy = calloc(1, size);
    if (copy == NULL ||
        (value && phx_value_copy(tc, copy, value) != PHX_OK)) {
        free(copy);
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, "raising %s",
                              tc->repo_id ? tc->repo_id : "?");
    }
    rc = phx_env_user(env, tc, copy);
    if (rc != PHX_EUSEREX) {
        phx_value_free(tc, copy);
        free(copy);
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                              PHX_COMPLETED_MAYBE, "raising %s",
                              tc->repo_id ? tc->repo_id : "?");
    }
    return rc;
}
