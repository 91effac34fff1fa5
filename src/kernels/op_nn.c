/* >>kernels/op_nn: softmax and log-softmax, the three cross-entropies with logits, l2_normalize,
 * the Philox random ops and dropout. Gradients use fused gradient ops (one pass over memory, no
 * dependence on the math and reduction families). TF counterpart: tf.nn, tf.random. */

/* ---- shared helpers ---- */

/* A shape seen as [outer, n, inner] around `axis`: rows of n elements, `inner` apart. */
EST_PRIVATE void est__axis_split(const est_shape *s, int axis, int64_t *outer, int64_t *n, int64_t *inner)
{
    int d;
    *outer = 1;
    *inner = 1;
    for (d = 0; d < axis; d++) *outer *= s->dims[d];
    for (d = axis + 1; d < s->rank; d++) *inner *= s->dims[d];
    *n = s->dims[axis];
}

/* Rows per parallel chunk so that a chunk holds about 16k elements. */
EST_PRIVATE int64_t est__row_grain(int64_t row_len)
{
    return row_len > 0 ? EST__MAX((int64_t)1, (int64_t)16384 / row_len) : 16384;
}

EST_PRIVATE int64_t est__label_at(const est_tensor *t, int64_t i)
{
    return t->dtype == EST_DTYPE_I32 ? (int64_t)((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* Two shapes that must be equal (TF's rule for the cross-entropies), -1 aware: the merged shape
 * takes the known dimension. The error names both inputs and shapes. */
EST_PRIVATE est_status est__merge_equal_shapes(const est_node *n, const est_shape *a, const est_shape *b,
                                               est_shape *out, const char *a_name, const char *b_name)
{
    int d;
    if (a->rank != b->rank) goto bad;
    *out = *b;
    for (d = 0; d < b->rank; d++) {
        if (a->dims[d] >= 0 && b->dims[d] >= 0 && a->dims[d] != b->dims[d]) goto bad;
        if (out->dims[d] < 0) out->dims[d] = a->dims[d];
    }
    return EST_OK;
bad:
    return est__infer_error(n, EST_ERR_SHAPE, "%s %s and %s %s must have the same shape", a_name, est__sstr(a),
                            b_name, est__sstr(b));
}

/* ---- Softmax / LogSoftmax and their gradients (attrs: i[0] the normalised axis) ---- */

enum { EST__SM_SOFTMAX, EST__SM_LOG_SOFTMAX, EST__SM_SOFTMAX_GRAD, EST__SM_LOG_SOFTMAX_GRAD };

typedef struct est__sm_ctx {
    const float *a, *b; /* forward: logits; gradients: y and dy */
    float *out;
    int64_t n, inner;
    int mode;
} est__sm_ctx;

EST_PRIVATE void est__sm_rows(void *p, int64_t begin, int64_t end)
{
    const est__sm_ctx *c = (const est__sm_ctx *)p;
    int64_t n = c->n, st = c->inner, r, j;
    for (r = begin; r < end; r++) {
        int64_t base = (r / st) * n * st + r % st;
        const float *a = c->a + base, *b = c->b ? c->b + base : NULL;
        float *y = c->out + base;
        float m, s = 0.0f;
        switch (c->mode) {
        case EST__SM_SOFTMAX:
        case EST__SM_LOG_SOFTMAX:
            if (n == 0) break;
            m = a[0];
            for (j = 1; j < n; j++) m = a[j * st] > m ? a[j * st] : m;
            if (c->mode == EST__SM_SOFTMAX) {
                for (j = 0; j < n; j++) {
                    y[j * st] = expf(a[j * st] - m);
                    s += y[j * st];
                }
                s = 1.0f / s;
                for (j = 0; j < n; j++) y[j * st] *= s;
            } else {
                for (j = 0; j < n; j++) s += expf(a[j * st] - m);
                s = logf(s); /* (x - m) - log(s): never round through m + log(s) */
                for (j = 0; j < n; j++) y[j * st] = (a[j * st] - m) - s;
            }
            break;
        case EST__SM_SOFTMAX_GRAD: /* dx = y * (dy - sum(dy * y)) */
            for (j = 0; j < n; j++) s += a[j * st] * b[j * st];
            for (j = 0; j < n; j++) y[j * st] = a[j * st] * (b[j * st] - s);
            break;
        default: /* log-softmax: dx = dy - exp(y) * sum(dy) */
            for (j = 0; j < n; j++) s += b[j * st];
            for (j = 0; j < n; j++) y[j * st] = b[j * st] - expf(a[j * st]) * s;
            break;
        }
    }
}

EST_PRIVATE est_status est__sm_run(const est__kctx *k, int mode)
{
    est__sm_ctx c;
    int64_t outer;
    est__axis_split(&k->out->shape, (int)k->node->attr.i[0], &outer, &c.n, &c.inner);
    c.a = (const float *)k->in[0].data;
    c.b = k->n_inputs > 1 ? (const float *)k->in[1].data : NULL;
    c.out = (float *)k->out->data;
    c.mode = mode;
    est__parallel_range(k->pool, outer * c.inner, est__row_grain(c.n), est__sm_rows, &c);
    return EST_OK;
}
EST_PRIVATE est_status est__softmax_forward(const est__kctx *k) { return est__sm_run(k, EST__SM_SOFTMAX); }
EST_PRIVATE est_status est__log_softmax_forward(const est__kctx *k)
{
    return est__sm_run(k, EST__SM_LOG_SOFTMAX);
}
EST_PRIVATE est_status est__softmax_grad_forward(const est__kctx *k)
{
    return est__sm_run(k, EST__SM_SOFTMAX_GRAD);
}
EST_PRIVATE est_status est__log_softmax_grad_forward(const est__kctx *k)
{
    return est__sm_run(k, EST__SM_LOG_SOFTMAX_GRAD);
}

/* Gradient ops take (y, dy): the forward output, not its input, is all they need. */
EST_PRIVATE est_status est__sm_grad_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    return est__merge_equal_shapes(n, &in[1], &in[0], out, "dy", "y");
}

EST_PRIVATE est_status est__sm_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx, est_op op)
{
    est_node *in[2];
    in[0] = n;
    in[1] = dy;
    dx[0] = est__node_new(g, op, EST_DTYPE_F32, in, 2, &n->attr);
    return EST_OK;
}
EST_PRIVATE est_status est__softmax_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    return est__sm_backward(g, n, dy, dx, EST_OP_SOFTMAX_GRAD);
}
EST_PRIVATE est_status est__log_softmax_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    return est__sm_backward(g, n, dy, dx, EST_OP_LOG_SOFTMAX_GRAD);
}

