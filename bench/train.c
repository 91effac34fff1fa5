/* Training, evaluation, batch-1 serving and memory benchmark of the seed CNN and an MLP: the
 * library's side of `make bench` (bench/run.sh runs it next to bench/torch_bench.py).
 *
 *   cc -std=c99 -O3 -march=native bench/train.c -o bench_train -lm -lpthread
 *   cc -std=c99 -O3 -march=native -DBENCH_OPENBLAS bench/train.c -o bench_train_openblas -lopenblas -lm -lpthread
 *   ./bench_train WORKLOAD [--steps N] [--warmup N] [--threads N] [--profile]
 *
 * One workload per process (so that the peak RSS of one does not leak into another, and run.sh can
 * interleave builds and PyTorch); the last stdout line is "RESULT <workload> <value> <unit>".
 * Models: the seed CNN (examples/mnist_cnn.c: conv5x5x32 relu - maxpool2 - conv5x5x64 relu -
 * maxpool2 - dense1024 relu - dropout 0.4 - dense10, sparse softmax cross-entropy) and the MLP
 * 784-512-256-10 (relu). Batch 100, inputs 28x28x1 float32 uniform in [0, 1) and labels uniform in
 * 0..9, 10 batches kept in memory and fed in turn (the speed does not depend on the values).
 * Workloads:
 *   cnn_train_sgd, cnn_train_adam, mlp_train_sgd  img/s of the training step the Estimator runs
 *       (graph + est_minimize + one compiled plan, fetch loss, target train_op), `--warmup` steps
 *       untimed then `--steps` timed; SGD lr 0.01, Adam lr 1e-4 (TF1 defaults otherwise)
 *   cnn_eval              img/s of the inference graph (dropout off) at batch 100, fetch logits
 *   cnn_estimator_train   img/s of est_estimator_train(steps=N) on numpy_input_fn with the default
 *       RunConfig (summaries every 100 steps, a checkpoint at the end, graph built and variables
 *       restored at the start of the call): the Estimator's own overhead over the bare step
 *   cnn_latency, mlp_latency  ms per call (median of --steps calls after --warmup) of
 *       est_saved_model_run at batch 1 on an export made by est_estimator_export_saved_model (raw
 *       receiver, after one training step) and loaded by est_saved_model_load, served with the
 *       build's kernels (est_saved_model_set_kernels)
 *   cnn_rss               MiB: ru_maxrss of this process after --steps CNN training steps (SGD)
 * Threads: one est_threadpool of --threads (default 2) threads, as intra_op_parallelism_threads;
 * the OpenBLAS build passes est_blas_kernels() wherever a plan takes kernels (estimator_blas.h
 * runs single-threaded OpenBLAS calls on the pool). */
#define ESTIMATOR_IMPLEMENTATION
#include "../estimator.h"
#ifdef BENCH_OPENBLAS
#define ESTIMATOR_BLAS_IMPLEMENTATION
#include "../estimator_blas.h"
#define BENCH_KERNELS est_blas_kernels()
#else
#define BENCH_KERNELS NULL
#endif
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define BATCH 100
#define NBATCH 10

enum { MODEL_CNN, MODEL_MLP };

