#!/usr/bin/env python3
"""PyTorch peers of the fused masked linear cross-entropy, fwd+bwd: what a user runs instead.

loss = sum_i w_i * CE(W h_i, y_i) / denom, then backward to h and W, for every peer:
  torch_eager                 full logits [N, V] + F.cross_entropy (reduction="none") * w
  torch_compact_first         rows with w != 0 selected first (index_select), then the same code
  torch_compile               torch.compile of torch_eager (dynamic=False)
  torch_compile_compact_first torch.compile of torch_compact_first (dynamic=False)
  liger_flce                  GPU only, if importable: Liger-Kernel's fused linear cross-entropy
                              (liger_kernel.ops.fused_linear_cross_entropy.LigerFusedLinearCrossEntropyFunction,
                              what LigerFusedLinearCrossEntropyLoss calls), its defaults (dW accumulated in
                              the weight's dtype across its row chunks); all N rows go in, as a training loop
                              passes them: the masked ones as ignore_index
  liger_flce_compact_first    the same on the rows with w != 0 only (selected first, as compact-first)
  cut_cross_entropy           GPU only, if importable: Apple's cut_cross_entropy.linear_cross_entropy with its
                              defaults (impl "cce": gradient filter filter_eps="auto", bf16 dE/dC accumulation);
                              it drops the ignore_index rows itself
  cut_cross_entropy_exact     the same with impl="cce_exact" (no gradient filter, fp32 accumulation)
Liger and CCE get the masked rows as ignore_index (-100) and reduction="mean", the mean over the rows
with w != 0: the same loss as the others' sum(w * CE) / denom, since w is 0/1 and denom = their count.
They come from the GPU bundle's pylib/ (bench/gpu/pylib.sh: pinned commits, VERSIONS.txt; run.sh puts
it on PYTHONPATH, and this script finds it next to itself too) or from an installed package.
and the three-GEMM ceiling at the compacted shapes (M = rows with w != 0): logits = hc W^T,
dh = G W, dW = G^T hc, timed alone with the same library the peers use:
  gemm3_torch                 torch.matmul (cuBLAS on a GPU; MKL in PyTorch's CPU wheels)
  gemm3_onednn                CPU only: the same three products through oneDNN (torch's mkldnn_linear)
On a GPU also one gemm_ceiling record: an 8192^3 bf16 matmul, the device's matrix rate.

--device cuda (default; exits 77 without a GPU, as bench/gpu/run.sh expects) or cpu.
Timing: CUDA events on a GPU, perf_counter on the CPU; warm-up, then median and min of `iters`.
Memory: GPU torch.cuda.max_memory_allocated over one step (peak_extra_mb: above what was allocated
before it); CPU the process's resident peak over one step (VmHWM after resetting it through
/proc/self/clear_refs, minus VmRSS before), after a first step, so gradient buffers already exist
as in a training loop (grads accumulate; the Java memory probe measures Linchpin the same way).
tflops counts 6 * M * D * V. Sizes that run out of memory are "oom"; past --deadline-s the rest is
"skipped". Gradients: the first peer of a configuration that runs (torch_eager unless --impls leaves it
out) is the reference ("grad_ref"); every later one records rel_err_dh and rel_err_dW, the relative
Frobenius distance of its first step's dh and dW to the reference's (bf16 peers against a bf16 eager:
~1e-2 is rounding; the reference waits in host memory, so peak_mb stays what the peer itself takes).
Losses must agree with torch_eager's (rel. 1e-2), else the record is an error.
Appends one JSON object per line to --jsonl. Needs torch; Liger and cut-cross-entropy are
optional (they need triton and CUDA). CPU venv: bench/requirements-peers-cpu.txt.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from _peer import Recorder

GPU_CONFIGS = [  # (N, D, V, density): the 12 % configurations first, since the goals are stated there
    (4096, 4096, 128256, 0.12), (16384, 4096, 128256, 0.12), (8192, 2304, 256000, 0.12),
    (4096, 4096, 128256, 0.05), (16384, 4096, 128256, 0.05), (8192, 2304, 256000, 0.05),
    (4096, 4096, 128256, 1.0), (16384, 4096, 128256, 1.0), (8192, 2304, 256000, 1.0),
]
CPU_CONFIGS = [(4096, 512, 32000, 1.0), (4096, 512, 32000, 0.12), (4096, 512, 32000, 0.05)]
IGNORE = -100


def masked_ce(h, W, y, w, denom):
    logits = (h @ W.t()).float()
    return (F.cross_entropy(logits, y, reduction="none") * w).sum() / denom


def compact_first(h, W, y, w, denom):
    idx = w.nonzero().squeeze(1)
    return masked_ce(h.index_select(0, idx), W, y.index_select(0, idx), w.index_select(0, idx), denom)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsonl", required=True, help="append results here")
    ap.add_argument("--deadline-s", type=float, default=1e9, help="seconds after which the rest is skipped")
    ap.add_argument("--quick", action="store_true", help="1 warm-up, 3 timed steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--threads", type=int, default=0, help="CPU: torch.set_num_threads (0: leave torch's default)")
    ap.add_argument("--config", action="append", default=[],
                    help="N,D,V,density (repeatable); default: the device's configurations")
    ap.add_argument("--dtype", choices=("bf16", "fp32"), default=None, help="default bf16 on cuda, fp32 on cpu")
    ap.add_argument("--impls", default="", help="comma-separated subset of the implementations")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile peers")
    args = ap.parse_args()
    if args.quick:
        args.warmup, args.iters = 1, 3
    args.dtype = args.dtype or ("bf16" if args.device == "cuda" else "fp32")
    return args


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


class Device:
    """Timing, synchronisation and peak memory for one device."""

    def __init__(self, kind):
        self.kind = kind
        self.cuda = kind == "cuda"
        self.name = torch.cuda.get_device_name() if self.cuda else f"{cpu_model()} ({os.cpu_count()} vCPU)"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def time_ms(self, fn, warmup, iters):
        for _ in range(warmup):
            fn()
        self.sync()
        times = []
        for _ in range(iters):
            if self.cuda:
                start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                stop.record()
                stop.synchronize()
                times.append(start.elapsed_time(stop))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times), min(times)

    def peak_mb(self, fn):
        """(peak, peak above the start) in MiB over one call of fn."""
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            fn()
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
            return peak / 2**20, (peak - base) / 2**20
        with open("/proc/self/clear_refs", "w") as f:   # resets VmHWM to the current VmRSS
            f.write("5")
        base = _status_kib("VmRSS")
        fn()
        peak = _status_kib("VmHWM")
        return peak / 1024, (peak - base) / 1024

    def oom_errors(self):
        return (torch.cuda.OutOfMemoryError, MemoryError) if self.cuda else (MemoryError,)


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(field + " not in /proc/self/status")


def make_recorder(args, dev):
    return Recorder(args, device=dev.name, bench="masked_linear_ce", dtype=args.dtype,
                    threads=torch.get_num_threads() if not dev.cuda else None)


def inputs(dev, N, D, V, density, dtype, seed):
    """h, W (requiring grad), y, w with exactly round(density * N) rows of weight 1 at random places."""
    g = torch.Generator(device=dev.kind).manual_seed(seed)
    h = torch.randn(N, D, device=dev.kind, generator=g)
    W = torch.randn(V, D, device=dev.kind, generator=g) * (1 / math.sqrt(D))
    y = torch.randint(0, V, (N,), device=dev.kind, generator=g)
    active = round(density * N)
    w = torch.zeros(N, device=dev.kind)
    w[torch.randperm(N, device=dev.kind, generator=g)[:active]] = 1.0
    h = h.to(dtype).requires_grad_()
    W = W.to(dtype).requires_grad_()
    return h, W, y, w


OPTIONAL = ("liger_flce", "liger_flce_compact_first", "cut_cross_entropy", "cut_cross_entropy_exact")
LIGER_ARGS = ("_input", "weight", "target", "bias", "ce_weight", "ignore_index", "lse_square_scale",
              "label_smoothing", "reduction")


def find_pylib():
    """The GPU bundle's pylib/ (bench/gpu/pylib.sh) put first on sys.path, when it is there: $LP_PYLIB,
    <bundle>/pylib beside <bundle>/src/bench/gpu/peers/ (this script in the bundle), or <repo>/bundle/pylib."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("LP_PYLIB", ""), os.path.join(here, "..", "..", "..", "..", "pylib"),
                  os.path.join(here, "..", "..", "..", "bundle", "pylib")]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "VERSIONS.txt")):
            c = os.path.realpath(c)
            if c not in sys.path:
                sys.path.insert(0, c)
            return c
    return None


