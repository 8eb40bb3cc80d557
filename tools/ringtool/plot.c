/*
 * ringtool plot: an SVG of the ring. Left, the hash space as a circle of
 * coloured arcs, one colour per node (each of NBINS angular bins takes the
 * colour of the node that owns most of it, computed from exact arcs);
 * right, each node's exact share beside its ideal (weight) share.
 */
#include "tools/ringtool/ringtool.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBINS 720
#define MAX_BARS 40
#define W 1000
#define H 560
#define CX 270.0
#define CY 290.0
#define RADIUS 200.0

static void
color(size_t i, char *buf, size_t len)
{
    /* Golden-angle hues keep neighbours apart for any node count. */
    snprintf(buf, len, "hsl(%.0f,65%%,%d%%)", fmod((double)i * 137.508, 360),
        i % 2 ? 42 : 55);
}

/* owner_of_bin[b]: the node that owns the largest part of bin b. */
static void
bin_owners(const struct ring *r, uint32_t *owner_of_bin)
{
    size_t n = ring_node_count(r), np = ring_point_count(r);
    double space = ldexp(1.0, (int)ring_hash_bits(r)), bw = space / NBINS;
    double *cover = xcalloc((size_t)NBINS * n, sizeof(*cover));
    uint32_t first;

    if (np == 0) {
        memset(owner_of_bin, 0, NBINS * sizeof(*owner_of_bin));
        free(cover);
        return;
    }
    (void)ring_point(r, 0, &first);
    /* Arc i is (p[i-1], p[i]]; the wrap arc belongs to point 0. */
    for (size_t i = 0; i <= np; i++) {
        uint32_t node = first;
        double lo = i == 0 ? 0.0 : (double)ring_point(r, i - 1, NULL);
        double hi = i == np ? space : (double)ring_point(r, i, &node);
        for (size_t b = (size_t)(lo / bw); b < NBINS && b * bw < hi; b++) {
            double s = fmax(lo, b * bw), e = fmin(hi, (b + 1) * bw);
            if (e > s) {
                cover[b * n + node] += e - s;
            }
        }
    }
    for (size_t b = 0; b < NBINS; b++) {
        size_t best = 0;
        for (size_t k = 1; k < n; k++) {
            best = cover[b * n + k] > cover[b * n + best] ? k : best;
        }
        owner_of_bin[b] = (uint32_t)best;
    }
    free(cover);
}

static void
point_at(double frac, double *x, double *y)
{
    double a = 2 * M_PI * frac - M_PI / 2; /* 0 at the top, clockwise */
    *x = CX + RADIUS * cos(a);
    *y = CY + RADIUS * sin(a);
}

static void
draw_ring(FILE *f, const struct ring *r)
{
    uint32_t owners[NBINS];
    char col[48];
    size_t b = 0;

    bin_owners(r, owners);
    fprintf(f, "<circle cx='%.0f' cy='%.0f' r='%.0f' fill='none' "
        "stroke='#ddd' stroke-width='46'/>\n", CX, CY, RADIUS);
    while (b < NBINS) {
        size_t e = b + 1;
        while (e < NBINS && owners[e] == owners[b]) {
            e++;
        }
        color(owners[b], col, sizeof(col));
        if (e - b == NBINS) {
            fprintf(f, "<circle cx='%.0f' cy='%.0f' r='%.0f' fill='none' "
                "stroke='%s' stroke-width='44'/>\n", CX, CY, RADIUS, col);
            break;
        }
        double x0, y0, x1, y1;
        point_at((double)b / NBINS, &x0, &y0);
        point_at((double)e / NBINS, &x1, &y1);
        fprintf(f, "<path d='M%.2f %.2f A%.0f %.0f 0 %d 1 %.2f %.2f' "
            "fill='none' stroke='%s' stroke-width='44'/>\n", x0, y0, RADIUS,
            RADIUS, (e - b) * 2 > NBINS, x1, y1, col);
        b = e;
    }
    fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle' "
        "font-size='14'>ring %s</text>\n", CX, CY - 8,
        ring_mode_name(ring_params(r)->mode));
    fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle' "
        "font-size='12' fill='#555'>%zu nodes, %zu points</text>\n", CX,
        CY + 12, ring_node_count(r), ring_point_count(r));
}

