/* Tests of the convolution and pooling ops (src/kernels/op_conv.c): forward and gradient parity
 * with PyTorch fixtures (tests/fixtures/gen_conv.py), finite-difference gradient checks, a
 * dynamic batch, chunked im2col against a naive reference, bit-identical results on 1 and 2
 * threads, and the error paths. */
#include "gradcheck.h"

typedef struct tc_args {
    est_conv2d_args conv;
    est_pool_args pool;
    est_shape out_shape; /* conv2d_transpose */
} tc_args;

static tc_args tc_conv_args(int sh, int sw, est_padding pad, int dh, int dw)
{
    tc_args a;
    memset(&a, 0, sizeof a);
    a.conv.strides[0] = sh;
    a.conv.strides[1] = sw;
    a.conv.padding = pad;
    a.conv.dilations[0] = dh;
    a.conv.dilations[1] = dw;
    return a;
}

static tc_args tc_pool_args(int kh, int kw, int sh, int sw, est_padding pad)
{
    tc_args a;
    memset(&a, 0, sizeof a);
    a.pool.ksize[0] = kh;
    a.pool.ksize[1] = kw;
    a.pool.strides[0] = sh;
    a.pool.strides[1] = sw;
    a.pool.padding = pad;
    return a;
}

static est_node *tc_build_conv(est_graph *g, est_node **in, void *ctx)
{
    return est_conv2d(g, in[0], in[1], &((tc_args *)ctx)->conv);
}
static est_node *tc_build_dw(est_graph *g, est_node **in, void *ctx)
{
    return est_depthwise_conv2d(g, in[0], in[1], &((tc_args *)ctx)->conv);
}
static est_node *tc_build_tconv(est_graph *g, est_node **in, void *ctx)
{
    tc_args *a = (tc_args *)ctx;
    return est_conv2d_transpose(g, in[0], in[1], a->out_shape, &a->conv);
}
static est_node *tc_build_max(est_graph *g, est_node **in, void *ctx)
{
    return est_max_pool2d(g, in[0], &((tc_args *)ctx)->pool);
}
static est_node *tc_build_avg(est_graph *g, est_node **in, void *ctx)
{
    return est_avg_pool2d(g, in[0], &((tc_args *)ctx)->pool);
}

static est_tensor *tc_fix(const char *base, const char *what)
{
    char name[160];
    snprintf(name, sizeof name, "conv/%s_%s", base, what);
    return fixture(name);
}

/* Runs build on fixture inputs <base>_<in_names[i]> and compares with <base>_<want>. */
static void tc_check_forward(const char *base, gc_build_fn build, tc_args *a, int n_in,
                             const char *const *in_names, const char *want_name)
{
    est_tensor *in[4], *want, *got = NULL;
    int i, ok = 1;
    for (i = 0; i < n_in; i++) ok &= (in[i] = tc_fix(base, in_names[i])) != NULL;
    want = tc_fix(base, want_name);
    CHECK_MSG(ok && want, "fixture %s missing", base);
    if (ok && want) {
        got = gc_forward(build, a, n_in, (const est_tensor *const *)in);
        CHECK_MSG(got != NULL, "%s: forward failed", base);
        if (got) {
            CHECK_MSG(est_shape_equal(&got->shape, &want->shape), "%s: shape differs", base);
            if (est_shape_equal(&got->shape, &want->shape))
                CHECK_ALLCLOSE(est_tensor_f32(got), est_tensor_f32(want), est_tensor_numel(want), 1e-4, 1e-4);
        }
    }
    for (i = 0; i < n_in; i++)
        if (in[i]) est_tensor_free(in[i]);
    est_tensor_free(want);
    est_tensor_free(got);
}

typedef struct tc_conv_case {
    const char *name;
    int sh, sw;
    est_padding pad;
    int dh, dw;
} tc_conv_case;

static const tc_conv_case tc_conv_cases[] = {
    {"conv_same_s1", 1, 1, EST_PADDING_SAME, 1, 1}, {"conv_valid_s1", 1, 1, EST_PADDING_VALID, 1, 1},
    {"conv_same_s2", 2, 2, EST_PADDING_SAME, 1, 1}, {"conv_valid_s2", 2, 2, EST_PADDING_VALID, 1, 1},
    {"conv_same_d2", 1, 1, EST_PADDING_SAME, 2, 2}, {"conv_valid_d2", 1, 1, EST_PADDING_VALID, 2, 2},
    {"conv_1x1", 1, 1, EST_PADDING_VALID, 1, 1},
};

TEST(conv2d_forward_matches_torch)
{
    static const char *const names[2] = {"x", "w"};
    size_t i;
    for (i = 0; i < sizeof tc_conv_cases / sizeof tc_conv_cases[0]; i++) {
        const tc_conv_case *c = &tc_conv_cases[i];
        tc_args a = tc_conv_args(c->sh, c->sw, c->pad, c->dh, c->dw);
        tc_check_forward(c->name, tc_build_conv, &a, 2, names, "y");
    }
}

/* est_gradients of conv2d with grad_y = the fixture's dy, against torch autograd. */
TEST(conv2d_backprop_matches_torch)
{
    size_t ci;
    for (ci = 0; ci < sizeof tc_conv_cases / sizeof tc_conv_cases[0]; ci++) {
        const tc_conv_case *c = &tc_conv_cases[ci];
        tc_args a = tc_conv_args(c->sh, c->sw, c->pad, c->dh, c->dw);
        est_tensor *x = tc_fix(c->name, "x"), *w = tc_fix(c->name, "w"), *dy = tc_fix(c->name, "dy");
        est_tensor *wdx = tc_fix(c->name, "dx"), *wdw = tc_fix(c->name, "dw"), out[2];
        est_graph *g = NULL;
        est_plan *p = NULL;
        est_node *px, *pw, *y, *xs[2], *gr[2];
        est_feed f[2];
        est_plan_desc pd;
        if (!x || !w || !dy || !wdx || !wdw) {
            CHECK_MSG(0, "fixture %s missing", c->name);
        } else {
            CHECK_OK(est_graph_new(NULL, &g));
            px = est_placeholder(g, "x", EST_DTYPE_F32, x->shape);
            pw = est_placeholder(g, "w", EST_DTYPE_F32, w->shape);
            y = est_conv2d(g, px, pw, &a.conv);
            xs[0] = px;
            xs[1] = pw;
            CHECK_OK(est_gradients(g, y, xs, 2, est_constant(g, dy), gr));
            memset(&pd, 0, sizeof pd);
            pd.fetches = gr;
            pd.n_fetches = 2;
            CHECK_OK(est_plan_new(g, &pd, &p));
            f[0].node = px;
            f[0].value = x;
            f[1].node = pw;
            f[1].value = w;
            if (p) {
                CHECK_OK(est_plan_run(p, f, 2, out));
                CHECK(est_shape_equal(&out[0].shape, &x->shape) && est_shape_equal(&out[1].shape, &w->shape));
                CHECK_ALLCLOSE(est_tensor_f32(&out[0]), est_tensor_f32(wdx), est_tensor_numel(wdx), 1e-4,
                               1e-4);
                CHECK_ALLCLOSE(est_tensor_f32(&out[1]), est_tensor_f32(wdw), est_tensor_numel(wdw), 1e-4,
                               1e-4);
            }
            est_plan_free(p);
            est_graph_free(g);
        }
        est_tensor_free(x);
        est_tensor_free(w);
        est_tensor_free(dy);
        est_tensor_free(wdx);
        est_tensor_free(wdw);
    }
}

