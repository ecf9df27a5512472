/*
 * penguin-nas: a random-search NAS over small multilayer perceptrons (or,
 * with --arch cnn, small convolutional networks) on Fashion-MNIST, trained on
 * MPI ranks, with Penguin deciding on a rank of its own when to stop each
 * network (the paper's decoupled deployment).
 *
 *   mpirun -np K penguin-nas --networks N --epochs E --seed S [--train-subset M]
 *          [--no-penguin] [--curves OUT.csv] [--KEY VALUE ...Penguin config]
 *
 * Rank 0 runs Penguin; ranks 1..K-1 train. A trainer asks rank 0 for a network
 * index, trains that network (everything about it derives from (seed, index)),
 * validates it every E epochs (Penguin's key E, default 0.5) on a held-out
 * slice, and sends (index, epoch, fitness) to rank 0 as soon as it is measured;
 * it then waits for the decision and stops the network when told so. Rank 0
 * gathers whatever observations have arrived, decides them with one
 * penguin_observe_batch call and answers each. With --no-penguin the same
 * program trains every network to e_pred = E: only the decision differs.
 *
 * Other options:
 *   --seconds T         time budget: no network starts after T seconds (those
 *                       started finish); with or instead of --networks
 *   --val-size V        validation images (default 5000), the last V of the
 *                       training file; training uses the first M (default all
 *                       the others)
 *   --data DIR          the IDX files (default /usr/share/datasets/fashion-mnist)
 *   --results OUT.csv   every network's outcome (decision, stop epoch,
 *                       predicted and observed fitness, hyperparameters)
 *   --top K             ranking lines printed (default 10)
 *   --wait sleep|probe  how a rank waits for a message (default sleep: MPI_Improbe
 *                       and nanosleep, at most 1 ms late; probe: MPI_Probe,
 *                       which Open MPI implements by polling at 100 % CPU)
 *   --config FILE       Penguin `key = value` lines (before the --KEY options)
 *   --recipe R          training recipe: sgd (default: SGD at a constant rate) or
 *                       adamw-cosine (AdamW, one epoch of linear warm-up, then a
 *                       cosine decay to 0 at --epochs); the curves file's data
 *                       set is FMNIST-MLP or FMNIST-MLP-ADAMW-COS
 *   --arch A            architecture family: mlp (default: 1-3 dense hidden
 *                       layers) or cnn (1-2 convolution layers of 3x3, ReLU and
 *                       2x2 max-pooling, 4 or 8 then 8 or 16 channels, then 0-1
 *                       dense hidden layers); the data set is then FMNIST-CNN or
 *                       FMNIST-CNN-ADAMW-COS
 * Penguin keys are spelled as in the C API or with dashes (--N 3, --fit-patience
 * 100, --t=0.5); e_pred is --epochs. Penguin's engine uses threads = 1 unless
 * --threads says otherwise.
 *
 * stdout: the ranking and statistics as `#` comments, then, last, one JSON line
 *   {"networks": int, "epochs_trained": float, "walltime_s": float,
 *    "best_id": str, "best_observed": float}
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nas.h"
#include "penguin.h"

#define DATASET_NAME "FMNIST-MLP"
#define MAX_KEYS 64

enum {
    TAG_READY = 1, /* trainer -> 0: data loaded (int ok) */
    TAG_GO,        /* 0 -> trainer: start (int ok) */
    TAG_REQUEST,   /* trainer -> 0: give me a network (int, unused) */
    TAG_ASSIGN,    /* 0 -> trainer: network index, or -1: budget spent */
    TAG_OBS,       /* trainer -> 0: double[OBS_LEN] */
    TAG_DECISION,  /* 0 -> trainer: int state (PENGUIN_CONTINUE: go on) */
    TAG_STATS,     /* trainer -> 0: double[STATS_LEN], after its last network */
    TAG_FINISH     /* 0 -> trainer: results written, finalize */
};

/* One observation as sent: index, epoch, val_acc (as written), val_loss,
 * train_loss, train_acc, seconds spent on this network so far. */
enum { O_INDEX, O_EPOCH, O_VAL_ACC, O_VAL_LOSS, O_TRAIN_LOSS, O_TRAIN_ACC, O_SECONDS, OBS_LEN };
/* A trainer's totals: networks, epochs, seconds training and validating,
 * seconds waiting for decisions, CPU seconds. */
enum { S_NETWORKS, S_EPOCHS, S_BUSY, S_WAIT, S_CPU, STATS_LEN };

typedef struct {
    long networks; /* -1: no limit (then --seconds) */
    double epochs; /* e_pred */
    uint64_t seed;
    long train_subset, val_size; /* -1: default */
    double seconds;              /* 0: no limit */
    int no_penguin, top, wait_probe;
    nas_recipe_t recipe;
    nas_arch_t arch;
    const char *curves, *results, *data_dir, *config_file;
    double interval; /* Penguin's E */
    int nkeys;
    char *keys[MAX_KEYS];
    const char *values[MAX_KEYS];
} options_t;

static int g_rank, g_size, g_wait_probe;

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "penguin-nas (rank %d): ", g_rank);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

