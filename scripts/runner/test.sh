# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with the other runner files
# test.sh: runs one cfg section and decides its result line (sourced).
#
# The caller has parsed the section into section_field (config.sh) or, in a
# standalone script, embedded it.  run_test NAME LOG sets:
#   result_word     PASS, FAIL or SKIP
#   result_detail   what goes in the brackets of the result line
#   result_status   the kvm-unit-tests status: 0, 77, 124, >=128, or 1
#   result_seconds  how long QEMU ran
# It needs image_directory (where NAME.flat is) and qemu_binary or
# qemu_missing_reason (find_qemu).

# "90s", "2m" or "1.5" as seconds, for messages and comparisons.
timeout_seconds() { # VALUE
	awk -v value="$1" 'BEGIN {
		unit = substr(value, length(value)); number = value + 0
		if (unit == "m") number *= 60; else if (unit == "h") number *= 3600
		print number }'
}

field() { # NAME KEY [DEFAULT]
	printf '%s' "${section_field[$1/$2]:-${3:-}}"
}

set_result() { # WORD STATUS DETAIL
	result_word=$1 result_status=$2 result_detail=$3
}

# Reasons to skip before QEMU starts: another architecture, a failed
# "check" condition, or an accelerator this run cannot give.  Sets
# test_accelerator (kvm or tcg) or result_detail, and returns 1 to skip.
choose_accelerator_or_skip() { # NAME
	local name=$1 wanted condition path value architecture
	architecture=$(field "$name" arch)
	if [ -n "$architecture" ] && [ "$architecture" != "${ARCH:-x86_64}" ]; then
		result_detail="arch = $architecture, this build is ${ARCH:-x86_64}"
		return 1
	fi
	for condition in $(field "$name" check); do
		path=${condition%%=*} value=${condition#*=}
		if [ "$(cat "$path" 2>/dev/null)" != "$value" ]; then
			result_detail="check $condition is not true here"
			return 1
		fi
	done
	wanted=$(field "$name" accel)
	if [ -n "${ACCEL:-}" ] && [ -n "$wanted" ] && [ "$ACCEL" != "$wanted" ]; then
		result_detail="needs accel = $wanted, ACCEL=$ACCEL"
		return 1
	fi
	wanted=${ACCEL:-$wanted}
	[ "$wanted" = tcg ] || probe_kvm
	if [ "$wanted" = kvm ] && [ "$kvm_available" != yes ]; then
		result_detail="needs KVM: $kvm_reason"
		return 1
	fi
	test_accelerator=${wanted:-$([ "$kvm_available" = yes ] && echo kvm || echo tcg)}
}

# The guest's command line: the section's words, then errata=... for the
# cases this accelerator is known to get wrong.  Sets test_append,
# test_errata_word and test_errata_indices; returns 1 when the line would
# overflow the guest's 4096-byte buffer.  QEMU's multiboot loader puts the
# kernel's path and a blank in front of the words.
guest_command_line() { # NAME ACCELERATOR KERNEL
	local name=$1 accelerator=$2 kernel=$3
	select_errata "$accelerator" "$(section_image "$name")"
	test_append=$(field "$name" test_args)
	[ -n "$test_errata_word" ] && test_append+="${test_append:+ }$test_errata_word"
	[ $((${#kernel} + 1 + ${#test_append})) -le 4095 ]
}

# Everything up to the QEMU command: sets test_* and qemu_command, or a
# result (SKIP or FAIL) and returns 1.  EXTRA are QEMU words from x86/run.
prepare_test() { # NAME [EXTRA...]
	local name=$1 image smp identity cpu
	local -a extra_words
	shift
	if [ -n "${qemu_missing_reason:-}" ]; then
		set_result FAIL 1 "$qemu_missing_reason"
		return 1
	fi
	if ! choose_accelerator_or_skip "$name"; then
		set_result SKIP 77 "$result_detail"
		return 1
	fi
	test_machine=${MACHINE:-$(field "$name" machine microvm)}
	image=$(section_image "$name")
	test_kernel=$(image_for_machine "$image_directory" "$image" "$test_machine")
	if [ ! -r "$test_kernel" ]; then
		set_result FAIL 1 "$test_kernel is missing: run make first"
		return 1
	fi
	identity=$test_accelerator
	[ "$identity" = kvm ] && identity=$kvm_identity
	if ! guest_command_line "$name" "$identity" "$test_kernel"; then
		set_result FAIL 1 "guest command line (image path, blank, test_args and errata) is over the guest's 4095 bytes: shorten the errata or test_args"
		return 1
	fi
	read -ra extra_words <<<"$(field "$name" extra_params) ${QEMU_EXTRA:-}"
	split_cpu_option "${extra_words[@]}" "$@"
	resolve_cpu "$test_accelerator" "$requested_cpu"
	cpu=$resolved_cpu
	if [ -z "$cpu" ]; then
		set_result FAIL 1 "no -cpu model starts under KVM: ${cpu_probe_log[kvm/${requested_cpu:-host}]}"
		return 1
	fi
	test_cpu_note="-cpu $cpu"
	[ "$test_accelerator" = kvm ] && test_cpu_note+=" (probe: ${cpu_probe_log[kvm/${requested_cpu:-host}]})"
	test_timeout=${TIMEOUT:-$(field "$name" timeout "$default_timeout")}
	smp=$(field "$name" smp 1)
	build_qemu_command "$test_accelerator" "$cpu" "$test_machine" "$smp" "$test_kernel" \
		"$test_append" "${other_qemu_words[@]}"
	test_identity=$identity
}

# The line's verdict once the section's "expect" is applied.  A section that
# expects failure is satisfied only by a failure the guest reported (or a
# hypervisor failure), never by a timeout, a crash or a reset.
apply_expectation() { # EXPECT
	local expect=$1
	case $expect/$outcome_kind in
	pass/pass) set_result PASS 0 "$outcome_detail" ;;
	pass/skip) set_result SKIP 77 "$outcome_detail" ;;
	pass/*) set_result FAIL "$outcome_status" "$outcome_detail" ;;
	fail/guest-failure | fail/hypervisor-failure) set_result PASS 0 "failed as expected: $outcome_detail" ;;
	skip/skip) set_result PASS 0 "skipped as expected: $outcome_detail" ;;
	*/pass) set_result FAIL 1 "expected $expect, but it passed: $outcome_detail" ;;
	*/skip) set_result FAIL 1 "expected $expect, but it skipped: $outcome_detail" ;;
	*) set_result FAIL "$outcome_status" "expected $expect, got: $outcome_detail" ;;
	esac
}

