/* >>graph/plan: compile a graph into a plan (topological order with variable-write ordering, run-time
 * shape resolution, a liveness-based memory plan with buffer reuse) and run it. After the first run
 * with given feed shapes, runs allocate nothing. TF counterpart: Session.run's executor. */

struct est_plan {
    est_graph *g;
    est_threadpool *pool;
    const est_kernels *kernels;
    int64_t n;             /* nodes in execution order */
    est_node **order;
    int32_t *pos_of;       /* node id -> position, -1 when not in the plan */
    int64_t n_ids;         /* graph size at compile time */
    int64_t *in_start;     /* position -> first index into in_pos/views */
    int32_t *in_pos;       /* flattened input positions */
    est_tensor *views;     /* flattened input views, rebuilt each run without allocating */
    est_shape *rshape;     /* run-time shapes */
    void **data;
    size_t *offset;        /* arena offsets of buffer-owning positions */
    int32_t *root;         /* buffer-owning position (set with the run-time shapes) */
    int32_t *fuse_src;     /* position whose buffer this fused-away node shares (-1: none) */
    int32_t *epi_bias;     /* producer position -> position of the bias fused into it (-1) */
    unsigned char *epi_act;
    int32_t *share;        /* run-time: fuse_src, or input 0 for a shape-identity op (-1) */
    int32_t *last_use;
    const est_tensor **feed; /* per position: the feed of this run (placeholders) */
    int32_t *fetch_pos;
    int n_fetches;
    void *arena_raw;
    char *arena;
    size_t arena_cap;
    void *work_raw;
    char *work;
    size_t work_cap, work_need;
    size_t arena_need;
    int shapes_valid;
    uint64_t step;
    est_profile_entry *prof; /* NULL unless profiling */
    int n_prof;
};

EST_PRIVATE void est__plan_release(est_plan *p)
{
    est__free(p->order);
    est__free(p->pos_of);
    est__free(p->in_start);
    est__free(p->in_pos);
    est__free(p->views);
    est__free(p->rshape);
    est__free(p->data);
    est__free(p->offset);
    est__free(p->root);
    est__free(p->fuse_src);
    est__free(p->epi_bias);
    est__free(p->epi_act);
    est__free(p->share);
    est__free(p->last_use);
    est__free((void *)p->feed);
    est__free(p->fetch_pos);
    est__free(p->arena_raw);
    est__free(p->work_raw);
    est__free(p->prof);
}

EST_API void est_plan_free(est_plan *p)
{
    if (!p) return;
    est__plan_release(p);
    est__free(p);
}

EST_API size_t est_plan_memory_bytes(const est_plan *p) { return p ? p->arena_cap + p->work_cap : 0; }
EST_API void est_plan_set_step(est_plan *p, uint64_t step)
{
    if (p) p->step = step;
}

/* Alias root for ordering: follows aliases except through variable writers, so the readers of a
 * variable are the nodes that see its value before any write. */
EST_PRIVATE est_node *est__read_root(est_node *nd)
{
    while (nd->n_inputs > 0) {
        uint32_t f = est__op_get(nd->op)->flags;
        if (!(f & EST__OP_ALIAS) || (f & EST__OP_WRITES_VAR)) break;
        nd = nd->inputs[0];
    }
    return nd;
}

/* Inputs that only lend their run-time shape (the `like` operands of the gradient plumbing): they
 * neither keep a buffer alive nor count as readers of its values. */
EST_PRIVATE int est__shape_only_input(est_op op, int64_t j)
{
    switch (op) {
    case EST_OP_ZEROS_LIKE:
    case EST_OP_ONES_LIKE: return j == 0;
    case EST_OP_SUM_TO_LIKE:
    case EST_OP_BROADCAST_LIKE:
    case EST_OP_RESHAPE_LIKE:
    case EST_OP_AVG_POOL_GRAD: return j == 1;
    case EST_OP_CONV2D_BACKPROP_INPUT:
    case EST_OP_CONV2D_BACKPROP_FILTER:
    case EST_OP_DEPTHWISE_BACKPROP_INPUT:
    case EST_OP_DEPTHWISE_BACKPROP_FILTER: return j == 2;
    default: return 0;
    }
}

/* A run-time shape must be fully known and small enough that its byte size and the arena's sums
 * cannot overflow: at most 2^60 bytes. Broadcasting independent dynamic dimensions of fed inputs
 * can otherwise multiply past 64 bits. */
