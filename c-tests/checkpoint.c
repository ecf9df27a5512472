/*
 * Checkpoint/restart across processes:
 *   checkpoint CURVES.csv STATE first SPLIT   observe epochs <= SPLIT, save STATE
 *                                             (file) and STATE.buf (memory buffer)
 *   checkpoint CURVES.csv STATE second SPLIT  load STATE, observe the rest, print
 *   checkpoint CURVES.csv STATE buffer SPLIT  same, from STATE.buf
 * Output lines as examples/penguin_curves.c:
 *   <id> <model_id> <state> <stop_epoch> <prediction> <observations>
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "penguin.h"

#include "bundled_curves.h"

static void fail(const char *what, penguin_result_t rc) {
    char msg[512];
    penguin_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s: %s (%s)\n", what, penguin_result_string(rc), msg);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: checkpoint CURVES STATE first|second|buffer SPLIT\n"); return 2; }
    read_csv(argv[1]);
    const char *state = argv[2], *mode = argv[3];
    double split = strtod(argv[4], NULL);
    char bufpath[4096];
    snprintf(bufpath, sizeof bufpath, "%s.buf", state);
    int first = strcmp(mode, "first") == 0;
    penguin_t *e = NULL;
    penguin_result_t rc;
    if (first) {
        rc = penguin_new(NULL, &e);
    } else if (strcmp(mode, "second") == 0) {
        rc = penguin_load(state, &e);
    } else {
        FILE *f = fopen(bufpath, "rb");
        if (!f) { perror(bufpath); return 1; }
        static unsigned char buf[1 << 24];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        rc = penguin_load_from_buffer(buf, len, &e);
    }
    if (rc != PENGUIN_OK) fail("create/load", rc);

    /* Networks in file order, numbered from 0. */
    uint64_t id = 0;
    for (size_t r = 0; r < nrows;) {
        size_t end = r;
        while (end < nrows && strcmp(ids[end], ids[r]) == 0) end++;
        penguin_nn_status_t st;
        int have = 0;
        for (size_t k = r; k < end; k++) {
            if (!isfinite(values[k])) continue;
            if (first ? epochs[k] > split : epochs[k] <= split) continue;
            if (!first && penguin_status(e, id, &st) == PENGUIN_OK && st.state != PENGUIN_CONTINUE) {
                have = 1;
                break;
            }
            rc = penguin_observe(e, id, epochs[k], values[k], &st);
            if (rc != PENGUIN_OK) fail("penguin_observe", rc);
            have = 1;
            if (st.state != PENGUIN_CONTINUE) break;
        }
        if (!first && !have && penguin_status(e, id, &st) == PENGUIN_OK) have = 1;
        if (!first && have) {
            const char *s = st.state == PENGUIN_CONVERGED        ? "converged"
                            : st.state == PENGUIN_REACHED_E_PRED ? "reached_e_pred"
                                                                 : "continue";
            printf("%llu %s %s %.17g %.17g %u\n", (unsigned long long)id, ids[r], s, st.epoch,
                   st.prediction, st.observations);
        }
        id++;
        r = end;
    }
    if (first) {
        rc = penguin_save(e, state);
        if (rc != PENGUIN_OK) fail("penguin_save", rc);
        size_t size = 0, written = 0;
        if ((rc = penguin_state_size(e, &size)) != PENGUIN_OK) fail("penguin_state_size", rc);
        unsigned char *buf = malloc(size);
        if (penguin_save_to_buffer(e, buf, size - 1, &written) != PENGUIN_ERROR_BUFFER_TOO_SMALL) {
            fprintf(stderr, "a short buffer was accepted\n");
            return 1;
        }
        if ((rc = penguin_save_to_buffer(e, buf, size, &written)) != PENGUIN_OK) fail("save_to_buffer", rc);
        if (written != size) { fprintf(stderr, "wrote %zu of %zu\n", written, size); return 1; }
        FILE *f = fopen(bufpath, "wb");
        fwrite(buf, 1, written, f);
        fclose(f);
        free(buf);
    }
    penguin_free(e);
    return 0;
}
