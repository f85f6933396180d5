# config.awk: reads x86/unittests.cfg for config.sh and prints its sections
# as bash array assignments; each mistake goes to stderr as FILE:LINE:
# message and makes the exit status 1.  One awk reads the cfg in about a
# millisecond, where a bash loop took 25 ms, and it is read on every run.
# POSIX awk: Debian's default is mawk.
#
#   awk -v name=x86/unittests.cfg -v keys="file smp ..." -v machines="microvm ..." -f config.awk FILE
#
# kvm-unit-tests' format: "[name]" starts a section, "key = value" lines
# fill it, a line starting with "#" is a comment ("#GP" may appear in
# values, so a "#" later in a line is kept).

BEGIN {
	split(keys, list, " ")
	for (i in list)
		known[list[i]] = 1
	split(machines, list, " ")
	for (i in list)
		machine_known[list[i]] = 1
	section = ""   # "" before the first [section], "-" inside a bad one
	count = 0
}

function trim(text) {
	sub(/^[ \t]+/, "", text)
	sub(/[ \t]+$/, "", text)
	return text
}

function error(line, message) {
	printf "%s:%d: %s\n", name, line, message > "/dev/stderr"
	errors++
}

# A duration as the runner takes it: seconds, or a number with s, m or h,
# more than zero.  There is no "never": only debugging (-d) waits forever.
function duration_mistake(value) {
	if (value !~ /^[0-9]+(\.[0-9]+)?[smh]?$/)
		return "must be seconds (like 90, 90s, 1.5m or 2h)"
	if (value + 0 == 0)
		return "must be more than 0: a test always runs under a timeout (debug with -d to wait forever)"
	return ""
}

# One value's own rules, so that a typo fails here and not at run time.
function check_value(key, value,    mistake, n, words, i) {
	if (key == "file" && value !~ /^[A-Za-z0-9_.-]+\.flat$/)
		error(FNR, "file must be an image name like smap.flat, not '" value "'")
	else if (key == "smp" && value !~ /^[1-9][0-9]*$/)
		error(FNR, "smp must be a positive number, not '" value "'")
	else if (key == "timeout" && (mistake = duration_mistake(value)) != "")
		error(FNR, "timeout " mistake ", not '" value "'")
	else if (key == "accel" && value != "kvm" && value != "tcg")
		error(FNR, "accel must be kvm or tcg, not '" value "'")
	else if (key == "machine" && !(value in machine_known))
		error(FNR, "machine must be one of: " machines "; not '" value "'")
	else if (key == "expect" && value != "pass" && value != "fail" && value != "skip")
		error(FNR, "expect must be pass, fail or skip, not '" value "'")
	else if (key == "extra_params" && index(" " value " ", " -append ") > 0)
		error(FNR, "put the guest's words in test_args, not -append in extra_params")
	else if (key == "check") {
		n = split(value, words, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (words[i] !~ /^\/[^=]*=/)
				error(FNR, "check wants PATH=VALUE words with absolute paths, not '" words[i] "'")
	}
}

function start_section(text) {
	if (text !~ /^[A-Za-z0-9][A-Za-z0-9_.-]*$/) {
		error(FNR, "bad section name '[" text "]' (letters, digits, '_', '.', '-')")
		section = "-"
	} else if (text in header_line) {
		error(FNR, "duplicate section [" text "], first at line " header_line[text])
		section = "-"
	} else {
		section = text
		header_line[text] = FNR
		names[count++] = text
	}
}

function add_field(key, value) {
	if (key == "qemu_params")
		key = "extra_params"
	if (section == "")
		error(FNR, "'" key "' comes before any [section]")
	else if (section == "-")
		return
	else if (!(key in known))
		error(FNR, "unknown key '" key "' (known: " keys ")")
	else if ((section "/" key) in field)
		error(FNR, "'" key "' is set twice in section [" section "]")
	else {
		check_value(key, value)
		field[section "/" key] = value
	}
}

{ sub(/\r$/, ""); text = trim($0) }
text == "" || text ~ /^#/ { next }
text ~ /^\[.*\]$/ { start_section(substr(text, 2, length(text) - 2)); next }
text ~ /^[A-Za-z_]+[ \t]*=/ {
	key = text
	sub(/[ \t]*=.*/, "", key)
	value = text
	sub(/^[A-Za-z_]+[ \t]*=/, "", value)
	add_field(key, trim(value))
	next
}
{ error(FNR, "not a [section] or a 'key = value' line: " text) }

# TEXT in single quotes for bash: each ' becomes '\''.
function quoted(text,    parts, n, i, result) {
	n = split(text, parts, "'")
	result = parts[1]
	for (i = 2; i <= n; i++)
		result = result "'\\''" parts[i]
	return "'" result "'"
}

END {
	for (i = 0; i < count; i++)
		if (!((names[i] "/file") in field))
			error(header_line[names[i]], "section [" names[i] "] has no 'file'")
	if (errors)
		exit 1
	text = "section_names=("
	for (i = 0; i < count; i++)
		text = text (i ? " " : "") quoted(names[i])
	print text ")"
	text = "section_line=("
	for (i = 0; i < count; i++)
		text = text "[" quoted(names[i]) "]=" header_line[names[i]] " "
	print text ")"
	text = "section_field=("
	for (key in field)
		text = text "[" quoted(key) "]=" quoted(field[key]) " "
	print text ")"
}
