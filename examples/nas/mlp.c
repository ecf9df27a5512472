/*
 * mlp.c: a multilayer perceptron (hidden layers with ReLU, tanh or sigmoid,
 * softmax output, cross-entropy loss), optionally behind convolution layers
 * (3x3, ReLU, 2x2 max-pooling), trained with minibatch SGD with momentum and
 * weight decay, or with AdamW on a warm-up and cosine schedule, in plain C
 * loops.
 *
 * Weights are stored W[in][out] (one row per input unit), so the forward pass
 * and the weight gradient are axpy loops over the outputs, which the compiler
 * vectorises without reordering any sum, and zero inputs (about half of a
 * Fashion-MNIST image, and every inactive ReLU) are skipped. A convolution
 * adds each weight times a shifted row of its input channel to a row of its
 * output (an axpy over the row); backpropagation visits only the positions
 * that won their pooling window.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nas.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>
#endif

#define MAX_LAYERS (NAS_MAX_HIDDEN + 1)

/* A convolution layer: `in` channels of side x side -> `out` channels of
 * (side - 2)^2 (after ReLU) -> pooled to `out` channels of pooled^2. */
typedef struct {
    int in, out, side, conv_side, pooled;
    size_t woff, boff;
    nas_real *z;      /* out x conv_side^2, after ReLU */
    nas_real *pool;   /* out x pooled^2 */
    uint32_t *argmax; /* for each pooled value, its position in its z plane */
    nas_real *dpool;  /* dloss / dpool */
} conv_layer_t;

struct nas_mlp {
    nas_hparams_t hp;
    int input;                     /* values per sample (a CNN: pixels) */
    int conv;                      /* convolution layers (hp.conv) */
    conv_layer_t cl[NAS_MAX_CONV]; /* their geometry and buffers */
    int layers;               /* linear layers: hidden + 1 */
    int size[MAX_LAYERS + 1]; /* units: input, hidden..., output */
    size_t woff[MAX_LAYERS], boff[MAX_LAYERS];
    size_t nparams;
    nas_real *params, *grad, *velocity; /* velocity: SGD's, or AdamW's first moment */
    nas_real *second;                    /* AdamW's second moment (NULL for SGD) */
    uint64_t steps;                      /* AdamW steps taken */
    nas_real *act[MAX_LAYERS + 1]; /* act[1..layers-1] hidden, act[layers] logits */
    nas_real *delta, *delta_prev;  /* widest layer */
};

void nas_fast_denormals(void) {
#if defined(__x86_64__) || defined(__SSE2__)
    _mm_setcsr(_mm_getcsr() | 0x8040); /* flush-to-zero and denormals-are-zero */
#endif
}

