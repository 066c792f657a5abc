/*
 * lex.h - the lexer of phx-idl: turns the text of one file into tokens with
 * exact positions.  It knows comments (both styles), line continuations
 * (backslash-newline, spliced everywhere), identifiers (with the '_'
 * escape), keywords, punctuators (including the ones only the
 * preprocessor uses) and every IDL literal, decoded.
 *
 * Words come out as LEX_T_IDENT with kw set to the keyword they spell
 * exactly (or LEX_T_IDENT); the preprocessor turns them into keyword tokens
 * once macro expansion is done (lex_classify()).
 */
#ifndef PHX_IDL_LEX_H
#define PHX_IDL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler/diag.h"
#include "compiler/intern.h"
#include "compiler/mem.h"

/* Tokens: enum suffix, description for messages. */
#define LEX_TOKEN_LIST(X)                                                    \
    X(EOF, "end of file")                                                    \
    X(IDENT, "identifier")                                                   \
    X(INT, "integer literal")                                                \
    X(FLOAT, "floating-point literal")                                       \
    X(FIXED, "fixed-point literal")                                          \
    X(CHAR, "character literal")                                             \
    X(WCHAR, "wide character literal")                                       \
    X(STRING, "string literal")                                              \
    X(WSTRING, "wide string literal")                                        \
    X(SEMI, "';'")                                                           \
    X(LBRACE, "'{'")                                                         \
    X(RBRACE, "'}'")                                                         \
    X(LPAREN, "'('")                                                         \
    X(RPAREN, "')'")                                                         \
    X(LBRACKET, "'['")                                                       \
    X(RBRACKET, "']'")                                                       \
    X(LT, "'<'")                                                             \
    X(GT, "'>'")                                                             \
    X(COMMA, "','")                                                          \
    X(COLON, "':'")                                                          \
    X(SCOPE, "'::'")                                                         \
    X(EQ, "'='")                                                             \
    X(OR, "'|'")                                                             \
    X(XOR, "'^'")                                                            \
    X(AND, "'&'")                                                            \
    X(SHL, "'<<'")                                                           \
    X(SHR, "'>>'")                                                           \
    X(PLUS, "'+'")                                                           \
    X(MINUS, "'-'")                                                          \
    X(STAR, "'*'")                                                           \
    X(SLASH, "'/'")                                                          \
    X(PERCENT, "'%'")                                                        \
    X(TILDE, "'~'")                                                          \
    X(HASH, "'#'")                                                           \
    X(HASHHASH, "'##'")                                                      \
    X(NOT, "'!'")                                                            \
    X(NE, "'!='")                                                            \
    X(EQEQ, "'=='")                                                          \
    X(LE, "'<='")                                                            \
    X(GE, "'>='")                                                            \
    X(ANDAND, "'&&'")                                                        \
    X(OROR, "'||'")                                                          \
    X(QUESTION, "'?'")                                                       \
    X(OTHER, "stray character")                                              \
    X(PRAGMA_PREFIX, "#pragma prefix")                                       \
    X(PRAGMA_ID, "#pragma ID")                                               \
    X(PRAGMA_VERSION, "#pragma version")                                     \
    X(FILE_ENTER, "start of an included file")                               \
    X(FILE_LEAVE, "end of an included file")

/* Keywords of IDL (CORBA 3): enum suffix, spelling. */
#define LEX_KEYWORD_LIST(X)                                                  \
    X(ABSTRACT, "abstract")                                                  \
    X(ANY, "any")                                                            \
    X(ATTRIBUTE, "attribute")                                                \
    X(BOOLEAN, "boolean")                                                    \
    X(CASE, "case")                                                          \
    X(CHAR, "char")                                                          \
    X(COMPONENT, "component")                                                \
    X(CONST, "const")                                                        \
    X(CONSUMES, "consumes")                                                  \
    X(CONTEXT, "context")                                                    \
    X(CUSTOM, "custom")                                                      \
    X(DEFAULT, "default")                                                    \
    X(DOUBLE, "double")                                                      \
    X(EMITS, "emits")                                                        \
    X(ENUM, "enum")                                                          \
    X(EVENTTYPE, "eventtype")                                                \
    X(EXCEPTION, "exception")                                                \
    X(FACTORY, "factory")                                                    \
    X(FALSE, "FALSE")                                                        \
    X(FINDER, "finder")                                                      \
    X(FIXED, "fixed")                                                        \
    X(FLOAT, "float")                                                        \
    X(GETRAISES, "getraises")                                                \
    X(HOME, "home")                                                          \
    X(IMPORT, "import")                                                      \
    X(IN, "in")                                                              \
    X(INOUT, "inout")                                                        \
    X(INTERFACE, "interface")                                                \
    X(LOCAL, "local")                                                        \
    X(LONG, "long")                                                          \
    X(MANAGES, "manages")                                                    \
    X(MODULE, "module")                                                      \
    X(MULTIPLE, "multiple")                                                  \
    X(NATIVE, "native")                                                      \
    X(OBJECT, "Object")                                                      \
    X(OCTET, "octet")                                                        \
    X(ONEWAY, "oneway")                                                      \
    X(OUT, "out")                                                            \
    X(PRIMARYKEY, "primarykey")                                              \
    X(PRIVATE, "private")                                                    \
    X(PROVIDES, "provides")                                                  \
    X(PUBLIC, "public")                                                      \
    X(PUBLISHES, "publishes")                                                \
    X(RAISES, "raises")                                                      \
    X(READONLY, "readonly")                                                  \
    X(SEQUENCE, "sequence")                                                  \
    X(SETRAISES, "setraises")                                                \
    X(SHORT, "short")                                                        \
    X(STRING, "string")                                                      \
    X(STRUCT, "struct")                                                      \
    X(SUPPORTS, "supports")                                                  \
    X(SWITCH, "switch")                                                      \
    X(TRUE, "TRUE")                                                          \
    X(TRUNCATABLE, "truncatable")                                            \
    X(TYPEDEF, "typedef")                                                    \
    X(TYPEID, "typeid")                                                      \
    X(TYPEPREFIX, "typeprefix")                                              \
    X(UNION, "union")                                                        \
    X(UNSIGNED, "unsigned")                                                  \
    X(USES, "uses")                                                          \
    X(VALUEBASE, "ValueBase")                                                \
    X(VALUETYPE, "valuetype")                                                \
    X(VOID, "void")                                                          \
    X(WCHAR, "wchar")                                                        \
    X(WSTRING, "wstring")

