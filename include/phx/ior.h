/*
 * ior.h - interoperable object references (CORBA 3.0 chapter 13.6):
 * the IOR structure, tagged profiles and components, the IIOP and
 * Phalanx ZeroMQ profile bodies, the FT-CORBA group components, and the
 * stringified forms "IOR:<hex>" and "corbaloc:".
 *
 * Ownership: phx_ior_t, phx_tagged_profile_t, phx_tagged_component_t and
 * phx_profile_t own their memory (malloc'd copies) and are released with
 * their *_fini() functions, which are safe on zeroed structs and leave
 * them zeroed.  Every function that fails leaves its output zeroed.
 *
 * Profile tags:
 *   PHX_TAG_INTERNET_IOP 0         OMG: IIOP profile.
 *   PHX_TAG_MULTIPLE_COMPONENTS 1  OMG: components only.
 *   PHX_TAG_ZMQ_IOP 0x50485801     Phalanx ZeroMQ profile.  This is a
 *       PRIVATE value ("PHX" then 0x01), NOT assigned by the OMG: other
 *       ORBs skip the profile as unknown, as they must.  Its body is an
 *       encapsulation, laid out like the IIOP 1.1+ body with the host and
 *       port replaced by one ZeroMQ endpoint:
 *           octet major = 1, minor = 2;   GIOP version spoken there
 *           string endpoint;              "tcp://127.0.0.1:5555",
 *                                         "ipc:///tmp/x", "inproc://name"
 *                                         or, for GIOP over a Unix
 *                                         socket (IIOP transport),
 *                                         "iiop+unix://HOST/path"
 *           sequence<octet> object_key;
 *           sequence<IOP::TaggedComponent> components;
 *
 * corbaloc (CORBA 3.0 13.6.10):
 *   corbaloc:[iiop]:[M.m@]host[:port][,addr...]/key
 *       host is a DNS name, an IPv4 address or a bracketed IPv6 address
 *       ("[::1]", stored in the profile without brackets); the port
 *       defaults to 2809.  As the specification says, a missing version
 *       means IIOP 1.0, which gives an IIOP 1.0 profile (no components);
 *       write "1.2@" for a 1.2 profile.  One profile per address, all
 *       with the same key.
 *   corbaloc:phx:tcp:HOST:PORT/key      -> endpoint "tcp://HOST:PORT"
 *   corbaloc:phx:ipc:PATH/key           -> endpoint "ipc://PATH"; the
 *       path is %-escaped ("%2Ftmp%2Fx" for /tmp/x): '/', ',' and '%'
 *       must be escaped in it
 *   corbaloc:phx:inproc:NAME/key        -> endpoint "inproc://NAME"
 *   The key is URL-escaped: %XX gives any octet; other printable ASCII
 *   characters stand for themselves.  The "/" before the key is required
 *   by Phalanx (the grammar makes it optional, but a reference without a
 *   key names no object); the key after it may be empty.  A host is
 *   required (the grammar's empty host is refused).  Scheme and
 *   protocol names are matched without regard to case.  "rir:" and
 *   other protocols give PHX_EUNSUPPORTED.  A corbaloc reference has an
 *   empty type id.
 *
 * Strings may end with ASCII white space (a trailing newline from a
 * file), which is ignored; anything else that does not parse is an error
 * whose message says what and at which character offset.  Syntax errors
 * are PHX_EINVAL, undecodable IOR octets PHX_EMARSHAL, sizes beyond the
 * limits below PHX_ELIMIT.
 */
#ifndef PHX_IOR_H
#define PHX_IOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phx/cdr.h>
#include <phx/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Profile tags (IOP::ProfileId). */
#define PHX_TAG_INTERNET_IOP 0u
#define PHX_TAG_MULTIPLE_COMPONENTS 1u
#define PHX_TAG_ZMQ_IOP 0x50485801u /* private, see above */

