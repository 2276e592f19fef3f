"""Shared pytest set-up: the ``cuda`` marker skips without a GPU."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (run on a machine with one)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    # The tests use tiny tensors: one thread avoids two threads fighting over two cores.
    import torch

    torch.set_num_threads(1)
    # The float32 tests compare with float64 references at float32 tolerances. On Ampere and
    # newer GPUs cuDNN's recurrent layers (and cuBLAS, where this variable is set) default to
    # TF32, whose 10-bit mantissa misses those tolerances by design: the CUDA tests run IEEE
    # float32. The variable is read at the first matrix product, so it must go before that.
    os.environ.pop("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", None)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
