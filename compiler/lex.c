/*
 * lex.c - the lexer of phx-idl: characters to tokens (see lex.h).
 *
 * Backslash-newline is spliced out wherever it occurs: every character is
 * read through lex_cur()/lex_advance(), which step over splices and keep
 * the line count exact.
 */
#include "compiler/lex.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

static const char *const lex_tok_names[] = {
#define LEX_X_TOK(id, desc) desc,
    LEX_TOKEN_LIST(LEX_X_TOK)
#undef LEX_X_TOK
#define LEX_X_KW(id, spelling) "'" spelling "'",
    LEX_KEYWORD_LIST(LEX_X_KW)
#undef LEX_X_KW
};

static const char *const lex_kw_spellings[] = {
#define LEX_X_KW(id, spelling) spelling,
    LEX_KEYWORD_LIST(LEX_X_KW)
#undef LEX_X_KW
};

#define LEX_N_KEYWORDS (sizeof lex_kw_spellings / sizeof lex_kw_spellings[0])

const char *lex_tok_name(lex_tok_t t)
{
    if ((unsigned)t >= LEX_TOK_COUNT)
        return "token";
    return lex_tok_names[t];
}

lex_tok_t lex_keyword(const char *name, size_t len)
{
    size_t i;

    /* Keywords are 2 to 11 characters long and start with a letter. */
    if (len < 2 || len > 11)
        return LEX_T_IDENT;
    for (i = 0; i < LEX_N_KEYWORDS; i++) {
        const char *k = lex_kw_spellings[i];
        if (k[0] == name[0] && strlen(k) == len && memcmp(k, name, len) == 0)
            return (lex_tok_t)(LEX_KW_FIRST + i);
    }
    return LEX_T_IDENT;
}

lex_tok_t lex_keyword_nocase(const char *name, size_t len)
{
    size_t i, j;

    if (len < 2 || len > 11)
        return LEX_T_IDENT;
    for (i = 0; i < LEX_N_KEYWORDS; i++) {
        const char *k = lex_kw_spellings[i];
        if (strlen(k) != len)
            continue;
        for (j = 0; j < len; j++)
            if (tolower((unsigned char)k[j]) !=
                tolower((unsigned char)name[j]))
                break;
        if (j == len)
            return (lex_tok_t)(LEX_KW_FIRST + i);
    }
    return LEX_T_IDENT;
}

/* ---------------------------------------------------------------------------
 * Characters
 * ------------------------------------------------------------------------- */

#define LEX_EOF (-1)

void lex_init(lex_state_t *ls, mem_arena_t *arena, intern_t *names,
              diag_t *d, const char *file, const char *text, size_t len)
{
    ls->arena = arena;
    ls->names = names;
    ls->diag = d;
    ls->file = file;
    ls->buf = text;
    ls->end = text + len;
    ls->p = text;
    ls->line = 1;
    ls->line_start = text;
    ls->bol = true;
    ls->spaced = false;
}

/* Length of a splice (backslash, optional CR, newline) at q, or 0. */
static size_t lex_splice_at(const lex_state_t *ls, const char *q)
{
    if (q < ls->end && *q == '\\') {
        if (q + 1 < ls->end && q[1] == '\n')
            return 2;
        if (q + 2 < ls->end && q[1] == '\r' && q[2] == '\n')
            return 3;
    }
    return 0;
}

/* The current character, after stepping over splices. */
static int lex_cur(lex_state_t *ls)
{
    size_t n;

    while ((n = lex_splice_at(ls, ls->p)) != 0) {
        ls->p += n;
        ls->line++;
        ls->line_start = ls->p;
    }
    if (ls->p >= ls->end)
        return LEX_EOF;
    return (unsigned char)*ls->p;
}

/* The character k positions after the current one (splices skipped). */
static int lex_peek(lex_state_t *ls, size_t k)
{
    const char *q;
    size_t n;

    lex_cur(ls);
    q = ls->p;
    if (q >= ls->end)
        return LEX_EOF;
    q++;
    while (k > 0) {
        while ((n = lex_splice_at(ls, q)) != 0)
            q += n;
        if (q >= ls->end)
            return LEX_EOF;
        if (--k == 0)
            break;
        q++;
    }
    while ((n = lex_splice_at(ls, q)) != 0)
        q += n;
    if (q >= ls->end)
        return LEX_EOF;
    return (unsigned char)*q;
}

