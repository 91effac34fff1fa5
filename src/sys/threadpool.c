/* >>sys/threadpool-impl: pthread workers woken by a generation counter; tasks are claimed with an
 * atomic counter so the split is fixed and only the assignment of tasks to threads varies. */

#if !defined(EST_NO_THREADS)
#include <pthread.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

EST_API int est_num_cores(void)
{
#if defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#else
    return 1;
#endif
}

#if defined(EST_NO_THREADS)

struct est_threadpool {
    int n;
};
EST_API est_status est_threadpool_new(const est_threadpool_desc *desc, est_threadpool **out)
{
    est_threadpool *p;
    (void)desc;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_threadpool_new: out is NULL");
    *out = NULL;
    p = EST__CALLOC(est_threadpool, 1);
    if (!p) return est__error(EST_ERR_OUT_OF_MEMORY, "est_threadpool_new: out of memory");
    p->n = 1;
    *out = p;
    return EST_OK;
}
EST_API void est_threadpool_free(est_threadpool *pool) { est__free(pool); }
EST_API int est_threadpool_size(const est_threadpool *pool)
{
    (void)pool;
    return 1;
}
EST_API void est_parallel_for(est_threadpool *pool, int64_t n_tasks, est_parallel_fn fn, void *ctx)
{
    int64_t t;
    (void)pool;
    for (t = 0; t < n_tasks; t++) fn(ctx, t, 0);
}
EST_PRIVATE void est__parallel_for_static(est_threadpool *pool, int64_t n_tasks, est_parallel_fn fn, void *ctx)
{
    est_parallel_for(pool, n_tasks, fn, ctx);
}

#else

struct est_threadpool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    uint64_t generation;
    uint64_t done_count; /* workers finished with this generation */
    int stop;
    est_parallel_fn fn;
    void *ctx;
    int64_t n_tasks;
    int64_t next; /* claimed with an atomic add */
    int stat;     /* this job: thread i runs tasks i, i + n, ... (no claiming) */
    int busy;
};

typedef struct est__worker_arg {
    est_threadpool *pool;
    int index;
} est__worker_arg;

/* Which pool this thread works for, and as which index: a task that calls parallel_for on its
 * own pool runs the inner loop serially instead of deadlocking. */
static EST__THREAD_LOCAL est_threadpool *est__tls_pool;
static EST__THREAD_LOCAL int est__tls_index;

EST_PRIVATE int64_t est__claim(est_threadpool *p)
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
#else
    int64_t t;
    pthread_mutex_lock(&p->mu);
    t = p->next++;
    pthread_mutex_unlock(&p->mu);
    return t;
#endif
}

EST_PRIVATE void est__run_tasks(est_threadpool *p, int index)
{
    int64_t t;
    if (p->stat) {
        for (t = index; t < p->n_tasks; t += p->n) p->fn(p->ctx, t, index);
        return;
    }
    while ((t = est__claim(p)) < p->n_tasks) p->fn(p->ctx, t, index);
}

/* Waking a thread that sleeps on a condition variable takes tens of microseconds, as long as a
 * whole small op (a batch-1 layer). So a thread that is about to sleep first polls for up to
 * EST_POOL_SPIN_US microseconds (the gap between two ops of a plan run is far shorter), then
 * sleeps: idle pools cost nothing, busy ones hand work over in well under a microsecond. */
#ifndef EST_POOL_SPIN_US
#  define EST_POOL_SPIN_US 50
#endif
/* Polls *v until it differs from x (ge == 0) or reaches x (ge == 1), for at most EST_POOL_SPIN_US. */
EST_PRIVATE void est__spin(const uint64_t *v, uint64_t x, int ge)
{
#if (defined(__GNUC__) || defined(__clang__)) && EST_POOL_SPIN_US > 0
    double until = 0;
    int i;
    for (;;) {
        for (i = 0; i < 64; i++) {
            uint64_t now = __atomic_load_n(v, __ATOMIC_ACQUIRE);
            if (ge ? now >= x : now != x) return;
#  if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#  endif
        }
        if (until == 0)
            until = est_time_now() + EST_POOL_SPIN_US * 1e-6;
        else if (est_time_now() > until)
            return;
    }
#else
    (void)v;
    (void)x;
    (void)ge;
#endif
}