TEST(depthwise_conv2d_forward_matches_torch)
{
    static const char *const names[2] = {"x", "w"};
    tc_args a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    tc_check_forward("dw_same_s1", tc_build_dw, &a, 2, names, "y");
    a = tc_conv_args(2, 2, EST_PADDING_VALID, 1, 1);
    tc_check_forward("dw_valid_s2", tc_build_dw, &a, 2, names, "y");
    a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    tc_check_forward("dw_same_s2", tc_build_dw, &a, 2, names, "y");
}

TEST(conv2d_transpose_forward_matches_torch)
{
    static const char *const names[2] = {"x", "w"};
    tc_args a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    a.out_shape = est_shape4(2, 6, 6, 2);
    tc_check_forward("tconv_same_s2", tc_build_tconv, &a, 2, names, "y");
    a = tc_conv_args(2, 2, EST_PADDING_VALID, 1, 1);
    a.out_shape = est_shape4(2, 8, 7, 2);
    tc_check_forward("tconv_valid_s2", tc_build_tconv, &a, 2, names, "y");
    a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    a.out_shape = est_shape4(-1, 4, 5, 2); /* batch from the input */
    tc_check_forward("tconv_same_s1", tc_build_tconv, &a, 2, names, "y");
}

TEST(pool_forward_matches_torch)
{
    static const char *const names[1] = {"x"};
    tc_args a = tc_pool_args(3, 3, 2, 2, EST_PADDING_SAME);
    tc_check_forward("pool_same_k3s2", tc_build_max, &a, 1, names, "max");
    tc_check_forward("pool_same_k3s2", tc_build_avg, &a, 1, names, "avg");
    a = tc_pool_args(3, 3, 2, 2, EST_PADDING_VALID);
    tc_check_forward("pool_valid_k3s2", tc_build_max, &a, 1, names, "max");
    tc_check_forward("pool_valid_k3s2", tc_build_avg, &a, 1, names, "avg");
    a = tc_pool_args(2, 2, 0, 0, EST_PADDING_SAME); /* strides 0 = ksize */
    tc_check_forward("pool_same_k2s2", tc_build_max, &a, 1, names, "max");
    tc_check_forward("pool_same_k2s2", tc_build_avg, &a, 1, names, "avg");
    a = tc_pool_args(2, 3, 1, 1, EST_PADDING_DEFAULT); /* VALID */
    tc_check_forward("pool_valid_k2s1", tc_build_max, &a, 1, names, "max");
    tc_check_forward("pool_valid_k2s1", tc_build_avg, &a, 1, names, "avg");
}

/* ---- finite-difference gradient checks ---- */

static int tc_gc2(const char *what, gc_build_fn b, tc_args *a, est_shape s0, est_shape s1)
{
    gc_input in[2];
    memset(in, 0, sizeof in);
    in[0].shape = s0;
    in[1].shape = s1;
    return gradcheck(what, b, a, 2, in, 1e-3, 1e-3, 1e-2);
}

TEST(conv2d_gradcheck)
{
    tc_args a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    CHECK(tc_gc2("conv same s1", tc_build_conv, &a, est_shape4(2, 5, 4, 3), est_shape4(3, 3, 3, 2)));
    a = tc_conv_args(1, 1, EST_PADDING_VALID, 1, 1);
    CHECK(tc_gc2("conv valid s1", tc_build_conv, &a, est_shape4(1, 5, 6, 2), est_shape4(3, 2, 2, 3)));
    a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    CHECK(tc_gc2("conv same s2 even", tc_build_conv, &a, est_shape4(1, 7, 6, 2), est_shape4(4, 4, 2, 3)));
    a = tc_conv_args(2, 1, EST_PADDING_VALID, 1, 1);
    CHECK(tc_gc2("conv valid s2x1", tc_build_conv, &a, est_shape4(2, 7, 5, 2), est_shape4(3, 3, 2, 2)));
    a = tc_conv_args(1, 1, EST_PADDING_SAME, 2, 2);
    CHECK(tc_gc2("conv same d2", tc_build_conv, &a, est_shape4(1, 6, 7, 2), est_shape4(3, 3, 2, 2)));
    a = tc_conv_args(1, 1, EST_PADDING_VALID, 2, 1);
    CHECK(tc_gc2("conv valid d2x1", tc_build_conv, &a, est_shape4(1, 7, 5, 2), est_shape4(2, 3, 2, 2)));
    a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    CHECK(tc_gc2("conv 1x1", tc_build_conv, &a, est_shape4(2, 3, 4, 3), est_shape4(1, 1, 3, 2)));
}

TEST(depthwise_conv2d_gradcheck)
{
    tc_args a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    CHECK(tc_gc2("dw same s1", tc_build_dw, &a, est_shape4(2, 5, 4, 3), est_shape4(3, 3, 3, 2)));
    a = tc_conv_args(2, 2, EST_PADDING_VALID, 1, 1);
    CHECK(tc_gc2("dw valid s2", tc_build_dw, &a, est_shape4(1, 7, 6, 2), est_shape4(3, 2, 2, 1)));
    a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    CHECK(tc_gc2("dw same s2 even", tc_build_dw, &a, est_shape4(1, 6, 7, 2), est_shape4(4, 4, 2, 2)));
    a = tc_conv_args(1, 1, EST_PADDING_SAME, 2, 2);
    CHECK(tc_gc2("dw same d2", tc_build_dw, &a, est_shape4(1, 6, 6, 2), est_shape4(3, 3, 2, 2)));
}

TEST(conv2d_transpose_gradcheck)
{
    tc_args a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    a.out_shape = est_shape4(1, 6, 6, 3);
    CHECK(tc_gc2("tconv same s2", tc_build_tconv, &a, est_shape4(1, 3, 3, 2), est_shape4(3, 3, 3, 2)));
    a = tc_conv_args(2, 2, EST_PADDING_VALID, 1, 1);
    a.out_shape = est_shape4(2, 8, 7, 2);
    CHECK(tc_gc2("tconv valid s2", tc_build_tconv, &a, est_shape4(2, 3, 3, 3), est_shape4(3, 3, 2, 3)));
    a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    a.out_shape = est_shape4(-1, 4, 5, 2);
    CHECK(tc_gc2("tconv same s1", tc_build_tconv, &a, est_shape4(1, 4, 5, 3), est_shape4(2, 2, 2, 3)));
}

