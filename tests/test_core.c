/* Tests of the core: RNG, CRC, tensors, npy, files, graph naming and sticky errors, variable store,
 * plans (feeds, dynamic batch, memory reuse, zero allocation), autodiff plumbing, variable writes. */
#include "gradcheck.h"

TEST(core_philox_known_answer)
{
    /* Random123's published known-answer vectors for Philox4x32-10. */
    uint32_t key0[2] = {0, 0}, ctr0[4] = {0, 0, 0, 0}, out[4];
    uint32_t keyf[2] = {0xffffffffu, 0xffffffffu}, ctrf[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    uint32_t keyp[2] = {0xa4093822u, 0x299f31d0u}, ctrp[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    est_philox4x32(key0, ctr0, out);
    CHECK(out[0] == 0x6627e8d5u && out[1] == 0xe169c58du && out[2] == 0xbc57ac4cu && out[3] == 0x9b00dbd8u);
    est_philox4x32(keyf, ctrf, out);
    CHECK(out[0] == 0x408f276du && out[1] == 0x41c83b0eu && out[2] == 0xa20bc7c6u && out[3] == 0x6d5451fdu);
    est_philox4x32(keyp, ctrp, out);
    CHECK(out[0] == 0xd16cfe09u && out[1] == 0x94fdccebu && out[2] == 0x5001e420u && out[3] == 0x24126ea1u);
    CHECK(est_uniform_from_bits(0) == 0.0f);
    CHECK(est_uniform_from_bits(0xffffffffu) < 1.0f);
}

TEST(core_crc32c)
{
    uint32_t c = est_crc32c(0, "123456789", 9);
    CHECK(c == 0xE3069283u);
    /* incremental == one shot */
    CHECK(est_crc32c(est_crc32c(0, "1234", 4), "56789", 5) == c);
    CHECK(est_crc32c_unmask(est_crc32c_mask(c)) == c);
    CHECK(est_crc32c_mask(c) != c);
    /* RFC 3720 B.4: 32 bytes of zeros */
    {
        unsigned char z[32];
        memset(z, 0, sizeof z);
        CHECK(est_crc32c(0, z, 32) == 0x8A9136AAu);
    }
}

TEST(core_tensor_basics)
{
    est_tensor *t = NULL, *c = NULL, v;
    const char *strs[3] = {"a", "", "hello"};
    char buf[64];
    REQUIRE_OK(est_tensor_new(EST_DTYPE_I64, est_shape2(2, 3), &t));
    CHECK(est_tensor_numel(t) == 6);
    CHECK(t->nbytes == 48);
    CHECK(est_tensor_i64(t) != NULL && est_tensor_f32(t) == NULL);
    est_tensor_i64(t)[5] = -7;
    CHECK_OK(est_tensor_copy(t, &c));
    CHECK(c && est_tensor_get(c, 5) == -7.0);
    CHECK_OK(est_tensor_view(t, est_shape1(6), &v));
    CHECK(v.data == t->data && v.shape.rank == 1 && !(v.flags & EST_TENSOR_OWNED));
    CHECK_STATUS(est_tensor_view(t, est_shape1(5), &v), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "[2,3]");
    est_tensor_free(c);
    est_tensor_free(t);
    CHECK_STATUS(est_tensor_new(EST_DTYPE_F32, est_shape2(-1, 3), &t), EST_ERR_SHAPE);
    CHECK(t == NULL);
    CHECK_STATUS(est_tensor_new((est_dtype)99, est_shape1(1), &t), EST_ERR_DTYPE);
    REQUIRE_OK(est_tensor_from_strings(est_shape1(3), strs, &t));
    CHECK_OK(est_tensor_copy(t, &c));
    REQUIRE(c != NULL);
    CHECK(((est_string *)c->data)[2].size == 5 && memcmp(((est_string *)c->data)[2].data, "hello", 5) == 0);
    CHECK(((est_string *)c->data)[1].size == 0);
    est_tensor_free(t);
    est_tensor_free(c);
    CHECK(strcmp(est_shape_str(&v.shape, buf, sizeof buf), "[6]") == 0);
    CHECK(strcmp(est_dtype_name(EST_DTYPE_I32), "int32") == 0);
    CHECK(est_dtype_from_name("float64") == EST_DTYPE_F64);
    CHECK(est_dtype_from_name("nonsense") == EST_DTYPE_DEFAULT);
}

TEST(core_npy_roundtrip_and_errors)
{
    float data[6] = {1, -2, 3.5f, 4, 5, 6};
    est_tensor *t = NULL, *r = NULL;
    size_t size = 0;
    unsigned char *buf;
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(2, 3), data, &t));
    CHECK_OK(est_npy_serialize(t, NULL, 0, &size));
    buf = (unsigned char *)malloc(size);
    REQUIRE(buf != NULL);
    CHECK_OK(est_npy_serialize(t, buf, size, &size));
    CHECK(size % 64 == 24 || (size - 24) % 64 == 0); /* header padded to 64 bytes */
    CHECK_OK(est_npy_parse(buf, size, &r));
    REQUIRE(r != NULL);
    CHECK(r->dtype == EST_DTYPE_F32 && r->shape.rank == 2 && r->shape.dims[1] == 3);
    CHECK_ALLCLOSE((float *)r->data, data, 6, 0, 0);
    est_tensor_free(r);
    r = NULL;
    /* truncated data, bad magic, unknown dtype */
    CHECK_STATUS(est_npy_parse(buf, size - 1, &r), EST_ERR_TRUNCATED);
    CHECK(r == NULL);
    buf[1] = 'X';
    CHECK_STATUS(est_npy_parse(buf, size, &r), EST_ERR_FORMAT);
    buf[1] = 'N';
    memcpy(strstr((char *)buf + 10, "<f4"), "<c8", 3);
    CHECK_STATUS(est_npy_parse(buf, size, &r), EST_ERR_FORMAT);
    CHECK_STR_CONTAINS(est_last_error(), "<c8");
    CHECK_STATUS(est_npy_parse(buf, 5, &r), EST_ERR_FORMAT);
    free(buf);
    est_tensor_free(t);
}

