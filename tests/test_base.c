/* Tests of the base layer (status, errors, thread pool, arena, growable arrays, string map) and
 * of the test framework's own helpers. */

TEST(base_status_strings)
{
    CHECK(strcmp(est_status_string(EST_OK), "ok") == 0);
    CHECK(strcmp(est_status_string(EST_ERR_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(strcmp(est_status_string(EST_ERR_SHAPE), "incompatible shapes") == 0);
    CHECK(strcmp(est_status_string(EST_ERR_NAN_LOSS), "NaN loss during training") == 0);
    /* Codes outside the list still get text, never NULL. */
    CHECK(strcmp(est_status_string((est_status)12345), "unknown status") == 0);
    CHECK(EST_OK == 0 && EST_ERR_IO < 0 && EST_ERR_CHECKPOINT < EST_ERR_SHAPE);
}

TEST(base_last_error_set_by_failing_call)
{
    est_threadpool *pool = NULL;
    est_threadpool_desc bad = {-1};
    est_clear_error();
    CHECK(est_last_error()[0] == 0);
    CHECK_STATUS(est_threadpool_new(NULL, NULL), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "est_threadpool_new");
    est_clear_error();
    CHECK(est_last_error()[0] == 0);
    CHECK_STATUS(est_threadpool_new(&bad, &pool), EST_ERR_INVALID_ARGUMENT);
    CHECK(pool == NULL);
    CHECK_STR_CONTAINS(est_last_error(), "num_threads");
}

TEST(base_error_prefix_keeps_code_and_adds_context)
{
    est_status s = est__error(EST_ERR_SHAPE, "expected rank %d, got %d", 2, 3);
    CHECK(s == EST_ERR_SHAPE);
    s = est__error_prefix(s, "%s: ", "dense/MatMul");
    CHECK(s == EST_ERR_SHAPE);
    CHECK(strcmp(est_last_error(), "dense/MatMul: expected rank 2, got 3") == 0);
    est_clear_error();
}

typedef struct base_pf_ctx {
    int *count;     /* times each task ran */
    int *bad_index; /* set when a task saw a thread index out of range (or, static, not t % size) */
    int size, stat;
} base_pf_ctx;

static void base_pf_task(void *p, int64_t task, int thread)
{
    base_pf_ctx *c = (base_pf_ctx *)p;
    /* Each task owns its slot, so no synchronisation is needed to count. */
    c->count[task]++;
    if (thread < 0 || thread >= c->size || (c->stat && thread != (int)(task % c->size))) c->bad_index[task] = 1;
}

/* stat: est__parallel_for_static, where task t must run on thread t % size. */
static void base_check_parallel_for_mode(est_threadpool *pool, int64_t n, int stat)
{
    int64_t i, wrong = 0, bad = 0;
    base_pf_ctx c;
    c.count = (int *)calloc((size_t)n + 1, sizeof(int));
    c.bad_index = (int *)calloc((size_t)n + 1, sizeof(int));
    c.size = est_threadpool_size(pool);
    c.stat = stat;
    REQUIRE(c.count && c.bad_index);
    if (stat)
        est__parallel_for_static(pool, n, base_pf_task, &c);
    else
        est_parallel_for(pool, n, base_pf_task, &c);
    for (i = 0; i < n; i++) {
        wrong += c.count[i] != 1;
        bad += c.bad_index[i];
    }
    CHECK_MSG(wrong == 0, "%lld of %lld tasks did not run exactly once (pool size %d)",
              (long long)wrong, (long long)n, c.size);
    CHECK_MSG(bad == 0, "%lld tasks saw a thread index outside [0, %d)", (long long)bad, c.size);
    free(c.count);
    free(c.bad_index);
}

static void base_check_parallel_for(est_threadpool *pool, int64_t n)
{
    base_check_parallel_for_mode(pool, n, 0);
    base_check_parallel_for_mode(pool, n, 1);
}

TEST(base_parallel_for_runs_every_task_once)
{
    est_threadpool *pool = NULL;
    est_threadpool_desc desc = {2};
    int round;
    REQUIRE_OK(est_threadpool_new(&desc, &pool));
#ifdef EST_NO_THREADS
    CHECK(est_threadpool_size(pool) == 1);
#else
    CHECK(est_threadpool_size(pool) == 2);
#endif
    /* Several rounds on one pool: workers must wake for each job and not lose or repeat tasks. */
    for (round = 0; round < 20; round++) base_check_parallel_for(pool, 1 + round * 97);
    base_check_parallel_for(pool, 0);
    base_check_parallel_for(pool, 1);
    est_threadpool_free(pool);

    /* A NULL pool runs everything on the caller. */
    CHECK(est_threadpool_size(NULL) == 1);
    base_check_parallel_for(NULL, 1000);
}

TEST(base_num_cores_positive) { CHECK(est_num_cores() >= 1); }

TEST(base_strmap_put_get_overwrite_across_growth)
{
    enum { N = 2000 };
    static char keys[N][24];
    est__strmap m;
    int i, wrong = 0;
    memset(&m, 0, sizeof m);
    CHECK(est__strmap_get(&m, "absent") == NULL);
    for (i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "node_%d", i);
        CHECK_OK(est__strmap_put(&m, keys[i], (void *)(keys[i] + 1)));
    }
    CHECK(m.count == N);
    CHECK(m.cap >= 2 * N); /* the load stays under 1/2 */
    for (i = 0; i < N; i++) wrong += est__strmap_get(&m, keys[i]) != (void *)(keys[i] + 1);
    CHECK_MSG(wrong == 0, "%d of %d keys lost after growth", wrong, N);
    /* Overwrite every other key (looked up by an equal string, not the same pointer). */
    for (i = 0; i < N; i += 2) {
        char probe[24];
        snprintf(probe, sizeof probe, "node_%d", i);
        CHECK_OK(est__strmap_put(&m, keys[i], (void *)keys[i]));
        CHECK(est__strmap_get(&m, probe) == (void *)keys[i]);
    }
    CHECK(m.count == N);
    wrong = 0;
    for (i = 0; i < N; i++)
        wrong += est__strmap_get(&m, keys[i]) != (void *)(keys[i] + (i % 2 ? 1 : 0));
    CHECK(wrong == 0);
    CHECK(est__strmap_get(&m, "node_") == NULL);
    CHECK(est__strmap_get(&m, "node_2000") == NULL);
    est__strmap_free(&m);
    CHECK(m.count == 0 && m.cap == 0);
}

TEST(base_arena_aligned_zeroed_and_large)
{
    est__arena a;
    int i, misaligned = 0, dirty = 0;
    char *s, *big;
    memset(&a, 0, sizeof a);
    a.chunk_size = 1024;
    for (i = 1; i < 300; i++) {
        unsigned char *p = (unsigned char *)est__arena_alloc(&a, (size_t)i);
        int j;
        REQUIRE(p != NULL);
        misaligned += ((uintptr_t)p & 15) != 0;
        for (j = 0; j < i; j++) dirty += p[j] != 0;
        memset(p, 0xAB, (size_t)i); /* the next allocations must not see this */
    }
    CHECK(misaligned == 0);
    CHECK(dirty == 0);
    s = est__arena_strdup(&a, "dense_1/kernel");
    REQUIRE(s != NULL);
    CHECK(strcmp(s, "dense_1/kernel") == 0);
    /* Larger than a chunk: gets a chunk of its own. */
    big = (char *)est__arena_alloc(&a, 10000);
    REQUIRE(big != NULL);
    memset(big, 1, 10000);
    est__arena_free(&a);
    CHECK(a.head == NULL);
}

TEST(base_grow_doubles_and_keeps_contents)
{
    int *v = NULL;
    int64_t cap = 0, i;
    for (i = 0; i < 1000; i++) {
        REQUIRE_OK(est__grow((void **)&v, &cap, i + 1, sizeof *v));
        v[i] = (int)i;
    }
    CHECK(cap >= 1000);
    for (i = 0; i < 1000; i++) CHECK(v[i] == (int)i);
    free(v);
}

TEST(framework_rng_deterministic_in_range)
{
    float a[1000], b[1000];
    uint64_t s = 7;
    int i, out = 0;
    double mean = 0;
    test_fill_uniform(a, 1000, 42);
    test_fill_uniform(b, 1000, 42);
    CHECK_ALLCLOSE(a, b, 1000, 0, 0);
    for (i = 0; i < 1000; i++) {
        out += !(a[i] >= -1.0f && a[i] < 1.0f);
        mean += a[i];
    }
    CHECK(out == 0);
    CHECK_NEAR(mean / 1000, 0.0, 0.1);
    CHECK(test_rng_uniform(&s) != test_rng_uniform(&s));
}

TEST(framework_tmpdir_is_fresh_and_writable)
{
    const char *d1 = test_tmpdir(), *d2 = test_tmpdir();
    char path[256];
    FILE *f;
    CHECK(strcmp(d1, d2) != 0);
    CHECK(strncmp(d1, "/tmp/", 5) == 0);
    snprintf(path, sizeof path, "%s/x.txt", d1);
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("hello", f);
    fclose(f);
}
