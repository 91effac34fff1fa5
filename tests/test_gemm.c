/* tests/test_gemm.c -- the built-in GEMM against the naive reference: every transpose
 * combination, odd sizes that hit every edge-tile path, padded leading dimensions, alpha/beta
 * (including beta = 0 over NaN garbage), bit-identical results for 1 and 2 threads, and
 * est_sgemm's argument checks. */

/* A 64-bit LCG; the top 24 bits give floats in [-1, 1) exactly. */
static float gemm_test_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*s >> 40) * (1.0f / 8388608.0f) - 1.0f;
}

static void gemm_test_fill(float *p, int64_t n, uint64_t seed)
{
    int64_t i;
    uint64_t s = seed;
    for (i = 0; i < n; i++) p[i] = gemm_test_rand(&s);
}

/* Owns the operands of one product; A, B, C are stored with ld = cols + pad. */
typedef struct gemm_case {
    est_sgemm_args g;
    float *a, *b, *c, *c_ref;
    int64_t c_elems;
} gemm_case;

static int gemm_case_init(gemm_case *t, int ta, int tb, int64_t m, int64_t n, int64_t k,
                          int64_t pad, float alpha, float beta, uint64_t seed)
{
    int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    memset(t, 0, sizeof *t);
    t->g.trans_a = ta;
    t->g.trans_b = tb;
    t->g.m = m;
    t->g.n = n;
    t->g.k = k;
    t->g.alpha = alpha;
    t->g.beta = beta;
    t->g.lda = a_cols + pad;
    t->g.ldb = b_cols + pad;
    t->g.ldc = n + pad;
    t->c_elems = m * t->g.ldc;
    t->a = EST__ALLOC(float, a_rows * t->g.lda + 1);
    t->b = EST__ALLOC(float, b_rows * t->g.ldb + 1);
    t->c = EST__ALLOC(float, t->c_elems + 1);
    t->c_ref = EST__ALLOC(float, t->c_elems + 1);
    if (!t->a || !t->b || !t->c || !t->c_ref) return 0;
    gemm_test_fill(t->a, a_rows * t->g.lda + 1, seed);
    gemm_test_fill(t->b, b_rows * t->g.ldb + 1, seed + 1);
    if (beta == 0.0f) {
        /* beta == 0 must not read C: garbage NaNs would otherwise poison the result. */
        int64_t i;
        for (i = 0; i < t->c_elems + 1; i++) t->c[i] = NAN;
    } else {
        gemm_test_fill(t->c, t->c_elems + 1, seed + 2);
    }
    memcpy(t->c_ref, t->c, sizeof(float) * (size_t)(t->c_elems + 1));
    t->g.a = t->a;
    t->g.b = t->b;
    t->g.c = t->c;
    return 1;
}

static void gemm_case_free(gemm_case *t)
{
    est__free(t->a);
    est__free(t->b);
    est__free(t->c);
    est__free(t->c_ref);
}

