# compare.awk: the table of run_tests.sh --compare (see compare.sh).
#
#   awk -v labels="kvm tcg bochs:ryzen" -v tsv=FILE -f compare.awk RUNS
#
# RUNS has one line per run: section TAB implementation number (0, 1, ...
# as in labels) TAB its serial log TAB "booted", or how it ended before
# booting ("SKIP: needs Bochs: ...").  Each serial log is read once.  A
# check is the section and its printed name; its result on one
# implementation is pass, fail with the outcome seen, skip, or absent.
# Prints a block for every check whose results differ, then the counts;
# with tsv, writes the same checks there as tab-separated values.  Exits
# 0 when every check agrees, 1 when some differ, 2 when fewer than two
# implementations printed any result.  POSIX awk (mawk).

BEGIN {
	FS = "\t"
	implementations = split(labels, label, " ")
	checks = 0
	width = 5
	for (i = 1; i <= implementations; i++)
		if (length(label[i]) > width)
			width = length(label[i])
}

# What a terminal would show of a serial line: the text after the last
# carriage return, without escape sequences (GRUB's, on Bochs).
function clean(line) {
	sub(/\r$/, "", line)
	sub(/.*\r/, "", line)
	gsub(/\033\[[0-9;?]*[A-Za-z]/, "", line)
	return line
}

function shorten(text, length_limit) {
	return length(text) > length_limit ? substr(text, 1, length_limit - 3) "..." : text
}

# The outcome at the start of a guest's description, in the errata list's
# words: "no exception" is none, "#PF(0x1: present read supervisor) at
# ..." is #PF(0x1), "#GP(0) at RIP ..." is #GP(0); "" when it names none.
function outcome_words(text,    words, code) {
	if (text ~ /^(no exception|none)/)
		return "none"
	if (match(text, /^#[A-Z][A-Z]/)) {
		words = substr(text, 1, RLENGTH)
		text = substr(text, RLENGTH + 1)
		if (text ~ /^\(/) {
			code = text
			sub(/\).*/, "", code)
			sub(/:.*/, "", code)
			words = words code ")"
		}
		return words
	}
	if (match(text, /^vector [0-9]+/))
		return substr(text, 1, RLENGTH)
	return ""
}

# A FAIL's outcome from the INFO lines printed since the last result:
# the last one that starts with NAME ": ".  Sets failed_outcome, and
# expected_outcome[KEY] when the line says "expected X; got Y".
function read_failure(key, name,    i, text, expected, got, words) {
	failed_outcome = "FAIL"
	for (i = info_count; i >= 1; i--) {
		if (index(info[i], name ": ") != 1)
			continue
		text = substr(info[i], length(name) + 3)
		if (match(text, /^expected .*; got /)) {
			expected = substr(text, 10, RLENGTH - 15)
			got = substr(text, RLENGTH + 1)
			words = outcome_words(expected)
			if (words != "" && !(key in expected_outcome))
				expected_outcome[key] = words
			failed_outcome = outcome_words(got)
			# The same vector and code, so the difference is elsewhere (RIP, CPL, CR2): show it.
			if (failed_outcome == "" || failed_outcome == words)
				failed_outcome = shorten(got, 70)
		} else {
			failed_outcome = "FAIL: " shorten(text, 64)
		}
		return
	}
}

function read_serial(section, implementation, file,    line, kind, name, key, seen_here) {
	info_count = 0
	while ((getline line < file) > 0) {
		line = clean(line)
		if (line ~ /^INFO: /) {
			info[++info_count] = substr(line, 7)
			continue
		}
		if (!match(line, /^(PASS|FAIL|XPASS|XFAIL|SKIP): /))
			continue
		kind = substr(line, 1, RLENGTH - 2)
		name = substr(line, RLENGTH + 1)
		# A name printed twice in one run is two checks.
		while ((section SUBSEP name) in seen_here)
			name = name " (again)"
		seen_here[section SUBSEP name] = 1
		key = section SUBSEP name
		if (!(key in check_number)) {
			check_number[key] = ++checks
			check_key[checks] = key
			check_label[checks] = section " | " name
		}
		if (kind == "PASS" || kind == "XPASS") {
			result[key, implementation] = "pass"
		} else if (kind == "SKIP") {
			result[key, implementation] = "skip"
		} else {
			read_failure(key, name)
			result[key, implementation] = "fail"
			outcome[key, implementation] = failed_outcome
		}
		printed[implementation] = 1
		info_count = 0
	}
	close(file)
}

{
	if (!($1 in section_seen)) {
		section_seen[$1] = 1
		section_name[++sections] = $1
	}
	state[$1, $2 + 1] = $4
	read_serial($1, $2 + 1, $3)
}

# One implementation's cell: what it did, and whether that was expected.
function cell(key, i, section,    r) {
	r = (key, i) in result ? result[key, i] : "absent"
	if (r == "pass") {
		cell_outcome = key in expected_outcome ? expected_outcome[key] : "as named"
		cell_result = "pass"
	} else if (r == "fail") {
		cell_outcome = outcome[key, i]
		cell_result = "FAIL"
	} else if (r == "skip") {
		cell_outcome = "-"
		cell_result = "SKIP"
	} else {
		cell_result = "not run"
		cell_outcome = state[section, i] == "booted" ? "no such check in its output" : shorten(state[section, i], 70)
	}
	return r == "fail" ? "fail " outcome[key, i] : r
}

function tsv_field(text) {
	gsub(/[\t\r\n]/, " ", text)
	return text
}

END {
	ran = 0
	for (i = 1; i <= implementations; i++)
		ran += (i in printed)
	if (tsv != "") {
		line = "test\tcheck\texpected"
		for (i = 1; i <= implementations; i++)
			line = line "\t" label[i] " result\t" label[i] " outcome"
		print line > tsv
	}
	differ = 0
	fail_alike = 0
	for (c = 1; c <= checks; c++) {
		key = check_key[c]
		split(key, parts, SUBSEP)
		# A run that never booted says nothing about its checks: the
		# others are compared without it (the counts name it).
		first = ""
		same = 1
		for (i = 1; i <= implementations; i++) {
			if (state[parts[1], i] != "booted")
				continue
			this = cell(key, i, parts[1])
			if (first == "")
				first = this
			else if (this != first)
				same = 0
		}
		if (same) {
			fail_alike += first ~ /^fail/
			continue
		}
		differ++
		expected = key in expected_outcome ? expected_outcome[key] : "as named"
		printf "%s\n", check_label[c]
		printf "    %-*s  %s\n", width, "expected", expected
		line = tsv_field(parts[1]) "\t" tsv_field(parts[2]) "\t" tsv_field(expected)
		for (i = 1; i <= implementations; i++) {
			cell(key, i, parts[1])
			printf "    %-*s  %-8s %s\n", width, label[i], cell_result, cell_outcome
			line = line "\t" cell_result "\t" tsv_field(cell_outcome)
		}
		if (tsv != "")
			print line > tsv
	}
	for (i = 1; i <= implementations; i++) {
		if (i in printed)
			continue
		printf "%s printed no result", label[i]
		for (s = 1; s <= sections; s++)
			if (state[section_name[s], i] != "booted")
				printf "; %s: %s", section_name[s], state[section_name[s], i]
		printf "\n"
	}
	printf "COMPARED: %d checks on %s: %d agree everywhere (%d of them fail alike), %d differ\n",
		checks, labels, checks - differ, fail_alike, differ
	if (ran < 2)
		exit 2
	exit differ > 0
}
