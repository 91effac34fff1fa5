/* Tests of nn/layers: every layer's forward and backward (input and variable gradients) against
 * PyTorch fixtures built with the same weights (tests/fixtures/gen_layers.py), finite-difference
 * gradient checks, batch-norm moving statistics, TF variable names and shapes, bad input. */
#include "gradcheck.h"

static est_tensor *lay_fix(const char *c, const char *suffix)
{
    char b[160];
    snprintf(b, sizeof b, "layers/%s_%s", c, suffix);
    return fixture(b);
}

typedef est_node *(*lay_build_fn)(est_graph *g, est_node *x, void *ctx);

/* Copy a fixture into the store variable `name` (shapes must match: TF's layout). */
static int lay_load_var(est_graph *g, const char *name, const est_tensor *v)
{
    est_tensor *t = est_var_store_find(est_graph_store(g), name);
    if (!t) {
        printf("variable %s not found\n", name);
        return 0;
    }
    if (!est_shape_equal(&t->shape, &v->shape)) {
        printf("variable %s has shape %s, fixture %s\n", name, est__sstr(&t->shape), est__sstr(&v->shape));
        return 0;
    }
    memcpy(t->data, v->data, t->nbytes);
    return 1;
}

/* Build the layer on a placeholder fed with <c>_x (dyn 1: batch dimension unknown; dyn 2: every
 * dimension but the last unknown), load the variables from <c>_<fix>, and compare y and the
 * gradients of sum(y * w) for x and each variable with the fixtures. */
static void lay_case(const char *c, lay_build_fn build, void *ctx, int n_vars, const char *const *vars,
                     const char *const *fix, int dyn, double atol, double rtol)
{
    est_tensor *x = lay_fix(c, "x"), *w = lay_fix(c, "w"), *want[8], *out = NULL;
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_node *ph, *y, *xs[8], *grads[8], *fetch[9];
    est_tensor res[9];
    est_feed feed;
    est_shape xsh;
    int i, d;
    memset(want, 0, sizeof want);
    (void)out;
    REQUIRE(x && w && n_vars < 7);
    REQUIRE_OK(est_graph_new(NULL, &g));
    xsh = x->shape;
    if (dyn == 1) xsh.dims[0] = -1;
    if (dyn == 2)
        for (d = 0; d + 1 < xsh.rank; d++) xsh.dims[d] = -1;
    ph = est_placeholder(g, "x", EST_DTYPE_F32, xsh);
    y = build(g, ph, ctx);
    if (!y) printf("%s: build failed: %s\n", c, est_graph_error(g));
    CHECK(y != NULL);
    if (!y) goto done;
    xs[0] = ph;
    want[0] = lay_fix(c, "dx");
    for (i = 0; i < n_vars; i++) {
        est_tensor *v = lay_fix(c, fix[i]);
        char dn[64];
        CHECK(v && lay_load_var(g, vars[i], v));
        est_tensor_free(v);
        xs[1 + i] = est_variable(g, vars[i]);
        snprintf(dn, sizeof dn, "d%s", fix[i]);
        want[1 + i] = lay_fix(c, dn);
    }
    CHECK_OK(est_gradients(g, y, xs, 1 + n_vars, est_constant(g, w), grads));
    fetch[0] = y;
    for (i = 0; i <= n_vars; i++) fetch[1 + i] = grads[i];
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 2 + n_vars;
    CHECK_OK(est_plan_new(g, &pd, &p));
    if (!p) goto done;
    feed.node = ph;
    feed.value = x;
    CHECK_OK(est_plan_run(p, &feed, 1, res));
    {
        est_tensor *yref = lay_fix(c, "y");
        REQUIRE(yref);
        CHECK(est_shape_equal(&res[0].shape, &yref->shape));
        CHECK_ALLCLOSE((const float *)res[0].data, (const float *)yref->data, est_tensor_numel(yref), atol, rtol);
        est_tensor_free(yref);
    }
    for (i = 0; i <= n_vars; i++) {
        REQUIRE(want[i] && grads[i]);
        if (!est_shape_equal(&res[1 + i].shape, &want[i]->shape))
            printf("%s: gradient %d has shape %s, want %s\n", c, i, est__sstr(&res[1 + i].shape),
                   est__sstr(&want[i]->shape));
        CHECK(est_shape_equal(&res[1 + i].shape, &want[i]->shape));
        CHECK_ALLCLOSE((const float *)res[1 + i].data, (const float *)want[i]->data, est_tensor_numel(want[i]), atol,
                       rtol);
    }
done:
    for (i = 0; i < 8; i++) est_tensor_free(want[i]);
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(x);
    est_tensor_free(w);
}

/* ---- builders ---- */

static est_node *b_dense(est_graph *g, est_node *x, void *ctx)
{
    est_dense_args *a = (est_dense_args *)ctx;
    int units = a->activation == EST_ACTIVATION_TANH ? 3 : 4;
    return est_dense(g, x, units, a);
}

typedef struct lay_conv_ctx {
    int kind, filters, kh, kw;
    est_conv_layer_args a;
} lay_conv_ctx;

static est_node *b_conv(est_graph *g, est_node *x, void *ctx)
{
    lay_conv_ctx *c = (lay_conv_ctx *)ctx;
    switch (c->kind) {
    case 0: return est_conv1d_layer(g, x, c->filters, c->kw, &c->a);
    case 1: return est_conv2d_layer(g, x, c->filters, c->kh, c->kw, &c->a);
    case 2: return est_conv2d_transpose_layer(g, x, c->filters, c->kh, c->kw, &c->a);
    case 3: return est_separable_conv2d_layer(g, x, c->filters, c->kh, c->kw, &c->a);
    default: return est_depthwise_conv2d_layer(g, x, c->kh, c->kw, &c->a);
    }
}

