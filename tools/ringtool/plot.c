/*
 * ringtool plot: an SVG of the ring. Left, the hash space as a circle of
 * coloured arcs, one colour per node (with more points than pixels,
 * each of NBINS bins is split among its owners by exact share);
 * right, each node's exact share beside its ideal (weight) share.
 */
#include "tools/ringtool/ringtool.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NBINS 120
#define MAX_EXACT 4000 /* draw arcs one by one up to this many */
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

/* A run of arc in one colour, merged as segments arrive in order. */
struct arc_run {
    FILE *f;
    uint32_t node;
    double from, to; /* fractions of the ring */
};

static void
point_at(double frac, double *x, double *y)
{
    double a = 2 * M_PI * frac - M_PI / 2; /* 0 at the top, clockwise */
    *x = CX + RADIUS * cos(a);
    *y = CY + RADIUS * sin(a);
}

static void
flush_run(struct arc_run *run)
{
    char col[48];
    double x0, y0, x1, y1;

    if (run->node == UINT32_MAX || run->to <= run->from) {
        return;
    }
    color(run->node, col, sizeof(col));
    if (run->to - run->from > 0.999999) {
        fprintf(run->f, "<circle cx='%.0f' cy='%.0f' r='%.0f' fill='none' "
            "stroke='%s' stroke-width='44'/>\n", CX, CY, RADIUS, col);
        return;
    }
    point_at(run->from, &x0, &y0);
    point_at(run->to, &x1, &y1);
    fprintf(run->f, "<path d='M%.2f %.2f A%.0f %.0f 0 %d 1 %.2f %.2f' "
        "fill='none' stroke='%s' stroke-width='44'/>\n", x0, y0, RADIUS,
        RADIUS, run->to - run->from > 0.5, x1, y1, col);
}

static void
add_segment(struct arc_run *run, uint32_t node, double from, double to)
{
    if (node == run->node) {
        run->to = to;
        return;
    }
    flush_run(run);
    run->node = node;
    run->from = from;
    run->to = to;
}

/*
 * Up to MAX_EXACT points every arc is drawn as it is. Beyond that arcs are
 * thinner than a pixel, so each of NBINS bins is drawn as consecutive
 * sub-arcs in proportion to what each node owns of it (exact, from arc
 * lengths): the colours keep every node's true share.
 */
static void
draw_binned(const struct ring *r, struct arc_run *run)
{
    size_t n = ring_node_count(r), np = ring_point_count(r);
    double space = ldexp(1.0, (int)ring_hash_bits(r)), bw = space / NBINS;
    double *cover = xcalloc((size_t)NBINS * n, sizeof(*cover));
    uint32_t first;

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
        double at = (double)b / NBINS;
        /* The same node order in every bin: a regular, readable pattern
         * whose widths are the nodes' exact shares of that bin. */
        for (size_t node = 0; node < n; node++) {
            double frac = cover[b * n + node] / space;
            if (frac > 0) {
                add_segment(run, (uint32_t)node, at, at + frac);
                at += frac;
            }
        }
    }
    free(cover);
}

static void
draw_exact(const struct ring *r, struct arc_run *run)
{
    size_t np = ring_point_count(r);
    double space = ldexp(1.0, (int)ring_hash_bits(r));
    uint32_t first, node;

    (void)ring_point(r, 0, &first);
    add_segment(run, first, 0.0, (double)ring_point(r, 0, NULL) / space);
    for (size_t i = 1; i < np; i++) {
        double lo = (double)ring_point(r, i - 1, NULL) / space;
        double hi = (double)ring_point(r, i, &node) / space;
        add_segment(run, node, lo, hi);
    }
    add_segment(run, first, (double)ring_point(r, np - 1, NULL) / space,
        1.0);
}

static void
draw_ring(FILE *f, const struct ring *r, double max_over_mean)
{
    struct arc_run run = { f, UINT32_MAX, 0, 0 };
    bool binned = ring_point_count(r) > MAX_EXACT;

    fprintf(f, "<circle cx='%.0f' cy='%.0f' r='%.0f' fill='none' "
        "stroke='#ddd' stroke-width='46'/>\n", CX, CY, RADIUS);
    if (ring_point_count(r) > 0) {
        if (binned) {
            draw_binned(r, &run);
        } else {
            draw_exact(r, &run);
        }
        flush_run(&run);
    }
    fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle' "
        "font-size='16'>ring %s</text>\n", CX, CY - 14,
        ring_mode_name(ring_params(r)->mode));
    fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle' "
        "font-size='12' fill='#555'>%zu nodes, %zu points</text>\n", CX,
        CY + 6, ring_node_count(r), ring_point_count(r));
    fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle' "
        "font-size='12' fill='#555'>max/mean %.4f</text>\n", CX, CY + 24,
        max_over_mean);
    fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle' "
        "font-size='11' fill='#777'>hash 0 at the top, clockwise%s</text>\n",
        CX, CY + RADIUS + 50, binned ?
        "; each 3\u00b0 split by exact share" : "");
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
    draw_ring(f, rr.ring, rt_max_ratio(rr.ring, share, NULL));
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
