"""What the benchmarks ran on, for their JSON: the GPU's or the CPU's model name."""

import os
import platform
from pathlib import Path


def device_name(device: str = "cpu") -> str:
    """The CUDA device's name, else the CPU model with its core count."""
    if device.startswith("cuda"):
        import torch
        return torch.cuda.get_device_name(torch.device(device))
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return platform.processor() or "unknown"
