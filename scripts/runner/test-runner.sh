#!/usr/bin/env bash
# test-runner.sh: the runner names each way a test can go wrong.  Runs
# run_tests.sh on cfgs of broken sections and errata lists (needs
# x86/selftest.flat and QEMU), partly through a fake QEMU that prints a
# made-up guest log, and checks every result line and exit status, and
# that no QEMU is left behind.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

expect_line() { # OUTPUT-FILE PATTERN WHAT
	if grep -q -e "$2" "$1"; then
		echo "PASS: $3"
	else
		echo "FAIL: $3: no line like '$2' in:"
		sed 's/^/    /' "$1"
		failures=$((failures + 1))
	fi
}

expect_no_line() { # OUTPUT-FILE PATTERN WHAT
	if grep -q -e "$2" "$1"; then
		echo "FAIL: $3: a line like '$2' in:"
		sed 's/^/    /' "$1"
		failures=$((failures + 1))
	else
		echo "PASS: $3"
	fi
}

# Runs run_tests.sh with ARGUMENTS; OUTPUT gets stdout, stderr and a last
# line "exit status N".  The errata list is empty unless ARGUMENTS give one
# (the last -E wins), so that these checks do not hang on x86/errata.txt.
: >"$work/no-errata.txt"
run_runner() { # OUTPUT ARGUMENT...
	local output=$1
	shift
	"$root/scripts/run_tests.sh" -E "$work/no-errata.txt" "$@" >"$output" 2>&1
	echo "exit status $?" >>"$output"
}

# A QEMU that plays a guest: the first word of its -append names
# fake/WORD.serial, printed as the guest's output, and fake/WORD.status,
# its exit status (default 1, the exit device's "pass").  It keeps its
# arguments in fake/WORD.arguments.  The runner's probes (-S) go to the
# real QEMU.
mkdir "$work/fake"
cat >"$work/fake-qemu" <<'QEMU'
#!/usr/bin/env bash
append=""
for word in "$@"; do
	[ "$word" = -S ] && exec qemu-system-x86_64 "$@"
	[ "${previous:-}" = -append ] && append=$word
	previous=$word
done
directory=$(dirname "$0")/fake
name=${append%% *}
printf '%s\n' "$@" >"$directory/$name.arguments"
cat "$directory/$name.serial" 2>/dev/null
exit "$(cat "$directory/$name.status" 2>/dev/null || echo 1)"
QEMU
chmod +x "$work/fake-qemu"

# A fake guest NAME that prints LINES (one argument each) and exits STATUS.
fake_guest() { # NAME STATUS LINE...
	local name=$1 status=$2
	shift 2
	printf '%s\n' "$@" >"$work/fake/$name.serial"
	echo "$status" >"$work/fake/$name.status"
}

# A cfg section that boots the fake guest NAME.
fake_section() { # NAME
	printf '[%s]\nfile = selftest.flat\ntest_args = %s\n\n' "$1" "$1"
}

cat >"$work/broken.cfg" <<'CFG'
[hang]
file = selftest.flat
extra_params = -S -name canon-runner-self-test
timeout = 2

[bad-option]
file = selftest.flat
extra_params = -device no-such-device

[no-image]
file = no-such-test.flat

[pass-expected-to-fail]
file = selftest.flat
expect = fail
CFG

# QEMU that aborts once past the runner's probes (which use -S).
cat >"$work/aborting-qemu" <<'QEMU'
#!/usr/bin/env bash
for word in "$@"; do [ "$word" = -S ] && exec qemu-system-x86_64 "$@"; done
echo "aborting-qemu: assertion failed" >&2
kill -ABRT $$
QEMU
chmod +x "$work/aborting-qemu"

run_runner "$work/out" -f "$work/broken.cfg"
expect_line "$work/out" '^FAIL hang (timeout after 2s' "a hung guest is a timeout"
expect_line "$work/out" "^FAIL bad-option (QEMU failed to start: .*no-such-device" "QEMU's own error is shown"
expect_line "$work/out" '^FAIL no-image (.*no-such-test.flat is missing: run make first)' "a missing image says run make"
expect_line "$work/out" '^FAIL pass-expected-to-fail (expected fail, but it passed' "expect = fail needs a failure"
expect_line "$work/out" '^SUMMARY: 0 passed, 4 failed, 0 skipped' "the summary counts them"

