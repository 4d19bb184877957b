# src/proto: build fragment, included from the top Makefile.am
