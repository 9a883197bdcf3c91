package jresnet.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;

import jresnet.train.EpochMetrics;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Per-epoch line charts, one colour per model: validation solid with dots, training dashed with squares. */
final class ComparisonCharts {
    static final int WIDTH = 1000;
    static final int HEIGHT = 600;

    /** Matplotlib's tab10, which stays distinguishable for up to ten models. */
    private static final Color[] PALETTE = {
            new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};
    private static final Stroke SOLID = new BasicStroke(2.0f);
    private static final Stroke DASHED = new BasicStroke(2.0f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND,
            10.0f, new float[] {8.0f, 5.0f}, 0.0f);

    private static final Shape DOT = new Ellipse2D.Double(-3, -3, 6, 6);
    private static final Shape SQUARE = new Rectangle2D.Double(-2.5, -2.5, 5, 5);
    /** Long enough for three dashes of {@link #DASHED}, so that a legend entry shows which line it is. */
    static final int LEGEND_LINE = 36;

    private ComparisonCharts() {
    }

    static void writeAccuracy(Path file, List<ModelRun> runs) {
        write(file, accuracyChart(runs));
    }

    static void writeLoss(Path file, List<ModelRun> runs) {
        write(file, chart("Loss per epoch", "loss", runs, EpochMetrics::valLoss, EpochMetrics::loss));
    }

    static JFreeChart accuracyChart(List<ModelRun> runs) {
        return chart("Accuracy per epoch", "accuracy", runs, EpochMetrics::valAccuracy, EpochMetrics::accuracy);
    }

    private static void write(Path file, JFreeChart chart) {
        try {
            ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + file, e);
        }
    }

    private static JFreeChart chart(String title, String valueLabel, List<ModelRun> runs,
                                    ToDoubleFunction<EpochMetrics> validation, ToDoubleFunction<EpochMetrics> training) {
        // Charts are drawn off-screen; without this AWT would look for a display on machines that have one.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        XYSeriesCollection dataset = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setDrawSeriesLineAsPath(true);
        // JFreeChart's legend line is 14 px, less than one dash and gap: training and validation looked alike
        renderer.setLegendLine(new Line2D.Double(-LEGEND_LINE / 2.0, 0, LEGEND_LINE / 2.0, 0));
        int lastEpoch = 1;
        for (int r = 0; r < runs.size(); r++) {
            ModelRun run = runs.get(r);
            Color colour = PALETTE[r % PALETTE.length];
            lastEpoch = Math.max(lastEpoch, RunSummary.displayedEpoch(run.epochs().get(run.epochs().size() - 1)));
            addSeries(dataset, renderer, series(run.model() + " validation", run, validation), colour, SOLID, DOT);
            addSeries(dataset, renderer, series(run.model() + " training", run, training), colour, DASHED, SQUARE);
        }

        NumberAxis epochAxis = new EpochAxis();
        double margin = Math.max(0.25, 0.01 * (lastEpoch - 1));
        epochAxis.setRange(1 - margin, lastEpoch + margin);
        NumberAxis valueAxis = new NumberAxis(valueLabel);
        valueAxis.setAutoRangeIncludesZero(false);
        for (NumberAxis axis : List.of(epochAxis, valueAxis)) {
            axis.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
            axis.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        }
        XYPlot plot = new XYPlot(dataset, epochAxis, valueAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));

        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 20), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        legend.setPosition(RectangleEdge.BOTTOM);
        legend.setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        return chart;
    }

    /** Epochs without a value (validation skipped) are left out, so the line joins the measured ones. */
    private static XYSeries series(String key, ModelRun run, ToDoubleFunction<EpochMetrics> value) {
        XYSeries series = new XYSeries(key, false, true);
        for (EpochMetrics epoch : run.epochs()) {
            double y = value.applyAsDouble(epoch);
            if (!Double.isNaN(y)) {
                series.add(RunSummary.displayedEpoch(epoch), y);
            }
        }
        return series;
    }

    private static void addSeries(XYSeriesCollection dataset, XYLineAndShapeRenderer renderer, XYSeries series,
                                  Color colour, Stroke stroke, Shape marker) {
        if (series.isEmpty()) {
            return;
        }
        int index = dataset.getSeriesCount();
        dataset.addSeries(series);
        renderer.setSeriesPaint(index, colour);
        renderer.setSeriesStroke(index, stroke);
        renderer.setSeriesShape(index, marker);
    }

    /** An integer epoch axis whose ticks are 1, 1 + unit, 1 + 2·unit, ... rather than multiples of the unit. */
    private static final class EpochAxis extends NumberAxis {
        EpochAxis() {
            super("epoch");
            setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }

        @Override
        protected double calculateLowestVisibleTickValue() {
            double unit = getTickUnit().getSize();
            return 1 + Math.ceil((getLowerBound() - 1) / unit) * unit;
        }
    }
}
