package io.hvp4j.cli;

import io.hvp4j.InvalidInputException;
import io.hvp4j.data.Dataset;
import io.hvp4j.graph.GraphWeights;
import io.hvp4j.io.ModelWeights;
import io.hvp4j.io.TrainingCheckpoint;
import io.hvp4j.memory.DType;
import io.hvp4j.memory.Tensor;
import io.hvp4j.objective.GraphObjective;
import io.hvp4j.objective.MlpObjective;
import io.hvp4j.objective.Objective;
import io.hvp4j.objective.ParameterGroup;
import io.hvp4j.plot.Chart;
import io.hvp4j.spectral.SpectralDensity;
import io.hvp4j.train.CurvatureTracker;
import io.hvp4j.train.Network;
import io.hvp4j.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "Train the MLP or --model network by SGD (optionally with the Hessian-trace regularizer), tracking"
                + " curvature per epoch.",
        sortOptions = false,
        description = {
            "Mini-batch SGD (PyTorch semantics: buf = μ·buf + g, θ ← θ − lr·buf) on the mean loss of each batch;"
                    + " --batch >= N is full-batch gradient descent. Epoch e shuffles with a stream derived from"
                    + " (--seed, e) only: same arguments and --threads give the same bits.",
            "--htr GAMMA adds γ·(1/m)Σ_j v_jᵀH_B v_j (Rademacher v_j on the parameters of --htr-layers) to the"
                    + " batch loss on steps step % --htr-every == 0 of epochs >= --htr-start; its gradient D³L[v,v,·]"
                    + " is exact (third-order forward-over-reverse pass). With --model the layers are the modules"
                    + " (conv1, conv2, fc1, ... for lenet5), by 0-based index or name.",
            "Writes into --out: weights-epoch-NNNN.safetensors after every epoch (PyTorch state_dict: for --arch"
                    + " nn.Sequential's 0.weight, 0.bias, 2.weight, ...; for --model its module names), metrics.csv (one row per epoch, epoch 0 = the"
                    + " initial point), loss.png and, with --track, lambda_max.png / trace.png, and with"
                    + " spectrum spectrum-epoch-NNNN.csv and spectrum.png (.svg with --plot-format svg).",
            "--track: lambda_max (Lanczos), trace (Hutchinson, --track-probes; 0 = exact), layerwise (the same per"
                    + " Linear layer's or module's weight block), spectrum (SLQ density) of the loss Hessian on the first"
                    + " --track-samples training samples.",
            "--checkpoint DIR: after every epoch the state is saved atomically to DIR/checkpoint.bin; a rerun with"
                    + " the same arguments resumes after the last saved epoch and gives the same bits as an"
                    + " uninterrupted run (--epochs may be raised). A checkpoint of other arguments is refused."})
