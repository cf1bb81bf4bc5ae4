"""neon-batch from Python: load outputs into xarray, export scikit-learn and torch models as
neon-batch model files, and run the binary (docs/python.md).

    import neon_batch
    neon_batch.export_sklearn(kmeans, "model.h5")        # KMeans or Pipeline([StandardScaler, KMeans])
    neon_batch.export_torch(layers, head, "model.h5")    # feature extractor + clustering head
    neon_batch.export_softmax_head("model.h5", head, backbone=net)   # SCAN / TEMI-style softmax head
    neon_batch.run("job.json", ranks=4)
    ds = neon_batch.load("out.h5")                        # xarray.Dataset, sample = input row numbers
"""
import importlib

# Imported on first use (so that `python3 -m neon_batch.sklearn_export` runs its module once).
_WHERE = {"load": "output", "load_numpy": "output", "feature_names": "output", "export_sklearn": "sklearn_export",
          "export_torch": "torch_export", "export_softmax_head": "softmax_head",
          "softmax_head_logits": "softmax_head", "run": "runner", "find_binary": "runner"}
__all__ = list(_WHERE)
__version__ = "0.1.0"


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'neon_batch' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
