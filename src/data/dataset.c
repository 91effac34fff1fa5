/* >>data/dataset-impl: datasets are immutable nodes (an ops table, a spec, parameters and their
 * inputs); an iterator is a tree of per-node cursors made from them. Every cursor can be reset to
 * the start of a pass in place (repeat uses this, so repeating does not allocate), saved into and
 * restored from a little-endian state blob. Element storage is a set of growable buffers per
 * cursor (est__elbuf) that are reused from element to element. */

#if !defined(EST_NO_THREADS)
#include <pthread.h>
#endif

/* seed 0 = this fixed seed: the library is deterministic by default (TF's None means random). */
#define EST__DATA_DEFAULT_SEED 0x6A09E667F3BCC909ull
#define EST__STATE_VERSION 1u
#define EST__MSG_CAP 1024

/* ---- hashing and random numbers --------------------------------------------------------------- */

EST_PRIVATE uint64_t est__sm64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
EST_PRIVATE uint64_t est__mix(uint64_t a, uint64_t b) { return est__sm64(a ^ est__sm64(b)); }
EST_PRIVATE uint64_t est__mix_str(uint64_t h, const char *s)
{
    return est__mix(h, s ? est__hash_str(s) : 0x1234567ull);
}
/* 64 random bits for (key, counter): Philox, so a draw depends only on its index. */
EST_PRIVATE uint64_t est__rand64(uint64_t key, uint64_t counter)
{
    uint32_t k[2], c[4], o[4];
    k[0] = (uint32_t)key;
    k[1] = (uint32_t)(key >> 32);
    c[0] = (uint32_t)counter;
    c[1] = (uint32_t)(counter >> 32);
    c[2] = 0x44415441u; /* "DATA": a stream of its own */
    c[3] = 0;
    est_philox4x32(k, c, o);
    return ((uint64_t)o[1] << 32) | o[0];
}
EST_PRIVATE long est__atomic_add(long *p, long v)
{
#if !defined(EST_NO_THREADS) && (defined(__GNUC__) || defined(__clang__))
    return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL);
#else
    *p += v;
    return *p;
#endif
}

/* ---- element specs ----------------------------------------------------------------------------- */

typedef struct est__dspec {
    int n;
    char **names;
    est_dtype *dtypes;
    est_shape *shapes;
    char *label_key;
} est__dspec;

EST_PRIVATE void est__dspec_free(est__dspec *s)
{
    int i;
    if (s->names)
        for (i = 0; i < s->n; i++) est__free(s->names[i]);
    est__free(s->names);
    est__free(s->dtypes);
    est__free(s->shapes);
    est__free(s->label_key);
    memset(s, 0, sizeof *s);
}
EST_PRIVATE est_status est__dspec_alloc(est__dspec *s, int n)
{
    memset(s, 0, sizeof *s);
    s->names = EST__CALLOC(char *, n + 1);
    s->dtypes = EST__CALLOC(est_dtype, n + 1);
    s->shapes = EST__CALLOC(est_shape, n + 1);
    if (!s->names || !s->dtypes || !s->shapes) {
        est__dspec_free(s);
        return est__error(EST_ERR_OUT_OF_MEMORY, "dataset: out of memory for an element spec");
    }
    s->n = n;
    return EST_OK;
}
EST_PRIVATE est_status est__dspec_set(est__dspec *s, int i, const char *name, est_dtype dt, est_shape shape)
{
    est__free(s->names[i]);
    s->names[i] = est__strdup(name);
    if (!s->names[i]) return est__error(EST_ERR_OUT_OF_MEMORY, "dataset: out of memory");
    s->dtypes[i] = dt;
    s->shapes[i] = shape;
    return EST_OK;
}
EST_PRIVATE int est__dspec_find(const est__dspec *s, const char *name)
{
    int i;
    if (!name) return -1;
    for (i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) return i;
    return -1;
}
EST_PRIVATE est_status est__dspec_set_label(est__dspec *s, const char *key)
{
    est__free(s->label_key);
    s->label_key = NULL;
    if (!key) return EST_OK;
    s->label_key = est__strdup(key);
    return s->label_key ? EST_OK : est__error(EST_ERR_OUT_OF_MEMORY, "dataset: out of memory");
}
/* Copy components [0, src->n) of src into dst starting at component `at`. */
EST_PRIVATE est_status est__dspec_copy_into(est__dspec *dst, int at, const est__dspec *src)
{
    int i;
    est_status s;
    for (i = 0; i < src->n; i++)
        if ((s = est__dspec_set(dst, at + i, src->names[i], src->dtypes[i], src->shapes[i])) != EST_OK)
            return s;
    return EST_OK;
}
/* Check a user-given spec: names present and distinct, dtypes valid, ranks in range. */
EST_PRIVATE est_status est__check_user_spec(const char *who, const est_element_spec *sp)
{
    int i, j;
    if (!sp || sp->n <= 0 || !sp->names || !sp->dtypes || !sp->shapes)
        return est__error(EST_ERR_INVALID_ARGUMENT, "%s: the element spec needs n > 0, names, dtypes and shapes", who);
    for (i = 0; i < sp->n; i++) {
        if (!sp->names[i] || !sp->names[i][0])
            return est__error(EST_ERR_INVALID_ARGUMENT, "%s: component %d has no name", who, i);
        if (est_dtype_size(sp->dtypes[i]) == 0)
            return est__error(EST_ERR_DTYPE, "%s: component '%s' has an invalid dtype %d", who, sp->names[i],
                              (int)sp->dtypes[i]);
        if (sp->shapes[i].rank < 0 || sp->shapes[i].rank > EST_MAX_RANK)
            return est__error(EST_ERR_SHAPE, "%s: component '%s' has rank %d", who, sp->names[i], sp->shapes[i].rank);
        for (j = 0; j < i; j++)
            if (strcmp(sp->names[i], sp->names[j]) == 0)
                return est__error(EST_ERR_INVALID_ARGUMENT, "%s: component name '%s' appears twice", who, sp->names[i]);
    }
    if (sp->label_key) {
        for (j = 0; j < sp->n && strcmp(sp->names[j], sp->label_key) != 0; j++) {
        }
        if (j == sp->n)
            return est__error(EST_ERR_INVALID_ARGUMENT, "%s: label key '%s' is not a component", who, sp->label_key);
    }
    return EST_OK;
}
EST_PRIVATE est_status est__dspec_from_user(est__dspec *dst, const est_element_spec *sp)
{
    est_status s;
    int i;
    if ((s = est__dspec_alloc(dst, sp->n)) != EST_OK) return s;
    for (i = 0; i < sp->n; i++)
        if ((s = est__dspec_set(dst, i, sp->names[i], sp->dtypes[i], sp->shapes[i])) != EST_OK) return s;
    return est__dspec_set_label(dst, sp->label_key);
}
/* A concrete shape fits a spec shape: same rank, equal where the spec dim is known. */
EST_PRIVATE int est__shape_fits(const est_shape *spec, const est_shape *s)
{
    int i;
    if (spec->rank != s->rank) return 0;
    for (i = 0; i < s->rank; i++)
        if (spec->dims[i] >= 0 && spec->dims[i] != s->dims[i]) return 0;
    return 1;
}

/* ---- element buffers ----------------------------------------------------------------------------- */

/* n tensors backed by growable buffers owned here; string components keep their bytes in sb[i].
 * Every non-empty est_string of a component points into sb[i] (empty ones at est__empty_str), so
 * growing sb[i] can rebase them. status/msg let a slot hold a failed element instead. */
typedef struct est__elbuf {
    int n;
    est_tensor *t;
    void **buf;
    char **sb;
    size_t *cap, *scap, *sused;
    unsigned char *set;
    est_status status;
    char *msg;
} est__elbuf;

static const char est__empty_str[1] = {0};

EST_PRIVATE est_status est__elbuf_init(est__elbuf *e, int n)
{
    size_t per = sizeof(est_tensor) + 2 * sizeof(void *) + 3 * sizeof(size_t) + 1;
    char *blk;
    memset(e, 0, sizeof *e);
    blk = (char *)est__calloc(per * (size_t)(n > 0 ? n : 1));
    if (!blk) return est__error(EST_ERR_OUT_OF_MEMORY, "dataset: out of memory for an element buffer");
    e->n = n;
    e->t = (est_tensor *)blk;
    blk += sizeof(est_tensor) * (size_t)n;
    e->buf = (void **)blk;
    blk += sizeof(void *) * (size_t)n;
    e->sb = (char **)blk;
    blk += sizeof(char *) * (size_t)n;
    e->cap = (size_t *)blk;
    blk += sizeof(size_t) * (size_t)n;
    e->scap = (size_t *)blk;
    blk += sizeof(size_t) * (size_t)n;
    e->sused = (size_t *)blk;
    blk += sizeof(size_t) * (size_t)n;
    e->set = (unsigned char *)blk;
    return EST_OK;
}
EST_PRIVATE void est__elbuf_free(est__elbuf *e)
{
    int i;
    if (!e->t) return;
    for (i = 0; i < e->n; i++) {
        est__free(e->buf[i]);
        est__free(e->sb[i]);
    }
    est__free(e->msg);
    est__free(e->t); /* the one block */
    memset(e, 0, sizeof *e);
}
/* Component i becomes a (dtype, shape) tensor backed by buf[i]; contents unspecified (strings:
 * all empty). Grows the buffer only when it is too small. */
EST_PRIVATE est_status est__elbuf_prepare(est__elbuf *e, int i, est_dtype dt, const est_shape *shape)
{
    size_t es = est_dtype_size(dt), bytes;
    int64_t n = est_shape_numel(shape), k;
    est_tensor *t = &e->t[i];
    if (!es || n < 0) return est__error(EST_ERR_SHAPE, "dataset: cannot make a tensor of that dtype/shape");
    if ((uint64_t)n > (uint64_t)(SIZE_MAX / 4) / es)
        return est__error(EST_ERR_OUT_OF_MEMORY, "dataset: a tensor of %lld elements is too large", (long long)n);
    bytes = (size_t)n * es;
    if (!e->buf[i] || bytes > e->cap[i]) {
        size_t c = bytes < 64 ? 64 : bytes;
        void *p = est__malloc(c);
        if (!p) return est__error(EST_ERR_OUT_OF_MEMORY, "dataset: out of memory for %zu bytes", c);
        est__free(e->buf[i]);
        e->buf[i] = p;
        e->cap[i] = c;
    }
    t->dtype = dt;
    t->shape = *shape;
    t->data = e->buf[i];
    t->nbytes = bytes;
    t->flags = 0;
    if (dt == EST_DTYPE_STRING) {
        est_string *ss = (est_string *)t->data;
        for (k = 0; k < n; k++) {
            ss[k].data = est__empty_str;
            ss[k].size = 0;
        }
        e->sused[i] = 0;
    }
    return EST_OK;
}
/* Store string idx of component i (a copy of the bytes). */
EST_PRIVATE est_status est__elbuf_put_str(est__elbuf *e, int i, int64_t idx, const char *data, size_t size)
{
    est_string *ss = (est_string *)e->t[i].data;
    if (size == 0) {
        ss[idx].data = est__empty_str;
        ss[idx].size = 0;
        return EST_OK;
    }
    if (e->sused[i] + size > e->scap[i] || !e->sb[i]) {
        size_t nc = e->scap[i] ? e->scap[i] : 256, k, n = e->t[i].nbytes / sizeof(est_string);
        char *p, *old = e->sb[i];
        while (nc < e->sused[i] + size) nc *= 2;
        p = (char *)est__malloc(nc);
        if (!p) return est__error(EST_ERR_OUT_OF_MEMORY, "dataset: out of memory for %zu string bytes", nc);
        if (e->sused[i]) memcpy(p, old, e->sused[i]);
        for (k = 0; k < n; k++) /* every non-empty string points into the old block */
            if (ss[k].size) ss[k].data = p + (ss[k].data - old);
        est__free(old);
        e->sb[i] = p;
        e->scap[i] = nc;
    }
    memcpy(e->sb[i] + e->sused[i], data, size);
    ss[idx].data = e->sb[i] + e->sused[i];
    ss[idx].size = size;
    e->sused[i] += size;
    return EST_OK;
}
/* Copy src (same dtype, numel = a row of component i) into row `row` of component i. */
EST_PRIVATE est_status est__elbuf_write_row(est__elbuf *e, int i, int64_t row, const est_tensor *src)
{
    if (src->dtype == EST_DTYPE_STRING) {
        const est_string *s = (const est_string *)src->data;
        int64_t n = (int64_t)(src->nbytes / sizeof(est_string)), k;
        est_status st;
        for (k = 0; k < n; k++)
            if ((st = est__elbuf_put_str(e, i, row * n + k, s[k].data, s[k].size)) != EST_OK) return st;
        return EST_OK;
    }
    if (src->nbytes) memcpy((char *)e->t[i].data + (size_t)row * src->nbytes, src->data, src->nbytes);
    return EST_OK;
}
EST_PRIVATE est_status est__elbuf_copy(est__elbuf *e, int i, const est_tensor *src)
{
    est_status s = est__elbuf_prepare(e, i, src->dtype, &src->shape);
    return s ? s : est__elbuf_write_row(e, i, 0, src);
}
EST_PRIVATE est_status est__elbuf_copy_all(est__elbuf *e, const est_tensor *v)
{
    int i;
    est_status s;
    for (i = 0; i < e->n; i++)
        if ((s = est__elbuf_copy(e, i, &v[i])) != EST_OK) return s;
    e->status = EST_OK;
    return EST_OK;
}
EST_PRIVATE void est__elbuf_swap(est__elbuf *a, est__elbuf *b)
{
    est__elbuf t = *a;
    *a = *b;
    *b = t;
}
/* Remember an error in a slot (the thread-local message travels with it). */
EST_PRIVATE void est__elbuf_set_error(est__elbuf *e, est_status s, const char *msg)
{
    e->status = s;
    if (!e->msg) e->msg = (char *)est__malloc(EST__MSG_CAP);
    if (e->msg) est__snprintf(e->msg, EST__MSG_CAP, "%s", msg ? msg : "");
}
EST_PRIVATE est_status est__elbuf_raise(const est__elbuf *e)
{
    return est__error(e->status, "%s", e->msg ? e->msg : est_status_string(e->status));
}

/* ---- state blobs --------------------------------------------------------------------------------- */

typedef struct est__wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} est__wbuf;
typedef struct est__rbuf {
    const unsigned char *p;
    size_t len, pos;
} est__rbuf;

EST_PRIVATE void est__w_bytes(est__wbuf *w, const void *d, size_t n)
{
    if (w->oom || !n) return;
    if (w->len + n > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        unsigned char *p;
        while (nc < w->len + n) nc *= 2;
        p = (unsigned char *)est__realloc(w->p, nc);
        if (!p) {
            w->oom = 1;
            return;
        }
        w->p = p;
        w->cap = nc;
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}
EST_PRIVATE void est__w_u32(est__wbuf *w, uint32_t v)
{
    unsigned char b[4];
    int i;
    for (i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    est__w_bytes(w, b, 4);
}
EST_PRIVATE void est__w_u64(est__wbuf *w, uint64_t v)
{
    unsigned char b[8];
    int i;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    est__w_bytes(w, b, 8);
}
EST_PRIVATE void est__w_i64(est__wbuf *w, int64_t v) { est__w_u64(w, (uint64_t)v); }

EST_PRIVATE est_status est__r_need(est__rbuf *r, size_t n)
{
    if (r->len - r->pos < n)
        return est__error(EST_ERR_TRUNCATED, "est_iterator_restore: state truncated at byte %zu (%zu more needed, %zu left)",
                          r->pos, n, r->len - r->pos);
    return EST_OK;
}
EST_PRIVATE est_status est__r_u32(est__rbuf *r, uint32_t *v)
{
    int i;
    est_status s = est__r_need(r, 4);
    if (s) return s;
    *v = 0;
    for (i = 0; i < 4; i++) *v |= (uint32_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += 4;
    return EST_OK;
}
EST_PRIVATE est_status est__r_u64(est__rbuf *r, uint64_t *v)
{
    int i;
    est_status s = est__r_need(r, 8);
    if (s) return s;
    *v = 0;
    for (i = 0; i < 8; i++) *v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    return EST_OK;
}
EST_PRIVATE est_status est__r_i64(est__rbuf *r, int64_t *v)
{
    uint64_t u = 0;
    est_status s = est__r_u64(r, &u);
    *v = (int64_t)u;
    return s;
}
/* An int64 in [lo, hi]: anything else is damage. */
EST_PRIVATE est_status est__r_range(est__rbuf *r, const char *what, int64_t lo, int64_t hi, int64_t *v)
{
    est_status s = est__r_i64(r, v);
    if (s) return s;
    if (*v < lo || *v > hi)
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: %s = %lld at byte %zu is outside [%lld, %lld]", what,
                          (long long)*v, r->pos - 8, (long long)lo, (long long)hi);
    return EST_OK;
}

/* A tensor: dtype, rank, dims, then the raw bytes (strings: u64 size + bytes each). */
EST_PRIVATE void est__w_tensor(est__wbuf *w, const est_tensor *t)
{
    int i;
    est__w_u32(w, (uint32_t)t->dtype);
    est__w_u32(w, (uint32_t)t->shape.rank);
    for (i = 0; i < t->shape.rank; i++) est__w_i64(w, t->shape.dims[i]);
    if (t->dtype == EST_DTYPE_STRING) {
        const est_string *s = (const est_string *)t->data;
        size_t k, n = t->nbytes / sizeof(est_string);
        for (k = 0; k < n; k++) {
            est__w_u64(w, (uint64_t)s[k].size);
            est__w_bytes(w, s[k].data, s[k].size);
        }
    } else {
        est__w_bytes(w, t->data, t->nbytes);
    }
}
EST_PRIVATE est_status est__r_tensor(est__rbuf *r, est__elbuf *e, int i, est_dtype want)
{
    uint32_t dt, rank, k;
    est_shape sh;
    int64_t n = 1, j;
    est_status s;
    size_t es;
    if ((s = est__r_u32(r, &dt)) || (s = est__r_u32(r, &rank))) return s;
    if (dt != (uint32_t)want || rank > EST_MAX_RANK)
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: tensor at byte %zu has dtype %u rank %u, expected %s",
                          r->pos - 8, dt, rank, est_dtype_name(want));
    memset(&sh, 0, sizeof sh);
    sh.rank = (int)rank;
    for (k = 0; k < rank; k++) {
        if ((s = est__r_range(r, "a dimension", 0, (int64_t)1 << 40, &sh.dims[k])) != EST_OK) return s;
        n *= sh.dims[k];
        if (n > ((int64_t)1 << 40))
            return est__error(EST_ERR_CORRUPT, "est_iterator_restore: tensor at byte %zu is too large", r->pos);
    }
    es = est_dtype_size(want);
    /* every element takes at least one byte (strings: 8), so the count is bounded by what is left */
    if ((uint64_t)n > (uint64_t)(r->len - r->pos) / (want == EST_DTYPE_STRING ? 8 : es))
        return est__r_need(r, (size_t)n * (want == EST_DTYPE_STRING ? 8 : es));
    if ((s = est__elbuf_prepare(e, i, (est_dtype)dt, &sh)) != EST_OK) return s;
    if (want == EST_DTYPE_STRING) {
        for (j = 0; j < n; j++) {
            uint64_t len;
            if ((s = est__r_u64(r, &len)) != EST_OK) return s;
            if (len > r->len - r->pos) return est__r_need(r, (size_t)len);
            if ((s = est__elbuf_put_str(e, i, j, (const char *)r->p + r->pos, (size_t)len)) != EST_OK) return s;
            r->pos += (size_t)len;
        }
    } else {
        if ((s = est__r_need(r, e->t[i].nbytes)) != EST_OK) return s;
        if (e->t[i].nbytes) memcpy(e->t[i].data, r->p + r->pos, e->t[i].nbytes);
        r->pos += e->t[i].nbytes;
    }
    return EST_OK;
}
/* A slot: its status, then the message (failed) or the n tensors. */
EST_PRIVATE void est__w_slot(est__wbuf *w, const est__elbuf *e, int n, const est_tensor *v)
{
    int i;
    est__w_u32(w, (uint32_t)(int32_t)e->status);
    if (e->status != EST_OK) {
        const char *m = e->msg ? e->msg : "";
        est__w_u32(w, (uint32_t)strlen(m));
        est__w_bytes(w, m, strlen(m));
        return;
    }
    for (i = 0; i < n; i++) est__w_tensor(w, &v[i]);
}
EST_PRIVATE est_status est__r_slot(est__rbuf *r, est__elbuf *e, const est__dspec *spec)
{
    uint32_t st, len;
    int i;
    est_status s;
    if ((s = est__r_u32(r, &st)) != EST_OK) return s;
    if ((int32_t)st != 0) {
        char msg[EST__MSG_CAP];
        if ((int32_t)st > 0 || (int32_t)st < -1000)
            return est__error(EST_ERR_CORRUPT, "est_iterator_restore: bad element status %d at byte %zu", (int)(int32_t)st,
                              r->pos - 4);
        if ((s = est__r_u32(r, &len)) != EST_OK) return s;
        if ((s = est__r_need(r, len)) != EST_OK) return s;
        est__snprintf(msg, sizeof msg, "%.*s", (int)EST__MIN(len, (uint32_t)(EST__MSG_CAP - 1)), (const char *)r->p + r->pos);
        r->pos += len;
        est__elbuf_set_error(e, (est_status)(int32_t)st, msg);
        return EST_OK;
    }
    for (i = 0; i < spec->n; i++)
        if ((s = est__r_tensor(r, e, i, spec->dtypes[i])) != EST_OK) return s;
    e->status = EST_OK;
    return EST_OK;
}

/* ---- datasets and iterators ----------------------------------------------------------------------- */

typedef struct est__it est__it;

/* Internal extension point: the data modules after this file in the amalgamation (data/tfrecord,
 * data/example, data/sources) define node kinds of their own with an est__it_ops table,
 * est__ds_new + est__ds_finish, est__elbuf buffers and the est__w_* / est__r_* state helpers, and
 * get iterators, save/restore, fingerprints and every transformation for free. The kind number is
 * written into saved states and the fingerprint, so it must be unique and never reused: 1-20 are
 * this file's (data/example's parse map reuses map's 9: it has map's state), 40-59 are
 * data/sources', 100-119 data/tfrecord's and data/example's.
 *
 * One node kind. init makes the cursor's children and buffers and leaves it at the start; reset
 * rewinds it (and its children) to the start of a pass for it->mix; next returns the element's
 * component tensors (views valid until the next call); save/restore write and read the position
 * after the common kind tag; fini releases what init made beyond the common fields. */
typedef struct est__it_ops {
    int kind;
    est_status (*init)(est__it *it);
    est_status (*reset)(est__it *it);
    est_status (*next)(est__it *it, const est_tensor **v);
    est_status (*save)(est__it *it, est__wbuf *w);
    est_status (*restore)(est__it *it, est__rbuf *r);
    void (*fini)(est__it *it);
    void (*ds_fini)(est_dataset *ds);
} est__it_ops;

struct est_dataset {
    long refs;
    const est__it_ops *ops;
    const char *op; /* the Python name, for messages: "batch" */
    est__dspec spec;
    est_dataset **ins;
    int n_ins;
    int64_t p[4]; /* integer parameters; the meaning is the kind's (see its constructor) */
    uint64_t seed;
    est_map_fn map_fn;
    est_predicate_fn pred_fn;
    est_generator_fn gen_fn;
    est_generator_close_fn gen_close;
    est_interleave_fn il_fn;
    void *user;
    est_tensor **tensors; /* owned copies: slices' data, padded_batch's padding values */
    int n_tensors;
    est_shape *pshapes;
    uint64_t fp;
    int64_t card;
    int no_save; /* a generator below: iterators cannot be saved */
    int64_t threads; /* interleave's num_parallel_calls (not in the fingerprint) */
    void *ext;   /* kind data that changes (cache contents) */
};

typedef struct est__itctx {
    long ignored;
} est__itctx;

struct est__it {
    est_dataset *ds; /* borrowed: the est_iterator holds the reference */
    est__itctx *ctx;
    uint64_t mix; /* which pass this is (repeat epochs, interleave elements): seeds derive from it */
    est__it *child;
    est__it **kids;
    int n_kids;
    int64_t a, b, c, d; /* counters, by kind */
    int done;
    uint64_t key;
    int64_t scalar;
    est__elbuf out;
    est__elbuf *slots;
    int64_t n_slots, cap_slots; /* slots made (each initialised), room in the array */
    est_tensor *views;
    void *ext;
};

struct est_iterator {
    est_dataset *ds;
    est__it *root;
    est__itctx ctx;
    int64_t n_next;
    unsigned char *blob; /* the last saved state, valid while n_next == blob_at */
    size_t blob_size;
    int64_t blob_at;
};

EST_PRIVATE est_status est__it_new(est_dataset *ds, est__itctx *ctx, uint64_t mix, est__it **out);
EST_PRIVATE void est__it_free(est__it *it);

EST_PRIVATE est_status est__it_reset(est__it *it, uint64_t mix)
{
    it->mix = mix;
    return it->ds->ops->reset(it);
}
EST_PRIVATE est_status est__it_next(est__it *it, const est_tensor **v) { return it->ds->ops->next(it, v); }
EST_PRIVATE est_status est__it_save(est__it *it, est__wbuf *w)
{
    est__w_u32(w, (uint32_t)it->ds->ops->kind);
    return it->ds->ops->save(it, w);
}
EST_PRIVATE est_status est__it_restore(est__it *it, est__rbuf *r)
{
    uint32_t k;
    est_status s = est__r_u32(r, &k);
    if (s) return s;
    if (k != (uint32_t)it->ds->ops->kind)
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: byte %zu holds the state of node kind %u where %s (%d) was expected",
                          r->pos - 4, k, it->ds->op, it->ds->ops->kind);
    return it->ds->ops->restore(it, r);
}