/* Runs est__sgemm with an exactly sized, 64-byte aligned workspace. */
static void gemm_run_fast(est_threadpool *pool, const est_sgemm_args *g)
{
    size_t bytes = est__sgemm_workspace(g->m, g->n, g->k, est_threadpool_size(pool));
    char *raw = (char *)est__malloc(bytes + 64);
    void *work = (void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    est__sgemm(pool, g, work);
    est__free(raw);
}

/* Compares the fast result with the reference: max |err| <= 1e-4 (1 + max|ref|) sqrt(k), and
 * padding between rows of C (and the element past the end) left untouched. */
static void gemm_check_case(est_threadpool *pool, int ta, int tb, int64_t m, int64_t n,
                            int64_t k, int64_t pad, float alpha, float beta, uint64_t seed)
{
    gemm_case t;
    est_sgemm_args r;
    int64_t i, j;
    double max_err = 0.0, max_ref = 0.0, bound;
    int pad_ok = 1;
    if (!gemm_case_init(&t, ta, tb, m, n, k, pad, alpha, beta, seed)) {
        CHECK_MSG(0, "out of memory");
        gemm_case_free(&t);
        return;
    }
    gemm_run_fast(pool, &t.g);
    r = t.g;
    r.c = t.c_ref;
    est__sgemm_ref(&r);
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            double got = t.c[i * t.g.ldc + j], want = t.c_ref[i * t.g.ldc + j];
            double err = fabs(got - want);
            if (err != err) err = 1e30; /* NaN: always a failure */
            if (err > max_err) max_err = err;
            if (fabs(want) > max_ref) max_ref = fabs(want);
        }
        for (j = n; j < t.g.ldc; j++) {
            float x = t.c[i * t.g.ldc + j], y = t.c_ref[i * t.g.ldc + j];
            if (memcmp(&x, &y, sizeof x) != 0) pad_ok = 0;
        }
    }
    if (memcmp(&t.c[t.c_elems], &t.c_ref[t.c_elems], sizeof(float)) != 0) pad_ok = 0;
    bound = 1e-4 * (1.0 + max_ref) * sqrt((double)(k > 0 ? k : 1));
    CHECK_MSG(max_err <= bound,
              "sgemm ta=%d tb=%d m=%lld n=%lld k=%lld pad=%lld alpha=%g beta=%g: "
              "max err %.3g > %.3g",
              ta, tb, (long long)m, (long long)n, (long long)k, (long long)pad, (double)alpha,
              (double)beta, max_err, bound);
    CHECK_MSG(pad_ok, "sgemm ta=%d tb=%d m=%lld n=%lld k=%lld: wrote outside the m x n block", ta,
              tb, (long long)m, (long long)n, (long long)k);
    gemm_case_free(&t);
}

TEST(gemm_matches_reference_all_transposes)
{
    static const int64_t sizes[] = {1, 7, 33, 129, 257};
    int ta, tb, im, in, ik;
    uint64_t seed = 1;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++)
            for (im = 0; im < 5; im++)
                for (in = 0; in < 5; in++)
                    for (ik = 0; ik < 5; ik++) {
                        int64_t m = sizes[im], n = sizes[in], k = sizes[ik];
                        /* Keep the reference's triple loop cheap: skip the biggest cubes. */
                        if (m * n * k > 129 * 129 * 257) continue;
                        gemm_check_case(NULL, ta, tb, m, n, k, (int64_t)((im + in + ik) % 3) * 5,
                                        1.0f, 0.0f, seed++);
                    }
}

TEST(gemm_alpha_beta_and_padding)
{
    static const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.25f}, {1.0f, -1.0f},
                                  {0.0f, 3.0f}};
    int i, ta, tb;
    uint64_t seed = 1000;
    for (i = 0; i < (int)EST__COUNTOF(ab); i++)
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                gemm_check_case(NULL, ta, tb, 61, 75, 300, 3, ab[i][0], ab[i][1], seed++);
                gemm_check_case(NULL, ta, tb, 2, 5, 9, 1, ab[i][0], ab[i][1], seed++);
            }
}

/* K spanning several K blocks, M and N spanning several task tiles, with edges everywhere. */
TEST(gemm_large_multi_block)
{
    est_threadpool *pool = NULL;
    est_threadpool_desc d;
    memset(&d, 0, sizeof d);
    d.num_threads = 2;
    REQUIRE_OK(est_threadpool_new(&d, &pool));
    gemm_check_case(pool, 0, 0, 301, 1100, 700, 4, 1.0f, 0.0f, 77);
    gemm_check_case(pool, 1, 1, 259, 531, 555, 0, 0.75f, 0.5f, 78);
    gemm_check_case(pool, 1, 0, 1, 784, 512, 0, 1.0f, 0.0f, 79);
    gemm_check_case(pool, 0, 0, 1, 1000, 3136, 3, 1.0f, 0.5f, 84); /* batch-1 GEMV, split by columns */
    gemm_check_case(pool, 0, 0, 2, 1300, 600, 0, 0.5f, 0.0f, 85);
    gemm_check_case(pool, 0, 1, 100, 2, 784, 2, 1.0f, 1.0f, 80);
    /* Last row panels of 4 and 8 rows (MR = 12) take the shorter kernel variants. */
    gemm_check_case(pool, 0, 0, 64, 200, 300, 1, 1.0f, 0.5f, 81);
    gemm_check_case(pool, 1, 1, 100, 96, 260, 0, 1.0f, 0.0f, 82);
    gemm_check_case(pool, 1, 0, 20, 64, 33, 0, 1.0f, 0.0f, 83);
    est_threadpool_free(pool);
}

