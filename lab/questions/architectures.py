"""Coursework part 2, section 2.2: the two architectures and the two questions about ConvNet.

    make architectures   # or: python -m lab.questions.architectures

Every number is read from the modules in lab/models: layer tables (output shape, trainable
parameters per layer), the kernel size of ConvNet's first convolution for colour input, and the
trainable parameters of F6 with the calculation. Writes results/architectures/<run>/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lab.models import ConvNet, TwoLayerNet, count_parameters
from lab.questions.common import new_run_dir, publish, run_main, write_json
from lab.viz.layers import layer_table, markdown_table

INPUT_SHAPE = (3, 32, 32)


def answers(convnet: ConvNet) -> dict:
    c1 = convnet.features.c1[0]
    out_c, in_c, kh, kw = c1.weight.shape
    f6 = convnet.f6[1]
    f6_params = sum(p.numel() for p in f6.parameters())
    return {
        "first_conv": {
            "kernel_size": [kh, kw],
            "kernel_shape": [in_c, kh, kw],
            "kernels": out_c,
            "answer": f"{out_c} kernels of size {in_c} x {kh} x {kw} (input channels x height x width): "
            f"each 5x5 kernel spans all {in_c} colour channels, so C1 has {out_c} * {in_c} * {kh} * {kw} + {out_c} "
            f"= {sum(p.numel() for p in c1.parameters())} trainable parameters.",
        },
        "f6": {
            "in_features": f6.in_features,
            "out_features": f6.out_features,
            "parameters": f6_params,
            "calculation": f"{f6.in_features} * {f6.out_features} (weights) + {f6.out_features} (biases) "
            f"= {f6.in_features * f6.out_features} + {f6.out_features} = {f6_params}",
        },
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    nets = {"TwoLayerNet": TwoLayerNet(), "ConvNet": ConvNet()}
    out = new_run_dir("architectures")
    result = {"input_shape": list(INPUT_SHAPE), "networks": {}}
    text = ["# Architectures (input: colour images 3 x 32 x 32)\n"]
    for name, net in nets.items():
        rows = layer_table(net, INPUT_SHAPE)
        result["networks"][name] = {"layers": rows, "trainable_parameters": count_parameters(net)}
        text += [f"## {name}: {count_parameters(net):,} trainable parameters\n", markdown_table(rows)]
    result["answers"] = answers(nets["ConvNet"])
    a = result["answers"]
    text += [
        "## Questions\n",
        f"**Kernel size of the first convolutional layer for colour input.** {a['first_conv']['answer']}\n",
        f"**Trainable parameters of F6.** F6 is fully connected from C5's {a['f6']['in_features']} units to "
        f"{a['f6']['out_features']} units: {a['f6']['calculation']}.\n",
    ]
    (out / "architectures.md").write_text("\n".join(text))
    write_json(out / "architectures.json", result)
    print("\n".join(text) + f"\nresults: {out}")
    return publish(out)


if __name__ == "__main__":
    run_main(main)
