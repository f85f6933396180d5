#!/usr/bin/env bash
# run_tests.sh: runs the sections of x86/unittests.cfg, in parallel, and
# prints one result line each and a SUMMARY.  See docs/runner.md.
#
# The cfg and the errata list are read once, by one awk, every section is
# prepared in this process without forking, and only a section that boots
# gets a worker, a subshell that runs QEMU and writes the log.
# On the project's hosts a fork and exec costs about a millisecond and a
# TCG boot 30 ms, so the runner forks as little as it can.
set -uo pipefail

# The tree's root, found without forking.
here=$PWD
case ${BASH_SOURCE[0]} in
*/*) CDPATH="" cd -- "${BASH_SOURCE[0]%/*}/.." || exit 2 ;;
*) CDPATH="" cd .. || exit 2 ;;
esac
root=$PWD
cd -- "$here" || exit 2
runner=$root/scripts/runner
# shellcheck source=scripts/runner/config.sh
. "$runner/config.sh"
# shellcheck source=scripts/runner/errata.sh
. "$runner/errata.sh"
# shellcheck source=scripts/runner/qemu.sh
. "$runner/qemu.sh"
# shellcheck source=scripts/runner/bochs.sh
. "$runner/bochs.sh"
# shellcheck source=scripts/runner/outcome.sh
. "$runner/outcome.sh"
# shellcheck source=scripts/runner/test.sh
. "$runner/test.sh"
# shellcheck source=scripts/runner/report.sh
. "$runner/report.sh"
# shellcheck source=scripts/runner/compare.sh
. "$runner/compare.sh"

usage() {
	cat <<EOF
Usage: ./run_tests.sh [-h] [-v] [-a] [-g GROUP]... [-j N] [-t] [-l] [-J FILE]
                      [-f CFG] [-E ERRATA] [-S] [-d] [TEST]...
       ./run_tests.sh --compare ACCEL[:MODEL],ACCEL[:MODEL]... [--compare-out FILE]
                      [-v] [-a] [-g GROUP]... [-j N] [-f CFG] [TEST]...
Runs the tests of x86/unittests.cfg (or just the TESTs named) and prints
PASS/FAIL/SKIP name (detail) for each, then
SUMMARY: N passed, N failed, N skipped.  Logs go to logs/<test>.log.
Options may come before or after the TESTs; -- ends them.

  -h        this help
  -v        print each QEMU command and the accelerator probe; with -j 1
            also the guest's output as it runs
  -a        also run the sections in group nodefault
  -g GROUP  only run sections in GROUP (repeatable: any of them)
  -j N      run N tests at once (default: the number of CPUs)
  -t        print TAP13 instead of result lines
  -l        list the selected tests, run nothing
  -J FILE   also write a JUnit XML report to FILE
  -f CFG    read CFG instead of x86/unittests.cfg
  -E ERRATA read ERRATA instead of x86/errata.txt
  -S        strict: an erratum that matched no check is a failure
  -d        debug the one TEST named: QEMU waits for gdb (port GDB_PORT,
            default 1234), no timeout; prints the gdb command
  --compare ACCEL,ACCEL...  run each TEST on each implementation (kvm, tcg,
            bochs; bochs:ryzen picks a CPU model) without errata, and print
            every check whose result differs, then the counts; exit 0 when
            all agree, 1 when some differ, 2 when nothing could be compared
  --compare-out FILE  also write the differing checks to FILE as TSV

Environment: QEMU (binary), ACCEL (kvm|tcg|bochs), MACHINE (microvm|pc|q35|qboot),
TIMEOUT (seconds, or like 90s or 2m), QEMU_EXTRA (words added to every QEMU),
BOCHS (the Bochs binary; default bochs on PATH, 2.8 or newer).
Exit status: 0 when tests ran and nothing failed, 1 when something failed,
2 when nothing could be tested (bad usage or configuration, no test
selected, every test skipped before booting, unwritable output), 130 or
143 when interrupted by SIGINT or SIGTERM.
EOF
}

usage_error() { # MESSAGE
	echo "run_tests.sh: $1 (-h for help)" >&2
	exit 2
}

# An option at the end of the line that needed a value.
missing_value() { # OPTION
	case $1 in
	j) usage_error "-j needs a number, like -j 4" ;;
	g) usage_error "-g needs a group name" ;;
	*) usage_error "-$1 needs a value" ;;
	esac
}

# Takes --compare LIST and --compare-out FILE (or --NAME=VALUE) out of the
# words before any "--", for getopts, which knows no long options: sets
# compare_list and compare_out, and short_words to the rest.
take_long_options() { # WORD...
	compare_list="" compare_out="" short_words=()
	while [ $# -gt 0 ]; do
		case $1 in
		--) short_words+=("$@"); return ;;
		--compare=* | --compare-out=*)
			[ -n "${1#*=}" ] || usage_error "${1%%=*} needs a value"
			if [[ $1 == --compare=* ]]; then compare_list=${1#*=}; else compare_out=${1#*=}; fi ;;
		--compare | --compare-out)
			{ [ $# -ge 2 ] && [ -n "$2" ]; } || usage_error "$1 needs a value"
			if [ "$1" = --compare ]; then compare_list=$2; else compare_out=$2; fi
			shift ;;
		--*) usage_error "unknown option $1" ;;
		*) short_words+=("$1") ;;
		esac
		shift
	done
}

# Options and test names, in any order: getopts stops at the first name,
# so each name is taken and getopts starts again after it.
parse_options() {
	local option consumed
	verbose=no all=no tap=no list=no strict=no debug=no junit="" jobs=""
	config=$root/x86/unittests.cfg errata_file=$root/x86/errata.txt
	groups=() requested_tests=()
	take_long_options "$@"
	set -- "${short_words[@]}"
	while [ $# -gt 0 ]; do
		OPTIND=1
		while getopts ":hvag:j:tlJ:f:E:Sd" option; do
			case $option in
			h) usage; exit 0 ;;
			v) verbose=yes ;;
			a) all=yes ;;
			g) [ -n "$OPTARG" ] || usage_error "-g needs a group name, not ''"; groups+=("$OPTARG") ;;
			j) [[ $OPTARG == [1-9]* && $OPTARG != *[!0-9]* ]] ||
				usage_error "-j wants a positive number, not '$OPTARG'"
				jobs=$OPTARG ;;
			t) tap=yes ;;
			l) list=yes ;;
			J) junit=$OPTARG ;;
			f) config=$OPTARG ;;
			E) errata_file=$OPTARG ;;
			S) strict=yes ;;
			d) debug=yes ;;
			:) missing_value "$OPTARG" ;;
			*) usage_error "unknown option -$OPTARG" ;;
			esac
		done
		consumed=$((OPTIND - 1))
		if [ "$consumed" -gt 0 ] && [ "${!consumed}" = -- ]; then
			shift "$consumed"
			requested_tests+=("$@")
			return
		fi
		shift "$consumed"
		[ $# -gt 0 ] || break
		requested_tests+=("$1")
		shift
	done
}

check_environment() {
	check_comparison_options
	check_environment_values run_tests.sh || exit 2
	debug_port=""
	if [ "$debug" = yes ]; then
		debug_port=${GDB_PORT:-1234}
		[[ $debug_port == [1-9]* && $debug_port != *[!0-9]* && $debug_port -le 65535 ]] ||
			usage_error "GDB_PORT must be a TCP port number, not '$debug_port'"
	fi
}

# PATH as messages show it: x86/errata.txt inside the tree, else as given.
relative_name_into() { # VARIABLE PATH
	local -n relative_target_=$1
	local path=$2
	[[ $path == /* ]] || path=$PWD/$path
	relative_target_=$2
	# shellcheck disable=SC2034 # a nameref: this sets the caller's variable
	[[ $path == "$root/"* ]] && relative_target_=${path#"$root/"}
}

# Does section NAME belong to one of the -g groups (or are there none)?
in_requested_groups() { # NAME
	local group
	[ ${#groups[@]} -eq 0 ] && return 0
	for group in "${groups[@]}"; do
		is_word_in "$group" "${section_field[$1/groups]:-}" && return 0
	done
	return 1
}

# Fills selected_tests.  Named tests run even in nodefault; otherwise
# nodefault sections need -a or -g nodefault.  Typos, and a selection that
# leaves nothing to run, exit 2: a run that tests nothing must not pass.
select_tests() {
	local name group known_groups=" " skip_nodefault=no
	local -A requested=()
	selected_tests=()
	for name in "${requested_tests[@]}"; do
		[ -n "${section_line[$name]+set}" ] || usage_error "unknown test '$name' (not in $config_name)"
		requested[$name]=1
	done
	if [ ${#groups[@]} -gt 0 ]; then
		for name in "${section_names[@]}"; do
			known_groups+="${section_field[$name/groups]:-} "
		done
		for group in "${groups[@]}"; do
			is_word_in "$group" "$known_groups" || usage_error "no section of $config_name is in group '$group'"
		done
	fi
	[ "$all" = no ] && ! is_word_in nodefault "${groups[*]}" && skip_nodefault=yes
	for name in "${section_names[@]}"; do
		if [ ${#requested[@]} -gt 0 ]; then
			[ -n "${requested[$name]+set}" ] || continue
		elif [ "$skip_nodefault" = yes ] && [[ " ${section_field[$name/groups]:-} " == *" nodefault "* ]]; then
			continue
		fi
		in_requested_groups "$name" && selected_tests+=("$name")
	done
	[ ${#section_names[@]} -gt 0 ] || usage_error "no test selected: $config_name has no sections"
	[ ${#selected_tests[@]} -gt 0 ] ||
		usage_error "no test selected: no section is both named (${requested_tests[*]:-all}) and in group ${groups[*]}"
	if [ "$debug" = yes ] && [ ${#selected_tests[@]} -ne 1 ]; then
		usage_error "-d debugs one test: name exactly one (${#selected_tests[@]} are selected)"
	fi
}

# Every test program (x86/<test>.c) should have a section; say which lack one.
warn_unlisted_tests() {
	local source image name file
	local -A listed=()
	for name in "${section_names[@]}"; do
		file=${section_field[$name/file]}
		listed[${file%.flat}]=1
	done
	for source in "$root"/x86/*.c; do
		[ -e "$source" ] || continue
		image=${source##*/} image=${image%.c}
		[ -n "${listed[$image]+set}" ] || echo "run_tests.sh: note: x86/$image.c has no section in $config_name" >&2
	done
}

