/*
 * member.c - the phxtest::Member servant of the fault-tolerance tests
 * (member.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static unsigned long long mix(unsigned long long h, unsigned long long v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ULL;
}

static void fold(member_t *m, unsigned long long v)
{
    /* Replicated requests of a servant that is not multithreaded run one
     * at a time: a load and a store are enough. */
    atomic_store(&m->nd_hash, mix(atomic_load(&m->nd_hash), v));
}

static int m_gnow(void *self, int64_t *ret, phx_env_t *env)
{
    (void)env;
    member_t *m = self;
    struct timespec ts;
    phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
    *ret = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    fold(m, (unsigned long long)*ret);
    return 0;
}

static int m_grand(void *self, int64_t *ret, phx_env_t *env)
{
    (void)env;
    member_t *m = self;
    *ret = (int64_t)(phx_ft_random() >> 1);
    fold(m, (unsigned long long)*ret);
    return 0;
}

static int make_input(void *arg, uint8_t **data, size_t *len)
{
    member_t *m = arg;
    int64_t v = ((int64_t)getpid() << 32) |
                (int64_t)(atomic_fetch_add(&m->input_n, 1) & 0xffffffff);
    *data = malloc(sizeof v);
    if (*data == NULL)
        return -1;
    memcpy(*data, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

static int m_ginput(void *self, int64_t *ret, phx_env_t *env)
{
    member_t *m = self;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = phx_ft_input(make_input, m, &data, &len);
    if (rc != 0 || len != sizeof *ret) {
        free(data);
        return phx_env_system(env, PHX_SYSEX_NO_IMPLEMENT, 0,
                              PHX_COMPLETED_NO, "phx_ft_input: %d", rc);
    }
    memcpy(ret, data, sizeof *ret);
    free(data);
    fold(m, (unsigned long long)*ret);
    return 0;
}

static void raw_sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Random delays for the timing only (never into the state). */
static long jitter_us(long max)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)((unsigned long)(ts.tv_nsec / 7 + getpid()) %
                  (unsigned long)max);
}

static int m_work(void *self, int32_t sleep_ms, int64_t *ret,
                  phx_env_t *env)
{
    member_t *m = self;
    if (!m->nd_ready)
        return phx_env_system(env, PHX_SYSEX_NO_IMPLEMENT, 0,
                              PHX_COMPLETED_NO, "work: no nd mutex");
    raw_sleep_us(jitter_us(300));
    phx_ft_mutex_lock(&m->mx);
    long long c = ++m->work_count;
    m->work_hash = mix(m->work_hash, (unsigned long long)c ^ phx_ft_random());
    raw_sleep_us(jitter_us(200));
    if (c % 4 == 0) {
        /* A timed wait (someone may broadcast first, or not). */
        struct timespec ts;
        phx_ft_now(PHX_FT_CLOCK_REALTIME, &ts);
        ts.tv_nsec += 300000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = phx_ft_cond_timedwait(&m->cv, &m->mx, &ts);
        m->work_hash = mix(m->work_hash, rc == ETIMEDOUT ? 1 : 2);
        m->work_hash = mix(m->work_hash, (unsigned long long)m->work_count);
    } else {
        phx_ft_cond_broadcast(&m->cv);
    }
    phx_ft_mutex_unlock(&m->mx);
    atomic_fetch_add(&m->executed, 1);
    if (sleep_ms > 0)
        raw_sleep_us(sleep_ms * 1000L + jitter_us(1000));
    *ret = c;
    return 0;
}

static int m_bad(void *self, int64_t *ret, phx_env_t *env)
{
    (void)self;
    (void)env;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* secretly: not phx_ft_now */
    *ret = ((int64_t)getpid() << 40) ^ ts.tv_nsec;
    return 0;
}

int64_t member_digest(member_t *m)
{
    unsigned long long h = mix(0, (unsigned long long)atomic_load(&m->total));
    h = mix(h, (unsigned long long)atomic_load(&m->executed));
    h = mix(h, atomic_load(&m->nd_hash));
    if (m->nd_ready) {
        phx_ft_mutex_lock(&m->mx);
        h = mix(h, (unsigned long long)m->work_count);
        h = mix(h, m->work_hash);
        phx_ft_mutex_unlock(&m->mx);
    }
    return (int64_t)(h >> 1);
}

static int m_digest(void *self, int64_t *ret, phx_env_t *env)
{
    (void)env;
    *ret = member_digest(self);
    return 0;
}

void member_nd_init(member_t *m)
{
    phx_ft_mutex_init(&m->mx, "phxtest.member.work");
    phx_ft_cond_init(&m->cv);
    m->nd_ready = true;
}

void member_nd_fini(member_t *m)
{
    if (!m->nd_ready)
        return;
    m->nd_ready = false;
    phx_ft_cond_destroy(&m->cv);
    phx_ft_mutex_destroy(&m->mx);
}

static int m_relay(void *self, const char *iogr, int64_t v, int64_t *ret,
                   phx_env_t *env)
{
    member_t *m = self;
    phx_object_t *obj;
    phx_error_t err;
    if (phx_object_from_string(m->orb, iogr, &obj, &err) != PHX_OK)
        return phx_env_system(env, PHX_SYSEX_BAD_PARAM, 0, PHX_COMPLETED_NO,
                              "relay: %s", err.msg);
    int64_t got = 0;
    int rc;
    if (v < 0) {
        /* A user exception through the nested call (SEMI_ACTIVE
         * followers get it from the leader's record). */
        int32_t code = (int32_t)v;
        void *args[] = {&code};
        rc = phx_ft_call(obj, &phxtest_Member__op_refuse, args, NULL, env);
        if (rc == PHX_EUSEREX && env->user_tc == &TC_phxtest_Member_Refused &&
            env->user_value != NULL) {
            got = 1000000 +
                  ((phxtest_Member_Refused *)env->user_value)->code;
            phx_env_clear(env);
            rc = PHX_OK;
        } else if (rc == PHX_OK) {
            rc = phx_env_system(env, PHX_SYSEX_INTERNAL, 0,
                                PHX_COMPLETED_YES, "relay: no Refused");
        }
    } else {
        void *args[] = {&v};
        rc = phx_ft_call(obj, &phxtest_Member__op_add, args, &got, env);
    }
    phx_object_release(obj);
    if (rc != PHX_OK)
        return rc;
    fold(m, (unsigned long long)got);
    *ret = got;
    return 0;
}

static const phxtest_Member__epv epv = {
    .add = m_add,
    .echo = m_echo,
    .executed = m_executed,
    .pid = m_pid,
    .set_group = m_set_group,
    .refuse = m_refuse,
    .fail = m_fail,
    .gnow = m_gnow,
    .grand = m_grand,
    .ginput = m_ginput,
    .work = m_work,
    .bad = m_bad,
    .digest = m_digest,
    .relay = m_relay,
};

void member_init(member_t *m, phx_orb_t *orb, phx_ft_server_t *ft,
                 const char *key)
{
    memset(m, 0, sizeof *m);
    atomic_init(&m->total, 0);
    atomic_init(&m->executed, 0);
    atomic_init(&m->nd_hash, 0);
    atomic_init(&m->input_n, 0);
    m->orb = orb;
    m->ft = ft;
    m->key = key;
    phxtest_Member__servant_init(&m->servant, &epv, m);
}
