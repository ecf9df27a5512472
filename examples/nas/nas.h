/*
 * nas.h: the pieces of penguin-nas that are not MPI or Penguin: a seeded
 * random number generator, the random search space, Fashion-MNIST from IDX
 * files, and a network (a multilayer perceptron, optionally behind one or two
 * convolution layers) trained with SGD (constant rate) or AdamW (one epoch of
 * linear warm-up, then a cosine decay to 0 at the last epoch).
 *
 * Everything a network is (its hyperparameters, its initial weights, the order
 * of its minibatches) is derived from (seed, network index) only, so a network
 * trains to bit-identical curves whichever MPI rank trains it and whether or
 * not Penguin stops it early.
 */
#ifndef NAS_H
#define NAS_H

#include <stddef.h>
#include <stdint.h>

/* The number type of the network (float by default; the gradient check is also
 * built with -DNAS_REAL=double). */
#ifndef NAS_REAL
#define NAS_REAL float
#endif
typedef NAS_REAL nas_real;

/* ------------------------------------------------------------------ random */
/* splitmix64: one 64-bit state; independent streams by hashing (seed, index,
 * stream) into the state. */
typedef struct {
    uint64_t state;
} nas_rng_t;

enum {
    NAS_STREAM_HPARAMS = 1,
    NAS_STREAM_INIT = 2,
    NAS_STREAM_SHUFFLE = 3,
    NAS_STREAM_ADAMW = 4,
    NAS_STREAM_CNN = 5
};

uint64_t nas_mix64(uint64_t x);
void nas_rng_init(nas_rng_t *rng, uint64_t seed, uint64_t index, uint64_t stream);
uint64_t nas_rng_next(nas_rng_t *rng);
double nas_rng_uniform(nas_rng_t *rng);            /* [0, 1) */
uint64_t nas_rng_below(nas_rng_t *rng, uint64_t n); /* [0, n) */

/* ------------------------------------------------------------- the search */
#define NAS_MAX_HIDDEN 3
/* Convolution layers in front of a CNN's dense layers: each 3x3 (no padding),
 * ReLU, then 2x2 max-pooling (an odd row or column is dropped). */
#define NAS_MAX_CONV 2

typedef enum { NAS_RELU = 0, NAS_TANH = 1, NAS_SIGMOID = 2 } nas_activation_t;

/* The optimizer: SGD with momentum and L2 weight decay (PyTorch's SGD), or AdamW
 * (PyTorch's AdamW: betas 0.9 and 0.999, eps 1e-8, decoupled weight decay). */
typedef enum { NAS_SGD = 0, NAS_ADAMW = 1 } nas_optimizer_t;

/* A training recipe: the search space and the rate schedule.
 *  - NAS_RECIPE_SGD: SGD at a constant rate (the default; the recipe of
 *    tests/data/fmnist_mlp_mpi.csv);
 *  - NAS_RECIPE_ADAMW_COSINE: AdamW with one epoch of linear warm-up to the
 *    peak rate, then a cosine decay to 0 at the search's last epoch. */
typedef enum { NAS_RECIPE_SGD = 0, NAS_RECIPE_ADAMW_COSINE = 1 } nas_recipe_t;

/* The architecture family of a search:
 *  - NAS_ARCH_MLP: 1-3 dense hidden layers (the default; the networks of
 *    tests/data/fmnist_mlp_mpi.csv);
 *  - NAS_ARCH_CNN: 1-2 convolution layers (4 or 8, then 8 or 16 channels),
 *    then 0-1 dense hidden layers. */
typedef enum { NAS_ARCH_MLP = 0, NAS_ARCH_CNN = 1 } nas_arch_t;

