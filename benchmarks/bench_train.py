"""Training and decoding throughput of the Transformer on minigrad (and PyTorch, if installed).

    python benchmarks/bench_train.py                    # tiny and small, 1 and 2 threads
    python benchmarks/bench_train.py --configs tiny --threads 1 --steps 10
    python benchmarks/bench_train.py --quick            # seconds, for tests
    python benchmarks/bench_train.py --profile small --steps 5   # where a step's time goes
    python benchmarks/bench_train.py --configs small --threads 2 --set d_model=8 d_ff=8 vocab=16
    python benchmarks/bench_train.py --configs tiny --threads auto 1 2  # adaptive against fixed
    python benchmarks/bench_train.py --configs tiny --threads auto 1 --busy 1  # a core taken
    python benchmarks/bench_train.py --configs tiny --threads 1 --torch-compile  # PyTorch compiled

Configurations (from the translation issue): "tiny" 2+2 layers, d_model 64, 4 heads, d_ff 256,
batch 32, lengths 24, vocabularies 1000; "small" 3+3 layers, d_model 128, 4 heads, d_ff 512,
batch 64, lengths 32, vocabularies 8000. Pre-norm, dropout 0.1, label smoothing 0.1, Adam,
gradient clipping at 1.0: the step `transformer.training` takes. `--set KEY=VALUE ...` changes
fields of the chosen configurations (shrinking one part of the model to see what it costs, as in
docs/performance.md's decode split).

Measured per configuration and thread count (each library in a worker process of its own,
started with the thread count, since Numba and BLAS fix their thread pools at import):

* training: median ms per step over `--steps` steps after warm-up; target tokens per second;
* greedy decoding with the key/value cache, batch 32, 32 steps (<eos> is suppressed so every
  row runs all steps), median of 9: generated tokens per second;
* beam search, beam 4, 8 sentences (32 rows), 32 steps, median of 3: generated tokens per second.

When `torch` is importable, the same model (`torch_model.py`) is timed in the same run, in its
own worker process, each job in turns with minigrad's (a few minigrad steps, a few PyTorch
steps, ...), and the ratios are printed (> 1: minigrad is faster). Prints one JSON document.

Threads and load. `--threads N` pins NUMBA_, OMP_, OPENBLAS_ and MKL_NUM_THREADS to N in the
workers' environment (minigrad's also MINIGRAD_NUM_THREADS; PyTorch's torch.set_num_threads(N)).
`--threads auto` starts the workers with none of these set, so each library chooses: minigrad
adaptively (minigrad.threads), PyTorch its default. `--busy N` runs N CPU-bound processes of the
benchmark's own during each measurement, as other work on a busy laptop would. Each turn of a
worker begins with `--warmup` seconds of untimed calls (default 1), so that an adaptive thread
choice settles first. Each result row records `threads`, `busy` and the 1-minute load average
before and after the measurement (`load`), so that noisy runs show.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {
    "tiny": dict(layers=2, d_model=64, heads=4, d_ff=256, batch=32, length=24, vocab=1000),
    "small": dict(layers=3, d_model=128, heads=4, d_ff=512, batch=64, length=32, vocab=8000),
}
DECODE_BATCH, DECODE_STEPS, BEAM = 32, 32, 4
GREEDY_REPEAT, BEAM_REPEAT = 9, 3
PHASES = ("forward", "backward", "clip", "adam")
POOL_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
COMPILE_VARIABLE = "BENCH_TORCH_COMPILE"  # set by --torch-compile for the PyTorch worker
MINIGRAD_VARIABLE = "MINIGRAD_NUM_THREADS"  # minigrad.threads: a fixed count instead of adapting


def thread_count(text: str) -> int | str:
    """A `--threads` value: "auto" or a positive integer; ArgumentTypeError otherwise."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is neither 'auto' nor a positive integer")
    return int(text)


def parse_settings(pairs: list[str]) -> dict:
    """`--set` arguments ("d_model=8", ...) as {field: positive int}; ValueError names a bad one."""
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in CONFIGS["tiny"] or not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"--set {pair!r}: expected KEY=N with N a positive integer and KEY one of "
                f"{', '.join(CONFIGS['tiny'])}"
            )
        settings[key] = int(value)
    if settings.get("batch", DECODE_BATCH) < DECODE_BATCH:
        raise ValueError(
            f"--set batch={settings['batch']}: at least {DECODE_BATCH} (the rows decoded)"
        )
    return settings