static void lex_advance(lex_state_t *ls)
{
    if (lex_cur(ls) == LEX_EOF)
        return;
    if (*ls->p == '\n') {
        ls->p++;
        ls->line++;
        ls->line_start = ls->p;
        ls->bol = true;
    } else {
        ls->p++;
    }
}

static uint32_t lex_column(const lex_state_t *ls)
{
    return (uint32_t)(ls->p - ls->line_start) + 1;
}

/* ---------------------------------------------------------------------------
 * Scratch buffer for decoded text
 * ------------------------------------------------------------------------- */

typedef struct lex_buf {
    mem_arena_t *arena;
    char *s;
    size_t len, cap;
    char small[128];
} lex_buf_t;

static void lex_buf_init(lex_buf_t *b, mem_arena_t *arena)
{
    b->arena = arena;
    b->s = b->small;
    b->len = 0;
    b->cap = sizeof b->small;
}

static void lex_buf_put(lex_buf_t *b, char c)
{
    if (b->len + 1 >= b->cap) {
        size_t ncap = b->cap * 2;
        char *ns = mem_alloc(b->arena, ncap);
        memcpy(ns, b->s, b->len);
        b->s = ns;
        b->cap = ncap;
    }
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
}

static void lex_buf_put_utf8(lex_buf_t *b, uint32_t c)
{
    if (c < 0x80) {
        lex_buf_put(b, (char)c);
    } else if (c < 0x800) {
        lex_buf_put(b, (char)(0xc0 | (c >> 6)));
        lex_buf_put(b, (char)(0x80 | (c & 0x3f)));
    } else {
        lex_buf_put(b, (char)(0xe0 | ((c >> 12) & 0x0f)));
        lex_buf_put(b, (char)(0x80 | ((c >> 6) & 0x3f)));
        lex_buf_put(b, (char)(0x80 | (c & 0x3f)));
    }
}

/* ---------------------------------------------------------------------------
 * Whitespace and comments
 * ------------------------------------------------------------------------- */

/* Skip the block comment that starts at the current character. */
static void lex_block_comment(lex_state_t *ls)
{
    uint32_t line = ls->line, col = lex_column(ls);
    int c;

    lex_advance(ls);
    lex_advance(ls);
    for (;;) {
        c = lex_cur(ls);
        if (c == LEX_EOF) {
            diag_error(ls->diag, ls->file, line, col, "unterminated comment");
            return;
        }
        if (c == '*' && lex_peek(ls, 1) == '/') {
            lex_advance(ls);
            lex_advance(ls);
            return;
        }
        lex_advance(ls);
    }
}

/* Skip blanks, newlines and comments; true if anything was skipped. */
static bool lex_skip_space(lex_state_t *ls)
{
    bool any = false;

    for (;;) {
        int c = lex_cur(ls);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
            c == '\v') {
            lex_advance(ls);
            any = true;
        } else if (c == '/' && lex_peek(ls, 1) == '/') {
            while ((c = lex_cur(ls)) != LEX_EOF && c != '\n')
                lex_advance(ls);
            any = true;
        } else if (c == '/' && lex_peek(ls, 1) == '*') {
            lex_block_comment(ls);
            any = true;
        } else {
            return any;
        }
    }
}

bool lex_at_eol(lex_state_t *ls)
{
    for (;;) {
        int c = lex_cur(ls);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ls->spaced = true;
            lex_advance(ls);
        } else if (c == '/' && lex_peek(ls, 1) == '/') {
            while ((c = lex_cur(ls)) != LEX_EOF && c != '\n')
                lex_advance(ls);
        } else if (c == '/' && lex_peek(ls, 1) == '*') {
            bool bol = ls->bol;
            lex_block_comment(ls);
            ls->bol = bol;
            ls->spaced = true;
        } else {
            return c == '\n' || c == LEX_EOF;
        }
    }
}