def _source(module, pylib, repo):
    """Where a peer comes from: the bundle's pinned commit, or an installed package's version."""
    path = os.path.realpath(module.__file__)
    return _where(module, path, pylib, repo) + _triton()


def _triton():
    try:
        import triton
        return f", triton {triton.__version__}"
    except Exception:  # noqa: BLE001 - provenance only
        return ""


def _where(module, path, pylib, repo):
    if pylib and path.startswith(pylib + os.sep):
        with open(os.path.join(pylib, "VERSIONS.txt")) as f:
            for line in f:
                if line.split() and line.split()[0] == module.__name__.split(".")[0]:
                    return f"{repo}@{line.split()[2][:12]} (bundle pylib)"
        return f"{repo} (bundle pylib)"
    try:
        from importlib.metadata import version
        return f"{repo} {version(module.__name__.split('.')[0].replace('_', '-'))} ({os.path.dirname(path)})"
    except Exception:  # noqa: BLE001 - provenance only
        return f"{repo} ({os.path.dirname(path)})"


def _why(e, pylib):
    why = f"not importable: {type(e).__name__}: {e}"
    if isinstance(e, ImportError) and getattr(e, "name", None) in ("liger_kernel", "cut_cross_entropy"):
        why += " (no bundle pylib/ found: pack.sh without --no-pylib, bench/gpu/pylib.sh)" if pylib is None \
            else f" (not in {pylib})"
    elif isinstance(e, ImportError) and getattr(e, "name", None) == "triton":
        why += " (these peers are Triton kernels: the host's PyTorch has no triton)"
    return why[:300]


