package jresnet.io;

import java.io.IOException;

/** A consumer that may throw IOException, for code that writes to a stream handed to it. */
@FunctionalInterface
public interface IoConsumer<T> {
    void accept(T value) throws IOException;
}
