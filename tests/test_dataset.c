/* tests/test_dataset.c -- data/dataset: tf.data sources, transformations, iterators, state save and
 * restore, cardinality, numpy_input_fn. Expected orders are hand-computed from tf.data's documented
 * semantics; shuffle orders are recomputed with an independent transcription of the algorithm. */
#include "gradcheck.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

/* Pull up to max elements of component `name` (numeric, flattened) into vals; element sizes into
 * sizes (if not NULL). Returns the element count; *end_status gets the final status. */
static int ds_drain(est_dataset *ds, const char *name, double *vals, int max_vals, int *sizes, int max_el,
                    est_status *end_status)
{
    est_iterator *it = NULL;
    est_element el = {0};
    est_status s = EST_OK;
    int n = 0, nv = 0;
    if (est_dataset_make_iterator(ds, &it) != EST_OK) return -1;
    while (n < max_el && (s = est_iterator_next(it, &el)) == EST_OK) {
        int c = est_element_find(&el, name);
        int64_t k, m;
        if (c < 0) {
            est_iterator_free(it);
            return -2;
        }
        m = est_tensor_numel(&el.values[c]);
        for (k = 0; k < m && nv < max_vals; k++) vals[nv++] = est_tensor_get(&el.values[c], k);
        if (sizes) sizes[n] = (int)m;
        n++;
    }
    if (n == max_el) s = EST_OK;
    if (end_status) *end_status = s;
    est_iterator_free(it);
    return n;
}

static est_dataset *ds_range(int64_t a, int64_t b, int64_t step)
{
    est_dataset *d = NULL;
    if (est_dataset_range(a, b, step, &d) != EST_OK) return NULL;
    return d;
}

/* x: n rows of 2 floats (10*i, 10*i+1), y: int64 i. */
static void make_xy(int n, est_tensor **x, est_tensor **y)
{
    int i;
    *x = NULL;
    *y = NULL;
    est_tensor_new(EST_DTYPE_F32, est_shape2(n, 2), x);
    est_tensor_new(EST_DTYPE_I64, est_shape1(n), y);
    for (i = 0; i < n; i++) {
        est_tensor_f32(*x)[2 * i] = (float)(10 * i);
        est_tensor_f32(*x)[2 * i + 1] = (float)(10 * i + 1);
        est_tensor_i64(*y)[i] = i;
    }
}

/* An independent transcription of the shuffle algorithm (fill to buffer_size; pick a uniform slot
 * with draw b of the pass's key; the last slot moves into it) over the input values in[0..n). */
static void ref_shuffle(const double *in, int n, int64_t bs, uint64_t key, double *out)
{
    double buf[256];
    int count = 0, next_in = 0, k;
    uint64_t draw = 0;
    for (k = 0; k < n; k++) {
        int64_t j;
        while (count < bs && next_in < n) buf[count++] = in[next_in++];
        j = (int64_t)(est__rand64(key, draw++) % (uint64_t)count);
        out[k] = buf[j];
        buf[j] = buf[count - 1];
        count--;
    }
}

/* ---- sources ------------------------------------------------------------------------------------ */

TEST(dataset_from_tensor_slices)
{
    est_tensor *x, *y;
    const char *names[2] = {"x", "y"};
    est_tensor ts[2];
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element_spec sp = {0};
    est_element el = {0};
    int i;
    make_xy(4, &x, &y);
    ts[0] = *x;
    ts[1] = *y;
    REQUIRE_OK(est_dataset_from_tensor_slices(names, ts, 2, &ds));
    est_tensor_free(x); /* the dataset holds a copy */
    est_tensor_free(y);
    CHECK(est_dataset_cardinality(ds) == 4);
    REQUIRE_OK(est_dataset_element_spec(ds, &sp));
    CHECK(sp.n == 2 && strcmp(sp.names[0], "x") == 0 && strcmp(sp.names[1], "y") == 0);
    CHECK(sp.dtypes[0] == EST_DTYPE_F32 && sp.dtypes[1] == EST_DTYPE_I64);
    CHECK(sp.shapes[0].rank == 1 && sp.shapes[0].dims[0] == 2 && sp.shapes[1].rank == 0);
    CHECK(sp.label_key == NULL);
    CHECK(est_element_spec_find(&sp, "y") == 1 && est_element_spec_find(&sp, "z") == -1);
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 4; i++) {
        REQUIRE_OK(est_iterator_next(it, &el));
        CHECK(el.n == 2);
        CHECK(est_tensor_f32(&el.values[0])[0] == (float)(10 * i) && est_tensor_f32(&el.values[0])[1] == (float)(10 * i + 1));
        CHECK(est_tensor_i64(&el.values[1])[0] == i);
        CHECK(el.values[0].shape.rank == 1 && el.values[0].shape.dims[0] == 2);
    }
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE); /* and on every call after */
    est_iterator_free(it);
    /* label key */
    CHECK_STATUS(est_dataset_set_label_key(ds, "nope"), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "nope");
    CHECK_OK(est_dataset_set_label_key(ds, "y"));
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.label_key && strcmp(sp.label_key, "y") == 0);
    est_dataset_free(ds);
}

TEST(dataset_from_tensor_slices_bad_input)
{
    est_tensor *a = NULL, *b = NULL, *s = NULL;
    est_tensor ts[2];
    const char *names[2] = {"a", "b"}, *dup[2] = {"a", "a"};
    est_dataset *ds = NULL;
    est_tensor_new(EST_DTYPE_F32, est_shape2(3, 2), &a);
    est_tensor_new(EST_DTYPE_F32, est_shape1(4), &b);
    est_tensor_new(EST_DTYPE_F32, est_shape_scalar(), &s);
    ts[0] = *a;
    ts[1] = *b;
    CHECK_STATUS(est_dataset_from_tensor_slices(names, ts, 2, &ds), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "[3,2]");
    CHECK_STR_CONTAINS(est_last_error(), "[4]");
    CHECK(ds == NULL);
    ts[1] = *s;
    CHECK_STATUS(est_dataset_from_tensor_slices(names, ts, 2, &ds), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "'b'");
    ts[1] = *a;
    CHECK_STATUS(est_dataset_from_tensor_slices(dup, ts, 2, &ds), EST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(est_dataset_from_tensor_slices(names, ts, 0, &ds), EST_ERR_INVALID_ARGUMENT);
    est_tensor_free(a);
    est_tensor_free(b);
    est_tensor_free(s);
}

TEST(dataset_range)
{
    double v[32];
    est_status end;
    est_dataset *ds = ds_range(0, 10, 3);
    REQUIRE(ds);
    CHECK(est_dataset_cardinality(ds) == 4);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 4);
    CHECK(v[0] == 0 && v[1] == 3 && v[2] == 6 && v[3] == 9 && end == EST_ERR_OUT_OF_RANGE);
    est_dataset_free(ds);
    ds = ds_range(5, 0, -2);
    CHECK(est_dataset_cardinality(ds) == 3);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 3);
    CHECK(v[0] == 5 && v[1] == 3 && v[2] == 1);
    est_dataset_free(ds);
    ds = ds_range(3, 3, 1);
    CHECK(est_dataset_cardinality(ds) == 0);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 0);
    est_dataset_free(ds);
    ds = ds_range(0, 10, 5);
    CHECK(est_dataset_cardinality(ds) == 2);
    est_dataset_free(ds);
    ds = NULL;
    CHECK_STATUS(est_dataset_range(0, 10, 0, &ds), EST_ERR_INVALID_ARGUMENT);
    CHECK(ds == NULL);
}

/* ---- batch, take, skip, repeat ---------------------------------------------------------------------- */

TEST(dataset_batch)
{
    double v[32];
    int sz[8];
    est_status end;
    est_dataset *ds = NULL;
    est_element_spec sp = {0};
    int i;
    REQUIRE_OK(est_dataset_batch(ds_range(0, 10, 1), 4, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == 3);
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.shapes[0].rank == 1 && sp.shapes[0].dims[0] == -1);
    CHECK(ds_drain(ds, "value", v, 32, sz, 8, &end) == 3);
    CHECK(sz[0] == 4 && sz[1] == 4 && sz[2] == 2);
    for (i = 0; i < 10; i++) CHECK(v[i] == i);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_batch(ds_range(0, 10, 1), 4, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 2);
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.shapes[0].dims[0] == 4);
    CHECK(ds_drain(ds, "value", v, 32, sz, 8, &end) == 2);
    CHECK(sz[1] == 4 && v[7] == 7);
    /* batch of batches: [2,4] then nothing (drop) */
    REQUIRE_OK(est_dataset_batch(ds, 2, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == 1);
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.shapes[0].rank == 2 && sp.shapes[0].dims[0] == -1 && sp.shapes[0].dims[1] == 4);
    CHECK(ds_drain(ds, "value", v, 32, sz, 8, &end) == 1 && sz[0] == 8);
    est_dataset_free(ds);
    ds = NULL;
    CHECK_STATUS(est_dataset_batch(ds_range(0, 10, 1), 0, 0, &ds), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "batch_size");
    CHECK(ds == NULL);
}

TEST(dataset_batch_strings)
{
    const char *strs[5] = {"a", "", "ccc", "dddd", "e"};
    const char *names[1] = {"s"};
    est_tensor *t = NULL;
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    const est_string *s;
    REQUIRE_OK(est_tensor_from_strings(est_shape1(5), strs, &t));
    REQUIRE_OK(est_dataset_from_tensor_slices(names, t, 1, &ds));
    est_tensor_free(t);
    REQUIRE_OK(est_dataset_batch(ds, 3, 0, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    REQUIRE_OK(est_iterator_next(it, &el));
    s = (const est_string *)el.values[0].data;
    CHECK(el.values[0].dtype == EST_DTYPE_STRING && el.values[0].shape.dims[0] == 3);
    CHECK(s[0].size == 1 && memcmp(s[0].data, "a", 1) == 0 && s[1].size == 0 && s[2].size == 3 && memcmp(s[2].data, "ccc", 3) == 0);
    REQUIRE_OK(est_iterator_next(it, &el));
    s = (const est_string *)el.values[0].data;
    CHECK(el.values[0].shape.dims[0] == 2 && s[0].size == 4 && memcmp(s[0].data, "dddd", 4) == 0 && s[1].data[0] == 'e');
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
    est_iterator_free(it);
    est_dataset_free(ds);
}

TEST(dataset_take_skip)
{
    double v[32];
    est_status end;
    est_dataset *ds = NULL;
    REQUIRE_OK(est_dataset_skip(ds_range(0, 10, 1), 3, &ds));
    CHECK(est_dataset_cardinality(ds) == 7);
    REQUIRE_OK(est_dataset_take(ds, 4, &ds));
    CHECK(est_dataset_cardinality(ds) == 4);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 4);
    CHECK(v[0] == 3 && v[1] == 4 && v[2] == 5 && v[3] == 6 && end == EST_ERR_OUT_OF_RANGE);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_take(ds_range(0, 5, 1), -1, &ds));
    CHECK(est_dataset_cardinality(ds) == 5);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 5);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_skip(ds_range(0, 5, 1), -1, &ds));
    CHECK(est_dataset_cardinality(ds) == 0);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 0);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_skip(ds_range(0, 5, 1), 9, &ds));
    CHECK(est_dataset_cardinality(ds) == 0);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 0);
    est_dataset_free(ds);
    CHECK_STATUS(est_dataset_take(ds_range(0, 5, 1), -2, &ds), EST_ERR_INVALID_ARGUMENT);
}

