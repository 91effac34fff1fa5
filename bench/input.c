/* Input-pipeline benchmark: TFRecord read + tf.Example parsing, PNG decode + augmentation, and
 * the ratio of the pipeline's rate to what the seed CNN consumes while training.
 *
 *   cc -O3 -march=native bench/input.c -o bench_input -lm -lpthread
 *   ./bench_input [--records N] [--train_rate IMG_PER_S]
 *   ./bench_input --only pipeline_t2 [--pngs FILE] [--records N]
 *
 * --only pipeline_t2 (used by bench/run.sh, `make bench`): one warm-up and one timed run of
 * pipeline_t2, printed as "RESULT input_pipeline <images/s> img/s"; --pngs also writes the PNG
 * payloads (u32 little-endian size, the bytes, a u8 label; per image) for bench/torch_bench.py.
 *
 * Data: N Fashion-MNIST-sized tf.Examples ("image/encoded": 784 raw bytes, "image/class/label":
 * int64; about 800 bytes each) in two TFRecord files under /tmp, and the same images as PNG
 * (est_png_encode, what `tfrecord convert --format png` writes). Workloads (median of RUNS timed
 * runs after a warm-up):
 *   parse_1core        est_parse_example on batches of 256 records already in memory, one thread:
 *                      the per-core parse rate (MB/s of Example payload)
 *   read_parse_tN      TFRecordDataset(2 files) -> batch(256) -> parse_example(num_parallel_calls N)
 *                      through a dataset iterator, N = 1 and 2 (file reads and CRCs included)
 *   read_batch_only    the same without parse_example (the reading + batching share of read_parse)
 *   read_parse_t2_r2   read_parse_t2 with num_parallel_reads 2: the two files are read (and their
 *                      CRCs checked) by parallel interleave's two threads
 *   png_augment_1core  decode PNG (float32) + resize 32x32 bilinear + random flip + random
 *                      brightness + per_image_standardization, one thread
 *   pipeline_t2        the examples/tfrecord_images input_fn's pipeline: TFRecord (PNG Examples)
 *                      -> enumerate -> map(parse + decode + augment, 2 threads) -> batch(32) -> prefetch
 * The seed CNN trains at about --train_rate images/s on this machine (850 by default, measured with
 * examples/mnist_cnn); the last lines give pipeline / training. */
#define ESTIMATOR_IMPLEMENTATION
#include "../estimator.h"
#include <stdio.h>
#include <stdlib.h>

#define RUNS 5
#define BATCH 256

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, est_last_error());
    exit(1);
}

/* ---- data ---------------------------------------------------------------------------------------- */

typedef struct corpus {
    int64_t n;
    est_string *raw;      /* serialized Examples with raw pixels */
    size_t raw_bytes;     /* sum of their sizes */
    est_string *png;      /* PNG files of the same images */
    char raw_files[2][256], png_files[2][256];
} corpus;

static uint8_t *make_images(int64_t n, uint8_t **labels)
{
    /* Fashion-MNIST when installed, else a deterministic pattern of the same size */
    est_tensor *x = NULL, *y = NULL;
    uint8_t *px = (uint8_t *)malloc((size_t)n * 784), *lab = (uint8_t *)malloc((size_t)n);
    int64_t i;
    if (est_idx_load("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", &x) == EST_OK &&
        est_idx_load("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", &y) == EST_OK) {
        for (i = 0; i < n; i++) {
            int64_t k = i % x->shape.dims[0];
            memcpy(px + i * 784, (uint8_t *)x->data + k * 784, 784);
            lab[i] = ((uint8_t *)y->data)[k];
        }
    } else {
        for (i = 0; i < n * 784; i++) px[i] = (uint8_t)((i * 2654435761u) >> 24);
        for (i = 0; i < n; i++) lab[i] = (uint8_t)(i % 10);
    }
    est_tensor_free(x);
    est_tensor_free(y);
    *labels = lab;
    return px;
}

static void write_files(corpus *c, const est_string *recs, char files[2][256], const char *tag)
{
    int f;
    for (f = 0; f < 2; f++) {
        est_tfrecord_writer *w = NULL;
        int64_t i;
        snprintf(files[f], 256, "/tmp/bench_input_%s_%d.tfrecord", tag, f);
        if (est_tfrecord_writer_open(files[f], NULL, &w) != EST_OK) die("writer");
        for (i = f; i < c->n; i += 2)
            if (est_tfrecord_writer_write(w, recs[i].data, recs[i].size) != EST_OK) die("write");
        if (est_tfrecord_writer_close(w) != EST_OK) die("close");
    }
}

