package dev.linchpin.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;

/**
 * Peak extra resident memory of one forward + backward of a variant, measured by the kernel's own
 * accounting of the process: reset the peak (VmHWM, via /proc/self/clear_refs = 5), record VmRSS,
 * run once, read VmHWM. Run one variant per JVM (bench/run-masked-ce-cpu.sh does) so nothing else
 * in the process moves the peak. Prints one JSON line.
 *
 * <p>Usage: MaskedCeMemoryProbe VARIANT DENSITY [N D V THREADS]
 */
public final class MaskedCeMemoryProbe {
    private MaskedCeMemoryProbe() {}

    public static void main(String[] args) throws IOException {
        String variant = args[0];
        double density = Double.parseDouble(args[1]);
        long n = args.length > 2 ? Long.parseLong(args[2]) : 4096;
        long d = args.length > 3 ? Long.parseLong(args[3]) : 512;
        long v = args.length > 4 ? Long.parseLong(args[4]) : 32000;
        int threads = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        Loader.load(torch.class);
        torch.set_num_threads(threads);
        MaskedCeVariants inputs = new MaskedCeVariants(n, d, v, density, 42);
        try (PointerScope warm = new PointerScope()) {   // load every library and code path once
            inputs.run(variant, threads);
        }
        System.gc();
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        long before = status("VmRSS");
        double loss;
        try (PointerScope scope = new PointerScope()) {
            loss = inputs.run(variant, threads);
        }
        long peak = status("VmHWM");
        System.out.printf(Locale.ROOT,
                "{\"variant\":\"%s\",\"density\":%s,\"n\":%d,\"d\":%d,\"v\":%d,\"peak_extra_mb\":%.1f,\"loss\":%.6f}%n",
                variant, density, n, d, v, (peak - before) / 1024.0, loss);
    }

    /** A field of /proc/self/status in KiB. */
    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IOException(field + " not in /proc/self/status");
    }
}