def config_with(name: str, settings: dict) -> dict:
    """Configuration `name` with the `--set` changes applied."""
    return {**CONFIGS[name], **settings}


def median_seconds_in_turns(workers: dict, job: str, repeat: int, rounds: int = 3) -> dict:
    """Median wall time of about `repeat` calls of `job` in each worker that has it. The workers
    take turns in `rounds` rounds, so load that comes and goes on a shared machine hits them
    alike. Each turn starts with untimed calls (the worker's `--warmup`), which wake the
    worker's thread pools and let an adaptive thread choice settle."""
    times: dict = {name: [] for name, worker in workers.items() if job in worker.jobs}
    for _ in range(rounds):
        for name in times:
            times[name] += workers[name].seconds(job, max(1, round(repeat / rounds)))
    return {name: sorted(t)[len(t) // 2] for name, t in times.items()}


def batch_arrays(cfg: dict, seed: int = 0):
    """Random ids in [4, vocab): (src, tgt_in, tgt_out), all (batch, length) int64."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = (cfg["batch"], cfg["length"])
    src = rng.integers(4, cfg["vocab"], size=shape)
    tgt = rng.integers(4, cfg["vocab"], size=(shape[0], shape[1] + 1))
    tgt[:, 0] = 1  # <bos>
    return src, tgt[:, :-1], tgt[:, 1:]


# ---- minigrad ------------------------------------------------------------------------------
def minigrad_step(cfg: dict, phases: dict | None = None):
    """(model, src, train_step): one training step of `transformer.Transformer` on fixed data.

    With `phases`, each step appends its forward/backward/clip/adam seconds to it.
    """
    import minigrad
    import minigrad.nn.functional as F
    from minigrad.nn.utils import clip_grad_norm_
    from minigrad.optim import Adam
    from transformer import Transformer, padding_mask

    minigrad.manual_seed(0)
    model = Transformer(cfg["vocab"], cfg["vocab"], cfg["layers"], cfg["layers"],
                        d_model=cfg["d_model"], num_heads=cfg["heads"], d_ff=cfg["d_ff"],
                        dropout=0.1, norm_first=True)  # fmt: skip
    optimizer = Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    src, tgt_in, tgt_out = batch_arrays(cfg)
    src_mask = padding_mask(src, 0)

    def train_step():
        t0 = time.perf_counter()
        model.train()  # the generator and the loss as one node, as transformer.training does
        memory = model.encode(minigrad.tensor(src), src_mask)
        states = model.decoder_states(memory, minigrad.tensor(tgt_in), src_mask)
        generator = model.generator
        loss = F.linear_cross_entropy(states.reshape(-1, cfg["d_model"]), generator.weight,
                                      generator.bias, tgt_out.reshape(-1), ignore_index=0,
                                      label_smoothing=0.1)  # fmt: skip
        t1 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        clip_grad_norm_(model.parameters(), 1.0)
        t3 = time.perf_counter()
        optimizer.step()
        if phases is not None:
            for name, seconds in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3),
                                     strict=True):  # fmt: skip
                phases.setdefault(name, []).append(seconds)

    return model, src, train_step


def minigrad_jobs(cfg: dict) -> dict:
    """The timed jobs of `transformer.Transformer`: training step, greedy decoding, beam search."""
    from transformer.decoding import beam_search, greedy_decode

    model, src, train_step = minigrad_step(cfg)
    train_step()
    model.generator.bias.data[2] = -1e4  # no <eos>: every row decodes all steps
    return {
        "train": train_step,
        "greedy": lambda: greedy_decode(model, src[:DECODE_BATCH], DECODE_STEPS),
        "beam": lambda: beam_search(model, src[: DECODE_BATCH // BEAM], BEAM, DECODE_STEPS),
    }


# ---- PyTorch -------------------------------------------------------------------------------
def torch_jobs(cfg: dict, threads: int | str) -> dict:
    """The same jobs for `torch_model.TorchTransformer` (no beam search); with `threads` "auto",
    PyTorch keeps its default thread count."""
    import torch
    import torch.nn.functional as F
    from torch_model import TorchTransformer, greedy

    if threads != "auto":
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = TorchTransformer(cfg["vocab"], cfg["vocab"], cfg["d_model"], cfg["heads"],
                             cfg["layers"], cfg["layers"], cfg["d_ff"], dropout=0.1)  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    src, tgt_in, tgt_out = (torch.from_numpy(a) for a in batch_arrays(cfg))
    src_mask = (src != 0)[:, None, None, :]
    # --torch-compile: the training step's forward (and so its backward) compiled by inductor
    forward = torch.compile(model) if os.environ.get(COMPILE_VARIABLE) else model

    def train_step():
        model.train()
        logits = forward(src, tgt_in, src_mask)
        loss = F.cross_entropy(logits.reshape(-1, cfg["vocab"]), tgt_out.reshape(-1),
                               ignore_index=0, label_smoothing=0.1)  # fmt: skip
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    train_step()
    with torch.no_grad():
        model.generator.bias[2] = -1e4
    return {"train": train_step, "greedy": lambda: greedy(model, src[:DECODE_BATCH], DECODE_STEPS)}


def _figures(cfg: dict, seconds: dict) -> dict:
    """Throughput figures from the median seconds of each job."""
    figures = {
        "train_ms_per_step": round(1000 * seconds["train"], 1),
        "train_tokens_per_s": round(cfg["batch"] * cfg["length"] / seconds["train"]),
        "greedy_tokens_per_s": round(DECODE_BATCH * DECODE_STEPS / seconds["greedy"]),
    }
    if "beam" in seconds:
        figures["beam4_tokens_per_s"] = round(DECODE_BATCH // BEAM * DECODE_STEPS / seconds["beam"])
    return figures


def profile(cfg: dict, name: str, steps: int) -> None:
    """Time the phases of a training step of `cfg` and print the functions that take the time."""
    import cProfile
    import pstats

    phases: dict = {}
    _, _, train_step = minigrad_step(cfg, phases)
    for _ in range(3):  # warm-up (Numba compilation, caches)
        train_step()
    phases.clear()
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [train_step() for _ in range(steps)])
    medians = {k: round(1000 * sorted(v)[len(v) // 2], 1) for k, v in phases.items()}
    print(f"{name}: median ms per phase of a training step: {medians}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


class Worker:
    """One library's jobs for one configuration, in a process of its own (`--serve`), so the
    libraries' thread pools never share a process: with torch imported, Numba's OpenMP
    kernels right after an OpenBLAS product ran several times slower (docs/performance.md)."""

    def __init__(self, library: str, config: str, threads: int | str, settings: dict,
                 warmup: float):  # fmt: skip
        changes = [f"{key}={value}" for key, value in settings.items()]
        command = [sys.executable, str(Path(__file__)), "--serve", library, "--configs", config,
                   "--threads", str(threads), "--warmup", str(warmup),
                   "--set", *changes]  # fmt: skip
        self.process = subprocess.Popen(command, env=worker_env(library, threads),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)  # fmt: skip
        self.jobs = self._reply()

    def _reply(self):
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"benchmark worker {self.process.args[3:]} failed (its error is above)")
        return json.loads(line)

    def seconds(self, job: str, calls: int) -> list[float]:
        """Run `job` untimed for the warm-up, then `calls` times; the seconds of each timed call."""
        self.process.stdin.write(f"{job} {calls}\n")
        self.process.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def worker_env(library: str, threads: int | str) -> dict:
    """The environment of a `library` worker: this one's, with the thread counts pinned to
    `threads`, or for "auto" without any (each library chooses)."""
    unset = (*POOL_VARIABLES, MINIGRAD_VARIABLE)
    env = {key: value for key, value in os.environ.items() if key not in unset}
    if threads != "auto":
        env.update(dict.fromkeys(POOL_VARIABLES, str(threads)))
        if library == "minigrad":
            env[MINIGRAD_VARIABLE] = str(threads)
    return env


def warm_up(job, seconds: float) -> None:
    """Call `job` untimed until `seconds` have passed, at least once."""
    start = time.perf_counter()
    job()
    while time.perf_counter() - start < seconds:
        job()


def serve(library: str, cfg: dict, threads: int | str, warmup: float) -> None:
    """The `--serve` worker: build the jobs, print their names, then answer each request line
    "job calls" from stdin with the JSON list of the timed calls' seconds (after `warmup`
    seconds of untimed calls)."""
    jobs = minigrad_jobs(cfg) if library == "minigrad" else torch_jobs(cfg, threads)
    print(json.dumps(sorted(jobs)), flush=True)
    for request in sys.stdin:
        job, calls = request.split()
        warm_up(jobs[job], warmup)
        times = []
        for _ in range(int(calls)):
            start = time.perf_counter()
            jobs[job]()
            times.append(time.perf_counter() - start)
        print(json.dumps(times), flush=True)


@contextlib.contextmanager
def competing_load(processes: int, settle: float = 1.0):
    """Run `processes` CPU-bound Python processes (yielded) for the body, `settle` seconds
    started before it; they are stopped when it ends, however it ends."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
            for _ in range(processes)]  # fmt: skip
    try:
        if busy:
            time.sleep(settle)
        yield busy
    finally:
        for process in busy:
            process.terminate()
        for process in busy:
            process.wait()


