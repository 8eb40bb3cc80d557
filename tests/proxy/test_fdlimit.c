/* Tests for the descriptor rule (src/proxy/fdlimit.c): what each part of
 * a configuration costs, and the reserve that leaves the limit alone when
 * it is high enough. */
#include <criterion/criterion.h>

#include <string.h>
#include <sys/resource.h>

#include "proxy/proxy_int.h"

Test(proxy_fdlimit, every_part_counts)
{
    struct fd_need d;

    fd_need_compute(&d, 1000, 4, 2, 6, 1);
    cr_assert_eq(d.clients, 1000);
    cr_assert_eq(d.backends, 4 * 2 * 6);
    cr_assert_eq(d.probes, 6);
    cr_assert_eq(d.fixed, 4 * (4 + 1) + 1 + 64);
    cr_assert_eq(d.total, d.clients + d.backends + d.probes + d.fixed);
}

Test(proxy_fdlimit, start_reserves_twice_the_nodes)
{
    struct ring_config c;
    struct fd_need d;

    ring_config_init(&c);
    c.nnodes = 3;               /* only counted, never read */
    c.client_limit = 100;
    c.backend_connections = 2;
    fd_need_at_start(&d, &c, 2);
    cr_assert_eq(d.backends, 2 * 2 * 6);
    cr_assert_eq(d.probes, 6);
    cr_assert_eq(d.clients, 100);
    c.nnodes = 0;
    ring_config_fini(&c);
}

Test(proxy_fdlimit, enough_already_changes_nothing)
{
    struct rlimit before, after;
    struct fd_need d;
    char why[512] = "";

    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &before), 0);
    fd_need_compute(&d, 0, 0, 0, 0, 0);
    d.total = 3;
    cr_assert_eq(fd_reserve(&d, true, why, sizeof(why)), FD_OK);
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &after), 0);
    cr_assert_eq(before.rlim_cur, after.rlim_cur);
}

Test(proxy_fdlimit, above_the_hard_limit_names_the_numbers)
{
    struct rlimit rl;
    struct fd_need d;
    char why[512] = "";

    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max == RLIM_INFINITY) {
        cr_skip_test("no hard limit on open files");
    }
    fd_need_compute(&d, (uint32_t)rl.rlim_max, 1, 1, 1, 1);
    cr_assert_eq(fd_reserve(&d, false, why, sizeof(why)), FD_TOO_FEW);
    cr_assert(strstr(why, "descriptors (") != NULL, "%s", why);
    cr_assert(strstr(why, "hard limit on open files") != NULL, "%s", why);
}
