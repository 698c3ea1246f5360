"""``ActivationHistograms``: TensorBoard event files hold each activation layer's pre-activation histogram
per epoch, matching the pre-activations themselves."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from relulab.callbacks import ActivationHistograms
from relulab.diagnostics.recording import Tap
from relulab.diagnostics.sites import find_sites

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def histograms(folder) -> dict[str, list[tuple[int, np.ndarray]]]:
    """``{tag: [(step, (bins, 3) array of left edge, right edge, count)]}`` from the event files in ``folder``."""
    import tensorflow as tf

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return {tag: [(e.step, tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]
            for tag in events.Tags()["tensors"]}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.random((200, 12)).astype("float32")
    return x, (x.sum(axis=1) > 6).astype("int64")


def test_event_files_hold_every_activation_layers_histograms_per_epoch(tmp_path, data):
    x, y = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(8, activation="relu", name="dense"),
                              keras.layers.Dense(6, name="hidden"),
                              keras.layers.LeakyReLU(negative_slope=0.1, name="leaky_re_lu"),
                              keras.layers.Dense(2, activation="softmax", name="output")])
    model.compile("adam", "sparse_categorical_crossentropy")
    callback = ActivationHistograms(x, tmp_path, probe_size=100)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])
    found = histograms(tmp_path / "train")
    names = [site.name for site in find_sites(model)]
    assert names == ["dense", "leaky_re_lu"]
    for name in names:
        for tag in (f"pre_activation/{name}", f"activation/{name}"):
            assert [step for step, _ in found[tag]] == [0, 1, 2], tag
    # The last histogram describes the pre-activations of the final weights on the probe, all of them.
    seen = {}

    def keep(site, pre, out):
        seen[site.name] = keras.ops.convert_to_numpy(keras.ops.stop_gradient(pre))

    with Tap(find_sites(model), keep, exclusive=True):
        model(callback.x, training=False)
    for name in names:
        bins = found[f"pre_activation/{name}"][-1][1]
        assert bins[:, 2].sum() == pytest.approx(seen[name].size)
        assert bins[0, 0] == pytest.approx(seen[name].min(), rel=1e-6)
        assert bins[-1, 1] == pytest.approx(seen[name].max(), rel=1e-6)


def test_freq_skips_epochs_and_a_diverged_layer_is_counted_not_plotted(tmp_path, data):
    x, y = data
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(4, name="hidden"),
                              keras.layers.ReLU(name="re_lu"), keras.layers.Dense(2, activation="softmax", name="output")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=4, verbose=0, callbacks=[ActivationHistograms(x, tmp_path / "a", freq=2)])
    assert [step for step, _ in histograms(tmp_path / "a" / "train")["pre_activation/re_lu"]] == [1, 3]
    model.layers[0].kernel.assign(np.full((12, 4), np.nan, "float32"))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ActivationHistograms(x[:10], tmp_path / "b")])
    found = histograms(tmp_path / "b" / "train")
    assert "pre_activation/re_lu" not in found
    assert float(found["nonfinite/re_lu"][0][1]) == 40  # 10 examples x 4 units


@pytest.mark.parametrize("kwargs, message", [
    ({"freq": 0}, r"freq of ActivationHistograms must be an integer >= 1"),
    ({"max_values": 0}, r"max_values of ActivationHistograms must be an integer >= 1"),
])
def test_bad_arguments_name_themselves(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ActivationHistograms(np.zeros((4, 2)), tmp_path, **kwargs)


def test_an_empty_probe_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"x of ActivationHistograms must hold at least one example"):
        ActivationHistograms(np.zeros((0, 2)), tmp_path)