TEST(core_files_atomic_write)
{
    char dir[256], path[300];
    void *data = NULL;
    size_t size = 0;
    snprintf(dir, sizeof dir, "%s/a/b/c", test_tmpdir());
    CHECK_OK(est_mkdirs(dir));
    CHECK_OK(est_mkdirs(dir)); /* existing is fine */
    CHECK(est_path_exists(dir));
    snprintf(path, sizeof path, "%s/f.bin", dir);
    CHECK_OK(est_write_file_atomic(path, "hello", 5));
    CHECK_OK(est_write_file_atomic(path, "world!", 6)); /* replaces */
    CHECK_OK(est_read_file(path, &data, &size));
    CHECK(size == 6 && data && memcmp(data, "world!", 6) == 0);
    est_free(data);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK_STATUS(est_read_file(path, &data, &size), EST_ERR_IO);
    CHECK_STR_CONTAINS(est_last_error(), "missing");
    snprintf(path, sizeof path, "%s/nodir/x", dir);
    CHECK_STATUS(est_write_file_atomic(path, "x", 1), EST_ERR_IO);
}

static void core__log_capture(void *user, est_log_level level, const char *msg)
{
    int *count = (int *)user;
    (void)msg;
    if (level >= EST_LOG_LEVEL_WARN) (*count)++;
}

TEST(core_logger_callback_and_levels)
{
    est_logger lg;
    int count = 0;
    memset(&lg, 0, sizeof lg);
    lg.func = core__log_capture;
    lg.user_data = &count;
    est_logf(&lg, EST_LOG_LEVEL_WARN, "warn %d", 1);
    est_logf(&lg, EST_LOG_LEVEL_DEBUG, "filtered out by the default INFO level");
    CHECK(count == 1);
    lg.min_level = EST_LOG_LEVEL_ERROR;
    est_logf(&lg, EST_LOG_LEVEL_WARN, "filtered");
    est_logf(&lg, EST_LOG_LEVEL_ERROR, "kept");
    CHECK(count == 2);
    CHECK(strcmp(est_status_string(EST_ERR_SHAPE), "incompatible shapes") == 0);
}

TEST(core_graph_names_and_scopes)
{
    est_graph *g;
    est_node *x, *a, *b, *c, *found = NULL;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 3));
    CHECK(strcmp(est_node_name(x), "x") == 0);
    CHECK(strcmp(est_name_scope_push(g, "dense"), "dense") == 0);
    a = est_identity(g, x);
    b = est_identity(g, x);
    est_name_scope_pop(g);
    CHECK(strcmp(est_name_scope_push(g, "dense"), "dense_1") == 0); /* TF's unique scope */
    c = est_set_name(est_identity(g, x), "out");
    est_name_scope_pop(g);
    CHECK(strcmp(est_node_name(a), "dense/Identity") == 0);
    CHECK(strcmp(est_node_name(b), "dense/Identity_1") == 0);
    CHECK(strcmp(est_node_name(c), "dense_1/out") == 0);
    CHECK(est_graph_find(g, "dense_1/out") == c);
    CHECK(est_graph_find(g, "nope") == NULL);
    CHECK_STATUS(est_graph_get(g, "conv1/Relu", &found), EST_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(est_last_error(), "conv1/Relu");
    CHECK(est_node_op(a) == EST_OP_IDENTITY);
    CHECK(strcmp(est_op_name(EST_OP_MATMUL), "MatMul") == 0);
    CHECK(est_op_from_name("MatMul") == EST_OP_MATMUL);
    CHECK(est_node_shape(a).dims[0] == -1 && est_node_shape(a).dims[1] == 3);
    est_graph_free(g);
}

TEST(core_op_table_consistent)
{
    int i;
    for (i = 1; i < EST_OP_COUNT; i++) {
        const est__op_def *d = est__op_get((est_op)i);
        CHECK_MSG(d && strcmp(d->name, est_op_name((est_op)i)) == 0, "op %d: def name %s vs list %s", i,
                  d ? d->name : "(null)", est_op_name((est_op)i));
        CHECK_MSG(est_op_from_name(est_op_name((est_op)i)) == (est_op)i, "op %s is not unique", est_op_name((est_op)i));
    }
}

TEST(core_sticky_build_error)
{
    est_graph *g;
    est_node *a, *b, *bad, *later;
    est_plan *p = NULL;
    est_plan_desc pd;
    REQUIRE_OK(est_graph_new(NULL, &g));
    a = est_placeholder(g, "a", EST_DTYPE_F32, est_shape2(-1, 3));
    b = est_placeholder(g, "b", EST_DTYPE_F32, est_shape2(4, 5));
    bad = est_matmul(g, a, b, NULL);
    CHECK(bad == NULL);
    CHECK(est_graph_status(g) == EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "MatMul");
    CHECK_STR_CONTAINS(est_graph_error(g), "[?,3]");
    CHECK_STR_CONTAINS(est_graph_error(g), "[4,5]");
    CHECK_STR_CONTAINS(est_graph_error(g), "'MatMul'"); /* the node's name */
    later = est_identity(g, bad); /* NULL input: propagates, keeps the first error */
    CHECK(later == NULL);
    CHECK_STR_CONTAINS(est_graph_error(g), "[4,5]");
    memset(&pd, 0, sizeof pd);
    pd.fetches = &a;
    pd.n_fetches = 1;
    CHECK_STATUS(est_plan_new(g, &pd, &p), EST_ERR_SHAPE);
    CHECK(p == NULL);
    est_graph_free(g);
    /* dtype error */
    REQUIRE_OK(est_graph_new(NULL, &g));
    a = est_placeholder(g, "i", EST_DTYPE_I32, est_shape2(2, 2));
    CHECK(est_matmul(g, a, a, NULL) == NULL);
    CHECK(est_graph_status(g) == EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "int32");
    est_graph_free(g);
    /* NULL graph is harmless */
    CHECK(est_identity(NULL, NULL) == NULL);
}

