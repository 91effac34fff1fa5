/* Tests of the neural-network ops (op_nn.c): softmax / log_softmax, the three cross-entropies with
 * logits (PyTorch parity from tests/fixtures/gen_nn.py), l2_normalize, gradient checks of all of
 * them, the Philox random ops (statistics, truncation, reproducibility, thread independence),
 * dropout, and the error paths. */
#include "gradcheck.h"

/* ---- helpers ---- */

static est_tensor *nn_fx(const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "nn/%s", name);
    return fixture(buf);
}

/* Compile and run fetches once (optional pool); outs receive copies (free them). */
static est_status nn_run(est_graph *g, est_node *const *fetches, int n, const est_feed *feeds, int n_feeds,
                         est_threadpool *pool, est_tensor **outs)
{
    est_plan *p = NULL;
    est_plan_desc pd;
    est_tensor res[8];
    est_status s;
    int i;
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetches;
    pd.n_fetches = n;
    pd.pool = pool;
    for (i = 0; i < n; i++) outs[i] = NULL;
    if ((s = est_plan_new(g, &pd, &p)) != EST_OK) return s;
    s = est_plan_run(p, feeds, n_feeds, res);
    for (i = 0; i < n && s == EST_OK; i++) s = est_tensor_copy(&res[i], &outs[i]);
    est_plan_free(p);
    return s;
}

static void nn_free_all(est_tensor **t, int n)
{
    int i;
    for (i = 0; i < n; i++) est_tensor_free(t[i]);
}

/* ---- softmax / log_softmax ---- */

typedef struct nn_axis_ctx {
    int log, axis;
} nn_axis_ctx;

static est_node *nn_build_softmax(est_graph *g, est_node **in, void *ctx)
{
    const nn_axis_ctx *c = (const nn_axis_ctx *)ctx;
    return c->log ? est_log_softmax(g, in[0], c->axis) : est_softmax(g, in[0], c->axis);
}

static void nn_check_softmax_fixture(int log, int axis, const char *ref)
{
    nn_axis_ctx c;
    est_tensor *x = nn_fx("softmax_x"), *want = nn_fx(ref), *got;
    const est_tensor *in[1];
    c.log = log;
    c.axis = axis;
    in[0] = x;
    got = (x && want) ? gc_forward(nn_build_softmax, &c, 1, in) : NULL;
    CHECK_MSG(got != NULL, "softmax fixture %s", ref);
    if (got) {
        CHECK(est_shape_equal(&got->shape, &want->shape));
        CHECK_ALLCLOSE(est_tensor_f32(got), est_tensor_f32(want), est_tensor_numel(want), 1e-6, 1e-5);
    }
    est_tensor_free(x);
    est_tensor_free(want);
    est_tensor_free(got);
}

TEST(nn_softmax_torch_parity)
{
    nn_check_softmax_fixture(0, -1, "softmax_y_last");
    nn_check_softmax_fixture(0, 1, "softmax_y_axis1");
    nn_check_softmax_fixture(1, -1, "log_softmax_y_last");
    nn_check_softmax_fixture(1, 0, "log_softmax_y_axis0");
}

TEST(nn_softmax_is_stable_for_huge_logits)
{
    float x[6] = {1000.0f, 1001.0f, 1002.0f, -1000.0f, -1001.0f, -1002.0f};
    float want[3] = {0.09003057f, 0.24472847f, 0.66524096f};
    est_tensor *t = NULL, *y, *ly;
    const est_tensor *in[1];
    nn_axis_ctx c;
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(2, 3), x, &t));
    in[0] = t;
    c.log = 0;
    c.axis = -1;
    y = gc_forward(nn_build_softmax, &c, 1, in);
    c.log = 1;
    ly = gc_forward(nn_build_softmax, &c, 1, in);
    REQUIRE(y && ly);
    CHECK_ALLCLOSE(est_tensor_f32(y), want, 3, 1e-6, 1e-5);
    CHECK_NEAR(est_tensor_f32(y)[3], want[2], 1e-6);
    CHECK_NEAR(est_tensor_f32(ly)[0], -2.40760596, 1e-5);
    CHECK_NEAR(est_tensor_f32(ly)[5], -2.40760596, 1e-5);
    est_tensor_free(t);
    est_tensor_free(y);
    est_tensor_free(ly);
}

TEST(nn_softmax_gradcheck)
{
    gc_input in[1];
    nn_axis_ctx c;
    memset(in, 0, sizeof in);
    in[0].shape = est_shape3(3, 4, 5);
    in[0].lo = -3.0f;
    in[0].hi = 3.0f;
    c.log = 0;
    c.axis = -1;
    CHECK(gradcheck("softmax axis -1", nn_build_softmax, &c, 1, in, 1e-3, 1e-3, 1e-2));
    c.axis = 0;
    CHECK(gradcheck("softmax axis 0", nn_build_softmax, &c, 1, in, 1e-3, 1e-3, 1e-2));
    c.log = 1;
    c.axis = -1;
    CHECK(gradcheck("log_softmax axis -1", nn_build_softmax, &c, 1, in, 1e-3, 1e-3, 1e-2));
    c.axis = 1;
    CHECK(gradcheck("log_softmax axis 1", nn_build_softmax, &c, 1, in, 1e-3, 1e-3, 1e-2));
}

/* ---- cross-entropies: PyTorch parity of losses and gradients ---- */

typedef enum nn_xent { NN_SPARSE, NN_DENSE, NN_SIGMOID } nn_xent;

static est_node *nn_build_xent(est_graph *g, est_node **in, void *ctx)
{
    switch (*(const nn_xent *)ctx) {
    case NN_SPARSE: return est_sparse_softmax_cross_entropy_with_logits(g, in[0], in[1]);
    case NN_DENSE: return est_softmax_cross_entropy_with_logits(g, in[0], in[1]);
    default: return est_sigmoid_cross_entropy_with_logits(g, in[0], in[1]);
    }
}

/* Loss and its gradients for grad_y = w from fixtures <prefix>_{labels,logits,w,loss,dlogits,dlabels};
 * dynamic: the batch dimension of both placeholders is -1. */
