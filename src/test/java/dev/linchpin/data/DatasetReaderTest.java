package dev.linchpin.data;

import dev.linchpin.tokenizer.ChatMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readers on real-layout fixtures (expected values written by hand from the files) and on broken files. */
class DatasetReaderTest {
    private static final Path FIXTURES = Path.of(System.getProperty("user.dir"), "tests", "fixtures", "data");

    @TempDir
    Path tmp;

    private static List<Example> readAll(Path file, DatasetFormat format) {
        try (Stream<Example> s = DatasetReader.stream(file, format)) {
            return s.collect(Collectors.toList());
        }
    }

    @Test
    void gsm8kRecordsGiveQuestionSolutionGoldAndLine() {
        Path file = FIXTURES.resolve("gsm8k_sample.jsonl");
        List<Example> ex = readAll(file, DatasetFormat.GSM8K);
        assertEquals(3, ex.size());
        assertEquals(List.of("gsm8k_sample-1", "gsm8k_sample-3", "gsm8k_sample-4"), ex.stream().map(Example::id).toList());
        assertEquals(List.of(1L, 3L, 4L), ex.stream().map(Example::line).toList());
        assertEquals(List.of("72", "10", "5"), ex.stream().map(Example::goldAnswer).toList());
        Example first = ex.get(0);
        assertTrue(first.prompt().startsWith("Natalia sold clips to 48 of her friends in April"));
        assertTrue(first.referenceSolution().endsWith("altogether in April and May.\n#### 72"));
        assertEquals(List.of(ChatMessage.user(first.prompt())), first.promptMessages());
        assertEquals(file, first.sourceFile());
    }

    @Test
    void mathRecordsTakeTheBoxedGold() {
        List<Example> ex = readAll(FIXTURES.resolve("math_sample.jsonl"), DatasetFormat.MATH);
        assertEquals(List.of("12", "\\frac{7}{12}"), ex.stream().map(Example::goldAnswer).toList());
        assertEquals("Simplify $\\frac{84}{144}.$", ex.get(1).prompt());
    }

    @Test
    void promptCompletionRecordsUseIdAndAnswerFieldsWhenPresent() {
        List<Example> ex = readAll(FIXTURES.resolve("prompt_completion_sample.jsonl"), DatasetFormat.PROMPT_COMPLETION);
        assertEquals(List.of("pc-1", "7", "prompt_completion_sample-3"), ex.stream().map(Example::id).toList());
        assertEquals("42", ex.get(0).goldAnswer());
        assertEquals("9", ex.get(1).goldAnswer()); // from the completion's #### line
        assertNull(ex.get(2).goldAnswer());
        assertEquals("6 * 7 = 42.", ex.get(0).referenceSolution());
    }

    @Test
    void messagesRecordsSplitPromptFromFinalAssistantMessage() {
        List<Example> ex = readAll(FIXTURES.resolve("messages_sample.jsonl"), DatasetFormat.MESSAGES);
        Example a = ex.get(0);
        assertEquals(List.of(
                ChatMessage.system("Please reason step by step, and put your final answer within \\boxed{}."),
                ChatMessage.user("What is $1+\\frac{1}{2}$?")), a.promptMessages());
        assertEquals("What is $1+\\frac{1}{2}$?", a.prompt());
        assertEquals("$1+\\frac{1}{2}=\\frac{3}{2}$, so the answer is $\\boxed{\\frac{3}{2}}$.", a.referenceSolution());
        assertEquals("\\frac{3}{2}", a.goldAnswer());
        Example b = ex.get(1);
        assertEquals("eval-2", b.id());
        assertNull(b.referenceSolution());
        assertEquals("12", b.goldAnswer());
        assertEquals(List.of(ChatMessage.user("How many legs do 3 cats have?")), b.promptMessages());
    }

    @Test
    void autoDetectsEveryFormatFromTheFirstRecord() {
        assertEquals(DatasetFormat.GSM8K, DatasetReader.detect(FIXTURES.resolve("gsm8k_sample.jsonl")));
        assertEquals(DatasetFormat.MATH, DatasetReader.detect(FIXTURES.resolve("math_sample.jsonl")));
        assertEquals(DatasetFormat.PROMPT_COMPLETION, DatasetReader.detect(FIXTURES.resolve("prompt_completion_sample.jsonl")));
        assertEquals(DatasetFormat.MESSAGES, DatasetReader.detect(FIXTURES.resolve("messages_sample.jsonl")));
        assertEquals(readAll(FIXTURES.resolve("math_sample.jsonl"), DatasetFormat.MATH),
                readAll(FIXTURES.resolve("math_sample.jsonl"), DatasetFormat.AUTO));
        assertEquals(DatasetFormat.PROMPT_COMPLETION, DatasetFormat.fromName("prompt-completion"));
        assertEquals(DatasetFormat.AUTO, DatasetFormat.fromName("auto"));
        assertThrows(IllegalArgumentException.class, () -> DatasetFormat.fromName("csv"));
    }

    @Test
    void readsTheSyntheticTasksOwnFiles() throws IOException {
        SyntheticTask.Splits s = new SyntheticTask(11).writeAll(tmp, 30, 5, 5);
        List<Example> gsm = readAll(tmp.resolve("gsm8k/test.jsonl"), DatasetFormat.AUTO);
        List<Example> math = readAll(tmp.resolve("math/test.jsonl"), DatasetFormat.AUTO);
        for (int i = 0; i < 5; i++) {
            SyntheticProblem p = s.test().get(i);
            assertEquals(p.question(), gsm.get(i).prompt());
            assertEquals(Integer.toString(p.answer()), gsm.get(i).goldAnswer());
            assertEquals(Integer.toString(p.answer()), math.get(i).goldAnswer());
            assertEquals("test-" + (i + 1), gsm.get(i).id());
        }
    }

