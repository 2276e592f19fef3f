"""Tests of the NumPy character-level RNN language model (rnncore.numpy.char_model)."""

import numpy as np
import pytest

from rnncore.numpy.char_model import (
    CHAR_RNN_PARAMETERS,
    char_rnn_forward,
    char_rnn_loss,
    evaluate_nats_per_character,
    init_char_rnn,
    sample_characters,
    train_char_rnn,
)
from rnncore.numpy.gradcheck import numerical_gradient, relative_error
from rnncore.numpy.optim import SGD, Adam

V, D, H, B, T = 7, 3, 5, 2, 4


def small_problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = init_char_rnn(V, D, H, rng, dtype=dtype)
    inputs = rng.integers(0, V, size=(B, T))  # (B, T)
    targets = rng.integers(0, V, size=(B, T))  # (B, T)
    h0 = rng.standard_normal((B, H)).astype(dtype) * 0.5  # (B, H)
    return params, inputs, targets, h0


def repeated_text_ids(repeats=60):
    text = "hello world, hello rnn. " * repeats
    alphabet = sorted(set(text))
    return np.array([alphabet.index(c) for c in text], dtype=np.int64), len(alphabet)


# --- shapes, dtypes, purity ------------------------------------------------------------------


def test_init_shapes_and_dtype():
    params = init_char_rnn(V, D, H, np.random.default_rng(0), dtype=np.float32)
    expected = {
        "W_embed": (V, D),
        "Wx": (D, H),
        "Wh": (H, H),
        "b": (H,),
        "W_out": (H, V),
        "b_out": (V,),
    }
    assert set(params) == set(CHAR_RNN_PARAMETERS)
    for name, shape in expected.items():
        assert params[name].shape == shape, name
        assert params[name].dtype == np.float32, name


def test_init_rejects_bad_sizes():
    with pytest.raises(ValueError, match="V must be a positive integer"):
        init_char_rnn(0, D, H, np.random.default_rng(0))


def test_initial_loss_is_close_to_uniform():
    params, inputs, targets, _ = small_problem()
    loss, _, _ = char_rnn_loss(params, inputs, targets)
    assert abs(loss - np.log(V)) < 0.5


def test_loss_does_not_modify_its_inputs():
    params, inputs, targets, h0 = small_problem()
    copies = {name: value.copy() for name, value in params.items()}
    h0_copy, inputs_copy = h0.copy(), inputs.copy()
    char_rnn_loss(params, inputs, targets, h0)
    for name in params:
        np.testing.assert_array_equal(params[name], copies[name])
    np.testing.assert_array_equal(h0, h0_copy)
    np.testing.assert_array_equal(inputs, inputs_copy)


def test_float32_is_kept():
    params, inputs, targets, h0 = small_problem(dtype=np.float32)
    scores, h_last, _ = char_rnn_forward(params, inputs, h0)
    _, grads, _ = char_rnn_loss(params, inputs, targets, h0)
    assert scores.dtype == np.float32 and h_last.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


# --- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHAR_RNN_PARAMETERS)
def test_gradient_matches_finite_differences(name):
    params, inputs, targets, h0 = small_problem()
    _, grads, _ = char_rnn_loss(params, inputs, targets, h0)

    def loss_of(value):
        return np.array(char_rnn_loss({**params, name: value}, inputs, targets, h0)[0])

    numeric = numerical_gradient(loss_of, params[name], np.array(1.0))
    assert grads[name].shape == params[name].shape
    assert relative_error(grads[name], numeric) < 1e-7


def test_gradient_check_detects_a_wrong_gradient():
    # The same comparison fails for a gradient with a flipped sign on part of it.
    params, inputs, targets, h0 = small_problem()
    _, grads, _ = char_rnn_loss(params, inputs, targets, h0)

    def loss_of(value):
        return np.array(char_rnn_loss({**params, "Wh": value}, inputs, targets, h0)[0])

    numeric = numerical_gradient(loss_of, params["Wh"], np.array(1.0))
    wrong = grads["Wh"].copy()
    wrong[0] *= -1
    assert relative_error(wrong, numeric) > 1e-3


