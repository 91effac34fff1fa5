#!/usr/bin/env bash
# The whole test suite; `make test` runs it. Every step below counts as one or more checks:
#   a) estimator.h matches src/ (check-amalgamation)
#   b) estimator.h compiles warning-free as C99/C11 with gcc and clang and as C++11 with g++ and
#      clang++, by default and with EST_STATIC, EST_NO_THREADS, EST_NO_STDIO (one check each)
#   c) two translation units, one holding the implementation, link and run
#   d) the unit tests (tests/test_*.c), each test one check
#   e) the same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
# Ends with "N passed, N failed" and exits non-zero if anything failed.
#
# Environment: JOBS (parallel compiles, default 2), SAN_CC (compiler for step e, default gcc,
# whose sanitizer runtimes come with Debian's gcc package).
set -uo pipefail

cd "$(dirname "$0")/.."
OUT=build/tests
mkdir -p "$OUT/compile"

# The independent format checkers live in ../shared/verify beside the checkout. A clone made
# elsewhere (git clone /work/main /tmp/x) finds them beside the repository it was cloned from.
if [ ! -d ../shared/verify ]; then
    origin=$(git remote get-url origin 2>/dev/null || true)
    if [ -n "$origin" ] && [ -d "$origin/../shared/verify" ] && [ ! -e ../shared ]; then
        ln -s "$(cd "$origin/../shared" && pwd)" ../shared &&
            echo "note: linked ../shared to $(cd "$origin/../shared" && pwd) (the verify tools)"
    fi
fi

JOBS=${JOBS:-2}
SAN_CC=${SAN_CC:-gcc}
WARN="-Wall -Wextra -Wpedantic -Werror"
passed=0
failed=0
t_start=$(date +%s%N)

ok() {
    passed=$((passed + 1))
    echo "ok $1"
}
fail() {
    failed=$((failed + 1))
    echo "FAIL $1"
}
# Compiler output of a failed step, cut short: the first errors are the ones that matter.
show_log() {
    head -n 30 "$1" | sed 's/^/    /'
    local n
    n=$(wc -l <"$1")
    if [ "$n" -gt 30 ]; then echo "    ... ($n lines, full log in $1)"; fi
}

# ---- a) the committed amalgamation is up to date ----------------------------------------------
if make --no-print-directory -s build/amalgamate >"$OUT/check-amalgamation.log" 2>&1 &&
    ./build/amalgamate --src src --check estimator.h >>"$OUT/check-amalgamation.log" 2>&1; then
    ok "check-amalgamation"
else
    fail "check-amalgamation"
    show_log "$OUT/check-amalgamation.log"
fi

# ---- a2) tools (test_checkpoint runs build/inspect_checkpoint) ----------------------------------
if make --no-print-directory -s tools >"$OUT/tools.log" 2>&1; then
    ok "make tools"
else
    fail "make tools"
    show_log "$OUT/tools.log"
fi

# ONNX Runtime for the ONNX fidelity tests (npm package; installed once per machine)
if [ -d ../shared/verify ] && [ ! -d ../shared/verify/node/node_modules/onnxruntime-node ] && command -v npm >/dev/null; then
    bash ../shared/verify/build.sh --node >"$OUT/verify_node.log" 2>&1 || echo "note: ONNX Runtime install failed; see $OUT/verify_node.log"
fi

# ---- b) compile matrix ----------------------------------------------------------------------------
names=()
cmds=()
for sw in "" EST_STATIC EST_NO_THREADS EST_NO_STDIO EST_NO_TRAINING; do
    def=${sw:+-D$sw}
    for cc in gcc clang; do
        for std in c99 c11; do
            names+=("compile $cc $std ${sw:-default}")
            cmds+=("$cc -std=$std $def $WARN -c tests/compile/compile_all.c -o $OUT/compile/$cc-$std-${sw:-default}.o")
        done
    done
    for cxx in g++ clang++; do
        names+=("compile $cxx c++11 ${sw:-default}")
        cmds+=("$cxx -x c++ -std=c++11 $def $WARN -c tests/compile/compile_all.c -o $OUT/compile/$cxx-c++11-${sw:-default}.o")
    done
done

# Optimised builds too: gcc's maybe-uninitialized and array-bounds warnings need -O2/-O3.
names+=("compile gcc c99 -O2")
cmds+=("gcc -std=c99 -O2 $WARN -c tests/compile/compile_all.c -o $OUT/compile/gcc-c99-O2.o")
names+=("compile gcc c11 -O3 -march=native")
cmds+=("gcc -std=c11 -O3 -march=native $WARN -c tests/compile/compile_all.c -o $OUT/compile/gcc-c11-O3.o")

