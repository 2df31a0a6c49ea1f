package dev.linchpin.tokenizer;

import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a small, real Hugging Face tokenizer for a word list: {@code tokenizer.json},
 * {@code tokenizer_config.json} and {@code special_tokens_map.json}, loadable by {@link Tokenizer#load}
 * (and by transformers' {@code PreTrainedTokenizerFast}).
 *
 * <p>The design, chosen so that {@code decode(encode(text)) == text} for every text whose words are in
 * the vocabulary, with no byte-level encoding:
 * <ul>
 *   <li>model {@code WordLevel}; ids: {@code <|endoftext|>}=0 (EOS), {@code <|pad|>}=1, {@code <unk>}=2,
 *       then the whitespace characters (space, newline, tab, carriage return), the digits 0-9, the 32
 *       ASCII punctuation characters, the extra symbols (default {@code ####} and {@code \boxed}, plus any
 *       non-ASCII character seen by {@link #addWordsFrom}), then every word twice: {@code "word"} and
 *       {@code " word"} (with its leading space, GPT-2 style, so a space costs no extra position);
 *   <li>pre-tokenizer {@code Split} with behaviour {@code Isolated} on the regex
 *       {@code SYMBOLS| ?[A-Za-z]+|[0-9]|[ \t\r\n]|[^A-Za-z0-9 \t\r\n]}: it covers every character, so the
 *       pieces concatenate back to the input; digits are always single tokens, so numbers tokenize digit
 *       by digit; a space before a digit, a symbol or another space is its own token;
 *   <li>decoder {@code Fuse}: tokens are concatenated with nothing in between;
 *   <li>no normalizer, no post-processor (no BOS), like Qwen.
 * </ul>
 * An unknown word (letters not in the list) becomes one {@code <unk>}, its leading space included;
 * so the round trip holds only for in-vocabulary text. The synthetic task builds its vocabulary from
 * its own texts with {@link #addWordsFrom}, so its texts always round-trip.
 *
 * <p>The default chat template writes a system or user turn as its text plus a newline and an assistant
 * turn as its text plus EOS; the generation prompt is empty (the question's newline is the boundary).
 */
public final class TokenizerBuilder {
    public static final String EOS = "<|endoftext|>";
    public static final String PAD = "<|pad|>";
    public static final String UNK = "<unk>";
    public static final List<String> DEFAULT_SYMBOLS = List.of("####", "\\boxed");
    public static final String DEFAULT_CHAT_TEMPLATE = String.join("\n",
            "{%- for message in messages %}",
            "{%- if message.role == 'system' or message.role == 'user' %}",
            "{{- message.content + '\\n' }}",
            "{%- elif message.role == 'assistant' %}",
            "{{- message.content + eos_token }}",
            "{%- else %}",
            "{{- raise_exception('Unknown role: ' + message.role) }}",
            "{%- endif %}",
            "{%- endfor %}");

    static final List<String> WHITESPACE = List.of(" ", "\n", "\t", "\r");
    static final String ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    private static final Pattern WORD = Pattern.compile("[A-Za-z]+");
    private static final String OTHER_CHAR = "[^A-Za-z0-9 \\t\\r\\n]";

    private final Set<String> words = new TreeSet<>();
    private final Set<String> symbols = new LinkedHashSet<>(DEFAULT_SYMBOLS);
    private String chatTemplate = DEFAULT_CHAT_TEMPLATE;
    private int modelMaxLength = 4096;

    /** Adds words; each must be ASCII letters only (anything else never reaches the word model). */
    public TokenizerBuilder addWords(Iterable<String> list) {
        for (String w : list) {
            if (w == null || !WORD.matcher(w).matches()) {
                throw new IllegalArgumentException("not a word of ASCII letters: \"" + w + "\"");
            }
            words.add(w);
        }
        return this;
    }

    /**
     * Adds every word (maximal run of ASCII letters) of {@code texts}, and every character outside ASCII
     * letters, digits, whitespace and punctuation as a symbol, so that these texts all round-trip.
     */
    public TokenizerBuilder addWordsFrom(Iterable<String> texts) {
        for (String text : texts) {
            Matcher m = WORD.matcher(text);
            while (m.find()) {
                words.add(m.group());
            }
            text.codePoints().filter(c -> c > 0x7f).forEach(c -> symbols.add(new String(Character.toChars(c))));
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < 0x20 && !WHITESPACE.contains(String.valueOf(c))) {
                    throw new IllegalArgumentException("control character U+" + String.format("%04X", (int) c)
                            + " in a text; only space, newline, tab and carriage return are supported");
                }
            }
        }
        return this;
    }

    /**
     * Adds a symbol kept as one token (e.g. {@code "\\frac"}); it may not start with a letter or digit
     * (it would cut words or numbers apart) nor contain whitespace.
     */
    public TokenizerBuilder addSymbol(String symbol) {
        Objects.requireNonNull(symbol, "symbol");
        if (symbol.isEmpty() || Character.isLetterOrDigit(symbol.codePointAt(0))
                || symbol.chars().anyMatch(c -> WHITESPACE.contains(String.valueOf((char) c)))) {
            throw new IllegalArgumentException("symbol \"" + symbol + "\" must be non-empty, start with neither a letter"
                    + " nor a digit and contain no whitespace");
        }
        symbols.add(symbol);
        return this;
    }

    /** Replaces the default chat template. */
    public TokenizerBuilder chatTemplate(String template) {
        this.chatTemplate = Objects.requireNonNull(template, "template");
        return this;
    }

    /** The {@code model_max_length} written to tokenizer_config.json (default 4096). */
    public TokenizerBuilder modelMaxLength(int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("modelMaxLength must be positive: " + length);
        }
        this.modelMaxLength = length;
        return this;
    }

    /** The tokens in id order (id = index). */
    public List<String> vocabulary() {
        Set<String> tokens = new LinkedHashSet<>();
        tokens.add(EOS);
        tokens.add(PAD);
        tokens.add(UNK);
        tokens.addAll(WHITESPACE);
        for (char d = '0'; d <= '9'; d++) {
            tokens.add(String.valueOf(d));
        }
        for (char c : ASCII_PUNCTUATION.toCharArray()) {
            tokens.add(String.valueOf(c));
        }
        tokens.addAll(symbols);
        for (String w : words) {
            tokens.add(w);
            tokens.add(" " + w);
        }
        return new ArrayList<>(tokens);
    }

    /** The pre-tokenizer's regex (Oniguruma syntax, as the tokenizers library compiles it). */
    public String preTokenizerPattern() {
        List<String> multi = new ArrayList<>();
        for (String s : symbols) {
            if (s.codePointCount(0, s.length()) > 1) {
                multi.add(s);
            }
        }
        multi.sort((a, b) -> b.length() - a.length()); // longest first: "####" before "##"
        StringBuilder b = new StringBuilder();
        for (String s : multi) {
            b.append(escape(s)).append('|');
        }
        return b.append(" ?[A-Za-z]+|[0-9]|[ \\t\\r\\n]|").append(OTHER_CHAR).toString();
    }

    private static String escape(String literal) {
        StringBuilder b = new StringBuilder();
        for (char c : literal.toCharArray()) {
            if ("\\^$.|?*+()[]{}".indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> vocab = vocabulary();
        var writer = JsonFiles.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT);
        writer.writeValue(dir.resolve(Tokenizer.TOKENIZER_JSON).toFile(), tokenizerJson(vocab));
        writer.writeValue(dir.resolve(TokenizerSettings.TOKENIZER_CONFIG).toFile(), tokenizerConfig());
        Map<String, Object> specialMap = new LinkedHashMap<>();
        specialMap.put("eos_token", EOS);
        specialMap.put("pad_token", PAD);
        specialMap.put("unk_token", UNK);
        writer.writeValue(dir.resolve("special_tokens_map.json").toFile(), specialMap);
    }

    private Map<String, Object> tokenizerJson(List<String> vocab) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Object> added = new ArrayList<>();
        for (String special : List.of(EOS, PAD, UNK)) {
            Map<String, Object> t = addedToken(special);
            t.put("id", vocab.indexOf(special));
            Map<String, Object> ordered = new LinkedHashMap<>();
            ordered.put("id", t.remove("id"));
            ordered.putAll(t);
            added.add(ordered);
        }
        root.put("added_tokens", added);
        root.put("normalizer", null);
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("type", "Split");
        split.put("pattern", Map.of("Regex", preTokenizerPattern()));
        split.put("behavior", "Isolated");
        split.put("invert", false);
        root.put("pre_tokenizer", split);
        root.put("post_processor", null);
        root.put("decoder", Map.of("type", "Fuse"));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        Map<String, Object> ids = new LinkedHashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            ids.put(vocab.get(i), i);
        }
        model.put("vocab", ids);
        model.put("unk_token", UNK);
        root.put("model", model);
        return root;
    }

    private static Map<String, Object> addedToken(String content) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
        return t;
    }

    private Map<String, Object> tokenizerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("model_max_length", modelMaxLength);
        c.put("bos_token", null);
        c.put("eos_token", EOS);
        c.put("pad_token", PAD);
        c.put("unk_token", UNK);
        c.put("add_bos_token", false);
        c.put("add_eos_token", false);
        c.put("clean_up_tokenization_spaces", false);
        Map<String, Object> decoder = new LinkedHashMap<>();
        List<String> vocab = vocabulary();
        for (String special : List.of(EOS, PAD, UNK)) {
            decoder.put(String.valueOf(vocab.indexOf(special)), addedToken(special));
        }
        c.put("added_tokens_decoder", decoder);
        c.put("chat_template", chatTemplate);
        return c;
    }
}
