"""The benchmarks under benchmarks/ as modules, for the tests that run them at a tiny size or reuse
their repo generators (benchmarks/ is not a package, and is not installed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / 'benchmarks'


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/NAME.py, imported once (registered under NAME: a benchmark may import another)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f'{name}.py')
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
