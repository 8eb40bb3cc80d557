/* ringcached: parse the flags and run the cache node. */
#include <stdio.h>
#include <stdlib.h>

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
    rc = node_run(&c);
    node_config_fini(&c);
    return rc;
}
