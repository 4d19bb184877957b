# tests/bench: build fragment, included from the top Makefile.am
