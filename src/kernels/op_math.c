/* >>kernels/op_math: elementwise arithmetic with NumPy broadcasting, unary math, where, cast,
 * comparisons, logical ops and activations. Gradients are symbolic (built with the public
 * builders, as TF's gradient registry does); activations use fused *Grad ops. */

/* GCC 12+ at -O2 vectorises only with its "very-cheap" cost model, which refuses loops that need a
 * runtime alias check or a scalar tail -- every loop here. Ask for the usual cost model in this
 * file only (elementwise results are the same bits either way). Clang vectorises these at -O2. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("tree-loop-vectorize", "vect-cost-model=dynamic")
#endif

/* ---- the broadcasting engine --------------------------------------------------------------
 * Up to three operands broadcast against the (contiguous) output. Output dims of size 1 are
 * dropped and neighbouring dims merged wherever every operand's strides allow it, so same-shape
 * operands become one flat run and [N,C] + [C] becomes N runs of C. The innermost run then has
 * stride 0 or 1 for every operand; the inner kernels handle those cases as separate plain loops,
 * which the compiler vectorises. */

#define EST__EW_GRAIN ((int64_t)1 << 14)

typedef struct est__ew est__ew;
/* Compute n outputs at y from operand pointers `in` with inner strides `ist` (0 or 1). */
typedef void (*est__ew_fn)(const est__ew *w, const char *const *in, const int64_t *ist, char *y, int64_t n);
struct est__ew {
    est_op op;
    est_dtype dtype; /* of operand 1 (operand 0 for two-operand ops): selects the typed loop */
    int nin, rank;   /* rank after collapsing, >= 1 */
    int64_t dims[EST_MAX_RANK];
    int64_t st[3][EST_MAX_RANK]; /* element strides of each operand per collapsed dim */
    const char *in[3];
    size_t isz[3];
    char *out;
    size_t osz;
    est__ew_fn fn;
};

EST_PRIVATE void est__ew_setup(est__ew *w, const est__kctx *k, est__ew_fn fn)
{
    const est_shape *o = &k->out->shape;
    int64_t st[3][EST_MAX_RANK], t;
    int i, j, r = 0;
    memset(w, 0, sizeof *w);
    w->op = k->node->op;
    w->nin = k->n_inputs;
    w->fn = fn;
    for (j = 0; j < w->nin; j++) {
        est__bcast_strides(&k->in[j].shape, o, st[j]);
        w->in[j] = (const char *)k->in[j].data;
        w->isz[j] = est_dtype_size(k->in[j].dtype);
    }
    w->dtype = k->in[w->nin > 2 ? 1 : 0].dtype;
    w->out = (char *)k->out->data;
    w->osz = est_dtype_size(k->out->dtype);
    /* Innermost first: extend the current run when the next-outer dim continues it. */
    for (i = o->rank - 1; i >= 0; i--) {
        int64_t d = o->dims[i];
        int merge = r > 0;
        if (d == 1) continue;
        for (j = 0; j < w->nin && merge; j++)
            if (st[j][i] != w->st[j][r - 1] * w->dims[r - 1]) merge = 0;
        if (merge) {
            w->dims[r - 1] *= d;
            continue;
        }
        w->dims[r] = d;
        for (j = 0; j < w->nin; j++) w->st[j][r] = st[j][i];
        r++;
    }
    if (r == 0) { /* every dim is 1 (or a scalar): one element */
        w->dims[0] = 1;
        r = 1;
    }
    for (i = 0; i < r / 2; i++) { /* back to outermost-first order */
        t = w->dims[i];
        w->dims[i] = w->dims[r - 1 - i];
        w->dims[r - 1 - i] = t;
        for (j = 0; j < w->nin; j++) {
            t = w->st[j][i];
            w->st[j][i] = w->st[j][r - 1 - i];
            w->st[j][r - 1 - i] = t;
        }
    }
    w->rank = r;
}

/* Output elements [b, e): any chunk, so the same code serves every thread split. */
EST_PRIVATE void est__ew_range(void *c, int64_t b, int64_t e)
{
    const est__ew *w = (const est__ew *)c;
    int r = w->rank, d, j;
    int64_t idx[EST_MAX_RANK], off[3], ist[3], rem = b, inner = w->dims[r - 1];
    const char *p[3];
    for (j = 0; j < 3; j++) {
        off[j] = 0;
        ist[j] = j < w->nin ? w->st[j][r - 1] : 0;
        p[j] = NULL;
    }
    for (d = r - 1; d >= 0; d--) {
        idx[d] = rem % w->dims[d];
        rem /= w->dims[d];
        for (j = 0; j < w->nin; j++) off[j] += idx[d] * w->st[j][d];
    }
    while (b < e) {
        int64_t cnt = EST__MIN(inner - idx[r - 1], e - b);
        for (j = 0; j < w->nin; j++) p[j] = w->in[j] + (size_t)off[j] * w->isz[j];
        w->fn(w, p, ist, w->out + (size_t)b * w->osz, cnt);
        b += cnt;
        idx[r - 1] += cnt;
        for (j = 0; j < w->nin; j++) off[j] += cnt * ist[j];
        for (d = r - 1; d > 0 && idx[d] >= w->dims[d]; d--) { /* carry */
            idx[d] = 0;
            idx[d - 1]++;
            for (j = 0; j < w->nin; j++) off[j] += w->st[j][d - 1] - w->dims[d] * w->st[j][d];
        }
    }
}

EST_PRIVATE est_status est__ew_run(const est__kctx *k, est__ew_fn fn)
{
    est__ew w;
    est__ew_setup(&w, k, fn);
    est__parallel_range(k->pool, est_tensor_numel(k->out), EST__EW_GRAIN, est__ew_range, &w);
    return EST_OK;
}

/* Two-operand loop: a and b name the elements inside EXPR. Each stride case is its own loop. */
#define EST__BIN_LOOP(TA, TY, EXPR)                                                                \
    do {                                                                                           \
        const TA *a_ = (const TA *)in[0], *b_ = (const TA *)in[1];                                 \
        TY *y_ = (TY *)y;                                                                          \
        int64_t i_;                                                                                \
        if (ist[0] && ist[1]) {                                                                    \
            for (i_ = 0; i_ < n; i_++) {                                                           \
                const TA a = a_[i_], b = b_[i_];                                                   \
                y_[i_] = (TY)(EXPR);                                                               \
            }                                                                                      \
        } else if (ist[0]) {                                                                       \
            const TA b = b_[0];                                                                    \
            for (i_ = 0; i_ < n; i_++) {                                                           \
                const TA a = a_[i_];                                                               \
                y_[i_] = (TY)(EXPR);                                                               \
            }                                                                                      \
        } else if (ist[1]) {                                                                       \
            const TA a = a_[0];                                                                    \
            for (i_ = 0; i_ < n; i_++) {                                                           \
                const TA b = b_[i_];                                                               \
                y_[i_] = (TY)(EXPR);                                                               \
            }                                                                                      \
        } else {                                                                                   \
            const TA a = a_[0], b = b_[0];                                                         \
            const TY v_ = (TY)(EXPR);                                                              \
            for (i_ = 0; i_ < n; i_++) y_[i_] = v_;                                                \
        }                                                                                          \
    } while (0)

