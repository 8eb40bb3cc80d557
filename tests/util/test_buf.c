/* Tests for the byte buffer: growth, consumption and compaction. */
#include <criterion/criterion.h>

#include <string.h>

#include "util/util.h"

Test(util_buf, append_consume_compact)
{
    struct buf b;

    buf_init(&b);
    cr_assert(buf_append(&b, "hello world", 11));
    cr_assert_eq(b.len, 11);
    buf_consume(&b, 6);
    cr_assert_eq(memcmp(buf_head(&b), "world", 5), 0);
    buf_compact(&b);
    cr_assert_eq(b.off, 0);
    cr_assert_eq(memcmp(buf_head(&b), "world", 5), 0);
    buf_consume(&b, 5);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.off, 0, "an empty buffer rewinds");
    buf_fini(&b);
}

Test(util_buf, grows_and_keeps_bytes)
{
    struct buf b;
    char chunk[1000];

    buf_init(&b);
    for (int i = 0; i < 100; i++) {
        memset(chunk, 'a' + i % 26, sizeof(chunk));
        cr_assert(buf_append(&b, chunk, sizeof(chunk)));
    }
    cr_assert_eq(b.len, 100000);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(buf_head(&b)[i * 1000 + 999], 'a' + i % 26);
    }
    buf_fini(&b);
}

Test(util_buf, printf_and_tail)
{
    struct buf b;

    buf_init(&b);
    cr_assert(buf_printf(&b, "VALUE %s %u %zu\r\n", "k", 5u, (size_t)3));
    cr_assert_eq(b.len, strlen("VALUE k 5 3\r\n"));
    cr_assert_eq(memcmp(buf_head(&b), "VALUE k 5 3\r\n", b.len), 0);
    cr_assert(buf_reserve(&b, 10));
    memcpy(buf_tail(&b), "END\r\n", 5);
    buf_commit(&b, 5);
    cr_assert_eq(memcmp(buf_head(&b) + 13, "END\r\n", 5), 0);
    buf_fini(&b);
}
