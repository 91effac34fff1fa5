/* >>serving/loader-impl: saved_model.json -> graph (by op name and attributes), a minimal
 * in-memory safetensors reader for the weights, signatures and their runs. Uses only the layers
 * below the estimator (codecs, tensor, graph, kernels), so inference-only builds keep it. */

typedef struct est__lsig {
    est_signature_info info;
    est_tensor_info *ins, *outs;
    est_node **in_nodes, **out_nodes;
    est_plan *plan;
    est_feed *feeds;
    est_tensor *views;
    est_named_tensor *named;
} est__lsig;

struct est_saved_model {
    est_json_doc *doc;
    est_graph *g;
    est_var_store *vs;
    est_threadpool *pool;
    const est_kernels *kernels; /* NULL: built-in */
    int64_t global_step;
    const char *version;
    int n_tags;
    const char *tags[8];
    int n_sigs;
    est__lsig *sigs;
};

/* ---- safetensors from memory ---------------------------------------------------------------- */

typedef struct est__stm_entry {
    const char *name;
    est_dtype dtype;
    est_shape shape;
    uint64_t begin, end;
} est__stm_entry;

typedef struct est__stm {
    est_json_doc *doc;
    const unsigned char *data; /* tensor bytes */
    uint64_t data_size;
    est__stm_entry *e;
    int64_t n;
    const est_json *meta;
} est__stm;

EST_PRIVATE void est__stm_free(est__stm *s)
{
    est_json_doc_free(s->doc);
    est__free(s->e);
    memset(s, 0, sizeof *s);
}

EST_PRIVATE est_dtype est__stm_dtype(const char *name)
{
    if (strcmp(name, "F32") == 0) return EST_DTYPE_F32;
    if (strcmp(name, "F64") == 0) return EST_DTYPE_F64;
    if (strcmp(name, "I32") == 0) return EST_DTYPE_I32;
    if (strcmp(name, "I64") == 0) return EST_DTYPE_I64;
    if (strcmp(name, "U8") == 0) return EST_DTYPE_U8;
    if (strcmp(name, "BOOL") == 0) return EST_DTYPE_BOOL;
    return EST_DTYPE_DEFAULT;
}

/* Parse and validate: header size, JSON, each entry's dtype/shape/offsets within the data. */
EST_PRIVATE est_status est__stm_open(const void *buf, size_t size, const char *what, est__stm *s)
{
    const unsigned char *p = (const unsigned char *)buf;
    uint64_t hlen = 0;
    const est_json *root;
    est_json_parse_args pa;
    est_status st;
    size_t i, j;
    int k;
    memset(s, 0, sizeof *s);
    if (!p || size < 8) return est__error(EST_ERR_TRUNCATED, "%s: %lu bytes, shorter than the 8-byte header size", what,
                                          (unsigned long)size);
    for (k = 7; k >= 0; k--) hlen = (hlen << 8) | p[k];
    if (hlen < 2 || hlen > 100000000u)
        return est__error(EST_ERR_CORRUPT, "%s: header size %llu at offset 0 is implausible (not a safetensors file?)",
                          what, (unsigned long long)hlen);
    if (hlen > size - 8)
        return est__error(EST_ERR_TRUNCATED, "%s: the %llu-byte header runs past the end of the data (%lu bytes)", what,
                          (unsigned long long)hlen, (unsigned long)size);
    memset(&pa, 0, sizeof pa);
    pa.reject_duplicate_keys = 1;
    pa.max_depth = 8;
    if ((st = est_json_parse((const char *)p + 8, (size_t)hlen, &pa, &s->doc)) != EST_OK)
        return est__error_prefix(EST_ERR_CORRUPT, "%s: header: ", what);
    root = est_json_root(s->doc);
    if (root->type != EST_JSON_OBJECT) {
        est__stm_free(s);
        return est__error(EST_ERR_CORRUPT, "%s: the header is not a JSON object", what);
    }
    s->data = p + 8 + hlen;
    s->data_size = size - 8 - hlen;
    s->e = EST__CALLOC(est__stm_entry, root->count + 1);
    if (!s->e) {
        est__stm_free(s);
        return est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
    }
    for (i = 0; i < root->count; i++) {
        const est_json_member *m = &root->members[i];
        const est_json *dt, *sh, *off;
        est__stm_entry *e = &s->e[s->n];
        uint64_t numel = 1;
        if (strcmp(m->key, "__metadata__") == 0) {
            s->meta = &m->value;
            continue;
        }
        dt = est_json_get(&m->value, "dtype");
        sh = est_json_get(&m->value, "shape");
        off = est_json_get(&m->value, "data_offsets");
        e->name = m->key;
        if (!dt || dt->type != EST_JSON_STRING || !sh || sh->type != EST_JSON_ARRAY || !off ||
            off->type != EST_JSON_ARRAY || off->count != 2 || !off->items[0].is_int || !off->items[1].is_int ||
            off->items[0].integer < 0 || off->items[1].integer < off->items[0].integer || sh->count > EST_MAX_RANK) {
            est__stm_free(s);
            return est__error(EST_ERR_CORRUPT, "%s: tensor '%s': entry is not {dtype, shape, data_offsets [begin, end]}",
                              what, m->key);
        }
        e->dtype = est__stm_dtype(dt->str);
        if (!e->dtype) {
            est__stm_free(s);
            return est__error(EST_ERR_FORMAT, "%s: tensor '%s': dtype %.20s is not supported", what, m->key, dt->str);
        }
        e->shape.rank = (int)sh->count;
        for (j = 0; j < sh->count; j++) {
            const est_json *d = &sh->items[j];
            if (d->type != EST_JSON_NUMBER || !d->is_int || d->integer < 0 || d->integer > ((int64_t)1 << 40)) {
                est__stm_free(s);
                return est__error(EST_ERR_CORRUPT, "%s: tensor '%s': dimension %lu is not a plausible size", what,
                                  m->key, (unsigned long)j);
            }
            e->shape.dims[j] = d->integer;
            numel *= (uint64_t)d->integer;
            if (numel > ((uint64_t)1 << 40)) {
                est__stm_free(s);
                return est__error(EST_ERR_CORRUPT, "%s: tensor '%s': implausibly large", what, m->key);
            }
        }
        e->begin = (uint64_t)off->items[0].integer;
        e->end = (uint64_t)off->items[1].integer;
        if (e->end - e->begin != numel * est_dtype_size(e->dtype)) {
            est__stm_free(s);
            return est__error(EST_ERR_CORRUPT, "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, %s %s needs %llu",
                              what, m->key, (unsigned long long)e->begin, (unsigned long long)e->end,
                              (unsigned long long)(e->end - e->begin), dt->str, est__sstr(&e->shape),
                              (unsigned long long)(numel * est_dtype_size(e->dtype)));
        }
        if (e->end > s->data_size) {
            est__stm_free(s);
            return est__error(EST_ERR_TRUNCATED, "%s: tensor '%s': data_offsets [%llu, %llu] run past the end of the data "
                              "(%llu bytes after the header)", what, m->key, (unsigned long long)e->begin,
                              (unsigned long long)e->end, (unsigned long long)s->data_size);
        }
        s->n++;
    }
    return EST_OK;
}

EST_PRIVATE const est__stm_entry *est__stm_find(const est__stm *s, const char *name)
{
    int64_t i;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->e[i].name, name) == 0) return &s->e[i];
    return NULL;
}

/* ---- JSON helpers ----------------------------------------------------------------------------- */

/* Product of the known (> 0) dims of n values, or -1 past `limit` (zeros do not excuse the others:
 * est_shape_numel multiplies in order). */
EST_PRIVATE int64_t est__lv_prod(const int64_t *d, int n, int64_t limit)
{
    int64_t p = 1;
    int i, zero = 0;
    for (i = 0; i < n; i++) {
        if (d[i] <= 0) {
            zero |= d[i] == 0;
            continue;
        }
        if (d[i] > limit / p) return -1;
        p *= d[i];
    }
    return zero ? 0 : p;
}

EST_PRIVATE est_status est__lj_shape(const est_json *v, const char *what, est_shape *out)
{
    size_t i;
    memset(out, 0, sizeof *out);
    if (!v || v->type != EST_JSON_ARRAY || v->count > EST_MAX_RANK)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: shape is not an array of at most %d dims", what,
                          EST_MAX_RANK);
    out->rank = (int)v->count;
    for (i = 0; i < v->count; i++) {
        if (v->items[i].type != EST_JSON_NUMBER || !v->items[i].is_int || v->items[i].integer < -1 ||
            v->items[i].integer > ((int64_t)1 << 40))
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: dimension %lu is not an integer >= -1", what,
                              (unsigned long)i);
        out->dims[i] = v->items[i].integer;
    }
    /* so that est_shape_numel of any shape from the file cannot overflow */
    if (est__lv_prod(out->dims, out->rank, (int64_t)1 << 40) < 0)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: shape %s holds more than 2^40 elements", what,
                          est__sstr(out));
    return EST_OK;
}