output_error() { # MESSAGE
	echo "run_tests.sh: $1; no test was run" >&2
	exit 2
}

# Before any test starts: logs/ and each selected test's log, and the
# JUnit file, can be written.  Otherwise a run would end in bash errors,
# or in a report built from an older run's logs.
check_outputs() {
	local log
	logs_directory=$root/logs
	if [ ! -d "$logs_directory" ]; then
		[ -e "$logs_directory" ] && output_error "$logs_directory is not a directory: move it away"
		mkdir "$logs_directory" 2>/dev/null || output_error "cannot create $logs_directory"
	fi
	if [ ! -w "$logs_directory" ] || [ ! -x "$logs_directory" ]; then
		output_error "cannot write in $logs_directory"
	fi
	for log in "${run_logs[@]}"; do
		log=$logs_directory/$log
		if [ -d "$log" ] || { [ -e "$log" ] && [ ! -w "$log" ]; }; then
			output_error "cannot write $log"
		fi
	done
	if [ -n "$junit" ] && { [ -d "$junit" ] || ! { : >>"$junit"; } 2>/dev/null; }; then
		output_error "cannot write the JUnit report to $junit"
	fi
}

# Prints, once each, what the accelerator probes found (-v).
print_probe_notes() {
	local key
	[ "$verbose" = yes ] || return 0
	if [ -z "${kvm_note_printed:-}" ] && [ -n "${kvm_available:-}" ]; then
		kvm_note_printed=yes
		if [ "$kvm_available" = yes ]; then
			echo "${comment}KVM: yes ($kvm_identity)"
		else
			echo "${comment}KVM: no ($kvm_reason)"
		fi
	fi
	for key in "${!cpu_probe_log[@]}"; do
		[ -n "${cpu_note_printed[$key]+set}" ] && continue
		cpu_note_printed[$key]=1
		echo "${comment}-cpu ${key#*/} under KVM: ${cpu_probe_log[$key]}"
	done
}

