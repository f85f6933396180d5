# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with the other runner files
# outcome.sh: reads one boot (timeout's status, the serial output and QEMU's
# stderr) into the kvm-unit-tests status table and a reason (sourced).
#
# QEMU's status alone is easy to fool: QEMU also exits 1 when it cannot
# start, and 0 when the guest resets.  So a pass needs the exit device's
# "pass", one SUMMARY line that agrees with it, and result lines that agree
# with the SUMMARY (a guest whose counting broke must not pass).
# classify_boot sets:
#   outcome_status  0 pass, 77 skip, 124 timeout, >=128 signal, other fail
#   outcome_kind    pass | skip | guest-failure | hypervisor-failure | error
#   outcome_detail  "12 tests" for a pass, otherwise the reason

set_outcome() { # STATUS KIND DETAIL
	outcome_status=$1 outcome_kind=$2 outcome_detail=$3
}

# Reads the guest's output once, in bash (a guest prints hundreds of lines
# and a fork per question would cost more than the reading).  Sets:
#   serial_lines       the lines, without carriage returns
#   summary_lines      how many SUMMARY lines; from the last one
#                      summary_tests, summary_failures, summary_expected and
#                      summary_skipped
#   pass_lines fail_lines xfail_lines xpass_lines skip_lines
#                      how many result lines of each kind start a line
#   first_failure      the first FAIL: or XPASS: line ("FAIL: " dropped)
#   first_skip         the first SKIP: line, "SKIP: " dropped
#   errata_report_line the last ERRATA: line, errata_report_lines how many
#   last_line          the last line that is not blank
# CLEAN, when given, is a function that tidies serial_lines first (Bochs's
# GRUB leaves escape sequences before the guest's output).
scan_serial() { # SERIAL [CLEAN]
	local line pattern
	pattern='^SUMMARY: ([0-9]+) tests, ([0-9]+) unexpected failures(, ([0-9]+) expected failures)?, ([0-9]+) skipped'
	serial_lines=()
	[ -r "$1" ] && mapfile -t serial_lines <"$1"
	serial_lines=("${serial_lines[@]%$'\r'}")
	[ -n "${2:-}" ] && "$2"
	summary_lines=0 summary_tests=0 summary_failures=0 summary_expected=0 summary_skipped=0
	pass_lines=0 fail_lines=0 xfail_lines=0 xpass_lines=0 skip_lines=0
	first_failure="" first_skip="" errata_report_line="" errata_report_lines=0 last_line=""
	for line in "${serial_lines[@]}"; do
		case $line in
		PASS:*) pass_lines=$((pass_lines + 1)) ;;
		FAIL:*)
			fail_lines=$((fail_lines + 1))
			[ -n "$first_failure" ] || first_failure=${line#FAIL: } ;;
		XPASS:*)
			xpass_lines=$((xpass_lines + 1))
			[ -n "$first_failure" ] || first_failure=$line ;;
		XFAIL:*) xfail_lines=$((xfail_lines + 1)) ;;
		SKIP:*)
			skip_lines=$((skip_lines + 1))
			[ -n "$first_skip" ] || first_skip=${line#SKIP: } ;;
		ERRATA:*) errata_report_lines=$((errata_report_lines + 1)) errata_report_line=$line ;;
		SUMMARY:*)
			[[ $line =~ $pattern ]] || continue
			summary_lines=$((summary_lines + 1))
			summary_tests=${BASH_REMATCH[1]} summary_failures=${BASH_REMATCH[2]}
			summary_expected=${BASH_REMATCH[4]:-0} summary_skipped=${BASH_REMATCH[5]} ;;
		esac
		[[ $line == *[![:space:]]* ]] && last_line=$line
	done
	shorten first_failure 120
	shorten first_skip 120
	shorten last_line 100
	[ -n "$last_line" ] || last_line="no serial output"
}