EST_PRIVATE est_status est__lj_dtype(const est_json *v, const char *what, est_dtype *out)
{
    if (!v || v->type != EST_JSON_STRING || !(*out = est_dtype_from_name(v->str)))
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: missing or unknown dtype%s%.30s", what, v ? " " : "",
                          v && v->type == EST_JSON_STRING ? v->str : "");
    return EST_OK;
}

EST_PRIVATE const char *est__lj_str(const est_json *obj, const char *key)
{
    const est_json *v = est_json_get(obj, key);
    return v && v->type == EST_JSON_STRING && strlen(v->str) == v->len ? v->str : NULL;
}

/* A Const's value: {dtype, shape, data (base64)} or {dtype, shape, strings [base64...]}. */
EST_PRIVATE est_status est__lj_tensor(const est_json *v, const char *what, est_tensor **out)
{
    est_dtype dt;
    est_shape sh;
    est_status st;
    void *bytes = NULL;
    size_t n = 0;
    int64_t numel, i;
    int d;
    *out = NULL;
    if (!v || v->type != EST_JSON_OBJECT) return est__error(EST_ERR_FORMAT, "saved_model.json: %s: no value object", what);
    if ((st = est__lj_dtype(est_json_get(v, "dtype"), what, &dt)) != EST_OK ||
        (st = est__lj_shape(est_json_get(v, "shape"), what, &sh)) != EST_OK)
        return st;
    for (d = 0; d < sh.rank; d++)
        if (sh.dims[d] < 0) return est__error(EST_ERR_FORMAT, "saved_model.json: %s: constant with an unknown dimension", what);
    numel = est_shape_numel(&sh);
    if (dt == EST_DTYPE_STRING) {
        const est_json *ss = est_json_get(v, "strings");
        est_string *el;
        if (!ss || ss->type != EST_JSON_ARRAY || (int64_t)ss->count != numel)
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: 'strings' must hold %lld base64 strings", what,
                              (long long)numel);
        el = EST__CALLOC(est_string, numel ? numel : 1);
        if (!el) return est__error(EST_ERR_OUT_OF_MEMORY, "saved_model.json: out of memory");
        st = EST_OK;
        for (i = 0; i < numel && st == EST_OK; i++) {
            void *dec = NULL;
            if (ss->items[i].type != EST_JSON_STRING) {
                st = est__error(EST_ERR_FORMAT, "saved_model.json: %s: string %lld is not base64 text", what, (long long)i);
                break;
            }
            st = est_base64_decode(ss->items[i].str, ss->items[i].len, &dec, &el[i].size);
            el[i].data = (const char *)dec;
            if (st != EST_OK) est__error_prefix(st, "saved_model.json: %s: string %lld: ", what, (long long)i);
        }
        if (st == EST_OK) st = est__tensor_strings(sh, el, out); /* copies the bytes, NULs included */
        for (i = 0; i < numel; i++) est__free((void *)(uintptr_t)el[i].data);
        est__free(el);
        return st;
    }
    {
        const est_json *data = est_json_get(v, "data");
        if (!data || data->type != EST_JSON_STRING)
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: constant without base64 'data'", what);
        if ((st = est_base64_decode(data->str, data->len, &bytes, &n)) != EST_OK)
            return est__error_prefix(st, "saved_model.json: %s: ", what);
        if (n != (size_t)numel * est_dtype_size(dt)) {
            est__free(bytes);
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: constant data holds %lu bytes, %s %s needs %lu", what,
                              (unsigned long)n, est_dtype_name(dt), est__sstr(&sh),
                              (unsigned long)((size_t)numel * est_dtype_size(dt)));
        }
        st = est_tensor_from_data(dt, sh, bytes, out);
        est__free(bytes);
        return st;
    }
}

/* ---- the graph --------------------------------------------------------------------------------- */

/* Compatible: same rank, equal where both are known. */
EST_PRIVATE int est__shape_compatible(const est_shape *a, const est_shape *b)
{
    int d;
    if (a->rank != b->rank) return 0;
    for (d = 0; d < a->rank; d++)
        if (a->dims[d] >= 0 && b->dims[d] >= 0 && a->dims[d] != b->dims[d]) return 0;
    return 1;
}

/* A Const node with a given name (est_constant names it "Const"). */
EST_PRIVATE est_node *est__load_const(est_graph *g, const char *name, est_tensor *t)
{
    est_node *n;
    if (est__grow((void **)&g->consts, &g->cap_consts, g->n_consts + 1, sizeof(est_tensor *)) != EST_OK) {
        est_tensor_free(t);
        return est__fail(g, EST_ERR_OUT_OF_MEMORY, "Const: out of memory");
    }
    g->consts[g->n_consts++] = t;
    n = est__node_new_named(g, EST_OP_CONST, t->dtype, NULL, 0, NULL, name, 0);
    if (n) {
        n->value = t;
        n->shape = t->shape;
    }
    return n;
}

/* ---- per-op validation ---------------------------------------------------------------------------
 * The loader creates nodes directly from the file's attributes (it cannot call the public builders:
 * those name nodes themselves and several are private to training code), so everything a builder
 * checks is checked here first, before any node is created: the input count, each input's dtype,
 * the node's dtype, every attribute's range, and that attributes the op does not use are 0. The op's
 * shape function then checks shapes (again at run time with the fed shapes). Gradient and optimizer
 * ops are refused: an export holds the PREDICT graph only. */

#define EST__LV_DT(dt) (1u << (unsigned)(dt))
#define EST__LV_F32 EST__LV_DT(EST_DTYPE_F32)
#define EST__LV_I64 EST__LV_DT(EST_DTYPE_I64)
#define EST__LV_BOOL EST__LV_DT(EST_DTYPE_BOOL)
#define EST__LV_STR EST__LV_DT(EST_DTYPE_STRING)
#define EST__LV_IDX (EST__LV_DT(EST_DTYPE_I32) | EST__LV_I64)
#define EST__LV_ARITH (EST__LV_F32 | EST__LV_IDX)
#define EST__LV_NUM (EST__LV_ARITH | EST__LV_DT(EST_DTYPE_F64) | EST__LV_DT(EST_DTYPE_U8) | EST__LV_BOOL)
#define EST__LV_ALL (EST__LV_NUM | EST__LV_STR)
#define EST__LV_KEY (EST__LV_IDX | EST__LV_STR)
/* Bounds: a size an attribute gives, a stride/kernel/dilation, and a node's element count (known
 * dims only; a dynamic batch multiplies it by fed data, which stays far from int64 overflow). */
#define EST__LV_SIZE ((int64_t)1 << 31)
#define EST__LV_STEP ((int64_t)1 << 20)
#define EST__LV_NUMEL ((int64_t)1 << 34)
#define EST__LV_BIG ((int64_t)1 << 62)

typedef struct est__lv {
    const char *what; /* "node 'x' (Op)" */
    const char *op;
    est_node *const *in;
    int n_in;
    est_dtype dt;
    const est__attrs *at;
    uint32_t iused; /* bit k: i[k] is one of the op's attributes */
    int fused;      /* f[0 .. fused-1] are */
} est__lv;

EST_PRIVATE est_status est__lv_fail(const est__lv *v, const char *fmt, ...) EST__PRINTF(2, 3);
EST_PRIVATE est_status est__lv_fail(const est__lv *v, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return est__error(EST_ERR_FORMAT, "saved_model.json: %s: %s", v->what, msg);
}

EST_PRIVATE const char *est__lv_dts(unsigned set, char *buf, size_t cap)
{
    size_t l = 0;
    int d;
    buf[0] = 0;
    for (d = 1; d < (int)EST_DTYPE_COUNT && l + 2 < cap; d++)
        if (set & EST__LV_DT(d))
            l += (size_t)est__snprintf(buf + l, cap - l, "%s%s", l ? "/" : "", est_dtype_name((est_dtype)d));
    return buf;
}

EST_PRIVATE est_status est__lv_arity(const est__lv *v, int lo, int hi)
{
    if (v->n_in >= lo && v->n_in <= hi) return EST_OK;
    if (lo == hi) return est__lv_fail(v, "has %d inputs; %s takes %d", v->n_in, v->op, lo);
    return est__lv_fail(v, "has %d inputs; %s takes %d to %d", v->n_in, v->op, lo, hi);
}

/* Input k's dtype is in `set` (and, when same >= 0, equal to input same's). */
EST_PRIVATE est_status est__lv_in(const est__lv *v, int k, unsigned set, int same)
{
    const est_node *x = v->in[k];
    char b[96];
    if (!(set & EST__LV_DT(x->dtype)))
        return est__lv_fail(v, "input %d ('%s') is %s, expected %s", k, x->name, est_dtype_name(x->dtype),
                            est__lv_dts(set, b, sizeof b));
    if (same >= 0 && x->dtype != v->in[same]->dtype)
        return est__lv_fail(v, "input %d ('%s') is %s but input %d ('%s') is %s; %s needs equal dtypes", k, x->name,
                            est_dtype_name(x->dtype), same, v->in[same]->name, est_dtype_name(v->in[same]->dtype),
                            v->op);
    return EST_OK;
}

