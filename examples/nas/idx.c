/*
 * idx.c: Fashion-MNIST from its IDX files (as the Debian package
 * dataset-fashion-mnist ships them, gzipped, under
 * /usr/share/datasets/fashion-mnist). zlib's gzread reads plain files too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nas.h"

static gzFile open_either(const char *dir, const char *name, char *path, size_t len) {
    snprintf(path, len, "%s/%s.gz", dir, name);
    gzFile f = gzopen(path, "rb");
    if (f) return f;
    snprintf(path, len, "%s/%s", dir, name);
    return gzopen(path, "rb");
}

static int read_all(gzFile f, void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Reads an IDX file of unsigned bytes with `dims` dimensions (magic 0x0000080N). */
static uint8_t *read_idx(const char *dir, const char *name, int dims, uint32_t *shape, char *err,
                         size_t errlen) {
    char path[4096];
    gzFile f = open_either(dir, name, path, sizeof path);
    if (!f) {
        snprintf(err, errlen, "cannot open %s/%s[.gz] (Debian: apt-get install dataset-fashion-mnist)",
                 dir, name);
        return NULL;
    }
    unsigned char head[16];
    size_t head_len = 4 + 4 * (size_t)dims;
    if (read_all(f, head, head_len) != 0 || be32(head) != (uint32_t)(0x800 + dims)) {
        snprintf(err, errlen, "%s: not an IDX file of %d-dimensional unsigned bytes", path, dims);
        gzclose(f);
        return NULL;
    }
    size_t total = 1;
    for (int i = 0; i < dims; i++) {
        shape[i] = be32(head + 4 + 4 * i);
        total *= shape[i];
    }
    uint8_t *data = malloc(total ? total : 1);
    if (!data || read_all(f, data, total) != 0) {
        snprintf(err, errlen, "%s: %s", path, data ? "truncated" : "out of memory");
        free(data);
        gzclose(f);
        return NULL;
    }
    gzclose(f);
    return data;
}

int nas_data_load(const char *dir, const char *set, nas_data_t *out, char *err, size_t errlen) {
    char name[64];
    uint32_t ishape[3], lshape[1];
    memset(out, 0, sizeof *out);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", set);
    uint8_t *pixels = read_idx(dir, name, 3, ishape, err, errlen);
    if (!pixels) return -1;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", set);
    uint8_t *labels = read_idx(dir, name, 1, lshape, err, errlen);
    if (!labels) {
        free(pixels);
        return -1;
    }
    if (lshape[0] != ishape[0]) {
        snprintf(err, errlen, "%s/%s: %u labels for %u images", dir, set, lshape[0], ishape[0]);
        free(pixels);
        free(labels);
        return -1;
    }
    for (uint32_t i = 0; i < lshape[0]; i++) {
        if (labels[i] > 9) {
            snprintf(err, errlen, "%s/%s: label %u of image %u is not 0..9", dir, set, labels[i], i);
            free(pixels);
            free(labels);
            return -1;
        }
    }
    out->n = ishape[0];
    out->dim = (size_t)ishape[1] * ishape[2];
    out->pixels = pixels;
    out->labels = labels;
    return 0;
}

void nas_data_free(nas_data_t *d) {
    free(d->pixels);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

nas_real *nas_data_inputs(const nas_data_t *d, size_t first, size_t n) {
    size_t count = n * d->dim;
    nas_real *x = malloc((count > 0 ? count : 1) * sizeof *x);
    if (!x) return NULL;
    const uint8_t *p = d->pixels + first * d->dim;
    for (size_t i = 0; i < n * d->dim; i++) x[i] = (nas_real)(p[i] / 255.0);
    return x;
}
