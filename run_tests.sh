#!/usr/bin/env bash
# Runs canon's tests: the runner itself is scripts/run_tests.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/scripts/run_tests.sh" "$@"