# Cuts the variable named VARIABLE to LENGTH characters, "..." included.
shorten() { # VARIABLE LENGTH
	local -n shorten_target_=$1
	[ ${#shorten_target_} -gt "$2" ] && shorten_target_="${shorten_target_:0:$(($2 - 3))}..."
	return 0
}

# "12 tests, 2 expected failures, 1 skipped" from the SUMMARY numbers, in
# summary_text.
summary_counts() {
	summary_text="$summary_tests tests"
	[ "$summary_expected" -gt 0 ] && summary_text+=", $summary_expected expected failures"
	[ "$summary_skipped" -gt 0 ] && summary_text+=", $summary_skipped skipped"
	return 0
}

# Function name and offset of ADDRESS (hex) from ELF's symbols, if nm and
# the .elf are here (standalone machines may have neither).  Hex strings of
# one length compare like numbers as strings (mawk has no hex numbers);
# appending "" keeps awk from comparing all-digit ones as decimals.
symbol_for_address() { # ELF HEX-ADDRESS
	local elf=$1 address best
	[ -r "$elf" ] && command -v "${NM:-nm}" >/dev/null || return 0
	printf -v address '%016x' $((16#$2))
	best=$("${NM:-nm}" --defined-only "$elf" 2>/dev/null | awk -v target="$address" '
		$2 ~ /^[tTwW]$/ && length($1) == 16 && ($1 "") <= (target "") && ($1 "") >= (best_address "") {
			best_address = $1; best = $1 " " $3 }
		END { print best }')
	[ -n "$best" ] || return 0
	printf ' <%s+0x%x>' "${best#* }" $((16#$address - 16#${best%% *}))
}

# "hypervisor emulation failure at RIP ... <function+0x4>, code 0f 01 ca ..."
# from QEMU's report in qemu_stderr_lines: the error line, then a register
# dump with RIP= (or EIP= in 32-bit code) and Code=, where <xx> marks the
# byte at RIP.  Only on this rare path does the reading fork.
describe_hypervisor_failure() { # ELF
	local elf=$1 what rip="" code="" line
	local -a bytes
	what="hypervisor error ($hypervisor_failure)"
	[[ $hypervisor_failure == *"Suberror: 1"* ]] && what="hypervisor emulation failure"
	[[ $hypervisor_failure == *"entry failed"* ]] && what="hypervisor refused VM entry (${hypervisor_failure#*KVM: })"
	for line in "${qemu_stderr_lines[@]}"; do
		if [ -z "$rip" ] && [[ $line == [ER]IP=[0-9a-f]* ]]; then
			rip=${line#?IP=} rip=${rip%% *}
		elif [ -z "$code" ] && [[ $line == Code=*"<"[0-9a-f][0-9a-f]">"* ]]; then
			read -r -a bytes <<<"${line#*<}"
			code="${bytes[*]:0:6}" code=${code/>/}
		fi
	done
	printf '%s' "$what"
	[ -n "$rip" ] && printf ' at RIP %s%s' "$rip" "$(symbol_for_address "$elf" "$rip")"
	[ -n "$code" ] && printf ', code %s' "$code"
	return 0
}

# Do the guest's result lines add up to its SUMMARY?  Every check prints
# one PASS:, FAIL:, XFAIL:, XPASS: or SKIP: line (INFO: and ERRATA: are not
# checks), and SUMMARY counts FAIL and XPASS as unexpected failures.
# Otherwise sets summary_mismatch to the numbers, and returns 1.
summary_matches_result_lines() {
	local results=$((pass_lines + fail_lines + xfail_lines + xpass_lines + skip_lines))
	summary_mismatch=""
	[ "$results" -eq "$summary_tests" ] && [ $((fail_lines + xpass_lines)) -eq "$summary_failures" ] &&
		[ "$xfail_lines" -eq "$summary_expected" ] && [ "$skip_lines" -eq "$summary_skipped" ] && return 0
	summary_mismatch="SUMMARY has $summary_tests tests, $summary_failures unexpected failures,"
	summary_mismatch+=" $summary_expected expected failures, $summary_skipped skipped; the lines show"
	summary_mismatch+=" $results results, $((fail_lines + xpass_lines)) FAIL or XPASS, $xfail_lines XFAIL,"
	summary_mismatch+=" $skip_lines SKIP"
	return 1
}

# QEMU exited through the exit device with the guest's CODE: check it
# against the SUMMARY line, and that against the result lines.  QEMU also
# exits 1 (code 0) when it cannot start; with no output at all, not even an
# error, the binary was probably no QEMU (QEMU=/bin/false).
classify_guest_exit() { # CODE
	local code=$1
	last_meaningful_line "${qemu_stderr_lines[@]}"
	if [ "$summary_lines" -gt 1 ]; then
		set_outcome 1 error "$summary_lines SUMMARY lines: the guest ran more than once"
	elif [ "$code" -eq 0 ] && [ ${#serial_lines[@]} -eq 0 ] && [ -n "$meaningful_line" ]; then
		set_outcome 1 error "QEMU failed to start: $meaningful_line"
	elif [ "$code" -eq 0 ] && [ ${#serial_lines[@]} -eq 0 ]; then
		set_outcome 1 error "$qemu_binary exited with status 1 and printed nothing, neither guest output nor an error: is it QEMU? (set QEMU to qemu-system-x86_64)"
	elif [ "$summary_lines" -eq 0 ]; then
		set_outcome 1 error "guest exit code $code without a SUMMARY line; last line: $last_line"
	elif ! summary_matches_result_lines; then
		set_outcome 1 error "guest summary disagrees with its result lines: $summary_mismatch"
	elif [ "$code" -eq 0 ] && [ "$summary_failures" -eq 0 ] && [ "$summary_tests" -gt "$summary_skipped" ]; then
		summary_counts
		set_outcome 0 pass "$summary_text"
	elif [ "$code" -eq 77 ] && [ "$summary_failures" -eq 0 ] && [ "$summary_tests" -eq "$summary_skipped" ]; then
		set_outcome 77 skip "${first_skip:-no tests ran}"
	elif [ "$code" -eq 1 ] && [ "$summary_failures" -gt 0 ]; then
		set_outcome 1 guest-failure "$summary_failures of $summary_tests tests failed, first: ${first_failure:-?}"
	else
		set_outcome 1 error "guest exit code $code disagrees with its SUMMARY ($summary_failures unexpected failures, $summary_tests tests, $summary_skipped skipped)"
	fi
}

# QEMU exited without the exit device being written.
classify_plain_exit() {
	local line
	for line in "${qemu_stderr_lines[@]}"; do
		if [[ $line == *"terminating on signal"* ]]; then
			set_outcome 1 error "QEMU was stopped from outside: ${line#*: }"
			return
		elif [[ $line == *"Terminated via GDBstub"* ]]; then
			set_outcome 1 error "QEMU was stopped from gdb"
			return
		fi
	done
	if [ "$summary_lines" -gt 0 ]; then
		set_outcome 1 error "guest powered off after its SUMMARY without writing the exit device"
	else
		set_outcome 1 error "guest reset or triple fault: QEMU exited without the exit device; last line: $last_line"
	fi
}

# Did the finished launch (launch_qemu, launch_bochs) run out of its
# MICROSECONDS (0: none)?  timeout exits 124, or 137 when its -k had to
# send SIGKILL; a 137 before the time is a SIGKILL from elsewhere.
launch_timed_out() { # MICROSECONDS
	local elapsed=${launch_seconds/./}
	[ "$1" -gt 0 ] && { [ "$launch_status" -eq 124 ] ||
		{ [ "$launch_status" -eq 137 ] && [ $((10#$elapsed)) -ge "$1" ]; }; }
}

# Sets launch_signal to the name of the signal behind a launch_status of 128 + N.
name_launch_signal() {
	launch_signal=$(kill -l $((launch_status - 128)) 2>/dev/null || echo $((launch_status - 128)))
}

# Reads a finished launch_qemu that had a timeout of MICROSECONDS (0:
# none).  An odd status is the exit device's (code << 1) | 1; from 129 up
# it could also be a signal (timeout's 128 + N), and the guest's SUMMARY
# line tells which.
classify_boot() { # MICROSECONDS SERIAL ELF
	local microseconds=$1 serial=$2 elf=$3 status=$launch_status
	scan_serial "$serial"
	if [ -n "$hypervisor_failure" ]; then
		set_outcome 1 hypervisor-failure "$(describe_hypervisor_failure "$elf")"
	elif launch_timed_out "$microseconds"; then
		format_seconds "$microseconds"
		set_outcome 124 error "timeout after ${formatted_seconds}s, QEMU killed; last line: $last_line"
	elif [ $((status % 2)) -eq 1 ] && { [ "$status" -lt 128 ] || [ "$summary_lines" -gt 0 ]; }; then
		classify_guest_exit $((status >> 1))
	elif [ "$status" -ge 128 ]; then
		name_launch_signal
		last_meaningful_line "${qemu_stderr_lines[@]}"
		set_outcome "$status" error "QEMU killed by SIG$launch_signal: $meaningful_line"
	elif [ "$status" -eq 0 ]; then
		classify_plain_exit
	else
		last_meaningful_line "${qemu_stderr_lines[@]}"
		set_outcome "$status" error "QEMU exited with status $status: $meaningful_line"
	fi
}