/* Component tags (IOP::ComponentId). */
#define PHX_TAG_ORB_TYPE 0u
#define PHX_TAG_CODE_SETS 1u
#define PHX_TAG_POLICIES 2u
#define PHX_TAG_ALTERNATE_IIOP_ADDRESS 3u
#define PHX_TAG_FT_GROUP 27u
#define PHX_TAG_FT_PRIMARY 28u
#define PHX_TAG_FT_HEARTBEAT_ENABLED 29u

/* IANA port of corbaloc:iiop. */
#define PHX_IIOP_DEFAULT_PORT 2809

/* Largest encoded IOR accepted from a string (octets of the
 * encapsulation); the string itself may be twice that plus the prefix. */
#define PHX_IOR_MAX_ENCODED ((size_t)1 << 20)
/* Largest corbaloc string accepted. */
#define PHX_CORBALOC_MAX ((size_t)64 << 10)

typedef struct phx_tagged_profile {
    uint32_t tag;
    uint8_t *data;   /* profile_data (an encapsulation for IIOP/ZMQ) */
    uint32_t len;
} phx_tagged_profile_t;

typedef struct phx_tagged_component {
    uint32_t tag;
    uint8_t *data;   /* component_data (usually an encapsulation) */
    uint32_t len;
} phx_tagged_component_t;

typedef struct phx_ior {
    char *type_id;            /* repository id; "" or NULL when unknown */
    uint32_t profile_count;
    phx_tagged_profile_t *profiles;
} phx_ior_t;

/* A decoded IIOP, ZeroMQ or multiple-components profile. */
typedef struct phx_profile {
    uint32_t tag;             /* PHX_TAG_INTERNET_IOP / _ZMQ_IOP /
                                 _MULTIPLE_COMPONENTS */
    uint8_t major, minor;     /* IIOP/ZMQ version */
    char *host;               /* IIOP: name or address (IPv6 unbracketed) */
    uint16_t port;            /* IIOP */
    char *endpoint;           /* ZMQ endpoint */
    uint8_t *key;             /* object key (IIOP/ZMQ) */
    uint32_t key_len;
    uint32_t component_count; /* not in IIOP 1.0 */
    phx_tagged_component_t *components;
} phx_profile_t;

/* ------------------------------------------------------------------ */
/* IOR                                                                  */
/* ------------------------------------------------------------------ */

void phx_ior_init(phx_ior_t *ior);               /* zero */
void phx_ior_fini(phx_ior_t *ior);
int phx_ior_copy(phx_ior_t *dst, const phx_ior_t *src);

/* A nil reference: no profiles (the type id is normally ""). */
bool phx_ior_is_nil(const phx_ior_t *ior);

/* Replace the type id (copied; NULL means ""). */
int phx_ior_set_type_id(phx_ior_t *ior, const char *type_id);

/* Append a copy of a profile body. */
int phx_ior_add_profile(phx_ior_t *ior, uint32_t tag, const void *data,
                        size_t len);
/* Encode p and append it. */
int phx_ior_add_decoded_profile(phx_ior_t *ior, const phx_profile_t *p);
/* Append a ZeroMQ (1.2) or IIOP (1.2) profile; comps are copied. */
int phx_ior_add_zmq_profile(phx_ior_t *ior, const char *endpoint,
                            const void *key, size_t key_len,
                            const phx_tagged_component_t *comps,
                            size_t ncomps);
int phx_ior_add_iiop_profile(phx_ior_t *ior, const char *host, uint16_t port,
                             const void *key, size_t key_len,
                             const phx_tagged_component_t *comps,
                             size_t ncomps);

/* *out = an IOR with type_id and one ZeroMQ profile. */
int phx_ior_make_zmq(phx_ior_t *out, const char *type_id,
                     const char *endpoint, const void *key, size_t key_len,
                     const phx_tagged_component_t *comps, size_t ncomps);

/* CDR struct IOR, aligned relative to the writer's base. */
int phx_ior_write(phx_cdr_writer_t *w, const phx_ior_t *ior);
int phx_ior_read(phx_cdr_reader_t *r, phx_ior_t *ior, phx_error_t *err);

/* Decode an IOR struct that fills buf[0..len) exactly, in the given byte
 * order (e.g. the raw IOR of a GIOP ReferenceAddr target). */
