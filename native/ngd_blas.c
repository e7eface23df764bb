/*
 * ngd_blas: a small N-API addon over OpenBLAS (cblas_sgemm/dgemm) and LAPACKE (dpotrf/dpotri,
 * dsyevd), plus the memory-bound loops around them (im2col/col2im, bias + activation, pooling).
 *
 * Every function is synchronous: tfjs CPU kernels are synchronous, and the typed arrays are used in
 * place (zero-copy), which is only safe while the JS caller is blocked. Every function checks the
 * typed-array kinds and that every index it will touch lies inside the arrays, and throws a JS
 * RangeError/TypeError otherwise, so a wrong call from JS cannot read or write out of bounds.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <cblas.h>
#include <lapacke.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_chunks.h"
#include "im2col.h"
#include "parallel.h"

/* OpenBLAS extensions (declared in OpenBLAS's cblas.h; repeated so another cblas.h still builds). */
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);
extern int openblas_get_num_procs(void);
extern int openblas_get_parallel(void);
extern void openblas_set_num_threads(int num_threads);

/* Input elements a pooling thread gets at least: starting a thread costs tens of microseconds, 128k
 * floats take about as long to stream. */
#define MIN_PER_THREAD ((int64_t)1 << 17)

/* ------------------------------------------------------------------------------------------------
 * Argument helpers. Each returns 0 and throws a pending JS exception on failure.
 * ---------------------------------------------------------------------------------------------- */

#define MAX_ARGS 24

#define CHECK_NAPI(call)                                                                           \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, NULL, "ngd_blas: N-API call failed: " #call);                          \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

typedef struct {
  napi_env env;
  napi_value argv[MAX_ARGS];
  size_t argc;
  const char *fn;
  int failed;
} Args;

static int args_init(Args *a, napi_env env, napi_callback_info info, const char *fn, size_t min_args) {
  a->env = env;
  a->fn = fn;
  a->failed = 0;
  a->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "ngd_blas: cannot read arguments");
    return 0;
  }
  if (a->argc < min_args) {
    char msg[160];
    snprintf(msg, sizeof msg, "ngd_blas.%s: expected %zu arguments, got %zu", fn, min_args, a->argc);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static void args_fail(Args *a, const char *what, size_t i, int range) {
  if (a->failed) return;
  a->failed = 1;
  char msg[200];
  snprintf(msg, sizeof msg, "ngd_blas.%s: argument %zu: %s", a->fn, i, what);
  if (range)
    napi_throw_range_error(a->env, NULL, msg);
  else
    napi_throw_type_error(a->env, NULL, msg);
}

static int present(Args *a, size_t i) {
  if (i >= a->argc) return 0;
  napi_valuetype t;
  if (napi_typeof(a->env, a->argv[i], &t) != napi_ok) return 0;
  return t != napi_undefined && t != napi_null;
}

static int64_t arg_int(Args *a, size_t i) {
  if (a->failed) return 0;
  double d;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &d) != napi_ok) {
    args_fail(a, "expected a number", i, 0);
    return 0;
  }
  if (!(d >= 0 && d <= 9007199254740991.0) || d != floor(d)) {
    args_fail(a, "expected a non-negative integer", i, 1);
    return 0;
  }
  return (int64_t)d;
}

/* An int that BLAS/LAPACK accept (32-bit blasint). */
static int arg_blasint(Args *a, size_t i) {
  int64_t v = arg_int(a, i);
  if (!a->failed && v > 2147483647) args_fail(a, "dimension exceeds 2^31-1", i, 1);
  return (int)v;
}

static int64_t arg_int_opt(Args *a, size_t i, int64_t dflt) { return present(a, i) ? arg_int(a, i) : dflt; }

static double arg_double(Args *a, size_t i) {
  if (a->failed) return 0;
  double d;
  if (i >= a->argc || napi_get_value_double(a->env, a->argv[i], &d) != napi_ok) {
    args_fail(a, "expected a number", i, 0);
    return 0;
  }
  return d;
}

static int arg_bool(Args *a, size_t i) {
  if (a->failed) return 0;
  bool b;
  if (i >= a->argc || napi_get_value_bool(a->env, a->argv[i], &b) != napi_ok) {
    args_fail(a, "expected a boolean", i, 0);
    return 0;
  }
  return b ? 1 : 0;
}

/* A typed array of the given kind; its element count goes to *len. */
static void *arg_typed(Args *a, size_t i, napi_typedarray_type want, size_t *len) {
  *len = 0;
  if (a->failed) return NULL;
  bool is_ta = false;
  if (i >= a->argc || napi_is_typedarray(a->env, a->argv[i], &is_ta) != napi_ok || !is_ta) {
    args_fail(a, want == napi_float32_array ? "expected a Float32Array" : want == napi_float64_array ? "expected a Float64Array" : "expected a typed array", i, 0);
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(a->env, a->argv[i], &type, &length, &data, &ab, &offset) != napi_ok || type != want) {
    args_fail(a, want == napi_float32_array ? "expected a Float32Array" : want == napi_float64_array ? "expected a Float64Array" : "wrong typed array kind", i, 0);
    return NULL;
  }
  *len = length;
  /* A zero-length array may have a NULL data pointer; callers only touch it when they need >0. */
  return data;
}

