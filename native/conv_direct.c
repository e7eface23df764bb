/* Direct convolution for few input channels (see conv_direct.h). */
#include "conv_direct.h"

/* 8 floats, unaligned, aliasing float: GCC lowers it to one AVX register or two SSE ones. The
 * arithmetic is one multiply and one add per element (no contraction under -std=c11), so both clones
 * give the same bits. */
typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));

/* Widest block of output channels kept in registers: 4 vectors. */
enum { BLOCK = 32, MAX_DIRECT_CHANNELS = 4 };

int conv_direct_applies(const Geom *q, int64_t cout) { return q->c <= MAX_DIRECT_CHANNELS && cout >= 8; }

/* Output channels [o0, o0 + WIDTH) of one output pixel (ox), WIDTH 32, 16 or 8. */
#define FORWARD_BLOCK(WIDTH)                                                                       \
  do {                                                                                              \
    v8 acc[(WIDTH) / 8] = {0};                                                                      \
    for (int64_t r = 0; r < q->fh; r++) {                                                           \
      const int64_t iy = oy * q->sh + r * q->dh - q->pt;                                            \
      if (iy < 0 || iy >= q->h) continue;                                                           \
      for (int64_t s = 0; s < q->fw; s++) {                                                         \
        const int64_t ix = ox * q->sw + s * q->dw - q->pl;                                          \
        if (ix < 0 || ix >= q->w) continue;                                                         \
        const float *src = xb + (iy * q->w + ix) * q->c;                                            \
        const float *wt = w + (r * q->fw + s) * q->c * cout + o0;                                   \
        for (int64_t ch = 0; ch < q->c; ch++) {                                                     \
          const float v = src[ch];                                                                  \
          for (int j = 0; j < (WIDTH) / 8; j++) acc[j] += v * *(const v8 *)(wt + ch * cout + 8 * j); \
        }                                                                                           \
      }                                                                                             \
    }                                                                                               \
    for (int j = 0; j < (WIDTH) / 8; j++) *(v8 *)(dst + o0 + 8 * j) = acc[j];                       \
    o0 += (WIDTH);                                                                                  \
  } while (0)

/* The same for two neighbouring output pixels (ox, ox + 1) whose taps all lie inside the image along
 * x: the sums are the single pixel's, in the same order, but two independent chains of additions per
 * vector hide the adds' latency (one pixel's 25 dependent adds per accumulator bound it otherwise). */
#define FORWARD_PAIR(WIDTH)                                                                        \
  do {                                                                                              \
    v8 acc0[(WIDTH) / 8] = {0}, acc1[(WIDTH) / 8] = {0};                                            \
    for (int64_t r = 0; r < q->fh; r++) {                                                           \
      const int64_t iy = oy * q->sh + r * q->dh - q->pt;                                            \
      if (iy < 0 || iy >= q->h) continue;                                                           \
      for (int64_t s = 0; s < q->fw; s++) {                                                         \
        const float *src = xb + (iy * q->w + ox * q->sw + s * q->dw - q->pl) * q->c;                \
        const float *wt = w + (r * q->fw + s) * q->c * cout + o0;                                   \
        for (int64_t ch = 0; ch < q->c; ch++) {                                                     \
          const float v0 = src[ch], v1 = src[q->sw * q->c + ch];                                    \
          for (int j = 0; j < (WIDTH) / 8; j++) {                                                   \
            const v8 wv = *(const v8 *)(wt + ch * cout + 8 * j);                                    \
            acc0[j] += v0 * wv;                                                                     \
            acc1[j] += v1 * wv;                                                                     \
          }                                                                                         \
        }                                                                                           \
      }                                                                                             \
    }                                                                                               \
    for (int j = 0; j < (WIDTH) / 8; j++) {                                                         \
      *(v8 *)(dst + o0 + 8 * j) = acc0[j];                                                          \
      *(v8 *)(dst + cout + o0 + 8 * j) = acc1[j];                                                   \
    }                                                                                               \
    o0 += (WIDTH);                                                                                  \
  } while (0)

/* Channels [o0, cout) of pixel ox one at a time (the last cout % 8). */
#define FORWARD_SCALARS(OX, DST)                                                                   \
  for (int64_t o = o0; o < cout; o++) {                                                             \
    float acc = 0;                                                                                  \
    for (int64_t r = 0; r < q->fh; r++) {                                                           \
      const int64_t iy = oy * q->sh + r * q->dh - q->pt;                                            \
      if (iy < 0 || iy >= q->h) continue;                                                           \
      for (int64_t s = 0; s < q->fw; s++) {                                                         \
        const int64_t ix = (OX) * q->sw + s * q->dw - q->pl;                                        \
        if (ix < 0 || ix >= q->w) continue;                                                         \
        const float *src = xb + (iy * q->w + ix) * q->c;                                            \
        const float *wt = w + (r * q->fw + s) * q->c * cout + o;                                    \
        for (int64_t ch = 0; ch < q->c; ch++) acc += src[ch] * wt[ch * cout];                       \
      }                                                                                             \
    }                                                                                               \
    (DST)[o] = acc;                                                                                 \
  }