EST_PRIVATE est_status est__plan_check_size(const est_node *nd, const est_shape *sh)
{
    int64_t ne = est_shape_numel(sh);
    uint64_t esz = est_dtype_size(nd->dtype) ? (uint64_t)est_dtype_size(nd->dtype) : 1;
    int d, known = sh->rank >= 0;
    for (d = 0; d < sh->rank; d++) known &= sh->dims[d] >= 0;
    if (!known) return est__infer_error(nd, EST_ERR_SHAPE, "shape %s is still unknown at run time", est__sstr(sh));
    if (ne < 0 || (uint64_t)ne > ((uint64_t)1 << 60) / esz)
        return est__infer_error(nd, EST_ERR_SHAPE, "shape %s at run time is more than 2^60 bytes of %s",
                                est__sstr(sh), est_dtype_name(nd->dtype));
    return EST_OK;
}

/* Position of the [C] bias when `add` (AddV2) is producer + bias with bias a float vector whose
 * length is the producer's static last dimension; else -1. */
EST_PRIVATE int32_t est__fuse_bias_pos(const est_plan *p, int64_t add, int64_t prod)
{
    const est_node *a = p->order[add], *pr = p->order[prod], *b;
    int which;
    if (a->n_inputs != 2) return -1;
    which = p->in_pos[p->in_start[add]] == prod ? 1 : 0;
    if (p->in_pos[p->in_start[add] + (1 - which)] != prod || p->in_pos[p->in_start[add] + which] == prod) return -1;
    b = a->inputs[which];
    if (b->dtype != EST_DTYPE_F32 || b->shape.rank != 1 || pr->shape.rank < 1 || b->shape.dims[0] <= 0 ||
        b->shape.dims[0] != pr->shape.dims[pr->shape.rank - 1])
        return -1;
    return p->in_pos[p->in_start[add] + which];
}

/* Fuses producer -> AddV2(bias) [-> Relu/Relu6] chains (TF grappler's remapper does the same with
 * _FusedConv2D / _FusedMatMul): the producer's kernel adds the bias and applies the activation to
 * each block of its output while it is still in cache, and the fused-away nodes share its buffer,
 * which saves two full passes over the activations and their memory. Only where the intermediate
 * values have no other reader and are not fetched, so nothing observable changes; the arithmetic
 * is the same (one float add, then the same max), so the bits are the same too. */
EST_PRIVATE est_status est__plan_fuse(est_plan *p, int off)
{
    int64_t n = p->n, i, j;
    int32_t *uses = EST__CALLOC(int32_t, n + 1), *only = EST__ALLOC(int32_t, n + 1);
    if (!uses || !only) {
        est__free(uses);
        est__free(only);
        return est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_new: out of memory");
    }
    for (i = 0; i < n; i++) {
        p->fuse_src[i] = -1;
        p->epi_bias[i] = -1;
        p->epi_act[i] = EST__EPI_NONE;
    }
    /* readers of each position (an input listed twice counts twice); a fetch counts as a reader */
    for (i = 0; i < n; i++)
        for (j = p->in_start[i]; j < p->in_start[i + 1]; j++) {
            if (est__shape_only_input(p->order[i]->op, j - p->in_start[i])) continue;
            uses[p->in_pos[j]]++;
            only[p->in_pos[j]] = (int32_t)i;
        }
    for (i = 0; i < p->n_fetches; i++) uses[p->fetch_pos[i]] += 2;
    for (i = 0; i < n && !off; i++) {
        est_node *nd = p->order[i];
        int64_t add, act;
        int32_t bias;
        if ((nd->op != EST_OP_CONV2D && nd->op != EST_OP_MATMUL) || nd->dtype != EST_DTYPE_F32 || uses[i] != 1)
            continue;
        add = only[i];
        if (p->order[add]->op != EST_OP_ADD || p->order[add]->dtype != EST_DTYPE_F32) continue;
        if ((bias = est__fuse_bias_pos(p, add, i)) < 0) continue;
        /* the bias must be available when the producer runs: computed before it, or a source */
        if (bias > i && p->order[bias]->op != EST_OP_VARIABLE && p->order[bias]->op != EST_OP_CONST &&
            p->order[bias]->op != EST_OP_PLACEHOLDER)
            continue;
        p->epi_bias[i] = bias;
        p->fuse_src[add] = (int32_t)i;
        if (uses[add] != 1) continue;
        act = only[add];
        if (p->order[act]->op == EST_OP_RELU || p->order[act]->op == EST_OP_RELU6) {
            p->epi_act[i] = p->order[act]->op == EST_OP_RELU ? EST__EPI_RELU : EST__EPI_RELU6;
            p->fuse_src[act] = (int32_t)i;
        }
    }
    /* MaxPoolGrad -> ReluGrad where the pool's input is the Relu's output (conv -> relu -> pool):
     * the pool gradient adds dy only where the window's max is positive, which is ReluGrad's mask
     * at those positions (elsewhere both give +0), so ReluGrad becomes a shared buffer: one pass
     * over the activations' gradient fewer, with the same bits. */
    for (i = 0; i < n && !off; i++) {
        const est_node *nd = p->order[i];
        int32_t d, y;
        if (nd->op != EST_OP_RELU_GRAD || nd->dtype != EST_DTYPE_F32 || nd->n_inputs != 2) continue;
        y = p->in_pos[p->in_start[i]]; /* our ReluGrad takes (y, dy) */
        d = p->in_pos[p->in_start[i] + 1];
        if (p->order[d]->op != EST_OP_MAX_POOL_GRAD || p->order[d]->dtype != EST_DTYPE_F32 || uses[d] != 1 ||
            p->in_pos[p->in_start[d]] != y || p->epi_act[d] != EST__EPI_NONE)
            continue;
        p->epi_act[d] = EST__EPI_RELU;
        p->fuse_src[i] = d;
    }
    est__free(uses);
    est__free(only);
    return EST_OK;
}