/* The backprop ops' own gradients (second order): y = BackpropFilter(x, dy) and its depthwise
 * twin, built through est_gradients with a constant filter giving the shape. */
typedef struct tc_bf_ctx {
    tc_args a;
    est_shape wshape;
    int depthwise;
} tc_bf_ctx;

static est_node *tc_build_bfilt(est_graph *g, est_node **in, void *ctx)
{
    tc_bf_ctx *c = (tc_bf_ctx *)ctx;
    est_tensor *wt = NULL;
    est_node *w, *y, *gw;
    if (est_tensor_new(EST_DTYPE_F32, c->wshape, &wt) != EST_OK) return NULL;
    w = est_constant(g, wt);
    est_tensor_free(wt);
    y = c->depthwise ? est_depthwise_conv2d(g, in[0], w, &c->a.conv) : est_conv2d(g, in[0], w, &c->a.conv);
    if (!y || est_gradients(g, y, &w, 1, in[1], &gw) != EST_OK) return NULL;
    return gw;
}

TEST(conv_backprop_filter_gradcheck)
{
    tc_bf_ctx c;
    gc_input in[2];
    memset(&c, 0, sizeof c);
    memset(in, 0, sizeof in);
    c.a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    c.wshape = est_shape4(3, 3, 2, 3);
    in[0].shape = est_shape4(1, 5, 5, 2);
    in[1].shape = est_shape4(1, 3, 3, 3);
    CHECK(gradcheck("Conv2DBackpropFilter", tc_build_bfilt, &c, 2, in, 1e-3, 1e-3, 1e-2));
    c.depthwise = 1;
    c.wshape = est_shape4(3, 3, 2, 2);
    in[1].shape = est_shape4(1, 3, 3, 4);
    CHECK(gradcheck("DepthwiseConv2dNativeBackpropFilter", tc_build_bfilt, &c, 2, in, 1e-3, 1e-3, 1e-2));
}

/* Distinct values (no ties): a shuffled ramp. */
static void tc_distinct(float *v, int n)
{
    int i;
    uint32_t s = 12345u;
    for (i = 0; i < n; i++) v[i] = (float)i * 0.05f - (float)n * 0.025f;
    for (i = n - 1; i > 0; i--) {
        int j;
        float t;
        s = s * 1664525u + 1013904223u;
        j = (int)((s >> 8) % (uint32_t)(i + 1));
        t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

TEST(pool_gradcheck)
{
    float data[2 * 7 * 6 * 3];
    gc_input in[1];
    tc_args a;
    memset(in, 0, sizeof in);
    tc_distinct(data, 2 * 7 * 6 * 3);
    in[0].shape = est_shape4(2, 7, 6, 3);
    in[0].data = data;
    a = tc_pool_args(3, 3, 2, 2, EST_PADDING_SAME);
    CHECK(gradcheck("max pool same", tc_build_max, &a, 1, in, 1e-3, 1e-3, 1e-2));
    CHECK(gradcheck("avg pool same", tc_build_avg, &a, 1, in, 1e-3, 1e-3, 1e-2));
    a = tc_pool_args(3, 2, 1, 2, EST_PADDING_VALID);
    CHECK(gradcheck("max pool valid", tc_build_max, &a, 1, in, 1e-3, 1e-3, 1e-2));
    CHECK(gradcheck("avg pool valid", tc_build_avg, &a, 1, in, 1e-3, 1e-3, 1e-2));
    a = tc_pool_args(2, 2, 0, 0, EST_PADDING_SAME);
    CHECK(gradcheck("max pool same k2", tc_build_max, &a, 1, in, 1e-3, 1e-3, 1e-2));
    CHECK(gradcheck("avg pool same k2", tc_build_avg, &a, 1, in, 1e-3, 1e-3, 1e-2));
}

/* Second order of average pooling: AvgPoolGrad is linear in its grad input; x (a constant here)
 * only gives the shape. */
static est_node *tc_build_avg_grad(est_graph *g, est_node **in, void *ctx)
{
    est_tensor *xt = NULL;
    est_node *x, *y, *gx;
    if (est_tensor_new(EST_DTYPE_F32, est_shape4(1, 5, 4, 2), &xt) != EST_OK) return NULL;
    x = est_constant(g, xt);
    est_tensor_free(xt);
    y = est_avg_pool2d(g, x, &((tc_args *)ctx)->pool);
    if (!y || est_gradients(g, y, &x, 1, in[0], &gx) != EST_OK) return NULL;
    return gx;
}

TEST(max_pool_ties_go_to_first_in_scan_order)
{
    /* One 2x2 window of equal values: TF routes the gradient to the first (top-left). */
    static const float x[4] = {1, 1, 1, 1};
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_node *px, *y, *gx;
    est_tensor *xt = NULL, out;
    est_feed f;
    est_plan_desc pd;
    tc_args a = tc_pool_args(2, 2, 2, 2, EST_PADDING_VALID);
    CHECK_OK(est_graph_new(NULL, &g));
    px = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 2, 2, 1));
    y = est_max_pool2d(g, px, &a.pool);
    CHECK_OK(est_gradients(g, y, &px, 1, NULL, &gx));
    memset(&pd, 0, sizeof pd);
    pd.fetches = &gx;
    pd.n_fetches = 1;
    CHECK_OK(est_plan_new(g, &pd, &p));
    CHECK_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape4(1, 2, 2, 1), x, &xt));
    f.node = px;
    f.value = xt;
    if (p && xt) {
        CHECK_OK(est_plan_run(p, &f, 1, &out));
        CHECK(est_tensor_f32(&out)[0] == 1.0f && est_tensor_f32(&out)[1] == 0.0f &&
              est_tensor_f32(&out)[2] == 0.0f && est_tensor_f32(&out)[3] == 0.0f);
    }
    est_tensor_free(xt);
    est_plan_free(p);
    est_graph_free(g);
}

TEST(avg_pool_grad_gradcheck)
{
    gc_input in[1];
    tc_args a = tc_pool_args(3, 3, 2, 2, EST_PADDING_SAME);
    memset(in, 0, sizeof in);
    in[0].shape = est_shape4(1, 3, 2, 2);
    CHECK(gradcheck("AvgPoolGrad", tc_build_avg_grad, &a, 1, in, 1e-3, 1e-3, 1e-2));
}

/* ---- dynamic batch ---- */

