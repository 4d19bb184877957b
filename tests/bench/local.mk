# tests/bench: build fragment, included from the top Makefile.am

noinst_PROGRAMS += tests/bench/bench_phases
tests_bench_bench_phases_SOURCES = tests/bench/bench_phases.c
tests_bench_bench_phases_LDADD = $(APPLY_LIBS)
EXTRA_DIST += tests/bench/bench_shapes.sh
EXTRA_DIST += tests/bench/bench_roundtrip.sh
EXTRA_DIST += tests/bench/bench_memory.sh
