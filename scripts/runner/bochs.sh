# shellcheck shell=bash disable=SC2034,SC2154 # globals shared with the other runner files
# bochs.sh: finds Bochs and GRUB's grub-mkrescue, writes a boot ISO and a
# bochsrc, boots one image on Bochs under a timeout and reads what happened
# (sourced).
#
# Bochs models x86 CPUs feature by feature; from 2.8 its arrow_lake model
# has LASS, which neither QEMU accelerator has.  It has no multiboot loader
# and no isa-debug-exit device, so an image boots through GRUB from a
# rescue ISO in Bochs's CD-ROM drive, with the guest's command line in
# grub.cfg, and the guest's ACPI power-off (S5) ends Bochs: it prints "ACPI
# control: soft power off" and exits with status 1 whatever the result.
# The verdict is therefore the guest's SUMMARY line, checked against its
# result lines; Bochs's status only says how it ended.
#
# Results come back in globals, as in qemu.sh: launch_status,
# launch_seconds, bochs_output_lines (Bochs's messages and log),
# bochs_triple_fault and bochs_exit_message.

bochs_default_model=arrow_lake
bochs_memory_megabytes=256
# What builds the ISO, and the Debian packages that hold it.
grub_packages="grub-pc-bin grub-common xorriso mtools"
grub_platform_directory=/usr/lib/grub/i386-pc

# ---- finding Bochs and GRUB -------------------------------------------------

# Sets bochs_firmware_file to NAME in the first DIRECTORY that has it, or
# to nothing.
find_bochs_firmware() { # NAME DIRECTORY...
	local name=$1 directory
	shift
	bochs_firmware_file=""
	for directory in "$@"; do
		if [ -n "$directory" ] && [ -r "$directory/$name" ]; then
			bochs_firmware_file=$directory/$name
			return 0
		fi
	done
	return 1
}

# Reads "Bochs x86 Emulator 3.0.devel" from BINARY's help; sets
# bochs_version, or a reason and returns 1.  Needs 2.8 or newer: LASS came
# in 2.8.
check_bochs_version() { # BINARY
	local output major minor
	output=$(timeout -k 1 10 "$1" --help </dev/null 2>&1)
	if [[ ! $output =~ Bochs\ x86\ Emulator\ ([0-9]+)\.([0-9]+)([.0-9a-z]*) ]]; then
		bochs_reason="$1 does not say it is Bochs (its --help names no 'Bochs x86 Emulator' version)"
		return 1
	fi
	major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
	bochs_version=$major.$minor${BASH_REMATCH[3]}
	if [ $((major * 100 + minor)) -lt 208 ]; then
		bochs_reason="$1 is Bochs $bochs_version; canon needs 2.8 or newer (LASS came in 2.8):"
		bochs_reason+=" build one with --enable-x86-64 (docs/runner.md) and set BOCHS to it"
		return 1
	fi
}

