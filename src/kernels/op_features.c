/* >>kernels/op_features: feature-column kernels: string/int hashing into buckets (FarmHash, as TF),
 * vocabulary lookup through a prebuilt open-addressing table, identity ids with range checks,
 * bucketizing, hashed crosses (FingerprintCat64, as TF's sparse_cross_hashed), dense-to-sparse
 * plumbing, pruning of invalid ids/weights for the embedding combiners, and multi-hot indicators. */

/* ---- keys: a categorical input element as a string or an int ---- */

/* Element i of a string/int32/int64 tensor. *is_str tells which of s / v holds it. */
EST_PRIVATE void est__fc_key(const est_tensor *t, int64_t i, int *is_str, est_string *s, int64_t *v)
{
    *is_str = t->dtype == EST_DTYPE_STRING;
    if (*is_str) *s = ((const est_string *)t->data)[i];
    else *v = t->dtype == EST_DTYPE_I32 ? (int64_t)((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

/* The "missing" marker of dense categorical inputs: "" for strings, -1 for ints (TF's ignore_value
 * in _to_sparse_input_and_drop_ignore_values). */
EST_PRIVATE int est__fc_is_missing(int is_str, const est_string *s, int64_t v)
{
    return is_str ? s->size == 0 : v == -1;
}

/* Fingerprint64 of a key as TF hashes it: strings as they are, ints as their decimal text
 * (tf.strings.as_string). */
EST_PRIVATE uint64_t est__fc_fingerprint_key(int is_str, const est_string *s, int64_t v)
{
    char buf[32];
    int n;
    if (is_str) return est_fingerprint64(s->data, s->size);
    n = est__snprintf(buf, sizeof buf, "%lld", (long long)v);
    return est_fingerprint64(buf, (size_t)n);
}

/* ---- vocabulary tables ----
 * A table is an int64 tensor of 2^k slots holding vocabulary indices (-1 = empty), probed linearly
 * from a slot chosen by the key's hash. It is built once when the column is built into a graph
 * (est__fc_table_build) and passed to the lookup op as a constant next to the vocabulary. */

EST_PRIVATE uint64_t est__fc_table_hash(int is_str, const est_string *s, int64_t v)
{
    if (is_str) return est_fingerprint64(s->data, s->size);
    return est_fingerprint_cat64(0x9E3779B97F4A7C15ull, (uint64_t)v);
}

EST_PRIVATE int est__fc_vocab_eq(const est_tensor *vocab, int64_t idx, int is_str, const est_string *s, int64_t v)
{
    if (vocab->dtype == EST_DTYPE_STRING) {
        const est_string *w = &((const est_string *)vocab->data)[idx];
        return is_str && w->size == s->size && (s->size == 0 || memcmp(w->data, s->data, s->size) == 0);
    }
    return !is_str && ((const int64_t *)vocab->data)[idx] == v;
}

/* The index of the key in the vocabulary, or -1. */
EST_PRIVATE int64_t est__fc_table_find(const est_tensor *vocab, const est_tensor *table, int is_str,
                                       const est_string *s, int64_t v)
{
    int64_t n = est_tensor_numel(table), mask = n - 1, slot, probes;
    const int64_t *t = (const int64_t *)table->data;
    if (n <= 0) return -1;
    slot = (int64_t)(est__fc_table_hash(is_str, s, v) & (uint64_t)mask);
    for (probes = 0; probes < n; probes++) {
        int64_t idx = t[slot];
        if (idx < 0) return -1;
        if (est__fc_vocab_eq(vocab, idx, is_str, s, v)) return idx;
        slot = (slot + 1) & mask;
    }
    return -1;
}

/* Build the table of a vocabulary (string or int64 [V]). Fails with the first duplicate, as TF's
 * table initializer does. Ownership: *out is freed with est_tensor_free. */
EST_PRIVATE est_status est__fc_table_build(const est_tensor *vocab, est_tensor **out)
{
    int64_t nv = est_tensor_numel(vocab), size = 2, i;
    est_tensor *t = NULL;
    est_status st;
    *out = NULL;
    while (size < 2 * nv) size *= 2;
    if ((st = est_tensor_new(EST_DTYPE_I64, est_shape1(size), &t)) != EST_OK) return st;
    for (i = 0; i < size; i++) ((int64_t *)t->data)[i] = -1;
    for (i = 0; i < nv; i++) {
        int is_str;
        est_string s;
        int64_t v = 0, slot;
        s.data = NULL;
        s.size = 0;
        est__fc_key(vocab, i, &is_str, &s, &v);
        if (est__fc_table_find(vocab, t, is_str, &s, v) >= 0) {
            est_tensor_free(t);
            if (is_str)
                return est__error(EST_ERR_INVALID_ARGUMENT, "vocabulary: duplicate key '%.*s' at index %lld",
                                  (int)EST__MIN(s.size, 200), s.data, (long long)i);
            return est__error(EST_ERR_INVALID_ARGUMENT, "vocabulary: duplicate key %lld at index %lld", (long long)v,
                              (long long)i);
        }
        slot = (int64_t)(est__fc_table_hash(is_str, &s, v) & (uint64_t)(size - 1));
        while (((int64_t *)t->data)[slot] >= 0) slot = (slot + 1) & (size - 1);
        ((int64_t *)t->data)[slot] = i;
    }
    *out = t;
    return EST_OK;
}

EST_PRIVATE int est__fc_is_key_dtype(est_dtype dt)
{
    return dt == EST_DTYPE_STRING || dt == EST_DTYPE_I32 || dt == EST_DTYPE_I64;
}

/* ---- StringToHashBucketFast ----
 * Input 0 keys (string, int32 or int64; ints hashed as their decimal text). Attrs: i[0] num_buckets,
 * i[1] drop missing ("" / -1 give -1). Output int64, same shape. */

EST_PRIVATE est_status est__fc_hash_bucket_forward(const est__kctx *k)
{
    int64_t i, n = est_tensor_numel(&k->in[0]), nb = k->node->attr.i[0];
    int drop = (int)k->node->attr.i[1];
    int64_t *y = (int64_t *)k->out->data;
    for (i = 0; i < n; i++) {
        int is_str;
        est_string s;
        int64_t v = 0;
        s.data = NULL;
        s.size = 0;
        est__fc_key(&k->in[0], i, &is_str, &s, &v);
        if (drop && est__fc_is_missing(is_str, &s, v)) y[i] = -1;
        else y[i] = (int64_t)(est__fc_fingerprint_key(is_str, &s, v) % (uint64_t)nb);
    }
    return EST_OK;
}

/* ---- LookupTableFindV2 ----
 * Inputs: 0 keys (string/int32/int64), 1 vocabulary [V] (string or int64), 2 table (int64 slots).
 * Attrs: i[0] num_oov_buckets, i[1] default id, i[2] drop missing. A key outside the vocabulary
 * gets V + Fingerprint64(key as text) % num_oov_buckets when there are OOV buckets (TF's
 * IdTableWithHashBuckets), the default id otherwise. */

EST_PRIVATE est_status est__fc_vocab_lookup_forward(const est__kctx *k)
{
    const est_tensor *vocab = &k->in[1], *table = &k->in[2];
    int64_t i, n = est_tensor_numel(&k->in[0]), nv = est_tensor_numel(vocab);
    int64_t oov = k->node->attr.i[0], dflt = k->node->attr.i[1];
    int drop = (int)k->node->attr.i[2];
    int64_t *y = (int64_t *)k->out->data;
    for (i = 0; i < n; i++) {
        int is_str;
        est_string s;
        int64_t v = 0, id;
        s.data = NULL;
        s.size = 0;
        est__fc_key(&k->in[0], i, &is_str, &s, &v);
        if (drop && est__fc_is_missing(is_str, &s, v)) {
            y[i] = -1;
            continue;
        }
        id = est__fc_table_find(vocab, table, is_str, &s, v);
        if (id < 0) id = oov > 0 ? nv + (int64_t)(est__fc_fingerprint_key(is_str, &s, v) % (uint64_t)oov) : dflt;
        y[i] = id;
    }
    return EST_OK;
}

/* ---- CategoricalIdentity ----
 * Input 0 int32/int64 values. Attrs: i[0] num_buckets, i[1] has default, i[2] default id, i[3]
 * drop missing (-1 gives -1). A value outside [0, num_buckets) takes the default, or fails naming
 * the value (TF's assert_less / assert_greater_equal) when there is none. */

EST_PRIVATE est_status est__fc_identity_ids_forward(const est__kctx *k)
{
    int64_t i, n = est_tensor_numel(&k->in[0]), nb = k->node->attr.i[0];
    int has_default = (int)k->node->attr.i[1], drop = (int)k->node->attr.i[3];
    int64_t *y = (int64_t *)k->out->data;
    for (i = 0; i < n; i++) {
        int is_str;
        est_string s;
        int64_t v = 0;
        est__fc_key(&k->in[0], i, &is_str, &s, &v);
        if (drop && v == -1) y[i] = -1;
        else if (v >= 0 && v < nb) y[i] = v;
        else if (has_default) y[i] = k->node->attr.i[2];
        else
            return est__infer_error(k->node, EST_ERR_INVALID_ARGUMENT,
                                    "value %lld at position %lld is outside [0, %lld) (num_buckets) and the column "
                                    "has no default_value",
                                    (long long)v, (long long)i, (long long)nb);
    }
    return EST_OK;
}

/* ---- Bucketize ----
 * Inputs: 0 values float32 [B, ...], 1 boundaries float32 [nb] (sorted). Bucket = number of
 * boundaries <= x (TF's Bucketize: [b_{i-1}, b_i)). Attr i[0] set: categorical ids, bucket +
 * (position within the example) * (nb + 1), as bucketized_column numbers them. Output int64. */

EST_PRIVATE est_status est__fc_bucketize_forward(const est__kctx *k)
{
    const float *x = (const float *)k->in[0].data, *b = (const float *)k->in[1].data;
    int64_t n = est_tensor_numel(&k->in[0]), nb = est_tensor_numel(&k->in[1]), i;
    int64_t per = k->in[0].shape.rank > 0 && k->in[0].shape.dims[0] > 0 ? n / k->in[0].shape.dims[0] : 1;
    int64_t *y = (int64_t *)k->out->data;
    for (i = 0; i < n; i++) {
        int64_t lo = 0, hi = nb;
        while (lo < hi) { /* first boundary > x */
            int64_t mid = (lo + hi) / 2;
            if (b[mid] <= x[i]) lo = mid + 1;
            else hi = mid;
        }
        y[i] = k->node->attr.i[0] ? lo + (i % per) * (nb + 1) : lo;
    }
    return EST_OK;
}

/* ---- SparseCrossHashed ----
 * Inputs: n dense [B, k_j] (or [B]: k_j = 1) components (string or int64), in TF's order (components that are
 * SparseTensors in TF first). Attrs: i[0] num_buckets (0: modulo INT64_MAX, as TF), i[1] hash_key
 * (the uint64 bits), i[2] n, i[3 + j] component j holds ids (-1 = absent) rather than raw values.
 * Output int64 [B, prod k_j]: cross c of row b (components enumerated with the last fastest, TF's
 * order) is FingerprintCat64-folded into hash_key, then % num_buckets; -1 when a component of it is
 * absent. Strings contribute Fingerprint64, ints their value. */

#define EST__FC_MAX_CROSS 16

EST_PRIVATE est_status est__fc_cross_hashed_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int j, nc = (int)n->attr.i[2];
    int64_t b = -1, prod = 1;
    for (j = 0; j < nc; j++) {
        int64_t kj = in[j].rank == 2 ? in[j].dims[1] : 1;
        if (in[j].rank != 1 && in[j].rank != 2)
            return est__infer_error(n, EST_ERR_SHAPE, "component %d must be [batch] or [batch, k], got %s", j,
                                    est__sstr(&in[j]));
        if (in[j].dims[0] >= 0) {
            if (b >= 0 && in[j].dims[0] != b)
                return est__infer_error(n, EST_ERR_SHAPE, "component %d has batch %lld, component 0 %s", j,
                                        (long long)in[j].dims[0], est__sstr(&in[0]));
            b = in[j].dims[0];
        }
        if (kj < 0) prod = -1;
        else if (prod >= 0) prod *= kj;
    }
    *out = est_shape2(b, prod);
    return EST_OK;
}

EST_PRIVATE est_status est__fc_cross_hashed_forward(const est__kctx *k)
{
    int nc = (int)k->node->attr.i[2], j;
    int64_t nb = k->node->attr.i[0], b, c, rows = k->out->shape.dims[0], per = k->out->shape.dims[1];
    uint64_t key = (uint64_t)k->node->attr.i[1];
    int64_t *y = (int64_t *)k->out->data;
    for (b = 0; b < rows; b++) {
        for (c = 0; c < per; c++) {
            uint64_t h = key;
            int64_t rest = c, pos[EST__FC_MAX_CROSS];
            int absent = 0;
            for (j = nc - 1; j >= 0; j--) { /* mixed-radix digits, last component fastest */
                int64_t kj = k->in[j].shape.rank == 2 ? k->in[j].shape.dims[1] : 1;
                pos[j] = kj > 0 ? rest % kj : 0;
                rest = kj > 0 ? rest / kj : 0;
            }
            for (j = 0; j < nc && !absent; j++) {
                int is_str;
                est_string s;
                int64_t v = 0;
                int64_t kj = k->in[j].shape.rank == 2 ? k->in[j].shape.dims[1] : 1;
                est__fc_key(&k->in[j], b * kj + pos[j], &is_str, &s, &v);
                if (k->node->attr.i[3 + j] && v < 0) absent = 1;
                else h = est_fingerprint_cat64(h, is_str ? est_fingerprint64(s.data, s.size) : (uint64_t)v);
            }
            y[b * per + c] = absent ? -1 : (int64_t)(nb > 0 ? h % (uint64_t)nb : h % 0x7fffffffffffffffull);
        }
    }
    return EST_OK;
}

/* ---- DenseToSparseIndices / DenseToSparseShape ----
 * The SparseTensor plumbing of a dense [B, K] id tensor (every position an entry): indices [B*K, 2]
 * int64 (row, column) and dense_shape [2] int64 = [B, K]. */

EST_PRIVATE est_status est__fc_dense_indices_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    if (in[0].rank != 2) return est__infer_error(n, EST_ERR_SHAPE, "ids must be [batch, k], got %s", est__sstr(&in[0]));
    *out = est_shape2(est_shape_numel(&in[0]), 2);
    return EST_OK;
}

EST_PRIVATE est_status est__fc_dense_indices_forward(const est__kctx *k)
{
    int64_t rows = k->in[0].shape.dims[0], cols = k->in[0].shape.dims[1], r, c;
    int64_t *y = (int64_t *)k->out->data;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            y[2 * (r * cols + c)] = r;
            y[2 * (r * cols + c) + 1] = c;
        }
    return EST_OK;
}

