package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Jinja2/transformers features chat templates use, each rendered through {@link ChatTemplate} and
 * compared with the output Jinja2 gives for the same source (derived by hand from Jinja2's and Python's
 * documented semantics).
 */
class ChatTemplateTest {
    private static final List<ChatMessage> SYSTEM_USER = List.of(ChatMessage.system("S"), ChatMessage.user("U"));

    private static String render(String template, List<ChatMessage> messages, Map<String, Object> extra) {
        return new ChatTemplate(template, "test-template").render(messages, true,
                Map.of("eos_token", "</s>"), extra);
    }

    private static String render(String template) {
        return render(template, SYSTEM_USER, null);
    }

    @Test
    void pythonStringMethods() {
        assertEquals("True|False", render("{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith('b') }}")
                .replace("true", "True").replace("false", "False"));
        assertEquals("true", render("{{ 'abc'.startswith(('x', 'a')) }}"));
        assertEquals("[x]|[x\n]|[\nx]|[bcb]", render(
                "[{{ '\\n\\nx\\n'.strip('\\n') }}]|[{{ '\\n\\nx\\n'.lstrip('\\n') }}]|[{{ '\\nx\\n\\n'.rstrip('\\n') }}]"
                        + "|[{{ 'abcba'.strip('a') }}]"));
        assertEquals("[x y]", render("[{{ '  \\t x y \\n'.strip() }}]"));
        // split is literal (Java's would treat "." as a regex) and negative indices count from the end.
        assertEquals("c|a|3", render("{{ 'a.b.c'.split('.')[-1] }}|{{ 'a.b.c'.split('.')[0] }}|{{ 'a.b.c'.split('.')|length }}"));
        assertEquals("2|a|b c", render("{{ 'a b c'.split(' ', 1)|length }}|{{ 'a b c'.split(' ', 1)[0] }}|{{ 'a b c'.split(' ', 1)[1] }}"));
        assertEquals("3", render("{{ '  a  b \\n c '.split()|length }}"));
        assertEquals("a+b+c|a+b-c", render("{{ 'a-b-c'.replace('-', '+') }}|{{ 'a-b-c'.replace('-', '+', 1) }}"));
        assertEquals("ABC|abc|1,2", render("{{ 'aBc'.upper() }}|{{ 'aBc'.lower() }}|{{ ','.join(['1', '2']) }}"));
    }

    @Test
    void reverseSliceAndNamespaceAsInQwen3() {
        String t = "{%- set ns = namespace(found=false, last=messages|length - 1) %}"
                + "{%- for m in messages[::-1] %}{%- set i = (messages|length - 1) - loop.index0 %}"
                + "{%- if not ns.found and m.role == 'user' %}{%- set ns.found = true %}{%- set ns.last = i %}{%- endif %}"
                + "{{- m.content }}{%- endfor %}|{{ ns.last }}|{{ ns.found }}";
        List<ChatMessage> msgs = List.of(ChatMessage.user("a"), ChatMessage.assistant("b"), ChatMessage.user("c"),
                ChatMessage.assistant("d"));
        assertEquals("dcba|2|true", render(t, msgs, null));
        assertEquals("U", render("{{ messages[1:][0].content }}"));
    }

    @Test
    void notBindsLooserThanATestAsInJinja2() {
        // Jinja2: `not x is defined` is `not (x is defined)` (DeepSeek-V3's template starts with it).
        String t = "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
                + "{{ add_generation_prompt }}|{{ not missing is defined }}|{{ not messages[0].role is string }}"
                + "|{{ not add_generation_prompt is not none }}|{{ not add_generation_prompt }}";
        assertEquals("true|true|false|false|false", render(t));
    }

    @Test
    void whitespaceControlTrimBlocksAndLstripBlocks() {
        // trim_blocks removes the newline after a block tag, lstrip_blocks the indentation before it.
        assertEquals("S\nU\n", render("{% for m in messages %}\n    {% if true %}\n{{ m.content }}\n    {% endif %}\n{% endfor %}"));
        assertEquals("S|U|", render("{%- for m in messages -%}\n  {{- m.content -}}\n  |\n{%- endfor %}"));
        // Jinja2 drops exactly one trailing newline of the source, never one the template writes.
        assertEquals("x\n", render("{{ 'x\\n' }}\n"));
        assertEquals("x\n", render("x\n\n"));
    }

    @Test
    void loopControlsAndTests() {
        assertEquals("U|S", render("{% for m in messages %}{% if loop.first %}{% continue %}{% endif %}{{ m.content }}"
                + "{% endfor %}|{% for m in messages %}{{ m.content }}{% break %}{% endfor %}"));
        assertEquals("yes", render("{% if x is defined and x is false %}yes{% else %}no{% endif %}", SYSTEM_USER,
                Map.of("x", false)));
        assertEquals("no", render("{% if x is defined and x is false %}yes{% else %}no{% endif %}"));
        assertEquals("true|true", render("{{ '</think>' in 'a</think>b' }}|{{ messages[0].reasoning is none }}"));
    }

    @Test
    void specialTokensAndExtraContextAreVariables() {
        assertEquals("[</s>][][on]", render("[{{ eos_token }}][{{ bos_token }}][{{ flag }}]", SYSTEM_USER,
                Map.of("flag", "on")));
        ChatTemplate t = new ChatTemplate("{{ messages[0].reasoning_content }}{{ add_generation_prompt }}", "t");
        assertEquals("Rfalse", t.render(List.of(new ChatMessage("assistant", "A", Map.of("reasoning_content", "R"))),
                false, Map.of(), null));
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", "f");
        tool.put("args", List.of(1, 2.5, true));
        tool.put("text", "café \"q\"\n\u0001");
        tool.put("none", null);
        tool.put("empty", Map.of());
        // json.dumps(..., ensure_ascii=False): ", " and ": " separators, \u0001 escaped, é kept.
        assertEquals("{\"name\": \"f\", \"args\": [1, 2.5, true], \"text\": \"café \\\"q\\\"\\n\\u0001\", \"none\": null, \"empty\": {}}",
                render("{{ tool | tojson }}", SYSTEM_USER, Map.of("tool", tool)));
        // json.dumps(..., indent=2)
        assertEquals("{\n  \"a\": [\n    1\n  ]\n}", render("{{ x | tojson(indent=2) }}", SYSTEM_USER,
                Map.of("x", Map.of("a", List.of(1)))));
        assertEquals("1.0|1e+20|0.1", PythonJson.pythonFloat(1.0) + "|" + PythonJson.pythonFloat(1e20) + "|"
                + PythonJson.pythonFloat(0.1));
    }

    @Test
    void raiseExceptionBecomesChatTemplateException() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(
                "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with user') }}{% endif %}"));
        assertTrue(e.raisedByTemplate());
        assertEquals("Conversation must start with user", e.getMessage());
    }

    @Test
    void unsupportedOrBrokenTemplatesFailNamingTheSource() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render("{{ messages[0].content.nosuchmethod() }}"));
        assertFalse(e.raisedByTemplate());
        assertTrue(e.getMessage().contains("test-template"), e.getMessage());
        assertThrows(ChatTemplateException.class, () -> render("{% for m in messages %}{{ m.content }}"));
    }

    @Test
    void strftimeUsesCDirectives() {
        var t = java.time.ZonedDateTime.of(2024, 7, 26, 9, 5, 3, 0, java.time.ZoneOffset.UTC);
        assertEquals("26 Jul 2024 09:05:03 Friday 100%", TemplateFunctions.strftime(t, "%d %b %Y %H:%M:%S %A 100%%"));
    }
}