int phx_ior_read_raw(const void *buf, size_t len, int byte_order,
                     phx_ior_t *ior, phx_error_t *err);

/* "IOR:" + lowercase hex of the IOR's encapsulation (malloc'd). */
int phx_ior_to_string(const phx_ior_t *ior, char **out);

/* Parse "IOR:..." (prefix in any case, hex digits in any case) or
 * "corbaloc:...". */
int phx_ior_from_string(const char *s, phx_ior_t *out, phx_error_t *err);

/* corbaloc URL for an IOR whose profiles are all IIOP or ZMQ and share
 * one object key (malloc'd).  The type id and the profiles' components
 * cannot be expressed in a corbaloc and are dropped.  PHX_EUNSUPPORTED for
 * other IORs, PHX_EINVAL for a nil one. */
int phx_ior_to_corbaloc(const phx_ior_t *ior, char **out);

/* Parse only "corbaloc:..." (called by phx_ior_from_string). */
int phx_corbaloc_parse(const char *s, phx_ior_t *out, phx_error_t *err);

/* ------------------------------------------------------------------ */
/* Profiles                                                             */
/* ------------------------------------------------------------------ */

void phx_tagged_profile_fini(phx_tagged_profile_t *tp);

/* Decode a tagged profile (IIOP any 1.x, ZMQ 1.x, multiple components);
 * PHX_EUNSUPPORTED for other tags or major versions.  Data after the
 * fields known to this version is ignored, as the spec asks. */
int phx_profile_decode(const phx_tagged_profile_t *tp, phx_profile_t *out,
                       phx_error_t *err);
int phx_profile_decode_raw(uint32_t tag, const void *data, size_t len,
                           phx_profile_t *out, phx_error_t *err);

/* Object key of an IIOP or ZMQ profile body, borrowed from data (no
 * allocation): for servers that look up ProfileAddr targets. */
int phx_profile_peek_key(uint32_t tag, const void *data, size_t len,
                         const uint8_t **key, size_t *key_len,
                         phx_error_t *err);

/* Encode p (tag, version, host/port or endpoint, key, components) into a
 * new profile body.  IIOP 1.0 has no components (they must be absent). */
int phx_profile_encode(const phx_profile_t *p, phx_tagged_profile_t *out);
void phx_profile_fini(phx_profile_t *p);

/* First component with the tag, or NULL. */
const phx_tagged_component_t *
phx_profile_find_component(const phx_profile_t *p, uint32_t tag);

/* ------------------------------------------------------------------ */
/* Components                                                           */
/* ------------------------------------------------------------------ */

void phx_tagged_component_fini(phx_tagged_component_t *c);
int phx_tagged_component_copy(phx_tagged_component_t *dst,
                              const phx_tagged_component_t *src);

/* TAG_FT_GROUP body (FT-CORBA TagFTGroupTaggedComponent). */
typedef struct phx_ft_group {
    uint8_t major, minor;          /* component version, normally 1.0 */
    char *ft_domain_id;
    uint64_t object_group_id;
    uint32_t object_group_ref_version;
} phx_ft_group_t;

int phx_ft_group_encode(const phx_ft_group_t *g, phx_tagged_component_t *out);
int phx_ft_group_decode(const phx_tagged_component_t *c, phx_ft_group_t *out,
                        phx_error_t *err);
void phx_ft_group_fini(phx_ft_group_t *g);

/* TAG_FT_PRIMARY body {boolean primary} and TAG_FT_HEARTBEAT_ENABLED
 * body {boolean heartbeat_enabled}: an encapsulated boolean under tag. */
int phx_component_encode_bool(uint32_t tag, bool v,
                              phx_tagged_component_t *out);
int phx_component_decode_bool(const phx_tagged_component_t *c, bool *v,
                              phx_error_t *err);
int phx_ft_primary_encode(bool primary, phx_tagged_component_t *out);
int phx_ft_primary_decode(const phx_tagged_component_t *c, bool *primary,
                          phx_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* PHX_IOR_H */
