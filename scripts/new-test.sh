#!/usr/bin/env bash
# new-test.sh NAME: write the skeleton of a new test, x86/NAME.c, with its
# section in x86/unittests.cfg, build it and run it once.  The skeleton is a
# working test (a CPL 0 read of a kernel variable succeeds, the same read at
# CPL 3 raises #PF(P|U)), to be replaced by the rule the new test is about.
# docs/writing-a-test.md explains each part.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

name=${1:-}
if [[ ! $name =~ ^[a-z][a-z0-9-]*$ ]]; then
	echo "usage: scripts/new-test.sh NAME   (lowercase letters, digits and '-')" >&2
	exit 2
fi
source_file=x86/$name.c
if [ -e "$source_file" ] || grep -q "^\[$name\]" x86/unittests.cfg; then
	echo "new-test.sh: $source_file or the cfg section [$name] exists already" >&2
	exit 2
fi
identifier=${name//-/_}

cat >"$source_file" <<TEST
/*
 * $name: <the architectural rule this test checks, in one sentence>.
 *
 * Rules checked (<SDM Vol. and section>; <AMD APM Vol. and section>):
 *  - A CPL 3 read of a supervisor page raises #PF with P=1 and U/S=1, and
 *    CR2 holds the address (SDM Vol. 3A 4.6, 4.7).  <Replace with the rule.>
 *  - The same read at CPL 0 succeeds.
 *
 * Vendors: <where Intel and AMD differ, and how the test tells them apart
 * (cpu_vendor()), or "the same on both">.
 *
 * Cannot test: <what the test leaves out, and why>.
 */
#include "exceptions.h"
#include "page-table.h"
#include "probe.h"
#include "report.h"

/* The instruction under test, at CPL 0 (${identifier}_read) and CPL 3 (user_${identifier}_read). */
PROBE(${identifier}_read, BOTH, "", "mov (%rdi), %rax", "");

static u64 kernel_variable = 0x5eed;

static const struct ${identifier}_case {
	const char *name;
	unsigned cpl;
	bool faults; /* #PF(P|U) at the read, or the value comes back */
} cases[] = {
	{ .name = "CPL 0 read of a kernel variable succeeds", .cpl = 0 },
	{ .name = "CPL 3 read of a kernel variable raises #PF(P|U)", .cpl = 3, .faults = true },
};

static void run_case(const struct ${identifier}_case *c)
{
	struct probe probe = c->cpl ? PROBE_OF(user_${identifier}_read) : PROBE_OF(${identifier}_read);
	struct probe_result result = run_probe(probe, c->cpl, (u64)&kernel_variable, 0, 0, 0);
	struct exception_info expected = no_exception();
	bool pass;

	if (c->faults)
		expected = at_cpl(page_fault_at(PAGE_FAULT_PRESENT | PAGE_FAULT_USER,
						(u64)&kernel_variable, (u64)probe.instruction),
				  c->cpl);
	pass = outcome_matches(c->name, expected, result.outcome);
	if (pass && !c->faults && result.value != kernel_variable) {
		report_info("%s: read %#lx, expected %#lx", c->name, result.value, kernel_variable);
		pass = false;
	}
	report(pass, "%s", c->name);
}

int main(int argc, char **argv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	return report_summary();
}
TEST

printf '\n[%s]\nfile = %s.flat\ngroups = %s\n' "$name" "$name" "$name" >>x86/unittests.cfg

echo "new-test.sh: wrote $source_file and the cfg section [$name]; building and running it"
make "x86/$name.flat"
./run_tests.sh "$name"
