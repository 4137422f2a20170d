package io.hvp4j.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The CLI is a thin front end: it reaches the engine through its public layers (the {@code api} session, objectives,
 * spectral tools, backends by their {@code Backend} interface, I/O, perf) and never through the machinery behind
 * them, so that whatever a command can do, a library user can do with the same calls.
 */
class CliArchitectureTest {
    /** Packages whose every class is an engine internal. */
    static final Set<String> INTERNAL_PACKAGES = Set.of(
            "io.hvp4j.graph.ops", // the op rules; graphs come from GraphBuilder, Models or ONNX
            "io.hvp4j.onnx.proto"); // the ONNX wire format (protoc's classes); models come from OnnxModel

    /** Internal classes in otherwise public packages (a nested class counts as its outer class). */
    static final Set<String> INTERNAL_CLASSES = Set.of(
            // The CPU kernels behind VectorBackend: GEMM, worker pool, vector math, transposes.
            "io.hvp4j.backend.vector.VectorGemm", "io.hvp4j.backend.vector.WorkerPool",
            "io.hvp4j.backend.vector.SpinBarrier", "io.hvp4j.backend.vector.VectorMath",
            "io.hvp4j.backend.vector.VectorErf", "io.hvp4j.backend.vector.Transposes",
            "io.hvp4j.backend.ArgumentChecks",
            // The autodiff engines behind the objectives (MlpObjective, GraphObjective).
            "io.hvp4j.autodiff.BatchEngine",
            "io.hvp4j.model.ForwardOverReverse", "io.hvp4j.model.Dense", "io.hvp4j.model.Elementwise",
            "io.hvp4j.graph.GraphEngine", "io.hvp4j.graph.OpContext", "io.hvp4j.graph.Op");

    static boolean internal(JavaClass c) {
        JavaClass outer = c;
        while (outer.getEnclosingClass().isPresent()) {
            outer = outer.getEnclosingClass().get();
        }
        return INTERNAL_PACKAGES.contains(c.getPackageName()) || INTERNAL_CLASSES.contains(outer.getName());
    }

    @Test
    void theCliDoesNotDependOnEngineInternals() {
        JavaClasses cli = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.hvp4j.cli");
        noClasses().that().resideInAPackage("io.hvp4j.cli..")
                .should().dependOnClassesThat(DescribedPredicate.describe("are engine internals",
                        CliArchitectureTest::internal))
                .because("the CLI parses options, calls the library and formats the result")
                .check(cli);
    }

    @Test
    void everyNamedInternalExists() throws ClassNotFoundException {
        // A renamed class must not silently drop out of the rule.
        for (String name : INTERNAL_CLASSES) {
            Class.forName(name, false, getClass().getClassLoader());
        }
    }
}
