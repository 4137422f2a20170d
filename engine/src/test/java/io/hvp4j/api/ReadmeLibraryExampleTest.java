package io.hvp4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Curvature;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.SymmetricEigen;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's "Library use" class ({@code src/test/java/HessianExample.java}, held verbatim in the README's
 * {@code java} block) runs and prints what an independent computation gives: the dense conv1 block of H and its
 * largest eigenvalue (LAPACK or EJML), and H's first entry by central differences of the gradient. The checked
 * output is left in {@link #VERIFIED_OUTPUT} for the consumer-project check.
 */
class ReadmeLibraryExampleTest {
    /** Where the example's output goes once its numbers are checked. */
    static final Path VERIFIED_OUTPUT = Path.of("target", "readme-library-example.txt");

    @Test
    void readmeHoldsTheExampleVerbatim() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String example = Files.readString(Path.of("src/test/java/HessianExample.java"));
        assertTrue(readme.contains("```java\n" + example + "```"), "README's Library use class differs from "
                + "src/test/java/HessianExample.java");
        assertTrue(readme.contains("<artifactId>hvp4j-engine</artifactId>"), "README names the Maven coordinates");
    }

    @Test
    void exampleRunsAndPrintsTheRightNumbers() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            Class.forName("HessianExample").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("P=61706 loss=(\\S+) Hv\\[0]=(\\S+) top eigenvalue of H\\(conv1\\)=(\\S+)\\n")
                .matcher(out);
        assertTrue(m.matches(), out);
        try (Session s = Session.builder().model("lenet5").gaussianData(32).open(); Arena arena = Arena.ofConfined()) {
            ParameterGroup conv1 = s.group("conv1");
            double[] eig = SymmetricEigen.select(null).decomposeInPlace(
                    DenseAssembly.assemble(s.operator(Curvature.HESSIAN, conv1), arena).matrix(), false);
            double top = eig[eig.length - 1];
            // Printed with 7 significant digits; Lanczos converges to the dtype's tolerance, far below that.
            assertEquals(top, Double.parseDouble(m.group(3)), 1e-6 * Math.abs(top));
            // H_00 by central differences of the gradient (f64, step 1e-5: truncation ~1e-10, rounding ~1e-11).
            double[] theta = s.objective().parameters().toDoubleArray();
            double step = 1e-5;
            theta[0] += step;
            s.objective().setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
            double gPlus = s.gradient()[0];
            theta[0] -= 2 * step;
            s.objective().setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
            double gMinus = s.gradient()[0];
            theta[0] += step;
            s.objective().setParameters(Tensor.of(arena, DType.F64, theta.length, 1, theta));
            double h00 = (gPlus - gMinus) / (2 * step);
            assertEquals(h00, Double.parseDouble(m.group(2)), 1e-6 * Math.abs(h00) + 1e-9);
            assertEquals(s.loss(), Double.parseDouble(m.group(1)), 1e-6);
        }
        // The checked line, the reference of the consumer-project check (.ci/consumer-check.sh), which runs the same
        // class built against the installed artifacts.
        Files.writeString(VERIFIED_OUTPUT, out);
    }
}
