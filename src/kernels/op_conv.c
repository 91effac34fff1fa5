/* >>kernels/op_conv: 2-D convolutions and pooling on NHWC activations with HWIO filters, and their
 * gradient ops. Conv2D and its two backprops are im2col + GEMM: the columns [N*OH*OW, KH*KW*C]
 * times the filter viewed as [KH*KW*C, OC] give the NHWC output directly, one chunk of rows at a
 * time (est__cplan). With a batch of small images each thread runs whole chunks (its own columns
 * in its own L2 and a one-thread GEMM, with no hand-over between threads inside a chunk: the seed
 * CNN's training step went from 1,325 to 1,670 img/s on 2 cores). Depthwise convolution and
 * pooling are direct loops. Every loop is split into fixed chunks and every sum runs in a
 * fixed order, so results are bit-identical for any thread count.
 *
 * Attributes of the convolution ops (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter and the
 * three DepthwiseConv2dNative* ops):
 *   i[0..1] strides (h, w), i[2] padding (EST_PADDING_VALID or EST_PADDING_SAME),
 *   i[3..4] dilations (h, w),
 *   i[5..8] the output shape of a backprop op built without a third input (conv2d_transpose's
 *           output_shape; i[5] = -1 takes the batch from out_backprop at run time).
 * Inputs: Conv2D(input, filter); Conv2DBackpropInput(out_backprop, filter [, like]);
 *   Conv2DBackpropFilter(input, out_backprop [, like]). TF passes input_sizes / filter_sizes as a
 *   tensor; here the optional `like` node's run-time shape plays that role (the forward op's input
 *   or filter, which the gradient needs anyway), so a dynamic batch just works.
 * Attributes of the pooling ops: i[0..1] ksize, i[2..3] strides, i[4] padding. Inputs: MaxPool(x),
 *   MaxPoolGrad(x, grad) (TF also passes orig_output; the argmax is recomputed from x instead),
 *   AvgPool(x), AvgPoolGrad(grad, like = x). */

/* Floats of im2col columns per chunk (1 MB): small enough that the GEMM packs the columns from
 * L2 right after im2col wrote them (8 MB chunks were 15% slower on the seed CNN), and it bounds
 * the workspace for big batches. A chunk is as many whole images as fit (at least one); only when
 * one image's columns exceed the limit is it cut into chunks of rows (at least EST__CONV_MIN_ROWS,
 * so the GEMM still has rows to split). A function of the shapes only, so the chunking (and the
 * bits) never depends on the thread count. */
#ifndef EST_CONV_COL_FLOATS
#  define EST_CONV_COL_FLOATS ((int64_t)1 << 18)
#endif
#define EST__CONV_MIN_ROWS 192
/* Backprop filter sums the chunks in this many fixed groups (each its own partial sum, added in
 * order at the end), so that groups can run on different threads with bits that do not depend on
 * the thread count; fewer when the partial sums would exceed EST__CONV_PART_FLOATS floats. */
#define EST__CONV_GROUPS 8
#define EST__CONV_PART_FLOATS ((int64_t)1 << 22)

/* Geometry of one convolution or pooling, from concrete shapes. */
typedef struct est__cgeom {
    int64_t n, h, w, c;     /* the convolution's input */
    int64_t kh, kw, m;      /* filter taps; m: output channels (Conv2D) or multiplier (depthwise) */
    int64_t oh, ow, oc;     /* output; oc = m (Conv2D), c * m (depthwise), c (pooling) */
    int64_t sh, sw, dh, dw; /* strides, dilations */
    int64_t pt, pl;         /* padding before: top, left (TF puts the odd one after) */
} est__cgeom;

/* Output size and leading padding of one spatial dimension. TF's SAME: out = ceil(in / s), total
 * padding max((out - 1) * s + (k - 1) * d + 1 - in, 0), half of it (rounded down) before. Unknown
 * (-1) sizes give -1. Returns 0 when a VALID kernel does not fit the input. */
EST_PRIVATE int est__conv_dim(int64_t padding, int64_t in, int64_t k, int64_t s, int64_t d, int64_t *out,
                         int64_t *pad)
{
    int64_t eff = (k - 1) * d + 1;
    *pad = 0;
    *out = -1;
    if (in < 0 || k < 0) return 1;
    if (padding == EST_PADDING_SAME) {
        int64_t total;
        *out = (in + s - 1) / s;
        total = (*out - 1) * s + eff - in;
        *pad = total > 0 ? total / 2 : 0;
        return 1;
    }
    if (in < eff) return 0;
    *out = (in - eff) / s + 1;
    return 1;
}

EST_PRIVATE int64_t est__conv_eff(int64_t k, int64_t d) { return k < 0 ? -1 : (k - 1) * d + 1; }

/* Same rank, equal wherever both are known. */
EST_PRIVATE int est__conv_compat(const est_shape *a, const est_shape *b)
{
    int i;
    if (a->rank != b->rank) return 0;
    for (i = 0; i < a->rank; i++)
        if (a->dims[i] >= 0 && b->dims[i] >= 0 && a->dims[i] != b->dims[i]) return 0;
    return 1;
}

static const char *est__conv_pad_name(int64_t p) { return p == EST_PADDING_SAME ? "SAME" : "VALID"; }

/* Attribute checks live in infer (not only in the builders) so the message names the node. */
EST_PRIVATE est_status est__conv_check_attrs(const est_node *n)
{
    const int64_t *a = n->attr.i;
    if (a[0] < 1 || a[1] < 1)
        return est__infer_error(n, EST_ERR_INVALID_ARGUMENT, "strides must be positive, got %lldx%lld",
                                (long long)a[0], (long long)a[1]);
    if (a[3] < 1 || a[4] < 1)
        return est__infer_error(n, EST_ERR_INVALID_ARGUMENT, "dilations must be positive, got %lldx%lld",
                                (long long)a[3], (long long)a[4]);
    if (a[2] != EST_PADDING_VALID && a[2] != EST_PADDING_SAME)
        return est__infer_error(n, EST_ERR_INVALID_ARGUMENT, "padding %lld is neither VALID nor SAME",
                                (long long)a[2]);
    return EST_OK;
}

/* The output shape of a convolution of x [N,H,W,C] by f ([KH,KW,C,OC], or [KH,KW,C,M] when
 * depthwise), -1 aware. */
EST_PRIVATE est_status est__conv_out_shape(const est_node *n, const est_shape *x, const est_shape *f,
                                      int depthwise, est_shape *y)
{
    const int64_t *a = n->attr.i;
    int64_t oh, ow, p, oc;
    int ok_h, ok_w;
    est_status s = est__conv_check_attrs(n);
    if (s != EST_OK) return s;
    if (x->rank != 4 || f->rank != 4)
        return est__infer_error(n, EST_ERR_SHAPE,
                                "expected input [N,H,W,C] and filter [KH,KW,C,%s] (rank 4), got input %s "
                                "and filter %s",
                                depthwise ? "M" : "OC", est__sstr(x), est__sstr(f));
    if (x->dims[3] >= 0 && f->dims[2] >= 0 && x->dims[3] != f->dims[2])
        return est__infer_error(n, EST_ERR_SHAPE,
                                "input has %lld channels but the filter expects %lld: input %s, filter %s",
                                (long long)x->dims[3], (long long)f->dims[2], est__sstr(x), est__sstr(f));
    if (f->dims[0] == 0 || f->dims[1] == 0)
        return est__infer_error(n, EST_ERR_SHAPE, "empty filter %s (input %s)", est__sstr(f), est__sstr(x));
    ok_h = est__conv_dim(a[2], x->dims[1], f->dims[0], a[0], a[3], &oh, &p);
    ok_w = est__conv_dim(a[2], x->dims[2], f->dims[1], a[1], a[4], &ow, &p);
    if (!ok_h || !ok_w)
        return est__infer_error(
            n, EST_ERR_SHAPE,
            "VALID padding: kernel %lldx%lld%s larger than input %lldx%lld (input %s, "
            "filter %s, dilations %lldx%lld)",
            (long long)est__conv_eff(f->dims[0], a[3]), (long long)est__conv_eff(f->dims[1], a[4]),
            (a[3] > 1 || a[4] > 1) ? " (dilated)" : "", (long long)x->dims[1], (long long)x->dims[2],
            est__sstr(x), est__sstr(f), (long long)a[3], (long long)a[4]);
    if (depthwise)
        oc = (f->dims[2] >= 0 && f->dims[3] >= 0) ? f->dims[2] * f->dims[3] : -1;
    else
        oc = f->dims[3];
    *y = est_shape4(x->dims[0], oh, ow, oc);
    return EST_OK;
}

EST_PRIVATE est_status est__conv2d_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    return est__conv_out_shape(n, &in[0], &in[1], n->op == EST_OP_DEPTHWISE_CONV2D, out);
}

/* The shape given by the third input, or by attributes i[5..8] (batch -1: from `batch_of`). */
EST_PRIVATE est_shape est__conv_sizes(const est_node *n, const est_shape *in, const est_shape *batch_of)
{
    est_shape s;
    if (n->n_inputs == 3) return in[2];
    s = est_shape4(n->attr.i[5], n->attr.i[6], n->attr.i[7], n->attr.i[8]);
    if (s.dims[0] < 0 && batch_of->rank == 4) s.dims[0] = batch_of->dims[0];
    return s;
}

/* Conv2DBackpropInput(out_backprop, filter [, like]) -> the convolution's input shape. */
EST_PRIVATE est_status est__conv_bin_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int dwise = n->op == EST_OP_DEPTHWISE_BACKPROP_INPUT;
    est_shape xs = est__conv_sizes(n, in, &in[0]), ys;
    est_status s;
    if (in[0].rank != 4)
        return est__infer_error(n, EST_ERR_SHAPE, "out_backprop must be [N,OH,OW,OC] (rank 4), got %s",
                                est__sstr(&in[0]));
    if (xs.rank == 4 && in[1].rank == 4 && xs.dims[3] >= 0 && in[1].dims[2] >= 0 &&
        xs.dims[3] != in[1].dims[2])
        return est__infer_error(n, EST_ERR_SHAPE,
                                "output_shape (input_sizes) %s has %lld channels but filter %s has %lld in "
                                "dimension 2",
                                est__sstr(&xs), (long long)xs.dims[3], est__sstr(&in[1]),
                                (long long)in[1].dims[2]);
    if ((s = est__conv_out_shape(n, &xs, &in[1], dwise, &ys)) != EST_OK) return s;
    if (!est__conv_compat(&ys, &in[0]))
        return est__infer_error(
            n, EST_ERR_SHAPE,
            "input (out_backprop) %s is inconsistent with output_shape (input_sizes) %s and "
            "filter %s: a %s convolution of that shape gives %s",
            est__sstr(&in[0]), est__sstr(&xs), est__sstr(&in[1]), est__conv_pad_name(n->attr.i[2]),
            est__sstr(&ys));
    *out = xs;
    if (out->dims[0] < 0) out->dims[0] = in[0].dims[0];
    return EST_OK;
}