static void make_corpus(corpus *c, int64_t n)
{
    uint8_t *lab, *px = make_images(n, &lab);
    est_example_builder *b = NULL;
    int64_t i;
    int pass;
    c->n = n;
    c->raw = (est_string *)calloc((size_t)n, sizeof(est_string));
    c->png = (est_string *)calloc((size_t)n, sizeof(est_string));
    if (est_example_builder_new(&b) != EST_OK) die("builder");
    for (pass = 0; pass < 2; pass++) {
        est_string *out = pass ? c->png : c->raw;
        for (i = 0; i < n; i++) {
            const void *data[1], *ser;
            size_t sizes[1], ss;
            int64_t y = lab[i];
            void *png = NULL;
            size_t png_size = 0;
            char *copy;
            if (pass) {
                if (est_png_encode(px + i * 784, 28, 28, 1, &png, &png_size) != EST_OK) die("png");
                data[0] = png;
                sizes[0] = png_size;
            } else {
                data[0] = px + i * 784;
                sizes[0] = 784;
            }
            est_example_builder_reset(b);
            if (est_example_add_bytes(b, "image/encoded", data, sizes, 1) != EST_OK ||
                est_example_add_int64(b, "image/class/label", &y, 1) != EST_OK || est_example_serialize(b, &ser, &ss) != EST_OK)
                die("example");
            copy = (char *)malloc(ss);
            memcpy(copy, ser, ss);
            out[i].data = copy;
            out[i].size = ss;
            if (!pass) c->raw_bytes += ss;
            est_free(png);
        }
    }
    est_example_builder_free(b);
    write_files(c, c->raw, c->raw_files, "raw");
    write_files(c, c->png, c->png_files, "png");
    free(px);
    free(lab);
}

static est_feature_spec g_spec[2];

/* ---- workloads ------------------------------------------------------------------------------------- */

static double bench_parse_1core(const corpus *c)
{
    double t0 = est_time_now();
    int64_t i;
    for (i = 0; i < c->n; i += BATCH) {
        est_parsed_example *ex = NULL;
        int64_t b = c->n - i < BATCH ? c->n - i : BATCH;
        if (est_parse_example(c->raw + i, b, g_spec, 2, &ex) != EST_OK) die("parse_example");
        est_parsed_example_free(ex);
    }
    return est_time_now() - t0;
}

/* threads < 0: TFRecordDataset -> batch only (no parsing), to split the read_parse time;
 * reads = TFRecordDataset's num_parallel_reads */
static double bench_read_parse(const corpus *c, int threads, int reads)
{
    const char *files[2];
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el;
    est_status s;
    int64_t rows = 0;
    double t0;
    files[0] = c->raw_files[0];
    files[1] = c->raw_files[1];
    if (est_dataset_tfrecord(files, 2, EST_COMPRESSION_NONE, 0, reads, &ds) != EST_OK || est_dataset_batch(ds, BATCH, 0, &ds) != EST_OK ||
        (threads >= 0 && est_dataset_parse_example(ds, g_spec, 2, threads, &ds) != EST_OK) || est_dataset_make_iterator(ds, &it) != EST_OK)
        die("read_parse pipeline");
    t0 = est_time_now();
    memset(&el, 0, sizeof el); /* gcc -O3 maybe-uninitialized */
    while ((s = est_iterator_next(it, &el)) == EST_OK) rows += el.values[0].shape.dims[0];
    if (s != EST_ERR_OUT_OF_RANGE || rows != c->n) die("read_parse");
    t0 = est_time_now() - t0;
    est_iterator_free(it);
    est_dataset_free(ds);
    return t0;
}

/* decode + augment one PNG into out (float32 [32, 32, 1]) */
static est_status augment(const void *png, size_t size, uint64_t seed, est_tensor *out)
{
    est_tensor *img = NULL;
    est_status s = est_decode_image(png, size, 1, EST_DTYPE_F32, &img);
    if (s == EST_OK) s = est_image_resize(img, 32, 32, EST_RESIZE_BILINEAR, out);
    if (s == EST_OK) s = est_image_random_flip_left_right(out, seed, out);
    if (s == EST_OK) s = est_image_random_brightness(out, 0.1f, seed, out);
    if (s == EST_OK) s = est_image_per_image_standardization(out, out);
    est_tensor_free(img);
    return s;
}

