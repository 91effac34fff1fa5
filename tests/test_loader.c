/* Tests of serving/loader and tools/saved_model_cli: round trips against the estimator's predict,
 * memory loading, the parsing receiver end to end, and bad input. Uses the model and helpers of
 * tests/test_export.c (tx_*), which the generated test TU includes before this file. */
#include "gradcheck.h"

/* An export of the shared trained model; exports 0 = default signature only, 2 = + predict and
 * regression. */
static const char *tl_export(int parsing, int exports)
{
    static char dirs[2][4][1024];
    const char *mdir = tx_trained(&tx_shared);
    char base[512];
    est_estimator *e;
    est_receiver *r;
    if (dirs[parsing][exports][0]) return dirs[parsing][exports];
    e = tx_estimator(mdir, exports);
    r = parsing ? tx_parsing_receiver() : tx_raw_receiver();
    snprintf(base, sizeof base, "%s/tl_export_%d_%d", test_tmpdir(), parsing, exports);
    if (est_estimator_export_saved_model(e, base, r, NULL, NULL, dirs[parsing][exports], sizeof dirs[0][0]) != EST_OK)
        printf("export: %s\n", est_last_error());
    est_receiver_free(r);
    est_estimator_free(e);
    return dirs[parsing][exports];
}

/* The estimator's predictions of the shared data (all 64 rows, one batch). */
static void tl_predict(est_tensor **probs, est_tensor **classes)
{
    est_estimator *e = tx_estimator(tx_trained(&tx_shared), 0);
    est_predict_args pa;
    est_predictor *p = NULL;
    est_prediction pr = {0};
    int64_t row = 0;
    int i;
    est_tensor_new(EST_DTYPE_F32, est_shape2(64, 3), probs);
    est_tensor_new(EST_DTYPE_I64, est_shape1(64), classes);
    memset(&pa, 0, sizeof pa);
    pa.input_fn = tx_input_fn;
    pa.input_user_data = &tx_shared;
    pa.yield_batches = 1;
    if (est_estimator_predict(e, &pa, &p) != EST_OK) printf("predict: %s\n", est_last_error());
    while (p && est_predictor_next(p, &pr) == EST_OK) {
        int64_t b = pr.values[0].shape.dims[0];
        for (i = 0; i < pr.n; i++) {
            if (strcmp(pr.keys[i], "probabilities") == 0)
                memcpy((float *)(*probs)->data + row * 3, pr.values[i].data, (size_t)b * 3 * sizeof(float));
            else
                memcpy((int64_t *)(*classes)->data + row, pr.values[i].data, (size_t)b * sizeof(int64_t));
        }
        row += b;
    }
    est_predictor_free(p);
    est_estimator_free(e);
}

static const est_tensor *tl_out(const est_named_tensor *outs, int n, const char *name)
{
    int i;
    for (i = 0; i < n; i++)
        if (strcmp(outs[i].name, name) == 0) return &outs[i].tensor;
    return NULL;
}

TEST(loader_round_trip_matches_predict)
{
    const char *dir = tl_export(0, 2);
    est_saved_model *m = NULL;
    est_tensor *probs = NULL, *classes = NULL;
    est_named_tensor in;
    const est_named_tensor *outs;
    const est_signature_info *si;
    const est_tensor *o;
    int n, i;
    REQUIRE_OK(est_saved_model_load(dir, &m));
    CHECK(est_saved_model_global_step(m) == 20);
    CHECK(est_saved_model_num_signatures(m) == 2); /* serving_default, predict (regression excluded) */
    si = est_saved_model_find_signature(m, "serving_default");
    REQUIRE(si);
    CHECK(si->n_inputs == 1 && strcmp(si->inputs[0].key, "x") == 0 && si->inputs[0].dtype == EST_DTYPE_F32);
    CHECK(si->inputs[0].shape.rank == 2 && si->inputs[0].shape.dims[0] == -1 && si->inputs[0].shape.dims[1] == 4);
    CHECK(strcmp(si->method_name, "tensorflow/serving/predict") == 0);
    tl_predict(&probs, &classes);
    in.name = "x";
    in.tensor = *tx_shared.x;
    REQUIRE_OK(est_saved_model_run(m, "serving_default", &in, 1, &outs, &n));
    CHECK(n == 2);
    o = tl_out(outs, n, "probabilities");
    REQUIRE(o && o->shape.dims[0] == 64);
    CHECK_ALLCLOSE((const float *)o->data, (const float *)probs->data, 64 * 3, 1e-6, 0);
    o = tl_out(outs, n, "classes");
    REQUIRE(o && o->dtype == EST_DTYPE_I64);
    for (i = 0; i < 64; i++) CHECK(((const int64_t *)o->data)[i] == ((const int64_t *)classes->data)[i]);
    /* another batch size on the same model (dynamic batch) */
    REQUIRE_OK(est_tensor_view(tx_shared.x, est_shape2(64, 4), &in.tensor));
    in.tensor.shape.dims[0] = 5;
    REQUIRE_OK(est_saved_model_run(m, "predict", &in, 1, &outs, &n));
    o = tl_out(outs, n, "probabilities");
    REQUIRE(o && o->shape.dims[0] == 5);
    CHECK_ALLCLOSE((const float *)o->data, (const float *)probs->data, 5 * 3, 1e-6, 0);
    est_tensor_free(probs);
    est_tensor_free(classes);
    est_saved_model_free(m);
}

/* est_saved_model_set_kernels routes the served model's GEMMs to a backend (estimator_blas.h's in
 * a real program; here the recording one of test_estimator.c, which also computes), with the
 * pool's thread count, and the answers stay the same. */
TEST(loader_set_kernels_routes_gemms)
{
    const char *dir = tl_export(0, 2);
    est_saved_model *m = NULL;
    est_threadpool *pool = NULL;
    est_threadpool_desc td;
    est_kernels k;
    threads_seen seen;
    est_named_tensor in;
    const est_named_tensor *outs;
    float ref[64 * 3];
    const est_tensor *o;
    int n;
    REQUIRE_OK(est_saved_model_load(dir, &m));
    in.name = "x";
    in.tensor = *tx_shared.x;
    REQUIRE_OK(est_saved_model_run(m, "serving_default", &in, 1, &outs, &n));
    o = tl_out(outs, n, "probabilities");
    REQUIRE(o && o->nbytes == sizeof ref);
    memcpy(ref, o->data, sizeof ref);
    memset(&seen, 0, sizeof seen);
    memset(&k, 0, sizeof k);
    k.sgemm = threads_recording_sgemm;
    k.user_data = &seen;
    k.name = "recording";
    memset(&td, 0, sizeof td);
    td.num_threads = 2;
    REQUIRE_OK(est_threadpool_new(&td, &pool));
    est_saved_model_set_threadpool(m, pool);
    est_saved_model_set_kernels(m, &k);
    CHECK_OK(est_saved_model_run(m, "serving_default", &in, 1, &outs, &n));
    CHECK(seen.calls > 0 && seen.min == 2 && seen.max == 2);
    o = tl_out(outs, n, "probabilities");
    CHECK(o && memcmp(o->data, ref, sizeof ref) == 0);
    est_saved_model_set_kernels(m, NULL);
    seen.calls = 0;
    CHECK_OK(est_saved_model_run(m, "serving_default", &in, 1, &outs, &n));
    CHECK(seen.calls == 0);
    est_saved_model_free(m);
    est_threadpool_free(pool);
}

TEST(loader_from_memory)
{
    const char *dir = tl_export(0, 0);
    char p[1200];
    void *json = NULL, *w = NULL;
    size_t jn, wn;
    est_saved_model *a = NULL, *b = NULL;
    est_named_tensor in;
    const est_named_tensor *oa, *ob;
    int na, nb;
    snprintf(p, sizeof p, "%s/saved_model.json", dir);
    REQUIRE_OK(est_read_file(p, &json, &jn));
    snprintf(p, sizeof p, "%s/variables/variables.safetensors", dir);
    REQUIRE_OK(est_read_file(p, &w, &wn));
    REQUIRE_OK(est_saved_model_load_from_memory(json, jn, w, wn, &a));
    memset(json, 0, jn); /* the model keeps nothing of the caller's buffers */
    memset(w, 0, wn);
    est_free(json);
    est_free(w);
    REQUIRE_OK(est_saved_model_load(dir, &b));
    in.name = "x";
    in.tensor = *tx_shared.x;
    REQUIRE_OK(est_saved_model_run(a, NULL, &in, 1, &oa, &na));
    REQUIRE_OK(est_saved_model_run(b, NULL, &in, 1, &ob, &nb));
    REQUIRE(na == nb && na == 2);
    CHECK(oa[0].tensor.nbytes == ob[0].tensor.nbytes && memcmp(oa[0].tensor.data, ob[0].tensor.data, oa[0].tensor.nbytes) == 0);
    est_saved_model_free(a);
    est_saved_model_free(b);
}

TEST(loader_parsing_receiver_end_to_end)
{
    const char *pdir = tl_export(1, 2), *rdir = tl_export(0, 0);
    est_saved_model *pm = NULL, *rm = NULL;
    est_pb_writer w[3];
    est_string s[3];
    est_named_tensor in;
    const est_named_tensor *po, *ro;
    const est_signature_info *si;
    int pn, rn, i;
    REQUIRE_OK(est_saved_model_load(pdir, &pm));
    REQUIRE_OK(est_saved_model_load(rdir, &rm));
    si = est_saved_model_find_signature(pm, "regression");
    REQUIRE(si);
    CHECK(si->n_inputs == 1 && strcmp(si->inputs[0].key, "inputs") == 0 && si->inputs[0].dtype == EST_DTYPE_STRING);
    CHECK(strcmp(si->outputs[0].key, "outputs") == 0);
    for (i = 0; i < 3; i++) {
        tx_example(&w[i], (const float *)tx_shared.x->data + 4 * i, 4, i & 1, i, NULL);
        s[i].data = (const char *)w[i].data;
        s[i].size = w[i].size;
    }
    memset(&in, 0, sizeof in);
    in.name = "examples";
    in.tensor.dtype = EST_DTYPE_STRING;
    in.tensor.shape = est_shape1(3);
    in.tensor.data = s;
    in.tensor.nbytes = sizeof s;
    REQUIRE_OK(est_saved_model_run(pm, "serving_default", &in, 1, &po, &pn));
    in.name = "x";
    in.tensor = *tx_shared.x;
    in.tensor.shape.dims[0] = 3;
    REQUIRE_OK(est_saved_model_run(rm, "serving_default", &in, 1, &ro, &rn));
    CHECK_ALLCLOSE((const float *)tl_out(po, pn, "probabilities")->data, (const float *)tl_out(ro, rn, "probabilities")->data,
                   9, 1e-6, 0);
    /* the regression signature takes the examples under "inputs" */
    memset(&in, 0, sizeof in);
    in.name = "inputs";
    in.tensor.dtype = EST_DTYPE_STRING;
    in.tensor.shape = est_shape1(3);
    in.tensor.data = s;
    in.tensor.nbytes = sizeof s;
    REQUIRE_OK(est_saved_model_run(pm, "regression", &in, 1, &po, &pn));
    CHECK(pn == 1 && po[0].tensor.shape.dims[0] == 3);
    for (i = 0; i < 3; i++) est_pb_writer_free(&w[i]);
    est_saved_model_free(pm);
    est_saved_model_free(rm);
}

