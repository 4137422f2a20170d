package io.hvp4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.Backend;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.io.ModelWeights;
import io.hvp4j.io.SafeTensors;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.spectral.DenseAssembly;
import io.hvp4j.spectral.NumericalRank;
import io.hvp4j.spectral.Operators;
import io.hvp4j.spectral.RankReport;
import io.hvp4j.spectral.SymmetricEigen;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java example of the README ("Library use"), compiled and run here so that it stays true: the lines
 * between the markers must appear verbatim (up to indentation) in README.md.
 */
class LibraryExampleTest {
    @TempDir
    Path dir;

    static void example(Path weights) {
        // README:begin
        Mlp mlp = new Mlp(new int[] {10, 16, 3}, Activation.TANH, true); // Linear(10,16), Tanh(), Linear(16,3)
        try (Arena arena = Arena.ofShared(); Backend be = new VectorBackend(2)) {
            Tensor theta = ModelWeights.load(weights, mlp, DType.F64, arena); // .safetensors, .npz or flat .npy
            Dataset data = Dataset.gaussian(arena, DType.F64, 100, 10, 3, Loss.CE, 1); // or Csv / Npy readers
            int p = mlp.parameterCount(); // 227, in state_dict order
            try (MlpObjective f = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, data, be, DType.F64,
                    100, 16)) { // batches of 100 rows, blocks of up to 16 vectors
                f.setParameters(theta);
                Tensor g = Tensor.allocate(arena, DType.F64, p, 1);
                double loss = f.gradient(g);
                Tensor hg = Tensor.allocate(arena, DType.F64, p, 1); // P × k: k vectors as columns
                f.apply(Curvature.HESSIAN, -1, g, hg); // or GAUSS_NEWTON, FUNCTIONAL; a layer index for a block
                Tensor h = DenseAssembly.assemble(Operators.curvature(f, Curvature.HESSIAN, -1), arena).matrix();
                double gHg = 0, gHgDense = 0;
                for (int i = 0; i < p; i++) {
                    gHg += g.get(i) * hg.get(i);
                    for (int j = 0; j < p; j++) gHgDense += g.get(i) * h.get(i, j) * g.get(j);
                }
                double[] eigenvalues = SymmetricEigen.select(null).decomposeInPlace(h, false); // ascending
                RankReport rank = NumericalRank.ofEigenvalues(eigenvalues, DType.F64,
                        NumericalRank.Tolerance.DEFAULT); // numpy matrix_rank's σ_max·P·ε
                System.out.printf("loss=%.6f gHg=%.12e dense=%.12e rank=%d of %d%n", loss, gHg, gHgDense,
                        rank.rank(), p);
            }
        }
        // README:end
    }

    @Test
    void readmeExampleRunsAndIsInTheReadme() throws IOException {
        Mlp mlp = new Mlp(new int[] {10, 16, 3}, Activation.TANH, true);
        Path weights = dir.resolve("model.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            double[] theta = Initializer.GLOROT_NORMAL.initialize(mlp, 4);
            Map<String, Tensor> sd = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (int l = 0; l < mlp.layers(); l++) {
                int in = mlp.width(l), out = mlp.width(l + 1);
                double[] w = new double[in * out], b = new double[out];
                System.arraycopy(theta, mlp.weightOffset(l), w, 0, w.length);
                System.arraycopy(theta, mlp.biasOffset(l), b, 0, out);
                sd.put(2 * l + ".weight", Tensor.of(arena, DType.F32, out, in, w));
                sd.put(2 * l + ".bias", Tensor.of(arena, DType.F32, out, 1, b));
                shapes.put(2 * l + ".bias", new long[] {out});
            }
            SafeTensors.write(weights, sd, shapes);
        }
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            example(weights);
        } finally {
            System.setOut(saved);
        }
        String line = buf.toString(StandardCharsets.UTF_8).trim();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "loss=(\\S+) gHg=(\\S+) dense=(\\S+) rank=(\\d+) of 227").matcher(line);
        assertTrue(m.matches(), line);
        double gHg = Double.parseDouble(m.group(2)), dense = Double.parseDouble(m.group(3));
        assertEquals(gHg, dense, 1e-10 * Math.abs(gHg), "the product and the dense matrix agree");
        int rank = Integer.parseInt(m.group(4));
        assertTrue(rank > 0 && rank < 227, line); // a CE Hessian with 3 classes is rank deficient

        // The snippet is in the README, verbatim up to indentation.
        List<String> src = Files.readAllLines(Path.of("src/test/java/io/hvp4j/cli/LibraryExampleTest.java"));
        int b = src.indexOf("        // README:begin"), e = src.indexOf("        // README:end");
        String readme = Files.readString(Path.of("..", "README.md"));
        StringBuilder snippet = new StringBuilder();
        for (String s : src.subList(b + 1, e)) {
            snippet.append(s.length() >= 8 ? s.substring(8) : s.strip()).append('\n');
        }
        assertTrue(readme.contains(snippet), "README.md lacks the library example:\n" + snippet);
    }
}
