/* Tests for the ringproxy.conf(5) parser: a full file, the defaults, and
 * every error with its line number. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "ring/ring.h"

static enum ring_status
parse(const char *text, struct ring_config *c, struct ring_error *err)
{
    return ring_config_parse(c, text, strlen(text), "t.conf", err);
}

Test(ring_config, full_file)
{
    const char *text =
        "# a cluster\n"
        "listen 0.0.0.0:11311\n"
        "listen /run/ringproxy.sock   # and a unix socket\n"
        "threads 8\n"
        "ring ketama murmur\n"
        "hash_tag {}\n"
        "connect_timeout 250ms\n"
        "request_timeout 2s\n"
        "failure_policy eject\n"
        "failure_limit 5\n"
        "retry_timeout 500ms\n"
        "retry_max 1m\n"
        "backend_connections 2\n"
        "client_limit 100\n"
        "idle_timeout 0\n"
        "backlog 511\n"
        "item_size_max 2m\n"
        "client_output_limit 1m 64m\n"
        "\n"
        "node a 10.0.0.1:11211 2\n"
        "node - 10.0.0.2:11211\n"
        "node c#1 [::1]:11212 0\n"
        "\tnode d /tmp/mc.sock 1\r\n";
    struct ring_config c;
    struct ring_error err;
    struct ring *r;

    cr_assert_eq(parse(text, &c, &err), RING_OK, "%s", err.text);
    cr_assert_eq(c.nlisten, 2);
    cr_assert_str_eq(c.listen[0].host, "0.0.0.0");
    cr_assert_eq(c.listen[0].port, 11311);
    cr_assert(c.listen[1].is_unix);
    cr_assert_str_eq(c.listen[1].host, "/run/ringproxy.sock");
    cr_assert_eq(c.threads, 8);
    cr_assert_eq(c.ring.mode, RING_MODE_KETAMA);
    cr_assert_eq(c.ring.hash, RING_HASH_MURMUR);
    cr_assert(c.ring.has_hash_tag);
    cr_assert_eq(memcmp(c.ring.hash_tag, "{}", 2), 0);
    cr_assert_eq(c.connect_timeout_ms, 250);
    cr_assert_eq(c.request_timeout_ms, 2000);
    cr_assert_eq(c.failure_policy, RING_FAIL_EJECT);
    cr_assert_eq(c.failure_limit, 5);
    cr_assert_eq(c.retry_timeout_ms, 500);
    cr_assert_eq(c.retry_max_ms, 60000);
    cr_assert_eq(c.backend_connections, 2);
    cr_assert_eq(c.client_limit, 100);
    cr_assert_eq(c.idle_timeout_ms, 0);
    cr_assert_eq(c.backlog, 511);
    cr_assert_eq(c.item_size_max, 2 * 1024 * 1024);
    cr_assert_eq(c.client_out_soft, 1024 * 1024);
    cr_assert_eq(c.client_out_hard, 64 * 1024 * 1024);
    cr_assert_eq(c.nnodes, 4);
    cr_assert_str_eq(c.nodes[0].name, "a");
    cr_assert_eq(c.nodes[0].weight, 2);
    cr_assert_eq(c.nodes[0].line, 20);
    cr_assert_str_eq(c.nodes[1].name, "10.0.0.2"); /* ketama, port 11211 */
    cr_assert_not(c.nodes[1].name_given);
    cr_assert_eq(c.nodes[1].weight, 1);
    cr_assert_str_eq(c.nodes[2].name, "c#1");
    cr_assert_str_eq(c.nodes[2].addr.host, "::1");
    cr_assert_eq(c.nodes[2].addr.port, 11212);
    cr_assert_eq(c.nodes[2].weight, 0);
    cr_assert(c.nodes[3].addr.is_unix);
    cr_assert_eq(ring_config_build(&c, &r), RING_OK);
    cr_assert_eq(ring_node_count(r), 4);
    cr_assert(str_eq_cstr(ring_node_addr(r, 3), "/tmp/mc.sock"));
    ring_destroy(r);
    ring_config_fini(&c);
}