def optional_peers(dev, wanted):
    """Liger's fused linear CE and cut-cross-entropy (CUDA only): [(name, fn or None, why not, source)].

    Every fn(h, W, y, w, denom) returns the mean CE over the rows with w != 0 (the masked rows are
    ignore_index); backward gives dh and dW like the torch peers. Only the names in `wanted` (all when
    empty) are imported."""
    out = []
    names = [n for n in OPTIONAL if not wanted or n in wanted]
    if not dev.cuda or not names:
        return out
    pylib = find_pylib()
    liger_names = [n for n in names if n.startswith("liger")]
    if liger_names:
        try:
            import inspect

            from liger_kernel.ops import fused_linear_cross_entropy as liger_mod
            LigerFLCE = liger_mod.LigerFusedLinearCrossEntropyFunction
            params = list(inspect.signature(LigerFLCE.forward).parameters)[1:]
            if tuple(params[:len(LIGER_ARGS)]) != LIGER_ARGS:
                raise RuntimeError(f"LigerFusedLinearCrossEntropyFunction.forward takes {params}, expected "
                                   f"{list(LIGER_ARGS)} first: the API moved, adapt masked_ce_peers.py")
            source = _source(liger_mod, pylib, "Liger-Kernel")

            def liger(h, W, target):
                # positional as LigerFusedLinearCrossEntropyLoss.forward passes them; the rest default
                # (no softcap, no z-loss, accum_dtype None: dW accumulates in W's dtype)
                return LigerFLCE.apply(h, W, target, None, None, IGNORE, 0.0, 0.0, "mean")[0]

            def liger_fn(h, W, y, w, denom):
                return liger(h, W, torch.where(w != 0, y, IGNORE))

            def liger_compact_fn(h, W, y, w, denom):
                idx = w.nonzero().squeeze(1)
                return liger(h.index_select(0, idx), W, y.index_select(0, idx))
            fns = {"liger_flce": liger_fn, "liger_flce_compact_first": liger_compact_fn}
            out += [(n, fns[n], None, source) for n in liger_names]
        except Exception as e:  # noqa: BLE001 - optional peer
            out += [(n, None, _why(e, pylib), None) for n in liger_names]
    cce_names = [n for n in names if n.startswith("cut_cross_entropy")]
    if cce_names:
        try:
            import cut_cross_entropy as cce_mod
            from cut_cross_entropy import linear_cross_entropy
            source = _source(cce_mod, pylib, "ml-cross-entropy") + f", version {getattr(cce_mod, '__version__', '?')}"

            def cce_fn(h, W, y, w, denom, impl="cce"):
                return linear_cross_entropy(h, W, torch.where(w != 0, y, IGNORE), ignore_index=IGNORE,
                                            reduction="mean", impl=impl)

            def cce_exact_fn(h, W, y, w, denom):
                return cce_fn(h, W, y, w, denom, impl="cce_exact")
            fns = {"cut_cross_entropy": cce_fn, "cut_cross_entropy_exact": cce_exact_fn}
            out += [(n, fns[n], None, source) for n in cce_names]
        except Exception as e:  # noqa: BLE001 - optional peer
            out += [(n, None, _why(e, pylib), None) for n in cce_names]
    return out


