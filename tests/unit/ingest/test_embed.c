/* The embedding answers of both protocols: what a valid answer yields, and
 * that every malformed one is refused as CC_EUPSTREAM with a reason rather
 * than stored as a wrong vector. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ingest/embed.c"

static cc_err parse(bool ollama, const char *js, size_t n, size_t first, size_t count,
                    struct vecs *acc, char *err)
{
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    acc->n = n;
    cc_err e = ollama ? parse_ollama(j, acc, first, err, 256)
                      : parse_openai(j, acc, first, count, err, 256);
    json_decref(j);
    return e;
}

static void test_openai_answer(void **state)
{
    (void)state;
    struct vecs acc = {0};
    char err[256] = "";
    /* "index" places the vectors, whatever the order of "data". */
    assert_int_equal(parse(false, "{\"data\":[{\"index\":1,\"embedding\":[3,4]},"
                                  "{\"index\":0,\"embedding\":[1,2.5]}]}",
                           2, 0, 2, &acc, err),
                     CC_OK);
    assert_int_equal(acc.dims, 2);
    assert_true(acc.v[0] == 1.0f && acc.v[1] == 2.5f && acc.v[2] == 3.0f && acc.v[3] == 4.0f);
    free(acc.v);
}

static void test_openai_invalid(void **state)
{
    (void)state;
    const char *bad_answers[] = {
        "{}",
        "{\"data\":[{\"embedding\":[1,2]}]}",                               /* one for two */
        "{\"data\":[{\"embedding\":[1,2]},{\"embedding\":[1,2,3]}]}",       /* dims differ */
        "{\"data\":[{\"embedding\":[1,\"x\"]},{\"embedding\":[1,2]}]}",     /* not a number */
        "{\"data\":[{\"embedding\":[]},{\"embedding\":[]}]}",               /* empty */
        "{\"data\":[{\"embedding\":[1e300]},{\"embedding\":[1]}]}",         /* not a float */
        "{\"data\":[{\"index\":7,\"embedding\":[1]},{\"embedding\":[1]}]}", /* bad index */
        "{\"data\":[{\"embedding\":{}},{\"embedding\":[1]}]}",
    };
    for (size_t i = 0; i < sizeof(bad_answers) / sizeof(*bad_answers); i++) {
        struct vecs acc = {0};
        char err[256] = "";
        assert_int_equal(parse(false, bad_answers[i], 2, 0, 2, &acc, err), CC_EUPSTREAM);
        assert_non_null(strstr(err, "invalid"));
        free(acc.v);
    }
}

static void test_ollama_answer(void **state)
{
    (void)state;
    struct vecs acc = {0};
    char err[256] = "";
    assert_int_equal(parse(true, "{\"embedding\":[0.5,-0.5,1]}", 2, 1, 1, &acc, err), CC_OK);
    assert_int_equal(acc.dims, 3);
    assert_true(acc.v[3] == 0.5f && acc.v[5] == 1.0f);
    assert_int_equal(parse(true, "{\"embedding\":[0.5]}", 2, 0, 1, &acc, err), CC_EUPSTREAM);
    assert_int_equal(parse(true, "{\"error\":\"model not found\"}", 2, 0, 1, &acc, err),
                     CC_EUPSTREAM);
    free(acc.v);
}

static void test_too_many_dims(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 1u << 20);
    cc_buf_addstr(&b, "{\"embedding\":[0");
    for (int i = 0; i < INGEST_EMBED_MAX_DIMS; i++)
        cc_buf_addstr(&b, ",0");
    cc_buf_addstr(&b, "]}");
    struct vecs acc = {0};
    char err[256] = "";
    assert_int_equal(parse(true, cc_buf_str(&b), 1, 0, 1, &acc, err), CC_EUPSTREAM);
    assert_null(acc.v);
    cc_buf_release(&b);
}

static void test_unreachable_is_upstream(void **state)
{
    (void)state;
    /* Port 1 on loopback: nothing listens there. */
    struct ingest_embed_cfg cfg = {.url = "http://127.0.0.1:1/v1/embeddings", .model = "m",
                                   .timeout_ms = 2000, .batch = 8};
    const char *texts[] = {"a"};
    float *v = NULL;
    size_t dims = 0;
    char err[256] = "";
    assert_int_equal(ingest_embed(&cfg, texts, 1, &v, &dims, err, sizeof(err)), CC_EUPSTREAM);
    assert_null(v);
    assert_non_null(strstr(err, "127.0.0.1:1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_answer),
        cmocka_unit_test(test_openai_invalid),
        cmocka_unit_test(test_ollama_answer),
        cmocka_unit_test(test_too_many_dims),
        cmocka_unit_test(test_unreachable_is_upstream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