TEST(loader_bad_inputs)
{
    const char *dir = tl_export(0, 2);
    est_saved_model *m = NULL;
    est_named_tensor in[2];
    const est_named_tensor *outs;
    est_tensor *i32 = NULL, *wrong = NULL;
    int n;
    REQUIRE_OK(est_saved_model_load(dir, &m));
    in[0].name = "x";
    in[0].tensor = *tx_shared.x;
    CHECK_STATUS(est_saved_model_run(m, "nope", in, 1, &outs, &n), EST_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(est_last_error(), "no signature 'nope' (signatures: 'serving_default', 'predict')");
    in[0].name = "y";
    CHECK_STATUS(est_saved_model_run(m, NULL, in, 1, &outs, &n), EST_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(est_last_error(), "has no input 'y'; it expects: x float32 [?,4]");
    CHECK_STATUS(est_saved_model_run(m, NULL, in, 0, &outs, &n), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "input 'x' is missing");
    REQUIRE_OK(est_tensor_new(EST_DTYPE_I32, est_shape2(2, 4), &i32));
    in[0].name = "x";
    in[0].tensor = *i32;
    CHECK_STATUS(est_saved_model_run(m, NULL, in, 1, &outs, &n), EST_ERR_DTYPE);
    CHECK_STR_CONTAINS(est_last_error(), "input 'x' is int32, expected float32; the signature expects: x float32 [?,4]");
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(2, 5), &wrong));
    in[0].tensor = *wrong;
    CHECK_STATUS(est_saved_model_run(m, NULL, in, 1, &outs, &n), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "input 'x' has shape [2,5], expected [?,4]");
    in[0].tensor = *tx_shared.x;
    in[1] = in[0];
    CHECK_STATUS(est_saved_model_run(m, NULL, in, 2, &outs, &n), EST_ERR_INVALID_ARGUMENT);
    est_tensor_free(i32);
    est_tensor_free(wrong);
    est_saved_model_free(m);
}

/* Copy an export's two files into a fresh dir, with the JSON edited by replacing `from` by `to`
 * (NULL: unchanged) and the weights cut to `wcut` bytes (0: whole). */
static const char *tl_damaged(const char *src, const char *from, const char *to, size_t wcut)
{
    static char dir[1024];
    static int k;
    char p[1200];
    void *json = NULL, *w = NULL;
    size_t jn = 0, wn = 0;
    char *text, *hit;
    snprintf(dir, sizeof dir, "%s/damaged%d", test_tmpdir(), k++);
    snprintf(p, sizeof p, "%s/saved_model.json", src);
    est_read_file(p, &json, &jn);
    snprintf(p, sizeof p, "%s/variables/variables.safetensors", src);
    est_read_file(p, &w, &wn);
    text = (char *)malloc(jn + 256);
    memcpy(text, json, jn + 1);
    if (from && (hit = strstr(text, from)) != NULL) {
        size_t lf = strlen(from), lt = strlen(to);
        memmove(hit + lt, hit + lf, strlen(hit + lf) + 1);
        memcpy(hit, to, lt);
        jn = strlen(text);
    }
    snprintf(p, sizeof p, "%s/variables", dir);
    est_mkdirs(p);
    snprintf(p, sizeof p, "%s/saved_model.json", dir);
    est_write_file_atomic(p, text, jn);
    snprintf(p, sizeof p, "%s/variables/variables.safetensors", dir);
    est_write_file_atomic(p, w, wcut ? wcut : wn);
    free(text);
    est_free(json);
    est_free(w);
    return dir;
}

TEST(loader_bad_files)
{
    const char *dir = tl_export(0, 0);
    est_saved_model *m = NULL;
    char p[1200];
    /* missing directory / files */
    CHECK_STATUS(est_saved_model_load("/nonexistent_export_dir", &m), EST_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(est_last_error(), "/nonexistent_export_dir/saved_model.json");
    /* truncated JSON */
    {
        void *json = NULL;
        size_t jn;
        snprintf(p, sizeof p, "%s/saved_model.json", dir);
        REQUIRE_OK(est_read_file(p, &json, &jn));
        CHECK(est_saved_model_load_from_memory(json, jn / 2, NULL, 0, &m) != EST_OK);
        CHECK_STR_CONTAINS(est_last_error(), "saved_model.json");
        CHECK(m == NULL);
        est_free(json);
    }
    /* truncated weights */
    CHECK_STATUS(est_saved_model_load(tl_damaged(dir, NULL, NULL, 100), &m), EST_ERR_TRUNCATED);
    CHECK_STR_CONTAINS(est_last_error(), "variables.safetensors");
    /* a JSON edit that keeps it valid: detected by the checksum */
    CHECK_STATUS(est_saved_model_load(tl_damaged(dir, "\"global_step\": 20", "\"global_step\": 21", 0), &m),
                 EST_ERR_CORRUPT);
    CHECK_STR_CONTAINS(est_last_error(), "corrupt or comes from another export");
    /* weights that do not match the graph: listed with both shapes */
    CHECK_STATUS(est_saved_model_load(tl_damaged(dir, "\"name\": \"dense/kernel\",\n   \"dtype\": \"float32\",\n   \"shape\": [\n    4,",
                                                 "\"name\": \"dense/kernel\",\n   \"dtype\": \"float32\",\n   \"shape\": [\n    5,", 0),
                                      &m),
                 EST_ERR_CHECKPOINT);
    CHECK_STR_CONTAINS(est_last_error(), "dense/kernel (graph float32 [5,8], weights float32 [4,8])");
    CHECK_STATUS(est_saved_model_load(tl_damaged(dir, "\"name\": \"dense/bias\"", "\"name\": \"dense/bias_gone\"", 0), &m),
                 EST_ERR_CHECKPOINT);
    CHECK_STR_CONTAINS(est_last_error(), "1 missing (dense/bias_gone)");
    /* hand-made documents without variables: structural errors name the node */
    {
        static const char *docs[][2] = {
            {"{\"format\": \"estimator.h saved_model v1\", \"variables\": [], \"signature_def\": {}, \"graph\": "
             "{\"nodes\": [{\"name\": \"a\", \"op\": \"MetMul\", \"dtype\": \"float32\", \"shape\": []}]}}",
             "node 'a' (MetMul): unknown op 'MetMul'"},
            {"{\"format\": \"estimator.h saved_model v1\", \"variables\": [], \"signature_def\": {}, \"graph\": "
             "{\"nodes\": [{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [2], "
             "\"inputs\": [\"later\"]}]}}",
             "input 0 ('later') is not an earlier node"},
            {"{\"format\": \"estimator.h saved_model v1\", \"variables\": [], \"signature_def\": {}, \"graph\": "
             "{\"nodes\": [{\"name\": \"v\", \"op\": \"VariableV2\", \"dtype\": \"float32\", \"shape\": []}]}}",
             "variable 'v' is not in the weights"},
            {"{\"format\": \"estimator.h saved_model v1\", \"variables\": [], \"signature_def\": {}, \"graph\": "
             "{\"nodes\": [{\"name\": \"x\", \"op\": \"Placeholder\", \"dtype\": \"float32\", \"shape\": [-1, 3]},"
             "{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"]}]}}",
             "the file says float32 [?,4], the graph gives float32 [?,3]"},
            {"{\"format\": \"something else\"}", "format is 'something else'"},
            {"{\"format\": \"estimator.h saved_model v1\", \"variables\": [], \"graph\": {\"nodes\": []}, "
             "\"signature_def\": {\"s\": {\"inputs\": {}, \"outputs\": {\"y\": {\"name\": \"y:0\", \"dtype\": "
             "\"float32\", \"shape\": []}}}}}",
             "tensor 'y:0' is not in the graph"},
        };
        size_t k;
        for (k = 0; k < sizeof docs / sizeof docs[0]; k++) {
            est_saved_model *mm = NULL;
            CHECK(est_saved_model_load_from_memory(docs[k][0], strlen(docs[k][0]), NULL, 0, &mm) != EST_OK);
            CHECK_STR_CONTAINS(est_last_error(), docs[k][1]);
            CHECK(mm == NULL);
        }
    }
}

/* ---- tools/saved_model_cli (built by `make tools`, which tests/run.sh runs first) ---- */

static int tl_sh(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    int st;
    if (!p) return -1;
    while (n + 1 < cap) {
        size_t got = fread(out + n, 1, cap - 1 - n, p);
        if (!got) break;
        n += got;
    }
    out[n] = 0;
    st = pclose(p);
    return st;
}

