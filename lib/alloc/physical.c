/*
 * physical.c: a bitmap of free frames.  One bit per 4 KiB frame below
 * PHYSICAL_MEMORY_LIMIT; a set bit means "RAM and free".  RAM ranges are
 * kept beside it, so a free of a frame that is not RAM is caught just like
 * a double free.
 */
#include "physical.h"
#include "layout.h"
#include "memory.h"

#define FRAME_COUNT (PHYSICAL_MEMORY_LIMIT / PAGE_SIZE)
#define BITS_PER_WORD 64
#define MAX_RAM_RANGES 64
#define MAX_RESERVED_RANGES 16

static u64 free_bitmap[FRAME_COUNT / BITS_PER_WORD];
static struct {
	u64 start, end; /* frame numbers */
} ram_ranges[MAX_RAM_RANGES];
static unsigned ram_range_count;
/* Never handed out, and never accepted back: the image, the loader's data. */
static struct {
	u64 start, end; /* frame numbers */
} reserved_ranges[MAX_RESERVED_RANGES];
static unsigned reserved_range_count;
static u64 free_frames, ram_end_frame;
static u64 search_hint; /* lowest word that may hold a free frame */
static void (*zero_frames)(u64 address, u64 count);

static bool frame_is_free(u64 frame)
{
	return free_bitmap[frame / BITS_PER_WORD] & (1ULL << (frame % BITS_PER_WORD));
}

static void set_frame_free(u64 frame, bool free)
{
	u64 bit = 1ULL << (frame % BITS_PER_WORD);

	if (free)
		free_bitmap[frame / BITS_PER_WORD] |= bit;
	else
		free_bitmap[frame / BITS_PER_WORD] &= ~bit;
}

static bool frame_is_reserved(u64 frame)
{
	for (unsigned i = 0; i < reserved_range_count; i++)
		if (frame >= reserved_ranges[i].start && frame < reserved_ranges[i].end)
			return true;
	return false;
}

static bool frame_is_ram(u64 frame)
{
	for (unsigned i = 0; i < ram_range_count; i++)
		if (frame >= ram_ranges[i].start && frame < ram_ranges[i].end)
			return true;
	return false;
}

