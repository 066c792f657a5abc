/*
 * test_idl_frontend.c - CUnit tests of the parts of the phx-idl front end:
 * the lexer's literals, the preprocessor's macros and #if arithmetic,
 * constant evaluation and its range checks, the diagnostics format, and
 * recovery from an allocation failure at every point of a compilation.
 * (The golden tests of whole files are in tests/idl/run.sh.)
 */
#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/fe.h"
#include "compiler/intern.h"
#include "compiler/lex.h"
#include "compiler/mem.h"

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* Compile text; diagnostics land in *msgs (malloc'd, caller frees). */
static ast_root_t *compile(const char *text, diag_t *d, char **msgs)
{
    size_t len = 0;
    FILE *f = open_memstream(msgs, &len);
    ast_root_t *root;

    CU_ASSERT_FATAL(f != NULL);
    diag_init(d, f);
    root = fe_compile_buffer("t.idl", text, strlen(text), NULL, d);
    fclose(f);
    return root;
}

/* The top-level declaration called name. */
static const ast_node_t *find(const ast_root_t *root, const char *name)
{
    AST_FOREACH(n, root->node)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

/* Compile "const TYPE X = EXPR;" and return the value of X (kind NONE on
 * error; then *msgs holds the messages). */
static ast_value_t const_value(const char *type, const char *expr,
                               char **msgs)
{
    char text[512];
    diag_t d;
    ast_root_t *root;
    const ast_node_t *n;
    ast_value_t v;

    snprintf(text, sizeof text,
             "enum Color { RED, GREEN };\n"
             "const long TEN = 10;\n"
             "const %s X = %s;\n", type, expr);
    root = compile(text, &d, msgs);
    memset(&v, 0, sizeof v);
    CU_ASSERT_FATAL(root != NULL);
    n = find(root, "X");
    if (d.errors == 0 && n != NULL) {
        v = n->u.constant.value;
        if (v.kind == AST_V_STRING || v.kind == AST_V_WSTRING ||
            v.kind == AST_V_FIXED || v.kind == AST_V_ENUM) {
            /* Strings live in the tree: copy what tests look at. */
            static char keep[256];
            if (v.kind == AST_V_ENUM)
                snprintf(keep, sizeof keep, "%s", v.v.enumerator->name);
            else if (v.kind == AST_V_FIXED)
                snprintf(keep, sizeof keep, "%s%s/%" PRIu32,
                         v.v.fixed.negative ? "-" : "", v.v.fixed.digits,
                         v.v.fixed.scale);
            else
                snprintf(keep, sizeof keep, "%s", v.v.str.s);
            v.v.str.s = keep;
        }
    }
    ast_free(root);
    return v;
}

static void expect_int(const char *type, const char *expr, int64_t want)
{
    char *msgs = NULL;
    ast_value_t v = const_value(type, expr, &msgs);

    if (v.kind != AST_V_INT || v.v.i != want)
        fprintf(stderr, "\n  const %s X = %s: %s", type, expr,
                msgs ? msgs : "");
    CU_ASSERT_EQUAL(v.kind, AST_V_INT);
    CU_ASSERT_EQUAL(v.v.i, want);
    free(msgs);
}

static void expect_uint(const char *type, const char *expr, uint64_t want)
{
    char *msgs = NULL;
    ast_value_t v = const_value(type, expr, &msgs);

    if (v.kind != AST_V_UINT || v.v.u != want)
        fprintf(stderr, "\n  const %s X = %s: %s", type, expr,
                msgs ? msgs : "");
    CU_ASSERT_EQUAL(v.kind, AST_V_UINT);
    CU_ASSERT_EQUAL(v.v.u, want);
    free(msgs);
}

static void expect_error(const char *type, const char *expr,
                         const char *fragment)
{
    char *msgs = NULL;
    ast_value_t v = const_value(type, expr, &msgs);

    CU_ASSERT_EQUAL(v.kind, AST_V_NONE);
    CU_ASSERT_PTR_NOT_NULL(msgs);
    if (msgs != NULL && strstr(msgs, fragment) == NULL) {
        fprintf(stderr, "\n  const %s X = %s: wanted '%s', got: %s", type,
                expr, fragment, msgs);
        CU_FAIL("message");
    }
    free(msgs);
}

/* ---------------------------------------------------------------------------
 * Lexer
 * ------------------------------------------------------------------------- */

static void test_lex_literals(void)
{
    static const char text[] =
        "0x1F 017 42 1.5e3 .25 12.50d 'a' '\\n' '\\x41' '\\101' L'\\u00e9'\n"
        "\"a\\tb\" L\"\\u00e9t\\u00e9\" _interface interface Interface <<\n";
    mem_arena_t a;
    intern_t names;
    diag_t d;
    lex_state_t ls;
    lex_token_t t;
    jmp_buf jb;

    mem_arena_init(&a);
    a.on_oom = &jb;
    if (setjmp(jb) != 0) {
        CU_FAIL("out of memory");
        mem_arena_free(&a);
        return;
    }
    intern_init(&names, &a);
    diag_init(&d, NULL);
    lex_init(&ls, &a, &names, &d, "t.idl", text, sizeof text - 1);

    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_INT);
    CU_ASSERT_EQUAL(t.u, 31);
    CU_ASSERT_EQUAL(t.line, 1);
    CU_ASSERT_EQUAL(t.column, 1);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.u, 15);
    CU_ASSERT_EQUAL(t.column, 6);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.u, 42);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_FLOAT);
    CU_ASSERT(t.f == 1500.0L);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_FLOAT);
    CU_ASSERT(t.f == 0.25L);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_FIXED);
    CU_ASSERT_STRING_EQUAL(t.str, "1250");
    CU_ASSERT_EQUAL(t.scale, 2);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_CHAR);
    CU_ASSERT_EQUAL(t.ch, 'a');
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.ch, '\n');
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.ch, 'A');
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.ch, 'A');
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_WCHAR);
    CU_ASSERT_EQUAL(t.ch, 0xe9);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_STRING);
    CU_ASSERT_STRING_EQUAL(t.str, "a\tb");
    CU_ASSERT_TRUE(t.bol);
    CU_ASSERT_EQUAL(t.line, 2);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_WSTRING);
    CU_ASSERT_STRING_EQUAL(t.str, "\xc3\xa9t\xc3\xa9");
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_IDENT);
    CU_ASSERT_TRUE(t.escaped);
    CU_ASSERT_STRING_EQUAL(t.name, "interface");
    CU_ASSERT_EQUAL(t.kw, LEX_T_IDENT);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kw, LEX_KW_INTERFACE);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kw, LEX_T_IDENT);
    CU_ASSERT_EQUAL(lex_keyword_nocase(t.name, strlen(t.name)),
                    LEX_KW_INTERFACE);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_SHL);
    lex_next(&ls, &t);
    CU_ASSERT_EQUAL(t.kind, LEX_T_EOF);
    CU_ASSERT_EQUAL(d.errors, 0);
    mem_arena_free(&a);
}

