#!/usr/bin/env bash
# test-slug.sh: the runner's slug rule (errata.awk, through print_slugs)
# must turn check names into the same slugs as report_slug() in
# lib/report.c, or errata would silently not match.  Checks a table of
# known answers, then (when gcc is installed) the guest's own C function,
# compiled for the host, on the same names.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/runner/errata.sh
. "$root/scripts/runner/errata.sh"

# name <TAB> slug
known_answers=$'SMAP: read of user page at CPL 0 with AC=0\tsmap-read-of-user-page-at-cpl-0-with-ac-0
  leading and trailing  \tleading-and-trailing
#PF(P|W) error code: 0x3\tpf-p-w-error-code-0x3
UMIP: SGDT at CPL 3 raises #GP(0)\tumip-sgdt-at-cpl-3-raises-gp-0
a--b__c  d\ta-b-c-d
CamelCase42X\tcamelcase42x
--- \t
caf\xc3\xa9 br\xc3\xbbl\xc3\xa9\tcaf-br-l
\t'

failures=0

check() { # NAME EXPECTED SOURCE
	local actual
	actual=$(print_slugs "$1")
	if [ "$actual" != "$2" ]; then
		echo "FAIL: slug '$1' is '$actual', $3 says '$2'"
		failures=$((failures + 1))
	fi
}

# The guest's report_slug(), cut out of lib/report.c and run on the host.
build_guest_slug() { # OUTPUT
	local source=$root/lib/report.c
	command -v "${HOST_CC:-gcc}" >/dev/null && [ -r "$source" ] || return 1
	{
		printf '#include <stdbool.h>\n#include <stddef.h>\n#include <stdio.h>\n'
		awk '/^char \*report_slug\(/ { copy = 1 } copy { print } copy && /^}/ { exit }' "$source"
		printf 'int main(int c, char **v) { char s[1024]; for (int i = 1; i < c; i++) puts(report_slug(v[i], s, sizeof(s))); return 0; }\n'
	} >"$1.c"
	"${HOST_CC:-gcc}" -o "$1" "$1.c"
}

while IFS=$'\t' read -r name expected; do
	[ -n "$name$expected" ] || continue
	check "$(printf '%b' "$name")" "$expected" "the known answer"
done <<<"$known_answers"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if build_guest_slug "$work/slug"; then
	while IFS=$'\t' read -r name _; do
		[ -n "$name" ] || continue
		name=$(printf '%b' "$name")
		check "$name" "$("$work/slug" "$name")" "report_slug()"
	done <<<"$known_answers"
else
	echo "SKIP: no gcc or lib/report.c; checked the known answers only"
fi
[ "$failures" -eq 0 ] && echo "PASS: the runner's slugs agree with report_slug()"
[ "$failures" -eq 0 ]
