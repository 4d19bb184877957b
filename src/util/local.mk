# src/util: allocation helpers and diagnostics shared by every stage.
noinst_LIBRARIES += src/util/libutil.a
src_util_libutil_a_SOURCES = src/util/util.c src/util/diag.c \
	include/portctl/util.h include/portctl/diag.h
