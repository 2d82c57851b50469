"""``python -m rxcaution``: the rxcaution command-line tool.

The C++ function behind the ``rxcaution`` executable does all the work (``_core.run_cli``), so the
subcommands, the output and the exit statuses are the same byte for byte. The one exception is
``screen`` (population screening from CSV or Parquet files), which needs pyarrow and runs here, in
``rxcaution.screen_cli``; the C++ executable points to it.
"""

from __future__ import annotations

import os
import sys
from typing import Optional, Sequence, TextIO

from ._core import run_cli


def _write(stream: TextIO, text: str) -> None:
    """Writes what the tool produced, restoring its exact bytes when the stream has a buffer."""
    if not text:
        return
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        return
    stream.flush()
    buffer.write(text.encode("utf-8", "surrogateescape"))
    buffer.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the tool.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: 0 done; 1 usage or pack error; 2 a medication or condition could not be
        resolved; 3 a warning at or above ``--fail-on`` was found.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "screen":
        from . import screen_cli

        return screen_cli.main(args[1:])
    code, out, err = run_cli(args)
    try:
        _write(sys.stdout, out)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop without a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    _write(sys.stderr, err)
    return code


if __name__ == "__main__":
    sys.exit(main())
