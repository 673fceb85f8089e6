# The two commands of the README: `make serve` and `make test`. Both install what is missing,
# configure and build; everything else is a convenience.
BUILD_DIR ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build serve test bench fuzz lambda-zip clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOOTFALL_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

serve: build
	$(BUILD_DIR)/footfall serve $(ARGS)

test: build lambda-zip
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j2

# The Lambda package: the same footfall, linked for provided.al2023 in its own build directory.
LAMBDA_BUILD_DIR ?= build-lambda
lambda-zip: deps
	cmake -S . -B $(LAMBDA_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel -DFOOTFALL_WERROR=ON -DFOOTFALL_LAMBDA_PACKAGE=ON
	cmake --build $(LAMBDA_BUILD_DIR) --target footfall
	scripts/package-lambda.sh $(LAMBDA_BUILD_DIR)/footfall $(BUILD_DIR)/footfall-lambda.zip

bench: build lambda-zip
	@scripts/install-deps.sh --bench
	bash bench/run.sh $(BUILD_DIR)/footfall
	bash bench/postgres_bench.sh $(BUILD_DIR)/footfall
	bash bench/overload.sh $(BUILD_DIR)/footfall
	python3 bench/lambda_bench.py $(BUILD_DIR)/footfall $(BUILD_DIR)/footfall-lambda.zip
	mkdir -p $(BUILD_DIR)/bench-data
	$(BUILD_DIR)/bench/stats_bench $(BUILD_DIR)/bench-data

# Builds the fuzz targets with clang + libFuzzer + ASan/UBSan and runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DFOOTFALL_FUZZ=ON
	cmake --build build-fuzz --target request_fuzz
	mkdir -p build-fuzz/corpus/request
	build-fuzz/fuzz/request_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build-fuzz/corpus/request fuzz/corpus/request

clean:
	rm -rf $(BUILD_DIR) build-fuzz $(LAMBDA_BUILD_DIR)
