/* >>kernels/op_core: placeholders, constants, variables, identity, control flow plumbing, AddN,
 * the *_like helpers that make gradients work with a dynamic batch, assignments and MatMul. */

/* ---- shared infer helpers ---- */

EST_PRIVATE est_status est__infer_same(const est_node *n, const est_shape *in, est_shape *out)
{
    (void)n;
    *out = in[0];
    return EST_OK;
}
EST_PRIVATE est_status est__no_grad(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    (void)g;
    (void)n;
    (void)dy;
    (void)dx;
    return EST_OK;
}

/* ---- sources ---- */

EST_API est_node *est_placeholder(est_graph *g, const char *name, est_dtype dtype, est_shape shape)
{
    est_node *n;
    int i;
    if (!g) return NULL;
    if (dtype == EST_DTYPE_DEFAULT) dtype = EST_DTYPE_F32;
    if (!est_dtype_size(dtype))
        return est__fail(g, EST_ERR_DTYPE, "Placeholder '%s': invalid dtype %d", name ? name : "", (int)dtype);
    if (shape.rank < 0 || shape.rank > EST_MAX_RANK)
        return est__fail(g, EST_ERR_SHAPE, "Placeholder '%s': rank %d is outside 0..%d", name ? name : "",
                         shape.rank, EST_MAX_RANK);
    for (i = 0; i < shape.rank; i++)
        if (shape.dims[i] < -1)
            return est__fail(g, EST_ERR_SHAPE, "Placeholder '%s': dimension %d is %lld", name ? name : "",
                             i, (long long)shape.dims[i]);
    n = est__node_new_named(g, EST_OP_PLACEHOLDER, dtype, NULL, 0, NULL, name, 1);
    if (n) n->shape = shape;
    return n;
}

EST_API est_node *est_constant(est_graph *g, const est_tensor *value)
{
    est_tensor *copy = NULL;
    est_node *n;
    est_status s;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!value) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "Const: value is NULL");
    if ((s = est_tensor_copy(value, &copy)) != EST_OK) {
        est__graph_record(g, s);
        return NULL;
    }
    if (est__grow((void **)&g->consts, &g->cap_consts, g->n_consts + 1, sizeof(est_tensor *)) != EST_OK) {
        est_tensor_free(copy);
        return est__fail(g, EST_ERR_OUT_OF_MEMORY, "Const: out of memory");
    }
    g->consts[g->n_consts++] = copy;
    n = est__node_new(g, EST_OP_CONST, copy->dtype, NULL, 0, NULL);
    if (n) {
        n->value = copy;
        n->shape = copy->shape;
    }
    return n;
}

EST_API est_node *est_constant_f32(est_graph *g, est_shape shape, const float *data)
{
    est_tensor t;
    int64_t n = est_shape_numel(&shape);
    if (!g) return NULL;
    if (n < 0) return est__fail(g, EST_ERR_SHAPE, "Const: shape %s is not fully known", est__sstr(&shape));
    if (!data && n > 0) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "Const: data is NULL");
    t.dtype = EST_DTYPE_F32;
    t.shape = shape;
    t.data = (void *)(uintptr_t)data; /* only read: est_constant copies it */
    t.nbytes = (size_t)n * sizeof(float);
    t.flags = 0;
    return est_constant(g, &t);
}

EST_API est_node *est_scalar(est_graph *g, float value)
{
    return est_constant_f32(g, est_shape_scalar(), &value);
}

EST_API est_node *est_variable(est_graph *g, const char *name)
{
    est_node *n;
    est_tensor *t;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!name || !*name) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "VariableV2: empty name");
    n = (est_node *)est__strmap_get(&g->var_nodes, name);
    if (n) return n;
    t = est_var_store_find(g->store, name);
    if (!t)
        return est__fail(g, EST_ERR_NOT_FOUND, "VariableV2: variable '%s' does not exist in the store",
                         name);
    n = est__node_new_named(g, EST_OP_VARIABLE, t->dtype, NULL, 0, NULL, name, 0);
    if (!n) return NULL;
    n->var = t;
    n->var_name = n->name;
    n->shape = t->shape;
    if (est__strmap_put(&g->var_nodes, est__arena_strdup(&g->arena, name), n) != EST_OK)
        return est__fail(g, EST_ERR_OUT_OF_MEMORY, "VariableV2: out of memory");
    return n;
}

