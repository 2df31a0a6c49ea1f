package dev.linchpin.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.text.DecimalFormat;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.ViewBox;

/**
 * The report's plots, drawn with JFreeChart onto JFreeSVG's SVG canvas and returned as inline
 * {@code <svg>} elements (with an id and class {@code plot}) for a page that needs no network.
 */
final class Charts {
    static final int WIDTH = 640, HEIGHT = 360;
    /** One colour per model, the same in every plot (base is grey). */
    private static final Color[] PALETTE = {new Color(0x6b7280), new Color(0x2563eb), new Color(0xdc2626), new Color(0x059669),
            new Color(0xd97706), new Color(0x7c3aed), new Color(0xdb2777), new Color(0x0891b2)};

    /** Data sets get colours of their own, so that a bar is not read as a model's line colour. */
    private static final Color[] DATASET_COLORS = {new Color(0x0e7490), new Color(0xf59e0b), new Color(0x94a3b8), new Color(0x4d7c0f)};

    static {
        // Charts draw off-screen; a server without a display must not try to open one.
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /** Colour of the i-th model of the results table. */
    static Color color(int i) {
        return PALETTE[i % PALETTE.length];
    }

    /**
     * Greedy accuracy per objective (x) and data set (colour): the mean over seeds as a point, the 95 %
     * bootstrap interval of the mean as an error bar.
     */
    static String accuracy(ReportModel m, String id) {
        Experiment x = m.experiment();
        List<String> objectives = new ArrayList<>(x.objectives().keySet());
        org.jfree.data.xy.YIntervalSeriesCollection data = new org.jfree.data.xy.YIntervalSeriesCollection();
        List<Experiment.MetricBlock> greedy = new ArrayList<>();
        for (Experiment.MetricBlock b : x.metrics()) if (b.metric().equals("greedy")) greedy.add(b);
        for (int i = 0; i < greedy.size(); i++) {
            Experiment.MetricBlock b = greedy.get(i);
            org.jfree.data.xy.YIntervalSeries s = new org.jfree.data.xy.YIntervalSeries(b.dataset() + " greedy");
            double offset = greedy.size() == 1 ? 0 : -0.15 + 0.3 * i / (greedy.size() - 1);
            for (int j = 0; j < objectives.size(); j++) {
                Experiment.Summary v = b.byObjective().get(objectives.get(j));
                if (v != null) s.add(j + offset, v.mean(), v.lo(), v.hi());
            }
            data.addSeries(s);
        }
        org.jfree.chart.axis.SymbolAxis xAxis = new org.jfree.chart.axis.SymbolAxis("objective", objectives.toArray(new String[0]));
        NumberAxis yAxis = new NumberAxis("greedy accuracy");
        yAxis.setNumberFormatOverride(percentFormat());
        yAxis.setAutoRangeIncludesZero(true);
        org.jfree.chart.renderer.xy.XYErrorRenderer r = new org.jfree.chart.renderer.xy.XYErrorRenderer();
        r.setDrawXError(false);
        r.setDefaultLinesVisible(false);
        r.setDefaultShapesVisible(true);
        r.setErrorStroke(new BasicStroke(2f));
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, DATASET_COLORS[i % DATASET_COLORS.length]);
            r.setSeriesShape(i, new Ellipse2D.Double(-4, -4, 8, 8));
        }
        XYPlot plot = new XYPlot(data, xAxis, yAxis, r);
        JFreeChart chart = new JFreeChart("Accuracy per objective, mean over seeds with 95 % interval", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        return svg(style(chart), id);
    }