static void nn_check_xent_fixture(nn_xent kind, const char *prefix, int dynamic)
{
    static const char *names[6] = {"labels", "logits", "w", "loss", "dlogits", "dlabels"};
    est_tensor *t[6], *outs[3];
    est_graph *g = NULL;
    est_node *ph[2], *y, *grads[2], *fetch[3];
    est_feed feeds[2];
    char buf[128];
    int i, nf;
    memset(outs, 0, sizeof outs);
    for (i = 0; i < 6; i++) {
        snprintf(buf, sizeof buf, "%s_%s", prefix, names[i]);
        t[i] = (i == 5 && kind == NN_SPARSE) ? NULL : nn_fx(buf);
        if (!t[i] && !(i == 5 && kind == NN_SPARSE)) {
            CHECK_MSG(0, "missing fixture %s", buf);
            goto done;
        }
    }
    if (est_graph_new(NULL, &g) != EST_OK) goto done;
    for (i = 0; i < 2; i++) {
        est_shape s = t[i]->shape;
        if (dynamic) s.dims[0] = -1;
        ph[i] = est_placeholder(g, i ? "logits" : "labels", t[i]->dtype, s);
        feeds[i].node = ph[i];
        feeds[i].value = t[i];
    }
    y = nn_build_xent(g, ph, &kind);
    CHECK_OK(est_graph_status(g));
    if (!y) goto done;
    if (dynamic) CHECK(est_node_shape(y).dims[0] == -1);
    /* d/dlogits always; d/dlabels for the float-label losses */
    if (kind == NN_SPARSE) {
        CHECK_OK(est_gradients(g, y, &ph[1], 1, est_constant(g, t[2]), grads));
        nf = 2;
        fetch[1] = grads[0];
    } else {
        est_node *xs[2];
        xs[0] = ph[1];
        xs[1] = ph[0];
        CHECK_OK(est_gradients(g, y, xs, 2, est_constant(g, t[2]), grads));
        nf = 3;
        fetch[1] = grads[0];
        fetch[2] = grads[1];
    }
    fetch[0] = y;
    CHECK_OK(nn_run(g, fetch, nf, feeds, 2, NULL, outs));
    for (i = 0; i < nf; i++) {
        const est_tensor *want = t[3 + i];
        if (!outs[i] || !est_shape_equal(&outs[i]->shape, &want->shape)) {
            CHECK_MSG(0, "%s output %d: missing or wrong shape", prefix, i);
            continue;
        }
        CHECK_ALLCLOSE(est_tensor_f32(outs[i]), est_tensor_f32(want), est_tensor_numel(want), 1e-5, 1e-5);
    }
done:
    nn_free_all(outs, 3);
    nn_free_all(t, 6);
    est_graph_free(g);
}

TEST(nn_sparse_softmax_xent_torch_parity)
{
    nn_check_xent_fixture(NN_SPARSE, "sparse_xent", 0);
    nn_check_xent_fixture(NN_SPARSE, "sparse_xent", 1);
}

TEST(nn_softmax_xent_torch_parity)
{
    nn_check_xent_fixture(NN_DENSE, "softmax_xent", 0);
    nn_check_xent_fixture(NN_DENSE, "softmax_xent", 1);
}

TEST(nn_sigmoid_xent_torch_parity)
{
    nn_check_xent_fixture(NN_SIGMOID, "sigmoid_xent", 0);
    nn_check_xent_fixture(NN_SIGMOID, "sigmoid_xent", 1);
}

TEST(nn_sparse_xent_int32_labels_and_higher_rank)
{
    /* int32 labels give the int64 losses; logits [2,3,5] with labels [2,3] give the same numbers
     * as the flattened [6,5] problem. */
    est_tensor *lab64 = nn_fx("sparse_xent_labels"), *lg = nn_fx("sparse_xent_logits"),
               *want = nn_fx("sparse_xent_loss");
    est_tensor *lab32 = NULL, *lab3 = NULL, *lg3 = NULL, *got = NULL, *got3 = NULL;
    const est_tensor *in[2];
    nn_xent kind = NN_SPARSE;
    int32_t l32[6];
    int i;
    REQUIRE(lab64 && lg && want);
    for (i = 0; i < 6; i++) l32[i] = (int32_t)est_tensor_i64(lab64)[i];
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I32, est_shape1(6), l32, &lab32));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I32, est_shape2(2, 3), l32, &lab3));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape3(2, 3, 5), lg->data, &lg3));
    in[0] = lab32;
    in[1] = lg;
    got = gc_forward(nn_build_xent, &kind, 2, in);
    in[0] = lab3;
    in[1] = lg3;
    got3 = gc_forward(nn_build_xent, &kind, 2, in);
    REQUIRE(got && got3);
    CHECK_ALLCLOSE(est_tensor_f32(got), est_tensor_f32(want), 6, 1e-5, 1e-5);
    CHECK(got3->shape.rank == 2 && got3->shape.dims[0] == 2 && got3->shape.dims[1] == 3);
    CHECK_ALLCLOSE(est_tensor_f32(got3), est_tensor_f32(want), 6, 1e-5, 1e-5);
    est_tensor_free(lab64);
    est_tensor_free(lg);
    est_tensor_free(want);
    est_tensor_free(lab32);
    est_tensor_free(lab3);
    est_tensor_free(lg3);
    est_tensor_free(got);
    est_tensor_free(got3);
}

TEST(nn_sigmoid_xent_is_stable_for_huge_logits)
{
    float z[4] = {1.0f, 0.0f, 1.0f, 0.0f}, x[4] = {200.0f, 200.0f, -200.0f, -200.0f};
    float want[4] = {0.0f, 200.0f, 200.0f, 0.0f};
    est_tensor *tz = NULL, *tx = NULL, *got;
    const est_tensor *in[2];
    nn_xent kind = NN_SIGMOID;
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape1(4), z, &tz));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape1(4), x, &tx));
    in[0] = tz;
    in[1] = tx;
    got = gc_forward(nn_build_xent, &kind, 2, in);
    REQUIRE(got);
    CHECK_ALLCLOSE(est_tensor_f32(got), want, 4, 1e-6, 1e-6);
    est_tensor_free(tz);
    est_tensor_free(tx);
    est_tensor_free(got);
}

