import CHDF5

/// An HDF5 identifier that closes itself: a dataset, dataspace, datatype, property list,
/// attribute or group opened inside a function. It is closed exactly once, by `close()` (which
/// returns HDF5's status) or else when its scope ends. An invalid identifier (< 0, a failed
/// open) is never closed, so a handle can be made before checking the open succeeded:
///
///     let ds = H5Handle(dataset: H5Dopen2(file, name, neon_h5p_default()))
///     guard ds.isValid else { throw ... }
///     H5Dread(ds.id, ...)
///
/// The closing-order rule. A handle is noncopyable, so unlike a class instance (which may be
/// released at its last use) it lives to the end of its scope: handles of one scope close there
/// in reverse order of declaration, as `defer` would, at every optimisation level. Never let its
/// `id` outlive it. Objects inside a file close before the file: function-local handles end with
/// the function; the classes that hold datasets across calls (H5Matrix, H5WriteFile) close them
/// in their own `deinit`/`close()` before they let go of the file. In a file opened through
/// MPI-IO, closing datasets and the file is collective: every rank closes the same objects in
/// the same order (H5WriteFile closes its datasets in creation order, then the file), and
/// before MPI_Finalize; so the owners of parallel files close them explicitly (`close()`,
/// `finish`, `abandon`) rather than leave it to a `deinit` whose time depends on references.
struct H5Handle: ~Copyable {
    enum Kind { case dataset, dataspace, datatype, propertyList, attribute, group }

    let id: hid_t
    let kind: Kind

    init(dataset id: hid_t) { (self.id, kind) = (id, .dataset) }
    init(dataspace id: hid_t) { (self.id, kind) = (id, .dataspace) }
    init(datatype id: hid_t) { (self.id, kind) = (id, .datatype) }
    init(propertyList id: hid_t) { (self.id, kind) = (id, .propertyList) }
    init(attribute id: hid_t) { (self.id, kind) = (id, .attribute) }
    init(group id: hid_t) { (self.id, kind) = (id, .group) }

    /// The open succeeded.
    var isValid: Bool { id >= 0 }

    /// Closes now; HDF5's status (0 for an invalid handle, which has nothing to close).
    @discardableResult
    consuming func close() -> herr_t {
        let (id, kind) = (self.id, self.kind)
        discard self
        return Self.close(id, kind)
    }

    /// Hands the identifier to an owner that closes it itself (H5Matrix); this handle then
    /// closes nothing.
    consuming func release() -> hid_t {
        let id = self.id
        discard self
        return id
    }

    deinit { Self.close(id, kind) }

    @discardableResult
    private static func close(_ id: hid_t, _ kind: Kind) -> herr_t {
        guard id >= 0 else { return 0 }
        switch kind {
        case .dataset: return H5Dclose(id)
        case .dataspace: return H5Sclose(id)
        case .datatype: return H5Tclose(id)
        case .propertyList: return H5Pclose(id)
        case .attribute: return H5Aclose(id)
        case .group: return H5Gclose(id)
        }
    }
}
