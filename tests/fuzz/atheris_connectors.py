"""Coverage-guided fuzzing of one connector with atheris (libFuzzer), beside the hypothesis suite.

Not part of `make test`: it runs until stopped or for a set number of runs, and needs atheris
(`pip install atheris`; wheels exist for CPython 3.11 on x86-64 Linux). The check per input is the
same oracle as tests/fuzz/test_connectors_fuzz.py; libFuzzer mutates bytes, guided by which
branches of the connector code an input reaches, starting from the format's samples.

    python -m tests.fuzz.atheris_connectors hl7v2 -atheris_runs=50000
    python -m tests.fuzz.atheris_connectors ctf -max_total_time=600

A failing input is written by libFuzzer as crash-<sha1> in the working directory; replay it with
`python -m tests.fuzz.atheris_connectors <format> crash-<sha1>`.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path

import structlog

from tests.fuzz.inputs import SAMPLES

try:
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # an optional tool: say how to get it rather than fail with a traceback
    atheris = None


def main(argv: list[str]) -> int:
    if atheris is None:
        print("atheris is not installed: pip install atheris", file=sys.stderr)
        return 2
    with atheris.instrument_imports(include=["connectors", "schemas"]):  # hubnet code, imported here
        from connectors import registry
        from tests.fuzz.oracle import check_input

        if len(argv) < 2 or argv[1] not in registry.formats():
            print(f"usage: {argv[0]} FORMAT [libFuzzer options]; formats: {', '.join(registry.formats())}")
            return 2
        fmt, options = argv[1], argv[2:]
        registry.get(fmt)  # the connector's own modules load lazily: load them instrumented
    logging.disable(logging.CRITICAL)  # connector errors are expected by the thousand; keep output readable
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))

    def one_input(data: bytes) -> None:
        check_input(fmt, data)

    replaying = any(not option.startswith("-") for option in options)
    corpus = Path(tempfile.mkdtemp(prefix=f"atheris-{fmt}-"))
    for sample in sorted((SAMPLES / fmt).glob("*")):
        shutil.copy(sample, corpus / sample.name)  # a copy: libFuzzer adds to its corpus folder
    try:
        atheris.Setup([argv[0], *options, *([] if replaying else [str(corpus)])], one_input)
        atheris.Fuzz()
    finally:
        shutil.rmtree(corpus, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
