package jresnet.tensor;

/** A float32 array on the host with its logical shape. */
public record HostArray(Shape shape, float[] data) {
    public HostArray {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException(data.length + " values for shape " + shape);
        }
    }
}
