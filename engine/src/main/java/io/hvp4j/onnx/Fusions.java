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
 * (erf form), which is also one op instead of five.
 */
final class Fusions {
    private static final float SQRT2_F32 = (float) Math.sqrt(2);

    private Fusions() {
    }

    /** The nodes of {@code g} with every {@code Div → Erf → Add 1 → Mul x → Mul 0.5} chain replaced by {@code Gelu}. */
    static List<NodeProto> gelu(GraphProto g) {
        List<NodeProto> nodes = g.getNodeList();
        Map<String, Integer> producer = new HashMap<>();
        Map<String, List<Integer>> consumers = new HashMap<>();
        for (int k = 0; k < nodes.size(); k++) {
            for (String o : nodes.get(k).getOutputList()) {
                producer.put(o, k);
            }
            for (String i : nodes.get(k).getInputList()) {
                consumers.computeIfAbsent(i, x -> new ArrayList<>()).add(k);
            }
        }
        Map<String, TensorProto> inits = new HashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            inits.put(t.getName(), t);
        }
        String graphOut = g.getOutputCount() > 0 ? g.getOutput(0).getName() : "";
        boolean[] drop = new boolean[nodes.size()];
        Map<Integer, NodeProto> replace = new HashMap<>();
        for (int e = 0; e < nodes.size(); e++) {
            NodeProto erf = nodes.get(e);
            if (!erf.getOpType().equals("Erf") || !erf.getDomain().isEmpty() || erf.getInputCount() != 1) {
                continue;
            }
            Integer d = producer.get(erf.getInput(0));
            if (d == null || !is(nodes.get(d), "Div") || !soleUse(nodes.get(d), e, consumers, graphOut)) {
                continue;
            }
            NodeProto div = nodes.get(d);
            String x = div.getInput(0);
            Double c = scalar(div.getInput(1), producer, nodes, inits);
            if (c == null || (float) c.doubleValue() != SQRT2_F32) {
                continue;
            }
            Integer a = next(erf, e, consumers, graphOut);
            if (a == null || !is(nodes.get(a), "Add") || !other(nodes.get(a), erf.getOutput(0), 1.0, producer, nodes,
                    inits)) {
                continue;
            }
            Integer m1 = next(nodes.get(a), a, consumers, graphOut);
            if (m1 == null || !is(nodes.get(m1), "Mul") || !hasInputs(nodes.get(m1), x, nodes.get(a).getOutput(0))) {
                continue;
            }
            Integer m2 = next(nodes.get(m1), m1, consumers, graphOut);
            if (m2 == null || !is(nodes.get(m2), "Mul") || !other(nodes.get(m2), nodes.get(m1).getOutput(0), 0.5,
                    producer, nodes, inits)) {
                continue;
            }
            drop[d] = drop[e] = drop[a] = drop[m1] = true;
            NodeProto last = nodes.get(m2);
            replace.put(m2, NodeProto.newBuilder().setName(last.getName()).setOpType("Gelu").addInput(x)
                    .addOutput(last.getOutput(0)).build());
        }
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
