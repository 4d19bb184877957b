#!/bin/sh
# test_inplace_pidns.sh with the CLI's rules among many small runs, lowered rule by rule.
PC_SMALL_RUNS=1 exec sh "$(dirname "$0")/test_inplace_pidns.sh"
