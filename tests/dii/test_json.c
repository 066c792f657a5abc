/*
 * test_json.c - JSON <-> values (include/phx/json.h) for every IDL type of
 * idl/everything.idl, both ways, against golden strings; the error
 * messages (path, expected type, what was found); the strict parser (RFC
 * 8259 syntax, UTF-8, limits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include <phx/dii.h>
#include <phx/json.h>
#include <phx/phx.h>

#include "idl/everything.h"

static const phx_typecode_t *resolve(void *arg, const char *id)
{
    static const phx_typecode_t *const known[] = {
        &TC_Test_Point, &TC_Test_Color, &TC_Test_ByLong, &TC_Test_Longs};
    (void)arg;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i]->repo_id, id) == 0)
            return known[i];
    return NULL;
}

/* Parse in, print it back, compare with out (NULL: same as in). */
static void round_trip(const phx_typecode_t *tc, const char *in,
                       const char *out)
{
    phx_json_opts_t o = {.resolve = resolve};
    phx_any_t a;
    phx_error_t err;
    char *s = NULL;

    CU_ASSERT_EQUAL_FATAL(phx_dii_any_alloc(&a, tc), 0);
    int rc = phx_json_to_value_ex(tc, in, strlen(in), a._value, NULL, &o,
                                  &err);
    if (rc) {
        fprintf(stderr, "parse %s: %s\n", in, err.msg);
        CU_FAIL("parse");
    } else {
        CU_ASSERT_EQUAL(phx_value_to_json(tc, a._value, &s), 0);
        if (s && strcmp(s, out ? out : in) != 0) {
            fprintf(stderr, "\n got %s\nwant %s\n", s, out ? out : in);
            CU_FAIL("round trip");
        }
        free(s);
    }
    phx_value_free(&phx_tc_any, &a);
}

