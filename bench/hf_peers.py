#!/usr/bin/env python3
"""What a user would run instead of the Linchpin engine on a CPU: Hugging Face transformers `generate`
(PyTorch's own BLAS), on the same checkpoint and the same token ids as the engine, plus the machine's
ceilings. Driven by bench/run-engine-vs-hf-cpu.sh, which runs the engine side
(dev.linchpin.bench.HfCheckpointBenchmark) in the same run; versions in bench/requirements-hf-peers.txt.

  hf_peers.py make-small OUT_DIR           the small shape: random Llama, 4 layers, d=256, GQA 8/2,
                                           vocab 4096 (torch seed 1234), saved as safetensors
  hf_peers.py prompts MODEL_DIR WORK N     N questions tokenized with the checkpoint's tokenizer.json
                                           -> WORK/prompts.txt (token ids per line)
  hf_peers.py branches MODEL WORK --threads 1,2 [--batch 64] [--max-new 32]
                                           mining's branch rollouts: every prompt traj[:point] + [forced]
                                           from WORK/branches.txt, greedy, batches of 64 left-padded
  hf_peers.py eval MODEL WORK --threads 2 [--samples 4] [--max-new 64] [--temperature 0.6] [--top-p 0.95]
                                           evaluation's decoding: the prompts greedy, then n samples each
  hf_peers.py ceiling --threads 2          memory read bandwidth (a 1 GiB fp32 sum) and a 2048^3 sgemm

Every mode prints JSON lines. No EOS on either side: every sequence generates exactly max-new tokens
(transformers: eos_token_id None in the generation config), so both do the same work.
"""
import argparse
import copy
import json
import os
import resource
import sys
import time

QUESTIONS = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?",
    "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents "
    "decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money "
    "does Betty need to buy the wallet?",
    "James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?",
]


def emit(rec):
    print(json.dumps(rec), flush=True)


def load_model(path, threads):
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    gc = copy.deepcopy(model.generation_config)
    gc.eos_token_id = None          # no early stop: exactly max_new_tokens, as the engine side
    gc.pad_token_id = 0
    gc.bos_token_id = None
    return model, gc


def read_ids(path):
    with open(path) as f:
        return [[int(x) for x in line.split()] for line in f if line.strip()]


def left_pad(rows):
    import torch
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    return ids, mask


def make_small(out):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = LlamaConfig(vocab_size=4096, hidden_size=256, intermediate_size=704, num_hidden_layers=4,
                      num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=4096, rms_norm_eps=1e-6,
                      initializer_range=0.1,   # peakier logits than 0.02, so greedy agreement means something
                      tie_word_embeddings=False, bos_token_id=None, eos_token_id=None, pad_token_id=None)
    torch.manual_seed(1234)
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(out, safe_serialization=True)
    emit({"made": out, "params": sum(p.numel() for p in model.parameters())})


def prompts(model_dir, work, n):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "prompts.txt"), "w") as f:
        for q in QUESTIONS[:n]:
            ids = tok.encode(f"Question: {q}\nAnswer: Let's think step by step.").ids
            f.write(" ".join(map(str, ids)) + "\n")
    emit({"prompts": n, "file": os.path.join(work, "prompts.txt")})


def agreement(work, engine_file, outputs):
    path = os.path.join(work, engine_file)
    if not os.path.exists(path):
        return None, None
    engine = read_ids(path)
    same = sum(1 for a, b in zip(engine, outputs) if a == b)
    tokens = sum(1 for a, b in zip(engine, outputs) for x, y in zip(a, b) if x == y)
    return same, tokens


def branches(model_dir, work, threads_list, batch, max_new):
    import torch
    traj = read_ids(os.path.join(work, "traj.txt"))[0]
    rows = [traj[:p] + [forced] for p, forced in read_ids(os.path.join(work, "branches.txt"))]
    for threads in threads_list:
        model, gc = load_model(model_dir, threads)
        gc.do_sample = False
        gc.max_new_tokens = max_new
        gc.min_new_tokens = None
        with torch.inference_mode():
            ids, mask = left_pad(rows[:4])
            warm = copy.deepcopy(gc)
            warm.max_new_tokens = 4
            model.generate(input_ids=ids, attention_mask=mask, generation_config=warm)   # warm-up
            outputs = []
            t0 = time.perf_counter()
            for b0 in range(0, len(rows), batch):
                ids, mask = left_pad(rows[b0:b0 + batch])
                out = model.generate(input_ids=ids, attention_mask=mask, generation_config=gc)
                outputs += out[:, ids.shape[1]:].tolist()
            seconds = time.perf_counter() - t0
        tokens = sum(len(o) for o in outputs)
        same, same_tokens = agreement(work, f"engine-branches-t{threads}.txt", outputs)
        emit({"bench": "branches", "impl": "hf_generate", "threads": threads, "branches": len(rows), "batch": batch,
              "max_new": max_new, "tokens": tokens, "seconds": round(seconds, 3), "tok_s": round(tokens / seconds, 1),
              "identical_to_engine": same, "tokens_equal_to_engine": same_tokens,
              "torch": torch.__version__, "transformers": __import__("transformers").__version__})
        del model


