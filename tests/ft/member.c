/*
 * member.c - the phxtest::Member servant of the fault-tolerance tests
 * (member.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/ft/member.h"

static int m_add(void *self, int64_t v, int64_t *ret, phx_env_t *env)
{
    (void)env;
    member_t *m = self;
    atomic_fetch_add(&m->executed, 1);
    *ret = atomic_fetch_add(&m->total, v) + v;
    return 0;
}

static int m_echo(void *self, int64_t v, int64_t *ret, phx_env_t *env)
{
    (void)env;
    member_t *m = self;
    atomic_fetch_add(&m->executed, 1);
    *ret = v;
    return 0;
}

static int m_executed(void *self, int64_t *ret, phx_env_t *env)
{
    (void)env;
    member_t *m = self;
    *ret = atomic_load(&m->executed);
    return 0;
}

static int m_pid(void *self, int32_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    *ret = (int32_t)getpid();
    return 0;
}

static int m_set_group(void *self, const char *iogr, phx_env_t *env)
{
    member_t *m = self;
    phx_ior_t ior;
    phx_error_t err;
    if (m->ft == NULL)
        return phx_env_system(env, PHX_SYSEX_BAD_INV_ORDER, 0,
                              PHX_COMPLETED_NO, "no FT server here");
    if (phx_ior_from_string(iogr, &ior, &err) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "%s", err.msg);
    int rc = phx_ft_server_set_group(m->ft, m->key, strlen(m->key), &ior,
                                     &err);
    phx_ior_fini(&ior);
    if (rc != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "%s", err.msg);
    return 0;
}

static int m_refuse(void *self, int32_t code, phx_env_t *env)
{
    member_t *m = self;
    atomic_fetch_add(&m->executed, 1);
    phxtest_Member_Refused ex = {.code = code};
    return phxtest_Member_Refused__raise(env, &ex);
}

static int m_fail(void *self, const char *repo_id, int32_t completed,
                  phx_env_t *env)
{
    member_t *m = self;
    atomic_fetch_add(&m->executed, 1);
    return phx_env_system_id(env, repo_id, 0,
                             (phx_completion_t)(completed >= 0 &&
                                                        completed <= 2
                                                    ? completed
                                                    : PHX_COMPLETED_MAYBE));
}

static const phxtest_Member__epv epv = {
    .add = m_add,
    .echo = m_echo,
    .executed = m_executed,
    .pid = m_pid,
    .set_group = m_set_group,
    .refuse = m_refuse,
    .fail = m_fail,
};

void member_init(member_t *m, phx_orb_t *orb, phx_ft_server_t *ft,
                 const char *key)
{
    memset(m, 0, sizeof *m);
    atomic_init(&m->total, 0);
    atomic_init(&m->executed, 0);
    m->orb = orb;
    m->ft = ft;
    m->key = key;
    phxtest_Member__servant_init(&m->servant, &epv, m);
}
