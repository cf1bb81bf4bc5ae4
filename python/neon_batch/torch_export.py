"""Export a torchvision-style feature extractor slice (e.g. VGG-16 blocks 4-5) plus a clustering
head into a neon-batch model file (kinds deep_kmeans / deep_soft / soft_kmeans; layout in
docs/file-formats.md).

    import neon_batch
    from neon_batch.torch_export import vgg16_features
    features = vgg16_features()                     # or torchvision.models.vgg16(weights=...).features
    layers = list(features[17:31]) + [torch.nn.AdaptiveAvgPool2d(1)]
    neon_batch.export_torch(layers, {"kind": "deep_kmeans", "centroids": centroids}, "model.h5")
    export("model.h5", layers, "deep_kmeans", centroids)    # the same (tools/vgg_to_model.py's form)

Layers may be torch modules (Conv2d, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten,
Linear) or plain dicts ({"type": "conv2d", "weight": ndarray (O, I, kh, kw), "bias": ndarray,
"stride": 1, "padding": 1}, ...), so that the writer itself needs only numpy and h5py.

CLI: python3 -m neon_batch.torch_export OUT.h5 CENTROIDS.npy [--kind deep_kmeans|deep_soft] [--blocks 4-5]
exports blocks of an (untrained, seeded) torchvision-layout VGG-16, or of the weights in
--state-dict FILE (a torch state dict of vgg16().features or of the whole vgg16()).
"""
import argparse
import sys

import numpy as np

# torchvision's VGG-16 configuration "D" and the index ranges of its five blocks in `features`.
VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
BLOCKS = {1: (0, 5), 2: (5, 10), 3: (10, 17), 4: (17, 24), 5: (24, 31)}


def vgg16_features(seed=0):
    """nn.Sequential laid out as torchvision.models.vgg16().features (He-initialised, seeded)."""
    import torch
    torch.manual_seed(seed)
    layers, c = [], 3
    for v in VGG16:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            conv = torch.nn.Conv2d(c, v, kernel_size=3, padding=1)
            torch.nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            torch.nn.init.normal_(conv.bias, 0, 0.01)
            layers += [conv, torch.nn.ReLU(inplace=False)]
            c = v
    return torch.nn.Sequential(*layers)


def _pair(v):
    return v if isinstance(v, int) else v[0]


def describe(layer):
    """A torch module (or a dict, returned as is) as a layer dict of numpy arrays."""
    if isinstance(layer, dict):
        return layer
    name = type(layer).__name__
    np_ = lambda t: t.detach().cpu().numpy()
    if name == "Conv2d":
        if _pair(layer.dilation) != 1 or layer.groups != 1:
            raise ValueError("conv2d with dilation or groups is not supported")
        return {"type": "conv2d", "weight": np_(layer.weight), "bias": None if layer.bias is None else np_(layer.bias),
                "stride": _pair(layer.stride), "padding": _pair(layer.padding)}
    if name == "ReLU":
        return {"type": "relu"}
    if name in ("MaxPool2d", "AvgPool2d"):
        if _pair(layer.padding) != 0:
            raise ValueError(f"{name} with padding is not supported")
        return {"type": name.lower(), "kernel_size": _pair(layer.kernel_size),
                "stride": _pair(layer.stride or layer.kernel_size)}
    if name == "AdaptiveAvgPool2d":
        if layer.output_size not in (1, (1, 1)):
            raise ValueError("only AdaptiveAvgPool2d(1) (global average pooling) is supported")
        return {"type": "global_avg_pool"}
    if name == "Flatten":
        return {"type": "flatten"}
    if name == "Linear":
        return {"type": "linear", "weight": np_(layer.weight), "bias": None if layer.bias is None else np_(layer.bias)}
    raise ValueError(f"layer {name} has no neon-batch equivalent")


def export(path, layers, kind, centroids, stiffness=None):
    """Writes the model file: root `kind`, `centroids` (K x D float64), group `psi` with one
    subgroup per layer (attribute `type`, datasets `weight`/`bias` as float32, integer attributes)."""
    import h5py
    if kind not in ("deep_kmeans", "deep_soft", "soft_kmeans"):
        raise ValueError(f"kind {kind!r}: expected deep_kmeans, deep_soft or soft_kmeans")
    centroids = np.asarray(centroids, dtype=np.float64)
    with h5py.File(path, "w") as f:
        f.attrs["kind"] = kind
        f["centroids"] = centroids
        if stiffness is not None:
            f.attrs["stiffness"] = float(stiffness)
        if kind == "soft_kmeans":
            return
        write_psi(f, layers)


def write_psi(parent, layers):
    """Writes the group `psi` into an open h5py file or group: one subgroup per layer, named 0, 1,
    2, ... (attribute `type`, datasets `weight`/`bias` as float32, integer attributes). Shared by
    the deep models and softmax_head (docs/file-formats.md)."""
    psi = parent.create_group("psi")
    for i, layer in enumerate(layers):
        d = describe(layer)
        g = psi.create_group(str(i))
        g.attrs["type"] = d["type"]
        for key in ("weight", "bias"):
            if d.get(key) is not None:
                g[key] = np.asarray(d[key], dtype=np.float32)
        for key in ("stride", "padding", "kernel_size"):
            if key in d:
                g.attrs[key] = np.int64(d[key])
    return psi


def export_torch(layers, head, path):
    """Writes a feature extractor (torch modules or layer dicts) and a clustering head as a model
    file. `head`: {"kind": "deep_kmeans" | "deep_soft" | "soft_kmeans", "centroids": K x D,
    optional "stiffness"}, or a fitted scikit-learn KMeans (kind deep_kmeans, its centroids)."""
    if not isinstance(head, dict):
        centroids = getattr(head, "cluster_centers_", None)
        if centroids is None:
            raise ValueError("head must be a dict {kind, centroids[, stiffness]} or a fitted KMeans")
        head = {"kind": "deep_kmeans", "centroids": centroids}
    unknown = set(head) - {"kind", "centroids", "stiffness"}
    if unknown or "kind" not in head or "centroids" not in head:
        raise ValueError(f"head keys {sorted(head)}: expected kind, centroids and optionally stiffness")
    export(path, list(layers), head["kind"], head["centroids"], head.get("stiffness"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("centroids", help=".npy file, K x D (D = channels after global average pooling)")
    p.add_argument("--kind", default="deep_kmeans", choices=["deep_kmeans", "deep_soft"])
    p.add_argument("--blocks", default="4-5", help="first-last VGG-16 block (default 4-5)")
    p.add_argument("--state-dict", help="torch state dict of vgg16() or vgg16().features")
    a = p.parse_args(argv)
    try:
        import torch
        features = vgg16_features()
        if a.state_dict:
            sd = torch.load(a.state_dict, map_location="cpu")
            sd = {k.removeprefix("features."): v for k, v in sd.items() if not k.startswith("classifier.")}
            features.load_state_dict(sd)
        lo, hi = (int(b) for b in a.blocks.split("-"))
        layers = list(features[BLOCKS[lo][0]:BLOCKS[hi][1]]) + [torch.nn.AdaptiveAvgPool2d(1)]
        export(a.out, layers, a.kind, np.load(a.centroids))
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        print(f"vgg_to_model: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
