# shellcheck shell=bash disable=SC2034 # results are globals the callers read
# qemu.sh: finds QEMU, probes the accelerator and CPU, builds the command
# line, boots one image under a timeout and reads what happened (sourced).
#
# x86/run, scripts/run_tests.sh, scripts/bench.sh and every standalone test
# boot through these functions, so they all boot the same way and read the
# result the same way.  Results come back in global variables, named below.

exit_device="isa-debug-exit,iobase=0xf4,iosize=0x4"
default_timeout=90

# ---- QEMU and the accelerator -------------------------------------------

# Sets qemu_binary, or qemu_missing_reason and returns 1.
find_qemu() {
	qemu_missing_reason=""
	qemu_binary=${QEMU:-}
	if [ -z "$qemu_binary" ]; then
		qemu_binary=$(command -v qemu-system-x86_64 || command -v qemu-kvm || true)
	fi
	if [ -n "$qemu_binary" ] && command -v "$qemu_binary" >/dev/null; then
		return 0
	fi
	qemu_missing_reason="QEMU not found${QEMU:+ at QEMU=$QEMU}: install the qemu-system-x86 package"
	qemu_missing_reason+=" (sudo apt-get install -y qemu-system-x86)"
	return 1
}

# Starts QEMU with a machine but runs no guest code (-S), then quits through
# the monitor.  Enough for KVM to create the VM and set the vCPU's MSRs, the
# step that fails on a CPU model the host cannot back.  Sets probe_error to
# QEMU's last stderr line.
qemu_starts() { # QEMU-ARGUMENTS...
	local output status
	output=$(timeout -k 1 10 "$qemu_binary" -nodefaults -display none -S -monitor stdio "$@" \
		<<<quit 2>&1 >/dev/null)
	status=$?
	probe_error=$(printf '%s\n' "$output" | last_meaningful_line)
	[ "$status" -eq 0 ]
}

# The last line of QEMU's stderr that says something; the warning that this
# host's KVM lacks "pni" comes with every run and means nothing here.
last_meaningful_line() {
	grep -v -e "host doesn't support requested feature" -e '^[[:space:]]*$' | tail -n 1
}

# Which KVM is this?  kvm-pvm when the kvm_pvm module provides /dev/kvm;
# errata entries name accelerators this way.
kvm_flavour() {
	if [ -d /sys/module/kvm_pvm ]; then echo kvm-pvm; else echo kvm; fi
}

# Can KVM create a VM here?  Sets kvm_available (yes/no), kvm_reason and
# kvm_identity.  Probes once; later calls reuse the answer.
probe_kvm() {
	[ -n "${kvm_available:-}" ] && return 0
	kvm_available=no kvm_identity=kvm
	if [ ! -e /dev/kvm ]; then
		kvm_reason="no /dev/kvm"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		kvm_reason="no read/write access to /dev/kvm (join the kvm group)"
	elif ! qemu_starts -accel kvm -M none; then
		kvm_reason="KVM cannot create a VM: $probe_error"
	else
		kvm_available=yes kvm_identity=$(kvm_flavour) kvm_reason=""
	fi
}

# ---- the CPU model --------------------------------------------------------

declare -A cpu_choice=()    # ["accelerator/requested"] = the -cpu that starts
declare -A cpu_probe_log=() # ["accelerator/requested"] = what was tried

# Finds a -cpu value that starts under KVM for REQUESTED ("host,+x,-y").  On
# some hosts (this project's PVM), host and max pass an MSR that the
# hypervisor refuses (IA32_ARCH_CAPABILITIES, 0x10a) and QEMU aborts; the
# same model without that feature starts.  The requested +/- flags are kept.
probe_kvm_cpu() { # REQUESTED
	local requested=$1 key="kvm/$1" candidate log=""
	[ -n "${cpu_choice[$key]+set}" ] && return 0
	for candidate in "$requested" "$requested,-arch-capabilities"; do
		if qemu_starts -accel kvm -cpu "$candidate" -M microvm; then
			cpu_choice[$key]=$candidate
			cpu_probe_log[$key]="${log}-cpu $candidate starts"
			return 0
		fi
		log+="-cpu $candidate fails ($probe_error); "
	done
	cpu_choice[$key]=""
	cpu_probe_log[$key]="${log%; }"
}

# Sets resolved_cpu to the -cpu to use: under TCG the request itself
# (default max); under KVM the probed model (default host), or nothing when
# no model starts.  Not in a $(...): the probe's answer must stay cached.
resolve_cpu() { # ACCELERATOR REQUESTED-OR-EMPTY
	local accelerator=$1 requested=$2
	if [ "$accelerator" = tcg ]; then
		resolved_cpu=${requested:-max}
		return
	fi
	requested=${requested:-host}
	probe_kvm_cpu "$requested"
	resolved_cpu=${cpu_choice[kvm/$requested]}
}

# ---- the command line -----------------------------------------------------

# QEMU's -M (and firmware) options for MACHINE.  microvm boots the PVH entry
# without firmware work; its legacy devices are off because the guest only
# needs COM1 and the exit device.  ACPI stays on for SMP guests (MADT).
machine_arguments() { # MACHINE SMP
	local machine=$1 smp=$2
	case $machine in
	microvm)
		if [ "$smp" -gt 1 ]; then
			echo "-M microvm,pit=off,pic=off,rtc=off"
		else
			echo "-M microvm,acpi=off,pit=off,pic=off,rtc=off"
		fi ;;
	qboot) echo "-M pc -bios qboot.rom" ;;
	pc | q35) echo "-M $machine" ;;
	esac
}

