# shellcheck shell=bash disable=SC2034 # the colours are read by name
# report.sh: how results are shown: plain lines, TAP13 and JUnit XML (sourced).

# Colours only when a person is watching a terminal that has them.
setup_colours() { # WANTED (yes/no)
	colour_PASS="" colour_FAIL="" colour_SKIP="" colour_reset=""
	if [ "$1" = yes ] && [ -t 1 ] && [ "${TERM:-dumb}" != dumb ]; then
		colour_PASS=$'\e[32m' colour_FAIL=$'\e[31m' colour_SKIP=$'\e[33m' colour_reset=$'\e[0m'
	fi
}

# "PASS name (12 tests)", the word coloured when setup_colours allowed it.
print_result_line() { # WORD NAME DETAIL
	local colour_name=colour_$1
	printf '%s%s%s %s (%s)\n' "${!colour_name:-}" "$1" "${colour_reset:-}" "$2" "$3"
}

# TAP13: "ok 3 - name (detail)", "not ok", or "ok 3 - name # SKIP detail".
print_tap_line() { # NUMBER WORD NAME DETAIL
	case $2 in
	PASS) printf 'ok %d - %s (%s)\n' "$1" "$3" "$4" ;;
	SKIP) printf 'ok %d - %s # SKIP %s\n' "$1" "$3" "$4" ;;
	*) printf 'not ok %d - %s (%s)\n' "$1" "$3" "$4" ;;
	esac
}

# Text that XML 1.0 accepts: no control characters but tab and newline, no
# bytes outside ASCII (a guest may print anything), and escaped markup.
xml_text() {
	LC_ALL=C tr -d '\000-\010\013-\037' | LC_ALL=C tr '\200-\377' '?' |
		sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

xml_value() { # TEXT
	printf '%s' "$1" | xml_text
}

# One <testcase>; LOG's contents become its system-out.
junit_test_case() { # WORD NAME DETAIL SECONDS LOG
	local word=$1 name=$2 detail=$3 seconds=$4 log=$5
	printf '  <testcase classname="canon.x86" name="%s" time="%s">\n' "$(xml_value "$name")" "$seconds"
	case $word in
	FAIL) printf '   <failure message="%s"/>\n' "$(xml_value "$detail")" ;;
	SKIP) printf '   <skipped message="%s"/>\n' "$(xml_value "$detail")" ;;
	esac
	if [ -r "$log" ]; then
		printf '   <system-out>'
		xml_text <"$log"
		printf '</system-out>\n'
	fi
	printf '  </testcase>\n'
}

# The test suite's <properties>: "interrupted" when INTERRUPTION is set,
# and one "unused-erratum" per UNUSED.
junit_properties() { # INTERRUPTION UNUSED...
	local interruption=$1 value
	shift
	[ -n "$interruption" ] || [ $# -gt 0 ] || return 0
	printf '  <properties>\n'
	[ -n "$interruption" ] && printf '   <property name="interrupted" value="%s"/>\n' "$(xml_value "$interruption")"
	for value in "$@"; do
		printf '   <property name="unused-erratum" value="%s"/>\n' "$(xml_value "$value")"
	done
	printf '  </properties>\n'
}
