"""Convolutional networks built from a small config: a stack of conv blocks (plain or residual), then fully
connected layers. ``layer_table`` does the conv arithmetic by hand — output shape, parameters, receptive
field and multiply-adds per layer — and ``build_cnn`` builds the matching ``nn.Module`` whose named layers
are exactly the table's rows (the tests check the two agree for every preset).

Presets, registered in ``core.models.MODELS`` (family ``"cnn"``): LeNet-5-like, tiny VGG, tiny ResNet and
the CIFAR-style ConvNet of seed 002 adapted to the data. Each preset is ``fn(in_channels, image_size,
num_classes) -> CNNConfig``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from core.errors import ConfigError
from core.i18n import Message

from . import MODELS

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU,
                                           "tanh": nn.Tanh}
POOLS = ("max", "avg", "none")
MAX_PARAMS = 8_000_000
MAX_MACS = 400_000_000  # multiply-adds for one image: beyond that a shared CPU crawls
DEFAULT_PRESET = "Tiny VGG"


@dataclass(frozen=True)
class ConvBlock:
    """``convs`` convolutions of ``channels`` filters (``kernel``×``kernel``; ``stride`` and ``padding`` on the
    first), each followed by batch norm (if on) and the activation, then pooling. ``residual=True`` makes it a
    ResNet basic block: conv → BN → act → conv → BN, plus a shortcut (identity, or a 1×1 conv when the shape
    changes), then the activation."""

    channels: int = 16
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    convs: int = 1
    pool: str = "max"
    residual: bool = False


@dataclass(frozen=True)
class CNNConfig:
    """The whole network. ``fc`` lists hidden fully connected widths (the class layer is added);
    ``global_pool`` averages each channel over the image before them (as ResNet does)."""

    in_channels: int = 1
    image_size: int = 16
    num_classes: int = 10
    blocks: tuple[ConvBlock, ...] = (ConvBlock(16), ConvBlock(32))
    fc: tuple[int, ...] = (64,)
    batch_norm: bool = True
    activation: str = "relu"
    dropout: float = 0.0
    pool_size: int = 2
    global_pool: bool = False
    name: str = "custom"

    def with_data(self, in_channels: int, image_size: int, num_classes: int) -> CNNConfig:
        return replace(self, in_channels=in_channels, image_size=image_size, num_classes=num_classes)


@dataclass
class LayerRow:
    """One row of the layer table; ``name`` is the module's path in the built model."""

    name: str
    kind: str
    detail: str
    out_shape: tuple[int, ...]
    params: int
    receptive_field: int | None = None
    macs: int = 0
    children: list[str] = field(default_factory=list)