# Can this run boot images on Bochs?  Sets bochs_available (yes/no),
# bochs_reason (why not, and what to install or build), bochs_binary,
# bochs_version, bochs_bios and bochs_vga_bios.  Bochs is BOCHS (a path),
# else bochs on PATH; its BIOS files are beside the binary, in BXSHARE or
# where a package puts them.  Probes once; later calls reuse the answer.
probe_bochs() {
	local directory
	[ -n "${bochs_available:-}" ] && return 0
	bochs_available=no bochs_binary="" bochs_version="" bochs_reason=""
	if [ -n "${BOCHS:-}" ]; then
		bochs_binary=$BOCHS
		if [ ! -f "$BOCHS" ] || [ ! -x "$BOCHS" ]; then
			bochs_reason="BOCHS=$BOCHS is no executable file"
			return 0
		fi
	elif hash bochs 2>/dev/null; then
		bochs_binary=${BASH_CMDS[bochs]}
	else
		bochs_reason="no Bochs: set BOCHS to a Bochs 2.8 or newer built with --enable-x86-64"
		bochs_reason+=" (docs/runner.md says how), or put one on PATH as bochs"
		return 0
	fi
	check_bochs_version "$bochs_binary" || return 0
	directory=${bochs_binary%/*}
	[[ $bochs_binary == */* ]] || directory=.
	if ! find_bochs_firmware BIOS-bochs-latest "$directory" "${BXSHARE:-}" "$directory/../share/bochs" \
		/usr/share/bochs /usr/local/share/bochs; then
		bochs_reason="no BIOS-bochs-latest beside $bochs_binary, in BXSHARE, or in /usr/share/bochs:"
		bochs_reason+=" copy it from Bochs's bios/ directory"
		return 0
	fi
	bochs_bios=$bochs_firmware_file
	if ! find_bochs_firmware VGABIOS-lgpl-latest.bin "$directory" "${BXSHARE:-}" "$directory/../share/bochs" \
		/usr/share/bochs /usr/local/share/bochs && ! find_bochs_firmware vgabios.bin /usr/share/vgabios; then
		bochs_reason="no VGABIOS-lgpl-latest.bin beside $bochs_binary or in BXSHARE:"
		bochs_reason+=" copy it from Bochs's bios/VGABIOS-lgpl/ directory"
		return 0
	fi
	bochs_vga_bios=$bochs_firmware_file
	if ! hash grub-mkrescue xorriso 2>/dev/null || [ ! -e "$grub_platform_directory/multiboot.mod" ]; then
		bochs_reason="no GRUB to boot Bochs from (grub-mkrescue, xorriso and $grub_platform_directory):"
		bochs_reason+=" install $grub_packages (scripts/install-dependencies.sh iso)"
		return 0
	fi
	bochs_available=yes
}

# ---- the boot ISO -----------------------------------------------------------