EST_PRIVATE est_node *est__softmax_op(est_graph *g, est_op op, est_node *logits, int axis)
{
    est__attrs at;
    int ax;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!logits) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: logits is NULL", est_op_name(op));
    if (!est__is_float(logits))
        return est__fail(g, EST_ERR_DTYPE, "%s: logits '%s' is %s, expected float32", est_op_name(op),
                         logits->name, est_dtype_name(logits->dtype));
    ax = est__axis(axis, logits->shape.rank);
    if (ax < 0)
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: axis %d is out of range for logits '%s' of shape %s",
                         est_op_name(op), axis, logits->name, est__sstr(&logits->shape));
    memset(&at, 0, sizeof at);
    at.i[0] = ax;
    return est__node_new(g, op, EST_DTYPE_F32, &logits, 1, &at);
}
EST_API est_node *est_softmax(est_graph *g, est_node *logits, int axis)
{
    return est__softmax_op(g, EST_OP_SOFTMAX, logits, axis);
}
EST_API est_node *est_log_softmax(est_graph *g, est_node *logits, int axis)
{
    return est__softmax_op(g, EST_OP_LOG_SOFTMAX, logits, axis);
}

/* ---- Cross-entropies with logits ----
 * Inputs: labels, logits (and dy for the gradient ops). Gradient ops: attrs i[0] is the input
 * whose gradient they compute: 0 logits, 1 labels. Classes are the last axis. */

EST_PRIVATE est_status est__sparse_xent_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    const est_shape *lab = &in[0], *lg = &in[1];
    int d;
    if (lg->rank < 1 || lab->rank != lg->rank - 1) goto bad;
    *out = *lab;
    for (d = 0; d < lab->rank; d++) {
        if (lab->dims[d] >= 0 && lg->dims[d] >= 0 && lab->dims[d] != lg->dims[d]) goto bad;
        if (out->dims[d] < 0) out->dims[d] = lg->dims[d];
    }
    return EST_OK;
bad:
    return est__infer_error(n, EST_ERR_SHAPE,
                            "labels %s must have the shape of logits %s without its last (classes) "
                            "dimension", est__sstr(lab), est__sstr(lg));
}

EST_PRIVATE est_status est__softmax_xent_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    est_shape m;
    est_status s = est__merge_equal_shapes(n, &in[0], &in[1], &m, "labels", "logits");
    if (s != EST_OK) return s;
    if (m.rank < 1)
        return est__infer_error(n, EST_ERR_SHAPE, "logits must have rank >= 1 (classes last), got %s",
                                est__sstr(&in[1]));
    *out = m;
    out->rank--;
    return EST_OK;
}

/* Gradient ops (labels, logits, dy): the shape of the input they differentiate; dy must have the
 * forward output's shape. */
EST_PRIVATE est_status est__xent_grad_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    est_shape y = in[1], m;
    est_status s;
    if (n->op != EST_OP_SIGMOID_XENT_GRAD && y.rank > 0) y.rank--;
    if ((s = est__merge_equal_shapes(n, &in[2], &y, &m, "dy", "loss")) != EST_OK) return s;
    *out = in[n->attr.i[0] ? 0 : 1];
    return EST_OK;
}

/* Labels are checked before any work so the error names the first bad example, as TF does. */
EST_PRIVATE est_status est__check_labels(const est__kctx *k, int64_t rows, int64_t classes)
{
    int64_t r;
    for (r = 0; r < rows; r++) {
        int64_t l = est__label_at(&k->in[0], r);
        if (l < 0 || l >= classes)
            return est__infer_error(k->node, EST_ERR_INVALID_ARGUMENT,
                                    "Received a label value of %lld which is outside the valid range of "
                                    "[0, %lld). Example index %lld of labels %s, logits %s",
                                    (long long)l, (long long)classes, (long long)r,
                                    est__sstr(&k->in[0].shape), est__sstr(&k->in[1].shape));
    }
    return EST_OK;
}