/* Maximum and minimum propagate NaN (as TF 2's kernels); ties pick a. */
EST_PRIVATE void est__bin_f32(const est__ew *w, const char *const *in, const int64_t *ist, char *y, int64_t n)
{
    switch (w->op) {
    case EST_OP_ADD: EST__BIN_LOOP(float, float, a + b); break;
    case EST_OP_SUB: EST__BIN_LOOP(float, float, a - b); break;
    case EST_OP_MUL: EST__BIN_LOOP(float, float, a * b); break;
    case EST_OP_DIV: EST__BIN_LOOP(float, float, a / b); break;
    case EST_OP_POW: EST__BIN_LOOP(float, float, powf(a, b)); break;
    case EST_OP_MAXIMUM: EST__BIN_LOOP(float, float, (a >= b || a != a) ? a : b); break;
    case EST_OP_MINIMUM: EST__BIN_LOOP(float, float, (a <= b || a != a) ? a : b); break;
    default: break;
    }
}

/* Integer arithmetic wraps on overflow, as TF's does (through the unsigned type: no UB). */
#define EST__BIN_INT_FN(NAME, T, U)                                                                \
    static void NAME(const est__ew *w, const char *const *in, const int64_t *ist, char *y, int64_t n) \
    {                                                                                              \
        switch (w->op) {                                                                           \
        case EST_OP_ADD: EST__BIN_LOOP(T, T, (U)a + (U)b); break;                                  \
        case EST_OP_SUB: EST__BIN_LOOP(T, T, (U)a - (U)b); break;                                  \
        case EST_OP_MUL: EST__BIN_LOOP(T, T, (U)a * (U)b); break;                                  \
        case EST_OP_MAXIMUM: EST__BIN_LOOP(T, T, a >= b ? a : b); break;                           \
        case EST_OP_MINIMUM: EST__BIN_LOOP(T, T, a <= b ? a : b); break;                           \
        default: break;                                                                            \
        }                                                                                          \
    }
EST__BIN_INT_FN(est__bin_i32, int32_t, uint32_t)
EST__BIN_INT_FN(est__bin_i64, int64_t, uint64_t)

/* Comparisons write bool (one byte, 0/1). */
#define EST__CMP_CASES(T)                                                                          \
    switch (w->op) {                                                                               \
    case EST_OP_EQUAL: EST__BIN_LOOP(T, unsigned char, a == b); break;                             \
    case EST_OP_NOT_EQUAL: EST__BIN_LOOP(T, unsigned char, a != b); break;                         \
    case EST_OP_LESS: EST__BIN_LOOP(T, unsigned char, a < b); break;                               \
    case EST_OP_LESS_EQUAL: EST__BIN_LOOP(T, unsigned char, a <= b); break;                        \
    case EST_OP_GREATER: EST__BIN_LOOP(T, unsigned char, a > b); break;                            \
    case EST_OP_GREATER_EQUAL: EST__BIN_LOOP(T, unsigned char, a >= b); break;                     \
    default: break;                                                                                \
    }

EST_PRIVATE void est__cmp_fn(const est__ew *w, const char *const *in, const int64_t *ist, char *y, int64_t n)
{
    switch (w->dtype) {
    case EST_DTYPE_F32: EST__CMP_CASES(float) break;
    case EST_DTYPE_F64: EST__CMP_CASES(double) break;
    case EST_DTYPE_I32: EST__CMP_CASES(int32_t) break;
    case EST_DTYPE_I64: EST__CMP_CASES(int64_t) break;
    default: EST__CMP_CASES(unsigned char) break; /* uint8, bool */
    }
}

EST_PRIVATE void est__logical_fn(const est__ew *w, const char *const *in, const int64_t *ist, char *y, int64_t n)
{
    if (w->op == EST_OP_LOGICAL_AND)
        EST__BIN_LOOP(unsigned char, unsigned char, (a != 0) & (b != 0));
    else
        EST__BIN_LOOP(unsigned char, unsigned char, (a != 0) | (b != 0));
}

#define EST__WHERE_LOOP(T)                                                                         \
    do {                                                                                           \
        const unsigned char *c_ = (const unsigned char *)in[0];                                    \
        const T *x_ = (const T *)in[1], *z_ = (const T *)in[2];                                    \
        T *y_ = (T *)y;                                                                            \
        int64_t i_;                                                                                \
        if (ist[0] && ist[1] && ist[2])                                                            \
            for (i_ = 0; i_ < n; i_++) y_[i_] = c_[i_] ? x_[i_] : z_[i_];                          \
        else                                                                                       \
            for (i_ = 0; i_ < n; i_++) y_[i_] = c_[i_ * ist[0]] ? x_[i_ * ist[1]] : z_[i_ * ist[2]]; \
    } while (0)

EST_PRIVATE void est__where_fn(const est__ew *w, const char *const *in, const int64_t *ist, char *y, int64_t n)
{
    switch (w->dtype) {
    case EST_DTYPE_F32: EST__WHERE_LOOP(float); break;
    case EST_DTYPE_F64: EST__WHERE_LOOP(double); break;
    case EST_DTYPE_I32: EST__WHERE_LOOP(int32_t); break;
    case EST_DTYPE_I64: EST__WHERE_LOOP(int64_t); break;
    default: EST__WHERE_LOOP(unsigned char); break;
    }
}

/* ---- shared infer / builder helpers -------------------------------------------------------- */

EST_PRIVATE est_status est__bin_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    return est__broadcast_shapes(n, &in[0], &in[1], out);
}

/* dtype sets accepted by builders */
#define EST__DT_F32 1u
#define EST__DT_INT 2u   /* int32, int64 */
#define EST__DT_OTHER 4u /* float64, uint8, bool */
#define EST__DT_NUM (EST__DT_F32 | EST__DT_INT | EST__DT_OTHER)

EST_PRIVATE unsigned est__dt_class(est_dtype dt)
{
    switch (dt) {
    case EST_DTYPE_F32: return EST__DT_F32;
    case EST_DTYPE_I32:
    case EST_DTYPE_I64: return EST__DT_INT;
    case EST_DTYPE_F64:
    case EST_DTYPE_U8:
    case EST_DTYPE_BOOL: return EST__DT_OTHER;
    default: return 0;
    }
}

EST_PRIVATE const char *est__dt_expect(unsigned allowed)
{
    if (allowed == EST__DT_F32) return "float32";
    if (allowed == (EST__DT_F32 | EST__DT_INT)) return "float32, int32 or int64";
    return "a numeric or bool dtype";
}

