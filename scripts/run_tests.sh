#!/usr/bin/env bash
# run_tests.sh: runs the sections of x86/unittests.cfg, in parallel, and
# prints one result line each and a SUMMARY.  See docs/runner.md.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runner=$root/scripts/runner
# shellcheck source=scripts/runner/config.sh
. "$runner/config.sh"
# shellcheck source=scripts/runner/errata.sh
. "$runner/errata.sh"
# shellcheck source=scripts/runner/qemu.sh
. "$runner/qemu.sh"
# shellcheck source=scripts/runner/outcome.sh
. "$runner/outcome.sh"
# shellcheck source=scripts/runner/test.sh
. "$runner/test.sh"
# shellcheck source=scripts/runner/report.sh
. "$runner/report.sh"

usage() {
	cat <<EOF
Usage: ./run_tests.sh [-h] [-v] [-a] [-g GROUP]... [-j N] [-t] [-l] [-J FILE]
                      [-f CFG] [-E ERRATA] [-S] [TEST]...
Runs the tests of x86/unittests.cfg (or just the TESTs named) and prints
PASS/FAIL/SKIP name (detail) for each, then
SUMMARY: N passed, N failed, N skipped.  Logs go to logs/<test>.log.

  -h        this help
  -v        print each QEMU command and the accelerator probe
  -a        also run the sections in group nodefault
  -g GROUP  only run sections in GROUP (repeatable: any of them)
  -j N      run N tests at once (default: $(nproc) = the CPUs here)
  -t        print TAP13 instead of result lines
  -l        list the selected tests, run nothing
  -J FILE   also write a JUnit XML report to FILE
  -f CFG    read CFG instead of x86/unittests.cfg
  -E ERRATA read ERRATA instead of x86/errata.txt
  -S        strict: an erratum that matched no check is a failure

Environment: QEMU (binary), ACCEL (kvm|tcg), MACHINE (microvm|pc|q35|qboot),
TIMEOUT (seconds, or like 90s or 2m), QEMU_EXTRA (words added to every QEMU).
Exit status: 0 when nothing failed, 1 when something did, 2 on bad usage or
a bad configuration (nothing runs then).
EOF
}

usage_error() { # MESSAGE
	echo "run_tests.sh: $1 (-h for help)" >&2
	exit 2
}

parse_options() {
	local option
	verbose=no all=no tap=no list=no strict=no junit="" jobs=$(nproc) config=$root/x86/unittests.cfg
	errata_file=$root/x86/errata.txt
	groups=()
	while getopts "hvag:j:tlJ:f:E:S" option; do
		case $option in
		h) usage; exit 0 ;;
		v) verbose=yes ;;
		a) all=yes ;;
		g) groups+=("$OPTARG") ;;
		j) [[ $OPTARG =~ ^[1-9][0-9]*$ ]] || usage_error "-j wants a positive number"; jobs=$OPTARG ;;
		t) tap=yes ;;
		l) list=yes ;;
		J) junit=$OPTARG ;;
		f) config=$OPTARG ;;
		E) errata_file=$OPTARG ;;
		S) strict=yes ;;
		*) usage_error "unknown option" ;;
		esac
	done
	shift $((OPTIND - 1))
	requested_tests=("$@")
}

check_environment() {
	[ -z "${ACCEL:-}" ] || is_word_in "$ACCEL" "kvm tcg" || usage_error "ACCEL must be kvm or tcg"
	[ -z "${MACHINE:-}" ] || is_word_in "$MACHINE" "$config_machines" ||
		usage_error "MACHINE must be one of: $config_machines"
	[ -z "${TIMEOUT:-}" ] || [[ $TIMEOUT =~ ^[0-9]+(\.[0-9]+)?[smh]?$ ]] ||
		usage_error "TIMEOUT must be seconds (like 90, 90s or 2m)"
}

