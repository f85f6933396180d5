/* wp-nx.h: what the parts of the wp-nx test share: its pages and its cases. */
#ifndef CANON_WP_NX_H
#define CANON_WP_NX_H

#include "types.h"

#define DATA_MAGIC 0x77e5ull
#define DATA_OFFSET 0x1f0 /* so that CR2 is not page-aligned */

/* The pages set_up() makes (wp-nx.c); tests never choose their addresses. */
struct wp_nx_pages {
	u64 supervisor_code;  /* supervisor, not executable: magic_function */
	u64 user_code;        /* user, not executable: magic_function */
	u64 user_executable;  /* user, executable: magic_function */
	u64 supervisor_data;  /* supervisor, read-only: zero at DATA_OFFSET */
	u64 user_read_only;   /* user, read-only */
	u64 user_writable;    /* user, writable */
	u64 two_pages;        /* supervisor, executable then NX */
};
extern struct wp_nx_pages pages;

/* What the boot must have given for a case to run. */
enum needs {
	ALWAYS,
	NX_ON,     /* EFER.NXE=1 */
	NX_OFF,    /* EFER.NXE=0 */
	NX_ABSENT, /* CPUID has no NX */
};

enum access { READ, WRITE, FETCH, USER_READ };

struct wp_nx_case {
	const char *name;
	bool (*run)(const struct wp_nx_case *c); /* explains a failure, returns pass */
	enum needs needs;
	int level;          /* the paging level the case edits, 0 for none */
	bool executable;    /* the page is made executable first */
	bool write_protect; /* CR0.WP during the write */
	enum access access; /* the access the reserved bit meets */
	bool in_bss;        /* kernel data in .bss, not .data */
	bool straddles;     /* an instruction straddles the boundary, not runs off it */
};

/* no-execute.c: XD, the kernel image's own rights, bit 63 with NXE=0. */
bool nx_supervisor_page(const struct wp_nx_case *c);
bool nx_user_page_at_cpl3(const struct wp_nx_case *c);
bool nx_at_level(const struct wp_nx_case *c);
bool nx_crossing(const struct wp_nx_case *c);
bool nx_page_readable(const struct wp_nx_case *c);
bool kernel_data_not_executable(const struct wp_nx_case *c);
bool kernel_text_read_only(const struct wp_nx_case *c);
bool reserved_bit(const struct wp_nx_case *c);
bool no_execute_enable_refused(const struct wp_nx_case *c);

/* write-protect.c: CR0.WP. */
bool write_read_only_supervisor(const struct wp_nx_case *c);
bool write_read_only_user(const struct wp_nx_case *c);
bool write_read_only_at_level(const struct wp_nx_case *c);

#endif
