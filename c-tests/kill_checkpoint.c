/*
 * Kill-safe checkpoints: a child process saves a changing engine to one path
 * in a loop and the parent kills it with SIGKILL at random moments, as a batch
 * system does at its walltime limit or on preemption.
 *
 *   kill_checkpoint CURVES.csv DIR KILLS SEED
 *
 * The engine follows one deterministic sequence of observations: network k
 * (ids 0, 1, 2, ...) replays curve k % (number of curves) until Penguin stops
 * it or the curve ends, then network k + 1 starts. Each child loads the state
 * file (the last save of the child before it), then observes the next
 * observation and saves, over and over, until it is killed.
 *
 * After every kill the parent checks that
 *  - penguin_load of the path succeeds;
 *  - the state is a whole state that a child wrote: network by network, bit
 *    for bit, what an uninterrupted engine fed the same sequence up to the
 *    same observation holds, and never behind the state found after the kill
 *    before (the previous state or a newer one, never a mix);
 *  - at most one temporary file of the path is left (the killed save's own:
 *    each save removes those of dead processes first);
 * and at the end that one more save leaves no temporary file at all.
 * Prints one summary line:
 *   kills K, children that saved S, kills that left a temporary file T,
 *   most temporary files at once M, observations in the last state O
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "penguin.h"

#include "bundled_curves.h"
#include "same_status.h"

static size_t ncurves, curve_start[4096], curve_len[4096];

static void fail(const char *what, penguin_result_t rc) {
    char msg[512];
    penguin_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s: %s (%s)\n", what, penguin_result_string(rc), msg);
    exit(1);
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAILED: %s\n", what);
        exit(1);
    }
}

/* The curves: rows of one network are contiguous in the file. */
static void index_curves(void) {
    for (size_t r = 0; r < nrows; r++) {
        if (r == 0 || strcmp(ids[r], ids[r - 1]) != 0) {
            check(ncurves < 4096, "at most 4096 curves");
            curve_start[ncurves++] = r;
        }
        curve_len[ncurves - 1]++;
        check(isfinite(values[r]) && epochs[r] > 0, "finite rows");
    }
    check(ncurves > 0, "some curves");
}

/* The next observation of the sequence for engine e: network *id, row *row. */
static void next_observation(penguin_t *e, uint64_t *id, size_t *row) {
    size_t count = 0;
    penguin_result_t rc = penguin_network_count(e, &count);
    if (rc != PENGUIN_OK) fail("penguin_network_count", rc);
    if (count > 0) {
        penguin_nn_status_t st;
        uint64_t last = count - 1;
        rc = penguin_status(e, last, &st);
        if (rc != PENGUIN_OK) fail("penguin_status", rc);
        size_t c = last % ncurves;
        if (st.state == PENGUIN_CONTINUE && st.observations < curve_len[c]) {
            *id = last;
            *row = curve_start[c] + st.observations;
            return;
        }
    }
    *id = count;
    *row = curve_start[count % ncurves];
}

/* Observes the next observation of the sequence; returns nothing. */
static void step(penguin_t *e) {
    uint64_t id;
    size_t row;
    next_observation(e, &id, &row);
    penguin_result_t rc = penguin_observe(e, id, epochs[row], values[row], NULL);
    if (rc != PENGUIN_OK) fail("penguin_observe", rc);
}

/* Total observations of the networks of e. */
static uint64_t total_observations(penguin_t *e, size_t *count_out) {
    size_t count = 0;
    penguin_result_t rc = penguin_network_count(e, &count);
    if (rc != PENGUIN_OK) fail("penguin_network_count", rc);
    uint64_t total = 0;
    for (uint64_t id = 0; id < count; id++) {
        penguin_nn_status_t st;
        rc = penguin_status(e, id, &st);
        if (rc != PENGUIN_OK) fail("penguin_status (ids are 0 .. count - 1)", rc);
        total += st.observations;
    }
    *count_out = count;
    return total;
}

/* Every network of a and b, bit for bit. */
static int same_engines(penguin_t *a, penguin_t *b, size_t count) {
    for (uint64_t id = 0; id < count; id++) {
        penguin_nn_status_t x, y;
        if (penguin_status(a, id, &x) != PENGUIN_OK || penguin_status(b, id, &y) != PENGUIN_OK)
            return 0;
        if (!same_status(&x, &y)) return 0;
    }
    return 1;
}

/* Temporary files of saves to DIR/state.bin. */
static int temporary_files(const char *dir) {
    DIR *d = opendir(dir);
    check(d != NULL, "open the state directory");
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        if (strncmp(ent->d_name, ".state.bin.tmp.", 15) == 0) n++;
    closedir(d);
    return n;
}

