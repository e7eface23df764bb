/* im2col/col2im for NHWC images (see im2col.h). Plain loops: memcpy of whole filter rows where they lie inside the image. */
#include "im2col.h"

#include <string.h>

void im2col_run(const float *x, const Geom *q, float *cols) {
  const int64_t K = q->fh * q->fw * q->c;
  for (int64_t b = 0; b < q->n; b++) {
    const float *xb = x + b * q->h * q->w * q->c;
    for (int64_t oy = 0; oy < q->oh; oy++) {
      for (int64_t ox = 0; ox < q->ow; ox++) {
        float *dst = cols + ((b * q->oh + oy) * q->ow + ox) * K;
        for (int64_t r = 0; r < q->fh; r++) {
          const int64_t iy = oy * q->sh + r * q->dh - q->pt;
          if (iy < 0 || iy >= q->h) {
            memset(dst, 0, sizeof(float) * q->fw * q->c);
            dst += q->fw * q->c;
            continue;
          }
          const float *row = xb + iy * q->w * q->c;
          const int64_t ix0 = ox * q->sw - q->pl;
          if (q->dw == 1 && ix0 >= 0 && ix0 + q->fw <= q->w) {
            memcpy(dst, row + ix0 * q->c, sizeof(float) * q->fw * q->c);
            dst += q->fw * q->c;
            continue;
          }
          for (int64_t s = 0; s < q->fw; s++) {
            const int64_t ix = ix0 + s * q->dw;
            if (ix < 0 || ix >= q->w)
              memset(dst, 0, sizeof(float) * q->c);
            else
              memcpy(dst, row + ix * q->c, sizeof(float) * q->c);
            dst += q->c;
          }
        }
      }
    }
  }
}

void col2im_run(const float *cols, const Geom *q, float *dx) {
  const int64_t K = q->fh * q->fw * q->c;
  for (int64_t b = 0; b < q->n; b++) {
    float *xb = dx + b * q->h * q->w * q->c;
    for (int64_t oy = 0; oy < q->oh; oy++) {
      for (int64_t ox = 0; ox < q->ow; ox++) {
        const float *src = cols + ((b * q->oh + oy) * q->ow + ox) * K;
        for (int64_t r = 0; r < q->fh; r++) {
          const int64_t iy = oy * q->sh + r * q->dh - q->pt;
          if (iy < 0 || iy >= q->h) {
            src += q->fw * q->c;
            continue;
          }
          float *row = xb + iy * q->w * q->c;
          for (int64_t s = 0; s < q->fw; s++) {
            const int64_t ix = ox * q->sw + s * q->dw - q->pl;
            if (ix >= 0 && ix < q->w) {
              float *d = row + ix * q->c;
              for (int64_t ch = 0; ch < q->c; ch++) d[ch] += src[ch];
            }
            src += q->c;
          }
        }
      }
    }
  }
}
