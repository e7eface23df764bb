/*
 * Convolution (NHWC, filter [fh*fw*c, cout]) as im2col + sgemm over chunks of images, the chunks
 * shared among threads that each call single-threaded sgemm. OpenBLAS's own two threads gain nothing
 * on these skinny products (cout = 64 columns): measured on 2 cores, 2c2d's conv2 forward ran at 74-83
 * GFLOP/s with OpenBLAS threads and 137-144 GFLOP/s as two threads of chunks, 181 GFLOP/s being sgemm.
 */
#ifndef NGD_CONV_CHUNKS_H
#define NGD_CONV_CHUNKS_H
#include <stdint.h>

#include "im2col.h"

typedef enum {
  CONV_FORWARD = 0,     /* a = x, b = w, out = y = conv(x, w) */
  CONV_INPUT_GRAD = 1,  /* a = dy, b = w, out = dx (zeroed by the caller; accumulated) */
  CONV_FILTER_GRAD = 2, /* a = x, b = dy, out = dw */
} ConvMode;

/* Scratch elements conv_chunks needs: a patch matrix per thread, and per-thread dw partials. */
int64_t conv_chunks_scratch(ConvMode mode, const Geom *q, int64_t cout, int64_t max_chunk, int threads);

/*
 * Images are split evenly among min(threads, n) threads, each thread's share into equal chunks of at
 * most max_chunk images. The arithmetic depends only on (shapes, max_chunk, threads): runs repeat bit
 * for bit. The filter gradient sums the threads' partials in thread order.
 */
void conv_chunks(ConvMode mode, const float *a, const float *b, const Geom *q, int64_t cout, float *out, int64_t max_chunk,
                 int threads, float *scratch);

#endif
