/*
 * The C API's contract, checked from C: versions, the lifecycle, and every
 * error path (code, message, engine unchanged). Prints "N passed, M failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "penguin.h"

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

/* The last error message contains `needle`. */
static int message_has(const char *needle) {
    char buf[1024];
    size_t n = penguin_last_error_message(buf, sizeof buf);
    if (n >= sizeof buf) return 0;
    if (!strstr(buf, needle)) {
        fprintf(stderr, "  message '%s' lacks '%s'\n", buf, needle);
        return 0;
    }
    return 1;
}

static penguin_t *new_engine(void) {
    penguin_t *e = NULL;
    if (penguin_new(NULL, &e) != PENGUIN_OK) abort();
    return e;
}

static penguin_nn_status_t status_of(const penguin_t *e, uint64_t id) {
    penguin_nn_status_t s;
    memset(&s, 0, sizeof s);
    if (penguin_status(e, id, &s) != PENGUIN_OK) s.state = -1;
    return s;
}

static int same_status(penguin_nn_status_t a, penguin_nn_status_t b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_versions(void) {
    CHECK(penguin_version_number() == PENGUIN_VERSION_NUMBER);
    CHECK(PENGUIN_VERSION_NUMBER ==
          PENGUIN_VERSION_MAJOR * 10000 + PENGUIN_VERSION_MINOR * 100 + PENGUIN_VERSION_PATCH);
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", PENGUIN_VERSION_MAJOR, PENGUIN_VERSION_MINOR,
             PENGUIN_VERSION_PATCH);
    CHECK(strcmp(penguin_version(), expect) == 0);
}

static void test_lifecycle(void) {
    penguin_config_t *c = NULL;
    CHECK(penguin_config_new(&c) == PENGUIN_OK && c != NULL);
    CHECK(penguin_config_set(c, "N", "3") == PENGUIN_OK);
    CHECK(penguin_config_set(c, "e_pred", "20") == PENGUIN_OK);
    penguin_t *e = NULL;
    CHECK(penguin_new(c, &e) == PENGUIN_OK && e != NULL);
    penguin_config_free(c);
    /* A learning curve that saturates: it converges before e_pred. */
    penguin_nn_status_t s;
    int stopped = 0;
    for (int k = 1; k <= 40 && !stopped; k++) {
        double epoch = 0.5 * k;
        double acc = 90.0 - 80.0 * pow(0.8, k);
        CHECK(penguin_observe(e, 7, epoch, acc, &s) == PENGUIN_OK);
        CHECK(s.observations == (uint32_t)k);
        CHECK(s.epoch == epoch);
        if (k < 3) CHECK(isnan(s.prediction));
        stopped = s.state != PENGUIN_CONTINUE;
    }
    CHECK(stopped && s.state == PENGUIN_CONVERGED);
    CHECK(fabs(s.prediction - 90.0) < 0.5);
    CHECK(s.n_params == 3);
    size_t count = 0;
    CHECK(penguin_network_count(e, &count) == PENGUIN_OK && count == 1);
    CHECK(penguin_forget(e, 7) == PENGUIN_OK);
    CHECK(penguin_network_count(e, &count) == PENGUIN_OK && count == 0);
    penguin_free(e);
}