TEST(core_var_store)
{
    est_var_store *vs;
    est_variable_desc d;
    est_tensor *v = NULL, *init = NULL;
    const char *name = NULL;
    uint32_t flags = 0;
    float w[2] = {1, 2};
    REQUIRE_OK(est_var_store_new(NULL, &vs));
    memset(&d, 0, sizeof d);
    d.name = "conv1/kernel";
    d.shape = est_shape2(3, 4);
    CHECK_OK(est_var_store_create(vs, &d, &v));
    CHECK(v && v->dtype == EST_DTYPE_F32 && est_tensor_numel(v) == 12);
    d.shape = est_shape2(5, 4);
    CHECK_STATUS(est_var_store_create(vs, &d, NULL), EST_ERR_ALREADY_EXISTS);
    CHECK_STR_CONTAINS(est_last_error(), "conv1/kernel");
    CHECK_STR_CONTAINS(est_last_error(), "[3,4]");
    CHECK_STR_CONTAINS(est_last_error(), "[5,4]");
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape1(2), w, &init));
    d.name = "conv1/bias";
    d.shape = est_shape1(2);
    d.init = init;
    d.flags = EST_VAR_NOT_TRAINABLE;
    CHECK_OK(est_var_store_create(vs, &d, &v));
    CHECK(v && ((float *)v->data)[1] == 2.0f);
    d.name = "bad";
    d.shape = est_shape1(3);
    CHECK_STATUS(est_var_store_create(vs, &d, NULL), EST_ERR_SHAPE);
    CHECK(est_var_store_count(vs) == 2);
    CHECK_OK(est_var_store_at(vs, 1, &name, &v, &flags));
    CHECK(name && strcmp(name, "conv1/bias") == 0 && flags == EST_VAR_NOT_TRAINABLE);
    CHECK(est_var_store_find(vs, "conv1/kernel") != NULL);
    CHECK(est_var_store_find(vs, "nope") == NULL);
    CHECK_STATUS(est_var_store_at(vs, 2, &name, &v, &flags), EST_ERR_OUT_OF_RANGE);
    est_tensor_free(init);
    est_var_store_free(vs);
}

/* y = x @ W with a dynamic batch: runs with batch 4, 2 and 4 again. */
TEST(core_plan_feeds_and_dynamic_batch)
{
    est_graph *g;
    est_node *x, *w, *y;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_feed feed;
    est_variable_desc d;
    est_tensor *wv, *xv = NULL, *xi = NULL;
    est_tensor out = {0};
    float xs[12], want[8];
    int i, j, b;
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&d, 0, sizeof d);
    d.name = "w";
    d.shape = est_shape2(3, 2);
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &wv));
    for (i = 0; i < 6; i++) ((float *)wv->data)[i] = (float)(i + 1);
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 3));
    w = est_variable(g, "w");
    CHECK(est_variable(g, "w") == w);
    CHECK(est_variable(g, "missing") == NULL);
    CHECK(est_graph_status(g) == EST_ERR_NOT_FOUND);
    est_graph_free(g);

    REQUIRE_OK(est_graph_new(NULL, &g));
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &wv));
    for (i = 0; i < 6; i++) ((float *)wv->data)[i] = (float)(i + 1);
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 3));
    w = est_variable(g, "w");
    y = est_matmul(g, x, w, NULL);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    CHECK_STATUS(est_plan_run(p, NULL, 0, &out), EST_ERR_UNFED);
    CHECK_STR_CONTAINS(est_last_error(), "'x'");
    for (i = 0; i < 12; i++) xs[i] = (float)(i % 5) - 1.5f;
    for (b = 4; b >= 2; b -= 2) {
        REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(b, 3), xs, &xv));
        feed.node = x;
        feed.value = xv;
        CHECK_OK(est_plan_run(p, &feed, 1, &out));
        CHECK(out.shape.rank == 2 && out.shape.dims[0] == b && out.shape.dims[1] == 2);
        for (i = 0; i < b; i++)
            for (j = 0; j < 2; j++)
                want[i * 2 + j] = xs[i * 3] * (float)(1 + j) + xs[i * 3 + 1] * (float)(3 + j) + xs[i * 3 + 2] * (float)(5 + j);
        CHECK_ALLCLOSE((float *)out.data, want, b * 2, 1e-5, 1e-5);
        est_tensor_free(xv);
    }
    /* wrong dtype, wrong static dim, feeding a non-placeholder */
    REQUIRE_OK(est_tensor_new(EST_DTYPE_I32, est_shape2(2, 3), &xi));
    feed.value = xi;
    CHECK_STATUS(est_plan_run(p, &feed, 1, &out), EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_last_error(), "int32");
    est_tensor_free(xi);
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(2, 4), &xi));
    feed.value = xi;
    CHECK_STATUS(est_plan_run(p, &feed, 1, &out), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "[2,4]");
    CHECK_STR_CONTAINS(est_last_error(), "[?,3]");
    feed.node = w;
    CHECK_STATUS(est_plan_run(p, &feed, 1, &out), EST_ERR_INVALID_ARGUMENT);
    est_tensor_free(xi);
    est_plan_free(p);
    est_graph_free(g);
}

static est_node *core__build_chain(est_graph *g, est_node *x, int depth)
{
    int i;
    for (i = 0; i < depth; i++) {
        est_node *two[2];
        two[0] = x;
        two[1] = x;
        x = est_add_n(g, two, 2);
    }
    return x;
}