TEST(saved_model_cli_show_and_run)
{
    const char *dir = tl_export(0, 2), *pdir = tl_export(1, 0);
    static char out[16384];
    char cmd[4096], npy[1200], outdir[1024], xnpy[1200];
    est_tensor *probs = NULL;
    if (!est_path_exists("build/saved_model_cli")) {
        printf("skipped: build/saved_model_cli not built\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "build/saved_model_cli show --dir %s 2>&1", dir);
    CHECK(tl_sh(cmd, out, sizeof out) == 0);
    CHECK_STR_CONTAINS(out, "The given SavedModel contains the following tag-sets:\n'serve'\n");
    CHECK_STR_CONTAINS(out, "SignatureDef key: \"predict\"\nSignatureDef key: \"serving_default\"\n");
    snprintf(cmd, sizeof cmd, "build/saved_model_cli show --dir %s --all 2>&1", dir);
    CHECK(tl_sh(cmd, out, sizeof out) == 0);
    CHECK_STR_CONTAINS(out, "MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:\n\n"
                            "signature_def['predict']:\n"
                            "  The given SavedModel SignatureDef contains the following input(s):\n"
                            "    inputs['x'] tensor_info:\n"
                            "        dtype: DT_FLOAT\n"
                            "        shape: (-1, 4)\n"
                            "        name: x:0\n"
                            "  The given SavedModel SignatureDef contains the following output(s):\n"
                            "    outputs['classes'] tensor_info:\n"
                            "        dtype: DT_INT64\n"
                            "        shape: (-1)\n");
    CHECK_STR_CONTAINS(out, "  Method name is: tensorflow/serving/predict\n");
    /* run with a .npy input and --outdir */
    snprintf(npy, sizeof npy, "%s/cli_x.npy", test_tmpdir());
    REQUIRE_OK(est_npy_save(npy, tx_shared.x));
    snprintf(xnpy, sizeof xnpy, "%s", npy);
    snprintf(outdir, sizeof outdir, "%s/cli_out", test_tmpdir());
    snprintf(cmd, sizeof cmd, "build/saved_model_cli run --dir %s --tag_set serve --signature_def serving_default "
             "--inputs 'x=%s' --outdir %s 2>&1", dir, npy, outdir);
    CHECK(tl_sh(cmd, out, sizeof out) == 0);
    snprintf(npy, sizeof npy, "%s/probabilities.npy", outdir);
    REQUIRE_OK(est_npy_load(npy, &probs));
    CHECK(probs->shape.rank == 2 && probs->shape.dims[0] == 64 && probs->shape.dims[1] == 3);
    est_tensor_free(probs);
    snprintf(npy, sizeof npy, "%s/classes.npy", outdir);
    CHECK(est_path_exists(npy));
    CHECK(tl_sh(cmd, out, sizeof out) != 0); /* outputs exist: --overwrite needed */
    CHECK_STR_CONTAINS(out, "already exists");
    /* examples through the parsing receiver, printed */
    snprintf(cmd, sizeof cmd, "build/saved_model_cli run --dir %s --signature_def serving_default "
             "--input_examples 'examples=[{\"x\":[0.1,0.2,0.3,0.4]},{\"x\":[1,0,0,0]}]' 2>&1", pdir);
    CHECK(tl_sh(cmd, out, sizeof out) == 0);
    CHECK_STR_CONTAINS(out, "Result for output key classes:\n[");
    CHECK_STR_CONTAINS(out, "Result for output key probabilities:\n[[");
    /* errors */
    snprintf(cmd, sizeof cmd, "build/saved_model_cli run --dir %s --signature_def nope --inputs 'x=%s' 2>&1", dir, xnpy);
    CHECK(tl_sh(cmd, out, sizeof out) != 0);
    CHECK_STR_CONTAINS(out, "no signature 'nope'");
}

/* ---- per-op validation: every rejection class, with its message ---- */

/* A hand-made saved_model.json without variables (no weights, so no checksum to match): placeholders
 * x float32 [?,4], img float32 [?,6,6,2], f float32 [3,3,2,4], i int64 [?], s string [?], then
 * `nodes` (JSON objects, comma-separated) and the signature_def `sigs` ("{}" when NULL). */
static est_status tl_doc_load(const char *nodes, const char *sigs, est_saved_model **m)
{
    static char doc[8192];
    snprintf(doc, sizeof doc,
             "{\"format\": \"estimator.h saved_model v1\", \"variables\": [], \"signature_def\": %s, \"graph\": "
             "{\"nodes\": [{\"name\": \"x\", \"op\": \"Placeholder\", \"dtype\": \"float32\", \"shape\": [-1, 4]},"
             "{\"name\": \"img\", \"op\": \"Placeholder\", \"dtype\": \"float32\", \"shape\": [-1, 6, 6, 2]},"
             "{\"name\": \"f\", \"op\": \"Placeholder\", \"dtype\": \"float32\", \"shape\": [3, 3, 2, 4]},"
             "{\"name\": \"i\", \"op\": \"Placeholder\", \"dtype\": \"int64\", \"shape\": [-1]},"
             "{\"name\": \"s\", \"op\": \"Placeholder\", \"dtype\": \"string\", \"shape\": [-1]}%s%s]}}",
             sigs ? sigs : "{}", nodes && *nodes ? "," : "", nodes ? nodes : "");
    *m = NULL;
    return est_saved_model_load_from_memory(doc, strlen(doc), NULL, 0, m);
}

TEST(loader_rejects_bad_ops_and_attributes)
{
    static const struct {
        const char *node, *msg;
        est_status code;
    } cases[] = {
        /* input counts */
        {"{\"name\": \"m\", \"op\": \"MatMul\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"]}",
         "node 'm' (MatMul): has 1 inputs; MatMul takes 2", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\", \"x\"]}",
         "node 'r' (Relu): has 2 inputs; Relu takes 1", EST_ERR_FORMAT},
        {"{\"name\": \"a\", \"op\": \"AddN\", \"dtype\": \"float32\", \"shape\": []}",
         "node 'a' (AddN): has 0 inputs; AddN takes 1 to 64", EST_ERR_FORMAT},
        /* dtypes of inputs and of the node */
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1], \"inputs\": [\"i\"]}",
         "node 'r' (Relu): input 0 ('i') is int64, expected float32", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"uint8\", \"shape\": [-1, 4], \"inputs\": [\"x\"]}",
         "node 'r' (Relu): dtype is uint8, but Relu of these inputs gives float32", EST_ERR_FORMAT},
        {"{\"name\": \"c\", \"op\": \"Cast\", \"dtype\": \"float16\", \"shape\": [-1, 4], \"inputs\": [\"x\"]}",
         "node 'c' (Cast): missing or unknown dtype float16", EST_ERR_FORMAT},
        {"{\"name\": \"c\", \"op\": \"Cast\", \"dtype\": 3, \"shape\": [-1, 4], \"inputs\": [\"x\"]}",
         "node 'c' (Cast): missing or unknown dtype", EST_ERR_FORMAT},
        {"{\"name\": \"c\", \"op\": \"Cast\", \"dtype\": \"string\", \"shape\": [-1, 4], \"inputs\": [\"x\"]}",
         "node 'c' (Cast): cannot cast to string", EST_ERR_FORMAT},
        {"{\"name\": \"a\", \"op\": \"ArgMax\", \"dtype\": \"float32\", \"shape\": [-1], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [1]}}",
         "node 'a' (ArgMax): output_type float32 must be int32 or int64", EST_ERR_FORMAT},
        {"{\"name\": \"g\", \"op\": \"GatherV2\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\", \"x\"]}",
         "node 'g' (GatherV2): input 1 ('x') is float32, expected int32/int64", EST_ERR_FORMAT},
        {"{\"name\": \"a\", \"op\": \"Assign\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\", \"x\"]}",
         "node 'a' (Assign): input 0 ('x') is a Placeholder, not a variable", EST_ERR_FORMAT},
        /* attributes: unknown, out of range, wrong JSON type, too many */
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [0, 5]}}",
         "node 'r' (Relu): attr i[1] is 5, but Relu has no such attribute", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"f\": [0.5]}}",
         "node 'r' (Relu): attr f[0] is set, but Relu has no such attribute", EST_ERR_FORMAT},
        {"{\"name\": \"sm\", \"op\": \"Softmax\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [-1]}}",
         "node 'sm' (Softmax): attr i[0] (axis) is -1, must be in [0, 1]", EST_ERR_FORMAT},
        {"{\"name\": \"c\", \"op\": \"ConcatV2\", \"dtype\": \"float32\", \"shape\": [-1, 8], \"inputs\": [\"x\", \"x\"], "
         "\"attr\": {\"i\": [1099511627776]}}",
         "node 'c' (ConcatV2): attr i[0] (axis) is 1099511627776, must be in [0, 1]", EST_ERR_FORMAT},
        {"{\"name\": \"c\", \"op\": \"Conv2D\", \"dtype\": \"float32\", \"shape\": [-1, 6, 6, 4], \"inputs\": [\"img\", \"f\"], "
         "\"attr\": {\"i\": [0, 1, 2, 1, 1, -1, -1, -1, -1]}}",
         "node 'c' (Conv2D): attr i[0] (strides[0]) is 0, must be in [1, 1048576]", EST_ERR_FORMAT},
        {"{\"name\": \"c\", \"op\": \"Conv2D\", \"dtype\": \"float32\", \"shape\": [-1, 6, 6, 4], \"inputs\": [\"img\", \"f\"], "
         "\"attr\": {\"i\": [1, 1, 7, 1, 1, -1, -1, -1, -1]}}",
         "node 'c' (Conv2D): attr i[2] (padding) is 7, must be in [1, 2]", EST_ERR_FORMAT},
        {"{\"name\": \"p\", \"op\": \"MaxPool\", \"dtype\": \"float32\", \"shape\": [-1, 3, 3, 2], \"inputs\": [\"img\"], "
         "\"attr\": {\"i\": [1099511627776, 2, 2, 2, 1]}}",
         "node 'p' (MaxPool): attr i[0] (ksize[0]) is 1099511627776, must be in [1, 1048576]", EST_ERR_FORMAT},
        {"{\"name\": \"p\", \"op\": \"MaxPool\", \"dtype\": \"float32\", \"shape\": [-1, 1, 1, 2], \"inputs\": [\"img\"], "
         "\"attr\": {\"i\": [7, 7, 1, 1, 1]}}",
         "VALID padding: kernel 7x7 larger than input 6x6", EST_ERR_SHAPE},
        {"{\"name\": \"t\", \"op\": \"Transpose\", \"dtype\": \"float32\", \"shape\": [-1, -1], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [0, 0]}}",
         "node 't' (Transpose): attr i[1] (perm): axis 0 is repeated", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Reshape\", \"dtype\": \"float32\", \"shape\": [-1, -1], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [2, -1, -1]}}",
         "node 'r' (Reshape): the target shape has more than one -1", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Reshape\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [9]}}",
         "node 'r' (Reshape): attr i[0] (rank) is 9, must be in [0, 8]", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Reshape\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [3, 2147483648, 2147483648, -1]}}",
         "node 'r' (Reshape): the target shape holds more than 2^34 elements", EST_ERR_FORMAT},
        {"{\"name\": \"t\", \"op\": \"Tile\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [1048576, 1048576]}}",
         "node 't' (Tile): the multiples make more than 2^34 elements per fed element", EST_ERR_FORMAT},
        {"{\"name\": \"o\", \"op\": \"OneHot\", \"dtype\": \"float32\", \"shape\": [-1, 3], \"inputs\": [\"i\"], "
         "\"attr\": {\"i\": [-3, 1]}}",
         "node 'o' (OneHot): attr i[0] (depth) is -3, must be in [0, 2147483648]", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [\"3\"]}}",
         "node 'r' (Relu): attr i[0] is not an integer", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"LeakyRelu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"f\": [true]}}",
         "node 'r' (LeakyRelu): attr f[0] is not a number", EST_ERR_FORMAT},
        {"{\"name\": \"r\", \"op\": \"Relu\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"i\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}}",
         "node 'r' (Relu): attr is not {i: [<= 24 ints], f: [<= 4 floats]}", EST_ERR_FORMAT},
        {"{\"name\": \"d\", \"op\": \"Dropout\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\"], "
         "\"attr\": {\"f\": [1, 2]}}",
         "node 'd' (Dropout): attr f[0] (rate) is 1, must be in [0, 1)", EST_ERR_FORMAT},
        /* attributes that must agree with the inputs */
        {"{\"name\": \"k\", \"op\": \"Const\", \"dtype\": \"string\", \"shape\": [], \"value\": {\"dtype\": \"string\", "
         "\"shape\": [], \"strings\": [\"eA==\"]}},"
         "{\"name\": \"d\", \"op\": \"Const\", \"dtype\": \"float32\", \"shape\": [1], \"value\": {\"dtype\": \"float32\", "
         "\"shape\": [1], \"data\": \"AAAAAA==\"}},"
         "{\"name\": \"pe\", \"op\": \"ParseExample\", \"dtype\": \"float32\", \"shape\": [-1, 3], \"inputs\": [\"s\", \"k\", "
         "\"d\"], \"attr\": {\"i\": [1, 3, 0, 0, 0, 0, 0, 0, 0, 1]}}",
         "node 'pe' (ParseExample): the default value 'd' is float32 [1], the feature is float32 [3]", EST_ERR_FORMAT},
        {"{\"name\": \"e\", \"op\": \"EmbeddingLookupSparse\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": "
         "[\"x\", \"i\", \"i\", \"i\"], \"attr\": {\"i\": [1, 0, 6, -1]}}",
         "node 'e' (EmbeddingLookupSparse): attr i[2] (rows_like input) is 6, must be in [-1, 4]", EST_ERR_FORMAT},
        {"{\"name\": \"v\", \"op\": \"LookupTableFindV2\", \"dtype\": \"int64\", \"shape\": [-1], \"inputs\": [\"s\", \"s\", "
         "\"i\"]}",
         "node 'v' (LookupTableFindV2): inputs 1 (vocabulary) and 2 (table) must be Const nodes", EST_ERR_FORMAT},
        /* ops an inference export never holds; shapes too big to count */
        {"{\"name\": \"g\", \"op\": \"MaxPoolGrad\", \"dtype\": \"float32\", \"shape\": [-1, 6, 6, 2], \"inputs\": [\"img\", "
         "\"img\"], \"attr\": {\"i\": [1, 1, 1, 1, 1]}}",
         "node 'g' (MaxPoolGrad): MaxPoolGrad is a gradient or training op", EST_ERR_FORMAT},
        {"{\"name\": \"p\", \"op\": \"Placeholder\", \"dtype\": \"float32\", \"shape\": [1099511627776, 1099511627776]}",
         "node 'p' (Placeholder): shape [1099511627776,1099511627776] holds more than 2^40 elements", EST_ERR_FORMAT},
    };
    size_t k;
    est_saved_model *m = NULL;
    /* the placeholders alone, and a well-formed node of each family, load */
    REQUIRE_OK(tl_doc_load(NULL, NULL, &m));
    est_saved_model_free(m);
    REQUIRE_OK(tl_doc_load("{\"name\": \"c\", \"op\": \"Conv2D\", \"dtype\": \"float32\", \"shape\": [-1, 3, 3, 4], "
                           "\"inputs\": [\"img\", \"f\"], \"attr\": {\"i\": [2, 2, 2, 1, 1, -1, -1, -1, -1]}},"
                           "{\"name\": \"r\", \"op\": \"LeakyRelu\", \"dtype\": \"float32\", \"shape\": [-1, 3, 3, 4], "
                           "\"inputs\": [\"c\"], \"attr\": {\"f\": [0.2]}},"
                           "{\"name\": \"g\", \"op\": \"GatherV2\", \"dtype\": \"string\", \"shape\": [-1], "
                           "\"inputs\": [\"s\", \"i\"]}",
                           NULL, &m));
    est_saved_model_free(m);
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        est_status st = tl_doc_load(cases[k].node, NULL, &m);
        CHECK_MSG(st == cases[k].code, "case %d: status %d, expected %d (%s)", (int)k, (int)st, (int)cases[k].code,
                  est_last_error());
        CHECK_STR_CONTAINS(est_last_error(), cases[k].msg);
        CHECK(m == NULL);
    }
}

