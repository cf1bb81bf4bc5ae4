/// A clustering model read from its HDF5 file (layout in docs/file-formats.md).
public enum ModelFile {
    /// k-means: root string attribute `kind` = "kmeans", dataset `centroids` (K x d, float32/64).
    public struct KMeans: Equatable, Sendable {
        public let clusters: Int
        public let features: Int
        /// Row-major K x d, float64.
        public let centroids: [Double]
    }

    public static let supportedKinds = ["kmeans"]

    /// Reads and checks a model file; every problem is a StorageError naming file and dataset/attribute.
    public static func loadKMeans(path: String) throws -> KMeans {
        let file = try H5ReadFile(path: path, role: "model")
        guard let kind = try file.rootStringAttribute("kind") else {
            throw StorageError("\(path): root attribute 'kind' is missing")
        }
        guard supportedKinds.contains(kind) else {
            throw StorageError("\(path): model kind '\(kind)' is not supported (expected \"kmeans\" or \"kernel_kmeans\")")
        }
        let m = try file.matrix("centroids")
        guard m.rows >= 2 else {
            throw StorageError("\(path): dataset 'centroids' has \(m.rows) row\(m.rows == 1 ? "" : "s"); k-means needs K >= 2 clusters")
        }
        guard m.columns >= 1 else { throw StorageError("\(path): dataset 'centroids' has no features") }
        let values = try m.readAllAsDouble()
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw StorageError("\(path): dataset 'centroids' row \(bad / m.columns) holds NaN or Inf")
        }
        return KMeans(clusters: m.rows, features: m.columns, centroids: values)
    }
}

extension ModelFile {
    /// kernel k-means: root attribute `kind` = "kernel_kmeans", dataset `support_vectors`
    /// (M x d, float32/64), dataset `support_cluster` (M, integer 0..K-1), root attribute `gamma`.
    /// The values are returned as stored; the model's own checks name what is wrong.
    public struct KernelKMeans: Equatable, Sendable {
        public let features: Int
        public let supportVectors: [Double]
        public let supportCluster: [Int]
        public let gamma: Double
    }

    /// An open model file and its root attribute `kind`; the model-kind registry
    /// (NeonPipeline/ModelKinds) chooses the reader of that kind.
    public struct Reader {
        let file: H5ReadFile
        public let kind: String
        public var path: String { file.path }

        public init(path: String) throws {
            file = try H5ReadFile(path: path, role: "model")
            guard let kind = try file.rootStringAttribute("kind") else {
                throw StorageError("\(path): root attribute 'kind' is missing")
            }
            self.kind = kind
        }
    }

    /// kernel k-means: the values as stored (the model's own checks follow).
    public static func loadKernelKMeans(_ reader: Reader) throws -> KernelKMeans {
        let file = reader.file, path = reader.path
        let m = try file.matrix("support_vectors")
        let values = try m.readAllAsDouble()
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw StorageError("\(path): dataset 'support_vectors' row \(bad / m.columns) holds NaN or Inf")
        }
        let clusters = try file.integerVector("support_cluster")
        guard let gamma = file.rootNumberAttribute("gamma") else {
            throw StorageError("\(path): root attribute 'gamma' is missing or not a number")
        }
        return KernelKMeans(features: m.columns, supportVectors: values,
                            supportCluster: clusters.map { Int($0) }, gamma: gamma)
    }
}
