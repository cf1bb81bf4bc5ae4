import CHDF5

/// Writers for datasets neon-batch must refuse, which its own writer never produces. Internal:
/// the hostile-input tests reach them with `@testable import Storage`.
extension H5WriteFile {
    /// A (rows x 2) dataset of a compound type {float32 a; float64 b}, filled with zeros.
    func writeCompoundDataset(_ name: String, rows: Int) throws {
        let type = H5Tcreate(H5T_COMPOUND, 16)
        defer { H5Tclose(type) }
        H5Tinsert(type, "a", 0, neon_h5t_native_float())
        H5Tinsert(type, "b", 8, neon_h5t_native_double())
        var dims: [hsize_t] = [hsize_t(rows), 2]
        let space = H5Screate_simple(2, &dims, nil)
        defer { H5Sclose(space) }
        let ds = H5Dcreate2(id, name, type, space, linkCreation, neon_h5p_default(), neon_h5p_default())
        guard ds >= 0 else { throw StorageError("\(path): cannot create dataset '\(name)'") }
        defer { H5Dclose(ds) }
        let zeros = [UInt8](repeating: 0, count: rows * 2 * 16)
        guard H5Dwrite(ds, type, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), zeros) >= 0 else {
            throw StorageError("\(path): cannot write dataset '\(name)'")
        }
    }

    /// A float32 dataset of the given (possibly astronomically large) dimensions with chunked,
    /// unallocated storage: it costs a few bytes on disk whatever its declared size.
    func createSparseDataset(_ name: String, dims shape: [UInt64]) throws {
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(neon_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        var chunk = shape.map { _ in hsize_t(1) }
        H5Pset_chunk(dcpl, Int32(chunk.count), &chunk)
        let ds = H5Dcreate2(id, name, neon_h5t_native_float(), space, linkCreation, dcpl, neon_h5p_default())
        guard ds >= 0 else { throw StorageError("\(path): cannot create dataset '\(name)'") }
        H5Dclose(ds)
    }
}
