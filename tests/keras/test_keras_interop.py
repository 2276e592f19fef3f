"""Keras 3 (torch backend) layers against rnncore.numpy through rnncore.keras_interop.

Keras computes a float64 layer in float64, except that its generic recurrent loop (SimpleRNN,
GRU with reset_after=False) multiplies through ``keras.ops.matmul``, which on every backend but
TensorFlow promotes float64 to float32. Hence the tolerance ``FLOAT32_MATMUL`` for those two;
LSTM and GRU(reset_after=True) run in a fused torch loop and match to rounding. A wrong
mapping (gates not swapped, update gate not flipped) misses by far more than either.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

keras = pytest.importorskip("keras")

# keras.ops.convert_to_numpy calls np.array on a torch tensor, which NumPy 2 warns about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

from rnncore import keras_interop  # noqa: E402
from rnncore.numpy.gru import flip_update_gate, gru_forward, gru_reset_after_forward  # noqa: E402
from rnncore.numpy.lstm import lstm_forward  # noqa: E402
from rnncore.numpy.rnn import rnn_forward  # noqa: E402

B, T, D, H = 3, 6, 4, 5
FLOAT32_MATMUL = {"rtol": 0, "atol": 1e-6}
FUSED = {"rtol": 0, "atol": 1e-12}
WRONG = 1e-3  # a wrong mapping differs by more than this somewhere


@pytest.fixture(autouse=True)
def torch_backend():
    if keras.backend.backend() != "torch":
        pytest.skip("these tests run Keras on the torch backend only")


def random_layer(kind, seed, dtype="float64", **options):
    """A built Keras layer (B, T, D) -> (B, T, H) with random weights of scale 0.5."""
    layer = getattr(keras.layers, kind)(H, return_sequences=True, dtype=dtype, **options)
    layer.build((None, None, D))
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(0.5 * rng.standard_normal(tuple(variable.shape)))
    return layer


def inputs(seed=0):
    rng = np.random.default_rng(100 + seed)
    x = rng.standard_normal((B, T, D))  # (B, T, D)
    h0 = rng.standard_normal((B, H))  # (B, H)
    c0 = rng.standard_normal((B, H))  # (B, H)
    return x, h0, c0


def keras_output(layer, x, *states):
    return keras.ops.convert_to_numpy(layer(x, initial_state=list(states)))  # (B, T, H)


def largest_difference(a, b):
    return float(np.max(np.abs(a - b)))


# --- forward equality -------------------------------------------------------------------------


def test_simple_rnn_equals_rnn_forward():
    layer = random_layer("SimpleRNN", 0)
    x, h0, _ = inputs()
    params = keras_interop.simple_rnn_params_from_keras(layer)
    assert {name: value.shape for name, value in params.items()} == {
        "Wx": (D, H),
        "Wh": (H, H),
        "b": (H,),
    }
    np.testing.assert_allclose(
        rnn_forward(x, h0, **params)[0], keras_output(layer, x, h0), **FLOAT32_MATMUL
    )


def test_lstm_equals_lstm_forward_with_the_same_gate_order():
    layer = random_layer("LSTM", 1)
    x, h0, c0 = inputs()
    params = keras_interop.lstm_params_from_keras(layer)
    assert params["Wx"].shape == (D, 4 * H) and params["b"].shape == (4 * H,)
    expected = keras_output(layer, x, h0, c0)
    np.testing.assert_allclose(lstm_forward(x, h0, **params, c0=c0)[0], expected, **FUSED)
    # swapping the i and f blocks (a wrong gate order) is detected
    swapped = {name: value.copy() for name, value in params.items()}
    for name in swapped:
        swapped[name][..., : 2 * H] = np.roll(params[name][..., : 2 * H], H, axis=-1)
    assert largest_difference(lstm_forward(x, h0, **swapped, c0=c0)[0], expected) > WRONG


def test_gru_reset_before_equals_gru_forward_after_the_update_gate_flip():
    layer = random_layer("GRU", 2, reset_after=False)
    x, h0, _ = inputs()
    params = keras_interop.gru_params_from_keras(layer)
    assert set(params) == {"Wx", "Wh", "b"}
    assert params["b"].shape == (3 * H,)
    expected = keras_output(layer, x, h0)
    np.testing.assert_allclose(gru_forward(x, h0, **params)[0], expected, **FLOAT32_MATMUL)
    # without the flip the seed's GRU computes a different function
    unflipped = dict(zip(("Wx", "Wh", "b"), flip_update_gate(**params), strict=True))
    assert largest_difference(gru_forward(x, h0, **unflipped)[0], expected) > WRONG
    # and the reset-after GRU with the same weights (b_hn = 0) is a different function too
    after = gru_reset_after_forward(x, h0, **params, b_hn=np.zeros(H))[0]
    assert largest_difference(after, expected) > WRONG


def test_gru_reset_after_equals_gru_reset_after_forward_without_a_flip():
    layer = random_layer("GRU", 3, reset_after=True)
    assert tuple(layer.cell.bias.shape) == (2, 3 * H)
    x, h0, _ = inputs()
    params = keras_interop.gru_params_from_keras(layer)
    assert {name: value.shape for name, value in params.items()} == {
        "Wx": (D, 3 * H),
        "Wh": (H, 3 * H),
        "b": (3 * H,),
        "b_hn": (H,),
    }
    expected = keras_output(layer, x, h0)
    np.testing.assert_allclose(gru_reset_after_forward(x, h0, **params)[0], expected, **FUSED)
    flipped = dict(
        zip(
            ("Wx", "Wh", "b"),
            flip_update_gate(params["Wx"], params["Wh"], params["b"]),
            strict=True,
        )
    )
    wrong = gru_reset_after_forward(x, h0, **flipped, b_hn=params["b_hn"])[0]
    assert largest_difference(wrong, expected) > WRONG


def test_gru_reset_after_bias_rows_map_to_b_and_b_hn():
    layer = random_layer("GRU", 4, reset_after=True)
    bias = keras.ops.convert_to_numpy(layer.cell.bias)  # (2, 3H): rows input, recurrent
    params = keras_interop.gru_params_from_keras(layer)
    z, r, n = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)  # Keras's blocks
    np.testing.assert_array_equal(params["b"][:H], bias[0, r] + bias[1, r])
    np.testing.assert_array_equal(params["b"][H : 2 * H], bias[0, z] + bias[1, z])
    np.testing.assert_array_equal(params["b"][2 * H :], bias[0, n])
    np.testing.assert_array_equal(params["b_hn"], bias[1, n])


def test_a_layer_without_bias_reads_zero_biases():
    for kind, options in (("SimpleRNN", {}), ("LSTM", {}), ("GRU", {"reset_after": True})):
        layer = random_layer(kind, 5, use_bias=False, **options)
        x, h0, c0 = inputs()
        if kind == "SimpleRNN":
            params = keras_interop.simple_rnn_params_from_keras(layer)
            ours = rnn_forward(x, h0, **params)[0]
            theirs = keras_output(layer, x, h0)
        elif kind == "LSTM":
            params = keras_interop.lstm_params_from_keras(layer)
            ours, theirs = lstm_forward(x, h0, **params, c0=c0)[0], keras_output(layer, x, h0, c0)
        else:
            params = keras_interop.gru_params_from_keras(layer)
            ours, theirs = gru_reset_after_forward(x, h0, **params)[0], keras_output(layer, x, h0)
        assert not any(np.any(params[name]) for name in params if name.startswith("b"))
        np.testing.assert_allclose(ours, theirs, **FLOAT32_MATMUL)


def test_float32_layers_keep_float32_unless_asked():
    layer = random_layer("GRU", 6, dtype="float32")
    assert keras_interop.gru_params_from_keras(layer)["Wx"].dtype == np.float32
    assert keras_interop.gru_params_from_keras(layer, dtype=np.float64)["Wx"].dtype == np.float64


def test_the_cell_is_accepted_as_well_as_the_layer():
    layer = random_layer("LSTM", 7)
    from_cell = keras_interop.lstm_params_from_keras(layer.cell)
    from_layer = keras_interop.lstm_params_from_keras(layer)
    for name in from_layer:
        np.testing.assert_array_equal(from_cell[name], from_layer[name])


def test_returned_arrays_are_copies():
    layer = random_layer("SimpleRNN", 8)
    params = keras_interop.simple_rnn_params_from_keras(layer)
    params["Wx"][:] = 0
    assert np.any(keras.ops.convert_to_numpy(layer.cell.kernel))


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "read", "write"),
    [
        ("SimpleRNN", {}, "simple_rnn_params_from_keras", "simple_rnn_params_to_keras"),
        ("LSTM", {}, "lstm_params_from_keras", "lstm_params_to_keras"),
        ("GRU", {"reset_after": False}, "gru_params_from_keras", "gru_params_to_keras"),
        ("GRU", {"reset_after": True}, "gru_params_from_keras", "gru_params_to_keras"),
    ],
)
def test_round_trip_through_another_layer(kind, options, read, write):
    source = random_layer(kind, 10, **options)
    target = random_layer(kind, 11, **options)
    params = getattr(keras_interop, read)(source)
    assert getattr(keras_interop, write)(params, target) is target
    again = getattr(keras_interop, read)(target)
    for name in params:
        np.testing.assert_allclose(again[name], params[name], rtol=0, atol=1e-15)
    x, h0, c0 = inputs(1)
    states = (h0, c0) if kind == "LSTM" else (h0,)
    np.testing.assert_allclose(
        keras_output(target, x, *states), keras_output(source, x, *states), rtol=0, atol=1e-12
    )


def test_numpy_parameters_written_to_keras_compute_the_seed_gru():
    rng = np.random.default_rng(12)
    params = {
        "Wx": rng.standard_normal((D, 3 * H)),
        "Wh": rng.standard_normal((H, 3 * H)) / np.sqrt(H),
        "b": rng.standard_normal(3 * H),
    }
    layer = keras_interop.gru_params_to_keras(params, random_layer("GRU", 13, reset_after=False))
    x, h0, _ = inputs(2)
    np.testing.assert_allclose(
        keras_output(layer, x, h0), gru_forward(x, h0, **params)[0], **FLOAT32_MATMUL
    )


def test_recurrent_bias_row_holds_only_b_hn_after_writing():
    layer = random_layer("GRU", 14, reset_after=True)
    params = keras_interop.gru_params_from_keras(random_layer("GRU", 15, reset_after=True))
    keras_interop.gru_params_to_keras(params, layer)
    bias = keras.ops.convert_to_numpy(layer.cell.bias)  # (2, 3H)
    np.testing.assert_array_equal(bias[1, : 2 * H], 0.0)
    np.testing.assert_array_equal(bias[1, 2 * H :], params["b_hn"])


# --- errors -----------------------------------------------------------------------------------


def test_wrong_layer_types_are_rejected():
    gru = random_layer("GRU", 20)
    with pytest.raises(ValueError, match="keras.layers.LSTM or keras.layers.LSTMCell, got GRU"):
        keras_interop.lstm_params_from_keras(gru)
    with pytest.raises(ValueError, match="keras.layers.GRU or keras.layers.GRUCell, got Dense"):
        keras_interop.gru_params_from_keras(keras.layers.Dense(3))
    with pytest.raises(ValueError, match="got ndarray"):
        keras_interop.simple_rnn_params_to_keras({}, np.zeros(3))


def test_unbuilt_layers_are_rejected():
    with pytest.raises(ValueError, match="has no weights yet: build it first"):
        keras_interop.simple_rnn_params_from_keras(keras.layers.SimpleRNN(3))


def test_other_activations_are_rejected():
    layer = keras.layers.SimpleRNN(3, activation="relu")
    layer.build((None, None, 2))
    with pytest.raises(ValueError, match="must use activation='tanh'.*got 'relu'"):
        keras_interop.simple_rnn_params_from_keras(layer)
    layer = keras.layers.GRU(3, recurrent_activation="hard_sigmoid")
    layer.build((None, None, 2))
    with pytest.raises(ValueError, match="recurrent_activation='sigmoid'.*got 'hard_sigmoid'"):
        keras_interop.gru_params_from_keras(layer)


def test_wrong_shapes_are_rejected_with_letters_and_numbers():
    layer = random_layer("LSTM", 21)
    params = keras_interop.lstm_params_from_keras(layer)
    params["Wh"] = params["Wh"][:, : 3 * H]
    with pytest.raises(
        ValueError, match=r"Wh must have shape \(H, 4H\) = \(5, 20\), got \(5, 15\)"
    ):
        keras_interop.lstm_params_to_keras(params, layer)
    params = keras_interop.lstm_params_from_keras(layer)
    params["Wx"] = np.zeros((D + 1, 4 * H))
    with pytest.raises(
        ValueError, match=r"Wx must have shape \(D, 4H\) = \(4, 20\), got \(5, 20\)"
    ):
        keras_interop.lstm_params_to_keras(params, layer)


def test_wrong_keys_for_the_gru_form_are_rejected():
    before = random_layer("GRU", 22, reset_after=False)
    after = random_layer("GRU", 23, reset_after=True)
    with pytest.raises(ValueError, match="reset_after=True needs params with keys"):
        keras_interop.gru_params_to_keras(keras_interop.gru_params_from_keras(before), after)
    with pytest.raises(ValueError, match="reset_after=False takes params with keys"):
        keras_interop.gru_params_to_keras(keras_interop.gru_params_from_keras(after), before)
    with pytest.raises(
        ValueError, match=r"params must be a dict with keys \['Wh', 'Wx', 'b'\], got \['Wx'\]"
    ):
        keras_interop.simple_rnn_params_to_keras({"Wx": 0}, random_layer("SimpleRNN", 24))


def test_integer_arrays_are_rejected():
    layer = random_layer("SimpleRNN", 25)
    params = keras_interop.simple_rnn_params_from_keras(layer)
    params["b"] = np.zeros(H, dtype=np.int64)
    with pytest.raises(ValueError, match="b must be a NumPy floating-point array, got int64"):
        keras_interop.simple_rnn_params_to_keras(params, layer)


def test_nonzero_bias_into_a_layer_without_bias_is_rejected():
    layer = random_layer("SimpleRNN", 26, use_bias=False)
    params = keras_interop.simple_rnn_params_from_keras(random_layer("SimpleRNN", 27))
    with pytest.raises(ValueError, match="nonzero biases but layer .* has use_bias=False"):
        keras_interop.simple_rnn_params_to_keras(params, layer)


def test_another_backend_is_rejected(monkeypatch):
    layer = random_layer("SimpleRNN", 28)
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(RuntimeError, match="needs Keras on the torch backend, but Keras runs on"):
        keras_interop.simple_rnn_params_from_keras(layer)
