"""What the commands share on the command line: a help text that shows defaults, the description taken
from the command module's docstring."""

from __future__ import annotations

import argparse
import sys


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with the description and epilog as written and each flag's default where it has one
    (not for switches, empty values or flags without a default)."""

    def _get_help_string(self, action):
        default = action.default
        if default is None or default is False or default is argparse.SUPPRESS or default in ("", []):
            return action.help
        return super()._get_help_string(action)


def progress(iterable=None, **kwargs):
    """A tqdm progress bar on stderr, drawn only when stderr is a terminal (a log file or pipe gets none).

    Print beside it with ``bar.write(line, file=sys.stdout)``: the bar is cleared first and drawn again after.
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, file=sys.stderr, disable=not sys.stderr.isatty(), **kwargs)


def description(doc: str) -> str:
    """The first paragraph of a command module's docstring as plain text (no RST markup) for ``--help``."""
    return doc.split("\n\n")[0].replace("``", "")