static double bench_png_1core(const corpus *c, est_string *pngs)
{
    float buf[32 * 32];
    est_tensor out;
    double t0 = est_time_now();
    int64_t i;
    memset(&out, 0, sizeof out);
    out.dtype = EST_DTYPE_F32;
    out.shape = est_shape3(32, 32, 1);
    out.data = buf;
    out.nbytes = sizeof buf;
    for (i = 0; i < c->n; i++)
        if (augment(pngs[i].data, pngs[i].size, est_image_seed(1, i), &out) != EST_OK) die("augment");
    return est_time_now() - t0;
}

static est_status map_fn(const est_element *in, est_element_builder *b, void *user)
{
    const est_string *rec = (const est_string *)in->values[est_element_find(in, "serialized")].data;
    int64_t index = *est_tensor_i64(&in->values[est_element_find(in, "index")]);
    est_parsed_example *ex = NULL;
    est_tensor *t = NULL, lab;
    int32_t y;
    const est_string *png;
    est_status s;
    (void)user;
    if ((s = est_parse_single_example(rec->data, rec->size, g_spec, 2, &ex)) != EST_OK) return s;
    png = (const est_string *)ex->features[0].value->data;
    y = (int32_t)*est_tensor_i64(ex->features[1].value);
    if ((s = est_element_builder_alloc(b, 0, est_shape3(32, 32, 1), &t)) == EST_OK) s = augment(png->data, png->size, est_image_seed(1, index), t);
    if (s == EST_OK) {
        memset(&lab, 0, sizeof lab);
        lab.dtype = EST_DTYPE_I32;
        lab.shape = est_shape_scalar();
        lab.data = &y;
        lab.nbytes = 4;
        s = est_element_builder_set(b, 1, &lab);
    }
    est_parsed_example_free(ex);
    return s;
}

static double bench_pipeline(const corpus *c, int threads)
{
    const char *files[2], *names[2] = {"image", "label"};
    est_dtype dts[2];
    est_shape shs[2];
    est_element_spec sp;
    est_dataset *ds = NULL;
    est_iterator *it = NULL;
    est_element el;
    est_status s;
    int64_t rows = 0;
    double t0;
    files[0] = c->png_files[0];
    files[1] = c->png_files[1];
    dts[0] = EST_DTYPE_F32;
    dts[1] = EST_DTYPE_I32;
    shs[0] = est_shape3(32, 32, 1);
    shs[1] = est_shape_scalar();
    sp.n = 2;
    sp.names = names;
    sp.dtypes = dts;
    sp.shapes = shs;
    sp.label_key = "label";
    if (est_dataset_tfrecord(files, 2, EST_COMPRESSION_NONE, 0, 1, &ds) != EST_OK || est_dataset_enumerate(ds, 0, &ds) != EST_OK ||
        est_dataset_map(ds, map_fn, NULL, &sp, threads, &ds) != EST_OK || est_dataset_batch(ds, 32, 0, &ds) != EST_OK ||
        est_dataset_prefetch(ds, EST_AUTOTUNE, &ds) != EST_OK || est_dataset_make_iterator(ds, &it) != EST_OK)
        die("pipeline");
    t0 = est_time_now();
    memset(&el, 0, sizeof el); /* gcc -O3 maybe-uninitialized */
    while ((s = est_iterator_next(it, &el)) == EST_OK) rows += el.values[0].shape.dims[0];
    if (s != EST_ERR_OUT_OF_RANGE || rows != c->n) die("pipeline run");
    t0 = est_time_now() - t0;
    est_iterator_free(it);
    est_dataset_free(ds);
    return t0;
}