static lay_conv_ctx lay_conv(int kind, int filters, int kh, int kw, int sh, int sw, est_padding pad)
{
    lay_conv_ctx c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.filters = filters;
    c.kh = kh;
    c.kw = kw;
    c.a.strides[0] = sh;
    c.a.strides[1] = sw;
    c.a.padding = pad;
    return c;
}

typedef struct lay_pool_ctx {
    int is_max, one_d, ph, pw;
    est_pool_layer_args a;
} lay_pool_ctx;

static est_node *b_pool(est_graph *g, est_node *x, void *ctx)
{
    lay_pool_ctx *c = (lay_pool_ctx *)ctx;
    if (c->one_d) return c->is_max ? est_max_pooling1d(g, x, c->pw, &c->a) : est_average_pooling1d(g, x, c->pw, &c->a);
    return c->is_max ? est_max_pooling2d(g, x, c->ph, c->pw, &c->a) : est_average_pooling2d(g, x, c->ph, c->pw, &c->a);
}

static est_node *b_bn_train(est_graph *g, est_node *x, void *ctx)
{
    return est_batch_normalization(g, x, 1, (const est_batch_norm_args *)ctx);
}

static est_node *b_ln(est_graph *g, est_node *x, void *ctx)
{
    return est_layer_normalization(g, x, (const est_layer_norm_args *)ctx);
}

static est_node *b_emb(est_graph *g, est_node *x, void *ctx)
{
    return est_embedding_lookup(g, x, est_constant(g, (const est_tensor *)ctx));
}

typedef struct lay_esl_ctx {
    est_tensor *indices, *ids, *dense_shape;
    est_combiner combiner;
    int weighted;
} lay_esl_ctx;

static est_node *b_esl(est_graph *g, est_node *x, void *ctx)
{
    lay_esl_ctx *c = (lay_esl_ctx *)ctx;
    est_sparse sp, sw;
    memset(&sp, 0, sizeof sp);
    sp.indices = est_constant(g, c->indices);
    sp.values = est_constant(g, c->ids);
    sp.dense_shape = est_constant(g, c->dense_shape);
    sw = sp;
    if (c->weighted) {
        est_variable_args va;
        memset(&va, 0, sizeof va);
        sw.values = est_get_variable(g, "weights", est_shape1(c->ids->shape.dims[0]), &va);
    }
    return est_embedding_lookup_sparse(g, x, &sp, c->weighted ? &sw : NULL, c->combiner);
}

/* ---- fixtures: forward and backward ---- */

TEST(layers_dense_fixture)
{
    static const char *const vars[] = {"dense/kernel", "dense/bias"}, *const fix[] = {"kernel", "bias"};
    est_dense_args a;
    memset(&a, 0, sizeof a);
    a.activation = EST_ACTIVATION_TANH;
    lay_case("dense", b_dense, &a, 2, vars, fix, 1, 1e-5, 1e-4);
    a.activation = EST_ACTIVATION_DEFAULT;
    lay_case("dense3", b_dense, &a, 2, vars, fix, 0, 1e-5, 1e-4);
    lay_case("dense3", b_dense, &a, 2, vars, fix, 1, 1e-5, 1e-4); /* folded: [-1, in] GEMM */
    lay_case("dense3", b_dense, &a, 2, vars, fix, 2, 1e-5, 1e-4); /* broadcast matmul */
}

TEST(layers_conv_fixture)
{
    static const char *const vars[] = {"conv2d/kernel", "conv2d/bias"}, *const fix[] = {"kernel", "bias"};
    static const char *const v1[] = {"conv1d/kernel", "conv1d/bias"};
    static const char *const vt[] = {"conv2d_transpose/kernel", "conv2d_transpose/bias"};
    lay_conv_ctx c = lay_conv(1, 4, 3, 3, 2, 2, EST_PADDING_SAME);
    c.a.activation = EST_ACTIVATION_RELU;
    lay_case("conv2d_same", b_conv, &c, 2, vars, fix, 1, 1e-5, 1e-4);
    c = lay_conv(1, 3, 3, 2, 0, 0, EST_PADDING_DEFAULT);
    c.a.dilation_rate[0] = c.a.dilation_rate[1] = 2;
    lay_case("conv2d_dil", b_conv, &c, 2, vars, fix, 0, 1e-5, 1e-4);
    c = lay_conv(0, 4, 1, 3, 2, 0, EST_PADDING_SAME);
    lay_case("conv1d", b_conv, &c, 2, v1, fix, 1, 1e-5, 1e-4);
    c = lay_conv(2, 5, 3, 3, 2, 2, EST_PADDING_SAME);
    lay_case("conv2d_t_same", b_conv, &c, 2, vt, fix, 1, 1e-5, 1e-4);
    c = lay_conv(2, 3, 2, 3, 3, 2, EST_PADDING_VALID);
    lay_case("conv2d_t_valid", b_conv, &c, 2, vt, fix, 0, 1e-5, 1e-4);
}

