# errata.awk: reads x86/errata.txt for errata.sh and prints the entries as
# bash array assignments; each mistake goes to stderr as FILE:LINE: message
# and makes the exit status 1.  One awk reads the list faster than bash can
# loop over its lines (about 1 ms against 20 ms), and the list is read on
# every run.  POSIX awk: Debian's default is mawk.
#
#   awk -v name=x86/errata.txt -f words.awk -f errata.awk FILE    the assignments
#   awk -v slugs=1 -f words.awk -f errata.awk                     the slug of each stdin line
#
# An entry is one line of seven '|'-separated fields:
#   accelerator [condition ...] | test | case | outcome | rule | other implementations | observed

BEGIN {
	FS = "|"
	words_to_set("tcg kvm kvm-pvm bochs", accelerators)
	# The guest evaluates the conditions from CPUID and its paging mode.
	words_to_set("intel amd 4-level 5-level linear-width-leaves-disagree", conditions)
	# Exceptions that push an error code (SDM Vol. 3A 6.15, APM Vol. 2
	# 8.2): the guest prints those with their code, "#GP(0)", and the
	# others without, "#UD".
	words_to_set("DF TS NP SS GP PF AC CP VC SX", with_code)
	words_to_set("DE DB BP OF BR UD NM MF MC XM VE HV", without_code)
	layout = "accelerator [condition ...] | test | case | outcome | rule | other implementations | observed"
	count = 0
}

# The rule of report_slug() in lib/report.c: lowercase, keep a-z and 0-9,
# every run of anything else becomes one '-', none at either end.
function slug(text) {
	text = tolower(text)
	gsub(/[^a-z0-9]+/, "-", text)
	gsub(/^-|-$/, "", text)
	return text
}

# Each mistake as FILE:LINE: message, the first 20 of them; END counts the
# rest, so that an old list does not bury the screen.
function error(message) {
	if (++errors <= 20)
		printf "%s:%d: %s\n", name, FNR, message > "/dev/stderr"
}

