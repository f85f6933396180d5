#!/usr/bin/env bash
# link-image.sh NAME OBJECT...: link x86/NAME.elf and x86/NAME.flat.
#
# Two passes, so that the image carries its own symbol table: the first
# links an empty table, the second a table of every function in the first.
# The table is the last thing in .rodata, so no code address moves between
# the passes; the script checks that, and the image's layout, afterwards.
#
# It also writes x86/NAME.pvh: the same bytes with the multiboot magic
# cleared.  QEMU's -kernel loader prefers multiboot whenever the header is
# there; without it, QEMU takes the PVH entry, which skips the multiboot
# option ROM and boots faster on -M microvm.
set -euo pipefail

name=$1
shift
out=x86/$name
lds=x86/flat.lds
: "${CC:=gcc}" "${LD:=ld}" "${NM:=nm}" "${READELF:=readelf}" "${OBJCOPY:=objcopy}"
ldflags=(-nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments
	--emit-relocs -T "$lds")

compile_symbols() {
	# shellcheck disable=SC2086  # empty for gcc, --target=... for clang
	"$CC" $CC_TARGET_FLAG -c -x assembler -o "$2" "$1"
}

link() {
	"$LD" "${ldflags[@]}" -o "$1" "${@:2}"
}

scripts/symbols.sh "$name" > "$out.symbols.S"
compile_symbols "$out.symbols.S" "$out.symbols.o"
link "$out.pass1" "$@" "$out.symbols.o"

scripts/symbols.sh "$name" "$out.pass1" > "$out.symbols.S"
compile_symbols "$out.symbols.S" "$out.symbols.o"
link "$out.elf" "$@" "$out.symbols.o"

scripts/check-image.sh "$out.pass1" "$out.elf"
"$OBJCOPY" --strip-all --remove-section='.rela*' "$out.elf" "$out.flat"
header_offset=$(scripts/check-image.sh --flat "$out.flat")
cp "$out.flat" "$out.pvh"
printf '\0\0\0\0' | dd of="$out.pvh" bs=1 seek="$header_offset" conv=notrunc status=none