/* Number of set bits, without the compiler's library helper. */
static unsigned count_bits(u64 word)
{
	word = word - ((word >> 1) & 0x5555555555555555ULL);
	word = (word & 0x3333333333333333ULL) + ((word >> 2) & 0x3333333333333333ULL);
	word = (word + (word >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((word * 0x0101010101010101ULL) >> 56);
}

/* Bits first..last-1 of the word holding first (last within that word). */
static u64 word_mask(u64 first, u64 last)
{
	u64 low = first % BITS_PER_WORD, count = last - first;

	return (count == BITS_PER_WORD ? ~0ULL : ((1ULL << count) - 1)) << low;
}

/*
 * Set (free = true) or clear the bits of frames [first, last), a word at a
 * time, and return how many bits changed.
 */
static u64 mark_frames(u64 first, u64 last, bool free)
{
	u64 changed = 0;

	while (first < last) {
		u64 word_end = ALIGN_DOWN(first, BITS_PER_WORD) + BITS_PER_WORD;
		u64 end = last < word_end ? last : word_end;
		u64 *word = &free_bitmap[first / BITS_PER_WORD];
		u64 mask = word_mask(first, end);
		u64 before = *word;

		*word = free ? before | mask : before & ~mask;
		changed += count_bits(before ^ *word);
		first = end;
	}
	return changed;
}

/*
 * Add frames [first, last) as RAM.  Parts that overlap a range added
 * earlier are skipped, so every frame of what remains is new and its bit
 * can be set without counting: the whole words go in with one memset.
 */
static void add_frames(u64 first, u64 last)
{
	u64 head_end, tail_start;

	for (unsigned i = 0; i < ram_range_count; i++) {
		u64 start = ram_ranges[i].start, end = ram_ranges[i].end;

		if (first < end && start < last) {
			if (first < start)
				add_frames(first, start);
			if (end < last)
				add_frames(end, last);
			return;
		}
	}
	if (first >= last || ram_range_count == MAX_RAM_RANGES)
		return;
	ram_ranges[ram_range_count].start = first;
	ram_ranges[ram_range_count].end = last;
	ram_range_count++;
	head_end = ALIGN_UP(first, BITS_PER_WORD);
	tail_start = ALIGN_DOWN(last, BITS_PER_WORD);
	if (head_end >= tail_start) {
		mark_frames(first, last, true);
	} else {
		mark_frames(first, head_end, true);
		memset(&free_bitmap[head_end / BITS_PER_WORD], 0xff,
		       (tail_start - head_end) / BITS_PER_WORD * sizeof(u64));
		mark_frames(tail_start, last, true);
	}
	free_frames += last - first;
	if (last > ram_end_frame)
		ram_end_frame = last;
}

void physical_add_ram(u64 start, u64 end)
{
	u64 last = end / PAGE_SIZE;

	add_frames((start + PAGE_SIZE - 1) / PAGE_SIZE, last < FRAME_COUNT ? last : FRAME_COUNT);
}

void physical_reserve(u64 start, u64 end)
{
	u64 first = start / PAGE_SIZE, last = (end + PAGE_SIZE - 1) / PAGE_SIZE;

	if (last > FRAME_COUNT)
		last = FRAME_COUNT;
	if (first >= last)
		return;
	if (reserved_range_count < MAX_RESERVED_RANGES) {
		reserved_ranges[reserved_range_count].start = first;
		reserved_ranges[reserved_range_count].end = last;
		reserved_range_count++;
	}
	free_frames -= mark_frames(first, last, false);
}

void physical_set_zero_function(void (*zero)(u64 address, u64 count))
{
	zero_frames = zero;
}

static bool run_is_free(u64 first, u64 count)
{
	for (u64 frame = first; frame < first + count; frame++) {
		/* Skip whole empty words quickly when the run is long. */
		if (frame % BITS_PER_WORD == 0 && first + count - frame >= BITS_PER_WORD) {
			if (free_bitmap[frame / BITS_PER_WORD] != ~0ULL)
				return false;
			frame += BITS_PER_WORD - 1;
			continue;
		}
		if (!frame_is_free(frame))
			return false;
	}
	return true;
}

static u64 find_single_frame(void)
{
	u64 words = (ram_end_frame + BITS_PER_WORD - 1) / BITS_PER_WORD;

	for (u64 word = search_hint; word < words; word++) {
		if (free_bitmap[word]) {
			search_hint = word;
			return word * BITS_PER_WORD + (u64)__builtin_ctzll(free_bitmap[word]);
		}
	}
	return PHYSICAL_ALLOCATION_FAILED;
}

static u64 find_run(u64 count, u64 alignment_frames)
{
	u64 start = search_hint * BITS_PER_WORD;

	start = (start + alignment_frames - 1) / alignment_frames * alignment_frames;
	for (u64 first = start; first + count <= ram_end_frame; first += alignment_frames)
		if (run_is_free(first, count))
			return first;
	return PHYSICAL_ALLOCATION_FAILED;
}

u64 physical_alloc(u64 count, u64 alignment, unsigned flags)
{
	u64 alignment_frames = alignment > PAGE_SIZE ? alignment / PAGE_SIZE : 1;
	u64 first;

	if (!count || count > free_frames)
		return PHYSICAL_ALLOCATION_FAILED;
	if (count == 1 && alignment_frames == 1)
		first = find_single_frame();
	else
		first = find_run(count, alignment_frames);
	if (first == PHYSICAL_ALLOCATION_FAILED)
		return first;
	for (u64 frame = first; frame < first + count; frame++)
		set_frame_free(frame, false);
	free_frames -= count;
	if ((flags & PHYSICAL_ZERO) && zero_frames)
		zero_frames(first * PAGE_SIZE, count);
	return first * PAGE_SIZE;
}

bool physical_free(u64 address, u64 count)
{
	u64 first = address / PAGE_SIZE;

	if (address % PAGE_SIZE || first + count > FRAME_COUNT)
		return false;
	for (u64 frame = first; frame < first + count; frame++)
		if (frame_is_free(frame) || !frame_is_ram(frame) || frame_is_reserved(frame))
			return false;
	for (u64 frame = first; frame < first + count; frame++)
		set_frame_free(frame, true);
	free_frames += count;
	if (first / BITS_PER_WORD < search_hint)
		search_hint = first / BITS_PER_WORD;
	return true;
}

bool physical_is_ram(u64 address)
{
	return frame_is_ram(address / PAGE_SIZE);
}

u64 physical_free_frames(void)
{
	return free_frames;
}

u64 physical_ram_end(void)
{
	return ram_end_frame * PAGE_SIZE;
}
