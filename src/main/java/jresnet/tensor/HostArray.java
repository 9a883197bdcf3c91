package jresnet.tensor;

import java.util.Objects;

/**
 * A float array in host memory with its logical shape (row-major). The array is shared, not copied:
 * whoever builds a HostArray hands over its data. As for any record holding an array, equals
 * compares the array by identity; compare contents with Arrays.equals.
 */
public record HostArray(Shape shape, float[] data) {
    public HostArray {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("shape " + shape + " needs " + shape.size() + " values, data has " + data.length);
        }
    }
}