TEST(core_memory_plan_reuses_buffers)
{
    est_graph *g;
    est_node *x, *y;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_feed feed;
    est_tensor *xv;
    est_tensor out = {0};
    int64_t i;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape1(-1));
    y = core__build_chain(g, x, 20);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape1(1024), &xv));
    for (i = 0; i < 1024; i++) ((float *)xv->data)[i] = 1.0f;
    feed.node = x;
    feed.value = xv;
    CHECK_OK(est_plan_run(p, &feed, 1, &out));
    CHECK(((float *)out.data)[7] == 1048576.0f); /* 2^20 */
    /* 20 intermediate buffers of 4 KiB would be 80 KiB; reuse keeps two alive at a time. */
    CHECK_MSG(est_plan_memory_bytes(p) <= 3 * 4096, "plan holds %zu bytes", est_plan_memory_bytes(p));
    est_tensor_free(xv);
    est_plan_free(p);
    est_graph_free(g);
}

TEST(core_no_allocation_after_first_run)
{
    est_graph *g;
    est_node *x, *w, *y, *grad, *step;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_feed feed;
    est_variable_desc d;
    est_tensor *xv, *xsmall;
    est_tensor out = {0};
    est_threadpool *pool = NULL;
    long before;
    int i;
    REQUIRE_OK(est_threadpool_new(NULL, &pool));
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&d, 0, sizeof d);
    d.name = "w";
    d.shape = est_shape2(64, 32);
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, NULL));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 64));
    w = est_variable(g, "w");
    y = est_matmul(g, x, w, NULL);
    REQUIRE_OK(est_gradients(g, y, &w, 1, NULL, &grad));
    step = est_assign_sub(g, w, grad); /* a plain SGD step */
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    pd.targets = &step;
    pd.n_targets = 1;
    pd.pool = pool;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(50, 64), &xv));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(10, 64), &xsmall));
    feed.node = x;
    feed.value = xv;
    CHECK_OK(est_plan_run(p, &feed, 1, &out)); /* first run plans and allocates */
    before = test_alloc_calls;
    for (i = 0; i < 5; i++) CHECK_OK(est_plan_run(p, &feed, 1, &out));
    CHECK_MSG(test_alloc_calls == before, "%ld allocations in 5 steady-state runs", test_alloc_calls - before);
    /* a smaller batch re-plans once inside the existing memory... */
    feed.value = xsmall;
    CHECK_OK(est_plan_run(p, &feed, 1, &out));
    before = test_alloc_calls;
    CHECK_OK(est_plan_run(p, &feed, 1, &out));
    feed.value = xv;
    CHECK_OK(est_plan_run(p, &feed, 1, &out));
    CHECK_MSG(test_alloc_calls - before <= 2, "switching back to the larger batch allocated %ld times",
              test_alloc_calls - before);
    est_tensor_free(xv);
    est_tensor_free(xsmall);
    est_plan_free(p);
    est_graph_free(g);
    est_threadpool_free(pool);
}

TEST(core_variable_writes_after_reads)
{
    /* The write is built first, the read after: the plan must still read the old value. */
    est_graph *g;
    est_node *v, *one, *upd, *rd, *fetch[2];
    est_plan *p = NULL;
    est_plan_desc pd;
    est_variable_desc d;
    est_tensor *vt;
    est_tensor out[2] = {{0}, {0}};
    float onev = 1.0f;
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&d, 0, sizeof d);
    d.name = "counter";
    d.shape = est_shape1(1);
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &vt));
    v = est_variable(g, "counter");
    one = est_constant_f32(g, est_shape1(1), &onev);
    upd = est_assign_add(g, v, one);
    rd = est_identity(g, v);
    {
        est_node *two[2];
        two[0] = rd;
        two[1] = one;
        rd = est_add_n(g, two, 2); /* reads v (through an alias) + 1 */
    }
    fetch[0] = rd;
    fetch[1] = upd;
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 2;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    CHECK_OK(est_plan_run(p, NULL, 0, out));
    CHECK(((float *)out[0].data)[0] == 1.0f); /* old value 0 + 1 */
    CHECK(((float *)out[1].data)[0] == 1.0f); /* counter after the write */
    CHECK_OK(est_plan_run(p, NULL, 0, out));
    CHECK(((float *)out[0].data)[0] == 2.0f);
    CHECK(((float *)vt->data)[0] == 2.0f);
    est_plan_free(p);
    est_graph_free(g);
}

TEST(core_autodiff_accumulates_and_stops)
{
    est_graph *g;
    est_node *x, *w, *y1, *y2, *y, *sg, *gw = NULL, *gx = NULL, *two[2], *xs[2];
    est_plan *p = NULL;
    est_plan_desc pd;
    est_variable_desc d;
    est_tensor *wv, *xv;
    est_tensor out = {0};
    float xdata[2] = {1, 2};
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&d, 0, sizeof d);
    d.name = "w";
    d.shape = est_shape2(2, 1);
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &wv));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(1, 2));
    w = est_variable(g, "w");
    y1 = est_matmul(g, x, w, NULL);
    y2 = est_matmul(g, x, w, NULL);
    two[0] = y1;
    two[1] = y2;
    y = est_add_n(g, two, 2); /* w used twice: dy/dw = 2 x^T */
    REQUIRE_OK(est_gradients(g, y, &w, 1, NULL, &gw));
    REQUIRE(gw != NULL);
    CHECK_STR_CONTAINS(est_node_name(gw), "gradients/");
    memset(&pd, 0, sizeof pd);
    pd.fetches = &gw;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(1, 2), xdata, &xv));
    {
        est_feed f;
        f.node = x;
        f.value = xv;
        CHECK_OK(est_plan_run(p, &f, 1, &out));
    }
    CHECK(((float *)out.data)[0] == 2.0f && ((float *)out.data)[1] == 4.0f);
    est_plan_free(p);
    /* stop_gradient blocks; an unrelated x gets NULL */
    sg = est_matmul(g, est_stop_gradient(g, x), w, NULL);
    xs[0] = x;
    xs[1] = w;
    {
        est_node *gr[2];
        REQUIRE_OK(est_gradients(g, sg, xs, 2, NULL, gr));
        CHECK(gr[0] == NULL);
        CHECK(gr[1] != NULL);
    }
    REQUIRE_OK(est_gradients(g, y1, &sg, 1, NULL, &gx));
    CHECK(gx == NULL);
    /* no gradient through a variable write */
    {
        est_node *upd = est_assign(g, w, w), *out2;
        out2 = est_matmul(g, x, upd, NULL);
        CHECK_STATUS(est_gradients(g, out2, &x, 1, NULL, &gx), EST_OK); /* x path is fine */
        CHECK_STATUS(est_gradients(g, out2, &w, 1, NULL, &gw), EST_ERR_NO_GRADIENT);
        CHECK_STR_CONTAINS(est_last_error(), "Assign");
    }
    est_tensor_free(xv);
    est_graph_free(g);
}

