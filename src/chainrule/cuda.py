"""``cr.cuda``: whether a GPU can be used (``is_available``) and how many there are.

chainrule runs on NVIDIA GPUs through CuPy (``pip install 'chainrule[cuda13]'``,
or ``[cuda12]``). Nothing is imported until one of these is asked.
"""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """Whether CuPy is installed and sees at least one GPU."""
    return backend.cuda_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    if not backend.cuda_available():
        return 0
    return int(backend.cuda_modules()[0].cuda.runtime.getDeviceCount())
