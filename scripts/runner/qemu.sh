# shellcheck shell=bash disable=SC2034,SC2154 # results are globals the callers read
# qemu.sh: finds QEMU, probes the accelerator and CPU, builds the command
# line, boots one image under a timeout and reads what happened (sourced).
#
# x86/run, scripts/run_tests.sh, scripts/bench.sh and every standalone test
# boot through these functions, so they all boot the same way and read the
# result the same way.  Results come back in global variables, named below.
# From the command line to QEMU's exit nothing forks but timeout and QEMU:
# a fork and exec costs about a millisecond on the project's hosts, and a
# TCG boot takes 30 ms.

exit_device="isa-debug-exit,iobase=0xf4,iosize=0x4"
default_timeout=90

# ---- QEMU and the accelerator -------------------------------------------

# Sets qemu_binary, or qemu_missing_reason and returns 1.
find_qemu() {
	qemu_missing_reason=""
	qemu_binary=${QEMU:-}
	if [ -z "$qemu_binary" ]; then # hash looks in PATH without a subshell
		if hash qemu-system-x86_64 2>/dev/null; then
			qemu_binary=${BASH_CMDS[qemu-system-x86_64]}
		elif hash qemu-kvm 2>/dev/null; then
			qemu_binary=${BASH_CMDS[qemu-kvm]}
		fi
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
	local -a lines
	output=$(timeout -k 1 10 "$qemu_binary" -nodefaults -display none -S -monitor stdio "$@" \
		<<<quit 2>&1 >/dev/null)
	status=$?
	mapfile -t lines <<<"$output"
	last_meaningful_line "${lines[@]}"
	probe_error=$meaningful_line
	[ "$status" -eq 0 ]
}

# Sets meaningful_line to the last of LINES (QEMU's stderr) that says
# something.  QEMU 7.2 under kvm_pvm on an AMD host warns that the host
# lacks "pni" on every run; that warning means nothing.
last_meaningful_line() { # LINE...
	local index
	meaningful_line=""
	for ((index = $#; index > 0; index--)); do
		[[ ${!index} == *"host doesn't support requested feature"* ]] && continue
		[[ ${!index} == *[![:space:]]* ]] || continue
		meaningful_line=${!index}
		return
	done
}

# Can KVM create a VM here?  Sets kvm_available (yes/no), kvm_reason and
# kvm_identity: kvm-pvm when the kvm_pvm module provides /dev/kvm, else kvm,
# as errata entries name accelerators.  Probes once; later calls reuse the
# answer.
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
		kvm_available=yes kvm_identity=kvm kvm_reason=""
		[ -d /sys/module/kvm_pvm ] && kvm_identity=kvm-pvm
	fi
}

# ---- the CPU model --------------------------------------------------------

declare -A cpu_choice=()    # ["accelerator/requested"] = the -cpu that starts
declare -A cpu_probe_log=() # ["accelerator/requested"] = what was tried

# Finds a -cpu value that starts under KVM for REQUESTED ("host,+x,-y").
# Under kvm_pvm on an AMD host, host and max pass an MSR that the
# hypervisor refuses (IA32_ARCH_CAPABILITIES, 0x10a) and QEMU 7.2 aborts;
# the same model without that feature starts.  The requested +/- flags are
# kept.
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

# Sets machine_words to QEMU's -M (and firmware) options for MACHINE.
# microvm boots the PVH entry without firmware work; its legacy devices are
# off because the guest only needs COM1 and the exit device.  ACPI stays on
# for SMP guests (MADT).
set_machine_words() { # MACHINE SMP
	case $1 in
	microvm)
		machine_words=(-M "microvm,acpi=off,pit=off,pic=off,rtc=off")
		[ "$2" -gt 1 ] && machine_words=(-M "microvm,pit=off,pic=off,rtc=off") ;;
	qboot) machine_words=(-M pc -bios qboot.rom) ;;
	*) machine_words=(-M "$1") ;;
	esac
}

# Sets test_kernel to the file to boot for IMAGE (a path).  On microvm, the
# PVH twin of a .flat (NAME.pvh beside it, written by the build after the
# .flat) is booted instead when it exists and is newer: QEMU's -kernel takes
# the faster PVH entry only when the multiboot magic is gone.  Any other
# file is booted as given.
choose_kernel() { # IMAGE MACHINE
	local image=$1 twin=${1%.flat}.pvh
	test_kernel=$image
	if [ "$2" = microvm ] && [[ $image == *.flat ]] && [ "$twin" -nt "$image" ]; then
		test_kernel=$twin
	fi
}