enum { EST__XE_SPARSE, EST__XE_SPARSE_GRAD, EST__XE_DENSE, EST__XE_DENSE_GRAD_LOGITS, EST__XE_DENSE_GRAD_LABELS };

typedef struct est__xent_ctx {
    const est__kctx *k;
    int64_t c; /* classes */
    int mode;
} est__xent_ctx;

EST_PRIVATE void est__xent_rows(void *p, int64_t begin, int64_t end)
{
    const est__xent_ctx *cx = (const est__xent_ctx *)p;
    const est__kctx *k = cx->k;
    int64_t C = cx->c, r, j;
    int sparse = cx->mode == EST__XE_SPARSE || cx->mode == EST__XE_SPARSE_GRAD;
    const float *dy = k->n_inputs > 2 ? (const float *)k->in[2].data : NULL;
    float *out = (float *)k->out->data;
    for (r = begin; r < end; r++) {
        const float *x = (const float *)k->in[1].data + r * C;
        const float *z = sparse ? NULL : (const float *)k->in[0].data + r * C;
        int64_t lab = sparse ? est__label_at(&k->in[0], r) : 0;
        float m, s = 0.0f, ls, acc = 0.0f, zsum = 0.0f;
        float *o = out + r * C;
        if (C == 0) {
            if (cx->mode == EST__XE_DENSE) out[r] = 0.0f;
            continue;
        }
        m = x[0];
        for (j = 1; j < C; j++) m = x[j] > m ? x[j] : m;
        for (j = 0; j < C; j++) s += expf(x[j] - m);
        ls = logf(s); /* log_softmax(x)_j = (x_j - m) - ls, exact for huge logits */
        switch (cx->mode) {
        case EST__XE_SPARSE: out[r] = ls - (x[lab] - m); break;
        case EST__XE_SPARSE_GRAD:
            for (j = 0; j < C; j++) o[j] = expf((x[j] - m) - ls) * dy[r];
            o[lab] -= dy[r];
            break;
        case EST__XE_DENSE: /* -sum(z * log_softmax(x)) */
            for (j = 0; j < C; j++) acc += z[j] * (ls - (x[j] - m));
            out[r] = acc;
            break;
        case EST__XE_DENSE_GRAD_LOGITS:
            /* softmax * sum(z) - z: TF's softmax - z when the labels are distributions, and the
             * exact derivative otherwise. */
            for (j = 0; j < C; j++) zsum += z[j];
            for (j = 0; j < C; j++) o[j] = (expf((x[j] - m) - ls) * zsum - z[j]) * dy[r];
            break;
        default: /* labels: -log_softmax(x) * dy */
            for (j = 0; j < C; j++) o[j] = (ls - (x[j] - m)) * dy[r];
            break;
        }
    }
}

EST_PRIVATE est_status est__xent_run(const est__kctx *k, int mode)
{
    est__xent_ctx c;
    const est_shape *lg = &k->in[1].shape;
    int64_t rows;
    est_status s;
    c.k = k;
    c.c = lg->dims[lg->rank - 1];
    c.mode = mode;
    /* one row per loss element: the labels (sparse), dy (gradients) or the output (dense loss) */
    if (mode == EST__XE_SPARSE || mode == EST__XE_SPARSE_GRAD) {
        rows = est_tensor_numel(&k->in[0]);
        if ((s = est__check_labels(k, rows, c.c)) != EST_OK) return s;
    } else {
        rows = est_tensor_numel(k->n_inputs > 2 ? &k->in[2] : k->out);
    }
    est__parallel_range(k->pool, rows, est__row_grain(c.c), est__xent_rows, &c);
    return EST_OK;
}
EST_PRIVATE est_status est__sparse_softmax_xent_forward(const est__kctx *k) { return est__xent_run(k, EST__XE_SPARSE); }
EST_PRIVATE est_status est__sparse_softmax_xent_grad_forward(const est__kctx *k)
{
    return est__xent_run(k, EST__XE_SPARSE_GRAD);
}
EST_PRIVATE est_status est__softmax_xent_forward(const est__kctx *k) { return est__xent_run(k, EST__XE_DENSE); }
EST_PRIVATE est_status est__softmax_xent_grad_forward(const est__kctx *k)
{
    return est__xent_run(k, k->node->attr.i[0] ? EST__XE_DENSE_GRAD_LABELS : EST__XE_DENSE_GRAD_LOGITS);
}

/* The gradient op of input `which` (0 logits, 1 labels) of a cross-entropy node. */
EST_PRIVATE est_node *est__xent_grad_node(est_graph *g, est_op op, est_node *n, est_node *dy, int which)
{
    est__attrs at;
    est_node *in[3];
    memset(&at, 0, sizeof at);
    at.i[0] = which;
    in[0] = n->inputs[0];
    in[1] = n->inputs[1];
    in[2] = dy;
    return est__node_new(g, op, EST_DTYPE_F32, in, 3, &at);
}

