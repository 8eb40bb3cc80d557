/*
 * ringtool import-twemproxy: convert one pool of a nutcracker.yml to a
 * ringproxy.conf(5) that places every key exactly where twemproxy does:
 * ring ketama with the same key hash, hash_tag, server names and weights.
 * YAML is read with libyaml's document API; built without libyaml (see
 * configure's summary) the command says so and fails.
 */
#include "tools/ringtool/ringtool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#ifdef HAVE_YAML
#include <yaml.h>

/* Everything taken from one pool. */
struct twem_pool {
    const char *name;
    yaml_node_t *map;
};

static const char *
scalar(yaml_document_t *d, int id)
{
    yaml_node_t *n = yaml_document_get_node(d, id);
    return n != NULL && n->type == YAML_SCALAR_NODE ?
        (const char *)n->data.scalar.value : NULL;
}

/* The value node of `key` in mapping `map`, or NULL. */
static yaml_node_t *
lookup(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
        p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(d, p->key);
        if (k != NULL && strcmp(k, key) == 0) {
            return yaml_document_get_node(d, p->value);
        }
    }
    return NULL;
}

static const char *
lookup_scalar(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    yaml_node_t *n = lookup(d, map, key);
    return n != NULL && n->type == YAML_SCALAR_NODE ?
        (const char *)n->data.scalar.value : NULL;
}

/* Pick the pool named `want`, or the only pool. */
static bool
find_pool(yaml_document_t *d, const char *want, struct twem_pool *out,
    char *msg, size_t len)
{
    yaml_node_t *root = yaml_document_get_root_node(d);
    size_t count = 0;

    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        snprintf(msg, len, "not a twemproxy configuration: the top level "
            "must map pool names to pools");
        return false;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
        p < root->data.mapping.pairs.top; p++) {
        const char *name = scalar(d, p->key);
        yaml_node_t *v = yaml_document_get_node(d, p->value);
        if (name == NULL || v == NULL || v->type != YAML_MAPPING_NODE) {
            continue;
        }
        count++;
        if (want == NULL || strcmp(want, name) == 0) {
            out->name = name;
            out->map = v;
        }
    }
    if (want != NULL && out->map == NULL) {
        snprintf(msg, len, "no pool named '%s'", want);
        return false;
    }
    if (want == NULL && count != 1) {
        snprintf(msg, len, "%zu pools in the file: choose one with -p POOL",
            count);
        return false;
    }
    return true;
}

/*
 * One "host:port:weight [name]" or "/path:weight [name]" entry, written as
 * a node line. twemproxy's own name when none is given: the host alone for
 * port 11211, else "host:port"; for a unix path, the path and a colon.
 */
static bool
write_server(FILE *f, const char *entry, char *msg, size_t len)
{
    char *s = xstrdup(entry), *name = strchr(s, ' ');
    char *wcolon, *pcolon = NULL, *defname;
    bool ok = false;

    if (name != NULL) {
        *name++ = '\0';
        name += strspn(name, " ");
    }
    wcolon = strrchr(s, ':');
    if (wcolon == NULL) {
        goto bad;
    }
    *wcolon = '\0';
    if (s[0] != '/') {
        pcolon = strrchr(s, ':');
        if (pcolon == NULL) {
            goto bad;
        }
    }
    uint32_t weight;
    if (!util_parse_u32(str_from_cstr(wcolon + 1), &weight) || weight == 0 ||
        weight > RING_MAX_WEIGHT) {
        snprintf(msg, len, "server '%s': weight must be 1 to %d", entry,
            RING_MAX_WEIGHT);
        free(s);
        return false;
    }
    if (s[0] == '/') {
        defname = xmalloc(strlen(s) + 2);
        sprintf(defname, "%s:", s);
    } else if (strcmp(pcolon + 1, "11211") == 0) {
        defname = xstrndup(s, (size_t)(pcolon - s));
    } else {
        defname = xstrdup(s);
    }
    /* "-" when our ketama default gives the same name; else explicit. */
    bool same = name == NULL && s[0] != '/';
    fprintf(f, "node %s %s %u\n", name != NULL && *name ? name :
        same ? "-" : defname, s, weight);
    free(defname);
    ok = true;
bad:
    if (!ok) {
        snprintf(msg, len, "server '%s' is not host:port:weight [name] or "
            "/path:weight [name]", entry);
    }
    free(s);
    return ok;
}

