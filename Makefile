# The README's two commands: `make run` (the main job) and `make test` (the whole suite).
# Both install what they need first (scripts/install-deps.sh is idempotent).
PRESET ?= $(if $(filter true,$(CI)),ci,default)
BUILD_DIR := build

PREFIX ?= /usr/local

.PHONY: deps configure build run test bench install clean format asan fuzz

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

# The sanitizer build (clang, ASan + UBSan: build-asan/), its tests, and 30 s per fuzzer.
asan: deps
	scripts/sanitize.sh

# A longer fuzzing run: FUZZ_SECONDS per target (default 600), on the asan build.
FUZZ_SECONDS ?= 600
fuzz: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan --target btf_blob_fuzz btf_json_fuzz map_words_fuzz
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) build-asan

# The C++ sources only: the BPF C sources keep their include order (vmlinux.h first),
# which clang-format would sort.
format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')