bool lex_skip_group(lex_state_t *ls)
{
    for (;;) {
        int c;
        lex_skip_space(ls);
        c = lex_cur(ls);
        if (c == LEX_EOF)
            return false;
        if (c == '#' && ls->bol)
            return true;
        ls->bol = false;
        /* Not a directive: skip to the end of the line or to a comment
           (skipped at the top of the loop); quotes are skipped whole so
           that a comment opener inside them is not taken for real. */
        while ((c = lex_cur(ls)) != LEX_EOF && c != '\n') {
            if (c == '/' && (lex_peek(ls, 1) == '*' || lex_peek(ls, 1) == '/'))
                break;
            if (c == '"' || c == '\'') {
                int q = c;
                lex_advance(ls);
                while ((c = lex_cur(ls)) != LEX_EOF && c != '\n' && c != q) {
                    if (c == '\\')
                        lex_advance(ls);
                    if (lex_cur(ls) != '\n')
                        lex_advance(ls);
                }
                if (c == q)
                    lex_advance(ls);
                continue;
            }
            lex_advance(ls);
        }
    }
}

const char *lex_rest_of_line(lex_state_t *ls)
{
    lex_buf_t b;
    int c;

    lex_buf_init(&b, ls->arena);
    while ((c = lex_cur(ls)) == ' ' || c == '\t')
        lex_advance(ls);
    while ((c = lex_cur(ls)) != LEX_EOF && c != '\n') {
        if (c != '\r')
            lex_buf_put(&b, (char)c);
        lex_advance(ls);
    }
    while (b.len > 0 && (b.s[b.len - 1] == ' ' || b.s[b.len - 1] == '\t'))
        b.len--;
    return mem_strndup(ls->arena, b.len ? b.s : "", b.len);
}

bool lex_header_name(lex_state_t *ls, const char **name, bool *angled,
                     uint32_t *line, uint32_t *column)
{
    const char *save_p = ls->p, *save_ls = ls->line_start;
    uint32_t save_line = ls->line;
    lex_buf_t b;
    int c, close;

    while ((c = lex_cur(ls)) == ' ' || c == '\t')
        lex_advance(ls);
    if (c != '"' && c != '<')
        goto fail;
    *line = ls->line;
    *column = lex_column(ls);
    *angled = c == '<';
    close = c == '<' ? '>' : '"';
    lex_advance(ls);
    lex_buf_init(&b, ls->arena);
    while ((c = lex_cur(ls)) != LEX_EOF && c != '\n' && c != close) {
        lex_buf_put(&b, (char)c);
        lex_advance(ls);
    }
    if (c != close)
        goto fail;
    lex_advance(ls);
    *name = intern_n(ls->names, b.len ? b.s : "", b.len);
    return true;

fail:
    ls->p = save_p;
    ls->line = save_line;
    ls->line_start = save_ls;
    return false;
}

/* ---------------------------------------------------------------------------
 * Literals
 * ------------------------------------------------------------------------- */

static int lex_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One character of a char or string literal, escapes decoded; the
 * current character is not the closing quote nor a newline. */
static uint32_t lex_char_body(lex_state_t *ls, bool wide)
{
    uint32_t line = ls->line, col = lex_column(ls);
    int c = lex_cur(ls);
    uint32_t v = 0;
    int n, d;

    lex_advance(ls);
    if (c != '\\')
        return (uint32_t)(unsigned char)c;
    c = lex_cur(ls);
    switch (c) {
    case 'n': lex_advance(ls); return '\n';
    case 't': lex_advance(ls); return '\t';
    case 'v': lex_advance(ls); return '\v';
    case 'b': lex_advance(ls); return '\b';
    case 'r': lex_advance(ls); return '\r';
    case 'f': lex_advance(ls); return '\f';
    case 'a': lex_advance(ls); return '\a';
    case '\\': case '?': case '\'': case '"':
        lex_advance(ls);
        return (uint32_t)c;
    case 'x':
        lex_advance(ls);
        for (n = 0; n < 2 && (d = lex_hexval(lex_cur(ls))) >= 0; n++) {
            v = v * 16 + (uint32_t)d;
            lex_advance(ls);
        }
        if (n == 0)
            diag_error(ls->diag, ls->file, line, col,
                       "\\x used with no following hex digits");
        return v;
    case 'u':
        lex_advance(ls);
        for (n = 0; n < 4 && (d = lex_hexval(lex_cur(ls))) >= 0; n++) {
            v = v * 16 + (uint32_t)d;
            lex_advance(ls);
        }
        if (n == 0)
            diag_error(ls->diag, ls->file, line, col,
                       "\\u used with no following hex digits");
        else if (!wide)
            diag_error(ls->diag, ls->file, line, col,
                       "\\u escape is only allowed in wide characters and "
                       "wide strings");
        else if (v >= 0xd800 && v <= 0xdfff)
            diag_error(ls->diag, ls->file, line, col,
                       "\\u%04X is a surrogate, not a character",
                       (unsigned)v);
        return v;
    default:
        if (c >= '0' && c <= '7') {
            for (n = 0; n < 3 && (c = lex_cur(ls)) >= '0' && c <= '7'; n++) {
                v = v * 8 + (uint32_t)(c - '0');
                lex_advance(ls);
            }
            if (v > 255) {
                diag_error(ls->diag, ls->file, line, col,
                           "octal escape out of range");
                v &= 255;
            }
            return v;
        }
        if (c == LEX_EOF || c == '\n') {
            diag_error(ls->diag, ls->file, line, col,
                       "backslash at the end of a line in a literal");
            return '\\';
        }
        diag_error(ls->diag, ls->file, line, col,
                   "unknown escape sequence '\\%c'",
                   isprint(c) ? c : '?');
        lex_advance(ls);
        return (uint32_t)c;
    }
}