EST_PRIVATE est_status est__it_new(est_dataset *ds, est__itctx *ctx, uint64_t mix, est__it **out)
{
    est__it *it = EST__CALLOC(est__it, 1);
    est_status s;
    *out = NULL;
    if (!it) return est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory for an iterator", ds->op);
    it->ds = ds;
    it->ctx = ctx;
    it->mix = mix;
    if ((s = ds->ops->init(it)) != EST_OK) {
        est__it_free(it);
        return s;
    }
    *out = it;
    return EST_OK;
}
EST_PRIVATE void est__it_free(est__it *it)
{
    int64_t i;
    if (!it) return;
    if (it->ds->ops->fini) it->ds->ops->fini(it);
    est__it_free(it->child);
    for (i = 0; i < it->n_kids; i++) est__it_free(it->kids[i]);
    est__free(it->kids);
    est__elbuf_free(&it->out);
    for (i = 0; i < it->n_slots; i++) est__elbuf_free(&it->slots[i]);
    est__free(it->slots);
    est__free(it->views);
    est__free(it);
}
/* The common case: one input, made with the same mix. */
EST_PRIVATE est_status est__init_child(est__it *it)
{
    return est__it_new(it->ds->ins[0], it->ctx, it->mix, &it->child);
}
EST_PRIVATE est_status est__init_out(est__it *it)
{
    return est__elbuf_init(&it->out, it->ds->spec.n);
}
EST_PRIVATE est_status est__init_views(est__it *it, int n)
{
    it->views = EST__CALLOC(est_tensor, n > 0 ? n : 1);
    return it->views ? EST_OK : est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory", it->ds->op);
}
/* Rewind the counters and the single input. */
EST_PRIVATE est_status est__reset_simple(est__it *it)
{
    it->a = it->b = it->c = it->d = 0;
    it->done = 0;
    return it->child ? est__it_reset(it->child, it->mix) : EST_OK;
}
/* Save/restore of nodes whose state is the counters a..d, done and their input. */
EST_PRIVATE est_status est__save_simple(est__it *it, est__wbuf *w)
{
    est__w_i64(w, it->a);
    est__w_i64(w, it->b);
    est__w_i64(w, it->c);
    est__w_i64(w, it->d);
    est__w_u32(w, (uint32_t)it->done);
    return it->child ? est__it_save(it->child, w) : EST_OK;
}
EST_PRIVATE est_status est__restore_simple(est__it *it, est__rbuf *r)
{
    est_status s;
    uint32_t done;
    if ((s = est__r_range(r, "a counter", 0, INT64_MAX, &it->a)) || (s = est__r_range(r, "a counter", 0, INT64_MAX, &it->b)) ||
        (s = est__r_range(r, "a counter", 0, INT64_MAX, &it->c)) || (s = est__r_range(r, "a counter", 0, INT64_MAX, &it->d)) ||
        (s = est__r_u32(r, &done)))
        return s;
    if (done > 1) return est__error(EST_ERR_CORRUPT, "est_iterator_restore: bad flag at byte %zu", r->pos - 4);
    it->done = (int)done;
    return it->child ? est__it_restore(it->child, r) : EST_OK;
}

EST_PRIVATE est_element est__el(const est__dspec *spec, const est_tensor *v)
{
    est_element e;
    e.n = spec->n;
    e.names = (const char *const *)spec->names;
    e.values = v;
    return e;
}

/* A node: takes over the n_in input references (freed on failure too). Fill spec and parameters,
 * then est__ds_finish. */
EST_PRIVATE est_status est__ds_new(const est__it_ops *ops, const char *op, int n_in, est_dataset *const *ins,
                                   est_dataset **out)
{
    est_dataset *d = EST__CALLOC(est_dataset, 1);
    int i;
    *out = NULL;
    if (d) d->ins = EST__CALLOC(est_dataset *, n_in > 0 ? n_in : 1);
    if (!d || !d->ins) {
        est__free(d);
        for (i = 0; i < n_in; i++) est_dataset_free(ins[i]);
        return est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory", op);
    }
    d->refs = 1;
    d->ops = ops;
    d->op = op;
    d->n_ins = n_in;
    d->card = EST_CARDINALITY_UNKNOWN;
    for (i = 0; i < n_in; i++) {
        d->ins[i] = ins[i];
        if (ins[i]->no_save) d->no_save = 1;
    }
    *out = d;
    return EST_OK;
}
/* Fingerprint (kind, parameters, spec, inputs) and hand the node out; frees it on failure. */
EST_PRIVATE est_status est__ds_finish(est_dataset *d, est_status s, est_dataset **out)
{
    uint64_t h;
    int i, j;
    if (s != EST_OK) {
        est_dataset_free(d);
        return s;
    }
    h = est__mix(0x45535449ull, (uint64_t)d->ops->kind);
    for (i = 0; i < 4; i++) h = est__mix(h, (uint64_t)d->p[i]);
    h = est__mix(h, d->seed);
    h = est__mix(h, (uint64_t)d->spec.n);
    for (i = 0; i < d->spec.n; i++) {
        h = est__mix_str(h, d->spec.names[i]);
        h = est__mix(h, (uint64_t)d->spec.dtypes[i]);
        h = est__mix(h, (uint64_t)d->spec.shapes[i].rank);
        for (j = 0; j < d->spec.shapes[i].rank; j++) h = est__mix(h, (uint64_t)d->spec.shapes[i].dims[j]);
    }
    for (i = 0; i < d->n_ins; i++) h = est__mix(h, d->ins[i]->fp);
    d->fp = h;
    *out = d;
    return EST_OK;
}
/* Validate the input of a transformation; consumes ds on failure. */
EST_PRIVATE est_status est__check_in(const char *op, est_dataset *ds, est_dataset **out)
{
    if (!out) {
        est_dataset_free(ds);
        return est__error(EST_ERR_INVALID_ARGUMENT, "%s: out is NULL", op);
    }
    *out = NULL;
    if (!ds) return est__error(EST_ERR_INVALID_ARGUMENT, "%s: the input dataset is NULL", op);
    return EST_OK;
}
EST_PRIVATE est_status est__fail_in(est_dataset *ds, est_status s)
{
    est_dataset_free(ds);
    return s;
}
/* Same spec as the input (names, dtypes, shapes and label key). */
EST_PRIVATE est_status est__spec_like(est_dataset *d, const est_dataset *in)
{
    est_status s = est__dspec_alloc(&d->spec, in->spec.n);
    if (!s) s = est__dspec_copy_into(&d->spec, 0, &in->spec);
    if (!s) s = est__dspec_set_label(&d->spec, in->spec.label_key);
    return s;
}

EST_API est_dataset *est_dataset_ref(est_dataset *ds)
{
    if (ds) est__atomic_add(&ds->refs, 1);
    return ds;
}
EST_API void est_dataset_free(est_dataset *ds)
{
    int i;
    if (!ds || est__atomic_add(&ds->refs, -1) > 0) return;
    if (ds->ops->ds_fini) ds->ops->ds_fini(ds);
    for (i = 0; i < ds->n_ins; i++) est_dataset_free(ds->ins[i]);
    est__free(ds->ins);
    for (i = 0; i < ds->n_tensors; i++) est_tensor_free(ds->tensors[i]);
    est__free(ds->tensors);
    est__free(ds->pshapes);
    est__dspec_free(&ds->spec);
    est__free(ds);
}
EST_API est_status est_dataset_element_spec(const est_dataset *ds, est_element_spec *spec)
{
    if (!ds || !spec) return est__error(EST_ERR_INVALID_ARGUMENT, "est_dataset_element_spec: NULL argument");
    spec->n = ds->spec.n;
    spec->names = (const char *const *)ds->spec.names;
    spec->dtypes = ds->spec.dtypes;
    spec->shapes = ds->spec.shapes;
    spec->label_key = ds->spec.label_key;
    return EST_OK;
}
EST_API est_status est_dataset_set_label_key(est_dataset *ds, const char *key)
{
    if (!ds) return est__error(EST_ERR_INVALID_ARGUMENT, "est_dataset_set_label_key: dataset is NULL");
    if (key && est__dspec_find(&ds->spec, key) < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_dataset_set_label_key: '%s' is not a component of the %s dataset's elements",
                          key, ds->op);
    return est__dspec_set_label(&ds->spec, key);
}
EST_API int est_element_find(const est_element *e, const char *name)
{
    int i;
    if (!e || !name) return -1;
    for (i = 0; i < e->n; i++)
        if (strcmp(e->names[i], name) == 0) return i;
    return -1;
}
EST_API int est_element_spec_find(const est_element_spec *spec, const char *name)
{
    int i;
    if (!spec || !name) return -1;
    for (i = 0; i < spec->n; i++)
        if (strcmp(spec->names[i], name) == 0) return i;
    return -1;
}
EST_API int64_t est_dataset_cardinality(const est_dataset *ds) { return ds ? ds->card : EST_CARDINALITY_UNKNOWN; }

/* ---- iterators (public) ----------------------------------------------------------------------------- */

EST_API est_status est_dataset_make_iterator(est_dataset *ds, est_iterator **out)
{
    est_iterator *it;
    est_status s;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_dataset_make_iterator: out is NULL");
    *out = NULL;
    if (!ds) return est__error(EST_ERR_INVALID_ARGUMENT, "est_dataset_make_iterator: dataset is NULL");
    it = EST__CALLOC(est_iterator, 1);
    if (!it) return est__error(EST_ERR_OUT_OF_MEMORY, "est_dataset_make_iterator: out of memory");
    it->ds = est_dataset_ref(ds);
    it->blob_at = -1;
    if ((s = est__it_new(ds, &it->ctx, 0, &it->root)) != EST_OK) {
        est_iterator_free(it);
        return s;
    }
    *out = it;
    return EST_OK;
}
EST_API est_status est_iterator_next(est_iterator *it, est_element *out)
{
    const est_tensor *v = NULL;
    est_status s;
    if (!it || !out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_next: NULL argument");
    it->n_next++;
    s = est__it_next(it->root, &v);
    if (s != EST_OK) {
        memset(out, 0, sizeof *out);
        if (s == EST_ERR_OUT_OF_RANGE) est__error(s, "end of input (%s dataset)", it->ds->op);
        return s;
    }
    *out = est__el(&it->ds->spec, v);
    return EST_OK;
}
EST_API est_status est_iterator_save(const est_iterator *cit, void *buf, size_t capacity, size_t *size)
{
    est_iterator *it = (est_iterator *)cit; /* the cache of the last blob is not part of the state */
    if (!it || !size) return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_save: NULL argument");
    if (it->ds->no_save)
        return est__error(EST_ERR_UNIMPLEMENTED, "est_iterator_save: the pipeline reads from a generator, whose state cannot be saved");
    if (!it->blob || it->blob_at != it->n_next) {
        /* A prefetch thread may have moved on since, but any state taken at the same consumer position
         * produces the same elements, so the two calls of the size query may share one blob. */
        est__wbuf w;
        est_status s;
        uint32_t crc;
        memset(&w, 0, sizeof w);
        est__w_bytes(&w, "ESTI", 4);
        est__w_u32(&w, EST__STATE_VERSION);
        est__w_u64(&w, it->ds->fp);
        est__w_u64(&w, 0); /* payload size, patched below */
        est__w_u32(&w, 0); /* payload crc32c */
        est__w_i64(&w, (int64_t)it->ctx.ignored);
        s = est__it_save(it->root, &w);
        if (s == EST_OK && w.oom) s = est__error(EST_ERR_OUT_OF_MEMORY, "est_iterator_save: out of memory");
        if (s != EST_OK) {
            est__free(w.p);
            return s;
        }
        {
            uint64_t n = (uint64_t)(w.len - 28);
            int i;
            for (i = 0; i < 8; i++) w.p[16 + i] = (unsigned char)(n >> (8 * i));
            crc = est_crc32c(0, w.p + 28, w.len - 28);
            for (i = 0; i < 4; i++) w.p[24 + i] = (unsigned char)(crc >> (8 * i));
        }
        est__free(it->blob);
        it->blob = w.p;
        it->blob_size = w.len;
        it->blob_at = it->n_next;
    }
    *size = it->blob_size;
    if (!buf) return EST_OK;
    if (capacity < it->blob_size)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_save: the buffer holds %zu bytes, the state needs %zu", capacity,
                          it->blob_size);
    memcpy(buf, it->blob, it->blob_size);
    return EST_OK;
}
EST_API est_status est_iterator_restore(est_iterator *it, const void *buf, size_t size)
{
    est__rbuf r;
    uint32_t ver, crc;
    uint64_t fp, n;
    int64_t ignored;
    est__it *fresh = NULL;
    est_status s;
    if (!it || !buf) return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_restore: NULL argument");
    r.p = (const unsigned char *)buf;
    r.len = size;
    r.pos = 0;
    if (size < 4 || memcmp(buf, "ESTI", 4) != 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_restore: not an iterator state (no ESTI magic)");
    r.pos = 4;
    if ((s = est__r_u32(&r, &ver)) != EST_OK) return s;
    if (ver != EST__STATE_VERSION)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_restore: state version %u, this library reads %u", ver,
                          EST__STATE_VERSION);
    if ((s = est__r_u64(&r, &fp)) || (s = est__r_u64(&r, &n)) || (s = est__r_u32(&r, &crc))) return s;
    if (fp != it->ds->fp)
        return est__error(EST_ERR_INVALID_ARGUMENT,
                          "est_iterator_restore: the state was saved from another pipeline (fingerprint %016llx, this %s pipeline is %016llx)",
                          (unsigned long long)fp, it->ds->op, (unsigned long long)it->ds->fp);
    if (n != (uint64_t)(size - 28))
        return est__error(n > (uint64_t)(size - 28) ? EST_ERR_TRUNCATED : EST_ERR_CORRUPT,
                          "est_iterator_restore: the state says %llu payload bytes, %zu are given", (unsigned long long)n, size - 28);
    if (est_crc32c(0, r.p + 28, size - 28) != crc)
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: the state's checksum does not match (damaged blob)");
    if (it->ds->no_save)
        return est__error(EST_ERR_UNIMPLEMENTED, "est_iterator_restore: the pipeline reads from a generator");
    if ((s = est__r_range(&r, "ignored errors", 0, INT64_MAX, &ignored)) != EST_OK) return s;
    if ((s = est__it_new(it->ds, &it->ctx, 0, &fresh)) != EST_OK) return s;
    if ((s = est__it_restore(fresh, &r)) == EST_OK && r.pos != r.len)
        s = est__error(EST_ERR_CORRUPT, "est_iterator_restore: %zu bytes left over after the state", r.len - r.pos);
    if (s != EST_OK) {
        est__it_free(fresh);
        return s;
    }
    est__it_free(it->root);
    it->root = fresh;
    it->ctx.ignored = (long)ignored;
    it->n_next++; /* the cached blob no longer describes the position */
    return EST_OK;
}
EST_API int64_t est_iterator_ignored_errors(const est_iterator *it) { return it ? (int64_t)it->ctx.ignored : 0; }
EST_API void est_iterator_free(est_iterator *it)
{
    if (!it) return;
    est__it_free(it->root);
    est_dataset_free(it->ds);
    est__free(it->blob);
    est__free(it);
}

