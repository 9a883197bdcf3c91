package jresnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import jresnet.backend.Backend;
import jresnet.backend.reference.ReferenceBackend;
import jresnet.models.ModelZoo;
import jresnet.optim.Adam;
import org.junit.jupiter.api.Test;

/** After the first step of each kind, epochs of training and evaluation allocate nothing more. */
class ExecutorMemoryTest {
    @Test void noAllocationAfterTheFirstSteps() {
        ReferenceBackend reference = new ReferenceBackend();
        AtomicInteger allocations = new AtomicInteger();
        Backend counting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().startsWith("allocate")) allocations.incrementAndGet();
                    try {
                        return method.invoke(reference, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Model model = ModelZoo.create("tutorial-resnet-1.1-w2");
        SplittableRandom random = new SplittableRandom(1);
        int capacity = 8;
        float[] images = new float[capacity * 32 * 32 * 3], labels = new float[capacity];
        try (Executor ex = new Executor(model, counting, capacity)) {
            ex.attachOptimizer(new Adam());
            Runnable epoch = () -> {
                for (int i = 0; i < images.length; i++) images[i] = random.nextInt(256);
                for (int i = 0; i < capacity; i++) labels[i] = random.nextInt(10);
                ex.trainStep(images, labels, capacity);
                ex.trainStep(images, labels, 5);
                ex.evaluateBatch(images, labels, 3);
                ex.predictBatch(images, capacity);
            };
            epoch.run();
            int afterFirst = allocations.get();
            assertTrue(afterFirst > 0);
            for (int e = 0; e < 4; e++) epoch.run();
            assertEquals(afterFirst, allocations.get(), "allocations after the first epoch");
            assertEquals(10, ex.iterations());
        }
    }
}