/* Settings that keep their meaning; placement settings first. */
static bool
write_settings(FILE *f, yaml_document_t *d, yaml_node_t *pool, char *msg,
    size_t len)
{
    const char *dist = lookup_scalar(d, pool, "distribution");
    const char *hash = lookup_scalar(d, pool, "hash");
    const char *tag = lookup_scalar(d, pool, "hash_tag");
    const char *v;
    enum ring_hash h = RING_HASH_FNV1A_64;

    if (dist != NULL && strcmp(dist, "ketama") != 0) {
        snprintf(msg, len, "distribution '%s' cannot be kept: only ketama "
            "pools convert with the same placement", dist);
        return false;
    }
    if ((v = lookup_scalar(d, pool, "redis")) != NULL &&
        strcmp(v, "true") == 0) {
        snprintf(msg, len, "a redis pool cannot be served by ringproxy "
            "(memcached protocol only)");
        return false;
    }
    if (hash != NULL && !ring_hash_parse(str_from_cstr(hash), &h)) {
        snprintf(msg, len, "unknown hash '%s'", hash);
        return false;
    }
    if (tag != NULL && strlen(tag) != 2) {
        snprintf(msg, len, "hash_tag '%s' is not two characters", tag);
        return false;
    }
    if ((v = lookup_scalar(d, pool, "listen")) != NULL) {
        fprintf(f, "listen %.*s\n", (int)strcspn(v, " "), v);
    }
    fprintf(f, "ring ketama %s\n", ring_hash_name(h));
    if (tag != NULL) {
        fprintf(f, "hash_tag %s\n", tag);
    }
    if ((v = lookup_scalar(d, pool, "timeout")) != NULL) {
        fprintf(f, "request_timeout %sms\n", v);
    }
    if ((v = lookup_scalar(d, pool, "auto_eject_hosts")) != NULL) {
        fprintf(f, "failure_policy %s\n", strcmp(v, "true") == 0 ? "eject" :
            "fail-fast");
    }
    if ((v = lookup_scalar(d, pool, "server_failure_limit")) != NULL) {
        fprintf(f, "failure_limit %s\n", v);
    }
    if ((v = lookup_scalar(d, pool, "server_retry_timeout")) != NULL) {
        fprintf(f, "retry_timeout %sms\n", v);
    }
    if ((v = lookup_scalar(d, pool, "server_connections")) != NULL) {
        fprintf(f, "backend_connections %s\n", v);
    }
    if ((v = lookup_scalar(d, pool, "backlog")) != NULL) {
        fprintf(f, "backlog %s\n", v);
    }
    return true;
}

static bool
write_pool(FILE *f, yaml_document_t *d, const struct twem_pool *p,
    const char *file, char *msg, size_t len)
{
    yaml_node_t *servers = lookup(d, p->map, "servers");

    if (servers == NULL || servers->type != YAML_SEQUENCE_NODE ||
        servers->data.sequence.items.top ==
        servers->data.sequence.items.start) {
        snprintf(msg, len, "pool '%s' has no servers", p->name);
        return false;
    }
    fprintf(f, "# ringproxy.conf(5) imported by ringtool from %s, pool "
        "'%s'.\n# Placement is identical to twemproxy's (ketama).\n", file,
        p->name);
    if (!write_settings(f, d, p->map, msg, len)) {
        return false;
    }
    fprintf(f, "\n# node NAME ADDRESS WEIGHT ('-': twemproxy's own name)\n");
    for (yaml_node_item_t *it = servers->data.sequence.items.start;
        it < servers->data.sequence.items.top; it++) {
        const char *entry = scalar(d, *it);
        if (entry == NULL || !write_server(f, entry, msg, len)) {
            if (entry == NULL) {
                snprintf(msg, len, "a server entry is not a string");
            }
            return false;
        }
    }
    return true;
}

int
rt_import_twemproxy(const struct rt_opts *o)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct twem_pool pool = { NULL, NULL };
    char msg[512] = "";
    FILE *in, *out = stdout;
    bool ok = false;

    if (o->argc != 1) {
        fprintf(stderr, "ringtool: import-twemproxy needs one file: "
            "nutcracker.yml\n");
        return RT_EXIT_USAGE;
    }
    in = fopen(o->argv[0], "rb");
    if (in == NULL) {
        snprintf(msg, sizeof(msg), "%s: %s", o->argv[0], strerror(errno));
        rt_error(o, msg, 0);
        return RT_EXIT_CONFIG;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, in);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(msg, sizeof(msg), "%s:%zu: %s", o->argv[0],
            parser.problem_mark.line + 1,
            parser.problem != NULL ? parser.problem : "YAML error");
        rt_error(o, msg, (unsigned)parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        fclose(in);
        return RT_EXIT_CONFIG;
    }
    if (find_pool(&doc, o->pool, &pool, msg, sizeof(msg))) {
        char *mem = NULL;
        size_t memlen = 0;
        if (o->output != NULL) {
            out = fopen(o->output, "w");
        } else if (o->json) {
            out = open_memstream(&mem, &memlen);
        }
        if (out == NULL) {
            snprintf(msg, sizeof(msg), "%s: %s", o->output != NULL ?
                o->output : "memory", strerror(errno));
        } else {
            ok = write_pool(out, &doc, &pool, o->argv[0], msg, sizeof(msg));
            ok = (out == stdout ? fflush(out) : fclose(out)) == 0 && ok;
        }
        if (ok && o->json) {
            printf("{\"ok\":true,\"pool\":");
            rt_json_str(stdout, str_from_cstr(pool.name));
            printf(",\"config\":");
            rt_json_str(stdout, (struct str){ mem != NULL ? mem : "",
                memlen });
            printf("}\n");
        }
        free(mem);
    }
    if (!ok) {
        char full[700];
        snprintf(full, sizeof(full), "%s: %s", o->argv[0], msg);
        rt_error(o, full, 0);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(in);
    return ok ? RT_EXIT_OK : RT_EXIT_CONFIG;
}

#else /* !HAVE_YAML */

int
rt_import_twemproxy(const struct rt_opts *o)
{
    rt_error(o, "import-twemproxy: this ringtool was built without libyaml "
        "(apt-get install libyaml-dev, then configure and make again)", 0);
    return RT_EXIT_CONFIG;
}

#endif /* HAVE_YAML */
