/* >>graph/private: node and graph internals, the op definition table interface, and the helpers
 * every op implementation uses (node creation, shape errors, broadcasting, parallel loops). */

/* Op attributes: a fixed block per node. Each op documents its own layout next to its builder
 * (e.g. conv2d: i[0..1] strides, i[2] padding, i[3..4] dilations). */
#define EST__MAX_IATTR 24
typedef struct est__attrs {
    int64_t i[EST__MAX_IATTR];
    float f[4];
} est__attrs;

struct est_node {
    est_graph *graph;
    int64_t id; /* creation order; inputs always have smaller ids */
    est_op op;
    est_dtype dtype;
    est_shape shape; /* static; -1 = unknown until run time */
    int n_inputs;
    est_node **inputs;
    int n_ctrl;
    est_node **ctrl; /* control dependencies: run before this node, no data */
    const char *name;
    est__attrs attr;
    est_tensor *value;    /* CONST: owned copy, freed with the graph */
    const char *var_name; /* VARIABLE: the store name */
    est_tensor *var;      /* VARIABLE: the store's tensor (not owned) */
    uint64_t seed;        /* random ops: the combined graph and op seed */
};

#define EST__MAX_SCOPE_DEPTH 64
struct est_graph {
    est__arena arena;
    est_node **nodes;
    int64_t n_nodes, cap_nodes;
    est__strmap names;     /* full name -> node */
    est__strmap used;      /* name -> use count (as a pointer-sized int) for unique suffixes */
    est__strmap var_nodes; /* variable name -> its node in this graph */
    char scope[1024];
    int scope_len[EST__MAX_SCOPE_DEPTH];
    int scope_depth;
    est_var_store *store;
    int owns_store;
    uint64_t seed;
    est_status status;
    char error[1024];
    est_logger logger;
    est_tensor **consts; /* owned constant values */
    int64_t n_consts, cap_consts;
    est__strmap collections; /* key -> est__node_list* */
};

typedef struct est__node_list {
    est_node **items;
    int64_t n, cap;
} est__node_list;

/* What a kernel sees when it runs: concrete shapes and data pointers. */
typedef struct est__kctx {
    const est_node *node;
    int n_inputs;
    const est_tensor *in; /* n_inputs views */
    est_tensor *out;
    void *work; /* scratch of the size the op's workspace() asked for, 64-byte aligned */
    size_t work_size;
    est_threadpool *pool;
    const est_kernels *kernels;
    uint64_t step; /* the run counter used by random ops */
    /* Epilogue the plan fused into this op (Conv2D, MatMul): out = act(out + epi_bias), bias over
     * the last dimension. NULL / EST__EPI_NONE when nothing was fused. On MaxPoolGrad, EST__EPI_RELU
     * means a fused ReluGrad of the pool's own input (see est__plan_fuse). */
    const float *epi_bias;
    int epi_act;
} est__kctx;

enum { EST__EPI_NONE = 0, EST__EPI_RELU = 1, EST__EPI_RELU6 = 2 };

/* Output shares input 0's buffer (reshape, identity, assign...): no copy, no new memory. */
#define EST__OP_ALIAS 1u
/* Output memory comes from elsewhere (feed, constant, variable store). */
#define EST__OP_SOURCE 2u
/* Writes to the variable that is input 0; runs after every other reader of that variable. */
#define EST__OP_WRITES_VAR 4u

typedef struct est__op_def {
    const char *name;
    /* Output shape from input shapes: static ones (with -1) while building, concrete ones at run
     * time. Errors go through est__infer_error. */
    est_status (*infer)(const est_node *n, const est_shape *in, est_shape *out);
    /* Compute k->out from k->in. NULL for ops with nothing to compute (aliases, sources). */
    est_status (*forward)(const est__kctx *k);
    /* Build gradient nodes: dx[i] = d(loss)/d(input i) given dy = d(loss)/d(output), or leave
     * dx[i] NULL (no gradient for that input). NULL backward means no gradient at all. */
    est_status (*backward)(est_graph *g, est_node *n, est_node *dy, est_node **dx);
    /* Scratch bytes for forward with these concrete shapes; NULL means none. */
    size_t (*workspace)(const est_node *n, const est_shape *in, const est_shape *out, int nthreads);
    uint32_t flags;
} est__op_def;