/* Inputs from..n_in-1 all in `set` with input from's dtype. */
EST_PRIVATE est_status est__lv_ins(const est__lv *v, int from, unsigned set)
{
    est_status st;
    int k;
    for (k = from; k < v->n_in; k++)
        if ((st = est__lv_in(v, k, set, k > from ? from : -1)) != EST_OK) return st;
    return EST_OK;
}

EST_PRIVATE est_status est__lv_int(est__lv *v, int k, const char *name, int64_t lo, int64_t hi)
{
    v->iused |= 1u << k;
    if (v->at->i[k] >= lo && v->at->i[k] <= hi) return EST_OK;
    return est__lv_fail(v, "attr i[%d] (%s) is %lld, must be in [%lld, %lld]", k, name, (long long)v->at->i[k],
                        (long long)lo, (long long)hi);
}

/* A bit mask of axes of a rank-r input. */
EST_PRIVATE est_status est__lv_mask(est__lv *v, int k, const char *name, int r)
{
    return est__lv_int(v, k, name, 0, ((int64_t)1 << r) - 1);
}

EST_PRIVATE est_status est__lv_rank(const est__lv *v, int k, int lo, int hi)
{
    const est_node *x = v->in[k];
    if (x->shape.rank >= lo && x->shape.rank <= hi) return EST_OK;
    return est__lv_fail(v, "input %d ('%s') has shape %s; %s needs rank %d to %d", k, x->name, est__sstr(&x->shape),
                        v->op, lo, hi);
}

