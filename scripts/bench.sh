#!/usr/bin/env bash
# bench.sh: how long canon's images take from QEMU's start to its exit, per
# accelerator and machine type, and how long a whole ./run_tests.sh takes.
# A benchmark, not a test: it prints a table and fails only if a boot does.
#
#   scripts/bench.sh [-n RUNS] [-a "kvm tcg"] [-m "microvm qboot pc"] [-S] [IMAGE...]
#   -n RUNS   boots per image, accelerator and machine (default 10)
#   -a, -m    which accelerators and machines (default: all there are)
#   -S        skip the whole-suite timing
#   IMAGE     names like selftest (default: every x86/*.flat)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/runner/config.sh
. "$root/scripts/runner/config.sh"
# shellcheck source=scripts/runner/errata.sh
. "$root/scripts/runner/errata.sh"
# shellcheck source=scripts/runner/qemu.sh
. "$root/scripts/runner/qemu.sh"
# shellcheck source=scripts/runner/outcome.sh
. "$root/scripts/runner/outcome.sh"
# shellcheck source=scripts/runner/test.sh
. "$root/scripts/runner/test.sh"

parse_options() {
	local option
	runs=10 accelerators="" machines="microvm qboot pc q35" suite=yes
	while getopts "n:a:m:Sh" option; do
		case $option in
		n) runs=$OPTARG ;;
		a) accelerators=$OPTARG ;;
		m) machines=$OPTARG ;;
		S) suite=no ;;
		*) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	images=("$@")
	if [ ${#images[@]} -eq 0 ]; then
		for image in "$root"/x86/*.flat; do
			[ -e "$image" ] && images+=("$(basename "$image" .flat)")
		done
	fi
	[ ${#images[@]} -gt 0 ] || { echo "bench.sh: no x86/*.flat: run make first" >&2; exit 2; }
}

# min, median and max in milliseconds of the seconds on stdin, one a line.
statistics() {
	sort -n | awk '{ value[NR] = $1 * 1000 }
		END {
			middle = (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2
			printf "%8.1f %8.1f %8.1f", value[1], middle, value[NR] }'
}

# Boots IMAGE RUNS times under ACCEL and MACHINE, as the runner would; prints
# one table row.  A boot that does not pass is counted and shown.
bench_row() { # IMAGE ACCELERATOR MACHINE
	local image=$1 failures=0 run times="" work
	section_field[$image/file]=$image.flat
	ACCEL=$2 MACHINE=$3
	if ! prepare_test "$image"; then
		printf '%-12s %-8s %-8s %s\n' "$image" "$2" "$3" "$result_word: $result_detail"
		return
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/canon-bench.XXXXXX")
	for ((run = 0; run < runs; run++)); do
		launch_qemu "$(timeout_seconds "$test_timeout")" "$work/serial" "$work/stderr"
		classify_boot "$(timeout_seconds "$test_timeout")" "$work/serial" "$work/stderr" ""
		[ "$outcome_kind" = pass ] || [ "$outcome_kind" = skip ] || failures=$((failures + 1))
		times+="$launch_seconds"$'\n'
	done
	rm -rf "$work"
	printf '%-12s %-8s %-8s %s' "$image" "$test_identity" "$3" "$(printf '%s' "$times" | statistics)"
	[ "$failures" -eq 0 ] && echo || echo "   ($failures of $runs runs did not pass: $outcome_detail)"
}

# Wall time of one whole ./run_tests.sh, as make check runs it (ACCEL unset)
# or under one accelerator.
bench_suite() { # ACCELERATOR-OR-EMPTY
	local start summary seconds
	start=$EPOCHREALTIME
	summary=$(ACCEL=$1 "$root/scripts/run_tests.sh" 2>/dev/null | tail -n 1)
	seconds=$(elapsed_since "$start")
	printf '%-32s %6.2f s   %s\n' "${1:+ACCEL=$1 }./run_tests.sh" "$seconds" "$summary"
}

main() {
	local image accelerator machine
	parse_options "$@"
	export LC_NUMERIC=C # the decimal point in printf %f
	image_directory=$root/x86
	# Boots as the runner does, errata included, so known disagreements
	# do not show up as failed boots.
	parse_errata "$root/x86/errata.txt" x86/errata.txt || exit 2
	find_qemu || { echo "bench.sh: $qemu_missing_reason" >&2; exit 2; }
	probe_kvm
	if [ -z "$accelerators" ]; then
		accelerators=tcg
		[ "$kvm_available" = yes ] && accelerators="kvm tcg"
	fi
	bench_directory=$(mktemp -d "${TMPDIR:-/tmp}/canon-bench.XXXXXX") || exit 2
	running_group_directory=$bench_directory/groups
	mkdir "$running_group_directory" || exit 2
	TMPDIR=$bench_directory # scratch files go where the exit trap looks
	trap 'stop_running_qemus; rm -rf "$bench_directory"' EXIT
	trap 'exit 130' INT
	echo "boot to exit, $runs runs each, milliseconds ($(nproc) CPUs, $("$qemu_binary" --version | head -n 1))"
	printf '%-12s %-8s %-8s %8s %8s %8s\n' image accel machine min median max
	for image in "${images[@]}"; do
		for accelerator in $accelerators; do
			for machine in $machines; do
				bench_row "$image" "$accelerator" "$machine"
			done
		done
	done
	[ "$suite" = yes ] || return 0
	echo
	echo "whole suite, wall time"
	bench_suite ""
	for accelerator in $accelerators; do
		bench_suite "$accelerator"
	done
}

main "$@"
