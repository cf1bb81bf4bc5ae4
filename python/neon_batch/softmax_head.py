"""Export a trained softmax clustering head (SCAN: backbone + linear head; TEMI-style: a linear head
on precomputed embeddings; or W, b trained anywhere) as a neon-batch model file of kind
"softmax_head": logits z_k = w_k . a + b_k with a = Psi(x) (a = x without a feature extractor),
cluster argmax_k z_k, probabilities softmax(z). Layout in docs/python.md and docs/file-formats.md.

    import neon_batch
    neon_batch.export_softmax_head("model.h5", model.cluster_head, backbone=model.backbone,
                                   example_input=x[:64])        # x[:64] checks the file against torch
    neon_batch.export_softmax_head("model.h5", (W, b))          # numpy head on embeddings
    z = neon_batch.softmax_head_logits("model.h5", x)           # the file's logits, in numpy

Needs numpy and h5py; torch only for torch modules.
"""
import datetime
import os

import h5py
import numpy as np

from .torch_export import describe, write_psi

KIND = "softmax_head"
# Modules that are the identity at inference (eval mode) and are left out of the exported layers.
_IDENTITY = ("Identity", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")
_SUPPORTED = "Conv2d, ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten, Linear"


def _is_module(x):
    return callable(getattr(x, "named_children", None)) and callable(getattr(x, "parameters", None))


def _leaves(where, obj):
    """The layers of a backbone or head in forward order: an nn.Sequential (nested ones
    flattened), a list of modules / layer dicts, or one leaf module. Eval-mode identities
    (Identity, Dropout) are left out."""
    if isinstance(obj, (list, tuple)):
        out = []
        for item in obj:
            out += _leaves(where, item)
        return out
    if isinstance(obj, dict):
        return [obj]
    if not _is_module(obj):
        raise ValueError(f"{where} {type(obj).__name__}: expected a torch module, a list of them or layer dicts")
    name = type(obj).__name__
    if name == "Sequential":
        return _leaves(where, list(obj))
    if name in _IDENTITY:
        return []
    if any(True for _ in obj.children()):
        raise ValueError(f"{where} {name} is not an nn.Sequential: pass its layers in forward order as a list")
    return [obj]


def _layer_dicts(where, layers):
    """describe() of each layer; an unsupported one is refused with its place and type."""
    out = []
    for i, layer in enumerate(layers):
        name = "dict" if isinstance(layer, dict) else type(layer).__name__
        try:
            out.append(describe(layer))
        except ValueError as e:
            if str(e).endswith("has no neon-batch equivalent"):
                raise ValueError(f"{where} layer {i} ({name}) has no neon-batch equivalent "
                                 f"(supported: {_SUPPORTED})") from None
            raise ValueError(f"{where} layer {i} ({name}): {e}") from None
    return out


def _split_head(head):
    """(leading layers that join Psi, W, b or None) of an nn.Linear, an nn.Sequential ending in
    one, or numpy (W, b) / W."""
    if _is_module(head):
        name = type(head).__name__
        if name == "Linear":
            layers = [head]
        elif name == "Sequential":
            layers = _leaves("head", head)
            if not layers or isinstance(layers[-1], dict) or type(layers[-1]).__name__ != "Linear":
                last = "nothing" if not layers else ("a dict" if isinstance(layers[-1], dict) else type(layers[-1]).__name__)
                raise ValueError(f"head Sequential ends in {last}, not in an nn.Linear (the softmax head's W, b)")
        elif name == "ModuleList":
            raise ValueError("head ModuleList: pass one of its heads (e.g. model.cluster_head[0])")
        else:
            raise ValueError(f"head {name} is not an nn.Linear or an nn.Sequential ending in one")
        last = describe(layers[-1])
        return layers[:-1], last["weight"], last["bias"]
    if isinstance(head, dict):
        raise ValueError("head dict: pass (W, b) or W as numpy arrays, or a torch nn.Linear")
    if isinstance(head, (list, tuple)):
        if len(head) not in (1, 2):
            raise ValueError(f"head of {len(head)} arrays: expected (W, b) or (W,)")
        return [], head[0], (head[1] if len(head) == 2 else None)
    return [], head, None


def _float_array(x, what):
    a = np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{what} has dtype {a.dtype}; expected numbers")
    return a


def _head_arrays(W, b):
    W = _float_array(W, "weight")
    W = W.astype(np.float32 if W.dtype == np.float32 else np.float64)
    if W.ndim != 2 or W.shape[0] < 2:
        raise ValueError(f"weight has shape {W.shape}; a softmax head needs K x D with K >= 2")
    if not np.all(np.isfinite(W)):
        raise ValueError("weight holds NaN or Inf")
    if b is not None:
        b = _float_array(b, "bias").astype(np.float64)
        if b.shape != (W.shape[0],):
            raise ValueError(f"bias has shape {b.shape}; expected ({W.shape[0]},), one per cluster")
        if not np.all(np.isfinite(b)):
            raise ValueError("bias holds NaN or Inf")
    return W, b


def _features_out(dicts):
    """D = the size of Psi's output when the layers show it (last linear, or last conv2d before a
    global average pool), else None; with the index and type of the layer that fixes it."""
    for i in range(len(dicts) - 1, -1, -1):
        t = dicts[i]["type"]
        if t in ("relu", "flatten"):
            continue
        if t == "linear":
            return np.shape(dicts[i]["weight"])[0], i, t
        if t == "global_avg_pool":
            for j in range(i - 1, -1, -1):
                if dicts[j]["type"] == "conv2d":
                    return np.shape(dicts[j]["weight"])[0], j, "conv2d"
                if dicts[j]["type"] in ("linear", "flatten", "global_avg_pool"):
                    return None
        return None
    return None


def _standardize(standardize, shape):
    """(mean, std) float64 with one value per input feature, from (mean, std), a fitted
    StandardScaler (mean_, scale_) or a torchvision Normalize (mean, std per channel)."""
    if standardize is None:
        return None
    if hasattr(standardize, "scale_"):
        d = getattr(standardize, "n_features_in_", len(standardize.scale_))
        mean = standardize.mean_ if getattr(standardize, "with_mean", True) and standardize.mean_ is not None else np.zeros(d)
        std = standardize.scale_ if getattr(standardize, "with_std", True) and standardize.scale_ is not None else np.ones(d)
    elif isinstance(standardize, np.ndarray) and len(standardize) == 2:
        mean, std = standardize
    elif hasattr(standardize, "mean") and hasattr(standardize, "std") and not isinstance(standardize, (tuple, list, np.ndarray)):
        mean, std = standardize.mean, standardize.std
    elif isinstance(standardize, (tuple, list)) and len(standardize) == 2:
        mean, std = standardize
    else:
        raise ValueError("standardize: expected (mean, std), a fitted StandardScaler or a torchvision Normalize")
    mean = np.atleast_1d(_float_array(mean, "standardize mean")).astype(np.float64).ravel()
    std = np.atleast_1d(_float_array(std, "standardize std")).astype(np.float64).ravel()
    if mean.shape != std.shape:
        raise ValueError(f"standardize: mean has {mean.size} values, std {std.size}")
    if shape is not None:
        d = int(np.prod(shape))
        if mean.size == 1 and d > 1:
            mean, std = np.full(d, mean[0]), np.full(d, std[0])
        elif mean.size != d:
            if len(shape) == 3 and mean.size == shape[0]:          # per channel -> (C, H, W)
                mean = np.repeat(mean, shape[1] * shape[2])
                std = np.repeat(std, shape[1] * shape[2])
            else:
                raise ValueError(f"standardize has {mean.size} values; the input has {d} features"
                                 + (f" and {shape[0]} channels" if len(shape) == 3 else ""))
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
        raise ValueError("standardize: mean and std must be finite and std > 0")
    return mean, std


def forward(dicts, x):
    """Psi in numpy (float64) on a batch x of shape (N, d) or (N, C, H, W): the layer dicts of
    describe(), or an open `psi` group, as neon-batch applies them (docs/file-formats.md)."""
    a = np.asarray(x, dtype=np.float64)
    for i, d in enumerate(dicts):
        t, w, bias = d["type"], d.get("weight"), d.get("bias")
        if t == "conv2d":
            w = np.asarray(w, dtype=np.float64)
            s, p = int(d.get("stride", 1)), int(d.get("padding", 0))
            if a.ndim != 4 or a.shape[1] != w.shape[1]:
                raise ValueError(f"psi layer {i} (conv2d) expects {w.shape[1]} input channels, gets shape {a.shape[1:]}")
            a = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))
            win = np.lib.stride_tricks.sliding_window_view(a, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]
            a = np.einsum("nchwij,ocij->nohw", win, w, optimize=True)
            if bias is not None:
                a = a + np.asarray(bias, dtype=np.float64)[None, :, None, None]
        elif t == "relu":
            a = np.maximum(a, 0)
        elif t in ("maxpool2d", "avgpool2d"):
            k = int(d["kernel_size"])
            s = int(d.get("stride", k))
            win = np.lib.stride_tricks.sliding_window_view(a, (k, k), axis=(2, 3))[:, :, ::s, ::s]
            a = win.max(axis=(4, 5)) if t == "maxpool2d" else win.mean(axis=(4, 5))
        elif t == "global_avg_pool":
            a = a.mean(axis=(2, 3))
        elif t == "flatten":
            a = a.reshape(len(a), -1)
        elif t == "linear":
            w = np.asarray(w, dtype=np.float64)
            if a.ndim != 2 or a.shape[1] != w.shape[1]:
                raise ValueError(f"psi layer {i} (linear) expects {w.shape[1]} features, gets shape {a.shape[1:]}")
            a = a @ w.T + (0 if bias is None else np.asarray(bias, dtype=np.float64))
        else:
            raise ValueError(f"psi layer {i}: unknown type {t!r}")
    return a.reshape(len(a), -1)