class GradRef:
    """The first peer's dh and dW of a configuration, in host memory; later peers' relative errors."""

    ROWS = 8192   # compared in row blocks: a few hundred MB on the device at a time

    def __init__(self):
        self.name = None
        self.grads = None

    def record(self, impl, h, W):
        if h.grad is None or W.grad is None:
            return {}
        if self.name is None:
            self.name = impl
            self.grads = (h.grad.detach().to("cpu", copy=True), W.grad.detach().to("cpu", copy=True))
            return {"grad_ref": impl}
        out = {"grad_ref": self.name}
        for key, g, ref in (("dh", h.grad, self.grads[0]), ("dW", W.grad, self.grads[1])):
            num = den = 0.0
            for s in range(0, g.shape[0], self.ROWS):
                r = ref[s:s + self.ROWS].to(g.device).float()
                num += float((g[s:s + self.ROWS].float() - r).square().sum())
                den += float(r.square().sum())
            out["rel_err_" + key] = math.sqrt(num / den) if den > 0 else None
        return out


def gemm3(dev, h, W, M, args, base, flops, emit):
    """The three GEMMs of the compacted rows alone, with torch's library (and oneDNN on the CPU)."""
    with torch.no_grad():
        hs = h.detach()[:M].contiguous()
        Wd = W.detach()
        G = (torch.rand(M, W.shape[0], device=dev.kind) - 0.5).to(Wd.dtype)
        parts = [dev.time_ms(lambda: hs @ Wd.t(), args.warmup, args.iters)[0],
                 dev.time_ms(lambda: G @ Wd, args.warmup, args.iters)[0],
                 dev.time_ms(lambda: G.t() @ hs, args.warmup, args.iters)[0]]
        floor = sum(parts)
        emit({**base, "impl": "gemm3_torch", "status": "ok", "ms_median": floor, "ms_parts": parts,
              "library": "cuBLAS" if dev.cuda else "MKL (torch CPU wheel)", "tflops": flops / (floor * 1e-3) / 1e12})
        if not dev.cuda and torch.backends.mkldnn.is_available() and Wd.dtype == torch.float32:
            lin = torch._C._nn.mkldnn_linear
            h_m, W_m = hs.to_mkldnn(), Wd.to_mkldnn()
            G_m, Wt_m = G.to_mkldnn(), Wd.t().contiguous().to_mkldnn()
            Gt_m, hst_m = G.t().contiguous().to_mkldnn(), hs.t().contiguous().to_mkldnn()
            parts = [dev.time_ms(lambda: lin(h_m, W_m), args.warmup, args.iters)[0],
                     dev.time_ms(lambda: lin(G_m, Wt_m), args.warmup, args.iters)[0],
                     dev.time_ms(lambda: lin(Gt_m, hst_m), args.warmup, args.iters)[0]]
            floor = sum(parts)
            emit({**base, "impl": "gemm3_onednn", "status": "ok", "ms_median": floor, "ms_parts": parts,
                  "library": "oneDNN " + torch.backends.mkldnn.version() if hasattr(torch.backends.mkldnn, "version")
                  else "oneDNN", "tflops": flops / (floor * 1e-3) / 1e12})