/* Lex text to the end; one error containing fragment must come out. */
static void lex_error_case(const char *text, const char *fragment)
{
    char *msgs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&msgs, &len);
    mem_arena_t a;
    intern_t names;
    diag_t d;
    lex_state_t ls;
    lex_token_t t;
    jmp_buf jb;

    CU_ASSERT_FATAL(f != NULL);
    mem_arena_init(&a);
    a.on_oom = &jb;
    if (setjmp(jb) != 0) {
        CU_FAIL("out of memory");
        fclose(f);
        free(msgs);
        mem_arena_free(&a);
        return;
    }
    intern_init(&names, &a);
    diag_init(&d, f);
    lex_init(&ls, &a, &names, &d, "t.idl", text, strlen(text));
    do
        lex_next(&ls, &t);
    while (t.kind != LEX_T_EOF);
    fclose(f);
    CU_ASSERT(d.errors >= 1);
    if (msgs == NULL || strstr(msgs, fragment) == NULL) {
        fprintf(stderr, "\n  lexing %s: wanted '%s', got: %s", text, fragment,
                msgs ? msgs : "");
        CU_FAIL("lexer message");
    }
    free(msgs);
    mem_arena_free(&a);
}

static void test_lex_errors(void)
{
    lex_error_case("0x", "invalid number");
    lex_error_case("09", "invalid number");
    lex_error_case("123abc", "invalid number");
    lex_error_case("99999999999999999999", "too large");
    lex_error_case("'ab'", "more than one character");
    lex_error_case("''", "empty character literal");
    lex_error_case("\"abc", "missing terminating");
    lex_error_case("'\\q'", "unknown escape");
    lex_error_case("\"a\\0b\"", "NUL");
    lex_error_case("/* open", "unterminated comment");
    lex_error_case("@", "stray '@'");
    lex_error_case("'\\u0041'", "only allowed in wide");
}