/* ---- identity, stop_gradient, groups ---- */

EST_PRIVATE est_status est__identity_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    (void)g;
    (void)n;
    dx[0] = dy;
    return EST_OK;
}

EST_API est_node *est_identity(est_graph *g, est_node *x)
{
    return est__node_new(g, EST_OP_IDENTITY, x ? x->dtype : EST_DTYPE_F32, &x, 1, NULL);
}
EST_API est_node *est_stop_gradient(est_graph *g, est_node *x)
{
    return est__node_new(g, EST_OP_STOP_GRADIENT, x ? x->dtype : EST_DTYPE_F32, &x, 1, NULL);
}

EST_API est_node *est_control_deps(est_node *node, est_node *const *deps, int n_deps)
{
    est_graph *g;
    est_node **nc;
    int i;
    if (!node) return NULL;
    g = node->graph;
    if (g->status != EST_OK) return NULL;
    if (n_deps < 0 || (n_deps && !deps))
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "control dependencies of '%s': bad list", node->name);
    for (i = 0; i < n_deps; i++)
        if (!deps[i] || deps[i]->graph != g)
            return est__fail(g, EST_ERR_INVALID_ARGUMENT,
                             "control dependency %d of '%s' is NULL or from another graph", i, node->name);
    nc = (est_node **)est__arena_alloc(&g->arena, sizeof(est_node *) * (size_t)(node->n_ctrl + n_deps + 1));
    if (!nc) return est__fail(g, EST_ERR_OUT_OF_MEMORY, "control dependencies: out of memory");
    for (i = 0; i < node->n_ctrl; i++) nc[i] = node->ctrl[i];
    for (i = 0; i < n_deps; i++) nc[node->n_ctrl + i] = deps[i];
    node->ctrl = nc;
    node->n_ctrl += n_deps;
    return node;
}

EST_API est_node *est_group(est_graph *g, est_node *const *deps, int n_deps)
{
    est_node *n = est__node_new(g, EST_OP_NO_OP, EST_DTYPE_BOOL, NULL, 0, NULL);
    if (!n) return NULL;
    n->shape = est_shape_scalar();
    return est_control_deps(n, deps, n_deps);
}

/* ---- AddN ---- */

EST_PRIVATE est_status est__add_n_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int i, d;
    *out = in[0];
    for (i = 1; i < n->n_inputs; i++) {
        if (in[i].rank != out->rank)
            return est__infer_error(n, EST_ERR_SHAPE, "inputs must have equal shapes: %s and %s",
                                    est__sstr(&in[0]), est__sstr(&in[i]));
        for (d = 0; d < out->rank; d++) {
            if (out->dims[d] < 0) out->dims[d] = in[i].dims[d];
            else if (in[i].dims[d] >= 0 && in[i].dims[d] != out->dims[d])
                return est__infer_error(n, EST_ERR_SHAPE, "inputs must have equal shapes: %s and %s",
                                        est__sstr(&in[0]), est__sstr(&in[i]));
        }
    }
    return EST_OK;
}

typedef struct est__add_n_ctx {
    const est__kctx *k;
} est__add_n_ctx;

EST_PRIVATE void est__add_n_range(void *c, int64_t b, int64_t e)
{
    const est__kctx *k = ((est__add_n_ctx *)c)->k;
    float *y = (float *)k->out->data;
    int i;
    int64_t j;
    const float *x0 = (const float *)k->in[0].data;
    for (j = b; j < e; j++) y[j] = x0[j];
    for (i = 1; i < k->n_inputs; i++) {
        const float *x = (const float *)k->in[i].data;
        for (j = b; j < e; j++) y[j] += x[j];
    }
}

EST_PRIVATE est_status est__add_n_forward(const est__kctx *k)
{
    est__add_n_ctx c;
    c.k = k;
    est__parallel_range(k->pool, est_tensor_numel(k->out), 1 << 15, est__add_n_range, &c);
    return EST_OK;
}

EST_PRIVATE est_status est__add_n_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    int i;
    (void)g;
    for (i = 0; i < n->n_inputs; i++) dx[i] = dy;
    return EST_OK;
}

