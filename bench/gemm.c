/* GEMM benchmark: the built-in est__sgemm against OpenBLAS, 1 and 2 threads.
 *
 *   cc -O3 -march=native bench/gemm.c -o bench_gemm -lm -lpthread
 *   cc -O3 -march=native -DBENCH_OPENBLAS bench/gemm.c -o bench_gemm -lopenblas -lm -lpthread
 *   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 ./bench_gemm [--extra]
 *
 * Prints the measured fp32 FMA peak, a table (median GFLOP/s of RUNS timed runs after a warm-up,
 * built-in and OpenBLAS runs interleaved so that both see the same machine state) and one
 * machine-readable BENCH line per row. --extra adds the transposed layouts and small shapes. */

#define ESTIMATOR_IMPLEMENTATION
#include "../estimator.h"
#ifdef BENCH_OPENBLAS
#include <cblas.h>
#endif

/* The peak loop needs fused multiply-add even under -std=c99 (see kernels/gemm.c). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif

#define RUNS 7

static uint64_t lcg_state = 12345;
static float lcg_float(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((lcg_state >> 40) & 0xFFFFFF) / 16777216.0f - 0.5f;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- fp32 peak: independent FMA chains, enough of them to cover latency x throughput ---- */

#if defined(__GNUC__) || defined(__clang__)
#  if defined(__AVX512F__)
#    define PEAK_VW 16
#  elif defined(__AVX__)
#    define PEAK_VW 8
#  else
#    define PEAK_VW 4
#  endif
typedef float peak_vf __attribute__((vector_size(PEAK_VW * 4)));
#endif

static volatile float peak_sink;
static const int64_t peak_iters = 20000000;

static void peak_task(void *ctx, int64_t task, int thread)
{
#if defined(__GNUC__) || defined(__clang__)
    float t[PEAK_VW];
    peak_vf x, y, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
    int64_t i;
    int j;
    (void)ctx;
    (void)task;
    (void)thread;
    for (j = 0; j < PEAK_VW; j++) t[j] = 0.0f;
    memcpy(&a0, t, sizeof a0);
    a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = a0;
    x = a0 + 0.999999f;
    y = a0 + 1e-7f;
    for (i = 0; i < peak_iters; i++) {
        a0 = a0 * x + y;
        a1 = a1 * x + y;
        a2 = a2 * x + y;
        a3 = a3 * x + y;
        a4 = a4 * x + y;
        a5 = a5 * x + y;
        a6 = a6 * x + y;
        a7 = a7 * x + y;
        a8 = a8 * x + y;
        a9 = a9 * x + y;
        a10 = a10 * x + y;
        a11 = a11 * x + y;
        /* Keeps the compiler from interleaving or folding iterations: 12 chains, nothing else. */
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
        __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
    }
    a0 = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    peak_sink = a0[0];
#else
    (void)ctx;
    (void)task;
    (void)thread;
#endif
}

static double measure_peak(est_threadpool *pool, int threads)
{
#if defined(__GNUC__) || defined(__clang__)
    double t0 = est_time_now(), dt;
    est_parallel_for(pool, threads, peak_task, NULL);
    dt = est_time_now() - t0;
    return (double)threads * (double)peak_iters * 12.0 * PEAK_VW * 2.0 / dt / 1e9;
#else
    (void)pool;
    (void)threads;
    return (double)NAN;
#endif
}

/* ---- one shape ---- */

typedef struct shape {
    int64_t m, k, n;
    int ta, tb;
} shape;

static double gflops(const shape *s, double sec) { return 2.0 * s->m * s->n * s->k / sec / 1e9; }

