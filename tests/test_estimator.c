/* Tests of the Estimator: TF's train/evaluate/predict semantics and the traps of
 * shared/reference/tf_estimator_api.md section 23, checkpoints, hooks, RunConfig, TF_CONFIG. */
#include "gradcheck.h"
#include <sys/wait.h>
#include <signal.h>

/* ---- a tiny linear model: y = x . w + b, MSE, gradient descent ---- */

typedef struct lin_data {
    est_tensor *x, *y;
    int64_t batch;
    int64_t epochs; /* -1 forever */
    int nan_at;     /* model_fn makes the loss NaN when > 0 (a feature flag) */
} lin_data;

static est_status lin_model_fn(est_graph *g, const est_features *f, est_node *labels, est_mode mode,
                               const est_params *params, const est_run_config *cfg, est_spec *spec)
{
    est_dense_args d;
    est_node *x = est_features_get(f, "x"), *pred, *loss;
    (void)cfg;
    memset(&d, 0, sizeof d);
    pred = est_dense(g, x, 1, &d);
    est_spec_add_prediction(spec, "predictions", pred);
    est_spec_add_prediction(spec, "doubled", est_mul(g, pred, est_scalar(g, 2.0f)));
    if (est_params_get_bool(params, "bad_batch", 0))
        est_spec_add_prediction(spec, "first_row", est_slice(g, pred, (const int64_t[]){0, 0}, (const int64_t[]){1, 1}));
    if (mode == EST_MODE_PREDICT) return est_graph_status(g);
    loss = est_losses_mean_squared_error(g, labels, pred, NULL);
    if (est_params_get_bool(params, "nan", 0)) loss = est_mul(g, loss, est_sqrt(g, est_scalar(g, -1.0f)));
    est_spec_set_loss(spec, loss);
    if (mode == EST_MODE_TRAIN) {
        est_optimizer_desc o;
        memset(&o, 0, sizeof o);
        o.learning_rate = (float)est_params_get_float(params, "lr", 0.1);
        if (o.learning_rate == 0) o.learning_rate_node = est_scalar(g, 0.0f); /* 0 in the desc means the default */
        est_spec_set_train_op(spec, est_minimize(g, &o, loss, NULL, 0, est_get_or_create_global_step(g)));
    } else {
        est_spec_add_metric(spec, "mae", est_metrics_mean_absolute_error(g, labels, pred, NULL));
    }
    return est_graph_status(g);
}

static est_status lin_input_fn(est_mode mode, const est_params *p, void *user, est_dataset **out)
{
    lin_data *d = (lin_data *)user;
    est_numpy_input_args a;
    const char *names[1] = {"x"};
    (void)mode;
    (void)p;
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = names;
    a.x = d->x;
    a.y = d->y;
    a.batch_size = d->batch;
    a.num_epochs = d->epochs;
    a.shuffle = -1;
    return est_numpy_input_fn(&a, out);
}

static void lin_make(lin_data *d, int64_t n)
{
    int64_t i;
    memset(d, 0, sizeof *d);
    est_tensor_new(EST_DTYPE_F32, est_shape2(n, 3), &d->x);
    est_tensor_new(EST_DTYPE_F32, est_shape2(n, 1), &d->y);
    test_fill_uniform((float *)d->x->data, n * 3, 5);
    for (i = 0; i < n; i++) {
        const float *x = (const float *)d->x->data + 3 * i;
        ((float *)d->y->data)[i] = x[0] + 2 * x[1] + 3 * x[2] + 0.5f;
    }
    d->batch = 8;
    d->epochs = -1;
}
static void lin_free(lin_data *d)
{
    est_tensor_free(d->x);
    est_tensor_free(d->y);
}

static est_estimator *lin_estimator(const char *dir, const est_run_config *cfg, const est_params *params)
{
    est_estimator_desc desc;
    est_run_config c;
    est_estimator *e = NULL;
    est_logger quiet;
    memset(&c, 0, sizeof c);
    if (cfg) c = *cfg;
    c.model_dir = dir;
    if (!c.tf_random_seed) c.tf_random_seed = 7;
    memset(&desc, 0, sizeof desc);
    memset(&quiet, 0, sizeof quiet);
    quiet.min_level = EST_LOG_LEVEL_ERROR;
    desc.model_fn = lin_model_fn;
    desc.config = &c;
    desc.params = params;
    desc.logger = quiet;
    if (est_estimator_new(&desc, &e) != EST_OK) printf("estimator: %s\n", est_last_error());
    return e;
}

static int64_t ckpt_step(const char *dir)
{
    char buf[1024];
    const char *d;
    if (est_latest_checkpoint(dir, buf, sizeof buf) != EST_OK) return -1;
    d = strrchr(buf, '-');
    return d ? atoll(d + 1) : -1;
}

static int count_files(const char *dir, const char *prefix)
{
    char cmd[1200], buf[64];
    FILE *p;
    int n = -1;
    snprintf(cmd, sizeof cmd, "ls %s 2>/dev/null | grep -c '^%s'", dir, prefix);
    p = popen(cmd, "r");
    if (p && fgets(buf, sizeof buf, p)) n = atoi(buf);
    if (p) pclose(p);
    return n;
}

/* Trap 1: steps is incremental, max_steps absolute, and a reached max_steps skips training. */
TEST(estimator_steps_vs_max_steps)
{
    lin_data d;
    est_estimator *e;
    est_train_args ta;
    est_train_result r;
    const char *dir = test_tmpdir();
    lin_make(&d, 64);
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 10;
    CHECK_OK(est_estimator_train(e, &ta, &r));
    CHECK(r.global_step == 10 && r.steps_run == 10);
    CHECK_OK(est_estimator_train(e, &ta, &r));
    CHECK(r.global_step == 20 && r.steps_run == 10);
    ta.steps = 0;
    ta.max_steps = 15;
    CHECK_OK(est_estimator_train(e, &ta, &r));
    CHECK(r.skipped == 1 && r.steps_run == 0);
    ta.max_steps = 25;
    CHECK_OK(est_estimator_train(e, &ta, &r));
    CHECK(r.global_step == 25 && r.steps_run == 5);
    CHECK(ckpt_step(dir) == 25);
    ta.steps = 5;
    CHECK_STATUS(est_estimator_train(e, &ta, &r), EST_ERR_INVALID_ARGUMENT);
    ta.max_steps = 0;
    ta.steps = -3;
    CHECK_STATUS(est_estimator_train(e, &ta, &r), EST_ERR_INVALID_ARGUMENT);
    est_estimator_free(e);
    lin_free(&d);
}

