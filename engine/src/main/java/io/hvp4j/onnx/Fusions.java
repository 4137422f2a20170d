package io.hvp4j.onnx;

import io.hvp4j.onnx.proto.OnnxProto.AttributeProto;
import io.hvp4j.onnx.proto.OnnxProto.GraphProto;
import io.hvp4j.onnx.proto.OnnxProto.NodeProto;
import io.hvp4j.onnx.proto.OnnxProto.TensorProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites of node patterns into one op before the import. Opsets before 20 have no {@code Gelu}, so PyTorch
 * exports {@code nn.GELU()} as {@code x · (erf(x / √2) + 1) · 0.5} with √2 rounded to float32; evaluated as written
 * that differs from PyTorch's float64 GELU by about 1e-8 relative. The pattern becomes one exact {@code Gelu} node
 * (erf form), which is also one op instead of five; the same for the tanh form ({@code approximate='tanh'}), whose
 * √(2/π) and 0.044715 the exporter also rounds to float32.
 */
final class Fusions {
    private static final float SQRT2_F32 = (float) Math.sqrt(2);

    private Fusions() {
    }

    /**
     * The nodes of {@code g} with every {@code Div → Erf → Add 1 → Mul x → Mul 0.5} chain replaced by {@code Gelu},
     * and every tanh chain ({@link #tanhChains}) by {@code Gelu(approximate="tanh")}.
     */
    static List<NodeProto> gelu(GraphProto g) {
        return tanhChains(erfChains(g.getNodeList(), g), g);
    }

    private static List<NodeProto> erfChains(List<NodeProto> nodes, GraphProto g) {
        Index ix = new Index(nodes, g);
        boolean[] drop = new boolean[nodes.size()];
        Map<Integer, NodeProto> replace = new HashMap<>();
        for (int e = 0; e < nodes.size(); e++) {
            NodeProto erf = nodes.get(e);
            if (!unary(erf, "Erf")) {
                continue;
            }
            Integer d = ix.producer.get(erf.getInput(0));
            if (d == null || !is(nodes.get(d), "Div") || !soleUse(nodes.get(d), e, ix.consumers, ix.graphOut)) {
                continue;
            }
            NodeProto div = nodes.get(d);
            String x = div.getInput(0);
            Double c = scalar(div.getInput(1), ix.producer, nodes, ix.inits);
            if (c == null || (float) c.doubleValue() != SQRT2_F32) {
                continue;
            }
            Integer a = next(erf, e, ix.consumers, ix.graphOut);
            if (a == null || !is(nodes.get(a), "Add") || !other(nodes.get(a), erf.getOutput(0), 1.0, ix.producer, nodes,
                    ix.inits)) {
                continue;
            }
            Integer m1 = next(nodes.get(a), a, ix.consumers, ix.graphOut);
            if (m1 == null || !is(nodes.get(m1), "Mul") || !hasInputs(nodes.get(m1), x, nodes.get(a).getOutput(0))) {
                continue;
            }
            Integer m2 = next(nodes.get(m1), m1, ix.consumers, ix.graphOut);
            if (m2 == null || !is(nodes.get(m2), "Mul") || !other(nodes.get(m2), nodes.get(m1).getOutput(0), 0.5,
                    ix.producer, nodes, ix.inits)) {
                continue;
            }
            drop[d] = drop[e] = drop[a] = drop[m1] = true;
            NodeProto last = nodes.get(m2);
            replace.put(m2, NodeProto.newBuilder().setName(last.getName()).setOpType("Gelu").addInput(x)
                    .addOutput(last.getOutput(0)).build());
        }
        return rewrite(nodes, drop, replace);
    }

    private static final float SQRT_2_OVER_PI_F32 = (float) Math.sqrt(2 / Math.PI);
    private static final float CUBIC_F32 = 0.044715f;