/* ---------------------------------------------------------------------------
 * Preprocessor
 * ------------------------------------------------------------------------- */

static void test_pp_macros(void)
{
    static const char text[] =
        "#define SQ(x) ((x) * (x))\n"
        "#define TWICE(f, v) f(v) + f(v)\n"
        "#define CAT(a, b) a ## b\n"
        "#define STR(s) #s\n"
        "#define EMPTY\n"
        "#define SELF SELF\n"
        "#if defined(SQ) && SQ(3) == 9 && !defined NOPE && (1 ? 2 : 0) \\\n"
        "    && (-1 >> 1) == -1 && 7 % 4 == 3 && 'a' == 97\n"
        "const long A = TWICE(SQ, 4) EMPTY;\n"
        "#elif 1\n"
        "const long A = 0;\n"
        "#else\n"
        "#error not here\n"
        "#endif\n"
        "const long CAT(B, 2) = 5;\n"
        "const string S = STR(a  \"q\" b);\n"
        "#ifdef SELF\n"
        "const long SELF = 1;\n"
        "#endif\n"
        "#undef SQ\n"
        "#ifndef SQ\n"
        "const long C = __PHX_IDL__;\n"
        "#endif\n";
    char *msgs = NULL;
    diag_t d;
    ast_root_t *root = compile(text, &d, &msgs);
    const ast_node_t *n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    if (d.errors != 0)
        fprintf(stderr, "\n%s", msgs);
    CU_ASSERT_EQUAL(d.errors, 0);
    n = find(root, "A");
    CU_ASSERT_PTR_NOT_NULL(n);
    if (n != NULL)
        CU_ASSERT_EQUAL(n->u.constant.value.v.i, 32);
    n = find(root, "B2");
    CU_ASSERT_PTR_NOT_NULL(n);
    n = find(root, "S");
    CU_ASSERT_PTR_NOT_NULL(n);
    if (n != NULL)
        CU_ASSERT_STRING_EQUAL(n->u.constant.value.v.str.s, "a \"q\" b");
    CU_ASSERT_PTR_NOT_NULL(find(root, "SELF"));
    n = find(root, "C");
    CU_ASSERT_PTR_NOT_NULL(n);
    if (n != NULL)
        CU_ASSERT_EQUAL(n->u.constant.value.v.i, 1);
    ast_free(root);
    free(msgs);
}