int main(int argc, char **argv)
{
    corpus c;
    int64_t n = 20000;
    double train_rate = 850.0, t[RUNS], med[8], png_bytes = 0;
    int i, r;
    const char *only = NULL, *pngs_out = NULL;
    const char *names[8] = {"parse_1core", "read_parse_t1", "read_parse_t2", "png_augment_1core", "pipeline_t1", "pipeline_t2",
                            "read_batch_only", "read_parse_t2_r2"};
    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--records") == 0) n = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--train_rate") == 0) train_rate = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--only") == 0) only = argv[i + 1];
        else if (strcmp(argv[i], "--pngs") == 0) pngs_out = argv[i + 1];
    }
    if (n < BATCH) n = BATCH;
    memset(&c, 0, sizeof c);
    make_corpus(&c, n);
    g_spec[0] = est_fixed_len_feature("image/encoded", est_shape_scalar(), EST_DTYPE_STRING, NULL);
    g_spec[1] = est_fixed_len_feature("image/class/label", est_shape_scalar(), EST_DTYPE_I64, NULL);
    if (only) {
        double sec;
        if (strcmp(only, "pipeline_t2") != 0) {
            fprintf(stderr, "--only: only pipeline_t2 is supported\n");
            return 2;
        }
        if (pngs_out) {
            FILE *f = fopen(pngs_out, "wb");
            int64_t k;
            if (!f) {
                fprintf(stderr, "cannot write %s\n", pngs_out);
                return 1;
            }
            for (k = 0; k < n; k++) {
                est_parsed_example *ex = NULL;
                const est_string *p;
                uint8_t hdr[4], lab;
                if (est_parse_single_example(c.png[k].data, c.png[k].size, g_spec, 2, &ex) != EST_OK) die("png parse");
                p = (const est_string *)ex->features[0].value->data;
                hdr[0] = (uint8_t)p->size;
                hdr[1] = (uint8_t)(p->size >> 8);
                hdr[2] = (uint8_t)(p->size >> 16);
                hdr[3] = (uint8_t)(p->size >> 24);
                lab = (uint8_t)*est_tensor_i64(ex->features[1].value);
                fwrite(hdr, 1, 4, f);
                fwrite(p->data, 1, p->size, f);
                fwrite(&lab, 1, 1, f);
                est_parsed_example_free(ex);
            }
            if (fclose(f) != 0) die("pngs");
        }
        bench_pipeline(&c, 2); /* warm-up */
        sec = bench_pipeline(&c, 2);
        printf("RESULT input_pipeline %.4g img/s\n", (double)n / sec);
        for (i = 0; i < 2; i++) {
            remove(c.raw_files[i]);
            remove(c.png_files[i]);
        }
        return 0;
    }
    {
        est_string *pngs = (est_string *)calloc((size_t)n, sizeof(est_string));
        int64_t k;
        for (k = 0; k < n; k++) { /* the PNG payloads, for the decode-only workload */
            est_parsed_example *ex = NULL;
            const est_string *p;
            if (est_parse_single_example(c.png[k].data, c.png[k].size, g_spec, 2, &ex) != EST_OK) die("png parse");
            p = (const est_string *)ex->features[0].value->data;
            pngs[k].data = (const char *)malloc(p->size);
            memcpy((void *)pngs[k].data, p->data, p->size);
            pngs[k].size = p->size;
            png_bytes += (double)p->size;
            est_parsed_example_free(ex);
        }
        printf("%lld records: Examples with raw pixels %.1f bytes each, PNGs %.1f bytes each\n", (long long)n,
               (double)c.raw_bytes / (double)n, png_bytes / (double)n);
        for (i = 0; i < 8; i++) {
            for (r = -1; r < RUNS; r++) { /* run -1 warms up */
                double s = 0;
                switch (i) {
                case 0: s = bench_parse_1core(&c); break;
                case 1: s = bench_read_parse(&c, 1, 1); break;
                case 2: s = bench_read_parse(&c, 2, 1); break;
                case 3: s = bench_png_1core(&c, pngs); break;
                case 4: s = bench_pipeline(&c, 1); break;
                case 5: s = bench_pipeline(&c, 2); break;
                case 6: s = bench_read_parse(&c, -1, 1); break;
                default: s = bench_read_parse(&c, 2, 2); break;
                }
                if (r >= 0) t[r] = s;
            }
            med[i] = median(t, RUNS);
            if (i < 3 || i >= 6)
                printf("%-18s %10.0f records/s %8.1f MB/s of Example payload\n", names[i], (double)n / med[i],
                       (double)c.raw_bytes / med[i] / 1e6);
            else
                printf("%-18s %10.0f images/s\n", names[i], (double)n / med[i]);
        }
        for (k = 0; k < n; k++) free((void *)pngs[k].data);
        free(pngs);
    }
    printf("pipeline_t2 / training (%.0f img/s): %.1fx\n", train_rate, (double)n / med[5] / train_rate);
    for (i = 0; i < 8; i++) {
        if (i >= 3 && i < 6) continue;
        printf("BENCH name=%s value=%.0f unit=records/s\n", names[i], (double)n / med[i]);
        printf("BENCH name=%s_mb value=%.1f unit=MB/s\n", names[i], (double)c.raw_bytes / med[i] / 1e6);
    }
    for (i = 3; i < 6; i++) printf("BENCH name=%s value=%.0f unit=images/s\n", names[i], (double)n / med[i]);
    printf("BENCH name=pipeline_over_training value=%.2f unit=ratio\n", (double)n / med[5] / train_rate);
    for (i = 0; i < 2; i++) {
        remove(c.raw_files[i]);
        remove(c.png_files[i]);
    }
    for (i = 0; i < n; i++) {
        free((void *)c.raw[i].data);
        free((void *)c.png[i].data);
    }
    free(c.raw);
    free(c.png);
    return 0;
}
