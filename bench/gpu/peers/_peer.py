"""What every PyTorch peer script shares (imported, never run: run.sh skips peers/_*.py).

The command line every peer takes (run.sh passes it): --jsonl PATH --deadline-s S [--quick]
[--warmup N] [--iters N]; CUDA-event timing (warm-up, then median and min of `iters`); and the
JSON-lines writer that stamps each record with the bench name, device and torch version.
"""
import argparse
import json
import statistics
import time

import torch


def parse_args(doc):
    """The shared options; --quick means 1 warm-up and 3 timed steps."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsonl", required=True, help="append results here")
    ap.add_argument("--deadline-s", type=float, default=1e9, help="seconds after which the rest is skipped")
    ap.add_argument("--quick", action="store_true", help="1 warm-up, 3 timed steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    if args.quick:
        args.warmup, args.iters = 1, 3
    return args


def time_ms(fn, warmup, iters):
    """Median and min milliseconds of `fn` over `iters` CUDA-event-timed calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


class Recorder:
    """Appends one JSON object per line to --jsonl (and prints it), each stamped with `fields`."""

    def __init__(self, args, device=None, **fields):
        """device: the name recorded (default: the current CUDA device's; a CPU run passes its own)."""
        self.deadline = time.time() + args.deadline_s
        self.fields = {"device": device or torch.cuda.get_device_name(), "torch": torch.__version__, **fields}
        self.out = open(args.jsonl, "a")

    def past_deadline(self):
        return time.time() > self.deadline

    def emit(self, rec):
        rec = {**self.fields, **rec}
        self.out.write(json.dumps(rec) + "\n")
        self.out.flush()
        print(json.dumps(rec), flush=True)
