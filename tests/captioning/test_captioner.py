"""The captioner: column features, masked attention, teacher forcing and decoding agree."""

import numpy as np
import pytest
import torch

from rnncore.data import digit_strips as ds
from rnncore.torch.captioner import (
    Captioner,
    ColumnEncoder,
    attention_weights,
    caption_batches,
    caption_loss_fn,
    caption_step_fn,
    greedy_captions,
    strip_tensors,
)
from rnncore.torch.decode import beam_search, greedy_decode
from rnncore.torch.train import seed_everything, train

W = ds.strip_width()


@pytest.fixture(scope="module")
def strips():
    train_pool, _ = ds.split_digit_images(seed=0)
    return ds.make_strips(train_pool, 64, np.random.default_rng(0))


def make_model(attend, seed=0, **kwargs):
    torch.manual_seed(seed)
    model = Captioner(
        W, channels=8, feature_size=16, hidden_size=24, attention_size=12, attend=attend, **kwargs
    )
    return model.double().eval()


def batch(strips, rows):
    images, widths = strip_tensors(strips, rows)
    inputs, targets = ds.encode_captions([strips.digits[i] for i in rows])
    return images.double(), widths, torch.as_tensor(inputs), torch.as_tensor(targets)


def test_column_features_see_five_columns_only():
    torch.manual_seed(0)
    encoder = ColumnEncoder(channels=4, feature_size=6, max_width=20).double()
    images = torch.rand(2, 8, 20, dtype=torch.float64)
    features = encoder(images)
    assert features.shape == (2, 20, 6)
    changed = images.clone()
    changed[:, :, 10] += 1.0
    moved = (encoder(changed) - features).abs().amax(dim=(0, 2))  # (W,)
    assert (moved[8:13] > 0).all()  # two 3 x 3 convolutions: columns 8..12 see column 10
    assert (moved[:8] == 0).all() and (moved[13:] == 0).all()


def test_encoder_rejects_wider_images_than_its_positions():
    encoder = ColumnEncoder(channels=2, feature_size=3, max_width=10)
    with pytest.raises(ValueError, match="max_width"):
        encoder(torch.zeros(1, 8, 11))


@pytest.mark.parametrize("attend", [True, False])
def test_forward_shapes_and_weights_on_real_columns_only(strips, attend):
    model = make_model(attend)
    images, widths, inputs, _ = batch(strips, range(6))
    logits, weights = model(images, widths, inputs)
    B, T = inputs.shape
    assert logits.shape == (B, T, ds.VOCABULARY_SIZE)
    assert weights.shape == (B, T, images.shape[2])
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T, dtype=torch.float64))
    for row, width in enumerate(widths.tolist()):
        assert (weights[row, :, width:] == 0).all()
        assert (weights[row, :, :width] > 0).all()
        if not attend:  # one vector for every step: nothing to choose
            torch.testing.assert_close(
                weights[row, :, :width], torch.full((T, width), 1 / width, dtype=torch.float64)
            )


@pytest.mark.parametrize("attend", [True, False])
def test_padding_columns_change_nothing(strips, attend):
    model = make_model(attend)
    images, widths, inputs, _ = batch(strips, range(5))
    logits, weights = model(images, widths, inputs)
    padded = torch.nn.functional.pad(images, (0, W - images.shape[2]))
    logits_padded, weights_padded = model(padded, widths, inputs)
    torch.testing.assert_close(logits_padded, logits)
    torch.testing.assert_close(weights_padded[:, :, : images.shape[2]], weights)


@pytest.mark.parametrize("attend", [True, False])
def test_each_strip_is_described_alone(strips, attend):
    model = make_model(attend)
    images, widths, inputs, _ = batch(strips, range(4))
    logits, _ = model(images, widths, inputs)
    for row in range(4):
        alone, _ = model(
            images[row : row + 1, :, : widths[row]], widths[row : row + 1], inputs[row : row + 1]
        )
        torch.testing.assert_close(alone[0], logits[row])


def test_pooled_decoder_ignores_where_it_is_only_through_its_state(strips):
    """Without attention the context is one vector: two strips that differ only in the
    order of their digits must still get different image vectors (the order is kept)."""
    model = make_model(attend=False)
    images, widths, _, _ = batch(strips, [0])
    first, second = strips.segments[0][0], strips.segments[0][1]
    swapped = images.clone()
    swapped[0, :, first[0] : first[1]] = images[0, :, second[0] : second[1]]
    swapped[0, :, second[0] : second[1]] = images[0, :, first[0] : first[1]]
    (_, _, pooled, _), _ = model.encode(images, widths)
    (_, _, pooled_swapped, _), _ = model.encode(swapped, widths)
    assert not torch.allclose(pooled, pooled_swapped)


