/* The store stress run shared by the Criterion test and stress_store. */
#ifndef TESTS_STORE_STRESS_H
#define TESTS_STORE_STRESS_H

#include <stdbool.h>
#include <stdint.h>

struct stress_result {
    uint64_t ops;
    uint64_t bad;          /* values read that did not match their key */
    uint64_t evictions;
    uint64_t pages_moved;
    uint64_t rescues;
    uint64_t expired;
    uint64_t flushed;
    uint64_t hash_power;
    bool clean;            /* after deleting every key, nothing in use */
};

/* Run for `run_ns` nanoseconds; false if the store could not be made. */
bool store_stress_run(uint64_t run_ns, struct stress_result *r);

#endif /* TESTS_STORE_STRESS_H */