/* Defined in kernels/op_table.c. */
EST_PRIVATE const est__op_def *est__op_get(est_op op);

/* Create a node of `op` with inputs and attributes, name it "<scope>/<TF op name>" (unique), infer
 * its static shape, and return it; NULL (with the graph's sticky error set) on failure. NULL
 * inputs propagate an earlier error silently. */
EST_PRIVATE est_node *est__node_new(est_graph *g, est_op op, est_dtype dtype, est_node *const *inputs,
                                    int n_inputs, const est__attrs *attrs);
/* The same with a given name instead of the op's (scoped: prefixed with the current name scope;
 * otherwise used as is, as variables are named by their full store name). */
EST_PRIVATE est_node *est__node_new_named(est_graph *g, est_op op, est_dtype dtype,
                                          est_node *const *inputs, int n_inputs,
                                          const est__attrs *attrs, const char *name, int scoped);
/* Record the current last error as the graph's sticky error (first one wins). */
EST_PRIVATE void est__graph_record(est_graph *g, est_status code);
/* Record a build error in the graph (first one wins) and return NULL, for builders' argument
 * checks: `return est__fail(g, EST_ERR_DTYPE, "Relu: ...")`. */
EST_PRIVATE est_node *est__fail(est_graph *g, est_status code, const char *fmt, ...) EST__PRINTF(3, 4);
/* An error from infer/forward: prefixes "<Op> '<node>': " to the message. */
EST_PRIVATE est_status est__infer_error(const est_node *n, est_status code, const char *fmt, ...)
    EST__PRINTF(3, 4);
/* A shape as text for messages, from a small rotating thread-local pool (8 live at once). */
EST_PRIVATE const char *est__sstr(const est_shape *s);
/* NumPy broadcasting of two shapes, -1 aware. */
EST_PRIVATE est_status est__broadcast_shapes(const est_node *n, const est_shape *a,
                                             const est_shape *b, est_shape *out);
/* Normalise axis (may be negative) for a rank; -1 if out of range. */
EST_PRIVATE int est__axis(int axis, int rank);
/* 1 if x is float32 (gradients flow only through float32). */
EST_PRIVATE int est__is_float(const est_node *x);

/* Split [0, n) into fixed chunks of `grain` items and run fn(ctx, begin, end) over them on the pool.
 * Chunk boundaries depend only on n and grain, so results never depend on the thread count. */
typedef void (*est__range_fn)(void *ctx, int64_t begin, int64_t end);
EST_PRIVATE void est__parallel_range(est_threadpool *pool, int64_t n, int64_t grain, est__range_fn fn,
                                     void *ctx);
/* GEMM through the plan's kernel table (BLAS backend) or the built-in one with `work`. _on with
 * serial != 0: on the calling thread only, for a kernel's own pool tasks (`work` sized for 1
 * thread). */
EST_PRIVATE void est__gemm(const est__kctx *k, const est_sgemm_args *a, void *work);
EST_PRIVATE void est__gemm_on(const est__kctx *k, const est_sgemm_args *a, void *work, int serial);
/* Applies k's fused epilogue (if any) to y viewed as [rows, n], in place; _on splits it over
 * `pool` (NULL: the calling thread) instead of k's pool. */
EST_PRIVATE void est__apply_epilogue(const est__kctx *k, float *y, int64_t rows, int64_t n);
EST_PRIVATE void est__apply_epilogue_on(const est__kctx *k, est_threadpool *pool, float *y, int64_t rows,
                                        int64_t n);
