/* estimator_blas.h compiles with both implementations in one file and its GEMM agrees with the
 * built-in one within float tolerance, for all transpose combinations, on the calling thread and
 * split over a 2-thread pool by rows and by columns (OpenBLAS is then set to one thread of its own;
 * a call without a pool leaves its count alone); the misdetected-core warning is logged once
 * when OPENBLAS_CORETYPE=Prescott is forced on an AVX2 / AVX-512 CPU and not with the right core
 * (this program runs itself as a child with each environment: OpenBLAS reads the variable only
 * when it is loaded; Debian's OpenBLAS is DYNAMIC_ARCH, so it is honoured). A convolution and its
 * two gradients, big enough that the pool's threads each run whole chunks (so they call
 * cblas_sgemm concurrently), agree with the built-in kernels too. */
#define ESTIMATOR_IMPLEMENTATION
#define ESTIMATOR_BLAS_IMPLEMENTATION
#include "../../estimator_blas.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define WARNING_MARK "Fix: start the program with OPENBLAS_CORETYPE="

/* Runs argv0 as a child with OPENBLAS_CORETYPE=core; returns how many times its output (stdout
 * and stderr) contains the warning, -1 when it cannot be run or fails. */
static int child_warnings(const char *argv0, const char *core)
{
    char cmd[2048], line[2048];
    FILE *f;
    int n = 0, ok = 0;
    snprintf(cmd, sizeof cmd, "OPENBLAS_CORETYPE=%s BLAS_CHECK_CHILD=1 '%s' 2>&1", core, argv0);
    if (!(f = popen(cmd, "r"))) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, WARNING_MARK)) {
            n++;
            printf("  child (%s): %s", core, line);
        }
        if (strstr(line, "child done")) ok = 1;
    }
    if (pclose(f) != 0 || !ok) return -1;
    return n;
}

/* Conv2D (3x3 SAME) and both gradients at 2 threads with `kernels`; the fetched values concatenated
 * into out (n floats). */
static int run_conv(est_threadpool *pool, const est_kernels *kernels, float *out, int64_t n)
{
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_conv2d_args ca;
    est_tensor *tv[3] = {NULL, NULL, NULL}, res[3];
    est_node *ph[3], *c, *xs[2], *gr[2], *fetch[3];
    est_feed f[3];
    est_shape shp[3];
    int64_t i, j, off = 0;
    int rc = 1;
    shp[0] = est_shape4(16, 20, 20, 32);
    shp[1] = est_shape4(3, 3, 32, 16);
    shp[2] = est_shape4(16, 20, 20, 16);
    if (est_graph_new(NULL, &g) != EST_OK) return 1;
    for (i = 0; i < 3; i++) {
        if (est_tensor_new(EST_DTYPE_F32, shp[i], &tv[i]) != EST_OK) goto done;
        for (j = 0; j < est_shape_numel(&shp[i]); j++)
            est_tensor_f32(tv[i])[j] = (float)(((j + 7 * i) * 37) % 23) / 23.0f - 0.5f;
        ph[i] = est_placeholder(g, i == 0 ? "x" : i == 1 ? "w" : "dy", EST_DTYPE_F32, shp[i]);
        f[i].node = ph[i];
        f[i].value = tv[i];
    }
    memset(&ca, 0, sizeof ca);
    ca.padding = EST_PADDING_SAME;
    c = est_conv2d(g, ph[0], ph[1], &ca);
    xs[0] = ph[0];
    xs[1] = ph[1];
    if (est_gradients(g, c, xs, 2, ph[2], gr) != EST_OK) goto done;
    fetch[0] = c;
    fetch[1] = gr[0];
    fetch[2] = gr[1];
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 3;
    pd.pool = pool;
    pd.kernels = kernels;
    if (est_plan_new(g, &pd, &p) != EST_OK || est_plan_run(p, f, 3, res) != EST_OK) goto done;
    for (i = 0; i < 3; i++) {
        int64_t m = (int64_t)(res[i].nbytes / sizeof(float));
        if (off + m > n) goto done;
        memcpy(out + off, res[i].data, res[i].nbytes);
        off += m;
    }
    rc = off == n ? 0 : 1;
done:
    if (rc) fprintf(stderr, "conv: %s\n", est_last_error());
    est_plan_free(p);
    est_graph_free(g);
    for (i = 0; i < 3; i++) est_tensor_free(tv[i]);
    return rc;
}