TEST(dataset_repeat)
{
    double v[32];
    est_status end;
    est_dataset *ds = NULL;
    int i;
    REQUIRE_OK(est_dataset_repeat(ds_range(0, 3, 1), 2, &ds));
    CHECK(est_dataset_cardinality(ds) == 6);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 6);
    for (i = 0; i < 6; i++) CHECK(v[i] == i % 3);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_repeat(ds_range(0, 3, 1), -1, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_INFINITE);
    REQUIRE_OK(est_dataset_take(ds, 7, &ds));
    CHECK(est_dataset_cardinality(ds) == 7);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 7);
    CHECK(v[6] == 0 && v[5] == 2);
    est_dataset_free(ds);
    /* an empty input ends a forever-repeat instead of spinning */
    REQUIRE_OK(est_dataset_repeat(ds_range(0, 0, 1), -1, &ds));
    CHECK(est_dataset_cardinality(ds) == 0);
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 0 && end == EST_ERR_OUT_OF_RANGE);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_repeat(ds_range(0, 3, 1), 0, &ds));
    CHECK(ds_drain(ds, "value", v, 32, NULL, 100, &end) == 0);
    est_dataset_free(ds);
    /* batch across epochs: repeat -> batch blends, batch -> repeat keeps the partial batch */
    REQUIRE_OK(est_dataset_batch(ds_range(0, 3, 1), 2, 0, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, 2, &ds));
    CHECK(est_dataset_cardinality(ds) == 4);
    {
        int sz[8];
        CHECK(ds_drain(ds, "value", v, 32, sz, 8, &end) == 4);
        CHECK(sz[0] == 2 && sz[1] == 1 && sz[2] == 2 && sz[3] == 1);
    }
    est_dataset_free(ds);
}

/* ---- shuffle ------------------------------------------------------------------------------------------ */

TEST(dataset_shuffle_matches_algorithm)
{
    double v[64], in[40], want[40];
    est_status end;
    est_dataset *ds = NULL;
    int i, j, seen[40], moved = 0;
    uint64_t seed = 1234;
    for (i = 0; i < 40; i++) in[i] = i;
    REQUIRE_OK(est_dataset_shuffle(ds_range(0, 40, 1), 8, seed, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 40);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 100, &end) == 40);
    /* the top-level pass has mix 0 */
    ref_shuffle(in, 40, 8, est__mix(seed, 0), want);
    for (i = 0; i < 40; i++) CHECK_MSG(v[i] == want[i], "element %d: %g, expected %g", i, v[i], want[i]);
    /* a permutation, and output i is one of the first i + 8 inputs (the buffer's window) */
    memset(seen, 0, sizeof seen);
    for (i = 0; i < 40; i++) {
        j = (int)v[i];
        CHECK(j >= 0 && j < 40 && !seen[j]);
        if (j >= 0 && j < 40) seen[j] = 1;
        CHECK(j < i + 8);
        moved += j != i;
    }
    CHECK(moved > 20);
    /* a new iterator replays the same order */
    {
        double v2[64];
        CHECK(ds_drain(ds, "value", v2, 64, NULL, 100, &end) == 40);
        CHECK(memcmp(v, v2, sizeof(double) * 40) == 0);
    }
    est_dataset_free(ds);
    /* another seed, another order; buffer 1 = no shuffling */
    {
        double v3[64];
        REQUIRE_OK(est_dataset_shuffle(ds_range(0, 40, 1), 8, seed + 1, 1, &ds));
        CHECK(ds_drain(ds, "value", v3, 64, NULL, 100, &end) == 40);
        CHECK(memcmp(v, v3, sizeof(double) * 40) != 0);
        est_dataset_free(ds);
        REQUIRE_OK(est_dataset_shuffle(ds_range(0, 40, 1), 1, seed, 1, &ds));
        CHECK(ds_drain(ds, "value", v3, 64, NULL, 100, &end) == 40);
        for (i = 0; i < 40; i++) CHECK(v3[i] == i);
        est_dataset_free(ds);
    }
    CHECK_STATUS(est_dataset_shuffle(ds_range(0, 4, 1), 0, 1, 1, &ds), EST_ERR_INVALID_ARGUMENT);
}

TEST(dataset_shuffle_reshuffle_each_iteration)
{
    double v[64], in[10], want[10];
    est_status end;
    est_dataset *ds = NULL;
    int i, differ = 0;
    for (i = 0; i < 10; i++) in[i] = i;
    /* shuffle -> repeat keeps epoch boundaries; each epoch reshuffles with its own key */
    REQUIRE_OK(est_dataset_shuffle(ds_range(0, 10, 1), 10, 99, 1, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
    CHECK(ds_drain(ds, "value", v, 64, NULL, 100, &end) == 30);
    for (i = 0; i < 3; i++) {
        int k;
        ref_shuffle(in, 10, 10, est__mix(99, est__mix(0, (uint64_t)i)), want);
        for (k = 0; k < 10; k++) CHECK_MSG(v[10 * i + k] == want[k], "epoch %d element %d", i, k);
    }
    for (i = 0; i < 10; i++) differ += v[i] != v[10 + i];
    CHECK(differ > 0);
    est_dataset_free(ds);
    /* reshuffle_each_iteration = 0: every epoch has the same order */
    REQUIRE_OK(est_dataset_shuffle(ds_range(0, 10, 1), 10, 99, 0, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
    CHECK(ds_drain(ds, "value", v, 64, NULL, 100, &end) == 30);
    for (i = 0; i < 10; i++) CHECK(v[i] == v[10 + i] && v[i] == v[20 + i]);
    est_dataset_free(ds);
    /* seed 0 is a fixed default seed: deterministic */
    {
        double a[10], b[10];
        REQUIRE_OK(est_dataset_shuffle(ds_range(0, 10, 1), 5, 0, 1, &ds));
        CHECK(ds_drain(ds, "value", a, 10, NULL, 10, &end) == 10);
        est_dataset_free(ds);
        REQUIRE_OK(est_dataset_shuffle(ds_range(0, 10, 1), 5, 0, 1, &ds));
        CHECK(ds_drain(ds, "value", b, 10, NULL, 10, &end) == 10);
        est_dataset_free(ds);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
}

/* ---- numpy_input_fn ------------------------------------------------------------------------------------ */

TEST(dataset_numpy_input_fn_order)
{
    est_tensor *x, *y;
    const char *xn[1] = {"x"};
    est_numpy_input_args a;
    est_dataset *ds = NULL;
    est_element_spec sp = {0};
    double v[64];
    int sz[16], i;
    est_status end;
    make_xy(10, &x, &y);
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = xn;
    a.x = x;
    a.y = y;
    a.batch_size = 4;
    a.shuffle = -1;
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    CHECK(est_dataset_cardinality(ds) == 3);
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.n == 2 && strcmp(sp.names[1], "labels") == 0 && sp.label_key && strcmp(sp.label_key, "labels") == 0);
    CHECK(sp.shapes[0].rank == 2 && sp.shapes[0].dims[0] == -1 && sp.shapes[0].dims[1] == 2);
    CHECK(ds_drain(ds, "labels", v, 64, sz, 16, &end) == 3);
    CHECK(sz[0] == 4 && sz[1] == 4 && sz[2] == 2); /* the last partial batch is returned */
    for (i = 0; i < 10; i++) CHECK(v[i] == i);
    est_dataset_free(ds);
    /* num_epochs = forever: full batches that run across epochs */
    a.num_epochs = -1;
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_INFINITE);
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.shapes[0].dims[0] == 4);
    CHECK(ds_drain(ds, "labels", v, 64, sz, 5, &end) == 5);
    for (i = 0; i < 20; i++) CHECK(v[i] == i % 10);
    est_dataset_free(ds);
    /* num_epochs 2, shuffled: each row twice; batches may mix epochs (queue of 1000) */
    a.num_epochs = 2;
    a.shuffle = 0;
    a.y_name = "target";
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    CHECK(est_dataset_cardinality(ds) == 5);
    CHECK(ds_drain(ds, "target", v, 64, sz, 16, &end) == 5);
    {
        int count[10], moved = 0;
        memset(count, 0, sizeof count);
        for (i = 0; i < 20; i++) {
            count[(int)v[i]]++;
            moved += v[i] != i % 10;
        }
        for (i = 0; i < 10; i++) CHECK(count[i] == 2);
        CHECK(moved > 0);
    }
    est_dataset_free(ds);
    /* features only */
    a.y = NULL;
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.n == 1 && sp.label_key == NULL);
    est_dataset_free(ds);
    est_tensor_free(x);
    est_tensor_free(y);
}

TEST(dataset_numpy_input_fn_bad_input)
{
    est_tensor *x, *y, *y2 = NULL;
    const char *xn[1] = {"labels"};
    est_numpy_input_args a;
    est_dataset *ds = NULL;
    make_xy(10, &x, &y);
    est_tensor_new(EST_DTYPE_I64, est_shape1(9), &y2);
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = xn;
    a.x = x;
    a.y = y;
    CHECK_STATUS(est_numpy_input_fn(&a, &ds), EST_ERR_INVALID_ARGUMENT); /* y name collides */
    CHECK_STR_CONTAINS(est_last_error(), "labels");
    a.y_name = "y";
    a.y = y2;
    CHECK_STATUS(est_numpy_input_fn(&a, &ds), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "[10,2]");
    CHECK_STR_CONTAINS(est_last_error(), "[9]");
    a.y = y;
    a.batch_size = -3;
    CHECK_STATUS(est_numpy_input_fn(&a, &ds), EST_ERR_INVALID_ARGUMENT);
    a.batch_size = 0;
    a.num_epochs = -5;
    CHECK_STATUS(est_numpy_input_fn(&a, &ds), EST_ERR_INVALID_ARGUMENT);
    a.num_epochs = 0;
    a.n_x = 0;
    CHECK_STATUS(est_numpy_input_fn(&a, &ds), EST_ERR_INVALID_ARGUMENT);
    CHECK(ds == NULL);
    est_tensor_free(x);
    est_tensor_free(y);
    est_tensor_free(y2);
}

/* ---- save / restore --------------------------------------------------------------------------------- */

/* Run `total` elements uninterrupted; then for each k in cuts: run k, save, restore into a fresh
 * iterator, run the rest: the concatenation must equal the uninterrupted run, element by element
 * (component `name`, all values). */
static void check_resume(est_dataset *ds, const char *name, int total, const int *cuts, int n_cuts)
{
    double ref[4096], got[4096];
    int nref = 0, c;
    est_iterator *it = NULL;
    est_element el = {0};
    est_status s;
    int i;
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < total; i++) {
        int k, ci;
        int64_t m;
        if ((s = est_iterator_next(it, &el)) != EST_OK) break;
        ci = est_element_find(&el, name);
        m = est_tensor_numel(&el.values[ci]);
        for (k = 0; k < m && nref < 4096; k++) ref[nref++] = est_tensor_get(&el.values[ci], k);
    }
    est_iterator_free(it);
    for (c = 0; c < n_cuts; c++) {
        est_iterator *a = NULL, *b = NULL;
        void *blob;
        size_t size = 0, size2 = 0;
        int ng = 0;
        REQUIRE_OK(est_dataset_make_iterator(ds, &a));
        for (i = 0; i < total; i++) {
            int k, ci;
            int64_t m;
            if (i == cuts[c]) {
                REQUIRE_OK(est_iterator_save(a, NULL, 0, &size));
                blob = malloc(size);
                CHECK_STATUS(est_iterator_save(a, blob, size - 1, &size2), EST_ERR_INVALID_ARGUMENT);
                CHECK(size2 == size);
                REQUIRE_OK(est_iterator_save(a, blob, size, &size2));
                CHECK(size2 == size && memcmp(blob, "ESTI", 4) == 0);
                REQUIRE_OK(est_dataset_make_iterator(ds, &b));
                CHECK_OK(est_iterator_restore(b, blob, size));
                free(blob);
                est_iterator_free(a); /* the original is gone: b carries on */
                a = b;
            }
            if ((s = est_iterator_next(a, &el)) != EST_OK) break;
            ci = est_element_find(&el, name);
            m = est_tensor_numel(&el.values[ci]);
            for (k = 0; k < m && ng < 4096; k++) got[ng++] = est_tensor_get(&el.values[ci], k);
        }
        est_iterator_free(a);
        CHECK_MSG(ng == nref, "cut %d: %d values after resuming, %d uninterrupted", cuts[c], ng, nref);
        for (i = 0; i < ng && i < nref; i++)
            if (got[i] != ref[i]) {
                CHECK_MSG(0, "cut at element %d: value %d is %g, uninterrupted %g", cuts[c], i, got[i], ref[i]);
                break;
            }
    }
}

