"""ImageNet features of colour images (CIFAR-10 and STL-10 with ``features: resnet50`` or ``vgg16``).

torchvision's ImageNet weights with the final classifier removed: ResNet-50 (IMAGENET1K_V2), the
2048 values of its global average pool; VGG-16 (IMAGENET1K_V1), the 4096 values of its second
fully connected layer after the ReLU (fc7, the layer image-clustering papers take). float32. They
are not pixels, so meta has no ``image_shape`` (conv autoencoders cannot take them) and no
``max_value``: preprocess them with ``standard`` or ``none`` (``minmax`` would divide by the
largest feature value).
"""

from contextlib import nullcontext
from pathlib import Path

import numpy as np

# network name -> (torchvision weights enum, weights, feature size)
NETWORKS = {"resnet50": ("ResNet50_Weights", "IMAGENET1K_V2", 2048),
            "vgg16": ("VGG16_Weights", "IMAGENET1K_V1", 4096)}


def weights_remote(name: str):
    """torchvision's weights file of network ``name``. By torch hub's convention its name carries
    the first hex digits of its sha256 (resnet50-11ad3fa6.pth), which is the checksum torchvision
    itself checks."""
    import torch
    import torchvision.models

    from deepclust.data.remote import Remote

    enum, weights, _ = _network(name)
    url = getattr(torchvision.models, enum)[weights].url
    filename = url.rsplit("/", 1)[-1]
    prefix = torch.hub.HASH_REGEX.search(filename)
    if prefix is None:
        raise ValueError(f"{url}: the file name carries no sha256 prefix to check the download with")
    return Remote(filename, urls=(url,), sha256_prefix=prefix.group(1))


def feature_extractor(name: str) -> str:
    """How meta names the features of network ``name``: resnet50/IMAGENET1K_V2."""
    return f"{name}/{_network(name)[1]}"


def network_features(images: np.ndarray, name: str, models, device="cpu", mirror=None,
                     batch_size: int = 128) -> tuple[np.ndarray, dict]:
    """(n x feature size float32 features, meta) of uint8 images (n, 3, H, W) by network ``name``.

    The weights are fetched into ``models``/<name> (mirror first): the folder of pretrained
    weights, which the caller chooses (the workflow's download job fetches them there). The whole
    uint8 set is moved to the device once; each batch is then preprocessed there by the weights'
    own transforms (ResNet-50: resize to 232, VGG-16: to 256, bilinear with antialiasing; centre
    crop 224; ImageNet normalisation), so there is no per-image PIL work. On CUDA the network runs
    under bf16 autocast (float16 where bf16 is not supported natively: V100, T4); on the CPU in
    float32."""
    import torch
    import torchvision.models

    from deepclust.data.remote import fetch
    from deepclust.engine import native_bf16, resolve_device

    enum, weights, _ = _network(name)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} features need uint8 images (n, 3, H, W), got {images.dtype} {images.shape}")
    device = resolve_device(str(device))
    path = fetch(weights_remote(name), Path(models) / name, mirror)
    network = getattr(torchvision.models, name)()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    if name == "resnet50":
        network.fc = torch.nn.Identity()
    else:  # VGG's classifier: fc6, ReLU, dropout, fc7, ReLU, dropout, fc8; dropout is off in eval
        network.classifier = network.classifier[:-1]
    network.eval().to(device)
    transform = getattr(torchvision.models, enum)[weights].transforms()
    autocast, memory_format = nullcontext(), torch.contiguous_format
    if device.type == "cuda":
        dtype = torch.bfloat16 if native_bf16(device) else torch.float16
        autocast, memory_format = torch.autocast("cuda", dtype=dtype), torch.channels_last
        network = network.to(memory_format=memory_format)
    pixels = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    with torch.inference_mode(), autocast:
        features = [network(transform(pixels[i:i + batch_size]).contiguous(memory_format=memory_format)).float()
                    for i in range(0, len(pixels), batch_size)]
    return torch.cat(features).cpu().numpy(), {"feature_extractor": feature_extractor(name), "weights_file": path.name}


def _network(name: str) -> tuple[str, str, int]:
    if name not in NETWORKS:
        raise ValueError(f"unknown pretrained network {name!r}; valid: {', '.join(NETWORKS)}")
    return NETWORKS[name]
