/* >>tensor/api: dtypes, shapes (rank <= 8) and concrete tensors.
 * TF counterpart: tf.DType, tf.TensorShape, the values Session.run returns (numpy arrays). */

EST__EXTERN_C_BEGIN

#define EST_MAX_RANK 8

/* Element types. EST_DTYPE_DEFAULT (0) means "float32" wherever a desc leaves it unset. */
#define EST__DTYPE_LIST(X)                                                                         \
    X(EST_DTYPE_F32, "float32", 4)                                                                 \
    X(EST_DTYPE_F64, "float64", 8)                                                                 \
    X(EST_DTYPE_I32, "int32", 4)                                                                   \
    X(EST_DTYPE_I64, "int64", 8)                                                                   \
    X(EST_DTYPE_U8, "uint8", 1)                                                                    \
    X(EST_DTYPE_BOOL, "bool", 1)                                                                   \
    X(EST_DTYPE_STRING, "string", sizeof(est_string))

/* A string element: bytes with a length (not NUL-terminated in general; may hold any bytes). */
typedef struct est_string {
    const char *data;
    size_t size;
} est_string;

typedef enum est_dtype {
    EST_DTYPE_DEFAULT = 0,
#define EST__X(e, name, size) e,
    EST__DTYPE_LIST(EST__X)
#undef EST__X
    EST_DTYPE_COUNT,
    EST_DTYPE_FORCE_U32 = 0x7FFFFFFF
} est_dtype;

/* TF's name of a dtype ("float32", "int64", ...); "invalid" for out-of-range values. */
EST_API const char *est_dtype_name(est_dtype dt);
/* Bytes per element (sizeof(est_string) for strings); 0 for invalid dtypes. */
EST_API size_t est_dtype_size(est_dtype dt);
/* The dtype for a TF name ("float32", "float", "int64", ...), or EST_DTYPE_DEFAULT if unknown. */
EST_API est_dtype est_dtype_from_name(const char *name);

/* A shape: rank 0 (scalar) to EST_MAX_RANK. In graphs a dimension may be -1: unknown until run
 * time (the dynamic batch dimension of a placeholder). */
typedef struct est_shape {
    int rank;
    int64_t dims[EST_MAX_RANK];
} est_shape;

EST_API est_shape est_shape_scalar(void);
EST_API est_shape est_shape1(int64_t d0);
EST_API est_shape est_shape2(int64_t d0, int64_t d1);
EST_API est_shape est_shape3(int64_t d0, int64_t d1, int64_t d2);
EST_API est_shape est_shape4(int64_t d0, int64_t d1, int64_t d2, int64_t d3);
/* A shape from an array (rank is clamped by the caller: rank > EST_MAX_RANK gives rank -1, an
 * invalid shape that every consumer rejects). */
EST_API est_shape est_shape_make(int rank, const int64_t *dims);
/* Number of elements; -1 if any dimension is unknown or the count does not fit int64_t (a shape
 * can only get there by broadcasting independent dimensions: the plan reports it as an error). */
EST_API int64_t est_shape_numel(const est_shape *s);
EST_API int est_shape_equal(const est_shape *a, const est_shape *b);
/* "[?,28,28,1]" into buf (always terminated); returns buf. */
EST_API const char *est_shape_str(const est_shape *s, char *buf, size_t size);

/* A concrete tensor: dtype, shape and a dense row-major buffer. A tensor either owns its data
 * (created by est_tensor_new and friends, freed by est_tensor_free) or is a view of memory that
 * someone else owns (est_tensor_view, outputs of a graph run): a view is a plain struct that needs
 * no freeing and is valid only as long as that memory. String tensors hold est_string elements
 * whose bytes an owning tensor keeps in the same allocation. */
typedef struct est_tensor {
    est_dtype dtype;
    est_shape shape;
    void *data;
    size_t nbytes; /* bytes of data (strings: the est_string array only) */
    uint32_t flags; /* EST_TENSOR_OWNED when est_tensor_free must release it */
} est_tensor;
#define EST_TENSOR_OWNED 1u

/* A new zero-filled tensor (strings: all empty). The shape must be fully known.
 * Ownership: free with est_tensor_free. */
EST_API est_status est_tensor_new(est_dtype dtype, est_shape shape, est_tensor **out);
/* A new tensor holding a copy of `data` (numel * dtype size bytes; not for strings). */
EST_API est_status est_tensor_from_data(est_dtype dtype, est_shape shape, const void *data,
                                        est_tensor **out);
/* A new string tensor from n C strings (copied). */
EST_API est_status est_tensor_from_strings(est_shape shape, const char *const *strs, est_tensor **out);
/* A deep copy (strings included). */
EST_API est_status est_tensor_copy(const est_tensor *src, est_tensor **out);
/* A view of `src` with another shape of the same element count (est_tensor_reshape's result
 * shares src's data). Fails if the counts differ. */
EST_API est_status est_tensor_view(const est_tensor *src, est_shape shape, est_tensor *out);
/* Frees an owned tensor (and NULL). Views are not freed. */
EST_API void est_tensor_free(est_tensor *t);
EST_API int64_t est_tensor_numel(const est_tensor *t);
/* Typed access; NULL if the dtype differs (catches a float read of an int tensor). */
EST_API float *est_tensor_f32(const est_tensor *t);
EST_API int32_t *est_tensor_i32(const est_tensor *t);
EST_API int64_t *est_tensor_i64(const est_tensor *t);
/* Element i as a double, whatever the numeric dtype (0 for strings). For tests and tools. */
EST_API double est_tensor_get(const est_tensor *t, int64_t i);

EST__EXTERN_C_END