Test(ring_config, defaults)
{
    struct ring_config c;
    struct ring_error err;

    cr_assert_eq(parse("node - 127.0.0.1:11211", &c, &err), RING_OK);
    cr_assert_eq(c.nlisten, 1);
    cr_assert_str_eq(c.listen[0].text, "127.0.0.1:11311");
    cr_assert_eq(c.threads, 4);
    cr_assert_eq(c.ring.mode, RING_MODE_V1);
    cr_assert_eq(c.ring.vnodes, RING_DEFAULT_VNODES);
    cr_assert_not(c.ring.has_hash_tag);
    cr_assert_eq(c.failure_policy, RING_FAIL_FAST);
    cr_assert_eq(c.connect_timeout_ms, 1000);
    cr_assert_eq(c.request_timeout_ms, 2000);
    cr_assert_eq(c.failure_limit, 3);
    cr_assert_eq(c.backend_connections, 1);
    cr_assert_eq(c.item_size_max, 1024 * 1024);
    cr_assert_eq(c.client_out_soft, 8 * 1024 * 1024);
    cr_assert_eq(c.client_out_hard, 32 * 1024 * 1024);
    cr_assert_str_eq(c.nodes[0].name, "127.0.0.1:11211"); /* v1 keeps port */
    ring_config_fini(&c);
}

/* Each bad file and the exact message it must produce. */
Test(ring_config, every_error_names_file_and_line)
{
    static const char *cases[][2] = {
        { "bogus 1\n", "t.conf:1: unknown directive 'bogus'" },
        { "node a 1.2.3.4:1\nthreads\n",
          "t.conf:2: threads takes 1 argument, not 0" },
        { "threads 0\nnode a h:1\n",
          "t.conf:1: threads must be a number from 1 to 256, not '0'" },
        { "threads 2\nthreads 3\n",
          "t.conf:2: threads given twice (first on line 1)" },
        { "ring v2\n", "t.conf:1: ring must be 'v1' or 'ketama [HASH]', "
          "not 'v2'" },
        { "ring v1 md5\n", "t.conf:1: ring v1 takes no key hash (it always "
          "uses XXH3); key hashes are for 'ring ketama HASH'" },
        { "\nring ketama sha1\n", "t.conf:2: unknown key hash 'sha1' (one "
          "of fnv1a_64, fnv1_64, fnv1a_32, fnv1_32, md5, crc16, crc32, "
          "crc32a, one_at_a_time, murmur, hsieh, jenkins)" },
        { "hash_tag {\n", "t.conf:1: hash_tag must be exactly two "
          "characters, such as {}, not '{'" },
        { "failure_policy retry\n", "t.conf:1: failure_policy must be "
          "'fail-fast' or 'eject', not 'retry'" },
        { "connect_timeout 10\n", "t.conf:1: connect_timeout must be a "
          "duration such as 500ms, 2s or 1m (at most a day), not '10'" },
        { "request_timeout 0\n", "t.conf:1: request_timeout must be more "
          "than 0" },
        { "item_size_max 12\n", "t.conf:1: item_size_max must be a size "
          "from 1k to 1024m, not '12'" },
        { "client_output_limit 8m\n", "t.conf:1: client_output_limit "
          "takes 2 arguments, not 1" },
        { "client_output_limit 8m 2x\n", "t.conf:1: client_output_limit "
          "must be a size from 1k to 1024m, not '2x'" },
        { "client_output_limit 8m 1m\n", "t.conf:1: client_output_limit: "
          "soft limit above the hard limit" },
        { "listen localhost\n", "t.conf:1: listen: expected host:port or "
          "an absolute unix socket path: 'localhost'" },
        { "listen a:1\nlisten a:1\n", "t.conf:2: listen address 'a:1' "
          "given twice" },
        { "listen ::1:5\n", "t.conf:1: listen: an IPv6 address must be "
          "written in brackets: [addr]:port: '::1:5'" },
        { "listen [::1]5\n", "t.conf:1: listen: expected [ipv6-address]:"
          "port: '[::1]5'" },
        { "listen h:99999\n", "t.conf:1: listen: port must be a number "
          "from 1 to 65535: 'h:99999'" },
        { "listen :80\n", "t.conf:1: listen: missing host before the "
          "port: ':80'" },
        { "node a\n", "t.conf:1: node takes at most 3 arguments, not 1" },
        { "node a b:1 1 x\n", "t.conf:1: node takes at most 3 arguments, "
          "not 4" },
        { "node a b:1 -1\n", "t.conf:1: node weight must be a number from "
          "0 to 10000, not '-1'" },
        { "node a b:1 10001\n", "t.conf:1: node weight must be a number "
          "from 0 to 10000, not '10001'" },
        { "node a b\n", "t.conf:1: node address: expected host:port or an "
          "absolute unix socket path: 'b'" },
        { "node a b:1\nnode a c:1\n", "t.conf:2: duplicate node name 'a' "
          "(first on line 1)" },
        { "node a b:1\nnode b b:1\n", "t.conf:2: node address 'b:1' "
          "already used by node 'a' on line 1" },
        { "node - h:11211\nring ketama\nnode h h:2\n", "t.conf:3: "
          "duplicate node name 'h' (first on line 1)" },
        { "# nothing\n", "t.conf: no node lines: a ring needs at least one "
          "node" },
        { "node a b:1 0\n", "t.conf: every node has weight 0: no node "
          "would own keys" },
        { "ring ketama\nvnodes 100\nnode a b:1\n", "t.conf:2: vnodes has "
          "no effect with 'ring ketama' (twemproxy places 160 points per "
          "server)" },
        { "vnodes 65536\nnode a b:1 10000\n", "t.conf: the ring would have "
          "655360000 points (vnodes times total weight), more than "
          "67108864: lower vnodes or the weights" },
        { "retry_timeout 5s\nretry_max 1s\nnode a b:1\n", "t.conf: "
          "retry_max (1000 ms) is less than retry_timeout (5000 ms)" },
        { "threads 1 2 3 4 5 6 7 8 9\n", "t.conf:1: too many words on one "
          "line" },
    };
    struct ring_config c;
    struct ring_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_expect_eq(parse(cases[i][0], &c, &err), RING_ESYNTAX,
            "case %zu accepted", i);
        cr_expect_str_eq(err.text, cases[i][1], "case %zu", i);
        cr_expect_eq(c.nnodes, 0);
    }
}

