package io.hvp4j.cuda;

import io.hvp4j.InvalidInputException;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import java.util.Locale;

/**
 * Chooses a backend by name: {@code cpu} (= {@code vector}, the JDK Vector API on worker threads),
 * {@code scalar} (the reference), {@code cuda} (device 0; {@link CudaUnavailableException} when not usable),
 * or {@code auto} (CUDA when a device is usable, else {@code cpu}).
 */
public final class Backends {
    /** The accepted names, for messages and help. */
    public static final String NAMES = "cpu, cuda, auto, vector or scalar";

    private Backends() {
    }

    /** Validates and normalizes a name ({@code vector} becomes {@code cpu}); throws InvalidInputException. */
    public static String parse(String name) {
        String b = name.trim().toLowerCase(Locale.ROOT);
        return switch (b) {
            case "cpu", "vector" -> "cpu";
            case "scalar", "cuda", "auto" -> b;
            default -> throw new InvalidInputException("unknown backend '" + name + "' (expected " + NAMES + ")");
        };
    }

    /** Creates the backend {@code name} (see {@link #parse}) with {@code threads} CPU worker threads. */
    public static Backend create(String name, int threads) {
        return switch (parse(name)) {
            case "scalar" -> new ScalarBackend();
            case "cuda" -> CudaBackend.create(0);
            case "auto" -> CudaProbe.probe().usable() ? createCudaOr(threads) : new VectorBackend(threads);
            default -> new VectorBackend(threads);
        };
    }

    /** CUDA if it opens, else the vector backend (auto: a device that fails to open is as good as none). */
    private static Backend createCudaOr(int threads) {
        try {
            return CudaBackend.create(0);
        } catch (CudaUnavailableException e) {
            return new VectorBackend(threads);
        }
    }
}