TEST(layers_separable_depthwise_fixture)
{
    static const char *const vs[] = {"separable_conv2d/depthwise_kernel", "separable_conv2d/pointwise_kernel",
                                     "separable_conv2d/bias"};
    static const char *const fs[] = {"depthwise_kernel", "pointwise_kernel", "bias"};
    static const char *const vd[] = {"depthwise_conv2d/depthwise_kernel", "depthwise_conv2d/bias"};
    static const char *const fd[] = {"depthwise_kernel", "bias"};
    lay_conv_ctx c = lay_conv(3, 4, 3, 3, 1, 1, EST_PADDING_SAME);
    c.a.depth_multiplier = 2;
    lay_case("separable", b_conv, &c, 3, vs, fs, 1, 1e-5, 1e-4);
    c = lay_conv(4, 0, 3, 3, 2, 2, EST_PADDING_VALID);
    c.a.depth_multiplier = 2;
    lay_case("depthwise", b_conv, &c, 2, vd, fd, 1, 1e-5, 1e-4);
}

TEST(layers_pooling_fixture)
{
    lay_pool_ctx c;
    memset(&c, 0, sizeof c);
    c.is_max = 1;
    c.ph = c.pw = 2;
    c.a.padding = EST_PADDING_SAME;
    lay_case("maxpool2d", b_pool, &c, 0, NULL, NULL, 1, 1e-6, 1e-5);
    c.is_max = 0;
    lay_case("avgpool2d", b_pool, &c, 0, NULL, NULL, 1, 1e-6, 1e-5);
    memset(&c, 0, sizeof c);
    c.one_d = 1;
    c.is_max = 1;
    c.pw = 3;
    c.a.strides[0] = 2;
    lay_case("maxpool1d", b_pool, &c, 0, NULL, NULL, 1, 1e-6, 1e-5);
    c.is_max = 0;
    lay_case("avgpool1d", b_pool, &c, 0, NULL, NULL, 1, 1e-6, 1e-5);
}

TEST(layers_batch_norm_fixture)
{
    static const char *const vars[] = {"batch_normalization/gamma", "batch_normalization/beta"};
    static const char *const fix[] = {"gamma", "beta"};
    est_batch_norm_args a;
    memset(&a, 0, sizeof a);
    lay_case("bn4d", b_bn_train, &a, 2, vars, fix, 1, 1e-4, 1e-3);
    lay_case("bn4d", b_bn_train, &a, 2, vars, fix, 0, 1e-4, 1e-3);
    lay_case("bn2d", b_bn_train, &a, 2, vars, fix, 1, 1e-4, 1e-3);
}

TEST(layers_layer_norm_fixture)
{
    static const char *const vars[] = {"layer_normalization/gamma", "layer_normalization/beta"};
    static const char *const fix[] = {"gamma", "beta"};
    est_layer_norm_args a;
    memset(&a, 0, sizeof a);
    lay_case("ln", b_ln, &a, 2, vars, fix, 1, 1e-4, 1e-3);
    lay_case("ln3", b_ln, &a, 2, vars, fix, 2, 1e-4, 1e-3);
}

TEST(layers_embedding_fixture)
{
    est_tensor *ids = fixture("layers/emb_ids");
    REQUIRE(ids);
    lay_case("emb", b_emb, ids, 0, NULL, NULL, 0, 1e-6, 1e-5);
    est_tensor_free(ids);
}

TEST(layers_embedding_sparse_fixture)
{
    static const char *const wv[] = {"weights"};
    static const char *const wf[] = {"weights"};
    static const char *const names[] = {"esl_sum", "esl_mean", "esl_sqrtn"};
    static const est_combiner comb[] = {EST_COMBINER_SUM, EST_COMBINER_DEFAULT, EST_COMBINER_SQRTN};
    lay_esl_ctx c;
    int64_t ds[2] = {4, 6};
    int i;
    memset(&c, 0, sizeof c);
    c.indices = fixture("layers/esl_indices");
    c.ids = fixture("layers/esl_ids");
    REQUIRE(c.indices && c.ids);
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I64, est_shape1(2), ds, &c.dense_shape));
    for (i = 0; i < 3; i++) {
        char nw[32];
        c.combiner = comb[i];
        c.weighted = 1;
        lay_case(names[i], b_esl, &c, 1, wv, wf, 0, 1e-5, 1e-4);
        c.weighted = 0;
        snprintf(nw, sizeof nw, "%s_nw", names[i]);
        lay_case(nw, b_esl, &c, 0, NULL, NULL, 0, 1e-5, 1e-4);
    }
    est_tensor_free(c.indices);
    est_tensor_free(c.ids);
    est_tensor_free(c.dense_shape);
}

/* ---- batch norm: moving statistics, update ops, eval mode ---- */

/* Train `steps` batches of <c>_steps_x (one [5, ...] stack) through a BN layer and compare the
 * moving statistics with the fixtures. Returns the store (owned by the caller) for eval checks. */
