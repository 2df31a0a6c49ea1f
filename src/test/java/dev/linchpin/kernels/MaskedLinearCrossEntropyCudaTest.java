package dev.linchpin.kernels;

import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.CudaTesting;
import dev.linchpin.testing.TorchTesting;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA kernel through the Java facade against the CPU twin on the same (dtype-rounded) inputs.
 * Needs libtorch's CUDA build (-Pgpu) and a GPU; skipped by assumption anywhere else.
 */
@Tag("gpu")
class MaskedLinearCrossEntropyCudaTest {

    @ParameterizedTest(name = "{0} N={1} D={2} V={3} density={4}")
    @CsvSource({
        "Float, 1, 16, 7, 1.0", "Float, 33, 40, 4099, 0.12", "Float, 256, 128, 32000, 0.05",
        "BFloat16, 64, 64, 3001, 1.0", "BFloat16, 512, 256, 32000, 0.12", "BFloat16, 300, 96, 5000, 0.01",
        "Half, 64, 64, 3001, 1.0", "Half, 512, 256, 32000, 0.12"})
    void matchesTheCpuTwin(String dtype, long n, long d, long v, double density) {
        TorchTesting.assumeCuda();
        CudaTesting.assumeCudaBackend();
        ScalarType type = ScalarType.valueOf(dtype);
        Random rnd = new Random(TorchTesting.seed("cuda masked CE " + dtype));
        try (PointerScope scope = new PointerScope()) {
            Tensor[] in = MaskedLinearCrossEntropyTest.inputs(rnd, n, d, v, density, true, true);
            // Round h and W to the dtype once, so the CPU twin sees exactly what the GPU sees.
            Tensor h = in[0].to(type).to(ScalarType.Float), W = in[1].to(type).to(ScalarType.Float);
            double denom = Math.max(1, n * density);
            MaskedCeOptions all = MaskedCeOptions.defaults().withGrads(true, true).withLogProbs(true).withEntropy(true);
            MaskedCeResult cpu = MaskedLinearCrossEntropy.compute(h, W, in[2], in[3], denom, all);

            Device cuda = new Device("cuda:0");
            MaskedCeResult gpu = MaskedLinearCrossEntropy.compute(h.to(cuda, type), W.to(cuda, type),
                    in[2].to(cuda, ScalarType.Long), in[3].to(cuda, ScalarType.Float), denom, all);

            // fp32 inputs: both sides accumulate in fp32 → 1e-4. bf16/fp16 inputs are identical on both
            // sides and products of 16-bit pairs are exact in fp32, so the forward differs only in the
            // summation order: 2e-3 leaves room. The backward GEMMs read the gradient rounded to the
            // input dtype (as PyTorch's autograd does): 2^-11 (fp16) or 2^-9 (bf16) relative per element,
            // up to ~2x that of the largest |dh| or |dW|; 4e-3 and 1.6e-2 leave a 4x margin.
            double tol = type == ScalarType.Float ? 1e-4 : 2e-3;
            double gradTol = type == ScalarType.Float ? 1e-4 : type == ScalarType.Half ? 4e-3 : 1.6e-2;
            Device cpuDevice = new Device("cpu");
            double lossErr = Math.abs(gpu.lossValue() - cpu.lossValue()) / Math.max(1e-6, Math.abs(cpu.lossValue()));
            assertTrue(lossErr <= tol, "loss " + gpu.lossValue() + " vs CPU " + cpu.lossValue());
            assertTrue(relErr(gpu.inputGrad().to(cpuDevice, ScalarType.Float), cpu.inputGrad()) <= gradTol, "dh");
            assertTrue(relErr(gpu.weightGrad().to(cpuDevice, ScalarType.Float), cpu.weightGrad()) <= gradTol, "dW");
            assertTrue(relErr(gpu.logProbs().to(cpuDevice, ScalarType.Float), cpu.logProbs()) <= tol, "logp");
            assertTrue(relErr(gpu.entropy().to(cpuDevice, ScalarType.Float), cpu.entropy()) <= tol, "entropy");
        }
    }
}