TEST(conv2d_dynamic_batch)
{
    est_tensor *x = fixture("conv/conv_same_s1_x"), *w = fixture("conv/conv_same_s1_w");
    est_tensor *y = fixture("conv/conv_same_s1_y"), *dy = fixture("conv/conv_same_s1_dy");
    est_tensor *wdx = fixture("conv/conv_same_s1_dx"), *wdw = fixture("conv/conv_same_s1_dw");
    est_tensor *x1 = NULL, *dy1 = NULL, out[3];
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_node *px, *pw, *pdy, *c, *xs[2], *gr[2], *fetch[3];
    est_feed f[3];
    est_plan_desc pd;
    tc_args a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    int64_t per_x, per_y;
    REQUIRE(x && w && y && dy && wdx && wdw);
    CHECK_OK(est_graph_new(NULL, &g));
    px = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 5, 5, 3));
    pw = est_placeholder(g, "w", EST_DTYPE_F32, w->shape);
    pdy = est_placeholder(g, "dy", EST_DTYPE_F32, est_shape4(-1, 5, 5, 4));
    c = est_conv2d(g, px, pw, &a.conv);
    REQUIRE(c != NULL);
    CHECK(est_node_shape(c).dims[0] == -1 && est_node_shape(c).dims[1] == 5 &&
          est_node_shape(c).dims[3] == 4);
    xs[0] = px;
    xs[1] = pw;
    CHECK_OK(est_gradients(g, c, xs, 2, pdy, gr));
    REQUIRE(gr[0] && gr[1]);
    CHECK(est_node_shape(gr[0]).dims[0] == -1 && est_node_shape(gr[1]).dims[3] == 4);
    fetch[0] = c;
    fetch[1] = gr[0];
    fetch[2] = gr[1];
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 3;
    CHECK_OK(est_plan_new(g, &pd, &p));
    REQUIRE(p != NULL);
    f[0].node = px;
    f[0].value = x;
    f[1].node = pw;
    f[1].value = w;
    f[2].node = pdy;
    f[2].value = dy;
    CHECK_OK(est_plan_run(p, f, 3, out));
    CHECK(out[0].shape.dims[0] == 2);
    CHECK_ALLCLOSE(est_tensor_f32(&out[0]), est_tensor_f32(y), est_tensor_numel(y), 1e-4, 1e-4);
    CHECK_ALLCLOSE(est_tensor_f32(&out[1]), est_tensor_f32(wdx), est_tensor_numel(wdx), 1e-4, 1e-4);
    CHECK_ALLCLOSE(est_tensor_f32(&out[2]), est_tensor_f32(wdw), est_tensor_numel(wdw), 1e-4, 1e-4);
    /* The same plan with a batch of one: the first image. */
    per_x = est_tensor_numel(x) / 2;
    per_y = est_tensor_numel(y) / 2;
    CHECK_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape4(1, 5, 5, 3), est_tensor_f32(x), &x1));
    CHECK_OK(est_tensor_from_data(EST_DTYPE_F32, est_shape4(1, 5, 5, 4), est_tensor_f32(dy), &dy1));
    f[0].value = x1;
    f[2].value = dy1;
    CHECK_OK(est_plan_run(p, f, 3, out));
    CHECK(out[0].shape.dims[0] == 1 && out[1].shape.dims[0] == 1);
    CHECK_ALLCLOSE(est_tensor_f32(&out[0]), est_tensor_f32(y), per_y, 1e-4, 1e-4);
    CHECK_ALLCLOSE(est_tensor_f32(&out[1]), est_tensor_f32(wdx), per_x, 1e-4, 1e-4);
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(x);
    est_tensor_free(w);
    est_tensor_free(y);
    est_tensor_free(dy);
    est_tensor_free(wdx);
    est_tensor_free(wdw);
    est_tensor_free(x1);
    est_tensor_free(dy1);
}

TEST(conv2d_transpose_dynamic_batch)
{
    est_tensor *x = fixture("conv/tconv_same_s2_x"), *w = fixture("conv/tconv_same_s2_w");
    est_tensor *y = fixture("conv/tconv_same_s2_y"), out;
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_node *px, *pw, *t, *pool;
    est_feed f[2];
    est_plan_desc pd;
    tc_args a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);
    tc_args pa = tc_pool_args(2, 2, 0, 0, EST_PADDING_VALID);
    REQUIRE(x && w && y);
    CHECK_OK(est_graph_new(NULL, &g));
    px = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 3, 3, 4));
    pw = est_placeholder(g, "w", EST_DTYPE_F32, w->shape);
    t = est_conv2d_transpose(g, px, pw, est_shape4(-1, 6, 6, 2), &a.conv);
    REQUIRE(t != NULL);
    CHECK(strcmp(est_node_name(t), "conv2d_transpose") == 0);
    CHECK(est_node_shape(t).dims[0] == -1 && est_node_shape(t).dims[1] == 6 &&
          est_node_shape(t).dims[3] == 2);
    pool = est_max_pool2d(g, t, &pa.pool); /* pooling keeps the unknown batch */
    REQUIRE(pool != NULL);
    CHECK(est_node_shape(pool).dims[0] == -1 && est_node_shape(pool).dims[1] == 3);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &t;
    pd.n_fetches = 1;
    CHECK_OK(est_plan_new(g, &pd, &p));
    f[0].node = px;
    f[0].value = x;
    f[1].node = pw;
    f[1].value = w;
    if (p) {
        CHECK_OK(est_plan_run(p, f, 2, &out));
        CHECK(est_shape_equal(&out.shape, &y->shape));
        CHECK_ALLCLOSE(est_tensor_f32(&out), est_tensor_f32(y), est_tensor_numel(y), 1e-4, 1e-4);
    }
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(x);
    est_tensor_free(w);
    est_tensor_free(y);
}

/* ---- chunked im2col against a naive reference ---- */

/* Naive TF convolution in double: y = conv(x, w), and with dy the two gradients. */
static void tc_naive_conv(const est_shape *xs, const est_shape *ws, const est_shape *ys, int sh, int sw,
                          int pt, int pl, const float *x, const float *w, const float *dy, double *y,
                          double *dx, double *dw)
{
    int64_t N = xs->dims[0], H = xs->dims[1], W = xs->dims[2], C = xs->dims[3];
    int64_t KH = ws->dims[0], KW = ws->dims[1], OC = ws->dims[3], OH = ys->dims[1], OW = ys->dims[2];
    int64_t n, oh, ow, i, j, c, o;
    memset(y, 0, sizeof(double) * (size_t)(N * OH * OW * OC));
    memset(dx, 0, sizeof(double) * (size_t)(N * H * W * C));
    memset(dw, 0, sizeof(double) * (size_t)(KH * KW * C * OC));
    for (n = 0; n < N; n++)
        for (oh = 0; oh < OH; oh++)
            for (ow = 0; ow < OW; ow++)
                for (i = 0; i < KH; i++)
                    for (j = 0; j < KW; j++) {
                        int64_t ih = oh * sh - pt + i, iw = ow * sw - pl + j;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        for (c = 0; c < C; c++) {
                            int64_t xi = ((n * H + ih) * W + iw) * C + c;
                            for (o = 0; o < OC; o++) {
                                int64_t yi = ((n * OH + oh) * OW + ow) * OC + o,
                                        wi = ((i * KW + j) * C + c) * OC + o;
                                y[yi] += (double)x[xi] * w[wi];
                                dx[xi] += (double)dy[yi] * w[wi];
                                dw[wi] += (double)dy[yi] * x[xi];
                            }
                        }
                    }
}

