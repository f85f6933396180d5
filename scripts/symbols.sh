#!/usr/bin/env bash
# symbols.sh NAME [ELF]: the assembly source of an image's symbol table.
#
# Without ELF, an empty table (the first link pass).  With it, every
# function symbol (kernel and user text), sorted by address, so that the
# guest can name the functions in a backtrace.
set -euo pipefail

name=$1
elf=${2:-}
: "${NM:=nm}"

cat <<HEADER
	.section .kernel_symbols, "a"
	.globl image_name, kernel_symbol_count, kernel_symbol_table
image_name:
	.asciz "$name"
	.balign 8
HEADER

if [ -z "$elf" ]; then
	printf 'kernel_symbol_count:\n\t.quad 0\nkernel_symbol_table:\n'
	exit 0
fi

mapfile -t symbols < <("$NM" --defined-only "$elf" | awk '$2 ~ /^[tT]$/ { print $1, $3 }' |
	sort -u -k1,1)
printf 'kernel_symbol_count:\n\t.quad %d\nkernel_symbol_table:\n' "${#symbols[@]}"
for i in "${!symbols[@]}"; do
	read -r address symbol <<<"${symbols[$i]}"
	printf '\t.quad 0x%s, symbol_name_%d\n' "$address" "$i"
done
for i in "${!symbols[@]}"; do
	read -r _ symbol <<<"${symbols[$i]}"
	printf 'symbol_name_%d:\n\t.asciz "%s"\n' "$i" "$symbol"
done