static void test_every_type(void)
{
    round_trip(&phx_tc_short, "-32768", NULL);
    round_trip(&phx_tc_ushort, "65535", NULL);
    round_trip(&phx_tc_long, "-2147483648", NULL);
    round_trip(&phx_tc_ulong, "4294967295", NULL);
    round_trip(&phx_tc_longlong, "-9223372036854775808", NULL);
    round_trip(&phx_tc_longlong, "9223372036854775807", NULL);
    round_trip(&phx_tc_ulonglong, "18446744073709551615", NULL);
    round_trip(&phx_tc_ulonglong, " 0 ", "0");
    round_trip(&phx_tc_long, "-0", "0");
    round_trip(&phx_tc_octet, "255", NULL);
    round_trip(&phx_tc_float, "1.5", NULL);
    round_trip(&phx_tc_float, "0.1", NULL);
    round_trip(&phx_tc_double, "0.1", NULL);
    round_trip(&phx_tc_double, "3.141592653589793", NULL);
    round_trip(&phx_tc_double, "1E300", "1e+300");
    round_trip(&phx_tc_double, "100.0", "100");
    round_trip(&phx_tc_double, "\"NaN\"", NULL);
    round_trip(&phx_tc_double, "\"-Infinity\"", NULL);
    round_trip(&phx_tc_boolean, "true", NULL);
    round_trip(&phx_tc_boolean, "false", NULL);
    round_trip(&phx_tc_char, "\"q\"", NULL);
    round_trip(&phx_tc_char, "\"\\u00e9\"", "\"\xc3\xa9\"");
    round_trip(&phx_tc_char, "\"\\n\"", NULL);
    round_trip(&phx_tc_string, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\"",
               "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\"");
    round_trip(&phx_tc_string, "\"caf\xc3\xa9 \\ud83d\\ude00\"",
               "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    round_trip(&TC_Test_Name, "\"sixteen-chars-ok\"", NULL);
    round_trip(&TC_Test_Color, "\"green\"", NULL);
    round_trip(&TC_Test_Longs, "[ 1 , 2,3 ]", "[1,2,3]");
    round_trip(&TC_Test_Strings4, "[\"a\",\"b\",\"c\",\"d\"]", NULL);
    round_trip(&TC_Test_LongsSeq, "[[1],[],[2,3]]", NULL);
    round_trip(&TC_Test_Colors, "[\"red\",\"blue\"]", NULL);
    round_trip(&TC_Test_Points, "[{\"y\":2,\"x\":1}]", "[{\"x\":1,\"y\":2}]");
    round_trip(&TC_Test_MatrixAlias2, "[[1,2,3],[4,5,6]]", NULL);
    round_trip(&TC_Test_Names, "[\"a\",\"\"]", NULL);
    round_trip(&TC_Test_PointGrid,
               "[[{\"x\":1,\"y\":2},{\"x\":3,\"y\":4}],"
               "[{\"x\":5,\"y\":6},{\"x\":7,\"y\":8}]]", NULL);
    round_trip(&TC_Test_AllPrims,
               "{\"s\":-1,\"us\":2,\"l\":-3,\"ul\":4,\"ll\":-5,\"ull\":6,"
               "\"f\":0.5,\"d\":0.25,\"b\":true,\"c\":\"z\",\"o\":9}", NULL);
    round_trip(&TC_Test_Nested,
               "{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,"
               "\"label\":\"lbl\",\"vals\":[1.5,2.5,3.5]},\"corners\":"
               "[{\"x\":0,\"y\":0}],\"color\":\"green\",\"longs\":[1,2],"
               "\"words\":[[\"a\",\"b\"],[]]}", NULL);
    round_trip(&TC_Test_Node,
               "{\"value\":1,\"kids\":[{\"value\":2,\"kids\":[]}]}", NULL);
    /* unions: both input forms; output is always the explicit form */
    round_trip(&TC_Test_ByLong, "{\"discriminator\":2,\"value\":\"two\"}",
               NULL);
    round_trip(&TC_Test_ByLong, "{\"s\":\"two\"}",
               "{\"discriminator\":2,\"value\":\"two\"}");
    round_trip(&TC_Test_ByLong, "{\"p\":{\"x\":1,\"y\":1}}",
               "{\"discriminator\":0,\"value\":{\"x\":1,\"y\":1}}");
    round_trip(&TC_Test_ByLong, "{\"discriminator\":99,\"value\":"
                                "{\"x\":1,\"y\":1}}", NULL);
    round_trip(&TC_Test_ByShort, "{\"discriminator\":0}", NULL);
    round_trip(&TC_Test_ByShort, "{\"ls\":[1]}",
               "{\"discriminator\":7,\"value\":[1]}");
    round_trip(&TC_Test_ByULongLong,
               "{\"discriminator\":18446744073709551615,\"value\":255}",
               NULL);
    round_trip(&TC_Test_ByChar, "{\"other\":3}",
               "{\"discriminator\":\"\\u0000\",\"value\":3}");
    round_trip(&TC_Test_ByChar, "{\"b\":\"n\"}",
               "{\"discriminator\":\"b\",\"value\":\"n\"}");
    round_trip(&TC_Test_ByBool, "{\"no\":\"x\"}",
               "{\"discriminator\":false,\"value\":\"x\"}");
    round_trip(&TC_Test_ByEnumAlias, "{\"g\":{\"x\":1,\"y\":2}}",
               "{\"discriminator\":\"green\",\"value\":{\"x\":1,\"y\":2}}");
    /* any and TypeCode */
    round_trip(&phx_tc_any, "{\"type\":\"long\",\"value\":5}", NULL);
    round_trip(&phx_tc_any, "{\"value\":null,\"type\":\"null\"}",
               "{\"type\":\"null\",\"value\":null}");
    round_trip(&phx_tc_any,
               "{\"type\":\"IDL:phalanx.org/Test/Point:1.0\","
               "\"value\":{\"x\":1,\"y\":2}}", NULL);
    round_trip(&phx_tc_any,
               "{\"type\":\"sequence<sequence<string<4>>,2>\","
               "\"value\":[[\"abcd\"],[]]}", NULL);
    round_trip(&phx_tc_any,
               "{\"type\":\"any\",\"value\":{\"type\":\"unsigned long long\","
               "\"value\":18446744073709551615}}", NULL);
    round_trip(&phx_tc_TypeCode, "\"IDL:phalanx.org/Test/Longs:1.0\"", NULL);
    round_trip(&phx_tc_TypeCode, "\"sequence<long,5>\"", NULL);
    round_trip(&phx_tc_TypeCode, "\"Object\"", NULL);
    round_trip(&TC_Test_Base, "null", NULL);
    round_trip(&TC_Test_Oops,
               "{\"code\":1,\"why\":\"w\",\"where\":[]}", NULL);
    round_trip(&TC_Test_Empty, "{}", NULL);
}

