package io.hvp4j;

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
import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * Run in a JVM started with {@code -XX:NativeMemoryTracking=summary} by {@link NativeMemoryLeakTest}: after a
 * warm-up, prints the NMT "Other" committed bytes (where FFM/Unsafe allocations are counted), runs
 * {@code args[0]} Hessian-vector products (in two batches, so that every product allocates and frees its
 * temporary arena, and a new objective every 100 products), and prints the count again.
 */
public final class LeakProbe {
    private static final Pattern OTHER = Pattern.compile("Other \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

    private LeakProbe() {
    }

    /** The JVM's native memory tracking summary (needs {@code -XX:NativeMemoryTracking=summary}). */
    public static String nmtSummary() throws Exception {
        return ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()}).toString();
    }

    static long otherCommittedKb() throws Exception {
        String r = nmtSummary();
        Matcher m = OTHER.matcher(r);
        if (!m.find()) {
            throw new IllegalStateException("no NMT 'Other' line (is -XX:NativeMemoryTracking=summary set?): " + r);
        }
        return Long.parseLong(m.group(2));
    }

    public static void main(String[] args) throws Exception {
        int products = Integer.parseInt(args[0]);
        Mlp mlp = new Mlp(new int[] {8, 16, 4}, Activation.TANH, true);
        try (Arena arena = Arena.ofShared(); VectorBackend be = new VectorBackend(1)) {
            Dataset data = Dataset.gaussian(arena, DType.F64, 32, 8, 4, Loss.CE, 1);
            Tensor theta = Tensor.of(arena, DType.F64, mlp.parameterCount(), 1,
                    Initializer.GLOROT_NORMAL.initialize(mlp, 2));
            Tensor v = Tensor.of(arena, DType.F64, mlp.parameterCount(), 1,
                    Initializer.GLOROT_NORMAL.initialize(mlp, 3));
            Tensor hv = Tensor.allocate(arena, DType.F64, mlp.parameterCount(), 1);
            run(mlp, data, be, theta, v, hv, 1000); // warm-up: JIT, worker threads, lazily created state
            long before = otherCommittedKb();
            run(mlp, data, be, theta, v, hv, products);
            long after = otherCommittedKb();
            System.out.println("other_committed_kb " + before + " " + after);
        }
    }

    private static void run(Mlp mlp, Dataset data, VectorBackend be, Tensor theta, Tensor v, Tensor hv, int n) {
        Curvature[] kinds = Curvature.values();
        for (int done = 0; done < n; done += 100) {
            try (MlpObjective f = new MlpObjective(mlp, Loss.CE, Loss.Reduction.MEAN, data, be, DType.F64, 16, 1)) {
                f.setParameters(theta);
                for (int i = 0; i < 100 && done + i < n; i++) {
                    f.apply(kinds[i % kinds.length], -1, v, hv);
                }
            }
        }
    }
}
