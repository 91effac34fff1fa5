/* cc -O2 -march=native -o build/two_tower examples/two_tower.c -lm -lpthread
 *
 * A two-tower recommendation model (seed 004) as a custom Estimator:
 *
 *   user features -> DenseFeatures -> [dense -> batch norm -> relu -> dropout] x n -> dense -> l2_normalize
 *   item features -> DenseFeatures -> [dense -> batch norm -> relu -> dropout] x n -> dense -> l2_normalize
 *   logit = <user, item> / temperature  -> a user-defined head wrapping BinaryClassHead, Adam
 *
 * User features: user_id (hashed, embedded), age (bucketized), gender (vocabulary list, one OOV
 * bucket, one-hot), history (8 floats: the user's past click rate per category). Item features:
 * item_id (hashed, embedded), category (vocabulary list, embedded), price (numeric, log-normalized).
 * The last entry of --user_hidden_units / --item_hidden_units is the size of the tower's output
 * (linear, then l2-normalized, so the dot product is a cosine); the two must agree. The entries
 * before it are hidden layers, each with batch normalization (--user_batch_norm, switchable) and
 * dropout (--user_dropout: one rate for every hidden layer, or one per hidden layer).
 *
 * The head (TwoTowerHead below) is written against est_head's function pointers like TF's
 * subclass of base_head.Head: it delegates loss, predictions, metrics and export outputs to a
 * BinaryClassHead and adds the prediction "cosine" (the towers' similarity, logit * temperature)
 * and the metrics "cosine/positive_mean" and "cosine/negative_mean" (mean similarity of clicked
 * and of not clicked pairs: the gap is what the towers learned).
 *
 * train_and_evaluate evaluates after every checkpoint save (--save_checkpoints_steps; gated by
 * --throttle_secs, where 0 means every checkpoint) and runs three exporters with a parsing serving
 * receiver (serialized tf.Example): "best" (BestExporter, compare_fn: bigger AUC is better),
 * "final" (FinalExporter) and "latest" (LatestExporter, exports_to_keep 3), under
 * <model_dir>/export/. Then it predicts over --predict_files and prints the first 100 predictions,
 * loads the final export with the loader (no model_fn), checks that its "predict" signature
 * agrees with Estimator.predict on the same records, and writes <model_dir>/onnx/towers.onnx: the
 * towers and the head from the DenseFeatures outputs on (hashing and vocabulary lookups have no
 * ONNX form, so the graph is cut after them), with user_features.npy, item_features.npy and
 * expected_logistic.npy for a check with ONNX Runtime.
 *
 * Data: --make_data DIR writes TFRecord shards of tf.Examples DIR/{train,eval,predict}-*.tfrecord
 * from a synthetic world with a hidden preference structure (deterministic for a --data_seed):
 * categories and users have latent taste vectors (a user's from gender, age group and an
 * individual part), items are their category's vector plus noise, young users dislike high
 * prices, and a pair's click is drawn from sigmoid(3 <taste, item> - sensitivity * price - 0.3).
 * It prints the AUC of those true click probabilities on the eval set: the best any model can do.
 *
 *   ./build/two_tower --make_data /tmp/tt [--n_users 2000 --n_items 1000 --n_train 200000 ...]
 *   ./build/two_tower --train_files '/tmp/tt/train-*' --eval_files '/tmp/tt/eval-*' \
 *       --predict_files '/tmp/tt/predict-*' --model_dir /tmp/tt/model --max_steps 2000
 *   ./build/two_tower --help
 *   /usr/bin/python3 ../shared/verify/onnx_check.py /tmp/tt/two_tower/onnx/towers.onnx
 *   (cd /tmp/tt/two_tower/onnx && node .../verify/node/run_onnx.mjs towers.onnx \
 *       user_features=user_features.npy item_features=item_features.npy --npy-out out)
 *
 * With the defaults (towers 512,256,128, 200,000 training examples, 3,000 steps of 256) a run takes
 * about 3 minutes on 2 cores and reaches an eval AUC of 0.80, where the true probabilities give
 * 0.84; the CI's run (towers 64,32, 20,000 examples, 400 steps of 128) takes a few seconds and
 * reaches 0.76 to 0.79 over data seeds 1 to 8.
 *
 * Flags are absl-style: --name=value or --name value; booleans --name, --noname, --name=false.
 * The last line is "done: eval auc=<a> loss=<l> global_step=<n> exports=<k>" (k = export
 * directories under best/, final/ and latest/); any error prints "error: ..." and exits 1. */
#define ESTIMATOR_IMPLEMENTATION
#include "../estimator.h"
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CAT 8      /* categories (and the length of the history vector) */
#define LATENT 4     /* the hidden taste space */
#define MAX_LAYERS 16
#define N_SHOW 100   /* predictions printed, and records of the serving check */

static const char *const CATEGORIES[N_CAT] = {"books", "electronics", "clothing", "sports", "home", "toys", "beauty", "food"};
static const char *const GENDERS[2] = {"F", "M"}; /* the data also has "U" (unknown): the OOV bucket */
static const float AGE_BOUNDARIES[7] = {18, 25, 30, 35, 45, 55, 65};

/* An error of the example itself (not of a library call): printed here; the library's last error
 * is cleared so main's handler does not print a stale one. */