    /**
     * {@code F.gelu(x, approximate='tanh')} as the exporter writes it before opset 20:
     * {@code x·x → x·(x·x) → 0.044715·x³ → x + … → √(2/π)·… → Tanh → 1 + … → x·… → 0.5·…}, constants in float32
     * (operands of each Mul and Add in either order). Each intermediate must feed only the next node.
     */
    private static List<NodeProto> tanhChains(List<NodeProto> nodes, GraphProto g) {
        Index ix = new Index(nodes, g);
        boolean[] drop = new boolean[nodes.size()];
        Map<Integer, NodeProto> replace = new HashMap<>();
        for (int t = 0; t < nodes.size(); t++) {
            NodeProto tanh = nodes.get(t);
            if (!unary(tanh, "Tanh")) {
                continue;
            }
            Integer u = ix.producer.get(tanh.getInput(0));
            if (u == null || !is(nodes.get(u), "Mul") || !soleUse(nodes.get(u), t, ix.consumers, ix.graphOut)) {
                continue;
            }
            String sum = otherThan(nodes.get(u), SQRT_2_OVER_PI_F32, ix.producer, nodes, ix.inits);
            Integer a = sum == null ? null : ix.producer.get(sum);
            if (a == null || !is(nodes.get(a), "Add") || !soleUse(nodes.get(a), u, ix.consumers, ix.graphOut)) {
                continue;
            }
            // x + 0.044715·x³, either order.
            int[] chain = null;
            String x = null;
            for (int side = 0; side < 2 && chain == null; side++) {
                x = nodes.get(a).getInput(side);
                Integer c = ix.producer.get(nodes.get(a).getInput(1 - side));
                if (c == null || !is(nodes.get(c), "Mul") || !soleUse(nodes.get(c), a, ix.consumers, ix.graphOut)) {
                    continue;
                }
                String cube = otherThan(nodes.get(c), CUBIC_F32, ix.producer, nodes, ix.inits);
                Integer x3 = cube == null ? null : ix.producer.get(cube);
                if (x3 == null || !is(nodes.get(x3), "Mul") || !soleUse(nodes.get(x3), c, ix.consumers, ix.graphOut)) {
                    continue;
                }
                for (int q = 0; q < 2; q++) {
                    Integer x2 = ix.producer.get(nodes.get(x3).getInput(1 - q));
                    if (nodes.get(x3).getInput(q).equals(x) && x2 != null && is(nodes.get(x2), "Mul")
                            && hasInputs(nodes.get(x2), x, x)
                            && soleUse(nodes.get(x2), x3, ix.consumers, ix.graphOut)) {
                        chain = new int[] {x2, x3, c};
                        break;
                    }
                }
            }
            if (chain == null) {
                continue;
            }
            Integer one = next(tanh, t, ix.consumers, ix.graphOut);
            if (one == null || !is(nodes.get(one), "Add") || !other(nodes.get(one), tanh.getOutput(0), 1.0, ix.producer,
                    nodes, ix.inits)) {
                continue;
            }
            Integer m1 = next(nodes.get(one), one, ix.consumers, ix.graphOut);
            if (m1 == null || !is(nodes.get(m1), "Mul") || !hasInputs(nodes.get(m1), x, nodes.get(one).getOutput(0))) {
                continue;
            }
            Integer m2 = next(nodes.get(m1), m1, ix.consumers, ix.graphOut);
            if (m2 == null || !is(nodes.get(m2), "Mul") || !other(nodes.get(m2), nodes.get(m1).getOutput(0), 0.5,
                    ix.producer, nodes, ix.inits)) {
                continue;
            }
            for (int k : new int[] {chain[0], chain[1], chain[2], a, u, t, one, m1}) {
                drop[k] = true;
            }
            NodeProto last = nodes.get(m2);
            replace.put(m2, NodeProto.newBuilder().setName(last.getName()).setOpType("Gelu").addInput(x)
                    .addOutput(last.getOutput(0)).addAttribute(AttributeProto.newBuilder().setName("approximate")
                            .setType(AttributeProto.AttributeType.STRING)
                            .setS(com.google.protobuf.ByteString.copyFromUtf8("tanh"))).build());
        }
        return rewrite(nodes, drop, replace);
    }

    /** The input of the two-input {@code n} beside a scalar constant equal to {@code value} in float32, or null. */
    private static String otherThan(NodeProto n, float value, Map<String, Integer> producer, List<NodeProto> nodes,
                                    Map<String, TensorProto> inits) {
        for (int q = 0; q < 2; q++) {
            Double c = scalar(n.getInput(q), producer, nodes, inits);
            if (c != null && (float) c.doubleValue() == value) {
                return n.getInput(1 - q);
            }
        }
        return null;
    }

    /** Who produces and who reads each name, the initializers, and the graph's output name. */
    private static final class Index {
        final Map<String, Integer> producer = new HashMap<>();
        final Map<String, List<Integer>> consumers = new HashMap<>();
        final Map<String, TensorProto> inits = new HashMap<>();
        final String graphOut;