EST_PRIVATE est_status est__sparse_softmax_xent_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[1] = est__xent_grad_node(g, EST_OP_SPARSE_SOFTMAX_XENT_GRAD, n, dy, 0);
    return EST_OK;
}
EST_PRIVATE est_status est__softmax_xent_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[0] = est__xent_grad_node(g, EST_OP_SOFTMAX_XENT_GRAD, n, dy, 1);
    dx[1] = est__xent_grad_node(g, EST_OP_SOFTMAX_XENT_GRAD, n, dy, 0);
    return EST_OK;
}

EST_PRIVATE est_node *est__xent_op(est_graph *g, est_op op, est_node *labels, est_node *logits, int sparse)
{
    est_node *in[2];
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!labels || !logits)
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: labels or logits is NULL", est_op_name(op));
    if (!est__is_float(logits))
        return est__fail(g, EST_ERR_DTYPE, "%s: logits '%s' is %s, expected float32", est_op_name(op),
                         logits->name, est_dtype_name(logits->dtype));
    if (sparse ? (labels->dtype != EST_DTYPE_I32 && labels->dtype != EST_DTYPE_I64) : !est__is_float(labels))
        return est__fail(g, EST_ERR_DTYPE, "%s: labels '%s' is %s, expected %s", est_op_name(op), labels->name,
                         est_dtype_name(labels->dtype), sparse ? "int32 or int64" : "float32");
    in[0] = labels;
    in[1] = logits;
    return est__node_new(g, op, EST_DTYPE_F32, in, 2, NULL);
}
EST_API est_node *est_sparse_softmax_cross_entropy_with_logits(est_graph *g, est_node *labels, est_node *logits)
{
    return est__xent_op(g, EST_OP_SPARSE_SOFTMAX_XENT, labels, logits, 1);
}
EST_API est_node *est_softmax_cross_entropy_with_logits(est_graph *g, est_node *labels, est_node *logits)
{
    return est__xent_op(g, EST_OP_SOFTMAX_XENT, labels, logits, 0);
}

/* Sigmoid cross-entropy: elementwise over labels z and logits x of equal shapes. */

EST_PRIVATE est_status est__sigmoid_xent_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    return est__merge_equal_shapes(n, &in[0], &in[1], out, "labels", "logits");
}

typedef struct est__sx_ctx {
    const float *z, *x, *dy;
    float *out;
    int mode; /* 0 loss, 1 d/dlogits, 2 d/dlabels */
} est__sx_ctx;

EST_PRIVATE void est__sx_range(void *p, int64_t begin, int64_t end)
{
    const est__sx_ctx *c = (const est__sx_ctx *)p;
    int64_t i;
    if (c->mode == 0) {
        for (i = begin; i < end; i++) {
            float x = c->x[i];
            c->out[i] = (x > 0.0f ? x : 0.0f) - x * c->z[i] + log1pf(expf(-fabsf(x)));
        }
    } else if (c->mode == 1) {
        for (i = begin; i < end; i++) {
            float x = c->x[i], e = expf(-fabsf(x)); /* stable sigmoid */
            float sg = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
            c->out[i] = (sg - c->z[i]) * c->dy[i];
        }
    } else {
        for (i = begin; i < end; i++) c->out[i] = -c->x[i] * c->dy[i];
    }
}

EST_PRIVATE est_status est__sx_run(const est__kctx *k, int mode)
{
    est__sx_ctx c;
    c.z = (const float *)k->in[0].data;
    c.x = (const float *)k->in[1].data;
    c.dy = k->n_inputs > 2 ? (const float *)k->in[2].data : NULL;
    c.out = (float *)k->out->data;
    c.mode = mode;
    est__parallel_range(k->pool, est_tensor_numel(k->out), 1 << 14, est__sx_range, &c);
    return EST_OK;
}
EST_PRIVATE est_status est__sigmoid_xent_forward(const est__kctx *k) { return est__sx_run(k, 0); }
EST_PRIVATE est_status est__sigmoid_xent_grad_forward(const est__kctx *k)
{
    return est__sx_run(k, k->node->attr.i[0] ? 2 : 1);
}
EST_PRIVATE est_status est__sigmoid_xent_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[0] = est__xent_grad_node(g, EST_OP_SIGMOID_XENT_GRAD, n, dy, 1);
    dx[1] = est__xent_grad_node(g, EST_OP_SIGMOID_XENT_GRAD, n, dy, 0);
    return EST_OK;
}
EST_API est_node *est_sigmoid_cross_entropy_with_logits(est_graph *g, est_node *labels, est_node *logits)
{
    return est__xent_op(g, EST_OP_SIGMOID_XENT, labels, logits, 0);
}

/* ---- L2Normalize (attrs: i[0] bit mask of the reduced axes, f[0] epsilon) ----
 * y = x * rsqrt(max(s, eps)) with s = sum(x^2) over the axes. Gradient (L2NormalizeGrad(x, dy)):
 * dx = r * dy - [s >= eps] * x * r^3 * sum(dy * x), r = rsqrt(max(s, eps)). Sums are in double,
 * in element order, in the workspace (one slot per kept position). */

/* Strides into the reduced (kept-axes) array; returns its element count. */
EST_PRIVATE int64_t est__l2_rstrides(const est_shape *s, int64_t mask, int64_t *st)
{
    int64_t c = 1;
    int d;
    for (d = s->rank - 1; d >= 0; d--) {
        if ((mask >> d) & 1) {
            st[d] = 0;
        } else {
            st[d] = c;
            c *= s->dims[d];
        }
    }
    return c;
}

