/* >>estimator/impl: sessions (graph + store + input + plan + hooks), train, evaluate, predict,
 * train_and_evaluate. One session per call, as TF rebuilds its graph per call; predict keeps its
 * session warm between calls. */

#ifndef EST_NO_STDIO

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#define EST__SPEC_MAX 64
#define EST__SPEC_HOOKS 16
#define EST__MAX_COMPONENTS 64
#define EST__MAX_FETCH 96

EST_API const char *est_mode_name(est_mode mode)
{
    switch (mode) {
    case EST_MODE_TRAIN: return "train";
    case EST_MODE_EVAL: return "eval";
    case EST_MODE_PREDICT: return "infer";
    default: return "invalid";
    }
}

struct est_features {
    est_graph *g;
    int n;
    const char *names[EST__MAX_COMPONENTS];
    est_node *nodes[EST__MAX_COMPONENTS];
};

/* export_outputs (issue 6, export module): one entry per signature key, copied into the graph's
 * arena. */
#define EST__SPEC_EXPORTS 16
typedef struct est__export_entry {
    const char *key;
    est_export_output_kind kind;
    int n;
    const char **keys;
    est_node **nodes;
    est_node *classes, *scores, *value;
} est__export_entry;

struct est_spec {
    est_mode mode;
    est_graph *g;
    est_node *loss, *train_op;
    int n_pred;
    const char *pred_keys[EST__SPEC_MAX];
    est_node *preds[EST__SPEC_MAX];
    int n_metrics;
    const char *metric_names[EST__SPEC_MAX];
    est_metric metrics[EST__SPEC_MAX];
    int n_hooks[EST_HOOKS_COUNT];
    est_hook *hooks[EST_HOOKS_COUNT][EST__SPEC_HOOKS];
    est_status status;
    int n_exports; /* export_outputs (issue 6) */
    est__export_entry exports[EST__SPEC_EXPORTS];
};

typedef struct est__session est__session;

struct est_run_context {
    est__session *s;
};

struct est__session {
    est_estimator *est;
    est_mode mode;
    est_graph *g;
    est_var_store *vs;
    est_dataset *ds;
    est_iterator *it;
    est_element_spec espec;
    est_features features;
    est_node *labels;
    int label_index;
    est_node *ph[EST__MAX_COMPONENTS];
    est_spec spec;
    est_node *global_step;
    est_hook **hooks;
    unsigned char *owned;
    int n_hooks, cap_hooks;
    est_node *fetch[EST__MAX_FETCH];
    int n_fetch;
    est_tensor out[EST__MAX_FETCH];
    est_plan *plan;
    est_feed feeds[EST__MAX_COMPONENTS + 16];
    int n_feeds, n_extra_feeds;
    int64_t global_step_value;
    int64_t local_step;
    int stop, in_begin;
    double last_loss;
    est_event_writer *writer;
    char writer_dir[1024];
    char checkpoint_path[1024]; /* restored from, "" when initialized */
    est_run_context ctx;
};

struct est_estimator {
    est_model_fn model_fn;
    char *model_dir;
    est_run_config config;
    est_params *params;
    est_logger logger;
    const est_kernels *kernels;
    est_threadpool *pool;
    int progress_bar;
    char *ws_ckpt, *ws_regex;
    char **ws_renames;
    int n_ws_renames;
    est__session *pred; /* warm predict session */
};

/* ---- features and spec ---- */

EST_API est_node *est_features_get(const est_features *f, const char *name)
{
    int i;
    char avail[512];
    size_t len = 0;
    if (!f) return NULL;
    for (i = 0; i < f->n; i++)
        if (name && strcmp(f->names[i], name) == 0) return f->nodes[i];
    avail[0] = 0;
    for (i = 0; i < f->n && len + 2 < sizeof avail; i++)
        len += (size_t)est__snprintf(avail + len, sizeof avail - len, "%s%s", i ? ", " : "", f->names[i]);
    return est__fail(f->g, EST_ERR_NOT_FOUND, "features: no feature named '%s' (features: %s)", name ? name : "(null)",
                     avail);
}
EST_API int est_features_count(const est_features *f) { return f ? f->n : 0; }
EST_API const char *est_features_name(const est_features *f, int i)
{
    return (f && i >= 0 && i < f->n) ? f->names[i] : NULL;
}
EST_API est_node *est_features_at(const est_features *f, int i)
{
    return (f && i >= 0 && i < f->n) ? f->nodes[i] : NULL;
}

EST_API est_mode est_spec_mode(const est_spec *s) { return s ? s->mode : EST_MODE_DEFAULT; }
EST_API void est_spec_set_loss(est_spec *s, est_node *loss)
{
    if (s) s->loss = loss;
}
EST_API void est_spec_set_train_op(est_spec *s, est_node *op)
{
    if (s) s->train_op = op;
}
EST_API est_node *est_spec_loss(const est_spec *s) { return s ? s->loss : NULL; }
EST_API int est_spec_num_predictions(const est_spec *s) { return s ? s->n_pred : 0; }
EST_API est_node *est_spec_prediction(const est_spec *s, int i, const char **key)
{
    if (!s || i < 0 || i >= s->n_pred) return NULL;
    if (key) *key = s->pred_keys[i];
    return s->preds[i];
}

EST_API est_status est_spec_add_prediction(est_spec *s, const char *key, est_node *node)
{
    int i;
    if (!s) return est__error(EST_ERR_INVALID_ARGUMENT, "est_spec_add_prediction: spec is NULL");
    if (!key) key = "output";
    if (!node) return est__error(EST_ERR_INVALID_ARGUMENT, "EstimatorSpec: prediction '%s' is NULL", key);
    for (i = 0; i < s->n_pred; i++)
        if (strcmp(s->pred_keys[i], key) == 0)
            return est__error(EST_ERR_ALREADY_EXISTS, "EstimatorSpec: prediction '%s' given twice", key);
    if (s->n_pred >= EST__SPEC_MAX) return est__error(EST_ERR_OUT_OF_RANGE, "EstimatorSpec: more than %d predictions", EST__SPEC_MAX);
    s->pred_keys[s->n_pred] = est__arena_strdup(&s->g->arena, key);
    s->preds[s->n_pred++] = node;
    return EST_OK;
}

EST_API est_status est_spec_add_metric(est_spec *s, const char *name, est_metric metric)
{
    int i;
    if (!s || !name) return est__error(EST_ERR_INVALID_ARGUMENT, "est_spec_add_metric: NULL spec or name");
    if (strcmp(name, "loss") == 0 || strcmp(name, "global_step") == 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "EstimatorSpec: metric name '%s' is reserved by the estimator", name);
    if (!metric.value || !metric.update_op)
        return est__error(EST_ERR_INVALID_ARGUMENT, "EstimatorSpec: metric '%s' has no value or update op", name);
    for (i = 0; i < s->n_metrics; i++)
        if (strcmp(s->metric_names[i], name) == 0)
            return est__error(EST_ERR_ALREADY_EXISTS, "EstimatorSpec: metric '%s' given twice", name);
    if (s->n_metrics >= EST__SPEC_MAX - 1) return est__error(EST_ERR_OUT_OF_RANGE, "EstimatorSpec: too many metrics");
    s->metric_names[s->n_metrics] = est__arena_strdup(&s->g->arena, name);
    s->metrics[s->n_metrics++] = metric;
    return EST_OK;
}

