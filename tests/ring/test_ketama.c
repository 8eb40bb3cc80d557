/* Tests for ketama mode: MD5, twemproxy's key hashes, point counts and
 * pinned placements (the same ones the nutcracker integration test proves
 * against the real thing). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring/hashkit.h"
#include "ring/ring.h"

static void
hex(const unsigned char *d, char *out)
{
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

Test(ring_ketama, md5_rfc1321_vectors)
{
    static const char *v[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "12345678901234567890123456789012345678901234567890123456789012"
          "345678901234567890", "57edf4a22be3c955ac49da2e2107b67a" },
    };
    unsigned char d[16];
    char out[33];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        ring_md5(v[i][0], strlen(v[i][0]), d);
        hex(d, out);
        cr_expect_str_eq(out, v[i][1], "md5(%s)", v[i][0]);
    }
}

Test(ring_ketama, key_hashes)
{
    static const struct {
        enum ring_hash h;
        uint32_t hello, digits, nonascii;
    } v[] = {
        /* Published values where they exist (FNV-1a/FNV-1 32 of "hello",
         * the CRC-32 check value of "123456789"); the rest are twemproxy's
         * as proven by tests/integration/test_ketama_nutcracker.py. */
        { RING_HASH_FNV1A_32, 0x4f9f2cab, 0xbb86b11c, 0xfea63502 },
        { RING_HASH_FNV1_32, 0xb6fa7167, 0x24148816, 0xd8252194 },
        { RING_HASH_CRC32A, 0x3610a686, 0xcbf43926, 0x1f913872 },
        { RING_HASH_CRC16, 0x6b4fc362, 0x869031c3, 0x26a7964e },
        { RING_HASH_CRC32, 0x3610, 0x4bf4, 0x1f91 },
        { RING_HASH_MD5, 0x2a40415d, 0x94e7f925, 0x24cacda0 },
        { RING_HASH_FNV1A_64, 0x80aabd0b, 0x23c6cdfc, 0x678bdc82 },
        { RING_HASH_FNV1_64, 0xbdbdd4c7, 0x2bf916d6, 0xa0ae5134 },
        { RING_HASH_ONE_AT_A_TIME, 0xc8fd181b, 0xc66b58c5, 0x363d9dea },
        { RING_HASH_MURMUR, 0x521b0bff, 0xb7760690, 0x706dc3ea },
        { RING_HASH_HSIEH, 0x13842ac5, 0xe4fc1670, 0x7e5e9f0e },
        { RING_HASH_JENKINS, 0x2e0cc8f3, 0x19777af6, 0x79bdfd2c },
    };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        const char *name = ring_hash_name(v[i].h);
        cr_expect_eq(ring_twem_hash(v[i].h, STR_LIT("hello")), v[i].hello,
            "%s", name);
        cr_expect_eq(ring_twem_hash(v[i].h, STR_LIT("123456789")),
            v[i].digits, "%s", name);
        cr_expect_eq(ring_twem_hash(v[i].h, STR_LIT("\xc3\xa9t\xc3\xa9!")),
            v[i].nonascii, "%s", name);
    }
}

static const struct ring_node three[3] = {
    { STR_LIT("127.0.0.1:11212"), STR_LIT(""), 1 },
    { STR_LIT("127.0.0.1:11213"), STR_LIT(""), 2 },
    { STR_LIT("127.0.0.1"), STR_LIT(""), 3 },
};

static struct ring *
ketama(const struct ring_node *n, size_t count)
{
    struct ring_params p;
    struct ring *r = NULL;

    ring_params_init(&p);
    p.mode = RING_MODE_KETAMA;
    cr_assert_eq(ring_build(&p, n, count, &r), RING_OK);
    return r;
}