TEST(dataset_save_restore_shuffle_batch_repeat)
{
    est_tensor *x, *y;
    const char *names[2] = {"x", "y"};
    est_tensor ts[2];
    est_dataset *ds = NULL;
    int cuts[] = {0, 1, 3, 4, 5, 7, 11, 12, 13, 20};
    make_xy(23, &x, &y);
    ts[0] = *x;
    ts[1] = *y;
    REQUIRE_OK(est_dataset_from_tensor_slices(names, ts, 2, &ds));
    REQUIRE_OK(est_dataset_shuffle(ds, 7, 5, 1, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 5, 0, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, 4, &ds));
    CHECK(est_dataset_cardinality(ds) == 20);
    check_resume(ds, "y", 25, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    check_resume(ds, "x", 25, cuts, 4);
    est_dataset_free(ds);
    /* repeat -> shuffle (blending epochs) -> batch */
    REQUIRE_OK(est_dataset_from_tensor_slices(names, ts, 2, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, -1, &ds));
    REQUIRE_OK(est_dataset_shuffle(ds, 9, 0, 1, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 4, 1, &ds));
    check_resume(ds, "y", 30, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    est_dataset_free(ds);
    est_tensor_free(x);
    est_tensor_free(y);
}

TEST(dataset_save_restore_numpy_input_fn)
{
    est_tensor *x, *y;
    const char *xn[1] = {"x"};
    est_numpy_input_args a;
    est_dataset *ds = NULL;
    int cuts[] = {0, 1, 2, 6, 9, 17};
    make_xy(37, &x, &y);
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = xn;
    a.x = x;
    a.y = y;
    a.batch_size = 8;
    a.num_epochs = 3;
    a.queue_capacity = 16;
    a.seed = 77;
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    check_resume(ds, "labels", 40, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    check_resume(ds, "x", 40, cuts, 3);
    est_dataset_free(ds);
    a.num_epochs = -1;
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    check_resume(ds, "labels", 30, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    est_dataset_free(ds);
    est_tensor_free(x);
    est_tensor_free(y);
}

TEST(dataset_restore_bad_blobs)
{
    est_dataset *a = NULL, *b = NULL;
    est_iterator *ia = NULL, *ib = NULL;
    est_element el = {0};
    unsigned char *blob, junk[64];
    size_t size = 0;
    REQUIRE_OK(est_dataset_shuffle(ds_range(0, 20, 1), 5, 1, 1, &a));
    REQUIRE_OK(est_dataset_shuffle(ds_range(0, 20, 1), 6, 1, 1, &b)); /* another buffer size */
    REQUIRE_OK(est_dataset_make_iterator(a, &ia));
    REQUIRE_OK(est_dataset_make_iterator(b, &ib));
    REQUIRE_OK(est_iterator_next(ia, &el));
    REQUIRE_OK(est_iterator_next(ia, &el));
    REQUIRE_OK(est_iterator_save(ia, NULL, 0, &size));
    blob = (unsigned char *)malloc(size);
    REQUIRE_OK(est_iterator_save(ia, blob, size, &size));
    /* a foreign pipeline */
    CHECK_STATUS(est_iterator_restore(ib, blob, size), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "another pipeline");
    /* not a state at all */
    memset(junk, 7, sizeof junk);
    CHECK_STATUS(est_iterator_restore(ia, junk, sizeof junk), EST_ERR_INVALID_ARGUMENT);
    /* truncated, damaged */
    CHECK_STATUS(est_iterator_restore(ia, blob, size - 3), EST_ERR_TRUNCATED);
    CHECK_STATUS(est_iterator_restore(ia, blob, 10), EST_ERR_TRUNCATED);
    blob[size - 2] ^= 0x40;
    CHECK_STATUS(est_iterator_restore(ia, blob, size), EST_ERR_CORRUPT);
    blob[size - 2] ^= 0x40;
    blob[4] = 9; /* version */
    CHECK_STATUS(est_iterator_restore(ia, blob, size), EST_ERR_INVALID_ARGUMENT);
    blob[4] = 1;
    /* after all the failures, ia is unchanged and a good restore works */
    {
        double want = 0;
        est_iterator *ic = NULL;
        REQUIRE_OK(est_iterator_next(ia, &el));
        want = est_tensor_get(&el.values[0], 0);
        REQUIRE_OK(est_dataset_make_iterator(a, &ic));
        CHECK_OK(est_iterator_restore(ic, blob, size));
        REQUIRE_OK(est_iterator_next(ic, &el));
        CHECK(est_tensor_get(&el.values[0], 0) == want);
        est_iterator_free(ic);
    }
    free(blob);
    est_iterator_free(ia);
    est_iterator_free(ib);
    est_dataset_free(a);
    est_dataset_free(b);
}

/* ---- cardinality ------------------------------------------------------------------------------------ */

TEST(dataset_cardinality)
{
    est_dataset *ds = NULL;
    REQUIRE_OK(est_dataset_repeat(ds_range(0, 10, 1), -1, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 3, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_INFINITE);
    REQUIRE_OK(est_dataset_skip(ds, 5, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_INFINITE);
    REQUIRE_OK(est_dataset_take(ds, 5, &ds));
    CHECK(est_dataset_cardinality(ds) == 5);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_batch(ds_range(0, 10, 1), 3, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 3);
    REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
    CHECK(est_dataset_cardinality(ds) == 9);
    est_dataset_free(ds);
    CHECK(est_dataset_cardinality(NULL) == EST_CARDINALITY_UNKNOWN);
}

/* ---- memory ------------------------------------------------------------------------------------------- */

TEST(dataset_no_allocation_in_steady_state)
{
    est_tensor *x, *y;
    const char *xn[1] = {"x"}, *names[2] = {"x", "y"};
    est_tensor ts[2];
    est_numpy_input_args a;
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    long before;
    int i;
    make_xy(50, &x, &y);
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = xn;
    a.x = x;
    a.y = y;
    a.batch_size = 8;
    a.num_epochs = -1;
    a.queue_capacity = 30;
    REQUIRE_OK(est_numpy_input_fn(&a, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 50; i++) REQUIRE_OK(est_iterator_next(it, &el));
    before = test_alloc_calls;
    for (i = 0; i < 300; i++) REQUIRE_OK(est_iterator_next(it, &el)); /* 48 epochs */
    CHECK_MSG(test_alloc_calls == before, "numpy_input_fn: %ld allocations in 300 steady-state batches", test_alloc_calls - before);
    est_iterator_free(it);
    est_dataset_free(ds);
    /* from_tensor_slices -> shuffle -> batch -> repeat: every epoch rewinds shuffle and batch in place */
    ts[0] = *x;
    ts[1] = *y;
    REQUIRE_OK(est_dataset_from_tensor_slices(names, ts, 2, &ds));
    REQUIRE_OK(est_dataset_shuffle(ds, 20, 3, 1, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 8, 0, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, -1, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 30; i++) REQUIRE_OK(est_iterator_next(it, &el));
    before = test_alloc_calls;
    for (i = 0; i < 300; i++) REQUIRE_OK(est_iterator_next(it, &el));
    CHECK_MSG(test_alloc_calls == before, "slices/shuffle/batch/repeat: %ld allocations in 300 steady-state batches",
              test_alloc_calls - before);
    est_iterator_free(it);
    est_dataset_free(ds);
    est_tensor_free(x);
    est_tensor_free(y);
}

/* ---- map, filter, from_generator, ignore_errors ----------------------------------------------------- */

/* value -> {value, sq = value^2 as float}; fails on value == *fail_at (user = &fail_at). */
static est_status map_square(const est_element *in, est_element_builder *out, void *user)
{
    int64_t v = est_tensor_i64(&in->values[0])[0];
    const int64_t *fail_at = (const int64_t *)user;
    est_tensor *t = NULL;
    est_status s;
    if (fail_at && v == *fail_at) return est__error(EST_ERR_INVALID_ARGUMENT, "square: refusing %lld", (long long)v);
    if ((s = est_element_builder_set(out, est_element_builder_find(out, "value"), &in->values[0])) != EST_OK) return s;
    if ((s = est_element_builder_alloc(out, est_element_builder_find(out, "sq"), est_shape_scalar(), &t)) != EST_OK) return s;
    est_tensor_f32(t)[0] = (float)(v * v);
    return EST_OK;
}
static const char *sq_names[2] = {"value", "sq"};
static const est_dtype sq_dtypes[2] = {EST_DTYPE_I64, EST_DTYPE_F32};
static est_shape sq_shapes[2];
static est_element_spec sq_spec(void)
{
    est_element_spec sp = {0};
    sq_shapes[0] = est_shape_scalar();
    sq_shapes[1] = est_shape_scalar();
    sp.n = 2;
    sp.names = sq_names;
    sp.dtypes = sq_dtypes;
    sp.shapes = sq_shapes;
    sp.label_key = NULL;
    return sp;
}

TEST(dataset_map)
{
    est_dataset *ds = NULL;
    est_element_spec sp = sq_spec(), got = {0};
    double v[256];
    est_status end;
    int i;
    REQUIRE_OK(est_dataset_set_label_key(ds = ds_range(0, 6, 1), "value"));
    REQUIRE_OK(est_dataset_map(ds, map_square, NULL, &sp, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == 6);
    est_dataset_element_spec(ds, &got);
    CHECK(got.n == 2 && got.dtypes[1] == EST_DTYPE_F32 && got.label_key && strcmp(got.label_key, "value") == 0);
    CHECK(ds_drain(ds, "sq", v, 256, NULL, 100, &end) == 6);
    for (i = 0; i < 6; i++) CHECK(v[i] == i * i);
    est_dataset_free(ds);
    /* parallel map: 1, 2 and AUTOTUNE threads give the sequential output, in order */
    {
        double ref[200], par[200];
        int np[3] = {1, 2, EST_AUTOTUNE}, k;
        REQUIRE_OK(est_dataset_map(ds_range(0, 200, 1), map_square, NULL, &sp, 0, &ds));
        CHECK(ds_drain(ds, "sq", ref, 200, NULL, 300, &end) == 200);
        est_dataset_free(ds);
        for (k = 0; k < 3; k++) {
            REQUIRE_OK(est_dataset_map(ds_range(0, 200, 1), map_square, NULL, &sp, np[k], &ds));
            CHECK(ds_drain(ds, "sq", par, 200, NULL, 300, &end) == 200 && end == EST_ERR_OUT_OF_RANGE);
            CHECK_MSG(memcmp(ref, par, sizeof ref) == 0, "num_parallel_calls %d changed the output", np[k]);
            est_dataset_free(ds);
        }
    }
    CHECK_STATUS(est_dataset_map(ds_range(0, 2, 1), NULL, NULL, NULL, 0, &ds), EST_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(est_dataset_map(ds_range(0, 2, 1), map_square, NULL, NULL, -7, &ds), EST_ERR_INVALID_ARGUMENT);
}

TEST(dataset_map_errors_and_ignore_errors)
{
    int64_t fail_at = 7;
    est_element_spec sp = sq_spec();
    int np[3] = {0, 1, 3}, k;
    for (k = 0; k < 3; k++) {
        est_dataset *ds = NULL;
        est_iterator *it = NULL;
        est_element el = {0};
        int i;
        REQUIRE_OK(est_dataset_map(ds_range(0, 12, 1), map_square, &fail_at, &sp, np[k], &ds));
        REQUIRE_OK(est_dataset_make_iterator(ds, &it));
        for (i = 0; i < 12; i++) {
            if (i == 7) {
                CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_INVALID_ARGUMENT);
                CHECK_STR_CONTAINS(est_last_error(), "refusing 7");
                CHECK_STR_CONTAINS(est_last_error(), "map");
                continue;
            }
            REQUIRE_OK(est_iterator_next(it, &el)); /* the iteration goes on after a failed element */
            CHECK(est_tensor_i64(&el.values[0])[0] == i);
        }
        CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
        est_iterator_free(it);
        REQUIRE_OK(est_dataset_ignore_errors(ds, &ds));
        CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN);
        REQUIRE_OK(est_dataset_make_iterator(ds, &it));
        for (i = 0; est_iterator_next(it, &el) == EST_OK; i++) CHECK(est_tensor_i64(&el.values[0])[0] != 7);
        CHECK(i == 11);
        CHECK(est_iterator_ignored_errors(it) == 1);
        est_iterator_free(it);
        est_dataset_free(ds);
    }
}

static est_status map_bad_dtype(const est_element *in, est_element_builder *out, void *user)
{
    (void)user;
    return est_element_builder_set(out, 1, &in->values[0]); /* int64 into the float "sq" */
}
static est_status map_bad_shape(const est_element *in, est_element_builder *out, void *user)
{
    est_tensor *t;
    (void)in;
    (void)user;
    return est_element_builder_alloc(out, 1, est_shape1(3), &t);
}
static est_status map_missing(const est_element *in, est_element_builder *out, void *user)
{
    (void)user;
    return est_element_builder_set(out, 0, &in->values[0]);
}

TEST(dataset_map_builder_errors)
{
    est_element_spec sp = sq_spec();
    est_map_fn fns[3] = {map_bad_dtype, map_bad_shape, map_missing};
    est_status want[3] = {EST_ERR_DTYPE, EST_ERR_SHAPE, EST_ERR_INVALID_ARGUMENT};
    const char *msg[3] = {"float32", "[3]", "'sq'"};
    int k;
    for (k = 0; k < 3; k++) {
        est_dataset *ds = NULL;
        est_iterator *it = NULL;
        est_element el = {0};
        REQUIRE_OK(est_dataset_map(ds_range(0, 2, 1), fns[k], NULL, &sp, 0, &ds));
        REQUIRE_OK(est_dataset_make_iterator(ds, &it));
        CHECK_STATUS(est_iterator_next(it, &el), want[k]);
        CHECK_STR_CONTAINS(est_last_error(), msg[k]);
        est_iterator_free(it);
        est_dataset_free(ds);
    }
}

static est_status pred_even(const est_element *in, int *keep, void *user)
{
    (void)user;
    *keep = est_tensor_i64(&in->values[0])[0] % 2 == 0;
    return EST_OK;
}

TEST(dataset_filter)
{
    est_dataset *ds = NULL;
    double v[16];
    est_status end;
    REQUIRE_OK(est_dataset_filter(ds_range(0, 9, 1), pred_even, NULL, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN);
    CHECK(ds_drain(ds, "value", v, 16, NULL, 16, &end) == 5);
    CHECK(v[0] == 0 && v[1] == 2 && v[4] == 8);
    est_dataset_free(ds);
}

typedef struct gen_user {
    int closes, limit;
} gen_user;
static est_status gen_count(void **state, est_element_builder *out, void *user)
{
    gen_user *g = (gen_user *)user;
    int64_t *pos = (int64_t *)*state;
    est_tensor *t;
    est_status s;
    if (!pos) {
        pos = (int64_t *)calloc(1, sizeof *pos);
        *state = pos;
    }
    if (*pos >= g->limit) return EST_ERR_OUT_OF_RANGE;
    if (*pos == 2) {
        (*pos)++;
        return est__error(EST_ERR_CORRUPT, "generator: record 2 is bad");
    }
    if ((s = est_element_builder_alloc(out, 0, est_shape1(2), &t)) != EST_OK) return s;
    est_tensor_i64(t)[0] = *pos;
    est_tensor_i64(t)[1] = -*pos;
    (*pos)++;
    return EST_OK;
}
static void gen_close(void *state, void *user)
{
    ((gen_user *)user)->closes++;
    free(state);
}

TEST(dataset_from_generator)
{
    const char *names[1] = {"v"};
    est_dtype dts[1] = {EST_DTYPE_I64};
    est_shape shs[1];
    est_element_spec sp = {0};
    gen_user g;
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    size_t size;
    int i;
    shs[0] = est_shape1(2);
    sp.n = 1;
    sp.names = names;
    sp.dtypes = dts;
    sp.shapes = shs;
    sp.label_key = NULL;
    g.closes = 0;
    g.limit = 5;
    REQUIRE_OK(est_dataset_from_generator(gen_count, gen_close, &g, &sp, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN);
    REQUIRE_OK(est_dataset_repeat(ds, 2, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 10; i++) {
        if (i % 5 == 2) {
            CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_CORRUPT);
            CHECK_STR_CONTAINS(est_last_error(), "record 2");
            continue;
        }
        REQUIRE_OK(est_iterator_next(it, &el));
        CHECK(est_tensor_i64(&el.values[0])[0] == i % 5 && est_tensor_i64(&el.values[0])[1] == -(i % 5));
    }
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
    CHECK(g.closes == 1); /* the first epoch's state, closed when the second began */
    CHECK_STATUS(est_iterator_save(it, NULL, 0, &size), EST_ERR_UNIMPLEMENTED);
    CHECK_STR_CONTAINS(est_last_error(), "generator");
    est_iterator_free(it);
    CHECK(g.closes == 2);
    est_dataset_free(ds);
    sp.n = 0;
    CHECK_STATUS(est_dataset_from_generator(gen_count, gen_close, &g, &sp, &ds), EST_ERR_INVALID_ARGUMENT);
}

/* ---- prefetch --------------------------------------------------------------------------------------- */

TEST(dataset_prefetch_order_and_errors)
{
    int64_t fail_at = 5;
    est_element_spec sp = sq_spec();
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    int i, round;
    REQUIRE_OK(est_dataset_map(ds_range(0, 40, 1), map_square, &fail_at, &sp, 2, &ds));
    REQUIRE_OK(est_dataset_prefetch(ds, 3, &ds));
    CHECK(est_dataset_cardinality(ds) == 40);
    REQUIRE_OK(est_dataset_repeat(ds, 2, &ds)); /* the second pass restarts the thread */
    for (round = 0; round < 2; round++) {
        REQUIRE_OK(est_dataset_make_iterator(ds, &it));
        for (i = 0; i < 80; i++) {
            if (i % 40 == 5) {
                CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_INVALID_ARGUMENT);
                CHECK_STR_CONTAINS(est_last_error(), "refusing 5"); /* the message crossed threads */
                continue;
            }
            REQUIRE_OK(est_iterator_next(it, &el));
            CHECK(est_tensor_i64(&el.values[0])[0] == i % 40);
            CHECK(est_tensor_f32(&el.values[1])[0] == (float)((i % 40) * (i % 40)));
        }
        CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
        CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
        est_iterator_free(it); /* round 1: freed right after the end */
    }
    /* an iterator freed while its thread is busy */
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    REQUIRE_OK(est_iterator_next(it, &el));
    est_iterator_free(it);
    est_dataset_free(ds);
}

TEST(dataset_prefetch_map_no_allocation)
{
    est_element_spec sp = sq_spec();
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    long before;
    int i;
    REQUIRE_OK(est_dataset_map(ds_range(0, 1000000, 1), map_square, NULL, &sp, 2, &ds));
    REQUIRE_OK(est_dataset_shuffle(ds, 16, 1, 1, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 4, 0, &ds));
    REQUIRE_OK(est_dataset_prefetch(ds, 2, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 50; i++) REQUIRE_OK(est_iterator_next(it, &el));
    before = test_alloc_calls;
    for (i = 0; i < 500; i++) REQUIRE_OK(est_iterator_next(it, &el));
    CHECK_MSG(test_alloc_calls == before, "map/shuffle/batch/prefetch: %ld allocations in 500 steady-state batches",
              test_alloc_calls - before);
    est_iterator_free(it);
    est_dataset_free(ds);
}

/* ---- cache, enumerate, zip, concatenate, shard --------------------------------------------------------- */

static est_status map_count_calls(const est_element *in, est_element_builder *out, void *user)
{
    (*(int *)user)++;
    return est_element_builder_set(out, 0, &in->values[0]);
}

TEST(dataset_cache)
{
    est_dataset *ds = NULL;
    int calls = 0, i;
    double v[64];
    est_status end;
    REQUIRE_OK(est_dataset_map(ds_range(0, 5, 1), map_count_calls, &calls, NULL, 0, &ds));
    REQUIRE_OK(est_dataset_cache(ds, NULL, &ds));
    CHECK(est_dataset_cardinality(ds) == 5);
    REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 15);
    for (i = 0; i < 15; i++) CHECK(v[i] == i % 5);
    CHECK(calls == 5); /* later passes read the cache */
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 15); /* and so do later iterators */
    CHECK(calls == 5);
    est_dataset_free(ds);
}

/* ---- file caches ---------------------------------------------------------------------------------------- */

#include <dirent.h>
/* Number of entries in dir (besides . and ..) whose name contains sub. */
static int dir_count(const char *dir, const char *sub)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, sub)) n++;
    closedir(d);
    return n;
}
/* range(0, n) -> map(count calls) -> cache(prefix); *calls counts the input's elements. */
static est_dataset *fcache_ds(const char *prefix, int64_t n, int *calls)
{
    est_dataset *ds = NULL;
    if (est_dataset_map(ds_range(0, n, 1), map_count_calls, calls, NULL, 0, &ds) != EST_OK) return NULL;
    if (est_dataset_cache(ds, prefix, &ds) != EST_OK) return NULL;
    return ds;
}

TEST(dataset_cache_file)
{
    const char *dir = test_tmpdir();
    char prefix[512], path[600];
    est_dataset *ds = NULL;
    int calls = 0, calls2 = 0, i;
    double v[64];
    est_status end;
    snprintf(prefix, sizeof prefix, "%s/train", dir);
    snprintf(path, sizeof path, "%s.estcache", prefix);
    ds = fcache_ds(prefix, 5, &calls);
    REQUIRE(ds != NULL);
    CHECK(est_dataset_cardinality(ds) == 5);
    REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 15);
    CHECK(end == EST_ERR_OUT_OF_RANGE);
    for (i = 0; i < 15; i++) CHECK(v[i] == i % 5);
    CHECK(calls == 5); /* the repeats read the file */
    CHECK(est_path_exists(path));
    CHECK(dir_count(dir, "tmp") == 0); /* the temporary file became the cache */
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 15); /* a new iterator reads it too */
    CHECK(calls == 5);
    est_dataset_free(ds);
    /* a new pipeline (as in a new process) reads the file and never calls its input */
    ds = fcache_ds(prefix, 5, &calls2);
    REQUIRE(ds != NULL);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 5);
    for (i = 0; i < 5; i++) CHECK(v[i] == i);
    CHECK(calls2 == 0);
    est_dataset_free(ds);
    /* strings and shapes survive the file; an empty input gives an empty (but complete) cache */
    {
        const char *names[2] = {"s", "m"};
        est_tensor ts[2], *got = NULL;
        est_string strs[3];
        float m[6] = {1, 2, 3, 4, 5, 6};
        est_iterator *it = NULL;
        est_element el = {0};
        int c2 = 0;
        strs[0].data = "a";
        strs[0].size = 1;
        strs[1].data = "";
        strs[1].size = 0;
        strs[2].data = "hello\0x";
        strs[2].size = 7;
        memset(ts, 0, sizeof ts);
        ts[0].dtype = EST_DTYPE_STRING;
        ts[0].shape = est_shape1(3);
        ts[0].data = strs;
        ts[0].nbytes = sizeof strs;
        ts[1].dtype = EST_DTYPE_F32;
        ts[1].shape = est_shape2(3, 2);
        ts[1].data = m;
        ts[1].nbytes = sizeof m;
        snprintf(prefix, sizeof prefix, "%s/strings", dir);
        for (c2 = 0; c2 < 2; c2++) { /* write, then read */
            REQUIRE_OK(est_dataset_from_tensor_slices(names, ts, 2, &ds));
            REQUIRE_OK(est_dataset_cache(ds, prefix, &ds));
            REQUIRE_OK(est_dataset_make_iterator(ds, &it));
            for (i = 0; i < 3; i++) {
                REQUIRE_OK(est_iterator_next(it, &el));
                CHECK(((const est_string *)el.values[0].data)[0].size == strs[i].size);
                CHECK(memcmp(((const est_string *)el.values[0].data)[0].data, strs[i].data, strs[i].size) == 0);
                CHECK(el.values[1].shape.rank == 1 && el.values[1].shape.dims[0] == 2);
                CHECK(est_tensor_f32(&el.values[1])[1] == m[2 * i + 1]);
            }
            CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
            est_iterator_free(it);
            est_dataset_free(ds);
        }
        (void)got;
        snprintf(prefix, sizeof prefix, "%s/empty", dir);
        ds = fcache_ds(prefix, 0, &c2);
        CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 0 && end == EST_ERR_OUT_OF_RANGE);
        CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 0 && end == EST_ERR_OUT_OF_RANGE);
        snprintf(path, sizeof path, "%s.estcache", prefix);
        CHECK(est_path_exists(path));
        est_dataset_free(ds);
    }
}

