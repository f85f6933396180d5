# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with the other runner files
# test.sh: runs one cfg section and decides its result line (sourced).
#
# The caller has parsed the section into section_field (config.sh) or, in a
# standalone script, embedded it.  prepare_test NAME settles everything up
# to the QEMU command without forking, so that run_tests.sh can do it for
# every section in one process; run_prepared_test LOG boots and judges.
# run_test NAME LOG does both.  They set:
#   result_word     PASS, FAIL or SKIP
#   result_detail   what goes in the brackets of the result line
#   result_status   the kvm-unit-tests status: 0, 77, 124, >=128, or 1
#   result_seconds  how long QEMU ran
#   skip_cause      accelerator, when a SKIP came from an unusable or
#                   mismatched accelerator
# They need image_directory (where the cfg's images are) and qemu_binary
# or qemu_missing_reason (find_qemu).  debug_port, when set, starts QEMU
# stopped with a gdb stub on that port and no timeout.  cpu_override, when
# set, is the CPU model for every section (--compare's ACCEL:MODEL), and
# errata_switched_off=yes passes the guest no errata (--compare).

set_result() { # WORD STATUS DETAIL
	result_word=$1 result_status=$2 result_detail=$3
}

# Checks the environment the runner reads (ACCEL, MACHINE, TIMEOUT), so
# that a typo stops PROGRAM before anything runs instead of being taken as
# "none" or the default.  Prints each mistake; returns 1 after any.
check_environment_values() { # PROGRAM
	local program=$1 status=0 microseconds
	if [ -n "${ACCEL:-}" ] && ! is_word_in "$ACCEL" "$config_accelerators"; then
		echo "$program: ACCEL must be kvm, tcg or bochs, not '$ACCEL'" >&2
		status=1
	fi
	if [ -n "${MACHINE:-}" ] && ! is_word_in "$MACHINE" "$config_machines"; then
		echo "$program: MACHINE must be one of: $config_machines; not '$MACHINE'" >&2
		status=1
	fi
	if [ -n "${TIMEOUT:-}" ] && ! duration_microseconds_into microseconds "$TIMEOUT"; then
		echo "$program: TIMEOUT must be seconds (like 90, 90s, 1.5m or 2h), more than 0, not '$TIMEOUT';" \
			"there is no 'never': to wait forever, debug with -d" >&2
		status=1
	fi
	return "$status"
}

# Reasons to skip before QEMU starts: another architecture, a failed
# "check" condition, or an accelerator this run cannot give.  Sets
# test_accelerator (kvm, tcg or bochs), or result_detail and skip_cause
# and returns 1 to skip.  Without ACCEL or accel, KVM when it works, else
# TCG: Bochs only when asked for.
choose_accelerator_or_skip() { # NAME
	local name=$1 wanted condition path value architecture=${section_field[$1/arch]:-}
	skip_cause=other
	if [ -n "$architecture" ] && [ "$architecture" != "${ARCH:-x86_64}" ]; then
		result_detail="arch = $architecture, this build is ${ARCH:-x86_64}"
		return 1
	fi
	for condition in ${section_field[$name/check]:-}; do
		path=${condition%%=*} value=""
		{ read -r value <"$path"; } 2>/dev/null
		if [ "$value" != "${condition#*=}" ]; then
			result_detail="check $condition is not true here"
			return 1
		fi
	done
	skip_cause=accelerator
	wanted=${section_field[$name/accel]:-}
	if [ -n "${ACCEL:-}" ] && [ -n "$wanted" ] && [ "$ACCEL" != "$wanted" ]; then
		result_detail="needs accel = $wanted, ACCEL=$ACCEL"
		return 1
	fi
	wanted=${ACCEL:-$wanted}
	if [ "$wanted" = bochs ]; then
		probe_bochs
		if [ "$bochs_available" != yes ]; then
			result_detail="needs Bochs: $bochs_reason"
			return 1
		fi
		test_accelerator=bochs skip_cause=""
		return 0
	fi
	[ "$wanted" = tcg ] || probe_kvm
	if [ "$wanted" = kvm ] && [ "$kvm_available" != yes ]; then
		result_detail="needs KVM: $kvm_reason"
		return 1
	fi
	test_accelerator=${wanted:-tcg}
	[ -z "$wanted" ] && [ "$kvm_available" = yes ] && test_accelerator=kvm
	skip_cause=""
}

