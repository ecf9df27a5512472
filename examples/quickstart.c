/*
 * quickstart: the README's example. It stands in for a NAS that trains its
 * networks one after the other and validates each every half epoch: the
 * "training" reads the next row of a learning-curve file in the bundled format
 * (dataset,model_id,epoch,val_acc,...), and Penguin says when to stop.
 *
 *   quickstart CURVES.csv
 *
 * Prints "<networks> networks, <epochs> epochs trained, mean stop epoch <mean>".
 * tests/c_api.rs compiles it against the shared and the static library, runs it
 * on tests/data/fmnist_random_cnn.csv and compares that line with the Rust
 * engine's decisions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "penguin.h"

#include "bundled_curves.h" /* c-tests/: read_csv() fills ids[], epochs[], values[] */

static uint64_t network_of_row[MAXROWS], n_networks;
static size_t next_row;

/* Networks are numbered from 0 in file order (their rows are contiguous). */
static void number_networks(void) {
    for (size_t r = 0; r < nrows; r++) {
        if (r > 0 && strcmp(ids[r], ids[r - 1]) != 0) n_networks++;
        network_of_row[r] = n_networks;
    }
    if (nrows > 0) n_networks++;
}

/* The NAS's training of network `id` up to its next validation: the epoch
 * reached and the validation accuracy (%), or 0 when its curve has ended. */
static int train_and_validate(uint64_t id, double *epoch, double *val_acc) {
    while (next_row < nrows && network_of_row[next_row] < id) next_row++; /* stopped early */
    if (next_row == nrows || network_of_row[next_row] != id) return 0;
    *epoch = epochs[next_row];
    *val_acc = values[next_row];
    next_row++;
    return 1;
}

/* On an error: the code's name and the calling thread's message, then exit. */
static void check(penguin_result_t rc, const char *what) {
    if (rc == PENGUIN_OK) return;
    char msg[512];
    penguin_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s: %s (%s)\n", what, penguin_result_string(rc), msg);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CURVES.csv\n", argv[0]);
        return 2;
    }
    read_csv(argv[1]);
    number_networks();

    penguin_config_t *cfg;
    check(penguin_config_new(&cfg), "penguin_config_new");    /* the paper's defaults */
    check(penguin_config_set(cfg, "e_pred", "20"), "e_pred"); /* the epoch to predict */
    penguin_t *engine;
    penguin_result_t rc = penguin_new(cfg, &engine);
    penguin_config_free(cfg); /* the engine keeps its own copy */
    check(rc, "penguin_new");

    double trained = 0; /* epochs trained, summed over the networks */
    for (uint64_t id = 0; id < n_networks; id++) {
        double epoch = 0, val_acc;
        penguin_nn_status_t st;
        while (train_and_validate(id, &epoch, &val_acc)) {
            check(penguin_observe(engine, id, epoch, val_acc, &st), "penguin_observe");
            if (st.state != PENGUIN_CONTINUE) break; /* stop: st.prediction is its fitness */
        }
        trained += epoch;
    }
    penguin_free(engine);

    printf("%llu networks, %.1f epochs trained, mean stop epoch %.2f\n",
           (unsigned long long)n_networks, trained, n_networks ? trained / n_networks : 0.0);
    return 0;
}