Test(ring_ketama, points_follow_twemproxy_arithmetic)
{
    struct ring *r = ketama(three, 3);
    uint32_t per[3] = { 0, 0, 0 };

    for (size_t i = 0; i < ring_point_count(r); i++) {
        uint32_t node;
        (void)ring_point(r, i, &node);
        per[node]++;
    }
    /* floorf(w/6 * 160/4 * 3) * 4 for w = 1, 2, 3 */
    cr_assert_eq(per[0], 80);
    cr_assert_eq(per[1], 160);
    cr_assert_eq(per[2], 240);
    cr_assert_eq(ring_hash_bits(r), 32);
    ring_destroy(r);

    struct ring_node equal[3] = { three[0], three[1], three[2] };
    equal[0].weight = equal[1].weight = equal[2].weight = 1;
    r = ketama(equal, 3);
    cr_assert_eq(ring_point_count(r), 480);
    ring_destroy(r);
}

Test(ring_ketama, pinned_vectors)
{
    static const struct {
        const char *key;
        uint32_t hash, node, point;
    } v[] = {
        { "foo", 0xfed9d577, 2, 0xffe0f4b2 },
        { "bar", 0x1339461a, 2, 0x145a0590 },
        { "hello", 0x80aabd0b, 2, 0x810111f0 },
        { "user:1", 0x75081ceb, 1, 0x7581d1f1 },
        { "", 0, 0, 0x00f35431 },
        { "\xc3\xa9t\xc3\xa9", 0xea769c57, 2, 0xeac3bbfa },
    };
    struct ring *r = ketama(three, 3);

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct ring_hit h;
        ring_locate(r, str_from_cstr(v[i].key), &h);
        cr_expect_eq(h.key_hash, v[i].hash, "%s", v[i].key);
        cr_expect_eq(h.node, v[i].node, "%s", v[i].key);
        cr_expect_eq(h.point, v[i].point, "%s", v[i].key);
    }
    ring_destroy(r);
}

Test(ring_ketama, weight_zero_is_an_ejected_server)
{
    struct ring_node n[3] = { three[0], three[1], three[2] };
    struct ring_node two[2] = { three[0], three[2] };

    n[1].weight = 0;
    struct ring *a = ketama(n, 3), *b = ketama(two, 2);
    cr_assert_eq(ring_point_count(a), ring_point_count(b));
    for (size_t i = 0; i < ring_point_count(a); i++) {
        uint32_t na, nb;
        cr_assert_eq(ring_point(a, i, &na), ring_point(b, i, &nb));
        cr_assert(str_eq(ring_node_name(a, na), ring_node_name(b, nb)));
    }
    ring_destroy(a);
    ring_destroy(b);
}

Test(ring_ketama, default_names)
{
    struct ring_addr a;
    const char *why;
    char *name;

    cr_assert(ring_addr_parse(STR_LIT("10.0.0.1:11211"), &a, &why));
    name = ring_default_name(RING_MODE_KETAMA, &a);
    cr_assert_str_eq(name, "10.0.0.1");
    free(name);
    name = ring_default_name(RING_MODE_V1, &a);
    cr_assert_str_eq(name, "10.0.0.1:11211");
    free(name);
    ring_addr_fini(&a);
    cr_assert(ring_addr_parse(STR_LIT("10.0.0.1:11212"), &a, &why));
    name = ring_default_name(RING_MODE_KETAMA, &a);
    cr_assert_str_eq(name, "10.0.0.1:11212");
    free(name);
    ring_addr_fini(&a);
}

/* md5("t307-30") and md5("t570-31") share the point 0xe0c1e7ab; the
 * integration test shows nutcracker gives it to t307, the first name. */
Test(ring_ketama, tied_points_go_to_the_first_name)
{
    struct ring_node n[2] = { { STR_LIT("t570"), STR_LIT(""), 1 },
        { STR_LIT("t307"), STR_LIT(""), 1 } };
    struct ring *r = ketama(n, 2);
    size_t ties = 0;

    for (size_t i = 1; i < ring_point_count(r); i++) {
        uint32_t a, b;
        uint64_t pa = ring_point(r, i - 1, &a), pb = ring_point(r, i, &b);
        if (pa == pb) {
            cr_assert_eq(pa, 0xe0c1e7ab);
            cr_assert(str_eq_cstr(ring_node_name(r, a), "t307"));
            cr_assert(str_eq_cstr(ring_node_name(r, b), "t570"));
            ties++;
        }
    }
    cr_assert_eq(ties, 1);
    ring_destroy(r);
}
