#!/usr/bin/env bash
# test-runner.sh: the runner names each way a test can go wrong.  Runs
# run_tests.sh on cfgs of broken sections and errata lists (needs
# x86/selftest.flat and QEMU), partly through a fake QEMU that prints a
# made-up guest log, and checks every result line and exit status, and
# that no QEMU is left behind.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
failures=0
# Every QEMU these checks start has this in its command line (-name, or the
# gdb ports below), so that the checks find their own and no one else's.
self_test_name=canon-runner-self-test-$$
gdb_port=$((20000 + $$ % 10000))

# The pids of this run's QEMUs (and their timeouts) still alive.
leftover_qemus() {
	pgrep -f -- "-name $self_test_name|tcp:127.0.0.1:($gdb_port|$((gdb_port + 1)))( |$)"
}

# A check that fails may leave a QEMU behind, some without a timeout (-d):
# stop this run's own, by pid.
stop_leftover_qemus() {
	local pids
	pids=$(leftover_qemus) || return 0
	# shellcheck disable=SC2086 # a list of pids
	kill $pids 2>/dev/null
}
trap 'stop_leftover_qemus; rm -rf "$work"' EXIT

expect_no_leftover_qemus() { # WHAT-FAILS WHAT-PASSES
	if leftover_qemus >/dev/null; then
		echo "FAIL: $1"
		failures=$((failures + 1))
		stop_leftover_qemus
	else
		echo "PASS: $2"
	fi
}

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
# fake/WORD.serial, printed as the guest's output (a line "@sleep N" waits
# N seconds instead), and fake/WORD.status, its exit status (default 1, the
# exit device's "pass").  It keeps its arguments in fake/WORD.arguments.
# The runner's probes (-S) go to the real QEMU.
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
for word in "$@"; do
	[ "${previous_word:-}" = -cpu ] && [ -e "$directory/$name.$word.serial" ] && name=$name.$word
	previous_word=$word
done
while IFS= read -r line; do
	case $line in
	"@sleep "*) sleep "${line#@sleep }" ;;
	*) printf '%s\n' "$line" ;;
	esac
done <"$directory/$name.serial"
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

cat >"$work/broken.cfg" <<CFG
[hang]
file = selftest.flat
extra_params = -S -name $self_test_name
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
expect_line "$work/out-real" '^FAIL guest-fails (1 of [0-9]* tests failed, first: deliberately failing check' \
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

# ---- exit statuses (issue 14): a run that tests nothing must not pass ----
run_runner "$work/out" -f "$work/status.cfg" -g ''
expect_line "$work/out" "-g needs a group name" "-g '' is refused"
expect_line "$work/out" '^exit status 2' "-g '': exit status 2"
printf '# nothing\n' >"$work/empty.cfg"
run_runner "$work/out" -f "$work/empty.cfg"
expect_line "$work/out" "no test selected: .*empty.cfg has no sections" "an empty cfg is no test"
expect_line "$work/out" '^exit status 2' "an empty cfg: exit status 2"
printf '[a]\nfile = selftest.flat\ngroups = x\n[b]\nfile = selftest.flat\ngroups = y\n' >"$work/two.cfg"
run_runner "$work/out" -f "$work/two.cfg" -g x b
expect_line "$work/out" "no test selected: no section is both named (b) and in group x" \
	"a group and a test that do not meet select nothing"
expect_line "$work/out" '^exit status 2' "nothing selected: exit status 2"

# A QEMU whose KVM cannot create a VM: every test skips for its accelerator.
cat >"$work/no-kvm-qemu" <<'QEMU'
#!/usr/bin/env bash
for word in "$@"; do
	[ "$word" = kvm ] && { echo "Could not access KVM kernel module: No such file or directory" >&2; exit 1; }
done
exec qemu-system-x86_64 "$@"
QEMU
chmod +x "$work/no-kvm-qemu"
ACCEL=kvm QEMU=$work/no-kvm-qemu run_runner "$work/out" -f "$work/status.cfg" guest-fails
expect_line "$work/out" '^SKIP guest-fails (needs KVM: ' "ACCEL=kvm without a usable KVM skips, saying why"
expect_line "$work/out" "no test ran: every selected test was skipped before booting, 1 for the accelerator" \
	"... and says that no test ran"
expect_line "$work/out" '^exit status 2' "... and exits 2"

run_runner "$work/out" -f "$work/status.cfg" -J "$work/no-such-directory/report.xml" guest-fails
expect_line "$work/out" "cannot write the JUnit report to .*no-such-directory/report.xml; no test was run" \
	"an unwritable -J file stops the run before it starts"
expect_no_line "$work/out" "guest-fails" "... before any test"
expect_line "$work/out" '^exit status 2' "an unwritable -J file: exit status 2"
"$root/scripts/run_tests.sh" -E "$work/no-errata.txt" -f "$work/status.cfg" -t guest-fails >/dev/full 2>"$work/out"
echo "exit status $?" >>"$work/out"
expect_line "$work/out" "cannot write TAP to standard output" "-t to an unwritable output stops the run"
expect_line "$work/out" '^exit status 2' "... with exit status 2"