QEMU=$work/aborting-qemu run_runner "$work/out" -f "$work/broken.cfg" pass-expected-to-fail
expect_line "$work/out" '^FAIL pass-expected-to-fail (expected fail, got: QEMU killed by SIGABRT: aborting-qemu: assertion failed)' "a QEMU abort shows its last stderr line"

QEMU=$work/no-qemu run_runner "$work/out" -f "$work/broken.cfg" hang
expect_line "$work/out" 'install the qemu-system-x86 package' "a missing QEMU names its package"

# ---- the status table (issue 11) ----
# A guest failure is a FAIL that names the first failing check; the exit
# device's "fail" (QEMU status 3) is never a pass; a SUMMARY that disagrees
# with the result lines is a failure of its own.
{
	printf '[guest-fails]\nfile = selftest.flat\ntest_args = fail\n\n'
	fake_section summary-hides-a-failure
	fake_section summary-counts-a-skip-never-printed
	fake_section summary-misses-an-expected-failure
	fake_section status-3-with-a-passing-summary
	fake_section status-3-with-a-failing-summary
	fake_section status-3-without-output
} >"$work/status.cfg"
fake_guest summary-hides-a-failure 1 "PASS: one" "FAIL: two" "INFO: not a check" \
	"SUMMARY: 2 tests, 0 unexpected failures, 0 skipped"
fake_guest summary-counts-a-skip-never-printed 1 "PASS: one" "PASS: two" \
	"SUMMARY: 2 tests, 0 unexpected failures, 1 skipped"
fake_guest summary-misses-an-expected-failure 1 "PASS: one" "XFAIL: two" \
	"SUMMARY: 2 tests, 0 unexpected failures, 0 skipped"
fake_guest status-3-with-a-passing-summary 3 "PASS: one" "SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
fake_guest status-3-with-a-failing-summary 3 "PASS: one" "FAIL: two" \
	"SUMMARY: 2 tests, 1 unexpected failures, 0 skipped"
fake_guest status-3-without-output 3
ACCEL=tcg QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/status.cfg" summary-hides-a-failure \
	summary-counts-a-skip-never-printed summary-misses-an-expected-failure status-3-with-a-passing-summary status-3-with-a-failing-summary \
	status-3-without-output
ACCEL=tcg run_runner "$work/out-real" -f "$work/status.cfg" guest-fails
expect_line "$work/out-real" '^FAIL guest-fails (1 of 17 tests failed, first: deliberately failing check)$' \
	"a failing guest is a FAIL naming its first failing check"
expect_line "$work/out" '^FAIL summary-hides-a-failure (guest summary disagrees with its result lines: SUMMARY has 2 tests, 0 unexpected failures, 0 expected failures, 0 skipped; the lines show 2 results, 1 FAIL or XPASS, 0 XFAIL, 0 SKIP)$' \
	"a FAIL line under a SUMMARY of 0 failures is a mismatch failure"
expect_line "$work/out" '^FAIL summary-counts-a-skip-never-printed (guest summary disagrees' \
	"a SUMMARY that counts a SKIP line not printed is a mismatch failure"
expect_line "$work/out" '^FAIL summary-misses-an-expected-failure (guest summary disagrees' \
	"a SUMMARY that leaves out an XFAIL line is a mismatch failure"
expect_line "$work/out" '^FAIL status-3-with-a-passing-summary (guest exit code 1 disagrees with its SUMMARY' \
	"status 3 with a passing SUMMARY is a failure"
expect_line "$work/out" '^FAIL status-3-with-a-failing-summary (1 of 2 tests failed, first: two)$' \
	"status 3 with a failing SUMMARY is the guest's failure"
expect_line "$work/out" '^FAIL status-3-without-output (guest exit code 1 without a SUMMARY line' \
	"status 3 without output is a failure"
expect_no_line "$work/out" '^PASS' "QEMU status 3 is never a pass"
expect_line "$work/out" '^SUMMARY: 0 passed, 6 failed, 0 skipped' "each counts as failed"

