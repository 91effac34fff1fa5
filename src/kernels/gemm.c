/* >>kernels/gemm: the built-in single-precision GEMM. GotoBLAS/BLIS structure in portable C:
 * op(B) is packed in KC x NC blocks (kept in L2), op(A) in MR x KC micro-panels (kept in L1), and
 * a register-blocked MR x NR micro-kernel written with GCC/Clang vector extensions does the
 * arithmetic. Threads split C into a tiling of M and N that depends only on (m, n, k); K is never
 * split, so every element is summed in the same order whatever the thread count. */

/* ISO modes (-std=c99, -std=c++11) make GCC default to -ffp-contract=off, which would halve the
 * throughput of the micro-kernel (separate mul and add). Ask for fused multiply-add here only;
 * the bits still never depend on the thread count because every tile runs the same code. Clang
 * contracts `x + y * z` within one expression by default, which is all the kernel needs. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif

#if (defined(__GNUC__) || defined(__clang__)) && !defined(EST_GEMM_NO_VECTOR)
#  define EST__GEMM_VEC 1
#  if defined(__AVX512F__)
#    define EST__GEMM_VW 16
#  elif defined(__AVX__) || defined(__AVX2__)
#    define EST__GEMM_VW 8
#  else
#    define EST__GEMM_VW 4
#  endif
/* Two vectors per row of the C tile. MR rows: with 32 vector registers (AVX-512) 12 x 2
 * accumulators leave room for the B vectors and a broadcast; with 16 registers, 6 x 2. */
#  if EST__GEMM_VW == 16
#    define EST__GEMM_MR 12
#  else
#    define EST__GEMM_MR 6
#  endif
#  define EST__GEMM_NR (2 * EST__GEMM_VW)
#else
#  define EST__GEMM_VEC 0
#  define EST__GEMM_MR 4
#  define EST__GEMM_NR 8
#endif

/* KC x NC floats of packed B stay in the per-core L2 (384 x 512 x 4 = 768 KB); an MR x KC
 * micro-panel of A (18 KB) stays in L1 while it sweeps the whole B block. 384 rather than 256:
 * fewer passes over C per product (a 5x5x32 convolution's K = 800 is 3 blocks, not 4), 3% more
 * training steps per second on the seed CNN, the same at 1024^3. */
#ifndef EST_GEMM_KC
#  define EST_GEMM_KC 384
#endif
/* Row stride of a "rows" A-panel: KC plus one cache line, so the MR rows fall in different L1
 * sets. */
#define EST__GEMM_KCS (EST_GEMM_KC + 16)
#ifndef EST_GEMM_NC
#  define EST_GEMM_NC 512
#endif
/* About this many tasks per product that may be split between threads (see est__gemm_make_plan):
 * a compromise between keeping 2-4 threads busy and re-packing B per task. The tiling never
 * changes the bits, so a product on one thread uses a single task instead. */
#ifndef EST_GEMM_TASKS
#  define EST_GEMM_TASKS 4
#endif
/* Below this many flops a product runs on the calling thread: waking workers costs more. */
#ifndef EST_GEMM_PARALLEL_FLOPS
#  define EST_GEMM_PARALLEL_FLOPS 4000000.0
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define EST__GEMM_PREFETCH(p) __builtin_prefetch(p)
#else
#  define EST__GEMM_PREFETCH(p) ((void)0)
#endif

#define EST__GEMM_ALIGN(x) (((x) + (size_t)63) & ~(size_t)63)

#if EST__GEMM_VEC

typedef float est__vf __attribute__((vector_size(EST__GEMM_VW * 4)));
/* The same vector, but only float-aligned and allowed to alias float arrays: unaligned loads and
 * stores without memcpy (which made GCC bounce B vectors through the stack). */
typedef float est__vfu __attribute__((vector_size(EST__GEMM_VW * 4), aligned(4), may_alias));