# logs/ that cannot be written: a tree whose logs is a file, and one whose
# log for the test is a directory.  Not chmod: CI may run as root, whom
# permissions do not stop.
for tree in "$work/tree-logs-file" "$work/tree-log-directory"; do
	mkdir -p "$tree/x86"
	ln -s "$root/scripts" "$tree/scripts"
	ln -s "$root/x86/selftest.flat" "$root/x86/selftest.pvh" "$tree/x86/"
done
: >"$work/tree-logs-file/logs"
mkdir -p "$work/tree-log-directory/logs/guest-fails.log"
for tree in "$work/tree-logs-file" "$work/tree-log-directory"; do
	ACCEL=tcg "$tree/scripts/run_tests.sh" -E "$work/no-errata.txt" -f "$work/status.cfg" guest-fails \
		>"$work/out" 2>&1
	echo "exit status $?" >>"$work/out"
	expect_line "$work/out" "run_tests.sh: .*logs.*; no test was run" "unwritable logs (${tree##*tree-}) stop the run first"
	expect_no_line "$work/out" "line [0-9]*:" "... without bash errors"
	expect_line "$work/out" '^exit status 2' "... with exit status 2"
done

# ---- interrupted runs ----
printf '[hang-a]\nfile = selftest.flat\nextra_params = -S -name %s\ntimeout = 60\n' "$self_test_name" \
	>"$work/interrupt.cfg"
printf '[hang-b]\nfile = selftest.flat\nextra_params = -S -name %s\ntimeout = 60\n' "$self_test_name" \
	>>"$work/interrupt.cfg"
printf '[quick]\nfile = selftest.flat\n' >>"$work/interrupt.cfg"
for signal in INT TERM; do
	# trap - INT: an asynchronous command would otherwise ignore SIGINT.
	(
		trap - INT
		ACCEL=tcg exec "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" -f "$work/interrupt.cfg" -j 3 \
			-J "$work/interrupted.xml" quick hang-a hang-b >"$work/out" 2>&1
	) &
	runner=$!
	for _ in $(seq 50); do
		grep -q '^PASS quick' "$work/out" && break
		sleep 0.1
	done
	sleep 0.5
	kill -"$signal" "$runner"
	wait "$runner"
	echo "exit status $?" >>"$work/out"
	expect_line "$work/out" "^interrupted by SIG$signal; stopped: .*hang-a" "SIG$signal names the tests it stopped"
	expect_line "$work/out" "^interrupted by SIG$signal; stopped: .*hang-b" "... all of them"
	expect_line "$work/out" "^SUMMARY: 1 passed, 0 failed, 0 skipped, 2 not run$" "SIG$signal: SUMMARY counts what did not finish"
	expect_line "$work/out" "^exit status $([ "$signal" = INT ] && echo 130 || echo 143)$" "SIG$signal: its exit status"
	expect_line "$work/interrupted.xml" "name=\"quick\"" "SIG$signal: JUnit holds what finished"
	expect_line "$work/interrupted.xml" "name=\"interrupted\" value=\"interrupted by SIG$signal" "SIG$signal: JUnit says so"
	expect_no_leftover_qemus "SIG$signal leaves QEMUs running" "SIG$signal stops every QEMU"
done

# ---- values checked where they are read ----
TIMEOUT=0 run_runner "$work/out" -f "$work/status.cfg" guest-fails
expect_line "$work/out" "TIMEOUT must be seconds .*more than 0, not '0'" "TIMEOUT=0 is refused, not 'never'"
expect_line "$work/out" '^exit status 2' "TIMEOUT=0: exit status 2"
printf '[a]\nfile = selftest.flat\ntimeout = 0\n' >"$work/bad.cfg"
run_runner "$work/out" -f "$work/bad.cfg"
expect_line "$work/out" "bad.cfg:3: timeout must be more than 0" "timeout = 0 is refused with file:line"
ACCEL=xen run_runner "$work/out" -f "$work/status.cfg" guest-fails
expect_line "$work/out" "ACCEL must be kvm, tcg or bochs, not 'xen'" "a bad ACCEL is refused"
for variable in TIMEOUT=abc MACHINE=bogus ACCEL=xen; do
	env "$variable" "$root/x86/run" -E "$work/no-errata.txt" "$root/x86/selftest.flat" >"$work/out" 2>&1
	echo "exit status $?" >>"$work/out"
	expect_line "$work/out" "^x86/run: ${variable%%=*} must be" "x86/run refuses $variable"
	expect_line "$work/out" '^exit status 2' "x86/run $variable: exit status 2, nothing booted"
