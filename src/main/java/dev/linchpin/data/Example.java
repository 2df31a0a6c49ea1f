package dev.linchpin.data;

import dev.linchpin.tokenizer.ChatMessage;
import java.nio.file.Path;
import java.util.List;

/**
 * One record of a math data set, whatever its file format.
 *
 * @param id                the record's {@code id} field, else {@code <file-stem>-<line>}
 * @param prompt            the question / problem / prompt text (for {@code messages} records: the last
 *                          user message of the prompt part)
 * @param promptMessages    the conversation to prompt a chat model with: the record's messages before
 *                          the final assistant message, or a single user message holding {@code prompt}
 * @param referenceSolution the reference solution (answer / solution / completion / final assistant
 *                          message), or null when the record has none
 * @param goldAnswer        the bare gold answer ("72", "\frac{1}{2}"), or null when the record has none
 * @param sourceFile        the file it was read from
 * @param line              its 1-based line number
 */
public record Example(String id, String prompt, List<ChatMessage> promptMessages, String referenceSolution,
                      String goldAnswer, Path sourceFile, long line) {
    public Example {
        promptMessages = List.copyOf(promptMessages);
    }
}