static est_var_store *lay_bn_steps(const char *c, int dyn)
{
    est_tensor *xs = lay_fix(c, "steps_x"), *mm = lay_fix(c, "steps_mean"), *mv = lay_fix(c, "steps_var");
    est_var_store *vs = NULL;
    est_graph *g = NULL;
    est_graph_desc gd;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_node *x, *y, *const *upd;
    est_tensor out, batch;
    est_feed feed;
    est_shape s;
    int i, n_upd, d;
    if (!xs || !mm || !mv) goto done;
    if (est_var_store_new(NULL, &vs) != EST_OK) goto done;
    memset(&gd, 0, sizeof gd);
    gd.store = vs;
    if (est_graph_new(&gd, &g) != EST_OK) goto done;
    s.rank = xs->shape.rank - 1;
    for (d = 0; d < s.rank; d++) s.dims[d] = xs->shape.dims[d + 1];
    batch = *xs;
    batch.shape = s;
    batch.nbytes = xs->nbytes / (size_t)xs->shape.dims[0];
    if (dyn) s.dims[0] = -1;
    x = est_placeholder(g, "x", EST_DTYPE_F32, s);
    y = est_batch_normalization(g, x, 1, NULL);
    n_upd = est_get_collection(g, EST_GRAPHKEY_UPDATE_OPS, &upd);
    CHECK(n_upd == 2);
    if (!y || n_upd != 2) goto done;
    CHECK_STR_CONTAINS(est_node_name(upd[0]), "batch_normalization/AssignMovingAvg");
    CHECK(est_var_store_flags(vs, "batch_normalization/moving_mean") & EST_VAR_NOT_TRAINABLE);
    CHECK(est_var_store_flags(vs, "batch_normalization/moving_variance") & EST_VAR_NOT_TRAINABLE);
    CHECK(est_var_store_flags(vs, "batch_normalization/gamma") == 0);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    pd.targets = upd;
    pd.n_targets = n_upd;
    CHECK_OK(est_plan_new(g, &pd, &p));
    if (!p) goto done;
    feed.node = x;
    feed.value = &batch;
    for (i = 0; i < (int)xs->shape.dims[0]; i++) {
        batch.data = (char *)xs->data + (size_t)i * batch.nbytes;
        CHECK_OK(est_plan_run(p, &feed, 1, &out));
    }
    {
        est_tensor *m = est_var_store_find(vs, "batch_normalization/moving_mean");
        est_tensor *v = est_var_store_find(vs, "batch_normalization/moving_variance");
        CHECK(m && v);
        if (m && v) {
            CHECK_ALLCLOSE((const float *)m->data, (const float *)mm->data, est_tensor_numel(mm), 1e-5, 1e-4);
            CHECK_ALLCLOSE((const float *)v->data, (const float *)mv->data, est_tensor_numel(mv), 1e-5, 1e-4);
        }
    }
done:
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(xs);
    est_tensor_free(mm);
    est_tensor_free(mv);
    return vs;
}

TEST(layers_batch_norm_moving_statistics)
{
    est_var_store *vs;
    /* 2-D: the non-fused path feeds the biased variance (NumPy transcription of TF) */
    est_var_store_free(lay_bn_steps("bn2d", 0));
    est_var_store_free(lay_bn_steps("bn2d", 1));
    /* 4-D NHWC: TF1 fuses, the unbiased variance (torch BatchNorm2d, momentum 0.01); the dynamic batch
     * counts the reduced elements at run time */
    est_var_store_free(lay_bn_steps("bn4d", 1));
    vs = lay_bn_steps("bn4d", 0);
    REQUIRE(vs);
    {
        /* eval mode on the same store: the moving statistics, no update ops */
        est_tensor *x = lay_fix("bn4d_eval", "x"), *ga = lay_fix("bn4d_eval", "gamma");
        est_tensor *be = lay_fix("bn4d_eval", "beta"), *yr = lay_fix("bn4d_eval", "y"), out;
        est_graph *g = NULL;
        est_graph_desc gd;
        est_plan *p = NULL;
        est_plan_desc pd;
        est_node *ph, *y, *const *upd;
        est_feed feed;
        REQUIRE(x && ga && be && yr);
        memset(&gd, 0, sizeof gd);
        gd.store = vs;
        REQUIRE_OK(est_graph_new(&gd, &g));
        ph = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 3, 3, 2));
        y = est_batch_normalization(g, ph, 0, NULL);
        REQUIRE(y);
        CHECK(est_get_collection(g, EST_GRAPHKEY_UPDATE_OPS, &upd) == 0);
        memcpy(est_var_store_find(vs, "batch_normalization/gamma")->data, ga->data, ga->nbytes);
        memcpy(est_var_store_find(vs, "batch_normalization/beta")->data, be->data, be->nbytes);
        memset(&pd, 0, sizeof pd);
        pd.fetches = &y;
        pd.n_fetches = 1;
        REQUIRE_OK(est_plan_new(g, &pd, &p));
        feed.node = ph;
        feed.value = x;
        memset(&out, 0, sizeof out); /* set by a successful run only */
        REQUIRE_OK(est_plan_run(p, &feed, 1, &out));
        CHECK_ALLCLOSE((const float *)out.data, (const float *)yr->data, est_tensor_numel(yr), 1e-5, 1e-4);
        est_plan_free(p);
        est_graph_free(g);
        est_tensor_free(x);
        est_tensor_free(ga);
        est_tensor_free(be);
        est_tensor_free(yr);
    }
    est_var_store_free(vs);
}

/* ---- finite-difference gradient checks ---- */

static est_node *gc_bn(est_graph *g, est_node **in, void *ctx)
{
    return est_batch_normalization(g, in[0], 1, (const est_batch_norm_args *)ctx);
}
static est_node *gc_ln(est_graph *g, est_node **in, void *ctx)
{
    return est_layer_normalization(g, in[0], (const est_layer_norm_args *)ctx);
}
static est_node *gc_sep(est_graph *g, est_node **in, void *ctx)
{
    lay_conv_ctx *c = (lay_conv_ctx *)ctx;
    return b_conv(g, in[0], c);
}

/* in: params, weights (float), ids, indices (int64); ctx: combiner */
static est_node *gc_esl(est_graph *g, est_node **in, void *ctx)
{
    est_sparse sp, sw;
    int64_t ds[2] = {4, 6};
    est_tensor *t = NULL;
    memset(&sp, 0, sizeof sp);
    sp.values = in[2];
    sp.indices = in[3];
    if (est_tensor_from_data(EST_DTYPE_I64, est_shape1(2), ds, &t) != EST_OK) return NULL;
    sp.dense_shape = est_constant(g, t);
    est_tensor_free(t);
    sw = sp;
    sw.values = in[1];
    return est_embedding_lookup_sparse(g, in[0], &sp, &sw, *(const est_combiner *)ctx);
}