static void tc_fill(float *v, int64_t n, uint32_t seed)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
}

static int tc_close_d(const float *got, const double *want, int64_t n, double tol)
{
    int64_t i;
    for (i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol * (1.0 + fabs(want[i])))) {
            printf("  [%lld]: got %.7g want %.7g\n", (long long)i, (double)got[i], want[i]);
            return 0;
        }
    return 1;
}

/* Conv2D of x (shape xs, filter ws; stride sh in both dimensions, padding pad) and both gradients,
 * at `threads` threads, against the naive double-precision loops. whole >= 0: checks that the
 * chunk plan of every product is `whole` (whole images per chunk) and that the products in the
 * bit mask `par` (1 << EST__CONV_*) run chunks per thread; whole < 0: checks that the forward and
 * backprop filter take the direct path of a shallow input. Returns the three results concatenated
 * (malloc'ed, *n floats) for bit comparisons across thread counts. */
static float *tc_conv_vs_naive(est_shape xs, est_shape ws, int sh, est_padding pad, int threads, int whole, int par,
                               int64_t *n)
{
    int64_t oh = pad == EST_PADDING_SAME ? (xs.dims[1] + sh - 1) / sh : (xs.dims[1] - ws.dims[0]) / sh + 1;
    int64_t ow = pad == EST_PADDING_SAME ? (xs.dims[2] + sh - 1) / sh : (xs.dims[2] - ws.dims[1]) / sh + 1;
    est_shape ys = est_shape4(xs.dims[0], oh, ow, ws.dims[3]);
    int64_t nx = est_shape_numel(&xs), nw = est_shape_numel(&ws), ny = est_shape_numel(&ys);
    est_tensor *x = NULL, *w = NULL, *dy = NULL, out[3];
    double *ry = (double *)malloc(sizeof(double) * (size_t)ny),
           *rdx = (double *)malloc(sizeof(double) * (size_t)nx);
    double *rdw = (double *)malloc(sizeof(double) * (size_t)nw);
    float *bits = (float *)malloc(sizeof(float) * (size_t)(nx + nw + ny));
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_threadpool *pool = NULL;
    est_threadpool_desc td;
    est_node *px, *pw, *pdy, *c, *xn[2], *gr[2], *fetch[3];
    est_feed f[3];
    est_plan_desc pd;
    tc_args a = tc_conv_args(sh, sh, pad, 1, 1);
    est__cgeom geo;
    est_shape cs;
    int which;
    *n = 0;
    if (!ry || !rdx || !rdw || !bits) {
        CHECK(0);
        goto fail;
    }
    memset(&td, 0, sizeof td);
    td.num_threads = threads;
    CHECK_OK(est_threadpool_new(&td, &pool));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, xs, &x));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, ws, &w));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, ys, &dy));
    if (!x || !w || !dy) {
        CHECK(0);
        goto fail;
    }
    tc_fill(est_tensor_f32(x), nx, 1);
    tc_fill(est_tensor_f32(w), nw, 2);
    tc_fill(est_tensor_f32(dy), ny, 3);
    CHECK_OK(est_graph_new(NULL, &g));
    px = est_placeholder(g, "x", EST_DTYPE_F32, xs);
    pw = est_placeholder(g, "w", EST_DTYPE_F32, ws);
    pdy = est_placeholder(g, "dy", EST_DTYPE_F32, ys);
    c = est_conv2d(g, px, pw, &a.conv);
    if (!c || (cs = est_node_shape(c), !est_shape_equal(&cs, &ys))) {
        CHECK(0);
        goto fail;
    }
    est__cgeom_conv(c, &xs, &ws, &ys, &geo);
    CHECK(est__conv_direct(&geo) == (whole < 0));
    for (which = EST__CONV_FWD; whole >= 0 && which <= EST__CONV_BFILT; which++) {
        est__cplan cp;
        est__conv_cplan(&geo, which, threads, &cp);
        CHECK(cp.whole == whole);
        CHECK(cp.par == ((par >> which) & 1));
        if (!whole) CHECK(cp.mc < est__conv_rows(&geo) && cp.mc % (xs.dims[1] * xs.dims[2]) != 0);
        if (which == EST__CONV_BFILT) CHECK(cp.groups > 1); /* the partial sums are exercised */
    }
    xn[0] = px;
    xn[1] = pw;
    CHECK_OK(est_gradients(g, c, xn, 2, pdy, gr));
    fetch[0] = c;
    fetch[1] = gr[0];
    fetch[2] = gr[1];
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 3;
    pd.pool = pool;
    CHECK_OK(est_plan_new(g, &pd, &p));
    if (!p) {
        CHECK(0);
        goto fail;
    }
    f[0].node = px;
    f[0].value = x;
    f[1].node = pw;
    f[1].value = w;
    f[2].node = pdy;
    f[2].value = dy;
    if (est_plan_run(p, f, 3, out) != EST_OK) {
        CHECK(0);
        goto fail;
    }
    tc_naive_conv(&xs, &ws, &ys, sh, sh, (int)geo.pt, (int)geo.pl, est_tensor_f32(x), est_tensor_f32(w), est_tensor_f32(dy), ry,
                  rdx, rdw);
    CHECK(tc_close_d(est_tensor_f32(&out[0]), ry, ny, 1e-4));
    CHECK(tc_close_d(est_tensor_f32(&out[1]), rdx, nx, 1e-4));
    CHECK(tc_close_d(est_tensor_f32(&out[2]), rdw, nw, 1e-4));
    memcpy(bits, out[0].data, sizeof(float) * (size_t)ny);
    memcpy(bits + ny, out[1].data, sizeof(float) * (size_t)nx);
    memcpy(bits + ny + nx, out[2].data, sizeof(float) * (size_t)nw);
    *n = nx + nw + ny;
    if (0) {
    fail:
        free(bits);
        bits = NULL;
    }
    est_plan_free(p);
    est_graph_free(g);
    est_threadpool_free(pool);
    est_tensor_free(x);
    est_tensor_free(w);
    est_tensor_free(dy);
    free(ry);
    free(rdx);
    free(rdw);
    return bits;
}

/* tc_conv_vs_naive at 1, 2 and 3 threads (par_multi: the `par` mask at 2 and 3; 1 thread never
 * runs chunks per thread), and the three results bit-identical. */
