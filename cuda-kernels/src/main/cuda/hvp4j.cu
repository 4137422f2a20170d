// hvp4j GPU kernels: the operations of io.hvp4j.backend.Backend on device memory, for float (f32) and
// double (f64) tensors. Every entry point is extern "C" so that its PTX name is the name the Java side
// (io.hvp4j.cuda.CudaKernels) launches; each exists once per dtype with the suffix _f32 or _f64.
//
// Conventions (as in ScalarBackend, the reference):
//  * Tensors are dense row-major; "blocked" operands are rows x (k*n): row r holds k pieces of length n.
//  * Element-wise functions and reductions work in double and round once on store.
//  * Determinism: no atomics. Every output element is computed by one thread in a fixed order, and every
//    reduction uses a fixed launch shape (REDUCE_BLOCKS blocks of REDUCE_THREADS threads, independent of the
//    device), a fixed per-thread stride order, a fixed shared-memory tree per block and a one-block
//    final pass over the REDUCE_BLOCKS partials in a fixed tree. Same input => same bits on every GPU.
//  * Sizes are 64-bit where a tensor may exceed 2^31 elements (element-wise, BLAS-1); GEMM dimensions are int.

#include <stdint.h>

#define REDUCE_THREADS 256
#define REDUCE_BLOCKS 512

// ------------------------------------------------------------------------------------------------ GEMM
// C = alpha*op(A)*op(B) + beta*C, op(X) = X or X^T, C m x n, op(A) m x k, op(B) k x n, all row-major with
// leading dimensions lda, ldb, ldc (row lengths of the stored matrices). beta == 0 ignores C (no NaN
// propagation, as BLAS). Blocks of 256 threads (a 16 x 16 grid) compute BM x BN tiles of C, each thread a
// (BM/16) x (BN/16) register micro-tile (rows ty + 16a, columns tx + 16b), with K-slices of BK staged in
// shared memory. Two tile shapes: 64 x 64 x 16 (gemm_*: any size) and 128 x 128 x 8 (gemm_big_*: more
// reuse per loaded element, for products with enough tiles to fill the device). In both, each thread loads
// 4 consecutive stored elements of each operand per slice; when vec != 0 (the host checked 16-byte alignment
// of the base and a leading dimension that is a multiple of 4) those 4 come in one float4 (f32) or two
// double2 (f64) loads. Every C element is one thread's FMA chain over p = 0..k-1 in order, so the result does
// not depend on the tile shape or the launch (deterministic; zero padding past k adds exact zeros).

template <typename T> struct Vec4;
template <> struct Vec4<float> {
    static __device__ __forceinline__ void load(const float* p, float* r) {
        float4 v = *reinterpret_cast<const float4*>(p);
        r[0] = v.x; r[1] = v.y; r[2] = v.z; r[3] = v.w;
    }
};
template <> struct Vec4<double> {
    static __device__ __forceinline__ void load(const double* p, double* r) {
        double2 a = *reinterpret_cast<const double2*>(p);
        double2 b = *reinterpret_cast<const double2*>(p + 2);
        r[0] = a.x; r[1] = a.y; r[2] = b.x; r[3] = b.y;
    }
};

// Loads the 4 elements stored at X[row*ld + col .. col+3] (contiguous), zero outside rows x cols.
template <typename T>
__device__ __forceinline__ void load4(const T* __restrict__ X, int ld, int rows, int cols, int row, int col,
                                      bool vec, T* r) {
    if (row < rows && col + 3 < cols && vec) {
        Vec4<T>::load(X + (size_t)row * ld + col, r);
    } else {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            r[q] = (row < rows && col + q < cols) ? X[(size_t)row * ld + col + q] : T(0);
        }
    }
}