TEST(nn_softmax_xents_are_stable_for_huge_logits)
{
    /* Logits near 1000, where m + log(sum) would round away the answer in float32. */
    float x[3] = {1000.0f, 1001.0f, 1002.0f}, z[3] = {0.5f, 0.0f, 0.5f};
    int64_t lab[1] = {0};
    est_tensor *tl = NULL, *tz = NULL, *tx = NULL, *got;
    const est_tensor *in[2];
    nn_xent kind = NN_SPARSE;
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_I64, est_shape1(1), lab, &tl));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(1, 3), z, &tz));
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(1, 3), x, &tx));
    in[0] = tl;
    in[1] = tx;
    got = gc_forward(nn_build_xent, &kind, 2, in);
    REQUIRE(got);
    CHECK_NEAR(est_tensor_f32(got)[0], 2.40760596, 2e-6);
    est_tensor_free(got);
    kind = NN_DENSE; /* 0.5 * 2.40760596 + 0.5 * 0.40760596 */
    in[0] = tz;
    got = gc_forward(nn_build_xent, &kind, 2, in);
    REQUIRE(got);
    CHECK_NEAR(est_tensor_f32(got)[0], 1.40760596, 2e-6);
    est_tensor_free(got);
    est_tensor_free(tl);
    est_tensor_free(tz);
    est_tensor_free(tx);
}

TEST(nn_xent_gradcheck)
{
    gc_input in[2];
    int32_t labels[6] = {0, 4, 2, 1, 3, 4}, labels3[6] = {1, 0, 3, 3, 2, 0};
    nn_xent kind;
    memset(in, 0, sizeof in);
    /* sparse: w.r.t. logits only (labels are int32) */
    kind = NN_SPARSE;
    in[0].shape = est_shape1(6);
    in[0].dtype = EST_DTYPE_I32;
    in[0].data = labels;
    in[1].shape = est_shape2(6, 5);
    in[1].lo = -3.0f;
    in[1].hi = 3.0f;
    CHECK(gradcheck("sparse xent", nn_build_xent, &kind, 2, in, 1e-3, 1e-3, 1e-2));
    in[0].shape = est_shape2(2, 3);
    in[0].data = labels3;
    in[1].shape = est_shape3(2, 3, 4);
    CHECK(gradcheck("sparse xent rank 3", nn_build_xent, &kind, 2, in, 1e-3, 1e-3, 1e-2));
    /* softmax xent: labels and logits both differentiated */
    memset(in, 0, sizeof in);
    kind = NN_DENSE;
    in[0].shape = est_shape2(4, 5);
    in[0].lo = 0.0f;
    in[0].hi = 1.0f;
    in[1].shape = est_shape2(4, 5);
    in[1].lo = -3.0f;
    in[1].hi = 3.0f;
    CHECK(gradcheck("softmax xent", nn_build_xent, &kind, 2, in, 1e-3, 1e-3, 1e-2));
    /* sigmoid xent: both */
    kind = NN_SIGMOID;
    in[0].shape = est_shape3(2, 3, 4);
    in[1].shape = est_shape3(2, 3, 4);
    CHECK(gradcheck("sigmoid xent", nn_build_xent, &kind, 2, in, 1e-3, 1e-3, 1e-2));
}

/* ---- l2_normalize ---- */

typedef struct nn_l2_ctx {
    int axes[3], n_axes;
    float eps;
} nn_l2_ctx;

static est_node *nn_build_l2(est_graph *g, est_node **in, void *ctx)
{
    const nn_l2_ctx *c = (const nn_l2_ctx *)ctx;
    return est_l2_normalize(g, in[0], c->axes, c->n_axes, c->eps);
}

TEST(nn_l2_normalize_values)
{
    /* [2,3]: rows (3,4,0) and (0,0,0); axis 1 -> (0.6,0.8,0) and zeros (eps guards the 0/0);
     * all axes -> divided by 5; axis 0 -> columns (1,0),(1,0),(0,0). */
    float x[6] = {3.0f, 4.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    float want1[6] = {0.6f, 0.8f, 0.0f, 0.0f, 0.0f, 0.0f};
    float wantall[6] = {0.6f, 0.8f, 0.0f, 0.0f, 0.0f, 0.0f};
    float want0[6] = {1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    float big_eps[6] = {0.3f, 0.4f, 0.0f, 0.0f, 0.0f, 0.0f}; /* eps 100: x / 10 */
    est_tensor *t = NULL, *y;
    const est_tensor *in[1];
    nn_l2_ctx c;
    REQUIRE_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape2(2, 3), x, &t));
    in[0] = t;
    memset(&c, 0, sizeof c);
    c.axes[0] = -1;
    c.n_axes = 1;
    y = gc_forward(nn_build_l2, &c, 1, in);
    REQUIRE(y);
    CHECK_ALLCLOSE(est_tensor_f32(y), want1, 6, 1e-7, 1e-6);
    est_tensor_free(y);
    c.n_axes = 0;
    y = gc_forward(nn_build_l2, &c, 1, in);
    REQUIRE(y);
    CHECK_ALLCLOSE(est_tensor_f32(y), wantall, 6, 1e-7, 1e-6);
    est_tensor_free(y);
    c.axes[0] = 0;
    c.n_axes = 1;
    y = gc_forward(nn_build_l2, &c, 1, in);
    REQUIRE(y);
    CHECK_ALLCLOSE(est_tensor_f32(y), want0, 6, 1e-7, 1e-6);
    est_tensor_free(y);
    c.axes[0] = 1;
    c.eps = 100.0f;
    y = gc_forward(nn_build_l2, &c, 1, in);
    REQUIRE(y);
    CHECK_ALLCLOSE(est_tensor_f32(y), big_eps, 6, 1e-7, 1e-6);
    est_tensor_free(y);
    est_tensor_free(t);
}