TEST(dataset_cache_file_early_stop)
{
    const char *dir = test_tmpdir();
    char prefix[512], path[600];
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    int calls = 0, i;
    double v[64];
    est_status end;
    snprintf(prefix, sizeof prefix, "%s/part", dir);
    snprintf(path, sizeof path, "%s.estcache", prefix);
    /* take(3) stops the pass early: no cache, and no temporary file left behind */
    ds = fcache_ds(prefix, 8, &calls);
    REQUIRE_OK(est_dataset_take(ds, 3, &ds));
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 3);
    CHECK(!est_path_exists(path));
    CHECK(dir_count(dir, "part") == 0);
    /* again: the input is read again, since nothing was cached */
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 3);
    CHECK(calls == 6);
    est_dataset_free(ds);
    /* an iterator freed mid-pass while another iterator of the same dataset writes too */
    calls = 0;
    ds = fcache_ds(prefix, 8, &calls);
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 4; i++) REQUIRE_OK(est_iterator_next(it, &el));
    CHECK(dir_count(dir, "part.estcache.tmp") == 1); /* the pass writes under a temporary name */
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 8); /* a second writer, to the end */
    CHECK(est_path_exists(path));
    CHECK(dir_count(dir, "part.estcache.tmp") == 1); /* the first one's file is still its own */
    est_iterator_free(it);
    CHECK(dir_count(dir, "part") == 1); /* only the cache */
    CHECK(calls == 12);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 8);
    for (i = 0; i < 8; i++) CHECK(v[i] == i);
    CHECK(calls == 12);
    est_dataset_free(ds);
}