/* Fails unless an array of `have` elements holds `need` (need is computed in 64-bit). */
static void need_len(Args *a, size_t i, size_t have, int64_t need) {
  if (a->failed) return;
  if (need < 0 || (uint64_t)need > (uint64_t)have) {
    char msg[120];
    snprintf(msg, sizeof msg, "array too short (%zu elements, %lld needed)", have, (long long)need);
    args_fail(a, msg, i, 1);
  }
}

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value int_value(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

/* Non-negative 64-bit products and sums that saturate at INT64_MAX instead of overflowing, so a
 * length check on absurd dimensions fails rather than wrapping around to a small number. */
static int64_t smul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}
static int64_t sadd(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}
static int64_t smul4(int64_t a, int64_t b, int64_t c, int64_t d) { return smul(smul(a, b), smul(c, d)); }

/* Elements spanned by a rows x cols matrix with leading dimension ld (row-major), 0 when empty. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) {
  if (rows == 0 || cols == 0) return 0;
  return sadd(smul(rows - 1, ld), cols);
}

/* ------------------------------------------------------------------------------------------------
 * gemm: C[i] = alpha * op(A[i]) op(B[i]) + beta * C[i] for i < batch, row-major, element strides
 * strideA/strideB/strideC between the batch entries (0 broadcasts one matrix to every entry).
 *   args: transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, [batch, strideA, strideB, strideC]
 * ---------------------------------------------------------------------------------------------- */

typedef struct {
  int ta, tb, m, n, k, lda, ldb, ldc;
  double alpha, beta;
  int64_t batch, sa, sb, sc;
  void *A, *B, *C;
} GemmArgs;

static int gemm_args(Args *g, GemmArgs *p, napi_typedarray_type kind) {
  p->ta = arg_bool(g, 0);
  p->tb = arg_bool(g, 1);
  p->m = arg_blasint(g, 2);
  p->n = arg_blasint(g, 3);
  p->k = arg_blasint(g, 4);
  p->alpha = arg_double(g, 5);
  size_t la, lb, lc;
  p->A = arg_typed(g, 6, kind, &la);
  p->lda = arg_blasint(g, 7);
  p->B = arg_typed(g, 8, kind, &lb);
  p->ldb = arg_blasint(g, 9);
  p->beta = arg_double(g, 10);
  p->C = arg_typed(g, 11, kind, &lc);
  p->ldc = arg_blasint(g, 12);
  p->batch = arg_int_opt(g, 13, 1);
  p->sa = arg_int_opt(g, 14, 0);
  p->sb = arg_int_opt(g, 15, 0);
  p->sc = arg_int_opt(g, 16, 0);
  if (g->failed) return 0;
  /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), C is m x n. */
  int64_t ar = p->ta ? p->k : p->m, ac = p->ta ? p->m : p->k;
  int64_t br = p->tb ? p->n : p->k, bc = p->tb ? p->k : p->n;
  if (p->lda < (ac > 1 ? ac : 1)) args_fail(g, "lda smaller than the row length of A", 7, 1);
  if (p->ldb < (bc > 1 ? bc : 1)) args_fail(g, "ldb smaller than the row length of B", 9, 1);
  if (p->ldc < (p->n > 1 ? p->n : 1)) args_fail(g, "ldc smaller than n", 12, 1);
  if (p->batch > 1 && p->sc < span(p->m, p->n, p->ldc)) args_fail(g, "strideC would make batch outputs overlap", 16, 1);
  if (p->batch > 0) {
    int64_t last = p->batch - 1;
    if (p->m > 0 && p->k > 0) need_len(g, 6, la, sadd(smul(last, p->sa), span(ar, ac, p->lda)));
    if (p->n > 0 && p->k > 0) need_len(g, 8, lb, sadd(smul(last, p->sb), span(br, bc, p->ldb)));
    if (p->m > 0 && p->n > 0) need_len(g, 11, lc, sadd(smul(last, p->sc), span(p->m, p->n, p->ldc)));
  }
  return !g->failed;
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "sgemm", 13)) return NULL;
  GemmArgs p;
  if (!gemm_args(&g, &p, napi_float32_array)) return NULL;
  if (p.m == 0 || p.n == 0) return undefined_value(env);
  float *A = p.A, *B = p.B, *C = p.C;
  for (int64_t i = 0; i < p.batch; i++) {
    if (p.k == 0) {
      /* BLAS leaves C untouched for k == 0 only when beta == 1; make the beta scaling explicit. */
      for (int r = 0; r < p.m; r++)
        for (int c = 0; c < p.n; c++) {
          float *x = C + i * p.sc + (int64_t)r * p.ldc + c;
          *x = p.beta == 0 ? 0.0f : (float)(p.beta * *x);
        }
      continue;
    }
    cblas_sgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, p.m, p.n, p.k,
                (float)p.alpha, A + i * p.sa, p.lda, B + i * p.sb, p.ldb, (float)p.beta, C + i * p.sc, p.ldc);
  }
  return undefined_value(env);
}