/* The op's table: arity, input and output dtypes, attribute ranges. *want gets the node's dtype. */
EST_PRIVATE est_status est__lv_op(est__lv *v, est_op op, est_dtype *want)
{
    est_node *const *in = v->in;
    const int64_t *ai = v->at->i;
    est_status st = EST_OK;
    int r0 = v->n_in > 0 ? in[0]->shape.rank : 0, k;
    *want = v->n_in > 0 ? in[0]->dtype : EST_DTYPE_F32;
#define EST__LV_TRY(e)                                                                                 \
    do {                                                                                               \
        if ((st = (e)) != EST_OK) return st;                                                           \
    } while (0)
    switch (op) {
    case EST_OP_PLACEHOLDER:
    case EST_OP_CONST:
    case EST_OP_VARIABLE:
    case EST_OP_NO_OP:
        *want = v->dt; /* checked against the value, the store or the op once created */
        return est__lv_arity(v, 0, 0);
    case EST_OP_IDENTITY:
    case EST_OP_STOP_GRADIENT:
        return est__lv_arity(v, 1, 1);
    case EST_OP_ADD_N:
        EST__LV_TRY(est__lv_arity(v, 1, 64));
        return est__lv_ins(v, 0, EST__LV_F32);
    case EST_OP_ZEROS_LIKE:
    case EST_OP_ONES_LIKE:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        return est__lv_in(v, 0, EST__LV_NUM, -1);
    case EST_OP_BROADCAST_LIKE:
    case EST_OP_SUM_TO_LIKE:
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        return est__lv_in(v, 0, EST__LV_F32, -1);
    case EST_OP_RESHAPE_LIKE: return est__lv_arity(v, 2, 2);
    case EST_OP_ASSIGN:
    case EST_OP_ASSIGN_ADD:
    case EST_OP_ASSIGN_SUB:
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        if (in[0]->op != EST_OP_VARIABLE)
            return est__lv_fail(v, "input 0 ('%s') is a %s, not a variable", in[0]->name, est_op_name(in[0]->op));
        EST__LV_TRY(est__lv_in(v, 0, op == EST_OP_ASSIGN ? EST__LV_NUM : EST__LV_ARITH, -1));
        return est__lv_in(v, 1, EST__LV_ALL, 0);
    case EST_OP_MATMUL:
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        EST__LV_TRY(est__lv_ins(v, 0, EST__LV_F32));
        EST__LV_TRY(est__lv_int(v, 0, "transpose_a", 0, 1));
        return est__lv_int(v, 1, "transpose_b", 0, 1);
    case EST_OP_ADD:
    case EST_OP_SUB:
    case EST_OP_MUL:
    case EST_OP_MAXIMUM:
    case EST_OP_MINIMUM:
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        return est__lv_ins(v, 0, EST__LV_ARITH);
    case EST_OP_DIV:
    case EST_OP_POW:
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        return est__lv_ins(v, 0, EST__LV_F32);
    case EST_OP_EQUAL:
    case EST_OP_NOT_EQUAL:
    case EST_OP_LESS:
    case EST_OP_LESS_EQUAL:
    case EST_OP_GREATER:
    case EST_OP_GREATER_EQUAL:
        *want = EST_DTYPE_BOOL;
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        return est__lv_ins(v, 0, EST__LV_NUM);
    case EST_OP_LOGICAL_AND:
    case EST_OP_LOGICAL_OR:
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        return est__lv_ins(v, 0, EST__LV_BOOL);
    case EST_OP_LOGICAL_NOT:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        return est__lv_in(v, 0, EST__LV_BOOL, -1);
    case EST_OP_NEG:
    case EST_OP_ABS:
    case EST_OP_SIGN:
    case EST_OP_SQUARE:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        return est__lv_in(v, 0, EST__LV_ARITH, -1);
    case EST_OP_WHERE:
        EST__LV_TRY(est__lv_arity(v, 3, 3));
        *want = in[1]->dtype;
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_BOOL, -1));
        return est__lv_ins(v, 1, EST__LV_NUM);
    case EST_OP_CAST:
        *want = v->dt;
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_NUM, -1));
        if (!(EST__LV_NUM & EST__LV_DT(v->dt)))
            return est__lv_fail(v, "cannot cast to %s", est_dtype_name(v->dt));
        return EST_OK;
    case EST_OP_LEAKY_RELU:
    case EST_OP_LEAKY_RELU_GRAD:
    case EST_OP_SQRT:
    case EST_OP_RSQRT:
    case EST_OP_EXP:
    case EST_OP_LOG:
    case EST_OP_LOG1P:
    case EST_OP_RELU:
    case EST_OP_RELU6:
    case EST_OP_ELU:
    case EST_OP_SELU:
    case EST_OP_SIGMOID:
    case EST_OP_TANH:
    case EST_OP_SOFTPLUS:
    case EST_OP_SOFTSIGN:
    case EST_OP_SWISH:
    case EST_OP_RELU_GRAD:
    case EST_OP_RELU6_GRAD:
    case EST_OP_ELU_GRAD:
    case EST_OP_SELU_GRAD:
    case EST_OP_SIGMOID_GRAD:
    case EST_OP_TANH_GRAD:
    case EST_OP_SOFTPLUS_GRAD:
    case EST_OP_SOFTSIGN_GRAD:
    case EST_OP_SWISH_GRAD:
    case EST_OP_GELU:
    case EST_OP_GELU_GRAD:
        if (op == EST_OP_LEAKY_RELU || op == EST_OP_LEAKY_RELU_GRAD) v->fused = 1; /* alpha */
        k = (op >= EST_OP_RELU_GRAD && op <= EST_OP_SWISH_GRAD) ? 2 : 1;           /* *Grad: (t, dy) */
        EST__LV_TRY(est__lv_arity(v, k, k));
        EST__LV_TRY(est__lv_ins(v, 0, EST__LV_F32));
        if (op == EST_OP_GELU || op == EST_OP_GELU_GRAD) return est__lv_int(v, 0, "approximate", 0, 1);
        return EST_OK;
    case EST_OP_SUM:
    case EST_OP_MEAN:
    case EST_OP_MAX:
    case EST_OP_MIN:
    case EST_OP_PROD:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, (op == EST_OP_MEAN || op == EST_OP_PROD) ? EST__LV_F32 : EST__LV_ARITH, -1));
        EST__LV_TRY(est__lv_mask(v, 0, "reduced axes", r0));
        return est__lv_int(v, 1, "keepdims", 0, 1);
    case EST_OP_ARGMAX:
    case EST_OP_ARGMIN:
        *want = v->dt;
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_ARITH, -1));
        if (v->dt != EST_DTYPE_I32 && v->dt != EST_DTYPE_I64)
            return est__lv_fail(v, "output_type %s must be int32 or int64", est_dtype_name(v->dt));
        return est__lv_int(v, 0, "axis", 0, r0 - 1);
    case EST_OP_RESHAPE: {
        int neg = 0;
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_NUM, -1));
        EST__LV_TRY(est__lv_int(v, 0, "rank", 0, EST_MAX_RANK));
        for (k = 0; k < (int)ai[0]; k++) {
            EST__LV_TRY(est__lv_int(v, 1 + k, "dims", -1, EST__LV_SIZE));
            if (ai[1 + k] < 0 && neg++) return est__lv_fail(v, "the target shape has more than one -1");
        }
        if (est__lv_prod(ai + 1, (int)ai[0], EST__LV_NUMEL) < 0)
            return est__lv_fail(v, "the target shape holds more than 2^34 elements");
        return EST_OK;
    }
    case EST_OP_TRANSPOSE: {
        int seen = 0;
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_NUM, -1));
        for (k = 0; k < r0; k++) {
            EST__LV_TRY(est__lv_int(v, k, "perm", 0, r0 - 1));
            if ((seen >> ai[k]) & 1)
                return est__lv_fail(v, "attr i[%d] (perm): axis %lld is repeated", k, (long long)ai[k]);
            seen |= 1 << ai[k];
        }
        return EST_OK;
    }
    case EST_OP_CONCAT:
        EST__LV_TRY(est__lv_arity(v, 1, 64));
        EST__LV_TRY(est__lv_ins(v, 0, EST__LV_NUM));
        return est__lv_int(v, 0, "axis", 0, r0 - 1);
    case EST_OP_SLICE:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_NUM, -1));
        for (k = 0; k < r0; k++) {
            EST__LV_TRY(est__lv_int(v, k, "begin", 0, EST__LV_SIZE));
            EST__LV_TRY(est__lv_int(v, 8 + k, "size", -1, EST__LV_SIZE));
        }
        EST__LV_TRY(est__lv_int(v, 16, "split", 0, 1));
        if (ai[16]) {
            EST__LV_TRY(est__lv_int(v, 17, "split axis", 0, r0 - 1));
            EST__LV_TRY(est__lv_int(v, 19, "num_splits", 1, EST__LV_SIZE));
            EST__LV_TRY(est__lv_int(v, 18, "split part", 0, ai[19] - 1));
        }
        return EST_OK;
    case EST_OP_GATHER: /* strings too: heads gather class names (the kernel copies whole elements) */
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_ALL, -1));
        EST__LV_TRY(est__lv_in(v, 1, EST__LV_IDX, -1));
        return est__lv_int(v, 0, "axis", 0, r0 - 1);
    case EST_OP_ONE_HOT:
        *want = EST_DTYPE_F32;
        v->fused = 2; /* on, off */
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_IDX, -1));
        EST__LV_TRY(est__lv_rank(v, 0, 0, EST_MAX_RANK - 1));
        EST__LV_TRY(est__lv_int(v, 0, "depth", 0, EST__LV_SIZE));
        return est__lv_int(v, 1, "axis", 0, r0);
    case EST_OP_SQUEEZE:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        return est__lv_mask(v, 0, "squeezed axes", r0);
    case EST_OP_EXPAND_DIMS:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_rank(v, 0, 0, EST_MAX_RANK - 1));
        return est__lv_int(v, 0, "axis", 0, r0);
    case EST_OP_TILE: {
        int64_t grow[EST_MAX_RANK];
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_NUM, -1));
        for (k = 0; k < r0; k++) {
            EST__LV_TRY(est__lv_int(v, k, "multiples", 0, EST__LV_STEP));
            /* the multiple of a dynamic dim counts too: it scales whatever is fed */
            grow[k] = in[0]->shape.dims[k] < 0 ? ai[k] : in[0]->shape.dims[k] * ai[k];
        }
        if (est__lv_prod(grow, r0, EST__LV_NUMEL) < 0)
            return est__lv_fail(v, "the multiples make more than 2^34 elements per fed element");
        return EST_OK;
    }
    case EST_OP_PAD:
        v->fused = 1; /* constant value */
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_NUM, -1));
        for (k = 0; k < 2 * r0; k++) EST__LV_TRY(est__lv_int(v, k, "paddings", 0, EST__LV_SIZE));
        return est__lv_int(v, 16, "mode", EST_PAD_MODE_CONSTANT, EST_PAD_MODE_SYMMETRIC);
    case EST_OP_SOFTMAX:
    case EST_OP_LOG_SOFTMAX:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_F32, -1));
        return est__lv_int(v, 0, "axis", 0, r0 - 1);
    case EST_OP_SPARSE_SOFTMAX_XENT:
    case EST_OP_SOFTMAX_XENT:
    case EST_OP_SIGMOID_XENT:
        *want = EST_DTYPE_F32;
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        EST__LV_TRY(est__lv_in(v, 0, op == EST_OP_SPARSE_SOFTMAX_XENT ? EST__LV_IDX : EST__LV_F32, -1));
        return est__lv_in(v, 1, EST__LV_F32, -1);
    case EST_OP_L2_NORMALIZE:
        v->fused = 1; /* epsilon */
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_F32, -1));
        return est__lv_mask(v, 0, "reduced axes", r0);
    case EST_OP_RANDOM_UNIFORM:
    case EST_OP_RANDOM_NORMAL:
    case EST_OP_TRUNCATED_NORMAL:
        *want = EST_DTYPE_F32;
        v->fused = 2; /* minval, maxval / mean, stddev */
        EST__LV_TRY(est__lv_arity(v, 0, 1));
        if (v->n_in == 1) return EST_OK; /* shape_like */
        EST__LV_TRY(est__lv_int(v, 0, "rank", 0, EST_MAX_RANK));
        for (k = 0; k < (int)ai[0]; k++) EST__LV_TRY(est__lv_int(v, 1 + k, "shape", 0, EST__LV_SIZE));
        return EST_OK;
    case EST_OP_DROPOUT:
        v->fused = 2; /* rate, 1 / (1 - rate) */
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_F32, -1));
        if (!(v->at->f[0] >= 0.0f && v->at->f[0] < 1.0f))
            return est__lv_fail(v, "attr f[0] (rate) is %g, must be in [0, 1)", (double)v->at->f[0]);
        return EST_OK;
    case EST_OP_CONV2D:
    case EST_OP_DEPTHWISE_CONV2D:
    case EST_OP_CONV2D_BACKPROP_INPUT: /* conv2d_transpose, output shape in i[5..8] */
        *want = EST_DTYPE_F32;
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        EST__LV_TRY(est__lv_ins(v, 0, EST__LV_F32));
        EST__LV_TRY(est__lv_int(v, 0, "strides[0]", 1, EST__LV_STEP));
        EST__LV_TRY(est__lv_int(v, 1, "strides[1]", 1, EST__LV_STEP));
        EST__LV_TRY(est__lv_int(v, 2, "padding", EST_PADDING_VALID, EST_PADDING_SAME));
        EST__LV_TRY(est__lv_int(v, 3, "dilations[0]", 1, EST__LV_STEP));
        EST__LV_TRY(est__lv_int(v, 4, "dilations[1]", 1, EST__LV_STEP));
        if (op != EST_OP_CONV2D_BACKPROP_INPUT) {
            for (k = 5; k < 9; k++) EST__LV_TRY(est__lv_int(v, k, "output_shape (unused: -1)", -1, -1));
            return EST_OK;
        }
        EST__LV_TRY(est__lv_int(v, 5, "output_shape[0]", -1, EST__LV_SIZE));
        for (k = 6; k < 9; k++) EST__LV_TRY(est__lv_int(v, k, "output_shape", 1, EST__LV_SIZE));
        return EST_OK;
    case EST_OP_MAX_POOL:
    case EST_OP_AVG_POOL:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_F32, -1));
        EST__LV_TRY(est__lv_int(v, 0, "ksize[0]", 1, EST__LV_STEP));
        EST__LV_TRY(est__lv_int(v, 1, "ksize[1]", 1, EST__LV_STEP));
        EST__LV_TRY(est__lv_int(v, 2, "strides[0]", 1, EST__LV_STEP));
        EST__LV_TRY(est__lv_int(v, 3, "strides[1]", 1, EST__LV_STEP));
        return est__lv_int(v, 4, "padding", EST_PADDING_VALID, EST_PADDING_SAME);
    case EST_OP_EMBEDDING_SPARSE:
        *want = EST_DTYPE_F32;
        EST__LV_TRY(est__lv_int(v, 0, "combiner", EST_COMBINER_SUM, EST_COMBINER_SQRTN));
        EST__LV_TRY(est__lv_int(v, 1, "has weights", 0, 1));
        EST__LV_TRY(est__lv_int(v, 2, "rows_like input", -1, 4 + ai[1]));
        if (ai[2] >= 0 && ai[2] != 4 + ai[1])
            return est__lv_fail(v, "attr i[2] (rows_like input) is %lld, must be -1 or %lld", (long long)ai[2],
                                (long long)(4 + ai[1]));
        EST__LV_TRY(est__lv_int(v, 3, "rows", -1, EST__LV_SIZE));
        k = 4 + (int)ai[1] + (ai[2] >= 0);
        EST__LV_TRY(est__lv_arity(v, k, k));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_F32, -1));
        for (k = 1; k < 4; k++) EST__LV_TRY(est__lv_in(v, k, EST__LV_IDX, -1));
        if (ai[1]) return est__lv_in(v, 4, EST__LV_F32, -1);
        return EST_OK;
    case EST_OP_FC_HASH_BUCKET:
        *want = EST_DTYPE_I64;
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_KEY, -1));
        EST__LV_TRY(est__lv_int(v, 0, "num_buckets", 1, EST__LV_BIG));
        return est__lv_int(v, 1, "drop missing", 0, 1);
    case EST_OP_FC_VOCAB_LOOKUP: {
        const est_tensor *voc, *tab;
        int64_t nv, j;
        *want = EST_DTYPE_I64;
        EST__LV_TRY(est__lv_arity(v, 3, 3));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_KEY, -1));
        EST__LV_TRY(est__lv_int(v, 0, "num_oov_buckets", 0, EST__LV_BIG));
        EST__LV_TRY(est__lv_int(v, 1, "default id", -1, EST__LV_BIG));
        EST__LV_TRY(est__lv_int(v, 2, "drop missing", 0, 1));
        /* the table's slots index the vocabulary: both must be constants, checked here */
        if (in[1]->op != EST_OP_CONST || in[2]->op != EST_OP_CONST)
            return est__lv_fail(v, "inputs 1 (vocabulary) and 2 (table) must be Const nodes");
        EST__LV_TRY(est__lv_in(v, 1, EST__LV_I64 | EST__LV_STR, -1));
        EST__LV_TRY(est__lv_in(v, 2, EST__LV_I64, -1));
        voc = in[1]->value;
        tab = in[2]->value;
        if (voc->shape.rank != 1 || tab->shape.rank != 1)
            return est__lv_fail(v, "vocabulary %s and table %s must be vectors", est__sstr(&voc->shape),
                                est__sstr(&tab->shape));
        nv = voc->shape.dims[0];
        for (j = 0; j < tab->shape.dims[0]; j++) {
            int64_t s = ((const int64_t *)tab->data)[j];
            if (s < -1 || s >= nv)
                return est__lv_fail(v, "table slot %lld holds %lld, outside [-1, %lld) (the vocabulary size)",
                                    (long long)j, (long long)s, (long long)nv);
        }
        return EST_OK;
    }
    case EST_OP_FC_IDENTITY_IDS:
        *want = EST_DTYPE_I64;
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_IDX, -1));
        EST__LV_TRY(est__lv_int(v, 0, "num_buckets", 0, EST__LV_BIG));
        EST__LV_TRY(est__lv_int(v, 1, "has default", 0, 1));
        EST__LV_TRY(est__lv_int(v, 2, "default id", -1, EST__LV_BIG));
        return est__lv_int(v, 3, "drop missing", 0, 1);
    case EST_OP_FC_BUCKETIZE:
        *want = EST_DTYPE_I64;
        EST__LV_TRY(est__lv_arity(v, 2, 2));
        EST__LV_TRY(est__lv_ins(v, 0, EST__LV_F32));
        EST__LV_TRY(est__lv_rank(v, 1, 1, 1));
        return est__lv_int(v, 0, "categorical", 0, 1);
    case EST_OP_FC_CROSS_HASHED: {
        int64_t per[16];
        *want = EST_DTYPE_I64;
        EST__LV_TRY(est__lv_arity(v, 1, 16));
        for (k = 0; k < v->n_in; k++) {
            EST__LV_TRY(est__lv_in(v, k, EST__LV_KEY, -1));
            EST__LV_TRY(est__lv_rank(v, k, 1, 2));
            EST__LV_TRY(est__lv_int(v, 3 + k, "holds ids", 0, 1));
            per[k] = in[k]->shape.rank == 2 ? in[k]->shape.dims[1] : 1;
            if (per[k] < 0) return est__lv_fail(v, "input %d ('%s') %s: crosses need a known width", k, in[k]->name,
                                                est__sstr(&in[k]->shape));
        }
        if (est__lv_prod(per, v->n_in, EST__LV_NUMEL) < 0)
            return est__lv_fail(v, "the cross has more than 2^34 combinations per example");
        EST__LV_TRY(est__lv_int(v, 0, "num_buckets", 0, EST__LV_BIG));
        v->iused |= 2u; /* i[1]: hash_key, any 64 bits */
        return est__lv_int(v, 2, "components", v->n_in, v->n_in);
    }
    case EST_OP_FC_DENSE_INDICES:
    case EST_OP_FC_DENSE_SHAPE:
        *want = EST_DTYPE_I64;
        return est__lv_arity(v, 1, 1);
    case EST_OP_FC_SAFE_IDS:
        EST__LV_TRY(est__lv_arity(v, 1, 1));
        return est__lv_in(v, 0, EST__LV_I64, -1);
    case EST_OP_FC_SAFE_WEIGHTS:
        *want = EST_DTYPE_F32;
        EST__LV_TRY(est__lv_int(v, 0, "has weights", 0, 1));
        EST__LV_TRY(est__lv_arity(v, 1 + (int)ai[0], 1 + (int)ai[0]));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_I64, -1));
        if (ai[0]) return est__lv_in(v, 1, EST__LV_F32, -1);
        return EST_OK;
    case EST_OP_FC_INDICATOR:
        *want = EST_DTYPE_F32;
        EST__LV_TRY(est__lv_int(v, 0, "depth", 0, EST__LV_SIZE));
        EST__LV_TRY(est__lv_int(v, 2, "rows_like input", -1, 2));
        EST__LV_TRY(est__lv_int(v, 3, "rows", -1, EST__LV_SIZE));
        k = 2 + (ai[2] >= 0);
        if (ai[2] >= 0 && ai[2] != 2)
            return est__lv_fail(v, "attr i[2] (rows_like input) is %lld, must be -1 or 2", (long long)ai[2]);
        EST__LV_TRY(est__lv_int(v, 4, "weights input", -1, k));
        if (ai[4] >= 0 && ai[4] != k)
            return est__lv_fail(v, "attr i[4] (weights input) is %lld, must be -1 or %d", (long long)ai[4], k);
        k += ai[4] >= 0;
        EST__LV_TRY(est__lv_arity(v, k, k));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_I64, -1));
        EST__LV_TRY(est__lv_in(v, 1, EST__LV_IDX, -1));
        if (ai[4] >= 0) return est__lv_in(v, (int)ai[4], EST__LV_F32, -1);
        return EST_OK;
    case EST_OP_PARSE_EXAMPLE: {
        est_shape fs;
        *want = v->dt;
        if (v->dt != EST_DTYPE_F32 && v->dt != EST_DTYPE_I64 && v->dt != EST_DTYPE_STRING)
            return est__lv_fail(v, "dtype %s: tf.Example holds float32, int64 and string", est_dtype_name(v->dt));
        EST__LV_TRY(est__lv_int(v, 9, "has default", 0, 1));
        EST__LV_TRY(est__lv_arity(v, 2 + (int)ai[9], 2 + (int)ai[9]));
        EST__LV_TRY(est__lv_in(v, 0, EST__LV_STR, -1));
        EST__LV_TRY(est__lv_in(v, 1, EST__LV_STR, -1));
        EST__LV_TRY(est__lv_int(v, 0, "rank", 0, EST_MAX_RANK - 1));
        memset(&fs, 0, sizeof fs);
        fs.rank = (int)ai[0];
        for (k = 0; k < fs.rank; k++) {
            EST__LV_TRY(est__lv_int(v, 1 + k, "shape", 0, EST__LV_SIZE));
            fs.dims[k] = ai[1 + k];
        }
        if (est__lv_prod(fs.dims, fs.rank, EST__LV_NUMEL) < 0)
            return est__lv_fail(v, "the feature shape holds more than 2^34 elements");
        /* the default is copied whole into every example that lacks the feature */
        if (ai[9] && (in[2]->dtype != v->dt || !est_shape_equal(&in[2]->shape, &fs)))
            return est__lv_fail(v, "the default value '%s' is %s %s, the feature is %s %s", in[2]->name,
                                est_dtype_name(in[2]->dtype), est__sstr(&in[2]->shape), est_dtype_name(v->dt),
                                est__sstr(&fs));
        return EST_OK;
    }
    default: break;
    }