EST_PRIVATE est_status est__fc_dense_shape_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    if (in[0].rank != 2) return est__infer_error(n, EST_ERR_SHAPE, "ids must be [batch, k], got %s", est__sstr(&in[0]));
    *out = est_shape1(2);
    return EST_OK;
}

EST_PRIVATE est_status est__fc_dense_shape_forward(const est__kctx *k)
{
    ((int64_t *)k->out->data)[0] = k->in[0].shape.dims[0];
    ((int64_t *)k->out->data)[1] = k->in[0].shape.dims[1];
    return EST_OK;
}

/* ---- SafeIds / SafeWeights / SafeWeightsGrad ----
 * What tf.nn.safe_embedding_lookup_sparse prunes (ids < 0, weights <= 0) becomes a zero weight on
 * id 0, so the combiners see the same sums without a data-dependent entry count.
 * SafeIds: int64 ids -> max(id, 0). SafeWeights: inputs ids [, weights f32] (attr i[0] has weights)
 * -> (id >= 0 && w > 0) ? w : 0 (w = 1 without weights). SafeWeightsGrad: inputs ids, weights, dy ->
 * dy where the weight was kept, else 0. */

EST_PRIVATE est_status est__fc_safe_ids_forward(const est__kctx *k)
{
    int64_t i, n = est_tensor_numel(&k->in[0]);
    const int64_t *x = (const int64_t *)k->in[0].data;
    int64_t *y = (int64_t *)k->out->data;
    for (i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];
    return EST_OK;
}