/* Two inputs of one dtype from `allowed`; output dtype out_dt (0: the inputs'). */
EST_PRIVATE est_node *est__binary(est_graph *g, est_op op, est_node *a, est_node *b, unsigned allowed,
                                  est_dtype out_dt)
{
    est_node *in[2];
    const char *name = est_op_name(op);
    if (!g || g->status != EST_OK) return NULL;
    if (!a || !b)
        return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: input %s is NULL", name, a ? "b (1)" : "a (0)");
    if (a->dtype != b->dtype)
        return est__fail(g, EST_ERR_DTYPE,
                         "%s: inputs '%s' (%s) and '%s' (%s) must have the same dtype (cast one explicitly)",
                         name, a->name, est_dtype_name(a->dtype), b->name, est_dtype_name(b->dtype));
    if (!(est__dt_class(a->dtype) & allowed))
        return est__fail(g, EST_ERR_DTYPE, "%s: inputs '%s' and '%s' are %s, expected %s", name, a->name,
                         b->name, est_dtype_name(a->dtype), est__dt_expect(allowed));
    in[0] = a;
    in[1] = b;
    return est__node_new(g, op, out_dt ? out_dt : a->dtype, in, 2, NULL);
}

EST_PRIVATE est_node *est__unary(est_graph *g, est_op op, est_node *x, unsigned allowed, const est__attrs *at)
{
    if (!g || g->status != EST_OK) return NULL;
    if (!x) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: input is NULL", est_op_name(op));
    if (!(est__dt_class(x->dtype) & allowed))
        return est__fail(g, EST_ERR_DTYPE, "%s: input '%s' is %s, expected %s", est_op_name(op), x->name,
                         est_dtype_name(x->dtype), est__dt_expect(allowed));
    return est__node_new(g, op, x->dtype, &x, 1, at);
}

/* ---- binary arithmetic ------------------------------------------------------------------------ */

EST_PRIVATE est_status est__arith_forward(const est__kctx *k)
{
    switch (k->out->dtype) {
    case EST_DTYPE_F32: return est__ew_run(k, est__bin_f32);
    case EST_DTYPE_I32: return est__ew_run(k, est__bin_i32);
    case EST_DTYPE_I64: return est__ew_run(k, est__bin_i64);
    default:
        return est__infer_error(k->node, EST_ERR_DTYPE, "unsupported dtype %s", est_dtype_name(k->out->dtype));
    }
}

EST_PRIVATE est_status est__add_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    if (n->dtype != EST_DTYPE_F32) return EST_OK;
    dx[0] = est_sum_to_like(g, dy, n->inputs[0]);
    dx[1] = est_sum_to_like(g, dy, n->inputs[1]);
    return EST_OK;
}

EST_PRIVATE est_status est__sub_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    if (n->dtype != EST_DTYPE_F32) return EST_OK;
    dx[0] = est_sum_to_like(g, dy, n->inputs[0]);
    dx[1] = est_sum_to_like(g, est_neg(g, dy), n->inputs[1]);
    return EST_OK;
}

EST_PRIVATE est_status est__mul_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *a = n->inputs[0], *b = n->inputs[1];
    if (n->dtype != EST_DTYPE_F32) return EST_OK;
    dx[0] = est_sum_to_like(g, est_mul(g, dy, b), a);
    dx[1] = est_sum_to_like(g, est_mul(g, a, dy), b);
    return EST_OK;
}

/* d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 (TF's RealDiv gradient). */
EST_PRIVATE est_status est__div_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *a = n->inputs[0], *b = n->inputs[1];
    dx[0] = est_sum_to_like(g, est_div(g, dy, b), a);
    dx[1] = est_sum_to_like(g, est_mul(g, dy, est_div(g, est_div(g, est_neg(g, a), b), b)), b);
    return EST_OK;
}

/* d(a^b)/da = b * a^(b-1); d(a^b)/db = a^b * log(a) where a > 0, else 0 (TF's Pow gradient; the
 * log is taken of a "safe" a so no NaN reaches even the masked-out lanes). */
EST_PRIVATE est_status est__pow_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *a = n->inputs[0], *b = n->inputs[1], *pos, *safe, *loga, *zeros;
    dx[0] = est_sum_to_like(g, est_mul(g, dy, est_mul(g, b, est_pow(g, a, est_sub(g, b, est_scalar(g, 1.0f))))),
                            a);
    zeros = est_zeros_like(g, a);
    pos = est_greater(g, a, zeros);
    safe = est_where(g, pos, a, est_ones_like(g, a));
    loga = est_where(g, pos, est_log(g, safe), zeros);
    dx[1] = est_sum_to_like(g, est_mul(g, dy, est_mul(g, n, loga)), b);
    return EST_OK;
}

/* The gradient goes to the selected input: a where a >= b (maximum) or a <= b (minimum), so ties
 * go to a, as TF's. */
EST_PRIVATE est_status est__minmax_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *a = n->inputs[0], *b = n->inputs[1], *mask, *zeros;
    if (n->dtype != EST_DTYPE_F32) return EST_OK;
    mask = n->op == EST_OP_MAXIMUM ? est_greater_equal(g, a, b) : est_less_equal(g, a, b);
    zeros = est_zeros_like(g, dy);
    dx[0] = est_sum_to_like(g, est_where(g, mask, dy, zeros), a);
    dx[1] = est_sum_to_like(g, est_where(g, mask, zeros, dy), b);
    return EST_OK;
}

#define EST__ARITH_ALL (EST__DT_F32 | EST__DT_INT)
EST_API est_node *est_add(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_ADD, a, b, EST__ARITH_ALL, EST_DTYPE_DEFAULT);
}
EST_API est_node *est_sub(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_SUB, a, b, EST__ARITH_ALL, EST_DTYPE_DEFAULT);
}
EST_API est_node *est_mul(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_MUL, a, b, EST__ARITH_ALL, EST_DTYPE_DEFAULT);
}
EST_API est_node *est_div(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_DIV, a, b, EST__DT_F32, EST_DTYPE_DEFAULT);
}
EST_API est_node *est_pow(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_POW, a, b, EST__DT_F32, EST_DTYPE_DEFAULT);
}
EST_API est_node *est_maximum(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_MAXIMUM, a, b, EST__ARITH_ALL, EST_DTYPE_DEFAULT);
}
EST_API est_node *est_minimum(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_MINIMUM, a, b, EST__ARITH_ALL, EST_DTYPE_DEFAULT);
}

/* ---- comparisons and logical ops ---------------------------------------------------------------- */

EST_PRIVATE est_status est__cmp_forward(const est__kctx *k) { return est__ew_run(k, est__cmp_fn); }
EST_PRIVATE est_status est__logical_forward(const est__kctx *k) { return est__ew_run(k, est__logical_fn); }

