/* Tests for ringcached's flag parsing: memcached's flags and refusals. */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

/* Parse a NULL-terminated argument list; messages go to *msg (caller
 * frees). */
static enum node_parse
parse(struct node_config *c, char **msg, const char *first, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    const char *a;
    size_t len = 0;
    FILE *f = open_memstream(msg, &len);
    enum node_parse r;

    argv[argc++] = (char *)"ringcached";
    va_start(ap, first);
    for (a = first; a != NULL && argc < 31; a = va_arg(ap, const char *)) {
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    argv[argc] = NULL;
    node_config_init(c);
    r = node_config_parse(c, argc, argv, f, f);
    fclose(f);
    return r;
}

Test(node_config, defaults_are_memcached_but_loopback)
{
    struct node_config c;
    char *msg;

    cr_assert_eq(parse(&c, &msg, NULL), NODE_PARSE_RUN);
    cr_assert_eq(c.port, 11211);
    cr_assert_eq(c.nlisten, 1);
    cr_assert_str_eq(c.listen[0], "127.0.0.1");
    cr_assert_eq(c.mem_limit, (size_t)64 << 20);
    cr_assert_eq(c.max_conns, 1024);
    cr_assert_eq(c.threads, 4);
    cr_assert_eq(c.item_size_max, (size_t)1 << 20);
    cr_assert_eq(c.unix_mask, 0700);
    cr_assert_not(c.enable_shutdown);
    cr_assert_eq(c.idle_timeout, 0);
    node_config_fini(&c);
    free(msg);
}

Test(node_config, short_flags)
{
    struct node_config c;
    char *msg;

    cr_assert_eq(parse(&c, &msg, "-p", "12345", "-l", "127.0.0.1,::1",
        "-m", "128", "-c", "10", "-t", "2", "-I", "2m", "-vv", "-A", "-F",
        "-U", "0", "-o", "idle_timeout=7", "-a", "750", NULL),
        NODE_PARSE_RUN, "%s", msg);
    cr_assert_eq(c.port, 12345);
    cr_assert_eq(c.nlisten, 2);
    cr_assert_str_eq(c.listen[1], "::1");
    cr_assert_eq(c.mem_limit, (size_t)128 << 20);
    cr_assert_eq(c.max_conns, 10);
    cr_assert_eq(c.threads, 2);
    cr_assert_eq(c.item_size_max, (size_t)2 << 20);
    cr_assert_eq(c.verbose, 2);
    cr_assert(c.enable_shutdown);
    cr_assert(c.disable_flush);
    cr_assert_eq(c.idle_timeout, 7);
    cr_assert_eq(c.unix_mask, 0750);
    node_config_fini(&c);
    free(msg);
}

Test(node_config, long_flags)
{
    struct node_config c;
    char *msg;

    cr_assert_eq(parse(&c, &msg, "--port=2000", "--listen=0.0.0.0",
        "--memory-limit=16", "--conn-limit=5", "--threads=1",
        "--max-item-size=512k", "--unix-socket=/tmp/x.sock",
        "--enable-shutdown", "--udp-port=0", "--idle-timeout=3", NULL),
        NODE_PARSE_RUN, "%s", msg);
    cr_assert_eq(c.port, 2000);
    cr_assert_str_eq(c.listen[0], "0.0.0.0");
    cr_assert_eq(c.mem_limit, (size_t)16 << 20);
    cr_assert_eq(c.max_conns, 5);
    cr_assert_eq(c.threads, 1);
    cr_assert_eq(c.item_size_max, 512 * 1024);
    cr_assert_str_eq(c.unix_path, "/tmp/x.sock");
    cr_assert_eq(c.idle_timeout, 3);
    node_config_fini(&c);
    free(msg);
}

Test(node_config, udp_is_refused_with_a_reason)
{
    struct node_config c;
    char *msg;

    cr_assert_eq(parse(&c, &msg, "-U", "11211", NULL),
        NODE_PARSE_EXIT_USAGE);
    cr_assert(strstr(msg, "UDP is not supported") != NULL, "%s", msg);
    node_config_fini(&c);
    free(msg);
}

Test(node_config, bad_values_are_refused)
{
    static const char *const bad[][2] = {
        { "-p", "65536" }, { "-p", "x" }, { "-m", "0" }, { "-c", "-1" },
        { "-t", "0" }, { "-I", "512" }, { "-I", "2g" }, { "-a", "800" },
        { "-B", "binary" }, { "-o", "bogus=1" }, { "-f", "1.0" },
        { "-l", "[::1" }, { "-m", "1" },
    };
    struct node_config c;
    char *msg;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(parse(&c, &msg, bad[i][0], bad[i][1], NULL),
            NODE_PARSE_EXIT_USAGE, "%s %s accepted", bad[i][0], bad[i][1]);
        cr_assert_gt(strlen(msg), 0, "%s %s: no message", bad[i][0],
            bad[i][1]);
        node_config_fini(&c);
        free(msg);
    }
    cr_assert_eq(parse(&c, &msg, "-o", "ssl_key=/k", NULL),
        NODE_PARSE_EXIT_USAGE);
    cr_assert(strstr(msg, "TLS") != NULL, "%s", msg);
    node_config_fini(&c);
    free(msg);
    cr_assert_eq(parse(&c, &msg, "--no-such-flag", NULL),
        NODE_PARSE_EXIT_USAGE);
    node_config_fini(&c);
    free(msg);
}