static napi_value Dgemm(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "dgemm", 13)) return NULL;
  GemmArgs p;
  if (!gemm_args(&g, &p, napi_float64_array)) return NULL;
  if (p.m == 0 || p.n == 0) return undefined_value(env);
  double *A = p.A, *B = p.B, *C = p.C;
  for (int64_t i = 0; i < p.batch; i++) {
    if (p.k == 0) {
      for (int r = 0; r < p.m; r++)
        for (int c = 0; c < p.n; c++) {
          double *x = C + i * p.sc + (int64_t)r * p.ldc + c;
          *x = p.beta == 0 ? 0.0 : p.beta * *x;
        }
      continue;
    }
    cblas_dgemm(CblasRowMajor, p.ta ? CblasTrans : CblasNoTrans, p.tb ? CblasTrans : CblasNoTrans, p.m, p.n, p.k,
                p.alpha, A + i * p.sa, p.lda, B + i * p.sb, p.ldb, p.beta, C + i * p.sc, p.ldc);
  }
  return undefined_value(env);
}

/* ------------------------------------------------------------------------------------------------
 * NHWC convolution geometry shared by im2col/col2im/pooling:
 *   n, h, w, c, fh, fw, strideH, strideW, dilH, dilW, padTop, padLeft, outH, outW
 * ---------------------------------------------------------------------------------------------- */

static int geom_args(Args *g, size_t first, Geom *q) {
  q->n = arg_int(g, first + 0);
  q->h = arg_int(g, first + 1);
  q->w = arg_int(g, first + 2);
  q->c = arg_int(g, first + 3);
  q->fh = arg_int(g, first + 4);
  q->fw = arg_int(g, first + 5);
  q->sh = arg_int(g, first + 6);
  q->sw = arg_int(g, first + 7);
  q->dh = arg_int(g, first + 8);
  q->dw = arg_int(g, first + 9);
  double pt = arg_double(g, first + 10), pl = arg_double(g, first + 11);
  q->oh = arg_int(g, first + 12);
  q->ow = arg_int(g, first + 13);
  if (g->failed) return 0;
  if (pt != floor(pt) || pl != floor(pl) || fabs(pt) > 1e9 || fabs(pl) > 1e9) {
    args_fail(g, "padding must be an integer", first + 10, 1);
    return 0;
  }
  q->pt = (int64_t)pt;
  q->pl = (int64_t)pl;
  if (q->sh < 1 || q->sw < 1 || q->dh < 1 || q->dw < 1) {
    args_fail(g, "strides and dilations must be >= 1", first + 6, 1);
    return 0;
  }
  const int64_t lim = (int64_t)1 << 31;
  if (q->n >= lim || q->h >= lim || q->w >= lim || q->c >= lim || q->fh >= lim || q->fw >= lim || q->oh >= lim || q->ow >= lim) {
    args_fail(g, "dimension too large", first, 1);
    return 0;
  }
  return 1;
}

/* im2col (im2col.h).  args: x, geometry..., cols */
static napi_value Im2col(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "im2col", 16)) return NULL;
  size_t lx, lc;
  float *x = arg_typed(&g, 0, napi_float32_array, &lx);
  Geom q;
  if (!geom_args(&g, 1, &q)) return NULL;
  float *cols = arg_typed(&g, 15, napi_float32_array, &lc);
  const int64_t K = smul(smul(q.fh, q.fw), q.c);
  need_len(&g, 0, lx, smul4(q.n, q.h, q.w, q.c));
  need_len(&g, 15, lc, smul4(q.n, q.oh, q.ow, K));
  if (g.failed) return NULL;
  im2col_run(x, &q, cols);
  return undefined_value(env);
}

/* col2im (im2col.h), accumulating into dx.  args: cols, geometry..., dx */
static napi_value Col2im(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "col2im", 16)) return NULL;
  size_t lc, lx;
  float *cols = arg_typed(&g, 0, napi_float32_array, &lc);
  Geom q;
  if (!geom_args(&g, 1, &q)) return NULL;
  float *dx = arg_typed(&g, 15, napi_float32_array, &lx);
  const int64_t K = smul(smul(q.fh, q.fw), q.c);
  need_len(&g, 0, lc, smul4(q.n, q.oh, q.ow, K));
  need_len(&g, 15, lx, smul4(q.n, q.h, q.w, q.c));
  if (g.failed) return NULL;
  col2im_run(cols, &q, dx);
  return undefined_value(env);
}