static void die(const char *what)
{
    fprintf(stderr, "bench_train: %s: %s\n", what, est_last_error());
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- data: NBATCH batches of random images and labels ---- */

typedef struct data {
    est_tensor *x, *y;  /* [NBATCH * BATCH, 784] float32, [NBATCH * BATCH] int32 */
    est_tensor bx[NBATCH], by[NBATCH]; /* views of each batch */
} data;

static void make_data(data *d)
{
    uint64_t s = 12345;
    int64_t i, n = (int64_t)NBATCH * BATCH;
    int b;
    if (est_tensor_new(EST_DTYPE_F32, est_shape2(n, 784), &d->x) != EST_OK ||
        est_tensor_new(EST_DTYPE_I32, est_shape1(n), &d->y) != EST_OK)
        die("data");
    for (i = 0; i < n * 784; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        ((float *)d->x->data)[i] = (float)((s >> 40) & 0xFFFFFF) / 16777216.0f;
    }
    for (i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        ((int32_t *)d->y->data)[i] = (int32_t)((s >> 33) % 10);
    }
    for (b = 0; b < NBATCH; b++) {
        memset(&d->bx[b], 0, sizeof d->bx[b]);
        d->bx[b].dtype = EST_DTYPE_F32;
        d->bx[b].shape = est_shape2(BATCH, 784);
        d->bx[b].data = (float *)d->x->data + (int64_t)b * BATCH * 784;
        d->bx[b].nbytes = (size_t)BATCH * 784 * sizeof(float);
        memset(&d->by[b], 0, sizeof d->by[b]);
        d->by[b].dtype = EST_DTYPE_I32;
        d->by[b].shape = est_shape1(BATCH);
        d->by[b].data = (int32_t *)d->y->data + (int64_t)b * BATCH;
        d->by[b].nbytes = (size_t)BATCH * sizeof(int32_t);
    }
}

/* ---- the models ---- */

static est_node *build_logits(est_graph *g, est_node *x, int model, int training)
{
    est_dense_args dense;
    memset(&dense, 0, sizeof dense);
    dense.activation = EST_ACTIVATION_RELU;
    if (model == MODEL_CNN) {
        est_conv_layer_args conv;
        est_node *h;
        memset(&conv, 0, sizeof conv);
        conv.padding = EST_PADDING_SAME;
        conv.activation = EST_ACTIVATION_RELU;
        h = est_reshape(g, x, est_shape4(-1, 28, 28, 1));
        h = est_max_pooling2d(g, est_conv2d_layer(g, h, 32, 5, 5, &conv), 2, 2, NULL);
        h = est_max_pooling2d(g, est_conv2d_layer(g, h, 64, 5, 5, &conv), 2, 2, NULL);
        h = est_dense(g, est_reshape(g, h, est_shape2(-1, 7 * 7 * 64)), 1024, &dense);
        h = est_dropout_layer(g, h, 0.4f, training, 0);
        return est_dense(g, h, 10, NULL);
    }
    return est_dense(g, est_dense(g, est_dense(g, x, 512, &dense), 256, &dense), 10, NULL);
}

static void set_optimizer(est_optimizer_desc *opt, int adam)
{
    memset(opt, 0, sizeof *opt);
    opt->kind = adam ? EST_OPTIMIZER_ADAM : EST_OPTIMIZER_GRADIENT_DESCENT;
    opt->learning_rate = adam ? 1e-4f : 0.01f;
}

static est_threadpool *make_pool(int threads)
{
    est_threadpool_desc td;
    est_threadpool *pool = NULL;
    memset(&td, 0, sizeof td);
    td.num_threads = threads;
    if (est_threadpool_new(&td, &pool) != EST_OK) die("threadpool");
    return pool;
}

/* ---- the bare training step / inference step ---- */

/* --profile: per-node wall time summed over the timed steps (est_plan_set_profiling), printed
 * to stderr, biggest first; the timings include two clock reads per node. */
#define PROF_MAX 512
static int g_profile;
static const est_node *g_prof_node[PROF_MAX];
static double g_prof_us[PROF_MAX];
static int g_prof_n;

static void profile_add(const est_plan *p)
{
    const est_profile_entry *e;
    int n = est_plan_profile(p, &e), i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < g_prof_n && g_prof_node[j] != e[i].node; j++) {}
        if (j == g_prof_n) {
            if (g_prof_n == PROF_MAX) continue;
            g_prof_node[g_prof_n++] = e[i].node;
        }
        g_prof_us[j] += e[i].dur_us;
    }
}

