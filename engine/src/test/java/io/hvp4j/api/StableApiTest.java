package io.hvp4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The stable API: {@link Session} and its builder, whose public signatures are recorded in
 * {@code src/test/resources/io/hvp4j/api/stable-api.txt} and may mention only Java's own types and the engine
 * types named in {@link #STABLE_TYPES}. A change to a signature fails here until the file is updated on purpose;
 * a signature that lets another engine type leak into the stable API fails until that type is named stable.
 */
class StableApiTest {
    static final Path RECORD = Path.of("src/test/resources/io/hvp4j/api/stable-api.txt");

    /** Engine types the stable API may expose (their own public members are the lower layer, for power users). */
    static final Set<String> STABLE_TYPES = Set.of(
            "io.hvp4j.api.Session", "io.hvp4j.api.Session$Builder",
            "io.hvp4j.InvalidInputException",
            "io.hvp4j.autodiff.Curvature", "io.hvp4j.autodiff.Loss", "io.hvp4j.autodiff.Loss$Reduction",
            "io.hvp4j.memory.DType",
            "io.hvp4j.graph.Graph", "io.hvp4j.model.Mlp", "io.hvp4j.data.Dataset", "io.hvp4j.backend.Backend",
            "io.hvp4j.objective.Objective", "io.hvp4j.objective.ParameterGroup",
            "io.hvp4j.spectral.SymmetricOperator", "io.hvp4j.spectral.CurvatureRank$Result",
            "io.hvp4j.spectral.CurvatureRank$Options", "io.hvp4j.spectral.SpectralDensity$Result",
            "io.hvp4j.spectral.TraceEstimators$Estimate");

    static List<String> signatures() {
        List<String> out = new ArrayList<>();
        for (Class<?> c : List.of(Session.class, Session.Builder.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && !m.isSynthetic()) {
                    out.add(c.getName() + " " + (Modifier.isStatic(m.getModifiers()) ? "static " : "")
                            + m.getGenericReturnType().getTypeName() + " " + m.getName() + params(m));
                }
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (Modifier.isPublic(k.getModifiers())) {
                    out.add(c.getName() + " <init>" + params(k));
                }
            }
        }
        return out.stream().sorted().toList();
    }

    private static String params(Executable e) {
        return "(" + String.join(", ", Arrays.stream(e.getGenericParameterTypes()).map(Type::getTypeName).toList())
                + ")";
    }

    @Test
    void signaturesAreTheRecordedOnes() throws IOException {
        List<String> recorded = Files.readAllLines(RECORD, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertEquals(String.join("\n", recorded), String.join("\n", signatures()),
                "the stable API changed; if on purpose, update " + RECORD);
    }

    @Test
    void signaturesMentionOnlyStableTypes() {
        Set<String> leaks = new TreeSet<>();
        for (Class<?> c : List.of(Session.class, Session.Builder.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers())) {
                    collect(m.getGenericReturnType(), leaks);
                    Arrays.stream(m.getGenericParameterTypes()).forEach(t -> collect(t, leaks));
                }
            }
        }
        assertTrue(leaks.isEmpty(), "types outside the stable API in Session's signatures: " + leaks);
    }

    private static void collect(Type t, Set<String> leaks) {
        if (t instanceof Class<?> c) {
            Class<?> base = c.isArray() ? c.componentType() : c;
            if (!base.isPrimitive() && !base.getName().startsWith("java.") && !STABLE_TYPES.contains(base.getName())) {
                leaks.add(base.getName());
            }
        } else if (t instanceof ParameterizedType p) {
            collect(p.getRawType(), leaks);
            Arrays.stream(p.getActualTypeArguments()).forEach(a -> collect(a, leaks));
        } else if (t instanceof WildcardType w) {
            Arrays.stream(w.getUpperBounds()).forEach(a -> collect(a, leaks));
        }
    }
}
