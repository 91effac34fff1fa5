/* >>base/private: overridable libc, assert, thread-local storage, error raising, arena, growable
 * arrays and a string hash map used by every layer above. */

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdarg.h>
#include <float.h>
#include <limits.h>
/* Always: vsnprintf formats error messages. EST_NO_STDIO removes FILE I/O, not formatting. */
#include <stdio.h>

/* All or none: a replaced malloc with libc's free is a heap corruption waiting to happen. */
#if defined(EST_MALLOC) || defined(EST_REALLOC) || defined(EST_FREE)
#  if !defined(EST_MALLOC) || !defined(EST_REALLOC) || !defined(EST_FREE)
#    error "Must define all or none of EST_MALLOC, EST_REALLOC and EST_FREE"
#  endif
#else
#  define EST_MALLOC(sz) malloc(sz)
#  define EST_REALLOC(p, sz) realloc(p, sz)
#  define EST_FREE(p) free(p)
#endif

/* For the library's own invariants only; bad input is reported through est_status. */
#ifndef EST_ASSERT
#  include <assert.h>
#  define EST_ASSERT(x) assert(x)
#endif

#if defined(EST_NO_THREADS)
#  define EST__THREAD_LOCAL
#elif defined(_MSC_VER)
#  define EST__THREAD_LOCAL __declspec(thread)
#elif defined(__GNUC__) || defined(__clang__)
#  define EST__THREAD_LOCAL __thread
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#  define EST__THREAD_LOCAL _Thread_local
#else
#  define EST__THREAD_LOCAL
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define EST__PRINTF(a, b) __attribute__((format(printf, a, b)))
#  define EST__LIKELY(x) __builtin_expect(!!(x), 1)
#  define EST__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define EST__PRINTF(a, b)
#  define EST__LIKELY(x) (x)
#  define EST__UNLIKELY(x) (x)
#endif

#define EST__MIN(a, b) ((a) < (b) ? (a) : (b))
#define EST__MAX(a, b) ((a) > (b) ? (a) : (b))
#define EST__COUNTOF(a) (sizeof(a) / sizeof((a)[0]))
/* C++ needs the cast from void*; C accepts it. */
#define EST__ALLOC(T, n) ((T *)est__malloc(sizeof(T) * (size_t)(n)))
#define EST__CALLOC(T, n) ((T *)est__calloc(sizeof(T) * (size_t)(n)))

EST_PRIVATE void *est__malloc(size_t n);
EST_PRIVATE void *est__calloc(size_t n);
EST_PRIVATE void *est__realloc(void *p, size_t n);
EST_PRIVATE void est__free(void *p);
EST_PRIVATE char *est__strdup(const char *s);
/* Little-endian loads from unaligned bytes (file formats and hashes are little-endian). */
EST_PRIVATE uint32_t est__load_le32(const unsigned char *p);
EST_PRIVATE uint64_t est__load_le64(const unsigned char *p);

/* Raise an error: sets this thread's last error text and returns the code, so a failing path is
 * `return est__error(EST_ERR_SHAPE, "op %s: ...", ...);`. */
EST_PRIVATE est_status est__error(est_status code, const char *fmt, ...) EST__PRINTF(2, 3);
/* Prefix the current last error with context ("conv1/Conv2D: " + old text), keeping the code. */
EST_PRIVATE est_status est__error_prefix(est_status code, const char *fmt, ...) EST__PRINTF(2, 3);
/* snprintf that always terminates and never overflows (vsnprintf is C99). */
EST_PRIVATE int est__snprintf(char *buf, size_t n, const char *fmt, ...) EST__PRINTF(3, 4);

/* A bump arena of chunks: graphs allocate nodes, names and attributes here and free them in one
 * call (ggml's context). Memory is 16-byte aligned and zeroed. */
typedef struct est__arena_chunk {
    struct est__arena_chunk *next;
    size_t used, size;
    /* data follows, aligned */
} est__arena_chunk;
typedef struct est__arena {
    est__arena_chunk *head;
    size_t chunk_size;
} est__arena;
EST_PRIVATE void *est__arena_alloc(est__arena *a, size_t n);
EST_PRIVATE char *est__arena_strdup(est__arena *a, const char *s);
EST_PRIVATE void est__arena_free(est__arena *a);

/* Grow an array to hold at least `need` elements; returns 0 or EST_ERR_OUT_OF_MEMORY. */
EST_PRIVATE est_status est__grow(void **p, int64_t *cap, int64_t need, size_t elem);

/* Open-addressing map from strings (not copied: the owner keeps them alive) to pointers. */
typedef struct est__strmap {
    const char **keys;
    void **values;
    int64_t cap, count;
} est__strmap;
EST_PRIVATE uint64_t est__hash_str(const char *s);
EST_PRIVATE void *est__strmap_get(const est__strmap *m, const char *key);
EST_PRIVATE est_status est__strmap_put(est__strmap *m, const char *key, void *value);
EST_PRIVATE void est__strmap_free(est__strmap *m);

/* The default logger writes to stderr; used when a logger is NULL or zero. */
EST_PRIVATE void est__default_log(void *user, est_log_level level, const char *msg);