# Does section NAME belong to one of the -g groups (or are there none)?
in_requested_groups() { # NAME
	local group
	[ ${#groups[@]} -eq 0 ] && return 0
	for group in "${groups[@]}"; do
		is_word_in "$group" "$(field "$1" groups)" && return 0
	done
	return 1
}

# Fills selected_tests.  Named tests run even in nodefault; otherwise
# nodefault sections need -a or -g nodefault.  Typos exit 2.
select_tests() {
	local name group known_groups=""
	selected_tests=()
	for name in "${requested_tests[@]}"; do
		[ -n "${section_line[$name]+set}" ] || usage_error "unknown test '$name' (not in $config)"
	done
	for name in "${section_names[@]}"; do
		known_groups+=" $(field "$name" groups)"
	done
	for group in "${groups[@]}"; do
		is_word_in "$group" "$known_groups" || usage_error "no section of $config is in group '$group'"
	done
	for name in "${section_names[@]}"; do
		if [ ${#requested_tests[@]} -gt 0 ]; then
			is_word_in "$name" "${requested_tests[*]}" || continue
		elif [ "$all" = no ] && is_word_in nodefault "$(field "$name" groups)" &&
			! is_word_in nodefault "${groups[*]}"; then
			continue
		fi
		in_requested_groups "$name" && selected_tests+=("$name")
	done
}

# Every test program (x86/<test>.c) should have a section; say which lack one.
warn_unlisted_tests() {
	local source image name listed
	for source in "$root"/x86/*.c; do
		[ -e "$source" ] || continue
		image=$(basename "$source" .c) listed=no
		for name in "${section_names[@]}"; do
			[ "$(section_image "$name")" = "$image" ] && listed=yes && break
		done
		[ "$listed" = yes ] || echo "run_tests.sh: note: x86/$image.c has no section in $config" >&2
	done
}

# Probes KVM and every CPU model the selection needs, once, before the
# tests fork: their answers are then shared by all of them.
probe_once() {
	local name
	find_qemu || return 0
	for name in "${selected_tests[@]}"; do
		prepare_test "$name" >/dev/null 2>&1
	done
	[ "$verbose" = yes ] || return 0
	if [ "${kvm_available:-no}" = yes ]; then
		echo "${comment}KVM: yes ($kvm_identity)"
	else
		echo "${comment}KVM: no (${kvm_reason:-not needed})"
	fi
	for name in "${!cpu_probe_log[@]}"; do
		echo "${comment}-cpu ${name#*/} under KVM: ${cpu_probe_log[$name]}"
	done
}

# Runs test number INDEX in the background; its result lands in a file.
start_test() { # INDEX
	local index=$1 name=${selected_tests[$1]}
	(
		run_test "$name" "$root/logs/$name.log"
		printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$result_word" "$result_status" "$result_seconds" \
			"$result_detail" "$(sed -n 's/^command: //p' "$root/logs/$name.log")" \
			"${errata_used[*]}" "${errata_unused[*]}" >"$run_directory/result.$index"
	) &
	running_tests[$!]=$index
}

# Waits for any running test and reports it.
collect_test() {
	local finished index word status seconds detail command used="" unused=""
	wait -n -p finished
	index=${running_tests[$finished]}
	unset "running_tests[$finished]"
	if ! { read -r word && read -r status && read -r seconds && read -r detail && read -r command &&
		read -r used && read -r unused; } 2>/dev/null <"$run_directory/result.$index"; then
		word=FAIL seconds=0 command="" used="" unused=""
		detail="the runner's worker for this test died; see logs/${selected_tests[$index]}.log"
	fi
	note_errata_use "$used" "$unused"
	report_test "${selected_tests[$index]}" "$word" "$seconds" "$detail" "$command"
}

report_test() { # NAME WORD SECONDS DETAIL COMMAND [LOG]
	local name=$1 word=$2 seconds=$3 detail=$4 command=$5 log=${6-$root/logs/$1.log}
	reported=$((reported + 1))
	case $word in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	[ "$verbose" = yes ] && [ -n "$command" ] && echo "$comment$command"
	if [ "$tap" = yes ]; then
		print_tap_line "$reported" "$word" "$name" "$detail"
	else
		print_result_line "$word" "$name" "$detail"
	fi
	[ -n "$junit" ] && junit_test_case "$word" "$name" "$detail" "$seconds" "$log" \
		>>"$run_directory/junit"
}

# Remembers which errata a section used and left unused (entry numbers).
note_errata_use() { # USED UNUSED
	local index
	for index in $1; do erratum_used[$index]=1; done
	for index in $2; do erratum_unused[$index]=1; done
}

# An erratum is unused when a section that ran its test said so and no
# section used it: a stale entry would otherwise hide nothing and rot.
# Prints one line each (a FAIL under -S) and keeps them for JUnit.
report_unused_errata() {
	local index
	unused_errata=()
	for index in "${!errata_line[@]}"; do
		if [ -z "${erratum_unused[$index]+set}" ] || [ -n "${erratum_used[$index]+set}" ]; then
			continue
		fi
		describe_erratum "$index"
		unused_errata+=("unused erratum $erratum_description")
		if [ "$strict" = yes ]; then
			report_test errata FAIL 0 "unused erratum $erratum_description" "" ""
		else
			echo "${comment}unused erratum $erratum_description"
		fi
	done
}

write_junit() { # WALL_SECONDS
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuites tests="%d" failures="%d" skipped="%d" time="%s">\n' \
			"$reported" "$failed" "$skipped" "$1"
		printf ' <testsuite name="canon" tests="%d" failures="%d" skipped="%d" time="%s">\n' \
			"$reported" "$failed" "$skipped" "$1"
		junit_properties "${unused_errata[@]}"
		[ -r "$run_directory/junit" ] && cat "$run_directory/junit"
		echo ' </testsuite>'
		echo '</testsuites>'
	} >"$junit"
}

# PATH as messages show it: x86/errata.txt inside the tree, else as given.
relative_to_root() { # PATH
	local path=$1
	[[ $path == /* ]] || path=$PWD/$path
	if [[ $path == "$root/"* ]]; then printf '%s' "${path#"$root/"}"; else printf '%s' "$1"; fi
}

cleanup() {
	stop_running_qemus
	[ -n "${running_tests[*]:-}" ] && kill "${!running_tests[@]}" 2>/dev/null
	[ -n "${run_directory:-}" ] && rm -rf "$run_directory"
}

run_selected_tests() {
	local index start=$EPOCHREALTIME
	declare -gA running_tests=() erratum_used=() erratum_unused=()
	reported=0 passed=0 failed=0 skipped=0
	for index in "${!selected_tests[@]}"; do
		while [ ${#running_tests[@]} -ge "$jobs" ]; do collect_test; done
		start_test "$index"
	done
	while [ ${#running_tests[@]} -gt 0 ]; do collect_test; done
	report_unused_errata
	[ "$tap" = yes ] && printf '1..%d\n' "$reported"
	[ -n "$junit" ] && write_junit "$(elapsed_since "$start")"
	printf '%sSUMMARY: %d passed, %d failed, %d skipped\n' "$comment" "$passed" "$failed" "$skipped"
	[ "$failed" -eq 0 ]
}

main() {
	if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501)); then
		echo "run_tests.sh: needs bash 5.1 or later (wait -n -p), this is $BASH_VERSION" >&2
		exit 2
	fi
	parse_options "$@"
	check_environment
	parse_config "$config" || exit 2
	parse_errata "$errata_file" "$(relative_to_root "$errata_file")" || exit 2
	select_tests
	[ "$config" = "$root/x86/unittests.cfg" ] && warn_unlisted_tests
	if [ "$list" = yes ]; then
		[ ${#selected_tests[@]} -eq 0 ] || printf '%s\n' "${selected_tests[@]}"
		exit 0
	fi
	image_directory=$root/x86
	run_directory=$(mktemp -d "${TMPDIR:-/tmp}/canon-run.XXXXXX") || exit 2
	running_group_directory=$run_directory/groups
	TMPDIR=$run_directory # the tests' scratch files go where cleanup looks
	mkdir -p "$running_group_directory" "$root/logs"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	comment="" # what starts a line that is not a result: "# " in TAP
	[ "$tap" = yes ] && comment="# "
	setup_colours "$([ "$tap" = yes ] && echo no || echo yes)"
	ARCH=$(sed -n 's/^ARCH=//p' "$root/config.mak" 2>/dev/null)
	[ "$tap" = yes ] && printf 'TAP version 13\n'
	probe_once
	run_selected_tests
}

main "$@"