/* Odometer step over a row-major shape, moving `pos` by the matching strides. */
EST_PRIVATE void est__odo_next(int64_t *idx, const est_shape *s, const int64_t *st, int64_t *pos)
{
    int d;
    for (d = s->rank - 1; d >= 0; d--) {
        if (++idx[d] < s->dims[d]) {
            *pos += st[d];
            return;
        }
        *pos -= st[d] * (s->dims[d] - 1);
        idx[d] = 0;
    }
}

EST_PRIVATE size_t est__l2_normalize_workspace(const est_node *n, const est_shape *in, const est_shape *out,
                                               int nthreads)
{
    int64_t st[EST_MAX_RANK];
    (void)out;
    (void)nthreads;
    return 2 * sizeof(double) * (size_t)est__l2_rstrides(&in[0], n->attr.i[0], st);
}

EST_PRIVATE est_status est__l2_run(const est__kctx *k, int grad)
{
    const est_shape *s = &k->in[0].shape;
    int64_t st[EST_MAX_RANK], idx[EST_MAX_RANK], cnt, n = est_tensor_numel(&k->in[0]), i, pos = 0;
    const float *x = (const float *)k->in[0].data, *dy = grad ? (const float *)k->in[1].data : NULL;
    float *y = (float *)k->out->data;
    double *ss = (double *)k->work, *dot, eps = (double)k->node->attr.f[0];
    cnt = est__l2_rstrides(s, k->node->attr.i[0], st);
    dot = ss + cnt;
    memset(ss, 0, sizeof(double) * (size_t)cnt * 2);
    memset(idx, 0, sizeof idx);
    for (i = 0; i < n; i++) {
        ss[pos] += (double)x[i] * x[i];
        if (grad) dot[pos] += (double)x[i] * dy[i];
        est__odo_next(idx, s, st, &pos);
    }
    pos = 0;
    memset(idx, 0, sizeof idx);
    if (!grad) {
        for (i = 0; i < cnt; i++) ss[i] = 1.0 / sqrt(ss[i] > eps ? ss[i] : eps);
        for (i = 0; i < n; i++) {
            y[i] = (float)(x[i] * ss[pos]);
            est__odo_next(idx, s, st, &pos);
        }
    } else {
        for (i = 0; i < cnt; i++) {
            double r = 1.0 / sqrt(ss[i] > eps ? ss[i] : eps);
            dot[i] = ss[i] >= eps ? r * r * r * dot[i] : 0.0; /* the max passes no gradient below eps */
            ss[i] = r;
        }
        for (i = 0; i < n; i++) {
            y[i] = (float)(ss[pos] * dy[i] - x[i] * dot[pos]);
            est__odo_next(idx, s, st, &pos);
        }
    }
    return EST_OK;
}
EST_PRIVATE est_status est__l2_normalize_forward(const est__kctx *k) { return est__l2_run(k, 0); }
EST_PRIVATE est_status est__l2_normalize_grad_forward(const est__kctx *k) { return est__l2_run(k, 1); }

EST_PRIVATE est_status est__l2_normalize_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *in[2];
    in[0] = n->inputs[0];
    in[1] = dy;
    dx[0] = est__node_new(g, EST_OP_L2_NORMALIZE_GRAD, EST_DTYPE_F32, in, 2, &n->attr);
    return EST_OK;
}
EST_PRIVATE est_status est__l2_grad_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    return est__merge_equal_shapes(n, &in[1], &in[0], out, "dy", "x");
}

EST_API est_node *est_l2_normalize(est_graph *g, est_node *x, const int *axes, int n_axes, float epsilon)
{
    est__attrs at;
    int i, r;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!x) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "L2Normalize: x is NULL");
    if (!est__is_float(x))
        return est__fail(g, EST_ERR_DTYPE, "L2Normalize: x '%s' is %s, expected float32", x->name,
                         est_dtype_name(x->dtype));
    if (n_axes < 0 || (n_axes > 0 && !axes) || n_axes > EST_MAX_RANK)
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "L2Normalize: bad axis list (%d axes) for '%s'", n_axes,
                         x->name);
    if (epsilon == 0.0f) epsilon = 1e-12f;
    if (!(epsilon > 0.0f))
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "L2Normalize: epsilon %g for '%s' must be positive",
                         (double)epsilon, x->name);
    memset(&at, 0, sizeof at);
    r = x->shape.rank;
    if (n_axes == 0) at.i[0] = ((int64_t)1 << r) - 1;
    for (i = 0; i < n_axes; i++) {
        int a = est__axis(axes[i], r);
        if (a < 0)
            return est__fail(g, EST_ERR_INVALID_ARGUMENT, "L2Normalize: axis %d is out of range for '%s' of shape %s",
                             axes[i], x->name, est__sstr(&x->shape));
        if ((at.i[0] >> a) & 1)
            return est__fail(g, EST_ERR_INVALID_ARGUMENT, "L2Normalize: axis %d is repeated for '%s'", axes[i],
                             x->name);
        at.i[0] |= (int64_t)1 << a;
    }
    at.f[0] = epsilon;
    return est__node_new(g, EST_OP_L2_NORMALIZE, EST_DTYPE_F32, &x, 1, &at);
}

