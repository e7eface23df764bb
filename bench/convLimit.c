/*
 * The ceiling of im2col + cblas_sgemm for the 2c2d/cnn conv2 forward (14x14x32 -> 5x5 'same' -> 64), in
 * plain C with no tfjs around it: 1000 images in chunks of 1-64 images, next to a square 2048 sgemm. It
 * shows what a faster conv kernel is up against: sgemm with 64 output columns, and the im2col copy.
 *   gcc -O2 -march=native -o /tmp/conv-limit bench/convLimit.c -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas && /tmp/conv-limit
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
// im2col for 14x14x32, 5x5 same pad 2, stride 1
static void im2col(const float*x,int nb,float*cols){
  const int H=14,W=14,C=32,R=5,S=5,P=2;
  for(int b=0;b<nb;b++)for(int y=0;y<H;y++)for(int xx=0;xx<W;xx++){
    float*row=cols+(((long)b*H+y)*W+xx)*R*S*C;
    for(int r=0;r<R;r++){int iy=y+r-P;
      for(int s=0;s<S;s++){int ix=xx+s-P; float*d=row+(r*S+s)*C;
        if(iy<0||iy>=H||ix<0||ix>=W) memset(d,0,C*4); else memcpy(d,x+(((long)b*H+iy)*W+ix)*C,C*4);}}
  }
}
int main(int argc,char**argv){
  int N=1000; const int K=800,CO=64,PIX=196;
  float*x=malloc(4L*N*PIX*32),*w=malloc(4L*K*CO),*y=malloc(4L*N*PIX*CO);
  for(long i=0;i<(long)N*PIX*32;i++)x[i]=rand()/(float)RAND_MAX; for(int i=0;i<K*CO;i++)w[i]=rand()/(float)RAND_MAX;
  int chunks[]={1,2,4,8,13,26,64};
  float*cols=malloc(4L*64*PIX*K);
  double flops=2.0*N*PIX*K*CO;
  for(int rep=0;rep<2;rep++)
  for(unsigned c=0;c<sizeof chunks/sizeof*chunks;c++){
    int nb=chunks[c]; double ti=0,tg=0;
    double t0=now();
    for(int b0=0;b0<N;b0+=nb){int n=nb<N-b0?nb:N-b0; double a=now(); im2col(x+(long)b0*PIX*32,n,cols); double b=now();
      cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,n*PIX,CO,K,1.f,cols,K,w,CO,0.f,y+(long)b0*PIX*CO,CO); ti+=b-a; tg+=now()-b;}
    double t=now()-t0;
    printf("chunk %2d imgs (%5d rows): total %.0f ms = %.1f GFLOP/s; im2col %.0f ms, sgemm %.0f ms (%.1f GFLOP/s)\n",nb,nb*PIX,t*1e3,flops/t/1e9,ti*1e3,tg*1e3,flops/tg/1e9);
  }
  // sgemm limit square
  int n=2048; float*a=malloc(4L*n*n),*bb=malloc(4L*n*n),*cc=malloc(4L*n*n); memset(a,0,4L*n*n);memset(bb,0,4L*n*n);
  cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,n,n,n,1.f,a,n,bb,n,0.f,cc,n);
  double t0=now(); cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,n,n,n,1.f,a,n,bb,n,0.f,cc,n); double t=now()-t0;
  printf("sgemm 2048: %.1f GFLOP/s\n",2.0*n*n*n/t/1e9);
}