static void profile_print(int steps)
{
    double total = 0;
    int i, j;
    for (i = 0; i < g_prof_n; i++) total += g_prof_us[i];
    for (i = 0; i < g_prof_n; i++) /* selection sort: a few hundred nodes, once */
        for (j = i + 1; j < g_prof_n; j++)
            if (g_prof_us[j] > g_prof_us[i]) {
                double t = g_prof_us[i];
                const est_node *nd = g_prof_node[i];
                g_prof_us[i] = g_prof_us[j], g_prof_node[i] = g_prof_node[j];
                g_prof_us[j] = t, g_prof_node[j] = nd;
            }
    fprintf(stderr, "profile: %.3f ms per step in nodes\n", total / steps / 1000.0);
    for (i = 0; i < g_prof_n && g_prof_us[i] >= 0.002 * total; i++)
        fprintf(stderr, "  %8.3f ms %5.1f%%  %s\n", g_prof_us[i] / steps / 1000.0, 100.0 * g_prof_us[i] / total,
                est_node_name(g_prof_node[i]));
}

/* Returns images/s over `steps` timed runs after `warmup` runs. */
static double bench_step(const data *d, int model, int train, int adam, int warmup, int steps, int threads)
{
    est_graph_desc gd;
    est_graph *g = NULL;
    est_threadpool *pool = make_pool(threads);
    est_node *x, *y, *logits, *loss = NULL, *train_op = NULL;
    est_plan_desc pd;
    est_plan *p = NULL;
    est_feed feeds[2];
    est_tensor out[1];
    double t0 = 0;
    int i;
    memset(&gd, 0, sizeof gd);
    gd.seed = 42;
    if (est_graph_new(&gd, &g) != EST_OK) die("graph");
    x = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 784));
    y = est_placeholder(g, "labels", EST_DTYPE_I32, est_shape1(-1));
    logits = build_logits(g, x, model, train);
    memset(&pd, 0, sizeof pd);
    if (train) {
        est_optimizer_desc opt;
        set_optimizer(&opt, adam);
        loss = est_losses_sparse_softmax_cross_entropy(g, y, logits, NULL);
        train_op = est_minimize(g, &opt, loss, NULL, 0, est_get_or_create_global_step(g));
        pd.fetches = &loss;
        pd.targets = &train_op;
        pd.n_targets = 1;
    } else
        pd.fetches = &logits;
    pd.n_fetches = 1;
    pd.pool = pool;
    pd.kernels = BENCH_KERNELS;
    if (est_graph_status(g) != EST_OK) {
        fprintf(stderr, "graph: %s\n", est_graph_error(g));
        exit(1);
    }
    if (est_plan_new(g, &pd, &p) != EST_OK) die("plan");
    feeds[0].node = x;
    feeds[1].node = y;
    if (g_profile && est_plan_set_profiling(p, 1) != EST_OK) die("profiling");
    for (i = -warmup; i < steps; i++) {
        if (i == 0) t0 = est_time_now();
        feeds[0].value = &d->bx[(i + warmup) % NBATCH];
        feeds[1].value = &d->by[(i + warmup) % NBATCH];
        if (est_plan_run(p, feeds, train ? 2 : 1, out) != EST_OK) die("run");
        if (g_profile && i >= 0) profile_add(p);
    }
    t0 = est_time_now() - t0;
    if (g_profile) profile_print(steps);
    if (train && !(((const float *)out[0].data)[0] == ((const float *)out[0].data)[0])) {
        fprintf(stderr, "bench_train: the loss is NaN\n");
        exit(1);
    }
    fprintf(stderr, "plan memory: %.1f MiB\n", (double)est_plan_memory_bytes(p) / 1048576.0);
    est_plan_free(p);
    est_graph_free(g);
    est_threadpool_free(pool);
    return (double)steps * BATCH / t0;
}

/* ---- through the Estimator: train() and export ---- */