/* Traps 2 and 3: default checkpointing is every 600 s, so a short run writes only the checkpoint
 * at session start (step 0) and the final one; the end of input ends training. */
TEST(estimator_default_checkpoints_start_and_end)
{
    lin_data d;
    est_estimator *e;
    est_train_args ta;
    est_train_result r;
    const char *dir = test_tmpdir();
    char state[1100];
    void *text = NULL;
    size_t n = 0;
    lin_make(&d, 40);
    d.epochs = 1; /* 40 / 8 = 5 steps, then the input ends */
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    CHECK_OK(est_estimator_train(e, &ta, &r));
    CHECK(r.global_step == 5);
    CHECK(count_files(dir, "model.ckpt-0.safetensors") == 1);
    CHECK(count_files(dir, "model.ckpt-5.safetensors") == 1);
    CHECK(count_files(dir, "model.ckpt-") == 2);
    snprintf(state, sizeof state, "%s/checkpoint", dir);
    REQUIRE_OK(est_read_file(state, &text, &n));
    CHECK_STR_CONTAINS((const char *)text, "model_checkpoint_path: \"model.ckpt-5\"");
    CHECK_STR_CONTAINS((const char *)text, "all_model_checkpoint_paths: \"model.ckpt-0\"");
    est_free(text);
    CHECK(count_files(dir, "events.out.tfevents.") == 1);
    est_estimator_free(e);
    lin_free(&d);
}

/* The checkpoint holds weights, slots and global_step, valid for the independent checker. */
TEST(estimator_checkpoint_is_valid_safetensors)
{
    lin_data d;
    est_estimator *e;
    est_train_args ta;
    char cmd[1400], ck[1024];
    const char *dir = test_tmpdir();
    est_tensor *gs = NULL;
    lin_make(&d, 64);
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 3;
    REQUIRE_OK(est_estimator_train(e, &ta, NULL));
    REQUIRE_OK(est_estimator_latest_checkpoint(e, ck, sizeof ck));
    CHECK_OK(est_estimator_get_variable_value(e, "global_step", &gs));
    CHECK(gs && gs->dtype == EST_DTYPE_I64 && ((int64_t *)gs->data)[0] == 3);
    est_tensor_free(gs);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 ../shared/verify/safetensors.py %s.safetensors --expect-meta global_step=3 "
             ">/dev/null 2>&1", ck);
    if (access("../shared/verify/safetensors.py", F_OK) == 0)
        CHECK_MSG(system(cmd) == 0, "safetensors.py rejected %s.safetensors", ck);
    else
        printf("note: ../shared/verify is missing; skipped the independent safetensors check\n");
    est_estimator_free(e);
    lin_free(&d);
}

/* Trap 5: metrics start from zero on every evaluate; loss is the mean of batch losses;
 * global_step is in the result; an eval event file is written at that step. */
TEST(estimator_evaluate_semantics)
{
    lin_data d;
    est_estimator *e;
    est_train_args ta;
    est_eval_args ea;
    est_eval_result r1, r2;
    const char *dir = test_tmpdir();
    char edir[1100], cmd[1400];
    lin_make(&d, 64);
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 20;
    REQUIRE_OK(est_estimator_train(e, &ta, NULL));
    d.epochs = 1;
    memset(&ea, 0, sizeof ea);
    ea.input_fn = lin_input_fn;
    ea.input_user_data = &d;
    REQUIRE_OK(est_estimator_evaluate(e, &ea, &r1));
    REQUIRE_OK(est_estimator_evaluate(e, &ea, &r2));
    CHECK(r1.global_step == 20 && r2.global_step == 20);
    CHECK(est_eval_result_get(&r1, "global_step") == 20.0);
    CHECK_NEAR(est_eval_result_get(&r1, "mae"), est_eval_result_get(&r2, "mae"), 1e-7); /* no accumulation */
    CHECK(!isnan(r1.loss) && r1.loss == est_eval_result_get(&r1, "loss"));
    {
        /* the mean of per-batch losses, recomputed by hand from the restored weights */
        est_tensor *w = NULL, *b = NULL;
        double sum = 0;
        int64_t i, bt;
        REQUIRE_OK(est_estimator_get_variable_value(e, "dense/kernel", &w));
        REQUIRE_OK(est_estimator_get_variable_value(e, "dense/bias", &b));
        for (bt = 0; bt < 8; bt++) {
            double bl = 0;
            for (i = bt * 8; i < bt * 8 + 8; i++) {
                const float *x = (const float *)d.x->data + 3 * i;
                double p = x[0] * ((float *)w->data)[0] + x[1] * ((float *)w->data)[1] + x[2] * ((float *)w->data)[2] +
                           ((float *)b->data)[0];
                double e2 = p - ((float *)d.y->data)[i];
                bl += e2 * e2;
            }
            sum += bl / 8;
        }
        CHECK_NEAR(r1.loss, sum / 8, 1e-4 * (1 + sum / 8));
        est_tensor_free(w);
        est_tensor_free(b);
    }
    /* steps limits the batches; global_step is untouched by evaluation */
    ea.steps = 2;
    REQUIRE_OK(est_estimator_evaluate(e, &ea, &r2));
    CHECK(ckpt_step(dir) == 20);
    CHECK(count_files(est_estimator_eval_dir(e, NULL, edir, sizeof edir), "events.out.tfevents.") >= 1);
    ea.name = "holdout";
    REQUIRE_OK(est_estimator_evaluate(e, &ea, &r2));
    CHECK(count_files(est_estimator_eval_dir(e, "holdout", edir, sizeof edir), "events.out.tfevents.") == 1);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 ../shared/verify/tfevents.py %s --scalars-only 2>&1 | grep -q 'mae'", edir);
    if (access("../shared/verify/tfevents.py", F_OK) == 0) CHECK_MSG(system(cmd) == 0, "tfevents.py: no 'mae' in %s", edir);
    est_estimator_free(e);
    lin_free(&d);
}