EST_PRIVATE est_status est__fc_same_count_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int j;
    for (j = 1; j < n->n_inputs; j++) {
        int64_t a = est_shape_numel(&in[0]), b = est_shape_numel(&in[j]);
        if (in[j].rank != in[0].rank || (a >= 0 && b >= 0 && a != b))
            return est__infer_error(n, EST_ERR_SHAPE, "input %d %s does not match the ids %s", j, est__sstr(&in[j]),
                                    est__sstr(&in[0]));
    }
    *out = in[0];
    return EST_OK;
}

EST_PRIVATE est_status est__fc_safe_weights_forward(const est__kctx *k)
{
    int64_t i, n = est_tensor_numel(&k->in[0]);
    const int64_t *ids = (const int64_t *)k->in[0].data;
    const float *w = k->node->attr.i[0] ? (const float *)k->in[1].data : NULL;
    float *y = (float *)k->out->data;
    for (i = 0; i < n; i++) {
        float wi = w ? w[i] : 1.0f;
        y[i] = (ids[i] >= 0 && wi > 0.0f) ? wi : 0.0f;
    }
    return EST_OK;
}

EST_PRIVATE est_status est__fc_safe_weights_grad_forward(const est__kctx *k)
{
    int64_t i, n = est_tensor_numel(&k->in[0]);
    const int64_t *ids = (const int64_t *)k->in[0].data;
    const float *w = (const float *)k->in[1].data, *dy = (const float *)k->in[2].data;
    float *y = (float *)k->out->data;
    for (i = 0; i < n; i++) y[i] = (ids[i] >= 0 && w[i] > 0.0f) ? dy[i] : 0.0f;
    return EST_OK;
}