/* ---- Random ops and dropout ----
 * Element i of a run with counter `step` takes Philox-4x32 word i % 4 of block i / 4 under the
 * node's seed: counter = (block low 32, block high 16 | attempt << 16, step low, step high), so
 * values depend only on (seed, step, i), never on threads or chunks. Truncated normals redraw
 * with attempts 1, 2, ... whose counters use the element index itself.
 * Attrs: i[0] rank, i[1..8] the static shape (unused with shape_like, which is then input 0);
 * f[0], f[1]: minval, maxval (uniform), mean, stddev (normals) or rate, 1 / (1 - rate) (dropout). */

enum { EST__RNG_UNIFORM, EST__RNG_NORMAL, EST__RNG_TRUNCATED, EST__RNG_DROPOUT };

EST_PRIVATE uint64_t est__splitmix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* TF pairs the graph seed with an op seed; here both are hashed into one 64-bit seed. */
EST_PRIVATE uint64_t est__seed_mix(uint64_t graph_seed, uint64_t op_seed)
{
    return est__splitmix64(graph_seed ^ est__splitmix64(op_seed + 0x5851F42D4C957F2Dull));
}

typedef struct est__rng_ctx {
    uint32_t key[2];
    uint64_t step;
    const float *x; /* dropout input */
    float *y;
    float a, b;
    int kind;
} est__rng_ctx;

EST_PRIVATE void est__rng_block(const est__rng_ctx *c, uint64_t block, uint32_t attempt, uint32_t w[4])
{
    uint32_t ctr[4];
    ctr[0] = (uint32_t)block;
    ctr[1] = ((uint32_t)(block >> 32) & 0xFFFFu) | (attempt << 16);
    ctr[2] = (uint32_t)c->step;
    ctr[3] = (uint32_t)(c->step >> 32);
    est_philox4x32(c->key, ctr, w);
}

/* Box-Muller on the pair of words holding `lane`: cos for even lanes, sin for odd ones. */
EST_PRIVATE float est__box_muller(const uint32_t w[4], int lane)
{
    int p = lane & 2;
    float u1 = 1.0f - est_uniform_from_bits(w[p]); /* (0, 1]: log never sees 0 */
    float u2 = est_uniform_from_bits(w[p + 1]);
    float r = sqrtf(-2.0f * logf(u1)), t = 6.28318530717958647692f * u2;
    return (lane & 1) ? r * sinf(t) : r * cosf(t);
}

EST_PRIVATE float est__truncated_redraw(const est__rng_ctx *c, uint64_t i)
{
    uint32_t a, w[4];
    int lane;
    for (a = 1; a < 0x10000u; a++) {
        est__rng_block(c, i, a, w);
        for (lane = 0; lane < 4; lane++) {
            float z = est__box_muller(w, lane);
            if (fabsf(z) <= 2.0f) return z;
        }
    }
    return 0.0f; /* unreachable in practice: 262140 draws beyond 2 stddevs */
}

/* 16 consecutive Philox blocks (attempt 0) at once, written as loops over the 16 lanes that
 * compilers vectorise (32 x 32 -> 64-bit products are vpmuludq): the same numbers as
 * est__rng_block, several times faster than one block at a time. w[j][l] is word j of block
 * blk0 + l. */