/* Trap 6: NanTensorHook is on by default; the NaN step leaves the last good checkpoint. */
TEST(estimator_nan_loss_stops_and_keeps_checkpoint)
{
    lin_data d;
    est_estimator *e;
    est_params *p;
    est_train_args ta;
    const char *dir = test_tmpdir();
    lin_make(&d, 64);
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 4;
    REQUIRE_OK(est_estimator_train(e, &ta, NULL));
    est_estimator_free(e);
    REQUIRE_OK(est_params_new(&p));
    est_params_set_bool(p, "nan", 1);
    e = lin_estimator(dir, NULL, p);
    REQUIRE(e != NULL);
    CHECK_STATUS(est_estimator_train(e, &ta, NULL), EST_ERR_NAN_LOSS);
    CHECK_STR_CONTAINS(est_last_error(), "NaN loss during training");
    CHECK(ckpt_step(dir) == 4); /* the restored-step save at session start is step 4 */
    est_estimator_free(e);
    est_params_free(p);
    lin_free(&d);
}

/* Trap 7: warm start applies to a fresh model_dir and is ignored once it holds a checkpoint. */
TEST(estimator_warm_start)
{
    lin_data d;
    est_estimator *a, *b;
    est_estimator_desc desc;
    est_run_config c;
    est_train_args ta;
    est_tensor *wa = NULL, *wb = NULL;
    const char *da = test_tmpdir(), *db = test_tmpdir();
    est_logger quiet;
    lin_make(&d, 64);
    a = lin_estimator(da, NULL, NULL);
    REQUIRE(a != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 10;
    REQUIRE_OK(est_estimator_train(a, &ta, NULL));
    memset(&c, 0, sizeof c);
    c.model_dir = db;
    c.tf_random_seed = 99; /* different init than a */
    memset(&desc, 0, sizeof desc);
    memset(&quiet, 0, sizeof quiet);
    quiet.min_level = EST_LOG_LEVEL_ERROR;
    desc.model_fn = lin_model_fn;
    desc.config = &c;
    desc.logger = quiet;
    desc.warm_start_from.ckpt_to_initialize_from = da;
    REQUIRE_OK(est_estimator_new(&desc, &b));
    ta.steps = 1;
    ta.input_fn = lin_input_fn;
    {
        /* with lr 0 the kernel after one step is exactly the warm-started one */
        est_params *p;
        REQUIRE_OK(est_params_new(&p));
        est_params_set_float(p, "lr", 0.0);
        est_estimator_free(b);
        desc.params = p;
        REQUIRE_OK(est_estimator_new(&desc, &b));
        REQUIRE_OK(est_estimator_train(b, &ta, NULL));
        REQUIRE_OK(est_estimator_get_variable_value(a, "dense/kernel", &wa));
        REQUIRE_OK(est_estimator_get_variable_value(b, "dense/kernel", &wb));
        CHECK(memcmp(wa->data, wb->data, wa->nbytes) == 0);
        CHECK(ckpt_step(db) == 1); /* global_step is not trainable: not warm-started */
        est_tensor_free(wb);
        wb = NULL;
        /* a trains further; b's model_dir now has a checkpoint, so warm start is ignored */
        ta.steps = 10;
        REQUIRE_OK(est_estimator_train(a, &ta, NULL));
        ta.steps = 1;
        REQUIRE_OK(est_estimator_train(b, &ta, NULL));
        est_tensor_free(wa);
        REQUIRE_OK(est_estimator_get_variable_value(a, "dense/kernel", &wa));
        REQUIRE_OK(est_estimator_get_variable_value(b, "dense/kernel", &wb));
        CHECK(memcmp(wa->data, wb->data, wa->nbytes) != 0);
        CHECK(ckpt_step(db) == 2);
        est_params_free(p);
    }
    est_tensor_free(wa);
    est_tensor_free(wb);
    est_estimator_free(a);
    est_estimator_free(b);
    lin_free(&d);
}

/* Trap 8: predict_keys filter; single examples; differing batch lengths fail. */
TEST(estimator_predict)
{
    lin_data d;
    est_estimator *e;
    est_predict_args pa;
    est_predictor *p = NULL;
    est_prediction pr = {0};
    est_params *params;
    const char *keys[1] = {"doubled"};
    int n = 0;
    est_status st;
    const char *dir = test_tmpdir();
    lin_make(&d, 20);
    d.epochs = 1;
    d.batch = 8;
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&pa, 0, sizeof pa);
    pa.input_fn = lin_input_fn;
    pa.input_user_data = &d;
    REQUIRE_OK(est_estimator_predict(e, &pa, &p));
    while ((st = est_predictor_next(p, &pr)) == EST_OK) {
        CHECK(pr.n == 2 && strcmp(pr.keys[0], "predictions") == 0);
        CHECK(pr.values[0].shape.rank == 1 && pr.values[0].shape.dims[0] == 1);
        CHECK_NEAR(((float *)pr.values[1].data)[0], 2 * ((float *)pr.values[0].data)[0], 1e-6);
        n++;
    }
    CHECK(st == EST_ERR_OUT_OF_RANGE);
    CHECK(n == 20); /* 8 + 8 + 4: a partial last batch too */
    est_predictor_free(p);
    /* the session stays warm: a second call with predict_keys */
    pa.predict_keys = keys;
    pa.n_predict_keys = 1;
    REQUIRE_OK(est_estimator_predict(e, &pa, &p));
    REQUIRE_OK(est_predictor_next(p, &pr));
    CHECK(pr.n == 1 && strcmp(pr.keys[0], "doubled") == 0);
    est_predictor_free(p);
    keys[0] = "nope";
    CHECK_STATUS(est_estimator_predict(e, &pa, &p), EST_ERR_INVALID_ARGUMENT);
    /* yield_batches gives whole batches */
    pa.predict_keys = NULL;
    pa.n_predict_keys = 0;
    pa.yield_batches = 1;
    REQUIRE_OK(est_estimator_predict(e, &pa, &p));
    REQUIRE_OK(est_predictor_next(p, &pr));
    CHECK(pr.values[0].shape.rank == 2 && pr.values[0].shape.dims[0] == 8);
    est_predictor_free(p);
    est_estimator_free(e);
    /* predictions of different batch lengths cannot be split into examples */
    REQUIRE_OK(est_params_new(&params));
    est_params_set_bool(params, "bad_batch", 1);
    e = lin_estimator(test_tmpdir(), NULL, params);
    REQUIRE(e != NULL);
    pa.yield_batches = 0;
    REQUIRE_OK(est_estimator_predict(e, &pa, &p));
    CHECK_STATUS(est_predictor_next(p, &pr), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "batch length");
    est_predictor_free(p);
    est_estimator_free(e);
    est_params_free(params);
    lin_free(&d);
}

