#!/usr/bin/env bash
# make-iso.sh: GRUB rescue ISOs that boot canon's images through multiboot,
# for machines without QEMU's -kernel: Bochs, QEMU's -cdrom and a PC booted
# from a USB stick.
#
#   scripts/make-iso.sh ISO IMAGE [WORDS]      IMAGE at once, with the guest's
#                                              command line WORDS; GRUB on COM1
#   scripts/make-iso.sh --menu ISO IMAGE...    a menu: each IMAGE, and each under
#                                              5-level paging (la57); the first
#                                              boots after 5 s; GRUB on screen and COM1
#
# `make iso` writes the menu of every image, x86/canon.iso.  The runner
# (ACCEL=bochs) writes the first kind for each test, with its words and
# errata.  Needs GRUB for BIOS PCs: Debian's grub-pc-bin, grub-common,
# xorriso and mtools (scripts/install-dependencies.sh iso).  The guest
# writes only to COM1 (115200 8N1): on a PC, read it with a serial cable.
set -uo pipefail
# shellcheck source=scripts/runner/bochs.sh
. "$(dirname "${BASH_SOURCE[0]}")/runner/bochs.sh"

usage() {
	sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

missing_grub() {
	if ! hash grub-mkrescue xorriso 2>/dev/null || [ ! -e "$grub_platform_directory/multiboot.mod" ]; then
		echo "make-iso.sh: needs grub-mkrescue, xorriso and $grub_platform_directory:" \
			"install $grub_packages (scripts/install-dependencies.sh iso)" >&2
		exit 2
	fi
}

# The menu: every IMAGE as it is, then every IMAGE under 5-level paging.
write_menu() { # ISO IMAGE...
	local iso=$1 image name
	shift
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/canon-iso.XXXXXX") || exit 2
	trap 'rm -rf "$scratch"' EXIT # scratch is global: the trap runs after this function
	mkdir -p "$scratch/boot/grub"
	{
		write_grub_head 5 yes
		for image in "$@"; do
			name=${image##*/}
			cp "$image" "$scratch/boot/$name" || exit 2
			write_grub_entry "${name%.flat}" "/boot/$name" ""
		done
		for image in "$@"; do
			name=${image##*/}
			write_grub_entry "${name%.flat}, 5-level paging" "/boot/$name" la57
		done
	} >"$scratch/boot/grub/grub.cfg"
	run_grub_mkrescue "$scratch" "$iso" >&2 || exit 1
}

main() {
	local menu=no image
	[ "${1:-}" = --menu ] && menu=yes && shift
	[ $# -ge 2 ] || usage
	[[ $1 == *.iso ]] || { echo "make-iso.sh: '$1' should end in .iso (it is the output)" >&2; exit 2; }
	for image in "${@:2}"; do
		[ -r "$image" ] || { echo "make-iso.sh: $image: no such image (run make first)" >&2; exit 2; }
		[ "$menu" = yes ] || break
	done
	missing_grub
	if [ "$menu" = yes ]; then
		write_menu "$@"
	else
		[ $# -le 3 ] || usage
		scratch=$(mktemp -u "${TMPDIR:-/tmp}/canon-iso.XXXXXX") || exit 2
		make_boot_iso "$1" "$2" "${3:-}" "$scratch" >&2 || exit 1
	fi
	echo "  ISO     $1"
}

main "$@"
