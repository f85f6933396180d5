#!/usr/bin/env bash
# bench.sh: how long canon's images take from QEMU's start to its exit, per
# accelerator and machine type; what the runner adds to one test; and how
# long a whole ./run_tests.sh takes.  A benchmark, not a test: it prints
# tables and fails only if it cannot run.
#
#   scripts/bench.sh [-n RUNS] [-a "kvm tcg"] [-m "microvm qboot pc"] [-S] [-O] [-E ERRATA] [IMAGE...]
#   -n RUNS    boots per image, accelerator and machine (default 10)
#   -a, -m     which accelerators and machines (default: all there are)
#   -S         skip the whole-suite timing
#   -O         only the runner's overhead (./run_tests.sh against QEMU alone)
#   -E ERRATA  boot with ERRATA instead of x86/errata.txt
#   IMAGE      names like selftest (default: every x86/*.flat)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/runner/config.sh
. "$root/scripts/runner/config.sh"
# shellcheck source=scripts/runner/errata.sh
. "$root/scripts/runner/errata.sh"
# shellcheck source=scripts/runner/qemu.sh
. "$root/scripts/runner/qemu.sh"
# shellcheck source=scripts/runner/bochs.sh
. "$root/scripts/runner/bochs.sh"
# shellcheck source=scripts/runner/outcome.sh
. "$root/scripts/runner/outcome.sh"
# shellcheck source=scripts/runner/test.sh
. "$root/scripts/runner/test.sh"

overhead_runs=7 # the median of 7, as issue 14 asks

parse_options() {
	local option image
	runs=10 accelerators="" machines="microvm qboot pc q35" suite=yes overhead_only=no
	errata_file=$root/x86/errata.txt
	while getopts "n:a:m:SOE:h" option; do
		case $option in
		n) runs=$OPTARG ;;
		a) accelerators=$OPTARG ;;
		m) machines=$OPTARG ;;
		S) suite=no ;;
		O) overhead_only=yes ;;
		E) errata_file=$OPTARG ;;
		*) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 2 ;;
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

# The median in milliseconds of the seconds on stdin, one a line.
median() {
	sort -n | awk '{ value[NR] = $1 * 1000 }
		END { printf "%.1f", (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'
}

# Boots IMAGE RUNS times under ACCEL and MACHINE, as the runner would; prints
# one table row.  A boot that does not pass is counted and shown.
bench_row() { # IMAGE ACCELERATOR MACHINE
	local image=$1 failures=0 run times=""
	section_field[bench-$image/file]=$image.flat # no cfg words: the bare image
	ACCEL=$2 MACHINE=$3
	if ! prepare_test "bench-$image"; then
		printf '%-12s %-8s %-8s %s\n' "$image" "$2" "$3" "$result_word: $result_detail"
		return
	fi
	for ((run = 0; run < runs; run++)); do
		launch_qemu "$test_timeout_microseconds" "$bench_directory/serial"
		classify_boot "$test_timeout_microseconds" "$bench_directory/serial" ""
		[ "$outcome_kind" = pass ] || [ "$outcome_kind" = skip ] || failures=$((failures + 1))
		times+="$launch_seconds"$'\n'
	done
	printf '%-12s %-8s %-8s %s' "$image" "$test_identity" "$3" "$(printf '%s' "$times" | statistics)"
	[ "$failures" -eq 0 ] && echo || echo "   ($failures of $runs runs did not pass: $outcome_detail)"
}

# Seconds that COMMAND... takes, in elapsed_seconds; its output is dropped.
time_command() { # COMMAND...
	local start=$EPOCHREALTIME
	"$@" </dev/null >/dev/null 2>&1
	elapsed_since "$start"
}

# What the runner adds to one test: ./run_tests.sh selftest under TCG
# against the very QEMU command it runs (read from x86/unittests.cfg the
# same way), taken in turns so that both see the same load; then
# ./run_tests.sh -l.  Medians of 7 runs.
bench_overhead() {
	local run runner="" bare="" list="" runner_median bare_median list_median
	parse_config "$root/x86/unittests.cfg" x86/unittests.cfg || exit 2
	ACCEL=tcg MACHINE="" TIMEOUT=""
	if ! prepare_test selftest; then
		echo "runner overhead: cannot prepare [selftest]: $result_detail"
		return
	fi
	for ((run = 0; run < overhead_runs; run++)); do
		ACCEL=tcg time_command "$root/run_tests.sh" -E "$errata_file" selftest
		runner+="$elapsed_seconds"$'\n'
		time_command "${qemu_command[@]}"
		bare+="$elapsed_seconds"$'\n'
		time_command "$root/run_tests.sh" -E "$errata_file" -l
		list+="$elapsed_seconds"$'\n'
	done
	runner_median=$(printf '%s' "$runner" | median)
	bare_median=$(printf '%s' "$bare" | median)
	list_median=$(printf '%s' "$list" | median)
	echo "runner overhead, median of $overhead_runs runs, milliseconds (TCG, [selftest])"
	printf '  %-36s %8s\n' "./run_tests.sh selftest" "$runner_median" "its QEMU command alone" "$bare_median"
	awk -v runner="$runner_median" -v bare="$bare_median" 'BEGIN {
		printf "  %-36s %8.1f   (ratio %.2f; target: at most 30 ms added)\n",
			"added by the runner", runner - bare, runner / bare }'
	printf '  %-36s %8s   (target: under 50 ms)\n' "./run_tests.sh -l" "$list_median"
}

# Wall time of one whole ./run_tests.sh, as make check runs it (ACCEL unset)
# or under one accelerator.
bench_suite() { # ACCELERATOR-OR-EMPTY
	local start summary
	start=$EPOCHREALTIME
	summary=$(ACCEL=$1 "$root/run_tests.sh" -E "$errata_file" 2>/dev/null | tail -n 1)
	elapsed_since "$start"
	printf '%-32s %6.2f s   %s\n' "${1:+ACCEL=$1 }./run_tests.sh" "$elapsed_seconds" "$summary"
}

main() {
	local image accelerator machine
	parse_options "$@"
	export LC_NUMERIC=C # the decimal point in printf %f
	image_directory=$root/x86
	# Boots as the runner does, errata included, so known disagreements
	# do not show up as failed boots.
	parse_errata "$errata_file" || exit 2
	find_qemu || { echo "bench.sh: $qemu_missing_reason" >&2; exit 2; }
	bench_directory=$(mktemp -d "${TMPDIR:-/tmp}/canon-bench.XXXXXX") || exit 2
	running_group_directory=$bench_directory
	trap 'stop_running_qemus; rm -rf "$bench_directory"' EXIT
	trap 'exit 130' INT
	echo "$(nproc) CPUs, $("$qemu_binary" --version | head -n 1)"
	bench_overhead
	[ "$overhead_only" = no ] || return 0
	probe_kvm
	if [ -z "$accelerators" ]; then
		accelerators=tcg
		[ "$kvm_available" = yes ] && accelerators="kvm tcg"
	fi
	echo
	echo "boot to exit, $runs runs each, milliseconds"
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
