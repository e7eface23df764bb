{
  # The ngd_blas N-API addon (native/): OpenBLAS cblas + LAPACKE for the accelerated tfjs CPU kernels
  # (src/compute/accel). Needs Debian's libopenblas-dev and liblapacke-dev. Build: npm run build:native.
  "targets": [
    {
      "target_name": "ngd_blas",
      "sources": ["native/ngd_blas.c", "native/im2col.c", "native/conv_chunks.c", "native/conv_direct.c", "native/parallel.c"],
      "cflags": ["-O3", "-std=c11", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags!": ["-O2"],
      "libraries": ["-lopenblas", "-llapacke", "-pthread"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"]
    }
  ]
}
