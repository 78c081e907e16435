"""CV1 part 2, §2.2: the two architectures and the two questions about ConvNet.

    make architectures   # or: python -m lab.questions architectures

Every number is read from the modules in lab/models: layer tables (output shape, trainable parameters
per layer), the kernel size of ConvNet's first convolution for colour input, and the trainable
parameters of F6 with the calculation.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path

from lab.models import ConvNet, TwoLayerNet, count_parameters
from lab.questions import CV1, Question, register
from lab.report.blocks import Table, Text, markdown_table
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


QUESTION = register(Question(
    __name__, "Architectures", CV1, "§2.2", order=20, result_type=ArchitecturesResult,
    asks="TwoLayerNet and LeNet-5 ConvNet for colour images: the kernel size of the first convolution, the "
         "trainable parameters of F6 with the calculation.",
    configs="lab/models/twolayer.py, lab/models/lenet.py"))  # fmt: skip


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


def run(args: Namespace, out: Path) -> ArchitecturesResult:
    nets = {"TwoLayerNet": TwoLayerNet(), "ConvNet": ConvNet()}
    return ArchitecturesResult(
        input_shape=list(INPUT_SHAPE),
        layers={name: [Layer(**row) for row in layer_table(net, INPUT_SHAPE)] for name, net in nets.items()},
        parameters={name: count_parameters(net) for name, net in nets.items()},
        **answers(nets["ConvNet"]),
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
