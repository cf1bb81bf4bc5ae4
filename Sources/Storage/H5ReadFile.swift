import CHDF5
import Distributed
import Foundation

/// An HDF5 file opened read-only by one process (rank 0 reads inputs and models), or by all ranks
/// of a communicator through MPI-IO (`communicator`: collective open; parallel input reads).
final class H5ReadFile {
    let path: String
    let id: hid_t
    /// Opened through MPI-IO: dataset reads are collective.
    let parallel: Bool

    init(path: String, role: String, communicator: Communicator? = nil) throws {
        try checkReadableFile(path, role: role)
        let fapl = H5Handle(propertyList: H5Pcreate(neon_h5p_file_access()))
        if let comm = communicator { neon_h5_set_fapl_mpio(fapl.id, comm.handle) }
        parallel = communicator != nil
        let fid = H5Fopen(path, neon_h5f_acc_rdonly(), fapl.id)
        guard fid >= 0 else { throw StorageError("\(path): \(role) file is truncated or damaged (HDF5 cannot open it)") }
        self.path = path
        id = fid
    }

    deinit { H5Fclose(id) }

    /// A string attribute of the root group (fixed or variable length), or nil if absent.
    func rootStringAttribute(_ name: String) throws -> String? {
        guard H5Aexists(id, name) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen(id, name, neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot read root attribute '\(name)'") }
        let ftype = H5Handle(datatype: H5Aget_type(attr.id))
        guard H5Tget_class(ftype.id) == H5T_STRING else {
            throw StorageError("\(path): root attribute '\(name)' must be a string")
        }
        let space = H5Handle(dataspace: H5Aget_space(attr.id))
        guard H5Sget_simple_extent_npoints(space.id) == 1 else {
            throw StorageError("\(path): root attribute '\(name)' must be a single string")
        }
        if H5Tis_variable_str(ftype.id) > 0 {
            let mtype = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
            H5Tset_size(mtype.id, Int(bitPattern: UInt(bitPattern: -1)))   // H5T_VARIABLE
            H5Tset_cset(mtype.id, H5Tget_cset(ftype.id))
            var ptr: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(attr.id, mtype.id, &ptr) >= 0, let p = ptr else {
                throw StorageError("\(path): cannot read root attribute '\(name)'")
            }
            defer { H5free_memory(p) }
            return String(cString: p)
        }
        let size = H5Tget_size(ftype.id)
        var buf = [CChar](repeating: 0, count: size + 1)
        guard H5Aread(attr.id, ftype.id, &buf) >= 0 else {
            throw StorageError("\(path): cannot read root attribute '\(name)'")
        }
        return String(cString: buf)
    }

    /// A numeric scalar root attribute, or nil if absent or not numeric.
    func rootNumberAttribute(_ name: String) -> Double? {
        guard H5Aexists(id, name) > 0 else { return nil }
        let attr = H5Handle(attribute: H5Aopen(id, name, neon_h5p_default()))
        guard attr.isValid else { return nil }
        let type = H5Handle(datatype: H5Aget_type(attr.id))
        let cls = H5Tget_class(type.id)
        guard cls == H5T_FLOAT || cls == H5T_INTEGER else { return nil }
        let space = H5Handle(dataspace: H5Aget_space(attr.id))
        guard H5Sget_simple_extent_npoints(space.id) == 1 else { return nil }
        var v = 0.0
        return H5Aread(attr.id, neon_h5t_native_double(), &v) >= 0 ? v : nil
    }

    /// A 1-D integer dataset, as int64.
    func integerVector(_ name: String) throws -> [Int64] {
        guard H5Lexists(id, name, neon_h5p_default()) > 0 else { throw noDataset(name) }
        let ds = H5Handle(dataset: H5Dopen2(id, name, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): '\(name)' is not a dataset") }
        let type = H5Handle(datatype: H5Dget_type(ds.id))
        guard H5Tget_class(type.id) == H5T_INTEGER else {
            throw StorageError("\(path): dataset '\(name)' has \(describeType(type.id).name) type; expected integers")
        }
        let space = H5Handle(dataspace: H5Dget_space(ds.id))
        let rank = H5Sget_simple_extent_ndims(space.id)
        guard rank == 1 else { throw StorageError("\(path): dataset '\(name)' has rank \(rank); expected 1") }
        let count = Int(H5Sget_simple_extent_npoints(space.id))
        try checkFitsInMemory(name, elements: count, bytesPerElement: 8, shape: "\(count)")
        var out = [Int64](repeating: 0, count: count)
        let dsid = ds.id
        let status = out.withUnsafeMutableBytes {
            H5Dread(dsid, neon_h5t_native_int64(), neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw StorageError("\(path): cannot read dataset '\(name)'") }
        return out
    }

    /// Refuses a dataset that is read whole (a model) when it would take more than half of this
    /// machine's memory, instead of letting the allocation kill the process.
    func checkFitsInMemory(_ name: String, elements: Int, bytesPerElement: Int, shape: String) throws {
        let memory = ProcessInfo.processInfo.physicalMemory
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: bytesPerElement)
        guard !overflow, UInt64(bytes) <= memory / 2 else {
            let gib = { (b: Double) in String(format: "%.1f GiB", b / 1_073_741_824) }
            throw StorageError("\(path): dataset '\(name)' (\(shape)) needs \(gib(Double(elements) * Double(bytesPerElement))) in memory; this machine has \(gib(Double(memory)))")
        }
    }

    /// Opens a 2-D floating-point dataset.
    func matrix(_ name: String, rowsName: String = "rows", featuresName: String = "features",
                allowSamples4D: Bool = false) throws -> H5Matrix {
        guard !name.isEmpty, H5Lexists(id, name, neon_h5p_default()) > 0 else {
            throw noDataset(name)
        }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), neon_h5p_default()) >= 0,
              info.type == H5O_TYPE_DATASET else {
            throw StorageError("\(path): '\(name)' is not a dataset")
        }
        let ds = H5Handle(dataset: H5Dopen2(id, name, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(path): cannot open dataset '\(name)'") }
        return try H5Matrix(file: self, dataset: ds, name: name, allowSamples4D: allowSamples4D)
    }
}

/// A 2-D float32 / float64 dataset (N, d), read in row blocks with the file's own type.
final class H5Matrix {
    let file: H5ReadFile
    let id: hid_t
    let name: String
    let rows: Int
    let columns: Int
    let element: ElementType
    /// The shape of one row: [columns] for a 2-D dataset, [C, H, W] for a 4-D one (N, C, H, W).
    let sampleShape: [Int]

    /// Takes over `dataset` (closed here, also when the init throws).
    init(file: H5ReadFile, dataset: consuming H5Handle, name: String, allowSamples4D: Bool = false) throws {
        self.file = file
        self.name = name
        let where_ = "\(file.path): dataset '\(name)'"
        let space = H5Handle(dataspace: H5Dget_space(dataset.id))
        let rank = H5Sget_simple_extent_ndims(space.id)
        let type = H5Handle(datatype: H5Dget_type(dataset.id))
        let t = describeType(type.id)
        let convertible = H5Tget_class(type.id) == H5T_INTEGER || H5Tget_class(type.id) == H5T_FLOAT
        guard rank == 2 || (allowSamples4D && rank == 4) else {
            // (N,) and (N, H, W) inputs: one added axis makes them (N, 1) and (N, 1, H, W).
            let fix = !allowSamples4D || !convertible || (rank != 1 && rank != 3) ? ""
                : ": add \(rank == 1 ? "a feature axis, (N, 1)" : "a channel axis, (N, 1, H, W)"), e.g. "
                  + H5Matrix.rewrite(file.path, name, as: "x[:, None].astype('float32')")
            throw StorageError("\(where_) has rank \(rank); expected 2 (rows x features)\(allowSamples4D ? " or 4 (N, C, H, W)" : "")\(fix)")
        }
        guard let el = t.element else {
            let fix = convertible ? ": convert it, e.g. " + H5Matrix.rewrite(file.path, name, as: "x.astype('float32')") : ""
            throw StorageError("\(where_) has \(t.name) type; expected float32 or float64\(fix)")
        }
        var all = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space.id, &all, nil)
        let tail = all.dropFirst().reduce(hsize_t(1)) { $0 &* $1 }
        let dims = [all[0], tail]
        // Addressable sizes: rows * columns elements must fit in memory indexing.
        guard dims[0] < UInt64(Int32.max) * 64, dims[1] < 1 << 24, dims[0] &* dims[1] < 1 << 50 else {
            throw StorageError("\(where_) has dimensions \(dims[0]) x \(dims[1]), beyond what neon-batch can address")
        }
        rows = Int(dims[0])
        columns = Int(dims[1])
        element = el
        sampleShape = all.dropFirst().map { Int($0) }
        id = dataset.release()
    }

    /// The dataset closes before `file` is let go of (see H5Handle).
    deinit { H5Dclose(id) }

    /// A shell command that replaces dataset `name` of `path` by `expression` of its values `x`
    /// (h5py), for messages that say how to fix an input.
    static func rewrite(_ path: String, _ name: String, as expression: String) -> String {
        "python3 -c \"import h5py; f = h5py.File('\(path)', 'a'); x = f['\(name)'][...]; del f['\(name)']; f['\(name)'] = \(expression)\""
    }

    /// Reads rows [start, start + count) into `buffer` (count x columns elements of `element`).
    /// In a file opened through MPI-IO every rank calls it, also with count 0 (it then selects
    /// nothing); the transfer is independent (`collectiveTransfers`).
    func read(rows start: Int, count: Int, into buffer: UnsafeMutableRawPointer) throws {
        guard count > 0 || file.parallel else { return }
        let fspace = H5Handle(dataspace: H5Dget_space(id))
        var cnt = [hsize_t(max(count, 1))] + sampleShape.map { hsize_t($0) }
        let mspace = H5Handle(dataspace: H5Screate_simple(Int32(cnt.count), &cnt, nil))
        selectRows(fspace.id, mspace.id, start: start, count: count, tail: sampleShape)
        let dxpl = transferList(collective: file.parallel && collectiveTransfers)
        guard H5Dread(id, element.nativeType, mspace.id, fspace.id, dxpl.id, buffer) >= 0 else {
            throw StorageError("\(file.path): dataset '\(name)': cannot read rows \(start)..<\(start + count)")
        }
    }

    /// The whole dataset as float64.
    func readAllAsDouble() throws -> [Double] {
        let n = rows * columns
        try file.checkFitsInMemory(name, elements: n, bytesPerElement: 8, shape: "\(rows) x \(columns)")
        switch element {
        case .float64:
            var out = [Double](repeating: 0, count: n)
            try out.withUnsafeMutableBytes { try read(rows: 0, count: rows, into: $0.baseAddress!) }
            return out
        default:
            var tmp = [Float](repeating: 0, count: n)
            try tmp.withUnsafeMutableBytes { try read(rows: 0, count: rows, into: $0.baseAddress!) }
            return tmp.map { Double($0) }
        }
    }
}