template <typename T, bool TA, bool TB, int BM, int BN, int BK>
__device__ void gemm_tile(int m, int n, int k, T alpha, const T* __restrict__ A, int lda,
                          const T* __restrict__ B, int ldb, T beta, T* __restrict__ C, int ldc, int vecA, int vecB) {
    static_assert(BM * BK == 1024 && BN * BK == 1024, "256 threads load 4 elements of each operand per slice");
    constexpr int TM = BM / 16, TN = BN / 16;
    __shared__ T As[BK][BM + 4];   // As[p][i] = op(A)[i0+i][p0+p]
    __shared__ T Bs[BK][BN + 4];   // Bs[p][j] = op(B)[p0+p][j0+j]
    const int tid = threadIdx.x;
    const int tx = tid % 16, ty = tid / 16;
    const int i0 = blockIdx.y * BM, j0 = blockIdx.x * BN;
    T acc[TM][TN];
#pragma unroll
    for (int a = 0; a < TM; a++)
#pragma unroll
        for (int b = 0; b < TN; b++) acc[a][b] = T(0);

    for (int p0 = 0; p0 < k; p0 += BK) {
        T r[4];
        if (!TA) {  // stored m x k: 4 consecutive p of one row i
            int i = tid / (BK / 4), p = (tid % (BK / 4)) * 4;
            load4<T>(A, lda, m, k, i0 + i, p0 + p, vecA, r);
#pragma unroll
            for (int q = 0; q < 4; q++) As[p + q][i] = r[q];
        } else {    // stored k x m: 4 consecutive i of one row p
            int p = tid / (BM / 4), i = (tid % (BM / 4)) * 4;
            load4<T>(A, lda, k, m, p0 + p, i0 + i, vecA, r);
#pragma unroll
            for (int q = 0; q < 4; q++) As[p][i + q] = r[q];
        }
        if (!TB) {  // stored k x n: 4 consecutive j of one row p
            int p = tid / (BN / 4), j = (tid % (BN / 4)) * 4;
            load4<T>(B, ldb, k, n, p0 + p, j0 + j, vecB, r);
#pragma unroll
            for (int q = 0; q < 4; q++) Bs[p][j + q] = r[q];
        } else {    // stored n x k: 4 consecutive p of one row j
            int j = tid / (BK / 4), p = (tid % (BK / 4)) * 4;
            load4<T>(B, ldb, n, k, j0 + j, p0 + p, vecB, r);
#pragma unroll
            for (int q = 0; q < 4; q++) Bs[p + q][j] = r[q];
        }
        __syncthreads();
#pragma unroll
        for (int p = 0; p < BK; p++) {
            T av[TM], bv[TN];
#pragma unroll
            for (int a = 0; a < TM; a++) av[a] = As[p][ty + 16 * a];
#pragma unroll
            for (int b = 0; b < TN; b++) bv[b] = Bs[p][tx + 16 * b];
#pragma unroll
            for (int a = 0; a < TM; a++)
#pragma unroll
                for (int b = 0; b < TN; b++) acc[a][b] = fma(av[a], bv[b], acc[a][b]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int a = 0; a < TM; a++) {
        int i = i0 + ty + 16 * a;
        if (i >= m) continue;
#pragma unroll
        for (int b = 0; b < TN; b++) {
            int j = j0 + tx + 16 * b;
            if (j >= n) continue;
            size_t ci = (size_t)i * ldc + j;
            C[ci] = beta == T(0) ? alpha * acc[a][b] : alpha * acc[a][b] + beta * C[ci];
        }
    }
}

#define GEMM_ENTRY(NAME, T, TA, TB, BM, BN, BK)                                                             \
    extern "C" __global__ void __launch_bounds__(256) NAME(int m, int n, int k, T alpha, const T* A, int lda, \
            const T* B, int ldb, T beta, T* C, int ldc, int vecA, int vecB) {                               \
        gemm_tile<T, TA, TB, BM, BN, BK>(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, vecA, vecB);        \
    }
#define GEMM_ENTRIES(PREFIX, BM, BN, BK)                                        \
    GEMM_ENTRY(PREFIX##_nn_f32, float, false, false, BM, BN, BK)                \
    GEMM_ENTRY(PREFIX##_nt_f32, float, false, true, BM, BN, BK)                 \
    GEMM_ENTRY(PREFIX##_tn_f32, float, true, false, BM, BN, BK)                 \
    GEMM_ENTRY(PREFIX##_tt_f32, float, true, true, BM, BN, BK)                  \
    GEMM_ENTRY(PREFIX##_nn_f64, double, false, false, BM, BN, BK)               \
    GEMM_ENTRY(PREFIX##_nt_f64, double, false, true, BM, BN, BK)                \
    GEMM_ENTRY(PREFIX##_tn_f64, double, true, false, BM, BN, BK)                \
    GEMM_ENTRY(PREFIX##_tt_f64, double, true, true, BM, BN, BK)
GEMM_ENTRIES(gemm, 64, 64, 16)
GEMM_ENTRIES(gemm_big, 128, 128, 8)

// ------------------------------------------------------------------------------- element-wise functions
// value = f(z), d1 = f'(z), d2 = f''(z) in double, the formulas of autodiff/Activation.java and
// autodiff/LogCosh.java; d1 or d2 may be null (not wanted). relu'(0) = leaky_relu'(0) from the left.

#define LEAK 0.01
#define GELU_C 0.79788456080286535588   // sqrt(2/pi)
#define GELU_A 0.044715
#define LN2 0.69314718055994530942

enum { F_IDENTITY, F_RELU, F_LEAKY_RELU, F_TANH, F_SIGMOID, F_SOFTPLUS, F_GELU, F_LOGCOSH };

__device__ __forceinline__ double sigmoid_d(double z) { return 0.5 * (1.0 + tanh(0.5 * z)); }

template <int F>
__device__ __forceinline__ void eval3(double z, double& v, double& g1, double& g2) {
    if (F == F_IDENTITY) { v = z; g1 = 1; g2 = 0; }
    else if (F == F_RELU) { v = z > 0 ? z : 0; g1 = z > 0 ? 1 : 0; g2 = 0; }
    else if (F == F_LEAKY_RELU) { v = z > 0 ? z : LEAK * z; g1 = z > 0 ? 1 : LEAK; g2 = 0; }
    else if (F == F_TANH) { double t = tanh(z); v = t; g1 = 1 - t * t; g2 = -2 * t * (1 - t * t); }
    else if (F == F_SIGMOID) { double s = sigmoid_d(z); v = s; g1 = s * (1 - s); g2 = s * (1 - s) * (1 - 2 * s); }
    else if (F == F_SOFTPLUS) {
        double s = sigmoid_d(z);
        v = fmax(z, 0.0) + log1p(exp(-fabs(z))); g1 = s; g2 = s * (1 - s);
    } else if (F == F_GELU) {
        double u = GELU_C * (z + GELU_A * z * z * z);
        double du = GELU_C * (1 + 3 * GELU_A * z * z);
        double t = tanh(u);
        v = 0.5 * z * (1 + t);
        g1 = 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * du;
        g2 = (1 - t * t) * (du - z * t * du * du + 0.5 * z * (6 * GELU_C * GELU_A * z));
    } else {  // F_LOGCOSH
        double a = fabs(z), t = tanh(z);
        v = a + log1p(exp(-2 * a)) - LN2; g1 = t; g2 = 1 - t * t;
    }
}

template <typename T, int F>
__device__ void eval_kernel(long long n, const T* __restrict__ z, T* __restrict__ value, T* __restrict__ d1,
                            T* __restrict__ d2) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        double v, g1, g2;
        eval3<F>((double)z[i], v, g1, g2);
        value[i] = (T)v;
        if (d1) d1[i] = (T)g1;
        if (d2) d2[i] = (T)g2;
    }
}

#define EVAL_ENTRY(NAME, F)                                                                                 \
    extern "C" __global__ void NAME##_f32(long long n, const float* z, float* v, float* d1, float* d2) {      \
        eval_kernel<float, F>(n, z, v, d1, d2);                                                             \
    }                                                                                                       \
    extern "C" __global__ void NAME##_f64(long long n, const double* z, double* v, double* d1, double* d2) { \
        eval_kernel<double, F>(n, z, v, d1, d2);                                                            \
    }
EVAL_ENTRY(eval_identity, F_IDENTITY)
EVAL_ENTRY(eval_relu, F_RELU)
EVAL_ENTRY(eval_leaky_relu, F_LEAKY_RELU)
EVAL_ENTRY(eval_tanh, F_TANH)
EVAL_ENTRY(eval_sigmoid, F_SIGMOID)
EVAL_ENTRY(eval_softplus, F_SOFTPLUS)
EVAL_ENTRY(eval_gelu, F_GELU)
EVAL_ENTRY(eval_logcosh, F_LOGCOSH)

// ------------------------------------------------------------------------------ blocked element-wise ops
#define GRID_STRIDE(i, total) \
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (total); i += (long long)gridDim.x * blockDim.x)

// out[r,j,c] = d[r,c] * t[r,j,c]; out may alias t.
template <typename T>
__device__ void broadcast_multiply(int rows, int n, int k, const T* d, const T* t, T* out) {
    long long kn = (long long)k * n;
    GRID_STRIDE(i, rows * kn) {
        long long r = i / kn; int c = (int)(i % n);
        out[i] = (T)((double)d[r * n + c] * (double)t[i]);
    }
}

// out[r,j,c] = d2[r,c]*zDot[r,j,c]*g[r,c] + d1[r,c]*gDot[r,j,c]; out may alias gDot.
template <typename T>
__device__ void backward_tangent(int rows, int n, int k, const T* d1, const T* d2, const T* g, const T* zDot,
                                 const T* gDot, T* out) {
    long long kn = (long long)k * n;
    GRID_STRIDE(i, rows * kn) {
        long long e = (i / kn) * n + (int)(i % n);
        out[i] = (T)((double)d2[e] * (double)zDot[i] * (double)g[e] + (double)d1[e] * (double)gDot[i]);
    }
}

// c[r, :] += v
template <typename T>
__device__ void add_to_rows(int rows, int cols, const T* v, T* c) {
    GRID_STRIDE(i, (long long)rows * cols) {
        c[i] = (T)((double)c[i] + (double)v[i % cols]);
    }
}

// dst[b][a][c] = src[a][b][c] + beta*dst[b][a][c] for src of shape (d0, d1, d2); beta == 0 ignores dst.
template <typename T>
__device__ void swap_leading_axes(int d0, int d1, int d2, double beta, const T* src, T* dst) {
    long long total = (long long)d0 * d1 * d2;
    GRID_STRIDE(di, total) {
        long long c = di % d2, ba = di / d2, a = ba % d0, b = ba / d0;
        long long si = (a * d1 + b) * d2 + c;
        dst[di] = beta == 0 ? src[si] : (T)((double)src[si] + beta * (double)dst[di]);
    }
}

// out[j] = alpha * sum_r g[r, j] + beta * out[j]. Block (32, 16): 32 columns, 16 row strands; strand s
// sums rows s, s+16, ... in order, then the 16 strand sums are added in a fixed tree.
template <typename T>
__device__ void column_sums(int rows, int cols, double alpha, const T* g, double beta, T* out) {
    __shared__ double part[16][33];
    int j = blockIdx.x * 32 + threadIdx.x;
    double s = 0;
    if (j < cols) {
        for (int r = threadIdx.y; r < rows; r += 16) s += (double)g[(size_t)r * cols + j];
    }
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    for (int h = 8; h > 0; h >>= 1) {
        if (threadIdx.y < h) part[threadIdx.y][threadIdx.x] += part[threadIdx.y + h][threadIdx.x];
        __syncthreads();
    }
    if (threadIdx.y == 0 && j < cols) {
        double t = part[0][threadIdx.x];
        out[j] = (T)(beta == 0 ? alpha * t : alpha * t + beta * (double)out[j]);
    }
}

// Warp-wide sum / max with a fixed butterfly: the same bits in every lane, deterministic.
__device__ __forceinline__ double warp_sum(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double warp_max(double v) {
    for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// One warp per row: p[r, :] = softmax(f[r, :]) with the row maximum subtracted.
template <typename T>
__device__ void softmax_rows(int rows, int cols, const T* f, T* p) {
    int lane = threadIdx.x % 32;
    for (long long r = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / 32; r < rows;
         r += (long long)gridDim.x * blockDim.x / 32) {
        const T* fr = f + r * cols;
        double mx = -INFINITY;
        for (int c = lane; c < cols; c += 32) mx = fmax(mx, (double)fr[c]);
        mx = warp_max(mx);
        double s = 0;
        for (int c = lane; c < cols; c += 32) s += exp((double)fr[c] - mx);
        s = warp_sum(s);
        for (int c = lane; c < cols; c += 32) p[r * cols + c] = (T)(exp((double)fr[c] - mx) / s);
    }
}

// One warp per row: loss[r] = logsumexp(f[r,:]) - sum_c y[r,c]*f[r,c], in double (summed by sum_f64 after).
template <typename T>
__device__ void cross_entropy_rows(int rows, int cols, const T* f, const T* y, double* loss) {
    int lane = threadIdx.x % 32;
    for (long long r = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / 32; r < rows;
         r += (long long)gridDim.x * blockDim.x / 32) {
        const T* fr = f + r * cols;
        const T* yr = y + r * cols;
        double mx = -INFINITY;
        for (int c = lane; c < cols; c += 32) mx = fmax(mx, (double)fr[c]);
        mx = warp_max(mx);
        double s = 0, yf = 0;
        for (int c = lane; c < cols; c += 32) {
            s += exp((double)fr[c] - mx);
            yf += (double)yr[c] * (double)fr[c];
        }
        s = warp_sum(s);
        yf = warp_sum(yf);
        if (lane == 0) loss[r] = mx + log(s) - yf;
    }
}

// One warp per (row, tangent): out[r,j,:] = alpha*(p[r,:]*fDot[r,j,:] - p[r,:]*<p[r,:], fDot[r,j,:]>).
template <typename T>
__device__ void softmax_tangent(int rows, int n, int k, double alpha, const T* p, const T* fDot, T* out) {
    int lane = threadIdx.x % 32;
    long long pieces = (long long)rows * k;
    for (long long q = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / 32; q < pieces;
         q += (long long)gridDim.x * blockDim.x / 32) {
        long long r = q / k;
        const T* pr = p + r * n;
        const T* fd = fDot + q * n;
        double dot = 0;
        for (int c = lane; c < n; c += 32) dot += (double)pr[c] * (double)fd[c];
        dot = warp_sum(dot);
        for (int c = lane; c < n; c += 32) out[q * n + c] = (T)(alpha * (double)pr[c] * ((double)fd[c] - dot));
    }
}

// ---------------------------------------------------------------------------------------------- BLAS-1
template <typename T>
__device__ void axpby(long long n, double alpha, const T* x, double beta, T* y) {
    GRID_STRIDE(i, n) y[i] = (T)(alpha * (double)x[i] + beta * (double)y[i]);
}

template <typename T>
__device__ void scal(long long n, double alpha, T* x) {
    GRID_STRIDE(i, n) x[i] = (T)(alpha * (double)x[i]);
}

// NaN-propagating max (as Math.max), so that nrm2 of a vector with NaN is NaN.
__device__ __forceinline__ double max_nan(double a, double b) { return (isnan(a) || a > b) ? a : b; }

// Block tree over REDUCE_THREADS values in shared memory; returns the block's result in thread 0.
template <bool MAX>
__device__ __forceinline__ double block_reduce(double v, double* sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int h = REDUCE_THREADS / 2; h > 0; h >>= 1) {
        if (threadIdx.x < h) sh[threadIdx.x] = MAX ? max_nan(sh[threadIdx.x], sh[threadIdx.x + h])
                                                   : sh[threadIdx.x] + sh[threadIdx.x + h];
        __syncthreads();
    }
    return sh[0];
}

// Stage 1 of a reduction: launched with exactly REDUCE_BLOCKS x REDUCE_THREADS; writes partial[blockIdx].
// MODE 0: sum x*y; 1: sum x; 2: sum (x/scale)^2; 3: max |x|.
template <typename T, int MODE>
__device__ void reduce_stage1(long long n, const T* x, const T* y, double scale, double* partial) {
    __shared__ double sh[REDUCE_THREADS];
    double acc = 0;
    GRID_STRIDE(i, n) {
        double v = (double)x[i];
        if (MODE == 0) acc += v * (double)y[i];
        else if (MODE == 1) acc += v;
        else if (MODE == 2) { double u = v / scale; acc += u * u; }
        else acc = max_nan(acc, fabs(v));
    }
    double r = block_reduce<MODE == 3>(acc, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = r;
}

// Stage 2: one block of REDUCE_THREADS adds (or maxes) count partials in a fixed order into result[0].
template <bool MAX>
__device__ void reduce_stage2(int count, const double* partial, double* result) {
    __shared__ double sh[REDUCE_THREADS];
    double acc = 0;
    for (int i = threadIdx.x; i < count; i += REDUCE_THREADS) acc = MAX ? max_nan(acc, partial[i]) : acc + partial[i];
    double r = block_reduce<MAX>(acc, sh);
    if (threadIdx.x == 0) result[0] = r;
}

extern "C" __global__ void reduce_sum_final(int count, const double* partial, double* result) {
    reduce_stage2<false>(count, partial, result);
}
extern "C" __global__ void reduce_max_final(int count, const double* partial, double* result) {
    reduce_stage2<true>(count, partial, result);
}

#define TYPED_ENTRIES(S, T)                                                                                   \
    extern "C" __global__ void broadcast_multiply_##S(int rows, int n, int k, const T* d, const T* t, T* out) { \
        broadcast_multiply<T>(rows, n, k, d, t, out);                                                          \
    }                                                                                                          \
    extern "C" __global__ void backward_tangent_##S(int rows, int n, int k, const T* d1, const T* d2,          \
            const T* g, const T* zDot, const T* gDot, T* out) {                                                \
        backward_tangent<T>(rows, n, k, d1, d2, g, zDot, gDot, out);                                           \
    }                                                                                                          \
    extern "C" __global__ void add_to_rows_##S(int rows, int cols, const T* v, T* c) {                        \
        add_to_rows<T>(rows, cols, v, c);                                                                      \
    }                                                                                                          \
    extern "C" __global__ void swap_leading_axes_##S(int d0, int d1, int d2, double beta, const T* src, T* dst) { \
        swap_leading_axes<T>(d0, d1, d2, beta, src, dst);                                                      \
    }                                                                                                          \
    extern "C" __global__ void column_sums_##S(int rows, int cols, double alpha, const T* g, double beta, T* out) { \
        column_sums<T>(rows, cols, alpha, g, beta, out);                                                       \
    }                                                                                                          \
    extern "C" __global__ void softmax_rows_##S(int rows, int cols, const T* f, T* p) {                       \
        softmax_rows<T>(rows, cols, f, p);                                                                     \
    }                                                                                                          \
    extern "C" __global__ void cross_entropy_rows_##S(int rows, int cols, const T* f, const T* y, double* loss) { \
        cross_entropy_rows<T>(rows, cols, f, y, loss);                                                         \
    }                                                                                                          \
    extern "C" __global__ void softmax_tangent_##S(int rows, int n, int k, double alpha, const T* p,          \
            const T* fDot, T* out) {                                                                           \
        softmax_tangent<T>(rows, n, k, alpha, p, fDot, out);                                                   \
    }                                                                                                          \
    extern "C" __global__ void axpby_##S(long long n, double alpha, const T* x, double beta, T* y) {           \
        axpby<T>(n, alpha, x, beta, y);                                                                        \
    }                                                                                                          \
    extern "C" __global__ void scal_##S(long long n, double alpha, T* x) { scal<T>(n, alpha, x); }              \
    extern "C" __global__ void __launch_bounds__(REDUCE_THREADS) dot_partial_##S(long long n, const T* x,      \
            const T* y, double* partial) {                                                                     \
        reduce_stage1<T, 0>(n, x, y, 1.0, partial);                                                            \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(REDUCE_THREADS) sum_partial_##S(long long n, const T* x,      \
            double* partial) {                                                                                 \
        reduce_stage1<T, 1>(n, x, x, 1.0, partial);                                                            \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(REDUCE_THREADS) sumsq_scaled_partial_##S(long long n,         \
            const T* x, double scale, double* partial) {                                                       \
        reduce_stage1<T, 2>(n, x, x, scale, partial);                                                          \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(REDUCE_THREADS) maxabs_partial_##S(long long n, const T* x,   \
            double* partial) {                                                                                 \
        reduce_stage1<T, 3>(n, x, x, 1.0, partial);                                                            \
    }
TYPED_ENTRIES(f32, float)
TYPED_ENTRIES(f64, double)
