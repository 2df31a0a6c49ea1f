package dev.linchpin.mine;

import dev.linchpin.tokenizer.Tokenizer;

/** Token ids to text: whole responses (as the verifier reads them) and single tokens (for display). */
public interface TokenText {
    /** The response text, special tokens (EOS) skipped. */
    String decode(long[] ids);

    /** One token's text on its own. */
    String token(long id);

    /** Through {@code tokenizer}. */
    static TokenText of(Tokenizer tokenizer) {
        return new TokenText() {
            @Override
            public String decode(long[] ids) {
                return tokenizer.decode(ids, true);
            }

            @Override
            public String token(long id) {
                return tokenizer.decodeToken(id);
            }
        };
    }
}