EST_API est_node *est_add_n(est_graph *g, est_node *const *xs, int n)
{
    int i;
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (n < 1 || !xs) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "AddN: needs at least one input");
    for (i = 0; i < n; i++) {
        if (!xs[i]) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "AddN: input %d is NULL", i);
        if (!est__is_float(xs[i]))
            return est__fail(g, EST_ERR_DTYPE, "AddN: input %d ('%s') is %s, expected float32", i,
                             xs[i]->name, est_dtype_name(xs[i]->dtype));
    }
    if (n == 1) return xs[0];
    return est__node_new(g, EST_OP_ADD_N, EST_DTYPE_F32, xs, n, NULL);
}

/* ---- zeros_like / ones_like ---- */

EST_PRIVATE est_status est__fill_forward(const est__kctx *k, double v)
{
    int64_t i, n = est_tensor_numel(k->out);
    switch (k->out->dtype) {
    case EST_DTYPE_F32:
        for (i = 0; i < n; i++) ((float *)k->out->data)[i] = (float)v;
        break;
    case EST_DTYPE_F64:
        for (i = 0; i < n; i++) ((double *)k->out->data)[i] = v;
        break;
    case EST_DTYPE_I32:
        for (i = 0; i < n; i++) ((int32_t *)k->out->data)[i] = (int32_t)v;
        break;
    case EST_DTYPE_I64:
        for (i = 0; i < n; i++) ((int64_t *)k->out->data)[i] = (int64_t)v;
        break;
    case EST_DTYPE_U8:
    case EST_DTYPE_BOOL: memset(k->out->data, v != 0.0 ? 1 : 0, (size_t)n); break;
    default: return est__infer_error(k->node, EST_ERR_DTYPE, "cannot fill %s", est_dtype_name(k->out->dtype));
    }
    return EST_OK;
}
EST_PRIVATE est_status est__zeros_like_forward(const est__kctx *k) { return est__fill_forward(k, 0.0); }
EST_PRIVATE est_status est__ones_like_forward(const est__kctx *k) { return est__fill_forward(k, 1.0); }

EST_PRIVATE est_node *est__like_op(est_graph *g, est_op op, est_node *x)
{
    if (x && x->dtype == EST_DTYPE_STRING)
        return est__fail(g, EST_ERR_DTYPE, "%s: string inputs are not supported", est_op_name(op));
    return est__node_new(g, op, x ? x->dtype : EST_DTYPE_F32, &x, 1, NULL);
}
EST_API est_node *est_zeros_like(est_graph *g, est_node *x) { return est__like_op(g, EST_OP_ZEROS_LIKE, x); }
EST_API est_node *est_ones_like(est_graph *g, est_node *x) { return est__like_op(g, EST_OP_ONES_LIKE, x); }

/* ---- broadcast_like / sum_to_like / reshape_like ---- */

/* Strides of `from` broadcast against the `to` shape: 0 where from has size 1 (or is missing). */
EST_PRIVATE void est__bcast_strides(const est_shape *from, const est_shape *to, int64_t *strides)
{
    int i, off = to->rank - from->rank;
    int64_t st = 1;
    for (i = to->rank - 1; i >= 0; i--) {
        int fi = i - off;
        if (fi < 0 || from->dims[fi] == 1) {
            strides[i] = 0;
        } else {
            strides[i] = st;
        }
        if (fi >= 0) st *= from->dims[fi];
    }
}

/* Advance a row-major multi-index over dims by one element, moving *pos by the strides: the
 * odometer both broadcast loops share. */
EST_PRIVATE void est__odometer_next(int64_t *idx, const int64_t *dims, const int64_t *st, int rank, int64_t *pos)
{
    int d;
    for (d = rank - 1; d >= 0; d--) {
        if (++idx[d] < dims[d]) {
            *pos += st[d];
            return;
        }
        *pos -= st[d] * (dims[d] - 1);
        idx[d] = 0;
    }
}

