package dev.linchpin.train;

import java.util.Arrays;

/**
 * One training sequence: the prompt tokens (context only, no loss) followed by the response tokens
 * (trained on; by convention the response ends with the EOS id so the model learns to stop).
 *
 * @param prompt   the prompt token ids, at least one (the first response token is predicted from it)
 * @param response the response token ids, at least one
 */
public record TokenizedExample(long[] prompt, long[] response) {
    public TokenizedExample {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (response == null || response.length == 0) throw new IllegalArgumentException("response is empty");
        prompt = prompt.clone();
        response = response.clone();
    }

    /** Prompt and response lengths together. */
    public int length() {
        return prompt.length + response.length;
    }

    /** The whole sequence, prompt then response. */
    public long[] sequence() {
        long[] all = Arrays.copyOf(prompt, length());
        System.arraycopy(response, 0, all, prompt.length, response.length);
        return all;
    }

    @Override
    public long[] prompt() {
        return prompt.clone();
    }

    @Override
    public long[] response() {
        return response.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedExample e && Arrays.equals(prompt, e.prompt) && Arrays.equals(response, e.response);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(prompt) + Arrays.hashCode(response);
    }

    @Override
    public String toString() {
        return "TokenizedExample[prompt=" + prompt.length + " tokens, response=" + response.length + " tokens]";
    }
}
