import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Extracts the entries of a jar under a prefix into a folder, dropping the prefix:
 * {@code java -cp tools ExtractJar <jar> <prefix> <dest>}. bench/gpu/run.sh uses it on GPU hosts
 * (which may lack unzip) to unpack OpenBLAS (cblas.h, libopenblas.so.0) for the native build from
 * the one copy the bundle carries, inside the OpenBLAS jar that Java loads too.
 */
public final class ExtractJar {
    private ExtractJar() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: ExtractJar <jar> <prefix> <dest>");
            System.exit(2);
        }
        Path dest = Path.of(args[2]).toAbsolutePath().normalize();
        int count = 0;
        try (ZipFile zip = new ZipFile(args[0])) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (entry.isDirectory() || !entry.getName().startsWith(args[1])) continue;
                Path out = dest.resolve(entry.getName().substring(args[1].length())).normalize();
                if (!out.startsWith(dest)) throw new IOException("entry escapes the destination: " + entry.getName());
                Files.createDirectories(out.getParent());
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
                count++;
            }
        }
        if (count == 0) throw new IOException("no entry under " + args[1] + " in " + args[0]);
        System.out.println("extracted " + count + " files from " + args[0] + " into " + dest);
    }
}
