package io.hvp4j.autodiff;

import io.hvp4j.backend.Backend;
import io.hvp4j.backend.ScalarBackend;
import io.hvp4j.backend.vector.VectorBackend;
import java.util.List;

/** The backends every derivative test runs on. */
final class Backends {
    private Backends() {
    }

    static List<String> names() {
        return List.of("scalar", "vector");
    }

    static Backend create(String name) {
        return switch (name) {
            case "scalar" -> new ScalarBackend();
            case "vector" -> new VectorBackend(2);
            case "vector1" -> new VectorBackend(1);
            default -> throw new IllegalArgumentException(name);
        };
    }
}
