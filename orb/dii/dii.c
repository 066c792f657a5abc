/*
 * dii.c - dynamic invocation and dynamic skeletons on top of the generic
 * invocation engine (include/phx/opdesc.h): the anys of include/phx/dii.h
 * become the engine's argument vectors.
 */
#include <stdlib.h>
#include <string.h>

#include <phx/dii.h>

#define ARGV_STACK 16

static bool is_void(const phx_typecode_t *tc)
{
    return tc == NULL || tc->kind == PHX_TK_VOID || tc->kind == PHX_TK_NULL;
}

int phx_dii_any_alloc(phx_any_t *a, const phx_typecode_t *tc)
{
    size_t n;

    memset(a, 0, sizeof *a);
    if (is_void(tc))
        return PHX_OK;
    n = phx_typecode_c_size(tc);
    if (n == 0)
        return PHX_EINVAL;
    a->_value = calloc(1, n);
    if (a->_value == NULL)
        return PHX_ENOMEM;
    a->_type = phx_typecode_ref(tc);
    a->_release = true;
    return PHX_OK;
}

void phx_dii_args_free(phx_any_t *args, size_t count)
{
    for (size_t i = 0; args && i < count; i++)
        phx_value_free(&phx_tc_any, &args[i]);
}

int phx_dii_args_new(const phx_opdesc_t *op, phx_any_t **out)
{
    phx_any_t *a;

    *out = NULL;
    a = calloc(op->param_count ? op->param_count : 1, sizeof *a);
    if (a == NULL)
        return PHX_ENOMEM;
    for (uint32_t i = 0; i < op->param_count; i++) {
        if (op->params[i].mode == PHX_PARAM_OUT)
            continue;
        int rc = phx_dii_any_alloc(&a[i], op->params[i].type);
        if (rc != PHX_OK) {
            phx_dii_args_free(a, i);
            free(a);
            return rc;
        }
    }
    *out = a;
    return PHX_OK;
}

/* ------------------------------------------------------------------ */
/* DII                                                                  */
/* ------------------------------------------------------------------ */

/* The argument vector: in/inout slots point at the anys' values, out
 * slots at fresh zeroed storage (owned by the any once the call
 * succeeds).  Raises BAD_PARAM for a missing or mistyped argument. */
static int build_argv(const phx_opdesc_t *op, phx_any_t *args,
                      void **argv, bool outs, phx_env_t *env)
{
    for (uint32_t i = 0; i < op->param_count; i++) {
        const phx_paramdesc_t *pd = &op->params[i];
        argv[i] = NULL;
        if (pd->mode == PHX_PARAM_OUT) {
            if (!outs)
                continue;
            size_t n = phx_typecode_c_size(pd->type);
            argv[i] = n ? calloc(1, n) : NULL;
            if (argv[i] == NULL)
                return phx_env_system(env, n ? PHX_SYSEX_NO_MEMORY
                                             : PHX_SYSEX_BAD_TYPECODE,
                                      0, PHX_COMPLETED_NO,
                                      "'%s': storage for out parameter '%s'",
                                      op->name, pd->name);
            continue;
        }
        if (args == NULL || args[i]._value == NULL)
            return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0,
                                  PHX_COMPLETED_NO,
                                  "'%s': no value for parameter '%s'",
                                  op->name, pd->name);
        if (args[i]._type && args[i]._type != pd->type &&
            !phx_typecode_equal(args[i]._type, pd->type))
            return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0,
                                  PHX_COMPLETED_NO,
                                  "'%s': parameter '%s' has type %s, "
                                  "expected %s", op->name, pd->name,
                                  args[i]._type->repo_id
                                      ? args[i]._type->repo_id : "?",
                                  pd->type->repo_id ? pd->type->repo_id
                                                    : "?");
        argv[i] = args[i]._value;
    }
    return PHX_OK;
}

static void drop_outs(const phx_opdesc_t *op, void **argv)
{
    for (uint32_t i = 0; i < op->param_count; i++)
        if (op->params[i].mode == PHX_PARAM_OUT)
            free(argv[i]);
}

static int alloc_argv(const phx_opdesc_t *op, void **stack, void ***argv,
                      phx_env_t *env)
{
    *argv = stack;
    if (op->param_count > ARGV_STACK &&
        (*argv = calloc(op->param_count, sizeof **argv)) == NULL)
        return phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0, PHX_COMPLETED_NO,
                              "'%s': argument vector", op->name);
    return PHX_OK;
}