/* ---- element builders ------------------------------------------------------------------------------- */

struct est_element_builder {
    const est__dspec *spec;
    est__elbuf *eb;
    const char *who;
};

EST_PRIVATE void est__builder_init(est_element_builder *b, const est__dspec *spec, est__elbuf *eb, const char *who)
{
    b->spec = spec;
    b->eb = eb;
    b->who = who;
    memset(eb->set, 0, (size_t)eb->n);
}
/* After a callback: every component must have been written. */
EST_PRIVATE est_status est__builder_check(const est_element_builder *b)
{
    int i;
    for (i = 0; i < b->spec->n; i++)
        if (!b->eb->set[i])
            return est__error(EST_ERR_INVALID_ARGUMENT, "%s: the function did not set component '%s'", b->who, b->spec->names[i]);
    return EST_OK;
}
EST_API int est_element_builder_size(const est_element_builder *b) { return b ? b->spec->n : 0; }
EST_API int est_element_builder_find(const est_element_builder *b, const char *name)
{
    return b ? est__dspec_find(b->spec, name) : -1;
}
EST_PRIVATE est_status est__builder_check_arg(est_element_builder *b, int i, est_dtype dt, const est_shape *shape)
{
    char s1[96], s2[96];
    int k;
    if (i < 0 || i >= b->spec->n)
        return est__error(EST_ERR_INVALID_ARGUMENT, "%s: component index %d is outside [0, %d)", b->who, i, b->spec->n);
    if (dt != b->spec->dtypes[i])
        return est__error(EST_ERR_DTYPE, "%s: component '%s' is %s, the value is %s", b->who, b->spec->names[i],
                          est_dtype_name(b->spec->dtypes[i]), est_dtype_name(dt));
    for (k = 0; k < shape->rank; k++)
        if (shape->dims[k] < 0) break;
    if (shape->rank < 0 || shape->rank > EST_MAX_RANK || k < shape->rank || !est__shape_fits(&b->spec->shapes[i], shape))
        return est__error(EST_ERR_SHAPE, "%s: component '%s' has spec shape %s, the value has shape %s", b->who,
                          b->spec->names[i], est_shape_str(&b->spec->shapes[i], s1, sizeof s1),
                          est_shape_str(shape, s2, sizeof s2));
    return EST_OK;
}
EST_API est_status est_element_builder_alloc(est_element_builder *b, int i, est_shape shape, est_tensor **t)
{
    est_status s;
    if (!b || !t) return est__error(EST_ERR_INVALID_ARGUMENT, "est_element_builder_alloc: NULL argument");
    *t = NULL;
    if (i >= 0 && i < b->spec->n && b->spec->dtypes[i] == EST_DTYPE_STRING)
        return est__error(EST_ERR_DTYPE, "%s: est_element_builder_alloc is not for the string component '%s' (use _set)", b->who,
                          b->spec->names[i]);
    if ((s = est__builder_check_arg(b, i, i >= 0 && i < b->spec->n ? b->spec->dtypes[i] : EST_DTYPE_F32, &shape)) != EST_OK)
        return s;
    if ((s = est__elbuf_prepare(b->eb, i, b->spec->dtypes[i], &shape)) != EST_OK) return s;
    b->eb->set[i] = 1;
    *t = &b->eb->t[i];
    return EST_OK;
}
EST_API est_status est_element_builder_set(est_element_builder *b, int i, const est_tensor *value)
{
    est_status s;
    if (!b || !value) return est__error(EST_ERR_INVALID_ARGUMENT, "est_element_builder_set: NULL argument");
    if ((s = est__builder_check_arg(b, i, value->dtype, &value->shape)) != EST_OK) return s;
    if ((s = est__elbuf_copy(b->eb, i, value)) != EST_OK) return s;
    b->eb->set[i] = 1;
    return EST_OK;
}

/* ---- from_tensor_slices ------------------------------------------------------------------------------ */

/* p[0] = rows, p[1] = the row the pass starts at (numpy_input_fn's seeded rotation). a = position.
 * Elements are views of the dataset's own copy: no copying, no allocation. */
EST_PRIVATE est_status est__slices_init(est__it *it) { return est__init_views(it, it->ds->spec.n); }
EST_PRIVATE est_status est__slices_next(est__it *it, const est_tensor **v)
{
    est_dataset *ds = it->ds;
    int64_t row;
    int i;
    if (it->a >= ds->p[0]) return EST_ERR_OUT_OF_RANGE;
    row = (it->a + ds->p[1]) % ds->p[0];
    it->a++;
    for (i = 0; i < ds->spec.n; i++) {
        const est_tensor *src = ds->tensors[i];
        size_t rb = src->nbytes / (size_t)ds->p[0];
        est_tensor *t = &it->views[i];
        t->dtype = src->dtype;
        t->shape = ds->spec.shapes[i];
        t->data = (char *)src->data + (size_t)row * rb;
        t->nbytes = rb;
        t->flags = 0;
    }
    *v = it->views;
    return EST_OK;
}
EST_PRIVATE est_status est__slices_restore(est__it *it, est__rbuf *r)
{
    est_status s = est__restore_simple(it, r);
    if (!s && it->a > it->ds->p[0])
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: from_tensor_slices position %lld beyond %lld rows",
                          (long long)it->a, (long long)it->ds->p[0]);
    return s;
}
static const est__it_ops est__ops_slices = {1, est__slices_init, est__reset_simple, est__slices_next,
                                            est__save_simple, est__slices_restore, NULL, NULL};

EST_PRIVATE est_status est__slices(const char *op, const char *const *names, const est_tensor *tensors, int n, int64_t start,
                                   est_dataset **out)
{
    est_dataset *d;
    est_status s;
    int i, j;
    char b1[96], b2[96];
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "%s: out is NULL", op);
    *out = NULL;
    if (n <= 0 || !names || !tensors)
        return est__error(EST_ERR_INVALID_ARGUMENT, "%s: needs n > 0 named tensors (n = %d)", op, n);
    for (i = 0; i < n; i++) {
        if (!names[i] || !names[i][0]) return est__error(EST_ERR_INVALID_ARGUMENT, "%s: tensor %d has no name", op, i);
        for (j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return est__error(EST_ERR_INVALID_ARGUMENT, "%s: the name '%s' appears twice", op, names[i]);
        if (est_dtype_size(tensors[i].dtype) == 0 || !tensors[i].data)
            return est__error(EST_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has an invalid dtype or no data", op, names[i]);
        if (tensors[i].shape.rank < 1 || tensors[i].shape.rank > EST_MAX_RANK || est_shape_numel(&tensors[i].shape) < 0)
            return est__error(EST_ERR_SHAPE, "%s: tensor '%s' has shape %s; slicing needs rank >= 1 and known dims", op, names[i],
                              est_shape_str(&tensors[i].shape, b1, sizeof b1));
        if (tensors[i].shape.dims[0] != tensors[0].shape.dims[0])
            return est__error(EST_ERR_SHAPE, "%s: all tensors need the same leading size: '%s' has shape %s, '%s' has shape %s", op,
                              names[0], est_shape_str(&tensors[0].shape, b1, sizeof b1), names[i],
                              est_shape_str(&tensors[i].shape, b2, sizeof b2));
    }
    if ((s = est__ds_new(&est__ops_slices, op, 0, NULL, &d)) != EST_OK) return s;
    d->p[0] = tensors[0].shape.dims[0];
    d->p[1] = d->p[0] > 0 ? ((start % d->p[0]) + d->p[0]) % d->p[0] : 0;
    d->card = d->p[0];
    s = est__dspec_alloc(&d->spec, n);
    if (!s) {
        d->tensors = EST__CALLOC(est_tensor *, n);
        if (!d->tensors) s = est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory", op);
    }
    for (i = 0; i < n && !s; i++) {
        est_shape row = est_shape_make(tensors[i].shape.rank - 1, tensors[i].shape.dims + 1);
        if ((s = est_tensor_copy(&tensors[i], &d->tensors[i])) != EST_OK) break;
        d->n_tensors = i + 1;
        s = est__dspec_set(&d->spec, i, names[i], tensors[i].dtype, row);
    }
    return est__ds_finish(d, s, out);
}
EST_API est_status est_dataset_from_tensor_slices(const char *const *names, const est_tensor *tensors, int n, est_dataset **out)
{
    return est__slices("from_tensor_slices", names, tensors, n, 0, out);
}

/* ---- range ------------------------------------------------------------------------------------------ */

/* p[0..2] = start, stop, step; a = elements produced. */
EST_PRIVATE est_status est__range_init(est__it *it) { return est__init_views(it, 1); }
EST_PRIVATE est_status est__range_next(est__it *it, const est_tensor **v)
{
    const int64_t *p = it->ds->p;
    if (it->a >= it->ds->card) return EST_ERR_OUT_OF_RANGE;
    it->scalar = p[0] + it->a * p[2];
    it->a++;
    it->views[0].dtype = EST_DTYPE_I64;
    it->views[0].shape = est_shape_scalar();
    it->views[0].data = &it->scalar;
    it->views[0].nbytes = sizeof(int64_t);
    *v = it->views;
    return EST_OK;
}
static const est__it_ops est__ops_range = {2, est__range_init, est__reset_simple, est__range_next,
                                           est__save_simple, est__restore_simple, NULL, NULL};

EST_API est_status est_dataset_range(int64_t start, int64_t stop, int64_t step, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    double cnt;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "range: out is NULL");
    *out = NULL;
    if (step == 0) return est__error(EST_ERR_INVALID_ARGUMENT, "range: step must not be 0");
    if ((s = est__ds_new(&est__ops_range, "range", 0, NULL, &d)) != EST_OK) return s;
    d->p[0] = start;
    d->p[1] = stop;
    d->p[2] = step;
    cnt = ceil(((double)stop - (double)start) / (double)step);
    d->card = cnt > 0 ? (int64_t)cnt : 0;
    /* exact in integers where doubles round */
    if (d->card > 0 && step > 0 && start + (d->card - 1) * step >= stop) d->card--;
    if (d->card > 0 && step < 0 && start + (d->card - 1) * step <= stop) d->card--;
    s = est__dspec_alloc(&d->spec, 1);
    if (!s) s = est__dspec_set(&d->spec, 0, "value", EST_DTYPE_I64, est_shape_scalar());
    return est__ds_finish(d, s, out);
}

/* ---- batch ------------------------------------------------------------------------------------------ */

/* p[0] = batch_size, p[1] = drop_remainder. The batch is assembled in one call (nothing partial
 * survives between calls), straight into the output buffers. */
EST_PRIVATE est_status est__batch_init(est__it *it)
{
    est_status s = est__init_child(it);
    return s ? s : est__init_out(it);
}
EST_PRIVATE est_status est__batch_next(est__it *it, const est_tensor **v)
{
    est_dataset *ds = it->ds;
    const est_tensor *e;
    int64_t k = 0, bs = ds->p[0];
    int i, bad = 0;
    est_status s;
    char msg[EST__MSG_CAP], b1[96], b2[96];
    if (it->done) return EST_ERR_OUT_OF_RANGE;
    msg[0] = 0;
    while (k < bs) {
        s = est__it_next(it->child, &e);
        if (s == EST_ERR_OUT_OF_RANGE) {
            it->done = 1;
            break;
        }
        if (s != EST_OK) return s; /* as TF: the elements gathered so far are dropped */
        for (i = 0; i < ds->spec.n; i++) {
            est_shape full;
            if (bad) break;
            if (k == 0) {
                int r;
                full.rank = e[i].shape.rank + 1;
                if (full.rank > EST_MAX_RANK) {
                    bad = 1;
                    est__snprintf(msg, sizeof msg, "batch: component '%s' of shape %s cannot get a batch dimension", ds->spec.names[i],
                                  est_shape_str(&e[i].shape, b1, sizeof b1));
                    break;
                }
                full.dims[0] = bs;
                for (r = 0; r < e[i].shape.rank; r++) full.dims[r + 1] = e[i].shape.dims[r];
                if ((s = est__elbuf_prepare(&it->out, i, e[i].dtype, &full)) != EST_OK) return s;
            } else {
                est_shape first = est_shape_make(it->out.t[i].shape.rank - 1, it->out.t[i].shape.dims + 1);
                if (!est_shape_equal(&first, &e[i].shape)) {
                    bad = 1;
                    est__snprintf(msg, sizeof msg,
                                  "batch: cannot batch tensors with different shapes in component '%s': the first element had "
                                  "shape %s and element %lld had shape %s",
                                  ds->spec.names[i], est_shape_str(&first, b1, sizeof b1), (long long)k,
                                  est_shape_str(&e[i].shape, b2, sizeof b2));
                    break;
                }
            }
            if ((s = est__elbuf_write_row(&it->out, i, k, &e[i])) != EST_OK) return s;
        }
        k++;
    }
    if (k == 0 || (k < bs && ds->p[1])) return EST_ERR_OUT_OF_RANGE;
    if (bad) return est__error(EST_ERR_SHAPE, "%s", msg);
    for (i = 0; i < ds->spec.n; i++) {
        est_tensor *t = &it->out.t[i];
        t->nbytes = t->nbytes / (size_t)bs * (size_t)k;
        t->shape.dims[0] = k;
    }
    *v = it->out.t;
    return EST_OK;
}
static const est__it_ops est__ops_batch = {3, est__batch_init, est__reset_simple, est__batch_next,
                                           est__save_simple, est__restore_simple, NULL, NULL};

EST_PRIVATE int64_t est__card_batch(int64_t n, int64_t bs, int drop)
{
    if (n < 0) return n;
    return drop ? n / bs : (n + bs - 1) / bs;
}

