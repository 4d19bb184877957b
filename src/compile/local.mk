# src/compile: configuration → plan → nftables objects of table inet portctl.
noinst_LIBRARIES += src/compile/libcompile.a
src_compile_libcompile_a_SOURCES = \
	src/compile/compile-internal.h \
	src/compile/spans.c \
	src/compile/plan.c \
	src/compile/bans.c \
	src/compile/eval.c \
	src/compile/explain.c \
	include/portctl/explain.h \
	src/compile/nft-build.h \
	src/compile/nft-build.c \
	src/compile/lower.c \
	src/compile/ruleset.c \
	src/compile/nft-print.c \
	src/compile/append.c \
	src/compile/panic.c \
	include/portctl/compile.h \
	include/portctl/plan.h

# Unit tests: rule text through the real parser, then plan and lowering.
check_PROGRAMS += tests/unit/test_plan tests/unit/test_compile
TESTS += tests/unit/test_plan tests/unit/test_compile
EXTRA_DIST += tests/unit/compile_helper.h
tests_unit_test_plan_SOURCES = tests/unit/test_plan.c tests/unit/compile_helper.h
tests_unit_test_plan_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_plan_LDADD = $(COMPILE_LIBS) $(CHECK_LIBS)
tests_unit_test_compile_SOURCES = tests/unit/test_compile.c tests/unit/compile_helper.h
tests_unit_test_compile_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_compile_LDADD = $(COMPILE_LIBS) $(CHECK_LIBS)

# Loads compiled rulesets into the kernel inside a private network namespace
# (skipped, exit 77, when not root); its loader is test-only.
check_PROGRAMS += tests/unit/test_compile_kernel
TESTS += tests/unit/test_compile_kernel
tests_unit_test_compile_kernel_SOURCES = tests/unit/test_compile_kernel.c \
	tests/unit/compile_helper.h
tests_unit_test_compile_kernel_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_compile_kernel_LDADD = $(COMPILE_LIBS) $(MNL_LIBS) $(CHECK_LIBS)

# Benchmark (not run by make check): make tests/bench/bench_compile.
noinst_PROGRAMS += tests/bench/bench_compile
tests_bench_bench_compile_SOURCES = tests/bench/bench_compile.c
tests_bench_bench_compile_LDADD = $(COMPILE_LIBS)

# Bans: validation, ban sets and timeouts, the O(bans) update, explain.
check_PROGRAMS += tests/unit/test_bans
TESTS += tests/unit/test_bans
tests_unit_test_bans_SOURCES = tests/unit/test_bans.c tests/unit/compile_helper.h
tests_unit_test_bans_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_bans_LDADD = $(COMPILE_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)

# Named address sets: list files, @NAME, shared kernel sets, evaluation.
check_PROGRAMS += tests/unit/test_sets
TESTS += tests/unit/test_sets
tests_unit_test_sets_SOURCES = tests/unit/test_sets.c tests/unit/compile_helper.h \
	tests/unit/test_lang.h
tests_unit_test_sets_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sets_LDADD = $(COMPILE_LIBS) $(CHECK_LIBS)