final class TrainCommand implements Callable<Integer> {
    static final String CHECKPOINT_FILE = "checkpoint.bin";

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--optimizer", defaultValue = "sgd", paramLabel = "NAME",
            description = "sgd (with optional --momentum). Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", required = true, paramLabel = "LR", description = "Learning rate.")
    double lr;

    @Option(names = "--batch", paramLabel = "B", description = "Samples per step. Default: the whole data set (GD).")
    Integer batch;

    @Option(names = "--epochs", required = true, paramLabel = "E", description = "Epochs to train (in total).")
    int epochs;

    @Option(names = "--momentum", defaultValue = "0", paramLabel = "MU",
            description = "Heavy-ball momentum in [0, 1). Default: ${DEFAULT-VALUE}.")
    double momentum;

    @Option(names = "--bias-std", defaultValue = "0", paramLabel = "S",
            description = "Without --weights: draw initial biases from N(0, S²) (docs/theory.md §B.3 uses 0.1)."
                    + " Default: ${DEFAULT-VALUE}.")
    double biasStd;

    @Option(names = "--htr", paramLabel = "GAMMA", description = "Hessian-trace regularizer weight γ.")
    Double htr;

    @Option(names = "--htr-layers", paramLabel = "I,J,...", split = ",",
            description = "Linear layers (0-based), or with --model modules (index or name), whose parameters carry"
                    + " the HTR probes. Default: all.")
    List<String> htrLayers;

    @Option(names = "--htr-probes", defaultValue = "10", paramLabel = "M",
            description = "Rademacher probes per penalized step. Default: ${DEFAULT-VALUE}.")
    int htrProbes;

    @Option(names = "--htr-every", defaultValue = "1", paramLabel = "K",
            description = "Penalize every K-th step of an epoch (the official code uses 50). Default: ${DEFAULT-VALUE}.")
    int htrEvery;

    @Option(names = "--htr-start", defaultValue = "0", paramLabel = "E",
            description = "First penalized epoch, 0-based (the official code uses 15). Default: ${DEFAULT-VALUE}.")
    int htrStart;

    @Option(names = "--track", paramLabel = "LIST",
            description = "Comma-separated: lambda_max, trace, layerwise, spectrum.")
    String track;

    @Option(names = "--track-probes", defaultValue = "10", paramLabel = "M",
            description = "Hutchinson probes for tracked traces; 0 = exact. Default: ${DEFAULT-VALUE}.")
    int trackProbes;

    @Option(names = "--track-samples", paramLabel = "N",
            description = "Track on the first N training samples. Default: all.")
    Integer trackSamples;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "Checkpoint folder (resume from it).")
    Path checkpoint;

    @Option(names = "--out", defaultValue = "train-out", paramLabel = "DIR",
            description = "Output folder (created). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--plot-format", defaultValue = "png", paramLabel = "png|svg",
            description = "Format of the plots written into --out (svg: vector, for papers). Default: ${DEFAULT-VALUE}.")
    String plotFormat;

    /** The plots' second title line: model, data and optimizer. */
    private String plotSubtitle = "";

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        if (!optimizer.equalsIgnoreCase("sgd")) {
            throw new InvalidInputException("unknown --optimizer '" + optimizer + "' (only sgd is implemented)");
        }
        if (epochs < 1) {
            throw new InvalidInputException("--epochs must be positive, got " + epochs);
        }
        if (!(biasStd >= 0) || Double.isInfinite(biasStd)) {
            throw new InvalidInputException("--bias-std must be finite and non-negative, got " + biasStd);
        }
        if (biasStd > 0 && model.weights != null) {
            throw new InvalidInputException("--bias-std and --weights exclude each other");
        }
        EnumSet<CurvatureTracker.Quantity> tracked =
                track == null ? EnumSet.noneOf(CurvatureTracker.Quantity.class) : CurvatureTracker.Quantity.parseList(track);
        if (tracked.contains(CurvatureTracker.Quantity.LAYERWISE) && !tracked.contains(CurvatureTracker.Quantity.TRACE)
                && !tracked.contains(CurvatureTracker.Quantity.LAMBDA_MAX)) {
            throw new InvalidInputException("--track layerwise needs lambda_max and/or trace");
        }
        if (trackProbes < 0) {
            throw new InvalidInputException("--track-probes must be >= 0, got " + trackProbes);
        }
        if (htr == null && (htrLayers != null)) {
            throw new InvalidInputException("--htr-layers needs --htr GAMMA");
        }
        String ext = Plots.extension(plotFormat, "--plot-format");
        boolean createdOut = !Files.exists(out), createdCheckpoint = checkpoint != null && !Files.exists(checkpoint);
        boolean done = false;
        try {
            prepareFolder(out, "--out");
            if (checkpoint != null) {
                prepareFolder(checkpoint, "--checkpoint");
            }
            int code = train(stdout, ext, tracked);
            done = true;
            return code;
        } finally {
            if (!done) {
                // A run that failed before writing anything leaves no empty folder of its own behind.
                if (createdOut) {
                    removeIfEmpty(out);
                }
                if (createdCheckpoint) {
                    removeIfEmpty(checkpoint);
                }
            }
        }
    }

    private static void removeIfEmpty(Path dir) {
        try {
            Files.delete(dir); // fails (and is ignored) unless the folder is empty
        } catch (IOException ignored) {
            // not empty, or gone: leave it
        }
    }

    private int train(PrintWriter stdout, String ext, EnumSet<CurvatureTracker.Quantity> tracked) throws IOException {
        try (Problem p = Problem.load(model)) {
            if (biasStd > 0 && p.graph != null) {
                throw new InvalidInputException("--bias-std works with --arch only");
            }
            Trainer.Htr h = htr == null ? null : new Trainer.Htr(htr, htrLayerIndices(p), htrProbes, htrEvery,
                    htrStart);
            int b = batch == null ? p.data.size() : batch;
            if (b < 1) {
                throw new InvalidInputException("--batch must be positive, got " + b);
            }
            Trainer.Options options = new Trainer.Options(lr, momentum, b, model.seed, h);
            plotSubtitle = Plots.model(p, model) + String.format(Locale.ROOT, "; SGD lr %s, batch %d%s", lr, b,
                    htr == null ? "" : ", HTR γ " + htr);
            double[] theta0 = p.theta.toDoubleArray();
            if (biasStd > 0) {
                theta0 = model.initializer().initialize(p.mlp, model.seed, biasStd);
            }
            Dataset trackData = p.data;
            if (trackSamples != null) {
                if (trackSamples < 1 || trackSamples > p.data.size()) {
                    throw new InvalidInputException("--track-samples must be in [1, " + p.data.size() + "], got "
                            + trackSamples);
                }
                trackData = p.data.head(trackSamples, p.arena, "tracked samples");
            }
            String fingerprint = fingerprint(p, options);
            List<String> rows = new ArrayList<>();
            int layers = p.groups().size();
            String header = header(layers, tracked);
            Network network = p.graph != null ? Network.of(p.graph, model.modelName) : Network.of(p.mlp);
            Path ckFile = checkpoint == null ? null : checkpoint.resolve(CHECKPOINT_FILE);
            try (Trainer t = new Trainer(network, p.loss, p.data, p.backend(), p.dtype, theta0, options)) {
                if (ckFile != null && Files.exists(ckFile)) {
                    TrainingCheckpoint.State st = TrainingCheckpoint.read(ckFile);
                    if (!st.fingerprint().equals(fingerprint)) {
                        throw new InvalidInputException("checkpoint " + ckFile + " was written by a run with other"
                                + " arguments (" + difference(st.fingerprint(), fingerprint) + "); use another"
                                + " --checkpoint folder or delete it");
                    }
                    if (st.epochsDone() > epochs) {
                        throw new InvalidInputException("checkpoint " + ckFile + " already holds " + st.epochsDone()
                                + " epochs, more than --epochs " + epochs + "; ask for at least " + st.epochsDone()
                                + " or use another --checkpoint folder");
                    }
                    t.restore(st.parameters(), st.momentum(), st.epochsDone());
                    rows.addAll(st.log().isEmpty() ? List.of() : List.of(st.log().split("\n")));
                    stdout.printf(Locale.ROOT, "train: resuming after epoch %d from %s%n", st.epochsDone(), ckFile);
                }
                if (rows.isEmpty()) {
                    rows.add(row(0, Double.NaN, Double.NaN, measure(p, trackData, t, tracked, 0)));
                }
                // One bar over the steps of all epochs run here (a resumed run counts from where it resumed).
                io.hvp4j.Progress bar = ProgressBar.forTerminal(spec.commandLine().getErr(), "train", "steps");
                int first = t.epochsDone();
                long stepsPerEpoch = t.stepsPerEpoch();
                long totalSteps = Math.max(0, epochs - first) * stepsPerEpoch;
                while (t.epochsDone() < epochs) {
                    long offset = (t.epochsDone() - first) * stepsPerEpoch;
                    Trainer.EpochStats s = t.epoch((done, total) -> bar.update(offset + done, totalSteps));
                    int e = t.epochsDone();
                    rows.add(row(e, s.loss(), s.penalty(), measure(p, trackData, t, tracked, e)));
                    Tensor th = Tensor.of(p.arena, p.dtype, p.parameterCount(), 1, t.parameters());
                    Path file = out.resolve(String.format(Locale.ROOT, "weights-epoch-%04d.safetensors", e));
                    if (p.graph != null) {
                        GraphWeights.save(file, p.graph, th);
                    } else {
                        ModelWeights.save(file, p.mlp, th);
                    }
                    writeOutputs(header, rows, tracked, ext);
                    if (ckFile != null) {
                        TrainingCheckpoint.write(ckFile, new TrainingCheckpoint.State(fingerprint, e, t.parameters(),
                                t.momentumBuffer(), String.join("\n", rows)));
                    }
                    ProgressBar.clear(bar); // the epoch line goes on a clean line; the next step redraws the bar
                    stdout.printf(Locale.ROOT, "epoch %d: loss %.6g%s%n", e, s.loss(),
                            Double.isNaN(s.penalty()) ? "" : String.format(Locale.ROOT, ", htr penalty %.6g", s.penalty()));
                    stdout.flush();
                }
                writeOutputs(header, rows, tracked, ext);
            }
            stdout.printf(Locale.ROOT, "train: %d epochs of %s, P=%d, outputs in %s%n", epochs,
                    network.description(), p.parameterCount(), out);
            stdout.flush();
            return 0;
        }
    }

    /** {@code --htr-layers} as group indices: integers, or (with --model) module names. */
    private int[] htrLayerIndices(Problem p) {
        if (htrLayers == null) {
            return new int[0];
        }
        List<ParameterGroup> groups = p.groups();
        int[] idx = new int[htrLayers.size()];
        for (int i = 0; i < idx.length; i++) {
            String s = htrLayers.get(i).trim();
            try {
                idx[i] = Integer.parseInt(s);
                continue;
            } catch (NumberFormatException e) {
                // a module name
            }
            idx[i] = -1;
            for (int g = 0; g < groups.size() && p.graph != null; g++) {
                if (groups.get(g).name().equals(s)) {
                    idx[i] = g;
                }
            }
            if (idx[i] < 0) {
                throw new InvalidInputException("--htr-layers: '" + s + "' is neither a 0-based index nor "
                        + (p.graph == null ? "valid for --arch (Linear layers by index)" : "a module of " + model.modelName
                        + " (" + String.join(", ", groups.stream().map(ParameterGroup::name).toList()) + ")"));
            }
        }
        return idx;
    }

    private double[] lastSpectrumGrid;
    private double[] lastSpectrumDensity;

    /** Tracked values at the trainer's current parameters, in the order of {@link #header}. */
    private double[] measure(Problem p, Dataset data, Trainer t, EnumSet<CurvatureTracker.Quantity> what, int epoch)
            throws IOException {
        if (what.isEmpty()) {
            return new double[0];
        }
        io.hvp4j.autodiff.Loss.Reduction mean = io.hvp4j.autodiff.Loss.Reduction.MEAN;
        try (Objective f = p.graph != null
                ? new GraphObjective(p.graph, p.loss, mean, data, p.backend(), p.dtype, p.batchRows, 16)
                : new MlpObjective(p.mlp, p.loss, mean, data, p.backend(), p.dtype, p.batchRows, 16)) {
            f.setParameters(Tensor.of(p.arena, p.dtype, p.parameterCount(), 1, t.parameters()));
            CurvatureTracker.Measurement m = CurvatureTracker.measure(f, what, trackProbes, model.seed + 7919L * epoch);
            List<Double> v = new ArrayList<>();
            boolean layerwise = what.contains(CurvatureTracker.Quantity.LAYERWISE);
            if (what.contains(CurvatureTracker.Quantity.LAMBDA_MAX)) v.add(m.lambdaMax());
            if (what.contains(CurvatureTracker.Quantity.TRACE)) v.add(m.trace());
            if (layerwise && m.layerLambdaMax() != null) for (double x : m.layerLambdaMax()) v.add(x);
            if (layerwise && m.layerTrace() != null) for (double x : m.layerTrace()) v.add(x);
            SpectralDensity.Result s = m.spectrum();
            if (s != null) {
                StringBuilder sb = new StringBuilder("eigenvalue,density\n");
                for (int i = 0; i < s.grid().length; i++) {
                    sb.append(num(s.grid()[i])).append(',').append(num(s.density()[i])).append('\n');
                }
                Files.writeString(out.resolve(String.format(Locale.ROOT, "spectrum-epoch-%04d.csv", epoch)), sb);
                lastSpectrumGrid = s.grid();
                lastSpectrumDensity = s.density();
            }
            return v.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    static String header(int layers, EnumSet<CurvatureTracker.Quantity> what) {
        StringBuilder sb = new StringBuilder("epoch,batch_loss,htr_penalty");
        if (what.contains(CurvatureTracker.Quantity.LAMBDA_MAX)) sb.append(",lambda_max");
        if (what.contains(CurvatureTracker.Quantity.TRACE)) sb.append(",trace");
        if (what.contains(CurvatureTracker.Quantity.LAYERWISE)) {
            if (what.contains(CurvatureTracker.Quantity.LAMBDA_MAX)) {
                for (int l = 0; l < layers; l++) sb.append(",lambda_max_layer").append(l);
            }
            if (what.contains(CurvatureTracker.Quantity.TRACE)) {
                for (int l = 0; l < layers; l++) sb.append(",trace_layer").append(l);
            }
        }
        return sb.toString();
    }

    private String row(int epoch, double loss, double penalty, double[] v) {
        StringBuilder sb = new StringBuilder().append(epoch).append(',').append(num(loss)).append(',').append(num(penalty));
        for (double x : v) sb.append(',').append(num(x));
        return sb.toString();
    }

    static String num(double x) {
        return Double.isNaN(x) ? "" : Double.toString(x);
    }

    private void writeOutputs(String header, List<String> rows, EnumSet<CurvatureTracker.Quantity> what, String ext)
            throws IOException {
        Files.writeString(out.resolve("metrics.csv"), header + "\n" + String.join("\n", rows) + "\n");
        String[] cols = header.split(",");
        int n = rows.size();
        double[][] table = new double[cols.length][n];
        for (int r = 0; r < n; r++) {
            String[] f = rows.get(r).split(",", -1);
            for (int c = 0; c < cols.length; c++) {
                table[c][r] = c < f.length && !f[c].isEmpty() ? Double.parseDouble(f[c]) : Double.NaN;
            }
        }
        double[] epochsCol = table[0];
        if (n > 1) {
            Plots.save(Chart.of("Training loss per epoch", "epoch", "loss (mean over the epoch's batches)")
                    .subtitle(plotSubtitle)
                    .add("batch loss", java.util.Arrays.copyOfRange(epochsCol, 1, n),
                            java.util.Arrays.copyOfRange(table[1], 1, n), Chart.Style.LINE_POINTS),
                    out.resolve("loss." + ext));
        }
        for (String q : new String[] {"lambda_max", "trace"}) {
            String yLabel = q.equals("trace") ? "trace of the loss Hessian, tr H" : "largest eigenvalue of the loss"
                    + " Hessian, λ_max(H)";
            Chart chart = Chart.of((q.equals("trace") ? "Trace" : "Largest eigenvalue λ_max") + " of the loss Hessian"
                    + " H per epoch (" + (q.equals("trace") ? trackProbes == 0 ? "exact" : "Hutchinson, " + trackProbes + " probes" : "Lanczos") + ")", "epoch", yLabel)
                    .subtitle(plotSubtitle);
            boolean any = false;
            for (int c = 0; c < cols.length; c++) {
                if (cols[c].equals(q) || cols[c].startsWith(q + "_layer")) {
                    chart.add(cols[c].equals(q) ? "full" : "layer " + cols[c].substring((q + "_layer").length()),
                            epochsCol, table[c], Chart.Style.LINE_POINTS);
                    any = true;
                }
            }
            if (any) {
                Plots.save(chart, out.resolve(q + "." + ext));
            }
        }
        if (lastSpectrumGrid != null) {
            Plots.save(Chart.of("Spectral density of the loss Hessian H at the last epoch (SLQ)", "eigenvalue λ",
                            "density (per unit λ, integral 1)")
                    .subtitle(plotSubtitle).logY()
                    .add("density", lastSpectrumGrid, lastSpectrumDensity, Chart.Style.LINE),
                    out.resolve("spectrum." + ext));
        }
    }

    /** Every argument that determines the trajectory and the tracked columns (not --epochs, not --out). */
    private String fingerprint(Problem p, Trainer.Options o) {
        StringBuilder sb = new StringBuilder();
        if (p.graph != null) {
            sb.append("model=").append(model.modelName);
            if (Files.isRegularFile(Path.of(model.modelName))) {
                sb.append(";model-file=").append(sha256(Path.of(model.modelName))); // an ONNX file holds the weights
            }
        } else {
            sb.append("arch=").append(p.mlp.architecture()).append(";act=").append(p.mlp.activation().id())
                    .append(";bias=").append(p.mlp.hasBias());
        }
        sb.append(";loss=").append(p.loss.id())
                .append(";dtype=").append(p.dtype).append(";backend=").append(p.backendName)
                .append(";threads=").append(p.threads).append(";seed=").append(model.seed);
        if (model.weights != null) {
            sb.append(";weights=").append(sha256(model.weights));
        } else {
            sb.append(";init=").append(model.initializer().id()).append(";bias-std=").append(biasStd);
        }
        if (model.inputs != null) {
            sb.append(";inputs=").append(sha256(model.inputs)).append(";targets=").append(sha256(model.targets));
        } else {
            sb.append(";data=").append(model.data == null ? "gaussian:256" : model.data.trim());
        }
        sb.append(";optimizer=sgd;lr=").append(o.learningRate()).append(";momentum=").append(o.momentum())
                .append(";batch=").append(o.batchSize()).append(";htr=").append(o.htr())
                .append(";track=").append(track == null ? "" : track.trim()).append(";track-probes=").append(trackProbes)
                .append(";track-samples=").append(trackSamples);
        return sb.toString();
    }

    /** The first differing ';'-separated entries of two fingerprints, for the refusal message. */
    static String difference(String saved, String now) {
        String[] a = saved.split(";"), b = now.split(";");
        List<String> diffs = new ArrayList<>();
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            String x = i < a.length ? a[i] : "", y = i < b.length ? b[i] : "";
            if (!x.equals(y)) diffs.add("saved " + x + ", now " + y);
        }
        return diffs.isEmpty() ? "unknown difference" : String.join("; ", diffs.subList(0, Math.min(3, diffs.size())));
    }

    private static String sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new InvalidInputException("cannot read " + file + ": " + e.getMessage());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void prepareFolder(Path dir, String option) {
        if (dir.toString().isBlank()) {
            throw new InvalidInputException(option + ": the folder name is empty (use . for this folder)");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new InvalidInputException(option + " " + dir + ": is not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new InvalidInputException(option + " " + dir + ": cannot create the folder (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(dir)) {
            throw new InvalidInputException(option + " " + dir + ": is not writable");
        }
    }
}
