import CHDF5

/// Read access to a finished (or partial) HDF5 file from one process: root attributes and
/// whole numeric datasets. For checking outputs (tests, inspection).
public final class StoredFile {
    let file: H5ReadFile
    public var path: String { file.path }

    public init(path: String) throws { file = try H5ReadFile(path: path, role: "HDF5") }

    public func stringAttribute(_ name: String) throws -> String? { try file.rootStringAttribute(name) }

    /// The names of the root attributes.
    public func attributeNames() -> [String] {
        var info = H5O_info_t()
        guard H5Oget_info2(file.id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { return [] }
        return (0..<info.num_attrs).compactMap { i in
            let len = H5Aget_name_by_idx(file.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, neon_h5p_default())
            guard len >= 0 else { return nil }
            var buf = [CChar](repeating: 0, count: len + 1)
            H5Aget_name_by_idx(file.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, len + 1, neon_h5p_default())
            return String(cString: buf)
        }
    }

    /// A numeric scalar root attribute as float64, or nil if absent.
    public func numberAttribute(_ name: String) -> Double? {
        guard H5Aexists(file.id, name) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen(file.id, name, neon_h5p_default()))
        guard attr.isValid else { return nil }
        var v = 0.0
        return H5Aread(attr.id, neon_h5t_native_double(), &v) >= 0 ? v : nil
    }

    /// The shape of a dataset, or nil if there is none of that name.
    public func shape(_ dataset: String) -> [Int]? {
        guard H5Lexists(file.id, dataset, neon_h5p_default()) > 0 else { return nil }
        let ds = H5Handle(dataset: H5Dopen2(file.id, dataset, neon_h5p_default()))
        guard ds.isValid else { return nil }
        let space = H5Handle(dataspace: H5Dget_space(ds.id))
        var dims = [hsize_t](repeating: 0, count: 8)
        let n = H5Sget_simple_extent_dims(space.id, &dims, nil)
        return n < 0 ? nil : dims.prefix(Int(n)).map { Int($0) }
    }

    /// A whole numeric dataset converted to float64 (row-major).
    public func doubles(_ dataset: String) throws -> [Double] { try read(dataset, neon_h5t_native_double(), 0.0) }

    /// A whole integer dataset as int64.
    public func int64s(_ dataset: String) throws -> [Int64] { try read(dataset, neon_h5t_native_int64(), Int64(0)) }

    private func read<T>(_ dataset: String, _ type: hid_t, _ zero: T) throws -> [T] {
        guard let dims = shape(dataset) else { throw StorageError("\(path): no dataset '\(dataset)'") }
        let ds = H5Handle(dataset: H5Dopen2(file.id, dataset, neon_h5p_default()))
        var out = [T](repeating: zero, count: dims.reduce(1, *))
        let status = out.withUnsafeMutableBytes {
            H5Dread(ds.id, type, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw StorageError("\(path): cannot read dataset '\(dataset)'") }
        return out
    }
}