/* Conv2DBackpropFilter(input, out_backprop [, like]) -> the filter shape. */
EST_PRIVATE est_status est__conv_bfilt_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int dwise = n->op == EST_OP_DEPTHWISE_BACKPROP_FILTER;
    est_shape fs = est__conv_sizes(n, in, &in[0]), ys;
    est_status s;
    if (in[1].rank != 4)
        return est__infer_error(n, EST_ERR_SHAPE, "out_backprop must be [N,OH,OW,OC] (rank 4), got %s",
                                est__sstr(&in[1]));
    if ((s = est__conv_out_shape(n, &in[0], &fs, dwise, &ys)) != EST_OK) return s;
    if (!est__conv_compat(&ys, &in[1]))
        return est__infer_error(n, EST_ERR_SHAPE,
                                "out_backprop %s does not match %s, the output of a convolution of input %s "
                                "with filter %s",
                                est__sstr(&in[1]), est__sstr(&ys), est__sstr(&in[0]), est__sstr(&fs));
    *out = fs;
    return EST_OK;
}

/* Geometry from the concrete shapes of the convolution's input x, filter f and output y. */
EST_PRIVATE void est__cgeom_conv(const est_node *nd, const est_shape *x, const est_shape *f, const est_shape *y,
                            est__cgeom *g)
{
    const int64_t *a = nd->attr.i;
    int64_t t;
    g->n = x->dims[0];
    g->h = x->dims[1];
    g->w = x->dims[2];
    g->c = x->dims[3];
    g->kh = f->dims[0];
    g->kw = f->dims[1];
    g->m = f->dims[3];
    g->oh = y->dims[1];
    g->ow = y->dims[2];
    g->oc = y->dims[3];
    g->sh = a[0];
    g->sw = a[1];
    g->dh = a[3];
    g->dw = a[4];
    est__conv_dim(a[2], g->h, g->kh, g->sh, g->dh, &t, &g->pt);
    est__conv_dim(a[2], g->w, g->kw, g->sw, g->dw, &t, &g->pl);
}

EST_PRIVATE int64_t est__conv_rows(const est__cgeom *g) { return g->n * g->oh * g->ow; }
EST_PRIVATE int64_t est__conv_depth(const est__cgeom *g) { return g->kh * g->kw * g->c; }

/* A 1x1 kernel with stride 1 (no padding possible): the input already is the column matrix. */
EST_PRIVATE int est__conv_pointwise(const est__cgeom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0;
}

/* Which of the three products: forward Y = cols x F, backprop input dcols = dY x F^T, backprop
 * filter dF = cols^T x dY. */
enum { EST__CONV_FWD = 0, EST__CONV_BIN = 1, EST__CONV_BFILT = 2 };

/* How one convolution product is cut into chunks of output rows and run. */
typedef struct est__cplan {
    int64_t rows, depth;
    int64_t mc;      /* output rows per chunk (the last may be shorter) */
    int64_t nchunks;
    int whole;       /* chunks are whole images: no two share an input pixel */
    int64_t groups;  /* backprop filter: partial sums over consecutive chunks (1: straight into dF) */
    int par;         /* one chunk (or group) per task, each thread with its own columns */
    size_t col;      /* bytes of one chunk's columns (aligned) */
    size_t per_thread; /* par: columns + a one-thread GEMM workspace */
    size_t shared;   /* backprop input: the transposed filter; backprop filter: groups - 1 sums */
    size_t total;    /* workspace bytes */
} est__cplan;

