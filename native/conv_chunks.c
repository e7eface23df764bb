/* Threaded im2col + sgemm convolution (see conv_chunks.h). */
#include "conv_chunks.h"

#include "conv_direct.h"
#include "parallel.h"

#include <cblas.h>
#include <string.h>

extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int num_threads);

/* What every thread's share of the images needs; its range of images comes from run_ranges. */
typedef struct {
  ConvMode mode;
  const float *a, *b;
  float *out;
  const Geom *q;
  int64_t cout, max_chunk;
  /* Thread i's patch matrix: scratch + i * cols_size; its dw partial (i > 0): partials + (i - 1) * k * cout. */
  float *scratch, *partials;
  int64_t cols_size;
} Shares;

/* Threads for a batch: as asked, at most one per image and MAX_RANGES. */
static int64_t threads_for(const Geom *q, int threads) {
  int64_t t = threads < 1 ? 1 : threads;
  if (t > MAX_RANGES) t = MAX_RANGES;
  return t < q->n ? t : (q->n > 0 ? q->n : 1);
}

/* True when this mode runs the direct loops (conv_direct.h) instead of im2col + sgemm. */
static int is_direct(ConvMode mode, const Geom *q, int64_t cout) {
  return mode != CONV_INPUT_GRAD && conv_direct_applies(q, cout);
}

/* Elements of one thread's patch matrix: a chunk of at most max_chunk (and n) images; none for the direct loops. */
static int64_t cols_size(ConvMode mode, const Geom *q, int64_t cout, int64_t max_chunk) {
  if (is_direct(mode, q, cout)) return 0;
  const int64_t chunk = max_chunk < q->n ? max_chunk : q->n;
  return chunk * q->oh * q->ow * q->fh * q->fw * q->c;
}

int64_t conv_chunks_scratch(ConvMode mode, const Geom *q, int64_t cout, int64_t max_chunk, int threads) {
  const int64_t t = threads_for(q, threads);
  return t * cols_size(mode, q, cout, max_chunk) + (mode == CONV_FILTER_GRAD ? (t - 1) * q->fh * q->fw * q->c * cout : 0);
}

/* Thread `index`'s images [first, last) in equal chunks of at most max_chunk; its filter gradient
 * lands in the output (thread 0) or in its partial. */
static void run_share(void *context, int64_t index, int64_t first, int64_t last) {
  const Shares *r = context;
  const Geom *q = r->q;
  const int64_t k = q->fh * q->fw * q->c, pixels = q->oh * q->ow, in_image = q->h * q->w * q->c;
  const int64_t out_image = pixels * r->cout, count = last - first;
  float *cols = r->scratch + index * r->cols_size;
  float *out = r->mode == CONV_FILTER_GRAD && index > 0 ? r->partials + (index - 1) * k * r->cout : r->out;
  if (count <= 0) {
    if (r->mode == CONV_FILTER_GRAD) memset(out, 0, sizeof(float) * k * r->cout);
    return;
  }
  if (is_direct(r->mode, q, r->cout)) {
    if (r->mode == CONV_FORWARD) {
      conv_direct_forward(r->a, r->b, q, r->cout, r->out, first, last);
    } else {
      memset(out, 0, sizeof(float) * k * r->cout);
      conv_direct_filter_grad(r->a, r->b, q, r->cout, out, first, last);
    }
    return;
  }
  const int64_t pieces = (count + r->max_chunk - 1) / r->max_chunk, chunk = (count + pieces - 1) / pieces;
  for (int64_t b0 = first; b0 < last; b0 += chunk) {
    const int64_t nb = chunk < last - b0 ? chunk : last - b0;
    Geom g = *q;
    g.n = nb;
    const int rows = (int)(nb * pixels);
    switch (r->mode) {
      case CONV_FORWARD:
        im2col_run(r->a + b0 * in_image, &g, cols);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, (int)r->cout, (int)k, 1.0f, cols, (int)k, r->b,
                    (int)r->cout, 0.0f, out + b0 * out_image, (int)r->cout);
        break;
      case CONV_INPUT_GRAD:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, (int)k, (int)r->cout, 1.0f, r->a + b0 * out_image,
                    (int)r->cout, r->b, (int)r->cout, 0.0f, cols, (int)k);
        col2im_run(cols, &g, out + b0 * in_image);
        break;
      case CONV_FILTER_GRAD:
        /* Chunks accumulate into dw: beta 0 for the first, 1 after. */
        im2col_run(r->a + b0 * in_image, &g, cols);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)r->cout, rows, 1.0f, cols, (int)k,
                    r->b + b0 * out_image, (int)r->cout, b0 == first ? 0.0f : 1.0f, out, (int)r->cout);
        break;
    }
  }
}

void conv_chunks(ConvMode mode, const float *a, const float *b, const Geom *q, int64_t cout, float *out, int64_t max_chunk,
                 int threads, float *scratch) {
  const int64_t t = threads_for(q, threads), size = cols_size(mode, q, cout, max_chunk);
  const Shares shares = {mode, a, b, out, q, cout, max_chunk, scratch, scratch + t * size, size};
  if (t == 1) {
    run_share((void *)&shares, 0, 0, q->n);
    return;
  }
  /* Each thread calls sgemm single-threaded; OpenBLAS's thread count is restored afterwards. */
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  run_ranges(q->n, t, run_share, (void *)&shares);
  openblas_set_num_threads(blas_threads);
  if (mode == CONV_FILTER_GRAD) {
    const int64_t dw_size = q->fh * q->fw * q->c * cout;
    for (int64_t i = 1; i < t; i++) {
      const float *partial = shares.partials + (i - 1) * dw_size;
      for (int64_t j = 0; j < dw_size; j++) out[j] += partial[j];
    }
  }
}
