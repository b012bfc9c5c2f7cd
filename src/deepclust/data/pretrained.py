"""ResNet-50 features of colour images (CIFAR-10 and STL-10 with ``features: resnet50``).

torchvision's ImageNet weights (IMAGENET1K_V2) with the final classifier removed: 2048 float32
values per image. They are not pixels, so meta has no ``image_shape`` (conv autoencoders cannot
take them) and no ``max_value``: preprocess them with ``standard`` or ``none`` (``minmax`` would
divide by the largest feature value).
"""

from contextlib import nullcontext
from pathlib import Path

import numpy as np

WEIGHTS = "IMAGENET1K_V2"
FEATURE_EXTRACTOR = f"resnet50/{WEIGHTS}"


def weights_remote():
    """torchvision's weights file. By torch hub's convention its name carries the first hex digits
    of its sha256 (resnet50-11ad3fa6.pth), which is the checksum torchvision itself checks."""
    import torch
    from torchvision.models import ResNet50_Weights

    from deepclust.data.remote import Remote

    url = ResNet50_Weights[WEIGHTS].url
    filename = url.rsplit("/", 1)[-1]
    prefix = torch.hub.HASH_REGEX.search(filename)
    if prefix is None:
        raise ValueError(f"{url}: the file name carries no sha256 prefix to check the download with")
    return Remote(filename, urls=(url,), sha256_prefix=prefix.group(1))


def resnet50_features(images: np.ndarray, models, device="cpu", mirror=None,
                      batch_size: int = 128) -> tuple[np.ndarray, dict]:
    """(n x 2048 float32 features, meta) of uint8 images (n, 3, H, W).

    The weights are fetched into ``models``/resnet50 (mirror first): the folder of pretrained
    weights, which the caller chooses (the workflow's download job fetches them there). The whole uint8 set is moved to
    the device once; each batch is then preprocessed there by the weights' own transforms (resize
    to 232 bilinear with antialiasing, centre crop 224, ImageNet normalisation), so there is no
    per-image PIL work. On CUDA the network runs under bf16 autocast (float16 where bf16 is not
    supported natively: V100, T4); on the CPU in float32."""
    import torch
    from torchvision.models import ResNet50_Weights, resnet50

    from deepclust.data.remote import fetch
    from deepclust.engine import native_bf16, resolve_device

    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"ResNet-50 features need uint8 images (n, 3, H, W), got {images.dtype} {images.shape}")
    device = resolve_device(str(device))
    path = fetch(weights_remote(), Path(models) / "resnet50", mirror)
    network = resnet50()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    network.fc = torch.nn.Identity()
    network.eval().to(device)
    transform = ResNet50_Weights[WEIGHTS].transforms()
    autocast, memory_format = nullcontext(), torch.contiguous_format
    if device.type == "cuda":
        dtype = torch.bfloat16 if native_bf16(device) else torch.float16
        autocast, memory_format = torch.autocast("cuda", dtype=dtype), torch.channels_last
        network = network.to(memory_format=memory_format)
    pixels = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    with torch.inference_mode(), autocast:
        features = [network(transform(pixels[i:i + batch_size]).contiguous(memory_format=memory_format)).float()
                    for i in range(0, len(pixels), batch_size)]
    return torch.cat(features).cpu().numpy(), {"feature_extractor": FEATURE_EXTRACTOR, "weights_file": path.name}