TEST(layers_gradcheck)
{
    est_batch_norm_args bn;
    est_layer_norm_args ln;
    lay_conv_ctx sc;
    gc_input in[4];
    memset(&bn, 0, sizeof bn);
    memset(&ln, 0, sizeof ln);
    memset(in, 0, sizeof in);
    /* batch norm in training mode: the gradient flows through the batch moments */
    in[0].shape = est_shape4(3, 2, 2, 3);
    in[0].lo = -2;
    in[0].hi = 2;
    CHECK(gradcheck("bn train 4d", gc_bn, &bn, 1, in, 1e-3, 1e-3, 1e-2));
    in[0].shape = est_shape2(5, 4);
    CHECK(gradcheck("bn train 2d", gc_bn, &bn, 1, in, 1e-3, 1e-3, 1e-2));
    bn.axis = 1; /* channels first: parameters broadcast as [C, 1, 1] */
    bn.no_center = 1;
    in[0].shape = est_shape4(2, 3, 2, 2);
    CHECK(gradcheck("bn train axis 1", gc_bn, &bn, 1, in, 1e-3, 1e-3, 1e-2));
    in[0].shape = est_shape3(2, 3, 5);
    CHECK(gradcheck("layer norm", gc_ln, &ln, 1, in, 1e-3, 1e-3, 1e-2));
    ln.axis = 1;
    CHECK(gradcheck("layer norm axis 1", gc_ln, &ln, 1, in, 1e-3, 1e-3, 1e-2));
    sc = lay_conv(3, 3, 3, 2, 2, 1, EST_PADDING_SAME);
    sc.a.depth_multiplier = 2;
    sc.a.dilation_rate[1] = 2;
    in[0].shape = est_shape4(2, 5, 6, 2);
    CHECK(gradcheck("separable conv", gc_sep, &sc, 1, in, 1e-3, 1e-3, 1e-2));
    {
        static const int64_t ids[6] = {1, 3, 0, 3, 5, 3};
        static const int64_t idx[12] = {0, 0, 0, 1, 1, 0, 1, 1, 1, 2, 3, 0};
        static const float w[6] = {0.5f, 2.0f, 1.0f, -0.5f, 1.5f, 3.0f};
        static const est_combiner comb[3] = {EST_COMBINER_SUM, EST_COMBINER_MEAN, EST_COMBINER_SQRTN};
        int i;
        memset(in, 0, sizeof in);
        in[0].shape = est_shape2(6, 4);
        in[1].shape = est_shape1(6);
        in[1].data = w;
        in[2].shape = est_shape1(6);
        in[2].data = ids;
        in[2].dtype = EST_DTYPE_I64;
        in[3].shape = est_shape2(6, 2);
        in[3].data = idx;
        in[3].dtype = EST_DTYPE_I64;
        for (i = 0; i < 3; i++) CHECK(gradcheck("embedding_lookup_sparse", gc_esl, (void *)&comb[i], 4, in, 1e-3, 1e-3, 1e-2));
    }
}

/* ---- names, shapes, collections ---- */

static est_shape lay_var_shape(est_graph *g, const char *name)
{
    est_tensor *t = est_var_store_find(est_graph_store(g), name);
    est_shape s;
    if (t) return t->shape;
    s.rank = -1;
    printf("missing variable %s\n", name);
    return s;
}

static int lay_shape_is(est_shape s, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t d[4];
    int i;
    d[0] = d0;
    d[1] = d1;
    d[2] = d2;
    d[3] = d3;
    if (s.rank != rank) return 0;
    for (i = 0; i < rank; i++)
        if (s.dims[i] != d[i]) return 0;
    return 1;
}