static void tc_conv_threads_same_bits(est_shape xs, est_shape ws, int sh, est_padding pad, int whole, int par_multi)
{
    int64_t n1 = 0, n2 = 0, n3 = 0;
    float *r1 = tc_conv_vs_naive(xs, ws, sh, pad, 1, whole, 0, &n1);
    float *r2 = tc_conv_vs_naive(xs, ws, sh, pad, 2, whole, par_multi, &n2);
    float *r3 = tc_conv_vs_naive(xs, ws, sh, pad, 3, whole, par_multi, &n3);
    CHECK(r1 && r2 && r3 && n1 == n2 && n1 == n3 && n1 > 0);
    if (r1 && r2 && r3 && n1 == n2 && n1 == n3) {
        CHECK(memcmp(r1, r2, sizeof(float) * (size_t)n1) == 0);
        CHECK(memcmp(r1, r3, sizeof(float) * (size_t)n1) == 0);
    }
    free(r1);
    free(r2);
    free(r3);
}

/* Columns of one 31x33 image (3*3*32 deep) exceed the 256K-float chunk, so the im2col runs in
 * chunks of rows whose boundaries fall inside images (col2im must only gather from the current
 * chunk), one chunk at a time with the threads splitting each. */
TEST(conv2d_chunked_matches_naive)
{
    int64_t n1 = 0, n2 = 0;
    float *r1 = tc_conv_vs_naive(est_shape4(8, 31, 33, 32), est_shape4(3, 3, 32, 5), 1, EST_PADDING_SAME, 1, 0, 0, &n1);
    /* at 2 threads forward and backprop filter still run chunks per thread (their outputs are
     * disjoint or summed in groups); backprop input cannot (col2im of two chunks meets) */
    float *r2 = tc_conv_vs_naive(est_shape4(8, 31, 33, 32), est_shape4(3, 3, 32, 5), 1, EST_PADDING_SAME, 2, 0,
                                 (1 << EST__CONV_FWD) | (1 << EST__CONV_BFILT), &n2);
    CHECK(r1 && r2 && n1 == n2 && n1 > 0);
    if (r1 && r2 && n1 == n2) CHECK(memcmp(r1, r2, sizeof(float) * (size_t)n1) == 0);
    free(r1);
    free(r2);
}

/* Small images: chunks of whole images, and with 2 or 3 threads each thread runs whole chunks
 * (its own columns, a one-thread GEMM, col2im into its own images, backprop filter in fixed groups
 * of chunks summed at the end). The same bits as one thread, which runs the chunks in turn. */
TEST(conv2d_chunks_per_thread_match_naive_and_one_thread)
{
    est_shape xs = est_shape4(40, 14, 14, 32), ws = est_shape4(3, 3, 32, 24);
    tc_conv_threads_same_bits(xs, ws, 1, EST_PADDING_SAME, 1, 7);
}

/* A shallow input (C <= 4, output channels a multiple of two vectors) is convolved directly from a
 * padded copy: forward and backprop filter against the naive loops with strides, both paddings
 * (SAME with an odd total, so more after than before) and short pixel blocks at row ends; the same
 * bits at 1, 2 and 3 threads (backprop filter sums fixed groups of images). */
TEST(conv2d_direct_shallow_matches_naive)
{
    static const struct {
        int64_t x[4], w[4];
        int sh;
        est_padding pad;
    } cases[] = {{{9, 13, 11, 1}, {5, 5, 1, 32}, 1, EST_PADDING_SAME},
                 {{6, 15, 12, 3}, {3, 4, 3, 64}, 2, EST_PADDING_SAME},
                 {{3, 9, 14, 2}, {2, 3, 2, 32}, 1, EST_PADDING_VALID},
                 {{2, 10, 10, 4}, {3, 3, 4, 32}, 3, EST_PADDING_VALID}};
    size_t ci;
    for (ci = 0; ci < EST__COUNTOF(cases); ci++) {
        est_shape xs = est_shape4(cases[ci].x[0], cases[ci].x[1], cases[ci].x[2], cases[ci].x[3]);
        est_shape ws = est_shape4(cases[ci].w[0], cases[ci].w[1], cases[ci].w[2], cases[ci].w[3]);
        tc_conv_threads_same_bits(xs, ws, cases[ci].sh, cases[ci].pad, -1, 0);
    }
}

/* Dilation on the direct path: a 3x3 kernel at dilation 2 equals its 5x5 version with zeros
 * between the taps at dilation 1 (both shallow, both direct; the 5x5 one is checked against the
 * naive loops above). Forward and the filter gradient (at the real taps). */
TEST(conv2d_direct_dilation)
{
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_plan_desc pd;
    est_tensor *x = NULL, *w = NULL, *w5 = NULL, *dy = NULL, out[4];
    est_node *px, *pw, *pw5, *pdy, *c, *c5, *gw, *gw5, *fetch[4];
    est_feed f[4];
    tc_args a = tc_conv_args(1, 1, EST_PADDING_SAME, 2, 2), a5 = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1);
    int64_t i, j, q, o, ny = 4 * 12 * 12 * 32;
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(4, 12, 12, 2), &x));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(3, 3, 2, 32), &w));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(5, 5, 2, 32), &w5));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(4, 12, 12, 32), &dy));
    REQUIRE(x && w && w5 && dy);
    tc_fill(est_tensor_f32(x), 4 * 12 * 12 * 2, 5);
    tc_fill(est_tensor_f32(w), 3 * 3 * 2 * 32, 6);
    tc_fill(est_tensor_f32(dy), ny, 7);
    memset(w5->data, 0, w5->nbytes);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            for (q = 0; q < 2 * 32; q++)
                est_tensor_f32(w5)[((2 * i) * 5 + 2 * j) * 64 + q] = est_tensor_f32(w)[(i * 3 + j) * 64 + q];
    CHECK_OK(est_graph_new(NULL, &g));
    px = est_placeholder(g, "x", EST_DTYPE_F32, x->shape);
    pw = est_placeholder(g, "w", EST_DTYPE_F32, w->shape);
    pw5 = est_placeholder(g, "w5", EST_DTYPE_F32, w5->shape);
    pdy = est_placeholder(g, "dy", EST_DTYPE_F32, dy->shape);
    c = est_conv2d(g, px, pw, &a.conv);
    c5 = est_conv2d(g, px, pw5, &a5.conv);
    CHECK_OK(est_gradients(g, c, &pw, 1, pdy, &gw));
    CHECK_OK(est_gradients(g, c5, &pw5, 1, pdy, &gw5));
    fetch[0] = c;
    fetch[1] = c5;
    fetch[2] = gw;
    fetch[3] = gw5;
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 4;
    CHECK_OK(est_plan_new(g, &pd, &p));
    REQUIRE(p != NULL);
    f[0].node = px, f[0].value = x;
    f[1].node = pw, f[1].value = w;
    f[2].node = pw5, f[2].value = w5;
    f[3].node = pdy, f[3].value = dy;
    CHECK_OK(est_plan_run(p, f, 4, out));
    for (i = 0; i < ny; i++)
        if (fabsf(est_tensor_f32(&out[0])[i] - est_tensor_f32(&out[1])[i]) > 1e-5f) {
            CHECK(0);
            break;
        }
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            for (q = 0; q < 2; q++)
                for (o = 0; o < 32; o++) {
                    float d3 = est_tensor_f32(&out[2])[((i * 3 + j) * 2 + q) * 32 + o];
                    float d5 = est_tensor_f32(&out[3])[((2 * i * 5 + 2 * j) * 2 + q) * 32 + o];
                    if (fabsf(d3 - d5) > 1e-4f * (1.0f + fabsf(d5))) {
                        CHECK(0);
                        i = j = 3;
                        q = 2;
                        break;
                    }
                }
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(x);
    est_tensor_free(w);
    est_tensor_free(w5);
    est_tensor_free(dy);
}

