/* ringproxy: parse the flags and run the proxy. */
#include <stdio.h>

#include "proxy/proxy.h"
#include "util/util.h"

int
main(int argc, char **argv)
{
    struct proxy_opts o;
    enum proxy_parse r;

    util_log_set_program("ringproxy");
    r = proxy_opts_parse(&o, argc, argv, stdout, stderr);
    if (r != PROXY_PARSE_RUN) {
        return r == PROXY_PARSE_EXIT_OK ? 0 : 64;
    }
    if (o.check) {
        return proxy_check(&o, stdout, stderr);
    }
    return proxy_run(&o);
}