# --- hidden state ----------------------------------------------------------------------------


def test_carrying_the_state_changes_the_loss():
    params, inputs, targets, h0 = small_problem()
    loss_zero, _, _ = char_rnn_loss(params, inputs, targets)
    loss_carried, _, _ = char_rnn_loss(params, inputs, targets, h0)
    assert abs(loss_zero - loss_carried) > 1e-6


def test_carried_state_continues_the_sequence_exactly():
    # Two windows with the state carried give the scores of one long window.
    rng = np.random.default_rng(1)
    params = init_char_rnn(V, D, H, rng)
    inputs = rng.integers(0, V, size=(B, 2 * T))  # (B, 2T)
    full_scores, full_last, _ = char_rnn_forward(params, inputs)  # (B, 2T, V)
    first_scores, h_middle, _ = char_rnn_forward(params, inputs[:, :T])  # (B, T, V)
    second_scores, h_last, _ = char_rnn_forward(params, inputs[:, T:], h_middle)  # (B, T, V)
    np.testing.assert_allclose(first_scores, full_scores[:, :T], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second_scores, full_scores[:, T:], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_last, full_last, rtol=1e-12, atol=1e-12)
    # Without the carried state the second window differs.
    restarted_scores, _, _ = char_rnn_forward(params, inputs[:, T:])
    assert not np.allclose(restarted_scores, full_scores[:, T:])


def test_h_last_is_a_copy():
    params, inputs, _, _ = small_problem()
    scores, h_last, cache = char_rnn_forward(params, inputs)
    h_last += 1.0
    assert not np.allclose(cache.rnn.h[:, -1], h_last)


# --- evaluation ------------------------------------------------------------------------------


def test_evaluation_does_not_depend_on_window_length():
    rng = np.random.default_rng(2)
    params = init_char_rnn(V, D, H, rng)
    ids = rng.integers(0, V, size=41)  # (N,)
    # One stream read in one window: the mean loss of predicting ids[1:] from ids[:-1].
    expected, _, _ = char_rnn_loss(params, ids[None, :-1], ids[None, 1:])
    for seq_len in (1, 7, 40, 100):
        got = evaluate_nats_per_character(params, ids, seq_len=seq_len, batch_size=1)
        assert got == pytest.approx(expected, rel=1e-12)
    # Several streams: each stream predicted in one go.
    streams = ids[:40].reshape(4, 10)
    expected_streams, _, _ = char_rnn_loss(params, streams[:, :-1], streams[:, 1:])
    got_streams = evaluate_nats_per_character(params, ids, seq_len=3, batch_size=4)
    assert got_streams == pytest.approx(expected_streams, rel=1e-12)


def test_evaluation_rejects_bad_arguments():
    params, _, _, _ = small_problem()
    ids = np.arange(20) % V
    with pytest.raises(ValueError, match="seq_len"):
        evaluate_nats_per_character(params, ids, seq_len=0)
    with pytest.raises(ValueError, match="at least"):
        evaluate_nats_per_character(params, ids[:3], seq_len=4, batch_size=2)
    with pytest.raises(ValueError, match="ids"):
        evaluate_nats_per_character(params, ids[None, :], seq_len=4)


# --- training --------------------------------------------------------------------------------


@pytest.mark.parametrize("truncated", [True, False])
def test_training_on_repetitive_text_beats_uniform(truncated):
    ids, vocab_size = repeated_text_ids()
    rng = np.random.default_rng(3)
    params = init_char_rnn(vocab_size, 8, 32, rng)
    initial = {name: value.copy() for name, value in params.items()}
    trained, history = train_char_rnn(
        params,
        ids,
        steps=300,
        batch_size=4,
        seq_len=24,
        optimizer=Adam(lr=1e-2),
        clip_norm=5.0,
        rng=rng,
        truncated=truncated,
        evaluate_ids=ids[:200],
        evaluate_every=100,
    )
    uniform = np.log(vocab_size)
    assert history["loss"][0] > 0.8 * uniform
    assert np.mean(history["loss"][-20:]) < 0.25 * uniform
    assert history["evaluate_step"] == [100, 200, 300]
    assert history["evaluate_nats"][-1] < 0.25 * uniform
    assert len(history["loss"]) == len(history["grad_norm"]) == 300
    for name in params:  # the initial parameters are untouched, the trained ones all moved
        np.testing.assert_array_equal(params[name], initial[name])
        assert not np.allclose(trained[name], initial[name]), name


