package dev.linchpin.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face chat template rendered with jinjava the way transformers' {@code apply_chat_template}
 * renders it with Jinja2.
 *
 * <p>What transformers provides, and how it is emulated here:
 * <ul>
 *   <li>environment {@code trim_blocks=True, lstrip_blocks=True}: same jinjava settings; one trailing
 *       newline of the source is dropped as Jinja2 does; {@code {{- -}}} / {@code {%- -%}} trimming and Python operator precedence through
 *       jinjava's legacy overrides;
 *   <li>variables {@code messages}, {@code add_generation_prompt}, the special tokens ({@code bos_token},
 *       {@code eos_token}, {@code pad_token}, {@code unk_token}; absent ones are undefined) and the
 *       caller's extra variables (e.g. {@code enable_thinking}, {@code tools}), which override;
 *   <li>{@code raise_exception(msg)} → {@link ChatTemplateException} with the template's message;
 *       {@code strftime_now(fmt)};
 *   <li>{@code tojson} as Python's {@code json.dumps(ensure_ascii=False)} ({@link PythonJson}), with
 *       {@code indent};
 *   <li>Python string methods ({@link PythonStringMethods});
 *   <li>{@code namespace(...)}, {@code loop.*}, {@code break}/{@code continue}, {@code is defined/none/
 *       string/false}, {@code in}, negative indices and forward slices are native to jinjava;
 *       {@code x[::-1]} and {@code namespace} keyword values with operators are rewritten first
 *       ({@link TemplatePreprocessor}).
 * </ul>
 * Known gaps: indexing a string ({@code s[0]} renders nothing); slices with steps other than {@code [::-1]} or on non-name expressions; the
 * {@code {% generation %}} tag (assistant-token masks); Python dict methods ({@code items()} works
 * through jinjava, {@code get} with a default does not by name); Jinja2's sandbox rules.
 */
public final class ChatTemplate {
    private final String source;
    private final String rewritten;
    private final String sourceName;
    private final Jinjava jinjava;

    /**
     * @param source     the Jinja source of the template
     * @param sourceName where it came from (a file path), used in error messages
     */
    public ChatTemplate(String source, String sourceName) {
        this.source = Objects.requireNonNull(source, "source");
        this.sourceName = Objects.requireNonNull(sourceName, "sourceName");
        this.rewritten = TemplatePreprocessor.rewrite(withoutTrailingNewline(source));
        this.jinjava = newJinjava();
    }

    /** The template as written. */
    public String source() {
        return source;
    }

    /**
     * Renders the conversation.
     *
     * @param messages            the turns, in order
     * @param addGenerationPrompt whether to append the header that starts the assistant's turn
     * @param specialTokens       {@code bos_token}, {@code eos_token}, ... (null values are left undefined)
     * @param extraContext        further template variables (null for none); they override the others
     * @throws ChatTemplateException when the template raises or cannot be rendered
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt,
            Map<String, String> specialTokens, Map<String, Object> extraContext) {
        Objects.requireNonNull(messages, "messages");
        Map<String, Object> context = new HashMap<>();
        List<Object> turns = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            turns.add(Objects.requireNonNull(m, "messages contains null").toTemplateValue());
        }
        context.put("messages", turns);
        context.put("add_generation_prompt", addGenerationPrompt);
        if (specialTokens != null) {
            specialTokens.forEach((k, v) -> {
                if (v != null) {
                    context.put(k, v);
                }
            });
        }
        if (extraContext != null) {
            context.putAll(extraContext);
        }

        TemplateFunctions.RAISED.remove();
        RenderResult result;
        try {
            result = jinjava.renderForResult(rewritten, context);
        } catch (RuntimeException e) {
            throw failure("failed: " + e.getMessage(), e);
        }
        String raised = TemplateFunctions.RAISED.get();
        TemplateFunctions.RAISED.remove();
        if (raised != null) {
            throw new ChatTemplateException(raised, true, null);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw failure("line " + error.getLineno() + ": " + error.getMessage()
                        + (error.getFieldName() == null ? "" : " (in: " + error.getFieldName() + ")"), error.getException());
            }
        }
        return result.getOutput();
    }

    /** Jinja2's {@code keep_trailing_newline=False}: the lexer removes a single trailing newline of the source. */
    static String withoutTrailingNewline(String source) {
        if (source.endsWith("\r\n")) {
            return source.substring(0, source.length() - 2);
        }
        if (source.endsWith("\n") || source.endsWith("\r")) {
            return source.substring(0, source.length() - 1);
        }
        return source;
    }

    private ChatTemplateException failure(String detail, Throwable cause) {
        return new ChatTemplateException("chat template from " + sourceName + " " + detail, false, cause);
    }

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        LegacyOverrides python = LegacyOverrides.newBuilder()
                .withUseTrimmingForNotesAndExpressions(true) // {{- x -}} trims like Jinja2
                .withUseNaturalOperatorPrecedence(true)      // a|length - 1 == (a|length) - 1
                .withParseWhitespaceControlStrictly(true)
                .build();
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Jinja2 drops one trailing newline of the *source* (withoutTrailingNewline); jinjava's
                // option would strip it from the *output*, eating the "\n" of "<|im_start|>assistant\n".
                .withKeepTrailingNewline(true)
                .withElResolver(resolver)
                .withLegacyOverrides(python)
                .withMaxOutputSize(64L << 20) // a hostile template cannot fill the heap
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "raise_exception", TemplateFunctions.class, "raiseException", Object.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class));
        j.getGlobalContext().registerFilter(new PythonToJson());
        return j;
    }

    /** {@code x|tojson} and {@code x|tojson(indent=2)} with transformers' json.dumps semantics. */
    private static final class PythonToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            Integer indent = args.length > 0 && args[0] != null ? Integer.valueOf(args[0]) : null;
            return PythonJson.dumps(var, indent);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs != null && kwargs.containsKey("indent") ? kwargs.get("indent")
                    : args != null && args.length > 0 ? args[0] : null;
            return PythonJson.dumps(var, indent instanceof Number n ? Integer.valueOf(n.intValue())
                    : indent == null ? null : Integer.valueOf(indent.toString()));
        }
    }
}