#define EST__RNG_LANES 16
EST_PRIVATE void est__rng_blocks(const est__rng_ctx *c, uint64_t blk0, uint32_t w[4][EST__RNG_LANES])
{
    uint32_t *c0 = w[0], *c1 = w[1], *c2 = w[2], *c3 = w[3], k0 = c->key[0], k1 = c->key[1];
    int l, r;
    for (l = 0; l < EST__RNG_LANES; l++) {
        uint64_t b = blk0 + (uint64_t)l;
        c0[l] = (uint32_t)b;
        c1[l] = (uint32_t)(b >> 32) & 0xFFFFu;
        c2[l] = (uint32_t)c->step;
        c3[l] = (uint32_t)(c->step >> 32);
    }
    for (r = 0; r < 10; r++) {
        for (l = 0; l < EST__RNG_LANES; l++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * c0[l], p1 = (uint64_t)0xCD9E8D57u * c2[l];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)p1;
            c3[l] = (uint32_t)p0;
            c0[l] = n0;
            c2[l] = n2;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/* Elements [begin, end) one Philox block at a time: every kind. */
EST_PRIVATE void est__rng_scalar(const est__rng_ctx *c, int64_t begin, int64_t end)
{
    uint64_t cur = ~(uint64_t)0, blk;
    uint32_t w[4];
    int64_t i;
    for (i = begin; i < end; i++) {
        int lane = (int)(i & 3);
        float z;
        blk = (uint64_t)i >> 2;
        if (blk != cur) {
            est__rng_block(c, blk, 0, w);
            cur = blk;
        }
        switch (c->kind) {
        case EST__RNG_UNIFORM: c->y[i] = c->a + est_uniform_from_bits(w[lane]) * (c->b - c->a); break;
        case EST__RNG_NORMAL: c->y[i] = c->a + c->b * est__box_muller(w, lane); break;
        case EST__RNG_TRUNCATED:
            z = est__box_muller(w, lane);
            if (fabsf(z) > 2.0f) z = est__truncated_redraw(c, (uint64_t)i);
            c->y[i] = c->a + c->b * z;
            break;
        default: /* keep where uniform >= rate, as tf.nn.dropout */
            c->y[i] = est_uniform_from_bits(w[lane]) >= c->a ? c->x[i] * c->b : 0.0f;
            break;
        }
    }
}

EST_PRIVATE void est__rng_range(void *p, int64_t begin, int64_t end)
{
    const est__rng_ctx *c = (const est__rng_ctx *)p;
    const int64_t group = 4 * EST__RNG_LANES;
    int64_t g0 = (begin + group - 1) / group * group, g;
    uint32_t wl[4][EST__RNG_LANES];
    int l;
    if ((c->kind != EST__RNG_UNIFORM && c->kind != EST__RNG_DROPOUT) || g0 + group > end) {
        est__rng_scalar(c, begin, end);
        return;
    }
    /* whole groups of 16 blocks (64 elements) lane-parallel; the ragged ends one block at a time */
    est__rng_scalar(c, begin, g0);
    for (g = g0; g + group <= end; g += group) {
        est__rng_blocks(c, (uint64_t)g >> 2, wl);
        if (c->kind == EST__RNG_UNIFORM)
            for (l = 0; l < group; l++) c->y[g + l] = c->a + est_uniform_from_bits(wl[l & 3][l >> 2]) * (c->b - c->a);
        else
            for (l = 0; l < group; l++)
                c->y[g + l] = est_uniform_from_bits(wl[l & 3][l >> 2]) >= c->a ? c->x[g + l] * c->b : 0.0f;
    }
    est__rng_scalar(c, g, end);
}

EST_PRIVATE est_status est__rng_run(const est__kctx *k, int kind)
{
    est__rng_ctx c;
    uint64_t key = est__splitmix64(k->node->seed);
    c.key[0] = (uint32_t)key;
    c.key[1] = (uint32_t)(key >> 32);
    c.step = k->step;
    c.x = kind == EST__RNG_DROPOUT ? (const float *)k->in[0].data : NULL;
    c.y = (float *)k->out->data;
    c.a = k->node->attr.f[0];
    c.b = k->node->attr.f[1];
    c.kind = kind;
    est__parallel_range(k->pool, est_tensor_numel(k->out), 1 << 14, est__rng_range, &c);
    return EST_OK;
}
EST_PRIVATE est_status est__random_uniform_forward(const est__kctx *k) { return est__rng_run(k, EST__RNG_UNIFORM); }
EST_PRIVATE est_status est__random_normal_forward(const est__kctx *k) { return est__rng_run(k, EST__RNG_NORMAL); }
EST_PRIVATE est_status est__truncated_normal_forward(const est__kctx *k)
{
    return est__rng_run(k, EST__RNG_TRUNCATED);
}
/* DropoutGrad applies the forward's mask to dy: the same kernel under the same seed and step. */
EST_PRIVATE est_status est__dropout_forward(const est__kctx *k) { return est__rng_run(k, EST__RNG_DROPOUT); }

EST_PRIVATE est_status est__random_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int d;
    if (n->n_inputs == 1) {
        *out = in[0];
        return EST_OK;
    }
    memset(out, 0, sizeof *out);
    out->rank = (int)n->attr.i[0];
    for (d = 0; d < out->rank; d++) out->dims[d] = n->attr.i[1 + d];
    return EST_OK;
}

EST_PRIVATE est_node *est__random_op(est_graph *g, est_op op, est_shape shape, const est_random_args *args)
{
    est__attrs at;
    est_node *n, *like = args ? args->shape_like : NULL;
    int d;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    memset(&at, 0, sizeof at);
    if (!like) {
        if (shape.rank < 0 || shape.rank > EST_MAX_RANK)
            return est__fail(g, EST_ERR_SHAPE, "%s: rank %d is outside 0..%d", est_op_name(op), shape.rank,
                             EST_MAX_RANK);
        for (d = 0; d < shape.rank; d++)
            if (shape.dims[d] < 0)
                return est__fail(g, EST_ERR_SHAPE,
                                 "%s: shape %s must be fully known (use shape_like for a dynamic shape)",
                                 est_op_name(op), est__sstr(&shape));
        at.i[0] = shape.rank;
        for (d = 0; d < shape.rank; d++) at.i[1 + d] = shape.dims[d];
    }
    if (op == EST_OP_RANDOM_UNIFORM) {
        at.f[0] = args ? args->minval : 0.0f;
        at.f[1] = args ? args->maxval : 0.0f;
        if (at.f[0] == 0.0f && at.f[1] == 0.0f) at.f[1] = 1.0f;
    } else {
        at.f[0] = args ? args->mean : 0.0f;
        at.f[1] = args && args->stddev != 0.0f ? args->stddev : 1.0f;
    }
    n = est__node_new(g, op, EST_DTYPE_F32, like ? &like : NULL, like ? 1 : 0, &at);
    if (n && args && args->seed) n->seed = est__seed_mix(g->seed, args->seed);
    return n;
}
EST_API est_node *est_random_uniform(est_graph *g, est_shape shape, const est_random_args *args)
{
    return est__random_op(g, EST_OP_RANDOM_UNIFORM, shape, args);
}
EST_API est_node *est_random_normal(est_graph *g, est_shape shape, const est_random_args *args)
{
    return est__random_op(g, EST_OP_RANDOM_NORMAL, shape, args);
}
EST_API est_node *est_truncated_normal(est_graph *g, est_shape shape, const est_random_args *args)
{
    return est__random_op(g, EST_OP_TRUNCATED_NORMAL, shape, args);
}

/* Dropout and DropoutGrad: input x (or dy), attrs f[0] rate, f[1] 1 / (1 - rate); the gradient
 * node copies the forward's seed, so both draw the same mask in the same run. DropoutGrad is
 * linear in dy, so its own gradient is another DropoutGrad. */
EST_PRIVATE est_status est__dropout_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *d = est__node_new(g, EST_OP_DROPOUT_GRAD, EST_DTYPE_F32, &dy, 1, &n->attr);
    if (d) d->seed = n->seed;
    dx[0] = d;
    return EST_OK;
}

