# Muckwatch — common tasks. `make demo` is the one-command demo.
SHELL := /bin/bash

.PHONY: deps build release test demo bench bench-replay bench-probe bench-soak clean-demo

deps:
	Deploy/setup-deps.sh

build: deps
	swift build

release: deps
	swift build -c release --static-swift-stdlib

test: deps
	swift build --build-tests
	swift test --skip-build

demo: release
	Deploy/demo.sh

bench: release
	.build/release/muckwatch bench

bench-replay: release
	bench/replay.sh

bench-probe: release
	bench/probe.sh

bench-soak: release
	bench/soak.sh

clean-demo:
	rm -rf ./var/demo
