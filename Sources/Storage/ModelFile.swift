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
            throw StorageError("\(path): model kind '\(kind)' is not supported (expected \"kmeans\")")
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