EST_API est_node *est_equal(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_EQUAL, a, b, EST__DT_NUM, EST_DTYPE_BOOL);
}
EST_API est_node *est_not_equal(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_NOT_EQUAL, a, b, EST__DT_NUM, EST_DTYPE_BOOL);
}
EST_API est_node *est_less(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_LESS, a, b, EST__DT_NUM, EST_DTYPE_BOOL);
}
EST_API est_node *est_less_equal(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_LESS_EQUAL, a, b, EST__DT_NUM, EST_DTYPE_BOOL);
}
EST_API est_node *est_greater(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_GREATER, a, b, EST__DT_NUM, EST_DTYPE_BOOL);
}
EST_API est_node *est_greater_equal(est_graph *g, est_node *a, est_node *b)
{
    return est__binary(g, EST_OP_GREATER_EQUAL, a, b, EST__DT_NUM, EST_DTYPE_BOOL);
}

EST_PRIVATE est_node *est__logical(est_graph *g, est_op op, est_node *a, est_node *b)
{
    if (!g || g->status != EST_OK) return NULL;
    if (!a || !b) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "%s: NULL input", est_op_name(op));
    if (a->dtype != EST_DTYPE_BOOL || b->dtype != EST_DTYPE_BOOL)
        return est__fail(g, EST_ERR_DTYPE, "%s: inputs '%s' (%s) and '%s' (%s) must be bool", est_op_name(op),
                         a->name, est_dtype_name(a->dtype), b->name, est_dtype_name(b->dtype));
    return est__binary(g, op, a, b, EST__DT_OTHER, EST_DTYPE_BOOL);
}
EST_API est_node *est_logical_and(est_graph *g, est_node *a, est_node *b)
{
    return est__logical(g, EST_OP_LOGICAL_AND, a, b);
}
EST_API est_node *est_logical_or(est_graph *g, est_node *a, est_node *b)
{
    return est__logical(g, EST_OP_LOGICAL_OR, a, b);
}

EST_PRIVATE est_status est__logical_not_forward(const est__kctx *k)
{
    const unsigned char *x = (const unsigned char *)k->in[0].data;
    unsigned char *y = (unsigned char *)k->out->data;
    int64_t i, n = est_tensor_numel(k->out);
    for (i = 0; i < n; i++) y[i] = (unsigned char)(x[i] == 0);
    return EST_OK;
}

EST_API est_node *est_logical_not(est_graph *g, est_node *x)
{
    if (!g || g->status != EST_OK) return NULL;
    if (x && x->dtype != EST_DTYPE_BOOL)
        return est__fail(g, EST_ERR_DTYPE, "LogicalNot: input '%s' is %s, expected bool", x->name,
                         est_dtype_name(x->dtype));
    return est__unary(g, EST_OP_LOGICAL_NOT, x, EST__DT_OTHER, NULL);
}

/* ---- where ------------------------------------------------------------------------------------ */

EST_PRIVATE est_status est__where_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    est_shape xy;
    est_status s = est__broadcast_shapes(n, &in[1], &in[2], &xy);
    if (s != EST_OK) return s;
    return est__broadcast_shapes(n, &in[0], &xy, out);
}

EST_PRIVATE est_status est__where_forward(const est__kctx *k) { return est__ew_run(k, est__where_fn); }

/* dy flows to x where cond holds and to y elsewhere, then is summed to each input's shape. */
EST_PRIVATE est_status est__where_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *c = n->inputs[0], *zeros;
    if (n->dtype != EST_DTYPE_F32) return EST_OK;
    zeros = est_zeros_like(g, dy);
    dx[1] = est_sum_to_like(g, est_where(g, c, dy, zeros), n->inputs[1]);
    dx[2] = est_sum_to_like(g, est_where(g, c, zeros, dy), n->inputs[2]);
    return EST_OK;
}

EST_API est_node *est_where(est_graph *g, est_node *cond, est_node *x, est_node *y)
{
    est_node *in[3];
    if (!g || g->status != EST_OK) return NULL;
    if (!cond || !x || !y) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "SelectV2: NULL input");
    if (cond->dtype != EST_DTYPE_BOOL)
        return est__fail(g, EST_ERR_DTYPE, "SelectV2: condition '%s' is %s, expected bool", cond->name,
                         est_dtype_name(cond->dtype));
    if (x->dtype != y->dtype)
        return est__fail(g, EST_ERR_DTYPE, "SelectV2: x '%s' (%s) and y '%s' (%s) must have the same dtype",
                         x->name, est_dtype_name(x->dtype), y->name, est_dtype_name(y->dtype));
    if (!est__dt_class(x->dtype))
        return est__fail(g, EST_ERR_DTYPE, "SelectV2: x '%s' is %s, which is not supported", x->name,
                         est_dtype_name(x->dtype));
    in[0] = cond;
    in[1] = x;
    in[2] = y;
    return est__node_new(g, EST_OP_WHERE, x->dtype, in, 3, NULL);
}

/* ---- cast ------------------------------------------------------------------------------------ */

/* Float to integer truncates toward zero as TF does; NaN gives 0 and values out of range saturate
 * (C leaves those undefined; TF's result there is platform-dependent). */
EST_PRIVATE int64_t est__f2i64(double v)
{
    if (v != v) return 0;
    if (v >= 9223372036854775808.0) return (int64_t)0x7FFFFFFFFFFFFFFFll;
    if (v < -9223372036854775808.0) return -(int64_t)0x7FFFFFFFFFFFFFFFll - 1;
    return (int64_t)v;
}
EST_PRIVATE int32_t est__f2i32(double v)
{
    if (v != v) return 0;
    if (v >= 2147483648.0) return (int32_t)0x7FFFFFFF;
    if (v <= -2147483649.0) return -(int32_t)0x7FFFFFFF - 1;
    return (int32_t)v;
}

#define EST__CAST_LOOP(S, D, EXPR)                                                                 \
    do {                                                                                           \
        const S *s_ = (const S *)k->in[0].data;                                                    \
        D *d_ = (D *)k->out->data;                                                                 \
        for (i = b; i < e; i++) {                                                                  \
            const S v = s_[i];                                                                     \
            d_[i] = (D)(EXPR);                                                                     \
        }                                                                                          \
    } while (0)

/* From a float type: integers by truncation (uint8 wraps modulo 256 like TF's int casts). */
#define EST__CAST_FROM_FLOAT(S)                                                                    \
    switch (k->out->dtype) {                                                                       \
    case EST_DTYPE_F32: EST__CAST_LOOP(S, float, v); break;                                        \
    case EST_DTYPE_F64: EST__CAST_LOOP(S, double, v); break;                                       \
    case EST_DTYPE_I32: EST__CAST_LOOP(S, int32_t, est__f2i32((double)v)); break;                  \
    case EST_DTYPE_I64: EST__CAST_LOOP(S, int64_t, est__f2i64((double)v)); break;                  \
    case EST_DTYPE_U8: EST__CAST_LOOP(S, unsigned char, (uint64_t)est__f2i64((double)v) & 0xFFu); break; \
    default: EST__CAST_LOOP(S, unsigned char, v != 0); break;                                      \
    }

