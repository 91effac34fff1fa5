/* >>graph/api: variable store, graphs of nodes, name scopes, autodiff, compiled plans.
 * TF counterpart: tf.Graph, tf.Variable, tf.name_scope, tf.gradients, tf.Session.run. */

EST__EXTERN_C_BEGIN

typedef struct est_var_store est_var_store;
typedef struct est_graph est_graph;
typedef struct est_node est_node;
typedef struct est_plan est_plan;

/* ---- Variable store -------------------------------------------------------------------------
 * Variables live in a store, by TF-style name ("conv1/kernel"), not in a graph: the graphs of
 * train, eval, predict and export look them up by name, and checkpoints save and restore the
 * store. The store outlives graphs. */

typedef struct est_var_store_desc {
    est_logger logger;
} est_var_store_desc;

/* Flags of a variable; zero is a trainable, checkpointed (global) variable, TF's default. */
#define EST_VAR_NOT_TRAINABLE 1u /* tf.Variable(trainable=False): not in default gradient lists */
#define EST_VAR_LOCAL 2u         /* tf.GraphKeys.LOCAL_VARIABLES: never checkpointed (metrics) */

/* The default configuration is: dtype float32, no initial value (zeros), flags 0. */
typedef struct est_variable_desc {
    const char *name;     /* required, unique in the store */
    est_dtype dtype;      /* 0 = float32 */
    est_shape shape;      /* fully known */
    const est_tensor *init; /* copied when given; must match dtype and shape */
    uint32_t flags;       /* EST_VAR_* */
} est_variable_desc;

EST_API est_status est_var_store_new(const est_var_store_desc *desc, est_var_store **out);
EST_API void est_var_store_free(est_var_store *vs);
/* Create a variable. Fails with EST_ERR_ALREADY_EXISTS if the name is taken (the message names
 * the variable and both shapes). *value (optional) receives the store-owned tensor, which stays
 * valid until the store is freed; the caller may read and write its data. */
EST_API est_status est_var_store_create(est_var_store *vs, const est_variable_desc *desc,
                                        est_tensor **value);
/* The variable's tensor, or NULL. */
EST_API est_tensor *est_var_store_find(const est_var_store *vs, const char *name);
/* Flags of a variable by name (0 when absent). */
EST_API uint32_t est_var_store_flags(const est_var_store *vs, const char *name);
/* Number of variables; est_var_store_at enumerates them in creation order (any out pointer may be
 * NULL). */
EST_API int64_t est_var_store_count(const est_var_store *vs);
EST_API est_status est_var_store_at(const est_var_store *vs, int64_t index, const char **name,
                                    est_tensor **value, uint32_t *flags);

/* ---- Graph ------------------------------------------------------------------------------------
 * Nodes are built by op functions (ops.h) that take the graph and their inputs and return the new
 * node. Building uses a sticky error, as cairo and Skia do: when an op fails (shape mismatch,
 * wrong dtype, NULL input) it returns NULL, records the first error in the graph (and in
 * est_last_error()), and every later op given a NULL input returns NULL without overwriting it.
 * A model_fn builds freely and returns est_graph_status(g) at the end; compiling a graph that
 * holds an error fails with that error. Node memory lives in the graph and is freed with it. */

/* The default configuration is: a private variable store, seed 0 (meaning TF's default graph
 * seed 87654321), the default logger. */
typedef struct est_graph_desc {
    est_var_store *store; /* NULL: the graph creates and owns its own store */
    uint64_t seed;        /* tf.random.set_seed; 0 = 87654321 */
    est_logger logger;
} est_graph_desc;

EST_API est_status est_graph_new(const est_graph_desc *desc, est_graph **out);
EST_API void est_graph_free(est_graph *g);
/* EST_OK, or the first error recorded while building. */
EST_API est_status est_graph_status(const est_graph *g);
/* That error's message ("" when none). Valid until the graph is freed. */
EST_API const char *est_graph_error(const est_graph *g);
EST_API est_var_store *est_graph_store(const est_graph *g);
EST_API int64_t est_graph_num_nodes(const est_graph *g);
EST_API est_node *est_graph_node(const est_graph *g, int64_t index);
/* Look a node up by full name ("conv1/Relu"): NULL when absent (est_graph_get fails with a message
 * naming the missing node instead). */
EST_API est_node *est_graph_find(const est_graph *g, const char *name);
EST_API est_status est_graph_get(const est_graph *g, const char *name, est_node **out);

/* Name scopes, like tf.name_scope: nodes built between push and pop are named "scope/Op". A scope
 * that is already in use gets TF's unique suffix ("dense", then "dense_1"); the scope actually
 * opened is returned (valid until the graph is freed), NULL on error. */
EST_API const char *est_name_scope_push(est_graph *g, const char *scope);
EST_API void est_name_scope_pop(est_graph *g);
/* Give a node a name (inside the current scope, made unique like TF's) and return the node, so a
 * hook can fetch it: est_set_name(est_softmax(g, logits, -1), "softmax_tensor"). */
