package dev.linchpin.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.nativ.CudaDevice;
import dev.linchpin.nativ.DeviceBuffer;
import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeStatus;
import dev.linchpin.testing.CudaTesting;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA fused masked linear-CE against its CPU twin ({@code lp_cpu_masked_linear_ce} on host
 * memory), through the C ABI and {@link DeviceBuffer}: no libtorch, so it runs from the GPU bundle.
 *
 * <p>Fresh random inputs every run (seed printed). Rows with weight 0 carry NaN/Inf activations and
 * out-of-range targets, which must not leak. For bf16/f16 the inputs are rounded to the dtype once and
 * the CPU twin gets exactly the values the GPU reads, so only the accumulation differs. Every output
 * is poisoned with NaN (all bytes 0xFF) before the run; a NaN never passes a comparison.
 *
 * <p>Tolerances, as argued in tests/native/test_masked_ce_cuda.cu: f32 rtol 1e-4 / arel 1e-5 (fp32
 * on both sides, summation order only); 16-bit forward (loss, logp, entropy) rtol 1e-3 / arel 1e-4;
 * 16-bit backward: fp16 rtol 1e-2 / arel 4e-3, bf16 rtol 2e-2 / arel 1.6e-2 (the backward cuBLAS GEMMs
 * read the gradient rounded to the input dtype: 2^-11 and 2^-9 relative per element).
 */
@Tag("gpu")
class MaskedCeCudaRawTest {
    private static final int F32 = LinchpinNative.LP_F32, BF16 = LinchpinNative.LP_BF16, F16 = LinchpinNative.LP_F16;

