/*
 * One engine hammered by several threads at once (a NAS whose trainer threads
 * report in parallel, or a bug): Penguin must detect it, never corrupt.
 *
 *   busy_threads CURVES.csv THREADS
 *
 * Thread t owns the networks t, t + THREADS, t + 2 THREADS, ... (network k
 * replays curve k of the file) and feeds them through penguin_observe,
 * penguin_observe_batch (several of its networks at once) and
 * penguin_observe_with_loss, in a round-robin over its networks, while also
 * calling the reading calls penguin_status and penguin_network_count. Every
 * call must return PENGUIN_OK or PENGUIN_ERROR_BUSY (penguin_status of a
 * network not yet observed: PENGUIN_ERROR_UNKNOWN_NETWORK); a refused
 * observation is tried again. Afterwards each network's observation count must
 * equal the number of its accepted observations, and every network's status
 * must equal, bit for bit, that of a serial replay of the accepted
 * observations on a fresh engine, network by network.
 * Prints one summary line:
 *   threads T, networks N, accepted A, busy B (observe O, batch C, reads R)
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "penguin.h"

#include "bundled_curves.h"
#include "same_status.h"

#define MAXCURVES 4096
#define MAXTHREADS 16
static size_t ncurves, curve_start[MAXCURVES], curve_len[MAXCURVES];
static penguin_t *engine;
static int nthreads;
/* Per network: accepted observations (the next row is curve_start + this),
   and whether Penguin stopped it. Each is touched by its owner thread only. */
static size_t accepted[MAXCURVES];
static int stopped[MAXCURVES];
static atomic_long busy_observe, busy_batch, busy_read, failures;

static void check(int ok, const char *what) {
    if (!ok) {
        char msg[512];
        penguin_last_error_message(msg, sizeof msg);
        fprintf(stderr, "FAILED: %s (last message: %s)\n", what, msg);
        exit(1);
    }
}

static void index_curves(void) {
    for (size_t r = 0; r < nrows; r++) {
        if (r == 0 || strcmp(ids[r], ids[r - 1]) != 0) {
            check(ncurves < MAXCURVES, "at most 4096 curves");
            curve_start[ncurves++] = r;
        }
        curve_len[ncurves - 1]++;
        check(isfinite(values[r]) && epochs[r] > 0, "finite rows");
    }
}

static int done(size_t k) { return stopped[k] || accepted[k] == curve_len[k]; }

/* A refused call must name both calls in its message. */
static void busy_message_names_the_other_call(const char *self) {
    char msg[512];
    penguin_last_error_message(msg, sizeof msg);
    if (strstr(msg, self) == NULL || strstr(msg, "in use by penguin_") == NULL) {
        fprintf(stderr, "FAILED: busy message without both calls: %s\n", msg);
        atomic_fetch_add(&failures, 1);
    }
}

