/* ringcached: parse the flags and run the cache node. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "node/node.h"
#include "util/util.h"

int
main(int argc, char **argv)
{
    struct node_config c;
    enum node_parse r;
    int rc;

    util_log_set_program("ringcached");
    node_config_init(&c);
    r = node_config_parse(&c, argc, argv, stdout, stderr);
    if (r != NODE_PARSE_RUN) {
        node_config_fini(&c);
        return r == NODE_PARSE_EXIT_OK ? 0 : 64;
    }
    /* memcached's rule and message: root must name the user to become. */
    if ((getuid() == 0 || geteuid() == 0) && c.user == NULL) {
        fprintf(stderr, "can't run as root without the -u switch\n");
        node_config_fini(&c);
        return 64;
    }
    rc = node_run(&c);
    node_config_fini(&c);
    return rc;
}
