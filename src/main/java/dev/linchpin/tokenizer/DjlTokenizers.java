package dev.linchpin.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Creates DJL {@link HuggingFaceTokenizer}s that never touch the network and never rewrite text.
 *
 * <p>Offline: DJL's loader picks a native "flavor" for the platform; on a machine with a CUDA GPU it picks
 * a CUDA flavor that is not in the jar and downloads it from publish.djl.ai. Setting {@code RUST_FLAVOR=cpu}
 * (and {@code ai.djl.offline=true}) makes it extract the CPU library that ships inside the jar instead
 * (to {@code ~/.djl.ai/tokenizers}, or {@code $ENGINE_CACHE_DIR}/{@code $DJL_CACHE_DIR}). Both are set as
 * system properties before the first load, unless the user set them (as property or environment variable).
 *
 * <p>Verbatim: DJL's Java wrapper by default truncates to 512 tokens, may pad, lower-case or strip
 * accents, and cleans up spaces on decode. All of that is switched off here; the Rust library does
 * exactly what tokenizer.json says, and {@link Tokenizer} applies tokenizer_config.json's options itself.
 */
final class DjlTokenizers {
    private static final Map<String, String> VERBATIM = Map.of(
            "truncation", "false",
            "padding", "false",
            "doLowerCase", "false",
            "addSpecialTokens", "true",
            "withOverflowingTokens", "false");

    private DjlTokenizers() {}

    static synchronized void configureOffline() {
        setIfUnset("RUST_FLAVOR", "RUST_FLAVOR", "cpu");
        setIfUnset("ai.djl.offline", "DJL_OFFLINE", "true");
    }

    private static void setIfUnset(String property, String env, String value) {
        if (System.getProperty(property) == null && System.getenv(env) == null) {
            System.setProperty(property, value);
        }
    }

    /** Builds the native tokenizer from the text of {@code file} (already validated as JSON). */
    static HuggingFaceTokenizer create(Path file, String json) throws TokenizerFileException {
        configureOffline();
        try {
            return HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), VERBATIM);
        } catch (IOException | RuntimeException e) {
            // The Rust side reports schema errors ("data did not match any variant ...") as exceptions.
            throw new TokenizerFileException(file, "rejected by the tokenizers library: " + e.getMessage(), e);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("DJL's tokenizers native library could not be loaded: " + e.getMessage(), e);
        }
    }
}
