/*
 * Tests for net sd_notify (notify.c) to a path and an abstract socket
 * the test binds.
 */

#include <criterion/criterion.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net.h"
#include "util/util.h"

#include "helpers.h"

static int
bind_dgram(const char *name, bool abstract)
{
    struct sockaddr_un sun;
    socklen_t len;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, name);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    if (abstract) {
        sun.sun_path[0] = '\0';
    } else {
        unlink(name);
    }
    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, len), 0, "bind: %s",
        strerror(errno));
    return fd;
}

static void
expect_dgram(int fd, const char *want)
{
    char got[256];
    ssize_t n;
    struct pollfd p = { .fd = fd, .events = POLLIN };

    cr_assert_eq(poll(&p, 1, 2000), 1);
    n = recv(fd, got, sizeof(got) - 1, 0);
    cr_assert_geq(n, 0);
    got[n] = '\0';
    cr_assert_str_eq(got, want);
}

Test(net_notify, path_and_abstract_sockets)
{
    char path[64];
    char abs[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/net-notify-%d", (int)getpid());
    fd = bind_dgram(path, false);
    setenv("NOTIFY_SOCKET", path, 1);
    cr_assert_eq(net_sd_notify("READY=1"), NET_OK);
    expect_dgram(fd, "READY=1");
    cr_assert_eq(net_sd_notifyf("STATUS=serving %d", 42), NET_OK);
    expect_dgram(fd, "STATUS=serving 42");
    close(fd);
    unlink(path);

    snprintf(abs, sizeof(abs), "@net-notify-%d", (int)getpid());
    fd = bind_dgram(abs, true);
    setenv("NOTIFY_SOCKET", abs, 1);
    cr_assert_eq(net_sd_notify("STOPPING=1"), NET_OK);
    expect_dgram(fd, "STOPPING=1");
    close(fd);

    setenv("NOTIFY_SOCKET", "relative/path", 1);
    cr_assert_eq(net_sd_notify("READY=1"), NET_EADDR);
    setenv("NOTIFY_SOCKET", "/nonexistent/dir/sock", 1);
    cr_assert_eq(net_sd_notify("READY=1"), NET_ESOCKET);
    unsetenv("NOTIFY_SOCKET");
    cr_assert_eq(net_sd_notify("READY=1"), NET_OK, "unset: nothing to do");
}