typedef struct {
    int hidden;                  /* hidden dense layers: 1..NAS_MAX_HIDDEN (a CNN: 0..1) */
    int width[NAS_MAX_HIDDEN];   /* their widths */
    nas_activation_t activation; /* of the hidden dense layers (none: unused) */
    double lr;                   /* learning rate (AdamW: the peak of the schedule) */
    double momentum;             /* SGD: 0 = plain SGD; AdamW: 0 (unused) */
    double weight_decay;         /* SGD: L2, added to the gradient (as PyTorch's SGD);
                                    AdamW: decoupled, w -= lr wd w */
    int batch;                   /* minibatch size */
    nas_optimizer_t optimizer;   /* NAS_SGD unless the recipe says otherwise */
    int conv;                    /* convolution layers in front (0: an MLP) */
    int channels[NAS_MAX_CONV];  /* their output channels (ReLU; the dense
                                    layers use `activation`) */
} nas_hparams_t;

/* The hyperparameters of network `index` of the search with `seed` (recipe
 * NAS_RECIPE_SGD). */
void nas_sample_hparams(uint64_t seed, uint64_t index, nas_hparams_t *hp);
/* The same for a recipe: NAS_RECIPE_SGD gives exactly nas_sample_hparams;
 * NAS_RECIPE_ADAMW_COSINE draws the same architecture and batch size but an
 * AdamW peak rate 10^U(-4, -1.5) and weight decay 0 (30 %) or 10^U(-4, -1). */
void nas_sample_hparams_recipe(uint64_t seed, uint64_t index, nas_recipe_t recipe,
                               nas_hparams_t *hp);
/* The same for an architecture family: NAS_ARCH_MLP gives exactly
 * nas_sample_hparams_recipe; NAS_ARCH_CNN keeps the optimizer's numbers, the
 * activation and the first width, and draws from a stream of its own 1-2
 * convolution layers (4 or 8 channels, then 8 or 16) and 0-1 dense hidden
 * layers. */
void nas_sample_hparams_search(uint64_t seed, uint64_t index, nas_recipe_t recipe, nas_arch_t arch,
                               nas_hparams_t *hp);
/* "mlp" or "cnn"; nas_arch_parse returns -1 for other names. */
const char *nas_arch_name(nas_arch_t arch);
int nas_arch_parse(const char *name, nas_arch_t *out);
/* "sgd" or "adamw-cosine"; nas_recipe_parse returns -1 for other names. */
const char *nas_recipe_name(nas_recipe_t recipe);
int nas_recipe_parse(const char *name, nas_recipe_t *out);
/* "64-32/relu" style summary (hidden widths and activation; a CNN's channels
 * first: "c8-16/64/relu", and "c4-8" without hidden layers, whose drawn
 * activation no layer uses). */
void nas_hparams_arch(const nas_hparams_t *hp, char *buf, size_t len);
const char *nas_activation_name(nas_activation_t a);

/* -------------------------------------------------------------------- data */
typedef struct {
    size_t n;        /* images */
    size_t dim;      /* pixels per image (784) */
    uint8_t *pixels; /* n * dim, row-major */
    uint8_t *labels; /* n, 0..9 */
} nas_data_t;

/* Reads DIR/SET-images-idx3-ubyte[.gz] and DIR/SET-labels-idx1-ubyte[.gz]
 * (SET = "train" or "t10k"; gzipped or not). Returns 0, or -1 with a message in
 * err. */
int nas_data_load(const char *dir, const char *set, nas_data_t *out, char *err, size_t errlen);
void nas_data_free(nas_data_t *d);
/* Rows [first, first + n) as network inputs: pixel / 255. Returns NULL when
 * out of memory. */
nas_real *nas_data_inputs(const nas_data_t *d, size_t first, size_t n);

/* ---------------------------------------------------------------------- MLP */
typedef struct nas_mlp nas_mlp_t;

/* A network `in` -> hidden layers of hp -> `out` (softmax, cross-entropy),
 * initialised from the stream NAS_STREAM_INIT of (seed, index); with hp.conv > 0
 * the input is a square image of `in` pixels, which the convolution layers see
 * first. NULL when out of memory, or when a CNN's input is not a square image
 * large enough for its layers. */
nas_mlp_t *nas_mlp_new(const nas_hparams_t *hp, int in, int out, uint64_t seed, uint64_t index);
void nas_mlp_free(nas_mlp_t *m);
size_t nas_mlp_param_count(const nas_mlp_t *m);
/* All parameters, contiguous: per convolution layer W[out][in][3][3] then
 * b[out], then per dense layer W[in][out] then b[out]. */
