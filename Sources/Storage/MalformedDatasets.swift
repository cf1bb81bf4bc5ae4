import CHDF5

/// Writers for datasets neon-batch must refuse, which its own writer never produces. Internal:
/// the hostile-input tests reach them with `@testable import Storage`.
extension H5WriteFile {
    /// A (rows x 2) dataset of a compound type {float32 a; float64 b}, filled with zeros.
    func writeCompoundDataset(_ name: String, rows: Int) throws {
        let type = H5Handle(datatype: H5Tcreate(H5T_COMPOUND, 16))
        H5Tinsert(type.id, "a", 0, neon_h5t_native_float())
        H5Tinsert(type.id, "b", 8, neon_h5t_native_double())
        var dims: [hsize_t] = [hsize_t(rows), 2]
        let space = H5Handle(dataspace: H5Screate_simple(2, &dims, nil))
        let ds = H5Handle(dataset: H5Dcreate2(id, name, type.id, space.id, linkCreation, neon_h5p_default(), neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): cannot create dataset '\(name)'") }
        let zeros = [UInt8](repeating: 0, count: rows * 2 * 16)
        guard H5Dwrite(ds.id, type.id, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), zeros) >= 0 else {
            throw StorageError("\(path): cannot write dataset '\(name)'")
        }
    }

    /// A float32 dataset of the given (possibly astronomically large) dimensions with chunked,
    /// unallocated storage: it costs a few bytes on disk whatever its declared size.
    func createSparseDataset(_ name: String, dims shape: [UInt64]) throws {
        var dims = shape.map { hsize_t($0) }
        let space = H5Handle(dataspace: H5Screate_simple(Int32(dims.count), &dims, nil))
        let dcpl = H5Handle(propertyList: H5Pcreate(neon_h5p_dataset_create()))
        var chunk = shape.map { _ in hsize_t(1) }
        H5Pset_chunk(dcpl.id, Int32(chunk.count), &chunk)
        let ds = H5Handle(dataset: H5Dcreate2(id, name, neon_h5t_native_float(), space.id, linkCreation, dcpl.id, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): cannot create dataset '\(name)'") }
    }
}
