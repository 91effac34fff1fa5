/* >>kernels/api: the numeric kernel table (GEMM) that a backend such as estimator_blas.h can
 * replace. TF counterpart: the Eigen / MKL kernels behind MatMul and Conv2D. */

EST__EXTERN_C_BEGIN

/* C = alpha * op(A) * op(B) + beta * C, row-major, single precision; op(X) is X or X^T.
 * A is m x k after op, B is k x n after op, C is m x n. lda, ldb, ldc are row strides in
 * elements of the matrices as stored (before op). */
typedef struct est_sgemm_args {
    int trans_a, trans_b; /* 0 or 1 */
    int64_t m, n, k;
    float alpha;
    const float *a;
    int64_t lda;
    const float *b;
    int64_t ldb;
    float beta;
    float *c;
    int64_t ldc;
    /* The executor's pool and the threads this product may use (0 / NULL: unknown, run on the
     * calling thread). A backend splits its product over this pool (est_parallel_for) rather than
     * starting threads of its own, so the two never oversubscribe the cores. num_threads == 1
     * with a pool: the call comes from one of the pool's own tasks (a convolution runs whole
     * chunks per thread); compute on the calling thread. */
    int num_threads;
    est_threadpool *pool;
} est_sgemm_args;

/* A kernel table. The zero value means the built-in kernels. A backend fills sgemm; the library
 * calls it for every matrix product (dense layers, convolutions and their gradients).
 * Thread safety: sgemm is called concurrently from the pool's threads (each call with
 * num_threads == 1), so it must be reentrant. */
typedef struct est_kernels {
    void (*sgemm)(void *user_data, const est_sgemm_args *args);
    void *user_data;
    const char *name; /* shown in logs and benchmarks, e.g. "builtin", "openblas" */
} est_kernels;

/* The built-in GEMM, for users who want to call it directly: packed, cache-blocked and vectorised
 * in portable C. `pool` may be NULL. Results are bit-identical for any thread count (the K
 * dimension is never split between threads). It allocates its packing buffers on each call; the
 * graph executor uses an internal variant with preallocated workspace instead. */
EST_API est_status est_sgemm(est_threadpool *pool, const est_sgemm_args *args);

EST__EXTERN_C_END