EST_PRIVATE est_status est__fc_safe_weights_backward(est_graph *g, est_node *n, est_node *dy, est_node **dx)
{
    est_node *in[3];
    if (!n->attr.i[0]) return EST_OK;
    in[0] = n->inputs[0];
    in[1] = n->inputs[1];
    in[2] = dy;
    dx[1] = est__node_new(g, EST_OP_FC_SAFE_WEIGHTS_GRAD, EST_DTYPE_F32, in, 3, NULL);
    return est_graph_status(g);
}

/* ---- SparseIndicator ----
 * Inputs: 0 ids [nnz] int64 (-1 skipped), 1 indices [nnz, 2] (int32/int64; column 0 = row), then a
 * rows_like node at position attr i[2] (-1: none, i[3] gives the rows) and weights [nnz] float32 at
 * position i[4] (-1: none). Attr i[0] depth. Output [rows, depth] float32: out[row, id] += w (1
 * without weights), so duplicate ids count, as indicator_column's reduce_sum of one_hot. */

EST_PRIVATE est_status est__fc_indicator_infer(const est_node *n, const est_shape *in, est_shape *out)
{
    int64_t rows = n->attr.i[3];
    if (in[0].rank != 1) return est__infer_error(n, EST_ERR_SHAPE, "ids must be [nnz], got %s", est__sstr(&in[0]));
    if (in[1].rank != 2 || (in[1].dims[0] >= 0 && in[0].dims[0] >= 0 && in[1].dims[0] != in[0].dims[0]) ||
        (in[1].dims[1] >= 0 && in[1].dims[1] != 2))
        return est__infer_error(n, EST_ERR_SHAPE, "indices %s must be [nnz, 2] for ids %s", est__sstr(&in[1]),
                                est__sstr(&in[0]));
    /* the kernel reads one weight per id (checked again with the run-time shapes) */
    if (n->attr.i[4] >= 0 && (in[n->attr.i[4]].rank != 1 || (in[n->attr.i[4]].dims[0] >= 0 && in[0].dims[0] >= 0 &&
                                                               in[n->attr.i[4]].dims[0] != in[0].dims[0])))
        return est__infer_error(n, EST_ERR_SHAPE, "weights %s must be [nnz] for ids %s", est__sstr(&in[n->attr.i[4]]),
                                est__sstr(&in[0]));
    if (n->attr.i[2] >= 0) {
        const est_shape *rl = &in[n->attr.i[2]];
        if (rl->rank < 1) return est__infer_error(n, EST_ERR_SHAPE, "rows_like must have rank >= 1, got %s", est__sstr(rl));
        rows = rl->dims[0];
    }
    *out = est_shape2(rows, n->attr.i[0]);
    return EST_OK;
}