/* ---- determinism across thread counts ---- */

/* Forward and backward of conv2d, depthwise, conv2d_transpose and both pools, big enough that the
 * GEMM and the parallel loops really split; returns the fetched values concatenated. */
static float *tc_run_threads(int threads, int64_t *n_out)
{
    est_threadpool_desc td;
    est_threadpool *pool = NULL;
    est_graph *g = NULL;
    est_plan *p = NULL;
    est_tensor *x = NULL, *w = NULL, *wd = NULL, out[8];
    est_node *px, *pw, *pwd, *c, *d, *t, *mp, *ap, *xs[3], *gr[3], *fetch[8];
    est_feed f[3];
    est_plan_desc pd;
    tc_args a = tc_conv_args(1, 1, EST_PADDING_SAME, 1, 1), pa = tc_pool_args(3, 3, 2, 2, EST_PADDING_SAME);
    float *res = NULL;
    int i;
    int64_t total = 0, off = 0;
    td.num_threads = threads;
    if (est_threadpool_new(&td, &pool) != EST_OK) return NULL;
    est_tensor_new(EST_DTYPE_F32, est_shape4(4, 16, 16, 16), &x);
    est_tensor_new(EST_DTYPE_F32, est_shape4(3, 3, 16, 32), &w);
    est_tensor_new(EST_DTYPE_F32, est_shape4(3, 3, 16, 2), &wd);
    if (!x || !w || !wd) goto done;
    tc_fill(est_tensor_f32(x), est_tensor_numel(x), 11);
    tc_fill(est_tensor_f32(w), est_tensor_numel(w), 12);
    tc_fill(est_tensor_f32(wd), est_tensor_numel(wd), 13);
    if (est_graph_new(NULL, &g) != EST_OK) goto done;
    px = est_placeholder(g, "x", EST_DTYPE_F32, x->shape);
    pw = est_placeholder(g, "w", EST_DTYPE_F32, w->shape);
    pwd = est_placeholder(g, "wd", EST_DTYPE_F32, wd->shape);
    c = est_conv2d(g, px, pw, &a.conv);
    d = est_depthwise_conv2d(g, px, pwd, &a.conv);
    a.conv.strides[0] = a.conv.strides[1] = 2;
    t = est_conv2d_transpose(g, c, pw, est_shape4(4, 32, 32, 16), &a.conv);
    mp = est_max_pool2d(g, t, &pa.pool);
    ap = est_avg_pool2d(g, d, &pa.pool);
    /* Gradients of the sums of both pooled outputs (grad_y NULL = ones). */
    xs[0] = px;
    xs[1] = pw;
    xs[2] = pwd;
    if (est_gradients(g, mp, xs, 3, NULL, gr) != EST_OK) goto done;
    fetch[0] = c;
    fetch[1] = d;
    fetch[2] = t;
    fetch[3] = gr[0];
    fetch[4] = gr[1];
    if (est_gradients(g, ap, xs, 3, NULL, gr) != EST_OK) goto done;
    fetch[5] = gr[0];
    fetch[6] = gr[2];
    fetch[7] = ap;
    memset(&pd, 0, sizeof pd);
    pd.fetches = fetch;
    pd.n_fetches = 8;
    pd.pool = pool;
    if (est_plan_new(g, &pd, &p) != EST_OK) goto done;
    f[0].node = px;
    f[0].value = x;
    f[1].node = pw;
    f[1].value = w;
    f[2].node = pwd;
    f[2].value = wd;
    if (est_plan_run(p, f, 3, out) != EST_OK) goto done;
    for (i = 0; i < 8; i++) total += est_tensor_numel(&out[i]);
    res = (float *)malloc(sizeof(float) * (size_t)total);
    for (i = 0; res && i < 8; i++) {
        memcpy(res + off, out[i].data, out[i].nbytes);
        off += est_tensor_numel(&out[i]);
    }
    *n_out = total;
done:
    if (!res) printf("tc_run_threads(%d): %s\n", threads, g ? est_graph_error(g) : est_last_error());
    est_plan_free(p);
    est_graph_free(g);
    est_tensor_free(x);
    est_tensor_free(w);
    est_tensor_free(wd);
    est_threadpool_free(pool);
    return res;
}

TEST(conv_bit_identical_across_thread_counts)
{
    int64_t n1 = 0, n2 = 0;
    float *r1 = tc_run_threads(1, &n1), *r2 = tc_run_threads(2, &n2);
    CHECK(r1 && r2 && n1 == n2 && n1 > 0);
    if (r1 && r2 && n1 == n2) CHECK(memcmp(r1, r2, sizeof(float) * (size_t)n1) == 0);
    free(r1);
    free(r2);
}

/* ---- errors ---- */

static est_graph *tc_graph(void)
{
    est_graph *g = NULL;
    est_graph_new(NULL, &g);
    return g;
}