EST_PRIVATE est_status est__broadcast_like_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    est_shape b;
    est_status s = est__broadcast_shapes(n, &in[0], &in[1], &b);
    int i;
    if (s != EST_OK) return s;
    for (i = 0; i < b.rank; i++)
        if (b.rank != in[1].rank || (in[1].dims[i] >= 0 && b.dims[i] >= 0 && b.dims[i] != in[1].dims[i]))
            return est__infer_error(n, EST_ERR_SHAPE, "cannot broadcast %s to %s", est__sstr(&in[0]),
                                    est__sstr(&in[1]));
    *out = in[1];
    return EST_OK;
}

EST_PRIVATE est_status est__broadcast_like_forward(const est__kctx *k)
{
    const est_shape *to = &k->out->shape;
    int64_t st[EST_MAX_RANK], idx[EST_MAX_RANK], n = est_tensor_numel(k->out), i, src = 0;
    const float *x = (const float *)k->in[0].data;
    float *y = (float *)k->out->data;
    int r = to->rank;
    est__bcast_strides(&k->in[0].shape, to, st);
    memset(idx, 0, sizeof idx);
    for (i = 0; i < n; i++) {
        y[i] = x[src];
        est__odometer_next(idx, to->dims, st, r, &src);
    }
    return EST_OK;
}

EST_PRIVATE est_status est__broadcast_like_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[0] = est_sum_to_like(g, dy, n->inputs[0]);
    return EST_OK;
}

EST_API est_node *est_broadcast_like(est_graph *g, est_node *x, est_node *like)
{
    est_node *in[2];
    in[0] = x;
    in[1] = like;
    if (x && !est__is_float(x))
        return est__fail(g, EST_ERR_DTYPE, "BroadcastLike: x '%s' is %s, expected float32", x->name,
                         est_dtype_name(x->dtype));
    return est__node_new(g, EST_OP_BROADCAST_LIKE, EST_DTYPE_F32, in, 2, NULL);
}

EST_PRIVATE est_status est__sum_to_like_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    est_shape b;
    est_status s = est__broadcast_shapes(n, &in[1], &in[0], &b);
    if (s != EST_OK) return s;
    if (in[1].rank > in[0].rank)
        return est__infer_error(n, EST_ERR_SHAPE, "cannot sum %s down to %s", est__sstr(&in[0]),
                                est__sstr(&in[1]));
    *out = in[1];
    return EST_OK;
}

EST_PRIVATE est_status est__sum_to_like_general(const est__kctx *k);

/* The common gradient of a bias: x viewed as [rows, C] summed to [C]. Returns C (> 0) when the
 * output is x's trailing dims (after leading 1s), else 0. */
EST_PRIVATE int64_t est__sum_rows_width(const est_shape *x, const est_shape *y)
{
    int lead = 0, i;
    int64_t c = 1;
    while (lead < y->rank && y->dims[lead] == 1) lead++;
    if (y->rank - lead > x->rank) return 0;
    for (i = y->rank - 1; i >= lead; i--) {
        if (y->dims[i] != x->dims[x->rank - (y->rank - i)]) return 0;
        c *= y->dims[i];
    }
    return c;
}

#define EST__SUM_ROWS_CHUNK 64
typedef struct est__sum_rows_ctx {
    const float *x;
    float *part;
    int64_t rows, c;
} est__sum_rows_ctx;

static void est__sum_rows_task(void *ctx, int64_t b, int64_t e)
{
    const est__sum_rows_ctx *s = (const est__sum_rows_ctx *)ctx;
    int64_t ch, r, j;
    for (ch = b; ch < e; ch++) {
        float *p = s->part + ch * s->c;
        int64_t r0 = ch * EST__SUM_ROWS_CHUNK, r1 = EST__MIN(r0 + EST__SUM_ROWS_CHUNK, s->rows);
        memset(p, 0, sizeof(float) * (size_t)s->c);
        for (r = r0; r < r1; r++) {
            const float *xr = s->x + r * s->c;
            for (j = 0; j < s->c; j++) p[j] += xr[j];
        }
    }
}

EST_PRIVATE size_t est__sum_to_like_workspace(const est_node *n, const est_shape *in, const est_shape *out, int nthreads)
{
    int64_t c = est__sum_rows_width(&in[0], out), rows;
    (void)n;
    (void)nthreads;
    if (c <= 0) return 0;
    rows = est_shape_numel(&in[0]) / c;
    return sizeof(float) * (size_t)(((rows + EST__SUM_ROWS_CHUNK - 1) / EST__SUM_ROWS_CHUNK) * c);
}

