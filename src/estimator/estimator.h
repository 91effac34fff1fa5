/* >>estimator/api: the Estimator: model_fn and input_fn, EstimatorSpec, session hooks, train,
 * evaluate, predict and train_and_evaluate. TF counterpart: tf.estimator.Estimator, EstimatorSpec,
 * ModeKeys, SessionRunHook, TrainSpec/EvalSpec/train_and_evaluate. */

#ifndef EST_NO_STDIO /* the Estimator keeps its model_dir on a file system */
EST__EXTERN_C_BEGIN

typedef struct est_estimator est_estimator;
typedef struct est_features est_features;
typedef struct est_spec est_spec;
typedef struct est_run_context est_run_context;
typedef struct est_hook est_hook;

/* tf.estimator.ModeKeys; est_mode_name gives TF's strings "train", "eval", "infer". */
typedef enum est_mode {
    EST_MODE_DEFAULT = 0, /* invalid */
    EST_MODE_TRAIN,
    EST_MODE_EVAL,
    EST_MODE_PREDICT,
    EST_MODE_COUNT,
    EST_MODE_FORCE_U32 = 0x7FFFFFFF
} est_mode;
EST_API const char *est_mode_name(est_mode mode);

/* ---- model_fn and input_fn ------------------------------------------------------------------
 * input_fn returns a dataset whose elements are the features (named components) and, in TRAIN and
 * EVAL, the labels (the component named by the dataset's label key). It is called again, and the
 * iterator re-created, on every train/evaluate/predict call, as TF does.
 * model_fn builds the graph for one mode into g from the feature nodes (placeholders named like the
 * components, with a dynamic batch) and fills spec. labels is NULL in PREDICT. It returns EST_OK or
 * an error (e.g. est_graph_status(g)); the estimator also checks the graph's sticky error. */
typedef est_status (*est_input_fn)(est_mode mode, const est_params *params, void *user_data,
                                   est_dataset **out);
typedef est_status (*est_model_fn)(est_graph *g, const est_features *features, est_node *labels,
                                   est_mode mode, const est_params *params,
                                   const est_run_config *config, est_spec *spec);

/* Features by name (TF's features dict). est_features_get records a sticky graph error naming the
 * missing key and the available ones when absent. */
EST_API est_node *est_features_get(const est_features *f, const char *name);
EST_API int est_features_count(const est_features *f);
EST_API const char *est_features_name(const est_features *f, int index);
EST_API est_node *est_features_at(const est_features *f, int index);

/* ---- EstimatorSpec ----------------------------------------------------------------------------
 * Required per mode, as TF: TRAIN needs loss and train_op, EVAL needs loss, PREDICT needs
 * predictions. loss must have one element. The estimator validates the spec after model_fn and
 * fails with a message naming what is missing. Hooks added to a spec are owned by the estimator
 * from then on (freed with est_hook_free after the call). */
typedef enum est_hook_list {
    EST_HOOKS_DEFAULT = 0, /* training hooks */
    EST_HOOKS_TRAINING,
    EST_HOOKS_TRAINING_CHIEF,
    EST_HOOKS_EVALUATION,
    EST_HOOKS_PREDICTION,
    EST_HOOKS_COUNT,
    EST_HOOKS_FORCE_U32 = 0x7FFFFFFF
} est_hook_list;

EST_API est_mode est_spec_mode(const est_spec *spec);
EST_API void est_spec_set_loss(est_spec *spec, est_node *loss);
EST_API void est_spec_set_train_op(est_spec *spec, est_node *train_op);
/* predictions["key"] = node (a single unnamed prediction uses the key "output", as TF). */
EST_API est_status est_spec_add_prediction(est_spec *spec, const char *key, est_node *node);
/* eval_metric_ops["name"] = metric; "loss" and "global_step" are reserved, as TF. */
EST_API est_status est_spec_add_metric(est_spec *spec, const char *name, est_metric metric);
EST_API est_status est_spec_add_hook(est_spec *spec, est_hook_list which, est_hook *hook);
EST_API est_node *est_spec_loss(const est_spec *spec);
EST_API int est_spec_num_predictions(const est_spec *spec);
EST_API est_node *est_spec_prediction(const est_spec *spec, int index, const char **key);