# Runs up to $JOBS compiles at once but reports them in order, as each one finishes.
pids=()
report_compile() {
    local i=$1
    local log="$OUT/compile/$i.log"
    if wait "${pids[$i]}"; then
        ok "${names[$i]}"
    else
        fail "${names[$i]}"
        echo "    \$ ${cmds[$i]}"
        show_log "$log"
    fi
}
next_report=0
for i in "${!cmds[@]}"; do
    (eval "${cmds[$i]}") >"$OUT/compile/$i.log" 2>&1 &
    pids[$i]=$!
    if [ $((i - next_report + 1)) -ge "$JOBS" ]; then
        report_compile "$next_report"
        next_report=$((next_report + 1))
    fi
done
while [ "$next_report" -lt "${#cmds[@]}" ]; do
    report_compile "$next_report"
    next_report=$((next_report + 1))
done

# ---- c) two translation units ---------------------------------------------------------------------
if gcc -std=c99 $WARN -O1 -o "$OUT/two_tu" tests/compile/tu_impl.c tests/compile/tu_user.c \
    -lm -lpthread >"$OUT/two_tu.log" 2>&1 && "./$OUT/two_tu" >>"$OUT/two_tu.log" 2>&1; then
    ok "two translation units link and run"
else
    fail "two translation units link and run"
    show_log "$OUT/two_tu.log"
fi

# ---- c2) the manual's sample, estimator.c and estimator_blas.h ----------------------------------
# The walk-through in the header's manual is extracted and run, so the documentation cannot rot.
sed -n '/^   BEGIN SAMPLE$/,/^   END SAMPLE$/p' src/manual.h | sed '1d;$d' | sed 's/^        //' \
    | sed 's|#include "estimator.h"|#include "../../estimator.h"|' >"$OUT/manual_sample.c"
if [ -s "$OUT/manual_sample.c" ] &&
    gcc -std=c99 $WARN -O1 -o "$OUT/manual_sample" "$OUT/manual_sample.c" -lm -lpthread \
        >"$OUT/manual_sample.log" 2>&1 && "./$OUT/manual_sample" >>"$OUT/manual_sample.log" 2>&1 &&
    grep -q "^step 2: y = " "$OUT/manual_sample.log"; then
    ok "manual sample compiles and runs"
else
    fail "manual sample compiles and runs"
    show_log "$OUT/manual_sample.log"
fi
printf '#include "estimator.h"\nint main(void) { return est_status_string(EST_OK)[0] != 0 ? 0 : 1; }\n' \
    >"$OUT/pair_main.c"
if gcc -std=c99 $WARN -O1 -I. -o "$OUT/pair" estimator.c "$OUT/pair_main.c" -lm -lpthread \
    >"$OUT/pair.log" 2>&1 && "./$OUT/pair" >>"$OUT/pair.log" 2>&1; then
    ok "estimator.c + estimator.h as a .c/.h pair"
else
    fail "estimator.c + estimator.h as a .c/.h pair"
    show_log "$OUT/pair.log"
fi
if [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ]; then
    if gcc -std=c99 $WARN -O1 -o "$OUT/blas_check" tests/compile/blas_check.c -lopenblas -lm -lpthread \
        >"$OUT/blas_check.log" 2>&1 && "./$OUT/blas_check" >>"$OUT/blas_check.log" 2>&1; then
        ok "estimator_blas.h compiles and matches the built-in GEMM"
    else
        fail "estimator_blas.h compiles and matches the built-in GEMM"
        show_log "$OUT/blas_check.log"
    fi
fi