int main(int argc, char **argv)
{
    enum { MAXE = 300 * 500 };
    static const int shapes[3][3] = {{37, 29, 53}, {300, 200, 100}, {20, 500, 300}};
    static float a[MAXE], b[MAXE], c1[MAXE], c2[MAXE];
    const est_kernels *kb;
    est_threadpool *pool = NULL;
    est_threadpool_desc td;
    int i, ta, tb, sh, bad = 0, avx2 = 0, avx512 = 0;
    char msg[512];
    (void)argc;
    if (getenv("BLAS_CHECK_CHILD")) { /* asked twice: the warning must come once */
        est_blas_kernels();
        est_blas_kernels();
        printf("child done: core %s\n", openblas_get_corename());
        return 0;
    }
    kb = est_blas_kernels();
    for (i = 0; i < MAXE; i++) a[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
    for (i = 0; i < MAXE; i++) b[i] = (float)((i * 11) % 13) / 13.0f - 0.5f;
    if (!kb || !kb->sgemm) return fprintf(stderr, "no BLAS kernels\n"), 1;
    memset(&td, 0, sizeof td);
    td.num_threads = 2;
    if (est_threadpool_new(&td, &pool) != EST_OK) return fprintf(stderr, "%s\n", est_last_error()), 1;
    for (sh = 0; sh < 3; sh++)
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                int M = shapes[sh][0], N = shapes[sh][1], K = shapes[sh][2];
                est_sgemm_args g;
                memset(&g, 0, sizeof g);
                g.trans_a = ta;
                g.trans_b = tb;
                g.m = M;
                g.n = N;
                g.k = K;
                g.alpha = 1.0f;
                g.a = a;
                g.lda = ta ? M : K;
                g.b = b;
                g.ldb = tb ? K : N;
                g.c = c1;
                g.ldc = N;
                if (est_sgemm(NULL, &g) != EST_OK) return fprintf(stderr, "%s\n", est_last_error()), 1;
                g.c = c2;
                if (sh > 0) { /* as the executor passes them */
                    g.pool = pool;
                    g.num_threads = 2;
                }
                kb->sgemm(kb->user_data, &g);
                if (sh > 0 && openblas_get_num_threads() != 1) {
                    fprintf(stderr, "with a pool, OpenBLAS runs %d threads of its own\n", openblas_get_num_threads());
                    bad++;
                }
                for (i = 0; i < M * N; i++)
                    if (fabsf(c1[i] - c2[i]) > 1e-4f * (1.0f + fabsf(c1[i]))) {
                        if (bad < 5) fprintf(stderr, "shape %d ta %d tb %d: c[%d] %g vs %g\n", sh, ta, tb, i, c2[i], c1[i]);
                        bad++;
                    }
            }
    { /* no pool (a direct call): OpenBLAS's count is left alone */
        est_sgemm_args g;
        memset(&g, 0, sizeof g);
        g.m = g.n = g.k = 2;
        g.alpha = 1.0f;
        g.a = a;
        g.b = b;
        g.c = c2;
        g.lda = g.ldb = g.ldc = 2;
        openblas_set_num_threads(2);
        kb->sgemm(kb->user_data, &g);
        if (openblas_get_num_threads() != 2) bad++;
    }
    { /* the convolution, concurrent single-thread calls from the pool's chunk tasks */
        enum { CONV_N = 16 * 20 * 20 * 16 + 16 * 20 * 20 * 32 + 3 * 3 * 32 * 16 };
        static float r1[CONV_N], r2[CONV_N];
        int conv_bad = 0, which;
        est__cgeom gm; /* run_conv's geometry: every product must take the one-chunk-per-thread path */
        memset(&gm, 0, sizeof gm);
        gm.n = 16, gm.h = gm.w = gm.oh = gm.ow = 20, gm.c = 32, gm.kh = gm.kw = 3, gm.m = gm.oc = 16;
        gm.sh = gm.sw = gm.dh = gm.dw = 1, gm.pt = gm.pl = 1;
        for (which = EST__CONV_FWD; which <= EST__CONV_BFILT; which++) {
            est__cplan cp;
            est__conv_cplan(&gm, which, 2, &cp);
            if (!cp.par) fprintf(stderr, "conv product %d does not run chunks per thread\n", which), bad++;
        }
        if (run_conv(pool, NULL, r1, CONV_N) || run_conv(pool, kb, r2, CONV_N)) bad++;
        for (i = 0; i < CONV_N; i++)
            if (fabsf(r1[i] - r2[i]) > 1e-3f * (1.0f + fabsf(r1[i]))) {
                if (conv_bad < 5) fprintf(stderr, "conv: value %d %g vs %g\n", i, r2[i], r1[i]);
                conv_bad++;
            }
        printf("conv + gradients, 2 threads: %d mismatches\n", conv_bad);
        bad += conv_bad;
    }
    est_threadpool_free(pool);
    printf("%s vs builtin: %d mismatches; OpenBLAS core %s\n", kb->name, bad, openblas_get_corename());
    if (est_blas_check_core(msg, sizeof msg)) printf("  core check: %s\n", msg);

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    avx512 = __builtin_cpu_supports("avx512f") != 0;
    avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
    if (avx2 || avx512) {
        const char *right = avx512 ? "SkylakeX" : "Haswell";
        int wrong_n = child_warnings(argv[0], "Prescott"), right_n = child_warnings(argv[0], right);
        printf("misdetected-core warning: %d with OPENBLAS_CORETYPE=Prescott, %d with %s\n", wrong_n, right_n, right);
        if (wrong_n != 1 || right_n != 0) {
            fprintf(stderr, "expected the warning exactly once with Prescott and never with %s\n", right);
            bad++;
        }
    } else
        printf("misdetected-core warning: not checked (no AVX2 on this CPU, or not x86 gcc/clang)\n");
    return bad != 0;
}
