# The two commands of the README: `make serve` and `make test`. Both install what is missing,
# configure and build; everything else is a convenience.
BUILD_DIR ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build serve test bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOOTFALL_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

serve: build
	$(BUILD_DIR)/footfall serve $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j2

bench: build
	@scripts/install-deps.sh --bench
	bash bench/run.sh $(BUILD_DIR)/footfall

clean:
	rm -rf $(BUILD_DIR)
