"""``python -m bench.run``'s --device choice: which rows run, and a clear stop without a GPU."""

import pytest
import torch

import bench.run as bench_run
from rnncore.torch.benchmark import TorchResult

ONE_ROW = ["--suite", "torch", "--cells", "RNN", "--sizes", "small", "--threads", "1"]


@pytest.fixture
def fake_benchmark(monkeypatch):
    """Record the devices the torch suite asks for, and answer at once."""
    devices = []

    def benchmark_torch(cell, size, device, repeats):
        devices.append(device)
        return TorchResult(cell, size, device, *([1e-3] * 7), fast_train_round_ratios=(1.0,))

    monkeypatch.setattr(bench_run.torch_paths, "benchmark_torch", benchmark_torch)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "a pretend GPU")
    return devices


@pytest.mark.parametrize(
    ("device", "gpu_present", "expected"),
    [
        ("all", False, ["cpu"]),
        ("all", True, ["cpu", "cuda"]),
        ("cpu", True, ["cpu"]),
        ("cuda", True, ["cuda"]),
    ],
)
def test_device_picks_the_rows(monkeypatch, fake_benchmark, capsys, device, gpu_present, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu_present)
    bench_run.main([*ONE_ROW, "--device", device])
    assert fake_benchmark == expected
    assert ("CUDA: a pretend GPU" in capsys.readouterr().out) == ("cuda" in expected)


def test_device_cuda_without_a_gpu_stops_before_measuring(monkeypatch, fake_benchmark, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as stopped:
        bench_run.main([*ONE_ROW, "--device", "cuda"])
    assert stopped.value.code == 2 and fake_benchmark == []
    assert f"--device cuda: torch {torch.__version__}" in capsys.readouterr().err
    assert "sees no CUDA GPU" in bench_run.cuda_problem()


def test_device_cuda_refuses_the_numpy_suite(monkeypatch, fake_benchmark, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(SystemExit):
        bench_run.main(["--suite", "numpy", "torch", "--device", "cuda"])
    assert "the numpy suite runs on the CPU only" in capsys.readouterr().err
    assert bench_run.cuda_problem() is None