TEST(nn_l2_normalize_gradcheck)
{
    gc_input in[1];
    nn_l2_ctx c;
    memset(in, 0, sizeof in);
    memset(&c, 0, sizeof c);
    in[0].shape = est_shape3(2, 3, 4);
    c.axes[0] = -1;
    c.n_axes = 1;
    CHECK(gradcheck("l2_normalize axis -1", nn_build_l2, &c, 1, in, 1e-3, 1e-3, 1e-2));
    c.axes[0] = 1;
    CHECK(gradcheck("l2_normalize axis 1", nn_build_l2, &c, 1, in, 1e-3, 1e-3, 1e-2));
    c.axes[0] = 0;
    c.axes[1] = 2;
    c.n_axes = 2;
    CHECK(gradcheck("l2_normalize axes 0,2", nn_build_l2, &c, 1, in, 1e-3, 1e-3, 1e-2));
    c.n_axes = 0;
    CHECK(gradcheck("l2_normalize all axes", nn_build_l2, &c, 1, in, 1e-3, 1e-3, 1e-2));
    /* below epsilon the max() passes no gradient: dx = dy * rsqrt(eps) */
    in[0].lo = -0.01f;
    in[0].hi = 0.01f;
    c.eps = 1.0f;
    CHECK(gradcheck("l2_normalize below eps", nn_build_l2, &c, 1, in, 1e-4, 1e-3, 1e-2));
}

/* ---- random ops ---- */

enum { NN_UNIFORM, NN_NORMAL, NN_TRUNCATED };

static est_node *nn_random(est_graph *g, int kind, est_shape shape, const est_random_args *a)
{
    switch (kind) {
    case NN_UNIFORM: return est_random_uniform(g, shape, a);
    case NN_NORMAL: return est_random_normal(g, shape, a);
    default: return est_truncated_normal(g, shape, a);
    }
}

/* n samples of one random op (after `runs` earlier runs of the same plan when runs > 0). */
static est_tensor *nn_sample(int kind, int64_t n, const est_random_args *args, uint64_t graph_seed,
                             est_threadpool *pool)
{
    est_graph *g = NULL;
    est_graph_desc gd;
    est_node *y;
    est_tensor *out = NULL;
    memset(&gd, 0, sizeof gd);
    gd.seed = graph_seed;
    if (est_graph_new(&gd, &g) != EST_OK) return NULL;
    y = nn_random(g, kind, est_shape1(n), args);
    if (!y || nn_run(g, &y, 1, NULL, 0, pool, &out) != EST_OK) printf("nn_sample: %s\n", est_last_error());
    est_graph_free(g);
    return out;
}

static void nn_moments(const float *x, int64_t n, double *mean, double *var, double *lo, double *hi)
{
    double s = 0, s2 = 0;
    int64_t i;
    *lo = *hi = x[0];
    for (i = 0; i < n; i++) {
        s += x[i];
        if (x[i] < *lo) *lo = x[i];
        if (x[i] > *hi) *hi = x[i];
    }
    *mean = s / (double)n;
    for (i = 0; i < n; i++) s2 += (x[i] - *mean) * (x[i] - *mean);
    *var = s2 / (double)(n - 1);
}

TEST(nn_random_uniform_statistics)
{
    /* 100k samples: the standard error of the mean is ~0.0009 (U[0,1)), so 0.005 is > 5 sigma. */
    est_random_args a;
    est_tensor *t;
    double mean, var, lo, hi;
    memset(&a, 0, sizeof a);
    t = nn_sample(NN_UNIFORM, 100000, &a, 0, NULL);
    REQUIRE(t);
    nn_moments(est_tensor_f32(t), 100000, &mean, &var, &lo, &hi);
    CHECK_NEAR(mean, 0.5, 0.005);
    CHECK_NEAR(var, 1.0 / 12.0, 0.002);
    CHECK(lo >= 0.0 && hi < 1.0);
    CHECK(lo < 0.001 && hi > 0.999);
    est_tensor_free(t);
    a.minval = -2.0f;
    a.maxval = 3.0f;
    t = nn_sample(NN_UNIFORM, 100000, &a, 0, NULL);
    REQUIRE(t);
    nn_moments(est_tensor_f32(t), 100000, &mean, &var, &lo, &hi);
    CHECK_NEAR(mean, 0.5, 0.025);
    CHECK_NEAR(var, 25.0 / 12.0, 0.05);
    CHECK(lo >= -2.0 && hi < 3.0);
    est_tensor_free(t);
}

TEST(nn_random_normal_statistics)
{
    est_random_args a;
    est_tensor *t;
    double mean, var, lo, hi;
    int64_t i, n = 100000, beyond2 = 0;
    memset(&a, 0, sizeof a);
    t = nn_sample(NN_NORMAL, n, &a, 0, NULL);
    REQUIRE(t);
    nn_moments(est_tensor_f32(t), n, &mean, &var, &lo, &hi);
    CHECK_NEAR(mean, 0.0, 0.015); /* standard error 0.0032 */
    CHECK_NEAR(var, 1.0, 0.03);   /* standard error 0.0045 */
    for (i = 0; i < n; i++) beyond2 += fabsf(est_tensor_f32(t)[i]) > 2.0f;
    CHECK_NEAR((double)beyond2 / (double)n, 0.0455, 0.005); /* the tails are there */
    CHECK(lo < -3.5 && hi > 3.5);
    est_tensor_free(t);
    a.mean = 3.0f;
    a.stddev = 2.0f;
    t = nn_sample(NN_NORMAL, n, &a, 0, NULL);
    REQUIRE(t);
    nn_moments(est_tensor_f32(t), n, &mean, &var, &lo, &hi);
    CHECK_NEAR(mean, 3.0, 0.03);
    CHECK_NEAR(var, 4.0, 0.12);
    est_tensor_free(t);
}

