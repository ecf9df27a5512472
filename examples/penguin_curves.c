/*
 * penguin_curves: feed recorded learning curves to Penguin the way a NAS would,
 * and print, per network, when Penguin stopped it and what it predicted.
 *
 *   penguin_curves CURVES.csv [CONFIG_FILE|-] [NETWORKS]
 *
 * CURVES.csv: long format with a header naming at least model_id, epoch and
 * val_acc (rows of one network together, in epoch order). CONFIG_FILE holds
 * Penguin `key = value` lines ("-" or absent: the paper's defaults). NETWORKS:
 * run this many networks, cycling through the curves under new ids (default:
 * each curve once).
 *
 * Output, one line per network:
 *   <id> <model_id> <state> <stop_epoch> <prediction> <observations>
 * with state continue | converged | reached_e_pred.
 *
 * This is the pattern to copy into a NAS: create a config, an engine, then call
 * penguin_observe() after each validation and stop training when the state is
 * not PENGUIN_CONTINUE.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "penguin.h"

typedef struct {
    char name[128];
    size_t first, count; /* rows [first, first + count) */
} curve_t;

static double *g_epoch, *g_value;
static curve_t *g_curves;
static size_t g_rows, g_ncurves;

static void die_penguin(const char *what, penguin_result_t rc) {
    char msg[512];
    penguin_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s failed: %s (%s)\n", what, penguin_result_string(rc), msg);
    exit(1);
}

/* Index of column `name` in a comma-separated header line, or -1. */
static int column(char *header, const char *name) {
    int i = 0;
    char *save = NULL;
    char copy[4096];
    strncpy(copy, header, sizeof copy - 1);
    copy[sizeof copy - 1] = 0;
    for (char *t = strtok_r(copy, ",\r\n", &save); t; t = strtok_r(NULL, ",\r\n", &save), i++)
        if (strcmp(t, name) == 0) return i;
    return -1;
}

static void read_curves(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char line[4096];
    if (!fgets(line, sizeof line, f)) { fprintf(stderr, "%s: empty\n", path); exit(1); }
    int c_id = column(line, "model_id"), c_ep = column(line, "epoch"), c_v = column(line, "val_acc");
    if (c_id < 0 || c_ep < 0 || c_v < 0) {
        fprintf(stderr, "%s: needs columns model_id, epoch, val_acc\n", path);
        exit(1);
    }
    size_t cap = 1024;
    g_epoch = malloc(cap * sizeof *g_epoch);
    g_value = malloc(cap * sizeof *g_value);
    g_curves = malloc(cap * sizeof *g_curves);
    while (fgets(line, sizeof line, f)) {
        char *fields[64] = {0};
        int nf = 0;
        /* strsep keeps empty fields */
        char *p = line;
        while (p && nf < 64) fields[nf++] = strsep(&p, ",\r\n");
        if (nf <= c_id || nf <= c_ep || nf <= c_v) continue;
        if (g_rows == cap || g_ncurves == cap) {
            cap *= 2;
            g_epoch = realloc(g_epoch, cap * sizeof *g_epoch);
            g_value = realloc(g_value, cap * sizeof *g_value);
            g_curves = realloc(g_curves, cap * sizeof *g_curves);
        }
        if (g_ncurves == 0 || strcmp(g_curves[g_ncurves - 1].name, fields[c_id]) != 0) {
            curve_t *c = &g_curves[g_ncurves++];
            snprintf(c->name, sizeof c->name, "%s", fields[c_id]);
            c->first = g_rows;
            c->count = 0;
        }
        g_epoch[g_rows] = strtod(fields[c_ep], NULL);
        g_value[g_rows] = strtod(fields[c_v], NULL); /* "nan" parses as NaN */
        g_rows++;
        g_curves[g_ncurves - 1].count++;
    }
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CURVES.csv [CONFIG_FILE|-] [NETWORKS]\n", argv[0]);
        return 2;
    }
    read_curves(argv[1]);

    penguin_config_t *config = NULL;
    penguin_result_t rc = penguin_config_new(&config);
    if (rc != PENGUIN_OK) die_penguin("penguin_config_new", rc);
    if (argc > 2 && strcmp(argv[2], "-") != 0) {
        rc = penguin_config_load(config, argv[2]);
        if (rc != PENGUIN_OK) die_penguin("penguin_config_load", rc);
    }
    penguin_t *engine = NULL;
    rc = penguin_new(config, &engine);
    penguin_config_free(config); /* the engine keeps its own copy */
    if (rc != PENGUIN_OK) die_penguin("penguin_new", rc);

    size_t networks = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : g_ncurves;
    for (size_t id = 0; id < networks && g_ncurves > 0; id++) {
        const curve_t *c = &g_curves[id % g_ncurves];
        penguin_nn_status_t st;
        memset(&st, 0, sizeof st);
        st.prediction = NAN;
        int seen = 0;
        /* "Train" the network: one validation per row, until Penguin says stop. */
        for (size_t r = c->first; r < c->first + c->count; r++) {
            if (!isfinite(g_value[r])) continue; /* a diverged validation: skip it */
            rc = penguin_observe(engine, (uint64_t)id, g_epoch[r], g_value[r], &st);
            if (rc != PENGUIN_OK) die_penguin("penguin_observe", rc);
            seen = 1;
            if (st.state != PENGUIN_CONTINUE) break;
        }
        if (!seen) continue;
        const char *state = st.state == PENGUIN_CONVERGED        ? "converged"
                            : st.state == PENGUIN_REACHED_E_PRED ? "reached_e_pred"
                                                                 : "continue";
        printf("%zu %s %s %.17g %.17g %u\n", id, c->name, state, st.epoch, st.prediction,
               st.observations);
    }
    penguin_free(engine);
    free(g_epoch);
    free(g_value);
    free(g_curves);
    return 0;
}
