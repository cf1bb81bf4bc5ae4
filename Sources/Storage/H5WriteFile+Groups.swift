import CHDF5

/// Groups and attributes of nested objects (model files with a `psi` group; serial files).
extension H5WriteFile {
    /// Creates a group (and its parents) unless it exists.
    public func createGroup(_ path: String) throws {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            if H5Lexists(id, prefix, neon_h5p_default()) > 0 { continue }
            let g = H5Handle(group: H5Gcreate2(id, prefix, neon_h5p_default(), neon_h5p_default(), neon_h5p_default()))
            guard g.isValid else { throw StorageError("\(self.path): cannot create group '\(prefix)'") }
            g.close()
        }
    }

    /// A scalar UTF-8 string attribute of an object (created as a group if it does not exist).
    public func setAttribute(_ name: String, _ value: String, on object: String) throws {
        let type = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
        H5Tset_size(type.id, Int(bitPattern: UInt(bitPattern: -1)))
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        let tid = type.id
        try value.withCString { cs in
            var p: UnsafePointer<CChar>? = cs
            try objectAttribute(name, on: object, type: tid) { H5Awrite($0, tid, &p) }
        }
    }

    /// A scalar float64 attribute of an object (created as a group if it does not exist).
    public func setAttribute(_ name: String, _ value: Double, on object: String) throws {
        var v = value
        try objectAttribute(name, on: object, type: neon_h5t_native_double()) { H5Awrite($0, neon_h5t_native_double(), &v) }
    }

    /// A 1-D int64 attribute of an object (e.g. a dataset's image_shape).
    public func setAttribute(_ name: String, integers values: [Int64], on object: String) throws {
        var dims = [hsize_t(values.count)]
        let space = H5Handle(dataspace: H5Screate_simple(1, &dims, nil))
        if H5Aexists_by_name(id, object, name, neon_h5p_default()) > 0 { H5Adelete_by_name(id, object, name, neon_h5p_default()) }
        let attr = H5Handle(attribute: H5Acreate_by_name(id, object, name, neon_h5t_native_int64(), space.id, neon_h5p_default(), neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot write attribute '\(name)' of '\(object)'") }
        var v = values
        guard H5Awrite(attr.id, neon_h5t_native_int64(), &v) >= 0 else { throw StorageError("\(path): cannot write attribute '\(name)' of '\(object)'") }
    }

    private func objectAttribute(_ name: String, on object: String, type: hid_t, _ write: (hid_t) -> herr_t) throws {
        if object != "/" && H5Lexists(id, object, neon_h5p_default()) <= 0 { try createGroup(object) }
        if H5Aexists_by_name(id, object, name, neon_h5p_default()) > 0 { H5Adelete_by_name(id, object, name, neon_h5p_default()) }
        let space = H5Handle(dataspace: H5Screate(H5S_SCALAR))
        let attr = H5Handle(attribute: H5Acreate_by_name(id, object, name, type, space.id, neon_h5p_default(), neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot write attribute '\(name)' of '\(object)'") }
        guard write(attr.id) >= 0 else { throw StorageError("\(path): cannot write attribute '\(name)' of '\(object)'") }
    }
}