static est_status model_fn(est_graph *g, const est_features *features, est_node *labels, est_mode mode,
                           const est_params *params, const est_run_config *config, est_spec *spec)
{
    int model = (int)est_params_get_float(params, "model", MODEL_CNN);
    est_node *logits, *loss;
    (void)config;
    logits = build_logits(g, est_features_get(features, "x"), model, mode == EST_MODE_TRAIN);
    est_spec_add_prediction(spec, "classes", est_argmax(g, logits, 1, EST_DTYPE_DEFAULT));
    est_spec_add_prediction(spec, "probabilities", est_softmax(g, logits, -1));
    if (mode == EST_MODE_PREDICT) return est_graph_status(g);
    loss = est_losses_sparse_softmax_cross_entropy(g, labels, logits, NULL);
    est_spec_set_loss(spec, loss);
    if (mode == EST_MODE_TRAIN) {
        est_optimizer_desc opt;
        set_optimizer(&opt, 0);
        est_spec_set_train_op(spec, est_minimize(g, &opt, loss, NULL, 0, est_get_or_create_global_step(g)));
    }
    return est_graph_status(g);
}

static est_status input_fn(est_mode mode, const est_params *params, void *user, est_dataset **out)
{
    const data *d = (const data *)user;
    est_numpy_input_args a;
    const char *names[1] = {"x"};
    (void)mode;
    (void)params;
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = names;
    a.x = d->x;
    a.y = d->y;
    a.batch_size = BATCH;
    a.num_epochs = -1;
    a.shuffle = 1;
    return est_numpy_input_fn(&a, out);
}

static est_estimator *make_estimator(const char *dir, int model, int threads, est_params **params)
{
    est_run_config cfg;
    est_estimator_desc desc;
    est_estimator *est = NULL;
    if (est_params_new(params) != EST_OK || est_params_set_float(*params, "model", model) != EST_OK) die("params");
    memset(&cfg, 0, sizeof cfg);
    cfg.model_dir = dir;
    cfg.tf_random_seed = 42;
    cfg.session_config.intra_op_parallelism_threads = threads;
    memset(&desc, 0, sizeof desc);
    desc.model_fn = model_fn;
    desc.config = &cfg;
    desc.params = *params;
    desc.kernels = BENCH_KERNELS;
    desc.progress_bar = -1;
    desc.logger.min_level = EST_LOG_LEVEL_WARN;
    if (est_estimator_new(&desc, &est) != EST_OK) die("estimator");
    return est;
}

static void train_steps(est_estimator *est, data *d, int64_t steps)
{
    est_train_args ta;
    memset(&ta, 0, sizeof ta);
    ta.input_fn = input_fn;
    ta.input_user_data = d;
    ta.steps = steps;
    if (est_estimator_train(est, &ta, NULL) != EST_OK) die("train");
}

static char *temp_dir(char *buf, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, size, "%s/bench_train_%ld_%.0f", base && *base ? base : "/tmp", (long)rand(), est_time_now() * 1e6);
    return buf;
}

static void remove_tree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static double bench_estimator_train(data *d, int warmup, int steps, int threads)
{
    char dir[1024];
    est_params *params = NULL;
    est_estimator *est = make_estimator(temp_dir(dir, sizeof dir), MODEL_CNN, threads, &params);
    double t0;
    train_steps(est, d, warmup > 0 ? warmup : 1);
    t0 = est_time_now();
    train_steps(est, d, steps);
    t0 = est_time_now() - t0;
    est_estimator_free(est);
    est_params_free(params);
    remove_tree(dir);
    return (double)steps * BATCH / t0;
}