# The log header: everything needed to repeat the run by hand.
write_log_header() { # NAME
	local name=$1
	echo "test: $name ($(date '+%Y-%m-%d %H:%M:%S'))"
	echo "accelerator: $test_identity, $test_cpu_note"
	echo "machine: $test_machine, image: $test_kernel, timeout: $(timeout_seconds "$test_timeout")s"
	echo "command: $(quoted_command)"
	write_errata_log no
}

write_log_body() { # SERIAL STDERR_LOG
	echo "---- serial output ----"
	tr -d '\r' <"$1"
	echo "---- QEMU stderr ----"
	cat "$2"
	echo "---- QEMU status $launch_status after ${launch_seconds}s ----"
	write_errata_log yes
}

run_test() { # NAME LOG
	local name=$1 log=$2 work serial stderr_log elf
	result_seconds=0
	if ! prepare_test "$name"; then
		echo "$result_word $name ($result_detail)" >"$log"
		return
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/canon-test.XXXXXX")
	serial=$work/serial stderr_log=$work/stderr
	elf=$image_directory/$(section_image "$name").elf
	write_log_header "$name" >"$log"
	launch_qemu "$(timeout_seconds "$test_timeout")" "$serial" "$stderr_log"
	result_seconds=$launch_seconds
	classify_boot "$(timeout_seconds "$test_timeout")" "$serial" "$stderr_log" "$elf"
	apply_expectation "$(field "$name" expect pass)"
	read_errata_report "$errata_report_line" "$errata_report_lines"
	write_log_body "$serial" "$stderr_log" >>"$log"
	echo "$result_word $name ($result_detail)" >>"$log"
	rm -rf "$work"
}