/* Overwrite `n` bytes at `off` of a file (off < 0: from the end), or truncate it to `off` (n = 0). */
static void file_patch(const char *path, long off, const char *bytes, int n)
{
    FILE *f = fopen(path, "r+b");
    long size;
    REQUIRE(f != NULL);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    if (off < 0) off += size;
    if (n > 0) {
        fseek(f, off, SEEK_SET);
        fwrite(bytes, 1, (size_t)n, f);
        fclose(f);
    } else {
        fclose(f);
        REQUIRE(truncate(path, off) == 0);
    }
}
/* Drain a file-cached range(0, 8) over an existing file; the first error's status. */
static est_status fcache_read_status(const char *prefix, int *n_ok)
{
    int calls = 0;
    est_dataset *ds = fcache_ds(prefix, 8, &calls);
    est_iterator *it = NULL;
    est_element el = {0};
    est_status s;
    *n_ok = 0;
    if ((s = est_dataset_make_iterator(ds, &it)) == EST_OK) {
        while ((s = est_iterator_next(it, &el)) == EST_OK) (*n_ok)++;
        est_iterator_free(it);
    }
    est_dataset_free(ds);
    return calls ? EST_ERR_INTERNAL : s; /* the input must never be read */
}

TEST(dataset_cache_file_corrupt)
{
    const char *dir = test_tmpdir();
    char prefix[512], path[600];
    int n = 0, k;
    long size = 0;
    /* record layout (dataset.h): header record, 8 element records of 12 + 17 + 4 bytes (a scalar
     * int64: 'E', dtype, rank 0, 8 bytes), end mark of 12 + 9 + 4 bytes */
    struct {
        long off; /* from the end */
        const char *bytes;
        int n; /* 0: truncate to size + off */
        est_status want;
        int n_ok;
    } cases[] = {
        {-25 - 4 - 8, "\x7f", 1, EST_ERR_CORRUPT, 7},  /* last element's value: payload checksum */
        {-25 - 33, "\x01", 1, EST_ERR_CORRUPT, 7},     /* its length: length checksum */
        {-25 - 33 + 12, "X", 1, EST_ERR_CORRUPT, 7},    /* its type byte */
        {-10, "", 0, EST_ERR_TRUNCATED, 8},              /* cut inside the end mark */
        {-25, "", 0, EST_ERR_TRUNCATED, 8},              /* the end mark is missing */
        {-25 - 20, "", 0, EST_ERR_TRUNCATED, 7},         /* cut inside the last element */
        {-10000, "", 0, EST_ERR_TRUNCATED, 0},           /* empty file */
        {-10000, "ESTCACHX", 8, EST_ERR_CORRUPT, 0},     /* the header */
    };
    snprintf(prefix, sizeof prefix, "%s/c", dir);
    snprintf(path, sizeof path, "%s.estcache", prefix);
    for (k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        int calls = 0;
        double v[16];
        est_status end, s;
        est_dataset *ds;
        FILE *f;
        long off;
        remove(path);
        ds = fcache_ds(prefix, 8, &calls);
        CHECK(ds_drain(ds, "value", v, 16, NULL, 16, &end) == 8);
        est_dataset_free(ds);
        f = fopen(path, "rb");
        REQUIRE(f != NULL);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
        if (k == 0) CHECK(fcache_read_status(prefix, &n) == EST_ERR_OUT_OF_RANGE && n == 8); /* intact */
        off = cases[k].off < -size ? (cases[k].n ? 12 : 0) : cases[k].off;
        file_patch(path, off < 0 ? size + off : off, cases[k].bytes, cases[k].n);
        s = fcache_read_status(prefix, &n);
        CHECK_MSG(s == cases[k].want, "case %d: status %s (%s)", k, est_status_string(s), est_last_error());
        CHECK_MSG(n == cases[k].n_ok, "case %d: %d elements before the error", k, n);
        CHECK_STR_CONTAINS(est_last_error(), path);
        CHECK_STR_CONTAINS(est_last_error(), "byte");
    }
}

TEST(dataset_cache_file_structure_mismatch)
{
    const char *dir = test_tmpdir();
    char prefix[512];
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    int calls = 0;
    double v[16];
    est_status end;
    float f[3] = {1, 2, 3};
    est_tensor t;
    const char *names[1] = {"value"};
    snprintf(prefix, sizeof prefix, "%s/m", dir);
    ds = fcache_ds(prefix, 3, &calls); /* int64 scalars "value" */
    CHECK(ds_drain(ds, "value", v, 16, NULL, 16, &end) == 3);
    est_dataset_free(ds);
    /* float32 "value": same name, another dtype */
    memset(&t, 0, sizeof t);
    t.dtype = EST_DTYPE_F32;
    t.shape = est_shape1(3);
    t.data = f;
    t.nbytes = sizeof f;
    REQUIRE_OK(est_dataset_from_tensor_slices(names, &t, 1, &ds));
    REQUIRE_OK(est_dataset_cache(ds, prefix, &ds));
    CHECK_STATUS(est_dataset_make_iterator(ds, &it), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "component 'value'");
    CHECK_STR_CONTAINS(est_last_error(), "float32");
    CHECK_STR_CONTAINS(est_last_error(), "m.estcache");
    CHECK(it == NULL);
    est_dataset_free(ds);
    /* a batched int64: another shape */
    REQUIRE_OK(est_dataset_batch(ds_range(0, 3, 1), 3, 1, &ds));
    REQUIRE_OK(est_dataset_cache(ds, prefix, &ds));
    CHECK_STATUS(est_dataset_make_iterator(ds, &it), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "[3]");
    est_dataset_free(ds);
    /* another component name */
    REQUIRE_OK(est_dataset_enumerate(ds_range(0, 3, 1), 0, &ds));
    REQUIRE_OK(est_dataset_cache(ds, prefix, &ds));
    CHECK_STATUS(est_dataset_make_iterator(ds, &it), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "components");
    est_dataset_free(ds);
}

/* cache(file) -> repeat(3) over a shuffle: saved at every position, while writing and while reading,
 * restored into a new pipeline with the file kept, or deleted (rebuilt by replaying the input). */