Test(node_config, help_and_version_exit_ok)
{
    struct node_config c;
    char *msg;

    cr_assert_eq(parse(&c, &msg, "-h", NULL), NODE_PARSE_EXIT_OK);
    cr_assert(strstr(msg, "--conn-limit") != NULL);
    node_config_fini(&c);
    free(msg);
    cr_assert_eq(parse(&c, &msg, "-V", NULL), NODE_PARSE_EXIT_OK);
    cr_assert(strncmp(msg, "ringcached ", 11) == 0, "%s", msg);
    node_config_fini(&c);
    free(msg);
}

Test(node_config, split_listen_forms)
{
    char host[64];
    uint16_t port;

    cr_assert(node_split_listen("127.0.0.1", 11211, host, sizeof(host),
        &port));
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_eq(port, 11211);
    cr_assert(node_split_listen("localhost:99", 1, host, sizeof(host),
        &port));
    cr_assert_str_eq(host, "localhost");
    cr_assert_eq(port, 99);
    cr_assert(node_split_listen("[::1]:7", 1, host, sizeof(host), &port));
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(port, 7);
    cr_assert(node_split_listen("::1", 5, host, sizeof(host), &port));
    cr_assert_str_eq(host, "::1");
    cr_assert_eq(port, 5);
    cr_assert_not(node_split_listen("h:70000", 1, host, sizeof(host),
        &port));
    cr_assert_not(node_split_listen(":80", 1, host, sizeof(host), &port));
    cr_assert_not(node_split_listen("[::1]x", 1, host, sizeof(host),
        &port));
}

/* The flags of Debian's /etc/memcached.conf and memcached's operational
 * flags: parsed into the config, or accepted without effect and listed
 * for the one startup log line. */
Test(node_config, memcached_operational_flags)
{
    struct node_config c;
    char *msg;

    cr_assert_eq(parse(&c, &msg, "-d", "-P", "/run/x.pid", "-k", "-r",
        "-X", "-u", "memcache", NULL), NODE_PARSE_RUN, "%s", msg);
    cr_assert(c.daemonize);
    cr_assert_str_eq(c.pid_file, "/run/x.pid");
    cr_assert(c.lock_memory);
    cr_assert(c.max_core);
    cr_assert(c.dump_disabled);
    cr_assert_str_eq(c.user, "memcache");
    cr_assert_null(c.ignored);
    node_config_fini(&c);
    free(msg);
    cr_assert_eq(parse(&c, &msg, "-L", "-o", "modern,hash_algorithm=murmur3,"
        "no_lru_crawler,lru_crawler_sleep=100,ext_path=/x:1G", "-W",
        "--pidfile=/p", "--lock-memory", NULL), NODE_PARSE_RUN, "%s", msg);
    cr_assert(c.no_lru_crawler);
    cr_assert_str_eq(c.ignored, "-L, -o modern, -o hash_algorithm, "
        "-o lru_crawler_sleep, -o ext_path, -W");
    cr_assert_str_eq(c.pid_file, "/p");
    node_config_fini(&c);
    free(msg);
    cr_assert_eq(parse(&c, &msg, "-o", "no_lru_crawler,lru_crawler", NULL),
        NODE_PARSE_RUN);
    cr_assert_not(c.no_lru_crawler);
    node_config_fini(&c);
    free(msg);
}