done
run_runner "$work/out" -f "$work/status.cfg" guest-fails -j
expect_line "$work/out" "-j needs a number, like -j 4" "-j without a number is named"
run_runner "$work/out" -f "$work/status.cfg" -j guest-fails
expect_line "$work/out" "-j wants a positive number, not 'guest-fails'" "-j before a name says what it got"
run_runner "$work/out" -f "$work/status.cfg" guest-fails -l
expect_line "$work/out" '^guest-fails$' "an option after a test name works"
run_runner "$work/out" -f "$work/status.cfg" guest-fails -x
expect_line "$work/out" "unknown option -x" "an unknown option after a test name is refused"
QEMU=/bin/false ACCEL=tcg run_runner "$work/out" -f "$work/status.cfg" guest-fails
expect_line "$work/out" "^FAIL guest-fails (/bin/false exited with status 1 and printed nothing, .*is it QEMU?" \
	"QEMU=/bin/false is named as no QEMU"

# ---- x86/run boots exactly the file it is given ----
cp "$root/x86/selftest.flat" "$work/kernel.bin"
ACCEL=tcg "$root/x86/run" -E "$work/no-errata.txt" "$work/kernel.bin" >"$work/out" 2>&1
expect_line "$work/out" "-kernel $work/kernel.bin" "x86/run boots the file given"
expect_line "$work/out" '^PASS kernel ' "... and it passes"
cp "$root/x86/selftest.flat" "$work/twin.flat"
cp "$root/x86/selftest.pvh" "$work/twin.pvh"
touch -d '1 hour ago' "$work/twin.pvh"
ACCEL=tcg MACHINE=microvm "$root/x86/run" -E "$work/no-errata.txt" "$work/twin.flat" >"$work/out" 2>&1
expect_line "$work/out" "-kernel $work/twin.flat" "an older PVH twin is not booted"
touch "$work/twin.pvh"
ACCEL=tcg MACHINE=microvm "$root/x86/run" -E "$work/no-errata.txt" "$work/twin.flat" >"$work/out" 2>&1
expect_line "$work/out" "-kernel $work/twin.pvh" "a newer PVH twin is booted on microvm"
ACCEL=tcg MACHINE=q35 "$root/x86/run" -E "$work/no-errata.txt" "$work/twin.flat" >"$work/out" 2>&1
expect_line "$work/out" "-kernel $work/twin.flat" "... and not on q35"
"$root/x86/run" -E "$work/no-errata.txt" "$work/no-such-image.flat" >"$work/out" 2>&1
expect_line "$work/out" "x86/run: $work/no-such-image.flat: no such file" "x86/run names a missing file"

# ---- -v shows the guest's output as it runs ----
{
	fake_section slow-guest
	fake_section quick-guest
} >"$work/live.cfg"
fake_guest slow-guest 1 "PASS: before the pause" "@sleep 3" "SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
fake_guest quick-guest 1 "PASS: one" "SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
ACCEL=tcg QEMU=$work/fake-qemu "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" -f "$work/live.cfg" -v -j 1 \
	slow-guest >"$work/out" 2>&1 &
runner=$!
sleep 1.5
cp "$work/out" "$work/out-early"
wait "$runner"
expect_line "$work/out-early" '^PASS: before the pause' "-v -j 1 shows the guest's output while it runs"
expect_no_line "$work/out-early" '^SUMMARY' "... before the test ends"

# ---- progress on a terminal ----
if command -v script >/dev/null; then
	ACCEL=tcg QEMU=$work/fake-qemu script -qec "$root/scripts/run_tests.sh -E $work/no-errata.txt -f $work/live.cfg quick-guest -j 1" \
		/dev/null >"$work/out" 2>&1
	QEMU=$work/fake-qemu ACCEL=tcg script -qec "$root/scripts/run_tests.sh -E $work/no-errata.txt -f $work/status.cfg -j 2 summary-hides-a-failure status-3-without-output" \
		/dev/null >"$work/out" 2>&1
	expect_line "$work/out" '\[2/2\] .*FAIL' "a terminal gets [N/TOTAL] progress"
	ACCEL=tcg QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/live.cfg" quick-guest
	expect_no_line "$work/out" '\[1/1\]' "... and a pipe does not"
else
	echo "SKIP: no script(1) to give the runner a terminal"
fi

# ---- -d: QEMU waits for gdb, without a timeout ----
# The outer timeout stops the runner (and so its QEMU) if this script dies.
GDB_PORT=$gdb_port timeout 120 "$root/x86/run" -E "$work/no-errata.txt" -d "$root/x86/selftest.flat" >"$work/out" 2>&1 &
runner=$!
sleep 1.5
expect_line "$work/out" " -S -gdb tcp:127.0.0.1:$gdb_port" "x86/run -d starts QEMU stopped with a gdb stub"
expect_line "$work/out" "^# accelerator: .*; timeout: none$" "... without a timeout"
expect_line "$work/out" "^#   gdb -q $root/x86/selftest.elf -ex 'target remote 127.0.0.1:[0-9]*' -ex 'hbreak main' -ex continue" \
	"x86/run -d prints the gdb command: the ELF, the stub, hbreak main"
if command -v gdb >/dev/null; then
	command=$(sed -n 's/^#   gdb -q/gdb -q -batch/p' "$work/out")
	eval "timeout 60 $command -ex 'info symbol \$pc' -ex kill" >"$work/gdb" 2>&1
	expect_line "$work/gdb" "^main in section .text" "the printed gdb command stops at main (default accelerator)"