TEST(gemm_k_zero_and_empty)
{
    float c[6], nan_c[6];
    est_sgemm_args g;
    int i;
    memset(&g, 0, sizeof g);
    g.m = 2;
    g.n = 3;
    g.k = 0;
    g.lda = 1;
    g.ldb = 3;
    g.ldc = 3;
    g.c = c;
    g.alpha = 1.0f;
    /* k == 0: C = beta * C, or zeros without reading C when beta == 0. */
    for (i = 0; i < 6; i++) c[i] = (float)i;
    g.beta = 2.0f;
    CHECK_OK(est_sgemm(NULL, &g));
    for (i = 0; i < 6; i++) CHECK(c[i] == 2.0f * (float)i);
    for (i = 0; i < 6; i++) nan_c[i] = NAN;
    g.c = nan_c;
    g.beta = 0.0f;
    CHECK_OK(est_sgemm(NULL, &g));
    for (i = 0; i < 6; i++) CHECK(nan_c[i] == 0.0f);
    /* m or n == 0: nothing to do, NULL pointers allowed. */
    memset(&g, 0, sizeof g);
    g.m = 0;
    g.n = 4;
    g.k = 5;
    g.lda = 5;
    g.ldb = 4;
    g.ldc = 4;
    CHECK_OK(est_sgemm(NULL, &g));
    g.m = 3;
    g.n = 0;
    g.ldc = 0;
    g.ldb = 0;
    CHECK_OK(est_sgemm(NULL, &g));
}

/* The same product through a 1-thread and a 2-thread pool must agree to the bit. */
/* A read in place (row stride not a multiple of 64 floats, full MR / r1 / r2 tiles) gives the
 * bits of the packed path (the same product with the stride padded to a multiple of 64), for
 * tiles of 12, 8 and 4 rows, an N edge (the panel is packed after all), beta 0 and 1, several K
 * blocks; and both match the reference. */
TEST(gemm_a_in_place_same_bits_as_packed)
{
    static const int64_t shapes[][3] = {{36, 64, 800}, {44, 70, 300}, {40, 32, 900}, {29, 33, 100}};
    size_t si;
    int beta;
    for (si = 0; si < EST__COUNTOF(shapes); si++)
        for (beta = 0; beta < 2; beta++) {
            int64_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2], i, j;
            int64_t lda2 = (k + 63) / 64 * 64, lda1 = lda2 + 40; /* lda1 % 64 == 40: in place */
            float *a1 = (float *)malloc(sizeof(float) * (size_t)(m * lda1)),
                  *a2 = (float *)malloc(sizeof(float) * (size_t)(m * lda2)),
                  *b = (float *)malloc(sizeof(float) * (size_t)(k * n)),
                  *c1 = (float *)malloc(sizeof(float) * (size_t)(m * n)),
                  *c2 = (float *)malloc(sizeof(float) * (size_t)(m * n));
            est_sgemm_args g;
            uint64_t seed = 3 + si;
            REQUIRE(a1 && a2 && b && c1 && c2);
            gemm_test_fill(b, k * n, 5 + si);
            gemm_test_fill(c1, m * n, 9);
            memcpy(c2, c1, sizeof(float) * (size_t)(m * n));
            for (i = 0; i < m; i++)
                for (j = 0; j < k; j++) a1[i * lda1 + j] = a2[i * lda2 + j] = gemm_test_rand(&seed);
            memset(&g, 0, sizeof g);
            g.m = m, g.n = n, g.k = k, g.alpha = 1.0f, g.beta = (float)beta;
            g.b = b, g.ldb = n, g.ldc = n;
            g.a = a1, g.lda = lda1, g.c = c1;
            gemm_run_fast(NULL, &g);
            g.a = a2, g.lda = lda2, g.c = c2;
            gemm_run_fast(NULL, &g);
            CHECK_MSG(memcmp(c1, c2, sizeof(float) * (size_t)(m * n)) == 0, "shape %d beta %d", (int)si, beta);
            free(a1);
            free(a2);
            free(b);
            free(c1);
            free(c2);
            gemm_check_case(NULL, 0, 0, m, n, k, 40, 1.0f, (float)beta, 77 + si);
        }
}

