package jresnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComparisonPlanTest {
    private static final TrainingRun.Config RUN = new TrainingRun.Config("tutorial-resnet-1-w2", "keras", 2, 16, 11, 40, 16, 0, null, "stop");
    private static final TestSetAccuracy.Result MEASURED = new TestSetAccuracy.Result(
            new TestSetAccuracy.Count(7, 16), new TestSetAccuracy.Count(7, 16), 12.5);

    /** A recorded figure is found again only for the same model, weights and test file, and survives a write and read. */
    @Test void testFiguresAreKeyedByModelWeightsAndTestFile(@TempDir Path dir) throws Exception {
        ComparisonPlan plan = new ComparisonPlan("/data", List.of(RUN)).withTest(RUN.model(), "w1", "t1", MEASURED);
        plan.withReport("r").withEpochs(3).write(dir);
        ComparisonPlan read = ComparisonPlan.read(dir);
        TestSetAccuracy.Result found = read.testedBefore(RUN.model(), "w1", "t1");
        assertEquals(MEASURED.all(), found.all());
        assertEquals(MEASURED.exact(), found.exact());
        assertTrue(Double.isNaN(found.lossSum()), "the loss is not kept");
        assertNull(read.testedBefore(RUN.model(), "w2", "t1"));
        assertNull(read.testedBefore(RUN.model(), "w1", "t2"));
        assertNull(read.testedBefore("tutorial-plain-1-w2", "w1", "t1"));
        // a later measurement of the same model replaces the earlier one
        ComparisonPlan again = read.withTest(RUN.model(), "w2", "t1", MEASURED);
        assertEquals(1, again.tests().size());
        assertNull(again.testedBefore(RUN.model(), "w1", "t1"));
    }

    /** compare.json written before the test figures were kept reads as a plan with none. */
    @Test void anOlderPlanWithoutTestFiguresReads(@TempDir Path dir) throws Exception {
        new ComparisonPlan("/data", List.of(RUN)).write(dir);
        Path file = dir.resolve(ComparisonPlan.FILE);
        String text = Files.readString(file);
        assertTrue(text.contains("\"tests\""), text);
        Files.writeString(file, text.replaceAll(",\\s*\"tests\": \\[\\s*\\]", ""));
        assertTrue(!Files.readString(file).contains("tests"), Files.readString(file));
        assertEquals(List.of(), ComparisonPlan.read(dir).tests());
    }
}
