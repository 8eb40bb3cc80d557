/*
 * The daemon's wiring: store, proto limits and net server from the flags;
 * listeners; dropping root; the store's maintenance timer; readiness and
 * shutdown notifications to systemd.
 */
#include "node/node_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "proto/proto.h"
#include "store/store.h"
#include "util/util.h"

/* Maintenance every 100 ms, or at once while the store has work pending. */
#define MAINT_IDLE_US 100000u
#define MAINT_BUSY_US 1000u
#define MAINT_BUDGET 1000u

static const char reject_msg[] = "SERVER_ERROR Too many open connections\r\n";

static void
maintain(struct net_timer *t, void *arg)
{
    struct node *n = arg;
    bool more = store_maintain(n->store, (uint32_t)util_wall_sec(),
        MAINT_BUDGET);

    net_timer_arm(t, more ? MAINT_BUSY_US : MAINT_IDLE_US);
}

static void
worker_start(struct net_loop *l, unsigned idx, void *arg)
{
    struct node *n = arg;

    net_loop_set_data(l, &n->workers[idx]);
}

static void
on_shutdown(void *arg)
{
    (void)arg;
    net_sd_notify("STOPPING=1\nSTATUS=draining connections");
}

static void
on_hup(struct net_loop *l, int signo, void *arg)
{
    (void)l;
    (void)signo;
    (void)arg;
    log_info("SIGHUP: nothing to reload");
}

static enum util_log_level
log_level(unsigned verbose)
{
    return verbose >= 2 ? LOG_LEVEL_DEBUG : verbose == 1 ? LOG_LEVEL_INFO :
        LOG_LEVEL_WARN;
}

static struct store *
make_store(const struct node_config *c)
{
    struct store_config sc;

    store_config_init(&sc);
    sc.mem_limit = c->mem_limit;
    sc.item_size_max = c->item_size_max;
    sc.growth_factor = c->growth_factor;
    sc.chunk_min = c->chunk_min;
    sc.slab_chunk_max = c->slab_chunk_max;
    sc.slab_automove = c->slab_automove;
    sc.no_evict = c->no_evict;
    if (c->hash_power > 0) {
        sc.hash_power = c->hash_power;
    }
    return store_create(&sc);
}

static bool
open_listeners(struct node *n)
{
    const struct node_config *c = n->cfg;
    char host[256];
    uint16_t port;
    size_t i;

    if (c->unix_path != NULL) {
        if (net_server_listen_unix(n->srv, c->unix_path, c->unix_mask)
            != NET_OK) {
            log_error("cannot listen on unix socket %s: %s", c->unix_path,
                strerror(errno));
            return false;
        }
        return true;
    }
    for (i = 0; i < c->nlisten; i++) {
        if (!node_split_listen(c->listen[i], c->port, host, sizeof(host),
            &port) || port == 0) {
            continue;       /* -p 0: no TCP on this address */
        }
        if (net_server_listen_tcp(n->srv, host, port, NULL) != NET_OK) {
            log_error("cannot listen on %s port %u: %s", host,
                (unsigned)port, strerror(errno));
            return false;
        }
    }
    if (net_server_listener_count(n->srv) == 0) {
        log_error("nothing to listen on (-p 0 and no -s)");
        return false;
    }
    return true;
}

/*
 * Room for -c connections plus listeners, the store and libevent: raise
 * the soft descriptor limit as far as the hard one allows (memcached does
 * the same), and warn when that is not enough.
 */
static void
raise_fd_limit(size_t max_conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_conns + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) {
        return;
    }
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ?
        want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want) {
        log_warn("-c %zu: only %llu file descriptors allowed; connections "
            "past that are refused by the kernel", max_conns,
            (unsigned long long)rl.rlim_cur);
    }
}

/* -u: when started as root, become `user` after binding. */
static bool
drop_root(const char *user)
{
    struct passwd *pw;

    if (user == NULL || getuid() != 0) {
        return true;
    }
    pw = getpwnam(user);
    if (pw == NULL) {
        log_error("-u %s: no such user", user);
        return false;
    }
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0) {
        log_error("-u %s: cannot assume identity: %s", user,
            strerror(errno));
        return false;
    }
    return true;
}

/*
 * -d: become a daemon as memcached does: fork, setsid, fork again (never a
 * session leader, so no controlling terminal), chdir /, stdin and stdout
 * (and stderr, unless -v) to /dev/null. The parents exit 0 at once. Runs
 * before any thread or event base exists.
 */
static bool
daemonize(bool keep_stderr)
{
    pid_t pid;
    int fd;

    for (int i = 0; i < 2; i++) {
        pid = fork();
        if (pid < 0) {
            log_error("-d: fork: %s", strerror(errno));
            return false;
        }
        if (pid > 0) {
            _exit(0);
        }
        if (i == 0 && setsid() < 0) {
            log_error("-d: setsid: %s", strerror(errno));
            return false;
        }
    }
    if (chdir("/") != 0) {
        log_error("-d: chdir /: %s", strerror(errno));
        return false;
    }
    fd = open("/dev/null", O_RDWR);
    if (fd < 0) {
        log_error("-d: /dev/null: %s", strerror(errno));
        return false;
    }
    (void)dup2(fd, STDIN_FILENO);
    (void)dup2(fd, STDOUT_FILENO);
    if (!keep_stderr) {
        (void)dup2(fd, STDERR_FILENO);
    }
    if (fd > STDERR_FILENO) {
        close(fd);
    }
    return true;
}