EST_PRIVATE size_t est__conv_align(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

EST_PRIVATE size_t est__conv_gemm_ws(int which, int64_t rows, int64_t depth, int64_t oc, int nthreads)
{
    if (which == EST__CONV_FWD) return est__sgemm_workspace(rows, oc, depth, nthreads);
    if (which == EST__CONV_BIN) return est__sgemm_workspace(rows, depth, oc, nthreads);
    return est__sgemm_workspace(depth, oc, rows, nthreads);
}

/* Backprop filter's partial sums over `items` (chunks or images) of a [depth, OC] filter: at most
 * EST__CONV_GROUPS, fewer when their memory would pass EST__CONV_PART_FLOATS. */
EST_PRIVATE int64_t est__conv_groups(int64_t items, int64_t filter_floats)
{
    int64_t groups = EST__MIN(items, (int64_t)EST__CONV_GROUPS);
    while (groups > 1 && groups * filter_floats > EST__CONV_PART_FLOATS) groups--;
    return groups < 1 ? 1 : groups;
}

/* The chunks depend on the shapes only. `par` also on the thread count: whole chunks per thread
 * when there are at least two per thread (and, for backprop input, when chunks are whole images,
 * so that their col2im writes are disjoint); otherwise chunks run in turn, each split between the
 * threads. Every chunk computes the same bits either way. */
EST_PRIVATE void est__conv_cplan(const est__cgeom *g, int which, int nthreads, est__cplan *cp)
{
    int64_t per_img = g->oh * g->ow, last, fl;
    size_t a, b;
    memset(cp, 0, sizeof *cp);
    cp->rows = est__conv_rows(g);
    cp->depth = est__conv_depth(g);
    if (cp->rows <= 0 || cp->depth <= 0 || g->oc <= 0) return;
    if (per_img * cp->depth <= EST_CONV_COL_FLOATS) {
        int64_t ipc = EST_CONV_COL_FLOATS / (per_img * cp->depth), nch;
        if (ipc > g->n) ipc = g->n;
        nch = (g->n + ipc - 1) / ipc;
        ipc = (g->n + nch - 1) / nch; /* equal chunks */
        cp->mc = ipc * per_img;
        cp->whole = 1;
    } else {
        cp->mc = EST_CONV_COL_FLOATS / cp->depth;
        if (cp->mc < EST__CONV_MIN_ROWS) cp->mc = EST__CONV_MIN_ROWS;
        if (cp->mc > cp->rows) cp->mc = cp->rows;
    }
    cp->nchunks = (cp->rows + cp->mc - 1) / cp->mc;
    cp->groups = which == EST__CONV_BFILT ? est__conv_groups(cp->nchunks, cp->depth * g->oc) : 1;
    cp->par = nthreads > 1 && cp->nchunks >= 2 * (int64_t)nthreads &&
              (which != EST__CONV_BIN || cp->whole) &&
              (which != EST__CONV_BFILT || cp->groups >= 2 * (int64_t)nthreads);
    fl = cp->depth * g->oc;
    if (which == EST__CONV_BIN) cp->shared = est__conv_align((size_t)fl * sizeof(float));
    if (which == EST__CONV_BFILT) cp->shared = est__conv_align((size_t)((cp->groups - 1) * fl) * sizeof(float));
    cp->col = est__conv_align((size_t)(cp->mc * cp->depth) * sizeof(float));
    last = cp->rows - (cp->nchunks - 1) * cp->mc;
    if (cp->par) {
        a = est__conv_gemm_ws(which, cp->mc, cp->depth, g->oc, 1);
        b = est__conv_gemm_ws(which, last, cp->depth, g->oc, 1);
        cp->per_thread = cp->col + est__conv_align(a > b ? a : b);
        cp->total = cp->shared + cp->per_thread * (size_t)nthreads;
    } else {
        a = est__conv_gemm_ws(which, cp->mc, cp->depth, g->oc, nthreads);
        b = est__conv_gemm_ws(which, last, cp->depth, g->oc, nthreads);
        cp->total = cp->shared + cp->col + (a > b ? a : b);
    }
}

/* Items per parallel task so that each task touches about 16K floats. */
EST_PRIVATE int64_t est__conv_grain(int64_t floats_per_item)
{
    int64_t gr = ((int64_t)1 << 14) / (floats_per_item > 0 ? floats_per_item : 1);
    return gr < 1 ? 1 : gr;
}

EST_PRIVATE int est__conv_direct(const est__cgeom *g);
EST_PRIVATE size_t est__dconv_ws(const est__cgeom *g, int which, int nthreads);

/* The chunk plan's workspace; a 1x1 stride-1 convolution is one GEMM on the input itself; a
 * shallow input is convolved directly (est__conv_direct). */
EST_PRIVATE size_t est__conv_ws_geom(const est__cgeom *g, int which, int nthreads)
{
    est__cplan cp;
    if (est__conv_rows(g) <= 0 || est__conv_depth(g) <= 0 || g->oc <= 0) return 0;
    if (est__conv_pointwise(g)) return est__conv_gemm_ws(which, est__conv_rows(g), g->c, g->oc, nthreads);
    if (which != EST__CONV_BIN && est__conv_direct(g)) return est__dconv_ws(g, which, nthreads);
    est__conv_cplan(g, which, nthreads, &cp);
    return cp.total;
}

EST_PRIVATE size_t est__conv2d_workspace(const est_node *n, const est_shape *in, const est_shape *out,
                                    int nthreads)
{
    est__cgeom g;
    est__cgeom_conv(n, &in[0], &in[1], out, &g);
    return est__conv_ws_geom(&g, EST__CONV_FWD, nthreads);
}
EST_PRIVATE size_t est__conv_bin_workspace(const est_node *n, const est_shape *in, const est_shape *out,
                                      int nthreads)
{
    est__cgeom g;
    est__cgeom_conv(n, out, &in[1], &in[0], &g);
    return est__conv_ws_geom(&g, EST__CONV_BIN, nthreads);
}
EST_PRIVATE size_t est__conv_bfilt_workspace(const est_node *n, const est_shape *in, const est_shape *out,
                                        int nthreads)
{
    est__cgeom g;
    est__cgeom_conv(n, &in[0], out, &in[1], &g);
    return est__conv_ws_geom(&g, EST__CONV_BFILT, nthreads);
}

EST_PRIVATE void est__conv_sgemm(const est__kctx *k, int ta, int tb, int64_t m, int64_t n, int64_t kk,
                            const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                            int64_t ldc, void *work)
{
    est_sgemm_args s;
    memset(&s, 0, sizeof s);
    s.trans_a = ta;
    s.trans_b = tb;
    s.m = m;
    s.n = n;
    s.k = kk;
    s.alpha = 1.0f;
    s.a = a;
    s.lda = lda;
    s.b = b;
    s.ldb = ldb;
    s.beta = beta;
    s.c = c;
    s.ldc = ldc;
    est__gemm(k, &s, work);
}

/* ---- im2col / col2im ---- */

typedef struct est__col_ctx {
    const est__cgeom *g;
    const float *x; /* im2col source */
    float *dx;      /* col2im destination */
    float *col;     /* [rows of the chunk, KH*KW*C] */
    int64_t m0, m1; /* the chunk's output rows */
    int64_t n0;     /* col2im: first image of the chunk */
} est__col_ctx;

/* Copies n floats. Calls to memcpy cost more than the copy for the few floats of a small-channel
 * convolution's tap (C = 1 in a first layer), so short runs are fixed-size copies, which compilers
 * inline as vector moves. */
EST_PRIVATE void est__copy_floats(float *d, const float *s, int64_t n)
{
    if (n > 64) {
        memcpy(d, s, sizeof(float) * (size_t)n);
        return;
    }
    for (; n >= 16; n -= 16, d += 16, s += 16) memcpy(d, s, 16 * sizeof(float));
    for (; n >= 4; n -= 4, d += 4, s += 4) memcpy(d, s, 4 * sizeof(float));
    for (; n > 0; n--, d++, s++) memcpy(d, s, sizeof(float));
}

/* Row r of the chunk: output pixel m0 + r; zeros where the window reaches into the padding. With
 * dilation 1 the KW taps of one kernel row are KW * C contiguous input floats: one copy when the
 * row lies inside the image. */
EST_PRIVATE void est__im2col_range(void *vc, int64_t b, int64_t e)
{
    const est__col_ctx *c = (const est__col_ctx *)vc;
    const est__cgeom *g = c->g;
    int64_t depth = est__conv_depth(g), r, i, j, span = g->kw * g->c;
    size_t cbytes = sizeof(float) * (size_t)g->c;
    for (r = b; r < e; r++) {
        int64_t m = c->m0 + r, ow = m % g->ow, t = m / g->ow, oh = t % g->oh, n = t / g->oh;
        int64_t iw0 = ow * g->sw - g->pl;
        int inside = g->dw == 1 && iw0 >= 0 && iw0 + g->kw <= g->w;
        float *dst = c->col + r * depth;
        const float *xn = c->x + n * g->h * g->w * g->c;
        for (i = 0; i < g->kh; i++) {
            int64_t ih = oh * g->sh - g->pt + i * g->dh;
            if (ih < 0 || ih >= g->h) {
                memset(dst, 0, cbytes * (size_t)g->kw);
                dst += span;
                continue;
            }
            if (inside) {
                est__copy_floats(dst, xn + (ih * g->w + iw0) * g->c, span);
                dst += span;
                continue;
            }
            for (j = 0; j < g->kw; j++, dst += g->c) {
                int64_t iw = iw0 + j * g->dw;
                if (iw < 0 || iw >= g->w)
                    memset(dst, 0, cbytes);
                else
                    est__copy_floats(dst, xn + (ih * g->w + iw) * g->c, g->c);
            }
        }
    }
}

/* pool NULL: on the calling thread (a chunk task of its own). */
EST_PRIVATE void est__im2col(est_threadpool *pool, const est__cgeom *g, const float *x, float *col, int64_t m0,
                        int64_t rows)
{
    est__col_ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.x = x;
    c.col = col;
    c.m0 = m0;
    c.m1 = m0 + rows;
    est__parallel_range(pool, rows, est__conv_grain(est__conv_depth(g)), est__im2col_range, &c);
}

/* Item r: input row (image n0 + r / H, row r % H). Gathers from the chunk's columns every tap that
 * reads this input pixel, in (kh, kw) order: each dx element has one owner and a fixed sum order. */
EST_PRIVATE void est__col2im_range(void *vc, int64_t b, int64_t e)
{
    const est__col_ctx *c = (const est__col_ctx *)vc;
    const est__cgeom *g = c->g;
    int64_t depth = est__conv_depth(g), r, i, j, iw, q;
    for (r = b; r < e; r++) {
        int64_t n = c->n0 + r / g->h, ih = r % g->h;
        float *row = c->dx + (n * g->h + ih) * g->w * g->c;
        for (i = 0; i < g->kh; i++) {
            int64_t t = ih + g->pt - i * g->dh, oh;
            if (t < 0 || t % g->sh) continue;
            oh = t / g->sh;
            if (oh >= g->oh) continue;
            for (iw = 0; iw < g->w; iw++) {
                float *d = row + iw * g->c;
                for (j = 0; j < g->kw; j++) {
                    int64_t u = iw + g->pl - j * g->dw, ow, m;
                    const float *src;
                    if (u < 0 || u % g->sw) continue;
                    ow = u / g->sw;
                    if (ow >= g->ow) continue;
                    m = (n * g->oh + oh) * g->ow + ow;
                    if (m < c->m0 || m >= c->m1) continue;
                    src = c->col + (m - c->m0) * depth + (i * g->kw + j) * g->c;
                    for (q = 0; q < g->c; q++) d[q] += src[q];
                }
            }
        }
    }
}

/* ---- Conv2D and its backprops ---- */

/* One conv op's run: what a chunk needs, whichever thread runs it. */
typedef struct est__cjob {
    const est__kctx *k;
    const est__cgeom *g;
    const est__cplan *cp;
    const float *a, *b; /* fwd: input, filter; bin: dy, filter^T [OC, KH*KW*C]; bfilt: input, dy */
    float *out;         /* y, dx or dF */
    float *parts;       /* bfilt: sums of groups 1 .. groups-1 */
    char *work;         /* par: per-thread areas; else one chunk's columns + GEMM workspace */
    int which;          /* EST__CONV_FWD, _BIN or _BFILT */
} est__cjob;

/* Chunk i of the product. serial: on the calling thread with `work` its own (a par task);
 * otherwise with the threads splitting each step. For backprop filter, `acc` is where this
 * chunk's group sums and `first` says whether the chunk starts it. */
EST_PRIVATE void est__conv_run_chunk(const est__cjob *j, int which, int64_t i, char *work, int serial, float *acc,
                                     int first)
{
    const est__cgeom *g = j->g;
    const est__cplan *cp = j->cp;
    est_threadpool *pool = serial ? NULL : j->k->pool;
    int64_t m0 = i * cp->mc, r = EST__MIN(cp->mc, cp->rows - m0), depth = cp->depth;
    float *col = (float *)work;
    void *gw = work + cp->col;
    est_sgemm_args s;
    memset(&s, 0, sizeof s);
    s.alpha = 1.0f;
    if (which == EST__CONV_FWD) {
        est__im2col(pool, g, j->a, col, m0, r);
        s.m = r, s.n = g->oc, s.k = depth;
        s.a = col, s.lda = depth, s.b = j->b, s.ldb = g->oc;
        s.c = j->out + m0 * g->oc, s.ldc = g->oc;
    } else if (which == EST__CONV_BIN) {
        s.m = r, s.n = depth, s.k = g->oc;
        s.a = j->a + m0 * g->oc, s.lda = g->oc, s.b = j->b, s.ldb = depth;
        s.c = col, s.ldc = depth;
    } else {
        est__im2col(pool, g, j->a, col, m0, r);
        s.trans_a = 1;
        s.m = depth, s.n = g->oc, s.k = r;
        s.a = col, s.lda = depth, s.b = j->b + m0 * g->oc, s.ldb = g->oc;
        s.beta = first ? 0.0f : 1.0f;
        s.c = acc, s.ldc = g->oc;
    }
    est__gemm_on(j->k, &s, gw, serial);
    if (which == EST__CONV_FWD) { /* while the chunk is in cache */
        est__apply_epilogue_on(j->k, pool, s.c, r, g->oc);
    } else if (which == EST__CONV_BIN) {
        est__col_ctx c;
        int64_t per_img = g->oh * g->ow, n1 = (m0 + r - 1) / per_img + 1;
        memset(&c, 0, sizeof c);
        c.g = g;
        c.dx = j->out;
        c.col = col;
        c.m0 = m0;
        c.m1 = m0 + r;
        c.n0 = m0 / per_img;
        est__parallel_range(pool, (n1 - c.n0) * g->h, est__conv_grain(g->w * g->kh * g->kw * g->c),
                            est__col2im_range, &c);
    }
}

/* Backprop filter: group i sums its chunks in order into dF (group 0) or its partial sum. */
EST_PRIVATE void est__conv_run_group(const est__cjob *j, int64_t gi, char *work, int serial)
{
    const est__cplan *cp = j->cp;
    int64_t c0 = gi * cp->nchunks / cp->groups, c1 = (gi + 1) * cp->nchunks / cp->groups, i;
    float *acc = gi == 0 ? j->out : j->parts + (gi - 1) * cp->depth * j->g->oc;
    for (i = c0; i < c1; i++) est__conv_run_chunk(j, EST__CONV_BFILT, i, work, serial, acc, i == c0);
}

/* Forward or backprop input: chunk i on this thread's own area. */
static void est__conv_chunk_task(void *vj, int64_t i, int thread)
{
    const est__cjob *j = (const est__cjob *)vj;
    est__conv_run_chunk(j, j->which, i, j->work + (size_t)thread * j->cp->per_thread, 1, NULL, 0);
}
static void est__conv_bfilt_task(void *vj, int64_t i, int thread)
{
    const est__cjob *j = (const est__cjob *)vj;
    est__conv_run_group(j, i, j->work + (size_t)thread * j->cp->per_thread, 1);
}

typedef struct est__sum_ctx {
    float *dst;
    const float *parts;
    int64_t n, count;
} est__sum_ctx;

/* dst[e] += parts[0][e] + parts[1][e] + ..., left to right: a fixed order. */
EST_PRIVATE void est__conv_sum_range(void *vc, int64_t b, int64_t e)
{
    const est__sum_ctx *c = (const est__sum_ctx *)vc;
    int64_t q, i;
    for (q = 0; q < c->count; q++) {
        const float *src = c->parts + q * c->n;
        for (i = b; i < e; i++) c->dst[i] += src[i];
    }
}

/* dF += the partial sums of groups 1 .. groups-1 ([n] floats each), in group order. */
EST_PRIVATE void est__conv_add_parts(const est__kctx *k, float *df, const float *parts, int64_t n, int64_t groups)
{
    est__sum_ctx c;
    if (groups <= 1) return;
    c.dst = df;
    c.parts = parts;
    c.n = n;
    c.count = groups - 1;
    est__parallel_range(k->pool, n, (int64_t)1 << 12, est__conv_sum_range, &c);
}

/* ---- direct convolution of a shallow input (a first layer: C <= 4) ----
 * With C = 1 the im2col rows are KH*KW floats: copying them and packing them for the GEMM cost
 * more than the arithmetic (the seed CNN's first layer ran at a quarter of the GEMM's speed). Here
 * the input is copied once into a zero-padded buffer and each output pixel's taps are read from
 * it in place, vectorised over output channels: registers hold EST__DCONV_PB pixels x 2 vectors.
 * The forward sums the taps in im2col's order with the same fused multiply-adds and applies the
 * same epilogue afterwards, so it gives the GEMM path's bits. */
#define EST__CONV_DIRECT_C 4
#define EST__DCONV_PB 6
#define EST__DCONV_TG 12 /* backprop filter: taps per register block */

#if EST__GEMM_VEC
#  if defined(__GNUC__) && !defined(__clang__)
#    pragma GCC push_options
#    pragma GCC optimize("fp-contract=fast")
#  endif
#endif

EST_PRIVATE int est__conv_direct(const est__cgeom *g)
{
#if EST__GEMM_VEC
    return g->c <= EST__CONV_DIRECT_C && g->oc % (2 * EST__GEMM_VW) == 0 &&
           est__conv_depth(g) <= EST_GEMM_KC && !est__conv_pointwise(g);
#else
    (void)g;
    return 0;
#endif
}

/* The padded input of one band of output rows: rows [oh0 * sh - pt, ...) of the image, Wp columns
 * from -pl, with PB * sw spare columns of zeros at the end so a short pixel block reads in bounds. */
EST_PRIVATE int64_t est__dconv_wp(const est__cgeom *g) { return (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1; }
EST_PRIVATE int64_t est__dconv_hp(const est__cgeom *g, int64_t band)
{
    return (band - 1) * g->sh + (g->kh - 1) * g->dh + 1;
}
EST_PRIVATE size_t est__dconv_pad_bytes(const est__cgeom *g, int64_t band)
{
    return est__conv_align(sizeof(float) *
                           (size_t)((est__dconv_hp(g, band) * est__dconv_wp(g) + EST__DCONV_PB * g->sw) * g->c));
}

EST_PRIVATE void est__dconv_pad(const est__cgeom *g, const float *xn, int64_t oh0, int64_t band, float *xp)
{
    int64_t hp = est__dconv_hp(g, band), wp = est__dconv_wp(g), r, c = g->c;
    int64_t lo = EST__MIN(EST__MAX(g->pl, (int64_t)0), wp), hi = EST__MIN(g->pl + g->w, wp);
    for (r = 0; r < hp; r++) {
        int64_t ih = oh0 * g->sh - g->pt + r;
        float *d = xp + r * wp * c;
        if (ih < 0 || ih >= g->h || hi <= lo) {
            memset(d, 0, sizeof(float) * (size_t)(wp * c));
            continue;
        }
        memset(d, 0, sizeof(float) * (size_t)(lo * c));
        memcpy(d + lo * c, xn + (ih * g->w + lo - g->pl) * c, sizeof(float) * (size_t)((hi - lo) * c));
        memset(d + hi * c, 0, sizeof(float) * (size_t)((wp - hi) * c));
    }
    memset(xp + hp * wp * c, 0, sizeof(float) * (size_t)(EST__DCONV_PB * g->sw * c));
}

#if EST__GEMM_VEC
#  define EST__DCONV_PIX(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* y[oh0 .. oh0 + band) of one image from its padded band xp; taps in (kh, kw, c) order. */
EST_PRIVATE void est__dconv_fwd_band(const est__cgeom *g, const float *xp, const float *f, float *y, int64_t band)
{
    int64_t wp = est__dconv_wp(g), c = g->c, oc = g->oc, xs = g->sw * c;
    int64_t oh, ow0, ob, i, j, q;
    for (oh = 0; oh < band; oh++)
        for (ow0 = 0; ow0 < g->ow; ow0 += EST__DCONV_PB) {
            int64_t pb = EST__MIN((int64_t)EST__DCONV_PB, g->ow - ow0);
            for (ob = 0; ob < oc; ob += 2 * EST__GEMM_VW) {
                float *yo = y + (oh * g->ow + ow0) * oc + ob;
                const float *wq = f + ob;
#  define EST__DECL(p) est__vf a##p##_0 = est__gemm_vsplat(0.0f), a##p##_1 = a##p##_0;
                EST__DCONV_PIX(EST__DECL)
#  undef EST__DECL
                for (i = 0; i < g->kh; i++)
                    for (j = 0; j < g->kw; j++) {
                        const float *xr = xp + ((oh * g->sh + i * g->dh) * wp + ow0 * g->sw + j * g->dw) * c;
                        for (q = 0; q < c; q++, wq += oc) {
                            est__vf w0 = est__gemm_vload(wq), w1 = est__gemm_vload(wq + EST__GEMM_VW);
#  define EST__FMA(p)                                                                              \
    a##p##_0 += w0 * xr[(p) * xs + q];                                                             \
    a##p##_1 += w1 * xr[(p) * xs + q];
                            EST__DCONV_PIX(EST__FMA)
#  undef EST__FMA
                        }
                    }
#  define EST__OUT(p)                                                                              \
    if ((p) < pb) {                                                                                \
        est__gemm_vstore(yo + (p) * oc, a##p##_0);                                                 \
        est__gemm_vstore(yo + (p) * oc + EST__GEMM_VW, a##p##_1);                                  \
    }
                EST__DCONV_PIX(EST__OUT)
#  undef EST__OUT
            }
        }
}
#  undef EST__DCONV_PIX

#  define EST__DCONV_TAPS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/* acc[t][ob ..] (+)= sum over the image's output pixels of xp[tap t] * dy for the first nt_store
 * of nt taps (off[t]: tap t's offset in the padded image; nt is a constant 4, 8 or 12, the taps
 * past nt_store repeat a real one and are thrown away). */
static __attribute__((always_inline)) inline void
est__dconv_bfilt_taps(const est__cgeom *g, const float *xp, const float *dy, const int64_t *off, const int nt,
                      int nt_store, int64_t ob, float *acc, int first)
{
    int64_t wp = est__dconv_wp(g), oc = g->oc, oh, ow;
#  define EST__DECL(t) est__vf d##t##_0 = est__gemm_vsplat(0.0f), d##t##_1 = d##t##_0;
    EST__DCONV_TAPS(EST__DECL)
#  undef EST__DECL
    for (oh = 0; oh < g->oh; oh++) {
        const float *dr = dy + oh * g->ow * oc + ob;
        const float *xr = xp + oh * g->sh * wp * g->c;
        for (ow = 0; ow < g->ow; ow++, dr += oc, xr += g->sw * g->c) {
            est__vf e0 = est__gemm_vload(dr), e1 = est__gemm_vload(dr + EST__GEMM_VW);
#  define EST__FMA(t)                                                                              \
    if ((t) < nt) {                                                                                \
        d##t##_0 += e0 * xr[off[t]];                                                               \
        d##t##_1 += e1 * xr[off[t]];                                                               \
    }
            EST__DCONV_TAPS(EST__FMA)
#  undef EST__FMA
        }
    }
#  define EST__OUT(t)                                                                              \
    if ((t) < nt_store) {                                                                          \
        float *o = acc + (t) * oc + ob;                                                            \
        if (first) {                                                                               \
            est__gemm_vstore(o, d##t##_0);                                                         \
            est__gemm_vstore(o + EST__GEMM_VW, d##t##_1);                                          \
        } else {                                                                                   \
            est__gemm_vstore(o, est__gemm_vload(o) + d##t##_0);                                    \
            est__gemm_vstore(o + EST__GEMM_VW, est__gemm_vload(o + EST__GEMM_VW) + d##t##_1);      \
        }                                                                                          \
    }
    EST__DCONV_TAPS(EST__OUT)
#  undef EST__OUT
}
#  undef EST__DCONV_TAPS

/* One image's contribution to dF (acc, [depth, OC]): = when first, else +=. */
EST_PRIVATE void est__dconv_bfilt_image(const est__cgeom *g, const float *xp, const float *dy, float *acc, int first)
{
    int64_t depth = est__conv_depth(g), wp = est__dconv_wp(g), off[EST__DCONV_TG], t0, t, ob;
    for (t0 = 0; t0 < depth; t0 += EST__DCONV_TG) {
        int nt = (int)EST__MIN((int64_t)EST__DCONV_TG, depth - t0);
        for (t = 0; t < EST__DCONV_TG; t++) {
            int64_t tap = t0 + EST__MIN((int64_t)t, (int64_t)nt - 1), q = tap % g->c;
            int64_t j = (tap / g->c) % g->kw, i = tap / g->c / g->kw;
            off[t] = (i * g->dh * wp + j * g->dw) * g->c + q;
        }
        for (ob = 0; ob < g->oc; ob += 2 * EST__GEMM_VW) {
            float *a = acc + t0 * g->oc;
            if (nt > 8)
                est__dconv_bfilt_taps(g, xp, dy, off, 12, nt, ob, a, first);
            else if (nt > 4)
                est__dconv_bfilt_taps(g, xp, dy, off, 8, nt, ob, a, first);
            else
                est__dconv_bfilt_taps(g, xp, dy, off, 4, nt, ob, a, first);
        }
    }
}
#endif /* EST__GEMM_VEC */

/* Forward tasks: bands of output rows of one image (the whole image when the batch alone gives
 * the threads enough tasks); each pads the input rows its band reads into its thread's buffer. */
typedef struct est__dconv_ctx {
    const est__kctx *k;
    const est__cgeom *g;
    const float *x, *b; /* input; filter (forward) or dy (backprop filter) */
    float *out, *parts;
    int64_t band, bands, groups;
    char *work;
    size_t per_thread;
} est__dconv_ctx;

EST_PRIVATE int64_t est__dconv_band(const est__cgeom *g, int nthreads)
{
    int64_t band = g->oh;
    if (g->n < 4 * (int64_t)nthreads) band = (g->oh + 3) / 4;
    return band < 1 ? 1 : band;
}

/* Backprop filter: partial sums over fixed groups of images, as in the GEMM path. */
EST_PRIVATE int64_t est__dconv_groups(const est__cgeom *g)
{
    return est__conv_groups(g->n, est__conv_depth(g) * g->oc);
}

EST_PRIVATE size_t est__dconv_ws(const est__cgeom *g, int which, int nthreads)
{
    int nt = nthreads < 1 ? 1 : nthreads;
    if (which == EST__CONV_FWD) return est__dconv_pad_bytes(g, est__dconv_band(g, nt)) * (size_t)nt;
    return est__dconv_pad_bytes(g, g->oh) * (size_t)nt +
           est__conv_align(sizeof(float) * (size_t)((est__dconv_groups(g) - 1) * est__conv_depth(g) * g->oc));
}

#if EST__GEMM_VEC
static void est__dconv_fwd_task(void *vc, int64_t task, int thread)
{
    const est__dconv_ctx *c = (const est__dconv_ctx *)vc;
    const est__cgeom *g = c->g;
    int64_t n = task / c->bands, oh0 = (task % c->bands) * c->band, band = EST__MIN(c->band, g->oh - oh0);
    float *xp = (float *)(c->work + (size_t)thread * c->per_thread);
    float *y = c->out + (n * g->oh + oh0) * g->ow * g->oc;
    est__dconv_pad(g, c->x + n * g->h * g->w * g->c, oh0, band, xp);
    est__dconv_fwd_band(g, xp, c->b, y, band);
    est__apply_epilogue_on(c->k, NULL, y, band * g->ow, g->oc); /* while the band is in cache */
}

static void est__dconv_bfilt_task(void *vc, int64_t gi, int thread)
{
    const est__dconv_ctx *c = (const est__dconv_ctx *)vc;
    const est__cgeom *g = c->g;
    int64_t i0 = gi * g->n / c->groups, i1 = (gi + 1) * g->n / c->groups, i;
    float *xp = (float *)(c->work + (size_t)thread * c->per_thread);
    float *acc = gi == 0 ? c->out : c->parts + (gi - 1) * est__conv_depth(g) * g->oc;
    for (i = i0; i < i1; i++) {
        est__dconv_pad(g, c->x + i * g->h * g->w * g->c, 0, g->oh, xp);
        est__dconv_bfilt_image(g, xp, c->b + i * g->oh * g->ow * g->oc, acc, i == i0);
    }
}
#endif

/* Runs the direct forward (which == EST__CONV_FWD) or backprop filter. */
EST_PRIVATE void est__dconv_run(const est__kctx *k, const est__cgeom *g, int which, const float *x, const float *b,
                                float *out)
{
#if EST__GEMM_VEC
    est__dconv_ctx c;
    int nt = est_threadpool_size(k->pool);
    memset(&c, 0, sizeof c);
    c.k = k;
    c.g = g;
    c.x = x;
    c.b = b;
    c.out = out;
    if (which == EST__CONV_FWD) {
        c.band = est__dconv_band(g, nt);
        c.bands = (g->oh + c.band - 1) / c.band;
        c.per_thread = est__dconv_pad_bytes(g, c.band);
        c.work = (char *)k->work;
        est_parallel_for(k->pool, g->n * c.bands, est__dconv_fwd_task, &c);
        return;
    }
    c.groups = est__dconv_groups(g);
    c.per_thread = est__dconv_pad_bytes(g, g->oh);
    c.parts = (float *)k->work;
    c.work = (char *)k->work + est__conv_align(sizeof(float) * (size_t)((c.groups - 1) * est__conv_depth(g) * g->oc));
    est_parallel_for(k->pool, c.groups, est__dconv_bfilt_task, &c);
    est__conv_add_parts(k, out, c.parts, est__conv_depth(g) * g->oc, c.groups);
#else
    (void)k, (void)g, (void)which, (void)x, (void)b, (void)out;
#endif
}

#if EST__GEMM_VEC
#  if defined(__GNUC__) && !defined(__clang__)
#    pragma GCC pop_options
#  endif
#endif

/* Runs every chunk of the product (the caller has set up j's inputs and output). */
EST_PRIVATE void est__conv_run(est__cjob *j, int which)
{
    const est__cplan *cp = j->cp;
    char *work = (char *)j->k->work;
    int64_t i;
    j->parts = (float *)work;
    j->work = work + cp->shared;
    if (which == EST__CONV_BFILT) {
        if (cp->par)
            est_parallel_for(j->k->pool, cp->groups, est__conv_bfilt_task, j);
        else
            for (i = 0; i < cp->groups; i++) est__conv_run_group(j, i, j->work, 0);
        est__conv_add_parts(j->k, j->out, j->parts, cp->depth * j->g->oc, cp->groups);
        return;
    }
    j->which = which;
    if (cp->par)
        est_parallel_for(j->k->pool, cp->nchunks, est__conv_chunk_task, j);
    else
        for (i = 0; i < cp->nchunks; i++) est__conv_run_chunk(j, which, i, j->work, 0, NULL, 0);
}

EST_PRIVATE est_status est__conv2d_forward(const est__kctx *k)
{
    est__cgeom g;
    est__cplan cp;
    est__cjob j;
    const float *x = (const float *)k->in[0].data, *f = (const float *)k->in[1].data;
    float *y = (float *)k->out->data;
    int64_t rows, depth;
    est__cgeom_conv(k->node, &k->in[0].shape, &k->in[1].shape, &k->out->shape, &g);
    rows = est__conv_rows(&g);
    depth = est__conv_depth(&g);
    if (rows <= 0 || g.oc <= 0) return EST_OK;
    if (depth <= 0) {
        memset(y, 0, k->out->nbytes);
        est__apply_epilogue(k, y, rows, g.oc);
        return EST_OK;
    }
    if (est__conv_pointwise(&g)) {
        est__conv_sgemm(k, 0, 0, rows, g.oc, g.c, x, g.c, f, g.oc, 0.0f, y, g.oc, k->work);
        est__apply_epilogue(k, y, rows, g.oc);
        return EST_OK;
    }
    if (est__conv_direct(&g)) {
        est__dconv_run(k, &g, EST__CONV_FWD, x, f, y);
        return EST_OK;
    }
    est__conv_cplan(&g, EST__CONV_FWD, est_threadpool_size(k->pool), &cp);
    memset(&j, 0, sizeof j);
    j.k = k;
    j.g = &g;
    j.cp = &cp;
    j.a = x;
    j.b = f;
    j.out = y;
    est__conv_run(&j, EST__CONV_FWD);
    return EST_OK;
}

typedef struct est__ft_ctx {
    const float *f; /* [depth, oc] */
    float *ft;      /* [oc, depth] */
    int64_t depth, oc;
} est__ft_ctx;

static void est__ft_range(void *vc, int64_t b, int64_t e)
{
    const est__ft_ctx *c = (const est__ft_ctx *)vc;
    int64_t o, d;
    for (o = b; o < e; o++)
        for (d = 0; d < c->depth; d++) c->ft[o * c->depth + d] = c->f[d * c->oc + o];
}

/* dx = col2im(dy x filter^T), one chunk of output rows at a time. The filter is transposed once
 * ([OC, KH*KW*C], a few hundred KB) so that each chunk's GEMM packs it with plain row copies
 * instead of a strided scatter per chunk. */
EST_PRIVATE est_status est__conv_bin_forward(const est__kctx *k)
{
    est__cgeom g;
    est__cplan cp;
    est__cjob j;
    est__ft_ctx fc;
    const float *dy = (const float *)k->in[0].data, *f = (const float *)k->in[1].data;
    float *dx = (float *)k->out->data;
    int64_t rows, depth;
    est__cgeom_conv(k->node, &k->out->shape, &k->in[1].shape, &k->in[0].shape, &g);
    rows = est__conv_rows(&g);
    depth = est__conv_depth(&g);
    if (est__conv_pointwise(&g) && rows > 0 && g.oc > 0) {
        est__conv_sgemm(k, 0, 1, rows, g.c, g.oc, dy, g.oc, f, g.oc, 0.0f, dx, g.c, k->work);
        return EST_OK;
    }
    memset(dx, 0, k->out->nbytes);
    if (rows <= 0 || depth <= 0 || g.oc <= 0) return EST_OK;
    est__conv_cplan(&g, EST__CONV_BIN, est_threadpool_size(k->pool), &cp);
    fc.f = f;
    fc.ft = (float *)k->work;
    fc.depth = depth;
    fc.oc = g.oc;
    est__parallel_range(k->pool, g.oc, est__conv_grain(depth), est__ft_range, &fc);
    memset(&j, 0, sizeof j);
    j.k = k;
    j.g = &g;
    j.cp = &cp;
    j.a = dy;
    j.b = fc.ft;
    j.out = dx;
    est__conv_run(&j, EST__CONV_BIN);
    return EST_OK;
}

/* dfilter = sum over chunks of cols^T x dy, in fixed groups of consecutive chunks (see
 * EST__CONV_GROUPS): a fixed summation order. */
EST_PRIVATE est_status est__conv_bfilt_forward(const est__kctx *k)
{
    est__cgeom g;
    est__cplan cp;
    est__cjob j;
    const float *x = (const float *)k->in[0].data, *dy = (const float *)k->in[1].data;
    float *df = (float *)k->out->data;
    int64_t rows, depth;
    est__cgeom_conv(k->node, &k->in[0].shape, &k->out->shape, &k->in[1].shape, &g);
    rows = est__conv_rows(&g);
    depth = est__conv_depth(&g);
    if (rows <= 0 || depth <= 0 || g.oc <= 0) {
        memset(df, 0, k->out->nbytes);
        return EST_OK;
    }
    if (est__conv_pointwise(&g)) {
        est__conv_sgemm(k, 1, 0, g.c, g.oc, rows, x, g.c, dy, g.oc, 0.0f, df, g.oc, k->work);
        return EST_OK;
    }
    if (est__conv_direct(&g)) {
        est__dconv_run(k, &g, EST__CONV_BFILT, x, dy, df);
        return EST_OK;
    }
    est__conv_cplan(&g, EST__CONV_BFILT, est_threadpool_size(k->pool), &cp);
    memset(&j, 0, sizeof j);
    j.k = k;
    j.g = &g;
    j.cp = &cp;
    j.a = x;
    j.b = dy;
    j.out = df;
    est__conv_run(&j, EST__CONV_BFILT);
    return EST_OK;
}

/* ---- depthwise: direct loops ---- */

typedef struct est__dw_ctx {
    est__cgeom g;
    const float *a, *b; /* the op's two inputs */
    float *out;
} est__dw_ctx;

/* Item r: output row (image r / OH, row r % OH). */
EST_PRIVATE void est__dw_fwd_range(void *vc, int64_t b, int64_t e)
{
    const est__dw_ctx *c = (const est__dw_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t r, i, j, ow, ch, q, cm = g->c * g->m;
    for (r = b; r < e; r++) {
        int64_t n = r / g->oh, oh = r % g->oh;
        float *yrow = c->out + r * g->ow * cm;
        memset(yrow, 0, sizeof(float) * (size_t)(g->ow * cm));
        for (i = 0; i < g->kh; i++) {
            int64_t ih = oh * g->sh - g->pt + i * g->dh;
            if (ih < 0 || ih >= g->h) continue;
            for (ow = 0; ow < g->ow; ow++) {
                float *yo = yrow + ow * cm;
                for (j = 0; j < g->kw; j++) {
                    int64_t iw = ow * g->sw - g->pl + j * g->dw;
                    const float *xp, *fp;
                    if (iw < 0 || iw >= g->w) continue;
                    xp = c->a + ((n * g->h + ih) * g->w + iw) * g->c;
                    fp = c->b + (i * g->kw + j) * cm;
                    for (ch = 0; ch < g->c; ch++)
                        for (q = 0; q < g->m; q++) yo[ch * g->m + q] += xp[ch] * fp[ch * g->m + q];
                }
            }
        }
    }
}

/* Item r: input row (image r / H, row r % H); gathers every tap that read it. */
EST_PRIVATE void est__dw_bin_range(void *vc, int64_t b, int64_t e)
{
    const est__dw_ctx *c = (const est__dw_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t r, i, j, iw, ch, q, cm = g->c * g->m;
    for (r = b; r < e; r++) {
        int64_t n = r / g->h, ih = r % g->h;
        float *row = c->out + r * g->w * g->c;
        memset(row, 0, sizeof(float) * (size_t)(g->w * g->c));
        for (i = 0; i < g->kh; i++) {
            int64_t t = ih + g->pt - i * g->dh, oh;
            if (t < 0 || t % g->sh) continue;
            oh = t / g->sh;
            if (oh >= g->oh) continue;
            for (iw = 0; iw < g->w; iw++) {
                float *d = row + iw * g->c;
                for (j = 0; j < g->kw; j++) {
                    int64_t u = iw + g->pl - j * g->dw, ow;
                    const float *dyp, *fp;
                    if (u < 0 || u % g->sw) continue;
                    ow = u / g->sw;
                    if (ow >= g->ow) continue;
                    dyp = c->a + ((n * g->oh + oh) * g->ow + ow) * cm;
                    fp = c->b + (i * g->kw + j) * cm;
                    for (ch = 0; ch < g->c; ch++) {
                        float s = 0.0f;
                        for (q = 0; q < g->m; q++) s += dyp[ch * g->m + q] * fp[ch * g->m + q];
                        d[ch] += s;
                    }
                }
            }
        }
    }
}

/* Item r: filter tap (r / KW, r % KW), summed over images and output pixels in order. */
EST_PRIVATE void est__dw_bfilt_range(void *vc, int64_t b, int64_t e)
{
    const est__dw_ctx *c = (const est__dw_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t r, n, oh, ow, ch, q, cm = g->c * g->m;
    for (r = b; r < e; r++) {
        int64_t i = r / g->kw, j = r % g->kw;
        float *df = c->out + r * cm;
        memset(df, 0, sizeof(float) * (size_t)cm);
        for (n = 0; n < g->n; n++)
            for (oh = 0; oh < g->oh; oh++) {
                int64_t ih = oh * g->sh - g->pt + i * g->dh;
                if (ih < 0 || ih >= g->h) continue;
                for (ow = 0; ow < g->ow; ow++) {
                    int64_t iw = ow * g->sw - g->pl + j * g->dw;
                    const float *xp, *dyp;
                    if (iw < 0 || iw >= g->w) continue;
                    xp = c->a + ((n * g->h + ih) * g->w + iw) * g->c;
                    dyp = c->b + ((n * g->oh + oh) * g->ow + ow) * cm;
                    for (ch = 0; ch < g->c; ch++)
                        for (q = 0; q < g->m; q++) df[ch * g->m + q] += xp[ch] * dyp[ch * g->m + q];
                }
            }
    }
}

EST_PRIVATE est_status est__dw_forward(const est__kctx *k)
{
    est__dw_ctx c;
    est__cgeom_conv(k->node, &k->in[0].shape, &k->in[1].shape, &k->out->shape, &c.g);
    c.a = (const float *)k->in[0].data;
    c.b = (const float *)k->in[1].data;
    c.out = (float *)k->out->data;
    est__parallel_range(k->pool, c.g.n * c.g.oh, est__conv_grain(c.g.ow * c.g.oc * c.g.kh * c.g.kw),
                        est__dw_fwd_range, &c);
    return EST_OK;
}

EST_PRIVATE est_status est__dw_bin_forward(const est__kctx *k)
{
    est__dw_ctx c;
    est__cgeom_conv(k->node, &k->out->shape, &k->in[1].shape, &k->in[0].shape, &c.g);
    c.a = (const float *)k->in[0].data;
    c.b = (const float *)k->in[1].data;
    c.out = (float *)k->out->data;
    est__parallel_range(k->pool, c.g.n * c.g.h, est__conv_grain(c.g.w * c.g.oc * c.g.kh * c.g.kw),
                        est__dw_bin_range, &c);
    return EST_OK;
}

EST_PRIVATE est_status est__dw_bfilt_forward(const est__kctx *k)
{
    est__dw_ctx c;
    est__cgeom_conv(k->node, &k->in[0].shape, &k->out->shape, &k->in[1].shape, &c.g);
    c.a = (const float *)k->in[0].data;
    c.b = (const float *)k->in[1].data;
    c.out = (float *)k->out->data;
    est__parallel_range(k->pool, c.g.kh * c.g.kw, 1, est__dw_bfilt_range, &c);
    return EST_OK;
}

/* ---- builders and gradients of the convolutions ---- */

/* Defaults and normalisation of est_conv2d_args into attributes; 0 on a bad padding value. */
EST_PRIVATE int est__conv_attrs(est__attrs *at, const est_conv2d_args *args)
{
    int i;
    memset(at, 0, sizeof *at);
    at->i[0] = at->i[1] = 1;
    at->i[2] = EST_PADDING_VALID;
    at->i[3] = at->i[4] = 1;
    at->i[5] = at->i[6] = at->i[7] = at->i[8] = -1;
    if (!args) return 1;
    for (i = 0; i < 2; i++) {
        if (args->strides[i]) at->i[i] = args->strides[i];
        if (args->dilations[i]) at->i[3 + i] = args->dilations[i];
    }
    if (args->padding == EST_PADDING_SAME)
        at->i[2] = EST_PADDING_SAME;
    else if (args->padding != EST_PADDING_DEFAULT && args->padding != EST_PADDING_VALID)
        return 0;
    return 1;
}

EST_PRIVATE est_node *est__conv_build(est_graph *g, est_op op, est_node *input, est_node *filter,
                                 const est_conv2d_args *args, est__attrs *at)
{
    const char *name = est_op_name(op);
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!input || !filter) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: NULL input or filter", name);
    if (!est__is_float(input) || !est__is_float(filter))
        return est__fail(g, EST_ERR_DTYPE, "%s: input '%s' (%s) and filter '%s' (%s) must be float32", name,
                         input->name, est_dtype_name(input->dtype), filter->name,
                         est_dtype_name(filter->dtype));
    if (!est__conv_attrs(at, args))
        return est__fail(g, EST_ERR_INVALID_ARGUMENT,
                         "%s: padding %d is neither VALID nor SAME (input '%s' %s, filter '%s' %s)", name,
                         (int)args->padding, input->name, est__sstr(&input->shape), filter->name,
                         est__sstr(&filter->shape));
    return input; /* checks passed */
}

EST_API est_node *est_conv2d(est_graph *g, est_node *input, est_node *filter, const est_conv2d_args *args)
{
    est__attrs at;
    est_node *in[2];
    if (!est__conv_build(g, EST_OP_CONV2D, input, filter, args, &at)) return NULL;
    in[0] = input;
    in[1] = filter;
    return est__node_new(g, EST_OP_CONV2D, EST_DTYPE_F32, in, 2, &at);
}

EST_API est_node *est_depthwise_conv2d(est_graph *g, est_node *input, est_node *filter,
                                       const est_conv2d_args *args)
{
    est__attrs at;
    est_node *in[2];
    if (!est__conv_build(g, EST_OP_DEPTHWISE_CONV2D, input, filter, args, &at)) return NULL;
    in[0] = input;
    in[1] = filter;
    return est__node_new(g, EST_OP_DEPTHWISE_CONV2D, EST_DTYPE_F32, in, 2, &at);
}

/* TF's conv2d_transpose is Conv2DBackpropInput with the given output_shape as input_sizes; the
 * node is named "conv2d_transpose", as TF names it. */
EST_API est_node *est_conv2d_transpose(est_graph *g, est_node *input, est_node *filter,
                                       est_shape output_shape, const est_conv2d_args *args)
{
    est__attrs at;
    est_node *in[2];
    int i;
    if (!est__conv_build(g, EST_OP_CONV2D_BACKPROP_INPUT, input, filter, args, &at)) return NULL;
    if (output_shape.rank != 4 || output_shape.dims[0] < -1)
        return est__fail(g, EST_ERR_SHAPE,
                         "Conv2DBackpropInput: conv2d_transpose output_shape %s must be [N,OH,OW,OC] (N may "
                         "be -1) for input '%s' %s and filter '%s' %s",
                         est__sstr(&output_shape), input->name, est__sstr(&input->shape), filter->name,
                         est__sstr(&filter->shape));
    for (i = 1; i < 4; i++)
        if (output_shape.dims[i] < 1)
            return est__fail(g, EST_ERR_SHAPE,
                             "Conv2DBackpropInput: conv2d_transpose output_shape %s needs positive height, "
                             "width and channels (input '%s' %s, filter '%s' %s)",
                             est__sstr(&output_shape), input->name, est__sstr(&input->shape), filter->name,
                             est__sstr(&filter->shape));
    for (i = 0; i < 4; i++) at.i[5 + i] = output_shape.dims[i];
    in[0] = input;
    in[1] = filter;
    return est__node_new_named(g, EST_OP_CONV2D_BACKPROP_INPUT, EST_DTYPE_F32, in, 2, &at, "conv2d_transpose",
                               1);
}

/* A gradient op with the convolution attributes of `from`; `like` (optional) gives its shape. */
EST_PRIVATE est_node *est__conv_grad_op(est_graph *g, est_op op, est_node *a, est_node *b, est_node *like,
                                   const est__attrs *from)
{
    est_node *in[3];
    in[0] = a;
    in[1] = b;
    in[2] = like;
    return est__node_new(g, op, EST_DTYPE_F32, in, like ? 3 : 2, from);
}

/* The three ops of each family: (forward, backprop input, backprop filter). */
EST_PRIVATE void est__conv_family(est_op op, est_op *fwd, est_op *bin, est_op *bfilt)
{
    int dw = op == EST_OP_DEPTHWISE_CONV2D || op == EST_OP_DEPTHWISE_BACKPROP_INPUT ||
             op == EST_OP_DEPTHWISE_BACKPROP_FILTER;
    *fwd = dw ? EST_OP_DEPTHWISE_CONV2D : EST_OP_CONV2D;
    *bin = dw ? EST_OP_DEPTHWISE_BACKPROP_INPUT : EST_OP_CONV2D_BACKPROP_INPUT;
    *bfilt = dw ? EST_OP_DEPTHWISE_BACKPROP_FILTER : EST_OP_CONV2D_BACKPROP_FILTER;
}

/* y = conv(x, f): dx = BackpropInput(dy, f, like x), df = BackpropFilter(x, dy, like f). */
EST_PRIVATE est_status est__conv2d_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_op fwd, bin, bfilt;
    est__conv_family(n->op, &fwd, &bin, &bfilt);
    dx[0] = est__conv_grad_op(g, bin, dy, n->inputs[1], n->inputs[0], &n->attr);
    dx[1] = est__conv_grad_op(g, bfilt, n->inputs[0], dy, n->inputs[1], &n->attr);
    return est_graph_status(g);
}

/* z = BackpropInput(d, f) is linear in d with adjoint conv(., f), and <G, z> as a function of f is
 * a convolution of G by f against d: dd = conv(G, f), df = BackpropFilter(G, d, like f). This is
 * conv2d_transpose's gradient too. */
EST_PRIVATE est_status est__conv_bin_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_op fwd, bin, bfilt;
    est__conv_family(n->op, &fwd, &bin, &bfilt);
    dx[0] = est__conv_grad_op(g, fwd, dy, n->inputs[1], NULL, &n->attr);
    dx[1] = est__conv_grad_op(g, bfilt, dy, n->inputs[0], n->inputs[1], &n->attr);
    return est_graph_status(g);
}

/* w = BackpropFilter(x, d): <G, w> = <conv(x, G), d>, so dd = conv(x, G) and
 * dx = BackpropInput(d, G, like x). */
EST_PRIVATE est_status est__conv_bfilt_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_op fwd, bin, bfilt;
    est__conv_family(n->op, &fwd, &bin, &bfilt);
    dx[0] = est__conv_grad_op(g, bin, n->inputs[1], dy, n->inputs[0], &n->attr);
    dx[1] = est__conv_grad_op(g, fwd, n->inputs[0], dy, NULL, &n->attr);
    return est_graph_status(g);
}

/* ---- pooling ---- */

EST_PRIVATE est_status est__pool_out_shape(const est_node *n, const est_shape *x, est_shape *y)
{
    const int64_t *a = n->attr.i;
    int64_t oh, ow, p;
    if (a[0] < 1 || a[1] < 1)
        return est__infer_error(n, EST_ERR_INVALID_ARGUMENT,
                                "ksize must be positive, got %lldx%lld (input %s)", (long long)a[0],
                                (long long)a[1], est__sstr(x));
    if (a[2] < 1 || a[3] < 1)
        return est__infer_error(n, EST_ERR_INVALID_ARGUMENT,
                                "strides must be positive, got %lldx%lld (input %s)", (long long)a[2],
                                (long long)a[3], est__sstr(x));
    if (a[4] != EST_PADDING_VALID && a[4] != EST_PADDING_SAME)
        return est__infer_error(n, EST_ERR_INVALID_ARGUMENT, "padding %lld is neither VALID nor SAME",
                                (long long)a[4]);
    if (x->rank != 4)
        return est__infer_error(n, EST_ERR_SHAPE, "expected input [N,H,W,C] (rank 4), got %s", est__sstr(x));
    if (!est__conv_dim(a[4], x->dims[1], a[0], a[2], 1, &oh, &p) ||
        !est__conv_dim(a[4], x->dims[2], a[1], a[3], 1, &ow, &p))
        return est__infer_error(
            n, EST_ERR_SHAPE, "VALID padding: kernel %lldx%lld larger than input %lldx%lld (input %s)",
            (long long)a[0], (long long)a[1], (long long)x->dims[1], (long long)x->dims[2], est__sstr(x));
    *y = est_shape4(x->dims[0], oh, ow, x->dims[3]);
    return EST_OK;
}

EST_PRIVATE est_status est__pool_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    return est__pool_out_shape(n, &in[0], out);
}

/* MaxPoolGrad(x, grad) and AvgPoolGrad(grad, like x): the shape of x. */
EST_PRIVATE est_status est__pool_grad_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int xi = n->op == EST_OP_MAX_POOL_GRAD ? 0 : 1;
    est_shape ys;
    est_status s;
    memset(&ys, 0, sizeof ys); /* gcc -O3 cannot see that every path of pool_out_shape sets it */
    s = est__pool_out_shape(n, &in[xi], &ys);
    if (s != EST_OK) return s;
    if (!est__conv_compat(&ys, &in[1 - xi]))
        return est__infer_error(n, EST_ERR_SHAPE, "grad %s does not match the pooled shape %s of input %s",
                                est__sstr(&in[1 - xi]), est__sstr(&ys), est__sstr(&in[xi]));
    *out = in[xi];
    return EST_OK;
}

EST_PRIVATE void est__cgeom_pool(const est_node *nd, const est_shape *x, const est_shape *y, est__cgeom *g)
{
    const int64_t *a = nd->attr.i;
    int64_t t;
    memset(g, 0, sizeof *g);
    g->n = x->dims[0];
    g->h = x->dims[1];
    g->w = x->dims[2];
    g->c = x->dims[3];
    g->kh = a[0];
    g->kw = a[1];
    g->m = 1;
    g->oh = y->dims[1];
    g->ow = y->dims[2];
    g->oc = g->c;
    g->sh = a[2];
    g->sw = a[3];
    g->dh = g->dw = 1;
    est__conv_dim(a[4], g->h, g->kh, g->sh, 1, &t, &g->pt);
    est__conv_dim(a[4], g->w, g->kw, g->sw, 1, &t, &g->pl);
}

/* The window of output pixel (oh, ow) clipped to the input: [h0, h1) x [w0, w1). */
EST_PRIVATE void est__pool_window(const est__cgeom *g, int64_t oh, int64_t ow, int64_t *h0, int64_t *h1,
                             int64_t *w0, int64_t *w1)
{
    int64_t hs = oh * g->sh - g->pt, ws = ow * g->sw - g->pl;
    *h0 = EST__MAX(hs, 0);
    *h1 = EST__MIN(hs + g->kh, g->h);
    *w0 = EST__MAX(ws, 0);
    *w1 = EST__MIN(ws + g->kw, g->w);
}

typedef struct est__pool_ctx {
    est__cgeom g;
    const float *x, *dy;
    float *out;
    int relu; /* MaxPoolGrad with a fused ReluGrad (x is the Relu's output): only positive maxima */
} est__pool_ctx;

/* Item r: output row (image r / OH, row r % OH). Padding never takes part: the max is over the real
 * elements and the mean divides by their count, as TF. */
EST_PRIVATE void est__max_pool_range(void *vc, int64_t b, int64_t e)
{
    const est__pool_ctx *c = (const est__pool_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t r, ow, ih, iw, q, h0, h1, w0, w1;
    for (r = b; r < e; r++) {
        int64_t n = r / g->oh, oh = r % g->oh;
        for (ow = 0; ow < g->ow; ow++) {
            float *yo = c->out + (r * g->ow + ow) * g->c;
            int first = 1;
            est__pool_window(g, oh, ow, &h0, &h1, &w0, &w1);
            for (ih = h0; ih < h1; ih++)
                for (iw = w0; iw < w1; iw++) {
                    const float *xp = c->x + ((n * g->h + ih) * g->w + iw) * g->c;
                    if (first) {
                        memcpy(yo, xp, sizeof(float) * (size_t)g->c);
                        first = 0;
                    } else {
                        for (q = 0; q < g->c; q++) yo[q] = xp[q] > yo[q] ? xp[q] : yo[q];
                    }
                }
            if (first) memset(yo, 0, sizeof(float) * (size_t)g->c);
        }
    }
}

EST_PRIVATE void est__avg_pool_range(void *vc, int64_t b, int64_t e)
{
    const est__pool_ctx *c = (const est__pool_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t r, ow, ih, iw, q, h0, h1, w0, w1;
    for (r = b; r < e; r++) {
        int64_t n = r / g->oh, oh = r % g->oh;
        for (ow = 0; ow < g->ow; ow++) {
            float *yo = c->out + (r * g->ow + ow) * g->c, cnt;
            est__pool_window(g, oh, ow, &h0, &h1, &w0, &w1);
            memset(yo, 0, sizeof(float) * (size_t)g->c);
            for (ih = h0; ih < h1; ih++)
                for (iw = w0; iw < w1; iw++) {
                    const float *xp = c->x + ((n * g->h + ih) * g->w + iw) * g->c;
                    for (q = 0; q < g->c; q++) yo[q] += xp[q];
                }
            cnt = (float)((h1 - h0) * (w1 - w0));
            if (cnt > 0)
                for (q = 0; q < g->c; q++) yo[q] /= cnt;
        }
    }
}

/* Item n: one image; its dx is written by this item only, windows in order. dy goes to the first
 * maximum of the window in scan order (TF's tie rule), matching the forward's strict comparison.
 * The argmax runs over a block of channels at a time (contiguous in NHWC), which vectorises. */
#define EST__POOL_QB 64
EST_PRIVATE void est__max_pool_grad_range(void *vc, int64_t b, int64_t e)
{
    const est__pool_ctx *c = (const est__pool_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t n, oh, ow, ih, iw, q, q0, qn, h0, h1, w0, w1, img = g->h * g->w * g->c;
    float bv[EST__POOL_QB];
    int64_t bi[EST__POOL_QB];
    for (n = b; n < e; n++) {
        const float *xn = c->x + n * img;
        float *dxn = c->out + n * img;
        memset(dxn, 0, sizeof(float) * (size_t)img);
        for (oh = 0; oh < g->oh; oh++)
            for (ow = 0; ow < g->ow; ow++) {
                const float *dyp = c->dy + ((n * g->oh + oh) * g->ow + ow) * g->c;
                est__pool_window(g, oh, ow, &h0, &h1, &w0, &w1);
                if (h0 >= h1 || w0 >= w1) continue;
                for (q0 = 0; q0 < g->c; q0 += EST__POOL_QB) {
                    qn = EST__MIN(EST__POOL_QB, g->c - q0);
                    for (q = 0; q < qn; q++) {
                        bi[q] = (h0 * g->w + w0) * g->c + q0 + q;
                        bv[q] = xn[bi[q]];
                    }
                    for (ih = h0; ih < h1; ih++)
                        for (iw = ih == h0 ? w0 + 1 : w0; iw < w1; iw++) {
                            int64_t at = (ih * g->w + iw) * g->c + q0;
                            const float *xp = xn + at;
                            for (q = 0; q < qn; q++) {
                                int gt = xp[q] > bv[q];
                                bv[q] = gt ? xp[q] : bv[q];
                                bi[q] = gt ? at + q : bi[q];
                            }
                        }
                    if (c->relu) {
                        for (q = 0; q < qn; q++)
                            if (bv[q] > 0) dxn[bi[q]] += dyp[q0 + q];
                    } else
                        for (q = 0; q < qn; q++) dxn[bi[q]] += dyp[q0 + q];
                }
            }
    }
}

EST_PRIVATE void est__avg_pool_grad_range(void *vc, int64_t b, int64_t e)
{
    const est__pool_ctx *c = (const est__pool_ctx *)vc;
    const est__cgeom *g = &c->g;
    int64_t n, oh, ow, ih, iw, q, h0, h1, w0, w1, img = g->h * g->w * g->c;
    for (n = b; n < e; n++) {
        float *dxn = c->out + n * img;
        memset(dxn, 0, sizeof(float) * (size_t)img);
        for (oh = 0; oh < g->oh; oh++)
            for (ow = 0; ow < g->ow; ow++) {
                const float *dyp = c->dy + ((n * g->oh + oh) * g->ow + ow) * g->c;
                float cnt;
                est__pool_window(g, oh, ow, &h0, &h1, &w0, &w1);
                cnt = (float)((h1 - h0) * (w1 - w0));
                for (ih = h0; ih < h1; ih++)
                    for (iw = w0; iw < w1; iw++) {
                        float *d = dxn + (ih * g->w + iw) * g->c;
                        for (q = 0; q < g->c; q++) d[q] += dyp[q] / cnt;
                    }
            }
    }
}

EST_PRIVATE est_status est__pool_run(const est__kctx *k, const est_tensor *x, const est_tensor *dy,
                                const est_shape *ys, est__range_fn fn, int per_image)
{
    est__pool_ctx c;
    est__cgeom_pool(k->node, &x->shape, ys, &c.g);
    c.x = (const float *)x->data;
    c.dy = dy ? (const float *)dy->data : NULL;
    c.out = (float *)k->out->data;
    c.relu = k->epi_act == EST__EPI_RELU;
    if (per_image)
        est__parallel_range(k->pool, c.g.n, 1, fn, &c);
    else
        est__parallel_range(k->pool, c.g.n * c.g.oh, est__conv_grain(c.g.ow * c.g.c * c.g.kh * c.g.kw), fn,
                            &c);
    return EST_OK;
}

EST_PRIVATE est_status est__max_pool_forward(const est__kctx *k)
{
    return est__pool_run(k, &k->in[0], NULL, &k->out->shape, est__max_pool_range, 0);
}
EST_PRIVATE est_status est__avg_pool_forward(const est__kctx *k)
{
    return est__pool_run(k, &k->in[0], NULL, &k->out->shape, est__avg_pool_range, 0);
}
EST_PRIVATE est_status est__max_pool_grad_forward(const est__kctx *k)
{
    return est__pool_run(k, &k->in[0], &k->in[1], &k->in[1].shape, est__max_pool_grad_range, 1);
}
EST_PRIVATE est_status est__avg_pool_grad_forward(const est__kctx *k)
{
    /* The geometry comes from x's shape, which is the output's. */
    return est__pool_run(k, k->out, &k->in[0], &k->in[0].shape, est__avg_pool_grad_range, 1);
}

EST_PRIVATE est_status est__max_pool_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *in[2];
    in[0] = n->inputs[0];
    in[1] = dy;
    dx[0] = est__node_new(g, EST_OP_MAX_POOL_GRAD, EST_DTYPE_F32, in, 2, &n->attr);
    return est_graph_status(g);
}
EST_PRIVATE est_status est__avg_pool_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *in[2];
    in[0] = dy;
    in[1] = n->inputs[0];
    dx[0] = est__node_new(g, EST_OP_AVG_POOL_GRAD, EST_DTYPE_F32, in, 2, &n->attr);
    return est_graph_status(g);
}
/* AvgPoolGrad is linear in grad with adjoint AvgPool; its `like` input has no gradient. */
EST_PRIVATE est_status est__avg_pool_grad_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[0] = est__node_new(g, EST_OP_AVG_POOL, EST_DTYPE_F32, &dy, 1, &n->attr);
    return est_graph_status(g);
}

EST_PRIVATE est_node *est__pool_build(est_graph *g, est_op op, est_node *x, const est_pool_args *args)
{
    const char *name = est_op_name(op);
    est__attrs at;
    int i;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!x) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: NULL input", name);
    if (!args)
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: args (ksize) are required (input '%s')", name,
                         x->name);
    if (!est__is_float(x))
        return est__fail(g, EST_ERR_DTYPE, "%s: input '%s' is %s, expected float32", name, x->name,
                         est_dtype_name(x->dtype));
    memset(&at, 0, sizeof at);
    for (i = 0; i < 2; i++) {
        at.i[i] = args->ksize[i];
        at.i[2 + i] = args->strides[i] ? args->strides[i] : args->ksize[i];
    }
    if (args->padding == EST_PADDING_SAME)
        at.i[4] = EST_PADDING_SAME;
    else if (args->padding == EST_PADDING_DEFAULT || args->padding == EST_PADDING_VALID)
        at.i[4] = EST_PADDING_VALID;
    else
        return est__fail(g, EST_ERR_INVALID_ARGUMENT,
                         "%s: padding %d is neither VALID nor SAME (input '%s' %s)", name, (int)args->padding,
                         x->name, est__sstr(&x->shape));
    return est__node_new(g, op, EST_DTYPE_F32, &x, 1, &at);
}

EST_API est_node *est_max_pool2d(est_graph *g, est_node *x, const est_pool_args *args)
{
    return est__pool_build(g, EST_OP_MAX_POOL, x, args);
}
EST_API est_node *est_avg_pool2d(est_graph *g, est_node *x, const est_pool_args *args)
{
    return est__pool_build(g, EST_OP_AVG_POOL, x, args);
}

/* ---- definitions ---- */

static const est__op_def est__def_conv2d = {
    "Conv2D", est__conv2d_infer, est__conv2d_forward, est__conv2d_backward, est__conv2d_workspace, 0};
static const est__op_def est__def_conv2d_backprop_input = {"Conv2DBackpropInput",   est__conv_bin_infer,
                                                           est__conv_bin_forward,   est__conv_bin_backward,
                                                           est__conv_bin_workspace, 0};
static const est__op_def est__def_conv2d_backprop_filter = {
    "Conv2DBackpropFilter",   est__conv_bfilt_infer,     est__conv_bfilt_forward,
    est__conv_bfilt_backward, est__conv_bfilt_workspace, 0};
static const est__op_def est__def_depthwise_conv2d = {
    "DepthwiseConv2dNative", est__conv2d_infer, est__dw_forward, est__conv2d_backward, NULL, 0};
static const est__op_def est__def_depthwise_backprop_input = {"DepthwiseConv2dNativeBackpropInput",
                                                              est__conv_bin_infer,
                                                              est__dw_bin_forward,
                                                              est__conv_bin_backward,
                                                              NULL,
                                                              0};
static const est__op_def est__def_depthwise_backprop_filter = {"DepthwiseConv2dNativeBackpropFilter",
                                                               est__conv_bfilt_infer,
                                                               est__dw_bfilt_forward,
                                                               est__conv_bfilt_backward,
                                                               NULL,
                                                               0};
static const est__op_def est__def_max_pool = {
    "MaxPool", est__pool_infer, est__max_pool_forward, est__max_pool_backward, NULL, 0};
/* No second-order gradient through the argmax routing (TF's MaxPoolGradGrad). */
static const est__op_def est__def_max_pool_grad = {
    "MaxPoolGrad", est__pool_grad_infer, est__max_pool_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_avg_pool = {
    "AvgPool", est__pool_infer, est__avg_pool_forward, est__avg_pool_backward, NULL, 0};
static const est__op_def est__def_avg_pool_grad = {
    "AvgPoolGrad", est__pool_grad_infer, est__avg_pool_grad_forward, est__avg_pool_grad_backward, NULL, 0};
