# The two commands of the README: `make serve` and `make test`. Both install what is missing,
# configure and build; everything else is a convenience.
BUILD_DIR ?= build
CMAKE_FLAGS ?=

.PHONY: all deps test-deps build serve test test-sanitize bench fuzz lambda-zip deb image dist clean refresh-bots

all: build

# What building footfall needs (Debian packages); test-deps: and what the tests need, then the two
# test tools Debian does not package (moto, Terraform), checked before anything is built.
deps:
	@scripts/install-deps.sh
test-deps:
	@scripts/install-deps.sh --test
	@scripts/check-test-tools.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOOTFALL_WERROR=ON $(CMAKE_FLAGS)

# Everything that configures here: the programs, and the tests when GoogleTest is installed.
build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

# The footfall binary alone: no test, no benchmark (its first build is a few minutes on 2 cores).
serve: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) --target footfall
	$(BUILD_DIR)/footfall serve $(ARGS)

# Everything in the Release build, then the unit and integration tests again under ASan+UBSan,
# then each fuzz target for FUZZ_SECONDS (see test-sanitize).
test: test-deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOOTFALL_WERROR=ON \
	  -DFOOTFALL_REQUIRE_TESTS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR)
	$(MAKE) lambda-zip
	cd $(BUILD_DIR) && rm -rf test-artifacts && ctest --output-on-failure --timeout 600 -j2
	$(MAKE) test-sanitize

# One clang build with ASan and UBSan (fatal) everywhere and libFuzzer coverage in the libraries:
# its footfall binary and unit tests rerun the unit and integration tests, and its fuzz targets
# fuzz for FUZZ_SECONDS each from fuzz/corpus/<name>. Any sanitizer report fails the run.
SANITIZE_BUILD_DIR ?= build-sanitize
FUZZ_SECONDS ?= 20
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
test-sanitize: test-deps
	cmake -S . -B $(SANITIZE_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DFOOTFALL_WERROR=ON -DFOOTFALL_REQUIRE_TESTS=ON -DFOOTFALL_FUZZ=ON -DFOOTFALL_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_BUILD_DIR)
	cd $(SANITIZE_BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure --timeout 600 -j2 -L 'unit|cross|integration'
	cd $(SANITIZE_BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j2 -L fuzz

# The Lambda package: the same footfall, linked for provided.al2023 in its own build directory.
LAMBDA_BUILD_DIR ?= build-lambda
lambda-zip: deps
	cmake -S . -B $(LAMBDA_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel -DFOOTFALL_WERROR=ON -DFOOTFALL_LAMBDA_PACKAGE=ON
	cmake --build $(LAMBDA_BUILD_DIR) --target footfall
	scripts/package-lambda.sh $(LAMBDA_BUILD_DIR)/footfall $(BUILD_DIR)/footfall-lambda.zip

# The Debian package of the Release build's footfall: build/footfall_<version>_amd64.deb, made with
# debhelper and checked by lintian (scripts/make-deb.sh, debian/).
deb: deps $(BUILD_DIR)/build.ninja
	@scripts/install-deps.sh --test
	cmake --build $(BUILD_DIR) --target footfall
	scripts/make-deb.sh $(BUILD_DIR)/footfall

# The OCI image, from scratch with umoci: build/footfall-<version>-oci.tar (scripts/make-image.sh).
image: deps $(BUILD_DIR)/build.ninja
	@scripts/install-deps.sh --test
	cmake --build $(BUILD_DIR) --target footfall
	scripts/make-image.sh $(BUILD_DIR)/footfall $(BUILD_DIR)

# The release artifacts in build/dist: the .deb, a tarball, the Lambda zip, the OCI image and
# SHA256SUMS (scripts/make-dist.sh); .github/workflows/release.yml publishes them for a tag.
dist: lambda-zip
	@scripts/install-deps.sh --test
	cmake --build $(BUILD_DIR) --target footfall
	scripts/make-dist.sh $(BUILD_DIR)/footfall $(BUILD_DIR)/footfall-lambda.zip $(BUILD_DIR)/dist

bench: lambda-zip
	@scripts/install-deps.sh --bench
	@scripts/check-test-tools.sh
	$(MAKE) build
	bash bench/run.sh $(BUILD_DIR)/footfall
	bash bench/postgres_bench.sh $(BUILD_DIR)/footfall
	bash bench/overload.sh $(BUILD_DIR)/footfall
	python3 bench/lambda_bench.py $(BUILD_DIR)/footfall $(BUILD_DIR)/footfall-lambda.zip
	python3 bench/aws_bench.py $(BUILD_DIR)/footfall
	mkdir -p $(BUILD_DIR)/bench-data
	$(BUILD_DIR)/bench/stats_bench $(BUILD_DIR)/bench-data
	$(BUILD_DIR)/bench/user_agent_bench third_party/crawler-user-agents/crawler-user-agents.json \
	  third_party/user-agents/browsers.txt
	bash bench/fresh_install.sh

# The bot patterns (third_party/crawler-user-agents) from the newest crawler-user-agents on npm,
# or VERSION=x.y.z; then rebuild and run the tests (scripts/refresh-crawler-list.sh).
refresh-bots:
	scripts/refresh-crawler-list.sh $(VERSION)

# Longer fuzzing in the sanitize build: each of FUZZERS (default all) for FUZZ_SECONDS given on the
# command line, else 10 minutes, e.g. `make fuzz FUZZERS=import_fuzz FUZZ_SECONDS=3600`. New inputs
# collect in $(SANITIZE_BUILD_DIR)/fuzz/corpus/<name>, a crashing one in .../fuzz/artifacts/.
FUZZERS ?= request_fuzz lambda_event_fuzz stats_query_fuzz import_fuzz event_body_fuzz stream_event_fuzz dynamodb_answer_fuzz header_scan_fuzz credentials_answer_fuzz
fuzz: FUZZ_TIME = $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),600)
fuzz: test-deps
	cmake -S . -B $(SANITIZE_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DFOOTFALL_WERROR=ON -DFOOTFALL_REQUIRE_TESTS=ON -DFOOTFALL_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_BUILD_DIR) --target $(FUZZERS)
	set -e; for f in $(FUZZERS); do \
	  $(SANITIZER_ENV) $(SANITIZE_BUILD_DIR)/fuzz/$$f -max_total_time=$(FUZZ_TIME) -max_len=4096 \
	    -artifact_prefix=$(SANITIZE_BUILD_DIR)/fuzz/artifacts/$$f- \
	    $(SANITIZE_BUILD_DIR)/fuzz/corpus/$$f fuzz/corpus/$${f%_fuzz}; \
	done

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_BUILD_DIR) $(LAMBDA_BUILD_DIR) build-fuzz  # build-fuzz: before make fuzz moved
