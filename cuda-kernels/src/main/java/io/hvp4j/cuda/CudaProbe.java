package io.hvp4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Checks, through the FFM API and before any JCuda class loads its JNI library, that the CUDA driver
 * ({@code libcuda.so.1}) exists, initializes, and sees at least one device. JCuda's native load throws
 * {@link UnsatisfiedLinkError} without the driver (and later calls {@link NoClassDefFoundError}); probing
 * first turns every such case into one message. Thread-safe; the result is computed once.
 */
public final class CudaProbe {
    /** The outcome: {@code usable} with the device count and driver version, or the reason it is not. */
    public record Result(boolean usable, String reason, int devices, int driverVersion) {
        /** Throws {@link CudaUnavailableException} unless usable. */
        public void require() {
            if (!usable) {
                throw new CudaUnavailableException(reason);
            }
        }
    }

    /**
     * The driver entry points that JCuda's native library calls for {@link CudaBackend} (names as JCuda 12.6 was
     * compiled against cuda.h). The JVM binds JNI libraries lazily, so a symbol missing from a newer driver would
     * end the process at the first call; checking them here turns that into a message.
     */
    static final java.util.List<String> DRIVER_SYMBOLS = java.util.List.of("cuInit", "cuDeviceGet", "cuDeviceGetName",
            "cuDeviceGetAttribute", "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent",
            "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize", "cuModuleLoadData", "cuModuleGetFunction",
            "cuModuleUnload", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemsetD8Async", "cuMemcpyHtoDAsync_v2",
            "cuMemcpyDtoHAsync_v2", "cuMemcpyDtoDAsync_v2", "cuLaunchKernel", "cuGetErrorName", "cuGetErrorString");

    private static volatile Result cached;

    private CudaProbe() {
    }

    /** The probe's result (cached after the first call). */
    public static Result probe() {
        Result r = cached;
        if (r == null) {
            synchronized (CudaProbe.class) {
                r = cached;
                if (r == null) {
                    r = run();
                    cached = r;
                }
            }
        }
        return r;
    }

    private static Result run() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return new Result(false, "JCuda's natives bundled here are for linux-x86_64 only (this is " + os + "/"
                    + arch + ")", 0, 0);
        }
        Arena arena = Arena.global(); // the driver stays loaded for the JVM's life (JCuda loads it again)
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup("libcuda.so.1", arena);
        } catch (IllegalArgumentException | UnsupportedOperationException | IllegalCallerException e) {
            return new Result(false, "no NVIDIA driver library libcuda.so.1 (" + oneLine(e.getMessage()) + ")", 0, 0);
        }
        for (String name : DRIVER_SYMBOLS) {
            if (lib.find(name).isEmpty()) {
                return new Result(false, "libcuda.so.1 lacks " + name + ", which JCuda 12.6 calls", 0, 0);
            }
        }
        try {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor intOfInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
            FunctionDescriptor intOfPtr = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS);
            MethodHandle cuInit = linker.downcallHandle(symbol(lib, "cuInit"), intOfInt);
            MethodHandle cuDriverGetVersion = linker.downcallHandle(symbol(lib, "cuDriverGetVersion"), intOfPtr);
            MethodHandle cuDeviceGetCount = linker.downcallHandle(symbol(lib, "cuDeviceGetCount"), intOfPtr);
            int status = (int) cuInit.invokeExact(0);
            if (status != 0) {
                return new Result(false, "cuInit failed with CUresult " + status + " (" + describe(status)
                        + ")", 0, 0);
            }
            try (Arena local = Arena.ofConfined()) {
                MemorySegment out = local.allocate(ValueLayout.JAVA_INT);
                status = (int) cuDriverGetVersion.invokeExact(out);
                int version = status == 0 ? out.get(ValueLayout.JAVA_INT, 0) : 0;
                status = (int) cuDeviceGetCount.invokeExact(out);
                if (status != 0) {
                    return new Result(false, "cuDeviceGetCount failed with CUresult " + status, 0, version);
                }
                int count = out.get(ValueLayout.JAVA_INT, 0);
                if (count < 1) {
                    return new Result(false, "the driver sees no CUDA device", 0, version);
                }
                // PTX ISA 9.0 (nvcc 13) needs a CUDA 13 driver.
                if (version < 13000) {
                    return new Result(false, "driver supports CUDA " + version / 1000 + "." + version % 1000 / 10
                            + " but the kernels are PTX ISA 9.0 (CUDA 13.0 or newer)", count, version);
                }
                return new Result(true, "", count, version);
            }
        } catch (Throwable t) {
            return new Result(false, "probing the driver failed: " + t.getClass().getSimpleName() + ": "
                    + oneLine(t.getMessage()), 0, 0);
        }
    }

    private static MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("libcuda.so.1 has no symbol " + name));
    }

    private static String describe(int status) {
        return switch (status) {
            case 100 -> "CUDA_ERROR_NO_DEVICE";
            case 35 -> "CUDA_ERROR_INSUFFICIENT_DRIVER";
            case 3 -> "CUDA_ERROR_NOT_INITIALIZED";
            case 999 -> "CUDA_ERROR_UNKNOWN";
            default -> "see cuda.h";
        };
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ').trim();
    }
}