nas_mlp_t *nas_mlp_new(const nas_hparams_t *hp, int in, int out, uint64_t seed, uint64_t index) {
    nas_mlp_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->hp = *hp;
    m->input = in;
    m->conv = hp->conv < 0 ? 0 : hp->conv > NAS_MAX_CONV ? NAS_MAX_CONV : hp->conv;
    m->layers = hp->hidden + 1;
    if (m->conv > 0) { /* a square image, through the convolution layers */
        int side = 0;
        while ((side + 1) * (side + 1) <= in) side++;
        int channels = 1, ok = side * side == in;
        for (int c = 0; c < m->conv && ok; c++) {
            conv_layer_t *L = &m->cl[c];
            L->in = channels;
            L->out = hp->channels[c];
            L->side = side;
            L->conv_side = side - 2;
            L->pooled = L->conv_side / 2;
            ok = L->out > 0 && L->pooled > 0;
            L->woff = m->nparams;
            m->nparams += (size_t)L->out * L->in * 9;
            L->boff = m->nparams;
            m->nparams += (size_t)L->out;
            channels = L->out;
            side = L->pooled;
        }
        if (!ok) {
            free(m);
            return NULL;
        }
        in = channels * side * side;
    }
    m->size[0] = in;
    for (int i = 0; i < hp->hidden; i++) m->size[i + 1] = hp->width[i];
    m->size[m->layers] = out;
    int widest = 0;
    for (int l = 0; l < m->layers; l++) {
        m->woff[l] = m->nparams;
        m->nparams += (size_t)m->size[l] * m->size[l + 1];
        m->boff[l] = m->nparams;
        m->nparams += (size_t)m->size[l + 1];
        if (m->size[l + 1] > widest) widest = m->size[l + 1];
    }
    m->params = calloc(m->nparams, sizeof(nas_real));
    m->grad = calloc(m->nparams, sizeof(nas_real));
    m->velocity = calloc(m->nparams, sizeof(nas_real));
    if (hp->optimizer == NAS_ADAMW) m->second = calloc(m->nparams, sizeof(nas_real));
    m->delta = calloc((size_t)widest, sizeof(nas_real));
    m->delta_prev = calloc((size_t)widest, sizeof(nas_real));
    int ok = m->params && m->grad && m->velocity && m->delta && m->delta_prev &&
             (hp->optimizer != NAS_ADAMW || m->second);
    for (int c = 0; c < m->conv && ok; c++) {
        conv_layer_t *L = &m->cl[c];
        size_t zn = (size_t)L->out * L->conv_side * L->conv_side,
               pn = (size_t)L->out * L->pooled * L->pooled;
        L->z = calloc(zn, sizeof(nas_real));
        L->pool = calloc(pn, sizeof(nas_real));
        L->argmax = calloc(pn, sizeof(uint32_t));
        L->dpool = calloc(pn, sizeof(nas_real));
        ok = L->z && L->pool && L->argmax && L->dpool;
    }
    for (int l = 1; l <= m->layers && ok; l++) {
        m->act[l] = calloc((size_t)m->size[l], sizeof(nas_real));
        ok = m->act[l] != NULL;
    }
    if (!ok) {
        nas_mlp_free(m);
        return NULL;
    }
    /* He (ReLU) or Glorot (tanh, sigmoid) uniform initialisation; zero biases. */
    nas_rng_t rng;
    nas_rng_init(&rng, seed, index, NAS_STREAM_INIT);
    for (int c = 0; c < m->conv; c++) { /* He uniform: the convolutions are ReLU */
        const conv_layer_t *L = &m->cl[c];
        double limit = sqrt(6.0 / (L->in * 9));
        nas_real *w = m->params + L->woff;
        for (size_t k = 0; k < (size_t)L->out * L->in * 9; k++)
            w[k] = (nas_real)((2.0 * nas_rng_uniform(&rng) - 1.0) * limit);
    }
    for (int l = 0; l < m->layers; l++) {
        int fan_in = m->size[l], fan_out = m->size[l + 1];
        int relu = hp->activation == NAS_RELU && l < m->layers - 1;
        double limit = relu ? sqrt(6.0 / fan_in) : sqrt(6.0 / (fan_in + fan_out));
        nas_real *w = m->params + m->woff[l];
        for (size_t k = 0; k < (size_t)fan_in * fan_out; k++)
            w[k] = (nas_real)((2.0 * nas_rng_uniform(&rng) - 1.0) * limit);
    }
    return m;
}

void nas_mlp_free(nas_mlp_t *m) {
    if (!m) return;
    free(m->params);
    free(m->grad);
    free(m->velocity);
    free(m->second);
    free(m->delta);
    free(m->delta_prev);
    for (int l = 1; l <= MAX_LAYERS; l++) free(m->act[l]);
    for (int c = 0; c < NAS_MAX_CONV; c++) {
        free(m->cl[c].z);
        free(m->cl[c].pool);
        free(m->cl[c].argmax);
        free(m->cl[c].dpool);
    }
    free(m);
}

size_t nas_mlp_param_count(const nas_mlp_t *m) { return m->nparams; }
nas_real *nas_mlp_params(nas_mlp_t *m) { return m->params; }

static void activate(nas_activation_t a, nas_real *z, int n) {
    for (int i = 0; i < n; i++) {
        switch (a) {
        case NAS_RELU: z[i] = z[i] > 0 ? z[i] : 0; break;
        case NAS_TANH: z[i] = (nas_real)tanh((double)z[i]); break;
        case NAS_SIGMOID: z[i] = (nas_real)(1.0 / (1.0 + exp(-(double)z[i]))); break;
        }
    }
}