def eval_(model_dir, work, threads, samples, max_new, temperature, top_p):
    import torch
    rows = read_ids(os.path.join(work, "prompts.txt"))
    t_load = time.perf_counter()
    model, gc = load_model(model_dir, threads)
    load_seconds = time.perf_counter() - t_load
    greedy = copy.deepcopy(gc)
    greedy.do_sample, greedy.max_new_tokens, greedy.top_k, greedy.top_p, greedy.temperature = False, max_new, None, None, None
    sample = copy.deepcopy(gc)
    sample.do_sample, sample.max_new_tokens = True, max_new
    sample.temperature, sample.top_p, sample.top_k, sample.num_return_sequences = temperature, top_p, 0, samples
    ids, mask = left_pad(rows)
    with torch.inference_mode():
        warm = copy.deepcopy(greedy)
        warm.max_new_tokens = 2
        model.generate(input_ids=ids[:1], attention_mask=mask[:1], generation_config=warm)
        torch.manual_seed(7)
        t0 = time.perf_counter()
        g = model.generate(input_ids=ids, attention_mask=mask, generation_config=greedy)
        greedy_seconds = time.perf_counter() - t0
        s = model.generate(input_ids=ids, attention_mask=mask, generation_config=sample)
        seconds = time.perf_counter() - t0
    outputs = g[:, ids.shape[1]:].tolist()
    tokens = g[:, ids.shape[1]:].numel() + s[:, ids.shape[1]:].numel()
    same, same_tokens = agreement(work, "engine-eval-greedy.txt", outputs)
    emit({"bench": "eval", "impl": "hf_generate", "threads": threads, "prompts": len(rows), "samples": samples,
          "max_new": max_new, "temperature": temperature, "top_p": top_p, "tokens": tokens,
          "seconds": round(seconds, 3), "tok_s": round(tokens / seconds, 2), "greedy_seconds": round(greedy_seconds, 3),
          "load_seconds": round(load_seconds, 1), "greedy_identical_to_engine": same,
          "greedy_tokens_equal_to_engine": same_tokens,
          "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
          "torch": torch.__version__, "transformers": __import__("transformers").__version__})


def ceiling(threads):
    import torch
    torch.set_num_threads(threads)
    x = torch.ones(256 * 1024 * 1024, dtype=torch.float32)   # 1 GiB
    best = 1e9
    for _ in range(5):
        t0 = time.perf_counter()
        x.sum()
        best = min(best, time.perf_counter() - t0)
    emit({"bench": "ceiling", "impl": "memory_read", "threads": threads, "gb_s": round(x.numel() * 4 / best / 1e9, 2),
          "note": "1 GiB fp32 torch.sum, best of 5"})
    del x
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best = 1e9
    for _ in range(5):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    emit({"bench": "ceiling", "impl": "sgemm_2048", "threads": threads, "gflop_s": round(2 * 2048 ** 3 / best / 1e9, 1)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["make-small", "prompts", "branches", "eval", "ceiling"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--max-new", type=int, default=None)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--temperature", type=float, default=0.6)
    ap.add_argument("--top-p", type=float, default=0.95)
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    if a.mode == "make-small":
        make_small(a.args[0])
    elif a.mode == "prompts":
        prompts(a.args[0], a.args[1], int(a.args[2]))
    elif a.mode == "branches":
        branches(a.args[0], a.args[1], threads, a.batch, a.max_new or 32)
    elif a.mode == "eval":
        eval_(a.args[0], a.args[1], threads[0], a.samples, a.max_new or 64, a.temperature, a.top_p)
    else:
        ceiling(threads[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
