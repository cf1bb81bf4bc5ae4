import CHDF5
import Foundation

/// Process-wide HDF5 set-up. HDF5 is not thread-safe in this build: every HDF5 call of a
/// rank must come from one thread.
public enum HDF5Library {
    /// Turns off HDF5's own error-stack printing; neon-batch reports one line itself.
    public static func silenceErrorStack() { neon_h5_silence_errors() }

    /// The library version, for provenance.
    public static var version: String {
        var maj: UInt32 = 0, min: UInt32 = 0, rel: UInt32 = 0
        H5get_libversion(&maj, &min, &rel)
        return "\(maj).\(min).\(rel)"
    }
}

/// Element types neon-batch reads and writes; memory type always equals file type.
public enum ElementType: String, Sendable, Equatable {
    case float32, float64, int64

    public var byteCount: Int { self == .float32 ? 4 : 8 }

    var nativeType: hid_t {
        switch self {
        case .float32: return neon_h5t_native_float()
        case .float64: return neon_h5t_native_double()
        case .int64: return neon_h5t_native_int64()
        }
    }
}

/// Classifies an HDF5 datatype the way error messages name it.
func describeType(_ type: hid_t) -> (element: ElementType?, name: String) {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT:
        if size == 4 { return (.float32, "float32") }
        if size == 8 { return (.float64, "float64") }
        return (nil, "\(size * 8)-bit float")
    case H5T_INTEGER: return (nil, "integer")
    case H5T_STRING: return (nil, "string")
    case H5T_COMPOUND: return (nil, "compound")
    case H5T_ENUM: return (nil, "enum")
    case H5T_ARRAY: return (nil, "array")
    case H5T_VLEN: return (nil, "variable-length")
    case H5T_OPAQUE: return (nil, "opaque")
    case H5T_REFERENCE: return (nil, "reference")
    case H5T_BITFIELD: return (nil, "bitfield")
    default: return (nil, "unknown")
    }
}

/// Checks a path before HDF5 sees it, so the message says what is wrong.
func checkReadableFile(_ path: String, role: String) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw StorageError("\(path): \(role) file does not exist")
    }
    if isDir.boolValue { throw StorageError("\(path): \(role) file is a directory") }
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw StorageError("\(path): \(role) file is not readable")
    }
    guard H5Fis_hdf5(path) > 0 else { throw StorageError("\(path): \(role) file is not an HDF5 file") }
}

/// Selects rows [start, start + count) of a dataset's file space (whole rows of shape `tail`), or
/// nothing in both spaces when count is 0 (a rank without rows still takes part in a collective
/// transfer).
func selectRows(_ fspace: hid_t, _ mspace: hid_t, start: Int, count: Int, tail: [Int]) {
    guard count > 0 else {
        H5Sselect_none(fspace)
        H5Sselect_none(mspace)
        return
    }
    var off = [hsize_t(start)] + tail.map { _ in hsize_t(0) }
    var cnt = [hsize_t(count)] + tail.map { hsize_t($0) }
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, nil, &cnt, nil)
}

/// A dataset transfer property list, collective MPI-IO for files opened through MPI-IO.
func transferList(collective: Bool) -> H5Handle {
    let dxpl = H5Handle(propertyList: H5Pcreate(neon_h5p_dataset_xfer()))
    if collective { neon_h5_set_dxpl_collective(dxpl.id) }
    return dxpl
}

/// Row reads and writes of a file opened through MPI-IO are independent transfers: each rank
/// reads or writes its own contiguous rows, with no exchange between ranks inside HDF5, so a rank
/// whose main thread shares its core with compute threads never holds the others up in a
/// collective (docs/scaling.md). Filtered (compressed) output datasets are written collectively,
/// as parallel HDF5 requires. NEON_COLLECTIVE_IO=1 makes every transfer collective (the earlier
/// design; for benchmarks).
let collectiveTransfers = ProcessInfo.processInfo.environment["NEON_COLLECTIVE_IO"] == "1"

extension HDF5Library {
    /// Open files, datasets, groups, named types and attributes of every file: 0 once all are
    /// closed (tests of the closing rule, see H5Handle).
    static var openObjectCount: Int { Int(H5Fget_obj_count(hid_t(0x1F), 0x1F)) }  // H5F_OBJ_ALL

    /// Whether an identifier is open (any kind).
    static func isOpen(_ id: hid_t) -> Bool { H5Iis_valid(id) > 0 }
}