static uint64_t rng;
static uint64_t next_random(void) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 33;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* The child: load, then observe and save until killed. */
static void child(const char *path) {
    penguin_t *e = NULL;
    penguin_result_t rc = penguin_load(path, &e);
    if (rc != PENGUIN_OK) fail("child: penguin_load", rc);
    for (;;) {
        step(e);
        rc = penguin_save(e, path);
        if (rc != PENGUIN_OK) fail("child: penguin_save", rc);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: kill_checkpoint CURVES DIR KILLS SEED\n");
        return 2;
    }
    read_csv(argv[1]);
    index_curves();
    const char *dir = argv[2];
    int kills = atoi(argv[3]);
    rng = strtoull(argv[4], NULL, 10);
    char path[4096];
    snprintf(path, sizeof path, "%s/state.bin", dir);

    /* The uninterrupted engine, and the first state on disk. */
    penguin_t *reference = NULL;
    penguin_result_t rc = penguin_new(NULL, &reference);
    if (rc != PENGUIN_OK) fail("penguin_new", rc);
    rc = penguin_save(reference, path);
    if (rc != PENGUIN_OK) fail("penguin_save", rc);
    uint64_t reference_total = 0;

    /* How long one step and save takes, to spread the kills over a few of
       them (kills land anywhere: before the child's first save, in the
       middle of one, between two). */
    double t0 = now();
    penguin_t *probe = NULL;
    char probe_path[4096];
    snprintf(probe_path, sizeof probe_path, "%s/probe.bin", dir);
    rc = penguin_new(NULL, &probe);
    if (rc != PENGUIN_OK) fail("penguin_new", rc);
    for (int k = 0; k < 20; k++) {
        step(probe);
        rc = penguin_save(probe, probe_path);
        if (rc != PENGUIN_OK) fail("penguin_save", rc);
    }
    double per_save = (now() - t0) / 20;
    penguin_free(probe);
    remove(probe_path);

    uint64_t previous = 0, saved_children = 0;
    int left_temporary = 0, most_temporary = 0;
    double load_seconds = 0;
    for (int k = 0; k < kills; k++) {
        pid_t pid = fork();
        check(pid >= 0, "fork");
        if (pid == 0) child(path);
        /* The child's load (as long as the parent's last one) and up to about
           8 saves (the state grows, so the first ones measured are a floor). */
        double span = (3 * load_seconds + 8 * (per_save + load_seconds)) * 1e6;
        useconds_t delay = (useconds_t)(span * (double)(next_random() % 1000) / 1000.0);
        usleep(delay);
        kill(pid, SIGKILL);
        int status = 0;
        check(waitpid(pid, &status, 0) == pid, "waitpid");
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
            fprintf(stderr, "FAILED: the child ended by itself (status %d) after kill %d\n", status, k);
            return 1;
        }

        int tmp = temporary_files(dir);
        if (tmp > 0) left_temporary++;
        if (tmp > most_temporary) most_temporary = tmp;
        check(tmp <= 1, "at most the killed save's own temporary file is left");

        penguin_t *loaded = NULL;
        double t_load = now();
        rc = penguin_load(path, &loaded);
        if (rc != PENGUIN_OK) fail("penguin_load after a kill", rc);
        load_seconds = now() - t_load;
        size_t count = 0;
        uint64_t total = total_observations(loaded, &count);
        check(total >= previous, "the state never goes back");
        if (total > previous) saved_children++;
        while (reference_total < total) {
            step(reference);
            reference_total++;
        }
        size_t reference_count = 0;
        check(total_observations(reference, &reference_count) == total, "reference total");
        check(reference_count == count, "same networks as the uninterrupted engine");
        check(same_engines(loaded, reference, count),
              "the loaded state is the uninterrupted engine's, bit for bit");
        penguin_free(loaded);
        previous = total;
    }

    /* One more save removes the last killed save's temporary file. */
    rc = penguin_save(reference, path);
    if (rc != PENGUIN_OK) fail("penguin_save", rc);
    check(temporary_files(dir) == 0, "no temporary file after the next save");
    check(left_temporary > 0, "some kill landed inside a save (else nothing was tested)");
    penguin_free(reference);
    printf("kills %d, children that saved %llu, kills that left a temporary file %d, "
           "most temporary files at once %d, observations in the last state %llu\n",
           kills, (unsigned long long)saved_children, left_temporary, most_temporary,
           (unsigned long long)previous);
    return 0;
}