/* The message of a failed parse, with the path prefix. */
static void bad(const phx_typecode_t *tc, const char *in, const char *path,
                const char *msg)
{
    phx_json_opts_t o = {.resolve = resolve};
    phx_any_t a;
    phx_error_t err;

    CU_ASSERT_EQUAL_FATAL(phx_dii_any_alloc(&a, tc), 0);
    int rc = phx_json_to_value_ex(tc, in, strlen(in), a._value, path, &o,
                                  &err);
    CU_ASSERT(rc != PHX_OK);
    if (strcmp(err.msg, msg) != 0) {
        fprintf(stderr, "\n got %s\nwant %s\n", err.msg, msg);
        CU_FAIL("message");
    }
    /* storage left zeroed */
    static const uint8_t zero[512];
    CU_ASSERT(memcmp(a._value, zero, phx_typecode_c_size(tc)) == 0);
    phx_value_free(&phx_tc_any, &a);
}

static void test_errors(void)
{
    bad(&TC_Test_Nested,
        "{\"p\":{\"x\":1,\"y\":2},\"detail\":{\"tag\":7,\"label\":\"x\","
        "\"vals\":[1,2,\"3\"]},\"corners\":[],\"color\":\"red\","
        "\"longs\":[],\"words\":[]}",
        "args[1]",
        "args[1].detail.vals[2]: expected a number, got \"3\"");
    bad(&TC_Test_Nested,
        "{\"p\":{\"x\":1,\"y\":\"x\"}}", "args[0]",
        "args[0].p.y: expected an integer -2147483648..2147483647, "
        "got \"x\"");
    bad(&TC_Test_Point, "{\"x\":1}", NULL,
        "value: missing member \"y\" (long)");
    bad(&TC_Test_Point, "{\"x\":1,\"y\":2,\"z\":3}", NULL,
        "value: unknown member \"z\" (struct Point has: x, y)");
    bad(&TC_Test_Point, "[1,2]", "p",
        "p: expected an object (struct Point), got [1,2]");
    bad(&phx_tc_ushort, "65536", NULL,
        "value: expected an integer 0..65535, got 65536");
    bad(&phx_tc_ushort, "-1", NULL,
        "value: expected an integer 0..65535, got -1");
    bad(&phx_tc_long, "1.0", NULL,
        "value: expected an integer -2147483648..2147483647, got 1.0");
    bad(&phx_tc_long, "1e2", NULL,
        "value: expected an integer -2147483648..2147483647, got 1e2");
    bad(&phx_tc_longlong, "9223372036854775808", NULL,
        "value: expected an integer -9223372036854775808.."
        "9223372036854775807, got 9223372036854775808");
    bad(&phx_tc_longlong, "-9223372036854775809", NULL,
        "value: expected an integer -9223372036854775808.."
        "9223372036854775807, got -9223372036854775809");
    bad(&phx_tc_ulonglong, "18446744073709551616", NULL,
        "value: expected an integer 0..18446744073709551615, "
        "got 18446744073709551616");
    bad(&phx_tc_float, "1e39", NULL, "value: expected a number, got 1e39");
    bad(&phx_tc_double, "1e999", NULL,
        "value: expected a number, got 1e999");
    bad(&phx_tc_boolean, "1", NULL, "value: expected true or false, got 1");
    bad(&phx_tc_char, "\"ab\"", NULL,
        "value: expected a one-character string, got \"ab\"");
    bad(&phx_tc_char, "\"\\u0100\"", NULL,
        "value: expected a one-character string, got \"\\u0100\"");
    bad(&TC_Test_Color, "\"purple\"", NULL,
        "value: expected one of \"red\", \"green\", \"blue\", "
        "got \"purple\"");
    bad(&TC_Test_Name, "\"seventeen-chars-x\"", NULL,
        "value: expected a string of at most 16 bytes, "
        "got \"seventeen-chars-x\"");
    bad(&phx_tc_string, "\"a\\u0000b\"", NULL,
        "value: expected a string, got \"a\\u0000b\"");
    bad(&TC_Test_Strings4, "[\"a\",\"b\",\"c\",\"d\",\"e\"]", NULL,
        "value: expected an array of at most 4 elements, "
        "got [\"a\",\"b\",\"c\",\"d\",\"e\"]");
    bad(&TC_Test_Matrix, "[[1,2,3]]", NULL,
        "value: expected an array of 2 elements, got [[1,2,3]]");
    bad(&TC_Test_Matrix, "[[1,2,3],[1,2]]", NULL,
        "value[1]: expected an array of 3 elements, got [1,2]");
    bad(&phx_tc_long, "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]",
        NULL,
        "value: expected an integer -2147483648..2147483647, got "
        "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,...");
    bad(&TC_Test_ByLong, "{\"q\":1}", NULL,
        "value: unknown member \"q\" (union ByLong has: l, s, s, p)");
    bad(&TC_Test_ByShort, "{\"discriminator\":0,\"value\":1}", NULL,
        "value: no member of union ByShort is selected by this "
        "discriminator, but a \"value\" is given");
    bad(&TC_Test_ByShort, "{\"discriminator\":7}", NULL,
        "value: missing member \"value\" (ls)");
    bad(&TC_Test_ByShort, "{\"discriminator\":7,\"value\":[\"x\"]}", NULL,
        "value.ls[0]: expected an integer -2147483648..2147483647, "
        "got \"x\"");
    bad(&phx_tc_any, "{\"type\":\"IDL:Nope:1.0\",\"value\":1}", NULL,
        "value: unknown type \"IDL:Nope:1.0\"");
    bad(&phx_tc_any, "{\"type\":\"long\",\"value\":true}", NULL,
        "value.value: expected an integer -2147483648..2147483647, "
        "got true");
    bad(&phx_tc_any, "{\"type\":\"long\"}", NULL,
        "value: missing member \"value\"");
    bad(&TC_Test_Base, "\"IOR:00\"", NULL,
        "value: object references need an ORB to be read");
    bad(&TC_Test_Base, "3", NULL,
        "value: expected an \"IOR:...\" string or null, got 3");
    /* the index of the failure, and the correct fix of the fixed */
    bad(&TC_Test_Points, "[{\"x\":1,\"y\":1},{\"x\":1}]", "args[2]",
        "args[2][1]: missing member \"y\" (long)");
}

