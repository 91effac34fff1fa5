/* >>data/dataset: tf.data input pipelines: sources, transformations and iterators whose state can
 * be saved and restored mid-epoch. TF counterpart: tf.data.Dataset (from_tensor_slices, range,
 * from_generator, map, filter, shuffle, batch, padded_batch, unbatch, repeat, take, skip, prefetch,
 * cache, enumerate, zip, concatenate, shard, interleave, ignore_errors), tf.data.Iterator with
 * tf.train.Checkpoint(iterator=...), tf.compat.v1.estimator.inputs.numpy_input_fn.
 *
 * A dataset is an immutable, reference-counted description of a pipeline; an iterator is one pass
 * over it. Elements are TF's (features dict, labels) pair flattened into named components: the
 * component whose name equals the dataset's label key (NULL = none) is the labels.
 *
 * Ownership: every transformation takes over the caller's reference to its input(s), also when it
 * fails (then *out is NULL), so pipelines chain without leaks:
 *
 *     s = est_dataset_from_tensor_slices(names, values, 2, &ds);
 *     if (!s) s = est_dataset_shuffle(ds, 1000, 42, 1, &ds);
 *     if (!s) s = est_dataset_batch(ds, 32, 0, &ds);
 *     if (!s) s = est_dataset_repeat(ds, -1, &ds);
 *     ...
 *     est_dataset_free(ds);
 *
 * Call est_dataset_ref first to keep using an input. An iterator holds its own reference to the
 * dataset it was made from.
 *
 * Determinism: there is no hidden randomness. A seed of 0 means a fixed default seed (TF's None
 * means "random"), parallel map and prefetch keep the input order, so the same pipeline gives the
 * same elements on every run and for any thread count. Each new iterator replays the same order,
 * as TF 1's Estimator does when it re-invokes input_fn with a fixed tf_random_seed; within one
 * iterator, shuffle with reshuffle_each_iteration reshuffles on every repeat epoch.
 *
 * Errors: est_iterator_next returns EST_ERR_OUT_OF_RANGE at the end of input (TF's
 * OutOfRangeError); any other error (a map function failing, a batch of mismatched shapes) is
 * reported for that element and the iterator can go on with the next one, as in TF, which is what
 * est_dataset_ignore_errors relies on.
 *
 * Memory: sources and transformations reuse their buffers, so in steady state batch, map,
 * shuffle, prefetch, filter, take, skip, shard, enumerate, zip, unbatch and padded_batch do not
 * allocate per element (buffers only grow when an element is larger than any before), and repeat
 * rewinds its input's iterator in place (no allocation per epoch). What does allocate: cache
 * copies every element of its first pass, interleave makes one dataset and iterator per input
 * element, a prefetch thread and parallel interleave's threads are started once per pass, and
 * saving an iterator allocates its state blob.
 *
 * Thread safety: datasets are immutable and may be shared between threads (their reference count
 * is atomic); one iterator must be used by one thread at a time. User callbacks of a parallel map
 * run on pool threads concurrently. */

EST__EXTERN_C_BEGIN

typedef struct est_dataset est_dataset;
typedef struct est_iterator est_iterator;

/* tf.data.AUTOTUNE: num_parallel_calls = the number of cores; prefetch buffer = 2 elements;
 * interleave cycle_length = the number of cores. */
#define EST_AUTOTUNE (-1)

/* An element: named components. values are views owned by the iterator, valid until the next
 * est_iterator_next / est_iterator_restore / est_iterator_free on the same iterator. */
typedef struct est_element {
    int n;
    const char *const *names;
    const est_tensor *values;
} est_element;

/* The static type of a dataset's elements (TF's element_spec). Shapes hold -1 where unknown (the
 * batch dimension of a batch that may be partial, the sizes a map function decides at run time). */
typedef struct est_element_spec {
    int n;
    const char *const *names;
    const est_dtype *dtypes;
    const est_shape *shapes;
    const char *label_key; /* NULL when the dataset has no labels */
} est_element_spec;