# ---- errata (issue 10) ----
# An entry that matches no check is reported; under -S it is a failure.
cat >"$work/errata.txt" <<'ERRATA'
# fixture
tcg | selftest | made-up-case-that-matches-nothing | none | rule | other | observed
tcg intel | selftest | a-case-the-guest-used-* | #GP(0) or ZF=0 | rule | other | observed
kvm-pvm | selftest | not-for-tcg | #UD | rule | other | observed
ERRATA
{
	fake_section errata-unused
	fake_section errata-used
} >"$work/errata.cfg"
fake_guest errata-unused 1 "PASS: something" "ERRATA: used= unused=1,2" \
	"SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
fake_guest errata-used 1 "XFAIL: a case the guest used" "ERRATA: used=2 unused=" \
	"SUMMARY: 1 tests, 0 unexpected failures, 1 expected failures, 0 skipped"
ACCEL=tcg QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/errata.cfg" -E "$work/errata.txt"
expect_line "$work/fake/errata-used.arguments" \
	' errata=made-up-case-that-matches-nothing=none,a-case-the-guest-used-\*=gp-0/zf-0+intel$' \
	"the guest gets errata=PATTERN=OUTCOMES+CONDITIONS for its accelerator, in file order"
expect_line "$work/out" "^unused erratum $work/errata.txt:2 (tcg | selftest | made-up-case-that-matches-nothing)" \
	"an erratum that matched no check is named with file:line"
expect_no_line "$work/out" "unused erratum .*:3 " "an erratum that one section used and another did not is not unused"
expect_line "$work/out" '^SUMMARY: 2 passed, 0 failed, 0 skipped' "without -S an unused erratum is not a failure"
expect_line "$work/out" '^exit status 0' "without -S the run passes"
expect_line "$root/logs/errata-unused.log" "1 $work/errata.txt:2 .* -- UNUSED" "the log says which errata went unused"
ACCEL=tcg QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/errata.cfg" -E "$work/errata.txt" -S -t
expect_line "$work/out" "^not ok 3 - errata (unused erratum $work/errata.txt:2 " "-S makes an unused erratum a failure"
expect_line "$work/out" '^1\.\.3$' "TAP's plan counts it"
expect_line "$work/out" '^# SUMMARY: 2 passed, 1 failed, 0 skipped' "-S counts it in the SUMMARY"
expect_line "$work/out" '^exit status 1' "-S fails the run"
fake_guest errata-unused 1 "PASS: something" "SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
ACCEL=tcg QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/errata.cfg" -E "$work/errata.txt" errata-unused
expect_line "$root/logs/errata-unused.log" "the guest got 2 errata but printed no ERRATA line" \
	"a guest that got errata and printed no ERRATA line is named in the log"
expect_line "$work/out" '^exit status 0' "... but that alone is no failure"

# Mistakes in the list stop the run with file:line.
bad_erratum() { # LINE MESSAGE-PATTERN WHAT
	printf '%s\n' "$1" >"$work/bad-errata.txt"
	run_runner "$work/out" -E "$work/bad-errata.txt" -l
	expect_line "$work/out" "^$work/bad-errata.txt:1: $2" "$3"
	expect_line "$work/out" '^exit status 2' "$3: exit status 2"
}
bad_erratum "tcg | smap | ~flaky-* | none | r | o | x" ".*cannot end in '\*'" "'~' with '*' is refused"
bad_erratum "tcg | smap | some-case | r | o | x" "the outcome field is missing" "a six-field line is refused"
bad_erratum "tcg | smap | some-case | #GP | r | o | x" "outcome '#GP'" "an outcome without its error code is refused"
bad_erratum "tcg | smap | some-case | crash | r | o | x" "outcome 'crash'" "an unknown outcome word is refused"
bad_erratum "tcg via | smap | some-case | none | r | o | x" "unknown condition 'via'" "an unknown condition is refused"

# ---- the cfg ----
printf '[a]\nfile = selftest.flat\nsmp = many\n' >"$work/bad.cfg"
run_runner "$work/out" -f "$work/bad.cfg"
expect_line "$work/out" "bad.cfg:3: smp must be a positive number" "a bad cfg line names file and line"
expect_line "$work/out" "exit status 2" "a bad cfg exits 2"

if command -v pgrep >/dev/null && pgrep -f -- "-name canon-runner-self-test" >/dev/null; then
	echo "FAIL: the hung QEMU is still running"
	failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "PASS: the runner names every failure"
[ "$failures" -eq 0 ]