EST_API est_status est_dataset_batch(est_dataset *ds, int64_t batch_size, int drop_remainder, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    int i;
    if ((s = est__check_in("batch", ds, out)) != EST_OK) return s;
    if (batch_size <= 0)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "batch: batch_size must be > 0, got %lld", (long long)batch_size));
    for (i = 0; i < ds->spec.n; i++)
        if (ds->spec.shapes[i].rank >= EST_MAX_RANK)
            return est__fail_in(ds, est__error(EST_ERR_SHAPE, "batch: component '%s' already has rank %d", ds->spec.names[i], EST_MAX_RANK));
    if ((s = est__ds_new(&est__ops_batch, "batch", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = batch_size;
    d->p[1] = drop_remainder ? 1 : 0;
    d->card = est__card_batch(ds->card, batch_size, drop_remainder);
    s = est__spec_like(d, ds);
    for (i = 0; i < d->spec.n && !s; i++) {
        est_shape *sh = &d->spec.shapes[i];
        memmove(sh->dims + 1, sh->dims, sizeof(int64_t) * (size_t)sh->rank);
        sh->rank++;
        sh->dims[0] = drop_remainder ? batch_size : -1;
    }
    return est__ds_finish(d, s, out);
}

/* ---- shuffle ------------------------------------------------------------------------------------------ */

/* p[0] = buffer_size, p[1] = reshuffle_each_iteration, seed. a = elements in the buffer, b = draws
 * so far; key = the pass's Philox key. The buffer holds copies in slots[0..a); the output swaps
 * buffers with the chosen slot, so nothing is copied twice and nothing allocated once warm. */
EST_PRIVATE uint64_t est__shuffle_key(const est__it *it)
{
    uint64_t seed = it->ds->seed ? it->ds->seed : EST__DATA_DEFAULT_SEED;
    return it->ds->p[1] ? est__mix(seed, it->mix) : est__sm64(seed);
}
EST_PRIVATE est_status est__shuffle_init(est__it *it)
{
    est_status s = est__init_child(it);
    if (!s) s = est__init_out(it);
    it->key = est__shuffle_key(it);
    return s;
}
EST_PRIVATE est_status est__shuffle_reset(est__it *it)
{
    it->key = est__shuffle_key(it);
    return est__reset_simple(it);
}
/* Make sure slots[0..k] exist (made during warm-up, then reused until the iterator is freed). */
EST_PRIVATE est_status est__slot(est__it *it, int64_t k, int n)
{
    est_status s;
    if (k < it->n_slots) return EST_OK;
    if (k >= it->cap_slots) {
        int64_t nc = it->cap_slots ? it->cap_slots * 2 : 16;
        est__elbuf *ns;
        while (nc <= k) nc *= 2;
        ns = (est__elbuf *)est__realloc(it->slots, sizeof(est__elbuf) * (size_t)nc);
        if (!ns) return est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld buffered elements", it->ds->op, (long long)nc);
        it->slots = ns;
        it->cap_slots = nc;
    }
    while (it->n_slots <= k) {
        if ((s = est__elbuf_init(&it->slots[it->n_slots], n)) != EST_OK) return s;
        it->n_slots++;
    }
    return EST_OK;
}
EST_PRIVATE est_status est__shuffle_next(est__it *it, const est_tensor **v)
{
    int64_t bs = it->ds->p[0], j;
    const est_tensor *e;
    est_status s;
    while (!it->done && it->a < bs) {
        s = est__it_next(it->child, &e);
        if (s == EST_ERR_OUT_OF_RANGE) {
            it->done = 1;
            break;
        }
        if (s != EST_OK) return s;
        if ((s = est__slot(it, it->a, it->ds->spec.n)) != EST_OK) return s;
        if ((s = est__elbuf_copy_all(&it->slots[it->a], e)) != EST_OK) return s;
        it->a++;
    }
    if (it->a == 0) return EST_ERR_OUT_OF_RANGE;
    j = (int64_t)(est__rand64(it->key, (uint64_t)it->b++) % (uint64_t)it->a);
    est__elbuf_swap(&it->out, &it->slots[j]);
    est__elbuf_swap(&it->slots[j], &it->slots[it->a - 1]);
    it->a--;
    *v = it->out.t;
    return EST_OK;
}
EST_PRIVATE est_status est__shuffle_save(est__it *it, est__wbuf *w)
{
    int64_t k;
    est__w_i64(w, it->a);
    est__w_i64(w, it->b);
    est__w_u32(w, (uint32_t)it->done);
    for (k = 0; k < it->a; k++) est__w_slot(w, &it->slots[k], it->ds->spec.n, it->slots[k].t);
    return est__it_save(it->child, w);
}
EST_PRIVATE est_status est__shuffle_restore(est__it *it, est__rbuf *r)
{
    int64_t k, n;
    uint32_t done;
    est_status s;
    if ((s = est__r_range(r, "shuffle buffer count", 0, it->ds->p[0], &n)) || (s = est__r_range(r, "shuffle draws", 0, INT64_MAX, &it->b)) ||
        (s = est__r_u32(r, &done)))
        return s;
    it->done = done != 0;
    for (k = 0; k < n; k++) {
        if ((s = est__slot(it, k, it->ds->spec.n)) != EST_OK) return s;
        if ((s = est__r_slot(r, &it->slots[k], &it->ds->spec)) != EST_OK) return s;
        if (it->slots[k].status != EST_OK)
            return est__error(EST_ERR_CORRUPT, "est_iterator_restore: a failed element in a shuffle buffer");
    }
    it->a = n;
    return est__it_restore(it->child, r);
}
static const est__it_ops est__ops_shuffle = {4, est__shuffle_init, est__shuffle_reset, est__shuffle_next,
                                             est__shuffle_save, est__shuffle_restore, NULL, NULL};

EST_API est_status est_dataset_shuffle(est_dataset *ds, int64_t buffer_size, uint64_t seed, int reshuffle_each_iteration,
                                       est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("shuffle", ds, out)) != EST_OK) return s;
    if (buffer_size <= 0)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "shuffle: buffer_size must be > 0, got %lld", (long long)buffer_size));
    if ((s = est__ds_new(&est__ops_shuffle, "shuffle", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = buffer_size;
    d->p[1] = reshuffle_each_iteration ? 1 : 0;
    d->seed = seed;
    d->card = ds->card;
    return est__ds_finish(d, est__spec_like(d, ds), out);
}

/* ---- repeat ------------------------------------------------------------------------------------------ */

/* p[0] = count (-1 forever). a = epoch, b = whether this epoch produced an element. Each epoch
 * rewinds the input in place with its own mix, so shuffles below reshuffle per epoch. */
EST_PRIVATE est_status est__repeat_init(est__it *it)
{
    return est__it_new(it->ds->ins[0], it->ctx, est__mix(it->mix, 0), &it->child);
}
EST_PRIVATE est_status est__repeat_reset(est__it *it)
{
    it->a = it->b = 0;
    it->done = 0;
    return est__it_reset(it->child, est__mix(it->mix, 0));
}
EST_PRIVATE est_status est__repeat_next(est__it *it, const est_tensor **v)
{
    int64_t count = it->ds->p[0];
    est_status s;
    for (;;) {
        if (it->done || (count >= 0 && it->a >= count)) return EST_ERR_OUT_OF_RANGE;
        s = est__it_next(it->child, v);
        if (s == EST_OK) it->b = 1;
        if (s != EST_ERR_OUT_OF_RANGE) return s;
        if (!it->b && count < 0) { /* an empty pass: stop rather than spin forever, as TF */
            it->done = 1;
            return EST_ERR_OUT_OF_RANGE;
        }
        it->a++;
        it->b = 0;
        if (count >= 0 && it->a >= count) return EST_ERR_OUT_OF_RANGE;
        if ((s = est__it_reset(it->child, est__mix(it->mix, (uint64_t)it->a))) != EST_OK) return s;
    }
}
EST_PRIVATE est_status est__repeat_restore(est__it *it, est__rbuf *r)
{
    est_status s;
    uint32_t done;
    int64_t pad;
    if ((s = est__r_range(r, "repeat epoch", 0, INT64_MAX, &it->a)) || (s = est__r_range(r, "repeat flag", 0, 1, &it->b)) ||
        (s = est__r_i64(r, &pad)) || (s = est__r_i64(r, &pad)) || (s = est__r_u32(r, &done)))
        return s;
    it->done = done != 0;
    if (it->a > 0 && (s = est__it_reset(it->child, est__mix(it->mix, (uint64_t)it->a))) != EST_OK) return s;
    return est__it_restore(it->child, r);
}
static const est__it_ops est__ops_repeat = {5, est__repeat_init, est__repeat_reset, est__repeat_next,
                                            est__save_simple, est__repeat_restore, NULL, NULL};

EST_API est_status est_dataset_repeat(est_dataset *ds, int64_t count, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    int64_t n;
    if ((s = est__check_in("repeat", ds, out)) != EST_OK) return s;
    if (count < -1)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "repeat: count must be >= -1, got %lld", (long long)count));
    if ((s = est__ds_new(&est__ops_repeat, "repeat", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = count;
    n = ds->card;
    if (count < 0) d->card = n == 0 ? 0 : EST_CARDINALITY_INFINITE;
    else if (count == 0) d->card = 0;
    else if (n < 0) d->card = n;
    else d->card = n > INT64_MAX / count ? EST_CARDINALITY_INFINITE : n * count;
    return est__ds_finish(d, est__spec_like(d, ds), out);
}

/* ---- take / skip ----------------------------------------------------------------------------------- */

/* p[0] = count (-1 all); a = elements taken / skipped. Errors do not count (as TF). */
EST_PRIVATE est_status est__take_next(est__it *it, const est_tensor **v)
{
    est_status s;
    if (it->ds->p[0] >= 0 && it->a >= it->ds->p[0]) return EST_ERR_OUT_OF_RANGE;
    s = est__it_next(it->child, v);
    if (s == EST_OK) it->a++;
    return s;
}
EST_PRIVATE est_status est__skip_next(est__it *it, const est_tensor **v)
{
    est_status s;
    while (it->ds->p[0] < 0 || it->a < it->ds->p[0]) {
        if ((s = est__it_next(it->child, v)) != EST_OK) return s;
        it->a++;
    }
    return est__it_next(it->child, v);
}
static const est__it_ops est__ops_take = {6, est__init_child, est__reset_simple, est__take_next,
                                          est__save_simple, est__restore_simple, NULL, NULL};
static const est__it_ops est__ops_skip = {7, est__init_child, est__reset_simple, est__skip_next,
                                          est__save_simple, est__restore_simple, NULL, NULL};

EST_PRIVATE est_status est__take_skip(est_dataset *ds, int64_t count, int skip, est_dataset **out)
{
    const char *op = skip ? "skip" : "take";
    est_dataset *d;
    est_status s;
    int64_t n;
    if ((s = est__check_in(op, ds, out)) != EST_OK) return s;
    if (count < -1) return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "%s: count must be >= -1, got %lld", op, (long long)count));
    if ((s = est__ds_new(skip ? &est__ops_skip : &est__ops_take, op, 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = count;
    n = ds->card;
    if (!skip) {
        if (n == EST_CARDINALITY_UNKNOWN) d->card = n;
        else if (n == EST_CARDINALITY_INFINITE) d->card = count;
        else d->card = count < 0 ? n : EST__MIN(n, count);
    } else {
        if (n < 0) d->card = n;
        else d->card = count < 0 ? 0 : EST__MAX(0, n - count);
    }
    return est__ds_finish(d, est__spec_like(d, ds), out);
}
EST_API est_status est_dataset_take(est_dataset *ds, int64_t count, est_dataset **out) { return est__take_skip(ds, count, 0, out); }
EST_API est_status est_dataset_skip(est_dataset *ds, int64_t count, est_dataset **out) { return est__take_skip(ds, count, 1, out); }

/* ---- numpy_input_fn ---------------------------------------------------------------------------------- */

EST_API est_status est_numpy_input_fn(const est_numpy_input_args *args, est_dataset **out)
{
    const char *names[64];
    est_tensor ts[64];
    const char *y_name;
    int64_t bs, epochs, cap, start = 0;
    uint64_t seed;
    int n, i, shuffle;
    est_dataset *ds = NULL;
    est_status s;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: out is NULL");
    *out = NULL;
    if (!args) return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: args is NULL");
    if (args->n_x <= 0 || !args->x || !args->x_names)
        return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: x needs n_x > 0 arrays and their names (n_x = %d)", args->n_x);
    if (args->n_x + 1 > (int)EST__COUNTOF(names))
        return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: at most %d x arrays", (int)EST__COUNTOF(names) - 1);
    y_name = args->y_name ? args->y_name : "labels";
    bs = args->batch_size ? args->batch_size : 128;
    epochs = args->num_epochs ? args->num_epochs : 1;
    cap = args->queue_capacity ? args->queue_capacity : 1000;
    shuffle = args->shuffle >= 0;
    seed = args->seed ? args->seed : EST__DATA_DEFAULT_SEED;
    if (bs <= 0) return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: batch_size must be > 0, got %lld", (long long)bs);
    if (epochs < -1) return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: num_epochs must be > 0 or -1, got %lld", (long long)epochs);
    if (cap < 0) return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: queue_capacity must be > 0, got %lld", (long long)cap);
    if (args->num_threads < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: num_threads must be >= 0, got %d", args->num_threads);
    n = args->n_x;
    for (i = 0; i < n; i++) {
        names[i] = args->x_names[i];
        ts[i] = args->x[i];
        if (args->y && names[i] && strcmp(names[i], y_name) == 0)
            return est__error(EST_ERR_INVALID_ARGUMENT, "numpy_input_fn: the label name '%s' is also a feature name", y_name);
    }
    if (args->y) {
        names[n] = y_name;
        ts[n] = *args->y;
        n++;
    }
    if (shuffle && ts[0].shape.rank >= 1 && ts[0].shape.dims[0] > 0) /* TF starts at a random row */
        start = (int64_t)(est__rand64(est__sm64(seed), 0) % (uint64_t)ts[0].shape.dims[0]);
    if ((s = est__slices("numpy_input_fn", names, ts, n, start, &ds)) != EST_OK) return s;
    if (epochs != 1 && (s = est_dataset_repeat(ds, epochs, &ds)) != EST_OK) return s;
    if (shuffle && (s = est_dataset_shuffle(ds, cap, seed, 1, &ds)) != EST_OK) return s;
    if ((s = est_dataset_batch(ds, bs, epochs < 0, &ds)) != EST_OK) return s;
    if (args->y && (s = est_dataset_set_label_key(ds, y_name)) != EST_OK) {
        est_dataset_free(ds);
        return s;
    }
    *out = ds;
    return EST_OK;
}

/* ---- user callbacks: from_generator, map, filter ---------------------------------------------------- */

/* A callback failed: keep its message, say where it came from. */
EST_PRIVATE est_status est__cb_error(est_status s, const char *who)
{
    if (!est_last_error()[0]) return est__error(s, "%s: the function failed (%s)", who, est_status_string(s));
    return est__error_prefix(s, "%s: ", who);
}

/* ext = the generator's state; done once it said OUT_OF_RANGE. */
EST_PRIVATE est_status est__gen_init(est__it *it) { return est__init_out(it); }
EST_PRIVATE void est__gen_fini(est__it *it)
{
    if (it->ext && it->ds->gen_close) it->ds->gen_close(it->ext, it->ds->user);
    it->ext = NULL;
}
EST_PRIVATE est_status est__gen_reset(est__it *it)
{
    est__gen_fini(it);
    it->done = 0;
    return EST_OK;
}
EST_PRIVATE est_status est__gen_next(est__it *it, const est_tensor **v)
{
    est_element_builder b;
    est_status s;
    if (it->done) return EST_ERR_OUT_OF_RANGE;
    est__builder_init(&b, &it->ds->spec, &it->out, "from_generator");
    s = it->ds->gen_fn(&it->ext, &b, it->ds->user);
    if (s == EST_ERR_OUT_OF_RANGE) {
        it->done = 1;
        return s;
    }
    if (s != EST_OK) return est__cb_error(s, "from_generator");
    if ((s = est__builder_check(&b)) != EST_OK) return s;
    *v = it->out.t;
    return EST_OK;
}
EST_PRIVATE est_status est__nosave(est__it *it, est__wbuf *w)
{
    (void)w;
    return est__error(EST_ERR_UNIMPLEMENTED, "%s: this iterator's state cannot be saved", it->ds->op);
}
EST_PRIVATE est_status est__norestore(est__it *it, est__rbuf *r)
{
    (void)r;
    return est__error(EST_ERR_UNIMPLEMENTED, "%s: this iterator's state cannot be restored", it->ds->op);
}
static const est__it_ops est__ops_gen = {8, est__gen_init, est__gen_reset, est__gen_next, est__nosave, est__norestore, est__gen_fini, NULL};

EST_API est_status est_dataset_from_generator(est_generator_fn fn, est_generator_close_fn close, void *user,
                                              const est_element_spec *spec, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "from_generator: out is NULL");
    *out = NULL;
    if (!fn) return est__error(EST_ERR_INVALID_ARGUMENT, "from_generator: the generator function is NULL");
    if ((s = est__check_user_spec("from_generator", spec)) != EST_OK) return s;
    if ((s = est__ds_new(&est__ops_gen, "from_generator", 0, NULL, &d)) != EST_OK) return s;
    d->gen_fn = fn;
    d->gen_close = close;
    d->user = user;
    d->no_save = 1;
    return est__ds_finish(d, est__dspec_from_user(&d->spec, spec), out);
}

/* p[0] = num_parallel_calls as given; d = the resolved count P (0 = sequential). Parallel: up to P
 * input elements are copied into slots[0..P), the calls run on a pool of P threads into
 * slots[P..2P), and results a..b are handed out in input order (a = results, b = next). */
EST_PRIVATE est_status est__map_init(est__it *it)
{
    est_status s = est__init_child(it);
    int64_t p = it->ds->p[0];
    if (s) return s;
    it->d = p == EST_AUTOTUNE ? est_num_cores() : p;
    if (it->d == 0) return est__init_out(it);
    if ((s = est__slot(it, it->d - 1, it->ds->ins[0]->spec.n)) != EST_OK) return s;
    while (it->n_slots < 2 * it->d) /* the output slots */
        if ((s = est__slot(it, it->n_slots, it->ds->spec.n)) != EST_OK) return s;
    return EST_OK;
}
EST_PRIVATE void est__map_fini(est__it *it)
{
    est_threadpool_free((est_threadpool *)it->ext);
    it->ext = NULL;
}
EST_PRIVATE est_status est__map_reset(est__it *it)
{
    int64_t p = it->d;
    est_status s = est__reset_simple(it);
    it->d = p;
    return s;
}
EST_PRIVATE est_status est__map_call(est__it *it, const est_tensor *in, est__elbuf *o)
{
    est_element_builder b;
    est_element e = est__el(&it->ds->ins[0]->spec, in);
    est_status s;
    est__builder_init(&b, &it->ds->spec, o, "map");
    s = it->ds->map_fn(&e, &b, it->ds->user);
    if (s != EST_OK) return est__cb_error(s, "map");
    return est__builder_check(&b);
}
static void est__map_task(void *ctx, int64_t t, int thread)
{
    est__it *it = (est__it *)ctx;
    est__elbuf *in = &it->slots[t], *o = &it->slots[it->d + t];
    est_status s;
    (void)thread;
    if (in->status != EST_OK) {
        est__elbuf_set_error(o, in->status, in->msg);
        return;
    }
    est_clear_error();
    s = est__map_call(it, in->t, o);
    if (s != EST_OK) est__elbuf_set_error(o, s, est_last_error());
    else o->status = EST_OK;
}
EST_PRIVATE est_status est__map_next(est__it *it, const est_tensor **v)
{
    int64_t P = it->d;
    est__elbuf *o;
    const est_tensor *e;
    est_status s;
    if (P == 0) {
        if ((s = est__it_next(it->child, &e)) != EST_OK) return s;
        if ((s = est__map_call(it, e, &it->out)) != EST_OK) return s;
        *v = it->out.t;
        return EST_OK;
    }
    if (it->b >= it->a) {
        int64_t n = 0;
        it->a = it->b = 0;
        while (n < P && !it->done) {
            s = est__it_next(it->child, &e);
            if (s == EST_ERR_OUT_OF_RANGE) {
                it->done = 1;
                break;
            }
            if (s != EST_OK) est__elbuf_set_error(&it->slots[n], s, est_last_error());
            else if ((s = est__elbuf_copy_all(&it->slots[n], e)) != EST_OK) return s;
            n++;
        }
        if (n == 0) return EST_ERR_OUT_OF_RANGE;
        if (P > 1 && n > 1 && !it->ext) {
            est_threadpool_desc pd;
            est_threadpool *pool = NULL;
            memset(&pd, 0, sizeof pd);
            pd.num_threads = (int)P;
            if ((s = est_threadpool_new(&pd, &pool)) != EST_OK) return s;
            it->ext = pool;
        }
        est_parallel_for((est_threadpool *)it->ext, n, est__map_task, it);
        /* results are read from slots[P + b]; a restore may have left them elsewhere */
        it->a = n;
        it->c = P;
    }
    o = &it->slots[it->c + it->b];
    it->b++;
    if (o->status != EST_OK) return est__elbuf_raise(o);
    *v = o->t;
    return EST_OK;
}
EST_PRIVATE est_status est__map_save(est__it *it, est__wbuf *w)
{
    int64_t k;
    est__w_u32(w, (uint32_t)it->done);
    est__w_i64(w, it->d ? it->a - it->b : 0);
    for (k = it->b; it->d && k < it->a; k++) est__w_slot(w, &it->slots[it->c + k], it->ds->spec.n, it->slots[it->c + k].t);
    return est__it_save(it->child, w);
}
EST_PRIVATE est_status est__map_restore(est__it *it, est__rbuf *r)
{
    uint32_t done;
    int64_t n, k, base = 2 * it->d;
    est_status s;
    if ((s = est__r_u32(r, &done)) || (s = est__r_range(r, "pending map results", 0, it->d ? 1 << 20 : 0, &n))) return s;
    it->done = done != 0;
    /* pending results go after the working slots, so a different core count still fits */
    for (k = 0; k < n; k++) {
        if ((s = est__slot(it, base + k, it->ds->spec.n)) != EST_OK) return s;
        if ((s = est__r_slot(r, &it->slots[base + k], &it->ds->spec)) != EST_OK) return s;
    }
    it->a = n;
    it->b = 0;
    it->c = base;
    return est__it_restore(it->child, r);
}
static const est__it_ops est__ops_map = {9, est__map_init, est__map_reset, est__map_next, est__map_save, est__map_restore, est__map_fini, NULL};

EST_API est_status est_dataset_map(est_dataset *ds, est_map_fn fn, void *user, const est_element_spec *out_spec,
                                   int num_parallel_calls, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("map", ds, out)) != EST_OK) return s;
    if (!fn) return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "map: the function is NULL"));
    if (num_parallel_calls < -1)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "map: num_parallel_calls must be >= 0 or EST_AUTOTUNE, got %d",
                                           num_parallel_calls));
    if (out_spec && (s = est__check_user_spec("map", out_spec)) != EST_OK) return est__fail_in(ds, s);
    if ((s = est__ds_new(&est__ops_map, "map", 1, &ds, &d)) != EST_OK) return s;
    d->map_fn = fn;
    d->user = user;
    d->p[0] = num_parallel_calls;
    d->card = ds->card;
    if (!out_spec) {
        s = est__spec_like(d, ds);
    } else {
        s = est__dspec_from_user(&d->spec, out_spec);
        if (!s && !out_spec->label_key && est__dspec_find(&d->spec, ds->spec.label_key) >= 0)
            s = est__dspec_set_label(&d->spec, ds->spec.label_key);
    }
    return est__ds_finish(d, s, out);
}

EST_PRIVATE est_status est__filter_next(est__it *it, const est_tensor **v)
{
    est_status s;
    for (;;) {
        est_element e;
        int keep = 0;
        if ((s = est__it_next(it->child, v)) != EST_OK) return s;
        e = est__el(&it->ds->spec, *v);
        if ((s = it->ds->pred_fn(&e, &keep, it->ds->user)) != EST_OK) return est__cb_error(s, "filter");
        if (keep) return EST_OK;
    }
}
static const est__it_ops est__ops_filter = {10, est__init_child, est__reset_simple, est__filter_next,
                                            est__save_simple, est__restore_simple, NULL, NULL};

EST_API est_status est_dataset_filter(est_dataset *ds, est_predicate_fn pred, void *user, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("filter", ds, out)) != EST_OK) return s;
    if (!pred) return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "filter: the predicate is NULL"));
    if ((s = est__ds_new(&est__ops_filter, "filter", 1, &ds, &d)) != EST_OK) return s;
    d->pred_fn = pred;
    d->user = user;
    d->card = EST_CARDINALITY_UNKNOWN;
    return est__ds_finish(d, est__spec_like(d, ds), out);
}

/* ---- prefetch ---------------------------------------------------------------------------------------- */

#if defined(EST_NO_THREADS)
/* A pass-through. Its state has the threaded version's layout (nothing queued), and a state saved
 * by a threaded build is served from slots[b..a) first, so checkpoints move between builds.
 * c = end of input seen in the restored queue. */
EST_PRIVATE est_status est__pf_next(est__it *it, const est_tensor **v)
{
    if (it->b < it->a) {
        est__elbuf *e = &it->slots[it->b++];
        if (e->status == EST_ERR_OUT_OF_RANGE) it->c = 1;
        else if (e->status != EST_OK) return est__elbuf_raise(e);
        else {
            *v = e->t;
            return EST_OK;
        }
    }
    if (it->c) return EST_ERR_OUT_OF_RANGE;
    return est__it_next(it->child, v);
}
EST_PRIVATE est_status est__pf_save(est__it *it, est__wbuf *w)
{
    int64_t k;
    est__w_u32(w, (uint32_t)(it->c && it->b >= it->a));
    est__w_u32(w, (uint32_t)it->c);
    est__w_i64(w, it->a - it->b);
    for (k = it->b; k < it->a; k++) est__w_slot(w, &it->slots[k], it->ds->spec.n, it->slots[k].t);
    return est__it_save(it->child, w);
}
EST_PRIVATE est_status est__pf_restore(est__it *it, est__rbuf *r)
{
    uint32_t eof, pd;
    int64_t n, k;
    est_status s;
    if ((s = est__r_u32(r, &eof)) || (s = est__r_u32(r, &pd)) || (s = est__r_range(r, "prefetched elements", 0, it->ds->p[0], &n))) return s;
    for (k = 0; k < n; k++) {
        if ((s = est__slot(it, k, it->ds->spec.n)) != EST_OK) return s;
        if ((s = est__r_slot(r, &it->slots[k], &it->ds->spec)) != EST_OK) return s;
    }
    it->a = n;
    it->b = 0;
    it->c = eof != 0;
    return est__it_restore(it->child, r);
}
static const est__it_ops est__ops_prefetch = {11, est__init_child, est__reset_simple, est__pf_next,
                                              est__pf_save, est__pf_restore, NULL, NULL};