TEST(layers_variable_names_and_shapes)
{
    est_graph *g = NULL;
    est_node *x, *img, *y, *const *vars, *const *regs;
    est_dense_args da;
    est_conv_layer_args ca;
    int n;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 6));
    img = est_placeholder(g, "img", EST_DTYPE_F32, est_shape4(-1, 8, 8, 3));
    memset(&da, 0, sizeof da);
    da.kernel_regularizer.kind = EST_REGULARIZER_L2;
    y = est_dense(g, x, 5, &da);
    y = est_dense(g, y, 4, NULL);
    memset(&da, 0, sizeof da);
    da.name = "logits";
    da.no_bias = 1;
    y = est_dense(g, y, 2, &da);
    CHECK(y != NULL);
    CHECK(lay_shape_is(lay_var_shape(g, "dense/kernel"), 2, 6, 5, 0, 0));
    CHECK(lay_shape_is(lay_var_shape(g, "dense/bias"), 1, 5, 0, 0, 0));
    CHECK(lay_shape_is(lay_var_shape(g, "dense_1/kernel"), 2, 5, 4, 0, 0));
    CHECK(lay_shape_is(lay_var_shape(g, "logits/kernel"), 2, 4, 2, 0, 0));
    CHECK(est_var_store_find(est_graph_store(g), "logits/bias") == NULL);
    CHECK(est_get_collection(g, EST_GRAPHKEY_REGULARIZATION_LOSSES, &regs) == 1);
    y = est_conv2d_layer(g, img, 16, 3, 3, NULL);
    memset(&ca, 0, sizeof ca);
    ca.depth_multiplier = 2;
    y = est_separable_conv2d_layer(g, y, 8, 3, 3, &ca);
    y = est_conv2d_transpose_layer(g, y, 4, 2, 2, NULL);
    y = est_depthwise_conv2d_layer(g, y, 3, 3, NULL);
    y = est_batch_normalization(g, y, 1, NULL);
    y = est_max_pooling2d(g, y, 2, 2, NULL);
    y = est_flatten(g, y);
    CHECK(y != NULL);
    CHECK(lay_shape_is(lay_var_shape(g, "conv2d/kernel"), 4, 3, 3, 3, 16));
    CHECK(lay_shape_is(lay_var_shape(g, "separable_conv2d/depthwise_kernel"), 4, 3, 3, 16, 2));
    CHECK(lay_shape_is(lay_var_shape(g, "separable_conv2d/pointwise_kernel"), 4, 1, 1, 32, 8));
    CHECK(lay_shape_is(lay_var_shape(g, "separable_conv2d/bias"), 1, 8, 0, 0, 0));
    CHECK(lay_shape_is(lay_var_shape(g, "conv2d_transpose/kernel"), 4, 2, 2, 4, 8));
    CHECK(lay_shape_is(lay_var_shape(g, "depthwise_conv2d/depthwise_kernel"), 4, 3, 3, 4, 1));
    CHECK(lay_shape_is(lay_var_shape(g, "batch_normalization/moving_mean"), 1, 4, 0, 0, 0));
    CHECK(lay_shape_is(lay_var_shape(g, "batch_normalization/moving_variance"), 1, 4, 0, 0, 0));
    /* 8x8 -conv 3x3 VALID-> 6 -separable-> 4 -transpose 2x2-> 5 -depthwise-> 3 -pool 2-> 1: [N, 4] */
    CHECK(lay_shape_is(est_node_shape(y), 2, -1, 4, 0, 0));
    /* 2 dense kernels + dense bias + dense_1 bias + logits kernel = 5; conv 2; separable 3;
     * transpose 2; depthwise 2; bn gamma + beta 2 */
    n = est_trainable_variables(g, &vars);
    CHECK(n == 16);
    CHECK_STR_CONTAINS(est_node_name(y), "flatten/");
    CHECK_OK(est_graph_status(g));
    est_graph_free(g);
}

/* ---- bad input ---- */

TEST(layers_bad_input)
{
    est_graph *g = NULL, *g2 = NULL;
    est_graph_desc gd;
    est_node *x;
    est_batch_norm_args bn;
    est_sparse sp;

    /* wrong rank: the message names the layer */
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape3(2, 5, 3));
    CHECK(est_conv2d_layer(g, x, 4, 3, 3, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "conv2d layer 'conv2d'");
    CHECK_STR_CONTAINS(est_graph_error(g), "[2,5,3]");
    est_graph_free(g);

    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape1(5));
    CHECK(est_dense(g, x, 4, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "dense layer 'dense'");
    est_graph_free(g);

    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(2, 5, 5, 3));
    CHECK(est_max_pooling1d(g, x, 2, NULL) == NULL);
    CHECK_STR_CONTAINS(est_graph_error(g), "max_pooling1d layer");
    est_graph_free(g);

    /* kernel larger than the input under VALID padding */
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 3, 3, 2));
    CHECK(est_conv2d_layer(g, x, 4, 5, 5, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "conv2d layer 'conv2d': kernel 5x5");
    CHECK_STR_CONTAINS(est_graph_error(g), "VALID");
    est_graph_free(g);

    /* a variable reused (same store, another graph) with another shape */
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 3));
    CHECK(est_dense(g, x, 4, NULL) != NULL);
    memset(&gd, 0, sizeof gd);
    gd.store = est_graph_store(g);
    REQUIRE_OK(est_graph_new(&gd, &g2));
    x = est_placeholder(g2, "x", EST_DTYPE_F32, est_shape2(-1, 5));
    CHECK(est_dense(g2, x, 4, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g2), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g2), "dense/kernel");
    CHECK_STR_CONTAINS(est_graph_error(g2), "[3,4]");
    CHECK_STR_CONTAINS(est_graph_error(g2), "[5,4]");
    est_graph_free(g2);
    est_graph_free(g);

    /* batch norm: invalid axis, unknown channels */
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 3));
    memset(&bn, 0, sizeof bn);
    bn.axis = 4;
    CHECK(est_batch_normalization(g, x, 1, &bn) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "batch_normalization layer 'batch_normalization': axis 4");
    est_graph_free(g);
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(4, -1));
    CHECK(est_layer_normalization(g, x, NULL) == NULL);
    CHECK_STR_CONTAINS(est_graph_error(g), "layer_normalization layer");
    est_graph_free(g);

    /* an earlier error stays the first one; layers given NULL return NULL */
    REQUIRE_OK(est_graph_new(NULL, &g));
    CHECK(est_dense(g, NULL, 3, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK(est_flatten(g, NULL) == NULL);
    CHECK_STR_CONTAINS(est_graph_error(g), "dense layer");
    est_graph_free(g);

    /* sparse embeddings: a fed dense_shape needs rows_like; ids must be integers */
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&sp, 0, sizeof sp);
    sp.indices = est_placeholder(g, "indices", EST_DTYPE_I64, est_shape2(-1, 2));
    sp.values = est_placeholder(g, "ids", EST_DTYPE_I64, est_shape1(-1));
    sp.dense_shape = est_placeholder(g, "dense_shape", EST_DTYPE_I64, est_shape1(2));
    x = est_placeholder(g, "params", EST_DTYPE_F32, est_shape2(10, 3));
    CHECK(est_embedding_lookup_sparse(g, x, &sp, NULL, EST_COMBINER_SUM) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "rows_like");
    est_graph_free(g);
    REQUIRE_OK(est_graph_new(NULL, &g));
    sp.values = est_placeholder(g, "ids", EST_DTYPE_F32, est_shape1(-1));
    sp.indices = est_placeholder(g, "indices", EST_DTYPE_I64, est_shape2(-1, 2));
    sp.dense_shape = est_placeholder(g, "dense_shape", EST_DTYPE_I64, est_shape1(2));
    x = est_placeholder(g, "params", EST_DTYPE_F32, est_shape2(10, 3));
    CHECK(est_embedding_lookup_sparse(g, x, &sp, NULL, EST_COMBINER_SUM) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "embedding_lookup_sparse");
    est_graph_free(g);
}