/* Same seed and data: the checkpoint after N steps is bit-identical. */
TEST(estimator_same_seed_bit_identical_checkpoint)
{
    lin_data d;
    char ck[2][1100];
    void *bytes[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    int r;
    lin_make(&d, 64);
    for (r = 0; r < 2; r++) {
        const char *dir = test_tmpdir();
        est_estimator *e = lin_estimator(dir, NULL, NULL);
        est_train_args ta;
        REQUIRE(e != NULL);
        memset(&ta, 0, sizeof ta);
        ta.input_fn = lin_input_fn;
        ta.input_user_data = &d;
        ta.steps = 12;
        REQUIRE_OK(est_estimator_train(e, &ta, NULL));
        REQUIRE_OK(est_estimator_latest_checkpoint(e, ck[r], sizeof ck[r]));
        strcat(ck[r], ".safetensors");
        REQUIRE_OK(est_read_file(ck[r], &bytes[r], &n[r]));
        est_estimator_free(e);
    }
    CHECK(n[0] == n[1] && memcmp(bytes[0], bytes[1], n[0]) == 0);
    est_free(bytes[0]);
    est_free(bytes[1]);
    lin_free(&d);
}

/* Hook order and stop requests; end() runs after the last step; tensors fetched by name. */
typedef struct rec_hook {
    char log[512];
    int handle;
    int64_t stop_at;
    double last_loss_seen;
} rec_hook;

static void rec_append(rec_hook *r, const char *what)
{
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof r->log - l, "%s;", what);
}
static est_status rec_begin(est_hook *h, est_run_context *c)
{
    rec_hook *r = (rec_hook *)h->user_data;
    rec_append(r, "begin");
    return est_run_context_request(c, "mean_squared_error/value", &r->handle);
}
static est_status rec_after_create(est_hook *h, est_run_context *c)
{
    (void)c;
    rec_append((rec_hook *)h->user_data, "create");
    return EST_OK;
}
static est_status rec_before(est_hook *h, est_run_context *c)
{
    (void)c;
    rec_append((rec_hook *)h->user_data, "b");
    return EST_OK;
}
static est_status rec_after(est_hook *h, est_run_context *c)
{
    rec_hook *r = (rec_hook *)h->user_data;
    rec_append(r, "a");
    r->last_loss_seen = est_tensor_get(est_run_context_value(c, r->handle), 0);
    if (est_run_context_local_step(c) >= r->stop_at) est_run_context_request_stop(c);
    return EST_OK;
}
static est_status rec_end(est_hook *h, est_run_context *c)
{
    (void)c;
    rec_append((rec_hook *)h->user_data, "end");
    return EST_OK;
}

TEST(estimator_hooks_order_and_stop)
{
    lin_data d;
    est_estimator *e;
    est_train_args ta;
    est_train_result r;
    est_hook h, *hp = &h;
    rec_hook rec;
    lin_make(&d, 64);
    e = lin_estimator(test_tmpdir(), NULL, NULL);
    REQUIRE(e != NULL);
    memset(&h, 0, sizeof h);
    memset(&rec, 0, sizeof rec);
    rec.stop_at = 3;
    h.name = "rec";
    h.user_data = &rec;
    h.begin = rec_begin;
    h.after_create_session = rec_after_create;
    h.before_run = rec_before;
    h.after_run = rec_after;
    h.end = rec_end;
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.hooks = &hp;
    ta.n_hooks = 1;
    ta.steps = 100;
    REQUIRE_OK(est_estimator_train(e, &ta, &r));
    CHECK(strcmp(rec.log, "begin;create;b;a;b;a;b;a;end;") == 0);
    CHECK(r.steps_run == 3 && r.global_step == 3);
    CHECK_NEAR(rec.last_loss_seen, r.loss, 1e-6);
    /* end of input: no after_run for the failed step, end still runs */
    memset(&rec, 0, sizeof rec);
    rec.stop_at = 1000;
    d.epochs = 1;
    ta.steps = 0;
    REQUIRE_OK(est_estimator_train(e, &ta, &r));
    CHECK(r.steps_run == 8);
    CHECK_STR_CONTAINS(rec.log, ";a;end;");
    est_estimator_free(e);
    lin_free(&d);
}

/* Trap 4: train_and_evaluate evaluates after saves (first skipped), exports after each
 * evaluation, final export flag only at max_steps. */
typedef struct count_exporter {
    int calls, finals;
    int64_t steps[16];
} count_exporter;

static est_status count_export(est_exporter *x, est_estimator *est, const char *path, const char *ckpt,
                               const est_eval_result *r, int is_final)
{
    count_exporter *c = (count_exporter *)x->user_data;
    (void)est;
    (void)ckpt;
    (void)path;
    if (c->calls < 16) c->steps[c->calls] = r->global_step;
    c->calls++;
    c->finals += is_final;
    return EST_OK;
}

