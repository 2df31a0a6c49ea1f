package dev.linchpin.data;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads UTF-8 lines ('\n' or "\r\n") from bytes, decoding each line on its own so a malformed byte is
 * reported on the line it is on, and never holding more than {@code maxBytes} of one line, so a hostile
 * file with a gigantic line cannot exhaust memory (BufferedReader.readLine would try).
 */
final class BoundedLineReader implements Closeable {
    /** Thrown when a line is longer than the limit. */
    static final class LineTooLongException extends IOException {
        private static final long serialVersionUID = 1L;

        LineTooLongException(int max) {
            super("line longer than " + max + " bytes");
        }
    }

    private final InputStream in;
    private final int maxBytes;
    private final byte[] buf = new byte[64 * 1024];
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private int pos, len;
    private boolean eof;

    BoundedLineReader(InputStream in, int maxBytes) {
        this.in = in;
        this.maxBytes = maxBytes;
    }

    /**
     * The next line without its terminator, or null at end of input.
     *
     * @throws CharacterCodingException if the line is not valid UTF-8
     * @throws LineTooLongException     if the line exceeds the limit
     */
    String readLine() throws IOException {
        line.reset();
        boolean any = false;
        while (true) {
            if (pos == len) {
                if (eof) {
                    return any ? decode() : null;
                }
                len = in.read(buf, 0, buf.length);
                pos = 0;
                if (len <= 0) {
                    len = 0;
                    eof = true;
                    continue;
                }
            }
            any = true;
            int start = pos;
            while (pos < len && buf[pos] != '\n') {
                pos++;
            }
            if (line.size() + (pos - start) > maxBytes) {
                skipRestOfLine();
                throw new LineTooLongException(maxBytes);
            }
            line.write(buf, start, pos - start);
            if (pos < len) { // at '\n'
                pos++;
                return decode();
            }
        }
    }

    private void skipRestOfLine() throws IOException {
        while (true) {
            while (pos < len) {
                if (buf[pos++] == '\n') {
                    return;
                }
            }
            len = in.read(buf, 0, buf.length);
            pos = 0;
            if (len <= 0) {
                len = 0;
                eof = true;
                return;
            }
        }
    }

    private String decode() throws CharacterCodingException {
        byte[] bytes = line.toByteArray();
        int n = bytes.length;
        if (n > 0 && bytes[n - 1] == '\r') {
            n--;
        }
        return decoder.reset().decode(ByteBuffer.wrap(bytes, 0, n)).toString();
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
