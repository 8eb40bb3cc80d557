/*
 * Tests for net event loops (loop.c): timers, bounded runs and
 * cross-thread calls.
 */

#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "net/net.h"
#include "util/util.h"

#include "helpers.h"

/* ---- timers and loops ---------------------------------------------------- */

struct tick {
    int fired;
    int limit;
    uint64_t first_ns;
    uint64_t last_ns;
    struct net_loop *loop;
};

static void
on_tick(struct net_timer *t, void *arg)
{
    struct tick *k = arg;

    k->last_ns = util_mono_ns();
    if (++k->fired < k->limit) {
        net_timer_arm(t, 10000);
    } else {
        net_timer_destroy(t);
        net_loop_stop(k->loop);
    }
}

static void
never(struct net_timer *t, void *arg)
{
    (void)t;
    *(int *)arg = 1;
}

Test(net_timer, periodic_rearm_cancel_and_precision)
{
    struct net_loop *l = net_loop_create(NET_LOOP_PRECISE_TIMERS);
    struct tick k = { .limit = 5 };
    struct net_timer *t;
    struct net_timer *dead;
    int dead_fired = 0;
    uint64_t ms;

    cr_assert_not_null(l);
    k.loop = l;
    t = net_timer_create(l, on_tick, &k);
    dead = net_timer_create(l, never, &dead_fired);
    cr_assert_not_null(t);
    net_timer_arm(dead, 5000);
    cr_assert(net_timer_armed(dead));
    net_timer_cancel(dead);
    cr_assert_not(net_timer_armed(dead));
    k.first_ns = util_mono_ns();
    net_timer_arm(t, 10000);
    cr_assert_eq(net_loop_run(l, 5000), NET_OK);
    ms = (k.last_ns - k.first_ns) / 1000000u;
    cr_assert_eq(k.fired, 5);
    cr_assert_geq(ms, 50, "5 x 10 ms took %llu ms", (unsigned long long)ms);
    cr_assert_lt(ms, 3000, "5 x 10 ms took %llu ms", (unsigned long long)ms);
    cr_assert_eq(dead_fired, 0);
    net_loop_destroy(l);
}

Test(net_loop, bounded_run_returns)
{
    struct net_loop *l = net_loop_create(0);
    uint64_t t0 = util_mono_ns();
    uint64_t ms;

    cr_assert_eq(net_loop_run(l, 50), NET_OK);
    ms = (util_mono_ns() - t0) / 1000000u;
    cr_assert_geq(ms, 45);
    cr_assert_lt(ms, 2000);
    /* A stop before the run is not lost: the run returns at once. */
    net_loop_stop(l);
    t0 = util_mono_ns();
    cr_assert_eq(net_loop_run(l, 2000), NET_OK);
    cr_assert_lt((util_mono_ns() - t0) / 1000000u, 1000);
    net_loop_destroy(l);
}

struct xcall {
    struct net_loop *loop;
    pthread_t loop_thread;
    int count;
    int order_ok;
    bool wrong_thread;
};

static void
xcall_fn(struct net_loop *l, void *arg)
{
    struct xcall *x = net_loop_data(l);
    intptr_t i = (intptr_t)arg;

    if (!pthread_equal(pthread_self(), x->loop_thread)) {
        x->wrong_thread = true;
    }
    if (i == x->count) {
        x->order_ok++;
    }
    x->count++;
}

static void *
loop_thread(void *arg)
{
    struct xcall *x = arg;

    net_loop_run(x->loop, 10000);
    return NULL;
}

Test(net_loop, cross_thread_calls_run_in_order_on_loop_thread)
{
    struct xcall x = { 0 };
    intptr_t i;

    x.loop = net_loop_create(0);
    net_loop_set_data(x.loop, &x);
    cr_assert_eq(pthread_create(&x.loop_thread, NULL, loop_thread, &x), 0);
    for (i = 0; i < 1000; i++) {
        cr_assert_eq(net_loop_call(x.loop, xcall_fn, (void *)i), NET_OK);
    }
    for (i = 0; i < 200 && __atomic_load_n(&x.count, __ATOMIC_SEQ_CST) <
        1000; i++) {
        usleep(10000);
    }
    net_loop_stop(x.loop);
    pthread_join(x.loop_thread, NULL);
    cr_assert_eq(x.count, 1000);
    cr_assert_eq(x.order_ok, 1000);
    cr_assert_not(x.wrong_thread);
    net_loop_destroy(x.loop);
}