/* d activation / dz from the activation's output a */
static nas_real slope(nas_activation_t act, nas_real a) {
    switch (act) {
    case NAS_RELU: return a > 0 ? 1 : 0;
    case NAS_TANH: return 1 - a * a;
    case NAS_SIGMOID: return a * (1 - a);
    }
    return 0;
}

/* z[0..out) = b + sum_j a[j] W[j][.] */
static void affine(const nas_real *restrict W, const nas_real *restrict b,
                   const nas_real *restrict a, int in, int out, nas_real *restrict z) {
    memcpy(z, b, (size_t)out * sizeof *z);
    for (int j = 0; j < in; j++) {
        const nas_real aj = a[j];
        if (aj == 0) continue;
        const nas_real *restrict w = W + (size_t)j * out;
        for (int i = 0; i < out; i++) z[i] += aj * w[i];
    }
}

/* The convolution layers on image x; returns the dense layers' input. */
static const nas_real *conv_forward(nas_mlp_t *m, const nas_real *x) {
    const nas_real *in = x;
    for (int c = 0; c < m->conv; c++) {
        conv_layer_t *L = &m->cl[c];
        const int s = L->side, cs = L->conv_side, ps = L->pooled;
        const nas_real *W = m->params + L->woff, *b = m->params + L->boff;
        for (int o = 0; o < L->out; o++) {
            nas_real *zo = L->z + (size_t)o * cs * cs;
            for (int k = 0; k < cs * cs; k++) zo[k] = b[o];
            for (int i = 0; i < L->in; i++) {
                const nas_real *plane = in + (size_t)i * s * s;
                const nas_real *w = W + ((size_t)o * L->in + i) * 9;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        const nas_real wk = w[ky * 3 + kx];
                        for (int y = 0; y < cs; y++) {
                            const nas_real *restrict row = plane + (size_t)(y + ky) * s + kx;
                            nas_real *restrict zr = zo + (size_t)y * cs;
                            for (int xx = 0; xx < cs; xx++) zr[xx] += wk * row[xx];
                        }
                    }
            }
            for (int k = 0; k < cs * cs; k++) zo[k] = zo[k] > 0 ? zo[k] : 0;
            nas_real *po = L->pool + (size_t)o * ps * ps;
            uint32_t *ao = L->argmax + (size_t)o * ps * ps;
            for (int py = 0; py < ps; py++)
                for (int px = 0; px < ps; px++) {
                    int best = (2 * py) * cs + 2 * px;
                    const int cand[3] = {best + 1, best + cs, best + cs + 1};
                    for (int q = 0; q < 3; q++)
                        if (zo[cand[q]] > zo[best]) best = cand[q];
                    po[py * ps + px] = zo[best];
                    ao[py * ps + px] = (uint32_t)best;
                }
        }
        in = L->pool;
    }
    return in;
}

static void forward(nas_mlp_t *m, const nas_real *x) {
    const nas_real *a = conv_forward(m, x);
    for (int l = 0; l < m->layers; l++) {
        nas_real *z = m->act[l + 1];
        affine(m->params + m->woff[l], m->params + m->boff[l], a, m->size[l], m->size[l + 1], z);
        if (l < m->layers - 1) activate(m->hp.activation, z, m->size[l + 1]);
        a = z;
    }
}

/* Loss of the forward pass just made for label y; fills m->delta with
 * dloss/dlogits when want_delta. Returns the loss; *right = argmax == y. */
static double output_loss(nas_mlp_t *m, int y, int want_delta, int *right) {
    int k = m->size[m->layers];
    const nas_real *z = m->act[m->layers];
    int best = 0;
    double zmax = z[0];
    for (int i = 1; i < k; i++) {
        if (z[i] > z[best]) best = i;
        if (z[i] > zmax) zmax = z[i];
    }
    *right = best == y;
    double sum = 0;
    for (int i = 0; i < k; i++) sum += exp((double)z[i] - zmax);
    double lse = zmax + log(sum);
    if (want_delta)
        for (int i = 0; i < k; i++)
            m->delta[i] = (nas_real)(exp((double)z[i] - lse) - (i == y ? 1.0 : 0.0));
    return lse - (double)z[y];
}