/* Each output element sums the input elements that broadcast onto it in a fixed order (row chunks
 * summed in chunk order for the bias case), so the result is the same on any thread count. */
EST_PRIVATE est_status est__sum_to_like_forward(const est__kctx *k)
{
    int64_t c = est__sum_rows_width(&k->in[0].shape, &k->out->shape);
    if (c > 0 && k->work) {
        est__sum_rows_ctx sc;
        int64_t chunks, ch, j;
        float *y = (float *)k->out->data;
        sc.x = (const float *)k->in[0].data;
        sc.part = (float *)k->work;
        sc.c = c;
        sc.rows = est_tensor_numel(&k->in[0]) / c;
        chunks = (sc.rows + EST__SUM_ROWS_CHUNK - 1) / EST__SUM_ROWS_CHUNK;
        est__parallel_range(k->pool, chunks, 16, est__sum_rows_task, &sc);
        memset(y, 0, sizeof(float) * (size_t)c);
        for (ch = 0; ch < chunks; ch++) {
            const float *p = sc.part + ch * c;
            for (j = 0; j < c; j++) y[j] += p[j];
        }
        return EST_OK;
    }
    return est__sum_to_like_general(k);
}

EST_PRIVATE est_status est__sum_to_like_general(const est__kctx *k)
{
    const est_shape *from = &k->in[0].shape;
    int64_t st[EST_MAX_RANK], idx[EST_MAX_RANK], n = est_tensor_numel(&k->in[0]), i, dst = 0;
    const float *x = (const float *)k->in[0].data;
    float *y = (float *)k->out->data;
    int r = from->rank;
    est__bcast_strides(&k->out->shape, from, st);
    memset(y, 0, k->out->nbytes);
    memset(idx, 0, sizeof idx);
    for (i = 0; i < n; i++) {
        y[dst] += x[i];
        est__odometer_next(idx, from->dims, st, r, &dst);
    }
    return EST_OK;
}

EST_PRIVATE est_status est__sum_to_like_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[0] = est_broadcast_like(g, dy, n->inputs[0]);
    return EST_OK;
}

EST_API est_node *est_sum_to_like(est_graph *g, est_node *x, est_node *like)
{
    est_node *in[2];
    in[0] = x;
    in[1] = like;
    if (x && !est__is_float(x))
        return est__fail(g, EST_ERR_DTYPE, "SumToLike: x '%s' is %s, expected float32", x->name,
                         est_dtype_name(x->dtype));
    /* Already the right static shape with no unknowns: nothing to sum. */
    if (x && like && est_shape_equal(&x->shape, &like->shape) && est_shape_numel(&x->shape) >= 0) return x;
    return est__node_new(g, EST_OP_SUM_TO_LIKE, EST_DTYPE_F32, in, 2, NULL);
}

EST_PRIVATE est_status est__reshape_like_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int64_t a = est_shape_numel(&in[0]), b = est_shape_numel(&in[1]);
    if (a >= 0 && b >= 0 && a != b)
        return est__infer_error(n, EST_ERR_SHAPE, "cannot reshape %s (%lld elements) like %s (%lld elements)",
                                est__sstr(&in[0]), (long long)a, est__sstr(&in[1]), (long long)b);
    *out = in[1];
    return EST_OK;
}

EST_PRIVATE est_status est__reshape_like_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    dx[0] = est_reshape_like(g, dy, n->inputs[0]);
    return EST_OK;
}

EST_API est_node *est_reshape_like(est_graph *g, est_node *x, est_node *like)
{
    est_node *in[2];
    in[0] = x;
    in[1] = like;
    return est__node_new(g, EST_OP_RESHAPE_LIKE, x ? x->dtype : EST_DTYPE_F32, in, 2, NULL);
}

/* ---- assignments ---- */

