# The README's two commands: `make run` (the main job) and `make test` (the whole suite).
# Both install what they need first (scripts/install-deps.sh is idempotent).
PRESET ?= $(if $(filter true,$(CI)),ci,default)
BUILD_DIR := build

PREFIX ?= /usr/local

.PHONY: deps configure build run test bench install clean format

deps:
	scripts/install-deps.sh

configure: deps
	cmake --preset $(PRESET) >/dev/null

build: configure
	cmake --build --preset $(PRESET)

run: build
	$(BUILD_DIR)/ebpf-tool stats --duration 5

test: build
	ctest --preset $(PRESET)

bench: build
	scripts/bench.sh

# The library (shared libebpf.so, headers, CMake package with ebpf_bpf_object(), ebpf.pc)
# and ebpf-tool, under PREFIX; ldconfig so that programs find libebpf.so.
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)
	ldconfig

clean:
	rm -rf $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')