typedef enum lex_tok {
#define LEX_X_TOK(id, desc) LEX_T_##id,
    LEX_TOKEN_LIST(LEX_X_TOK)
#undef LEX_X_TOK
#define LEX_X_KW(id, spelling) LEX_KW_##id,
    LEX_KEYWORD_LIST(LEX_X_KW)
#undef LEX_X_KW
    LEX_TOK_COUNT
} lex_tok_t;

#define LEX_KW_FIRST LEX_KW_ABSTRACT

typedef struct lex_token {
    lex_tok_t kind;
    const char *file;           /* interned */
    uint32_t line;
    uint32_t column;
    bool bol;                   /* first token of its line */
    bool space;                 /* whitespace or a comment before it */
    bool noexpand;              /* a macro name that must not expand */
    const char *text;           /* spelling as written (arena / buffer) */
    size_t len;
    /* IDENT: the interned name without the '_' escape, and the keyword the
       word spells exactly (LEX_T_IDENT if none, always so when escaped). */
    const char *name;
    const char *spell;          /* IDENT: interned spelling, escape kept */
    lex_tok_t kw;
    bool escaped;
    bool bad_escape;            /* '_' not followed by a letter: an error
                                   once the word reaches the parser */
    /* Literals. INT: u (overflow set past 2^64-1); FLOAT: f; FIXED: str =
       digits without point or leading zeros, scale; CHAR/WCHAR: ch;
       STRING/WSTRING: str, str_len (decoded; WSTRING in UTF-8). */
    uint64_t u;
    bool overflow;
    long double f;
    uint32_t ch;
    const char *str;
    size_t str_len;
    uint32_t scale;
    /* PRAGMA_ID / PRAGMA_VERSION: the scoped name the pragma names;
       PRAGMA_VERSION: major, minor in u >> 32 / u & 0xffffffff. */
    const char *pname;
} lex_token_t;

typedef struct lex_state {
    mem_arena_t *arena;
    intern_t *names;
    diag_t *diag;
    const char *file;           /* interned */
    const char *buf;            /* the text (need not be NUL-terminated) */
    const char *end;
    const char *p;              /* next character */
    uint32_t line;              /* line of p */
    const char *line_start;     /* first character of that line */
    bool bol;                   /* no token yet on the current line */
    bool spaced;                /* lex_at_eol skipped blanks before the
                                   next token */
} lex_state_t;

void lex_init(lex_state_t *ls, mem_arena_t *arena, intern_t *names,
              diag_t *d, const char *file, const char *text, size_t len);

/* The next token (LEX_T_EOF at the end, repeatedly). */
void lex_next(lex_state_t *ls, lex_token_t *t);

/* For #include: scan a header name "..." or <...> right after the
 * directive name.  Returns true and sets *name (interned) and *angled;
 * false if the rest of the line is not a header name (nothing consumed). */
bool lex_header_name(lex_state_t *ls, const char **name, bool *angled,
                     uint32_t *line, uint32_t *column);

/* The raw rest of the current line, trimmed, comments kept (for #error),
 * up to the end of line; the newline itself is left. */
const char *lex_rest_of_line(lex_state_t *ls);

/* For skipped conditional groups: skip lines until one whose first token
 * is '#' (then the next lex_next() returns that '#'); false at EOF.  The
 * text of skipped lines is not tokenized, only comments are honoured. */
bool lex_skip_group(lex_state_t *ls);

/* True when nothing but blanks and comments is left on the current line
 * (a block comment may span lines and still belongs to it).  Consumes
 * those blanks and comments, not the newline. */
bool lex_at_eol(lex_state_t *ls);

/* Keyword that spells name exactly, or LEX_T_IDENT. */
lex_tok_t lex_keyword(const char *name, size_t len);
/* Keyword that name spells ignoring case, or LEX_T_IDENT. */
lex_tok_t lex_keyword_nocase(const char *name, size_t len);

const char *lex_tok_name(lex_tok_t t);      /* for messages: "';'" */

#endif /* PHX_IDL_LEX_H */