/* ------------------------------------------------------------------------------------------------
 * convChunks: a whole convolution or one of its gradients as threads of im2col + sgemm chunks
 * (conv_chunks.h). Modes: 0 forward (a = x, b = w, out = y), 1 input gradient (a = dy, b = w,
 * out = dx, zeroed by the caller), 2 filter gradient (a = x, b = dy, out = dw).
 *   args: mode, a, b, geometry..., cout, out, maxChunkImages, threads, scratch (convChunksScratch's length)
 * ---------------------------------------------------------------------------------------------- */
typedef struct {
  int64_t mode, cout, max_chunk, threads;
  Geom q;
} ConvChunkArgs;

/* The arguments convChunks and convChunksScratch share (all but the arrays), checked. */
static int conv_chunk_args(Args *g, napi_env env, napi_callback_info info, const char *fn, size_t min_args, ConvChunkArgs *c) {
  if (!args_init(g, env, info, fn, min_args)) return 0;
  Geom *q = &c->q;
  c->mode = arg_int(g, 0);
  if (!geom_args(g, 3, q)) return 0;
  c->cout = arg_int(g, 17);
  c->max_chunk = arg_int(g, 19);
  c->threads = arg_int(g, 20);
  if (g->failed) return 0;
  const int64_t chunk = c->max_chunk < q->n ? c->max_chunk : q->n, k = smul(smul(q->fh, q->fw), q->c);
  if (c->mode < 0 || c->mode > 2) args_fail(g, "mode must be 0 (forward), 1 (input gradient) or 2 (filter gradient)", 0, 1);
  else if (c->max_chunk < 1) args_fail(g, "maxChunkImages must be >= 1", 19, 1);
  else if (c->threads < 1 || c->threads > 64) args_fail(g, "threads must be in 1..64", 20, 1);
  else if (c->cout < 1 || c->cout >= ((int64_t)1 << 31)) args_fail(g, "cout must be in 1..2^31-1", 17, 1);
  else if (k < 1 || k >= ((int64_t)1 << 31) || q->n < 1 || q->oh < 1 || q->ow < 1) args_fail(g, "empty convolution or filter too large", 3, 1);
  else if (smul(smul(chunk, q->oh), q->ow) >= ((int64_t)1 << 31))
    args_fail(g, "maxChunkImages * outH * outW must stay below 2^31", 19, 1);
  else if (smul4(chunk, smul(q->oh, q->ow), k, c->threads) >= ((int64_t)1 << 40))
    args_fail(g, "scratch would exceed 2^40 elements", 19, 1);
  return !g->failed;
}

static napi_value ConvChunks(napi_env env, napi_callback_info info) {
  Args g;
  ConvChunkArgs c;
  if (!conv_chunk_args(&g, env, info, "convChunks", 22, &c)) return NULL;
  const Geom q = c.q;
  size_t la, lb, lo, ls;
  float *a = arg_typed(&g, 1, napi_float32_array, &la);
  float *b = arg_typed(&g, 2, napi_float32_array, &lb);
  float *out = arg_typed(&g, 18, napi_float32_array, &lo);
  float *scratch = arg_typed(&g, 21, napi_float32_array, &ls);
  const int64_t K = smul(smul(q.fh, q.fw), q.c), image = smul4(q.n, q.h, q.w, q.c), grads = smul4(q.n, q.oh, q.ow, c.cout);
  need_len(&g, 1, la, c.mode == 1 ? grads : image);
  need_len(&g, 2, lb, c.mode == 2 ? grads : smul(K, c.cout));
  need_len(&g, 18, lo, c.mode == 0 ? grads : c.mode == 1 ? image : smul(K, c.cout));
  need_len(&g, 21, ls, conv_chunks_scratch((ConvMode)c.mode, &q, c.cout, c.max_chunk, (int)c.threads));
  if (g.failed) return NULL;
  conv_chunks((ConvMode)c.mode, a, b, &q, c.cout, out, c.max_chunk, (int)c.threads, scratch);
  return undefined_value(env);
}

static napi_value ConvChunksScratch(napi_env env, napi_callback_info info) {
  Args g;
  ConvChunkArgs c;
  if (!conv_chunk_args(&g, env, info, "convChunksScratch", 21, &c)) return NULL;
  return int_value(env, conv_chunks_scratch((ConvMode)c.mode, &c.q, c.cout, c.max_chunk, (int)c.threads));
}

/* ------------------------------------------------------------------------------------------------
 * Bias + activation in place on a rows x cols row-major matrix (bias has cols entries, or none).
 * Activation codes: 0 linear, 1 relu, 2 relu6, 3 leakyrelu(alpha), 4 elu, 5 sigmoid. The formulas
 * are the tfjs CPU kernels' own, evaluated in double like JS does and rounded to float.
 *   args: y, rows, cols, bias | null, activation, alpha
 * ---------------------------------------------------------------------------------------------- */
