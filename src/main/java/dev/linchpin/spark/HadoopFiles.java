package dev.linchpin.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The job's files on any Hadoop file system (a local path, {@code file:}, {@code hdfs://}, {@code s3a://}...),
 * with the Hadoop configuration carried to the executors (a {@link Configuration} is not serializable).
 *
 * <p>The miner itself writes local files (it forces each batch to disk through a file channel), so a
 * task mines into its executor's local directory and copies the result here; a file on the local file
 * system is used in place. Local paths go through Hadoop's raw local file system, which writes no
 * {@code .crc} side files.
 */
final class HadoopFiles implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Map<String, String> conf;

    HadoopFiles(Configuration conf) {
        this.conf = new HashMap<>();
        for (Map.Entry<String, String> e : conf) this.conf.put(e.getKey(), e.getValue());
    }

    Configuration configuration() {
        Configuration c = new Configuration(false);
        conf.forEach(c::set);
        return c;
    }

    /** The file system of {@code path}, the raw one for local paths. */
    FileSystem fs(Path path) throws IOException {
        FileSystem fs = path.getFileSystem(configuration());
        return fs instanceof LocalFileSystem local ? local.getRaw() : fs;
    }

    /** {@code path} as a local file when it lives on the local file system, else null. */
    java.nio.file.Path localFile(Path path) throws IOException {
        FileSystem fs = fs(path);
        if (!"file".equals(fs.getUri().getScheme())) return null;
        URI uri = fs.makeQualified(path).toUri();
        return java.nio.file.Path.of(uri);
    }

    /** A local file with {@code path}'s contents: the file itself when local, else a copy into {@code dir}. */
    java.nio.file.Path localCopy(Path path, java.nio.file.Path dir) throws IOException {
        java.nio.file.Path local = localFile(path);
        if (local != null) return local;
        java.nio.file.Path copy = dir.resolve(path.getName());
        download(path, copy);
        return copy;
    }

    void download(Path from, java.nio.file.Path to) throws IOException {
        try (InputStream in = fs(from).open(from)) {
            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Copies {@code local} to {@code target} unless a file is already there: through a temporary file in
     * the target's directory, then one publishing step that never replaces an existing file (a hard link
     * on the local file system, a rename on HDFS, which refuses an existing target). Returns false when
     * {@code target} existed. Object stores emulate rename by copying, so there the step is not atomic;
     * the attempts that can race on one name write the same records (see the package comment).
     */
    boolean publishIfAbsent(java.nio.file.Path local, Path target) throws IOException {
        FileSystem fs = fs(target);
        if (fs.exists(target)) return false;
        Path tmp = new Path(target.getParent(), ".tmp-" + UUID.randomUUID() + "-" + target.getName());
        try {
            try (InputStream in = Files.newInputStream(local); OutputStream out = fs.create(tmp, false)) {
                in.transferTo(out);
            }
            java.nio.file.Path localTmp = localFile(tmp);
            if (localTmp != null) {
                java.nio.file.Path localTarget = localFile(target);
                try {
                    Files.createLink(localTarget, localTmp);
                    return true;
                } catch (FileAlreadyExistsException e) {
                    return false;
                } catch (UnsupportedOperationException | IOException e) {
                    // a shared file system without hard links: a move that refuses an existing target
                    // (checked, then renamed: a race between two attempts leaves one of two equal files)
                    try {
                        Files.move(localTmp, localTarget);
                        return true;
                    } catch (FileAlreadyExistsException e2) {
                        return false;
                    }
                }
            }
            return fs.rename(tmp, target);
        } finally {
            fs.delete(tmp, false);
        }
    }

    String readString(Path path) throws IOException {
        try (InputStream in = fs(path).open(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Writes {@code text} to {@code path} through a temporary sibling and a rename (replacing the file). */
    void writeString(Path path, String text) throws IOException {
        FileSystem fs = fs(path);
        Path tmp = new Path(path.getParent(), ".tmp-" + UUID.randomUUID() + "-" + path.getName());
        try (OutputStream out = fs.create(tmp, false)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        replace(fs, tmp, path);
    }

    /** Moves {@code tmp} over {@code path}: atomic on a local file system, delete-then-rename elsewhere. */
    static void replace(FileSystem fs, Path tmp, Path path) throws IOException {
        FileSystem raw = fs;
        if ("file".equals(raw.getUri().getScheme())) {
            Files.move(java.nio.file.Path.of(raw.makeQualified(tmp).toUri()), java.nio.file.Path.of(raw.makeQualified(path).toUri()),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        if (fs.exists(path)) fs.delete(path, false);
        if (!fs.rename(tmp, path)) throw new IOException("cannot rename " + tmp + " to " + path);
    }
}
