/// Soft and deep clustering models (paper Sec. IV, Appendix E; layout in docs/file-formats.md):
///   kind "soft_kmeans": dataset `centroids` (K x d), root attribute `stiffness` (tau > 0)
///   kind "deep_kmeans": group `psi` (the feature extractor) and `centroids` (K x D) on a = Psi(x)
///   kind "deep_soft":   group `psi` and `centroids` (K x D), the mu_k of z_k = mu_k . a
/// Psi is the group `psi` with one subgroup per layer, named 0, 1, 2, ... in order, each with a
/// string attribute `type` and, by type: conv2d: dataset `weight` (O, I, kh, kw), optional `bias`
/// (O), attributes `stride` (default 1), `padding` (default 0); linear: `weight` (out, in),
/// optional `bias` (out); maxpool2d / avgpool2d: attributes `kernel_size`, `stride` (default
/// kernel_size); relu, flatten, global_avg_pool: nothing.
extension ModelFile {
    public static let layerTypes = ["conv2d", "relu", "maxpool2d", "avgpool2d", "global_avg_pool", "flatten", "linear"]

    /// One layer of Psi as stored (checked for its own consistency; chaining is NeonCore's).
    public struct StoredLayer: Equatable, Sendable {
        public let type: String
        /// weight values and shape (conv2d: O, I, kh, kw; linear: out, in); empty otherwise.
        public let weight: [Double]
        public let weightShape: [Int]
        public let bias: [Double]?
        public let stride: Int
        public let padding: Int
        public let kernelSize: Int

        public init(type: String, weight: [Double], weightShape: [Int], bias: [Double]?, stride: Int, padding: Int,
                    kernelSize: Int) {
            self.type = type
            self.weight = weight
            self.weightShape = weightShape
            self.bias = bias
            self.stride = stride
            self.padding = padding
            self.kernelSize = kernelSize
        }
    }

    public struct HeadModel: Equatable, Sendable {
        public let kind: String
        public let clusters: Int
        /// Columns of `centroids` (the dimension of a = Psi(x), or of x without Psi).
        public let features: Int
        public let centroids: [Double]
        /// soft_kmeans: tau.
        public let stiffness: Double?
        public let psi: [StoredLayer]

        public init(kind: String, clusters: Int, features: Int, centroids: [Double], stiffness: Double?, psi: [StoredLayer]) {
            self.kind = kind
            self.clusters = clusters
            self.features = features
            self.centroids = centroids
            self.stiffness = stiffness
            self.psi = psi
        }
    }

    /// soft_kmeans, deep_kmeans, deep_soft: centroids, tau, Psi's layers as stored.
    public static func loadHead(_ reader: Reader) throws -> HeadModel {
        let file = reader.file, kind = reader.kind, path = file.path
        let m = try file.matrix("centroids")
        guard m.rows >= 2 else {
            throw StorageError("\(path): dataset 'centroids' has \(m.rows) row\(m.rows == 1 ? "" : "s"); clustering needs K >= 2 clusters")
        }
        let values = try m.readAllAsDouble()
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw StorageError("\(path): dataset 'centroids' row \(bad / m.columns) holds NaN or Inf")
        }
        var stiffness: Double?
        if kind == "soft_kmeans" {
            guard let tau = try file.numberAttribute("stiffness", of: "/"), tau > 0, tau.isFinite else {
                throw StorageError("\(path): root attribute 'stiffness' (tau of z_k = -tau |x - mu_k|^2) must be a number > 0")
            }
            stiffness = tau
        }
        var layers: [StoredLayer] = []
        if kind != "soft_kmeans" {
            guard file.exists("psi") else { throw StorageError("\(path): group 'psi' (the feature extractor) is missing") }
            while file.exists("psi/\(layers.count)") {
                layers.append(try loadLayer(file, index: layers.count))
            }
            guard !layers.isEmpty else { throw StorageError("\(path): group 'psi' has no layer '0'") }
        }
        return HeadModel(kind: kind, clusters: m.rows, features: m.columns, centroids: values, stiffness: stiffness, psi: layers)
    }

    static func loadLayer(_ file: H5ReadFile, index i: Int) throws -> StoredLayer {
        let path = file.path, group = "psi/\(i)"
        guard let type = try file.stringAttribute("type", of: group) else {
            throw StorageError("\(path): layer '\(group)' has no string attribute 'type'")
        }
        guard layerTypes.contains(type) else {
            throw StorageError("\(path): layer '\(group)' has unknown type '\(type)' (expected one of \(layerTypes.joined(separator: ", ")))")
        }
        func integer(_ name: String, default value: Int?, minimum: Int) throws -> Int {
            guard let v = try file.numberAttribute(name, of: group) else {
                if let d = value { return d }
                throw StorageError("\(path): layer '\(group)' (\(type)) needs the attribute '\(name)'")
            }
            guard v == v.rounded(), v >= Double(minimum), v <= 1_048_576 else {
                throw StorageError("\(path): attribute '\(name)' of layer '\(group)' must be an integer >= \(minimum), got \(v)")
            }
            return Int(v)
        }
        var weight: [Double] = [], shape: [Int] = [], bias: [Double]?
        var stride = 1, padding = 0, kernel = 0
        switch type {
        case "conv2d", "linear":
            let rank = type == "conv2d" ? 4 : 2
            (shape, weight) = try file.array("\(group)/weight")
            guard shape.count == rank, shape.allSatisfy({ $0 >= 1 }) else {
                let expected = type == "conv2d" ? "4 (out, in, kh, kw)" : "2 (out, in)"
                throw StorageError("\(path): dataset '\(group)/weight' has shape (\(shape.map(String.init).joined(separator: ", "))); expected rank \(expected)")
            }
            if file.exists("\(group)/bias") {
                let (bs, b) = try file.array("\(group)/bias")
                guard bs == [shape[0]] else {
                    throw StorageError("\(path): dataset '\(group)/bias' has shape (\(bs.map(String.init).joined(separator: ", "))); expected (\(shape[0]))")
                }
                bias = b
            }
            if type == "conv2d" {
                stride = try integer("stride", default: 1, minimum: 1)
                padding = try integer("padding", default: 0, minimum: 0)
            }
        case "maxpool2d", "avgpool2d":
            kernel = try integer("kernel_size", default: nil, minimum: 1)
            stride = try integer("stride", default: kernel, minimum: 1)
        default: break
        }
        return StoredLayer(type: type, weight: weight, weightShape: shape, bias: bias, stride: stride, padding: padding,
                           kernelSize: kernel)
    }
}
