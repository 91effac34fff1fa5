#!/usr/bin/env bash
# `make bench`: this library (built-in kernels and estimator_blas.h builds) side by side with
# PyTorch on the same workloads, interleaved, and a table of medians.
#
#   bash bench/run.sh [BUILD_DIR]        (make bench builds the programs first, then runs this)
#   BENCH_RUNS=N     timed runs per workload and build (default 5; each run is a fresh process)
#   BENCH_QUICK=1    few steps per run: a sanity check of the harness, not a measurement
#
# Programs: BUILD_DIR/bench_train (bench/train.c, built-in kernels), BUILD_DIR/bench_train_openblas
# (the same with -DBENCH_OPENBLAS: estimator_blas.h, -lopenblas), BUILD_DIR/bench_input
# (bench/input.c --only pipeline_t2), BUILD_DIR/bench_gemm_openblas (bench/gemm.c) and
# bench/torch_bench.py under /usr/bin/python3 (Debian's python3-torch, torch.set_num_threads(2)).
# Every process runs in PyTorch's best environment on this machine (issue 7):
#   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive
#   MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000
# Order: run 1 = every workload as ours-builtin, ours-blas, torch; then run 2; ... so that slow
# phases of a shared machine hit all three alike. The table gives the median of the runs and
# ours / torch; the output ends with one line per workload and build:
#   BENCH name=<workload> build=<builtin|blas> ours=<v> torch=<v> ratio=<ours/torch> unit=<unit>
# (latency and RSS: lower is better, the ratio is still ours / torch). Extra rows:
# cnn_estimator_train (est_estimator_train's own img/s, compared with torch's bare cnn_train_sgd
# step: the Estimator's overhead) and sgemm_1024 (1024^3 GEMM, 2 threads, from bench/gemm.c: "ours"
# is the built-in kernel, "torch" is OpenBLAS's cblas_sgemm, the BLAS torch.mm uses here, and the
# ratio is builtin / OpenBLAS; only build=builtin). input_pipeline is only build=builtin (no GEMM).
set -u
BUILD=${1:-build}
RUNS=${BENCH_RUNS:-5}
QUICK=${BENCH_QUICK:-0}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
export OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive \
    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000

WORKLOADS="cnn_train_sgd cnn_train_adam mlp_train_sgd cnn_eval cnn_latency mlp_latency cnn_rss input_pipeline cnn_estimator_train"
if [ "$QUICK" = 1 ]; then
    declare -A ARGS=([cnn_train_sgd]="--warmup 1 --steps 5" [cnn_train_adam]="--warmup 1 --steps 5"
        [mlp_train_sgd]="--warmup 5 --steps 30" [cnn_eval]="--warmup 1 --steps 5"
        [cnn_latency]="--warmup 5 --steps 30" [mlp_latency]="--warmup 5 --steps 100"
        [cnn_rss]="--steps 5" [cnn_estimator_train]="--warmup 1 --steps 10")
    RECORDS=2000
else
    declare -A ARGS=([cnn_train_sgd]="--warmup 5 --steps 40" [cnn_train_adam]="--warmup 5 --steps 40"
        [mlp_train_sgd]="--warmup 20 --steps 300" [cnn_eval]="--warmup 3 --steps 40"
        [cnn_latency]="--warmup 50 --steps 500" [mlp_latency]="--warmup 50 --steps 3000"
        [cnn_rss]="--steps 30" [cnn_estimator_train]="--warmup 5 --steps 100")
    RECORDS=20000
fi

for b in bench_train bench_input; do
    [ -x "$BUILD/$b" ] || { echo "bench/run.sh: $BUILD/$b is missing (run make bench)" >&2; exit 1; }
done
BLAS=$BUILD/bench_train_openblas
[ -x "$BLAS" ] || { echo "bench/run.sh: no $BLAS (libopenblas-dev not installed?): BLAS build skipped" >&2; BLAS=""; }
HAVE_TORCH=1
$PY -c 'import torch' 2>/dev/null || { echo "bench/run.sh: no torch for $PY (apt-get install python3-torch)" >&2; HAVE_TORCH=0; }

RES=$(mktemp /tmp/bench_results.XXXXXX)
PNGS=$(mktemp /tmp/bench_pngs.XXXXXX)
LOG=$(mktemp /tmp/bench_log.XXXXXX)
trap 'rm -f "$RES" "$PNGS" "$LOG"' EXIT

# one measurement: append "workload build value unit" to $RES; a failure is reported and skipped
measure() { # workload build command...
    local w=$1 b=$2 line
    shift 2
    if line=$("$@" 2>"$LOG" | grep '^RESULT ' | tail -n 1) && [ -n "$line" ]; then
        set -- $line
        echo "$w $b $3 $4" >>"$RES"
        printf '  %-20s %-10s %10s %s\n' "$w" "$b" "$3" "$4" >&2
        # torch_bench.py --layout best prints both layouts: kept as extra columns
        sed -n "s|^$w: nchw \([^,]*\), channels_last \(.*\)|$w torch_nchw \1 $4\n$w torch_cl \2 $4|p" "$LOG" >>"$RES"
    else
        echo "  $w $b FAILED:" >&2
        tail -n 5 "$LOG" >&2
    fi
}