/* From an integer type (read through int64): narrowing wraps, as TF's. */
#define EST__CAST_FROM_INT(S)                                                                      \
    switch (k->out->dtype) {                                                                       \
    case EST_DTYPE_F32: EST__CAST_LOOP(S, float, v); break;                                        \
    case EST_DTYPE_F64: EST__CAST_LOOP(S, double, v); break;                                       \
    case EST_DTYPE_I32: EST__CAST_LOOP(S, int32_t, (uint32_t)((uint64_t)(int64_t)v & 0xFFFFFFFFu)); break; \
    case EST_DTYPE_I64: EST__CAST_LOOP(S, int64_t, v); break;                                      \
    case EST_DTYPE_U8: EST__CAST_LOOP(S, unsigned char, (uint64_t)(int64_t)v & 0xFFu); break;      \
    default: EST__CAST_LOOP(S, unsigned char, v != 0); break;                                      \
    }

EST_PRIVATE void est__cast_range(void *c, int64_t b, int64_t e)
{
    const est__kctx *k = (const est__kctx *)c;
    int64_t i;
    switch (k->in[0].dtype) {
    case EST_DTYPE_F32: EST__CAST_FROM_FLOAT(float) break;
    case EST_DTYPE_F64: EST__CAST_FROM_FLOAT(double) break;
    case EST_DTYPE_I32: EST__CAST_FROM_INT(int32_t) break;
    case EST_DTYPE_I64: EST__CAST_FROM_INT(int64_t) break;
    default: EST__CAST_FROM_INT(unsigned char) break; /* uint8, bool (0/1) */
    }
}

EST_PRIVATE est_status est__cast_forward(const est__kctx *k)
{
    est__parallel_range(k->pool, est_tensor_numel(k->out), EST__EW_GRAIN, est__cast_range, (void *)(uintptr_t)k);
    return EST_OK;
}

/* Only float32 carries gradients, and a float32 -> float32 cast is the input itself, so no cast
 * node ever passes a gradient on. */
EST_API est_node *est_cast(est_graph *g, est_node *x, est_dtype dtype)
{
    if (!g || g->status != EST_OK) return NULL;
    if (!x) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "Cast: input is NULL");
    if (dtype == EST_DTYPE_DEFAULT) dtype = EST_DTYPE_F32;
    if (!est__dt_class(x->dtype) || !est__dt_class(dtype))
        return est__fail(g, EST_ERR_DTYPE, "Cast: cannot cast '%s' from %s to %s", x->name,
                         est_dtype_name(x->dtype), est_dtype_name(dtype));
    if (x->dtype == dtype) return x; /* tf.cast returns its input unchanged */
    return est__node_new(g, EST_OP_CAST, dtype, &x, 1, NULL);
}

/* ---- unary math and activations (float32 flat loops) ---------------------------------------- */

#define EST__SELU_SCALE 1.0507009873554804934193349852946f
#define EST__SELU_ALPHA 1.6732632423543772848170429916717f
#define EST__SQRT1_2 0.70710678118654752440f     /* 1/sqrt(2) */
#define EST__INV_SQRT_2PI 0.39894228040143267794f /* 1/sqrt(2 pi) */
#define EST__SQRT_2_PI 0.79788456080286535588f   /* sqrt(2/pi) */
#define EST__GELU_C 0.044715f

/* Never overflows: exp of a non-positive number only. */
EST_PRIVATE float est__sigmoidf(float x)
{
    float e;
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    e = expf(x);
    return e / (1.0f + e);
}

EST_PRIVATE void est__unary_f32_range(void *c, int64_t b, int64_t e)
{
    const est__kctx *k = (const est__kctx *)c;
    const float *x = (const float *)k->in[0].data;
    float *y = (float *)k->out->data;
    float alpha = k->node->attr.f[0];
    int64_t i;
    switch (k->node->op) {
    case EST_OP_NEG: for (i = b; i < e; i++) y[i] = -x[i]; break;
    case EST_OP_ABS: for (i = b; i < e; i++) y[i] = fabsf(x[i]); break;
    case EST_OP_SIGN: for (i = b; i < e; i++) y[i] = x[i] > 0 ? 1.0f : (x[i] < 0 ? -1.0f : x[i]); break;
    case EST_OP_SQUARE: for (i = b; i < e; i++) y[i] = x[i] * x[i]; break;
    case EST_OP_SQRT: for (i = b; i < e; i++) y[i] = sqrtf(x[i]); break;
    case EST_OP_RSQRT: for (i = b; i < e; i++) y[i] = 1.0f / sqrtf(x[i]); break;
    case EST_OP_EXP: for (i = b; i < e; i++) y[i] = expf(x[i]); break;
    case EST_OP_LOG: for (i = b; i < e; i++) y[i] = logf(x[i]); break;
    case EST_OP_LOG1P: for (i = b; i < e; i++) y[i] = log1pf(x[i]); break;
    /* x < 0 ? 0 : x keeps NaN as NaN */
    case EST_OP_RELU: for (i = b; i < e; i++) y[i] = x[i] < 0 ? 0.0f : x[i]; break;
    case EST_OP_RELU6:
        for (i = b; i < e; i++) y[i] = x[i] < 0 ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
        break;
    case EST_OP_LEAKY_RELU: for (i = b; i < e; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i]; break;
    case EST_OP_ELU: for (i = b; i < e; i++) y[i] = x[i] < 0 ? expm1f(x[i]) : x[i]; break;
    case EST_OP_SELU:
        for (i = b; i < e; i++)
            y[i] = x[i] < 0 ? EST__SELU_SCALE * EST__SELU_ALPHA * expm1f(x[i]) : EST__SELU_SCALE * x[i];
        break;
    case EST_OP_SIGMOID: for (i = b; i < e; i++) y[i] = est__sigmoidf(x[i]); break;
    case EST_OP_TANH: for (i = b; i < e; i++) y[i] = tanhf(x[i]); break;
    /* max(x, 0) + log1p(exp(-|x|)): exact for large |x|, no overflow */
    case EST_OP_SOFTPLUS:
        for (i = b; i < e; i++) y[i] = (x[i] > 0 ? x[i] : 0.0f) + log1pf(expf(-fabsf(x[i])));
        break;
    case EST_OP_SOFTSIGN: for (i = b; i < e; i++) y[i] = x[i] / (1.0f + fabsf(x[i])); break;
    case EST_OP_GELU:
        if (k->node->attr.i[0])
            for (i = b; i < e; i++) {
                float v = x[i];
                y[i] = 0.5f * v * (1.0f + tanhf(EST__SQRT_2_PI * (v + EST__GELU_C * v * v * v)));
            }
        else
            for (i = b; i < e; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * EST__SQRT1_2));
        break;
    case EST_OP_SWISH: for (i = b; i < e; i++) y[i] = x[i] * est__sigmoidf(x[i]); break;
    default: break;
    }
}