#undef EST__LV_TRY
    return est__lv_fail(v, "%s is a gradient or training op, which an inference export does not hold", v->op);
}

/* Validate a node before it is created; an error names the node, op, input or attribute, and why. */
EST_PRIVATE est_status est__lv_check(const char *what, est_op op, est_node *const *in, int n_in, est_dtype dt,
                                     const est__attrs *at)
{
    est__lv v;
    est_dtype want;
    est_status st;
    int k;
    memset(&v, 0, sizeof v);
    v.what = what;
    v.op = est_op_name(op);
    v.in = in;
    v.n_in = n_in;
    v.dt = dt;
    v.at = at;
    if ((st = est__lv_op(&v, op, &want)) != EST_OK) return st;
    if (dt != want)
        return est__lv_fail(&v, "dtype is %s, but %s of these inputs gives %s", est_dtype_name(dt), v.op,
                            est_dtype_name(want));
    for (k = 0; k < EST__MAX_IATTR; k++)
        if (!((v.iused >> k) & 1) && at->i[k] != 0)
            return est__lv_fail(&v, "attr i[%d] is %lld, but %s has no such attribute", k, (long long)at->i[k], v.op);
    for (k = v.fused; k < 4; k++)
        if (at->f[k] != 0.0f) return est__lv_fail(&v, "attr f[%d] is set, but %s has no such attribute", k, v.op);
    return EST_OK;
}