# Splits LINE into words the way the guest does (lib/cmdline.c: blanks
# separate words, a pair of '"' groups blanks into one, the quotes go) and
# writes them in grub.cfg's syntax, each in single quotes, into
# grub_words.  GRUB's multiboot command joins its arguments again and puts
# '"' around one that holds a blank, so the guest gets its words back.
# GRUB escapes ', " and \ with a backslash, which the guest would keep:
# returns 1 on a word that holds ' or \.
grub_words_for() { # LINE
	local line=$1 word="" character quoted=no started=no index
	grub_words=""
	for ((index = 0; index <= ${#line}; index++)); do
		character=${line:index:1}
		if [ -z "$character" ] || { [ "$quoted" = no ] && [[ $character == [[:blank:]] ]]; }; then
			[ "$started" = yes ] && grub_words+="${grub_words:+ }'$word'"
			word="" started=no
		elif [ "$character" = '"' ]; then
			started=yes
			if [ "$quoted" = yes ]; then quoted=no; else quoted=yes; fi
		elif [[ $character == [\'\\] ]]; then
			return 1
		else
			word+=$character started=yes
		fi
	done
}

# A menu entry that boots IMAGE (its path on the ISO) with LINE.
write_grub_entry() { # TITLE IMAGE LINE
	grub_words_for "$3" || return 1
	printf 'menuentry "%s" {\n\tmultiboot %s %s\n\tboot\n}\n' "$1" "$2" "$grub_words"
}

# grub.cfg's head: GRUB on COM1 (where the guest writes too) and, with
# SCREEN=yes, on the screen as well; TIMEOUT seconds before the first entry.
write_grub_head() { # TIMEOUT SCREEN
	echo "serial --unit=0 --speed=115200"
	if [ "$2" = yes ]; then
		echo "terminal_input serial console"
		echo "terminal_output serial console"
	else
		echo "terminal_output serial"
	fi
	echo "set timeout=$1"
	echo "set default=0"
}

# Runs grub-mkrescue on DIRECTORY (which holds boot/grub/grub.cfg and the
# images) to write ISO: i386-pc only, with the modules canon's entries use.
# Prints grub-mkrescue's last line when it fails.
run_grub_mkrescue() { # DIRECTORY ISO
	local output
	if ! output=$(grub-mkrescue -d "$grub_platform_directory" \
		--install-modules="multiboot normal serial terminal configfile echo" \
		--fonts= --locales= --themes= -o "$2" "$1" 2>&1); then
		output=${output%$'\n'}
		echo "grub-mkrescue failed: ${output##*$'\n'}"
		return 1
	fi
}

# Writes ISO: GRUB that boots IMAGE (a file) with the guest's command line
# LINE at once, its output on COM1 only.  SCRATCH is a directory to build
# in (it is made and removed here).  On failure prints why.
make_boot_iso() { # ISO IMAGE LINE SCRATCH
	local iso=$1 image=$2 line=$3 scratch=$4 name=${2##*/} status
	mkdir -p "$scratch/boot/grub" || return 1
	cp "$image" "$scratch/boot/$name" || return 1
	if ! { write_grub_head 0 no && write_grub_entry canon "/boot/$name" "$line"; } >"$scratch/boot/grub/grub.cfg"; then
		echo "the guest's command line holds ' or \\, which GRUB would pass on escaped: $line"
		rm -rf "$scratch"
		return 1
	fi
	run_grub_mkrescue "$scratch" "$iso"
	status=$?
	rm -rf "$scratch"
	return "$status"
}

# ---- the bochsrc ------------------------------------------------------------

# Writes Bochs's configuration: no display, the ISO in the CD-ROM drive,
# COM1 into SERIAL, MODEL as the CPU, and a triple fault that stops the
# CPU (reset_on_triple_fault=0, logged) instead of rebooting forever.  The
# log goes to stderr ("-"), where the runner reads it as Bochs runs.
write_bochsrc() { # FILE ISO SERIAL MODEL
	cat >"$1" <<EOF
# canon: written by scripts/runner/bochs.sh for Bochs $bochs_version
display_library: nogui
megs: $bochs_memory_megabytes
romimage: file="$bochs_bios"
vgaromimage: file="$bochs_vga_bios"
ata0-master: type=cdrom, path="$2", status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev="$3"
cpu: model=$4, reset_on_triple_fault=0
log: -
EOF
}

# ---- booting ----------------------------------------------------------------

# Starts qemu_command (here Bochs) under timeout in a process group of its
# own, as start_qemu does; its stdout and stderr (the log) come to
# emulator_output_fd.  With boot_live=yes COM1 goes through fd 7 to
# copy_serial_live (the bochsrc then names /dev/fd/7).
start_bochs() { # SECONDS SERIAL
	if [ "${boot_live:-no}" = yes ]; then
		exec {emulator_live_fd}>&1
		exec {emulator_output_fd}< <(
			[ -n "$running_group_directory" ] && : >"$running_group_directory/qemu-$BASHPID"
			exec 7> >(copy_serial_live "$2" "${live_prefix:-}" "$emulator_live_fd")
			exec timeout -k 1 "$1" "${qemu_command[@]}" </dev/null 2>&1)
	else
		exec {emulator_output_fd}< <(
			[ -n "$running_group_directory" ] && : >"$running_group_directory/qemu-$BASHPID"
			exec timeout -k 1 "$1" "${qemu_command[@]}" </dev/null 2>&1)
	fi
	emulator_group=$!
}

# Is LINE of Bochs's log worth showing live?  Its errors and panics (the
# level letter after the tick count is e or p), and its exit message.
is_notable_bochs_line() { # LINE
	[[ $1 =~ ^[0-9]+[ep]\[ || $1 == "Bochs is exiting"* || $1 == "["*"] "* ]]
}

# Reads Bochs's output from FD until it exits.  With reset_on_triple_fault=0
# a triple fault leaves the CPU in shutdown, where it would wait for the
# timeout: at the log's "3rd (N) exception with no resolution" Bochs is
# stopped at once.  Sets bochs_triple_fault to that message and
# bochs_exit_message to the line after "Bochs is exiting with the
# following message:".
watch_bochs_output() { # FD GROUP
	local fd=$1 group=$2 line next_is_message=no
	bochs_triple_fault="" bochs_exit_message=""
	while IFS= read -r -u "$fd" line || [ -n "$line" ]; do
		bochs_output_lines+=("$line")
		[ "${boot_live:-no}" = yes ] && is_notable_bochs_line "$line" && printf '%s\n' "$line" >&2
		if [ "$next_is_message" = yes ]; then
			bochs_exit_message=$line next_is_message=no
		elif [[ $line == "Bochs is exiting with the following message:"* ]]; then
			next_is_message=yes
		elif [ -z "$bochs_triple_fault" ] && [[ $line == *"exception with no resolution"* ]]; then
			bochs_triple_fault=${line#*\] }
			stop_group "$group"
		fi
	done
}

# Runs qemu_command (Bochs) with a timeout of MICROSECONDS, its COM1 in
# SERIAL (written there by Bochs, or with boot_live=yes by
# copy_serial_live).  Sets launch_status, launch_seconds,
# bochs_output_lines, bochs_triple_fault and bochs_exit_message.
launch_bochs() { # MICROSECONDS SERIAL
	bochs_output_lines=()
	launch_emulator start_bochs watch_bochs_output "$@"
}

# Drops what GRUB leaves before the guest's first line on the serial
# console: its terminal's escape sequences, and carriage returns (the text
# after the last one is what a terminal would show).
clean_grub_serial_lines() {
	local index pattern=$'\e''\[[0-9;?]*[A-Za-z]'
	serial_lines=("${serial_lines[@]##*$'\r'}")
	for index in "${!serial_lines[@]}"; do
		while [[ ${serial_lines[index]} =~ $pattern ]]; do
			serial_lines[index]=${serial_lines[index]/"${BASH_REMATCH[0]}"/}
		done
	done
}

# The guest's verdict from its serial output alone (Bochs has no exit
# device): one SUMMARY line, agreeing with the result lines.
classify_summary_only() {
	if [ "$summary_lines" -gt 1 ]; then
		set_outcome 1 error "$summary_lines SUMMARY lines: the guest ran more than once"
	elif [ "$summary_lines" -eq 0 ]; then
		set_outcome 1 error "guest powered off without a SUMMARY line; last line: $last_line"
	elif ! summary_matches_result_lines; then
		set_outcome 1 error "guest summary disagrees with its result lines: $summary_mismatch"
	elif [ "$summary_failures" -gt 0 ]; then
		set_outcome 1 guest-failure "$summary_failures of $summary_tests tests failed, first: ${first_failure:-?}"
	elif [ "$summary_tests" -gt "$summary_skipped" ]; then
		summary_counts
		set_outcome 0 pass "$summary_text"
	else
		set_outcome 77 skip "${first_skip:-no tests ran}"
	fi
}

# Sets bochs_last_message to the last error or panic line of Bochs's log,
# without its tick count, or to its last line.
last_bochs_message() {
	local index line
	bochs_last_message=""
	for ((index = ${#bochs_output_lines[@]} - 1; index >= 0; index--)); do
		line=${bochs_output_lines[index]}
		if [[ $line =~ ^[0-9]+[ep]\[ ]]; then
			bochs_last_message=${line#*[ep]}
			return
		fi
		[ -z "$bochs_last_message" ] && [[ $line == *[![:space:]]* ]] && bochs_last_message=$line
	done
}

# Reads a finished launch_bochs that had a timeout of MICROSECONDS into
# outcome_status, outcome_kind and outcome_detail (outcome.sh).
classify_bochs_boot() { # MICROSECONDS SERIAL
	local microseconds=$1 status=$launch_status
	scan_serial "$2" clean_grub_serial_lines
	if [ -n "$bochs_triple_fault" ]; then
		set_outcome 1 error "guest triple fault: Bochs stopped it ($bochs_triple_fault); last line: $last_line"
	elif launch_timed_out "$microseconds"; then
		format_seconds "$microseconds"
		set_outcome 124 error "timeout after ${formatted_seconds}s, Bochs killed; last line: $last_line"
	elif [[ $bochs_exit_message == *"ACPI control: soft power off"* ]]; then
		classify_summary_only
	elif [ "$status" -ge 128 ]; then
		name_launch_signal
		last_bochs_message
		set_outcome "$status" error "Bochs killed by SIG$launch_signal: $bochs_last_message"
	elif [ -n "$bochs_exit_message" ]; then
		set_outcome 1 error "Bochs stopped: $bochs_exit_message; last line: $last_line"
	elif [ ${#bochs_output_lines[@]} -eq 0 ] && [ ${#serial_lines[@]} -eq 0 ]; then
		set_outcome 1 error "${qemu_command[0]} exited with status $status and printed nothing: is it Bochs? (set BOCHS)"
	else
		last_bochs_message
		set_outcome 1 error "Bochs exited with status $status: $bochs_last_message"
	fi
}
