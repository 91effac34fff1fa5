/* >>base/impl: allocation wrappers, status text, thread-local errors, logging, clock, arena,
 * growable arrays and the string map. */

#include <time.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/time.h>
#endif

EST_PRIVATE void *est__malloc(size_t n) { return EST_MALLOC(n ? n : 1); }
EST_PRIVATE void *est__calloc(size_t n)
{
    void *p = EST_MALLOC(n ? n : 1);
    if (p) memset(p, 0, n);
    return p;
}
EST_PRIVATE void *est__realloc(void *p, size_t n) { return EST_REALLOC(p, n ? n : 1); }
EST_PRIVATE void est__free(void *p)
{
    if (p) EST_FREE(p);
}
EST_PRIVATE char *est__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *r = (char *)est__malloc(n);
    if (r) memcpy(r, s, n);
    return r;
}

EST_API const char *est_status_string(est_status s)
{
    switch (s) {
#define EST__X(code, value, text)                                                                  \
    case code: return text;
        EST__STATUS_LIST(EST__X)
#undef EST__X
    default: return "unknown status";
    }
}

/* The only per-thread state of the library; everything else lives in objects the caller owns. */
#define EST__ERROR_CAP 1024
static EST__THREAD_LOCAL char est__last_error_buf[EST__ERROR_CAP];

EST_API const char *est_last_error(void) { return est__last_error_buf; }
EST_API void est_clear_error(void) { est__last_error_buf[0] = 0; }

EST_PRIVATE int est__snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    int r;
    if (n == 0) return 0;
    va_start(ap, fmt);
    r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    buf[n - 1] = 0;
    return r;
}

EST_PRIVATE est_status est__error(est_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(est__last_error_buf, EST__ERROR_CAP, fmt, ap);
    va_end(ap);
    est__last_error_buf[EST__ERROR_CAP - 1] = 0;
    return code;
}

EST_PRIVATE est_status est__error_prefix(est_status code, const char *fmt, ...)
{
    char old[EST__ERROR_CAP], pre[EST__ERROR_CAP];
    va_list ap;
    memcpy(old, est__last_error_buf, EST__ERROR_CAP);
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    pre[sizeof pre - 1] = 0;
    est__snprintf(est__last_error_buf, EST__ERROR_CAP, "%s%s", pre, old);
    return code;
}

EST_API double est_time_now(void)
{
#if defined(CLOCK_MONOTONIC) && !defined(_WIN32)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#elif defined(__unix__) || defined(__APPLE__)
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
#else
    return (double)clock() / (double)CLOCKS_PER_SEC;
#endif
}

EST_PRIVATE void est__default_log(void *user, est_log_level level, const char *msg)
{
#ifndef EST_NO_STDIO
    /* tf.logging's prefix: level letter, MMDD, wall time. */
    char c = level >= EST_LOG_LEVEL_FATAL ? 'F'
             : level >= EST_LOG_LEVEL_ERROR ? 'E'
             : level >= EST_LOG_LEVEL_WARN  ? 'W'
             : level >= EST_LOG_LEVEL_INFO  ? 'I'
                                            : 'D';
    time_t t = time(NULL);
    struct tm tmv;
    char stamp[32] = "";
#if defined(_WIN32)
    localtime_s(&tmv, &t);
#else
    localtime_r(&t, &tmv);
#endif
    strftime(stamp, sizeof stamp, "%m%d %H:%M:%S", &tmv);
    (void)user;
    fprintf(stderr, "%c%s estimator.h] %s\n", c, stamp, msg);
#else
    (void)user;
    (void)level;
    (void)msg;
#endif
}

EST_API void est_logf(const est_logger *logger, est_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    est_log_level min = (logger && logger->min_level) ? logger->min_level : EST_LOG_LEVEL_INFO;
    if (level < min) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    msg[sizeof msg - 1] = 0;
    if (logger && logger->func)
        logger->func(logger->user_data, level, msg);
    else
        est__default_log(NULL, level, msg);
}

