#!/usr/bin/env bash
# Runs canon's tests: the runner itself is scripts/run_tests.sh.  Sourced
# rather than run, which saves starting bash a second time.
case ${BASH_SOURCE[0]} in
*/*) . "${BASH_SOURCE[0]%/*}/scripts/run_tests.sh" ;;
*) . scripts/run_tests.sh ;;
esac