static est_node *core__build_plumbing(est_graph *g, est_node **in, void *ctx)
{
    /* broadcast [3] to [2,3], sum back to [1,3], reshape like [3,1], add_n, identity, matmul */
    est_node *b = est_broadcast_like(g, in[0], in[1]);
    est_node *s = est_sum_to_like(g, est_matmul(g, b, in[2], NULL), in[3]);
    est_node *r = est_reshape_like(g, s, in[4]);
    est_node *two[2];
    (void)ctx;
    two[0] = est_identity(g, r);
    two[1] = in[4];
    return est_add_n(g, two, 2);
}

TEST(core_gradcheck_plumbing_ops)
{
    gc_input in[5];
    memset(in, 0, sizeof in);
    in[0].shape = est_shape1(3);
    in[1].shape = est_shape2(2, 3);
    in[2].shape = est_shape2(3, 3);
    in[3].shape = est_shape2(1, 3);
    in[4].shape = est_shape2(3, 1);
    in[1].no_grad = in[3].no_grad = 1; /* only shape sources */
    CHECK(gradcheck("plumbing", core__build_plumbing, NULL, 5, in, 1e-3, 1e-3, 1e-2));
}

static est_node *core__build_matmul_t(est_graph *g, est_node **in, void *ctx)
{
    est_matmul_args *a = (est_matmul_args *)ctx;
    return est_matmul(g, in[0], in[1], a);
}

TEST(core_gradcheck_matmul_transposes)
{
    gc_input in[2];
    est_matmul_args a;
    int ta, tb;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++) {
            memset(in, 0, sizeof in);
            in[0].shape = ta ? est_shape2(5, 4) : est_shape2(4, 5);
            in[1].shape = tb ? est_shape2(3, 5) : est_shape2(5, 3);
            a.transpose_a = ta;
            a.transpose_b = tb;
            CHECK_MSG(gradcheck("matmul", core__build_matmul_t, &a, 2, in, 1e-3, 1e-3, 1e-2), "ta=%d tb=%d", ta, tb);
        }
    /* batched with broadcasting */
    memset(in, 0, sizeof in);
    in[0].shape = est_shape3(2, 3, 4);
    in[1].shape = est_shape2(4, 5);
    a.transpose_a = a.transpose_b = 0;
    CHECK(gradcheck("batched matmul", core__build_matmul_t, &a, 2, in, 1e-3, 1e-3, 1e-2));
}

/* Same graph, same data: 1 thread and 2 threads give the same bits (forward and backward). */
TEST(core_threads_bit_identical)
{
    est_threadpool *pools[2] = {NULL, NULL};
    float *res[2] = {NULL, NULL};
    {
        int t;
        for (t = 0; t < 2; t++) {
            est_threadpool_desc td;
            est_graph *g;
            est_node *x, *w, *y, *gw, *f[2];
            est_plan *p = NULL;
            est_plan_desc pd;
            est_variable_desc d;
            est_tensor *wv, *xv;
            est_tensor out[2] = {{0}, {0}};
            est_feed feed;
            memset(&td, 0, sizeof td);
            td.num_threads = t + 1;
            REQUIRE_OK(est_threadpool_new(&td, &pools[t]));
            REQUIRE_OK(est_graph_new(NULL, &g));
            memset(&d, 0, sizeof d);
            d.name = "w";
            d.shape = est_shape2(300, 200);
            REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &wv));
            test_fill_uniform((float *)wv->data, 300 * 200, 7);
            x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 300));
            w = est_variable(g, "w");
            y = est_matmul(g, x, w, NULL);
            REQUIRE_OK(est_gradients(g, y, &w, 1, NULL, &gw));
            f[0] = y;
            f[1] = gw;
            memset(&pd, 0, sizeof pd);
            pd.fetches = f;
            pd.n_fetches = 2;
            pd.pool = pools[t];
            REQUIRE_OK(est_plan_new(g, &pd, &p));
            REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(129, 300), &xv));
            test_fill_uniform((float *)xv->data, 129 * 300, 11);
            feed.node = x;
            feed.value = xv;
            REQUIRE_OK(est_plan_run(p, &feed, 1, out));
            res[t] = (float *)malloc(sizeof(float) * (129 * 200 + 300 * 200));
            memcpy(res[t], out[0].data, sizeof(float) * 129 * 200);
            memcpy(res[t] + 129 * 200, out[1].data, sizeof(float) * 300 * 200);
            est_tensor_free(xv);
            est_plan_free(p);
            est_graph_free(g);
        }
    }
    CHECK(res[0] && res[1] && memcmp(res[0], res[1], sizeof(float) * (129 * 200 + 300 * 200)) == 0);
    free(res[0]);
    free(res[1]);
    est_threadpool_free(pools[0]);
    est_threadpool_free(pools[1]);
}