else
	echo "SKIP: no gdb to follow the printed command"
fi
kill "$runner" 2>/dev/null
wait "$runner"
run_runner "$work/out" -f "$work/status.cfg" -d summary-hides-a-failure guest-fails
expect_line "$work/out" "-d debugs one test: name exactly one (2 are selected)" "run_tests.sh -d wants one test"
GDB_PORT=$((gdb_port + 1)) timeout 120 "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" \
	-f "$work/status.cfg" -d guest-fails >"$work/out" 2>&1 &
runner=$!
sleep 1.5
kill -TERM "$runner"
wait "$runner"
expect_line "$work/out" "^QEMU waits for gdb on port" "run_tests.sh -d waits for gdb"
expect_line "$work/out" "^  gdb -q .*hbreak main" "run_tests.sh -d prints the gdb command"
expect_line "$root/logs/guest-fails.log" "timeout: none" "... with no timeout"
expect_no_leftover_qemus "a QEMU waiting for gdb outlives its runner" \
	"no QEMU waiting for gdb outlives its runner"

# ---- the runner forks nothing per section ----
# Counted with strace, not timed: the count does not depend on the load.
# Sections that skip before booting cost no process at all, so 30 of them
# cost what 1 does; -l costs one awk whatever the cfg; a boot costs the
# awk, the scratch directory (mktemp, rm), the worker, the process
# substitution that becomes timeout, and QEMU.
count_forks() { # OUTPUT COMMAND...: how many processes (not threads) COMMAND starts
	local output=$1
	shift
	strace -f -qq -e trace=clone,clone3,fork,vfork -o "$work/strace" "$@" >/dev/null 2>&1
	grep -E '(clone3?|v?fork)\(.*= [0-9]+$' "$work/strace" | grep -c -v CLONE_THREAD >"$output"
}
if command -v strace >/dev/null; then
	: >"$work/many.cfg"
	for index in $(seq 30); do
		printf '[skip-%d]\nfile = selftest.flat\naccel = kvm\n' "$index" >>"$work/many.cfg"
	done
	ACCEL=tcg count_forks "$work/forks-1" "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" \
		-f "$work/many.cfg" skip-1
	ACCEL=tcg count_forks "$work/forks-30" "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" \
		-f "$work/many.cfg"
	count_forks "$work/forks-list" "$root/scripts/run_tests.sh" -l
	if [ "$(cat "$work/forks-1")" -eq "$(cat "$work/forks-30")" ]; then
		echo "PASS: 30 sections cost the processes 1 costs ($(cat "$work/forks-1"))"
	else
		echo "FAIL: 1 section costs $(cat "$work/forks-1") processes, 30 cost $(cat "$work/forks-30")"
		failures=$((failures + 1))
	fi
	ACCEL=tcg count_forks "$work/forks-boot" "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" \
		-f "$work/status.cfg" guest-fails
	if [ "$(cat "$work/forks-boot")" -le 6 ]; then
		echo "PASS: one TCG boot starts $(cat "$work/forks-boot") processes"
	else
		echo "FAIL: one TCG boot starts $(cat "$work/forks-boot") processes (at most 6)"
		failures=$((failures + 1))
	fi
	if [ "$(cat "$work/forks-list")" -le 2 ]; then
		echo "PASS: -l on x86/unittests.cfg starts $(cat "$work/forks-list") processes"
	else
		echo "FAIL: -l on x86/unittests.cfg starts $(cat "$work/forks-list") processes (at most 2: the awk and its subshell)"
		failures=$((failures + 1))
	fi
else
	echo "SKIP: no strace to count the runner's processes"
fi

# ---- make run and make check install what is missing ----
for goal in run check; do
	make -C "$root" -n "$goal" >"$work/out" 2>&1
	expect_line "$work/out" "scripts/install-dependencies.sh" "make $goal runs scripts/install-dependencies.sh"
done
mkdir "$work/bin"
for tool in bash env id gcc make ld; do
	ln -s "$(command -v "$tool")" "$work/bin/$tool"
done
PATH=$work/bin "$root/scripts/install-dependencies.sh" --dry-run >"$work/out" 2>&1
expect_line "$work/out" "would install qemu-system-x86 with: .*apt-get install -y qemu-system-x86" \
	"without QEMU, install-dependencies.sh installs qemu-system-x86"

# ---- the cpu key (issue 13) ----
printf '[a]\nfile = selftest.flat\ncpu = max\nextra_params = -cpu qemu64\n' >"$work/bad.cfg"
run_runner "$work/out" -f "$work/bad.cfg" -l
expect_line "$work/out" "bad.cfg:1: section \[a\] names its CPU twice" "cpu and -cpu in extra_params are refused"
printf '[a]\nfile = selftest.flat\ncpu = two words\n' >"$work/bad.cfg"
run_runner "$work/out" -f "$work/bad.cfg" -l
expect_line "$work/out" "bad.cfg:3: cpu must be one model" "a cpu of two words is refused"
printf '[cpu-key]\nfile = selftest.flat\ntest_args = cpu-key\ncpu = qemu64\n' >"$work/cpu.cfg"
fake_guest cpu-key 1 "PASS: one" "SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
ACCEL=tcg QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/cpu.cfg"
expect_line "$work/fake/cpu-key.arguments" '^qemu64$' "cpu = qemu64 is QEMU's -cpu qemu64"

