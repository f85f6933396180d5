/*
 * vm.h: the memory API that tests use.  Tests never choose an address.
 *
 * vm_alloc() takes the size and who the memory is for.  VM_USER memory comes
 * from the user region in the lower half and is mapped with U/S=1 at every
 * level; VM_SUPERVISOR memory comes from the supervisor region in the upper
 * half and is mapped with U/S=0.  The allocator picks the address, leaves an
 * unmapped guard page below it, backs it with fresh zeroed frames and maps
 * each frame exactly once.
 *
 * A VM_USER address must not be dereferenced by kernel code: SMAP would
 * fault.  Kernel code reaches user memory only through user-access.h.
 *
 * vm_map_fixed() is for the rare test that needs one exact address (the
 * last canonical page, say); each call names its reason, and the audit lists
 * them all.
 *
 * vm_reserve() is for a test that builds its own page-table shapes: the
 * allocator picks an aligned range and maps nothing; the test maps frames
 * there with page_table_map(), edits the entries itself, and unmaps them
 * before vm_free().
 */
#ifndef CANON_VM_H
#define CANON_VM_H

#include "types.h"

#define VM_USER (1u << 0)        /* lower half, U/S=1 all the way down */
#define VM_SUPERVISOR (1u << 1)  /* upper half, U/S=0 */
#define VM_WRITE (1u << 2)       /* R/W=1 */
#define VM_EXECUTE (1u << 3)     /* XD=0; without it, pages are not executable */
#define VM_LARGE_PAGES (1u << 4) /* 2 MiB and 1 GiB pages where size allows */

enum vm_mapping_kind {
	MAPPING_ALLOCATION, /* vm_alloc */
	MAPPING_STACK,      /* vm_alloc_stack */
	MAPPING_FIXED,      /* vm_map_fixed */
	MAPPING_PHYSICAL,   /* vm_map_physical: firmware tables, devices */
	MAPPING_RESERVED,   /* vm_reserve: the owner maps and unmaps */
};

struct vm_mapping {
	enum vm_mapping_kind kind;
	u64 start, size, page_size;
	unsigned flags;
	const char *name; /* stack name or the fixed mapping's reason */
};

void vm_init(void);

void *vm_alloc(size_t bytes, unsigned flags);
void vm_free(void *address);
/* Change write/execute permission of whole pages of one allocation. */
bool vm_protect(void *address, size_t bytes, unsigned flags);
/* Map fresh zeroed memory at exactly address, for the stated reason. */
void *vm_map_fixed(u64 address, size_t bytes, unsigned flags, const char *reason);
/*
 * An unmapped range of bytes aligned to alignment (a multiple of the page
 * size), in the half that flags name (VM_USER or VM_SUPERVISOR), for the
 * stated reason.  Under 5-level paging a user range too large for the user
 * region comes from WIDE_USER_REGION (layout.h).
 */
void *vm_reserve(u64 bytes, u64 alignment, unsigned flags, const char *reason);
/* Map firmware or device memory (never RAM the allocator owns), supervisor. */
void *vm_map_physical(u64 physical, size_t bytes, unsigned flags);

/* A named supervisor stack with a guard page below; returns its top. */
u64 vm_alloc_stack(const char *name, size_t bytes);
/* The name of the stack whose guard page holds address, or NULL. */
const char *vm_stack_guard_owner(u64 address);

/* The mapping that contains address, or NULL. */
const struct vm_mapping *vm_find_mapping(u64 address);
/* Every mapping in use, in no particular order. */
void vm_for_each_mapping(void (*visit)(const struct vm_mapping *mapping, void *context),
			 void *context);
/* What address is: "kernel text", "guard page below the kernel stack", ... */
const char *vm_describe_address(u64 address, char *buffer, size_t size);

#endif