TEST(core_writer_inputs_count_as_reads)
{
    /* W1 copies u into v; W2 increments u and is built first. W1 must see the old u. */
    est_graph *g;
    est_node *u, *v, *w1, *w2, *one, *deps[2], *grp;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_variable_desc d;
    est_tensor *ut, *vt;
    float onev = 1.0f;
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&d, 0, sizeof d);
    d.shape = est_shape1(1);
    d.name = "u";
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &ut));
    d.name = "v";
    REQUIRE_OK(est_var_store_create(est_graph_store(g), &d, &vt));
    ((float *)ut->data)[0] = 1.0f;
    u = est_variable(g, "u");
    v = est_variable(g, "v");
    one = est_constant_f32(g, est_shape1(1), &onev);
    w2 = est_assign_add(g, u, one);
    w1 = est_assign(g, v, est_identity(g, u));
    deps[0] = w2;
    deps[1] = w1;
    grp = est_group(g, deps, 2);
    memset(&pd, 0, sizeof pd);
    pd.targets = &grp;
    pd.n_targets = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    CHECK_OK(est_plan_run(p, NULL, 0, NULL));
    CHECK(((float *)vt->data)[0] == 1.0f);
    CHECK(((float *)ut->data)[0] == 2.0f);
    est_plan_free(p);
    est_graph_free(g);
}

TEST(core_plan_profiling)
{
    est_graph *g;
    est_node *x, *y;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_feed feed;
    est_tensor *xv, out;
    const est_profile_entry *pe = NULL;
    int n, i, saw_matmul = 0;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 4));
    y = est_matmul(g, x, est_constant_f32(g, est_shape2(4, 4), (const float[]){1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}), NULL);
    y = est_add_n(g, (est_node *const[]){y, y}, 2);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(3, 4), &xv));
    feed.node = x;
    feed.value = xv;
    CHECK_OK(est_plan_run(p, &feed, 1, &out));
    CHECK(est_plan_profile(p, &pe) == 0);
    CHECK_OK(est_plan_set_profiling(p, 1));
    CHECK_OK(est_plan_run(p, &feed, 1, &out));
    n = est_plan_profile(p, &pe);
    CHECK(n == 2);
    for (i = 0; i < n; i++) {
        CHECK(pe[i].dur_us >= 0 && pe[i].start_us >= 0);
        if (est_node_op(pe[i].node) == EST_OP_MATMUL) saw_matmul = 1;
    }
    CHECK(saw_matmul);
    CHECK_OK(est_plan_set_profiling(p, 0));
    est_tensor_free(xv);
    est_plan_free(p);
    est_graph_free(g);
}

TEST(core_crc32c_slicing_matches_bytewise)
{
    /* every length and alignment against a bit-by-bit reference */
    unsigned char buf[300];
    int len, off, i, k;
    for (i = 0; i < 300; i++) buf[i] = (unsigned char)(i * 131 + 7);
    for (off = 0; off < 8; off++)
        for (len = 0; len < 280; len += 7) {
            uint32_t ref = 0xFFFFFFFFu;
            for (i = 0; i < len; i++) {
                ref ^= buf[off + i];
                for (k = 0; k < 8; k++) ref = (ref >> 1) ^ (0x82F63B78u & (0u - (ref & 1u)));
            }
            ref = ~ref;
            CHECK_MSG(est_crc32c(0, buf + off, (size_t)len) == ref, "offset %d length %d", off, len);
        }
}

/* Conv2D / MatMul -> AddV2(bias) -> Relu / Relu6 chains are fused by the plan when the intermediate
 * values have no other reader: the same bits as running the three ops, the fused-away ops no
 * longer run, and fetching an intermediate turns the fusion off. The bias variables come after
 * their producers in the execution order (the first run must still see them). */
static int core_count_ops(const est_plan *p, est_op op)
{
    const est_profile_entry *pe = NULL;
    int n = est_plan_profile(p, &pe), i, c = 0;
    for (i = 0; i < n; i++) c += est_node_op(pe[i].node) == op;
    return c;
}

/* Fed inputs whose independent dynamic dimensions broadcast into a shape past 64 bits (or past
 * 2^60 bytes) fail the run with EST_ERR_SHAPE naming the node, before any buffer is sized; the
 * element count itself reports -1 instead of overflowing. */
TEST(core_plan_rejects_broadcast_size_overflow)
{
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_node *a, *b, *c, *y;
    est_tensor *t[3] = {NULL, NULL, NULL}, out[1];
    est_feed f[3];
    est_shape big = est_shape3(INT64_C(1) << 40, INT64_C(1) << 40, 0), over = est_shape2(INT64_C(1) << 40, INT64_C(1) << 40);
    int i;
    CHECK(est_shape_numel(&big) == 0); /* a zero after the overflow still gives 0 */
    CHECK(est_shape_numel(&over) == -1);
    REQUIRE_OK(est_graph_new(NULL, &g));
    a = est_placeholder(g, "a", EST_DTYPE_F32, est_shape3(-1, 1, 1));
    b = est_placeholder(g, "b", EST_DTYPE_F32, est_shape3(1, -1, 1));
    c = est_placeholder(g, "c", EST_DTYPE_F32, est_shape3(1, 1, -1));
    y = est_mul(g, est_mul(g, a, b), c);
    REQUIRE(y != NULL);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape3(INT64_C(1) << 21, 1, 1), &t[0]));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape3(1, INT64_C(1) << 21, 1), &t[1]));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape3(1, 1, INT64_C(1) << 21), &t[2]));
    f[0].node = a, f[0].value = t[0];
    f[1].node = b, f[1].value = t[1];
    f[2].node = c, f[2].value = t[2];
    /* 2^63 elements: past int64 */
    CHECK_STATUS(est_plan_run(p, f, 3, out), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "Mul_1");
    CHECK_STR_CONTAINS(est_last_error(), "[2097152,2097152,2097152]");
    CHECK_STR_CONTAINS(est_last_error(), "more than 2^60 bytes");
    /* 2^20 each: 2^60 elements fit int64 but not 2^60 bytes of float */
    for (i = 0; i < 3; i++) {
        est_tensor_free(t[i]);
        t[i] = NULL;
    }
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape3(INT64_C(1) << 20, 1, 1), &t[0]));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape3(1, INT64_C(1) << 20, 1), &t[1]));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape3(1, 1, INT64_C(1) << 20), &t[2]));
    f[0].value = t[0];
    f[1].value = t[1];
    f[2].value = t[2];
    CHECK_STATUS(est_plan_run(p, f, 3, out), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "more than 2^60 bytes of float32");
    for (i = 0; i < 3; i++) est_tensor_free(t[i]);
    est_plan_free(p);
    est_graph_free(g);
}