/* What only the fed values decide fails at run time with a message, never out of bounds. */
TEST(loader_run_time_errors)
{
    est_saved_model *m = NULL;
    est_tensor *x = NULL, *ix = NULL;
    est_named_tensor in[2];
    const est_named_tensor *outs;
    int n;
    REQUIRE_OK(tl_doc_load(
        "{\"name\": \"g\", \"op\": \"GatherV2\", \"dtype\": \"float32\", \"shape\": [-1, 4], \"inputs\": [\"x\", \"i\"]},"
        "{\"name\": \"r\", \"op\": \"Reshape\", \"dtype\": \"float32\", \"shape\": [-1, 3], \"inputs\": [\"x\"], "
        "\"attr\": {\"i\": [2, -1, 3]}},"
        "{\"name\": \"rl\", \"op\": \"ReshapeLike\", \"dtype\": \"float32\", \"shape\": [-1], \"inputs\": [\"x\", \"i\"]}",
        "{\"gather\": {\"inputs\": {\"x\": {\"name\": \"x:0\", \"dtype\": \"float32\", \"shape\": [-1, 4]}, \"i\": "
        "{\"name\": \"i:0\", \"dtype\": \"int64\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"name\": \"g:0\", "
        "\"dtype\": \"float32\", \"shape\": [-1, 4]}}},"
        "\"reshape\": {\"inputs\": {\"x\": {\"name\": \"x:0\", \"dtype\": \"float32\", \"shape\": [-1, 4]}}, \"outputs\": "
        "{\"y\": {\"name\": \"r:0\", \"dtype\": \"float32\", \"shape\": [-1, 3]}}},"
        "\"reshape_like\": {\"inputs\": {\"x\": {\"name\": \"x:0\", \"dtype\": \"float32\", \"shape\": [-1, 4]}, \"i\": "
        "{\"name\": \"i:0\", \"dtype\": \"int64\", \"shape\": [-1]}}, \"outputs\": {\"y\": {\"name\": \"rl:0\", "
        "\"dtype\": \"float32\", \"shape\": [-1]}}}}",
        &m));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape2(2, 4), &x));
    REQUIRE_OK(est_tensor_new(EST_DTYPE_I64, est_shape1(3), &ix));
    memset(x->data, 0, x->nbytes);
    ((int64_t *)ix->data)[0] = 1;
    ((int64_t *)ix->data)[1] = 7; /* out of range: x has 2 rows */
    ((int64_t *)ix->data)[2] = 0;
    in[0].name = "x";
    in[0].tensor = *x;
    in[1].name = "i";
    in[1].tensor = *ix;
    CHECK_STATUS(est_saved_model_run(m, "gather", in, 2, &outs, &n), EST_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(est_last_error(), "signature 'gather': GatherV2 'g'");
    CHECK_STR_CONTAINS(est_last_error(), "7 is not in [0, 2)");
    ((int64_t *)ix->data)[1] = -1;
    CHECK_STATUS(est_saved_model_run(m, "gather", in, 2, &outs, &n), EST_ERR_INVALID_ARGUMENT);
    ((int64_t *)ix->data)[1] = 1;
    REQUIRE_OK(est_saved_model_run(m, "gather", in, 2, &outs, &n));
    CHECK(n == 1 && outs[0].tensor.shape.dims[0] == 3);
    /* 8 elements do not reshape to [?, 3] */
    CHECK_STATUS(est_saved_model_run(m, "reshape", in, 1, &outs, &n), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "Reshape 'r': cannot reshape [2,4] (8 elements) to [?,3]");
    /* 8 elements are not like 3 */
    CHECK_STATUS(est_saved_model_run(m, "reshape_like", in, 2, &outs, &n), EST_ERR_SHAPE);
    CHECK_STR_CONTAINS(est_last_error(), "cannot reshape [2,4] (8 elements) like [3] (3 elements)");
    est_tensor_free(x);
    est_tensor_free(ix);
    est_saved_model_free(m);
}

/* ---- mutation fuzzing of a real export ---- */

/* img [?,6,6,2] -> conv 3x3 SAME relu + batch norm + max pool, separable conv, padded average pool,
 * spatial mean, concatenated, gathered, dense tanh, dense -> softmax / argmax. */
static est_status tl_fz_model_fn(est_graph *g, const est_features *f, est_node *labels, est_mode mode,
                                 const est_params *params, const est_run_config *cfg, est_spec *spec)
{
    static const int64_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0};
    static const int32_t perm[3] = {2, 0, 1};
    est_conv_layer_args conv;
    est_dense_args d;
    est_reduce_args ra;
    est_tensor *pt = NULL;
    est_node *img = est_features_get(f, "img"), *h, *xs[4], *c, *logits, *loss;
    est_optimizer_desc o;
    (void)params;
    (void)cfg;
    memset(&conv, 0, sizeof conv);
    conv.padding = EST_PADDING_SAME;
    conv.activation = EST_ACTIVATION_RELU;
    h = est_conv2d_layer(g, img, 4, 3, 3, &conv);
    h = est_batch_normalization(g, h, mode == EST_MODE_TRAIN, NULL);
    xs[0] = est_reshape(g, est_max_pooling2d(g, h, 2, 2, NULL), est_shape2(-1, 36));
    memset(&conv, 0, sizeof conv);
    conv.strides[0] = conv.strides[1] = 2;
    conv.depth_multiplier = 2;
    xs[1] = est_flatten(g, est_separable_conv2d_layer(g, img, 3, 3, 3, &conv)); /* [?, 2*2*3] */
    xs[2] = est_reshape(g, est_average_pooling2d(g, est_pad(g, img, pads, EST_PAD_MODE_CONSTANT, 0.0f), 2, 2, NULL),
                        est_shape2(-1, 32));
    memset(&ra, 0, sizeof ra);
    ra.axes[0] = 1;
    ra.axes[1] = 2;
    ra.n_axes = 2;
    xs[3] = est_reduce_mean(g, img, &ra);
    c = est_concat(g, xs, 4, 1); /* [?, 82] */
    memset(&d, 0, sizeof d);
    d.activation = EST_ACTIVATION_TANH;
    h = est_dense(g, c, 6, &d);
    logits = est_dense(g, h, 3, NULL);
    if (est_tensor_from_data(EST_DTYPE_I32, est_shape1(3), perm, &pt) != EST_OK) return EST_ERR_OUT_OF_MEMORY;
    logits = est_gather(g, logits, est_constant(g, pt), 1);
    est_tensor_free(pt);
    est_spec_add_prediction(spec, "probabilities", est_softmax(g, logits, -1));
    est_spec_add_prediction(spec, "classes", est_argmax(g, logits, 1, EST_DTYPE_DEFAULT));
    if (mode == EST_MODE_PREDICT) return est_graph_status(g);
    loss = est_losses_sparse_softmax_cross_entropy(g, labels, logits, NULL);
    est_spec_set_loss(spec, loss);
    memset(&o, 0, sizeof o);
    o.learning_rate = 0.05f;
    est_spec_set_train_op(spec, est_minimize(g, &o, loss, NULL, 0, est_get_or_create_global_step(g)));
    return est_graph_status(g);
}

static est_tensor *tl_fz_x, *tl_fz_y;