TEST(gemm_bit_identical_across_thread_counts)
{
    /* the last three take the unpacked (batch-1) path, split by columns between threads */
    static const int64_t shapes[][3] = {{300, 1000, 700}, {1000, 64, 300}, {64, 1500, 800},
                                        {257, 257, 1025}, {1, 1024, 3136}, {2, 1000, 700},
                                        {1, 999, 900}};
    est_threadpool *p1 = NULL, *p2 = NULL;
    est_threadpool_desc d;
    int s, ta, tb;
    memset(&d, 0, sizeof d);
    d.num_threads = 1;
    REQUIRE_OK(est_threadpool_new(&d, &p1));
    d.num_threads = 2;
    if (est_threadpool_new(&d, &p2) != EST_OK) {
        est_threadpool_free(p1);
        REQUIRE(0);
    }
    for (s = 0; s < (int)EST__COUNTOF(shapes); s++)
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                gemm_case t;
                est_sgemm_args g2;
                int ok = gemm_case_init(&t, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], 1,
                                        0.5f, 0.25f, 500 + (uint64_t)s);
                if (ok) {
                    gemm_run_fast(p1, &t.g);
                    g2 = t.g;
                    g2.c = t.c_ref; /* same starting C */
                    gemm_run_fast(p2, &g2);
                    CHECK_MSG(memcmp(t.c, t.c_ref, sizeof(float) * (size_t)t.c_elems) == 0,
                              "1 vs 2 threads differ: m=%lld n=%lld k=%lld ta=%d tb=%d",
                              (long long)shapes[s][0], (long long)shapes[s][1],
                              (long long)shapes[s][2], ta, tb);
                } else {
                    CHECK_MSG(0, "out of memory");
                }
                gemm_case_free(&t);
            }
    est_threadpool_free(p1);
    est_threadpool_free(p2);
}

/* The public entry point gives the same answer as est__sgemm. */
TEST(gemm_public_matches_private)
{
    gemm_case t;
    est_sgemm_args g2;
    REQUIRE(gemm_case_init(&t, 0, 1, 70, 90, 130, 2, 1.5f, 0.0f, 42));
    CHECK_OK(est_sgemm(NULL, &t.g));
    g2 = t.g;
    g2.c = t.c_ref;
    gemm_run_fast(NULL, &g2);
    CHECK(memcmp(t.c, t.c_ref, sizeof(float) * (size_t)t.c_elems) == 0);
    gemm_case_free(&t);
}

TEST(gemm_rejects_bad_arguments)
{
    float a[12], b[12], c[12];
    est_sgemm_args g, bad;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(c, 0, sizeof c);
    memset(&g, 0, sizeof g);
    g.m = 3;
    g.n = 4;
    g.k = 2;
    g.alpha = 1.0f;
    g.a = a;
    g.lda = 2;
    g.b = b;
    g.ldb = 4;
    g.c = c;
    g.ldc = 4;
    CHECK_OK(est_sgemm(NULL, &g));
    CHECK_STATUS(est_sgemm(NULL, NULL), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.a = NULL;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.b = NULL;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.c = NULL;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.m = -1;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.k = -2;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.lda = 1; /* A is 3 x 2 */
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.trans_a = 1; /* stored 2 x 3 now: lda 2 < 3 */
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.ldb = 3;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.ldc = 3;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
    bad = g;
    bad.trans_b = 2;
    CHECK_STATUS(est_sgemm(NULL, &bad), EST_ERR_INVALID_ARGUMENT);
}