# What is wrong with one word of an outcome, or "" when it is one the guest
# can report: "none", "#UD", "#GP(0)", "#PF(0x15)" or "NAME=VALUE" ("ZF=0",
# "CS=0x33", "CR2=first-fault", "differs=P+RSVD": words joined by '+' or '-').  An error code is written as the guest
# prints it (0, or 0x and hex digits without leading zeros) so that its slug
# matches what the guest saw.
function outcome_mistake(word,    mnemonic) {
	if (word == "none" ||
	    word ~ /^[A-Za-z][A-Za-z0-9_.]*=(0|[1-9][0-9]*|0x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9+\/-]*)$/)
		return ""
	mnemonic = word
	sub(/^#/, "", mnemonic)
	sub(/\(.*/, "", mnemonic)
	if (word ~ /^#[A-Z]+$/ && (mnemonic in without_code))
		return ""
	if (word ~ /^#[A-Z]+$/ && (mnemonic in with_code))
		return "#" mnemonic " pushes an error code: write it, like #" mnemonic "(0)"
	if (word ~ /^#[A-Z]+\(.*\)$/ && (mnemonic in without_code))
		return "#" mnemonic " pushes no error code: write #" mnemonic
	if (word ~ /^#[A-Z]+\((0|0x[1-9a-fA-F][0-9a-fA-F]*)\)$/ && (mnemonic in with_code))
		return ""
	if (word ~ /^#[A-Z]+\(.*\)$/ && (mnemonic in with_code))
		return "write the error code as the guest prints it: 0, or 0x and hex digits without leading zeros"
	return "it is not none, an exception (#UD, #GP(0), #PF(0x15)) or NAME=VALUE (ZF=0, CS=0x33)"
}

# The accelerator and its conditions; sets where_accelerator and
# where_conditions, or names the mistake and returns 0.
function read_where(field,    list, n, i, seen) {
	n = split(trim(field), list, /[ \t]+/)
	if (n == 0 || !(list[1] in accelerators)) {
		error("accelerator must be one of: tcg kvm kvm-pvm bochs; not '" list[1] "'")
		return 0
	}
	where_accelerator = list[1]
	where_conditions = ""
	for (i = 2; i <= n; i++) {
		if (!(list[i] in conditions)) {
			error("unknown condition '" list[i] "' after the accelerator" \
				" (known: intel amd 4-level 5-level linear-width-leaves-disagree)")
			return 0
		}
		if (list[i] in seen) {
			error("condition '" list[i] "' is named twice")
			return 0
		}
		seen[list[i]] = 1
		where_conditions = where_conditions (i > 2 ? " " : "") list[i]
	}
	if ((("intel" in seen) && ("amd" in seen)) || (("4-level" in seen) && ("5-level" in seen))) {
		error("conditions '" where_conditions "' can never all hold")
		return 0
	}
	return 1
}

# The case pattern.  A '~' entry may fail or pass from boot to boot, so it
# must name one case: with '*' it would hide every failure it covers.
function read_case(field,    pattern) {
	pattern = trim(field)
	if (pattern !~ /^~?[a-z0-9]+(-[a-z0-9]+)*(-?\*)?$/) {
		error("'" pattern "' is not a case slug (a-z, 0-9, single '-', optional trailing '*', optional leading '~')")
		return ""
	}
	if (pattern ~ /^~.*\*$/) {
		error("'" pattern "': an intermittent ('~') erratum names one case; it cannot end in '*'")
		return ""
	}
	return pattern
}

# One alternative: an exception (or none) and what else the check saw, or
# only what the check saw: "#DF(0) CR2=first-fault", "CS=0x33 SS=0x2b".
function alternative_mistake(alternative,    words, n, i, mistake) {
	n = split(alternative, words, /[ \t]+/)
	if (n == 0 || words[1] == "")
		return "an outcome is missing around an 'or'"
	for (i = 1; i <= n; i++) {
		if ((mistake = outcome_mistake(words[i])) != "")
			return "'" words[i] "': " mistake
		if (i > 1 && words[i] !~ /=/)
			return "'" words[i] "': only NAME=VALUE words may follow the first"
	}
	return ""
}

# The outcome field ("#GP(0) or none") as slugs joined by '/' ("gp-0/none").
function read_outcome(field,    list, n, i, result, mistake) {
	field = trim(field)
	if (field == "") {
		error("the outcome field is empty: give what the implementation does (none, #UD, #GP(0), ZF=0, ...)")
		return ""
	}
	n = split(field, list, /[ \t]+or[ \t]+/)
	result = ""
	for (i = 1; i <= n; i++) {
		if ((mistake = alternative_mistake(trim(list[i]))) != "") {
			error("outcome '" field "': " mistake)
			return ""
		}
		result = result (i > 1 ? "/" : "") slug(list[i])
	}
	return result
}

function read_entry(    test, pattern, outcomes, i, previous) {
	if (NF == 6) {
		error("the outcome field is missing: it goes fourth, after the case: " layout)
		return
	}
	if (NF != 7) {
		error("an erratum has seven '|'-separated fields, this line has " NF ": " layout)
		return
	}
	if (!read_where($1))
		return
	test = trim($2)
	if (test !~ /^[A-Za-z0-9_-]+$/) {
		error("'" test "' is not a test image name (like smap)")
		return
	}
	if ((pattern = read_case($3)) == "" || (outcomes = read_outcome($4)) == "")
		return
	for (i = 5; i <= 7; i++) {
		if ($i !~ /[^ \t]/) {
			error("the rule, the other implementations' results and the observed outcome are all needed: " layout)
			return
		}
	}
	line[count] = FNR
	accelerator[count] = where_accelerator
	condition[count] = where_conditions
	test_of[count] = test
	pattern_of[count] = pattern
	outcomes_of[count] = outcomes
	previous = (test in by_test) ? by_test[test] " " : "" # mawk makes the element before testing "in"
	by_test[test] = previous count
	count++
}

slugs { print slug($0); next }
{ sub(/\r$/, "") }
/^[ \t]*(#|$)/ { next }
{ read_entry() }

# Every value was checked above: none holds a quote, so '...' is safe.
function print_array(array_name, values,    i, text) {
	text = array_name "=("
	for (i = 0; i < count; i++)
		text = text (i ? " " : "") "'" values[i] "'"
	print text ")"
}

END {
	if (errors > 20)
		printf "%s: %d more mistakes\n", name, errors - 20 > "/dev/stderr"
	if (errors)
		exit 1
	if (slugs)
		exit 0
	print_array("errata_line", line)
	print_array("errata_accelerator", accelerator)
	print_array("errata_conditions", condition)
	print_array("errata_test", test_of)
	print_array("errata_pattern", pattern_of)
	print_array("errata_outcomes", outcomes_of)
	text = "errata_by_test=("
	for (test in by_test)
		text = text "[" test "]='" by_test[test] "' "
	print text ")"
}