# Fills the runs: run_names (as result lines show them), run_sections,
# run_logs (under logs/), and for --compare run_accelerators and
# run_models.  Without --compare, one run per selected test.
plan_runs() {
	local name index
	run_names=() run_sections=() run_logs=() run_accelerators=() run_models=()
	if [ -z "$compare_list" ]; then
		run_names=("${selected_tests[@]}") run_sections=("${selected_tests[@]}")
		for name in "${selected_tests[@]}"; do run_logs+=("$name.log"); done
		return
	fi
	for name in "${selected_tests[@]}"; do
		for index in "${!compare_labels[@]}"; do
			run_names+=("$name on ${compare_labels[index]}") run_sections+=("$name")
			run_logs+=("$name.${compare_labels[index]/:/-}.log")
			run_accelerators+=("${compare_accelerators[index]}") run_models+=("${compare_models[index]}")
		done
	done
}

# Prepares run number INDEX here; one that cannot boot is reported at
# once, one that can gets a worker whose result lands in a file.
start_test() { # INDEX
	local index=$1 name=${run_names[$1]} section=${run_sections[$1]} log
	log=$logs_directory/${run_logs[$1]}
	result_seconds=0
	if [ -n "$compare_list" ]; then # globals that prepare_test reads
		ACCEL=${run_accelerators[index]} cpu_override=${run_models[index]}
	fi
	run_states[index]=booted
	if ! prepare_test "$section"; then
		run_states[index]="$result_word: $result_detail"
		print_probe_notes
		[ "$result_word" = SKIP ] && [ "$skip_cause" = accelerator ] &&
			accelerator_skips+=("$name: $result_detail")
		echo "$result_word $name ($result_detail)" >"$log"
		report_test "$name" "$result_word" 0 "$result_detail"
		return
	fi
	booted=$((booted + 1))
	if [ -z "$run_directory" ]; then # made for the first boot: a run of skips makes none
		run_directory=$(mktemp -d "${TMPDIR:-/tmp}/canon-run.XXXXXX") || exit 2
		running_group_directory=$run_directory
	fi
	print_probe_notes
	[ "$verbose" = yes ] && echo "$comment$quoted_command"
	[ "$debug" = yes ] && print_debug_instructions "$comment"
	(
		run_prepared_test "$section" "$log" "$run_directory/$index.serial"
		printf '%s\n' "$result_word" "$result_seconds" "$result_detail" "${errata_used[*]}" \
			"${errata_unused[*]}" >"$run_directory/$index.result"
	) &
	running_tests[$!]=$index
}