static napi_value BiasActivation(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "biasActivation", 6)) return NULL;
  size_t ly, lb = 0;
  float *y = arg_typed(&g, 0, napi_float32_array, &ly);
  int64_t rows = arg_int(&g, 1), cols = arg_int(&g, 2);
  const float *bias = present(&g, 3) ? arg_typed(&g, 3, napi_float32_array, &lb) : NULL;
  int64_t act = arg_int(&g, 4);
  double alpha = arg_double(&g, 5);
  need_len(&g, 0, ly, smul(rows, cols));
  if (bias) need_len(&g, 3, lb, cols);
  if (!g.failed && act > 5) args_fail(&g, "unknown activation code", 4, 1);
  if (g.failed) return NULL;
  for (int64_t r = 0; r < rows; r++) {
    float *row = y + r * cols;
    if (bias)
      for (int64_t c = 0; c < cols; c++) row[c] += bias[c];
    switch (act) {
      case 1: /* Math.max(0, x): NaN stays NaN, -0 becomes +0 */
        for (int64_t c = 0; c < cols; c++) {
          const float v = row[c];
          row[c] = v != v ? v : (v > 0 ? v : 0.0f);
        }
        break;
      case 2: /* Math.min(Math.max(0, x), 6) */
        for (int64_t c = 0; c < cols; c++) {
          const float v = row[c];
          row[c] = v != v ? v : (v > 6 ? 6.0f : (v > 0 ? v : 0.0f));
        }
        break;
      case 3:
        for (int64_t c = 0; c < cols; c++) row[c] = row[c] < 0 ? (float)(alpha * row[c]) : row[c];
        break;
      case 4:
        for (int64_t c = 0; c < cols; c++) row[c] = row[c] >= 0 ? row[c] : (float)(exp((double)row[c]) - 1.0);
        break;
      case 5:
        for (int64_t c = 0; c < cols; c++) row[c] = (float)(1.0 / (1.0 + exp(-(double)row[c])));
        break;
      default:
        break;
    }
  }
  return undefined_value(env);
}

/* ------------------------------------------------------------------------------------------------
 * Max pooling, NHWC, dilation 1 (as tfjs MaxPool). As in the tfjs CPU kernels a pixel replaces the
 * running maximum only when it is strictly greater, so the first maximum in window scan order wins
 * and NaN never does (an all-NaN or empty window gives -Infinity and passes no gradient). The
 * gradient scatters dy into dx at the winning position, recomputed from x.
 *   maxPool args: x, n, h, w, c, fh, fw, sh, sw, dh, dw, padTop, padLeft, outH, outW, y
 *   maxPoolGrad args: dy, x, n, h, w, c, fh, fw, sh, sw, dh, dw, padTop, padLeft, outH, outW, dx
 * ---------------------------------------------------------------------------------------------- */
typedef struct {
  const float *x, *dy;
  float *y;
  const Geom *q;
} PoolCtx;

/* Images [begin, end) of the pooling: per-image work is about an input image, so a thread takes
 * at least MIN_PER_THREAD input elements' worth of images. */
static int64_t pool_images_per_thread(const Geom *q) { return MIN_PER_THREAD / (q->h * q->w * q->c + 1) + 1; }

static void max_pool_images(void *context, int64_t index, int64_t begin, int64_t end) {
  const PoolCtx *p = context;
  const Geom *q = p->q;
  (void)index;
  for (int64_t b = begin; b < end; b++) {
    const float *xb = p->x + b * q->h * q->w * q->c;
    for (int64_t oy = 0; oy < q->oh; oy++) {
      for (int64_t ox = 0; ox < q->ow; ox++) {
        float *dst = p->y + ((b * q->oh + oy) * q->ow + ox) * q->c;
        for (int64_t ch = 0; ch < q->c; ch++) dst[ch] = -INFINITY;
        for (int64_t r = 0; r < q->fh; r++) {
          const int64_t iy = oy * q->sh + r * q->dh - q->pt;
          if (iy < 0 || iy >= q->h) continue;
          for (int64_t s = 0; s < q->fw; s++) {
            const int64_t ix = ox * q->sw + s * q->dw - q->pl;
            if (ix < 0 || ix >= q->w) continue;
            const float *src = xb + (iy * q->w + ix) * q->c;
            /* Branch-free (a data-dependent branch here mispredicts half the time: 10x slower). */
            for (int64_t ch = 0; ch < q->c; ch++) dst[ch] = src[ch] > dst[ch] ? src[ch] : dst[ch];
          }
        }
      }
    }
  }
}

static napi_value MaxPool(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "maxPool", 16)) return NULL;
  size_t lx, ly;
  float *x = arg_typed(&g, 0, napi_float32_array, &lx);
  Geom q;
  if (!geom_args(&g, 1, &q)) return NULL;
  float *y = arg_typed(&g, 15, napi_float32_array, &ly);
  need_len(&g, 0, lx, smul4(q.n, q.h, q.w, q.c));
  need_len(&g, 15, ly, smul4(q.n, q.oh, q.ow, q.c));
  if (g.failed) return NULL;
  PoolCtx ctx = {x, NULL, y, &q};
  parallel_for(q.n, pool_images_per_thread(&q), max_pool_images, &ctx);
  return undefined_value(env);
}