EST_API est_node *est_set_name(est_node *node, const char *name);

EST_API est_op est_node_op(const est_node *n);
EST_API const char *est_node_name(const est_node *n);
EST_API est_dtype est_node_dtype(const est_node *n);
/* The static shape: -1 where unknown until run time. */
EST_API est_shape est_node_shape(const est_node *n);
EST_API int est_node_num_inputs(const est_node *n);
EST_API est_node *est_node_input(const est_node *n, int index);
EST_API est_graph *est_node_graph(const est_node *n);

/* Collections, like tf.GraphKeys: named lists of nodes that layers fill and the training code
 * reads (batch-norm moving-average updates, regularization losses, summaries). */
#define EST_GRAPHKEY_UPDATE_OPS "update_ops"
#define EST_GRAPHKEY_REGULARIZATION_LOSSES "regularization_losses"
#define EST_GRAPHKEY_SUMMARIES "summaries"
#define EST_GRAPHKEY_LOSSES "losses"
/* Append node to the collection `key` (created on first use). Fails only on NULL or memory. */
EST_API est_status est_add_to_collection(est_graph *g, const char *key, est_node *node);
/* The nodes of a collection in insertion order: returns the count and sets *nodes (valid until
 * the collection grows or the graph is freed); 0 and NULL for an unknown key. */
EST_API int est_get_collection(const est_graph *g, const char *key, est_node *const **nodes);

/* ---- Autodiff -----------------------------------------------------------------------------
 * Reverse-mode differentiation that adds backward nodes to the graph, like tf.gradients: grads[i]
 * is d(sum(y * grad_y))/d(xs[i]), or NULL when y does not depend on xs[i] (TF's None). grad_y
 * NULL means ones. Gradients flow through float32 only; est_stop_gradient blocks them. */
EST_API est_status est_gradients(est_graph *g, est_node *y, est_node *const *xs, int n_xs,
                                 est_node *grad_y, est_node **grads);

/* ---- Plans: compile once, run many times ---------------------------------------------------
 * A plan is the part of a graph that computes some fetches (and runs some targets for their
 * effect, such as a train op): topologically ordered, shapes resolved, buffers planned with
 * reuse. Running it again with feeds of the same shapes allocates nothing. */

typedef struct est_feed {
    est_node *node;           /* a placeholder */
    const est_tensor *value;  /* matching dtype; shape equal to the placeholder's where known */
} est_feed;

/* The default configuration is: no fetches, no targets, single-threaded, built-in kernels. */
typedef struct est_plan_desc {
    est_node *const *fetches;
    int n_fetches;
    est_node *const *targets; /* run for their effect; their values are not returned */
    int n_targets;
    est_threadpool *pool;     /* NULL: run on the calling thread */
    const est_kernels *kernels; /* NULL: built-in kernels */
    /* 1: run every op as built. By default the plan fuses Conv2D / MatMul -> AddV2(bias) ->
     * Relu / Relu6 chains whose intermediate values nobody else reads (like TF's grappler
     * remapper); fusion never changes a result bit, so this is for debugging and benchmarks. */
    int no_fusion;
} est_plan_desc;

/* Compile: the graph must have no build error. The plan keeps pointers to the graph, pool and
 * kernels, which must outlive it. */
EST_API est_status est_plan_new(est_graph *g, const est_plan_desc *desc, est_plan **out);
/* Run: outputs[i] receives a view of fetch i, valid until the next run or est_plan_free (copy it
 * with est_tensor_copy to keep it). Every placeholder the fetches need must be fed. Errors name
 * the op, the node and the shapes. Thread safety: one run at a time per plan. */
EST_API est_status est_plan_run(est_plan *p, const est_feed *feeds, int n_feeds, est_tensor *outputs);
EST_API void est_plan_free(est_plan *p);
/* Bytes of activation/gradient memory the plan holds (its arena and workspace). */
EST_API size_t est_plan_memory_bytes(const est_plan *p);
/* The random ops of a run use (seed, step) as their Philox counter; by default step counts the
 * runs of this plan from 0. Setting it (e.g. to the global step) makes dropout masks reproducible
 * across restarts. */
EST_API void est_plan_set_step(est_plan *p, uint64_t step);

/* Per-node wall time of runs, for ProfilerHook-style traces; off by default (timing costs two
 * clock reads per node). Enabling allocates the table once. */
typedef struct est_profile_entry {
    const est_node *node;
    double start_us; /* from the start of the run */
    double dur_us;
} est_profile_entry;
EST_API est_status est_plan_set_profiling(est_plan *p, int on);
/* The entries of the last run (one per computed node, in execution order); returns the count. */
EST_API int est_plan_profile(const est_plan *p, const est_profile_entry **entries);

EST__EXTERN_C_END