TEST(core_plan_fuses_bias_activation)
{
    est_graph *g;
    est_node *x, *f, *b, *w, *b2, *conv, *pre, *y, *mm, *h, *loss, *grads[3], *xs[3], *fetch[5];
    est_variable_args va;
    est_plan *pf = NULL, *pu = NULL, *pg = NULL;
    est_plan_desc pd;
    est_feed feed;
    est_tensor *xv, of[4], ou[5], og[4];
    float wsum = 0;
    int i;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 6, 6, 3));
    memset(&va, 0, sizeof va);
    va.initializer.kind = EST_INIT_RANDOM_UNIFORM;
    va.initializer.minval = -1;
    va.initializer.maxval = 1;
    f = est_get_variable(g, "f", est_shape4(3, 3, 3, 4), &va);
    w = est_get_variable(g, "w", est_shape2(64, 5), &va);
    conv = est_conv2d(g, x, f, NULL);
    b = est_get_variable(g, "b", est_shape1(4), &va);
    pre = est_add(g, conv, b);
    y = est_relu(g, pre);
    mm = est_matmul(g, est_reshape(g, y, est_shape2(-1, 64)), w, NULL);
    b2 = est_get_variable(g, "b2", est_shape1(5), &va);
    h = est_relu6(g, est_add(g, b2, est_mul(g, mm, est_scalar(g, 1.0f)))); /* Mul in between: not fused */
    h = est_relu6(g, est_add(g, est_matmul(g, h, est_constant_f32(g, est_shape2(5, 5), (const float[]){
        1, 2, 0, 0, 1, 0, 1, 0, 3, 0, 0, 0, 1, 0, 0, 2, 0, 0, 1, 0, 0, 1, 0, 0, 4}), NULL), b2));
    loss = est_reduce_sum(g, h, NULL);
    xs[0] = f;
    xs[1] = b;
    xs[2] = b2;
    REQUIRE_OK(est_gradients(g, loss, xs, 3, NULL, grads));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(2, 6, 6, 3), &xv));
    test_fill_uniform(est_tensor_f32(xv), est_tensor_numel(xv), 7);
    feed.node = x;
    feed.value = xv;
    memset(&pd, 0, sizeof pd);
    /* fused: only the final values are fetched */
    fetch[0] = h;
    fetch[1] = y;
    pd.fetches = fetch;
    pd.n_fetches = 2;
    REQUIRE_OK(est_plan_new(g, &pd, &pf));
    CHECK_OK(est_plan_set_profiling(pf, 1));
    REQUIRE_OK(est_plan_run(pf, &feed, 1, of)); /* first run: the bias pointers must be resolved */
    CHECK(core_count_ops(pf, EST_OP_ADD) == 1); /* the one after the Mul */
    CHECK(core_count_ops(pf, EST_OP_RELU) == 0);
    CHECK(core_count_ops(pf, EST_OP_RELU6) == 1);
    /* unfused: the intermediates are fetched too */
    fetch[2] = conv;
    fetch[3] = pre;
    fetch[4] = mm;
    pd.n_fetches = 5;
    REQUIRE_OK(est_plan_new(g, &pd, &pu));
    CHECK_OK(est_plan_set_profiling(pu, 1));
    REQUIRE_OK(est_plan_run(pu, &feed, 1, ou));
    CHECK(core_count_ops(pu, EST_OP_ADD) == 2); /* the last chain is still fused */
    CHECK(core_count_ops(pu, EST_OP_RELU) == 1);
    CHECK(core_count_ops(pu, EST_OP_RELU6) == 1);
    CHECK(memcmp(of[0].data, ou[0].data, of[0].nbytes) == 0);
    CHECK(memcmp(of[1].data, ou[1].data, of[1].nbytes) == 0);
    /* and the unfused values are what the ops say: relu(conv + b) */
    for (i = 0; i < 2 * 4 * 4 * 4; i++) {
        float v = est_tensor_f32(&ou[2])[i] + est_tensor_f32(b->var)[i % 4];
        CHECK(est_tensor_f32(&ou[3])[i] == v);
        CHECK(est_tensor_f32(&ou[1])[i] == (v < 0 ? 0.0f : v));
        wsum += v > 0;
    }
    CHECK(wsum > 10 && wsum < 118); /* both sides of the kink are exercised */
    /* gradients through the fused chains: against finite differences of the bias b */
    fetch[0] = loss;
    fetch[1] = grads[0];
    fetch[2] = grads[1];
    fetch[3] = grads[2];
    pd.n_fetches = 4;
    REQUIRE_OK(est_plan_new(g, &pd, &pg));
    REQUIRE_OK(est_plan_run(pg, &feed, 1, og));
    {
        est_plan *pn = NULL;
        est_tensor on[4];
        pd.no_fusion = 1;
        REQUIRE_OK(est_plan_new(g, &pd, &pn));
        CHECK_OK(est_plan_set_profiling(pn, 1));
        REQUIRE_OK(est_plan_run(pn, &feed, 1, on));
        CHECK(core_count_ops(pn, EST_OP_RELU) == 1 && core_count_ops(pn, EST_OP_RELU6) == 2);
        for (i = 0; i < 4; i++) CHECK(memcmp(on[i].data, og[i].data, og[i].nbytes) == 0);
        est_plan_free(pn);
        pd.no_fusion = 0;
    }
    {
        float gb[4], gb2[5];
        memcpy(gb, og[2].data, sizeof gb);
        memcpy(gb2, og[3].data, sizeof gb2);
        for (i = 0; i < 4; i++) {
            float *bp = est_tensor_f32(b->var) + i, keep = *bp, lp, lm;
            *bp = keep + 1e-3f;
            CHECK_OK(est_plan_run(pg, &feed, 1, og));
            lp = est_tensor_f32(&og[0])[0];
            *bp = keep - 1e-3f;
            CHECK_OK(est_plan_run(pg, &feed, 1, og));
            lm = est_tensor_f32(&og[0])[0];
            *bp = keep;
            CHECK_NEAR(gb[i], (lp - lm) / 2e-3f, 2e-2 * (1 + fabs(gb[i])));
        }
        for (i = 0; i < 5; i++) CHECK(gb2[i] >= 0); /* relu6 chains: non-negative for a sum loss */
    }
    est_tensor_free(xv);
    est_plan_free(pf);
    est_plan_free(pu);
    est_plan_free(pg);
    est_graph_free(g);
}

