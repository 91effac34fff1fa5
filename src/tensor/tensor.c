/* >>tensor/impl: dtype tables, shape helpers, tensor allocation. */

static const char *const est__dtype_names[EST_DTYPE_COUNT] = {
    "invalid",
#define EST__X(e, name, size) name,
    EST__DTYPE_LIST(EST__X)
#undef EST__X
};
static const size_t est__dtype_sizes[EST_DTYPE_COUNT] = {
    0,
#define EST__X(e, name, size) size,
    EST__DTYPE_LIST(EST__X)
#undef EST__X
};

EST_API const char *est_dtype_name(est_dtype dt)
{
    return ((int)dt > 0 && (int)dt < EST_DTYPE_COUNT) ? est__dtype_names[dt] : "invalid";
}
EST_API size_t est_dtype_size(est_dtype dt)
{
    return ((int)dt > 0 && (int)dt < EST_DTYPE_COUNT) ? est__dtype_sizes[dt] : 0;
}
EST_API est_dtype est_dtype_from_name(const char *name)
{
    int i;
    if (!name) return EST_DTYPE_DEFAULT;
    if (strcmp(name, "float") == 0) return EST_DTYPE_F32;
    if (strcmp(name, "double") == 0) return EST_DTYPE_F64;
    for (i = 1; i < EST_DTYPE_COUNT; i++)
        if (strcmp(name, est__dtype_names[i]) == 0) return (est_dtype)i;
    return EST_DTYPE_DEFAULT;
}

EST_API est_shape est_shape_make(int rank, const int64_t *dims)
{
    est_shape s;
    int i;
    memset(&s, 0, sizeof s);
    if (rank < 0 || rank > EST_MAX_RANK) {
        s.rank = -1;
        return s;
    }
    s.rank = rank;
    for (i = 0; i < rank; i++) s.dims[i] = dims[i];
    return s;
}
EST_API est_shape est_shape_scalar(void) { return est_shape_make(0, NULL); }
EST_API est_shape est_shape1(int64_t d0) { return est_shape_make(1, &d0); }
EST_API est_shape est_shape2(int64_t d0, int64_t d1)
{
    int64_t d[2];
    d[0] = d0;
    d[1] = d1;
    return est_shape_make(2, d);
}
EST_API est_shape est_shape3(int64_t d0, int64_t d1, int64_t d2)
{
    int64_t d[3];
    d[0] = d0;
    d[1] = d1;
    d[2] = d2;
    return est_shape_make(3, d);
}
EST_API est_shape est_shape4(int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t d[4];
    d[0] = d0;
    d[1] = d1;
    d[2] = d2;
    d[3] = d3;
    return est_shape_make(4, d);
}

EST_API int64_t est_shape_numel(const est_shape *s)
{
    int64_t n = 1;
    int i;
    if (s->rank < 0) return -1;
    for (i = 0; i < s->rank; i++) {
        if (s->dims[i] < 0) return -1;
        if (s->dims[i] > 0 && n > INT64_MAX / s->dims[i]) { /* overflow: a zero later still wins */
            int j;
            for (j = i + 1; j < s->rank; j++)
                if (s->dims[j] == 0) return 0;
            return -1;
        }
        n *= s->dims[i];
    }
    return n;
}