#else
/* A producer thread fills a ring of bs + 1 slots: [head, tail) are ready, slot head - 1 is the one
 * the consumer is reading. The thread starts at the first next (so a restore can fill the queue
 * first) and is stopped and joined by reset and free. A save pauses it between two elements. */
typedef struct est__pf {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, stop, paused, busy, producer_done, eof;
    int64_t head, tail, bs;
} est__pf;

static void *est__pf_main(void *arg)
{
    est__it *it = (est__it *)arg;
    est__pf *pf = (est__pf *)it->ext;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        est__elbuf *slot;
        const est_tensor *e;
        est_status s;
        while (!pf->stop && (pf->paused || pf->tail - pf->head >= pf->bs)) pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->stop) break;
        pf->busy = 1;
        slot = &it->slots[pf->tail % it->n_slots];
        pthread_mutex_unlock(&pf->mu);
        est_clear_error();
        s = est__it_next(it->child, &e);
        if (s == EST_OK) s = est__elbuf_copy_all(slot, e);
        if (s == EST_ERR_OUT_OF_RANGE) slot->status = s;
        else if (s != EST_OK) est__elbuf_set_error(slot, s, est_last_error());
        pthread_mutex_lock(&pf->mu);
        pf->busy = 0;
        pf->tail++;
        if (s == EST_ERR_OUT_OF_RANGE) pf->producer_done = 1;
        pthread_cond_broadcast(&pf->cv);
        if (pf->producer_done) break;
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}
EST_PRIVATE void est__pf_stop(est__it *it)
{
    est__pf *pf = (est__pf *)it->ext;
    if (!pf || !pf->started) return;
    pthread_mutex_lock(&pf->mu);
    pf->stop = 1;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    pthread_join(pf->th, NULL);
    pf->started = 0;
    pf->stop = 0;
}
EST_PRIVATE est_status est__pf_init(est__it *it)
{
    est__pf *pf;
    est_status s = est__init_child(it);
    if (s) return s;
    if ((s = est__slot(it, it->ds->p[0], it->ds->spec.n)) != EST_OK) return s;
    pf = EST__CALLOC(est__pf, 1);
    if (!pf) return est__error(EST_ERR_OUT_OF_MEMORY, "prefetch: out of memory");
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    pf->bs = it->ds->p[0];
    it->ext = pf;
    return EST_OK;
}
EST_PRIVATE void est__pf_fini(est__it *it)
{
    est__pf *pf = (est__pf *)it->ext;
    if (!pf) return;
    est__pf_stop(it);
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
    est__free(pf);
    it->ext = NULL;
}
EST_PRIVATE est_status est__pf_reset(est__it *it)
{
    est__pf *pf = (est__pf *)it->ext;
    est__pf_stop(it);
    pf->head = pf->tail = 0;
    pf->paused = pf->busy = pf->producer_done = pf->eof = 0;
    return est__it_reset(it->child, it->mix);
}
EST_PRIVATE est_status est__pf_next(est__it *it, const est_tensor **v)
{
    est__pf *pf = (est__pf *)it->ext;
    est__elbuf *slot;
    if (pf->eof) return EST_ERR_OUT_OF_RANGE;
    if (!pf->started && !pf->producer_done) {
        if (pthread_create(&pf->th, NULL, est__pf_main, it) != 0)
            return est__error(EST_ERR_INTERNAL, "prefetch: cannot start the background thread");
        pf->started = 1;
    }
    pthread_mutex_lock(&pf->mu);
    while (pf->head == pf->tail) pthread_cond_wait(&pf->cv, &pf->mu);
    slot = &it->slots[pf->head % it->n_slots];
    pf->head++;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    if (slot->status == EST_ERR_OUT_OF_RANGE) {
        pf->eof = 1;
        return EST_ERR_OUT_OF_RANGE;
    }
    if (slot->status != EST_OK) return est__elbuf_raise(slot);
    *v = slot->t;
    return EST_OK;
}
EST_PRIVATE est_status est__pf_save(est__it *it, est__wbuf *w)
{
    est__pf *pf = (est__pf *)it->ext;
    est_status s;
    int64_t k;
    pthread_mutex_lock(&pf->mu);
    pf->paused = 1;
    while (pf->busy) pthread_cond_wait(&pf->cv, &pf->mu);
    est__w_u32(w, (uint32_t)pf->eof);
    est__w_u32(w, (uint32_t)pf->producer_done);
    est__w_i64(w, pf->tail - pf->head);
    for (k = pf->head; k < pf->tail; k++) {
        est__elbuf *e = &it->slots[k % it->n_slots];
        est__w_slot(w, e, it->ds->spec.n, e->t);
    }
    s = est__it_save(it->child, w);
    pf->paused = 0;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    return s;
}
EST_PRIVATE est_status est__pf_restore(est__it *it, est__rbuf *r)
{
    est__pf *pf = (est__pf *)it->ext;
    uint32_t eof, pd;
    int64_t n, k;
    est_status s;
    if ((s = est__r_u32(r, &eof)) || (s = est__r_u32(r, &pd)) || (s = est__r_range(r, "prefetched elements", 0, pf->bs, &n))) return s;
    for (k = 0; k < n; k++) {
        if ((s = est__r_slot(r, &it->slots[k], &it->ds->spec)) != EST_OK) return s;
        /* the end of input can only be the last queued element, and only once the producer is done */
        if ((it->slots[k].status == EST_ERR_OUT_OF_RANGE) != (pd && k == n - 1 && !eof))
            return est__error(EST_ERR_CORRUPT, "est_iterator_restore: inconsistent prefetch queue");
    }
    if (pd && !eof && n == 0) return est__error(EST_ERR_CORRUPT, "est_iterator_restore: inconsistent prefetch queue");
    pf->eof = eof != 0;
    pf->producer_done = pd != 0;
    pf->head = 0;
    pf->tail = n;
    return est__it_restore(it->child, r);
}
static const est__it_ops est__ops_prefetch = {11, est__pf_init, est__pf_reset, est__pf_next,
                                              est__pf_save, est__pf_restore, est__pf_fini, NULL};
#endif

EST_API est_status est_dataset_prefetch(est_dataset *ds, int64_t buffer_size, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("prefetch", ds, out)) != EST_OK) return s;
    if (buffer_size < -1)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "prefetch: buffer_size must be >= 0 or EST_AUTOTUNE, got %lld",
                                           (long long)buffer_size));
    if ((s = est__ds_new(&est__ops_prefetch, "prefetch", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = buffer_size <= 0 ? 2 : buffer_size;
    d->card = ds->card;
    return est__ds_finish(d, est__spec_like(d, ds), out);
}

/* ---- cache ----------------------------------------------------------------------------------------- */

/* The dataset's store (ds->ext): filled once by the first iterator that completes a pass. An
 * iterator reads it (c = 1, a = position) or fills its own list in slots[0..b) while passing its
 * input through (c = 0, a = input calls so far), and publishes the list at the end of input.
 * File caches (path set) keep nothing in memory: see the file-cache section below. */
typedef struct est__cache {
#if !defined(EST_NO_THREADS)
    pthread_mutex_t mu;
#endif
    int complete;
    est__elbuf *els;
    int64_t n;
    uint64_t fill_mix; /* the mix of the pass that filled it (a rebuild must replay that pass) */
    char *path;        /* file caches: the cache file, <filename>.estcache; NULL = memory */
} est__cache;

EST_PRIVATE int est__cache_complete(est__cache *c)
{
    int r;
#if !defined(EST_NO_THREADS)
    pthread_mutex_lock(&c->mu);
#endif
    r = c->complete;
#if !defined(EST_NO_THREADS)
    pthread_mutex_unlock(&c->mu);
#endif
    return r;
}
EST_PRIVATE void est__cache_publish(est__it *it)
{
    est__cache *c = (est__cache *)it->ds->ext;
#if !defined(EST_NO_THREADS)
    pthread_mutex_lock(&c->mu);
#endif
    if (!c->complete) {
        while (it->n_slots > it->b) est__elbuf_free(&it->slots[--it->n_slots]);
        c->els = it->slots;
        c->n = it->b;
        c->complete = 1;
        c->fill_mix = it->mix;
        it->slots = NULL;
        it->n_slots = it->cap_slots = 0;
        it->b = 0;
    }
#if !defined(EST_NO_THREADS)
    pthread_mutex_unlock(&c->mu);
#endif
}

#if !defined(EST_NO_STDIO)
/* File cache. Format (all integers little-endian), a sequence of TFRecord-style records:
 *     u64 length | u32 masked crc32c(length bytes) | payload | u32 masked crc32c(payload)
 * The first payload is the header: "ESTCACHE", u32 version (1), u64 the writing pass's seed mix (an
 * iterator restored while reading a deleted file replays that pass), u32 component count n, then per
 * component u32 name length, name bytes, u32 dtype, u32 rank, i64 dims (-1 = unknown), i.e. the
 * element spec of the dataset that wrote it. Then one record per element: 'E' followed by its n
 * tensors (u32 dtype, u32 rank, i64 dims, raw bytes; strings as u64 size + bytes each). The last
 * record is the end mark: 'F' and the u64 element count; a file without it is truncated.
 *
 * Writing: the pass writes <filename>.estcache.tmp-<pid>-<iterator address> and renames it over
 * <filename>.estcache (atomic on POSIX) only when the input ends, so an interrupted pass (an
 * iterator freed or reset early, take() downstream, a crash) leaves no cache that reads as
 * complete; its temporary file is removed (except after a crash). Concurrent writers: TF takes a
 * lockfile (<filename>.lockfile) and fails a second concurrent writer with AlreadyExists; here
 * each writer has its own temporary file and the last rename wins. Deterministic pipelines write
 * identical files, so no lock is needed, and a reader only ever opens a complete file.
 *
 * Which mode a pass uses is decided when it starts (iterator creation, repeat, restore): the
 * file exists -> read it (the input is not iterated, its iterator not even made), else write. */
#include <errno.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define EST__FC_PID() ((long)getpid())
#else
#define EST__FC_PID() 0L
#endif
#define EST__FC_VERSION 1u


typedef struct est__fc {
    FILE *f;
    char *tmp;          /* writing: the temporary file, removed unless renamed */
    int broken;         /* a write failed: the pass must not publish */
    int64_t off, size;  /* reading: offset of the next record, file size */
    int64_t hdr_end;    /* reading: offset of the first element record */
    uint64_t fill_mix;  /* reading: the mix of the pass that wrote the file (a rebuild replays it) */
    unsigned char *rec; /* record payload buffer */
    size_t rcap;
    est__wbuf w;
} est__fc;

EST_PRIVATE void est__fc_close(est__it *it)
{
    est__fc *fc = (est__fc *)it->ext;
    if (!fc) return;
    if (fc->f) fclose(fc->f);
    fc->f = NULL;
    if (fc->tmp) remove(fc->tmp);
    est__free(fc->tmp);
    fc->tmp = NULL;
    fc->broken = 0;
}
EST_PRIVATE void est__fc_fini(est__it *it)
{
    est__fc *fc = (est__fc *)it->ext;
    if (!fc) return;
    est__fc_close(it);
    est__free(fc->rec);
    est__free(fc->w.p);
    est__free(fc);
    it->ext = NULL;
}
EST_PRIVATE est_status est__fc_write_record(est__it *it, const unsigned char *p, size_t n)
{
    est__fc *fc = (est__fc *)it->ext;
    unsigned char h[12], t[4];
    uint32_t crc;
    int i;
    for (i = 0; i < 8; i++) h[i] = (unsigned char)((uint64_t)n >> (8 * i));
    crc = est_crc32c_mask(est_crc32c(0, h, 8));
    for (i = 0; i < 4; i++) h[8 + i] = (unsigned char)(crc >> (8 * i));
    crc = est_crc32c_mask(est_crc32c(0, p, n));
    for (i = 0; i < 4; i++) t[i] = (unsigned char)(crc >> (8 * i));
    if (fwrite(h, 1, 12, fc->f) != 12 || (n && fwrite(p, 1, n, fc->f) != n) || fwrite(t, 1, 4, fc->f) != 4) {
        fc->broken = 1;
        return est__error(EST_ERR_IO, "cache: %s: write failed", fc->tmp);
    }
    return EST_OK;
}
/* The header payload for spec into w. */
EST_PRIVATE void est__fc_header(est__wbuf *w, const est__dspec *sp, uint64_t mix)
{
    int i, j;
    w->len = 0;
    est__w_bytes(w, "ESTCACHE", 8);
    est__w_u32(w, EST__FC_VERSION);
    est__w_u64(w, mix);
    est__w_u32(w, (uint32_t)sp->n);
    for (i = 0; i < sp->n; i++) {
        est__w_u32(w, (uint32_t)strlen(sp->names[i]));
        est__w_bytes(w, sp->names[i], strlen(sp->names[i]));
        est__w_u32(w, (uint32_t)sp->dtypes[i]);
        est__w_u32(w, (uint32_t)sp->shapes[i].rank);
        for (j = 0; j < sp->shapes[i].rank; j++) est__w_i64(w, sp->shapes[i].dims[j]);
    }
}
/* Start a writing pass: the input from its start, a new temporary file with the header. */
EST_PRIVATE est_status est__fc_start_write(est__it *it)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    size_t n = strlen(c->path) + 64;
    est_status s;
    est__fc_close(it);
    it->c = 0;
    it->a = it->b = 0;
    it->done = 0;
    if (!it->child && (s = est__init_child(it)) != EST_OK) return s;
    if ((s = est__it_reset(it->child, it->mix)) != EST_OK) return s;
    fc->tmp = (char *)est__malloc(n);
    if (!fc->tmp) return est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory");
    est__snprintf(fc->tmp, n, "%s.tmp-%ld-%lx", c->path, EST__FC_PID(), (unsigned long)(uintptr_t)it);
    fc->f = fopen(fc->tmp, "wb");
    if (!fc->f) {
        s = est__error(EST_ERR_IO, "cache: cannot create %s: %s", fc->tmp, strerror(errno));
        est__free(fc->tmp);
        fc->tmp = NULL;
        return s;
    }
    est__fc_header(&fc->w, &it->ds->spec, it->mix);
    if (fc->w.oom) return est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory");
    return est__fc_write_record(it, fc->w.p, fc->w.len);
}
/* The input ended: the end mark, then publish the file by renaming it. */
EST_PRIVATE est_status est__fc_finish_write(est__it *it)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    est_status s;
    unsigned char e[9];
    int i;
    if (!fc->f) return EST_OK;
    e[0] = 'F';
    for (i = 0; i < 8; i++) e[1 + i] = (unsigned char)((uint64_t)it->b >> (8 * i));
    if (!fc->broken && (s = est__fc_write_record(it, e, 9)) != EST_OK) {
        est__fc_close(it);
        return s;
    }
    if (fc->broken || fflush(fc->f) != 0) {
        s = est__error(EST_ERR_IO, "cache: %s: write failed; the cache is not kept", fc->tmp);
        est__fc_close(it);
        return s;
    }
#if defined(__unix__) || defined(__APPLE__)
    fsync(fileno(fc->f)); /* a crash after the rename must not leave a renamed empty file */
#endif
    i = fclose(fc->f);
    fc->f = NULL;
    if (i != 0 || rename(fc->tmp, c->path) != 0) {
        s = est__error(EST_ERR_IO, "cache: cannot publish %s as %s: %s", fc->tmp, c->path, strerror(errno));
        est__fc_close(it);
        return s;
    }
    est__free(fc->tmp);
    fc->tmp = NULL;
    return EST_OK;
}
/* Read the record at fc->off into fc->rec; *n = payload size. Damage names the file and offset. */
EST_PRIVATE est_status est__fc_read_record(est__it *it, size_t *n)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    unsigned char h[12], t[4];
    uint64_t len;
    if (fc->size - fc->off < 16)
        return est__error(EST_ERR_TRUNCATED, "cache: %s is truncated at byte %lld (record header expected, the file has %lld bytes)",
                          c->path, (long long)fc->off, (long long)fc->size);
    if (fread(h, 1, 12, fc->f) != 12)
        return est__error(EST_ERR_IO, "cache: %s: read failed at byte %lld", c->path, (long long)fc->off);
    len = est__load_le64(h);
    if (est_crc32c_mask(est_crc32c(0, h, 8)) != est__load_le32(h + 8))
        return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld: the length's checksum does not match", c->path,
                          (long long)fc->off);
    if (len > (uint64_t)(fc->size - fc->off - 16))
        return est__error(EST_ERR_TRUNCATED, "cache: %s is truncated at byte %lld: the record needs %llu bytes, %lld are left", c->path,
                          (long long)fc->off, (unsigned long long)len, (long long)(fc->size - fc->off - 16));
    if (len > fc->rcap || !fc->rec) {
        size_t nc = len < 256 ? 256 : (size_t)len;
        unsigned char *p = (unsigned char *)est__malloc(nc);
        if (!p) return est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory for a record of %llu bytes", (unsigned long long)len);
        est__free(fc->rec);
        fc->rec = p;
        fc->rcap = nc;
    }
    if ((len && fread(fc->rec, 1, (size_t)len, fc->f) != (size_t)len) || fread(t, 1, 4, fc->f) != 4)
        return est__error(EST_ERR_IO, "cache: %s: read failed at byte %lld", c->path, (long long)fc->off);
    if (est_crc32c_mask(est_crc32c(0, fc->rec, (size_t)len)) != est__load_le32(t))
        return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld: the record's checksum does not match", c->path,
                          (long long)fc->off);
    *n = (size_t)len;
    return EST_OK;
}
/* The header's spec against the dataset's: the message names the first difference. */
EST_PRIVATE est_status est__fc_check_header(est__it *it, size_t n)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    const est__dspec *sp = &it->ds->spec;
    est__rbuf r;
    uint32_t ver, cnt, len, dt, rank;
    int i, j;
    char b1[128], b2[128];
    est_status s;
    r.p = fc->rec;
    r.len = n;
    r.pos = 8;
    if (n < 24 || memcmp(fc->rec, "ESTCACHE", 8) != 0)
        return est__error(EST_ERR_CORRUPT, "cache: %s at byte 0 is not a cache file of this library (no ESTCACHE header)", c->path);
    if ((s = est__r_u32(&r, &ver)) || (s = est__r_u64(&r, &fc->fill_mix)) || (s = est__r_u32(&r, &cnt))) goto bad;
    if (ver != EST__FC_VERSION)
        return est__error(EST_ERR_INVALID_ARGUMENT, "cache: %s has format version %u, this library reads %u", c->path, ver,
                          EST__FC_VERSION);
    if ((int64_t)cnt != sp->n)
        return est__error(EST_ERR_INVALID_ARGUMENT,
                          "cache: %s was written from a dataset with %u components, this one has %d; delete it or use another filename",
                          c->path, cnt, sp->n);
    for (i = 0; i < sp->n; i++) {
        est_shape sh;
        memset(&sh, 0, sizeof sh);
        if ((s = est__r_u32(&r, &len)) || (s = est__r_need(&r, len))) goto bad;
        if (len != strlen(sp->names[i]) || memcmp(r.p + r.pos, sp->names[i], len) != 0) {
            return est__error(EST_ERR_INVALID_ARGUMENT,
                              "cache: %s was written from another dataset: component %d is '%.*s' in the file, '%s' here; delete it or use another filename",
                              c->path, i, (int)EST__MIN(len, 64u), (const char *)r.p + r.pos, sp->names[i]);
        }
        r.pos += len;
        if ((s = est__r_u32(&r, &dt)) || (s = est__r_u32(&r, &rank))) goto bad;
        if (rank > EST_MAX_RANK) {
            s = est__error(EST_ERR_CORRUPT, "rank %u", rank);
            goto bad;
        }
        sh.rank = (int)rank;
        for (j = 0; j < sh.rank; j++)
            if ((s = est__r_i64(&r, &sh.dims[j])) != EST_OK) goto bad;
        if (dt != (uint32_t)sp->dtypes[i] || sh.rank != sp->shapes[i].rank ||
            memcmp(sh.dims, sp->shapes[i].dims, sizeof(int64_t) * (size_t)sh.rank) != 0)
            return est__error(EST_ERR_INVALID_ARGUMENT,
                              "cache: %s was written from another dataset: component '%s' is %s %s in the file, %s %s here; delete it or use another filename",
                              c->path, sp->names[i], est_dtype_size((est_dtype)dt) ? est_dtype_name((est_dtype)dt) : "?",
                              est_shape_str(&sh, b1, sizeof b1), est_dtype_name(sp->dtypes[i]),
                              est_shape_str(&sp->shapes[i], b2, sizeof b2));
    }
    if (r.pos != r.len) {
        s = est__error(EST_ERR_CORRUPT, "%zu extra bytes", r.len - r.pos);
        goto bad;
    }
    return EST_OK;
