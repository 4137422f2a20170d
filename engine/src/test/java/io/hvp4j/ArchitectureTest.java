package io.hvp4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.hvp4j.graph.GraphBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's package structure: no package cycles, and every package sits in one layer and imports only
 * its own layer and the ones below. A new package must be added to {@link #LAYERS} (the test fails until it
 * is), so its place is decided once, here.
 */
class ArchitectureTest {
    /**
     * Bottom first. A package may import its own layer and any layer listed before it, never one after it.
     * Packages on one line are peers (they may import each other, but the cycle rule still forbids cycles).
     */
    static final List<List<String>> LAYERS = List.of(
            List.of("io.hvp4j"), // InvalidInputException, Progress: the vocabulary every layer shares
            List.of("io.hvp4j.random"), // Rng: the one source of random numbers
            List.of("io.hvp4j.memory"),
            List.of("io.hvp4j.backend"),
            List.of("io.hvp4j.backend.vector"),
            List.of("io.hvp4j.autodiff"), // activations, losses, curvature kinds: the rules both engines use
            List.of("io.hvp4j.model"), // the MLP and its forward-over-reverse engine
            List.of("io.hvp4j.data"),
            List.of("io.hvp4j.io"),
            List.of("io.hvp4j.graph", "io.hvp4j.graph.ops"), // the graph and its engine; the builder makes ops
            List.of("io.hvp4j.onnx", "io.hvp4j.onnx.proto"), // ONNX files into graphs (proto: protoc's classes)
            List.of("io.hvp4j.objective"),
            List.of("io.hvp4j.spectral"),
            List.of("io.hvp4j.perf", "io.hvp4j.train"),
            List.of("io.hvp4j.api")); // the facade of the common path (Session)

    private static JavaClasses engine;

    @BeforeAll
    static void importEngine() {
        engine = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.hvp4j");
    }

    @Test
    void everyPackageHasALayer() {
        String[] known = LAYERS.stream().flatMap(List::stream).toArray(String[]::new);
        classes().should().resideInAnyPackage(known)
                .because("each engine package needs a place in ArchitectureTest.LAYERS")
                .check(engine);
    }

    @Test
    void lowerLayersNeverImportHigherOnes() {
        for (int i = 0; i < LAYERS.size() - 1; i++) {
            List<String> higher = new ArrayList<>();
            for (List<String> layer : LAYERS.subList(i + 1, LAYERS.size())) {
                higher.addAll(layer);
            }
            noClasses().that().resideInAnyPackage(LAYERS.get(i).toArray(String[]::new))
                    .should().dependOnClassesThat().resideInAnyPackage(higher.toArray(String[]::new))
                    .because("layer " + LAYERS.get(i) + " sits below " + higher)
                    .check(engine);
        }
    }

    @Test
    void noPackageCycles() {
        // Every package is its own slice. The one exception: the graph builder constructs the ops, and the
        // ops implement the graph's Op interface; both packages form one layer.
        slices().matching("io.hvp4j.(**)").should().beFreeOfCycles()
                .ignoreDependency(DescribedPredicate.describe("GraphBuilder",
                        (JavaClass c) -> c.isEquivalentTo(GraphBuilder.class)
                                || c.getEnclosingClass().map(e -> e.isEquivalentTo(GraphBuilder.class)).orElse(false)),
                        DescribedPredicate.describe("a graph op",
                                (JavaClass c) -> c.getPackageName().equals("io.hvp4j.graph.ops")))
                .check(engine);
    }

    @Test
    void theRootPackageHoldsOnlyTheSharedVocabulary() {
        List<String> root = engine.stream()
                .filter(c -> c.getPackageName().equals("io.hvp4j") && c.getEnclosingClass().isEmpty())
                .map(JavaClass::getSimpleName).sorted().toList();
        org.junit.jupiter.api.Assertions.assertEquals(Arrays.asList("InvalidInputException", "Progress"), root,
                "the root package sits below every other package, so it can hold no engine class");
    }
}