EST_API est_status est_plan_new(est_graph *g, const est_plan_desc *desc, est_plan **out)
{
    est_plan *p = NULL;
    int64_t n_ids, i, j, n_roots, sp = 0, n_in = 0, cnt = 0;
    unsigned char *need = NULL, *state = NULL;
    int64_t *stack = NULL, *stack_k = NULL, *rd_start = NULL, *rd_fill = NULL, *readers = NULL;
    est_node **roots = NULL;
    est_status s = EST_OK;

    if (!out) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_new: out is NULL");
    *out = NULL;
    if (!g || !desc) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_new: NULL graph or desc");
    if (g->status != EST_OK)
        return est__error(g->status, "cannot compile a graph with a build error: %s", g->error);
    if (desc->n_fetches < 0 || desc->n_targets < 0 || (desc->n_fetches && !desc->fetches) ||
        (desc->n_targets && !desc->targets))
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_new: bad fetch or target list");
    n_roots = desc->n_fetches + desc->n_targets;
    if (n_roots == 0) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_new: nothing to fetch or run");
    n_ids = g->n_nodes;
    roots = EST__ALLOC(est_node *, n_roots);
    need = EST__CALLOC(unsigned char, n_ids);
    state = EST__CALLOC(unsigned char, n_ids);
    stack = EST__ALLOC(int64_t, n_ids + 1);
    stack_k = EST__ALLOC(int64_t, n_ids + 1);
    rd_start = EST__CALLOC(int64_t, n_ids + 1);
    rd_fill = EST__CALLOC(int64_t, n_ids + 1);
    p = EST__CALLOC(est_plan, 1);
    if (!roots || !need || !state || !stack || !stack_k || !rd_start || !rd_fill || !p) {
        s = est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_new: out of memory");
        goto fail;
    }
    for (i = 0; i < n_roots; i++) {
        est_node *r = i < desc->n_fetches ? desc->fetches[i] : desc->targets[i - desc->n_fetches];
        if (!r || r->graph != g) {
            s = est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_new: %s %lld is NULL or from another graph",
                           i < desc->n_fetches ? "fetch" : "target",
                           (long long)(i < desc->n_fetches ? i : i - desc->n_fetches));
            goto fail;
        }
        roots[i] = r;
        need[r->id] = 1;
    }
    /* Needed nodes: everything the roots reach through data and control inputs. */
    for (i = n_ids - 1; i >= 0; i--) {
        est_node *nd = g->nodes[i];
        if (!need[i]) continue;
        for (j = 0; j < nd->n_inputs; j++) need[nd->inputs[j]->id] = 1;
        for (j = 0; j < nd->n_ctrl; j++) need[nd->ctrl[j]->id] = 1;
    }
    /* Readers of each variable (CSR lists keyed by the variable's read root). */
    /* A writer reads its other inputs (input 0 is the variable it writes). */
    for (i = 0; i < n_ids; i++) {
        est_node *nd = g->nodes[i];
        if (!need[i]) continue;
        for (j = (est__op_get(nd->op)->flags & EST__OP_WRITES_VAR) ? 1 : 0; j < nd->n_inputs; j++) {
            est_node *r = est__read_root(nd->inputs[j]);
            if (r->op == EST_OP_VARIABLE) rd_start[r->id + 1]++;
        }
    }
    for (i = 0; i < n_ids; i++) rd_start[i + 1] += rd_start[i];
    readers = EST__ALLOC(int64_t, rd_start[n_ids] + 1);
    if (!readers) {
        s = est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_new: out of memory");
        goto fail;
    }
    for (i = 0; i < n_ids; i++) {
        est_node *nd = g->nodes[i];
        if (!need[i]) continue;
        for (j = (est__op_get(nd->op)->flags & EST__OP_WRITES_VAR) ? 1 : 0; j < nd->n_inputs; j++) {
            est_node *r = est__read_root(nd->inputs[j]);
            if (r->op == EST_OP_VARIABLE) readers[rd_start[r->id] + rd_fill[r->id]++] = i;
        }
    }
    p->order = EST__ALLOC(est_node *, n_ids);
    if (!p->order) {
        s = est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_new: out of memory");
        goto fail;
    }
    /* Iterative post-order DFS: predecessors are data inputs, control inputs, and for a variable
     * writer every reader of that variable. */
    for (i = 0; i < n_roots; i++) {
        if (state[roots[i]->id]) continue;
        sp = 0;
        stack[sp] = roots[i]->id;
        stack_k[sp++] = 0;
        state[roots[i]->id] = 1;
        while (sp > 0) {
            est_node *nd = g->nodes[stack[sp - 1]], *pred = NULL;
            int64_t k = stack_k[sp - 1]++, nrd = 0, rstart = 0;
            if (est__op_get(nd->op)->flags & EST__OP_WRITES_VAR) {
                est_node *r = est__read_root(nd->inputs[0]);
                rstart = rd_start[r->id];
                nrd = rd_start[r->id + 1] - rstart;
            }
            if (k < nd->n_inputs)
                pred = nd->inputs[k];
            else if (k < nd->n_inputs + nd->n_ctrl)
                pred = nd->ctrl[k - nd->n_inputs];
            else if (k < nd->n_inputs + nd->n_ctrl + nrd)
                pred = g->nodes[readers[rstart + k - nd->n_inputs - nd->n_ctrl]];
            else {
                state[nd->id] = 2;
                p->order[cnt++] = nd;
                sp--;
                continue;
            }
            if (pred == nd) continue;
            if (state[pred->id] == 1) {
                s = est__error(EST_ERR_GRAPH,
                               "est_plan_new: cycle through '%s' and '%s' (a node reads a variable "
                               "both before and after it is written)", nd->name, pred->name);
                goto fail;
            }
            if (state[pred->id] == 0) {
                state[pred->id] = 1;
                stack[sp] = pred->id;
                stack_k[sp++] = 0;
            }
        }
    }
    p->g = g;
    p->pool = desc->pool;
    p->kernels = desc->kernels;
    p->n = cnt;
    p->n_ids = n_ids;
    p->pos_of = EST__ALLOC(int32_t, n_ids);
    p->in_start = EST__ALLOC(int64_t, cnt + 1);
    p->rshape = EST__CALLOC(est_shape, cnt);
    p->data = EST__CALLOC(void *, cnt);
    p->offset = EST__CALLOC(size_t, cnt);
    p->root = EST__ALLOC(int32_t, cnt);
    p->fuse_src = EST__ALLOC(int32_t, cnt);
    p->epi_bias = EST__ALLOC(int32_t, cnt);
    p->epi_act = EST__CALLOC(unsigned char, cnt);
    p->share = EST__ALLOC(int32_t, cnt);
    p->last_use = EST__ALLOC(int32_t, cnt);
    p->feed = (const est_tensor **)est__calloc(sizeof(est_tensor *) * (size_t)(cnt ? cnt : 1));
    p->n_fetches = desc->n_fetches;
    p->fetch_pos = EST__ALLOC(int32_t, desc->n_fetches + 1);
    if (!p->pos_of || !p->in_start || !p->rshape || !p->data || !p->offset || !p->root ||
        !p->last_use || !p->feed || !p->fetch_pos || !p->fuse_src || !p->epi_bias || !p->epi_act || !p->share) {
        s = est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_new: out of memory");
        goto fail;
    }
    for (i = 0; i < n_ids; i++) p->pos_of[i] = -1;
    for (i = 0; i < cnt; i++) {
        p->pos_of[p->order[i]->id] = (int32_t)i;
        p->in_start[i] = n_in;
        n_in += p->order[i]->n_inputs;
    }
    p->in_start[cnt] = n_in;
    p->in_pos = EST__ALLOC(int32_t, n_in + 1);
    p->views = EST__CALLOC(est_tensor, n_in + 1);
    if (!p->in_pos || !p->views) {
        s = est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_new: out of memory");
        goto fail;
    }
    for (i = 0; i < cnt; i++) {
        est_node *nd = p->order[i];
        for (j = 0; j < nd->n_inputs; j++) p->in_pos[p->in_start[i] + j] = p->pos_of[nd->inputs[j]->id];
    }
    for (i = 0; i < desc->n_fetches; i++) p->fetch_pos[i] = p->pos_of[desc->fetches[i]->id];
    if ((s = est__plan_fuse(p, desc->no_fusion)) != EST_OK) goto fail;
    *out = p;
    p = NULL;
