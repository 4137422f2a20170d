package io.hvp4j.cli;

import io.hvp4j.io.Json;
import io.hvp4j.io.ModelWeights;
import io.hvp4j.memory.DType;
import io.hvp4j.model.Mlp;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.spectral.DenseAssembly;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "One-screen summary of a model: layers, parameter counts, memory of each kind of job.",
        sortOptions = false,
        description = {
            "Layers (Linear i has state_dict names 2i.weight and 2i.bias in nn.Sequential(Linear, act, ...)), their"
                    + " shapes (out, in), parameter counts and offsets in the flat vector; the memory of a gradient,"
                    + " an HVP, a block HVP of " + HvpCommand.MAX_BLOCK + " vectors (at --dtype, with the working"
                    + " memory of batches of --batch-size rows), the dense P×P Hessian (float64) and the largest"
                    + " layer block, and whether the dense Hessian fits this machine's memory budget (90% of"
                    + " physical memory; the limit the other commands refuse at, exit code 3). Also the GEMM flop"
                    + " counts per pass over the data (F = 2N·Σ in·out; a gradient costs 3F − F1, an HVP 9F − 5F1).",
            "Files given with --weights and --inputs are read and checked; nothing is computed.",
            "JSON (--json): {\"architecture\", \"activation\", \"bias\", \"loss\", \"reduction\", \"dtype\", \"samples\","
                    + " \"batch_rows\", \"layers\": [{\"index\", \"names\", \"shape\", \"params\", \"offset\"}],"
                    + " \"params\", \"memory_bytes\": {\"parameters\", \"gradient\", \"hvp\", \"block_hvp\","
                    + " \"dense_hessian\", \"largest_layer_block\"}, \"block_vectors\", \"dense_hessian_fits\","
                    + " \"memory_budget_bytes\", \"total_memory_bytes\", \"flops\": {\"forward\", \"gradient\", \"hvp\"}}.",
            "With --model: one line per parameter (module, state_dict name, shape, count, offset in the flat order of"
                    + " .npy vectors); JSON {\"model\", \"loss\", \"reduction\", \"dtype\", \"samples\", \"batch_rows\","
                    + " \"modules\": [{\"index\", \"name\", \"names\", \"shapes\", \"offsets\", \"params\", \"offset\"}],"
                    + " \"params\", \"memory_bytes\", \"dense_hessian_fits\", \"memory_budget_bytes\","
                    + " \"total_memory_bytes\"}."})
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--json", description = "Print one JSON object instead of the summary.")
    boolean json;

    /** Everything the summary shows. */
    record Summary(Mlp mlp, String loss, String reduction, DType dtype, int samples, int batchRows,
                   Map<String, Long> memory, boolean denseFits, long budget, long total, long forwardFlops,
                   long firstLayerFlops) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (model.modelName != null) {
            out.print(graphSummary());
            out.flush();
            return Main.OK;
        }
        Summary s = summary();
        out.print(json ? json(s) + "\n" : table(s));
        out.flush();
        return Main.OK;
    }

    Summary summary() {
        int samples;
        int rows;
        Mlp mlp;
        DType dtype;
        String loss;
        String reduction;
        if (model.inputs != null) {
            model.force = true; // a summary is never refused
            try (Problem p = Problem.load(model)) {
                mlp = p.mlp;
                dtype = p.dtype;
                samples = p.data.size();
                rows = p.batchRows;
                loss = p.loss.id();
                reduction = p.reduction.name().toLowerCase(Locale.ROOT);
            }
        } else {
            Main.requireVectorModule();
            mlp = new Mlp(model.widths(), model.activation(), model.bias);
            dtype = model.dataType();
            loss = model.lossFunction().id();
            reduction = model.reductionMode().name().toLowerCase(Locale.ROOT);
            model.initializer();
            samples = ModelOptions.generatedSize(model.data == null ? "gaussian:256" : model.data, mlp.outputs());
            rows = model.batchRows(samples);
            if (model.weights != null) {
                Problem.requireFile(model.weights, "--weights");
                try (Arena arena = Arena.ofConfined()) {
                    ModelWeights.load(model.weights, mlp, dtype, arena); // checked, then dropped
                }
            }
        }
        long p = mlp.parameterCount();
        long b = dtype.bytes();
        int k = HvpCommand.MAX_BLOCK;
        Map<String, Long> memory = new LinkedHashMap<>();
        memory.put("parameters", p * b);
        memory.put("gradient", 2 * p * b + MlpObjective.estimateWorkingBytes(mlp, dtype, rows, 1));
        memory.put("hvp", 3 * p * b + MlpObjective.estimateWorkingBytes(mlp, dtype, rows, 1));
        memory.put("block_hvp", (1 + 2L * k) * p * b + MlpObjective.estimateWorkingBytes(mlp, dtype, rows, k));
        memory.put("dense_hessian", p * p * 8);
        long largest = 0;
        for (int l = 0; l < mlp.layers(); l++) {
            largest = Math.max(largest, mlp.layerParameterCount(l));
        }
        memory.put("largest_layer_block", largest * largest * 8);
        long budget = Problem.memoryBudget();
        boolean fits = p <= DenseAssembly.MAX_DIMENSION && (budget <= 0 || p * p * 8 + memory.get("block_hvp") <= budget);
        long f = 0;
        long f1 = 0;
        for (int l = 0; l < mlp.layers(); l++) {
            long term = 2L * samples * mlp.width(l) * mlp.width(l + 1);
            f += term;
            if (l == 0) {
                f1 = term;
            }
        }
        return new Summary(mlp, loss, reduction, dtype, samples, rows, memory, fits, budget, Problem.totalMemory(),
                f, f1);
    }

    /**
     * {@code --model}: the graph's modules (parameter groups) with their parameters' names and shapes, counts and
     * offsets, and the dense memory; files given are read and checked.
     */
    String graphSummary() {
        model.force = true; // a summary is never refused
        try (Problem p = Problem.load(model)) {
            List<ParameterGroup> modules = GraphObjective.modules(p.graph);
            long n = p.parameterCount();
            long largest = modules.stream().mapToLong(ParameterGroup::size).max().orElse(0);
            Map<String, Long> memory = new LinkedHashMap<>();
            memory.put("parameters", n * p.dtype.bytes());
            memory.put("dense_hessian", n * n * 8);
            memory.put("largest_module_block", largest * largest * 8);
            long budget = Problem.memoryBudget();
            boolean fits = n <= DenseAssembly.MAX_DIMENSION && (budget <= 0 || n * n * 8 <= budget);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int m = 0; m < modules.size(); m++) {
                ParameterGroup g = modules.get(m);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("index", m);
                row.put("name", g.name());
                List<String> names = new ArrayList<>();
                List<int[]> shapes = new ArrayList<>();
                List<Long> offsets = new ArrayList<>();
                for (int member : g.members()) {
                    names.add(p.graph.parameters().get(member).name());
                    shapes.add(p.graph.parameters().get(member).shape().dims());
                    offsets.add(p.graph.offset(member));
                }
                row.put("names", names);
                row.put("shapes", shapes);
                row.put("offsets", offsets);
                row.put("params", g.size());
                row.put("offset", p.graph.offset(g.members()[0]));
                rows.add(row);
            }
            if (json) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("model", model.modelName);
                j.put("loss", p.loss.id());
                j.put("reduction", p.reduction.name().toLowerCase(Locale.ROOT));
                j.put("dtype", p.dtype.toString());
                j.put("samples", p.data.size());
                j.put("batch_rows", p.batchRows);
                j.put("modules", rows);
                j.put("params", n);
                j.put("memory_bytes", memory);
                j.put("dense_hessian_fits", fits);
                j.put("memory_budget_bytes", budget);
                j.put("total_memory_bytes", Problem.totalMemory());
                return Json.write(j) + "\n";
            }
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "model: --model %s, loss %s (%s), dtype %s,"
                            + " %d samples in batches of %d%n", model.modelName, p.loss.id(),
                    p.reduction.name().toLowerCase(Locale.ROOT), p.dtype, p.data.size(), p.batchRows));
            // One line per parameter: the flat order of .npy vectors is these offsets.
            sb.append(String.format(Locale.ROOT, "%-6s %-20s %-32s %-18s %10s %10s%n", "module", "name", "parameter",
                    "shape", "params", "offset"));
            for (Map<String, Object> row : rows) {
                @SuppressWarnings("unchecked")
                List<String> names = (List<String>) row.get("names");
                @SuppressWarnings("unchecked")
                List<int[]> shapes = (List<int[]>) row.get("shapes");
                @SuppressWarnings("unchecked")
                List<Long> offsets = (List<Long>) row.get("offsets");
                for (int i = 0; i < names.size(); i++) {
                    int size = java.util.Arrays.stream(shapes.get(i)).reduce(1, Math::multiplyExact);
                    sb.append(String.format(Locale.ROOT, "%-6s %-20s %-32s %-18s %,10d %,10d%n",
                            i == 0 ? row.get("index").toString() : "", i == 0 ? row.get("name") : "", names.get(i),
                            java.util.Arrays.toString(shapes.get(i)), size, offsets.get(i)));
                }
            }
            sb.append(String.format(Locale.ROOT, "%-6s %-20s %-32s %-18s %,10d%n", "total", "", "", "", n));
            sb.append(String.format(Locale.ROOT, "memory (%s; dense matrices float64): parameters %s, dense Hessian"
                            + " P×P %s, largest module block %s%n", p.dtype, Problem.bytes(memory.get("parameters")),
                    Problem.bytes(memory.get("dense_hessian")), Problem.bytes(memory.get("largest_module_block"))));
            sb.append(String.format(Locale.ROOT, "dense Hessian: %s (budget %s = 90%% of %s physical memory%s)%n",
                    fits ? "fits" : "does NOT fit", Problem.bytes(budget), Problem.bytes(Problem.totalMemory()),
                    n > DenseAssembly.MAX_DIMENSION ? "; the dense path stops at P = " + DenseAssembly.MAX_DIMENSION
                            : ""));
            return sb.toString();
        }
    }

    static List<String> names(Mlp mlp, int l) {
        return mlp.hasBias() ? List.of(2 * l + ".weight", 2 * l + ".bias") : List.of(2 * l + ".weight");
    }

    static String table(Summary s) {
        Mlp mlp = s.mlp();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "model: --arch %s --act %s %s, loss %s (%s), dtype %s, %d samples in"
                        + " batches of %d%n", mlp.architecture(), mlp.activation().id(),
                mlp.hasBias() ? "--bias" : "--no-bias", s.loss(), s.reduction(), s.dtype(), s.samples(), s.batchRows()));
        sb.append(String.format(Locale.ROOT, "%-6s %-22s %-14s %14s %14s%n", "layer", "state_dict", "shape", "params",
                "offset"));
        for (int l = 0; l < mlp.layers(); l++) {
            sb.append(String.format(Locale.ROOT, "%-6d %-22s %-14s %,14d %,14d%n", l, String.join(", ", names(mlp, l)),
                    "(" + mlp.width(l + 1) + ", " + mlp.width(l) + ")", mlp.layerParameterCount(l),
                    mlp.layerOffset(l)));
        }
        sb.append(String.format(Locale.ROOT, "%-6s %-22s %-14s %,14d%n", "total", "", "", (long) mlp.parameterCount()));
        Map<String, Long> m = s.memory();
        sb.append(String.format(Locale.ROOT, "memory (%s; dense matrices float64):%n", s.dtype()));
        String[][] rows = {
            {"parameters", "parameters"}, {"gradient", "gradient"}, {"hvp", "HVP (1 vector)"},
            {"block_hvp", "block HVP (" + HvpCommand.MAX_BLOCK + " vectors)"},
            {"dense_hessian", "dense Hessian P×P"}, {"largest_layer_block", "largest layer block"}};
        for (String[] r : rows) {
            sb.append(String.format(Locale.ROOT, "  %-26s %12s%n", r[1], Problem.bytes(m.get(r[0]))));
        }
        sb.append(String.format(Locale.ROOT, "dense Hessian: %s (budget %s = 90%% of %s physical memory%s)%n",
                s.denseFits() ? "fits" : "does NOT fit", Problem.bytes(s.budget()), Problem.bytes(s.total()),
                mlp.parameterCount() > DenseAssembly.MAX_DIMENSION
                        ? "; the dense path stops at P = " + DenseAssembly.MAX_DIMENSION : ""));
        long f = s.forwardFlops(), f1 = s.firstLayerFlops();
        sb.append(String.format(Locale.ROOT, "GEMM flops per pass over the data: forward %.3g, gradient %.3g, HVP %.3g%n",
                (double) f, (double) (3 * f - f1), (double) (9 * f - 5 * f1)));
        return sb.toString();
    }

    static String json(Summary s) {
        Mlp mlp = s.mlp();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("architecture", mlp.architecture());
        j.put("activation", mlp.activation().id());
        j.put("bias", mlp.hasBias());
        j.put("loss", s.loss());
        j.put("reduction", s.reduction());
        j.put("dtype", s.dtype().toString());
        j.put("samples", s.samples());
        j.put("batch_rows", s.batchRows());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (int l = 0; l < mlp.layers(); l++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("index", l);
            row.put("names", names(mlp, l));
            row.put("shape", new int[] {mlp.width(l + 1), mlp.width(l)});
            row.put("params", mlp.layerParameterCount(l));
            row.put("offset", mlp.layerOffset(l));
            layers.add(row);
        }
        j.put("layers", layers);
        j.put("params", mlp.parameterCount());
        j.put("memory_bytes", s.memory());
        j.put("block_vectors", HvpCommand.MAX_BLOCK);
        j.put("dense_hessian_fits", s.denseFits());
        j.put("memory_budget_bytes", s.budget());
        j.put("total_memory_bytes", s.total());
        long f = s.forwardFlops(), f1 = s.firstLayerFlops();
        Map<String, Long> flops = new LinkedHashMap<>();
        flops.put("forward", f);
        flops.put("gradient", 3 * f - f1);
        flops.put("hvp", 9 * f - 5 * f1);
        j.put("flops", flops);
        return Json.write(j);
    }
}
