package dev.linchpin.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Hugging Face tokenizer loaded from a model directory: {@code tokenizer.json} (run by the Rust
 * {@code tokenizers} library through DJL, offline), {@code tokenizer_config.json} (special tokens, chat
 * template, decode clean-up), and {@code generation_config.json} / {@code chat_template.jinja} when present.
 * Real checkpoints (Qwen3) and the project's own tokenizer ({@link TokenizerBuilder}) load through here.
 *
 * <p>Thread-safe for concurrent encode/decode; {@link #close()} frees the native tokenizer, after which
 * every native call throws {@link IllegalStateException}.
 */
public final class Tokenizer implements AutoCloseable {
    static final String TOKENIZER_JSON = "tokenizer.json";

    private final Path dir;
    private final Vocabulary vocab;
    private final TokenizerSettings settings;
    private final ChatTemplate chatTemplate;
    private final HuggingFaceTokenizer native_;
    private final boolean cleanUp;
    private volatile boolean closed;

    private Tokenizer(Path dir, Vocabulary vocab, TokenizerSettings settings, ChatTemplate chatTemplate,
            HuggingFaceTokenizer nativeTokenizer, boolean cleanUp) {
        this.dir = dir;
        this.vocab = vocab;
        this.settings = settings;
        this.chatTemplate = chatTemplate;
        this.native_ = nativeTokenizer;
        this.cleanUp = cleanUp;
    }

    /**
     * Loads the tokenizer in {@code dir}.
     *
     * @throws TokenizerFileException naming the file when one is missing, malformed, inconsistent (a special
     *                                token absent from the vocabulary, an EOS id out of range) or rejected
     *                                by the tokenizers library
     */
    public static Tokenizer load(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Path file = dir.resolve(TOKENIZER_JSON);
        String json = JsonFiles.readText(file);
        JsonNode root = JsonFiles.parseObject(file, json);
        Vocabulary vocab = Vocabulary.fromTokenizerJson(root, file);
        TokenizerSettings settings = TokenizerSettings.load(dir, vocab);
        ChatTemplate template = settings.chatTemplate() == null ? null
                : new ChatTemplate(settings.chatTemplate(), settings.chatTemplateFile().toString());
        HuggingFaceTokenizer nativeTokenizer = DjlTokenizers.create(file, json);
        // transformers 5 skips clean_up_tokenization_spaces for BPE models (it was meant for WordPiece and
        // strips real spaces before punctuation: "5 , 6" -> "5, 6") unless the config insists.
        boolean bpe = "BPE".equals(root.path("model").path("type").asText());
        boolean cleanUp = settings.cleanUpTokenizationSpaces() && (!bpe || settings.cleanUpBpeAnyway());
        return new Tokenizer(dir, vocab, settings, template, nativeTokenizer, cleanUp);
    }

    /** The directory this tokenizer was loaded from. */
    public Path directory() {
        return dir;
    }

    /**
     * Token ids of {@code text}. {@code addSpecialTokens} applies tokenizer.json's post-processor (e.g. a
     * BOS for Llama; nothing for Qwen3 or the project's tokenizer). Special tokens written in the text
     * ({@code <|im_start|>}) always map to their single ids, as in transformers.
     */
    public long[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        return open().encode(text, addSpecialTokens, false).getIds();
    }

    /**
     * The text of {@code ids}; with {@code skipSpecialTokens} the added tokens marked special are dropped.
     * Applies tokenizer_config.json's {@code clean_up_tokenization_spaces} like transformers 5: not for BPE
     * models, unless {@code clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output} is set.
     *
     * @throws IllegalArgumentException if an id is outside [0, {@link #vocabSize()}) or unused
     */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids");
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab.size() || vocab.tokenOf(ids[i]) == null) {
                throw new IllegalArgumentException("ids[" + i + "] = " + ids[i] + " is not a token id of "
                        + dir.resolve(TOKENIZER_JSON) + " (vocabulary size " + vocab.size() + ")");
            }
        }
        String text = open().decode(ids, skipSpecialTokens);
        return cleanUp ? cleanUpTokenization(text) : text;
    }

    /**
     * The text of one token on its own, for highlighting tokens in reports. For byte-level BPE a token
     * that is part of a multi-byte character decodes to U+FFFD, as in transformers.
     */
    public String decodeToken(long id) {
        return decode(new long[] {id}, false);
    }

    /** One past the largest token id (model vocabulary plus added tokens; transformers' {@code len(tok)}). */
    public long vocabSize() {
        return vocab.size();
    }

    /** Stop ids: tokenizer_config's {@code eos_token} united with generation_config's {@code eos_token_id}. */
    public Set<Long> eosTokenIds() {
        return settings.eosTokenIds();
    }

    /** True if {@code id} ends generation. */
    public boolean isEos(long id) {
        return settings.eosTokenIds().contains(id);
    }

    /** The BOS id, or null when the tokenizer has none (Qwen3, the project's tokenizer). */
    public Long bosTokenId() {
        return settings.bosTokenId();
    }

    /** The padding id, or null when neither config names one. */
    public Long padTokenId() {
        return settings.padTokenId();
    }

    /** The id of a token string as spelled in the vocabulary (e.g. "Ġthe", "<|im_start|>"), or null. */
    public Long tokenToId(String token) {
        return vocab.idOf(token);
    }

    /** The vocabulary string of {@code id} (transformers' {@code convert_ids_to_tokens}), or null. */
    public String idToToken(long id) {
        return vocab.tokenOf(id);
    }

    /** The chat template, or null when the directory has none. */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /**
     * Renders {@code messages} with the directory's chat template, as transformers'
     * {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=..., **extraContext)}.
     *
     * @param extraContext template variables such as {@code enable_thinking}; null for none
     * @throws IllegalStateException if the tokenizer has no chat template
     * @throws ChatTemplateException if the template raises or fails
     */
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt,
            Map<String, Object> extraContext) {
        if (chatTemplate == null) {
            throw new IllegalStateException(dir + " has no chat template (neither " + TokenizerSettings.CHAT_TEMPLATE_FILE
                    + " nor chat_template in " + TokenizerSettings.TOKENIZER_CONFIG + ")");
        }
        Map<String, String> special = new HashMap<>();
        special.put("bos_token", settings.bosToken());
        special.put("eos_token", settings.eosToken());
        special.put("pad_token", settings.padToken());
        special.put("unk_token", settings.unkToken());
        return chatTemplate.render(messages, addGenerationPrompt, special, extraContext);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            native_.close();
        }
    }

    private HuggingFaceTokenizer open() {
        if (closed) {
            throw new IllegalStateException("tokenizer from " + dir + " is closed");
        }
        return native_;
    }

    /** transformers' {@code clean_up_tokenization}: removes the space before punctuation and contractions. */
    static String cleanUpTokenization(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}
