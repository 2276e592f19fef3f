"""rnncore.long_range.runner: the loop both tasks share, the Task record, the running mean."""

import numpy as np
import pytest
import torch

from rnncore import long_range


def test_smooth_is_a_running_mean():
    np.testing.assert_allclose(long_range.smooth([1, 2, 3, 4, 5], window=2), [1.5, 2.5, 3.5, 4.5])
    assert long_range.smooth(np.ones(60)).shape == (11,)
    with pytest.raises(ValueError, match="values must have shape \\(N,\\) with N >= window = 5"):
        long_range.smooth([1, 2, 3], window=5)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        long_range.smooth([1, 2, 3], window=0)


# --- the shared loop --------------------------------------------------------------------------


def test_run_long_range_experiment_calls_the_task_in_order():
    built, lengths_seen = [], []

    def build_model(cell):
        built.append(cell)
        return torch.nn.Linear(1, 1)

    def batches(length, rng):
        lengths_seen.append(length)
        while True:
            x = torch.from_numpy(rng.normal(size=(4, 1)).astype(np.float32))  # (B, 1)
            yield x, 2 * x

    def loss_fn(model, x, y):
        return ((model(x) - y) ** 2).mean()

    runs = long_range.run_long_range_experiment(
        ("rnn", "gru"),
        (4, 7),
        build_model=build_model,
        batches=batches,
        loss_fn=loss_fn,
        evaluate=lambda model, length: {"length_seen": length},
        steps=3,
        lr=1e-2,
    )
    assert built == ["rnn", "gru", "rnn", "gru"]  # lengths outside, cells inside
    assert lengths_seen == [4, 4, 7, 7]
    assert list(runs) == [("rnn", 4), ("gru", 4), ("rnn", 7), ("gru", 7)]
    for (_, length), run in runs.items():
        assert run["length_seen"] == length
        assert run["loss"].shape == (3,)
        assert run["seconds"] >= 0


def test_run_long_range_experiment_checks_the_minimum_length():
    with pytest.raises(ValueError, match="every length must be at least 5, got \\(4,\\)"):
        long_range.run_long_range_experiment(
            ("rnn",),
            (4,),
            build_model=None,
            batches=None,
            loss_fn=None,
            evaluate=None,
            steps=1,
            lr=1e-2,
            min_length=5,
        )


# --- the Task record --------------------------------------------------------------------------


def linear_task(min_length=2, evaluate=None):
    """A Task whose model is a linear map of one number and whose target is twice it."""

    def batches(length, rng):
        while True:
            x = torch.from_numpy(rng.normal(size=(4, 1)).astype(np.float32))  # (B, 1)
            yield x, 2 * x

    return long_range.Task(
        build_model=lambda cell: torch.nn.Linear(1, 1),
        batches=batches,
        loss_fn=lambda model, x, y: ((model(x) - y) ** 2).mean(),
        evaluate=evaluate or (lambda model, length: {"weight": model.weight.item()}),
        measure=long_range.ADDING_MEASURE,
        min_length=min_length,
    )


def test_run_task_is_the_shared_loop_on_the_task():
    task = linear_task()
    runs = long_range.run_task(task, ("rnn", "lstm"), (3, 4), steps=4, lr=1e-1, seed=2)
    direct = long_range.run_long_range_experiment(
        ("rnn", "lstm"),
        (3, 4),
        build_model=task.build_model,
        batches=task.batches,
        loss_fn=task.loss_fn,
        evaluate=task.evaluate,
        steps=4,
        lr=1e-1,
        seed=2,
    )
    assert list(runs) == list(direct)
    for key in runs:
        np.testing.assert_array_equal(runs[key]["loss"], direct[key]["loss"])
        assert runs[key]["weight"] == direct[key]["weight"]
    assert runs["rnn", 3]["loss"][-1] < runs["rnn", 3]["loss"][0]  # it trained


def test_run_task_keeps_the_tasks_minimum_length_and_rejects_other_records():
    with pytest.raises(ValueError, match="every length must be at least 6, got \\(5,\\)"):
        long_range.run_task(linear_task(min_length=6), ("rnn",), (5,), steps=1, lr=1e-2)
    with pytest.raises(TypeError, match="task must be a Task, got dict"):
        long_range.run_task({"min_length": 2}, ("rnn",), (5,), steps=1, lr=1e-2)


def test_the_experiments_are_run_task_on_their_tasks():
    settings = {"batch_size": 4, "hidden_size": 3, "validation_size": 8}
    adding = long_range.adding_task(**settings)
    probe = long_range.copy_probe_task(num_symbols=3, **settings)
    assert adding.measure == long_range.ADDING_MEASURE and adding.min_length == 2
    assert probe.measure == long_range.copy_probe_measure(3) and probe.min_length == 3
    for task, experiment, extra in (
        (adding, long_range.run_adding_experiment, {}),
        (probe, long_range.run_copy_probe_experiment, {"num_symbols": 3}),
    ):
        runs = long_range.run_task(task, ("gru",), (4,), steps=3, lr=1e-2)
        again = experiment(("gru",), (4,), steps=3, lr=1e-2, **settings, **extra)
        np.testing.assert_array_equal(runs["gru", 4]["loss"], again["gru", 4]["loss"])
        assert runs["gru", 4][task.measure.key] == again["gru", 4][task.measure.key]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: long_range.adding_task(batch_size=0, hidden_size=3), "batch_size"),
        (lambda: long_range.adding_task(batch_size=4, hidden_size=2.5), "hidden_size"),
        (
            lambda: long_range.copy_probe_task(num_symbols=1, batch_size=4, hidden_size=3),
            "num_symbols must be at least 2",
        ),
        (
            lambda: long_range.copy_probe_task(
                num_symbols=3, batch_size=4, hidden_size=3, validation_size=0
            ),
            "validation_size",
        ),
    ],
)
def test_tasks_reject_bad_sizes(build, message):
    with pytest.raises(ValueError, match=message):
        build()