static est_status tl_fz_input_fn(est_mode mode, const est_params *p, void *user, est_dataset **out)
{
    est_numpy_input_args a;
    const char *names[1] = {"img"};
    (void)p;
    (void)user;
    memset(&a, 0, sizeof a);
    a.n_x = 1;
    a.x_names = names;
    a.x = tl_fz_x;
    a.y = mode == EST_MODE_PREDICT ? NULL : tl_fz_y;
    a.batch_size = 8;
    a.num_epochs = mode == EST_MODE_TRAIN ? -1 : 1;
    a.shuffle = -1;
    return est_numpy_input_fn(&a, out);
}

/* Train the model 3 steps and export it; returns the export dir (or "" after printing why). */
static const char *tl_fz_export(void)
{
    static char out[1024];
    est_estimator_desc desc;
    est_run_config c;
    est_estimator *e = NULL;
    est_receiver *r = NULL;
    est_raw_feature rf;
    est_train_args ta;
    char mdir[512], base[512];
    uint64_t s = 99;
    int64_t i;
    if (out[0]) return out;
    est_tensor_new(EST_DTYPE_F32, est_shape4(16, 6, 6, 2), &tl_fz_x);
    est_tensor_new(EST_DTYPE_I32, est_shape1(16), &tl_fz_y);
    for (i = 0; i < 16 * 72; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ((float *)tl_fz_x->data)[i] = (float)((s >> 40) & 0xFFFF) / 32768.0f - 1.0f;
    }
    for (i = 0; i < 16; i++) ((int32_t *)tl_fz_y->data)[i] = (int32_t)(i % 3);
    snprintf(mdir, sizeof mdir, "%s/tl_fz_model", test_tmpdir());
    snprintf(base, sizeof base, "%s/tl_fz_export", test_tmpdir());
    memset(&c, 0, sizeof c);
    c.model_dir = mdir;
    c.tf_random_seed = 5;
    memset(&desc, 0, sizeof desc);
    desc.model_fn = tl_fz_model_fn;
    desc.config = &c;
    desc.logger.min_level = EST_LOG_LEVEL_ERROR;
    desc.progress_bar = -1;
    memset(&ta, 0, sizeof ta);
    ta.input_fn = tl_fz_input_fn;
    ta.steps = 3;
    memset(&rf, 0, sizeof rf);
    rf.name = "img";
    rf.dtype = EST_DTYPE_F32;
    rf.shape = est_shape3(6, 6, 2);
    if (est_estimator_new(&desc, &e) != EST_OK || est_estimator_train(e, &ta, NULL) != EST_OK ||
        est_build_raw_serving_input_receiver_fn(&rf, 1, 0, &r) != EST_OK ||
        est_estimator_export_saved_model(e, base, r, NULL, NULL, out, sizeof out) != EST_OK) {
        printf("tl_fz_export: %s\n", est_last_error());
        out[0] = 0;
    }
    est_receiver_free(r);
    est_estimator_free(e);
    return out;
}

/* Mutation kinds, applied to one graph node while the document is copied. */
enum {
    TL_IN_DROP,   /* remove input arg */
    TL_IN_ADD,    /* append an input: the previous node, the first node, input 0 again */
    TL_IN_SWAP,   /* input arg / 4 becomes another earlier node */
    TL_IN_CLEAR,  /* no inputs at all */
    TL_ATTR_DEL,  /* no attr object */
    TL_I_DEL,     /* remove i[arg] */
    TL_I_SET,     /* i[arg / 12] = a special value */
    TL_I_TYPE,    /* i[arg / 4] becomes a string, a fraction, null or a bool */
    TL_I_APPEND,  /* append 1, -1 or 2^40, or pad to 25 entries */
    TL_F_SET,     /* f[arg / 6] = -1, 0, 1e300, "nan", "inf" or "x" */
    TL_ATTR_SET,  /* replace attr: {i: [1]}, {i: [-1, -1]}, {f: [0.5, 0.5, 0.5, 0.5, 0.5]}, "attr" */
    TL_DTYPE,     /* another dtype (or not one) */
    TL_SHAPE,     /* another shape */
    TL_CONST,     /* a Const's bytes all 0x00, all 0xFF or 0x7D 0xF7 0xDF..., its strings "" or "\xff\xff" */
    TL_OP,        /* another op with the same inputs and attributes */
    TL_KINDS
};

static const int64_t tl_ivals[12] = {-1, 0, 1, 2, 3, 5, -2, (int64_t)1 << 31, (int64_t)1 << 40, -((int64_t)1 << 40),
                                     INT64_MAX, INT64_MIN};

typedef struct tl_mut {
    size_t node;
    int kind, arg;
} tl_mut;

static void tl_emit(est_json_writer *w, const est_json *v)
{
    size_t i;
    switch (v->type) {
    case EST_JSON_NULL: est_json_null(w); break;
    case EST_JSON_BOOL: est_json_bool(w, v->boolean); break;
    case EST_JSON_NUMBER:
        if (v->is_int) est_json_int(w, v->integer);
        else est_json_double(w, v->number);
        break;
    case EST_JSON_STRING: est_json_string_n(w, v->str, v->len); break;
    case EST_JSON_ARRAY:
        est_json_begin_array(w);
        for (i = 0; i < v->count; i++) tl_emit(w, &v->items[i]);
        est_json_end_array(w);
        break;
    default:
        est_json_begin_object(w);
        for (i = 0; i < v->count; i++) {
            est_json_key_n(w, v->members[i].key, v->members[i].key_len);
            tl_emit(w, &v->members[i].value);
        }
        est_json_end_object(w);
        break;
    }
}

/* How many arguments kind takes on node nd (0: not applicable). */
static int tl_nargs(const est_json *nd, int kind)
{
    const est_json *in = est_json_get(nd, "inputs"), *at = est_json_get(nd, "attr");
    const est_json *ai = est_json_get(at, "i"), *af = est_json_get(at, "f");
    int ni = in ? (int)in->count : 0, na = ai ? (int)ai->count : 0, nf = af ? (int)af->count : 0;
    switch (kind) {
    case TL_IN_DROP: return ni;
    case TL_IN_ADD: return 3;
    case TL_IN_SWAP: return 4 * ni;
    case TL_IN_CLEAR: return ni ? 1 : 0;
    case TL_ATTR_DEL: return at ? 1 : 0;
    case TL_I_DEL: return na;
    case TL_I_SET: return 12 * na;
    case TL_I_TYPE: return 4 * na;
    case TL_I_APPEND: return 4;
    case TL_F_SET: return 6 * nf;
    case TL_ATTR_SET: return 4;
    case TL_DTYPE: return 10;
    case TL_SHAPE: return 6;
    case TL_CONST: return est_json_get(nd, "value") ? 3 : 0;
    default: return 24; /* TL_OP */
    }
}

static void tl_emit_inputs(est_json_writer *w, const est_json *in, const est_json *nodes, const tl_mut *m)
{
    size_t j, n = in ? in->count : 0;
    est_json_key(w, "inputs");
    est_json_begin_array(w);
    for (j = 0; j < n; j++) {
        if (m->kind == TL_IN_DROP && (size_t)m->arg == j) continue;
        if (m->kind == TL_IN_SWAP && (size_t)m->arg / 4 == j)
            est_json_string(w, est_json_get(&nodes->items[(m->node * 31 + (size_t)m->arg * 7) % m->node], "name")->str);
        else
            tl_emit(w, &in->items[j]);
    }
    if (m->kind == TL_IN_ADD) {
        const est_json *src = m->arg == 0 ? &nodes->items[m->node - 1] : &nodes->items[0];
        if (m->arg == 2 && n) tl_emit(w, &in->items[0]);
        else est_json_string(w, est_json_get(src, "name")->str);
    }
    est_json_end_array(w);
}

static void tl_emit_attr(est_json_writer *w, const est_json *at, const tl_mut *m)
{
    const est_json *ai = est_json_get(at, "i"), *af = est_json_get(at, "f");
    size_t j, na = ai ? ai->count : 0, nf = af ? af->count : 0;
    est_json_key(w, "attr");
    if (m->kind == TL_ATTR_SET) {
        if (m->arg == 3) {
            est_json_string(w, "attr");
            return;
        }
        est_json_begin_object(w);
        est_json_key(w, m->arg == 2 ? "f" : "i");
        est_json_begin_array(w);
        for (j = 0; j < (m->arg == 0 ? 1u : m->arg == 1 ? 2u : 5u); j++) {
            if (m->arg == 2) est_json_double(w, 0.5);
            else est_json_int(w, m->arg == 0 ? 1 : -1);
        }
        est_json_end_array(w);
        est_json_end_object(w);
        return;
    }
    est_json_begin_object(w);
    if (ai || m->kind == TL_I_APPEND) {
        est_json_key(w, "i");
        est_json_begin_array(w);
        for (j = 0; j < na; j++) {
            if (m->kind == TL_I_DEL && (size_t)m->arg == j) continue;
            if (m->kind == TL_I_SET && (size_t)m->arg / 12 == j) est_json_int(w, tl_ivals[m->arg % 12]);
            else if (m->kind == TL_I_TYPE && (size_t)m->arg / 4 == j) {
                if (m->arg % 4 == 0) est_json_string(w, "3");
                else if (m->arg % 4 == 1) est_json_double(w, 1.5);
                else if (m->arg % 4 == 2) est_json_null(w);
                else est_json_bool(w, 1);
            } else {
                tl_emit(w, &ai->items[j]);
            }
        }
        if (m->kind == TL_I_APPEND) {
            if (m->arg < 3) est_json_int(w, m->arg == 0 ? 1 : m->arg == 1 ? -1 : (int64_t)1 << 40);
            else
                for (j = na; j < 25; j++) est_json_int(w, 1);
        }
        est_json_end_array(w);
    }
    if (af) {
        est_json_key(w, "f");
        est_json_begin_array(w);
        for (j = 0; j < nf; j++) {
            if (m->kind == TL_F_SET && (size_t)m->arg / 6 == j) {
                switch (m->arg % 6) {
                case 0: est_json_double(w, -1.0); break;
                case 1: est_json_double(w, 0.0); break;
                case 2: est_json_double(w, 1e300); break; /* beyond float */
                case 3: est_json_string(w, "nan"); break;
                case 4: est_json_string(w, "inf"); break;
                default: est_json_string(w, "x"); break;
                }
            } else {
                tl_emit(w, &af->items[j]);
            }
        }
        est_json_end_array(w);
    }
    est_json_end_object(w);
}