/* The spec of ds; the pointers stay valid while ds lives. */
EST_API est_status est_dataset_element_spec(const est_dataset *ds, est_element_spec *spec);
/* Make the component named `key` the labels (NULL: no labels). Unknown names fail with
 * EST_ERR_INVALID_ARGUMENT. Transformations keep the label key of their input (zip takes the
 * first input's that has one; map takes its output spec's, else its input's if that name is
 * still a component). */
EST_API est_status est_dataset_set_label_key(est_dataset *ds, const char *key);
/* Index of the component called name, or -1. */
EST_API int est_element_find(const est_element *e, const char *name);
EST_API int est_element_spec_find(const est_element_spec *spec, const char *name);

/* tf.data.experimental.cardinality: the number of elements, EST_CARDINALITY_INFINITE (repeat(-1)
 * of a non-empty input) or EST_CARDINALITY_UNKNOWN (filter, from_generator, interleave,
 * ignore_errors, ...), computed from the pipeline's structure as TF does. */
#define EST_CARDINALITY_INFINITE (-1)
#define EST_CARDINALITY_UNKNOWN (-2)
EST_API int64_t est_dataset_cardinality(const est_dataset *ds);

EST_API est_dataset *est_dataset_ref(est_dataset *ds); /* adds one reference, returns ds */
EST_API void est_dataset_free(est_dataset *ds);        /* drops one reference (NULL is fine) */

/* ---- iterators (tf.data.Iterator) ------------------------------------------------------------ */

EST_API est_status est_dataset_make_iterator(est_dataset *ds, est_iterator **out);
/* The next element, or EST_ERR_OUT_OF_RANGE at the end of input (and on every call after it). */
EST_API est_status est_iterator_next(est_iterator *it, est_element *out);
/* Serialize the iterator's position (shuffle buffers and RNG counters, repeat epochs, prefetched
 * and in-flight map results, ...) into a compact little-endian blob that starts with the magic
 * "ESTI", a version and a fingerprint of the pipeline. Two-call pattern: with buf NULL, *size
 * receives the bytes needed; a capacity smaller than that fails with EST_ERR_INVALID_ARGUMENT
 * (and *size set). Pipelines with a from_generator source return EST_ERR_UNIMPLEMENTED: a C
 * callback's state cannot be captured (TF cannot checkpoint from_generator either). Thread
 * safety: pauses prefetch threads while it runs. */
EST_API est_status est_iterator_save(const est_iterator *it, void *buf, size_t capacity, size_t *size);
/* Continue exactly where a saved iterator was: the next elements are the ones the saved iterator
 * would have produced. The blob must come from the same pipeline (same transformations,
 * parameters and element types): another pipeline fails with EST_ERR_INVALID_ARGUMENT, a damaged
 * blob with EST_ERR_CORRUPT or EST_ERR_TRUNCATED; on failure the iterator is unchanged. Restoring
 * a cache that was being read rebuilds the cache from its input if this process has none yet.
 * Tensor payloads are stored in host byte order (every supported host is little-endian). A state
 * moves between builds with and without EST_NO_THREADS, and between machines, except for an
 * interleave whose cycle_length is EST_AUTOTUNE (the core count is part of its position: a
 * different count fails with EST_ERR_INVALID_ARGUMENT). A file cache saves its position in the file
 * (reading) or the input's position (writing: the restore writes a new temporary file by replaying
 * the input up to there); a reading position whose file is gone is restored by writing the file
 * again from the input. Not saved: from_generator pipelines (also inside an interleave). */
EST_API est_status est_iterator_restore(est_iterator *it, const void *buf, size_t size);
/* Elements dropped by the ignore_errors stages of this iterator so far. */
EST_API int64_t est_iterator_ignored_errors(const est_iterator *it);
EST_API void est_iterator_free(est_iterator *it);

/* ---- building elements in callbacks ----------------------------------------------------------- */

