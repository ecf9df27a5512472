/*
 * Bit-for-bit comparison of two network statuses, for the C test programs
 * that check an engine against a reference engine (kill_checkpoint.c,
 * busy_threads.c).
 */
#ifndef PENGUIN_TEST_SAME_STATUS_H
#define PENGUIN_TEST_SAME_STATUS_H

#include <stdint.h>
#include <string.h>

#include "penguin.h"

/* The same double to the bit (NaN equals the same NaN). */
static int same_double(double a, double b) {
    uint64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    return x == y;
}

/* Every field of two statuses, to the bit. */
static int same_status(const penguin_nn_status_t *x, const penguin_nn_status_t *y) {
    if (x->state != y->state || x->observations != y->observations || x->fits != y->fits ||
        x->n_params != y->n_params || !same_double(x->prediction, y->prediction) ||
        !same_double(x->fit_prediction, y->fit_prediction) || !same_double(x->epoch, y->epoch) ||
        !same_double(x->prediction_lo, y->prediction_lo) ||
        !same_double(x->prediction_hi, y->prediction_hi))
        return 0;
    for (uint32_t k = 0; k < x->n_params; k++)
        if (!same_double(x->params[k], y->params[k])) return 0;
    return 1;
}

#endif