/* Sparse embeddings fed at run time: rows from rows_like, run-time checks of ids and rows. */
TEST(layers_embedding_sparse_runtime)
{
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_sparse sp;
    est_node *params, *y;
    est_tensor *tix = NULL, *tid = NULL, *tds = NULL, *tpa = NULL, *tlab = NULL, out;
    est_feed f[5];
    int64_t ix[6] = {0, 0, 2, 0, 2, 1}, ids[3] = {1, 2, 0}, ds[2] = {3, 2};
    float pa[6] = {1, 2, 3, 4, 5, 6}, lab[3] = {0, 0, 0};
    float want[6] = {3, 4, 0, 0, (5 + 1) / 2.0f, (6 + 2) / 2.0f};
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&sp, 0, sizeof sp);
    sp.indices = est_placeholder(g, "indices", EST_DTYPE_I64, est_shape2(-1, 2));
    sp.values = est_placeholder(g, "ids", EST_DTYPE_I64, est_shape1(-1));
    sp.dense_shape = est_placeholder(g, "dense_shape", EST_DTYPE_I64, est_shape1(2));
    sp.rows_like = est_placeholder(g, "labels", EST_DTYPE_F32, est_shape1(-1));
    params = est_placeholder(g, "params", EST_DTYPE_F32, est_shape2(3, 2));
    y = est_embedding_lookup_sparse(g, params, &sp, NULL, EST_COMBINER_DEFAULT);
    REQUIRE(y);
    CHECK(lay_shape_is(est_node_shape(y), 2, -1, 2, 0, 0));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I64, est_shape2(3, 2), ix, &tix));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I64, est_shape1(3), ids, &tid));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I64, est_shape1(2), ds, &tds));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(3, 2), pa, &tpa));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape1(3), lab, &tlab));
    f[0].node = sp.indices;
    f[0].value = tix;
    f[1].node = sp.values;
    f[1].value = tid;
    f[2].node = sp.dense_shape;
    f[2].value = tds;
    f[3].node = params;
    f[3].value = tpa;
    f[4].node = sp.rows_like;
    f[4].value = tlab;
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    CHECK_OK(est_plan_run(p, f, 5, &out));
    CHECK(lay_shape_is(out.shape, 2, 3, 2, 0, 0));
    CHECK_ALLCLOSE((const float *)out.data, want, 6, 1e-6, 1e-6); /* mean; row 1 empty -> zeros */
    ((int64_t *)tid->data)[1] = 3; /* id out of range */
    CHECK_STATUS(est_plan_run(p, f, 5, &out), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "id 3 at entry 1 is outside [0, 3)");
    ((int64_t *)tid->data)[1] = 2;
    ((int64_t *)tds->data)[0] = 4; /* dense_shape disagrees with rows_like */
    CHECK_STATUS(est_plan_run(p, f, 5, &out), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "dense_shape[0] is 4");
    ((int64_t *)tds->data)[0] = 3;
    ((int64_t *)tix->data)[2] = 3; /* row beyond dense_shape[0] */
    CHECK_STATUS(est_plan_run(p, f, 5, &out), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "row index 3 at entry 1");
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(tix);
    est_tensor_free(tid);
    est_tensor_free(tds);
    est_tensor_free(tpa);
    est_tensor_free(tlab);
}

/* ---- dropout, alpha dropout, flatten, global pooling, regularizers ---- */

static est_tensor *lay_run1(est_graph *g, est_node *y, est_node *ph, const est_tensor *v)
{
    est_plan *p = NULL;
    est_plan_desc pd;
    est_feed f;
    est_tensor out, *copy = NULL;
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    f.node = ph;
    f.value = v;
    if (est_plan_new(g, &pd, &p) == EST_OK && est_plan_run(p, &f, ph ? 1 : 0, &out) == EST_OK)
        est_tensor_copy(&out, &copy);
    else
        printf("lay_run1: %s\n", est_last_error());
    est_plan_free(p);
    return copy;
}

