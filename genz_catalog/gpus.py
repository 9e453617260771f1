"""Common inference GPUs and their memory, and the rule that says how many a model needs.

Pure data and arithmetic, no I/O. The model page and the compare page use it to answer "which
GPUs does this model fit on, and how many?".

The rule (documented in the README's "Model page" section):

- A device's *nominal* memory is the vendor's figure ("80 GB"), read as GiB, because HBM and
  GDDR come in binary-sized parts (an 80 GB H100 has 80 GiB of HBM3). Some parts expose a
  little less than that (an L4 reports 23,034 MiB of its "24 GB"); the reserve below covers it.
- Only :data:`USABLE_FRACTION` (90%) of it holds the model's weights, KV cache and recurrent
  state; the rest is left for the CUDA/ROCm context, activations and allocator fragmentation.
  vLLM reserves the same share by default (``gpu_memory_utilization=0.9``), and 90% of the
  nominal GiB stays below the total each listed device reports (an H100 80 GB reports
  81,559 MiB; 90% of 80 GiB is 73,728 MiB).
- ``devices_needed = ceil(required_bytes / usable_bytes)``: the memory-bound minimum, assuming the
  model shards evenly (tensor or pipeline parallel). It says nothing about speed; GenZ's
  simulations (``genz-catalog plan``) answer that.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

__all__ = ["COMMON_GPUS", "GPU", "USABLE_FRACTION", "devices_needed", "usable_bytes"]

#: Share of a device's nominal memory the rule lets weights + KV cache + state use.
USABLE_FRACTION = 0.9
_GIB = 2**30


@dataclass(frozen=True)
class GPU:
    """One accelerator model: its name, nominal memory and whether it computes in FP8."""

    name: str
    #: The vendor's figure ("80" for "80 GB"); the rule reads it as GiB.
    nominal_memory_gb: int
    #: True where the tensor cores run FP8 natively (Ada, Hopper, Blackwell, CDNA 3). Older parts
    #: can still hold FP8 weights (weight-only kernels), but compute in 16 bits.
    fp8_native: bool


#: Smallest first. Nominal memory from each vendor's data sheet.
COMMON_GPUS: tuple[GPU, ...] = (
    GPU("NVIDIA T4", 16, False),
    GPU("NVIDIA L4", 24, True),
    GPU("NVIDIA A10G", 24, False),
    GPU("NVIDIA RTX 4090", 24, True),
    GPU("NVIDIA A100 40GB", 40, False),
    GPU("NVIDIA L40S", 48, True),
    GPU("NVIDIA A100 80GB", 80, False),
    GPU("NVIDIA H100 80GB", 80, True),
    GPU("NVIDIA H200", 141, True),
    GPU("NVIDIA B200", 180, True),
    GPU("AMD MI300X", 192, True),
)


def usable_bytes(gpu: GPU) -> int:
    """Bytes of ``gpu`` the rule lets the model use: 90% of the nominal GiB, rounded down."""
    return int(gpu.nominal_memory_gb * _GIB * USABLE_FRACTION)


def devices_needed(required_bytes: int, gpu: GPU) -> int:
    """Fewest ``gpu`` devices whose usable memory holds ``required_bytes`` (bytes), at least 1.

    Raises ValueError for a negative figure.
    """
    if required_bytes < 0:
        raise ValueError(f"required_bytes must be >= 0, got {required_bytes}")
    return max(1, ceil(required_bytes / usable_bytes(gpu)))