/* Hand the results over to the anys. */
static int take_results(const phx_opdesc_t *op, phx_any_t *args,
                        void **argv, phx_any_t *result, void *res,
                        phx_env_t *env, int rc)
{
    for (uint32_t i = 0; i < op->param_count; i++) {
        if (op->params[i].mode != PHX_PARAM_OUT)
            continue;
        if (rc == PHX_OK) {
            phx_value_free(&phx_tc_any, &args[i]);
            args[i]._type = phx_typecode_ref(op->params[i].type);
            args[i]._value = argv[i];
            args[i]._release = true;
        } else {
            free(argv[i]);
        }
    }
    if (result) {
        memset(result, 0, sizeof *result);
        if (rc == PHX_OK && res) {
            result->_type = phx_typecode_ref(op->result);
            result->_value = res;
            result->_release = true;
            res = NULL;
        }
    }
    free(res);
    (void)env;
    return rc;
}

static int result_storage(const phx_opdesc_t *op, phx_any_t *result,
                          void **res, phx_env_t *env)
{
    size_t n;

    *res = NULL;
    if (result == NULL || is_void(op->result) || op->oneway)
        return PHX_OK;
    n = phx_typecode_c_size(op->result);
    if (n == 0 || (*res = calloc(1, n)) == NULL)
        return phx_env_system(env, n ? PHX_SYSEX_NO_MEMORY
                                     : PHX_SYSEX_BAD_TYPECODE,
                              0, PHX_COMPLETED_NO, "'%s': result storage",
                              op->name);
    return PHX_OK;
}

int phx_dii_invoke(phx_object_t *obj, const phx_opdesc_t *op,
                   phx_any_t *args, phx_any_t *result, phx_env_t *env)
{
    void *stack[ARGV_STACK], **argv, *res = NULL;
    int rc;

    if (op == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "no operation description");
    if ((rc = alloc_argv(op, stack, &argv, env)) != PHX_OK)
        return rc;
    rc = build_argv(op, args, argv, true, env);
    if (rc == PHX_OK)
        rc = result_storage(op, result, &res, env);
    if (rc != PHX_OK) {
        drop_outs(op, argv);
        if (argv != stack)
            free(argv);
        return rc;
    }
    rc = phx_op_invoke(obj, op, argv, res, env);
    take_results(op, args, argv, result, res, env, rc);
    if (argv != stack)
        free(argv);
    return rc;
}

int phx_dii_send(phx_object_t *obj, const phx_opdesc_t *op,
                 phx_any_t *args, phx_request_t **req, phx_env_t *env)
{
    void *stack[ARGV_STACK], **argv;
    int rc;

    *req = NULL;
    if (op == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "no operation description");
    if ((rc = alloc_argv(op, stack, &argv, env)) != PHX_OK)
        return rc;
    rc = build_argv(op, args, argv, false, env);
    if (rc == PHX_OK)
        rc = phx_op_send(obj, op, argv, req, env);
    if (argv != stack)
        free(argv);
    return rc;
}

int phx_dii_recv(phx_request_t *req, const phx_opdesc_t *op,
                 phx_any_t *args, phx_any_t *result, phx_env_t *env)
{
    void *stack[ARGV_STACK], **argv, *res = NULL;
    int rc;

    if (op == NULL) {
        phx_request_destroy(req);
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "no operation description");
    }
    if ((rc = alloc_argv(op, stack, &argv, env)) != PHX_OK) {
        phx_request_destroy(req);
        return rc;
    }
    rc = build_argv(op, args, argv, true, env);
    if (rc == PHX_OK)
        rc = result_storage(op, result, &res, env);
    if (rc != PHX_OK) {
        drop_outs(op, argv);
        if (argv != stack)
            free(argv);
        phx_request_destroy(req);
        return rc;
    }
    rc = phx_op_recv(req, op, argv, res, env);
    take_results(op, args, argv, result, res, env, rc);
    if (argv != stack)
        free(argv);
    return rc;
}

/* ------------------------------------------------------------------ */
/* DSI                                                                  */
/* ------------------------------------------------------------------ */

