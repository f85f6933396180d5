# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with the other runner files
# errata.sh: reads x86/errata.txt (through errata.awk), writes the guest's
# errata= word, and maps the guest's ERRATA line back to lines of the file
# (sourced).  docs/runner.md says why the format is what it is.
#
# An entry is one line of seven '|'-separated fields:
#   accelerator [condition ...] | test | case | outcome | rule | other implementations | observed
# parse_errata fills, for entry number i (0, 1, ... in file order):
#   errata_line[i]        its line number in the file
#   errata_accelerator[i] tcg, kvm, kvm-pvm or bochs
#   errata_conditions[i]  the condition words ("intel 5-level"), maybe none
#   errata_test[i]        the image name ("canonical")
#   errata_pattern[i]     the case pattern ("sysretq-gp-0-*", "~pop-pf-x")
#   errata_outcomes[i]    the outcomes as slugs, joined by '/' ("gp-0/none")
# and errata_by_test[TEST], the numbers of TEST's entries ("3 4 9").

declare -a errata_line=() errata_accelerator=() errata_conditions=() errata_test=()
declare -a errata_pattern=() errata_outcomes=()
declare -A errata_by_test=()
errata_file_name=x86/errata.txt # how messages name the file
errata_awk=${BASH_SOURCE[0]%/*}/errata.awk # no $(dirname): sourcing forks nothing
words_awk=${BASH_SOURCE[0]%/*}/words.awk    # also set by config.sh; slug.sh sources only this file

# Reads FILE with errata.awk, which checks every field and prints the
# arrays above as bash assignments.
parse_errata() { # FILE [NAME]: NAME is how messages call FILE; returns 1 on any error
	local file=$1 assignments
	errata_file_name=${2:-$1}
	if [ ! -f "$file" ] || [ ! -r "$file" ]; then
		echo "$errata_file_name: cannot read the errata list" >&2
		return 1
	fi
	assignments=$(awk -v name="$errata_file_name" -f "$words_awk" -f "$errata_awk" "$file") || return 1
	eval "$assignments"
}

# parse_config and parse_errata in one awk process: one fork and exec less
# on every run of run_tests.sh (see config.awk).
parse_config_and_errata() { # CFG CFG-NAME ERRATA ERRATA-NAME; returns 1 on any error
	local assignments
	errata_file_name=$4
	if [ ! -f "$1" ] || [ ! -r "$1" ]; then
		echo "$2: cannot read the test configuration" >&2
		return 1
	fi
	if [ ! -f "$3" ] || [ ! -r "$3" ]; then
		echo "$4: cannot read the errata list" >&2
		return 1
	fi
	assignments=$(awk -v config_file="$1" -v config_name="$2" -v keys="$config_keys" \
		-v machines="$config_machines" -v accelerator_names="$config_accelerators" -v errata_follows=1 -v name="$4" \
		-f "$words_awk" -f "$config_awk" -f "$errata_awk" "$1" "$3") || return 1
	eval "$assignments"
}

# The slug of each NAME, one a line: how errata.awk and the guest's
# report_slug() turn a check's printed name into the form the list uses.
print_slugs() { # NAME...
	printf '%s\n' "$@" | awk -v slugs=1 -f "$words_awk" -f "$errata_awk"
}

# Does an erratum listed for ENTRY_ACCELERATOR apply under ACCELERATOR?  An
# entry for kvm applies to every KVM, one for kvm-pvm only to kvm_pvm's.
erratum_applies() { # ENTRY_ACCELERATOR ACCELERATOR
	[ "$1" = "$2" ] || { [ "$1" = kvm ] && [ "$2" = kvm-pvm ]; }
}

# The entries for TEST under ACCELERATOR, in file order: sets
# test_errata_indices and test_errata_word, the guest's command-line word
# "errata=E1,E2" with E = [~]PATTERN[*]=OUTCOME[/OUTCOME...][+CONDITION...]
# (empty when there are none).  The guest numbers the entries from 1.
select_errata() { # ACCELERATOR TEST
	local accelerator=$1 index entry word=""
	# shellcheck disable=SC2206 # entry numbers, split on purpose
	local -a candidates=(${errata_by_test[$2]:-})
	test_errata_indices=()
	for index in "${candidates[@]}"; do
		erratum_applies "${errata_accelerator[index]}" "$accelerator" || continue
		test_errata_indices+=("$index")
		entry=${errata_pattern[index]}=${errata_outcomes[index]}
		[ -n "${errata_conditions[index]}" ] && entry+=+${errata_conditions[index]// /+}
		word+=${word:+,}$entry
	done
	test_errata_word=${word:+errata=$word}
}

# Sets erratum_description to "x86/errata.txt:57 (kvm-pvm intel | canonical
# | sysretq-gp-0-*)": where the entry is, and what it says in short.
describe_erratum() { # INDEX
	local index=$1 accelerator_words=${errata_accelerator[$1]}
	[ -n "${errata_conditions[index]}" ] && accelerator_words+=" ${errata_conditions[index]}"
	printf -v erratum_description '%s:%s (%s | %s | %s)' "$errata_file_name" \
		"${errata_line[index]}" "$accelerator_words" "${errata_test[index]}" "${errata_pattern[index]}"
}

# Maps one list of the guest's ERRATA line ("1,3", positions in the errata=
# word it got) to entry numbers in the variable named VARIABLE.  A position
# the runner did not pass goes into errata_report_problems.
errata_positions_into() { # VARIABLE LIST
	local -n positions_target_=$1
	local position IFS=,
	# shellcheck disable=SC2206 # split at commas on purpose
	local -a positions=($2)
	positions_target_=()
	for position in "${positions[@]}"; do
		if [[ $position =~ ^[1-9][0-9]*$ ]] && [ "$position" -le ${#test_errata_indices[@]} ]; then
			positions_target_+=("${test_errata_indices[position - 1]}")
		else
			errata_report_problems+="the guest named position '$position', but got ${#test_errata_indices[@]} errata; "
		fi
	done
}

# Reads the guest's "ERRATA: used=LIST unused=LIST" (LINE, empty when the
# guest printed none) against the entries passed (test_errata_indices).
# Sets errata_used and errata_unused (entry numbers), errata_report_read
# (yes when the line could be read) and errata_report_problems (what the
# log should say, or empty).  A missing line is not a failure: a guest that
# crashed early has its own failure, and the entries stay undecided.
read_errata_report() { # LINE COUNT-OF-ERRATA-LINES
	local line=$1 count=$2 unused
	errata_used=() errata_unused=() errata_report_problems="" errata_report_read=no
	[ ${#test_errata_indices[@]} -gt 0 ] || [ "$count" -gt 0 ] || return 0
	if [ "$count" -eq 0 ]; then
		errata_report_problems="the guest got ${#test_errata_indices[@]} errata but printed no ERRATA line"
		return 0
	fi
	[ "$count" -gt 1 ] && errata_report_problems="the guest printed $count ERRATA lines, the last one counts; "
	if [[ ! $line =~ ^ERRATA:\ used=([0-9,]*)\ unused=([0-9,]*)$ ]]; then
		errata_report_problems+="cannot read the guest's ERRATA line: $line"
		return 0
	fi
	errata_report_read=yes
	unused=${BASH_REMATCH[2]} # before anything else matches
	errata_positions_into errata_used "${BASH_REMATCH[1]}"
	errata_positions_into errata_unused "$unused"
	errata_report_problems=${errata_report_problems%; }
}

# The log's account of the errata: what was passed and, once the guest has
# run (AFTER=yes) and read_errata_report has read its line, what became of
# each.
write_errata_log() { # AFTER
	local index position=0 state=""
	local -A used=() unused=()
	if [ ${#test_errata_indices[@]} -eq 0 ]; then
		echo "errata passed: none"
		return
	fi
	for index in "${errata_used[@]}"; do used[$index]=1; done
	for index in "${errata_unused[@]}"; do unused[$index]=1; done
	echo "errata passed (the guest numbers them from 1):"
	for index in "${test_errata_indices[@]}"; do
		position=$((position + 1))
		describe_erratum "$index"
		if [ "$1" = yes ] && [ "$errata_report_read" = yes ]; then
			state=" -- conditions did not hold"
			[ -n "${used[$index]+set}" ] && state=" -- used"
			[ -n "${unused[$index]+set}" ] && state=" -- UNUSED: matched no check"
		fi
		printf '  %d %s%s\n' "$position" "$erratum_description" "$state"
	done
	[ "$1" = yes ] && [ -n "$errata_report_problems" ] && echo "errata: $errata_report_problems"
	return 0
}