EST_PRIVATE est_status est__load_node(est_saved_model *m, const est_json *jn, size_t index)
{
    est_graph *g = m->g;
    const char *name = est__lj_str(jn, "name"), *opname = est__lj_str(jn, "op");
    const est_json *jin = est_json_get(jn, "inputs"), *jctrl = est_json_get(jn, "control_inputs");
    const est_json *jattr = est_json_get(jn, "attr");
    est_node *in[64], *n = NULL;
    est__attrs at;
    memset(in, 0, sizeof in);
    est_dtype dt;
    est_shape sh;
    est_op op;
    est_status st;
    char what[300];
    size_t i;
    int n_in = 0;
    if (jn->type != EST_JSON_OBJECT || !name || !*name || !opname)
        return est__error(EST_ERR_FORMAT, "saved_model.json: graph node %lu has no name or op", (unsigned long)index);
    est__snprintf(what, sizeof what, "node '%.200s' (%.40s)", name, opname);
    op = est_op_from_name(opname);
    if (op == EST_OP_DEFAULT)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: unknown op '%s' (not in estimator.h %s)", what, opname,
                          EST_VERSION_STRING);
    if ((st = est__lj_dtype(est_json_get(jn, "dtype"), what, &dt)) != EST_OK ||
        (st = est__lj_shape(est_json_get(jn, "shape"), what, &sh)) != EST_OK)
        return st;
    if (est_graph_find(g, name))
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: a node of that name comes earlier", what);
    if (jin) {
        if (jin->type != EST_JSON_ARRAY || jin->count > EST__COUNTOF(in))
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: inputs is not an array of at most %d names", what,
                              (int)EST__COUNTOF(in));
        for (i = 0; i < jin->count; i++) {
            if (jin->items[i].type != EST_JSON_STRING || !(in[i] = est_graph_find(g, jin->items[i].str)))
                return est__error(EST_ERR_FORMAT, "saved_model.json: %s: input %lu ('%.200s') is not an earlier node", what,
                                  (unsigned long)i, jin->items[i].type == EST_JSON_STRING ? jin->items[i].str : "?");
        }
        n_in = (int)jin->count;
    }
    memset(&at, 0, sizeof at);
    if (jattr) {
        const est_json *ji = est_json_get(jattr, "i"), *jf = est_json_get(jattr, "f");
        if (jattr->type != EST_JSON_OBJECT || (ji && (ji->type != EST_JSON_ARRAY || ji->count > EST__MAX_IATTR)) ||
            (jf && (jf->type != EST_JSON_ARRAY || jf->count > 4)))
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: attr is not {i: [<= %d ints], f: [<= 4 floats]}", what,
                              EST__MAX_IATTR);
        for (i = 0; ji && i < ji->count; i++) {
            if (ji->items[i].type != EST_JSON_NUMBER || !ji->items[i].is_int)
                return est__error(EST_ERR_FORMAT, "saved_model.json: %s: attr i[%lu] is not an integer", what, (unsigned long)i);
            at.i[i] = ji->items[i].integer;
        }
        for (i = 0; jf && i < jf->count; i++) {
            const est_json *v = &jf->items[i];
            if (v->type == EST_JSON_NUMBER)
                at.f[i] = v->number > FLT_MAX ? (float)HUGE_VAL /* a double beyond float's range: C leaves */
                          : v->number < -FLT_MAX ? (float)-HUGE_VAL /* its conversion undefined */
                                                 : (float)v->number;
            else if (v->type == EST_JSON_STRING && strcmp(v->str, "inf") == 0)
                at.f[i] = (float)HUGE_VAL;
            else if (v->type == EST_JSON_STRING && strcmp(v->str, "-inf") == 0)
                at.f[i] = (float)-HUGE_VAL;
            else if (v->type == EST_JSON_STRING && strcmp(v->str, "nan") == 0)
                at.f[i] = (float)(HUGE_VAL - HUGE_VAL);
            else
                return est__error(EST_ERR_FORMAT, "saved_model.json: %s: attr f[%lu] is not a number", what, (unsigned long)i);
        }
    }
    if ((op == EST_OP_PLACEHOLDER || op == EST_OP_CONST || op == EST_OP_VARIABLE || op == EST_OP_NO_OP) && n_in)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: a %s has no inputs", what, opname);
    if ((st = est__lv_check(what, op, in, n_in, dt, &at)) != EST_OK) return st;
    switch (op) {
    case EST_OP_PLACEHOLDER:
        n = est_placeholder(g, name, dt, sh);
        break;
    case EST_OP_CONST: {
        est_tensor *t = NULL;
        if ((st = est__lj_tensor(est_json_get(jn, "value"), what, &t)) != EST_OK) return st;
        n = est__load_const(g, name, t);
        break;
    }
    case EST_OP_VARIABLE:
        if (!est_var_store_find(m->vs, name))
            return est__error(EST_ERR_CHECKPOINT, "saved_model.json: %s: variable '%s' is not in the weights", what, name);
        n = est_variable(g, name);
        break;
    case EST_OP_NO_OP:
        n = est__node_new_named(g, op, EST_DTYPE_BOOL, NULL, 0, NULL, name, 0);
        if (n) n->shape = est_shape_scalar();
        break;
    default:
        n = est__node_new_named(g, op, dt, in, n_in, &at, name, 0);
        break;
    }
    if (!n) return est__error(est_graph_status(g), "saved_model.json: %s: %s", what, est_graph_error(g));
    if (strcmp(n->name, name) != 0)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: the name was taken (got '%s')", what, n->name);
    if (n->dtype != dt || !est__shape_compatible(&n->shape, &sh) || (op != EST_OP_PLACEHOLDER && !est_shape_equal(&n->shape, &sh) &&
                                                                   est_shape_numel(&sh) >= 0))
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: the file says %s %s, the graph gives %s %s", what,
                          est_dtype_name(dt), est__sstr(&sh), est_dtype_name(n->dtype), est__sstr(&n->shape));
    if (est__lv_prod(n->shape.dims, n->shape.rank, EST__LV_NUMEL) < 0)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: shape %s holds more than 2^34 elements", what,
                          est__sstr(&n->shape));
    if (est__is_random_op(op)) {
        const char *seed = est__lj_str(jn, "seed");
        if (seed) n->seed = (uint64_t)strtoull(seed, NULL, 10);
    }
    if (jctrl) {
        est_node *deps[64];
        memset(deps, 0, sizeof deps);
        if (jctrl->type != EST_JSON_ARRAY || jctrl->count > EST__COUNTOF(deps))
            return est__error(EST_ERR_FORMAT, "saved_model.json: %s: control_inputs is not an array", what);
        for (i = 0; i < jctrl->count; i++)
            if (jctrl->items[i].type != EST_JSON_STRING || !(deps[i] = est_graph_find(g, jctrl->items[i].str)) ||
                deps[i] == n)
                return est__error(EST_ERR_FORMAT, "saved_model.json: %s: control input %lu is not an earlier node", what,
                                  (unsigned long)i);
        if (!est_control_deps(n, deps, (int)jctrl->count))
            return est__error(est_graph_status(g), "saved_model.json: %s: %s", what, est_graph_error(g));
    }
    return EST_OK;
}

/* "node:0" (or "node") -> the node. */
EST_PRIVATE est_node *est__tensor_node(est_graph *g, const char *tensor)
{
    char buf[1100];
    size_t l = strlen(tensor);
    if (l >= sizeof buf) return NULL;
    memcpy(buf, tensor, l + 1);
    if (l > 2 && strcmp(buf + l - 2, ":0") == 0) buf[l - 2] = 0;
    return est_graph_find(g, buf);
}

EST_PRIVATE est_status est__load_tinfo(est_saved_model *m, const est_json_member *mem, int is_input, const char *sig,
                                       est_tensor_info *ti, est_node **node)
{
    const char *name = est__lj_str(&mem->value, "name");
    char what[300];
    est_status st;
    est__snprintf(what, sizeof what, "signature '%.100s' %s '%.100s'", sig, is_input ? "input" : "output", mem->key);
    if (!name) return est__error(EST_ERR_FORMAT, "saved_model.json: %s has no tensor name", what);
    ti->key = mem->key;
    ti->name = name;
    if ((st = est__lj_dtype(est_json_get(&mem->value, "dtype"), what, &ti->dtype)) != EST_OK ||
        (st = est__lj_shape(est_json_get(&mem->value, "shape"), what, &ti->shape)) != EST_OK)
        return st;
    *node = est__tensor_node(m->g, name);
    if (!*node) return est__error(EST_ERR_FORMAT, "saved_model.json: %s: tensor '%s' is not in the graph", what, name);
    if ((*node)->dtype != ti->dtype || !est__shape_compatible(&(*node)->shape, &ti->shape))
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s is %s %s but its node '%s' is %s %s", what,
                          est_dtype_name(ti->dtype), est__sstr(&ti->shape), (*node)->name,
                          est_dtype_name((*node)->dtype), est__sstr(&(*node)->shape));
    if (is_input && (*node)->op != EST_OP_PLACEHOLDER)
        return est__error(EST_ERR_FORMAT, "saved_model.json: %s: '%s' is a %s, not a placeholder", what, name,
                          est_op_name((*node)->op));
    return EST_OK;
}