#define EST__UNARY_INT(T, U)                                                                       \
    do {                                                                                           \
        const T *x = (const T *)k->in[0].data;                                                     \
        T *y = (T *)k->out->data;                                                                  \
        switch (k->node->op) {                                                                     \
        case EST_OP_NEG: for (i = 0; i < n; i++) y[i] = (T)(0u - (U)x[i]); break;                  \
        case EST_OP_ABS: for (i = 0; i < n; i++) y[i] = x[i] < 0 ? (T)(0u - (U)x[i]) : x[i]; break; \
        case EST_OP_SIGN: for (i = 0; i < n; i++) y[i] = (T)((x[i] > 0) - (x[i] < 0)); break;      \
        case EST_OP_SQUARE: for (i = 0; i < n; i++) y[i] = (T)((U)x[i] * (U)x[i]); break;          \
        default: break;                                                                            \
        }                                                                                          \
    } while (0)

EST_PRIVATE est_status est__unary_forward(const est__kctx *k)
{
    int64_t i, n = est_tensor_numel(k->out);
    switch (k->out->dtype) {
    case EST_DTYPE_F32:
        est__parallel_range(k->pool, n, EST__EW_GRAIN, est__unary_f32_range, (void *)(uintptr_t)k);
        break;
    case EST_DTYPE_I32: EST__UNARY_INT(int32_t, uint32_t); break;
    case EST_DTYPE_I64: EST__UNARY_INT(int64_t, uint64_t); break;
    default:
        return est__infer_error(k->node, EST_ERR_DTYPE, "unsupported dtype %s", est_dtype_name(k->out->dtype));
    }
    return EST_OK;
}

#define EST__UNARY_MATH_INT (EST__DT_F32 | EST__DT_INT)
EST_API est_node *est_neg(est_graph *g, est_node *x) { return est__unary(g, EST_OP_NEG, x, EST__UNARY_MATH_INT, NULL); }
EST_API est_node *est_abs(est_graph *g, est_node *x) { return est__unary(g, EST_OP_ABS, x, EST__UNARY_MATH_INT, NULL); }
EST_API est_node *est_sign(est_graph *g, est_node *x) { return est__unary(g, EST_OP_SIGN, x, EST__UNARY_MATH_INT, NULL); }
EST_API est_node *est_square(est_graph *g, est_node *x)
{
    return est__unary(g, EST_OP_SQUARE, x, EST__UNARY_MATH_INT, NULL);
}
EST_API est_node *est_sqrt(est_graph *g, est_node *x) { return est__unary(g, EST_OP_SQRT, x, EST__DT_F32, NULL); }
EST_API est_node *est_rsqrt(est_graph *g, est_node *x) { return est__unary(g, EST_OP_RSQRT, x, EST__DT_F32, NULL); }
EST_API est_node *est_exp(est_graph *g, est_node *x) { return est__unary(g, EST_OP_EXP, x, EST__DT_F32, NULL); }
EST_API est_node *est_log(est_graph *g, est_node *x) { return est__unary(g, EST_OP_LOG, x, EST__DT_F32, NULL); }
EST_API est_node *est_log1p(est_graph *g, est_node *x) { return est__unary(g, EST_OP_LOG1P, x, EST__DT_F32, NULL); }

/* Symbolic gradients of the unary math ops (int inputs get none). */
EST_PRIVATE est_status est__unary_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *x = n->inputs[0];
    if (n->dtype != EST_DTYPE_F32) return EST_OK;
    switch (n->op) {
    case EST_OP_NEG: dx[0] = est_neg(g, dy); break;
    case EST_OP_ABS: dx[0] = est_mul(g, dy, est_sign(g, x)); break;
    case EST_OP_SIGN: dx[0] = est_zeros_like(g, x); break;
    case EST_OP_SQUARE: dx[0] = est_mul(g, dy, est_mul(g, x, est_scalar(g, 2.0f))); break;
    case EST_OP_SQRT: dx[0] = est_div(g, est_mul(g, dy, est_scalar(g, 0.5f)), n); break; /* 0.5 / y */
    case EST_OP_RSQRT: /* -0.5 * y^3 */
        dx[0] = est_mul(g, dy, est_mul(g, est_mul(g, est_square(g, n), n), est_scalar(g, -0.5f)));
        break;
    case EST_OP_EXP: dx[0] = est_mul(g, dy, n); break;
    case EST_OP_LOG: dx[0] = est_div(g, dy, x); break;
    case EST_OP_LOG1P: dx[0] = est_div(g, dy, est_add(g, x, est_scalar(g, 1.0f))); break;
    default: return est__error(EST_ERR_INTERNAL, "no gradient rule for %s", est_op_name(n->op));
    }
    return EST_OK;
}

/* ---- activations ---------------------------------------------------------------------------
 * attrs: f[0] alpha (LeakyRelu), i[0] approximate (Gelu). The gradient ops *Grad take (t, dy)
 * where t is the forward input x, or the output y where TF's gradient uses it (Elu, Selu,
 * Sigmoid, Tanh); they copy the forward op's attributes. */

EST_PRIVATE est_node *est__act(est_graph *g, est_op op, est_node *x, float alpha, int approximate)
{
    est__attrs at;
    memset(&at, 0, sizeof at);
    at.f[0] = alpha;
    at.i[0] = approximate != 0;
    return est__unary(g, op, x, EST__DT_F32, &at);
}

EST_API est_node *est_relu(est_graph *g, est_node *x) { return est__act(g, EST_OP_RELU, x, 0, 0); }
EST_API est_node *est_relu6(est_graph *g, est_node *x) { return est__act(g, EST_OP_RELU6, x, 0, 0); }
EST_API est_node *est_leaky_relu(est_graph *g, est_node *x, float alpha)
{
    return est__act(g, EST_OP_LEAKY_RELU, x, alpha, 0);
}
EST_API est_node *est_elu(est_graph *g, est_node *x) { return est__act(g, EST_OP_ELU, x, 0, 0); }
EST_API est_node *est_selu(est_graph *g, est_node *x) { return est__act(g, EST_OP_SELU, x, 0, 0); }
EST_API est_node *est_sigmoid(est_graph *g, est_node *x) { return est__act(g, EST_OP_SIGMOID, x, 0, 0); }
EST_API est_node *est_tanh(est_graph *g, est_node *x) { return est__act(g, EST_OP_TANH, x, 0, 0); }
EST_API est_node *est_softplus(est_graph *g, est_node *x) { return est__act(g, EST_OP_SOFTPLUS, x, 0, 0); }
EST_API est_node *est_softsign(est_graph *g, est_node *x) { return est__act(g, EST_OP_SOFTSIGN, x, 0, 0); }
EST_API est_node *est_gelu(est_graph *g, est_node *x, int approximate)
{
    return est__act(g, EST_OP_GELU, x, 0, approximate);
}
EST_API est_node *est_swish(est_graph *g, est_node *x) { return est__act(g, EST_OP_SWISH, x, 0, 0); }