/* -r: core files as large as allowed, as memcached; false if none. */
static bool
raise_core_limit(void)
{
    struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
    struct rlimit cur;

    if (getrlimit(RLIMIT_CORE, &cur) == 0 &&
        setrlimit(RLIMIT_CORE, &rl) != 0) {
        rl.rlim_cur = rl.rlim_max = cur.rlim_max;
        (void)setrlimit(RLIMIT_CORE, &rl);
    }
    if (getrlimit(RLIMIT_CORE, &cur) != 0 || cur.rlim_cur == 0) {
        log_error("-r: failed to ensure corefile creation");
        return false;
    }
    return true;
}

/* -k: lock all memory; like memcached, a failure is only a warning. */
static void
lock_memory(void)
{
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        log_warn("warning: -k invalid, mlockall() failed: %s",
            strerror(errno));
    }
}

/* -P: write the pid (via a temporary file and rename, as memcached). */
static bool
write_pid_file(const char *path)
{
    char tmp[4096];
    FILE *f;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        log_error("-P %s: path too long", path);
        return false;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        log_error("-P: could not open the pid file %s for writing: %s", tmp,
            strerror(errno));
        return false;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("-P: could not write the pid file %s: %s", path,
            strerror(errno));
        (void)unlink(tmp);
        return false;
    }
    return true;
}

static void
remove_pid_file(const char *path)
{
    if (unlink(path) != 0) {
        log_warn("-P: could not remove the pid file %s: %s", path,
            strerror(errno));
    }
}

static bool
make_server(struct node *n)
{
    const struct node_config *c = n->cfg;
    struct net_server_config sc;

    memset(&sc, 0, sizeof(sc));
    sc.nworkers = c->threads;
    sc.max_conns = c->max_conns;
    sc.reject_msg = reject_msg;
    sc.backlog = c->backlog;
    sc.conn.idle_ms = c->idle_timeout * 1000u;
    sc.conn.out_high = NODE_OUT_HIGH;
    sc.ops = &node_session_ops;
    sc.arg = n;
    sc.on_open = node_session_open;
    sc.on_worker_start = worker_start;
    sc.on_shutdown = on_shutdown;
    n->srv = net_server_create(&sc);
    return n->srv != NULL;
}

static void
announce(struct node *n)
{
    char name[128];
    size_t i;

    for (i = 0; i < net_server_listener_count(n->srv); i++) {
        net_server_listener_name(n->srv, i, name, sizeof(name));
        log_info("listening on %s", name);
    }
    net_sd_notifyf("READY=1\nSTATUS=serving on %zu listener(s), %u "
        "threads, %zu MiB", net_server_listener_count(n->srv), n->nworkers,
        n->cfg->mem_limit >> 20);
}

static void
node_fini(struct node *n)
{
    unsigned i;

    net_server_destroy(n->srv);
    for (i = 0; n->workers != NULL && i < n->nworkers; i++) {
        pthread_mutex_destroy(&n->workers[i].mu);
    }
    free(n->workers);
    store_destroy(n->store);
}

int
node_run(const struct node_config *c)
{
    struct node n;
    struct net_loop *main_loop;
    unsigned i;
    int rc = 1;

    bool pid_written = false;

    memset(&n, 0, sizeof(n));
    n.cfg = c;
    n.verbosity = c->verbose;
    n.crawler_enabled = !c->no_lru_crawler;
    util_log_set_level(log_level(c->verbose));
    if (c->ignored != NULL) {
        log_info("accepted without effect (memcached options that mean "
            "nothing here): %s", c->ignored);
    }
    if ((c->max_core && !raise_core_limit()) ||
        (c->daemonize && !daemonize(c->verbose > 0))) {
        return 1;
    }
    n.started = util_wall_sec();
    proto_limits_default(&n.lim);
    n.lim.max_value = (uint32_t)c->item_size_max;
    raise_fd_limit(c->max_conns);
    n.store = make_store(c);
    if (n.store == NULL) {
        log_error("cannot create the store (-m %zu, -I %zu)",
            c->mem_limit >> 20, c->item_size_max);
        return 1;
    }
    node_exec_set_store(n.store);
    n.nworkers = c->threads;
    n.workers = xcalloc(n.nworkers, sizeof(*n.workers));
    for (i = 0; i < n.nworkers; i++) {
        n.workers[i].node = &n;
        n.workers[i].idx = i;
        pthread_mutex_init(&n.workers[i].mu, NULL);
    }
    if (!make_server(&n) || !open_listeners(&n) || !drop_root(c->user)) {
        goto out;
    }
    if (c->pid_file != NULL) {
        pid_written = write_pid_file(c->pid_file);
    }
    if (net_server_start(n.srv) != NET_OK) {
        log_error("cannot start worker threads");
        goto out;
    }
    /* NOTE(node): after dropping root and starting the threads, as
     * memcached: locked as root, the user's RLIMIT_MEMLOCK would then
     * refuse the thread stacks. */
    if (c->lock_memory) {
        lock_memory();
    }
    main_loop = net_server_main_loop(n.srv);
    n.maint = net_timer_create(main_loop, maintain, &n);
    if (n.maint == NULL ||
        net_loop_on_signal(main_loop, SIGHUP, on_hup, &n) != NET_OK) {
        log_error("cannot set up the maintenance timer");
        goto out;
    }
    net_timer_arm(n.maint, MAINT_IDLE_US);
    announce(&n);
    if (net_server_run(n.srv) == NET_OK) {
        rc = 0;
    }
    log_info("stopped");
out:
    node_fini(&n);
    if (pid_written) {
        remove_pid_file(c->pid_file);
    }
    return rc;
}
