# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with run_tests.sh
# compare.sh: run_tests.sh --compare ACCEL,ACCEL... (sourced).
#
# Runs each selected test on each implementation named, with the errata
# switched off, and prints every check whose result differs between them:
# the check (its printed name states the expectation), the expected
# outcome where a guest printed it, and each implementation's outcome.
# This is how a hypervisor developer sees what their implementation does
# differently from two others without writing an expectation.  The
# guest's lines give the outcomes: "PASS: NAME" (the expected outcome),
# "FAIL: NAME" after "INFO: NAME: expected X; got Y" (X and Y), and
# "SKIP: NAME".  compare.awk reads them all at the end, in one process.

compare_awk=${BASH_SOURCE[0]%/*}/compare.awk

# Reads --compare's LIST ("kvm,tcg,bochs:ryzen") into compare_labels,
# compare_accelerators and compare_models, and refuses what cannot go with
# it.  Exits 2 on a mistake, as a usage error.
check_comparison_options() {
	local item accelerator model
	local -a items
	local -A seen=()
	compare_labels=() compare_accelerators=() compare_models=()
	if [ -z "$compare_list" ]; then
		[ -z "$compare_out" ] || usage_error "--compare-out needs --compare"
		return 0
	fi
	[ -z "${ACCEL:-}" ] || usage_error "--compare names the accelerators itself: unset ACCEL (it is '$ACCEL')"
	[ "$debug" = no ] || usage_error "-d and --compare do not go together"
	{ [ "$tap" = no ] && [ -z "$junit" ]; } || usage_error "--compare prints its own table: -t and -J do not go with it"
	[ "$strict" = no ] || usage_error "--compare switches the errata off: -S means nothing there"
	IFS=, read -r -a items <<<"$compare_list"
	for item in "${items[@]}"; do
		accelerator=${item%%:*} model=""
		[[ $item == *:* ]] && model=${item#*:}
		is_word_in "$accelerator" "$config_accelerators" ||
			usage_error "--compare: '$item' is not kvm, tcg or bochs (optionally :MODEL, like bochs:ryzen)"
		[[ $item != *:* || $model =~ ^[A-Za-z0-9_.=+-]+$ ]] ||
			usage_error "--compare: '$item': MODEL is one CPU model name, like bochs:ryzen or tcg:Icelake-Server"
		[ -z "${seen[$item]+set}" ] || usage_error "--compare: '$item' is named twice"
		seen[$item]=1
		compare_labels+=("$item") compare_accelerators+=("$accelerator") compare_models+=("$model")
	done
	[ ${#compare_labels[@]} -ge 2 ] || usage_error "--compare needs two implementations or more, like kvm,tcg,bochs"
}

# Before the runs: errata off, the scratch directory made (the serial logs
# stay there until the table is read), and the TSV file writable.
prepare_comparison() {
	errata_switched_off=yes
	if [ -n "$compare_out" ] && { [ -d "$compare_out" ] || ! { : >"$compare_out"; } 2>/dev/null; }; then
		output_error "cannot write the comparison to $compare_out"
	fi
	run_directory=$(mktemp -d "${TMPDIR:-/tmp}/canon-run.XXXXXX") || exit 2
	running_group_directory=$run_directory
}

# After the runs: one line per run for compare.awk (section, which
# implementation, the serial log, what became of the run), the table, the
# counts, and the exit status: 0 when every check agrees, 1 when some
# differ, 2 when no two implementations ran anything.
finish_comparison() {
	local index implementation runs=$run_directory/comparison-runs status
	{
		for index in "${!run_names[@]}"; do
			implementation=$((index % ${#compare_labels[@]}))
			printf '%s\t%s\t%s\t%s\n' "${run_sections[index]}" "$implementation" \
				"$run_directory/$index.serial" "${run_states[index]:-not run}"
		done
	} >"$runs"
	echo
	awk -v labels="${compare_labels[*]}" -v tsv="$compare_out" -f "$compare_awk" "$runs"
	status=$?
	[ "$output_failed" = yes ] && echo "run_tests.sh: some results could not be written" >&2
	exit "$status"
}