/* Adds the gradient of the convolution layers to g, from the last one's
 * dpool (dloss / its pooled output), for the image x just forwarded. */
static void conv_backward(nas_mlp_t *m, const nas_real *x, nas_real *g) {
    for (int c = m->conv - 1; c >= 0; c--) {
        conv_layer_t *L = &m->cl[c];
        const int s = L->side, cs = L->conv_side, ps = L->pooled;
        const nas_real *in = c == 0 ? x : m->cl[c - 1].pool;
        nas_real *din = c == 0 ? NULL : m->cl[c - 1].dpool;
        if (din) memset(din, 0, (size_t)L->in * s * s * sizeof *din);
        const nas_real *W = m->params + L->woff;
        nas_real *gW = g + L->woff, *gb = g + L->boff;
        for (int o = 0; o < L->out; o++) {
            const nas_real *zo = L->z + (size_t)o * cs * cs;
            for (int k = 0; k < ps * ps; k++) {
                const size_t at = (size_t)o * ps * ps + k;
                const nas_real d = L->dpool[at];
                const uint32_t pos = L->argmax[at];
                if (d == 0 || zo[pos] <= 0) continue; /* ReLU: no slope at 0 */
                const int y = (int)pos / cs, xx = (int)pos % cs;
                gb[o] += d;
                for (int i = 0; i < L->in; i++) {
                    const size_t w0 = ((size_t)o * L->in + i) * 9;
                    const nas_real *patch = in + (size_t)i * s * s + (size_t)y * s + xx;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            gW[w0 + ky * 3 + kx] += d * patch[ky * s + kx];
                            if (din)
                                din[(size_t)i * s * s + (size_t)(y + ky) * s + xx + kx] +=
                                    d * W[w0 + ky * 3 + kx];
                        }
                }
            }
        }
    }
}

/* Adds the gradient of the sample just forwarded (delta = dloss/dlogits) to g. */
static void backward(nas_mlp_t *m, const nas_real *x, nas_real *g) {
    const nas_real *x0 = m->conv ? m->cl[m->conv - 1].pool : x;
    for (int l = m->layers - 1; l >= 0; l--) {
        int in = m->size[l], out = m->size[l + 1];
        const nas_real *a = l == 0 ? x0 : m->act[l];
        const nas_real *restrict d = m->delta;
        nas_real *restrict gb = g + m->boff[l];
        nas_real *gw = g + m->woff[l];
        for (int i = 0; i < out; i++) gb[i] += d[i];
        for (int j = 0; j < in; j++) {
            const nas_real aj = a[j];
            if (aj == 0) continue;
            nas_real *restrict gwj = gw + (size_t)j * out;
            for (int i = 0; i < out; i++) gwj[i] += aj * d[i];
        }
        if (l > 0) {
            const nas_real *W = m->params + m->woff[l];
            for (int j = 0; j < in; j++) {
                const nas_real *w = W + (size_t)j * out;
                nas_real s = 0;
                for (int i = 0; i < out; i++) s += w[i] * d[i];
                m->delta_prev[j] = s * slope(m->hp.activation, a[j]);
            }
            nas_real *t = m->delta;
            m->delta = m->delta_prev;
            m->delta_prev = t;
        } else if (m->conv) { /* dloss / the pooled output of the last convolution */
            const nas_real *W = m->params + m->woff[0];
            nas_real *dp = m->cl[m->conv - 1].dpool;
            for (int j = 0; j < in; j++) {
                const nas_real *w = W + (size_t)j * out;
                nas_real s = 0;
                for (int i = 0; i < out; i++) s += w[i] * d[i];
                dp[j] = s;
            }
        }
    }
    if (m->conv) conv_backward(m, x, g);
}

