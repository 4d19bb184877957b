# tests/unit: build fragment, included from the top Makefile.am

# The read side: explain's words and answers, export and its round trip, diff.
check_PROGRAMS += tests/unit/test_explain
TESTS += tests/unit/test_explain
tests_unit_test_explain_SOURCES = tests/unit/test_explain.c tests/unit/compile_helper.h
tests_unit_test_explain_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_explain_LDADD = $(COMPILE_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)