def _read_psi(group):
    out = []
    for i in range(len(group)):
        g = group[str(i)]
        d = {"type": g.attrs["type"].decode() if isinstance(g.attrs["type"], bytes) else str(g.attrs["type"])}
        for key in ("weight", "bias"):
            if key in g:
                d[key] = g[key][()]
        for key in ("stride", "padding", "kernel_size"):
            if key in g.attrs:
                d[key] = int(g.attrs[key])
        out.append(d)
    return out


def softmax_head_logits(path, x):
    """The logits z (N x K, float64) of a softmax_head model file on inputs x ((N, d) or (N, C, H, W)),
    computed in numpy from the file alone: standardisation, Psi, then z = a W^T + b. The cluster
    is z.argmax(1), the probabilities softmax(z)."""
    x = np.asarray(x, dtype=np.float64)
    with h5py.File(path, "r") as f:
        kind = f.attrs.get("kind")
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind != KIND:
            raise ValueError(f"{path}: kind {kind!r}, not {KIND!r}")
        if "standardize_mean" in f:
            shape = x.shape
            x = ((x.reshape(len(x), -1) - f["standardize_mean"][()]) / f["standardize_std"][()]).reshape(shape)
        a = forward(_read_psi(f["psi"]), x) if "psi" in f else x.reshape(len(x), -1)
        W = f["weight"][()].astype(np.float64)
        b = f["bias"][()] if "bias" in f else np.zeros(len(W))
    return a @ W.T + b


