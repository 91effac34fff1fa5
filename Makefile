# estimator.h -- build, test and packaging entry points (GNU make).
#
#   make            build the tools and examples into build/
#   make demo       install missing Debian packages, build the examples, run the demo
#   make test       install missing Debian packages, run the whole suite (tests/run.sh)
#   make amalgamate regenerate estimator.h from src/ (commit the result)
#   make bench      this library (built-in kernels and estimator_blas.h) next to PyTorch, table of
#                   medians + BENCH lines (bench/run.sh; BENCH_RUNS=1 BENCH_QUICK=1 for a quick check)
#   make deps       install the Debian packages the project needs (as root; else print the command)
#   make check-amalgamation   fail if the committed estimator.h does not match src/
#   make clean      remove build/

CC ?= cc
CXX ?= c++
# `cc` is make's built-in default; keep it unless the user chose another compiler.
ifeq ($(origin CC),default)
CC := cc
endif
ifeq ($(origin CXX),default)
CXX := c++
endif

CFLAGS_BASE := -std=c99 -Wall -Wextra -Wpedantic -Werror
CFLAGS ?= -O2
LDLIBS_BASE := -lm -lpthread

BUILD := build

# The program `make demo` runs: any examples/<name>.c.
DEMO ?= mnist_cnn
# The tutorial CNN on Fashion-MNIST: 1,500 steps of batch 100 with momentum take about three minutes
# on two cores (a fresh temporary model_dir each time, so it trains every run).
DEMO_ARGS ?= --max_steps 1500 --optimizer momentum --learning_rate 0.02 --export_dir $(BUILD)/mnist_export
# Examples are built for this machine's vector width (the kernels are portable C vectorised by the
# compiler); set ARCH_FLAGS= for a generic build.
ARCH_FLAGS ?= -march=native

# Benchmarks: bench/<name>.c -> build/bench_<name> (and build/bench_<name>_openblas when the
# OpenBLAS headers are installed, built with -DBENCH_OPENBLAS: estimator_blas.h / cblas_sgemm).
BENCHES ?= gemm input train
# make bench: timed runs per workload and build (interleaved with PyTorch); BENCH_QUICK=1 runs a
# few steps only (a check of the harness, not a measurement).
BENCH_RUNS ?= 5
BENCH_QUICK ?= 0
CBLAS_H := $(firstword $(wildcard /usr/include/x86_64-linux-gnu/cblas.h /usr/include/cblas.h))

# Debian packages the project needs (compilers, test data, the Python/Node reference tools).
DEPS_PACKAGES := gcc g++ clang make libstb-dev libopenblas-dev dataset-fashion-mnist python3 \
	python3-numpy python3-torch python3-onnx python3-protobuf protobuf-compiler python3-sklearn \
	nodejs npm

# What estimator.h is made from: the manifest and every file it lists that exists (a missing one is
# reported by the amalgamator itself, with its name).
HASH := \#
MANIFEST_FILES := $(shell sed -e 's/$(HASH).*//' src/MANIFEST 2>/dev/null)
SRC_FILES := $(wildcard $(addprefix src/,$(MANIFEST_FILES)))

# Targets that compile against estimator.h regenerate it first when src/ is newer. Not in CI:
# there the committed header is what users get, so it is tested as committed and
# check-amalgamation (tests/run.sh) fails if it is stale instead of silently fixing it.
ifeq ($(CI),true)
HEADER :=
else
HEADER := estimator.h
endif

EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/%,$(EXAMPLE_SRCS))
TOOL_SRCS := $(sort $(wildcard tools/*.c))
TOOLS := $(patsubst tools/%.c,$(BUILD)/%,$(TOOL_SRCS))
OTHER_TOOLS := $(filter-out $(BUILD)/amalgamate,$(TOOLS))
BENCH_BINS := $(patsubst %,$(BUILD)/bench_%,$(BENCHES))
# What make bench runs (bench/run.sh): not every program of both builds.
BENCH_RUN_BINS := $(BUILD)/bench_train $(BUILD)/bench_input
ifneq ($(CBLAS_H),)
BENCH_BLAS_BINS := $(patsubst %,$(BUILD)/bench_%_openblas,$(BENCHES))
BENCH_RUN_BINS += $(BUILD)/bench_train_openblas $(BUILD)/bench_gemm_openblas
endif

# Extra libraries an example asks for with a `LIBS: -lfoo` line in its first 5 lines.
extra_libs = $(shell head -n 5 $(1) | sed -n '/LIBS:/{s/.*LIBS:[[:space:]]*//;s/[[:space:]]*\*\/.*//;p;}')

.PHONY: all test demo examples tools bench deps amalgamate check-amalgamation clean header

all: tools examples

# ---- the amalgamation --------------------------------------------------------------------------

# The amalgamator needs nothing but libc, so it never depends on the header it produces.
$(BUILD)/amalgamate: tools/amalgamate.c | $(BUILD)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $<

amalgamate: $(BUILD)/amalgamate
	./$(BUILD)/amalgamate --src src --out estimator.h

check-amalgamation: $(BUILD)/amalgamate
	@./$(BUILD)/amalgamate --src src --check estimator.h

ifneq ($(CI),true)
# The tool leaves an identical header untouched, so dependents are not rebuilt for nothing.
estimator.h: src/MANIFEST $(SRC_FILES) tools/amalgamate.c | $(BUILD)/amalgamate
	./$(BUILD)/amalgamate --src src --out $@
endif

header: $(HEADER)
	@:

# ---- programs ----------------------------------------------------------------------------------

tools: $(TOOLS)

$(OTHER_TOOLS): $(BUILD)/%: tools/%.c $(HEADER) | $(BUILD)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -o $@ $< $(LDLIBS_BASE) $(call extra_libs,$<)

examples: $(EXAMPLES)

$(EXAMPLES): $(BUILD)/%: examples/%.c $(HEADER) | $(BUILD)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(ARCH_FLAGS) -o $@ $< $(LDLIBS_BASE) $(call extra_libs,$<)

# deps runs first (it may install the compiler), then the rest in a sub-make.
demo: deps
	@test -f examples/$(DEMO).c || { echo "make demo: examples/$(DEMO).c does not exist (set DEMO=name)" >&2; exit 1; }
	@$(MAKE) --no-print-directory examples
	./$(BUILD)/$(DEMO) $(DEMO_ARGS)
	@if [ "$(DEMO)" = mnist_cnn ]; then ./$(BUILD)/serve_export --export_dir $(BUILD)/mnist_export; fi

test: deps
	@$(MAKE) --no-print-directory header
	bash tests/run.sh

# ---- benchmarks --------------------------------------------------------------------------------

BENCH_CFLAGS := $(CFLAGS_BASE) -O3 -march=native

$(BENCH_BINS): $(BUILD)/bench_%: bench/%.c $(HEADER) | $(BUILD)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LDLIBS_BASE)

$(BENCH_BLAS_BINS): $(BUILD)/bench_%_openblas: bench/%.c $(HEADER) estimator_blas.h | $(BUILD)
	$(CC) $(BENCH_CFLAGS) -DBENCH_OPENBLAS -o $@ $< -lopenblas $(LDLIBS_BASE)

# The same workloads in both of our builds and in PyTorch, interleaved; see bench/run.sh.
# The other programs build on request: make build/bench_gemm build/bench_input_openblas ...
bench: $(BENCH_RUN_BINS)
	BENCH_RUNS=$(BENCH_RUNS) BENCH_QUICK=$(BENCH_QUICK) bash bench/run.sh $(BUILD)

# ---- environment -------------------------------------------------------------------------------

# Silent and fast when everything is installed. node/npm are skipped when the commands exist:
# some images ship Node from elsewhere, and Debian's npm would conflict with it.
deps:
	@missing=""; \
	for p in $(DEPS_PACKAGES); do \
	  case $$p in \
	    nodejs) command -v node >/dev/null 2>&1 && continue ;; \
	    npm) command -v npm >/dev/null 2>&1 && continue ;; \
	  esac; \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing missing Debian packages:$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages. Run: sudo apt-get install -y$$missing" >&2; \
	    exit 1; \
	  fi; \
	fi

$(BUILD):
	@mkdir -p $@

clean:
	rm -rf $(BUILD) estimator.h.tmp
