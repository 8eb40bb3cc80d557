/*
 * A randomized model test: thousands of random operations on a few keys,
 * with the clock moving, checked against a plain reference model of
 * memcached's semantics (no eviction: the store is large enough). The
 * incr/decr number check uses strtoull() the way memcached's
 * safe_strtoull() does, independently of the store's own parser.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#include "helpers.h"

#define NK 24
#define NOPS 40000

struct model {
    bool live;
    char val[64];
    size_t len;
    uint32_t flags;
    uint32_t exp;    /* absolute, 0 = never */
    uint64_t cas;
};

static struct model m[NK];
static uint32_t now;
static uint64_t rs = 88172645463325252ull;

static unsigned
rnd(unsigned n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (unsigned)(rs % n);
}

static bool
alive(int k)
{
    return m[k].live && (m[k].exp == 0 || now < m[k].exp);
}

static uint32_t
abs_exp(int64_t e)
{
    if (e == 0) {
        return 0;
    }
    return e < 0 ? 1 : now + (uint32_t)e;
}

/* memcached's safe_strtoull() over the value as it sits in memcached's
 * item memory: followed by "\r\n". */
static bool
mc_strtoull(const char *v, size_t len, uint64_t *out)
{
    char buf[80];
    char *end;
    unsigned long long x;

    memcpy(buf, v, len);
    memcpy(buf + len, "\r\n", 3);
    errno = 0;
    x = strtoull(buf, &end, 10);
    if (errno == ERANGE || end == buf) {
        return false;
    }
    if (isspace((unsigned char)*end) || (*end == '\0' && end != buf)) {
        if ((long long)x < 0 && memchr(buf, '-', (size_t)(end - buf))) {
            return false;
        }
        *out = x;
        return true;
    }
    return false;
}

static void
random_value(char *v, size_t *len)
{
    static const char *nums[] = {
        "0", "7", "42", " 9", "18446744073709551615", "-0", "12a", "x",
        "100", "99", "1 2", "",
    };

    if (rnd(2) == 0) {
        strcpy(v, nums[rnd(sizeof(nums) / sizeof(nums[0]))]);
    } else {
        size_t n = rnd(20);

        for (size_t i = 0; i < n; i++) {
            v[i] = (char)('a' + rnd(26));
        }
        v[n] = '\0';
    }
    *len = strlen(v);
}

/* Compare one key of the store with the model. */
static void
check_key(struct store *s, int k, const char *key)
{
    struct item *it;
    enum store_status st = store_get(s, S(key), now, &it);

    cr_assert_eq(st == STORE_OK, alive(k), "key %s at op, live %d", key,
        alive(k));
    if (st == STORE_OK) {
        cr_assert_eq(item_value_len(it), m[k].len, "%s length", key);
        cr_assert_eq(memcmp(item_value(it), m[k].val, m[k].len), 0,
            "%s value", key);
        cr_assert_eq(item_flags(it), m[k].flags);
        cr_assert_eq(item_exptime(it), m[k].exp);
        cr_assert_eq(item_cas(it), m[k].cas);
        item_unref(s, it);
    }
}

