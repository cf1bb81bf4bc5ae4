/// Softmax clustering heads (kind "softmax_head"; docs/file-formats.md): p = sigma(W a + b) on
/// a = Psi(x), or on x without Psi. Dataset `weight` (K x D, float32/64, row k is w_k), dataset
/// `bias` (K, optional: zeros), optional group `psi` in the layout of the deep models.
extension ModelFile {
    public struct SoftmaxHead: Equatable, Sendable {
        public let clusters: Int
        public let features: Int
        /// K x D, row-major, float64.
        public let weight: [Double]
        public let bias: [Double]
        public let psi: [StoredLayer]

        public init(clusters: Int, features: Int, weight: [Double], bias: [Double], psi: [StoredLayer]) {
            self.clusters = clusters
            self.features = features
            self.weight = weight
            self.bias = bias
            self.psi = psi
        }
    }

    public static func loadSoftmaxHead(_ reader: Reader) throws -> SoftmaxHead {
        let file = reader.file, path = file.path
        let m = try file.matrix("weight")
        guard m.rows >= 2 else {
            throw StorageError("\(path): dataset 'weight' has \(m.rows) row\(m.rows == 1 ? "" : "s"); clustering needs K >= 2 clusters")
        }
        let weight = try m.readAllAsDouble()
        if let bad = weight.firstIndex(where: { !$0.isFinite }) {
            throw StorageError("\(path): dataset 'weight' row \(bad / m.columns) holds NaN or Inf")
        }
        var bias = [Double](repeating: 0, count: m.rows)
        if file.exists("bias") {
            let (shape, values) = try file.array("bias")
            guard shape == [m.rows] else {
                throw StorageError("\(path): dataset 'bias' has shape (\(shape.map(String.init).joined(separator: ", "))); expected (\(m.rows)), one per row of 'weight'")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw StorageError("\(path): dataset 'bias' element \(bad) holds NaN or Inf")
            }
            bias = values
        }
        var layers: [StoredLayer] = []
        if file.exists("psi") {
            while file.exists("psi/\(layers.count)") { layers.append(try loadLayer(file, index: layers.count)) }
            guard !layers.isEmpty else { throw StorageError("\(path): group 'psi' has no layer '0'") }
        }
        return SoftmaxHead(clusters: m.rows, features: m.columns, weight: weight, bias: bias, psi: layers)
    }

    /// A fitted softmax head on the input's features (no Psi).
    public static func writeSoftmaxHead(path: String, clusters: Int, features: Int, weight: [Double], bias: [Double],
                                        transform: Transform?, attributes: [(String, AttributeValue)]) throws {
        try writeAtomically(path) { f in
            try f.setAttribute("kind", "softmax_head")
            try f.write("weight", element: .float64, rows: clusters, columns: features, values: weight)
            try f.write("bias", element: .float64, dims: [clusters], values: bias)
            try write(transform, attributes, to: f)
        }
    }
}
