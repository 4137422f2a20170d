package io.hvp4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hvp4j.InvalidInputException;
import io.hvp4j.autodiff.Activation;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelWeightsTest {
    @TempDir
    Path dir;

    /** Linear(2,3), act, Linear(3,1): P = 6 + 3 + 3 + 1 = 13, values 1..13 in state_dict order. */
    static final Mlp MLP = new Mlp(new int[] {2, 3, 1}, Activation.TANH, true);

    private static double[] range(int from, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = from + i;
        return v;
    }

    private String error(Path p, Mlp mlp) {
        try (Arena arena = Arena.ofConfined()) {
            return assertThrows(InvalidInputException.class, () -> ModelWeights.load(p, mlp, DType.F64, arena))
                    .getMessage();
        }
    }

    @Test
    void positionalAndNamedNpzAndFlatNpyAgree() {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, NpyArray> named = new LinkedHashMap<>(), positional = new LinkedHashMap<>();
            named.put("2.bias", NpyArray.ofDoubles(arena, range(13, 1), 1)); // order in the file does not matter
            named.put("0.weight", NpyArray.ofDoubles(arena, range(1, 6), 3, 2));
            named.put("0.bias", NpyArray.ofDoubles(arena, range(7, 3), 3));
            named.put("2.weight", NpyArray.ofDoubles(arena, range(10, 3), 1, 3));
            positional.put("arr_0", named.get("0.weight"));
            positional.put("arr_1", named.get("0.bias"));
            positional.put("arr_2", named.get("2.weight"));
            positional.put("arr_3", named.get("2.bias"));
            Path a = dir.resolve("a.npz"), b = dir.resolve("b.npz"), c = dir.resolve("c.npy");
            Npz.write(a, named, false);
            Npz.write(b, positional, true);
            Npy.write(c, range(1, 13), new long[] {13}, DType.F64);
            for (Path p : List.of(a, b, c)) {
                assertArrayEquals(range(1, 13), ModelWeights.load(p, MLP, DType.F64, arena).toDoubleArray(), p.toString());
            }
            assertTrue(error(b, new Mlp(new int[] {2, 3, 1}, Activation.TANH, false)).contains("needs 2 (W0, W1, ...)"));
            Map<String, NpyArray> gap = new LinkedHashMap<>(positional);
            gap.remove("arr_1");
            gap.put("arr_7", positional.get("arr_1"));
            Path d = dir.resolve("d.npz");
            Npz.write(d, gap, false);
            assertTrue(error(d, MLP).contains("'arr_1' is missing"), error(d, MLP));
            Map<String, NpyArray> wrong = new LinkedHashMap<>(named);
            wrong.put("0.weight", NpyArray.ofDoubles(arena, range(1, 6), 2, 3)); // (in, out): transposed
            Npz.write(d, wrong, false);
            assertTrue(error(d, MLP).contains("needs [3, 2] (out, in)"), error(d, MLP));
            wrong.put("0.weight", NpyArray.ofDoubles(arena, new double[] {1, 2, 3, 4, 5, Double.NaN}, 3, 2));
            Npz.write(d, wrong, false);
            assertTrue(error(d, MLP).contains("NaN"), error(d, MLP));
            Npy.write(c, range(1, 12), new long[] {12}, DType.F64);
            assertTrue(error(c, MLP).contains("must have shape (13,)"), error(c, MLP));
            assertTrue(error(dir.resolve("w.pt"), MLP).contains("unknown weight file type"));
        }
    }
}