static void tl_emit_node(est_json_writer *w, const est_json *nd, const est_json *nodes, const tl_mut *m)
{
    static const char *dtypes[10] = {"float32", "float64", "int32", "int64", "uint8", "bool", "string", "float16", "", NULL};
    size_t i, k;
    int has_in = 0, has_attr = 0;
    est_json_begin_object(w);
    for (i = 0; i < nd->count; i++) {
        const est_json_member *mm = &nd->members[i];
        if (strcmp(mm->key, "inputs") == 0) {
            has_in = 1;
            if (m->kind != TL_IN_CLEAR) tl_emit_inputs(w, &mm->value, nodes, m);
        } else if (strcmp(mm->key, "attr") == 0) {
            has_attr = 1;
            if (m->kind != TL_ATTR_DEL) tl_emit_attr(w, &mm->value, m);
        } else if (strcmp(mm->key, "dtype") == 0 && m->kind == TL_DTYPE) {
            est_json_key(w, "dtype");
            if (dtypes[m->arg]) est_json_string(w, dtypes[m->arg]);
            else est_json_int(w, 3);
        } else if (strcmp(mm->key, "shape") == 0 && m->kind == TL_SHAPE) {
            const est_json *sh = &mm->value;
            est_json_key(w, "shape");
            est_json_begin_array(w);
            if (m->arg == 1) est_json_int(w, -1);
            if (m->arg == 2) {
                est_json_int(w, (int64_t)1 << 40);
                est_json_int(w, (int64_t)1 << 40);
            }
            if (m->arg == 3) est_json_int(w, -1);
            for (k = 0; (m->arg == 3 || m->arg == 4 || m->arg == 5) && k < sh->count; k++) {
                if (m->arg == 4 && k + 1 == sh->count) break;
                if (m->arg == 5) est_json_int(w, 1);
                else tl_emit(w, &sh->items[k]);
            }
            est_json_end_array(w);
        } else if (strcmp(mm->key, "value") == 0 && m->kind == TL_CONST && mm->value.type == EST_JSON_OBJECT) {
            static const char fill[3] = {'A', '/', 'f'};
            const est_json *val = &mm->value;
            est_json_key(w, "value");
            est_json_begin_object(w);
            for (k = 0; k < val->count; k++) {
                const est_json_member *vm = &val->members[k];
                est_json_key_n(w, vm->key, vm->key_len);
                if (strcmp(vm->key, "data") == 0 && vm->value.type == EST_JSON_STRING) {
                    char *b = (char *)malloc(vm->value.len + 1);
                    size_t q;
                    for (q = 0; q < vm->value.len; q++) b[q] = vm->value.str[q] == '=' ? '=' : fill[m->arg];
                    est_json_string_n(w, b, vm->value.len);
                    free(b);
                } else if (strcmp(vm->key, "strings") == 0 && vm->value.type == EST_JSON_ARRAY) {
                    size_t q;
                    est_json_begin_array(w);
                    for (q = 0; q < vm->value.count; q++) est_json_string(w, m->arg == 0 ? "" : "//8=");
                    est_json_end_array(w);
                } else {
                    tl_emit(w, &vm->value);
                }
            }
            est_json_end_object(w);
        } else if (strcmp(mm->key, "op") == 0 && m->kind == TL_OP) {
            est_json_key(w, "op");
            est_json_string(w, est_op_name((est_op)(1 + (m->node * 17 + (size_t)m->arg * 29) % (EST_OP_COUNT - 1))));
        } else {
            est_json_key_n(w, mm->key, mm->key_len);
            tl_emit(w, &mm->value);
        }
    }
    if (!has_in && m->kind == TL_IN_ADD) tl_emit_inputs(w, NULL, nodes, m);
    if (!has_attr && (m->kind == TL_ATTR_SET || m->kind == TL_I_APPEND)) tl_emit_attr(w, NULL, m);
    est_json_end_object(w);
}

/* The document with mutation m (m->kind < 0: unchanged). */
static est_status tl_mutate(const est_json *root, const tl_mut *m, est_json_writer *w, const char **text, size_t *len)
{
    size_t i, j;
    est_json_begin_object(w);
    for (i = 0; i < root->count; i++) {
        const est_json_member *mm = &root->members[i];
        est_json_key_n(w, mm->key, mm->key_len);
        if (strcmp(mm->key, "graph") == 0) {
            const est_json *nodes = est_json_get(&mm->value, "nodes");
            est_json_begin_object(w);
            est_json_key(w, "nodes");
            est_json_begin_array(w);
            for (j = 0; j < nodes->count; j++) {
                if (m->kind >= 0 && j == m->node) tl_emit_node(w, &nodes->items[j], nodes, m);
                else tl_emit(w, &nodes->items[j]);
            }
            est_json_end_array(w);
            est_json_end_object(w);
        } else {
            tl_emit(w, &mm->value);
        }
    }
    est_json_end_object(w);
    return est_json_writer_result(w, text, len);
}

/* Write the CRC32C of text into the weights' metadata, as export does. */
static int tl_set_crc(unsigned char *wts, size_t wn, const char *text, size_t len)
{
    static const char key[] = "\"saved_model_json_crc32c\":\"";
    size_t i, kl = sizeof key - 1;
    char hex[16];
    for (i = 8; i + kl + 8 <= wn; i++)
        if (memcmp(wts + i, key, kl) == 0) {
            snprintf(hex, sizeof hex, "%08x", (unsigned)est_crc32c(0, text, len));
            memcpy(wts + i + kl, hex, 8);
            return 1;
        }
    return 0;
}

/* Load every mutation of the export in dir (of the nodes pick() accepts; NULL: all) and, when it
 * loads, run signature sig on the valid inputs: nothing may crash, every rejection names the file,
 * and the unmutated document must load and run. Prints and returns the counts. */
static void tl_fuzz(const char *dir, const char *sig, const est_named_tensor *in, int n_in,
                    int (*pick)(const est_json *nd), int *counts)
{
    char p[1200];
    void *json = NULL, *w = NULL;
    size_t jn = 0, wn = 0, node;
    est_json_doc *doc = NULL;
    const est_json *root, *nodes;
    est_json_parse_args pa;
    int kind, arg, picked = 0;
    counts[0] = counts[1] = counts[2] = 0;
    REQUIRE(dir[0]);
    snprintf(p, sizeof p, "%s/saved_model.json", dir);
    REQUIRE_OK(est_read_file(p, &json, &jn));
    snprintf(p, sizeof p, "%s/variables/variables.safetensors", dir);
    REQUIRE_OK(est_read_file(p, &w, &wn));
    memset(&pa, 0, sizeof pa);
    REQUIRE_OK(est_json_parse((const char *)json, jn, &pa, &doc));
    root = est_json_root(doc);
    nodes = est_json_get(est_json_get(root, "graph"), "nodes");
    REQUIRE(nodes && nodes->count > 1);
    for (node = 0; node <= nodes->count; node++) {
        /* node == count: the unmutated document once */
        if (node < nodes->count && (node == 0 || (pick && !pick(&nodes->items[node])))) continue;
        picked += node < nodes->count;
        for (kind = node < nodes->count ? 0 : TL_KINDS - 1; kind < TL_KINDS; kind++) {
            int na = node < nodes->count ? tl_nargs(&nodes->items[node], kind) : 1;
            for (arg = 0; arg < na; arg++) {
                tl_mut m;
                est_json_writer *jw = NULL;
                est_saved_model *sm = NULL;
                const est_named_tensor *outs;
                const char *text;
                size_t len;
                int n_out;
                est_status st;
                m.node = node;
                m.kind = node < nodes->count ? kind : -1;
                m.arg = arg;
                REQUIRE_OK(est_json_writer_new(NULL, &jw));
                REQUIRE_OK(tl_mutate(root, &m, jw, &text, &len));
                REQUIRE(tl_set_crc((unsigned char *)w, wn, text, len));
                counts[0]++;
                st = est_saved_model_load_from_memory(text, len, w, wn, &sm);
                if (m.kind < 0) CHECK_MSG(st == EST_OK, "unmutated: %s", est_last_error());
                if (st == EST_OK) {
                    counts[1]++;
                    st = est_saved_model_run(sm, sig, in, n_in, &outs, &n_out);
                    if (m.kind < 0) CHECK_MSG(st == EST_OK, "unmutated run: %s", est_last_error());
                    counts[2] += st == EST_OK;
                } else {
                    CHECK_MSG(strstr(est_last_error(), "saved_model.json") || strstr(est_last_error(), "variables"),
                              "node %d kind %d arg %d: %s", (int)node, kind, arg, est_last_error());
                }
                est_saved_model_free(sm);
                est_json_writer_free(jw);
            }
        }
    }
    printf("  %d mutations of %d of %d nodes: %d loaded, %d of those ran\n", counts[0], picked, (int)nodes->count,
           counts[1], counts[2]);
    est_json_doc_free(doc);
    est_free(json);
    est_free(w);
}

TEST(loader_mutation_fuzz)
{
    est_tensor *x = NULL;
    est_named_tensor in;
    int counts[3];
    const char *dir = tl_fz_export();
    REQUIRE(dir[0]);
    REQUIRE_OK(est_tensor_new(EST_DTYPE_F32, est_shape4(2, 6, 6, 2), &x));
    memcpy(x->data, tl_fz_x->data, x->nbytes);
    in.name = "img";
    in.tensor = *x;
    tl_fuzz(dir, NULL, &in, 1, NULL, counts);
    CHECK(counts[0] >= 2000);
    CHECK(counts[1] < counts[0] / 2);
    est_tensor_free(x);
}

/* A DNNLinearCombined classifier over feature columns (vocabulary list + its embedding, hash bucket
 * as an indicator, bucketized numeric, identity embedding, a cross): the export holds the feature
 * ops, EmbeddingLookupSparse and the vocabulary table, all fuzzed below. */
#define TL_FC_N 24
static est_tensor *tl_fc_x[4], *tl_fc_y;

static est_status tl_fc_input_fn(est_mode mode, const est_params *p, void *user, est_dataset **out)
{
    static const char *names[4] = {"color", "word", "age", "id"};
    est_tensor xs[4];
    est_numpy_input_args a;
    int k;
    (void)p;
    (void)user;
    for (k = 0; k < 4; k++) xs[k] = *tl_fc_x[k];
    memset(&a, 0, sizeof a);
    a.n_x = 4;
    a.x_names = names;
    a.x = xs;
    a.y = tl_fc_y;
    a.batch_size = 8;
    a.num_epochs = mode == EST_MODE_TRAIN ? -1 : 1;
    a.shuffle = -1;
    return est_numpy_input_fn(&a, out);
}