/* 200 bytes of name material. */
#define LONG_NAME "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"

Test(ring_config, nul_byte_and_long_name)
{
    struct ring_config c;
    struct ring_error err;
    char text[400] = "node ";

    cr_assert_eq(ring_config_parse(&c, "node a b:1\0x", 12, "f", &err),
        RING_ESYNTAX);
    cr_assert_str_eq(err.text, "f:1: NUL byte in the line");
    cr_assert_eq(err.line, 1);
    memset(text + 5, 'n', 300);
    strcpy(text + 305, " h:1\n");
    cr_assert_eq(parse(text, &c, &err), RING_ESYNTAX);
    cr_assert_str_eq(err.text, "t.conf:1: node name longer than 128 bytes");
}

/* The name limit is RING_MAX_NAME bytes exactly, for a given name and for
 * the default name (the address) of a node named '-'. */
Test(ring_config, name_limit_is_128_bytes)
{
    struct ring_config c;
    struct ring_error err;
    char text[512];

    cr_assert_eq(RING_MAX_NAME, 128);
    snprintf(text, sizeof(text), "# c\nnode %.*s h:1\n", RING_MAX_NAME,
        LONG_NAME);
    cr_assert_eq(parse(text, &c, &err), RING_OK, "%s", err.text);
    cr_assert_eq(strlen(c.nodes[0].name), RING_MAX_NAME);
    ring_config_fini(&c);
    snprintf(text, sizeof(text), "# c\nnode %.*s h:1\n", RING_MAX_NAME + 1,
        LONG_NAME);
    cr_assert_eq(parse(text, &c, &err), RING_ESYNTAX);
    cr_assert_str_eq(err.text, "t.conf:2: node name longer than 128 bytes");
    cr_assert_eq(err.line, 2);
    /* 125 + ":11" is 128 bytes; 126 + ":11" is one too many. */
    snprintf(text, sizeof(text), "node - %.*s:11\n", RING_MAX_NAME - 3,
        LONG_NAME);
    cr_assert_eq(parse(text, &c, &err), RING_OK, "%s", err.text);
    ring_config_fini(&c);
    snprintf(text, sizeof(text), "node a h:1\n\nnode - %.*s:11\n",
        RING_MAX_NAME - 2, LONG_NAME);
    cr_assert_eq(parse(text, &c, &err), RING_ESYNTAX);
    cr_assert_str_eq(err.text, "t.conf:3: node name longer than 128 bytes "
        "(a node named '-' is named by its address): give it a shorter "
        "name");
}

Test(ring_config, comments_hash_inside_a_word)
{
    struct ring_config c;
    struct ring_error err;

    cr_assert_eq(parse("node a#b h:1 2 # trailing\n#x\n", &c, &err),
        RING_OK, "%s", err.text);
    cr_assert_str_eq(c.nodes[0].name, "a#b");
    cr_assert_eq(c.nodes[0].weight, 2);
    ring_config_fini(&c);
}