EST_PRIVATE void *est__arena_alloc(est__arena *a, size_t n)
{
    est__arena_chunk *c = a->head;
    size_t hdr = (sizeof(est__arena_chunk) + 15) & ~(size_t)15;
    n = (n + 15) & ~(size_t)15;
    if (!c || c->used + n > c->size) {
        size_t sz = a->chunk_size ? a->chunk_size : 64 * 1024;
        if (sz < n) sz = n;
        c = (est__arena_chunk *)est__malloc(hdr + sz);
        if (!c) return NULL;
        c->next = a->head;
        c->used = 0;
        c->size = sz;
        a->head = c;
    }
    {
        void *p = (char *)c + hdr + c->used;
        c->used += n;
        memset(p, 0, n);
        return p;
    }
}

EST_PRIVATE char *est__arena_strdup(est__arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *r = (char *)est__arena_alloc(a, n);
    if (r) memcpy(r, s, n);
    return r;
}

EST_PRIVATE void est__arena_free(est__arena *a)
{
    est__arena_chunk *c = a->head;
    while (c) {
        est__arena_chunk *n = c->next;
        est__free(c);
        c = n;
    }
    a->head = NULL;
}

EST_PRIVATE est_status est__grow(void **p, int64_t *cap, int64_t need, size_t elem)
{
    int64_t nc;
    void *np;
    if (need <= *cap) return EST_OK;
    nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    np = est__realloc(*p, (size_t)nc * elem);
    if (!np) return est__error(EST_ERR_OUT_OF_MEMORY, "out of memory growing an array to %lld items",
                               (long long)nc);
    *p = np;
    *cap = nc;
    return EST_OK;
}

EST_PRIVATE uint64_t est__hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ull;
    }
    return h;
}

EST_PRIVATE void *est__strmap_get(const est__strmap *m, const char *key)
{
    uint64_t i;
    if (!m->cap) return NULL;
    for (i = est__hash_str(key) & (uint64_t)(m->cap - 1);; i = (i + 1) & (uint64_t)(m->cap - 1)) {
        if (!m->keys[i]) return NULL;
        if (strcmp(m->keys[i], key) == 0) return m->values[i];
    }
}

EST_PRIVATE est_status est__strmap_put(est__strmap *m, const char *key, void *value)
{
    uint64_t i;
    if ((m->count + 1) * 2 > m->cap) { /* keep the load under 1/2 */
        est__strmap n;
        int64_t j;
        n.cap = m->cap ? m->cap * 2 : 64;
        n.count = 0;
        n.keys = EST__CALLOC(const char *, n.cap);
        n.values = EST__CALLOC(void *, n.cap);
        if (!n.keys || !n.values) {
            est__free((void *)n.keys);
            est__free(n.values);
            return est__error(EST_ERR_OUT_OF_MEMORY, "out of memory growing a name table");
        }
        for (j = 0; j < m->cap; j++)
            if (m->keys[j]) est__strmap_put(&n, m->keys[j], m->values[j]);
        est__strmap_free(m);
        *m = n;
    }
    for (i = est__hash_str(key) & (uint64_t)(m->cap - 1);; i = (i + 1) & (uint64_t)(m->cap - 1)) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->values[i] = value;
            m->count++;
            return EST_OK;
        }
        if (strcmp(m->keys[i], key) == 0) {
            m->values[i] = value;
            return EST_OK;
        }
    }
}

EST_PRIVATE void est__strmap_free(est__strmap *m)
{
    est__free((void *)m->keys);
    est__free(m->values);
    m->keys = NULL;
    m->values = NULL;
    m->cap = m->count = 0;
}

EST_PRIVATE uint32_t est__load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

EST_PRIVATE uint64_t est__load_le64(const unsigned char *p)
{
    return (uint64_t)est__load_le32(p) | ((uint64_t)est__load_le32(p + 4) << 32);
}