fail:
    if (p) {
        est__plan_release(p);
        est__free(p);
    }
    est__free(roots);
    est__free(need);
    est__free(state);
    est__free(stack);
    est__free(stack_k);
    est__free(rd_start);
    est__free(rd_fill);
    est__free(readers);
    return s;
}

/* Resolve concrete shapes of every position, then plan buffers: best-fit reuse of freed blocks in
 * one arena, sized to the high-water mark. Runs only when feed shapes change. */
EST_PRIVATE est_status est__plan_shapes(est_plan *p)
{
    int64_t i, j, n = p->n, nfree = 0;
    size_t top = 0, work = 0;
    size_t *fo = NULL, *fs = NULL; /* free blocks: offset, size (sorted by offset) */
    est_shape in_small[16];
    int nthreads = est_threadpool_size(p->pool);
    est_status s = EST_OK;
    for (i = 0; i < n; i++) {
        est_node *nd = p->order[i];
        const est__op_def *def = est__op_get(nd->op);
        if (nd->op == EST_OP_PLACEHOLDER)
            p->rshape[i] = p->feed[i]->shape;
        else if (nd->op == EST_OP_CONST)
            p->rshape[i] = nd->value->shape;
        else if (nd->op == EST_OP_VARIABLE)
            p->rshape[i] = nd->var->shape;
        else if (def->infer) {
            est_shape *ins = in_small;
            if (nd->n_inputs > 16 && !(ins = EST__ALLOC(est_shape, nd->n_inputs)))
                return est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_run: out of memory");
            for (j = 0; j < nd->n_inputs; j++) ins[j] = p->rshape[p->in_pos[p->in_start[i] + j]];
            s = def->infer(nd, ins, &p->rshape[i]);
            if (s == EST_OK) s = est__plan_check_size(nd, &p->rshape[i]); /* before any size math */
            if (s == EST_OK && def->workspace) {
                size_t w = def->workspace(nd, ins, &p->rshape[i], nthreads);
                if (w > work) work = w;
            }
            if (ins != in_small) est__free(ins);
            if (s != EST_OK) return s;
            continue; /* checked above */
        } else {
            p->rshape[i] = nd->shape;
        }
        if ((s = est__plan_check_size(nd, &p->rshape[i])) != EST_OK) return s;
    }
    /* Buffer sharing: aliases, fused-away nodes, and SumToLike / BroadcastLike whose run-time shape
     * is their input's (the gradient plumbing of a dynamic batch is then an identity: no copy).
     * Never onto a variable or feed (a shared buffer could change under a variable write). */
    for (i = 0; i < n; i++) {
        est_node *nd = p->order[i];
        int32_t in0 = nd->n_inputs > 0 ? p->in_pos[p->in_start[i]] : -1;
        p->share[i] = p->fuse_src[i];
        if (p->share[i] < 0 && in0 >= 0 && (nd->op == EST_OP_SUM_TO_LIKE || nd->op == EST_OP_BROADCAST_LIKE) &&
            est_shape_equal(&p->rshape[i], &p->rshape[in0]) &&
            !(est__op_get(p->order[p->root[in0]]->op)->flags & EST__OP_SOURCE))
            p->share[i] = in0;
        if (est__op_get(nd->op)->flags & EST__OP_ALIAS)
            p->root[i] = p->root[in0];
        else
            p->root[i] = p->share[i] >= 0 ? p->root[p->share[i]] : (int32_t)i;
    }
    /* Liveness: a buffer lives until the last position that reads it (fetches: to the end). */
    for (i = 0; i < n; i++) p->last_use[i] = (int32_t)i;
    for (i = 0; i < n; i++)
        for (j = p->in_start[i]; j < p->in_start[i + 1]; j++) {
            int32_t r = p->root[p->in_pos[j]];
            if (est__shape_only_input(p->order[i]->op, j - p->in_start[i])) continue;
            if (p->last_use[r] < i) p->last_use[r] = (int32_t)i;
        }
    for (i = 0; i < p->n_fetches; i++) p->last_use[p->root[p->fetch_pos[i]]] = (int32_t)n;
    fo = EST__ALLOC(size_t, n + 1);
    fs = EST__ALLOC(size_t, n + 1);
    if (!fo || !fs) {
        est__free(fo);
        est__free(fs);
        return est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_run: out of memory");
    }
    for (i = 0; i < n; i++) {
        est_node *nd = p->order[i];
        uint32_t fl = est__op_get(nd->op)->flags;
        if (!(fl & (EST__OP_ALIAS | EST__OP_SOURCE)) && p->share[i] < 0) {
            size_t sz = (size_t)est_shape_numel(&p->rshape[i]) * est_dtype_size(nd->dtype);
            int64_t best = -1;
            sz = (sz + 63) & ~(size_t)63;
            for (j = 0; j < nfree; j++)
                if (fs[j] >= sz && (best < 0 || fs[j] < fs[best])) best = j;
            if (best >= 0) {
                p->offset[i] = fo[best];
                fo[best] += sz;
                fs[best] -= sz;
                if (fs[best] == 0) {
                    memmove(fo + best, fo + best + 1, sizeof(size_t) * (size_t)(nfree - best - 1));
                    memmove(fs + best, fs + best + 1, sizeof(size_t) * (size_t)(nfree - best - 1));
                    nfree--;
                }
            } else if (nfree > 0 && fo[nfree - 1] + fs[nfree - 1] == top) {
                /* grow the last free block at the top instead of leaving it stranded */
                p->offset[i] = fo[nfree - 1];
                top = fo[nfree - 1] + sz;
                nfree--;
            } else {
                p->offset[i] = top;
                top += sz;
            }
        }
        /* Release every buffer whose last reader is this position (including an unread output). */
        for (j = p->in_start[i]; j <= p->in_start[i + 1]; j++) {
            int32_t r = j < p->in_start[i + 1] ? p->root[p->in_pos[j]] : p->root[i];
            est_node *rn = p->order[r];
            size_t off, sz;
            int64_t at;
            if (p->last_use[r] != i || (est__op_get(rn->op)->flags & (EST__OP_SOURCE | EST__OP_ALIAS)))
                continue;
            p->last_use[r] = -1; /* released; also marks duplicates in the input list */
            off = p->offset[r];
            sz = ((size_t)est_shape_numel(&p->rshape[r]) * est_dtype_size(rn->dtype) + 63) & ~(size_t)63;
            if (!sz) continue;
            for (at = 0; at < nfree && fo[at] < off; at++) {
            }
            memmove(fo + at + 1, fo + at, sizeof(size_t) * (size_t)(nfree - at));
            memmove(fs + at + 1, fs + at, sizeof(size_t) * (size_t)(nfree - at));
            fo[at] = off;
            fs[at] = sz;
            nfree++;
            /* coalesce with neighbours */
            if (at + 1 < nfree && fo[at] + fs[at] == fo[at + 1]) {
                fs[at] += fs[at + 1];
                memmove(fo + at + 1, fo + at + 2, sizeof(size_t) * (size_t)(nfree - at - 2));
                memmove(fs + at + 1, fs + at + 2, sizeof(size_t) * (size_t)(nfree - at - 2));
                nfree--;
            }
            if (at > 0 && fo[at - 1] + fs[at - 1] == fo[at]) {
                fs[at - 1] += fs[at];
                memmove(fo + at, fo + at + 1, sizeof(size_t) * (size_t)(nfree - at - 1));
                memmove(fs + at, fs + at + 1, sizeof(size_t) * (size_t)(nfree - at - 1));
                nfree--;
            }
        }
    }
    est__free(fo);
    est__free(fs);
    p->arena_need = top;
    if (top > p->arena_cap) {
        void *raw = est__malloc(top + 64);
        if (!raw) return est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_run: out of memory for %zu bytes of activations", top);
        est__free(p->arena_raw);
        p->arena_raw = raw;
        p->arena = (char *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
        p->arena_cap = top;
    }
    p->work_need = work;
    if (work > p->work_cap) {
        void *raw = est__malloc(work + 64);
        if (!raw) return est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_run: out of memory for %zu bytes of workspace", work);
        est__free(p->work_raw);
        p->work_raw = raw;
        p->work = (char *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
        p->work_cap = work;
    }
    return EST_OK;
}

/* The data of position pos while position at runs: pos may come later in the order when it is a
 * source (a fused bias variable), whose memory is known before it is reached. */
EST_PRIVATE const void *est__plan_data_early(const est_plan *p, int32_t pos, int64_t at)
{
    const est_node *nd = p->order[pos];
    if (pos < at) return p->data[pos];
    if (nd->op == EST_OP_VARIABLE) return nd->var->data;
    if (nd->op == EST_OP_CONST) return nd->value->data;
    return p->feed[pos]->data;
}

EST_API est_status est_plan_run(est_plan *p, const est_feed *feeds, int n_feeds, est_tensor *outputs)
{
    int64_t i, j;
    int changed = 0;
    est_status s;
    double t_run;
    if (!p) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: plan is NULL");
    if ((n_feeds && !feeds) || n_feeds < 0)
        return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: bad feed list");
    if (p->n_fetches && !outputs) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: outputs is NULL");
    for (i = 0; i < p->n; i++) p->feed[i] = NULL;
    for (i = 0; i < n_feeds; i++) {
        const est_node *nd = feeds[i].node;
        const est_tensor *v = feeds[i].value;
        int32_t pos;
        if (!nd || !v) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: feed %lld has a NULL node or value", (long long)i);
        if (nd->graph != p->g || nd->id >= p->n_ids)
            return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: feed '%s' is not in this plan's graph", nd->name);
        if (nd->op != EST_OP_PLACEHOLDER)
            return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: '%s' is a %s, and only placeholders can be fed",
                              nd->name, est_op_name(nd->op));
        if (v->dtype != nd->dtype)
            return est__error(EST_ERR_DTYPE, "est_plan_run: feed for placeholder '%s' is %s, expected %s",
                              nd->name, est_dtype_name(v->dtype), est_dtype_name(nd->dtype));
        if (v->shape.rank != nd->shape.rank)
            return est__error(EST_ERR_SHAPE, "est_plan_run: feed for placeholder '%s' has shape %s, expected %s",
                              nd->name, est__sstr(&v->shape), est__sstr(&nd->shape));
        for (j = 0; j < v->shape.rank; j++)
            if ((nd->shape.dims[j] >= 0 && nd->shape.dims[j] != v->shape.dims[j]) || v->shape.dims[j] < 0)
                return est__error(EST_ERR_SHAPE, "est_plan_run: feed for placeholder '%s' has shape %s, expected %s",
                                  nd->name, est__sstr(&v->shape), est__sstr(&nd->shape));
        if (!v->data && est_shape_numel(&v->shape) > 0)
            return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_run: feed for '%s' has no data", nd->name);
        pos = p->pos_of[nd->id];
        if (pos >= 0) p->feed[pos] = v;
    }
    for (i = 0; i < p->n; i++) {
        est_node *nd = p->order[i];
        if (nd->op != EST_OP_PLACEHOLDER) continue;
        if (!p->feed[i])
            return est__error(EST_ERR_UNFED, "est_plan_run: placeholder '%s' (%s %s) is needed by the fetches "
                              "but was not fed", nd->name, est_dtype_name(nd->dtype), est__sstr(&nd->shape));
        if (!est_shape_equal(&p->feed[i]->shape, &p->rshape[i])) changed = 1;
    }
    if (!p->shapes_valid || changed) {
        p->shapes_valid = 0;
        if ((s = est__plan_shapes(p)) != EST_OK) return s;
        p->shapes_valid = 1;
    }
    t_run = p->prof ? est_time_now() : 0;
    p->n_prof = 0;
    for (i = 0; i < p->n; i++) {
        est_node *nd = p->order[i];
        const est__op_def *def = est__op_get(nd->op);
        est__kctx k;
        est_tensor outv;
        double t0;
        if (nd->op == EST_OP_PLACEHOLDER)
            p->data[i] = p->feed[i]->data;
        else if (nd->op == EST_OP_CONST)
            p->data[i] = nd->value->data;
        else if (nd->op == EST_OP_VARIABLE)
            p->data[i] = nd->var->data;
        else if (def->flags & EST__OP_ALIAS)
            p->data[i] = p->data[p->in_pos[p->in_start[i]]];
        else if (p->share[i] >= 0) {
            p->data[i] = p->data[p->share[i]]; /* computed by the producer, or an identity */
            continue;
        } else
            p->data[i] = p->arena + p->offset[i];
        if (!def->forward) continue;
        for (j = 0; j < nd->n_inputs; j++) {
            int32_t ip = p->in_pos[p->in_start[i] + j];
            est_tensor *v = &p->views[p->in_start[i] + j];
            v->dtype = p->order[ip]->dtype;
            v->shape = p->rshape[ip];
            v->data = p->data[ip];
            v->nbytes = (size_t)est_shape_numel(&v->shape) * est_dtype_size(v->dtype);
            v->flags = 0;
        }
        outv.dtype = nd->dtype;
        outv.shape = p->rshape[i];
        outv.data = p->data[i];
        outv.nbytes = (size_t)est_shape_numel(&outv.shape) * est_dtype_size(outv.dtype);
        outv.flags = 0;
        k.node = nd;
        k.n_inputs = nd->n_inputs;
        k.in = &p->views[p->in_start[i]];
        k.out = &outv;
        k.work = p->work;
        k.work_size = p->work_need;
        k.pool = p->pool;
        k.kernels = p->kernels;
        k.step = p->step;
        k.epi_bias = p->epi_bias[i] >= 0 ? (const float *)est__plan_data_early(p, p->epi_bias[i], i) : NULL;
        k.epi_act = p->epi_act[i];
        t0 = p->prof ? est_time_now() : 0;
        if ((s = def->forward(&k)) != EST_OK) return s;
        if (p->prof) {
            est_profile_entry *pe = &p->prof[p->n_prof++];
            double t1 = est_time_now();
            pe->node = nd;
            pe->start_us = (t0 - t_run) * 1e6;
            pe->dur_us = (t1 - t0) * 1e6;
        }
    }
    for (i = 0; i < p->n_fetches; i++) {
        int32_t fp = p->fetch_pos[i];
        est_tensor *o = &outputs[i];
        o->dtype = p->order[fp]->dtype;
        o->shape = p->rshape[fp];
        o->data = p->data[fp];
        o->nbytes = (size_t)est_shape_numel(&o->shape) * est_dtype_size(o->dtype);
        o->flags = 0;
    }
    p->step++;
    return EST_OK;
}

/* ---- helpers for kernels ---- */

typedef struct est__range_ctx {
    est__range_fn fn;
    void *ctx;
    int64_t n, grain;
} est__range_ctx;

EST_PRIVATE void est__range_task(void *c, int64_t task, int thread)
{
    const est__range_ctx *r = (const est__range_ctx *)c;
    int64_t b = task * r->grain, e = EST__MIN(b + r->grain, r->n);
    (void)thread;
    r->fn(r->ctx, b, e);
}

EST_PRIVATE void est__parallel_range(est_threadpool *pool, int64_t n, int64_t grain, est__range_fn fn,
                                     void *ctx)
{
    est__range_ctx r;
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!pool || est_threadpool_size(pool) == 1 || n <= grain) {
        int64_t b; /* the same chunks as the parallel path, so bits never depend on threads */
        for (b = 0; b < n; b += grain) fn(ctx, b, EST__MIN(b + grain, n));
        return;
    }
    r.fn = fn;
    r.ctx = ctx;
    r.n = n;
    r.grain = grain;
    est_parallel_for(pool, (n + grain - 1) / grain, est__range_task, &r);
}

