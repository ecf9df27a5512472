/*
 * Reads the bundled learning-curve format (dataset,model_id,epoch,val_acc,...)
 * into static arrays, for the C test programs: row r is network ids[r] at
 * epochs[r] with values[r] (NaN where the file says nan). Rows of one network
 * are contiguous in the bundled files.
 */
#ifndef PENGUIN_TEST_BUNDLED_CURVES_H
#define PENGUIN_TEST_BUNDLED_CURVES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXROWS 20000
static char ids[MAXROWS][64];
static double epochs[MAXROWS], values[MAXROWS];
static size_t nrows;

/* Reads model_id (column 2), epoch (3) and val_acc (4); exits on I/O errors. */
static void read_csv(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char line[4096];
    if (!fgets(line, sizeof line, f)) exit(1);
    while (fgets(line, sizeof line, f) && nrows < MAXROWS) {
        char *p = line, *fields[8] = {0};
        int nf = 0;
        while (p && nf < 8) fields[nf++] = strsep(&p, ",\r\n");
        if (nf < 4) continue;
        snprintf(ids[nrows], sizeof ids[nrows], "%s", fields[1]);
        epochs[nrows] = strtod(fields[2], NULL);
        values[nrows] = strtod(fields[3], NULL);
        nrows++;
    }
    fclose(f);
}

#endif
