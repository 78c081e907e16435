"""A `--help` that fits on a few screens: each option's first sentence and its default, without the
type signatures and lists of every known subclass that LightningCLI's help repeats per option
(`--model.net.help ConvNet` and friends still show a class's full options)."""

from __future__ import annotations

import re
from argparse import SUPPRESS

from jsonargparse import DefaultHelpFormatter

USAGE = "%(prog)s [-h] [-c CONFIG] [--print_config] [--<group>.<option> VALUE ...]"


def first_sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    match = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    return text[: match.start() + 1] if match else text


class CompactHelpFormatter(DefaultHelpFormatter):
    def __init__(self, prog: str, **kwargs) -> None:
        super().__init__(prog, **{"width": 100, "max_help_position": 32, **kwargs})

    def _format_usage(self, usage, actions, groups, prefix) -> str:
        if prefix == "":  # argparse naming a subcommand's program ("python -m lab fit"): keep it short
            return super()._format_usage(usage, actions, groups, prefix)
        return super()._format_usage(USAGE, actions, groups, prefix)

    def _get_help_string(self, action) -> str:
        full = super()._get_help_string(action)
        if getattr(action, "_jsonargparse_preexpanded_help", False) or not action.option_strings:
            return full
        text = first_sentence((action.help or "").replace("%", "%%")) if action.help != SUPPRESS else ""
        if action.default not in (None, SUPPRESS) and "%(default)" not in text and not callable(action.default):
            text += (" " if text else "") + "(default: %(default)s)"
        return text