static void lex_char_literal(lex_state_t *ls, lex_token_t *t, bool wide)
{
    uint32_t n = 0, v = 0;
    int c;

    t->kind = wide ? LEX_T_WCHAR : LEX_T_CHAR;
    lex_advance(ls);        /* the quote */
    while ((c = lex_cur(ls)) != LEX_EOF && c != '\n' && c != '\'') {
        uint32_t ch = lex_char_body(ls, wide);
        if (n++ == 0)
            v = ch;
    }
    if (c != '\'') {
        diag_error(ls->diag, ls->file, t->line, t->column,
                   "missing terminating ' character");
    } else {
        lex_advance(ls);
        if (n == 0)
            diag_error(ls->diag, ls->file, t->line, t->column,
                       "empty character literal");
        else if (n > 1)
            diag_error(ls->diag, ls->file, t->line, t->column,
                       "character literal holds more than one character");
    }
    t->ch = v;
}

static void lex_string_literal(lex_state_t *ls, lex_token_t *t, bool wide)
{
    lex_buf_t b;
    bool nul_reported = false;
    int c;

    t->kind = wide ? LEX_T_WSTRING : LEX_T_STRING;
    lex_buf_init(&b, ls->arena);
    lex_advance(ls);        /* the quote */
    while ((c = lex_cur(ls)) != LEX_EOF && c != '\n' && c != '"') {
        uint32_t line = ls->line, col = lex_column(ls);
        uint32_t ch = lex_char_body(ls, wide);
        if (ch == 0) {
            if (!nul_reported)
                diag_error(ls->diag, ls->file, line, col,
                           "a string literal cannot contain a NUL "
                           "character");
            nul_reported = true;
            continue;
        }
        if (wide)
            lex_buf_put_utf8(&b, ch);
        else
            lex_buf_put(&b, (char)ch);
    }
    if (c != '"')
        diag_error(ls->diag, ls->file, t->line, t->column,
                   "missing terminating \" character");
    else
        lex_advance(ls);
    t->str = mem_strndup(ls->arena, b.len ? b.s : "", b.len);
    t->str_len = b.len;
}