static void max_pool_grad_images(void *context, int64_t index, int64_t begin, int64_t end) {
  const PoolCtx *p = context;
  const Geom *q = p->q;
  (void)index;
  /* Channels in blocks with the running max and its position in local arrays: branch-free selects
   * the compiler vectorizes (a data-dependent branch mispredicts half the time: 4x slower). */
  enum { CB = 64 };
  float best[CB];
  int32_t where[CB];
  for (int64_t b = begin; b < end; b++) {
    const float *xb = p->x + b * q->h * q->w * q->c;
    float *dxb = p->y + b * q->h * q->w * q->c;
    for (int64_t oy = 0; oy < q->oh; oy++) {
      for (int64_t ox = 0; ox < q->ow; ox++) {
        const float *g0 = p->dy + ((b * q->oh + oy) * q->ow + ox) * q->c;
        for (int64_t c0 = 0; c0 < q->c; c0 += CB) {
          const int64_t nc = q->c - c0 < CB ? q->c - c0 : CB;
          for (int64_t k = 0; k < nc; k++) {
            best[k] = -INFINITY;
            where[k] = -1;
          }
          for (int64_t r = 0; r < q->fh; r++) {
            const int64_t iy = oy * q->sh + r * q->dh - q->pt;
            if (iy < 0 || iy >= q->h) continue;
            for (int64_t s = 0; s < q->fw; s++) {
              const int64_t ix = ox * q->sw + s * q->dw - q->pl;
              if (ix < 0 || ix >= q->w) continue;
              const int64_t pix = (iy * q->w + ix) * q->c + c0;
              const float *src = xb + pix;
              for (int64_t k = 0; k < nc; k++) {
                const float v = src[k], bk = best[k];
                const int32_t gt = -(int32_t)(v > bk); /* strictly greater: first max wins, NaN never */
                best[k] = v > bk ? v : bk;
                where[k] = (where[k] & ~gt) | ((int32_t)(pix + k) & gt);
              }
            }
          }
          for (int64_t k = 0; k < nc; k++)
            if (where[k] >= 0) dxb[where[k]] += g0[c0 + k];
        }
      }
    }
  }
}

static napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "maxPoolGrad", 17)) return NULL;
  size_t ldy, lx, ldx;
  float *dy = arg_typed(&g, 0, napi_float32_array, &ldy);
  float *x = arg_typed(&g, 1, napi_float32_array, &lx);
  Geom q;
  if (!geom_args(&g, 2, &q)) return NULL;
  float *dx = arg_typed(&g, 16, napi_float32_array, &ldx);
  need_len(&g, 0, ldy, smul4(q.n, q.oh, q.ow, q.c));
  need_len(&g, 1, lx, smul4(q.n, q.h, q.w, q.c));
  need_len(&g, 16, ldx, smul4(q.n, q.h, q.w, q.c));
  if (!g.failed && smul(smul(q.h, q.w), q.c) >= ((int64_t)1 << 31)) args_fail(&g, "image larger than 2^31 elements", 3, 1);
  if (g.failed) return NULL;
  /* Each image's dx is written by the thread that has the image. */
  PoolCtx ctx = {x, dy, dx, &q};
  parallel_for(q.n, pool_images_per_thread(&q), max_pool_grad_images, &ctx);
  return undefined_value(env);
}

/* ------------------------------------------------------------------------------------------------
 * Elementwise float32 loops with the tfjs CPU kernels' results (a single float op of two floats is
 * correctly rounded both in C and in JS's double-then-float, so these are bit-identical).
 * ---------------------------------------------------------------------------------------------- */

/* binary(op, a, b, out): out[i] = a[i % na] op b[i % nb] with na, nb the array lengths: the
 * larger must equal out's length and the smaller divide it (broadcast along leading axes).
 * op: 0 add, 1 sub, 2 mul, 3 the ReLU's backward a * step(b) (tfjs's Multiply of dy and Step(y):
 * NaN where b is NaN; 0 times a otherwise when b <= 0, keeping the sign and the NaN of an infinite a). */
static napi_value Binary(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "binary", 4)) return NULL;
  int64_t op = arg_int(&g, 0);
  size_t na, nb, n;
  const float *a = arg_typed(&g, 1, napi_float32_array, &na);
  const float *b = arg_typed(&g, 2, napi_float32_array, &nb);
  float *out = arg_typed(&g, 3, napi_float32_array, &n);
  if (!g.failed && (op < 0 || op > 3)) args_fail(&g, "unknown op", 0, 1);
  if (!g.failed && (na > n || nb > n || (na != n && nb != n))) args_fail(&g, "one input must have the output's length", 3, 1);
  if (!g.failed && ((na == 0) != (n == 0) || (nb == 0) != (n == 0) || (na && n % na) || (nb && n % nb)))
    args_fail(&g, "input lengths must divide the output's", 1, 1);
  if (g.failed) return NULL;
  if (n == 0) return undefined_value(env);
  const int a_full = na == n;
  const size_t m = a_full ? nb : na; /* the (possibly) broadcast operand's length */
  for (size_t off = 0; off < n; off += m) {
    const float *x = a_full ? a + off : a;
    const float *y = a_full ? b : b + off;
    float *z = out + off;
    switch (op) {
      case 0:
        for (size_t j = 0; j < m; j++) z[j] = x[j] + y[j];
        break;
      case 1:
        for (size_t j = 0; j < m; j++) z[j] = x[j] - y[j];
        break;
      case 2:
        for (size_t j = 0; j < m; j++) z[j] = x[j] * y[j];
        break;
      default:
        /* Selects, not branches (the signs of y are random, so a branch mispredicts half the time, and
         * isnan kept the loop scalar: 17 ms for conv1's 3.2 M elements at b128 against 1 ms for Multiply). */
        for (size_t j = 0; j < m; j++) {
          const float step = y[j] > 0 ? 1.0f : 0.0f;
          z[j] = x[j] * (y[j] == y[j] ? step : NAN);
        }
        break;
    }
  }
  return undefined_value(env);
}

