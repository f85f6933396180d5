# shellcheck shell=bash disable=SC2034 # the arrays are read by the other runner files
# config.sh: reads x86/unittests.cfg (sourced, not run) through config.awk,
# which checks every line and prints the sections as bash assignments:
#   section_names   the section names, in file order
#   section_field   ["name/key"] = value, for every key the section sets
#   section_line    ["name"] = line number of its "[name]" header
# Every mistake is printed as FILE:LINE: message; the caller decides to stop.

config_keys="file smp extra_params qemu_params test_args groups arch accel cpu timeout check machine expect"
config_accelerators="kvm tcg bochs"
config_machines="microvm pc q35 qboot"
config_awk=${BASH_SOURCE[0]%/*}/config.awk # no $(dirname): sourcing forks nothing
words_awk=${BASH_SOURCE[0]%/*}/words.awk

declare -a section_names=()
declare -A section_field=()
declare -A section_line=()

is_word_in() { # WORD LIST: is WORD one of the blank-separated LIST?
	[[ " $2 " == *" $1 "* ]]
}

# Sets the variable named VARIABLE to TEXT without leading and trailing
# blanks.  An assignment, not a $(...): no subshell.
trim_into() { # VARIABLE TEXT
	local -n trim_target_=$1
	local trim_text_=$2
	trim_text_=${trim_text_#"${trim_text_%%[![:space:]]*}"}
	trim_target_=${trim_text_%"${trim_text_##*[![:space:]]}"}
}

parse_config() { # FILE [NAME]: NAME is how messages call FILE; returns 1 on any error
	local file=$1 assignments
	if [ ! -f "$file" ] || [ ! -r "$file" ]; then
		echo "${2:-$1}: cannot read the test configuration" >&2
		return 1
	fi
	assignments=$(awk -v config_file="$file" -v config_name="${2:-$1}" -v keys="$config_keys" \
		-v machines="$config_machines" -v accelerator_names="$config_accelerators" -f "$words_awk" -f "$config_awk" "$file") ||
		return 1
	eval "$assignments"
}

# A duration as cfg and environment give it ("90", "90s", "1.5m", "2h") in
# microseconds in the variable named VARIABLE; returns 1 when it is not
# one, or is 0 (there is no "never": only debugging waits forever).
duration_microseconds_into() { # VARIABLE VALUE
	local -n duration_target_=$1
	local value=$2 unit=1 whole fraction
	case $value in
	*s) value=${value%s} ;;
	*m) value=${value%m} unit=60 ;;
	*h) value=${value%h} unit=3600 ;;
	esac
	whole=${value%%.*} fraction=${value#"$whole"}
	fraction=${fraction#.}
	[[ -n $whole && $whole != *[!0-9]* && $fraction != *[!0-9]* && $value != *. ]] || return 1
	fraction=${fraction}000000
	duration_target_=$(((10#$whole * 1000000 + 10#${fraction:0:6}) * unit))
	[ "$duration_target_" -gt 0 ]
}

# Sets formatted_seconds to MICROSECONDS as seconds for messages: "90",
# "1.5".
format_seconds() { # MICROSECONDS
	local fraction
	printf -v fraction '%06d' $(($1 % 1000000))
	while [[ $fraction == *0 ]]; do fraction=${fraction%0}; done
	formatted_seconds=$(($1 / 1000000))${fraction:+.$fraction}
}
