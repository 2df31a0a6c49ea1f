package dev.linchpin.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.cli.Main;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.verify.Verifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin eval} end to end on the tiny fixture model, each metric checked against an
 * independent computation: greedy responses re-decoded with the Java model ({@link Generation#greedy})
 * and re-judged by the {@link Verifier}; pass@k from the sample verdicts recomputed by the Verifier and
 * exact binomials; entropy re-averaged from the per-sample detail; overall as a micro-average.
 */
class EvalEndToEndTest {
    static final int N = 4;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model, alpha, beta, report;
    static Result first;

    record Result(int status, String out, String err) {}

    @BeforeAll
    static void evaluateOnce() throws IOException {
        model = EvalFixture.model(dir.resolve("tiny"));
        alpha = dir.resolve("alpha.jsonl");
        beta = dir.resolve("beta.jsonl");
        EvalFixture.writeData(alpha, 0, 6, model);
        EvalFixture.writeData(beta, 6, 5, model);
        report = dir.resolve("out/eval.json");
        first = eval(report, "--batch-size", "4", "--max-branches", "16");
        assertEquals(0, first.status(), first.err());
    }

    /** Runs {@code linchpin eval} on alpha and beta; {@code overrides} are option/value pairs replacing the base ones. */
    static Result eval(Path out, String... overrides) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("--model", model.toString());
        options.put("--data", alpha + "," + beta);
        options.put("--out", out.toString());
        options.put("--samples", String.valueOf(N));
        options.put("--k", "1,2,4");
        options.put("--temperature", "1.0");
        options.put("--top-p", "1");
        options.put("--seed", "11");
        options.put("--max-new-tokens", String.valueOf(EvalFixture.MAX_NEW));
        options.put("--threads", "1");
        options.put("--kv-budget-mb", "64");
        options.put("--progress", "log");
        for (int i = 0; i < overrides.length; i += 2) options.put(overrides[i], overrides[i + 1]);
        List<String> args = new ArrayList<>(List.of("eval"));
        options.forEach((k, v) -> args.addAll(List.of(k, v)));
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Result(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void greedyAccuracyEqualsTheJavaModelsGreedyDecodingJudgedByTheVerifier() throws IOException {
        JsonNode root = JSON.readTree(report.toFile());
        CausalLM java = EvalFixture.javaModel(model);
        Verifier verifier = new Verifier();
        int correctAll = 0, totalAll = 0;
        try (Tokenizer tok = Tokenizer.load(model)) {
            for (JsonNode set : root.get("datasets")) {
                int correct = 0;
                for (JsonNode q : set.get("detail")) {
                    String question = EvalFixture.question(Integer.parseInt(q.get("id").asText().substring(2)));
                    long[] response = Generation.greedy(java, EvalFixture.prompt(tok, question), EvalFixture.MAX_NEW, new long[] {0});
                    String text = tok.decode(response, true);
                    boolean ok = verifier.verify(text, q.get("gold").asText()).correct();
                    assertEquals(text, q.get("greedy").get("text").asText(), q.get("id").asText());
                    assertEquals(response.length, q.get("greedy").get("tokens").asInt());
                    assertEquals(ok, q.get("greedy").get("correct").asBoolean());
                    if (ok) correct++;
                }
                int total = set.get("detail").size();
                assertEquals(total, set.get("questions").asInt());
                assertEquals(correct, set.get("greedy_correct").asInt());
                assertEquals((double) correct / total, set.get("greedy_accuracy").asDouble(), 1e-12);
                correctAll += correct;
                totalAll += total;
            }
        }
        assertEquals(11, totalAll);
        assertTrue(correctAll > 0 && correctAll < totalAll, "fixture gold answers must make some greedy responses right, some wrong");
        assertEquals((double) correctAll / totalAll, root.get("overall").get("greedy_accuracy").asDouble(), 1e-12);
    }

    @Test
    void passAtKAndEntropyEqualRecomputationsFromTheSampledVerdicts() throws IOException {
        JsonNode root = JSON.readTree(report.toFile());
        Verifier verifier = new Verifier();
        double maxEntropy = Math.log(EvalFixture.javaModel(model).config().vocabSize());
        int[] ks = {1, 2, 4};
        double[] passAll = new double[ks.length];
        double entropyTokensAll = 0;
        long tokensAll = 0;
        int questionsAll = 0;
        for (JsonNode set : root.get("datasets")) {
            double[] pass = new double[ks.length];
            double entropyTokens = 0;
            long tokens = 0;
            for (JsonNode q : set.get("detail")) {
                assertEquals(N, q.get("samples").size());
                int c = 0;
                for (JsonNode s : q.get("samples")) {
                    boolean ok = verifier.verify(s.get("text").asText(), q.get("gold").asText()).correct();
                    assertEquals(ok, s.get("correct").asBoolean());
                    if (ok) c++;
                    int t = s.get("tokens").asInt();
                    assertTrue(t >= 1 && t <= EvalFixture.MAX_NEW);
                    double h = s.get("mean_entropy").asDouble();
                    assertTrue(h >= 0 && h <= maxEntropy + 1e-9, "entropy within [0, log vocab]: " + h);
                    entropyTokens += h * t;
                    tokens += t;
                }
                assertEquals(c, q.get("correct_samples").asInt());
                for (int j = 0; j < ks.length; j++) pass[j] += exactPassAtK(N, c, ks[j]);
            }
            int questions = set.get("detail").size();
            for (int j = 0; j < ks.length; j++) {
                assertEquals(pass[j] / questions, set.get("pass_at_k").get(Integer.toString(ks[j])).asDouble(), 1e-12);
                passAll[j] += pass[j];
            }
            assertEquals(entropyTokens / tokens, set.get("entropy").asDouble(), 1e-12);
            assertEquals(tokens, set.get("sample_tokens").asLong());
            entropyTokensAll += entropyTokens;
            tokensAll += tokens;
            questionsAll += questions;
        }
        JsonNode overall = root.get("overall");
        for (int j = 0; j < ks.length; j++) {
            assertEquals(passAll[j] / questionsAll, overall.get("pass_at_k").get(Integer.toString(ks[j])).asDouble(), 1e-12);
        }
        assertEquals(entropyTokensAll / tokensAll, overall.get("entropy").asDouble(), 1e-12);
        assertTrue(overall.get("entropy").asDouble() > 0, "T = 1 samples of a random model have positive entropy");
    }

    @Test
    void tableListsEveryDataSetAndOverallWithTheJsonsNumbers() throws IOException {
        JsonNode root = JSON.readTree(report.toFile());
        String[] lines = first.out().split("\n");
        assertTrue(lines[0].matches("data set\\s+questions\\s+greedy\\s+pass@1\\s+pass@2\\s+pass@4\\s+entropy"), lines[0]);
        String[] names = {"alpha", "beta", "overall"};
        JsonNode[] scores = {root.get("datasets").get(0), root.get("datasets").get(1), root.get("overall")};
        for (int i = 0; i < 3; i++) {
            String[] cells = lines[1 + i].trim().split("\\s+");
            assertEquals(names[i], cells[0]);
            assertEquals(scores[i].get("questions").asText(), cells[1]);
            assertEquals(String.format(java.util.Locale.ROOT, "%.1f%%", 100 * scores[i].get("greedy_accuracy").asDouble()), cells[2]);
            assertEquals(String.format(java.util.Locale.ROOT, "%.3f", scores[i].get("entropy").asDouble()), cells[6]);
        }
        assertTrue(first.out().contains("wrote " + report), first.out());
        assertTrue(first.err().contains("eval: 11 questions"), first.err());
    }

    @Test
    void deterministicUnderTheSeed() throws IOException {
        Path again = dir.resolve("again.json");
        Result r = eval(again, "--batch-size", "4", "--max-branches", "16");
        assertEquals(0, r.status(), r.err());
        ObjectNode a = (ObjectNode) JSON.readTree(report.toFile()), b = (ObjectNode) JSON.readTree(again.toFile());
        assertTrue(a.get("timing").get("wall_seconds").asDouble() > 0);
        a.remove("timing");
        b.remove("timing");
        assertEquals(a, b);
        assertTrue(Files.list(report.getParent()).allMatch(p -> p.getFileName().toString().equals("eval.json")),
                "no temporary file is left next to the report");

        // Another seed draws other samples; greedy responses do not depend on it.
        Path other = dir.resolve("other-seed.json");
        r = eval(other, "--seed", "12");
        assertEquals(0, r.status(), r.err());
        JsonNode c = JSON.readTree(other.toFile());
        assertFalse(texts(a, "samples").equals(texts(c, "samples")));
        assertEquals(texts(a, "greedy"), texts(c, "greedy"));
    }

    /**
     * Other batching (questions per prefill, sequences decoding at once) gives the same responses and
     * verdicts: sampling depends only on (seed, request id, step). Entropies agree to float rounding
     * only: the engine's batched fp32 arithmetic sums in a batch-dependent order.
     */
    @Test
    void batchingChangesNoResponseAndEntropyOnlyByRounding() throws IOException {
        Path rebatched = dir.resolve("rebatched.json");
        Result r = eval(rebatched, "--batch-size", "3", "--max-branches", "5");
        assertEquals(0, r.status(), r.err());
        JsonNode a = JSON.readTree(report.toFile()), b = JSON.readTree(rebatched.toFile());
        assertEquals(texts(a, "samples"), texts(b, "samples"));
        assertEquals(texts(a, "greedy"), texts(b, "greedy"));
        assertEquals(a.get("overall").get("pass_at_k"), b.get("overall").get("pass_at_k"));
        assertEquals(a.get("overall").get("greedy_correct"), b.get("overall").get("greedy_correct"));
        assertEquals(a.get("overall").get("entropy").asDouble(), b.get("overall").get("entropy").asDouble(), 1e-5);
    }

    /** Every response text with its verdict, in report order, of the greedy responses or the samples. */
    static List<String> texts(JsonNode root, String which) {
        List<String> out = new ArrayList<>();
        for (JsonNode set : root.get("datasets")) {
            for (JsonNode q : set.get("detail")) {
                JsonNode node = q.get(which);
                for (JsonNode s : node.isArray() ? node : List.of(node)) out.add(s.get("correct").asBoolean() + " " + s.get("text").asText());
            }
        }
        return out;
    }

    @Test
    void maxExamplesTakesTheHeadOfEachDataSet() throws IOException {
        Path head = dir.resolve("head.json");
        Result r = eval(head, "--max-examples", "2", "--k", "1");
        assertEquals(0, r.status(), r.err());
        JsonNode root = JSON.readTree(head.toFile());
        assertEquals("q-000", root.get("datasets").get(0).get("detail").get(0).get("id").asText());
        assertEquals("q-006", root.get("datasets").get(1).get("detail").get(0).get("id").asText());
        assertEquals(4, root.get("overall").get("questions").asInt());
    }

    @Test
    void badInputsFailWithOneLineNamingTheFile() throws IOException {
        Path absent = dir.resolve("absent.jsonl");
        Result r = eval(dir.resolve("x.json"), "--data", alpha + "," + absent);
        assertEquals(1, r.status());
        assertTrue(r.err().contains(absent + ": cannot open"), r.err());

        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"question\":\"q1\",\"answer\":\"#### 1\"}\n\n{\"question\":\"q2\",\"answer\":\"#### 2\"\n");
        r = eval(dir.resolve("x.json"), "--data", bad.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(bad + ":3: invalid JSON"), r.err());

        Path noGold = dir.resolve("nogold.jsonl");
        Files.writeString(noGold, "{\"question\":\"q1\",\"answer\":\"#### 1\"}\n{\"question\":\"q2\",\"answer\":\"no marker here\"}\n");
        r = eval(dir.resolve("x.json"), "--data", noGold.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(noGold + ":2:"), r.err());

        Path sub = Files.createDirectories(dir.resolve("sub"));
        Path sameStem = sub.resolve("alpha.jsonl");
        Files.copy(alpha, sameStem);
        r = eval(dir.resolve("x.json"), "--data", alpha + "," + sameStem);
        assertEquals(1, r.status());
        assertTrue(r.err().contains("are both 'alpha'"), r.err());

        r = eval(dir.resolve("x.json"), "--k", "1,8");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("k must be in [1, n=4], got 8"), r.err());

        r = eval(dir.resolve("x.json"), "--temperature", "0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("temperature must be > 0"), r.err());
        assertFalse(Files.exists(dir.resolve("x.json")));
    }

    /** 1 − C(n−c, k)/C(n, k) with exact binomials. */
    static double exactPassAtK(int n, int c, int k) {
        return BigDecimal.ONE.subtract(new BigDecimal(PassAtKTest.binomial(n - c, k))
                .divide(new BigDecimal(PassAtKTest.binomial(n, k)), MathContext.DECIMAL128)).doubleValue();
    }
}
