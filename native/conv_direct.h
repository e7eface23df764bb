/*
 * Direct convolution for layers with few input channels (a network's first layer: Fashion-MNIST's
 * 1 channel, CIFAR's 3). There im2col + sgemm is memory-bound: the patch matrix is fh*fw times the
 * input and the product's k (25 for 5x5x1) is too short for sgemm's blocking; 2c2d's conv1 ran at
 * ~33 GFLOP/s that way against 130-150 for conv2. Here each output (forward) or each filter-gradient
 * entry of an image (filter gradient) is summed in registers over the taps, 8 output channels a vector.
 */
#ifndef NGD_CONV_DIRECT_H
#define NGD_CONV_DIRECT_H
#include <stdint.h>

#include "im2col.h"

/* True when the direct loops are used for this geometry (few input channels, at least one vector of outputs). */
int conv_direct_applies(const Geom *q, int64_t cout);

/* y[b] = conv(x[b], w) for images [first, last): each output the sum over taps (r, s, ch) in that order,
 * taps outside the image skipped, so it depends on nothing but its inputs (bit for bit at any thread count). */
void conv_direct_forward(const float *x, const float *w, const Geom *q, int64_t cout, float *y, int64_t first, int64_t last);

/* dw += sum over images [first, last) of that image's filter gradient (summed over its pixels in
 * registers, then added to dw image by image, in order). */
void conv_direct_filter_grad(const float *x, const float *dy, const Geom *q, int64_t cout, float *dw, int64_t first, int64_t last);

#endif