EST_API int est_shape_equal(const est_shape *a, const est_shape *b)
{
    int i;
    if (a->rank != b->rank) return 0;
    for (i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

EST_API const char *est_shape_str(const est_shape *s, char *buf, size_t size)
{
    size_t len = 0;
    int i;
    if (!size) return buf;
    buf[0] = 0;
    if (s->rank < 0) {
        est__snprintf(buf, size, "<invalid rank>");
        return buf;
    }
    len += (size_t)est__snprintf(buf + len, size - len, "[");
    for (i = 0; i < s->rank && len < size; i++) {
        if (s->dims[i] < 0)
            len += (size_t)est__snprintf(buf + len, size - len, "%s?", i ? "," : "");
        else
            len += (size_t)est__snprintf(buf + len, size - len, "%s%lld", i ? "," : "",
                                         (long long)s->dims[i]);
    }
    if (len < size) est__snprintf(buf + len, size - len, "]");
    return buf;
}

EST_PRIVATE est_status est__check_shape(const char *who, est_shape shape)
{
    int i;
    char b[96];
    if (shape.rank < 0 || shape.rank > EST_MAX_RANK)
        return est__error(EST_ERR_SHAPE, "%s: rank %d is outside 0..%d", who, shape.rank,
                          EST_MAX_RANK);
    for (i = 0; i < shape.rank; i++)
        if (shape.dims[i] < 0)
            return est__error(EST_ERR_SHAPE, "%s: shape %s is not fully known", who,
                              est_shape_str(&shape, b, sizeof b));
    return EST_OK;
}

/* One allocation for header and data: [est_tensor][pad to 64][data]. */
EST_PRIVATE est_status est__tensor_alloc(est_dtype dtype, est_shape shape, size_t extra,
                                         est_tensor **out)
{
    est_tensor *t;
    int64_t n;
    size_t es = est_dtype_size(dtype), hdr = (sizeof(est_tensor) + 63) & ~(size_t)63, nbytes;
    est_status s;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_tensor_new: out is NULL");
    *out = NULL;
    if (!es) return est__error(EST_ERR_DTYPE, "est_tensor_new: invalid dtype %d", (int)dtype);
    if ((s = est__check_shape("est_tensor_new", shape)) != EST_OK) return s;
    n = est_shape_numel(&shape);
    if (n > (int64_t)(SIZE_MAX / 2 / es))
        return est__error(EST_ERR_OUT_OF_MEMORY, "est_tensor_new: %lld elements is too many",
                          (long long)n);
    nbytes = (size_t)n * es;
    t = (est_tensor *)est__malloc(hdr + nbytes + extra);
    if (!t)
        return est__error(EST_ERR_OUT_OF_MEMORY, "est_tensor_new: out of memory for %zu bytes",
                          hdr + nbytes + extra);
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->shape = shape;
    t->data = (char *)t + hdr;
    t->nbytes = nbytes;
    t->flags = EST_TENSOR_OWNED;
    memset(t->data, 0, nbytes);
    *out = t;
    return EST_OK;
}

EST_API est_status est_tensor_new(est_dtype dtype, est_shape shape, est_tensor **out)
{
    if (dtype == EST_DTYPE_DEFAULT) dtype = EST_DTYPE_F32;
    return est__tensor_alloc(dtype, shape, 0, out);
}

EST_API est_status est_tensor_from_data(est_dtype dtype, est_shape shape, const void *data,
                                        est_tensor **out)
{
    est_status s;
    if (dtype == EST_DTYPE_DEFAULT) dtype = EST_DTYPE_F32;
    if (dtype == EST_DTYPE_STRING)
        return est__error(EST_ERR_DTYPE, "est_tensor_from_data: use est_tensor_from_strings");
    if ((s = est__tensor_alloc(dtype, shape, 0, out)) != EST_OK) return s;
    if ((*out)->nbytes) {
        if (!data) {
            est_tensor_free(*out);
            *out = NULL;
            return est__error(EST_ERR_INVALID_ARGUMENT, "est_tensor_from_data: data is NULL");
        }
        memcpy((*out)->data, data, (*out)->nbytes);
    }
    return EST_OK;
}

EST_PRIVATE est_status est__tensor_strings(est_shape shape, const est_string *src, est_tensor **out)
{
    int64_t n = est_shape_numel(&shape), i;
    size_t total = 0;
    est_status s;
    char *bytes;
    est_string *dst;
    if (n > 0 && !src) return est__error(EST_ERR_INVALID_ARGUMENT, "string tensor: NULL strings");
    for (i = 0; i < n; i++) total += src[i].size + 1;
    if ((s = est__tensor_alloc(EST_DTYPE_STRING, shape, total, out)) != EST_OK) return s;
    dst = (est_string *)(*out)->data;
    bytes = (char *)(*out)->data + (*out)->nbytes;
    for (i = 0; i < n; i++) {
        if (src[i].size) memcpy(bytes, src[i].data, src[i].size);
        bytes[src[i].size] = 0;
        dst[i].data = bytes;
        dst[i].size = src[i].size;
        bytes += src[i].size + 1;
    }
    return EST_OK;
}

EST_API est_status est_tensor_from_strings(est_shape shape, const char *const *strs, est_tensor **out)
{
    int64_t n = est_shape_numel(&shape), i;
    est_string *tmp;
    est_status s;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_tensor_from_strings: out is NULL");
    *out = NULL;
    if ((s = est__check_shape("est_tensor_from_strings", shape)) != EST_OK) return s;
    if (n > 0 && !strs)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_tensor_from_strings: strs is NULL");
    tmp = EST__ALLOC(est_string, n ? n : 1);
    if (!tmp) return est__error(EST_ERR_OUT_OF_MEMORY, "est_tensor_from_strings: out of memory");
    for (i = 0; i < n; i++) {
        tmp[i].data = strs[i] ? strs[i] : "";
        tmp[i].size = strlen(tmp[i].data);
    }
    s = est__tensor_strings(shape, tmp, out);
    est__free(tmp);
    return s;
}

EST_API est_status est_tensor_copy(const est_tensor *src, est_tensor **out)
{
    if (!src || !out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_tensor_copy: NULL argument");
    if (src->dtype == EST_DTYPE_STRING)
        return est__tensor_strings(src->shape, (const est_string *)src->data, out);
    return est_tensor_from_data(src->dtype, src->shape, src->data, out);
}

EST_API est_status est_tensor_view(const est_tensor *src, est_shape shape, est_tensor *out)
{
    char a[96], b[96];
    if (!src || !out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_tensor_view: NULL argument");
    if (est_shape_numel(&shape) != est_shape_numel(&src->shape) || shape.rank < 0)
        return est__error(EST_ERR_SHAPE, "est_tensor_view: cannot view %s as %s",
                          est_shape_str(&src->shape, a, sizeof a), est_shape_str(&shape, b, sizeof b));
    *out = *src;
    out->shape = shape;
    out->flags = 0;
    return EST_OK;
}

EST_API void est_tensor_free(est_tensor *t)
{
    if (t && (t->flags & EST_TENSOR_OWNED)) est__free(t);
}

EST_API int64_t est_tensor_numel(const est_tensor *t) { return t ? est_shape_numel(&t->shape) : 0; }

EST_API float *est_tensor_f32(const est_tensor *t)
{
    return (t && t->dtype == EST_DTYPE_F32) ? (float *)t->data : NULL;
}
EST_API int32_t *est_tensor_i32(const est_tensor *t)
{
    return (t && t->dtype == EST_DTYPE_I32) ? (int32_t *)t->data : NULL;
}
EST_API int64_t *est_tensor_i64(const est_tensor *t)
{
    return (t && t->dtype == EST_DTYPE_I64) ? (int64_t *)t->data : NULL;
}

EST_API double est_tensor_get(const est_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case EST_DTYPE_F32: return ((const float *)t->data)[i];
    case EST_DTYPE_F64: return ((const double *)t->data)[i];
    case EST_DTYPE_I32: return ((const int32_t *)t->data)[i];
    case EST_DTYPE_I64: return (double)((const int64_t *)t->data)[i];
    case EST_DTYPE_U8: return ((const uint8_t *)t->data)[i];
    case EST_DTYPE_BOOL: return ((const uint8_t *)t->data)[i] ? 1.0 : 0.0;
    default: return 0.0;
    }
}