EST_API est_node *est_activate(est_graph *g, est_node *x, est_activation act)
{
    if (!g || g->status != EST_OK) return NULL;
    switch (act) {
    case EST_ACTIVATION_DEFAULT:
    case EST_ACTIVATION_LINEAR:
        if (!x) return est__fail(g, EST_ERR_INVALID_ARGUMENT, "est_activate: input is NULL");
        return x;
    case EST_ACTIVATION_RELU: return est_relu(g, x);
    case EST_ACTIVATION_RELU6: return est_relu6(g, x);
    case EST_ACTIVATION_LEAKY_RELU: return est_leaky_relu(g, x, 0.2f);
    case EST_ACTIVATION_ELU: return est_elu(g, x);
    case EST_ACTIVATION_SELU: return est_selu(g, x);
    case EST_ACTIVATION_SIGMOID: return est_sigmoid(g, x);
    case EST_ACTIVATION_TANH: return est_tanh(g, x);
    case EST_ACTIVATION_SOFTPLUS: return est_softplus(g, x);
    case EST_ACTIVATION_SOFTSIGN: return est_softsign(g, x);
    case EST_ACTIVATION_GELU: return est_gelu(g, x, 0);
    case EST_ACTIVATION_SWISH: return est_swish(g, x);
    default: break;
    }
    return est__fail(g, EST_ERR_INVALID_ARGUMENT, "est_activate: unknown activation %d", (int)act);
}

EST_PRIVATE est_status est__act_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *in[2];
    est_op gop;
    int use_y = 0;
    switch (n->op) {
    /* From the output, as TF: y > 0 exactly where x > 0 (and 0 < y < 6 where 0 < x < 6), and then
     * the pre-activation has no reader left, so the plan can fuse it into its producer. */
    case EST_OP_RELU: gop = EST_OP_RELU_GRAD; use_y = 1; break;
    case EST_OP_RELU6: gop = EST_OP_RELU6_GRAD; use_y = 1; break;
    case EST_OP_LEAKY_RELU: gop = EST_OP_LEAKY_RELU_GRAD; break;
    case EST_OP_ELU: gop = EST_OP_ELU_GRAD; use_y = 1; break;
    case EST_OP_SELU: gop = EST_OP_SELU_GRAD; use_y = 1; break;
    case EST_OP_SIGMOID: gop = EST_OP_SIGMOID_GRAD; use_y = 1; break;
    case EST_OP_TANH: gop = EST_OP_TANH_GRAD; use_y = 1; break;
    case EST_OP_SOFTPLUS: gop = EST_OP_SOFTPLUS_GRAD; break;
    case EST_OP_SOFTSIGN: gop = EST_OP_SOFTSIGN_GRAD; break;
    case EST_OP_GELU: gop = EST_OP_GELU_GRAD; break;
    case EST_OP_SWISH: gop = EST_OP_SWISH_GRAD; break;
    default: return est__error(EST_ERR_INTERNAL, "no gradient rule for %s", est_op_name(n->op));
    }
    in[0] = use_y ? n : n->inputs[0];
    in[1] = dy;
    dx[0] = est__node_new(g, gop, EST_DTYPE_F32, in, 2, &n->attr);
    return EST_OK;
}

EST_PRIVATE void est__act_grad_range(void *c, int64_t b, int64_t e)
{
    const est__kctx *k = (const est__kctx *)c;
    const float *t = (const float *)k->in[0].data, *dy = (const float *)k->in[1].data;
    float *dx = (float *)k->out->data;
    float alpha = k->node->attr.f[0];
    int64_t i;
    switch (k->node->op) {
    case EST_OP_RELU_GRAD: for (i = b; i < e; i++) dx[i] = t[i] > 0 ? dy[i] : 0.0f; break;
    case EST_OP_RELU6_GRAD: /* zero at both kinks, as TF */
        for (i = b; i < e; i++) dx[i] = (t[i] > 0 && t[i] < 6.0f) ? dy[i] : 0.0f;
        break;
    case EST_OP_LEAKY_RELU_GRAD: for (i = b; i < e; i++) dx[i] = t[i] > 0 ? dy[i] : alpha * dy[i]; break;
    case EST_OP_ELU_GRAD: for (i = b; i < e; i++) dx[i] = t[i] < 0 ? dy[i] * (t[i] + 1.0f) : dy[i]; break;
    case EST_OP_SELU_GRAD:
        for (i = b; i < e; i++)
            dx[i] = t[i] < 0 ? dy[i] * (t[i] + EST__SELU_SCALE * EST__SELU_ALPHA) : dy[i] * EST__SELU_SCALE;
        break;
    case EST_OP_SIGMOID_GRAD: for (i = b; i < e; i++) dx[i] = dy[i] * t[i] * (1.0f - t[i]); break;
    case EST_OP_TANH_GRAD: for (i = b; i < e; i++) dx[i] = dy[i] * (1.0f - t[i] * t[i]); break;
    case EST_OP_SOFTPLUS_GRAD: for (i = b; i < e; i++) dx[i] = dy[i] * est__sigmoidf(t[i]); break;
    case EST_OP_SOFTSIGN_GRAD:
        for (i = b; i < e; i++) {
            float d = 1.0f + fabsf(t[i]);
            dx[i] = dy[i] / (d * d);
        }
        break;
    case EST_OP_GELU_GRAD:
        if (k->node->attr.i[0])
            for (i = b; i < e; i++) {
                float v = t[i], v2 = v * v;
                float th = tanhf(EST__SQRT_2_PI * (v + EST__GELU_C * v2 * v));
                float du = EST__SQRT_2_PI * (1.0f + 3.0f * EST__GELU_C * v2);
                dx[i] = dy[i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du);
            }
        else
            for (i = b; i < e; i++) {
                float v = t[i];
                float cdf = 0.5f * (1.0f + erff(v * EST__SQRT1_2));
                dx[i] = dy[i] * (cdf + v * EST__INV_SQRT_2PI * expf(-0.5f * v * v));
            }
        break;
    case EST_OP_SWISH_GRAD:
        for (i = b; i < e; i++) {
            float s = est__sigmoidf(t[i]);
            dx[i] = dy[i] * s * (1.0f + t[i] * (1.0f - s));
        }
        break;
    default: break;
    }
}