static const char *tl_fc_export(void)
{
    static const char *const vocab[3] = {"red", "green", "blue"};
    static const char *const words[5] = {"a", "bb", "", "ccc", "a"};
    static const float bounds[3] = {18, 30, 50};
    static const int hidden[1] = {4};
    static char out[1024];
    const char *colors[TL_FC_N], *ws[TL_FC_N];
    est_feature_column *color = NULL, *color_emb = NULL, *word = NULL, *word_ind = NULL, *age = NULL, *age_b = NULL,
                       *id = NULL, *id_emb = NULL, *cross = NULL, *lc[3], *dc[3];
    est_cross_key ck[2];
    est_dnn_linear_combined_desc d;
    est_estimator *e = NULL;
    est_train_args ta;
    est_raw_feature rf[4];
    est_receiver *r = NULL;
    char mdir[512];
    int i;
    if (out[0]) return out;
    for (i = 0; i < TL_FC_N; i++) {
        colors[i] = i % 7 == 6 ? "purple" : vocab[i % 3];
        ws[i] = words[i % 5];
    }
    est_tensor_from_strings(est_shape1(TL_FC_N), colors, &tl_fc_x[0]);
    est_tensor_from_strings(est_shape1(TL_FC_N), ws, &tl_fc_x[1]);
    est_tensor_new(EST_DTYPE_F32, est_shape1(TL_FC_N), &tl_fc_x[2]);
    est_tensor_new(EST_DTYPE_I64, est_shape1(TL_FC_N), &tl_fc_x[3]);
    est_tensor_new(EST_DTYPE_I64, est_shape1(TL_FC_N), &tl_fc_y);
    for (i = 0; i < TL_FC_N; i++) {
        ((float *)tl_fc_x[2]->data)[i] = (float)(10 + 3 * i);
        ((int64_t *)tl_fc_x[3]->data)[i] = i % 5;
        ((int64_t *)tl_fc_y->data)[i] = i % 3 == 0;
    }
    if (est_categorical_column_with_vocabulary_list("color", vocab, 3, NULL, &color) != EST_OK ||
        est_embedding_column(color, 2, NULL, &color_emb) != EST_OK ||
        est_categorical_column_with_hash_bucket("word", 6, EST_DTYPE_STRING, &word) != EST_OK ||
        est_indicator_column(word, &word_ind) != EST_OK || (age = tc_num("age", 1)) == NULL ||
        est_bucketized_column(age, bounds, 3, &age_b) != EST_OK ||
        est_categorical_column_with_identity("id", 5, NULL, &id) != EST_OK ||
        est_embedding_column(id, 2, NULL, &id_emb) != EST_OK)
        printf("tl_fc_export: columns: %s\n", est_last_error());
    memset(ck, 0, sizeof ck);
    ck[0].column = color;
    ck[1].key = "word";
    if (est_crossed_column(ck, 2, 7, NULL, &cross) != EST_OK) printf("tl_fc_export: cross: %s\n", est_last_error());
    lc[0] = color;
    lc[1] = age_b;
    lc[2] = cross;
    dc[0] = color_emb;
    dc[1] = word_ind;
    dc[2] = id_emb;
    snprintf(mdir, sizeof mdir, "%s/tl_fc_model", test_tmpdir());
    memset(&d, 0, sizeof d);
    d.linear_feature_columns = lc;
    d.n_linear_feature_columns = 3;
    d.dnn_feature_columns = dc;
    d.n_dnn_feature_columns = 3;
    d.dnn_hidden_units = hidden;
    d.n_dnn_hidden_units = 1;
    tc_common(&d.common);
    d.common.model_dir = mdir;
    d.common.logger.min_level = EST_LOG_LEVEL_ERROR;
    memset(&ta, 0, sizeof ta);
    ta.input_fn = tl_fc_input_fn;
    ta.steps = 3;
    memset(rf, 0, sizeof rf);
    rf[0].name = "color";
    rf[1].name = "word";
    rf[0].dtype = rf[1].dtype = EST_DTYPE_STRING;
    rf[2].name = "age";
    rf[2].dtype = EST_DTYPE_F32;
    rf[3].name = "id";
    rf[3].dtype = EST_DTYPE_I64;
    for (i = 0; i < 4; i++) rf[i].shape = est_shape_scalar();
    if (est_dnn_linear_combined_classifier_new(&d, &e) != EST_OK || est_estimator_train(e, &ta, NULL) != EST_OK ||
        est_build_raw_serving_input_receiver_fn(rf, 4, 0, &r) != EST_OK ||
        est_estimator_export_saved_model(e, mdir, r, NULL, NULL, out, sizeof out) != EST_OK) {
        printf("tl_fc_export: %s\n", est_last_error());
        out[0] = 0;
    }
    est_receiver_free(r);
    est_estimator_free(e);
    est_feature_column_free(cross);
    est_feature_column_free(id_emb);
    est_feature_column_free(id);
    est_feature_column_free(age_b);
    est_feature_column_free(age);
    est_feature_column_free(word_ind);
    est_feature_column_free(word);
    est_feature_column_free(color_emb);
    est_feature_column_free(color);
    return out;
}

/* The feature-column part of the graph: ops with data-dependent indexing, and their constants (the
 * rest is the dense network the first fuzz test covers). */
static int tl_fc_pick(const est_json *nd)
{
    static const char *const ops[] = {"StringToHashBucketFast", "LookupTableFindV2", "CategoricalIdentity", "Bucketize",
                                      "SparseCrossHashed", "DenseToSparseIndices", "DenseToSparseShape", "SafeIds",
                                      "SafeWeights", "SparseIndicator", "EmbeddingLookupSparse", "Const"};
    const char *op = est_json_get(nd, "op") ? est_json_get(nd, "op")->str : "";
    size_t k;
    for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
        if (strcmp(op, ops[k]) == 0) return 1;
    return 0;
}

TEST(loader_mutation_fuzz_feature_columns)
{
    static const char *names[4] = {"color", "word", "age", "id"};
    est_named_tensor in[4];
    int counts[3], k;
    const char *dir = tl_fc_export();
    REQUIRE(dir[0]);
    for (k = 0; k < 4; k++) {
        in[k].name = names[k];
        REQUIRE_OK(est_tensor_view(tl_fc_x[k], tl_fc_x[k]->shape, &in[k].tensor));
        in[k].tensor.shape.dims[0] = 7; /* the first 7 rows: "purple", "", ids 0..4 */
    }
    tl_fuzz(dir, "predict", in, 4, tl_fc_pick, counts);
    CHECK(counts[0] >= 1000);
    CHECK(counts[1] < counts[0] / 2);
}

/* ---- no false rejections: a graph of every builder's ops survives saved_model.json ---- */

#define TL_ZOO_MAX 160
typedef struct tl_zoo {
    est_node *out[TL_ZOO_MAX];
    int n;
} tl_zoo;

static void tl_zoo_add(tl_zoo *z, est_node *n)
{
    if (n && z->n < TL_ZOO_MAX) z->out[z->n++] = n;
}