static void test_pp_positions(void)
{
    /* An error in a macro's expansion points at the macro's use; lines
       stay exact across continuations, comments and skipped groups. */
    static const char text[] =
        "#define BAD (1 +)\n"
        "/* a comment\n"
        "   over lines */\n"
        "#if 0\n"
        "  'unterminated in a skipped group\n"
        "#endif\n"
        "const long \\\n"
        "  X = BAD;\n";
    char *msgs = NULL;
    diag_t d;
    ast_root_t *root = compile(text, &d, &msgs);

    CU_ASSERT_EQUAL(d.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(msgs);
    if (msgs != NULL && strncmp(msgs, "t.idl:8:7: error: ", 18) != 0) {
        fprintf(stderr, "\n  got: %s", msgs);
        CU_FAIL("position");
    }
    ast_free(root);
    free(msgs);
}

/* ---------------------------------------------------------------------------
 * Constant expressions
 * ------------------------------------------------------------------------- */

static void test_const_integers(void)
{
    expect_int("long", "1 + 2 * 3", 7);
    expect_int("long", "(1 + 2) * 3", 9);
    expect_int("long", "-7 / 2", -3);
    expect_int("long", "-7 % 2", -1);
    expect_int("long", "1 << 4 | 0x0F", 31);
    expect_int("long", "0xFF ^ 0x0F & 0x3C", 0xF3);
    expect_int("long", "-16 >> 2", -4);
    expect_int("long", "~0", -1);
    expect_int("long", "TEN * TEN - 1", 99);
    expect_int("long", "-2147483647 - 1", INT32_MIN);
    expect_int("short", "-32768", -32768);
    expect_int("long long", "-9223372036854775807 - 1", INT64_MIN);
    expect_int("long long", "(1 << 62) - 1 + (1 << 62)", INT64_MAX);
    expect_int("long", "+5 - -5", 10);
    expect_uint("unsigned short", "~0", 0xFFFF);
    expect_uint("unsigned long", "~0", 0xFFFFFFFFu);
    expect_uint("octet", "~0x0F", 0xF0);
    expect_uint("unsigned long", "-1 & 0xFF", 0xFF);
    expect_uint("unsigned long long", "18446744073709551615", UINT64_MAX);
    expect_uint("unsigned long long", "0xFFFFFFFFFFFFFFFF >> 60", 15);
    expect_uint("octet", "017", 15);
}

static void test_const_errors(void)
{
    expect_error("long", "1 / 0", "division by zero");
    expect_error("long", "1 % (TEN - 10)", "division by zero");
    expect_error("long", "1 << 64", "shift count 64 is out of range");
    expect_error("long", "1 >> -1", "out of range");
    expect_error("long", "2147483648", "out of range for long");
    expect_error("short", "32768", "out of range for short");
    expect_error("unsigned long", "-1", "out of range for unsigned long");
    expect_error("octet", "256", "out of range for octet");
    expect_error("long long", "18446744073709551615 + 1", "overflow");
    expect_error("long long", "4294967296 * 4294967296", "overflow");
    expect_error("long", "'a'", "expected an integer");
    expect_error("long", "1.5", "expected an integer");
    expect_error("long", "\"x\"", "expected an integer");
    expect_error("char", "'a' + 1", "cannot be applied");
    expect_error("boolean", "1", "expected TRUE or FALSE");
    expect_error("string<3>", "\"abcd\"", "longer than the bound");
    expect_error("Color", "3", "expected an enumerator");
    expect_error("long", "RED", "expected an integer");
    expect_error("long", "NOWHERE", "'NOWHERE' is not declared");
    expect_error("float", "1e39", "out of range for float");
    expect_error("double", "1.0 / 0.0", "division by zero");
    expect_error("double", "1.0 % 2.0", "needs integer operands");
    expect_error("string", "L\"wide\"", "expected a string");
}

static void test_const_other(void)
{
    char *msgs = NULL;
    ast_value_t v;

    v = const_value("double", "1.5e3 * 2 + TEN", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_FLOAT);
    CU_ASSERT(v.v.f == 3010.0L);
    free(msgs);
    msgs = NULL;
    v = const_value("fixed", "1.25d * 2 - 0.5d", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_FIXED);
    CU_ASSERT_STRING_EQUAL(v.v.str.s, "2/0");
    free(msgs);
    msgs = NULL;
    v = const_value("fixed", "1d / 3d", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_FIXED);
    CU_ASSERT_STRING_EQUAL(v.v.str.s,
                           "3333333333333333333333333333333/31");
    free(msgs);
    msgs = NULL;
    v = const_value("fixed", "-(0.125d)", &msgs);
    CU_ASSERT_STRING_EQUAL(v.v.str.s, "-125/3");
    free(msgs);
    msgs = NULL;
    v = const_value("char", "'\\''", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_CHAR);
    CU_ASSERT_EQUAL(v.v.ch, '\'');
    free(msgs);
    msgs = NULL;
    v = const_value("wchar", "L'\\u263A'", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_WCHAR);
    CU_ASSERT_EQUAL(v.v.ch, 0x263A);
    free(msgs);
    msgs = NULL;
    v = const_value("boolean", "TRUE", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_BOOL);
    CU_ASSERT_TRUE(v.v.b);
    free(msgs);
    msgs = NULL;
    v = const_value("string", "\"ab\" \"cd\"", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_STRING);
    CU_ASSERT_STRING_EQUAL(v.v.str.s, "abcd");
    free(msgs);
    msgs = NULL;
    v = const_value("Color", "GREEN", &msgs);
    CU_ASSERT_EQUAL(v.kind, AST_V_ENUM);
    CU_ASSERT_STRING_EQUAL(v.v.str.s, "GREEN");
    free(msgs);
}

/* ---------------------------------------------------------------------------
 * Diagnostics and memory
 * ------------------------------------------------------------------------- */

static void test_diag_format(void)
{
    char *msgs = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&msgs, &len);
    diag_t d;

    CU_ASSERT_FATAL(f != NULL);
    diag_init(&d, f);
    diag_error(&d, "a.idl", 3, 7, "bad %s", "thing");
    diag_warning(&d, "a.idl", 4, 1, "odd");
    diag_error(&d, "a.idl", 0, 0, "whole file");
    d.werror = 1;
    diag_warning(&d, "b.idl", 1, 2, "now an error");
    fclose(f);
    CU_ASSERT_STRING_EQUAL(msgs,
                           "a.idl:3:7: error: bad thing\n"
                           "a.idl:4:1: warning: odd\n"
                           "a.idl: error: whole file\n"
                           "b.idl:1:2: error: now an error\n");
    CU_ASSERT_EQUAL(d.errors, 3);
    CU_ASSERT_EQUAL(d.warnings, 1);
    free(msgs);
}