TEST(dataset_cache_file_save_restore)
{
    const char *dir = test_tmpdir();
    char prefix[512], path[600];
    double ref[32], got[32];
    est_dataset *ds = NULL;
    est_iterator *a = NULL;
    est_element el = {0};
    int n = 0, i, k, variant;
    snprintf(prefix, sizeof prefix, "%s/sr", dir);
    snprintf(path, sizeof path, "%s.estcache", prefix);
    /* the reference: the same pipeline with a memory cache */
    REQUIRE_OK(est_dataset_shuffle(ds_range(0, 6, 1), 6, 2, 1, &ds));
    REQUIRE_OK(est_dataset_cache(ds, NULL, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &a));
    while (est_iterator_next(a, &el) == EST_OK) ref[n++] = est_tensor_get(&el.values[0], 0);
    CHECK(n == 18);
    est_iterator_free(a);
    est_dataset_free(ds);
    for (variant = 0; variant < 2; variant++)
        for (i = 0; i <= 18; i++) {
            est_dataset *d2 = NULL;
            est_iterator *b = NULL;
            void *blob;
            size_t size = 0;
            int m = 0;
            remove(path);
            REQUIRE_OK(est_dataset_shuffle(ds_range(0, 6, 1), 6, 2, 1, &ds));
            REQUIRE_OK(est_dataset_cache(ds, prefix, &ds));
            REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
            REQUIRE_OK(est_dataset_make_iterator(ds, &a));
            for (k = 0; k < i; k++) {
                REQUIRE_OK(est_iterator_next(a, &el));
                CHECK(est_tensor_get(&el.values[0], 0) == ref[k]);
            }
            CHECK(est_path_exists(path) == (i > 6)); /* the first pass ends when element 7 is asked for */
            REQUIRE_OK(est_iterator_save(a, NULL, 0, &size));
            blob = malloc(size);
            REQUIRE_OK(est_iterator_save(a, blob, size, &size));
            est_iterator_free(a);
            est_dataset_free(ds);
            if (variant == 1) remove(path);
            REQUIRE_OK(est_dataset_shuffle(ds_range(0, 6, 1), 6, 2, 1, &d2));
            REQUIRE_OK(est_dataset_cache(d2, prefix, &d2));
            REQUIRE_OK(est_dataset_repeat(d2, 3, &d2));
            REQUIRE_OK(est_dataset_make_iterator(d2, &b));
            CHECK_OK(est_iterator_restore(b, blob, size));
            free(blob);
            while (est_iterator_next(b, &el) == EST_OK && m < 32) got[m++] = est_tensor_get(&el.values[0], 0);
            CHECK_MSG(m == 18 - i, "variant %d cut %d: %d elements after resuming", variant, i, m);
            for (k = 0; k < m && k + i < 18; k++) CHECK_MSG(got[k] == ref[k + i], "variant %d cut %d element %d", variant, i, k);
            CHECK(est_path_exists(path));
            est_iterator_free(b);
            est_dataset_free(d2);
            CHECK(dir_count(dir, "tmp") == 0);
        }
}

TEST(dataset_enumerate_zip_concatenate_shard)
{
    est_dataset *ds = NULL, *z[2];
    est_iterator *it = NULL;
    est_element el = {0};
    double v[64];
    est_status end;
    est_tensor *x, *y;
    const char *na[1] = {"a"}, *nb[1] = {"b"};
    int i;
    /* enumerate(10) */
    REQUIRE_OK(est_dataset_enumerate(ds_range(5, 8, 1), 10, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 3; i++) {
        REQUIRE_OK(est_iterator_next(it, &el));
        CHECK(el.n == 2 && strcmp(el.names[0], "index") == 0 && strcmp(el.names[1], "value") == 0);
        CHECK(est_tensor_i64(&el.values[0])[0] == 10 + i && est_tensor_i64(&el.values[1])[0] == 5 + i);
    }
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
    est_iterator_free(it);
    CHECK_STATUS(est_dataset_enumerate(ds, 0, &ds), EST_ERR_INVALID_ARGUMENT); /* "index" twice */
    /* zip ends with the shortest input */
    make_xy(4, &x, &y);
    REQUIRE_OK(est_dataset_from_tensor_slices(na, x, 1, &z[0]));
    REQUIRE_OK(est_dataset_set_label_key(z[0], "a"));
    REQUIRE_OK(est_dataset_repeat(ds_range(100, 103, 1), -1, &z[1]));
    REQUIRE_OK(est_dataset_zip(z, 2, &ds));
    CHECK(est_dataset_cardinality(ds) == 4);
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 4; i++) {
        REQUIRE_OK(est_iterator_next(it, &el));
        CHECK(el.n == 2 && est_tensor_f32(&el.values[0])[1] == (float)(10 * i + 1));
        CHECK(est_tensor_i64(&el.values[1])[0] == 100 + i % 3);
    }
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
    est_iterator_free(it);
    {
        est_element_spec sp = {0};
        est_dataset_element_spec(ds, &sp);
        CHECK(sp.label_key && strcmp(sp.label_key, "a") == 0);
    }
    est_dataset_free(ds);
    z[0] = ds_range(0, 3, 1);
    z[1] = ds_range(0, 3, 1);
    CHECK_STATUS(est_dataset_zip(z, 2, &ds), EST_ERR_INVALID_ARGUMENT); /* "value" twice */
    CHECK_STR_CONTAINS(est_last_error(), "value");
    REQUIRE_OK(est_dataset_from_tensor_slices(nb, y, 1, &z[0]));
    z[1] = ds_range(0, 3, 1);
    REQUIRE_OK(est_dataset_filter(z[1], pred_even, NULL, &z[1]));
    REQUIRE_OK(est_dataset_zip(z, 2, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN);
    est_dataset_free(ds);
    /* concatenate */
    REQUIRE_OK(est_dataset_concatenate(ds_range(0, 3, 1), ds_range(10, 12, 1), &ds));
    CHECK(est_dataset_cardinality(ds) == 5);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 5);
    CHECK(v[0] == 0 && v[2] == 2 && v[3] == 10 && v[4] == 11);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_from_tensor_slices(nb, y, 1, &z[0]));
    CHECK_STATUS(est_dataset_concatenate(z[0], ds_range(0, 2, 1), &ds), EST_ERR_INVALID_ARGUMENT);
    REQUIRE_OK(est_dataset_concatenate(ds_range(0, 3, 1), ds_range(0, 1, 1), &ds));
    est_dataset_free(ds);
    /* shard */
    REQUIRE_OK(est_dataset_shard(ds_range(0, 10, 1), 3, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 3);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 3);
    CHECK(v[0] == 1 && v[1] == 4 && v[2] == 7);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_shard(ds_range(0, 10, 1), 3, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == 4);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 4 && v[3] == 9);
    est_dataset_free(ds);
    CHECK_STATUS(est_dataset_shard(ds_range(0, 10, 1), 3, 3, &ds), EST_ERR_INVALID_ARGUMENT);
    est_tensor_free(x);
    est_tensor_free(y);
}

/* ---- unbatch, padded_batch ------------------------------------------------------------------------------ */

TEST(dataset_unbatch)
{
    est_dataset *ds = NULL;
    double v[64];
    est_status end;
    est_element_spec sp = {0};
    int i;
    REQUIRE_OK(est_dataset_batch(ds_range(0, 10, 1), 4, 0, &ds));
    REQUIRE_OK(est_dataset_unbatch(ds, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN); /* the batch size is not static */
    est_dataset_element_spec(ds, &sp);
    CHECK(sp.shapes[0].rank == 0);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 10);
    for (i = 0; i < 10; i++) CHECK(v[i] == i);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_batch(ds_range(0, 12, 1), 4, 1, &ds));
    REQUIRE_OK(est_dataset_unbatch(ds, &ds));
    CHECK(est_dataset_cardinality(ds) == 12);
    est_dataset_free(ds);
    CHECK_STATUS(est_dataset_unbatch(ds_range(0, 3, 1), &ds), EST_ERR_SHAPE);
}

/* value -> "seq": value % 4 copies of value + 1, "s": a string of value % 3 'x's */
static est_status map_ragged(const est_element *in, est_element_builder *out, void *user)
{
    int64_t v = est_tensor_i64(&in->values[0])[0], k;
    est_tensor *t;
    est_status s;
    char buf[8] = "xxxxxxx";
    est_string str;
    est_tensor st = {0};
    (void)user;
    if ((s = est_element_builder_alloc(out, 0, est_shape1(v % 4), &t)) != EST_OK) return s;
    for (k = 0; k < v % 4; k++) est_tensor_i32(t)[k] = (int32_t)(v + 1);
    str.data = buf;
    str.size = (size_t)(v % 3);
    memset(&st, 0, sizeof st);
    st.dtype = EST_DTYPE_STRING;
    st.shape = est_shape_scalar();
    st.data = &str;
    st.nbytes = sizeof str;
    return est_element_builder_set(out, 1, &st);
}