static void run_shape(const shape *s, int threads, est_threadpool *pool, double *builtin,
                      double *openblas)
{
    est_sgemm_args g;
    int64_t i, na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
    float *a = EST__ALLOC(float, na), *b = EST__ALLOC(float, nb), *c = EST__ALLOC(float, nc);
    size_t ws = est__sgemm_workspace(s->m, s->n, s->k, threads);
    char *raw = (char *)est__malloc(ws + 64);
    void *work = (void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    double tb[RUNS], to[RUNS];
    int r;
    for (i = 0; i < na; i++) a[i] = lcg_float();
    for (i = 0; i < nb; i++) b[i] = lcg_float();
    memset(&g, 0, sizeof g);
    g.trans_a = s->ta;
    g.trans_b = s->tb;
    g.m = s->m;
    g.n = s->n;
    g.k = s->k;
    g.alpha = 1.0f;
    g.a = a;
    g.lda = s->ta ? s->m : s->k;
    g.b = b;
    g.ldb = s->tb ? s->k : s->n;
    g.beta = 0.0f;
    g.c = c;
    g.ldc = s->n;
#ifdef BENCH_OPENBLAS
    openblas_set_num_threads(threads);
#endif
    for (r = -1; r < RUNS; r++) { /* r == -1 is the warm-up */
        double t0 = est_time_now();
        est__sgemm(pool, &g, work);
        t0 = est_time_now() - t0;
        if (r >= 0) tb[r] = t0;
#ifdef BENCH_OPENBLAS
        t0 = est_time_now();
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, (int)s->m, (int)s->n, (int)s->k, 1.0f, a,
                    (int)g.lda, b, (int)g.ldb, 0.0f, c, (int)g.ldc);
        t0 = est_time_now() - t0;
        if (r >= 0) to[r] = t0;
#else
        if (r >= 0) to[r] = 0.0;
#endif
    }
    qsort(tb, RUNS, sizeof(double), cmp_double);
    qsort(to, RUNS, sizeof(double), cmp_double);
    *builtin = gflops(s, tb[RUNS / 2]);
#ifdef BENCH_OPENBLAS
    *openblas = gflops(s, to[RUNS / 2]);
#else
    *openblas = (double)NAN;
#endif
    est__free(raw);
    est__free(a);
    est__free(b);
    est__free(c);
}

int main(int argc, char **argv)
{
    static const shape base[] = {
        {1024, 1024, 1024, 0, 0}, {100, 3136, 1024, 0, 0}, {19600, 800, 64, 0, 0},
        {64, 800, 19600, 0, 0}};
    static const shape extra[] = {
        {1024, 1024, 1024, 1, 0}, {1024, 1024, 1024, 0, 1}, {1024, 1024, 1024, 1, 1},
        {100, 3136, 1024, 0, 1}, {100, 1024, 3136, 0, 1}, {3136, 100, 1024, 1, 0}, {800, 19600, 64, 1, 0},
        {100, 784, 512, 0, 0},    {1, 784, 512, 0, 0},    {100, 512, 10, 0, 0}};
    shape list[32];
    int nshapes = 0, i, t, extra_on = argc > 1 && strcmp(argv[1], "--extra") == 0;
    est_threadpool *pools[2];
    est_threadpool_desc d;
    double res[32][2][2], peak[2];

    for (i = 0; i < (int)EST__COUNTOF(base); i++) list[nshapes++] = base[i];
    if (extra_on)
        for (i = 0; i < (int)EST__COUNTOF(extra); i++) list[nshapes++] = extra[i];
    for (t = 0; t < 2; t++) {
        memset(&d, 0, sizeof d);
        d.num_threads = t + 1;
        if (est_threadpool_new(&d, &pools[t]) != EST_OK) {
            fprintf(stderr, "threadpool: %s\n", est_last_error());
            return 1;
        }
    }
    for (t = 0; t < 2; t++) {
        measure_peak(pools[t], t + 1); /* warm-up: clocks settle */
        peak[t] = measure_peak(pools[t], t + 1);
    }
    for (i = 0; i < nshapes; i++)
        for (t = 0; t < 2; t++) run_shape(&list[i], t + 1, pools[t], &res[i][t][0], &res[i][t][1]);

    printf("sgemm, GFLOP/s (median of %d), fp32 FMA peak: %.1f (1 thread), %.1f (2 threads)\n",
           RUNS, peak[0], peak[1]);
    printf("%-26s %7s %9s %9s %7s %7s\n", "shape (m x k x n)", "threads", "builtin", "openblas",
           "ratio", "%peak");
    for (i = 0; i < nshapes; i++)
        for (t = 0; t < 2; t++) {
            char name[64];
            snprintf(name, sizeof name, "%lldx%lldx%lld%s%s", (long long)list[i].m,
                     (long long)list[i].k, (long long)list[i].n, list[i].ta ? " At" : "",
                     list[i].tb ? " Bt" : "");
            printf("%-26s %7d %9.1f %9.1f %7.2f %6.0f%%\n", name, t + 1, res[i][t][0],
                   res[i][t][1], res[i][t][0] / res[i][t][1], 100.0 * res[i][t][0] / peak[t]);
        }
    for (i = 0; i < nshapes; i++)
        for (t = 0; t < 2; t++)
            printf("BENCH name=sgemm_%lldx%lldx%lld%s%s threads=%d builtin=%.1f openblas=%.1f "
                   "ratio=%.3f unit=GFLOP/s\n",
                   (long long)list[i].m, (long long)list[i].k, (long long)list[i].n,
                   list[i].ta ? "_ta" : "", list[i].tb ? "_tb" : "", t + 1, res[i][t][0],
                   res[i][t][1], res[i][t][0] / res[i][t][1]);
    for (t = 0; t < 2; t++) est_threadpool_free(pools[t]);
    return 0;
}