static void test_oom_everywhere(void)
{
    static const char text[] =
        "#define N 4\n"
        "module M { typedef sequence<octet, N> S; struct P { long x; };\n"
        "interface I { P f(in S s) raises (E); exception E {}; }; };\n";
    unsigned long n;
    bool done = false;

    /* Fail the 1st, 2nd, ... system allocation until one run succeeds:
       each failure must be reported and leave nothing behind. */
    for (n = 1; n < 10000 && !done; n++) {
        char *msgs = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&msgs, &len);
        diag_t d;
        ast_root_t *root;

        CU_ASSERT_FATAL(f != NULL);
        diag_init(&d, f);
        mem_fail_after(n);
        root = fe_compile_buffer("t.idl", text, strlen(text), NULL, &d);
        mem_fail_after(0);
        fclose(f);
        if (root == NULL) {
            CU_ASSERT(strstr(msgs, "out of memory") != NULL);
        } else {
            done = true;
        }
        ast_free(root);
        free(msgs);
    }
    CU_ASSERT_TRUE(done);
    CU_ASSERT(n > 2);
}

int main(void)
{
    CU_pSuite s;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("idl-frontend", NULL, NULL);
    if (s == NULL ||
        CU_add_test(s, "lexer literals", test_lex_literals) == NULL ||
        CU_add_test(s, "lexer errors", test_lex_errors) == NULL ||
        CU_add_test(s, "preprocessor macros", test_pp_macros) == NULL ||
        CU_add_test(s, "preprocessor positions", test_pp_positions) == NULL ||
        CU_add_test(s, "integer constants", test_const_integers) == NULL ||
        CU_add_test(s, "constant errors", test_const_errors) == NULL ||
        CU_add_test(s, "other constants", test_const_other) == NULL ||
        CU_add_test(s, "diagnostics format", test_diag_format) == NULL ||
        CU_add_test(s, "out of memory", test_oom_everywhere) == NULL) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0 ? 1 : 0;
}