TEST(nn_truncated_normal_statistics)
{
    /* A standard normal truncated to [-2, 2] has variance 1 - 4 phi(2) / (2 Phi(2) - 1) = 0.77371. */
    est_random_args a;
    est_tensor *t;
    double mean, var, lo, hi;
    int64_t n = 100000;
    memset(&a, 0, sizeof a);
    t = nn_sample(NN_TRUNCATED, n, &a, 0, NULL);
    REQUIRE(t);
    nn_moments(est_tensor_f32(t), n, &mean, &var, &lo, &hi);
    CHECK(lo >= -2.0 && hi <= 2.0);
    CHECK(lo < -1.99 && hi > 1.99);
    CHECK_NEAR(mean, 0.0, 0.012);
    CHECK_NEAR(var, 0.77371, 0.02);
    est_tensor_free(t);
    a.mean = -1.0f;
    a.stddev = 0.5f;
    t = nn_sample(NN_TRUNCATED, n, &a, 0, NULL);
    REQUIRE(t);
    nn_moments(est_tensor_f32(t), n, &mean, &var, &lo, &hi);
    CHECK(lo >= -2.0 && hi <= 0.0);
    CHECK_NEAR(mean, -1.0, 0.01);
    CHECK_NEAR(var, 0.77371 * 0.25, 0.006);
    est_tensor_free(t);
}

static int nn_same_bits(const est_tensor *a, const est_tensor *b)
{
    return a && b && a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0;
}

TEST(nn_random_reproducible_by_seed_and_step)
{
    est_graph *g = NULL;
    est_plan *p = NULL, *q = NULL;
    est_plan_desc pd;
    est_node *y;
    est_random_args a;
    est_tensor r[1], *first = NULL, *second = NULL, *again = NULL, *other = NULL;
    int kind;
    for (kind = NN_UNIFORM; kind <= NN_TRUNCATED; kind++) {
        REQUIRE_OK(est_graph_new(NULL, &g));
        memset(&a, 0, sizeof a);
        a.seed = 42;
        y = nn_random(g, kind, est_shape2(50, 40), &a);
        REQUIRE(y);
        memset(&pd, 0, sizeof pd);
        pd.fetches = &y;
        pd.n_fetches = 1;
        REQUIRE_OK(est_plan_new(g, &pd, &p));
        REQUIRE_OK(est_plan_new(g, &pd, &q));
        CHECK_OK(est_plan_run(p, NULL, 0, r)); /* step 0 */
        CHECK_OK(est_tensor_copy(&r[0], &first));
        CHECK_OK(est_plan_run(p, NULL, 0, r)); /* step 1: a new draw */
        CHECK_OK(est_tensor_copy(&r[0], &second));
        CHECK(!nn_same_bits(first, second));
        CHECK_OK(est_plan_run(q, NULL, 0, r)); /* another plan at step 0: the same draw */
        CHECK(nn_same_bits(first, &r[0]));
        est_plan_set_step(p, 0);
        CHECK_OK(est_plan_run(p, NULL, 0, r));
        CHECK(nn_same_bits(first, &r[0]));
        est_plan_set_step(p, 1);
        CHECK_OK(est_plan_run(p, NULL, 0, r));
        CHECK(nn_same_bits(second, &r[0]));
        est_plan_free(p);
        est_plan_free(q);
        est_graph_free(g);
        est_tensor_free(second);
        second = NULL;

        /* same graph and op seeds in a new graph: the same values; another op seed or graph seed:
         * others. Element i depends on i only, not on the shape. */
        a.seed = 42;
        again = nn_sample(kind, 2000, &a, 0, NULL);
        CHECK(nn_same_bits(first, again));
        est_tensor_free(again);
        a.seed = 43;
        other = nn_sample(kind, 2000, &a, 0, NULL);
        CHECK(other && !nn_same_bits(first, other));
        est_tensor_free(other);
        a.seed = 42;
        other = nn_sample(kind, 2000, &a, 7, NULL);
        CHECK(other && !nn_same_bits(first, other));
        est_tensor_free(other);
        est_tensor_free(first);
        first = NULL;
    }
}

TEST(nn_random_unseeded_ops_differ_but_repeat_per_graph)
{
    /* Without op seeds two ops of one graph differ; rebuilding the graph repeats them (TF's rule
     * with a graph seed). */
    est_tensor *o1[2], *o2[2];
    int round;
    for (round = 0; round < 2; round++) {
        est_graph *g = NULL;
        est_node *y[2];
        REQUIRE_OK(est_graph_new(NULL, &g));
        y[0] = est_random_uniform(g, est_shape1(1000), NULL);
        y[1] = est_random_uniform(g, est_shape1(1000), NULL);
        CHECK_OK(nn_run(g, y, 2, NULL, 0, NULL, round ? o2 : o1));
        est_graph_free(g);
    }
    CHECK(!nn_same_bits(o1[0], o1[1]));
    CHECK(nn_same_bits(o1[0], o2[0]));
    CHECK(nn_same_bits(o1[1], o2[1]));
    nn_free_all(o1, 2);
    nn_free_all(o2, 2);
}

TEST(nn_random_bit_identical_across_thread_counts)
{
    est_threadpool *pool = NULL;
    est_threadpool_desc td;
    est_random_args a;
    int kind;
    memset(&td, 0, sizeof td);
    td.num_threads = 2;
    REQUIRE_OK(est_threadpool_new(&td, &pool));
    memset(&a, 0, sizeof a);
    a.seed = 9;
    for (kind = NN_UNIFORM; kind <= NN_TRUNCATED; kind++) {
        /* 100003 elements: several chunks, and a last block of 4 that is cut short */
        est_tensor *t1 = nn_sample(kind, 100003, &a, 0, NULL), *t2 = nn_sample(kind, 100003, &a, 0, pool);
        CHECK_MSG(nn_same_bits(t1, t2), "random kind %d differs between 1 and 2 threads", kind);
        est_tensor_free(t1);
        est_tensor_free(t2);
    }
    {
        /* dropout too */
        est_graph *g = NULL;
        est_node *x, *y;
        est_tensor *xv = NULL, *o1, *o2;
        est_feed f;
        REQUIRE_OK(est_graph_new(NULL, &g));
        REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(1000, 77), &xv));
        test_fill_uniform(est_tensor_f32(xv), 77000, 5);
        x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 77));
        y = est_dropout(g, x, 0.4f, 3);
        f.node = x;
        f.value = xv;
        CHECK_OK(nn_run(g, &y, 1, &f, 1, NULL, &o1));
        CHECK_OK(nn_run(g, &y, 1, &f, 1, pool, &o2));
        CHECK(nn_same_bits(o1, o2));
        est_tensor_free(o1);
        est_tensor_free(o2);
        est_tensor_free(xv);
        est_graph_free(g);
    }
    est_threadpool_free(pool);
}

