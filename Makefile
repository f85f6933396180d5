# canon: build x86/<test>.flat from x86/<test>.c and the libraries.
#
#   make            build every image
#   make run        boot the main image (x86/usermode.flat, or selftest)
#   make check      run the whole suite through ./run_tests.sh
#   make standalone write tests/<name>, one self-contained script per cfg section
#   make clean

ifeq ($(wildcard config.mak),)
$(shell ./configure >&2)
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

.PHONY: all run check standalone clean distclean
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
	x86/run $<

check: all
	./run_tests.sh

standalone: all
	scripts/standalone.sh

clean:
	rm -f lib/*.[od] lib/alloc/*.[od] lib/x86/*.[od] x86/*.[od] x86/*/*.[od] $(LIBRARY) \
		x86/*.flat x86/*.pvh x86/*.elf x86/*.pass1 x86/*.symbols.[So] x86/flat.lds
	rm -rf logs tests

distclean: clean
	rm -f config.mak

-include $(wildcard lib/*.d lib/alloc/*.d lib/x86/*.d x86/*.d x86/*/*.d)
