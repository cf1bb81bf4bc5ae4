import CHDF5
import Distributed
import Foundation

/// An HDF5 file being written: by all ranks of a communicator through MPI-IO (collective
/// metadata), or by one process alone (`communicator: nil`, for generated data and tests).
/// Row writes to a contiguous dataset are independent MPI-IO transfers: each rank writes its own
/// rows with no exchange between ranks, so a rank whose main thread shares its core with compute
/// threads does not hold the others up (docs/scaling.md). Filtered (compressed) datasets are
/// written collectively, as parallel HDF5 requires; memory type always equals file type, so those
/// transfers never fall back to independent I/O.
public final class H5WriteFile {
    public let path: String
    let id: hid_t
    private let parallel: Bool
    private var datasets: [String: (id: hid_t, element: ElementType, columns: Int)] = [:]  // columns: elements per row
    /// Dimensions after the first of datasets of rank > 2 (rows are written as whole hyperslabs).
    private var rowShapes: [String: [Int]] = [:]
    /// Names of `datasets` in the order they were opened or created: the order they close in.
    private var creationOrder: [String] = []
    /// Datasets with filters (compressed): parallel HDF5 writes those only collectively.
    private var filtered: Set<String> = []
    private var closed = false
    /// Parallel row writes done as independent MPI-IO (those to contiguous datasets).
    public private(set) var independentWrites = 0
    /// Collective writes that HDF5 did not do as collective MPI-IO (e.g. after a type
    /// conversion); it stays 0 when memory and file types agree.
    public private(set) var collectiveFallbacks = 0

