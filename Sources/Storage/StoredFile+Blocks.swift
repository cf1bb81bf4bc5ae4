import CHDF5

/// Reading an output (or input) file piece by piece, for inspection and rendering: row blocks of
/// datasets of any rank, string arrays (feature names) and the dimension labels of a dataset.
extension StoredFile {
    /// True if a dataset (or group) of that name exists.
    public func exists(_ name: String) -> Bool {
        !name.isEmpty && H5Lexists(file.id, name, neon_h5p_default()) > 0
    }

    /// Rows [start, start + count) along the first dimension of a numeric dataset of any rank,
    /// converted to float64 (row-major: count x the product of the other dimensions).
    public func rows(_ dataset: String, start: Int, count: Int) throws -> [Double] {
        guard let dims = shape(dataset), !dims.isEmpty else { throw StorageError("\(path): no dataset '\(dataset)'") }
        guard start >= 0, count >= 0, start + count <= dims[0] else {
            throw StorageError("\(path): dataset '\(dataset)': rows \(start)..<\(start + count) are outside 0..<\(dims[0])")
        }
        let rowSize = dims.dropFirst().reduce(1, *)
        var out = [Double](repeating: 0, count: count * rowSize)
        guard count > 0 else { return out }
        let ds = H5Handle(dataset: H5Dopen2(file.id, dataset, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): cannot open dataset '\(dataset)'") }
        let fspace = H5Handle(dataspace: H5Dget_space(ds.id))
        var off = [hsize_t](repeating: 0, count: dims.count)
        off[0] = hsize_t(start)
        var cnt = dims.map { hsize_t($0) }
        cnt[0] = hsize_t(count)
        H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, &off, nil, &cnt, nil)
        let mspace = H5Handle(dataspace: H5Screate_simple(Int32(dims.count), &cnt, nil))
        let status = out.withUnsafeMutableBytes {
            H5Dread(ds.id, neon_h5t_native_double(), mspace.id, fspace.id, neon_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else {
            throw StorageError("\(path): dataset '\(dataset)': cannot read rows \(start)..<\(start + count)")
        }
        return out
    }

    /// A 1-D dataset of strings (fixed or variable length), or nil if there is none of that name.
    public func strings(dataset name: String) throws -> [String]? {
        guard exists(name) else { return nil }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(file.id, name, &info, UInt32(H5O_INFO_BASIC), neon_h5p_default()) >= 0,
              info.type == H5O_TYPE_DATASET else { return nil }
        let ds = H5Handle(dataset: H5Dopen2(file.id, name, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): cannot open dataset '\(name)'") }
        let type = H5Handle(datatype: H5Dget_type(ds.id)), space = H5Handle(dataspace: H5Dget_space(ds.id))
        return try readStrings(type: type.id, space: space.id, what: "dataset '\(name)'") { mtype, buf in
            H5Dread(ds.id, mtype, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), buf)
        }
    }

    /// A string or string-array attribute of an object ("/" for the root group), or nil if absent.
    public func strings(attribute: String, of object: String = "/") throws -> [String]? {
        guard object == "/" || exists(object),
              H5Aexists_by_name(file.id, object, attribute, neon_h5p_default()) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen_by_name(file.id, object, attribute, neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot read attribute '\(attribute)' of '\(object)'") }
        let type = H5Handle(datatype: H5Aget_type(attr.id)), space = H5Handle(dataspace: H5Aget_space(attr.id))
        return try readStrings(type: type.id, space: space.id, what: "attribute '\(attribute)' of '\(object)'") { mtype, buf in
            H5Aread(attr.id, mtype, buf)
        }
    }

    private func readStrings(type: hid_t, space: hid_t, what: String,
                             _ read: (hid_t, UnsafeMutableRawPointer?) -> herr_t) throws -> [String] {
        guard H5Tget_class(type) == H5T_STRING else {
            throw StorageError("\(path): \(what) must hold strings")
        }
        let n = Int(H5Sget_simple_extent_npoints(space))
        if H5Tis_variable_str(type) > 0 {
            let mtype = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
            H5Tset_size(mtype.id, Int(bitPattern: UInt(bitPattern: -1)))     // H5T_VARIABLE
            H5Tset_cset(mtype.id, H5Tget_cset(type))
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            guard ptrs.withUnsafeMutableBytes({ read(mtype.id, $0.baseAddress) }) >= 0 else {
                throw StorageError("\(path): cannot read \(what)")
            }
            defer { ptrs.forEach { if let p = $0 { H5free_memory(p) } } }
            return ptrs.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(type)
        var buf = [CChar](repeating: 0, count: n * size + 1)
        guard buf.withUnsafeMutableBytes({ read(type, $0.baseAddress) }) >= 0 else {
            throw StorageError("\(path): cannot read \(what)")
        }
        return (0..<n).map { i in
            let bytes = buf[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self).trimmingTrailingSpaces()
        }
    }

    /// The names of a dataset's dimensions (HDF5 dimension-scale labels), "" where unnamed; nil
    /// if the dataset has none.
    public func dimensionLabels(_ dataset: String) -> [String]? {
        guard let dims = shape(dataset),
              let labels = try? strings(attribute: "DIMENSION_LABELS", of: dataset), labels.count == dims.count
        else { return nil }
        return labels
    }

    /// A root attribute as text (strings as they are, numbers in their shortest form), or nil.
    public func attributeText(_ name: String) -> String? {
        if let s = try? stringAttribute(name) { return s }
        guard let v = numberAttribute(name) else { return nil }
        return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }
}

extension String {
    /// Fixed-length HDF5 strings may be space padded (H5T_STR_SPACEPAD).
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension StoredFile {
    /// The element type of a dataset as error messages name it ("float32", "integer", ...).
    public func typeName(_ dataset: String) -> String? {
        guard exists(dataset) else { return nil }
        let ds = H5Handle(dataset: H5Dopen2(file.id, dataset, neon_h5p_default()))
        guard ds.isValid else { return nil }
        let type = H5Handle(datatype: H5Dget_type(ds.id))
        if H5Tget_class(type.id) == H5T_INTEGER { return "int\(H5Tget_size(type.id) * 8)" }
        return describeType(type.id).name
    }
}

extension StoredFile {
    /// The number of filters (e.g. shuffle and deflate) of a dataset's storage, or nil if there is no such dataset.
    public func filterCount(_ dataset: String) -> Int? {
        guard exists(dataset) else { return nil }
        let ds = H5Handle(dataset: H5Dopen2(file.id, dataset, neon_h5p_default()))
        guard ds.isValid else { return nil }
        let dcpl = H5Handle(propertyList: H5Dget_create_plist(ds.id))
        return Int(H5Pget_nfilters(dcpl.id))
    }
}

extension StoredFile {
    /// A numeric attribute (scalar or 1-D array) of an object as float64, or nil if absent;
    /// throws naming the attribute if it is not numeric.
    public func numbers(attribute name: String, of object: String) throws -> [Double]? {
        guard exists(object), H5Aexists_by_name(file.id, object, name, neon_h5p_default()) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen_by_name(file.id, object, name, neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot read attribute '\(name)' of '\(object)'") }
        let type = H5Handle(datatype: H5Aget_type(attr.id)), space = H5Handle(dataspace: H5Aget_space(attr.id))
        let cls = H5Tget_class(type.id)
        var values = [Double](repeating: 0, count: max(0, Int(H5Sget_simple_extent_npoints(space.id))))
        guard cls == H5T_FLOAT || cls == H5T_INTEGER,
              values.withUnsafeMutableBytes({ H5Aread(attr.id, neon_h5t_native_double(), $0.baseAddress) }) >= 0 else {
            throw StorageError("\(path): attribute '\(name)' of '\(object)' must be numbers")
        }
        return values
    }
}