# ---- Bochs (issue 13) ----
# A fake Bochs beside fake BIOS files: its CPU model (the section's cpu)
# names the guest it plays, fake/MODEL.serial, written where the bochsrc's
# COM1 points; "@sleep N" waits, "@log TEXT" goes to its log (stderr),
# "@exit TEXT" is its exit message, "@iso" copies the ISO's grub.cfg to
# fake/MODEL.grub.cfg.  Without an "@exit" it ends as after the guest's
# ACPI power-off.  It answers --help with a version, fake/version if there.
mkdir "$work/bochs"
: >"$work/bochs/BIOS-bochs-latest"
: >"$work/bochs/VGABIOS-lgpl-latest.bin"
cat >"$work/bochs/bochs" <<'BOCHS'
#!/usr/bin/env bash
directory=$(dirname "$0")/../fake
if [ "$1" = --help ]; then
	echo "Bochs x86 Emulator $(cat "$directory/version" 2>/dev/null || echo 3.0.devel)"
	exit 0
fi
config=$3
model=$(sed -n 's/^cpu: model=\([^,]*\),.*/\1/p' "$config")
serial=$(sed -n 's/^com1: .*dev="\(.*\)"$/\1/p' "$config")
iso=$(sed -n 's/^ata0-master: .*path="\([^"]*\)".*/\1/p' "$config")
cp "$config" "$directory/$model.bochsrc"
message="[ACPI  ] ACPI control: soft power off"
while IFS= read -r line; do
	case $line in
	"@sleep "*) sleep "${line#@sleep }" ;;
	"@log "*) echo "${line#@log }" >&2 ;;
	"@exit "*) message=${line#@exit } ;;
	"@exit") message="" ;;
	"@iso") xorriso -osirrox on -indev "$iso" -extract /boot/grub/grub.cfg "$directory/$model.grub.cfg" >/dev/null 2>&1 ;;
	*) printf '%s\r\n' "$line" >>"$serial" ;;
	esac
done <"$directory/$model.serial"
if [ -n "$message" ]; then
	echo "========================================================================"
	echo "Bochs is exiting with the following message:"
	echo "$message"
	echo "========================================================================"