static void
draw_bars(FILE *f, const struct ring *r, const double *share)
{
    size_t n = ring_node_count(r), shown = n < MAX_BARS ? n : MAX_BARS;
    double total_w = 0, max = 0, x0 = 620, width = 300;
    double row = (H - 90.0) / (double)shown;
    char col[48];

    for (size_t i = 0; i < n; i++) {
        total_w += ring_node_weight(r, (uint32_t)i);
    }
    for (size_t i = 0; i < shown; i++) {
        double ideal = ring_node_weight(r, (uint32_t)i) / total_w;
        max = fmax(max, fmax(ideal, share[i]));
    }
    fprintf(f, "<text x='%.0f' y='40' font-size='14'>share of keys "
        "(colour) vs weight (grey)</text>\n", x0 - 150);
    for (size_t i = 0; i < shown; i++) {
        struct str name = ring_node_name(r, (uint32_t)i);
        double ideal = ring_node_weight(r, (uint32_t)i) / total_w;
        double y = 60 + row * (double)i, bh = fmax(row * 0.4, 1.0);
        color(i, col, sizeof(col));
        fprintf(f, "<text x='%.0f' y='%.1f' font-size='%.0f' "
            "text-anchor='end'>", x0 - 6, y + bh * 1.6, fmin(12, row * 0.8));
        for (size_t k = 0; k < name.len && k < 24; k++) {
            unsigned char ch = (unsigned char)name.ptr[k];
            if (ch == '<' || ch == '&' || ch == '\'' || ch < 0x20) {
                fputc('_', f);
            } else {
                fputc(ch, f);
            }
        }
        fprintf(f, "</text>\n<rect x='%.0f' y='%.1f' width='%.1f' "
            "height='%.1f' fill='#bbb'/>\n", x0, y, width * ideal / max, bh);
        fprintf(f, "<rect x='%.0f' y='%.1f' width='%.1f' height='%.1f' "
            "fill='%s'/>\n", x0, y + bh, width * share[i] / max, bh, col);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='%.0f' fill='#333'>"
            "%.2f%%</text>\n", x0 + width * fmax(share[i], ideal) / max + 4,
            y + bh * 1.6, fmin(11, row * 0.8), 100 * share[i]);
    }
    if (shown < n) {
        fprintf(f, "<text x='%.0f' y='%d' font-size='12'>(%zu more nodes "
            "not shown)</text>\n", x0, H - 12, n - shown);
    }
}

int
rt_plot(const struct rt_opts *o)
{
    struct rt_ring rr;
    double *share;
    FILE *f;

    if (o->config == NULL || o->output == NULL) {
        fprintf(stderr, "ringtool: plot needs -c FILE and -o FILE.svg\n");
        return RT_EXIT_USAGE;
    }
    if (!rt_load(o, o->config, &rr)) {
        return RT_EXIT_CONFIG;
    }
    f = fopen(o->output, "w");
    if (f == NULL) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s: %s", o->output, strerror(errno));
        rt_error(o, msg, 0);
        rt_unload(&rr);
        return RT_EXIT_CONFIG;
    }
    share = xcalloc(ring_node_count(rr.ring), sizeof(*share));
    ring_ownership(rr.ring, share);
    fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n<svg xmlns="
        "'http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 "
        "%d %d' font-family='sans-serif'>\n<rect width='100%%' "
        "height='100%%' fill='white'/>\n", W, H, W, H);
    draw_ring(f, rr.ring);
    draw_bars(f, rr.ring, share);
    fprintf(f, "</svg>\n");
    bool ok = fclose(f) == 0;
    if (o->json) {
        printf("{\"ok\":%s,\"output\":", ok ? "true" : "false");
        rt_json_str(stdout, str_from_cstr(o->output));
        printf("}\n");
    } else if (!ok) {
        fprintf(stderr, "ringtool: %s: write failed\n", o->output);
    }
    free(share);
    rt_unload(&rr);
    return ok ? RT_EXIT_OK : RT_EXIT_CONFIG;
}