static void accept(size_t k, const penguin_nn_status_t *st) {
    accepted[k]++;
    if (st->state != PENGUIN_CONTINUE) stopped[k] = 1;
    if (st->observations != accepted[k]) {
        fprintf(stderr, "FAILED: network %zu has %u observations, %zu accepted\n", k,
                st->observations, accepted[k]);
        atomic_fetch_add(&failures, 1);
    }
}

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg;
    unsigned round = 0;
    for (;;) {
        size_t mine[8], n = 0;
        for (size_t k = (size_t)t; k < ncurves && n < 8; k += (size_t)nthreads)
            if (!done(k)) mine[n++] = k;
        if (n == 0) break;
        round++;
        penguin_result_t rc;
        if (round % 3 == 0 && n > 1) {
            /* One batch with the next observation of up to 8 of its networks. */
            uint64_t bid[8];
            double bep[8], bval[8];
            penguin_nn_status_t bst[8];
            for (size_t i = 0; i < n; i++) {
                size_t row = curve_start[mine[i]] + accepted[mine[i]];
                bid[i] = mine[i];
                bep[i] = epochs[row];
                bval[i] = values[row];
            }
            rc = penguin_observe_batch(engine, n, bid, bep, bval, bst);
            if (rc == PENGUIN_OK) {
                for (size_t i = 0; i < n; i++) accept(mine[i], &bst[i]);
            } else if (rc == PENGUIN_ERROR_BUSY) {
                atomic_fetch_add(&busy_batch, 1);
                busy_message_names_the_other_call("penguin_observe_batch");
            } else {
                check(0, "penguin_observe_batch returned neither OK nor BUSY");
            }
        } else {
            size_t k = mine[round % n];
            size_t row = curve_start[k] + accepted[k];
            penguin_nn_status_t st;
            if (round % 3 == 1)
                rc = penguin_observe(engine, k, epochs[row], values[row], &st);
            else
                rc = penguin_observe_with_loss(engine, k, epochs[row], values[row], NAN, &st);
            if (rc == PENGUIN_OK) {
                accept(k, &st);
            } else if (rc == PENGUIN_ERROR_BUSY) {
                atomic_fetch_add(&busy_observe, 1);
                busy_message_names_the_other_call("penguin_observe");
            } else {
                check(0, "penguin_observe returned neither OK nor BUSY");
            }
        }
        /* Reading calls: OK or BUSY (or an unknown network). */
        penguin_nn_status_t st;
        rc = penguin_status(engine, mine[0], &st);
        if (rc == PENGUIN_ERROR_BUSY)
            atomic_fetch_add(&busy_read, 1);
        else
            check(rc == PENGUIN_OK || rc == PENGUIN_ERROR_UNKNOWN_NETWORK,
                  "penguin_status returned neither OK nor BUSY");
        if (rc == PENGUIN_OK && st.observations != accepted[mine[0]]) {
            fprintf(stderr, "FAILED: status of network %zu: %u observations, %zu accepted\n",
                    mine[0], st.observations, accepted[mine[0]]);
            atomic_fetch_add(&failures, 1);
        }
        size_t count;
        rc = penguin_network_count(engine, &count);
        if (rc == PENGUIN_ERROR_BUSY)
            atomic_fetch_add(&busy_read, 1);
        else
            check(rc == PENGUIN_OK, "penguin_network_count returned neither OK nor BUSY");
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: busy_threads CURVES THREADS\n");
        return 2;
    }
    read_csv(argv[1]);
    index_curves();
    nthreads = atoi(argv[2]);
    check(nthreads >= 2 && nthreads <= MAXTHREADS, "2 to 16 threads");

    /* One pool thread: the engine's own pool is not what is tested here. */
    penguin_config_t *cfg = NULL;
    check(penguin_config_new(&cfg) == PENGUIN_OK, "penguin_config_new");
    check(penguin_config_set(cfg, "threads", "1") == PENGUIN_OK, "threads = 1");
    check(penguin_new(cfg, &engine) == PENGUIN_OK, "penguin_new");

    pthread_t th[MAXTHREADS];
    for (int t = 0; t < nthreads; t++)
        check(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0, "pthread_create");
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    check(atomic_load(&failures) == 0, "every accepted call counted (see above)");

    /* The serial replay of the accepted observations, network by network. */
    penguin_t *serial = NULL;
    check(penguin_new(cfg, &serial) == PENGUIN_OK, "penguin_new (serial)");
    penguin_config_free(cfg);
    size_t total = 0;
    for (size_t k = 0; k < ncurves; k++) {
        for (size_t i = 0; i < accepted[k]; i++) {
            size_t row = curve_start[k] + i;
            check(penguin_observe(serial, k, epochs[row], values[row], NULL) == PENGUIN_OK,
                  "serial replay");
        }
        total += accepted[k];
        penguin_nn_status_t x, y;
        check(penguin_status(engine, k, &x) == PENGUIN_OK, "status (threads)");
        check(penguin_status(serial, k, &y) == PENGUIN_OK, "status (serial)");
        int same = same_status(&x, &y) && x.observations == accepted[k];
        if (!same) {
            fprintf(stderr, "FAILED: network %zu differs from the serial replay\n", k);
            return 1;
        }
    }
    size_t count = 0;
    check(penguin_network_count(engine, &count) == PENGUIN_OK && count == ncurves,
          "every network tracked once");
    long b_obs = atomic_load(&busy_observe), b_batch = atomic_load(&busy_batch),
         b_read = atomic_load(&busy_read);
    check(b_obs + b_batch + b_read > 0, "some call found the engine busy (else nothing was tested)");
    penguin_free(serial);
    penguin_free(engine);
    printf("threads %d, networks %zu, accepted %zu, busy %ld (observe %ld, batch %ld, reads %ld)\n",
           nthreads, ncurves, total, b_obs + b_batch + b_read, b_obs, b_batch, b_read);
    return 0;
}