EST_PRIVATE est__vf est__gemm_vload(const float *p) { return *(const est__vfu *)p; }
EST_PRIVATE void est__gemm_vstore(float *p, est__vf v) { *(est__vfu *)p = v; }
EST_PRIVATE est__vf est__gemm_vsplat(float x)
{
    float t[EST__GEMM_VW];
    est__vf v;
    int i;
    for (i = 0; i < EST__GEMM_VW; i++) t[i] = x;
    memcpy(&v, t, sizeof v);
    return v;
}

#  if EST__GEMM_MR == 12
#    define EST__GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#  else
#    define EST__GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#  endif

/* c[MR x NR] = alpha * (a-panel x b-panel) + beta * c, or without reading c when !load_c (beta
 * == 0 on the first K block, so NaN garbage in C never leaks in). b is [kc][NR]; element (i, p)
 * of the a-panel is a[i * rs + p * ps]. Accumulators are named variables, not an array, so they
 * surely live in registers; always_inline with constant rs, ps turns every A access into a
 * broadcast from a fixed offset. */
static __attribute__((always_inline)) inline void
est__gemm_micro_core(const int rows, int64_t kc, const float *a, const int64_t rs, const int64_t ps,
                     const float *b, float *c, int64_t ldc, float alpha, float beta, int load_c)
{
    int64_t p;
    est__vf va, vb;
#  define EST__DECL(i) est__vf c##i##_0 = est__gemm_vsplat(0.0f), c##i##_1 = c##i##_0;
    EST__GEMM_ROWS(EST__DECL)
#  undef EST__DECL
    for (p = 0; p < kc; p++) {
        est__vf b0 = est__gemm_vload(b), b1 = est__gemm_vload(b + EST__GEMM_VW);
#  define EST__FMA(i)                                                                              \
    if ((i) < rows) {                                                                              \
        c##i##_0 += b0 * a[(i) * rs];                                                              \
        c##i##_1 += b1 * a[(i) * rs];                                                              \
    }
        EST__GEMM_ROWS(EST__FMA)
#  undef EST__FMA
        a += ps;
        b += EST__GEMM_NR;
    }
    va = est__gemm_vsplat(alpha);
    vb = est__gemm_vsplat(beta);
    if (load_c) {
#  define EST__OUT(i)                                                                              \
    if ((i) < rows) {                                                                              \
        est__gemm_vstore(c + (i) * ldc, c##i##_0 * va + est__gemm_vload(c + (i) * ldc) * vb);     \
        est__gemm_vstore(c + (i) * ldc + EST__GEMM_VW,                                             \
                         c##i##_1 * va + est__gemm_vload(c + (i) * ldc + EST__GEMM_VW) * vb);      \
    }
        EST__GEMM_ROWS(EST__OUT)
#  undef EST__OUT
    } else {
#  define EST__OUT(i)                                                                              \
    if ((i) < rows) {                                                                              \
        est__gemm_vstore(c + (i) * ldc, c##i##_0 * va);                                            \
        est__gemm_vstore(c + (i) * ldc + EST__GEMM_VW, c##i##_1 * va);                             \
    }
        EST__GEMM_ROWS(EST__OUT)
#  undef EST__OUT
    }
}

/* A-panel layouts: "rows" is [MR][KCS] (a plain copy of rows of A, used when A is stored m x k),
 * "cols" is [kc][MR] (a plain copy when A is stored k x m). Neither needs a transpose.
 * `rows` (MR, 2/3 MR or 1/3 MR) lets a short last panel (M = 100 or 64 with MR = 12) skip the
 * rows that would be thrown away; each element's arithmetic is the same in every variant. */
EST_PRIVATE void est__gemm_micro(int a_rows, int rows, int64_t kc, const float *a, const float *b,
                            float *c, int64_t ldc, float alpha, float beta, int load_c)
{
    const int r1 = EST__GEMM_MR / 3, r2 = 2 * (EST__GEMM_MR / 3);
    if (a_rows) {
        if (rows == EST__GEMM_MR)
            est__gemm_micro_core(EST__GEMM_MR, kc, a, EST__GEMM_KCS, 1, b, c, ldc, alpha, beta,
                                 load_c);
        else if (rows == r2)
            est__gemm_micro_core(r2, kc, a, EST__GEMM_KCS, 1, b, c, ldc, alpha, beta, load_c);
        else
            est__gemm_micro_core(r1, kc, a, EST__GEMM_KCS, 1, b, c, ldc, alpha, beta, load_c);
    } else {
        if (rows == EST__GEMM_MR)
            est__gemm_micro_core(EST__GEMM_MR, kc, a, 1, EST__GEMM_MR, b, c, ldc, alpha, beta,
                                 load_c);
        else if (rows == r2)
            est__gemm_micro_core(r2, kc, a, 1, EST__GEMM_MR, b, c, ldc, alpha, beta, load_c);
        else
            est__gemm_micro_core(r1, kc, a, 1, EST__GEMM_MR, b, c, ldc, alpha, beta, load_c);
    }
}

/* A read in place (rows of a stored m x k A, row stride lda) instead of from a packed panel:
 * a full MR-row (or exactly r1 / r2-row) tile of a matrix that is already in cache, such as a
 * convolution's im2col chunk. */
EST_PRIVATE void est__gemm_micro_inplace(int rows, int64_t kc, const float *a, int64_t lda, const float *b,
                                         float *c, int64_t ldc, float alpha, float beta, int load_c)
{
    const int r1 = EST__GEMM_MR / 3, r2 = 2 * (EST__GEMM_MR / 3);
    if (rows == EST__GEMM_MR)
        est__gemm_micro_core(EST__GEMM_MR, kc, a, lda, 1, b, c, ldc, alpha, beta, load_c);
    else if (rows == r2)
        est__gemm_micro_core(r2, kc, a, lda, 1, b, c, ldc, alpha, beta, load_c);
    else
        est__gemm_micro_core(r1, kc, a, lda, 1, b, c, ldc, alpha, beta, load_c);
}
#  define EST__GEMM_INPLACE 1

#else /* !EST__GEMM_VEC: plain loops for compilers without vector extensions */

EST_PRIVATE void est__gemm_micro(int a_rows, int rows, int64_t kc, const float *a, const float *b,
                            float *c, int64_t ldc, float alpha, float beta, int load_c)
{
    float acc[EST__GEMM_MR][EST__GEMM_NR];
    int64_t p, rs = a_rows ? EST__GEMM_KCS : 1, ps = a_rows ? 1 : EST__GEMM_MR;
    int i, j;
    memset(acc, 0, sizeof acc);
    for (p = 0; p < kc; p++) {
        for (i = 0; i < EST__GEMM_MR; i++)
            for (j = 0; j < EST__GEMM_NR; j++) acc[i][j] += a[i * rs] * b[j];
        a += ps;
        b += EST__GEMM_NR;
    }
    for (i = 0; i < rows; i++)
        for (j = 0; j < EST__GEMM_NR; j++)
            c[i * ldc + j] = load_c ? acc[i][j] * alpha + c[i * ldc + j] * beta : acc[i][j] * alpha;
}

#  define EST__GEMM_INPLACE 0
#endif

/* Pack op(A)[i0 .. i0+mr, p0 .. p0+kc] in the layout the micro-kernel reads for this storage
 * order (see est__gemm_micro), zero rows past mr (their results are discarded). */
EST_PRIVATE void est__gemm_pack_a(const est_sgemm_args *g, int64_t i0, int mr, int64_t p0, int64_t kc,
                             float *dst)
{
    int64_t p;
    int i;
    if (g->trans_a) { /* stored k x m: each k is a contiguous run of mr floats */
        const float *src = g->a + p0 * g->lda + i0;
        if (mr == EST__GEMM_MR) /* a fixed-size copy: vector moves, not a loop per float */
            for (p = 0; p < kc; p++, src += g->lda, dst += EST__GEMM_MR)
                memcpy(dst, src, sizeof(float) * EST__GEMM_MR);
        else
            for (p = 0; p < kc; p++, src += g->lda, dst += EST__GEMM_MR) {
                for (i = 0; i < mr; i++) dst[i] = src[i];
                for (; i < EST__GEMM_MR; i++) dst[i] = 0.0f;
            }
    } else { /* stored m x k: each row is a contiguous run of kc floats */
        const float *src = g->a + i0 * g->lda + p0;
        for (i = 0; i < mr; i++)
            memcpy(dst + i * EST__GEMM_KCS, src + i * g->lda, sizeof(float) * (size_t)kc);
        for (; i < EST__GEMM_MR; i++)
            memset(dst + i * EST__GEMM_KCS, 0, sizeof(float) * (size_t)kc);
    }
}

/* Pack op(B)[p0 .. p0+kc, j0 .. j0+nc] as consecutive [kc][NR] panels, zero columns past nc. */
EST_PRIVATE void est__gemm_pack_b(const est_sgemm_args *g, int64_t p0, int64_t kc, int64_t j0,
                             int64_t nc, float *dst)
{
    int64_t jr, p, full = nc / EST__GEMM_NR * EST__GEMM_NR;
    int j;
    if (!g->trans_b) {
        /* Stored k x n: walk each row of B once, front to back (one stream the prefetcher
         * follows), dealing NR-wide pieces out to the panels. */
        for (p = 0; p < kc; p++) {
            const float *src = g->b + (p0 + p) * g->ldb + j0;
            float *d = dst + p * EST__GEMM_NR;
            /* Rows are short and far apart, so the hardware prefetcher starts late on each;
             * ask for a row a few iterations ahead (a hint: past the end it is harmless). */
            if (p + 4 < kc)
                for (jr = 0; jr < nc; jr += 16) EST__GEMM_PREFETCH(src + 4 * g->ldb + jr);
            for (jr = 0; jr < full; jr += EST__GEMM_NR, d += kc * EST__GEMM_NR)
                memcpy(d, src + jr, sizeof(float) * EST__GEMM_NR);
            if (jr < nc) {
                for (j = 0; j < nc - jr; j++) d[j] = src[jr + j];
                for (; j < EST__GEMM_NR; j++) d[j] = 0.0f;
            }
        }
    } else {
        /* Stored n x k: a transpose. Each stored row's run of up to 64 k is scattered down a
         * panel column; the 64 panel rows touched (8 KB) stay in L1 for all NR columns. (Whole
         * panels at once thrashed L1, as a panel is as big as L1; gathering a panel row from NR
         * stored rows made those rows compete for one L1 set when their length is a multiple of
         * 1024 floats.) */
        for (jr = 0; jr < nc; jr += EST__GEMM_NR, dst += kc * EST__GEMM_NR) {
            int nr = (int)EST__MIN((int64_t)EST__GEMM_NR, nc - jr);
            const float *src = g->b + (j0 + jr) * g->ldb + p0;
            int64_t pb, pe;
            for (pb = 0; pb < kc; pb = pe) {
                pe = EST__MIN(pb + 64, kc);
                for (j = 0; j < nr; j++)
                    for (p = pb; p < pe; p++) dst[p * EST__GEMM_NR + j] = src[j * g->ldb + p];
                for (; j < EST__GEMM_NR; j++)
                    for (p = pb; p < pe; p++) dst[p * EST__GEMM_NR + j] = 0.0f;
            }
        }
    }
}

/* The fixed tiling of C into tasks, a function of (m, n, k) only. */
typedef struct est__gemm_plan {
    int64_t tm, tn;           /* task tile: multiples of MR and NR */
    int64_t tiles_m, tiles_n; /* task count is their product */
    int64_t kc_max;           /* K block, min(KC, k) */
    size_t b_floats;          /* packed B block per thread */
    size_t per_thread;        /* bytes of workspace per thread */
} est__gemm_plan;

/* Tiny products and thin ones (a row or column vector) gain nothing from packing. The choice
 * depends on sizes only, never on the thread count. */
EST_PRIVATE int est__gemm_direct(int64_t m, int64_t n, int64_t k)
{
    return m <= 2 || n <= 2 || (double)m * (double)n * (double)k <= 8192.0;
}

/* tasks: EST_GEMM_TASKS when the product may be split between threads; 1 for a product that
 * runs on one thread (a pool of one, or a kernel's own per-thread task): then B is packed once per
 * K block for all of M. The tiling never changes the bits (K is never split). */
EST_PRIVATE void est__gemm_make_plan(int64_t m, int64_t n, int64_t k, int64_t tasks, est__gemm_plan *pl)
{
    int64_t nt, mt, want;
    int64_t n_r = (n + EST__GEMM_NR - 1) / EST__GEMM_NR * EST__GEMM_NR;
    memset(pl, 0, sizeof *pl);
    /* N: as few tiles as fit NC, of equal width (rounded to NR). */
    nt = (n_r + EST_GEMM_NC - 1) / EST_GEMM_NC;
    if (nt < 1) nt = 1;
    pl->tn = ((n + nt - 1) / nt + EST__GEMM_NR - 1) / EST__GEMM_NR * EST__GEMM_NR;
    pl->tiles_n = (n + pl->tn - 1) / pl->tn;
    /* M: enough tiles for about EST_GEMM_TASKS tasks (load balance on small pools), but each at
     * least 16 micro-panels tall: every task packs its own B block, so thin tiles would re-read
     * B from memory too often (measured: 8 tasks cost ~4% against 2 at 1024^3 on one core). */
    want = (tasks + pl->tiles_n - 1) / pl->tiles_n;
    mt = (m + 16 * EST__GEMM_MR - 1) / (16 * EST__GEMM_MR);
    if (mt > want) mt = want;
    if (mt < 1) mt = 1;
    pl->tm = ((m + mt - 1) / mt + EST__GEMM_MR - 1) / EST__GEMM_MR * EST__GEMM_MR;
    pl->tiles_m = (m + pl->tm - 1) / pl->tm;
    /* Still too few tasks (short M, e.g. a batch of 100): cut N finer, down to 4 panels a tile.
     * That re-packs A per tile, which is a plain copy in the common layout. */
    if (pl->tiles_m * pl->tiles_n < tasks) {
        int64_t want_n = (tasks + pl->tiles_m - 1) / pl->tiles_m;
        int64_t tn = ((n + want_n - 1) / want_n + EST__GEMM_NR - 1) / EST__GEMM_NR * EST__GEMM_NR;
        if (tn < 4 * EST__GEMM_NR) tn = 4 * EST__GEMM_NR;
        if (tn < pl->tn) {
            pl->tn = tn;
            pl->tiles_n = (n + tn - 1) / tn;
        }
    }
    pl->kc_max = EST__MIN((int64_t)EST_GEMM_KC, EST__MAX(k, (int64_t)1));
    pl->b_floats = (size_t)pl->kc_max * (size_t)pl->tn;
    pl->per_thread = EST__GEMM_ALIGN(pl->b_floats * sizeof(float)) +
                     EST__GEMM_ALIGN((size_t)EST__GEMM_MR * EST__GEMM_KCS * sizeof(float)) +
                     EST__GEMM_ALIGN((size_t)EST__GEMM_MR * EST__GEMM_NR * sizeof(float));
}

EST_PRIVATE size_t est__sgemm_workspace(int64_t m, int64_t n, int64_t k, int nthreads)
{
    est__gemm_plan pl;
    if (m <= 0 || n <= 0 || k <= 0 || est__gemm_direct(m, n, k)) return 0;
    est__gemm_make_plan(m, n, k, nthreads > 1 ? EST_GEMM_TASKS : 1, &pl);
    return pl.per_thread * (size_t)EST__MAX(nthreads, 1);
}

typedef struct est__gemm_ctx {
    const est_sgemm_args *g;
    est__gemm_plan pl;
    char *work;
} est__gemm_ctx;

/* One task: the C tile [i0, i1) x [j0, j1), all of K, K blocks in ascending order. */
EST_PRIVATE void est__gemm_task(void *vctx, int64_t task, int thread)
{
    const est__gemm_ctx *x = (const est__gemm_ctx *)vctx;
    const est_sgemm_args *g = x->g;
    char *w = x->work + (size_t)thread * x->pl.per_thread;
    float *bp = (float *)w;
    float *ap = (float *)(w + EST__GEMM_ALIGN(x->pl.b_floats * sizeof(float)));
    float *tmp = ap + EST__GEMM_ALIGN((size_t)EST__GEMM_MR * EST__GEMM_KCS * sizeof(float)) /
                          sizeof(float);
    int64_t i0 = (task / x->pl.tiles_n) * x->pl.tm, j0 = (task % x->pl.tiles_n) * x->pl.tn;
    int64_t i1 = EST__MIN(i0 + x->pl.tm, g->m), j1 = EST__MIN(j0 + x->pl.tn, g->n);
    int64_t pc, ir, jr;
    int i, j;
    for (pc = 0; pc < g->k; pc += x->pl.kc_max) {
        int64_t kc = EST__MIN(x->pl.kc_max, g->k - pc);
        /* Later K blocks add onto C; only the first applies beta (and skips reading C if 0). */
        float beta = pc == 0 ? g->beta : 1.0f;
        int load_c = !(pc == 0 && g->beta == 0.0f);
        est__gemm_pack_b(g, pc, kc, j0, j1 - j0, bp);
        for (ir = i0; ir < i1; ir += EST__GEMM_MR) {
            int mr = (int)EST__MIN((int64_t)EST__GEMM_MR, i1 - ir);
            /* Rows the kernel computes: the smallest variant that covers mr. */
            int rows = mr <= EST__GEMM_MR / 3         ? EST__GEMM_MR / 3
                       : mr <= 2 * (EST__GEMM_MR / 3) ? 2 * (EST__GEMM_MR / 3)
                                                      : EST__GEMM_MR;
            const float *bq = bp;
            /* A in place when its rows spread over L1's sets (row stride not a multiple of
             * 256 bytes) and the tile has exactly the kernel's rows: no copy of the panel */
            int inplace = EST__GEMM_INPLACE && !g->trans_a && rows == mr && g->lda % 64 != 0;
            if (!inplace) est__gemm_pack_a(g, ir, mr, pc, kc, ap);
            for (jr = j0; jr < j1; jr += EST__GEMM_NR, bq += kc * EST__GEMM_NR) {
                int nr = (int)EST__MIN((int64_t)EST__GEMM_NR, j1 - jr);
                float *c = g->c + ir * g->ldc + jr;
                /* C is touched once per K block, long after it left the caches: start
                 * fetching the tile now so the kernel's epilogue does not wait for it. */
                for (i = 0; i < mr; i++) {
                    EST__GEMM_PREFETCH(c + i * g->ldc);
                    EST__GEMM_PREFETCH(c + i * g->ldc + nr - 1);
                }
                if (inplace && nr == EST__GEMM_NR) {
                    est__gemm_micro_inplace(rows, kc, g->a + ir * g->lda + pc, g->lda, bq, c, g->ldc,
                                            g->alpha, beta, load_c);
                } else if (rows == mr && nr == EST__GEMM_NR) {
                    est__gemm_micro(!g->trans_a, rows, kc, ap, bq, c, g->ldc, g->alpha, beta,
                                    load_c);
                } else {
                    /* Edge tile: the same kernel on a scratch tile, so edge elements get the
                     * same arithmetic as interior ones. */
                    if (inplace) {
                        est__gemm_pack_a(g, ir, mr, pc, kc, ap);
                        inplace = 0;
                    }
                    if (load_c)
                        for (i = 0; i < mr; i++)
                            for (j = 0; j < nr; j++) tmp[i * EST__GEMM_NR + j] = c[i * g->ldc + j];
                    est__gemm_micro(!g->trans_a, rows, kc, ap, bq, tmp, EST__GEMM_NR, g->alpha,
                                    beta, load_c);
                    for (i = 0; i < mr; i++)
                        for (j = 0; j < nr; j++) c[i * g->ldc + j] = tmp[i * EST__GEMM_NR + j];
                }
            }
        }
    }
}

#define EST__GEMM_DIRECT_PANEL 512
/* Unpacked path for tiny or thin products (batch-1 inference: a GEMV, where packing B would cost
 * more than the product). Rows of op(B) contiguous: axpy over rows of B with vector accumulators;
 * otherwise dot products. Columns [j0, j1); j0 is a multiple of NR, so every column gets the same
 * arithmetic however the columns are split between threads. */
EST_PRIVATE void est__gemm_direct_cols(const est_sgemm_args *g, int64_t j0, int64_t j1)
{
    int64_t i, j, p, jp, jn;
    int64_t sa_i = g->trans_a ? 1 : g->lda, sa_p = g->trans_a ? g->lda : 1;
    int64_t sb_p = g->trans_b ? 1 : g->ldb, sb_j = g->trans_b ? g->ldb : 1;
    float acc[EST__GEMM_DIRECT_PANEL];
    for (i = 0; i < g->m; i++) {
        const float *arow = g->a + i * sa_i;
        float *crow = g->c + i * g->ldc;
        if (!g->trans_b) {
            /* Stream B row by row (contiguous, what the prefetchers like) into a panel of
             * accumulators that stays in L1; each column still sums over p in order. */
            for (jp = j0; jp < j1; jp += jn) {
                jn = EST__MIN((int64_t)EST__GEMM_DIRECT_PANEL, j1 - jp);
                memset(acc, 0, sizeof(float) * (size_t)jn);
                for (p = 0; p < g->k; p++) {
                    const float *bp = g->b + p * g->ldb + jp;
                    float av = arow[p * sa_p];
                    for (j = 0; j < jn; j++) acc[j] += av * bp[j];
                }
                for (j = 0; j < jn; j++)
                    crow[jp + j] = g->beta == 0.0f ? g->alpha * acc[j] : g->alpha * acc[j] + g->beta * crow[jp + j];
            }
            continue;
        }
        for (j = j0; j < j1; j++) {
            const float *bcol = g->b + j * sb_j;
            float s = 0.0f;
            for (p = 0; p < g->k; p++) s += arow[p * sa_p] * bcol[p * sb_p];
            crow[j] = g->beta == 0.0f ? g->alpha * s : g->alpha * s + g->beta * crow[j];
        }
    }
}

/* The direct path splits the columns into one wide NR-aligned range per thread: B is streamed in
 * long contiguous runs, and since every column is computed by the same code whatever range it falls
 * in, the bits do not depend on the split (or on the thread count). */
typedef struct est__gemm_direct_ctx {
    const est_sgemm_args *g;
    int64_t per;
} est__gemm_direct_ctx;

static void est__gemm_direct_task(void *vctx, int64_t task, int thread)
{
    const est__gemm_direct_ctx *c = (const est__gemm_direct_ctx *)vctx;
    int64_t j0 = task * c->per;
    (void)thread;
    est__gemm_direct_cols(c->g, j0, EST__MIN(j0 + c->per, c->g->n));
}

EST_PRIVATE void est__gemm_direct_run(est_threadpool *pool, const est_sgemm_args *g)
{
    est__gemm_direct_ctx c;
    int64_t nt = est_threadpool_size(pool), tasks;
    if (nt > 1 && 2.0 * (double)g->m * (double)g->n * (double)g->k >= EST_GEMM_PARALLEL_FLOPS / 8) {
        c.g = g;
        c.per = ((g->n + nt - 1) / nt + EST__GEMM_NR - 1) / EST__GEMM_NR * EST__GEMM_NR;
        tasks = (g->n + c.per - 1) / c.per;
        if (tasks > 1) { /* the same columns on the same core every call: they stay in its L2 */
            est__parallel_for_static(pool, tasks, est__gemm_direct_task, &c);
            return;
        }
    }
    est__gemm_direct_cols(g, 0, g->n);
}

/* C = beta * C, for k == 0 (beta == 0 writes zeros without reading C). */
EST_PRIVATE void est__gemm_scale_c(const est_sgemm_args *g)
{
    int64_t i, j;
    for (i = 0; i < g->m; i++) {
        float *c = g->c + i * g->ldc;
        if (g->beta == 0.0f)
            memset(c, 0, sizeof(float) * (size_t)g->n);
        else
            for (j = 0; j < g->n; j++) c[j] *= g->beta;
    }
}

EST_PRIVATE void est__sgemm(est_threadpool *pool, const est_sgemm_args *g, void *work)
{
    est__gemm_ctx x;
    int64_t tasks, t;
    int one;
    if (g->m <= 0 || g->n <= 0) return;
    if (g->k <= 0) {
        est__gemm_scale_c(g);
        return;
    }
    if (est__gemm_direct(g->m, g->n, g->k)) {
        est__gemm_direct_run(pool, g);
        return;
    }
    EST_ASSERT(work && ((uintptr_t)work & 63) == 0);
    memset(&x, 0, sizeof x);
    x.g = g;
    x.work = (char *)work;
    one = !pool || est_threadpool_size(pool) == 1; /* the workspace was sized for this plan */
    est__gemm_make_plan(g->m, g->n, g->k, one ? 1 : EST_GEMM_TASKS, &x.pl);
    tasks = x.pl.tiles_m * x.pl.tiles_n;
    if (one || 2.0 * (double)g->m * (double)g->n * (double)g->k < EST_GEMM_PARALLEL_FLOPS) {
        for (t = 0; t < tasks; t++) est__gemm_task(&x, t, 0);
    } else {
        est_parallel_for(pool, tasks, est__gemm_task, &x);
    }
}

/* Only the tests call the reference; say so, or -Wunused-function fails every other build. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
EST_PRIVATE void est__sgemm_ref(const est_sgemm_args *g)
{
    int64_t i, j, p;
    for (i = 0; i < g->m; i++)
        for (j = 0; j < g->n; j++) {
            float s = 0.0f, *c = g->c + i * g->ldc + j;
            for (p = 0; p < g->k; p++) {
                float av = g->trans_a ? g->a[p * g->lda + i] : g->a[i * g->lda + p];
                float bv = g->trans_b ? g->b[j * g->ldb + p] : g->b[p * g->ldb + j];
                s += av * bv;
            }
            *c = g->beta == 0.0f ? g->alpha * s : g->alpha * s + g->beta * *c;
        }
}

EST_API est_status est_sgemm(est_threadpool *pool, const est_sgemm_args *g)
{
    size_t bytes;
    void *raw = NULL, *work = NULL;
    int64_t a_cols, b_cols;
    if (!g) return est__error(EST_ERR_INVALID_ARGUMENT, "est_sgemm: args is NULL");
    if ((g->trans_a != 0 && g->trans_a != 1) || (g->trans_b != 0 && g->trans_b != 1))
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_sgemm: trans flags must be 0 or 1");
    if (g->m < 0 || g->n < 0 || g->k < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_sgemm: negative size m=%lld n=%lld k=%lld",
                          (long long)g->m, (long long)g->n, (long long)g->k);
    a_cols = g->trans_a ? g->m : g->k;
    b_cols = g->trans_b ? g->k : g->n;
    if (g->lda < a_cols || g->ldb < b_cols || g->ldc < g->n)
        return est__error(EST_ERR_INVALID_ARGUMENT,
                          "est_sgemm: leading dimension too small (lda=%lld needs %lld, ldb=%lld "
                          "needs %lld, ldc=%lld needs %lld)",
                          (long long)g->lda, (long long)a_cols, (long long)g->ldb,
                          (long long)b_cols, (long long)g->ldc, (long long)g->n);
    if (g->m > 0 && g->n > 0 && !g->c)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_sgemm: c is NULL");
    if (g->m > 0 && g->n > 0 && g->k > 0 && (!g->a || !g->b))
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_sgemm: %s is NULL", g->a ? "b" : "a");
    bytes = est__sgemm_workspace(g->m, g->n, g->k, est_threadpool_size(pool));
    if (bytes) {
        raw = est__malloc(bytes + 63);
        if (!raw) return est__error(EST_ERR_OUT_OF_MEMORY, "est_sgemm: cannot allocate %lu bytes",
                                    (unsigned long)bytes);
        work = (void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    }
    est__sgemm(pool, g, work);
    est__free(raw);
    return EST_OK;
}

#undef EST__GEMM_ALIGN
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