TEST(layers_dropout)
{
    est_graph *g = NULL;
    est_node *x, *y0, *y1, *a0, *a1;
    est_tensor *v = NULL, *r;
    const double alpha_p = -1.7580993408473766, rate = 0.2;
    double sa = pow((1 - rate) * (1 + rate * alpha_p * alpha_p), -0.5), sb = -sa * alpha_p * rate;
    double mean = 0, var = 0;
    int64_t i, n = 20000, zeros = 0, dropped = 0;
    REQUIRE_OK(est_graph_new(NULL, &g));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(100, 200), &v));
    {
        /* standard-normal-ish input: the sum of 4 uniforms, rescaled */
        uint64_t s = 99;
        for (i = 0; i < n; i++) {
            float u = test_rng_uniform(&s) + test_rng_uniform(&s) + test_rng_uniform(&s) + test_rng_uniform(&s);
            ((float *)v->data)[i] = u * 0.8660254f;
        }
    }
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 200));
    y0 = est_dropout_layer(g, x, 0.5f, 0, 0);
    y1 = est_dropout_layer(g, x, 0.5f, 1, 7);
    a0 = est_alpha_dropout(g, x, (float)rate, 0, 0);
    a1 = est_alpha_dropout(g, x, (float)rate, 1, 7);
    REQUIRE(y0 && y1 && a0 && a1);
    CHECK_STR_CONTAINS(est_node_name(y1), "dropout_1/");
    r = lay_run1(g, y0, x, v);
    REQUIRE(r);
    CHECK_ALLCLOSE((const float *)r->data, (const float *)v->data, n, 0, 0);
    est_tensor_free(r);
    r = lay_run1(g, y1, x, v);
    REQUIRE(r);
    for (i = 0; i < n; i++) {
        float o = ((float *)r->data)[i], in = ((float *)v->data)[i];
        if (o == 0) zeros++;
        else if (fabsf(o - 2 * in) > 1e-5f) break;
    }
    CHECK(i == n);
    CHECK(zeros > n * 0.45 && zeros < n * 0.55);
    est_tensor_free(r);
    r = lay_run1(g, a0, x, v);
    REQUIRE(r);
    CHECK_ALLCLOSE((const float *)r->data, (const float *)v->data, n, 0, 0);
    est_tensor_free(r);
    r = lay_run1(g, a1, x, v);
    REQUIRE(r);
    for (i = 0; i < n; i++) {
        double o = ((float *)r->data)[i], in = ((float *)v->data)[i];
        if (fabs(o - (sa * alpha_p + sb)) < 1e-5) dropped++;
        else if (fabs(o - (sa * in + sb)) > 1e-4) break;
        mean += o;
    }
    CHECK(i == n);
    CHECK(dropped > n * 0.17 && dropped < n * 0.23);
    mean /= (double)n;
    for (i = 0; i < n; i++) var += (((float *)r->data)[i] - mean) * (((float *)r->data)[i] - mean);
    var /= (double)n;
    /* SELU's fixed point is kept: zero mean, unit variance */
    CHECK_NEAR(mean, 0.0, 0.05);
    CHECK_NEAR(var, 1.0, 0.06);
    est_tensor_free(r);
    est_tensor_free(v);
    est_graph_free(g);
}

TEST(layers_flatten_global_pooling_regularizers)
{
    est_graph *g = NULL;
    est_node *x, *f, *gm, *gx, *gk, *reg;
    est_tensor *v = NULL, *r;
    est_dense_args da;
    float *d;
    int i, c;
    REQUIRE_OK(est_graph_new(NULL, &g));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(2, 2, 3, 4), &v));
    d = (float *)v->data;
    test_fill_uniform(d, 48, 5);
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 2, 3, 4));
    f = est_flatten(g, x);
    gm = est_global_average_pooling2d(g, x, 0);
    gx = est_global_max_pooling2d(g, x, 0);
    gk = est_global_average_pooling2d(g, x, 1);
    REQUIRE(f && gm && gx && gk);
    CHECK(lay_shape_is(est_node_shape(f), 2, -1, 24, 0, 0));
    CHECK(lay_shape_is(est_node_shape(gm), 2, -1, 4, 0, 0));
    CHECK(lay_shape_is(est_node_shape(gk), 4, -1, 1, 1, 4));
    r = lay_run1(g, f, x, v);
    REQUIRE(r);
    CHECK(lay_shape_is(r->shape, 2, 2, 24, 0, 0));
    CHECK_ALLCLOSE((const float *)r->data, d, 48, 0, 0);
    est_tensor_free(r);
    r = lay_run1(g, gm, x, v);
    REQUIRE(r);
    for (i = 0; i < 2; i++)
        for (c = 0; c < 4; c++) {
            double s = 0;
            int k;
            for (k = 0; k < 6; k++) s += d[i * 24 + k * 4 + c];
            CHECK_NEAR(((float *)r->data)[i * 4 + c], s / 6, 1e-6);
        }
    est_tensor_free(r);
    r = lay_run1(g, gx, x, v);
    REQUIRE(r);
    for (i = 0; i < 2; i++)
        for (c = 0; c < 4; c++) {
            float m = -1e30f;
            int k;
            for (k = 0; k < 6; k++) m = d[i * 24 + k * 4 + c] > m ? d[i * 24 + k * 4 + c] : m;
            CHECK(((float *)r->data)[i * 4 + c] == m);
        }
    est_tensor_free(r);
    /* a kernel regularizer adds l2 * sum(kernel^2) to REGULARIZATION_LOSSES */
    memset(&da, 0, sizeof da);
    da.kernel_regularizer.kind = EST_REGULARIZER_L2;
    da.kernel_regularizer.l2 = 0.5f;
    da.not_trainable = 1;
    CHECK(est_dense(g, f, 3, &da) != NULL);
    reg = est_get_regularization_loss(g);
    r = lay_run1(g, reg, NULL, NULL);
    REQUIRE(r);
    {
        est_tensor *k = est_var_store_find(est_graph_store(g), "dense/kernel");
        double s = 0;
        REQUIRE(k);
        for (i = 0; i < 72; i++) s += (double)((float *)k->data)[i] * ((float *)k->data)[i];
        CHECK_NEAR(((float *)r->data)[0], 0.5 * s, 1e-5);
        CHECK(est_var_store_flags(est_graph_store(g), "dense/kernel") & EST_VAR_NOT_TRAINABLE);
    }
    est_tensor_free(r);
    est_tensor_free(v);
    est_graph_free(g);
}
