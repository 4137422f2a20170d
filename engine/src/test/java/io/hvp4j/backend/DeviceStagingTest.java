package io.hvp4j.backend;

import io.hvp4j.random.Rng;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hvp4j.autodiff.Activation;
import io.hvp4j.autodiff.Curvature;
import io.hvp4j.autodiff.Loss;
import io.hvp4j.backend.vector.VectorBackend;
import io.hvp4j.data.Dataset;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.model.Initializer;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.MlpObjective;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The autodiff code on a device backend (simulated by {@link HostBackedDeviceBackend}): every product equals
 * the same computation on the host backend bit for bit, with host arguments staged in and out, one or more
 * batches, blocks and layer blocks. A host access to a device tensor anywhere in the code would throw.
 */
class DeviceStagingTest {
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DType dt : DType.values()) {
            for (Loss loss : Loss.values()) {
                out.add(Arguments.of(dt, loss, loss == Loss.CE ? Activation.TANH : Activation.RELU));
            }
        }
        out.add(Arguments.of(DType.F64, Loss.COSH, Activation.GELU));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void productsOnADeviceBackendEqualTheHostOnes(DType dt, Loss loss, Activation act) {
        Mlp mlp = new Mlp(new int[] {5, 7, 6, 3}, act, true);
        try (Arena arena = Arena.ofShared(); Backend host = new VectorBackend(2);
             Backend device = new HostBackedDeviceBackend(new VectorBackend(2))) {
            Dataset data = Dataset.gaussian(arena, dt, 20, 5, 3, loss, 1);
            // f64 parameters into an f32 objective: the upload converts.
            Tensor theta = Tensor.of(arena, DType.F64, mlp.parameterCount(), 1, Initializer.GLOROT_NORMAL.initialize(mlp, 2));
            for (int batch : new int[] {20, 8}) {
                try (MlpObjective a = objective(mlp, loss, data, host, dt, batch, theta);
                     MlpObjective b = objective(mlp, loss, data, device, dt, batch, theta)) {
                    assertFalse(b.parameters().isHost());
                    Tensor ga = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
                    Tensor gb = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
                    assertEquals(a.forwardLoss(), b.forwardLoss());
                    assertEquals(a.gradient(ga), b.gradient(gb));
                    assertArrayEquals(ga.toDoubleArray(), gb.toDoubleArray());
                    Tensor ga32 = Tensor.allocate(arena, dt, mlp.parameterCount(), 1);
                    Tensor gb32 = Tensor.allocate(arena, dt, mlp.parameterCount(), 1);
                    assertEquals(a.gradient(ga32), b.gradient(gb32));
                    assertArrayEquals(ga32.toDoubleArray(), gb32.toDoubleArray());
                    for (Curvature c : Curvature.values()) {
                        for (int k : new int[] {1, 3}) {
                            Tensor v = gaussian(arena, dt, mlp.parameterCount(), k, 3 + k);
                            assertArrayEquals(apply(a, c, -1, v, arena), apply(b, c, -1, v, arena), c + " k=" + k);
                        }
                        Tensor v1 = gaussian(arena, DType.F64, mlp.layerParameterCount(1), 2, 9);
                        assertArrayEquals(apply(a, c, 1, v1, arena), apply(b, c, 1, v1, arena), c + " layer 1");
                    }
                }
            }
        }
    }

    @Test
    void hostAccessToDeviceTensorsIsRefused() {
        try (Arena arena = Arena.ofConfined(); Backend device = new HostBackedDeviceBackend(new ScalarBackend())) {
            Tensor d = device.allocate(arena, DType.F64, 3, 4);
            assertFalse(d.isHost());
            assertFalse(d.rowSlice(1, 2).isHost());
            assertFalse(d.reshape(4, 3).view(2, 2, 5).isHost());
            assertThrows(IllegalStateException.class, () -> d.get(0));
            assertThrows(IllegalStateException.class, () -> d.set(0, 1));
            assertThrows(IllegalStateException.class, d::segment);
            assertThrows(IllegalStateException.class, d::zero);
            Tensor h = Tensor.allocate(arena, DType.F64, 3, 4);
            assertThrows(IllegalStateException.class, () -> h.copyFrom(d));
            assertThrows(IllegalStateException.class, h::device);
            assertThrows(IndexOutOfBoundsException.class, () -> d.view(10, 1, 3));
            assertEquals("Tensor[f64 2x4 on fake-device]", d.rowSlice(1, 2).toString());
            h.set(5, 2.5);
            device.upload(h, d);
            Tensor back = Tensor.allocate(arena, DType.F32, 3, 4);
            device.download(d, back);
            assertEquals(2.5, back.get(5));
            assertThrows(IllegalArgumentException.class, () -> device.sum(h));
        }
    }

    private static MlpObjective objective(Mlp mlp, Loss loss, Dataset data, Backend be, DType dt, int batch, Tensor theta) {
        MlpObjective o = new MlpObjective(mlp, loss, Loss.Reduction.MEAN, data, be, dt, batch, 3);
        o.setParameters(theta);
        return o;
    }

    private static double[] apply(MlpObjective o, Curvature c, int layer, Tensor v, Arena arena) {
        Tensor out = Tensor.allocate(arena, v.dtype(), v.rows(), v.cols());
        o.apply(c, layer, v, out);
        return out.toDoubleArray();
    }

    private static Tensor gaussian(Arena arena, DType dt, int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Tensor t = Tensor.allocate(arena, dt, rows, cols);
        for (long i = 0; i < t.size(); i++) t.set(i, Rng.gaussian(rng));
        return t;
    }
}