/* unary(op, x, y, alpha): 0 relu (Math.max(0, x)), 1 step (NaN -> NaN, x > 0 ? 1 : alpha). */
static napi_value Unary(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "unary", 4)) return NULL;
  int64_t op = arg_int(&g, 0);
  size_t nx, ny;
  const float *x = arg_typed(&g, 1, napi_float32_array, &nx);
  float *y = arg_typed(&g, 2, napi_float32_array, &ny);
  const float alpha = (float)arg_double(&g, 3);
  if (!g.failed && op > 1) args_fail(&g, "unknown op", 0, 1);
  need_len(&g, 2, ny, (int64_t)nx);
  if (g.failed) return NULL;
  if (op == 0) {
    for (size_t i = 0; i < nx; i++) {
      const float v = x[i];
      y[i] = v != v ? v : (v > 0 ? v : 0.0f);
    }
  } else {
    for (size_t i = 0; i < nx; i++) {
      const float v = x[i];
      y[i] = v != v ? v : (v > 0 ? 1.0f : alpha);
    }
  }
  return undefined_value(env);
}

/* momentumStep(w, v, d, momentum, lr, vOut, wOut): one heavy-ball SGD step as tfjs's Multiply, Add,
 * Multiply and Sub compute it: vOut = v * m + d, wOut = w - vOut * lr, m and lr float32 scalars (tfjs's),
 * every op rounded to float (C float arithmetic, no contraction under -std=c11), so bit for bit. */
static napi_value MomentumStep(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "momentumStep", 7)) return NULL;
  size_t nw, nv, nd, nvo, nwo;
  const float *w = arg_typed(&g, 0, napi_float32_array, &nw);
  const float *v = arg_typed(&g, 1, napi_float32_array, &nv);
  const float *d = arg_typed(&g, 2, napi_float32_array, &nd);
  const float m = (float)arg_double(&g, 3);
  const float lr = (float)arg_double(&g, 4);
  float *v_out = arg_typed(&g, 5, napi_float32_array, &nvo);
  float *w_out = arg_typed(&g, 6, napi_float32_array, &nwo);
  need_len(&g, 1, nv, (int64_t)nw);
  need_len(&g, 2, nd, (int64_t)nw);
  need_len(&g, 5, nvo, (int64_t)nw);
  need_len(&g, 6, nwo, (int64_t)nw);
  if (g.failed) return NULL;
  for (size_t i = 0; i < nw; i++) {
    const float product = v[i] * m;
    const float velocity = product + d[i];
    const float scaled = velocity * lr;
    v_out[i] = velocity;
    w_out[i] = w[i] - scaled;
  }
  return undefined_value(env);
}

/* reduceSum(x, rows, cols, overRows, y): x is rows x cols; y[j] = sum_i x[i][j] when overRows,
 * else y[i] = sum_j x[i][j]. Summed in double in index order, as the tfjs Sum kernel does. */
static napi_value ReduceSum(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "reduceSum", 5)) return NULL;
  size_t nx, ny;
  const float *x = arg_typed(&g, 0, napi_float32_array, &nx);
  int64_t rows = arg_int(&g, 1), cols = arg_int(&g, 2);
  int over_rows = arg_bool(&g, 3);
  float *y = arg_typed(&g, 4, napi_float32_array, &ny);
  need_len(&g, 0, nx, smul(rows, cols));
  need_len(&g, 4, ny, over_rows ? cols : rows);
  if (g.failed) return NULL;
  if (over_rows) {
    if (cols == 0) return undefined_value(env);
    double *acc = calloc((size_t)cols, sizeof(double));
    if (!acc) {
      napi_throw_error(env, NULL, "ngd_blas.reduceSum: out of memory");
      return NULL;
    }
    for (int64_t i = 0; i < rows; i++) {
      const float *row = x + i * cols;
      for (int64_t j = 0; j < cols; j++) acc[j] += row[j];
    }
    for (int64_t j = 0; j < cols; j++) y[j] = (float)acc[j];
    free(acc);
  } else {
    for (int64_t i = 0; i < rows; i++) {
      const float *row = x + i * cols;
      double acc = 0;
      for (int64_t j = 0; j < cols; j++) acc += row[j];
      y[i] = (float)acc;
    }
  }
  return undefined_value(env);
}

