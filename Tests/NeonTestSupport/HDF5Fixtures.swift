import Storage

/// Test files written with the project's own HDF5 writer, by one process.
public enum HDF5Fixtures {
    /// Creates (replaces) a serial HDF5 file, lets `body` fill it and closes it; returns `path`.
    @discardableResult
    public static func write(_ path: String, _ body: (H5WriteFile) throws -> Void) throws -> String {
        let f = try H5WriteFile(creating: path, communicator: nil)
        try body(f)
        try f.close()
        return path
    }

    /// An input file: a rows x features dataset, float32 (the values rounded) or float64.
    @discardableResult
    public static func writeInput(_ path: String, dataset: String = "features", rows: Int, features: Int,
                                  values: [Double], float32: Bool = true) throws -> String {
        try write(path) { f in
            if float32 {
                try f.write(dataset, element: .float32, rows: rows, columns: features, values: values.map { Float($0) })
            } else {
                try f.write(dataset, element: .float64, rows: rows, columns: features, values: values)
            }
        }
    }

    /// A k-means model file (root attribute `kind`, float64 `centroids`, clusters x features).
    @discardableResult
    public static func writeModel(_ path: String, kind: String = "kmeans", clusters: Int, features: Int,
                                  centroids: [Double]) throws -> String {
        try write(path) { f in
            try f.setAttribute("kind", kind)
            try f.write("centroids", element: .float64, rows: clusters, columns: features, values: centroids)
        }
    }
}
