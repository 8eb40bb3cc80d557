/*
 * stress_store: the store stress run as a plain program, because Criterion
 * does not start under ThreadSanitizer. Not built by default:
 *
 *   mkdir /tmp/tsan && cd /tmp/tsan && SRC/configure \
 *       CFLAGS='-fsanitize=thread -g -O1' LDFLAGS=-fsanitize=thread
 *   make stress_store && ./stress_store [seconds]
 *
 * Exits 0 if every value read matched its key and nothing leaked.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stress.h"

int
main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    struct stress_result r;

    if (secs <= 0 || secs > 60 || !store_stress_run((uint64_t)(secs * 1e9),
        &r)) {
        fprintf(stderr, "usage: stress_store [seconds, at most 60]\n");
        return 2;
    }
    printf("stress_store: %lu ops, %lu bad values, %lu evictions, "
        "%lu pages moved (%lu rescues), %lu expired, %lu flushed, "
        "hash power %lu, %s\n", (unsigned long)r.ops, (unsigned long)r.bad,
        (unsigned long)r.evictions, (unsigned long)r.pages_moved,
        (unsigned long)r.rescues, (unsigned long)r.expired,
        (unsigned long)r.flushed, (unsigned long)r.hash_power,
        r.clean ? "no chunk leaked" : "CHUNKS LEAKED");
    return r.bad == 0 && r.clean ? 0 : 1;
}