def test_loss_is_the_mean_over_real_tokens(strips):
    model = make_model(attend=True)
    images, widths, inputs, targets = batch(strips, range(8))
    loss = caption_loss_fn(model, (images, widths, inputs), targets)
    logits, _ = model(images, widths, inputs)
    log_probs = torch.log_softmax(logits, dim=-1)
    real = targets != ds.PAD
    picked = log_probs.gather(2, targets.clamp(max=ds.VOCABULARY_SIZE - 1)[..., None])[..., 0]
    torch.testing.assert_close(loss, -picked[real].mean())
    assert (~real).any()  # the batch has padding, or the check above proves nothing


@pytest.mark.parametrize("attend", [True, False])
def test_step_fn_greedy_equals_batched_greedy_and_teacher_forcing(strips, attend):
    model = make_model(attend, seed=1)
    rows = list(range(10))
    sub = ds.DigitStrips(
        strips.images[rows],
        strips.widths[rows],
        [strips.digits[i] for i in rows],
        [strips.segments[i] for i in rows],
        [strips.sources[i] for i in rows],
    )
    batched = greedy_captions(model.float(), sub, max_digits=7, batch_size=3)
    model = model.float()
    for i in rows:
        image = torch.as_tensor(strips.images[i])
        step_fn, state = caption_step_fn(model, image, int(strips.widths[i]))
        tokens, _ = greedy_decode(step_fn, state, ds.BOS, ds.EOS, max_length=8)
        assert ds.decode_caption(tokens) == batched[i]
        # Beam search of width 1 is greedy over the same step_fn.
        assert beam_search(step_fn, state, ds.BOS, ds.EOS, 1, 8)[0] == tokens
        # Teacher-forced weights for the produced tokens are one row per produced token.
        weights = attention_weights(model, image, int(strips.widths[i]), batched[i])
        assert weights.shape == (len(batched[i]) + 1, int(strips.widths[i]))


def test_attention_weights_are_those_of_decoding(strips):
    model = make_model(attend=True, seed=2).float()
    image, width = torch.as_tensor(strips.images[0]), int(strips.widths[0])
    step_fn, h = caption_step_fn(model, image, width)
    memory, _ = model.encode(image[None], torch.tensor([width]))
    digits = (4, 2, 7)
    expected, token = [], ds.BOS
    with torch.no_grad():
        for next_token in (*digits, ds.EOS):
            _, h_next, w = model.step(torch.tensor([token]), h, memory)
            expected.append(w[0])
            h, token = h_next, next_token
    torch.testing.assert_close(
        attention_weights(model, image, width, digits), torch.stack(expected)[:, :width]
    )


def test_batches_cover_the_strips_and_crop_padding(strips):
    batches = caption_batches(strips, 16, np.random.default_rng(0))
    seen = []
    for _ in range(4):
        (images, widths, inputs), targets = next(batches)
        assert images.shape[2] == int(widths.max())
        assert inputs.shape == targets.shape and (inputs[:, 0] == ds.BOS).all()
        seen.extend(ds.decode_caption(row) for row in targets.tolist())
    assert sorted(seen) == sorted(strips.digits)


def test_rejects_widths_outside_the_image(strips):
    model = make_model(attend=True)
    images, widths, inputs, _ = batch(strips, range(2))
    with pytest.raises(ValueError, match="widths"):
        model(images, widths + images.shape[2], inputs)


@pytest.mark.slow
def test_attention_captioner_learns_short_strips():
    """A few hundred steps on 3-digit strips: far below chance loss, most strips right."""
    train_pool, test_pool = ds.split_digit_images(seed=0)
    kwargs = {"min_digits": 3, "max_digits": 3, "max_gap": 1}
    train_strips = ds.make_strips(train_pool, 4000, np.random.default_rng(0), **kwargs)
    test_strips = ds.make_strips(test_pool, 200, np.random.default_rng(1), **kwargs)
    seed_everything(0)
    model = Captioner(
        ds.strip_width(3, 1), channels=16, feature_size=32, hidden_size=64, attention_size=32
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = train(
        model,
        caption_batches(train_strips, 32, np.random.default_rng(0)),
        caption_loss_fn,
        optimizer,
        steps=300,
        device="cpu",
        clip_norm=5.0,
        progress=False,
    )
    assert np.mean([h["loss"] for h in history[-20:]]) < 0.3  # chance is log 13 = 2.6
    captions = greedy_captions(model, test_strips, max_digits=5)
    exact = np.mean([c == d for c, d in zip(captions, test_strips.digits, strict=True)])
    assert exact > 0.6
