# src/proto: the wire protocol between portctl and portctld (framing, JSON
# requests and responses, the client end), its unit tests and fuzz target.
noinst_LIBRARIES += src/proto/libproto.a
src_proto_libproto_a_SOURCES = src/proto/proto.c src/proto/client.c \
	include/portctl/proto.h

check_PROGRAMS += tests/unit/test_proto
TESTS += tests/unit/test_proto
tests_unit_test_proto_SOURCES = tests/unit/test_proto.c
tests_unit_test_proto_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_proto_LDADD = $(PROTO_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)

EXTRA_DIST += tests/fuzz/corpus/proto

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_proto
tests_fuzz_fuzz_proto_SOURCES = tests/fuzz/fuzz_proto.c
tests_fuzz_fuzz_proto_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_proto_LDFLAGS = -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_proto_LDADD = $(PROTO_LIBS) $(JANSSON_LIBS)
endif
