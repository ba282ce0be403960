"""The hand-crafted CNN: a linear stack of 3x3 convolutions, 2x2 max-pooling and dropout.

Designed for accuracy per FLOP on a small CPU. The expensive part of a VGG-style net on 48x48
faces is its full-resolution convolutions, so the stem is one strided 3x3 convolution (48 -> 24)
and the width grows only where the feature maps are small:

    48x48x1 -> rescale -> conv3x3/2 32 -> [conv 32] pool -> [conv 48 x2] pool
            -> [conv 96 x2] pool -> [conv 192 x2] pool -> global average -> dropout -> 7 softmax

Every convolution is followed by batch-norm and ReLU. About 0.67 M parameters and 0.5 ms a face
in int8 on one thread of an x86-64 core (``emojify bench``), the shipped model's shape.
``emojify-train --blocks`` trains other widths and depths (the README compares some).
"""

from __future__ import annotations

import numpy as np

from emojify.labels import NUM_CLASSES
from emojify.preprocess import INPUT_SIZE

STEM_CHANNELS = 32
BLOCKS: tuple[tuple[int, int], ...] = ((32, 1), (48, 2), (96, 2), (192, 2))
"""(channels, convolutions) per block; each block ends with 2x2 max-pooling."""
BLOCK_DROPOUT_STEP = 0.05
"""Dropout after block ``i`` (from 0) is ``(i + 1) * BLOCK_DROPOUT_STEP``: 0.05, 0.1, 0.15, 0.2."""
HEAD_DROPOUT = 0.4


def parse_blocks(text: str) -> tuple[tuple[int, int], ...]:
    """``"32x1,48x2"`` -> ``((32, 1), (48, 2))``; ValueError naming the bad part otherwise."""
    blocks = []
    for part in text.split(","):
        channels, _, repeats = part.strip().partition("x")
        if not (channels.isdigit() and repeats.isdigit() and int(channels) > 0 and int(repeats) > 0):
            raise ValueError(f"bad block {part.strip()!r}: expected CHANNELSxCONVS such as 64x2")
        blocks.append((int(channels), int(repeats)))
    if not 1 <= len(blocks) <= 4:  # four 2x2 poolings take 24x24 down to 1x1
        raise ValueError(f"{text!r}: expected 1 to 4 blocks, got {len(blocks)}")
    return tuple(blocks)


def format_blocks(blocks: tuple[tuple[int, int], ...]) -> str:
    """The inverse of :func:`parse_blocks`."""
    return ",".join(f"{c}x{r}" for c, r in blocks)


def build_model(blocks: tuple[tuple[int, int], ...] = BLOCKS, name: str = "emojify_cnn"):
    """Return the uncompiled Keras classifier: input (48, 48, 1) raw 0..255 gray, output 7 softmax."""
    import keras
    from keras import layers

    def conv(x, channels: int, strides: int = 1):
        x = layers.Conv2D(channels, 3, strides=strides, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    x = conv(x, STEM_CHANNELS, strides=2)
    for i, (channels, repeats) in enumerate(blocks):
        for _ in range(repeats):
            x = conv(x, channels)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout((i + 1) * BLOCK_DROPOUT_STEP)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(HEAD_DROPOUT)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def stack_layers(model) -> list:
    """The layers of ``model`` after its input, each taking the output of the one before: a linear
    stack, which :func:`set_batchnorm_statistics` walks. ValueError for any other model (a branch, a
    skip connection). A ``keras.Sequential`` is one by construction, its layers' inputs no guide (loaded from
    a file or built with ``add``, Keras rebuilds it at each layer, and each layer keeps an input of every
    build) and no InputLayer among them; a functional model lists its InputLayer: left out."""
    import keras

    nested = next((layer for layer in model.layers if isinstance(layer, keras.Model)), None)
    if nested is not None:  # walked as one layer, its own batch-norm layers would keep their statistics
        raise ValueError(f"its layer {nested.name} is a model of its own; the batch-norm statistics need a "
                         "plain stack of layers")
    if isinstance(model, keras.Sequential):
        return list(model.layers)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    before = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        if before is None or layer.input is not before:
            raise ValueError(f"its layer {layer.name} does not take the output of the layer before it; "
                             "the batch-norm statistics need a plain stack of layers (no branches)")
        before = layer.output
    return layers


def set_batchnorm_statistics(model, faces: np.ndarray, batch_size: int = 512) -> None:
    """Set every batch-norm layer's moving mean and variance to the exact statistics of its input
    over ``faces`` (N, 48, 48) un-augmented, in order from the input ("precise batch-norm").

    During training these statistics are running averages over augmented batches (borders reflected,
    faces turned and shifted) of a network that kept changing, so they are a little off for real,
    upright faces at inference; on PublicTest the exact ones are worth about half a point.
    Walks the linear stack layer by layer, holding one layer's activations for all faces at a time.
    """
    import keras

    layers = stack_layers(model)
    x = faces.astype(np.float32)[..., None]
    chunks = range(0, len(x), batch_size)
    for layer in layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            count = x[..., 0].size
            mean = sum(x[i:i + batch_size].sum((0, 1, 2), dtype=np.float64) for i in chunks) / count
            variance = sum(np.square(x[i:i + batch_size] - mean).sum((0, 1, 2)) for i in chunks) / count
            layer.moving_mean.assign(mean.astype(np.float32))
            layer.moving_variance.assign(variance.astype(np.float32))
        x = np.concatenate([keras.ops.convert_to_numpy(layer(x[i:i + batch_size], training=False)) for i in chunks])
