# src/lang: the rule language — lexer, parser, validation, loader — and
# its tests, fuzz target and benchmark.
noinst_LIBRARIES += src/lang/liblang.a
src_lang_liblang_a_SOURCES = \
	src/lang/lang.h \
	src/lang/lexer.c \
	src/lang/words.c \
	src/lang/l4.c \
	src/lang/lint.c \
	src/lang/parser.c \
	src/lang/validate.c \
	src/lang/config.c \
	src/lang/load.c \
	src/lang/export.c \
	src/lang/sets.c \
	include/portctl/export.h \
	include/portctl/ast.h \
	include/portctl/config.h

LANG_TEST_LDADD = $(LANG_LIBS) $(CHECK_LIBS)
check_PROGRAMS += tests/unit/test_lang
TESTS += tests/unit/test_lang
tests_unit_test_lang_SOURCES = tests/unit/test_lang.c tests/unit/test_lang.h
tests_unit_test_lang_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_lang_LDADD = $(LANG_TEST_LDADD)

check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/unit/test_lang.h
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_config_LDADD = $(LANG_TEST_LDADD)
EXTRA_DIST += tests/data/product-example.rules tests/data/lang

check_PROGRAMS += tests/unit/test_lang_robust
TESTS += tests/unit/test_lang_robust
tests_unit_test_lang_robust_SOURCES = tests/unit/test_lang_robust.c tests/unit/test_lang.h
tests_unit_test_lang_robust_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_lang_robust_LDADD = $(LANG_TEST_LDADD)

check_PROGRAMS += tests/unit/test_diag
TESTS += tests/unit/test_diag
tests_unit_test_diag_SOURCES = tests/unit/test_diag.c tests/unit/test_lang.h
tests_unit_test_diag_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_diag_LDADD = $(LANG_TEST_LDADD)

# The fuzz target: a libFuzzer binary with --enable-fuzzing, else a
# regression test over its seed corpus.
EXTRA_DIST += tests/fuzz/corpus/parse
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_parse
tests_fuzz_fuzz_parse_SOURCES = tests/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_CFLAGS = $(AM_CFLAGS) -DFUZZING -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_parse_LDFLAGS = -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_parse_LDADD = $(LANG_LIBS)
else
check_PROGRAMS += tests/fuzz/fuzz_parse
TESTS += tests/fuzz/fuzz_parse
tests_fuzz_fuzz_parse_SOURCES = tests/fuzz/fuzz_parse.c
tests_fuzz_fuzz_parse_CFLAGS = $(AM_CFLAGS)
tests_fuzz_fuzz_parse_LDADD = $(LANG_LIBS)
endif

# Not run by make check: "make tests/bench/bench_parse && tests/bench/bench_parse".
noinst_PROGRAMS += tests/bench/bench_parse
tests_bench_bench_parse_SOURCES = tests/bench/bench_parse.c
tests_bench_bench_parse_LDADD = $(LANG_LIBS)
