#!/bin/sh
# Install dependencies, build, and run the whole test suite (unit and
# integration). --sanitizers builds and tests with ASan + UBSan instead.
set -eu
cd "$(dirname "$0")/.."

builddir=build
confargs=""
if [ "${1:-}" = "--sanitizers" ]; then
	builddir=build-sanitizers
	confargs="--enable-sanitizers"
fi

tools/deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p "$builddir"
cd "$builddir"
# shellcheck disable=SC2086
[ -f Makefile ] || ../configure $confargs
make -j"$(nproc)"
if ! make -j"$(nproc)" check; then
	# Show why, not just that: the logs of the failed tests.
	for f in $(find . -name '*.trs'); do
		grep -q '^:test-result: FAIL\|^:test-result: ERROR' "$f" && cat "${f%.trs}.log"
	done
	exit 1
fi