static void test_null_pointers(void) {
    penguin_t *e = new_engine();
    penguin_config_t *c = NULL;
    penguin_config_new(&c);
    penguin_nn_status_t s;
    size_t count;
    uint64_t id = 1;
    double ep = 0.5, v = 10.0;
    CHECK(penguin_config_new(NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(message_has("config_out"));
    CHECK(penguin_config_set(NULL, "N", "3") == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_config_set(c, NULL, "3") == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(message_has("key"));
    CHECK(penguin_config_set(c, "N", NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(message_has("value"));
    CHECK(penguin_config_load(NULL, "x") == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_config_load(c, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_new(c, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(message_has("engine_out"));
    CHECK(penguin_observe(NULL, 1, 0.5, 10.0, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe(e, 1, 0.5, 10.0, NULL) == PENGUIN_OK); /* status_out is optional */
    CHECK(penguin_status(NULL, 1, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_status(e, 1, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_forget(NULL, 1) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_network_count(NULL, &count) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_network_count(e, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe_batch(NULL, 1, &id, &ep, &v, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe_batch(e, 1, NULL, &ep, &v, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(message_has("nn_ids"));
    CHECK(penguin_observe_batch(e, 1, &id, NULL, &v, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe_batch(e, 1, &id, &ep, NULL, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe_batch(e, 0, NULL, NULL, NULL, NULL) == PENGUIN_OK);
    /* The variants carrying the validation loss check the same pointers; the
       loss array may be NULL (no losses). */
    CHECK(penguin_observe_with_loss(NULL, 1, 1.0, 10.0, 2.3, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe_batch_with_loss(NULL, 1, &id, &ep, &v, &v, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_observe_batch_with_loss(e, 1, NULL, &ep, &v, &v, &s) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(message_has("nn_ids"));
    CHECK(penguin_observe_batch_with_loss(e, 0, NULL, NULL, NULL, NULL, NULL) == PENGUIN_OK);
    penguin_t *loaded = NULL;
    unsigned char buf[16];
    size_t size = 0;
    CHECK(penguin_save(NULL, "x.state") == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_save(e, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_load(NULL, &loaded) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_load("x.state", NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_state_size(NULL, &size) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_state_size(e, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_save_to_buffer(NULL, buf, sizeof buf, &size) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_save_to_buffer(e, NULL, 16, &size) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_save_to_buffer(e, buf, sizeof buf, &size) == PENGUIN_ERROR_BUFFER_TOO_SMALL);
    CHECK(penguin_load_from_buffer(NULL, 4, &loaded) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_load_from_buffer(buf, sizeof buf, NULL) == PENGUIN_ERROR_NULL_ARGUMENT);
    CHECK(penguin_load_from_buffer(NULL, 0, &loaded) == PENGUIN_ERROR_INVALID_STATE);
    CHECK(message_has("empty"));
    memcpy(buf, "NOTPENGUINSTATE", 16);
    CHECK(penguin_load_from_buffer(buf, sizeof buf, &loaded) == PENGUIN_ERROR_INVALID_STATE);
    CHECK(penguin_load("/nonexistent/x.state", &loaded) == PENGUIN_ERROR_IO);
    CHECK(loaded == NULL);
    penguin_free(NULL);
    penguin_config_free(NULL);
    penguin_config_free(c);
    penguin_free(e);
}

static void test_bad_observations(void) {
    penguin_t *e = new_engine();
    penguin_nn_status_t s;
    CHECK(penguin_observe(e, 1, 0.5, 10.0, &s) == PENGUIN_OK);
    CHECK(penguin_observe(e, 1, 1.0, 12.0, &s) == PENGUIN_OK);
    penguin_nn_status_t before = status_of(e, 1);
    penguin_nn_status_t untouched;
    memset(&untouched, 0xab, sizeof untouched);
    penguin_nn_status_t out = untouched;
    struct { double epoch, fitness; penguin_result_t code; const char *needle; } cases[] = {
        {NAN, 10.0, PENGUIN_ERROR_INVALID_EPOCH, "epoch"},
        {-1.0, 10.0, PENGUIN_ERROR_INVALID_EPOCH, "epoch"},
        {0.0, 10.0, PENGUIN_ERROR_INVALID_EPOCH, "epoch"},
        {INFINITY, 10.0, PENGUIN_ERROR_INVALID_EPOCH, "epoch"},
        {1.5, NAN, PENGUIN_ERROR_INVALID_FITNESS, "fitness"},
        {1.5, INFINITY, PENGUIN_ERROR_INVALID_FITNESS, "fitness"},
        {1.5, -INFINITY, PENGUIN_ERROR_INVALID_FITNESS, "fitness"},
        {1.0, 10.0, PENGUIN_ERROR_EPOCH_NOT_INCREASING, "previous epoch"},
        {0.75, 10.0, PENGUIN_ERROR_EPOCH_NOT_INCREASING, "previous epoch"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(penguin_observe(e, 1, cases[i].epoch, cases[i].fitness, &out) == cases[i].code);
        CHECK(message_has(cases[i].needle));
        CHECK(same_status(out, untouched));          /* output not written */
        CHECK(same_status(status_of(e, 1), before)); /* engine unchanged */
    }
    /* Finite but odd fitness values are accepted (the fit copes or fails). */
    CHECK(penguin_observe(e, 2, 0.5, -5.0, &s) == PENGUIN_OK);
    CHECK(penguin_observe(e, 3, 0.5, 1e308, &s) == PENGUIN_OK);
    CHECK(penguin_observe(e, 3, 1.0, 1e308, &s) == PENGUIN_OK);
    CHECK(penguin_observe(e, 3, 1.5, 1e308, &s) == PENGUIN_OK);
    /* Unknown ids. */
    CHECK(penguin_status(e, 999, &out) == PENGUIN_ERROR_UNKNOWN_NETWORK);
    CHECK(message_has("999"));
    CHECK(penguin_forget(e, 999) == PENGUIN_ERROR_UNKNOWN_NETWORK);
    /* Observing after the final decision. */
    for (int k = 1; k <= 40; k++) {
        if (penguin_observe(e, 5, 0.5 * k, 50.0, &s) != PENGUIN_OK) break;
        if (s.state != PENGUIN_CONTINUE) break;
    }
    CHECK(s.state != PENGUIN_CONTINUE);
    penguin_nn_status_t final_state = status_of(e, 5);
    CHECK(penguin_observe(e, 5, 100.0, 50.0, &out) == PENGUIN_ERROR_ALREADY_DECIDED);
    CHECK(message_has("already"));
    CHECK(same_status(status_of(e, 5), final_state));
    /* A batch with one bad entry changes nothing. */
    uint64_t ids[3] = {10, 11, 1};
    double eps[3] = {0.5, 0.5, 0.25};
    double fit[3] = {10.0, 11.0, 12.0};
    penguin_nn_status_t outs[3];
    CHECK(penguin_observe_batch(e, 3, ids, eps, fit, outs) == PENGUIN_ERROR_EPOCH_NOT_INCREASING);
    CHECK(message_has("batch entry 2"));
    CHECK(penguin_status(e, 10, &out) == PENGUIN_ERROR_UNKNOWN_NETWORK);
    CHECK(same_status(status_of(e, 1), before));
    eps[2] = 1.5;
    CHECK(penguin_observe_batch(e, 3, ids, eps, fit, outs) == PENGUIN_OK);
    CHECK(outs[0].observations == 1 && outs[2].observations == 3);
    /* With losses (NULL: none; NaN: not reported) the same checks apply. */
    uint64_t ids2[2] = {20, 21};
    double eps2[2] = {0.5, 0.5}, fit2[2] = {10.0, 11.0}, loss2[2] = {2.3, NAN};
    CHECK(penguin_observe_batch_with_loss(e, 2, ids2, eps2, fit2, loss2, outs) == PENGUIN_OK);
    CHECK(outs[0].observations == 1 && outs[1].observations == 1);
    CHECK(penguin_observe_with_loss(e, 20, 1.0, 12.0, 2.2, &out) == PENGUIN_OK);
    CHECK(out.observations == 2);
    CHECK(penguin_observe_with_loss(e, 20, 1.0, 12.0, 2.2, &out) == PENGUIN_ERROR_EPOCH_NOT_INCREASING);
    penguin_free(e);
}

static void test_config_errors(void) {
    penguin_config_t *c = NULL;
    penguin_config_new(&c);
    struct { const char *key, *value; penguin_result_t code; } cases[] = {
        {"colour", "red", PENGUIN_ERROR_UNKNOWN_CONFIG_KEY},
        {"N", "0", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"N", "", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"N", "three", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"t", "-0.5", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"E", "0", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"E", "-1", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"e_pred", "0", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"e_pred", "nan", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"bounds", "1,2", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"bounds", "5;1", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"p0", "1,x,3", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"agreement", "mode", PENGUIN_ERROR_INVALID_CONFIG_VALUE},
        {"function", "nope", PENGUIN_ERROR_UNKNOWN_FUNCTION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(penguin_config_set(c, cases[i].key, cases[i].value) == cases[i].code);
        CHECK(message_has(cases[i].key));
    }
    CHECK(penguin_config_set(c, "function", "pow3") == PENGUIN_OK);
    /* Contradictions are found by penguin_new, which then writes nothing. */
    penguin_t *e = (penguin_t *)0x1;
    CHECK(penguin_config_set(c, "bounds", "0,0;1,1") == PENGUIN_OK);
    CHECK(penguin_new(c, &e) == PENGUIN_ERROR_INCONSISTENT_CONFIG);
    CHECK(message_has("bounds"));
    CHECK(e == (penguin_t *)0x1);
    CHECK(penguin_config_set(c, "bounds", "default") == PENGUIN_OK);
    CHECK(penguin_config_set(c, "valid_min", "60") == PENGUIN_OK);
    CHECK(penguin_config_set(c, "valid_max", "50") == PENGUIN_OK);
    CHECK(penguin_new(c, &e) == PENGUIN_ERROR_INCONSISTENT_CONFIG);
    CHECK(message_has("valid_min"));
    CHECK(penguin_config_set(c, "valid_min", "0") == PENGUIN_OK);
    CHECK(penguin_config_set(c, "bounds", "0,0,0;10,10,10") == PENGUIN_OK);
    CHECK(penguin_config_set(c, "p0", "20,1,1") == PENGUIN_OK);
    CHECK(penguin_new(c, &e) == PENGUIN_ERROR_INCONSISTENT_CONFIG);
    CHECK(message_has("p0"));
    CHECK(penguin_config_load(c, "/nonexistent/penguin.conf") == PENGUIN_ERROR_IO);
    CHECK(message_has("/nonexistent/penguin.conf"));
    penguin_config_free(c);
}

static void test_messages(void) {
    penguin_t *e = new_engine();
    CHECK(penguin_status(e, 42, &(penguin_nn_status_t){0}) == PENGUIN_ERROR_UNKNOWN_NETWORK);
    size_t full = penguin_last_error_message(NULL, 0);
    CHECK(full > 0);
    char one[1] = {'x'};
    CHECK(penguin_last_error_message(one, 1) == full && one[0] == 0);
    char small[8];
    CHECK(penguin_last_error_message(small, sizeof small) == full);
    CHECK(strlen(small) == sizeof small - 1);
    CHECK(penguin_network_count(e, &(size_t){0}) == PENGUIN_OK);
    CHECK(penguin_last_error_message(NULL, 0) == 0); /* success clears it */
    CHECK(strcmp(penguin_result_string(PENGUIN_OK), "success") == 0);
    CHECK(strcmp(penguin_result_string(12345), "unknown status code") == 0);
    CHECK(strcmp(penguin_result_string(PENGUIN_ERROR_NULL_ARGUMENT),
                 penguin_result_string(PENGUIN_ERROR_INVALID_EPOCH)) != 0);
    penguin_free(e);
}

int main(void) {
    test_versions();
    test_lifecycle();
    test_null_pointers();
    test_bad_observations();
    test_config_errors();
    test_messages();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