    @Test
    void streamIsLazy() throws IOException {
        Path f = write("lazy.jsonl", "{\"question\": \"q\", \"answer\": \"#### 1\"}", "this is not json");
        try (Stream<Example> s = DatasetReader.stream(f, DatasetFormat.GSM8K)) {
            assertEquals("1", s.findFirst().orElseThrow().goldAnswer()); // line 2 is never parsed
        }
    }

    private Path write(String name, String... lines) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return f;
    }

    private void rejects(Path file, DatasetFormat format, long line, String fragment) {
        DatasetException e = assertThrows(DatasetException.class, () -> readAll(file, format));
        assertEquals(file, e.file());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ":" + line + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    private static final String OK = "{\"question\": \"q\", \"answer\": \"#### 1\"}";

    @Test
    void malformedLinesNameFileAndLine() throws IOException {
        rejects(write("badjson.jsonl", OK, "", "{\"question\": \"q\", \"answer\": "), DatasetFormat.GSM8K, 3, "invalid JSON");
        rejects(write("missing.jsonl", OK, "{\"question\": \"q\"}"), DatasetFormat.GSM8K, 2, "missing field 'answer'");
        rejects(write("type.jsonl", "{\"question\": 5, \"answer\": \"#### 1\"}"), DatasetFormat.GSM8K, 1,
                "field 'question' must be a string, got a number");
        rejects(write("array.jsonl", OK, "[1, 2]"), DatasetFormat.GSM8K, 2, "expected a JSON object, got an array");
        rejects(write("nomarker.jsonl", "{\"question\": \"q\", \"answer\": \"it is 5\"}"), DatasetFormat.GSM8K, 1, "####");
        rejects(write("nobox.jsonl", "{\"problem\": \"p\", \"solution\": \"it is 5\"}"), DatasetFormat.MATH, 1, "\\boxed");
        rejects(write("dup.jsonl", "{\"question\": \"q\", \"question\": \"r\", \"answer\": \"#### 1\"}"), DatasetFormat.GSM8K, 1,
                "Duplicate field 'question'");
        rejects(write("trailing.jsonl", OK + " {}"), DatasetFormat.GSM8K, 1, "invalid JSON");
        rejects(write("badid.jsonl", "{\"id\": [1], \"question\": \"q\", \"answer\": \"#### 1\"}"), DatasetFormat.GSM8K, 1,
                "field 'id' must be a string or integer");
        rejects(write("content.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\"}]}]}"),
                DatasetFormat.MESSAGES, 1, "messages[0].content must be a string, got an array");
        rejects(write("role.jsonl", "{\"messages\": [{\"content\": \"hi\"}]}"), DatasetFormat.MESSAGES, 1, "messages[0].role");
        rejects(write("nouser.jsonl", "{\"messages\": [{\"role\": \"assistant\", \"content\": \"hi\"}]}"),
                DatasetFormat.MESSAGES, 1, "no user message");
        rejects(write("empty.jsonl", "{\"messages\": []}"), DatasetFormat.MESSAGES, 1, "empty");
        rejects(write("unknown.jsonl", "", "{\"text\": \"hello\"}"), DatasetFormat.AUTO, 2, "cannot detect the format from fields [text]");
        rejects(write("deep.jsonl", "[".repeat(5000) + "]".repeat(5000)), DatasetFormat.AUTO, 1, "invalid JSON");
    }

    @Test
    void invalidUtf8IsReportedOnItsOwnLine() throws IOException {
        Path f = tmp.resolve("utf8.jsonl");
        byte[] good = (OK + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] bad = "{\"question\": \"caf\u00e9\", \"answer\": \"#### 1\"}\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(f, concat(good, good, good, bad, good));
        rejects(f, DatasetFormat.GSM8K, 4, "not valid UTF-8");
    }

    @Test
    void overlongLineIsRejectedWithoutReadingItWhole() throws IOException {
        Path f = write("long.jsonl", OK, "{\"question\": \"" + "x".repeat(10_000) + "\", \"answer\": \"#### 1\"}");
        try (DatasetReader r = DatasetReader.open(f, DatasetFormat.GSM8K, 1000)) {
            assertEquals("1", r.next().goldAnswer());
            DatasetException e = assertThrows(DatasetException.class, r::next);
            assertEquals(2, e.line());
            assertTrue(e.getMessage().contains("longer than 1000 bytes"), e.getMessage());
        }
    }

    @Test
    void missingFileAndEmptyFile() throws IOException {
        DatasetException e = assertThrows(DatasetException.class,
                () -> DatasetReader.open(tmp.resolve("nope.jsonl"), DatasetFormat.AUTO));
        assertTrue(e.getMessage().contains("nope.jsonl") && e.getMessage().contains("cannot open"), e.getMessage());
        Path empty = write("blank.jsonl", "", "   ", "");
        assertEquals(List.of(), readAll(empty, DatasetFormat.AUTO));
        assertThrows(DatasetException.class, () -> DatasetReader.detect(empty));
    }

    @Test
    void byteOrderMarkAndLastLineWithoutNewline() throws IOException {
        Path f = tmp.resolve("bom.jsonl");
        Files.writeString(f, "\uFEFF" + OK + "\n" + OK, StandardCharsets.UTF_8);
        List<Example> ex = readAll(f, DatasetFormat.AUTO);
        assertEquals(2, ex.size());
        assertEquals("bom-2", ex.get(1).id());
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
