/* Ranges on threads (see parallel.h). */
#include "parallel.h"

#include <pthread.h>

extern int openblas_get_num_threads(void);

typedef struct {
  RangeBody body;
  void *ctx;
  int64_t index, begin, end;
} Range;

static void *run(void *arg) {
  Range *r = arg;
  r->body(r->ctx, r->index, r->begin, r->end);
  return 0;
}

void run_ranges(int64_t n, int64_t ranges, RangeBody body, void *ctx) {
  if (ranges < 1) ranges = 1;
  if (ranges > MAX_RANGES) ranges = MAX_RANGES;
  Range r[MAX_RANGES];
  pthread_t ids[MAX_RANGES];
  int started[MAX_RANGES] = {0};
  for (int64_t i = 0; i < ranges; i++) r[i] = (Range){body, ctx, i, i * n / ranges, (i + 1) * n / ranges};
  for (int64_t i = 1; i < ranges; i++) started[i] = pthread_create(&ids[i], 0, run, &r[i]) == 0;
  run(&r[0]);
  for (int64_t i = 1; i < ranges; i++) {
    if (started[i])
      pthread_join(ids[i], 0);
    else
      run(&r[i]); /* no thread to be had: the same range, here */
  }
}

int64_t ranges_for(int64_t n, int64_t min_per_range) {
  int64_t t = openblas_get_num_threads();
  if (min_per_range < 1) min_per_range = 1;
  if (t > n / min_per_range) t = n / min_per_range;
  if (t > MAX_RANGES) t = MAX_RANGES;
  return t < 1 ? 1 : t;
}

void parallel_for(int64_t n, int64_t min_per_range, RangeBody body, void *ctx) {
  if (n > 0) run_ranges(n, ranges_for(n, min_per_range), body, ctx);
}