TEST(dataset_padded_batch)
{
    const char *names[2] = {"seq", "s"};
    est_dtype dts[2] = {EST_DTYPE_I32, EST_DTYPE_STRING};
    est_shape shs[2], ps[2];
    est_element_spec sp = {0};
    est_dataset *ds = NULL, *base = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    est_tensor pads[2];
    int32_t pad_i = -1;
    est_string pad_s;
    int i, j;
    shs[0] = est_shape1(-1);
    shs[1] = est_shape_scalar();
    sp.n = 2;
    sp.names = names;
    sp.dtypes = dts;
    sp.shapes = shs;
    sp.label_key = NULL;
    REQUIRE_OK(est_dataset_map(ds_range(0, 7, 1), map_ragged, NULL, &sp, 0, &base));
    /* to the largest in each batch, zero padding */
    REQUIRE_OK(est_dataset_padded_batch(est_dataset_ref(base), 3, NULL, NULL, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == 3);
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    REQUIRE_OK(est_iterator_next(it, &el)); /* values 0,1,2: lengths 0,1,2 */
    CHECK(el.values[0].shape.rank == 2 && el.values[0].shape.dims[0] == 3 && el.values[0].shape.dims[1] == 2);
    {
        int32_t want[6] = {0, 0, 2, 0, 3, 3};
        for (i = 0; i < 6; i++) CHECK(est_tensor_i32(&el.values[0])[i] == want[i]);
    }
    CHECK(((const est_string *)el.values[1].data)[2].size == 2);
    REQUIRE_OK(est_iterator_next(it, &el)); /* values 3,4,5: lengths 3,0,1 */
    CHECK(el.values[0].shape.dims[1] == 3);
    {
        int32_t want[9] = {4, 4, 4, 0, 0, 0, 6, 0, 0};
        for (i = 0; i < 9; i++) CHECK(est_tensor_i32(&el.values[0])[i] == want[i]);
    }
    REQUIRE_OK(est_iterator_next(it, &el)); /* value 6: length 2, a partial batch of 1 */
    CHECK(el.values[0].shape.dims[0] == 1 && el.values[0].shape.dims[1] == 2);
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE);
    est_iterator_free(it);
    est_dataset_free(ds);
    /* fixed padded shape 5, padding values -1 and "pad" */
    ps[0] = est_shape1(5);
    ps[1] = est_shape_scalar();
    memset(pads, 0, sizeof pads);
    pads[0].dtype = EST_DTYPE_I32;
    pads[0].shape = est_shape_scalar();
    pads[0].data = &pad_i;
    pads[0].nbytes = 4;
    pad_s.data = "pad";
    pad_s.size = 3;
    pads[1].dtype = EST_DTYPE_STRING;
    pads[1].shape = est_shape_scalar();
    pads[1].data = &pad_s;
    pads[1].nbytes = sizeof pad_s;
    REQUIRE_OK(est_dataset_padded_batch(est_dataset_ref(base), 4, ps, pads, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 1);
    {
        est_element_spec got = {0};
        est_dataset_element_spec(ds, &got);
        CHECK(got.shapes[0].rank == 2 && got.shapes[0].dims[0] == 4 && got.shapes[0].dims[1] == 5);
    }
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    REQUIRE_OK(est_iterator_next(it, &el)); /* values 0..3 */
    for (i = 0; i < 4; i++)
        for (j = 0; j < 5; j++) CHECK(est_tensor_i32(&el.values[0])[i * 5 + j] == (j < i % 4 ? i + 1 : -1));
    CHECK(((const est_string *)el.values[1].data)[1].size == 1);
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_OUT_OF_RANGE); /* 4..6 dropped */
    est_iterator_free(it);
    est_dataset_free(ds);
    /* a padded shape smaller than an element fails that batch */
    ps[0] = est_shape1(2);
    REQUIRE_OK(est_dataset_padded_batch(est_dataset_ref(base), 4, ps, NULL, 0, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    CHECK_STATUS(est_iterator_next(it, &el), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "seq");
    est_iterator_free(it);
    est_dataset_free(ds);
    ps[0] = est_shape2(2, 2);
    CHECK_STATUS(est_dataset_padded_batch(est_dataset_ref(base), 4, ps, NULL, 0, &ds), EST_ERR_SHAPE);
    CHECK_STATUS(est_dataset_padded_batch(est_dataset_ref(base), 0, NULL, NULL, 0, &ds), EST_ERR_INVALID_ARGUMENT);
    est_dataset_free(base);
}

/* ---- interleave ----------------------------------------------------------------------------------------- */

/* x -> x repeated 6 times (TF's from_tensors(x).repeat(6)) */
static est_status il_repeat6(const est_element *in, est_dataset **out, void *user)
{
    int64_t x = est_tensor_i64(&in->values[0])[0], six[6];
    est_tensor t = {0};
    const char *names[1] = {"value"};
    int i;
    (void)user;
    for (i = 0; i < 6; i++) six[i] = x;
    memset(&t, 0, sizeof t);
    t.dtype = EST_DTYPE_I64;
    t.shape = est_shape1(6);
    t.data = six;
    t.nbytes = sizeof six;
    return est_dataset_from_tensor_slices(names, &t, 1, out);
}
static const char *il_names[1] = {"value"};
static const est_dtype il_dtypes[1] = {EST_DTYPE_I64};
static est_shape il_shapes[1];
static est_element_spec il_spec(void)
{
    est_element_spec sp = {0};
    il_shapes[0] = est_shape_scalar();
    sp.n = 1;
    sp.names = il_names;
    sp.dtypes = il_dtypes;
    sp.shapes = il_shapes;
    sp.label_key = NULL;
    return sp;
}

TEST(dataset_interleave)
{
    /* TF's documented example: range(1, 6).interleave(lambda x: from_tensors(x).repeat(6),
     * cycle_length=2, block_length=4) */
    static const double want[30] = {1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5};
    est_element_spec sp = il_spec();
    est_dataset *ds = NULL;
    double v[64];
    est_status end;
    int i, cuts[] = {0, 1, 3, 4, 9, 11, 12, 22, 25, 29};
    REQUIRE_OK(est_dataset_interleave(ds_range(1, 6, 1), il_repeat6, NULL, &sp, 2, 4, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN);
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 30);
    for (i = 0; i < 30; i++) CHECK_MSG(v[i] == want[i], "element %d: %g, expected %g", i, v[i], want[i]);
    check_resume(ds, "value", 31, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    est_dataset_free(ds);
    /* block_length 1, cycle_length 3 */
    REQUIRE_OK(est_dataset_interleave(ds_range(1, 4, 1), il_repeat6, NULL, &sp, 3, 1, 0, &ds));
    CHECK(ds_drain(ds, "value", v, 64, NULL, 64, &end) == 18);
    for (i = 0; i < 18; i++) CHECK(v[i] == 1 + i % 3);
    est_dataset_free(ds);
}

/* ---- parallel interleave --------------------------------------------------------------------------------- */

/* Sub-dataset of input x: range(10x, 10x + 1 + x % 4) -> map(square) that fails on 21 and 71, and
 * (when user is a slow_user) a map that records how many calls run at once. */
typedef struct slow_user {
    int inflight, max_inflight, calls;
    int wait_ms; /* each call waits up to this long for another call to be running (0: no wait) */
} slow_user;
static est_status map_slow(const est_element *in, est_element_builder *out, void *user)
{
    slow_user *u = (slow_user *)user;
    int now = __atomic_add_fetch(&u->inflight, 1, __ATOMIC_SEQ_CST), m, k;
    __atomic_add_fetch(&u->calls, 1, __ATOMIC_SEQ_CST);
    while ((m = __atomic_load_n(&u->max_inflight, __ATOMIC_SEQ_CST)) < now &&
           !__atomic_compare_exchange_n(&u->max_inflight, &m, now, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    /* a slow input: it waits (bounded) until some other call overlaps with it */
    for (k = 0; k < u->wait_ms && __atomic_load_n(&u->max_inflight, __ATOMIC_SEQ_CST) < 2; k++) {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = 1000000;
        nanosleep(&ts, NULL);
    }
    __atomic_sub_fetch(&u->inflight, 1, __ATOMIC_SEQ_CST);
    return est_element_builder_set(out, 0, &in->values[0]);
}
static const int64_t il_fail_at[2] = {21, 71};
static est_status il_squares(const est_element *in, est_dataset **out, void *user)
{
    int64_t x = est_tensor_i64(&in->values[0])[0];
    est_element_spec sp = sq_spec();
    est_dataset *d = ds_range(10 * x, 10 * x + 1 + x % 4, 1);
    est_status s;
    if (user && (s = est_dataset_map(d, map_slow, user, NULL, 0, &d)) != EST_OK) return s;
    return est_dataset_map(d, map_square, (void *)&il_fail_at[x % 2], &sp, 0, out);
}
/* Every result of a pass: values, and -1000 - code for errors (the iteration goes on after them). */
static int il_results(est_dataset *ds, double *out, int max)
{
    est_iterator *it = NULL;
    est_element el = {0};
    est_status s;
    int n = 0;
    if (est_dataset_make_iterator(ds, &it) != EST_OK) return -1;
    while (n < max && (s = est_iterator_next(it, &el)) != EST_ERR_OUT_OF_RANGE)
        out[n++] = s == EST_OK ? est_tensor_get(&el.values[0], 0) * 100 + est_tensor_get(&el.values[1], 0) : -1000.0 + (double)s;
    est_iterator_free(it);
    return n;
}

TEST(dataset_interleave_parallel_same_order_as_serial)
{
    est_element_spec sp = sq_spec();
    int cls[] = {1, 2, 3, 5}, bls[] = {1, 2, 3, 40}, nps[] = {1, 2, 3, EST_AUTOTUNE};
    int ci, bi, pi, errors = 0;
    for (ci = 0; ci < 4; ci++)
        for (bi = 0; bi < 4; bi++) {
            double ref[256], got[256];
            est_dataset *ds = NULL;
            int nref, n, k;
            REQUIRE_OK(est_dataset_interleave(ds_range(0, 11, 1), il_squares, NULL, &sp, cls[ci], bls[bi], 0, &ds));
            nref = il_results(ds, ref, 256);
            est_dataset_free(ds);
            CHECK(nref == 26); /* the sum of 1 + x % 4 over x < 11; the 2 errors take an element's place */
            for (k = 0; k < nref; k++) errors += ref[k] < 0;
            for (pi = 0; pi < 4; pi++) {
                REQUIRE_OK(est_dataset_interleave(ds_range(0, 11, 1), il_squares, NULL, &sp, cls[ci], bls[bi], nps[pi], &ds));
                n = il_results(ds, got, 256);
                CHECK_MSG(n == nref, "cycle %d block %d threads %d: %d results, serial %d", cls[ci], bls[bi], nps[pi], n, nref);
                for (k = 0; k < n && k < nref; k++)
                    CHECK_MSG(got[k] == ref[k], "cycle %d block %d threads %d: result %d is %g, serial %g", cls[ci], bls[bi], nps[pi], k,
                              got[k], ref[k]);
                est_dataset_free(ds);
            }
        }
    CHECK(errors == 16 * 2); /* 21 and 71 fail, in every configuration */
}

TEST(dataset_interleave_parallel_overlaps)
{
    est_element_spec sp = sq_spec();
    slow_user u;
    double ref[64], got[64];
    est_dataset *ds = NULL;
    int nref, n, k;
    memset(&u, 0, sizeof u);
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 8, 1), il_squares, &u, &sp, 3, 1, 0, &ds));
    nref = il_results(ds, ref, 64);
    est_dataset_free(ds);
    CHECK(u.max_inflight == 1); /* serial: one call at a time */
    CHECK(u.calls == 20);
    memset(&u, 0, sizeof u);
#if !defined(EST_NO_THREADS)
    u.wait_ms = 1000; /* serial reading would never see an overlap: only a bound on the wait */
#endif
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 8, 1), il_squares, &u, &sp, 3, 1, 3, &ds));
    n = il_results(ds, got, 64);
    est_dataset_free(ds);
    CHECK(n == nref);
    for (k = 0; k < n && k < nref; k++) CHECK(got[k] == ref[k]);
#if !defined(EST_NO_THREADS)
    /* the sub-datasets were read concurrently (a call saw another one running) */
    CHECK_MSG(u.max_inflight >= 2, "at most %d calls at once", u.max_inflight);
#endif
    CHECK(u.calls == 20); /* nothing read twice, nothing dropped */
}

TEST(dataset_interleave_parallel_free_mid_stream)
{
    est_element_spec sp = sq_spec();
    slow_user u;
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    int i;
    memset(&u, 0, sizeof u);
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 1000, 1), il_squares, &u, &sp, 4, 2, 4, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, -1, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    for (i = 0; i < 5; i++) est_iterator_next(it, &el);
    est_iterator_free(it); /* joins the workers */
    /* bounded read-ahead: at most cycle_length * 16 buffered (block 2: 16 per slot) + the calls
     * running (the sub-datasets have 1 to 4 elements, so it is far less) */
    CHECK_MSG(u.calls <= 5 + 4 * 16 + 4, "%d calls for 5 elements", u.calls);
    /* a new iterator after all that still starts at the start */
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    REQUIRE_OK(est_iterator_next(it, &el));
    CHECK(est_tensor_i64(&el.values[0])[0] == 0);
    est_iterator_free(it);
    est_dataset_free(ds);
}

