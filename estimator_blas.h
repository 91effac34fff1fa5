/* estimator_blas.h -- an OpenBLAS kernel table for estimator.h (companion header, like
 * cgltf_write.h is to cgltf.h).
 *
 * Every matrix product of the library (dense layers, convolutions and their gradients) goes
 * through an est_kernels table; est_blas_kernels() returns one whose sgemm is OpenBLAS's
 * cblas_sgemm. Use it in exactly one .c file:
 *
 *     #define ESTIMATOR_IMPLEMENTATION
 *     #define ESTIMATOR_BLAS_IMPLEMENTATION
 *     #include "estimator.h"
 *     #include "estimator_blas.h"
 *
 *     cc -O2 prog.c -lopenblas -lm -lpthread
 *
 * and pass est_blas_kernels() wherever the library takes an `const est_kernels *`. Other files
 * include "estimator_blas.h" without the define to get the declaration.
 *
 * Threads: OpenBLAS's own threads are not used. Every GEMM comes with the pool that runs the plan
 * (est_sgemm_args.pool / num_threads, filled by the executor; an Estimator's pool has
 * session_config.intra_op_parallelism_threads threads, 0 meaning the number of cores): the backend
 * sets OpenBLAS to one thread (at the first est_blas_kernels() call) and splits each big product
 * into row (or column) blocks that the pool's threads hand to cblas_sgemm concurrently; a
 * convolution over a batch of small images instead has each thread call cblas_sgemm on whole
 * chunks of its own (num_threads == 1). OpenBLAS's worker threads busy-wait for a long
 * time after each call (2^28 cycles by default), which stole the cores from the rest of the
 * training step when both sets of threads existed; now there is one. The count is process-wide
 * (as OpenBLAS's is). A product without a pool (a direct call) runs on the calling thread with
 * whatever thread count OpenBLAS has. Results are not guaranteed bit-identical across thread
 * counts, unlike the built-in kernel.
 *
 * Misdetected cores: a DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernels from the CPU it thinks
 * it runs on, and on CPUs newer than it knows (e.g. AMD Zen 4 with AVX-512 under 0.3.21) it falls
 * back to its SSE3 "Prescott" kernels, 2-3.5x slower. The first call of est_blas_kernels()
 * compares openblas_get_corename() with what the CPU supports (gcc/clang on x86; nothing is
 * checked elsewhere) and logs ONE warning through the default logger (est_logf) naming the core,
 * the CPU's feature and the fix: OPENBLAS_CORETYPE=SkylakeX (AVX-512F) or OPENBLAS_CORETYPE=Haswell
 * (AVX2) in the environment of the process when it starts (OpenBLAS reads it once, when it is
 * loaded: setenv() in main() is too late). est_blas_check_core() gives the same verdict to a
 * program. */

#ifndef ESTIMATOR_BLAS_H
#define ESTIMATOR_BLAS_H

#include "estimator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The OpenBLAS kernel table (name "openblas"). Static storage, valid for the whole program. */
EST_API const est_kernels *est_blas_kernels(void);

/* 1 when OpenBLAS runs kernels for an older core than this CPU supports (an AVX-512F CPU with a
 * core other than SkylakeX/Cooperlake/SapphireRapids, or an AVX2 CPU with an SSE-era core such as
 * Prescott, Core2, Penryn, Nehalem or Atom); the advice, naming the core, the CPU feature and the
 * OPENBLAS_CORETYPE value to set, is then written to buf (size bytes, NUL-terminated; buf may be
 * NULL). 0 otherwise, and on compilers or architectures where the CPU cannot be queried. */