    /** chunkRows 0: the default budget (one chunk here); k > 0: a budget of exactly k rows. */
    @ParameterizedTest(name = "{0} N={1} D={2} V={3} density={4} chunkRows={5}")
    @CsvSource({
        "f32, 1, 16, 7, 1.0, 0", "f32, 65, 24, 129, 1.0, 0", "f32, 200, 72, 3001, 0.12, 0", "f32, 200, 72, 3001, 0.5, 7",
        "bf16, 64, 64, 128, 1.0, 0", "bf16, 513, 128, 2053, 0.12, 0", "bf16, 300, 40, 20011, 0.05, 0",
        "bf16, 300, 64, 2053, 0.5, 1", "bf16, 513, 128, 2053, 1.0, 100",
        "f16, 37, 33, 1000, 1.0, 0", "f16, 513, 128, 2053, 0.12, 0", "f16, 64, 4096, 777, 0.12, 0",
        "f16, 300, 64, 2053, 0.5, 3"})
    void matchesTheCpuTwin(String dtypeName, int n, int d, int v, double density, int chunkRows) {
        CudaTesting.assumeCudaBackend();
        int dtype = switch (dtypeName) {
            case "f32" -> F32;
            case "bf16" -> BF16;
            default -> F16;
        };
        System.out.println("device: " + CudaDevice.name());
        Random rnd = new Random(GpuTestSeeds.seed("raw CUDA masked CE " + dtypeName + " " + n + "x" + d + "x" + v));

        // ---- inputs: logits ~ N(0, 2^2); masked rows hold NaN/Inf and garbage targets ----
        float[] h = new float[n * d], wMat = new float[v * d], w = new float[n];
        long[] y = new long[n];
        boolean[] selected = new boolean[n];
        float wscale = (float) (2 * Math.sqrt(3.0 / d));
        for (int i = 0; i < h.length; i++) h[i] = 2 * rnd.nextFloat() - 1;
        for (int i = 0; i < wMat.length; i++) wMat[i] = (2 * rnd.nextFloat() - 1) * wscale;
        int count = 0;
        for (int i = 0; i < n; i++) {
            selected[i] = rnd.nextDouble() < density;
            if (selected[i]) {
                count++;
                w[i] = rnd.nextBoolean() ? 0.1f + 1.9f * rnd.nextFloat() : -(0.1f + 0.9f * rnd.nextFloat());
                y[i] = rnd.nextInt(v);
            } else {
                long[] garbage = {-1, v, v + 1000L, Long.MAX_VALUE, Long.MIN_VALUE};
                y[i] = garbage[rnd.nextInt(garbage.length)];
                switch (rnd.nextInt(3)) {
                    case 0 -> java.util.Arrays.fill(h, i * d, (i + 1) * d, Float.NaN);
                    case 1 -> h[i * d + rnd.nextInt(d)] = Float.POSITIVE_INFINITY;
                    default -> h[i * d + rnd.nextInt(d)] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        double denom = Math.max(1, count);
        short[] h16 = null, w16 = null;
        if (dtype != F32) {   // round once; the CPU twin sees the widened 16-bit values
            h16 = new short[h.length];
            w16 = new short[wMat.length];
            for (int i = 0; i < h.length; i++) {
                h16[i] = dtype == BF16 ? Float16Bits.toBf16(h[i]) : Float16Bits.toF16(h[i]);
                h[i] = dtype == BF16 ? Float16Bits.fromBf16(h16[i]) : Float16Bits.fromF16(h16[i]);
            }
            for (int i = 0; i < wMat.length; i++) {
                w16[i] = dtype == BF16 ? Float16Bits.toBf16(wMat[i]) : Float16Bits.toF16(wMat[i]);
                wMat[i] = dtype == BF16 ? Float16Bits.fromBf16(w16[i]) : Float16Bits.fromF16(w16[i]);
            }
        }
        float[] dW0 = new float[v * d];
        for (int i = 0; i < dW0.length; i++) dW0[i] = 1e-3f * (2 * rnd.nextFloat() - 1);

        // ---- reference: the CPU twin on host memory ----
        float[] lossRef = new float[1], dhRef = new float[n * d], dWRef = dW0.clone(), logpRef = new float[n],
                entRef = new float[n];
        try (FloatPointer ph = new FloatPointer(h); FloatPointer pW = new FloatPointer(wMat);
             LongPointer py = new LongPointer(y); FloatPointer pw = new FloatPointer(w);
             FloatPointer pLoss = new FloatPointer(1); FloatPointer pdh = new FloatPointer(dhRef.length);
             FloatPointer pdW = new FloatPointer(dWRef); FloatPointer pLogp = new FloatPointer(n);
             FloatPointer pEnt = new FloatPointer(n)) {
            NativeStatus.check(LinchpinNative.lp_cpu_masked_linear_ce(ph, pW, py, pw, n, d, v, denom,
                    pLoss, pdh, pdW, pLogp, pEnt, 0, 0), "CPU twin");
            pLoss.get(lossRef);
            pdh.get(dhRef);
            pdW.get(dWRef);
            pLogp.get(logpRef);
            pEnt.get(entRef);
        }

        // ---- the CUDA kernel on device buffers, outputs poisoned ----
        float[] loss = new float[1], dh = new float[n * d], dW = new float[v * d], logp = new float[n], ent = new float[n];
        long chunkBytes = chunkRows * LinchpinNative.lp_masked_linear_ce_row_bytes(d, v, dtype);
        long wsBytes = LinchpinNative.lp_cuda_masked_linear_ce_workspace_size(n, d, v, dtype, chunkBytes);
        assertTrue(wsBytes >= 0, "workspace size query failed");
        int esz = dtype == F32 ? 4 : 2;
        try (DeviceBuffer dH = DeviceBuffer.allocate(h.length, esz);
             DeviceBuffer dWm = DeviceBuffer.allocate(wMat.length, esz);
             DeviceBuffer dY = DeviceBuffer.allocate(n, 8); DeviceBuffer dw = DeviceBuffer.allocate(n, 4);
             DeviceBuffer dLoss = DeviceBuffer.allocate(1, 4); DeviceBuffer ddh = DeviceBuffer.allocate(dh.length, 4);
             DeviceBuffer ddW = DeviceBuffer.allocate(dW.length, 4); DeviceBuffer dLogp = DeviceBuffer.allocate(n, 4);
             DeviceBuffer dEnt = DeviceBuffer.allocate(n, 4); DeviceBuffer ws = DeviceBuffer.allocate(Math.max(1, wsBytes))) {
            if (dtype == F32) {
                dH.upload(h);
                dWm.upload(wMat);
            } else {
                dH.upload(h16);
                dWm.upload(w16);
            }
            dY.upload(y);
            dw.upload(w);
            ddW.upload(dW0);
            for (DeviceBuffer out : List.of(dLoss, ddh, dLogp, dEnt, ws)) out.fill(0xFF);   // NaN everywhere
            int status = LinchpinNative.lp_cuda_masked_linear_ce(dH.pointer(), dWm.pointer(), dtype, dY.pointer(),
                    dw.pointer(), n, d, v, denom, dLoss.pointer(), ddh.pointer(), ddW.pointer(), dLogp.pointer(),
                    dEnt.pointer(), ws.pointer(), wsBytes, chunkBytes, new Pointer());
            NativeStatus.check(status, "lp_cuda_masked_linear_ce");
            CudaDevice.synchronize();
            dLoss.download(loss);
            ddh.download(dh);
            ddW.download(dW);
            dLogp.download(logp);
            dEnt.download(ent);
        }

        // ---- compare ----
        boolean f32 = dtype == F32;
        double fR = f32 ? 1e-4 : 1e-3, fA = f32 ? 1e-5 : 1e-4;
        double bR = f32 ? 1e-4 : dtype == F16 ? 1e-2 : 2e-2, bA = f32 ? 1e-5 : dtype == F16 ? 4e-3 : 1.6e-2;
        List<String> failures = new ArrayList<>();
        double absLoss = 0;
        for (int i = 0; i < n; i++) if (selected[i]) absLoss += Math.abs((double) w[i] * logpRef[i]) / denom;
        double lossErr = Math.abs((double) loss[0] - lossRef[0]);
        double lossTol = fR * Math.abs(lossRef[0]) + fA * absLoss + 1e-6;
        if (!(lossErr <= lossTol)) failures.add("loss " + loss[0] + " vs CPU " + lossRef[0] + " (tol " + lossTol + ")");
        for (int i = 0; i < n; i++) {
            if (selected[i]) continue;
            if (!(logp[i] == 0f && ent[i] == 0f)) failures.add("masked row " + i + ": logp " + logp[i] + " entropy " + ent[i]);
            for (int k = 0; k < d; k++) {
                if (!(dh[i * d + k] == 0f)) {
                    failures.add("masked row " + i + ": dh[" + k + "] = " + dh[i * d + k]);
                    break;
                }
            }
        }
        float[] inc = new float[dW.length], incRef = new float[dW.length];
        double max0 = 0;
        for (int k = 0; k < dW.length; k++) {
            inc[k] = dW[k] - dW0[k];
            incRef[k] = dWRef[k] - dW0[k];
            max0 = Math.max(max0, Math.abs(dW0[k]));
        }
        addIfMismatch(failures, Closeness.mismatch("logp", logp, logpRef, fR, fA, 1e-6));
        addIfMismatch(failures, Closeness.mismatch("entropy", ent, entRef, fR, fA, 1e-6));
        addIfMismatch(failures, Closeness.mismatch("dh", dh, dhRef, bR, bA, 1e-12));
        // the float subtraction dW - dW0 itself costs up to an ulp of |dW0| on each side
        addIfMismatch(failures, Closeness.mismatch("dW increment", inc, incRef, bR, bA, 1e-12 + 4 * 0x1p-24 * max0));
        assertEquals(List.of(), failures, "CUDA vs CPU twin (" + count + " of " + n + " rows selected)");
    }

    private static void addIfMismatch(List<String> failures, String mismatch) {
        if (mismatch != null) failures.add(mismatch);
    }
}