# The file to boot: on microvm the PVH copy (QEMU's -kernel takes the PVH
# entry only when the multiboot magic is gone), elsewhere the multiboot one.
image_for_machine() { # DIRECTORY IMAGE MACHINE
	local directory=$1 image=$2 machine=$3
	if [ "$machine" = microvm ] && [ -e "$directory/$image.pvh" ]; then
		printf '%s' "$directory/$image.pvh"
	else
		printf '%s' "$directory/$image.flat"
	fi
}

# Fills qemu_command.  EXTRA are more QEMU words, last so that they win.
build_qemu_command() { # ACCELERATOR CPU MACHINE SMP KERNEL APPEND [EXTRA...]
	local accelerator=$1 cpu=$2 machine=$3 smp=$4 kernel=$5 append=$6
	local -a machine_words
	shift 6
	read -ra machine_words <<<"$(machine_arguments "$machine" "$smp")"
	qemu_command=("$qemu_binary" -nodefaults -no-reboot -display none
		-accel "$accelerator" -cpu "$cpu" "${machine_words[@]}")
	[ "$smp" -gt 1 ] && qemu_command+=(-smp "$smp")
	qemu_command+=(-serial stdio -device "$exit_device" -kernel "$kernel")
	[ -n "$append" ] && qemu_command+=(-append "$append")
	qemu_command+=("$@")
}

# Takes "-cpu MODEL" out of QEMU words: sets requested_cpu (the last one
# wins) and other_qemu_words (an array of the rest).
split_cpu_option() { # WORDS...
	requested_cpu="" other_qemu_words=()
	while [ $# -gt 0 ]; do
		if [ "$1" = -cpu ]; then
			requested_cpu=${2:-}
			shift
		else
			other_qemu_words+=("$1")
		fi
		shift
	done
}

# WORD as typed in a shell: bare when it is safe, otherwise in '...'.
shell_word() { # WORD
	if [[ $1 =~ ^[A-Za-z0-9_./,:=+@%-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# The command as a line that can be pasted into a shell.
quoted_command() {
	local word line=""
	for word in "${qemu_command[@]}"; do
		line+="$(shell_word "$word") "
	done
	printf '%s' "${line% }"
}

# ---- booting --------------------------------------------------------------

# Process groups of running QEMUs, one file each, so that an interrupted run
# can stop them all (stop_running_qemus) from whichever process it was.
running_group_directory=""

stop_group() { # GROUP
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
}

stop_running_qemus() {
	local file
	[ -n "$running_group_directory" ] || return 0
	for file in "$running_group_directory"/*; do
		[ -e "$file" ] || continue
		stop_group "${file##*/}"
		rm -f "$file"
	done
}

# QEMU prints one of these when KVM cannot go on with the guest, then dumps
# the registers and pauses the VM instead of exiting.
is_hypervisor_failure_line() { # LINE
	[[ $1 == *"KVM internal error"* || $1 == *"KVM: entry failed"* ]]
}

# Copies stderr to fd 3 (and to our own stderr when boot_live is yes).
keep_stderr_line() { # LINE
	printf '%s\n' "$1" >&3
	[ "${boot_live:-no}" = yes ] && printf '%s\n' "$1" >&2
	return 0
}

# Reads QEMU's stderr until QEMU exits.  On a hypervisor failure it waits for
# the register dump's Code= line (a second at most) and stops QEMU at once,
# rather than at the timeout.  Sets hypervisor_failure to the first such line.
watch_qemu_stderr() { # GROUP
	local group=$1 line
	hypervisor_failure=""
	while IFS= read -r line; do
		keep_stderr_line "$line"
		if [ -z "$hypervisor_failure" ] && is_hypervisor_failure_line "$line"; then
			hypervisor_failure=$line
			while IFS= read -r -t 1 line; do
				keep_stderr_line "$line"
				[[ $line == Code=* ]] && break
			done
			stop_group "$group"
		fi
	done
}

# Runs qemu_command under a timeout in its own process group (timeout makes
# one), serial console to SERIAL, stderr to STDERR_LOG.  With boot_live=yes
# both are also shown as they come.  Sets launch_status (timeout's status:
# 124 when it fired), launch_seconds and hypervisor_failure.
launch_qemu() { # SECONDS SERIAL STDERR_LOG
	local seconds=$1 serial=$2 stderr_log=$3 fifos group start serial_sink=$2 tee_process=""
	fifos=$(mktemp -d "${TMPDIR:-/tmp}/canon-qemu.XXXXXX") || return 1
	mkfifo "$fifos/stderr" || return 1
	if [ "${boot_live:-no}" = yes ]; then
		mkfifo "$fifos/serial" || return 1
		tee "$serial" <"$fifos/serial" &
		tee_process=$!
		serial_sink=$fifos/serial
	fi
	start=$EPOCHREALTIME
	timeout -k 1 "$seconds" "${qemu_command[@]}" </dev/null >"$serial_sink" 2>"$fifos/stderr" &
	group=$!
	[ -n "$running_group_directory" ] && : >"$running_group_directory/$group"
	watch_qemu_stderr "$group" <"$fifos/stderr" 3>"$stderr_log"
	launch_status=0
	wait "$group" 2>/dev/null || launch_status=$? # quiet: bash would announce a signal death
	launch_seconds=$(elapsed_since "$start")
	kill -KILL -- "-$group" 2>/dev/null # nothing may outlive its timeout
	[ -n "$running_group_directory" ] && rm -f "$running_group_directory/$group"
	[ -n "$tee_process" ] && wait "$tee_process"
	rm -rf "$fifos"
	return 0
}

elapsed_since() { # EPOCHREALTIME-VALUE: prints the seconds since, to the microsecond
	local start=${1/[.,]/} now=${EPOCHREALTIME/[.,]/}
	local microseconds=$((10#$now - 10#$start))
	printf '%d.%06d' $((microseconds / 1000000)) $((microseconds % 1000000))
}