bad:
    return est__error(EST_ERR_CORRUPT, "cache: %s: damaged header record at byte 0 (%s)", c->path, est_last_error());
}
/* Start a reading pass if the file exists: *found = 0 if it does not. */
EST_PRIVATE est_status est__fc_start_read(est__it *it, int *found)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    est_status s;
    size_t n;
    long sz;
    est__fc_close(it);
    *found = 0;
    it->a = it->b = 0;
    it->done = 0;
    fc->f = fopen(c->path, "rb");
    if (!fc->f) return EST_OK;
    *found = 1;
    it->c = 1;
    if (fseek(fc->f, 0, SEEK_END) != 0 || (sz = ftell(fc->f)) < 0 || fseek(fc->f, 0, SEEK_SET) != 0) {
        est__fc_close(it);
        return est__error(EST_ERR_IO, "cache: %s: cannot find its size", c->path);
    }
    fc->size = (int64_t)sz;
    fc->off = 0;
    if ((s = est__fc_read_record(it, &n)) != EST_OK || (s = est__fc_check_header(it, n)) != EST_OK) {
        est__fc_close(it);
        return s;
    }
    fc->off += 16 + (int64_t)n;
    fc->hdr_end = fc->off;
    return EST_OK;
}
/* A pass starts: read the file if there is one, else write it. */
EST_PRIVATE est_status est__fc_start(est__it *it)
{
    int found = 0;
    est_status s = est__fc_start_read(it, &found);
    if (s != EST_OK || found) return s;
    return est__fc_start_write(it);
}
EST_PRIVATE est_status est__fc_next(est__it *it, const est_tensor **v)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    est_status s;
    size_t n;
    if (it->done) return EST_ERR_OUT_OF_RANGE;
    if (!it->c) { /* writing */
        const unsigned char e = 'E';
        int i;
        if (!fc->f && !fc->broken) return est__error(EST_ERR_INTERNAL, "cache: %s: no pass in progress", c->path);
        s = est__it_next(it->child, v);
        if (s == EST_ERR_OUT_OF_RANGE) {
            it->done = 1;
            if ((s = est__fc_finish_write(it)) != EST_OK) return s;
            return EST_ERR_OUT_OF_RANGE;
        }
        it->a++;
        if (s != EST_OK) return s; /* failed elements are not cached */
        if (fc->broken) return EST_OK;
        fc->w.len = 0;
        est__w_bytes(&fc->w, &e, 1);
        for (i = 0; i < it->ds->spec.n; i++) est__w_tensor(&fc->w, &(*v)[i]);
        if (fc->w.oom) return est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory");
        if ((s = est__fc_write_record(it, fc->w.p, fc->w.len)) != EST_OK) return s;
        it->b++;
        return EST_OK;
    }
    if (!fc->f) return est__error(EST_ERR_INTERNAL, "cache: %s: no pass in progress", c->path);
    if ((s = est__fc_read_record(it, &n)) != EST_OK) return s;
    if (n == 9 && fc->rec[0] == 'F') {
        uint64_t cnt = est__load_le64(fc->rec + 1);
        if (cnt != (uint64_t)it->a || fc->off + 16 + 9 != fc->size)
            return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld: end mark for %llu elements after %lld, %lld bytes after it",
                              c->path, (long long)fc->off, (unsigned long long)cnt, (long long)it->a,
                              (long long)(fc->size - fc->off - 25));
        it->done = 1;
        fc->off += 25;
        return EST_ERR_OUT_OF_RANGE;
    }
    if (n < 1 || fc->rec[0] != 'E')
        return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld: unknown record type", c->path, (long long)fc->off);
    {
        est__rbuf r;
        int i;
        char b1[128];
        r.p = fc->rec;
        r.len = n;
        r.pos = 1;
        for (i = 0; i < it->ds->spec.n; i++) {
            if ((s = est__r_tensor(&r, &it->out, i, it->ds->spec.dtypes[i])) != EST_OK)
                return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld (element %lld, component '%s'): %s", c->path,
                                  (long long)fc->off, (long long)it->a, it->ds->spec.names[i], est_last_error());
            if (!est__shape_fits(&it->ds->spec.shapes[i], &it->out.t[i].shape))
                return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld (element %lld): component '%s' has shape %s", c->path,
                                  (long long)fc->off, (long long)it->a, it->ds->spec.names[i],
                                  est_shape_str(&it->out.t[i].shape, b1, sizeof b1));
        }
        if (r.pos != r.len)
            return est__error(EST_ERR_CORRUPT, "cache: %s is corrupt at byte %lld (element %lld): %zu extra bytes", c->path,
                              (long long)fc->off, (long long)it->a, r.len - r.pos);
    }
    fc->off += 16 + (int64_t)n;
    it->a++;
    *v = it->out.t;
    return EST_OK;
}
EST_PRIVATE est_status est__fc_init(est__it *it)
{
    est_status s = est__init_out(it);
    if (s) return s;
    it->ext = EST__CALLOC(est__fc, 1);
    if (!it->ext) return est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory");
    return est__fc_start(it);
}
/* State: mode (1 = reading), done, a, mix, then the read offset. A reading position is restored by
 * seeking (the file is made again by replaying the input if it is gone); a writing pass is redone
 * into a new temporary file by replaying the input's first a calls. */
EST_PRIVATE est_status est__fc_save(est__it *it, est__wbuf *w)
{
    est__w_u32(w, (uint32_t)it->c);
    est__w_u32(w, (uint32_t)it->done);
    est__w_i64(w, it->a);
    est__w_u64(w, it->c ? ((est__fc *)it->ext)->fill_mix : it->mix);
    est__w_i64(w, it->c ? ((est__fc *)it->ext)->off : 0);
    return EST_OK;
}
EST_PRIVATE est_status est__fc_replay(est__it *it, int64_t calls, uint64_t mix)
{
    const est_tensor *v;
    est_status s;
    it->mix = mix;
    if ((s = est__fc_start_write(it)) != EST_OK) return s;
    while (calls < 0 || it->a < calls) {
        s = est__fc_next(it, &v);
        if (s == EST_ERR_OUT_OF_RANGE) break;
        if (s != EST_OK && ((est__fc *)it->ext)->broken) return s;
    }
    est_clear_error();
    return EST_OK;
}
EST_PRIVATE est_status est__fc_restore(est__it *it, est__rbuf *r)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est__fc *fc = (est__fc *)it->ext;
    uint32_t mode, done;
    int64_t a, off;
    uint64_t mix;
    int found = 0;
    est_status s;
    if ((s = est__r_u32(r, &mode)) || (s = est__r_u32(r, &done)) || (s = est__r_range(r, "cache position", 0, INT64_MAX, &a)) ||
        (s = est__r_u64(r, &mix)) || (s = est__r_range(r, "cache offset", 0, INT64_MAX, &off)))
        return s;
    if (mode > 1 || done > 1) return est__error(EST_ERR_CORRUPT, "est_iterator_restore: bad cache mode %u/%u", mode, done);
    if (mode == 0) return est__fc_replay(it, done ? -1 : a, mix);
    if ((s = est__fc_start_read(it, &found)) != EST_OK) return s;
    if (!found) {
        if ((s = est__fc_replay(it, -1, mix)) != EST_OK) return s;
        if ((s = est__fc_start_read(it, &found)) != EST_OK) return s;
        if (!found) return est__error(EST_ERR_IO, "est_iterator_restore: cache %s could not be rebuilt", c->path);
    }
    if (off < fc->hdr_end || off > fc->size || fseek(fc->f, (long)off, SEEK_SET) != 0)
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: cache offset %lld is outside %s (%lld bytes)", (long long)off, c->path,
                          (long long)fc->size);
    fc->off = off;
    it->a = a;
    it->done = done != 0;
    return EST_OK;
}
#endif /* EST_NO_STDIO */

EST_PRIVATE est_status est__cache_reset(est__it *it)
{
#if !defined(EST_NO_STDIO)
    if (it->ext) return est__fc_start(it);
#endif
    it->a = it->b = 0;
    it->done = 0;
    it->c = est__cache_complete((est__cache *)it->ds->ext);
    return it->c ? EST_OK : est__it_reset(it->child, it->mix);
}
EST_PRIVATE est_status est__cache_init(est__it *it)
{
    est_status s;
#if !defined(EST_NO_STDIO)
    if (((est__cache *)it->ds->ext)->path) return est__fc_init(it);
#endif
    if ((s = est__init_child(it)) != EST_OK) return s;
    it->c = est__cache_complete((est__cache *)it->ds->ext);
    return EST_OK;
}
EST_PRIVATE void est__cache_fini(est__it *it)
{
#if !defined(EST_NO_STDIO)
    est__fc_fini(it);
#else
    (void)it;
#endif
}
EST_PRIVATE est_status est__cache_next(est__it *it, const est_tensor **v)
{
    est__cache *c = (est__cache *)it->ds->ext;
    est_status s;
#if !defined(EST_NO_STDIO)
    if (it->ext) return est__fc_next(it, v);
#endif
    if (it->c) {
        if (it->a >= c->n) return EST_ERR_OUT_OF_RANGE;
        *v = c->els[it->a++].t;
        return EST_OK;
    }
    if (it->done) return EST_ERR_OUT_OF_RANGE;
    s = est__it_next(it->child, v);
    if (s == EST_ERR_OUT_OF_RANGE) {
        it->done = 1;
        est__cache_publish(it);
        return s;
    }
    it->a++;
    if (s != EST_OK) return s; /* failed elements are not cached */
    if ((s = est__slot(it, it->b, it->ds->spec.n)) != EST_OK) return s;
    if ((s = est__elbuf_copy_all(&it->slots[it->b], *v)) != EST_OK) return s;
    it->b++;
    return EST_OK;
}
EST_PRIVATE est_status est__cache_save(est__it *it, est__wbuf *w)
{
#if !defined(EST_NO_STDIO)
    if (it->ext) return est__fc_save(it, w);
#endif
    est__w_u32(w, (uint32_t)it->c);
    est__w_u32(w, (uint32_t)it->done);
    est__w_i64(w, it->a);
    est__w_u64(w, it->c ? ((est__cache *)it->ds->ext)->fill_mix : it->mix);
    return EST_OK;
}
/* Replays the input (deterministic pipelines replay the same elements) instead of storing the
 * cached elements in the blob: `calls` calls, or to the end of input when calls < 0. */
EST_PRIVATE est_status est__cache_replay(est__it *it, int64_t calls, uint64_t mix)
{
    const est_tensor *v;
    est_status s;
    uint64_t keep = it->mix;
    it->mix = mix;
    if ((s = est__it_reset(it->child, mix)) != EST_OK) return s;
    it->c = 0;
    it->a = it->b = 0;
    it->done = 0;
    while (calls < 0 || it->a < calls) {
        s = est__cache_next(it, &v);
        if (s == EST_ERR_OUT_OF_RANGE) break;
    }
    it->mix = keep;
    est_clear_error();
    return EST_OK;
}
EST_PRIVATE est_status est__cache_restore(est__it *it, est__rbuf *r)
{
    uint32_t mode, done;
    int64_t a;
    uint64_t mix;
    est_status s;
#if !defined(EST_NO_STDIO)
    if (it->ext) return est__fc_restore(it, r);
#endif
    if ((s = est__r_u32(r, &mode)) || (s = est__r_u32(r, &done)) || (s = est__r_range(r, "cache position", 0, INT64_MAX, &a)) ||
        (s = est__r_u64(r, &mix)))
        return s;
    if (mode > 1) return est__error(EST_ERR_CORRUPT, "est_iterator_restore: bad cache mode %u", mode);
    if (mode == 1) {
        if (!est__cache_complete((est__cache *)it->ds->ext) && (s = est__cache_replay(it, -1, mix)) != EST_OK) return s;
        if (!est__cache_complete((est__cache *)it->ds->ext))
            return est__error(EST_ERR_INTERNAL, "est_iterator_restore: the cache could not be rebuilt");
        if (a > ((est__cache *)it->ds->ext)->n)
            return est__error(EST_ERR_CORRUPT, "est_iterator_restore: cache position %lld beyond its %lld elements", (long long)a,
                              (long long)((est__cache *)it->ds->ext)->n);
        it->c = 1;
        it->a = a;
        return EST_OK;
    }
    return est__cache_replay(it, done ? -1 : a, mix);
}
EST_PRIVATE void est__cache_ds_fini(est_dataset *ds)
{
    est__cache *c = (est__cache *)ds->ext;
    int64_t i;
    if (!c) return;
    est__free(c->path);
    for (i = 0; i < c->n; i++) est__elbuf_free(&c->els[i]);
    est__free(c->els);
#if !defined(EST_NO_THREADS)
    pthread_mutex_destroy(&c->mu);
#endif
    est__free(c);
}
static const est__it_ops est__ops_cache = {12, est__cache_init, est__cache_reset, est__cache_next,
                                           est__cache_save, est__cache_restore, est__cache_fini, est__cache_ds_fini};