# -------------------------------------------------------------------------------------- modules
class ResidualBlock(nn.Module):
    """``shortcut(x) + branch(x)``: the activation after the sum is a separate layer, so this module's output is
    exactly input + residual (with an identity shortcut)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, batch_norm: bool, activation: str) -> None:
        super().__init__()
        pad = kernel // 2
        conv1 = nn.Conv2d(cin, cout, kernel, stride, pad, bias=not batch_norm)
        layers: list[tuple[str, nn.Module]] = [("conv1", conv1)]
        if batch_norm:
            layers.append(("bn1", nn.BatchNorm2d(cout)))
        layers += [("act1", ACTIVATIONS[activation]()),
                   ("conv2", nn.Conv2d(cout, cout, kernel, 1, pad, bias=not batch_norm))]
        if batch_norm:
            layers.append(("bn2", nn.BatchNorm2d(cout)))
        self.branch = nn.Sequential(OrderedDict(layers))
        if stride != 1 or cin != cout:
            short: list[tuple[str, nn.Module]] = [("conv", nn.Conv2d(cin, cout, 1, stride, bias=not batch_norm))]
            if batch_norm:
                short.append(("bn", nn.BatchNorm2d(cout)))
            self.shortcut: nn.Module = nn.Sequential(OrderedDict(short))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.branch(x)


class ConvNet(nn.Module):
    """``features`` (conv blocks) → ``classifier`` (flatten or global pool, FC layers); built by ``build_cnn``."""

    def __init__(self, config: CNNConfig, features: nn.Sequential, classifier: nn.Sequential) -> None:
        super().__init__()
        self.config = config
        self.features = features
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# ------------------------------------------------------------------------------------- checking
def _out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def validate(config: CNNConfig) -> None:
    """Raise ``ConfigError`` (with a fix) for settings no network can have."""
    if config.activation not in ACTIVATIONS:
        raise ConfigError("vision.errors.activation", value=config.activation, choices=", ".join(ACTIVATIONS))
    if not 1 <= len(config.blocks) <= 6:
        raise ConfigError("vision.errors.n_blocks", low=1, high=6, count=len(config.blocks))
    if not 0 <= config.dropout < 1:
        raise ConfigError("vision.errors.dropout", value=config.dropout)
    if config.num_classes < 2:
        raise ConfigError("vision.errors.classes")
    for i, fc in enumerate(config.fc, 1):
        if not 1 <= fc <= 4096:
            raise ConfigError("vision.errors.fc_layer", n=i, low=1, high=4096, value=fc)
    for b, block in enumerate(config.blocks, 1):
        if not 1 <= block.channels <= 512:
            raise ConfigError("vision.errors.channels", n=b, low=1, high=512, value=block.channels)
        if not 1 <= block.kernel <= 11:
            raise ConfigError("vision.errors.kernel", n=b, low=1, high=11, value=block.kernel)
        if not 1 <= block.stride <= 4:
            raise ConfigError("vision.errors.stride", n=b, low=1, high=4, value=block.stride)
        if not 0 <= block.padding <= block.kernel:
            raise ConfigError("vision.errors.padding", n=b, kernel=block.kernel, value=block.padding)
        if not 1 <= block.convs <= 3:
            raise ConfigError("vision.errors.convs", n=b, low=1, high=3, value=block.convs)
        if block.pool not in POOLS:
            raise ConfigError("vision.errors.pool", n=b, choices=", ".join(POOLS), value=block.pool)
        if block.residual and block.kernel % 2 == 0:
            raise ConfigError("vision.errors.residual_kernel", n=b, value=block.kernel)


# ---------------------------------------------------------------------------------- layer table
def layer_table(config: CNNConfig) -> list[LayerRow]:
    """Every layer with its output shape ``(C, H, W)`` or ``(features,)``, parameter count, receptive field (in
    input pixels) and multiply-adds — computed with conv arithmetic, without building the network:
    ``out = ⌊(in + 2·padding − kernel) / stride⌋ + 1``."""
    validate(config)
    bn_on = config.batch_norm
    rows: list[LayerRow] = []
    c, s = config.in_channels, config.image_size
    rf, jump = 1, 1
    act = config.activation

    def conv(name: str, cin: int, cout: int, k: int, stride: int, pad: int, size: int) -> int:
        nonlocal rf, jump
        out = _out(size, k, stride, pad)
        if out < 1:
            raise ConfigError("vision.errors.no_fit", layer=name, k=k, stride=stride, pad=pad, size=size)
        rf += (k - 1) * jump
        jump *= stride
        params = cout * cin * k * k + (0 if bn_on else cout)
        rows.append(LayerRow(name, "conv", Message("vision.layers.conv", n=cout, k=k, stride=stride, pad=pad),
                             (cout, out, out), params, rf, cout * out * out * cin * k * k))
        return out

    def norm(name: str, ch: int, size: int) -> None:
        if bn_on:
            rows.append(LayerRow(name, "batchnorm", Message("vision.layers.batchnorm"),
                                 (ch, size, size), 2 * ch, rf))

    def activation(name: str, ch: int, size: int) -> None:
        rows.append(LayerRow(name, "activation", act, (ch, size, size), 0, rf))

    for b, block in enumerate(config.blocks, 1):
        if block.residual:
            name = f"features.res{b}"
            s1 = conv(f"{name}.branch.conv1", c, block.channels, block.kernel, block.stride, block.kernel // 2, s)
            sub = [rows.pop()]
            s2 = conv(f"{name}.branch.conv2", block.channels, block.channels, block.kernel, 1, block.kernel // 2, s1)
            sub.append(rows.pop())
            params = sum(r.params for r in sub) + (2 * 2 * block.channels if bn_on else 0)
            macs = sum(r.macs for r in sub)
            shortcut = Message("vision.layers.identity")
            if block.stride != 1 or c != block.channels:
                params += c * block.channels + (2 * block.channels if bn_on else (block.channels))
                macs += block.channels * s2 * s2 * c
                shortcut = Message("vision.layers.projection", stride=block.stride)
            rows.append(LayerRow(name, "residual",
                                 Message("vision.layers.residual_bn" if bn_on else "vision.layers.residual",
                                         k=block.kernel, act=act, shortcut=shortcut),
                                 (block.channels, s2, s2), params, rf, macs,
                                 children=[f"{name}.branch", f"{name}.shortcut"]))
            c, s = block.channels, s2
            activation(f"features.{act}{b}", c, s)
        else:
            for j in range(block.convs):
                tag = f"{b}" if block.convs == 1 else f"{b}_{j + 1}"
                stride, pad = (block.stride, block.padding) if j == 0 else (1, block.padding)
                s = conv(f"features.conv{tag}", c, block.channels, block.kernel, stride, pad, s)
                c = block.channels
                norm(f"features.bn{tag}", c, s)
                activation(f"features.{act}{tag}", c, s)
        if block.pool != "none":
            p = config.pool_size
            if s < p:
                raise ConfigError("vision.errors.pool_too_small", n=b, p=p, size=s)
            s = _out(s, p, p, 0)
            rf += (p - 1) * jump
            jump *= p
            rows.append(LayerRow(f"features.pool{b}", "pool", Message(f"vision.layers.pool_{block.pool}", p=p),
                                 (c, s, s), 0, rf))
    if config.global_pool:
        rows.append(LayerRow("classifier.gap", "pool", Message("vision.layers.gap"),
                             (c, 1, 1), 0, None))
        s = 1
    width = c * s * s
    rows.append(LayerRow("classifier.flatten", "flatten", f"{c}×{s}×{s} → {width}", (width,), 0))
    for i, units in enumerate((*config.fc, config.num_classes), 1):
        last = i == len(config.fc) + 1
        if config.dropout:
            rows.append(LayerRow(f"classifier.drop{i}", "dropout",
                                 Message("vision.layers.dropout", rate=config.dropout), (width,), 0))
        name = "classifier.out" if last else f"classifier.fc{i}"
        detail = Message("vision.layers.scores", n_in=width, n_out=units) if last else f"{width} → {units}"
        rows.append(LayerRow(name, "linear", detail, (units,),
                             width * units + units, None, width * units))
        if not last:
            rows.append(LayerRow(f"classifier.{act}_fc{i}", "activation", act, (units,), 0))
        width = units
    total_params = sum(r.params for r in rows)
    if total_params > MAX_PARAMS:
        big = max(rows, key=lambda r: r.params)
        raise ConfigError("vision.errors.too_many_params", total=total_params, limit=MAX_PARAMS, layer=big.name,
                          params=big.params)
    total_macs = sum(r.macs for r in rows)
    if total_macs > MAX_MACS:
        raise ConfigError("vision.errors.too_many_macs", macs=total_macs / 1e6, limit=MAX_MACS / 1e6)
    return rows


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# -------------------------------------------------------------------------------------- builder
def build_cnn(config: CNNConfig) -> ConvNet:
    """The ``nn.Module`` for ``config`` (raises ``ConfigError`` for impossible settings). Its named modules are
    the rows of :func:`layer_table`, e.g. ``features.conv1``, ``features.relu1``, ``features.pool1``,
    ``classifier.out``."""
    rows = layer_table(config)
    bn_on, act = config.batch_norm, config.activation
    pool_cls = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}
    features: list[tuple[str, nn.Module]] = []
    c = config.in_channels
    for b, block in enumerate(config.blocks, 1):
        if block.residual:
            features.append((f"res{b}", ResidualBlock(c, block.channels, block.kernel, block.stride, bn_on, act)))
            features.append((f"{act}{b}", ACTIVATIONS[act]()))
            c = block.channels
        else:
            for j in range(block.convs):
                tag = f"{b}" if block.convs == 1 else f"{b}_{j + 1}"
                stride = block.stride if j == 0 else 1
                features.append((f"conv{tag}", nn.Conv2d(c, block.channels, block.kernel, stride, block.padding,
                                                         bias=not bn_on)))
                c = block.channels
                if bn_on:
                    features.append((f"bn{tag}", nn.BatchNorm2d(c)))
                features.append((f"{act}{tag}", ACTIVATIONS[act]()))
        if block.pool != "none":
            features.append((f"pool{b}", pool_cls[block.pool](config.pool_size)))
    classifier: list[tuple[str, nn.Module]] = []
    if config.global_pool:
        classifier.append(("gap", nn.AdaptiveAvgPool2d(1)))
    classifier.append(("flatten", nn.Flatten()))
    width = rows[[r.kind for r in rows].index("flatten")].out_shape[0]
    for i, units in enumerate((*config.fc, config.num_classes), 1):
        last = i == len(config.fc) + 1
        if config.dropout:
            classifier.append((f"drop{i}", nn.Dropout(config.dropout)))
        classifier.append(("out" if last else f"fc{i}", nn.Linear(width, units)))
        if not last:
            classifier.append((f"{act}_fc{i}", ACTIVATIONS[act]()))
        width = units
    return ConvNet(config, nn.Sequential(OrderedDict(features)), nn.Sequential(OrderedDict(classifier)))


# --------------------------------------------------------------------------------------- presets
def _fits(size: int, blocks: int) -> int:
    """How many 2×2-pooled blocks fit while the map stays at least 2×2."""
    n = 0
    while n < blocks and size // 2 >= 2:
        size //= 2
        n += 1
    return max(n, 1)


@MODELS.register("LeNet-5", family="cnn",
                 description="LeCun et al. 1998, scaled to the data: 5×5 convs with 6 and 16 filters, tanh, "
                             "average pooling, then 120 → 84 units")
def lenet5(in_channels: int = 1, image_size: int = 28, num_classes: int = 10) -> CNNConfig:
    after_pool = image_size // 2
    second_pad = 0 if after_pool >= 10 else 2  # LeNet's unpadded 5×5 needs room; small inputs get padding
    return CNNConfig(in_channels, image_size, num_classes,
                     blocks=(ConvBlock(6, 5, 1, 2, pool="avg"), ConvBlock(16, 5, 1, second_pad, pool="avg")),
                     fc=(120, 84), batch_norm=False, activation="tanh", name="LeNet-5")


@MODELS.register("Tiny VGG", family="cnn",
                 description="VGG's recipe in miniature: pairs of 3×3 convs with batch norm and ReLU, then 2×2 "
                             "max pooling, channels doubling per block")
def tiny_vgg(in_channels: int = 1, image_size: int = 16, num_classes: int = 10) -> CNNConfig:
    n = min(_fits(image_size, 3), 2 if image_size <= 16 else 3)
    blocks = tuple(ConvBlock(16 * 2 ** i, 3, 1, 1, convs=2, pool="max") for i in range(n))
    return CNNConfig(in_channels, image_size, num_classes, blocks=blocks, fc=(64,), batch_norm=True,
                     activation="relu", dropout=0.2, name="Tiny VGG")


@MODELS.register("Tiny ResNet", family="cnn",
                 description="A 3×3 stem, then residual blocks (output = input + residual) that halve the map "
                             "and double the channels, global average pooling, one linear layer")
def tiny_resnet(in_channels: int = 1, image_size: int = 16, num_classes: int = 10) -> CNNConfig:
    stages = 3 if image_size >= 16 else 2
    blocks = [ConvBlock(16, 3, 1, 1, pool="none"), ConvBlock(16, 3, 1, 1, pool="none", residual=True)]
    blocks += [ConvBlock(16 * 2 ** i, 3, 2, 1, pool="none", residual=True) for i in range(1, stages)]
    return CNNConfig(in_channels, image_size, num_classes, blocks=tuple(blocks), fc=(), batch_norm=True,
                     activation="relu", global_pool=True, name="Tiny ResNet")


@MODELS.register("Seed ConvNet", family="cnn", optimizer="Momentum", lr=0.01,
                 description="The CIFAR-style ConvNet of seed 002: conv 64 → pool → conv 128 → pool → FC 512, "
                             "trained like the seed with SGD + momentum 0.9 at 0.01; the flatten size is computed "
                             "from the data instead of the seed's fixed 128×14×14")
def seed_convnet(in_channels: int = 3, image_size: int = 32, num_classes: int = 10) -> CNNConfig:
    blocks = (ConvBlock(64, 3, 1, 1, pool="max"), ConvBlock(128, 3, 1, 1, pool="max"))
    if image_size > 32:  # keep fc1 affordable on large pictures: one more conv + pool before flattening
        blocks += (ConvBlock(128, 3, 1, 1, pool="max"),)
    return CNNConfig(in_channels, image_size, num_classes, blocks=blocks, fc=(512,), batch_norm=False,
                     activation="relu", name="Seed ConvNet")


def recommended_training(name: str) -> tuple[str, float]:
    """The optimizer (a ``core.training.OPTIMIZERS`` name) and learning rate a preset trains well with."""
    meta = MODELS.entry(name).meta if name in MODELS else {}
    return meta.get("optimizer", "Adam"), float(meta.get("lr", 0.003))


def preset(name: str, in_channels: int, image_size: int, num_classes: int) -> CNNConfig:
    """A registered preset sized for the data (``ConfigError`` for an unknown name)."""
    if name not in MODELS or MODELS.entry(name).family != "cnn":
        raise ConfigError("vision.errors.preset", value=name, choices=", ".join(MODELS.names("cnn")))
    return MODELS.get(name)(in_channels, image_size, num_classes)
