# Qwen3-0.6B-shaped checkpoint with random weights (real config), Qwen3's real tokenizer.
import sys, shutil, torch
from transformers import Qwen3Config, Qwen3ForCausalLM
out = sys.argv[1]
cfg = Qwen3Config(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
    num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
    rms_norm_eps=1e-6, rope_theta=1000000, tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151645,
    torch_dtype="float32")
torch.manual_seed(0)
m = Qwen3ForCausalLM(cfg)
m.save_pretrained(out, safe_serialization=True)
for f in ["tokenizer.json", "tokenizer_config.json"]:
    shutil.copy(f"tq/package/models/{f}", out)
