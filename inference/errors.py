"""One error type for every problem a user can fix, printed as one line by the commands."""

from __future__ import annotations

import functools
import sys


class NewstagError(Exception):
    """A problem with the user's input or setup; the message names the problem and the fix."""


def cli_errors(prog: str):
    """Wrap a command's ``main`` so a NewstagError (or Ctrl-C) becomes one line on stderr and exit 2/130."""

    def wrap(main):
        @functools.wraps(main)
        def run(argv=None, **kwargs):
            try:
                return main(argv, **kwargs)
            except NewstagError as err:
                print(f"{prog}: error: {err}", file=sys.stderr)
                return 2
            except KeyboardInterrupt:
                print(f"{prog}: interrupted; what was written so far is kept", file=sys.stderr)
                return 130

        return run

    return wrap
