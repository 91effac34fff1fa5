/* >>serving/loader: load an export (saved_model.json + variables.safetensors, see >>serving/export)
 * without the model_fn, list its signatures and run them. Works in inference-only builds
 * (EST_NO_TRAINING) and, from memory buffers, without stdio (EST_NO_STDIO: embed both files).
 * TF counterpart: tf.saved_model.load / tf.compat.v1.saved_model.loader.load + Session.run of a
 * SignatureDef, TF Serving's Predict/Classify/Regress.
 *
 * The loader rebuilds the graph node by node from the op's TF name and its attributes, recomputes
 * every shape and checks it against the stored one, and creates the variables from the weights
 * file, checking each against what the graph expects (a missing variable, or one of another dtype
 * or shape, fails with one message listing them all). The weights file records the CRC32C of
 * saved_model.json in its metadata ("saved_model_json_crc32c"), so a corrupted JSON file or files
 * from two different exports are reported instead of run.
 *
 * What is validated, before any node is created (a failure is EST_ERR_FORMAT, "saved_model.json:
 * node '<name>' (<Op>): <what and why>", naming the input or attribute i[k]/f[k]):
 *   - the JSON structure, op names, references to earlier nodes, dtypes and shapes (at most rank
 *     8, dims >= -1, at most 2^40 elements);
 *   - per op, what its builder checks: the input count (exact or a range), each input's dtype and
 *     the node's dtype, every attribute's range (axes within the input's rank, strides, kernel
 *     sizes and dilations in [1, 2^20], paddings and VALID/SAME, sizes in [0, 2^31], reduction
 *     masks, permutations, combiners, modes, attribute-to-input positions), attributes the op does
 *     not have left at 0, and the ops whose inputs index each other (a vocabulary lookup's table
 *     and vocabulary are constants whose slots are checked; ParseExample's default has the
 *     feature's shape); a node holds at most 2^34 elements where its dims are known;
 *   - gradient and optimizer ops (ReluGrad-style activation gradients aside) are refused: an export
 *     holds the PREDICT graph only;
 *   - then each op's shape function (again at run time with the fed shapes), and the weights
 *     against the graph.
 * Values only known at run time (a Gather or label index, a Reshape of the fed batch, an id
 * outside a vocabulary or bucket range) fail in est_saved_model_run with the op and node named.
 *
 * Trust: like TF's SavedModel (TF's SECURITY.md: "models are programs"), an export is trusted
 * code; the checksum detects corruption, not tampering (anyone can recompute it). The checks above
 * keep a crafted saved_model.json from crashing the process (a mutation fuzz test under ASan and
 * UBSan covers them), but it can still compute something else than the model it claims to be.
 *
 * Thread safety: one est_saved_model_run at a time per model (each signature keeps a compiled
 * plan); load the model once per thread to run in parallel. */

EST__EXTERN_C_BEGIN

typedef struct est_saved_model est_saved_model;

/* One input or output of a signature (TF's TensorInfo): key in the signature, the tensor's name
 * in the graph ("x:0"), dtype and shape (-1 = any size). */
typedef struct est_tensor_info {
    const char *key;
    const char *name;
    est_dtype dtype;
    est_shape shape;
} est_tensor_info;

typedef struct est_signature_info {
    const char *key;         /* "serving_default", "predict", ... */
    const char *method_name; /* "tensorflow/serving/predict", .../classify, .../regress */
    int n_inputs;
    const est_tensor_info *inputs;
    int n_outputs;
    const est_tensor_info *outputs;
} est_signature_info;

/* A named tensor: inputs by signature input key; outputs are views (valid until the next run on
 * the model or est_saved_model_free). */
typedef struct est_named_tensor {
    const char *name;
    est_tensor tensor;
} est_named_tensor;

#ifndef EST_NO_STDIO
/* Load <export_dir>/saved_model.json and <export_dir>/variables/variables.safetensors. Errors
 * name the file: EST_ERR_NOT_FOUND (missing file), EST_ERR_FORMAT / EST_ERR_CORRUPT /
 * EST_ERR_TRUNCATED (bad content, with where), EST_ERR_CHECKPOINT (weights that do not match the
 * graph). Ownership: free *out with est_saved_model_free. */
EST_API est_status est_saved_model_load(const char *export_dir, est_saved_model **out);
#endif
/* The same from memory (both buffers are only read during the call; weights may be NULL/0 for a
 * graph without variables). */
EST_API est_status est_saved_model_load_from_memory(const void *json, size_t json_size, const void *weights,
                                                    size_t weights_size, est_saved_model **out);
EST_API void est_saved_model_free(est_saved_model *m);

/* The global step the export was made at, its tags ("serve") and the library version that wrote it. */
EST_API int64_t est_saved_model_global_step(const est_saved_model *m);
EST_API int est_saved_model_num_tags(const est_saved_model *m);
EST_API const char *est_saved_model_tag(const est_saved_model *m, int index);
EST_API const char *est_saved_model_version(const est_saved_model *m);
/* Signatures, in the order of the file. est_saved_model_find_signature returns NULL for an unknown key. */
EST_API int est_saved_model_num_signatures(const est_saved_model *m);
EST_API const est_signature_info *est_saved_model_signature(const est_saved_model *m, int index);
EST_API const est_signature_info *est_saved_model_find_signature(const est_saved_model *m, const char *key);
/* The rebuilt graph and its variable store (e.g. for est_onnx_write); owned by the model. */
EST_API est_graph *est_saved_model_graph(est_saved_model *m);
EST_API est_var_store *est_saved_model_store(est_saved_model *m);
/* Run future signatures on a thread pool (NULL: the calling thread); the pool must outlive the
 * model. Compiled plans are rebuilt. */
EST_API void est_saved_model_set_threadpool(est_saved_model *m, est_threadpool *pool);
/* Run future signatures with a kernel table (e.g. est_blas_kernels() from estimator_blas.h; NULL:
 * the built-in kernels); the table must outlive the model. Compiled plans are rebuilt. */
EST_API void est_saved_model_set_kernels(est_saved_model *m, const est_kernels *kernels);

/* Run signature `signature_key` on named inputs (every input of the signature, each once, by its
 * key). *outputs receives the signature's outputs in its order (n_outputs of them), as views owned
 * by the model. Errors: EST_ERR_NOT_FOUND for an unknown signature (listing the available ones)
 * or input name (listing the expected inputs); EST_ERR_INVALID_ARGUMENT for a missing or repeated
 * input; EST_ERR_DTYPE / EST_ERR_SHAPE for a wrong dtype or shape, the message giving what the
 * signature expects; run-time errors of the ops name the op and node. */
EST_API est_status est_saved_model_run(est_saved_model *m, const char *signature_key, const est_named_tensor *inputs,
                                       int n_inputs, const est_named_tensor **outputs, int *n_outputs);

EST__EXTERN_C_END
