package jresnet.tensor;

/**
 * A buffer owned by one backend. Its shape is logical (NHWC activations, Keras parameter layouts);
 * how the backend stores it is the backend's business. Closing frees the storage; closing a view
 * frees nothing.
 */
public interface Tensor extends AutoCloseable {
    Shape shape();

    /** A view of the first n entries of the leading (batch) axis, sharing storage. */
    Tensor withBatch(int n);

    @Override void close();
}