/* ---- export_outputs (serving signatures; written by the export module, issue 6) ---------------
 * tf.estimator.export.PredictOutput / ClassificationOutput / RegressionOutput, stored in the spec
 * under a signature key and read by est_estimator_export_saved_model (serving/export.h explains
 * the signature rules: defaults, aliasing, when classify/regress signatures are kept). TF's checks
 * are made here: PREDICT needs at least one output; CLASSIFICATION needs classes (string) and/or
 * scores (float32); REGRESSION needs value (float32). Nodes and keys are copied into the spec. */
typedef enum est_export_output_kind {
    EST_EXPORT_OUTPUT_DEFAULT = 0, /* PREDICT */
    EST_EXPORT_OUTPUT_PREDICT,
    EST_EXPORT_OUTPUT_CLASSIFICATION,
    EST_EXPORT_OUTPUT_REGRESSION,
    EST_EXPORT_OUTPUT_COUNT,
    EST_EXPORT_OUTPUT_FORCE_U32 = 0x7FFFFFFF
} est_export_output_kind;

typedef struct est_export_output {
    est_export_output_kind kind;
    /* PREDICT: outputs[keys[i]] = nodes[i]; n 0 with one node in nodes[0] is TF's single tensor,
       keyed "output" */
    const char *const *keys;
    est_node *const *nodes;
    int n;
    est_node *classes, *scores; /* CLASSIFICATION */
    est_node *value;            /* REGRESSION */
} est_export_output;

/* export_outputs[signature_key] = output (a key given twice is an error). */
EST_API est_status est_spec_add_export_output(est_spec *spec, const char *signature_key, const est_export_output *output);

/* ---- Session hooks (tf.estimator.SessionRunHook) ---------------------------------------------
 * Lifecycle, as TF: begin (the graph can still grow; request tensors here), after_create_session
 * (variables restored or initialized), then per step before_run / after_run, then end. A callback
 * that returns an error stops the loop with that error. When the input ends, that step's after_run
 * is not called but end is; request_stop ends the loop after the current step. Hooks run in the
 * order given: user hooks, then the built-in ones TF adds, then the spec's hooks. */
struct est_hook {
    const char *name;
    void *user_data;
    est_status (*begin)(est_hook *hook, est_run_context *ctx);
    est_status (*after_create_session)(est_hook *hook, est_run_context *ctx);
    est_status (*before_run)(est_hook *hook, est_run_context *ctx);
    est_status (*after_run)(est_hook *hook, est_run_context *ctx);
    est_status (*end)(est_hook *hook, est_run_context *ctx);
    /* frees the hook (built-in hooks set it); NULL for hooks the caller owns as plain structs */
    void (*destroy)(est_hook *hook);
};
/* Free a hook made by a constructor below (calls destroy; NULL is fine). */
EST_API void est_hook_free(est_hook *hook);

/* What a hook can see and do (valid only during the callback). */
EST_API est_graph *est_run_context_graph(est_run_context *ctx);
EST_API est_mode est_run_context_mode(const est_run_context *ctx);
EST_API est_var_store *est_run_context_store(est_run_context *ctx);
EST_API const char *est_run_context_model_dir(const est_run_context *ctx);
EST_API const est_logger *est_run_context_logger(const est_run_context *ctx);
/* The global step: in before_run the value before the step, in after_run and end the value after. */
EST_API int64_t est_run_context_global_step(const est_run_context *ctx);
/* Steps run by this call so far (local iterations, as LoggingTensorHook counts). */
EST_API int64_t est_run_context_local_step(const est_run_context *ctx);
/* In begin(): ask for a tensor by name ("conv1/Relu", "softmax_tensor") or node; *handle is passed
 * to est_run_context_value in after_run/end. Every requested tensor is fetched every step, with no
 * copy and no allocation (the values are views of the plan's memory). */
EST_API est_status est_run_context_request(est_run_context *ctx, const char *tensor_name, int *handle);
EST_API est_status est_run_context_request_node(est_run_context *ctx, est_node *node, int *handle);
EST_API const est_tensor *est_run_context_value(const est_run_context *ctx, int handle);
/* A node of the graph by name, for hooks that only need to look one up. */
EST_API est_node *est_run_context_find(est_run_context *ctx, const char *name);
EST_API void est_run_context_request_stop(est_run_context *ctx);
EST_API int est_run_context_stop_requested(const est_run_context *ctx);
/* Feed a placeholder for the next run (FeedFnHook); the tensor must live until after_run. */
EST_API est_status est_run_context_feed(est_run_context *ctx, est_node *placeholder, const est_tensor *value);
/* The event writer of the model_dir (training) or eval dir (evaluation), created on first use. */
EST_API est_status est_run_context_event_writer(est_run_context *ctx, est_event_writer **out);
/* Run nodes once more in a run of their own (FinalOpsHook; nothing may need a feed): *outs receives
 * n copies (free each with est_tensor_free). It compiles a plan: call it in end(), not per step. */