# Waits for any running test and reports it.
collect_test() {
	local finished index word seconds detail used="" unused=""
	wait -n -p finished
	index=${running_tests[$finished]}
	unset "running_tests[$finished]"
	if ! { read -r word && read -r seconds && read -r detail && read -r used && read -r unused; } \
		2>/dev/null <"$run_directory/$index.result"; then
		word=FAIL seconds=0
		detail="the runner's worker for this test died; see logs/${run_logs[$index]}"
	fi
	note_errata_use "$used" "$unused"
	report_test "${run_names[$index]}" "$word" "$seconds" "$detail" "${run_logs[$index]}"
}

# Counts a result and prints its line (TAP with -t; "[12/38] " first on a
# terminal).  A line that cannot be written makes the run end with 2.
# LOG is the run's log under logs/ (default NAME.log), or no for the lines
# that are no cfg section (unused errata).
report_test() { # NAME WORD SECONDS DETAIL [LOG]
	local name=$1 word=$2 seconds=$3 detail=$4 section=${5:-$1.log} progress="" log=""
	reported=$((reported + 1))
	case $word in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	[ "$section" != no ] && sections_reported=$((sections_reported + 1)) log=$logs_directory/$section
	if [ "$tap" = yes ]; then
		print_tap_line "$reported" "$word" "$name" "$detail" || output_failed=yes
	else
		[ "$show_progress" = yes ] && progress="[$sections_reported/${#run_names[@]}] "
		printf '%s' "$progress" && print_result_line "$word" "$name" "$detail" || output_failed=yes
	fi
	[ -n "$junit" ] &&
		junit_cases+=$(junit_test_case "$word" "$name" "$detail" "$seconds" "$log")$'\n'
	return 0
}