TEST(conv_errors_at_build_time)
{
    est_graph *g;
    est_node *x, *w, *r;
    tc_args a = tc_conv_args(1, 1, EST_PADDING_VALID, 1, 1);

    CHECK(est_conv2d(NULL, NULL, NULL, NULL) == NULL);

    /* wrong rank */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape3(5, 5, 3));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 3, 2));
    CHECK(est_conv2d(g, x, w, &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "Conv2D 'Conv2D'");
    CHECK_STR_CONTAINS(est_graph_error(g), "[5,5,3]");
    /* sticky: later ops return NULL and keep the first error */
    CHECK(est_depthwise_conv2d(g, w, w, NULL) == NULL);
    CHECK_STR_CONTAINS(est_graph_error(g), "[5,5,3]");
    est_graph_free(g);

    /* channel mismatch */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 5, 5, 3));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 4, 2));
    est_name_scope_push(g, "conv1");
    CHECK(est_conv2d(g, x, w, &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "conv1/Conv2D");
    CHECK_STR_CONTAINS(est_graph_error(g), "3 channels");
    CHECK_STR_CONTAINS(est_graph_error(g), "[?,5,5,3]");
    CHECK_STR_CONTAINS(est_graph_error(g), "[3,3,4,2]");
    est_graph_free(g);

    /* VALID kernel larger than the input */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 1));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(5, 5, 1, 1));
    CHECK(est_conv2d(g, x, w, &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "kernel 5x5 larger than input 3x3");
    CHECK_STR_CONTAINS(est_graph_error(g), "Conv2D 'Conv2D'");
    est_graph_free(g);

    /* ... also with SAME it works */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 1));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(5, 5, 1, 1));
    a.conv.padding = EST_PADDING_SAME;
    r = est_conv2d(g, x, w, &a.conv);
    CHECK(r != NULL && est_node_shape(r).dims[1] == 3);
    a.conv.padding = EST_PADDING_VALID;
    est_graph_free(g);

    /* non-positive strides and dilations, bad padding, wrong dtype */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 5, 5, 1));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 1, 1));
    a.conv.strides[0] = -1;
    CHECK(est_conv2d(g, x, w, &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "strides must be positive, got -1x1");
    CHECK_STR_CONTAINS(est_graph_error(g), "Conv2D 'Conv2D'");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 5, 5, 1));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 1, 1));
    a = tc_conv_args(1, 1, EST_PADDING_VALID, 1, -2);
    CHECK(est_depthwise_conv2d(g, x, w, &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "DepthwiseConv2dNative 'DepthwiseConv2dNative'");
    CHECK_STR_CONTAINS(est_graph_error(g), "dilations must be positive");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 5, 5, 1));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 1, 1));
    a = tc_conv_args(1, 1, (est_padding)7, 1, 1);
    CHECK(est_conv2d(g, x, w, &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "padding 7");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "xi", EST_DTYPE_I32, est_shape4(1, 5, 5, 1));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 1, 1));
    CHECK(est_conv2d(g, x, w, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "Conv2D: input 'xi' (int32)");
    est_graph_free(g);

    /* depthwise channel mismatch */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 5, 5, 2));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 3, 2));
    CHECK(est_depthwise_conv2d(g, x, w, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "2 channels but the filter expects 3");
    est_graph_free(g);
}

TEST(conv2d_transpose_errors)
{
    est_graph *g;
    est_node *x, *w;
    tc_args a = tc_conv_args(2, 2, EST_PADDING_SAME, 1, 1);

    /* conv2d of a 9x9 output would give 5x5, not the 3x3 input */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 4));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 2, 4));
    CHECK(est_conv2d_transpose(g, x, w, est_shape4(1, 9, 9, 2), &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "Conv2DBackpropInput 'conv2d_transpose'");
    CHECK_STR_CONTAINS(est_graph_error(g), "[1,3,3,4]");
    CHECK_STR_CONTAINS(est_graph_error(g), "[1,5,5,4]");
    CHECK_STR_CONTAINS(est_graph_error(g), "[1,9,9,2]");
    est_graph_free(g);

    /* output channels disagree with the filter's third dimension */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 4));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 2, 4));
    CHECK(est_conv2d_transpose(g, x, w, est_shape4(1, 6, 6, 5), &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "[3,3,2,4]");
    est_graph_free(g);

    /* input channels disagree with the filter's fourth dimension */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 3));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 2, 4));
    CHECK(est_conv2d_transpose(g, x, w, est_shape4(1, 6, 6, 2), &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "[1,3,3,3]");
    est_graph_free(g);

    /* batch disagreement, and a bad output_shape */
    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(2, 3, 3, 4));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 2, 4));
    CHECK(est_conv2d_transpose(g, x, w, est_shape4(3, 6, 6, 2), &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(2, 3, 3, 4));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 2, 4));
    CHECK(est_conv2d_transpose(g, x, w, est_shape3(6, 6, 2), &a.conv) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "output_shape [6,6,2]");
    est_graph_free(g);
}

TEST(pool_errors)
{
    est_graph *g;
    est_node *x;
    tc_args a = tc_pool_args(5, 5, 1, 1, EST_PADDING_VALID);

    CHECK(est_max_pool2d(NULL, NULL, NULL) == NULL);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, 3, 3, 2));
    CHECK(est_max_pool2d(g, x, &a.pool) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "MaxPool 'MaxPool'");
    CHECK_STR_CONTAINS(est_graph_error(g), "kernel 5x5 larger than input 3x3");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 2));
    a = tc_pool_args(0, 2, 1, 1, EST_PADDING_VALID);
    CHECK(est_avg_pool2d(g, x, &a.pool) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "AvgPool 'AvgPool'");
    CHECK_STR_CONTAINS(est_graph_error(g), "ksize must be positive, got 0x2");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 2));
    a = tc_pool_args(2, 2, 1, -1, EST_PADDING_VALID);
    CHECK(est_avg_pool2d(g, x, &a.pool) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "strides must be positive, got 1x-1");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(3, 3));
    a = tc_pool_args(2, 2, 1, 1, EST_PADDING_VALID);
    CHECK(est_max_pool2d(g, x, &a.pool) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_graph_error(g), "rank 4");
    CHECK_STR_CONTAINS(est_graph_error(g), "[3,3]");
    est_graph_free(g);

    g = tc_graph();
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(1, 3, 3, 2));
    CHECK(est_max_pool2d(g, x, NULL) == NULL);
    CHECK_STATUS(est_graph_status(g), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_graph_error(g), "MaxPool");
    est_graph_free(g);
}

/* Unknown spatial dims: the kernel-too-large error surfaces at run time, naming op and shapes. */
TEST(conv_errors_at_run_time)
{
    est_graph *g = tc_graph();
    est_plan *p = NULL;
    est_node *x, *w, *y;
    est_tensor *xt = NULL, *wt = NULL, out;
    est_feed f[2];
    est_plan_desc pd;
    REQUIRE(g != NULL);
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape4(-1, -1, -1, 2));
    w = est_placeholder(g, "w", EST_DTYPE_F32, est_shape4(3, 3, 2, 1));
    y = est_conv2d(g, x, w, NULL);
    REQUIRE(y != NULL);
    CHECK(est_node_shape(y).dims[1] == -1 && est_node_shape(y).dims[3] == 1);
    memset(&pd, 0, sizeof pd);
    pd.fetches = &y;
    pd.n_fetches = 1;
    CHECK_OK(est_plan_new(g, &pd, &p));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(1, 2, 4, 2), &xt));
    CHECK_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(3, 3, 2, 1), &wt));
    f[0].node = x;
    f[0].value = xt;
    f[1].node = w;
    f[1].value = wt;
    if (p && xt && wt) {
        CHECK_STATUS(est_plan_run(p, f, 2, &out), EST_ERR_SHAPE);
        CHECK_STR_CONTAINS(est_last_error(), "Conv2D 'Conv2D'");
        CHECK_STR_CONTAINS(est_last_error(), "kernel 3x3 larger than input 2x4");
    }
    est_tensor_free(xt);
    est_tensor_free(wt);
    est_plan_free(p);
    est_graph_free(g);
}
