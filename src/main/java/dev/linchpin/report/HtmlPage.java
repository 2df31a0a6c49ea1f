package dev.linchpin.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.rundir.RunManifest;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code report.html}: one self-contained page (inline CSS, inline SVG plots, a small inline script for
 * the token tooltips, data as inline JSON). Every text that comes from the run's files is HTML-escaped
 * ({@link Html#escape}); the tooltip script writes text with {@code textContent} only.
 */
final class HtmlPage {
    private HtmlPage() {}

    static String render(ReportModel m, List<String> findings) {
        RunData d = m.data();
        StringBuilder b = new StringBuilder(64 * 1024);
        String title = "Linchpin report" + (d.manifest() != null && d.manifest().name() != null ? " — " + d.manifest().name() : "");
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(Html.escape(title)).append("</title>\n")
                // An inline empty icon: no favicon request (the page must need nothing outside itself).
                .append("<link rel=\"icon\" href=\"data:,\">\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n<main>\n");
        b.append("<h1>").append(Html.escape(title)).append("</h1>\n");
        answer(b, m);

        b.append("<section id=\"findings\"><h2>What this shows</h2>\n");
        for (String f : findings) b.append("<p>").append(Html.escape(f)).append("</p>\n");
        b.append("</section>\n");
        if (!d.missing().isEmpty() || !d.notes().isEmpty()) {
            b.append("<section id=\"missing\" class=\"notice\"><h2>Missing from this run</h2>\n<ul>\n");
            for (String s : d.missing()) b.append("<li>").append(Html.escape(s)).append("</li>\n");
            for (String s : d.notes()) b.append("<li class=\"note\">").append(Html.escape(s)).append("</li>\n");
            b.append("</ul>\n</section>\n");
        }

        b.append("<section id=\"results\"><h2>Results</h2>\n");
        if (m.datasets().isEmpty()) b.append("<p class=\"empty\">No evaluation has finished yet.</p>\n");
        for (String ds : m.datasets()) resultsTable(b, m, ds);
        b.append("<p class=\"legend\">Greedy and pass@k in percent of questions (pass@k: unbiased estimator over the eval's samples); ")
                .append("entropy: mean next-token entropy of sampled tokens, nats; trained-token fraction: mean over optimizer steps ")
                .append("of the share of response tokens that carry loss (train/&lt;objective&gt;/metrics.jsonl).</p>\n</section>\n");

        stagesTable(b, m);
        trainingTable(b, m);
        plots(b, m);
        mining(b, m);
        examples(b, d);
        b.append("<details id=\"settings\"><summary>Settings and environment</summary>\n");
        runFacts(b, d);
        b.append("</details>\n");
        b.append("</main>\n<div id=\"tip\" role=\"tooltip\" hidden></div>\n");
        b.append("<script type=\"application/json\" id=\"example-data\">").append(Html.scriptJson(ReportJson.text(examplesJson(d))))
                .append("</script>\n<script>\n").append(SCRIPT).append("</script>\n</body>\n</html>\n");
        return b.toString();
    }

    /** The experiment's answer first: the accuracy chart with intervals, the paired differences in words, the per-objective table. */
    private static void answer(StringBuilder b, ReportModel m) {
        Experiment x = m.experiment();
        b.append("<section id=\"answer\"><h2>The answer</h2>\n");
        if (x.metrics().isEmpty()) {
            b.append("<p class=\"empty\">No evaluation has finished yet.</p>\n</section>\n");
            return;
        }
        figure(b, Charts.accuracy(m, "plot-accuracy"), "Greedy accuracy per objective: mean over seeds, with the 95 % bootstrap interval "
                + "of the mean (questions and seeds resampled); one colour per data set.");
        b.append("<ul class=\"answers\">\n");
        for (String sentence : Findings.answers(x)) b.append("<li>").append(Html.escape(sentence)).append("</li>\n");
        b.append("</ul>\n");
        b.append("<table id=\"objectives\">\n<thead><tr><th>objective</th><th>seeds</th>");
        for (Experiment.MetricBlock blk : x.metrics()) {
            b.append("<th>").append(Html.escape(blk.dataset() + " " + blk.metric())).append("</th>");
        }
        b.append("</tr></thead>\n<tbody>\n");
        for (String o : x.objectives().keySet()) {
            b.append("<tr><th scope=\"row\">").append(Html.escape(o)).append("</th>")
                    .append(td(x.seeds().get(o).isEmpty() ? "–" : Integer.toString(x.seeds().get(o).size())));
            for (Experiment.MetricBlock blk : x.metrics()) {
                Experiment.Summary s = blk.byObjective().get(o);
                b.append(td(s == null ? "–" : String.format(Locale.ROOT, "%.1f ± %.1f [%.1f, %.1f]", 100 * s.mean(), 100 * s.std(),
                        100 * s.lo(), 100 * s.hi())));
            }
            b.append("</tr>\n");
        }
        b.append("</tbody>\n</table>\n<p class=\"legend\">Percent: mean over seeds ± standard deviation over seeds, and the 95 % ")
                .append("bootstrap interval of the mean (").append(PairedBootstrap.B).append(" resamples of questions and seeds).</p>\n");
        b.append("<table id=\"differences\">\n<thead><tr><th>comparison</th><th>data set</th><th>metric</th><th>difference (points)</th>")
                .append("<th>95 % interval</th></tr></thead>\n<tbody>\n");
        for (Experiment.Difference df : x.differences()) {
            b.append("<tr>").append(td(Experiment.upper(df.a()) + " − " + Experiment.upper(df.b()))).append(td(df.dataset()))
                    .append(td(df.metric())).append(td(String.format(Locale.ROOT, "%+.1f", 100 * df.interval().mean())))
                    .append(td(String.format(Locale.ROOT, "[%.1f, %.1f]", 100 * df.interval().lo(), 100 * df.interval().hi()))).append("</tr>\n");
        }
        b.append("</tbody>\n</table>\n<p class=\"legend\">Paired bootstrap: seed s of one objective is paired with seed s of the other ")
                .append("(same data order), and every question with itself; the base's one evaluation pairs with every seed.</p>\n</section>\n");
    }

    private static void runFacts(StringBuilder b, RunData d) {
        b.append("<dl class=\"facts\">\n");
        fact(b, "run directory", d.layout().root().toString());
        RunManifest man = d.manifest();
        if (man != null) {
            fact(b, "base model", man.baseModel());
            fact(b, "objectives", String.join(", ", man.objectives()));
            fact(b, "sizes", man.quick() ? "--quick" : "full");
            fact(b, "started", man.startedAt());
            fact(b, "finished", man.finishedAt() == null ? "not finished" : man.finishedAt());
            man.settings().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> fact(b, e.getKey(), e.getValue()));
            man.environment().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> fact(b, e.getKey(), e.getValue()));
        }
        b.append("</dl>\n");
    }

    private static void fact(StringBuilder b, String k, String v) {
        b.append("<dt>").append(Html.escape(k)).append("</dt><dd>").append(Html.escape(v == null ? "–" : v)).append("</dd>\n");
    }

    private static void resultsTable(StringBuilder b, ReportModel m, String ds) {
        b.append("<h3>").append(Html.escape(ds)).append("</h3>\n<table class=\"results\" id=\"results-").append(Html.slug(ds))
                .append("-").append(m.datasets().indexOf(ds)).append("\" data-dataset=\"").append(Html.escape(ds)).append("\">\n<thead><tr>")
                .append("<th>model</th><th>questions</th><th>greedy</th>");
        for (int k : m.ks()) b.append("<th>pass@").append(k).append("</th>");
        b.append("<th>entropy</th><th>trained-token fraction</th><th>train time</th><th>eval time</th></tr></thead>\n<tbody>\n");
        List<String> models = m.data().models();
        for (ReportModel.ResultRow r : m.tables().get(ds)) {
            b.append("<tr><th scope=\"row\"><span class=\"swatch\" style=\"background:")
                    .append(hex(Charts.color(models.indexOf(r.model())))).append("\"></span>").append(Html.escape(r.model())).append("</th>")
                    .append(td(r.questions() == null ? "–" : Integer.toString(r.questions())))
                    .append(td(Html.percent(r.greedyAccuracy())));
            for (int k : m.ks()) b.append(td(Html.percent(r.passAtK().get(k))));
            b.append(td(Html.number(r.entropy(), 3))).append(td(Html.percent(r.trainedTokenFraction())))
                    .append(td(Html.seconds(r.trainSeconds()))).append(td(Html.seconds(r.evalSeconds()))).append("</tr>\n");
        }
        b.append("</tbody>\n</table>\n");
    }

    private static void stagesTable(StringBuilder b, ReportModel m) {
        b.append("<section id=\"stage-times\"><h2>Stage wall times</h2>\n");
        RunManifest man = m.data().manifest();
        if (man == null || man.stages().isEmpty()) {
            b.append("<p class=\"empty\">No stage has been recorded (demo.json ").append(man == null ? "is missing" : "lists no stages").append(").</p>\n</section>\n");
            return;
        }
        b.append("<table id=\"stages\">\n<thead><tr><th>stage</th><th>model</th><th>wall time</th><th>output</th></tr></thead>\n<tbody>\n");
        for (RunManifest.Stage s : man.stages()) {
            b.append("<tr>").append(td(s.name())).append(td(s.model() == null ? "–" : s.model()))
                    .append(td(Html.seconds(s.seconds()))).append(td(s.output() == null ? "–" : s.output())).append("</tr>\n");
        }
        b.append("</tbody>\n<tfoot><tr><th>total</th><td></td>").append(td(Html.seconds(m.totalStageSeconds()))).append("<td></td></tr></tfoot>\n</table>\n</section>\n");
    }

    /** Per objective and training stage (SFTKey has two): steps, trained-token fraction, throughput, final loss. */
    private static void trainingTable(StringBuilder b, ReportModel m) {
        if (m.data().metrics().isEmpty()) return;
        b.append("<section id=\"training\"><h2>Training</h2>\n<table id=\"training-table\">\n<thead><tr><th>objective</th><th>stage</th>")
                .append("<th>steps</th><th>trained-token fraction</th><th>tokens/s</th><th>final loss</th></tr></thead>\n<tbody>\n");
        for (TrainMetrics t : m.data().metrics().values()) {
            for (TrainMetrics.StageSummary s : t.stageSummaries()) {
                b.append("<tr><th scope=\"row\">").append(Html.escape(t.objective())).append("</th>").append(td(s.stage()))
                        .append(td(Integer.toString(s.steps()))).append(td(Html.percent(s.meanTrainedTokenFraction())))
                        .append(td(Html.number(s.meanTokensPerS(), 0))).append(td(Html.number(s.finalLoss(), 4))).append("</tr>\n");
            }
        }
        b.append("</tbody>\n</table>\n<p class=\"legend\">Means over each stage's optimizer steps (train/&lt;objective&gt;/metrics.jsonl).</p>\n</section>\n");
    }

    private static void plots(StringBuilder b, ReportModel m) {
        b.append("<section id=\"plots\"><h2>Plots</h2>\n<div class=\"grid\">\n");
        for (String ds : m.passAtKDatasets()) figure(b, Charts.passAtK(m, ds, m.passAtKPlotId(ds)),
                "pass@k against k (log₂ scale) on " + ds + ", one line per model.");
        if (m.hasEntropy()) figure(b, Charts.entropy(m, "plot-entropy"), "Mean next-token entropy of the sampled outputs per model and data set.");
        if (m.histogram() != null) figure(b, Charts.criticalHistogram(m.histogram(), "plot-critical-histogram"),
                "Per kept example: critical tokens / response tokens (masks.jsonl).");
        if (m.hasLoss()) figure(b, Charts.loss(m, "plot-loss"), "Training loss per optimizer step (metrics.jsonl), one line per objective.");
        b.append("</div>\n");
        if (m.plotIds().isEmpty()) b.append("<p class=\"empty\">No data to plot yet.</p>\n");
        b.append("</section>\n");
    }

    private static void figure(StringBuilder b, String svg, String caption) {
        b.append("<figure>").append(svg).append("<figcaption>").append(Html.escape(caption)).append("</figcaption></figure>\n");
    }

    private static void mining(StringBuilder b, ReportModel m) {
        MaskStats s = m.data().masks();
        b.append("<section id=\"mining\"><h2>Mining</h2>\n");
        if (s == null) {
            b.append("<p class=\"empty\">masks.jsonl is missing.</p>\n</section>\n");
            return;
        }
        b.append("<table id=\"mining-table\"><tbody>\n");
        row(b, "examples mined", Long.toString(s.examples()));
        row(b, "kept (verified correct)", Long.toString(s.kept()));
        row(b, "response tokens of kept examples", Long.toString(s.responseTokens()));
        row(b, "examined positions", Long.toString(s.examined()));
        row(b, "critical tokens", Long.toString(s.critical()));
        row(b, "critical fraction (Σ critical / Σ response tokens)", Html.percent(s.criticalFraction()));
        com.fasterxml.jackson.databind.JsonNode o = m.experiment().entropyOverlap();
        if (o != null) {
            row(b, "critical tokens that are also top-entropy (same density)", Html.percent(o.path("critical_also_high_entropy").asDouble()));
            row(b, "… expected by chance (uniform positions)", Html.percent(o.path("chance_fraction").asDouble()));
            row(b, "Jaccard(critical, top-entropy), pooled", Html.number(o.path("jaccard").asDouble(), 3));
        }
        b.append("</tbody></table>\n</section>\n");
    }

    private static void row(StringBuilder b, String k, String v) {
        b.append("<tr><th scope=\"row\">").append(Html.escape(k)).append("</th>").append(td(v)).append("</tr>\n");
    }

    private static void examples(StringBuilder b, RunData d) {
        b.append("<section id=\"examples\"><h2>Example solutions</h2>\n");
        if (d.masks() == null || d.masks().shown().isEmpty()) {
            b.append("<p class=\"empty\">No kept example to show.</p>\n</section>\n");
            return;
        }
        b.append("<p class=\"legend\">Critical tokens are <span class=\"tok crit\">highlighted</span>. Hover or focus (Tab) a token to see ")
                .append("its probability, its alternatives and what each continuation answered.</p>\n");
        List<MaskRecord> shown = d.masks().shown();
        for (int i = 0; i < shown.size(); i++) {
            MaskRecord r = shown.get(i);
            Set<Integer> critical = new HashSet<>(r.critical());
            Set<Integer> examined = new HashSet<>();
            for (MaskRecord.Position p : r.positions()) examined.add(p.t());
            b.append("<article class=\"example\" data-ex=\"").append(i).append("\">\n<h3>").append(Html.escape(r.id())).append("</h3>\n")
                    .append("<p class=\"question\">").append(Html.escape(r.question())).append("</p>\n")
                    .append(String.format(Locale.ROOT, "<p class=\"meta\">gold %s · answer %s · %d of %d response tokens critical</p>%n",
                            Html.escape(r.gold()), Html.escape(r.answer() == null ? "none" : r.answer()), r.critical().size(), r.responseIds().length))
                    .append("<pre class=\"response\">");
            for (int t = 0; t < r.responseTokens().size(); t++) {
                b.append("<span class=\"tok").append(critical.contains(t) ? " crit" : "").append("\" data-t=\"").append(t).append('"');
                if (examined.contains(t)) b.append(" tabindex=\"0\"");
                b.append('>').append(Html.escape(r.responseTokens().get(t))).append("</span>");
            }
            b.append("</pre>\n</article>\n");
        }
        b.append("</section>\n");
    }

    /** The tooltip data: per shown example, its tokens and every examined position. */
    private static ArrayNode examplesJson(RunData d) {
        ArrayNode all = ReportJson.JSON.createArrayNode();
        if (d.masks() == null) return all;
        for (MaskRecord r : d.masks().shown()) {
            ObjectNode ex = all.addObject();
            ex.put("id", r.id());
            ArrayNode tokens = ex.putArray("tokens");
            r.responseTokens().forEach(tokens::add);
            ArrayNode positions = ex.putArray("positions");
            for (MaskRecord.Position p : r.positions()) {
                ObjectNode o = positions.addObject();
                o.put("t", p.t());
                if (p.p() == null) o.putNull("p");
                else o.put("p", p.p());
                o.put("critical", p.critical());
                ArrayNode alts = o.putArray("alternatives");
                for (MaskRecord.Alternative a : p.alternatives()) {
                    ObjectNode ao = alts.addObject();
                    ao.put("text", a.text());
                    ao.put("p", a.p());
                    ao.put("failed", a.failed());
                    ArrayNode conts = ao.putArray("continuations");
                    for (MaskRecord.Continuation c : a.continuations()) {
                        ObjectNode co = conts.addObject();
                        co.put("answer", c.answer());
                        co.put("correct", c.correct());
                    }
                }
            }
        }
        return all;
    }

    private static String td(String text) {
        return "<td>" + Html.escape(text) + "</td>";
    }

    private static String hex(java.awt.Color c) {
        return String.format(Locale.ROOT, "#%06x", c.getRGB() & 0xffffff);
    }

    private static final String CSS = """
            :root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --crit: #fee2e2; --critline: #dc2626; }
            * { box-sizing: border-box; }
            body { margin: 0; color: var(--fg); background: #f9fafb; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
            main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 64px; }
            h1 { font-size: 26px; margin: 0 0 12px; }
            h2 { font-size: 20px; margin: 32px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
            h3 { font-size: 16px; margin: 18px 0 6px; }
            .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; color: var(--muted); font-size: 13px; }
            .facts dt { font-weight: 600; } .facts dd { margin: 0; word-break: break-all; }
            .notice { background: #fffbeb; border: 1px solid #fcd34d; border-radius: 6px; padding: 4px 16px; margin-top: 20px; }
            .notice h2 { border: 0; margin-top: 8px; font-size: 16px; } .note { color: var(--muted); }
            table { border-collapse: collapse; background: #fff; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
            th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: right; }
            thead th { background: #f3f4f6; font-weight: 600; }
            tbody th, tfoot th { text-align: left; font-weight: 600; }
            #stages td:first-child, #stages td:nth-child(2), #stages td:last-child, #stages thead th { text-align: left; }
            #training-table td:nth-child(2) { text-align: left; }
            .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
            .legend, .empty, figcaption { color: var(--muted); font-size: 13px; }
            .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
            figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
            svg.plot { display: block; width: 100%; height: auto; }
            .example { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 16px 12px; margin-bottom: 14px; }
            .question { font-weight: 500; } .meta { color: var(--muted); font-size: 13px; margin: 0; }
            pre.response { white-space: pre-wrap; word-break: break-word; font: 14px/1.7 ui-monospace, "DejaVu Sans Mono", monospace; margin: 8px 0 0; }
            .tok[tabindex] { cursor: help; border-radius: 2px; }
            .tok[tabindex]:hover, .tok[tabindex]:focus { outline: 1px solid #93c5fd; background: #eff6ff; }
            .tok.crit { background: var(--crit); border-bottom: 2px solid var(--critline); font-weight: 700; }
            #tip { position: absolute; z-index: 10; max-width: 440px; background: #111827; color: #f9fafb; border-radius: 6px;
                   padding: 8px 10px; font-size: 13px; line-height: 1.45; box-shadow: 0 4px 14px rgba(0,0,0,.25); pointer-events: none; }
            #tip[hidden] { display: none; }
            #tip .head { font-weight: 600; margin-bottom: 4px; } #tip .crit-label { color: #fca5a5; }
            #tip ul { margin: 0; padding-left: 16px; } #tip .right { color: #86efac; } #tip .wrong { color: #fca5a5; }
            #tip code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; background: rgba(255,255,255,.1); padding: 0 3px; border-radius: 3px; }
            """;

    /** Builds the tooltip from the JSON block with textContent only (token text is untrusted). */
    private static final String SCRIPT = """
            (function () {
              'use strict';
              var data = JSON.parse(document.getElementById('example-data').textContent);
              var tip = document.getElementById('tip');
              var byT = data.map(function (ex) {
                var m = {};
                ex.positions.forEach(function (p) { m[p.t] = p; });
                return m;
              });
              function el(tag, cls, text) {
                var e = document.createElement(tag);
                if (cls) e.className = cls;
                if (text !== undefined) e.textContent = text;
                return e;
              }
              function pct(p) { return p === null || p === undefined ? 'n/a' : (100 * p).toFixed(1) + ' %'; }
              function shown(s) { return JSON.stringify(s); }
              function show(tok) {
                var ex = tok.closest('.example');
                if (!ex) return;
                var i = Number(ex.getAttribute('data-ex')), t = Number(tok.getAttribute('data-t'));
                var pos = byT[i] && byT[i][t];
                if (!pos) { hide(); return; }
                tip.textContent = '';
                var head = el('div', 'head');
                head.appendChild(el('code', null, shown(data[i].tokens[t])));
                head.appendChild(document.createTextNode(' p = ' + pct(pos.p) + ' · '));
                head.appendChild(el('span', pos.critical ? 'crit-label' : null, pos.critical ? 'critical: every alternative failed' : 'not critical'));
                tip.appendChild(head);
                var list = el('ul');
                pos.alternatives.forEach(function (a) {
                  var li = el('li');
                  li.appendChild(document.createTextNode('instead '));
                  li.appendChild(el('code', null, shown(a.text)));
                  li.appendChild(document.createTextNode(' (p = ' + pct(a.p) + ') → '));
                  a.continuations.forEach(function (c, j) {
                    if (j > 0) li.appendChild(document.createTextNode(', '));
                    li.appendChild(el('span', c.correct ? 'right' : 'wrong',
                        (c.answer === null ? 'no answer' : c.answer) + (c.correct ? ' (right)' : ' (wrong)')));
                  });
                  list.appendChild(li);
                });
                tip.appendChild(list);
                tip.hidden = false;
                var r = tok.getBoundingClientRect();
                var left = Math.max(4, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 4));
                tip.style.left = left + 'px';
                tip.style.top = (r.bottom + window.scrollY + 6) + 'px';
              }
              function hide() { tip.hidden = true; }
              function tokenOf(target) { return target && target.closest ? target.closest('.tok[tabindex]') : null; }
              document.addEventListener('mouseover', function (e) { var t = tokenOf(e.target); if (t) show(t); else hide(); });
              document.addEventListener('focusin', function (e) { var t = tokenOf(e.target); if (t) show(t); });
              document.addEventListener('focusout', hide);
              document.addEventListener('keydown', function (e) { if (e.key === 'Escape') hide(); });
            })();
            """;
}
