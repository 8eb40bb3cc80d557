/*
 * The bounded multi-threaded stress run (stress.c) as a Criterion test,
 * for 1.5 s: it runs under ASan+UBSan in tools/check. For ThreadSanitizer
 * build the stress_store program in a TSan build (see stress_main.c).
 */
#include <criterion/criterion.h>

#include <stdio.h>

#include "stress.h"

Test(store_stress, threads_readers_writers_deleters, .timeout = 30)
{
    struct stress_result r;

    cr_assert(store_stress_run(1500000000ull, &r));
    cr_log_info("stress: %lu ops, %lu evictions, %lu pages moved "
        "(%lu rescues), %lu expired, %lu flushed", (unsigned long)r.ops,
        (unsigned long)r.evictions, (unsigned long)r.pages_moved,
        (unsigned long)r.rescues, (unsigned long)r.expired,
        (unsigned long)r.flushed);
    cr_assert_eq(r.bad, 0, "every value read matched its key");
    cr_assert_gt(r.ops, 1000);
    cr_assert_gt(r.evictions, 0, "the store was under memory pressure");
    cr_assert(r.clean, "every chunk is free after deleting every key");
}