def main():
    args = parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("SKIP: torch sees no GPU")
        return 77
    if args.device == "cpu" and args.threads > 0:
        torch.set_num_threads(args.threads)
    dev = Device(args.device)
    recorder = make_recorder(args, dev)
    emit = recorder.emit
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    wanted = set(filter(None, args.impls.split(",")))

    if dev.cuda and (not wanted or "gemm_ceiling" in wanted):
        a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
        ms, _ = dev.time_ms(lambda: a @ b, 3, 10)
        emit({"bench": "gemm_ceiling", "impl": "torch_matmul", "M": 8192, "K": 8192, "Nn": 8192, "status": "ok",
              "ms_median": ms, "tflops": 2 * 8192**3 / (ms * 1e-3) / 1e12})
        del a, b

    impls = [("torch_eager", masked_ce, None, None), ("torch_compact_first", compact_first, None, None)]
    if not args.no_compile:
        impls += [("torch_compile", torch.compile(masked_ce, dynamic=False), None, None),
                  ("torch_compile_compact_first", torch.compile(compact_first, dynamic=False), None, None)]
    impls += optional_peers(dev, wanted)
    if wanted:
        impls = [i for i in impls if i[0] in wanted]
    configs = [tuple(float(x) if k == 3 else int(x) for k, x in enumerate(c.split(","))) for c in args.config] \
        or (GPU_CONFIGS if dev.cuda else CPU_CONFIGS)

    failures = 0
    for seed, (N, D, V, density) in enumerate(configs):
        base = {"N": N, "D": D, "V": V, "density": density}
        try:
            h, W, y, w = inputs(dev, N, D, V, density, dtype, 1000 + seed)
        except dev.oom_errors():
            emit({**base, "impl": "inputs", "status": "oom"})
            continue
        M = int((w != 0).sum().item())
        denom = float(max(M, 1))
        flops = 6.0 * M * D * V
        base.update(valid_tokens=M, warmup=args.warmup, iters=args.iters, flops_counted=flops)
        losses = {}
        ref = GradRef()
        for impl, fn, why_not, source in impls:
            extra = {"source": source} if source else {}
            if fn is None:
                emit({**base, "impl": impl, "status": "unavailable", "error": why_not})
                continue
            if recorder.past_deadline():
                emit({**base, **extra, "impl": impl, "status": "skipped", "error": "time budget spent"})
                continue
            if M == 0 and impl in OPTIONAL:
                emit({**base, **extra, "impl": impl, "status": "skipped", "error": "no row with w != 0 (mean of nothing)"})
                continue

            def step(accumulate=False):
                if not accumulate:
                    h.grad = None
                    W.grad = None
                loss = fn(h, W, y, w, denom)
                loss.backward()
                return loss

            try:
                t0 = time.perf_counter()
                losses[impl] = float(step().item())          # also compiles the torch.compile peers
                first_s = time.perf_counter() - t0
                extra.update(ref.record(impl, h, W))         # this first step's dh, dW against the reference
                med, best = dev.time_ms(step, args.warmup, args.iters)
                # the grads of the last timed step exist: measure what one more step adds
                peak, extra_mb = dev.peak_mb(lambda: step(accumulate=True))
                emit({**base, **extra, "impl": impl, "status": "ok", "ms_median": med, "ms_min": best,
                      "peak_mb": peak, "peak_extra_mb": extra_mb, "first_call_s": first_s,
                      "tflops": flops / (med * 1e-3) / 1e12, "loss": losses[impl]})
            except dev.oom_errors():
                emit({**base, **extra, "impl": impl, "status": "oom"})
            except Exception as e:  # noqa: BLE001 - a peer failing is a result to record, not a crash
                failures += 1
                emit({**base, **extra, "impl": impl, "status": "error", "error": f"{type(e).__name__}: {e}"[:300]})
            h.grad = None
            W.grad = None
            if dev.cuda:
                torch.cuda.empty_cache()
        # The peers must agree with each other (fp32 CE over the same logits): a sanity check.
        if "torch_eager" in losses:
            for impl, value in losses.items():
                if not math.isclose(value, losses["torch_eager"], rel_tol=1e-2, abs_tol=1e-3):
                    failures += 1
                    emit({**base, "impl": impl, "status": "error",
                          "error": f"loss {value} disagrees with torch_eager {losses['torch_eager']}"})
        if M > 0 and not recorder.past_deadline() and (not wanted or wanted & {"gemm3_torch", "gemm3_onednn"}):
            try:
                gemm3(dev, h, W, M, args, base, flops, emit)
            except dev.oom_errors():
                emit({**base, "impl": "gemm3_torch", "status": "oom"})
        del h, W, y, w
        if dev.cuda:
            torch.cuda.empty_cache()
    recorder.out.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