EST_API est_status est_run_context_eval(est_run_context *ctx, est_node *const *nodes, int n, est_tensor **outs);
/* The plan the session runs (for profiling). */
EST_API est_plan *est_run_context_plan(est_run_context *ctx);
/* The latest training-loss value seen (NaN before the first step). */
EST_API double est_run_context_loss(const est_run_context *ctx);

/* ---- Checkpoint saving listeners (tf.estimator.CheckpointSaverListener) ---------------------- */
typedef struct est_checkpoint_saver_listener est_checkpoint_saver_listener;
struct est_checkpoint_saver_listener {
    void *user_data;
    est_status (*begin)(est_checkpoint_saver_listener *l);
    est_status (*before_save)(est_checkpoint_saver_listener *l, int64_t global_step);
    /* *stop = 1 requests the end of training (TF's after_save returning True) */
    est_status (*after_save)(est_checkpoint_saver_listener *l, int64_t global_step, const char *checkpoint_path,
                             int *stop);
    est_status (*end)(est_checkpoint_saver_listener *l, int64_t global_step, const char *checkpoint_path);
};

/* ---- The estimator ------------------------------------------------------------------------- */

/* tf.estimator.WarmStartSettings. vars_to_warm_start is a POSIX extended regex over variable names
 * (NULL = ".*" over TRAINABLE variables only, TF's default); var_name_to_prev_var_name maps new
 * names to the names in the checkpoint (pairs: new, old, new, old...). Applied only when model_dir
 * has no checkpoint yet, as TF (and logged). */
typedef struct est_warm_start_settings {
    const char *ckpt_to_initialize_from; /* a checkpoint prefix/file or a model_dir (its latest) */
    const char *vars_to_warm_start;
    const char *const *var_name_to_prev_var_name;
    int n_renames;
} est_warm_start_settings;

/* The default configuration is: model_fn required; model_dir from config or a fresh temp dir
 * (logged, as TF); config = est_run_config_default(); no params; no warm start; default logger;
 * built-in kernels. params are copied. */
typedef struct est_estimator_desc {
    est_model_fn model_fn;
    const char *model_dir;
    const est_run_config *config;
    const est_params *params;
    est_warm_start_settings warm_start_from;
    est_logger logger;
    const est_kernels *kernels; /* e.g. est_blas_kernels() from estimator_blas.h */
    int progress_bar;           /* 0: a progress bar with rate and ETA when stderr is a TTY; -1: never */
} est_estimator_desc;

EST_API est_status est_estimator_new(const est_estimator_desc *desc, est_estimator **out);
EST_API void est_estimator_free(est_estimator *est);
EST_API const char *est_estimator_model_dir(const est_estimator *est);
EST_API const est_run_config *est_estimator_config(const est_estimator *est);
EST_API const est_params *est_estimator_params(const est_estimator *est);
/* The latest checkpoint prefix in model_dir (EST_ERR_NOT_FOUND when none). */
EST_API est_status est_estimator_latest_checkpoint(const est_estimator *est, char *buf, size_t size);
/* model_dir/eval or model_dir/eval_<name>. */
EST_API const char *est_estimator_eval_dir(const est_estimator *est, const char *name, char *buf, size_t size);
/* A variable's value in the latest checkpoint (tf.estimator.Estimator.get_variable_value). */
EST_API est_status est_estimator_get_variable_value(const est_estimator *est, const char *name, est_tensor **out);

/* The default configuration is: no hooks, no step limit (train until the input ends or a hook
 * stops), no listeners. steps (incremental) and max_steps (absolute) are exclusive, > 0 when set. */
typedef struct est_train_args {
    est_input_fn input_fn;
    void *input_user_data;
    est_hook *const *hooks;
    int n_hooks;
    int64_t steps;
    int64_t max_steps;
    est_checkpoint_saver_listener *const *saving_listeners;
    int n_saving_listeners;
} est_train_args;

/* What train did: the last loss ("Loss for final step"), the global step, steps run by this call. */
typedef struct est_train_result {
    double loss;
    int64_t global_step;
    int64_t steps_run;
    int skipped; /* max_steps was already reached: nothing ran (TF logs and returns) */
} est_train_result;

EST_API est_status est_estimator_train(est_estimator *est, const est_train_args *args, est_train_result *result);