EST_PRIVATE est_status est__load_signatures(est_saved_model *m, const est_json *sd)
{
    size_t i, j;
    est_status st;
    if (!sd || sd->type != EST_JSON_OBJECT)
        return est__error(EST_ERR_FORMAT, "saved_model.json: signature_def is missing or not an object");
    m->sigs = EST__CALLOC(est__lsig, sd->count + 1);
    if (!m->sigs) return est__error(EST_ERR_OUT_OF_MEMORY, "saved_model: out of memory");
    for (i = 0; i < sd->count; i++) {
        const est_json *s = &sd->members[i].value;
        const est_json *ins = est_json_get(s, "inputs"), *outs = est_json_get(s, "outputs");
        est__lsig *ls = &m->sigs[m->n_sigs];
        const char *key = sd->members[i].key;
        if (!ins || ins->type != EST_JSON_OBJECT || !outs || outs->type != EST_JSON_OBJECT || outs->count == 0)
            return est__error(EST_ERR_FORMAT, "saved_model.json: signature '%s' needs inputs and outputs objects", key);
        ls->info.key = key;
        ls->info.method_name = est__lj_str(s, "method_name");
        if (!ls->info.method_name) ls->info.method_name = "";
        ls->ins = EST__CALLOC(est_tensor_info, ins->count + 1);
        ls->outs = EST__CALLOC(est_tensor_info, outs->count + 1);
        ls->in_nodes = EST__CALLOC(est_node *, ins->count + 1);
        ls->out_nodes = EST__CALLOC(est_node *, outs->count + 1);
        ls->feeds = EST__CALLOC(est_feed, ins->count + 1);
        ls->views = EST__CALLOC(est_tensor, outs->count + 1);
        ls->named = EST__CALLOC(est_named_tensor, outs->count + 1);
        m->n_sigs++;
        if (!ls->ins || !ls->outs || !ls->in_nodes || !ls->out_nodes || !ls->feeds || !ls->views || !ls->named)
            return est__error(EST_ERR_OUT_OF_MEMORY, "saved_model: out of memory");
        for (j = 0; j < ins->count; j++)
            if ((st = est__load_tinfo(m, &ins->members[j], 1, key, &ls->ins[j], &ls->in_nodes[j])) != EST_OK) return st;
        for (j = 0; j < outs->count; j++)
            if ((st = est__load_tinfo(m, &outs->members[j], 0, key, &ls->outs[j], &ls->out_nodes[j])) != EST_OK) return st;
        ls->info.n_inputs = (int)ins->count;
        ls->info.inputs = ls->ins;
        ls->info.n_outputs = (int)outs->count;
        ls->info.outputs = ls->outs;
    }
    return EST_OK;
}

EST_PRIVATE est_status est__load_weights(est_saved_model *m, const est_json *vars, const void *weights, size_t wsize,
                                         uint32_t json_crc)
{
    est__stm sm;
    est_status st;
    char missing[700], bad[700];
    size_t lm = 0, lb = 0, i;
    int n_missing = 0, n_bad = 0;
    missing[0] = bad[0] = 0;
    memset(&sm, 0, sizeof sm);
    if (!vars || vars->type != EST_JSON_ARRAY)
        return est__error(EST_ERR_FORMAT, "saved_model.json: 'variables' is missing or not an array");
    if (vars->count == 0 && (!weights || !wsize)) return EST_OK;
    if ((st = est__stm_open(weights, wsize, "variables.safetensors", &sm)) != EST_OK) return st;
    for (i = 0; i < vars->count; i++) {
        const est_json *v = &vars->items[i];
        const char *name = est__lj_str(v, "name");
        const est__stm_entry *e;
        est_variable_desc vd;
        est_tensor view;
        est_dtype dt;
        est_shape sh;
        if (!name || (st = est__lj_dtype(est_json_get(v, "dtype"), "variable", &dt)) != EST_OK ||
            (st = est__lj_shape(est_json_get(v, "shape"), "variable", &sh)) != EST_OK || est_shape_numel(&sh) < 0) {
            est__stm_free(&sm);
            return est__error(EST_ERR_FORMAT, "saved_model.json: variables[%lu] is not {name, dtype, shape}", (unsigned long)i);
        }
        e = est__stm_find(&sm, name);
        if (!e) {
            n_missing++;
            if (lm + 2 < sizeof missing)
                lm += (size_t)est__snprintf(missing + lm, sizeof missing - lm, "%s%s", lm ? ", " : "", name);
            continue;
        }
        if (e->dtype != dt || !est_shape_equal(&e->shape, &sh)) {
            n_bad++;
            if (lb + 2 < sizeof bad)
                lb += (size_t)est__snprintf(bad + lb, sizeof bad - lb, "%s%s (graph %s %s, weights %s %s)", lb ? ", " : "",
                                            name, est_dtype_name(dt), est__sstr(&sh), est_dtype_name(e->dtype),
                                            est__sstr(&e->shape));
            continue;
        }
        memset(&view, 0, sizeof view);
        view.dtype = e->dtype;
        view.shape = e->shape;
        view.data = (void *)(uintptr_t)(sm.data + e->begin);
        view.nbytes = (size_t)(e->end - e->begin);
        memset(&vd, 0, sizeof vd);
        vd.name = name;
        vd.dtype = dt;
        vd.shape = sh;
        vd.init = &view;
        if ((st = est_var_store_create(m->vs, &vd, NULL)) != EST_OK) {
            est__stm_free(&sm);
            return est__error_prefix(st, "variables.safetensors: ");
        }
    }
    if (n_missing || n_bad) {
        est__stm_free(&sm);
        return est__error(EST_ERR_CHECKPOINT, "variables.safetensors does not match the graph: %d missing%s%s%s; %d with "
                          "another dtype or shape%s%s", n_missing, n_missing ? " (" : "", missing, n_missing ? ")" : "",
                          n_bad, n_bad ? ": " : "", bad);
    }
    /* checked after the variables, so a mismatch gets the detailed message above */
    if (sm.meta) {
        const char *c = est__lj_str(sm.meta, "saved_model_json_crc32c");
        if (c && (uint32_t)strtoul(c, NULL, 16) != json_crc) {
            st = est__error(EST_ERR_CORRUPT, "saved_model.json (CRC32C %08x) is not the file variables.safetensors was "
                            "written with (%s): it is corrupt or comes from another export", json_crc, c);
            est__stm_free(&sm);
            return st;
        }
    }
    est__stm_free(&sm);
    return EST_OK;
}

EST_API est_status est_saved_model_load_from_memory(const void *json, size_t json_size, const void *weights,
                                                    size_t weights_size, est_saved_model **out)
{
    est_saved_model *m;
    est_json_parse_args pa;
    const est_json *root, *nodes, *tags, *gs;
    const char *fmt;
    est_graph_desc gd;
    est_status st;
    size_t i;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_saved_model_load_from_memory: out is NULL");
    *out = NULL;
    if (!json || !json_size) return est__error(EST_ERR_INVALID_ARGUMENT, "saved_model.json: empty");
    m = EST__CALLOC(est_saved_model, 1);
    if (!m) return est__error(EST_ERR_OUT_OF_MEMORY, "saved_model: out of memory");
    memset(&pa, 0, sizeof pa);
    pa.reject_duplicate_keys = 1;
    pa.max_depth = 64;
    if ((st = est_json_parse((const char *)json, json_size, &pa, &m->doc)) != EST_OK) {
        est__error_prefix(st, "saved_model.json: ");
        goto fail;
    }
    root = est_json_root(m->doc);
    fmt = est__lj_str(root, "format");
    if (!fmt || strcmp(fmt, EST_SAVED_MODEL_FORMAT) != 0) {
        st = est__error(EST_ERR_FORMAT, "saved_model.json: format is '%s', expected '%s'", fmt ? fmt : "(none)",
                        EST_SAVED_MODEL_FORMAT);
        goto fail;
    }
    m->version = est__lj_str(root, "estimator_h_version");
    if (!m->version) m->version = "";
    gs = est_json_get(root, "global_step");
    m->global_step = gs && gs->is_int ? gs->integer : -1;
    tags = est_json_get(root, "tags");
    for (i = 0; tags && tags->type == EST_JSON_ARRAY && i < tags->count && m->n_tags < 8; i++)
        if (tags->items[i].type == EST_JSON_STRING) m->tags[m->n_tags++] = tags->items[i].str;
    if ((st = est_var_store_new(NULL, &m->vs)) != EST_OK) goto fail;
    if ((st = est__load_weights(m, est_json_get(root, "variables"), weights, weights_size,
                                est_crc32c(0, json, json_size))) != EST_OK)
        goto fail;
    memset(&gd, 0, sizeof gd);
    gd.store = m->vs;
    if ((st = est_graph_new(&gd, &m->g)) != EST_OK) goto fail;
    nodes = est_json_get(est_json_get(root, "graph"), "nodes");
    if (!nodes || nodes->type != EST_JSON_ARRAY) {
        st = est__error(EST_ERR_FORMAT, "saved_model.json: graph.nodes is missing or not an array");
        goto fail;
    }
    for (i = 0; i < nodes->count; i++)
        if ((st = est__load_node(m, &nodes->items[i], i)) != EST_OK) goto fail;
    if ((st = est__load_signatures(m, est_json_get(root, "signature_def"))) != EST_OK) goto fail;
    *out = m;
    return EST_OK;
fail:
    est_saved_model_free(m);
    return st;
}