def _torch_logits(backbone, head, W, b, x, stdz):
    """The original torch modules' logits on x (standardised as the file says), in eval mode
    (restored afterwards); None when a part is not a torch module."""
    if backbone is not None and not _is_module(backbone) and not (
            isinstance(backbone, (list, tuple)) and all(_is_module(m) for m in _leaves("backbone", backbone))):
        return None
    import torch
    mods = [m for m in ([backbone] if _is_module(backbone) else list(backbone or [])) + [head] if _is_module(m)]
    if not mods:
        return None
    params = [p for m in mods for p in m.parameters()]
    dtype = params[0].dtype if params else torch.float64
    device = params[0].device if params else torch.device("cpu")
    states = [(s, s.training) for m in mods for s in m.modules()]
    xs = np.asarray(x, dtype=np.float64)
    if stdz is not None:
        xs = ((xs.reshape(len(xs), -1) - stdz[0]) / stdz[1]).reshape(xs.shape)
    try:
        for m in mods:
            m.eval()
        with torch.no_grad():
            a = torch.from_numpy(xs).to(device=device, dtype=dtype)
            if _is_module(backbone):
                a = backbone(a)
            else:
                for m in backbone or []:
                    a = m(a)
            if _is_module(head):
                return head(a).double().cpu().numpy().reshape(len(xs), -1)
            a = a.double().cpu().numpy().reshape(len(xs), -1)
            return a @ W.astype(np.float64).T + (0 if b is None else b)
    finally:
        for s, training in states:
            s.training = training


