# src/netlink: build fragment, included from the top Makefile.am
