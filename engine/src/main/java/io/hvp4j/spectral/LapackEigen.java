package io.hvp4j.spectral;

import io.hvp4j.InvalidInputException;
import io.hvp4j.memory.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * LAPACK {@code dsyevd} (symmetric eigenvalues by divide and conquer) called through the FFM API.
 *
 * <p>The library is looked up once per JVM: the system property {@value #LIBRARY_PROPERTY} or else the
 * environment variable {@value #LIBRARY_ENV} names it (a file path or a name for the dynamic loader); an override
 * that cannot be loaded or lacks {@code dsyevd_} makes the native solver unavailable with that reason (it is not
 * silently replaced by another library). Without an override, a list of usual names is tried in order:
 * {@code libopenblas.so.0}, {@code liblapack.so.3}, {@code libopenblas.so}, {@code liblapack.so}, MKL's
 * {@code libmkl_rt}, a few well-known absolute paths, macOS Accelerate and Windows names. The Fortran interface
 * with 32-bit integers (LP64) is assumed, as Debian's {@code libopenblas0-*} and {@code liblapack3} ship it; the
 * hidden Fortran string lengths are passed (harmless where unused).
 *
 * <p>The matrix is handed over as it is: a row-major symmetric matrix is its own column-major transpose.
 * Eigenvalues only ({@code jobz = 'N'}) needs O(n) workspace; with eigenvectors LAPACK needs
 * {@code 1 + 6n + 2n²} doubles, which exceeds 32-bit LAPACK's index range above n ≈ 32,000.
 */
final class LapackEigen implements SymmetricEigen {
    static final String LIBRARY_PROPERTY = "hvp4j.lapack.lib";
    static final String LIBRARY_ENV = "HVP4J_LAPACK_LIB";

    private static final List<String> CANDIDATES = List.of(
            "libopenblas.so.0", "liblapack.so.3", "libopenblas.so", "liblapack.so", "libmkl_rt.so.2",
            "libmkl_rt.so",
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/liblapack.so.3",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/liblapack.so.3",
            "/usr/lib64/libopenblas.so.0", "/usr/lib64/liblapack.so.3",
            "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib",
            "/System/Library/Frameworks/Accelerate.framework/Accelerate",
            "libopenblas.dll", "openblas.dll", "liblapack.dll");

    private static final FunctionDescriptor DSYEVD = FunctionDescriptor.ofVoid(
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);

    /** The result of the one-time lookup: a handle and its library, or the reason there is none. */
    private record Loaded(MethodHandle dsyevd, String library, String reason) {
    }

    private static final class Holder {
        static final Loaded LOADED = load();
    }

    private final MethodHandle dsyevd;
    private final String library;

    private LapackEigen(MethodHandle dsyevd, String library) {
        this.dsyevd = dsyevd;
        this.library = library;
    }

    private static volatile LapackEigen instance;

    static boolean available() {
        return Holder.LOADED.dsyevd() != null;
    }

    static String unavailableReason() {
        return Holder.LOADED.reason();
    }

    static LapackEigen instance() {
        Loaded l = Holder.LOADED;
        if (l.dsyevd() == null) {
            throw new InvalidInputException("native LAPACK is not available: " + l.reason());
        }
        LapackEigen e = instance;
        if (e == null) {
            e = new LapackEigen(l.dsyevd(), l.library());
            instance = e;
        }
        return e;
    }

    private static Loaded load() {
        String override = System.getProperty(LIBRARY_PROPERTY);
        String source = "-D" + LIBRARY_PROPERTY;
        if (override == null || override.isBlank()) {
            override = System.getenv(LIBRARY_ENV);
            source = LIBRARY_ENV;
        }
        return load(override, source);
    }

    /** Whether {@code library} can serve as the native solver: null if so, else why not (for tests, tools). */
    static String probe(String library) {
        Loaded l = load(library, "library");
        return l.dsyevd() == null ? l.reason() : null;
    }

    private static Loaded load(String override, String source) {
        boolean overridden = override != null && !override.isBlank();
        List<String> names = overridden ? List.of(override.trim()) : CANDIDATES;
        List<String> failures = new ArrayList<>();
        Linker linker = Linker.nativeLinker();
        for (String name : names) {
            SymbolLookup lookup;
            try {
                lookup = SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException e) {
                failures.add(name + " (not loadable)");
                continue;
            }
            Optional<MemorySegment> sym = lookup.find("dsyevd_");
            if (sym.isEmpty()) {
                failures.add(name + " (no dsyevd_)");
                continue;
            }
            try {
                return new Loaded(linker.downcallHandle(sym.get(), DSYEVD), name, null);
            } catch (IllegalCallerException | UnsupportedOperationException e) {
                // native access disabled (--enable-native-access) or no linker on this platform
                return new Loaded(null, null, "cannot call native code: " + e.getMessage());
            }
        }
        String reason = overridden
                ? source + "=" + override + " cannot be used: " + String.join(", ", failures)
                : "no LAPACK library found (tried " + String.join(", ", failures) + "); install liblapack3 or"
                        + " libopenblas0, or set " + LIBRARY_ENV;
        return new Loaded(null, null, reason);
    }

    @Override
    public String name() {
        return "lapack dsyevd (" + library + ")";
    }

    @Override
    public double[] decomposeInPlace(Tensor a, boolean vectors) {
        int n = SymmetricEigen.requireSquareFinite(a);
        if (n == 0) {
            return new double[0];
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = a.segment();
            boolean copied = !m.isNative();
            if (copied) {
                m = arena.allocate(a.size() * 8, 64);
                MemorySegment.copy(a.segment(), 0, m, 0, m.byteSize());
            }
            MemorySegment jobz = arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) (vectors ? 'V' : 'N'));
            MemorySegment uplo = arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 'L');
            MemorySegment pn = arena.allocateFrom(ValueLayout.JAVA_INT, n);
            MemorySegment lda = arena.allocateFrom(ValueLayout.JAVA_INT, n);
            MemorySegment w = arena.allocate(ValueLayout.JAVA_DOUBLE, n);
            MemorySegment lwork = arena.allocateFrom(ValueLayout.JAVA_INT, -1);
            MemorySegment liwork = arena.allocateFrom(ValueLayout.JAVA_INT, -1);
            MemorySegment info = arena.allocateFrom(ValueLayout.JAVA_INT, 0);
            MemorySegment workQuery = arena.allocate(ValueLayout.JAVA_DOUBLE, 1);
            MemorySegment iworkQuery = arena.allocate(ValueLayout.JAVA_INT, 1);
            call(jobz, uplo, pn, m, lda, w, workQuery, lwork, iworkQuery, liwork, info);
            check(info.get(ValueLayout.JAVA_INT, 0), "workspace query");
            double lw = workQuery.get(ValueLayout.JAVA_DOUBLE, 0);
            int liw = iworkQuery.get(ValueLayout.JAVA_INT, 0);
            // The query rounds to double; ask for a little more to be safe against rounding down.
            double lwSafe = Math.ceil(lw * (1 + 1e-15)) + 1;
            if (lwSafe > Integer.MAX_VALUE - 8 || liw < 0) {
                throw new InvalidInputException(String.format(Locale.ROOT,
                        "LAPACK dsyevd needs a workspace of %.0f elements for n = %d%s, beyond 32-bit LAPACK's"
                                + " range; ask for eigenvalues only or use a smaller operator", lw, n,
                        vectors ? " with eigenvectors" : ""));
            }
            int lwi = (int) lwSafe;
            int liwi = Math.max(liw, 1);
            MemorySegment work = arena.allocate(ValueLayout.JAVA_DOUBLE, lwi);
            MemorySegment iwork = arena.allocate(ValueLayout.JAVA_INT, liwi);
            lwork.set(ValueLayout.JAVA_INT, 0, lwi);
            liwork.set(ValueLayout.JAVA_INT, 0, liwi);
            call(jobz, uplo, pn, m, lda, w, work, lwork, iwork, liwork, info);
            check(info.get(ValueLayout.JAVA_INT, 0), "eigendecomposition");
            double[] values = w.toArray(ValueLayout.JAVA_DOUBLE);
            if (copied) {
                MemorySegment.copy(m, 0, a.segment(), 0, m.byteSize());
            }
            if (vectors) {
                // Column-major Z (column j contiguous) seen row-major is Zᵀ: transpose to put vector j in column j.
                EjmlEigen.transposeInPlace(a.segment(), n);
            }
            return values;
        }
    }

    private void call(MemorySegment jobz, MemorySegment uplo, MemorySegment n, MemorySegment a, MemorySegment lda,
                      MemorySegment w, MemorySegment work, MemorySegment lwork, MemorySegment iwork,
                      MemorySegment liwork, MemorySegment info) {
        try {
            dsyevd.invokeExact(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, 1L, 1L);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("dsyevd_ call failed", t);
        }
    }

    private static void check(int info, String what) {
        if (info < 0) {
            throw new IllegalStateException("LAPACK dsyevd " + what + ": argument " + (-info) + " is invalid");
        }
        if (info > 0) {
            throw new ArithmeticException("LAPACK dsyevd " + what + " did not converge (info = " + info + ")");
        }
    }
}