def export_softmax_head(path, head, backbone=None, example_input=None, standardize=None, overwrite=False):
    """Writes a softmax clustering head as a neon-batch model file of kind "softmax_head".

    head: a torch nn.Linear (K outputs), an nn.Sequential ending in one (its leading layers,
      e.g. Linear-ReLU, become the last layers of Psi), or numpy (W, b) / W (K x D, b of K).
    backbone: None (the head acts on the input rows, e.g. precomputed embeddings), an
      nn.Sequential, a list of torch modules or layer dicts (Conv2d, ReLU, MaxPool2d, AvgPool2d,
      AdaptiveAvgPool2d(1), Flatten, Linear; Identity and Dropout are left out).
    example_input: optional raw inputs (N, d) or (N, C, H, W): they fix the input shape (for a
      per-channel standardize) and are run through the exported model in numpy; with torch
      modules the logits must match torch's forward (else ValueError), which catches a forward
      that does more than apply its layers in order.
    standardize: optional (mean, std), a fitted StandardScaler or a torchvision Normalize, applied
      to raw inputs before Psi; per-channel values are spread over (C, H, W) (needs example_input).
    overwrite: replace an existing file (else FileExistsError).
    """
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists (overwrite=True replaces it)")
    extra, W, b = _split_head(head)
    W, b = _head_arrays(W, b)
    layers = _leaves("backbone", backbone) if backbone is not None else []
    dicts = _layer_dicts("backbone", layers) + _layer_dicts("head", extra)
    D = W.shape[1]
    fixed = _features_out(dicts)
    if fixed is not None and fixed[0] != D:
        raise ValueError(f"head weight has D = {D} columns but the feature extractor gives {fixed[0]} "
                         f"(psi layer {fixed[1]}, {fixed[2]})")
    x = None
    if example_input is not None:
        x = _float_array(example_input, "example_input").astype(np.float64)
        if x.ndim not in (2, 4) or len(x) == 0:
            raise ValueError(f"example_input has shape {x.shape}; expected (N, d) or (N, C, H, W) with N >= 1")
    stdz = _standardize(standardize, None if x is None else x.shape[1:])
    verified = None
    if x is not None:
        xs = x if stdz is None else ((x.reshape(len(x), -1) - stdz[0]) / stdz[1]).reshape(x.shape)
        try:
            a = forward(dicts, xs) if dicts else xs.reshape(len(xs), -1)
        except ValueError as e:
            raise ValueError(f"example_input {x.shape[1:]} does not pass through the exported layers: {e}") from None
        if a.shape[1] != D:
            raise ValueError(f"head weight has D = {D} columns but the feature extractor gives {a.shape[1]} on example_input")
        z = a @ W.astype(np.float64).T + (0 if b is None else b)
        ref = _torch_logits(backbone, head, W, b, x, stdz) if (_is_module(head) or backbone is not None) else None
        if ref is not None:
            err = float(np.abs(z - ref).max())
            scale = max(float(np.abs(ref).max()), 1e-30)
            if not err <= 1e-4 * scale:
                raise ValueError(f"the exported model disagrees with torch on example_input: max |z - z_torch| = "
                                 f"{err:.3g} (max |z_torch| = {scale:.3g}); does a forward() do more than apply its layers in order?")
            verified = err
    uses_torch = _is_module(head) or any(_is_module(m) for m in layers)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["kind"] = KIND
            f.create_dataset("weight", data=W)
            if b is not None:
                f.create_dataset("bias", data=b)
            if dicts:
                write_psi(f, dicts)
            if stdz is not None:
                f.create_dataset("standardize_mean", data=stdz[0])
                f.create_dataset("standardize_std", data=stdz[1])
            f.attrs["source"] = "torch" if uses_torch else "numpy"
            if uses_torch:
                import torch
                f.attrs["torch_version"] = str(torch.__version__)
            f.attrs["source_head"] = _describe_source(head)
            if backbone is not None:
                f.attrs["source_backbone"] = _describe_source(backbone)
            from . import __version__
            f.attrs["neon_batch_python_version"] = __version__
            f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            if verified is not None:
                f.attrs["verified_rows"] = np.int64(len(x))
                f.attrs["verified_max_abs_logit_error"] = verified
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path} exists (overwrite=True replaces it)")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _describe_source(obj):
    if _is_module(obj):
        name = type(obj).__name__
        if name == "Linear":
            return f"Linear({obj.in_features} -> {obj.out_features}{'' if obj.bias is not None else ', no bias'})"
        kids = [type(m).__name__ for m in obj.children()]
        return f"{name}({', '.join(kids)})" if kids else name
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_describe_source(o) for o in obj) + "]"
    if isinstance(obj, dict):
        return str(obj.get("type", "dict"))
    return f"array{tuple(np.shape(obj))}"