#define EST_EVAL_MAX_METRICS 64
/* evaluate's result: every metric value, "loss" (mean of batch losses) and "global_step". */
typedef struct est_eval_result {
    int n;
    char names[EST_EVAL_MAX_METRICS][96];
    double values[EST_EVAL_MAX_METRICS];
    int64_t global_step;
    double loss;
    char checkpoint_path[1024];
} est_eval_result;
/* The value of metric `name` ("loss" and "global_step" included), or NaN when absent. */
EST_API double est_eval_result_get(const est_eval_result *r, const char *name);

/* The default configuration is: steps 0 = until the input ends (a warning is logged when the
 * input is infinite: it would never end), latest checkpoint, name NULL (dir "eval"). */
typedef struct est_eval_args {
    est_input_fn input_fn;
    void *input_user_data;
    int64_t steps;
    est_hook *const *hooks;
    int n_hooks;
    const char *checkpoint_path;
    const char *name;
} est_eval_args;

EST_API est_status est_estimator_evaluate(est_estimator *est, const est_eval_args *args, est_eval_result *result);

/* predict: an iterator over predictions, one example at a time (TF's yield_single_examples=True)
 * or one batch at a time (yield_batches = 1). The graph and weights stay warm between calls of
 * est_estimator_predict on the same estimator; the latest checkpoint at call time is used (restored
 * again only when it changed). */
typedef struct est_predict_args {
    est_input_fn input_fn;
    void *input_user_data;
    const char *const *predict_keys; /* NULL = all */
    int n_predict_keys;
    est_hook *const *hooks;
    int n_hooks;
    const char *checkpoint_path;
    int yield_batches;
} est_predict_args;

typedef struct est_prediction {
    int n;
    const char *const *keys;
    const est_tensor *values; /* views valid until the next est_predictor_next */
} est_prediction;

typedef struct est_predictor est_predictor;
EST_API est_status est_estimator_predict(est_estimator *est, const est_predict_args *args, est_predictor **out);
/* EST_ERR_OUT_OF_RANGE when the input is exhausted. */
EST_API est_status est_predictor_next(est_predictor *p, est_prediction *out);
EST_API void est_predictor_free(est_predictor *p);

/* ---- train_and_evaluate --------------------------------------------------------------------- */

/* An exporter (tf.estimator.Exporter): export() is called after each evaluation with the
 * checkpoint and metrics; export_path is model_dir/export/<name>. The export issue provides
 * FinalExporter, LatestExporter and BestExporter; any struct with these fields works. */
typedef struct est_exporter est_exporter;
struct est_exporter {
    const char *name;
    void *user_data;
    est_status (*export_fn)(est_exporter *ex, est_estimator *est, const char *export_path,
                            const char *checkpoint_path, const est_eval_result *eval_result,
                            int is_the_final_export);
    void (*destroy)(est_exporter *ex);
};

/* tf.estimator.TrainSpec: max_steps 0 = train until the input ends. */
typedef struct est_train_spec {
    est_input_fn input_fn;
    void *input_user_data;
    int64_t max_steps;
    est_hook *const *hooks;
    int n_hooks;
    est_checkpoint_saver_listener *const *saving_listeners;
    int n_saving_listeners;
} est_train_spec;

/* tf.estimator.EvalSpec. The default configuration is: steps 100 (-1: until the input ends), name
 * NULL, start_delay_secs 120 (ignored locally, as TF), throttle_secs 600, no exporters.
 * throttle_secs < 0 evaluates every new checkpoint (TF's throttle_secs=0; here 0 is the default). */
typedef struct est_eval_spec {
    est_input_fn input_fn;
    void *input_user_data;
    int64_t steps;
    const char *name;
    est_hook *const *hooks;
    int n_hooks;
    est_exporter *const *exporters;
    int n_exporters;
    double start_delay_secs;
    double throttle_secs;
} est_eval_spec;

/* Local train_and_evaluate with TF's loop: one training run whose checkpoint saves drive
 * evaluations (the first save, at session start, is skipped; throttle_secs gates them; an
 * unchanged checkpoint is not evaluated twice), exporters after every evaluation, and a final
 * evaluation and export at the end if the last checkpoint was not evaluated yet. *last (optional)
 * receives the last evaluation. */
EST_API est_status est_train_and_evaluate(est_estimator *est, const est_train_spec *train_spec,
                                          const est_eval_spec *eval_spec, est_eval_result *last);

EST__EXTERN_C_END
#endif /* EST_NO_STDIO */