# ---- c3) examples build and run at small step counts -------------------------------------------
if make --no-print-directory -s examples >"$OUT/examples.log" 2>&1; then
    ok "make examples"
    smoke() { # name, expected regex of the last line, args...
        local name=$1 want=$2 log="$OUT/smoke_$1.log"
        shift 2
        if (cd "$OUT" && "../../build/$name" "$@") >"$log" 2>&1 && tail -n 1 "$log" | grep -Eq "$want"; then
            ok "example $name runs"
        else
            fail "example $name runs"
            tail -n 15 "$log" | sed 's/^/    /'
        fi
    }
    smoke graph_basics '^final: loss=' 300
    smoke mnist_cnn '^eval: accuracy=[0-9.]+ loss=[0-9.]+ global_step=20$' --max_steps 20 --train_images 2000 \
        --model_dir "$(mktemp -d)"
    smoke iris_dnn '^eval: accuracy=(0\.9[3-9][0-9]{2}|1\.0000) loss=[0-9.]+ global_step=200$' --train_steps 200 \
        --model_dir "$(mktemp -d)" --data ../../examples/data/iris.csv
    smoke tfrecord_images '^done: trained to step 20 with 10 classes' --data_dir "$(mktemp -d)" --make_data 1 \
        --n_images 200 --max_steps 20 --batch_size 16 --log_every 10 --tfrecord_tool ../../build/tfrecord
    smoke two_tower '^done: eval auc=0\.(7[0-9]|[89][0-9])[0-9]* loss=[0-9.]+ global_step=400 exports=[0-9]+$' \
        --make_data "$(mktemp -d)" --n_users 500 --n_items 300 --n_train 20000 --n_eval 4000 --n_predict 200 \
        --user_hidden_units 64,32 --item_hidden_units 64,32 --train_batch_size 128 --learning_rate 0.003 \
        --max_steps 400 --save_checkpoints_steps 100
else
    fail "make examples"
    show_log "$OUT/examples.log"
fi

# ---- d, e) unit tests -----------------------------------------------------------------------------
# One translation unit: the implementation, the framework, every tests/test_*.c and a registry of
# the TEST(name) functions they define (found by the same pattern the files are written in).
gen_main() {
    local f names_list
    {
        echo "/* Generated by tests/run.sh: do not edit. */"
        echo "#include \"../../tests/test.h\" /* prelude: counting allocator */"
        echo "#define ESTIMATOR_IMPLEMENTATION"
        echo "#include \"../../estimator.h\""
        echo "#include \"../../tests/test.h\" /* the framework */"
        for f in tests/test_*.c; do
            [ -e "$f" ] && echo "#include \"../../$f\""
        done
        echo ""
        echo "static const test_case test__all[] = {"
        names_list=$(LC_ALL=C sed -n -E 's/^TEST\(([A-Za-z0-9_]+)\).*/\1/p' tests/test_*.c 2>/dev/null)
        for n in $names_list; do
            echo "    {\"$n\", $n},"
        done
        echo "    {0, 0}"
        echo "};"
        echo ""
        echo "int main(int argc, char **argv)"
        echo "{"
        echo "    return test_main(argc, argv, test__all, (int)(sizeof test__all / sizeof test__all[0]) - 1);"
        echo "}"
    } >"$OUT/tests_main.c.new"
    # Keep the old file (and its mtime) when nothing changed.
    if cmp -s "$OUT/tests_main.c.new" "$OUT/tests_main.c"; then
        rm -f "$OUT/tests_main.c.new"
    else
        mv "$OUT/tests_main.c.new" "$OUT/tests_main.c"
    fi
}

# run_units LABEL BINARY: runs the unit-test binary, shows its lines prefixed with LABEL and adds
# its counts. A run that dies before its summary (crash, sanitizer report) counts one failure on
# top of the tests that had passed; one that exits non-zero after a clean summary (a leak report)
# counts one failure too.
run_units() {
    local label=$1 bin=$2 log="$OUT/$1.log" status summary p f
    "./$bin" 2>&1 | tee "$log" | sed -u "s/^/[$label] /"
    status=${PIPESTATUS[0]}
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -n "$summary" ]; then
        p=${summary%% passed*}
        f=${summary#*, }
        f=${f%% failed}
        passed=$((passed + p))
        failed=$((failed + f))
        if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
            fail "[$label] unit tests exited with status $status after passing"
        fi
    else
        passed=$((passed + $(grep -c '^ok ' "$log")))
        fail "[$label] unit tests crashed (status $status) before finishing; see $log"
    fi
}

gen_main
if gcc -O2 -std=c99 $WARN -o "$OUT/tests_main" "$OUT/tests_main.c" -lm -lpthread \
    >"$OUT/tests_main.build.log" 2>&1; then
    run_units unit "$OUT/tests_main"
else
    fail "[unit] build unit tests"
    show_log "$OUT/tests_main.build.log"
fi

if $SAN_CC -O1 -g -std=c99 $WARN -fsanitize=address,undefined -fno-omit-frame-pointer \
    -fno-sanitize-recover=undefined -o "$OUT/tests_main_asan" "$OUT/tests_main.c" -lm -lpthread \
    >"$OUT/tests_main_asan.build.log" 2>&1; then
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} run_units asan "$OUT/tests_main_asan"
else
    fail "[asan] build unit tests"
    show_log "$OUT/tests_main_asan.build.log"
fi

ms=$((($(date +%s%N) - t_start) / 1000000))
printf 'tests/run.sh took %d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
