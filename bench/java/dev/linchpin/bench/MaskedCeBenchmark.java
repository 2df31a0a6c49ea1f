package dev.linchpin.bench;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Masked LM-head cross-entropy, forward + backward, on CPU: Linchpin's fused kernel vs libtorch
 * eager (full logits) vs libtorch compact-first, side by side in one JMH run (see
 * bench/run-masked-ce-cpu.sh, which also runs the memory probe and writes bench/results/).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xss4m"})
public class MaskedCeBenchmark {
    @Param({"4096"})
    public long n;
    @Param({"512"})
    public long d;
    @Param({"32000"})
    public long v;
    @Param({"1.0", "0.12", "0.05"})
    public double density;
    @Param({"fused", "eager", "compact"})
    public String variant;
    /** Threads for libtorch (intra-op) and for the fused kernel alike. */
    @Param({"2"})
    public int threads;

    private MaskedCeVariants inputs;

    @Setup(Level.Trial)
    public void setUp() {
        Loader.load(torch.class);
        torch.set_num_threads(threads);
        inputs = new MaskedCeVariants(n, d, v, density, 42);
    }

    @Benchmark
    public double forwardBackward() {
        try (PointerScope scope = new PointerScope()) {
            return inputs.run(variant, threads);
        }
    }
}