static void
do_store(struct store *s, int k, const char *key)
{
    static const enum store_mode modes[] = {
        STORE_SET, STORE_ADD, STORE_REPLACE, STORE_APPEND, STORE_PREPEND,
        STORE_CAS,
    };
    enum store_mode mode = modes[rnd(6)];
    char v[64];
    size_t len;
    uint32_t flags = rnd(3);
    int64_t exp = (int64_t)rnd(4) - 1;
    uint64_t cas = mode == STORE_CAS && rnd(2) ? m[k].cas : rnd(3);
    uint64_t newcas = 0;
    bool live = alive(k);
    enum store_status want = STORE_OK;
    enum store_status st;

    random_value(v, &len);
    if ((mode == STORE_ADD && live)
        || ((mode == STORE_REPLACE || mode == STORE_APPEND
            || mode == STORE_PREPEND) && !live)) {
        want = STORE_NOT_STORED;
    } else if (mode == STORE_CAS && !live) {
        want = STORE_NOT_FOUND;
    } else if ((mode == STORE_CAS || mode == STORE_APPEND
        || mode == STORE_PREPEND) && cas != 0 && cas != m[k].cas) {
        want = STORE_EXISTS;
    } else if (mode == STORE_CAS && cas == 0) {
        want = STORE_EXISTS;
    }
    st = store_set(s, mode, S(key), flags, exp, (struct str){ v, len }, cas,
        now, &newcas);
    cr_assert_eq(st, want, "mode %d on %s: got %d want %d", mode, key, st,
        want);
    if (st != STORE_OK) {
        return;
    }
    if (mode == STORE_APPEND) {
        memcpy(m[k].val + m[k].len, v, len);
    } else if (mode == STORE_PREPEND) {
        memmove(m[k].val + len, m[k].val, m[k].len);
        memcpy(m[k].val, v, len);
    } else {
        memcpy(m[k].val, v, len);
        m[k].len = 0;
        m[k].flags = flags;
        m[k].exp = abs_exp(exp);
    }
    m[k].len += len;
    m[k].live = true;
    m[k].cas = newcas;
}

static void
do_arith(struct store *s, int k, const char *key)
{
    bool incr = rnd(2);
    uint64_t delta = rnd(3) ? rnd(200) : UINT64_MAX - rnd(3);
    uint64_t v;
    uint64_t got;
    uint64_t cas = 0;
    enum store_status st = store_arith(s, S(key), incr, delta, 0, now, &got,
        &cas);
    char num[32];
    size_t n;

    if (!alive(k)) {
        cr_assert_eq(st, STORE_NOT_FOUND);
        return;
    }
    if (!mc_strtoull(m[k].val, m[k].len, &v)) {
        cr_assert_eq(st, STORE_NON_NUMERIC, "'%.*s'", (int)m[k].len,
            m[k].val);
        return;
    }
    cr_assert_eq(st, STORE_OK, "'%.*s' is numeric", (int)m[k].len,
        m[k].val);
    v = incr ? v + delta : (delta > v ? 0 : v - delta);
    cr_assert_eq(got, v);
    n = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    if (n <= m[k].len) {
        memset(m[k].val, ' ', m[k].len);  /* memcached pads in place */
        memcpy(m[k].val, num, n);
    } else {
        memcpy(m[k].val, num, n);
        m[k].len = n;
    }
    m[k].cas = cas;
}

static void
do_other(struct store *s, int k, const char *key)
{
    int64_t exp = (int64_t)rnd(4) - 1;
    uint64_t cas;

    switch (rnd(4)) {
        case 0:
            cas = rnd(2) ? m[k].cas : 0;
            cr_assert_eq(store_delete(s, S(key), cas, now),
                alive(k) ? STORE_OK : STORE_NOT_FOUND);
            m[k].live = false;
            break;
        case 1:
            cr_assert_eq(store_touch(s, S(key), exp, now),
                alive(k) ? STORE_OK : STORE_NOT_FOUND);
            if (alive(k)) {
                m[k].exp = abs_exp(exp);
            }
            break;
        case 2:
            now += rnd(3);
            break;
        default:
            if (rnd(50) == 0) {
                store_flush(s, 0, now);
                for (int i = 0; i < NK; i++) {
                    m[i].live = false;
                }
            }
            break;
    }
}

Test(store_model, random_operations_match_the_model, .timeout = 60)
{
    struct store *s = mkstore((size_t)16 << 20, (size_t)1 << 20);
    char key[16];

    memset(m, 0, sizeof(m));
    now = T0;
    for (int op = 0; op < NOPS; op++) {
        int k = (int)rnd(NK);
        unsigned what = rnd(10);

        snprintf(key, sizeof(key), "key%d", k);
        if (m[k].len > 40) {
            store_delete(s, S(key), 0, now);  /* keep values short */
            m[k].live = false;
        }
        if (what < 4) {
            do_store(s, k, key);
        } else if (what < 6) {
            do_arith(s, k, key);
        } else if (what < 8) {
            do_other(s, k, key);
        }
        check_key(s, k, key);
        if (op % 1000 == 0) {
            store_maintain(s, now, 1000);
        }
    }
    store_destroy(s);
}
