"""torch_decode.py: the PyTorch side of the GPU comparison (issue 16).

One Llama decode step in plain PyTorch with the shapes of joulebench's CUDA
decode (llm.h's configurations): bf16 weights (random: the time does not
depend on the values), a static KV cache filled to position L = context,
fused QKV and gate/up matrices, RoPE, SDPA with grouped-query attention
over the L + 1 positions, SwiGLU, the classifier; the whole step captured
in one CUDA graph and replayed (the gpt-fast way of removing launch
overhead). Time: CUDA events over the replays, median of 5 groups. Energy:
NVML's total-energy counter over the replays of the measured interval
(at least `--seconds`), divided by the tokens decoded (batch per step).

usage: python3 torch_decode.py [--seconds S] [--out CSV] model:batch[:context] ...
"""
import argparse
import csv
import sys
import time

import torch
import torch.nn.functional as F

CONFIGS = {  # dim, layers, heads, kv heads, hidden, vocab, theta (llm_config.c)
    "llama3.2-1b": (2048, 16, 32, 8, 8192, 128256, 500000.0),
    "llama3.1-8b": (4096, 32, 32, 8, 14336, 128256, 500000.0),
}


def rms(x, w, eps=1e-5):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


class Step:
    def __init__(self, model, batch, context, dev):
        dim, nl, nh, nkv, hid, vocab, theta = CONFIGS[model]
        hs = dim // nh
        self.B, self.L, self.nh, self.nkv, self.hs, self.hid = batch, context, nh, nkv, hs, hid
        bf = dict(device=dev, dtype=torch.bfloat16)
        g = torch.Generator(device=dev).manual_seed(1)

        def w(*shape):
            return (torch.randn(*shape, generator=g, **bf) * 0.02)

        self.emb = w(vocab, dim)
        self.out = w(vocab, dim)
        self.onorm = torch.ones(dim, **bf)
        self.layers = []
        for _ in range(nl):
            self.layers.append(dict(
                an=torch.ones(dim, **bf), fn=torch.ones(dim, **bf),
                wqkv=w((nh + 2 * nkv) * hs, dim), wo=w(dim, nh * hs),
                w13=w(2 * hid, dim), w2=w(dim, hid),
                kc=w(batch, nkv, context + 1, hs), vc=w(batch, nkv, context + 1, hs)))
        freqs = 1.0 / theta ** (torch.arange(0, hs, 2, device=dev).float() / hs)
        ang = context * freqs
        self.cos, self.sin = torch.cos(ang).to(torch.bfloat16), torch.sin(ang).to(torch.bfloat16)
        self.tok = torch.randint(0, vocab, (batch,), device=dev, generator=g)
        self.logits = None

    def rope(self, x):  # x [B, h, 1, hs], adjacent pairs (llama2.c's pairing)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        return torch.stack((x0 * self.cos - x1 * self.sin, x0 * self.sin + x1 * self.cos),
                           -1).flatten(-2)

    def __call__(self):
        B, nh, nkv, hs, L = self.B, self.nh, self.nkv, self.hs, self.L
        x = self.emb[self.tok]
        for ly in self.layers:
            qkv = rms(x, ly["an"]) @ ly["wqkv"].t()
            q, k, v = qkv.split([nh * hs, nkv * hs, nkv * hs], -1)
            q = self.rope(q.view(B, nh, 1, hs))
            k = self.rope(k.view(B, nkv, 1, hs))
            ly["kc"][:, :, L:L + 1] = k
            ly["vc"][:, :, L:L + 1] = v.view(B, nkv, 1, hs)
            a = F.scaled_dot_product_attention(q, ly["kc"], ly["vc"], enable_gqa=True)
            x = x + a.reshape(B, nh * hs) @ ly["wo"].t()
            gu = rms(x, ly["fn"]) @ ly["w13"].t()
            gt, up = gu.split([self.hid, self.hid], -1)
            x = x + (F.silu(gt) * up) @ ly["w2"].t()
        self.logits = rms(x, self.onorm) @ self.out.t()
        return self.logits


def energy_mj(h):
    import pynvml
    return pynvml.nvmlDeviceGetTotalEnergyConsumption(h)


def measure(model, batch, context, seconds, h):
    dev = torch.device("cuda")
    step = Step(model, batch, context, dev)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    for _ in range(10):
        graph.replay()
    torch.cuda.synchronize()
    # Median of 5 groups of 20 replays, timed with events.
    times = []
    for _ in range(5):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(20):
            graph.replay()
        e1.record()
        torch.cuda.synchronize()
        times.append(e0.elapsed_time(e1) / 20)
    ms = sorted(times)[2]
    # Energy over at least `seconds` of replays (warm for a second first).
    t_end = time.time() + 1.0
    while time.time() < t_end:
        graph.replay()
    torch.cuda.synchronize()
    n, j0, t0 = 0, energy_mj(h), time.time()
    per = max(1, int(0.1 / (ms * 1e-3)))
    while time.time() - t0 < seconds:
        for _ in range(per):
            graph.replay()
        n += per
        torch.cuda.synchronize()
    t1, j1 = time.time(), energy_mj(h)
    j = (j1 - j0) / 1000.0
    del graph, step
    torch.cuda.empty_cache()
    return ms, j / (n * batch), j / (t1 - t0), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.5)
    ap.add_argument("--out", default=None)
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    import pynvml
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    rows = []
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    print(f"{'model':14s} {'batch':>5s} {'ctx':>5s} {'ms/step':>9s} {'J/token':>9s} {'W':>6s}")
    for r in a.runs:
        parts = r.split(":")
        model, batch = parts[0], int(parts[1])
        context = int(parts[2]) if len(parts) > 2 else 2048
        ms, jpt, w, n = measure(model, batch, context, a.seconds, h)
        print(f"{model:14s} {batch:5d} {context:5d} {ms:9.3f} {jpt:9.4f} {w:6.0f}", flush=True)
        rows.append(dict(model=model, batch=batch, context=context, ms_per_step=f"{ms:.4f}",
                         j_per_token=f"{jpt:.5f}", avg_power_w=f"{w:.1f}", steps=n))
    if a.out:
        with open(a.out, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            wr.writeheader()
            wr.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
