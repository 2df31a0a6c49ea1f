package dev.linchpin.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens the fixture run's report.html in headless Chromium (Debian's {@code chromium}, installed by
 * .ci/run) through the DevTools protocol and checks what a reader would see: no console errors or
 * exceptions, the results tables, every plot SVG listed in report.json drawn with a non-empty box,
 * and the tooltip of a critical token (hover and keyboard focus) with its alternatives and what they
 * answered. Leaves a screenshot in target/report-screenshot.png. Skipped when no chromium is installed.
 */
class ReportInChromiumTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration STEP = Duration.ofSeconds(20);

    @TempDir
    Path profile;

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void theReportRendersWithoutErrorsAndTheTooltipsWork() throws Exception {
        String chromium = findChromium();
        Assumptions.assumeTrue(chromium != null,
                "chromium not found (/usr/bin/chromium or chromium on PATH): install Debian's chromium package (.ci/run does) to run this test");
        Path run = Path.of("target", "report-chromium-run").toAbsolutePath();
        deleteTree(run);
        RunFixture.complete(run);
        Report.Written written = Report.write(run);
        List<String> plotIds = new ArrayList<>();
        JSON.readTree(written.json().toFile()).get("plots").forEach(n -> plotIds.add(n.asText()));

        Process browser = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0", "about:blank")
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        try {
            URI page = pageTarget(browser, profile);
            try (DevToolsClient cdp = DevToolsClient.connect(page, STEP)) {
                cdp.call("Runtime.enable", null, STEP);
                cdp.call("Log.enable", null, STEP);
                cdp.call("Page.enable", null, STEP);
                cdp.call("Network.enable", null, STEP);
                cdp.call("Emulation.setDeviceMetricsOverride", DevToolsClient.params().put("width", 1280).put("height", 900)
                        .put("deviceScaleFactor", 1).put("mobile", false), STEP);
                int before = cdp.events.size();
                cdp.call("Page.navigate", DevToolsClient.params().put("url", written.html().toUri().toString()), STEP);
                cdp.awaitEvent("Page.loadEventFired", p -> true, STEP);
                assertTrue(cdp.events.size() > before);

                JsonNode dom = evaluate(cdp, """
                        JSON.stringify({
                          tables: document.querySelectorAll('table.results').length,
                          rows: document.querySelectorAll('table.results tbody tr').length,
                          stageRows: document.querySelectorAll('#stages tbody tr').length,
                          scripts: document.scripts.length,
                          critical: document.querySelectorAll('.example .tok.crit').length,
                          plots: Array.from(document.querySelectorAll('svg.plot')).map(function (s) {
                            var b = s.getBoundingClientRect();
                            return {id: s.id, w: b.width, h: b.height, marks: s.querySelectorAll('path, rect, line, polyline, polygon').length,
                                    texts: s.querySelectorAll('text').length};
                          })
                        })""");
                assertEquals(3, dom.get("tables").asInt(), "one results table per data set (test, harder, overall)");
                assertEquals(9, dom.get("rows").asInt(), "base, sft, cft in each table");
                assertEquals(7, dom.get("stageRows").asInt());
                assertEquals(2, dom.get("scripts").asInt(), "hostile token text must not add script elements");
                assertEquals(3, dom.get("critical").asInt());
                List<String> drawn = new ArrayList<>();
                for (JsonNode p : dom.get("plots")) {
                    drawn.add(p.get("id").asText());
                    assertTrue(p.get("w").asDouble() > 100 && p.get("h").asDouble() > 50, "plot box " + p);
                    assertTrue(p.get("marks").asInt() > 5 && p.get("texts").asInt() > 3, "plot content " + p);
                }
                assertEquals(plotIds, drawn);

                // Hover the first critical token (the hostile one): the tooltip shows its alternatives' answers.
                JsonNode box = evaluate(cdp, """
                        (function () {
                          var t = document.querySelector('.example[data-ex="0"] .tok.crit');
                          t.scrollIntoView({block: 'center'});
                          var b = t.getBoundingClientRect();
                          return JSON.stringify({x: b.left + b.width / 2, y: b.top + b.height / 2, w: b.width, h: b.height});
                        })()""");
                assertTrue(box.get("w").asDouble() > 0 && box.get("h").asDouble() > 0, "token box " + box);
                cdp.call("Input.dispatchMouseEvent", DevToolsClient.params().put("type", "mouseMoved")
                        .put("x", box.get("x").asDouble()).put("y", box.get("y").asDouble()), STEP);
                JsonNode tip = tooltip(cdp);
                assertTrue(tip.get("visible").asBoolean(), "tooltip hidden after hovering: " + tip);
                String text = tip.get("text").asText();
                assertTrue(text.startsWith("\"" + RunFixture.HOSTILE + "\" p = 62.0 %"), text);
                assertTrue(text.contains("critical: every alternative failed"), text);
                assertTrue(text.contains("instead \" 7\" (p = 21.0 %) → 12 (wrong)"), text);
                assertTrue(text.contains("→ no answer (wrong)"), text);
                assertTrue(tip.get("w").asDouble() > 0 && tip.get("h").asDouble() > 0, "tooltip box " + tip);
                assertEquals(2, evaluate(cdp, "JSON.stringify(document.scripts.length)").asInt());

                Path shot = Path.of("target", "report-screenshot.png").toAbsolutePath();
                JsonNode metrics = cdp.call("Page.getLayoutMetrics", null, STEP);
                double height = Math.min(8000, metrics.get("cssContentSize").get("height").asDouble());
                JsonNode png = cdp.call("Page.captureScreenshot", DevToolsClient.params().put("format", "png").put("captureBeyondViewport", true)
                        .set("clip", DevToolsClient.params().put("x", 0).put("y", 0).put("width", 1280).put("height", height).put("scale", 1)), STEP);
                Files.write(shot, Base64.getDecoder().decode(png.get("data").asText()));

                // Keyboard: focusing a critical token of the second example shows its tooltip too.
                evaluate(cdp, "document.querySelector('.example[data-ex=\"1\"] .tok.crit').focus(); JSON.stringify(true)");
                tip = tooltip(cdp);
                assertTrue(tip.get("visible").asBoolean(), "tooltip hidden after focus: " + tip);
                assertTrue(tip.get("text").asText().startsWith("\" =\" p = 70.0 %"), tip.toString());
                assertTrue(tip.get("text").asText().contains("instead \" -\" (p = 5.0 %) → -2 (wrong)"), tip.toString());

                Thread.sleep(300);   // let late console messages arrive
                List<String> errors = errors(cdp.events);
                assertTrue(errors.isEmpty(), "console errors: " + errors);
                // Self-contained: the page itself is the only request (no fonts, scripts or images fetched).
                List<String> requests = new ArrayList<>();
                for (JsonNode e : cdp.events) {
                    if (e.path("method").asText().equals("Network.requestWillBeSent")) requests.add(e.path("params").path("request").path("url").asText());
                }
                assertEquals(List.of(written.html().toUri().toString()), requests);

                // The error collection is not blind: a console.error from the page is seen.
                evaluate(cdp, "console.error('probe from the test'); JSON.stringify(true)");
                cdp.awaitEvent("Runtime.consoleAPICalled", p -> p.path("type").asText().equals("error"), STEP);
                assertEquals(1, errors(cdp.events).size(), errors(cdp.events).toString());
            }
        } finally {
            browser.descendants().forEach(ProcessHandle::destroyForcibly);
            browser.destroyForcibly();
            browser.waitFor(10, TimeUnit.SECONDS);
        }
        assertFalse(browser.isAlive());
    }

    private static JsonNode tooltip(DevToolsClient cdp) throws Exception {
        return evaluate(cdp, """
                (function () {
                  var t = document.getElementById('tip'), b = t.getBoundingClientRect();
                  return JSON.stringify({visible: !t.hidden && getComputedStyle(t).display !== 'none' && getComputedStyle(t).visibility !== 'hidden',
                                         text: t.textContent, w: b.width, h: b.height});
                })()""");
    }

    /** Evaluates an expression that returns a JSON string, and parses it. */
    private static JsonNode evaluate(DevToolsClient cdp, String expression) throws Exception {
        JsonNode r = cdp.call("Runtime.evaluate", DevToolsClient.params().put("expression", expression).put("returnByValue", true), STEP);
        if (r.has("exceptionDetails")) throw new AssertionError("page script failed: " + r.get("exceptionDetails"));
        return JSON.readTree(r.get("result").get("value").asText());
    }

    /** Uncaught exceptions, console.error/assert calls and error log entries. */
    private static List<String> errors(List<JsonNode> events) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : events) {
            String m = e.path("method").asText();
            JsonNode p = e.path("params");
            if (m.equals("Runtime.exceptionThrown")) out.add("exception: " + p.path("exceptionDetails"));
            if (m.equals("Runtime.consoleAPICalled") && (p.path("type").asText().equals("error") || p.path("type").asText().equals("assert"))) {
                out.add("console." + p.path("type").asText() + ": " + p.path("args"));
            }
            if (m.equals("Log.entryAdded") && p.path("entry").path("level").asText().equals("error")) out.add("log: " + p.path("entry"));
            if (m.equals("client.unparsable")) out.add("unparsable DevTools message");
        }
        return out;
    }

    /** Reads DevToolsActivePort (written once the browser listens) and finds the page target's WebSocket URL. */
    private static URI pageTarget(Process browser, Path profile) throws Exception {
        Path portFile = profile.resolve("DevToolsActivePort");
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        while (System.nanoTime() < end) {
            if (!browser.isAlive()) throw new AssertionError("chromium exited with " + browser.exitValue() + ": " + log(profile));
            if (Files.exists(portFile)) {
                List<String> lines = Files.readAllLines(portFile);
                if (!lines.isEmpty() && !lines.get(0).isBlank()) {
                    HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + lines.get(0).trim() + "/json/list"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    for (JsonNode t : JSON.readTree(list.body())) {
                        if ("page".equals(t.path("type").asText())) return URI.create(t.get("webSocketDebuggerUrl").asText());
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("chromium opened no DevTools page target within 30 s: " + log(profile));
    }

    private static String log(Path profile) {
        try {
            String s = Files.readString(profile.resolve("chromium.log"), StandardCharsets.UTF_8);
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (java.io.IOException e) {
            return "(no log)";
        }
    }

    private static String findChromium() {
        if (Files.isExecutable(Path.of("/usr/bin/chromium"))) return "/usr/bin/chromium";
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            for (String name : List.of("chromium", "chromium-browser")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return p.toString();
            }
        }
        return null;
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