    /** pass@k against k on a log2 axis, one line per model with numbers for {@code dataset}. */
    static String passAtK(ReportModel m, String dataset, String id) {
        XYSeriesCollection series = new XYSeriesCollection();
        List<ReportModel.ResultRow> rows = m.tables().get(dataset);
        int[] colorOf = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            XYSeries s = new XYSeries(rows.get(i).model(), true, false);
            for (Map.Entry<Integer, Double> e : rows.get(i).passAtK().entrySet()) {
                if (e.getValue() != null) s.add(log2(e.getKey()), e.getValue());
            }
            if (s.getItemCount() > 0) {
                colorOf[series.getSeriesCount()] = i;
                series.addSeries(s);
            }
        }
        JFreeChart chart = ChartFactory.createXYLineChart("pass@k on " + dataset, "k (log₂ scale)", "pass@k",
                series, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setTickUnit(new NumberTickUnit(1, new PowerOfTwoFormat()));
        x.setAutoRangeIncludesZero(true);
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setRange(0, 1.02);
        y.setNumberFormatOverride(percentFormat());
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series.getSeriesCount(); i++) {
            r.setSeriesPaint(i, color(colorOf[i]));
            r.setSeriesStroke(i, new BasicStroke(2f));
            r.setSeriesShape(i, new Ellipse2D.Double(-3, -3, 6, 6));
        }
        plot.setRenderer(r);
        return svg(style(chart), id);
    }

    /** Mean entropy per model, one bar per eval data set. */
    static String entropy(ReportModel m, String id) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        for (String name : m.datasets()) {
            if (name.equals("overall") && m.datasets().size() > 1) continue;
            for (ReportModel.ResultRow r : m.tables().get(name)) {
                if (r.entropy() != null) ds.addValue(r.entropy(), name, r.model());
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Mean entropy of sampled tokens", "model", "entropy (nats)", ds,
                PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        for (int i = 0; i < ds.getRowCount(); i++) r.setSeriesPaint(i, DATASET_COLORS[i % DATASET_COLORS.length]);
        CategoryAxis x = plot.getDomainAxis();
        x.setCategoryMargin(0.25);
        return svg(style(chart), id);
    }

    /** Kept examples per critical-fraction bin. */
    static String criticalHistogram(ReportModel.Histogram h, String id) {
        XYIntervalSeries s = new XYIntervalSeries("kept examples");
        for (int i = 0; i < h.counts().size(); i++) {
            double lo = h.edge(i), hi = h.edge(i + 1);
            s.add((lo + hi) / 2, lo, hi, h.counts().get(i), 0, h.counts().get(i));
        }
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        data.addSeries(s);
        JFreeChart chart = ChartFactory.createXYBarChart("Critical fraction per kept example", "critical / response tokens",
                false, "examples", data, PlotOrientation.VERTICAL, false, false, false);
        XYPlot plot = chart.getXYPlot();
        XYBarRenderer r = (XYBarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardXYBarPainter());
        r.setShadowVisible(false);
        r.setDrawBarOutline(true);
        r.setSeriesOutlinePaint(0, Color.WHITE);
        r.setSeriesPaint(0, new Color(0xdc2626));
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setRange(0, h.edge(h.counts().size()));
        x.setNumberFormatOverride(percentFormat());
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        return svg(style(chart), id);
    }

    /** Training loss per step, one line per objective. */
    static String loss(ReportModel m, String id) {
        XYSeriesCollection series = new XYSeriesCollection();
        List<String> models = m.data().models();
        int[] colorOf = new int[models.size()];
        for (TrainMetrics t : m.data().metrics().values()) {
            if (t.steps().isEmpty()) continue;
            XYSeries s = new XYSeries(t.objective(), true, true);
            for (TrainMetrics.Step step : t.steps()) s.add(step.step(), step.loss());
            colorOf[series.getSeriesCount()] = models.indexOf(t.objective());
            series.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Training loss", "optimizer step", "loss", series,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < series.getSeriesCount(); i++) {
            r.setSeriesPaint(i, color(colorOf[i]));
            r.setSeriesStroke(i, new BasicStroke(1.6f));
        }
        plot.setRenderer(r);
        ((NumberAxis) plot.getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        double lo = Double.MAX_VALUE, hi = 0;
        for (int i = 0; i < series.getSeriesCount(); i++) {
            lo = Math.min(lo, series.getSeries(i).getMinY());
            hi = Math.max(hi, series.getSeries(i).getMaxY());
        }
        if (lo > 0 && hi / lo > 20) {
            // Losses that differ by orders of magnitude (a full-SFT stage next to converged objectives)
            // would flatten into the x axis on a linear scale.
            LogAxis y = new LogAxis("loss (log scale)");
            y.setBase(10);
            y.setTickUnit(new NumberTickUnit(1));   // one tick per decade (the unit is in log space)
            y.setMinorTickMarksVisible(true);
            y.setLabelFont(plot.getDomainAxis().getLabelFont());
            y.setTickLabelFont(plot.getDomainAxis().getTickLabelFont());
            y.setNumberFormatOverride(new DecimalFormat("0.###", java.text.DecimalFormatSymbols.getInstance(Locale.ROOT)));
            plot.setRangeAxis(y);
        }
        return svg(style(chart), id);
    }

    private static JFreeChart style(JFreeChart chart) {
        Paint grid = new Color(0xe5e7eb);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font("SansSerif", Font.BOLD, 15));
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        if (chart.getPlot() instanceof XYPlot p) {
            p.setBackgroundPaint(Color.WHITE);
            p.setDomainGridlinePaint(grid);
            p.setRangeGridlinePaint(grid);
            p.setOutlineVisible(false);
        } else if (chart.getPlot() instanceof CategoryPlot p) {
            p.setBackgroundPaint(Color.WHITE);
            p.setRangeGridlinePaint(grid);
            p.setOutlineVisible(false);
        }
        if (chart.getLegend() != null) chart.getLegend().setFrame(org.jfree.chart.block.BlockBorder.NONE);
        return chart;
    }

    /** The chart as an {@code <svg>} element that scales with its container (viewBox), with {@code id}. */
    private static String svg(JFreeChart chart, String id) {
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        g.setDefsKeyPrefix(id + "-");   // clip-path ids stay unique when several SVGs share one page
        chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
        String el = g.getSVGElement(id, true, new ViewBox(0, 0, WIDTH, HEIGHT), null, null);
        return el.replaceFirst("<svg ", "<svg class=\"plot\" role=\"img\" aria-label=\"" + Html.escape(chart.getTitle().getText()) + "\" ");
    }

    private static double log2(int k) {
        return Math.log(k) / Math.log(2);
    }

    private static NumberFormat percentFormat() {
        return new DecimalFormat("0%", java.text.DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    /** Tick labels of a log₂ axis: the tick at x is labelled 2^x. */
    private static final class PowerOfTwoFormat extends NumberFormat {
        private static final long serialVersionUID = 1L;

        @Override
        public StringBuffer format(double x, StringBuffer to, FieldPosition pos) {
            double v = Math.pow(2, x);
            return Math.abs(v - Math.rint(v)) < 1e-9 ? to.append((long) Math.rint(v)) : to.append(String.format(Locale.ROOT, "%.3g", v));
        }

        @Override
        public StringBuffer format(long x, StringBuffer to, FieldPosition pos) {
            return format((double) x, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            throw new UnsupportedOperationException("tick labels are only formatted");
        }
    }
}
