#!/usr/bin/env bash
# standalone.sh: writes tests/<name> for every section of x86/unittests.cfg:
# a bash script with the image inside (base64) and the runner's own code, so
# that it runs on a machine that has only QEMU, prints the same result line
# and exits with the same status table (0 pass, 77 skip, 124 timeout,
# >=128 signal, else fail).  `make standalone` runs it after building.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runner=$root/scripts/runner
# shellcheck source=scripts/runner/config.sh
. "$runner/config.sh"
# shellcheck source=scripts/runner/errata.sh
. "$runner/errata.sh"

# The runner files a standalone test carries, in the order they are needed.
library_files="config.sh errata.sh qemu.sh bochs.sh outcome.sh test.sh"

header() { # NAME
	local version
	version=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
	cat <<HEADER
#!/usr/bin/env bash
# tests/$1: canon's [$1] test from x86/unittests.cfg, standalone.
# Written by scripts/standalone.sh from canon $version; do not edit.
# Needs bash, coreutils and QEMU (package qemu-system-x86); with ACCEL=bochs
# or accel = bochs, Bochs 2.8 or newer (BOCHS) and GRUB's grub-mkrescue
# (grub-pc-bin grub-common xorriso mtools) instead of QEMU.  Prints the
# log: the command, the guest's output and one result line; exits 0 pass,
# 77 skip, 124 timeout, >=128 signal, anything else fail.
# Environment, as for run_tests.sh: QEMU ACCEL MACHINE TIMEOUT QEMU_EXTRA BOCHS.
# shellcheck disable=SC2317,SC2034 # the runner's files come whole; some go unused
set -uo pipefail
HEADER
}

# The section and its errata as bash declarations the runner code reads.
section_data() { # NAME
	local name=$1 key array
	local -A fields=()
	for key in $config_keys; do
		[ -n "${section_field[$name/$key]+set}" ] && fields[$name/$key]=${section_field[$name/$key]}
	done
	declare -p fields | sed 's/^declare -A fields=/section_field=/'
	# All the errata arrays, whole: select_errata picks the test's entries.
	for array in errata_line errata_accelerator errata_conditions errata_test errata_pattern \
		errata_outcomes errata_by_test; do
		declare -p "$array" | sed 's/^declare -[aA] /&-g /'
	done
	echo "errata_file_name=$(shell_quote "$errata_file_name")"
	echo "section_names=($(shell_quote "$name"))"
	echo "ARCH=${ARCH:-x86_64}"
}

shell_quote() { printf '%q' "$1"; }

# Each image the section can boot, as base64 inside a here-document.
embedded_images() { # IMAGE
	local suffix
	cat <<'TOP'
write_image() { # SUFFIX: the embedded image file to stdout
	case $1 in
TOP
	for suffix in flat pvh; do
		[ -r "$root/x86/$1.$suffix" ] || continue
		printf '\t%s)\n\t\tbase64 -d <<%s\n' "$suffix" "'END_OF_IMAGE'"
		base64 -w 76 "$root/x86/$1.$suffix"
		printf 'END_OF_IMAGE\n\t\t;;\n'
	done
	cat <<'BOTTOM'
	*) return 1 ;;
	esac
}
BOTTOM
}

# What runs: unpack the images, boot as run_tests.sh would, show the log.
standalone_main() {
	cat <<'MAIN'
standalone_main() {
	local name=${section_names[0]} work suffix image
	check_environment_values "tests/$name" || exit 2
	work=$(mktemp -d "${TMPDIR:-/tmp}/canon-standalone.XXXXXX") || exit 2
	trap 'stop_running_qemus; rm -rf "$work"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	running_group_directory=$work image_directory=$work
	image=${section_field[$name/file]%.flat}
	for suffix in flat pvh; do # the .pvh last, so that it is the newer twin
		write_image "$suffix" >"$work/$image.$suffix" || rm -f "$work/$image.$suffix"
	done
	find_qemu
	run_test "$name" "$work/log" "$work/serial"
	cat "$work/log"
	exit "$result_status"
}
MAIN
}

write_standalone() { # NAME OUTPUT
	local name=$1 output=$2 file image
	image=${section_field[$name/file]%.flat}
	if [ ! -r "$root/x86/$image.flat" ]; then
		echo "standalone.sh: x86/$image.flat is missing: run make first" >&2
		return 1
	fi
	{
		header "$name"
		for file in $library_files; do
			echo
			echo "# ---- scripts/runner/$file ----"
			cat "$runner/$file"
		done
		echo
		echo "# ---- this test ----"
		section_data "$name"
		embedded_images "$image"
		standalone_main
		echo 'standalone_main "$@"'
	} >"$output.tmp" && chmod +x "$output.tmp" && mv "$output.tmp" "$output"
}

main() {
	local name failed=0
	parse_config "$root/x86/unittests.cfg" || exit 2
	parse_errata "$root/x86/errata.txt" x86/errata.txt || exit 2
	ARCH=$(sed -n 's/^ARCH=//p' "$root/config.mak" 2>/dev/null)
	mkdir -p "$root/tests"
	for name in "${section_names[@]}"; do
		if write_standalone "$name" "$root/tests/$name"; then
			echo "  STANDALONE tests/$name"
		else
			failed=1
		fi
	done
	return "$failed"
}

main "$@"