TEST(dataset_interleave_parallel_save_restore)
{
    est_element_spec sp = sq_spec();
    est_dataset *par = NULL, *ser = NULL;
    int cuts[] = {0, 1, 2, 3, 5, 8, 13, 17, 21, 26, 30};
    double ref[256];
    int nref, c, k;
    /* within the parallel pipeline (ignore_errors so that check_resume sees no errors) */
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 11, 1), il_squares, NULL, &sp, 3, 2, 2, &par));
    REQUIRE_OK(est_dataset_ignore_errors(par, &par));
    check_resume(par, "value", 32, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    est_dataset_free(par);
    /* across modes: saved while the workers have read ahead, restored serially, and back */
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 11, 1), il_squares, NULL, &sp, 3, 2, 3, &par));
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 11, 1), il_squares, NULL, &sp, 3, 2, 0, &ser));
    nref = il_results(ser, ref, 256);
    for (c = 0; c < (int)(sizeof cuts / sizeof cuts[0]); c++) {
        int dir;
        for (dir = 0; dir < 2; dir++) {
            est_iterator *a = NULL, *b = NULL;
            est_element el = {0};
            est_status s;
            void *blob;
            size_t size = 0;
            double got;
            REQUIRE_OK(est_dataset_make_iterator(dir ? ser : par, &a));
            for (k = 0; k < cuts[c]; k++) est_iterator_next(a, &el);
            if (dir == 0 && cuts[c] > 0) {
                /* let the workers fill their buffers before the save */
                struct timespec ts;
                ts.tv_sec = 0;
                ts.tv_nsec = 5000000;
                nanosleep(&ts, NULL);
            }
            REQUIRE_OK(est_iterator_save(a, NULL, 0, &size));
            blob = malloc(size);
            REQUIRE_OK(est_iterator_save(a, blob, size, &size));
            est_iterator_free(a);
            REQUIRE_OK(est_dataset_make_iterator(dir ? par : ser, &b));
            CHECK_OK(est_iterator_restore(b, blob, size));
            free(blob);
            for (k = cuts[c]; k < nref; k++) {
                s = est_iterator_next(b, &el);
                got = s == EST_OK ? est_tensor_get(&el.values[0], 0) * 100 + est_tensor_get(&el.values[1], 0) : -1000.0 + (double)s;
                CHECK_MSG(got == ref[k], "cut %d (%s): result %d is %g, expected %g", cuts[c], dir ? "serial -> parallel" : "parallel -> serial",
                          k, got, ref[k]);
            }
            CHECK_STATUS(est_iterator_next(b, &el), EST_ERR_OUT_OF_RANGE);
            est_iterator_free(b);
        }
    }
    est_dataset_free(par);
    est_dataset_free(ser);
}

/* ---- save / restore across the other transformations ------------------------------------------------------ */

TEST(dataset_save_restore_everything)
{
    est_element_spec sp = sq_spec(), isp = il_spec();
    est_dataset *ds = NULL, *z[2];
    int cuts[] = {0, 1, 2, 5, 8, 13, 21, 30};
    int64_t fail_at = 6;
    /* parallel map (pending results) -> prefetch (queued elements) -> ignore_errors -> unbatch */
    REQUIRE_OK(est_dataset_map(ds_range(0, 40, 1), map_square, &fail_at, &sp, 3, &ds));
    REQUIRE_OK(est_dataset_shuffle(ds, 5, 9, 1, &ds));
    REQUIRE_OK(est_dataset_prefetch(ds, 4, &ds));
    REQUIRE_OK(est_dataset_ignore_errors(ds, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 3, 0, &ds));
    REQUIRE_OK(est_dataset_unbatch(ds, &ds));
    REQUIRE_OK(est_dataset_repeat(ds, 2, &ds));
    check_resume(ds, "sq", 90, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    est_dataset_free(ds);
    /* cache -> repeat: resumed in the reading phase, in a fresh dataset whose cache is empty */
    {
        double ref[64], got[64];
        int n = 0, i;
        est_iterator *a = NULL, *b = NULL;
        est_element el = {0};
        est_dataset *d2 = NULL;
        void *blob;
        size_t size;
        REQUIRE_OK(est_dataset_shuffle(ds_range(0, 6, 1), 6, 2, 1, &ds));
        REQUIRE_OK(est_dataset_cache(ds, NULL, &ds));
        REQUIRE_OK(est_dataset_repeat(ds, 3, &ds));
        REQUIRE_OK(est_dataset_make_iterator(ds, &a));
        while (est_iterator_next(a, &el) == EST_OK) ref[n++] = est_tensor_get(&el.values[0], 0);
        CHECK(n == 18);
        for (i = 0; i < 6; i++) CHECK(ref[i] == ref[6 + i] && ref[i] == ref[12 + i]); /* cached: same order */
        est_iterator_free(a);
        for (i = 0; i < 18; i += 4) {
            int k, m = 0;
            REQUIRE_OK(est_dataset_make_iterator(ds, &a));
            for (k = 0; k < i; k++) REQUIRE_OK(est_iterator_next(a, &el));
            REQUIRE_OK(est_iterator_save(a, NULL, 0, &size));
            blob = malloc(size);
            REQUIRE_OK(est_iterator_save(a, blob, size, &size));
            est_iterator_free(a);
            /* the same pipeline built again: its cache is empty, so the restore rebuilds it */
            REQUIRE_OK(est_dataset_shuffle(ds_range(0, 6, 1), 6, 2, 1, &d2));
            REQUIRE_OK(est_dataset_cache(d2, NULL, &d2));
            REQUIRE_OK(est_dataset_repeat(d2, 3, &d2));
            REQUIRE_OK(est_dataset_make_iterator(d2, &b));
            CHECK_OK(est_iterator_restore(b, blob, size));
            free(blob);
            while (est_iterator_next(b, &el) == EST_OK) got[m++] = est_tensor_get(&el.values[0], 0);
            CHECK_MSG(m == 18 - i, "cut %d: %d elements after resuming", i, m);
            for (k = 0; k < m && k + i < 18; k++) CHECK(got[k] == ref[k + i]);
            est_iterator_free(b);
            est_dataset_free(d2);
        }
        est_dataset_free(ds);
    }
    /* zip + enumerate + concatenate + shard + padded_batch + interleave */
    REQUIRE_OK(est_dataset_interleave(ds_range(1, 9, 1), il_repeat6, NULL, &isp, 3, 2, 0, &z[0]));
    REQUIRE_OK(est_dataset_concatenate(z[0], ds_range(50, 60, 1), &z[0]));
    REQUIRE_OK(est_dataset_shard(z[0], 2, 1, &z[0]));
    REQUIRE_OK(est_dataset_enumerate(z[0], 0, &z[0]));
    REQUIRE_OK(est_dataset_map(ds_range(0, 100, 1), map_square, NULL, &sp, 0, &z[1]));
    REQUIRE_OK(est_dataset_shuffle(z[1], 10, 4, 1, &z[1]));
    {
        /* rename value -> v2 through a map with another spec */
        REQUIRE_OK(est_dataset_batch(z[1], 2, 1, &z[1]));
        REQUIRE_OK(est_dataset_unbatch(z[1], &z[1]));
        REQUIRE_OK(est_dataset_map(z[1], map_square, NULL, &sp, 2, &z[1]));
    }
    {
        est_dataset *only_sq = NULL;
        /* zip needs distinct names: zip enumerate(...) [index, value] with [value, sq] fails */
        CHECK_STATUS(est_dataset_zip(z, 2, &only_sq), EST_ERR_INVALID_ARGUMENT);
    }
    REQUIRE_OK(est_dataset_interleave(ds_range(1, 9, 1), il_repeat6, NULL, &isp, 3, 2, 0, &ds));
    REQUIRE_OK(est_dataset_shard(ds, 2, 1, &ds));
    REQUIRE_OK(est_dataset_enumerate(ds, 0, &ds));
    REQUIRE_OK(est_dataset_padded_batch(ds, 3, NULL, NULL, 0, &ds));
    check_resume(ds, "value", 30, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    check_resume(ds, "index", 30, cuts, (int)(sizeof cuts / sizeof cuts[0]));
    est_dataset_free(ds);
}

TEST(dataset_cardinality_transformations)
{
    est_dataset *ds = NULL, *z[2];
    REQUIRE_OK(est_dataset_filter(ds_range(0, 10, 1), pred_even, NULL, &ds));
    REQUIRE_OK(est_dataset_batch(ds, 3, 0, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_UNKNOWN);
    REQUIRE_OK(est_dataset_repeat(ds, -1, &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_INFINITE); /* TF: unknown input repeated forever */
    REQUIRE_OK(est_dataset_take(ds, 4, &ds));
    CHECK(est_dataset_cardinality(ds) == 4);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_prefetch(ds_range(0, 10, 1), EST_AUTOTUNE, &ds));
    REQUIRE_OK(est_dataset_cache(ds, NULL, &ds));
    REQUIRE_OK(est_dataset_enumerate(ds, 0, &ds));
    REQUIRE_OK(est_dataset_shuffle(ds, 3, 0, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 10);
    REQUIRE_OK(est_dataset_shard(ds, 4, 3, &ds));
    CHECK(est_dataset_cardinality(ds) == 2);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_repeat(ds_range(0, 3, 1), -1, &z[0]));
    REQUIRE_OK(est_dataset_concatenate(ds_range(0, 2, 1), z[0], &ds));
    CHECK(est_dataset_cardinality(ds) == EST_CARDINALITY_INFINITE);
    est_dataset_free(ds);
    REQUIRE_OK(est_dataset_take(ds_range(0, 3, 1), 2, &ds));
    REQUIRE_OK(est_dataset_padded_batch(ds, 4, NULL, NULL, 1, &ds));
    CHECK(est_dataset_cardinality(ds) == 0);
    est_dataset_free(ds);
    (void)z[1];
}

/* x -> a generator dataset of x elements: iterators over it cannot be saved */
static est_status il_generator(const est_element *in, est_dataset **out, void *user)
{
    const char *names[1] = {"v"};
    est_dtype dts[1] = {EST_DTYPE_I64};
    est_shape shs[1];
    est_element_spec sp = {0};
    gen_user *g = (gen_user *)user;
    (void)in;
    shs[0] = est_shape1(2);
    sp.n = 1;
    sp.names = names;
    sp.dtypes = dts;
    sp.shapes = shs;
    sp.label_key = NULL;
    return est_dataset_from_generator(gen_count, gen_close, g, &sp, out);
}

TEST(dataset_interleave_generator_cannot_be_saved)
{
    const char *names[1] = {"v"};
    est_dtype dts[1] = {EST_DTYPE_I64};
    est_shape shs[1];
    est_element_spec sp = {0};
    gen_user g;
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el = {0};
    size_t size;
    shs[0] = est_shape1(2);
    sp.n = 1;
    sp.names = names;
    sp.dtypes = dts;
    sp.shapes = shs;
    sp.label_key = NULL;
    g.closes = 0;
    g.limit = 2;
    REQUIRE_OK(est_dataset_interleave(ds_range(0, 3, 1), il_generator, &g, &sp, 2, 1, 0, &ds));
    REQUIRE_OK(est_dataset_make_iterator(ds, &it));
    CHECK_OK(est_iterator_save(it, NULL, 0, &size)); /* nothing open yet */
    REQUIRE_OK(est_iterator_next(it, &el));
    CHECK(est_tensor_i64(&el.values[0])[0] == 0);
    CHECK_STATUS(est_iterator_save(it, NULL, 0, &size), EST_ERR_UNIMPLEMENTED);
    CHECK_STR_CONTAINS(est_last_error(), "generator");
    est_iterator_free(it);
    CHECK(g.closes == 1); /* one generator was open (cycle slot 0) */
    est_dataset_free(ds);
}