echo "machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $RUNS$([ "$QUICK" = 1 ] && echo ' (quick: a sanity check, not a measurement)')"

# sgemm 1024^3: bench/gemm.c interleaves the built-in kernel and OpenBLAS itself (median of 7)
GEMM=$BUILD/bench_gemm_openblas
if [ -x "$GEMM" ]; then
    echo "sgemm (bench/gemm.c) ..." >&2
    line=$("$GEMM" 2>/dev/null | grep '^BENCH name=sgemm_1024x1024x1024 threads=2 ')
    if [ -n "$line" ]; then
        bi=$(sed -n 's/.* builtin=\([^ ]*\).*/\1/p' <<<"$line")
        ob=$(sed -n 's/.* openblas=\([^ ]*\).*/\1/p' <<<"$line")
        echo "sgemm_1024 builtin $bi GFLOP/s" >>"$RES"
        echo "sgemm_1024 torch $ob GFLOP/s" >>"$RES"
    fi
fi

for r in $(seq 1 "$RUNS"); do
    echo "run $r/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    for w in $WORKLOADS; do
        if [ "$w" = input_pipeline ]; then
            measure "$w" builtin "$BUILD/bench_input" --only pipeline_t2 --records "$RECORDS" --pngs "$PNGS"
            [ "$HAVE_TORCH" = 1 ] && measure "$w" torch $PY "$HERE/torch_bench.py" "$w" --pngs "$PNGS"
            continue
        fi
        measure "$w" builtin "$BUILD/bench_train" "$w" ${ARGS[$w]}
        [ -n "$BLAS" ] && measure "$w" blas "$BLAS" "$w" ${ARGS[$w]}
        [ "$HAVE_TORCH" = 1 ] || continue
        case $w in
        cnn_estimator_train) ;; # compared with torch's cnn_train_sgd of the same run
        cnn_rss) # one process per layout; the lower peak counts
            measure cnn_rss torch_nchw $PY "$HERE/torch_bench.py" cnn_rss --layout nchw ${ARGS[$w]}
            measure cnn_rss torch_cl $PY "$HERE/torch_bench.py" cnn_rss --layout cl ${ARGS[$w]} ;;
        *) measure "$w" torch $PY "$HERE/torch_bench.py" "$w" ${ARGS[$w]} ;;
        esac
    done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

$PY - "$RES" "$WORKLOADS" <<'EOF'
import statistics, sys
rows = {}
units = {}
for line in open(sys.argv[1]):
    w, b, v, u = line.split()
    rows.setdefault((w, b), []).append(float(v))
    units[w] = u
# torch's RSS: the lower of the two layouts, run by run
if ("cnn_rss", "torch_nchw") in rows or ("cnn_rss", "torch_cl") in rows:
    a, c = rows.get(("cnn_rss", "torch_nchw"), []), rows.get(("cnn_rss", "torch_cl"), [])
    rows[("cnn_rss", "torch")] = [min(x, y) for x, y in zip(a, c)] or a or c
if ("cnn_train_sgd", "torch") in rows:
    rows[("cnn_estimator_train", "torch")] = rows[("cnn_train_sgd", "torch")]
med = {k: statistics.median(v) for k, v in rows.items()}
order = sys.argv[2].split() + ["sgemm_1024"]
def f(x):
    return "-" if x is None else ("%.3g" % x if x < 1 else "%.4g" % x if x < 1e3 else "%.0f" % x)
print()
print("medians; torch = the better layout of each run; bi = built-in kernels, blas = estimator_blas.h")
print("%-20s %-6s %9s %9s %9s %9s %10s %10s %9s %4s" % ("workload", "unit", "builtin", "blas", "torch", "bi/torch",
                                                        "blas/torch", "torch_nchw", "torch_cl", "runs"))
for w in order:
    if w not in units:
        continue
    bi, bl, to = med.get((w, "builtin")), med.get((w, "blas")), med.get((w, "torch"))
    ratio = lambda o: None if o is None or not to else o / to
    n = len(rows.get((w, "builtin"), []))
    print("%-20s %-6s %9s %9s %9s %9s %10s %10s %9s %4d" % (w, units[w], f(bi), f(bl), f(to), f(ratio(bi)), f(ratio(bl)),
                                                           f(med.get((w, "torch_nchw"))), f(med.get((w, "torch_cl"))), n))
print()
for w in order:
    for b in ("builtin", "blas"):
        if (w, b) in med and (w, "torch") in med:
            o, t = med[(w, b)], med[(w, "torch")]
            print("BENCH name=%s build=%s ours=%s torch=%s ratio=%.3f unit=%s" % (w, b, f(o), f(t), o / t, units[w]))
EOF