__attribute__((target_clones("avx2", "default"))) void conv_direct_forward(const float *x, const float *w, const Geom *q,
                                                                            int64_t cout, float *y, int64_t first,
                                                                            int64_t last) {
  /* Output columns [x_lo, x_hi) read no column outside the image. */
  const int64_t x_lo = q->pl > 0 ? (q->pl + q->sw - 1) / q->sw : 0;
  int64_t x_hi = q->ow;
  while (x_hi > x_lo && (x_hi - 1) * q->sw + (q->fw - 1) * q->dw - q->pl >= q->w) x_hi--;
  for (int64_t b = first; b < last; b++) {
    const float *xb = x + b * q->h * q->w * q->c;
    for (int64_t oy = 0; oy < q->oh; oy++) {
      for (int64_t ox = 0; ox < q->ow;) {
        float *dst = y + ((b * q->oh + oy) * q->ow + ox) * cout;
        int64_t o0 = 0;
        if (ox >= x_lo && ox + 2 <= x_hi) {
          while (cout - o0 >= 32) FORWARD_PAIR(32);
          if (cout - o0 >= 16) FORWARD_PAIR(16);
          if (cout - o0 >= 8) FORWARD_PAIR(8);
          FORWARD_SCALARS(ox, dst);
          FORWARD_SCALARS(ox + 1, dst + cout);
          ox += 2;
        } else {
          while (cout - o0 >= 32) FORWARD_BLOCK(32);
          if (cout - o0 >= 16) FORWARD_BLOCK(16);
          if (cout - o0 >= 8) FORWARD_BLOCK(8);
          FORWARD_SCALARS(ox, dst);
          ox += 1;
        }
      }
    }
  }
}

/* The outputs [lo, hi) along one axis whose input index o * stride + tap * dilation - pad lies in [0, size). */
static void valid_range(int64_t out, int64_t stride, int64_t offset, int64_t size, int64_t *lo, int64_t *hi) {
  int64_t a = 0;
  while (a < out && a * stride + offset < 0) a++;
  int64_t z = a;
  while (z < out && z * stride + offset < size) z++;
  *lo = a;
  *hi = z;
}

/* One tap's gradient over one image for channels [o0, o0 + WIDTH), added to dw's row of that tap. */
#define FILTER_BLOCK(WIDTH)                                                                         \
  do {                                                                                               \
    v8 acc[(WIDTH) / 8] = {0};                                                                       \
    for (int64_t oy = y0; oy < y1; oy++) {                                                           \
      const float *src = xb + ((oy * q->sh + r * q->dh - q->pt) * q->w) * q->c + ch;                 \
      const float *g = dyb + oy * q->ow * cout + o0;                                                 \
      for (int64_t ox = x0; ox < x1; ox++) {                                                         \
        const float v = src[(ox * q->sw + s * q->dw - q->pl) * q->c];                                \
        for (int j = 0; j < (WIDTH) / 8; j++) acc[j] += v * *(const v8 *)(g + ox * cout + 8 * j);    \
      }                                                                                              \
    }                                                                                                \
    for (int j = 0; j < (WIDTH) / 8; j++) *(v8 *)(row + o0 + 8 * j) += acc[j];                       \
    o0 += (WIDTH);                                                                                   \
  } while (0)

__attribute__((target_clones("avx2", "default"))) void conv_direct_filter_grad(const float *x, const float *dy,
                                                                                const Geom *q, int64_t cout,
                                                                                float *dw, int64_t first,
                                                                                int64_t last) {
  for (int64_t b = first; b < last; b++) {
    const float *xb = x + b * q->h * q->w * q->c;
    const float *dyb = dy + b * q->oh * q->ow * cout;
    for (int64_t r = 0; r < q->fh; r++) {
      int64_t y0, y1;
      valid_range(q->oh, q->sh, r * q->dh - q->pt, q->h, &y0, &y1);
      for (int64_t s = 0; s < q->fw; s++) {
        int64_t x0, x1;
        valid_range(q->ow, q->sw, s * q->dw - q->pl, q->w, &x0, &x1);
        for (int64_t ch = 0; ch < q->c; ch++) {
          float *row = dw + ((r * q->fw + s) * q->c + ch) * cout;
          int64_t o0 = 0;
          while (cout - o0 >= 32) FILTER_BLOCK(32);
          if (cout - o0 >= 16) FILTER_BLOCK(16);
          if (cout - o0 >= 8) FILTER_BLOCK(8);
          for (; o0 < cout; o0++) { /* the last cout % 8 channels */
            float acc = 0;
            for (int64_t oy = y0; oy < y1; oy++) {
              const float *src = xb + ((oy * q->sh + r * q->dh - q->pt) * q->w) * q->c + ch;
              const float *g = dyb + oy * q->ow * cout + o0;
              for (int64_t ox = x0; ox < x1; ox++) acc += src[(ox * q->sw + s * q->dw - q->pl) * q->c] * g[ox * cout];
            }
            row[o0] += acc;
          }
        }
      }
    }
  }
}
