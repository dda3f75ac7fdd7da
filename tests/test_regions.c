/* test_regions.c: the marker protocol's messages (harness/regions.c) are
 * read strictly: begin, end with or without units, and every malformed
 * message refused. Regions measured end to end are in test_exec.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/error.h"
#include "harness/regions.h"

#include <string.h>

/* The protocol's messages are read strictly. */
static void marker_messages_parse_strictly(void **state)
{
    (void)state;
    struct jb_marker_msg m;
    char err[JB_ERRLEN];
    assert_int_equal(jb_marker_parse("B decode", 8, &m, err, sizeof(err)), 0);
    assert_true(m.kind == 'B' && !strcmp(m.name, "decode") && m.units == 1);
    assert_int_equal(jb_marker_parse("E decode 128", 12, &m, err, sizeof(err)), 0);
    assert_true(m.kind == 'E' && m.units == 128);
    assert_int_equal(jb_marker_parse("E decode", 8, &m, err, sizeof(err)), 0);
    assert_true(m.units == 1);
    static const char *const bad[] = {
        "X decode",
        "B",
        "B ",
        "B de code",
        "E d -1",
        "E d 1x",
        "E d nan",
        "E d 1e999",
        "B d 3",
        "B dé",
        "B 0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(jb_marker_parse(bad[i], strlen(bad[i]), &m, err, sizeof(err)), JB_EINVAL);
    /* the length is the message: a NUL inside it is not an end */
    assert_int_equal(jb_marker_parse("B a\0b", 5, &m, err, sizeof(err)), JB_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(marker_messages_parse_strictly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