/* ---- export_outputs (issue 6, export module) ---- */
EST_API est_status est_spec_add_export_output(est_spec *s, const char *key, const est_export_output *o)
{
    est__export_entry *e;
    est_export_output_kind kind;
    int i, n;
    if (!s || !key || !*key || !o)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_spec_add_export_output: NULL spec, key or output");
    kind = o->kind == EST_EXPORT_OUTPUT_DEFAULT ? EST_EXPORT_OUTPUT_PREDICT : o->kind;
    for (i = 0; i < s->n_exports; i++)
        if (strcmp(s->exports[i].key, key) == 0)
            return est__error(EST_ERR_ALREADY_EXISTS, "EstimatorSpec: export_outputs['%s'] given twice", key);
    if (s->n_exports >= EST__SPEC_EXPORTS)
        return est__error(EST_ERR_OUT_OF_RANGE, "EstimatorSpec: more than %d export_outputs", EST__SPEC_EXPORTS);
    e = &s->exports[s->n_exports];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    if (kind == EST_EXPORT_OUTPUT_PREDICT) {
        n = o->n > 0 ? o->n : (o->nodes && o->nodes[0] ? 1 : 0);
        if (n == 0) return est__error(EST_ERR_INVALID_ARGUMENT, "PredictOutput '%s': no outputs", key);
        e->keys = (const char **)est__arena_alloc(&s->g->arena, sizeof(char *) * (size_t)n);
        e->nodes = (est_node **)est__arena_alloc(&s->g->arena, sizeof(est_node *) * (size_t)n);
        if (!e->keys || !e->nodes) return est__error(EST_ERR_OUT_OF_MEMORY, "export_outputs: out of memory");
        for (i = 0; i < n; i++) {
            const char *k = o->n > 0 ? (o->keys ? o->keys[i] : NULL) : "output";
            int j;
            if (!k || !*k || !o->nodes[i])
                return est__error(EST_ERR_INVALID_ARGUMENT, "PredictOutput '%s': output %d has no key or node", key, i);
            for (j = 0; j < i; j++)
                if (strcmp(e->keys[j], k) == 0)
                    return est__error(EST_ERR_ALREADY_EXISTS, "PredictOutput '%s': output key '%s' given twice", key, k);
            e->keys[i] = est__arena_strdup(&s->g->arena, k);
            e->nodes[i] = o->nodes[i];
        }
        e->n = n;
    } else if (kind == EST_EXPORT_OUTPUT_CLASSIFICATION) {
        if (!o->classes && !o->scores)
            return est__error(EST_ERR_INVALID_ARGUMENT, "ClassificationOutput '%s': at least one of scores and classes "
                              "must be set", key);
        if (o->scores && est_node_dtype(o->scores) != EST_DTYPE_F32)
            return est__error(EST_ERR_DTYPE, "ClassificationOutput '%s': scores must be a float32 Tensor; got '%s' (%s)",
                              key, est_node_name(o->scores), est_dtype_name(est_node_dtype(o->scores)));
        if (o->classes && est_node_dtype(o->classes) != EST_DTYPE_STRING)
            return est__error(EST_ERR_DTYPE, "ClassificationOutput '%s': classes must be a string Tensor; got '%s' (%s)",
                              key, est_node_name(o->classes), est_dtype_name(est_node_dtype(o->classes)));
        e->classes = o->classes;
        e->scores = o->scores;
    } else if (kind == EST_EXPORT_OUTPUT_REGRESSION) {
        if (!o->value || est_node_dtype(o->value) != EST_DTYPE_F32)
            return est__error(EST_ERR_DTYPE, "RegressionOutput '%s': value must be a float32 Tensor; got %s", key,
                              o->value ? est_dtype_name(est_node_dtype(o->value)) : "NULL");
        e->value = o->value;
    } else {
        return est__error(EST_ERR_INVALID_ARGUMENT, "export_outputs['%s']: unknown kind %d", key, (int)o->kind);
    }
    e->key = est__arena_strdup(&s->g->arena, key);
    if (!e->key) return est__error(EST_ERR_OUT_OF_MEMORY, "export_outputs: out of memory");
    s->n_exports++;
    return EST_OK;
}

EST_API est_status est_spec_add_hook(est_spec *s, est_hook_list which, est_hook *hook)
{
    if (!s || !hook) return est__error(EST_ERR_INVALID_ARGUMENT, "est_spec_add_hook: NULL spec or hook");
    if (which == EST_HOOKS_DEFAULT) which = EST_HOOKS_TRAINING;
    if ((int)which <= 0 || which >= EST_HOOKS_COUNT) return est__error(EST_ERR_INVALID_ARGUMENT, "est_spec_add_hook: bad list");
    if (s->n_hooks[which] >= EST__SPEC_HOOKS) {
        est_hook_free(hook);
        return est__error(EST_ERR_OUT_OF_RANGE, "EstimatorSpec: more than %d hooks in one list", EST__SPEC_HOOKS);
    }
    s->hooks[which][s->n_hooks[which]++] = hook;
    return EST_OK;
}

EST_API void est_hook_free(est_hook *hook)
{
    if (hook && hook->destroy) hook->destroy(hook);
}

/* ---- run context ---- */

EST_API est_graph *est_run_context_graph(est_run_context *c) { return c ? c->s->g : NULL; }
EST_API est_mode est_run_context_mode(const est_run_context *c) { return c ? c->s->mode : EST_MODE_DEFAULT; }
EST_API est_var_store *est_run_context_store(est_run_context *c) { return c ? c->s->vs : NULL; }
EST_API const char *est_run_context_model_dir(const est_run_context *c) { return c ? c->s->est->model_dir : NULL; }
EST_API const est_logger *est_run_context_logger(const est_run_context *c) { return c ? &c->s->est->logger : NULL; }
EST_API int64_t est_run_context_global_step(const est_run_context *c) { return c ? c->s->global_step_value : 0; }
EST_API int64_t est_run_context_local_step(const est_run_context *c) { return c ? c->s->local_step : 0; }
EST_API void est_run_context_request_stop(est_run_context *c)
{
    if (c) c->s->stop = 1;
}
EST_API int est_run_context_stop_requested(const est_run_context *c) { return c ? c->s->stop : 0; }
EST_API double est_run_context_loss(const est_run_context *c) { return c ? c->s->last_loss : NAN; }
EST_API est_node *est_run_context_find(est_run_context *c, const char *name)
{
    return c ? est_graph_find(c->s->g, name) : NULL;
}

EST_API est_status est_run_context_request_node(est_run_context *c, est_node *node, int *handle)
{
    est__session *s;
    int i;
    if (!c || !node || !handle) return est__error(EST_ERR_INVALID_ARGUMENT, "est_run_context_request: NULL argument");
    s = c->s;
    for (i = 0; i < s->n_fetch; i++)
        if (s->fetch[i] == node) {
            *handle = i;
            return EST_OK;
        }
    if (!s->in_begin)
        return est__error(EST_ERR_FAILED_PRECONDITION, "hooks request tensors in begin(), before the session runs");
    if (s->n_fetch >= EST__MAX_FETCH) return est__error(EST_ERR_OUT_OF_RANGE, "hooks requested more than %d tensors", EST__MAX_FETCH);
    s->fetch[s->n_fetch] = node;
    *handle = s->n_fetch++;
    return EST_OK;
}

EST_API est_status est_run_context_request(est_run_context *c, const char *name, int *handle)
{
    est_node *n;
    est_status st;
    if (!c || !name) return est__error(EST_ERR_INVALID_ARGUMENT, "est_run_context_request: NULL argument");
    if ((st = est_graph_get(c->s->g, name, &n)) != EST_OK)
        return est__error(EST_ERR_NOT_FOUND, "hook asked for tensor '%s', which is not in the %s graph", name,
                          est_mode_name(c->s->mode));
    return est_run_context_request_node(c, n, handle);
}

EST_API const est_tensor *est_run_context_value(const est_run_context *c, int handle)
{
    if (!c || handle < 0 || handle >= c->s->n_fetch) return NULL;
    return &c->s->out[handle];
}

EST_API est_status est_run_context_feed(est_run_context *c, est_node *ph, const est_tensor *value)
{
    est__session *s;
    if (!c || !ph || !value) return est__error(EST_ERR_INVALID_ARGUMENT, "est_run_context_feed: NULL argument");
    s = c->s;
    if (s->n_feeds + s->n_extra_feeds >= (int)EST__COUNTOF(s->feeds))
        return est__error(EST_ERR_OUT_OF_RANGE, "est_run_context_feed: too many feeds");
    s->feeds[s->n_feeds + s->n_extra_feeds].node = ph;
    s->feeds[s->n_feeds + s->n_extra_feeds].value = value;
    s->n_extra_feeds++;
    return EST_OK;
}

EST_API est_plan *est_run_context_plan(est_run_context *c) { return c ? c->s->plan : NULL; }

