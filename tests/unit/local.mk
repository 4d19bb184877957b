# tests/unit: build fragment, included from the top Makefile.am

# The read side: explain's words and answers, export and its round trip, diff.
check_PROGRAMS += tests/unit/test_explain
TESTS += tests/unit/test_explain
tests_unit_test_explain_SOURCES = tests/unit/test_explain.c tests/unit/compile_helper.h
tests_unit_test_explain_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_explain_LDADD = $(COMPILE_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)

# Status counters: the batched element attribution equals the per-element scan.
check_PROGRAMS += tests/unit/test_elem_owner
TESTS += tests/unit/test_elem_owner
tests_unit_test_elem_owner_SOURCES = tests/unit/test_elem_owner.c tests/unit/compile_helper.h
tests_unit_test_elem_owner_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_elem_owner_LDADD = $(COMPILE_LIBS) $(CHECK_LIBS)

# The oracle: a difference installed leaves the kernel as a full compile
# would, over randomised configurations and changes (root: a namespace).
check_PROGRAMS += tests/unit/test_oracle
TESTS += tests/unit/test_oracle
tests_unit_test_oracle_SOURCES = tests/unit/test_oracle.c tests/unit/compile_helper.h
tests_unit_test_oracle_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_oracle_LDADD = $(NETLINK_LIBS) $(UTIL_LIBS) $(CHECK_LIBS)
