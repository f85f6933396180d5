# config.awk: reads x86/unittests.cfg for config.sh and prints its sections
# as bash array assignments; each mistake goes to stderr as FILE:LINE:
# message and makes the exit status 1.  One awk reads the cfg in about a
# millisecond, where a bash loop took 25 ms, and it is read on every run.
# POSIX awk: Debian's default is mawk.
#
#   awk -v config_file=CFG -v config_name=x86/unittests.cfg -v keys="file smp ..." \
#       -v machines="microvm ..." -v accelerator_names="kvm tcg bochs" \
#       -f words.awk -f config.awk CFG
#
# run_tests.sh reads the errata list in the same process, to save a fork
# and exec: "-f words.awk -f config.awk -f errata.awk CFG ERRATA".  So every rule here
# handles only CFG's lines and ends with "next", and the names here do not
# clash with errata.awk's.
#
# kvm-unit-tests' format: "[name]" starts a section, "key = value" lines
# fill it, a line starting with "#" is a comment ("#GP" may appear in
# values, so a "#" later in a line is kept).

BEGIN {
	words_to_set(keys, known)
	words_to_set(machines, machine_known)
	words_to_set(accelerator_names, accelerator_known)
	section = ""   # "" before the first [section], "-" inside a bad one
	section_count = 0
}

function config_error(line, message) {
	printf "%s:%d: %s\n", config_name, line, message > "/dev/stderr"
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
		config_error(FNR, "file must be an image name like smap.flat, not '" value "'")
	else if (key == "smp" && value !~ /^[1-9][0-9]*$/)
		config_error(FNR, "smp must be a positive number, not '" value "'")
	else if (key == "timeout" && (mistake = duration_mistake(value)) != "")
		config_error(FNR, "timeout " mistake ", not '" value "'")
	else if (key == "accel" && !(value in accelerator_known))
		config_error(FNR, "accel must be one of: " accelerator_names "; not '" value "'")
	else if (key == "cpu" && value !~ /^[A-Za-z0-9_.,=+-]+$/)
		config_error(FNR, "cpu must be one model, like arrow_lake (Bochs) or max,vendor=GenuineIntel (QEMU), not '" value "'")
	else if (key == "machine" && !(value in machine_known))
		config_error(FNR, "machine must be one of: " machines "; not '" value "'")
	else if (key == "expect" && value != "pass" && value != "fail" && value != "skip")
		config_error(FNR, "expect must be pass, fail or skip, not '" value "'")
	else if (key == "extra_params" && index(" " value " ", " -append ") > 0)
		config_error(FNR, "put the guest's words in test_args, not -append in extra_params")
	else if (key == "check") {
		n = split(value, words, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (words[i] !~ /^\/[^=]*=/)
				config_error(FNR, "check wants PATH=VALUE words with absolute paths, not '" words[i] "'")
	}
}

function start_section(text) {
	if (text !~ /^[A-Za-z0-9][A-Za-z0-9_.-]*$/) {
		config_error(FNR, "bad section name '[" text "]' (letters, digits, '_', '.', '-')")
		section = "-"
	} else if (text in header_line) {
		config_error(FNR, "duplicate section [" text "], first at line " header_line[text])
		section = "-"
	} else {
		section = text
		header_line[text] = FNR
		names[section_count++] = text
	}
}

function add_field(key, value) {
	if (key == "qemu_params")
		key = "extra_params"
	if (section == "")
		config_error(FNR, "'" key "' comes before any [section]")
	else if (section == "-")
		return
	else if (!(key in known))
		config_error(FNR, "unknown key '" key "' (known: " keys ")")
	else if ((section "/" key) in field)
		config_error(FNR, "'" key "' is set twice in section [" section "]")
	else {
		check_value(key, value)
		field[section "/" key] = value
	}
}

# One line of the cfg: a comment or blank, a [section], or key = value.
function read_config_line(    text, key, value) {
	sub(/\r$/, "")
	text = trim($0)
	if (text == "" || text ~ /^#/)
		return
	if (text ~ /^\[.*\]$/) {
		start_section(substr(text, 2, length(text) - 2))
	} else if (text ~ /^[A-Za-z_]+[ \t]*=/) {
		key = text
		sub(/[ \t]*=.*/, "", key)
		value = text
		sub(/^[A-Za-z_]+[ \t]*=/, "", value)
		add_field(key, trim(value))
	} else {
		config_error(FNR, "not a [section] or a 'key = value' line: " text)
	}
}

FILENAME == config_file { read_config_line(); next }

# TEXT in single quotes for bash: each ' becomes '\''.
function quoted(text,    parts, n, i, result) {
	n = split(text, parts, "'")
	result = parts[1]
	for (i = 2; i <= n; i++)
		result = result "'\\''" parts[i]
	return "'" result "'"
}

# A section without "file" is a mistake of its header line; one that names
# its CPU twice (cpu, and -cpu in extra_params) is one too.
function check_sections(    i, name) {
	for (i = 0; i < section_count; i++) {
		name = names[i]
		if (!((name "/file") in field))
			config_error(header_line[name], "section [" name "] has no 'file'")
		if (((name "/cpu") in field) && ((name "/extra_params") in field) &&
		    index(" " field[name "/extra_params"] " ", " -cpu ") > 0)
			config_error(header_line[name], "section [" name "] names its CPU twice, in cpu and in extra_params' -cpu: keep one")
	}
}

function print_sections(    i, text, key) {
	text = "section_names=("
	for (i = 0; i < section_count; i++)
		text = text (i ? " " : "") quoted(names[i])
	print text ")"
	text = "section_line=("
	for (i = 0; i < section_count; i++)
		text = text "[" quoted(names[i]) "]=" header_line[names[i]] " "
	print text ")"
	text = "section_field=("
	for (key in field)
		text = text "[" quoted(key) "]=" quoted(field[key]) " "
	print text ")"
}

# With errata.awk after this file (errata_follows=1), its END ends the run,
# and fails it on any mistake of either file.
END {
	check_sections()
	if (!errors)
		print_sections()
	else if (!errata_follows)
		exit 1
}
