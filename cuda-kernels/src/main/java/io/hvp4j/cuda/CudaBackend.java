package io.hvp4j.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ElementwiseFunction;
import io.hvp4j.backend.ArgumentChecks;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.DeviceMemory;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * The GPU backend: the kernels of {@code hvp4j.cu} (PTX resources) launched through the JCuda driver API on one
 * device, in one stream, in the device's primary context. Tensors from {@link #allocate} live in device memory
 * ({@link Tensor#isHost()} false) owned by the given arena, which frees them when closed; host data moves with
 * {@link #upload}/{@link #download}. Kernels are queued in order on the stream; scalar results
 * ({@link #dot}, {@link #sum}, {@link #nrm2}, {@link #crossEntropySum}) and downloads wait for them.
 *
 * <p>Numerics follow {@link io.hvp4j.backend.ScalarBackend}: element-wise work in double, rounded once on
 * store; GEMM accumulates in the tensor's dtype with FMA (no TF32: plain FP32/FP64 instructions), 64×64 or
 * 128×128 tiles by size, with the same bits either way. Reductions
 * use a fixed launch shape ({@link CudaKernels#REDUCE_BLOCKS} × {@link CudaKernels#REDUCE_THREADS}) and fixed
 * trees, so every result is the same bits on every run and every GPU.
 *
 * <p>Create with {@link #create}; a missing driver or device gives {@link CudaUnavailableException}, never an
 * {@link UnsatisfiedLinkError}. Safe for use by one thread at a time (the context is made current on the
 * calling thread); {@link #close} releases the module, stream and context; close the arenas of its tensors first.
 */
public final class CudaBackend implements Backend {
    private static final int THREADS = 256;
    private static final int MAX_BLOCKS = 1 << 16;
    private static final long COPY_CHUNK = 1L << 30;

    private final int ordinal;
    private final String deviceName;
    private final int multiprocessors;
    private int gemmTile;                // 0: chosen per call; 64 or 128: forced (tests)
    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final CUmodule module;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Arena own = Arena.ofShared();
    private final Tensor partial;        // REDUCE_BLOCKS doubles
    private final Tensor scalar;         // 1 double
    private final MemorySegment scalarHost;
    private Tensor rowLoss;              // per-row cross-entropy, grown on demand
    private volatile boolean closed;
    private Thread current;

    private CudaBackend(int ordinal) {
        this.ordinal = ordinal;
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        device = new CUdevice();
        cuDeviceGet(device, ordinal);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int n = 0;
        while (n < name.length && name[n] != 0) n++;
        deviceName = new String(name, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
        int[] major = {0}, minor = {0};
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        int[] sms = {0};
        cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        multiprocessors = Math.max(1, sms[0]);
        if (major[0] < 7 || (major[0] == 7 && minor[0] < 5)) {
            throw new CudaUnavailableException(deviceName + " has compute capability " + major[0] + "." + minor[0]
                    + "; the kernels need 7.5 or newer");
        }
        context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        current = Thread.currentThread();
        stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        module = new CUmodule();
        String file = CudaKernels.ptxFor(major[0]);
        byte[] ptx = (CudaKernels.ptx(file) + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try {
            cuModuleLoadData(module, ptx);
        } catch (CudaException e) {
            throw new CudaUnavailableException("the driver cannot load " + file + " on " + deviceName + " ("
                    + CudaProbe.oneLine(e.getMessage()) + ")", e);
        }
        for (String k : CudaKernels.names()) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, module, k);
            functions.put(k, f);
        }
        partial = allocate(own, DType.F64, CudaKernels.REDUCE_BLOCKS, 1);
        scalar = allocate(own, DType.F64, 1, 1);
        scalarHost = own.allocate(ValueLayout.JAVA_DOUBLE);
    }

    /**
     * Opens device {@code ordinal} (0 = the first). Throws {@link CudaUnavailableException} with a one-line
     * reason when the driver, the device or the PTX is not usable.
     */
    public static CudaBackend create(int ordinal) {
        CudaProbe.Result probe = CudaProbe.probe();
        probe.require();
        if (ordinal < 0 || ordinal >= probe.devices()) {
            throw new CudaUnavailableException("no device " + ordinal + " (the driver sees " + probe.devices() + ")");
        }
        try {
            return new CudaBackend(ordinal);
        } catch (CudaUnavailableException e) {
            throw e;
        } catch (CudaException e) {
            throw new CudaUnavailableException(CudaProbe.oneLine(e.getMessage()), e);
        } catch (LinkageError e) {
            throw new CudaUnavailableException("JCuda's native library failed to load ("
                    + e.getClass().getSimpleName() + ": " + CudaProbe.oneLine(e.getMessage()) + ")", e);
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The device, e.g. {@code cuda:0 (NVIDIA H100 80GB HBM3)}. */
    public String deviceDescription() {
        return "cuda:" + ordinal + " (" + deviceName + ")";
    }

    /** One host thread queues the kernels. */
    @Override
    public int threads() {
        return 1;
    }

    @Override
    public boolean deviceMemory() {
        return true;
    }

    // ------------------------------------------------------------------------------------------ memory

    /** Device memory freed when its arena closes (or with the context, if the backend was closed first). */
    private final class Buffer implements DeviceMemory {
        final CUdeviceptr ptr;
        final long bytes;
        final MemorySegment lifetime; // a zero-length segment in the owning arena: its scope is our liveness

        Buffer(CUdeviceptr ptr, long bytes, Arena arena) {
            this.ptr = ptr;
            this.bytes = bytes;
            this.lifetime = MemorySegment.NULL.reinterpret(0, arena, s -> free());
        }

        private void free() {
            if (!closed) {
                synchronized (CudaBackend.this) {
                    cuCtxSetCurrent(context);
                    current = null;
                    cuMemFree(ptr);
                }
            }
        }

        @Override
        public long byteSize() {
            return bytes;
        }

        @Override
        public void checkAlive() {
            if (!lifetime.scope().isAlive()) {
                throw new IllegalStateException("device memory of " + deviceDescription() + " was freed (its arena is closed)");
            }
            if (closed) {
                throw new IllegalStateException("the CUDA backend on " + deviceDescription() + " is closed");
            }
        }

        @Override
        public String location() {
            return "cuda:" + ordinal;
        }

        CudaBackend owner() {
            return CudaBackend.this;
        }
    }

    @Override
    public Tensor allocate(Arena arena, DType dtype, int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape " + rows + "x" + cols);
        }
        enter();
        long bytes = (long) rows * cols * dtype.bytes();
        CUdeviceptr p = new CUdeviceptr();
        try {
            cuMemAlloc(p, Math.max(bytes, 1));
        } catch (CudaException e) {
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes on " + deviceDescription() + ": "
                    + CudaProbe.oneLine(e.getMessage()));
        }
        Buffer b = new Buffer(p, bytes, arena);
        if (bytes > 0) {
            cuMemsetD8Async(p, (byte) 0, bytes, stream);
        }
        return Tensor.onDevice(b, 0, dtype, rows, cols);
    }

    /** The device address of element 0 of {@code t}, checking that the tensor belongs to this backend. */
    private CUdeviceptr ptr(Tensor t) {
        if (t.isHost()) {
            throw new IllegalArgumentException(t + " is a host tensor; the CUDA backend computes on its own device"
                    + " tensors (allocate them with it and upload)");
        }
        if (!(t.device() instanceof Buffer b) || b.owner() != this) {
            throw new IllegalArgumentException(t + " belongs to another backend");
        }
        b.checkAlive();
        return t.deviceOffset() == 0 ? b.ptr : b.ptr.withByteOffset(t.deviceOffset());
    }

    private void enter() {
        if (closed) {
            throw new IllegalStateException("the CUDA backend on " + deviceDescription() + " is closed");
        }
        if (current != Thread.currentThread()) {
            cuCtxSetCurrent(context);
            current = Thread.currentThread();
        }
    }

    @Override
    public void upload(Tensor src, Tensor dst) {
        ArgumentChecks.checkSameSize(src, dst);
        CUdeviceptr d = ptr(dst);
        if (!src.isHost()) {
            throw new IllegalArgumentException("upload needs a host source, got " + src);
        }
        enter();
        if (src.dtype() != dst.dtype()) {
            try (Arena tmp = Arena.ofConfined()) {
                Tensor conv = Tensor.allocate(tmp, dst.dtype(), src.rows(), src.cols());
                conv.copyFrom(src);
                hostToDevice(conv.segment(), d);
                cuStreamSynchronize(stream); // the staging copy dies with tmp
            }
            return;
        }
        hostToDevice(src.segment(), d);
    }

    @Override
    public void download(Tensor src, Tensor dst) {
        ArgumentChecks.checkSameSize(src, dst);
        CUdeviceptr s = ptr(src);
        if (!dst.isHost()) {
            throw new IllegalArgumentException("download needs a host destination, got " + dst);
        }
        enter();
        if (src.dtype() != dst.dtype()) {
            try (Arena tmp = Arena.ofConfined()) {
                Tensor conv = Tensor.allocate(tmp, src.dtype(), src.rows(), src.cols());
                deviceToHost(s, conv.segment());
                dst.copyFrom(conv);
            }
            return;
        }
        deviceToHost(s, dst.segment());
    }

    /** Pageable host memory: the driver stages it, so the source may be reused when the call returns. */
    private void hostToDevice(MemorySegment host, CUdeviceptr d) {
        for (long off = 0, n = host.byteSize(); off < n; off += COPY_CHUNK) {
            long len = Math.min(COPY_CHUNK, n - off);
            ByteBuffer bb = host.asSlice(off, len).asByteBuffer();
            cuMemcpyHtoDAsync(off == 0 ? d : d.withByteOffset(off), Pointer.to(bb), len, stream);
        }
    }

    private void deviceToHost(CUdeviceptr d, MemorySegment host) {
        for (long off = 0, n = host.byteSize(); off < n; off += COPY_CHUNK) {
            long len = Math.min(COPY_CHUNK, n - off);
            ByteBuffer bb = host.asSlice(off, len).asByteBuffer();
            cuMemcpyDtoHAsync(Pointer.to(bb), off == 0 ? d : d.withByteOffset(off), len, stream);
        }
        cuStreamSynchronize(stream);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ArgumentChecks.checkSameSize(src, dst);
        ArgumentChecks.checkDType(src, dst);
        CUdeviceptr s = ptr(src), d = ptr(dst);
        enter();
        long bytes = src.size() * src.dtype().bytes();
        if (bytes > 0) {
            cuMemcpyDtoDAsync(d, s, bytes, stream);
        }
    }

    @Override
    public void zero(Tensor t) {
        CUdeviceptr p = ptr(t);
        enter();
        long bytes = t.size() * t.dtype().bytes();
        if (bytes > 0) {
            cuMemsetD8Async(p, (byte) 0, bytes, stream);
        }
    }

    @Override
    public void synchronize() {
        enter();
        cuStreamSynchronize(stream);
    }

    // ----------------------------------------------------------------------------------------- launches

    /** Kernel arguments: Integer → int, Long → long long, Double → double, Tensor → pointer, null → NULL. */
    private Pointer params(Object... args) {
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            ps[i] = switch (a) {
                case null -> Pointer.to(new long[] {0});
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Double v -> Pointer.to(new double[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case Tensor t -> Pointer.to(ptr(t));
                default -> throw new IllegalArgumentException("kernel argument " + a.getClass());
            };
        }
        return Pointer.to(ps);
    }

    private void launch(String kernel, int gridX, int gridY, int block, Object... args) {
        enter();
        CUfunction f = functions.get(kernel);
        if (f == null) {
            throw new IllegalStateException("no kernel " + kernel);
        }
        cuLaunchKernel(f, gridX, gridY, 1, block, 1, 1, 0, stream, params(args), null);
    }

    /** A grid-stride launch over {@code n} items (skipped when there are none). */
    private void launchElements(String kernel, long n, Object... args) {
        if (n <= 0) return;
        int blocks = (int) Math.min((n + THREADS - 1) / THREADS, MAX_BLOCKS);
        launch(kernel, blocks, 1, THREADS, args);
    }

    /** A launch with one warp per item. */
    private void launchWarps(String kernel, long items, Object... args) {
        if (items <= 0) return;
        int warpsPerBlock = THREADS / 32;
        int blocks = (int) Math.min((items + warpsPerBlock - 1) / warpsPerBlock, MAX_BLOCKS);
        launch(kernel, blocks, 1, THREADS, args);
    }

    private static String t(String base, Tensor x) {
        return CudaKernels.typed(base, x.dtype());
    }

    private static Object scalarArg(double v, Tensor like) {
        return like.dtype() == DType.F32 ? (Object) (float) v : (Object) v;
    }

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int[] mnk = ArgumentChecks.checkGemm(transA, transB, a, b, c);
        int m = mnk[0], n = mnk[1], k = mnk[2];
        if (m == 0 || n == 0) return;
        // 128 x 128 tiles reuse each loaded element twice as often, but only pay off with at least two waves of
        // them on the device; the result is the same bits with either tile (one FMA chain per element).
        long bigTiles = (long) ((m + 127) / 128) * ((n + 127) / 128);
        int tile = gemmTile != 0 ? gemmTile : bigTiles >= 2L * multiprocessors ? 128 : 64;
        String kernel = (tile == 128 ? "gemm_big_" : "gemm_") + (transA ? "t" : "n") + (transB ? "t" : "n");
        int vecA = a.cols() % 4 == 0 && a.deviceOffset() % 16 == 0 ? 1 : 0;
        int vecB = b.cols() % 4 == 0 && b.deviceOffset() % 16 == 0 ? 1 : 0;
        launch(t(kernel, c), (n + tile - 1) / tile, (m + tile - 1) / tile, 256, m, n, k, scalarArg(alpha, c), a,
                a.cols(), b, b.cols(), scalarArg(beta, c), c, c.cols(), vecA, vecB);
    }

    /** Forces the GEMM tile (64 or 128), or 0 to choose per call; for tests of both kernels. */
    void forceGemmTile(int tile) {
        if (tile != 0 && tile != 64 && tile != 128) {
            throw new IllegalArgumentException("tile " + tile);
        }
        gemmTile = tile;
    }

    @Override
    public void evaluate(ElementwiseFunction f, Tensor z, Tensor value, Tensor d1, Tensor d2) {
        ArgumentChecks.checkDType(z, value, d1, d2);
        ArgumentChecks.checkSameSize(z, value);
        if (d1 != null) ArgumentChecks.checkSameSize(z, d1);
        if (d2 != null) ArgumentChecks.checkSameSize(z, d2);
        if (!CudaKernels.ELEMENTWISE.contains(f.id())) {
            throw new UnsupportedOperationException("the CUDA backend has no kernel for the element-wise function '"
                    + f.id() + "'");
        }
        launchElements(t("eval_" + f.id(), z), z.size(), z.size(), z, value, d1, d2);
    }

    @Override
    public void broadcastMultiply(Tensor d, Tensor tt, Tensor out) {
        ArgumentChecks.checkDType(d, tt, out);
        ArgumentChecks.checkSameShape(tt, out);
        int k = ArgumentChecks.blockFactor(d, tt);
        launchElements(t("broadcast_multiply", d), out.size(), d.rows(), d.cols(), k, d, tt, out);
    }

    @Override
    public void elementwiseBackwardTangent(Tensor d1, Tensor d2, Tensor g, Tensor zDot, Tensor gDot, Tensor out) {
        int k = ArgumentChecks.backwardTangentBlock(d1, d2, g, zDot, gDot, out);
        launchElements(t("backward_tangent", d1), out.size(), d1.rows(), d1.cols(), k, d1, d2, g, zDot, gDot, out);
    }

    @Override
    public void addToRows(Tensor v, Tensor c) {
        ArgumentChecks.checkDType(v, c);
        if (v.size() != c.cols()) {
            throw new IllegalArgumentException("row vector " + v + " does not match " + c);
        }
        launchElements(t("add_to_rows", c), c.size(), c.rows(), c.cols(), v, c);
    }

    @Override
    public void columnSums(double alpha, Tensor g, double beta, Tensor out) {
        ArgumentChecks.checkDType(g, out);
        if (out.size() != g.cols()) {
            throw new IllegalArgumentException("column sums of " + g + " into " + out);
        }
        if (g.cols() == 0) return;
        enter();
        CUfunction f = functions.get(t("column_sums", g));
        cuLaunchKernel(f, (g.cols() + 31) / 32, 1, 1, 32, 16, 1, 0, stream,
                params(g.rows(), g.cols(), alpha, g, beta, out), null);
    }

    @Override
    public void softmaxRows(Tensor f, Tensor p) {
        ArgumentChecks.checkDType(f, p);
        ArgumentChecks.checkSameShape(f, p);
        launchWarps(t("softmax_rows", f), f.rows(), f.rows(), f.cols(), f, p);
    }

    @Override
    public double crossEntropySum(Tensor f, Tensor y) {
        ArgumentChecks.checkDType(f, y);
        ArgumentChecks.checkSameShape(f, y);
        if (rowLoss == null || rowLoss.size() < f.rows()) {
            rowLoss = allocate(own, DType.F64, Math.max(f.rows(), 1), 1);
        }
        Tensor loss = rowLoss.view(0, f.rows(), 1);
        launchWarps(t("cross_entropy_rows", f), f.rows(), f.rows(), f.cols(), f, y, loss);
        return reduce("sum_partial_f64", "reduce_sum_final", loss.size(), loss);
    }

    @Override
    public void softmaxTangent(double alpha, Tensor p, Tensor fDot, Tensor out) {
        ArgumentChecks.checkDType(p, fDot, out);
        ArgumentChecks.checkSameShape(fDot, out);
        int k = ArgumentChecks.blockFactor(p, fDot);
        launchWarps(t("softmax_tangent", p), (long) p.rows() * k, p.rows(), p.cols(), k, alpha, p, fDot, out);
    }

    @Override
    public void swapLeadingAxes(Tensor src, int d0, int d1, int d2, double beta, Tensor dst) {
        ArgumentChecks.checkDType(src, dst);
        if (src.size() != (long) d0 * d1 * d2 || dst.size() != src.size()) {
            throw new IllegalArgumentException("swapLeadingAxes(" + d0 + "," + d1 + "," + d2 + ") of " + src + " into " + dst);
        }
        launchElements(t("swap_leading_axes", src), src.size(), d0, d1, d2, beta, src, dst);
    }

    // ------------------------------------------------------------------------------------------- BLAS-1

    /** Two-stage deterministic reduction; stage 1 gets {@code (n, args..., partial)}. Returns the double result. */
    private double reduce(String stage1, String stage2, long n, Object... args) {
        if (n == 0) return 0;
        Object[] all = new Object[args.length + 2];
        all[0] = n;
        System.arraycopy(args, 0, all, 1, args.length);
        all[all.length - 1] = partial;
        launch(stage1, CudaKernels.REDUCE_BLOCKS, 1, CudaKernels.REDUCE_THREADS, all);
        launch(stage2, 1, 1, CudaKernels.REDUCE_THREADS, CudaKernels.REDUCE_BLOCKS, partial, scalar);
        deviceToHost(ptr(scalar), scalarHost);
        return scalarHost.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    @Override
    public double dot(Tensor x, Tensor y) {
        ArgumentChecks.checkDType(x, y);
        ArgumentChecks.checkSameSize(x, y);
        return reduce(t("dot_partial", x), "reduce_sum_final", x.size(), x, y);
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        axpby(alpha, x, 1, y);
    }

    @Override
    public void axpby(double alpha, Tensor x, double beta, Tensor y) {
        ArgumentChecks.checkDType(x, y);
        ArgumentChecks.checkSameSize(x, y);
        launchElements(t("axpby", x), x.size(), x.size(), alpha, x, beta, y);
    }

    @Override
    public void scal(double alpha, Tensor x) {
        launchElements(t("scal", x), x.size(), x.size(), alpha, x);
    }

    @Override
    public double nrm2(Tensor x) {
        double scale = reduce(t("maxabs_partial", x), "reduce_max_final", x.size(), x);
        if (scale == 0 || !Double.isFinite(scale)) return scale;
        double s = reduce(t("sumsq_scaled_partial", x), "reduce_sum_final", x.size(), x, scale);
        return scale * Math.sqrt(s);
    }

    @Override
    public double sum(Tensor x) {
        return reduce(t("sum_partial", x), "reduce_sum_final", x.size(), x);
    }

    /** Releases the backend's scratch memory, module, stream and primary context reference. */
    @Override
    public synchronized void close() {
        if (closed) return;
        enter();
        cuStreamSynchronize(stream);
        own.close();
        closed = true;
        cuModuleUnload(module);
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(device);
    }
}
