package dev.linchpin.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.cli.Main;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.rundir.RunLayout;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.json against numbers recomputed here from the fixture's inputs (masks records, eval JSON files,
 * metrics lines, manifest stages), the handling of an unfinished run and of malformed inputs, and the
 * HTML escaping of hostile token text.
 */
class ReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double EPS = 1e-12;

    @TempDir
    Path dir;

    @Test
    void reportJsonHoldsTheInputsNumbers() throws IOException {
        RunLayout layout = RunFixture.complete(dir);
        Report.Written w = Report.write(dir);
        JsonNode r = JSON.readTree(w.json().toFile());

        // Critical fraction recomputed from the records: Σ critical / Σ response tokens over kept ones.
        long crit = 0, resp = 0;
        List<MaskRecord> kept = new ArrayList<>();
        for (MaskRecord m : RunFixture.records()) {
            if (!m.kept()) continue;
            kept.add(m);
            crit += m.critical().size();
            resp += m.responseIds().length;
        }
        assertEquals(3, crit);
        assertEquals(23, resp);
        JsonNode masks = r.get("masks");
        assertEquals(4, masks.get("examples").asLong());
        assertEquals(3, masks.get("kept").asLong());
        assertEquals((double) crit / resp, masks.get("critical_fraction").asDouble(), EPS);
        assertEquals(6, masks.get("examined_positions").asLong());
        for (int i = 0; i < kept.size(); i++) {
            JsonNode e = masks.get("per_example").get(i);
            assertEquals(kept.get(i).id(), e.get("id").asText());
            assertEquals((double) kept.get(i).critical().size() / kept.get(i).responseIds().length, e.get("fraction").asDouble(), EPS);
        }
        // Histogram, hand-derived: largest fraction 2/10 → range [0, 0.2] in 20 bins of 0.01;
        // 0 → bin 0, 1/8 = 0.125 → bin 12, 0.2 (the closed upper edge) → bin 19.
        JsonNode counts = masks.get("histogram").get("counts");
        assertEquals(20, counts.size());
        for (int i = 0; i < 20; i++) assertEquals(i == 0 || i == 12 || i == 19 ? 1 : 0, counts.get(i).asInt(), "bin " + i);
        assertEquals(0.2, masks.get("histogram").get("edges").get(20).asDouble(), EPS);
        assertEquals(List.of("ex-1", "ex-2", "ex-3"), texts(masks.get("shown_examples")));
        assertEquals(4, r.get("mining_summary").get("examples").asLong());

        // Results: every number copied from the eval JSON files, read here independently.
        assertEquals(List.of("base", "sft", "cft"), texts(r.get("models")));
        assertEquals(List.of(1, 2, 4), ints(r.get("ks")));
        JsonNode results = r.get("results");
        assertEquals(List.of("test", "harder", "overall"), results.findValues("dataset").stream().map(JsonNode::asText).toList());
        for (JsonNode table : results) {
            String ds = table.get("dataset").asText();
            for (JsonNode row : table.get("rows")) {
                String model = row.get("model").asText();
                JsonNode eval = JSON.readTree(layout.eval(model).toFile());
                JsonNode src = ds.equals("overall") ? eval.get("overall") : datasetNamed(eval, ds);
                assertEquals(src.get("questions").asInt(), row.get("questions").asInt(), model + "/" + ds);
                assertEquals(src.get("greedy_accuracy").asDouble(), row.get("greedy_accuracy").asDouble(), EPS, model + "/" + ds);
                for (String k : List.of("1", "2", "4")) {
                    assertEquals(src.get("pass_at_k").get(k).asDouble(), row.get("pass_at_k").get(k).asDouble(), EPS, model + "/" + ds + " pass@" + k);
                }
                assertEquals(src.get("entropy").asDouble(), row.get("entropy").asDouble(), EPS, model + "/" + ds);
            }
        }
        // Hand-derived for base on "test" (q1: greedy right, 2 of 4 samples right; q2: greedy wrong, 0 of 4):
        // greedy 1/2; pass@1 = (2/4 + 0)/2; pass@2 = (1 - C(2,2)/C(4,2) + 0)/2 = 5/12; pass@4 = (1 + 0)/2;
        // entropy: both questions' samples have 46 tokens, at 1.0 and 1.5 nats → 1.25.
        JsonNode baseTest = results.get(0).get("rows").get(0);
        assertEquals(0.5, baseTest.get("greedy_accuracy").asDouble(), EPS);
        assertEquals(0.25, baseTest.get("pass_at_k").get("1").asDouble(), EPS);
        assertEquals(5.0 / 12, baseTest.get("pass_at_k").get("2").asDouble(), EPS);
        assertEquals(0.5, baseTest.get("pass_at_k").get("4").asDouble(), EPS);
        assertEquals(1.25, baseTest.get("entropy").asDouble(), EPS);

        // Training fraction (mean of the per-step values written) and stage times from the manifest.
        JsonNode cft = results.get(0).get("rows").get(2);
        assertEquals((0.10 + 0.12 + 0.14) / 3, cft.get("trained_token_fraction").asDouble(), EPS);
        assertEquals(35, cft.get("train_seconds").asDouble(), EPS);
        assertEquals(7.5, cft.get("eval_seconds").asDouble(), EPS);
        assertEquals(1.0, results.get(0).get("rows").get(1).get("trained_token_fraction").asDouble(), EPS);
        assertTrue(baseTest.get("trained_token_fraction").isNull());
        assertTrue(baseTest.get("train_seconds").isNull());
        assertEquals(12.5 + 30 + 40 + 35 + 8 + 9 + 7.5, r.get("total_stage_seconds").asDouble(), EPS);
        assertEquals(7, r.get("stages").size());
        assertEquals(3, r.get("training").get("cft").get("loss").size());
        JsonNode cftStage = r.get("training").get("cft").get("stages").get(0);
        assertEquals(3, cftStage.get("steps").asInt());
        assertEquals((0.10 + 0.12 + 0.14) / 3, cftStage.get("mean_trained_token_fraction").asDouble(), EPS);
        assertEquals(RunFixture.initialLoss("cft") - 0.3 * 2, r.get("training").get("cft").get("final_loss").asDouble(), EPS);

        assertEquals(0, r.get("missing").size(), r.get("missing").toString());
        List<String> plots = texts(r.get("plots"));
        assertEquals(List.of("plot-accuracy", "plot-passk-test-0", "plot-passk-harder-1", "plot-entropy", "plot-critical-histogram",
                "plot-loss"), plots);
        // The experiment, by hand: greedy on "test" is base [1, 0], sft [1, 0] (shift 1: t2 wrong), cft [1, 1]; one
        // model per objective (no seeds). CFT − SFT = (0 + 1) / 2; resampling 2 questions from d = [0, 1] gives
        // 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5 % and 97.5 % percentiles are 0 and 1.
        JsonNode x = r.get("experiment");
        List<String> objectives = new ArrayList<>();
        x.get("objectives").fieldNames().forEachRemaining(objectives::add);
        assertEquals(List.of("base", "sft", "cft"), objectives);
        JsonNode cftSft = null;
        for (JsonNode d : x.get("differences")) {
            if (d.get("a").asText().equals("cft") && d.get("b").asText().equals("sft") && d.get("dataset").asText().equals("test")
                    && d.get("metric").asText().equals("greedy")) cftSft = d;
        }
        assertNotNull(cftSft, x.get("differences").toString());
        assertEquals(0.5, cftSft.get("mean").asDouble(), EPS);
        assertEquals(0.0, cftSft.get("ci95_lo").asDouble(), EPS);
        assertEquals(1.0, cftSft.get("ci95_hi").asDouble(), EPS);
        assertEquals("test, greedy on 2 questions: CFT is ahead of SFT by 50.0 points, 95 % interval [0.0, 100.0]: "
                + "not distinguishable from SFT at this scale.", cftSft.get("sentence").asText());
        String html = Files.readString(w.html(), StandardCharsets.UTF_8);
        for (String id : plots) assertTrue(Pattern.compile("<svg class=\"plot\"[^>]* id=['\"]" + id + "['\"]").matcher(html).find(), id);
        assertTrue(r.get("findings").get(0).asText().contains("3 are critical (13.0 %)"), r.get("findings").get(0).asText());
        assertTrue(r.get("findings").get(0).asText().contains("under 12 %"));
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            // The reports get the permissions of any file this process creates (the umask's), not owner-only.
            Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
            for (Path p : List.of(w.json(), w.html())) {
                assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(p), p.toString());
            }
            Files.delete(plain);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary files left behind");
        }
    }

    @Test
    void hostileTokenTextIsEscapedEverywhere() throws IOException {
        RunFixture.complete(dir);
        String html = Files.readString(Report.write(dir).html(), StandardCharsets.UTF_8);
        // Only the page's own two script elements exist; token text cannot open or close one.
        Matcher open = Pattern.compile("<script").matcher(html);
        int scripts = 0;
        while (open.find()) scripts++;
        assertEquals(2, scripts);
        assertEquals(2, html.split("</script>", -1).length - 1);
        assertFalse(html.contains("alert(1)</"), "raw hostile markup in the page");
        assertTrue(html.contains("<span class=\"tok crit\" data-t=\"2\" tabindex=\"0\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"));
        assertTrue(html.contains(">&quot;q&quot; &amp; &#39;a&#39;</span>"));
        assertTrue(html.contains("What is 1 + 2 + 3? &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"));
        assertFalse(html.contains("<b>bold</b>"));
        // The JSON block still carries the exact text (JSON \\u escapes), recoverable by a JSON parser.
        Matcher block = Pattern.compile("<script type=\"application/json\" id=\"example-data\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertTrue(block.find());
        JsonNode data = JSON.readTree(block.group(1));
        assertEquals(RunFixture.HOSTILE, data.get(0).get("tokens").get(2).asText());
        assertEquals(RunFixture.QUOTES, data.get(0).get("tokens").get(5).asText());
        assertEquals("</script><script>x()</script>", data.get(0).get("positions").get(1).get("alternatives").get(1).get("text").asText());
    }

    @Test
    void aHostileDataSetNameIsEscapedInTablesAndPlots() throws IOException {
        RunLayout layout = RunFixture.complete(dir);
        String hostile = "<img src=x onerror=alert(1)> & \"q\"";
        com.fasterxml.jackson.databind.node.ObjectNode eval = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(layout.eval("cft").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) eval.get("datasets").get(1)).put("name", hostile);
        JSON.writeValue(layout.eval("cft").toFile(), eval);
        Report.Written w = Report.write(dir);
        String html = Files.readString(w.html(), StandardCharsets.UTF_8);
        assertFalse(html.contains("<img"), "raw markup from a data set name");
        assertTrue(html.contains("<h3>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;</h3>"));
        // The plot title (drawn by JFreeSVG) carries the name as escaped SVG text.
        assertTrue(html.contains("pass@k on &lt;img src=x onerror=alert(1)&gt; &amp;"), "escaped name in the SVG title");
        JsonNode r = JSON.readTree(w.json().toFile());
        assertEquals(List.of("test", "harder", hostile, "overall"), r.get("results").findValues("dataset").stream().map(JsonNode::asText).toList());
    }

    @Test
    void anUnfinishedRunShowsWhatExistsAndListsWhatIsMissing() throws IOException {
        RunLayout layout = new RunLayout(dir);
        RunFixture.manifest(RunFixture.allStages().subList(0, 2), null).write(layout.manifest());
        RunFixture.writeMasks(layout);
        // cft is half-trained: its metrics file ends in a torn line.
        RunFixture.writeMetrics(layout, "cft", RunFixture.CFT_FRACTIONS);
        Files.writeString(layout.metrics("cft"), "{\"step\":4,\"stage\":\"cf", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        Report.Written w = Report.write(dir);
        JsonNode r = JSON.readTree(w.json().toFile());
        List<String> missing = texts(r.get("missing"));
        assertEquals(List.of("train/sft/metrics.jsonl", "eval/base.json", "eval/sft.json", "eval/cft.json"),
                missing.stream().map(s -> s.substring(0, s.indexOf(' '))).toList(), missing.toString());
        assertEquals(missing, w.missing());
        assertEquals(0, r.get("results").size());
        assertEquals(3, r.get("training").get("cft").get("steps").asInt(), "the torn 4th line is ignored");
        assertTrue(texts(r.get("notes")).stream().anyMatch(n -> n.contains("not finished")));
        assertTrue(texts(r.get("notes")).stream().anyMatch(n -> n.contains("train/cft/metrics.jsonl ends in an incomplete line")));
        assertEquals(List.of("plot-critical-histogram", "plot-loss"), texts(r.get("plots")));
        assertEquals(42.5, r.get("total_stage_seconds").asDouble(), EPS);
        String html = Files.readString(w.html(), StandardCharsets.UTF_8);
        assertTrue(html.contains("Missing from this run"));
        assertTrue(html.contains("eval/cft.json (cft not evaluated yet)"));
        assertTrue(html.contains("No evaluation has finished yet."));
    }

    @Test
    void withoutAManifestObjectivesComeFromTheDirectories() throws IOException {
        RunLayout layout = new RunLayout(dir);
        RunFixture.writeMetrics(layout, "cft", RunFixture.CFT_FRACTIONS);
        RunFixture.evalReport(layout, "cft", 2).writeJson(layout.eval("cft"));
        JsonNode r = JSON.readTree(Report.write(dir).json().toFile());
        assertEquals(List.of("base", "cft"), texts(r.get("models")));
        List<String> missing = texts(r.get("missing"));
        assertTrue(missing.get(0).startsWith("demo.json"), missing.toString());
        assertTrue(missing.stream().anyMatch(s -> s.startsWith("masks.jsonl ")));
        assertTrue(missing.stream().anyMatch(s -> s.startsWith("eval/base.json")));
        assertEquals(0, r.get("stages").size());
        assertTrue(r.get("total_stage_seconds").isNull());
        JsonNode cftRow = r.get("results").get(0).get("rows").get(1);
        assertEquals(5.25, cftRow.get("eval_seconds").asDouble(), EPS, "without stage times, the eval JSON's own timing");
        assertFalse(r.get("masks").get("present").asBoolean());
    }

    @Test
    void malformedInputsNameTheFileAndLine() throws IOException {
        RunLayout layout = RunFixture.complete(dir);
        String good = Files.readString(layout.metrics("cft"));
        Files.writeString(layout.metrics("cft"), good.replaceFirst("\"loss\":[0-9.]+", "\"loss\":\"NaN\""));
        ReportInputException e = assertThrows(ReportInputException.class, () -> Report.write(dir));
        assertTrue(e.getMessage().startsWith(layout.metrics("cft") + ":1: "), e.getMessage());
        assertTrue(e.getMessage().contains("'loss'"), e.getMessage());
        Files.writeString(layout.metrics("cft"), good);

        Path eval = layout.eval("sft");
        String evalJson = Files.readString(eval);
        Files.writeString(eval, evalJson.replaceFirst("\"2\" : [0-9.E-]+", "\"2\" : \"lots\""));
        e = assertThrows(ReportInputException.class, () -> Report.write(dir));
        assertTrue(e.getMessage().startsWith(eval + ": datasets[0].pass_at_k.2"), e.getMessage());
        Files.writeString(eval, "{\"datasets\": [");
        e = assertThrows(ReportInputException.class, () -> Report.write(dir));
        assertTrue(e.getMessage().startsWith(eval + ": not valid JSON"), e.getMessage());
        Files.writeString(eval, evalJson);

        List<String> lines = Files.readAllLines(layout.masks());
        lines.set(1, lines.get(1).replace("\"critical\":[3]", "\"critical\":[99]"));
        Files.write(layout.masks(), lines);
        e = assertThrows(ReportInputException.class, () -> Report.write(dir));
        assertTrue(e.getMessage().startsWith(layout.masks() + ":2: record ex-2: critical position 99 outside"), e.getMessage());
        lines.set(1, "{not json");
        Files.write(layout.masks(), lines);
        e = assertThrows(ReportInputException.class, () -> Report.write(dir));
        assertTrue(e.getMessage().startsWith(layout.masks() + ":2: not a mask record"), e.getMessage());
    }

    @Test
    void theReportSubcommandWritesBothFiles() throws IOException {
        RunFixture.complete(dir);
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"report", dir.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("wrote " + dir.resolve("report.html").toAbsolutePath()));
        assertNotNull(JSON.readTree(dir.resolve("report.json").toFile()).get("results"));
        status = Main.run(new String[] {"report", dir.resolve("nope").toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("nope (not a run directory)"), err.toString(StandardCharsets.UTF_8));
    }

    private static JsonNode datasetNamed(JsonNode eval, String name) {
        for (JsonNode d : eval.get("datasets")) if (d.get("name").asText().equals(name)) return d;
        throw new AssertionError("no data set " + name);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }
}
