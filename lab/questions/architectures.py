"""CV1 part 2, §2.2: the two architectures and the two questions about ConvNet.

    make architectures   # or: python -m lab.questions architectures

Every number is read from the modules in lab/models: layer tables (output shape, trainable parameters
per layer), the kernel size of ConvNet's first convolution for colour input, and the trainable
parameters of F6 with the calculation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.blocks import Table, Text, markdown_table
from lab.models import ConvNet, TwoLayerNet, count_parameters
from lab.questions import CV1, Question, register
from lab.questions.context import RunContext
from lab.viz.layers import layer_table

INPUT_SHAPE = (3, 32, 32)


@dataclass
class Layer:
    layer: str
    type: str
    output_shape: list[int]
    parameters: int


@dataclass
class ArchitecturesResult:
    input_shape: list[int]
    layers: dict[str, list[Layer]]  # network -> its layers in call order
    parameters: dict[str, int]
    first_conv_kernel: list[int]  # (input channels, height, width) of each C1 kernel
    first_conv_kernels: int
    first_conv_parameters: int
    f6_in: int
    f6_out: int
    f6_parameters: int
    deviations: list[list[str]] = field(default_factory=list)  # (part, this ConvNet, LeNet-5 of 1998)

    @property
    def first_conv_answer(self) -> str:
        c, kh, kw = self.first_conv_kernel
        n = self.first_conv_kernels
        return (
            f"{n} kernels of size {c} x {kh} x {kw} (input channels x height x width): each {kh}x{kw} kernel spans "
            f"all {c} colour channels, so C1 has {n} * {c} * {kh} * {kw} + {n} = {self.first_conv_parameters} "
            "trainable parameters."
        )

    @property
    def f6_calculation(self) -> str:
        w = self.f6_in * self.f6_out
        out = self.f6_out
        return f"{self.f6_in} * {out} (weights) + {out} (biases) = {w} + {out} = {self.f6_parameters}"


def answers(convnet: ConvNet) -> dict:
    c1, f6 = convnet.features.c1[0], convnet.f6[1]
    out_c, in_c, kh, kw = c1.weight.shape
    return {
        "first_conv_kernel": [in_c, kh, kw],
        "first_conv_kernels": out_c,
        "first_conv_parameters": count_parameters(c1),
        "f6_in": f6.in_features,
        "f6_out": f6.out_features,
        "f6_parameters": count_parameters(f6),
    }


ORIGINAL_C3 = 1516  # LeNet-5 (LeCun et al. 1998): C3's 60 of 96 S2-C3 map pairs connected, 1,516 trainable parameters


def deviations(net: ConvNet) -> list[list[str]]:
    """Where this ConvNet departs from LeNet-5 as published (LeCun et al., 1998), read from the module."""
    c1, s2, c3 = net.features.c1, net.features.s2, net.features.c3
    conv1, conv3 = c1[0], c3[0]
    act = type(c1[-1]).__name__
    c3_params = count_parameters(conv3)
    channels = f"{conv1.in_channels} channel" + ("s (colour)" if conv1.in_channels > 1 else "")
    return [
        [
            "input",
            f"{channels}, {INPUT_SHAPE[1]} x {INPUT_SHAPE[2]}",
            "1 channel (grey), 32 x 32 (28 x 28 digits, padded)",
        ],
        ["activation", f"{act} after every conv and F6", "scaled tanh, 1.7159 tanh(2a/3)"],
        [
            "S2, S4 subsampling",
            f"{type(s2).__name__} 2 x 2, {count_parameters(s2)} trainable parameters",
            "2 x 2 sum x trainable coefficient + trainable bias, then sigmoid (12 parameters in S2)",
        ],
        [
            "C3 connectivity",
            f"each of {conv3.out_channels} maps sees all {conv3.in_channels} S2 maps "
            f"(groups = {conv3.groups}): {c3_params:,} parameters",
            f"a fixed table: 60 of the 96 map pairs, {ORIGINAL_C3:,} parameters",
        ],
        [
            "output",
            f"Linear {net.classifier.in_features} -> {net.classifier.out_features}, softmax cross-entropy",
            "10 Euclidean RBF units with fixed +-1 codes, MSE-like criterion",
        ],
    ]


def run(ctx: RunContext, out: Path) -> ArchitecturesResult:
    nets = {"TwoLayerNet": TwoLayerNet(), "ConvNet": ConvNet()}
    return ArchitecturesResult(
        input_shape=list(INPUT_SHAPE),
        layers={name: [Layer(**row) for row in layer_table(net, INPUT_SHAPE)] for name, net in nets.items()},
        parameters={name: count_parameters(net) for name, net in nets.items()},
        **answers(nets["ConvNet"]),
        deviations=deviations(nets["ConvNet"]),
    )


def render(r: ArchitecturesResult, folder: Path) -> list:
    blocks: list = []
    for name, layers in r.layers.items():
        rows = [[x.layer, x.type, " x ".join(map(str, x.output_shape)), f"{x.parameters:,}"] for x in layers]
        rows.append(["**total**", "", "", f"**{r.parameters[name]:,}**"])
        table = markdown_table(["layer", "type", "output shape", "trainable parameters"], rows, "lllr")
        blocks.append(
            Table(
                f"{name}: layers for a 3 x 32 x 32 input",
                table,
                f"{r.parameters[name]:,} trainable parameters, read from lab/models by a forward pass.",
            )
        )
    blocks.append(
        Table(
            "ConvNet against LeNet-5 as published (LeCun et al., 1998)",
            markdown_table(
                ["part", "ConvNet here (read from the module)", "LeNet-5, 1998"],
                r.deviations or deviations(ConvNet()),
                "lll",
            ),
            "The layer sizes (C1 6@5x5, C3 16@5x5, C5 120, F6 84) are LeNet-5's; these parts differ.",
        )
    )
    blocks += [
        Text(f"**Kernel size of the first convolutional layer for colour input.** {r.first_conv_answer}"),
        Text(
            f"**Trainable parameters of F6.** F6 is fully connected from C5's {r.f6_in} units to {r.f6_out} units: "
            f"{r.f6_calculation}."
        ),
    ]
    return blocks


def headline(r: ArchitecturesResult) -> str:
    c, kh, kw = r.first_conv_kernel
    return f"C1 kernels {c} x {kh} x {kw}; F6 has {r.f6_parameters:,} parameters"


QUESTION = register(
    Question(
        __name__,
        "Architectures",
        CV1,
        "§2.2",
        order=20,
        result_type=ArchitecturesResult,
        asks="TwoLayerNet and LeNet-5 ConvNet for colour images: the kernel size of the first convolution, the "
        "trainable parameters of F6 with the calculation.",
        configs="lab/models/twolayer.py, lab/models/lenet.py",
        run=run,
        render=render,
        headline=headline,
    )
)