TEST(nn_random_shape_like_and_no_gradient)
{
    est_graph *g = NULL;
    est_node *x, *y, *gr[1];
    est_random_args a;
    est_tensor *xv = NULL, *out = NULL;
    est_feed f;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 3));
    memset(&a, 0, sizeof a);
    a.shape_like = x;
    y = est_random_normal(g, est_shape_scalar(), &a);
    REQUIRE(y);
    CHECK(est_node_shape(y).rank == 2 && est_node_shape(y).dims[0] == -1 && est_node_shape(y).dims[1] == 3);
    CHECK(est_node_dtype(y) == EST_DTYPE_F32);
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(4, 3), &xv));
    f.node = x;
    f.value = xv;
    CHECK_OK(nn_run(g, &y, 1, &f, 1, NULL, &out));
    REQUIRE(out);
    CHECK(est_shape_equal(&out->shape, &xv->shape));
    /* random values pass no gradient to shape_like */
    CHECK_OK(est_gradients(g, y, &x, 1, NULL, gr));
    CHECK(gr[0] == NULL);
    est_tensor_free(out);
    est_tensor_free(xv);
    est_graph_free(g);
}

/* ---- dropout ---- */

TEST(nn_dropout_keeps_fraction_and_scales)
{
    est_graph *g = NULL;
    est_node *x, *y;
    est_tensor *xv = NULL, *out = NULL;
    est_feed f;
    int64_t i, n = 100000, kept = 0, bad = 0;
    float rate = 0.3f, scale = 1.0f / (1.0f - 0.3f);
    REQUIRE_OK(est_graph_new(NULL, &g));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape1(n), &xv));
    test_fill_uniform(est_tensor_f32(xv), n, 11);
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape1(-1));
    y = est_dropout(g, x, rate, 0);
    REQUIRE(y);
    f.node = x;
    f.value = xv;
    CHECK_OK(nn_run(g, &y, 1, &f, 1, NULL, &out));
    REQUIRE(out);
    for (i = 0; i < n; i++) {
        float xi = est_tensor_f32(xv)[i], yi = est_tensor_f32(out)[i];
        if (yi != 0.0f) {
            kept++;
            bad += yi != xi * scale;
        }
    }
    CHECK(bad == 0);
    CHECK_NEAR((double)kept / (double)n, 0.7, 0.006); /* standard error 0.0014 */
    est_tensor_free(out);
    est_tensor_free(xv);
    est_graph_free(g);
}

TEST(nn_dropout_mask_is_random_uniform_ge_rate)
{
    /* tf.nn.dropout's definition: keep where random_uniform(shape of x) >= rate; with the same
     * seed both ops draw the same uniforms. */
    est_graph *g = NULL;
    est_node *x, *fetch[2];
    est_random_args a;
    est_tensor *xv = NULL, *out[2];
    est_feed f;
    int64_t i, n = 5000, bad = 0;
    REQUIRE_OK(est_graph_new(NULL, &g));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape1(n), &xv));
    for (i = 0; i < n; i++) est_tensor_f32(xv)[i] = 1.0f;
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape1(n));
    memset(&a, 0, sizeof a);
    a.shape_like = x;
    a.seed = 1234;
    fetch[0] = est_dropout(g, x, 0.25f, 1234);
    fetch[1] = est_random_uniform(g, est_shape_scalar(), &a);
    f.node = x;
    f.value = xv;
    CHECK_OK(nn_run(g, fetch, 2, &f, 1, NULL, out));
    REQUIRE(out[0] && out[1]);
    for (i = 0; i < n; i++)
        bad += (est_tensor_f32(out[0])[i] != 0.0f) != (est_tensor_f32(out[1])[i] >= 0.25f);
    CHECK(bad == 0);
    nn_free_all(out, 2);
    est_tensor_free(xv);
    est_graph_free(g);
}

/* The lane-parallel Philox path (16 blocks at a time) draws exactly the numbers of one block at a
 * time, for uniform and dropout, over ranges with ragged starts and ends; and random_uniform's
 * values are Philox-4x32-10 of (element / 4, step) under the op's key, lane element % 4. */
TEST(nn_random_lane_parallel_matches_one_block_at_a_time)
{
    static const int64_t ranges[][2] = {{0, 64}, {0, 1000}, {5, 300}, {63, 129}, {64, 127}, {1, 2}, {100, 100}};
    enum { N = 1200 };
    static float x[N], y1[N], y2[N];
    est__rng_ctx c;
    size_t r;
    int kind, i;
    est_graph *g = NULL;
    est_node *u, *fetch[1];
    est_tensor *out[1];
    est_random_args a;
    for (i = 0; i < N; i++) x[i] = (float)i - 600.0f;
    memset(&c, 0, sizeof c);
    c.key[0] = 0x12345678u;
    c.key[1] = 0x9ABCDEF0u;
    c.step = 0x100000003ull;
    c.x = x;
    for (kind = 0; kind < 2; kind++)
        for (r = 0; r < EST__COUNTOF(ranges); r++) {
            c.kind = kind ? EST__RNG_DROPOUT : EST__RNG_UNIFORM;
            c.a = kind ? 0.3f : -2.0f;
            c.b = kind ? 1.0f / 0.7f : 3.0f;
            memset(y1, 0, sizeof y1);
            memset(y2, 0, sizeof y2);
            c.y = y1;
            est__rng_range(&c, ranges[r][0], ranges[r][1]);
            c.y = y2;
            est__rng_scalar(&c, ranges[r][0], ranges[r][1]);
            CHECK_MSG(memcmp(y1, y2, sizeof y1) == 0, "kind %d range [%lld, %lld)", kind, (long long)ranges[r][0],
                      (long long)ranges[r][1]);
        }
    /* through a graph: against the reference Philox */
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&a, 0, sizeof a);
    a.seed = 77;
    a.minval = 0.0f;
    a.maxval = 1.0f;
    u = est_random_uniform(g, est_shape1(N), &a);
    REQUIRE(u != NULL);
    fetch[0] = u;
    CHECK_OK(nn_run(g, fetch, 1, NULL, 0, NULL, out));
    REQUIRE(out[0]);
    {
        uint64_t key = est__splitmix64(u->seed);
        uint32_t k2[2], ctr[4], w[4];
        int bad = 0;
        k2[0] = (uint32_t)key;
        k2[1] = (uint32_t)(key >> 32);
        for (i = 0; i < N; i++) {
            ctr[0] = (uint32_t)(i / 4);
            ctr[1] = ctr[2] = ctr[3] = 0; /* block < 2^32, attempt 0, first run: step 0 */
            est_philox4x32(k2, ctr, w);
            bad += est_tensor_f32(out[0])[i] != est_uniform_from_bits(w[i % 4]);
        }
        CHECK(bad == 0);
    }
    nn_free_all(out, 1);
    est_graph_free(g);
}

