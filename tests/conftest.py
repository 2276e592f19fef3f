"""Shared pytest set-up: the ``cuda`` marker skips without a GPU."""

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
