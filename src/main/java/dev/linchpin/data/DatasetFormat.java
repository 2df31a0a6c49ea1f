package dev.linchpin.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * The JSONL layouts {@link DatasetReader} understands. Each line is one JSON object:
 * <ul>
 *   <li>{@link #GSM8K}: {@code {"question": str, "answer": str}}, the answer ending in {@code #### N}
 *       (openai/grade-school-math).</li>
 *   <li>{@link #MATH}: {@code {"problem": str, "solution": str, ...}}, the solution containing
 *       {@code \boxed{...}} (hendrycks/math; "level" and "type" are ignored).</li>
 *   <li>{@link #PROMPT_COMPLETION}: {@code {"prompt": str, "completion": str}}; an optional
 *       {@code "answer"} field (string or number) is the gold answer, else it is taken from the
 *       completion's {@code ####} or {@code \boxed{}} if there is one.</li>
 *   <li>{@link #MESSAGES}: {@code {"messages": [{"role": str, "content": str}, ...]}}; a final assistant
 *       message is the reference solution, the messages before it are the prompt; optional
 *       {@code "answer"} as above.</li>
 *   <li>{@link #AUTO}: decided from the first record by its fields, in the order messages,
 *       question+answer, problem+solution, prompt+completion.</li>
 * </ul>
 * Any format may carry an {@code "id"} (string or integer).
 */
public enum DatasetFormat {
    GSM8K, MATH, PROMPT_COMPLETION, MESSAGES, AUTO;

    /**
     * Parses a command-line name: "gsm8k", "math", "prompt-completion", "messages" or "auto"
     * (case-insensitive, '_' and '-' alike).
     */
    public static DatasetFormat fromName(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown data set format '" + name
                    + "'; expected gsm8k, math, prompt-completion, messages or auto", e);
        }
    }

    /** The format a record has, from its field names; null when none fits. */
    public static DatasetFormat detect(JsonNode record) {
        if (record == null || !record.isObject()) {
            return null;
        }
        if (record.has("messages")) {
            return MESSAGES;
        }
        if (record.has("question") && record.has("answer")) {
            return GSM8K;
        }
        if (record.has("problem") && record.has("solution")) {
            return MATH;
        }
        if (record.has("prompt") && record.has("completion")) {
            return PROMPT_COMPLETION;
        }
        return null;
    }

    /** The record's field names, for error messages. */
    static String fieldNames(JsonNode record) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = record.fieldNames(); it.hasNext() && names.size() < 20; ) {
            names.add(it.next());
        }
        return names.toString();
    }
}
