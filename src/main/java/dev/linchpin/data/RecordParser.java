package dev.linchpin.data;

import dev.linchpin.tokenizer.ChatMessage;
import com.fasterxml.jackson.databind.JsonNode;
import dev.linchpin.verify.AnswerExtractor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Turns one JSON object of a known {@link DatasetFormat} into an {@link Example}, or says what is wrong. */
final class RecordParser {
    private final Path file;
    private final String stem;

    RecordParser(Path file) {
        this.file = file;
        String name = file.getFileName() == null ? "data" : file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        this.stem = dot > 0 ? name.substring(0, dot) : name;
    }

    Example parse(JsonNode record, DatasetFormat format, long line) {
        if (!record.isObject()) {
            throw error(line, "expected a JSON object, got " + kind(record));
        }
        String id = id(record, line);
        return switch (format) {
            case GSM8K -> {
                String question = text(record, "question", line);
                String answer = text(record, "answer", line);
                yield new Example(id, question, List.of(ChatMessage.user(question)), answer,
                        gold(line, () -> AnswerExtractor.goldFromGsm8kAnswer(answer)), file, line);
            }
            case MATH -> {
                String problem = text(record, "problem", line);
                String solution = text(record, "solution", line);
                yield new Example(id, problem, List.of(ChatMessage.user(problem)), solution,
                        gold(line, () -> AnswerExtractor.goldFromMathSolution(solution)), file, line);
            }
            case PROMPT_COMPLETION -> {
                String prompt = text(record, "prompt", line);
                String completion = text(record, "completion", line);
                yield new Example(id, prompt, List.of(ChatMessage.user(prompt)), completion,
                        optionalGold(record, completion, line), file, line);
            }
            case MESSAGES -> messages(record, id, line);
            case AUTO -> throw new IllegalArgumentException("AUTO must be resolved before parsing");
        };
    }

    private Example messages(JsonNode record, String id, long line) {
        JsonNode list = record.get("messages");
        if (list == null || !list.isArray()) {
            throw error(line, "field 'messages' must be an array, got " + kind(list));
        }
        if (list.isEmpty()) {
            throw error(line, "field 'messages' is empty");
        }
        List<ChatMessage> messages = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            if (!m.isObject()) {
                throw error(line, "messages[" + i + "] must be an object, got " + kind(m));
            }
            JsonNode role = m.get("role"), content = m.get("content");
            if (role == null || !role.isTextual() || role.asText().isBlank()) {
                throw error(line, "messages[" + i + "].role must be a non-empty string, got " + kind(role));
            }
            if (content == null || !content.isTextual()) {
                throw error(line, "messages[" + i + "].content must be a string, got " + kind(content));
            }
            messages.add(new ChatMessage(role.asText(), content.asText()));
        }
        ChatMessage last = messages.get(messages.size() - 1);
        boolean hasReference = last.role().equals("assistant");
        List<ChatMessage> prompt = hasReference ? messages.subList(0, messages.size() - 1) : messages;
        String promptText = null;
        for (ChatMessage m : prompt) {
            if (m.role().equals("user")) {
                promptText = m.content();
            }
        }
        if (promptText == null) {
            throw error(line, "messages has no user message before the final assistant message");
        }
        String reference = hasReference ? last.content() : null;
        return new Example(id, promptText, prompt, reference, optionalGold(record, reference, line), file, line);
    }

    private String id(JsonNode record, long line) {
        JsonNode id = record.get("id");
        if (id == null || id.isNull()) {
            return stem + "-" + line;
        }
        if (id.isTextual() || id.isIntegralNumber()) {
            return id.asText();
        }
        throw error(line, "field 'id' must be a string or integer, got " + kind(id));
    }

    private String text(JsonNode record, String field, long line) {
        JsonNode v = record.get(field);
        if (v == null) {
            throw error(line, "missing field '" + field + "' (fields: " + DatasetFormat.fieldNames(record) + ")");
        }
        if (!v.isTextual()) {
            throw error(line, "field '" + field + "' must be a string, got " + kind(v));
        }
        return v.asText();
    }

    /** An explicit "answer" field, else the completion's #### or \boxed{} answer, else null. */
    private String optionalGold(JsonNode record, String completion, long line) {
        JsonNode answer = record.get("answer");
        if (answer != null && !answer.isNull()) {
            if (answer.isTextual() || answer.isNumber()) {
                return answer.asText();
            }
            throw error(line, "field 'answer' must be a string or number, got " + kind(answer));
        }
        if (completion == null) {
            return null;
        }
        if (completion.contains("####")) {
            try {
                return AnswerExtractor.goldFromGsm8kAnswer(completion);
            } catch (IllegalArgumentException ignored) {
                // fall through to \boxed{}
            }
        }
        String boxed = AnswerExtractor.lastBoxed(completion);
        return boxed == null || boxed.isBlank() ? null : boxed.strip();
    }

    private String gold(long line, java.util.function.Supplier<String> extract) {
        try {
            return extract.get();
        } catch (IllegalArgumentException e) {
            throw error(line, e.getMessage());
        }
    }

    private DatasetException error(long line, String problem) {
        return new DatasetException(file, line, problem);
    }

    static String kind(JsonNode v) {
        if (v == null) {
            return "nothing";
        }
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
