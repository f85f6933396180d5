#!/usr/bin/env bash
# install-dependencies.sh: install what canon needs from Debian's packages,
# if it is missing: qemu-system-x86 to run the images, and gcc, make and
# binutils to build them.  As root it runs apt-get; otherwise it uses sudo
# when that needs no password, and else prints the command to run.
set -euo pipefail

missing=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v ld >/dev/null 2>&1 || missing+=(binutils)
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
echo "canon: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -q >&2
# Recommends would add a GTK front end and UEFI firmware that canon never uses.
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >&2
