# src/netlink: the kernel transport (one nftables transaction per change).
noinst_LIBRARIES += src/netlink/libnetlink.a
src_netlink_libnetlink_a_SOURCES = \
	include/portctl/netlink.h \
	src/netlink/internal.h \
	src/netlink/batch.c \
	src/netlink/socket.c \
	src/netlink/apply.c \
	src/netlink/diff.c \
	src/netlink/delta.c \
	src/netlink/counters.c \
	src/netlink/verify.c \
	src/netlink/held.c \
	src/netlink/memo.c \
	src/netlink/events.c \
	include/portctl/natscan.h src/netlink/natscan.c

# Unit test of the transport against the kernel, each test in its own
# network namespace (skipped with 77 when not root).
check_PROGRAMS += tests/unit/test_netlink
TESTS += tests/unit/test_netlink
tests_unit_test_netlink_SOURCES = tests/unit/test_netlink.c
tests_unit_test_netlink_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_netlink_LDADD = src/netlink/libnetlink.a $(UTIL_LIBS) $(NFTNL_LIBS) \
	$(MNL_LIBS) $(CHECK_LIBS)

# Bans against the kernel: element-only ban and unban, no resend for
# shrunk timeouts, lapsed elements neither drift nor deleted again.
check_PROGRAMS += tests/unit/test_bans_kernel
TESTS += tests/unit/test_bans_kernel
tests_unit_test_bans_kernel_SOURCES = tests/unit/test_bans_kernel.c tests/unit/compile_helper.h
tests_unit_test_bans_kernel_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_bans_kernel_LDADD = $(NETLINK_LIBS) $(UTIL_LIBS) $(CHECK_LIBS)