static void syntax(const char *in, const char *msg)
{
    phx_error_t err;
    int32_t v;

    CU_ASSERT(phx_json_to_value(&phx_tc_long, in, &v, &err) != PHX_OK);
    if (msg && strcmp(err.msg, msg) != 0) {
        fprintf(stderr, "\n got %s\nwant %s\n", err.msg, msg);
        CU_FAIL("message");
    }
}

static void test_syntax(void)
{
    char deep[300];
    phx_error_t err;

    syntax("", "invalid JSON at offset 0: unexpected end of text");
    syntax("01", "invalid JSON at offset 1: trailing characters after "
                 "the value");
    syntax("1 2", "invalid JSON at offset 2: trailing characters after "
                  "the value");
    syntax("+1", "invalid JSON at offset 0: bad number");
    syntax("1.", "invalid JSON at offset 0: bad number");
    syntax(".5", "invalid JSON at offset 0: bad number");
    syntax("[1,]", "invalid JSON at offset 3: bad number");
    syntax("{\"a\":1,}", "invalid JSON at offset 7: expected a member name");
    syntax("{\"a\" 1}", "invalid JSON at offset 5: expected ':'");
    syntax("{\"a\":1,\"a\":2}",
           "invalid JSON at offset 10: duplicate member name");
    syntax("\"a", "invalid JSON at offset 0: unterminated string");
    syntax("\"\t\"", "invalid JSON at offset 1: control character in string");
    syntax("\"\\x\"", "invalid JSON at offset 1: bad escape");
    syntax("\"\\ud800\"", "invalid JSON at offset 7: unpaired surrogate");
    syntax("\"\\udc00\"", "invalid JSON at offset 7: unpaired surrogate");
    syntax("\"\xc3\"", "invalid JSON at offset 1: invalid UTF-8 in string");
    syntax("\"\xed\xa0\x80\"", "invalid JSON at offset 1: invalid UTF-8 "
                               "in string");
    syntax("\"\xc0\xaf\"", NULL);
    syntax("tru", "invalid JSON at offset 0: unexpected word");
    syntax("nul", NULL);
    syntax("NaN", NULL);
    syntax("[1}", "invalid JSON at offset 2: expected ',' or ']'");
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    syntax(deep, "invalid JSON at offset 64: nesting too deep");
    CU_ASSERT_EQUAL(phx_json_validate(deep, 200, &err), PHX_ELIMIT);
    CU_ASSERT_EQUAL(phx_json_validate(deep + 40, 120, &err), PHX_OK);

    phx_json_opts_t o = {.max_size = 4};
    int32_t v;
    CU_ASSERT_EQUAL(phx_json_to_value_ex(&phx_tc_long, "12345", 5, &v,
                                         "args[0]", &o, &err), PHX_ELIMIT);
    CU_ASSERT_STRING_EQUAL(err.msg, "args[0]: JSON text of 5 bytes exceeds 4");
    CU_ASSERT_EQUAL(phx_json_to_value_ex(&phx_tc_long, "12 3", 4, &v,
                                         "args[0]", NULL, &err), PHX_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "args[0]: invalid JSON at offset 3: "
                                    "trailing characters after the value");
}