TEST(estimator_train_and_evaluate_loop)
{
    lin_data d, de;
    est_estimator *e;
    est_run_config cfg;
    est_train_spec ts;
    est_eval_spec es;
    est_eval_result last = {0};
    est_exporter x, *xp = &x;
    count_exporter cnt;
    lin_make(&d, 64);
    lin_make(&de, 16);
    de.epochs = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.save_checkpoints_steps = 5;
    e = lin_estimator(test_tmpdir(), &cfg, NULL);
    REQUIRE(e != NULL);
    memset(&x, 0, sizeof x);
    memset(&cnt, 0, sizeof cnt);
    x.name = "counter";
    x.user_data = &cnt;
    x.export_fn = count_export;
    memset(&ts, 0, sizeof ts);
    ts.input_fn = lin_input_fn;
    ts.input_user_data = &d;
    ts.max_steps = 20;
    memset(&es, 0, sizeof es);
    es.input_fn = lin_input_fn;
    es.input_user_data = &de;
    es.exporters = &xp;
    es.n_exporters = 1;
    es.throttle_secs = -1; /* no throttle: every new checkpoint is evaluated */
    REQUIRE_OK(est_train_and_evaluate(e, &ts, &es, &last));
    CHECK_MSG(cnt.calls == 4, "%d exports", cnt.calls); /* steps 5, 10, 15, 20: the step-0 save is skipped */
    CHECK(cnt.steps[0] == 5 && cnt.steps[3] == 20);
    CHECK(cnt.finals == 1);
    CHECK(last.global_step == 20);
    /* the default throttle (600 s) lets only the first save after start and the final one through */
    est_estimator_free(e);
    memset(&cnt, 0, sizeof cnt);
    e = lin_estimator(test_tmpdir(), &cfg, NULL);
    REQUIRE(e != NULL);
    es.throttle_secs = 0;
    REQUIRE_OK(est_train_and_evaluate(e, &ts, &es, &last));
    CHECK_MSG(cnt.calls == 2 && cnt.steps[0] == 5 && cnt.steps[1] == 20, "%d exports", cnt.calls);
    est_estimator_free(e);
    lin_free(&d);
    lin_free(&de);
}

/* A restarted run continues from its checkpoint; a run killed with SIGKILL while saving never
 * leaves a checkpoint that fails to load. */