static void die_penguin(const char *what, penguin_result_t rc) {
    char msg[1024];
    penguin_last_error_message(msg, sizeof msg);
    die("%s failed: %s (%s)", what, penguin_result_string(rc), msg);
}

static void check_mpi(int rc, const char *what) {
    if (rc != MPI_SUCCESS) die("%s failed (MPI error %d)", what, rc);
}

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits until a message from `source` with `tag` is pending, without keeping a
 * core busy: Open MPI's blocking MPI_Probe/MPI_Recv poll the shared-memory
 * transport at 100 % CPU, which on an oversubscribed node takes the core from a
 * trainer. So: MPI_Iprobe, then sleep 20 us, 40 us, ... up to 1 ms, and again. */
static void wait_message(int source, int tag, MPI_Status *st) {
    if (g_wait_probe) {
        check_mpi(MPI_Probe(source, tag, MPI_COMM_WORLD, st), "MPI_Probe");
        return;
    }
    long ns = 20000;
    for (;;) {
        int flag = 0;
        check_mpi(MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, st), "MPI_Iprobe");
        if (flag) return;
        struct timespec d = {0, ns};
        while (nanosleep(&d, &d) != 0 && errno == EINTR) {}
        if (ns < 1000000) ns = ns * 2 > 1000000 ? 1000000 : ns * 2;
    }
}

/* A blocking receive that does not spin (see wait_message). */
static void recv_from(void *buf, int count, MPI_Datatype type, int source, int tag) {
    MPI_Status st;
    wait_message(source, tag, &st);
    check_mpi(MPI_Recv(buf, count, type, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
              "MPI_Recv");
}

/* ------------------------------------------------------------------ options */
static void usage(FILE *f) {
    fprintf(f,
            "usage: mpirun -np K penguin-nas --networks N --epochs E --seed S [--train-subset M]\n"
            "       [--val-size V] [--seconds T] [--no-penguin] [--curves OUT.csv]\n"
            "       [--results OUT.csv] [--data DIR] [--top K] [--wait sleep|probe]\n"
            "       [--recipe sgd|adamw-cosine] [--arch mlp|cnn] [--config FILE]\n"
            "       [--KEY VALUE ...Penguin configuration]\n"
            "K >= 2: rank 0 runs Penguin, ranks 1..K-1 train. --epochs is Penguin's e_pred.\n");
}

/* Parse error: every rank parses the same arguments, so every rank gets here;
 * rank 0 explains. */
static int bad_option(const char *fmt, const char *arg) {
    if (g_rank == 0) {
        fprintf(stderr, "penguin-nas: ");
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
        usage(stderr);
    }
    return -1;
}

static int parse_long(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* The value of `key` in a Penguin config file (`key = value`, `#` comments),
 * for the one key the trainers need (E); the file is checked by Penguin. */
static int config_file_value(const char *path, const char *key, char *out, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        char *k = line, *v = eq + 1;
        while (*k == ' ' || *k == '\t') k++;
        char *ke = k + strlen(k);
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) *--ke = 0;
        while (*v == ' ' || *v == '\t') v++;
        char *ve = v + strlen(v);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\n' || ve[-1] == '\r')) *--ve = 0;
        if (strcmp(k, key) == 0) {
            snprintf(out, len, "%s", v);
            found = 1;
        }
    }
    fclose(f);
    return found ? 0 : 1;
}