# The guest's command line: the section's words, then errata=... for the
# cases this accelerator is known to get wrong.  Sets test_append,
# test_errata_word and test_errata_indices; returns 1 when the line would
# overflow the guest's 4096-byte buffer.  QEMU's multiboot loader puts the
# kernel's path and a blank in front of the words.
guest_command_line() { # NAME ACCELERATOR KERNEL
	local name=$1 accelerator=$2 kernel=$3
	if [ "${errata_switched_off:-no}" = yes ]; then
		test_errata_indices=() test_errata_word=""
	else
		select_errata "$accelerator" "$test_image_name"
	fi
	test_append=${section_field[$name/test_args]:-}
	[ -n "$test_errata_word" ] && test_append+="${test_append:+ }$test_errata_word"
	[ $((${#kernel} + 1 + ${#test_append})) -le 4095 ]
}

# Sets test_image (the file the section names: the cfg's "file" under
# image_directory, or a path as x86/run gives it), test_image_name (its
# name without directory and suffix, which errata use) and test_elf (the
# .elf beside it, for symbols).
locate_image() { # NAME
	local file=${section_field[$1/file]}
	test_image=$file
	[[ $file == */* ]] || test_image=$image_directory/$file
	test_image_name=${file##*/}
	test_image_name=${test_image_name%.*}
	test_elf=${test_image%.*}.elf
}

# Everything up to the QEMU command, without forking: sets test_* and
# qemu_command, or a result (SKIP or FAIL) and returns 1.  EXTRA are QEMU
# words from x86/run.
prepare_test() { # NAME [EXTRA...]
	local name=$1 smp=${section_field[$1/smp]:-1} cpu_key
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
	if [ "$test_accelerator" = bochs ]; then
		prepare_bochs_test "$name" "$@"
		return
	fi
	test_machine=${MACHINE:-${section_field[$name/machine]:-microvm}}
	locate_image "$name"
	choose_kernel "$test_image" "$test_machine"
	if [ ! -r "$test_kernel" ]; then
		set_result FAIL 1 "$test_kernel is missing: run make first"
		return 1
	fi
	test_identity=$test_accelerator
	[ "$test_identity" = kvm ] && test_identity=$kvm_identity
	if ! guest_command_line "$name" "$test_identity" "$test_kernel"; then
		set_result FAIL 1 "guest command line (image path, blank, test_args and errata) is over the guest's 4095 bytes: shorten the errata or test_args"
		return 1
	fi
	read -ra extra_words <<<"${section_field[$name/extra_params]:-} ${QEMU_EXTRA:-}"
	split_cpu_option "${extra_words[@]}" "$@"
	requested_cpu=${cpu_override:-${requested_cpu:-${section_field[$name/cpu]:-}}}
	resolve_cpu "$test_accelerator" "$requested_cpu"
	cpu_key=kvm/${requested_cpu:-host}
	if [ -z "$resolved_cpu" ]; then
		set_result FAIL 1 "no -cpu model starts under KVM: ${cpu_probe_log[$cpu_key]}"
		return 1
	fi
	test_cpu_note="-cpu $resolved_cpu"
	[ "$test_accelerator" = kvm ] && test_cpu_note+=" (probe: ${cpu_probe_log[$cpu_key]})"
	if [ -n "${debug_port:-}" ]; then
		test_timeout_microseconds=0
		other_qemu_words+=(-S -gdb "tcp:127.0.0.1:$debug_port")
	elif ! duration_microseconds_into test_timeout_microseconds \
		"${TIMEOUT:-${section_field[$name/timeout]:-$default_timeout}}"; then
		set_result FAIL 1 "bad timeout '${TIMEOUT:-${section_field[$name/timeout]}}'"
		return 1
	fi
	build_qemu_command "$test_accelerator" "$resolved_cpu" "$test_machine" "$smp" "$test_kernel" \
		"$test_append" "${other_qemu_words[@]}"
	quote_command
}

# prepare_test for a section that boots on Bochs.  Bochs can honour the
# guest's words, the timeout and a CPU model (the cfg's cpu, -cpu MODEL in
# x86/run's words, --compare's ACCEL:MODEL; default arrow_lake), nothing
# else QEMU is told: a section with extra_params, more than one vCPU or a
# QEMU machine skips, saying so.  QEMU_EXTRA is for QEMU and is not used.
# qemu_command is completed at boot (boot_on_bochs), when the ISO exists.
prepare_bochs_test() { # NAME [EXTRA...]
	local name=$1 smp=${section_field[$1/smp]:-1} machine=${section_field[$1/machine]:-microvm}
	shift
	skip_cause=accelerator
	if [ -n "${section_field[$name/extra_params]:-}" ]; then
		set_result SKIP 77 "extra_params are QEMU words (${section_field[$name/extra_params]}), which Bochs cannot take"
		return 1
	elif [ "$smp" -gt 1 ]; then
		set_result SKIP 77 "smp = $smp: canon boots Bochs with one CPU"
		return 1
	elif [ "$machine" != microvm ]; then
		set_result SKIP 77 "machine = $machine is a QEMU machine; Bochs boots its own PC through GRUB"
		return 1
	fi
	skip_cause=""
	if [ -n "${debug_port:-}" ]; then
		set_result FAIL 1 "-d needs QEMU's gdb stub: debug under ACCEL=kvm or ACCEL=tcg"
		return 1
	fi
	split_cpu_option "$@"
	if [ ${#other_qemu_words[@]} -gt 0 ]; then
		set_result FAIL 1 "Bochs takes no QEMU words (${other_qemu_words[*]}), only -cpu MODEL"
		return 1
	fi
	test_cpu_model=${cpu_override:-${requested_cpu:-${section_field[$name/cpu]:-$bochs_default_model}}}
	test_machine="Bochs's PC (its BIOS, then GRUB from a rescue ISO)"
	locate_image "$name"
	test_kernel=$test_image
	if [ ! -r "$test_kernel" ]; then
		set_result FAIL 1 "$test_kernel is missing: run make first"
		return 1
	fi
	test_identity=bochs
	if ! guest_command_line "$name" bochs "/boot/${test_kernel##*/}"; then
		set_result FAIL 1 "guest command line (image path, blank, test_args and errata) is over the guest's 4095 bytes: shorten the errata or test_args"
		return 1
	fi
	test_cpu_note="model $test_cpu_model (Bochs $bochs_version, $bochs_binary)"
	if ! duration_microseconds_into test_timeout_microseconds \
		"${TIMEOUT:-${section_field[$name/timeout]:-$default_timeout}}"; then
		set_result FAIL 1 "bad timeout '${TIMEOUT:-${section_field[$name/timeout]}}'"
		return 1
	fi
	qemu_command=("$bochs_binary" -q -f BOCHSRC)
	quoted_command="$bochs_binary -q -f BOCHSRC (cpu $test_cpu_model; GRUB boots $test_kernel $test_append)"
}

# Boots on Bochs what prepare_bochs_test prepared: the ISO and the bochsrc
# beside SERIAL, then Bochs, then the verdict (outcome_*).
boot_on_bochs() { # SERIAL
	local serial=$1 problem com1=$1
	test_bochs_iso=${serial%.serial}.iso test_bochsrc=${serial%.serial}.bochsrc
	bochs_output_lines=() launch_status=0 launch_seconds=0 bochs_triple_fault="" bochs_exit_message=""
	if ! problem=$(make_boot_iso "$test_bochs_iso" "$test_kernel" "$test_append" "${serial%.serial}.iso-tree"); then
		scan_serial /dev/null
		set_outcome 1 error "cannot make the boot ISO: ${problem:-grub-mkrescue failed}"
		return
	fi
	[ "${boot_live:-no}" = yes ] && com1=/dev/fd/7
	write_bochsrc "$test_bochsrc" "$test_bochs_iso" "$com1" "$test_cpu_model"
	qemu_command=("$bochs_binary" -q -f "$test_bochsrc")
	quote_command
	launch_bochs "$test_timeout_microseconds" "$serial"
	classify_bochs_boot "$test_timeout_microseconds" "$serial"
}

# Boots what prepare_test prepared, its serial output into SERIAL, and
# reads the outcome (outcome_status, outcome_kind, outcome_detail).
boot_prepared_test() { # SERIAL
	if [ "$test_accelerator" = bochs ]; then
		boot_on_bochs "$1"
		return
	fi
	launch_qemu "$test_timeout_microseconds" "$1"
	classify_boot "$test_timeout_microseconds" "$1" "$test_elf"
}

# The gdb command that loads the image's ELF (symbols at its upper-half
# addresses) and stops at main.  A hardware breakpoint, because under KVM
# a software one in the upper half is not hit (kvm_pvm on an AMD host, QEMU
# 7.2); hbreak also works under TCG.
gdb_command() { # PORT
	local elf=$test_elf
	[[ $elf == /* ]] || elf=$PWD/$elf # for another terminal, in another directory
	[ -r "$elf" ] || elf=""
	printf "gdb -q%s -ex 'target remote 127.0.0.1:%s' -ex 'hbreak main' -ex continue" \
		"${elf:+ $elf}" "$1"
}

# What -d prints before QEMU starts and waits, each line after PREFIX.
print_debug_instructions() { # PREFIX
	echo "${1}QEMU waits for gdb on port $debug_port, without a timeout; in another terminal:"
	echo "${1}  $(gdb_command "$debug_port")"
	[ -r "$test_elf" ] || echo "${1}  ($test_elf is missing: gdb has no symbols, break at addresses)"
	echo "${1}Ctrl-C here stops QEMU."
}

# Sets timeout_text to the prepared test's timeout as logs show it: "90s" or "none".
describe_test_timeout() {
	timeout_text=none
	format_seconds "$test_timeout_microseconds"
	[ "$test_timeout_microseconds" -gt 0 ] && timeout_text=${formatted_seconds}s
}

# The verdict once the section's "expect" is applied.  A section that
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
	local words
	describe_test_timeout
	printf 'test: %s (%(%Y-%m-%d %H:%M:%S)T)\n' "$1" -1
	echo "accelerator: $test_identity, $test_cpu_note"
	echo "machine: $test_machine, image: $test_kernel, timeout: $timeout_text"
	if [ "$test_accelerator" = bochs ]; then
		printf -v words '%q' "$test_append"
		echo "command: scripts/make-iso.sh canon.iso $test_kernel $words"
		echo "         then Bochs with the configuration below, canon.iso in its CD-ROM drive"
	else
		echo "command: $quoted_command"
	fi
	write_errata_log no
}

write_log_body() {
	local -a configuration=()
	echo "---- serial output ----"
	[ ${#serial_lines[@]} -eq 0 ] || printf '%s\n' "${serial_lines[@]}"
	if [ "$test_accelerator" = bochs ]; then
		[ -r "${test_bochsrc:-}" ] && mapfile -t configuration <"$test_bochsrc"
		echo "---- Bochs configuration: $quoted_command ----"
		[ ${#configuration[@]} -eq 0 ] || printf '%s\n' "${configuration[@]}"
		echo "---- Bochs output and log ----"
		[ ${#bochs_output_lines[@]} -eq 0 ] || printf '%s\n' "${bochs_output_lines[@]}"
		echo "---- Bochs status $launch_status after ${launch_seconds}s ----"
	else
		echo "---- QEMU stderr ----"
		[ ${#qemu_stderr_lines[@]} -eq 0 ] || printf '%s\n' "${qemu_stderr_lines[@]}"
		echo "---- QEMU status $launch_status after ${launch_seconds}s ----"
	fi
	write_errata_log yes
}

# Boots a prepared section (prepare_test NAME) and judges it; SERIAL is a
# scratch file for the guest's output.  The log is written as the run goes,
# so that a hung test's log already holds its command.
run_prepared_test() { # NAME LOG SERIAL
	local name=$1 log=$2 serial=$3
	write_log_header "$name" >"$log"
	boot_prepared_test "$serial"
	result_seconds=$launch_seconds
	apply_expectation "${section_field[$name/expect]:-pass}"
	read_errata_report "$errata_report_line" "$errata_report_lines"
	{
		write_log_body
		echo "$result_word $name ($result_detail)"
	} >>"$log"
}

# prepare_test and run_prepared_test; a section that cannot boot gets its
# result line as its log.
run_test() { # NAME LOG SERIAL
	result_seconds=0 errata_used=() errata_unused=()
	if prepare_test "$1"; then
		run_prepared_test "$@"
	else
		echo "$result_word $1 ($result_detail)" >"$2"
	fi
}
