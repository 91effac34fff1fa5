/* >>sys/threadpool: a fixed pool of worker threads and a deterministic parallel_for.
 * TF counterpart: the intra-op thread pool (ConfigProto.intra_op_parallelism_threads). */

EST__EXTERN_C_BEGIN

typedef struct est_threadpool est_threadpool;

/* The default configuration is: num_threads = 0, meaning the number of online cores.
 * Under EST_NO_THREADS every pool runs its work on the calling thread. */
typedef struct est_threadpool_desc {
    int num_threads; /* total threads including the caller; 0 = number of cores */
} est_threadpool_desc;

/* Create a pool: num_threads - 1 workers that sleep on a condition variable between jobs. After
 * a job a worker polls for the next one for up to EST_POOL_SPIN_US microseconds (default 50;
 * define it 0 to never poll) before it sleeps: the next op of a plan run usually comes sooner,
 * and a condition-variable wake-up costs tens of microseconds, a whole batch-1 layer. Returns EST_OK and *out, or an error and *out = NULL.
 * Ownership: the caller frees it with est_threadpool_free. */
EST_API est_status est_threadpool_new(const est_threadpool_desc *desc, est_threadpool **out);
EST_API void est_threadpool_free(est_threadpool *pool);
/* Threads that run tasks, the caller included: 1 for a NULL pool. */
EST_API int est_threadpool_size(const est_threadpool *pool);
/* Number of online cores (1 when unknown). */
EST_API int est_num_cores(void);

/* Run fn(ctx, task, thread) for task = 0 .. n_tasks-1 and return when all are done. The caller
 * takes part. `thread` is in [0, est_threadpool_size) and lets a task use per-thread scratch.
 * Determinism: the split into tasks is the caller's and never depends on the thread count, so a
 * task computes the same bits whichever thread runs it. Thread safety: one parallel_for at a time
 * per pool; a task must not call parallel_for on the same pool (it would run serially). */
typedef void (*est_parallel_fn)(void *ctx, int64_t task, int thread);
EST_API void est_parallel_for(est_threadpool *pool, int64_t n_tasks, est_parallel_fn fn, void *ctx);

EST__EXTERN_C_END