/* The output of a map function or a generator: one tensor per component of the declared spec. */
typedef struct est_element_builder est_element_builder;
/* Component count, names and index of a name (-1 if none) of what is being built. */
EST_API int est_element_builder_size(const est_element_builder *b);
EST_API int est_element_builder_find(const est_element_builder *b, const char *name);
/* A buffer for component i with a fully known shape (compatible with the spec's known dims),
 * reused from element to element (its contents are unspecified: write every value). Not for
 * strings. The tensor stays valid until the callback returns. */
EST_API est_status est_element_builder_alloc(est_element_builder *b, int i, est_shape shape,
                                             est_tensor **t);
/* Copy a value (any dtype, strings included) into component i. */
EST_API est_status est_element_builder_set(est_element_builder *b, int i, const est_tensor *value);

/* ---- sources ----------------------------------------------------------------------------------- */

/* tf.data.Dataset.from_tensor_slices({names[i]: tensors[i]}): element k holds row k of every
 * tensor. All tensors need rank >= 1 and the same leading size. The data is copied. */
EST_API est_status est_dataset_from_tensor_slices(const char *const *names, const est_tensor *tensors,
                                                  int n, est_dataset **out);
/* tf.data.Dataset.range(start, stop, step): int64 scalars in a component named "value"; step 0
 * fails. */
EST_API est_status est_dataset_range(int64_t start, int64_t stop, int64_t step, est_dataset **out);

/* tf.data.Dataset.from_generator with a C callback. fn fills one element into `out` (with the
 * components of `spec`) and returns EST_OK, or EST_ERR_OUT_OF_RANGE when the generator is
 * exhausted, or another error for a bad element (the iteration may go on after it). *state is
 * NULL at the first call of each iterator and is the callback's own (e.g. a position); `close`
 * (may be NULL) is called with it when the iterator is freed. Iterators over generators cannot be
 * saved (EST_ERR_UNIMPLEMENTED), like TF's. */
typedef est_status (*est_generator_fn)(void **state, est_element_builder *out, void *user);
typedef void (*est_generator_close_fn)(void *state, void *user);
EST_API est_status est_dataset_from_generator(est_generator_fn fn, est_generator_close_fn close,
                                              void *user, const est_element_spec *spec,
                                              est_dataset **out);

/* tf.compat.v1.estimator.inputs.numpy_input_fn, as a dataset of batches.
 * The default configuration is: batch_size 128, num_epochs 1, shuffle on, queue_capacity 1000,
 * num_threads 1, seed 0 (a fixed default), y_name "labels".
 * TF feeds the rows in order, starting at a random row when shuffling, epoch after epoch, through a
 * RandomShuffleQueue of queue_capacity elements, and dequeues batches that may mix two epochs;
 * the last partial batch is returned when num_epochs is finite, while num_epochs=None gives only
 * full batches. This is the same pipeline: rows (rotated by a seeded start when shuffling) ->
 * repeat(num_epochs) -> shuffle(queue_capacity) -> batch(batch_size, drop_remainder = forever).
 * TF requires `shuffle` to be given explicitly; here 0 means "shuffle" (documented default).
 * num_threads > 1 makes TF's order nondeterministic; here it is accepted and the order stays
 * deterministic. Features are the x components in the given order, then y (if any) as the labels. */
typedef struct est_numpy_input_args {
    int n_x;
    const char *const *x_names;
    const est_tensor *x;    /* n_x arrays with the same leading size */
    const est_tensor *y;    /* NULL: features only (no label key) */
    const char *y_name;     /* NULL = "labels"; must differ from every x name */
    int64_t batch_size;     /* 0 = 128 */
    int64_t num_epochs;     /* 0 = 1; -1 = forever (TF's None) */
    int shuffle;            /* 0 = default (shuffle), 1 = shuffle, -1 = keep the order */
    int64_t queue_capacity; /* 0 = 1000 */
    int num_threads;        /* 0 = 1 */
    uint64_t seed;          /* 0 = a fixed default seed */
} est_numpy_input_args;
EST_API est_status est_numpy_input_fn(const est_numpy_input_args *args, est_dataset **out);

