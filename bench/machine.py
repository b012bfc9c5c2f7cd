"""What the benchmarks ran on, for their JSON: the GPU's or the CPU's model name."""

from deepclust.provenance import cpu_name


def device_name(device: str = "cpu") -> str:
    """The CUDA device's name, else the CPU model with its core count."""
    if device.startswith("cuda"):
        import torch
        return torch.cuda.get_device_name(torch.device(device))
    return cpu_name()
