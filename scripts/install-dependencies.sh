#!/usr/bin/env bash
# install-dependencies.sh [--dry-run] [EXTRA...]: installs what canon needs
# from Debian's packages when it is missing: qemu-system-x86 to run the
# images, and gcc, make and binutils to build them; EXTRA adds clang or
# the script checker shellcheck (.ci/run asks for both), or iso: GRUB's
# grub-mkrescue with its BIOS modules, xorriso and mtools, which boot ISOs
# need (make iso, and the Bochs sections: Bochs boots through GRUB).
# Debian's bochs is 2.7, older than LASS, so Bochs itself is not installed
# here: docs/runner.md says how to build one.  As root it runs
# apt-get; otherwise it uses sudo when that needs no password, and else it
# prints the command to run and exits 1.  It prints nothing when nothing
# is missing.  --dry-run only says what it would install, and how.
set -euo pipefail

dry_run=no
if [ "${1:-}" = --dry-run ]; then
	dry_run=yes
	shift
fi

# command:package, for each thing canon needs; a command that starts with
# / is a file that the package installs.
needed=(qemu-system-x86_64:qemu-system-x86 gcc:gcc make:make ld:binutils)
for extra in "$@"; do
	case $extra in
	clang | shellcheck) needed+=("$extra:$extra") ;;
	iso) needed+=(grub-mkrescue:grub-common /usr/lib/grub/i386-pc/multiboot.mod:grub-pc-bin
		xorriso:xorriso mformat:mtools) ;;
	*) echo "install-dependencies.sh: unknown extra '$extra' (clang, shellcheck or iso)" >&2; exit 2 ;;
	esac
done
missing=()
for pair in "${needed[@]}"; do
	case ${pair%%:*} in
	/*) [ -e "${pair%%:*}" ] || missing+=("${pair#*:}") ;;
	*) command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}") ;;
	esac
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root=(sudo)
else
	echo "canon needs ${missing[*]}; install with:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
if [ "$dry_run" = yes ]; then
	echo "canon would install ${missing[*]} with: ${as_root[*]:+${as_root[*]} }apt-get install -y ${missing[*]}"
	exit 0
fi
echo "canon: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -q >&2
# Recommends would add a GTK front end and UEFI firmware that canon never uses.
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >&2
