# canon: build x86/<test>.flat from x86/<test>.c and the libraries.
#
#   make            build every image
#   make run        boot the main image (x86/usermode.flat, or selftest)
#   make check      run the whole suite through ./run_tests.sh
#   make standalone write tests/<name>, one self-contained script per cfg section
#   make iso        write x86/canon.iso: GRUB's menu of every image, for
#                   qemu -cdrom, Bochs or a USB stick (README)
#   make clean
#
# make run and make check first install what is missing (QEMU, gcc,
# binutils) through scripts/install-dependencies.sh, as README promises:
# before ./configure when it has not run yet, and before booting.  make
# iso installs GRUB's tools; so does make check when it finds a Bochs
# (BOCHS, or bochs on PATH), whose sections boot through GRUB.

ifeq ($(wildcard config.mak),)
$(shell $(if $(filter run check,$(MAKECMDGOALS)),scripts/install-dependencies.sh >&2;) ./configure >&2)
endif
include config.mak

MAIN_IMAGE ?= $(if $(wildcard x86/usermode.c),usermode,selftest)

TESTS := $(patsubst x86/%.c,%,$(wildcard x86/*.c))
IMAGES := $(TESTS:%=x86/%.flat)

LIBRARY := lib/libcanon.a
LIBRARY_SOURCES := $(wildcard lib/*.c lib/alloc/*.c lib/x86/*.c lib/x86/*.S)
LIBRARY_OBJECTS := $(patsubst %.c,%.o,$(patsubst %.S,%.o,$(LIBRARY_SOURCES)))

# No SSE, x87 or red zone in the kernel; frame pointers for backtraces;
# no jump tables, so that user functions never read kernel .rodata.
CFLAGS := -std=gnu11 -O2 -g $(CC_TARGET_FLAG) \
	-ffreestanding -nostdlib -fno-builtin -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone \
	-mno-sse -mno-sse2 -mno-mmx -mno-3dnow -mno-avx -mno-80387 \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-jump-tables \
	-fno-strict-aliasing \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-Ilib -Ilib/x86 \
	$(if $(PROCESSOR),-march=$(PROCESSOR)) \
	$(shell $(CC) -Werror -fno-tree-loop-distribute-patterns -E -x c /dev/null \
		>/dev/null 2>&1 && echo -fno-tree-loop-distribute-patterns)
ASFLAGS := $(CC_TARGET_FLAG) -g -Ilib -Ilib/x86 -D__ASSEMBLER__
DEPFLAGS = -MMD -MP

export CC CC_TARGET_FLAG CFLAGS LD NM READELF OBJCOPY

.PHONY: all run check standalone iso clean distclean
.SECONDARY:

all: $(IMAGES)

%.o: %.c config.mak
	@echo "  CC      $@"
	@$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

%.o: %.S config.mak
	@echo "  AS      $@"
	@$(CC) $(ASFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIBRARY): $(LIBRARY_OBJECTS)
	rm -f $@
	ar rcs $@ $^

x86/flat.lds: x86/flat.lds.S lib/x86/layout.h
	$(CC) -E -P -DLINKER_SCRIPT -Ilib/x86 -x c -o $@ $<

# A test too large for one file keeps its other parts in x86/<test>/*.c.
test_parts = $(patsubst %.c,%.o,$(wildcard x86/$(1)/*.c))

.SECONDEXPANSION:
x86/%.flat: x86/%.o $$(call test_parts,$$*) x86/cstart64.o $(LIBRARY) x86/flat.lds \
		scripts/link-image.sh
	@echo "  LINK    $@"
	@scripts/link-image.sh $* x86/cstart64.o $< $(call test_parts,$*) $(LIBRARY)

run: x86/$(MAIN_IMAGE).flat
	@scripts/install-dependencies.sh
	x86/run $<

# RUN_TESTS_FLAGS: more flags for ./run_tests.sh (.ci/run passes -S).
check: all
	@scripts/install-dependencies.sh $(if $(or $(BOCHS),$(shell command -v bochs)),iso)
	./run_tests.sh $(RUN_TESTS_FLAGS)

# The menu boots MAIN_IMAGE first, after 5 s: qemu -cdrom x86/canon.iso
# runs it and exits by itself.
iso: x86/canon.iso

x86/canon.iso: x86/$(MAIN_IMAGE).flat $(IMAGES) scripts/make-iso.sh scripts/runner/bochs.sh
	@scripts/install-dependencies.sh iso
	@scripts/make-iso.sh --menu $@ x86/$(MAIN_IMAGE).flat $(filter-out x86/$(MAIN_IMAGE).flat,$(IMAGES))

standalone: all
	scripts/standalone.sh

clean:
	rm -f lib/*.[od] lib/alloc/*.[od] lib/x86/*.[od] x86/*.[od] x86/*/*.[od] $(LIBRARY) \
		x86/*.flat x86/*.pvh x86/*.elf x86/*.pass1 x86/*.symbols.[So] x86/flat.lds x86/canon.iso
	rm -rf logs tests

distclean: clean
	rm -f config.mak

-include $(wildcard lib/*.d lib/alloc/*.d lib/x86/*.d x86/*.d x86/*/*.d)