/* ---- transformations (each consumes its input reference) -------------------------------------- */

/* map(fn, num_parallel_calls): fn reads `in` and fills `out` (components of out_spec, or of the
 * input's spec when out_spec is NULL). num_parallel_calls 0 = sequential (TF's None), EST_AUTOTUNE
 * = the number of cores, k > 0: up to k calls at once on a thread pool. The output order is the
 * input order whatever the thread count (TF's deterministic=True). fn must be thread safe when
 * num_parallel_calls != 0. An error from fn fails that element only. */
typedef est_status (*est_map_fn)(const est_element *in, est_element_builder *out, void *user);
EST_API est_status est_dataset_map(est_dataset *ds, est_map_fn fn, void *user,
                                   const est_element_spec *out_spec, int num_parallel_calls,
                                   est_dataset **out);
/* filter(predicate): keeps the elements for which *keep is set non-zero. */
typedef est_status (*est_predicate_fn)(const est_element *in, int *keep, void *user);
EST_API est_status est_dataset_filter(est_dataset *ds, est_predicate_fn pred, void *user,
                                      est_dataset **out);
/* shuffle(buffer_size, seed, reshuffle_each_iteration): fills a buffer of buffer_size elements
 * and emits a uniformly chosen one; as TF's ShuffleDatasetOp, the last buffered element moves into
 * the emptied slot and the next call refills the buffer from the input (random indices come from
 * Philox keyed by the seed and the pass, so the order is not TF's own). seed 0 = a fixed
 * default seed. With reshuffle_each_iteration (TF's default: pass 1) each repeat epoch uses a new
 * order derived from the seed and the epoch number; with 0 every epoch has the same order.
 * shuffle -> repeat keeps epoch boundaries; repeat -> shuffle blends epochs. */
EST_API est_status est_dataset_shuffle(est_dataset *ds, int64_t buffer_size, uint64_t seed,
                                       int reshuffle_each_iteration, est_dataset **out);
/* batch(batch_size, drop_remainder): stacks batch_size consecutive elements (which must have the
 * same shapes) along a new leading dimension; the last partial batch is kept unless
 * drop_remainder. Spec: leading dimension -1, or batch_size with drop_remainder. */
EST_API est_status est_dataset_batch(est_dataset *ds, int64_t batch_size, int drop_remainder,
                                     est_dataset **out);
/* padded_batch(batch_size, padded_shapes, padding_values, drop_remainder): like batch, but each
 * component is padded to padded_shapes[i] (NULL, or -1 dims: the largest in the batch).
 * padding_values: NULL (0 / "") or n scalar tensors of the components' dtypes. */
EST_API est_status est_dataset_padded_batch(est_dataset *ds, int64_t batch_size,
                                            const est_shape *padded_shapes,
                                            const est_tensor *padding_values, int drop_remainder,
                                            est_dataset **out);
/* unbatch(): splits every element along its leading dimension (all components alike). */
EST_API est_status est_dataset_unbatch(est_dataset *ds, est_dataset **out);
/* repeat(count): count passes; -1 = forever (TF's None). An input that yields nothing in a pass
 * ends the repetition (TF does so to avoid spinning forever). */
EST_API est_status est_dataset_repeat(est_dataset *ds, int64_t count, est_dataset **out);
/* take(count) / skip(count): -1 = all. */
EST_API est_status est_dataset_take(est_dataset *ds, int64_t count, est_dataset **out);
EST_API est_status est_dataset_skip(est_dataset *ds, int64_t count, est_dataset **out);
/* prefetch(buffer_size): a background thread keeps up to buffer_size elements ready (0 or
 * EST_AUTOTUNE = 2). Order and errors are kept. Under EST_NO_THREADS a pass-through. */
