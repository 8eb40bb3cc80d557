/* Socket addresses: resolve, build unix addresses, format for humans. */
#include "net/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

/* Copy `host` without [brackets] into dst; false if it does not fit. */
static bool
strip_brackets(const char *host, char *dst, size_t n)
{
    size_t len = strlen(host);

    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    if (len >= n) {
        return false;
    }
    memcpy(dst, host, len);
    dst[len] = '\0';
    return true;
}

enum net_status
net_addr_resolve(const char *host, uint16_t port, struct net_addr *out)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    char name[256];
    char serv[8];

    if (host == NULL || !strip_brackets(host, name, sizeof(name))) {
        return NET_EADDR;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(serv, sizeof(serv), "%u", (unsigned)port);
    if (getaddrinfo(name, serv, &hints, &res) != 0 || res == NULL) {
        return NET_EADDR;
    }
    memset(out, 0, sizeof(*out));
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return NET_OK;
}

enum net_status
net_addr_unix(const char *path, struct net_addr *out)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(sun->sun_path)) {
        return NET_EADDR;
    }
    memset(out, 0, sizeof(*out));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len);
    out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    return NET_OK;
}

void
net_addr_format(const struct net_addr *a, char *dst, size_t n)
{
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)&a->ss;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
    const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->ss;
    char ip[INET6_ADDRSTRLEN];

    if (n == 0) {
        return;
    }
    switch (a->ss.ss_family) {
    case AF_INET:
        inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
        snprintf(dst, n, "%s:%u", ip, (unsigned)ntohs(in4->sin_port));
        break;
    case AF_INET6:
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        snprintf(dst, n, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
        break;
    case AF_UNIX:
        snprintf(dst, n, "%.*s", (int)sizeof(sun->sun_path), sun->sun_path);
        break;
    default:
        snprintf(dst, n, "?");
        break;
    }
}
