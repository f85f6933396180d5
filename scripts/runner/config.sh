# shellcheck shell=bash
# config.sh: reads x86/unittests.cfg (sourced, not run); errata.sh reads
# x86/errata.txt with the helpers here.
#
# The cfg is kvm-unit-tests' format: "[name]" starts a section, "key = value"
# lines fill it, a line starting with "#" is a comment ("#GP" may appear in
# values, so a "#" later in a line is kept).  Parsing fills:
#   section_names   the section names, in file order
#   section_field   ["name/key"] = value, for every key the section sets
#   section_line    ["name"] = line number of its "[name]" header
# Every mistake is printed as FILE:LINE: message; the caller decides to stop.

config_keys="file smp extra_params qemu_params test_args groups arch accel timeout check machine expect"
config_machines="microvm pc q35 qboot"

declare -a section_names=()
declare -A section_field=()
declare -A section_line=()
# What read_meaningful_lines read last.
declare -a config_lines=() config_line_numbers=()
config_error_count=0

config_error() { # FILE LINE MESSAGE...
	local file=$1 line=$2
	shift 2
	echo "$file:$line: $*" >&2
	config_error_count=$((config_error_count + 1))
}

# Sets the variable named VARIABLE to TEXT without leading and trailing
# blanks.  An assignment, not a $(...): no subshell for every line read.
trim_into() { # VARIABLE TEXT
	local -n trim_target_=$1
	local trim_text_=$2
	trim_text_=${trim_text_#"${trim_text_%%[![:space:]]*}"}
	# shellcheck disable=SC2034  # a nameref: this sets the caller's variable
	trim_target_=${trim_text_%"${trim_text_##*[![:space:]]}"}
}

# The lines of FILE that say something, trimmed, in config_lines, and their
# line numbers in config_line_numbers: blank lines and "#" comments are
# dropped, as both the cfg and the errata file define them.
read_meaningful_lines() { # FILE
	local raw line number=0
	config_lines=() config_line_numbers=()
	while IFS= read -r raw || [ -n "$raw" ]; do
		number=$((number + 1))
		trim_into line "$raw"
		if [ -n "$line" ] && [[ $line != "#"* ]]; then
			config_lines+=("$line")
			config_line_numbers+=("$number")
		fi
	done <"$1"
}

is_word_in() { # WORD LIST: is WORD one of the blank-separated LIST?
	[[ " $2 " == *" $1 "* ]]
}

# One value's own rules, so that a typo fails here and not at run time.
check_config_value() { # FILE LINE KEY VALUE
	local file=$1 line=$2 key=$3 value=$4
	case $key in
	smp)
		[[ $value =~ ^[1-9][0-9]*$ ]] || config_error "$file" "$line" "smp must be a positive number, not '$value'" ;;
	timeout)
		[[ $value =~ ^[0-9]+(\.[0-9]+)?[smh]?$ ]] ||
			config_error "$file" "$line" "timeout must be seconds (like 90 or 90s, 2m), not '$value'" ;;
	accel)
		is_word_in "$value" "kvm tcg" || config_error "$file" "$line" "accel must be kvm or tcg, not '$value'" ;;
	machine)
		is_word_in "$value" "$config_machines" ||
			config_error "$file" "$line" "machine must be one of: $config_machines; not '$value'" ;;
	expect)
		is_word_in "$value" "pass fail skip" ||
			config_error "$file" "$line" "expect must be pass, fail or skip, not '$value'" ;;
	extra_params)
		[[ " $value " != *" -append "* ]] ||
			config_error "$file" "$line" "put the guest's words in test_args, not -append in extra_params" ;;
	check)
		local condition
		for condition in $value; do
			[[ $condition == /*=* ]] ||
				config_error "$file" "$line" "check wants PATH=VALUE words with absolute paths, not '$condition'"
		done ;;
	esac
}

# Stores one "key = value" line of section NAME.
add_config_field() { # FILE LINE NAME KEY VALUE
	local file=$1 line=$2 name=$3 key=$4 value=$5
	[ "$key" = qemu_params ] && key=extra_params
	if ! is_word_in "$key" "$config_keys"; then
		config_error "$file" "$line" "unknown key '$key' (known: $config_keys)"
		return
	fi
	if [ -n "${section_field[$name/$key]+set}" ]; then
		config_error "$file" "$line" "'$key' is set twice in section [$name]"
		return
	fi
	check_config_value "$file" "$line" "$key" "$value"
	section_field[$name/$key]=$value
}

# Starts section NAME; returns 1 if it cannot be used.
add_config_section() { # FILE LINE NAME
	local file=$1 line=$2 name=$3
	if [[ ! $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
		config_error "$file" "$line" "bad section name '[$name]' (letters, digits, '_', '.', '-')"
		return 1
	fi
	if [ -n "${section_line[$name]+set}" ]; then
		config_error "$file" "$line" "duplicate section [$name], first at line ${section_line[$name]}"
		return 1
	fi
	section_line[$name]=$line
	section_names+=("$name")
}

parse_config() { # FILE: fills the section arrays; returns 1 on any error
	local file=$1 index line_number line name="" key value errors_before=$config_error_count
	if [ ! -r "$file" ]; then
		echo "$file: cannot read the test configuration" >&2
		return 1
	fi
	read_meaningful_lines "$file"
	for index in "${!config_lines[@]}"; do
		line=${config_lines[$index]} line_number=${config_line_numbers[$index]}
		if [[ $line =~ ^\[(.*)\]$ ]]; then
			name=${BASH_REMATCH[1]}
			add_config_section "$file" "$line_number" "$name" || name="-"
		elif [[ $line =~ ^([A-Za-z_]+)[[:space:]]*=(.*)$ ]]; then
			key=${BASH_REMATCH[1]}
			trim_into value "${BASH_REMATCH[2]}"
			if [ -z "$name" ]; then
				config_error "$file" "$line_number" "'$key' comes before any [section]"
			elif [ "$name" != "-" ]; then
				add_config_field "$file" "$line_number" "$name" "$key" "$value"
			fi
		else
			config_error "$file" "$line_number" "not a [section] or a 'key = value' line: $line"
		fi
	done
	for name in "${section_names[@]}"; do
		[ -n "${section_field[$name/file]:-}" ] ||
			config_error "$file" "${section_line[$name]}" "section [$name] has no 'file'"
	done
	[ "$config_error_count" -eq "$errors_before" ]
}

# The image a section boots, without directory or suffix: "selftest".
section_image() { # NAME
	local file=${section_field[$1/file]}
	printf '%s' "${file%.flat}"
}
