"""Load a neon-batch output file into numpy or xarray with named dimensions.

    import neon_batch
    ds = neon_batch.load("out.h5")   # xarray.Dataset: relevance (sample, feature), assignment, logit
    ds.relevance.sel(feature="age")  # features named from the input's feature_names, if any
    ds.sel(sample=1234)              # by input row number (also for part files)
    arrays, attrs = neon_batch.load_numpy("out.h5")   # {"relevance": (dims, ndarray), ...} without xarray

    python3 -m neon_batch.output out.h5          # prints the xarray summary (or shapes)

Dimension names come from the output's HDF5 dimension scales (DIMENSION_LABELS: sample, feature;
spatial outputs: sample, [target,] channel, y, x). The file's root attributes become the
Dataset's attrs. The `sample` coordinate holds the input row numbers row_start..row_end-1 (root
attributes; a part written with --part or input.rows covers only its range), and `target` the
target clusters (root attribute targets) when relevance has a target axis. Feature names are looked up like `neon-batch inspect` does: attribute
feature_names of the input dataset, a dataset feature_names beside it, or a root attribute
feature_names of the input file. Only a "complete" output is loaded unless allow_incomplete=True
(an incomplete one has rows that were never written). Needs numpy and h5py; load() needs xarray.
"""
import os
import sys

import h5py
import numpy as np

DATASETS = ("relevance", "relevance_channels", "assignment", "logit")


def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "OS":
        return [_text(x) for x in v.tolist()]
    return v


def _dims(ds, name):
    labels = [d.label for d in ds.dims]
    if all(labels):
        return tuple(labels)
    fallback = {1: ("sample",), 2: ("sample", "feature")}.get(ds.ndim, tuple(f"dim_{i}" for i in range(ds.ndim)))
    return tuple(lab or fallback[i] for i, lab in enumerate(labels))


def feature_names(input_file, dataset, count):
    """The input's feature names (a list of count strings) or None."""
    if not input_file or not os.path.exists(input_file):
        return None
    with h5py.File(input_file, "r") as f:
        group = os.path.dirname(dataset)
        sibling = f"{group}/feature_names" if group else "feature_names"
        places = []
        if dataset in f:
            places.append(f[dataset].attrs.get("feature_names"))
        places.append(f[sibling][()] if sibling in f and isinstance(f[sibling], h5py.Dataset) else None)
        places.append(f.attrs.get("feature_names"))
        for names in places:
            if names is not None:
                names = _text(np.atleast_1d(names))
                return list(names) if len(names) == count else None
    return None


def load_numpy(path, allow_incomplete=False):
    """{name: (dims, ndarray)} for relevance, assignment and logit, and the root attributes."""
    with h5py.File(path, "r") as f:
        attrs = {k: _text(v) for k, v in f.attrs.items()}
        if attrs.get("status") != "complete" and not allow_incomplete:
            raise ValueError(f"{path}: status is {attrs.get('status')!r}, not 'complete' (pass allow_incomplete=True)")
        arrays = {name: (_dims(f[name], name), f[name][()]) for name in DATASETS if name in f}
    return arrays, attrs


def load(path, allow_incomplete=False, input_file=None):
    """An xarray.Dataset with named dimensions; feature coordinates from the input's names."""
    import xarray as xr
    arrays, attrs = load_numpy(path, allow_incomplete)
    ds = xr.Dataset({name: xr.Variable(dims, data) for name, (dims, data) in arrays.items()},
                    attrs={k: v for k, v in attrs.items() if not k.startswith("resume_key:")})
    if "sample" in ds.dims:
        start = int(attrs.get("row_start", 0))
        ds = ds.assign_coords(sample=np.arange(start, start + ds.sizes["sample"], dtype=np.int64))
    targets = attrs.get("targets")
    if "target" in ds.dims and isinstance(targets, str):
        clusters = [int(t) for t in targets.split(",") if t.strip()]
        if len(clusters) == ds.sizes["target"]:
            ds = ds.assign_coords(target=clusters)
    if "feature" in ds.dims:
        names = feature_names(input_file or attrs.get("input_file"), attrs.get("input_dataset", ""), ds.sizes["feature"])
        if names is not None:
            ds = ds.assign_coords(feature=names)
    return ds


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python3 -m neon_batch.output OUT.h5", file=sys.stderr)
        return 2
    try:
        print(load(argv[0]))
    except ImportError:
        arrays, attrs = load_numpy(argv[0])
        for name, (dims, data) in arrays.items():
            print(name, dict(zip(dims, data.shape)), data.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