static void test_describe(void)
{
    char buf[200];

    CU_ASSERT_STRING_EQUAL(phx_json_describe_type(&TC_Test_Color, buf,
                                                  sizeof buf),
                           "one of \"red\", \"green\", \"blue\"");
    CU_ASSERT_STRING_EQUAL(phx_json_describe_type(&TC_Test_Name, buf,
                                                  sizeof buf),
                           "a string of at most 16 bytes");
    CU_ASSERT_STRING_EQUAL(phx_json_type_name(&TC_Test_Longs, buf,
                                              sizeof buf),
                           "IDL:phalanx.org/Test/Longs:1.0");
    CU_ASSERT_STRING_EQUAL(phx_json_type_name(TC_Test_Longs.content, buf,
                                              sizeof buf),
                           "sequence<long>");
    CU_ASSERT_PTR_NULL(phx_json_type_name(TC_Test_Matrix.content, buf,
                                          sizeof buf));
    /* values that cannot be written */
    Test_Color bad = (Test_Color)7;
    char *s = (char *)1;
    phx_error_t err;
    CU_ASSERT_EQUAL(phx_value_to_json_ex(&TC_Test_Color, &bad, &s, &err),
                    PHX_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_STRING_EQUAL(err.msg, "enum Color value 7 out of range");
    /* a string that is not UTF-8 comes out as Latin-1 */
    const char *latin = "caf\xe9";
    CU_ASSERT_EQUAL(phx_value_to_json(&phx_tc_string, &latin, &s), 0);
    CU_ASSERT_STRING_EQUAL(s, "\"caf\xc3\xa9\"");
    free(s);
}

int main(void)
{
    CU_pSuite s;
    int failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("json", NULL, NULL);
    CU_add_test(s, "every type both ways", test_every_type);
    CU_add_test(s, "error messages", test_errors);
    CU_add_test(s, "strict syntax and limits", test_syntax);
    CU_add_test(s, "type descriptions", test_describe);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
