/*
 * search.c: the random search space of penguin-nas and its random numbers.
 * A network's hyperparameters depend on (seed, index) only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nas.h"

uint64_t nas_mix64(uint64_t x) {
    /* splitmix64's finaliser */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void nas_rng_init(nas_rng_t *rng, uint64_t seed, uint64_t index, uint64_t stream) {
    rng->state = nas_mix64(nas_mix64(nas_mix64(seed) ^ index) ^ (stream * 0xd1b54a32d192ed03ULL));
}

uint64_t nas_rng_next(nas_rng_t *rng) {
    rng->state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = rng->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double nas_rng_uniform(nas_rng_t *rng) {
    return (double)(nas_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t nas_rng_below(nas_rng_t *rng, uint64_t n) {
    /* rejection sampling: no modulo bias */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nas_rng_next(rng);
    while (x >= limit);
    return x % n;
}

/* 10^U(lo, hi) */
static double log_uniform(nas_rng_t *rng, double lo, double hi) {
    return pow(10.0, lo + (hi - lo) * nas_rng_uniform(rng));
}

void nas_sample_hparams(uint64_t seed, uint64_t index, nas_hparams_t *hp) {
    static const int widths[] = {16, 32, 64, 128};
    static const int batches[] = {16, 32, 64, 128, 256};
    nas_rng_t rng;
    nas_rng_init(&rng, seed, index, NAS_STREAM_HPARAMS);
    memset(hp, 0, sizeof *hp); /* padding too: records compare with memcmp */
    hp->hidden = 1 + (int)nas_rng_below(&rng, NAS_MAX_HIDDEN);
    for (int i = 0; i < NAS_MAX_HIDDEN; i++)
        hp->width[i] = i < hp->hidden ? widths[nas_rng_below(&rng, 4)] : 0;
    double a = nas_rng_uniform(&rng);
    hp->activation = a < 0.5 ? NAS_RELU : a < 0.8 ? NAS_TANH : NAS_SIGMOID;
    /* Wide ranges on purpose: too small a rate learns nothing in time, too large
     * a one diverges, a large weight decay holds the weights at zero. */
    hp->lr = log_uniform(&rng, -3.5, 0.5);
    hp->batch = batches[nas_rng_below(&rng, 5)];
    hp->momentum = nas_rng_uniform(&rng) < 0.25 ? 0.0 : 0.5 + 0.49 * nas_rng_uniform(&rng);
    hp->weight_decay = nas_rng_uniform(&rng) < 0.4 ? 0.0 : log_uniform(&rng, -6.0, -1.0);
}

void nas_sample_hparams_recipe(uint64_t seed, uint64_t index, nas_recipe_t recipe,
                               nas_hparams_t *hp) {
    nas_sample_hparams(seed, index, hp);
    if (recipe != NAS_RECIPE_ADAMW_COSINE) return;
    /* The same architecture and batch size; the optimizer's numbers from a
     * stream of their own, in AdamW's usual ranges. */
    nas_rng_t rng;
    nas_rng_init(&rng, seed, index, NAS_STREAM_ADAMW);
    hp->optimizer = NAS_ADAMW;
    hp->lr = log_uniform(&rng, -4.0, -1.5);
    hp->momentum = 0.0;
    hp->weight_decay = nas_rng_uniform(&rng) < 0.3 ? 0.0 : log_uniform(&rng, -4.0, -1.0);
}

void nas_sample_hparams_search(uint64_t seed, uint64_t index, nas_recipe_t recipe, nas_arch_t arch,
                               nas_hparams_t *hp) {
    nas_sample_hparams_recipe(seed, index, recipe, hp);
    if (arch != NAS_ARCH_CNN) return;
    /* The optimizer's numbers, the activation and the first width as drawn;
     * the layers from a stream of their own. */
    nas_rng_t rng;
    nas_rng_init(&rng, seed, index, NAS_STREAM_CNN);
    hp->conv = 1 + (int)nas_rng_below(&rng, NAS_MAX_CONV);
    hp->channels[0] = nas_rng_below(&rng, 2) ? 8 : 4;
    hp->channels[1] = hp->conv > 1 ? (nas_rng_below(&rng, 2) ? 16 : 8) : 0;
    hp->hidden = (int)nas_rng_below(&rng, 2);
    for (int i = hp->hidden; i < NAS_MAX_HIDDEN; i++) hp->width[i] = 0;
}

const char *nas_arch_name(nas_arch_t arch) { return arch == NAS_ARCH_CNN ? "cnn" : "mlp"; }

int nas_arch_parse(const char *name, nas_arch_t *out) {
    if (strcmp(name, "mlp") == 0) *out = NAS_ARCH_MLP;
    else if (strcmp(name, "cnn") == 0) *out = NAS_ARCH_CNN;
    else return -1;
    return 0;
}

const char *nas_recipe_name(nas_recipe_t recipe) {
    return recipe == NAS_RECIPE_ADAMW_COSINE ? "adamw-cosine" : "sgd";
}

int nas_recipe_parse(const char *name, nas_recipe_t *out) {
    if (strcmp(name, "sgd") == 0) *out = NAS_RECIPE_SGD;
    else if (strcmp(name, "adamw-cosine") == 0) *out = NAS_RECIPE_ADAMW_COSINE;
    else return -1;
    return 0;
}

const char *nas_activation_name(nas_activation_t a) {
    switch (a) {
    case NAS_RELU: return "relu";
    case NAS_TANH: return "tanh";
    case NAS_SIGMOID: return "sigmoid";
    }
    return "?";
}

void nas_hparams_arch(const nas_hparams_t *hp, char *buf, size_t len) {
    /* "c8-16" (a CNN's channels), "64-32" (dense widths), "relu" (their
     * activation), joined by "/"; no activation without dense layers */
    int conv = hp->conv < 0 ? 0 : hp->conv > NAS_MAX_CONV ? NAS_MAX_CONV : hp->conv;
    int hidden = hp->hidden < 0 ? 0 : hp->hidden > NAS_MAX_HIDDEN ? NAS_MAX_HIDDEN : hp->hidden;
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < conv && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "-" : "c", hp->channels[i]);
    for (int i = 0; i < hidden && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? "-" : conv ? "/" : "",
                                 hp->width[i]);
    if (hidden > 0 && used < len)
        snprintf(buf + used, len - used, "/%s", nas_activation_name(hp->activation));
}

double nas_as_written(double x, char *buf, size_t len) {
    /* 10 significant digits: 83.46 stays "83.46"; strtod and Rust's parser both
     * round correctly, so the CSV's reader gets exactly this double. */
    snprintf(buf, len, "%.10g", x);
    return strtod(buf, NULL);
}
