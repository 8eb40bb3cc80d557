/*
 * Tests for net addresses (addr.c): resolving and formatting.
 */

#include <criterion/criterion.h>

#include "net/net.h"

Test(net_addr, resolve_and_format)
{
    struct net_addr a;
    char s[64];

    cr_assert_eq(net_addr_resolve("127.0.0.1", 11211, &a), NET_OK);
    net_addr_format(&a, s, sizeof(s));
    cr_assert_str_eq(s, "127.0.0.1:11211");
    cr_assert_eq(net_addr_resolve("[::1]", 80, &a), NET_OK);
    net_addr_format(&a, s, sizeof(s));
    cr_assert_str_eq(s, "[::1]:80");
    cr_assert_eq(net_addr_resolve("not a host!", 1, &a), NET_EADDR);
    cr_assert_eq(net_addr_unix("/tmp/x.sock", &a), NET_OK);
    net_addr_format(&a, s, sizeof(s));
    cr_assert_str_eq(s, "/tmp/x.sock");
    cr_assert_eq(net_addr_unix("", &a), NET_EADDR);
}