nas_real *nas_mlp_params(nas_mlp_t *m);

/* Mean cross-entropy of samples idx[0..n) of X (rows of `in` values) with labels
 * Y, and its gradient (without weight decay) in grad_out (param_count values)
 * when not NULL. correct_out (NULL allowed) counts the right answers. */
double nas_mlp_loss_grad(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, const uint32_t *idx,
                         size_t n, nas_real *grad_out, size_t *correct_out);

/* One SGD step (momentum, weight decay) on samples idx[0..n); returns their
 * mean loss before the step and adds their correct answers to *correct. */
double nas_mlp_sgd_step(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, const uint32_t *idx,
                        size_t n, size_t *correct);

/* One AdamW step at rate lr (betas 0.9, 0.999, eps 1e-8, decoupled weight
 * decay hp.weight_decay) on samples idx[0..n); as nas_mlp_sgd_step. The network
 * must have been made with hp.optimizer = NAS_ADAMW. */
double nas_mlp_adamw_step(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, const uint32_t *idx,
                          size_t n, double lr, size_t *correct);

/* The rate of a recipe after `progress` epochs of `total` (the minibatch's
 * start; `end`: its end): SGD constant; AdamW-cosine linear warm-up over the
 * first epoch (at `end`, so the first step moves), then 0.5 (1 + cos(pi (p - 1)
 * / (total - 1))) times the peak. */
double nas_recipe_lr(const nas_hparams_t *hp, nas_recipe_t recipe, double progress, double end,
                     double total);

/* Mean cross-entropy and accuracy (%) on the first n rows of X, Y. */
void nas_mlp_evaluate(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, size_t n,
                      double *loss_out, double *acc_pct_out);

/* ----------------------------------------------------------------- training */
/* A network being trained on rows X[0..n_train) with observations every
 * `interval` epochs: each epoch is a fresh permutation (stream
 * NAS_STREAM_SHUFFLE), minibatches never cross an epoch or an observation. */
typedef struct {
    nas_mlp_t *mlp;
    nas_hparams_t hp;
    const nas_real *X;
    const uint8_t *Y;
    size_t n_train;
    double interval;
    uint32_t *order;   /* this epoch's permutation */
    uint64_t done;     /* samples processed so far */
    unsigned observed; /* observations taken */
    nas_rng_t shuffle;
    nas_recipe_t recipe;
    double total_epochs; /* the schedule's length (AdamW-cosine) */
    /* since the last observation */
    double loss_sum;
    size_t loss_count, correct;
} nas_training_t;

int nas_training_init(nas_training_t *t, uint64_t seed, uint64_t index, const nas_real *X,
                      const uint8_t *Y, size_t n_train, int in, int out, double interval);
/* The same with a recipe and the search's last epoch (the schedule's end). */
int nas_training_init_recipe(nas_training_t *t, uint64_t seed, uint64_t index, const nas_real *X,
                             const uint8_t *Y, size_t n_train, int in, int out, double interval,
                             nas_recipe_t recipe, double total_epochs);
/* The same with an architecture family. */
int nas_training_init_search(nas_training_t *t, uint64_t seed, uint64_t index, const nas_real *X,
                             const uint8_t *Y, size_t n_train, int in, int out, double interval,
                             nas_recipe_t recipe, nas_arch_t arch, double total_epochs);
/* Trains up to the next observation, epoch (observed + 1) * interval; returns
 * that epoch and the mean training loss and accuracy (%) since the previous
 * observation. */
double nas_training_advance(nas_training_t *t, double *train_loss, double *train_acc);
void nas_training_free(nas_training_t *t);

/* Flush denormals to zero (x86 SSE): momentum buffers of weights that never get
 * a gradient decay geometrically into the denormal range, where every operation
 * costs ~100 cycles. Deterministic. */
void nas_fast_denormals(void);

/* Text as written into the curves file and its value read back: the fitness
 * given to Penguin is exactly what a reader of the CSV gets. */
double nas_as_written(double x, char *buf, size_t len);

#endif /* NAS_H */