# Remembers which errata a section used and left unused (entry numbers).
note_errata_use() { # USED UNUSED
	local index
	for index in $1; do erratum_used[$index]=1; done
	for index in $2; do erratum_unused[$index]=1; done
}

# An erratum is unused when a section that ran its test said so and no
# section used it: a stale entry hides nothing today and would hide a real
# failure of its case tomorrow.  Prints one line each (a FAIL under -S)
# and keeps them for JUnit.
report_unused_errata() {
	local index
	for index in "${!errata_line[@]}"; do
		if [ -z "${erratum_unused[$index]+set}" ] || [ -n "${erratum_used[$index]+set}" ]; then
			continue
		fi
		describe_erratum "$index"
		unused_errata+=("unused erratum $erratum_description")
		if [ "$strict" = yes ]; then
			report_test errata FAIL 0 "unused erratum $erratum_description" no
		else
			echo "${comment}unused erratum $erratum_description" || output_failed=yes
		fi
	done
}

write_junit() { # WALL_SECONDS [INTERRUPTION]
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites tests="%d" failures="%d" skipped="%d" time="%s">\n' \
			"$reported" "$failed" "$skipped" "$1"
		printf ' <testsuite name="canon" tests="%d" failures="%d" skipped="%d" time="%s">\n' \
			"$reported" "$failed" "$skipped" "$1"
		junit_properties "${2:-}" "${unused_errata[@]}"
		printf '%s' "$junit_cases"
		echo ' </testsuite>'
		echo '</testsuites>'
	} >"$junit"
}

