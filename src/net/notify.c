/*
 * sd_notify without libsystemd: one datagram to the unix socket named by
 * $NOTIFY_SOCKET ('@' at the start means the abstract namespace).
 */
#include "net/net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum net_status
net_sd_notify(const char *msg)
{
    struct sockaddr_un sun;
    const char *path = getenv("NOTIFY_SOCKET");
    size_t len;
    ssize_t n;
    int fd;

    if (path == NULL || path[0] == '\0') {
        return NET_OK;
    }
    len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len < 2 ||
        len >= sizeof(sun.sun_path)) {
        return NET_EADDR;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, len);
    if (path[0] == '@') {
        sun.sun_path[0] = '\0';
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return NET_ESOCKET;
    }
    n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
        (const struct sockaddr *)&sun,
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
    return n < 0 ? NET_ESOCKET : NET_OK;
}

enum net_status
net_sd_notifyf(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return net_sd_notify(msg);
}