/* A number: scan a preprocessing number, then classify and convert it. */
static void lex_number(lex_state_t *ls, lex_token_t *t)
{
    lex_buf_t b;
    const char *s;
    size_t len, i;
    int c;

    lex_buf_init(&b, ls->arena);
    for (;;) {
        c = lex_cur(ls);
        if (isalnum(c) || c == '.' || c == '_') {
            lex_buf_put(&b, (char)c);
            lex_advance(ls);
            if ((c == 'e' || c == 'E') && (lex_cur(ls) == '+' ||
                                           lex_cur(ls) == '-') &&
                !(b.len > 1 && (b.s[1] == 'x' || b.s[1] == 'X'))) {
                lex_buf_put(&b, (char)lex_cur(ls));
                lex_advance(ls);
            }
        } else {
            break;
        }
    }
    s = b.s;
    len = b.len;
    t->u = 0;
    t->overflow = false;

    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        t->kind = LEX_T_INT;
        for (i = 2; i < len; i++) {
            int d = lex_hexval((unsigned char)s[i]);
            if (d < 0)
                goto bad;
            if (t->u > (UINT64_MAX >> 4))
                t->overflow = true;
            t->u = (t->u << 4) | (uint64_t)d;
        }
        goto check_overflow;
    }
    if (len >= 1 && (s[len - 1] == 'd' || s[len - 1] == 'D')) {
        /* fixed-point: digits [. digits] d */
        lex_buf_t digits;
        bool point = false, any = false;
        t->kind = LEX_T_FIXED;
        t->scale = 0;
        lex_buf_init(&digits, ls->arena);
        for (i = 0; i + 1 < len; i++) {
            if (s[i] == '.' && !point) {
                point = true;
            } else if (isdigit((unsigned char)s[i])) {
                any = true;
                if (point)
                    t->scale++;
                if (digits.len > 0 || s[i] != '0')
                    lex_buf_put(&digits, s[i]);
                else if (point)
                    lex_buf_put(&digits, s[i]);
            } else {
                goto bad;
            }
        }
        if (!any)
            goto bad;
        /* Leading zeros of the whole number go, the scale stays. */
        {
            size_t k = 0;
            while (k + 1 < digits.len && digits.s[k] == '0' &&
                   digits.len - k > t->scale)
                k++;
            t->str = mem_strndup(ls->arena, digits.len ? digits.s + k : "0",
                                 digits.len ? digits.len - k : 1);
        }
        if (strlen(t->str) > 31)
            diag_error(ls->diag, ls->file, t->line, t->column,
                       "fixed-point literal has more than 31 digits");
        return;
    }
    for (i = 0; i < len; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
            break;
    if (i < len) {
        char *endp;
        t->kind = LEX_T_FLOAT;
        for (i = 0; i < len; i++)
            if (!isdigit((unsigned char)s[i]) && s[i] != '.' && s[i] != 'e' &&
                s[i] != 'E' && s[i] != '+' && s[i] != '-')
                goto bad;
        t->f = strtold(s, &endp);
        if (*endp != '\0' || !(isdigit((unsigned char)s[0]) ||
                               (s[0] == '.' && len > 1 &&
                                isdigit((unsigned char)s[1]))))
            goto bad;
        return;
    }
    t->kind = LEX_T_INT;
    if (s[0] == '0') {
        for (i = 1; i < len; i++) {
            if (s[i] < '0' || s[i] > '7')
                goto bad;
            if (t->u > (UINT64_MAX >> 3))
                t->overflow = true;
            t->u = (t->u << 3) | (uint64_t)(s[i] - '0');
        }
        goto check_overflow;
    }
    for (i = 0; i < len; i++) {
        uint64_t d;
        if (!isdigit((unsigned char)s[i]))
            goto bad;
        d = (uint64_t)(s[i] - '0');
        if (t->u > (UINT64_MAX - d) / 10)
            t->overflow = true;
        t->u = t->u * 10 + d;
    }
check_overflow:
    if (t->overflow)
        diag_error(ls->diag, ls->file, t->line, t->column,
                   "integer literal '%s' is too large (more than 64 bits)",
                   s);
    return;
bad:
    diag_error(ls->diag, ls->file, t->line, t->column,
               "invalid number '%s'", s);
    t->kind = LEX_T_INT;
    t->u = 0;
}

/* ---------------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------------- */

static bool lex_is_ident_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static void lex_word(lex_state_t *ls, lex_token_t *t)
{
    lex_buf_t b;
    const char *name;
    size_t len;
    int c;

    lex_buf_init(&b, ls->arena);
    while (lex_is_ident_char(c = lex_cur(ls))) {
        lex_buf_put(&b, (char)c);
        lex_advance(ls);
    }
    t->kind = LEX_T_IDENT;
    name = b.s;
    len = b.len;
    t->escaped = false;
    if (name[0] == '_') {
        t->escaped = true;
        name++;
        len--;
        if (len == 0 || !isalpha((unsigned char)name[0]))
            t->bad_escape = true;
    }
    t->name = intern_n(ls->names, name, len);
    t->spell = t->escaped ? intern_n(ls->names, b.s, b.len) : t->name;
    t->kw = t->escaped ? LEX_T_IDENT : lex_keyword(name, len);
}