# Fills qemu_command.  EXTRA are more QEMU words, last so that they win.
build_qemu_command() { # ACCELERATOR CPU MACHINE SMP KERNEL APPEND [EXTRA...]
	local accelerator=$1 cpu=$2 machine=$3 smp=$4 kernel=$5 append=$6
	local -a machine_words
	shift 6
	set_machine_words "$machine" "$smp"
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

# Sets quoted_command to qemu_command as a line that can be pasted into a
# shell: each word bare when it is safe, otherwise in '...'.
quote_command() {
	local word quoted
	quoted_command=""
	for word in "${qemu_command[@]}"; do
		if [[ $word == *[!A-Za-z0-9_./,:=+@%-]* || -z $word ]]; then
			quoted="'${word//\'/\'\\\'\'}'"
		else
			quoted=$word
		fi
		quoted_command+="${quoted_command:+ }$quoted"
	done
}

# ---- booting --------------------------------------------------------------

# Process groups of running QEMUs, one file each (qemu-GROUP), so that an
# interrupted run can stop them all (stop_running_qemus) from whichever
# process it was.  A finished QEMU's file says "finished" rather than
# going away: bash cannot remove a file without forking rm.
running_group_directory=""

stop_group() { # GROUP
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
}

stop_running_qemus() {
	local file state
	[ -n "$running_group_directory" ] || return 0
	for file in "$running_group_directory"/qemu-*; do
		[ -e "$file" ] || continue
		state=""
		read -r state <"$file"
		[ "$state" = finished ] || stop_group "${file##*/qemu-}"
		echo finished >"$file"
	done
}

# QEMU prints one of these when KVM cannot go on with the guest, then dumps
# the registers and pauses the VM instead of exiting.
is_hypervisor_failure_line() { # LINE
	[[ $1 == *"KVM internal error"* || $1 == *"KVM: entry failed"* ]]
}

# Keeps a line of QEMU's stderr in qemu_stderr_lines (and shows it on our
# stderr when boot_live is yes).
keep_stderr_line() { # LINE
	qemu_stderr_lines+=("$1")
	[ "${boot_live:-no}" = yes ] && printf '%s\n' "$1" >&2
	return 0
}

# Reads QEMU's stderr from FD until QEMU exits.  On a hypervisor failure it
# waits for the register dump's Code= line (a second at most) and stops
# QEMU at once, rather than at the timeout.  Sets hypervisor_failure to the
# first such line.
watch_qemu_stderr() { # FD GROUP
	local fd=$1 group=$2 line
	hypervisor_failure=""
	while IFS= read -r -u "$fd" line || [ -n "$line" ]; do
		keep_stderr_line "$line"
		if [ -z "$hypervisor_failure" ] && is_hypervisor_failure_line "$line"; then
			hypervisor_failure=$line
			while IFS= read -r -t 1 -u "$fd" line; do
				keep_stderr_line "$line"
				[[ $line == Code=* ]] && break
			done
			stop_group "$group"
		fi
	done
}

# Copies the guest's output to SERIAL and, each line after PREFIX, to FD:
# the live view of x86/run and run_tests.sh -v.
copy_serial_live() { # SERIAL PREFIX FD
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line"
		printf '%s%s\n' "$2" "${line%$'\r'}" >&"$3"
	done >"$1"
}

# Starts qemu_command under timeout, which gives it a process group of its
# own, in a process substitution whose pid is that group: no temporary
# fifo, nothing forked but timeout.  The substitution writes the group's
# file before it becomes timeout, so an interrupted run finds it.
start_qemu() { # SECONDS SERIAL
	if [ "${boot_live:-no}" = yes ]; then
		exec {emulator_live_fd}>&1
		exec {emulator_output_fd}< <(
			[ -n "$running_group_directory" ] && : >"$running_group_directory/qemu-$BASHPID"
			exec timeout -k 1 "$1" "${qemu_command[@]}" </dev/null 2>&1 \
				> >(copy_serial_live "$2" "${live_prefix:-}" "$emulator_live_fd"))
	else
		exec {emulator_output_fd}< <(
			[ -n "$running_group_directory" ] && : >"$running_group_directory/qemu-$BASHPID"
			exec timeout -k 1 "$1" "${qemu_command[@]}" </dev/null 2>&1 >"$2")
	fi
	emulator_group=$!
}

# Runs qemu_command with a timeout of MICROSECONDS (0: none, for debugging
# only), the serial console to SERIAL.  With boot_live=yes the guest's
# output and QEMU's stderr are also shown as they come (the output's lines
# after live_prefix).  Sets launch_status (timeout's status: 124 when it
# fired), launch_seconds, qemu_stderr_lines and hypervisor_failure.
launch_qemu() { # MICROSECONDS SERIAL
	qemu_stderr_lines=()
	launch_emulator start_qemu watch_qemu_stderr "$@"
}

# What launch_qemu and launch_bochs share: START (start_qemu or
# start_bochs) sets emulator_group, emulator_output_fd and, with
# boot_live=yes, emulator_live_fd; WATCH reads the output until the
# emulator closes it.  Nothing the emulator started outlives this.
launch_emulator() { # START WATCH MICROSECONDS SERIAL
	local seconds start
	printf -v seconds '%d.%06d' $(($3 / 1000000)) $(($3 % 1000000))
	start=$EPOCHREALTIME
	"$1" "$seconds" "$4"
	"$2" "$emulator_output_fd" "$emulator_group"
	exec {emulator_output_fd}<&-
	launch_status=0
	wait "$emulator_group" 2>/dev/null || launch_status=$? # quiet: bash would announce a signal death
	elapsed_since "$start"
	launch_seconds=$elapsed_seconds
	kill -KILL -- "-$emulator_group" 2>/dev/null # nothing may outlive its timeout
	[ -n "$running_group_directory" ] && echo finished >"$running_group_directory/qemu-$emulator_group"
	[ "${boot_live:-no}" = yes ] && exec {emulator_live_fd}>&-
	return 0
}

# Sets elapsed_seconds to the seconds since START, to the microsecond.
elapsed_since() { # EPOCHREALTIME-VALUE
	local start=${1/[.,]/} now=${EPOCHREALTIME/[.,]/}
	local microseconds=$((10#$now - 10#$start))
	printf -v elapsed_seconds '%d.%06d' $((microseconds / 1000000)) $((microseconds % 1000000))
}