def load_average() -> float | None:
    """The 1-minute load average, where the system has one."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def time_jobs(config: str, threads: int | str, steps: int, settings: dict,
              warmup: float) -> dict:  # fmt: skip
    """{library: {job: median seconds}} for minigrad and (when importable) PyTorch, each job of
    the two timed in turns (`median_seconds_in_turns`)."""
    libraries = ["minigrad"] + (["torch"] if importlib.util.find_spec("torch") else [])
    workers = {library: Worker(library, config, threads, settings, warmup) for library in libraries}
    seconds: dict = {library: {} for library in libraries}
    try:
        for job, repeat in (("train", steps), ("greedy", GREEDY_REPEAT), ("beam", BEAM_REPEAT)):
            for library, median in median_seconds_in_turns(workers, job, repeat).items():
                seconds[library][job] = median
    finally:
        for worker in workers.values():
            worker.close()
    return seconds


def measure(config: str, threads: int | str, steps: int, settings: dict, busy: int = 0,
            warmup: float = 1.0) -> dict:  # fmt: skip
    """The figures of one configuration (with its `--set` changes) at one thread count, for
    minigrad and (when importable) PyTorch, with `busy` competing processes running."""
    load_before = load_average()
    with competing_load(busy):
        seconds = time_jobs(config, threads, steps, settings, warmup)
        load = {"before": load_before, "after": load_average()}
    cfg = config_with(config, settings)
    row = {"config": config, **cfg, "threads": threads, "busy": busy, "load": load}
    row.update({library: _figures(cfg, times) for library, times in seconds.items()})
    if "torch" in row:
        row["speedup_vs_torch"] = {
            k: round(row["minigrad"][k] / row["torch"][k], 2)
            for k in ("train_tokens_per_s", "greedy_tokens_per_s")
        }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["tiny", "small"])
    parser.add_argument("--threads", nargs="+", type=thread_count, default=[1, 2],
                        metavar="N|auto", help="thread counts to measure (default 1 2); auto: "
                        "each library's own choice, no thread variables set")  # fmt: skip
    parser.add_argument("--steps", type=int, default=20, help="timed training steps")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="CPU-bound processes to run during each measurement "
                        "(default 0)")  # fmt: skip
    parser.add_argument("--warmup", type=float, default=1.0, metavar="SECONDS",
                        help="untimed calls at the start of each worker's turn, for this long "
                        "(default 1)")  # fmt: skip
    parser.add_argument("--torch-compile", action="store_true",
                        help="PyTorch's training step through torch.compile (inductor; the "
                        "first step compiles for a minute); decoding stays eager")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny config, 1 thread, 2 steps")
    parser.add_argument("--profile", choices=sorted(CONFIGS),
                        help="profile training steps of one config instead (cProfile)")  # fmt: skip
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=N",
                        help="change fields of the configs, e.g. d_model=8 vocab=16")  # fmt: skip
    parser.add_argument("--serve", choices=("minigrad", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        settings = parse_settings(args.set)
    except ValueError as error:
        parser.error(str(error))
    if args.busy < 0:
        parser.error(f"--busy {args.busy}: expected a number of processes, 0 or more")
    if args.profile:
        profile(config_with(args.profile, settings), args.profile, args.steps)
        return
    if args.serve:
        serve(args.serve, config_with(args.configs[0], settings), args.threads[0], args.warmup)
        return
    if args.quick:
        args.configs, args.threads, args.steps = ["tiny"], [1], 2
    if args.torch_compile:
        os.environ[COMPILE_VARIABLE] = "1"  # the workers inherit it
    from common import machine_info

    results = [measure(config, threads, args.steps, settings, args.busy, args.warmup)
               for threads in args.threads for config in args.configs]  # fmt: skip
    info = machine_info()
    if importlib.util.find_spec("torch"):
        info["torch"] = importlib.metadata.version("torch")
    print(json.dumps({"machine": info, "results": results}, indent=1))


if __name__ == "__main__":
    main()