void lex_next(lex_state_t *ls, lex_token_t *t)
{
    const char *start;
    int c, c1;

    memset(t, 0, sizeof *t);
    t->space = lex_skip_space(ls) || ls->spaced;
    ls->spaced = false;
again:
    c = lex_cur(ls);
    t->bol = ls->bol;
    t->file = ls->file;
    t->line = ls->line;
    t->column = lex_column(ls);
    t->kw = LEX_T_IDENT;
    start = ls->p;
    if (c == LEX_EOF) {
        t->kind = LEX_T_EOF;
        t->text = "";
        return;
    }
    ls->bol = false;
    c1 = lex_peek(ls, 1);

    if (c == 'L' && (c1 == '\'' || c1 == '"')) {
        lex_advance(ls);
        if (c1 == '\'')
            lex_char_literal(ls, t, true);
        else
            lex_string_literal(ls, t, true);
    } else if (isalpha(c) || c == '_') {
        lex_word(ls, t);
    } else if (isdigit(c) || (c == '.' && isdigit(c1))) {
        lex_number(ls, t);
    } else if (c == '\'') {
        lex_char_literal(ls, t, false);
    } else if (c == '"') {
        lex_string_literal(ls, t, false);
    } else {
        lex_tok_t k = LEX_T_OTHER;
        size_t n = 1;
        switch (c) {
        case ';': k = LEX_T_SEMI; break;
        case '{': k = LEX_T_LBRACE; break;
        case '}': k = LEX_T_RBRACE; break;
        case '(': k = LEX_T_LPAREN; break;
        case ')': k = LEX_T_RPAREN; break;
        case '[': k = LEX_T_LBRACKET; break;
        case ']': k = LEX_T_RBRACKET; break;
        case ',': k = LEX_T_COMMA; break;
        case '^': k = LEX_T_XOR; break;
        case '+': k = LEX_T_PLUS; break;
        case '-': k = LEX_T_MINUS; break;
        case '*': k = LEX_T_STAR; break;
        case '/': k = LEX_T_SLASH; break;
        case '%': k = LEX_T_PERCENT; break;
        case '~': k = LEX_T_TILDE; break;
        case '?': k = LEX_T_QUESTION; break;
        case ':':
            if (c1 == ':') { k = LEX_T_SCOPE; n = 2; } else k = LEX_T_COLON;
            break;
        case '<':
            if (c1 == '<') { k = LEX_T_SHL; n = 2; }
            else if (c1 == '=') { k = LEX_T_LE; n = 2; }
            else k = LEX_T_LT;
            break;
        case '>':
            if (c1 == '>') { k = LEX_T_SHR; n = 2; }
            else if (c1 == '=') { k = LEX_T_GE; n = 2; }
            else k = LEX_T_GT;
            break;
        case '=':
            if (c1 == '=') { k = LEX_T_EQEQ; n = 2; } else k = LEX_T_EQ;
            break;
        case '!':
            if (c1 == '=') { k = LEX_T_NE; n = 2; } else k = LEX_T_NOT;
            break;
        case '&':
            if (c1 == '&') { k = LEX_T_ANDAND; n = 2; } else k = LEX_T_AND;
            break;
        case '|':
            if (c1 == '|') { k = LEX_T_OROR; n = 2; } else k = LEX_T_OR;
            break;
        case '#':
            if (c1 == '#') { k = LEX_T_HASHHASH; n = 2; } else k = LEX_T_HASH;
            break;
        default:
            break;
        }
        if (k == LEX_T_OTHER) {
            if (isprint(c))
                diag_error(ls->diag, ls->file, t->line, t->column,
                           "stray '%c' in the input", c);
            else
                diag_error(ls->diag, ls->file, t->line, t->column,
                           "stray byte 0x%02X in the input", (unsigned)c);
            lex_advance(ls);
            t->space = true;
            lex_skip_space(ls);
            goto again;
        }
        while (n-- > 0)
            lex_advance(ls);
        t->kind = k;
    }
    t->text = start;
    t->len = (size_t)(ls->p - start);
}
