# src/util: allocation helpers shared by every stage.
noinst_LIBRARIES += src/util/libutil.a
src_util_libutil_a_SOURCES = src/util/util.c include/portctl/util.h