static est_status app_error(est_status code, const char *fmt, ...)
{
    va_list ap;
    est_clear_error();
    fprintf(stderr, "error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return code;
}

/* ---- flags ----------------------------------------------------------------------------------- */

typedef struct opts {
    const char *model_name, *model_dir, *user_hidden_units, *item_hidden_units, *user_dropout, *item_dropout;
    const char *train_files, *eval_files, *predict_files, *make_data;
    int user_batch_norm, item_batch_norm, help;
    double learning_rate, temperature, start_delay_secs, throttle_secs;
    int64_t train_batch_size, eval_batch_size, predict_batch_size, reader_num_threads, parser_num_threads;
    int64_t max_steps, save_checkpoints_steps, num_threads, tf_random_seed, id_embedding_dim;
    int64_t user_hash_buckets, item_hash_buckets;
    int64_t n_users, n_items, n_train, n_eval, n_predict, train_shards, eval_shards, data_seed;
} opts;

typedef enum flag_kind { FLAG_STRING, FLAG_INT, FLAG_FLOAT, FLAG_BOOL } flag_kind;

typedef struct flag {
    const char *name;
    flag_kind kind;
    void *ptr;
    const char *help;
} flag;

static int flag_table(opts *o, flag *f)
{
    int n = 0;
#define FLAG(nm, kd, field, hl)                                                                                                \
    do {                                                                                                                       \
        f[n].name = nm;                                                                                                        \
        f[n].kind = kd;                                                                                                        \
        f[n].ptr = (void *)&o->field;                                                                                          \
        f[n].help = hl;                                                                                                        \
        n++;                                                                                                                   \
    } while (0)
    FLAG("model_name", FLAG_STRING, model_name, "name of the model: the default model_dir is <make_data>/<model_name>, else build/<model_name>");
    FLAG("model_dir", FLAG_STRING, model_dir, "checkpoints, event files and exports");
    FLAG("user_hidden_units", FLAG_STRING, user_hidden_units, "user tower layer sizes; the last is the output size");
    FLAG("item_hidden_units", FLAG_STRING, item_hidden_units, "item tower layer sizes; the last is the output size");
    FLAG("user_dropout", FLAG_STRING, user_dropout, "dropout rate of the user tower's hidden layers: one, or one per layer");
    FLAG("item_dropout", FLAG_STRING, item_dropout, "dropout rate of the item tower's hidden layers: one, or one per layer");
    FLAG("user_batch_norm", FLAG_BOOL, user_batch_norm, "batch normalization in the user tower's hidden layers");
    FLAG("item_batch_norm", FLAG_BOOL, item_batch_norm, "batch normalization in the item tower's hidden layers");
    FLAG("temperature", FLAG_FLOAT, temperature, "logit = cosine(user, item) / temperature");
    FLAG("learning_rate", FLAG_FLOAT, learning_rate, "Adam's learning rate");
    FLAG("id_embedding_dim", FLAG_INT, id_embedding_dim, "dimension of the user_id and item_id embeddings");
    FLAG("user_hash_buckets", FLAG_INT, user_hash_buckets, "hash buckets of user_id");
    FLAG("item_hash_buckets", FLAG_INT, item_hash_buckets, "hash buckets of item_id");
    FLAG("train_files", FLAG_STRING, train_files, "glob pattern of the training TFRecord files");
    FLAG("eval_files", FLAG_STRING, eval_files, "glob pattern of the evaluation TFRecord files");
    FLAG("predict_files", FLAG_STRING, predict_files, "glob pattern of the prediction TFRecord files");
    FLAG("train_batch_size", FLAG_INT, train_batch_size, "training batch size");
    FLAG("eval_batch_size", FLAG_INT, eval_batch_size, "evaluation batch size");
    FLAG("predict_batch_size", FLAG_INT, predict_batch_size, "prediction batch size");
    FLAG("reader_num_threads", FLAG_INT, reader_num_threads, "files read in parallel (interleave cycle length)");
    FLAG("parser_num_threads", FLAG_INT, parser_num_threads, "threads parsing tf.Examples");
    FLAG("num_threads", FLAG_INT, num_threads, "threads of the session (0: one per core)");
    FLAG("max_steps", FLAG_INT, max_steps, "training steps (TrainSpec max_steps)");
    FLAG("save_checkpoints_steps", FLAG_INT, save_checkpoints_steps, "checkpoint (and evaluation) interval");
    FLAG("start_delay_secs", FLAG_FLOAT, start_delay_secs, "EvalSpec start_delay_secs (ignored locally, as TF)");
    FLAG("throttle_secs", FLAG_FLOAT, throttle_secs, "EvalSpec throttle_secs (0: evaluate every checkpoint)");
    FLAG("tf_random_seed", FLAG_INT, tf_random_seed, "RunConfig tf_random_seed");
    FLAG("make_data", FLAG_STRING, make_data, "write synthetic TFRecord data into this directory first");
    FLAG("n_users", FLAG_INT, n_users, "make_data: users");
    FLAG("n_items", FLAG_INT, n_items, "make_data: items");
    FLAG("n_train", FLAG_INT, n_train, "make_data: training examples");
    FLAG("n_eval", FLAG_INT, n_eval, "make_data: evaluation examples");
    FLAG("n_predict", FLAG_INT, n_predict, "make_data: prediction examples");
    FLAG("train_shards", FLAG_INT, train_shards, "make_data: training files");
    FLAG("eval_shards", FLAG_INT, eval_shards, "make_data: evaluation files");
    FLAG("data_seed", FLAG_INT, data_seed, "make_data: seed of the synthetic world");
    FLAG("help", FLAG_BOOL, help, "show this help");
#undef FLAG
    return n;
}

static void flag_value_text(const flag *f, char *buf, size_t cap)
{
    switch (f->kind) {
    case FLAG_STRING: snprintf(buf, cap, "'%s'", *(const char **)f->ptr ? *(const char **)f->ptr : ""); break;
    case FLAG_INT: snprintf(buf, cap, "%lld", (long long)*(int64_t *)f->ptr); break;
    case FLAG_FLOAT: snprintf(buf, cap, "%g", *(double *)f->ptr); break;
    default: snprintf(buf, cap, "%s", *(int *)f->ptr ? "true" : "false"); break;
    }
}

static void usage(opts *o)
{
    flag f[64];
    char v[256];
    int n = flag_table(o, f), i;
    printf("two_tower: a two-tower recommendation model trained with train_and_evaluate.\n\nflags:\n");
    for (i = 0; i < n; i++) {
        flag_value_text(&f[i], v, sizeof v);
        printf("  --%s: %s\n    (default: %s)\n", f[i].name, f[i].help, v);
    }
}

static int parse_bool(const char *v, int *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "1")) *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "0")) *out = 0;
    else return 0;
    return 1;
}

static int parse_flags(opts *o, int argc, char **argv)
{
    flag f[64];
    int n = flag_table(o, f), i, k;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *v = NULL;
        char name[128];
        size_t len;
        int neg = 0;
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "error: unexpected argument '%s' (flags are --name=value)\n", a);
            return 0;
        }
        a += 2;
        eq = strchr(a, '=');
        len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, a, len);
        name[len] = 0;
        if (eq) v = eq + 1;
        for (k = 0; k < n && strcmp(f[k].name, name) != 0; k++) {}
        if (k == n && strncmp(name, "no", 2) == 0 && !eq) { /* absl's --noflag */
            for (k = 0; k < n && (f[k].kind != FLAG_BOOL || strcmp(f[k].name, name + 2) != 0); k++) {}
            neg = 1;
        }
        if (k == n) {
            fprintf(stderr, "error: unknown flag --%s (see --help)\n", name);
            return 0;
        }
        if (f[k].kind == FLAG_BOOL) {
            if (!v) *(int *)f[k].ptr = !neg;
            else if (!parse_bool(v, (int *)f[k].ptr)) {
                fprintf(stderr, "error: --%s takes true or false, not '%s'\n", name, v);
                return 0;
            }
            continue;
        }
        if (!v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: --%s needs a value\n", name);
                return 0;
            }
            v = argv[++i];
        }
        if (f[k].kind == FLAG_STRING) *(const char **)f[k].ptr = v;
        else {
            char *end;
            double d = strtod(v, &end);
            if (end == v || *end) {
                fprintf(stderr, "error: --%s takes a number, not '%s'\n", name, v);
                return 0;
            }
            if (f[k].kind == FLAG_FLOAT) *(double *)f[k].ptr = d;
            else {
                long long ll = strtoll(v, &end, 10);
                if (*end) {
                    fprintf(stderr, "error: --%s takes an integer, not '%s'\n", name, v);
                    return 0;
                }
                *(int64_t *)f[k].ptr = ll;
            }
        }
    }
    return 1;
}

/* "512,256,128" -> ints; 0 on a malformed list. */
static int parse_int_list(const char *flagname, const char *s, int64_t *out, int cap)
{
    int n = 0;
    while (s && *s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v <= 0 || n == cap || (*end && *end != ',')) {
            fprintf(stderr, "error: --%s: expected up to %d positive integers separated by commas, got '%s'\n", flagname, cap, s);
            return 0;
        }
        out[n++] = v;
        s = *end ? end + 1 : end;
    }
    if (n == 0) fprintf(stderr, "error: --%s is empty\n", flagname);
    return n;
}

/* "0.1" or "0.1,0.2" -> one rate per hidden layer (n_hidden of them); 0 on error. */
static int parse_dropout(const char *flagname, const char *s, int n_hidden, float *out)
{
    float v[MAX_LAYERS];
    int n = 0, i;
    while (s && *s) {
        char *end;
        double d = strtod(s, &end);
        if (end == s || d < 0 || d >= 1 || n == MAX_LAYERS || (*end && *end != ',')) {
            fprintf(stderr, "error: --%s: expected rates in [0, 1) separated by commas, got '%s'\n", flagname, s);
            return 0;
        }
        v[n++] = (float)d;
        s = *end ? end + 1 : end;
    }
    if (n != 1 && n != n_hidden) {
        fprintf(stderr, "error: --%s: give one rate or one per hidden layer (%d), got %d\n", flagname, n_hidden, n);
        return 0;
    }
    for (i = 0; i < n_hidden; i++) out[i] = v[n == 1 ? 0 : i];
    return 1;
}