/* x f32 [?,4], img f32 [?,6,6,2], ids i64 [?] (values 0..3), labels i32 [?], b bool [?,4]. */
static void tl_zoo_build(est_graph *g, est_node **ph, tl_zoo *z)
{
    static float filt[72], w43[12], v4[4] = {0.5f, -1.0f, 2.0f, 0.25f}, filt_t[3 * 3 * 3 * 2];
    static const int64_t begin[2] = {0, 1}, size[2] = {-1, 2}, mult[2] = {2, 1}, pads[4] = {1, 1, 2, 0};
    static const int perm[2] = {1, 0}, ax1[1] = {1};
    static const int32_t gidx[3] = {3, 0, 2};
    est_node *x = ph[0], *img = ph[1], *ids = ph[2], *labels = ph[3], *b = ph[4], *c4, *pos, *lg, *parts[2], *xs[3];
    est_reduce_args ra;
    est_matmul_args ma;
    est_conv2d_args ca;
    est_pool_args pa;
    est_random_args rnd;
    est_tensor *gi = NULL;
    int k;
    for (k = 0; k < 72; k++) filt[k] = (float)((k * 37) % 11) / 11.0f - 0.5f;
    for (k = 0; k < 54; k++) filt_t[k] = (float)((k * 13) % 7) / 7.0f - 0.4f;
    for (k = 0; k < 12; k++) w43[k] = (float)k / 12.0f - 0.3f;
    c4 = est_constant_f32(g, est_shape1(4), v4);
    pos = est_exp(g, x);
    /* math */
    tl_zoo_add(z, est_add(g, x, c4));
    tl_zoo_add(z, est_sub(g, x, c4));
    tl_zoo_add(z, est_mul(g, x, c4));
    tl_zoo_add(z, est_div(g, x, c4));
    tl_zoo_add(z, est_pow(g, pos, c4));
    tl_zoo_add(z, est_maximum(g, x, c4));
    tl_zoo_add(z, est_minimum(g, x, c4));
    tl_zoo_add(z, est_neg(g, x));
    tl_zoo_add(z, est_abs(g, x));
    tl_zoo_add(z, est_sign(g, x));
    tl_zoo_add(z, est_square(g, x));
    tl_zoo_add(z, est_sqrt(g, pos));
    tl_zoo_add(z, est_rsqrt(g, pos));
    tl_zoo_add(z, est_log(g, pos));
    tl_zoo_add(z, est_log1p(g, pos));
    tl_zoo_add(z, est_where(g, b, x, est_neg(g, x)));
    tl_zoo_add(z, est_cast(g, x, EST_DTYPE_I32));
    tl_zoo_add(z, est_cast(g, x, EST_DTYPE_F64));
    tl_zoo_add(z, est_cast(g, x, EST_DTYPE_U8));
    tl_zoo_add(z, est_cast(g, ids, EST_DTYPE_F32));
    tl_zoo_add(z, est_add(g, ids, ids));
    tl_zoo_add(z, est_abs(g, ids));
    tl_zoo_add(z, est_equal(g, x, c4));
    tl_zoo_add(z, est_not_equal(g, x, c4));
    tl_zoo_add(z, est_less(g, x, c4));
    tl_zoo_add(z, est_less_equal(g, x, c4));
    tl_zoo_add(z, est_greater(g, x, c4));
    tl_zoo_add(z, est_greater_equal(g, x, c4));
    tl_zoo_add(z, est_logical_and(g, b, est_less(g, x, c4)));
    tl_zoo_add(z, est_logical_or(g, b, est_less(g, x, c4)));
    tl_zoo_add(z, est_logical_not(g, b));
    for (k = EST_ACTIVATION_RELU; k < EST_ACTIVATION_COUNT; k++) tl_zoo_add(z, est_activate(g, x, (est_activation)k));
    tl_zoo_add(z, est_gelu(g, x, 1));
    /* reductions */
    memset(&ra, 0, sizeof ra);
    tl_zoo_add(z, est_reduce_sum(g, x, &ra));
    ra.axes[0] = -1;
    ra.n_axes = 1;
    tl_zoo_add(z, est_reduce_mean(g, x, &ra));
    tl_zoo_add(z, est_reduce_prod(g, x, &ra));
    tl_zoo_add(z, est_reduce_sum(g, ids, &ra));
    ra.keepdims = 1;
    tl_zoo_add(z, est_reduce_max(g, x, &ra));
    ra.axes[0] = 1;
    ra.axes[1] = 2;
    ra.n_axes = 2;
    tl_zoo_add(z, est_reduce_min(g, img, &ra));
    tl_zoo_add(z, est_argmax(g, x, 1, EST_DTYPE_DEFAULT));
    tl_zoo_add(z, est_argmin(g, x, -1, EST_DTYPE_I32));
    /* shapes and indexing */
    tl_zoo_add(z, est_reshape(g, img, est_shape3(-1, 36, 2)));
    tl_zoo_add(z, est_transpose(g, x, perm));
    xs[0] = x;
    xs[1] = est_square(g, x);
    xs[2] = x;
    tl_zoo_add(z, est_concat(g, xs, 3, -1));
    tl_zoo_add(z, est_slice(g, x, begin, size));
    if (est_split(g, x, 2, 1, parts) == EST_OK) {
        tl_zoo_add(z, parts[0]);
        tl_zoo_add(z, parts[1]);
    }
    est_tensor_from_data(EST_DTYPE_I32, est_shape1(3), gidx, &gi);
    tl_zoo_add(z, est_gather(g, x, est_constant(g, gi), 1));
    est_tensor_free(gi);
    tl_zoo_add(z, est_gather(g, c4, ids, 0));
    tl_zoo_add(z, est_one_hot(g, ids, 5, 1.0f, -1.0f, -1));
    tl_zoo_add(z, est_one_hot(g, ids, 3, 2.0f, 0.0f, 0));
    tl_zoo_add(z, est_squeeze(g, est_expand_dims(g, x, 1), ax1, 1));
    tl_zoo_add(z, est_expand_dims(g, x, -1));
    tl_zoo_add(z, est_tile(g, x, mult));
    tl_zoo_add(z, est_pad(g, x, pads, EST_PAD_MODE_CONSTANT, 3.0f));
    tl_zoo_add(z, est_pad(g, x, pads, EST_PAD_MODE_REFLECT, 0.0f));
    tl_zoo_add(z, est_pad(g, x, pads, EST_PAD_MODE_SYMMETRIC, 0.0f));
    /* nn */
    tl_zoo_add(z, est_softmax(g, x, -1));
    tl_zoo_add(z, est_log_softmax(g, x, 0));
    lg = est_matmul(g, x, est_constant_f32(g, est_shape2(4, 3), w43), NULL);
    tl_zoo_add(z, lg);
    memset(&ma, 0, sizeof ma);
    ma.transpose_a = 1;
    tl_zoo_add(z, est_matmul(g, x, x, &ma));
    ma.transpose_a = 0;
    ma.transpose_b = 1;
    tl_zoo_add(z, est_matmul(g, x, x, &ma));
    tl_zoo_add(z, est_sparse_softmax_cross_entropy_with_logits(g, labels, lg));
    tl_zoo_add(z, est_softmax_cross_entropy_with_logits(g, est_softmax(g, x, -1), x));
    tl_zoo_add(z, est_sigmoid_cross_entropy_with_logits(g, est_sigmoid(g, x), x));
    tl_zoo_add(z, est_l2_normalize(g, x, ax1, 1, 0.0f));
    memset(&rnd, 0, sizeof rnd);
    rnd.seed = 7;
    tl_zoo_add(z, est_random_uniform(g, est_shape2(2, 3), &rnd));
    tl_zoo_add(z, est_random_normal(g, est_shape1(5), &rnd));
    rnd.shape_like = x;
    tl_zoo_add(z, est_truncated_normal(g, est_shape_scalar(), &rnd));
    tl_zoo_add(z, est_dropout(g, x, 0.5f, 3));
    /* convolutions and pooling */
    memset(&ca, 0, sizeof ca);
    tl_zoo_add(z, est_conv2d(g, img, est_constant_f32(g, est_shape4(3, 3, 2, 4), filt), &ca));
    ca.padding = EST_PADDING_SAME;
    ca.strides[0] = 2;
    ca.dilations[1] = 2;
    tl_zoo_add(z, est_conv2d(g, img, est_constant_f32(g, est_shape4(3, 3, 2, 4), filt), &ca));
    memset(&ca, 0, sizeof ca);
    ca.padding = EST_PADDING_SAME;
    tl_zoo_add(z, est_depthwise_conv2d(g, img, est_constant_f32(g, est_shape4(3, 3, 2, 4), filt), &ca));
    ca.strides[0] = ca.strides[1] = 2;
    tl_zoo_add(z, est_conv2d_transpose(g, img, est_constant_f32(g, est_shape4(3, 3, 3, 2), filt_t),
                                       est_shape4(-1, 12, 12, 3), &ca));
    memset(&pa, 0, sizeof pa);
    pa.ksize[0] = pa.ksize[1] = 3;
    pa.strides[0] = pa.strides[1] = 2;
    pa.padding = EST_PADDING_SAME;
    tl_zoo_add(z, est_max_pool2d(g, img, &pa));
    pa.padding = EST_PADDING_VALID;
    tl_zoo_add(z, est_avg_pool2d(g, img, &pa));
    /* plumbing */
    xs[0] = x;
    xs[1] = pos;
    tl_zoo_add(z, est_add_n(g, xs, 2));
    tl_zoo_add(z, est_zeros_like(g, ids));
    tl_zoo_add(z, est_ones_like(g, x));
    tl_zoo_add(z, est_identity(g, x));
    tl_zoo_add(z, est_stop_gradient(g, x));
    tl_zoo_add(z, est_broadcast_like(g, c4, x));
    tl_zoo_add(z, est_reshape_like(g, est_reshape(g, x, est_shape1(-1)), x));
    tl_zoo_add(z, est_sum_to_like(g, x, c4));
}

TEST(loader_accepts_every_builder_op)
{
    static const char *in_names[5] = {"x", "img", "ids", "labels", "b"};
    est_graph_desc gd;
    est_graph *g = NULL;
    est_node *ph[5];
    tl_zoo z;
    est_json_writer *w = NULL;
    unsigned char *need;
    const char *text;
    size_t len;
    est_status st = EST_OK;
    est_saved_model *m = NULL;
    est_tensor *vals[5];
    est_named_tensor in[5];
    est_feed feeds[5];
    est_tensor direct[TL_ZOO_MAX];
    const est_named_tensor *outs;
    est_plan_desc pd;
    est_plan *plan = NULL;
    char key[32];
    int64_t id, j;
    int k, n_out = 0;
    memset(&gd, 0, sizeof gd);
    gd.seed = 11;
    REQUIRE_OK(est_graph_new(&gd, &g));
    ph[0] = est_placeholder(g, "x", EST_DTYPE_F32, est_shape2(-1, 4));
    ph[1] = est_placeholder(g, "img", EST_DTYPE_F32, est_shape4(-1, 6, 6, 2));
    ph[2] = est_placeholder(g, "ids", EST_DTYPE_I64, est_shape1(-1));
    ph[3] = est_placeholder(g, "labels", EST_DTYPE_I32, est_shape1(-1));
    ph[4] = est_placeholder(g, "b", EST_DTYPE_BOOL, est_shape2(-1, 4));
    memset(&z, 0, sizeof z);
    tl_zoo_build(g, ph, &z);
    CHECK_MSG(est_graph_status(g) == EST_OK, "building: %s", est_graph_error(g));
    REQUIRE(est_graph_status(g) == EST_OK);
    CHECK(z.n >= 90);
    /* saved_model.json of the whole graph, one signature with every output */
    need = (unsigned char *)calloc((size_t)g->n_nodes + 1, 1);
    for (id = 0; id < g->n_nodes; id++) need[id] = 1;
    REQUIRE_OK(est_json_writer_new(NULL, &w));
    est_json_begin_object(w);
    est_json_key(w, "format");
    est_json_string(w, EST_SAVED_MODEL_FORMAT);
    est_json_key(w, "variables");
    est_json_begin_array(w);
    est_json_end_array(w);
    est_json_key(w, "signature_def");
    est_json_begin_object(w);
    est_json_key(w, "zoo");
    est_json_begin_object(w);
    est_json_key(w, "inputs");
    est_json_begin_object(w);
    for (k = 0; k < 5; k++) {
        est_json_key(w, in_names[k]);
        est__json_tensor_info(w, ph[k]);
    }
    est_json_end_object(w);
    est_json_key(w, "outputs");
    est_json_begin_object(w);
    for (k = 0; k < z.n; k++) {
        snprintf(key, sizeof key, "o%d", k);
        est_json_key(w, key);
        est__json_tensor_info(w, z.out[k]);
    }
    est_json_end_object(w);
    est_json_end_object(w);
    est_json_end_object(w);
    est_json_key(w, "graph");
    est__json_graph(w, g, need, &st);
    est_json_end_object(w);
    REQUIRE_OK(st);
    REQUIRE_OK(est_json_writer_result(w, &text, &len));
    REQUIRE_OK(est_saved_model_load_from_memory(text, len, NULL, 0, &m));
    /* and it computes what the graph computes (random ops included: the seeds travel along) */
    est_tensor_new(EST_DTYPE_F32, est_shape2(3, 4), &vals[0]);
    est_tensor_new(EST_DTYPE_F32, est_shape4(3, 6, 6, 2), &vals[1]);
    est_tensor_new(EST_DTYPE_I64, est_shape1(3), &vals[2]);
    est_tensor_new(EST_DTYPE_I32, est_shape1(3), &vals[3]);
    est_tensor_new(EST_DTYPE_BOOL, est_shape2(3, 4), &vals[4]);
    for (k = 0; k < 5; k++) REQUIRE(vals[k]);
    for (j = 0; j < 12; j++) ((float *)vals[0]->data)[j] = (float)(j % 5) * 0.3f - 0.6f;
    for (j = 0; j < 216; j++) ((float *)vals[1]->data)[j] = (float)((j * 7) % 13) / 13.0f - 0.5f;
    for (j = 0; j < 3; j++) ((int64_t *)vals[2]->data)[j] = (j * 2 + 1) % 4;
    for (j = 0; j < 3; j++) ((int32_t *)vals[3]->data)[j] = (int32_t)(j % 3);
    for (j = 0; j < 12; j++) ((unsigned char *)vals[4]->data)[j] = (unsigned char)(j % 3 == 0);
    for (k = 0; k < 5; k++) {
        in[k].name = in_names[k];
        in[k].tensor = *vals[k];
        feeds[k].node = ph[k];
        feeds[k].value = vals[k];
    }
    REQUIRE_OK(est_saved_model_run(m, "zoo", in, 5, &outs, &n_out));
    REQUIRE(n_out == z.n);
    memset(&pd, 0, sizeof pd);
    pd.fetches = z.out;
    pd.n_fetches = z.n;
    REQUIRE_OK(est_plan_new(g, &pd, &plan));
    REQUIRE_OK(est_plan_run(plan, feeds, 5, direct));
    for (k = 0; k < z.n; k++) {
        const est_tensor *o = &outs[k].tensor;
        CHECK_MSG(o->dtype == direct[k].dtype && est_shape_equal(&o->shape, &direct[k].shape) &&
                      o->nbytes == direct[k].nbytes && memcmp(o->data, direct[k].data, o->nbytes) == 0,
                  "output %d (%s '%s') differs after the round trip", k, est_op_name(z.out[k]->op), z.out[k]->name);
    }
    est_plan_free(plan);
    for (k = 0; k < 5; k++) est_tensor_free(vals[k]);
    est_saved_model_free(m);
    est_json_writer_free(w);
    free(need);
    est_graph_free(g);
}