EST_PRIVATE est_status est__fc_indicator_forward(const est__kctx *k)
{
    int64_t nnz = est_tensor_numel(&k->in[0]), depth = k->node->attr.i[0], rows = k->out->shape.dims[0], i;
    const int64_t *ids = (const int64_t *)k->in[0].data;
    const float *w = k->node->attr.i[4] >= 0 ? (const float *)k->in[k->node->attr.i[4]].data : NULL;
    float *y = (float *)k->out->data;
    memset(y, 0, k->out->nbytes);
    for (i = 0; i < nnz; i++) {
        int64_t r = k->in[1].dtype == EST_DTYPE_I32 ? (int64_t)((const int32_t *)k->in[1].data)[2 * i]
                                                    : ((const int64_t *)k->in[1].data)[2 * i];
        if (ids[i] < 0) continue;
        if (ids[i] >= depth)
            return est__infer_error(k->node, EST_ERR_INVALID_ARGUMENT, "id %lld at entry %lld is outside [0, %lld)",
                                    (long long)ids[i], (long long)i, (long long)depth);
        if (r < 0 || r >= rows)
            return est__infer_error(k->node, EST_ERR_INVALID_ARGUMENT, "row %lld at entry %lld is outside [0, %lld)",
                                    (long long)r, (long long)i, (long long)rows);
        y[r * depth + ids[i]] += w ? w[i] : 1.0f;
    }
    return EST_OK;
}