EST_PRIVATE est_status est__assign_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int i;
    if (in[0].rank != in[1].rank)
        return est__infer_error(n, EST_ERR_SHAPE, "value shape %s does not match variable shape %s",
                                est__sstr(&in[1]), est__sstr(&in[0]));
    for (i = 0; i < in[0].rank; i++)
        if (in[1].dims[i] >= 0 && in[1].dims[i] != in[0].dims[i])
            return est__infer_error(n, EST_ERR_SHAPE, "value shape %s does not match variable shape %s",
                                    est__sstr(&in[1]), est__sstr(&in[0]));
    *out = in[0];
    return EST_OK;
}

EST_PRIVATE est_status est__assign_forward(const est__kctx *k)
{
    memcpy(k->out->data, k->in[1].data, k->out->nbytes);
    return EST_OK;
}

EST_PRIVATE est_status est__assign_arith(const est__kctx *k, float sign)
{
    int64_t i, n = est_tensor_numel(k->out);
    if (k->out->dtype == EST_DTYPE_F32) {
        float *y = (float *)k->out->data;
        const float *v = (const float *)k->in[1].data;
        for (i = 0; i < n; i++) y[i] += sign * v[i];
    } else if (k->out->dtype == EST_DTYPE_I64) {
        int64_t *y = (int64_t *)k->out->data;
        const int64_t *v = (const int64_t *)k->in[1].data;
        for (i = 0; i < n; i++) y[i] += sign > 0 ? v[i] : -v[i];
    } else if (k->out->dtype == EST_DTYPE_I32) {
        int32_t *y = (int32_t *)k->out->data;
        const int32_t *v = (const int32_t *)k->in[1].data;
        for (i = 0; i < n; i++) y[i] += sign > 0 ? v[i] : -v[i];
    } else {
        return est__infer_error(k->node, EST_ERR_DTYPE, "unsupported dtype %s", est_dtype_name(k->out->dtype));
    }
    return EST_OK;
}
EST_PRIVATE est_status est__assign_add_forward(const est__kctx *k) { return est__assign_arith(k, 1.0f); }
EST_PRIVATE est_status est__assign_sub_forward(const est__kctx *k) { return est__assign_arith(k, -1.0f); }

EST_PRIVATE est_node *est__assign_op(est_graph *g, est_op op, est_node *var, est_node *value)
{
    est_node *in[2];
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!var || !value) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: NULL variable or value", est_op_name(op));
    if (var->op != EST_OP_VARIABLE)
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: '%s' is a %s, not a variable", est_op_name(op),
                         var->name, est_op_name(var->op));
    if (var->dtype != value->dtype)
        return est__fail(g, EST_ERR_DTYPE, "%s: variable '%s' is %s but the value '%s' is %s", est_op_name(op),
                         var->name, est_dtype_name(var->dtype), value->name, est_dtype_name(value->dtype));
    in[0] = var;
    in[1] = value;
    return est__node_new(g, op, var->dtype, in, 2, NULL);
}
EST_API est_node *est_assign(est_graph *g, est_node *var, est_node *value)
{
    return est__assign_op(g, EST_OP_ASSIGN, var, value);
}
EST_API est_node *est_assign_add(est_graph *g, est_node *var, est_node *value)
{
    return est__assign_op(g, EST_OP_ASSIGN_ADD, var, value);
}
EST_API est_node *est_assign_sub(est_graph *g, est_node *var, est_node *value)
{
    return est__assign_op(g, EST_OP_ASSIGN_SUB, var, value);
}

/* ---- MatMul (attrs: i[0] transpose_a, i[1] transpose_b) ---- */

EST_PRIVATE est_status est__matmul_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    const est_shape *a = &in[0], *b = &in[1];
    int ta = (int)n->attr.i[0], tb = (int)n->attr.i[1];
    int64_t m, ka, kb, nn;
    est_shape ba, bb, bo;
    est_status s;
    if (a->rank < 2 || b->rank < 2)
        return est__infer_error(n, EST_ERR_SHAPE, "inputs must have rank >= 2, got %s and %s", est__sstr(a),
                                est__sstr(b));
    m = ta ? a->dims[a->rank - 1] : a->dims[a->rank - 2];
    ka = ta ? a->dims[a->rank - 2] : a->dims[a->rank - 1];
    kb = tb ? b->dims[b->rank - 1] : b->dims[b->rank - 2];
    nn = tb ? b->dims[b->rank - 2] : b->dims[b->rank - 1];
    if (ka >= 0 && kb >= 0 && ka != kb)
        return est__infer_error(n, EST_ERR_SHAPE,
                                "inner dimensions differ: %s x %s (transpose_a=%d, transpose_b=%d)",
                                est__sstr(a), est__sstr(b), ta, tb);
    ba = *a;
    ba.rank -= 2;
    bb = *b;
    bb.rank -= 2;
    if ((s = est__broadcast_shapes(n, &ba, &bb, &bo)) != EST_OK) return s;
    *out = bo;
    out->dims[out->rank++] = m;
    out->dims[out->rank++] = nn;
    return EST_OK;
}

