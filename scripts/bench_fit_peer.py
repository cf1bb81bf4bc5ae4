#!/usr/bin/env python3
"""Peer for scripts/bench-fit.sh: writes the benchmark data and times scikit-learn's Lloyd k-means.

  bench_fit_peer.py gen PATH N D SEED          float32 Gaussian mixture (200 overlapping centres, so that Lloyd does not converge in a few iterations), dataset "features"
  bench_fit_peer.py blobs PATH N D SEED        float32 separated blobs (1000 centres N(0, 1) per feature, unit noise: nearest centres ~22 apart, noise radius ~16), dataset "features"
  bench_fit_peer.py sklearn PATH K ITER THREADS [ALGORITHM]  seconds per iteration of sklearn.cluster.KMeans (algorithm "lloyd", the default, or "elkan")
  bench_fit_peer.py default PATH K THREADS     a default scikit-learn fit (k-means++, tol 1e-4, max_iter 300, n_init 1, random_state 1): its iterations and seconds
  bench_fit_peer.py sklearnex PATH K ITER THREADS  the same as sklearn, with scikit-learn-intelex's patch (oneDAL's k-means)
  bench_fit_peer.py faiss PATH K ITER THREADS      faiss.Kmeans (faiss-cpu) from the same initial centroids

Every result names the library and the BLAS kernel it ran (threadpoolctl), where one is known.

Seconds per iteration = (fit with max_iter = ITER + 1 minus fit with max_iter = 1) / ITER, so that
input validation, initialisation and the final labelling pass cancel out. Both fits start from the
same K rows of the data (init array), tol = 0, n_init = 1, after one warm-up fit.
"""
import json
import sys
import time

import h5py
import numpy as np


def gen(path, n, d, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.3, size=(200, d)).astype(np.float32)
    x = np.empty((n, d), dtype=np.float32)
    step = 20000
    for s in range(0, n, step):
        e = min(n, s + step)
        x[s:e] = centres[rng.integers(0, 200, e - s)] + rng.normal(0, 1, size=(e - s, d)).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=x)


def blobs(path, n, d, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, size=(1000, d)).astype(np.float32)
    x = np.empty((n, d), dtype=np.float32)
    step = 20000
    for s in range(0, n, step):
        e = min(n, s + step)
        x[s:e] = centres[rng.integers(0, 1000, e - s)] + rng.normal(0, 1, size=(e - s, d)).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=x)


def blas_kernels():
    """The BLAS libraries loaded in this process, with the kernel each runs (threadpoolctl)."""
    from threadpoolctl import threadpool_info
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture') or ''}".strip()
                     for i in threadpool_info() if i.get("user_api") == "blas") or "none loaded"


def sklearn_bench(path, k, iters, threads, algorithm="lloyd", intelex=False):
    if intelex:
        from sklearnex import patch_sklearn
        patch_sklearn("sklearn.cluster.KMeans", verbose=False)
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits
    import sklearn
    with h5py.File(path, "r") as f:
        x = f["features"][...]
    init = x[np.random.default_rng(0).choice(len(x), k, replace=False)]
    times = {}
    with threadpool_limits(limits=threads):
        for m in (1, 1, iters + 1):          # the first fit warms up (thread pools, BLAS)
            km = KMeans(n_clusters=k, init=init, n_init=1, max_iter=m, tol=0, algorithm=algorithm)
            t = time.perf_counter()
            km.fit(x)
            times[m] = (time.perf_counter() - t, int(km.n_iter_))
    (t1, n1), (tn, nn) = times[1], times[iters + 1]
    library = f"scikit-learn {sklearn.__version__}"
    if intelex:
        from importlib.metadata import version
        library = f"scikit-learn-intelex {version('scikit-learn-intelex')} (oneDAL)"
    print(json.dumps({"sklearn": sklearn.__version__, "library": library, "blas": blas_kernels(), "algorithm": algorithm,
                      "k": k, "threads": threads, "iterations": nn - n1,
                      "seconds_per_iteration": (tn - t1) / max(nn - n1, 1), "fit_seconds": tn}))


def faiss_bench(path, k, iters, threads):
    """faiss.Kmeans from the same K rows: (niter = ITER + 1 minus niter = 1) / ITER seconds."""
    import faiss
    faiss.omp_set_num_threads(threads)
    with h5py.File(path, "r") as f:
        x = np.ascontiguousarray(f["features"][...], dtype=np.float32)
    init = x[np.random.default_rng(0).choice(len(x), k, replace=False)]
    times = {}
    for m in (1, 1, iters + 1):
        km = faiss.Kmeans(x.shape[1], k, niter=m, seed=1, max_points_per_centroid=len(x), verbose=False)
        t = time.perf_counter()
        km.train(x, init_centroids=init)
        times[m] = time.perf_counter() - t
    print(json.dumps({"library": f"faiss-cpu {faiss.__version__}", "blas": blas_kernels(), "k": k, "threads": threads,
                      "iterations": iters, "seconds_per_iteration": (times[iters + 1] - times[1]) / iters,
                      "fit_seconds": times[iters + 1]}))


def sklearn_default(path, k, threads):
    """How many iterations a user's default fit runs on this data: the iteration count of the
    per-iteration benchmark's second protocol."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits
    import sklearn
    with h5py.File(path, "r") as f:
        x = f["features"][...]
    with threadpool_limits(limits=threads):
        t = time.perf_counter()
        km = KMeans(n_clusters=k, n_init=1, random_state=1).fit(x)
        t = time.perf_counter() - t
    print(json.dumps({"sklearn": sklearn.__version__, "k": k, "threads": threads, "iterations": int(km.n_iter_),
                      "fit_seconds": t, "inertia": float(km.inertia_)}))


if __name__ == "__main__":
    if sys.argv[1] in ("gen", "blobs"):
        (gen if sys.argv[1] == "gen" else blobs)(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "default":
        sklearn_default(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "sklearnex":
        sklearn_bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), "lloyd", intelex=True)
    elif sys.argv[1] == "faiss":
        faiss_bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sklearn_bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), *sys.argv[6:7])
