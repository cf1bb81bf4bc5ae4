/// fit.algorithm: the model a fit job writes.
public enum FitAlgorithmName: String, SettingName {
    case kmeans
    case kernelKMeans = "kernel_kmeans"
}

/// fit.kmeans_algorithm: how Lloyd iterations find each row's nearest centroid. Both give the same
/// assignments, centroids and inertia, bit for bit; they differ in the work done. NeonCore calls
/// it `KMeansAlgorithm`.
public enum KMeansAlgorithmName: String, SettingName {
    /// Every row against every centroid in every iteration (one GEMM per tile of rows).
    case lloyd
    /// Hamerly's bounds skip rows whose cluster certainly cannot change; the others are gathered
    /// per tile into one GEMM.
    case hamerly
}

/// fit.init: how kernel k-means starts, from a k-means fit or from given labels (an integer dataset).
public enum KernelKMeansInit: Equatable, Sendable {
    case kmeans
    case labels(file: String, dataset: String)
}