class FrozenOptimizer:
    """An optimiser that never changes the parameters, to look at the losses alone."""

    def step(self, params, grads):
        return params


def test_truncated_training_carries_the_state_across_windows():
    # With frozen parameters, the losses of truncated training are those of consecutive windows
    # of B streams read with the state carried over, for one of the T possible start offsets.
    rng = np.random.default_rng(5)
    ids = rng.integers(0, V, size=400)  # (N,)
    params = init_char_rnn(V, D, H, rng)
    batch_size, seq_len, steps = 2, 5, 3
    _, history = train_char_rnn(
        params,
        ids,
        steps=steps,
        batch_size=batch_size,
        seq_len=seq_len,
        optimizer=FrozenOptimizer(),
        clip_norm=None,
        rng=np.random.default_rng(0),
    )

    def window_losses(offset, carry):
        length = (ids.size - offset) // batch_size
        streams = ids[offset:][: batch_size * length].reshape(batch_size, length)  # (B, N // B)
        losses, h = [], None
        for k in range(steps):
            window = slice(k * seq_len, (k + 1) * seq_len)
            following = slice(k * seq_len + 1, (k + 1) * seq_len + 1)
            loss, _, h_last = char_rnn_loss(params, streams[:, window], streams[:, following], h)
            losses.append(loss)
            h = h_last if carry else None
        return losses

    carried = [window_losses(offset, carry=True) for offset in range(seq_len)]
    restarted = [window_losses(offset, carry=False) for offset in range(seq_len)]
    assert any(np.allclose(history["loss"], losses, rtol=1e-12) for losses in carried)
    assert not any(np.allclose(history["loss"], losses, rtol=1e-12) for losses in restarted)


def test_clipping_bounds_the_update():
    # With SGD, lr = 1 and clip_norm = c the whole update has norm at most c.
    ids, vocab_size = repeated_text_ids(5)
    params = init_char_rnn(vocab_size, 4, 6, np.random.default_rng(4))
    params["W_out"] = params["W_out"] * 50.0  # large scores, large gradients
    trained, history = train_char_rnn(
        params,
        ids,
        steps=1,
        batch_size=2,
        seq_len=10,
        optimizer=SGD(lr=1.0),
        clip_norm=0.01,
        rng=np.random.default_rng(0),
    )
    step_norm = np.sqrt(sum(np.sum((trained[k] - params[k]) ** 2) for k in params))
    assert history["grad_norm"][0] > 0.01
    assert step_norm == pytest.approx(0.01, rel=1e-6)


def test_training_rejects_bad_arguments():
    ids, vocab_size = repeated_text_ids(2)
    params = init_char_rnn(vocab_size, 4, 6, np.random.default_rng(0))
    common = dict(batch_size=2, seq_len=8, optimizer=SGD(lr=0.1), clip_norm=None)
    with pytest.raises(ValueError, match="steps"):
        train_char_rnn(params, ids, steps=0, rng=np.random.default_rng(0), **common)
    with pytest.raises(ValueError, match="train_ids must hold more"):
        train_char_rnn(params, ids[:10], steps=1, rng=np.random.default_rng(0), **common)
    with pytest.raises(ValueError, match=r"train_ids must hold ids in \[0, V\)"):
        train_char_rnn(params, ids + vocab_size, steps=1, rng=np.random.default_rng(0), **common)


# --- sampling --------------------------------------------------------------------------------


