"""``make bench``: print rnncore's speed against torch.nn on this machine.

Ratios are measured with one thread pinned (BLAS and torch): two-thread ratios on shared
machines swing with other load. The two-thread figures are printed beside them for
information. Usage::

    python -m bench.run                 # every cell and size
    python -m bench.run --cells LSTM --sizes medium large --repeats 9
    python -m bench.run --suite torch --threads 1   # rnncore.torch's paths only
    python -m bench.run --suite numpy --threads 1 --clock cpu   # on a busy shared machine
    python -m bench.run --suite torch --device cuda   # only the GPU rows (make gpu)

``--clock cpu`` times the numpy suite with the calling thread's CPU time instead of wall time
(one thread only): time the operating system gives to other jobs is then left out of both
sides of every ratio, while cache and memory contention still count.

Suites: ``numpy`` (rnncore.numpy against torch.nn, :mod:`bench.numpy_vs_torch`) and ``torch``
(rnncore.torch's readable layers and fast path against torch.nn, :mod:`rnncore.torch.benchmark`,
then the same on CUDA against cuDNN when a GPU is present).
"""

from __future__ import annotations

import argparse
import os
import time

# Pin the thread pools before NumPy and torch load their BLAS libraries.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# The CUDA rows compare IEEE float32 on both sides (see _torch_suite).
os.environ.pop("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", None)

import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench.numpy_vs_torch import GATES, SIZES, benchmark  # noqa: E402
from rnncore.torch import benchmark as torch_paths  # noqa: E402

CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
HEADER = (
    f"{'cell':<5} {'size':<7} {'thr':>3} | {'np fwd ms':>9} {'nn fwd ms':>9} {'ratio':>6} | "
    f"{'np f+b ms':>9} {'nn f+b ms':>9} {'ratio':>6} | {'np GF/s':>7} {'mm GF/s':>7} "
    f"{'in mm':>6}"
)


def _row(result, threads: int) -> str:
    s = result.size
    forward_ratio = result.numpy_forward / result.torch_forward
    train_ratio = result.numpy_train / result.torch_train
    achieved = result.train_flops / result.numpy_train / 1e9
    return (
        f"{result.cell:<5} {s.name:<7} {threads:>3} | {1e3 * result.numpy_forward:>9.2f} "
        f"{1e3 * result.torch_forward:>9.2f} {forward_ratio:>6.2f} | "
        f"{1e3 * result.numpy_train:>9.2f} {1e3 * result.torch_train:>9.2f} "
        f"{train_ratio:>6.2f} | {achieved:>7.1f} {result.matmul_gflops:>7.1f} "
        f"{100 * result.matmul_share:>5.0f}%"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=list(GATES), choices=list(GATES))
    parser.add_argument(
        "--sizes", nargs="+", default=[s.name for s in SIZES], choices=[s.name for s in SIZES]
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--threads", nargs="+", type=int, default=[1, 2], help="thread counts to run, in order"
    )
    parser.add_argument(
        "--suite",
        nargs="+",
        default=["numpy", "torch"],
        choices=["numpy", "torch"],
        help="which tables to print (numpy first, then torch)",
    )
    parser.add_argument(
        "--device",
        default="all",
        choices=["all", "cpu", "cuda"],
        help="torch suite: CPU rows, CUDA rows (against cuDNN), or both (CUDA when present)",
    )
    parser.add_argument(
        "--clock",
        default="wall",
        choices=list(CLOCKS),
        help="numpy suite: wall time, or this thread's CPU time (needs --threads 1)",
    )
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != [1]:
        parser.error("--clock cpu measures one thread: use it with --threads 1")
    if args.device == "cuda":
        if "numpy" in args.suite:
            parser.error("--device cuda: the numpy suite runs on the CPU only: use --suite torch")
        if problem := cuda_problem():
            parser.error(f"--device cuda: {problem}")
    if "numpy" in args.suite:
        _numpy_suite(args)
    if "torch" in args.suite:
        _torch_suite(args)


def cuda_problem() -> str | None:
    """Why the GPU rows cannot run here (None when torch sees a CUDA GPU)."""
    if torch.cuda.is_available():
        return None
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    return f"torch {torch.__version__} ({build}) sees no CUDA GPU"


def _numpy_suite(args: argparse.Namespace) -> None:
    print("rnncore.numpy against torch.nn (CPU, float32). ratio = rnncore time / torch.nn time.")
    print(
        f"torch {torch.__version__}; median of {args.repeats} alternated runs after warm-up; "
        f"clock: {'thread CPU time' if args.clock == 'cpu' else 'wall time'}."
    )
    print("np GF/s: rnncore's achieved GFLOP/s; mm GF/s: the same matrix products alone;")
    print("in mm: share of rnncore's forward+backward spent in those products.\n")
    print(HEADER)
    print("-" * len(HEADER))
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            for cell in args.cells:
                for size in (s for s in SIZES if s.name in args.sizes):
                    result = benchmark(cell, size, args.repeats, CLOCKS[args.clock])
                    print(_row(result, threads), flush=True)
        print()


def _torch_suite(args: argparse.Namespace) -> None:
    sizes = [s for s in SIZES if s.name in args.sizes]
    print("rnncore.torch against torch.nn (float32). ratio = rnncore time / torch.nn time.")
    print(f"torch {torch.__version__}; median of {args.repeats} alternated runs after warm-up.")
    print("read: rnncore.torch.layers (cells under autograd); fast: rnncore.torch.fast;")
    print("nn: torch.nn (oneDNN LSTM on the CPU, cuDNN on a GPU); mm f+b: the same matrix")
    print("products alone; mm/fast: their share of the fast path's forward+backward;")
    print("per round: the lowest and highest fast f+b / nn f+b of single rounds (the two ran")
    print("seconds apart), how far the machine moved while it measured.\n")
    print(torch_paths.HEADER)
    print("-" * len(torch_paths.HEADER))
    for threads in args.threads if args.device in ("all", "cpu") else ():
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            for cell in args.cells:
                for size in sizes:
                    result = torch_paths.benchmark_torch(cell, size, "cpu", args.repeats)
                    print(torch_paths.format_row(result, threads), flush=True)
        print()
    if args.device in ("all", "cuda") and torch.cuda.is_available():
        # Both sides in IEEE float32: cuDNN's recurrent layers would otherwise use TF32 on
        # Ampere and newer GPUs while rnncore's matrix products did not, a race of unequal work.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(f"CUDA: {torch.cuda.get_device_name()}; torch.nn runs cuDNN; TF32 off on both.")
        for cell in args.cells:
            for size in sizes:
                result = torch_paths.benchmark_torch(cell, size, "cuda", args.repeats)
                print(torch_paths.format_row(result, torch.get_num_threads()), flush=True)
        print()


if __name__ == "__main__":
    main()
