/* NHWC convolution geometry and the patch copies (im2col) around sgemm-based convolution. */
#ifndef NGD_IM2COL_H
#define NGD_IM2COL_H
#include <stdint.h>

/* n, h, w, c, fh, fw, strideH, strideW, dilationH, dilationW, padTop, padLeft, outH, outW. */
typedef struct {
  int64_t n, h, w, c, fh, fw, sh, sw, dh, dw, pt, pl, oh, ow;
} Geom;

/*
 * cols[(b*oh + y)*ow + x][(r*fw + s)*c + ch] = x[b, y*sh + r*dh - pt, x*sw + s*dw - pl, ch] (0 outside
 * the image). The column order matches a tfjs [fh, fw, c, o] filter read as [fh*fw*c, o].
 */
void im2col_run(const float *x, const Geom *q, float *cols);

/* The adjoint of im2col, accumulated: dx[b, iy, ix, ch] += cols[...] over every use. */
void col2im_run(const float *cols, const Geom *q, float *dx);

#endif