TEST(estimator_sigkill_during_checkpoints)
{
    const char *dir = test_tmpdir();
    lin_data d;
    int round;
    lin_make(&d, 64);
    for (round = 0; round < 6; round++) {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            est_run_config cfg;
            est_estimator *e;
            est_train_args ta;
            memset(&cfg, 0, sizeof cfg);
            cfg.save_checkpoints_steps = 1; /* save every step: plenty of moments to be killed in */
            cfg.keep_checkpoint_max = 3;
            e = lin_estimator(dir, &cfg, NULL);
            memset(&ta, 0, sizeof ta);
            ta.input_fn = lin_input_fn;
            ta.input_user_data = &d;
            ta.steps = 100000;
            if (e) est_estimator_train(e, &ta, NULL);
            _exit(0);
        }
        {
            struct timespec ts;
            ts.tv_sec = 0;
            ts.tv_nsec = 30000000L + 17000000L * round;
            nanosleep(&ts, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        {
            /* whatever the state file names must load */
            char ck[1024];
            est_checkpoint_info *info = NULL;
            if (est_latest_checkpoint(dir, ck, sizeof ck) == EST_OK) {
                CHECK_MSG(est_checkpoint_read_meta(ck, &info) == EST_OK, "round %d: %s", round, est_last_error());
                est_free(info);
            }
        }
    }
    {
        /* and a new run continues from the last good checkpoint */
        int64_t before = ckpt_step(dir);
        est_estimator *e = lin_estimator(dir, NULL, NULL);
        est_train_args ta;
        est_train_result r;
        REQUIRE(e != NULL);
        memset(&ta, 0, sizeof ta);
        ta.input_fn = lin_input_fn;
        ta.input_user_data = &d;
        ta.steps = 2;
        CHECK_OK(est_estimator_train(e, &ta, &r));
        CHECK_MSG(before < 0 || r.global_step == before + 2, "resumed at %lld, checkpoint was %lld",
                  (long long)r.global_step, (long long)before);
        est_estimator_free(e);
    }
    lin_free(&d);
}

/* Bad input: spec validation, model_fn errors, checkpoints of another model, unwritable dirs. */
static est_status bad_model_fn(est_graph *g, const est_features *f, est_node *labels, est_mode mode,
                               const est_params *params, const est_run_config *cfg, est_spec *spec)
{
    est_node *x = est_features_get(f, "x");
    (void)labels;
    (void)cfg;
    if (est_params_get_bool(params, "fail", 0)) return est__error(EST_ERR_INVALID_ARGUMENT, "model_fn says no");
    if (est_params_get_bool(params, "missing_feature", 0)) est_features_get(f, "nope");
    if (mode == EST_MODE_TRAIN) est_spec_set_loss(spec, est_reduce_mean(g, x, NULL)); /* no train_op */
    return est_graph_status(g);
}

TEST(estimator_bad_input)
{
    lin_data d;
    est_estimator *e;
    est_estimator_desc desc;
    est_params *p;
    est_train_args ta;
    est_run_config cfg;
    est_logger quiet;
    lin_make(&d, 16);
    memset(&quiet, 0, sizeof quiet);
    quiet.min_level = EST_LOG_LEVEL_ERROR;
    memset(&desc, 0, sizeof desc);
    desc.model_fn = bad_model_fn;
    desc.logger = quiet;
    desc.model_dir = test_tmpdir();
    REQUIRE_OK(est_params_new(&p));
    desc.params = p;
    REQUIRE_OK(est_estimator_new(&desc, &e));
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 1;
    CHECK_STATUS(est_estimator_train(e, &ta, NULL), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "train_op");
    est_estimator_free(e);
    est_params_set_bool(p, "fail", 1);
    REQUIRE_OK(est_estimator_new(&desc, &e));
    CHECK_STATUS(est_estimator_train(e, &ta, NULL), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "model_fn says no");
    est_estimator_free(e);
    est_params_set_bool(p, "fail", 0);
    est_params_set_bool(p, "missing_feature", 1);
    REQUIRE_OK(est_estimator_new(&desc, &e));
    CHECK_STATUS(est_estimator_train(e, &ta, NULL), EST_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(est_last_error(), "'nope'");
    CHECK_STR_CONTAINS(est_last_error(), "x");
    est_estimator_free(e);
    est_params_free(p);
    /* a checkpoint from another model: lists the missing variables */
    {
        const char *dir = test_tmpdir();
        est_estimator *a = lin_estimator(dir, NULL, NULL);
        est_eval_args ea;
        REQUIRE(a != NULL);
        ta.steps = 1;
        REQUIRE_OK(est_estimator_train(a, &ta, NULL));
        est_estimator_free(a);
        desc.model_fn = lin_model_fn;
        desc.model_dir = dir;
        desc.params = NULL;
        REQUIRE_OK(est_estimator_new(&desc, &e));
        {
            /* corrupt the checkpoint: a clear error, not a crash */
            char ck[1100];
            FILE *f;
            REQUIRE_OK(est_latest_checkpoint(dir, ck, sizeof ck));
            strcat(ck, ".safetensors");
            f = fopen(ck, "r+b");
            REQUIRE(f != NULL);
            fseek(f, 3, SEEK_SET);
            fputc(0x7f, f);
            fclose(f);
        }
        memset(&ea, 0, sizeof ea);
        d.epochs = 1;
        ea.input_fn = lin_input_fn;
        ea.input_user_data = &d;
        {
            est_eval_result r = {0};
            est_status st = est_estimator_evaluate(e, &ea, &r);
            CHECK(st != EST_OK);
            CHECK_STR_CONTAINS(est_last_error(), "model.ckpt-1");
        }
        est_estimator_free(e);
    }
    /* a model_dir that cannot be written */
    memset(&cfg, 0, sizeof cfg);
    desc.model_dir = "/proc/est_cannot_write_here";
    desc.config = &cfg;
    CHECK(est_estimator_new(&desc, &e) != EST_OK);
    CHECK_STR_CONTAINS(est_last_error(), "/proc/est_cannot_write_here");
    /* both checkpoint triggers */
    cfg.save_checkpoints_steps = 10;
    cfg.save_checkpoints_secs = 10;
    desc.model_dir = test_tmpdir();
    CHECK_STATUS(est_estimator_new(&desc, &e), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "save_checkpoints_steps");
    lin_free(&d);
}

TEST(estimator_run_config_and_tf_config)
{
    est_run_config c = est_run_config_default(), r;
    CHECK(c.save_checkpoints_secs == 600 && c.save_checkpoints_steps == -1);
    CHECK(c.keep_checkpoint_max == 5 && c.keep_checkpoint_every_n_hours == 10000);
    CHECK(c.save_summary_steps == 100 && c.log_step_count_steps == 100);
    CHECK(c.is_chief == 1 && strcmp(c.task_type, "worker") == 0 && c.num_worker_replicas == 1);
    /* replace: setting steps clears secs (trap 12); both -> error; unknown key -> error */
    CHECK_OK(est_run_config_replace(&c, "save_checkpoints_steps=100,keep_checkpoint_max=3", &r));
    CHECK(r.save_checkpoints_steps == 100 && r.save_checkpoints_secs == -1 && r.keep_checkpoint_max == 3);
    CHECK_OK(est_run_config_replace(&r, "save_checkpoints_secs=30", &r));
    CHECK(r.save_checkpoints_secs == 30 && r.save_checkpoints_steps == -1);
    CHECK_STATUS(est_run_config_replace(&c, "bogus=1", &r), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "bogus");
    CHECK_STATUS(est_run_config_replace(&c, "keep_checkpoint_max=abc", &r), EST_ERR_INVALID_ARGUMENT);
    /* TF_CONFIG */
    memset(&r, 0, sizeof r);
    CHECK_OK(est_run_config_from_tf_config(
        "{\"cluster\": {\"chief\": [\"host0:2222\"], \"worker\": [\"host1:2222\", \"host2:2222\"], \"ps\": [\"host3:2222\"]},"
        " \"task\": {\"type\": \"worker\", \"index\": 1}}", &r));
    CHECK(strcmp(r.task_type, "worker") == 0 && r.task_id == 1 && !r.is_chief);
    CHECK(r.num_worker_replicas == 3 && r.num_ps_replicas == 1);
    CHECK(strcmp(r.master, "grpc://host2:2222") == 0);
    CHECK_OK(est_run_config_resolve(&r, &r));
    CHECK(r.is_chief == 0);
    est_run_config_release(&r);
    memset(&r, 0, sizeof r);
    CHECK_OK(est_run_config_from_tf_config("{\"cluster\": {\"chief\": [\"h:1\"]}, \"task\": {\"type\": \"chief\", \"index\": 0}}", &r));
    CHECK(r.is_chief == 1 && r.num_worker_replicas == 1 && r.master[0] == 0);
    est_run_config_release(&r);
    memset(&r, 0, sizeof r);
    CHECK_STATUS(est_run_config_from_tf_config("{\"cluster\": {\"worker\": [\"a:1\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}", &r),
                 EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "chief");
    CHECK_STATUS(est_run_config_from_tf_config("{\"cluster\": {\"chief\": [\"a:1\"]}, \"task\": {\"type\": \"chief\", \"index\": 3}}", &r),
                 EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "out of range");
    CHECK(est_run_config_from_tf_config("{\"cluster\": ", &r) != EST_OK);
    CHECK_STR_CONTAINS(est_last_error(), "TF_CONFIG");
    CHECK_STR_CONTAINS(est_last_error(), "line 1");
    est_run_config_release(&r);
}

TEST(estimator_params_parse)
{
    est_params *p;
    int64_t list[4];
    REQUIRE_OK(est_params_new(&p));
    CHECK_OK(est_params_set_float(p, "learning_rate", 0.1));
    CHECK_OK(est_params_set_int(p, "batch_size", 32));
    CHECK_OK(est_params_parse(p, "learning_rate=0.5,batch_size=64,hidden=[512,256,128],name=tower,use_bn=true"));
    CHECK(est_params_get_float(p, "learning_rate", 0) == 0.5);
    CHECK(est_params_get_int(p, "batch_size", 0) == 64);
    CHECK(est_params_get_int_list(p, "hidden", list, 4) == 3 && list[2] == 128);
    CHECK(strcmp(est_params_get_string(p, "name", ""), "tower") == 0);
    CHECK(est_params_get_bool(p, "use_bn", 0) == 1);
    CHECK(est_params_get_int(p, "absent", 7) == 7);
    CHECK_STATUS(est_params_parse(p, "batch_size=abc"), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "batch_size");
    CHECK_STATUS(est_params_parse(p, "novalue"), EST_ERR_INVALID_ARGUMENT);
    est_params_free(p);
}

/* Built-in hooks: LoggingTensorHook by name, ProfilerHook traces, FinalOpsHook, FeedFnHook,
 * early stopping from eval event files. */
static int feed_calls;
static int count_feed(void *user, est_graph *g, est_feed *feeds, int cap)
{
    (void)user;
    (void)g;
    (void)feeds;
    (void)cap;
    feed_calls++;
    return 0;
}

TEST(estimator_builtin_hooks)
{
    lin_data d;
    est_estimator *e;
    est_train_args ta;
    est_hook *hooks[4];
    est_logging_tensor_hook_desc ld;
    const char *names[1] = {"mean_squared_error/value"};
    const char *dir = test_tmpdir();
    char path[1200];
    void *text = NULL;
    size_t n = 0;
    lin_make(&d, 64);
    e = lin_estimator(dir, NULL, NULL);
    REQUIRE(e != NULL);
    memset(&ld, 0, sizeof ld);
    ld.tensors = names;
    ld.n_tensors = 1;
    ld.every_n_iter = 2;
    REQUIRE_OK(est_logging_tensor_hook_new(&ld, &hooks[0]));
    REQUIRE_OK(est_profiler_hook_new(3, 0, NULL, &hooks[1]));
    {
        const char *finals[1] = {"dense/kernel"};
        REQUIRE_OK(est_final_ops_hook_new(finals, 1, &hooks[2]));
    }
    REQUIRE_OK(est_feed_fn_hook_new(count_feed, NULL, &hooks[3]));
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.hooks = hooks;
    ta.n_hooks = 4;
    ta.steps = 5;
    feed_calls = 0;
    REQUIRE_OK(est_estimator_train(e, &ta, NULL));
    CHECK(feed_calls == 5);
    CHECK(est_final_ops_hook_value(hooks[2], 0) != NULL);
    snprintf(path, sizeof path, "%s/timeline-1.json", dir);
    CHECK_MSG(est_read_file(path, &text, &n) == EST_OK, "no profiler trace: %s", est_last_error());
    if (text) {
        est_json_doc *doc = NULL;
        CHECK_OK(est_json_parse((const char *)text, n, NULL, &doc));
        if (doc) {
            const est_json *ev = est_json_get(est_json_root(doc), "traceEvents");
            CHECK(ev && ev->count > 3);
            CHECK(ev && strcmp(est_json_get(&ev->items[0], "ph")->str, "X") == 0);
            est_json_doc_free(doc);
        }
        est_free(text);
    }
    /* invalid configurations */
    {
        est_hook *tmp = NULL;
        CHECK_STATUS(est_profiler_hook_new(0, 0, NULL, &tmp), EST_ERR_INVALID_ARGUMENT);
        ld.every_n_iter = 0;
        CHECK_STATUS(est_logging_tensor_hook_new(&ld, &tmp), EST_ERR_INVALID_ARGUMENT);
        CHECK(tmp == NULL);
    }
    est_hook_free(hooks[0]);
    est_hook_free(hooks[1]);
    est_hook_free(hooks[2]);
    est_hook_free(hooks[3]);
    est_estimator_free(e);
    lin_free(&d);
}

TEST(estimator_early_stopping_from_eval_events)
{
    lin_data d, de;
    est_estimator *e;
    est_run_config cfg;
    est_train_spec ts;
    est_eval_spec es;
    est_hook *stop;
    est_early_stopping_args ea;
    est_eval_history hist;
    char edir[1100];
    est_train_result r;
    lin_make(&d, 64);
    lin_make(&de, 16);
    de.epochs = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.save_checkpoints_steps = 5;
    e = lin_estimator(test_tmpdir(), &cfg, NULL);
    REQUIRE(e != NULL);
    memset(&ea, 0, sizeof ea);
    ea.run_every_steps = 1;
    /* loss < 1e9 holds at the first evaluation, so training stops right after it */
    REQUIRE_OK(est_stop_if_lower_hook(e, "loss", 1e9, &ea, &stop));
    memset(&ts, 0, sizeof ts);
    ts.input_fn = lin_input_fn;
    ts.input_user_data = &d;
    ts.max_steps = 100;
    ts.hooks = &stop;
    ts.n_hooks = 1;
    memset(&es, 0, sizeof es);
    es.input_fn = lin_input_fn;
    es.input_user_data = &de;
    es.throttle_secs = 1e-9;
    REQUIRE_OK(est_train_and_evaluate(e, &ts, &es, NULL));
    REQUIRE_OK(est_read_eval_metrics(est_estimator_eval_dir(e, NULL, edir, sizeof edir), &hist));
    CHECK(hist.n >= 1 && hist.results[0].global_step == 5);
    CHECK(!isnan(est_eval_result_get(&hist.results[0], "loss")));
    CHECK(!isnan(est_eval_result_get(&hist.results[0], "mae")));
    CHECK_MSG(ckpt_step(est_estimator_model_dir(e)) < 20, "training went on to step %lld", (long long)ckpt_step(est_estimator_model_dir(e)));
    est_eval_history_free(&hist);
    est_hook_free(stop);
    /* a threshold that never triggers lets training finish */
    REQUIRE_OK(est_stop_if_higher_hook(e, "loss", 1e9, &ea, &stop));
    {
        est_train_args ta;
        memset(&ta, 0, sizeof ta);
        ta.input_fn = lin_input_fn;
        ta.input_user_data = &d;
        ta.hooks = &stop;
        ta.n_hooks = 1;
        ta.steps = 7;
        REQUIRE_OK(est_estimator_train(e, &ta, &r));
        CHECK(r.steps_run == 7);
    }
    est_hook_free(stop);
    CHECK_STATUS(est_stop_if_no_decrease_hook(e, "loss", 0, NULL, &stop), EST_ERR_INVALID_ARGUMENT);
    est_estimator_free(e);
    lin_free(&d);
    lin_free(&de);
}

/* A checkpoint of another model: the error lists what is missing. Training summaries include the
 * loss and a scheduled learning rate. */
static est_status wider_model_fn(est_graph *g, const est_features *f, est_node *labels, est_mode mode,
                                 const est_params *params, const est_run_config *cfg, est_spec *spec)
{
    est_dense_args d;
    est_node *h, *pred, *loss;
    (void)params;
    (void)cfg;
    memset(&d, 0, sizeof d);
    h = est_dense(g, est_features_get(f, "x"), 4, &d); /* dense/kernel [3,4]: another shape */
    pred = est_dense(g, h, 1, &d);                      /* dense_1/...: missing from the checkpoint */
    est_spec_add_prediction(spec, "predictions", pred);
    if (mode == EST_MODE_PREDICT) return est_graph_status(g);
    loss = est_losses_mean_squared_error(g, labels, pred, NULL);
    est_spec_set_loss(spec, loss);
    if (mode == EST_MODE_TRAIN) {
        est_optimizer_desc o;
        est_node *gs = est_get_or_create_global_step(g);
        memset(&o, 0, sizeof o);
        o.learning_rate_node = est_exponential_decay(g, 0.1f, gs, 10, 0.5f, 0);
        est_spec_set_train_op(spec, est_minimize(g, &o, loss, NULL, 0, gs));
    }
    return est_graph_status(g);
}

TEST(estimator_checkpoint_of_another_model_and_lr_summary)
{
    lin_data d;
    est_estimator *a, *b;
    est_estimator_desc desc;
    est_run_config cfg;
    est_train_args ta;
    est_eval_history hist;
    est_logger quiet;
    const char *dir = test_tmpdir(), *dir2 = test_tmpdir();
    int i, saw_lr = 0, saw_loss = 0;
    lin_make(&d, 64);
    a = lin_estimator(dir, NULL, NULL);
    REQUIRE(a != NULL);
    memset(&ta, 0, sizeof ta);
    ta.input_fn = lin_input_fn;
    ta.input_user_data = &d;
    ta.steps = 2;
    REQUIRE_OK(est_estimator_train(a, &ta, NULL));
    est_estimator_free(a);
    memset(&quiet, 0, sizeof quiet);
    quiet.min_level = EST_LOG_LEVEL_ERROR;
    memset(&desc, 0, sizeof desc);
    desc.model_fn = wider_model_fn;
    desc.model_dir = dir;
    desc.logger = quiet;
    REQUIRE_OK(est_estimator_new(&desc, &b));
    CHECK_STATUS(est_estimator_train(b, &ta, NULL), EST_ERR_CHECKPOINT);
    CHECK_STR_CONTAINS(est_last_error(), "dense_1/kernel");
    CHECK_STR_CONTAINS(est_last_error(), "[3,4]");
    est_estimator_free(b);
    /* the same model in a fresh dir trains, and writes loss and learning_rate summaries */
    memset(&cfg, 0, sizeof cfg);
    cfg.save_summary_steps = 1;
    desc.model_dir = dir2;
    desc.config = &cfg;
    REQUIRE_OK(est_estimator_new(&desc, &b));
    ta.steps = 3;
    REQUIRE_OK(est_estimator_train(b, &ta, NULL));
    REQUIRE_OK(est_read_eval_metrics(dir2, &hist));
    for (i = 0; i < hist.n; i++) {
        if (!isnan(est_eval_result_get(&hist.results[i], "learning_rate"))) saw_lr = 1;
        if (!isnan(est_eval_result_get(&hist.results[i], "loss"))) saw_loss = 1;
    }
    CHECK(saw_lr && saw_loss);
    /* recorded at the step count after the update, with the rate that update used */
    if (hist.n >= 1)
        CHECK_NEAR(est_eval_result_get(&hist.results[0], "learning_rate"),
                   0.1 * pow(0.5, (double)(hist.results[0].global_step - 1) / 10.0), 1e-6);
    est_eval_history_free(&hist);
    est_estimator_free(b);
    lin_free(&d);
}

/* session_config.intra_op_parallelism_threads sizes the Estimator's pool (0 = the number of cores)
 * and reaches a GEMM backend as est_sgemm_args.num_threads, from which estimator_blas.h sets
 * OpenBLAS's thread count. A recording backend sees it on every GEMM of the training step. */
typedef struct threads_seen {
    int calls, min, max;
} threads_seen;

static void threads_recording_sgemm(void *user, const est_sgemm_args *a)
{
    threads_seen *t = (threads_seen *)user;
    est_sgemm_args b = *a;
    if (t->calls == 0 || a->num_threads < t->min) t->min = a->num_threads;
    if (t->calls == 0 || a->num_threads > t->max) t->max = a->num_threads;
    t->calls++;
    b.num_threads = 0;
    (void)est_sgemm(NULL, &b);
}

TEST(estimator_session_config_threads_reach_kernels)
{
    const int asked[3] = {1, 3, 0};
    int i;
    lin_data d;
    lin_make(&d, 64);
    for (i = 0; i < 3; i++) {
        threads_seen seen;
        est_kernels k;
        est_run_config c;
        est_estimator_desc desc;
        est_estimator *e = NULL;
        est_train_args ta;
        char dir[1100];
        int want = asked[i] ? asked[i] : est_num_cores();
        memset(&seen, 0, sizeof seen);
        memset(&k, 0, sizeof k);
        k.sgemm = threads_recording_sgemm;
        k.user_data = &seen;
        k.name = "recorder";
        snprintf(dir, sizeof dir, "%s/threads_%d", test_tmpdir(), asked[i]);
        memset(&c, 0, sizeof c);
        c.model_dir = dir;
        c.tf_random_seed = 7;
        c.session_config.intra_op_parallelism_threads = asked[i];
        memset(&desc, 0, sizeof desc);
        desc.model_fn = lin_model_fn;
        desc.config = &c;
        desc.kernels = &k;
        desc.logger.min_level = EST_LOG_LEVEL_ERROR;
        REQUIRE_OK(est_estimator_new(&desc, &e));
        memset(&ta, 0, sizeof ta);
        ta.input_fn = lin_input_fn;
        ta.input_user_data = &d;
        ta.steps = 2;
        CHECK_OK(est_estimator_train(e, &ta, NULL));
        CHECK(seen.calls > 0);
        CHECK(seen.min == want && seen.max == want);
        if (seen.min != want || seen.max != want)
            printf("intra_op_parallelism_threads %d: GEMMs saw num_threads %d..%d, want %d\n", asked[i], seen.min,
                   seen.max, want);
        est_estimator_free(e);
    }
    lin_free(&d);
}