/* ---- the synthetic world and --make_data -------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r) /* splitmix64: portable and deterministic */
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng *r)
{
    double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void normalize(double *v, int n)
{
    double s = 0;
    int i;
    for (i = 0; i < n; i++) s += v[i] * v[i];
    s = sqrt(s) + 1e-12;
    for (i = 0; i < n; i++) v[i] /= s;
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    int i;
    for (i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

typedef struct world {
    int64_t n_users, n_items;
    double cat_vec[N_CAT][LATENT];
    float *age, *history, *price;
    int *gender, *cat;                   /* gender 0 F, 1 M, 2 unknown */
    double *taste, *sensitivity, *item_vec, *price_z;
} world;

static void world_free(world *w)
{
    free(w->age);
    free(w->history);
    free(w->price);
    free(w->gender);
    free(w->cat);
    free(w->taste);
    free(w->sensitivity);
    free(w->item_vec);
    free(w->price_z);
}

static double affinity(const world *w, int64_t u, int64_t i)
{
    return 3.0 * dot(&w->taste[u * LATENT], &w->item_vec[i * LATENT], LATENT) - w->sensitivity[u] * w->price_z[i] - 0.3;
}

static int world_make(world *w, int64_t n_users, int64_t n_items, rng *r)
{
    double gender_vec[3][LATENT], age_vec[8][LATENT];
    int64_t u, i;
    int c, k, t;
    memset(w, 0, sizeof *w);
    w->n_users = n_users;
    w->n_items = n_items;
    w->age = (float *)malloc(sizeof(float) * (size_t)n_users);
    w->history = (float *)malloc(sizeof(float) * (size_t)n_users * N_CAT);
    w->gender = (int *)malloc(sizeof(int) * (size_t)n_users);
    w->taste = (double *)malloc(sizeof(double) * (size_t)n_users * LATENT);
    w->sensitivity = (double *)malloc(sizeof(double) * (size_t)n_users);
    w->price = (float *)malloc(sizeof(float) * (size_t)n_items);
    w->cat = (int *)malloc(sizeof(int) * (size_t)n_items);
    w->item_vec = (double *)malloc(sizeof(double) * (size_t)n_items * LATENT);
    w->price_z = (double *)malloc(sizeof(double) * (size_t)n_items);
    if (!w->age || !w->history || !w->gender || !w->taste || !w->sensitivity || !w->price || !w->cat || !w->item_vec ||
        !w->price_z)
        return 0;
    for (c = 0; c < N_CAT; c++) {
        for (k = 0; k < LATENT; k++) w->cat_vec[c][k] = rng_normal(r);
        normalize(w->cat_vec[c], LATENT);
    }
    for (c = 0; c < 3; c++)
        for (k = 0; k < LATENT; k++) gender_vec[c][k] = c == 2 ? 0.0 : 0.8 * rng_normal(r);
    for (c = 0; c < 8; c++)
        for (k = 0; k < LATENT; k++) age_vec[c][k] = 0.8 * rng_normal(r);
    for (u = 0; u < n_users; u++) {
        double *tu = &w->taste[u * LATENT], x = rng_uniform(r);
        int ab = 0;
        w->gender[u] = x < 0.47 ? 0 : x < 0.94 ? 1 : 2;
        w->age[u] = (float)(16 + (int)(rng_uniform(r) * 60));
        while (ab < 7 && w->age[u] >= AGE_BOUNDARIES[ab]) ab++;
        for (k = 0; k < LATENT; k++) tu[k] = gender_vec[w->gender[u]][k] + age_vec[ab][k] + rng_normal(r);
        normalize(tu, LATENT);
        w->sensitivity[u] = w->age[u] < 30 ? 1.0 : w->age[u] < 50 ? 0.5 : 0.1;
        { /* history: the click rate per category over 40 past impressions at the average price */
            int imps[N_CAT], clicks[N_CAT];
            memset(imps, 0, sizeof imps);
            memset(clicks, 0, sizeof clicks);
            for (t = 0; t < 40; t++) {
                c = (int)(rng_uniform(r) * N_CAT);
                imps[c]++;
                clicks[c] += rng_uniform(r) < sigmoid(3.0 * dot(tu, w->cat_vec[c], LATENT) - 0.3);
            }
            for (c = 0; c < N_CAT; c++) w->history[u * N_CAT + c] = (float)((clicks[c] + 0.5) / (imps[c] + 1.0));
        }
    }
    for (i = 0; i < n_items; i++) {
        double *vi = &w->item_vec[i * LATENT], lp;
        w->cat[i] = (int)(rng_uniform(r) * N_CAT);
        for (k = 0; k < LATENT; k++) vi[k] = w->cat_vec[w->cat[i]][k] + 0.35 * rng_normal(r);
        normalize(vi, LATENT);
        lp = 3.0 + 0.15 * w->cat[i] + 0.6 * rng_normal(r); /* log price; categories differ in level */
        w->price[i] = (float)(floor(exp(lp) * 100.0 + 0.5) / 100.0);
        w->price_z[i] = (lp - 3.5) / 0.7;
    }
    return 1;
}

static int cmp_score(const void *a, const void *b)
{
    double x = ((const double *)a)[0], y = ((const double *)b)[0];
    return x < y ? -1 : x > y;
}

/* ROC AUC of (score, label) pairs by the rank sum (ties get the mean rank); NaN when one class is
 * absent. Sorts pairs in place. */
static double rank_auc(double *pairs, int64_t n)
{
    double pos = 0, rank_sum = 0;
    int64_t i = 0, j;
    qsort(pairs, (size_t)n, 2 * sizeof(double), cmp_score);
    while (i < n) {
        double p_in_tie = 0;
        for (j = i; j < n && pairs[2 * j] == pairs[2 * i]; j++) p_in_tie += pairs[2 * j + 1];
        rank_sum += p_in_tie * (0.5 * (double)(i + 1 + j));
        pos += p_in_tie;
        i = j;
    }
    if (pos == 0 || pos == (double)n) return NAN;
    return (rank_sum - pos * (pos + 1) / 2) / (pos * ((double)n - pos));
}

/* Writes n examples into `shards` files DIR/<split>-0000k-of-0000n.tfrecord (example j goes to
 * file j % shards). pairs (optional, 2n doubles) receives (true click probability, label). */
static est_status write_split(const world *w, const char *dir, const char *split, int64_t n, int64_t shards, rng *r,
                              double *pairs, int64_t *clicks)
{
    est_tfrecord_writer *wr[64];
    est_example_builder *b = NULL;
    char path[2048], uid[32], iid[32];
    est_status s;
    int64_t j, k, n_open = 0;
    memset(wr, 0, sizeof wr);
    if (shards < 1 || shards > 64) return app_error(EST_ERR_INVALID_ARGUMENT, "make_data: %s: 1..64 shards, not %lld", split, (long long)shards);
    if ((s = est_example_builder_new(&b)) != EST_OK) return s;
    for (k = 0; k < shards; k++, n_open++) {
        snprintf(path, sizeof path, "%s/%s-%05lld-of-%05lld.tfrecord", dir, split, (long long)k, (long long)shards);
        if ((s = est_tfrecord_writer_open(path, NULL, &wr[k])) != EST_OK) goto done;
    }
    *clicks = 0;
    for (j = 0; j < n; j++) {
        int64_t u = (int64_t)(rng_uniform(r) * (double)w->n_users), i = (int64_t)(rng_uniform(r) * (double)w->n_items);
        double p = sigmoid(affinity(w, u, i));
        int64_t label = rng_uniform(r) < p;
        const char *g = w->gender[u] == 2 ? "U" : GENDERS[w->gender[u]];
        const void *data;
        size_t size;
        *clicks += label;
        if (pairs) {
            pairs[2 * j] = p;
            pairs[2 * j + 1] = (double)label;
        }
        snprintf(uid, sizeof uid, "u%lld", (long long)u);
        snprintf(iid, sizeof iid, "i%lld", (long long)i);
        est_example_builder_reset(b);
        {
            const char *su[1], *sg[1], *si[1], *sc[1];
            su[0] = uid;
            sg[0] = g;
            si[0] = iid;
            sc[0] = CATEGORIES[w->cat[i]];
            if ((s = est_example_add_strings(b, "user_id", su, 1)) != EST_OK ||
                (s = est_example_add_float(b, "age", &w->age[u], 1)) != EST_OK ||
                (s = est_example_add_strings(b, "gender", sg, 1)) != EST_OK ||
                (s = est_example_add_float(b, "history", &w->history[u * N_CAT], N_CAT)) != EST_OK ||
                (s = est_example_add_strings(b, "item_id", si, 1)) != EST_OK ||
                (s = est_example_add_strings(b, "category", sc, 1)) != EST_OK ||
                (s = est_example_add_float(b, "price", &w->price[i], 1)) != EST_OK ||
                (s = est_example_add_int64(b, "label", &label, 1)) != EST_OK ||
                (s = est_example_serialize(b, &data, &size)) != EST_OK ||
                (s = est_tfrecord_writer_write(wr[j % shards], data, size)) != EST_OK)
                goto done;
        }
    }
    for (k = 0; k < shards; k++) {
        est_tfrecord_writer *x = wr[k];
        wr[k] = NULL;
        if ((s = est_tfrecord_writer_close(x)) != EST_OK) goto done;
    }
done:
    for (k = 0; k < n_open; k++)
        if (wr[k]) est_tfrecord_writer_abort(wr[k]);
    est_example_builder_free(b);
    return s;
}

static est_status make_data(const opts *o, double *bayes_auc)
{
    world w;
    rng r;
    double *pairs = NULL;
    int64_t clicks[3];
    est_status s;
    *bayes_auc = NAN;
    if (o->n_users < 1 || o->n_items < 1 || o->n_train < 1 || o->n_eval < 1 || o->n_predict < 1)
        return app_error(EST_ERR_INVALID_ARGUMENT, "make_data: --n_users, --n_items, --n_train, --n_eval and --n_predict must be positive");
    if ((s = est_mkdirs(o->make_data)) != EST_OK) return s;
    r.s = (uint64_t)o->data_seed * 0x2545F4914F6CDD1Dull + 4;
    if (!world_make(&w, o->n_users, o->n_items, &r) || !(pairs = (double *)malloc(sizeof(double) * 2 * (size_t)o->n_eval))) {
        world_free(&w);
        return app_error(EST_ERR_OUT_OF_MEMORY, "make_data: out of memory");
    }
    if ((s = write_split(&w, o->make_data, "train", o->n_train, o->train_shards, &r, NULL, &clicks[0])) == EST_OK &&
        (s = write_split(&w, o->make_data, "eval", o->n_eval, o->eval_shards, &r, pairs, &clicks[1])) == EST_OK &&
        (s = write_split(&w, o->make_data, "predict", o->n_predict, 1, &r, NULL, &clicks[2])) == EST_OK) {
        *bayes_auc = rank_auc(pairs, o->n_eval);
        printf("make_data: %lld users, %lld items; wrote %lld train (%lld files), %lld eval (%lld files), %lld predict "
               "examples into %s; click rate %.3f\n",
               (long long)o->n_users, (long long)o->n_items, (long long)o->n_train, (long long)o->train_shards,
               (long long)o->n_eval, (long long)o->eval_shards, (long long)o->n_predict, o->make_data,
               (double)clicks[0] / (double)o->n_train);
        printf("make_data: AUC of the true click probabilities on the eval set (the best possible): %.4f\n", *bayes_auc);
    }
    free(pairs);
    world_free(&w);
    return s;
}

/* ---- feature columns --------------------------------------------------------------------------- */

#define N_USER_COLS 4
#define N_ITEM_COLS 3

typedef struct columns {
    est_feature_column *user_id, *user_id_emb, *age, *age_buckets, *gender, *gender_onehot, *history;
    est_feature_column *item_id, *item_id_emb, *category, *category_emb, *price;
    est_feature_column *user[N_USER_COLS], *item[N_ITEM_COLS], *all[N_USER_COLS + N_ITEM_COLS];
} columns;

static void columns_free(columns *c)
{
    est_feature_column_free(c->user_id);
    est_feature_column_free(c->user_id_emb);
    est_feature_column_free(c->age);
    est_feature_column_free(c->age_buckets);
    est_feature_column_free(c->gender);
    est_feature_column_free(c->gender_onehot);
    est_feature_column_free(c->history);
    est_feature_column_free(c->item_id);
    est_feature_column_free(c->item_id_emb);
    est_feature_column_free(c->category);
    est_feature_column_free(c->category_emb);
    est_feature_column_free(c->price);
}

/* price -> (log(price) - 3.5) / 0.7: prices are log-normal */
static est_node *log_price(est_graph *g, est_node *x, void *user)
{
    (void)user;
    return est_div(g, est_sub(g, est_log(g, est_maximum(g, x, est_scalar(g, 0.01f))), est_scalar(g, 3.5f)), est_scalar(g, 0.7f));
}

static est_status columns_make(const opts *o, columns *c)
{
    est_numeric_column_args hist, price;
    est_vocabulary_args oov;
    est_status s;
    memset(c, 0, sizeof *c);
    memset(&hist, 0, sizeof hist);
    hist.shape = est_shape1(N_CAT);
    memset(&price, 0, sizeof price);
    price.normalizer_fn = log_price;
    memset(&oov, 0, sizeof oov);
    oov.num_oov_buckets = 1;
    if ((s = est_categorical_column_with_hash_bucket("user_id", o->user_hash_buckets, EST_DTYPE_STRING, &c->user_id)) != EST_OK ||
        (s = est_embedding_column(c->user_id, (int)o->id_embedding_dim, NULL, &c->user_id_emb)) != EST_OK ||
        (s = est_numeric_column("age", NULL, &c->age)) != EST_OK ||
        (s = est_bucketized_column(c->age, AGE_BOUNDARIES, 7, &c->age_buckets)) != EST_OK ||
        (s = est_categorical_column_with_vocabulary_list("gender", GENDERS, 2, &oov, &c->gender)) != EST_OK ||
        (s = est_indicator_column(c->gender, &c->gender_onehot)) != EST_OK ||
        (s = est_numeric_column("history", &hist, &c->history)) != EST_OK ||
        (s = est_categorical_column_with_hash_bucket("item_id", o->item_hash_buckets, EST_DTYPE_STRING, &c->item_id)) != EST_OK ||
        (s = est_embedding_column(c->item_id, (int)o->id_embedding_dim, NULL, &c->item_id_emb)) != EST_OK ||
        (s = est_categorical_column_with_vocabulary_list("category", CATEGORIES, N_CAT, &oov, &c->category)) != EST_OK ||
        (s = est_embedding_column(c->category, 8, NULL, &c->category_emb)) != EST_OK ||
        (s = est_numeric_column("price", &price, &c->price)) != EST_OK)
        return s;
    c->user[0] = c->all[0] = c->user_id_emb;
    c->user[1] = c->all[1] = c->age_buckets;
    c->user[2] = c->all[2] = c->gender_onehot;
    c->user[3] = c->all[3] = c->history;
    c->item[0] = c->all[4] = c->item_id_emb;
    c->item[1] = c->all[5] = c->category_emb;
    c->item[2] = c->all[6] = c->price;
    return EST_OK;
}

/* ---- the head: BinaryClassHead plus the towers' cosine (seed 004's UserDefineHead) --------------- */

typedef struct two_tower_head {
    est_head head; /* first member: the est_head * the Estimator sees is this struct */
    est_head *binary;
    float temperature;
} two_tower_head;

static est_node *tth_loss(est_head *h, est_graph *g, const est_head_inputs *in)
{
    two_tower_head *t = (two_tower_head *)h;
    return t->binary->loss(t->binary, g, in);
}

static est_node *tth_cosine(two_tower_head *t, est_graph *g, est_node *logits)
{
    return est_mul(g, logits, est_scalar(g, t->temperature));
}

static est_status tth_predictions(est_head *h, est_graph *g, est_node *logits, est_prediction_dict *out)
{
    two_tower_head *t = (two_tower_head *)h;
    est_status s = t->binary->predictions(t->binary, g, logits, out);
    if (s != EST_OK) return s;
    return est_prediction_dict_add(out, "cosine", est_set_name(tth_cosine(t, g, logits), "cosine"));
}

static est_status tth_metrics(est_head *h, est_graph *g, const est_head_inputs *in, est_metric_dict *out)
{
    two_tower_head *t = (two_tower_head *)h;
    est_metric_args a;
    est_node *cos, *pos;
    est_status s = t->binary->metrics(t->binary, g, in, out);
    if (s != EST_OK) return s;
    cos = tth_cosine(t, g, in->logits);
    pos = est_cast(g, est_reshape_like(g, in->labels, cos), EST_DTYPE_F32);
    memset(&a, 0, sizeof a);
    a.name = "cosine_positive_mean";
    a.weights = pos;
    if ((s = est_metric_dict_add(out, "cosine/positive_mean", est_metrics_mean(g, cos, &a))) != EST_OK) return s;
    a.name = "cosine_negative_mean";
    a.weights = est_sub(g, est_scalar(g, 1.0f), pos);
    return est_metric_dict_add(out, "cosine/negative_mean", est_metrics_mean(g, cos, &a));
}

/* The binary head's signatures (serving_default, classification, regression, predict), with every
 * prediction of this head in "predict". */
static est_status tth_export_outputs(est_head *h, est_graph *g, const est_prediction_dict *preds, est_spec *spec)
{
    two_tower_head *t = (two_tower_head *)h;
    return t->binary->export_outputs(t->binary, g, preds, spec);
}

static est_status two_tower_head_init(two_tower_head *t, float temperature)
{
    memset(t, 0, sizeof *t);
    t->temperature = temperature;
    t->head.name = NULL; /* unnamed: the metric keys are TF's ("auc", not "auc/<name>") */
    t->head.logits_dimension = 1;
    t->head.loss_reduction = EST_REDUCTION_SUM_OVER_BATCH_SIZE;
    t->head.loss = tth_loss;
    t->head.predictions = tth_predictions;
    t->head.metrics = tth_metrics;
    t->head.export_outputs = tth_export_outputs;
    return est_binary_class_head_new(NULL, &t->binary);
}

/* ---- the model ----------------------------------------------------------------------------------- */

/* What model_fn needs besides hyperparameters: objects that outlive the estimator. It reaches
 * model_fn through params as an address, as the canned estimators pass their columns. */
typedef struct model_ctx {
    columns cols;
    two_tower_head head;
} model_ctx;

typedef struct tower_desc {
    const char *name;
    est_feature_column *const *cols;
    int n_cols;
    int64_t units[MAX_LAYERS];
    int n_units;
    float dropout[MAX_LAYERS];
    int batch_norm;
} tower_desc;

static int tower_from_params(const est_params *p, const char *prefix, tower_desc *t)
{
    char key[64];
    const char *drop;
    snprintf(key, sizeof key, "%s_hidden_units", prefix);
    t->n_units = est_params_get_int_list(p, key, t->units, MAX_LAYERS);
    snprintf(key, sizeof key, "%s_dropout", prefix);
    drop = est_params_get_string(p, key, "0");
    snprintf(key, sizeof key, "%s_batch_norm", prefix);
    t->batch_norm = est_params_get_bool(p, key, 1);
    snprintf(key, sizeof key, "--%s_dropout", prefix);
    return t->n_units >= 1 && parse_dropout(key + 2, drop, t->n_units - 1 > 0 ? t->n_units - 1 : 1, t->dropout);
}

/* DenseFeatures -> hidden layers (dense, batch norm, relu, dropout) -> dense -> l2_normalize, all
 * under the scope t->name. The DenseFeatures output is named "<tower>/input": the ONNX export
 * starts there. */
static est_node *tower(est_graph *g, const est_features *features, const tower_desc *t, int training)
{
    est_feature_map fm;
    est_dense_args da;
    est_batch_norm_args bn;
    est_node *x;
    char name[32];
    int i, axis = 1;
    if (!est_name_scope_push(g, t->name)) return NULL;
    memset(&fm, 0, sizeof fm);
    fm.features = features;
    x = est_set_name(est_identity(g, est_dense_features(g, &fm, t->cols, t->n_cols, NULL)), "input");
    for (i = 0; i + 1 < t->n_units; i++) {
        memset(&da, 0, sizeof da);
        snprintf(name, sizeof name, "hiddenlayer_%d", i);
        da.name = name;
        da.no_bias = t->batch_norm; /* batch norm's beta is the bias */
        x = est_dense(g, x, (int)t->units[i], &da);
        if (t->batch_norm) {
            memset(&bn, 0, sizeof bn);
            snprintf(name, sizeof name, "batchnorm_%d", i);
            bn.name = name;
            x = est_batch_normalization(g, x, training, &bn);
        }
        x = est_relu(g, x);
        if (t->dropout[i] > 0) x = est_dropout_layer(g, x, t->dropout[i], training, 0);
    }
    memset(&da, 0, sizeof da);
    da.name = "output";
    x = est_dense(g, x, (int)t->units[t->n_units - 1], &da);
    x = est_set_name(est_l2_normalize(g, x, &axis, 1, 0), "embedding");
    est_name_scope_pop(g);
    return x;
}

static est_status model_fn(est_graph *g, const est_features *features, est_node *labels, est_mode mode, const est_params *params,
                           const est_run_config *config, est_spec *spec)
{
    model_ctx *m = (model_ctx *)(intptr_t)est_params_get_int(params, "model_ctx", 0);
    int training = mode == EST_MODE_TRAIN;
    tower_desc ut, it;
    est_head_spec_args a;
    est_optimizer_desc adam;
    est_reduce_args r;
    est_node *user, *item, *cos, *logits;
    (void)config;
    memset(&ut, 0, sizeof ut);
    memset(&it, 0, sizeof it);
    ut.name = "user_tower";
    ut.cols = m->cols.user;
    ut.n_cols = N_USER_COLS;
    it.name = "item_tower";
    it.cols = m->cols.item;
    it.n_cols = N_ITEM_COLS;
    if (!tower_from_params(params, "user", &ut) || !tower_from_params(params, "item", &it))
        return app_error(EST_ERR_INVALID_ARGUMENT, "model_fn: bad tower hyperparameters");
    user = tower(g, features, &ut, training);
    item = tower(g, features, &it, training);
    memset(&r, 0, sizeof r);
    r.axes[0] = 1;
    r.n_axes = 1;
    r.keepdims = 1;
    cos = est_reduce_sum(g, est_mul(g, user, item), &r); /* both unit vectors: the cosine, [B, 1] */
    logits = est_set_name(est_div(g, cos, est_scalar(g, (float)est_params_get_float(params, "temperature", 0.1))), "logits");
    memset(&adam, 0, sizeof adam);
    adam.kind = EST_OPTIMIZER_ADAM;
    adam.learning_rate = (float)est_params_get_float(params, "learning_rate", 0.001);
    memset(&a, 0, sizeof a);
    a.features = features;
    a.mode = mode;
    a.logits = logits;
    a.labels = labels;
    a.optimizer = &adam; /* est_minimize also runs batch norm's UPDATE_OPS with every step */
    return est_head_create_estimator_spec(&m->head.head, g, &a, spec);
}

/* ---- input ------------------------------------------------------------------------------------ */

typedef struct input_ctx {
    const char *pattern;
    int64_t batch_size, reader_num_threads, parser_num_threads;
    int train;
    const est_parse_spec *spec;
} input_ctx;

/* make_batched_features_dataset over the TFRecord files: training shuffles and repeats forever
 * (train_and_evaluate stops at max_steps), evaluation and prediction read every record once in
 * order. */
static est_status input_fn(est_mode mode, const est_params *params, void *user, est_dataset **out)
{
    const input_ctx *c = (const input_ctx *)user;
    est_batched_features_args a;
    (void)params;
    memset(&a, 0, sizeof a);
    a.file_patterns = &c->pattern;
    a.n_file_patterns = 1;
    a.batch_size = c->batch_size;
    a.features = c->spec->features;
    a.n_features = c->spec->n;
    a.label_key = mode == EST_MODE_PREDICT ? NULL : "label";
    a.num_epochs = c->train ? -1 : 1;
    a.shuffle = c->train ? 1 : -1;
    a.shuffle_buffer_size = 10000;
    a.shuffle_seed = 2004;
    a.reader_num_threads = (int)c->reader_num_threads;
    a.parser_num_threads = (int)c->parser_num_threads;
    return est_make_batched_features_dataset(&a, out);
}

/* The serving receiver: one serialized tf.Example per row, parsed into the raw features (dense;
 * the categorical columns take dense string tensors). */
static est_status make_receiver(est_receiver **out)
{
    est_parsing_feature f[7];
    int i;
    memset(f, 0, sizeof f);
    f[0].key = "user_id";
    f[1].key = "age";
    f[2].key = "gender";
    f[3].key = "history";
    f[4].key = "item_id";
    f[5].key = "category";
    f[6].key = "price";
    for (i = 0; i < 7; i++) {
        f[i].dtype = (i == 0 || i == 2 || i == 4 || i == 5) ? EST_DTYPE_STRING : EST_DTYPE_F32;
        f[i].shape = i == 3 ? est_shape1(N_CAT) : est_shape_scalar();
    }
    return est_build_parsing_serving_input_receiver_fn(f, 7, 0, out);
}

/* BestExporter's compare_fn: the bigger AUC is better. */
static est_status auc_bigger(void *user, const est_eval_result *best, const est_eval_result *current, int *better)
{
    double b = est_eval_result_get(best, "auc"), c = est_eval_result_get(current, "auc");
    (void)user;
    if (isnan(b) || isnan(c)) return app_error(EST_ERR_INVALID_ARGUMENT, "compare_fn: an evaluation result has no 'auc'");
    *better = c > b;
    return EST_OK;
}

/* ---- exports ------------------------------------------------------------------------------------ */

/* The number of export versions (10-digit directories) in dir and the newest one (path into
 * newest, "" when none). */
static int list_exports(const char *dir, char *newest, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long long best = -1;
    int n = 0;
    if (newest) newest[0] = 0;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        int i, ok = 1;
        for (i = 0; e->d_name[i]; i++)
            if (e->d_name[i] < '0' || e->d_name[i] > '9') ok = 0;
        if (!ok || i != 10) continue;
        n++;
        if (atoll(e->d_name) > best) best = atoll(e->d_name);
    }
    closedir(d);
    if (best >= 0 && newest) snprintf(newest, cap, "%s/%010lld", dir, best);
    return n;
}

/* The node behind a signature output ("head/predictions/logistic:0" -> that node). */
static est_node *signature_node(est_saved_model *m, const est_signature_info *sig, const char *key)
{
    int i;
    for (i = 0; i < sig->n_outputs; i++)
        if (strcmp(sig->outputs[i].key, key) == 0) {
            char name[512];
            size_t n = strcspn(sig->outputs[i].name, ":");
            if (n >= sizeof name) return NULL;
            memcpy(name, sig->outputs[i].name, n);
            name[n] = 0;
            return est_graph_find(est_saved_model_graph(m), name);
        }
    return NULL;
}

typedef struct records {
    int n;
    void *data[N_SHOW];
    est_string s[N_SHOW];
} records;

static void records_free(records *r)
{
    int i;
    for (i = 0; i < r->n; i++) free(r->data[i]);
    r->n = 0;
}

static est_status read_records(const char *path, records *r)
{
    est_tfrecord_reader *rd = NULL;
    est_status s;
    const void *data;
    size_t size;
    r->n = 0;
    if ((s = est_tfrecord_reader_open(path, NULL, &rd)) != EST_OK) return s;
    while (r->n < N_SHOW && (s = est_tfrecord_reader_next(rd, &data, &size)) == EST_OK) {
        if (!(r->data[r->n] = malloc(size ? size : 1))) {
            s = app_error(EST_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        memcpy(r->data[r->n], data, size);
        r->s[r->n].data = (const char *)r->data[r->n];
        r->s[r->n].size = size;
        r->n++;
    }
    est_tfrecord_reader_free(rd);
    if (s == EST_ERR_OUT_OF_RANGE) {
        est_clear_error();
        s = EST_OK;
    }
    return s;
}

/* Load the final export without the model_fn, run its "predict" signature on the first records of
 * `path` and compare with the Estimator's probabilities for them (expected, n values); then write
 * the towers + head from the DenseFeatures outputs on as ONNX, with inputs and expected outputs. */
static est_status check_export(const char *export_dir, const char *path, const float *expected, int n_expected,
                               const char *onnx_dir)
{
    est_saved_model *m = NULL;
    est_plan *plan = NULL;
    records rec;
    est_tensor in;
    est_named_tensor named;
    const est_named_tensor *outs;
    const est_signature_info *sig;
    est_status s;
    int n_out, i, k;
    double max_diff = 0;
    memset(&rec, 0, sizeof rec);
    if ((s = est_saved_model_load(export_dir, &m)) != EST_OK) return s;
    printf("loaded %s (global_step %lld), signatures:", export_dir, (long long)est_saved_model_global_step(m));
    for (i = 0; i < est_saved_model_num_signatures(m); i++) printf(" %s", est_saved_model_signature(m, i)->key);
    printf("\n");
    if ((s = read_records(path, &rec)) != EST_OK) goto done;
    if (rec.n != n_expected) {
        s = app_error(EST_ERR_INTERNAL, "serving check: %d records in %s, %d predictions", rec.n, path, n_expected);
        goto done;
    }
    memset(&in, 0, sizeof in);
    in.dtype = EST_DTYPE_STRING;
    in.shape = est_shape1(rec.n);
    in.data = rec.s;
    in.nbytes = sizeof(est_string) * (size_t)rec.n;
    named.name = "examples";
    named.tensor = in;
    if ((s = est_saved_model_run(m, "predict", &named, 1, &outs, &n_out)) != EST_OK) goto done;
    for (k = 0; k < n_out && strcmp(outs[k].name, "logistic") != 0; k++) {}
    if (k == n_out) {
        s = app_error(EST_ERR_NOT_FOUND, "serving check: the predict signature has no 'logistic' output");
        goto done;
    }
    for (i = 0; i < rec.n; i++) {
        double d = fabs(est_tensor_get(&outs[k].tensor, i) - expected[i]);
        if (d > max_diff) max_diff = d;
    }
    printf("serving check: the export's predict signature agrees with Estimator.predict on %d records (max |diff| %.2g)\n",
           rec.n, max_diff);
    if (!(max_diff <= 1e-5)) {
        s = app_error(EST_ERR_INTERNAL, "serving check: the export and Estimator.predict differ by %g", max_diff);
        goto done;
    }
    { /* ONNX: cut at the DenseFeatures outputs (hashing and lookups have no ONNX form) */
        est_graph *g = est_saved_model_graph(m);
        est_node *user_in = est_graph_find(g, "user_tower/input"), *item_in = est_graph_find(g, "item_tower/input");
        est_node *prob, *cos, *fetch[3], *ph;
        est_onnx_tensor oi[2], oo[2];
        est_onnx_signature os;
        est_feed feed;
        est_plan_desc pd;
        est_tensor vals[3];
        char file[2048];
        sig = est_saved_model_find_signature(m, "predict");
        prob = sig ? signature_node(m, sig, "logistic") : NULL;
        cos = sig ? signature_node(m, sig, "cosine") : NULL;
        ph = est_graph_find(g, "input_example_tensor");
        if (!user_in || !item_in || !prob || !cos || !ph) {
            s = app_error(EST_ERR_NOT_FOUND, "onnx: the export lacks user_tower/input, item_tower/input, the "
                              "placeholder or the predict outputs logistic and cosine");
            goto done;
        }
        if ((s = est_mkdirs(onnx_dir)) != EST_OK) goto done;
        memset(&os, 0, sizeof os);
        oi[0].name = "user_features";
        oi[0].node = user_in;
        oi[1].name = "item_features";
        oi[1].node = item_in;
        oo[0].name = "logistic";
        oo[0].node = prob;
        oo[1].name = "cosine";
        oo[1].node = cos;
        os.inputs = oi;
        os.n_inputs = 2;
        os.outputs = oo;
        os.n_outputs = 2;
        os.graph_name = "two_tower";
        snprintf(file, sizeof file, "%s/towers.onnx", onnx_dir);
        if ((s = est_onnx_write(g, est_saved_model_store(m), &os, file)) != EST_OK) goto done;
        /* the ONNX inputs for these records and the outputs it must give, from the loaded graph */
        fetch[0] = user_in;
        fetch[1] = item_in;
        fetch[2] = prob;
        memset(&pd, 0, sizeof pd);
        pd.fetches = fetch;
        pd.n_fetches = 3;
        feed.node = ph;
        feed.value = &in;
        if ((s = est_plan_new(g, &pd, &plan)) != EST_OK || (s = est_plan_run(plan, &feed, 1, vals)) != EST_OK) goto done;
        snprintf(file, sizeof file, "%s/user_features.npy", onnx_dir);
        if ((s = est_npy_save(file, &vals[0])) != EST_OK) goto done;
        snprintf(file, sizeof file, "%s/item_features.npy", onnx_dir);
        if ((s = est_npy_save(file, &vals[1])) != EST_OK) goto done;
        snprintf(file, sizeof file, "%s/expected_logistic.npy", onnx_dir);
        if ((s = est_npy_save(file, &vals[2])) != EST_OK) goto done;
        printf("onnx: wrote %s/towers.onnx (inputs user_features [batch, %lld], item_features [batch, %lld]; outputs "
               "logistic, cosine) with the inputs and expected logistic of these %d records as .npy\n",
               onnx_dir, (long long)vals[0].shape.dims[1], (long long)vals[1].shape.dims[1], rec.n);
    }
done:
    est_plan_free(plan);
    records_free(&rec);
    est_saved_model_free(m);
    return s;
}

/* ---- main ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    opts o;
    model_ctx *m = NULL;
    est_params *params = NULL;
    est_parse_spec *train_spec = NULL, *predict_spec = NULL;
    est_receiver *receiver = NULL;
    est_exporter *exporters[3] = {NULL, NULL, NULL};
    est_exporter_desc xd;
    est_estimator *est = NULL;
    est_estimator_desc desc;
    est_run_config cfg;
    est_train_spec ts;
    est_eval_spec es;
    est_eval_result last;
    est_predict_args pa;
    est_predictor *pred = NULL;
    est_prediction p;
    input_ctx train_in, eval_in, predict_in, check_in;
    char model_dir[1024], pat[3][1100], dir[1200], newest[1300], final_dir[1300], onnx_dir[1100];
    char **paths = NULL;
    int64_t units[MAX_LAYERS];
    float dropout[MAX_LAYERS], probs[N_SHOW];
    double bayes_auc = NAN;
    const char *xnames[3] = {"best", "final", "latest"};
    int n_units, n_item_units, i, k, n_versions[3], n_paths = 0, n_probs = 0, n_exports = 0;
    est_status s = EST_OK;

    setvbuf(stdout, NULL, _IOLBF, 0); /* our lines and the library's log (stderr) in order */
    memset(&o, 0, sizeof o);
    o.model_name = "two_tower";
    o.user_hidden_units = "512,256,128";
    o.item_hidden_units = "512,256,128";
    o.user_dropout = "0.1";
    o.item_dropout = "0.1";
    o.user_batch_norm = 1;
    o.item_batch_norm = 1;
    o.temperature = 0.1;
    o.learning_rate = 0.001;
    o.id_embedding_dim = 16;
    o.user_hash_buckets = 10000;
    o.item_hash_buckets = 5000;
    o.train_batch_size = 256;
    o.eval_batch_size = 1024;
    o.predict_batch_size = 100;
    o.reader_num_threads = 2;
    o.parser_num_threads = 2;
    o.max_steps = 3000;
    o.save_checkpoints_steps = 500;
    o.start_delay_secs = 120;
    o.throttle_secs = 0;
    o.tf_random_seed = 42;
    o.n_users = 2000;
    o.n_items = 1000;
    o.n_train = 200000;
    o.n_eval = 20000;
    o.n_predict = 1000;
    o.train_shards = 4;
    o.eval_shards = 2;
    o.data_seed = 4;
    if (!parse_flags(&o, argc, argv)) return 2;
    if (o.help) {
        usage(&o);
        return 0;
    }
    /* validate what the flags describe before touching any file */
    if ((n_units = parse_int_list("user_hidden_units", o.user_hidden_units, units, MAX_LAYERS)) == 0) return 2;
    if (!parse_dropout("user_dropout", o.user_dropout, n_units > 1 ? n_units - 1 : 1, dropout)) return 2;
    {
        int64_t item_units[MAX_LAYERS];
        if ((n_item_units = parse_int_list("item_hidden_units", o.item_hidden_units, item_units, MAX_LAYERS)) == 0) return 2;
        if (!parse_dropout("item_dropout", o.item_dropout, n_item_units > 1 ? n_item_units - 1 : 1, dropout)) return 2;
        if (item_units[n_item_units - 1] != units[n_units - 1]) {
            fprintf(stderr, "error: the towers' output sizes differ (%lld and %lld): the last entries of "
                            "--user_hidden_units and --item_hidden_units must agree for the dot product\n",
                    (long long)units[n_units - 1], (long long)item_units[n_item_units - 1]);
            return 2;
        }
        if (est_params_new(&params) != EST_OK || est_params_set_int_list(params, "user_hidden_units", units, n_units) != EST_OK ||
            est_params_set_int_list(params, "item_hidden_units", item_units, n_item_units) != EST_OK)
            goto fail;
    }
    if (o.temperature <= 0 || o.learning_rate <= 0 || o.train_batch_size < 1 || o.eval_batch_size < 1 ||
        o.predict_batch_size < 1 || o.max_steps < 1 || o.save_checkpoints_steps < 1 || o.id_embedding_dim < 1 ||
        o.user_hash_buckets < 1 || o.item_hash_buckets < 1 || o.reader_num_threads < 1 || o.parser_num_threads < 1 ||
        o.num_threads < 0 || o.throttle_secs < 0 || o.start_delay_secs < 0) {
        fprintf(stderr, "error: --temperature, --learning_rate, batch sizes, --max_steps, --save_checkpoints_steps, "
                        "--id_embedding_dim, hash buckets and reader/parser threads must be positive; --num_threads, "
                        "--throttle_secs and --start_delay_secs not negative\n");
        est_params_free(params);
        return 2;
    }
    if (o.make_data) {
        if ((s = make_data(&o, &bayes_auc)) != EST_OK) goto fail;
        snprintf(pat[0], sizeof pat[0], "%s/train-*.tfrecord", o.make_data);
        snprintf(pat[1], sizeof pat[1], "%s/eval-*.tfrecord", o.make_data);
        snprintf(pat[2], sizeof pat[2], "%s/predict-*.tfrecord", o.make_data);
        if (!o.train_files) o.train_files = pat[0];
        if (!o.eval_files) o.eval_files = pat[1];
        if (!o.predict_files) o.predict_files = pat[2];
    }
    if (!o.train_files || !o.eval_files || !o.predict_files) {
        fprintf(stderr, "error: give --train_files, --eval_files and --predict_files, or --make_data DIR\n");
        est_params_free(params);
        return 2;
    }
    if (!o.model_dir) {
        snprintf(model_dir, sizeof model_dir, "%s/%s", o.make_data ? o.make_data : "build", o.model_name);
        o.model_dir = model_dir;
    }

    /* the objects model_fn uses; they outlive the estimator */
    if (!(m = (model_ctx *)calloc(1, sizeof *m))) goto fail;
    if ((s = columns_make(&o, &m->cols)) != EST_OK || (s = two_tower_head_init(&m->head, (float)o.temperature)) != EST_OK) goto fail;
    /* tf.estimator.classifier_parse_example_spec(columns, "label", int64) for training and
     * evaluation; make_parse_example_spec(columns) for prediction */
    if ((s = est_classifier_parse_example_spec(m->cols.all, N_USER_COLS + N_ITEM_COLS, "label", EST_DTYPE_I64, NULL, NULL,
                                               &train_spec)) != EST_OK ||
        (s = est_make_parse_example_spec(m->cols.all, N_USER_COLS + N_ITEM_COLS, &predict_spec)) != EST_OK)
        goto fail;
    if ((s = est_params_set_string(params, "user_dropout", o.user_dropout)) != EST_OK ||
        (s = est_params_set_string(params, "item_dropout", o.item_dropout)) != EST_OK ||
        (s = est_params_set_bool(params, "user_batch_norm", o.user_batch_norm)) != EST_OK ||
        (s = est_params_set_bool(params, "item_batch_norm", o.item_batch_norm)) != EST_OK ||
        (s = est_params_set_float(params, "temperature", o.temperature)) != EST_OK ||
        (s = est_params_set_float(params, "learning_rate", o.learning_rate)) != EST_OK ||
        (s = est_params_set_int(params, "model_ctx", (int64_t)(intptr_t)m)) != EST_OK)
        goto fail;

    memset(&cfg, 0, sizeof cfg);
    cfg.model_dir = o.model_dir;
    cfg.tf_random_seed = (uint64_t)o.tf_random_seed;
    cfg.save_checkpoints_steps = o.save_checkpoints_steps;
    cfg.keep_checkpoint_max = 5;
    cfg.save_summary_steps = o.save_checkpoints_steps < 100 ? o.save_checkpoints_steps : 100;
    cfg.session_config.intra_op_parallelism_threads = (int)o.num_threads;
    memset(&desc, 0, sizeof desc);
    desc.model_fn = model_fn;
    desc.config = &cfg;
    desc.params = params;
    if ((s = est_estimator_new(&desc, &est)) != EST_OK) goto fail;
    printf("model %s in %s: user tower %s (dropout %s, batch norm %s), item tower %s (dropout %s, batch norm %s), "
           "temperature %g, Adam %g\n",
           o.model_name, est_estimator_model_dir(est), o.user_hidden_units, o.user_dropout, o.user_batch_norm ? "on" : "off",
           o.item_hidden_units, o.item_dropout, o.item_batch_norm ? "on" : "off", o.temperature, o.learning_rate);

    /* exporters: best (bigger AUC), final, latest (keep 3), all serving serialized tf.Examples */
    if ((s = make_receiver(&receiver)) != EST_OK) goto fail;
    memset(&xd, 0, sizeof xd);
    xd.receiver = receiver;
    xd.name = "best";
    xd.compare_fn = auc_bigger;
    if ((s = est_best_exporter_new(&xd, &exporters[0])) != EST_OK) goto fail;
    memset(&xd, 0, sizeof xd);
    xd.receiver = receiver;
    xd.name = "final";
    if ((s = est_final_exporter_new(&xd, &exporters[1])) != EST_OK) goto fail;
    xd.name = "latest";
    xd.exports_to_keep = 3;
    if ((s = est_latest_exporter_new(&xd, &exporters[2])) != EST_OK) goto fail;
    est_receiver_free(receiver); /* the exporters hold references */
    receiver = NULL;

    memset(&train_in, 0, sizeof train_in);
    train_in.pattern = o.train_files;
    train_in.batch_size = o.train_batch_size;
    train_in.reader_num_threads = o.reader_num_threads;
    train_in.parser_num_threads = o.parser_num_threads;
    train_in.train = 1;
    train_in.spec = train_spec;
    eval_in = train_in;
    eval_in.pattern = o.eval_files;
    eval_in.batch_size = o.eval_batch_size;
    eval_in.train = 0;
    predict_in = eval_in;
    predict_in.pattern = o.predict_files;
    predict_in.batch_size = o.predict_batch_size;
    predict_in.spec = predict_spec;

    memset(&ts, 0, sizeof ts);
    ts.input_fn = input_fn;
    ts.input_user_data = &train_in;
    ts.max_steps = o.max_steps;
    memset(&es, 0, sizeof es);
    es.input_fn = input_fn;
    es.input_user_data = &eval_in;
    es.steps = -1; /* the whole eval set */
    es.exporters = exporters;
    es.n_exporters = 3;
    es.start_delay_secs = o.start_delay_secs;
    es.throttle_secs = o.throttle_secs > 0 ? o.throttle_secs : -1; /* TF's 0 is -1 here */
    memset(&last, 0, sizeof last);
    if ((s = est_train_and_evaluate(est, &ts, &es, &last)) != EST_OK) goto fail;
    if (last.n == 0) {
        /* nothing was evaluated by this run (the model_dir was already at max_steps): evaluate now */
        est_eval_args ea;
        memset(&ea, 0, sizeof ea);
        ea.input_fn = input_fn;
        ea.input_user_data = &eval_in;
        if ((s = est_estimator_evaluate(est, &ea, &last)) != EST_OK) goto fail;
    }
    printf("eval: auc=%.4f auc_precision_recall=%.4f accuracy=%.4f (baseline %.4f) loss=%.4f "
           "cosine/positive_mean=%.3f cosine/negative_mean=%.3f global_step=%lld\n",
           est_eval_result_get(&last, "auc"), est_eval_result_get(&last, "auc_precision_recall"),
           est_eval_result_get(&last, "accuracy"), est_eval_result_get(&last, "accuracy_baseline"), last.loss,
           est_eval_result_get(&last, "cosine/positive_mean"), est_eval_result_get(&last, "cosine/negative_mean"),
           (long long)last.global_step);
    if (!isnan(bayes_auc)) printf("eval: the true click probabilities reach auc=%.4f on the same data\n", bayes_auc);

    /* the exports */
    final_dir[0] = 0;
    for (i = 0; i < 3; i++) {
        snprintf(dir, sizeof dir, "%s/export/%s", est_estimator_model_dir(est), xnames[i]);
        n_versions[i] = list_exports(dir, newest, sizeof newest);
        n_exports += n_versions[i];
        printf("exports: %-6s %d version%s%s%s\n", xnames[i], n_versions[i], n_versions[i] == 1 ? "" : "s",
               n_versions[i] ? ", newest " : "", newest);
        if (i == 1) snprintf(final_dir, sizeof final_dir, "%s", newest);
    }
    /* what the exporters promise: a best and a final export, at most 3 latest ones */
    if (n_versions[0] < 1 || n_versions[1] < 1 || n_versions[2] < 1 || n_versions[2] > 3) {
        s = app_error(EST_ERR_INTERNAL, "exports: expected at least one best and one final export and 1..3 latest ones");
        goto fail;
    }

    /* predict: the first 100 predictions */
    memset(&pa, 0, sizeof pa);
    pa.input_fn = input_fn;
    pa.input_user_data = &predict_in;
    if ((s = est_estimator_predict(est, &pa, &pred)) != EST_OK) goto fail;
    printf("predictions (index, probability of a click, class):\n");
    for (i = 0; i < N_SHOW && (s = est_predictor_next(pred, &p)) == EST_OK; i++) {
        double prob = NAN;
        long long cls = -1;
        for (k = 0; k < p.n; k++) {
            if (strcmp(p.keys[k], "logistic") == 0) prob = est_tensor_get(&p.values[k], 0);
            if (strcmp(p.keys[k], "class_ids") == 0) cls = (long long)est_tensor_get(&p.values[k], 0);
        }
        printf("%4d %.4f %lld\n", i, prob, cls);
    }
    if (s != EST_OK && s != EST_ERR_OUT_OF_RANGE) goto fail;
    est_clear_error();
    est_predictor_free(pred);
    pred = NULL;

    /* the final export, loaded without the model_fn, against Estimator.predict on the first records
     * of the first predict file (one file read in order, so both see the same records) */
    if ((s = est_glob(&o.predict_files, 1, &paths, &n_paths)) != EST_OK) goto fail;
    check_in = predict_in;
    check_in.pattern = paths[0];
    check_in.reader_num_threads = 1;
    memset(&pa, 0, sizeof pa);
    pa.input_fn = input_fn;
    pa.input_user_data = &check_in;
    if ((s = est_estimator_predict(est, &pa, &pred)) != EST_OK) goto fail;
    for (n_probs = 0; n_probs < N_SHOW && (s = est_predictor_next(pred, &p)) == EST_OK; n_probs++)
        for (k = 0; k < p.n; k++)
            if (strcmp(p.keys[k], "logistic") == 0) probs[n_probs] = (float)est_tensor_get(&p.values[k], 0);
    if (s != EST_OK && s != EST_ERR_OUT_OF_RANGE) goto fail;
    est_clear_error();
    est_predictor_free(pred);
    pred = NULL;
    snprintf(onnx_dir, sizeof onnx_dir, "%s/onnx", est_estimator_model_dir(est));
    if ((s = check_export(final_dir, paths[0], probs, n_probs, onnx_dir)) != EST_OK) goto fail;

    printf("done: eval auc=%.4f loss=%.4f global_step=%lld exports=%d\n", est_eval_result_get(&last, "auc"), last.loss,
           (long long)last.global_step, n_exports);
    est_free(paths);
    est_estimator_free(est);
    for (i = 0; i < 3; i++) est_exporter_free(exporters[i]);
    est_parse_spec_free(train_spec);
    est_parse_spec_free(predict_spec);
    est_head_free(m->head.binary);
    columns_free(&m->cols);
    free(m);
    est_params_free(params);
    return 0;
fail:
    if (est_last_error()[0]) fprintf(stderr, "error: %s\n", est_last_error());
    else if (s == EST_OK) fprintf(stderr, "error: out of memory\n");
    est_free(paths);
    est_predictor_free(pred);
    est_estimator_free(est);
    for (i = 0; i < 3; i++) est_exporter_free(exporters[i]);
    est_receiver_free(receiver);
    est_parse_spec_free(train_spec);
    est_parse_spec_free(predict_spec);
    if (m) {
        est_head_free(m->head.binary);
        columns_free(&m->cols);
        free(m);
    }
    est_params_free(params);
    return 1;
}