/* ------------------------------------------------------------------------------------------------
 * LAPACK, float64, symmetric matrices (so row- vs column-major does not matter for the input).
 * ---------------------------------------------------------------------------------------------- */

/* spdInverse(a, n): a := a^-1 in place via dpotrf + dpotri, symmetrized; only the lower triangle
 * (row-major) of the input is read. Returns LAPACK's info: 0 ok, > 0 the order of the leading
 * minor that is not positive definite (or a zero pivot), < 0 a bad argument (-4: a NaN entry). */
static napi_value SpdInverse(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "spdInverse", 2)) return NULL;
  size_t la;
  double *a = arg_typed(&g, 0, napi_float64_array, &la);
  int n = arg_blasint(&g, 1);
  need_len(&g, 0, la, (int64_t)n * n);
  if (g.failed) return NULL;
  if (n == 0) return int_value(env, 0);
  /* Column-major 'U' on this row-major buffer is its lower triangle (the one the pure-JS fallback
   * reads); the inverse comes back in the same triangle and is mirrored to the other. */
  lapack_int r = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'U', n, a, n);
  if (r != 0) return int_value(env, r);
  r = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'U', n, a, n);
  if (r != 0) return int_value(env, r);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) a[i * n + j] = a[j * n + i];
  return int_value(env, 0);
}

/* symmetricEigen(a, n, w): eigenvalues (ascending) into w; a := V, row-major with the
 * eigenvectors as COLUMNS (a = V diag(w) V^T, like numpy.linalg.eigh). Returns LAPACK's info. */
static napi_value SymmetricEigen(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "symmetricEigen", 3)) return NULL;
  size_t la, lw;
  double *a = arg_typed(&g, 0, napi_float64_array, &la);
  int n = arg_blasint(&g, 1);
  double *w = arg_typed(&g, 2, napi_float64_array, &lw);
  need_len(&g, 0, la, (int64_t)n * n);
  need_len(&g, 2, lw, n);
  if (g.failed) return NULL;
  if (n == 0) return int_value(env, 0);
  /* Column-major 'U' = row-major lower triangle, as for spdInverse. */
  lapack_int r = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', n, a, n, w);
  if (r != 0) return int_value(env, r);
  /* Column-major V (eigenvector j at a[j*n .. j*n+n-1]) is V^T row-major: transpose in place. */
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++) {
      double t = a[i * n + j];
      a[i * n + j] = a[j * n + i];
      a[j * n + i] = t;
    }
  return int_value(env, 0);
}

/* ------------------------------------------------------------------------------------------------
 * Library description and threads.
 * ---------------------------------------------------------------------------------------------- */

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value ? value : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static void set_int(napi_env env, napi_value obj, const char *key, int64_t value) {
  napi_set_named_property(env, obj, key, int_value(env, value));
}

static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj;
  CHECK_NAPI(napi_create_object(env, &obj));
  set_string(env, obj, "config", openblas_get_config());
  set_string(env, obj, "corename", openblas_get_corename());
  set_int(env, obj, "numThreads", openblas_get_num_threads());
  set_int(env, obj, "numProcs", openblas_get_num_procs());
  int par = openblas_get_parallel();
  set_string(env, obj, "parallel", par == 0 ? "sequential" : par == 1 ? "pthread" : par == 2 ? "openmp" : "unknown");
  set_int(env, obj, "napiVersion", NAPI_VERSION);
  return obj;
}

static napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  Args g;
  if (!args_init(&g, env, info, "setNumThreads", 1)) return NULL;
  int64_t t = arg_int(&g, 0);
  if (!g.failed && (t < 1 || t > 1024)) args_fail(&g, "thread count must be in 1..1024", 0, 1);
  if (g.failed) return NULL;
  openblas_set_num_threads((int)t);
  return undefined_value(env);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dgemm", NULL, Dgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"im2col", NULL, Im2col, NULL, NULL, NULL, napi_enumerable, NULL},
      {"col2im", NULL, Col2im, NULL, NULL, NULL, napi_enumerable, NULL},
      {"convChunks", NULL, ConvChunks, NULL, NULL, NULL, napi_enumerable, NULL},
      {"convChunksScratch", NULL, ConvChunksScratch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"biasActivation", NULL, BiasActivation, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxPool", NULL, MaxPool, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxPoolGrad", NULL, MaxPoolGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"binary", NULL, Binary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unary", NULL, Unary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reduceSum", NULL, ReduceSum, NULL, NULL, NULL, napi_enumerable, NULL},
      {"momentumStep", NULL, MomentumStep, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spdInverse", NULL, SpdInverse, NULL, NULL, NULL, napi_enumerable, NULL},
      {"symmetricEigen", NULL, SymmetricEigen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNumThreads", NULL, SetNumThreads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