double nas_mlp_loss_grad(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, const uint32_t *idx,
                         size_t n, nas_real *grad_out, size_t *correct_out) {
    int in = m->input;
    double loss = 0;
    size_t correct = 0;
    if (grad_out) memset(grad_out, 0, m->nparams * sizeof *grad_out);
    for (size_t s = 0; s < n; s++) {
        const nas_real *x = X + (size_t)idx[s] * in;
        int right;
        forward(m, x);
        loss += output_loss(m, Y[idx[s]], grad_out != NULL, &right);
        correct += (size_t)right;
        if (grad_out) backward(m, x, grad_out);
    }
    if (grad_out && n > 0) {
        const nas_real scale = (nas_real)(1.0 / (double)n);
        for (size_t k = 0; k < m->nparams; k++) grad_out[k] *= scale;
    }
    if (correct_out) *correct_out = correct;
    return n > 0 ? loss / (double)n : 0.0;
}

double nas_mlp_sgd_step(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, const uint32_t *idx,
                        size_t n, size_t *correct) {
    size_t right = 0;
    double loss = nas_mlp_loss_grad(m, X, Y, idx, n, m->grad, &right);
    *correct += right;
    const nas_real lr = (nas_real)m->hp.lr, mu = (nas_real)m->hp.momentum,
                   wd = (nas_real)m->hp.weight_decay;
    nas_real *restrict w = m->params, *restrict v = m->velocity;
    const nas_real *restrict g = m->grad;
    for (size_t k = 0; k < m->nparams; k++) {
        /* PyTorch's SGD: g += wd w; v = mu v + g; w -= lr v */
        v[k] = mu * v[k] + (g[k] + wd * w[k]);
        w[k] -= lr * v[k];
    }
    return loss;
}

/* sqrt in the network's number type. */
static nas_real real_sqrt(nas_real x) {
    return sizeof(nas_real) == sizeof(float) ? (nas_real)sqrtf((float)x) : (nas_real)sqrt((double)x);
}

