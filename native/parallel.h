/*
 * [0, n) split into contiguous ranges run on concurrent threads (the first on the calling thread): the
 * threaded convolution's image shares (conv_chunks.c), and max pooling and its gradient by images, each
 * output element computed by exactly one thread with the same arithmetic (bit for bit as on one). The
 * elementwise ops, bias + activation and sums stay on one thread: split in two they ran no faster here
 * (a 4M-element multiply streams at the memory's rate from one core), and a sum over 200k rows of 32
 * columns split by columns ran 3x slower.
 */
#ifndef NGD_PARALLEL_H
#define NGD_PARALLEL_H
#include <stdint.h>

enum { MAX_RANGES = 64 };

/* body(ctx, index, begin, end) for range `index` of `ranges`: [index * n / ranges, (index + 1) * n / ranges). */
typedef void (*RangeBody)(void *ctx, int64_t index, int64_t begin, int64_t end);

void run_ranges(int64_t n, int64_t ranges, RangeBody body, void *ctx);

/* OpenBLAS's thread count, fewer so that each range holds at least min_per_range items (a thread costs
 * tens of microseconds to start), at least 1 and at most MAX_RANGES. */
int64_t ranges_for(int64_t n, int64_t min_per_range);

/* run_ranges(n, ranges_for(n, min_per_range), body, ctx). */
void parallel_for(int64_t n, int64_t min_per_range, RangeBody body, void *ctx);

#endif