/* conv -> relu -> max_pool: the pool's gradient takes over ReluGrad (adds dy only at positive
 * maxima), with the same bits as the unfused plan; overlapping 3x3 / stride 2 windows and windows
 * that tile the input exactly (MaxPoolGrad's fast path) too, and a pool whose input is not a
 * Relu's output keeps its ReluGrad. */
TEST(core_plan_fuses_max_pool_grad_relu_grad)
{
    int k;
    for (k = 0; k < 3; k++) { /* 9x9 2x2/2, 9x9 3x3/2 (overlapping), 8x8 2x2/2 (windows tile the input) */
        int64_t hw = k == 2 ? 8 : 9;
        est_graph *g = NULL;
        est_node *x, *f, *c, *r, *pl, *pl2, *wl, *loss, *xs[2], *grads[2], *fetch[3];
        est_tensor *xv = NULL, *fv = NULL, *wv = NULL, of[3], on[3];
        est_feed feeds[3];
        est_plan_desc pd;
        est_plan *pf = NULL, *pn = NULL;
        est_conv2d_args ca;
        est_pool_args pa, pa2;
        int i;
        REQUIRE_OK(est_graph_new(NULL, &g));
        x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(3, hw, hw, 2));
        f = est_placeholder(g, "f", EST_DTYPE_F32, est_shape4(3, 3, 2, 5));
        memset(&ca, 0, sizeof ca);
        ca.padding = EST_PADDING_SAME;
        c = est_conv2d(g, x, f, &ca);
        r = est_relu(g, c);
        memset(&pa, 0, sizeof pa);
        pa.ksize[0] = pa.ksize[1] = k == 1 ? 3 : 2;
        pa.strides[0] = pa.strides[1] = 2;
        pa2 = pa;
        pa2.ksize[0] = pa2.ksize[1] = 2;
        pl = est_max_pool2d(g, r, &pa);
        pl2 = est_max_pool2d(g, c, &pa2); /* input is not a Relu's output */
        wl = est_placeholder(g, "wl", EST_DTYPE_F32, est_node_shape(pl));
        loss = est_add(g, est_reduce_sum(g, est_mul(g, pl, wl), NULL), est_reduce_sum(g, est_relu(g, pl2), NULL));
        xs[0] = x;
        xs[1] = f;
        REQUIRE_OK(est_gradients(g, loss, xs, 2, NULL, grads));
        REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(3, hw, hw, 2), &xv));
        REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(3, 3, 2, 5), &fv));
        REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_node_shape(pl), &wv));
        test_fill_uniform(est_tensor_f32(xv), est_tensor_numel(xv), 11);
        test_fill_uniform(est_tensor_f32(fv), est_tensor_numel(fv), 12);
        test_fill_uniform(est_tensor_f32(wv), est_tensor_numel(wv), 13);
        for (i = 0; i < est_tensor_numel(fv); i++) est_tensor_f32(fv)[i] -= 0.5f; /* both signs */
        feeds[0].node = x, feeds[0].value = xv;
        feeds[1].node = f, feeds[1].value = fv;
        feeds[2].node = wl, feeds[2].value = wv;
        fetch[0] = loss;
        fetch[1] = grads[0];
        fetch[2] = grads[1];
        memset(&pd, 0, sizeof pd);
        pd.fetches = fetch;
        pd.n_fetches = 3;
        REQUIRE_OK(est_plan_new(g, &pd, &pf));
        pd.no_fusion = 1;
        REQUIRE_OK(est_plan_new(g, &pd, &pn));
        CHECK_OK(est_plan_set_profiling(pf, 1));
        CHECK_OK(est_plan_set_profiling(pn, 1));
        REQUIRE_OK(est_plan_run(pf, feeds, 3, of));
        REQUIRE_OK(est_plan_run(pn, feeds, 3, on));
        CHECK(core_count_ops(pn, EST_OP_RELU_GRAD) == 2); /* relu(c) and relu(pl2) */
        CHECK(core_count_ops(pf, EST_OP_RELU_GRAD) == 1); /* relu(c)'s is fused into the pool gradient */
        CHECK(core_count_ops(pf, EST_OP_MAX_POOL_GRAD) == 2);
        for (i = 0; i < 3; i++) CHECK(memcmp(of[i].data, on[i].data, of[i].nbytes) == 0);
        {   /* and the gradient is not trivially zero: some filter taps moved */
            int nz = 0;
            for (i = 0; i < est_tensor_numel(fv); i++) nz += est_tensor_f32(&of[2])[i] != 0.0f;
            CHECK(nz > 10);
        }
        est_plan_free(pf);
        est_plan_free(pn);
        est_tensor_free(xv);
        est_tensor_free(fv);
        est_tensor_free(wv);
        est_graph_free(g);
    }
}