        Index(List<NodeProto> nodes, GraphProto g) {
            for (int k = 0; k < nodes.size(); k++) {
                for (String o : nodes.get(k).getOutputList()) {
                    producer.put(o, k);
                }
                for (String i : nodes.get(k).getInputList()) {
                    consumers.computeIfAbsent(i, x -> new ArrayList<>()).add(k);
                }
            }
            for (TensorProto t : g.getInitializerList()) {
                inits.put(t.getName(), t);
            }
            graphOut = g.getOutputCount() > 0 ? g.getOutput(0).getName() : "";
        }
    }

    /** {@code nodes} without the dropped ones and with the replacements. */
    private static List<NodeProto> rewrite(List<NodeProto> nodes, boolean[] drop, Map<Integer, NodeProto> replace) {
        if (replace.isEmpty()) {
            return nodes;
        }
        List<NodeProto> out = new ArrayList<>();
        for (int k = 0; k < nodes.size(); k++) {
            if (!drop[k]) {
                out.add(replace.getOrDefault(k, nodes.get(k)));
            }
        }
        return out;
    }

    private static boolean unary(NodeProto n, String op) {
        return n.getOpType().equals(op) && n.getDomain().isEmpty() && n.getInputCount() == 1;
    }

    private static boolean is(NodeProto n, String op) {
        return n.getOpType().equals(op) && n.getDomain().isEmpty() && n.getInputCount() == 2 && n.getOutputCount() == 1;
    }

    private static boolean soleUse(NodeProto n, int user, Map<String, List<Integer>> consumers, String graphOut) {
        List<Integer> c = consumers.get(n.getOutput(0));
        return c != null && c.size() == 1 && c.get(0) == user && !n.getOutput(0).equals(graphOut);
    }

    /** The one consumer of {@code n}'s output (index after {@code k}), or null. */
    private static Integer next(NodeProto n, int k, Map<String, List<Integer>> consumers, String graphOut) {
        if (n.getOutputCount() != 1 || n.getOutput(0).equals(graphOut)) {
            return null;
        }
        List<Integer> c = consumers.get(n.getOutput(0));
        return c != null && c.size() == 1 && c.get(0) > k ? c.get(0) : null;
    }

    private static boolean hasInputs(NodeProto n, String p, String q) {
        return (n.getInput(0).equals(p) && n.getInput(1).equals(q)) || (n.getInput(0).equals(q) && n.getInput(1).equals(p));
    }

    /** Whether {@code n} takes {@code from} and a scalar constant equal to {@code value}. */
    private static boolean other(NodeProto n, String from, double value, Map<String, Integer> producer,
                                 List<NodeProto> nodes, Map<String, TensorProto> inits) {
        String o = n.getInput(0).equals(from) ? n.getInput(1) : n.getInput(1).equals(from) ? n.getInput(0) : null;
        Double c = o == null ? null : scalar(o, producer, nodes, inits);
        return c != null && c == value;
    }

    /** The value of a one-element float constant (a {@code Constant} node or an initializer), or null. */
    private static Double scalar(String name, Map<String, Integer> producer, List<NodeProto> nodes,
                                 Map<String, TensorProto> inits) {
        TensorProto t = inits.get(name);
        Integer p = producer.get(name);
        if (t == null && p != null && nodes.get(p).getOpType().equals("Constant")
                && nodes.get(p).getAttributeCount() == 1) {
            AttributeProto a = nodes.get(p).getAttribute(0);
            if (a.getName().equals("value_float")) {
                return (double) a.getF();
            }
            if (a.getName().equals("value")) {
                t = a.getT();
            }
        }
        if (t == null || t.getDimsCount() > 1 || (t.getDimsCount() == 1 && t.getDims(0) != 1)) {
            return null;
        }
        if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
            if (t.getRawData().size() == 4) {
                return (double) t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
            }
            return t.getFloatDataCount() == 1 ? (double) t.getFloatData(0) : null;
        }
        if (t.getDataType() == TensorProto.DataType.DOUBLE_VALUE) {
            if (t.getRawData().size() == 8) {
                ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                return b.getDouble(0);
            }
            return t.getDoubleDataCount() == 1 ? t.getDoubleData(0) : null;
        }
        return null;
    }
}
