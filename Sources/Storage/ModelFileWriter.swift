import CHDF5
import Foundation

/// Writing fitted models in the formats `ModelFile` reads (docs/file-formats.md), and the
/// optional standardisation a model may carry: root datasets `standardize_mean` and
/// `standardize_std` (d, float64). Models are written by one process to a temporary file in the
/// target folder and renamed into place, so a failed fit never leaves a half-written model.
extension ModelFile {
    public struct Transform: Equatable, Sendable {
        public let mean: [Double]
        public let std: [Double]
        public init(mean: [Double], std: [Double]) { self.mean = mean; self.std = std }
    }

    public static func writeKMeans(path: String, clusters: Int, features: Int, centroids: [Double],
                                   transform: Transform?, attributes: [(String, AttributeValue)]) throws {
        try writeAtomically(path) { f in
            try f.setAttribute("kind", "kmeans")
            try f.write("centroids", element: .float64, rows: clusters, columns: features, values: centroids)
            try write(transform, attributes, to: f)
        }
    }

    public static func writeKernelKMeans(path: String, features: Int, supportVectors: [Double], supportCluster: [Int],
                                         gamma: Double, transform: Transform?,
                                         attributes: [(String, AttributeValue)]) throws {
        try writeAtomically(path) { f in
            try f.setAttribute("kind", "kernel_kmeans")
            try f.setAttribute("gamma", gamma)
            try f.write("support_vectors", element: .float64, rows: supportCluster.count, columns: features,
                        values: supportVectors)
            try f.write("support_cluster", element: .int64, dims: [supportCluster.count],
                        values: supportCluster.map { Int64($0) })
            try write(transform, attributes, to: f)
        }
    }

    static func write(_ transform: Transform?, _ attributes: [(String, AttributeValue)], to f: H5WriteFile) throws {
        if let t = transform {
            try f.write(standardizeMean, element: .float64, dims: [t.mean.count], values: t.mean)
            try f.write(standardizeStd, element: .float64, dims: [t.std.count], values: t.std)
        }
        for (name, value) in attributes {
            switch value {
            case .string(let s): try f.setAttribute(name, s)
            case .double(let d): try f.setAttribute(name, d)
            case .int(let i): try f.setAttribute(name, i)
            }
        }
    }

    static func writeAtomically(_ path: String, _ body: (H5WriteFile) throws -> Void) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let temporary = "\(dir)/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        do {
            let f = try H5WriteFile(creating: temporary, communicator: nil)
            try body(f)
            try f.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw StorageError("\(path): cannot write the model file (\(why))")
        }
    }

    public static let standardizeMean = "standardize_mean"
    public static let standardizeStd = "standardize_std"

    /// The model's standardisation, if it has one (both datasets or neither; values as stored,
    /// to be checked by the caller).
    public static func loadTransform(path: String) throws -> Transform? {
        let file = try H5ReadFile(path: path, role: "model")
        let hasMean = H5Lexists(file.id, standardizeMean, neon_h5p_default()) > 0
        let hasStd = H5Lexists(file.id, standardizeStd, neon_h5p_default()) > 0
        if !hasMean && !hasStd { return nil }
        guard hasMean && hasStd else {
            throw StorageError("\(path): dataset '\(hasMean ? standardizeStd : standardizeMean)' is missing (standardize_mean and standardize_std go together)")
        }
        return Transform(mean: try file.floatVector(standardizeMean), std: try file.floatVector(standardizeStd))
    }

    /// Cluster labels for initialising a fit: a 1-D integer dataset.
    public static func loadLabels(path: String, dataset: String) throws -> [Int64] {
        try H5ReadFile(path: path, role: "labels").integerVector(dataset)
    }
}

extension H5ReadFile {
    /// A 1-D floating-point (or integer) dataset, as float64.
    func floatVector(_ name: String) throws -> [Double] {
        guard H5Lexists(id, name, neon_h5p_default()) > 0 else { throw StorageError("\(path): no dataset '\(name)'") }
        let ds = H5Handle(dataset: H5Dopen2(id, name, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): '\(name)' is not a dataset") }
        let space = H5Handle(dataspace: H5Dget_space(ds.id))
        let rank = H5Sget_simple_extent_ndims(space.id)
        guard rank == 1 else { throw StorageError("\(path): dataset '\(name)' has rank \(rank); expected 1") }
        let type = H5Handle(datatype: H5Dget_type(ds.id))
        guard H5Tget_class(type.id) == H5T_FLOAT || H5Tget_class(type.id) == H5T_INTEGER else {
            throw StorageError("\(path): dataset '\(name)' has \(describeType(type.id).name) type; expected numbers")
        }
        var out = [Double](repeating: 0, count: Int(H5Sget_simple_extent_npoints(space.id)))
        let status = out.withUnsafeMutableBytes {
            H5Dread(ds.id, neon_h5t_native_double(), neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw StorageError("\(path): cannot read dataset '\(name)'") }
        return out
    }
}