def test_sampling_returns_valid_ids_of_the_right_length():
    params, _, _, _ = small_problem()
    ids = sample_characters(params, np.array([0, 3, 2]), 25, np.random.default_rng(0))
    assert ids.shape == (25,)
    assert np.issubdtype(ids.dtype, np.integer)
    assert ids.min() >= 0 and ids.max() < V
    empty = sample_characters(params, np.array([1]), 0, np.random.default_rng(0))
    assert empty.shape == (0,)


def greedy_continuation(params, start_ids, length):
    """Argmax decoding, written independently with the full forward pass at every step."""
    sequence = list(start_ids)
    for _ in range(length):
        scores, _, _ = char_rnn_forward(params, np.array([sequence]))  # (1, t, V)
        sequence.append(int(np.argmax(scores[0, -1])))
    return np.array(sequence[len(start_ids) :])


def test_low_temperature_gives_the_argmax():
    params, _, _, _ = small_problem()
    params["W_out"] = params["W_out"] * 5.0  # clear winners at every step
    start = np.array([1, 4])
    expected = greedy_continuation(params, start, 15)
    for seed in range(3):
        got = sample_characters(params, start, 15, np.random.default_rng(seed), temperature=1e-3)
        np.testing.assert_array_equal(got, expected)
    # At temperature 1 the samples differ from the argmax and between seeds.
    hot = [sample_characters(params, start, 15, np.random.default_rng(s)) for s in range(3)]
    assert any(not np.array_equal(h, expected) for h in hot)


def test_sampling_rejects_bad_arguments():
    params, _, _, _ = small_problem()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="temperature"):
        sample_characters(params, np.array([0]), 5, rng, temperature=0.0)
    with pytest.raises(ValueError, match="at least one"):
        sample_characters(params, np.array([], dtype=np.int64), 5, rng)
    with pytest.raises(ValueError, match="length"):
        sample_characters(params, np.array([0]), -1, rng)
    with pytest.raises(ValueError, match="start_ids must have 1 axis"):
        sample_characters(params, np.array([[0, 1]]), 5, rng)


# --- bad input -------------------------------------------------------------------------------


def test_bad_shapes_raise_value_errors_naming_the_argument():
    params, inputs, targets, h0 = small_problem()
    with pytest.raises(ValueError, match=r"Wh must have shape \(H, H\) = \(5, 5\), got \(5, 4\)"):
        char_rnn_loss({**params, "Wh": params["Wh"][:, :4]}, inputs, targets)
    with pytest.raises(ValueError, match=r"W_out must have shape \(H, V\) = \(5, 7\)"):
        char_rnn_loss({**params, "W_out": params["W_out"][:, :6]}, inputs, targets)
    with pytest.raises(ValueError, match=r"inputs must have 2 axes \(B, T\)"):
        char_rnn_loss(params, inputs[0], targets)
    with pytest.raises(ValueError, match=r"targets must have shape \(B, T\) = \(2, 4\)"):
        char_rnn_loss(params, inputs, targets[:, :3])
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, H\) = \(2, 5\)"):
        char_rnn_loss(params, inputs, targets, h0[:1])


def test_bad_values_and_types_raise_value_errors():
    params, inputs, targets, h0 = small_problem()
    with pytest.raises(ValueError, match="inputs must be a NumPy integer array"):
        char_rnn_loss(params, inputs.astype(np.float64), targets)
    with pytest.raises(ValueError, match=r"targets must hold ids in \[0, V\) = \[0, 7\)"):
        char_rnn_loss(params, inputs, targets + V)
    with pytest.raises(ValueError, match=r"inputs must hold ids in \[0, V\)"):
        char_rnn_loss(params, inputs - V, targets)
    with pytest.raises(ValueError, match="params is missing"):
        char_rnn_loss({k: v for k, v in params.items() if k != "b"}, inputs, targets)
    with pytest.raises(ValueError, match="dtype"):
        char_rnn_loss(params, inputs, targets, h0.astype(np.float32))
    with pytest.raises(ValueError, match="dtype"):
        char_rnn_loss({**params, "Wh": params["Wh"].astype(np.float32)}, inputs, targets)