EST_API est_status est_dataset_cache(est_dataset *ds, const char *filename, est_dataset **out)
{
    est_dataset *d;
    est__cache *c;
    est_status s;
    if ((s = est__check_in("cache", ds, out)) != EST_OK) return s;
#if defined(EST_NO_STDIO)
    if (filename && filename[0])
        return est__fail_in(ds, est__error(EST_ERR_UNIMPLEMENTED, "cache: file caches ('%s') need stdio (built with EST_NO_STDIO)",
                                           filename));
#endif
    if ((s = est__ds_new(&est__ops_cache, "cache", 1, &ds, &d)) != EST_OK) return s;
    c = EST__CALLOC(est__cache, 1);
    if (!c) return est__ds_finish(d, est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory"), out);
#if !defined(EST_NO_THREADS)
    pthread_mutex_init(&c->mu, NULL);
#endif
    d->ext = c;
    if (filename && filename[0]) {
        size_t n = strlen(filename) + 10;
        c->path = (char *)est__malloc(n);
        if (!c->path) return est__ds_finish(d, est__error(EST_ERR_OUT_OF_MEMORY, "cache: out of memory"), out);
        est__snprintf(c->path, n, "%s.estcache", filename);
        d->p[0] = 1; /* a file cache's state (a file offset) differs from a memory cache's */
        d->seed = est__hash_str(filename);
    }
    d->card = ds->card;
    return est__ds_finish(d, est__spec_like(d, ds), out);
}

/* ---- enumerate, zip, concatenate, shard -------------------------------------------------------------- */

/* p[0] = start; a = elements counted (as TF's zip with a range, failed elements count too). */
EST_PRIVATE est_status est__enum_init(est__it *it)
{
    est_status s = est__init_child(it);
    return s ? s : est__init_views(it, it->ds->spec.n);
}
EST_PRIVATE est_status est__enum_next(est__it *it, const est_tensor **v)
{
    const est_tensor *e;
    est_status s = est__it_next(it->child, &e);
    int i;
    if (s == EST_ERR_OUT_OF_RANGE) return s;
    it->scalar = it->ds->p[0] + it->a++;
    if (s != EST_OK) return s;
    it->views[0].dtype = EST_DTYPE_I64;
    it->views[0].shape = est_shape_scalar();
    it->views[0].data = &it->scalar;
    it->views[0].nbytes = sizeof(int64_t);
    it->views[0].flags = 0;
    for (i = 1; i < it->ds->spec.n; i++) it->views[i] = e[i - 1];
    *v = it->views;
    return EST_OK;
}
static const est__it_ops est__ops_enum = {13, est__enum_init, est__reset_simple, est__enum_next,
                                          est__save_simple, est__restore_simple, NULL, NULL};

EST_API est_status est_dataset_enumerate(est_dataset *ds, int64_t start, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("enumerate", ds, out)) != EST_OK) return s;
    if (est__dspec_find(&ds->spec, "index") >= 0)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "enumerate: the input already has a component named 'index'"));
    if ((s = est__ds_new(&est__ops_enum, "enumerate", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = start;
    d->card = ds->card;
    s = est__dspec_alloc(&d->spec, ds->spec.n + 1);
    if (!s) s = est__dspec_set(&d->spec, 0, "index", EST_DTYPE_I64, est_shape_scalar());
    if (!s) s = est__dspec_copy_into(&d->spec, 1, &ds->spec);
    if (!s) s = est__dspec_set_label(&d->spec, ds->spec.label_key);
    return est__ds_finish(d, s, out);
}

/* kids = one iterator per input. */
EST_PRIVATE est_status est__kids_init(est__it *it)
{
    int i;
    est_status s;
    it->kids = EST__CALLOC(est__it *, it->ds->n_ins);
    if (!it->kids) return est__error(EST_ERR_OUT_OF_MEMORY, "%s: out of memory", it->ds->op);
    it->n_kids = it->ds->n_ins;
    for (i = 0; i < it->n_kids; i++)
        if ((s = est__it_new(it->ds->ins[i], it->ctx, it->mix, &it->kids[i])) != EST_OK) return s;
    return est__init_views(it, it->ds->spec.n);
}
EST_PRIVATE est_status est__kids_reset(est__it *it)
{
    int i;
    est_status s;
    it->a = 0;
    it->done = 0;
    for (i = 0; i < it->n_kids; i++)
        if ((s = est__it_reset(it->kids[i], it->mix)) != EST_OK) return s;
    return EST_OK;
}
EST_PRIVATE est_status est__kids_save(est__it *it, est__wbuf *w)
{
    int i;
    est_status s;
    est__w_i64(w, it->a);
    est__w_u32(w, (uint32_t)it->done);
    for (i = 0; i < it->n_kids; i++)
        if ((s = est__it_save(it->kids[i], w)) != EST_OK) return s;
    return EST_OK;
}
EST_PRIVATE est_status est__kids_restore(est__it *it, est__rbuf *r)
{
    int i;
    uint32_t done;
    est_status s;
    if ((s = est__r_range(r, "a phase", 0, it->n_kids, &it->a)) || (s = est__r_u32(r, &done))) return s;
    it->done = done != 0;
    for (i = 0; i < it->n_kids; i++)
        if ((s = est__it_restore(it->kids[i], r)) != EST_OK) return s;
    return EST_OK;
}
EST_PRIVATE est_status est__zip_next(est__it *it, const est_tensor **v)
{
    int i, at = 0, j;
    est_status s;
    if (it->done) return EST_ERR_OUT_OF_RANGE;
    for (i = 0; i < it->n_kids; i++) {
        const est_tensor *e;
        int n = it->ds->ins[i]->spec.n;
        s = est__it_next(it->kids[i], &e);
        if (s == EST_ERR_OUT_OF_RANGE) it->done = 1;
        if (s != EST_OK) return s;
        for (j = 0; j < n; j++) it->views[at + j] = e[j];
        at += n;
    }
    *v = it->views;
    return EST_OK;
}
static const est__it_ops est__ops_zip = {14, est__kids_init, est__kids_reset, est__zip_next, est__kids_save, est__kids_restore, NULL, NULL};

EST_API est_status est_dataset_zip(est_dataset *const *datasets, int n, est_dataset **out)
{
    est_dataset *d;
    est_status s = EST_OK;
    int i, j, total = 0, at = 0;
    if (!out || n <= 0 || !datasets) {
        for (i = 0; datasets && i < n; i++) est_dataset_free(datasets[i]);
        if (out) *out = NULL;
        return est__error(EST_ERR_INVALID_ARGUMENT, "zip: needs n > 0 datasets and out");
    }
    *out = NULL;
    for (i = 0; i < n && !s; i++) {
        if (!datasets[i]) {
            s = est__error(EST_ERR_INVALID_ARGUMENT, "zip: dataset %d is NULL", i);
            break;
        }
        total += datasets[i]->spec.n;
        for (j = 0; j < i && !s; j++) {
            int k;
            for (k = 0; k < datasets[i]->spec.n && !s; k++)
                if (est__dspec_find(&datasets[j]->spec, datasets[i]->spec.names[k]) >= 0)
                    s = est__error(EST_ERR_INVALID_ARGUMENT, "zip: the component name '%s' is in inputs %d and %d", datasets[i]->spec.names[k],
                                   j, i);
        }
    }
    if (s) {
        for (i = 0; i < n; i++) est_dataset_free(datasets[i]);
        return s;
    }
    if ((s = est__ds_new(&est__ops_zip, "zip", n, datasets, &d)) != EST_OK) return s;
    s = est__dspec_alloc(&d->spec, total);
    d->card = EST_CARDINALITY_INFINITE;
    for (i = 0; i < n && !s; i++) {
        int64_t c = d->ins[i]->card;
        s = est__dspec_copy_into(&d->spec, at, &d->ins[i]->spec);
        at += d->ins[i]->spec.n;
        if (!s && !d->spec.label_key && d->ins[i]->spec.label_key) s = est__dspec_set_label(&d->spec, d->ins[i]->spec.label_key);
        if (d->card == EST_CARDINALITY_UNKNOWN) continue;
        if (c == EST_CARDINALITY_UNKNOWN) d->card = c;
        else if (c != EST_CARDINALITY_INFINITE && (d->card == EST_CARDINALITY_INFINITE || c < d->card)) d->card = c;
    }
    return est__ds_finish(d, s, out);
}

/* a = which input is being read. */
EST_PRIVATE est_status est__concat_next(est__it *it, const est_tensor **v)
{
    est_status s;
    if (it->a == 0) {
        s = est__it_next(it->kids[0], v);
        if (s != EST_ERR_OUT_OF_RANGE) return s;
        it->a = 1;
    }
    return est__it_next(it->kids[1], v);
}
static const est__it_ops est__ops_concat = {15, est__kids_init, est__kids_reset, est__concat_next,
                                            est__kids_save, est__kids_restore, NULL, NULL};

EST_API est_status est_dataset_concatenate(est_dataset *a, est_dataset *b, est_dataset **out)
{
    est_dataset *d, *two[2];
    est_status s = EST_OK;
    int i, k;
    char b1[96], b2[96];
    if (!out || !a || !b) {
        est_dataset_free(a);
        est_dataset_free(b);
        if (out) *out = NULL;
        return est__error(EST_ERR_INVALID_ARGUMENT, "concatenate: NULL argument");
    }
    *out = NULL;
    if (a->spec.n != b->spec.n)
        s = est__error(EST_ERR_INVALID_ARGUMENT, "concatenate: the inputs have %d and %d components", a->spec.n, b->spec.n);
    for (i = 0; i < a->spec.n && !s; i++) {
        if (strcmp(a->spec.names[i], b->spec.names[i]) != 0 || a->spec.dtypes[i] != b->spec.dtypes[i])
            s = est__error(EST_ERR_INVALID_ARGUMENT, "concatenate: component %d is '%s' (%s) in the first input and '%s' (%s) in the second", i,
                           a->spec.names[i], est_dtype_name(a->spec.dtypes[i]), b->spec.names[i], est_dtype_name(b->spec.dtypes[i]));
        else if (a->spec.shapes[i].rank != b->spec.shapes[i].rank)
            s = est__error(EST_ERR_SHAPE, "concatenate: component '%s' has shapes %s and %s", a->spec.names[i],
                           est_shape_str(&a->spec.shapes[i], b1, sizeof b1), est_shape_str(&b->spec.shapes[i], b2, sizeof b2));
    }
    if (s) {
        est_dataset_free(a);
        est_dataset_free(b);
        return s;
    }
    two[0] = a;
    two[1] = b;
    if ((s = est__ds_new(&est__ops_concat, "concatenate", 2, two, &d)) != EST_OK) return s;
    s = est__spec_like(d, a);
    for (i = 0; i < d->spec.n && !s; i++)
        for (k = 0; k < d->spec.shapes[i].rank; k++)
            if (a->spec.shapes[i].dims[k] != b->spec.shapes[i].dims[k]) d->spec.shapes[i].dims[k] = -1;
    if (a->card == EST_CARDINALITY_INFINITE || b->card == EST_CARDINALITY_INFINITE) d->card = EST_CARDINALITY_INFINITE;
    else if (a->card < 0 || b->card < 0) d->card = EST_CARDINALITY_UNKNOWN;
    else d->card = a->card + b->card;
    return est__ds_finish(d, s, out);
}

/* p[0] = num_shards, p[1] = index; a = input elements seen (failed ones do not count, as TF). */
EST_PRIVATE est_status est__shard_next(est__it *it, const est_tensor **v)
{
    est_status s;
    for (;;) {
        if ((s = est__it_next(it->child, v)) != EST_OK) return s;
        if (it->a++ % it->ds->p[0] == it->ds->p[1]) return EST_OK;
    }
}
static const est__it_ops est__ops_shard = {16, est__init_child, est__reset_simple, est__shard_next,
                                           est__save_simple, est__restore_simple, NULL, NULL};

EST_API est_status est_dataset_shard(est_dataset *ds, int64_t num_shards, int64_t index, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    int64_t n;
    if ((s = est__check_in("shard", ds, out)) != EST_OK) return s;
    if (num_shards <= 0 || index < 0 || index >= num_shards)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "shard: needs num_shards > 0 and 0 <= index < num_shards, got %lld and %lld",
                                           (long long)num_shards, (long long)index));
    if ((s = est__ds_new(&est__ops_shard, "shard", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = num_shards;
    d->p[1] = index;
    n = ds->card;
    d->card = n < 0 ? n : n / num_shards + (index < n % num_shards ? 1 : 0);
    return est__ds_finish(d, est__spec_like(d, ds), out);
}

/* ---- unbatch, padded_batch --------------------------------------------------------------------------- */

/* ext = the element being split (the input's views, or out's copy after a restore); a = its rows,
 * b = the next row. */
EST_PRIVATE est_status est__unbatch_init(est__it *it)
{
    est_status s = est__init_child(it);
    if (!s) s = est__init_views(it, it->ds->spec.n);
    return s ? s : est__elbuf_init(&it->out, it->ds->spec.n);
}
EST_PRIVATE est_status est__unbatch_reset(est__it *it)
{
    it->ext = NULL;
    return est__reset_simple(it);
}
EST_PRIVATE est_status est__unbatch_next(est__it *it, const est_tensor **v)
{
    const est_tensor *h;
    int i, n = it->ds->spec.n;
    while (it->b >= it->a) {
        const est_tensor *e;
        est_status s = est__it_next(it->child, &e);
        char b1[96], b2[96];
        if (s != EST_OK) return s;
        for (i = 0; i < n; i++)
            if (e[i].shape.rank < 1 || e[i].shape.dims[0] != e[0].shape.dims[0])
                return est__error(EST_ERR_SHAPE, "unbatch: components '%s' %s and '%s' %s do not share a leading dimension",
                                  it->ds->spec.names[0], est_shape_str(&e[0].shape, b1, sizeof b1), it->ds->spec.names[i],
                                  est_shape_str(&e[i].shape, b2, sizeof b2));
        it->ext = (void *)e;
        it->a = e[0].shape.dims[0];
        it->b = 0;
    }
    h = (const est_tensor *)it->ext;
    for (i = 0; i < n; i++) {
        est_tensor *t = &it->views[i];
        size_t rb = h[i].nbytes / (size_t)it->a;
        t->dtype = h[i].dtype;
        t->shape = est_shape_make(h[i].shape.rank - 1, h[i].shape.dims + 1);
        t->data = (char *)h[i].data + (size_t)it->b * rb;
        t->nbytes = rb;
        t->flags = 0;
    }
    it->b++;
    *v = it->views;
    return EST_OK;
}
EST_PRIVATE est_status est__unbatch_save(est__it *it, est__wbuf *w)
{
    int i;
    est__w_i64(w, it->a);
    est__w_i64(w, it->b);
    if (it->b < it->a)
        for (i = 0; i < it->ds->spec.n; i++) est__w_tensor(w, &((const est_tensor *)it->ext)[i]);
    return est__it_save(it->child, w);
}
EST_PRIVATE est_status est__unbatch_restore(est__it *it, est__rbuf *r)
{
    int i;
    est_status s;
    if ((s = est__r_range(r, "unbatch rows", 0, INT64_MAX, &it->a)) || (s = est__r_range(r, "unbatch row", 0, it->a, &it->b))) return s;
    if (it->b < it->a) {
        for (i = 0; i < it->ds->spec.n; i++) {
            if ((s = est__r_tensor(r, &it->out, i, it->ds->spec.dtypes[i])) != EST_OK) return s;
            if (it->out.t[i].shape.rank < 1 || it->out.t[i].shape.dims[0] != it->a)
                return est__error(EST_ERR_CORRUPT, "est_iterator_restore: unbatch element without %lld rows", (long long)it->a);
        }
        it->ext = it->out.t;
    }
    return est__it_restore(it->child, r);
}
static const est__it_ops est__ops_unbatch = {17, est__unbatch_init, est__unbatch_reset, est__unbatch_next,
                                             est__unbatch_save, est__unbatch_restore, NULL, NULL};

EST_API est_status est_dataset_unbatch(est_dataset *ds, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    int i;
    int64_t lead = -2;
    if ((s = est__check_in("unbatch", ds, out)) != EST_OK) return s;
    for (i = 0; i < ds->spec.n; i++) {
        if (ds->spec.shapes[i].rank < 1)
            return est__fail_in(ds, est__error(EST_ERR_SHAPE, "unbatch: component '%s' is a scalar", ds->spec.names[i]));
        if (lead == -2) lead = ds->spec.shapes[i].dims[0];
        else if (lead != ds->spec.shapes[i].dims[0]) lead = -1;
    }
    if ((s = est__ds_new(&est__ops_unbatch, "unbatch", 1, &ds, &d)) != EST_OK) return s;
    if (lead < 0) d->card = EST_CARDINALITY_UNKNOWN;
    else d->card = ds->card < 0 ? ds->card : ds->card * lead;
    s = est__spec_like(d, ds);
    for (i = 0; i < d->spec.n && !s; i++) d->spec.shapes[i] = est_shape_make(ds->spec.shapes[i].rank - 1, ds->spec.shapes[i].dims + 1);
    return est__ds_finish(d, s, out);
}

/* p[0] = batch_size, p[1] = drop_remainder; pshapes = padded shapes (-1: the batch's largest);
 * tensors = padding values or none. The elements of a batch are copied into slots[0..k), then
 * padded into out. */
EST_PRIVATE est_status est__pbatch_init(est__it *it)
{
    est_status s = est__init_child(it);
    return s ? s : est__init_out(it);
}
/* Copy element e (rank r, dims ed) into the block of out component i that starts at element
 * offset `base`, whose dims are td. */
EST_PRIVATE est_status est__pad_copy(est__elbuf *o, int i, int64_t base, const est_tensor *e, const int64_t *td)
{
    int r = e->shape.rank, j;
    int64_t idx[EST_MAX_RANK], rows = 1, q, run = r ? e->shape.dims[r - 1] : 1;
    size_t es = est_dtype_size(e->dtype);
    est_status s;
    for (j = 0; j + 1 < r; j++) rows *= e->shape.dims[j];
    if (run == 0) return EST_OK;
    memset(idx, 0, sizeof idx);
    for (q = 0; q < rows; q++) {
        int64_t off = 0, k;
        for (j = 0; j + 1 < r; j++) off = off * td[j] + idx[j];
        if (r) off *= td[r - 1];
        off += base;
        if (e->dtype == EST_DTYPE_STRING) {
            const est_string *src = (const est_string *)e->data + q * run;
            for (k = 0; k < run; k++)
                if ((s = est__elbuf_put_str(o, i, off + k, src[k].data, src[k].size)) != EST_OK) return s;
        } else {
            memcpy((char *)o->t[i].data + (size_t)off * es, (const char *)e->data + (size_t)(q * run) * es, (size_t)run * es);
        }
        for (j = r - 2; j >= 0; j--) { /* next row index */
            if (++idx[j] < e->shape.dims[j]) break;
            idx[j] = 0;
        }
    }
    return EST_OK;
}
EST_PRIVATE est_status est__pbatch_next(est__it *it, const est_tensor **v)
{
    est_dataset *ds = it->ds;
    int64_t k = 0, bs = ds->p[0], j, m;
    int i, d;
    est_status s;
    char b1[96], b2[96];
    if (it->done) return EST_ERR_OUT_OF_RANGE;
    while (k < bs) {
        const est_tensor *e;
        s = est__it_next(it->child, &e);
        if (s == EST_ERR_OUT_OF_RANGE) {
            it->done = 1;
            break;
        }
        if (s != EST_OK) return s;
        if ((s = est__slot(it, k, ds->spec.n)) != EST_OK) return s;
        if ((s = est__elbuf_copy_all(&it->slots[k], e)) != EST_OK) return s;
        k++;
    }
    if (k == 0 || (k < bs && ds->p[1])) return EST_ERR_OUT_OF_RANGE;
    for (i = 0; i < ds->spec.n; i++) {
        est_shape full, *ps = &ds->pshapes[i];
        size_t es = est_dtype_size(ds->spec.dtypes[i]);
        int64_t per;
        full.rank = ps->rank + 1;
        full.dims[0] = k;
        for (d = 0; d < ps->rank; d++) full.dims[d + 1] = ps->dims[d] >= 0 ? ps->dims[d] : 0;
        for (j = 0; j < k; j++) {
            const est_tensor *e = &it->slots[j].t[i];
            if (e->shape.rank != ps->rank)
                return est__error(EST_ERR_SHAPE, "padded_batch: component '%s' of element %lld has shape %s, the padded shape is %s",
                                  ds->spec.names[i], (long long)j, est_shape_str(&e->shape, b1, sizeof b1), est_shape_str(ps, b2, sizeof b2));
            for (d = 0; d < ps->rank; d++) {
                if (ps->dims[d] >= 0 && e->shape.dims[d] > ps->dims[d])
                    return est__error(EST_ERR_SHAPE, "padded_batch: component '%s' of element %lld has shape %s, larger than the padded shape %s",
                                      ds->spec.names[i], (long long)j, est_shape_str(&e->shape, b1, sizeof b1), est_shape_str(ps, b2, sizeof b2));
                if (ps->dims[d] < 0 && e->shape.dims[d] > full.dims[d + 1]) full.dims[d + 1] = e->shape.dims[d];
            }
        }
        if ((s = est__elbuf_prepare(&it->out, i, ds->spec.dtypes[i], &full)) != EST_OK) return s;
        m = est_shape_numel(&full);
        per = k ? m / k : 0;
        if (ds->spec.dtypes[i] != EST_DTYPE_STRING) {
            if (!ds->tensors) memset(it->out.t[i].data, 0, it->out.t[i].nbytes);
            else
                for (j = 0; j < m; j++) memcpy((char *)it->out.t[i].data + (size_t)j * es, ds->tensors[i]->data, es);
        } else if (ds->tensors) {
            const est_string *pv = (const est_string *)ds->tensors[i]->data;
            for (j = 0; j < m; j++)
                if ((s = est__elbuf_put_str(&it->out, i, j, pv->data, pv->size)) != EST_OK) return s;
        }
        for (j = 0; j < k; j++)
            if ((s = est__pad_copy(&it->out, i, j * per, &it->slots[j].t[i], full.dims + 1)) != EST_OK) return s;
    }
    *v = it->out.t;
    return EST_OK;
}
static const est__it_ops est__ops_pbatch = {18, est__pbatch_init, est__reset_simple, est__pbatch_next,
                                            est__save_simple, est__restore_simple, NULL, NULL};

EST_API est_status est_dataset_padded_batch(est_dataset *ds, int64_t batch_size, const est_shape *padded_shapes,
                                            const est_tensor *padding_values, int drop_remainder, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    int i, k;
    char b1[96], b2[96];
    if ((s = est__check_in("padded_batch", ds, out)) != EST_OK) return s;
    if (batch_size <= 0)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "padded_batch: batch_size must be > 0, got %lld", (long long)batch_size));
    for (i = 0; i < ds->spec.n; i++) {
        const est_shape *in = &ds->spec.shapes[i];
        if (in->rank >= EST_MAX_RANK)
            return est__fail_in(ds, est__error(EST_ERR_SHAPE, "padded_batch: component '%s' already has rank %d", ds->spec.names[i], in->rank));
        if (padded_shapes) {
            const est_shape *ps = &padded_shapes[i];
            int ok = ps->rank == in->rank;
            for (k = 0; ok && k < ps->rank; k++)
                if (ps->dims[k] >= 0 && in->dims[k] >= 0 && ps->dims[k] < in->dims[k]) ok = 0;
            if (!ok)
                return est__fail_in(ds, est__error(EST_ERR_SHAPE, "padded_batch: the padded shape %s of component '%s' does not fit its shape %s",
                                                   est_shape_str(ps, b1, sizeof b1), ds->spec.names[i], est_shape_str(in, b2, sizeof b2)));
        }
        if (padding_values) {
            const est_tensor *pv = &padding_values[i];
            if (pv->dtype != ds->spec.dtypes[i] || pv->shape.rank != 0 || !pv->data)
                return est__fail_in(ds, est__error(EST_ERR_DTYPE, "padded_batch: the padding value of component '%s' must be a %s scalar",
                                                   ds->spec.names[i], est_dtype_name(ds->spec.dtypes[i])));
        }
    }
    if ((s = est__ds_new(&est__ops_pbatch, "padded_batch", 1, &ds, &d)) != EST_OK) return s;
    d->p[0] = batch_size;
    d->p[1] = drop_remainder ? 1 : 0;
    d->card = est__card_batch(ds->card, batch_size, drop_remainder);
    s = est__spec_like(d, ds);
    if (!s) {
        d->pshapes = EST__CALLOC(est_shape, ds->spec.n);
        if (!d->pshapes) s = est__error(EST_ERR_OUT_OF_MEMORY, "padded_batch: out of memory");
    }
    if (!s && padding_values) {
        d->tensors = EST__CALLOC(est_tensor *, ds->spec.n);
        if (!d->tensors) s = est__error(EST_ERR_OUT_OF_MEMORY, "padded_batch: out of memory");
    }
    for (i = 0; i < d->spec.n && !s; i++) {
        est_shape *sh = &d->spec.shapes[i];
        d->pshapes[i] = padded_shapes ? padded_shapes[i] : *sh;
        for (k = 0; k < d->pshapes[i].rank; k++) d->p[2] = (int64_t)est__mix((uint64_t)d->p[2], (uint64_t)d->pshapes[i].dims[k]);
        *sh = d->pshapes[i];
        memmove(sh->dims + 1, sh->dims, sizeof(int64_t) * (size_t)sh->rank);
        sh->rank++;
        sh->dims[0] = drop_remainder ? batch_size : -1;
        if (padding_values) {
            if ((s = est_tensor_copy(&padding_values[i], &d->tensors[i])) != EST_OK) break;
            d->n_tensors = i + 1;
        }
    }
    return est__ds_finish(d, s, out);
}

/* ---- interleave ------------------------------------------------------------------------------------- */

/* kids[0..cl) = the open sub-iterators, ext = their datasets and input indices, slots[ci] = the
 * input element each was made from (kept so a saved state can remake them). a = cycle index, b =
 * block index, c = open count, d = input elements consumed, done = end of input. TF's
 * deterministic order.
 *
 * Each cycle slot has a ring q[ci] of qcap + 1 element buffers: [head, tail) are ready (an element,
 * an error, or the end of that sub-dataset, which is always last), and slot head - 1 is the one the
 * consumer is reading. Serial (num_parallel_calls 0, or EST_NO_THREADS) the ring only holds
 * elements restored from a state, and the sub-iterators are read on the calling thread. Parallel
 * (TF's ParallelInterleave with deterministic=True), P worker threads fill the rings of the open
 * sub-iterators, preferring the slots the consumer needs first (from its cycle position on), while
 * the consumer takes elements in exactly the serial order: the same elements, errors in the same
 * places. Opening sub-datasets (the user's function) stays on the consumer's thread. A save pauses
 * the workers and writes the ready elements with each sub-iterator's state (the sub-iterator has
 * moved past them), so a restore continues exactly at the consumer's position, in either mode. */
typedef struct est__ilq {
    est__elbuf *r;
    int64_t head, tail;
    int busy, pdone; /* a worker is producing into it; its sub-iterator has ended */
} est__ilq;

typedef struct est__il {
    int64_t cl, bl, qcap;
    est_dataset **ds;
    int64_t *idx;
    est__ilq *q;
    int P; /* worker threads; 0 = serial */
#if !defined(EST_NO_THREADS)
    pthread_t *th;
    int n_th, stop, paused;
    int idle, waiting; /* workers asleep; the consumer (take or save) asleep */
    int64_t cur;       /* the consumer's cycle position: workers serve it first */
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
} est__il;

#if !defined(EST_NO_THREADS)
#define EST__IL_LOCK(il) \
    if ((il)->P) pthread_mutex_lock(&(il)->mu)
#define EST__IL_UNLOCK(il) \
    if ((il)->P) pthread_mutex_unlock(&(il)->mu)
#else
#define EST__IL_LOCK(il) (void)0
#define EST__IL_UNLOCK(il) (void)0
#endif

#if !defined(EST_NO_THREADS)
/* Produce slot ci's next result into its ring (called unlocked, with q->busy set by the caller). */
EST_PRIVATE est_status est__il_produce(est__it *it, int64_t ci)
{
    est__il *il = (est__il *)it->ext;
    est__ilq *q = &il->q[ci];
    est__elbuf *slot = &q->r[q->tail % (il->qcap + 1)];
    const est_tensor *e;
    est_status s;
    est_clear_error();
    s = est__it_next(it->kids[ci], &e);
    if (s == EST_OK) s = est__elbuf_copy_all(slot, e);
    if (s == EST_ERR_OUT_OF_RANGE) slot->status = s;
    else if (s != EST_OK) est__elbuf_set_error(slot, s, est_last_error());
    return s;
}
static void *est__il_worker(void *arg)
{
    est__it *it = (est__it *)arg;
    est__il *il = (est__il *)it->ext;
    pthread_mutex_lock(&il->mu);
    for (;;) {
        int64_t k, ci = -1;
        est__ilq *q = NULL;
        est_status s;
        if (il->stop) break;
        for (k = 0; !il->paused && k < il->cl; k++) {
            int64_t j = (il->cur + k) % il->cl;
            est__ilq *qj = &il->q[j];
            if (it->kids[j] && !qj->busy && !qj->pdone && qj->tail - qj->head < il->qcap) {
                ci = j;
                q = qj;
                break;
            }
        }
        if (!q) {
            il->idle++;
            pthread_cond_wait(&il->cv, &il->mu);
            il->idle--;
            continue;
        }
        q->busy = 1;
        pthread_mutex_unlock(&il->mu);
        s = est__il_produce(it, ci);
        pthread_mutex_lock(&il->mu);
        q->busy = 0;
        q->tail++;
        if (s == EST_ERR_OUT_OF_RANGE) q->pdone = 1;
        if (il->waiting) pthread_cond_broadcast(&il->cv);
    }
    pthread_mutex_unlock(&il->mu);
    return NULL;
}
/* Stop and join the workers (they finish the element they are producing). */
EST_PRIVATE void est__il_stop(est__il *il)
{
    int i;
    if (!il->P || !il->n_th) return;
    pthread_mutex_lock(&il->mu);
    il->stop = 1;
    pthread_cond_broadcast(&il->cv);
    pthread_mutex_unlock(&il->mu);
    for (i = 0; i < il->n_th; i++) pthread_join(il->th[i], NULL);
    il->n_th = 0;
    il->stop = 0;
}
EST_PRIVATE est_status est__il_start(est__it *it)
{
    est__il *il = (est__il *)it->ext;
    while (il->n_th < il->P) {
        if (pthread_create(&il->th[il->n_th], NULL, est__il_worker, it) != 0) {
            est__il_stop(il);
            return est__error(EST_ERR_INTERNAL, "interleave: cannot start a worker thread");
        }
        il->n_th++;
    }
    return EST_OK;
}
#else
EST_PRIVATE void est__il_stop(est__il *il) { (void)il; }
#endif

/* Close slot ci (its sub-iterator has ended, or the pass is over and the workers are stopped). */
EST_PRIVATE void est__il_close(est__it *it, int64_t ci)
{
    est__il *il = (est__il *)it->ext;
    est__it *kid;
    EST__IL_LOCK(il);
    kid = it->kids[ci];
    it->kids[ci] = NULL;
    il->q[ci].head = il->q[ci].tail = 0;
    il->q[ci].pdone = 0;
    EST__IL_UNLOCK(il);
    est__it_free(kid);
    est_dataset_free(il->ds[ci]);
    il->ds[ci] = NULL;
}
EST_PRIVATE est_status est__il_init(est__it *it)
{
    est__il *il;
    int64_t cl = it->ds->p[0] <= 0 ? est_num_cores() : it->ds->p[0], ci, k;
    est_status s = est__init_child(it);
    if (s) return s;
    il = EST__CALLOC(est__il, 1);
    it->ext = il;
    if (il) {
        il->ds = EST__CALLOC(est_dataset *, cl);
        il->idx = EST__CALLOC(int64_t, cl);
        il->q = EST__CALLOC(est__ilq, cl);
    }
    it->kids = EST__CALLOC(est__it *, cl);
    if (!il || !il->ds || !il->idx || !il->q || !it->kids) return est__error(EST_ERR_OUT_OF_MEMORY, "interleave: out of memory");
    it->n_kids = (int)cl;
    il->cl = cl;
    il->bl = it->ds->p[1] <= 0 ? 1 : it->ds->p[1];
    /* look-ahead per slot: a block, at least 16 (workers produce in runs), at most 64 (memory) */
    il->qcap = il->bl < 16 ? 16 : il->bl > 64 ? 64 : il->bl;
    for (ci = 0; ci < cl; ci++) {
        il->q[ci].r = EST__CALLOC(est__elbuf, il->qcap + 1);
        if (!il->q[ci].r) return est__error(EST_ERR_OUT_OF_MEMORY, "interleave: out of memory");
        for (k = 0; k <= il->qcap; k++)
            if ((s = est__elbuf_init(&il->q[ci].r[k], it->ds->spec.n)) != EST_OK) return s;
    }
#if !defined(EST_NO_THREADS)
    {
        int64_t P = it->ds->threads == EST_AUTOTUNE ? est_num_cores() : it->ds->threads;
        il->P = (int)(P > cl ? cl : P);
        if (il->P) {
            il->th = EST__CALLOC(pthread_t, il->P);
            if (!il->th) {
                il->P = 0;
                return est__error(EST_ERR_OUT_OF_MEMORY, "interleave: out of memory");
            }
            pthread_mutex_init(&il->mu, NULL);
            pthread_cond_init(&il->cv, NULL);
        }
    }
#endif
    return est__slot(it, cl - 1, it->ds->ins[0]->spec.n);
}
EST_PRIVATE void est__il_fini(est__it *it)
{
    est__il *il = (est__il *)it->ext;
    int64_t ci, k;
    if (!il) return;
    est__il_stop(il);
    for (ci = 0; il->ds && il->q && ci < it->n_kids; ci++) est__il_close(it, ci);
    for (ci = 0; il->q && ci < il->cl; ci++) {
        for (k = 0; il->q[ci].r && k <= il->qcap; k++) est__elbuf_free(&il->q[ci].r[k]);
        est__free(il->q[ci].r);
    }
#if !defined(EST_NO_THREADS)
    if (il->P) {
        pthread_mutex_destroy(&il->mu);
        pthread_cond_destroy(&il->cv);
    }
    est__free(il->th);
#endif
    est__free(il->q);
    est__free(il->ds);
    est__free(il->idx);
    est__free(il);
    it->ext = NULL;
}
EST_PRIVATE est_status est__il_reset(est__it *it)
{
    int64_t ci;
    est__il_stop((est__il *)it->ext);
    for (ci = 0; ci < it->n_kids; ci++) est__il_close(it, ci);
    return est__reset_simple(it);
}
/* Make slot ci's dataset and iterator from the input element in slots[ci]. */
EST_PRIVATE est_status est__il_open(est__it *it, int64_t ci, int64_t index)
{
    est__il *il = (est__il *)it->ext;
    est_element e = est__el(&it->ds->ins[0]->spec, it->slots[ci].t);
    est_dataset *sub = NULL;
    est__it *kid = NULL;
    est_status s = it->ds->il_fn(&e, &sub, it->ds->user);
    int i, ok;
    if (s != EST_OK) {
        est_dataset_free(sub);
        return est__cb_error(s, "interleave");
    }
    if (!sub) return est__error(EST_ERR_INVALID_ARGUMENT, "interleave: the function returned no dataset");
    ok = sub->spec.n == it->ds->spec.n;
    for (i = 0; ok && i < sub->spec.n; i++)
        ok = strcmp(sub->spec.names[i], it->ds->spec.names[i]) == 0 && sub->spec.dtypes[i] == it->ds->spec.dtypes[i];
    if (!ok) {
        est_dataset_free(sub);
        return est__error(EST_ERR_INVALID_ARGUMENT, "interleave: the function's dataset does not have the components of out_spec");
    }
    if ((s = est__it_new(sub, it->ctx, est__mix(it->mix, (uint64_t)index), &kid)) != EST_OK) {
        est_dataset_free(sub);
        return s;
    }
    il->ds[ci] = sub;
    il->idx[ci] = index;
    EST__IL_LOCK(il); /* workers may pick it up from now on */
    it->kids[ci] = kid;
    il->q[ci].head = il->q[ci].tail = 0;
    il->q[ci].pdone = 0;
#if !defined(EST_NO_THREADS)
    if (il->P) pthread_cond_broadcast(&il->cv);
#endif
    EST__IL_UNLOCK(il);
    return EST_OK;
}
/* The next result of slot ci, in order: from its ring, else (serial) from its sub-iterator. */
EST_PRIVATE est_status est__il_take(est__it *it, int64_t ci, const est_tensor **v)
{
    est__il *il = (est__il *)it->ext;
    est__ilq *q = &il->q[ci];
    est__elbuf *e;
#if !defined(EST_NO_THREADS)
    if (il->P) {
        est_status s;
        if (il->n_th < il->P && (s = est__il_start(it)) != EST_OK) return s;
        pthread_mutex_lock(&il->mu);
        il->cur = ci;
        while (q->head == q->tail) {
            if (!q->busy && !q->pdone) {
                /* nothing ready and no worker on it: produce it here rather than wait for a
                 * worker to be scheduled (same order: one producer per slot at a time) */
                est_status ps;
                q->busy = 1;
                pthread_mutex_unlock(&il->mu);
                ps = est__il_produce(it, ci);
                pthread_mutex_lock(&il->mu);
                q->busy = 0;
                q->tail++;
                if (ps == EST_ERR_OUT_OF_RANGE) q->pdone = 1;
                continue;
            }
            if (il->idle) pthread_cond_broadcast(&il->cv);
            il->waiting++;
            pthread_cond_wait(&il->cv, &il->mu);
            il->waiting--;
        }
        e = &q->r[q->head % (il->qcap + 1)];
        q->head++;
        /* wake sleeping workers only below half full, so that they produce in runs (a hand-off
         * per element costs more than a small element) */
        if (il->idle && q->tail - q->head <= il->qcap / 2) pthread_cond_broadcast(&il->cv);
        pthread_mutex_unlock(&il->mu);
    } else
#endif
    {
        if (q->head == q->tail) return est__it_next(it->kids[ci], v);
        e = &q->r[q->head % (il->qcap + 1)];
        q->head++;
    }
    if (e->status == EST_ERR_OUT_OF_RANGE) return EST_ERR_OUT_OF_RANGE;
    if (e->status != EST_OK) return est__elbuf_raise(e);
    *v = e->t;
    return EST_OK;
}
EST_PRIVATE est_status est__il_next(est__it *it, const est_tensor **v)
{
    est__il *il = (est__il *)it->ext;
    est_status s;
    for (;;) {
        int64_t ci = it->a;
        if (it->done && it->c == 0) return EST_ERR_OUT_OF_RANGE;
        if (it->kids[ci]) {
            s = est__il_take(it, ci, v);
            if (s == EST_OK) {
                if (++it->b == il->bl) {
                    it->b = 0;
                    it->a = (it->a + 1) % il->cl;
                }
                return EST_OK;
            }
            if (s != EST_ERR_OUT_OF_RANGE) return s;
            est__il_close(it, ci);
            it->c--;
            it->b = 0;
            it->a = (it->a + 1) % il->cl;
        } else if (!it->done) {
            const est_tensor *e;
            s = est__it_next(it->child, &e);
            if (s == EST_ERR_OUT_OF_RANGE) {
                it->done = 1;
                continue;
            }
            if (s != EST_OK) return s;
            if ((s = est__elbuf_copy_all(&it->slots[ci], e)) != EST_OK) return s;
            if ((s = est__il_open(it, ci, it->d++)) != EST_OK) return s;
            it->c++;
        } else {
            it->b = 0;
            it->a = (it->a + 1) % il->cl;
        }
    }
}
EST_PRIVATE est_status est__il_save_locked(est__it *it, est__wbuf *w)
{
    est__il *il = (est__il *)it->ext;
    int64_t ci, k;
    est_status s;
    for (ci = 0; ci < il->cl; ci++)
        if (il->ds[ci] && il->ds[ci]->no_save)
            return est__error(EST_ERR_UNIMPLEMENTED, "est_iterator_save: an interleaved dataset reads from a generator");
    est__w_i64(w, il->cl);
    if ((s = est__save_simple(it, w)) != EST_OK) return s;
    for (ci = 0; ci < il->cl; ci++) {
        est__ilq *q = &il->q[ci];
        est__w_u32(w, it->kids[ci] ? 1u : 0u);
        if (!it->kids[ci]) continue;
        est__w_i64(w, il->idx[ci]);
        est__w_u64(w, il->ds[ci]->fp);
        est__w_slot(w, &it->slots[ci], it->ds->ins[0]->spec.n, it->slots[ci].t);
        est__w_i64(w, q->tail - q->head); /* produced, not yet consumed */
        for (k = q->head; k < q->tail; k++) {
            est__elbuf *e = &q->r[k % (il->qcap + 1)];
            est__w_slot(w, e, it->ds->spec.n, e->t);
        }
        if ((s = est__it_save(it->kids[ci], w)) != EST_OK) return s;
    }
    return EST_OK;
}
EST_PRIVATE est_status est__il_save(est__it *it, est__wbuf *w)
{
    est__il *il = (est__il *)it->ext;
    est_status s;
#if !defined(EST_NO_THREADS)
    int64_t ci;
    if (il->P) {
        pthread_mutex_lock(&il->mu);
        il->paused = 1;
        for (;;) { /* wait for the elements being produced */
            for (ci = 0; ci < il->cl && !il->q[ci].busy; ci++) {
            }
            if (ci == il->cl) break;
            il->waiting++;
            pthread_cond_wait(&il->cv, &il->mu);
            il->waiting--;
        }
    }
#else
    (void)il;
#endif
    s = est__il_save_locked(it, w);
#if !defined(EST_NO_THREADS)
    if (il->P) {
        il->paused = 0;
        pthread_cond_broadcast(&il->cv);
        pthread_mutex_unlock(&il->mu);
    }
#endif
    return s;
}
EST_PRIVATE est_status est__il_restore(est__it *it, est__rbuf *r)
{
    est__il *il = (est__il *)it->ext;
    int64_t ci, cl, open = 0, n, k;
    est_status s;
    if ((s = est__r_i64(r, &cl)) != EST_OK) return s;
    if (cl != il->cl)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_restore: interleave was saved with cycle_length %lld, this one has %lld",
                          (long long)cl, (long long)il->cl);
    if ((s = est__restore_simple(it, r)) != EST_OK) return s;
    if (it->a >= cl || it->b >= il->bl || it->c > cl)
        return est__error(EST_ERR_CORRUPT, "est_iterator_restore: bad interleave position");
    for (ci = 0; ci < cl; ci++) {
        uint32_t present;
        int64_t idx;
        uint64_t fp;
        est__ilq *q = &il->q[ci];
        if ((s = est__r_u32(r, &present)) != EST_OK) return s;
        if (!present) continue;
        if ((s = est__r_range(r, "interleave index", 0, INT64_MAX, &idx)) || (s = est__r_u64(r, &fp))) return s;
        if ((s = est__r_slot(r, &it->slots[ci], &it->ds->ins[0]->spec)) != EST_OK) return s;
        if ((s = est__il_open(it, ci, idx)) != EST_OK) return s;
        if (il->ds[ci]->fp != fp)
            return est__error(EST_ERR_INVALID_ARGUMENT, "est_iterator_restore: interleave's function made another pipeline for input %lld",
                              (long long)idx);
        if ((s = est__r_range(r, "interleave buffered elements", 0, il->qcap, &n)) != EST_OK) return s;
        for (k = 0; k < n; k++) {
            if ((s = est__r_slot(r, &q->r[k], &it->ds->spec)) != EST_OK) return s;
            /* the end of a sub-dataset can only be the last buffered result */
            if (q->r[k].status == EST_ERR_OUT_OF_RANGE && k != n - 1)
                return est__error(EST_ERR_CORRUPT, "est_iterator_restore: inconsistent interleave buffer");
        }
        q->head = 0;
        q->tail = n;
        q->pdone = n > 0 && q->r[n - 1].status == EST_ERR_OUT_OF_RANGE;
        if ((s = est__it_restore(it->kids[ci], r)) != EST_OK) return s;
        open++;
    }
    if (open != it->c) return est__error(EST_ERR_CORRUPT, "est_iterator_restore: interleave open count mismatch");
    return EST_OK;
}
static const est__it_ops est__ops_il = {19, est__il_init, est__il_reset, est__il_next, est__il_save, est__il_restore, est__il_fini, NULL};