typedef struct est__epi_ctx {
    float *y;
    const float *b;
    int64_t n;
    int act;
} est__epi_ctx;

static void est__epi_range(void *vc, int64_t r0, int64_t r1)
{
    const est__epi_ctx *c = (const est__epi_ctx *)vc;
    int64_t r, j, n = c->n;
    for (r = r0; r < r1; r++) {
        float *y = c->y + r * n;
        if (c->b)
            for (j = 0; j < n; j++) y[j] += c->b[j];
        if (c->act == EST__EPI_RELU)
            for (j = 0; j < n; j++) y[j] = y[j] < 0 ? 0.0f : y[j];
        else if (c->act == EST__EPI_RELU6)
            for (j = 0; j < n; j++) y[j] = y[j] < 0 ? 0.0f : (y[j] > 6.0f ? 6.0f : y[j]);
    }
}

EST_PRIVATE void est__apply_epilogue_on(const est__kctx *k, est_threadpool *pool, float *y, int64_t rows,
                                        int64_t n)
{
    est__epi_ctx c;
    if (!k->epi_bias && k->epi_act == EST__EPI_NONE) return;
    if (rows <= 0 || n <= 0) return;
    c.y = y;
    c.b = k->epi_bias;
    c.n = n;
    c.act = k->epi_act;
    est__parallel_range(pool, rows, ((int64_t)1 << 14) / n + 1, est__epi_range, &c);
}

