package jresnet.export;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import jresnet.export.proto.Onnx.AttributeProto;
import jresnet.export.proto.Onnx.GraphProto;
import jresnet.export.proto.Onnx.NodeProto;
import jresnet.export.proto.Onnx.TensorProto;
import jresnet.export.proto.Onnx.TensorShapeProto;
import jresnet.export.proto.Onnx.TypeProto;
import jresnet.export.proto.Onnx.ValueInfoProto;

/**
 * An ONNX graph under construction: nodes in topological order and the initializers they read.
 * Every value and node name is checked to be new, since ONNX resolves inputs by name.
 */
final class OnnxGraph {
    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final Set<String> values = new HashSet<>(), nodes = new HashSet<>();

    /** One node of the default (ai.onnx) domain; returns its output's name. */
    String node(String opType, String name, List<String> inputs, String output, AttributeProto... attributes) {
        if (!nodes.add(name)) throw new IllegalStateException("ONNX node name used twice: " + name);
        graph.addNode(NodeProto.newBuilder().setOpType(opType).setName(name).addAllInput(inputs)
                .addOutput(newValue(output)).addAllAttribute(List.of(attributes)));
        return output;
    }

    /** A float32 constant of the given dimensions, row-major. */
    String floats(String name, int[] dims, float[] data) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(data);
        TensorProto.Builder t = tensor(name, TensorProto.DataType.FLOAT, dims, data.length);
        graph.addInitializer(t.setRawData(ByteString.copyFrom(bytes.array())));
        return name;
    }

    /** A one-dimensional int64 constant (shapes, pads, slice bounds). */
    String int64s(String name, long... data) {
        TensorProto.Builder t = tensor(name, TensorProto.DataType.INT64, new int[] {data.length}, data.length);
        for (long v : data) t.addInt64Data(v);
        graph.addInitializer(t);
        return name;
    }

    /** A float32 graph input whose first dimension is the batch, named by {@code batch}. */
    void input(String name, String batch, int[] perSample, String doc) { graph.addInput(valueInfo(newValue(name), batch, perSample, doc)); }

    /** Declares a value some node produces as a graph output. */
    void output(String name, String batch, int[] perSample, String doc) { graph.addOutput(valueInfo(name, batch, perSample, doc)); }

    private ValueInfoProto valueInfo(String name, String batch, int[] perSample, String doc) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (int d : perSample) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        TypeProto.Tensor type = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(type)).setDocString(doc).build();
    }

    private TensorProto.Builder tensor(String name, TensorProto.DataType type, int[] dims, int elements) {
        long product = 1;
        for (int d : dims) product *= d;
        if (product != elements) throw new IllegalArgumentException(name + ": " + elements + " values for dims " + Arrays.toString(dims));
        TensorProto.Builder t = TensorProto.newBuilder().setName(newValue(name)).setDataType(type.getNumber());
        for (int d : dims) t.addDims(d);
        return t;
    }

    private String newValue(String name) {
        if (!values.add(name)) throw new IllegalStateException("ONNX value name used twice: " + name);
        return name;
    }

    GraphProto.Builder proto() { return graph; }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) a.addInts(v);
        return a.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }
}
