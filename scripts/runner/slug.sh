#!/usr/bin/env bash
# slug.sh NAME...: prints the errata slug of each printed check name (the
# text after "FAIL: "), the form x86/errata.txt wants, one a line.
#   scripts/runner/slug.sh "SMAP: read of user page at CPL 0 with AC=0"
#   -> smap-read-of-user-page-at-cpl-0-with-ac-0
set -uo pipefail
# shellcheck source=scripts/runner/errata.sh
. "$(dirname "${BASH_SOURCE[0]}")/errata.sh"
[ $# -eq 0 ] || print_slugs "$@"