fi
exit 1
BOCHS
chmod +x "$work/bochs/bochs"
fake_bochs_section() { # NAME [KEY=VALUE...]
	local name=$1
	shift
	printf '[%s]\nfile = selftest.flat\naccel = bochs\ncpu = %s\n' "$name" "$name"
	[ $# -eq 0 ] || printf '%s\n' "$@"
	echo
}
{
	fake_bochs_section bochs-pass
	fake_bochs_section bochs-guest-fails
	fake_bochs_section bochs-no-summary
	fake_bochs_section bochs-summary-disagrees
	fake_bochs_section bochs-triple-fault "timeout = 20"
	fake_bochs_section bochs-hang "timeout = 2"
	fake_bochs_section bochs-panic
	fake_bochs_section bochs-silent
	fake_bochs_section bochs-errata "test_args = alpha \"beta gamma\""
	fake_bochs_section bochs-extra-params "extra_params = -m 1G"
	printf '[qemu-only]\nfile = selftest.flat\naccel = tcg\n\n'
} >"$work/bochs.cfg"
fake_guest bochs-pass 1 $'\e[H\e[J\e[1;1H  Booting `canon\'' "" "PASS: one" "SKIP: two" \
	"SUMMARY: 2 tests, 0 unexpected failures, 1 skipped"
fake_guest bochs-guest-fails 1 "PASS: one" "INFO: two: expected #GP(0); got none" "FAIL: two" \
	"SUMMARY: 2 tests, 1 unexpected failures, 0 skipped"
fake_guest bochs-no-summary 1 "PASS: one"
fake_guest bochs-summary-disagrees 1 "PASS: one" "FAIL: two" "SUMMARY: 2 tests, 0 unexpected failures, 0 skipped"
fake_guest bochs-triple-fault 1 "PASS: one" \
	"@log 00241679675i[CPU0  ] exception(): 3rd (13) exception with no resolution" "@sleep 30"
fake_guest bochs-hang 1 "PASS: one" "@sleep 30"
fake_guest bochs-panic 1 "@log 00000000000p[MEM0  ] >>PANIC<< ROM: couldn't open ROM image file" \
	"@exit [MEM0  ] ROM: couldn't open ROM image file"
fake_guest bochs-silent 1 "@exit"
fake_guest bochs-errata 1 "@iso" "PASS: one" "ERRATA: used= unused=1" "SUMMARY: 1 tests, 0 unexpected failures, 0 skipped"
printf 'bochs | selftest | some-case-* | none | rule | other | observed\n' >"$work/bochs-errata.txt"
if command -v grub-mkrescue >/dev/null && command -v xorriso >/dev/null; then
	BOCHS=$work/bochs/bochs run_runner "$work/out" -f "$work/bochs.cfg" -E "$work/bochs-errata.txt" -j 4
	expect_line "$work/out" '^PASS bochs-pass (2 tests, 1 skipped)$' "Bochs: the guest's SUMMARY after the ACPI power-off is a PASS"
	expect_line "$root/logs/bochs-pass.log" '^  Booting `canon.$' "Bochs: GRUB's escape sequences are gone from the log"
	expect_line "$work/fake/bochs-pass.bochsrc" '^cpu: model=bochs-pass, reset_on_triple_fault=0$' \
		"Bochs: the bochsrc has the section's cpu and reset_on_triple_fault=0"
	expect_line "$work/fake/bochs-pass.bochsrc" '^display_library: nogui$' "Bochs: ... no display"
	expect_line "$work/fake/bochs-pass.bochsrc" '^boot: cdrom$' "Bochs: ... boots its CD-ROM"
	expect_line "$work/out" '^FAIL bochs-guest-fails (1 of 2 tests failed, first: two)$' "Bochs: a guest failure names the first failing check"
	expect_line "$work/out" '^FAIL bochs-no-summary (guest powered off without a SUMMARY line; last line: PASS: one)$' \
		"Bochs: a power-off without a SUMMARY is a failure"
	expect_line "$work/out" '^FAIL bochs-summary-disagrees (guest summary disagrees with its result lines' \
		"Bochs: a SUMMARY that disagrees with the result lines is a failure"
	expect_line "$work/out" '^FAIL bochs-triple-fault (guest triple fault: Bochs stopped it (exception(): 3rd (13) exception with no resolution)' \
		"Bochs: a triple fault is named"
	expect_line "$root/logs/bochs-triple-fault.log" '^---- Bochs status [0-9]* after [0-4]\.' "... and Bochs is stopped at once, not at the timeout"
	expect_line "$work/out" '^FAIL bochs-hang (timeout after 2s, Bochs killed; last line: PASS: one)$' "Bochs: a hung guest is a timeout"
	expect_line "$work/out" "^FAIL bochs-panic (Bochs stopped: \[MEM0  \] ROM: couldn't open ROM image file" "Bochs: its exit message is shown"
	expect_line "$work/out" '^FAIL bochs-silent (.*bochs exited with status 1 and printed nothing: is it Bochs?' "Bochs: a binary that prints nothing is named"
	expect_line "$work/fake/bochs-errata.grub.cfg" $'multiboot /boot/selftest.flat \'alpha\' \'beta gamma\' \'errata=some-case-\\*=none\'' \
		"Bochs: GRUB gets the guest's words and its bochs errata, quoted for GRUB"
	expect_line "$work/out" "unused erratum $work/bochs-errata.txt:1 (bochs | selftest | some-case-\*)" "Bochs: the guest's ERRATA line is read"
	expect_line "$work/out" '^SKIP bochs-extra-params (extra_params are QEMU words (-m 1G), which Bochs cannot take)$' \
		"Bochs: a section with QEMU words skips, saying so"
	if leftover_bochs=$(pgrep -f -- "$work/bochs/bochs"); then
		echo "FAIL: a fake Bochs outlives its run: $leftover_bochs"
		failures=$((failures + 1))
	else
		echo "PASS: no Bochs outlives its run"
	fi
	ACCEL=bochs BOCHS=$work/bochs/bochs run_runner "$work/out" -f "$work/bochs.cfg" bochs-pass qemu-only
	expect_line "$work/out" '^SKIP qemu-only (needs accel = tcg, ACCEL=bochs)$' "ACCEL=bochs skips a TCG section"
	expect_line "$work/out" '^PASS bochs-pass ' "... and runs a Bochs one"
else
	echo "SKIP: no grub-mkrescue and xorriso to boot the fake Bochs through GRUB (install grub-pc-bin grub-common xorriso mtools)"
fi
BOCHS=/nonexistent run_runner "$work/out" -f "$work/bochs.cfg" bochs-pass
expect_line "$work/out" '^SKIP bochs-pass (needs Bochs: BOCHS=/nonexistent is no executable file)$' "BOCHS=/nonexistent: the Bochs sections skip, saying why"
expect_line "$work/out" '^exit status 2' "... and a run of only those exits 2"
echo 2.7 >"$work/fake/version"
mkdir "$work/old-bochs"
ln -s "$work/bochs/bochs" "$work/old-bochs/bochs"
env -u BOCHS PATH="$work/old-bochs:$PATH" "$root/scripts/run_tests.sh" -E "$work/no-errata.txt" -f "$work/bochs.cfg" \
	bochs-pass >"$work/out" 2>&1
expect_line "$work/out" "^SKIP bochs-pass (needs Bochs: .*bochs is Bochs 2.7; canon needs 2.8 or newer" \
	"a bochs on PATH older than 2.8 is not used, and the skip says so"
rm "$work/fake/version"
# GRUB missing: a PATH of everything but grub-mkrescue.
mkdir "$work/no-grub"
for tool in /usr/local/bin/* /usr/bin/* /bin/*; do
	[ "${tool##*/}" = grub-mkrescue ] || ln -sf "$tool" "$work/no-grub/${tool##*/}" 2>/dev/null
done
BOCHS=$work/bochs/bochs PATH=$work/no-grub run_runner "$work/out" -f "$work/bochs.cfg" bochs-pass
expect_line "$work/out" '^SKIP bochs-pass (needs Bochs: no GRUB .*install grub-pc-bin grub-common xorriso mtools' \
	"without grub-mkrescue the Bochs sections skip, naming the packages"

# ---- a real Bochs: a triple fault, stopped at once (with ../shared/bochs or BOCHS) ----
real_bochs=${BOCHS:-}
[ -z "$real_bochs" ] && [ -x "$root/../shared/bochs/bochs" ] && real_bochs=$root/../shared/bochs/bochs
if [ -n "$real_bochs" ] && command -v grub-mkrescue >/dev/null; then
	# A multiboot image (flags bit 16: load address fields) that loads an
	# empty IDT and executes INT3: #GP, #DF, then a triple fault.
	{
		printf '\x02\xb0\xad\x1b\x00\x00\x01\x00\xfe\x4f\x51\xe4' # magic, flags, checksum
		printf '\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x10\x00'
		printf '\xfa\x0f\x01\x1d\x30\x00\x10\x00\xcc\xf4\xeb\xfe\x00\x00\x00\x00' # cli; lidt [0x100030]; int3
		printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' # the IDTR: limit 0, base 0
	} >"$work/triple-fault.flat"
	ACCEL=bochs BOCHS=$real_bochs TIMEOUT=60 timeout 120 "$root/x86/run" -E "$work/no-errata.txt" \
		"$work/triple-fault.flat" >"$work/out" 2>&1
	expect_line "$work/out" '^FAIL triple-fault (guest triple fault: Bochs stopped it (exception(): 3rd (13) exception with no resolution)' \
		"a real Bochs: a triple fault is named, and stopped before the timeout"
	ACCEL=bochs BOCHS=$real_bochs timeout 120 "$root/x86/run" -E "$work/no-errata.txt" "$root/x86/selftest.flat" \
		-cpu ryzen -append "one two" >"$work/out" 2>&1
	expect_line "$work/out" "^PASS: argv holds the command line's 2 words" "a real Bochs: x86/run shows the guest's output live"
	expect_line "$work/out" '^# accelerator: bochs, model ryzen ' "... on the model -cpu names"
	expect_line "$work/out" '^PASS selftest ' "... and it passes"
else
	echo "SKIP: no real Bochs (BOCHS, or ../shared/bochs/bochs) and GRUB for the triple-fault check"
fi

# ---- --compare (issue 13) ----
# The fake QEMU plays fake/NAME.CPU.serial when there is one: two TCG CPU
# models are two implementations that differ.
{
	fake_section compare-a
	fake_section compare-b
} >"$work/compare.cfg"
fake_guest compare-a.max 3 "PASS: same everywhere" "PASS: first passes" "INFO: second: expected #GP(0); got none" \
	"FAIL: second" "SUMMARY: 3 tests, 1 unexpected failures, 0 skipped"
fake_guest compare-a.qemu64 3 "PASS: same everywhere" "INFO: first passes: expected #PF(0x1: present read supervisor), RIP 0x1; got #UD, RIP 0x1" \
	"FAIL: first passes" "PASS: second" "SUMMARY: 3 tests, 1 unexpected failures, 0 skipped"
fake_guest compare-b.max 3 "INFO: alike: expected #GP(0), RIP 0x1, CPL 0; got #GP(0), RIP 0x2, CPL 3" "FAIL: alike" \
	"SUMMARY: 1 tests, 1 unexpected failures, 0 skipped"
fake_guest compare-b.qemu64 3 "INFO: alike: expected #GP(0), RIP 0x1, CPL 0; got #GP(0), RIP 0x2, CPL 3" "FAIL: alike" \
	"SUMMARY: 1 tests, 1 unexpected failures, 0 skipped"
printf 'tcg | selftest | second | none | rule | other | observed\n' >"$work/compare-errata.txt"
QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/compare.cfg" -E "$work/compare-errata.txt" \
	--compare tcg,tcg:qemu64 --compare-out "$work/compare.tsv"
expect_line "$work/out" '^compare-a | first passes$' "--compare prints a check whose results differ"
expect_line "$work/out" '^    expected    #PF(0x1)$' "... its expected outcome, from the guest's INFO line"
expect_line "$work/out" '^    tcg         pass     #PF(0x1)$' "... one implementation's pass"
expect_line "$work/out" '^    tcg:qemu64  FAIL     #UD$' "... the other's outcome"
expect_line "$work/out" '^    tcg         FAIL     none$' "... none for no exception"
expect_no_line "$work/out" '^compare-a | same everywhere' "--compare leaves out a check that agrees"
expect_no_line "$work/out" '^compare-b | alike' "... and one that fails alike"
expect_line "$work/out" '^COMPARED: 4 checks on tcg tcg:qemu64: 2 agree everywhere (1 of them fail alike), 2 differ$' \
	"--compare counts the checks"
expect_line "$work/out" '^exit status 1$' "--compare exits 1 when checks differ"
expect_no_line "$work/fake/compare-a.arguments" 'errata=' "--compare switches the errata off"
if awk -F '\t' 'NF != 7 { bad = 1 } END { exit bad || NR != 3 }' "$work/compare.tsv"; then
	echo "PASS: --compare-out writes a header and one row per differing check, 7 fields each"
else
	echo "FAIL: --compare-out's TSV:"
	sed 's/^/    /' "$work/compare.tsv"
	failures=$((failures + 1))
fi
expect_line "$work/compare.tsv" $'^compare-a\tsecond\t#GP(0)\tFAIL\tnone\tpass\t#GP(0)$' "... with the same cells"
expect_line "$root/logs/compare-a.tcg-qemu64.log" '^PASS: second' "each run of --compare has its own log"
fake_guest compare-b.max 3 "INFO: alike: expected #GP(0), RIP 0x1, CPL 0; got #GP(0), RIP 0x3, CPL 3" "FAIL: alike" \
	"SUMMARY: 1 tests, 1 unexpected failures, 0 skipped"
QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/compare.cfg" --compare tcg,tcg:qemu64 compare-b
expect_line "$work/out" '^    tcg         FAIL     #GP(0), RIP 0x3, CPL 3$' "--compare shows RIP and CPL when only they differ"
fake_guest compare-b.max 3 "INFO: alike: expected #GP(0), RIP 0x1, CPL 0; got #GP(0), RIP 0x2, CPL 3" "FAIL: alike" \
	"SUMMARY: 1 tests, 1 unexpected failures, 0 skipped"
QEMU=$work/fake-qemu run_runner "$work/out" -f "$work/compare.cfg" --compare tcg,tcg:qemu64 compare-b
expect_line "$work/out" '^exit status 0$' "--compare exits 0 when every check agrees"
QEMU=$work/fake-qemu BOCHS=/nonexistent run_runner "$work/out" -f "$work/compare.cfg" --compare tcg,bochs compare-b
expect_line "$work/out" '^bochs printed no result; compare-b: SKIP: needs Bochs: BOCHS=/nonexistent' \
	"--compare names an implementation that ran nothing"
expect_line "$work/out" '^exit status 2$' "... and exits 2: nothing was compared"
run_runner "$work/out" -f "$work/compare.cfg" --compare tcg compare-b
expect_line "$work/out" "--compare needs two implementations or more" "--compare with one implementation is refused"
run_runner "$work/out" -f "$work/compare.cfg" --compare tcg,xen compare-b
expect_line "$work/out" "--compare: 'xen' is not kvm, tcg or bochs" "--compare refuses an unknown implementation"
ACCEL=tcg run_runner "$work/out" -f "$work/compare.cfg" --compare tcg,bochs compare-b
expect_line "$work/out" "--compare names the accelerators itself: unset ACCEL" "--compare refuses ACCEL"
run_runner "$work/out" -f "$work/compare.cfg" --compare-out "$work/x.tsv" compare-b
expect_line "$work/out" "--compare-out needs --compare" "--compare-out alone is refused"
expect_line "$work/out" '^exit status 2$' "... with exit status 2"

# ---- make iso: GRUB's menu boots under qemu -cdrom and exits by itself ----
make -C "$root" -n -B iso >"$work/out" 2>&1 # -B: even when x86/canon.iso is up to date
expect_line "$work/out" "scripts/make-iso.sh --menu x86/canon.iso" "make iso writes the menu ISO"
if command -v grub-mkrescue >/dev/null && command -v xorriso >/dev/null; then
	"$root/scripts/make-iso.sh" --menu "$work/menu.iso" "$root/x86/selftest.flat" >"$work/out" 2>&1
	timeout 60 qemu-system-x86_64 -name "$self_test_name" -accel tcg -cpu max -m 256 -display none -serial stdio \
		-cdrom "$work/menu.iso" </dev/null >"$work/out" 2>&1
	echo "exit status $?" >>"$work/out"
	expect_line "$work/out" '^SUMMARY: ' "the menu ISO boots its first image under qemu -cdrom"
	expect_line "$work/out" '^exit status 0$' "... which powers off by itself"
else
	echo "SKIP: no grub-mkrescue and xorriso for make iso"
fi
PATH=$work/bin "$root/scripts/install-dependencies.sh" --dry-run iso >"$work/out" 2>&1
expect_line "$work/out" "would install .*grub-common.*xorriso mtools" "install-dependencies.sh iso installs GRUB's tools"

if leftover_qemus >/dev/null; then
	echo "FAIL: a QEMU of these checks is still running"
	failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "PASS: the runner names every failure"
[ "$failures" -eq 0 ]