double nas_mlp_adamw_step(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, const uint32_t *idx,
                          size_t n, double lr, size_t *correct) {
    size_t right = 0;
    double loss = nas_mlp_loss_grad(m, X, Y, idx, n, m->grad, &right);
    *correct += right;
    m->steps++;
    /* PyTorch's AdamW: w -= lr wd w; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2)
     * g^2; w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
    const double b1 = 0.9, b2 = 0.999;
    const nas_real c1 = (nas_real)(1.0 / (1.0 - pow(b1, (double)m->steps))),
                   c2 = (nas_real)(1.0 / (1.0 - pow(b2, (double)m->steps)));
    const nas_real r = (nas_real)lr, decay = (nas_real)(1.0 - lr * m->hp.weight_decay),
                   eps = (nas_real)1e-8, fb1 = (nas_real)b1, fb2 = (nas_real)b2;
    nas_real *restrict w = m->params, *restrict m1 = m->velocity, *restrict m2 = m->second;
    const nas_real *restrict g = m->grad;
    for (size_t k = 0; k < m->nparams; k++) {
        w[k] *= decay;
        m1[k] = fb1 * m1[k] + (1 - fb1) * g[k];
        m2[k] = fb2 * m2[k] + (1 - fb2) * g[k] * g[k];
        w[k] -= r * (m1[k] * c1) / (real_sqrt(m2[k] * c2) + eps);
    }
    return loss;
}

double nas_recipe_lr(const nas_hparams_t *hp, nas_recipe_t recipe, double progress, double end,
                     double total) {
    if (recipe != NAS_RECIPE_ADAMW_COSINE) return hp->lr;
    if (progress < 1.0) return hp->lr * (end < 1.0 ? end : 1.0);
    if (total <= 1.0 || progress >= total) return 0.0;
    return hp->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (progress - 1.0) / (total - 1.0)));
}

void nas_mlp_evaluate(nas_mlp_t *m, const nas_real *X, const uint8_t *Y, size_t n,
                      double *loss_out, double *acc_pct_out) {
    int in = m->input;
    double loss = 0;
    size_t correct = 0;
    for (size_t s = 0; s < n; s++) {
        int right;
        forward(m, X + s * (size_t)in);
        loss += output_loss(m, Y[s], 0, &right);
        correct += (size_t)right;
    }
    *loss_out = n > 0 ? loss / (double)n : NAN;
    *acc_pct_out = n > 0 ? 100.0 * (double)correct / (double)n : NAN;
}

/* ------------------------------------------------------------------ training */
int nas_training_init(nas_training_t *t, uint64_t seed, uint64_t index, const nas_real *X,
                      const uint8_t *Y, size_t n_train, int in, int out, double interval) {
    return nas_training_init_recipe(t, seed, index, X, Y, n_train, in, out, interval,
                                    NAS_RECIPE_SGD, 0.0);
}

int nas_training_init_recipe(nas_training_t *t, uint64_t seed, uint64_t index, const nas_real *X,
                             const uint8_t *Y, size_t n_train, int in, int out, double interval,
                             nas_recipe_t recipe, double total_epochs) {
    return nas_training_init_search(t, seed, index, X, Y, n_train, in, out, interval, recipe,
                                    NAS_ARCH_MLP, total_epochs);
}

int nas_training_init_search(nas_training_t *t, uint64_t seed, uint64_t index, const nas_real *X,
                             const uint8_t *Y, size_t n_train, int in, int out, double interval,
                             nas_recipe_t recipe, nas_arch_t arch, double total_epochs) {
    memset(t, 0, sizeof *t);
    nas_sample_hparams_search(seed, index, recipe, arch, &t->hp);
    t->recipe = recipe;
    t->total_epochs = total_epochs;
    t->mlp = nas_mlp_new(&t->hp, in, out, seed, index);
    t->order = malloc((n_train ? n_train : 1) * sizeof *t->order);
    if (!t->mlp || !t->order || n_train == 0 || n_train > UINT32_MAX) {
        nas_training_free(t);
        return -1;
    }
    for (size_t i = 0; i < n_train; i++) t->order[i] = (uint32_t)i;
    t->X = X;
    t->Y = Y;
    t->n_train = n_train;
    t->interval = interval;
    nas_rng_init(&t->shuffle, seed, index, NAS_STREAM_SHUFFLE);
    return 0;
}

double nas_training_advance(nas_training_t *t, double *train_loss, double *train_acc) {
    double epoch = (double)(t->observed + 1) * t->interval;
    uint64_t target = (uint64_t)llround(epoch * (double)t->n_train);
    while (t->done < target) {
        size_t pos = (size_t)(t->done % t->n_train);
        if (pos == 0) { /* a new epoch: Fisher-Yates on the previous order */
            for (size_t i = t->n_train - 1; i > 0; i--) {
                size_t j = (size_t)nas_rng_below(&t->shuffle, i + 1);
                uint32_t tmp = t->order[i];
                t->order[i] = t->order[j];
                t->order[j] = tmp;
            }
        }
        size_t take = (size_t)t->hp.batch;
        if (take > t->n_train - pos) take = t->n_train - pos;
        if (take > target - t->done) take = (size_t)(target - t->done);
        double loss;
        if (t->hp.optimizer == NAS_ADAMW) {
            double n = (double)t->n_train;
            double lr = nas_recipe_lr(&t->hp, t->recipe, (double)t->done / n,
                                      (double)(t->done + take) / n, t->total_epochs);
            loss = nas_mlp_adamw_step(t->mlp, t->X, t->Y, t->order + pos, take, lr, &t->correct);
        } else {
            loss = nas_mlp_sgd_step(t->mlp, t->X, t->Y, t->order + pos, take, &t->correct);
        }
        t->loss_sum += loss * (double)take;
        t->loss_count += take;
        t->done += take;
    }
    t->observed++;
    *train_loss = t->loss_count ? t->loss_sum / (double)t->loss_count : NAN;
    *train_acc = t->loss_count ? 100.0 * (double)t->correct / (double)t->loss_count : NAN;
    t->loss_sum = 0;
    t->loss_count = 0;
    t->correct = 0;
    return epoch;
}

void nas_training_free(nas_training_t *t) {
    nas_mlp_free(t->mlp);
    free(t->order);
    memset(t, 0, sizeof *t);
}