EST_API int est_blas_check_core(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* ESTIMATOR_BLAS_H */

#if defined(ESTIMATOR_BLAS_IMPLEMENTATION) && !defined(ESTIMATOR_BLAS_IMPLEMENTATION_INCLUDED)
#define ESTIMATOR_BLAS_IMPLEMENTATION_INCLUDED

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>

#if defined(__GNUC__) || defined(__clang__)
#define EST__BLAS_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define EST__BLAS_EXCHANGE(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#else
#define EST__BLAS_LOAD(p) (*(p))
static int est__blas_exchange(int *p, int v)
{
    int old = *p;
    *p = v;
    return old;
}
#define EST__BLAS_EXCHANGE(p, v) est__blas_exchange((p), (v))
#endif

/* The library has no mutable globals, but OpenBLAS's core is process-wide, so whether the core
 * warning was given is too. */
static int est__blas_core_warned;

static int est__blas_core_in(const char *core, const char *const *list)
{
    for (; *list; list++) {
        const char *a = core, *b = *list;
        while (*a && *b && (*a | 0x20) == (*b | 0x20)) a++, b++;
        if (!*a && !*b) return 1;
    }
    return 0;
}

EST_API int est_blas_check_core(char *buf, size_t size)
{
    static const char *const avx512_cores[] = {"skylakex", "cooperlake", "sapphirerapids", NULL};
    /* OpenBLAS's x86 targets from before AVX (its Prescott fallback among them) */
    static const char *const sse_cores[] = {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
                                            "katmai", "coppermine", "northwood", "banias", "athlon",
                                            "opteron", "opteron_sse3", "barcelona", "bobcat", "nano",
                                            "sse_generic", "generic", NULL};
    const char *core = openblas_get_corename();
    const char *feature = NULL, *fix = NULL;
    int avx512 = 0, avx2 = 0;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    avx512 = __builtin_cpu_supports("avx512f") != 0;
    avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
    if (buf && size > 0) buf[0] = 0;
    if (!core) return 0;
    if (avx512 && !est__blas_core_in(core, avx512_cores)) {
        feature = "AVX-512F";
        fix = "SkylakeX";
    } else if (!avx512 && avx2 && est__blas_core_in(core, sse_cores)) {
        feature = "AVX2";
        fix = "Haswell";
    }
    if (!feature) return 0;
    if (buf && size > 0)
        snprintf(buf, size,
                 "OpenBLAS uses its '%s' kernels but this CPU supports %s: matrix products run several "
                 "times slower than they could. Fix: start the program with OPENBLAS_CORETYPE=%s in its "
                 "environment (OpenBLAS reads it when it is loaded; setting it from inside the program is too "
                 "late)", core, feature, fix);
    return 1;
}

static void est__blas_call(const est_sgemm_args *g, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    const float *a = g->a + (g->trans_a ? i0 : i0 * g->lda);
    const float *b = g->b + (g->trans_b ? j0 * g->ldb : j0);
    /* BLAS rejects leading dimensions below 1 even where nothing is read (k == 0). */
    cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                (int)(i1 - i0), (int)(j1 - j0), (int)g->k, g->alpha, a, g->lda < 1 ? 1 : (int)g->lda, b,
                g->ldb < 1 ? 1 : (int)g->ldb, g->beta, g->c + i0 * g->ldc + j0, (int)g->ldc);
}

typedef struct est__blas_split {
    const est_sgemm_args *g;
    int64_t per;
    int by_rows;
} est__blas_split;

static void est__blas_task(void *ctx, int64_t t, int thread)
{
    const est__blas_split *s = (const est__blas_split *)ctx;
    int64_t lo = t * s->per, hi = lo + s->per;
    (void)thread;
    if (s->by_rows)
        est__blas_call(s->g, lo, hi < s->g->m ? hi : s->g->m, 0, s->g->n);
    else
        est__blas_call(s->g, 0, s->g->m, lo, hi < s->g->n ? hi : s->g->n);
}

/* cblas takes int sizes: larger products fall back to the built-in kernel, which takes int64_t. */
static void est__blas_sgemm(void *user_data, const est_sgemm_args *g)
{
    int nt = g->num_threads > 0 ? g->num_threads : g->pool ? est_threadpool_size(g->pool) : 1;
    (void)user_data;
    if (g->m <= 0 || g->n <= 0) return;
    if (g->m > INT_MAX || g->n > INT_MAX || g->k > INT_MAX || g->lda > INT_MAX ||
        g->ldb > INT_MAX || g->ldc > INT_MAX) {
        est_sgemm(g->pool, g);
        return;
    }
    /* the pool supplies the threads (see the header comment) */
    if (g->pool && openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    /* Split big products over the pool along the longer side of C, two blocks per thread for
     * balance, 16 rows / columns at least: each block packs its own share of the other operand
     * again, so a batch of 100 against a 3136 x 1024 weight is split by columns (by rows, each
     * block re-packed the whole weight: 1.6x slower). */
    if (nt > 1 && 2.0 * (double)g->m * (double)g->n * (double)g->k >= 2e6) {
        est__blas_split s;
        int64_t parts = 2 * (int64_t)nt, len;
        s.g = g;
        s.by_rows = g->m >= g->n;
        len = s.by_rows ? g->m : g->n;
        s.per = (len + parts - 1) / parts;
        if (s.per < 16) s.per = 16;
        if (len > s.per) {
            est_parallel_for(g->pool, (len + s.per - 1) / s.per, est__blas_task, &s);
            return;
        }
    }
    est__blas_call(g, 0, g->m, 0, g->n);
}

EST_API const est_kernels *est_blas_kernels(void)
{
    /* Positional initialiser: designated ones are not C++11. */
    static const est_kernels k = {est__blas_sgemm, NULL, "openblas"};
    if (!EST__BLAS_LOAD(&est__blas_core_warned) && EST__BLAS_EXCHANGE(&est__blas_core_warned, 1) == 0) {
        char msg[512];
        if (est_blas_check_core(msg, sizeof msg)) est_logf(NULL, EST_LOG_LEVEL_WARN, "%s", msg);
        /* Now, before any plan runs: the pool's threads call cblas_sgemm concurrently, and
         * setting the count from two of them at once would race. */
        openblas_set_num_threads(1);
    }
    return &k;
}

#endif /* ESTIMATOR_BLAS_IMPLEMENTATION */