#ifndef EST_NO_STDIO
EST_API est_status est_saved_model_load(const char *dir, est_saved_model **out)
{
    char path[4096];
    void *json = NULL, *w = NULL;
    size_t jn = 0, wn = 0;
    est_status st;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_saved_model_load: out is NULL");
    *out = NULL;
    if (!dir) return est__error(EST_ERR_INVALID_ARGUMENT, "est_saved_model_load: dir is NULL");
    est__snprintf(path, sizeof path, "%s/saved_model.json", dir);
    if (!est_path_exists(path)) return est__error(EST_ERR_NOT_FOUND, "%s: no such file (not an export directory?)", path);
    if ((st = est_read_file(path, &json, &jn)) != EST_OK) return st;
    est__snprintf(path, sizeof path, "%s/variables/variables.safetensors", dir);
    if (!est_path_exists(path)) {
        est__free(json);
        return est__error(EST_ERR_NOT_FOUND, "%s: no such file: the export has no weights", path);
    }
    if ((st = est_read_file(path, &w, &wn)) != EST_OK) {
        est__free(json);
        return st;
    }
    st = est_saved_model_load_from_memory(json, jn, w, wn, out);
    if (st != EST_OK) est__error_prefix(st, "%s: ", dir);
    est__free(json);
    est__free(w);
    return st;
}
#endif

EST_PRIVATE void est__lsig_release_plans(est_saved_model *m)
{
    int i;
    for (i = 0; i < m->n_sigs; i++) {
        est_plan_free(m->sigs[i].plan);
        m->sigs[i].plan = NULL;
    }
}

EST_API void est_saved_model_free(est_saved_model *m)
{
    int i;
    if (!m) return;
    est__lsig_release_plans(m);
    for (i = 0; i < m->n_sigs; i++) {
        est__lsig *s = &m->sigs[i];
        est__free(s->ins);
        est__free(s->outs);
        est__free(s->in_nodes);
        est__free(s->out_nodes);
        est__free(s->feeds);
        est__free(s->views);
        est__free(s->named);
    }
    est__free(m->sigs);
    est_graph_free(m->g);
    est_var_store_free(m->vs);
    est_json_doc_free(m->doc);
    est__free(m);
}

EST_API int64_t est_saved_model_global_step(const est_saved_model *m) { return m ? m->global_step : -1; }
EST_API int est_saved_model_num_tags(const est_saved_model *m) { return m ? m->n_tags : 0; }
EST_API const char *est_saved_model_tag(const est_saved_model *m, int i)
{
    return (m && i >= 0 && i < m->n_tags) ? m->tags[i] : NULL;
}
EST_API const char *est_saved_model_version(const est_saved_model *m) { return m ? m->version : ""; }
EST_API int est_saved_model_num_signatures(const est_saved_model *m) { return m ? m->n_sigs : 0; }
EST_API const est_signature_info *est_saved_model_signature(const est_saved_model *m, int i)
{
    return (m && i >= 0 && i < m->n_sigs) ? &m->sigs[i].info : NULL;
}
EST_API const est_signature_info *est_saved_model_find_signature(const est_saved_model *m, const char *key)
{
    int i;
    for (i = 0; m && key && i < m->n_sigs; i++)
        if (strcmp(m->sigs[i].info.key, key) == 0) return &m->sigs[i].info;
    return NULL;
}
EST_API est_graph *est_saved_model_graph(est_saved_model *m) { return m ? m->g : NULL; }
EST_API est_var_store *est_saved_model_store(est_saved_model *m) { return m ? m->vs : NULL; }
EST_API void est_saved_model_set_threadpool(est_saved_model *m, est_threadpool *pool)
{
    if (!m) return;
    est__lsig_release_plans(m);
    m->pool = pool;
}

EST_API void est_saved_model_set_kernels(est_saved_model *m, const est_kernels *kernels)
{
    if (!m) return;
    est__lsig_release_plans(m);
    m->kernels = kernels;
}

/* "x float32 [-1,784], y int64 [-1]" */
EST_PRIVATE const char *est__sig_inputs_str(const est__lsig *s, char *buf, size_t cap)
{
    size_t l = 0;
    int i;
    buf[0] = 0;
    for (i = 0; i < s->info.n_inputs && l + 2 < cap; i++)
        l += (size_t)est__snprintf(buf + l, cap - l, "%s%s %s %s", i ? ", " : "", s->ins[i].key,
                                   est_dtype_name(s->ins[i].dtype), est__sstr(&s->ins[i].shape));
    return buf;
}

EST_API est_status est_saved_model_run(est_saved_model *m, const char *key, const est_named_tensor *inputs,
                                       int n_inputs, const est_named_tensor **outputs, int *n_outputs)
{
    est__lsig *s = NULL;
    char expect[800];
    est_status st;
    int i, j;
    if (outputs) *outputs = NULL;
    if (n_outputs) *n_outputs = 0;
    if (!m || !outputs || !n_outputs || n_inputs < 0 || (n_inputs && !inputs))
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_saved_model_run: NULL model, inputs or outputs");
    if (!key) key = EST_SIGNATURE_KEY_DEFAULT;
    for (i = 0; i < m->n_sigs; i++)
        if (strcmp(m->sigs[i].info.key, key) == 0) s = &m->sigs[i];
    if (!s) {
        size_t l = 0;
        expect[0] = 0;
        for (i = 0; i < m->n_sigs && l + 2 < sizeof expect; i++)
            l += (size_t)est__snprintf(expect + l, sizeof expect - l, "%s'%s'", i ? ", " : "", m->sigs[i].info.key);
        return est__error(EST_ERR_NOT_FOUND, "saved_model: no signature '%s' (signatures: %s)", key, expect);
    }
    for (i = 0; i < s->info.n_inputs; i++) s->feeds[i].node = NULL;
    for (j = 0; j < n_inputs; j++) {
        const est_tensor *t = &inputs[j].tensor;
        int k = -1, d;
        for (i = 0; i < s->info.n_inputs; i++)
            if (inputs[j].name && strcmp(inputs[j].name, s->ins[i].key) == 0) k = i;
        if (k < 0)
            return est__error(EST_ERR_NOT_FOUND, "signature '%s' has no input '%s'; it expects: %s", key,
                              inputs[j].name ? inputs[j].name : "(null)", est__sig_inputs_str(s, expect, sizeof expect));
        if (s->feeds[k].node)
            return est__error(EST_ERR_INVALID_ARGUMENT, "signature '%s': input '%s' given twice", key, inputs[j].name);
        if (t->dtype != s->ins[k].dtype)
            return est__error(EST_ERR_DTYPE, "signature '%s': input '%s' is %s, expected %s; the signature expects: %s", key,
                              inputs[j].name, est_dtype_name(t->dtype), est_dtype_name(s->ins[k].dtype),
                              est__sig_inputs_str(s, expect, sizeof expect));
        d = t->shape.rank == s->ins[k].shape.rank;
        for (i = 0; d && i < t->shape.rank; i++)
            if (s->ins[k].shape.dims[i] >= 0 && s->ins[k].shape.dims[i] != t->shape.dims[i]) d = 0;
        if (!d)
            return est__error(EST_ERR_SHAPE, "signature '%s': input '%s' has shape %s, expected %s; the signature expects: %s",
                              key, inputs[j].name, est__sstr(&t->shape), est__sstr(&s->ins[k].shape),
                              est__sig_inputs_str(s, expect, sizeof expect));
        if (!t->data && est_tensor_numel(t) > 0)
            return est__error(EST_ERR_INVALID_ARGUMENT, "signature '%s': input '%s' has no data", key, inputs[j].name);
        s->feeds[k].node = s->in_nodes[k];
        s->feeds[k].value = t;
    }
    for (i = 0; i < s->info.n_inputs; i++)
        if (!s->feeds[i].node)
            return est__error(EST_ERR_INVALID_ARGUMENT, "signature '%s': input '%s' is missing; the signature expects: %s",
                              key, s->ins[i].key, est__sig_inputs_str(s, expect, sizeof expect));
    if (!s->plan) {
        est_plan_desc pd;
        memset(&pd, 0, sizeof pd);
        pd.fetches = s->out_nodes;
        pd.n_fetches = s->info.n_outputs;
        pd.pool = m->pool;
        pd.kernels = m->kernels;
        if ((st = est_plan_new(m->g, &pd, &s->plan)) != EST_OK) return est__error_prefix(st, "signature '%s': ", key);
    }
    if ((st = est_plan_run(s->plan, s->feeds, s->info.n_inputs, s->views)) != EST_OK)
        return est__error_prefix(st, "signature '%s': ", key);
    for (i = 0; i < s->info.n_outputs; i++) {
        s->named[i].name = s->outs[i].key;
        s->named[i].tensor = s->views[i];
    }
    *outputs = s->named;
    *n_outputs = s->info.n_outputs;
    return EST_OK;
}