EST_PRIVATE size_t est__matmul_workspace(const est_node *n, const est_shape *in, const est_shape *out,
                                         int nthreads)
{
    const est_shape *a = &in[0];
    int64_t k = n->attr.i[0] ? a->dims[a->rank - 2] : a->dims[a->rank - 1];
    return est__sgemm_workspace(out->dims[out->rank - 2], out->dims[out->rank - 1], k, nthreads);
}

EST_PRIVATE est_status est__matmul_forward(const est__kctx *k)
{
    const est_shape *a = &k->in[0].shape, *b = &k->in[1].shape, *o = &k->out->shape;
    int ta = (int)k->node->attr.i[0], tb = (int)k->node->attr.i[1];
    est_sgemm_args g;
    int64_t batch = 1, bi, sa[EST_MAX_RANK], sb[EST_MAX_RANK], idx[EST_MAX_RANK];
    est_shape ba = *a, bb = *b, bo = *o;
    int r = o->rank - 2, d;
    memset(&g, 0, sizeof g);
    g.trans_a = ta;
    g.trans_b = tb;
    g.m = o->dims[o->rank - 2];
    g.n = o->dims[o->rank - 1];
    g.k = ta ? a->dims[a->rank - 2] : a->dims[a->rank - 1];
    g.alpha = 1.0f;
    g.beta = 0.0f;
    g.lda = a->dims[a->rank - 1];
    g.ldb = b->dims[b->rank - 1];
    g.ldc = g.n;
    ba.rank -= 2;
    bb.rank -= 2;
    bo.rank -= 2;
    est__bcast_strides(&ba, &bo, sa);
    est__bcast_strides(&bb, &bo, sb);
    for (d = 0; d < r; d++) batch *= bo.dims[d];
    memset(idx, 0, sizeof idx);
    {
        int64_t ma = a->dims[a->rank - 1] * a->dims[a->rank - 2], mb = b->dims[b->rank - 1] * b->dims[b->rank - 2];
        int64_t oa = 0, ob = 0;
        for (bi = 0; bi < batch; bi++) {
            g.a = (const float *)k->in[0].data + oa * ma;
            g.b = (const float *)k->in[1].data + ob * mb;
            g.c = (float *)k->out->data + bi * g.m * g.n;
            est__gemm(k, &g, k->work);
            for (d = r - 1; d >= 0; d--) {
                if (++idx[d] < bo.dims[d]) {
                    oa += sa[d];
                    ob += sb[d];
                    break;
                }
                oa -= sa[d] * (bo.dims[d] - 1);
                ob -= sb[d] * (bo.dims[d] - 1);
                idx[d] = 0;
            }
        }
    }
    est__apply_epilogue(k, (float *)k->out->data, batch * g.m, g.n);
    return EST_OK;
}

EST_PRIVATE est_node *est__mm(est_graph *g, est_node *a, est_node *b, int ta, int tb)
{
    est_matmul_args m;
    m.transpose_a = ta;
    m.transpose_b = tb;
    return est_matmul(g, a, b, &m);
}