# Why nothing booted, when every selected test was skipped before QEMU
# started: most often the accelerator asked for is unusable here.
explain_nothing_ran() {
	if [ ${#accelerator_skips[@]} -gt 0 ]; then
		echo "run_tests.sh: no test ran: every selected test was skipped before booting," \
			"${#accelerator_skips[@]} for the accelerator (${accelerator_skips[0]})" >&2
	else
		echo "run_tests.sh: no test ran: every selected test was skipped before booting" >&2
	fi
}

# The end of every run: TAP's plan, JUnit, the SUMMARY line (always the
# last line), and the exit status.  SIGNAL is set when interrupted: the
# tests not reported count as not run.
finish_run() { # [SIGNAL STATUS]
	local signal=${1:-} status=${2:-0} not_run=$((${#run_names[@]} - sections_reported)) plan=$reported
	local interruption=""
	[ -n "$signal" ] && interruption="interrupted by SIG$signal, $not_run tests not run" &&
		plan=$((reported + not_run))
	[ "$tap" = yes ] && printf '1..%d\n' "$plan"
	elapsed_since "$run_start"
	if [ -n "$junit" ] && ! write_junit "$elapsed_seconds" "$interruption" 2>/dev/null; then
		echo "run_tests.sh: cannot write the JUnit report to $junit" >&2
		output_failed=yes
	fi
	if [ -n "$signal" ]; then
		printf '%sSUMMARY: %d passed, %d failed, %d skipped, %d not run\n' "$comment" "$passed" "$failed" \
			"$skipped" "$not_run"
		exit "$status"
	fi
	[ "$failed" -eq 0 ] && [ "$booted" -eq 0 ] && explain_nothing_ran
	[ "$output_failed" = yes ] && echo "run_tests.sh: some results could not be written" >&2
	printf '%sSUMMARY: %d passed, %d failed, %d skipped\n' "$comment" "$passed" "$failed" "$skipped"
	[ "$failed" -gt 0 ] && exit 1
	[ "$booted" -eq 0 ] || [ "$output_failed" = yes ] && exit 2
	exit 0
}

# SIGINT or SIGTERM: stop every QEMU and worker, say what did not finish,
# and end the run with what did.
# shellcheck disable=SC2317 # called from a trap
interrupted() { # SIGNAL STATUS
	local index running=""
	trap '' INT TERM # a second Ctrl-C must not cut the summary short
	[ ${#running_tests[@]} -gt 0 ] && kill "${!running_tests[@]}" 2>/dev/null
	stop_running_qemus
	[ ${#running_tests[@]} -gt 0 ] && wait "${!running_tests[@]}" 2>/dev/null
	stop_running_qemus # a worker may have started one as it was stopped
	for index in "${running_tests[@]}"; do
		running+=" ${run_names[$index]}"
	done
	running_tests=()
	echo "${comment}interrupted by SIG$1${running:+; stopped:$running}"
	finish_run "$@"
}

# shellcheck disable=SC2317 # called from a trap
cleanup() {
	stop_running_qemus
	[ ${#running_tests[@]} -gt 0 ] && kill "${!running_tests[@]}" 2>/dev/null
	[ -n "${run_directory:-}" ] && rm -rf "$run_directory"
}

# Are as many tests running as -j allows?  Without -j, as many as there
# are CPUs, asked only once a second test would start: a run of one test,
# or of skips, forks nothing for it.
at_job_limit() {
	[ ${#running_tests[@]} -gt 0 ] || return 1
	[ -n "$jobs" ] || jobs=$(nproc)
	[ ${#running_tests[@]} -ge "$jobs" ]
}

run_selected_tests() {
	local index
	run_start=$EPOCHREALTIME
	for index in "${!run_names[@]}"; do
		while at_job_limit; do collect_test; done
		start_test "$index"
	done
	while [ ${#running_tests[@]} -gt 0 ]; do collect_test; done
	if [ -n "$compare_list" ]; then
		finish_comparison
	fi
	report_unused_errata
	finish_run
}

# ARCH from config.mak, read without forking.
read_architecture() {
	local key value
	ARCH=""
	[ -r "$root/config.mak" ] || return 0
	while IFS='=' read -r key value; do
		[ "$key" = ARCH ] && ARCH=$value
	done <"$root/config.mak"
}

main() {
	local config_name errata_name
	if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501)); then
		echo "run_tests.sh: needs bash 5.1 or later (wait -n -p), this is $BASH_VERSION" >&2
		exit 2
	fi
	parse_options "$@"
	check_environment
	relative_name_into config_name "$config"
	relative_name_into errata_name "$errata_file"
	parse_config_and_errata "$config" "$config_name" "$errata_file" "$errata_name" || exit 2
	select_tests
	[ "$config" = "$root/x86/unittests.cfg" ] && warn_unlisted_tests
	if [ "$list" = yes ]; then
		printf '%s\n' "${selected_tests[@]}"
		exit 0
	fi
	[ -n "$compare_list" ] && prepare_comparison
	plan_runs
	check_outputs
	comment="" # what starts a line that is not a result: "# " in TAP
	[ "$tap" = yes ] && comment="# "
	if [ "$tap" = yes ] && ! printf 'TAP version 13\n' 2>/dev/null; then
		output_error "cannot write TAP to standard output"
	fi
	run_directory="" junit_cases=""
	declare -gA running_tests=() erratum_used=() erratum_unused=() cpu_note_printed=()
	run_states=()
	accelerator_skips=() unused_errata=()
	reported=0 sections_reported=0 passed=0 failed=0 skipped=0 booted=0 output_failed=no
	trap cleanup EXIT
	trap 'interrupted INT 130' INT
	trap 'interrupted TERM 143' TERM
	if [ "$tap" = yes ]; then setup_colours no; else setup_colours yes; fi
	show_progress=no
	[ "$tap" = no ] && [ -t 1 ] && show_progress=yes
	[ ${#run_names[@]} -eq 1 ] || [ "$debug" = yes ] && jobs=1
	[ "$verbose" = yes ] && [ -z "$jobs" ] && jobs=$(nproc) # -v streams output only with -j 1
	boot_live=no live_prefix=$comment
	{ [ "$verbose" = yes ] && [ "${jobs:-0}" -eq 1 ]; } || [ "$debug" = yes ] && boot_live=yes
	image_directory=$root/x86
	read_architecture
	find_qemu
	run_selected_tests
}

main "$@"
