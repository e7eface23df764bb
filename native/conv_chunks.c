/* Threaded im2col + sgemm convolution (see conv_chunks.h). */
#include "conv_chunks.h"

#include "parallel.h"

#include <cblas.h>
#include <string.h>

extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int num_threads);

typedef struct {
  ConvMode mode;
  const float *a, *b;
  float *out;
  const Geom *q;
  int64_t cout, first, last, max_chunk;
  float *cols;
} ChunkRange;

/* Threads for a batch: as asked, at most one per image and MAX_RANGES. */
static int64_t threads_for(const Geom *q, int threads) {
  int64_t t = threads < 1 ? 1 : threads;
  if (t > MAX_RANGES) t = MAX_RANGES;
  return t < q->n ? t : (q->n > 0 ? q->n : 1);
}

int64_t conv_chunks_scratch(ConvMode mode, const Geom *q, int64_t cout, int64_t max_chunk, int threads) {
  const int64_t t = threads_for(q, threads), k = q->fh * q->fw * q->c;
  const int64_t chunk = max_chunk < q->n ? max_chunk : q->n;
  return t * chunk * q->oh * q->ow * k + (mode == CONV_FILTER_GRAD ? (t - 1) * k * cout : 0);
}

/* Images [first, last) in equal chunks of at most max_chunk; the filter gradient lands in r->out. */
static void run_range(const ChunkRange *r) {
  const Geom *q = r->q;
  const int64_t k = q->fh * q->fw * q->c, pixels = q->oh * q->ow, in_image = q->h * q->w * q->c;
  const int64_t out_image = pixels * r->cout, count = r->last - r->first;
  if (count <= 0) {
    if (r->mode == CONV_FILTER_GRAD) memset(r->out, 0, sizeof(float) * k * r->cout);
    return;
  }
  const int64_t pieces = (count + r->max_chunk - 1) / r->max_chunk, chunk = (count + pieces - 1) / pieces;
  for (int64_t b0 = r->first; b0 < r->last; b0 += chunk) {
    const int64_t nb = chunk < r->last - b0 ? chunk : r->last - b0;
    Geom g = *q;
    g.n = nb;
    const int rows = (int)(nb * pixels);
    switch (r->mode) {
      case CONV_FORWARD:
        im2col_run(r->a + b0 * in_image, &g, r->cols);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, (int)r->cout, (int)k, 1.0f, r->cols, (int)k, r->b,
                    (int)r->cout, 0.0f, r->out + b0 * out_image, (int)r->cout);
        break;
      case CONV_INPUT_GRAD:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, (int)k, (int)r->cout, 1.0f, r->a + b0 * out_image,
                    (int)r->cout, r->b, (int)r->cout, 0.0f, r->cols, (int)k);
        col2im_run(r->cols, &g, r->out + b0 * in_image);
        break;
      case CONV_FILTER_GRAD:
        /* Chunks accumulate into dw: beta 0 for the first, 1 after. */
        im2col_run(r->a + b0 * in_image, &g, r->cols);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)r->cout, rows, 1.0f, r->cols, (int)k,
                    r->b + b0 * out_image, (int)r->cout, b0 == r->first ? 0.0f : 1.0f, r->out, (int)r->cout);
        break;
    }
  }
}

static void run_share(void *ctx, int64_t index, int64_t begin, int64_t end) {
  (void)begin;
  (void)end;
  run_range((const ChunkRange *)ctx + index);
}

void conv_chunks(ConvMode mode, const float *a, const float *b, const Geom *q, int64_t cout, float *out, int64_t max_chunk,
                 int threads, float *scratch) {
  const int64_t t = threads_for(q, threads);
  const int64_t k = q->fh * q->fw * q->c, chunk = max_chunk < q->n ? max_chunk : q->n;
  const int64_t cols_size = chunk * q->oh * q->ow * k;
  ChunkRange ranges[MAX_RANGES];
  for (int64_t i = 0; i < t; i++) {
    ranges[i] = (ChunkRange){mode, a, b, out, q, cout, i * q->n / t, (i + 1) * q->n / t, max_chunk, scratch + i * cols_size};
    if (mode == CONV_FILTER_GRAD && i > 0) ranges[i].out = scratch + t * cols_size + (i - 1) * k * cout;
  }
  if (t == 1) {
    run_range(&ranges[0]);
    return;
  }
  /* Each thread calls sgemm single-threaded; OpenBLAS's thread count is restored afterwards. */
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  run_ranges(t, t, run_share, ranges);
  openblas_set_num_threads(blas_threads);
  if (mode == CONV_FILTER_GRAD) {
    const int64_t size = k * cout;
    for (int64_t i = 1; i < t; i++) {
      const float *partial = ranges[i].out;
      for (int64_t j = 0; j < size; j++) out[j] += partial[j];
    }
  }
}
