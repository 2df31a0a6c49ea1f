package dev.linchpin.mine;

/**
 * One slice of a data set for mining on many hosts: shard {@code index} of {@code count} takes the
 * examples whose 0-based position in data order is {@code index} modulo {@code count}. Every example
 * lands in exactly one shard, and the shards' outputs concatenate to the whole (order aside).
 */
public record Shard(int index, int count) {
    /** The whole data set. */
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (count < 1 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard must be i/n with 0 <= i < n, got " + index + "/" + count);
        }
    }

    /** Parses {@code "i/n"}. */
    public static Shard parse(String text) {
        String s = text == null ? "" : text.strip();
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1) {
            throw new IllegalArgumentException("shard must be i/n (e.g. 0/4), got '" + text + "'");
        }
        try {
            return new Shard(Integer.parseInt(s.substring(0, slash)), Integer.parseInt(s.substring(slash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shard must be i/n (e.g. 0/4), got '" + text + "'", e);
        }
    }

    /** Does the example at 0-based data position {@code position} belong to this shard? */
    public boolean contains(long position) {
        return position % count == index;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