EST_API est_status est_run_context_eval(est_run_context *c, est_node *const *nodes, int n, est_tensor **outs)
{
    est_plan_desc pd;
    est_plan *p = NULL;
    est_tensor *views;
    est_status st;
    int i;
    if (!c || (n > 0 && (!nodes || !outs)) || n < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_run_context_eval: bad arguments");
    if (n == 0) return EST_OK;
    views = EST__CALLOC(est_tensor, n);
    if (!views) return est__error(EST_ERR_OUT_OF_MEMORY, "est_run_context_eval: out of memory");
    memset(&pd, 0, sizeof pd);
    pd.fetches = nodes;
    pd.n_fetches = n;
    pd.pool = c->s->est->pool;
    pd.kernels = c->s->est->kernels;
    for (i = 0; i < n; i++) outs[i] = NULL;
    if ((st = est_plan_new(c->s->g, &pd, &p)) == EST_OK && (st = est_plan_run(p, NULL, 0, views)) == EST_OK)
        for (i = 0; i < n && st == EST_OK; i++) st = est_tensor_copy(&views[i], &outs[i]);
    est_plan_free(p);
    est__free(views);
    return st;
}

EST_API est_status est_run_context_event_writer(est_run_context *c, est_event_writer **out)
{
    est__session *s;
    est_status st;
    if (!c || !out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_run_context_event_writer: NULL argument");
    s = c->s;
    if (!s->writer) {
        if ((st = est_event_writer_new(s->writer_dir, NULL, &s->writer)) != EST_OK) return st;
    }
    *out = s->writer;
    return EST_OK;
}

/* ---- estimator object ---- */

EST_API est_status est_estimator_new(const est_estimator_desc *desc, est_estimator **out)
{
    est_estimator *e;
    est_run_config cfg;
    est_status s;
    const char *dir;
    est_threadpool_desc td;
    int i;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_estimator_new: out is NULL");
    *out = NULL;
    if (!desc || !desc->model_fn) return est__error(EST_ERR_INVALID_ARGUMENT, "Estimator: model_fn is required");
    memset(&cfg, 0, sizeof cfg);
    if (desc->config) cfg = *desc->config;
    if ((s = est_run_config_resolve(&cfg, &cfg)) != EST_OK) return s;
    if (desc->model_dir && !*desc->model_dir) return est__error(EST_ERR_INVALID_ARGUMENT, "Estimator: model_dir is empty");
    if (desc->model_dir && cfg.model_dir && strcmp(desc->model_dir, cfg.model_dir) != 0)
        return est__error(EST_ERR_INVALID_ARGUMENT,
                          "Estimator: model_dir '%s' and config.model_dir '%s' must be the same when both are set",
                          desc->model_dir, cfg.model_dir);
    e = EST__CALLOC(est_estimator, 1);
    if (!e) return est__error(EST_ERR_OUT_OF_MEMORY, "Estimator: out of memory");
    e->model_fn = desc->model_fn;
    e->logger = desc->logger;
    e->kernels = desc->kernels;
    e->progress_bar = desc->progress_bar;
    dir = desc->model_dir ? desc->model_dir : cfg.model_dir ? cfg.model_dir
                                          : (cfg.tf_config_model_dir[0] ? cfg.tf_config_model_dir : NULL);
    if (dir) {
        e->model_dir = est__strdup(dir);
    } else {
        char tmpl[64];
        const char *base = getenv("TMPDIR");
        char path[512];
        est__snprintf(tmpl, sizeof tmpl, "estimator_XXXXXX");
        est__snprintf(path, sizeof path, "%s/%s", base && *base ? base : "/tmp", tmpl);
#if defined(__unix__) || defined(__APPLE__)
        if (!mkdtemp(path)) {
            est__free(e);
            return est__error(EST_ERR_IO, "Estimator: cannot create a temporary model_dir under %s", base ? base : "/tmp");
        }
#endif
        e->model_dir = est__strdup(path);
        est_logf(&e->logger, EST_LOG_LEVEL_WARN, "Using temporary folder as model directory: %s", path);
    }
    if (!e->model_dir) {
        est_estimator_free(e);
        return est__error(EST_ERR_OUT_OF_MEMORY, "Estimator: out of memory");
    }
    cfg.model_dir = e->model_dir;
    cfg.tf_config_storage = NULL; /* the caller's TF_CONFIG strings stay the caller's */
    e->config = cfg;
    if (desc->params && (s = est_params_copy(desc->params, &e->params)) != EST_OK) {
        est_estimator_free(e);
        return s;
    }
    if (desc->warm_start_from.ckpt_to_initialize_from) {
        const est_warm_start_settings *w = &desc->warm_start_from;
        e->ws_ckpt = est__strdup(w->ckpt_to_initialize_from);
        e->ws_regex = w->vars_to_warm_start ? est__strdup(w->vars_to_warm_start) : NULL;
        if (w->n_renames > 0) {
            e->ws_renames = EST__CALLOC(char *, 2 * w->n_renames);
            if (!e->ws_renames) {
                est_estimator_free(e);
                return est__error(EST_ERR_OUT_OF_MEMORY, "Estimator: out of memory");
            }
            for (i = 0; i < 2 * w->n_renames; i++) e->ws_renames[i] = est__strdup(w->var_name_to_prev_var_name[i]);
            e->n_ws_renames = w->n_renames;
        }
    }
    memset(&td, 0, sizeof td);
    td.num_threads = cfg.session_config.intra_op_parallelism_threads;
    if ((s = est_threadpool_new(&td, &e->pool)) != EST_OK) {
        est_estimator_free(e);
        return s;
    }
    if ((s = est_mkdirs(e->model_dir)) != EST_OK) {
        est_estimator_free(e);
        return est__error_prefix(s, "Estimator: model_dir cannot be written: ");
    }
    est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Using config: model_dir=%s, tf_random_seed=%llu, save_summary_steps=%lld, "
             "save_checkpoints_steps=%lld, save_checkpoints_secs=%g, keep_checkpoint_max=%d, "
             "keep_checkpoint_every_n_hours=%g, log_step_count_steps=%lld, threads=%d",
             e->model_dir, (unsigned long long)cfg.tf_random_seed, (long long)cfg.save_summary_steps,
             (long long)cfg.save_checkpoints_steps, cfg.save_checkpoints_secs, cfg.keep_checkpoint_max,
             cfg.keep_checkpoint_every_n_hours, (long long)cfg.log_step_count_steps, est_threadpool_size(e->pool));
    *out = e;
    return EST_OK;
}

EST_PRIVATE void est__session_free(est__session *s);

EST_API void est_estimator_free(est_estimator *e)
{
    int i;
    if (!e) return;
    est__session_free(e->pred);
    est_threadpool_free(e->pool);
    est_params_free(e->params);
    est__free(e->model_dir);
    est__free(e->ws_ckpt);
    est__free(e->ws_regex);
    for (i = 0; i < 2 * e->n_ws_renames; i++) est__free(e->ws_renames[i]);
    est__free(e->ws_renames);
    est__free(e);
}

EST_API const char *est_estimator_model_dir(const est_estimator *e) { return e ? e->model_dir : NULL; }
EST_API const est_run_config *est_estimator_config(const est_estimator *e) { return e ? &e->config : NULL; }
EST_API const est_params *est_estimator_params(const est_estimator *e) { return e ? e->params : NULL; }

EST_API est_status est_estimator_latest_checkpoint(const est_estimator *e, char *buf, size_t size)
{
    if (!e) return est__error(EST_ERR_INVALID_ARGUMENT, "est_estimator_latest_checkpoint: NULL estimator");
    return est_latest_checkpoint(e->model_dir, buf, size);
}

EST_API const char *est_estimator_eval_dir(const est_estimator *e, const char *name, char *buf, size_t size)
{
    if (!e || !buf) return NULL;
    if (name && *name)
        est__snprintf(buf, size, "%s/eval_%s", e->model_dir, name);
    else
        est__snprintf(buf, size, "%s/eval", e->model_dir);
    return buf;
}

EST_API est_status est_estimator_get_variable_value(const est_estimator *e, const char *name, est_tensor **out)
{
    char ck[1024];
    est_status s;
    if (!e || !name || !out) return est__error(EST_ERR_INVALID_ARGUMENT, "get_variable_value: NULL argument");
    if ((s = est_latest_checkpoint(e->model_dir, ck, sizeof ck)) != EST_OK)
        return est__error(EST_ERR_NOT_FOUND, "get_variable_value: no checkpoint in %s", e->model_dir);
    return est_checkpoint_load_variable(ck, name, out);
}

/* ---- sessions ---- */

EST_PRIVATE void est__session_free(est__session *s)
{
    int i;
    if (!s) return;
    for (i = 0; i < s->n_hooks; i++)
        if (s->owned[i]) est_hook_free(s->hooks[i]);
    for (i = 1; i < EST_HOOKS_COUNT; i++) {
        int j;
        for (j = 0; j < s->spec.n_hooks[i]; j++) {
            /* spec hooks not moved into the session list are freed here */
            int k, moved = 0;
            for (k = 0; k < s->n_hooks; k++)
                if (s->hooks[k] == s->spec.hooks[i][j]) moved = 1;
            if (!moved) est_hook_free(s->spec.hooks[i][j]);
        }
    }
    est__free(s->hooks);
    est__free(s->owned);
    est_plan_free(s->plan);
    est_iterator_free(s->it);
    est_dataset_free(s->ds);
    if (s->writer) est_event_writer_free(s->writer);
    est_graph_free(s->g);
    est_var_store_free(s->vs);
    est__free(s);
}

EST_PRIVATE est_status est__session_add_hook(est__session *s, est_hook *h, int owned)
{
    if (!h) return EST_OK;
    if (s->n_hooks == s->cap_hooks) {
        int nc = s->cap_hooks ? s->cap_hooks * 2 : 16;
        est_hook **nh = (est_hook **)est__realloc(s->hooks, sizeof(est_hook *) * (size_t)nc);
        unsigned char *no;
        if (!nh) {
            if (owned) est_hook_free(h);
            return est__error(EST_ERR_OUT_OF_MEMORY, "estimator: out of memory");
        }
        s->hooks = nh;
        no = (unsigned char *)est__realloc(s->owned, (size_t)nc);
        if (!no) {
            if (owned) est_hook_free(h);
            return est__error(EST_ERR_OUT_OF_MEMORY, "estimator: out of memory");
        }
        s->owned = no;
        s->cap_hooks = nc;
    }
    s->hooks[s->n_hooks] = h;
    s->owned[s->n_hooks++] = (unsigned char)owned;
    return EST_OK;
}

/* Validate what model_fn returned for its mode, with TF's messages. */
EST_PRIVATE est_status est__check_spec(est__session *s)
{
    est_spec *sp = &s->spec;
    if (sp->mode == EST_MODE_TRAIN && (!sp->loss || !sp->train_op))
        return est__error(EST_ERR_INVALID_ARGUMENT, "EstimatorSpec: %s%s%smust be set in TRAIN mode",
                          !sp->loss ? "loss " : "", !sp->loss && !sp->train_op ? "and " : "",
                          !sp->train_op ? "train_op " : "");
    if (sp->mode == EST_MODE_EVAL && !sp->loss)
        return est__error(EST_ERR_INVALID_ARGUMENT, "EstimatorSpec: loss must be set in EVAL mode");
    if (sp->mode == EST_MODE_PREDICT && sp->n_pred == 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "EstimatorSpec: predictions must be set in PREDICT mode");
    if (sp->loss) {
        est_shape ls = est_node_shape(sp->loss);
        int64_t n = est_shape_numel(&ls);
        if (est_node_dtype(sp->loss) != EST_DTYPE_F32)
            return est__error(EST_ERR_DTYPE, "EstimatorSpec: loss '%s' must be float32, not %s", est_node_name(sp->loss),
                              est_dtype_name(est_node_dtype(sp->loss)));
        if (n != 1)
            return est__error(EST_ERR_SHAPE, "EstimatorSpec: loss '%s' must have exactly one element, its shape is %s",
                              est_node_name(sp->loss), est__sstr(&ls));
        if (ls.rank != 0) sp->loss = est_reshape(s->g, sp->loss, est_shape_scalar());
    }
    return EST_OK;
}

/* Build the graph for a mode: input, placeholders, global_step, model_fn, spec checks. */
EST_PRIVATE est_status est__session_build(est_estimator *e, est_mode mode, est_input_fn input_fn, void *user,
                                          est__session **out)
{
    est__session *s;
    est_status st;
    est_graph_desc gd;
    int i;
    *out = NULL;
    if (!input_fn) return est__error(EST_ERR_INVALID_ARGUMENT, "%s: input_fn is required", est_mode_name(mode));
    s = EST__CALLOC(est__session, 1);
    if (!s) return est__error(EST_ERR_OUT_OF_MEMORY, "estimator: out of memory");
    s->est = e;
    s->mode = mode;
    s->ctx.s = s;
    s->last_loss = NAN;
    s->label_index = -1;
    est__snprintf(s->writer_dir, sizeof s->writer_dir, "%s", e->model_dir);
    if ((st = est_var_store_new(NULL, &s->vs)) != EST_OK) goto fail;
    memset(&gd, 0, sizeof gd);
    gd.store = s->vs;
    gd.seed = e->config.tf_random_seed;
    gd.logger = e->logger;
    if ((st = est_graph_new(&gd, &s->g)) != EST_OK) goto fail;
    if ((st = input_fn(mode, e->params, user, &s->ds)) != EST_OK || !s->ds) {
        if (st == EST_OK) st = est__error(EST_ERR_INVALID_ARGUMENT, "input_fn returned no dataset");
        est__error_prefix(st, "input_fn (%s): ", est_mode_name(mode));
        goto fail;
    }
    if ((st = est_dataset_element_spec(s->ds, &s->espec)) != EST_OK) goto fail;
    if (s->espec.n > EST__MAX_COMPONENTS) {
        st = est__error(EST_ERR_OUT_OF_RANGE, "input_fn: more than %d components per element", EST__MAX_COMPONENTS);
        goto fail;
    }
    s->features.g = s->g;
    s->global_step = est_get_or_create_global_step(s->g);
    for (i = 0; i < s->espec.n; i++) {
        const char *nm = s->espec.names[i];
        int is_label = s->espec.label_key && strcmp(nm, s->espec.label_key) == 0;
        if (is_label && mode == EST_MODE_PREDICT) continue; /* labels are not fed in PREDICT */
        s->ph[i] = est_placeholder(s->g, nm, s->espec.dtypes[i], s->espec.shapes[i]);
        if (is_label) {
            s->labels = s->ph[i];
            s->label_index = i;
        } else {
            s->features.names[s->features.n] = nm;
            s->features.nodes[s->features.n++] = s->ph[i];
        }
    }
    if ((mode == EST_MODE_TRAIN || mode == EST_MODE_EVAL) && !s->labels)
        est_logf(&e->logger, EST_LOG_LEVEL_DEBUG, "input_fn gives no labels in %s mode", est_mode_name(mode));
    s->spec.mode = mode;
    s->spec.g = s->g;
    st = e->model_fn(s->g, &s->features, s->labels, mode, e->params, &e->config, &s->spec);
    if (st == EST_OK && est_graph_status(s->g) != EST_OK) {
        st = est_graph_status(s->g);
        est__error(st, "%s", est_graph_error(s->g));
    }
    if (st != EST_OK) {
        est__error_prefix(st, "model_fn (%s): ", est_mode_name(mode));
        goto fail;
    }
    if ((st = est__check_spec(s)) != EST_OK) goto fail;
    *out = s;
    return EST_OK;
fail:
    est__session_free(s);
    return st;
}

/* Restore the checkpoint (given or latest) or warm start, as TF's session creation does. */
EST_PRIVATE est_status est__session_restore(est__session *s, const char *checkpoint_path, int allow_warm_start)
{
    est_estimator *e = s->est;
    char ck[1024];
    est_status st;
    ck[0] = 0;
    if (checkpoint_path && *checkpoint_path) {
        est__snprintf(ck, sizeof ck, "%s", checkpoint_path);
    } else if (est_latest_checkpoint(e->model_dir, ck, sizeof ck) != EST_OK) {
        ck[0] = 0;
        est_clear_error();
    }
    if (ck[0]) {
        if ((st = est_checkpoint_restore(s->vs, ck, NULL)) != EST_OK)
            return est__error_prefix(st, "restoring %s: ", ck);
        est__snprintf(s->checkpoint_path, sizeof s->checkpoint_path, "%s", ck);
        est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Restoring parameters from %s", ck);
        if (e->ws_ckpt && allow_warm_start)
            est_logf(&e->logger, EST_LOG_LEVEL_INFO,
                     "Ignoring warm_start_from=%s: model_dir already holds a checkpoint (TF's rule)", e->ws_ckpt);
        return EST_OK;
    }
    if (e->ws_ckpt && allow_warm_start) {
        est_restore_args ra;
        char wck[1024];
        memset(&ra, 0, sizeof ra);
        ra.allow_missing = 1;
        ra.vars_regex = e->ws_regex ? e->ws_regex : ".*";
        ra.trainable_only = e->ws_regex == NULL; /* TF: a single regex string warm-starts trainable vars only */
        ra.name_map = (const char *const *)e->ws_renames;
        ra.n_name_map = e->n_ws_renames;
        if (est_path_exists(e->ws_ckpt) && est_latest_checkpoint(e->ws_ckpt, wck, sizeof wck) == EST_OK) {
            /* a model_dir: its latest checkpoint */
        } else {
            est_clear_error();
            est__snprintf(wck, sizeof wck, "%s", e->ws_ckpt);
        }
        if ((st = est_checkpoint_restore(s->vs, wck, &ra)) != EST_OK)
            return est__error_prefix(st, "warm start from %s: ", wck);
        est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Warm-started variables matching '%s' from %s", ra.vars_regex, wck);
        return EST_OK;
    }
    if (s->mode != EST_MODE_TRAIN)
        est_logf(&e->logger, EST_LOG_LEVEL_WARN, "Could not find trained model in model_dir: %s, running initialization "
                 "to %s.", e->model_dir, s->mode == EST_MODE_EVAL ? "evaluate" : "predict");
    return EST_OK;
}

EST_PRIVATE est_status est__session_compile(est__session *s, est_node *const *targets, int n_targets)
{
    est_plan_desc pd;
    int i;
    memset(&pd, 0, sizeof pd);
    pd.fetches = s->fetch;
    pd.n_fetches = s->n_fetch;
    pd.targets = targets;
    pd.n_targets = n_targets;
    pd.pool = s->est->pool;
    pd.kernels = s->est->kernels;
    s->n_feeds = 0;
    for (i = 0; i < s->espec.n; i++)
        if (s->ph[i]) {
            s->feeds[s->n_feeds].node = s->ph[i];
            s->feeds[s->n_feeds++].value = NULL;
        }
    return est_plan_new(s->g, &pd, &s->plan);
}

EST_PRIVATE est_status est__hooks_call(est__session *s, int which)
{
    int i;
    for (i = 0; i < s->n_hooks; i++) {
        est_hook *h = s->hooks[i];
        est_status (*fn)(est_hook *, est_run_context *) =
            which == 0 ? h->begin : which == 1 ? h->after_create_session : which == 2 ? h->before_run
            : which == 3 ? h->after_run : h->end;
        est_status st;
        if (!fn) continue;
        s->in_begin = which == 0;
        st = fn(h, &s->ctx);
        s->in_begin = 0;
        if (st != EST_OK) return est__error_prefix(st, "hook %s: ", h->name ? h->name : "(unnamed)");
    }
    return EST_OK;
}

/* Pull the next element and point the feeds at it. EST_ERR_OUT_OF_RANGE at the end. */
EST_PRIVATE est_status est__session_next(est__session *s)
{
    est_element el;
    est_status st;
    memset(&el, 0, sizeof el);
    st = est_iterator_next(s->it, &el);
    int i, f = 0;
    if (st != EST_OK) return st;
    if (el.n != s->espec.n)
        return est__error(EST_ERR_INTERNAL, "input: element has %d components, its spec %d", el.n, s->espec.n);
    for (i = 0; i < el.n; i++)
        if (s->ph[i]) s->feeds[f++].value = &el.values[i];
    return EST_OK;
}

/* One step: before_run hooks, run, after_run hooks. */
EST_PRIVATE est_status est__session_step(est__session *s)
{
    est_status st;
    s->n_extra_feeds = 0;
    if ((st = est__hooks_call(s, 2)) != EST_OK) return st;
    if ((st = est_plan_run(s->plan, s->feeds, s->n_feeds + s->n_extra_feeds, s->out)) != EST_OK) return st;
    s->local_step++;
    if (s->global_step) s->global_step_value = *(const int64_t *)s->global_step->var->data;
    return est__hooks_call(s, 3);
}

EST_PRIVATE int est__stderr_tty(const est_estimator *e)
{
#if defined(__unix__) || defined(__APPLE__)
    return e->progress_bar >= 0 && !e->logger.func && isatty(2);
#else
    (void)e;
    return 0;
#endif
}

/* A one-line progress bar with rate and ETA on a terminal; nothing otherwise (the periodic INFO
 * lines of the logging hooks serve pipes and files). */
typedef struct est__progress {
    int on;
    const char *what;
    int64_t start, total, last_shown_step;
    double t0, last_t;
} est__progress;

EST_PRIVATE void est__progress_update(est__progress *p, int64_t done, double loss, int final)
{
#ifndef EST_NO_STDIO
    double now, rate, eta;
    char bar[31];
    int i, fill;
    if (!p->on) return;
    now = est_time_now();
    if (!final && now - p->last_t < 0.2) return;
    p->last_t = now;
    rate = (double)(done - p->start) / (now - p->t0 > 1e-9 ? now - p->t0 : 1e-9);
    fill = p->total > 0 ? (int)(30.0 * (double)(done - p->start) / (double)(p->total > p->start ? p->total - p->start : 1)) : 0;
    for (i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[30] = 0;
    eta = (p->total > 0 && rate > 0) ? (double)(p->total - done) / rate : -1;
    if (p->total > 0)
        fprintf(stderr, "\r%s [%s] %lld/%lld %.1f/s ETA %d:%02d", p->what, bar, (long long)done, (long long)p->total,
                rate, eta >= 0 ? (int)(eta / 60) : 0, eta >= 0 ? (int)eta % 60 : 0);
    else
        fprintf(stderr, "\r%s %lld %.1f/s", p->what, (long long)done, rate);
    if (!isnan(loss)) fprintf(stderr, " loss %.4g", loss);
    fprintf(stderr, "\033[K%s", final ? "\n" : "");
    fflush(stderr);
#else
    (void)p;
    (void)done;
    (void)loss;
    (void)final;
#endif
}

/* ---- train ---- */

EST_PRIVATE int64_t est__checkpoint_step(const char *path)
{
    const char *d = strrchr(path, '-');
    return d ? (int64_t)strtoll(d + 1, NULL, 10) : -1;
}

EST_API est_status est_estimator_train(est_estimator *e, const est_train_args *args, est_train_result *result)
{
    est__session *s = NULL;
    est_status st;
    est_hook *h;
    char ck[1024];
    int i, loss_h = -1;
    int64_t last_step = -1;
    est__progress prog;
    est_train_result res;
    memset(&res, 0, sizeof res);
    res.loss = NAN;
    if (result) *result = res;
    if (!e || !args) return est__error(EST_ERR_INVALID_ARGUMENT, "train: NULL estimator or args");
    if (args->steps && args->max_steps)
        return est__error(EST_ERR_INVALID_ARGUMENT, "train: can not provide both steps and max_steps");
    if (args->steps < 0) return est__error(EST_ERR_INVALID_ARGUMENT, "train: steps must be > 0, given %lld", (long long)args->steps);
    if (args->max_steps < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "train: max_steps must be > 0, given %lld", (long long)args->max_steps);
    if (strcmp(e->config.task_type, "evaluator") == 0 || strcmp(e->config.task_type, "ps") == 0)
        return est__error(EST_ERR_FAILED_PRECONDITION, "train: a '%s' task does not train", e->config.task_type);
    if (args->max_steps > 0 && est_latest_checkpoint(e->model_dir, ck, sizeof ck) == EST_OK) {
        int64_t step = est__checkpoint_step(ck);
        if (step >= args->max_steps) {
            est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Skipping training since max_steps has already saved.");
            res.skipped = 1;
            res.global_step = step;
            if (result) *result = res;
            return EST_OK;
        }
    }
    est_clear_error();
    if ((st = est__session_build(e, EST_MODE_TRAIN, args->input_fn, args->input_user_data, &s)) != EST_OK) return st;
    /* fetch 0: loss; fetch 1: global_step */
    s->fetch[s->n_fetch++] = s->spec.loss;
    s->fetch[s->n_fetch++] = s->global_step;
    loss_h = 0;
    /* Hooks in TF's order: chief hooks (checkpoint saver, spec chief hooks, step counter, summary
     * saver), then worker hooks (user hooks, stop-at-step, NaN, logging, spec training hooks). */
    if (e->config.is_chief) {
        if (e->config.save_checkpoints_secs > 0 || e->config.save_checkpoints_steps > 0) {
            est_checkpoint_saver_hook_desc cd;
            memset(&cd, 0, sizeof cd);
            cd.checkpoint_dir = e->model_dir;
            cd.save_secs = e->config.save_checkpoints_secs > 0 ? e->config.save_checkpoints_secs : 0;
            cd.save_steps = e->config.save_checkpoints_steps > 0 ? e->config.save_checkpoints_steps : 0;
            cd.keep_checkpoint_max = e->config.keep_checkpoint_max;
            cd.keep_checkpoint_every_n_hours = e->config.keep_checkpoint_every_n_hours;
            cd.listeners = args->saving_listeners;
            cd.n_listeners = args->n_saving_listeners;
            cd.iterator_state = 1;
            if ((st = est_checkpoint_saver_hook_new(&cd, &h)) != EST_OK ||
                (st = est__session_add_hook(s, h, 1)) != EST_OK)
                goto done;
        } else if (args->n_saving_listeners > 0) {
            st = est__error(EST_ERR_INVALID_ARGUMENT, "train: saving_listeners need checkpoint saving "
                            "(set save_checkpoints_secs or save_checkpoints_steps)");
            goto done;
        }
        for (i = 0; i < s->spec.n_hooks[EST_HOOKS_TRAINING_CHIEF]; i++)
            if ((st = est__session_add_hook(s, s->spec.hooks[EST_HOOKS_TRAINING_CHIEF][i], 1)) != EST_OK) goto done;
        if (e->config.log_step_count_steps > 0) {
            if ((st = est_step_counter_hook_new(e->config.log_step_count_steps, 0, &h)) != EST_OK ||
                (st = est__session_add_hook(s, h, 1)) != EST_OK)
                goto done;
        }
        if (e->config.save_summary_steps > 0) {
            if ((st = est_summary_saver_hook_new(e->config.save_summary_steps, 0, &h)) != EST_OK ||
                (st = est__session_add_hook(s, h, 1)) != EST_OK)
                goto done;
        }
    }
    for (i = 0; i < args->n_hooks; i++)
        if ((st = est__session_add_hook(s, args->hooks[i], 0)) != EST_OK) goto done;
    if (args->steps > 0 || args->max_steps > 0) {
        if ((st = est_stop_at_step_hook_new(args->steps, args->max_steps, &h)) != EST_OK ||
            (st = est__session_add_hook(s, h, 1)) != EST_OK)
            goto done;
    }
    if ((st = est_nan_tensor_hook_new(NULL, 1, &h)) != EST_OK || (st = est__session_add_hook(s, h, 1)) != EST_OK) goto done;
    if (e->config.log_step_count_steps > 0) {
        if ((st = est_loss_logging_hook_new(e->config.log_step_count_steps, &h)) != EST_OK ||
            (st = est__session_add_hook(s, h, 1)) != EST_OK)
            goto done;
    }
    for (i = 0; i < s->spec.n_hooks[EST_HOOKS_TRAINING]; i++)
        if ((st = est__session_add_hook(s, s->spec.hooks[EST_HOOKS_TRAINING][i], 1)) != EST_OK) goto done;
    s->spec.n_hooks[EST_HOOKS_TRAINING] = s->spec.n_hooks[EST_HOOKS_TRAINING_CHIEF] = 0; /* moved */

    if ((st = est__hooks_call(s, 0)) != EST_OK) goto done;
    if ((st = est__session_compile(s, &s->spec.train_op, 1)) != EST_OK) goto done;
    if ((st = est__session_restore(s, NULL, 1)) != EST_OK) goto done;
    s->global_step_value = *(const int64_t *)s->global_step->var->data;
    if ((st = est_dataset_make_iterator(s->ds, &s->it)) != EST_OK) goto done;
    est_plan_set_step(s->plan, (uint64_t)s->global_step_value); /* dropout masks follow the global step */
    if (s->checkpoint_path[0]) {
        /* resume the input where the checkpoint left it, when the dataset can */
        est_checkpoint_info *info = NULL;
        const char *state;
        if (est_checkpoint_read_meta(s->checkpoint_path, &info) == EST_OK &&
            (state = est_checkpoint_info_get(info, "iterator_state")) != NULL && *state) {
            void *blob = NULL;
            size_t blen = 0;
            if (est_base64_decode(state, strlen(state), &blob, &blen) == EST_OK &&
                est_iterator_restore(s->it, blob, blen) == EST_OK)
                est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Restored the input iterator's position from %s", s->checkpoint_path);
            else
                est_logf(&e->logger, EST_LOG_LEVEL_WARN, "Could not restore the input iterator from %s (%s); "
                         "reading the input from its start", s->checkpoint_path, est_last_error());
            est__free(blob);
        }
        est_free(info);
        est_clear_error();
    }
    if ((st = est__hooks_call(s, 1)) != EST_OK) goto done;
    last_step = args->max_steps > 0 ? args->max_steps : args->steps > 0 ? s->global_step_value + args->steps : -1;
    memset(&prog, 0, sizeof prog);
    prog.on = est__stderr_tty(e);
    prog.what = "train";
    prog.start = s->global_step_value;
    prog.total = last_step;
    prog.t0 = prog.last_t = est_time_now();
    while (!s->stop) {
        st = est__session_next(s);
        if (st == EST_ERR_OUT_OF_RANGE) {
            est_clear_error();
            st = EST_OK;
            break; /* end of input ends training; end hooks still run */
        }
        if (st != EST_OK) goto done;
        if ((st = est__session_step(s)) != EST_OK) goto done; /* NaN, hook errors: no end hooks (TF) */
        s->last_loss = ((const float *)s->out[loss_h].data)[0];
        est__progress_update(&prog, s->global_step_value, s->last_loss, 0);
    }
    est__progress_update(&prog, s->global_step_value, s->last_loss, 1);
    if ((st = est__hooks_call(s, 4)) != EST_OK) goto done;
    if (s->local_step == 0) est_logf(&e->logger, EST_LOG_LEVEL_WARN, "Training with estimator made no steps. "
                                     "Perhaps input is empty or misspecified.");
    est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Loss for final step: %g.", s->last_loss);
    res.loss = s->last_loss;
    res.global_step = s->global_step_value;
    res.steps_run = s->local_step;
done:
    if (s && s->writer) est_event_writer_flush(s->writer);
    est__session_free(s);
    if (result) *result = res;
    return st;
}

/* ---- evaluate ---- */

EST_API double est_eval_result_get(const est_eval_result *r, const char *name)
{
    int i;
    if (!r || !name) return NAN;
    if (strcmp(name, "global_step") == 0) return (double)r->global_step;
    for (i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0) return r->values[i];
    return NAN;
}

/* Sort metric indices by name: TF groups the update ops in sorted name order. */
EST_PRIVATE void est__sort_names(const char **names, int *idx, int n)
{
    int i, j;
    for (i = 0; i < n; i++) idx[i] = i;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(names[idx[j - 1]], names[idx[j]]) > 0; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

EST_API est_status est_estimator_evaluate(est_estimator *e, const est_eval_args *args, est_eval_result *result)
{
    est__session *s = NULL;
    est_status st;
    est_plan *vplan = NULL;
    est_node *targets[EST__SPEC_MAX], *values[EST__SPEC_MAX + 1];
    est_tensor vout[EST__SPEC_MAX + 1];
    int order[EST__SPEC_MAX], i, n_m;
    est_metric_args ma;
    est_metric lossm;
    est_eval_result res;
    est__progress prog;
    char dir[1100];
    est_hook *h;
    memset(&res, 0, sizeof res);
    res.loss = NAN;
    if (result) *result = res;
    if (!e || !args) return est__error(EST_ERR_INVALID_ARGUMENT, "evaluate: NULL estimator or args");
    if (args->steps < 0) return est__error(EST_ERR_INVALID_ARGUMENT, "evaluate: steps must be > 0, given %lld", (long long)args->steps);
    if ((st = est__session_build(e, EST_MODE_EVAL, args->input_fn, args->input_user_data, &s)) != EST_OK) return st;
    est_estimator_eval_dir(e, args->name, s->writer_dir, sizeof s->writer_dir);
    /* the estimator's own metric: loss = mean of the batch losses */
    memset(&ma, 0, sizeof ma);
    ma.name = "mean_loss";
    lossm = est_metrics_mean(s->g, s->spec.loss, &ma);
    if (!lossm.value) {
        st = est_graph_status(s->g);
        goto done;
    }
    s->fetch[s->n_fetch++] = s->spec.loss;
    s->fetch[s->n_fetch++] = s->global_step;
    for (i = 0; i < args->n_hooks; i++)
        if ((st = est__session_add_hook(s, args->hooks[i], 0)) != EST_OK) goto done;
    if (args->steps > 0) {
        if ((st = est_stop_after_n_evals_hook_new(args->steps, &h)) != EST_OK || (st = est__session_add_hook(s, h, 1)) != EST_OK)
            goto done;
    }
    for (i = 0; i < s->spec.n_hooks[EST_HOOKS_EVALUATION]; i++)
        if ((st = est__session_add_hook(s, s->spec.hooks[EST_HOOKS_EVALUATION][i], 1)) != EST_OK) goto done;
    s->spec.n_hooks[EST_HOOKS_EVALUATION] = 0;
    if ((st = est__hooks_call(s, 0)) != EST_OK) goto done;
    n_m = s->spec.n_metrics;
    est__sort_names(s->spec.metric_names, order, n_m);
    for (i = 0; i < n_m; i++) targets[i] = s->spec.metrics[order[i]].update_op;
    targets[n_m] = lossm.update_op;
    if ((st = est__session_compile(s, targets, n_m + 1)) != EST_OK) goto done;
    {
        est_plan_desc pd;
        for (i = 0; i < n_m; i++) values[i] = s->spec.metrics[order[i]].value;
        values[n_m] = lossm.value;
        memset(&pd, 0, sizeof pd);
        pd.fetches = values;
        pd.n_fetches = n_m + 1;
        pd.pool = e->pool;
        pd.kernels = e->kernels;
        if ((st = est_plan_new(s->g, &pd, &vplan)) != EST_OK) goto done;
    }
    if ((st = est__session_restore(s, args->checkpoint_path, args->checkpoint_path == NULL)) != EST_OK) goto done;
    s->global_step_value = *(const int64_t *)s->global_step->var->data;
    if ((st = est_metric_reset_all(s->vs)) != EST_OK) goto done; /* each evaluate starts from zero */
    if ((st = est_dataset_make_iterator(s->ds, &s->it)) != EST_OK) goto done;
    if (args->steps == 0 && est_dataset_cardinality(s->ds) == EST_CARDINALITY_INFINITE)
        est_logf(&e->logger, EST_LOG_LEVEL_WARN, "evaluate: the input repeats forever and steps is not set: evaluation "
                 "will never end. Set steps or use a finite input.");
    if ((st = est__hooks_call(s, 1)) != EST_OK) goto done;
    est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Starting evaluation at global step %lld", (long long)s->global_step_value);
    memset(&prog, 0, sizeof prog);
    prog.on = est__stderr_tty(e);
    prog.what = "evaluate";
    prog.total = args->steps > 0 ? args->steps : -1;
    prog.t0 = prog.last_t = est_time_now();
    while (!s->stop) {
        st = est__session_next(s);
        if (st == EST_ERR_OUT_OF_RANGE) {
            est_clear_error();
            st = EST_OK;
            break;
        }
        if (st != EST_OK) goto done;
        if ((st = est__session_step(s)) != EST_OK) goto done;
        est__progress_update(&prog, s->local_step, NAN, 0);
        if (args->steps > 0 && (s->local_step % (args->steps / 10 > 0 ? args->steps / 10 : 1)) == 0 && !prog.on)
            est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Evaluation [%lld/%lld]", (long long)s->local_step, (long long)args->steps);
    }
    est__progress_update(&prog, s->local_step, NAN, 1);
    if ((st = est__hooks_call(s, 4)) != EST_OK) goto done;
    if ((st = est_plan_run(vplan, NULL, 0, vout)) != EST_OK) goto done;
    for (i = 0; i < n_m && res.n < EST_EVAL_MAX_METRICS - 1; i++) {
        est__snprintf(res.names[res.n], sizeof res.names[0], "%s", s->spec.metric_names[order[i]]);
        res.values[res.n++] = est_tensor_numel(&vout[i]) > 0 ? est_tensor_get(&vout[i], 0) : NAN;
    }
    res.loss = est_tensor_get(&vout[n_m], 0);
    est__snprintf(res.names[res.n], sizeof res.names[0], "loss");
    res.values[res.n++] = res.loss;
    res.global_step = s->global_step_value;
    est__snprintf(res.checkpoint_path, sizeof res.checkpoint_path, "%s", s->checkpoint_path);
    {
        /* one event at the evaluated step, into model_dir/eval[_name] */
        est_event_writer *w = NULL;
        char line[2048];
        size_t len = 0;
        if ((st = est_run_context_event_writer(&s->ctx, &w)) != EST_OK) goto done;
        const char *tags[EST_EVAL_MAX_METRICS];
        float vals[EST_EVAL_MAX_METRICS];
        for (i = 0; i < res.n; i++) {
            tags[i] = res.names[i];
            vals[i] = (float)res.values[i];
        }
        st = est_event_writer_add_scalars(w, res.global_step, tags, vals, res.n); /* one Event, as TF */
        if (st == EST_OK) st = est_event_writer_flush(w);
        if (st != EST_OK) goto done;
        for (i = 0; i < res.n && len + 64 < sizeof line; i++)
            len += (size_t)est__snprintf(line + len, sizeof line - len, "%s%s = %g", i ? ", " : "", res.names[i], res.values[i]);
        est_logf(&e->logger, EST_LOG_LEVEL_INFO, "Saving dict for global step %lld: %s, global_step = %lld",
                 (long long)res.global_step, line, (long long)res.global_step);
    }
    (void)dir;
done:
    est_plan_free(vplan);
    est__session_free(s);
    if (st == EST_OK && result) *result = res;
    return st;
}

/* ---- predict ---- */

struct est_predictor {
    est__session *s;
    est__progress prog;
    int n_keys;
    const char *keys[EST__SPEC_MAX];
    int fetch_of[EST__SPEC_MAX];
    est_tensor views[EST__SPEC_MAX];
    int64_t batch, pos;
    int yield_batches, have;
};

EST_PRIVATE int est__spec_same(const est_element_spec *a, const est_element_spec *b)
{
    int i;
    if (a->n != b->n) return 0;
    for (i = 0; i < a->n; i++)
        if (strcmp(a->names[i], b->names[i]) != 0 || a->dtypes[i] != b->dtypes[i] || !est_shape_equal(&a->shapes[i], &b->shapes[i]))
            return 0;
    return 1;
}

EST_API est_status est_estimator_predict(est_estimator *e, const est_predict_args *args, est_predictor **out)
{
    est_predictor *p;
    est__session *s;
    est_status st;
    char ck[1024];
    int i, j;
    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "predict: out is NULL");
    *out = NULL;
    if (!e || !args) return est__error(EST_ERR_INVALID_ARGUMENT, "predict: NULL estimator or args");
    ck[0] = 0;
    if (args->checkpoint_path) est__snprintf(ck, sizeof ck, "%s", args->checkpoint_path);
    else if (est_latest_checkpoint(e->model_dir, ck, sizeof ck) != EST_OK) ck[0] = 0;
    est_clear_error();
    s = e->pred;
    if (s && args->n_hooks > 0) { /* user hooks join a fresh session (their begin() may add fetches) */
        est__session_free(s);
        e->pred = s = NULL;
    }
    if (s) {
        /* keep the warm graph when the input looks the same; always a fresh input iterator */
        est_dataset *ds = NULL;
        est_element_spec sp;
        memset(&sp, 0, sizeof sp);
        if ((st = args->input_fn(EST_MODE_PREDICT, e->params, args->input_user_data, &ds)) != EST_OK)
            return est__error_prefix(st, "input_fn (infer): ");
        if (est_dataset_element_spec(ds, &sp) == EST_OK && est__spec_same(&sp, &s->espec)) {
            est_iterator_free(s->it);
            s->it = NULL;
            est_dataset_free(s->ds);
            s->ds = ds;
            est_dataset_element_spec(ds, &s->espec);
        } else {
            est_dataset_free(ds);
            est__session_free(s);
            e->pred = s = NULL;
        }
    }
    if (!s) {
        est_node *fetch[EST__SPEC_MAX];
        if ((st = est__session_build(e, EST_MODE_PREDICT, args->input_fn, args->input_user_data, &s)) != EST_OK) return st;
        for (i = 0; i < s->spec.n_pred; i++) fetch[i] = s->spec.preds[i];
        for (i = 0; i < s->spec.n_pred; i++) s->fetch[s->n_fetch++] = fetch[i];
        for (i = 0; i < args->n_hooks; i++)
            if ((st = est__session_add_hook(s, args->hooks[i], 0)) != EST_OK) {
                est__session_free(s);
                return st;
            }
        for (i = 0; i < s->spec.n_hooks[EST_HOOKS_PREDICTION]; i++)
            if ((st = est__session_add_hook(s, s->spec.hooks[EST_HOOKS_PREDICTION][i], 1)) != EST_OK) {
                est__session_free(s);
                return st;
            }
        s->spec.n_hooks[EST_HOOKS_PREDICTION] = 0;
        if ((st = est__hooks_call(s, 0)) != EST_OK || (st = est__session_compile(s, NULL, 0)) != EST_OK) {
            est__session_free(s);
            return st;
        }
        s->checkpoint_path[0] = 1; /* force the restore below */
        s->checkpoint_path[1] = 0;
        e->pred = s;
    }
    if (strcmp(s->checkpoint_path, ck) != 0) {
        s->checkpoint_path[0] = 0;
        if ((st = est__session_restore(s, args->checkpoint_path, args->checkpoint_path == NULL)) != EST_OK) {
            est__session_free(s);
            e->pred = NULL;
            return st;
        }
    }
    if ((st = est_dataset_make_iterator(s->ds, &s->it)) != EST_OK) return st;
    p = EST__CALLOC(est_predictor, 1);
    if (!p) return est__error(EST_ERR_OUT_OF_MEMORY, "predict: out of memory");
    p->s = s;
    p->yield_batches = args->yield_batches;
    if (args->n_predict_keys > 0) {
        for (j = 0; j < args->n_predict_keys; j++) {
            int found = -1;
            for (i = 0; i < s->spec.n_pred; i++)
                if (strcmp(s->spec.pred_keys[i], args->predict_keys[j]) == 0) found = i;
            if (found < 0) continue; /* TF ignores unknown keys as long as one matches */
            p->keys[p->n_keys] = s->spec.pred_keys[found];
            p->fetch_of[p->n_keys++] = found;
        }
        if (p->n_keys == 0) {
            est__free(p);
            return est__error(EST_ERR_INVALID_ARGUMENT, "predict: none of the predict_keys matches a prediction key");
        }
    } else {
        for (i = 0; i < s->spec.n_pred; i++) {
            p->keys[p->n_keys] = s->spec.pred_keys[i];
            p->fetch_of[p->n_keys++] = i;
        }
    }
    s->stop = 0;
    s->local_step = 0;
    p->prog.on = est__stderr_tty(e);
    p->prog.what = "predict";
    p->prog.total = -1;
    p->prog.t0 = p->prog.last_t = est_time_now();
    if ((st = est__hooks_call(s, 1)) != EST_OK) {
        est__free(p);
        return st;
    }
    *out = p;
    return EST_OK;
}

EST_API est_status est_predictor_next(est_predictor *p, est_prediction *out)
{
    est__session *s;
    est_status st;
    int i;
    if (!p || !out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_predictor_next: NULL argument");
    s = p->s;
    if (!p->have || p->yield_batches || p->pos >= p->batch) {
        if (s->stop) return est__error(EST_ERR_OUT_OF_RANGE, "predict: stopped by a hook");
        st = est__session_next(s);
        if (st == EST_ERR_OUT_OF_RANGE) {
            est__progress_update(&p->prog, s->local_step, NAN, 1);
            est__hooks_call(s, 4);
            return est__error(EST_ERR_OUT_OF_RANGE, "predict: end of input");
        }
        if (st != EST_OK || (st = est__session_step(s)) != EST_OK) return st;
        est__progress_update(&p->prog, s->local_step, NAN, 0);
        p->batch = -1;
        for (i = 0; i < p->n_keys; i++) {
            const est_tensor *t = &s->out[p->fetch_of[i]];
            int64_t b = t->shape.rank > 0 ? t->shape.dims[0] : 1;
            if (!p->yield_batches) {
                if (t->shape.rank == 0)
                    return est__error(EST_ERR_SHAPE, "predict: prediction '%s' is a scalar; single examples need a batch "
                                      "dimension (use yield_batches)", p->keys[i]);
                if (p->batch >= 0 && b != p->batch)
                    return est__error(EST_ERR_SHAPE, "predict: batch length of predictions should be the same: '%s' has "
                                      "%lld, '%s' has %lld", p->keys[0], (long long)p->batch, p->keys[i], (long long)b);
            }
            p->batch = b;
        }
        p->pos = 0;
        p->have = 1;
    }
    for (i = 0; i < p->n_keys; i++) {
        const est_tensor *t = &s->out[p->fetch_of[i]];
        if (p->yield_batches) {
            p->views[i] = *t;
        } else {
            /* a view of example pos: drop the batch dimension, no copy */
            int64_t per = t->shape.dims[0] ? est_tensor_numel(t) / t->shape.dims[0] : 0;
            int d;
            p->views[i] = *t;
            p->views[i].shape.rank = t->shape.rank - 1;
            for (d = 1; d < t->shape.rank; d++) p->views[i].shape.dims[d - 1] = t->shape.dims[d];
            p->views[i].data = (char *)t->data + (size_t)(p->pos * per) * est_dtype_size(t->dtype);
            p->views[i].nbytes = (size_t)per * est_dtype_size(t->dtype);
        }
    }
    p->pos++;
    out->n = p->n_keys;
    out->keys = p->keys;
    out->values = p->views;
    return EST_OK;
}

EST_API void est_predictor_free(est_predictor *p)
{
    if (!p) return;
    if (p->s) {
        est_iterator_free(p->s->it); /* the session stays warm in the estimator */
        p->s->it = NULL;
    }
    est__free(p);
}

/* ---- train_and_evaluate ---- */

typedef struct est__tae {
    est_checkpoint_saver_listener l;
    est_estimator *est;
    const est_eval_spec *es;
    int64_t max_steps;
    int saves;
    double last_eval_time;
    char last_evaluated[1024];
    est_eval_result last;
    int have_last;
    est_status error;
} est__tae;

EST_PRIVATE est_status est__tae_evaluate(est__tae *t, const char *ckpt, int final)
{
    est_eval_args ea;
    est_status st;
    int i;
    char path[1200];
    memset(&ea, 0, sizeof ea);
    ea.input_fn = t->es->input_fn;
    ea.input_user_data = t->es->input_user_data;
    ea.steps = t->es->steps == 0 ? 100 : (t->es->steps < 0 ? 0 : t->es->steps);
    ea.hooks = t->es->hooks;
    ea.n_hooks = t->es->n_hooks;
    ea.checkpoint_path = ckpt;
    ea.name = t->es->name;
    if ((st = est_estimator_evaluate(t->est, &ea, &t->last)) != EST_OK) return st;
    t->have_last = 1;
    t->last_eval_time = est_time_now();
    est__snprintf(t->last_evaluated, sizeof t->last_evaluated, "%s", ckpt);
    for (i = 0; i < t->es->n_exporters; i++) {
        est_exporter *x = t->es->exporters[i];
        int is_final = t->max_steps > 0 && t->last.global_step >= t->max_steps;
        est__snprintf(path, sizeof path, "%s/export/%s", t->est->model_dir, x->name);
        if (x->export_fn && (st = x->export_fn(x, t->est, path, ckpt, &t->last, is_final)) != EST_OK)
            return est__error_prefix(st, "exporter %s: ", x->name);
    }
    (void)final;
    return EST_OK;
}

EST_PRIVATE est_status est__tae_after_save(est_checkpoint_saver_listener *l, int64_t step, const char *ckpt, int *stop)
{
    est__tae *t = (est__tae *)l->user_data;
    double throttle = t->es->throttle_secs > 0 ? t->es->throttle_secs : t->es->throttle_secs < 0 ? 0 : 600;
    (void)step;
    (void)stop;
    if (t->saves++ == 0) return EST_OK; /* the save at session start is not evaluated (TF) */
    if (t->last_eval_time > 0 && est_time_now() - t->last_eval_time < throttle) {
        est_logf(&t->est->logger, EST_LOG_LEVEL_INFO, "Skip the current checkpoint eval due to throttle secs (%g secs).", throttle);
        return EST_OK;
    }
    if (strcmp(t->last_evaluated, ckpt) == 0) {
        est_logf(&t->est->logger, EST_LOG_LEVEL_INFO, "No new checkpoint ready for evaluation.");
        return EST_OK;
    }
    return est__tae_evaluate(t, ckpt, 0);
}

EST_PRIVATE est_status est__tae_end(est_checkpoint_saver_listener *l, int64_t step, const char *ckpt)
{
    est__tae *t = (est__tae *)l->user_data;
    (void)step;
    if (!ckpt || !*ckpt || strcmp(t->last_evaluated, ckpt) == 0) return EST_OK;
    return est__tae_evaluate(t, ckpt, 1); /* the final evaluation and export */
}

EST_API est_status est_train_and_evaluate(est_estimator *e, const est_train_spec *ts, const est_eval_spec *es,
                                          est_eval_result *last)
{
    est__tae t;
    est_train_args ta;
    est_checkpoint_saver_listener *ls[64];
    est_status st;
    int i, j;
    if (!e || !ts || !es) return est__error(EST_ERR_INVALID_ARGUMENT, "train_and_evaluate: NULL argument");
    if (ts->max_steps < 0) return est__error(EST_ERR_INVALID_ARGUMENT, "TrainSpec: max_steps must be > 0 or 0 (unset)");
    if (es->start_delay_secs < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "EvalSpec: start_delay_secs must be >= 0");
    for (i = 0; i < es->n_exporters; i++) {
        if (!es->exporters[i] || !es->exporters[i]->name || !*es->exporters[i]->name)
            return est__error(EST_ERR_INVALID_ARGUMENT, "EvalSpec: exporter %d has no name", i);
        for (j = 0; j < i; j++)
            if (strcmp(es->exporters[i]->name, es->exporters[j]->name) == 0)
                return est__error(EST_ERR_INVALID_ARGUMENT, "EvalSpec: exporter names must be unique: '%s' twice",
                                  es->exporters[i]->name);
    }
    if (strcmp(e->config.task_type, "evaluator") == 0 || e->config.n_jobs > 0)
        return est__error(EST_ERR_UNIMPLEMENTED, "train_and_evaluate: only the local mode is supported (task '%s' in a "
                          "cluster)", e->config.task_type);
    if (!(e->config.save_checkpoints_secs > 0 || e->config.save_checkpoints_steps > 0))
        return est__error(EST_ERR_INVALID_ARGUMENT, "train_and_evaluate: evaluation follows checkpoint saves, so "
                          "RunConfig must set save_checkpoints_steps or save_checkpoints_secs");
    if (ts->n_saving_listeners > 62) return est__error(EST_ERR_OUT_OF_RANGE, "train_and_evaluate: too many listeners");
    memset(&t, 0, sizeof t);
    t.est = e;
    t.es = es;
    t.max_steps = ts->max_steps;
    t.l.user_data = &t;
    t.l.after_save = est__tae_after_save;
    t.l.end = est__tae_end;
    for (i = 0; i < ts->n_saving_listeners; i++) ls[i] = ts->saving_listeners[i];
    ls[ts->n_saving_listeners] = &t.l;
    memset(&ta, 0, sizeof ta);
    ta.input_fn = ts->input_fn;
    ta.input_user_data = ts->input_user_data;
    ta.hooks = ts->hooks;
    ta.n_hooks = ts->n_hooks;
    ta.max_steps = ts->max_steps;
    ta.saving_listeners = ls;
    ta.n_saving_listeners = ts->n_saving_listeners + 1;
    st = est_estimator_train(e, &ta, NULL);
    if (st == EST_OK && last && t.have_last) *last = t.last;
    return st;
}

#endif /* EST_NO_STDIO */