EST_API est_status est_dataset_interleave(est_dataset *ds, est_interleave_fn fn, void *user, const est_element_spec *out_spec,
                                          int cycle_length, int block_length, int num_parallel_calls, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("interleave", ds, out)) != EST_OK) return s;
    if (!fn) return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "interleave: the function is NULL"));
    if (cycle_length < -1 || block_length < 0 || num_parallel_calls < -1)
        return est__fail_in(ds, est__error(EST_ERR_INVALID_ARGUMENT, "interleave: bad cycle_length %d / block_length %d / num_parallel_calls %d",
                                           cycle_length, block_length, num_parallel_calls));
    if ((s = est__check_user_spec("interleave", out_spec)) != EST_OK) return est__fail_in(ds, s);
    if ((s = est__ds_new(&est__ops_il, "interleave", 1, &ds, &d)) != EST_OK) return s;
    d->il_fn = fn;
    d->user = user;
    d->p[0] = cycle_length;
    d->p[1] = block_length;
    d->threads = num_parallel_calls; /* not in the fingerprint: states move between thread counts */
    d->card = EST_CARDINALITY_UNKNOWN;
    return est__ds_finish(d, est__dspec_from_user(&d->spec, out_spec), out);
}

/* ---- ignore_errors ---------------------------------------------------------------------------------- */

EST_PRIVATE est_status est__ignore_next(est__it *it, const est_tensor **v)
{
    for (;;) {
        est_status s = est__it_next(it->child, v);
        if (s == EST_OK || s == EST_ERR_OUT_OF_RANGE) return s;
        est__atomic_add(&it->ctx->ignored, 1);
        est_clear_error();
    }
}
static const est__it_ops est__ops_ignore = {20, est__init_child, est__reset_simple, est__ignore_next,
                                            est__save_simple, est__restore_simple, NULL, NULL};

EST_API est_status est_dataset_ignore_errors(est_dataset *ds, est_dataset **out)
{
    est_dataset *d;
    est_status s;
    if ((s = est__check_in("ignore_errors", ds, out)) != EST_OK) return s;
    if ((s = est__ds_new(&est__ops_ignore, "ignore_errors", 1, &ds, &d)) != EST_OK) return s;
    d->card = EST_CARDINALITY_UNKNOWN;
    return est__ds_finish(d, est__spec_like(d, ds), out);
}