static int parse_options(int argc, char **argv, options_t *o) {
    memset(o, 0, sizeof *o);
    o->networks = -1;
    o->epochs = NAN;
    o->train_subset = -1;
    o->val_size = 5000;
    o->top = 10;
    o->data_dir = "/usr/share/datasets/fashion-mnist";
    o->interval = 0.5;
    int have_seed = 0, have_interval = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) return bad_option("unexpected argument '%s'", a);
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            if (g_rank == 0) usage(stdout);
            return 1;
        }
        if (strcmp(a, "--no-penguin") == 0) {
            o->no_penguin = 1;
            continue;
        }
        /* --KEY VALUE or --KEY=VALUE */
        char name[256];
        const char *value;
        const char *eq = strchr(a + 2, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - (a + 2)), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc) return bad_option("%s needs a value", a);
            value = argv[++i];
        }
        for (char *p = name; *p; p++)
            if (*p == '-') *p = '_';
        if (strcmp(name, "networks") == 0) {
            if (parse_long(value, &o->networks) || o->networks < 1)
                return bad_option("--networks: not a positive integer: '%s'", value);
        } else if (strcmp(name, "epochs") == 0) {
            if (parse_double(value, &o->epochs) || o->epochs <= 0)
                return bad_option("--epochs: not a positive number: '%s'", value);
        } else if (strcmp(name, "seed") == 0) {
            char *end;
            errno = 0;
            o->seed = strtoull(value, &end, 10);
            if (errno || end == value || *end || value[0] == '-')
                return bad_option("--seed: not a non-negative integer: '%s'", value);
            have_seed = 1;
        } else if (strcmp(name, "train_subset") == 0) {
            if (parse_long(value, &o->train_subset) || o->train_subset < 1)
                return bad_option("--train-subset: not a positive integer: '%s'", value);
        } else if (strcmp(name, "val_size") == 0) {
            if (parse_long(value, &o->val_size) || o->val_size < 1)
                return bad_option("--val-size: not a positive integer: '%s'", value);
        } else if (strcmp(name, "seconds") == 0) {
            if (parse_double(value, &o->seconds) || o->seconds <= 0)
                return bad_option("--seconds: not a positive number: '%s'", value);
        } else if (strcmp(name, "top") == 0) {
            long t;
            if (parse_long(value, &t) || t < 0 || t > 1000000)
                return bad_option("--top: not a non-negative integer: '%s'", value);
            o->top = (int)t;
        } else if (strcmp(name, "wait") == 0) {
            if (strcmp(value, "probe") == 0) o->wait_probe = 1;
            else if (strcmp(value, "sleep") == 0) o->wait_probe = 0;
            else return bad_option("--wait: sleep or probe, not '%s'", value);
        } else if (strcmp(name, "recipe") == 0) {
            if (nas_recipe_parse(value, &o->recipe) != 0)
                return bad_option("--recipe: sgd or adamw-cosine, not '%s'", value);
        } else if (strcmp(name, "arch") == 0) {
            if (nas_arch_parse(value, &o->arch) != 0)
                return bad_option("--arch: mlp or cnn, not '%s'", value);
        } else if (strcmp(name, "curves") == 0) {
            o->curves = value;
        } else if (strcmp(name, "results") == 0) {
            o->results = value;
        } else if (strcmp(name, "data") == 0) {
            o->data_dir = value;
        } else if (strcmp(name, "config") == 0) {
            o->config_file = value;
        } else if (strcmp(name, "e_pred") == 0) {
            return bad_option("%s: e_pred is --epochs", a);
        } else {
            /* a Penguin key; Penguin checks it on rank 0 */
            if (o->nkeys == MAX_KEYS) return bad_option("too many Penguin keys at '%s'", a);
            if (strcmp(name, "E") == 0) {
                if (parse_double(value, &o->interval) || o->interval <= 0)
                    return bad_option("--E: not a positive number: '%s'", value);
                have_interval = 1;
            }
            o->keys[o->nkeys] = strdup(name);
            o->values[o->nkeys] = value;
            o->nkeys++;
        }
    }
    if (o->config_file && !have_interval) {
        char v[256];
        int rc = config_file_value(o->config_file, "E", v, sizeof v);
        if (rc < 0) return bad_option("--config: cannot read '%s'", o->config_file);
        if (rc == 0 && (parse_double(v, &o->interval) || o->interval <= 0))
            return bad_option("--config: E is not a positive number in '%s'", o->config_file);
    }
    if (isnan(o->epochs)) return bad_option("%s", "--epochs E is required");
    if (!have_seed) return bad_option("%s", "--seed S is required");
    if (o->networks < 0 && o->seconds <= 0)
        return bad_option("%s", "a budget is required: --networks N and/or --seconds T");
    return 0;
}