/* ms per batch-1 call, median */
static double bench_latency(data *d, int model, int warmup, int steps, int threads)
{
    char dir[1024], exp_dir[1100], path[1200];
    est_params *params = NULL;
    est_estimator *est = make_estimator(temp_dir(dir, sizeof dir), model, threads, &params);
    est_raw_feature rf;
    est_receiver *recv = NULL;
    est_saved_model *m = NULL;
    est_threadpool *pool = make_pool(threads);
    est_named_tensor in;
    const est_named_tensor *outs = NULL;
    int n_outs = 0, i;
    double *t = (double *)malloc(sizeof(double) * (size_t)(steps > 0 ? steps : 1)), med;
    train_steps(est, d, 1);
    memset(&rf, 0, sizeof rf);
    rf.name = "x";
    rf.dtype = EST_DTYPE_F32;
    rf.shape = est_shape1(784);
    snprintf(exp_dir, sizeof exp_dir, "%s/export", dir);
    if (est_build_raw_serving_input_receiver_fn(&rf, 1, 0, &recv) != EST_OK ||
        est_estimator_export_saved_model(est, exp_dir, recv, NULL, NULL, path, sizeof path) != EST_OK)
        die("export");
    est_receiver_free(recv);
    est_estimator_free(est);
    est_params_free(params);
    if (est_saved_model_load(path, &m) != EST_OK) die("load");
    est_saved_model_set_threadpool(m, pool);
    est_saved_model_set_kernels(m, BENCH_KERNELS);
    memset(&in, 0, sizeof in);
    in.name = "x";
    in.tensor = d->bx[0];
    in.tensor.shape = est_shape2(1, 784);
    in.tensor.nbytes = 784 * sizeof(float);
    for (i = -warmup; i < steps; i++) {
        double t0 = est_time_now();
        in.tensor.data = (float *)d->x->data + (int64_t)((i + warmup) % (NBATCH * BATCH)) * 784;
        if (est_saved_model_run(m, "serving_default", &in, 1, &outs, &n_outs) != EST_OK) die("serve");
        if (i >= 0) t[i] = est_time_now() - t0;
    }
    qsort(t, (size_t)steps, sizeof(double), cmp_double);
    med = t[steps / 2] * 1e3;
    est_saved_model_free(m);
    est_threadpool_free(pool);
    free(t);
    remove_tree(dir);
    return med;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

int main(int argc, char **argv)
{
    const char *w = argc > 1 ? argv[1] : "";
    int warmup = -1, steps = -1, threads = 2, i;
    double v = 0;
    const char *unit = "img/s";
    data d;
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--profile") == 0) g_profile = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0) steps = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--warmup") == 0) warmup = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    memset(&d, 0, sizeof d);
    make_data(&d);
    srand((unsigned)(est_time_now() * 1000.0));
    if (strcmp(w, "cnn_train_sgd") == 0 || strcmp(w, "cnn_train_adam") == 0)
        v = bench_step(&d, MODEL_CNN, 1, w[10] == 'a', warmup < 0 ? 5 : warmup, steps < 0 ? 40 : steps, threads);
    else if (strcmp(w, "mlp_train_sgd") == 0)
        v = bench_step(&d, MODEL_MLP, 1, 0, warmup < 0 ? 20 : warmup, steps < 0 ? 300 : steps, threads);
    else if (strcmp(w, "cnn_eval") == 0)
        v = bench_step(&d, MODEL_CNN, 0, 0, warmup < 0 ? 3 : warmup, steps < 0 ? 40 : steps, threads);
    else if (strcmp(w, "cnn_estimator_train") == 0)
        v = bench_estimator_train(&d, warmup < 0 ? 5 : warmup, steps < 0 ? 100 : steps, threads);
    else if (strcmp(w, "cnn_latency") == 0 || strcmp(w, "mlp_latency") == 0) {
        v = bench_latency(&d, w[0] == 'c' ? MODEL_CNN : MODEL_MLP, warmup < 0 ? 50 : warmup,
                          steps < 0 ? (w[0] == 'c' ? 500 : 3000) : steps, threads);
        unit = "ms";
    } else if (strcmp(w, "cnn_rss") == 0) {
        bench_step(&d, MODEL_CNN, 1, 0, 0, steps < 0 ? 30 : steps, threads);
        v = peak_rss_mib();
        unit = "MiB";
    } else {
        fprintf(stderr, "usage: bench_train cnn_train_sgd|cnn_train_adam|mlp_train_sgd|cnn_eval|cnn_estimator_train|"
                        "cnn_latency|mlp_latency|cnn_rss [--steps N] [--warmup N] [--threads N] [--profile]\n");
        return 2;
    }
    printf("RESULT %s %.4g %s\n", w, v, unit);
    est_tensor_free(d.x);
    est_tensor_free(d.y);
    return 0;
}
