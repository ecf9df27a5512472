/*
 * wait_bench: what a rank that waits for a message costs the ranks that compute.
 *
 *   mpirun -np K mpi-wait-bench recv|sleep [ITERATIONS]
 *
 * Ranks 1..K-1 compute (ITERATIONS additions, default 1e9) and then send one
 * message to rank 0, which waits for them either in MPI_Recv (recv) or the way
 * penguin-nas waits (sleep: MPI_Iprobe, then nanosleep from 20 us doubling to
 * 1 ms). Rank 0 prints every rank's wall and CPU seconds. Open MPI's MPI_Recv
 * polls: the waiting rank uses a core (or, oversubscribed, yields it in a loop),
 * which a computing rank then lacks.
 */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 2 || (strcmp(argv[1], "recv") != 0 && strcmp(argv[1], "sleep") != 0) || size < 2) {
        if (rank == 0) fprintf(stderr, "usage: mpirun -np K (K >= 2) %s recv|sleep [ITERATIONS]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    int sleep_wait = strcmp(argv[1], "sleep") == 0;
    long iterations = argc > 2 ? atol(argv[2]) : 1000000000L;
    MPI_Barrier(MPI_COMM_WORLD);
    double w0 = MPI_Wtime(), c0 = cpu_seconds();
    if (rank == 0) {
        for (int k = 1; k < size; k++) {
            int x;
            MPI_Status st;
            if (sleep_wait) {
                long ns = 20000;
                for (;;) {
                    int flag = 0;
                    MPI_Iprobe(MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, &flag, &st);
                    if (flag) break;
                    struct timespec d = {0, ns};
                    nanosleep(&d, NULL);
                    if (ns < 1000000) ns = ns * 2 > 1000000 ? 1000000 : ns * 2;
                }
            }
            MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, &st);
        }
    } else {
        volatile double s = 0;
        for (long i = 0; i < iterations; i++) s += (double)i * 1e-9;
        int x = 1;
        MPI_Send(&x, 1, MPI_INT, 0, 0, MPI_COMM_WORLD);
    }
    double mine[2] = {MPI_Wtime() - w0, cpu_seconds() - c0};
    double *all = rank == 0 ? malloc(2 * (size_t)size * sizeof *all) : NULL;
    MPI_Gather(mine, 2, MPI_DOUBLE, all, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("%s:", sleep_wait ? "sleep" : "recv");
        for (int k = 0; k < size; k++)
            printf("  rank %d wall %.2f s cpu %.2f s", k, all[2 * k], all[2 * k + 1]);
        printf("\n");
        free(all);
    }
    MPI_Finalize();
    return 0;
}