EST_API est_node *est_dropout(est_graph *g, est_node *x, float rate, uint64_t seed)
{
    est__attrs at;
    est_node *n;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!x) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "Dropout: x is NULL");
    if (!est__is_float(x))
        return est__fail(g, EST_ERR_DTYPE, "Dropout: x '%s' is %s, expected float32", x->name,
                         est_dtype_name(x->dtype));
    if (!(rate >= 0.0f && rate < 1.0f))
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "Dropout: rate %g for '%s' must be in [0, 1)",
                         (double)rate, x->name);
    if (rate == 0.0f) return x;
    memset(&at, 0, sizeof at);
    at.f[0] = rate;
    at.f[1] = 1.0f / (1.0f - rate);
    n = est__node_new(g, EST_OP_DROPOUT, EST_DTYPE_F32, &x, 1, &at);
    if (n && seed) n->seed = est__seed_mix(g->seed, seed);
    return n;
}

/* ---- definitions ---- */

static const est__op_def est__def_softmax = {"Softmax", est__infer_same, est__softmax_forward,
                                             est__softmax_backward, NULL, 0};
static const est__op_def est__def_log_softmax = {"LogSoftmax", est__infer_same, est__log_softmax_forward,
                                                 est__log_softmax_backward, NULL, 0};
static const est__op_def est__def_sparse_softmax_xent = {
    "SparseSoftmaxCrossEntropyWithLogits", est__sparse_xent_infer, est__sparse_softmax_xent_forward,
    est__sparse_softmax_xent_backward, NULL, 0};
static const est__op_def est__def_softmax_xent = {"SoftmaxCrossEntropyWithLogits", est__softmax_xent_infer,
                                                  est__softmax_xent_forward, est__softmax_xent_backward,
                                                  NULL, 0};
static const est__op_def est__def_sigmoid_xent = {"SigmoidCrossEntropyWithLogits", est__sigmoid_xent_infer,
                                                  est__sigmoid_xent_forward, est__sigmoid_xent_backward,
                                                  NULL, 0};
static const est__op_def est__def_l2_normalize = {"L2Normalize", est__infer_same, est__l2_normalize_forward,
                                                  est__l2_normalize_backward, est__l2_normalize_workspace, 0};
static const est__op_def est__def_random_uniform = {"RandomUniform", est__random_infer,
                                                    est__random_uniform_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_random_normal = {"RandomStandardNormal", est__random_infer,
                                                   est__random_normal_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_truncated_normal = {"TruncatedNormal", est__random_infer,
                                                      est__truncated_normal_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_dropout = {"Dropout", est__infer_same, est__dropout_forward,
                                             est__dropout_backward, NULL, 0};
/* Gradient ops have no gradient of their own (second derivatives are not needed by training),
 * except DropoutGrad, which is linear. */
static const est__op_def est__def_softmax_grad = {"SoftmaxGrad", est__sm_grad_infer, est__softmax_grad_forward,
                                                  NULL, NULL, 0};
static const est__op_def est__def_log_softmax_grad = {"LogSoftmaxGrad", est__sm_grad_infer,
                                                      est__log_softmax_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_sparse_softmax_xent_grad = {
    "SparseSoftmaxCrossEntropyWithLogitsGrad", est__xent_grad_infer, est__sparse_softmax_xent_grad_forward,
    NULL, NULL, 0};
static const est__op_def est__def_softmax_xent_grad = {"SoftmaxCrossEntropyWithLogitsGrad",
                                                       est__xent_grad_infer, est__softmax_xent_grad_forward,
                                                       NULL, NULL, 0};
static const est__op_def est__def_sigmoid_xent_grad = {"SigmoidCrossEntropyWithLogitsGrad",
                                                       est__xent_grad_infer, est__sigmoid_xent_grad_forward,
                                                       NULL, NULL, 0};
static const est__op_def est__def_l2_normalize_grad = {"L2NormalizeGrad", est__l2_grad_infer,
                                                       est__l2_normalize_grad_forward, NULL,
                                                       est__l2_normalize_workspace, 0};
static const est__op_def est__def_dropout_grad = {"DropoutGrad", est__infer_same, est__dropout_forward,
                                                  est__dropout_backward, NULL, 0};