TEST(nn_dropout_gradient_uses_the_same_mask)
{
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_node *x, *y, *dyc, *gr[1], *fetch[2];
    est_tensor *xv = NULL, *dyv = NULL, res[2], *y0 = NULL;
    est_feed f;
    int64_t i, n = 20000, bad = 0;
    int run;
    float scale = 1.0f / (1.0f - 0.5f);
    REQUIRE_OK(est_graph_new(NULL, &g));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(100, 200), &xv));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(100, 200), &dyv));
    test_fill_uniform(est_tensor_f32(xv), n, 1);
    test_fill_uniform(est_tensor_f32(dyv), n, 2);
    for (i = 0; i < n; i++)
        if (est_tensor_f32(xv)[i] == 0.0f) est_tensor_f32(xv)[i] = 0.5f; /* so y == 0 means dropped */
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 200));
    y = est_dropout(g, x, 0.5f, 0);
    dyc = est_constant(g, dyv);
    REQUIRE_OK(est_gradients(g, y, &x, 1, dyc, gr));
    REQUIRE(gr[0]);
    fetch[0] = y;
    fetch[1] = gr[0];
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 2;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    f.node = x;
    f.value = xv;
    for (run = 0; run < 2; run++) { /* a new mask each run, shared by y and dx */
        CHECK_OK(est_plan_run(p, &f, 1, res));
        for (i = 0; i < n; i++) {
            float yi = est_tensor_f32(&res[0])[i], dxi = est_tensor_f32(&res[1])[i];
            float want = yi != 0.0f ? est_tensor_f32(dyv)[i] * scale : 0.0f;
            bad += dxi != want;
        }
        if (run == 0)
            CHECK_OK(est_tensor_copy(&res[0], &y0));
        else
            CHECK(!nn_same_bits(y0, &res[0]));
    }
    CHECK(bad == 0);
    est_tensor_free(y0);
    est_plan_free(p);
    est_tensor_free(xv);
    est_tensor_free(dyv);
    est_graph_free(g);
}

TEST(nn_dropout_rate_zero_and_bad_rates)
{
    est_graph *g = NULL;
    est_node *x, *i32;
    float bad[4];
    int k;
    bad[0] = 1.0f;
    bad[1] = -0.1f;
    bad[2] = 1.5f;
    bad[3] = (float)NAN;
    REQUIRE_OK(est_graph_new(NULL, &g));
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape1(3));
    CHECK(est_dropout(g, x, 0.0f, 0) == x);
    est_graph_free(g);
    for (k = 0; k < 4; k++) {
        REQUIRE_OK(est_graph_new(NULL, &g));
        x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape1(3));
        CHECK(est_dropout(g, x, bad[k], 0) == NULL);
        CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(est_graph_error(g), "Dropout");
        CHECK_STR_CONTAINS(est_graph_error(g), "rate");
        CHECK_STR_CONTAINS(est_graph_error(g), "'x'");
        est_graph_free(g);
    }
    REQUIRE_OK(est_graph_new(NULL, &g));
    i32 = est_placeholder(g, "ints", EST_DTYPE_I32, est_shape1(3));
    CHECK(est_dropout(g, i32, 0.5f, 0) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_DTYPE);
    est_graph_free(g);
}

/* ---- error paths ---- */

static void nn_check_bad_label(est_dtype dt, int64_t bad_value, int64_t bad_index)
{
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_node *lab, *lg, *y;
    est_tensor *lv = NULL, *gv = NULL, out;
    est_feed f[2];
    int64_t l64[3] = {0, 1, 2};
    int32_t l32[3] = {0, 1, 2};
    char want[160];
    l64[bad_index] = bad_value;
    l32[bad_index] = (int32_t)bad_value;
    REQUIRE_OK(est_graph_new(NULL, &g));
    lab = est_placeholder(g, "labels", dt, est_shape1(-1));
    lg = est_placeholder(g, "logits", EST_DTYPE_F32, est_shape2(-1, 4));
    y = est_sparse_softmax_cross_entropy_with_logits(g, lab, lg);
    REQUIRE(y);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    REQUIRE_OK(est_plan_new(g, &pd, &p));
    if (dt == EST_DTYPE_I64)
        REQUIRE_OK(est_tensor_from_data(dt, est_shape1(3), l64, &lv));
    else
        REQUIRE_OK(est_tensor_from_data(dt, est_shape1(3), l32, &lv));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(3, 4), &gv));
    f[0].node = lab;
    f[0].value = lv;
    f[1].node = lg;
    f[1].value = gv;
    CHECK_STATUS(est_plan_run(p, f, 2, &out), EST_ERR_INVALID_ARGUMENT);
    snprintf(want, sizeof want, "Received a label value of %lld which is outside the valid range of [0, 4).",
             (long long)bad_value);
    CHECK_STR_CONTAINS(est_last_error(), want);
    snprintf(want, sizeof want, "index %lld", (long long)bad_index);
    CHECK_STR_CONTAINS(est_last_error(), want);
    CHECK_STR_CONTAINS(est_last_error(), "SparseSoftmaxCrossEntropyWithLogits");
    est_plan_free(p);
    est_tensor_free(lv);
    est_tensor_free(gv);
    est_graph_free(g);
}