    /// Creates (truncates) the file. Collective when `communicator` is given.
    /// `locking` false: a serial file is not locked while open, so that other processes can read
    /// its progress (as they can an MPI-IO file, which HDF5 never locks).
    public init(creating path: String, communicator: Communicator?, locking: Bool = true) throws {
        self.path = path
        let fapl = H5Handle(propertyList: H5Pcreate(neon_h5p_file_access()))
        if let comm = communicator {
            neon_h5_set_fapl_mpio(fapl.id, comm.handle)
        }
        if !locking { H5Pset_file_locking(fapl.id, false, true) }
        parallel = communicator != nil
        let fid = H5Fcreate(path, neon_h5f_acc_trunc(), neon_h5p_default(), fapl.id)
        guard fid >= 0 else {
            let dir = (path as NSString).deletingLastPathComponent
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
                throw StorageError("\(path): cannot create output file: directory \(dir) does not exist")
            }
            if !FileManager.default.isWritableFile(atPath: dir) {
                throw StorageError("\(path): cannot create output file: directory \(dir) is not writable")
            }
            throw StorageError("\(path): cannot create output file")
        }
        id = fid
    }

    /// Opens an existing file for writing (collective when `communicator` is given).
    public init(opening path: String, communicator: Communicator?, locking: Bool = true) throws {
        self.path = path
        let fapl = H5Handle(propertyList: H5Pcreate(neon_h5p_file_access()))
        if let comm = communicator { neon_h5_set_fapl_mpio(fapl.id, comm.handle) }
        if !locking { H5Pset_file_locking(fapl.id, false, true) }
        parallel = communicator != nil
        let fid = H5Fopen(path, neon_h5f_acc_rdwr(), fapl.id)
        guard fid >= 0 else { throw StorageError("\(path): cannot open the output file for writing") }
        id = fid
    }

    /// Makes an existing dataset writable with `write(_:rows:count:from:)`.
    public func openDataset(_ name: String, element: ElementType) throws {
        let ds = H5Dopen2(id, name, neon_h5p_default())
        guard ds >= 0 else { throw StorageError("\(path): no dataset '\(name)'") }
        let space = H5Handle(dataspace: H5Dget_space(ds))
        var dims = [hsize_t](repeating: 0, count: 8)
        let rank = H5Sget_simple_extent_ndims(space.id)
        H5Sget_simple_extent_dims(space.id, &dims, nil)
        add(name, (ds, element, rank > 1 ? dims[1..<Int(rank)].reduce(1) { $0 * Int($1) } : 0))
        if rank > 2 { rowShapes[name] = dims[1..<Int(rank)].map { Int($0) } }
    }

    /// Records an open dataset; `close()` closes them in this order.
    private func add(_ name: String, _ dataset: (id: hid_t, element: ElementType, columns: Int)) {
        if let old = datasets[name] { H5Dclose(old.id); creationOrder.removeAll { $0 == name } }
        datasets[name] = dataset
        creationOrder.append(name)
        let dcpl = H5Handle(propertyList: H5Dget_create_plist(dataset.id))
        if dcpl.isValid, H5Pget_nfilters(dcpl.id) > 0 { filtered.insert(name) } else { filtered.remove(name) }
    }

    deinit { try? close() }     // then linkCreationList closes

    /// Link creation: datasets may be named "group/name" (groups are created as needed).
    private let linkCreationList: H5Handle = {
        let lcpl = H5Handle(propertyList: H5Pcreate(neon_h5p_link_create()))
        H5Pset_create_intermediate_group(lcpl.id, 1)
        return lcpl
    }()
    var linkCreation: hid_t { linkCreationList.id }

    /// Creates a dataset of `rows` x `columns` (columns == 0: 1-D of length rows).
    /// Storage is allocated without writing fill values (every element is written later).
    public func createDataset(_ name: String, element: ElementType, rows: Int, columns: Int) throws {
        try createDataset(name, element: element, dims: columns > 0 ? [rows, columns] : [rows])
        datasets[name]?.columns = columns
    }

    /// Creates a dataset of any shape (rows are along the first dimension).
    /// `compression` 1-9: chunks of whole rows (about 1 MiB each), byte shuffle and deflate at
    /// that level (parallel HDF5 writes filtered chunks collectively); 0: contiguous.
    public func createDataset(_ name: String, element: ElementType, dims shape: [Int], compression: Int = 0) throws {
        var dims = shape.map { hsize_t($0) }
        let space = H5Handle(dataspace: H5Screate_simple(Int32(dims.count), &dims, nil))
        let dcpl = H5Handle(propertyList: H5Pcreate(neon_h5p_dataset_create()))
        H5Pset_fill_time(dcpl.id, H5D_FILL_TIME_NEVER)
        if compression > 0, let rows = shape.first, rows > 0 {
            let rowBytes = max(1, shape.dropFirst().reduce(1, *) * element.byteCount)
            var chunk = [hsize_t(max(1, min(rows, (1 << 20) / rowBytes)))] + shape.dropFirst().map { hsize_t(max($0, 1)) }
            H5Pset_chunk(dcpl.id, Int32(chunk.count), &chunk)
            H5Pset_shuffle(dcpl.id)
            H5Pset_deflate(dcpl.id, UInt32(compression))
        }
        let ds = H5Dcreate2(id, name, element.nativeType, space.id, linkCreation, dcpl.id, neon_h5p_default())
        guard ds >= 0 else { throw WriteFailure.error(path: path, "cannot create dataset '\(name)'") }
        add(name, (ds, element, shape.dropFirst().reduce(1, *)))
        if shape.count > 2 { rowShapes[name] = Array(shape.dropFirst()) }
    }

    /// Writes a whole dataset of any shape from one process (serial files; generated data, tests).
    public func write<T>(_ name: String, element: ElementType, dims: [Int], values: [T]) throws {
        precondition(MemoryLayout<T>.size == element.byteCount && values.count == dims.reduce(1, *))
        try createDataset(name, element: element, dims: dims)
        guard let ds = datasets[name] else { return }
        let status = values.withUnsafeBytes {
            H5Dwrite(ds.id, element.nativeType, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), $0.baseAddress)
        }
        guard status >= 0 else { throw WriteFailure.error(path: path, "cannot write dataset '\(name)'") }
    }

    /// Writes a 1-D dataset of UTF-8 strings: variable-length (serial files only: parallel HDF5
    /// cannot write variable-length data), or fixed-length, null-padded to the longest (any file).
    public func writeStrings(_ name: String, _ values: [String], fixedLength: Bool = false) throws {
        var dims = [hsize_t(values.count)]
        let space = H5Handle(dataspace: H5Screate_simple(1, &dims, nil))
        let type = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
        let width = max(1, values.map(\.utf8.count).max() ?? 1)
        if fixedLength {
            H5Tset_size(type.id, width)
            H5Tset_strpad(type.id, H5T_STR_NULLPAD)
        } else {
            H5Tset_size(type.id, Int(bitPattern: UInt(bitPattern: -1)))
        }
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        let ds = H5Handle(dataset: H5Dcreate2(id, name, type.id, space.id, linkCreation, neon_h5p_default(), neon_h5p_default()))
        guard ds.isValid else { throw WriteFailure.error(path: path, "cannot create dataset '\(name)'") }
        let status: herr_t
        if fixedLength {
            var bytes = [UInt8](repeating: 0, count: values.count * width)
            for (i, v) in values.enumerated() { bytes.replaceSubrange((i * width)..<(i * width + v.utf8.count), with: Array(v.utf8)) }
            status = H5Dwrite(ds.id, type.id, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), bytes)
        } else {
            let cstrings = values.map { strdup($0) }
            defer { cstrings.forEach { free($0) } }
            var ptrs = cstrings.map { UnsafePointer<CChar>($0) }
            status = H5Dwrite(ds.id, type.id, neon_h5s_all(), neon_h5s_all(), neon_h5p_default(), &ptrs)
        }
        guard status >= 0 else { throw WriteFailure.error(path: path, "cannot write dataset '\(name)'") }
    }

    /// Writes rows [start, start + count) of a dataset from `buffer`. In a parallel file every
    /// rank calls it for the same dataset (a rank with no rows passes count 0): the transfer is
    /// collective for a filtered dataset, independent otherwise (`collectiveTransfers`).
    public func write(_ name: String, rows start: Int, count: Int, from buffer: UnsafeRawPointer?) throws {
        guard let ds = datasets[name] else { throw StorageError("\(path): no dataset '\(name)' to write") }
        let width = max(ds.columns, 1)
        let fspace = H5Handle(dataspace: H5Dget_space(ds.id))
        var mdims: [hsize_t] = ds.columns > 0 ? [hsize_t(max(count, 1)), hsize_t(width)] : [hsize_t(max(count, 1))]
        let mspace = H5Handle(dataspace: H5Screate_simple(Int32(mdims.count), &mdims, nil))
        selectRows(fspace.id, mspace.id, start: start, count: count, tail: rowShapes[name] ?? (ds.columns > 0 ? [width] : []))
        let collective = parallel && (filtered.contains(name) || collectiveTransfers)
        let dxpl = transferList(collective: collective)
        var dummy: UInt64 = 0
        let status = withUnsafeMutablePointer(to: &dummy) { dp in
            H5Dwrite(ds.id, ds.element.nativeType, mspace.id, fspace.id, dxpl.id, buffer ?? UnsafeRawPointer(dp))
        }
        guard status >= 0 else {
            throw WriteFailure.error(path: path, "cannot write rows \(start)..<\(start + count) of dataset '\(name)'")
        }
        if collective {
            var mode = H5D_MPIO_NO_COLLECTIVE
            if H5Pget_mpio_actual_io_mode(dxpl.id, &mode) >= 0, mode == H5D_MPIO_NO_COLLECTIVE { collectiveFallbacks += 1 }
        } else if parallel {
            independentWrites += 1
        }
    }

    /// Writes a whole dataset from one process (serial files only).
    public func write<T>(_ name: String, element: ElementType, rows: Int, columns: Int, values: [T]) throws {
        precondition(MemoryLayout<T>.size == element.byteCount && values.count == rows * max(columns, 1))
        try createDataset(name, element: element, rows: rows, columns: columns)
        try values.withUnsafeBytes { try write(name, rows: 0, count: rows, from: $0.baseAddress) }
    }

    /// Sets (replaces) a UTF-8 string attribute of the root group. Collective in a parallel file:
    /// every rank passes the same value.
    public func setAttribute(_ name: String, _ value: String) throws {
        let type = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
        H5Tset_size(type.id, Int(bitPattern: UInt(bitPattern: -1)))     // H5T_VARIABLE
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        let tid = type.id
        try value.withCString { cs in
            var p: UnsafePointer<CChar>? = cs
            try writeAttribute(name, type: tid) { H5Awrite($0, tid, &p) }
        }
    }

    /// Sets a 1-D UTF-8 string-array attribute of an object ("/": the root group), e.g. an
    /// input's `feature_names` (serial files).
    public func setAttribute(_ name: String, strings values: [String], on object: String = "/") throws {
        let type = H5Handle(datatype: H5Tcopy(neon_h5t_c_s1()))
        H5Tset_size(type.id, Int(bitPattern: UInt(bitPattern: -1)))
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        var dims = [hsize_t(values.count)]
        let space = H5Handle(dataspace: H5Screate_simple(1, &dims, nil))
        if H5Aexists_by_name(id, object, name, neon_h5p_default()) > 0 {
            H5Adelete_by_name(id, object, name, neon_h5p_default())
        }
        let attr = H5Handle(attribute: H5Acreate_by_name(id, object, name, type.id, space.id, neon_h5p_default(), neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw StorageError("\(path): cannot write attribute '\(name)' of '\(object)'") }
        let cstrings = values.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        var ptrs = cstrings.map { UnsafePointer<CChar>($0) }
        guard H5Awrite(attr.id, type.id, &ptrs) >= 0 else { throw StorageError("\(path): cannot write attribute '\(name)' of '\(object)'") }
    }

    public func setAttribute(_ name: String, _ value: Double) throws {
        var v = value
        try writeAttribute(name, type: neon_h5t_native_double()) { H5Awrite($0, neon_h5t_native_double(), &v) }
    }

    public func setAttribute(_ name: String, _ value: Int) throws {
        var v = Int64(value)
        try writeAttribute(name, type: neon_h5t_native_int64()) { H5Awrite($0, neon_h5t_native_int64(), &v) }
    }

    private func writeAttribute(_ name: String, type: hid_t, _ write: (hid_t) -> herr_t) throws {
        if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
        let space = H5Handle(dataspace: H5Screate(H5S_SCALAR))
        let attr = H5Handle(attribute: H5Acreate2(id, name, type, space.id, neon_h5p_default(), neon_h5p_default()))
        guard attr.isValid else { throw WriteFailure.error(path: path, "cannot write attribute '\(name)'") }
        guard write(attr.id) >= 0 else { throw WriteFailure.error(path: path, "cannot write attribute '\(name)'") }
    }

    /// Writes everything buffered to the file (collective in a parallel file).
    public func flush() throws {
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw WriteFailure.error(path: path, "cannot flush output file") }
    }

    /// Closes the datasets in creation order, then the file (collective in a parallel file:
    /// every rank closes the same datasets in the same order).
    public func close() throws {
        guard !closed else { return }
        closed = true
        for name in creationOrder { if let ds = datasets[name] { H5Dclose(ds.id) } }
        datasets = [:]
        creationOrder = []
        guard H5Fclose(id) >= 0 else { throw WriteFailure.error(path: path, "cannot close output file") }
    }
}