static int dsi_invoke(phx_servant_t *servant, phx_server_request_t *sr,
                      phx_env_t *env)
{
    phx_dsi_servant_t *sv = (phx_dsi_servant_t *)servant->impl;
    const char *name = phx_server_request_operation(sr);
    const phx_opdesc_t *op = phx_ifdesc_find_op(sv->desc, name);
    phx_any_t astack[ARGV_STACK], *anys = astack, result;
    void *vstack[ARGV_STACK], **argv = vstack, *res = NULL;
    uint32_t n;
    int rc = PHX_OK;

    if (op == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_OPERATION,
                              PHX_OMGVMCID | 2, PHX_COMPLETED_NO,
                              "%s has no operation '%s'", sv->desc->repo_id,
                              name);
    n = op->param_count;
    if (n > ARGV_STACK) {
        anys = calloc(n, sizeof *anys);
        argv = calloc(n, sizeof *argv);
        if (anys == NULL || argv == NULL) {
            rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                PHX_COMPLETED_NO, "'%s': arguments", name);
            goto out;
        }
    }
    memset(anys, 0, n * sizeof *anys);
    memset(argv, 0, n * sizeof *argv);
    memset(&result, 0, sizeof result);
    for (uint32_t i = 0; i < n; i++) {
        size_t sz = phx_typecode_c_size(op->params[i].type);
        if (sz == 0 || (argv[i] = calloc(1, sz)) == NULL) {
            rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                PHX_COMPLETED_NO, "'%s': arguments", name);
            goto out;
        }
        anys[i]._type = op->params[i].type;
        anys[i]._value = argv[i];
        anys[i]._release = false;
    }
    if (!is_void(op->result)) {
        size_t sz = phx_typecode_c_size(op->result);
        if (sz == 0 || (res = calloc(1, sz)) == NULL) {
            rc = phx_env_system(env, PHX_SYSEX_NO_MEMORY, 0,
                                PHX_COMPLETED_NO, "'%s': result", name);
            goto out;
        }
        result._type = op->result;
        result._value = res;
    }
    rc = phx_op_decode_args(sr, op, argv, res, env);
    if (rc != PHX_OK)
        goto out;
    rc = sv->handler(sv->self, op, anys, &result, env);
    if (rc == PHX_OK && env->major == PHX_NO_EXCEPTION)
        rc = phx_op_encode_results(sr, op, argv, res, env);
    phx_op_free_args(op, argv, res);
out:
    for (uint32_t i = 0; argv && i < n; i++)
        free(argv[i]);
    free(res);
    if (anys != astack)
        free(anys);
    if (argv != vstack)
        free(argv);
    return rc;
}

static int collect_bases(const phx_ifdesc_t *d, const char ***ids,
                         size_t *count, size_t *cap, int depth)
{
    if (depth > PHX_VALUE_MAX_DEPTH)
        return PHX_ELIMIT;
    for (uint32_t i = 0; i < d->base_count; i++) {
        const phx_ifdesc_t *b = d->bases[i];
        bool seen = false;
        if (b == NULL || b->repo_id == NULL)
            continue;
        for (size_t j = 0; j < *count; j++)
            if (strcmp((*ids)[j], b->repo_id) == 0)
                seen = true;
        if (!seen) {
            if (*count == *cap) {
                size_t nc = *cap ? *cap * 2 : 8;
                const char **p = realloc(*ids, nc * sizeof *p);
                if (p == NULL)
                    return PHX_ENOMEM;
                *ids = p;
                *cap = nc;
            }
            (*ids)[(*count)++] = b->repo_id;
        }
        int rc = collect_bases(b, ids, count, cap, depth + 1);
        if (rc != PHX_OK)
            return rc;
    }
    return PHX_OK;
}

int phx_dsi_servant_init(phx_dsi_servant_t *sv, const phx_ifdesc_t *iface,
                         phx_dsi_handler_t handler, void *self)
{
    size_t count = 0, cap = 0;
    const char **ids = NULL;
    int rc;

    memset(sv, 0, sizeof *sv);
    if (iface == NULL || iface->repo_id == NULL || handler == NULL)
        return PHX_EINVAL;
    rc = collect_bases(iface, &ids, &count, &cap, 0);
    if (rc != PHX_OK) {
        free(ids);
        return rc;
    }
    sv->_bases = ids;
    sv->iface.repo_id = iface->repo_id;
    sv->iface.bases = ids;
    sv->iface.base_count = count;
    sv->iface.ops = NULL;
    sv->iface.op_count = 0;
    sv->desc = iface;
    sv->handler = handler;
    sv->self = self;
    sv->base.iface = &sv->iface;
    sv->base.invoke = dsi_invoke;
    sv->base.impl = sv;
    return PHX_OK;
}

void phx_dsi_servant_fini(phx_dsi_servant_t *sv)
{
    if (sv == NULL)
        return;
    free(sv->_bases);
    sv->_bases = NULL;
    sv->iface.bases = NULL;
    sv->iface.base_count = 0;
}
