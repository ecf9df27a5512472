/* c_facts.c: what the C compiler knows about penguin.h, for api_check.f90 to
 * compare with the Fortran module: the layout of penguin_nn_status_t, the
 * status codes, the states and the header's version. */
#include <stddef.h>
#include <stdint.h>

#include "penguin.h"

/* Fills out[0..33]; returns the number of entries written. */
int penguin_c_facts(int64_t *out) {
    int i = 0;
    out[i++] = (int64_t)sizeof(penguin_nn_status_t);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, state);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, observations);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, prediction);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, fit_prediction);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, epoch);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, fits);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, n_params);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, params);
    out[i++] = PENGUIN_MAX_PARAMS;
    out[i++] = PENGUIN_VERSION_NUMBER;
    out[i++] = PENGUIN_CONTINUE;
    out[i++] = PENGUIN_CONVERGED;
    out[i++] = PENGUIN_REACHED_E_PRED;
    /* 14 .. 30: the status codes in numeric order */
    out[i++] = PENGUIN_OK;
    out[i++] = PENGUIN_ERROR_NULL_ARGUMENT;
    out[i++] = PENGUIN_ERROR_INVALID_EPOCH;
    out[i++] = PENGUIN_ERROR_INVALID_FITNESS;
    out[i++] = PENGUIN_ERROR_EPOCH_NOT_INCREASING;
    out[i++] = PENGUIN_ERROR_UNKNOWN_NETWORK;
    out[i++] = PENGUIN_ERROR_ALREADY_DECIDED;
    out[i++] = PENGUIN_ERROR_UNKNOWN_CONFIG_KEY;
    out[i++] = PENGUIN_ERROR_INVALID_CONFIG_VALUE;
    out[i++] = PENGUIN_ERROR_INCONSISTENT_CONFIG;
    out[i++] = PENGUIN_ERROR_UNKNOWN_FUNCTION;
    out[i++] = PENGUIN_ERROR_IO;
    out[i++] = PENGUIN_ERROR_INVALID_STATE;
    out[i++] = PENGUIN_ERROR_STATE_VERSION;
    out[i++] = PENGUIN_ERROR_INVALID_ARGUMENT;
    out[i++] = PENGUIN_ERROR_INTERNAL;
    out[i++] = PENGUIN_ERROR_BUFFER_TOO_SMALL;
    /* 31, 32: fields added in 0.2 */
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, prediction_lo);
    out[i++] = (int64_t)offsetof(penguin_nn_status_t, prediction_hi);
    /* 33: a status code added after 0.2.0 */
    out[i++] = PENGUIN_ERROR_BUSY;
    return i;
}