EST_PRIVATE void est__apply_epilogue(const est__kctx *k, float *y, int64_t rows, int64_t n)
{
    est__apply_epilogue_on(k, k->pool, y, rows, n);
}

EST_PRIVATE void est__gemm_on(const est__kctx *k, const est_sgemm_args *a, void *work, int serial)
{
    if (k->kernels && k->kernels->sgemm) {
        est_sgemm_args b = *a;
        /* serial: already inside one of the pool's tasks, so the backend must not split */
        b.num_threads = serial || !k->pool ? 1 : est_threadpool_size(k->pool);
        b.pool = k->pool;
        k->kernels->sgemm(k->kernels->user_data, &b);
    } else
        est__sgemm(serial ? NULL : k->pool, a, work);
}

EST_PRIVATE void est__gemm(const est__kctx *k, const est_sgemm_args *a, void *work) { est__gemm_on(k, a, work, 0); }

EST_API est_status est_plan_set_profiling(est_plan *p, int on)
{
    if (!p) return est__error(EST_ERR_INVALID_ARGUMENT, "est_plan_set_profiling: plan is NULL");
    if (!on) {
        est__free(p->prof);
        p->prof = NULL;
        p->n_prof = 0;
        return EST_OK;
    }
    if (!p->prof) {
        p->prof = EST__CALLOC(est_profile_entry, p->n + 1);
        if (!p->prof) return est__error(EST_ERR_OUT_OF_MEMORY, "est_plan_set_profiling: out of memory");
    }
    return EST_OK;
}

EST_API int est_plan_profile(const est_plan *p, const est_profile_entry **entries)
{
    if (entries) *entries = p ? p->prof : NULL;
    return p ? p->n_prof : 0;
}