EST_API est_status est_dataset_prefetch(est_dataset *ds, int64_t buffer_size, est_dataset **out);
/* cache(filename): filename NULL or "" = in memory: the first complete pass stores the elements in
 * the dataset, later passes (and later iterators) read them.
 * A filename caches in the file <filename>.estcache (our own format, documented in dataset.c:
 * TFRecord-style records with CRC32C; a header with the element spec, one record per element, an
 * end mark). The first complete pass writes it; every later pass (repeat epochs, new iterators,
 * new processes) that finds the file reads it and never touches the input. A pass writes to
 * <filename>.estcache.tmp-<pid>-<id> and renames it when its input ends, so a pass stopped early
 * (take downstream, an iterator freed) leaves no cache, and its temporary file is removed.
 * Concurrent writers: TF's lockfile makes a second concurrent writer fail (AlreadyExists); here
 * each writer has its own temporary file and the last rename wins (deterministic pipelines write
 * the same bytes). Elements whose production failed are not cached. A damaged or truncated file
 * fails with EST_ERR_CORRUPT / EST_ERR_TRUNCATED naming the file and byte offset; a file written
 * from elements of other names, dtypes or shapes fails (EST_ERR_INVALID_ARGUMENT, when the pass
 * starts) instead of being read: delete it or use another filename. Not under EST_NO_STDIO
 * (EST_ERR_UNIMPLEMENTED). */
EST_API est_status est_dataset_cache(est_dataset *ds, const char *filename, est_dataset **out);
/* enumerate(start): prepends an int64 scalar component "index" counting from start. */
EST_API est_status est_dataset_enumerate(est_dataset *ds, int64_t start, est_dataset **out);
/* zip(datasets): components of all inputs side by side (names must be distinct); ends with the
 * shortest input. Consumes all n references. */
EST_API est_status est_dataset_zip(est_dataset *const *datasets, int n, est_dataset **out);
/* a.concatenate(b): same component names and dtypes; shapes that differ become -1. */
EST_API est_status est_dataset_concatenate(est_dataset *a, est_dataset *b, est_dataset **out);
/* shard(num_shards, index): every num_shards-th element starting at index. */
EST_API est_status est_dataset_shard(est_dataset *ds, int64_t num_shards, int64_t index,
                                     est_dataset **out);
/* interleave(fn, cycle_length, block_length, num_parallel_calls): fn turns an input element into a
 * dataset (whose reference it hands over) with the components of out_spec; block_length elements
 * are taken from each of cycle_length open datasets in turn, in TF's deterministic order.
 * cycle_length 0 or EST_AUTOTUNE = the number of cores; block_length 0 = 1.
 * num_parallel_calls 0 (TF's None) reads the open datasets on the calling thread; k > 0 or
 * EST_AUTOTUNE (the number of cores), capped at cycle_length, starts that many background threads
 * (TF's ParallelInterleave, deterministic=True) that read ahead from the open datasets, the ones
 * needed next first, up to min(max(block_length, 16), 64) elements each. The output is the serial
 * one: the same elements and errors in the same order. fn itself runs on the calling thread, when
 * the cycle reaches an empty slot (as in the serial order), so the first round opens the datasets
 * one by one. Freeing or resetting the iterator joins the threads (each finishes the element it is
 * producing). A saved state holds the elements read ahead, so it restores exactly, also into a
 * pipeline with another num_parallel_calls (not part of the fingerprint). Under EST_NO_THREADS:
 * serial. */
typedef est_status (*est_interleave_fn)(const est_element *in, est_dataset **out, void *user);
EST_API est_status est_dataset_interleave(est_dataset *ds, est_interleave_fn fn, void *user,
                                          const est_element_spec *out_spec, int cycle_length,
                                          int block_length, int num_parallel_calls,
                                          est_dataset **out);
/* tf.data.experimental.ignore_errors(): drops elements whose production failed (any error but
 * the end of input), counting them (est_iterator_ignored_errors). */
EST_API est_status est_dataset_ignore_errors(est_dataset *ds, est_dataset **out);

EST__EXTERN_C_END