EST_PRIVATE est_status est__act_grad_forward(const est__kctx *k)
{
    est__parallel_range(k->pool, est_tensor_numel(k->out), EST__EW_GRAIN, est__act_grad_range,
                        (void *)(uintptr_t)k);
    return EST_OK;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* ---- definitions ---- */

static const est__op_def est__def_add = {"AddV2", est__bin_infer, est__arith_forward, est__add_backward, NULL, 0};
static const est__op_def est__def_sub = {"Sub", est__bin_infer, est__arith_forward, est__sub_backward, NULL, 0};
static const est__op_def est__def_mul = {"Mul", est__bin_infer, est__arith_forward, est__mul_backward, NULL, 0};
static const est__op_def est__def_div = {"RealDiv", est__bin_infer, est__arith_forward, est__div_backward, NULL,
                                         0};
static const est__op_def est__def_pow = {"Pow", est__bin_infer, est__arith_forward, est__pow_backward, NULL, 0};
static const est__op_def est__def_maximum = {"Maximum", est__bin_infer, est__arith_forward, est__minmax_backward,
                                             NULL, 0};
static const est__op_def est__def_minimum = {"Minimum", est__bin_infer, est__arith_forward, est__minmax_backward,
                                             NULL, 0};
static const est__op_def est__def_neg = {"Neg", est__infer_same, est__unary_forward, est__unary_backward, NULL, 0};
static const est__op_def est__def_abs = {"Abs", est__infer_same, est__unary_forward, est__unary_backward, NULL, 0};
static const est__op_def est__def_sign = {"Sign", est__infer_same, est__unary_forward, est__unary_backward, NULL,
                                          0};
static const est__op_def est__def_square = {"Square", est__infer_same, est__unary_forward, est__unary_backward,
                                            NULL, 0};
static const est__op_def est__def_sqrt = {"Sqrt", est__infer_same, est__unary_forward, est__unary_backward, NULL,
                                          0};
static const est__op_def est__def_rsqrt = {"Rsqrt", est__infer_same, est__unary_forward, est__unary_backward,
                                           NULL, 0};
static const est__op_def est__def_exp = {"Exp", est__infer_same, est__unary_forward, est__unary_backward, NULL, 0};
static const est__op_def est__def_log = {"Log", est__infer_same, est__unary_forward, est__unary_backward, NULL, 0};
static const est__op_def est__def_log1p = {"Log1p", est__infer_same, est__unary_forward, est__unary_backward,
                                           NULL, 0};
static const est__op_def est__def_where = {"SelectV2", est__where_infer, est__where_forward, est__where_backward,
                                           NULL, 0};
static const est__op_def est__def_cast = {"Cast", est__infer_same, est__cast_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_equal = {"Equal", est__bin_infer, est__cmp_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_not_equal = {"NotEqual", est__bin_infer, est__cmp_forward, est__no_grad, NULL,
                                               0};
static const est__op_def est__def_less = {"Less", est__bin_infer, est__cmp_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_less_equal = {"LessEqual", est__bin_infer, est__cmp_forward, est__no_grad,
                                                NULL, 0};
static const est__op_def est__def_greater = {"Greater", est__bin_infer, est__cmp_forward, est__no_grad, NULL, 0};
static const est__op_def est__def_greater_equal = {"GreaterEqual", est__bin_infer, est__cmp_forward,
                                                   est__no_grad, NULL, 0};
static const est__op_def est__def_logical_and = {"LogicalAnd", est__bin_infer, est__logical_forward,
                                                 est__no_grad, NULL, 0};
static const est__op_def est__def_logical_or = {"LogicalOr", est__bin_infer, est__logical_forward, est__no_grad,
                                                NULL, 0};
static const est__op_def est__def_logical_not = {"LogicalNot", est__infer_same, est__logical_not_forward,
                                                 est__no_grad, NULL, 0};
static const est__op_def est__def_relu = {"Relu", est__infer_same, est__unary_forward, est__act_backward, NULL, 0};
static const est__op_def est__def_relu6 = {"Relu6", est__infer_same, est__unary_forward, est__act_backward, NULL,
                                           0};
static const est__op_def est__def_leaky_relu = {"LeakyRelu", est__infer_same, est__unary_forward,
                                                est__act_backward, NULL, 0};
static const est__op_def est__def_elu = {"Elu", est__infer_same, est__unary_forward, est__act_backward, NULL, 0};
static const est__op_def est__def_selu = {"Selu", est__infer_same, est__unary_forward, est__act_backward, NULL, 0};
static const est__op_def est__def_sigmoid = {"Sigmoid", est__infer_same, est__unary_forward, est__act_backward,
                                             NULL, 0};
static const est__op_def est__def_tanh = {"Tanh", est__infer_same, est__unary_forward, est__act_backward, NULL, 0};
static const est__op_def est__def_softplus = {"Softplus", est__infer_same, est__unary_forward, est__act_backward,
                                              NULL, 0};
static const est__op_def est__def_softsign = {"Softsign", est__infer_same, est__unary_forward, est__act_backward,
                                              NULL, 0};
static const est__op_def est__def_gelu = {"Gelu", est__infer_same, est__unary_forward, est__act_backward, NULL, 0};
static const est__op_def est__def_swish = {"Swish", est__infer_same, est__unary_forward, est__act_backward, NULL,
                                           0};
/* Fused activation gradients: (t, dy) of equal shapes. Not differentiable again (no second
 * derivatives of activations yet). */
static const est__op_def est__def_relu_grad = {"ReluGrad", est__add_n_infer, est__act_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_relu6_grad = {"Relu6Grad", est__add_n_infer, est__act_grad_forward, NULL, NULL,
                                                0};
static const est__op_def est__def_leaky_relu_grad = {"LeakyReluGrad", est__add_n_infer, est__act_grad_forward,
                                                     NULL, NULL, 0};
static const est__op_def est__def_elu_grad = {"EluGrad", est__add_n_infer, est__act_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_selu_grad = {"SeluGrad", est__add_n_infer, est__act_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_sigmoid_grad = {"SigmoidGrad", est__add_n_infer, est__act_grad_forward, NULL,
                                                  NULL, 0};
static const est__op_def est__def_tanh_grad = {"TanhGrad", est__add_n_infer, est__act_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_softplus_grad = {"SoftplusGrad", est__add_n_infer, est__act_grad_forward, NULL,
                                                   NULL, 0};
static const est__op_def est__def_softsign_grad = {"SoftsignGrad", est__add_n_infer, est__act_grad_forward, NULL,
                                                   NULL, 0};
static const est__op_def est__def_gelu_grad = {"GeluGrad", est__add_n_infer, est__act_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_swish_grad = {"SwishGrad", est__add_n_infer, est__act_grad_forward, NULL, NULL,
                                                0};