/* ------------------------------------------------------------------ trainer */
static int run_trainer(const options_t *o) {
    char err[1024] = "";
    nas_data_t data;
    nas_real *X = NULL, *XV = NULL;
    size_t m = 0, v = (size_t)o->val_size;
    int ok = nas_data_load(o->data_dir, "train", &data, err, sizeof err) == 0;
    if (ok) {
        if (v >= data.n) {
            snprintf(err, sizeof err, "--val-size %zu: the training file has %zu images", v, data.n);
            ok = 0;
        } else {
            m = o->train_subset > 0 ? (size_t)o->train_subset : data.n - v;
            if (m + v > data.n) {
                snprintf(err, sizeof err,
                         "--train-subset %zu + --val-size %zu: the training file has %zu images", m, v,
                         data.n);
                ok = 0;
            }
        }
    }
    if (ok) {
        X = nas_data_inputs(&data, 0, m);
        XV = nas_data_inputs(&data, data.n - v, v);
        if (!X || !XV) {
            snprintf(err, sizeof err, "out of memory for %zu + %zu images", m, v);
            ok = 0;
        }
    }
    if (!ok) fprintf(stderr, "penguin-nas (rank %d): %s\n", g_rank, err);
    check_mpi(MPI_Send(&ok, 1, MPI_INT, 0, TAG_READY, MPI_COMM_WORLD), "MPI_Send");
    int go = 0;
    recv_from(&go, 1, MPI_INT, 0, TAG_GO);
    if (!go) {
        free(X);
        free(XV);
        if (ok) nas_data_free(&data);
        return 1;
    }

    const uint8_t *yv = data.labels + (data.n - v);
    double stats[STATS_LEN] = {0};
    double cpu0 = cpu_seconds();
    for (;;) {
        int request = 0;
        int64_t index = -1;
        check_mpi(MPI_Send(&request, 1, MPI_INT, 0, TAG_REQUEST, MPI_COMM_WORLD), "MPI_Send");
        recv_from(&index, 1, MPI_INT64_T, 0, TAG_ASSIGN);
        if (index < 0) break;

        nas_training_t t;
        if (nas_training_init_search(&t, o->seed, (uint64_t)index, X, data.labels, m,
                                     (int)data.dim, 10, o->interval, o->recipe, o->arch,
                                     o->epochs) != 0)
            die("network %" PRId64 ": out of memory, or images too small for its layers", index);
        double spent = 0, epoch = 0;
        for (;;) {
            double t0 = MPI_Wtime(), train_loss, train_acc, val_loss, val_acc;
            epoch = nas_training_advance(&t, &train_loss, &train_acc);
            nas_mlp_evaluate(t.mlp, XV, yv, v, &val_loss, &val_acc);
            spent += MPI_Wtime() - t0;
            char text[64];
            double obs[OBS_LEN];
            obs[O_INDEX] = (double)index;
            obs[O_EPOCH] = epoch;
            obs[O_VAL_ACC] = nas_as_written(val_acc, text, sizeof text);
            obs[O_VAL_LOSS] = val_loss;
            obs[O_TRAIN_LOSS] = train_loss;
            obs[O_TRAIN_ACC] = train_acc;
            obs[O_SECONDS] = spent;
            double w0 = MPI_Wtime();
            check_mpi(MPI_Send(obs, OBS_LEN, MPI_DOUBLE, 0, TAG_OBS, MPI_COMM_WORLD), "MPI_Send");
            int state = PENGUIN_CONTINUE;
            recv_from(&state, 1, MPI_INT, 0, TAG_DECISION);
            stats[S_WAIT] += MPI_Wtime() - w0;
            if (state != PENGUIN_CONTINUE) break; /* stop: next network */
            if (epoch >= o->epochs)
                die("network %" PRId64 ": told to continue at epoch %g >= e_pred %g", index, epoch,
                    o->epochs);
        }
        stats[S_NETWORKS] += 1;
        stats[S_EPOCHS] += epoch;
        stats[S_BUSY] += spent;
        nas_training_free(&t);
    }
    stats[S_CPU] = cpu_seconds() - cpu0;
    check_mpi(MPI_Send(stats, STATS_LEN, MPI_DOUBLE, 0, TAG_STATS, MPI_COMM_WORLD), "MPI_Send");
    int finish;
    recv_from(&finish, 1, MPI_INT, 0, TAG_FINISH);
    free(X);
    free(XV);
    nas_data_free(&data);
    return 0;
}

/* ------------------------------------------------------------- Penguin rank */
typedef struct {
    int64_t index;
    int trainer;
    nas_hparams_t hp;
    size_t n_obs, cap;
    double *obs; /* n_obs rows of OBS_LEN */
    int done, state;
    double prediction, fit_prediction, stop_epoch, observed, score;
} network_t;

typedef struct {
    network_t *nets;
    size_t n, cap;
} search_t;

static network_t *new_network(search_t *s, const options_t *o, int64_t index, int trainer) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->nets = realloc(s->nets, s->cap * sizeof *s->nets);
        if (!s->nets) die("out of memory");
    }
    network_t *n = &s->nets[s->n++];
    memset(n, 0, sizeof *n);
    n->index = index;
    n->trainer = trainer;
    nas_sample_hparams_search(o->seed, (uint64_t)index, o->recipe, o->arch, &n->hp);
    n->prediction = n->fit_prediction = n->stop_epoch = n->observed = NAN;
    return n;
}

static void model_id(const options_t *o, int64_t index, char *buf, size_t len) {
    snprintf(buf, len, "s%" PRIu64 "_n%04" PRId64, o->seed, index);
}