static void *est__worker_main(void *arg)
{
    est__worker_arg *wa = (est__worker_arg *)arg;
    est_threadpool *p = wa->pool;
    int index = wa->index;
    uint64_t seen = 0;
    est__free(wa);
    est__tls_pool = p;
    est__tls_index = index;
    for (;;) {
        est__spin(&p->generation, seen, 0);
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->stop) pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        est__run_tasks(p, index);
        pthread_mutex_lock(&p->mu);
#if defined(__GNUC__) || defined(__clang__)
        if (__atomic_add_fetch(&p->done_count, 1, __ATOMIC_RELEASE) == (uint64_t)(p->n - 1))
            pthread_cond_signal(&p->cv_done);
#else
        if (++p->done_count == (uint64_t)(p->n - 1)) pthread_cond_signal(&p->cv_done);
#endif
        pthread_mutex_unlock(&p->mu);
    }
}

EST_API est_status est_threadpool_new(const est_threadpool_desc *desc, est_threadpool **out)
{
    est_threadpool *p;
    int n = desc ? desc->num_threads : 0, i;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_threadpool_new: out is NULL");
    *out = NULL;
    if (n < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_threadpool_new: num_threads %d < 0", n);
    if (n == 0) n = est_num_cores();
    p = EST__CALLOC(est_threadpool, 1);
    if (!p) return est__error(EST_ERR_OUT_OF_MEMORY, "est_threadpool_new: out of memory");
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (n > 1) {
        p->threads = EST__CALLOC(pthread_t, n - 1);
        if (!p->threads) {
            est_threadpool_free(p);
            return est__error(EST_ERR_OUT_OF_MEMORY, "est_threadpool_new: out of memory");
        }
        for (i = 1; i < n; i++) {
            est__worker_arg *wa = EST__ALLOC(est__worker_arg, 1);
            if (wa) {
                wa->pool = p;
                wa->index = i;
            }
            if (!wa || pthread_create(&p->threads[i - 1], NULL, est__worker_main, wa) != 0) {
                est__free(wa);
                p->n = i; /* only the started ones are joined */
                est_threadpool_free(p);
                return est__error(EST_ERR_INTERNAL, "est_threadpool_new: cannot start thread %d", i);
            }
        }
    }
    *out = p;
    return EST_OK;
}

EST_API void est_threadpool_free(est_threadpool *p)
{
    int i;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    if (p->threads)
        for (i = 1; i < p->n; i++) pthread_join(p->threads[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    est__free(p->threads);
    est__free(p);
}

EST_API int est_threadpool_size(const est_threadpool *pool) { return pool ? pool->n : 1; }

EST_PRIVATE void est__parallel_for_mode(est_threadpool *p, int64_t n_tasks, est_parallel_fn fn, void *ctx, int stat)
{
    int64_t t;
    if (n_tasks <= 0) return;
    if (!p || p->n == 1 || n_tasks == 1 || est__tls_pool == p || p->busy) {
        int index = (p && est__tls_pool == p) ? est__tls_index : 0;
        for (t = 0; t < n_tasks; t++) fn(ctx, t, index);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->busy = 1;
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->next = 0;
    p->stat = stat;
    p->done_count = 0;
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(&p->generation, p->generation + 1, __ATOMIC_RELEASE); /* spinning workers read it */
#else
    p->generation++;
#endif
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    est__tls_pool = p; /* the caller works as thread 0 */
    est__tls_index = 0;
    est__run_tasks(p, 0);
    est__tls_pool = NULL;
    est__spin(&p->done_count, (uint64_t)(p->n - 1), 1); /* the caller polls too, then sleeps */
    pthread_mutex_lock(&p->mu);
    while (p->done_count < (uint64_t)(p->n - 1)) pthread_cond_wait(&p->cv_done, &p->mu);
    p->busy = 0;
    pthread_mutex_unlock(&p->mu);
}

EST_API void est_parallel_for(est_threadpool *p, int64_t n_tasks, est_parallel_fn fn, void *ctx)
{
    est__parallel_for_mode(p, n_tasks, fn, ctx, 0);
}

/* The same, but task t runs on thread t % size (no claiming): a kernel called again and again on
 * the same data (batch-1 serving) finds its share of the weights in its own core's caches. A late
 * thread is waited for rather than covered for. Nested or concurrent calls run serially on the
 * caller, as with est_parallel_for. */
EST_PRIVATE void est__parallel_for_static(est_threadpool *p, int64_t n_tasks, est_parallel_fn fn, void *ctx)
{
    est__parallel_for_mode(p, n_tasks, fn, ctx, 1);
}

#endif
