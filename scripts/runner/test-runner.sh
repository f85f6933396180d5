#!/usr/bin/env bash
# test-runner.sh: the runner names each way a test can go wrong.  Runs
# run_tests.sh on a cfg of broken sections (needs x86/selftest.flat and
# QEMU) and checks every result line and that no QEMU is left behind.
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

"$root/scripts/run_tests.sh" -f "$work/broken.cfg" >"$work/out" 2>&1
expect_line "$work/out" '^FAIL hang (timeout after 2s' "a hung guest is a timeout"
expect_line "$work/out" "^FAIL bad-option (QEMU failed to start: .*no-such-device" "QEMU's own error is shown"
expect_line "$work/out" '^FAIL no-image (.*no-such-test.flat is missing: run make first)' "a missing image says run make"
expect_line "$work/out" '^FAIL pass-expected-to-fail (expected fail, but it passed' "expect = fail needs a failure"
expect_line "$work/out" '^SUMMARY: 0 passed, 4 failed, 0 skipped' "the summary counts them"

QEMU=$work/aborting-qemu "$root/scripts/run_tests.sh" -f "$work/broken.cfg" pass-expected-to-fail >"$work/out" 2>&1
expect_line "$work/out" '^FAIL pass-expected-to-fail (expected fail, got: QEMU killed by SIGABRT: aborting-qemu: assertion failed)' "a QEMU abort shows its last stderr line"

QEMU=$work/no-qemu "$root/scripts/run_tests.sh" -f "$work/broken.cfg" hang >"$work/out" 2>&1
expect_line "$work/out" 'install the qemu-system-x86 package' "a missing QEMU names its package"

printf '[a]\nfile = selftest.flat\nsmp = many\n' >"$work/bad.cfg"
"$root/scripts/run_tests.sh" -f "$work/bad.cfg" >"$work/out" 2>&1
echo "exit status $?" >>"$work/out"
expect_line "$work/out" "bad.cfg:3: smp must be a positive number" "a bad cfg line names file and line"
expect_line "$work/out" "exit status 2" "a bad cfg exits 2"

if command -v pgrep >/dev/null && pgrep -f -- "-name canon-runner-self-test" >/dev/null; then
	echo "FAIL: the hung QEMU is still running"
	failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] && echo "PASS: the runner names every failure"
[ "$failures" -eq 0 ]
