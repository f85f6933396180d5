#!/usr/bin/env bash
# check-image.sh PASS1 ELF: the second link pass moved no function, and no
#   user section refers to kernel memory (user code would fault on it).
# check-image.sh --flat FLAT: QEMU's multiboot loader can load FLAT: the
#   header is in the first 8 KiB, and every loaded segment sits in the file
#   exactly where the header's address fields say.  Prints the header's
#   file offset.
set -euo pipefail
: "${NM:=nm}" "${READELF:=readelf}"

fail() {
	echo "check-image: $*" >&2
	exit 1
}

functions() {
	"$NM" --defined-only "$1" | awk '$2 ~ /^[tT]$/' | sort
}

check_link() {
	local pass1=$1 elf=$2 bad
	if ! cmp -s <(functions "$pass1") <(functions "$elf"); then
		fail "$elf: function addresses moved between link passes"
	fi
	# Relocations kept by --emit-relocs: .rela.user.* naming an upper-half symbol.
	bad=$("$READELF" -rW "$elf" | awk '
		/^Relocation section/ { user = ($3 ~ /\.rela\.user\./) ; next }
		user && NF >= 5 && $4 ~ /^f{4}/ { print $5 }' | sort -u)
	if [ -n "$bad" ]; then
		fail "$elf: user code or data refers to kernel symbols: $(echo "$bad" | tr '\n' ' ')
  (string literals, switch tables and library calls in USER_CODE functions land in kernel sections)"
	fi
}

word_at() { # file offset -> little-endian u32
	od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '
}

check_flat() {
	local flat=$1 line offset
	# One 32-bit word per line; the header starts on a 4-byte boundary.
	# awk reads everything: stopping early would SIGPIPE od under pipefail.
	line=$(od -An -tx4 -w4 -v -N8192 "$flat" | awk '$1 == "1badb002" && !line { line = NR }
		END { print line }')
	[ -n "$line" ] || fail "$flat: no multiboot header in the first 8 KiB"
	offset=$(((line - 1) * 4))
	local header_address load_address load_end
	header_address=$(word_at "$flat" $((offset + 12)))
	load_address=$(word_at "$flat" $((offset + 16)))
	load_end=$(word_at "$flat" $((offset + 20)))
	local file_base=$((offset - (header_address - load_address)))
	local size
	size=$(stat -c %s "$flat")
	[ $((file_base + load_end - load_address)) -le "$size" ] ||
		fail "$flat: file shorter than load_end_addr says"
	# Every PT_LOAD with file data must sit at file_base + (paddr - load_addr).
	local type file_offset physical file_size
	while read -r type file_offset _ physical file_size _; do
		if [ "$type" != LOAD ] || [ $((file_size)) -eq 0 ]; then
			continue
		fi
		if [ $((file_offset)) -ne $((file_base + physical - load_address)) ]; then
			fail "$flat: segment at physical $physical is at file offset $file_offset," \
				"not $((file_base + physical - load_address))"
		fi
	done < <("$READELF" -lW "$flat")
	echo "$offset"
}

if [ "${1:-}" = --flat ]; then
	check_flat "$2"
else
	check_link "$1" "$2"
fi
