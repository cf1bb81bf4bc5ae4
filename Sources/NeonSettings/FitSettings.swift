/// fit.algorithm: the model a fit job writes.
public enum FitAlgorithmName: String, SettingName {
    case kmeans
    case kernelKMeans = "kernel_kmeans"
    /// A softmax head sigma(W a + b) trained without labels (fit.loss; docs/fitting.md).
    case softmax
}

/// fit.loss of a softmax head (the deep-clustering lecture and the mutual-information notes).
public enum SoftmaxLossName: String, SettingName {
    /// Decisiveness and fairness: H(mean p) - mean H(p) (Bridle; Krause et al.).
    case mutualInformation = "mutual_information"
    /// Self-labelling with soft pseudo-labels, -log(p . y) (Zhang & Boykov).
    case collisionCrossEntropy = "collision_cross_entropy"
    /// Invariant information clustering over pairs of views (Ji et al.).
    case iic
}

/// fit.schedule: the learning rate over the iterations.
public enum LearningRateSchedule: String, SettingName {
    case constant
    /// lr * (1 + cos(pi t / T)) / 2.
    case cosine
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
