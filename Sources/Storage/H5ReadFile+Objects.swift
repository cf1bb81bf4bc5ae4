import CHDF5

/// Reading nested objects of a model file: groups, attributes of any object, N-D datasets.
extension H5ReadFile {
    /// Whether a link of that path exists (every parent too).
    func exists(_ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            guard H5Lexists(id, prefix, neon_h5p_default()) > 0 else { return false }
        }
        return !path.isEmpty
    }

    /// A string attribute of an object (group or dataset), or nil if absent.
    func stringAttribute(_ name: String, of object: String) throws -> String? {
        guard exists(object), H5Aexists_by_name(id, object, name, neon_h5p_default()) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen_by_name(id, object, name, neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot read attribute '\(name)' of '\(object)'") }
        let ftype = H5Handle(datatype: H5Aget_type(attr.id))
        guard H5Tget_class(ftype.id) == H5T_STRING else {
            throw StorageError("\(path): attribute '\(name)' of '\(object)' must be a string")
        }
        if H5Tis_variable_str(ftype.id) > 0 {
            let mtype = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
            H5Tset_size(mtype.id, Int(bitPattern: UInt(bitPattern: -1)))
            H5Tset_cset(mtype.id, H5Tget_cset(ftype.id))
            var ptr: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(attr.id, mtype.id, &ptr) >= 0, let p = ptr else {
                throw StorageError("\(path): cannot read attribute '\(name)' of '\(object)'")
            }
            defer { H5free_memory(p) }
            return String(cString: p)
        }
        var buf = [CChar](repeating: 0, count: H5Tget_size(ftype.id) + 1)
        guard H5Aread(attr.id, ftype.id, &buf) >= 0 else { throw StorageError("\(path): cannot read attribute '\(name)' of '\(object)'") }
        return String(cString: buf)
    }

    /// A numeric scalar attribute of an object; nil if absent; an error if not a number.
    func numberAttribute(_ name: String, of object: String) throws -> Double? {
        guard exists(object), H5Aexists_by_name(id, object, name, neon_h5p_default()) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen_by_name(id, object, name, neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot read attribute '\(name)' of '\(object)'") }
        let type = H5Handle(datatype: H5Aget_type(attr.id))
        let space = H5Handle(dataspace: H5Aget_space(attr.id))
        let cls = H5Tget_class(type.id)
        var v = 0.0
        guard cls == H5T_FLOAT || cls == H5T_INTEGER, H5Sget_simple_extent_npoints(space.id) == 1,
              H5Aread(attr.id, neon_h5t_native_double(), &v) >= 0 else {
            throw StorageError("\(path): attribute '\(name)' of '\(object)' must be a single number")
        }
        return v
    }

    /// A whole floating-point dataset of any rank as float64, with its shape.
    func array(_ name: String) throws -> (shape: [Int], values: [Double]) {
        guard exists(name) else { throw noDataset(name) }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), neon_h5p_default()) >= 0,
              info.type == H5O_TYPE_DATASET else { throw StorageError("\(path): '\(name)' is not a dataset") }
        let ds = H5Handle(dataset: H5Dopen2(id, name, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): cannot open dataset '\(name)'") }
        let type = H5Handle(datatype: H5Dget_type(ds.id))
        guard describeType(type.id).element != nil else {
            throw StorageError("\(path): dataset '\(name)' has \(describeType(type.id).name) type; expected float32 or float64")
        }
        let space = H5Handle(dataspace: H5Dget_space(ds.id))
        var dims = [hsize_t](repeating: 0, count: 32)
        let rank = Int(H5Sget_simple_extent_dims(space.id, &dims, nil))
        let shape = dims.prefix(max(rank, 0)).map { Int($0) }
        let count = shape.reduce(1, *)
        try checkFitsInMemory(name, elements: count, bytesPerElement: 8, shape: shape.map(String.init).joined(separator: " x "))
        var out = [Double](repeating: 0, count: count)
        let status = out.withUnsafeMutableBytes {
            H5Dread(ds.id, neon_h5t_native_double(), neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw StorageError("\(path): cannot read dataset '\(name)'") }
        if let bad = out.firstIndex(where: { !$0.isFinite }) {
            throw StorageError("\(path): dataset '\(name)' element \(bad) is NaN or Inf")
        }
        return (shape, out)
    }
}

extension H5ReadFile {
    /// The paths of every dataset in the file (groups visited recursively), in name order.
    func datasetNames() -> [String] {
        final class Names { var all: [String] = [] }
        let names = Names()
        _ = withExtendedLifetime(names) {
            H5Lvisit(id, H5_INDEX_NAME, H5_ITER_INC, { _, name, _, data in
                guard let name, let data else { return 0 }
                Unmanaged<Names>.fromOpaque(data).takeUnretainedValue().all.append(String(cString: name))
                return 0
            }, Unmanaged.passUnretained(names).toOpaque())
        }
        return names.all.filter { name in
            var info = H5O_info_t()
            return H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), neon_h5p_default()) >= 0
                && info.type == H5O_TYPE_DATASET
        }
    }

    /// "PATH: no dataset 'NAME'", with the closest dataset name there is, or else the datasets there are.
    func noDataset(_ name: String) -> StorageError {
        let names = datasetNames()
        let shown = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 8 ? ", ..." : "")
        let hint = Suggestion.closest(to: name, among: names).map { "did you mean '\($0)'?" }
            ?? (names.isEmpty ? "the file has no datasets" : "the file has \(shown)")
        return StorageError("\(path): no dataset '\(name)'; \(hint)")
    }
}
