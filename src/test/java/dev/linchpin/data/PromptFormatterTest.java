package dev.linchpin.data;

import dev.linchpin.tokenizer.ChatMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Prompt text for base and chat models, compared with hand-written expected strings. */
class PromptFormatterTest {
    private static final Example GSM = new Example("g-1", "Tom has 3 apples. How many?",
            List.of(ChatMessage.user("Tom has 3 apples. How many?")), "3\n#### 3", "3", Path.of("g.jsonl"), 1);

    /** A ChatML renderer written for the test (the real one is the tokenizer's Jinja template). */
    private static final Function<List<ChatMessage>, String> CHATML = messages -> {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
        }
        return sb.append("<|im_start|>assistant\n").toString();
    };

    @Test
    void baseDefaultIsLmEvalGsm8kDocToText() {
        assertEquals("Question: Tom has 3 apples. How many?\nAnswer:", new BasePromptFormatter().format(GSM));
    }

    @Test
    void baseCustomTemplateKeepsLatexBracesAndInsertsVerbatim() {
        BasePromptFormatter f = new BasePromptFormatter("Problem:\n{question}\n\nSolution (end with \\boxed{}):");
        Example tricky = new Example("x", "Is {question} a {placeholder}?", List.of(), null, null, Path.of("x"), 1);
        assertEquals("Problem:\nIs {question} a {placeholder}?\n\nSolution (end with \\boxed{}):", f.format(tricky));
    }

    @Test
    void baseTemplateMustHaveExactlyOnePlaceholder() {
        assertThrows(IllegalArgumentException.class, () -> new BasePromptFormatter("Question:"));
        assertThrows(IllegalArgumentException.class, () -> new BasePromptFormatter("{question} {question}"));
    }

    @Test
    void chatWrapsQuestionWithSystemPromptAndUserTemplate() {
        ChatPromptFormatter f = new ChatPromptFormatter(CHATML, "You are a helpful assistant.",
                "{question}\nPlease reason step by step, and put your final answer within \\boxed{}.");
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nTom has 3 apples. How many?\n"
                + "Please reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                + "<|im_start|>assistant\n", f.format(GSM));
    }

    @Test
    void chatPassesConversationsThroughAndKeepsTheirSystemMessage() {
        Example conv = new Example("c", "second", List.of(ChatMessage.system("sys"), ChatMessage.user("first"),
                ChatMessage.assistant("reply"), ChatMessage.user("second")), null, null, Path.of("c"), 1);
        ChatPromptFormatter f = new ChatPromptFormatter(CHATML, "ignored because the example has one", "Q: {question}");
        assertEquals(conv.promptMessages(), f.messages(conv));
        assertEquals("<|im_start|>user\nTom has 3 apples. How many?<|im_end|>\n<|im_start|>assistant\n",
                new ChatPromptFormatter(CHATML).format(GSM));
    }

    @Test
    void chatMessageRejectsBlankRole() {
        assertThrows(IllegalArgumentException.class, () -> new ChatMessage(" ", "x"));
        assertThrows(NullPointerException.class, () -> new ChatMessage("user", null));
    }
}