static const char *state_name(int state) {
    return state == PENGUIN_CONVERGED        ? "converged"
           : state == PENGUIN_REACHED_E_PRED ? "reached_e_pred"
                                             : "continue";
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Whether the top goes to the networks trained to e_pred first (config key
 * select_halving: they are successive halving's finalists). */
static int g_finalists_first = 0;

/* Best first: by the predicted fitness (Penguin's converged prediction, else the
 * observed one), with select_halving the networks that reached e_pred before
 * the others; ties by index. */
static int compare_rank(const void *a, const void *b) {
    const network_t *x = *(network_t *const *)a, *y = *(network_t *const *)b;
    int fx = x->state == PENGUIN_REACHED_E_PRED, fy = y->state == PENGUIN_REACHED_E_PRED;
    if (g_finalists_first && fx != fy) return fx ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static int compare_index(const void *a, const void *b) {
    const network_t *x = *(network_t *const *)a, *y = *(network_t *const *)b;
    return (x->index > y->index) - (x->index < y->index);
}

/* Dies with the failed call's message (read before anything else is called:
 * the message is the thread's last error). The process ends, so the
 * configuration is not freed on these paths. */
static penguin_t *make_engine(const options_t *o) {
    penguin_config_t *config = NULL;
    penguin_result_t rc = penguin_config_new(&config);
    if (rc != PENGUIN_OK) die_penguin("penguin_config_new", rc);
    /* On a node shared with trainers one fitting thread is enough; --threads
     * changes it (the decisions do not depend on it). */
    rc = penguin_config_set(config, "threads", "1");
    if (rc != PENGUIN_OK) die_penguin("penguin_config_set(threads, 1)", rc);
    if (o->config_file) {
        rc = penguin_config_load(config, o->config_file);
        if (rc != PENGUIN_OK) die_penguin("penguin_config_load (--config)", rc);
    }
    for (int k = 0; k < o->nkeys; k++) {
        rc = penguin_config_set(config, o->keys[k], o->values[k]);
        if (rc != PENGUIN_OK) {
            char what[512];
            snprintf(what, sizeof what, "penguin_config_set(%s, %s)", o->keys[k], o->values[k]);
            die_penguin(what, rc);
        }
    }
    char text[64];
    snprintf(text, sizeof text, "%.17g", o->epochs);
    rc = penguin_config_set(config, "e_pred", text);
    if (rc != PENGUIN_OK) die_penguin("penguin_config_set(e_pred) from --epochs", rc);
    char halving[64];
    rc = penguin_config_get(config, "select_halving", halving, sizeof halving, NULL);
    if (rc != PENGUIN_OK) die_penguin("penguin_config_get(select_halving)", rc);
    g_finalists_first = strtod(halving, NULL) > 0;
    penguin_t *engine = NULL;
    rc = penguin_new(config, &engine);
    if (rc != PENGUIN_OK) die_penguin("penguin_new", rc);
    penguin_config_free(config); /* the engine keeps its own copy */
    return engine;
}

static FILE *open_output(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) die("cannot write %s: %s", path, strerror(errno));
    return f;
}

static void close_output(FILE *f, const char *path) {
    if (ferror(f) | fclose(f)) die("writing %s failed", path);
}

/* A number as text: NaN as "nan" (not glibc's "-nan"), else printf's `fmt`. */
static const char *num(char *buf, size_t len, const char *fmt, double x) {
    if (isnan(x)) snprintf(buf, len, "nan");
    else snprintf(buf, len, fmt, x);
    return buf;
}

/* The shortest text that reads back as exactly x ("nan" for NaN), without an
 * exponent for numbers of up to 17 integer digits (60, not 6e+01). */
static const char *exact(char *buf, size_t len, double x) {
    if (isnan(x)) return num(buf, len, "", x);
    int integer_digits = fabs(x) >= 1 ? (int)floor(log10(fabs(x))) + 1 : 1;
    for (int digits = 1; digits <= 17; digits++) {
        int precision = digits > integer_digits ? digits : integer_digits;
        snprintf(buf, len, "%.*g", precision > 17 ? 17 : precision, x);
        if (strtod(buf, NULL) == x) break;
    }
    return buf;
}

/* The curves file's data set: FMNIST-MLP or FMNIST-CNN, then -ADAMW-COS for
 * that recipe. */
static const char *dataset_name(const options_t *o) {
    int cnn = o->arch == NAS_ARCH_CNN, cos = o->recipe == NAS_RECIPE_ADAMW_COSINE;
    return cnn ? (cos ? "FMNIST-CNN-ADAMW-COS" : "FMNIST-CNN")
               : (cos ? DATASET_NAME "-ADAMW-COS" : DATASET_NAME);
}

static void write_curves(const options_t *o, network_t **by_index, size_t n) {
    FILE *f = open_output(o->curves);
    fprintf(f, "dataset,model_id,epoch,val_acc,val_loss,train_loss,train_acc,lr,batch_size,"
               "momentum,weight_decay,arch,seconds\n");
    for (size_t i = 0; i < n; i++) {
        const network_t *net = by_index[i];
        char id[64], arch[64];
        model_id(o, net->index, id, sizeof id);
        nas_hparams_arch(&net->hp, arch, sizeof arch);
        for (size_t r = 0; r < net->n_obs; r++) {
            const double *ob = net->obs + r * OBS_LEN;
            /* epoch and val_acc exactly: a reader gets the doubles Penguin was
             * given (val_acc has the 10 digits the trainer rounded it to) */
            char t[6][40];
            fprintf(f, "%s,%s,%s,%s,%s,%s,%s,%.9g,%d,%.9g,%.9g,%s,%.3f\n",
                    dataset_name(o), id,
                    exact(t[0], 40, ob[O_EPOCH]), exact(t[1], 40, ob[O_VAL_ACC]),
                    num(t[2], 40, "%.9g", ob[O_VAL_LOSS]), num(t[3], 40, "%.9g", ob[O_TRAIN_LOSS]),
                    num(t[4], 40, "%.6g", ob[O_TRAIN_ACC]), net->hp.lr, net->hp.batch,
                    net->hp.momentum, net->hp.weight_decay, arch, ob[O_SECONDS]);
        }
    }
    close_output(f, o->curves);
}

static void write_results(const options_t *o, network_t **ranked, size_t n) {
    FILE *f = open_output(o->results);
    fprintf(f, "rank,model_id,index,trainer,decision,stop_epoch,observations,predicted,observed,"
               "fit_prediction,seconds,lr,batch_size,momentum,weight_decay,arch\n");
    for (size_t i = 0; i < n; i++) {
        const network_t *net = ranked[i];
        char id[64], arch[64];
        model_id(o, net->index, id, sizeof id);
        nas_hparams_arch(&net->hp, arch, sizeof arch);
        double seconds = net->n_obs ? net->obs[(net->n_obs - 1) * OBS_LEN + O_SECONDS] : 0;
        /* stop epoch, predicted, observed and fit_prediction exactly */
        char t[4][40];
        fprintf(f, "%zu,%s,%" PRId64 ",%d,%s,%s,%zu,%s,%s,%s,%.3f,%.9g,%d,%.9g,%.9g,%s\n", i + 1, id,
                net->index, net->trainer, state_name(net->state), exact(t[0], 40, net->stop_epoch),
                net->n_obs, exact(t[1], 40, net->score), exact(t[2], 40, net->observed),
                exact(t[3], 40, net->fit_prediction), seconds, net->hp.lr, net->hp.batch,
                net->hp.momentum, net->hp.weight_decay, arch);
    }
    close_output(f, o->results);
}

static int run_penguin_rank(const options_t *o, int argc, char **argv) {
    /* Setup: Penguin here, the data on the trainers; start only if all is well. */
    penguin_t *engine = make_engine(o); /* dies (MPI_Abort) on a bad configuration */
    int trainers = g_size - 1, all_ok = 1;
    for (int r = 0; r < trainers; r++) {
        int ok = 0;
        recv_from(&ok, 1, MPI_INT, MPI_ANY_SOURCE, TAG_READY);
        all_ok &= ok != 0;
    }
    double t0 = MPI_Wtime(), cpu0 = cpu_seconds();
    for (int r = 1; r < g_size; r++)
        check_mpi(MPI_Send(&all_ok, 1, MPI_INT, r, TAG_GO, MPI_COMM_WORLD), "MPI_Send");
    if (!all_ok) {
        penguin_free(engine);
        return 1;
    }

    search_t s = {0};
    int64_t next = 0;
    int active = trainers;
    double t_end = t0;
    double trainer_stats[STATS_LEN] = {0};
    double *per_trainer = calloc((size_t)g_size * STATS_LEN, sizeof *per_trainer);
    /* the observations of one batch */
    size_t bcap = (size_t)trainers;
    uint64_t *ids = malloc(bcap * sizeof *ids);
    double *epochs = malloc(bcap * sizeof *epochs), *fitness = malloc(bcap * sizeof *fitness);
    int *from = malloc(bcap * sizeof *from);
    network_t **members = malloc(bcap * sizeof *members);
    penguin_nn_status_t *status = malloc(bcap * sizeof *status);
    size_t batches = 0, batch_obs = 0, tcap = 1024;
    double *batch_seconds = malloc(tcap * sizeof *batch_seconds);
    /* network index -> record (indices are handed out densely) */
    size_t icap = 64;
    long *slot = malloc(icap * sizeof *slot);
    if (!per_trainer || !ids || !epochs || !fitness || !from || !members || !status ||
        !batch_seconds || !slot)
        die("out of memory");

    while (active > 0) {
        size_t nb = 0;
        MPI_Status st;
        wait_message(MPI_ANY_SOURCE, MPI_ANY_TAG, &st);
        /* gather whatever has arrived */
        for (;;) {
            int src = st.MPI_SOURCE;
            if (st.MPI_TAG == TAG_REQUEST) {
                int dummy;
                check_mpi(MPI_Recv(&dummy, 1, MPI_INT, src, TAG_REQUEST, MPI_COMM_WORLD,
                                   MPI_STATUS_IGNORE),
                          "MPI_Recv");
                int more = (o->networks < 0 || next < o->networks) &&
                           (o->seconds <= 0 || MPI_Wtime() - t0 < o->seconds);
                int64_t index = more ? next++ : -1;
                if (more) {
                    if ((size_t)index >= icap) {
                        icap *= 2;
                        slot = realloc(slot, icap * sizeof *slot);
                        if (!slot) die("out of memory");
                    }
                    slot[index] = (long)s.n;
                    new_network(&s, o, index, src);
                } else {
                    t_end = MPI_Wtime(); /* this trainer's last network is done */
                }
                check_mpi(MPI_Send(&index, 1, MPI_INT64_T, src, TAG_ASSIGN, MPI_COMM_WORLD),
                          "MPI_Send");
            } else if (st.MPI_TAG == TAG_OBS) {
                double ob[OBS_LEN];
                check_mpi(MPI_Recv(ob, OBS_LEN, MPI_DOUBLE, src, TAG_OBS, MPI_COMM_WORLD,
                                   MPI_STATUS_IGNORE),
                          "MPI_Recv");
                int64_t index = (int64_t)ob[O_INDEX];
                if (index < 0 || index >= next) die("observation of unknown network %g", ob[O_INDEX]);
                network_t *net = &s.nets[slot[index]];
                if (net->done || net->trainer != src)
                    die("unexpected observation of network %" PRId64 " from rank %d", index, src);
                if (net->n_obs == net->cap) {
                    net->cap = net->cap ? 2 * net->cap : 64;
                    net->obs = realloc(net->obs, net->cap * OBS_LEN * sizeof *net->obs);
                    if (!net->obs) die("out of memory");
                }
                memcpy(net->obs + net->n_obs++ * OBS_LEN, ob, sizeof ob);
                if (nb == bcap) die("more than one observation per trainer in a batch");
                ids[nb] = (uint64_t)index;
                epochs[nb] = ob[O_EPOCH];
                fitness[nb] = ob[O_VAL_ACC];
                from[nb] = src;
                members[nb] = net;
                nb++;
            } else if (st.MPI_TAG == TAG_STATS) {
                double ts[STATS_LEN];
                check_mpi(MPI_Recv(ts, STATS_LEN, MPI_DOUBLE, src, TAG_STATS, MPI_COMM_WORLD,
                                   MPI_STATUS_IGNORE),
                          "MPI_Recv");
                memcpy(per_trainer + (size_t)src * STATS_LEN, ts, sizeof ts);
                for (int k = 0; k < STATS_LEN; k++) trainer_stats[k] += ts[k];
                active--;
            } else {
                die("unexpected message with tag %d from rank %d", st.MPI_TAG, src);
            }
            int flag = 0;
            check_mpi(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st),
                      "MPI_Iprobe");
            if (!flag) break;
        }
        if (nb == 0) continue;

        /* decide: the only lines where the two modes differ */
        double d0 = MPI_Wtime();
        if (!o->no_penguin) {
            penguin_result_t rc = penguin_observe_batch(engine, nb, ids, epochs, fitness, status);
            if (rc != PENGUIN_OK) die_penguin("penguin_observe_batch", rc);
        } else {
            for (size_t i = 0; i < nb; i++) {
                int stop = epochs[i] >= o->epochs; /* as Penguin's e_pred rule */
                status[i].state = stop ? PENGUIN_REACHED_E_PRED : PENGUIN_CONTINUE;
                status[i].prediction = stop ? fitness[i] : NAN;
                status[i].fit_prediction = NAN;
            }
        }
        double d1 = MPI_Wtime();
        if (batches == tcap) {
            tcap *= 2;
            batch_seconds = realloc(batch_seconds, tcap * sizeof *batch_seconds);
            if (!batch_seconds) die("out of memory");
        }
        batch_seconds[batches++] = d1 - d0;
        batch_obs += nb;
        for (size_t i = 0; i < nb; i++) {
            network_t *net = members[i];
            net->state = status[i].state;
            net->fit_prediction = status[i].fit_prediction;
            if (status[i].state != PENGUIN_CONTINUE) {
                net->done = 1;
                net->prediction = status[i].prediction;
                net->stop_epoch = epochs[i];
                net->observed = fitness[i];
            }
            int state = status[i].state;
            check_mpi(MPI_Send(&state, 1, MPI_INT, from[i], TAG_DECISION, MPI_COMM_WORLD),
                      "MPI_Send");
        }
    }
    double walltime = t_end - t0, cpu = cpu_seconds() - cpu0;

    /* ranking */
    network_t **ranked = malloc((s.n ? s.n : 1) * sizeof *ranked);
    if (!ranked) die("out of memory");
    double epochs_trained = 0;
    for (size_t i = 0; i < s.n; i++) {
        network_t *net = &s.nets[i];
        if (!net->done) die("network %" PRId64 " has no decision", net->index);
        /* Penguin's converged prediction; the observed fitness otherwise (at
         * e_pred, where Penguin's answer is the observation) */
        net->score = net->state == PENGUIN_CONVERGED ? net->prediction : net->observed;
        epochs_trained += net->stop_epoch;
        ranked[i] = net;
    }
    if (o->curves) {
        qsort(ranked, s.n, sizeof *ranked, compare_index);
        write_curves(o, ranked, s.n);
    }
    qsort(ranked, s.n, sizeof *ranked, compare_rank);
    if (o->results) write_results(o, ranked, s.n);

    printf("# penguin-nas: %s; %d ranks: Penguin on rank 0, %d trainer%s\n",
           o->no_penguin ? "--no-penguin (every network trains to e_pred)"
                         : "Penguin decides when each network stops",
           g_size, trainers, trainers == 1 ? "" : "s");
    printf("# search: seed %" PRIu64 ", e_pred %g epochs, an observation every %g epochs, budget", o->seed,
           o->epochs, o->interval);
    if (o->networks > 0) printf(" %ld networks", o->networks);
    if (o->seconds > 0) printf("%s%g s", o->networks > 0 ? " and " : " ", o->seconds);
    printf("\n# command:");
    for (int i = 0; i < argc; i++) printf(" %s", argv[i]);
    printf("\n# ranking (predicted: Penguin's converged prediction, else the observed val_acc)\n");
    printf("# %4s  %-12s %-20s %8s %5s %5s %8s %6s %-15s %9s %9s\n", "rank", "model_id", "arch", "lr",
           "batch", "mom", "wd", "epoch", "decision", "predicted", "observed");
    for (size_t i = 0; i < s.n && i < (size_t)o->top; i++) {
        const network_t *net = ranked[i];
        char id[64], arch[64];
        model_id(o, net->index, id, sizeof id);
        nas_hparams_arch(&net->hp, arch, sizeof arch);
        printf("# %4zu  %-12s %-20s %8.2g %5d %5.2f %8.1e %6g %-15s %9.2f %9.2f\n", i + 1, id, arch,
               net->hp.lr, net->hp.batch, net->hp.momentum, net->hp.weight_decay, net->stop_epoch,
               state_name(net->state), net->score, net->observed);
    }
    size_t converged = 0;
    for (size_t i = 0; i < s.n; i++) converged += s.nets[i].state == PENGUIN_CONVERGED;
    printf("# networks %zu (%zu stopped early by Penguin, %zu at e_pred), epochs trained %g "
           "(%.1f %% of %g without early stops), walltime %.2f s\n",
           s.n, converged, s.n - converged, epochs_trained,
           s.n ? 100.0 * epochs_trained / ((double)s.n * o->epochs) : 0.0, (double)s.n * o->epochs,
           walltime);
    if (batches > 0) {
        qsort(batch_seconds, batches, sizeof *batch_seconds, compare_double);
        double total = 0;
        for (size_t i = 0; i < batches; i++) total += batch_seconds[i];
        printf("# decisions on rank 0 (%s): %zu batches of %.2f observations on average; time per "
               "batch: mean %.3f ms, median %.3f ms, max %.3f ms; total %.3f s\n",
               o->no_penguin ? "the e_pred rule" : "penguin_observe_batch", batches,
               (double)batch_obs / (double)batches, 1e3 * total / (double)batches,
               1e3 * batch_seconds[batches / 2], 1e3 * batch_seconds[batches - 1], total);
    }
    printf("# rank 0 CPU time during the search: %.2f s (%.1f %% of the walltime); waiting: %s\n",
           cpu, walltime > 0 ? 100.0 * cpu / walltime : 0.0,
           g_wait_probe ? "MPI_Probe" : "MPI_Iprobe + nanosleep");
    for (int r = 1; r < g_size; r++) {
        const double *ts = per_trainer + (size_t)r * STATS_LEN;
        printf("# trainer rank %d: %g networks, %g epochs, %.2f s training and validating, %.2f s "
               "waiting for decisions, %.2f s CPU\n",
               r, ts[S_NETWORKS], ts[S_EPOCHS], ts[S_BUSY], ts[S_WAIT], ts[S_CPU]);
    }
    if (o->curves) {
        printf("# curves: %s; %s: penguin replay %s --e_pred %.17g", o->curves,
               o->no_penguin ? "what Penguin would decide" : "the same decisions", o->curves, o->epochs);
        if (o->config_file) printf(" --config %s", o->config_file);
        for (int k = 0; k < o->nkeys; k++) printf(" --%s %s", o->keys[k], o->values[k]);
        printf("\n");
    }
    char best_id[64] = "";
    double best_observed = NAN;
    if (s.n > 0) {
        model_id(o, ranked[0]->index, best_id, sizeof best_id);
        best_observed = ranked[0]->observed;
    }
    /* best_observed exactly (the val_acc of the curves);
     * null for both when no network was trained (a time budget spent at once) */
    char best_id_json[80] = "null", best_json[64] = "null";
    if (s.n > 0) {
        snprintf(best_id_json, sizeof best_id_json, "\"%s\"", best_id);
        exact(best_json, sizeof best_json, best_observed);
    }
    printf("{\"networks\": %zu, \"epochs_trained\": %.17g, \"walltime_s\": %.3f, \"best_id\": %s, "
           "\"best_observed\": %s}\n",
           s.n, epochs_trained, walltime, best_id_json, best_json);
    fflush(stdout);

    int finish = 1;
    for (int r = 1; r < g_size; r++)
        check_mpi(MPI_Send(&finish, 1, MPI_INT, r, TAG_FINISH, MPI_COMM_WORLD), "MPI_Send");
    for (size_t i = 0; i < s.n; i++) free(s.nets[i].obs);
    free(s.nets);
    free(ranked);
    free(per_trainer);
    free(ids);
    free(epochs);
    free(fitness);
    free(from);
    free(members);
    free(status);
    free(batch_seconds);
    free(slot);
    penguin_free(engine);
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    nas_fast_denormals();
    options_t o;
    int rc = parse_options(argc, argv, &o);
    if (rc == 0 && g_size < 2) {
        if (g_rank == 0) fprintf(stderr, "penguin-nas: needs at least 2 ranks (mpirun -np K, K >= 2)\n");
        rc = -1;
    }
    if (rc != 0) {
        for (int k = 0; k < o.nkeys; k++) free(o.keys[k]);
        MPI_Finalize();
        return rc > 0 ? 0 : 2;
    }
    g_wait_probe = o.wait_probe;
    int status = g_rank == 0 ? run_penguin_rank(&o, argc, argv) : run_trainer(&o);
    for (int k = 0; k < o.nkeys; k++) free(o.keys[k]);
    MPI_Finalize();
    return status;
}