TEST(nn_sparse_xent_label_out_of_range_fails_at_run_time)
{
    nn_check_bad_label(EST_DTYPE_I64, 7, 1);
    nn_check_bad_label(EST_DTYPE_I64, 4, 2);
    nn_check_bad_label(EST_DTYPE_I32, -1, 0);
}

/* Builds op(labels of shape a, logits of shape b) and expects a shape error naming both. */
static void nn_expect_xent_shape_error(nn_xent kind, est_dtype label_dt, est_shape a, est_shape b,
                                       const char *sa, const char *sb)
{
    est_graph *g = NULL;
    est_node *in[2];
    REQUIRE_OK(est_graph_new(NULL, &g));
    in[0] = est_placeholder(g, "lab", label_dt, a);
    in[1] = est_placeholder(g, "lgt", EST_DTYPE_F32, b);
    CHECK(nn_build_xent(g, in, &kind) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "CrossEntropyWithLogits");
    CHECK_STR_CONTAINS(est_graph_error(g), sa);
    CHECK_STR_CONTAINS(est_graph_error(g), sb);
    est_graph_free(g);
}

TEST(nn_xent_shape_errors)
{
    nn_expect_xent_shape_error(NN_SPARSE, EST_DTYPE_I64, est_shape1(4), est_shape2(3, 5), "[4]", "[3,5]");
    nn_expect_xent_shape_error(NN_SPARSE, EST_DTYPE_I32, est_shape2(3, 5), est_shape2(3, 5), "[3,5]", "[3,5]");
    nn_expect_xent_shape_error(NN_DENSE, EST_DTYPE_F32, est_shape2(3, 4), est_shape2(3, 5), "[3,4]", "[3,5]");
    nn_expect_xent_shape_error(NN_SIGMOID, EST_DTYPE_F32, est_shape2(2, 3), est_shape2(3, 2), "[2,3]", "[3,2]");
    /* TF's sigmoid loss does not broadcast */
    nn_expect_xent_shape_error(NN_SIGMOID, EST_DTYPE_F32, est_shape2(1, 3), est_shape2(4, 3), "[1,3]", "[4,3]");
}

TEST(nn_sigmoid_xent_dynamic_mismatch_fails_at_run_time)
{
    est_graph *g = NULL;
    est_node *in[2], *y;
    est_tensor *a = NULL, *b = NULL, *out = NULL;
    est_feed f[2];
    nn_xent kind = NN_SIGMOID;
    REQUIRE_OK(est_graph_new(NULL, &g));
    in[0] = est_placeholder(g, "lab", EST_DTYPE_F32, est_shape2(-1, 3));
    in[1] = est_placeholder(g, "lgt", EST_DTYPE_F32, est_shape2(-1, 3));
    y = nn_build_xent(g, in, &kind);
    REQUIRE(y);
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(2, 3), &a));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(4, 3), &b));
    f[0].node = in[0];
    f[0].value = a;
    f[1].node = in[1];
    f[1].value = b;
    CHECK_STATUS(nn_run(g, &y, 1, f, 2, NULL, &out), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "[2,3]");
    CHECK_STR_CONTAINS(est_last_error(), "[4,3]");
    est_tensor_free(out);
    est_tensor_free(a);
    est_tensor_free(b);
    est_graph_free(g);
}

TEST(nn_builder_argument_errors)
{
    est_graph *g = NULL;
    est_node *f, *i, *l;
    int axes[2];
    est_random_args a;
    /* softmax: int logits, axis out of range */
    REQUIRE_OK(est_graph_new(NULL, &g));
    i = est_placeholder(g, "ints", EST_DTYPE_I32, est_shape2(2, 3));
    CHECK(est_softmax(g, i, -1) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "'ints'");
    est_graph_free(g);
    REQUIRE_OK(est_graph_new(NULL, &g));
    f = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(2, 3));
    CHECK(est_log_softmax(g, f, 2) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "LogSoftmax");
    CHECK_STR_CONTAINS(est_graph_error(g), "[2,3]");
    est_graph_free(g);
    /* sparse labels must be integers; dense labels must be float */
    REQUIRE_OK(est_graph_new(NULL, &g));
    f = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(2, 3));
    l = est_placeholder(g, "fl", EST_DTYPE_F32, est_shape1(2));
    CHECK(est_sparse_softmax_cross_entropy_with_logits(g, l, f) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "int32 or int64");
    est_graph_free(g);
    REQUIRE_OK(est_graph_new(NULL, &g));
    f = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(2, 3));
    i = est_placeholder(g, "ints", EST_DTYPE_I32, est_shape2(2, 3));
    CHECK(est_softmax_cross_entropy_with_logits(g, i, f) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_DTYPE);
    est_graph_free(g);
    /* l2_normalize: axis out of range, repeated axis, negative epsilon */
    REQUIRE_OK(est_graph_new(NULL, &g));
    f = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(2, 3));
    axes[0] = 2;
    CHECK(est_l2_normalize(g, f, axes, 1, 0.0f) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "L2Normalize");
    est_graph_free(g);
    REQUIRE_OK(est_graph_new(NULL, &g));
    f = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(2, 3));
    axes[0] = 1;
    axes[1] = -1;
    CHECK(est_l2_normalize(g, f, axes, 2, 0.0f) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "repeated");
    est_graph_free(g);
    REQUIRE_OK(est_graph_new(NULL, &g));
    f = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(2, 3));
    CHECK(est_l2_normalize(g, f, NULL, 0, -1.0f) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    est_graph_free(g);
    /* random ops need a known shape unless shape_like is given */
    REQUIRE_OK(est_graph_new(NULL, &g));
    CHECK(est_random_uniform(g, est_shape2(-1, 3), NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "shape_like");
    est_graph_free(g);
    /* sticky errors: later builders return NULL without replacing the first error */
    REQUIRE_OK(est_graph_new(NULL, &g));
    memset(&a, 0, sizeof a);
    CHECK(est_truncated_normal(g, est_shape2(-1, 3), &a) == NULL);
    CHECK(est_softmax(g, NULL, -1) == NULL);
    CHECK(est_dropout(g, NULL, 0.5f, 0) == NULL);
    CHECK_STR_CONTAINS(est_graph_error(g), "TruncatedNormal");
    est_graph_free(g);
}