/* ---- definitions ---- */

static const est__op_def est__def_fc_hash_bucket = {"StringToHashBucketFast", est__infer_same,
                                                    est__fc_hash_bucket_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_vocab_lookup = {"LookupTableFindV2", est__infer_same,
                                                     est__fc_vocab_lookup_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_identity_ids = {"CategoricalIdentity", est__infer_same,
                                                     est__fc_identity_ids_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_bucketize = {"Bucketize", est__infer_same, est__fc_bucketize_forward, NULL,
                                                  NULL, 0};
static const est__op_def est__def_fc_cross_hashed = {"SparseCrossHashed", est__fc_cross_hashed_infer,
                                                     est__fc_cross_hashed_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_dense_indices = {"DenseToSparseIndices", est__fc_dense_indices_infer,
                                                      est__fc_dense_indices_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_dense_shape = {"DenseToSparseShape", est__fc_dense_shape_infer,
                                                    est__fc_dense_shape_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_safe_ids = {"SafeIds", est__infer_same, est__fc_safe_ids_forward, NULL, NULL,
                                                 0};
static const est__op_def est__def_fc_safe_weights = {"SafeWeights", est__fc_same_count_infer,
                                                     est__fc_safe_weights_forward, est__fc_safe_weights_backward,
                                                     NULL, 0};
static const est__op_def est__def_fc_safe_weights_grad = {"SafeWeightsGrad", est__fc_same_count_infer,
                                                          est__fc_safe_weights_grad_forward, NULL, NULL, 0};
static const est__op_def est__def_fc_indicator = {"SparseIndicator", est__fc_indicator_infer,
                                                  est__fc_indicator_forward, est__no_grad, NULL, 0};