EST_PRIVATE est_status est__matmul_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *a = n->inputs[0], *b = n->inputs[1], *da, *db;
    int ta = (int)n->attr.i[0], tb = (int)n->attr.i[1];
    if (!ta && !tb) {
        da = est__mm(g, dy, b, 0, 1);
        db = est__mm(g, a, dy, 1, 0);
    } else if (!ta && tb) {
        da = est__mm(g, dy, b, 0, 0);
        db = est__mm(g, dy, a, 1, 0);
    } else if (ta && !tb) {
        da = est__mm(g, b, dy, 0, 1);
        db = est__mm(g, a, dy, 0, 0);
    } else {
        da = est__mm(g, b, dy, 1, 1);
        db = est__mm(g, dy, a, 1, 1);
    }
    /* Broadcast batch dimensions: sum the gradient back to each input's shape. */
    dx[0] = (a->shape.rank == n->shape.rank && a->shape.rank == 2) ? da : est_sum_to_like(g, da, a);
    dx[1] = (b->shape.rank == n->shape.rank && b->shape.rank == 2) ? db : est_sum_to_like(g, db, b);
    return EST_OK;
}

EST_API est_node *est_matmul(est_graph *g, est_node *a, est_node *b, const est_matmul_args *args)
{
    est__attrs at;
    est_node *in[2];
    if (!g) return NULL;
    if (g->status != EST_OK) return NULL;
    if (!a || !b) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "MatMul: NULL input");
    if (!est__is_float(a) || !est__is_float(b))
        return est__fail(g, EST_ERR_DTYPE, "MatMul: inputs '%s' (%s) and '%s' (%s) must be float32", a->name,
                         est_dtype_name(a->dtype), b->name, est_dtype_name(b->dtype));
    memset(&at, 0, sizeof at);
    if (args) {
        at.i[0] = args->transpose_a != 0;
        at.i[1] = args->transpose_b != 0;
    }
    in[0] = a;
    in[1] = b;
    return est__node_new(g, EST_OP_MATMUL, EST_DTYPE_F32, in, 2, &at);
}

/* ---- definitions ---- */

static const est__op_def est__def_placeholder = {"Placeholder", NULL, NULL, NULL, NULL, EST__OP_SOURCE};
static const est__op_def est__def_const = {"Const", NULL, NULL, NULL, NULL, EST__OP_SOURCE};
static const est__op_def est__def_variable = {"VariableV2", NULL, NULL, NULL, NULL, EST__OP_SOURCE};
static const est__op_def est__def_identity = {"Identity", est__infer_same, NULL, est__identity_backward, NULL,
                                              EST__OP_ALIAS};
static const est__op_def est__def_stop_gradient = {"StopGradient", est__infer_same, NULL, est__no_grad, NULL,
                                                   EST__OP_ALIAS};
static const est__op_def est__def_no_op = {"NoOp", NULL, NULL, NULL, NULL, 0};
static const est__op_def est__def_add_n = {"AddN", est__add_n_infer, est__add_n_forward, est__add_n_backward,
                                           NULL, 0};
static const est__op_def est__def_zeros_like = {"ZerosLike", est__infer_same, est__zeros_like_forward,
                                                est__no_grad, NULL, 0};
static const est__op_def est__def_ones_like = {"OnesLike", est__infer_same, est__ones_like_forward,
                                               est__no_grad, NULL, 0};
static const est__op_def est__def_broadcast_like = {"BroadcastLike", est__broadcast_like_infer,
                                                    est__broadcast_like_forward,
                                                    est__broadcast_like_backward, NULL, 0};
static const est__op_def est__def_sum_to_like = {"SumToLike", est__sum_to_like_infer, est__sum_to_like_forward,
                                                 est__sum_to_like_backward, est__sum_to_like_workspace, 0};
static const est__op_def est__def_reshape_like = {"ReshapeLike", est__reshape_like_infer, NULL,
                                                  est__reshape_like_backward, NULL, EST__OP_ALIAS};
static const est__op_def est__def_assign = {"Assign", est__assign_infer, est__assign_forward, NULL, NULL,
                                            EST__OP_ALIAS | EST__OP_WRITES_VAR};
static const est__op_def est__def_assign_add = {"AssignAdd", est__assign_infer, est__assign_add_forward, NULL,
                                                NULL, EST__OP_ALIAS | EST__OP_WRITES_VAR};
static const est__op_def est__def_assign_sub = {"AssignSub", est__assign_infer, est__assign_sub_forward, NULL,
                                                NULL, EST__OP_ALIAS | EST__OP_WRITES_VAR};
static const est__op_def est__def_matmul = {"MatMul", est__matmul_infer, est__matmul_forward,
                                            est__matmul_backward, est__matmul_workspace, 0};
